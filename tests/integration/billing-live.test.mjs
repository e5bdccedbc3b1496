// A change of billing by inboxctl (credits granted, billing made active
// or inactive, the plan) reaches its organization's open sockets as a
// billing.updated frame carrying the billing as GET /api/v1/billing
// answers it, and no other organization's: inboxctl pushes nothing, so
// ws-server finds the event in the store at its look every 2 s.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, connectWs } from '../lib/inbox.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Corner Bakery' }, { name: 'Other Org' }],
});

// the store's look (2 s), on a loaded machine
const ARRIVES_MS = 10000;

let cluster, wsA, wsB;

// A socket of org, live: its hello came and it resumed from there, as
// the web app does.
async function liveSocket(org) {
    const ws = await connectWs(cluster, org.token);
    const hello = (await ws.waitForTypes(['hello']))[0];
    ws.send({ type: 'resume', epoch: hello.epoch, org_seq: hello.org_seq });
    return ws;
}

const billingFrames = (ws) =>
    ws.frames.filter((f) => f.type === 'billing.updated');

// The next billing.updated ws gets after the n it has.
async function nextBilling(ws, n) {
    await ws.waitFor((frames) => frames.filter(
        (f) => f.type === 'billing.updated').length > n, ARRIVES_MS,
        'billing.updated');
    return billingFrames(ws)[n];
}

async function billingOf(org) {
    const res = await api(cluster, '/api/v1/billing', org.token);
    assert.equal(res.status, 200, res.text);
    return res.json;
}

before(async () => {
    cluster = await ctx.ready;
    wsA = await liveSocket(cluster.orgs[0]);
    wsB = await liveSocket(cluster.orgs[1]);
});

test('a grant by inboxctl pushes billing.updated, with the new balance, '
     + 'to its organization\'s sockets only', async () => {
    const [orgA, orgB] = cluster.orgs;
    const hello = wsA.frames.find((f) => f.type === 'hello');

    await inboxctl(cluster.store, 'credits', 'grant', orgA.id, '7');
    const frame = await nextBilling(wsA, 0);
    assert.equal(frame.org_seq, hello.org_seq + 1);
    assert.equal(frame.epoch, hello.epoch);
    assert.deepEqual(frame.billing, {
        active: true, plan: 'per_message',
        credits: { balance: 7, held: 0 },
    });
    assert.deepEqual(frame.billing, await billingOf(orgA));

    // B's own grant after it: B's stream has that one alone, and A's
    // nothing of B's
    await inboxctl(cluster.store, 'credits', 'grant', orgB.id, '3');
    const other = await nextBilling(wsB, 0);
    assert.equal(other.billing.credits.balance, 3);
    assert.equal(billingFrames(wsB).length, 1);
    assert.equal(billingFrames(wsA).length, 1);
});

test('billing made inactive and active again, and a new plan, each push '
     + 'the billing as it is then', async () => {
    const org = cluster.orgs[0].id;
    let n = billingFrames(wsA).length;

    await inboxctl(cluster.store, 'billing', 'set', org, 'inactive');
    assert.equal((await nextBilling(wsA, n++)).billing.active, false);

    await inboxctl(cluster.store, 'billing', 'set', org, 'active');
    assert.equal((await nextBilling(wsA, n++)).billing.active, true);

    await inboxctl(cluster.store, 'billing', 'plan', org, 'unlimited');
    const frame = await nextBilling(wsA, n++);
    assert.deepEqual(frame.billing, {
        active: true, plan: 'unlimited', credits: { balance: 7, held: 0 },
    });

    assert.equal(billingFrames(wsB).length, 1);
    wsA.close();
    wsB.close();
});

errorLogIsCleanTest(ctx);
