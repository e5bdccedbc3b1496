// A socket whose resume ws-server must read from the store waits, out
// of the live events, until the store answers; a store that does not
// answer for a while (a MongoDB server behind a partition, a disk that
// stalls) must not make that socket look dead: it is pinged like any
// other, so that the page (which takes a socket that brought nothing for
// twice ping_secs and 5 s for dead) does not reconnect and ask the same
// slow store again.
//
// ws-server's --store here is a MongoDB address that takes connections
// and never answers (its server selection waits a minute); nginx and the
// tickets use the cluster's SQLite store.  The MongoDB backend reads only
// organizations named by an ObjectId, so the socket's ticket is the
// cluster's, signed again for such an id.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test, after } from 'node:test';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound, openWs, ticket, ticketClaims, wsUrl }
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
    + '?serverSelectionTimeoutMS=60000&connectTimeoutMS=60000';

// the later --store is the one ws-server takes
const ctx = useCluster({ wsArgs: ['--ping-secs', '1',
                                  '--store', silentStore] });

// A ticket answer's ticket for another organization id, signed as nginx
// signs (ORG.base64url(claims).base64url(HMAC-SHA256), libinbox ticket.c).
function ticketFor(cluster, answer, orgId) {
    const claims = { ...ticketClaims(answer.ticket), org_id: orgId };
    const body = `${orgId}.${Buffer.from(JSON.stringify(claims))
        .toString('base64url')}`;
    const secret = readFileSync(join(cluster.dir, 'realtime.key'), 'utf8')
        .trim();
    const mac = createHmac('sha256', secret).update(body)
        .digest('base64url');
    const url = new URL(wsUrl(cluster, answer));
    url.searchParams.set('ticket', `${body}.${mac}`);
    return url.toString();
}

test('a socket waiting for its resume from a store that does not answer '
    + 'gets {"type":"ping"} all the same', { timeout: 30000 }, async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];

    // a hello past 0: a resume from 0 lacks events, and ws-server's ring
    // holds none of this organization, so it asks the store
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'missed' });
    const answer = await ticket(cluster, org.token);
    const c = await openWs(ticketFor(cluster, answer,
                                     '64f1a0000000000000000001'));
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

// ws-server finishes the store query under way before it exits, and the
// silent store would hold that for a minute
errorLogIsCleanTest(ctx, async () => {
    process.kill(ctx.cluster.ws.pid, 'SIGKILL');
    await ctx.cluster.ws.exited.catch(() => {});
});
