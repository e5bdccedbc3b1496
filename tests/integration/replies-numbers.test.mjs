// An organization with two numbers: a reply goes to the carrier from the
// number its contact last texted, not from the organization's first (the
// contact would get it from a number they never texted, through that
// number's carrier and rate).  A thread whose contact never texted goes
// from the first number.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';

const ctx = useCluster({ orgs: [{ name: 'Two Numbers' }], carrierSim: true,
                         sender: true });
let org;
let sim;
let second;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    sim = cluster.sim;
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100');
    second = uniqueNumber();
    await inboxctl(cluster.store, 'number', 'add', org.id, second,
        '--carrier', 'twilio', '--account-sid', org.accountSid,
        '--auth-token', org.authToken, '--api-base', sim.url);
    await sim.configure({ numbers: [{ number: second, carrier: 'twilio',
                                      account: org.accountSid }] });
});

async function threadOf(phone) {
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === phone);
    assert.ok(conv, `a thread with ${phone}`);
    return conv;
}

// Posts a reply and waits for its send: the From the carrier got.
async function replyFrom(convId, to, body) {
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${convId}/messages`, org.token,
        { method: 'POST', body: { body } });
    assert.equal(res.status, 201, res.text);
    const sent = async () => (await sim.requests({ kind: 'send' }))
        .map((r) => Object.fromEntries(r.form ?? []))
        .find((f) => f.To === to && f.Body === body);
    await eventually(async () => (await sent()) !== undefined, 8000);
    return (await sent()).From;
}

test('a reply to a contact who texted the second number goes from it, '
     + 'and follows the number they text next', async () => {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, to: second,
                                        body: 'hi second number' });
    const conv = await threadOf(from);

    assert.equal(await replyFrom(conv.id, from, 'our answer'), second);

    await deliverInbound(ctx.cluster, { from, body: 'now the first' });
    assert.equal(await replyFrom(conv.id, from, 'seen it'), org.number);

    // what the contact's phone got, each from the number it texted
    const msgs = await sim.messages({ contact: from });
    const ours = msgs.filter((m) => m.direction !== 'inbound')
        .map((m) => [m.from, m.body]);
    assert.deepEqual(ours.sort(), [[org.number, 'seen it'],
                                   [second, 'our answer']].sort());
});

test('a contact added by hand, who never texted, is answered from the '
     + 'first number', async () => {
    const phone = uniqueNumber();
    const res = await api(ctx.cluster, '/api/v1/contacts', org.token,
        { method: 'POST', body: { phone, name: 'Never Texted' } });
    assert.equal(res.status, 201, res.text);
    // its thread, in no list before a message, is the contact's
    assert.equal(await replyFrom(res.json.conversation_id, phone, 'welcome'),
                 org.number);
    // the first message lists it
    assert.equal((await threadOf(phone)).id, res.json.conversation_id);
});

errorLogIsCleanTest(ctx);
