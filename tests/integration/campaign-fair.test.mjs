// Campaigns share the sender: a big campaign does not hold up a small one
// sent after it, neither another organization's (from its own idle
// number) nor its own organization's (from the same number), which go
// while the big one is still sending instead of after its last message;
// a campaign sent while its organization has no number is refused as a
// reply is, not left sending for ever.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, numberBlock } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, eventually, importTagged, quietHoursAway }
    from '../lib/inbox.mjs';

// 10 sends a second from each number: the big campaign's 80 take 8 s
const RATE = 10;
const BIG = 80;

const ctx = useCluster({ orgs: [{ name: 'Big Org' }, { name: 'Small Org' }],
                         carrierSim: true, sender: true,
                         senderVerbose: false,
                         senderArgs: ['--rate', String(RATE)] });
let big;
let small;

before(async () => {
    const cluster = await ctx.ready;
    [big, small] = cluster.orgs;

    // quiet hours far from now, so that nothing waits for them here
    for (const o of [big, small]) {
        await inboxctl(cluster.store, 'credits', 'grant', o.id, '1000');
        await inboxctl(cluster.store, 'settings', 'set', o.id, '--timezone',
                       'UTC', '--quiet-hours', quietHoursAway());
    }
});

// new numbers, distinct within the run
const numbers = numberBlock('1647');

const importContacts = (o, phones, tag) =>
    importTagged(ctx.cluster, o.token, phones, tag);

async function create(o, tag, body) {
    const made = await api(ctx.cluster, '/api/v1/campaigns', o.token,
        { method: 'POST', body: { name: `To ${tag}`, body,
                                  audience: { tags: [tag] } } });
    assert.equal(made.status, 201, made.text);
    return made.json;
}

const send = (o, id) => api(ctx.cluster, `/api/v1/campaigns/${id}/send`,
                            o.token, { method: 'POST' });

const campaignOf = async (o, id) => (await api(ctx.cluster,
    `/api/v1/campaigns/${id}`, o.token)).json;

const gone = (c) => c.counts.sent + c.counts.delivered + c.counts.failed;

test("a big campaign holds up neither another organization's small one "
     + 'nor its own sent after it: both end while it is still '
     + 'sending', async () => {
    await importContacts(big, numbers(BIG), 'everyone');
    await importContacts(big, numbers(2), 'later');
    await importContacts(small, numbers(2), 'members');

    const bigOne = await create(big, 'everyone', 'Big sale!');
    const later = await create(big, 'later', 'Later news');
    const smallOne = await create(small, 'members', 'Members night');

    assert.equal((await send(big, bigOne.id)).status, 200);
    // the big one under way before the others are sent
    await eventually(async () => gone(await campaignOf(big, bigOne.id)) > 0,
                     20000, 'the big campaign sending');
    assert.equal((await send(small, smallOne.id)).status, 200);
    assert.equal((await send(big, later.id)).status, 200);

    const ended = async (o, id) => eventually(async () => {
        const c = await campaignOf(o, id);
        return c.status === 'done' && c.counts.delivered === 2 ? c : null;
    }, 30000, `campaign ${id} done`);

    await ended(small, smallOne.id);
    const bigThen = await campaignOf(big, bigOne.id);
    assert.equal(bigThen.status, 'sending',
                 "the other organization's campaign waited for the big one");
    assert.ok(gone(bigThen) < BIG, `${gone(bigThen)} of the big one gone`);

    await ended(big, later.id);
    const bigAfter = await campaignOf(big, bigOne.id);
    assert.equal(bigAfter.status, 'sending',
                 "its organization's later campaign waited for the big one");
    assert.ok(gone(bigAfter) < BIG, `${gone(bigAfter)} of the big one gone`);

    // and the big one goes on to its end
    await eventually(async () => {
        const c = await campaignOf(big, bigOne.id);
        return c.status === 'done' && c.counts.delivered === BIG;
    }, 60000, 'the big campaign done');
});

test('a campaign sent while its organization has no number is refused '
     + 'with the 409 a reply gets, and stays a draft', async () => {
    const store = ctx.cluster.store;
    const id = await inboxctl(store, 'org', 'create', 'Numberless Org');
    const token = await inboxctl(store, 'token', 'create', id);
    await inboxctl(store, 'credits', 'grant', id, '10');
    const o = { id, token };
    const [phone] = numbers(1);
    await importContacts(o, [phone], 'nobody');

    const found = await api(ctx.cluster,
        `/api/v1/contacts?q=${encodeURIComponent(phone)}`, token);
    const conv = found.json.items[0]?.conversation_id;
    assert.ok(conv, 'the contact has a thread');
    const reply = await api(ctx.cluster,
        `/api/v1/conversations/${conv}/messages`, token,
        { method: 'POST', body: { body: 'Hello' } });
    assert.equal(reply.status, 409, reply.text);

    const made = await create(o, 'nobody', 'Hello all');
    const sent = await send(o, made.id);
    assert.equal(sent.status, 409, sent.text);
    assert.deepEqual(sent.json, reply.json);
    const after = await campaignOf(o, made.id);
    assert.equal(after.status, 'draft');
});

errorLogIsCleanTest(ctx);
