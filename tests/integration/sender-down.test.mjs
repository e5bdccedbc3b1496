// No sender process listens at inbox_sender_socket (never started, or
// stopped): replies are accepted and wait in the outbox, and nginx says
// so in its error log, once a minute at most, not once per reply.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';

// one worker: each has its own minute
const ctx = useCluster({ orgs: [{ name: 'Senderless Org' }],
                         workerProcesses: 1 });

before(async () => {
    const cluster = await ctx.ready;
    await inboxctl(cluster.store, 'credits', 'grant', cluster.orgs[0].id,
                   '10');
});

const warnings = (cluster) => cluster.errorLog().split('\n').filter((l) =>
    /\[warn\].*the sender is not listening at/.test(l));

test('replies without a sender wait queued, and the error log says why '
    + 'once, naming the socket', async () => {
    const cluster = ctx.cluster;
    const org = cluster.orgs[0];
    assert.deepEqual(warnings(cluster), []);

    const from = uniqueNumber();
    await deliverInbound(cluster, { from, body: 'anyone there?' });
    const list = await api(cluster, '/api/v1/conversations', org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    assert.ok(conv, `a thread with ${from}`);

    for (let i = 0; i < 3; i++) {
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body: `reply ${i}` } });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.json.status, 'queued');
    }

    const lines = warnings(cluster);
    assert.equal(lines.length, 1, cluster.errorLog());
    assert.ok(lines[0].includes(cluster.senderSocket), lines[0]);
    assert.match(lines[0], /replies.*wait until it runs/);
});

errorLogIsCleanTest(ctx);
