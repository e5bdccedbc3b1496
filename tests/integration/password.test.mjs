// A person changes their own password through the real nginx: the old
// password stops and the new one signs in, the browser that changed it
// stays signed in (a new session cookie) while every other session ends,
// a wrong current password is refused naming it, and guesses are limited
// as sign-ins are.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { inboxctl, startCluster } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

// a few wrong passwords from one address (sign-ins' and changes'
// together, and right changes too), then 429; fewer for one account, from
// any address
const ctx = useCluster({
    orgs: [{ name: 'Harbor Dental' }],
    http: ['inbox_login_address_rate 1r/m burst=8 delay=8;',
           'inbox_login_rate 1r/m burst=4 delay=4;'],
});

const PAT = { email: 'pat@harbor.example', password: 'correct horse 42' };
const KIM = { email: 'kim@harbor.example', password: 'kim types fast 7' };
let org;

async function ready() {
    const cluster = await ctx.ready;
    if (!org) {
        [org] = cluster.orgs;
        await addUser(cluster, org, PAT.email, PAT.password, 'billing');
        await addUser(cluster, org, KIM.email, KIM.password, 'member');
    }
    return cluster;
}

function change(cluster, cookie, body) {
    return sessionApi(cluster, '/api/v1/me/password', cookie,
                      { method: 'POST', body });
}

const me = (cluster, cookie) => sessionApi(cluster, '/api/v1/me', cookie,
                                           { csrf: false });

test('a new password: the old one stops, this browser stays signed in '
    + 'and every other session ends', async () => {
    const cluster = await ready();
    const here = (await login(cluster, PAT.email, PAT.password)).cookie;
    const elsewhere = (await login(cluster, PAT.email, PAT.password)).cookie;
    const token = (await inboxctl(cluster.store, 'token', 'create', org.id,
                                  '--user', PAT.email)).trim();

    const res = await change(cluster, here, { current_password: PAT.password,
        new_password: 'a brand new one 1' });
    assert.equal(res.status, 204, res.text);
    assert.ok(res.setCookie, 'a new session cookie');
    const renewed = res.setCookie.split(';')[0];
    assert.notEqual(renewed, here);

    assert.equal((await me(cluster, renewed)).status, 200);
    assertError(await me(cluster, here), 401, 'unauthenticated');
    assertError(await me(cluster, elsewhere), 401, 'unauthenticated');
    // an API token is not the password: it goes on until revoked
    assert.equal((await api(cluster, '/api/v1/me', token)).status, 200);

    assertError(await login(cluster, PAT.email, PAT.password), 401);
    assert.equal((await login(cluster, PAT.email, 'a brand new one 1'))
        .status, 200);
    PAT.password = 'a brand new one 1';
    assert.doesNotMatch(cluster.errorLog(), /brand new one/);
});

test('a wrong current password and a short new one are refused naming '
    + 'them, changing nothing', async () => {
    const cluster = await ready();
    const kim = (await login(cluster, KIM.email, KIM.password)).cookie;

    const short = assertError(await change(cluster, kim, {
        current_password: KIM.password, new_password: 'short' }), 400,
        'invalid_request');
    assert.equal(short.field, 'new_password');
    const wrong = assertError(await change(cluster, kim, {
        current_password: 'not it at all', new_password: 'long enough 2' }),
        400, 'invalid_request');
    assert.equal(wrong.field, 'current_password');
    assertError(await change(cluster, kim, { new_password: 'long enough 2' }),
                400, 'invalid_request');

    // still signed in, with the same password
    assert.equal((await me(cluster, kim)).status, 200);
    assert.equal((await login(cluster, KIM.email, KIM.password)).status,
                 200);
    assertError(await login(cluster, KIM.email, 'long enough 2'), 401);
});

test('an organization-wide token has no password; a person\'s token '
    + 'changes it without a cookie', async () => {
    const cluster = await ready();
    assertError(await api(cluster, '/api/v1/me/password', org.token,
        { method: 'POST', body: { current_password: 'anything 1',
                                  new_password: 'long enough 4' } }),
        403, 'forbidden');

    const token = (await inboxctl(cluster.store, 'token', 'create', org.id,
                                  '--user', PAT.email)).trim();
    const res = await api(cluster, '/api/v1/me/password', token,
        { method: 'POST', body: { current_password: PAT.password,
                                  new_password: 'from a script 5' } });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.headers.get('set-cookie'), null);
    assert.equal((await login(cluster, PAT.email, 'from a script 5')).status,
                 200);
    PAT.password = 'from a script 5';
});

// last: it fills the address's bucket
// A password change POSTed with cookie from the local address from: its
// status and the new session's cookie, if any.
function changeFrom(cluster, cookie, from, body) {
    const url = new URL(cluster.url('/api/v1/me/password'));
    return new Promise((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port,
            path: url.pathname, method: 'POST', localAddress: from,
            headers: { 'Content-Type': 'application/json', Cookie: cookie,
                       'X-Requested-With': 'inbox' } },
        (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode,
                cookie: (res.headers['set-cookie'] ?? [''])[0]
                    .split(';')[0] }));
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
    });
}

test('a stolen session guesses no faster from many addresses: the account '
     + 'is limited too, as at sign-in', async () => {
    const cluster = await ready();
    const LEE = { email: 'lee@harbor.example', password: 'lee knows hers 9' };
    await addUser(cluster, org, LEE.email, LEE.password, 'member');
    const lee = (await login(cluster, LEE.email, LEE.password)).cookie;
    const answered = [];
    let refused = 0;
    for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
        for (let i = 0; i < 8; i++) {
            const { status } = await changeFrom(cluster, lee, from, {
                current_password: `guess ${from} ${i}`,
                new_password: 'long enough 3' });
            if (status === 429) {
                refused += 1;
                break;
            }
            assert.equal(status, 400);
            answered.push(from);
        }
    }
    // the account's 1 + burst 4, where each address alone allows 1 + 8
    assert.equal(answered.length, 5, answered.join(' '));
    assert.equal(refused, 3, 'a fresh address is refused too');
});

test('guesses of the current password are limited as sign-ins are',
    async () => {
    const cluster = await ready();
    const signedIn = await login(cluster, KIM.email, KIM.password);
    assert.equal(signedIn.status, 200, signedIn.text);
    const kim = signedIn.cookie;
    let res;
    let wrong = 0;
    for (let i = 0; i < 8; i++) {
        res = await change(cluster, kim, { current_password: `guess ${i}`,
                                           new_password: 'long enough 3' });
        if (res.status !== 400) {
            break;
        }
        wrong += 1;
    }
    assertError(res, 429, 'rate_limited');
    assert.ok(Number(res.headers.get('retry-after')) > 0, res.text);
    assert.ok(wrong >= 1 && wrong <= 5, `${wrong} wrong guesses answered`);
    // the right password is refused too until the bucket drains
    assertError(await change(cluster, kim, { current_password: KIM.password,
        new_password: 'long enough 3' }), 429, 'rate_limited');
    assert.equal((await me(cluster, kim)).status, 200);
});

// POSTs from the local address from: a password change with a made-up
// API token (of a token's form: one of any other form is refused before
// the body is read, and charges nothing), or a sign-in; each resolves
// with the status.
function post(cluster, from, path, headers, body) {
    const url = new URL(cluster.url(path));
    return new Promise((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port,
            path: url.pathname, method: 'POST', localAddress: from,
            headers: { 'Content-Type': 'application/json', ...headers } },
        (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
    });
}

const madeUpTokenFrom = (cluster, from) => post(cluster, from,
    '/api/v1/me/password',
    { Authorization: `Bearer ibx_${randomBytes(32).toString('base64url')}` },
    { current_password: 'anything 1', new_password: 'long enough 3' });

const loginFrom = (cluster, from, email, password) => post(cluster, from,
    '/api/v1/auth/login', {}, { email, password });

test('made-up tokens sent to me/password count as failures of their '
    + 'address, and leave no bucket to lock others out of signing in',
    async () => {
    // the account buckets' zone at its smallest (about 190 buckets),
    // which 600 made-up tokens would overflow
    const small = await startCluster({ http: [
        'inbox_login_rate 1r/m burst=3 delay=3 size=32k;',
        'inbox_login_address_rate 1r/m burst=5 delay=5;'] });
    try {
        await addUser(small, small.orgs[0], KIM.email, KIM.password);
        const seen = {};
        for (let i = 0; i < 600; i += 8) {
            const batch = [];
            for (let j = 0; j < 8; j++) {
                batch.push(madeUpTokenFrom(small, '127.0.0.3'));
            }
            for (const status of await Promise.all(batch)) {
                seen[status] = (seen[status] ?? 0) + 1;
            }
        }
        // who the token is comes first: 401, charged or refused
        assert.deepEqual(seen, { 401: 600 });

        // the address spent its 1 + burst 5 guesses: it is refused, and
        // everyone else signs in
        assert.equal(await loginFrom(small, '127.0.0.3', KIM.email,
                                     KIM.password), 429);
        assert.equal(await loginFrom(small, '127.0.0.4', KIM.email,
                                     KIM.password), 200);
    } finally {
        await small.stop();
        small.cleanup();
    }
});

test('changes with the right password cost hashing too: a loop of them '
    + 'from one address is refused as guesses are', async () => {
    const small = await startCluster({ http: [
        'inbox_login_address_rate 1r/m burst=3 delay=3;',
        'inbox_login_rate 1r/m burst=10 delay=10;'] });
    try {
        const LOU = { email: 'lou@harbor.example', password: 'lou 0 secret' };
        await addUser(small, small.orgs[0], LOU.email, LOU.password);
        let cookie = (await login(small, LOU.email, LOU.password)).cookie;
        const statuses = [];
        for (let i = 1; i <= 6; i++) {
            const next = `lou ${i} secret`;
            const res = await changeFrom(small, cookie, '127.0.0.5', {
                current_password: LOU.password, new_password: next });
            statuses.push(res.status);
            if (res.status !== 204) {
                break;
            }
            LOU.password = next;
            cookie = res.cookie;
        }
        // the address's 1 + burst 3, then refused without hashing
        assert.deepEqual(statuses, [204, 204, 204, 204, 429]);
        // the session is still good, and another address signs in
        assert.equal((await me(small, cookie)).status, 200);
        assert.equal((await login(small, LOU.email, LOU.password)).status,
                     200);
    } finally {
        await small.stop();
        small.cleanup();
    }
});

errorLogIsCleanTest(ctx);
