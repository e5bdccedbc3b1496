// API tokens as the real nginx API checks them: a token revoked with
// inboxctl is refused on every route from the next request on, in every
// worker, and a token past its expiry is refused with a message that says
// what to do.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, sleep, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, deliverInbound } from '../lib/inbox.mjs';

const ctx = useCluster();
let conversationId;

// Every route of the API, as a token holder would call it.
function routes() {
    const id = conversationId;
    return [
        ['GET', '/api/v1/conversations'],
        ['GET', `/api/v1/conversations/${id}`],
        ['GET', `/api/v1/conversations/${id}/messages`],
        ['POST', `/api/v1/conversations/${id}/read`],
        ['POST', '/api/v1/realtime/ticket'],
    ];
}

async function everyRoute(token) {
    const answers = [];
    for (const [method, path] of routes()) {
        answers.push([`${method} ${path}`,
            await api(ctx.cluster, path, token, { method })]);
    }
    return answers;
}

before(async () => {
    const cluster = await ctx.ready;
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'hello' });
    const list = await api(cluster, '/api/v1/conversations',
        cluster.orgs[0].token);
    assert.equal(list.status, 200, list.text);
    conversationId = list.json.items[0].id;
});

test('a revoked token gets 401 on every route from the next request on',
    async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const token = await inboxctl(cluster.store, 'token', 'create', org.id,
        '--name', 'to-revoke');
    for (const [route, res] of await everyRoute(token)) {
        assert.equal(res.status, 200, `${route}: ${res.text}`);
    }

    const [line] = (await inboxctl(cluster.store, 'token', 'list', org.id))
        .split('\n').filter((l) => /\sto-revoke\s/.test(l));
    const id = line.split(/\s+/)[0];
    assert.equal(await inboxctl(cluster.store, 'token', 'revoke', org.id, id),
        id);

    // no grace period: each request (over both workers) is refused at once
    for (let round = 0; round < 3; round++) {
        for (const [route, res] of await everyRoute(token)) {
            const err = assertError(res, 401, 'unauthenticated');
            assert.match(err.message, /revoked; ask for a new one/, route);
        }
    }

    // the organization's other token is untouched
    for (const [route, res] of await everyRoute(org.token)) {
        assert.equal(res.status, 200, `${route}: ${res.text}`);
    }
});

test('a leaked token revoked by itself stops working', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const token = await inboxctl(cluster.store, 'token', 'create', org.id);
    assert.equal((await api(cluster, '/api/v1/conversations', token)).status,
        200);

    await inboxctl(cluster.store, 'token', 'revoke', org.id, token);
    assertError(await api(cluster, '/api/v1/conversations', token), 401,
        'unauthenticated');
});

test('an expired token gets 401 saying it expired and what to do',
    async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    // 5 s: long enough for inboxctl's exit and the first call on a
    // loaded machine
    const token = await inboxctl(cluster.store, 'token', 'create', org.id,
        '--expires-in', '5s');
    const started = Date.now();
    const res = await api(cluster, '/api/v1/conversations', token);
    assert.equal(res.status, 200, res.text);
    assert.ok(Date.now() - started < 5000, 'the first call came in time');

    await sleep(5100 - (Date.now() - started));
    const said = new RegExp('^This API token expired at '
        + '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ; ask for a new one\\.$');
    for (const [route, answer] of await everyRoute(token)) {
        const err = assertError(answer, 401, 'unauthenticated');
        assert.match(err.message, said, route);
    }

    const line = (await inboxctl(cluster.store, 'token', 'list', org.id))
        .split('\n').at(-1);
    assert.match(line, /\sexpired$/);
});

errorLogIsCleanTest(ctx);
