// Opt-out and opt-in: a thread opted out by hand (pushed live and in the
// contact's timeline), the keywords of an inbound text (the whole message,
// trimmed, in any case), START opting back in, a repeated STOP changing
// nothing; and the organization's settings, read by anyone of it and
// changed by a billing user only.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, connectWs, deliverInbound, framesBeforeFence,
         ISO_Z, newMessageSid, postInbound, TWIML_EMPTY }
    from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

// Acme Dental keeps the default quiet hours, which 'the settings: defaults'
// reads (null: the fixture's, far from now, not set)
const ctx = useCluster({ orgs: [{ name: 'Acme Dental', quietHours: null },
                                { name: 'Org B' }] });
const tokenA = () => ctx.cluster.orgs[0].token;
const tokenB = () => ctx.cluster.orgs[1].token;
// the countries libinbox reads national numbers of (phone.c)
const COUNTRIES = ['US', 'CA', 'GB', 'FR', 'DE', 'ES', 'IT', 'NL', 'AU',
                   'IN', 'MX', 'BR'];

let member;     // a member's session cookie (org A)
let billing;    // a billing user's

async function call(path, opts = {}, token = tokenA()) {
    return api(ctx.cluster, path, token, opts);
}

async function ok(path, opts = {}, token = tokenA()) {
    const res = await call(path, opts, token);
    assert.equal(res.status, 200, res.text);
    return res.json;
}

// A new number texts body; resolves with its conversation.
async function newThread(body = 'hi there') {
    const phone = uniqueNumber();
    await deliverInbound(ctx.cluster, { from: phone, body });
    const list = await ok(`/api/v1/conversations?q=${phone.slice(2)}`);
    const conv = list.items.find((c) => c.contact.phone === phone);
    assert.ok(conv, `the thread of ${phone}`);
    return conv;
}

async function contactOf(conv) {
    return ok(`/api/v1/contacts/${conv.contact.id}`);
}

async function timeline(conv) {
    return (await ok(`/api/v1/contacts/${conv.contact.id}/timeline`)).items;
}

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, 'max@acme.test', 'correct horse 1');
    await addUser(cluster, org, 'bea@acme.test', 'correct horse 2',
                  'billing');
    member = (await login(cluster, 'max@acme.test', 'correct horse 1'))
        .cookie;
    billing = (await login(cluster, 'bea@acme.test', 'correct horse 2'))
        .cookie;
    assert.ok(member && billing);
});

test('opting a thread out by hand answers the thread, pushes the change '
    + 'to every browser and puts it in the timeline', async () => {
    const conv = await newThread('can you call me?');
    const fence = await newThread('only a fence looks at me');
    const ws = await connectWs(ctx.cluster, tokenA());
    try {
        await ws.waitForTypes(['hello']);

        const res = await sessionApi(ctx.cluster,
            `/api/v1/conversations/${conv.id}/opt-out`, member,
            { method: 'POST' });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.id, conv.id);
        assert.equal(res.json.contact.opted_out, true);

        const frames = await ws.waitForTypes(['contact.updated',
                                              'conversation.updated']);
        const cu = frames.find((f) => f.type === 'contact.updated');
        assert.equal(cu.contact.id, conv.contact.id);
        assert.equal(cu.contact.opted_out, true);
        assert.equal(cu.contact.opt_out_source, 'manual');
        assert.match(cu.contact.opted_out_at, ISO_Z);
        const up = frames.find((f) => f.type === 'conversation.updated');
        assert.equal(up.conversation.id, conv.id);
        assert.equal(up.conversation.contact.opted_out, true);
        assert.equal(up.org_seq, cu.org_seq + 1);

        const c = await contactOf(conv);
        assert.equal(c.opted_out, true);
        assert.equal(c.opt_out_source, 'manual');
        assert.equal(c.opted_out_at, cu.contact.opted_out_at);
        assert.equal(c.opt_out_keyword, null);

        const items = await timeline(conv);
        assert.deepEqual(items.map((i) => i.type), ['opt_out', 'message']);
        assert.equal(items[0].source, 'manual');
        assert.equal(items[0].at, c.opted_out_at);

        // the list shows it too
        const list = await ok('/api/v1/conversations');
        assert.equal(list.items.find((x) => x.id === conv.id)
            .contact.opted_out, true);

        // again: the same answer, nothing new pushed or recorded
        const count = ws.frames.length;
        const again = await ok(`/api/v1/conversations/${conv.id}/opt-out`,
                               { method: 'POST' });
        assert.equal(again.contact.opted_out, true);
        const [before] = await framesBeforeFence(ctx.cluster, tokenA(),
                                                 fence.id, [ws]);
        assert.equal(before.length, count, JSON.stringify(before));
        assert.equal((await timeline(conv)).length, 2);
        assert.equal((await contactOf(conv)).opted_out_at, c.opted_out_at);
    } finally {
        ws.close();
    }
});

test('the opt-out route: another organization\'s thread is not found, '
    + 'a cookie needs the CSRF header, and there is no way back in by '
    + 'hand', async () => {
    const conv = await newThread();

    assertError(await call(`/api/v1/conversations/${conv.id}/opt-out`,
                           { method: 'POST' }, tokenB()), 404, 'not_found');
    assertError(await call('/api/v1/conversations/nope!/opt-out',
                           { method: 'POST' }), 404, 'not_found');
    assertError(await sessionApi(ctx.cluster,
        `/api/v1/conversations/${conv.id}/opt-out`, member,
        { method: 'POST', csrf: false }), 403, 'forbidden');
    assertError(await call(`/api/v1/conversations/${conv.id}/opt-out`),
                405);
    assert.equal((await contactOf(conv)).opted_out, false,
                 'nothing refused was stored');

    await ok(`/api/v1/conversations/${conv.id}/opt-out`, { method: 'POST' });
    for (const path of [`/api/v1/conversations/${conv.id}/opt-in`,
                        `/api/v1/contacts/${conv.contact.id}/opt-in`]) {
        assertError(await call(path, { method: 'POST' }), 404);
    }
    assertError(await call(`/api/v1/contacts/${conv.contact.id}`,
        { method: 'PATCH', body: { opted_out: false } }), 400,
        'invalid_request');
    assert.equal((await contactOf(conv)).opted_out, true);
});

test('STOP, "stop all", "  Stop  ", "Stop." and "Opt-out" texted in opt '
    + 'the contact out; "STOP please" does not; the message lands in the '
    + 'inbox', async () => {
    for (const body of ['STOP', 'stop all', '  Stop  ', 'unsubscribe',
                        'Stop.', 'STOP STOP', 'Opt-out']) {
        const phone = uniqueNumber();
        const res = await deliverInbound(ctx.cluster, { from: phone, body });
        assert.match(res.text, TWIML_EMPTY);
        const list = await ok(`/api/v1/conversations?q=${phone.slice(2)}`);
        const conv = list.items[0];
        assert.equal(conv.contact.opted_out, true, body);
        assert.equal(conv.unread_count, 1);
        const c = await contactOf(conv);
        assert.equal(c.opt_out_source, 'keyword', body);
        assert.equal(c.opt_out_keyword, body.trim().toUpperCase());
        // the message, the opt-out and the one confirmation (free; it
        // may share the opt-out's millisecond, so their order may vary)
        const items = await timeline(conv);
        assert.equal(items.length, 3);
        const [notice, stop] = items.filter((i) => i.type === 'message')
            .map((i) => i.message);
        const [event] = items.filter((i) => i.type === 'opt_out');
        assert.equal(stop.body, body, 'in the inbox');
        assert.equal(event.keyword, body.trim().toUpperCase());
        assert.equal(event.message_id, stop.id);
        assert.equal(notice.direction, 'outbound');
        assert.equal(notice.credits, 0);
        assert.equal(conv.last_message.id, notice.id);
    }

    const conv = await newThread('STOP please');
    assert.equal(conv.contact.opted_out, false);
    assert.equal((await contactOf(conv)).opted_out, false);
});

test('a repeated STOP changes nothing; START opts back in, live', async () => {
    const phone = uniqueNumber();
    await deliverInbound(ctx.cluster, { from: phone, body: 'STOP' });
    const list = await ok(`/api/v1/conversations?q=${phone.slice(2)}`);
    const conv = list.items[0];
    const first = await contactOf(conv);
    assert.equal(first.opted_out, true);

    const ws = await connectWs(ctx.cluster, tokenA());
    try {
        await ws.waitForTypes(['hello']);

        await deliverInbound(ctx.cluster, { from: phone, body: 'STOP' });
        await ws.waitForTypes(['message.created']);
        const second = await contactOf(conv);
        assert.equal(second.opted_out_at, first.opted_out_at);

        await deliverInbound(ctx.cluster, { from: phone, body: 'Start' });
        const frames = await ws.waitFor((f) => f.some(
            (e) => e.type === 'contact.updated'), 5000, 'contact.updated');
        // the stream keeps the store's order: a change the second STOP
        // pushed would have come before START's
        const changes = frames.filter((f) => f.type === 'contact.updated');
        assert.equal(changes.length, 1,
                     'a second STOP pushes no contact change');
        const [cu] = changes;
        assert.equal(cu.contact.opted_out, false);
        assert.equal(cu.contact.opt_out_source, null);
    } finally {
        ws.close();
    }

    const c = await contactOf(conv);
    assert.equal(c.opted_out, false);
    assert.equal(c.opted_out_at, null);
    // each change answered once (the repeated STOP was not)
    const all = await timeline(conv);
    assert.equal(all.filter((i) => i.type === 'message'
        && i.message.direction === 'outbound').length, 2);
    const items = all.filter((i) => i.type !== 'message'
        || i.message.direction === 'inbound');
    assert.deepEqual(items.map((i) => i.type),
                     ['opt_in', 'message', 'message', 'opt_out', 'message']);
    assert.equal(items[0].keyword, 'START');
    assert.deepEqual(items.filter((i) => i.type === 'message')
        .map((i) => i.message.body), ['Start', 'STOP', 'STOP']);
});

// Runs SQL on the cluster's store through a connection of the test's own.
async function sql(statement) {
    return promisify(execFile)(sqlite3Path, ['-cmd', '.timeout 5000',
        ctx.cluster.storePath, statement]);
}

test('a STOP whose answer cannot be queued is answered 503, not 200, and '
    + 'nothing of it is kept; the carrier\'s retry stores the STOP and its '
    + 'one answer', async () => {
    const phone = uniqueNumber();
    const sid = newMessageSid();

    // the outbox refuses every insert, as a locked or full database would
    await sql('CREATE TRIGGER zz_fail BEFORE INSERT ON outbox BEGIN'
              + " SELECT RAISE(ABORT, 'injected: database is locked'); END;");
    let res;
    try {
        res = await postInbound(ctx.cluster, { from: phone, body: 'STOP',
                                               sid });
    } finally {
        await sql('DROP TRIGGER zz_fail;');
    }
    assert.equal(res.status, 503, res.text);
    const none = await ok(`/api/v1/conversations?q=${phone.slice(2)}`);
    assert.equal(none.items.length, 0, 'no thread, no opt-out');

    // the carrier sends it again: the STOP, the opt-out and the answer
    const again = await deliverInbound(ctx.cluster, { from: phone,
                                                      body: 'STOP', sid });
    assert.match(again.text, TWIML_EMPTY);
    const list = await ok(`/api/v1/conversations?q=${phone.slice(2)}`);
    const conv = list.items[0];
    assert.equal(conv.contact.opted_out, true);
    const items = await timeline(conv);
    assert.deepEqual(items.map((i) => i.type),
                     ['message', 'opt_out', 'message']);
    assert.equal(items[0].message.direction, 'outbound');
    assert.match(items[0].message.body, /^Acme Dental: you are unsubscribed/);
    assert.equal(items[2].message.body, 'STOP');
    assert.equal(conv.last_message.id, items[0].message.id);

    // and again: a duplicate, still one answer
    await deliverInbound(ctx.cluster, { from: phone, body: 'STOP', sid });
    assert.equal((await timeline(conv)).length, 3);
    const { stdout } = await sql('SELECT count(*) FROM outbox o JOIN messages'
        + ` m ON m.id = o.message_id WHERE m.conversation_id = ${conv.id};`);
    assert.equal(stdout.trim(), '1');
});

test('HELP is answered once a day: a contact texting it again and again '
    + 'gets one answer, every HELP in the inbox', async () => {
    const phone = uniqueNumber();
    for (const body of ['HELP', 'help', 'INFO', 'HELP']) {
        await deliverInbound(ctx.cluster, { from: phone, body });
    }
    const list = await ok(`/api/v1/conversations?q=${phone.slice(2)}`);
    const conv = list.items[0];
    assert.equal(conv.unread_count, 4);
    const messages = (await timeline(conv)).map((i) => i.message);
    assert.deepEqual(messages.filter((m) => m.direction === 'inbound')
        .map((m) => m.body), ['HELP', 'INFO', 'help', 'HELP']);
    const answers = messages.filter((m) => m.direction === 'outbound');
    assert.equal(answers.length, 1);
    assert.match(answers[0].body, /^Acme Dental: for help/);
    assert.equal(answers[0].credits, 0);
});

test('the settings: defaults, anyone of the organization reads them, a '
    + 'billing user changes them', async () => {
    let s = await ok('/api/v1/settings');
    assert.deepEqual(s, { timezone: 'UTC',
        quiet_hours: { start: '21:00', end: '08:00' },
        business_name: 'Acme Dental', support_contact: null,
        default_country: null, countries: COUNTRIES });

    const m = await sessionApi(ctx.cluster, '/api/v1/settings', member);
    assert.equal(m.status, 200, m.text);
    assert.deepEqual(m.json, s);

    const patch = { timezone: 'America/Chicago',
        quiet_hours: { start: '20:30', end: '07:45' },
        business_name: '  Acme Dental Care ',
        support_contact: 'help@acme.test', default_country: 'ca' };
    const res = await sessionApi(ctx.cluster, '/api/v1/settings', billing,
                                 { method: 'PATCH', body: patch });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { timezone: 'America/Chicago',
        quiet_hours: { start: '20:30', end: '07:45' },
        business_name: 'Acme Dental Care',
        support_contact: 'help@acme.test', default_country: 'CA',
        countries: COUNTRIES });
    assert.deepEqual(await ok('/api/v1/settings'), res.json);

    // the object GET answers, edited, saves as it is: its read-only
    // countries are taken and ignored
    const edited = { ...res.json, business_name: 'Acme Smiles' };
    const round = await sessionApi(ctx.cluster, '/api/v1/settings', billing,
                                   { method: 'PATCH', body: edited });
    assert.equal(round.status, 200, round.text);
    assert.deepEqual(round.json, edited);
    assert.equal((await sessionApi(ctx.cluster, '/api/v1/settings', billing,
        { method: 'PATCH', body: { countries: ['XX'] } })).json.countries
        .includes('XX'), false);

    // one field at a time; null is the default again
    s = (await sessionApi(ctx.cluster, '/api/v1/settings', billing,
        { method: 'PATCH', body: { business_name: null,
                                   support_contact: null } })).json;
    assert.equal(s.business_name, 'Acme Dental');
    assert.equal(s.support_contact, null);
    assert.equal(s.timezone, 'America/Chicago');
    assert.equal(s.default_country, 'CA');
    s = (await sessionApi(ctx.cluster, '/api/v1/settings', billing,
        { method: 'PATCH', body: { default_country: null } })).json;
    assert.equal(s.default_country, null);

    // each organization its own
    assert.equal((await ok('/api/v1/settings', {}, tokenB())).business_name,
                 'Org B');
});

test('the settings: a member or an organization-wide token gets 403, '
    + 'whatever it sends', async () => {
    const before = await ok('/api/v1/settings');
    for (const body of [{ business_name: 'Taken Over' },
                        { timezone: 'Nowhere/Land' }]) {
        assertError(await sessionApi(ctx.cluster, '/api/v1/settings', member,
            { method: 'PATCH', body }), 403, 'forbidden');
        assertError(await call('/api/v1/settings',
            { method: 'PATCH', body }), 403, 'forbidden');
    }
    assertError(await sessionApi(ctx.cluster, '/api/v1/settings', billing,
        { method: 'PATCH', body: { business_name: 'X' }, csrf: false }),
        403, 'forbidden');
    assertError(await api(ctx.cluster, '/api/v1/settings', null,
        { method: 'PATCH', body: { business_name: 'X' } }), 401,
        'unauthenticated');
    assert.deepEqual(await ok('/api/v1/settings'), before);
});

test('the settings: what does not fit is a 400 naming the field, and '
    + 'nothing is stored', async () => {
    const before = await ok('/api/v1/settings');
    const cases = [
        [{ timezone: 'Mars/Olympus_Mons' }, 'timezone'],
        [{ timezone: '../../etc/passwd' }, 'timezone'],
        [{ timezone: 'America' }, 'timezone'],
        [{ timezone: 'zone.tab' }, 'timezone'],
        // files of the database quiet hours would read as UTC
        [{ timezone: 'posix/America/New_York' }, 'timezone'],
        [{ timezone: 'right/Europe/Paris' }, 'timezone'],
        [{ timezone: 'localtime' }, 'timezone'],
        [{ timezone: 7 }, 'timezone'],
        [{ quiet_hours: { start: '25:00', end: '08:00' } },
         'quiet_hours.start'],
        [{ quiet_hours: { start: '21:00', end: '8:00' } }, 'quiet_hours.end'],
        [{ quiet_hours: { start: '21:00' } }, 'quiet_hours.end'],
        [{ quiet_hours: { start: '09:00', end: '09:00' } }, 'quiet_hours'],
        [{ business_name: 'x'.repeat(101) }, 'business_name'],
        [{ business_name: '   ' , timezone: 'Nowhere/Land' }, 'timezone'],
        [{ support_contact: 'a\u0007b' }, 'support_contact'],
        [{ default_country: 'UK' }, 'default_country'],
        [{ default_country: 44 }, 'default_country'],
        [{ business_nmae: 'typo' }, 'business_nmae'],
    ];
    for (const [body, field] of cases) {
        const res = await sessionApi(ctx.cluster, '/api/v1/settings',
            billing, { method: 'PATCH', body });
        const err = assertError(res, 400, 'invalid_request');
        assert.equal(err.field, field, JSON.stringify(body));
    }
    assert.deepEqual(await ok('/api/v1/settings'), before);
});

errorLogIsCleanTest(ctx);
