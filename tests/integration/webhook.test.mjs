// Twilio's inbound webhook as the carrier sees it, and what the inbox then
// shows: stored once, signature checked, errors a carrier can act on.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, deliverInbound, inboundForm, ISO_Z,
         newMessageSid, postInbound, postWebhook, signTwilio,
         TWIML_EMPTY } from '../lib/inbox.mjs';

const ctx = useCluster({ orgs: [{ name: 'Webhook Org' }] });

async function conversationOf(cluster, token, phone) {
    const res = await api(cluster, '/api/v1/conversations?limit=200', token);
    assert.equal(res.status, 200, res.text);
    return res.json.items.find((c) => c.contact.phone === phone);
}

test('signTwilio matches Twilio\'s worked example', () => {
    const sig = signTwilio('https://mycompany.com/myapp.php?foo=1&bar=2', {
        CallSid: 'CA1234567890ABCDE', Caller: '+12349013030',
        Digits: '1234', From: '+12349013030', To: '+18005551212',
    }, '12345');
    assert.equal(sig, '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
});

test('/healthz answers 200', async () => {
    const res = await fetch(ctx.cluster.url('/healthz'));
    assert.equal(res.status, 200);
});

test('a signed inbound message is answered with empty TwiML and shows in '
    + 'the inbox', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const from = uniqueNumber();
    const body = 'Hi, is the blue jacket still in stock? ✓';
    const before = Date.now();

    const res = await postInbound(cluster, { from, body });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type'), /^text\/xml/);
    assert.match(res.text, TWIML_EMPTY);

    const conv = await conversationOf(cluster, org.token, from);
    assert.ok(conv, 'the conversation is listed');
    assert.equal(typeof conv.id, 'string');
    assert.equal(conv.contact.phone, from);
    assert.equal(conv.contact.name, null);
    assert.equal(conv.contact.opted_out, false);
    assert.equal(conv.unread_count, 1);
    assert.equal(conv.archived, false);
    assert.equal(conv.starred, false);
    assert.equal(conv.last_message.direction, 'inbound');
    assert.equal(conv.last_message.preview, body);
    assert.match(conv.last_message.at, ISO_Z);
    assert.match(conv.last_activity_at, ISO_Z);
    const at = Date.parse(conv.last_activity_at);
    assert.ok(at >= before - 2000 && at <= Date.now() + 2000,
        `last_activity_at ${conv.last_activity_at} is about now`);

    const one = await api(cluster, `/api/v1/conversations/${conv.id}`,
        org.token);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.id, conv.id);
    assert.equal(one.json.contact.phone, from);

    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    assert.equal(msgs.status, 200, msgs.text);
    assert.equal(msgs.json.items.length, 1);
    assert.equal(msgs.json.next_cursor, null);
    const m = msgs.json.items[0];
    assert.equal(typeof m.id, 'string');
    assert.equal(m.conversation_id, conv.id);
    assert.equal(m.direction, 'inbound');
    assert.equal(m.body, body);
    assert.deepEqual(m.media, []);
    assert.equal(m.status, null);
    assert.match(m.created_at, ISO_Z);
});

test('every image of an MMS is kept, in order', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const from = uniqueNumber();
    const media = [
        { url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/'
            + 'Media/ME1', content_type: 'image/jpeg' },
        { url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/'
            + 'Media/ME2', content_type: 'image/png' },
        { url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/'
            + 'Media/ME3', content_type: 'image/gif' },
    ];
    await deliverInbound(cluster, { from, body: 'three photos', media });

    const conv = await conversationOf(cluster, org.token, from);
    assert.ok(conv);
    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    assert.equal(msgs.status, 200, msgs.text);
    assert.equal(msgs.json.items.length, 1);
    assert.deepEqual(msgs.json.items[0].media, media);
    assert.equal(msgs.json.items[0].body, 'three photos');
});

test('unknown fields Twilio may add are ignored', async () => {
    const { cluster } = ctx;
    const from = uniqueNumber();
    await deliverInbound(cluster, { from, body: 'new field',
        extra: { SomeFutureField: 'x', AddOns: '{"status":"successful"}' } });
    assert.ok(await conversationOf(cluster, cluster.orgs[0].token, from));
});

test('the same MessageSid posted 5 times, then 5 times at once, is one '
    + 'message', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const from = uniqueNumber();
    const sid = newMessageSid();

    for (let i = 0; i < 5; i++) {
        const res = await postInbound(cluster, { from, sid, body: 'again' });
        assert.equal(res.status, 200, res.text);
        assert.match(res.text, TWIML_EMPTY);
    }
    let conv = await conversationOf(cluster, org.token, from);
    assert.equal(conv.unread_count, 1);

    const sid2 = newMessageSid();
    const all = await Promise.all(Array.from({ length: 5 }, () =>
        postInbound(cluster, { from, sid: sid2, body: 'at once' })));
    for (const res of all) {
        assert.equal(res.status, 200, res.text);
        assert.match(res.text, TWIML_EMPTY);
    }

    conv = await conversationOf(cluster, org.token, from);
    assert.equal(conv.unread_count, 2);
    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    assert.deepEqual(msgs.json.items.map((m) => m.body),
        ['at once', 'again']);
});

test('a repeated MessageSid alone leaves unread_count at 1', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const from = uniqueNumber();
    const sid = newMessageSid();
    await Promise.all(Array.from({ length: 5 }, () =>
        deliverInbound(cluster, { from, sid, body: 'once' })));
    await deliverInbound(cluster, { from, sid, body: 'once' });
    const conv = await conversationOf(cluster, org.token, from);
    assert.equal(conv.unread_count, 1);
    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    assert.equal(msgs.json.items.length, 1);
});

test('a wrong signature is 403 and nothing is stored', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const from = uniqueNumber();
    const pairs = inboundForm({ org, from, body: 'forged' });
    const res = await postWebhook(cluster, pairs,
        { authToken: 'not-the-token' });
    assertError(res, 403, 'forbidden');

    // signed right, but for another URL
    const other = signTwilio(cluster.url('/webhooks/twilio/other'), pairs,
        org.authToken);
    assertError(await postWebhook(cluster, pairs, { signature: other }),
        403, 'forbidden');

    // signed right, then a field changed in transit
    const sig = signTwilio(cluster.url('/webhooks/twilio/inbound'), pairs,
        org.authToken);
    const tampered = pairs.map(([k, v]) => [k, k === 'Body' ? 'changed' : v]);
    assertError(await postWebhook(cluster, tampered, { signature: sig }),
        403, 'forbidden');

    assert.equal(await conversationOf(cluster, org.token, from), undefined);
});

test('a missing signature is 403', async () => {
    const { cluster } = ctx;
    const from = uniqueNumber();
    const res = await postInbound(cluster, { from, body: 'unsigned',
        signature: null });
    assertError(res, 403, 'forbidden');
    assert.equal(await conversationOf(cluster, cluster.orgs[0].token, from),
        undefined);
});

test('a message to a number no organization has is 404', async () => {
    const { cluster } = ctx;
    const res = await postInbound(cluster, { from: uniqueNumber(),
        to: '+19995550100', body: 'who?' });
    assertError(res, 404, 'not_found');
});

test('a body without MessageSid and From is 400', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const pairs = [['To', org.number], ['Body', 'no sender'],
                   ['AccountSid', org.accountSid]];
    const res = await postWebhook(cluster, pairs,
        { authToken: org.authToken });
    assertError(res, 400, 'invalid_request');
});

test('a From that is not a phone number is 400', async () => {
    const { cluster } = ctx;
    const res = await postInbound(cluster, { from: 'not a number',
        body: 'x' });
    assertError(res, 400, 'invalid_request');
});

test('GET on the webhook is 405', async () => {
    const res = await fetch(ctx.cluster.url('/webhooks/twilio/inbound'));
    assert.equal(res.status, 405);
});

errorLogIsCleanTest(ctx);
