// The carrier simulator speaks Twilio's and Telnyx's wire formats: their
// auth and error JSON, signed callbacks a receiver can verify with the
// carriers' published algorithms, the carriers' STOP block list, media
// behind Basic auth, retries, and the failures a test asks for.

import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomBytes,
         verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot, uniqueNumber } from '../lib/cluster.mjs';
import { startCarrierSim, startReceiver } from '../lib/carrier-sim.mjs';
import { signTwilio } from '../lib/inbox.mjs';
import { signTwilio as simSignTwilio }
    from '../../simulator/lib/twilio-signature.mjs';

const SID = `AC${randomBytes(16).toString('hex')}`;
const TOKEN = randomBytes(16).toString('hex');
const OTHER_SID = `AC${randomBytes(16).toString('hex')}`;
const OTHER_TOKEN = randomBytes(16).toString('hex');
const TWILIO_NUMBER = uniqueNumber();
const KEY = `KEY${randomBytes(12).toString('hex')}`;
const TELNYX_NUMBER = uniqueNumber();
const SID_RE = /^SM[0-9a-f]{32}$/;
const MMS_RE = /^MM[0-9a-f]{32}$/;
const UUID_RE =
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PNG = readFileSync(join(repoRoot, 'simulator/samples/landscape.png'));

let sim;
let inbox;          // stands in for the inbox's webhooks
let inboxAnswer;    // (req, n) -> answer, changed by a test

before(async () => {
    inboxAnswer = () => ({});
    inbox = await startReceiver((req, n) => inboxAnswer(req, n));
    sim = await startCarrierSim({ config: {
        inbox: inbox.url,
        twilio: { accounts: { [SID]: TOKEN, [OTHER_SID]: OTHER_TOKEN } },
        telnyx: { apiKeys: [KEY] },
        numbers: [{ number: TWILIO_NUMBER, carrier: 'twilio', account: SID },
                  { number: TELNYX_NUMBER, carrier: 'telnyx' }],
    } });
});

after(async () => {
    await sim?.stop();
    await inbox?.close();
});

const basic = (user, pass) =>
    `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function twilioSend(fields, { sid = SID, user = SID, pass = TOKEN,
                                    signal } = {}) {
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (user !== null) {
        headers.Authorization = basic(user, pass);
    }
    const body = new URLSearchParams(fields).toString();
    const res = await fetch(`${sim.url}/2010-04-01/Accounts/${sid}/`
                            + 'Messages.json', { method: 'POST', headers,
                                                 body, signal });
    return { status: res.status, headers: res.headers,
             json: await res.json() };
}

async function telnyxSend(body, key = KEY, signal = undefined) {
    const headers = { 'Content-Type': 'application/json' };
    if (key !== null) {
        headers.Authorization = `Bearer ${key}`;
    }
    const res = await fetch(`${sim.url}/v2/messages`, { method: 'POST',
        headers, signal, body: typeof body === 'string' ? body
            : JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
}

function assertTwilioError(res, status, code) {
    assert.equal(res.status, status, JSON.stringify(res.json));
    assert.equal(res.json.code, code, JSON.stringify(res.json));
    assert.equal(res.json.status, status);
    assert.equal(typeof res.json.message, 'string');
    assert.ok(res.json.message.length > 0);
    assert.equal(res.json.more_info,
                 `https://www.twilio.com/docs/errors/${code}`);
}

function assertTelnyxError(res, status, code) {
    assert.equal(res.status, status, JSON.stringify(res.json));
    assert.ok(Array.isArray(res.json.errors), JSON.stringify(res.json));
    const [e] = res.json.errors;
    assert.equal(e.code, code, JSON.stringify(res.json));
    assert.equal(typeof e.title, 'string');
    assert.equal(typeof e.detail, 'string');
}

// A form body as [name, value] pairs, in order, repeated names kept.
const pairsOf = (buf) => [...new URLSearchParams(buf.toString('utf8'))];
const formOf = (buf) => Object.fromEntries(pairsOf(buf));

// Verifies a Twilio request the way a receiver must: the URL it called
// and its POST parameters, HMAC-SHA1 with the auth token.
function assertTwilioSigned(req, url, token = TOKEN) {
    assert.equal(req.headers['x-twilio-signature'],
                 signTwilio(url, pairsOf(req.body), token),
                 `signature of ${url}`);
}

// Ed25519 over "timestamp|raw body" with the public key as the simulator
// printed it (raw 32 bytes, base64), the timestamp within 5 minutes.
function telnyxVerifies(req, publicKey = sim.publicKey) {
    const key = createPublicKey({ format: 'jwk', key: { kty: 'OKP',
        crv: 'Ed25519',
        x: Buffer.from(publicKey, 'base64').toString('base64url') } });
    const ts = req.headers['telnyx-timestamp'];
    const sig = Buffer.from(req.headers['telnyx-signature-ed25519'] ?? '',
                            'base64');
    return sig.length === 64
        && Math.abs(Date.now() / 1000 - Number(ts)) < 300
        && verify(null, Buffer.concat([Buffer.from(`${ts}|`), req.body]),
                  key, sig);
}

test('the Twilio signature matches the worked example, in the simulator '
     + 'and in the verifier these tests use', () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = [['CallSid', 'CA1234567890ABCDE'],
                    ['Caller', '+12349013030'], ['Digits', '1234'],
                    ['From', '+12349013030'], ['To', '+18005551212']];
    assert.equal(simSignTwilio(url, params, '12345'),
                 '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    assert.equal(signTwilio(url, params, '12345'),
                 '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    // the parameters' order on the wire does not matter
    assert.equal(simSignTwilio(url, [...params].reverse(), '12345'),
                 '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
});

test('a Twilio send with wrong or no credentials is 401 with Twilio\'s '
     + 'error JSON, another account\'s path 404, and nothing is sent',
async () => {
    await sim.reset();
    const fields = { To: uniqueNumber(), From: TWILIO_NUMBER, Body: 'hi' };
    for (const opts of [{ pass: 'wrong' }, { user: null },
                        { user: `AC${'0'.repeat(32)}`, pass: TOKEN }]) {
        const res = await twilioSend(fields, opts);
        assertTwilioError(res, 401, 20003);
        assert.match(res.headers.get('www-authenticate'), /^Basic /);
    }
    const res = await twilioSend(fields, { user: OTHER_SID,
                                           pass: OTHER_TOKEN });
    assertTwilioError(res, 404, 20404);

    assert.deepEqual(await sim.messages(), []);
    const reqs = await sim.requests({ kind: 'send' });
    assert.equal(reqs.length, 4);
    assert.deepEqual(reqs.map((r) => r.response.status),
                     [401, 401, 401, 404]);
    assert.deepEqual(reqs[0].auth, { scheme: 'basic', user: SID,
                                     password: 'wrong' });
    assert.deepEqual(reqs[0].form, Object.entries(fields));
    assert.equal(reqs[1].auth, null);
});

test('a good Twilio send is 201 with the message resource, and the '
     + 'resource can be fetched', async () => {
    const to = uniqueNumber();
    const res = await twilioSend({ To: to, From: TWILIO_NUMBER,
                                   Body: 'Your order is ready ✓' });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    const m = res.json;
    assert.match(m.sid, SID_RE);
    assert.equal(m.account_sid, SID);
    assert.equal(m.api_version, '2010-04-01');
    assert.equal(m.status, 'queued');
    assert.equal(m.to, to);
    assert.equal(m.from, TWILIO_NUMBER);
    assert.equal(m.body, 'Your order is ready ✓');
    assert.equal(m.direction, 'outbound-api');
    assert.equal(m.num_media, '0');
    assert.equal(m.num_segments, '1');
    assert.equal(m.error_code, null);
    assert.equal(m.messaging_service_sid, null);
    assert.match(m.date_created, /^\w{3}, \d{2} \w{3} \d{4} [\d:]{8} \+0000$/);
    assert.equal(m.uri, `/2010-04-01/Accounts/${SID}/Messages/${m.sid}.json`);
    assert.equal(m.subresource_uris.media,
                 `/2010-04-01/Accounts/${SID}/Messages/${m.sid}/Media.json`);

    const got = await fetch(`${sim.url}${m.uri}`, {
        headers: { Authorization: basic(SID, TOKEN) } });
    assert.equal(got.status, 200);
    const again = await got.json();
    assert.equal(again.sid, m.sid);
    const noAuth = await fetch(`${sim.url}${m.uri}`);
    assert.equal(noAuth.status, 401);
});

test('Twilio refuses bad fields with its own codes', async () => {
    const to = uniqueNumber();
    const cases = [
        [{ From: TWILIO_NUMBER, Body: 'x' }, 21604],
        [{ To: to, Body: 'x' }, 21603],
        [{ To: to, From: TWILIO_NUMBER }, 21602],
        [{ To: '5551234', From: TWILIO_NUMBER, Body: 'x' }, 21211],
        [{ To: to, From: uniqueNumber(), Body: 'x' }, 21606],
        [{ To: to, From: TWILIO_NUMBER, Body: 'x'.repeat(1601) }, 21617],
        [{ To: to, From: TWILIO_NUMBER, MediaUrl: 'ftp://x/a.png' }, 21620],
        [{ To: to, From: TWILIO_NUMBER, Body: 'x',
           StatusCallback: 'not a url' }, 21609],
    ];
    for (const [fields, code] of cases) {
        assertTwilioError(await twilioSend(fields), 400, code);
    }
    assert.equal((await sim.messages({ contact: to })).length, 0);
});

test('Twilio status callbacks come sent then delivered, form-encoded and '
     + 'signed for the exact URL with the account\'s token', async () => {
    const to = uniqueNumber();
    const callback = `${inbox.url}/status?org=42&x=a%20b`;
    const res = await twilioSend({ To: to, From: TWILIO_NUMBER, Body: 'hi',
                                   StatusCallback: callback });
    assert.equal(res.status, 201);
    const sid = res.json.sid;
    const calls = await inbox.waitFor('/status', 2,
        (r) => formOf(r.body).MessageSid === sid);
    assert.equal(calls.length, 2);
    assert.deepEqual(calls.map((r) => formOf(r.body).MessageStatus),
                     ['sent', 'delivered']);
    for (const r of calls) {
        assert.equal(r.method, 'POST');
        assert.equal(r.url, '/status?org=42&x=a%20b');
        assert.match(r.headers['content-type'],
                     /^application\/x-www-form-urlencoded/);
        assertTwilioSigned(r, callback);
        const f = formOf(r.body);
        assert.equal(f.SmsSid, sid);
        assert.equal(f.SmsStatus, f.MessageStatus);
        assert.equal(f.AccountSid, SID);
        assert.equal(f.From, TWILIO_NUMBER);
        assert.equal(f.To, to);
        assert.equal(f.ApiVersion, '2010-04-01');
        assert.equal(f.ErrorCode, undefined);
    }
    // a forged body does not verify
    assert.notEqual(calls[0].headers['x-twilio-signature'],
                    signTwilio(callback, [...pairsOf(calls[0].body),
                                          ['MessageStatus', 'failed']],
                               TOKEN));
    const m = await sim.message(sid);
    assert.equal(m.status, 'delivered');
    assert.deepEqual(m.history.map((h) => h.status),
                     ['queued', 'sent', 'delivered']);
});

test('a Telnyx send with a wrong key is 401; a good one 200 with the '
     + 'message record; its events verify with the printed public key',
async () => {
    const to = uniqueNumber();
    const body = { from: TELNYX_NUMBER, to, text: 'Hello from Telnyx',
                   webhook_url: `${inbox.url}/telnyx-status` };
    assertTelnyxError(await telnyxSend(body, 'wrong'), 401, '10009');
    assertTelnyxError(await telnyxSend(body, null), 401, '10009');

    const res = await telnyxSend(body);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const d = res.json.data;
    assert.match(d.id, UUID_RE);
    assert.equal(d.record_type, 'message');
    assert.equal(d.direction, 'outbound');
    assert.equal(d.type, 'SMS');
    assert.equal(d.from.phone_number, TELNYX_NUMBER);
    assert.deepEqual(d.to.map((t) => [t.phone_number, t.status]),
                     [[to, 'queued']]);
    assert.equal(d.text, 'Hello from Telnyx');
    assert.equal(d.parts, 1);
    assert.equal(d.encoding, 'GSM-7');
    assert.deepEqual(d.errors, []);

    const events = await inbox.waitFor('/telnyx-status', 2,
        (r) => JSON.parse(r.body).data.payload.id === d.id);
    assert.equal(events.length, 2);
    const parsed = events.map((r) => JSON.parse(r.body));
    assert.deepEqual(parsed.map((e) => e.data.event_type),
                     ['message.sent', 'message.finalized']);
    assert.deepEqual(parsed.map((e) => e.data.payload.to[0].status),
                     ['sent', 'delivered']);
    for (const [i, r] of events.entries()) {
        assert.match(r.headers['content-type'], /^application\/json/);
        assert.ok(telnyxVerifies(r), 'the signature verifies');
        const e = parsed[i];
        assert.equal(e.data.record_type, 'event');
        assert.match(e.data.id, UUID_RE);
        // written as Telnyx writes its times, with "+00:00" for UTC
        assert.match(e.data.occurred_at,
                     /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
        assert.ok(!Number.isNaN(Date.parse(e.data.occurred_at)));
        assert.match(e.data.payload.received_at, /\+00:00$/);
        assert.match(e.data.payload.sent_at, /\+00:00$/);
        assert.equal(e.meta.attempt, 1);
        assert.equal(e.meta.delivered_to, `${inbox.url}/telnyx-status`);
        // one changed byte, or another key, and it no longer verifies
        const forged = { ...r, body: Buffer.from(r.body.toString()
            .replace('"attempt":1', '"attempt":2')) };
        assert.equal(telnyxVerifies(forged), false);
    }
    const otherKey = generateKeyPairSync('ed25519').publicKey
        .export({ format: 'der', type: 'spki' }).subarray(-32)
        .toString('base64');
    assert.equal(telnyxVerifies(events[0], otherKey), false);

    const keyRes = await sim.ok('GET', '/telnyx/public-key');
    assert.equal(keyRes.public_key, sim.publicKey);
    assert.equal(Buffer.from(sim.publicKey, 'base64').length, 32);
});

test('Telnyx refuses bad requests with its error shape', async () => {
    const to = uniqueNumber();
    assertTelnyxError(await telnyxSend({ from: TELNYX_NUMBER, text: 'x' }),
                      422, '10004');
    assertTelnyxError(await telnyxSend({ from: TELNYX_NUMBER, to }),
                      422, '10004');
    assertTelnyxError(await telnyxSend({ to, text: 'x' }), 422, '10004');
    assertTelnyxError(await telnyxSend({ from: TELNYX_NUMBER, to: '12',
                                         text: 'x' }), 400, '40310');
    assertTelnyxError(await telnyxSend({ from: uniqueNumber(), to,
                                         text: 'x' }), 400, '40305');
    assertTelnyxError(await telnyxSend('{not json'), 400, '10015');
});

test('Telnyx refuses an SMS of more than 10 parts with 40302, sending '
     + 'nothing; 10 parts are sent', async () => {
    // GSM-7 parts hold 153 characters, UCS-2 parts 67 UTF-16 units
    for (const [unit, perPart] of [['a', 153], ['\u00e7', 67]]) {
        const to = uniqueNumber();
        const ten = await telnyxSend({ from: TELNYX_NUMBER, to,
                                       text: unit.repeat(10 * perPart) });
        assert.equal(ten.status, 200, JSON.stringify(ten.json));
        assert.equal(ten.json.data.parts, 10);

        const other = uniqueNumber();
        const eleven = await telnyxSend({ from: TELNYX_NUMBER, to: other,
            text: unit.repeat(10 * perPart + 1) });
        assertTelnyxError(eleven, 400, '40302');
        assert.equal(eleven.json.errors[0].title, 'Message too large');
        assert.equal((await sim.messages({ contact: other })).length, 0);
    }
});

test('after a contact texts STOP, Twilio answers 21610 and Telnyx 40300 '
     + 'until it texts START', async () => {
    inboxAnswer = () => ({});
    for (const [number, send, refused] of [
        [TWILIO_NUMBER,
         (to) => twilioSend({ To: to, From: TWILIO_NUMBER, Body: 'Deal!' }),
         (res) => assertTwilioError(res, 400, 21610)],
        [TELNYX_NUMBER,
         (to) => telnyxSend({ from: TELNYX_NUMBER, to, text: 'Deal!' }),
         (res) => assertTelnyxError(res, 400, '40300')],
    ]) {
        const contact = uniqueNumber();
        const ok = number === TWILIO_NUMBER ? 201 : 200;
        assert.equal((await send(contact)).status, ok);

        const stop = await sim.inbound({ from: contact, to: number,
                                         body: '  Stop ' });
        assert.equal(stop.webhook.state, 'delivered');
        refused(await send(contact));
        refused(await send(contact));
        // another contact is not blocked
        assert.equal((await send(uniqueNumber())).status, ok);
        // the carrier's own answer reached the contact's phone
        const replies = (await sim.messages({ contact })).filter(
            (m) => m.carrier_reply);
        assert.match(replies[0].body, /unsubscribed/);

        await sim.inbound({ from: contact, to: number, body: 'START' });
        assert.equal((await send(contact)).status, ok);
    }
});

test('an inbound Twilio MMS is a signed form, and its media needs the '
     + 'account\'s credentials', async () => {
    const contact = uniqueNumber();
    const { message, webhook } = await sim.inbound({
        from: contact, to: TWILIO_NUMBER, body: 'Is this one in stock?',
        media: ['landscape.png', 'sunset.jpg'] });
    assert.equal(webhook.state, 'delivered');
    assert.match(message.id, MMS_RE);
    const [req] = await inbox.waitFor('/webhooks/twilio/inbound', 1,
        (r) => formOf(r.body).MessageSid === message.id);
    assertTwilioSigned(req, `${inbox.url}/webhooks/twilio/inbound`);
    const f = formOf(req.body);
    assert.equal(f.SmsSid, message.id);
    assert.equal(f.AccountSid, SID);
    assert.equal(f.From, contact);
    assert.equal(f.To, TWILIO_NUMBER);
    assert.equal(f.Body, 'Is this one in stock?');
    assert.equal(f.NumMedia, '2');
    assert.equal(f.NumSegments, '1');
    assert.equal(f.MediaContentType0, 'image/png');
    assert.equal(f.MediaContentType1, 'image/jpeg');
    for (const k of ['FromCity', 'FromState', 'FromZip', 'FromCountry',
                     'ToCity', 'ToState', 'ToZip', 'ToCountry']) {
        assert.equal(typeof f[k], 'string', k);
    }
    const mediaRe = new RegExp(`^${sim.url}/2010-04-01/Accounts/${SID}/`
        + `Messages/${message.id}/Media/ME[0-9a-f]{32}$`);
    assert.match(f.MediaUrl0, mediaRe);
    assert.match(f.MediaUrl1, mediaRe);

    assert.equal((await fetch(f.MediaUrl0)).status, 401);
    assert.equal((await fetch(f.MediaUrl0, { headers: {
        Authorization: basic(SID, 'wrong') } })).status, 401);
    assert.equal((await fetch(f.MediaUrl0, { headers: {
        Authorization: basic(OTHER_SID, OTHER_TOKEN) } })).status, 404);
    const png = await fetch(f.MediaUrl0, { headers: {
        Authorization: basic(SID, TOKEN) } });
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await png.arrayBuffer()), PNG);
    const jpg = await fetch(f.MediaUrl1, { headers: {
        Authorization: basic(SID, TOKEN) } });
    assert.equal(jpg.headers.get('content-type'), 'image/jpeg');
    const bytes = Buffer.from(await jpg.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);
});

test('an inbound Telnyx message is a signed message.received, its media '
     + 'open to fetch', async () => {
    const contact = uniqueNumber();
    const { message } = await sim.inbound({ from: contact,
        to: TELNYX_NUMBER, body: 'hello 👋', media: ['landscape.png'] });
    const [req] = await inbox.waitFor('/webhooks/telnyx', 1,
        (r) => JSON.parse(r.body).data.payload.id === message.id);
    assert.ok(telnyxVerifies(req));
    const e = JSON.parse(req.body);
    assert.equal(e.data.event_type, 'message.received');
    assert.equal(e.data.record_type, 'event');
    const p = e.data.payload;
    assert.equal(p.direction, 'inbound');
    assert.equal(p.type, 'MMS');
    assert.equal(p.from.phone_number, contact);
    assert.deepEqual(p.to.map((t) => t.phone_number), [TELNYX_NUMBER]);
    assert.equal(p.text, 'hello 👋');
    assert.equal(p.encoding, 'UCS-2');
    assert.equal(p.media.length, 1);
    assert.equal(p.media[0].content_type, 'image/png');
    const got = await fetch(p.media[0].url);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), PNG);
});

test('behind a proxy (inboxPublicUrl): webhooks are addressed and signed '
     + 'for the inbox\'s public URL and posted to its own', async () => {
    const pub = 'https://inbox.example.com';
    await sim.configure({ inboxPublicUrl: pub });
    try {
        const contact = uniqueNumber();
        const { message, webhook } = await sim.inbound({
            from: contact, to: TWILIO_NUMBER, body: 'via the proxy' });
        assert.equal(webhook.state, 'delivered');
        assert.equal(webhook.url, `${pub}/webhooks/twilio/inbound`);
        assert.equal(webhook.posted_to,
                     `${inbox.url}/webhooks/twilio/inbound`);
        const [req] = await inbox.waitFor('/webhooks/twilio/inbound', 1,
            (r) => formOf(r.body).MessageSid === message.id);
        assertTwilioSigned(req, `${pub}/webhooks/twilio/inbound`);

        // a status callback the inbox gave as its public URL
        const res = await twilioSend({ To: contact, From: TWILIO_NUMBER,
            Body: 'hi', StatusCallback: `${pub}/webhooks/twilio/status?o=7` });
        assert.equal(res.status, 201);
        const calls = await inbox.waitFor('/webhooks/twilio/status', 2,
            (r) => formOf(r.body).MessageSid === res.json.sid);
        for (const r of calls) {
            assert.equal(r.url, '/webhooks/twilio/status?o=7');
            assertTwilioSigned(r, `${pub}/webhooks/twilio/status?o=7`);
        }

        // Telnyx signs the body alone; its events go the same way
        const t = await sim.inbound({ from: contact, to: TELNYX_NUMBER,
                                      body: 'via the proxy' });
        assert.equal(t.webhook.state, 'delivered');
        assert.equal(t.webhook.url, `${pub}/webhooks/telnyx`);
        const [treq] = await inbox.waitFor('/webhooks/telnyx', 1,
            (r) => JSON.parse(r.body).data.payload.id === t.message.id);
        assert.ok(telnyxVerifies(treq));
    } finally {
        await sim.configure({ inboxPublicUrl: null });
    }
});

test('Twilio sends a webhook answered 503 again only when its URL\'s '
     + 'connection overrides ask for it, to the URL without them and '
     + 'signed for that; Telnyx always; a 4xx never', async () => {
    const contact = uniqueNumber();
    const path = '/webhooks/twilio/inbound';
    const tries = (from) => inbox.received.slice(from)
        .filter((r) => r.path === path);
    // both again, in their order: the first is inbound's default
    const numberWith = (smsUrl) => sim.configure({ numbers: [{
        number: TWILIO_NUMBER, carrier: 'twilio', account: SID,
        ...(smsUrl ? { smsUrl } : {}) },
        { number: TELNYX_NUMBER, carrier: 'telnyx' }] });

    // as Twilio by default (rp=ct): a 503 is the last word
    let from = inbox.received.length;
    let seen = 0;
    inboxAnswer = (req) => (req.path === path && ++seen === 1
        ? { status: 503, body: 'busy' } : {});
    const lost = await sim.inbound({ from: contact, to: TWILIO_NUMBER,
                                     body: 'hi' });
    assert.equal(lost.webhook.state, 'failed');
    assert.deepEqual(lost.webhook.attempts.map((a) => a.response.status),
                     [503]);
    assert.equal(tries(from).length, 1);

    // the fragment operators are told to add: retried, to the same URL
    // without the fragment, signed for it, the same bytes each time
    const url = `${inbox.url}${path}`;
    await numberWith(`${url}#rp=5xx,ct&rc=3`);
    try {
        from = inbox.received.length;
        seen = 0;
        const { webhook } = await sim.inbound({ from: contact,
                                                to: TWILIO_NUMBER,
                                                body: 'hi' });
        assert.equal(webhook.state, 'delivered');
        assert.deepEqual(webhook.attempts.map((a) => a.response.status),
                         [503, 200]);
        assert.equal(webhook.url, `${url}#rp=5xx,ct&rc=3`);
        assert.equal(webhook.posted_to, url);
        const got = tries(from);
        assert.equal(got.length, 2);
        assert.deepEqual(got[1].body, got[0].body);
        for (const t of got) {
            assert.equal(t.url, path);
            assertTwilioSigned(t, url);
        }

        // rc retries at most, then it is given up
        inboxAnswer = (req) => (req.path === path ? { status: 503 } : {});
        const gone = await sim.inbound({ from: contact, to: TWILIO_NUMBER,
                                         body: 'hi' });
        assert.equal(gone.webhook.state, 'failed');
        assert.equal(gone.webhook.attempts.length, 4);

        // a 4xx is an answer: never sent again
        inboxAnswer = (req) => (req.path === path ? { status: 403 } : {});
        const refused = await sim.inbound({ from: contact,
                                            to: TWILIO_NUMBER, body: 'hi' });
        assert.equal(refused.webhook.state, 'refused');
        assert.equal(refused.webhook.attempts.length, 1);
    } finally {
        inboxAnswer = () => ({});
        await numberWith(null);
    }

    // nothing listening: Twilio's default (rc=1, rp=ct) tries once more
    await numberWith('http://127.0.0.1:9/webhooks/twilio/inbound');
    try {
        const { webhook } = await sim.inbound({ from: contact,
                                                to: TWILIO_NUMBER,
                                                body: 'hi' });
        assert.equal(webhook.state, 'failed');
        assert.deepEqual(webhook.attempts.map((a) => a.error),
                         ['ECONNREFUSED', 'ECONNREFUSED']);
    } finally {
        await numberWith(null);
    }

    // Telnyx: the retry is signed anew and says attempt 2
    let tseen = 0;
    inboxAnswer = (req) => (req.path === '/webhooks/telnyx'
        && ++tseen === 1 ? { status: 500 } : {});
    const t = await sim.inbound({ from: contact, to: TELNYX_NUMBER,
                                  body: 'hi' });
    assert.equal(t.webhook.state, 'delivered');
    assert.equal(t.webhook.attempts.length, 2);
    const treqs = await inbox.waitFor('/webhooks/telnyx', 2,
        (r) => JSON.parse(r.body).data.payload.id === t.message.id);
    assert.deepEqual(treqs.map((r) => JSON.parse(r.body).meta.attempt),
                     [1, 2]);
    assert.ok(treqs.every((r) => telnyxVerifies(r)));
    inboxAnswer = () => ({});
});

test('injected: 5xx for the next N sends, then a send that is never '
     + 'answered', async () => {
    const to = uniqueNumber();
    await sim.fail({ type: 'http_error', status: 503, count: 2,
                     carrier: 'twilio' });
    const fields = { To: to, From: TWILIO_NUMBER, Body: 'x' };
    assertTwilioError(await twilioSend(fields), 503, 20503);
    assertTwilioError(await twilioSend(fields), 503, 20503);
    assert.equal((await twilioSend(fields)).status, 201);

    await sim.fail({ type: 'http_error', status: 500, carrier: 'telnyx' });
    const tbody = { from: TELNYX_NUMBER, to, text: 'x' };
    assertTelnyxError(await telnyxSend(tbody), 500, '10007');
    assert.equal((await telnyxSend(tbody)).status, 200);

    await sim.fail({ type: 'timeout', count: 1 });
    await assert.rejects(twilioSend(fields,
        { signal: AbortSignal.timeout(700) }), /abort|timeout/i);
    const held = (await sim.requests({ kind: 'send' })).at(-1);
    assert.equal(held.response.held, true);
    assert.equal(held.message_id, null);
    assert.equal((await twilioSend(fields)).status, 201);

    // processed: the carrier sent it all the same, the answer never came
    await sim.fail({ type: 'timeout', processed: true, carrier: 'telnyx' });
    await assert.rejects(telnyxSend({ ...tbody, text: 'lost answer' },
                                    KEY, AbortSignal.timeout(700)));
    const late = (await sim.requests({ kind: 'send' })).at(-1);
    assert.equal(late.response.held, true);
    assert.match(late.message_id, UUID_RE);
    await sim.waitForMessage(late.message_id,
                             (m) => m.status === 'delivered');
});

test('injected: sends held until released, neither taken nor answered '
     + 'meanwhile, then answered as any send', async () => {
    const to = uniqueNumber();
    await sim.fail([{ type: 'hold', count: 1, carrier: 'twilio' },
                    { type: 'hold', count: 1, carrier: 'telnyx' }]);
    const since = (await sim.requests()).at(-1)?.seq ?? 0;
    const twilio = twilioSend({ To: to, From: TWILIO_NUMBER, Body: 'held' });
    const telnyx = telnyxSend({ from: TELNYX_NUMBER, to, text: 'held' });

    const held = async () => (await sim.requests({ kind: 'send',
                                                   since })).filter(
        (r) => r.response === undefined);
    for (let tries = 0; (await held()).length < 2; tries++) {
        assert.ok(tries < 200, 'the two sends held');
        await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal((await sim.messages({ contact: to })).length, 0,
                 'nothing taken while held');
    // a send after them is not held
    assert.equal((await twilioSend({ To: to, From: TWILIO_NUMBER,
                                     Body: 'free' })).status, 201);

    assert.deepEqual(await sim.release(), { released: 2 });
    assert.equal((await twilio).status, 201);
    assert.equal((await telnyx).status, 200);
    assert.deepEqual((await held()), []);
    assert.deepEqual(await sim.release(), { released: 0 });
    assert.equal((await sim.messages({ contact: to })).length, 3);
});

test('injected: 429 too many requests, with Retry-After when asked; '
     + 'nothing is sent', async () => {
    const to = uniqueNumber();
    await sim.fail({ type: 'rate_limit', count: 1, retry_after: 2,
                     carrier: 'twilio' });
    const fields = { To: to, From: TWILIO_NUMBER, Body: 'x' };
    const refused = await twilioSend(fields);
    assertTwilioError(refused, 429, 20429);
    assert.equal(refused.headers.get('retry-after'), '2');
    assert.equal((await sim.messages({ contact: to })).length, 0);
    assert.equal((await twilioSend(fields)).status, 201);

    await sim.fail({ type: 'rate_limit', carrier: 'telnyx' });
    const tbody = { from: TELNYX_NUMBER, to, text: 'x' };
    assertTelnyxError(await telnyxSend(tbody), 429, '10011');
    assert.equal((await telnyxSend(tbody)).status, 200);

    const bad = await sim.control('POST', '/failures',
                                  { type: 'rate_limit', retry_after: -1 });
    assert.equal(bad.status, 400);
});

test('injected: Twilio\'s 21611, the number\'s queue full, for the next '
     + 'sends; nothing is sent, and Telnyx sends are not touched',
     async () => {
    const to = uniqueNumber();
    await sim.fail({ type: 'queue_full', count: 2 });
    const tbody = { from: TELNYX_NUMBER, to, text: 'x' };
    assert.equal((await telnyxSend(tbody)).status, 200);
    const fields = { To: to, From: TWILIO_NUMBER, Body: 'x' };
    for (let i = 0; i < 2; i++) {
        const refused = await twilioSend(fields);
        assertTwilioError(refused, 400, 21611);
        assert.match(refused.json.message, /maximum number of queued/);
    }
    assert.equal((await sim.messages({ contact: to, carrier: 'twilio' }))
        .length, 0);
    assert.equal((await twilioSend(fields)).status, 201);

    const bad = await sim.control('POST', '/failures',
                                  { type: 'queue_full', carrier: 'telnyx' });
    assert.equal(bad.status, 400);
});

test('injected: the account refused, its credentials right: Twilio\'s '
     + '401 20005, Telnyx\'s 403 10010; nothing is sent', async () => {
    const to = uniqueNumber();
    await sim.fail({ type: 'account_refused', carrier: 'twilio' });
    const fields = { To: to, From: TWILIO_NUMBER, Body: 'x' };
    const refused = await twilioSend(fields);
    assertTwilioError(refused, 401, 20005);
    assert.equal(refused.json.message, 'Account not active');
    assert.equal((await twilioSend(fields)).status, 201);

    await sim.fail({ type: 'account_refused', carrier: 'telnyx' });
    const tbody = { from: TELNYX_NUMBER, to, text: 'x' };
    const denied = await telnyxSend(tbody);
    assertTelnyxError(denied, 403, '10010');
    assert.equal(denied.json.errors[0].title, 'Authorization failed');
    assert.equal((await telnyxSend(tbody)).status, 200);
    /* one of each went, the refused ones not */
    assert.equal((await sim.messages({ contact: to })).length, 2);
});

test('with api lanes the carrier works on that many sends at once and '
     + 'the others wait in turn, each told how many were ahead', async () => {
    const to = uniqueNumber();
    await sim.configure({ api: { lanes: 1, serviceMs: 100 } });
    try {
        const fields = (i) => ({ To: to, From: TWILIO_NUMBER,
                                 Body: `lane ${i}` });
        const started = Date.now();
        const answers = await Promise.all([0, 1, 2, 3].map(async (i) => {
            await new Promise((r) => setTimeout(r, i * 20));
            return twilioSend(fields(i));
        }));
        assert.deepEqual(answers.map((a) => a.status), [201, 201, 201, 201]);
        /* one at a time: the last answer came after four services */
        assert.ok(Date.now() - started >= 400);
        const sends = (await sim.requests({ kind: 'send' })).slice(-4);
        assert.deepEqual(sends.map((r) => r.ahead), [0, 0, 1, 2]);

        const bad = await sim.control('POST', '/config',
                                      { api: { lanes: 0 } });
        assert.equal(bad.status, 400);
    } finally {
        await sim.configure({ api: { lanes: null, serviceMs: 0 } });
    }
});

test('with twilioSendingCallback Twilio reports sending, sent, delivered',
async () => {
    await sim.configure({ twilioSendingCallback: true });
    try {
        const res = await twilioSend({ To: uniqueNumber(),
            From: TWILIO_NUMBER, Body: 'x',
            StatusCallback: `${inbox.url}/with-sending` });
        const calls = await inbox.waitFor('/with-sending', 3);
        assert.deepEqual(calls.map((r) => formOf(r.body).MessageStatus),
                         ['sending', 'sent', 'delivered']);
        assert.equal(formOf(calls[0].body).MessageSid, res.json.sid);
    } finally {
        await sim.configure({ twilioSendingCallback: false });
    }
});

test('injected: a number whose messages end undelivered, callbacks twice '
     + 'and out of order', async () => {
    const to = uniqueNumber();
    await sim.fail({ type: 'final_status', number: to,
                     status: 'undelivered' });
    const cb = `${inbox.url}/undelivered`;
    const res = await twilioSend({ To: to, From: TWILIO_NUMBER, Body: 'x',
                                   StatusCallback: cb });
    const calls = await inbox.waitFor('/undelivered', 2);
    assert.deepEqual(calls.map((r) => formOf(r.body).MessageStatus),
                     ['sent', 'undelivered']);
    assert.equal(formOf(calls[1].body).ErrorCode, '30003');
    assertTwilioSigned(calls[1], cb);
    assert.equal((await sim.message(res.json.sid)).error_code, '30003');

    const t = await telnyxSend({ from: TELNYX_NUMBER, to, text: 'x',
                                 webhook_url: `${inbox.url}/t-undelivered` });
    const tcalls = await inbox.waitFor('/t-undelivered', 2);
    const fin = JSON.parse(tcalls[1].body).data;
    assert.equal(fin.event_type, 'message.finalized');
    assert.equal(fin.payload.id, t.json.data.id);
    assert.equal(fin.payload.to[0].status, 'delivery_failed');
    assert.equal(fin.payload.errors[0].code, '40008');

    const other = uniqueNumber();
    await sim.fail({ type: 'callbacks', duplicate: true, out_of_order: true,
                     number: other, count: 1 });
    await twilioSend({ To: other, From: TWILIO_NUMBER, Body: 'x',
                       StatusCallback: `${inbox.url}/shuffled` });
    const shuffled = await inbox.waitFor('/shuffled', 4);
    assert.deepEqual(shuffled.map((r) => formOf(r.body).MessageStatus),
                     ['delivered', 'delivered', 'sent', 'sent']);
    shuffled.forEach((r) => assertTwilioSigned(r,
                                               `${inbox.url}/shuffled`));
    // count 1: the next message to that number is back to normal
    await twilioSend({ To: other, From: TWILIO_NUMBER, Body: 'x',
                       StatusCallback: `${inbox.url}/unshuffled` });
    const normal = await inbox.waitFor('/unshuffled', 2);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(inbox.received.filter((r) => r.path === '/unshuffled')
        .map((r) => formOf(r.body).MessageStatus), ['sent', 'delivered']);
    assert.equal(normal.length, 2);
});

test('injected: dropped status callbacks never come, and the message\'s '
     + 'GET answers where it ended', async () => {
    const to = uniqueNumber();
    await sim.fail({ type: 'callbacks', drop: true, number: to, count: 2 });
    await sim.fail({ type: 'final_status', number: to,
                     status: 'undelivered', count: 1 });
    const res = await twilioSend({ To: to, From: TWILIO_NUMBER, Body: 'x',
                                   StatusCallback: `${inbox.url}/dropped` });
    await sim.waitForMessage(res.json.sid, (m) => m.status === 'undelivered');
    const got = await fetch(`${sim.url}${res.json.uri}`, {
        headers: { Authorization: basic(SID, TOKEN) } });
    const m = await got.json();
    assert.equal(m.status, 'undelivered');
    assert.equal(m.error_code, 30003);

    const t = await telnyxSend({ from: TELNYX_NUMBER, to, text: 'x',
                                 webhook_url: `${inbox.url}/t-dropped` });
    await sim.waitForMessage(t.json.data.id,
                             (x) => x.status === 'delivered');
    const tgot = await fetch(`${sim.url}/v2/messages/${t.json.data.id}`, {
        headers: { Authorization: `Bearer ${KEY}` } });
    assert.equal((await tgot.json()).data.to[0].status, 'delivered');

    await new Promise((r) => setTimeout(r, 200));
    assert.equal(inbox.received.filter((r) => r.path === '/dropped'
                                       || r.path === '/t-dropped').length,
                 0);
    assert.equal((await sim.webhooks({ message_id: res.json.sid })).length,
                 0);

    // count 2: the next one's callbacks come again
    await twilioSend({ To: to, From: TWILIO_NUMBER, Body: 'x',
                       StatusCallback: `${inbox.url}/not-dropped` });
    await inbox.waitFor('/not-dropped', 2);

    assert.equal((await sim.control('POST', '/failures',
        { type: 'callbacks', drop: true, duplicate: true })).status, 400);
});

test('injected: messages that expire end expired at Telnyx (40005) and '
     + 'undelivered at Twilio; partially delivered ones end '
     + 'partially_delivered at Twilio and delivered at Telnyx', async () => {
    const to = uniqueNumber();
    await sim.fail({ type: 'final_status', number: to, status: 'expired',
                     count: 2 });
    const t = await telnyxSend({ from: TELNYX_NUMBER, to, text: 'x',
                                 webhook_url: `${inbox.url}/t-expired` });
    const tcalls = await inbox.waitFor('/t-expired', 2);
    assert.deepEqual(tcalls.map((r) => JSON.parse(r.body).data)
        .map((d) => [d.event_type, d.payload.to[0].status]),
        [['message.sent', 'sent'], ['message.finalized', 'expired']]);
    const fin = JSON.parse(tcalls[1].body).data.payload;
    assert.equal(fin.id, t.json.data.id);
    assert.equal(fin.errors[0].code, '40005');
    const cb = `${inbox.url}/expired`;
    await twilioSend({ To: to, From: TWILIO_NUMBER, Body: 'x',
                       StatusCallback: cb });
    const calls = await inbox.waitFor('/expired', 2);
    assert.deepEqual(calls.map((r) => formOf(r.body).MessageStatus),
                     ['sent', 'undelivered']);
    assert.equal(formOf(calls[1].body).ErrorCode, '30003');

    const part = uniqueNumber();
    await sim.fail({ type: 'final_status', number: part,
                     status: 'partially_delivered', count: 2 });
    await twilioSend({ To: part, From: TWILIO_NUMBER, Body: 'x',
                       StatusCallback: `${inbox.url}/partial` });
    const pcalls = await inbox.waitFor('/partial', 2);
    assert.deepEqual(pcalls.map((r) => formOf(r.body).MessageStatus),
                     ['sent', 'partially_delivered']);
    assert.equal(formOf(pcalls[1].body).ErrorCode, undefined);
    await telnyxSend({ from: TELNYX_NUMBER, to: part, text: 'x',
                       webhook_url: `${inbox.url}/t-partial` });
    const tpcalls = await inbox.waitFor('/t-partial', 2);
    assert.equal(JSON.parse(tpcalls[1].body).data.payload.to[0].status,
                 'delivered');
});

test('an MMS send: the carrier fetches each media URL, and fails the '
     + 'message when one is unreachable or not a picture', async () => {
    const media = await startReceiver((req) => {
        if (req.path === '/pic.png') {
            return { headers: { 'Content-Type': 'image/png' }, body: PNG };
        }
        if (req.path === '/page.html') {
            return { headers: { 'Content-Type': 'text/html' },
                     body: '<p>hi</p>' };
        }
        return { status: 404, body: 'no' };
    });
    try {
        const to = uniqueNumber();
        const cb = `${inbox.url}/mms`;
        const ok = await twilioSend([['To', to], ['From', TWILIO_NUMBER],
            ['MediaUrl', `${media.url}/pic.png`], ['StatusCallback', cb]]);
        assert.equal(ok.status, 201);
        assert.match(ok.json.sid, MMS_RE);
        assert.equal(ok.json.num_media, '1');
        const m = await sim.waitForMessage(ok.json.sid,
                                           (x) => x.status === 'delivered');
        assert.equal(m.media[0].content_type, 'image/png');
        assert.equal(m.media[0].size, PNG.length);
        assert.equal(media.received.filter((r) => r.path === '/pic.png')
            .length, 1);

        for (const [path, code] of [['/missing.png', '11200'],
                                    ['/page.html', '12300']]) {
            const res = await twilioSend([['To', to],
                ['From', TWILIO_NUMBER], ['Body', 'look'],
                ['MediaUrl', `${media.url}/pic.png`],
                ['MediaUrl', `${media.url}${path}`],
                ['StatusCallback', cb]]);
            assert.equal(res.status, 201);
            const failed = await sim.waitForMessage(res.json.sid,
                (x) => x.status === 'failed');
            assert.equal(failed.error_code, code);
            const calls = await inbox.waitFor('/mms', 1,
                (r) => formOf(r.body).MessageSid === res.json.sid);
            assert.deepEqual(calls.map((r) => [formOf(r.body).MessageStatus,
                                               formOf(r.body).ErrorCode]),
                             [['failed', code]]);
        }
    } finally {
        await media.close();
    }
});

test('the control API lists every send in order with its fields and auth',
async () => {
    await sim.reset();
    const to = uniqueNumber();
    await twilioSend([['To', to], ['From', TWILIO_NUMBER], ['Body', 'one'],
                      ['MediaUrl', 'http://127.0.0.1:9/a.png'],
                      ['MediaUrl', 'http://127.0.0.1:9/b.png']]);
    await telnyxSend({ from: TELNYX_NUMBER, to, text: 'two' });
    await twilioSend({ To: to, From: TWILIO_NUMBER, Body: 'three' },
                     { pass: 'bad' });
    const reqs = await sim.requests({ kind: 'send' });
    assert.deepEqual(reqs.map((r) => [r.carrier, r.response.status]),
                     [['twilio', 201], ['telnyx', 200], ['twilio', 401]]);
    assert.ok(reqs[0].seq < reqs[1].seq && reqs[1].seq < reqs[2].seq);
    assert.deepEqual(reqs[0].form, [['To', to], ['From', TWILIO_NUMBER],
        ['Body', 'one'], ['MediaUrl', 'http://127.0.0.1:9/a.png'],
        ['MediaUrl', 'http://127.0.0.1:9/b.png']]);
    assert.deepEqual(reqs[0].auth, { scheme: 'basic', user: SID,
                                     password: TOKEN });
    assert.deepEqual(reqs[1].json, { from: TELNYX_NUMBER, to,
                                     text: 'two' });
    assert.deepEqual(reqs[1].auth, { scheme: 'bearer', token: KEY });
    assert.equal(reqs[0].message_id, reqs[0].response.json.sid);
    assert.equal((await sim.requests({ kind: 'send',
                                       since: reqs[1].seq })).length, 1);
});

test('the phone page is served, and its live stream carries new messages',
async () => {
    const page = await fetch(`${sim.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assert.match(await page.text(), /<script src="\/phone\.js">/);
    const js = await fetch(`${sim.url}/phone.js`);
    assert.match(js.headers.get('content-type'), /javascript/);
    await js.arrayBuffer();
    const samples = (await sim.list('samples')).map((s) => s.name);
    assert.ok(samples.includes('landscape.png'));
    assert.ok(samples.includes('sunset.jpg'));
    assert.ok(samples.includes('vcard.vcf'));

    const ctl = new AbortController();
    const stream = await fetch(`${sim.url}/_sim/events`,
                               { signal: ctl.signal });
    assert.match(stream.headers.get('content-type'), /^text\/event-stream/);
    const reader = stream.body.getReader();
    const contact = uniqueNumber();
    let text = '';
    const seen = (async () => {
        while (!text.includes(contact)) {
            const { value, done } = await reader.read();
            if (done) {
                break;
            }
            text += Buffer.from(value).toString();
        }
    })();
    await sim.inbound({ from: contact, to: TWILIO_NUMBER, body: 'live?',
                        wait: false });
    await Promise.race([seen, new Promise((r) => setTimeout(r, 3000))]);
    ctl.abort();
    assert.match(text, /event: message\ndata: .*"live\?"/);
});

test('the control API refuses what it cannot do, with a JSON error',
async () => {
    for (const [method, path, body, status] of [
        ['POST', '/config', { numbers: [{ number: '555' }] }, 400],
        ['POST', '/config', { nonsense: 1 }, 400],
        ['POST', '/failures', { type: 'explode' }, 400],
        ['POST', '/inbound', { from: 'me', body: 'x' }, 400],
        ['POST', '/inbound', { from: uniqueNumber(), to: uniqueNumber(),
                               body: 'x' }, 400],
        ['GET', '/nothing', undefined, 404],
    ]) {
        const res = await sim.control(method, path, body);
        assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
        assert.equal(typeof res.json.error.code, 'string');
        assert.equal(typeof res.json.error.message, 'string');
    }
});

test('with --state-dir the Telnyx key pair and the STOP list outlive a '
     + 'restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carrier-sim-'));
    const config = { inbox: inbox.url, telnyx: { apiKeys: [KEY] },
                     numbers: [{ number: TELNYX_NUMBER, carrier: 'telnyx' }] };
    let s = await startCarrierSim({ args: ['--state-dir', dir], config });
    try {
        const key = s.publicKey;
        const contact = uniqueNumber();
        await s.inbound({ from: contact, to: TELNYX_NUMBER, body: 'STOP' });
        await s.stop();
        s = await startCarrierSim({ args: ['--state-dir', dir], config });
        assert.equal(s.publicKey, key);
        const res = await fetch(`${s.url}/v2/messages`, { method: 'POST',
            headers: { Authorization: `Bearer ${KEY}`,
                       'Content-Type': 'application/json' },
            body: JSON.stringify({ from: TELNYX_NUMBER, to: contact,
                                   text: 'x' }) });
        assert.equal(res.status, 400);
        assert.equal((await res.json()).errors[0].code, '40300');
    } finally {
        await s.stop();
        rmSync(dir, { recursive: true, force: true });
    }
});
