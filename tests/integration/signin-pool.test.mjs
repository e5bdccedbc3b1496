// Sign-ins check passwords with Argon2id, slow on purpose, in a thread
// pool of their own (config/inbox-server.conf): while a burst of them
// waits, webhooks are stored and the API answers; past the pool's queue a
// sign-in is refused 503 at once, and the rest still go through.  The
// other routes that run Argon2id (a password change, a new user, a
// colleague's new password) use that pool too.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, postInbound } from '../lib/inbox.mjs';
import { addUser, login } from '../lib/session.mjs';

// One worker, so every request meets the same pools; one password thread
// with room for 16 waiting.  No sign-in limits: these are all right
// passwords, but a burst is charged before any is checked.
const ctx = useCluster({
    orgs: [{ name: 'Harbor Dental' }],
    workerProcesses: 1,
    passwordPool: 'threads=1 max_queue=16',
    http: ['inbox_login_rate off;', 'inbox_login_address_rate off;'],
});

const PAT = { email: 'pat@harbor.example', password: 'correct horse 42' };
let org;

async function ready() {
    const cluster = await ctx.ready;
    if (!org) {
        [org] = cluster.orgs;
        await addUser(cluster, org, PAT.email, PAT.password);
    }
    return cluster;
}

// Starts n sign-ins at once; each answer is pushed to order as it comes.
function signIns(cluster, n, order) {
    return Array.from({ length: n }, () =>
        login(cluster, PAT.email, PAT.password).then((res) => {
            order.push('sign-in');
            return res;
        }));
}

function answeredBefore(order, label) {
    const at = order.indexOf(label);
    assert.ok(at >= 0, `${label} was answered`);
    return order.slice(0, at).filter((l) => l === 'sign-in').length;
}

test('while twelve sign-ins wait for the password thread, a webhook is '
    + 'stored and the inbox API answers', async () => {
    const cluster = await ready();
    const order = [];
    const pending = signIns(cluster, 12, order);
    // let the burst reach nginx and fill the password queue first
    await sleep(50);

    const from = uniqueNumber();
    const [webhook, list] = await Promise.all([
        postInbound(cluster, { org, from, body: 'during the burst' })
            .then((res) => { order.push('webhook'); return res; }),
        api(cluster, '/api/v1/conversations', org.token)
            .then((res) => { order.push('api'); return res; }),
    ]);
    const answers = await Promise.all(pending);

    assert.equal(webhook.status, 200, webhook.text);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(answers.map((a) => a.status), Array(12).fill(200));
    // in the pool they shared before, each waited behind at least nine
    assert.ok(answeredBefore(order, 'webhook') < 3, order.join(' '));
    assert.ok(answeredBefore(order, 'api') < 3, order.join(' '));

    const stored = await api(cluster,
        `/api/v1/conversations?q=${encodeURIComponent(from)}`, org.token);
    assert.equal(stored.json.items.length, 1);
    assert.equal(stored.json.items[0].last_message.preview,
                 'during the burst');
});

test('sign-ins beyond the password pool\'s queue are refused 503 at once; '
    + 'the others sign in', async () => {
    const cluster = await ready();
    const order = [];
    const answers = await Promise.all(signIns(cluster, 30, order));

    const refused = answers.filter((a) => a.status === 503);
    const signedIn = answers.filter((a) => a.status === 200);
    assert.equal(refused.length + signedIn.length, 30,
                 answers.map((a) => a.status).join(' '));
    // one running and 16 waiting at most when the 30 arrive together
    assert.ok(refused.length >= 1, `${refused.length} refused`);
    assert.ok(signedIn.length >= 1 && signedIn.length <= 17,
              `${signedIn.length} signed in`);
    for (const a of refused) {
        assert.equal(a.json.error.code, 'unavailable');
        assert.match(a.json.error.message, /try again/);
        assert.equal(a.cookie, null);
    }
    for (const a of signedIn) {
        assert.match(a.cookie, /=/);
    }
});

// Starts n requests at once with an API token; resolves with their
// statuses and answers.
function burst(cluster, n, path, token, body) {
    return Promise.all(Array.from({ length: n }, (_, i) => api(cluster, path,
        token, { method: 'POST', body: body(i) })));
}

function assertSomeRefused(answers, ok) {
    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.every((s) => s === ok || s === 503),
              statuses.join(' '));
    // the inbox's own pool queues 4096: only the password pool's 16
    // waiting turn some away
    const refused = answers.filter((a) => a.status === 503);
    assert.ok(refused.length >= 1, statuses.join(' '));
    for (const a of refused) {
        assert.equal(a.json.error.code, 'unavailable');
    }
}

test('password changes, new users and a colleague\'s new password hash '
    + 'in the password pool too: beyond its queue they are refused 503 at '
    + 'once', async () => {
    const cluster = await ready();
    const boss = 'boss@harbor.example';
    await addUser(cluster, org, boss, 'the boss knows 1', 'billing');
    const token = (await inboxctl(cluster.store, 'token', 'create', org.id,
                                  '--user', boss)).trim();

    assertSomeRefused(await burst(cluster, 30, '/api/v1/me/password', token,
        (i) => ({ current_password: `not it ${i}`,
                  new_password: 'long enough 3' })), 400);
    assertSomeRefused(await burst(cluster, 30, '/api/v1/users', token,
        (i) => ({ email: `new${i}@harbor.example`, role: 'member',
                  password: 'long enough 4' })), 201);

    const team = await api(cluster, '/api/v1/users', token);
    const pat = team.json.items.find((u) => u.email === PAT.email);
    assert.ok(pat, team.text);
    assertSomeRefused(await burst(cluster, 30,
        `/api/v1/users/${pat.id}/password`, token,
        (i) => ({ password: `pat starts over ${i}` })), 204);
    await login(cluster, PAT.email, PAT.password).then((res) => {
        assert.equal(res.status, 401, 'a new password was set');
    });
});

errorLogIsCleanTest(ctx);
