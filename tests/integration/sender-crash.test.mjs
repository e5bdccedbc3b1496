/*
 * A sender that dies (SIGKILL, OOM, a host crash) while replies wait
 * for their number's rate: those replies never left, so they must go
 * after the restart, not come back "unknown_outcome" ("it may have been
 * sent").
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, test } from 'node:test';
import { inboxctl, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';

/* one send every 5 s from a number, one at once */
const ctx = useCluster({ orgs: [{ name: 'Crash Org' }], carrierSim: true,
    sender: true, senderArgs: ['--rate', '0.2', '--burst', '1',
        '--lease', '8000', '--timeout', '2000'] });
let org, sim;
before(async () => {
    const c = await ctx.ready; org = c.orgs[0]; sim = c.sim;
    await inboxctl(c.store, 'credits', 'grant', org.id, '100');
});

test('replies waiting for their number\'s rate are sent after a sender crash, not failed', { timeout: 90000 }, async () => {
    const c = ctx.cluster;
    const from = uniqueNumber();
    await deliverInbound(c, { from, body: 'hi' });
    const list = await api(c, '/api/v1/conversations?limit=200', org.token);
    const conv = list.json.items.find((x) => x.contact.phone === from);
    for (const body of ['one', 'two', 'three']) {
        const res = await api(c, `/api/v1/conversations/${conv.id}/messages`,
            org.token, { method: 'POST', body: { body } });
        assert.equal(res.status, 201, res.text);
    }
    const sent = async () => (await sim.requests({ kind: 'send' }))
        .filter((r) => r.form?.some(([k, v]) => k === 'To' && v === from))
        .map((r) => Object.fromEntries(r.form).Body);

    const outbound = async () => (await api(c,
        `/api/v1/conversations/${conv.id}/messages?limit=10`, org.token))
        .json.items.filter((m) => m.direction === 'outbound');

    /* "one" went, and its answer is stored (killed before that, it would
     * rightly be unknown_outcome); "two" and "three" wait for the
     * number's next turns, 5 s apart */
    await eventually(async () => (await outbound()).find((m) =>
        m.body === 'one' && m.status !== 'queued' && m.status !== 'sending'),
    15000, '"one" sent and its answer stored');
    assert.ok((await sent()).length < 3, 'a reply still waits at the kill');
    await c.stopSender('SIGKILL');
    await c.startSender();

    const out = await eventually(async () => {
        const o = await outbound();
        return o.every((m) => m.status !== 'queued') ? o : null;
    }, 40000, 'all settled');

    for (const m of out) {
        assert.notEqual(m.status, 'failed',
            `${m.body}: ${m.status} ${m.error_code}`);
        assert.notEqual(m.error_code, 'unknown_outcome',
            `${m.body}: ${m.status} ${m.error_code}`);
    }
    assert.deepEqual((await sent()).sort(), ['one', 'three', 'two']);
});

/* A reply the carrier turned away with a 429 waits for the hold on its
 * number; a sender killed meanwhile must not leave it looking as if it
 * may have gone: it never left, and goes after the restart. */
test('a reply held by the carrier\'s 429 is sent after a sender crash '
    + 'during the hold, not failed', { timeout: 90000 }, async () => {
    const c = ctx.cluster;
    const from = uniqueNumber();
    await deliverInbound(c, { from, body: 'hi' });
    const list = await api(c, '/api/v1/conversations?limit=200', org.token);
    const conv = list.json.items.find((x) => x.contact.phone === from);
    await sim.fail({ type: 'rate_limit', count: 1, retry_after: 3,
                     number: from });
    const res = await api(c, `/api/v1/conversations/${conv.id}/messages`,
        org.token, { method: 'POST', body: { body: 'held then sent' } });
    assert.equal(res.status, 201, res.text);
    const sends = async () => (await sim.requests({ kind: 'send' }))
        .filter((r) => r.form?.some(([k, v]) => k === 'To' && v === from));

    await eventually(async () => (await sends()).length === 1, 10000,
                     'the 429');
    // killed during the hold, once the store has the reply given back (a
    // kill before that is a crash between sending and recording: the
    // reply may have gone, sender-stop's and unknown-outcome's case)
    const claimed = () => execFileSync(sqlite3Path, ['-cmd', '.timeout 5000',
        c.storePath, 'SELECT lease_until IS NOT NULL FROM outbox'
        + ` WHERE message_id = ${Number(res.json.id)}`]).toString().trim();
    await eventually(() => claimed() === '0', 10000, 'the reply given back');
    await c.stopSender('SIGKILL');
    await c.startSender();

    const got = await eventually(async () => {
        const page = await api(c,
            `/api/v1/conversations/${conv.id}/messages?limit=10`, org.token);
        const m = page.json.items.find((x) => x.id === res.json.id);
        return m.status !== 'queued' && m.status !== 'sending' ? m : null;
    }, 40000, 'the reply settled');
    assert.notEqual(got.status, 'failed', JSON.stringify(got));
    assert.notEqual(got.error_code, 'unknown_outcome', JSON.stringify(got));
    assert.deepEqual((await sends()).map((r) => r.response.status),
                     [429, 201]);
});
