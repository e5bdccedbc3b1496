// Campaigns through the sender to the carrier simulator: a campaign
// started in the store (tests/wire/store_op, as the routes start one,
// waking the sender the way nginx does) is handed to the outbox as it
// drains and sent once to each recipient, never to an opted-out one; a
// reply written during a 2,000-recipient campaign leaves before the
// campaign's remaining messages, and at a slow carrier at once, not
// after the campaign's requests in flight are answered; a carrier
// answering 429 slows the number
// and fails nothing; campaign.progress reaches the WebSocket a few times
// a second at most and ends with the store's counts; a campaign that runs
// out of credits pauses and, after a grant, resumes where it stopped;
// cancel through the API stops what was not handed over; pause and cancel
// stop at once what the sender holds; STOP and HELP are no reply to it;
// a contact the carrier refuses as opted out is counted suppressed.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, numberBlock, sleep } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, connectWs, deliverInbound, eventually, importTagged,
         quietHoursAway, storeOp } from '../lib/inbox.mjs';

// 200 sends a second from the number: a 2,000-recipient campaign takes
// about 10 s, long enough to write a reply in the middle of it
const RATE = 200;

const ctx = useCluster({ orgs: [{ name: 'Campaign Org' },
                                { name: 'Thrifty Org' }], carrierSim: true,
                         sender: true, senderVerbose: false,
                         senderArgs: ['--rate', String(RATE),
                                      '--burst', '20'] });
let org;
let thrifty;
let sim;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    thrifty = cluster.orgs[1];
    sim = cluster.sim;
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100000');

    // quiet hours far from now, so that nothing waits for them here
    for (const o of [org, thrifty]) {
        await inboxctl(cluster.store, 'settings', 'set', o.id, '--timezone',
                       'UTC', '--quiet-hours', quietHoursAway());
    }
});

const op = (...args) => storeOp(ctx.cluster, ...args);

// new numbers, distinct within the run
const numbers = numberBlock('1646');

const importContacts = (phones, tag, to = org) =>
    importTagged(ctx.cluster, to.token, phones, tag);

async function startCampaign(tag, body) {
    const c = await op('campaign-create', org.id, `To ${tag}`, body, tag);
    const sent = await op('campaign-act', org.id, c.id, 'send');
    assert.equal(sent.status, 'sending');
    return sent;
}

const campaign = (id) => op('campaign-get', org.id, id);

// A new contact who texted body: its number and its thread.
async function threadFromNew(body) {
    const contact = numbers(1)[0];
    await deliverInbound(ctx.cluster, { from: contact, body });
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === contact);
    assert.ok(conv);
    return { contact, conv };
}

// The simulator's send requests to each of phones (of that body, unless
// null): { phone: [request] }.
async function sendsTo(phones, body = null) {
    const wanted = new Set(phones);
    const out = {};
    for (const r of await sim.requests({ kind: 'send' })) {
        const form = Object.fromEntries(r.form ?? []);
        if (wanted.has(form.To) && (body === null || form.Body === body)) {
            const to = form.To;
            (out[to] ??= []).push(r);
        }
    }
    return out;
}

// Every campaign.progress frame of campaign id, with when it came.
function watchProgress(ws, id) {
    const seen = [];
    ws.ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.type === 'campaign.progress' && f.id === id) {
            seen.push({ at: Date.now(), frame: f });
        }
    });
    return seen;
}

// The sender pushes a campaign's progress at most every 300 ms: from just
// before the campaign started to its last frame, one frame a 300 ms and
// one more at each end at most. Counted over the whole run, not over
// each second as the frames came: a loaded test process (reading the
// simulator's thousands of requests) takes a few seconds' frames at once.
// A sender that pushed a frame per change would show hundreds.
function assertFewFrames(seen, since) {
    const span = seen[seen.length - 1].at - since;
    const most = Math.floor(span / 300) + 2;
    assert.ok(seen.length <= most,
              `${seen.length} progress frames in ${span} ms (${most} at most)`);
}

async function settled(id, recipients) {
    return eventually(async () => {
        const c = await campaign(id);
        const n = c.counts;
        return c.status === 'done' && n.queued === 0
            && n.delivered + n.failed === recipients - n.suppressed
            ? c : null;
    }, 60000, `campaign ${id} delivered`);
}

test('a campaign to a tag reaches each recipient once and the opted-out '
     + 'never; its progress comes live, a few a second, ending at the '
     + "store's counts", async () => {
    const tagged = numbers(40);
    const others = numbers(10);
    const stopped = tagged.slice(0, 5);
    for (const from of stopped) {
        await deliverInbound(ctx.cluster, { from, body: 'STOP' });
    }
    await importContacts(tagged, 'spring');
    await importContacts(others, 'autumn');

    const ws = await connectWs(ctx.cluster, org.token);
    try {
        const since = Date.now();
        const started = await startCampaign('spring', 'Spring sale!');
        const seen = watchProgress(ws, started.id);
        assert.equal(started.counts.recipients, 35);
        assert.equal(started.counts.suppressed, 5);

        const end = await settled(started.id, 40);
        assert.equal(end.counts.delivered, 35);
        assert.equal(end.counts.failed, 0);

        const sends = await sendsTo([...tagged, ...others], 'Spring sale!');
        for (const phone of tagged.slice(5)) {
            assert.equal(sends[phone]?.length, 1, `one send to ${phone}`);
            const form = Object.fromEntries(sends[phone][0].form);
            assert.equal(form.Body, 'Spring sale!');
            assert.equal(form.From, org.number);
        }
        for (const phone of [...stopped, ...others]) {
            assert.equal(sends[phone], undefined, `nothing to ${phone}`);
        }

        // the last frame shows the campaign as it ended (done once its
        // last message left the outbox: it may come a look after the
        // last delivery)
        await eventually(() => seen.length > 0
            && seen[seen.length - 1].frame.status === 'done'
            && seen[seen.length - 1].frame.counts.delivered === 35, 5000,
            'the final progress');
        const last = seen[seen.length - 1].frame;
        assert.deepEqual(last.counts, end.counts);
        assertFewFrames(seen, since);
    } finally {
        ws.close();
    }
});

test('a contact who wrote and had no answer still waits after a campaign '
     + 'to it: the thread stays under Unresponded and in its count; a '
     + "person's reply ends that", async () => {
    const unresponded = async () => (await api(ctx.cluster,
        '/api/v1/conversations?filter=unresponded&limit=200',
        org.token)).json;
    const { contact, conv } = await threadFromNew('uk');
    assert.equal(conv.unresponded, true);
    const before = await unresponded();
    assert.ok(before.items.some((c) => c.id === conv.id));

    await importContacts([contact], 'waiting');
    const started = await startCampaign('waiting', 'Winter sale!');
    const end = await settled(started.id, 1);
    assert.equal(end.counts.delivered, 1);

    // the campaign is the thread's last message, and no answer to "uk"
    const after = await unresponded();
    const listed = after.items.find((c) => c.id === conv.id);
    assert.ok(listed, 'still under Unresponded after the campaign');
    assert.equal(listed.last_message.direction, 'outbound');
    assert.equal(listed.last_message.preview, 'Winter sale!');
    assert.equal(listed.unresponded, true);
    assert.equal(after.counts.unresponded, before.counts.unresponded);

    const r = await api(ctx.cluster,
                        `/api/v1/conversations/${conv.id}/messages`,
                        org.token, { method: 'POST',
                                     body: { body: 'We ship to the UK' } });
    assert.equal(r.status, 201);
    const answered = await unresponded();
    assert.ok(!answered.items.some((c) => c.id === conv.id));
    assert.equal(answered.counts.unresponded, before.counts.unresponded - 1);
    const one = await api(ctx.cluster, `/api/v1/conversations/${conv.id}`,
                          org.token);
    assert.equal(one.json.unresponded, false);
});

test('STOP and HELP in answer to a campaign the carrier delivered are no '
     + 'reply to it; any other text is', async () => {
    const [stops, helps, thanks] = numbers(3);
    await importContacts([stops, helps, thanks], 'answering');
    const started = await startCampaign('answering', 'Autumn sale!');
    const end = await settled(started.id, 3);
    assert.equal(end.counts.delivered, 3);

    await deliverInbound(ctx.cluster, { from: stops, body: 'STOP' });
    await deliverInbound(ctx.cluster, { from: helps, body: 'HELP' });
    assert.equal((await campaign(started.id)).counts.replied, 0);
    await deliverInbound(ctx.cluster, { from: thanks, body: 'thanks!' });
    assert.equal((await campaign(started.id)).counts.replied, 1);
});

test('a contact who opted out only at the carrier is refused the '
     + 'campaign (21610) and counted suppressed, not failed, at no cost; '
     + 'the recipients stay the two the send fixed', async () => {
    const [blocked, reached] = numbers(2);
    /* the contact's STOP reached the carrier, never the inbox */
    await sim.configure({ inbox: 'http://127.0.0.1:9' });
    try {
        await sim.inbound({ from: blocked, to: org.number, body: 'STOP' });
    } finally {
        await sim.configure({ inbox: ctx.cluster.baseUrl });
    }
    await importContacts([blocked, reached], 'carrier-stopped');
    const before = (await api(ctx.cluster, '/api/v1/billing',
                              org.token)).json.credits;

    const started = await startCampaign('carrier-stopped', 'Last call!');
    assert.equal(started.counts.suppressed, 0);
    assert.equal(started.counts.recipients, 2);
    const end = await settled(started.id, 2);
    assert.equal(end.counts.delivered, 1);
    assert.equal(end.counts.suppressed, 1);
    assert.equal(end.counts.failed, 0);
    // opted out since the send: suppressed, and still a recipient
    assert.equal(end.counts.recipients, 2);

    /* the carrier refused the one send it was asked for */
    const sends = await sendsTo([blocked], 'Last call!');
    assert.equal(sends[blocked]?.length, 1);
    assert.equal(sends[blocked][0].response.status, 400);
    const contacts = await api(ctx.cluster,
        `/api/v1/contacts?q=${encodeURIComponent(blocked)}`, org.token);
    const contact = contacts.json.items.find((c) => c.phone === blocked);
    assert.equal(contact.opted_out, true);
    assert.equal(contact.opt_out_source, 'carrier');

    /* only the message delivered is paid for: one segment, one credit */
    const after = (await api(ctx.cluster, '/api/v1/billing',
                             org.token)).json.credits;
    assert.equal(after.held, before.held);
    assert.equal(before.balance - after.balance, 1);
});

test('a reply written while a 2,000-recipient campaign is sending goes '
     + "before the campaign's remaining messages", async (t) => {
    const big = numbers(2000);
    await importContacts(big, 'everyone');
    const { contact, conv } = await threadFromNew('Open today?');

    const ws = await connectWs(ctx.cluster, org.token);
    try {
        const since = Date.now();
        const started = await startCampaign('everyone', 'Big news!');
        const seen = watchProgress(ws, started.id);

        // well under way
        await eventually(async () => Object.keys(await sendsTo(big)).length
            >= 300, 30000, 'the campaign sending');

        const before = Date.now();
        const res = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body: 'Yes, until 6.' } });
        assert.equal(res.status, 201, res.text);
        // the last campaign message at the carrier once the reply is stored
        const mark = Math.max(...Object.values(await sendsTo(big)).flat()
            .map((r) => r.seq));

        const reply = await eventually(async () => (await sendsTo([contact]))
            [contact]?.[0], 10000, 'the reply at the carrier');
        const took = Date.parse(reply.at) - before;
        const campaignSends = Object.values(await sendsTo(big)).flat();
        const sentBefore = campaignSends.filter((r) => r.seq < reply.seq)
            .length;
        const between = campaignSends.filter((r) => r.seq > mark
                                             && r.seq < reply.seq).length;
        t.diagnostic(`reply queue-to-carrier ${took} ms, after ${sentBefore}`
                     + ` campaign messages of 2000 (${between} of them `
                     + 'once it was stored)');
        // fewer campaign messages went meanwhile than a second of the
        // number's rate: counted in messages, not ms, which a loaded
        // machine stretches for the campaign and the reply alike
        assert.ok(between < RATE, `${between} campaign messages went `
                  + 'between the reply and its send');
        assert.ok(sentBefore < 1800,
                  `the reply waited for ${sentBefore} campaign messages`);

        const end = await settled(started.id, 2000);
        assert.equal(end.counts.delivered, 2000);
        const sends = await sendsTo(big);
        assert.equal(Object.keys(sends).length, 2000);
        assert.ok(Object.values(sends).every((r) => r.length === 1),
                  'each recipient once');

        await eventually(() => seen.length > 0 && seen[seen.length - 1]
            .frame.counts.delivered === 2000, 5000, 'the final progress');
        assert.deepEqual(seen[seen.length - 1].frame.counts, end.counts);
        assertFewFrames(seen, since);
        t.diagnostic(`${seen.length} progress frames`);
    } finally {
        ws.close();
    }
});

test('at a carrier that takes one send at a time, a reply written during '
     + 'a campaign finds only a few campaign messages waiting ahead of it '
     + 'there, and the campaign still reaches everyone once', async (t) => {
    const many = numbers(300);
    await importContacts(many, 'one-lane');
    const { contact, conv } = await threadFromNew('Still open?');

    /* 50 sends a second at most, a quarter of the number's rate: without
     * a limit of its own the sender keeps 16 campaign requests there */
    await sim.configure({ api: { lanes: 1, serviceMs: 20 } });
    try {
        /* a sender that starts at this carrier: the window the earlier
         * campaigns left (up to 16 when their answers came slowly) would
         * take a hundred answers or more to come down, one a round, and
         * this test would measure those campaigns (how a window learnt
         * at a quicker carrier comes down is test_sender_window.c's) */
        await ctx.cluster.stopSender('SIGTERM');
        await ctx.cluster.startSender();
        const started = await startCampaign('one-lane', 'One lane');
        await eventually(async () => Object.keys(await sendsTo(many)).length
            >= 60, 30000, 'the campaign sending');

        const res = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body: 'Yes, until 6.' } });
        assert.equal(res.status, 201, res.text);
        const reply = await eventually(async () => (await sendsTo([contact]))
            [contact]?.[0], 10000, 'the reply at the carrier');
        t.diagnostic(`${reply.ahead} campaign messages waited ahead of the `
                     + 'reply at the carrier');
        assert.ok(reply.ahead <= 4,
                  `${reply.ahead} campaign messages waited ahead`);

        const end = await settled(started.id, 300);
        assert.equal(end.counts.delivered, 300);
        const sends = await sendsTo(many);
        assert.equal(Object.keys(sends).length, 300);
        assert.ok(Object.values(sends).every((r) => r.length === 1),
                  'each recipient once');
        /* the queue was kept short all along, not only for the reply */
        const most = Math.max(...Object.values(sends).flat()
                                  .map((r) => r.ahead));
        assert.ok(most <= 6, `up to ${most} waited at the carrier`);
    } finally {
        await sim.configure({ api: { lanes: null, serviceMs: 0 } });
    }
});

test('at a slow carrier, a reply written just as campaign messages left '
     + 'goes at once, not after their answers: the campaign never holds '
     + 'all of the sender\'s sends', async (t) => {
    const SERVICE_MS = 1500;
    const many = numbers(60);
    await importContacts(many, 'slow-carrier');
    const { contact, conv } = await threadFromNew('Are you there?');
    const cluster = ctx.cluster;

    /* every send answered after 1.5 s, as many at once as come; 8 sends
     * in hand, 2 of them the campaign's (a quarter) */
    await sim.configure({ api: { lanes: null, serviceMs: SERVICE_MS } });
    await cluster.stopSender('SIGTERM');
    await cluster.startSender([...cluster.options.senderArgs,
                               '--max-active', '8']);
    let started;
    try {
        let since = (await sim.requests({ kind: 'send' })).at(-1)?.seq ?? 0;
        started = await startCampaign('slow-carrier', 'Slow carrier');

        /* its requests come in bunches a service time apart, the window
         * doubling first (1, 2, 4, 8 were it let): the reply goes just
         * as the fourth bunch leaves */
        let bunches = 0;
        let lastAt = 0;
        await eventually(async () => {
            for (const r of await sim.requests({ kind: 'send', since })) {
                since = r.seq;
                const at = Date.parse(r.at);
                bunches += at - lastAt > SERVICE_MS / 2 ? 1 : 0;
                lastAt = at;
            }
            return bunches >= 4;
        }, 30000, 'the fourth bunch');
        const before = Date.now();
        const res = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body: 'Yes, here.' } });
        assert.equal(res.status, 201, res.text);
        const reply = await eventually(async () => (await sendsTo([contact]))
            [contact]?.[0], 10000, 'the reply at the carrier');
        const took = Date.parse(reply.at) - before;
        t.diagnostic(`the reply reached the carrier ${took} ms after it was `
                     + 'written');
        assert.ok(took < SERVICE_MS / 2, `the reply took ${took} ms`);
    } finally {
        await sim.configure({ api: { lanes: null, serviceMs: 0 } });
        await cluster.stopSender('SIGTERM');
        await cluster.startSender();
    }
    const end = await settled(started.id, 60);
    assert.equal(end.counts.delivered, 60);
});

test('a sender stopped while campaign messages it claimed wait for their '
     + "number's rate: after the restart they go, once each, none reported "
     + 'unknown', async () => {
    const few = numbers(12);
    await importContacts(few, 'slow-number');
    const cluster = ctx.cluster;

    /* two a second: most of the campaign waits in the sender's hands */
    await cluster.stopSender('SIGTERM');
    await cluster.startSender(['--rate', '2', '--burst', '1']);
    let started;
    try {
        started = await startCampaign('slow-number', 'Slowly');
        await eventually(async () => Object.keys(await sendsTo(few)).length
            >= 2, 20000, 'the first campaign messages sent');
    } finally {
        await cluster.stopSender('SIGTERM');
        await cluster.startSender();
    }

    const end = await settled(started.id, 12);
    assert.equal(end.counts.delivered, 12);
    assert.equal(end.counts.failed, 0);
    const sends = await sendsTo(few);
    assert.equal(Object.keys(sends).length, 12);
    assert.ok(Object.values(sends).every((r) => r.length === 1),
              'each recipient once');
});

test('a carrier answering 429 holds the number for its Retry-After; '
     + 'nothing fails and each recipient gets one message', async () => {
    const phones = numbers(20);
    await importContacts(phones, 'limited');
    await sim.fail({ type: 'rate_limit', count: 10, retry_after: 1 });

    const started = await startCampaign('limited', 'Slowly');
    const end = await settled(started.id, 20);
    assert.equal(end.counts.delivered, 20);
    assert.equal(end.counts.failed, 0);

    const all = Object.values(await sendsTo(phones)).flat()
        .sort((a, b) => a.seq - b.seq);
    const refused = all.filter((r) => r.response?.status === 429);
    assert.equal(refused.length, 10);
    const accepted = all.filter((r) => r.response?.status === 201);
    assert.equal(accepted.length, 20);
    assert.equal(new Set(accepted.map((r) => Object.fromEntries(r.form).To))
        .size, 20);

    // nothing from the number within the second the carrier asked for
    const first = Date.parse(refused[0].at);
    const next = all.find((r) => r.seq > refused[0].seq
        && Date.parse(r.at) > first + 50);
    assert.ok(next, 'sends after the 429');
    assert.ok(Date.parse(next.at) - first >= 900,
              `sent again ${Date.parse(next.at) - first} ms after the 429`);
    assert.match(ctx.cluster.senderLog(), /429, Retry-After/);
});

// A campaign of o through the API, as the web app makes and sends one.
async function sendByApi(o, tag, body) {
    const made = await api(ctx.cluster, '/api/v1/campaigns', o.token,
        { method: 'POST', body: { name: `To ${tag}`, body,
                                  audience: { tags: [tag] } } });
    assert.equal(made.status, 201, made.text);
    const sent = await api(ctx.cluster,
        `/api/v1/campaigns/${made.json.id}/send`, o.token, { method: 'POST' });
    assert.equal(sent.status, 200, sent.text);
    return sent.json;
}

const campaignOf = async (o, id) => (await api(ctx.cluster,
    `/api/v1/campaigns/${id}`, o.token)).json;

const balanceOf = async (o) => (await api(ctx.cluster, '/api/v1/billing',
    o.token)).json.credits;

test('a campaign that runs out of credits pauses with what it could pay '
     + 'sent; after a grant, resume sends the rest, each recipient once',
     async () => {
    const phones = numbers(25);
    await importContacts(phones, 'members', thrifty);
    await inboxctl(ctx.cluster.store, 'credits', 'grant', thrifty.id, '10');

    const started = await sendByApi(thrifty, 'members', 'Members night');
    const paused = await eventually(async () => {
        const c = await campaignOf(thrifty, started.id);
        return c.status === 'paused' ? c : null;
    }, 20000, 'the campaign paused');
    assert.equal(paused.paused_reason, 'insufficient_credits');

    /* the ten it could pay go, and nothing more */
    await eventually(async () => Object.keys(await sendsTo(phones))
        .length === 10, 10000, 'ten sent');
    await sleep(500);
    assert.equal(Object.keys(await sendsTo(phones)).length, 10);
    assert.equal((await balanceOf(thrifty)).balance, 0);

    await inboxctl(ctx.cluster.store, 'credits', 'grant', thrifty.id, '20');
    const resumed = await api(ctx.cluster,
        `/api/v1/campaigns/${started.id}/resume`, thrifty.token,
        { method: 'POST' });
    assert.equal(resumed.status, 200, resumed.text);

    const end = await eventually(async () => {
        const c = await campaignOf(thrifty, started.id);
        return c.status === 'done' && c.counts.delivered === 25 ? c : null;
    }, 20000, 'all 25 delivered');
    assert.equal(end.paused_reason, null);
    const sends = await sendsTo(phones, 'Members night');
    assert.equal(Object.keys(sends).length, 25);
    assert.ok(Object.values(sends).every((r) => r.length === 1),
              'each recipient once');
    assert.equal((await balanceOf(thrifty)).balance, 5);
});

test('cancel through the API while a campaign sends: the recipients not '
     + 'handed over get nothing and cost nothing', async () => {
    const phones = numbers(600);
    await importContacts(phones, 'cancelled');
    const before = await balanceOf(org);

    const started = await sendByApi(org, 'cancelled', 'Flash sale');
    /* at 200 a second the 600 are sent in 3 s: watched through the
     * campaign's counts, a quick read, not the simulator's list of every
     * send so far (thousands by now, slow to read on a loaded machine),
     * so that the cancel comes while it sends */
    await eventually(async () => {
        const n = (await campaignOf(org, started.id)).counts;
        return n.sent + n.delivered >= 50;
    }, 20000, 'the campaign sending');
    const res = await api(ctx.cluster,
        `/api/v1/campaigns/${started.id}/cancel`, org.token,
        { method: 'POST' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.status, 'cancelled');

    /* what was at the carrier ends; the rest is cancelled, unsent */
    await eventually(async () => {
        const c = await campaignOf(org, started.id);
        return c.counts.queued === 0 ? c : null;
    }, 20000, 'the handed messages sent');
    await sleep(1500);
    const sent = Object.keys(await sendsTo(phones, 'Flash sale')).length;
    const after = await campaignOf(org, started.id);
    assert.equal(after.status, 'cancelled');
    assert.ok(sent < 600, `${sent} of 600 sent`);
    assert.equal(after.counts.sent + after.counts.delivered, sent);
    assert.equal(after.counts.failed, 0);
    assert.equal(after.counts.cancelled, 600 - sent);
    assert.equal(after.counts.queued, 0);
    /* only what was sent was paid for */
    assert.equal((await balanceOf(org)).balance, before.balance - sent);
});

test('pause and cancel through the API stop a campaign at once, also what '
     + "the sender holds waiting for the number's rate; resume sends the "
     + 'rest once each; a cancel costs nothing more', async () => {
    /* more than a dispatch (25): some still due, some in the outbox,
     * some in the sender's hands */
    const paused = numbers(40);
    const cancelled = numbers(40);
    await importContacts(paused, 'pause-slow');
    await importContacts(cancelled, 'cancel-slow');
    const cluster = ctx.cluster;
    const sentTo = async (phones) => Object.keys(await sendsTo(phones))
        .length;
    const act = async (id, action) => {
        const res = await api(cluster, `/api/v1/campaigns/${id}/${action}`,
                              org.token, { method: 'POST' });
        assert.equal(res.status, 200, res.text);
        return res.json;
    };

    /* four a second: much of each campaign waits in the sender's hands,
     * claimed, for the number's rate */
    await cluster.stopSender('SIGTERM');
    await cluster.startSender(['--rate', '4', '--burst', '1']);
    try {
        const a = await sendByApi(org, 'pause-slow', 'Paused sale');
        await eventually(async () => await sentTo(paused) >= 2, 20000,
                         'the first messages sent');
        assert.equal((await act(a.id, 'pause')).status, 'paused');
        const atPause = await sentTo(paused);
        await sleep(2000);
        /* one may have been on its way as the pause came */
        const later = await sentTo(paused);
        assert.ok(later <= atPause + 1,
                  `${later - atPause} sent after the pause`);
        const held = await campaignOf(org, a.id);
        assert.equal(held.status, 'paused');
        assert.equal(held.counts.failed, 0);

        assert.equal((await act(a.id, 'resume')).status, 'sending');
        await eventually(async () => {
            const c = await campaignOf(org, a.id);
            return c.counts.delivered === 40 ? c : null;
        }, 30000, 'all 40 delivered after the resume');
        const sends = await sendsTo(paused, 'Paused sale');
        assert.equal(Object.keys(sends).length, 40);
        assert.ok(Object.values(sends).every((r) => r.length === 1),
                  'each recipient once');

        const before = (await balanceOf(org)).balance;
        const b = await sendByApi(org, 'cancel-slow', 'Cancelled sale');
        await eventually(async () => await sentTo(cancelled) >= 2, 20000,
                         'the first messages sent');
        assert.equal((await act(b.id, 'cancel')).status, 'cancelled');
        const atCancel = await sentTo(cancelled);
        const end = await eventually(async () => {
            const c = await campaignOf(org, b.id);
            return c.counts.queued === 0 ? c : null;
        }, 10000, 'nothing left queued');
        await sleep(1500);
        const sent = await sentTo(cancelled);
        assert.ok(sent <= atCancel + 1, `${sent - atCancel} sent after the `
                  + 'cancel');
        const now = await campaignOf(org, b.id);
        assert.equal(now.counts.cancelled, 40 - sent);
        assert.equal(now.counts.failed, 0);
        assert.equal(now.counts.sent + now.counts.delivered, sent);
        assert.equal(end.counts.cancelled, 40 - sent);
        /* only what left is paid for */
        assert.equal((await balanceOf(org)).balance, before - sent);
    } finally {
        await cluster.stopSender('SIGTERM');
        await cluster.startSender();
    }
});

test('a cancel reports at once a message that waits out a carrier\'s '
     + '"try again later", rather than leaving it queued for its backoff',
     async () => {
    const [phone] = numbers(1);
    await importContacts([phone], 'cancel-retry');
    /* twice 503: after the second it waits 10 s for its third attempt */
    await sim.fail({ type: 'http_error', status: 503, count: 2,
                     number: phone });
    const before = (await balanceOf(org)).balance;
    const c = await sendByApi(org, 'cancel-retry', 'Retry sale');
    await eventually(async () => ((await sendsTo([phone]))[phone] ?? [])
        .length >= 2, 20000, 'two attempts refused');
    await sleep(300);                       /* the second one recorded */
    const waiting = await campaignOf(org, c.id);
    assert.equal(waiting.counts.queued, 1);

    const res = await api(ctx.cluster, `/api/v1/campaigns/${c.id}/cancel`,
                          org.token, { method: 'POST' });
    assert.equal(res.status, 200, res.text);
    /* well before the third attempt was due */
    const end = await eventually(async () => {
        const now = await campaignOf(org, c.id);
        return now.counts.queued === 0 ? now : null;
    }, 6000, 'the waiting message reported cancelled');
    assert.equal(end.counts.cancelled, 1);
    assert.equal(end.counts.failed, 0);
    const sends = (await sendsTo([phone]))[phone];
    assert.deepEqual(sends.map((r) => r.response.status), [503, 503]);
    assert.equal((await balanceOf(org)).balance, before);
});

test('a carrier failing every send (a gateway\'s 502) holds the number: the '
     + 'campaign waits, rather than pouring its audience into outcomes no '
     + 'one knows', async () => {
    // the other organization's own number: the hold stays with it
    const phones = numbers(60);
    await inboxctl(ctx.cluster.store, 'credits', 'grant', thrifty.id, '1000');
    await importContacts(phones, 'outage', thrifty);
    for (const phone of phones) {
        await sim.fail({ type: 'http_error', status: 502, number: phone });
    }
    const c = await sendByApi(thrifty, 'outage', 'During an outage');

    // at 200 a second all 60 would have gone in a third of a second
    await sleep(3000);
    const tried = Object.keys(await sendsTo(phones, 'During an outage'))
        .length;
    assert.ok(tried > 0, 'the outage met');
    assert.ok(tried <= 40, `${tried} of 60 sent into the outage`);
    assert.match(ctx.cluster.senderLog(),
                 /unknown \(HTTP 502\): nothing more from the number/);

    // cancelled: those never sent are counted so; those sent into the
    // outage stay queued (an unknown outcome, never sent again)
    const res = await api(ctx.cluster, `/api/v1/campaigns/${c.id}/cancel`,
                          thrifty.token, { method: 'POST' });
    assert.equal(res.status, 200, res.text);
    await sleep(1000);                      /* a send in flight answered */
    const sent = Object.values(await sendsTo(phones, 'During an outage'));
    assert.ok(sent.every((r) => r.length === 1), 'each tried once at most');
    const end = await eventually(async () => {
        const now = await campaignOf(thrifty, c.id);
        return now.counts.cancelled === 60 - sent.length ? now : null;
    }, 20000, 'what waited reported cancelled');
    assert.equal(end.counts.queued, sent.length);
    assert.equal(end.counts.failed, 0);
});

test('sending numbers of other tests: the sender never sent a message '
     + 'twice', async () => {
    await sleep(200);
    const sends = await sim.requests({ kind: 'send' });
    const accepted = sends.filter((r) => r.response?.status === 201);
    const keys = accepted.map((r) => {
        const f = Object.fromEntries(r.form);
        return `${f.To}|${f.Body}`;
    });
    assert.equal(new Set(keys).size, keys.length);
});

errorLogIsCleanTest(ctx);
