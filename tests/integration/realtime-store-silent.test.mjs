// A socket whose resume ws-server must read from the store waits, out
// of the live events, until the store answers; a store that does not
// answer for a while (a MongoDB server behind a partition, a disk that
// stalls) must not make that socket look dead: it is pinged like any
// other, so that the page (which takes a socket that brought nothing for
// twice ping_secs and 5 s for dead) does not reconnect and ask the same
// slow store again.  Nor does such a store hold ws-server's stop: the
// query under way is not waited for.
//
// ws-server's --store here is a MongoDB address that takes connections
// and never answers (its server selection waits ten minutes, longer than
// any test here); nginx and the tickets use the cluster's SQLite store.
// The MongoDB backend reads only organizations named by an ObjectId, so
// the socket's ticket is the cluster's, signed again for such an id.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test, after } from 'node:test';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound, openWs, ticket, wsUrlForOrg }
    from '../lib/inbox.mjs';

// Takes every connection and says nothing on it.
const held = new Set();
const silent = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => held.delete(socket));
});
await new Promise((ok) => silent.listen(0, '127.0.0.1', ok));
after(() => {
    for (const socket of held) {
        socket.destroy();
    }
    silent.close();
});

const silentStore = `mongodb://127.0.0.1:${silent.address().port}/inbox`
    + '?serverSelectionTimeoutMS=600000&connectTimeoutMS=600000';

// the later --store is the one ws-server takes
const ctx = useCluster({ wsArgs: ['--ping-secs', '1',
                                  '--store', silentStore] });

const ORG = '64f1a0000000000000000001';

test('a socket waiting for its resume from a store that does not answer '
    + 'gets {"type":"ping"} all the same', { timeout: 30000 }, async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];

    // a hello past 0: a resume from 0 lacks events, and ws-server's ring
    // holds none of this organization, so it asks the store
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'missed' });
    const answer = await ticket(cluster, org.token);
    const c = await openWs(wsUrlForOrg(cluster, answer, ORG));
    try {
        const [hello] = await c.waitForTypes(['hello']);
        assert.ok(hello.org_seq >= 3, `hello at ${hello.org_seq}`);
        c.send({ type: 'resume', epoch: hello.epoch, org_seq: 0 });

        // pinged about once a second while the store keeps it waiting
        await c.waitFor((frames) => frames.filter(
            (f) => f.type === 'ping').length >= 2, 10000,
            'two {"type":"ping"} while the resume waits');

        // still waiting: neither the events nor a reset came
        assert.deepEqual(c.frames.map((f) => f.type).filter(
            (t) => t !== 'ping'), ['hello']);
        assert.equal(c.closed, false);
    } finally {
        c.close();
    }
});

test('ws-server stopped while the store keeps a resume waiting exits at '
    + 'once, not waiting for its answer', { timeout: 30000 }, async () => {
    const { cluster } = ctx;
    const answer = await ticket(cluster, cluster.orgs[0].token);
    const c = await openWs(wsUrlForOrg(cluster, answer, ORG));
    try {
        const [hello] = await c.waitForTypes(['hello']);
        c.send({ type: 'resume', epoch: hello.epoch, org_seq: 0 });
        // read by ws-server: a ping sent after it is answered after it
        await new Promise((ok) => {
            c.ws.once('pong', ok);
            c.ws.ping();
        });

        // the store answers nothing for ten minutes: an exit before then
        // did not wait for it (else the stop's SIGKILL, 15 s on)
        const { code, signal } = await cluster.stopWs();
        const log = cluster.readFile('ws-server.log');
        assert.equal(signal, null, log.slice(-3000));
        assert.equal(code, 0, log.slice(-3000));
        const order = ['ws-server: stopping on signal 15',
                       'ws-server: not waiting for the store query under '
                       + 'way', 'ws-server: stopped'].map((line) =>
            log.indexOf(line));
        assert.ok(order.every((at, i) => at >= 0 && at > (order[i - 1] ?? -1)),
                  `the stop's lines in order:\n${log.slice(-3000)}`);
    } finally {
        c.close();
    }
});

errorLogIsCleanTest(ctx);
