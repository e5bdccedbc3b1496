// ws-server pings a silent connection and closes one that does not
// answer (its own sweep over all connections, not lws' per-connection
// timers): a browser that answers stays connected and keeps getting
// events; one that stops reading is dropped after twice --ping-secs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { connectWs, deliverInbound, eventually } from '../lib/inbox.mjs';

const ctx = useCluster({ wsArgs: ['--ping-secs', '1', '--verbose'] });

function unanswered() {
    return (ctx.cluster.readFile('ws-server.log')
        .match(/no answer to a ping/g) || []).length;
}

test('a silent connection is pinged and, answering, stays open and gets '
    + 'events; one that stops reading is closed', { timeout: 30000 },
async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const live = await connectWs(cluster, org.token);
    const dead = await connectWs(cluster, org.token);
    await live.waitForTypes(['hello']);
    await dead.waitForTypes(['hello']);

    let pings = 0;
    live.ws.on('ping', () => { pings++; });
    dead.ws.pause();

    // pinged within 1.5 s of silence; the one not reading is cut off
    // after 2 s without an answer
    await eventually(() => pings >= 2, 8000, 'two pings');
    await eventually(() => unanswered() === 1, 8000,
        'the connection that stopped reading closed');

    assert.equal(live.closed, false);
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'still here' });
    await live.waitForTypes(['hello', 'message.created'], 5000);
    assert.equal(unanswered(), 1, 'only the one that stopped reading');
    live.close();
    dead.ws.terminate();
});

errorLogIsCleanTest(ctx);
