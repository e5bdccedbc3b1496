// A quiet-hours wake-up ("q", wake.h) that never reaches the sender (its
// queue full, its socket gone: here inboxctl's --sender-socket names a
// path nothing listens on) loses nothing: the sender's own regular look
// at what it holds (sender_outbox.c, inbox_store_outbox_recheck, every
// 300 ms for what waits, quiet hours on the campaigns' clock) finds a
// campaign message it holds now inside its recipient's quiet hours and
// gives it back as the wake-up would have; the claim holds it until they
// end, and it goes then.  The organization's quiet hours moved over now,
// then a contact's zone moved so.
//
// The sender holds the message as sender-inhand.test.mjs has it held
// (../lib/sender-held.mjs): stopped at the end of the turn that claimed
// it, the move is made meanwhile, and the sender goes on, with no
// wake-up to read.  It runs on an injected clock (--clock-file, as
// campaign-clock.test.mjs): each test's instant lies 20 s before a
// minute the moved quiet hours end at, so that setting the clock to that
// minute ends them.

import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { inboxctl, numberBlock, sleep } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { eventually } from '../lib/inbox.mjs';
import { LONG, senderHolding } from '../lib/sender-held.mjs';
import { senderStops } from '../lib/sender-stops.mjs';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;

// a token a second
const TURN_MS = 1000;
const stops = senderStops();

// Two minutes the moved quiet hours end at, behind the real clock (the
// outbox sends on the real one), the second after the first.
const BASE = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * HOUR;
const ENDS = [BASE, BASE + 10 * MINUTE];
const BEFORE_END = 20 * 1000;

const clockDir = mkdtempSync(join(tmpdir(), 'inbox-clock-'));
const clockFile = join(clockDir, 'now');

// Whole or not at all: the sender never reads half a file.
function setClock(ms) {
    const tmp = `${clockFile}.tmp`;
    writeFileSync(tmp, `${new Date(ms).toISOString()}\n`);
    renameSync(tmp, clockFile);
}

// The campaigns job reads the clock every second: two looks.
const clockSettles = () => sleep(2500);

setClock(ENDS[0] - BEFORE_END);

const ctx = useCluster({
    orgs: [{ name: 'Lost Q Org' }], carrierSim: true, sender: true,
    senderArgs: ['--rate', String(1000 / TURN_MS), '--burst', '4',
                 '--clock-file', clockFile],
    senderWrap: stops.wrap,
});
let org;

after(() => rmSync(clockDir, { recursive: true, force: true }));

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '1000');
});

const numbers = numberBlock('1659');

const { ok, campaignTo, frozenHolding, threadOf, sendsOf, withSenderLog,
        senderPid } = senderHolding(ctx, stops, { org: () => org,
                                                  turnMs: TURN_MS,
                                                  tag: 'lostq' });

// HH:MM (UTC) of the instant ms.
const hhmm = (ms) => new Date(ms).toISOString().slice(11, 16);

// inboxctl telling a sender that is not there: the wake-up is lost.
const lostWake = () => ['--sender-socket',
                        join(ctx.cluster.dir, 'nobody-listens.sock')];

// While the sender holds a message of a campaign sent at end -
// BEFORE_END on its clock (the organization's quiet hours, UTC, 3 to 4
// hours after end: away), move(its contact's phone) puts it inside
// quiet hours that end at end, telling the sender nothing.  It is not
// sent, its recipient waits for quiet hours; the clock set to end, it
// goes, and every recipient gets the campaign once.
function keptThroughLostMove(prefix, end, move) {
    return withSenderLog(async () => {
        setClock(end - BEFORE_END);
        await inboxctl(ctx.cluster.store, 'settings', 'set', org.id,
                       '--timezone', 'UTC', '--quiet-hours',
                       `${hhmm(end + 3 * HOUR)}-${hhmm(end + 4 * HOUR)}`);
        await clockSettles();

        const phones = numbers(6);
        const c = await campaignTo(phones, `${prefix}${LONG}`,
            { send_at: new Date(end - BEFORE_END - MINUTE).toISOString() });

        const { message, seen } = await frozenHolding(c, prefix);
        const { conv } = await threadOf(message, phones);
        try {
            await move(conv.contact.phone);
            // what waits is looked at once it waited the look's 300 ms
            await sleep(500);
        } finally {
            process.kill(senderPid(), 'SIGCONT');
        }

        const waiting = await eventually(async () => {
            const now = await ok(`/api/v1/campaigns/${c.id}`);
            return now.counts.queued === 0 && now.counts.sent === 0
                && now.counts.waiting_quiet_hours > 0 ? now : null;
        }, 20000, 'the campaign waiting for quiet hours');
        assert.ok(waiting.counts.waiting_quiet_hours >= 1);
        const log = ctx.cluster.senderLog().slice(seen);
        assert.ok(!log.includes(`sending message ${message} `),
                  'the held message started inside quiet hours');
        assert.ok(!(await sendsOf(prefix)).includes(conv.contact.phone),
                  'the held message was sent inside quiet hours');
        assert.match(log, new RegExp('campaign messages given back unsent '
            + '\\(inside their recipients\' quiet hours now\\)'));
        assert.doesNotMatch(log, /given back unsent \(quiet hours changed\)/,
                            'a wake-up reached the sender');
        const { message: m } = await threadOf(message, phones);
        assert.equal(m.status, 'queued');

        // the window ends on the campaigns' clock: it goes
        const ended = ctx.cluster.senderLog().length;
        setClock(end);
        await eventually(async () => {
            const now = await ok(`/api/v1/campaigns/${c.id}`);
            return now.status === 'done' && now.counts.queued === 0
                && now.counts.sent === 0
                && now.counts.waiting_quiet_hours === 0 ? now : null;
        }, 60000, 'the campaign done once quiet hours ended');
        assert.match(ctx.cluster.senderLog().slice(ended),
                     new RegExp(`sending message ${message} `),
                     'the held message sent once they ended');
        assert.deepEqual((await sendsOf(prefix)).sort(), [...phones].sort(),
                         'each recipient once');
    });
}

test('the organization\'s quiet hours moved over now by inboxctl settings '
     + 'set, its wake-up lost, while the sender holds a campaign message: '
     + 'its own look keeps it from going inside them, and it goes when '
     + 'they end', { timeout: 120000 }, keptThroughLostMove('Lostorg',
    ENDS[0], async () => {
        await inboxctl(ctx.cluster.store, ...lostWake(), 'settings', 'set',
                       org.id, '--quiet-hours',
                       `${hhmm(ENDS[0] - HOUR)}-${hhmm(ENDS[0])}`);
    }));

// UTC+4: the organization's quiet hours (3 to 4 hours after the end,
// UTC) cover the clock there, and end at the end
const ZONE_QUIET = 'Etc/GMT-4';

test('the held message\'s contact given a zone whose quiet hours cover now '
     + 'by inboxctl contacts import, its wake-up lost: kept until they end',
     { timeout: 120000 }, keptThroughLostMove('Lostzone', ENDS[1],
    async (phone) => {
        const file = join(ctx.cluster.dir, 'lost-zone.csv');
        writeFileSync(file, `phone,timezone\n${phone},${ZONE_QUIET}\n`);
        await inboxctl(ctx.cluster.store, ...lostWake(), 'contacts',
                       'import', org.id, file);
    }));

errorLogIsCleanTest(ctx);
