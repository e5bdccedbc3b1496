// The carrier simulator against the real inbox (nginx with the module,
// SQLite): what a contact texts through it lands in the inbox, so its
// webhooks are ones the inbox's own signature check accepts.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { uniqueNumber } from '../lib/cluster.mjs';
import { startCarrierSim } from '../lib/carrier-sim.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, TWIML_EMPTY } from '../lib/inbox.mjs';

const ctx = useCluster({ orgs: [{ name: 'Simulated Org' }] });
let sim;

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    sim = await startCarrierSim({ config: {
        inbox: cluster.baseUrl,
        twilio: { accounts: { [org.accountSid]: org.authToken } },
        numbers: [{ number: org.number, carrier: 'twilio',
                    account: org.accountSid }],
    } });
});

after(async () => {
    await sim?.stop();
});

async function messagesOf(phone) {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === phone);
    assert.ok(conv, `a conversation with ${phone}`);
    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    assert.equal(msgs.status, 200, msgs.text);
    return msgs.json.items;
}

test('a contact\'s SMS through the simulator is accepted and shows in the '
     + 'inbox', async () => {
    const from = uniqueNumber();
    const { message, webhook } = await sim.inbound({
        from, body: 'Hi! Do you open on Sundays? 🙂' });
    assert.equal(webhook.state, 'delivered');
    const [attempt] = webhook.attempts;
    assert.equal(attempt.response.status, 200);
    assert.match(attempt.response.body, TWIML_EMPTY);
    const [m] = await messagesOf(from);
    assert.equal(m.direction, 'inbound');
    assert.equal(m.body, 'Hi! Do you open on Sundays? 🙂');
    assert.deepEqual([message.delivery.state, message.delivery.status],
                     ['delivered', 200]);
});

test('an MMS through the simulator keeps every picture, at URLs the '
     + 'account\'s credentials fetch', async () => {
    const org = ctx.cluster.orgs[0];
    const from = uniqueNumber();
    const { webhook } = await sim.inbound({
        from, body: 'these two', media: ['landscape.png', 'sunset.jpg'] });
    assert.equal(webhook.state, 'delivered');
    const [m] = await messagesOf(from);
    assert.deepEqual(m.media.map((x) => x.content_type),
                     ['image/png', 'image/jpeg']);
    const auth = `Basic ${Buffer.from(`${org.accountSid}:${org.authToken}`)
        .toString('base64')}`;
    for (const { url, content_type: type } of m.media) {
        assert.ok(url.startsWith(sim.url), url);
        assert.equal((await fetch(url)).status, 401);
        const got = await fetch(url, { headers: { Authorization: auth } });
        assert.equal(got.status, 200);
        assert.equal(got.headers.get('content-type'), type);
        await got.arrayBuffer();
    }
});

test('webhooks signed with another token are refused by the inbox and '
     + 'not retried', async () => {
    const org = ctx.cluster.orgs[0];
    await sim.configure({ twilio: { accounts: {
        [org.accountSid]: 'f'.repeat(32) } } });
    try {
        const from = uniqueNumber();
        const { webhook } = await sim.inbound({ from, body: 'forged' });
        assert.equal(webhook.state, 'refused');
        assert.equal(webhook.attempts.length, 1);
        assert.equal(webhook.attempts[0].response.status, 403);
        const list = await api(ctx.cluster,
                               '/api/v1/conversations?limit=200', org.token);
        assert.ok(!list.json.items.some((c) => c.contact.phone === from));
    } finally {
        await sim.configure({ twilio: { accounts: {
            [org.accountSid]: org.authToken } } });
    }
});

errorLogIsCleanTest(ctx);
