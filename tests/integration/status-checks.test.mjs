// Status checks: the sender's safety net under lost status callbacks.
// The carrier simulator drops a reply's callbacks (as Twilio drops one
// the inbox answered 5xx, and never sends it again), so the message would
// stay where the send left it; the sender asks the carrier about it once
// it is --status-check-after old (here 1.5 s), through the carrier's own
// GET, and stores the answer as the callback would have been stored:
// live over the WebSocket, in the thread, and in the credits; a
// campaign's counts reach delivered the same way, its progress pushed.
// A message the carrier says it does not have (its 404) is not asked
// about again.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import { inboxctl, sleep, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, connectWs, deliverInbound, eventually, importContactsCsv,
         quietHoursAway } from '../lib/inbox.mjs';

const AFTER_MS = 1500;

const ctx = useCluster({ orgs: [{ name: 'Checking Org' }], carrierSim: true,
                         sender: true,
                         senderArgs: ['--status-check-after',
                                      String(AFTER_MS),
                                      '--status-check-rate', '20'] });
let org;
let sim;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    sim = cluster.sim;
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100');
    // quiet hours far from now: a campaign goes at once
    await inboxctl(cluster.store, 'settings', 'set', org.id, '--timezone',
                   'UTC', '--quiet-hours', quietHoursAway());
});

async function thread() {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body: 'hello?' });
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
                           org.token);
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

const framesOf = (frames, id) => frames
    .filter((f) => f.type === 'message.status' && f.id === id);

// The simulator's one outbound message to `to`, once it reached status.
async function carrierMessage(to, status) {
    return eventually(async () => {
        const [m] = await sim.messages({ contact: to,
                                         direction: 'outbound' });
        return m?.status === status && m;
    }, 10000, `the carrier's message ${status}`);
}

test('a reply whose status callbacks were lost still reaches delivered: '
     + 'the sender asks Twilio, live and once the carrier says it is '
     + 'final', async () => {
    const { from, conv } = await thread();
    await sim.fail({ type: 'callbacks', drop: true, number: from,
                     count: 1 });
    const ws = await connectWs(ctx.cluster, org.token);
    const before = await credits();
    try {
        const m = await reply(conv.id, 'We open at 9 on Sundays.');
        const sent = await carrierMessage(from, 'delivered');

        /* no callback came: where the send left it, until asked */
        assert.deepEqual(await sim.webhooks({ message_id: sent.id }), []);
        assert.equal((await messageOf(conv.id, m.id)).status, 'queued');

        await ws.waitFor((frames) => framesOf(frames, m.id)
            .some((f) => f.status === 'delivered'), 10000,
        'message.status delivered');
        assert.equal((await messageOf(conv.id, m.id)).status, 'delivered');

        /* asked with the account's credentials, as Twilio's API wants */
        const asks = (await sim.requests({ kind: 'fetch' }))
            .filter((r) => r.path.endsWith(`/Messages/${sent.id}.json`));
        assert.ok(asks.length >= 1, 'the sender asked');
        assert.equal(asks[0].method, 'GET');
        assert.equal(asks[0].path, `/2010-04-01/Accounts/${org.accountSid}`
                                   + `/Messages/${sent.id}.json`);
        assert.deepEqual(asks[0].auth, { scheme: 'basic',
                                         user: org.accountSid,
                                         password: org.authToken });
        /* the credit is spent, once */
        assert.deepEqual(await credits(), { balance: before.balance - 1,
                                            held: before.held });

        /* final: never asked again */
        const n = asks.length;
        await sleep(3 * AFTER_MS);
        assert.equal((await sim.requests({ kind: 'fetch' }))
            .filter((r) => r.path.endsWith(`/Messages/${sent.id}.json`))
            .length, n);
    } finally {
        ws.close();
    }
});

test('a reply that failed while its callbacks were lost ends undelivered '
     + 'with the carrier\'s error code, and its credit comes back',
async () => {
    const { from, conv } = await thread();
    await sim.fail({ type: 'callbacks', drop: true, number: from,
                     count: 1 });
    await sim.fail({ type: 'final_status', number: from,
                     status: 'undelivered', error_code: 30006, count: 1 });
    const ws = await connectWs(ctx.cluster, org.token);
    const before = await credits();
    try {
        const m = await reply(conv.id, 'Your table is ready.');
        await carrierMessage(from, 'undelivered');

        await ws.waitFor((frames) => framesOf(frames, m.id)
            .some((f) => f.status === 'undelivered'), 10000,
        'message.status undelivered');
        const frame = framesOf(ws.frames, m.id)
            .find((f) => f.status === 'undelivered');
        assert.equal(frame.error_code, '30006');

        const got = await messageOf(conv.id, m.id);
        assert.equal(got.status, 'undelivered');
        assert.equal(got.error_code, '30006');
        assert.deepEqual(await credits(), before);
    } finally {
        ws.close();
    }
});

test('a reply whose callbacks came is never asked about', async () => {
    const { from, conv } = await thread();
    const m = await reply(conv.id, 'See you then.');
    await eventually(async () => (await messageOf(conv.id, m.id)).status
        === 'delivered', 10000, 'delivered by its callbacks');
    const [sent] = await sim.messages({ contact: from,
                                        direction: 'outbound' });
    await sleep(2 * AFTER_MS);
    assert.deepEqual((await sim.requests({ kind: 'fetch' }))
        .filter((r) => r.path.includes(sent.id)), []);
});

test('a campaign whose status callbacks were all lost still counts '
     + 'its recipients delivered: the sender asks, and pushes the '
     + 'campaign\'s progress', async () => {
    const tag = `checked-${randomBytes(4).toString('hex')}`;
    const phones = [uniqueNumber(), uniqueNumber(), uniqueNumber(),
                    uniqueNumber()];
    for (const number of phones) {
        await sim.fail({ type: 'callbacks', drop: true, number, count: 1 });
    }
    await importContactsCsv(ctx.cluster, org.token, ['phone,name,tags',
        ...phones.map((p, i) => `${p},Guest ${i},${tag}`)].join('\n')
        + '\n');
    const ws = await connectWs(ctx.cluster, org.token);
    try {
        const draft = await api(ctx.cluster, '/api/v1/campaigns', org.token,
            { method: 'POST', body: { name: 'Terrace open',
                                      body: 'The terrace is open.',
                                      audience: { tags: [tag] } } });
        assert.equal(draft.status, 201, draft.text);
        const id = draft.json.id;
        const sent = await api(ctx.cluster, `/api/v1/campaigns/${id}/send`,
                               org.token, { method: 'POST' });
        assert.equal(sent.status, 200, sent.text);
        assert.equal(sent.json.counts.recipients, phones.length);

        /* every text reached its phone, and no callback told the inbox */
        const carried = [];
        for (const to of phones) {
            carried.push(await carrierMessage(to, 'delivered'));
        }
        for (const m of carried) {
            assert.deepEqual(await sim.webhooks({ message_id: m.id }), []);
        }

        const campaign = async () => (await api(ctx.cluster,
            `/api/v1/campaigns/${id}`, org.token)).json;
        const end = await eventually(async () => {
            const c = await campaign();
            return c.status === 'done'
                && c.counts.delivered === phones.length && c;
        }, 15000, 'the campaign done, every recipient delivered');
        assert.deepEqual({ queued: end.counts.queued, sent: end.counts.sent,
                           failed: end.counts.failed },
                         { queued: 0, sent: 0, failed: 0 });

        /* each was asked about, through Twilio's resource */
        const asked = (await sim.requests({ kind: 'fetch' }))
            .map((r) => r.path);
        for (const m of carried) {
            assert.ok(asked.some((p) => p.endsWith(`/Messages/${m.id}.json`)),
                      `the sender asked about ${m.id}`);
        }

        /* live: the progress over the WebSocket shows them delivered */
        await ws.waitFor((frames) => frames.some((f) =>
            f.type === 'campaign.progress' && f.id === id
            && f.counts.delivered === phones.length), 10000,
        'campaign.progress with every recipient delivered');
    } finally {
        ws.close();
    }
});

test('a Telnyx reply whose events were lost is asked about too: '
     + 'GET /v2/messages/{id} with the number\'s API key', async () => {
    const cluster = ctx.cluster;
    const key = `KEY${randomBytes(12).toString('hex').toUpperCase()}`;
    const number = uniqueNumber();
    const id = await inboxctl(cluster.store, 'org', 'create', 'Telnyx Org');
    await inboxctl(cluster.store, 'number', 'add', id, number, '--carrier',
                   'telnyx', '--public-key', sim.publicKey, '--api-key',
                   key, '--api-base', sim.url);
    await inboxctl(cluster.store, 'credits', 'grant', id, '10');
    const token = await inboxctl(cluster.store, 'token', 'create', id);
    await sim.configure({ telnyx: { apiKeys: [key] },
                          numbers: [{ number, carrier: 'telnyx',
                                      apiKey: key }] });

    const from = uniqueNumber();
    const { webhook } = await sim.inbound({ from, to: number,
                                            body: 'hello?' });
    assert.equal(webhook.state, 'delivered');
    const list = await api(cluster, '/api/v1/conversations', token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    await sim.fail({ type: 'callbacks', drop: true, carrier: 'telnyx',
                     number: from, count: 1 });
    await sim.fail({ type: 'final_status', carrier: 'telnyx', number: from,
                     status: 'delivery_failed', count: 1 });

    const m = await reply(conv.id, 'We are closed today.', token);
    const sent = await carrierMessage(from, 'delivery_failed');
    await eventually(async () => (await messageOf(conv.id, m.id, token))
        ?.status === 'undelivered', 10000, 'undelivered');
    const got = await messageOf(conv.id, m.id, token);
    assert.equal(got.error_code, '40008');
    assert.deepEqual(await credits(token), { balance: 10, held: 0 });

    const [ask] = (await sim.requests({ kind: 'fetch', carrier: 'telnyx' }))
        .filter((r) => r.path === `/v2/messages/${sent.id}`);
    assert.ok(ask, 'the sender asked Telnyx');
    assert.deepEqual(ask.auth, { scheme: 'bearer', token: key });
});

test('a reply Twilio says it does not have is asked about no more: it '
     + 'stays where it was, its credit held, logged once in Twilio\'s '
     + 'words', async () => {
    const cluster = ctx.cluster;
    const moving = await cluster.addOrg({ name: 'Moving Org' });
    await inboxctl(cluster.store, 'credits', 'grant', moving.id, '10');
    const from = uniqueNumber();
    const { webhook } = await sim.inbound({ from, to: moving.number,
                                            body: 'hello?' });
    assert.equal(webhook.state, 'delivered');
    const list = await api(cluster, '/api/v1/conversations', moving.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    /* no callback, and it stays sent at Twilio: asked about again */
    await sim.fail({ type: 'callbacks', drop: true, number: from,
                     count: 1 });
    await sim.fail({ type: 'final_status', number: from, status: 'none',
                     count: 1 });

    const m = await reply(conv.id, 'We are moving.', moving.token);
    const sent = await carrierMessage(from, 'sent');
    await eventually(async () => (await messageOf(conv.id, m.id,
                                                  moving.token))
        ?.status === 'sent', 10000, 'sent, as Twilio answered the first ask');

    /* the number moves to another account, which has no such message */
    const sid = `AC${randomBytes(16).toString('hex')}`;
    const token = randomBytes(16).toString('hex');
    await sim.configure({ twilio: { accounts: { [sid]: token } } });
    await inboxctl(cluster.store, 'number', 'set', moving.id, moving.number,
                   '--carrier', 'twilio', '--account-sid', sid,
                   '--auth-token', token, '--api-base', sim.url);
    const path = `/2010-04-01/Accounts/${sid}/Messages/${sent.id}.json`;
    const asked = async () => (await sim.requests({ kind: 'fetch' }))
        .filter((r) => r.path === path);
    await eventually(async () => (await asked()).length > 0, 10000,
                     'asked with the other account\'s credentials');

    /* once: half its age later it would have been asked again */
    await sleep(4 * AFTER_MS);
    assert.equal((await asked()).length, 1);
    assert.equal((await messageOf(conv.id, m.id, moving.token)).status,
                 'sent');
    /* held, as at the 72 h give-up: the holds job captures it then */
    assert.deepEqual(await credits(moving.token), { balance: 9, held: 1 });
    const said = cluster.senderLog().split('\n')
        .filter((l) => l.includes(`message ${m.id} `)
                && /does not have/.test(l));
    assert.equal(said.length, 1, cluster.senderLog());
    assert.match(said[0], /HTTP 404, error 20404: The requested resource /);
});

test('a reply Telnyx says it does not have is asked about no more: '
     + 'another API key\'s message is a 404 10005, logged once',
     async () => {
    const cluster = ctx.cluster;
    const keyOf = () => `KEY${randomBytes(12).toString('hex')
        .toUpperCase()}`;
    const [key, otherKey] = [keyOf(), keyOf()];
    const number = uniqueNumber();
    const id = await inboxctl(cluster.store, 'org', 'create',
                              'Telnyx Moving Org');
    const numberArgs = (apiKey) => ['--carrier', 'telnyx', '--public-key',
                                    sim.publicKey, '--api-key', apiKey,
                                    '--api-base', sim.url];
    await inboxctl(cluster.store, 'number', 'add', id, number,
                   ...numberArgs(key));
    await inboxctl(cluster.store, 'credits', 'grant', id, '10');
    const token = await inboxctl(cluster.store, 'token', 'create', id);
    await sim.configure({ telnyx: { apiKeys: [key, otherKey] },
                          numbers: [{ number, carrier: 'telnyx',
                                      apiKey: key }] });

    const from = uniqueNumber();
    const { webhook } = await sim.inbound({ from, to: number,
                                            body: 'hello?' });
    assert.equal(webhook.state, 'delivered');
    const list = await api(cluster, '/api/v1/conversations', token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    /* no event, and it stays sent at Telnyx: asked about again */
    await sim.fail({ type: 'callbacks', drop: true, carrier: 'telnyx',
                     number: from, count: 1 });
    await sim.fail({ type: 'final_status', carrier: 'telnyx', number: from,
                     status: 'none', count: 1 });

    const m = await reply(conv.id, 'We are moving.', token);
    const sent = await carrierMessage(from, 'sent');
    await eventually(async () => (await messageOf(conv.id, m.id, token))
        ?.status === 'sent', 10000, 'sent, as Telnyx answered the first ask');

    /* the number moves to another key, whose account has no such message */
    await inboxctl(cluster.store, 'number', 'set', id, number,
                   ...numberArgs(otherKey));
    const asked = async () => (await sim.requests({ kind: 'fetch',
                                                   carrier: 'telnyx' }))
        .filter((r) => r.path === `/v2/messages/${sent.id}`
                && r.auth?.token === otherKey);
    await eventually(async () => (await asked()).length > 0, 10000,
                     'asked with the other key');
    const [ask] = await asked();
    assert.equal(ask.response.status, 404);
    assert.equal(ask.response.json.errors[0].code, '10005');

    /* once: half its age later it would have been asked again */
    await sleep(4 * AFTER_MS);
    assert.equal((await asked()).length, 1);
    assert.equal((await messageOf(conv.id, m.id, token)).status, 'sent');
    assert.deepEqual(await credits(token), { balance: 9, held: 1 });
    const said = cluster.senderLog().split('\n')
        .filter((l) => l.includes(`message ${m.id} `)
                && /does not have/.test(l));
    assert.equal(said.length, 1, cluster.senderLog());
    assert.match(said[0], /telnyx/i);
});

errorLogIsCleanTest(ctx);
