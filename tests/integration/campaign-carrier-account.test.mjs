// A carrier that refuses the number's account or credentials (the
// simulator's 401 20003 for a wrong auth token) pauses a campaign instead
// of failing its audience: paused "carrier_account", nothing failed or
// sent, nothing spent, the sender's log saying so once; with the token
// fixed (inboxctl number set) resume sends each recipient its message
// once; a poll from a Telnyx number with a wrong API key (401 10009) the
// same. A reply from the same number still fails, with the inbox's own
// code carrier_account whichever code the carrier gave (Twilio 20003, a
// Telnyx 10010), the sender's log naming the message and the carrier's.
// A number its credentials' account does not have (Twilio 21606, Telnyx
// 40305: not in the key's messaging profile) is refused so too.  The
// paused campaign names the number refused and the carrier's code
// (paused_number, as people read it paused_number_display,
// paused_error_code), for the person who fixes it.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, numberBlock, sleep } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useSendingCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually, importTagged }
    from '../lib/inbox.mjs';

const ctx = useSendingCluster({ orgs: [{ name: 'Account Org' }],
                                credits: 100, quietAway: true });
let org;
let sim;

before(async () => {
    await ctx.ready;
    ({ org, sim } = ctx);
});

const numbers = numberBlock('1656');

// The organization's number with authToken (the right one: org's).
const setToken = (authToken) => inboxctl(ctx.cluster.store, 'number', 'set',
    org.id, org.number, '--carrier', 'twilio', '--account-sid',
    org.accountSid, '--auth-token', authToken, '--api-base', sim.url);

const WRONG = 'f'.repeat(32);

// The simulator's send requests to each of phones: { phone: [request] }.
async function sendsTo(phones) {
    const wanted = new Set(phones);
    const out = {};
    for (const r of await sim.requests({ kind: 'send' })) {
        const to = new URLSearchParams(r.body).get('To');
        if (wanted.has(to)) {
            (out[to] ??= []).push(r);
        }
    }
    return out;
}

const campaignOf = async (id) => (await api(ctx.cluster,
    `/api/v1/campaigns/${id}`, org.token)).json;

const billing = async () => (await api(ctx.cluster, '/api/v1/billing',
    org.token)).json.credits;

test('a campaign from a number whose auth token the carrier refuses pauses '
     + '"carrier_account" with nothing failed, sent or spent, logged once; '
     + 'with the token fixed, resume sends each recipient it once',
     async () => {
    const phones = numbers(4);
    await importTagged(ctx.cluster, org.token, phones, 'regulars');
    const was = await billing();
    await setToken(WRONG);

    const made = await api(ctx.cluster, '/api/v1/campaigns', org.token,
        { method: 'POST', body: { name: 'To regulars', body: 'Open late',
                                  audience: { tags: ['regulars'] } } });
    assert.equal(made.status, 201, made.text);
    const { id } = made.json;
    const sent = await api(ctx.cluster, `/api/v1/campaigns/${id}/send`,
                           org.token, { method: 'POST' });
    assert.equal(sent.status, 200, sent.text);

    const paused = await eventually(async () => {
        const c = await campaignOf(id);
        return c.status === 'paused' ? c : null;
    }, 20000, 'the campaign paused');
    assert.equal(paused.paused_reason, 'carrier_account');
    assert.equal(paused.paused_number, org.number);
    assert.match(paused.paused_number_display, /^\+1 \(\d{3}\) \d{3}-\d{4}$/);
    assert.equal(paused.paused_error_code, '20003');

    /* nothing more goes while it waits, and nothing failed or went */
    await sleep(1500);
    const now = await campaignOf(id);
    assert.equal(now.status, 'paused');
    assert.equal(now.counts.failed, 0);
    assert.equal(now.counts.sent, 0);
    assert.equal(now.counts.delivered, 0);
    const refused = Object.values(await sendsTo(phones)).flat();
    assert.ok(refused.length >= 1, 'the carrier was asked');
    assert.ok(refused.every((r) => r.response.status === 401),
              'every send refused 401');

    /* nothing spent, nothing held: what was handed over waits parked,
     * its credits given back (as at a person's pause), free for replies
     * until the resume holds them again */
    const held = await eventually(async () => {
        const b = await billing();
        return b.held === was.held ? b : null;
    }, 10000, 'the parked messages\' credits given back');
    assert.equal(held.balance, was.balance);

    const log = ctx.cluster.senderLog();
    const lines = log.split('\n').filter((l) => l.includes(
        `campaign ${id} paused: the carrier refused the account`));
    assert.equal(lines.length, 1, log);
    assert.match(lines[0], new RegExp(`${org.number.replace('+', '\\+')}`
                                      + '.*HTTP 401, error 20003'));

    /* fixed, resumed: each recipient gets it once */
    await setToken(org.authToken);
    const resumed = await api(ctx.cluster, `/api/v1/campaigns/${id}/resume`,
                              org.token, { method: 'POST' });
    assert.equal(resumed.status, 200, resumed.text);

    const end = await eventually(async () => {
        const c = await campaignOf(id);
        return c.status === 'done' && c.counts.delivered === phones.length
            ? c : null;
    }, 20000, 'all delivered');
    assert.equal(end.counts.failed, 0);
    assert.equal(end.paused_reason, null);
    assert.equal(end.paused_number, null);
    assert.equal(end.paused_number_display, null);
    const sends = await sendsTo(phones);
    for (const phone of phones) {
        const taken = sends[phone].filter((r) => r.response.status === 201);
        assert.equal(taken.length, 1, `${phone} sent it once`);
    }
    const after = await billing();
    assert.equal(after.balance + after.held,
                 was.balance + was.held - phones.length);
});

test('resumed while the token is still wrong, the campaign pauses again '
     + 'after its first refusal', async () => {
    const phones = numbers(3);
    await importTagged(ctx.cluster, org.token, phones, 'again');
    await setToken(WRONG);
    try {
        const made = await api(ctx.cluster, '/api/v1/campaigns', org.token,
            { method: 'POST', body: { name: 'Again', body: 'Once more',
                                      audience: { tags: ['again'] } } });
        const { id } = made.json;
        await api(ctx.cluster, `/api/v1/campaigns/${id}/send`, org.token,
                  { method: 'POST' });
        const paused = async () => {
            const c = await campaignOf(id);
            return c.status === 'paused' ? c : null;
        };
        await eventually(paused, 20000, 'paused');
        const first = Object.values(await sendsTo(phones)).flat().length;

        const resumed = await api(ctx.cluster,
            `/api/v1/campaigns/${id}/resume`, org.token, { method: 'POST' });
        assert.equal(resumed.status, 200, resumed.text);
        const again = await eventually(paused, 20000, 'paused again');
        assert.equal(again.paused_reason, 'carrier_account');
        assert.equal(again.counts.failed, 0);
        await sleep(1000);
        assert.equal((await campaignOf(id)).status, 'paused');
        assert.ok(Object.values(await sendsTo(phones)).flat().length > first,
                  'the resume asked the carrier again');
    } finally {
        await setToken(org.authToken);
    }
});

test('a poll from a Telnyx number whose API key the carrier refuses (401 '
     + '10009) pauses the same way, and goes once resumed with it fixed',
     async () => {
    const phones = numbers(2);
    await importTagged(ctx.cluster, org.token, phones, 'telnyx');
    await inboxctl(ctx.cluster.store, 'number', 'set', org.id, org.number,
        '--carrier', 'telnyx', '--public-key', sim.publicKey, '--api-key',
        `KEY${'0'.repeat(32)}`, '--api-base', sim.url);
    try {
        const made = await api(ctx.cluster, '/api/v1/polls', org.token,
            { method: 'POST', body: { name: 'Which night?',
                                      question: 'Which night?',
                                      options: ['Friday', 'Saturday'],
                                      audience: { tags: ['telnyx'] } } });
        assert.equal(made.status, 201, made.text);
        const { id } = made.json;
        const sent = await api(ctx.cluster, `/api/v1/polls/${id}/send`,
                               org.token, { method: 'POST' });
        assert.equal(sent.status, 200, sent.text);
        const paused = await eventually(async () => {
            const c = (await api(ctx.cluster, `/api/v1/polls/${id}`,
                                 org.token)).json;
            return c.status === 'paused' ? c : null;
        }, 20000, 'the poll paused');
        assert.equal(paused.paused_reason, 'carrier_account');
        assert.equal(paused.counts.failed, 0);
        assert.match(ctx.cluster.senderLog(),
                     new RegExp(`campaign ${id} paused: .*HTTP 401, `
                                + 'error 10009'));

        await setToken(org.authToken);
        const resumed = await api(ctx.cluster, `/api/v1/polls/${id}/resume`,
                                  org.token, { method: 'POST' });
        assert.equal(resumed.status, 200, resumed.text);
        const end = await eventually(async () => {
            const c = (await api(ctx.cluster, `/api/v1/polls/${id}`,
                                 org.token)).json;
            return c.status === 'done' && c.counts.delivered === 2
                ? c : null;
        }, 20000, 'both delivered');
        assert.equal(end.counts.failed, 0);
    } finally {
        await setToken(org.authToken);
    }
});

// A thread with a new contact, who wrote first.
async function thread(contact) {
    await deliverInbound(ctx.cluster, { from: contact, to: org.number,
                                        body: 'Are you open?' });
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === contact);
    assert.ok(conv);
    return conv;
}

// A reply in conv, once it failed.
async function replyFailed(conv, body) {
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token,
        { method: 'POST', body: { body } });
    assert.equal(res.status, 201, res.text);
    return eventually(async () => {
        const msgs = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token);
        const m = msgs.json.items.find((x) => x.id === res.json.id);
        return m.status === 'failed' ? m : null;
    }, 20000, 'the reply failed');
}

// The sender's line for message id refused for its number's account.
const refusedLine = (id) => ctx.cluster.senderLog().split('\n').filter(
    (l) => l.includes(`message ${id} failed: the carrier refused the `
                      + 'account or credentials of '));

const E164_RE = (n) => n.replace('+', '\\+');

test('a reply from the number the carrier refuses still fails, '
     + '"carrier_account", the carrier\'s code in the sender\'s log',
     async () => {
    const conv = await thread(numbers(1)[0]);

    await setToken(WRONG);
    try {
        const failed = await replyFailed(conv, 'Until nine.');
        assert.equal(failed.error_code, 'carrier_account');
        const lines = refusedLine(failed.id);
        assert.equal(lines.length, 1, ctx.cluster.senderLog());
        assert.match(lines[0], new RegExp(`of ${E164_RE(org.number)}: `
            + 'Twilio refused the message \\(HTTP 401, error 20003\\): '
            + 'Authenticate'));
    } finally {
        await setToken(org.authToken);
    }
});

test('a reply from a Telnyx number whose key may not act on it (403 '
     + '10010) fails "carrier_account" too', async () => {
    const conv = await thread(numbers(1)[0]);
    const key = `KEY${'7'.repeat(32)}`;
    await sim.configure({ telnyx: { apiKeys: [key] } });
    await inboxctl(ctx.cluster.store, 'number', 'set', org.id, org.number,
        '--carrier', 'telnyx', '--public-key', sim.publicKey, '--api-key',
        key, '--api-base', sim.url);
    try {
        await sim.fail({ type: 'account_refused', carrier: 'telnyx',
                         number: conv.contact.phone });
        const failed = await replyFailed(conv, 'From nine.');
        assert.equal(failed.error_code, 'carrier_account');
        const lines = refusedLine(failed.id);
        assert.equal(lines.length, 1, ctx.cluster.senderLog());
        assert.match(lines[0], new RegExp(`of ${E164_RE(org.number)}: `
            + 'Telnyx refused the message \\(HTTP 403, error 10010\\): '
            + 'You do not have permission'));
    } finally {
        await setToken(org.authToken);
    }
});

// A campaign sent to tag from the org's number, once paused.
async function campaignPaused(tag, name) {
    const made = await api(ctx.cluster, '/api/v1/campaigns', org.token,
        { method: 'POST', body: { name, body: 'Open late',
                                  audience: { tags: [tag] } } });
    assert.equal(made.status, 201, made.text);
    const { id } = made.json;
    const sent = await api(ctx.cluster, `/api/v1/campaigns/${id}/send`,
                           org.token, { method: 'POST' });
    assert.equal(sent.status, 200, sent.text);
    return eventually(async () => {
        const c = await campaignOf(id);
        return c.status === 'paused' ? c : null;
    }, 20000, 'the campaign paused');
}

test('from a number that is not the Twilio account\'s (400 21606), a '
     + 'campaign pauses "carrier_account" and a reply fails so',
     async () => {
    const phones = numbers(2);
    await importTagged(ctx.cluster, org.token, phones, 'not-ours');
    /* the thread first: its webhook is signed with the number's own
     * account */
    const conv = await thread(numbers(1)[0]);
    /* credentials of another account, which has numbers, not this one */
    const sid = `AC${'2'.repeat(32)}`;
    const token = '3'.repeat(32);
    await sim.configure({ twilio: { accounts: { [sid]: token } },
        numbers: [{ number: numbers(1)[0], carrier: 'twilio',
                    account: sid }] });
    await inboxctl(ctx.cluster.store, 'number', 'set', org.id, org.number,
        '--carrier', 'twilio', '--account-sid', sid, '--auth-token', token,
        '--api-base', sim.url);
    try {
        const paused = await campaignPaused('not-ours', 'Not ours');
        assert.equal(paused.paused_reason, 'carrier_account');
        /* the number refused named, for the person who fixes it */
        assert.equal(paused.paused_number, org.number);
        assert.equal(paused.paused_error_code, '21606');
        assert.equal(paused.counts.failed, 0);
        assert.equal(paused.counts.sent, 0);
        const refused = Object.values(await sendsTo(phones)).flat();
        assert.ok(refused.length >= 1, 'the carrier was asked');
        assert.ok(refused.every((r) => r.response.status === 400));
        assert.match(ctx.cluster.senderLog(), new RegExp(
            `campaign ${paused.id} paused: .*HTTP 400, error 21606`));

        const failed = await replyFailed(conv, 'Until ten.');
        assert.equal(failed.error_code, 'carrier_account');
        const lines = refusedLine(failed.id);
        assert.equal(lines.length, 1, ctx.cluster.senderLog());
        assert.match(lines[0], new RegExp(`of ${E164_RE(org.number)}: `
            + 'Twilio refused the message \\(HTTP 400, error 21606\\): '
            + `The From phone number ${E164_RE(org.number)} is not a valid, `
            + 'SMS-capable inbound phone number'));
    } finally {
        await setToken(org.authToken);
    }
});

test('from a Telnyx number not in the key\'s messaging profile (400 '
     + '40305), a campaign pauses "carrier_account" and a reply fails so',
     async () => {
    const phones = numbers(2);
    await importTagged(ctx.cluster, org.token, phones, 'no-profile');
    const conv = await thread(numbers(1)[0]);
    /* a right key, whose messaging profile has another number */
    const key = `KEY${'5'.repeat(32)}`;
    await sim.configure({ telnyx: { apiKeys: [key] },
        numbers: [{ number: numbers(1)[0], carrier: 'telnyx',
                    apiKey: key }] });
    await inboxctl(ctx.cluster.store, 'number', 'set', org.id, org.number,
        '--carrier', 'telnyx', '--public-key', sim.publicKey, '--api-key',
        key, '--api-base', sim.url);
    try {
        const paused = await campaignPaused('no-profile', 'No profile');
        assert.equal(paused.paused_reason, 'carrier_account');
        assert.equal(paused.paused_number, org.number);
        assert.equal(paused.paused_error_code, '40305');
        assert.equal(paused.counts.failed, 0);
        assert.equal(paused.counts.sent, 0);
        assert.match(ctx.cluster.senderLog(), new RegExp(
            `campaign ${paused.id} paused: .*HTTP 400, error 40305`));

        const failed = await replyFailed(conv, 'From ten.');
        assert.equal(failed.error_code, 'carrier_account');
        const lines = refusedLine(failed.id);
        assert.equal(lines.length, 1, ctx.cluster.senderLog());
        assert.match(lines[0], new RegExp(`of ${E164_RE(org.number)}: `
            + 'Telnyx refused the message \\(HTTP 400, error 40305\\): '
            + '.*messaging profile'));
    } finally {
        await setToken(org.authToken);
    }
});

errorLogIsCleanTest(ctx);
