// Campaigns and polls end to end on an injected clock: the sender runs
// with --clock-file (its campaigns' clock: send times, quiet hours, the
// times dispatch and progress record; everything else keeps the real
// clock), the carrier simulator takes the messages, contacts text in
// through signed webhooks.  The file is rewritten to move the clock;
// every instant it is set to lies behind the real clock, as the outbox
// sends on the real one, so campaigns here name their send time (their
// recipients are due then).
//
// Quiet hours in two time zones (and the organization's for a contact
// without one), a reply that leaves at once while its contact's campaign
// message waits for the morning, an opt-out while the campaign sends, a
// scheduled campaign that starts when the clock passes its send time, a
// poll answer too late to count, and a poll answered long after its
// sending ended whose tally comes live over the WebSocket.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { inboxctl, senderPath, sleep, uniqueNumber }
    from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, connectWs, deliverInbound, eventually, ISO_Z }
    from '../lib/inbox.mjs';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// The day before yesterday, UTC: 15:00Z is midnight in Tokyo (quiet) and
// 10:00 or 11:00 in New York (not); Tokyo's window opens at 23:00Z.
const DAY0 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
const NIGHT_IN_TOKYO = DAY0 + 15 * HOUR;
const MORNING_IN_TOKYO = DAY0 + 23 * HOUR;

const clockDir = mkdtempSync(join(tmpdir(), 'inbox-clock-'));
const clockFile = join(clockDir, 'now');

// Whole or not at all: the sender never reads half a file.
function setClock(ms) {
    const tmp = `${clockFile}.tmp`;
    writeFileSync(tmp, `${new Date(ms).toISOString()}\n`);
    renameSync(tmp, clockFile);
}

// The dispatch looks every second: two looks at the new time.
const clockSettles = () => sleep(2500);

setClock(NIGHT_IN_TOKYO);

const ctx = useCluster({ orgs: [{ name: 'Tokyo Org' }, { name: 'UTC Org' }],
                         carrierSim: true, sender: true,
                         senderVerbose: false,
                         senderArgs: ['--clock-file', clockFile,
                                      '--rate', '50'] });
let tokyoOrg;
let utcOrg;
let sim;

after(() => rmSync(clockDir, { recursive: true, force: true }));

before(async () => {
    const cluster = await ctx.ready;
    [tokyoOrg, utcOrg] = cluster.orgs;
    sim = cluster.sim;
    await inboxctl(cluster.store, 'settings', 'set', tokyoOrg.id,
                   '--timezone', 'Asia/Tokyo', '--quiet-hours',
                   '21:00-08:00');
    // the UTC organization's quiet hours far from the real time of day
    // (its campaigns are sent on days gone by, at this time of day)
    const h = new Date().getUTCHours();
    const hh = (n) => String(n % 24).padStart(2, '0');
    await inboxctl(cluster.store, 'settings', 'set', utcOrg.id,
                   '--timezone', 'UTC', '--quiet-hours',
                   `${hh(h + 6)}:00-${hh(h + 7)}:00`);
    for (const org of cluster.orgs) {
        await inboxctl(cluster.store, 'credits', 'grant', org.id, '1000');
    }
});

async function ok(org, path, opts = {}, status = 200) {
    const res = await api(ctx.cluster, path, org.token, opts);
    assert.equal(res.status, status, `${path}: ${res.text}`);
    return res.json;
}

const iso = (ms) => new Date(ms).toISOString();

// What the simulator was asked to send to phone, each request's form.
async function sendsTo(phone) {
    const out = [];
    for (const r of await sim.requests({ kind: 'send' })) {
        const form = Object.fromEntries(r.form ?? []);
        if (form.To === phone && r.response?.status === 201) {
            out.push({ ...form, at: r.at });
        }
    }
    return out;
}

const bodiesTo = async (phone) => (await sendsTo(phone)).map((f) => f.Body);

async function contactByPhone(org, phone) {
    const page = await ok(org, `/api/v1/contacts?q=${encodeURIComponent(
        phone)}`);
    assert.equal(page.items.length, 1, phone);
    return page.items[0];
}

test('quiet hours hold each recipient on its own clock (New York goes, '
     + 'Tokyo and the Tokyo organization\'s contact without a zone wait '
     + 'for 08:00 there); a reply goes at once meanwhile; a contact who '
     + 'opts out while the campaign sends gets nothing more', async () => {
    const cluster = ctx.cluster;
    const org = tokyoOrg;
    const [ny, tokyo, plain, stopper, patched] = Array.from({ length: 5 },
        () => uniqueNumber());

    // zones from a CSV through inboxctl, and one by PATCH
    const csv = join(cluster.dir, 'night.csv');
    writeFileSync(csv, 'phone,name,tags,timezone\n'
        + `${ny},New York,night,America/New_York\n`
        + `${tokyo},Tokyo,night,Asia/Tokyo\n`
        + `${plain},No Zone,night,\n`
        + `${stopper},Stopper,night,Asia/Tokyo\n`
        + `${patched},Patched,night,\n`);
    const report = JSON.parse(await inboxctl(cluster.store, 'contacts',
                                             'import', org.id, csv));
    assert.equal(report.created, 5);
    assert.equal((await contactByPhone(org, tokyo)).timezone, 'Asia/Tokyo');
    assert.equal((await contactByPhone(org, plain)).timezone, null);
    const p = await contactByPhone(org, patched);
    await ok(org, `/api/v1/contacts/${p.id}`, { method: 'PATCH',
        body: { timezone: 'America/New_York' } });

    // midnight in Tokyo, morning in New York
    setClock(NIGHT_IN_TOKYO);
    const c = await ok(org, '/api/v1/campaigns', { method: 'POST', body: {
        name: 'Night test', body: 'Good morning offer',
        audience: { tags: ['night'] }, send_at: iso(NIGHT_IN_TOKYO) } },
        201);
    assert.equal((await ok(org, `/api/v1/campaigns/${c.id}/send`,
                           { method: 'POST' })).status, 'sending');

    const held = await eventually(async () => {
        const now = await ok(org, `/api/v1/campaigns/${c.id}`);
        return now.counts.waiting_quiet_hours === 3
            && now.counts.delivered === 2 ? now : null;
    }, 15000, 'New York sent, Tokyo held');
    assert.equal(held.status, 'sending');
    for (const phone of [ny, patched]) {
        assert.deepEqual(await bodiesTo(phone), ['Good morning offer']);
    }
    for (const phone of [tokyo, plain, stopper]) {
        assert.deepEqual(await bodiesTo(phone), [], phone);
    }

    // a reply from the inbox is never held: it reaches the carrier while
    // the clock stays at night (held, it would wait for 08:00 there, which
    // the clock reaches only when the test moves it)
    const tokyoContact = await contactByPhone(org, tokyo);
    await ok(org, `/api/v1/conversations/${tokyoContact.conversation_id}`
             + '/messages', { method: 'POST',
                              body: { body: 'Replying at night' } }, 201);
    const reply = await eventually(async () => (await sendsTo(tokyo))[0],
                                   15000, 'the reply at the carrier');
    assert.equal(reply.Body, 'Replying at night');

    // the stopper opts out while the campaign is sending
    await deliverInbound(cluster, { org, from: stopper, body: 'STOP' });

    // a minute before the window opens: still waiting
    setClock(MORNING_IN_TOKYO - MINUTE);
    await clockSettles();
    let now = await ok(org, `/api/v1/campaigns/${c.id}`);
    assert.equal(now.counts.waiting_quiet_hours, 3);
    assert.deepEqual(await bodiesTo(tokyo), ['Replying at night']);

    // 08:00 in Tokyo: the two held go, the one who stopped gets nothing
    setClock(MORNING_IN_TOKYO);
    now = await eventually(async () => {
        const n = await ok(org, `/api/v1/campaigns/${c.id}`);
        return n.status === 'done' && n.counts.delivered === 4 ? n : null;
    }, 15000, 'the campaign done');
    assert.equal(now.counts.waiting_quiet_hours, 0);
    // the stopper, a recipient when it was sent, stays one, suppressed
    assert.equal(now.counts.suppressed, 1);
    assert.equal(now.counts.recipients, 5);
    assert.equal(now.finished_at, iso(MORNING_IN_TOKYO));
    assert.deepEqual(await bodiesTo(tokyo),
                     ['Replying at night', 'Good morning offer']);
    assert.deepEqual(await bodiesTo(plain), ['Good morning offer']);
    const toStopper = await bodiesTo(stopper);
    assert.ok(!toStopper.includes('Good morning offer'),
              JSON.stringify(toStopper));
    assert.equal(toStopper.length, 1, 'only the STOP confirmation');

    // the record and the timeline show the campaign as it was sent
    const rec = await ok(org, `/api/v1/contacts/${tokyoContact.id}`);
    assert.equal(rec.timezone, 'Asia/Tokyo');
    assert.equal(rec.campaigns.length, 1);
    assert.equal(rec.campaigns[0].id, c.id);
    assert.equal(rec.campaigns[0].sent_at, iso(MORNING_IN_TOKYO));
    assert.equal(rec.campaigns[0].status, 'delivered');
    const tl = await ok(org, `/api/v1/contacts/${tokyoContact.id}/timeline`);
    const sent = tl.items.find((i) => i.type === 'campaign');
    assert.equal(sent.campaign.id, c.id);
    assert.equal(sent.at, iso(MORNING_IN_TOKYO));
    const stopperRec = await ok(org, `/api/v1/contacts/${
        (await contactByPhone(org, stopper)).id}`);
    assert.equal(stopperRec.opted_out, true);
    assert.deepEqual(stopperRec.campaigns, []);
});

test('a campaign paused in the evening and resumed at night sends nothing '
     + 'until the morning, not even what the sender had in hand',
     async () => {
    const cluster = ctx.cluster;
    const org = tokyoOrg;
    // enough recipients that the send (at the sender's 50 a second) is
    // still going when the pause comes, on a loaded machine too
    const phones = Array.from({ length: 500 }, () => uniqueNumber());
    const csv = join(cluster.dir, 'evening.csv');
    writeFileSync(csv, 'phone,name,tags\n' + phones.map((p, i) =>
        `${p},Evening ${i},evening`).join('\n') + '\n');
    await inboxctl(cluster.store, 'contacts', 'import', org.id, csv);
    const ours = new Set(phones);
    const sent = async () => (await sim.requests({ kind: 'send' }))
        .filter((r) => r.response?.status === 201
                && ours.has(Object.fromEntries(r.form ?? []).To))
        .length;

    // 20:50 in Tokyo: sending, then paused with messages handed over
    const evening = DAY0 + 11 * HOUR + 50 * MINUTE;
    setClock(evening);
    await clockSettles();
    const c = await ok(org, '/api/v1/campaigns', { method: 'POST', body: {
        name: 'Evening', body: 'Evening offer',
        audience: { tags: ['evening'] }, send_at: iso(evening) } }, 201);
    await ok(org, `/api/v1/campaigns/${c.id}/send`, { method: 'POST' });
    await eventually(async () => (await sent()) >= 5, 10000, 'some sent');
    await ok(org, `/api/v1/campaigns/${c.id}/pause`, { method: 'POST' });
    await sleep(1000);
    const paused = await ok(org, `/api/v1/campaigns/${c.id}`);
    assert.ok(paused.counts.queued > 0 || paused.counts.due > 0,
              JSON.stringify(paused.counts));

    // 23:00 in Tokyo: resumed, and nothing more goes out
    setClock(DAY0 + 14 * HOUR);
    await clockSettles();
    const before = await sent();
    await ok(org, `/api/v1/campaigns/${c.id}/resume`, { method: 'POST' });
    await sleep(5000);
    assert.equal(await sent(), before, 'sent during quiet hours');
    // what the sender had claimed, and put back, waits as the rest does
    // (put off claim by claim, at the number's pace: slower on a loaded
    // machine)
    let night;
    await eventually(async () => {
        night = await ok(org, `/api/v1/campaigns/${c.id}`);
        return night.counts.queued === 0;
    }, 30000, 'nothing counted queued at night');
    assert.equal(night.status, 'sending');
    assert.equal(night.counts.sent + night.counts.delivered, before,
                 JSON.stringify(night.counts));
    assert.equal(night.counts.waiting_quiet_hours, phones.length - before,
                 JSON.stringify(night.counts));

    await ok(org, `/api/v1/campaigns/${c.id}/cancel`, { method: 'POST' });
    await sleep(2000);
    assert.equal(await sent(), before);
    const cancelled = await ok(org, `/api/v1/campaigns/${c.id}`);
    assert.equal(cancelled.counts.waiting_quiet_hours, 0,
                 JSON.stringify(cancelled.counts));
    assert.equal(cancelled.counts.cancelled, phones.length - before,
                 JSON.stringify(cancelled.counts));
});

test('a campaign cancelled while its one recipient waits out her quiet '
     + 'hours handed nothing over: it is deleted, and nothing goes in the '
     + 'morning', async () => {
    const org = tokyoOrg;
    const phone = uniqueNumber();
    const contact = await ok(org, '/api/v1/contacts', { method: 'POST',
        body: { phone, name: 'Night Owl', tags: ['nightowl'] } }, 201);

    // midnight in Tokyo: started, its recipient held for the morning
    setClock(NIGHT_IN_TOKYO);
    await clockSettles();
    const c = await ok(org, '/api/v1/campaigns', { method: 'POST', body: {
        name: 'Owl', body: 'Owl offer', audience: { tags: ['nightowl'] },
        send_at: iso(NIGHT_IN_TOKYO) } }, 201);
    await ok(org, `/api/v1/campaigns/${c.id}/send`, { method: 'POST' });
    let night;
    await eventually(async () => {
        night = await ok(org, `/api/v1/campaigns/${c.id}`);
        return night.counts.waiting_quiet_hours === 1;
    }, 10000, 'held for quiet hours');
    assert.equal(night.status, 'sending');
    assert.ok(night.started_at, 'it started');
    assert.equal(night.handed_at, null);

    let res = await api(ctx.cluster, `/api/v1/campaigns/${c.id}`, org.token,
                        { method: 'DELETE' });
    assert.equal(res.status, 409, res.text);
    assert.equal(res.json.error.message, 'Only a draft, or one cancelled '
                 + 'before any of its messages was handed over, can be '
                 + 'deleted; this one is sending: cancel it instead.');

    await ok(org, `/api/v1/campaigns/${c.id}/cancel`, { method: 'POST' });
    res = await api(ctx.cluster, `/api/v1/campaigns/${c.id}`, org.token,
                    { method: 'DELETE' });
    assert.equal(res.status, 204, res.text);
    res = await api(ctx.cluster, `/api/v1/campaigns/${c.id}`, org.token);
    assert.equal(res.status, 404, res.text);

    // the morning: nothing sent her, no record of it on her contact
    setClock(MORNING_IN_TOKYO + HOUR);
    await clockSettles();
    assert.deepEqual(await bodiesTo(phone), []);
    const record = await ok(org, `/api/v1/contacts/${contact.id}`);
    assert.deepEqual(record.campaigns, []);
});


test('a scheduled campaign stays scheduled while the sender\'s clock is '
     + 'before its send time, even once the real one passed it, and starts '
     + 'when its clock does', async () => {
    const org = utcOrg;
    const phone = uniqueNumber();
    await ok(org, '/api/v1/contacts', { method: 'POST',
        body: { phone, tags: ['later'] } }, 201);

    setClock(Date.now() - HOUR);
    const sendAt = Date.now() + 2000;
    const c = await ok(org, '/api/v1/campaigns', { method: 'POST', body: {
        name: 'Later', body: 'At the stroke of the hour',
        audience: { tags: ['later'] }, send_at: iso(sendAt) } }, 201);
    assert.equal((await ok(org, `/api/v1/campaigns/${c.id}/send`,
                           { method: 'POST' })).status, 'scheduled');

    // the real clock passes send_at; the sender's does not
    await sleep(sendAt + 2500 - Date.now());
    let now = await ok(org, `/api/v1/campaigns/${c.id}`);
    assert.equal(now.status, 'scheduled');
    assert.equal(now.started_at, null);
    assert.deepEqual(await bodiesTo(phone), []);

    setClock(sendAt + 1000);
    now = await eventually(async () => {
        const n = await ok(org, `/api/v1/campaigns/${c.id}`);
        return n.status === 'done' && n.counts.delivered === 1 ? n : null;
    }, 15000, 'the scheduled campaign sent');
    assert.equal(now.started_at, iso(sendAt + 1000));
    assert.deepEqual(await bodiesTo(phone), ['At the stroke of the hour']);
});

test('a scheduled campaign\'s time moves, its recipients with it, and '
     + 'other browsers see the new time live; nothing else of it moves',
     async () => {
    const org = utcOrg;
    const phone = uniqueNumber();
    await ok(org, '/api/v1/contacts', { method: 'POST',
        body: { phone, tags: ['moved'] } }, 201);
    const now = Date.now();
    setClock(now - 2 * HOUR);

    const c = await ok(org, '/api/v1/campaigns', { method: 'POST', body: {
        name: 'Moved', body: 'Doors open early', audience: { tags: ['moved'] },
        send_at: iso(now + HOUR) } }, 201);
    const ws = await connectWs(ctx.cluster, org.token);
    try {
        assert.equal((await ok(org, `/api/v1/campaigns/${c.id}/send`,
                               { method: 'POST' })).status, 'scheduled');

        // its text and audience were fixed by the send
        const refused = await api(ctx.cluster, `/api/v1/campaigns/${c.id}`,
            org.token, { method: 'PATCH', body: { body: 'Doors open late',
                                                  send_at: iso(now) } });
        assert.equal(refused.status, 409, refused.text);
        assert.match(refused.json.error.message, /its time can move/);

        // an hour earlier than it was, still ahead of the sender's clock
        const moved = await ok(org, `/api/v1/campaigns/${c.id}`,
            { method: 'PATCH', body: { send_at: iso(now - HOUR) } });
        assert.equal(moved.status, 'scheduled');
        assert.equal(moved.send_at, iso(now - HOUR));
        await ws.waitFor((frames) => frames.some((f) =>
            f.type === 'campaign.progress' && f.id === c.id
            && f.send_at === iso(now - HOUR)), 5000, 'the new time pushed');
    } finally {
        ws.close();
    }

    setClock(now - HOUR - MINUTE);
    await clockSettles();
    assert.equal((await ok(org, `/api/v1/campaigns/${c.id}`)).status,
                 'scheduled');
    assert.deepEqual(await bodiesTo(phone), []);

    setClock(now - HOUR + 1000);
    const sent = await eventually(async () => {
        const n = await ok(org, `/api/v1/campaigns/${c.id}`);
        return n.status === 'done' && n.counts.delivered === 1 ? n : null;
    }, 15000, 'the moved campaign sent at its new time');
    assert.equal(sent.started_at, iso(now - HOUR + 1000));
    assert.deepEqual(await bodiesTo(phone), ['Doors open early']);

    // begun and ended: no time to move
    const late = await api(ctx.cluster, `/api/v1/campaigns/${c.id}`,
        org.token, { method: 'PATCH', body: { send_at: iso(now) } });
    assert.equal(late.status, 409, late.text);
});

// A poll to phones, sent (on the sender's clock) at `at`; resolves once
// each got it.
async function pollSentAt(org, tag, phones, at, question) {
    for (const phone of phones) {
        await ok(org, '/api/v1/contacts', { method: 'POST',
            body: { phone, tags: [tag] } }, 201);
    }
    setClock(at);
    const poll = await ok(org, '/api/v1/polls', { method: 'POST', body: {
        question, options: ['Yes', 'No'], audience: { tags: [tag] },
        send_at: iso(at) } }, 201);
    await ok(org, `/api/v1/polls/${poll.id}/send`, { method: 'POST' });
    await eventually(async () => {
        const n = await ok(org, `/api/v1/polls/${poll.id}`);
        return n.status === 'done'
            && n.counts.delivered === phones.length ? n : null;
    }, 15000, `poll "${question}" delivered`);
    return poll;
}

test('an answer more than seven days after the poll reached its contact '
     + 'is a message in the inbox, not an answer', async () => {
    const org = utcOrg;
    const [late, inTime] = [uniqueNumber(), uniqueNumber()];
    const old = await pollSentAt(org, 'eight-days', [late],
                                 Date.now() - 8 * DAY, 'Still coming?');
    const recent = await pollSentAt(org, 'six-days', [inTime],
                                    Date.now() - 6 * DAY, 'Coming soon?');
    await deliverInbound(ctx.cluster, { org, from: late, body: 'Yes' });
    await deliverInbound(ctx.cluster, { org, from: inTime, body: 'yes' });

    const o = await ok(org, `/api/v1/polls/${old.id}`);
    assert.deepEqual(o.tally.map((t) => t.count), [0, 0]);
    assert.deepEqual(o.responses, []);
    assert.equal(o.counts.replied, 0);
    const r = await ok(org, `/api/v1/polls/${recent.id}`);
    assert.deepEqual(r.tally.map((t) => t.count), [1, 0]);
    assert.equal(r.responses[0].contact.phone, inTime);

    const lateContact = await contactByPhone(org, late);
    const msgs = await ok(org, `/api/v1/conversations/${
        lateContact.conversation_id}/messages`);
    assert.equal(msgs.items[0].body, 'Yes');
    assert.equal(msgs.items[0].direction, 'inbound');
    assert.deepEqual((await ok(org, `/api/v1/contacts/${lateContact.id}`))
        .polls, []);
});

test('a poll answered days after its sending ended: each answer, and a '
     + 'changed answer, pushes campaign.progress with the new tally',
    async () => {
    const org = utcOrg;
    const [ann, bob] = [uniqueNumber(), uniqueNumber()];
    const poll = await pollSentAt(org, 'tally', [ann, bob],
                                  Date.now() - 5 * DAY, 'Lunch on Friday?');

    // days later on the sender's clock: long past its last progress
    setClock(Date.now() - MINUTE);
    await clockSettles();

    const ws = await connectWs(ctx.cluster, org.token);
    try {
        const frames = () => ws.frames.filter((f) =>
            f.type === 'campaign.progress' && f.id === poll.id);
        const tallyIs = (counts) => (fs) => fs.some((f) =>
            f.type === 'campaign.progress' && f.id === poll.id
            && JSON.stringify(f.tally?.map((t) => t.count))
               === JSON.stringify(counts));

        await deliverInbound(ctx.cluster, { org, from: ann, body: '1' });
        await ws.waitFor(tallyIs([1, 0]), 5000, 'the tally [1, 0]');
        let f = frames().at(-1);
        assert.equal(f.status, 'done');
        assert.equal(f.counts.replied, 1);
        assert.equal(f.counts.delivered, 2);
        assert.deepEqual(f.tally, [
            { number: 1, option: 'Yes', count: 1 },
            { number: 2, option: 'No', count: 0 }]);

        // only the tally moves: still pushed
        await deliverInbound(ctx.cluster, { org, from: ann, body: 'no' });
        await ws.waitFor(tallyIs([0, 1]), 5000, 'the tally [0, 1]');
        f = frames().at(-1);
        assert.equal(f.counts.replied, 1);

        await deliverInbound(ctx.cluster, { org, from: bob, body: 'Yes' });
        await ws.waitFor(tallyIs([1, 1]), 5000, 'the tally [1, 1]');

        // as GET shows it
        const r = await ok(org, `/api/v1/polls/${poll.id}`);
        assert.deepEqual(r.tally, frames().at(-1).tally);
        assert.match(frames().at(-1).epoch, /\S/);
        assert.ok(r.responses.every((x) => ISO_Z.test(x.answered_at)));
    } finally {
        ws.close();
    }
});

test('the sender logs each move of its clock, keeps the last instant when '
     + 'the file goes bad, and will not start without one', async () => {
    const cluster = ctx.cluster;
    setClock(Date.parse('2026-03-01T15:00:00Z'));
    await eventually(() => /campaigns' clock: 2026-03-01T15:00:00\.000Z/
        .test(cluster.senderLog()), 5000, 'the move in the log');
    assert.match(cluster.senderLog(), /campaigns run on the clock of /);

    writeFileSync(`${clockFile}.tmp`, 'tomorrow\n');
    renameSync(`${clockFile}.tmp`, clockFile);
    await eventually(() => /holds no UTC instant.*it stays at 2026-03-01T15/
        .test(cluster.senderLog()), 5000, 'the bad file in the log');

    const bad = join(clockDir, 'bad');
    writeFileSync(bad, 'soon');
    const run = (args) => new Promise((ok) => execFile(senderPath, args,
        (err, stdout, stderr) => ok({ code: err?.code ?? 0, stderr })));
    const r = await run(['--store', cluster.store, '--wake',
                         join(clockDir, 'wake.sock'), '--public-url',
                         cluster.baseUrl, '--clock-file', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--clock-file .*bad: it holds no UTC instant/);
});

errorLogIsCleanTest(ctx);
