// The conversation list an agent reads: newest first, paged with a cursor,
// filtered, counted, and closed to anyone without the right token.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { sleep, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, connectWs, deliverInbound, framesBeforeFence,
         ISO_Z } from '../lib/inbox.mjs';

const ctx = useCluster({ orgs: [{ name: 'Org A' }, { name: 'Org B' }] });
const contacts = [];       // org A's contacts, oldest activity first
let readConv;              // a conversation of org A

async function list(query, token = ctx.cluster.orgs[0].token) {
    const res = await api(ctx.cluster, `/api/v1/conversations${query}`,
        token);
    assert.equal(res.status, 200, res.text);
    return res.json;
}

// The frames each of sockets of the organization of token got before a
// fence (framesBeforeFence) on one of its threads other than watched:
// all a request made before could have pushed them.  The list's counts
// are asserted exactly, so the fence stars and unstars a thread there
// is rather than making one.
async function framesBeforeFenceOn(token, watched, sockets) {
    const other = (await list('', token)).items.find(
        (c) => c.id !== watched && !c.starred);
    assert.ok(other, 'a thread to fence on');
    return framesBeforeFence(ctx.cluster, token, other.id, sockets);
}

before(async () => {
    const cluster = await ctx.ready;
    for (let i = 0; i < 7; i++) {
        const phone = uniqueNumber();
        contacts.push(phone);
        await deliverInbound(cluster, { from: phone, body: `hello ${i}` });
        await sleep(5);
    }
    // the fourth contact writes twice, the second time before the others
    await deliverInbound(cluster, { from: contacts[3], body: 'second' });
    await sleep(5);
    contacts.push(contacts.splice(3, 1)[0]);
    // org B has one conversation of its own
    await deliverInbound(cluster, { org: cluster.orgs[1],
        from: uniqueNumber(), body: 'for B only' });
});

test('the list has the contract\'s shape, newest activity first', async () => {
    const page = await list('');
    assert.equal(page.next_cursor, null);
    assert.equal(page.items.length, 7);
    assert.deepEqual(page.items.map((c) => c.contact.phone),
        [...contacts].reverse());
    for (const c of page.items) {
        assert.equal(typeof c.id, 'string');
        assert.equal(typeof c.contact.id, 'string');
        assert.equal(c.contact.name, null);
        assert.equal(c.last_message.direction, 'inbound');
        assert.equal(typeof c.last_message.id, 'string');
        assert.match(c.last_message.at, ISO_Z);
        assert.match(c.last_activity_at, ISO_Z);
        assert.equal(c.archived, false);
        assert.equal(c.starred, false);
    }
    const times = page.items.map((c) => Date.parse(c.last_activity_at));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    const top = page.items[0];
    assert.equal(top.last_message.preview, 'second');
    assert.equal(top.unread_count, 2);
    assert.equal(page.unread_total, 8);
});

test('limit and next_cursor walk every conversation once, newest first',
    async () => {
        const seen = [];
        let cursor = null;
        let pages = 0;
        do {
            const q = `?limit=3${cursor
                ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
            const page = await list(q);
            assert.ok(page.items.length <= 3);
            assert.ok(page.items.length > 0, 'no empty page');
            // the tabs' counts come with the first page, the unread total
            // with each
            assert.equal(page.unread_total, 8);
            assert.equal(page.counts !== undefined, cursor === null);
            seen.push(...page.items.map((c) => c.contact.phone));
            cursor = page.next_cursor;
            pages += 1;
            assert.ok(pages <= 5, 'the walk ends');
        } while (cursor);
        assert.equal(pages, 3);
        assert.equal(new Set(seen).size, seen.length, 'no duplicates');
        assert.deepEqual(seen, [...contacts].reverse());
    });

test('filter=unread lists the threads with unread messages', async () => {
    const unread = await list('?filter=unread');
    assert.equal(unread.items.length, 7);
    assert.ok(unread.items.every((c) => c.unread_count > 0));
    assert.deepEqual(unread.items.map((c) => c.contact.phone),
        [...contacts].reverse());
    assert.equal(unread.unread_total, 8);
    const all = await list('?filter=all');
    readConv = all.items.find((c) => c.contact.phone === contacts[0]);
});

test('reading a thread takes it out of filter=unread and the total',
    async () => {
        const { cluster } = ctx;
        const token = cluster.orgs[0].token;
        const conv = (await list('')).items.find(
            (c) => c.contact.phone === contacts[1]);
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/read`, token,
            { method: 'POST' });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.unread_count, 0);

        const unread = await list('?filter=unread');
        assert.ok(!unread.items.some((c) => c.id === conv.id));
        assert.ok(unread.items.every((c) => c.unread_count > 0));
        const all = await list('?filter=all');
        assert.ok(all.items.some((c) => c.id === conv.id));
        assert.equal(unread.unread_total, all.unread_total);
        assert.equal(all.unread_total,
            all.items.reduce((n, c) => n + c.unread_count, 0));
        assert.equal(all.unread_total, 8 - conv.unread_count);

        // the answer is the whole conversation, as GET shows it
        const got = await api(cluster, `/api/v1/conversations/${conv.id}`,
            token);
        assert.deepEqual(res.json, got.json);
    });

test('reading a read thread again is 200 and changes nothing', async () => {
    const { cluster } = ctx;
    const token = cluster.orgs[0].token;
    const conv = (await list('')).items.find(
        (c) => c.contact.phone === contacts[1]);
    assert.equal(conv.unread_count, 0);
    const before = await list('');
    // a client may send a body; it is read and ignored
    const res = await api(cluster, `/api/v1/conversations/${conv.id}/read`,
        token, { method: 'POST', body: { ignored: 'x'.repeat(20000) } });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') || '', /application\/json/);
    assert.deepEqual(res.json, conv);
    assert.deepEqual(await list(''), before);
});

test('a read clears the badge on every socket of the organization, live',
    async () => {
        const { cluster } = ctx;
        const [orgA, orgB] = cluster.orgs;
        const conv = (await list('')).items.find(
            (c) => c.contact.phone === contacts[2]);
        assert.ok(conv.unread_count > 0);
        const a = await connectWs(cluster, orgA.token);
        const b = await connectWs(cluster, orgB.token);
        try {
            await a.waitForTypes(['hello']);
            await b.waitForTypes(['hello']);
            const hello = a.frames[0];
            const res = await api(cluster,
                `/api/v1/conversations/${conv.id}/read`, orgA.token,
                { method: 'POST' });
            assert.equal(res.status, 200, res.text);

            await a.waitForTypes(['conversation.updated', 'unread.total']);
            const events = a.frames.slice(1);
            assert.deepEqual(events.map((e) => e.type),
                ['conversation.updated', 'unread.total']);
            const [updated, total] = events;
            assert.equal(updated.conversation.id, conv.id);
            assert.equal(updated.conversation.unread_count, 0);
            assert.equal(updated.conversation.last_message.preview,
                conv.last_message.preview);
            assert.equal(total.count,
                hello.unread_total - conv.unread_count);
            assert.equal(total.count, (await list('')).unread_total);
            assert.equal(updated.org_seq, hello.org_seq + 1);
            assert.equal(total.org_seq, hello.org_seq + 2);
            assert.equal(updated.epoch, hello.epoch);

            // a second read is no news
            await api(cluster, `/api/v1/conversations/${conv.id}/read`,
                orgA.token, { method: 'POST' });
            const [fromA] = await framesBeforeFenceOn(orgA.token, conv.id,
                                                      [a]);
            const [fromB] = await framesBeforeFenceOn(orgB.token, null,
                                                      [b]);
            assert.equal(fromA.length, 3, JSON.stringify(fromA));
            assert.equal(fromB.length, 1, JSON.stringify(fromB));
        } finally {
            a.close();
            b.close();
        }
    });

test('a new message moves its thread to the top and counts as unread',
    async () => {
        const { cluster } = ctx;
        const before = await list('');
        const old = before.items.find((c) => c.contact.phone === contacts[0]);
        await deliverInbound(cluster, { from: contacts[0], body: 'back' });
        const page = await list('');
        assert.equal(page.items[0].id, old.id);
        assert.equal(page.items[0].last_message.preview, 'back');
        assert.equal(page.items[0].unread_count, old.unread_count + 1);
        assert.equal(page.unread_total, before.unread_total + 1);
        assert.ok(Date.parse(page.items[0].last_activity_at)
            > Date.parse(old.last_activity_at));
        contacts.push(contacts.shift());
    });

test('bad limit or filter is 400 naming the field', async () => {
    const { cluster } = ctx;
    const token = cluster.orgs[0].token;
    for (const [query, field] of [['limit=0', 'limit'],
                                  ['limit=500', 'limit'],
                                  ['limit=abc', 'limit'],
                                  ['filter=bogus', 'filter']]) {
        const res = await api(cluster, `/api/v1/conversations?${query}`,
            token);
        const err = assertError(res, 400, 'invalid_request');
        assert.ok(err.field === field || err.message.includes(field),
            `${query}: the error names ${field}: ${res.text}`);
    }
    assert.equal((await list('?limit=200')).items.length, 7);
    assert.equal((await list('?limit=1')).items.length, 1);
});

test('a query parameter given twice is 400 naming it, on every list',
    async () => {
    const { cluster } = ctx;
    const token = cluster.orgs[0].token;
    const conv = (await list('?limit=1')).items[0];
    // the first used to win silently: limit=5&limit=500 listed 5
    for (const [path, field] of [
        ['/api/v1/conversations?limit=5&limit=500', 'limit'],
        ['/api/v1/conversations?q=a&filter=unread&q=b', 'q'],
        ['/api/v1/conversations?filter=all&%66ilter=unread', 'filter'],
        [`/api/v1/conversations/${conv.id}/messages?cursor=&cursor=x`,
            'cursor'],
        ['/api/v1/contacts?tag=a&tag=b', 'tag'],
        [`/api/v1/contacts/${conv.contact.id}/timeline?limit=1&limit=1`,
            'limit'],
        ['/api/v1/campaigns?limit=2&limit=3', 'limit'],
    ]) {
        const err = assertError(await api(cluster, path, token), 400,
            'invalid_request');
        assert.equal(err.field, field, path);
        assert.match(err.message, /given twice/, path);
    }
    // once each, in any order, is fine
    assert.equal((await list('?filter=all&limit=1')).items.length, 1);
});

test('a %00 in a query parameter is 400 naming it; a broken escape says so',
    async () => {
    const { cluster } = ctx;
    const token = cluster.orgs[0].token;
    for (const path of ['/api/v1/contacts?q=a%00b',
                        '/api/v1/conversations?limit=1&q=%00']) {
        const err = assertError(await api(cluster, path, token), 400,
            'invalid_request');
        assert.equal(err.field, 'q', path);
        assert.equal(err.message,
            'q has a NUL byte (%00), which no text may hold.', path);
    }
    const err = assertError(await api(cluster, '/api/v1/contacts?q=a%zz',
        token), 400, 'invalid_request');
    assert.equal(err.message, 'The query string has a malformed %-escape.');
});

test('a search of invisible characters alone lists as no search does',
    async () => {
    const { cluster } = ctx;
    const token = cluster.orgs[0].token;
    const all = await list('');
    for (const q of ['\u200b', '\u2060', '\ufeff', '\u200e\u200b']) {
        // it once matched every name with a space in it
        const page = await list(`?q=${encodeURIComponent(q)}`);
        assert.deepEqual(page, all, JSON.stringify(q));
        const contacts = await api(cluster,
            `/api/v1/contacts?q=${encodeURIComponent(q)}`, token);
        const none = await api(cluster, '/api/v1/contacts', token);
        assert.deepEqual(contacts.json, none.json, JSON.stringify(q));
    }
});

test('no token or a wrong token is 401', async () => {
    const { cluster } = ctx;
    assertError(await api(cluster, '/api/v1/conversations', null), 401,
        'unauthenticated');
    assertError(await api(cluster, '/api/v1/conversations', 'wrong-token'),
        401, 'unauthenticated');
    assertError(await api(cluster, '/api/v1/conversations', null,
        { headers: { Authorization: 'Basic dXNlcjpwYXNz' } }), 401,
        'unauthenticated');
});

test('another organization\'s conversations are not found', async () => {
    const { cluster } = ctx;
    const tokenB = cluster.orgs[1].token;
    const listB = await list('', tokenB);
    assert.equal(listB.items.length, 1);
    assert.equal(listB.items[0].last_message.preview, 'for B only');
    assert.equal(listB.unread_total, 1);

    for (const path of [`/api/v1/conversations/${readConv.id}`,
                        `/api/v1/conversations/${readConv.id}/messages`]) {
        assertError(await api(cluster, path, tokenB), 404, 'not_found');
    }
    assertError(await api(cluster, '/api/v1/conversations/999999999',
        cluster.orgs[0].token), 404, 'not_found');

    // B cannot read A's thread: it stays unread for A
    const unreadBefore = (await api(cluster,
        `/api/v1/conversations/${readConv.id}`, cluster.orgs[0].token))
        .json.unread_count;
    assert.ok(unreadBefore > 0);
    for (const id of [readConv.id, '999999999', 'not-an-id']) {
        assertError(await api(cluster, `/api/v1/conversations/${id}/read`,
            tokenB, { method: 'POST' }), 404, 'not_found');
    }
    const again = await api(cluster, `/api/v1/conversations/${readConv.id}`,
        cluster.orgs[0].token);
    assert.equal(again.json.unread_count, unreadBefore);
});

test('reading needs POST and a token', async () => {
    const { cluster } = ctx;
    const path = `/api/v1/conversations/${readConv.id}/read`;
    const res = await api(cluster, path, cluster.orgs[0].token);
    assertError(res, 405);
    assert.match(res.headers.get('allow') || '', /POST/);
    assertError(await api(cluster, path, null, { method: 'POST' }), 401,
        'unauthenticated');
    assertError(await api(cluster, path, 'wrong-token', { method: 'POST' }),
        401, 'unauthenticated');
});

// The thread actions: read, unread, archive, unarchive, star, unstar.

const ACTIONS = ['read', 'unread', 'archive', 'unarchive', 'star', 'unstar'];

async function act(id, action, token = ctx.cluster.orgs[0].token) {
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${id}/${action}`, token, { method: 'POST' });
    assert.equal(res.status, 200, `${action}: ${res.text}`);
    assert.match(res.headers.get('content-type') || '', /application\/json/);
    return res.json;
}

async function getConv(id, token = ctx.cluster.orgs[0].token) {
    const res = await api(ctx.cluster, `/api/v1/conversations/${id}`, token);
    assert.equal(res.status, 200, res.text);
    return res.json;
}

test('each action answers 200 with the conversation, and again the same',
    async () => {
        const conv = (await list('')).items.find(
            (c) => c.contact.phone === contacts[4]);
        const expect = {
            star: { starred: true }, unstar: { starred: false },
            archive: { archived: true }, unarchive: { archived: false },
            unread: {}, read: { unread_count: 0 },
        };
        for (const action of ['star', 'archive', 'unread', 'read',
                              'unarchive', 'unstar']) {
            const once = await act(conv.id, action);
            assert.equal(once.id, conv.id);
            assert.equal(once.contact.phone, conv.contact.phone);
            for (const [k, v] of Object.entries(expect[action])) {
                assert.equal(once[k], v, `${action}: ${k}`);
            }
            if (action === 'unread') {
                assert.ok(once.unread_count >= 1);
            }
            const twice = await act(conv.id, action);
            assert.deepEqual(twice, once, `${action} again changes nothing`);
            assert.deepEqual(await getConv(conv.id), once);
        }
        // archived, it left the default view for the archive, and came back
        const back = await list('');
        assert.ok(back.items.some((c) => c.id === conv.id));
    });

test('the list counts each filter for the tabs', async () => {
    const conv = (await list('')).items.find(
        (c) => c.contact.phone === contacts[5]);
    await act(conv.id, 'star');
    await act(conv.id, 'archive');
    try {
        const page = await list('');
        assert.deepEqual(Object.keys(page.counts).sort(),
            ['all', 'archived', 'starred', 'unread', 'unresponded']);
        for (const filter of Object.keys(page.counts)) {
            const shown = await list(`?filter=${filter}&limit=200`);
            assert.equal(page.counts[filter], shown.items.length, filter);
            assert.deepEqual(shown.counts, page.counts);
        }
        assert.equal(page.counts.archived, 1);
        assert.equal(page.counts.starred, 0);
        assert.equal(page.counts.all, 6);
        // a search narrows the items, not the tabs
        const none = await list('?q=zelda');
        assert.equal(none.items.length, 0);
        assert.deepEqual(none.counts, page.counts);
    } finally {
        await act(conv.id, 'unarchive');
        await act(conv.id, 'unstar');
    }
    const after = await list('');
    assert.equal(after.counts.all, 7);
    assert.equal(after.counts.archived, 0);
});

test('a search from the default view also finds archived threads',
    async () => {
        const conv = (await list('')).items.find(
            (c) => c.contact.phone === contacts[6]);
        await act(conv.id, 'archive');
        try {
            assert.ok(!(await list('')).items.some((c) => c.id === conv.id));
            const digits = conv.contact.phone.slice(-7);
            const q = `${digits.slice(0, 3)}-${digits.slice(3)}`;
            const found = await list(`?q=${encodeURIComponent(q)}`);
            assert.equal(found.items.length, 1, JSON.stringify(found));
            assert.equal(found.items[0].id, conv.id);
            assert.equal(found.items[0].archived, true);
            // the other filters keep their own rule
            const unread = await list(
                `?filter=unread&q=${encodeURIComponent(q)}`);
            assert.equal(unread.items.length, 0);
            const archived = await list(
                `?filter=archived&q=${encodeURIComponent(q)}`);
            assert.equal(archived.items.length, 1);
        } finally {
            await act(conv.id, 'unarchive');
        }
    });

test('a new inbound message brings an archived thread back', async () => {
    const conv = (await list('')).items.find(
        (c) => c.contact.phone === contacts[6]);
    await act(conv.id, 'archive');
    assert.ok(!(await list('')).items.some((c) => c.id === conv.id));
    await deliverInbound(ctx.cluster, { from: contacts[6], body: 'hello?' });
    const page = await list('');
    assert.equal(page.items[0].id, conv.id);
    assert.equal(page.items[0].archived, false);
    assert.equal(page.items[0].last_message.preview, 'hello?');
    assert.equal(page.counts.archived, 0);
});

test('actions reach every socket of the organization, only when they '
    + 'change something, and no other organization', async () => {
    const { cluster } = ctx;
    const [orgA, orgB] = cluster.orgs;
    const conv = (await list('')).items.find(
        (c) => c.contact.phone === contacts[3]);
    await act(conv.id, 'read');
    const a1 = await connectWs(cluster, orgA.token);
    const a2 = await connectWs(cluster, orgA.token);
    const b = await connectWs(cluster, orgB.token);
    try {
        for (const ws of [a1, a2, b]) {
            await ws.waitForTypes(['hello']);
        }
        const hello = a1.frames[0];

        // star: the thread changes, the total does not
        await act(conv.id, 'star');
        // unread, archive, unarchive: the total moves each time; a
        // repeated action (archive, star) is no news
        await act(conv.id, 'unread');
        await act(conv.id, 'archive');
        await act(conv.id, 'archive');
        await act(conv.id, 'star');
        await act(conv.id, 'unarchive');
        await act(conv.id, 'unstar');

        const want = ['conversation.updated',
                      'conversation.updated', 'unread.total',
                      'conversation.updated', 'unread.total',
                      'conversation.updated', 'unread.total',
                      'conversation.updated'];
        const fromA = await framesBeforeFenceOn(orgA.token, conv.id,
                                                [a1, a2]);
        const [fromB] = await framesBeforeFenceOn(orgB.token, null, [b]);
        for (const frames of fromA) {
            const events = frames.slice(1);
            assert.deepEqual(events.map((e) => e.type), want);
            events.forEach((e, i) => {
                assert.equal(e.org_seq, hello.org_seq + 1 + i);
                assert.equal(e.epoch, hello.epoch);
            });
            const updates = events.filter(
                (e) => e.type === 'conversation.updated');
            assert.ok(updates.every((e) => e.conversation.id === conv.id));
            assert.equal(updates[0].conversation.starred, true);
            assert.equal(updates[1].conversation.unread_count, 1);
            assert.equal(updates[2].conversation.archived, true);
            assert.equal(updates[3].conversation.archived, false);
            assert.equal(updates[4].conversation.starred, false);
            const totals = events.filter((e) => e.type === 'unread.total');
            assert.equal(totals[totals.length - 1].count,
                (await list('')).unread_total);
        }
        assert.equal(fromB.length, 1, JSON.stringify(fromB));
    } finally {
        a1.close();
        a2.close();
        b.close();
    }
});

test('another organization\'s ids are 404 on every action, and change '
    + 'nothing', async () => {
    const { cluster } = ctx;
    const tokenB = cluster.orgs[1].token;
    const before = await getConv(readConv.id);
    for (const action of ACTIONS) {
        for (const id of [readConv.id, '999999999', 'not-an-id']) {
            assertError(await api(cluster,
                `/api/v1/conversations/${id}/${action}`, tokenB,
                { method: 'POST' }), 404, 'not_found');
        }
        const path = `/api/v1/conversations/${readConv.id}/${action}`;
        const res = await api(cluster, path, cluster.orgs[0].token);
        assertError(res, 405);
        assert.match(res.headers.get('allow') || '', /POST/);
        assertError(await api(cluster, path, null, { method: 'POST' }), 401,
            'unauthenticated');
    }
    assert.deepEqual(await getConv(readConv.id), before);
});

test('a contact\'s thread without a message cannot be marked unread: '
    + 'no list would show what the badge counts', async () => {
    const { cluster } = ctx;
    const token = cluster.orgs[0].token;
    const made = await api(cluster, '/api/v1/contacts', token,
        { method: 'POST', body: { phone: uniqueNumber() } });
    assert.equal(made.status, 201, made.text);
    const before = await list('');
    const error = assertError(await api(cluster,
        `/api/v1/conversations/${made.json.conversation_id}/unread`, token,
        { method: 'POST' }), 409, 'conflict');
    assert.match(error.message, /no message/);
    // the badge stays what the lists show
    const after = await list('');
    assert.equal(after.unread_total, before.unread_total);
    assert.deepEqual(after.counts, before.counts);
    // the rest is kept for when its first message lists it
    const starred = await api(cluster,
        `/api/v1/conversations/${made.json.conversation_id}/star`, token,
        { method: 'POST' });
    assert.equal(starred.status, 200, starred.text);
    assert.equal(starred.json.starred, true);
});

errorLogIsCleanTest(ctx);
