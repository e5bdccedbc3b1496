// A WebSocket client that stops reading must not make ws-server buffer
// without end, nor hold back the other sockets of its organization: once
// its bounded queue (--max-queue) overflows it is closed with 4008 "slow
// consumer", and a client of the same organization that keeps reading gets
// every event, in order.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { connectWs, deliverInbound, eventually } from '../lib/inbox.mjs';

// More than a reading client can ever have queued: a webhook's three
// events, behind at most the ~10 datagrams ws-server's socket holds.
const MAX_QUEUE = 64;
// Kernel buffers on loopback (ws-server to nginx to the client) take
// megabytes before ws-server's queue grows at all: about 400 of these
// webhooks here.  Far more than that means the queue is not bounded.
const MAX_WEBHOOKS = 1500;

const ctx = useCluster({
    // --verbose: ws-server logs when it gives up on a slow consumer
    wsArgs: ['--max-queue', String(MAX_QUEUE), '--verbose'],
});

const sockets = [];

// Big frames: a body of 1600 characters, most of them four bytes, and ten
// media URLs of about 1 KB (message.created is about 14 KB).
function bigMessage(i) {
    return {
        body: `#${i} ${'\u{1F4E8}'.repeat(1590)}`,
        media: Array.from({ length: 10 }, (_, m) =>
            `https://media.example/${m}/${'m'.repeat(990)}`),
    };
}

function slowClosings() {
    return (ctx.cluster.readFile('ws-server.log')
        .match(/slow consumer closed/g) || []).length;
}

// The events after the hello follow it with no gap and no repeat.
function assertInOrder(frames, what) {
    assert.equal(frames[0]?.type, 'hello', `${what}: first frame`);
    frames.slice(1).forEach((f, i) => {
        assert.equal(f.org_seq, frames[0].org_seq + i + 1,
            `${what}: frame ${i + 1} is ${f.type} org_seq ${f.org_seq}`);
    });
}

test('a client that stops reading is closed with 4008 "slow consumer"; '
    + 'another client of its organization gets every event in order',
{ timeout: 60000 }, async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const good = await connectWs(cluster, org.token);
    const slow = await connectWs(cluster, org.token);
    sockets.push(good, slow);
    await good.waitForTypes(['hello']);
    await slow.waitForTypes(['hello']);
    // as the web app does: live events from where the hello stood, at
    // once (a socket that says nothing waits for them a moment)
    for (const c of [good, slow]) {
        c.send({ type: 'resume', epoch: c.frames[0].epoch,
                 org_seq: c.frames[0].org_seq });
    }
    await sleep(100);
    slow.ws.pause();

    // one at a time, so that a reading client's queue stays short
    const from = uniqueNumber();
    let sent = 0;
    while (slowClosings() === 0 && sent < MAX_WEBHOOKS) {
        await deliverInbound(cluster, { from, ...bigMessage(sent) });
        sent++;
    }
    assert.equal(slowClosings(), 1, `after ${sent} webhooks ws-server had `
        + `closed ${slowClosings()} slow consumers, not the one`);
    assert.equal(slow.closed, false, 'nothing read yet');

    // reading again, it gets what was in the pipes, then the close
    // (ws-server waits 10 s for it to drain before cutting it off)
    slow.ws.resume();
    await eventually(() => slow.closed, 10000, 'the slow client closed');
    assert.equal(slow.closeCode, 4008,
        `close code ${slow.closeCode} "${slow.closeReason}"`);
    assert.equal(slow.closeReason, 'slow consumer');
    assertInOrder(slow.frames, 'slow client');
    // each message's three, the first's new contact's one
    const events = 3 * sent + 1;
    assert.ok(slow.frames.length < 1 + events,
        `the slow client got ${slow.frames.length} frames of `
        + `${1 + events}`);

    // the reading client: all of them, in order, still connected
    await good.waitFor((f) => f.length === 1 + events, 10000,
        `${events} events`);
    assertInOrder(good.frames, 'reading client');
    const bodies = good.frames.filter((f) => f.type === 'message.created')
        .map((f) => f.message.body.split(' ')[0]);
    assert.deepEqual(bodies, Array.from({ length: sent }, (_, i) => `#${i}`));
    assert.equal(good.closed, false);

    await deliverInbound(cluster, { from, body: 'after the slow one' });
    await good.waitFor((f) => f.length === 4 + events, 5000,
        'the next three events');
    assert.equal(good.frames.at(-3).message.body, 'after the slow one');
    assertInOrder(good.frames, 'reading client');

    // the slow one may come back: a new socket starts where things stand
    const again = await connectWs(cluster, org.token);
    sockets.push(again);
    await again.waitForTypes(['hello']);
    assert.equal(again.frames[0].org_seq, good.frames.at(-1).org_seq);
    assert.equal(again.frames[0].unread_total, sent + 1);
    assert.equal(slowClosings(), 1, 'no other socket was closed');
});

errorLogIsCleanTest(ctx, async () => sockets.forEach((s) => s.close()));
