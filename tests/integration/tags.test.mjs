// GET /api/v1/tags: the organization's tags, each once in any case, with
// how many contacts carry it and how many of those are not opted out, for
// every contact however many there are (the campaign form offers them).

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, importContactsCsv } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Tags A' }, { name: 'Tags B' }] });
const USER = { email: 'tags@tags.example', password: 'tags all the way' };

const orgA = () => ctx.cluster.orgs[0];
const orgB = () => ctx.cluster.orgs[1];

// n numbers, none twice.
function numbers(n) {
    const set = new Set();
    while (set.size < n) {
        set.add(uniqueNumber());
    }
    return Array.from(set);
}

// Imports rows [phone, tags] (tags ";"-separated) into org.
function importRows(org, rows) {
    return importContactsCsv(ctx.cluster, org.token, ['phone,name,tags',
        ...rows.map(([phone, tags]) => `${phone},,${tags}`)].join('\n')
        + '\n');
}

async function tagsOf(org) {
    const res = await api(ctx.cluster, '/api/v1/tags', org.token);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type'), /application\/json/);
    return res.json;
}

let phones;

before(async () => {
    await ctx.ready;
    // the oldest two alone are early birds; a thousand newer ones in
    // bulk; the three newest late, and VIP
    phones = numbers(1006);
    const rows = [
        ...phones.slice(0, 2).map((p) => [p, 'Early-Bird']),
        ...phones.slice(2, 1002).map((p) => [p, 'bulk']),
        ...phones.slice(1002, 1005).map((p) => [p, 'late;VIP']),
    ];
    assert.equal((await importRows(orgA(), rows)).created, 1005);

    // one more vip, made after them, who opts out
    const res = await api(ctx.cluster, '/api/v1/contacts', orgA().token, {
        method: 'POST', body: { phone: phones[1005], tags: ['vip'] } });
    assert.equal(res.status, 201, res.text);
    const out = await api(ctx.cluster, '/api/v1/conversations/'
        + `${res.json.conversation_id}/opt-out`, orgA().token,
        { method: 'POST' });
    assert.equal(out.status, 200, out.text);

    // the other organization: one of the same numbers, its own tags
    await importRows(orgB(), [[phones[0], 'secret;BULK']]);
});

test('every tag of the organization once, in any case, with its contacts '
     + 'and those not opted out, past the first thousand contacts too',
     async () => {
    const page = await tagsOf(orgA());
    assert.deepEqual(page, {
        items: [
            { tag: 'bulk', contacts: 1000, sendable: 1000 },
            { tag: 'Early-Bird', contacts: 2, sendable: 2 },
            { tag: 'late', contacts: 3, sendable: 3 },
            // spelled as the contact made first wrote it
            { tag: 'VIP', contacts: 4, sendable: 3 },
        ],
        more: false,
    });

    // the counts are the audience a campaign to the tag would have
    const est = await api(ctx.cluster, '/api/v1/campaigns/estimate',
        orgA().token, { method: 'POST', body: { name: 'x', body: 'Hi',
            audience: { tags: ['vip'] } } });
    assert.equal(est.status, 200, est.text);
    assert.equal(est.json.recipients, 3, est.text);
    assert.equal(est.json.suppressed, 1, est.text);
});

test('another organization\'s tags never show, nor its counts', async () => {
    const a = await tagsOf(orgA());
    assert.ok(!a.items.some((t) => t.tag.toLowerCase() === 'secret'),
              JSON.stringify(a));
    const b = await tagsOf(orgB());
    assert.deepEqual(b, {
        items: [{ tag: 'BULK', contacts: 1, sendable: 1 },
                { tag: 'secret', contacts: 1, sendable: 1 }],
        more: false,
    });
});

test('a signed-in person reads them too; without a session or token it '
     + 'is 401, and only GET is allowed', async () => {
    await addUser(ctx.cluster, orgA(), USER.email, USER.password);
    const session = await login(ctx.cluster, USER.email, USER.password);
    assert.equal(session.status, 200, session.text);
    const res = await sessionApi(ctx.cluster, '/api/v1/tags',
                                 session.cookie);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.items.length, 4);

    assertError(await api(ctx.cluster, '/api/v1/tags', null), 401,
                'unauthenticated');
    assertError(await api(ctx.cluster, '/api/v1/tags', 'not-a-token'), 401,
                'unauthenticated');
    assertError(await api(ctx.cluster, '/api/v1/tags', orgA().token,
                          { method: 'POST', body: {} }), 405);
});

errorLogIsCleanTest(ctx);
