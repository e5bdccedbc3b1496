// An organization with two numbers: a campaign's and a poll's message to
// a contact goes to the carrier from the number that contact texts (the
// one their thread keeps), as a reply does, not from the organization's
// first: on the contact's phone it is the conversation they text, and
// their answer comes back to it and counts. A contact who texted the
// first number, or who never texted (added by hand), gets it from the
// first.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually, quietHoursAway }
    from '../lib/inbox.mjs';

const ctx = useCluster({ orgs: [{ name: 'Two Numbers' }], carrierSim: true,
                         sender: true });
let org;
let sim;
let second;
const people = {};

async function ok(path, opts = {}, status = 200) {
    const res = await api(ctx.cluster, path, org.token, opts);
    assert.equal(res.status, status, res.text);
    return res.json;
}

async function contact(phone) {
    return ok('/api/v1/contacts', { method: 'POST',
        body: { phone, tags: ['two-numbers'] } }, 201);
}

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    sim = cluster.sim;
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100');
    await inboxctl(cluster.store, 'settings', 'set', org.id, '--timezone',
                   'UTC', '--quiet-hours', quietHoursAway());
    second = uniqueNumber();
    await inboxctl(cluster.store, 'number', 'add', org.id, second,
        '--carrier', 'twilio', '--account-sid', org.accountSid,
        '--auth-token', org.authToken, '--api-base', sim.url);
    await sim.configure({ numbers: [{ number: second, carrier: 'twilio',
                                      account: org.accountSid }] });

    // added by hand, then: one texts the second number, one the first,
    // one never texts
    for (const who of ['second', 'first', 'never']) {
        people[who] = uniqueNumber();
        await contact(people[who]);
    }
    await deliverInbound(cluster, { from: people.second, to: second,
                                    body: 'hi second number' });
    await deliverInbound(cluster, { from: people.first,
                                    body: 'hi first number' });
});

// The From of the send of body to each person, once all were sent.
async function fromOf(body) {
    const froms = async () => {
        const out = {};
        for (const r of await sim.requests({ kind: 'send' })) {
            const f = Object.fromEntries(r.form ?? []);
            if (f.Body === body) {
                for (const [who, phone] of Object.entries(people)) {
                    if (f.To === phone) {
                        (out[who] ??= []).push(f.From);
                    }
                }
            }
        }
        return out;
    };
    await eventually(async () => Object.keys(await froms()).length === 3,
                     15000, `${body} sent to all three`);
    return froms();
}

test('a campaign goes to a contact who texted the second number from it, '
     + 'to the others from the first', async () => {
    const c = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Sticky', body: 'Sticky sale!',
        audience: { tags: ['two-numbers'] } } }, 201);
    await ok(`/api/v1/campaigns/${c.id}/send`, { method: 'POST' });

    assert.deepEqual(await fromOf('Sticky sale!'), {
        second: [second], first: [org.number], never: [org.number] });

    // what the contact's phone got: one conversation, with the number
    // they texted
    const got = (await sim.messages({ contact: people.second }))
        .filter((m) => m.direction !== 'inbound');
    assert.deepEqual(got.map((m) => [m.from, m.body]),
                     [[second, 'Sticky sale!']]);
});

test('a poll goes from the number its contact texts, and an answer sent '
     + 'back to it counts in the tally', async () => {
    const poll = await ok('/api/v1/polls', { method: 'POST', body: {
        question: 'Which number?', options: ['This one', 'Another'],
        audience: { tags: ['two-numbers'] } } }, 201);
    await ok(`/api/v1/polls/${poll.id}/send`, { method: 'POST' });

    assert.deepEqual(await fromOf(poll.body), {
        second: [second], first: [org.number], never: [org.number] });

    // answered once the carrier has it (a poll answer counts then)
    await eventually(async () =>
        (await ok(`/api/v1/polls/${poll.id}`)).counts.queued === 0, 15000,
        'the poll sent');
    await deliverInbound(ctx.cluster, { from: people.second, to: second,
                                        body: '1' });
    const r = await ok(`/api/v1/polls/${poll.id}`);
    assert.deepEqual(r.tally.map((t) => [t.option, t.count]),
                     [['This one', 1], ['Another', 0]]);
    assert.deepEqual(r.responses.map((x) => [x.contact.phone, x.answer]),
                     [[people.second, 'This one']]);
});

errorLogIsCleanTest(ctx);
