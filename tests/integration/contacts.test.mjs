// The contact's record: read it, name it, tag it and give it a time zone
// (and see the thread list follow at once), its timeline, the contacts
// list with search and tag filter, a new contact, and a CSV import of
// 100,000 rows (and its timezone column).

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inboxctl, nginxPath, sqlite3Path, uniqueNumber }
    from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, connectWs, deliverInbound, framesBeforeFence,
         ISO_Z, newMessageSid, openWs, SERVER_FAILURE, wsUrl }
    from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

const execFileAsync = promisify(execFile);
const ctx = useCluster({ orgs: [{ name: 'Org A' }, { name: 'Org B' }] });
let stranger;       // a number that texted org A, unnamed
let strangerConv;   // its conversation
let fenceA;         // a thread of each organization only fences look at
let fenceB;

const tokenA = () => ctx.cluster.orgs[0].token;
const tokenB = () => ctx.cluster.orgs[1].token;

async function call(path, opts = {}, token = tokenA()) {
    return api(ctx.cluster, path, token, opts);
}

async function ok(path, opts = {}, status = 200) {
    const res = await call(path, opts);
    assert.equal(res.status, status, res.text);
    return res.json;
}

async function importCsv(text, token = tokenA(),
                         type = 'text/csv; charset=utf-8') {
    const res = await fetch(ctx.cluster.url('/api/v1/contacts/import'), {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': type },
        body: text,
    });
    const body = await res.text();
    let json;
    try { json = JSON.parse(body); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, json, text: body };
}

// Digits of a number as people write it: +1 (212) 555-0101.
function formatted(e164) {
    const d = e164.slice(2);
    return `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`;
}

before(async () => {
    const cluster = await ctx.ready;
    stranger = uniqueNumber();
    await deliverInbound(cluster, { from: stranger, body: 'who is this?' });
    await deliverInbound(cluster, { from: stranger, body: 'hello again' });
    const list = await ok('/api/v1/conversations');
    strangerConv = list.items.find((c) => c.contact.phone === stranger);
    fenceA = await fenceThread(cluster.orgs[0]);
    fenceB = await fenceThread(cluster.orgs[1]);
});

// A thread of a number of its own in org, for framesBeforeFence.
async function fenceThread(org) {
    const phone = uniqueNumber();
    await deliverInbound(ctx.cluster, { org, from: phone, body: 'fence' });
    const res = await call(`/api/v1/conversations?q=${phone.slice(2)}`, {},
                           org.token);
    assert.equal(res.status, 200, res.text);
    const conv = res.json.items.find((c) => c.contact.phone === phone);
    assert.ok(conv, `the thread of ${phone}`);
    return conv.id;
}

// The frames a (org A's socket) and b (org B's) got before a fence in
// each organization: all a request made before could have pushed them.
async function framesBeforeFences(a, b) {
    const [fromA] = await framesBeforeFence(ctx.cluster, tokenA(), fenceA,
                                            [a]);
    const [fromB] = await framesBeforeFence(ctx.cluster, tokenB(), fenceB,
                                            [b]);
    return { fromA, fromB };
}

test('a contact who texted in has its record, with no name yet', async () => {
    const c = await ok(`/api/v1/contacts/${strangerConv.contact.id}`);
    assert.equal(c.id, strangerConv.contact.id);
    assert.equal(c.name, null);
    assert.equal(c.phone, stranger);
    assert.deepEqual(c.tags, []);
    assert.equal(c.opted_out, false);
    assert.equal(c.opted_out_at, null);
    assert.equal(c.opt_out_source, null);
    assert.match(c.created_at, ISO_Z);
    assert.equal(c.conversation_id, strangerConv.id);
    assert.deepEqual(c.campaigns, []);
    assert.deepEqual(c.polls, []);
});

test('naming an unknown number from its thread shows the name in the list '
    + 'and its search at once, and on every browser', async () => {
    const { cluster } = ctx;
    const a = await connectWs(cluster, tokenA());
    const b = await connectWs(cluster, tokenB());
    try {
        await a.waitForTypes(['hello']);
        await b.waitForTypes(['hello']);
        const c = await ok(`/api/v1/contacts/${strangerConv.contact.id}`,
            { method: 'PATCH', body: { name: '  Dana Whitfield ' } });
        assert.equal(c.name, 'Dana Whitfield');

        const list = await ok('/api/v1/conversations');
        const conv = list.items.find((x) => x.id === strangerConv.id);
        assert.equal(conv.contact.name, 'Dana Whitfield');
        const found = await ok('/api/v1/conversations?q=whitf');
        assert.deepEqual(found.items.map((x) => x.id), [strangerConv.id]);

        const frames = await a.waitFor((f) => f.some(
            (e) => e.type === 'conversation.updated'));
        const ev = frames.find((e) => e.type === 'conversation.updated');
        assert.equal(ev.conversation.id, strangerConv.id);
        assert.equal(ev.conversation.contact.name, 'Dana Whitfield');
        assert.equal(ev.org_seq, frames[0].org_seq + 1);

        // the same name again changes nothing and pushes nothing
        await ok(`/api/v1/contacts/${strangerConv.contact.id}`,
            { method: 'PATCH', body: { name: 'Dana Whitfield' } });
        const { fromA, fromB } = await framesBeforeFences(a, b);
        assert.equal(fromA.length, 2, JSON.stringify(fromA));
        assert.equal(fromB.length, 1, JSON.stringify(fromB));
    } finally {
        a.close();
        b.close();
    }
});

test('tags are trimmed, kept in order, unique whatever the case, and '
    + 'replaced as a whole', async () => {
    const id = strangerConv.contact.id;
    let c = await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: { tags: [' VIP ', 'vip', 'Spring 2026', 'Vip'] } });
    assert.deepEqual(c.tags, ['VIP', 'Spring 2026']);
    assert.equal(c.name, 'Dana Whitfield', 'a PATCH of tags keeps the name');
    // the whole record, as GET answers it
    assert.deepEqual(await ok(`/api/v1/contacts/${id}`), c);
    assert.deepEqual(c.campaigns, []);
    assert.deepEqual(c.polls, []);
    c = await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: { tags: ['spring 2026'] } });
    assert.deepEqual(c.tags, ['spring 2026']);
});

test("a colleague's new tags or time zone for a contact show on every "
    + 'open inbox at once; a PATCH that changes nothing pushes nothing',
async () => {
    const { cluster } = ctx;
    const phone = uniqueNumber();
    await deliverInbound(cluster, { from: phone, body: 'put me down' });
    const list = await ok('/api/v1/conversations?limit=200');
    const conv = list.items.find((c) => c.contact.phone === phone);
    const id = conv.contact.id;
    await addUser(cluster, cluster.orgs[0], 'ines@org-a.example',
                  'ines password 7', 'member');
    const ines = await login(cluster, 'ines@org-a.example',
                             'ines password 7');
    assert.equal(ines.status, 200, ines.text);
    const t = await sessionApi(cluster, '/api/v1/realtime/ticket',
        ines.cookie, { method: 'POST' });
    assert.equal(t.status, 200, t.text);

    const a = await openWs(wsUrl(cluster, t.json));
    const b = await connectWs(cluster, tokenB());
    try {
        const [hello] = await a.waitForTypes(['hello']);
        await b.waitForTypes(['hello']);

        // tags alone: contact.updated with them, no thread change
        await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
            body: { tags: ['Volunteer', 'Spring 2026'] } });
        let frames = await a.waitFor((f) => f.length >= 2);
        assert.deepEqual(frames.map((e) => e.type),
            ['hello', 'contact.updated']);
        assert.equal(frames[1].org_seq, hello.org_seq + 1);
        assert.equal(frames[1].contact.id, id);
        assert.equal(frames[1].contact.conversation_id, conv.id);
        assert.deepEqual(frames[1].contact.tags, ['Volunteer', 'Spring 2026']);

        // the same tags again, and the same name: nothing
        await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
            body: { tags: ['Volunteer', 'Spring 2026'], name: null } });
        // in another case they are stored so: pushed
        await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
            body: { tags: ['volunteer', 'Spring 2026'] } });
        frames = await a.waitFor((f) => f.length >= 3);
        assert.deepEqual(frames[2].contact.tags,
            ['volunteer', 'Spring 2026']);
        assert.equal(frames[2].org_seq, hello.org_seq + 2);

        // a time zone alone
        await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
            body: { timezone: 'America/Chicago' } });
        frames = await a.waitFor((f) => f.length >= 4);
        assert.equal(frames[3].type, 'contact.updated');
        assert.equal(frames[3].contact.timezone, 'America/Chicago');
        await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
            body: { timezone: 'America/Chicago' } });

        const { fromA, fromB } = await framesBeforeFences(a, b);
        assert.equal(fromA.length, 4, JSON.stringify(fromA));
        assert.deepEqual(fromB.map((e) => e.type), ['hello']);
    } finally {
        a.close();
        b.close();
    }
});

test('a PATCH that breaks a rule is 400 naming the field and changes '
    + 'nothing', async () => {
    const id = strangerConv.contact.id;
    const before = await ok(`/api/v1/contacts/${id}`);
    const cases = [
        [{ name: 'x'.repeat(101) }, 'name'],
        [{ name: 42 }, 'name'],
        [{ tags: 'vip' }, 'tags'],
        [{ tags: [''] }, 'tags.0'],
        [{ tags: ['   '] }, 'tags.0'],
        [{ tags: ['ok', 'y'.repeat(41)] }, 'tags.1'],
        [{ tags: [7] }, 'tags.0'],
        // too many is the whole array's fault, not the 51st tag's
        [{ tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 'tags'],
        [{ nmae: 'Dana' }, 'nmae'],
        [{ name: 'Ok', tags: ['ok', ''] }, 'tags.1'],
        // half a surrogate pair (JSON.stringify escapes it) was saved
        // as "?" by yajl
        [{ name: 'Ann \ud800' }, 'name'],
        [{ name: '\udc00 Lee' }, 'name'],
        [{ tags: ['ok', '\ud83d'] }, 'tags.1'],
    ];
    for (const [body, field] of cases) {
        const err = assertError(await call(`/api/v1/contacts/${id}`,
            { method: 'PATCH', body }), 400, 'invalid_request');
        assert.equal(err.field, field, JSON.stringify(body));
    }
    const notJson = await call(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: 'x', headers: {} });
    assertError(notJson, 400, 'invalid_request');
    const raw = await fetch(ctx.cluster.url(`/api/v1/contacts/${id}`), {
        method: 'PATCH', body: '{"name": ',
        headers: { Authorization: `Bearer ${tokenA()}`,
                   'Content-Type': 'application/json' } });
    assert.equal(raw.status, 400);
    await raw.text();
    // exactly 100 characters (not bytes) is fine; null clears the name
    let c = await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: { name: 'é'.repeat(100) } });
    assert.equal(c.name, 'é'.repeat(100));
    c = await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: { name: null } });
    assert.equal(c.name, null);
    c = await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: { name: before.name } });
    // an edit answers the whole record, as it was before the bad ones
    assert.deepEqual(c, before);
    assert.ok(Array.isArray(c.campaigns) && Array.isArray(c.polls));
});

test('a tag holding ";" (the import\'s separator), a C1 control, an '
    + 'invisible format character or nothing visible is 400 naming '
    + 'the tag (tags.1, "Tag 2: ") in the rule\'s words; an import refuses '
    + 'its line in the same words, a campaign\'s audience too', async () => {
    const c = await ok('/api/v1/contacts', { method: 'POST', body: {
        phone: uniqueNumber(), tags: ['keep'] } }, 201);
    const refused = [
        ['vip;donor', /";".*CSV import/],
        ['a\u0085b', /control characters/],
        ['a\u009fb', /control characters/],
        ['vip\u202eevil', /invisible.*U\+202E/],
        ['\u2066vip\u2069', /invisible.*U\+2066/],
        ['v\u200bip', /invisible.*U\+200B/],
        ['\ufeffvip', /invisible.*U\+FEFF/],
        ['a\u2028b', /invisible.*U\+2028/],
        ['\u00a0\u00a0', /cannot be empty/],
        ['\u3000', /cannot be empty/],
        ['\u3164', /only invisible/],
    ];
    const words = new Map();
    for (const [tag, message] of refused) {
        const err = assertError(await call(`/api/v1/contacts/${c.id}`,
            { method: 'PATCH', body: { tags: ['ok', tag] } }), 400,
            'invalid_request');
        assert.equal(err.field, 'tags.1', JSON.stringify(tag));
        assert.match(err.message, message, JSON.stringify(tag));
        assert.match(err.message, /^Tag 2: a tag /, JSON.stringify(tag));
        // the rule's own words, as an import says them
        const rule = 'A' + err.message.slice('Tag 2: a'.length);
        words.set(tag, rule);
        const made = assertError(await call('/api/v1/contacts', {
            method: 'POST', body: { phone: uniqueNumber(), tags: [tag] } }),
            400, 'invalid_request');
        assert.equal(made.field, 'tags.0');
        assert.equal(made.message, 'Tag 1: a' + rule.slice(1));
    }
    assert.deepEqual((await ok(`/api/v1/contacts/${c.id}`)).tags, ['keep']);

    // what the rule lets through: a comma, right-to-left letters, a
    // no-break space between words, joiners inside an emoji sequence
    const fine = ['Donor, 2024', '\u05e9\u05dc\u05d5\u05dd', 'a\u00a0b',
                  '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}'];
    assert.deepEqual((await ok(`/api/v1/contacts/${c.id}`, {
        method: 'PATCH', body: { tags: fine } })).tags, fine);
    // a no-break space at the end is trimmed like a space: one tag
    assert.deepEqual((await ok(`/api/v1/contacts/${c.id}`, {
        method: 'PATCH', body: { tags: ['vip\u00a0', 'VIP'] } })).tags,
        ['vip']);

    // the import splits "vip;donor" into two tags, and refuses a line
    // with a tag the API refuses, in the API's words
    const [a, b, d] = [uniqueNumber(), uniqueNumber(), uniqueNumber()];
    const res = await importCsv('phone,tags\n'
        + `${a},vip;donor\n`
        + `${b},ok;vip\u202eevil\n`
        + `${d},"ok;\u00a0\u00a0"\n`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.created, 2, res.text);
    assert.deepEqual(res.json.invalid, [
        { line: 3, reason: words.get('vip\u202eevil') },
    ]);
    const imported = await ok(`/api/v1/contacts?q=${encodeURIComponent(a)}`);
    assert.deepEqual(imported.items[0].tags, ['vip', 'donor']);

    // an audience only names tags that exist (some from before the
    // rule): one the rule refuses is no error, and matches nobody here
    const est = await ok('/api/v1/campaigns/estimate', {
        method: 'POST', body: { body: 'hi',
                                audience: { tags: ['vip\u202eevil'] } } });
    assert.equal(est.recipients, 0, JSON.stringify(est));
});

test('a contact\'s time zone: set by PATCH (with its name, in one '
    + 'request), shown in its record and the list, cleared by null; a zone '
    + 'the tz database lacks is 400 naming the field and changes nothing',
    async () => {
    const id = strangerConv.contact.id;
    assert.equal((await ok(`/api/v1/contacts/${id}`)).timezone, null);

    let c = await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: { name: 'Tomo', timezone: 'Asia/Tokyo' } });
    assert.equal(c.timezone, 'Asia/Tokyo');
    assert.equal(c.name, 'Tomo');
    assert.equal((await ok(`/api/v1/contacts/${id}`)).timezone,
                 'Asia/Tokyo');
    const listed = await ok(`/api/v1/contacts?q=${encodeURIComponent(
        stranger)}`);
    assert.equal(listed.items[0].timezone, 'Asia/Tokyo');

    for (const timezone of ['Mars/Base', 'America', 'zone.tab',
                            '../../etc/passwd', 'PST', 7, ['UTC']]) {
        const err = assertError(await call(`/api/v1/contacts/${id}`,
            { method: 'PATCH', body: { name: 'Changed', timezone } }), 400,
            'invalid_request');
        assert.equal(err.field, 'timezone', JSON.stringify(timezone));
    }
    c = await ok(`/api/v1/contacts/${id}`);
    assert.equal(c.timezone, 'Asia/Tokyo');
    assert.equal(c.name, 'Tomo');

    // a name alone keeps it; null (or "") clears it
    c = await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: { name: null } });
    assert.equal(c.timezone, 'Asia/Tokyo');
    c = await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: { timezone: null } });
    assert.equal(c.timezone, null);
    c = await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: { timezone: ' Europe/Lisbon ' } });
    assert.equal(c.timezone, 'Europe/Lisbon');
    c = await ok(`/api/v1/contacts/${id}`, { method: 'PATCH',
        body: { timezone: '' } });
    assert.equal(c.timezone, null);

    // a new contact may have one from the start
    const made = await ok('/api/v1/contacts', { method: 'POST', body: {
        phone: uniqueNumber(), timezone: 'America/Chicago' } }, 201);
    assert.equal(made.timezone, 'America/Chicago');
    const bad = assertError(await call('/api/v1/contacts', { method: 'POST',
        body: { phone: uniqueNumber(), timezone: 'Nowhere/Land' } }), 400,
        'invalid_request');
    assert.equal(bad.field, 'timezone');
});

test('an import\'s timezone column sets each row\'s zone, keeps one on an '
    + 'empty cell, and refuses a line whose zone is none', async () => {
    const [a, b, c] = [uniqueNumber(), uniqueNumber(), uniqueNumber()];
    let res = await importCsv(`phone,TimeZone\n${a},America/New_York\n`
        + `${b}, Asia/Tokyo \n${c},Mars/Base\n`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.created, 2);
    assert.deepEqual(res.json.invalid.map((x) => x.line), [4]);
    assert.match(res.json.invalid[0].reason, /Mars\/Base.*time zone/);
    const zoneOf = async (phone) => (await ok(`/api/v1/contacts?q=${
        encodeURIComponent(phone)}`)).items[0]?.timezone;
    assert.equal(await zoneOf(a), 'America/New_York');
    assert.equal(await zoneOf(b), 'Asia/Tokyo');
    assert.equal(await zoneOf(c), undefined);

    res = await importCsv(`phone,timezone,name\n${a},,Ann\n`
        + `${b},Europe/Paris,\n`);
    assert.equal(res.json.updated, 2, res.text);
    assert.equal(await zoneOf(a), 'America/New_York');
    assert.equal(await zoneOf(b), 'Europe/Paris');
});

test('the timeline shows the contact\'s messages, newest first, paged',
    async () => {
        const id = strangerConv.contact.id;
        const page = await ok(`/api/v1/contacts/${id}/timeline`);
        assert.equal(page.items.length, 2);
        assert.equal(page.next_cursor, null);
        assert.deepEqual(page.items.map((e) => e.type),
            ['message', 'message']);
        assert.deepEqual(page.items.map((e) => e.message.body),
            ['hello again', 'who is this?']);
        for (const e of page.items) {
            assert.match(e.at, ISO_Z);
            assert.equal(e.at, e.message.created_at);
            assert.equal(e.message.conversation_id, strangerConv.id);
        }
        const first = await ok(`/api/v1/contacts/${id}/timeline?limit=1`);
        assert.equal(first.items.length, 1);
        assert.equal(typeof first.next_cursor, 'string');
        const second = await ok(`/api/v1/contacts/${id}/timeline?limit=1`
            + `&cursor=${encodeURIComponent(first.next_cursor)}`);
        assert.deepEqual(second.items.map((e) => e.message.body),
            ['who is this?']);
        assert.equal(second.next_cursor, null);
        assertError(await call(`/api/v1/contacts/${id}/timeline?cursor=zz`),
            400, 'invalid_request');
    });

test('a new contact: its number in E.164 with the default country, its '
    + 'thread ready, 409 when the number is a contact, said as people '
    + 'write the number, with its name', async () => {
    const phone = uniqueNumber();
    const c = await ok('/api/v1/contacts', { method: 'POST', body: {
        phone: formatted(phone), name: 'Eli Park', tags: ['Lead'] } }, 201);
    assert.equal(c.phone, phone);
    assert.equal(c.name, 'Eli Park');
    assert.deepEqual(c.tags, ['Lead']);
    assert.equal(typeof c.conversation_id, 'string');
    // the record as GET answers it, with nothing sent nor answered yet
    assert.deepEqual(c.campaigns, []);
    assert.deepEqual(c.polls, []);
    assert.deepEqual(await ok(`/api/v1/contacts/${c.id}`), c);
    const conv = await ok(`/api/v1/conversations/${c.conversation_id}`);
    assert.equal(conv.contact.name, 'Eli Park');

    const again = assertError(await call('/api/v1/contacts', {
        method: 'POST', body: { phone } }), 409, 'conflict');
    assert.equal(again.field, 'phone');
    assert.equal(again.message,
                 `+1 ${formatted(phone)} is a contact already: Eli Park.`);
    assertError(await call('/api/v1/contacts', { method: 'POST',
        body: { phone: stranger } }), 409, 'conflict');
    const unnamed = uniqueNumber();
    await ok('/api/v1/contacts', { method: 'POST', body: { phone: unnamed } },
             201);
    const twice = assertError(await call('/api/v1/contacts', {
        method: 'POST', body: { phone: unnamed } }), 409, 'conflict');
    assert.equal(twice.message,
                 `+1 ${formatted(unnamed)} is a contact already.`);

    const missing = assertError(await call('/api/v1/contacts', {
        method: 'POST', body: { name: 'No Phone' } }), 400,
        'invalid_request');
    assert.equal(missing.field, 'phone');
    const bad = assertError(await call('/api/v1/contacts', {
        method: 'POST', body: { phone: 'call me' } }), 400,
        'invalid_request');
    assert.equal(bad.field, 'phone');
    assert.match(bad.message, /contains letters/);
    const short = assertError(await call('/api/v1/contacts', {
        method: 'POST', body: { phone: '555 201 010' } }), 400,
        'invalid_request');
    assert.equal(short.field, 'phone');
    assert.equal(short.message, 'The phone number has 9 digits; a number '
                 + 'in US has 10 (or write it as +<country code><number>).');
    const badTag = assertError(await call('/api/v1/contacts', {
        method: 'POST', body: { phone: uniqueNumber(), tags: [''] } }), 400,
        'invalid_request');
    assert.equal(badTag.field, 'tags.0');
    assert.equal(badTag.message, 'Tag 1: a tag cannot be empty.');
    const lone = uniqueNumber();
    const badName = assertError(await call('/api/v1/contacts', {
        method: 'POST', body: { phone: lone, name: 'Eli \ud800' } }), 400,
        'invalid_request');
    assert.equal(badName.field, 'name');
    assert.match(badName.message, /surrogate/);
    const none = await ok(`/api/v1/contacts?q=${lone.slice(1)}`);
    assert.equal(none.items.length, 0, 'nothing was created');
});

test("a colleague's new contact shows on every open inbox at once: "
    + 'contact.updated with it as the contacts list has it; a refused one '
    + 'pushes nothing, nor does another organization see it', async () => {
    const { cluster } = ctx;
    const a = await connectWs(cluster, tokenA());
    const b = await connectWs(cluster, tokenB());
    try {
        const [hello] = await a.waitForTypes(['hello']);
        await b.waitForTypes(['hello']);
        const phone = uniqueNumber();
        const c = await ok('/api/v1/contacts', { method: 'POST', body: {
            phone, name: 'Gia Lund', tags: ['Lead', 'Spring'] } }, 201);

        const frames = await a.waitFor((f) => f.length >= 2);
        assert.deepEqual(frames.map((e) => e.type),
            ['hello', 'contact.updated']);
        assert.equal(frames[1].org_seq, hello.org_seq + 1);
        const listed = await ok(`/api/v1/contacts?q=${phone.slice(2)}`);
        assert.deepEqual(listed.items, [frames[1].contact]);
        assert.equal(frames[1].contact.id, c.id);
        assert.equal(frames[1].contact.conversation_id, c.conversation_id);
        assert.deepEqual(frames[1].contact.tags, ['Lead', 'Spring']);

        // the same number again, or none: refused, nothing pushed
        assertError(await call('/api/v1/contacts', { method: 'POST',
            body: { phone } }), 409, 'conflict');
        assertError(await call('/api/v1/contacts', { method: 'POST',
            body: { name: 'No Phone' } }), 400, 'invalid_request');
        const { fromA, fromB } = await framesBeforeFences(a, b);
        assert.equal(fromA.length, 2, JSON.stringify(fromA));
        assert.deepEqual(fromB.map((e) => e.type), ['hello']);
    } finally {
        a.close();
        b.close();
    }
});

test('a text from a new number shows its contact on every open inbox of '
    + 'its organization: contact.updated after the message, as the '
    + 'contacts list has it; its retry and its next text push no contact, '
    + 'nor does another organization see it', async () => {
    const { cluster } = ctx;
    const a = await connectWs(cluster, tokenA());
    const b = await connectWs(cluster, tokenB());
    const message = ['message.created', 'conversation.updated',
                     'unread.total'];
    try {
        const [hello] = await a.waitForTypes(['hello']);
        const [helloB] = await b.waitForTypes(['hello']);
        const phone = uniqueNumber();
        const sid = newMessageSid();
        await deliverInbound(cluster, { from: phone, body: 'first time',
                                        sid });

        const frames = await a.waitFor((f) => f.length >= 5);
        assert.deepEqual(frames.map((e) => e.type),
            ['hello', ...message, 'contact.updated']);
        const made = frames[4];
        assert.equal(made.org_seq, hello.org_seq + 4);
        assert.equal(made.contact.phone, phone);
        assert.equal(made.contact.name, null);
        assert.equal(made.contact.conversation_id, frames[1].conversation.id);
        const listed = await ok(`/api/v1/contacts?q=${phone.slice(2)}`);
        assert.deepEqual(listed.items, [made.contact]);

        // the carrier's retry, stored once, and the contact's next text
        await deliverInbound(cluster, { from: phone, body: 'first time',
                                        sid });
        await deliverInbound(cluster, { from: phone, body: 'me again' });
        // the same number is new to the other organization: its own
        await deliverInbound(cluster, { org: cluster.orgs[1], from: phone,
                                        body: 'hi B' });
        const { fromA, fromB } = await framesBeforeFences(a, b);
        assert.deepEqual(fromA.map((e) => e.type),
            ['hello', ...message, 'contact.updated', ...message],
            JSON.stringify(fromA));
        assert.deepEqual(fromB.map((e) => e.type),
            ['hello', ...message, 'contact.updated']);
        assert.equal(fromB[4].org_seq, helloB.org_seq + 4);
        assert.equal(fromB[4].contact.phone, phone);
        assert.notEqual(fromB[4].contact.id, made.contact.id);
    } finally {
        a.close();
        b.close();
    }
});

// A British mobile of Ofcom's drama range, ten digits after +44, random.
function ukMobile() {
    return `+447700${String(randomInt(1000000)).padStart(6, '0')}`;
}

test('a number typed in international form has its country\'s length: '
    + 'a contact and an import\'s row one digit short are refused, naming '
    + 'it; a carrier\'s number of that length is still taken', async () => {
    const short = assertError(await call('/api/v1/contacts', {
        method: 'POST', body: { phone: '+44 20 7946 095' } }), 400,
        'invalid_request');
    assert.equal(short.field, 'phone');
    assert.match(short.message,
        /has 9 digits after \+44; a number in GB that starts with 2 has 10/);
    const long = assertError(await call('/api/v1/contacts', {
        method: 'POST', body: { phone: '+33 6 12 34 56 78 9' } }), 400,
        'invalid_request');
    assert.equal(long.field, 'phone');
    assert.match(long.message,
        /has 10 digits after \+33; a number in FR has 9/);
    const none = await ok('/api/v1/contacts?q=207946095');
    assert.equal(none.items.length, 0, 'nothing was created');

    const [uk, us] = [ukMobile(), uniqueNumber()];
    const res = await importCsv('phone,name\n'
        + `${uk},Una\n`
        + `${uk.slice(0, -1)},Short\n`
        + `${formatted(us)},Sam\n`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.created, 2, res.text);
    assert.deepEqual(res.json.invalid.map((x) => x.line), [3], res.text);
    assert.match(res.json.invalid[0].reason,
        /has 9 digits after \+44; a number in GB that starts with 7 has 10/);
    const una = await ok(`/api/v1/contacts?q=${encodeURIComponent(uk)}`);
    assert.deepEqual(una.items.map((c) => c.name), ['Una']);

    // the carrier's numbers are valid by definition: a webhook refused
    // would be a message lost
    const odd = uk.slice(0, -1);
    await deliverInbound(ctx.cluster, { from: odd, body: 'from abroad' });
    // (a search finds Una's number too: the odd one is a part of it)
    const conv = await ok(`/api/v1/conversations?q=${encodeURIComponent(
        odd)}`);
    assert.ok(conv.items.some((c) => c.contact.phone === odd),
        JSON.stringify(conv.items));
});

test('the contacts list: newest first, paged, searched by name or number '
    + 'in part whatever the formatting, filtered by tag', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) {
        const phone = uniqueNumber();
        made.push(await ok('/api/v1/contacts', { method: 'POST', body: {
            phone, name: `Listed ${'abcde'[i]} Quinn`,
            tags: i % 2 ? ['Odd'] : ['even'] } }, 201));
    }
    const all = [];
    let cursor = null;
    do {
        const page = await ok(`/api/v1/contacts?limit=4${cursor
            ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        all.push(...page.items);
        cursor = page.next_cursor;
    } while (cursor);
    assert.equal(new Set(all.map((c) => c.id)).size, all.length);
    assert.deepEqual(all.slice(0, 5).map((c) => c.id),
        made.map((c) => c.id).reverse());
    assert.ok(all.some((c) => c.id === strangerConv.contact.id));

    const quinn = await ok('/api/v1/contacts?q=QUINN');
    assert.equal(quinn.items.length, 5);
    const byPhone = await ok('/api/v1/contacts?q='
        + encodeURIComponent(formatted(made[2].phone).slice(0, 9)));
    assert.ok(byPhone.items.some((c) => c.id === made[2].id));
    const exact = await ok(`/api/v1/contacts?q=${encodeURIComponent(
        made[3].phone)}`);
    assert.deepEqual(exact.items.map((c) => c.id), [made[3].id]);

    const odd = await ok('/api/v1/contacts?tag=odd');
    assert.deepEqual(odd.items.map((c) => c.id),
        [made[3].id, made[1].id]);
    // (a search with digits also matches numbers: keep them out here)
    const evenQ = await ok('/api/v1/contacts?tag=Even&q=listed%20c');
    assert.deepEqual(evenQ.items.map((c) => c.id), [made[2].id]);
    const none = await ok('/api/v1/contacts?tag=od');
    assert.deepEqual(none.items, []);
    assertError(await call('/api/v1/contacts?limit=0'), 400,
        'invalid_request');
});

test('an import of 100,000 rows in one request: every row counted, the '
    + 'bad ones reported by line, a second run updates', { timeout: 300000 },
    async () => {
        const rows = ['Phone,Name,Tags'];
        const bad = new Map();
        for (let i = 0; i < 100000; i++) {
            const line = i + 2;
            if (i % 10000 === 5) {
                rows.push(`not a number,Bad ${i},x`);
                bad.set(line, 'not a phone number');
            } else if (i % 10000 === 7) {
                rows.push(`,"No, Phone",x`);
                bad.set(line, 'no phone number');
            } else {
                // 555-01xx style numbers, as people type them, unique
                const n = String(i).padStart(6, '0');
                rows.push(`(917) 8${n.slice(0, 2)}-${n.slice(2)},`
                    + `"Bulk ${i}",import;Batch ${i % 3}`);
            }
        }
        const csv = `${rows.join('\r\n')}\r\n`;
        assert.ok(csv.length > 4 * 1024 * 1024, 'a body nginx keeps on disk');

        const t0 = Date.now();
        const res = await importCsv(csv);
        assert.equal(res.status, 200, res.text.slice(0, 500));
        const good = 100000 - bad.size;
        assert.equal(res.json.created, good);
        assert.equal(res.json.updated, 0);
        assert.equal(res.json.invalid_count, bad.size);
        assert.deepEqual(res.json.invalid.map((x) => x.line),
            [...bad.keys()]);
        for (const x of res.json.invalid) {
            assert.match(x.reason, bad.get(x.line) === 'no phone number'
                ? /no phone/ : /phone/);
        }
        console.log(`# imported 100,000 rows in ${Date.now() - t0} ms`);
        // indexed for search at once, not left for the next webhook batch
        const { stdout } = await execFileAsync(sqlite3Path, [
            ctx.cluster.storePath,
            'SELECT count(*) FROM contacts_search_pending']);
        assert.equal(stdout.trim(), '0', 'no imported contact left pending');

        const some = await ok('/api/v1/contacts?q=bulk%2012345');
        assert.equal(some.items.length, 1);
        assert.equal(some.items[0].phone, '+19178012345');
        assert.deepEqual(some.items[0].tags, ['import', 'Batch 0']);
        const tagged = await ok('/api/v1/contacts?tag=batch%202&limit=200');
        assert.equal(tagged.items.length, 200);

        const again = await importCsv(csv);
        assert.equal(again.status, 200, again.text.slice(0, 500));
        assert.equal(again.json.created, 0);
        assert.equal(again.json.updated, good);
        const same = await ok('/api/v1/contacts?q=bulk%2012345');
        assert.equal(same.items.length, 1, 'updated, not duplicated');
        assert.deepEqual(same.items[0].tags, ['import', 'Batch 0']);
    });

test('a number twice in an import is one contact, its second line '
    + 'counted repeated, not updated', async () => {
    const fresh = uniqueNumber();
    const known = uniqueNumber();
    await ok('/api/v1/contacts', { method: 'POST', body: {
        phone: known, name: 'Known' } }, 201);
    const res = await importCsv('phone,name,tags\n'
        + `${fresh},Ann,a\n${known},,b\n${fresh},Ann Lee,c\n${known},,d\n`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.created, 1, res.text);
    assert.equal(res.json.updated, 1, res.text);
    assert.equal(res.json.repeated, 2, res.text);
    const ann = (await ok(`/api/v1/contacts?q=${
        encodeURIComponent(fresh)}`)).items;
    assert.equal(ann.length, 1);
    assert.equal(ann[0].name, 'Ann Lee');
    assert.deepEqual(ann[0].tags, ['a', 'c']);
});

test('an import updates a name, adds tags, keeps the rest; quoted fields, '
    + 'a BOM and LF line ends are read', async () => {
    const phone = uniqueNumber();
    const c = await ok('/api/v1/contacts', { method: 'POST', body: {
        phone, name: 'Old Name', tags: ['keep'] } }, 201);
    const other = uniqueNumber();
    const csv = '\ufefftags,name,phone,notes\n'
        + `"KEEP;New Tag","Name, ""Quoted""",${phone},ignored\n`
        + `,,${other}\n`
        + `${'t'.repeat(41)},Too Long Tag,${uniqueNumber()}\n`;
    const res = await importCsv(csv);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.created, 1);
    assert.equal(res.json.updated, 1);
    assert.deepEqual(res.json.invalid.map((x) => x.line), [4]);
    assert.match(res.json.invalid[0].reason, /40/);
    const after = await ok(`/api/v1/contacts/${c.id}`);
    assert.equal(after.name, 'Name, "Quoted"');
    assert.deepEqual(after.tags, ['keep', 'New Tag']);
    assert.deepEqual(res.json.ignored_columns, ['notes']);
    const made = await ok(`/api/v1/contacts?q=${encodeURIComponent(other)}`);
    assert.equal(made.items.length, 1);
    assert.equal(made.items[0].name, null);

    // an imported contact has a thread, read by its id (the web app
    // writes the first message there), in no list until its first
    // message: not counted, not found by a search of the threads
    const record = await ok(`/api/v1/contacts/${made.items[0].id}`);
    const thread = await ok(`/api/v1/conversations/${record.conversation_id}`);
    assert.equal(thread.last_message, null);
    assert.equal(thread.last_activity_at, null);
    const search = `/api/v1/conversations?q=${encodeURIComponent(other)}`;
    const before = await ok(search);
    assert.equal(before.items.length, 0, 'not listed before a message');
    const all = await ok('/api/v1/conversations?limit=200');
    assert.ok(!all.items.some((x) => x.id === thread.id));
    assert.equal(all.items.every((x) => x.last_message !== null
        && x.last_activity_at !== null), true);

    await deliverInbound(ctx.cluster, { from: other, body: 'hello' });
    const listed = await ok(search);
    assert.equal(listed.items.length, 1, 'listed with its first message');
    assert.equal(listed.items[0].id, thread.id);
    assert.equal(listed.items[0].last_message.preview, 'hello');
    assert.equal(listed.counts.all, all.counts.all + 1);
});

test('an import reads what spreadsheets write: CR line ends with a line '
    + 'break in a cell, a space before a quote, blank rows, empty columns '
    + 'and cells past the named ones; a bad number says why', async () => {
    const [ann, bob, cy] = [uniqueNumber(), uniqueNumber(), uniqueNumber()];
    const wide = ','.repeat(70);
    const csv = `phone, name, tags, notes${wide}\r`
        + `${ann}, "Lee, Ann", "vip;\r"${wide}\r`
        + `${bob},Bob,x,"met at\rthe fair"\r`
        + ',,\r,,\r'
        + '555 0100,Short,x\r'
        + `${cy},Cy,x,${','.repeat(64)}too far\r`;
    const res = await importCsv(csv);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.created, 3, res.text);
    // Ann's and Bob's records each take two lines
    assert.deepEqual(res.json.invalid.map((x) => x.line), [8], res.text);
    assert.match(res.json.invalid[0].reason, /digits/);
    assert.deepEqual(res.json.ignored_columns, ['notes']);
    const a = await ok(`/api/v1/contacts?q=${encodeURIComponent(ann)}`);
    assert.equal(a.items[0].name, 'Lee, Ann');
    assert.deepEqual(a.items[0].tags, ['vip']);
    const b = await ok(`/api/v1/contacts?q=${encodeURIComponent(bob)}`);
    assert.equal(b.items[0].name, 'Bob');
    const c = await ok(`/api/v1/contacts?q=${encodeURIComponent(cy)}`);
    assert.equal(c.items[0].name, 'Cy');
});

// What Outlook's "Export to a file" writes: 92 columns, each quoted, the
// name in three of them, the mobile number in the 41st.
const OUTLOOK = ['Title', 'First Name', 'Middle Name', 'Last Name', 'Suffix',
    'Company', 'Department', 'Job Title', 'Business Street',
    'Business Street 2', 'Business Street 3', 'Business City',
    'Business State', 'Business Postal Code', 'Business Country/Region',
    'Home Street', 'Home Street 2', 'Home Street 3', 'Home City',
    'Home State', 'Home Postal Code', 'Home Country/Region', 'Other Street',
    'Other Street 2', 'Other Street 3', 'Other City', 'Other State',
    'Other Postal Code', 'Other Country/Region', "Assistant's Phone",
    'Business Fax', 'Business Phone', 'Business Phone 2', 'Callback',
    'Car Phone', 'Company Main Phone', 'Home Fax', 'Home Phone',
    'Home Phone 2', 'ISDN', 'Mobile Phone', 'Other Fax', 'Other Phone',
    'Pager', 'Primary Phone', 'Radio Phone', 'TTY/TDD Phone', 'Telex',
    'Account', 'Anniversary', "Assistant's Name", 'Billing Information',
    'Birthday', 'Business Address PO Box', 'Categories', 'Children',
    'Directory Server', 'E-mail Address', 'E-mail Type',
    'E-mail Display Name', 'E-mail 2 Address', 'E-mail 2 Type',
    'E-mail 2 Display Name', 'E-mail 3 Address', 'E-mail 3 Type',
    'E-mail 3 Display Name', 'Gender', 'Government ID Number', 'Hobby',
    'Home Address PO Box', 'Initials', 'Internet Free/Busy', 'Keywords',
    'Language', 'Location', "Manager's Name", 'Mileage', 'Notes',
    'Office Location', 'Organizational ID Number', 'Other Address PO Box',
    'Priority', 'Private', 'Profession', 'Referred By', 'Sensitivity',
    'Spouse', 'User 1', 'User 2', 'User 3', 'User 4', 'Web Page'];

test('an Outlook export imports: its 92 columns read, "First Name" and '
    + '"Last Name" joined as the name, the columns not used listed',
    async () => {
    const quoted = (cells) => cells.map((x) => `"${x}"`).join(',');
    const row = (values) => quoted(OUTLOOK.map((col) => values[col]
        ?? { Birthday: '0/0/00', Gender: 'Unspecified', Priority: 'Normal',
             Private: 'False', Sensitivity: 'Normal' }[col] ?? ''));
    const [ann, bo] = [uniqueNumber(), uniqueNumber()];
    const csv = `${quoted(OUTLOOK)}\r\n`
        + `${row({ 'First Name': 'Ann', 'Last Name': 'Lee', Company: 'Acme',
                   'Mobile Phone': formatted(ann),
                   'E-mail Address': 'ann@example.com' })}\r\n`
        + `${row({ 'First Name': 'Bo', 'Mobile Phone': formatted(bo) })}\r\n`;
    const res = await importCsv(csv);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.created, 2, res.text);
    assert.deepEqual(res.json.invalid, []);
    assert.deepEqual(res.json.ignored_columns, OUTLOOK.filter((col) =>
        !['First Name', 'Last Name', 'Mobile Phone'].includes(col)));
    const a = await ok(`/api/v1/contacts?q=${encodeURIComponent(ann)}`);
    assert.equal(a.items[0].name, 'Ann Lee');
    const b = await ok(`/api/v1/contacts?q=${encodeURIComponent(bo)}`);
    assert.equal(b.items[0].name, 'Bo');

    // the reviewer's three columns
    const cy = uniqueNumber();
    const short = await importCsv('First Name,Last Name,Mobile Phone\r\n'
        + `Cy,Ortiz,${formatted(cy)}`);
    assert.equal(short.status, 200, short.text);
    assert.deepEqual(short.json, { created: 1, updated: 0, repeated: 0,
                                   tags_capped: 0,
                                   invalid: [], invalid_count: 0,
                                   ignored_columns: [], country: 'US' });
    const c = await ok(`/api/v1/contacts?q=${encodeURIComponent(cy)}`);
    assert.equal(c.items[0].name, 'Cy Ortiz');

    // a CRM's 73 columns with the number third, 65 with phone first
    const crm = ['Id', 'Owner', 'Mobile Phone'];
    while (crm.length < 73) {
        crm.push(`Field ${crm.length + 1}`);
    }
    const dee = uniqueNumber();
    const wide = await importCsv(`${crm.join(',')}\n7,me,${dee}\n`);
    assert.equal(wide.status, 200, wide.text);
    assert.equal(wide.json.created, 1);
    assert.equal(wide.json.ignored_columns.length, 72);
    const cols = ['phone'];
    while (cols.length < 65) {
        cols.push(`c${cols.length + 1}`);
    }
    const wider = await importCsv(`${cols.join(',')}\n${uniqueNumber()}\n`);
    assert.equal(wider.status, 200, wider.text);
    assert.equal(wider.json.created, 1);

    // past 1,024 columns the header is refused, saying so
    while (cols.length < 1100) {
        cols.push(`c${cols.length + 1}`);
    }
    const huge = assertError(await importCsv(`${cols.join(',')}\n`), 400,
        'invalid_request');
    assert.match(huge.message, /more than 1024 columns/);
});

test('a default country whose numbers are unknown is refused when nginx '
    + 'reads its configuration, not line by line in every import',
    async () => {
    const dir = ctx.cluster.dir;
    const conf = readFileSync(join(dir, 'nginx.conf'), 'utf8');
    assert.match(conf, /inbox_default_country US;/);
    const bad = join(dir, 'nginx-uk.conf');
    writeFileSync(bad, conf.replace('inbox_default_country US;',
                                    'inbox_default_country UK;'));
    const err = await execFileAsync(nginxPath, ['-t', '-p', dir, '-c', bad,
                                                '-e', '/dev/stderr'])
        .then(() => null, (e) => e);
    assert.ok(err, 'nginx -t accepted inbox_default_country UK');
    assert.match(err.stderr, /inbox_default_country "UK" is not a country/);
});

test('two organizations on one nginx read the same national number as '
    + 'their own default country\'s; none set is the server\'s', async () => {
    const cluster = ctx.cluster;
    await addUser(cluster, cluster.orgs[0], 'gwen@org-a.example',
                  'a long secret 1', 'billing');
    await addUser(cluster, cluster.orgs[1], 'remy@org-b.example',
                  'a long secret 2', 'billing');
    const gwen = (await login(cluster, 'gwen@org-a.example',
                              'a long secret 1')).cookie;
    const remy = (await login(cluster, 'remy@org-b.example',
                              'a long secret 2')).cookie;
    const settings = (cookie, body) => sessionApi(cluster,
        '/api/v1/settings', cookie, { method: 'PATCH', body });

    // none set: null, and the codes one may be
    const none = await ok('/api/v1/settings');
    assert.equal(none.default_country, null);
    assert.ok(none.countries.includes('GB') && none.countries.includes('FR'));

    // a code the rule does not know: 400 naming the field, nothing stored
    for (const code of ['UK', 'GBR', 'g']) {
        const err = assertError(await settings(gwen,
            { default_country: code }), 400, 'invalid_request');
        assert.equal(err.field, 'default_country');
        assert.match(err.message, new RegExp(`"${code}" is not a country `
            + 'code whose phone numbers we know; use one of US, CA, GB'));
    }
    assert.equal((await ok('/api/v1/settings')).default_country, null);

    let res = await settings(gwen, { default_country: 'gb' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.default_country, 'GB');
    res = await settings(remy, { default_country: 'FR' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.default_country, 'FR');

    // one CSV line, two numbers
    const line = 'phone,name\n06 12 34 56 79,Zoe Martin\n';
    const a = await importCsv(line, tokenA());
    const b = await importCsv(line, tokenB());
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assert.equal(a.json.created, 1, a.text);
    assert.equal(b.json.created, 1, b.text);
    assert.equal(a.json.country, 'GB');
    assert.equal(b.json.country, 'FR');
    const inA = await ok('/api/v1/contacts?q=Zoe%20Martin');
    const inB = (await call('/api/v1/contacts?q=Zoe%20Martin', {},
                            tokenB())).json;
    assert.deepEqual(inA.items.map((c) => c.phone), ['+44612345679']);
    assert.deepEqual(inB.items.map((c) => c.phone), ['+33612345679']);

    // a contact added by hand too, the rule's message naming the country
    const uk = await ok('/api/v1/contacts', { method: 'POST',
        body: { phone: '07700 900177' } }, 201);
    assert.equal(uk.phone, '+447700900177');
    const fr = assertError(await call('/api/v1/contacts', { method: 'POST',
        body: { phone: '07700 900177' } }, tokenB()), 400, 'invalid_request');
    assert.equal(fr.field, 'phone');
    assert.match(fr.message, /a number in FR has 9/);

    // null is none again: nginx's inbox_default_country (US)
    res = await settings(gwen, { default_country: null });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.default_country, null);
    res = await settings(remy, { default_country: '' });
    assert.equal(res.json.default_country, null);
    const us = uniqueNumber();
    const back = await importCsv(`phone\n${formatted(us)}\n`, tokenB());
    assert.equal(back.json.created, 1, back.text);
    assert.equal(back.json.country, 'US');
    const c = await ok('/api/v1/contacts', { method: 'POST',
        body: { phone: formatted(uniqueNumber()) } }, 201);
    assert.match(c.phone, /^\+1\d{10}$/);
});

test('a Mexican mobile written with its retired 1 is one contact, and a '
    + 'search written that way, whole or in part, finds it', async () => {
    const cluster = ctx.cluster;
    await addUser(cluster, cluster.orgs[0], 'mara@org-a.example',
                  'a long secret 3', 'billing');
    const mara = (await login(cluster, 'mara@org-a.example',
                              'a long secret 3')).cookie;
    const settings = (body) => sessionApi(cluster, '/api/v1/settings', mara,
                                          { method: 'PATCH', body });
    assert.equal((await settings({ default_country: 'MX' })).status, 200);

    const line = String(randomInt(100000000)).padStart(8, '0');
    const [a, b] = [line.slice(0, 4), line.slice(4)];
    const phone = `+5255${line}`;
    try {
        const made = await ok('/api/v1/contacts', { method: 'POST',
            body: { phone: `1 55 ${a} ${b}`, name: 'Marisol' } }, 201);
        assert.equal(made.phone, phone);
        assertError(await call('/api/v1/contacts', { method: 'POST',
            body: { phone: `+52 1 55 ${a} ${b}` } }), 409, 'conflict');
        // a thread of hers, for the thread list's search
        await deliverInbound(cluster, { from: phone, body: 'hola' });

        for (const q of [`+52 1 55 ${a} ${b}`, `+52 1 55 ${a}`,
                         `1 55 ${a} ${b}`, `1 55 ${a}`]) {
            const q1 = encodeURIComponent(q);
            const contacts = await ok(`/api/v1/contacts?q=${q1}`);
            assert.deepEqual(contacts.items.map((c) => c.phone), [phone], q);
            const threads = await ok(`/api/v1/conversations?q=${q1}`);
            assert.deepEqual(threads.items.map((c) => c.contact.phone),
                             [phone], q);
            // what it looks for, for the web app's live check
            const digits = q.replace(/\D/g, '');
            assert.deepEqual(threads.search, { phone_digits: [digits,
                (q.startsWith('+') ? '' : '52') + digits.replace(
                    /^(52)?1/, '$1')] }, q);
        }
    } finally {
        assert.equal((await settings({ default_country: null })).status, 200);
    }

    // read as the server's US, a national 1 is its own country code
    const us = await ok(`/api/v1/contacts?q=${encodeURIComponent(
        `1 55 ${a} ${b}`)}`);
    assert.deepEqual(us.items, []);
});

test('an import refused as a whole stores nothing', async () => {
    const phone = uniqueNumber();
    const noPhone = await importCsv(`name,tags\nAnn,x\n`);
    assert.equal(assertError(noPhone, 400, 'invalid_request').field,
        'phone');
    const open = await importCsv(`phone,name\n${phone},"Never closed\n`);
    assertError(open, 400, 'invalid_request');
    const empty = await importCsv('');
    assertError(empty, 400, 'invalid_request');
    // a column named twice, in any case: which one to take is not ours
    // to guess
    for (const [header, column] of [['phone,name,Phone', 'phone'],
                                    ['phone,Name,name ', 'name'],
                                    ['Mobile,phone,name', 'phone']]) {
        const twice = assertError(await importCsv(
            `${header}\n${phone},Ann,${uniqueNumber()}\n`), 400,
            'invalid_request');
        assert.equal(twice.field, column, header);
        assert.match(twice.message, new RegExp(`${column} column twice`));
    }
    const json = await importCsv(`phone\n${phone}\n`, tokenA(),
        'application/json');
    assertError(json, 415, 'unsupported_media_type');
    const many = await importCsv(`phone\n${`${phone}\n`.repeat(100001)}`);
    assertError(many, 413, 'too_large');
    const found = await ok(`/api/v1/contacts?q=${encodeURIComponent(phone)}`);
    assert.deepEqual(found.items, []);
    const huge = await importCsv(`phone\n${'1'.repeat(17 * 1024 * 1024)}`);
    assertError(huge, 413, 'too_large');
});

test('an import the store fails partway says what it stored and where it '
    + 'stopped, and the same file sent again finishes it', async () => {
    // 1,500 lines: line 5 refused, the first batch of 1,000 stored ends
    // with line 1002, and the store fails the row of line 1202
    const block = `+19177${String(Math.floor(Math.random() * 100))
        .padStart(2, '0')}`;
    const tag = `partial-${Date.now()}`;
    const phones = [];
    const rows = ['phone,name,tags'];
    for (let i = 0; i < 1500; i++) {
        phones.push(`${block}${String(i).padStart(4, '0')}`);
        rows.push(i === 3 ? 'nope,Bad,x' : `${phones[i]},P ${i},${tag};Spring`);
    }
    const csv = `${rows.join('\n')}\n`;
    const sql = (q) => execFileAsync(sqlite3Path, [ctx.cluster.storePath, q])
        .then(({ stdout }) => stdout.trim());
    const stored = () => sql('SELECT count(*) FROM contacts WHERE phone '
        + `LIKE '${block}%'`);
    await sql('CREATE TRIGGER import_partial BEFORE INSERT ON contact_tags '
        + 'WHEN (SELECT phone FROM contacts WHERE id = NEW.contact_id) = '
        + `'${phones[1200]}' BEGIN SELECT RAISE(ABORT, 'disk I/O simulated'); `
        + 'END');
    let res;
    try {
        res = await importCsv(csv);
    } finally {
        await sql('DROP TRIGGER import_partial');
    }
    const e = assertError(res, 500, 'internal');
    assert.equal(e.stopped_at_line, 1003);
    assert.equal(e.created, 1000);
    assert.equal(e.updated, 0);
    assert.deepEqual(e.invalid.map((x) => x.line), [5]);
    assert.equal(e.invalid_count, 1);
    assert.deepEqual(e.ignored_columns, []);
    // the store's words are for the error log, the code's sentence for
    // the user
    assert.ok(e.message.startsWith(`${SERVER_FAILURE.internal} `),
        e.message);
    assert.doesNotMatch(e.message, /disk I\/O simulated/);
    assert.match(ctx.cluster.errorLog(),
        /\[error\].*inbox: 500 internal: .*disk I\/O simulated/);
    assert.match(e.message, new RegExp('lines before line 1003 were '
        + 'imported \\(1000 created, 0 updated, 1 refused\\)'));
    assert.match(e.message, /Send the same file again/);
    assert.equal(await stored(), '1000', 'the batch before is kept, '
        + 'nothing of the one that failed');

    // one of those stored opts out before the file goes again
    const first = await ok(`/api/v1/contacts?q=${encodeURIComponent(
        phones[0])}`);
    const conv = await ok(`/api/v1/conversations/${
        first.items[0].conversation_id}/opt-out`, { method: 'POST' });
    assert.equal(conv.contact.opted_out, true);

    const again = await importCsv(csv);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.created, 499);
    assert.equal(again.json.updated, 1000);
    assert.equal(again.json.invalid_count, 1);
    assert.equal(await stored(), '1499');
    assert.equal(await sql(`SELECT count(*) FROM contact_tags WHERE tag = '${
        tag}'`), '1499', 'each contact tagged once');
    const kept = await ok(`/api/v1/contacts/${first.items[0].id}`);
    assert.equal(kept.opted_out, true, 'an import never clears an opt-out');
    assert.deepEqual(kept.tags, [tag, 'Spring']);
    assert.equal(kept.name, 'P 0');
});

test('an import that gives contacts tags past the 50 a contact keeps says '
    + 'how many contacts it could not tag: 50 kept, the rest left out',
    async () => {
    const full = uniqueNumber();
    const half = uniqueNumber();
    const old = Array.from({ length: 30 }, (_, i) => `old${i}`);
    await ok('/api/v1/contacts', { method: 'POST',
        body: { phone: full, tags: old } }, 201);
    await ok('/api/v1/contacts', { method: 'POST',
        body: { phone: half, tags: old.slice(0, 10) } }, 201);
    const more = Array.from({ length: 30 }, (_, i) => `new${i}`);

    // 30 more to each, then one more to the first: capped once
    const res = await importCsv('phone,tags\n'
        + `${full},${more.join(';')}\n${half},${more.join(';')}\n`
        + `${full},again\n`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.updated, 2, res.text);
    assert.equal(res.json.repeated, 1, res.text);
    assert.equal(res.json.tags_capped, 1, res.text);
    const tagsOf = async (phone) => (await ok(
        `/api/v1/contacts?q=${phone.slice(2)}`)).items[0].tags;
    assert.deepEqual(await tagsOf(full), [...old, ...more.slice(0, 20)]);
    assert.deepEqual(await tagsOf(half), [...old.slice(0, 10), ...more]);

    // tags it has, in any case: nothing left out
    const same = await importCsv(`phone,tags\n${full},OLD1;New2\n`);
    assert.equal(same.json.tags_capped, 0, same.text);
});

test('an import that renames, tags or makes contacts shows on every open '
    + 'inbox at once: the thread with its new name, the tagged contact, the '
    + 'new one, nothing for another organization', async () => {
    const { cluster } = ctx;
    const renamed = uniqueNumber();
    const tagged = uniqueNumber();
    const fresh = uniqueNumber();
    await deliverInbound(cluster, { from: renamed, body: 'hi, it is me' });
    await deliverInbound(cluster, { from: tagged, body: 'count me in' });
    const list = await ok('/api/v1/conversations?limit=200');
    const conv = list.items.find((c) => c.contact.phone === renamed);
    const other = list.items.find((c) => c.contact.phone === tagged);

    const a = await connectWs(cluster, tokenA());
    const b = await connectWs(cluster, tokenB());
    try {
        const [hello] = await a.waitForTypes(['hello']);
        await b.waitForTypes(['hello']);
        const res = await importCsv('phone,name,tags\n'
            + `${formatted(renamed)},Priya Natarajan,\n`
            + `${tagged},,volunteer\n`
            + `${fresh},Someone New,volunteer\n`);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.created, 1);
        assert.equal(res.json.updated, 2);

        const frames = await a.waitFor((f) => f.length >= 4);
        assert.deepEqual(frames.map((e) => e.type),
            ['hello', 'conversation.updated', 'contact.updated',
             'contact.updated']);
        assert.equal(frames[1].org_seq, hello.org_seq + 1);
        assert.equal(frames[1].conversation.id, conv.id);
        assert.equal(frames[1].conversation.contact.name, 'Priya Natarajan');
        assert.equal(frames[2].org_seq, hello.org_seq + 2);
        assert.equal(frames[2].contact.id, other.contact.id);
        assert.equal(frames[2].contact.conversation_id, other.id);
        const panel = await ok(`/api/v1/contacts/${other.contact.id}`);
        assert.deepEqual(panel.tags, ['volunteer']);
        // the new one, as a Contacts list shows it
        assert.equal(frames[3].org_seq, hello.org_seq + 3);
        assert.equal(frames[3].contact.phone, fresh);
        assert.equal(frames[3].contact.name, 'Someone New');
        assert.deepEqual(frames[3].contact.tags, ['volunteer']);
        const made = await ok(`/api/v1/contacts/${frames[3].contact.id}`);
        assert.equal(frames[3].contact.created_at, made.created_at);
        assert.equal(frames[3].contact.conversation_id, made.conversation_id);

        // the same file again changes nothing and pushes nothing
        await importCsv('phone,name,tags\n'
            + `${renamed},Priya Natarajan,\n${tagged},,volunteer\n`
            + `${fresh},Someone New,volunteer\n`);
        const { fromA, fromB } = await framesBeforeFences(a, b);
        assert.equal(fromA.length, 4, JSON.stringify(fromA));
        assert.deepEqual(fromB.map((e) => e.type), ['hello']);
    } finally {
        a.close();
        b.close();
    }
});

test('inboxctl contacts import reaches open inboxes too', async () => {
    const { cluster } = ctx;
    const phone = uniqueNumber();
    await deliverInbound(cluster, { from: phone, body: 'hello' });
    const list = await ok('/api/v1/conversations?limit=200');
    const conv = list.items.find((c) => c.contact.phone === phone);
    const fresh = uniqueNumber();
    const file = join(cluster.dir, 'rename.csv');
    writeFileSync(file, `phone,name\n${phone},Tomas Ruiz\n`
                  + `${fresh},Una Nueva\n`);

    const a = await connectWs(cluster, tokenA());
    try {
        await a.waitForTypes(['hello']);
        await inboxctl(cluster.store, 'contacts', 'import',
                       cluster.orgs[0].id, file);
        // nothing is sent by the command: ws-server reads the store
        const frames = await a.waitForTypes(['conversation.updated',
                                             'contact.updated'], 8000);
        const ev = frames.find((e) => e.type === 'conversation.updated');
        assert.equal(ev.conversation.id, conv.id);
        assert.equal(ev.conversation.contact.name, 'Tomas Ruiz');
        // the new one, for the Contacts lists
        const made = frames.find((e) => e.type === 'contact.updated');
        assert.equal(made.contact.phone, fresh);
        assert.equal(made.contact.name, 'Una Nueva');
    } finally {
        a.close();
    }
});

test('another organization\'s contacts are 404 on every route, and no '
    + 'token is 401', async () => {
    const id = strangerConv.contact.id;
    const before = await ok(`/api/v1/contacts/${id}`);
    for (const cid of [id, '999999999', 'not-an-id']) {
        assertError(await call(`/api/v1/contacts/${cid}`, {}, tokenB()),
            404, 'not_found');
        assertError(await call(`/api/v1/contacts/${cid}/timeline`, {},
            tokenB()), 404, 'not_found');
        assertError(await call(`/api/v1/contacts/${cid}`, {
            method: 'PATCH', body: { name: 'Taken Over' } }, tokenB()),
            404, 'not_found');
    }
    const listB = await call('/api/v1/contacts?limit=200', {}, tokenB());
    assert.equal(listB.status, 200, listB.text);
    assert.ok(!listB.json.items.some((c) => c.id === id));
    assert.ok(listB.json.items.every((c) => c.phone !== stranger));
    // org B may have its own contact with the same number
    const mine = await call('/api/v1/contacts', { method: 'POST',
        body: { phone: stranger } }, tokenB());
    assert.equal(mine.status, 201, mine.text);
    assert.notEqual(mine.json.id, id);
    assert.deepEqual(await ok(`/api/v1/contacts/${id}`), before);

    for (const [method, path, body] of [
        ['GET', '/api/v1/contacts'],
        ['POST', '/api/v1/contacts', { phone: uniqueNumber() }],
        ['GET', `/api/v1/contacts/${id}`],
        ['PATCH', `/api/v1/contacts/${id}`, { name: 'x' }],
        ['GET', `/api/v1/contacts/${id}/timeline`],
        ['POST', '/api/v1/contacts/import', undefined],
    ]) {
        assertError(await call(path, { method, body }, null), 401,
            'unauthenticated');
    }
    const res = await call(`/api/v1/contacts/${id}`, { method: 'POST' });
    assertError(res, 405);
    assert.match(res.headers.get('allow') || '', /PATCH/);
});

test('contacts/import is no contact: its other methods are 405', async () => {
    const before = await ok('/api/v1/contacts');
    for (const [method, body] of [['GET'], ['HEAD'], ['DELETE'],
                                  ['PATCH', { name: 'Import' }]]) {
        const res = await call('/api/v1/contacts/import', { method, body });
        assert.equal(res.status, 405, `${method}: ${res.text}`);
        assert.equal(res.headers.get('allow'), 'POST', method);
    }
    // nothing was changed or made under the id "import"
    assert.deepEqual(await ok('/api/v1/contacts'), before);
    // an id of the same letters elsewhere in the path is still an id
    assertError(await call('/api/v1/contacts/importx'), 404, 'not_found');
});

errorLogIsCleanTest(ctx);
