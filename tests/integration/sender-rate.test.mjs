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
});

// A reply's number held by the carrier's 429 longer than the reply's claim
// can cover (Retry-After 4 s; the claim leaves 3 s): given back until the
// hold ends, no attempt counted, as a wait within the claim counts none.
// Counted, a carrier that only throttles would fail it after eight.
test('a reply whose number the carrier holds past its claim goes when the '
    + 'hold ends, with no attempt counted', { timeout: 60000 }, async () => {
    const cluster = ctx.cluster;
    const from = uniqueNumber();
    await deliverInbound(cluster, { from, body: 'hi' });
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    await cluster.sim.fail({ type: 'rate_limit', count: 1, retry_after: 4,
                             number: from });
    const res = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token,
        { method: 'POST', body: { body: 'held' } });
    assert.equal(res.status, 201, res.text);

    // attempts counted while no claim holds the entry
    const counted = [];
    const look = async () => {
        const { stdout } = await promisify(execFile)(sqlite3Path, ['-cmd',
            '.timeout 5000', cluster.storePath, 'SELECT count(*) FROM outbox'
            + ' WHERE attempts > 0 AND lease_until IS NULL']);
        counted.push(Number(stdout.trim()));
    };
    const got = await eventually(async () => {
        await look();
        const page = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages?limit=10`,
            org.token);
        const m = page.json.items.find((x) => x.id === res.json.id);
        return m.status !== 'queued' && m.status !== 'sending' ? m : null;
    }, 30000, 'the reply sent');
    assert.notEqual(got.status, 'failed', JSON.stringify(got));
    assert.deepEqual(counted.filter((n) => n > 0), [],
                     'no attempt counted for the carrier\'s hold');

    const sends = (await cluster.sim.requests({ kind: 'send' })).filter(
        (r) => r.form?.some(([k, v]) => k === 'To' && v === from));
    assert.deepEqual(sends.map((r) => r.response.status), [429, 201]);
    const after = Date.parse(sends[1].at) - Date.parse(sends[0].at);
    assert.ok(after >= 3900, `sent again ${after} ms after the 429`);
});

errorLogIsCleanTest(ctx);
