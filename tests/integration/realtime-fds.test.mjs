// ws-server at its file descriptor limit (here 64, by prlimit): the
// connections past the part kept for them are refused at once, logged
// once, and the server stays whole: once they close, a browser connects
// and gets its events.  Before, accept() failed with EMFILE in a busy loop
// that logged "accept: errno 24" megabytes a second.

import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import { sleep, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { connectWs, deliverInbound, eventually } from '../lib/inbox.mjs';

const LIMIT = 64;
const ctx = useCluster({ wsWrap: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`] });

// A TCP connection to ws-server itself that says nothing: it holds one of
// its descriptors until closed.  refused: ws-server closed it.
function holdConnection(port) {
    const held = { refused: false, mine: false };
    held.socket = connect(port, '127.0.0.1');
    held.socket.on('error', () => {});
    held.socket.on('close', () => { held.refused = !held.mine; });
    held.close = () => { held.mine = true; held.socket.destroy(); };
    return held;
}

test('ws-server at its descriptor limit refuses the connections past it, '
    + 'logs that once, and takes browsers again once they close',
    { timeout: 60000 }, async () => {
    const cluster = await ctx.ready;
    assert.match(cluster.readFile('ws-server.log'),
                 new RegExp(`ws-server: ${LIMIT} file descriptors`));

    const held = [];
    try {
        for (let i = 0; i < 2 * LIMIT; i++) {
            held.push(holdConnection(cluster.wsPort));
        }
        await eventually(() => held.every((h) => h.socket.readyState
                                                 !== 'opening'),
                         10000, 'every connection made');
        // a while at the limit: a server that fails accept() after
        // accept() logs megabytes in it
        await sleep(2000);

        const logBytes = statSync(cluster.wsLogPath).size;
        assert.ok(logBytes < 64 * 1024, `ws-server logged ${logBytes} bytes `
            + 'at its descriptor limit');
        const refused = held.filter((h) => h.refused).length;
        assert.ok(refused >= LIMIT, `${refused} of ${held.length} refused`);
        const lines = cluster.readFile('ws-server.log').split('\n')
            .filter((line) => /refusing new connections/.test(line));
        assert.equal(lines.length, 1, lines.join('\n'));
    } finally {
        held.forEach((h) => h.close());
    }

    // room again: a browser's socket opens and gets a new message's events
    const org = cluster.orgs[0];
    const ws = await eventually(async () => {
        try {
            return await connectWs(cluster, org.token);
        } catch {
            return null;
        }
    }, 20000, 'a browser connected');
    try {
        await ws.waitForTypes(['hello']);
        await deliverInbound(cluster, { from: uniqueNumber(),
                                        body: 'after the limit' });
        await ws.waitForTypes(['message.created']);
    } finally {
        ws.close();
    }
});

errorLogIsCleanTest(ctx);
