// The carriers' own block list: a contact that texted STOP to a number is
// refused on later sends from that number (Twilio 21610, Telnyx 40300)
// until it texts START.  Kept in the state directory when there is one,
// as a carrier remembers it.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Whole message, trimmed and case-folded, as the carriers compare it.
const STOP = new Set(['stop', 'stopall', 'unsubscribe', 'cancel', 'end',
                      'quit', 'revoke', 'optout', 'stop all', 'opt out']);
const START = new Set(['start', 'unstop', 'yes']);
const HELP = new Set(['help', 'info']);

export function keywordOf(body) {
    const word = String(body ?? '').trim().toLowerCase();
    if (STOP.has(word)) {
        return 'stop';
    }
    if (START.has(word)) {
        return 'start';
    }
    return HELP.has(word) ? 'help' : null;
}

export class OptOuts {
    constructor(stateDir) {
        this.file = stateDir ? join(stateDir, 'optouts.json') : null;
        this.blocked = new Map();
        if (this.file && existsSync(this.file)) {
            for (const e of JSON.parse(readFileSync(this.file, 'utf8'))) {
                this.blocked.set(`${e.number}|${e.contact}`, e);
            }
        }
    }

    save() {
        if (this.file) {
            writeFileSync(this.file, JSON.stringify(this.list(), null, 1));
        }
    }

    isBlocked(number, contact) {
        return this.blocked.has(`${number}|${contact}`);
    }

    // Applies a contact's message to `number`; returns the keyword it was.
    note(number, contact, body) {
        const kw = keywordOf(body);
        const key = `${number}|${contact}`;
        if (kw === 'stop' && !this.blocked.has(key)) {
            this.blocked.set(key, { number, contact,
                                    at: new Date().toISOString() });
            this.save();
        } else if (kw === 'start' && this.blocked.delete(key)) {
            this.save();
        }
        return kw;
    }

    clear() {
        this.blocked.clear();
        this.save();
    }

    list() {
        return [...this.blocked.values()];
    }
}
