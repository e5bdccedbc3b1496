// Campaign messages that wait for the sender's bulk window (sender_window.h:
// how many campaign requests may be in flight at once, 1 at first): a
// reply written meanwhile reaches the carrier before them, a recipient
// who opts out meanwhile gets nothing (suppressed), and once the window
// opens every other recipient gets the campaign once.
//
// The carrier holds the campaign's first request unanswered until the
// test releases it (the simulator's failure hold), so the window, which
// moves only with answers, stays full of it for as long as the test
// likes: the campaign's other messages wait (unclaimed, in the outbox:
// a claim takes only what the window lets start), whatever the
// machine's speed.  The number's rate is high enough that only the
// window keeps them.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, numberBlock, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually, importTagged, quietHoursAway }
    from '../lib/inbox.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Window Org' }], carrierSim: true, sender: true,
    senderArgs: ['--rate', '50', '--burst', '50'],
});
let org;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100');
    await inboxctl(cluster.store, 'settings', 'set', org.id, '--timezone',
                   'UTC', '--quiet-hours', quietHoursAway());
});

const numbers = numberBlock('1661');

const CAMPAIGN = 'Window sale: everything half price!';
const REPLY = 'Yes, we open at nine on Sunday.';

async function ok(path, options = {}, status = 200) {
    const res = await api(ctx.cluster, path, org.token, options);
    assert.equal(res.status, status, res.text);
    return res.json;
}

// Runs fn while the carrier holds the next send unanswered, then lets it
// go (after a failure too: the teardown waits for no held request);
// resolves with what fn did.
async function whileHeld(fn) {
    await ctx.cluster.sim.fail({ type: 'hold', count: 1 });
    let done = false;
    try {
        const result = await fn();
        done = true;
        return result;
    } finally {
        const { released } = await ctx.cluster.sim.release();
        assert.ok(!done || released === 1, 'one send held');
    }
}

// The carrier's sends so far, in the order they reached it: { to, body }.
async function sends() {
    return (await ctx.cluster.sim.requests({ kind: 'send' })).map((r) => {
        const form = Object.fromEntries(r.form ?? []);
        return { to: form.To, body: form.Body };
    });
}

test('campaign messages waiting for the bulk window: a reply written '
     + 'meanwhile reaches the carrier before them, a recipient who opts '
     + 'out meanwhile gets nothing, every other recipient gets it once',
     { timeout: 60000 }, async () => {
    const cluster = ctx.cluster;
    const phones = numbers(6);

    const { made, first, stopper, asker } = await whileHeld(async () => {
        await importTagged(cluster, org.token, phones, 'window');
        const c = await ok('/api/v1/campaigns', { method: 'POST',
            body: { name: 'Window', body: CAMPAIGN,
                    audience: { tags: ['window'] } } }, 201);
        await ok(`/api/v1/campaigns/${c.id}/send`, { method: 'POST' });

        // its first request, held at the carrier: the window is full
        const [held] = await eventually(async () => {
            const s = await sends();
            return s.length > 0 ? s : null;
        }, 10000, 'the first campaign message at the carrier');
        assert.equal(held.body, CAMPAIGN);

        // a recipient whose message waits opts out
        const stop = phones.find((p) => p !== held.to);
        await deliverInbound(cluster, { from: stop, body: 'STOP' });

        // a person answers another contact
        const from = uniqueNumber();
        await deliverInbound(cluster, { from,
                                        body: 'Are you open on Sunday?' });
        const list = await ok('/api/v1/conversations?limit=200');
        const conv = list.items.find((x) => x.contact.phone === from);
        await ok(`/api/v1/conversations/${conv.id}/messages`,
                 { method: 'POST', body: { body: REPLY } }, 201);
        await eventually(async () => (await sends()).some(
            (s) => s.to === from), 10000, 'the reply at the carrier');

        assert.deepEqual((await sends()).filter((s) => s.body === CAMPAIGN),
                         [held], 'only the held campaign message went');
        return { made: c, first: held, stopper: stop, asker: from };
    });

    // the held request answered, the window opens
    const end = await eventually(async () => {
        const c = await ok(`/api/v1/campaigns/${made.id}`);
        return c.status === 'done' && c.counts.queued === 0
            && c.counts.sent === 0 ? c : null;
    }, 30000, 'the campaign done, each message at its end');
    assert.equal(end.counts.delivered, phones.length - 1);
    assert.equal(end.counts.suppressed, 1);
    assert.equal(end.counts.failed, 0);

    const all = await sends();
    const reply = all.findIndex((s) => s.to === asker);
    assert.equal(all[reply].body, REPLY);
    assert.deepEqual(all.slice(0, reply).filter((s) => s.body === CAMPAIGN),
                     [first], 'the reply reached the carrier before every '
                     + 'campaign message but the one it held');
    assert.deepEqual(all.filter((s) => s.body === CAMPAIGN)
                        .map((s) => s.to).sort(),
                     phones.filter((p) => p !== stopper).sort(),
                     'each recipient but the one who opted out, once');
});

errorLogIsCleanTest(ctx);
