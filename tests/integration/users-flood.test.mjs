// Adding a user hashes a password with Argon2id in the pool every
// organization's sign-ins use (config/inbox-server.conf).  So a taken
// email is refused before any hashing, and each new user asked for is
// charged as a sign-in attempt is: to the session's or token's bucket and
// to the client address's (one of its own, apart from its sign-ins').  A billing admin looping POST /users (even
// with their own, taken, email) is turned away 429 with Retry-After,
// while another organization signs in.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

// One worker and one password thread with room for 16 waiting; each
// session or token may ask for 1 + 4, each address 1 + 8 (a minute
// gives one back).
const ctx = useCluster({
    orgs: [{ name: 'Harbor Dental' }, { name: 'Other Org' }],
    workerProcesses: 1,
    passwordPool: 'threads=1 max_queue=16',
    http: ['inbox_login_rate 1r/m burst=4 delay=4;',
           'inbox_login_address_rate 1r/m burst=8 delay=8;'],
});

const BOSS = { email: 'boss@harbor.example', password: 'the boss knows 1' };
const PAT = { email: 'pat@harbor.example', password: 'correct horse 42' };
const ZED = { email: 'zed@other.example', password: 'zed password 9' };
let harbor;
let other;

async function ready() {
    const cluster = await ctx.ready;
    if (!harbor) {
        [harbor, other] = cluster.orgs;
        await addUser(cluster, harbor, BOSS.email, BOSS.password, 'billing');
        await addUser(cluster, harbor, PAT.email, PAT.password, 'billing');
        await addUser(cluster, other, ZED.email, ZED.password, 'billing');
    }
    return cluster;
}

// A JSON POST from the local address from, with a bearer token or a
// session cookie; resolves with { status, headers, text, json, cookie }.
function call(cluster, from, path, { token, cookie, body }) {
    const url = new URL(cluster.url(path));
    const headers = { 'Content-Type': 'application/json' };
    if (token) {
        headers.Authorization = `Bearer ${token}`;
    }
    if (cookie) {
        headers.Cookie = cookie;
        headers['X-Requested-With'] = 'inbox';
    }
    return new Promise((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port,
            path: url.pathname, method: 'POST', localAddress: from,
            headers }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => { text += chunk; });
            res.on('end', () => {
                let json;
                try { json = JSON.parse(text); } catch { json = undefined; }
                const set = res.headers['set-cookie'];
                const get = (name) => res.headers[name.toLowerCase()] ?? null;
                resolve({ status: res.statusCode, headers: { get }, text, json,
                          cookie: set ? set[0].split(';')[0] : null });
            });
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
    });
}

const signIn = (cluster, from, who) => call(cluster, from,
    '/api/v1/auth/login', { body: { email: who.email,
                                    password: who.password } });

const addUserAs = (cluster, from, credential, email) => call(cluster, from,
    '/api/v1/users', { ...credential, body: { email, role: 'member',
                                              password: 'long enough 4' } });

function assertLimited(res) {
    const error = assertError(res, 429, 'rate_limited');
    assert.ok(error.retry_after > 0, res.text);
    assert.ok(Number(res.headers.get('retry-after')) > 0, res.text);
    return error;
}

async function teamEmails(cluster, org) {
    const res = await api(cluster, '/api/v1/users', org.token);
    assert.equal(res.status, 200, res.text);
    return res.json.items.map((u) => u.email);
}

test('an admin adding a taken email over and over is refused 429 before '
    + 'any hashing, while another organization signs in', async () => {
    const cluster = await ready();
    const token = (await inboxctl(cluster.store, 'token', 'create',
                                  harbor.id, '--user', BOSS.email)).trim();
    const boss = { token };

    // the admin's own email, twelve at once, and four sign-ins of the
    // other organization: within the pool's 1 + 16
    const [adds, signIns] = await Promise.all([
        Promise.all(Array.from({ length: 12 }, () =>
            addUserAs(cluster, '127.0.0.2', boss, BOSS.email))),
        Promise.all(Array.from({ length: 4 }, () =>
            signIn(cluster, '127.0.0.3', ZED))),
    ]);

    assert.deepEqual(signIns.map((r) => r.status), [200, 200, 200, 200]);
    const statuses = adds.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...Array(5).fill(409), ...Array(7).fill(429)],
                     statuses.join(' '));
    for (const res of adds) {
        if (res.status === 409) {
            assert.equal(assertError(res, 409, 'conflict').field, 'email');
        } else {
            assert.match(assertLimited(res).message, /wait \d+ seconds/);
        }
    }

    // the token's users asked for are counted, whatever the email
    assertLimited(await addUserAs(cluster, '127.0.0.2', boss,
                                  'new@harbor.example'));
    assert.ok(!(await teamEmails(cluster, harbor))
        .includes('new@harbor.example'));

    // the other organization's admin has buckets of their own
    const zed = await signIn(cluster, '127.0.0.3', ZED);
    assert.equal(zed.status, 200, zed.text);
    const added = await addUserAs(cluster, '127.0.0.3',
                                  { cookie: zed.cookie }, 'amy@other.example');
    assert.equal(added.status, 201, added.text);
});

test('new sessions do not lift the limit: one address asks for as many '
    + 'new users as it may guess passwords; its sign-ins go on',
    async () => {
    const cluster = await ready();
    const from = '127.0.0.4';
    const sessions = [];
    for (let i = 0; i < 4; i++) {
        const res = await signIn(cluster, from, PAT);
        assert.equal(res.status, 200, res.text);
        sessions.push({ cookie: res.cookie });
    }

    // three from each session: the address's burst for new users, 1 + 8,
    // then 429
    const statuses = [];
    for (const session of sessions) {
        for (let i = 0; i < 3; i++) {
            const res = await addUserAs(cluster, from, session, ZED.email);
            if (res.status === 429) {
                assertLimited(res);
            }
            statuses.push(res.status);
        }
    }
    assert.deepEqual(statuses, [...Array(9).fill(409), 429, 429, 429]);

    // adding users counts apart from the address's sign-ins: an admin
    // adding a team does not lock the office out
    assert.equal((await signIn(cluster, from, PAT)).status, 200);
});

errorLogIsCleanTest(ctx);
