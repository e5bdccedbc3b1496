// Carriers' delivery reports and Telnyx's webhooks against the real inbox
// (nginx with the module, SQLite, ws-server):
//
// - POST /webhooks/twilio/status: Twilio's status callback form, signed
//   here with the algorithm of tests/lib/inbox.mjs (the one the inbound
//   tests and the carrier simulator agree on);
// - POST /webhooks/telnyx: message.received sent by the carrier
//   simulator itself, and delivery reports signed with the simulator's own
//   key (its --state-dir keeps the key pair, which its TelnyxSigner reads
//   back) in the simulator's own message records.
//
// A report needs a message the carrier took: tests/wire/store_op
// reply-sent accepts a reply, claims it from the outbox and records the
// carrier's id, as the sender does around its request.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID, generateKeyPairSync, sign }
    from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { buildDir, inboxctl, sleep, uniqueNumber } from '../lib/cluster.mjs';
import { startCarrierSim, startReceiver } from '../lib/carrier-sim.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, assertError, connectWs, deliverInbound, formEncode,
         newMessageSid, signTwilio, TWIML_EMPTY } from '../lib/inbox.mjs';
import { png } from '../lib/media.mjs';
import { TelnyxSigner } from '../../simulator/lib/telnyx-signature.mjs';
import { messageRecord } from '../../simulator/lib/telnyx.mjs';

const execFileAsync = promisify(execFile);
const storeOp = join(buildDir, 'tests', 'wire', 'store_op');

const ctx = useCluster({ orgs: [{ name: 'Twilio Org' }] });
const stateDir = mkdtempSync(join(tmpdir(), 'inbox-sim-state-'));
const TELNYX_KEY = `KEY${randomBytes(12).toString('hex').toUpperCase()}`;
let sim;
let signer;        // the simulator's Telnyx key pair
let twilioOrg;
let telnyxOrg;     // { id, number, token }

before(async () => {
    const cluster = await ctx.ready;
    twilioOrg = cluster.orgs[0];
    await inboxctl(cluster.store, 'credits', 'grant', twilioOrg.id, '100');

    sim = await startCarrierSim({ args: ['--state-dir', stateDir],
                                  config: { inbox: cluster.baseUrl } });
    signer = new TelnyxSigner(stateDir);
    assert.equal(signer.publicKeyBase64, sim.publicKey);

    const id = await inboxctl(cluster.store, 'org', 'create', 'Telnyx Org');
    const number = uniqueNumber();
    await inboxctl(cluster.store, 'number', 'add', id, number, '--carrier',
                   'telnyx', '--public-key', sim.publicKey, '--api-key',
                   TELNYX_KEY, '--api-base', sim.url);
    await inboxctl(cluster.store, 'credits', 'grant', id, '100');
    const token = await inboxctl(cluster.store, 'token', 'create', id);
    telnyxOrg = { id, number, token };
    await sim.configure({ telnyx: { apiKeys: [TELNYX_KEY] },
                          numbers: [{ number, carrier: 'telnyx',
                                      apiKey: TELNYX_KEY }] });
});

after(async () => {
    await sim?.stop();
    rmSync(stateDir, { recursive: true, force: true });
});

// Runs one store operation; its JSON line, which must say ok.
async function store(...args) {
    const { stdout } = await execFileAsync(storeOp,
        [ctx.cluster.store, ...args], { env: { ...process.env,
            INBOX_EVENTS_SOCKET: join(ctx.cluster.dir, 'events.sock'),
            ASAN_OPTIONS: 'detect_leaks=0' } });
    const out = JSON.parse(stdout);
    assert.equal(out.status, 'ok', stdout);
    return out;
}

async function conversationWith(org, phone) {
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
                           org.token);
    assert.equal(list.status, 200, list.text);
    return list.json.items.find((c) => c.contact.phone === phone);
}

async function messagesWith(org, phone) {
    const conv = await conversationWith(org, phone);
    if (!conv) {
        return [];
    }
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    assert.equal(res.status, 200, res.text);
    return res.json.items;
}

async function messageById(org, phone, id) {
    return (await messagesWith(org, phone)).find((m) => m.id === id);
}

async function contactOf(org, id) {
    const res = await api(ctx.cluster, `/api/v1/contacts/${id}`, org.token);
    assert.equal(res.status, 200, res.text);
    return res.json;
}

// A contact who texted org (so that a thread exists), and a reply to it
// that org's carrier took with the id providerId.
async function sentReply(org, providerId, { viaTelnyx = false } = {}) {
    const contact = uniqueNumber();
    if (viaTelnyx) {
        const { webhook } = await sim.inbound({ from: contact,
            to: org.number, body: 'hello?' });
        assert.equal(webhook.state, 'delivered');
    } else {
        await deliverInbound(ctx.cluster, { org, from: contact,
                                            body: 'hello?' });
    }
    const conv = await conversationWith(org, contact);
    const out = await store('reply-sent', org.id, conv.id, 'On our way',
                            providerId);
    assert.equal(out.result.carrier, viaTelnyx ? 'telnyx' : 'twilio');
    return { contact, messageId: out.result.message_id,
             contactId: out.result.contact_id, conversationId: conv.id };
}

// Something that pushes an event after whatever was posted before it: a
// socket that has its message.created has everything before it.
async function marker(ws, org = twilioOrg) {
    const from = uniqueNumber();
    if (org === telnyxOrg) {
        await deliverTelnyx(telnyxEvent('message.received',
            inboundRecord({ from, body: 'marker' })));
    } else {
        await deliverInbound(ctx.cluster, { org, from, body: 'marker' });
    }
    await ws.waitFor((frames) => frames.some((f) =>
        f.type === 'message.created' && f.message?.body === 'marker'
        && f.conversation?.contact?.phone === from), 5000, 'the marker');
}

function statusFrames(ws, id) {
    return ws.frames.filter((f) => f.type === 'message.status'
                                   && f.id === id);
}

// The contact's contact.updated frames (a marker's new number pushes its
// own).
function contactFrames(ws, contactId) {
    return ws.frames.filter((f) => f.type === 'contact.updated'
                                   && f.contact.id === contactId);
}

// ---- Twilio ----

const STATUS_URL = () => ctx.cluster.url('/webhooks/twilio/status');

// The form of Twilio's status callback for the message sid.
function statusForm({ org = twilioOrg, sid, status, errorCode, to,
                      from = org.number }) {
    const pairs = [
        ['SmsSid', sid], ['SmsStatus', status], ['MessageStatus', status],
        ['To', to], ['MessageSid', sid], ['AccountSid', org.accountSid],
        ['From', from], ['ApiVersion', '2010-04-01'],
    ];
    if (errorCode !== undefined) {
        pairs.push(['ErrorCode', errorCode]);
    }
    return pairs;
}

// POSTs a status callback, signed with authToken (the org's by default;
// signature null: no header).
async function postStatus(pairs, { authToken = twilioOrg.authToken,
                                   signature } = {}) {
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (signature === undefined) {
        headers['X-Twilio-Signature'] = signTwilio(STATUS_URL(), pairs,
                                                   authToken);
    } else if (signature !== null) {
        headers['X-Twilio-Signature'] = signature;
    }
    const res = await fetch(STATUS_URL(), { method: 'POST', headers,
                                            body: formEncode(pairs) });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
}

async function deliverStatus(pairs, opts) {
    const res = await postStatus(pairs, opts);
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, TWIML_EMPTY);
    return res;
}

test('Twilio: sent then delivered, each pushed live as message.status; a '
     + 'late sent and a repeat change nothing and push nothing', async () => {
    const sid = newMessageSid();
    const { contact, messageId, conversationId } = await sentReply(twilioOrg,
                                                                   sid);
    const ws = await connectWs(ctx.cluster, twilioOrg.token);
    try {
        await deliverStatus(statusForm({ sid, status: 'sent', to: contact }));
        await ws.waitFor(() => statusFrames(ws, messageId).length === 1);
        await deliverStatus(statusForm({ sid, status: 'delivered',
                                         to: contact }));
        await ws.waitFor(() => statusFrames(ws, messageId).length === 2);

        /* out of order and repeated: answered 200, nothing moves */
        await deliverStatus(statusForm({ sid, status: 'sent', to: contact }));
        await deliverStatus(statusForm({ sid, status: 'delivered',
                                         to: contact }));
        await deliverStatus(statusForm({ sid, status: 'sending',
                                         to: contact }));
        await marker(ws);

        assert.deepEqual(statusFrames(ws, messageId).map((f) =>
            [f.status, f.error_code, f.conversation_id]),
            [['sent', null, conversationId],
             ['delivered', null, conversationId]]);
        const m = await messageById(twilioOrg, contact, messageId);
        assert.equal(m.status, 'delivered');
    } finally {
        ws.close();
    }
});

test('Twilio: a forged or missing signature and a number no organization '
     + 'has are 403, a malformed callback 400; nothing moves', async () => {
    const sid = newMessageSid();
    const { contact, messageId } = await sentReply(twilioOrg, sid);
    const form = statusForm({ sid, status: 'delivered', to: contact });

    assertError(await postStatus(form, { authToken: 'f'.repeat(32) }), 403,
                'forbidden');
    assertError(await postStatus(form, { signature: null }), 403,
                'forbidden');
    /* the token is right, but the number is nobody's */
    assertError(await postStatus(statusForm({ sid, status: 'delivered',
        to: contact, from: uniqueNumber() })), 403, 'forbidden');
    /* another account's callback for our number */
    const other = form.map(([k, v]) =>
        [k, k === 'AccountSid' ? `AC${randomBytes(16).toString('hex')}` : v]);
    assertError(await postStatus(other), 403, 'forbidden');

    let e = assertError(await postStatus(statusForm({ sid, status: 'bogus',
                                                      to: contact })),
                        400, 'invalid_request');
    assert.equal(e.field, 'MessageStatus');
    e = assertError(await postStatus(form.filter(([k]) => k !== 'From')),
                    400, 'invalid_request');
    assert.equal(e.field, 'From');
    e = assertError(await postStatus(statusForm({ sid, status: 'failed',
        to: contact, errorCode: '3000x' })), 400, 'invalid_request');
    assert.equal(e.field, 'ErrorCode');

    assert.equal((await messageById(twilioOrg, contact, messageId)).status,
                 'queued');
    assert.match(ctx.cluster.errorLog(),
                 /Twilio status callback from \+\d+, which no organization/);
});

test('Twilio 21610: the message failed because the contact opted out at '
     + 'the carrier, and the contact is opted out (carrier), pushed live',
     async () => {
    const sid = newMessageSid();
    const { contact, messageId, contactId } = await sentReply(twilioOrg,
                                                              sid);
    const ws = await connectWs(ctx.cluster, twilioOrg.token);
    try {
        await deliverStatus(statusForm({ sid, status: 'failed', to: contact,
                                         errorCode: '21610' }));
        const frames = await ws.waitFor((fs) =>
            fs.some((f) => f.type === 'message.status' && f.id === messageId)
            && fs.some((f) => f.type === 'contact.updated'
                              && f.contact.id === contactId),
            5000, 'message.status and contact.updated');
        const st = frames.find((f) => f.type === 'message.status'
                                      && f.id === messageId);
        assert.deepEqual([st.status, st.error_code],
                         ['failed', 'contact_opted_out']);
        const cu = frames.find((f) => f.type === 'contact.updated');
        assert.equal(cu.contact.opted_out, true);
        assert.equal(cu.contact.opt_out_source, 'carrier');

        /* Twilio says it again: 200, the first opt-out stands */
        const first = await contactOf(twilioOrg, contactId);
        await deliverStatus(statusForm({ sid, status: 'failed', to: contact,
                                         errorCode: '21610' }));
        await marker(ws);
        assert.equal(contactFrames(ws, contactId).length, 1);
        const again = await contactOf(twilioOrg, contactId);
        assert.equal(again.opted_out, true);
        assert.equal(again.opt_out_source, 'carrier');
        assert.equal(again.opted_out_at, first.opted_out_at);
        const m = await messageById(twilioOrg, contact, messageId);
        assert.deepEqual([m.status, m.error_code],
                         ['failed', 'contact_opted_out']);
    } finally {
        ws.close();
    }
});

test('Twilio: a status for a message id the store does not know yet is '
     + 'kept and answered 200 (Twilio does not retry a callback); it is '
     + 'applied when the sender records the id', async () => {
    const sid = newMessageSid();
    const contact = uniqueNumber();
    await deliverInbound(ctx.cluster, { from: contact, body: 'hi' });
    const form = statusForm({ sid, status: 'delivered', to: contact });

    const res = await postStatus(form);
    assert.equal(res.status, 200, res.text);

    /* the sender records what Twilio answered to the send: no retry */
    const conv = await conversationWith(twilioOrg, contact);
    const out = await store('reply-sent', twilioOrg.id, conv.id, 'Sure',
                            sid);
    const m = await messageById(twilioOrg, contact, out.result.message_id);
    assert.equal(m.status, 'delivered');
});

test('Twilio: status callbacks and inbound messages arriving together '
     + 'are stored in batches, each as if alone: every one answered once '
     + 'stored and pushed once; a forged one among them is refused alone',
     async () => {
    const sent = [];
    for (let i = 0; i < 12; i++) {
        const sid = newMessageSid();
        sent.push({ sid, ...(await sentReply(twilioOrg, sid)) });
    }
    const senders = Array.from({ length: 12 }, () => uniqueNumber());
    const ws = await connectWs(ctx.cluster, twilioOrg.token);
    try {
        const forged = sent[0];
        const calls = [
            ...sent.slice(1).map(({ sid, contact }) => deliverStatus(
                statusForm({ sid, status: 'delivered', to: contact }))),
            postStatus(statusForm({ sid: forged.sid, status: 'delivered',
                                    to: forged.contact }),
                       { authToken: 'f'.repeat(32) }),
            ...senders.map((from) => deliverInbound(ctx.cluster,
                { org: twilioOrg, from, body: 'together' })),
        ];
        const answers = await Promise.all(calls);
        assertError(answers[sent.length - 1], 403, 'forbidden');

        await ws.waitFor((fs) => sent.slice(1).every(({ messageId }) =>
            fs.some((f) => f.type === 'message.status'
                           && f.id === messageId))
            && senders.every((from) => fs.some((f) =>
                f.type === 'message.created'
                && f.conversation?.contact?.phone === from)),
            5000, 'every status and every inbound message');
        await marker(ws);

        for (const { messageId } of sent.slice(1)) {
            assert.deepEqual(statusFrames(ws, messageId).map((f) => f.status),
                             ['delivered']);
        }
        assert.deepEqual(statusFrames(ws, forged.messageId), []);
        for (const { contact, messageId } of sent) {
            const m = await messageById(twilioOrg, contact, messageId);
            assert.equal(m.status, messageId === forged.messageId
                                   ? 'queued' : 'delivered');
        }
        for (const from of senders) {
            const msgs = await messagesWith(twilioOrg, from);
            assert.deepEqual(msgs.map((m) => m.body), ['together']);
        }
    } finally {
        ws.close();
    }
});

test('GET on the status webhook is 405', async () => {
    const res = await fetch(STATUS_URL());
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
});

// ---- Telnyx ----

const TELNYX_URL = () => ctx.cluster.url('/webhooks/telnyx');

// An event as Telnyx sends it, its payload one of the simulator's message
// records.
function telnyxEvent(eventType, record) {
    return JSON.stringify({
        data: { event_type: eventType, id: randomUUID(),
                occurred_at: new Date().toISOString(), payload: record,
                record_type: 'event' },
        meta: { attempt: 1, delivered_to: TELNYX_URL() },
    });
}

// receivedAt: when Telnyx says it got the message (now by default).
function inboundRecord({ from, to = telnyxOrg.number, body = 'hi',
                         id = randomUUID(),
                         receivedAt = new Date().toISOString() }) {
    return messageRecord({ id, direction: 'inbound', from, to, body,
                           media: [], status: 'webhook_delivered',
                           created_at: receivedAt });
}

function outboundRecord({ id, to, status, errorCode, from = telnyxOrg.number,
                          sentAt = new Date().toISOString() }) {
    return messageRecord({ id, direction: 'outbound', from, to,
                           body: 'On our way', media: [], status,
                           created_at: sentAt, sent_at: sentAt,
                           error_code: errorCode,
                           error_message: errorCode ? 'Blocked' : undefined
                         });
}

// POSTs body, signed at `when` by the simulator's key unless headers are
// given.
async function postTelnyx(body, { headers, when } = {}) {
    const res = await fetch(TELNYX_URL(), { method: 'POST', body,
        headers: { 'Content-Type': 'application/json',
                   ...(headers ?? signer.headers(body, when)) } });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
}

async function deliverTelnyx(body) {
    const res = await postTelnyx(body);
    assert.equal(res.status, 200, res.text);
    return res;
}

test('Telnyx message.received from the simulator is stored, and a retry '
     + 'of the same message is stored once', async () => {
    const from = uniqueNumber();
    const { message, webhook } = await sim.inbound({ from,
        to: telnyxOrg.number, body: 'Do you deliver? 🚚' });
    assert.equal(webhook.state, 'delivered');
    assert.equal(webhook.attempts[0].response.status, 200);

    let msgs = await messagesWith(telnyxOrg, from);
    assert.deepEqual(msgs.map((m) => [m.direction, m.body]),
                     [['inbound', 'Do you deliver? 🚚']]);

    /* Telnyx sends it again (a new event, signed anew, the same id) */
    const again = await sim.inbound({ from, to: telnyxOrg.number,
                                      body: 'Do you deliver? 🚚',
                                      sid: message.id });
    assert.equal(again.webhook.state, 'delivered');
    assert.equal(again.webhook.attempts[0].response.status, 200);
    msgs = await messagesWith(telnyxOrg, from);
    assert.equal(msgs.length, 1);
    const conv = await conversationWith(telnyxOrg, from);
    assert.equal(conv.unread_count, 1);
});

test('Telnyx MMS: every picture is kept, pending until the sender copies '
     + 'it from Telnyx\'s link, byte for byte', async () => {
    const from = uniqueNumber();
    const { webhook, message } = await sim.inbound({ from,
        to: telnyxOrg.number, body: 'look',
        media: ['landscape.png', 'sunset.jpg'] });
    assert.equal(webhook.state, 'delivered');
    let [m] = await messagesWith(telnyxOrg, from);
    assert.equal(m.body, 'look');
    assert.deepEqual(m.media.map((x) => [x.content_type, x.state, x.url]),
                     [['image/png', 'pending', null],
                      ['image/jpeg', 'pending', null]]);

    /* the sender, for this test only (the others record sends
     * themselves): it copies what is due when it starts */
    await ctx.cluster.startSender();
    try {
        const deadline = Date.now() + 15000;
        while (!m.media.every((x) => x.state === 'stored')
               && Date.now() < deadline) {
            await sleep(100);
            [m] = await messagesWith(telnyxOrg, from);
        }
    } finally {
        await ctx.cluster.stopSender();
    }
    assert.deepEqual(m.media.map((x) => x.state), ['stored', 'stored']);
    for (const [i, { url }] of m.media.entries()) {
        const copy = await fetch(ctx.cluster.url(url));
        assert.equal(copy.status, 200);
        const original = await fetch(message.media[i].url);
        assert.deepEqual(Buffer.from(await copy.arrayBuffer()),
                         Buffer.from(await original.arrayBuffer()));
    }
});

test('Telnyx MMS whose picture has no content type (null, as Telnyx may '
     + 'send it) is stored with its text, and the picture is copied with '
     + 'the type its bytes are', async () => {
    /* a picture the simulator serves at Telnyx's link */
    const { message: shown } = await sim.inbound({ from: uniqueNumber(),
        to: telnyxOrg.number, body: 'setup', media: ['sunset.jpg'] });
    const link = shown.media[0].url;

    const from = uniqueNumber();
    const record = inboundRecord({ from, body: 'look at this' });
    record.type = 'MMS';
    record.media = [{ url: link, content_type: null, sha256: null,
                      size: null }];
    await deliverTelnyx(telnyxEvent('message.received', record));

    let [m] = await messagesWith(telnyxOrg, from);
    assert.equal(m.body, 'look at this');
    assert.deepEqual(m.media.map((x) => [x.content_type, x.state, x.url]),
                     [[null, 'pending', null]]);

    await ctx.cluster.startSender();
    try {
        const deadline = Date.now() + 15000;
        while (m.media[0].state !== 'stored' && Date.now() < deadline) {
            await sleep(100);
            [m] = await messagesWith(telnyxOrg, from);
        }
    } finally {
        await ctx.cluster.stopSender();
    }
    assert.equal(m.media[0].state, 'stored');
    assert.equal(m.media[0].content_type, 'image/jpeg');
    const copy = await fetch(ctx.cluster.url(m.media[0].url));
    assert.equal(copy.status, 200);
    const original = await fetch(link);
    assert.deepEqual(Buffer.from(await copy.arrayBuffer()),
                     Buffer.from(await original.arrayBuffer()));
});

test('Telnyx message.received with a text or a media link too long for '
     + 'Twilio is answered 200 and kept: a 2,000-character text whole, a '
     + '6,000-character one cut with a note, a 1,500-character signed link '
     + 'to copy, a 2,100-character one failed beside its text', async () => {
    const long = 'x'.repeat(2000);
    let from = uniqueNumber();
    await deliverTelnyx(telnyxEvent('message.received',
                                    inboundRecord({ from, body: long })));
    let [m] = await messagesWith(telnyxOrg, from);
    assert.equal(m?.body, long);

    from = uniqueNumber();
    await deliverTelnyx(telnyxEvent('message.received',
        inboundRecord({ from, body: 'y'.repeat(6000) })));
    [m] = await messagesWith(telnyxOrg, from);
    assert.equal(m?.body, `${'y'.repeat(5000)}\n[1000 more characters not `
                          + 'kept]');

    const link = (n) => {
        const head = 'https://media.telnyx.example/signed?X-Sig=';
        return head + 's'.repeat(n - head.length);
    };
    from = uniqueNumber();
    const record = inboundRecord({ from, body: 'two pictures' });
    record.type = 'MMS';
    record.media = [{ url: link(1500), content_type: 'image/jpeg' },
                    { url: link(2100), content_type: 'image/png' }];
    await deliverTelnyx(telnyxEvent('message.received', record));
    [m] = await messagesWith(telnyxOrg, from);
    assert.equal(m?.body, 'two pictures');
    assert.deepEqual(m.media.map((x) => [x.content_type, x.state, x.url]),
                     [['image/jpeg', 'pending', null],
                      ['image/png', 'failed', null]]);
});

test('Telnyx MMS with twelve media is answered 200 and kept: its first '
     + 'ten, and a note in its text of the two not kept', async () => {
    const from = uniqueNumber();
    const record = inboundRecord({ from, body: 'the whole album' });
    record.type = 'MMS';
    record.media = Array.from({ length: 12 }, (_, i) => ({
        url: `https://media.telnyx.example/album/${i}.jpg`,
        content_type: 'image/jpeg' }));
    await deliverTelnyx(telnyxEvent('message.received', record));
    const [m] = await messagesWith(telnyxOrg, from);
    assert.equal(m?.body, 'the whole album\n[2 more attachments not kept]');
    assert.equal(m.media.length, 10);
    assert.ok(m.media.every((x) => x.state === 'pending'));
});

test('Telnyx MMS whose link is on a private address other than the '
     + 'number\'s carrier API: stored with its text, the picture never '
     + 'fetched (no connection) and failed for good', async () => {
    const secret = await startReceiver(() => ({ status: 200, body: png(),
        headers: { 'Content-Type': 'image/png' } }));
    try {
        const from = uniqueNumber();
        const record = inboundRecord({ from, body: 'look' });
        record.type = 'MMS';
        record.media = [{ url: `${secret.url}/latest/meta-data/`,
                          content_type: 'image/png', sha256: null,
                          size: null }];
        await deliverTelnyx(telnyxEvent('message.received', record));

        let [m] = await messagesWith(telnyxOrg, from);
        assert.equal(m.body, 'look');
        await ctx.cluster.startSender();
        try {
            const deadline = Date.now() + 15000;
            while (m.media[0].state === 'pending' && Date.now() < deadline) {
                await sleep(100);
                [m] = await messagesWith(telnyxOrg, from);
            }
        } finally {
            await ctx.cluster.stopSender();
        }
        assert.deepEqual(m.media.map((x) => [x.state, x.url]),
                         [['failed', null]]);
        assert.equal(secret.connections, 0);
    } finally {
        await secret.close();
    }
});

test('a media copy goes straight to the carrier, never through a proxy '
     + 'the environment names (the proxy, not the carrier, would be what '
     + 'the address check saw)', async () => {
    const proxy = await startReceiver(() => ({ status: 200, body: png(),
        headers: { 'Content-Type': 'image/png' } }));
    const { options } = ctx.cluster;
    const wrap = options.senderWrap;
    try {
        const from = uniqueNumber();
        await sim.inbound({ from, to: telnyxOrg.number, body: 'proxied',
                            media: ['sunset.jpg'] });
        options.senderWrap = ['/usr/bin/env', `http_proxy=${proxy.url}`,
                              `HTTPS_PROXY=${proxy.url}`, 'NO_PROXY='];
        let [m] = await messagesWith(telnyxOrg, from);
        await ctx.cluster.startSender();
        try {
            const deadline = Date.now() + 15000;
            while (m.media[0].state === 'pending' && Date.now() < deadline) {
                await sleep(100);
                [m] = await messagesWith(telnyxOrg, from);
            }
        } finally {
            await ctx.cluster.stopSender();
        }
        assert.deepEqual(m.media.map((x) => [x.state, x.content_type]),
                         [['stored', 'image/jpeg']]);
        assert.equal(proxy.connections, 0);
    } finally {
        options.senderWrap = wrap;
        await proxy.close();
    }
});

test('Telnyx: a text from a new number pushes its contact after the '
     + 'message, as the contacts list has it; the retry and the next text '
     + 'push no contact; a STOP from a new number pushes it once, opted '
     + 'out', async () => {
    const ws = await connectWs(ctx.cluster, telnyxOrg.token);
    const message = ['message.created', 'conversation.updated',
                     'unread.total'];
    try {
        const [hello] = await ws.waitForTypes(['hello']);
        const from = uniqueNumber();
        const record = inboundRecord({ from, body: 'first time' });
        await deliverTelnyx(telnyxEvent('message.received', record));

        const frames = await ws.waitFor((f) => f.length >= 5);
        assert.deepEqual(frames.map((e) => e.type),
                         ['hello', ...message, 'contact.updated']);
        const made = frames[4];
        assert.equal(made.org_seq, hello.org_seq + 4);
        assert.equal(made.contact.phone, from);
        assert.equal(made.contact.conversation_id, frames[1].conversation.id);
        const listed = await api(ctx.cluster,
            `/api/v1/contacts?q=${from.slice(2)}`, telnyxOrg.token);
        assert.equal(listed.status, 200, listed.text);
        assert.deepEqual(listed.json.items, [made.contact]);

        /* Telnyx's retry (a new event, the same message id), then the
         * contact's next text */
        await deliverTelnyx(telnyxEvent('message.received', record));
        await deliverTelnyx(telnyxEvent('message.received',
            inboundRecord({ from, body: 'me again' })));
        const stop = uniqueNumber();
        await deliverTelnyx(telnyxEvent('message.received',
            inboundRecord({ from: stop, body: 'STOP' })));
        await marker(ws, telnyxOrg);

        assert.equal(contactFrames(ws, made.contact.id).length, 1);
        const stopped = ws.frames.filter((f) => f.type === 'contact.updated'
                                         && f.contact.phone === stop);
        assert.equal(stopped.length, 1, JSON.stringify(stopped));
        assert.equal(stopped[0].contact.opted_out, true);
        assert.equal(stopped[0].contact.opt_out_source, 'keyword');
    } finally {
        ws.close();
    }
});

test('Telnyx STOP opts the contact out by keyword, as a Twilio STOP does',
     async () => {
    const from = uniqueNumber();
    await deliverTelnyx(telnyxEvent('message.received',
                                    inboundRecord({ from, body: 'stop' })));
    const conv = await conversationWith(telnyxOrg, from);
    const contact = await contactOf(telnyxOrg, conv.contact.id);
    assert.equal(contact.opted_out, true);
    assert.equal(contact.opt_out_source, 'keyword');
});

test('Telnyx webhooks out of order: a START sent before a STOP that '
     + 'arrived first is stored and shown but leaves the contact opted out',
     async () => {
    const from = uniqueNumber();
    // Telnyx's own form of its times: an offset, not "Z"
    const telnyxTime = (ms) => new Date(ms).toISOString()
        .replace('Z', '+00:00');
    const sent = Date.now() - 60000;

    await deliverTelnyx(telnyxEvent('message.received', inboundRecord({
        from, body: 'STOP', receivedAt: telnyxTime(sent + 5000) })));
    await deliverTelnyx(telnyxEvent('message.received', inboundRecord({
        from, body: 'START', receivedAt: telnyxTime(sent) })));

    const conv = await conversationWith(telnyxOrg, from);
    const contact = await contactOf(telnyxOrg, conv.contact.id);
    assert.equal(contact.opted_out, true);
    assert.equal(contact.opt_out_source, 'keyword');
    assert.equal(contact.opt_out_keyword, 'STOP');
    assert.equal(conv.contact.opted_out, true);

    const inbound = (await messagesWith(telnyxOrg, from))
        .filter((m) => m.direction === 'inbound');
    assert.deepEqual(inbound.map((m) => m.body).sort(), ['START', 'STOP']);

    // a START sent after the STOP opts back in
    await deliverTelnyx(telnyxEvent('message.received', inboundRecord({
        from, body: 'START', receivedAt: telnyxTime(sent + 10000) })));
    assert.equal((await contactOf(telnyxOrg, conv.contact.id)).opted_out,
                 false);
});

test('Telnyx: a forged, stale (6 minutes), unsigned or unknown number\'s '
     + 'event is 403, a malformed one 400; other event types are 200 and '
     + 'ignored; nothing is stored', async () => {
    const from = uniqueNumber();
    const body = telnyxEvent('message.received', inboundRecord({ from }));

    const other = generateKeyPairSync('ed25519').privateKey;
    const ts = String(Math.floor(Date.now() / 1000));
    const forged = sign(null, Buffer.from(`${ts}|${body}`), other)
        .toString('base64');
    assertError(await postTelnyx(body, { headers: {
        'telnyx-signature-ed25519': forged, 'telnyx-timestamp': ts } }),
        403, 'forbidden');

    assertError(await postTelnyx(body, { when: Date.now() - 6 * 60 * 1000 }),
                403, 'forbidden');
    assertError(await postTelnyx(body, { headers: {} }), 403, 'forbidden');

    /* signed right, but the body changed after signing */
    const good = signer.headers(body);
    assertError(await postTelnyx(body.replace('"hi"', '"hi!"'),
                                 { headers: good }), 403, 'forbidden');

    const nobody = uniqueNumber();
    assertError(await postTelnyx(telnyxEvent('message.received',
        inboundRecord({ from, to: nobody }))), 403, 'forbidden');
    assert.match(ctx.cluster.errorLog(),
                 new RegExp(`Telnyx message.received about \\${nobody}, `
                            + 'which no organization has'));

    assertError(await postTelnyx('{"data": '), 400, 'invalid_request');
    const e = assertError(await postTelnyx(JSON.stringify({ data: {
        event_type: 'message.received', payload: { id: randomUUID() } } })),
        400, 'invalid_request');
    assert.match(e.field, /^data\.payload\./);

    const ignored = await postTelnyx(JSON.stringify({ data: {
        event_type: 'number_order.complete', id: randomUUID(),
        payload: {} } }));
    assert.equal(ignored.status, 200);

    assert.deepEqual(await messagesWith(telnyxOrg, from), []);
});

test('Telnyx message.sent and message.finalized move the status, pushed '
     + 'live; a late message.sent and a repeat change nothing',
     async () => {
    const id = randomUUID();
    const { contact, messageId } = await sentReply(telnyxOrg, id,
                                                   { viaTelnyx: true });
    const ws = await connectWs(ctx.cluster, telnyxOrg.token);
    try {
        const sent = telnyxEvent('message.sent',
            outboundRecord({ id, to: contact, status: 'sent' }));
        const delivered = telnyxEvent('message.finalized',
            outboundRecord({ id, to: contact, status: 'delivered' }));
        await deliverTelnyx(sent);
        await ws.waitFor(() => statusFrames(ws, messageId).length === 1);
        await deliverTelnyx(delivered);
        await ws.waitFor(() => statusFrames(ws, messageId).length === 2);
        await deliverTelnyx(sent);
        await deliverTelnyx(delivered);
        await marker(ws, telnyxOrg);
        assert.deepEqual(statusFrames(ws, messageId).map((f) => f.status),
                         ['sent', 'delivered']);
        assert.equal((await messageById(telnyxOrg, contact, messageId))
            .status, 'delivered');

        /* a report about a number that is not the organization's: 403 */
        assertError(await postTelnyx(telnyxEvent('message.finalized',
            outboundRecord({ id, to: contact, status: 'delivery_failed',
                             from: uniqueNumber() }))), 403, 'forbidden');
        /* a report for a message nobody recorded yet: kept, 200 */
        const early = await postTelnyx(telnyxEvent('message.sent',
            outboundRecord({ id: randomUUID(), to: contact,
                             status: 'sent' })));
        assert.equal(early.status, 200, early.text);
    } finally {
        ws.close();
    }
});

test('Telnyx message.finalized delivery_unconfirmed that comes before the '
     + 'send is recorded is kept: the record leaves the message sent and '
     + 'spends its credit then, not held for three days', async () => {
    const credits = async () => {
        const res = await api(ctx.cluster, '/api/v1/billing',
                              telnyxOrg.token);
        assert.equal(res.status, 200, res.text);
        return res.json.credits;
    };
    const before = await credits();

    /* no message has this id yet: kept, 200 */
    const id = randomUUID();
    await deliverTelnyx(telnyxEvent('message.finalized',
        outboundRecord({ id, to: uniqueNumber(),
                         status: 'delivery_unconfirmed' })));

    const { contact, messageId } = await sentReply(telnyxOrg, id,
                                                   { viaTelnyx: true });
    assert.equal((await messageById(telnyxOrg, contact, messageId)).status,
                 'sent');
    assert.deepEqual(await credits(), { balance: before.balance - 1,
                                        held: before.held });
});

test('Telnyx 40300: the message failed because the contact opted out at '
     + 'the carrier, and the contact is opted out (carrier)', async () => {
    const id = randomUUID();
    const { contact, messageId, contactId } = await sentReply(telnyxOrg, id,
        { viaTelnyx: true });
    const ws = await connectWs(ctx.cluster, telnyxOrg.token);
    try {
        await deliverTelnyx(telnyxEvent('message.finalized',
            outboundRecord({ id, to: contact, status: 'sending_failed',
                             errorCode: '40300' })));
        const frames = await ws.waitFor((fs) =>
            fs.some((f) => f.type === 'message.status' && f.id === messageId)
            && fs.some((f) => f.type === 'contact.updated'),
            5000, 'message.status and contact.updated');
        const st = frames.find((f) => f.type === 'message.status');
        assert.deepEqual([st.status, st.error_code],
                         ['failed', 'contact_opted_out']);
        const cu = frames.find((f) => f.type === 'contact.updated');
        assert.equal(cu.contact.id, contactId);
        assert.equal(cu.contact.opt_out_source, 'carrier');
        const c = await contactOf(telnyxOrg, contactId);
        assert.equal(c.opted_out, true);
    } finally {
        ws.close();
    }
});

test('Telnyx 40300 that comes after the contact texted STOP and START, for '
     + 'a message sent before, leaves the contact opted in; one for a '
     + 'message sent after START opts it out', async () => {
    const id = randomUUID();
    const { contact, messageId, contactId, conversationId } =
        await sentReply(telnyxOrg, id, { viaTelnyx: true });
    await deliverTelnyx(telnyxEvent('message.received',
        inboundRecord({ from: contact, body: 'STOP' })));
    assert.equal((await contactOf(telnyxOrg, contactId)).opted_out, true);
    await deliverTelnyx(telnyxEvent('message.received',
        inboundRecord({ from: contact, body: 'START' })));
    assert.equal((await contactOf(telnyxOrg, contactId)).opted_out, false);

    /* Telnyx's report of the reply sent before the STOP, late */
    const ws = await connectWs(ctx.cluster, telnyxOrg.token);
    try {
        await deliverTelnyx(telnyxEvent('message.finalized',
            outboundRecord({ id, to: contact, status: 'sending_failed',
                             errorCode: '40300' })));
        await marker(ws, telnyxOrg);
        assert.deepEqual(statusFrames(ws, messageId).map((f) =>
            [f.status, f.error_code]), [['failed', 'contact_opted_out']]);
        assert.equal(contactFrames(ws, contactId).length, 0);
    } finally {
        ws.close();
    }
    const c = await contactOf(telnyxOrg, contactId);
    assert.equal(c.opted_out, false);
    assert.equal(c.opt_out_source, null);

    /* the business may answer the contact again */
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${conversationId}/messages`, telnyxOrg.token,
        { method: 'POST', body: { body: 'Welcome back' } });
    assert.equal(res.status, 201, res.text);

    /* a message Telnyx took after the START and refused: opted out */
    const later = randomUUID();
    await store('reply-sent', telnyxOrg.id, conversationId, 'Still there?',
                later);
    await deliverTelnyx(telnyxEvent('message.finalized',
        outboundRecord({ id: later, to: contact, status: 'sending_failed',
                         errorCode: '40300' })));
    const after = await contactOf(telnyxOrg, contactId);
    assert.equal(after.opted_out, true);
    assert.equal(after.opt_out_source, 'carrier');
});

test('Twilio 21610 that comes after the contact texted STOP and START, for '
     + 'a message sent before, leaves the contact opted in', async () => {
    const sid = newMessageSid();
    const { contact, messageId, contactId } = await sentReply(twilioOrg,
                                                              sid);
    await deliverInbound(ctx.cluster, { from: contact, body: 'STOP' });
    await deliverInbound(ctx.cluster, { from: contact, body: 'START' });

    await deliverStatus(statusForm({ sid, status: 'failed', to: contact,
                                     errorCode: '21610' }));
    const m = await messageById(twilioOrg, contact, messageId);
    assert.deepEqual([m.status, m.error_code],
                     ['failed', 'contact_opted_out']);
    assert.equal((await contactOf(twilioOrg, contactId)).opted_out, false);
});

errorLogIsCleanTest(ctx);
