// A number's own rate (here one send every 5 s) is the sender's to keep:
// a reply that waits for its number's next turn past its claim is given
// back and claimed again, not counted as a carrier's "slow down" with a
// retry's backoff (eight of those and it would fail unsent).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { inboxctl, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Rate Org' }], carrierSim: true, sender: true,
    senderArgs: ['--rate', '0.2', '--burst', '1', '--lease', '5000',
                 '--timeout', '2000'],
});
let org;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100');
});

test('replies waiting for their number\'s rate past their claim go in '
    + 'turn, with no carrier retry counted', { timeout: 60000 },
    async () => {
    const cluster = ctx.cluster;
    const from = uniqueNumber();
    await deliverInbound(cluster, { from, body: 'hi' });
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    for (const body of ['one', 'two', 'three']) {
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body } });
        assert.equal(res.status, 201, res.text);
    }

    // an entry waiting out a retry's backoff: its attempt counted, no
    // lease; looked for all along
    const retried = [];
    const look = async () => {
        const { stdout } = await promisify(execFile)(sqlite3Path, ['-cmd',
            '.timeout 5000', cluster.storePath, 'SELECT count(*) FROM outbox'
            + ' WHERE attempts > 0 AND lease_until IS NULL']);
        retried.push(Number(stdout.trim()));
    };

    // 5 s apart: the third about 10 s after the first
    const sent = await eventually(async () => {
        await look();
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages?limit=10`,
            org.token);
        const out = res.json.items.filter((m) => m.direction === 'outbound');
        return out.every((m) => m.status !== 'queued'
                                && m.status !== 'sending') ? out : null;
    }, 30000, 'the three replies sent');
    assert.deepEqual(sent.map((m) => m.status).filter(
        (s) => s === 'failed' || s === 'undelivered'), []);

    assert.ok(retried.length > 20, `looked ${retried.length} times`);
    assert.deepEqual(retried.filter((n) => n > 0), [],
                     'no reply waited out a carrier retry\'s backoff');

    // given back due when its number's turn comes, not at once: claimed
    // again at once, it was given back again every few milliseconds
    const givenBack = cluster.senderLog().split('\n').filter((line) =>
        /given back unsent \(not started within its claim\)/.test(line));
    assert.ok(givenBack.length <= 6,
        `${givenBack.length} times given back:\n`
        + givenBack.slice(0, 5).join('\n'));
});

// A reply to a new thread, sent while the simulator answers its number
// with `failure`: waits until it settles, looking all along for an entry
// with an attempt counted and no claim (a retry's backoff). Resolves with
// the settled message, those looks and the carrier's sends to the number.
async function heldReply(cluster, failure, body, settleMs) {
    const from = uniqueNumber();
    await deliverInbound(cluster, { from, body: 'hi' });
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    await cluster.sim.fail({ ...failure, number: from });
    const res = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token,
        { method: 'POST', body: { body } });
    assert.equal(res.status, 201, res.text);

    const counted = [];
    const look = async () => {
        const { stdout } = await promisify(execFile)(sqlite3Path, ['-cmd',
            '.timeout 5000', cluster.storePath, 'SELECT count(*) FROM outbox'
            + ' WHERE attempts > 0 AND lease_until IS NULL']);
        counted.push(Number(stdout.trim()));
    };
    const settled = await eventually(async () => {
        await look();
        const page = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages?limit=10`,
            org.token);
        const m = page.json.items.find((x) => x.id === res.json.id);
        return m.status !== 'queued' && m.status !== 'sending' ? m : null;
    }, settleMs, 'the reply settled');

    const sends = (await cluster.sim.requests({ kind: 'send' })).filter(
        (r) => r.form?.some(([k, v]) => k === 'To' && v === from));
    return { settled, counted, sends };
}

// A reply's number held by the carrier's 429 longer than the reply's claim
// can cover (Retry-After 4 s; the claim leaves 3 s): given back until the
// hold ends, no attempt counted, as a wait within the claim counts none.
// Counted, a carrier that only throttles would fail it after eight.
test('a reply whose number the carrier holds past its claim goes when the '
    + 'hold ends, with no attempt counted', { timeout: 60000 }, async () => {
    const { settled, counted, sends } = await heldReply(ctx.cluster,
        { type: 'rate_limit', count: 1, retry_after: 4 }, 'held', 30000);
    assert.notEqual(settled.status, 'failed', JSON.stringify(settled));
    assert.deepEqual(counted.filter((n) => n > 0), [],
                     'no attempt counted for the carrier\'s hold');

    assert.deepEqual(sends.map((r) => r.response.status), [429, 201]);
    const after = Date.parse(sends[1].at) - Date.parse(sends[0].at);
    assert.ok(after >= 3900, `sent again ${after} ms after the 429`);
});

// Twilio's 21611 (HTTP 400: the From number's queue already holds 10
// hours of its rate) refuses the number for now, not the message: as for
// a 429 the number is held and the reply given back, no attempt counted,
// and it goes once the queue takes it again. Read as a refusal, as any
// other 400, it failed at the first one, and so did every message of a
// campaign past the queue's size.
test('a reply Twilio answers 21611 (the number\'s queue full) is sent once '
    + 'the queue takes it, not failed, with no attempt counted',
    { timeout: 60000 }, async () => {
    const cluster = ctx.cluster;
    const { settled, counted, sends } = await heldReply(cluster,
        { type: 'queue_full', count: 2 }, 'queued at last', 40000);
    assert.notEqual(settled.status, 'failed', JSON.stringify(settled));
    assert.deepEqual(counted.filter((n) => n > 0), [],
                     'no attempt counted for the queue\'s hold');

    // each 21611 held the number (1 s, then 2 s, and its rate after)
    assert.deepEqual(sends.map((r) => [r.response.status,
                                       r.response.json?.code ?? null]),
                     [[400, 21611], [400, 21611], [201, null]]);
    const gaps = sends.slice(1).map((r, i) => Date.parse(r.at)
                                              - Date.parse(sends[i].at));
    assert.ok(gaps[0] >= 900 && gaps[1] >= 1900, `sent again after ${gaps}`);
    assert.match(cluster.senderLog(), /as too many \(HTTP 400, error 21611\)/);
});

// A reply written while its number's rate holds it back (here one send
// every 10 s) is not claimed until the number's next token (a claim takes
// only what can start at once): a STOP that comes meanwhile is seen by
// that claim, and the reply never starts.  The 10 s leave a loaded
// machine room to deliver the STOP before that token.
test('a reply waiting for its number\'s rate is not sent once its '
    + 'contact texts STOP: it fails as opted out at no cost',
    { timeout: 60000 }, async () => {
    const cluster = ctx.cluster;
    await cluster.stopSender('SIGTERM');
    await cluster.startSender(['--rate', '0.1', '--burst', '1',
                               '--lease', '5000', '--timeout', '2000']);
    try {
        await stopBeforeTheNextToken(cluster);
    } finally {
        await cluster.stopSender('SIGTERM');
        await cluster.startSender();
    }
});

async function stopBeforeTheNextToken(cluster) {
    const sim = cluster.sim;
    const threadWith = async (from) => {
        await deliverInbound(cluster, { from, body: 'hi' });
        const list = await api(cluster, '/api/v1/conversations?limit=200',
                               org.token);
        return list.json.items.find((c) => c.contact.phone === from);
    };
    const send = async (conv, body) => {
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body } });
        assert.equal(res.status, 201, res.text);
        return res.json;
    };
    const sendsTo = async (to) => (await sim.requests({ kind: 'send' }))
        .filter((r) => r.form?.some(([k, v]) => k === 'To' && v === to));
    const balance = async () => (await api(cluster, '/api/v1/billing',
                                           org.token)).json.credits.balance;

    const a = uniqueNumber();
    const b = uniqueNumber();
    const convA = await threadWith(a);
    const convB = await threadWith(b);

    // the number's one token goes to A's reply, at T
    await send(convA, 'first');
    const [first] = await eventually(async () => {
        const got = await sendsTo(a);
        return got.length > 0 ? got : null;
    }, 15000, 'the first reply sent');
    const t = Date.parse(first.at);
    const before = await balance();

    // B's waits in the store for the next token, at T + 10 s
    const m = await send(convB, 'Your order is ready');
    await new Promise((r) => setTimeout(r, Math.max(0, t + 3200
                                                       - Date.now())));
    assert.ok(Date.now() < t + 9000, 'STOP comes before T + 9 s');
    await deliverInbound(cluster, { from: b, body: 'STOP' });

    const got = await eventually(async () => {
        const page = await api(cluster,
            `/api/v1/conversations/${convB.id}/messages?limit=10`,
            org.token);
        const x = page.json.items.find((y) => y.id === m.id);
        return x.status !== 'queued' && x.status !== 'sending' ? x : null;
    }, 20000, 'the reply settled');
    assert.equal(got.status, 'failed');
    assert.equal(got.error_code, 'contact_opted_out');

    // only the STOP's confirmation reaches B, the reply never
    await eventually(async () => (await sendsTo(b)).length > 0, 20000,
                     'the STOP confirmation sent');
    await new Promise((r) => setTimeout(r, 500));
    const bodies = (await sendsTo(b)).map((r) =>
        Object.fromEntries(r.form).Body);
    assert.equal(bodies.length, 1, JSON.stringify(bodies));
    assert.notEqual(bodies[0], 'Your order is ready');
    assert.equal(await balance(), before);
}

errorLogIsCleanTest(ctx);
