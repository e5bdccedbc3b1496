// A send the sender itself cannot start (curl refuses the request:
// curl_multi_add_handle fails, here by a library preloaded into the
// sender, tests/shim/curl_add_fails.c) never reached the carrier: it is
// given back with no attempt counted, as before, but not every second
// for good: each time none starts it is due twice as late (1 s, 2 s,
// 4 s ...), the trouble is logged once with curl's reason, not once a
// message a second, and once a send starts the message goes.

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
    orgs: [{ name: 'Start Org' }], carrierSim: true, sender: true,
    senderWrap: curlAddFailsWrap(FAILS),
});
let org;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '10');
});

test('a send curl will not start is given back later each time, logged '
    + 'once, and goes once curl takes it', { timeout: 60000 }, async () => {
    const cluster = ctx.cluster;
    const from = uniqueNumber();
    await deliverInbound(cluster, { from, body: 'hi' });
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    const res = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token,
        { method: 'POST', body: { body: 'after a while' } });
    assert.equal(res.status, 201, res.text);
    const id = res.json.id;

    // curl takes the fourth try: the carrier has it once
    await eventually(async () => {
        const sent = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages?limit=50`, org.token);
        const m = sent.json.items.find((x) => x.id === id);
        return m && m.status !== 'queued' && m.status !== 'sending' && m;
    }, 30000, 'the reply sent');
    const sends = (await cluster.sim.requests({ kind: 'send' }))
        .filter((r) => r.form?.some(([k, v]) => k === 'To' && v === from));
    assert.equal(sends.length, 1);

    const log = cluster.senderLog();
    // due again 1 s, 2 s, 4 s after each refusal, never counted
    const waits = [...log.matchAll(new RegExp(`message ${id} given back `
        + 'unsent \\(not sent: the send could not start \\(curl_multi_add_'
        + 'handle: Out of memory\\)\\), due in (\\d+) ms', 'g'))]
        .map((m) => Number(m[1]));
    assert.deepEqual(waits, [1000, 2000, 4000]);
    assertStartTroubleToldOnce(log, FAILS);
    assert.match(log, new RegExp(`sending message ${id} \\(attempt 1\\)`));
    assert.doesNotMatch(log, /failed|carrier_unavailable/);
});

errorLogIsCleanTest(ctx);
