// Replies from the inbox, through real nginx and SQLite (no sender runs
// here: accepted messages stay queued): POST …/messages and its refusals
// (402 with needed and balance, 403 billing_inactive, 409
// contact_opted_out, 400 for what cannot be sent, 404 for another
// organization's thread), an MMS's price, an unlimited plan's sends,
// Idempotency-Key retries, fifty replies at once with credits for ten,
// the composer's estimate, billing and its ledger, and the one free text
// a STOP or HELP is answered with.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { before, test } from 'node:test';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, connectWs, deliverInbound, inboundForm,
         postWebhook, newMessageSid, ISO_Z } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';
import { png, upload } from '../lib/media.mjs';

const ctx = useCluster({ orgs: [{ name: 'Acme Dental' }, { name: 'Org B' }] });
const orgA = () => ctx.cluster.orgs[0];
const orgB = () => ctx.cluster.orgs[1];

let member;       // a member's session cookie (org A)
let memberId;     // and its user id
let billing;      // a billing user's session cookie

async function call(path, opts = {}, token = orgA().token) {
    return api(ctx.cluster, path, token, opts);
}

async function ok(path, opts = {}, token = orgA().token) {
    const res = await call(path, opts, token);
    assert.equal(res.status, 200, res.text);
    return res.json;
}

// POST …/messages with a bearer token; headers adds Idempotency-Key etc.
function send(conv, body, { token = orgA().token, headers = {} } = {}) {
    return api(ctx.cluster, `/api/v1/conversations/${conv.id}/messages`,
               token, { method: 'POST', body, headers });
}

async function grant(org, n) {
    await inboxctl(ctx.cluster.store, 'credits', 'grant', org.id, String(n));
}

async function billingOf(token = orgA().token) {
    return ok('/api/v1/billing', {}, token);
}

// Spends whatever balance org A has left on a thread of its own, so a
// test starts from a known balance.
async function spendAll() {
    const { credits } = await billingOf();
    if (credits.balance > 0) {
        const conv = await newThread();
        for (let i = 0; i < credits.balance; i++) {
            const res = await send(conv, { body: `filler ${i}` });
            assert.equal(res.status, 201, res.text);
        }
    }
    assert.equal((await billingOf()).credits.balance, 0);
}

// POST …/messages with the Idempotency-Key header once per key given (fetch
// would join them into one).
function postTwiceKeyed(conv, body, keys) {
    const { port } = new URL(ctx.cluster.baseUrl);
    return new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST',
            path: `/api/v1/conversations/${conv.id}/messages`,
            headers: { Authorization: `Bearer ${orgA().token}`,
                       'Content-Type': 'application/json',
                       'Idempotency-Key': keys } },
        (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { text += d; });
            res.on('end', () => resolve({ status: res.statusCode, text,
                                          json: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
    });
}

// A new number texts org's number; resolves with its conversation.
async function newThread(body = 'hi there', org = orgA()) {
    const phone = uniqueNumber();
    await deliverInbound(ctx.cluster, { org, from: phone, body });
    const list = await ok(`/api/v1/conversations?q=${phone.slice(2)}`, {},
                          org.token);
    const conv = list.items.find((c) => c.contact.phone === phone);
    assert.ok(conv, `the thread of ${phone}`);
    return conv;
}

async function messagesOf(conv, token = orgA().token) {
    return (await ok(`/api/v1/conversations/${conv.id}/messages`, {},
                     token)).items;
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, orgA(), 'max@acme.test', 'correct horse 1');
    await addUser(cluster, orgA(), 'bea@acme.test', 'correct horse 2',
                  'billing');
    member = (await login(cluster, 'max@acme.test', 'correct horse 1'))
        .cookie;
    billing = (await login(cluster, 'bea@acme.test', 'correct horse 2'))
        .cookie;
    assert.ok(member && billing);
    const me = await sessionApi(cluster, '/api/v1/me', member);
    memberId = me.json.user.id;
});

test('a reply is 201 at once, queued with its segments, credits and '
    + 'sender, ends the unresponded thread and is pushed live', async () => {
    await grant(orgA(), 5);
    const conv = await newThread('are you open on Saturday?');
    const before = await billingOf();
    const tabs = (await ok('/api/v1/conversations')).counts;
    const ws = await connectWs(ctx.cluster, orgA().token);
    try {
        await ws.waitForTypes(['hello']);

        const res = await sessionApi(ctx.cluster,
            `/api/v1/conversations/${conv.id}/messages`, member,
            { method: 'POST', body: { body: 'Yes, 9 to 1.' } });
        assert.equal(res.status, 201, res.text);
        const m = res.json;
        assert.match(m.id, /^[A-Za-z0-9_-]+$/);
        assert.equal(m.conversation_id, conv.id);
        assert.equal(m.direction, 'outbound');
        assert.equal(m.body, 'Yes, 9 to 1.');
        assert.deepEqual(m.media, []);
        assert.equal(m.status, 'queued');
        assert.equal(m.error_code, null);
        assert.equal(m.segments, 1);
        assert.equal(m.credits, 1);
        assert.equal(m.sent_by, memberId);
        assert.match(m.created_at, ISO_Z);

        // the thread: its last message, answered; the list agrees
        const items = await messagesOf(conv);
        assert.equal(items[0].id, m.id);
        assert.equal(items[0].status, 'queued');
        const list = await ok('/api/v1/conversations');
        const c = list.items.find((x) => x.id === conv.id);
        assert.equal(c.last_message.id, m.id);
        assert.equal(c.last_message.direction, 'outbound');
        assert.equal(c.last_message.preview, 'Yes, 9 to 1.');
        assert.equal(list.counts.unresponded, tabs.unresponded - 1);
        const unresponded = await ok(
            '/api/v1/conversations?filter=unresponded');
        assert.ok(!unresponded.items.some((x) => x.id === conv.id));

        // every browser of the organization sees it
        const frames = await ws.waitFor((fs) => fs.some(
            (f) => f.type === 'message.created' && f.message.id === m.id)
            && fs.some((f) => f.type === 'conversation.updated'
                && f.conversation.last_message?.id === m.id),
            5000, 'the reply\'s frames');
        const created = frames.find((f) => f.type === 'message.created'
            && f.message.id === m.id);
        assert.deepEqual(created.message, m);
        assert.equal(created.conversation.id, conv.id);

        // the credit is held at once
        const after = await billingOf();
        assert.equal(after.credits.balance, before.credits.balance - 1);
        assert.equal(after.credits.held, before.credits.held + 1);

        // an organization-wide token sends as nobody in particular
        const byToken = await send(conv, { body: 'See you then' });
        assert.equal(byToken.status, 201, byToken.text);
        assert.equal(byToken.json.sent_by, null);
    } finally {
        ws.close();
    }
});

test('402 insufficient_credits with needed and balance; nothing is '
    + 'spent or stored', async () => {
    await spendAll();
    await grant(orgA(), 1);
    const conv = await newThread();
    const { id } = await upload(ctx.cluster, png(), {
        Authorization: `Bearer ${orgA().token}` }).then((r) => r.json);

    const err = assertError(await send(conv, { body: 'a picture',
        media_ids: [id] }), 402, 'insufficient_credits');
    assert.equal(err.needed, 2);
    assert.equal(err.balance, 1);
    // for any client, in the product's words for a billing refusal
    assert.equal(err.message, 'This message needs 2 credits and 1 is left; '
        + 'contact your billing admin.');

    assert.equal((await billingOf()).credits.balance, 1);
    assert.equal((await messagesOf(conv)).length, 1);

    // the one credit pays for an SMS
    assert.equal((await send(conv, { body: 'text only' })).status, 201);
    assert.match(assertError(await send(conv, { body: 'one more' }), 402,
                             'insufficient_credits').message,
                 /needs 1 credit and 0 are left/);
    assert.equal((await billingOf()).credits.balance, 0);
});

test('403 billing_inactive while billing lapsed, whatever the balance',
    async () => {
        await grant(orgA(), 3);
        const conv = await newThread();
        await inboxctl(ctx.cluster.store, 'billing', 'set', orgA().id,
                       'inactive');
        try {
            const err = assertError(await send(conv, { body: 'hello' }), 403,
                                    'billing_inactive');
            assert.equal(err.message, 'Billing is inactive, so nothing '
                + 'can be sent; contact your billing admin.');
            assert.equal((await billingOf()).active, false);
            assert.equal((await messagesOf(conv)).length, 1);
        } finally {
            await inboxctl(ctx.cluster.store, 'billing', 'set', orgA().id,
                           'active');
        }
        assert.equal((await send(conv, { body: 'hello' })).status, 201);
    });

test('on an unlimited plan an SMS and an MMS go with an empty balance, '
    + 'hold nothing and add no ledger entry; a lapsed subscription still '
    + 'sends nothing; back on per_message the balance counts', async () => {
    await spendAll();
    const conv = await newThread();
    const ledgerTop = async () => (await sessionApi(ctx.cluster,
        '/api/v1/billing/ledger?limit=1', billing)).json.items[0];
    const before = await ledgerTop();
    const { held } = (await billingOf()).credits;

    await inboxctl(ctx.cluster.store, 'billing', 'plan', orgA().id,
                   'unlimited');
    try {
        assert.equal((await billingOf()).plan, 'unlimited');

        const sms = await send(conv, { body: 'on the house' });
        assert.equal(sms.status, 201, sms.text);
        assert.equal(sms.json.credits, 0);
        const up = await upload(ctx.cluster, png(8, 8), {
            Authorization: `Bearer ${orgA().token}` });
        const mms = await send(conv, { media_ids: [up.json.id] });
        assert.equal(mms.status, 201, mms.text);
        assert.equal(mms.json.credits, 0);
        // a picture alone with its body null, as "" or none
        const pictured = await send(conv, { body: null,
                                            media_ids: [up.json.id] });
        assert.equal(pictured.status, 201, pictured.text);
        assert.equal(pictured.json.body, '');
        assert.equal(pictured.json.media.length, 1);

        assert.deepEqual((await billingOf()).credits, { balance: 0, held });
        assert.deepEqual(await ledgerTop(), before);

        // what a campaign to everyone would take: nothing, on this plan
        const est = await ok('/api/v1/campaigns/estimate', { method: 'POST',
            body: { name: 'x', body: 'Sale!', audience: { all: true } } });
        assert.equal(est.plan, 'unlimited');
        assert.equal(est.credits, 0);
        assert.equal(est.total_credits, 0);

        await inboxctl(ctx.cluster.store, 'billing', 'set', orgA().id,
                       'inactive');
        assertError(await send(conv, { body: 'lapsed' }), 403,
                    'billing_inactive');
    } finally {
        await inboxctl(ctx.cluster.store, 'billing', 'set', orgA().id,
                       'active');
        await inboxctl(ctx.cluster.store, 'billing', 'plan', orgA().id,
                       'per_message');
    }

    assert.equal((await billingOf()).plan, 'per_message');
    assert.equal(assertError(await send(conv, { body: 'paid again' }), 402,
                             'insufficient_credits').needed, 1);
    await assert.rejects(inboxctl(ctx.cluster.store, 'billing', 'plan',
                                  orgA().id, 'both'),
                         /the plan is per_message or unlimited/);
});

test('409 contact_opted_out once the thread was opted out', async () => {
    await grant(orgA(), 1);
    const conv = await newThread();
    await ok(`/api/v1/conversations/${conv.id}/opt-out`, { method: 'POST' });
    const before = await billingOf();

    assertError(await send(conv, { body: 'are you sure?' }), 409,
                'contact_opted_out');
    assert.deepEqual(await billingOf(), before);
    assert.equal((await messagesOf(conv)).length, 1);
});

test('a reply written before the thread\'s newest message is 409 stale '
    + 'and stores and charges nothing; with the newest id or without the '
    + 'field it is sent', async () => {
    await grant(orgA(), 3);
    const conv = await newThread('is 3pm ok?');
    const [first] = await messagesOf(conv);

    // seen the newest: sent
    let res = await send(conv, { body: 'yes', last_seen_message_id:
                                 first.id });
    assert.equal(res.status, 201, res.text);
    const mine = res.json;

    // a colleague wrote meanwhile, then the contact: stale
    await deliverInbound(ctx.cluster, { org: orgA(),
                                        from: conv.contact.phone,
                                        body: 'actually, 4pm?' });
    const newest = (await messagesOf(conv))[0];
    assert.equal(newest.direction, 'inbound');
    const before = await billingOf();
    const count = (await messagesOf(conv)).length;

    for (const seen of [first.id, mine.id]) {
        res = await send(conv, { body: 'great, see you', last_seen_message_id:
                                 seen });
        const error = assertError(res, 409, 'stale');
        assert.equal(error.last_message_id, newest.id);
        assert.equal(error.field, 'last_seen_message_id');
        assert.match(error.message, /newer message/);
    }
    assert.deepEqual(await billingOf(), before);
    assert.equal((await messagesOf(conv)).length, count);

    // a malformed id is a 400, as any field of the wrong kind
    assertError(await send(conv, { body: 'x', last_seen_message_id: 7 }),
                400, 'invalid_request');

    // seen it now: sent; without the field: as before
    res = await send(conv, { body: '4pm works', last_seen_message_id:
                             newest.id });
    assert.equal(res.status, 201, res.text);
    res = await send(conv, { body: 'see you then' });
    assert.equal(res.status, 201, res.text);
    assert.equal((await billingOf()).credits.balance,
                 before.credits.balance - 2);
});

test('what cannot be sent is 400 naming the field; another organization\'s '
    + 'thread is 404; nothing is stored', async () => {
    await grant(orgA(), 1);
    const conv = await newThread();
    const before = await billingOf();
    const theirs = await newThread('hi', orgB());
    const mine = await upload(ctx.cluster, png(), {
        Authorization: `Bearer ${orgA().token}` });
    const other = await upload(ctx.cluster, png(), {
        Authorization: `Bearer ${orgB().token}` });
    assert.equal(mine.status, 201);
    assert.equal(other.status, 201);

    const cases = [
        [{ body: '' }, 'body'],
        [{ body: '   \n ' }, 'body'],
        [{}, 'body'],
        [{ body: null }, 'body'],
        [{ body: 'a'.repeat(1601) }, 'body'],
        // an upload the organization lacks is named by its index
        [{ body: 'x', media_ids: ['12345678'] }, 'media_ids.0'],
        [{ body: 'x', media_ids: ['nope!'] }, 'media_ids.0'],
        [{ body: 'x', media_ids: [other.json.id] }, 'media_ids.0'],
        [{ body: 'x', media_ids: [mine.json.id, other.json.id] },
         'media_ids.1'],
        [{ body: 'x', media_ids: Array(11).fill(mine.json.id) },
         'media_ids'],
        [{ body: 7 }, 'body'],
        [{ body: 'x', to: '+15551234567' }, 'to'],
    ];
    for (const [body, field] of cases) {
        const err = assertError(await send(conv, body), 400,
                                'invalid_request');
        assert.equal(err.field, field, JSON.stringify(body));
    }

    // not JSON at all
    const raw = await fetch(ctx.cluster.url(
        `/api/v1/conversations/${conv.id}/messages`), {
        method: 'POST', body: 'hello',
        headers: { Authorization: `Bearer ${orgA().token}`,
                   'Content-Type': 'text/plain' } });
    assert.equal(raw.status, 415);

    assertError(await send(theirs, { body: 'hi' }), 404, 'not_found');
    assertError(await send({ id: 'nope!' }, { body: 'hi' }), 404,
                'not_found');
    assertError(await send(conv, { body: 'hi' }, { token: null }), 401);
    assertError(await sessionApi(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`, member,
        { method: 'POST', body: { body: 'hi' }, csrf: false }), 403,
        'forbidden');

    assert.deepEqual(await billingOf(), before);
    assert.equal((await messagesOf(conv)).length, 1);
    assert.equal((await messagesOf(theirs, orgB().token)).length, 1);
});

test('an SMS is at most 10 segments: a 1,700-character reply is 400 naming '
    + 'body, saying 12 segments and the limit, nothing charged or stored; '
    + '1,530 characters (10 segments) go; the estimate warns the same',
async () => {
    await grant(orgA(), 4);
    const conv = await newThread();
    const before = await billingOf();

    // plain GSM-7: Telnyx would refuse it (40302) and carriers do not
    // deliver 12 parts; said so, not as Twilio's 1600 (shortening by
    // 100 would not make it go)
    const over = await send(conv, { body: 'a'.repeat(1700) });
    const err = assertError(over, 400, 'invalid_request');
    assert.equal(err.field, 'body');
    assert.equal(err.message, 'The message is 12 segments (GSM-7): the '
                 + 'limit is 10, so shorten it.');
    assert.deepEqual(await billingOf(), before);
    assert.equal((await messagesOf(conv)).length, 1);

    // UCS-2 parts are 67: 671 Cyrillic letters are 11
    const cyrillic = assertError(await send(conv,
        { body: '\u0436'.repeat(671) }), 400, 'invalid_request');
    assert.match(cyrillic.message, /11 segments \(UCS-2\)/);
    assert.deepEqual(await billingOf(), before);

    // the composer's estimate says so before a send, and still counts
    const estimate = (body) => call('/api/v1/messages/estimate',
                                    { method: 'POST', body });
    let e = await estimate({ body: 'a'.repeat(1700) });
    assert.equal(e.status, 200, e.text);
    assert.equal(e.json.refused, err.message);
    assert.equal(e.json.segments, 12);
    // an MMS is one message: no segment limit
    e = await estimate({ body: 'a'.repeat(1600), media_count: 1 });
    assert.equal(e.json.refused, null);

    // the most an SMS may be
    const res = await send(conv, { body: 'a'.repeat(1530) });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.segments, 10);
    assert.equal(res.json.credits, 4);
    assert.equal((await billingOf()).credits.held, before.credits.held + 4);
});

test('the text of an MMS is as long as the carrier counts it: 800 emoji (1600 '
    + 'UTF-16 units) go, 900 are 400 naming body, saying by how much, and '
    + 'the estimate warns the same', async () => {
    await grant(orgA(), 2);
    const conv = await newThread();
    const before = await billingOf();
    const up = await upload(ctx.cluster, png(8, 8), {
        Authorization: `Bearer ${orgA().token}` });
    assert.equal(up.status, 201, up.text);
    const mms = (body) => send(conv, { body, media_ids: [up.json.id] });

    // 900 code points, but 1800 units: Twilio would refuse it (21617)
    const err = assertError(await mms('\u{1F44B}'.repeat(900)), 400,
                            'invalid_request');
    assert.equal(err.field, 'body');
    assert.match(err.message, /200 characters too long/);
    assert.match(err.message, /1600/);
    assert.match(err.message, /emoji as 2/);
    assert.deepEqual(await billingOf(), before);
    assert.equal((await messagesOf(conv)).length, 1);

    const estimate = (body) => call('/api/v1/messages/estimate',
                                    { method: 'POST', body });
    let e = await estimate({ body: '\u{1F44B}'.repeat(900), media_count: 1 });
    assert.equal(e.status, 200, e.text);
    assert.equal(e.json.refused, err.message);
    e = await estimate({ body: '\u{1F44B}'.repeat(800), media_count: 1 });
    assert.equal(e.json.refused, null);
    // as an SMS the same text is far past 10 segments
    e = await estimate({ body: '\u{1F44B}'.repeat(800) });
    assert.match(e.json.refused, /25 segments \(UCS-2\)/);

    // the most the carrier takes
    const res = await mms('\u{1F44B}'.repeat(800));
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.credits, 2);
    assert.equal(res.json.segments, 1);
    assert.equal((await billingOf()).credits.held, before.credits.held + 2);
});

test('an MMS with an uploaded image costs 2 credits whatever its text, and '
    + 'shows the image', async () => {
    await spendAll();
    await grant(orgA(), 2);
    const conv = await newThread();
    const { held } = (await billingOf()).credits;
    const up = await upload(ctx.cluster, png(16, 16), {
        Authorization: `Bearer ${orgA().token}` });
    assert.equal(up.status, 201, up.text);

    const res = await send(conv, { body: 'here it is '.repeat(40),
                                   media_ids: [up.json.id] });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.credits, 2);
    assert.equal(res.json.segments, 1);
    assert.equal(res.json.media.length, 1);
    const [media] = res.json.media;
    assert.equal(media.content_type, 'image/png');
    assert.equal(media.state, 'stored');
    assert.equal(media.url, up.json.url);
    assert.deepEqual((await billingOf()).credits,
                     { balance: 0, held: held + 2 });

    // the image is served where the message says
    const img = await fetch(new URL(media.url, ctx.cluster.baseUrl));
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/png');

    // a picture alone is a message too
    await grant(orgA(), 2);
    const alone = await send(conv, { media_ids: [up.json.id] });
    assert.equal(alone.status, 201, alone.text);
    assert.equal(alone.json.body, '');
    assert.equal(alone.json.credits, 2);
    const list = await ok('/api/v1/conversations');
    const last = list.items.find((x) => x.id === conv.id).last_message;
    assert.equal(last.preview, '');
    assert.equal(last.media_type, 'image/png');
});

test('an Idempotency-Key retry answers the first message and spends once; '
    + 'the same key for another message is 409', async () => {
    await spendAll();
    await grant(orgA(), 3);
    const conv = await newThread();
    const key = `retry-${newMessageSid()}`;
    const headers = { 'Idempotency-Key': key };

    const first = await send(conv, { body: 'On my way' }, { headers });
    assert.equal(first.status, 201, first.text);
    const again = await send(conv, { body: 'On my way' }, { headers });
    assert.equal(again.status, 201, again.text);
    assert.deepEqual(again.json, first.json);
    assert.equal((await billingOf()).credits.balance, 2);
    assert.equal((await messagesOf(conv)).length, 2);

    const err = assertError(await send(conv, { body: 'On my way!' },
                                       { headers }), 409, 'conflict');
    assert.equal(err.field, 'idempotency_key');
    assert.equal((await billingOf()).credits.balance, 2);

    // malformed keys, and two of them, are refused naming the header
    for (const bad of ['two words', 'k'.repeat(256), '']) {
        const res = await send(conv, { body: 'x' },
                               { headers: { 'Idempotency-Key': bad } });
        assert.equal(assertError(res, 400, 'invalid_request').field,
                     'idempotency_key', bad);
    }
    const twice = await postTwiceKeyed(conv, { body: 'x' }, ['a', 'b']);
    assert.equal(twice.status, 400, twice.text);
    assert.equal(twice.json.error.field, 'idempotency_key', twice.text);
    assert.equal((await billingOf()).credits.balance, 2);
    assert.equal((await messagesOf(conv)).length, 2);
});

test('fifty replies at once with credits for ten: exactly ten are '
    + 'accepted, forty are 402, the balance ends at zero', async () => {
    await spendAll();
    await grant(orgA(), 10);
    const conv = await newThread();
    const held = (await billingOf()).credits.held;

    const answers = await Promise.all(Array.from({ length: 50 },
        (_, i) => send(conv, { body: `reply ${i}` })));
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 10,
                 JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 402).length, 40,
                 JSON.stringify(statuses));
    for (const r of answers.filter((a) => a.status === 402)) {
        assert.equal(r.json.error.code, 'insufficient_credits');
        assert.equal(r.json.error.needed, 1);
        assert.equal(r.json.error.balance, 0);
    }

    const after = await billingOf();
    assert.equal(after.credits.balance, 0);
    assert.equal(after.credits.held, held + 10);
    assert.equal((await messagesOf(conv)).length, 11);
});

test('the estimate counts GSM-7, names what made a body UCS-2 and splits '
    + 'at 160', async () => {
    const estimate = (body, token = orgA().token) => api(ctx.cluster,
        '/api/v1/messages/estimate', token, { method: 'POST', body });

    let res = await estimate({ body: 'See you at 3 {ok}' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { encoding: 'GSM-7', segments: 1,
        characters: 17, remaining: 141, credits: 1, ucs2_because: null,
        refused: null });

    res = await estimate({ body: 'Thanks \u{1F44D}\u{1F3FD} see you' });
    assert.deepEqual(res.json, { encoding: 'UCS-2', segments: 1,
        characters: 16, remaining: 51, credits: 1,
        ucs2_because: '\u{1F44D}\u{1F3FD}', refused: null });

    res = await estimate({ body: 'a'.repeat(161) });
    assert.deepEqual(res.json, { encoding: 'GSM-7', segments: 2,
        characters: 161, remaining: 145, credits: 1, ucs2_because: null,
        refused: null });

    res = await estimate({ body: 'x'.repeat(481) });
    assert.equal(res.json.credits, 2);
    res = await estimate({ body: 'hi', media_count: 1 });
    assert.equal(res.json.credits, 2);
    res = await estimate({ body: '' });
    const { refused, ...count } = res.json;
    assert.deepEqual(count, { encoding: 'GSM-7', segments: 0,
        characters: 0, remaining: 160, credits: 0, ucs2_because: null });
    assert.match(refused, /empty/);

    assert.equal(assertError(await estimate({ body: 'x', media_count: 11 }),
                             400, 'invalid_request').field, 'media_count');
    assertError(await estimate({ body: 'x' }, null), 401);
    const bySession = await sessionApi(ctx.cluster,
        '/api/v1/messages/estimate', member,
        { method: 'POST', body: { body: 'caf\u00e9' } });
    assert.equal(bySession.status, 200, bySession.text);
    assert.equal(bySession.json.encoding, 'GSM-7');
});

test('billing for anyone of the organization; the ledger for its billing '
    + 'users only', async () => {
    const a = await billingOf();
    assert.equal(a.active, true);
    assert.equal(a.plan, 'per_message');
    assert.equal(typeof a.credits.balance, 'number');
    assert.equal(typeof a.credits.held, 'number');

    const res = await sessionApi(ctx.cluster, '/api/v1/billing', member);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, a);
    assert.deepEqual((await billingOf(orgB().token)).credits,
                     { balance: 0, held: 0 });

    // a member and an organization-wide token may not read the ledger
    assert.equal(assertError(await sessionApi(ctx.cluster,
        '/api/v1/billing/ledger', member), 403, 'forbidden').message,
        'Only a billing admin can do this; contact your billing admin.');
    assertError(await call('/api/v1/billing/ledger'), 403, 'forbidden');

    await grant(orgA(), 4);
    const page = await sessionApi(ctx.cluster,
        '/api/v1/billing/ledger?limit=2', billing);
    assert.equal(page.status, 200, page.text);
    assert.equal(page.json.items.length, 2);
    const [newest] = page.json.items;
    assert.equal(newest.kind, 'grant');
    assert.equal(newest.credits, 4);
    assert.equal(newest.message_id, null);
    assert.equal(newest.campaign, null);
    assert.equal(newest.balance, (await billingOf()).credits.balance);
    assert.match(newest.at, ISO_Z);
    assert.equal(typeof page.json.next_cursor, 'string');

    // the whole ledger adds up to the balance and what is held
    let balance = 0;
    let held = 0;
    let cursor = '';
    do {
        const p = await sessionApi(ctx.cluster, '/api/v1/billing/ledger?'
            + `limit=200&cursor=${encodeURIComponent(cursor)}`, billing);
        assert.equal(p.status, 200, p.text);
        for (const e of p.json.items) {
            balance += { grant: 1, hold: -1, release: 1, capture: 0 }[e.kind]
                * e.credits;
            held += { grant: 0, hold: 1, release: -1, capture: -1 }[e.kind]
                * e.credits;
        }
        cursor = p.json.next_cursor;
    } while (cursor);
    assert.deepEqual({ balance, held }, (await billingOf()).credits);

    assert.equal(assertError(await sessionApi(ctx.cluster,
        '/api/v1/billing/ledger?limit=0', billing), 400,
        'invalid_request').field, 'limit');
    assertError(await call('/api/v1/billing', { method: 'POST' }), 405);
});

test('a STOP queues exactly one free confirmation naming the business; a '
    + 'retried STOP queues none; HELP answers with the help text',
    async () => {
        await spendAll();
        await inboxctl(ctx.cluster.store, 'billing', 'set', orgA().id,
                       'inactive');
        try {
            const set = await sessionApi(ctx.cluster, '/api/v1/settings',
                billing, { method: 'PATCH',
                    body: { business_name: 'Acme Dental',
                            support_contact: 'help@acme.test' } });
            assert.equal(set.status, 200, set.text);
            const ledger = async () => (await sessionApi(ctx.cluster,
                '/api/v1/billing/ledger?limit=1', billing)).json.items;
            const ledgerBefore = await ledger();

            const phone = uniqueNumber();
            const ws = await connectWs(ctx.cluster, orgA().token);
            let conv;
            try {
                await ws.waitForTypes(['hello']);
                const pairs = inboundForm({ org: orgA(), from: phone,
                                            body: 'STOP' });
                const first = await postWebhook(ctx.cluster, pairs,
                    { authToken: orgA().authToken });
                assert.equal(first.status, 200, first.text);

                const list = await ok(
                    `/api/v1/conversations?q=${phone.slice(2)}`);
                conv = list.items.find((c) => c.contact.phone === phone);
                assert.equal(conv.contact.opted_out, true);

                const items = await messagesOf(conv);
                assert.equal(items.length, 2, JSON.stringify(items));
                const [notice, stop] = items;
                assert.equal(stop.direction, 'inbound');
                assert.equal(stop.body, 'STOP');
                assert.equal(notice.direction, 'outbound');
                assert.equal(notice.status, 'queued');
                assert.equal(notice.credits, 0);
                assert.equal(notice.sent_by, null);
                assert.match(notice.body, /^Acme Dental: /);
                assert.match(notice.body, /no further messages/);
                assert.match(notice.body, /START/);

                // pushed like any message
                await ws.waitFor((fs) => fs.some((f) =>
                    f.type === 'message.created'
                    && f.message.id === notice.id), 5000, 'the notice');

                // the carrier retries the same STOP: nothing more
                const again = await postWebhook(ctx.cluster, pairs,
                    { authToken: orgA().authToken });
                assert.equal(again.status, 200, again.text);
                // and a second STOP changes nothing: no second answer
                await deliverInbound(ctx.cluster, { from: phone,
                                                    body: 'stop' });
                const later = await messagesOf(conv);
                assert.equal(later.length, 3);
                assert.equal(later.filter((m) => m.direction
                    === 'outbound').length, 1);
            } finally {
                ws.close();
            }

            // free: the balance and the ledger did not move
            assert.equal((await billingOf()).credits.balance, 0);
            assert.deepEqual(await ledger(), ledgerBefore);

            // START opts back in, with its own confirmation
            await deliverInbound(ctx.cluster, { from: phone,
                                                body: 'Start' });
            let items = await messagesOf(conv);
            assert.equal(items[0].direction, 'outbound');
            assert.match(items[0].body, /subscribed again/);
            assert.equal(items[0].credits, 0);

            // HELP: the business, its support contact, how to stop
            await deliverInbound(ctx.cluster, { from: phone, body: 'help' });
            items = await messagesOf(conv);
            assert.equal(items[1].body, 'help');
            assert.equal(items[0].direction, 'outbound');
            assert.match(items[0].body, /Acme Dental/);
            assert.match(items[0].body, /help@acme\.test/);
            assert.match(items[0].body, /STOP/);
            assert.equal(items[0].credits, 0);

            // "yes" from a contact who never opted out is just a message
            const other = await newThread('are you coming?');
            await deliverInbound(ctx.cluster, { from: other.contact.phone,
                                                body: 'YES' });
            assert.ok((await messagesOf(other)).every(
                (m) => m.direction === 'inbound'));
        } finally {
            await inboxctl(ctx.cluster.store, 'billing', 'set', orgA().id,
                           'active');
        }
    });

errorLogIsCleanTest(ctx);
