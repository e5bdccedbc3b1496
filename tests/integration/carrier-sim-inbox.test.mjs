// The carrier simulator against the real inbox (nginx with the module,
// SQLite, the sender): what a contact texts through it lands in the
// inbox, so its webhooks are ones the inbox's own signature check
// accepts, and the pictures of an MMS are copied by the sender with the
// account's credentials.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { sleep, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, TWIML_EMPTY } from '../lib/inbox.mjs';

const ctx = useCluster({ orgs: [{ name: 'Simulated Org' }],
                         carrierSim: true, sender: true });
let sim;

before(async () => {
    sim = (await ctx.ready).sim;
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

test('an MMS through the simulator keeps every picture: the sender '
     + 'copies each with the account\'s credentials, and the inbox serves '
     + 'the copies', async () => {
    const org = ctx.cluster.orgs[0];
    const from = uniqueNumber();
    const { webhook, message } = await sim.inbound({
        from, body: 'these two', media: ['landscape.png', 'sunset.jpg'] });
    assert.equal(webhook.state, 'delivered');
    let media;
    const deadline = Date.now() + 15000;
    do {
        [{ media }] = await messagesOf(from);
        if (media.every((x) => x.state === 'stored')) {
            break;
        }
        await sleep(100);
    } while (Date.now() < deadline);
    assert.deepEqual(media.map((x) => [x.content_type, x.state]),
                     [['image/png', 'stored'], ['image/jpeg', 'stored']]);
    const auth = `Basic ${Buffer.from(`${org.accountSid}:${org.authToken}`)
        .toString('base64')}`;
    for (const [i, { url, content_type: type }] of media.entries()) {
        assert.match(url, /^\/media\/[A-Za-z0-9_-]{43}\.(png|jpg)$/);
        const copy = await fetch(ctx.cluster.url(url));
        assert.equal(copy.status, 200);
        assert.equal(copy.headers.get('content-type'), type);
        /* the same bytes the carrier keeps behind its credentials */
        const original = await fetch(message.media[i].url,
                                     { headers: { Authorization: auth } });
        assert.deepEqual(Buffer.from(await copy.arrayBuffer()),
                         Buffer.from(await original.arrayBuffer()));
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
