// What the sender holds claimed and not started yet is looked at again
// before it starts: a contact opted out by hand meanwhile gets nothing
// (sender_outbox.c's look at the opt-outs, inbox_store_outbox_recheck,
// which the opt-out's wake-up brings), and a change of the quiet hours
// that puts its recipient in them keeps it until they end (the settings
// route's wake-up says so, and the sender gives back what it holds of
// campaigns).  So do inboxctl's settings set and an import (the API's
// or inboxctl's) that gives a contact a zone; and a move of another
// organization's quiet hours leaves what the sender holds of this one's
// alone (its wake-up names its organization).
//
// A claim takes only what can start at once, so the sender holds a
// campaign message only for a moment (a message waiting for the bulk
// window is not claimed: sender-bulk-window.test.mjs shows the claim's
// own look).  The moment used here is campaign-pause-held.test.mjs's: a
// campaign message claimed in the turn of a wake-up (a resume's) waits
// for the campaigns job's look and starts at the next turn.  The sender
// is stopped at the end of that turn by tests/shim/poll_stops.c
// (preloaded), the move under test is answered meanwhile, and the
// sender goes on: the move's wake-up is what its next wait brings
// (../lib/sender-held.mjs; sender-quiet-lost.test.mjs: that wake-up
// lost, the sender's own look finds the move).

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { inboxctl, numberBlock } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { eventually, importContactsCsv, quietHoursAway }
    from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';
import { LONG, senderHolding } from '../lib/sender-held.mjs';
import { senderStops } from '../lib/sender-stops.mjs';

// a token a second
const TURN_MS = 1000;
const stops = senderStops();

const ctx = useCluster({
    orgs: [{ name: 'In Hand Org' }, { name: 'Other Hand Org' }],
    carrierSim: true, sender: true,
    senderArgs: ['--rate', String(1000 / TURN_MS), '--burst', '4'],
    senderWrap: stops.wrap,
});
let org;
let other;
let billing;
let otherBilling;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    other = cluster.orgs[1];
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '1000');
    await inboxctl(cluster.store, 'settings', 'set', org.id, '--timezone',
                   'UTC', '--quiet-hours', quietHoursAway());
    await addUser(cluster, org, 'bill@inhand.test', 'in hand secret 1',
                  'billing');
    billing = (await login(cluster, 'bill@inhand.test',
                           'in hand secret 1')).cookie;
    await addUser(cluster, other, 'bill@otherhand.test', 'other hand secret',
                  'billing');
    otherBilling = (await login(cluster, 'bill@otherhand.test',
                                'other hand secret')).cookie;
});

const numbers = numberBlock('1658');

const { ok, campaignTo, frozenHolding, threadOf, sendsOf, withSenderLog,
        senderPid } = senderHolding(ctx, stops, { org: () => org,
                                                  turnMs: TURN_MS,
                                                  tag: 'inhand' });

test('a contact opted out by hand while the sender holds her campaign '
     + 'message gets nothing: withdrawn before it starts, failed as opted '
     + 'out, her recipient counted suppressed; every other one gets it '
     + 'once', { timeout: 90000 }, withSenderLog(async () => {
    const phones = numbers(6);
    const c = await campaignTo(phones, `Withdrawn${LONG}`);

    const { message, seen } = await frozenHolding(c, 'Withdrawn');
    const { conv } = await threadOf(message, phones);
    try {
        await ok(`/api/v1/conversations/${conv.id}/opt-out`,
                 { method: 'POST' });
    } finally {
        process.kill(senderPid(), 'SIGCONT');
    }

    const after = await eventually(async () => {
        const log = ctx.cluster.senderLog().slice(seen);
        return log.includes(`message ${message} withdrawn`)
            || log.includes(`sending message ${message} `) ? log : null;
    }, 10000, 'the held message withdrawn or sent');
    assert.ok(!after.includes(`sending message ${message} `),
              'the held message started after its contact opted out');
    assert.match(after, new RegExp(`message ${message} withdrawn: its `
                                   + 'contact opted out while it waited'));

    const end = await eventually(async () => {
        const now = await ok(`/api/v1/campaigns/${c.id}`);
        return now.status === 'done' && now.counts.queued === 0
            && now.counts.sent === 0 ? now : null;
    }, 40000, 'the campaign done, each message at its end');
    assert.equal(end.counts.suppressed, 1);
    assert.equal(end.counts.delivered, phones.length - 1);
    assert.equal(end.counts.failed, 0);

    const { message: m } = await threadOf(message, phones);
    assert.equal(m.status, 'failed');
    assert.equal(m.error_code, 'contact_opted_out');
    assert.deepEqual((await sendsOf('Withdrawn')).sort(),
                     phones.filter((p) => p !== conv.contact.phone).sort(),
                     'each recipient but the one opted out, once');
}));

// Quiet hours (UTC) from an hour ago to two hours on: now is in them.
function quietHoursNow() {
    const h = new Date().getUTCHours();
    const at = (n) => `${String((n + 24) % 24).padStart(2, '0')}:00`;
    return { start: at(h - 1), end: at(h + 2) };
}

async function setQuietHours(quiet) {
    const res = await sessionApi(ctx.cluster, '/api/v1/settings', billing,
                                 { method: 'PATCH',
                                   body: { quiet_hours: quiet } });
    assert.equal(res.status, 200, res.text);
}

// The PATCH's wake-up says quiet hours moved: the sender gives back the
// message it held, and the claim holds it for them.
test('quiet hours changed to cover now while the sender holds a campaign '
     + 'message: it is not sent, its recipient waits for quiet hours, and '
     + 'goes once they end', { timeout: 90000 }, withSenderLog(async () => {
    const phones = numbers(6);
    const c = await campaignTo(phones, `Quiet${LONG}`);

    const { message, seen } = await frozenHolding(c, 'Quiet');
    const { conv } = await threadOf(message, phones);
    try {
        await setQuietHours(quietHoursNow());
    } finally {
        process.kill(senderPid(), 'SIGCONT');
    }

    try {
        // the rest waits for quiet hours: nothing of it in the outbox
        const waiting = await eventually(async () => {
            const now = await ok(`/api/v1/campaigns/${c.id}`);
            return now.counts.queued === 0 && now.counts.sent === 0
                && now.counts.waiting_quiet_hours > 0 ? now : null;
        }, 20000, 'the campaign waiting for quiet hours');
        assert.ok(!(await sendsOf('Quiet')).includes(conv.contact.phone),
                  'the held message was sent inside quiet hours');
        assert.ok(!ctx.cluster.senderLog().slice(seen)
                      .includes(`sending message ${message} `),
                  'the held message started inside quiet hours');
        const { message: m } = await threadOf(message, phones);
        assert.equal(m.status, 'queued');
        assert.ok(waiting.counts.waiting_quiet_hours >= 1);
    } finally {
        // the window opens
        await setQuietHours(Object.fromEntries(
            quietHoursAway().split('-').map((x, i) =>
                [i === 0 ? 'start' : 'end', x])));
    }

    const end = await eventually(async () => {
        const now = await ok(`/api/v1/campaigns/${c.id}`);
        return now.status === 'done' && now.counts.queued === 0
            && now.counts.sent === 0
            && now.counts.waiting_quiet_hours === 0 ? now : null;
    }, 40000, 'the campaign done once quiet hours ended');
    assert.equal(end.counts.delivered, phones.length);
    assert.deepEqual((await sendsOf('Quiet')).sort(), [...phones].sort(),
                     'each recipient once');
}));

// A move of quiet hours made while the sender holds a campaign message,
// by move(message's thread's contact phone); undo opens the window
// again.  The held message is not sent inside them: given back, held by
// the claim, sent once undo ran.
function heldThroughMove(prefix, move, undo) {
    return withSenderLog(async () => {
        const phones = numbers(6);
        const c = await campaignTo(phones, `${prefix}${LONG}`);

        const { message, seen } = await frozenHolding(c, prefix);
        const { conv } = await threadOf(message, phones);
        try {
            await move(conv.contact.phone);
        } finally {
            process.kill(senderPid(), 'SIGCONT');
        }

        try {
            await eventually(async () => {
                const now = await ok(`/api/v1/campaigns/${c.id}`);
                return now.counts.queued === 0 && now.counts.sent === 0
                    && now.counts.waiting_quiet_hours > 0 ? now : null;
            }, 20000, 'the campaign waiting for quiet hours');
            assert.ok(!(await sendsOf(prefix)).includes(conv.contact.phone),
                      'the held message was sent inside quiet hours');
            assert.ok(!ctx.cluster.senderLog().slice(seen)
                          .includes(`sending message ${message} `),
                      'the held message started inside quiet hours');
            const { message: m } = await threadOf(message, phones);
            assert.equal(m.status, 'queued');
        } finally {
            await undo(conv.contact.phone);
        }

        await eventually(async () => {
            const now = await ok(`/api/v1/campaigns/${c.id}`);
            return now.status === 'done' && now.counts.queued === 0
                && now.counts.sent === 0
                && now.counts.waiting_quiet_hours === 0 ? now : null;
        }, 40000, 'the campaign done once quiet hours ended');
        assert.deepEqual((await sendsOf(prefix)).sort(), [...phones].sort(),
                         'each recipient once');
    });
}

const ctlWake = () => ['--sender-socket', ctx.cluster.senderSocket];

const quietNowText = () => {
    const q = quietHoursNow();
    return `${q.start}-${q.end}`;
};

test('inboxctl settings set moving quiet hours over now while the sender '
     + 'holds a campaign message: it is not sent until they end',
     { timeout: 90000 }, heldThroughMove('Ctlquiet',
    async () => {
        await inboxctl(ctx.cluster.store, ...ctlWake(), 'settings', 'set',
                       org.id, '--quiet-hours', quietNowText());
    },
    async () => {
        await inboxctl(ctx.cluster.store, ...ctlWake(), 'settings', 'set',
                       org.id, '--quiet-hours', quietHoursAway());
    }));

// UTC+6: now is inside quietHoursAway()'s hour (6 hours on, UTC)
const ZONE_QUIET_NOW = 'Etc/GMT-6';

test('an import through the API giving the held message\'s contact a zone '
     + 'whose quiet hours cover now: it is not sent until they end',
     { timeout: 90000 }, heldThroughMove('Importzone',
    async (phone) => {
        await importContactsCsv(ctx.cluster, org.token,
                                `phone,timezone\n${phone},${ZONE_QUIET_NOW}\n`);
    },
    async (phone) => {
        await importContactsCsv(ctx.cluster, org.token,
                                `phone,timezone\n${phone},UTC\n`);
    }));

test('inboxctl contacts import giving the held message\'s contact such a '
     + 'zone: it is not sent until they end', { timeout: 90000 },
     heldThroughMove('Ctlzone',
    async (phone) => {
        const file = join(ctx.cluster.dir, 'zone.csv');
        writeFileSync(file, `phone,timezone\n${phone},${ZONE_QUIET_NOW}\n`);
        await inboxctl(ctx.cluster.store, ...ctlWake(), 'contacts', 'import',
                       org.id, file);
    },
    async (phone) => {
        await importContactsCsv(ctx.cluster, org.token,
                                `phone,timezone\n${phone},UTC\n`);
    }));

// Another organization's quiet hours moved: what the sender holds of this
// one's campaign is not given back, and goes at its next turn.
test('another organization\'s quiet hours moved while the sender holds a '
     + 'campaign message: it is not given back, it goes at once',
     { timeout: 90000 }, withSenderLog(async () => {
    const phones = numbers(6);
    const c = await campaignTo(phones, `Otherorg${LONG}`);

    const { message, seen } = await frozenHolding(c, 'Otherorg');
    try {
        const res = await sessionApi(ctx.cluster, '/api/v1/settings',
            otherBilling,
            { method: 'PATCH', body: { quiet_hours: quietHoursNow() } });
        assert.equal(res.status, 200, res.text);
    } finally {
        process.kill(senderPid(), 'SIGCONT');
    }

    const after = await eventually(async () => {
        const log = ctx.cluster.senderLog().slice(seen);
        return log.includes(`sending message ${message} `) ? log : null;
    }, 10000, 'the held message sent');
    assert.doesNotMatch(after, /given back unsent \(quiet hours changed\)/,
                        'this organization\'s held messages given back');

    await eventually(async () => {
        const now = await ok(`/api/v1/campaigns/${c.id}`);
        return now.status === 'done' && now.counts.queued === 0
            && now.counts.sent === 0 ? now : null;
    }, 40000, 'the campaign done');
}));

errorLogIsCleanTest(ctx);
