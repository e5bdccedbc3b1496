// Replies end to end: the API accepts a reply, nginx wakes the sender,
// the sender sends it to the carrier (the simulator, Twilio's real wire
// format), the carrier's signed status callbacks move it on, and every
// step reaches the organization's WebSocket.  And what goes wrong on the
// way: a carrier that fails for a while, answers 429 or cannot be
// reached, a carrier that blocks the contact, a sender killed in the
// middle of a send.  And the carriers' other endings: Telnyx's
// delivery_unconfirmed, which ends a reply's hold without a receipt, its
// expired, which gives the credit back, and Twilio's partially_delivered.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import { inboxctl, senderPath, sleep, sqlite3Path, uniqueNumber }
    from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, connectWs, deliverInbound, eventually, importContactsCsv,
         storeOp } from '../lib/inbox.mjs';
import { png, upload } from '../lib/media.mjs';

// a short lease, so that a killed sender's claim comes back within a test
const LEASE_MS = 2500;

const ctx = useCluster({ orgs: [{ name: 'Sending Org' }], carrierSim: true,
                         sender: true,
                         senderArgs: ['--lease', String(LEASE_MS),
                                      '--timeout', '2000'] });
let org;
let sim;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    sim = cluster.sim;
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100');
});

// A thread with a contact who texted the organization.
async function thread(body = 'hello?') {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body });
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    assert.ok(conv, `a thread with ${from}`);
    return { from, conv };
}

async function reply(convId, body, extra = {}) {
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${convId}/messages`, org.token,
        { method: 'POST', body: { body, ...extra } });
    assert.equal(res.status, 201, res.text);
    return res.json;
}

async function billing() {
    const res = await api(ctx.cluster, '/api/v1/billing', org.token);
    assert.equal(res.status, 200, res.text);
    return res.json.credits;
}

// What the carrier was asked to send to a number.
async function sendsTo(to) {
    return (await sim.requests({ kind: 'send' }))
        .filter((r) => r.form?.some(([k, v]) => k === 'To' && v === to));
}

async function messageOf(convId, id) {
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${convId}/messages?limit=200`, org.token);
    return res.json.items.find((m) => m.id === id);
}

const statusesOf = (frames, id) => frames
    .filter((f) => f.type === 'message.status' && f.id === id)
    .map((f) => f.status);

test('a reply goes to the carrier as Twilio expects it, and its ticks move '
     + 'live to delivered; its credit is spent once', async () => {
    const { from, conv } = await thread();
    const ws = await connectWs(ctx.cluster, org.token);
    const before = await billing();
    try {
        const m = await reply(conv.id, 'We open at 9 on Sundays.');
        assert.equal(m.status, 'queued');

        await ws.waitFor((frames) => statusesOf(frames, m.id)
            .includes('delivered'), 10000, 'delivered');
        const seen = statusesOf(ws.frames, m.id);
        /* forward only, each once */
        assert.deepEqual(seen, [...new Set(seen)]);
        assert.equal(seen[seen.length - 1], 'delivered');

        const [send] = await sim.requests({ kind: 'send' })
            .then((all) => all.filter((r) => r.form?.some(
                ([k, v]) => k === 'To' && v === from)));
        assert.ok(send, 'the simulator got the send');
        assert.equal(send.method, 'POST');
        assert.equal(send.path,
                     `/2010-04-01/Accounts/${org.accountSid}/Messages.json`);
        assert.deepEqual(send.auth, { scheme: 'basic', user: org.accountSid,
                                      password: org.authToken });
        const form = Object.fromEntries(send.form);
        assert.equal(form.From, org.number);
        assert.equal(form.Body, 'We open at 9 on Sundays.');
        /* the callback names the message: a lost answer to the send
         * does not lose its carrier id */
        assert.equal(form.StatusCallback, ctx.cluster.url(
            `/webhooks/twilio/status?message=${m.id}`));

        assert.equal((await messageOf(conv.id, m.id)).status, 'delivered');
        const after = await billing();
        assert.equal(after.balance, before.balance - 1);
        assert.equal(after.held, 0);
    } finally {
        ws.close();
    }
});

test('an MMS reply: the carrier fetches the uploaded image from the '
     + 'inbox, and it costs 2 credits', async () => {
    const { from, conv } = await thread();
    const image = png(16, 16);
    const up = await upload(ctx.cluster, image, {
        Authorization: `Bearer ${org.token}`, 'Content-Type': 'image/png' });
    assert.equal(up.status, 201, up.text);
    const before = await billing();

    const m = await reply(conv.id, 'Here is the map', {
        media_ids: [up.json.id] });
    assert.equal(m.credits, 2);
    await eventually(async () => (await messageOf(conv.id, m.id)).status
        === 'delivered', 10000, 'the MMS delivered');

    /* the carrier fetched our copy from the public URL: the same bytes */
    const [sent] = await sim.messages({ contact: from,
                                        direction: 'outbound' });
    assert.ok(sent, 'the carrier has the MMS');
    assert.equal(sent.media.length, 1);
    assert.equal(sent.media[0].url, ctx.cluster.url(up.json.url));
    assert.equal(sent.media[0].content_type, 'image/png');
    assert.equal(sent.media[0].sha256,
                 createHash('sha256').update(image).digest('hex'));
    assert.equal((await billing()).balance, before.balance - 2);
});

test('a carrier answering 503 is tried again and the reply still goes, '
     + 'once', async () => {
    const { from, conv } = await thread();
    await sim.fail({ type: 'http_error', status: 503, count: 1,
                     number: from });
    const m = await reply(conv.id, 'Second try');
    await eventually(async () => (await messageOf(conv.id, m.id)).status
        === 'delivered', 20000, 'delivered after a retry');
    const sends = (await sim.requests({ kind: 'send' })).filter((r) =>
        r.form?.some(([k, v]) => k === 'To' && v === from));
    assert.deepEqual(sends.map((r) => r.response.status), [503, 201]);
});

test('a carrier\'s 429 without Retry-After holds the number 1 s each time '
     + 'sends in between went: the hold doubles only for 429s in a row',
     async () => {
    const { from, conv } = await thread();
    const gaps = [];
    for (let i = 0; i < 3; i++) {
        await sim.fail({ type: 'rate_limit', count: 1, number: from });
        await reply(conv.id, `Slowly ${i}`);
        const sends = await eventually(async () => {
            const got = (await sim.requests({ kind: 'send' })).filter((r) =>
                r.form?.some(([k, v]) => k === 'To' && v === from));
            return got.length === 2 * (i + 1) ? got : null;
        }, 20000, `reply ${i} sent`);
        const [refused, sent] = sends.slice(-2);
        assert.deepEqual([refused.response.status, sent.response.status],
                         [429, 201]);
        gaps.push(Date.parse(sent.at) - Date.parse(refused.at));
    }
    // doubling on would hold the second 2 s and the third 4 s
    assert.ok(gaps.every((g) => g < 2000), `sent again after ${gaps} ms`);
});

test('a reply to a carrier that cannot be reached (connection refused) '
     + 'stays queued for a retry: nothing was sent, so it is not failed as '
     + '"may have been sent"', async () => {
    const cluster = ctx.cluster;
    const down = await cluster.addOrg({ name: 'Down Org' });
    // nothing listens on port 9: connect() is refused at once
    await inboxctl(cluster.store, 'number', 'set', down.id, down.number,
        '--carrier', 'twilio', '--account-sid', down.accountSid,
        '--auth-token', down.authToken, '--api-base', 'http://127.0.0.1:9');
    await inboxctl(cluster.store, 'credits', 'grant', down.id, '10');
    const from = uniqueNumber();
    await deliverInbound(cluster, { org: down, from, body: 'hello?' });
    const list = await api(cluster, '/api/v1/conversations', down.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    const res = await api(cluster, `/api/v1/conversations/${conv.id}/messages`,
        down.token, { method: 'POST', body: { body: 'Carrier down' } });
    assert.equal(res.status, 201, res.text);

    await eventually(() => cluster.senderLog().includes(
        `message ${res.json.id}: retry`), 10000, 'the send tried');
    // the store's record of it: its claim's lease let go, one attempt
    // counted, due again later
    const outbox = () => execFileSync(sqlite3Path, ['-cmd', '.timeout 5000',
        cluster.storePath, 'SELECT attempts, lease_until IS NULL, due_at'
        + ` FROM outbox WHERE message_id = ${Number(res.json.id)}`])
        .toString().trim().split('|').map(Number);
    await eventually(() => outbox()[1] === 1, 10000, 'the retry recorded');
    const [attempts, , dueAt] = outbox();
    assert.equal(attempts, 1);
    assert.ok(dueAt > Date.now(), `due again at ${dueAt}`);
    const page = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, down.token);
    const m = page.json.items.find((x) => x.id === res.json.id);
    assert.equal(m.status, 'queued', JSON.stringify(m));
    assert.ok(!m.error_code, JSON.stringify(m));
});

test('billing made inactive while a reply waits out a retry: it is not '
     + 'sent, fails as billing_inactive and costs nothing', async () => {
    const { from, conv } = await thread();
    await sim.fail({ type: 'http_error', status: 503, count: 1,
                     number: from });
    const before = await billing();
    const m = await reply(conv.id, 'Sent while billing lapsed?');
    const sendsTo = async () => (await sim.requests({ kind: 'send' }))
        .filter((r) => r.form?.some(([k, v]) => k === 'To' && v === from));
    await eventually(async () => (await sendsTo()).length === 1, 10000,
                     'the first try reached the carrier');
    await inboxctl(ctx.cluster.store, 'billing', 'set', org.id, 'inactive');
    try {
        await eventually(async () => (await messageOf(conv.id, m.id)).status
            === 'failed', 20000, 'failed after the retry came due');
        const got = await messageOf(conv.id, m.id);
        assert.equal(got.error_code, 'billing_inactive');
        /* only the 503: the retry never reached the carrier */
        assert.deepEqual((await sendsTo()).map((r) => r.response.status),
                         [503]);
    } finally {
        await inboxctl(ctx.cluster.store, 'billing', 'set', org.id,
                       'active');
    }
    assert.equal((await billing()).balance, before.balance);
    assert.equal((await billing()).held, before.held);
});

test('a contact the carrier blocks (21610) fails as opted out, not as a '
     + 'failure, and is opted out in the inbox', async () => {
    const { from, conv } = await thread();
    /* the contact's STOP reached the carrier, never the inbox */
    await sim.configure({ inbox: 'http://127.0.0.1:9' });
    try {
        await sim.inbound({ from, body: 'STOP' });
    } finally {
        await sim.configure({ inbox: ctx.cluster.baseUrl });
    }
    const ws = await connectWs(ctx.cluster, org.token);
    try {
        const before = await billing();
        const m = await reply(conv.id, 'Are you still there?');
        await ws.waitFor((frames) => frames.some((f) =>
            f.type === 'contact.updated' && f.contact.phone === from
            && f.contact.opted_out), 10000, 'contact.updated');
        const got = await messageOf(conv.id, m.id);
        assert.equal(got.status, 'failed');
        assert.equal(got.error_code, 'contact_opted_out');
        const contact = await api(ctx.cluster,
            `/api/v1/contacts/${conv.contact.id}`, org.token);
        assert.equal(contact.json.opt_out_source, 'carrier');
        /* a failed send costs nothing */
        assert.equal((await billing()).balance, before.balance);
        const again = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body: 'hello?' } });
        assert.equal(again.status, 409, again.text);
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
    const credits = async () => {
        const res = await api(cluster, '/api/v1/billing', token);
        assert.equal(res.status, 200, res.text);
        return res.json.credits;
    };
    return { number, token, credits };
}

// A contact's text to the Telnyx organization t, and its thread.
async function telnyxThread(t, from) {
    const { webhook } = await sim.inbound({ from, to: t.number,
                                            body: 'hello?' });
    assert.equal(webhook.state, 'delivered');
    const list = await api(ctx.cluster, '/api/v1/conversations', t.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    assert.ok(conv, `a thread with ${from}`);
    return conv;
}

// The status reports the simulator sent the inbox for its one message to
// from, once one of `last` was taken.
async function telnyxReports(from, last) {
    const [sent] = await eventually(async () => {
        const all = await sim.messages({ contact: from,
                                         direction: 'outbound' });
        return all.length === 1 && all;
    }, 10000, 'the send');
    return eventually(async () => {
        const all = (await sim.webhooks({ message_id: sent.id }))
            .filter((w) => w.kind === 'status');
        return all.some((w) => w.status === last
                               && w.state === 'delivered') && all;
    }, 10000, 'message.finalized');
}

test('a Telnyx reply finalized delivery_unconfirmed (the contact\'s '
     + 'carrier sends no receipt) stays sent and spends its credit then, '
     + 'not held for three days', async () => {
    const cluster = ctx.cluster;
    const t = await telnyxOrg('Telnyx Org');
    const from = uniqueNumber();
    await sim.fail({ type: 'final_status', carrier: 'telnyx', number: from,
                     status: 'unconfirmed' });
    const conv = await telnyxThread(t, from);

    const res = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, t.token,
        { method: 'POST', body: { body: 'We open at 9.' } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(await t.credits(), { balance: 99, held: 1 });

    /* message.sent, then message.finalized: both taken */
    const reports = await telnyxReports(from, 'delivery_unconfirmed');
    assert.deepEqual(reports.map((w) => [w.status, w.state]),
                     [['sent', 'delivered'],
                      ['delivery_unconfirmed', 'delivered']]);

    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, t.token);
    assert.equal(msgs.json.items.find((m) => m.id === res.json.id).status,
                 'sent');
    assert.deepEqual(await t.credits(), { balance: 99, held: 0 });
});

test('a Telnyx reply finalized expired (the carrier gave up within the '
     + 'validity period) is undelivered, live and in the thread, and its '
     + 'credit comes back', async () => {
    const cluster = ctx.cluster;
    const t = await telnyxOrg('Telnyx Expiry Org');
    const from = uniqueNumber();
    await sim.fail({ type: 'final_status', carrier: 'telnyx', number: from,
                     status: 'expired' });
    const conv = await telnyxThread(t, from);
    const ws = await connectWs(cluster, t.token);
    try {
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, t.token,
            { method: 'POST', body: { body: 'Your table is ready.' } });
        assert.equal(res.status, 201, res.text);
        assert.deepEqual(await t.credits(), { balance: 99, held: 1 });

        /* taken, not refused: Telnyx would give up on it after retries */
        const reports = await telnyxReports(from, 'expired');
        assert.deepEqual(reports.map((w) => [w.status, w.state]),
                         [['sent', 'delivered'],
                          ['expired', 'delivered']]);

        await ws.waitFor((frames) => statusesOf(frames, res.json.id)
            .includes('undelivered'), 10000, 'undelivered');
        const msgs = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, t.token);
        const got = msgs.json.items.find((m) => m.id === res.json.id);
        assert.equal(got.status, 'undelivered');
        assert.equal(got.error_code, '40005');
        /* released, as for any message that never arrived */
        assert.deepEqual(await t.credits(), { balance: 100, held: 0 });
    } finally {
        ws.close();
    }
});

test('a reply the carrier reports undelivered minutes after it was sent '
     + 'says so as its thread\'s last message, in the list and the thread, '
     + 'told live by its message.status; the contact\'s answer, the last '
     + 'then, says nothing of it', async () => {
    const { from, conv } = await thread();
    await sim.fail({ type: 'final_status', carrier: 'twilio', number: from,
                     status: 'undelivered', error_code: 30003 });
    const ws = await connectWs(ctx.cluster, org.token);
    try {
        const m = await reply(conv.id, 'Your order is ready.');

        /* the frame names the thread, so that its row follows */
        const frames = await ws.waitFor((all) => all.some((f) =>
            f.type === 'message.status' && f.id === m.id
            && f.status === 'undelivered'), 10000, 'undelivered');
        const told = frames.find((f) => f.type === 'message.status'
                                 && f.id === m.id
                                 && f.status === 'undelivered');
        assert.equal(told.conversation_id, conv.id);
        assert.equal(told.error_code, '30003');

        const one = await api(ctx.cluster, `/api/v1/conversations/${conv.id}`,
                              org.token);
        assert.equal(one.status, 200, one.text);
        assert.equal(one.json.last_message.id, m.id);
        assert.equal(one.json.last_message.status, 'undelivered');
        assert.equal(one.json.last_message.error_code, '30003');
        const list = await api(ctx.cluster,
            '/api/v1/conversations?limit=200', org.token);
        const row = list.json.items.find((c) => c.id === conv.id);
        assert.equal(row.last_message.status, 'undelivered');
        assert.equal(row.last_message.error_code, '30003');

        /* the reply's own frames said it queued */
        const created = frames.find((f) => f.type === 'message.created'
                                    && f.message.id === m.id);
        assert.equal(created.conversation.last_message.status, 'queued');

        await deliverInbound(ctx.cluster, { from, body: 'Thanks!' });
        const after = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}`, org.token);
        assert.equal(after.json.last_message.direction, 'inbound');
        assert.equal(after.json.last_message.status, null);
        assert.equal(after.json.last_message.error_code, null);
    } finally {
        ws.close();
    }
});

test('a Twilio reply partially_delivered is delivered and spends its '
     + 'credit, not left sent and held', async () => {
    const { from, conv } = await thread();
    await sim.fail({ type: 'final_status', carrier: 'twilio', number: from,
                     status: 'partially_delivered' });
    const before = await billing();
    const m = await reply(conv.id, 'A long reply, in two parts.');
    await eventually(async () => {
        const all = await sim.webhooks({ kind: 'status', carrier: 'twilio' });
        return all.some((w) => w.status === 'partially_delivered'
                               && w.state === 'delivered');
    }, 10000, 'partially_delivered taken');
    assert.equal((await messageOf(conv.id, m.id)).status, 'delivered');
    const after = await billing();
    assert.equal(after.balance, before.balance - 1);
    assert.equal(after.held, before.held);
});


test('a sender killed in the middle of a send: what it had sent is '
     + 'reported, never sent twice, and what waited goes out after the '
     + 'restart', async () => {
    const cluster = ctx.cluster;
    const first = await thread();
    const second = await thread();

    /* the carrier takes the request and never answers */
    await sim.fail({ type: 'timeout', count: 1, number: first.from });
    const hung = await reply(first.conv.id, 'Did this go?');
    await eventually(async () => (await sendsTo(first.from)).length === 1,
                     10000, 'the send reached the carrier');
    await cluster.stopSender('SIGKILL');

    /* queued while no sender runs */
    const waiting = await reply(second.conv.id, 'Queued meanwhile');
    await sleep(300);
    assert.equal((await sendsTo(second.from)).length, 0);

    await cluster.startSender();
    await eventually(async () => (await messageOf(second.conv.id,
        waiting.id)).status === 'delivered', 15000, 'the waiting reply');

    /* the hung one comes back after its lease: reported, not resent;
     * the carrier may have it, so it is not failed */
    const got = await eventually(async () => {
        const m = await messageOf(first.conv.id, hung.id);
        return m.error_code === 'unknown_outcome' ? m : null;
    }, LEASE_MS + 10000, 'the interrupted send reported');
    assert.equal(got.status, 'sending');
    assert.equal((await sendsTo(first.from)).length, 1);
    assert.equal((await sendsTo(second.from)).length, 1);
    await sim.ok('POST', '/reset', {});
});

test('status callbacks that overtake the carrier\'s answer to the send '
     + 'are kept: the reply still reaches delivered, live, with a carrier '
     + 'that never retries a callback', async () => {
    const { from, conv } = await thread();
    /* the simulator, as Twilio, sends no callback answered 5xx again:
     * the StatusCallback the sender gives has no connection overrides */
    await sim.fail({ type: 'late_answer', delay_ms: 700, number: from });
    const ws = await connectWs(ctx.cluster, org.token);
    try {
        const before = await billing();
        const m = await reply(conv.id, 'Your table is ready');
        await ws.waitFor((frames) => statusesOf(frames, m.id)
            .includes('delivered'), 10000, 'delivered');
        const got = await messageOf(conv.id, m.id);
        assert.equal(got.status, 'delivered');
        /* every callback came before the answer, and each was taken */
        const calls = (await sim.requests({ kind: 'send' })).filter((r) =>
            r.form?.some(([k, v]) => k === 'To' && v === from));
        assert.equal(calls.length, 1);
        assert.equal(calls[0].response.delayed_ms, 700);
        /* its credit spent once, as for any delivered reply */
        const after = await billing();
        assert.equal(after.balance, before.balance - 1);
        assert.equal(after.held, before.held);
    } finally {
        ws.close();
    }
});

test('a reply queued before its contact texts STOP is never sent: it '
     + 'fails as opted out at no cost, and only the confirmation goes',
     async () => {
    const cluster = ctx.cluster;
    const { from, conv } = await thread();
    const before = await billing();

    /* no sender runs: the reply waits in the outbox while STOP comes */
    await cluster.stopSender('SIGTERM');
    try {
        const m = await reply(conv.id, 'Your order is ready');
        await deliverInbound(cluster, { from, body: 'STOP' });
        const contact = await api(cluster,
            `/api/v1/contacts/${conv.contact.id}`, org.token);
        assert.equal(contact.json.opted_out, true);

        const ws = await connectWs(cluster, org.token);
        try {
            await cluster.startSender();
            await ws.waitFor((frames) => statusesOf(frames, m.id)
                .includes('failed'), 10000, 'the reply reported failed');
        } finally {
            ws.close();
        }
        const got = await messageOf(conv.id, m.id);
        assert.equal(got.status, 'failed');
        assert.equal(got.error_code, 'contact_opted_out');

        /* the one confirmation of the keyword goes; the reply never */
        const sends = await eventually(async () => {
            const all = await sendsTo(from);
            return all.length > 0 ? all : null;
        }, 10000, 'the STOP confirmation sent');
        await sleep(300);
        assert.equal((await sendsTo(from)).length, 1);
        const body = sends[0].form.find(([k]) => k === 'Body')[1];
        assert.notEqual(body, 'Your order is ready');
        assert.equal((await billing()).balance, before.balance);
    } finally {
        if (!cluster.sender) {
            await cluster.startSender();
        }
    }
});

// A keyword's answer the sender could not start within 5 minutes: the
// sender stopped while the keyword (body) comes, the answer written six
// minutes ago as if it had been down since, the sender back; the answer,
// once reported failed.
async function answeredLate(from, conv, body) {
    const cluster = ctx.cluster;
    await cluster.stopSender('SIGTERM');
    try {
        await deliverInbound(cluster, { from, body });
        const msgs = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token);
        const answer = msgs.json.items.find((m) => m.direction === 'outbound');
        assert.ok(answer, 'the answer queued with the keyword');
        assert.equal(answer.status, 'queued');
        execFileSync(sqlite3Path, [cluster.storePath,
            `UPDATE messages SET created_at = created_at - 360000
              WHERE id = ${Number(answer.id)}`]);

        const ws = await connectWs(cluster, org.token);
        try {
            await cluster.startSender();
            await ws.waitFor((frames) => statusesOf(frames, answer.id)
                .includes('failed'), 10000, 'the answer reported failed');
        } finally {
            ws.close();
        }
        return answer;
    } finally {
        if (!cluster.sender) {
            await cluster.startSender();
        }
    }
}

test('a STOP\'s confirmation that could not go within 5 minutes (the '
     + 'sender was down) is never sent: it fails as late, at no cost',
     async () => {
    const { from, conv } = await thread('what time do you open?');
    const before = await billing();

    const answer = await answeredLate(from, conv, 'STOP');
    const got = await messageOf(conv.id, answer.id);
    assert.equal(got.status, 'failed');
    assert.equal(got.error_code, 'answer_late');
    await sleep(300);
    assert.equal((await sendsTo(from)).length, 0);
    assert.deepEqual(await billing(), before);
});

test('a HELP whose answer failed as late is no HELP answered: the '
     + 'contact\'s next HELP, the same day, is', async () => {
    const { from, conv } = await thread('hello?');

    const late = await answeredLate(from, conv, 'HELP');
    assert.equal((await messageOf(conv.id, late.id)).error_code,
                 'answer_late');
    await deliverInbound(ctx.cluster, { from, body: 'help' });
    await eventually(async () => (await sendsTo(from)).length === 1,
                     10000, 'the second HELP answered');
    const [sent] = await sendsTo(from);
    assert.match(new Map(sent.form).get('Body'), /reply STOP/i);
});

test('many replies answered together are each recorded once with its own '
     + 'outcome: the delivered ones spend their credit, the blocked and '
     + 'withdrawn ones fail at no cost', async () => {
    const cluster = ctx.cluster;
    const plain = [];
    for (let i = 0; i < 16; i++) {
        plain.push(await thread());
    }
    const blocked = [await thread(), await thread()];
    const withdrawn = [await thread(), await thread()];

    /* STOP reached the carrier for these, never the inbox */
    await sim.configure({ inbox: 'http://127.0.0.1:9' });
    try {
        for (const t of blocked) {
            await sim.inbound({ from: t.from, body: 'STOP' });
        }
    } finally {
        await sim.configure({ inbox: ctx.cluster.baseUrl });
    }

    const before = await billing();
    /* queued while no sender runs: claimed and answered together */
    await cluster.stopSender('SIGTERM');
    const sent = [];
    try {
        for (const t of [...plain, ...blocked, ...withdrawn]) {
            sent.push({ ...t, m: await reply(t.conv.id, `For ${t.from}`) });
        }
        /* these opt out in the inbox after their reply was queued */
        for (const t of withdrawn) {
            await deliverInbound(cluster, { from: t.from, body: 'STOP' });
        }
    } finally {
        await cluster.startSender();
    }

    const final = (s) => s === 'delivered' || s === 'failed';
    const got = await eventually(async () => {
        const all = await Promise.all(sent.map((t) =>
            messageOf(t.conv.id, t.m.id)));
        return all.every((m) => final(m.status)) ? all : null;
    }, 20000, 'every reply delivered or failed');

    const byFrom = new Map(sent.map((t, i) => [t.from, got[i]]));
    for (const t of plain) {
        assert.equal(byFrom.get(t.from).status, 'delivered', t.from);
        assert.equal((await sendsTo(t.from)).length, 1, t.from);
    }
    for (const t of blocked) {
        assert.equal(byFrom.get(t.from).status, 'failed', t.from);
        assert.equal(byFrom.get(t.from).error_code, 'contact_opted_out');
        const contact = await api(cluster,
            `/api/v1/contacts/${t.conv.contact.id}`, org.token);
        assert.equal(contact.json.opt_out_source, 'carrier', t.from);
    }
    for (const t of withdrawn) {
        assert.equal(byFrom.get(t.from).status, 'failed', t.from);
        assert.equal(byFrom.get(t.from).error_code, 'contact_opted_out');
        /* only the keyword's confirmation went */
        const sends = await sendsTo(t.from);
        assert.equal(sends.length, 1, t.from);
        assert.notEqual(sends[0].form.find(([k]) => k === 'Body')[1],
                        `For ${t.from}`);
    }

    /* each delivered reply spent its credit once, the rest nothing */
    const after = await billing();
    assert.equal(after.balance, before.balance - plain.length);
    assert.equal(after.held, before.held);
});

test('a sender stopped with a send in flight records the carrier\'s '
     + 'answer before it exits: the reply is not reported unknown later',
     async () => {
    const cluster = ctx.cluster;
    const { from, conv } = await thread();
    /* the carrier answers the send 700 ms after taking it */
    await sim.fail({ type: 'late_answer', delay_ms: 700, number: from });
    const m = await reply(conv.id, 'Stopping soon');
    try {
        await eventually(async () => (await sendsTo(from)).length === 1,
                         10000, 'the send reached the carrier');
        await cluster.stopSender('SIGTERM');
        /* the answer came while it stopped: recorded, with the
         * callbacks that overtook it */
        const got = await messageOf(conv.id, m.id);
        assert.equal(got.status, 'delivered');
    } finally {
        if (!cluster.sender) {
            await cluster.startSender();
        }
    }
    /* after the lease nothing comes back to report */
    await sleep(LEASE_MS + 500);
    assert.equal((await messageOf(conv.id, m.id)).status, 'delivered');
    assert.equal((await sendsTo(from)).length, 1);
});

test('campaign messages waiting behind a slow carrier are given back '
     + 'before their claim runs out: each is sent once and none is '
     + 'reported failed', async () => {
    const cluster = ctx.cluster;
    // quiet hours far from now, so that nothing waits for them
    const hour = new Date().getUTCHours();
    const at = (h) => `${String(h % 24).padStart(2, '0')}:00`;
    await inboxctl(cluster.store, 'settings', 'set', org.id, '--timezone',
                   'UTC', '--quiet-hours', `${at(hour + 6)}-${at(hour + 7)}`);
    const phones = Array.from({ length: 12 }, () => uniqueNumber());
    await importContactsCsv(cluster, org.token, ['phone,name,tags',
        ...phones.map((p, i) => `${p},Slow ${i},slowcarrier`)].join('\n')
        + '\n');
    /* each send answered 1.8 s after it is taken: the sender's bulk
     * window stays small, and what it claimed waits longer than the
     * 0.5 s its 2.5 s claim leaves beside a 2 s request */
    await sim.fail({ type: 'late_answer', delay_ms: 1800,
                     count: phones.length });
    try {
        const c = await storeOp(cluster, 'campaign-create', org.id, 'Slow',
                                'Slow carrier, fine message', 'slowcarrier');
        await storeOp(cluster, 'campaign-act', org.id, c.id, 'send');
        const end = await eventually(async () => {
            const got = await storeOp(cluster, 'campaign-get', org.id, c.id);
            return got.status === 'done' && got.counts.queued === 0
                && got.counts.delivered + got.counts.failed === phones.length
                ? got : null;
        }, 60000, 'every recipient settled');
        assert.equal(end.counts.failed, 0, JSON.stringify(end.counts));
        assert.equal(end.counts.delivered, phones.length);
        const sends = (await sim.requests({ kind: 'send' })).filter((r) =>
            r.form?.some(([k, v]) => k === 'To' && phones.includes(v)));
        assert.equal(sends.length, phones.length, 'one send each');
    } finally {
        await sim.ok('DELETE', '/failures');
    }
});

// A carrier (or its load balancer) that takes a request on a reused
// keep-alive connection and drops the connection before it answers:
// curl would send the POST again on a new one by itself.  The carrier
// may have acted on the first, so the reply is an unknown outcome
// (sending, its credit held) and reaches the carrier once.
test('a reply whose connection drops after the carrier read it is sent '
    + 'once and reported unknown, never sent again by curl', async () => {
    const cluster = ctx.cluster;
    const seen = [];
    const carrier = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => { body += c; });
        req.on('end', () => {
            req.socket.nth = (req.socket.nth || 0) + 1;
            seen.push(new URLSearchParams(body).get('Body'));
            if (req.socket.nth === 2) {
                req.socket.destroy();
                return;
            }
            res.writeHead(201, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ sid: 'SM' + String(seen.length)
                .padStart(32, '0'), status: 'queued' }));
        });
    });
    await new Promise((ok) => carrier.listen(0, '127.0.0.1', ok));
    const apiBase = async (url) => promisify(execFile)(sqlite3Path, [
        '-cmd', '.timeout 5000', cluster.storePath,
        `UPDATE numbers SET api_base = '${url}' WHERE org_id = ${org.id}`]);
    const { conv } = await thread();
    try {
        await apiBase(`http://127.0.0.1:${carrier.address().port}`);
        const first = await reply(conv.id, 'kept alive');
        await eventually(() => seen.includes('kept alive'), 10000,
                         'the first reply at the carrier');
        const second = await reply(conv.id, 'dropped after reading');
        await eventually(async () => {
            const res = await api(cluster,
                `/api/v1/conversations/${conv.id}/messages?limit=10`,
                org.token);
            const m = res.json.items.find((x) => x.id === second.id);
            return m.error_code === 'unknown_outcome' ? m : null;
        }, 15000, 'the second reply reported unknown');
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages?limit=10`, org.token);
        const m = res.json.items.find((x) => x.id === second.id);
        assert.equal(m.status, 'sending');
        assert.equal(res.json.items.find((x) => x.id === first.id).status,
                     'queued');
        await sleep(1000);
        assert.deepEqual(seen, ['kept alive', 'dropped after reading']);
    } finally {
        await apiBase(sim.url);
        carrier.close();
        carrier.closeAllConnections();
    }
});

// A gateway in front of the carrier that gives up (504) or fails (502)
// after passing the request on, with its own page, not the carrier's
// error: the carrier may have sent the text, so the reply is an unknown
// outcome (sending, not failed), never sent again (the contact would get
// it twice).
test('a reply answered 504 or 502 by a gateway is sent once and reported '
    + 'unknown, never tried again', { timeout: 60000 }, async () => {
    const cluster = ctx.cluster;
    const seen = [];
    const gateway = { 'timed out at the gateway': 504,
                      'failed at the gateway': 502 };
    const carrier = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => { body += c; });
        req.on('end', () => {
            const text = new URLSearchParams(body).get('Body');
            seen.push(text);
            if (seen.filter((t) => t === text).length === 1
                && gateway[text])
            {
                res.writeHead(gateway[text], { 'Content-Type': 'text/html' });
                res.end(`<html>${gateway[text]} from the gateway</html>`);
                return;
            }
            res.writeHead(201, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ sid: 'SM' + String(seen.length)
                .padStart(32, '0'), status: 'queued' }));
        });
    });
    await new Promise((ok) => carrier.listen(0, '127.0.0.1', ok));
    const apiBase = async (url) => promisify(execFile)(sqlite3Path, [
        '-cmd', '.timeout 5000', cluster.storePath,
        `UPDATE numbers SET api_base = '${url}' WHERE org_id = ${org.id}`]);
    const { conv } = await thread();
    try {
        await apiBase(`http://127.0.0.1:${carrier.address().port}`);
        const sent = [];
        for (const text of Object.keys(gateway)) {
            sent.push(await reply(conv.id, text));
        }
        for (const m of sent) {
            const got = await eventually(async () => {
                const x = await messageOf(conv.id, m.id);
                return x.error_code === 'unknown_outcome' ? x : null;
            }, 20000, 'a reply the gateway answered reported unknown');
            assert.equal(got.status, 'sending');
        }
        // past the first retry's backoff (5 s): nothing more came
        await sleep(6000);
        assert.deepEqual(seen.sort(), Object.keys(gateway).sort());
    } finally {
        await apiBase(sim.url);
        carrier.close();
        carrier.closeAllConnections();
    }
});

// A send endpoint that redirects: the message's To, From and Body are
// not posted to wherever Location says, and whatever answered there is
// not taken for the carrier's acceptance.
test('a carrier\'s send endpoint that redirects is not followed: the reply '
    + 'fails as refused and nothing reaches the other host', async () => {
    const cluster = ctx.cluster;
    const elsewhere = [];
    const other = http.createServer((req, res) => {
        elsewhere.push(req.url);
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ sid: 'SM' + '9'.repeat(32),
                                 status: 'queued' }));
    });
    await new Promise((ok) => other.listen(0, '127.0.0.1', ok));
    const redirecting = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
            res.writeHead(307, { Location: 'http://127.0.0.1:'
                + `${other.address().port}/elsewhere` });
            res.end();
        });
    });
    await new Promise((ok) => redirecting.listen(0, '127.0.0.1', ok));
    const apiBase = async (url) => promisify(execFile)(sqlite3Path, [
        '-cmd', '.timeout 5000', cluster.storePath,
        `UPDATE numbers SET api_base = '${url}' WHERE org_id = ${org.id}`]);
    const { conv } = await thread();
    try {
        await apiBase(`http://127.0.0.1:${redirecting.address().port}`);
        const sent = await reply(conv.id, 'not for elsewhere');
        const m = await eventually(async () => {
            const res = await api(cluster,
                `/api/v1/conversations/${conv.id}/messages?limit=10`,
                org.token);
            const x = res.json.items.find((i) => i.id === sent.id);
            return x.status === 'failed' ? x : null;
        }, 15000, 'the reply failed');
        assert.notEqual(m.error_code, 'unknown_outcome');
        assert.deepEqual(elsewhere, []);
    } finally {
        await apiBase(sim.url);
        for (const srv of [other, redirecting]) {
            srv.close();
            srv.closeAllConnections();
        }
    }
});

test('the sender refuses a carrier timeout its claims could not cover',
     async () => {
    const run = (...args) => promisify(execFile)(senderPath, ['--store',
        ctx.cluster.store, '--wake', ctx.cluster.senderSocket + '.unused',
        '--public-url', 'http://127.0.0.1:1/', ...args]);
    /* the store's claim lasts 60 s unless --lease says otherwise */
    await assert.rejects(run('--timeout', '60000'), (err) =>
        err.code === 2 && /--lease longer than --timeout/.test(err.stderr));
    await assert.rejects(run('--timeout', '3000', '--lease', '3000'),
        (err) => err.code === 2);
});

test('the sender refuses a media directory it cannot copy images into, '
     + 'instead of trying each copy for hours', async () => {
    const run = (dir) => promisify(execFile)(senderPath, ['--store',
        ctx.cluster.store, '--wake', ctx.cluster.senderSocket + '.unused',
        '--public-url', 'http://127.0.0.1:1/', '--media-dir', dir],
        { timeout: 10000 });
    const missing = `${ctx.cluster.mediaDir}-missing`;
    await assert.rejects(run(missing), (err) => err.code === 1
        && err.stderr.includes(`--media-dir ${missing}: No such file`));
    await assert.rejects(run(ctx.cluster.storePath), (err) =>
        err.code === 1 && /not a directory/.test(err.stderr));
});

errorLogIsCleanTest(ctx);
