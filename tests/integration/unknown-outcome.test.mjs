// A reply whose send's answer never came (the carrier's API timed out
// after taking it, a gateway's 502 or 504, a sender that died between
// sending and recording): the carrier may have delivered it, so it is
// not shown failed and its credit is not given back.  It stays sending
// ("unknown_outcome"), its credit held, and is never sent again by
// itself.  The status callback URL the sender gave the carrier names the
// message (?message=ID), so the carrier's callbacks, which find no
// message by the carrier's id, complete it: delivered, the credit spent
// once.  Only a callback of the message's own organization does: one
// signed by another organization's credentials naming it changes
// nothing.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import { inboxctl, sleep, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { TWIML_EMPTY, api, connectWs, deliverInbound, eventually,
         formEncode, newMessageSid, signTwilio } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

/* the sender gives up on a carrier's answer after 2 s; its claims last
 * longer */
const TIMEOUT_MS = 2000;

const ctx = useCluster({ orgs: [{ name: 'Sending Org' },
                                { name: 'Other Org' }],
                         carrierSim: true, sender: true,
                         senderArgs: ['--timeout', String(TIMEOUT_MS),
                                      '--lease', '10000'] });
let org;
let other;
let sim;
let billing;      // a billing user's session of org: the ledger's reader

/* A billing user of o, signed in: the session cookie. */
async function billingUser(o, email) {
    await addUser(ctx.cluster, o, email, 'correct horse 7', 'billing');
    const { cookie } = await login(ctx.cluster, email, 'correct horse 7');
    assert.ok(cookie);
    return cookie;
}

before(async () => {
    const cluster = await ctx.ready;
    [org, other] = cluster.orgs;
    sim = cluster.sim;
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100');
    await inboxctl(cluster.store, 'credits', 'grant', other.id, '100');
    billing = await billingUser(org, 'bea@sending.test');
});

async function thread(o = org) {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { org: o, from, body: 'hello?' });
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
                           o.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    assert.ok(conv, `a thread with ${from}`);
    return { from, conv };
}

async function reply(convId, body, token = org.token) {
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${convId}/messages`, token,
        { method: 'POST', body: { body } });
    assert.equal(res.status, 201, res.text);
    return res.json;
}

async function messageOf(convId, id, token = org.token) {
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${convId}/messages?limit=200`, token);
    return res.json.items.find((m) => m.id === id);
}

async function credits(token = org.token) {
    const res = await api(ctx.cluster, '/api/v1/billing', token);
    assert.equal(res.status, 200, res.text);
    return res.json.credits;
}

/* The ledger's entries for one message, oldest first. */
async function ledgerOf(messageId, cookie = billing) {
    const res = await sessionApi(ctx.cluster,
                                 '/api/v1/billing/ledger?limit=200', cookie);
    assert.equal(res.status, 200, res.text);
    return res.json.items.filter((e) => e.message_id === messageId)
        .map((e) => e.kind).reverse();
}

const sendsTo = async (to) => (await sim.requests({ kind: 'send' }))
    .filter((r) => r.form?.some(([k, v]) => k === 'To' && v === to)
                   || r.json?.to === to);

const framesOf = (ws, id) => ws.frames
    .filter((f) => f.type === 'message.status' && f.id === id)
    .map((f) => [f.status, f.error_code ?? null]);

/* Each status pushed once, forward only. */
const RANK = { queued: 0, sending: 1, sent: 2, delivered: 3,
               undelivered: 3, failed: 3 };

function forwardOnce(frames) {
    const seen = frames.map(([s]) => s);
    assert.deepEqual(seen, [...new Set(seen)], JSON.stringify(frames));
    for (let i = 1; i < seen.length; i++) {
        assert.ok(RANK[seen[i]] > RANK[seen[i - 1]], JSON.stringify(frames));
    }
}

test('a reply whose send timed out after the carrier took it ends '
     + 'delivered, as the carrier says: one send, one credit spent (held '
     + 'then captured), each step pushed once', async () => {
    const { from, conv } = await thread();
    await sim.fail({ type: 'timeout', processed: true, number: from });
    const ws = await connectWs(ctx.cluster, org.token);
    try {
        const before = await credits();
        const m = await reply(conv.id, 'See you at 9');

        const [send] = await eventually(async () => {
            const s = await sendsTo(from);
            return s.length === 1 && s;
        }, 10000, 'the send at the carrier');
        assert.equal(Object.fromEntries(send.form).StatusCallback,
            ctx.cluster.url(`/webhooks/twilio/status?message=${m.id}`));

        /* the simulator delivered it; the inbox learns it through the
         * callbacks, whatever came first: them or the sender's timeout */
        const got = await eventually(async () => {
            const x = await messageOf(conv.id, m.id);
            return x.status === 'delivered' ? x : null;
        }, TIMEOUT_MS + 10000, 'delivered');
        assert.equal(got.error_code ?? null, null);
        await ws.waitFor(() => framesOf(ws, m.id)
            .some(([s]) => s === 'delivered'), 5000, 'delivered pushed');
        forwardOnce(framesOf(ws, m.id));
        assert.ok(framesOf(ws, m.id).every(([s]) => s !== 'failed'));

        const after = await credits();
        assert.equal(after.balance, before.balance - 1);
        assert.equal(after.held, before.held);
        assert.deepEqual(await ledgerOf(m.id), ['hold', 'capture']);

        /* past the sender's timeout and a retry's backoff: sent once */
        await sleep(TIMEOUT_MS + 5000);
        assert.equal((await sendsTo(from)).length, 1);
        assert.equal((await messageOf(conv.id, m.id)).status, 'delivered');
    } finally {
        ws.close();
    }
});

test('a reply whose send timed out before the carrier took it stays '
     + 'sending, "unknown_outcome", its credit held, and is not sent '
     + 'again', async () => {
    const { from, conv } = await thread();
    await sim.fail({ type: 'timeout', processed: false, number: from });
    const ws = await connectWs(ctx.cluster, org.token);
    try {
        const before = await credits();
        const m = await reply(conv.id, 'Did this reach you?');

        const got = await eventually(async () => {
            const x = await messageOf(conv.id, m.id);
            return x.error_code === 'unknown_outcome' ? x : null;
        }, TIMEOUT_MS + 10000, 'the unknown outcome recorded');
        assert.equal(got.status, 'sending');
        await ws.waitFor(() => framesOf(ws, m.id).length === 1, 5000,
                         'the unknown outcome pushed');
        assert.deepEqual(framesOf(ws, m.id),
                         [['sending', 'unknown_outcome']]);

        const after = await credits();
        assert.equal(after.balance, before.balance - 1);
        assert.equal(after.held, before.held + 1);
        assert.deepEqual(await ledgerOf(m.id), ['hold']);

        /* past a retry's backoff (5 s): nothing more went, nothing moved */
        await sleep(6000);
        assert.equal((await sendsTo(from)).length, 1);
        const still = await messageOf(conv.id, m.id);
        assert.deepEqual([still.status, still.error_code],
                         ['sending', 'unknown_outcome']);
        assert.deepEqual(framesOf(ws, m.id),
                         [['sending', 'unknown_outcome']]);
        assert.deepEqual(await credits(), after);
    } finally {
        ws.close();
    }
});

// A Twilio status callback from `from` (a number of o's), signed with
// o's auth token for the URL it is posted to.
async function postStatus(o, path, { sid, status, to }) {
    const url = ctx.cluster.url(path);
    const pairs = [
        ['SmsSid', sid], ['SmsStatus', status], ['MessageStatus', status],
        ['To', to], ['MessageSid', sid], ['AccountSid', o.accountSid],
        ['From', o.number], ['ApiVersion', '2010-04-01'],
    ];
    const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded',
                   'X-Twilio-Signature': signTwilio(url, pairs,
                                                    o.authToken) },
        body: formEncode(pairs) });
    return { status: res.status, text: await res.text() };
}

test('a callback naming a message of another organization, or signed '
     + 'for the URL without its query, changes nothing; the message\'s '
     + 'own organization\'s completes it', async () => {
    const { from, conv } = await thread();
    await sim.fail({ type: 'timeout', processed: false, number: from });
    const m = await reply(conv.id, 'Lost on the way');
    await eventually(async () => (await messageOf(conv.id, m.id))
        .error_code === 'unknown_outcome', TIMEOUT_MS + 10000,
    'the unknown outcome recorded');
    const before = await credits();
    const ws = await connectWs(ctx.cluster, org.token);
    try {
        /* the other organization's own callback (its number, its
         * signature), naming this organization's message */
        const forged = await postStatus(other,
            `/webhooks/twilio/status?message=${m.id}`,
            { sid: newMessageSid(), status: 'failed', to: from });
        assert.equal(forged.status, 200, forged.text);
        assert.match(forged.text, TWIML_EMPTY);

        /* Twilio signs the URL with its query: one signed without it is
         * refused */
        const url = ctx.cluster.url(`/webhooks/twilio/status?message=${m.id}`);
        const pairs = [['MessageSid', newMessageSid()],
                       ['MessageStatus', 'delivered'], ['To', from],
                       ['AccountSid', org.accountSid], ['From', org.number]];
        const unsigned = await fetch(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded',
                       'X-Twilio-Signature': signTwilio(
                           ctx.cluster.url('/webhooks/twilio/status'), pairs,
                           org.authToken) },
            body: formEncode(pairs) });
        assert.equal(unsigned.status, 403);

        /* the fence: a callback of this organization for a message it
         * does not have, pushed nothing either; then the message as it
         * was */
        await postStatus(org, '/webhooks/twilio/status',
                         { sid: newMessageSid(), status: 'sent', to: from });
        let x = await messageOf(conv.id, m.id);
        assert.deepEqual([x.status, x.error_code],
                         ['sending', 'unknown_outcome']);
        assert.deepEqual(await credits(), before);
        assert.deepEqual(framesOf(ws, m.id), []);

        /* its own organization's callback naming it: the carrier's id is
         * taken, and its status */
        const sid = newMessageSid();
        const own = await postStatus(org,
            `/webhooks/twilio/status?message=${m.id}`,
            { sid, status: 'delivered', to: from });
        assert.equal(own.status, 200, own.text);
        await ws.waitFor(() => framesOf(ws, m.id).length === 1, 5000,
                         'delivered pushed');
        assert.deepEqual(framesOf(ws, m.id), [['delivered', null]]);
        x = await messageOf(conv.id, m.id);
        assert.equal(x.status, 'delivered');
        assert.deepEqual(await credits(), { balance: before.balance,
                                            held: before.held - 1 });
        assert.deepEqual(await ledgerOf(m.id), ['hold', 'capture']);

        /* by its carrier id from now on, the URL naming nothing */
        await postStatus(org, '/webhooks/twilio/status',
                         { sid, status: 'sent', to: from });
        assert.equal((await messageOf(conv.id, m.id)).status, 'delivered');
    } finally {
        ws.close();
    }
});

// An organization with a Telnyx number at the simulator and 100 credits.
async function telnyxOrg(name) {
    const cluster = ctx.cluster;
    const key = `KEY${randomBytes(12).toString('hex').toUpperCase()}`;
    const number = uniqueNumber();
    const id = await inboxctl(cluster.store, 'org', 'create', name);
    await inboxctl(cluster.store, 'number', 'add', id, number, '--carrier',
                   'telnyx', '--public-key', sim.publicKey, '--api-key',
                   key, '--api-base', sim.url);
    await inboxctl(cluster.store, 'credits', 'grant', id, '100');
    const token = await inboxctl(cluster.store, 'token', 'create', id);
    await sim.configure({ telnyx: { apiKeys: [key] },
                          numbers: [{ number, carrier: 'telnyx',
                                      apiKey: key }] });
    const cookie = await billingUser({ id },
        `tia-${randomBytes(4).toString('hex')}@telnyx.test`);
    return { number, token, cookie };
}

test('a Telnyx reply whose send timed out after Telnyx took it ends '
     + 'delivered through its webhooks, its credit spent', async () => {
    const t = await telnyxOrg('Telnyx Org');
    const from = uniqueNumber();
    const { webhook } = await sim.inbound({ from, to: t.number,
                                            body: 'hello?' });
    assert.equal(webhook.state, 'delivered');
    const list = await api(ctx.cluster, '/api/v1/conversations', t.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    await sim.fail({ type: 'timeout', processed: true, carrier: 'telnyx',
                     number: from });

    const m = await reply(conv.id, 'Telnyx, did it go?', t.token);
    const [send] = await eventually(async () => {
        const s = await sendsTo(from);
        return s.length === 1 && s;
    }, 10000, 'the send at Telnyx');
    assert.equal(send.json.webhook_url,
                 ctx.cluster.url(`/webhooks/telnyx?message=${m.id}`));

    await eventually(async () => (await messageOf(conv.id, m.id, t.token))
        .status === 'delivered', TIMEOUT_MS + 10000, 'delivered');
    assert.deepEqual(await credits(t.token), { balance: 99, held: 0 });
    assert.deepEqual(await ledgerOf(m.id, t.cookie), ['hold', 'capture']);
    assert.equal((await sendsTo(from)).length, 1);
});

test('a Telnyx reply answered 500 10007 after Telnyx took it is never sent '
     + 'again, and ends delivered through its webhooks, its credit spent',
async () => {
    const t = await telnyxOrg('Telnyx Errors Org');
    const from = uniqueNumber();
    await sim.inbound({ from, to: t.number, body: 'still there?' });
    const list = await api(ctx.cluster, '/api/v1/conversations', t.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    await sim.fail({ type: 'http_error', status: 500, processed: true,
                     carrier: 'telnyx', number: from });

    const m = await reply(conv.id, 'Yes, here', t.token);
    const [send] = await eventually(async () => {
        const s = await sendsTo(from);
        return s.length === 1 && s;
    }, 10000, 'the send at Telnyx');
    assert.equal(send.response.status, 500);
    assert.equal(send.response.json.errors[0].code, '10007');

    await eventually(async () => (await messageOf(conv.id, m.id, t.token))
        .status === 'delivered', 10000, 'delivered');
    assert.deepEqual(await credits(t.token), { balance: 99, held: 0 });
    assert.deepEqual(await ledgerOf(m.id, t.cookie), ['hold', 'capture']);
    // a retry would have sent the text twice
    await sleep(1500);
    assert.equal((await sendsTo(from)).length, 1);
});

errorLogIsCleanTest(ctx);
