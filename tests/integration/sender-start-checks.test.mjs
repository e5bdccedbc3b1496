// A status ask (the sender asking the carrier about a message whose
// status report was lost, status-checks.test.mjs) that the sender itself
// cannot start (curl refuses the request: curl_multi_add_handle fails,
// here by a library preloaded into the sender, tests/shim/curl_add_fails.c,
// after the reply's own send went) is kept and made again, twice as late
// each time none starts, the trouble logged once, as a send is
// (sender-start.test.mjs).  Dropped, as it was without a word, it waited
// for the message's next ask (--status-check-after on at least, hours
// for an old message), and the last one was never made.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import {
    assertStartTroubleToldOnce, curlAddFailsWrap,
} from '../lib/curl-add-fails.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';

const FAILS = 3;
const ctx = useCluster({
    orgs: [{ name: 'Start Checks Org' }], carrierSim: true, sender: true,
    senderArgs: ['--status-check-after', '1500',
                 '--status-check-rate', '20'],
    // the reply's send is curl's first request, the ask its second
    senderWrap: curlAddFailsWrap(FAILS, 1),
});
let org;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '10');
});

test('a status ask curl will not start is made again later each time, '
    + 'logged once, and goes once curl takes it', { timeout: 60000 },
async () => {
    const { cluster } = ctx;
    const from = uniqueNumber();
    await deliverInbound(cluster, { from, body: 'hi' });
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);

    // its status reports lost: only an ask brings delivered
    await cluster.sim.fail({ type: 'callbacks', drop: true, number: from,
                             count: 1 });
    const res = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token,
        { method: 'POST', body: { body: 'we are open' } });
    assert.equal(res.status, 201, res.text);
    const id = res.json.id;

    await eventually(async () => {
        const got = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages?limit=50`, org.token);
        return got.json.items.find((m) => m.id === id)?.status
            === 'delivered';
    }, 30000, 'the reply delivered, as the carrier answered the ask');
    const asks = await cluster.sim.requests({ kind: 'fetch' });
    assert.equal(asks.length, 1);

    const log = cluster.senderLog();
    // asked again 1 s, 2 s, 4 s after each refusal
    const waits = [...log.matchAll(new RegExp(`asking twilio about message `
        + `${id} put off \\(curl_multi_add_handle: Out of memory\\), again `
        + 'in (\\d+) ms', 'gi'))].map((m) => Number(m[1]));
    assert.deepEqual(waits, [1000, 2000, 4000]);
    assertStartTroubleToldOnce(log, FAILS);
});

errorLogIsCleanTest(ctx);
