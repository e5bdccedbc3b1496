// ws-server reads the store one query at a time, first asked first run
// (ws-server/ws_store.h): with a store slow to answer, the resumes of
// browsers that reconnect pile up behind the one under way.  One whose
// socket closed while it waited is not read at all: the store is not
// asked for a socket long gone, ahead of the live ones' resumes.
//
// ws-server's --store here is a MongoDB stand-in (tests/lib/
// mongo-standin.mjs) that holds each read of an organization, the first
// a resume makes, until the test lets it go; nginx and the tickets use
// the cluster's SQLite store, the sockets' tickets signed again for
// organizations named by ObjectIds.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound, openWs, ticket, wsUrlForOrg }
    from '../lib/inbox.mjs';
import { ObjectId, startMongoStandin } from '../lib/mongo-standin.mjs';

// a resume's first read of its organization: one id, not a $in of many
// (where the streams stand, asked every 2 s)
const mongo = await startMongoStandin({
    hold: (cmd) => cmd.find === 'orgs' && cmd.filter?._id instanceof ObjectId,
});
after(() => mongo.close());

// the later --store is the one ws-server takes
const ctx = useCluster({ wsArgs: ['--store', mongo.uri('inbox')] });

const ORG_A = '64f1a00000000000000000a1';
const ORG_B = '64f1a00000000000000000b2';
const ORG_C = '64f1a00000000000000000c3';

// Opens a socket of orgId and sends its resume from 0 (its hello is past
// 0: it lacks events, and ws-server's ring has none of that organization,
// so it asks the store); resolves once ws-server has read the resume: a
// WebSocket ping sent after it is answered after it.
async function resumeFromZero(cluster, orgId) {
    const answer = await ticket(cluster, cluster.orgs[0].token);
    const c = await openWs(wsUrlForOrg(cluster, answer, orgId));
    const [hello] = await c.waitForTypes(['hello']);
    assert.ok(hello.org_seq > 0, `hello at ${hello.org_seq}`);
    c.send({ type: 'resume', epoch: hello.epoch, org_seq: 0 });
    await new Promise((ok) => {
        c.ws.once('pong', ok);
        c.ws.ping();
    });
    return c;
}

test('the resume of a socket that closed while the store was slow is not '
    + 'read', { timeout: 30000 }, async () => {
    const { cluster } = ctx;
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'missed' });

    // A's resume is under way, the store not answering
    const a = await resumeFromZero(cluster, ORG_A);
    const first = await mongo.held();
    assert.equal(first.cmd.filter._id.hex, ORG_A);

    // B's waits behind it, and B goes away
    const b = await resumeFromZero(cluster, ORG_B);
    await new Promise((ok) => {
        b.ws.once('close', ok);
        b.ws.close();
    });

    // C's waits behind both
    const c = await resumeFromZero(cluster, ORG_C);
    try {
        // the store answers A (no such organization: a reset)
        first.release();
        await a.waitForTypes(['reset'], 10000);

        // next it is asked for C, never for B
        const next = await mongo.held();
        assert.equal(next.cmd.filter._id.hex, ORG_C,
                     'the store read for the socket that closed');
        next.release();
        await c.waitForTypes(['reset'], 10000);

        assert.deepEqual(mongo.commands.filter((cmd) => cmd.find === 'orgs'
            && cmd.filter?._id instanceof ObjectId)
            .map((cmd) => cmd.filter._id.hex), [ORG_A, ORG_C]);
    } finally {
        a.close();
        c.close();
    }
});

errorLogIsCleanTest(ctx);
