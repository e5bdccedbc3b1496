// Campaigns and polls over HTTP: a campaign to a tag with an opted-out
// contact suppressed, its preview, a draft edited, every bad input's
// error, the lifecycle
// (409 for a move it refuses), a billing pause and its resume, a poll
// answered by number and by text through signed webhooks with a late
// answer ignored, the contact's record and timeline, and inboxctl's
// import and campaign commands.
//
// The sender's turn at campaigns is tests/wire/store_op campaign-dispatch
// (the libinbox call the sender makes), run when the test says, and the
// carrier taking a campaign's messages store_op campaign-sent (the
// sender's claim and its record of the carrier's answer: only a message
// the carrier took is answered); the organizations' quiet hours are set
// to a window hours away from now, and a poll answered too late has its
// sending moved eight days back in SQLite.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDir, inboxctl, inboxctlPath, sqlite3Path, uniqueNumber }
    from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, deliverInbound, ISO_Z, quietHoursAway }
    from '../lib/inbox.mjs';
import { png, upload } from '../lib/media.mjs';

const execFileAsync = promisify(execFile);
const storeOp = join(buildDir, 'tests', 'wire', 'store_op');
const ctx = useCluster({ orgs: [{ name: 'Campaign Org' },
                                { name: 'Other Org' }] });
const DAY = 24 * 3600 * 1000;

const orgA = () => ctx.cluster.orgs[0];
const orgB = () => ctx.cluster.orgs[1];

async function call(path, opts = {}, org = orgA()) {
    return api(ctx.cluster, path, org.token, opts);
}

async function ok(path, opts = {}, status = 200, org = orgA()) {
    const res = await call(path, opts, org);
    assert.equal(res.status, status, res.text);
    return res.json;
}


async function dispatch(at = Date.now()) {
    const { stdout } = await execFileAsync(storeOp,
        [ctx.cluster.store, 'campaign-dispatch', String(at), '500',
         ctx.cluster.baseUrl]);
    const line = JSON.parse(stdout);
    assert.equal(line.status, 'ok', stdout);
    return line.result;
}

// The carrier takes the campaign's messages due in the outbox, as the
// sender records it; how many.
async function carrierTakes(campaign, at = Date.now()) {
    const { stdout } = await execFileAsync(storeOp,
        [ctx.cluster.store, 'campaign-sent', String(at), campaign.id]);
    const line = JSON.parse(stdout);
    assert.equal(line.status, 'ok', stdout);
    return line.result.taken;
}

async function sql(query) {
    const { stdout } = await execFileAsync(sqlite3Path,
        [ctx.cluster.storePath, query]);
    return stdout.trim();
}

async function contact(phone, tags, org = orgA()) {
    return ok('/api/v1/contacts', { method: 'POST',
        body: { phone, name: `C ${phone.slice(-4)}`, tags } }, 201, org);
}

async function messagesOf(c) {
    const page = await ok(`/api/v1/conversations/${c.conversation_id}`
                          + '/messages');
    return page.items;
}

const vip = [];
let optedOut, outsider;

before(async () => {
    const cluster = await ctx.ready;
    for (const org of cluster.orgs) {
        await inboxctl(cluster.store, 'settings', 'set', org.id,
                       '--timezone', 'UTC', '--quiet-hours', quietHoursAway(2));
    }
    await inboxctl(cluster.store, 'credits', 'grant', orgA().id, '1000');

    vip.push(await contact(uniqueNumber(), ['VIP']));
    vip.push(await contact(uniqueNumber(), ['vip', 'other']));
    optedOut = await contact(uniqueNumber(), ['VIP']);
    outsider = await contact(uniqueNumber(), ['other']);
    await ok(`/api/v1/conversations/${optedOut.conversation_id}/opt-out`,
             { method: 'POST' });
});

test('a campaign to a tag: draft, preview, send with the opted-out '
    + 'contact suppressed, its messages queued in the outbox', async () => {
    const draft = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Spring sale', body: 'Spring sale: 20% off this week.',
        audience: { tags: ['vip'] } } }, 201);
    assert.equal(draft.status, 'draft');
    assert.equal(draft.kind, 'campaign');
    assert.equal(draft.name, 'Spring sale');
    assert.equal(draft.body, 'Spring sale: 20% off this week.');
    assert.deepEqual(draft.audience, { tags: ['vip'] });
    assert.equal(draft.paused_reason, null);
    assert.equal(draft.send_at, null);
    assert.equal(draft.segments, 1);
    assert.equal(draft.credits, 1);
    assert.equal(draft.counts.recipients, 0);
    assert.match(draft.created_at, ISO_Z);
    assert.equal(draft.started_at, null);

    // the preview counts the audience as send will (tags in any case):
    // the recipients are those not opted out, the others suppressed
    const est = await ok('/api/v1/campaigns/estimate', { method: 'POST',
        body: { body: 'x'.repeat(200), audience: { tags: ['VIP'] } } });
    assert.equal(est.recipients, 2);
    assert.equal(est.suppressed, 1);
    assert.equal(est.segments, 2);
    assert.equal(est.encoding, 'GSM-7');
    assert.equal(est.total_credits, 2 * est.credits);
    assert.equal(est.balance, 1000);
    const all = await ok('/api/v1/campaigns/estimate', { method: 'POST',
        body: { body: 'hi', audience: { all: true } } });
    assert.equal(all.recipients, 3);
    assert.equal(all.suppressed, 1);

    const sent = await ok(`/api/v1/campaigns/${draft.id}/send`,
                          { method: 'POST' });
    assert.equal(sent.status, 'sending');
    assert.match(sent.started_at, ISO_Z);
    assert.equal(sent.counts.recipients, 2);
    assert.equal(sent.counts.suppressed, 1);
    assert.equal(sent.counts.queued, 2);

    const d = await dispatch();
    assert.equal(d.handed, 2);

    for (const c of vip) {
        const items = await messagesOf(c);
        assert.equal(items[0].direction, 'outbound');
        assert.equal(items[0].body, 'Spring sale: 20% off this week.');
        assert.equal(items[0].status, 'queued');
        assert.equal(items[0].campaign_id, sent.id, 'names its campaign');
        assert.equal(items[0].campaign_kind, 'campaign', 'and its kind');
        assert.equal(items[0].sent_by, null);
    }
    assert.deepEqual(await messagesOf(optedOut), []);
    assert.deepEqual(await messagesOf(outsider), []);
    assert.equal(await sql('SELECT count(*) FROM outbox o JOIN messages m'
        + ` ON m.id = o.message_id WHERE m.campaign_id = ${draft.id}`), '2');

    const now = await ok(`/api/v1/campaigns/${draft.id}`);
    assert.equal(now.counts.recipients, 2);
    assert.equal(now.counts.queued, 2);
    assert.equal(now.counts.suppressed, 1);
    const list = await ok('/api/v1/campaigns');
    assert.ok(list.items.some((c) => c.id === draft.id));
    assert.equal(list.next_cursor, null);
    assert.ok(!(await ok('/api/v1/polls')).items.some((c) => c.id
                                                       === draft.id));

    // the contact's record and timeline show it
    const rec = await ok(`/api/v1/contacts/${vip[0].id}`);
    assert.equal(rec.campaigns.length, 1);
    assert.equal(rec.campaigns[0].id, draft.id);
    assert.equal(rec.campaigns[0].name, 'Spring sale');
    assert.equal(rec.campaigns[0].status, 'queued');
    assert.equal(rec.campaigns[0].state, 'queued');
    assert.match(rec.campaigns[0].sent_at, ISO_Z);
    const tl = await ok(`/api/v1/contacts/${vip[0].id}/timeline`);
    const item = tl.items.find((i) => i.type === 'campaign');
    assert.equal(item.campaign.id, draft.id);
    assert.equal(item.campaign.name, 'Spring sale');
    assert.equal(item.campaign.state, 'queued');
    // the send is its message's one entry, not shown again as a message
    assert.deepEqual(tl.items.map((i) => i.type), ['campaign']);
    assert.deepEqual((await ok(`/api/v1/contacts/${outsider.id}`)).campaigns,
                     []);

    // an edit answers the record as GET does, what it was sent included
    const edited = await ok(`/api/v1/contacts/${vip[0].id}`,
        { method: 'PATCH', body: { name: 'Vera Ip' } });
    assert.equal(edited.name, 'Vera Ip');
    assert.deepEqual(edited, await ok(`/api/v1/contacts/${vip[0].id}`));
    assert.equal(edited.campaigns[0].id, draft.id);
});

test('a campaign with an image: its preview counts an MMS, and the draft '
    + 'keeps the image', async () => {
    const up = await upload(ctx.cluster, png(), {
        Authorization: `Bearer ${orgA().token}`,
        'Content-Type': 'image/png' });
    assert.equal(up.status, 201, up.text);
    const est = await ok('/api/v1/campaigns/estimate', { method: 'POST',
        body: { body: 'Look', media_ids: [up.json.id],
                audience: { tags: ['vip'] } } });
    assert.equal(est.credits, 2);
    assert.equal(est.total_credits, 2 * est.recipients);
    const draft = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Picture', body: 'Look', media_ids: [up.json.id],
        audience: { tags: ['vip'] } } }, 201);
    assert.equal(draft.credits, 2);
    assert.equal(draft.media.length, 1);
    assert.equal(draft.media[0].content_type, 'image/png');
    assert.match(draft.media[0].url, /^\/media\/[A-Za-z0-9_-]+\.png$/);
    const res = await fetch(ctx.cluster.url(draft.media[0].url));
    assert.equal(res.status, 200);
    // an image alone is a campaign too
    const only = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Only a picture', body: '', media_ids: [up.json.id],
        audience: { all: true } } }, 201);
    assert.equal(only.media.length, 1);
    // a stored draft's preview, as another page would ask it: its image
    // counted though the page never saw its upload
    const stored = await ok(`/api/v1/campaigns/${only.id}/estimate`);
    const everyone = await ok('/api/v1/campaigns/estimate', { method: 'POST',
        body: { body: 'x', audience: { all: true } } });
    assert.equal(stored.credits, 2);
    assert.equal(stored.recipients, everyone.recipients);
    assert.equal(stored.suppressed, everyone.suppressed);
    assert.equal(stored.total_credits, 2 * stored.recipients);
    const pictured = await ok(`/api/v1/campaigns/${draft.id}/estimate`);
    assert.equal(pictured.credits, 2);
    assert.equal(pictured.recipients, est.recipients);
    assert.equal(pictured.segments, est.segments);
    // an MMS is one message however long its text, as a reply's is
    const long = { name: 'Long picture', body: 'a'.repeat(400),
                   media_ids: [up.json.id], audience: { all: true } };
    assert.equal((await ok('/api/v1/campaigns/estimate',
                           { method: 'POST', body: long })).segments, 1);
    const longDraft = await ok('/api/v1/campaigns',
                               { method: 'POST', body: long }, 201);
    assert.equal(longDraft.segments, 1);
    assert.equal(longDraft.credits, 2);
    assert.equal((await ok(`/api/v1/campaigns/${longDraft.id}`)).segments,
                 1);
    // its text is measured as the carrier counts it: 900 emoji are 1800
    const over = assertError(await call('/api/v1/campaigns', {
        method: 'POST', body: { ...long, body: '\u{1F44B}'.repeat(900) } }),
        400, 'invalid_request');
    assert.equal(over.field, 'body');
    assert.match(over.message, /200 characters too long/);
    await ok(`/api/v1/campaigns/${longDraft.id}/cancel`, { method: 'POST' });
    // a campaign's id is no poll's, an unknown one nobody's
    assertError(await call(`/api/v1/polls/${only.id}/estimate`), 404,
                'not_found');
    assertError(await call('/api/v1/campaigns/999999/estimate'), 404,
                'not_found');
    await ok(`/api/v1/campaigns/${draft.id}/cancel`, { method: 'POST' });
    await ok(`/api/v1/campaigns/${only.id}/cancel`, { method: 'POST' });
});

test('a draft is edited with PATCH: what the body names changes, the rest '
    + 'stays; a refused edit changes nothing and a sent one is 409',
    async () => {
    const draft = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Typo', body: 'Helo', audience: { tags: ['vip'] } } }, 201);
    const path = `/api/v1/campaigns/${draft.id}`;
    const edit = (body, org = orgA()) =>
        call(path, { method: 'PATCH', body }, org);
    let res;

    res = await edit({ body: 'Hello' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.body, 'Hello');
    assert.equal(res.json.name, 'Typo');
    assert.deepEqual(res.json.audience, { tags: ['vip'] });
    assert.equal(res.json.status, 'draft');
    assert.equal(res.json.created_at, draft.created_at);

    // a picture added: an MMS of 2 credits; taken away: 1 again
    const up = await upload(ctx.cluster, png(), {
        Authorization: `Bearer ${orgA().token}`,
        'Content-Type': 'image/png' });
    assert.equal(up.status, 201, up.text);
    res = await edit({ media_ids: [up.json.id] });
    assert.equal(res.json.media.length, 1);
    assert.equal(res.json.credits, 2);
    assert.equal(res.json.body, 'Hello');
    res = await edit({ name: 'Hello, picture' });
    assert.equal(res.json.media.length, 1, 'kept when not named');
    assert.equal((await ok(`${path}/estimate`)).credits, 2);
    res = await edit({ media_ids: [] });
    assert.equal(res.json.media.length, 0);
    assert.equal(res.json.credits, 1);

    // another audience and a time, then the time taken away
    res = await edit({ audience: { all: true },
                       send_at: '2099-01-01T09:00:00Z' });
    assert.deepEqual(res.json.audience, { all: true });
    assert.equal(res.json.send_at, '2099-01-01T09:00:00.000Z');
    res = await edit({ send_at: null });
    assert.equal(res.json.send_at, null);
    assert.deepEqual(res.json.audience, { all: true });

    // refused as a new one would be, naming the field; nothing changes
    let e = assertError(await edit({ body: '' }), 400, 'invalid_request');
    assert.equal(e.field, 'body');
    e = assertError(await edit({ audience: { tags: [] } }), 400,
                    'invalid_request');
    assert.equal(e.field, 'audience');
    // one tag of them: named by its index, said from 1
    e = assertError(await edit({ audience: { tags: ['vip', '\u00a0'] } }),
                    400, 'invalid_request');
    assert.equal(e.field, 'audience.tags.1');
    assert.equal(e.message, 'Tag 2: a tag cannot be empty.');
    e = assertError(await edit({ name: 5 }), 400, 'invalid_request');
    assert.equal(e.field, 'name');
    e = assertError(await edit({ name: null }), 400, 'invalid_request');
    assert.equal(e.field, 'name');
    e = assertError(await edit({ media_ids: ['999999'] }), 400,
                    'invalid_request');
    assert.equal(e.field, 'media_ids.0');
    assert.equal(e.message,
                 'Attachment 1: there is no image with the id "999999".');
    const now = await ok(path);
    assert.equal(now.body, 'Hello');
    assert.equal(now.name, 'Hello, picture');
    assert.deepEqual(now.audience, { all: true });

    // nobody else's, not under the other kind's path
    assertError(await edit({ body: 'x' }, orgB()), 404, 'not_found');
    assertError(await call(`/api/v1/polls/${draft.id}`, { method: 'PATCH',
        body: { question: 'x?' } }), 404, 'not_found');
    assertError(await call('/api/v1/campaigns/999999', { method: 'PATCH',
        body: { body: 'x' } }), 404, 'not_found');

    // sent as edited; then an edit is a conflict, whatever it names
    res = await call(`${path}/send`, { method: 'POST' });
    assert.equal(res.json.status, 'sending');
    assert.equal(res.json.body, 'Hello');
    e = assertError(await edit({ body: 'Too late' }), 409, 'conflict');
    assert.equal(e.message, 'Only a draft can be edited; this one is '
                 + 'sending.');
    assertError(await edit({ body: '' }), 409, 'conflict');
    assert.equal((await ok(path)).body, 'Hello');
    await ok(`${path}/cancel`, { method: 'POST' });

    // a poll: new options make its text again; named by its question,
    // its name follows a new one, and a name given stays
    const poll = await ok('/api/v1/polls', { method: 'POST', body: {
        question: 'Tea?', options: ['Yes', 'No'],
        audience: { all: true } } }, 201);
    const pollPath = `/api/v1/polls/${poll.id}`;
    res = await call(pollPath, { method: 'PATCH',
                                 body: { options: ['Yes', 'No', ' Maybe '] } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.body, 'Tea?\n1) Yes\n2) No\n3) Maybe');
    res = await call(pollPath, { method: 'PATCH',
                                 body: { question: 'Coffee?' } });
    assert.equal(res.json.name, 'Coffee?');
    assert.deepEqual(res.json.options, ['Yes', 'No', 'Maybe']);
    res = await call(pollPath, { method: 'PATCH',
                                 body: { name: 'Morning poll' } });
    res = await call(pollPath, { method: 'PATCH',
                                 body: { question: 'Juice?' } });
    assert.equal(res.json.name, 'Morning poll');
    assert.equal(res.json.question, 'Juice?');
    e = assertError(await call(pollPath, { method: 'PATCH',
        body: { options: ['Only one'] } }), 400, 'invalid_request');
    assert.equal(e.field, 'options');
    await ok(`${pollPath}/cancel`, { method: 'POST' });
});

test('a campaign\'s images name their uploads: an edit that names two '
    + 'of three again keeps them, the same files, and stores none anew',
    async () => {
    const upload3 = async (org) => {
        const ids = [];
        for (const size of [5, 6, 7]) {
            const up = await upload(ctx.cluster, png(size, size), {
                Authorization: `Bearer ${org.token}`,
                'Content-Type': 'image/png' });
            assert.equal(up.status, 201, up.text);
            ids.push(up.json);
        }
        return ids;
    };
    const ups = await upload3(orgA());
    const draft = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Three dishes', body: 'Menu', audience: { all: true },
        media_ids: ups.map((u) => u.id) } }, 201);
    assert.deepEqual(draft.media.map((m) => [m.id, m.url]),
                     ups.map((u) => [u.id, u.url]));
    const path = `/api/v1/campaigns/${draft.id}`;
    assert.deepEqual((await ok(path)).media.map((m) => m.id),
                     ups.map((u) => u.id));
    const files = () => readdirSync(ctx.cluster.mediaDir)
        .filter((f) => !f.startsWith('.')).length;
    const before = files();

    // the second removed: the first and third named again, attached
    // already
    let res = await ok(path, { method: 'PATCH',
        body: { media_ids: [ups[0].id, ups[2].id] } });
    assert.deepEqual(res.media.map((m) => [m.id, m.url]),
                     [ups[0], ups[2]].map((u) => [u.id, u.url]));
    assert.equal(res.credits, 2);
    // a text edit leaves them as they are, ids and all
    res = await ok(path, { method: 'PATCH', body: { body: 'Menu, new' } });
    assert.deepEqual(res.media.map((m) => m.id), [ups[0].id, ups[2].id]);
    // in another order, and the one removed back
    res = await ok(path, { method: 'PATCH',
        body: { media_ids: [ups[2].id, ups[1].id, ups[0].id] } });
    assert.deepEqual(res.media.map((m) => m.url),
                     [ups[2].url, ups[1].url, ups[0].url]);
    assert.equal(files(), before, 'no file stored anew');

    // another organization's upload is none of this one's
    const theirs = await upload3(orgB());
    const e = assertError(await call(path, { method: 'PATCH',
        body: { media_ids: [ups[0].id, theirs[0].id] } }), 400,
        'invalid_request');
    assert.equal(e.field, 'media_ids.1');
    assert.equal(e.message, 'Attachment 2: there is no image with the id '
                 + `"${theirs[0].id}".`);
    assert.deepEqual((await ok(path)).media.map((m) => m.id),
                     [ups[2].id, ups[1].id, ups[0].id]);
    await ok(`${path}/cancel`, { method: 'POST' });
});

test('bad campaigns and polls are refused naming the field, and nothing '
    + 'is stored', async () => {
    const before_ = (await ok('/api/v1/campaigns')).items.length;
    const polls = (await ok('/api/v1/polls')).items.length;
    const good = { name: 'n', body: 'b', audience: { all: true } };
    const cases = [
        [{ ...good, name: undefined }, 'name'],
        [{ ...good, name: '' }, 'name'],
        [{ ...good, name: 'x'.repeat(101) }, 'name'],
        [{ ...good, body: '' }, 'body'],
        [{ ...good, body: 'x'.repeat(1601) }, 'body'],
        [{ ...good, body: 'x'.repeat(1531) }, 'body'],
        [{ ...good, audience: undefined }, 'audience'],
        [{ ...good, audience: {} }, 'audience'],
        [{ ...good, audience: { all: true, tags: ['a'] } }, 'audience'],
        [{ ...good, audience: { tags: [] } }, 'audience'],
        [{ ...good, audience: { all: false } }, 'audience'],
        [{ ...good, audience: { tags: ['x'.repeat(200)] } }, 'audience'],
        [{ ...good, send_at: 'tomorrow' }, 'send_at'],
        [{ ...good, send_at: '2030-02-30T09:00:00Z' }, 'send_at'],
        [{ ...good, send_at: '2030-01-01T09:00:00+02:00' }, 'send_at'],
        [{ ...good, media_ids: ['nope'] }, 'media_ids'],
        [{ ...good, colour: 'red' }, 'colour'],
    ];
    for (const [body, field] of cases) {
        const res = await call('/api/v1/campaigns', { method: 'POST',
            body: JSON.parse(JSON.stringify(body)) });
        const e = assertError(res, 400, 'invalid_request');
        assert.equal(e.field?.split('.')[0], field, JSON.stringify(body)
                     + ' ' + res.text);
    }
    // no audience is not "both": each is said as it is
    const neither = 'Choose who gets it: all contacts or some tags.';
    for (const [kind, body] of [
        ['campaigns', { ...good, audience: undefined }],
        ['campaigns', { ...good, audience: {} }],
        ['polls', { question: 'Which day?', options: ['Mon', 'Fri'] }]]) {
        const res = await call(`/api/v1/${kind}`, { method: 'POST', body });
        assert.equal(assertError(res, 400, 'invalid_request').message,
                     neither, res.text);
    }
    assert.equal(assertError(await call('/api/v1/campaigns', {
        method: 'POST', body: { ...good, audience: { all: true,
            tags: ['a'] } } }), 400, 'invalid_request').message,
        'Choose all contacts or some tags, not both.');

    const poll = { question: 'Which day?', options: ['Mon', 'Fri'],
                   audience: { all: true } };
    const pollCases = [
        [{ ...poll, question: undefined }, 'question'],
        [{ ...poll, options: ['Only'] }, 'options'],
        [{ ...poll, options: Array.from({ length: 10 }, (_, i) => `o${i}`) },
         'options'],
        [{ ...poll, options: ['Yes', 'yes'] }, 'options'],
        [{ ...poll, options: ['Yes', ''] }, 'options'],
        /* an answer "STOP" would unsubscribe, not vote */
        [{ ...poll, options: ['Go on', 'Stop'] }, 'options'],
        [{ ...poll, audience: undefined }, 'audience'],
        [{ ...poll, body: 'x' }, 'body'],
        [{ ...poll, question: 'q'.repeat(1525) }, 'options'],
    ];
    for (const [body, field] of pollCases) {
        const res = await call('/api/v1/polls', { method: 'POST',
            body: JSON.parse(JSON.stringify(body)) });
        const e = assertError(res, 400, 'invalid_request');
        assert.equal(e.field?.split('.')[0], field, JSON.stringify(body)
                     + ' ' + res.text);
    }

    assertError(await call('/api/v1/campaigns/estimate', { method: 'POST',
        body: { body: '', audience: { all: true } } }), 400,
        'invalid_request');
    // past 10 segments: saying how many and the limit, before a draft
    // is made (the preview shows it while the text is written)
    const long = assertError(await call('/api/v1/campaigns/estimate',
        { method: 'POST', body: { ...good, body: 'x'.repeat(1700) } }),
        400, 'invalid_request');
    assert.equal(long.field, 'body');
    assert.equal(long.message, 'The message is 12 segments (GSM-7): the '
                 + 'limit is 10, so shorten it.');
    const longPoll = assertError(await call('/api/v1/polls/estimate',
        { method: 'POST', body: { ...poll, question: 'q'.repeat(1525) } }),
        400, 'invalid_request');
    assert.equal(longPoll.field, 'options');
    assert.match(longPoll.message,
                 /^The question and its options make one message\. The /);
    assert.match(longPoll.message, /is 11 segments \(GSM-7\)/);
    assertError(await api(ctx.cluster, '/api/v1/campaigns', null,
        { method: 'POST', body: good }), 401, 'unauthenticated');

    assert.equal((await ok('/api/v1/campaigns')).items.length, before_);
    assert.equal((await ok('/api/v1/polls')).items.length, polls);
});

test('a draft saved before the 10-segment rule is refused at send as at '
    + 'create, naming the field, one scheduled before it cancelled when '
    + 'due, saying why; nobody is queued, nothing held', async () => {
    // 1,600 characters: 11 segments, a text the old length limit took
    const long = 'x'.repeat(1600);
    const made = assertError(await call('/api/v1/campaigns', {
        method: 'POST', body: { name: 'Old draft', body: long,
                                audience: { tags: ['vip'] } } }),
        400, 'invalid_request');
    assert.equal(made.field, 'body');
    assert.equal(made.message, 'The message is 11 segments (GSM-7): the '
                 + 'limit is 10, so shorten it.');

    const billing = await ok('/api/v1/billing');
    for (const send_at of [null, '2099-01-01T09:00:00Z']) {
        const draft = await ok('/api/v1/campaigns', { method: 'POST', body: {
            name: 'Old draft', body: 'short for now',
            audience: { tags: ['vip'] }, send_at } }, 201);
        // as a draft saved before the rule is stored
        await sql(`UPDATE campaigns SET body = '${long}', segments = 11,`
                  + ` credits = 4 WHERE id = ${draft.id}`);
        assert.equal((await ok(`/api/v1/campaigns/${draft.id}`)).body, long);

        const e = assertError(await call(`/api/v1/campaigns/${draft.id}`
                                         + '/send', { method: 'POST' }),
                              400, 'invalid_request');
        assert.equal(e.field, made.field);
        assert.equal(e.message, made.message);

        await dispatch();
        const now = await ok(`/api/v1/campaigns/${draft.id}`);
        assert.equal(now.status, 'draft');
        assert.equal(now.counts.recipients, 0);
        assert.equal(await sql('SELECT count(*) FROM campaign_recipients'
            + ` WHERE campaign_id = ${draft.id}`), '0');
        assert.equal(await sql('SELECT count(*) FROM messages'
            + ` WHERE campaign_id = ${draft.id}`), '0');
        // a person's cancel is no refusal
        const cancelled = await ok(`/api/v1/campaigns/${draft.id}/cancel`,
                                   { method: 'POST' });
        assert.equal(cancelled.cancelled_reason, 'manual');
        assert.equal(cancelled.cancelled_message, null);
    }

    // one scheduled before the rule is cancelled as its time comes
    const at = '2099-01-01T09:00:00Z';
    const later = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Scheduled long ago', body: 'short for now',
        audience: { tags: ['vip'] }, send_at: at } }, 201);
    const scheduled = await ok(`/api/v1/campaigns/${later.id}/send`,
                               { method: 'POST' });
    assert.equal(scheduled.status, 'scheduled');
    assert.equal(scheduled.cancelled_reason, null);
    await sql(`UPDATE campaigns SET body = '${long}', segments = 11,`
              + ` credits = 4 WHERE id = ${later.id}`);
    const d = await dispatch(Date.parse(at));
    assert.equal(d.refused, 1);
    const gone = await ok(`/api/v1/campaigns/${later.id}`);
    assert.equal(gone.status, 'cancelled');
    // why, in send's words: for the person who scheduled it, not only
    // the sender's log; a list says it too
    assert.equal(gone.cancelled_reason, 'text_refused');
    assert.equal(gone.cancelled_message, made.message);
    const listed = (await ok('/api/v1/campaigns?limit=100')).items
        .find((c) => c.id === later.id);
    assert.equal(listed.cancelled_reason, 'text_refused');
    assert.equal(listed.cancelled_message, made.message);
    assert.equal(gone.counts.recipients, 2);
    assert.equal(gone.counts.suppressed, 1);
    assert.equal(gone.counts.cancelled, 2);
    assert.equal(await sql('SELECT count(*) FROM messages'
        + ` WHERE campaign_id = ${later.id}`), '0');

    const after = await ok('/api/v1/billing');
    assert.equal(after.balance, billing.balance);
    assert.equal(after.held, billing.held);
});

test('unknown ids, another organization\'s and the other kind\'s are 404',
    async () => {
    const mine = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'mine', body: 'hello', audience: { all: true } } }, 201);
    const poll = await ok('/api/v1/polls', { method: 'POST', body: {
        question: 'Yes or no?', options: ['Yes', 'No'],
        audience: { all: true } } }, 201);
    for (const path of ['/api/v1/campaigns/999999', '/api/v1/polls/999999',
                        `/api/v1/campaigns/${poll.id}`,
                        `/api/v1/polls/${mine.id}`]) {
        assertError(await call(path), 404, 'not_found');
        assertError(await call(`${path}/send`, { method: 'POST' }), 404,
                    'not_found');
    }
    assertError(await call(`/api/v1/campaigns/${mine.id}`, {}, orgB()), 404,
                'not_found');
    assertError(await call(`/api/v1/campaigns/${mine.id}/cancel`,
                           { method: 'POST' }, orgB()), 404, 'not_found');
    assert.equal((await ok(`/api/v1/campaigns/${mine.id}`)).status, 'draft');
});

test('pause, resume and cancel; a move the lifecycle refuses is 409 and '
    + 'changes nothing', async () => {
    const c = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Lifecycle', body: 'hello', audience: { tags: ['other'] } } },
        201);
    const act = (a) => call(`/api/v1/campaigns/${c.id}/${a}`,
                            { method: 'POST' });
    let res;

    assertError(await act('pause'), 409, 'conflict');
    assertError(await act('resume'), 409, 'conflict');
    assert.equal((await act('send')).json.status, 'sending');
    // a send retried (its answer lost) answers the campaign as it is
    res = await act('send');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.status, 'sending');
    assert.equal(res.json.counts.recipients, 2);

    res = await act('pause');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.status, 'paused');
    assert.equal(res.json.paused_reason, 'manual');
    // a repeat is a success
    assert.equal((await act('pause')).json.status, 'paused');

    // paused: dispatch hands nothing over
    const d = await dispatch();
    assert.equal(d.handed, 0);
    assert.deepEqual((await messagesOf(outsider)).filter((m) =>
        m.body === 'hello'), []);

    res = await act('resume');
    assert.equal(res.json.status, 'sending');
    assert.equal(res.json.paused_reason, null);
    assert.equal((await act('resume')).json.status, 'sending');

    assert.equal(res.json.cancelled_reason, null);
    res = await act('cancel');
    assert.equal(res.json.status, 'cancelled');
    assert.equal(res.json.cancelled_reason, 'manual');
    assert.equal(res.json.counts.cancelled, res.json.counts.recipients);
    assert.equal((await act('cancel')).json.cancelled_reason, 'manual');
    for (const a of ['send', 'pause', 'resume']) {
        assertError(await act(a), 409, 'conflict');
    }
    assert.equal((await ok(`/api/v1/campaigns/${c.id}`)).status,
                 'cancelled');

    // a send time ahead: scheduled until then
    const later = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Later', body: 'soon', audience: { all: true },
        send_at: '2099-01-01T09:00:00Z' } }, 201);
    assert.equal(later.send_at, '2099-01-01T09:00:00.000Z');
    res = await call(`/api/v1/campaigns/${later.id}/send`,
                     { method: 'POST' });
    assert.equal(res.json.status, 'scheduled');
    assert.equal((await call(`/api/v1/campaigns/${later.id}/cancel`,
                             { method: 'POST' })).json.status, 'cancelled');
});

test('a campaign pauses when the credits run out and resumes after a '
    + 'grant', async () => {
    const org = orgB();
    const a = await contact(uniqueNumber(), ['b'], org);
    const c = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'No credits', body: 'hello', audience: { tags: ['b'] } } },
        201, org);
    await ok(`/api/v1/campaigns/${c.id}/send`, { method: 'POST' }, 200, org);
    assert.equal((await dispatch()).handed, 0);
    let now = await ok(`/api/v1/campaigns/${c.id}`, {}, 200, org);
    assert.equal(now.status, 'paused');
    assert.equal(now.paused_reason, 'insufficient_credits');
    const est = await ok('/api/v1/campaigns/estimate', { method: 'POST',
        body: { body: 'hello', audience: { tags: ['b'] } } }, 200, org);
    assert.equal(est.balance, 0);

    await inboxctl(ctx.cluster.store, 'credits', 'grant', org.id, '5');
    now = await ok(`/api/v1/campaigns/${c.id}/resume`, { method: 'POST' },
                   200, org);
    assert.equal(now.status, 'sending');
    assert.equal((await dispatch()).handed, 1);
    const page = await ok(`/api/v1/conversations/${a.conversation_id}`
                          + '/messages', {}, 200, org);
    assert.equal(page.items[0].body, 'hello');
});

test('a poll answered by number and by text, the last answer counting, '
    + 'a late answer ignored; tally, responses, record and timeline',
    async () => {
    const cluster = ctx.cluster;
    const people = [];
    for (let i = 0; i < 3; i++) {
        people.push(await contact(uniqueNumber(), ['poll']));
    }
    const late = await contact(uniqueNumber(), ['late-poll']);

    const poll = await ok('/api/v1/polls', { method: 'POST', body: {
        question: 'Which day suits you?', options: ['Monday', 'Friday',
        'Not sure'], audience: { tags: ['poll'] } } }, 201);
    assert.equal(poll.kind, 'poll');
    assert.equal(poll.question, 'Which day suits you?');
    assert.deepEqual(poll.options, ['Monday', 'Friday', 'Not sure']);
    assert.equal(poll.body,
                 'Which day suits you?\n1) Monday\n2) Friday\n3) Not sure');
    assert.equal(poll.name, 'Which day suits you?');

    const est = await ok('/api/v1/polls/estimate', { method: 'POST', body: {
        question: 'Which day suits you?', options: ['Monday', 'Friday',
        'Not sure'], audience: { tags: ['poll'] } } });
    assert.equal(est.recipients, 3);
    assert.deepEqual(await ok(`/api/v1/polls/${poll.id}/estimate`), est);

    assert.equal((await ok(`/api/v1/polls/${poll.id}/send`,
                           { method: 'POST' })).status, 'sending');
    assert.equal((await dispatch()).handed, 3);
    assert.equal((await messagesOf(people[0]))[0].body, poll.body);
    assert.equal((await messagesOf(people[0]))[0].campaign_id, poll.id);
    assert.equal((await messagesOf(people[0]))[0].campaign_kind, 'poll');

    // still in the outbox, the poll has not been read: a "1" meant for
    // something else is no answer, nor a reply
    const org = orgA();
    await deliverInbound(cluster, { org, from: people[0].phone, body: '1' });
    let r = await ok(`/api/v1/polls/${poll.id}`);
    assert.deepEqual(r.tally.map((t) => t.count), [0, 0, 0]);
    assert.deepEqual(r.responses, []);
    assert.equal(r.counts.replied, 0);
    assert.equal(await carrierTakes(poll), 3);

    // another poll, to another contact, taken by the carrier and handed
    // over eight days ago
    const old = await ok('/api/v1/polls', { method: 'POST', body: {
        question: 'Old question?', options: ['Yes', 'No'],
        audience: { tags: ['late-poll'] } } }, 201);
    await ok(`/api/v1/polls/${old.id}/send`, { method: 'POST' });
    assert.equal((await dispatch()).handed, 1);
    assert.equal(await carrierTakes(old), 1);
    await sql(`UPDATE campaign_recipients SET sent_at = sent_at - ${8 * DAY}`
              + ` WHERE campaign_id = ${old.id}`);

    await deliverInbound(cluster, { org, from: people[0].phone, body: '2' });
    await deliverInbound(cluster, { org, from: people[1].phone,
                                    body: ' monday! ' });
    await deliverInbound(cluster, { org, from: people[2].phone,
                                    body: 'who is this?' });
    await deliverInbound(cluster, { org, from: late.phone, body: 'Yes' });
    // the last answer counts
    await deliverInbound(cluster, { org, from: people[1].phone,
                                    body: 'Not sure' });

    r = await ok(`/api/v1/polls/${poll.id}`);
    assert.equal(r.id, poll.id);
    assert.deepEqual(r.tally.map((t) => [t.option, t.count]),
                     [['Monday', 0], ['Friday', 1], ['Not sure', 1]]);
    assert.equal(r.responses.length, 2);
    const byPhone = Object.fromEntries(r.responses.map((x) =>
        [x.contact.phone, x]));
    assert.equal(byPhone[people[0].phone].answer, 'Friday');
    assert.equal(byPhone[people[0].phone].answer_number, 2);
    assert.equal(byPhone[people[1].phone].answer, 'Not sure');
    assert.equal(byPhone[people[1].phone].contact.id, people[1].id);
    assert.match(byPhone[people[1].phone].answered_at, ISO_Z);
    assert.equal(r.counts.replied, 3);
    assert.equal(r.responses_next_cursor, null);

    // page by page: the poll with its newest answer, then the older ones
    // after its cursor, each once, the same as all at once
    const first = await ok(`/api/v1/polls/${poll.id}?limit=1`);
    assert.equal(first.responses.length, 1);
    assert.deepEqual(first.tally, r.tally);
    assert.ok(first.responses_next_cursor);
    const rest = await ok(`/api/v1/polls/${poll.id}/responses?limit=1`
        + `&cursor=${encodeURIComponent(first.responses_next_cursor)}`);
    assert.equal(rest.items.length, 1);
    assert.equal(rest.next_cursor, null);
    assert.deepEqual([...first.responses, ...rest.items], r.responses);
    assert.deepEqual((await ok(`/api/v1/polls/${poll.id}/responses`)).items,
                     r.responses);
    let e = assertError(await call(`/api/v1/polls/${poll.id}/responses`
        + '?cursor=nope'), 400, 'invalid_request');
    assert.equal(e.field, 'cursor');
    e = assertError(await call(`/api/v1/polls/${poll.id}?limit=1001`), 400,
                    'invalid_request');
    assert.equal(e.field, 'limit');
    assertError(await call(`/api/v1/polls/${poll.id}/responses`, {}, orgB()),
                404, 'not_found');

    const oldR = await ok(`/api/v1/polls/${old.id}`);
    assert.deepEqual(oldR.tally.map((t) => t.count), [0, 0]);
    assert.deepEqual(oldR.responses, []);
    // a campaign has no responses to page
    const notPoll = (await ok('/api/v1/campaigns')).items[0];
    assertError(await call(`/api/v1/polls/${notPoll.id}/responses`), 404,
                'not_found');

    // every answer still lands in the inbox
    const texts = (await messagesOf(people[1])).map((m) => m.body);
    assert.ok(texts.includes(' monday! ') && texts.includes('Not sure'));
    assert.equal((await messagesOf(late))[0].body, 'Yes');

    // the record and the timeline
    const rec = await ok(`/api/v1/contacts/${people[1].id}`);
    assert.equal(rec.polls.length, 1);
    assert.equal(rec.polls[0].poll_id, poll.id);
    assert.equal(rec.polls[0].question, 'Which day suits you?');
    assert.equal(rec.polls[0].answer, 'Not sure');
    assert.match(rec.polls[0].answered_at, ISO_Z);
    assert.equal(rec.campaigns[0].id, poll.id);
    assert.equal(rec.campaigns[0].kind, 'poll');
    assert.deepEqual((await ok(`/api/v1/contacts/${late.id}`)).polls, []);
    assert.deepEqual((await ok(`/api/v1/contacts/${people[2].id}`)).polls,
                     []);

    const tl = await ok(`/api/v1/contacts/${people[1].id}/timeline`);
    const types = tl.items.map((i) => i.type);
    // newest first: the answer above the message that gave it, the poll
    // sent below both replies, its message no entry again
    assert.deepEqual(types, ['poll_answer', 'message', 'message',
                             'campaign']);
    assert.equal(tl.items[0].poll_id, poll.id);
    assert.equal(tl.items[0].answer, 'Not sure');
    assert.equal(tl.items[0].answer_number, 3);
    assert.equal(tl.items[3].campaign.id, poll.id);

    // a page at a time, each item once
    const seen = [];
    let cursor = '';
    do {
        const page = await ok(`/api/v1/contacts/${people[1].id}/timeline`
            + `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}`
                                : ''}`);
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((i) => i.type));
        cursor = page.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, types);
    assertError(await call(`/api/v1/contacts/${people[1].id}/timeline`
                           + '?cursor=1.2.3'), 400, 'invalid_request');
});

test('an answer to a poll counts on the poll alone, not also on a campaign '
     + 'the contact got since; any other text counts on the newest',
     async () => {
    const cluster = ctx.cluster;
    const org = orgA();
    const person = await contact(uniqueNumber(), ['one-reply']);

    const poll = await ok('/api/v1/polls', { method: 'POST', body: {
        question: 'Lunch or dinner?', options: ['Lunch', 'Dinner'],
        audience: { tags: ['one-reply'] } } }, 201);
    await ok(`/api/v1/polls/${poll.id}/send`, { method: 'POST' });
    await dispatch();
    assert.equal(await carrierTakes(poll), 1);

    const sale = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'After the poll', body: 'Half price on Friday',
        audience: { tags: ['one-reply'] } } }, 201);
    await ok(`/api/v1/campaigns/${sale.id}/send`, { method: 'POST' });
    await dispatch();
    assert.equal(await carrierTakes(sale), 1);

    // "2" answers the poll: the poll counts the reply, the sale does not
    await deliverInbound(cluster, { org, from: person.phone, body: '2' });
    let p = await ok(`/api/v1/polls/${poll.id}`);
    assert.deepEqual(p.tally.map((t) => t.count), [0, 1]);
    assert.equal(p.counts.replied, 1);
    assert.equal((await ok(`/api/v1/campaigns/${sale.id}`)).counts.replied,
                 0);

    // a text that answers nothing replies to the newest: the sale
    await deliverInbound(cluster, { org, from: person.phone,
                                    body: 'see you there' });
    p = await ok(`/api/v1/polls/${poll.id}`);
    assert.deepEqual(p.tally.map((t) => t.count), [0, 1]);
    assert.equal(p.counts.replied, 1);
    assert.equal((await ok(`/api/v1/campaigns/${sale.id}`)).counts.replied,
                 1);
});

test('a poll\'s 7 days of answers start when its message went to the '
     + 'carrier: one handed over eight days ago, paused, sent now is '
     + 'answered', async () => {
    const cluster = ctx.cluster;
    const org = orgA();
    const person = await contact(uniqueNumber(), ['parked-poll']);
    const handed = Date.now() - 8 * DAY;

    const poll = await ok('/api/v1/polls', { method: 'POST', body: {
        question: 'Still interested?', options: ['Yes', 'No'],
        audience: { tags: ['parked-poll'] },
        send_at: new Date(handed).toISOString() } }, 201);
    await ok(`/api/v1/polls/${poll.id}/send`, { method: 'POST' });
    assert.equal((await dispatch(handed + 1000)).handed, 1);

    // paused before the sender took it: it waits in the outbox
    await ok(`/api/v1/polls/${poll.id}/pause`, { method: 'POST' });
    assert.equal(await carrierTakes(poll, handed + DAY), 0);
    await ok(`/api/v1/polls/${poll.id}/resume`, { method: 'POST' });
    const went = Date.now();
    assert.equal(await carrierTakes(poll, went), 1);

    // eight days after the hand-over, a moment after it went: an answer
    await deliverInbound(cluster, { org, from: person.phone, body: '2' });
    const r = await ok(`/api/v1/polls/${poll.id}`);
    assert.deepEqual(r.tally.map((t) => t.count), [0, 1]);
    assert.equal(r.counts.replied, 1);
    assert.equal(r.responses[0].contact.phone, person.phone);

    // the record says it was sent when it went
    const rec = await ok(`/api/v1/contacts/${person.id}`);
    assert.equal(rec.polls[0].answer, 'No');
    assert.ok(Date.parse(rec.campaigns[0].sent_at) >= went,
              rec.campaigns[0].sent_at);
});

test('inboxctl imports contacts from CSV, creates a campaign and a poll '
    + 'and sends them, with errors a person can act on', async () => {
    const cluster = ctx.cluster;
    const org = orgA();
    const [p1, p2] = [uniqueNumber(), uniqueNumber()];
    const csv = join(cluster.dir, 'people.csv');
    writeFileSync(csv, `phone,name,tags\n${p1},Ann,cli;x\n${p2},Bob,cli\n`
                  + 'not a number,Zed,cli\n');

    const report = JSON.parse(await inboxctl(cluster.store, 'contacts',
                                             'import', org.id, csv));
    assert.equal(report.created, 2);
    assert.equal(report.invalid.length, 1);
    assert.equal(report.invalid[0].line, 4);

    const id = await inboxctl(cluster.store, 'campaign', 'create', org.id,
        '--name', 'From the CLI', '--body', 'Hello from the CLI',
        '--tag', 'cli');
    assert.match(id, /^\S+$/);
    const sent = await inboxctl(cluster.store, 'campaign', 'send', org.id,
                                id);
    assert.match(sent, /sending/);
    assert.match(sent, /recipients=2 /);

    const c = await ok(`/api/v1/campaigns/${id}`);
    assert.equal(c.name, 'From the CLI');
    assert.equal(c.status, 'sending');
    assert.equal(c.counts.recipients, 2);

    const pollId = await inboxctl(cluster.store, 'poll', 'create', org.id,
        '--question', 'Coffee or tea?', '--option', 'Coffee', '--option',
        'Tea', '--all');
    const p = await ok(`/api/v1/polls/${pollId}`);
    assert.deepEqual(p.options, ['Coffee', 'Tea']);
    assert.deepEqual(p.audience, { all: true });
    const listed = await inboxctl(cluster.store, 'campaign', 'list', org.id);
    assert.match(listed, new RegExp(`${pollId} poll draft`));

    const fails = async (...args) => {
        try {
            await execFileAsync(inboxctlPath, ['--store', cluster.store,
                                               ...args]);
        } catch (err) {
            assert.notEqual(err.code, 0);
            return err.stderr;
        }
        assert.fail(`inboxctl ${args.join(' ')} succeeded`);
    };
    assert.match(await fails('campaign', 'create', org.id, '--name', 'n',
                             '--body', 'b'), /--all, or one --tag/);
    assert.match(await fails('campaign', 'create', org.id, '--name', 'n',
                             '--body', '', '--all'), /body/);
    assert.match(await fails('poll', 'create', org.id, '--question', 'q',
                             '--option', 'one', '--all'), /option/);
    assert.match(await fails('campaign', 'send', org.id, '424242'),
                 /no campaign or poll 424242/);
    assert.match(await fails('campaign', 'pause', org.id, pollId),
                 /draft/);
    assert.match(await fails('contacts', 'import', org.id,
                             join(cluster.dir, 'missing.csv')),
                 /cannot read/);
    assert.match(await fails('contacts', 'import', org.id, csv,
                             '--country', 'UK'),
                 /--country: "UK" is not a country code/);
    assert.match(await fails('credits', 'grant', org.id,
                             '99999999999999999999'),
                 /a whole number from 1 to 1000000000/);
    assert.match(await fails('campaign', 'create', org.id, '--name', 'n',
                             '--body', 'b', '--all', '--send-at', 'soon'),
                 /--send-at/);
    assert.match((await execFileAsync(inboxctlPath, ['--help'])).stdout,
                 /campaign create ORG_ID/);
});

test('campaigns/estimate and polls/estimate are no drafts: their other '
     + 'methods are 405', async () => {
    for (const kind of ['campaigns', 'polls']) {
        for (const method of ['GET', 'HEAD', 'DELETE']) {
            const res = await call(`/api/v1/${kind}/estimate`, { method });
            assert.equal(res.status, 405, `${method} ${kind}: ${res.text}`);
            assert.equal(res.headers.get('allow'), 'POST');
        }
        // "estimate" is no {id} after it either
        const res = await call(`/api/v1/${kind}/estimate/estimate`);
        assertError(res, 404, 'not_found');
    }
});

test('a campaign\'s picture goes to numbers outside the US and Canada as '
     + 'a link in an SMS: the preview counts them and prices them so',
     async () => {
    const here = await contact(uniqueNumber(), ['abroad']);
    const britain = await contact('+447700900123', ['abroad']);
    const jamaica = await contact('+18765550199', ['abroad']);
    const image = png();
    const up = await upload(ctx.cluster, image, {
        Authorization: `Bearer ${orgA().token}`,
        'Content-Type': 'image/png' });
    assert.equal(up.status, 201, up.text);
    const body = { body: 'Look', media_ids: [up.json.id],
                   audience: { tags: ['abroad'] } };

    // one MMS at 2 credits, two SMS with the link at 1
    const est = await ok('/api/v1/campaigns/estimate',
                         { method: 'POST', body });
    assert.equal(est.recipients, 3);
    assert.equal(est.credits, 2);
    assert.deepEqual(est.without_mms,
                     { recipients: 2, segments: 1, credits: 1 });
    assert.equal(est.total_credits, 4);
    const text = await ok('/api/v1/campaigns/estimate', { method: 'POST',
        body: { ...body, media_ids: [] } });
    assert.equal(text.without_mms, null);
    assert.equal(text.total_credits, 3);

    const draft = await ok('/api/v1/campaigns', { method: 'POST',
        body: { ...body, name: 'Abroad' } }, 201);
    assert.deepEqual((await ok(`/api/v1/campaigns/${draft.id}/estimate`))
                     .without_mms, est.without_mms);
    await ok(`/api/v1/campaigns/${draft.id}/send`, { method: 'POST' });
    await dispatch();
    // held as the preview said
    assert.equal(await sql('SELECT count(*), sum(credits) FROM messages'
                           + ` WHERE campaign_id = ${draft.id}`), '3|4');

    const [mms] = await messagesOf(here);
    assert.equal(mms.body, 'Look');
    assert.equal(mms.media.length, 1);
    assert.equal(mms.credits, 2);
    for (const c of [britain, jamaica]) {
        const [sms] = await messagesOf(c);
        const [words, link] = sms.body.split('\n');
        assert.equal(words, 'Look');
        assert.deepEqual(sms.media, []);
        assert.equal(sms.credits, 1);
        assert.equal(sms.segments, 1);
        // the link is the image, for anyone who opens it, at the
        // address the carriers fetch the MMS's pictures from
        const url = new URL(link);
        assert.equal(url.origin, new URL(ctx.cluster.baseUrl).origin);
        assert.match(url.pathname, /^\/media\/[A-Za-z0-9_-]+\.png$/);
        const res = await fetch(ctx.cluster.url(url.pathname));
        assert.equal(res.status, 200);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), image);
    }

    // a text that with its link is too long for an SMS is refused at
    // once, naming why, though as an MMS it would go: by the preview,
    // create and an edit
    const long = '\u0105'.repeat(660);
    for (const res of [
        await call('/api/v1/campaigns/estimate', { method: 'POST',
                   body: { ...body, body: long } }),
        await call('/api/v1/campaigns', { method: 'POST',
                   body: { ...body, name: 'Long', body: long } }),
    ]) {
        const refused = assertError(res, 400, 'invalid_request');
        assert.equal(refused.field, 'body');
        assert.match(refused.message, /outside the US and Canada/);
    }
    const draft2 = await ok('/api/v1/campaigns', { method: 'POST',
        body: { ...body, name: 'Long', body: 'x' } }, 201);
    assertError(await call(`/api/v1/campaigns/${draft2.id}`, {
        method: 'PATCH', body: { body: long } }), 400, 'invalid_request');
    // one saved before the rule: its preview says so, an edit of
    // anything else is taken
    await sql(`UPDATE campaigns SET body = '${long}' WHERE id = ${draft2.id}`);
    assertError(await call(`/api/v1/campaigns/${draft2.id}/estimate`), 400,
                'invalid_request');
    assert.equal((await ok(`/api/v1/campaigns/${draft2.id}`, {
        method: 'PATCH', body: { name: 'Long still' } })).name,
        'Long still');
    await ok(`/api/v1/campaigns/${draft2.id}/cancel`, { method: 'POST' });
});

errorLogIsCleanTest(ctx);
