// ws-server stops cleanly under valgrind's memcheck: every timer of its
// organizations' streams (presence lapsing, gaps waiting) is cancelled
// and the store thread joined while libwebsockets' context still exists,
// so nothing writes into the context after it is freed.  (The writes are
// inside libwebsockets, which AddressSanitizer does not see.)  Every
// handle of its event loop is closed, so that the loop ends.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inboxctl, sleep } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { connectWs } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Shutdown Org' }],
    wsWrap: ['valgrind', '--quiet', '--error-exitcode=99',
             '--leak-check=no', '--trace-children=no'],
});

async function live(cluster, token) {
    const ws = await connectWs(cluster, token);
    const hello = (await ws.waitForTypes(['hello'], 10000))[0];
    ws.send({ type: 'resume', epoch: hello.epoch, org_seq: hello.org_seq });
    return ws;
}

test('ws-server stopped while a presence is still to lapse exits 0 with '
    + 'no invalid read or write', async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, 'ana@shutdown.example', 'a long secret');
    const token = await inboxctl(cluster.store, 'token', 'create', org.id,
                                 '--user', 'ana@shutdown.example');
    const ana = await live(cluster, token);
    const colleague = await live(cluster, org.token);
    ana.send({ type: 'presence', conversation_id: 'c1', state: 'viewing' });
    await colleague.waitForTypes(['presence'], 10000);
    ana.close();
    await sleep(300);

    // the viewing state lapses in 30 s: its timer is still armed
    const { code, signal } = await cluster.stopWs();
    assert.equal(signal, null);
    assert.equal(code, 0, `ws-server exited ${code}:\n`
        + cluster.readFile('ws-server.log').slice(-3000));
    // every handle of its loop closed: one left open (the nudge a frame
    // starts) kept a ws-server stopped under traffic turning for good
    assert.doesNotMatch(cluster.readFile('ws-server.log'),
                        /still had handles/);
    colleague.close();
});

errorLogIsCleanTest(ctx);
