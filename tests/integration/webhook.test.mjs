// Twilio's inbound webhook as the carrier sees it, and what the inbox then
// shows: stored once, signature checked, errors a carrier can act on.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { inboxctl, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, connectWs, deliverInbound, eventually, formEncode,
         inboundForm, ISO_Z, newMessageSid, postInbound, postWebhook,
         signTwilio, TWIML_EMPTY } from '../lib/inbox.mjs';

const execFileAsync = promisify(execFile);

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
    // shown waiting for their copies (the carrier's URLs need its
    // credentials), kept with those URLs for the copies to be made
    assert.deepEqual(msgs.json.items[0].media, media.map((m) => ({
        url: null, content_type: m.content_type, state: 'pending',
        bytes: null })));
    const { stdout } = await execFileAsync(sqlite3Path, [cluster.storePath,
        'SELECT url FROM message_media WHERE message_id = '
        + `${Number(msgs.json.items[0].id)} ORDER BY idx`]);
    assert.deepEqual(stdout.trim().split('\n'), media.map((m) => m.url));
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

test('a webhook URL set at Twilio with a query string is accepted: the '
    + 'signature covers the query, as Twilio signs it', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const from = uniqueNumber();
    const pairs = inboundForm({ org, from, body: 'via ?source=' });
    const path = '/webhooks/twilio/inbound?source=twilio&x=%2F';
    const res = await postWebhook(cluster, pairs, { authToken: org.authToken,
                                                    path });
    assert.equal(res.status, 200, res.text);
    assert.ok(await conversationOf(cluster, org.token, from));

    // signed without the query: not the URL Twilio calls
    const bare = signTwilio(cluster.url('/webhooks/twilio/inbound'), pairs,
        org.authToken);
    assertError(await postWebhook(cluster, pairs, { path, signature: bare }),
        403, 'forbidden');
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

test('a number no organization has is answered like a forgery, and the '
    + 'log tells them apart', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const unknown = '+19995550100';

    // whoever probes numbers learns nothing: the same 403, the same body
    const res = await postInbound(cluster, { from: uniqueNumber(),
        to: unknown, body: 'who?', signature: null });
    assertError(res, 403, 'forbidden');
    const signed = await postInbound(cluster, { from: uniqueNumber(),
        to: unknown, body: 'who?' });
    assertError(signed, 403, 'forbidden');
    const forged = await postInbound(cluster, { from: uniqueNumber(),
        body: 'who?', signature: null });
    assertError(forged, 403, 'forbidden');
    assert.equal(res.text, forged.text);
    assert.equal(signed.text, forged.text);
    assert.ok(!res.text.includes(unknown), res.text);

    // the operator does, in the error log: at info for a number nobody
    // has; at warn for ours, once a minute per worker, else at info
    // (webhook-refusals.test.mjs)
    const log = cluster.errorLog().split('\n');
    assert.ok(log.some((l) => /\[info\]/.test(l) && l.includes(unknown)
        && /no organization/.test(l)), 'the unknown number is logged');
    assert.ok(log.some((l) => /\[(info|warn)\]/.test(l)
        && l.includes(org.number) && /missing X-Twilio-Signature/.test(l)),
        'the forgery to a known number is logged');
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

// The messages of from's conversation, [] when there is none.
async function messagesFrom(cluster, token, from) {
    const conv = await conversationOf(cluster, token, from);
    if (!conv) {
        return [];
    }
    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, token);
    assert.equal(msgs.status, 200, msgs.text);
    return msgs.json.items;
}

// A GET whose answer must be UTF-8 to the last byte and then strict JSON.
async function strictJson(cluster, path, token) {
    const res = await fetch(cluster.url(path),
        { headers: { Authorization: `Bearer ${token}` } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(res.status, 200);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return JSON.parse(text);
}

test('a signed webhook re-cut into other fields is refused and stores '
    + 'nothing', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const from = uniqueNumber();
    const sid = newMessageSid();
    const pairs = [['MessageSid', sid], ['NumMedia', '0'],
        ['AccountSid', org.accountSid], ['From', from], ['To', org.number],
        ['Body', 'captured']];
    const sig = signTwilio(cluster.url('/webhooks/twilio/inbound'), pairs,
        org.authToken);
    const ok = await postWebhook(cluster, pairs, { signature: sig });
    assert.equal(ok.status, 200, ok.text);

    // NumMedia's name moved into MessageSid's value: the same signature
    const recut = [['MessageSid', `${sid}NumMedia0`],
        ...pairs.slice(2)];
    assert.equal(signTwilio(cluster.url('/webhooks/twilio/inbound'), recut,
        org.authToken), sig);
    const err = assertError(await postWebhook(cluster, recut,
        { signature: sig }), 400, 'invalid_request');
    assert.equal(err.field, 'MessageSid');

    assert.equal((await messagesFrom(cluster, org.token, from)).length, 1);
});

test('only what Twilio sends is taken: SIDs, account, media fields',
    async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const from = uniqueNumber();
    const form = (change) => inboundForm({ org, from, body: 'shape' })
        .filter(([k]) => !(k in change) || change[k] !== undefined)
        .map(([k, v]) => [k, k in change ? change[k] : v]);
    const refused = async (pairs, status, code, field) => {
        const e = assertError(await postWebhook(cluster, pairs,
            { authToken: org.authToken }), status, code);
        assert.equal(e.field, field, JSON.stringify(e));
    };

    await refused(form({ MessageSid: 'SM1', SmsSid: 'SM1',
        SmsMessageSid: 'SM1' }), 400, 'invalid_request', 'MessageSid');
    await refused(form({ SmsSid: newMessageSid() }), 400, 'invalid_request',
        'SmsSid');
    await refused(form({ AccountSid: undefined }), 400, 'invalid_request',
        'AccountSid');
    await refused(form({ AccountSid: 'AC1' }), 400, 'invalid_request',
        'AccountSid');
    // signed with the number's token, but for another account
    await refused(form({ AccountSid: `AC${'f'.repeat(32)}` }), 403,
        'forbidden', 'AccountSid');
    await refused([...form({}), ['MediaUrl0', 'https://m.test/0'],
        ['MediaContentType0', 'image/png']], 400, 'invalid_request',
        'MediaUrl0');
    await refused([...form({ NumMedia: '1' }),
        ['MediaContentType0', 'image/png']], 400, 'invalid_request',
        'MediaUrl0');
    await refused([...form({ NumMedia: undefined }),
        ['MediaUrl0', 'https://m.test/0']], 400, 'invalid_request',
        'NumMedia');
    await refused([...form({}), ['From', uniqueNumber()]], 400,
        'invalid_request', 'From');

    assert.deepEqual(await messagesFrom(cluster, org.token, from), []);
});

test('a NUL byte is refused, whether the signature covers it or not',
    async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const from = uniqueNumber();
    const url = cluster.url('/webhooks/twilio/inbound');
    const pairs = inboundForm({ org, from, body: 'hi' });
    const cut = signTwilio(url, pairs, org.authToken);
    const withNul = pairs.map(([k, v]) =>
        [k, k === 'Body' ? Buffer.from('hi\0TAIL') : v]);

    for (const signature of [cut, signTwilio(url, withNul, org.authToken)]) {
        const e = assertError(await postWebhook(cluster, withNul,
            { signature }), 400, 'invalid_request');
        assert.equal(e.field, 'Body');
    }
    assert.deepEqual(await messagesFrom(cluster, org.token, from), []);
});

test('invalid UTF-8 in a body is stored repaired: the API and the '
    + 'WebSocket carry only valid UTF-8', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const bytes = (...parts) => Buffer.concat(parts.map((p) =>
        (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const cases = [
        // what yajl's own check lets through: surrogates, a code point
        // beyond U+10FFFF
        { raw: bytes('x', [0xED, 0xA0, 0x80], 'y', [0xED, 0xBF, 0xBF],
                     'z', [0xF4, 0x90, 0x80, 0x80]),
          expected: 'x\uFFFD\uFFFD\uFFFDy\uFFFD\uFFFD\uFFFDz'
              + '\uFFFD\uFFFD\uFFFD\uFFFD' },
        // a surrogate, an overlong '/', a byte beyond F4, a cut emoji
        { raw: bytes('a', [0xED, 0xA0, 0x80], 'b', [0xC0, 0xAF], 'c', [0xF5],
                     'd', [0xF0, 0x9F, 0x91], '!'),
          expected: 'a\uFFFD\uFFFD\uFFFDb\uFFFD\uFFFDc\uFFFDd\uFFFD!' },
    ];

    const ws = await connectWs(cluster, org.token);
    try {
        await ws.waitForTypes(['hello']);

        for (const { raw, expected } of cases) {
            // a browser's decoder substitutes maximal subparts the same way
            assert.equal(new TextDecoder('utf-8').decode(raw), expected);

            const from = uniqueNumber();
            const pairs = inboundForm({ org, from }).map(([k, v]) =>
                [k, k === 'Body' ? raw : v]);
            const res = await postWebhook(cluster, pairs,
                { authToken: org.authToken });
            assert.equal(res.status, 200, res.text);

            // the ws package closes the socket on a frame that is not UTF-8
            const created = (f) => f.type === 'message.created'
                && f.conversation?.contact?.phone === from;
            const frames = await ws.waitFor((fs) => fs.some(created)
                || ws.closed, 5000, 'message.created');
            assert.equal(ws.closed, false, 'the socket is still open');
            const frame = frames.find(created);
            assert.equal(frame.message.body, expected);
            assert.equal(frame.conversation.last_message.preview, expected);

            // and every byte of the API's answers is UTF-8
            const list = await strictJson(cluster,
                '/api/v1/conversations?limit=200', org.token);
            const conv = list.items.find((c) => c.contact.phone === from);
            assert.equal(conv.last_message.preview, expected);
            const msgs = await strictJson(cluster,
                `/api/v1/conversations/${conv.id}/messages`, org.token);
            assert.equal(msgs.items[0].body, expected);
        }
    } finally {
        ws.close();
    }
});

test('a whole form with 10 images and Twilio\'s longest body fits the size '
    + 'limit; a body over 5000 characters is kept cut, saying so, not '
    + 'refused', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const from = uniqueNumber();

    // characters, not bytes: 1600 emoji are 6400 bytes, 19 KB encoded
    const longest = '👋'.repeat(1600);
    const media = Array.from({ length: 10 }, (_, i) => ({
        url: 'https://api.twilio.com/2010-04-01/Accounts/'
            + `${org.accountSid}/Messages/MM${'0'.repeat(32)}/Media/`
            + `ME${String(i).padStart(32, '0')}`,
        content_type: 'image/jpeg' }));
    const size = formEncode(inboundForm({ org, from, body: longest, media }))
        .length;
    assert.ok(size < 32 * 1024, `${size} bytes: well under 64 KB`);
    await deliverInbound(cluster, { from, body: longest, media });

    const stored = await messagesFrom(cluster, org.token, from);
    assert.equal(stored.length, 1);
    assert.equal(stored[0].body, longest);
    assert.equal(stored[0].media.length, 10);

    const other = uniqueNumber();
    await deliverInbound(cluster, { from: other,
                                    body: `${'👋'.repeat(5000)}!!` });
    const [cut] = await messagesFrom(cluster, org.token, other);
    assert.equal(cut?.body,
                 `${'👋'.repeat(5000)}\n[2 more characters not kept]`);
});

test('GET on the webhook is 405', async () => {
    const res = await fetch(ctx.cluster.url('/webhooks/twilio/inbound'));
    assert.equal(res.status, 405);
});

test('a token rotated at the carrier is set with inboxctl number set: '
    + 'the old one\'s signatures are refused within a second (a pool '
    + 'thread keeps a number\'s credentials for the second it read them), '
    + 'the new one\'s accepted', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const old = org.authToken;
    const rotated = 'f'.repeat(32);
    assert.equal(await inboxctl(cluster.store, 'number', 'set', org.id,
        org.number, '--carrier', 'twilio', '--account-sid', org.accountSid,
        '--auth-token', rotated), org.number);
    try {
        await eventually(async () => (await postInbound(cluster, {
            from: uniqueNumber(), body: 'old token' })).status === 403,
            5000, 'the old token refused');
        org.authToken = rotated;
        // each pool thread of each worker reads it again within a second
        await eventually(async () => (await postInbound(cluster, {
            from: uniqueNumber(), body: 'new token' })).status === 200,
            5000, 'the new token accepted');
    } finally {
        org.authToken = old;
        await inboxctl(cluster.store, 'number', 'set', org.id, org.number,
            '--carrier', 'twilio', '--account-sid', org.accountSid,
            '--auth-token', old);
    }
    // a number the organization does not have is not made by set
    await assert.rejects(inboxctl(cluster.store, 'number', 'set', org.id,
        '+13125550199', '--carrier', 'twilio', '--account-sid',
        org.accountSid, '--auth-token', rotated), /number/i);
});

errorLogIsCleanTest(ctx);
