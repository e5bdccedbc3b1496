// The simulator's state: configuration, the carriers' block list and
// signing key, the failures asked for, and everything that happened (API
// requests, messages, webhooks), pushed live to the phone page.

import { randomBytes, randomUUID } from 'node:crypto';
import { applyConfig, defaultConfig } from './config.mjs';
import { Failures } from './failures.mjs';
import { Lanes } from './lanes.mjs';
import { OptOuts } from './optouts.mjs';
import { TelnyxSigner } from './telnyx-signature.mjs';

export const hex32 = () => randomBytes(16).toString('hex');

export class Simulator {
    constructor({ stateDir = null, config = {} } = {}) {
        this.config = applyConfig(defaultConfig(), config);
        this.stateDir = stateDir;
        this.signer = new TelnyxSigner(stateDir);
        this.optouts = new OptOuts(stateDir);
        this.failures = new Failures();
        this.timers = new Set();
        this.held = new Set();          // API requests never answered
        this.releases = new Set();      // sends held until released
        this.lanes = new Lanes();       // the API's capacity (config api)
        this.streams = new Map();       // Server-Sent Events client -> its
                                        // filter (null: everything)
        this.closed = false;
        this.seq = 0;
        this.clearLogs();
    }

    clearLogs() {
        this.requests = [];             // every API call, in order
        this.messages = new Map();      // id -> message, in order
        this.webhooks = [];             // every webhook and its attempts
        this.media = new Map();         // key -> { bytes, contentType }
    }

    // For what must never happen: said, and the simulator goes on.
    oops = (err) => {
        process.stderr.write(`carrier-sim: ${err.stack || err}\n`);
    };

    nextSeq() {
        this.seq += 1;
        return this.seq;
    }

    // Resolves after ms; never, once reset or closed in between.
    sleep(ms) {
        return new Promise((resolve) => {
            const t = setTimeout(() => {
                this.timers.delete(t);
                resolve();
            }, ms);
            this.timers.add(t);
        });
    }

    // A random wait within one of config.delays, scaled.
    delay(name) {
        const [min, max] = this.config.delays[name];
        return Math.round((min + Math.random() * (max - min))
                          * this.config.delayScale);
    }

    numberOf(e164) {
        return this.config.numbers.find((n) => n.number === e164) ?? null;
    }

    addMessage(msg) {
        msg.seq = this.nextSeq();
        this.messages.set(msg.id, msg);
        this.emit('message', msg);
        return msg;
    }

    // A status change: kept in the message's history and pushed.
    setStatus(msg, status, extra = {}) {
        msg.status = status;
        Object.assign(msg, extra);
        msg.updated_at = new Date().toISOString();
        msg.history.push({ status, at: msg.updated_at });
        this.emit('message', msg);
    }

    // Bytes the simulator serves (inbound media, the media it fetched).
    putMedia(bytes, contentType, key = randomUUID()) {
        this.media.set(key, { bytes, contentType });
        return key;
    }

    emit(type, data) {
        const frame = `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
        for (const [res, keep] of this.streams) {
            if (!keep || keep(type, data)) {
                res.write(frame);
            }
        }
    }

    // Resolves true once release() lets a send held (failure hold) go
    // on, false when a reset or the end comes first.
    heldUntilReleased() {
        return new Promise((resolve) => this.releases.add(resolve));
    }

    // Lets every send held so far go on; says how many.
    release() {
        const held = [...this.releases];
        this.releases.clear();
        held.forEach((resolve) => resolve(true));
        return held.length;
    }

    cancelPending() {
        for (const resolve of this.releases) {
            resolve(false);
        }
        this.releases.clear();
        for (const t of this.timers) {
            clearTimeout(t);
        }
        this.timers.clear();
        for (const res of this.held) {
            res.socket?.destroy();
        }
        this.held.clear();
    }

    // Forgets what happened, the failures asked for and the block list;
    // with everything, the configuration too.
    reset({ everything = false } = {}) {
        this.cancelPending();
        this.clearLogs();
        this.failures.clear();
        this.optouts.clear();
        if (everything) {
            this.config = defaultConfig();
        }
        this.emit('reset', {});
    }

    close() {
        this.closed = true;
        this.cancelPending();
        for (const res of this.streams.keys()) {
            res.end();
        }
        this.streams.clear();
    }
}
