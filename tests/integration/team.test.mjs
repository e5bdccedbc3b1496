// The team through the real nginx: anyone of an organization lists its
// users, a billing contact adds one (who signs in with the first
// password), changes a role (at once, in sessions already open), gives a
// colleague who forgot theirs a new password (signed out everywhere) and
// removes a user (signed out everywhere, tokens revoked, free to come
// back); the organization always keeps a billing contact.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Harbor Dental' }, { name: 'Other Org' }],
});

const PAT = { email: 'pat@harbor.example', password: 'correct horse 42' };
const SAM = { email: 'sam@harbor.example', password: 'battery staple 7' };
const LEE = { email: 'lee@harbor.example', password: 'first password 1' };
let orgA;
let orgB;
let ids;

async function ready() {
    const cluster = await ctx.ready;
    if (!ids) {
        [orgA, orgB] = cluster.orgs;
        ids = {
            pat: await addUser(cluster, orgA, PAT.email, PAT.password,
                               'billing'),
            sam: await addUser(cluster, orgA, SAM.email, SAM.password,
                               'member'),
            zed: await addUser(cluster, orgB, 'zed@other.example',
                               'zed password 9', 'billing'),
        };
    }
    return cluster;
}

async function signIn(cluster, who) {
    const res = await login(cluster, who.email, who.password);
    assert.equal(res.status, 200, res.text);
    return res.cookie;
}

function team(cluster, cookie) {
    return sessionApi(cluster, '/api/v1/users', cookie, { csrf: false });
}

function addAs(cluster, cookie, body) {
    return sessionApi(cluster, '/api/v1/users', cookie,
                      { method: 'POST', body });
}

function setRole(cluster, cookie, id, role) {
    return sessionApi(cluster, `/api/v1/users/${id}`, cookie,
                      { method: 'PATCH', body: { role } });
}

function remove(cluster, cookie, id) {
    return sessionApi(cluster, `/api/v1/users/${id}`, cookie,
                      { method: 'DELETE' });
}

test('a billing contact adds a teammate, who signs in with the first '
    + 'password; the team is the organization\'s own', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT);

    const before = await team(cluster, pat);
    assert.equal(before.status, 200, before.text);
    assert.deepEqual(before.json.items.map((u) => [u.email, u.role]),
        [[PAT.email, 'billing'], [SAM.email, 'member']]);
    assert.equal(before.json.next_cursor, null);
    assert.ok(before.json.items.every((u) => !('password_hash' in u)
        && /^\d{4}-\d\d-\d\dT/.test(u.created_at)), before.text);

    const added = await addAs(cluster, pat, { email: 'Lee@Harbor.example',
        role: 'member', password: LEE.password });
    assert.equal(added.status, 201, added.text);
    assert.deepEqual(Object.keys(added.json).sort(),
        ['created_at', 'email', 'id', 'role']);
    assert.equal(added.json.email, LEE.email);
    assert.equal(added.json.role, 'member');
    ids.lee = added.json.id;

    const lee = await login(cluster, LEE.email, LEE.password);
    assert.equal(lee.status, 200, lee.text);
    assert.equal(lee.json.role, 'member');
    assert.equal(lee.json.organization.id, orgA.id);

    // a member sees the team too; the other organization sees its own
    const sam = await signIn(cluster, SAM);
    assert.deepEqual((await team(cluster, sam)).json.items.map((u) => u.id),
        [ids.pat, ids.sam, ids.lee]);
    const other = await api(cluster, '/api/v1/users', orgB.token);
    assert.deepEqual(other.json.items.map((u) => u.email),
        ['zed@other.example']);
    assert.doesNotMatch(cluster.errorLog(), /first password/);
});

test('a member, or an organization-wide token, cannot change the team',
    async () => {
    const cluster = await ready();
    const sam = await signIn(cluster, SAM);
    // the refusal in the product's words
    assert.equal(assertError(await addAs(cluster, sam,
        { email: 'x@harbor.example', role: 'member',
          password: 'some password 1' }), 403, 'forbidden').message,
        'Only a billing admin can do this; contact your billing admin.');
    assertError(await setRole(cluster, sam, ids.sam, 'billing'), 403,
                'forbidden');
    assertError(await remove(cluster, sam, ids.pat), 403, 'forbidden');
    assertError(await api(cluster, `/api/v1/users/${ids.pat}`, orgA.token,
                          { method: 'DELETE' }), 403, 'forbidden');
    // without the CSRF header a cookie changes nothing
    assertError(await sessionApi(cluster, '/api/v1/users',
        await signIn(cluster, PAT), { method: 'POST', csrf: false,
        body: { email: 'x@harbor.example', role: 'member',
                password: 'some password 1' } }), 403, 'forbidden');

    const me = await api(cluster, '/api/v1/users', orgA.token);
    assert.equal(me.json.items.length, 3, me.text);
    assert.equal(me.json.items.find((u) => u.id === ids.sam).role, 'member');
});

test('a new user with a bad field is refused naming it, and nothing is '
    + 'stored', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT);
    const good = { email: 'new@harbor.example', role: 'member',
                   password: 'long enough 1' };
    const cases = [
        [{ ...good, role: 'owner' }, 400, 'role'],
        [{ email: good.email, password: good.password }, 400, 'role'],
        [{ ...good, password: 'short' }, 400, 'password'],
        [{ ...good, email: 'not-an-address' }, 400, 'email'],
        [{ ...good, admin: true }, 400, 'admin'],
        [{ ...good, email: 'SAM@harbor.example' }, 409, 'email'],
        // the other organization's user: the address is taken everywhere
        [{ ...good, email: 'zed@other.example' }, 409, 'email'],
    ];
    for (const [body, status, field] of cases) {
        const error = assertError(await addAs(cluster, pat, body), status);
        assert.equal(error.field, field, JSON.stringify(body));
    }
    const after = await team(cluster, pat);
    assert.deepEqual(after.json.items.map((u) => u.email),
        [PAT.email, SAM.email, LEE.email]);
    assert.equal((await login(cluster, good.email, good.password)).status,
                 401);
});

test('a role counts at once, in sessions already open; the last billing '
    + 'contact stays one', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT);
    const sam = await signIn(cluster, SAM);
    assertError(await sessionApi(cluster, '/api/v1/billing/ledger', sam,
                                 { csrf: false }), 403, 'forbidden');

    const promoted = await setRole(cluster, pat, ids.sam, 'billing');
    assert.equal(promoted.status, 200, promoted.text);
    assert.equal(promoted.json.role, 'billing');
    assert.equal(promoted.json.email, SAM.email);
    const ledger = await sessionApi(cluster, '/api/v1/billing/ledger', sam,
                                    { csrf: false });
    assert.equal(ledger.status, 200, ledger.text);

    // Pat steps down; Sam, now the only billing contact, cannot
    assert.equal((await setRole(cluster, pat, ids.pat, 'member')).status,
                 200);
    const me = await sessionApi(cluster, '/api/v1/me', pat, { csrf: false });
    assert.equal(me.json.role, 'member');
    const last = assertError(await setRole(cluster, sam, ids.sam, 'member'),
                             409, 'conflict');
    assert.match(last.message, /at least one billing contact/);
    assertError(await remove(cluster, sam, ids.sam), 409, 'conflict');

    // ids of nobody, and of another organization's user
    assertError(await setRole(cluster, sam, ids.zed, 'member'), 404,
                'not_found');
    assertError(await setRole(cluster, sam, '999999', 'member'), 404,
                'not_found');
    assertError(await setRole(cluster, sam, 'no%20such', 'member'), 404,
                'not_found');
    const bad = assertError(await setRole(cluster, sam, ids.pat, 'owner'),
                            400, 'invalid_request');
    assert.equal(bad.field, 'role');

    // as it was, for the tests after
    assert.equal((await setRole(cluster, sam, ids.pat, 'billing')).status,
                 200);
    assert.equal((await setRole(cluster, pat, ids.sam, 'member')).status,
                 200);
    const zed = await api(cluster, '/api/v1/users', orgB.token);
    assert.equal(zed.json.items[0].role, 'billing');
});

test('a removed user is signed out everywhere, their tokens stop, and '
    + 'they may be added back', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT);
    const lee = await signIn(cluster, LEE);
    const token = (await inboxctl(cluster.store, 'token', 'create', orgA.id,
                                  '--user', LEE.email)).trim();
    assert.equal((await api(cluster, '/api/v1/me', token)).status, 200);

    const gone = await remove(cluster, pat, ids.lee);
    assert.equal(gone.status, 204, gone.text);
    assert.equal(gone.text, '');

    assertError(await sessionApi(cluster, '/api/v1/me', lee,
                                 { csrf: false }), 401, 'unauthenticated');
    assertError(await api(cluster, '/api/v1/me', token), 401,
                'unauthenticated');
    assertError(await login(cluster, LEE.email, LEE.password), 401,
                'unauthenticated');
    assert.deepEqual((await team(cluster, pat)).json.items.map((u) => u.id),
        [ids.pat, ids.sam]);
    assertError(await remove(cluster, pat, ids.lee), 404, 'not_found');

    // the only billing contact cannot go
    assertError(await remove(cluster, pat, ids.pat), 409, 'conflict');

    // back, as the same user, with a new password and role
    const back = await addAs(cluster, pat, { email: LEE.email,
        role: 'billing', password: 'second password 2' });
    assert.equal(back.status, 201, back.text);
    assert.equal(back.json.id, ids.lee);
    assert.equal(back.json.role, 'billing');
    assertError(await login(cluster, LEE.email, LEE.password), 401);
    const again = await login(cluster, LEE.email, 'second password 2');
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.role, 'billing');
    // the revoked token stays revoked
    assertError(await api(cluster, '/api/v1/me', token), 401);
});

test('a billing contact gives a colleague who forgot theirs a new '
    + 'password: their old one and every session end, the new one signs '
    + 'in; not their own (it needs the current one), not another '
    + 'organization\'s user, not by a member', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT);
    const sam = await signIn(cluster, SAM);
    const token = (await inboxctl(cluster.store, 'token', 'create', orgA.id,
                                  '--user', SAM.email)).trim();
    const reset = (cookie, id, body) => sessionApi(cluster,
        `/api/v1/users/${id}/password`, cookie, { method: 'POST', body });

    const res = await reset(pat, ids.sam, { password: 'sam starts over 1' });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');
    assertError(await sessionApi(cluster, '/api/v1/me', sam,
                                 { csrf: false }), 401, 'unauthenticated');
    assertError(await login(cluster, SAM.email, SAM.password), 401,
                'unauthenticated');
    const fresh = await login(cluster, SAM.email, 'sam starts over 1');
    assert.equal(fresh.status, 200, fresh.text);
    // an API token is no password: it goes on
    assert.equal((await api(cluster, '/api/v1/me', token)).status, 200);

    assertError(await reset(pat, ids.pat, { password: 'pat starts over 1' }),
                403, 'forbidden');
    assertError(await reset(pat, ids.zed, { password: 'zed taken over 1' }),
                404, 'not_found');
    assert.equal(assertError(await reset(pat, ids.sam, { password: 'short' }),
                             400).field, 'password');
    assert.equal(assertError(await reset(pat, ids.sam, {}), 400).field,
                 'password');
    assertError(await reset(fresh.cookie, ids.pat,
                            { password: 'sam takes over 1' }),
                403, 'forbidden');
    // the refusals changed nothing
    assert.equal((await login(cluster, PAT.email, PAT.password)).status, 200);
    assert.equal((await login(cluster, SAM.email, 'sam starts over 1'))
        .status, 200);
    assert.equal((await login(cluster, 'zed@other.example',
                              'zed password 9')).status, 200);
    assert.doesNotMatch(cluster.errorLog(), /starts over|taken over/);
});

errorLogIsCleanTest(ctx);
