// Signing in as a person, through the real nginx: email and password give
// a session cookie (HttpOnly, SameSite, Secure behind https), the cookie
// works where a bearer token does, a change made with it needs the CSRF
// header, logout and expiry end it, and failed sign-ins are slowed, then
// refused.  Also what every route with a body refuses before reading it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { inboxctl, sqlite3Path, startCluster, uniqueNumber }
    from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, connectWs, deliverInbound, wsUrl }
    from '../lib/inbox.mjs';
import { addUser, inboxctlStdin, login, sessionApi }
    from '../lib/session.mjs';

const execFileAsync = promisify(execFile);

// Small limits, so that a test reaches them: four failures for one email
// address (the third and fourth slowed by 1 and 2 s), twelve for one
// client address.
const ctx = useCluster({
    orgs: [{ name: 'Harbor Dental' }, { name: 'Other Org' }],
    http: ['inbox_login_rate 1r/m burst=3 delay=1;',
           'inbox_login_address_rate 1r/m burst=11 delay=11;'],
});

const PAT = { email: 'pat@harbor.example', password: 'correct horse 42' };
const SAM = { email: 'sam@other.example', password: 'battery staple 7' };
let orgA;
let orgB;
let convA;
let convB;

async function ready() {
    const cluster = await ctx.ready;
    if (!convA) {
        [orgA, orgB] = cluster.orgs;
        await addUser(cluster, orgA, 'Pat@Harbor.example', PAT.password,
                      'billing');
        await addUser(cluster, orgB, SAM.email, SAM.password, 'member');
        await deliverInbound(cluster, { org: orgA, from: uniqueNumber(),
                                        body: 'for A' });
        await deliverInbound(cluster, { org: orgB, from: uniqueNumber(),
                                        body: 'for B' });
        convA = (await api(cluster, '/api/v1/conversations', orgA.token))
            .json.items[0];
        convB = (await api(cluster, '/api/v1/conversations', orgB.token))
            .json.items[0];
    }
    return cluster;
}

function sql(cluster, statement) {
    return execFileAsync(sqlite3Path, ['-cmd', '.timeout 5000',
        cluster.storePath, statement]);
}

function cookieAttributes(setCookie) {
    return setCookie.split(';').slice(1).map((a) => a.trim().toLowerCase());
}

test('signing in answers the user, role and organization, with an '
    + 'HttpOnly SameSite cookie', async () => {
    const cluster = await ready();
    // the address in any case
    const res = await login(cluster, 'PAT@harbor.EXAMPLE', PAT.password);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {
        user: { id: res.json.user.id, email: PAT.email },
        role: 'billing',
        organization: { id: orgA.id, name: 'Harbor Dental',
                        timezone: 'UTC' },
    });
    assert.match(res.headers.get('cache-control') || '', /no-store/);

    assert.match(res.cookie, /^inbox_session=[A-Za-z0-9_-]{43}$/);
    const attrs = cookieAttributes(res.setCookie);
    for (const a of ['httponly', 'samesite=lax', 'path=/']) {
        assert.ok(attrs.includes(a), `${a} in ${res.setCookie}`);
    }
    assert.ok(!attrs.includes('secure'), 'not Secure over http');
    assert.ok(!attrs.some((a) => a.startsWith('domain')), res.setCookie);

    // the store keeps only the id's SHA-256
    const { stdout } = await sql(cluster, 'SELECT session_hash FROM sessions');
    const id = res.cookie.split('=')[1];
    assert.ok(!stdout.includes(id));
    assert.ok(stdout.trim().split('\n').every((h) => /^[0-9a-f]{64}$/.test(h)),
        stdout);
});

test('a wrong password and an unknown email get the same 401, and no '
    + 'cookie', async () => {
    const cluster = await ready();
    const wrong = await login(cluster, PAT.email, 'not the password');
    const unknown = await login(cluster, 'nobody@harbor.example',
                                PAT.password);
    for (const res of [wrong, unknown]) {
        assertError(res, 401, 'unauthenticated');
        assert.equal(res.setCookie, null);
    }
    assert.equal(wrong.text, unknown.text);
    assert.doesNotMatch(cluster.errorLog(), /not the password/);
});

test('GET /api/v1/me answers for a session and for API tokens', async () => {
    const cluster = await ready();
    const { cookie } = await login(cluster, PAT.email, PAT.password);
    const me = await sessionApi(cluster, '/api/v1/me', cookie,
                                { csrf: false });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.user.email, PAT.email);
    assert.equal(me.json.role, 'billing');
    assert.equal(me.json.organization.id, orgA.id);

    // an organization-wide token acts as a member, with no user
    const org = await api(cluster, '/api/v1/me', orgA.token);
    assert.equal(org.status, 200, org.text);
    assert.equal(org.json.user, null);
    assert.equal(org.json.role, 'member');
    assert.equal(org.json.organization.name, 'Harbor Dental');

    // a user's token is that user
    const token = await inboxctl(cluster.store, 'token', 'create', orgA.id,
                                 '--user', PAT.email);
    const user = await api(cluster, '/api/v1/me', token);
    assert.deepEqual(user.json, me.json);

    assertError(await api(cluster, '/api/v1/me', null), 401,
                'unauthenticated');
});

test('a change made with the cookie needs X-Requested-With: inbox; a '
    + 'bearer token does not', async () => {
    const cluster = await ready();
    await deliverInbound(cluster, { org: orgA, from: convA.contact.phone,
                                    body: 'unread again' });
    const { cookie } = await login(cluster, PAT.email, PAT.password);
    const path = `/api/v1/conversations/${convA.id}/read`;
    const unread = async () => (await api(cluster,
        `/api/v1/conversations/${convA.id}`, orgA.token)).json.unread_count;
    assert.ok(await unread() > 0);

    for (const headers of [{}, { 'X-Requested-With': 'XMLHttpRequest' }]) {
        const refused = await sessionApi(cluster, path, cookie,
            { method: 'POST', csrf: false, headers });
        const err = assertError(refused, 403, 'forbidden');
        assert.match(err.message, /X-Requested-With: inbox/);
        assert.ok(await unread() > 0, 'nothing was read');
    }

    // a ticket is a change too
    assertError(await sessionApi(cluster, '/api/v1/realtime/ticket', cookie,
        { method: 'POST', csrf: false }), 403, 'forbidden');

    // reading needs no header
    const get = await sessionApi(cluster, '/api/v1/conversations', cookie,
                                 { csrf: false });
    assert.equal(get.status, 200, get.text);

    const ok = await sessionApi(cluster, path, cookie, { method: 'POST' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.unread_count, 0);

    // with a token the header is not needed (another site cannot set
    // Authorization), even when a cookie comes along
    const bearer = await api(cluster, path, orgA.token, { method: 'POST',
        headers: { Cookie: cookie } });
    assert.equal(bearer.status, 200, bearer.text);
});

test('a session gets a realtime ticket and its WebSocket', async () => {
    const cluster = await ready();
    const { cookie } = await login(cluster, PAT.email, PAT.password);
    const res = await sessionApi(cluster, '/api/v1/realtime/ticket', cookie,
                                 { method: 'POST' });
    assert.equal(res.status, 200, res.text);
    assert.ok(wsUrl(cluster, res.json).startsWith('ws://'));
    // the same WebSocket a token's ticket opens
    const ws = await connectWs(cluster, orgA.token);
    ws.close();
});

test('another organization\'s ids are 404 to a session too', async () => {
    const cluster = await ready();
    const { cookie } = await login(cluster, PAT.email, PAT.password);
    for (const [method, path] of [
        ['GET', `/api/v1/conversations/${convB.id}`],
        ['GET', `/api/v1/conversations/${convB.id}/messages`],
        ['POST', `/api/v1/conversations/${convB.id}/read`],
    ]) {
        assertError(await sessionApi(cluster, path, cookie, { method }), 404,
                    'not_found');
    }
    const list = await sessionApi(cluster, '/api/v1/conversations', cookie);
    assert.deepEqual(list.json.items.map((c) => c.id), [convA.id]);
});

test('logout ends the session and clears the cookie', async () => {
    const cluster = await ready();
    const { cookie } = await login(cluster, PAT.email, PAT.password);
    const other = await login(cluster, PAT.email, PAT.password);

    assertError(await sessionApi(cluster, '/api/v1/auth/logout', cookie,
        { method: 'POST', csrf: false }), 403, 'forbidden');

    const out = await sessionApi(cluster, '/api/v1/auth/logout', cookie,
                                 { method: 'POST' });
    assert.equal(out.status, 204, out.text);
    assert.match(out.setCookie, /^inbox_session=;/);
    assert.ok(cookieAttributes(out.setCookie).includes('max-age=0'));

    // the old cookie is refused, and forgotten by the browser
    const me = await sessionApi(cluster, '/api/v1/me', cookie);
    assertError(me, 401, 'unauthenticated');
    assert.match(me.setCookie || '', /^inbox_session=;.*Max-Age=0/);
    assertError(await sessionApi(cluster, '/api/v1/auth/logout', cookie,
        { method: 'POST' }), 401, 'unauthenticated');
    // a bearer token alone signs nothing out, and says where tokens end
    const e = assertError(await api(cluster, '/api/v1/auth/logout',
        orgA.token, { method: 'POST' }), 400, 'invalid_request');
    assert.match(e.message, /inboxctl token revoke/);

    // a browser that sends a token beside its cookie signs its session
    // out: the cookie counts for logout, not the token
    const both = await login(cluster, PAT.email, PAT.password);
    const bye = await sessionApi(cluster, '/api/v1/auth/logout', both.cookie,
        { method: 'POST', headers: { Authorization: `Bearer ${orgA.token}` } });
    assert.equal(bye.status, 204, bye.text);
    assertError(await sessionApi(cluster, '/api/v1/me', both.cookie), 401,
                'unauthenticated');

    // the other session of the same person goes on
    assert.equal((await sessionApi(cluster, '/api/v1/me', other.cookie))
        .status, 200);
});

test('a session ends when the store says it has expired, and a cookie '
    + 'that is no session is refused', async () => {
    const cluster = await ready();
    const { cookie } = await login(cluster, PAT.email, PAT.password);
    assert.equal((await sessionApi(cluster, '/api/v1/me', cookie)).status,
                 200);
    await sql(cluster, 'UPDATE sessions SET expires_at = 0');
    const err = assertError(await sessionApi(cluster, '/api/v1/me', cookie),
                            401, 'unauthenticated');
    assert.match(err.message, /sign in again/);

    for (const forged of ['inbox_session=x', `inbox_session=${'A'.repeat(43)}`,
                          'inbox_session=']) {
        assertError(await sessionApi(cluster, '/api/v1/conversations',
            forged), 401, 'unauthenticated');
    }
});

test('inboxctl user passwd gives a new password and ends the user\'s '
    + 'sessions', async () => {
    const cluster = await ready();
    const { cookie } = await login(cluster, SAM.email, SAM.password);
    const res = await inboxctlStdin(cluster.store, 'a new passphrase 9\n',
        'user', 'passwd', orgB.id, 'SAM@other.example');
    assert.equal(res.code, 0, res.stderr);
    assertError(await sessionApi(cluster, '/api/v1/me', cookie), 401,
                'unauthenticated');
    assert.equal((await login(cluster, SAM.email, 'a new passphrase 9'))
        .status, 200);
    assertError(await login(cluster, SAM.email, SAM.password), 401,
                'unauthenticated');
    SAM.password = 'a new passphrase 9';
});

// "correct horse battery" as an older release might have stored it:
// Argon2id at libsodium's least limits (crypto_pwhash_OPSLIMIT_MIN and
// _MEMLIMIT_MIN), where today's hashes take 64 MiB and two passes.
const OLD_HASH = '$argon2id$v=19$m=8,t=1,p=1$4CbhrSzT4Lo4JFkxUAdOmg$'
    + 'NIF+2RShUltPXX/LF3LdVThSHlv/i0p+n7S9sknjA20';

test('a password hashed under older limits is hashed again under '
    + "today's at sign-in, and the user's sessions stay", async () => {
    const cluster = await ready();
    const LEE = { email: 'old.hash@harbor.example',
                  password: 'correct horse battery' };
    const storedHash = async () => (await sql(cluster,
        `SELECT password_hash FROM users WHERE email = '${LEE.email}'`))
        .stdout.trim();
    await addUser(cluster, orgA, LEE.email, 'not the old one 1', 'member');
    await sql(cluster, `UPDATE users SET password_hash = '${OLD_HASH}' `
        + `WHERE email = '${LEE.email}'`);

    assertError(await login(cluster, LEE.email, 'not the old one 1'), 401,
                'unauthenticated');
    assert.equal(await storedHash(), OLD_HASH, 'a refused sign-in rehashes');

    const first = await login(cluster, LEE.email, LEE.password);
    assert.equal(first.status, 200, first.text);
    const rehashed = await storedHash();
    assert.match(rehashed, /^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);

    // the same password: the session just made, and others, stay
    assert.equal((await sessionApi(cluster, '/api/v1/me', first.cookie))
        .status, 200);
    const again = await login(cluster, LEE.email, LEE.password);
    assert.equal(again.status, 200, again.text);
    assert.equal(await storedHash(), rehashed, 'hashed again needlessly');
    assert.equal((await sessionApi(cluster, '/api/v1/me', first.cookie))
        .status, 200);
    assert.doesNotMatch(cluster.errorLog(), /not rehashed/);
});

// A POST whose body is streamed without a Content-Length.
function chunkedPost(cluster, path, contentType, chunks) {
    return new Promise((done, fail) => {
        const req = request(cluster.url(path), { method: 'POST',
            headers: { 'Content-Type': contentType,
                       'Transfer-Encoding': 'chunked' } }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { text += d; });
            res.on('end', () => {
                let json;
                try { json = JSON.parse(text); } catch { json = undefined; }
                done({ status: res.statusCode,
                       headers: new Headers(res.headers), text, json });
            });
        });
        req.on('error', fail);
        for (const c of chunks) {
            req.write(c);
        }
        req.end();
    });
}

test('a body is refused as the route declares: 415, 413, and 400 naming '
    + 'the field', async () => {
    const cluster = await ready();
    const good = JSON.stringify({ email: PAT.email, password: PAT.password });

    for (const type of ['text/plain', 'application/x-www-form-urlencoded',
                        'application/jsonx']) {
        const res = await login(cluster, PAT.email, PAT.password,
                                { headers: { 'Content-Type': type } });
        const err = assertError(res, 415, 'unsupported_media_type');
        assert.match(err.message, /application\/json/);
    }
    // parameters are fine
    assert.equal((await login(cluster, PAT.email, PAT.password,
        { headers: { 'Content-Type': 'application/json; charset=utf-8' } }))
        .status, 200);

    const big = JSON.stringify({ email: PAT.email,
                                 password: 'x'.repeat(5000) });
    assertError(await login(cluster, '', '', { body: big }), 413,
                'too_large');
    assertError(await chunkedPost(cluster, '/api/v1/auth/login',
        'application/json', [big.slice(0, 2000), big.slice(2000)]), 413,
        'too_large');
    assert.equal((await chunkedPost(cluster, '/api/v1/auth/login',
        'application/json', [good.slice(0, 10), good.slice(10)])).status,
        200);

    for (const [body, field, message] of [
        ['{"email":"pat@harbor.example"}', 'password', /required/],
        ['{"email":5,"password":"x"}', 'email', /must be a string/],
        ['{"email":"a@b","password":"x","remember":true}', 'remember',
         /not a field/],
        ['{"email":"a@b","password":"x","email":"c@d"}', 'email', /twice/],
        ['{"email":"","password":"x"}', 'email', /empty/],
    ]) {
        const err = assertError(await login(cluster, '', '', { body }), 400,
                                'invalid_request');
        assert.equal(err.field, field, body);
        assert.match(err.message, message);
    }
    for (const body of ['', 'email=a', '[1]', '{"email":"a@b","password":"x"',
                        '{"email":"a\\u0000@b","password":"x"}']) {
        const err = assertError(await login(cluster, '', '', { body }), 400,
                                'invalid_request');
        assert.equal(err.field, undefined, body);
    }
});

test('failed sign-ins for one email are slowed, then refused with 429 '
    + 'and Retry-After, even with the right password', async () => {
    const cluster = await ready();
    // an account of its own: no earlier failure counts against it
    const email = 'lee@harbor.example';
    const password = 'lee has a password';
    await addUser(cluster, orgA, email, password);
    const times = [];
    const statuses = [];
    for (let i = 0; i < 4; i++) {
        const started = Date.now();
        statuses.push((await login(cluster, email, `wrong ${i}`)).status);
        times.push(Date.now() - started);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401]);
    // the third and fourth waited a second, then two
    assert.ok(times[2] >= 1000 && times[3] >= 2000, JSON.stringify(times));

    const refused = await login(cluster, email, password);
    const err = assertError(refused, 429, 'rate_limited');
    const after = Number(refused.headers.get('retry-after'));
    assert.ok(after >= 1 && after <= 60, `Retry-After ${after}`);
    assert.equal(err.retry_after, after);
    assert.equal(refused.setCookie, null);
    // the same address in another case is the same account
    assertError(await login(cluster, 'LEE@HARBOR.example', password),
                429, 'rate_limited');

    // another account from the same address still signs in
    assert.equal((await login(cluster, SAM.email, SAM.password)).status,
                 200);
});

test('failed sign-ins from one address are refused for every email',
    async () => {
        const cluster = await ready();
        let res;
        for (let i = 0; i < 20; i++) {
            res = await login(cluster, `guess${i}@harbor.example`, 'guess');
            if (res.status === 429) {
                break;
            }
            assert.equal(res.status, 401, res.text);
        }
        assertError(res, 429, 'rate_limited');
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
        assertError(await login(cluster, SAM.email, SAM.password), 429,
                    'rate_limited');
        // API tokens are not affected
        assert.equal((await api(cluster, '/api/v1/me', orgA.token)).status,
                     200);
    });

test('while an email is throttled every attempt is refused unchecked and '
    + 'charges nothing; after the wait the right password signs in and '
    + 'the failures before it are forgotten', async () => {
    // a bucket of three that leaks one every five seconds; the address
    // limit out of the way
    const quick = await startCluster({ http: [
        'inbox_login_rate 12r/m burst=3 delay=3;',
        'inbox_login_address_rate 600r/m burst=100 delay=100;'] });
    try {
        const email = 'kim@harbor.example';
        const password = 'kim remembers now';
        await addUser(quick, quick.orgs[0], email, password);

        let refused;
        const statuses = [];
        for (let i = 0; i < 8 && !refused; i++) {
            const res = await login(quick, email, `typo ${i}`);
            statuses.push(res.status);
            if (res.status === 429) {
                refused = res;
            }
        }
        assert.ok(refused, JSON.stringify(statuses));
        assert.ok(statuses.filter((s) => s === 401).length >= 4,
                  JSON.stringify(statuses));
        const refusedAt = Date.now();
        const wait = Number(refused.headers.get('retry-after'));
        assert.ok(wait >= 1 && wait <= 5, `Retry-After ${wait}`);

        // the right password, and a wrong one, while throttled: 429 with
        // a Retry-After that only shrinks, never 200 or 401 (unchecked),
        // and none of them pushes the end of the wait further
        for (const attempt of [password, 'wrong', password, password]) {
            const res = await login(quick, email, attempt);
            assertError(res, 429, 'rate_limited');
            assert.equal(res.setCookie, null);
            assert.ok(Number(res.headers.get('retry-after')) <= wait);
            await sleep(200);
        }

        // once the first wait is over, the right password signs in
        await sleep(Math.max(0, refusedAt + wait * 1000 - Date.now()) + 300);
        const signedIn = await login(quick, email, password);
        assert.equal(signedIn.status, 200, signedIn.text);
        assert.ok(signedIn.cookie);

        // the failures before it no longer count: three more typos are
        // answered 401, as for an email that never failed
        for (let i = 0; i < 3; i++) {
            assert.equal((await login(quick, email, `new typo ${i}`)).status,
                         401);
        }
    } finally {
        await quick.stop();
        quick.cleanup();
    }
});

// A sign-in POSTed from the local address from; resolves with the status.
function loginFrom(cluster, from, email, password) {
    const url = new URL(cluster.url('/api/v1/auth/login'));
    return new Promise((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port,
            path: url.pathname, method: 'POST', localAddress: from,
            headers: { 'Content-Type': 'application/json' } },
        (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ email, password }));
    });
}

// count sign-ins, each for a new email, from address from, a few at a
// time; resolves with how many got each status.
async function flood(cluster, from, count) {
    const seen = {};
    for (let i = 0; i < count; i += 8) {
        const batch = [];
        for (let j = i; j < Math.min(count, i + 8); j++) {
            batch.push(loginFrom(cluster, from,
                                 `junk-${j}@flood.example`, 'junk'));
        }
        for (const status of await Promise.all(batch)) {
            seen[status] = (seen[status] ?? 0) + 1;
        }
    }
    return seen;
}

test('a flood of sign-ins for new emails from one address does not reset '
    + 'another account\'s limit', async () => {
    // the email buckets' zone at its smallest (about 190 buckets), which
    // 600 new emails would overflow
    const small = await startCluster({ http: [
        'inbox_login_rate 1r/m burst=3 delay=3 size=32k;',
        'inbox_login_address_rate 1r/m burst=5 delay=5;'] });
    try {
        const email = 'pat@harbor.example';
        await addUser(small, small.orgs[0], email, PAT.password);
        for (let i = 0; i < 4; i++) {
            assert.equal(await loginFrom(small, '127.0.0.2', email,
                                         `wrong ${i}`), 401);
        }
        assert.equal(await loginFrom(small, '127.0.0.2', email, 'wrong'),
                     429);

        // past its own limit the address is refused unchecked, and its
        // refused attempts make no email bucket to crowd the zone
        const seen = await flood(small, '127.0.0.3', 600);
        assert.deepEqual(seen, { 401: 6, 429: 594 });

        // the account is still refused, from a fresh address too
        assert.equal(await loginFrom(small, '127.0.0.4', email, 'wrong'),
                     429);
        assert.equal(await loginFrom(small, '127.0.0.4', email,
                                     PAT.password), 429);
    } finally {
        await small.stop();
        small.cleanup();
    }
});

test('on a dual-stack listener each IPv4 client has its own address '
    + 'bucket', async () => {
    // IPv4 clients arrive as ::ffff:a.b.c.d, all in one IPv6 /64
    const dual = await startCluster({ dualStack: true, http: [
        'inbox_login_address_rate 1r/m burst=3 delay=3;'] });
    try {
        await addUser(dual, dual.orgs[0], PAT.email, PAT.password);
        assert.deepEqual(await flood(dual, '127.0.0.2', 8),
                         { 401: 4, 429: 4 });

        // another IPv4 client signs in; the guessing one is still refused
        assert.equal(await loginFrom(dual, '127.0.0.3', PAT.email,
                                     PAT.password), 200);
        assert.equal(await loginFrom(dual, '127.0.0.2', PAT.email,
                                     PAT.password), 429);
    } finally {
        await dual.stop();
        dual.cleanup();
    }
});

test('behind an https public URL the cookie is Secure, with the __Host- '
    + 'prefix', async () => {
    const secure = await startCluster({ publicUrl:
                                        'https://inbox.example.test' });
    try {
        await addUser(secure, secure.orgs[0], PAT.email, PAT.password);
        const res = await login(secure, PAT.email, PAT.password);
        assert.equal(res.status, 200, res.text);
        assert.match(res.cookie, /^__Host-inbox_session=/);
        const attrs = cookieAttributes(res.setCookie);
        for (const a of ['secure', 'httponly', 'samesite=lax', 'path=/']) {
            assert.ok(attrs.includes(a), `${a} in ${res.setCookie}`);
        }
        assert.equal((await sessionApi(secure, '/api/v1/me', res.cookie))
            .status, 200);
        // the plain name is not read there
        const plain = res.cookie.replace('__Host-', '');
        assertError(await sessionApi(secure, '/api/v1/me', plain), 401,
                    'unauthenticated');
    } finally {
        await secure.stop();
        secure.cleanup();
    }
});

errorLogIsCleanTest(ctx);
