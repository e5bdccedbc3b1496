// A page cannot see WebSocket pings, so ws-server also sends
// {"type":"ping"} to a socket it sent nothing for --ping-secs, and the
// hello says how often (ping_secs): a page that hears nothing for twice
// that takes its socket for dead and reconnects.  The frame is outside
// the stream (no org_seq), goes between whole event frames and moves no
// socket's position.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { connectWs, deliverInbound } from '../lib/inbox.mjs';

const ctx = useCluster({ wsArgs: ['--ping-secs', '1'] });

// a new number's text: its message's three, then its contact's
const STREAM_TYPES = new Set(['message.created', 'conversation.updated',
    'unread.total', 'contact.updated']);
const isPing = (f) => f.type === 'ping';

async function connectResumed(cluster, org) {
    const c = await connectWs(cluster, org.token);
    const [hello] = await c.waitForTypes(['hello']);
    c.send({ type: 'resume', epoch: hello.epoch, org_seq: hello.org_seq });
    return c;
}

test('the hello says ping_secs, and a socket sent nothing for it gets '
    + '{"type":"ping"}, about once a ping_secs, even while it talks itself',
async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const idle = await connectResumed(cluster, org);
    const talking = await connectResumed(cluster, org);
    assert.equal(idle.frames[0].ping_secs, 1);

    // presence from talking reaches idle only: talking hears nothing
    // back, though ws-server hears from it all the time (the case a
    // ping of silent peers alone would miss)
    const started = Date.now();
    while (Date.now() - started < 4500) {
        talking.send({ type: 'presence', conversation_id: 'c1',
                       state: 'viewing' });
        await sleep(450);
    }

    const pings = (c) => c.frames.filter(isPing);
    assert.deepEqual(pings(talking)[0], { type: 'ping' },
        'exactly {"type":"ping"}: no org_seq, no epoch');
    // 4.5 s at 1 s: 3 at least, and one a second at most (a sweep every
    // 0.5 s, so one may come half a second after another frame)
    assert.ok(pings(talking).length >= 3 && pings(talking).length <= 6,
        `talking got ${pings(talking).length} pings in 4.5 s`);
    idle.close();
    talking.close();
});

test('pings go between whole event frames and leave org_seq unbroken: '
    + 'the events come in order, each once, and a later socket resumes '
    + 'from one of them exactly', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const a = await connectResumed(cluster, org);
    const start = a.frames[0].org_seq;

    // events in bursts with silences of more than ping_secs between
    for (let i = 0; i < 4; i++) {
        await deliverInbound(cluster, { from: uniqueNumber(),
                                        body: `burst ${i}` });
        await sleep(1600);
    }
    const stream = (c) => c.frames.filter((f) => STREAM_TYPES.has(f.type));
    await a.waitFor(() => stream(a).filter(
        (f) => f.type === 'message.created').length === 4, 5000, 'bursts');

    assert.deepEqual(a.frames.filter((f) => f.type === '(not json)'), []);
    const seqs = stream(a).map((f) => f.org_seq);
    assert.deepEqual(seqs, seqs.map((_, i) => start + 1 + i),
        'org_seq consecutive from the hello');
    const firstEvent = a.frames.findIndex((f) => STREAM_TYPES.has(f.type));
    const lastEvent = a.frames.findLastIndex((f) => STREAM_TYPES.has(f.type));
    const between = a.frames.slice(firstEvent, lastEvent).filter(isPing);
    assert.ok(between.length >= 3,
        `pings between the bursts (${between.length})`);

    // a socket resuming from the second burst's message gets the rest
    // of the stream, once, in order: no ping moved a position
    const from = stream(a).find((f) => f.type === 'message.created'
        && f.message.body === 'burst 1').org_seq;
    const b = await connectWs(cluster, org.token);
    const [hello] = await b.waitForTypes(['hello']);
    b.send({ type: 'resume', epoch: hello.epoch, org_seq: from });
    const rest = seqs.filter((s) => s > from);
    await b.waitFor(() => stream(b).length >= rest.length, 5000, 'resume');
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'live' });
    await b.waitFor(() => stream(b).some((f) => f.type === 'message.created'
        && f.message.body === 'live'), 5000, 'live');
    const bSeqs = stream(b).map((f) => f.org_seq);
    assert.deepEqual(bSeqs, bSeqs.map((_, i) => from + 1 + i));
    assert.deepEqual(bSeqs.slice(0, rest.length), rest);
    a.close();
    b.close();
});

errorLogIsCleanTest(ctx);
