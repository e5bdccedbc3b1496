// A paused campaign sits on no credits: its messages waiting in the
// outbox give their holds back at the pause, so that the billing API
// shows those credits to spend (the ledger naming the campaign whose
// messages gave them back) and a reply that fits only with them goes;
// resumed, each is held again as the sender is handed it, and one the
// balance no longer covers pauses the campaign "insufficient_credits"
// until a grant and a resume.  (Before, a pause left them held, for
// days if need be, and the reply was refused for credits.)
//
// The number sends slowly (a campaign message every 2 s: a token each
// 2 s, half the burst of 2 left to replies), so that the campaign's
// messages wait in the outbox, handed over and held, when it is paused.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, numberBlock } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually, importTagged, quietHoursAway }
    from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Paused Credits Org' }], carrierSim: true, sender: true,
    senderArgs: ['--rate', '0.5', '--burst', '2'],
});
let org;
let billing;      // a billing user's session cookie, for the ledger

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    await inboxctl(cluster.store, 'settings', 'set', org.id, '--timezone',
                   'UTC', '--quiet-hours', quietHoursAway());
    await addUser(cluster, org, 'pat@paused.test', 'paused and paid',
                  'billing');
    billing = (await login(cluster, 'pat@paused.test', 'paused and paid'))
        .cookie;
    assert.ok(billing);
});

const numbers = numberBlock('1663');

async function ok(path, options = {}, status = 200) {
    const res = await api(ctx.cluster, path, org.token, options);
    assert.equal(res.status, status, res.text);
    return res.json;
}

const credits = async () => (await ok('/api/v1/billing')).credits;
const campaignOf = (id) => ok(`/api/v1/campaigns/${id}`);

const sendsOf = async (text) => (await ctx.cluster.sim.requests(
    { kind: 'send' })).filter((r) => new URLSearchParams(r.body)
    .get('Body') === text && r.response.status === 201);

test('a paused campaign gives back what its waiting messages held: the '
     + 'balance shows it, a reply uses it; resumed, one no longer covered '
     + 'pauses it for credits until a grant', { timeout: 90000 },
     async () => {
    const phones = numbers(6);
    const [other] = numbers(1);
    const text = 'Sale this weekend';

    /* a thread to reply in, and credits for the campaign alone */
    await deliverInbound(ctx.cluster, { from: other, to: org.number,
                                        body: 'Are you open Sunday?' });
    const list = await ok('/api/v1/conversations?limit=200');
    const conv = list.items.find((c) => c.contact.phone === other);
    assert.ok(conv);
    await inboxctl(ctx.cluster.store, 'credits', 'grant', org.id,
                   String(phones.length));

    await importTagged(ctx.cluster, org.token, phones, 'weekend');
    const made = await ok('/api/v1/campaigns', { method: 'POST',
        body: { name: 'Weekend', body: text,
                audience: { tags: ['weekend'] } } }, 201);
    await ok(`/api/v1/campaigns/${made.id}/send`, { method: 'POST' });

    /* all of it handed over, held; the first sent */
    await eventually(async () => (await sendsOf(text)).length >= 1,
                     20000, 'a first message sent');
    const before = await credits();
    assert.equal(before.balance, 0);
    const refused = await api(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token,
        { method: 'POST', body: { body: 'Yes, 10 to 4.' } });
    assert.equal(refused.status, 402, refused.text);

    /* paused: what waits in the outbox holds nothing, at once */
    const paused = await ok(`/api/v1/campaigns/${made.id}/pause`,
                            { method: 'POST' });
    assert.equal(paused.status, 'paused');
    const freed = await credits();
    assert.ok(freed.balance >= 3, `credits to spend: ${freed.balance}`);
    /* the ledger says why they came back: not a failure, the pause
     * (the newest release: a message the sender had started before the
     * pause may be captured after it, above it) */
    const top = (await sessionApi(ctx.cluster,
        '/api/v1/billing/ledger?limit=20', billing)).json.items
        .find((entry) => entry.kind !== 'capture');
    assert.equal(top?.kind, 'release');
    assert.equal(top.error_code, 'campaign_paused');
    /* and which campaign's message it was */
    assert.deepEqual(top.campaign,
                     { id: made.id, kind: 'campaign', name: 'Weekend' });
    /* (what went meanwhile may have been captured since) */
    assert.ok(freed.balance + freed.held <= before.held);

    /* a reply that fits only with them goes */
    const sent = await ok(`/api/v1/conversations/${conv.id}/messages`,
        { method: 'POST', body: { body: 'Yes, 10 to 4.' } }, 201);
    await eventually(async () => {
        const msgs = await ok(`/api/v1/conversations/${conv.id}/messages`);
        const m = msgs.items.find((x) => x.id === sent.id);
        return m.status === 'delivered' ? m : null;
    }, 20000, 'the reply delivered');

    /* everything the sender held of the campaign given back: nothing is
     * left held but what went (captured at delivery) */
    await eventually(async () => (await credits()).held === 0, 20000,
                     'no credits held while paused');

    /* resumed: the one the reply's credit paid for no longer fits */
    await ok(`/api/v1/campaigns/${made.id}/resume`, { method: 'POST' });
    const short = await eventually(async () => {
        const c = await campaignOf(made.id);
        return c.status === 'paused' ? c : null;
    }, 30000, 'the campaign paused again');
    assert.equal(short.paused_reason, 'insufficient_credits');
    assert.equal(short.counts.queued, 1);
    assert.equal(short.counts.delivered + short.counts.sent,
                 phones.length - 1);
    assert.deepEqual(await credits(), { balance: 0, held: 0 });

    /* a grant and a resume: the last one goes, once each */
    await inboxctl(ctx.cluster.store, 'credits', 'grant', org.id, '1');
    await ok(`/api/v1/campaigns/${made.id}/resume`, { method: 'POST' });
    const end = await eventually(async () => {
        const c = await campaignOf(made.id);
        return c.status === 'done' && c.counts.delivered === phones.length
            ? c : null;
    }, 30000, 'every recipient delivered');
    assert.equal(end.counts.failed, 0);
    const to = (await sendsOf(text)).map((r) => new URLSearchParams(r.body)
        .get('To'));
    assert.deepEqual(to.sort(), [...phones].sort(), 'each recipient once');
    assert.deepEqual(await credits(), { balance: 0, held: 0 });
});

errorLogIsCleanTest(ctx);
