/*
 * SIGHUP (the terminal they ran in went away: an SSH session dropped
 * under `make run` in the foreground) stops the sender and ws-server as
 * SIGTERM does, never at once: the sender records the carrier's answer
 * to the reply in flight, ws-server closes its WebSockets and exits 0.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, sleep, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { api, connectWs, deliverInbound, eventually } from '../lib/inbox.mjs';

const ctx = useCluster({ orgs: [{ name: 'Hangup Org' }], carrierSim: true,
    sender: true, senderArgs: ['--lease', '10000', '--timeout', '4000'] });
let org, sim;
before(async () => {
    const c = await ctx.ready; org = c.orgs[0]; sim = c.sim;
    await inboxctl(c.store, 'credits', 'grant', org.id, '100');
});

async function exited(child) {
    return Promise.race([child.exited,
        sleep(20000).then(() => ({ code: 'still running' }))]);
}

test('a sender hung up on (SIGHUP) with a reply in flight records the '
     + 'carrier\'s answer before it exits: the reply is not reported '
     + 'unknown', { timeout: 60000 }, async () => {
    const c = ctx.cluster;
    const from = uniqueNumber();
    await deliverInbound(c, { from, body: 'hi' });
    const list = await api(c, '/api/v1/conversations?limit=200', org.token);
    const conv = list.json.items.find((x) => x.contact.phone === from);
    /* the carrier answers the send a while after taking it */
    await sim.fail({ type: 'late_answer', delay_ms: 1000, number: from });
    const sent = await api(c, `/api/v1/conversations/${conv.id}/messages`,
        org.token, { method: 'POST', body: { body: 'Hanging up soon' } });
    assert.equal(sent.status, 201, sent.text);
    const sends = async () => (await sim.requests({ kind: 'send' }))
        .filter((r) => r.form?.some(([k, v]) => k === 'To' && v === from));
    await eventually(async () => (await sends()).length === 1, 10000,
                     'the send reached the carrier');

    const logAt = c.senderLog().length;
    const sender = c.sender;
    process.kill(sender.pid, 'SIGHUP');
    const { code, signal } = await exited(sender);
    const log = c.senderLog().slice(logAt);
    c.sender = null;
    await c.startSender();

    assert.equal(signal, null, `killed by ${signal}:\n${log}`);
    assert.equal(code, 0, log);
    assert.match(log, /stopping after 1 requests in flight/);
    assert.match(log, /sender: stopped/);
    const page = await api(c,
        `/api/v1/conversations/${conv.id}/messages?limit=10`, org.token);
    const m = page.json.items.find((x) => x.id === sent.json.id);
    assert.equal(m.status, 'delivered', JSON.stringify(m));
    assert.equal((await sends()).length, 1);
});

test('ws-server hung up on (SIGHUP) closes its WebSockets, says it '
     + 'stopped and exits 0; browsers connect again once it is back',
     { timeout: 60000 }, async () => {
    const c = ctx.cluster;
    const ws = await connectWs(c, org.token);
    await ws.waitForTypes(['hello'], 5000);
    const logAt = (c.readFile('ws-server.log') || '').length;
    const child = c.wsList[0];
    process.kill(child.pid, 'SIGHUP');
    await eventually(() => ws.closed, 10000, 'the WebSocket closed');
    const { code, signal } = await exited(child);
    const log = (c.readFile('ws-server.log') || '').slice(logAt);
    c.wsList[0] = null;
    await c.startWs(0);

    assert.equal(signal, null, `killed by ${signal}:\n${log}`);
    assert.equal(code, 0, log);
    assert.match(log, /ws-server: stopping on signal 1 \(hangup\)/);
    assert.match(log, /ws-server: stopped/);
    const again = await connectWs(c, org.token);
    try {
        await again.waitForTypes(['hello'], 5000);
    } finally {
        again.close();
    }
});
