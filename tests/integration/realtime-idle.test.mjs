// An organization nobody watches costs ws-server no ring of recent frames:
// it is given back --keep-secs after the last socket closed, and none is
// built while nobody is connected.  A browser that comes back later still
// resumes exactly, from the store.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { connectWs, deliverInbound } from '../lib/inbox.mjs';

const ctx = useCluster({ wsArgs: ['--keep-secs', '1', '--verbose'] });

const STREAM_TYPES = new Set(['message.created', 'conversation.updated',
    'unread.total', 'contact.updated']);
// The events of a text from a new number (uniqueNumber): its message's
// three, then its contact's contact.updated.
const PER_TEXT = 4;
const seqs = (client) => client.frames
    .filter((f) => STREAM_TYPES.has(f.type)).map((f) => f.org_seq);
const bodies = (client) => client.frames
    .filter((f) => f.type === 'message.created').map((f) => f.message.body);

const givenBack = () => (ctx.cluster.readFile('ws-server.log') || '')
    .split('\n').filter((l) => l.includes('its recent frames given back'));

async function connectResumed(cluster, org, resume) {
    const c = await connectWs(cluster, org.token);
    await c.waitForTypes(['hello']);
    const h = c.frames[0];
    c.send({ type: 'resume', ...(resume ?? { epoch: h.epoch,
                                                org_seq: h.org_seq }) });
    return c;
}

test('a socket that comes back after its organization\'s ring was given '
    + 'back resumes exactly: the events missed meanwhile, in order, once, '
    + 'then live ones', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];

    const a = await connectResumed(cluster, org);
    const { epoch, org_seq: start } = a.frames[0];
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'seen' });
    await a.waitFor(() => seqs(a).at(-1) >= start + PER_TEXT, 5000,
                    'seen');
    a.close();

    /* the sweep runs with the store check, every 2 s */
    const deadline = Date.now() + 6000;
    while (givenBack().length === 0 && Date.now() < deadline) {
        await sleep(100);
    }
    assert.equal(givenBack().length, 1,
        'ws-server gave the ring back after --keep-secs');

    /* nobody watches: these build no ring, a resume reads the store */
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'missed 1' });
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'missed 2' });

    const b = await connectResumed(cluster, org,
                                   { epoch, org_seq: start + PER_TEXT });
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'live' });
    await b.waitFor(() => seqs(b).at(-1) >= start + 4 * PER_TEXT, 5000,
                    'live');
    await sleep(300);
    try {
        assert.deepEqual(seqs(b), Array.from({ length: 3 * PER_TEXT },
            (_, i) => start + PER_TEXT + 1 + i));
        assert.deepEqual(bodies(b), ['missed 1', 'missed 2', 'live']);
    } finally {
        b.close();
    }
});

errorLogIsCleanTest(ctx);
