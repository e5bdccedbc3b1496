// The Settings view's Team section in Debian's Chromium: a billing
// contact adds someone with a first password (who then signs in), sees
// a bad field refused next to it, changes a role (stored; the last
// billing contact's refusal shown and the row put back), and removes a
// user after a confirmation (whose browser is signed out at once, by its
// WebSocket closing); a colleague's changes show without a reload, even
// those made while live updates were down past what the server keeps;
// changing one's own role reloads the page as the new role; a member
// sees the team but no controls.  At 390 px nothing scrolls sideways.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { noPageErrorsTest, signIn, useBrowser } from '../lib/browser.mjs';
import { sqlite3Path } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Harbor Cafe' }] });
const BEA = { email: 'bea@harbor.example', password: 'bea pays the bills' };
const MAX = { email: 'max@harbor.example', password: 'max answers texts' };
const CY = { email: 'cy@harbor.example', password: 'cy starts monday 1' };
const web = useBrowser();

const org = () => ctx.cluster.orgs[0];

async function teamNow() {
    const res = await api(ctx.cluster, '/api/v1/users', org().token);
    assert.equal(res.status, 200, res.text);
    return Object.fromEntries(res.json.items.map((u) => [u.email, u.role]));
}

async function openTeam(page, user) {
    await signIn(page, ctx.cluster, user);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Team' }).waitFor();
    await page.locator('#team-list li').first().waitFor();
}

const rowOf = (page, email) => page.locator('#team-list li',
    { hasText: email });

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), BEA.email, BEA.password, 'billing');
    await addUser(cluster, org(), MAX.email, MAX.password);
    await web.launch();
});

test('a billing contact adds someone with a first password, and they '
     + 'sign in with it', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        assert.deepEqual(await page.locator('#team-list .team-email')
            .allTextContents(), [`${BEA.email} (you)`, MAX.email]);

        await page.getByLabel('Email address').fill(CY.email);
        await page.getByLabel('First password').fill(CY.password);
        await page.getByLabel('Role', { exact: true }).selectOption('member');
        await page.getByRole('button', { name: 'Add to the team' }).click();
        await page.locator('#team-form-status',
            { hasText: `${CY.email} can sign in now.` }).waitFor();
        await rowOf(page, CY.email).waitFor();
        assert.equal(await page.getByLabel('Email address').inputValue(), '');
        assert.equal(await page.getByLabel('First password').inputValue(),
            '');
        assert.equal((await teamNow())[CY.email], 'member');
    } finally {
        await page.context().close();
    }

    const cy = await web.newPage({ width: 1200, height: 800 });
    try {
        await signIn(cy, ctx.cluster, CY);
    } finally {
        await cy.context().close();
    }
});

test('a short password and a taken address are refused next to their '
     + 'fields, and nobody is added', async () => {
    const before = await teamNow();
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        const email = page.getByLabel('Email address');
        const password = page.getByLabel('First password');
        await email.fill('dee@harbor.example');
        await password.fill('short');
        await page.getByRole('button', { name: 'Add to the team' }).click();
        await page.locator('#team-form-error:not(:empty)').waitFor();
        assert.match(await page.locator('#team-form-error').textContent(),
            /8 characters/);
        assert.equal(await password.getAttribute('aria-invalid'), 'true');

        await email.fill(MAX.email);
        await password.fill('long enough now 1');
        await page.getByRole('button', { name: 'Add to the team' }).click();
        await page.waitForFunction(() => document.getElementById(
            'team-email').getAttribute('aria-invalid') === 'true');
        assert.match(await page.locator('#team-form-error').textContent(),
            /exists already/);
        assert.equal(await password.getAttribute('aria-invalid'), null);
        assert.equal(await email.inputValue(), MAX.email);
        assert.deepEqual(await teamNow(), before);
    } finally {
        await page.context().close();
    }
});

test('a role change is stored; the last billing contact cannot step down '
     + 'and the row shows the stored role again', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        await page.getByLabel(`Role of ${MAX.email}`)
            .selectOption('billing');
        await page.waitForFunction(() => !document.querySelector(
            '#team-list select:disabled'));
        assert.equal((await teamNow())[MAX.email], 'billing');
        await page.getByLabel(`Role of ${MAX.email}`).selectOption('member');
        await page.waitForFunction(() => !document.querySelector(
            '#team-list select:disabled'));
        assert.equal((await teamNow())[MAX.email], 'member');

        const mine = page.getByLabel(`Role of ${BEA.email}`);
        await mine.selectOption('member');
        await page.locator('#team-error:not(:empty)').waitFor();
        assert.match(await page.locator('#team-error').textContent(),
            /at least one billing contact/);
        assert.equal(await mine.inputValue(), 'billing');
        assert.equal((await teamNow())[BEA.email], 'billing');
    } finally {
        await page.context().close();
    }
});

test('a removed user is signed out at once; the confirmation can be '
     + 'cancelled', async () => {
    const cy = await web.newPage({ width: 1200, height: 800 });
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await signIn(cy, ctx.cluster, CY);
        await openTeam(page, BEA);

        const remove = page.getByRole('button',
            { name: `Remove ${CY.email}` });
        await remove.click();
        const dialog = page.getByRole('dialog',
            { name: 'Remove from the team?' });
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await dialog.waitFor({ state: 'hidden' });
        assert.equal((await teamNow())[CY.email], 'member');

        await remove.click();
        await dialog.getByRole('button', { name: 'Remove' }).click();
        await rowOf(page, CY.email).waitFor({ state: 'detached' });
        assert.equal((await teamNow())[CY.email], undefined);

        // Cy's browser, left alone, is back at signing in: its socket
        // was closed and its session no longer gets a ticket
        await cy.getByLabel('Password', { exact: true }).waitFor();
        await cy.getByText('Your session has ended').waitFor();
        assert.equal(await cy.locator('#app').isVisible(), false);
    } finally {
        await cy.context().close();
        await page.context().close();
    }
});

test('a colleague\'s changes to the team show at once', async () => {
    const bea = (await login(ctx.cluster, BEA.email, BEA.password)).cookie;
    const maxId = (await api(ctx.cluster, '/api/v1/users', org().token))
        .json.items.find((u) => u.email === MAX.email).id;
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, MAX);
        await page.locator('#conn[data-state="live"]').waitFor();

        const added = await sessionApi(ctx.cluster, '/api/v1/users', bea,
            { method: 'POST', body: { email: 'dot@harbor.example',
                                      role: 'member',
                                      password: 'dot joins today 5' } });
        assert.equal(added.status, 201, added.text);
        await rowOf(page, 'dot@harbor.example').waitFor();

        const changed = await sessionApi(ctx.cluster,
            `/api/v1/users/${added.json.id}`, bea,
            { method: 'PATCH', body: { role: 'billing' } });
        assert.equal(changed.status, 200, changed.text);
        await rowOf(page, 'dot@harbor.example')
            .getByText('Billing contact').waitFor();

        const removed = await sessionApi(ctx.cluster,
            `/api/v1/users/${added.json.id}`, bea, { method: 'DELETE' });
        assert.equal(removed.status, 204, removed.text);
        await rowOf(page, 'dot@harbor.example')
            .waitFor({ state: 'detached' });

        // Max's own role changed elsewhere: the page reads it again
        const setMax = (role) => sessionApi(ctx.cluster,
            `/api/v1/users/${maxId}`, bea, { method: 'PATCH', body: { role } });
        assert.equal((await setMax('billing')).status, 200);
        await page.getByLabel(`Role of ${BEA.email}`).waitFor();
        assert.equal(await page.locator('#team-form').isVisible(), true);
        assert.equal((await setMax('member')).status, 200);
        await page.getByText('Only a billing contact can change the team.')
            .waitFor();
        assert.equal(await page.locator('#team-list select').count(), 0);
    } finally {
        await page.context().close();
    }
});

test('a user added while live updates were down longer than the server '
    + 'keeps them shows once they are back', async () => {
    const bea = (await login(ctx.cluster, BEA.email, BEA.password)).cookie;
    const page = await web.newPage({ width: 1200, height: 800 });
    let eve = null;
    try {
        await openTeam(page, MAX);
        await page.locator('#conn[data-state="live"]').waitFor();

        await ctx.cluster.stopWs();
        try {
            await page.locator('#conn[data-state="reconnecting"]').waitFor();
            const added = await sessionApi(ctx.cluster, '/api/v1/users', bea,
                { method: 'POST', body: { email: 'eve@harbor.example',
                                          role: 'member',
                                          password: 'eve joins today 6' } });
            assert.equal(added.status, 201, added.text);
            eve = added.json.id;
            // its event is gone: the page's resume gets a reset
            await promisify(execFile)(sqlite3Path, ['-cmd', '.timeout 5000',
                ctx.cluster.storePath,
                `DELETE FROM events WHERE org_id = ${org().id}`]);
        } finally {
            await ctx.cluster.startWs();
        }
        await page.locator('#conn[data-state="live"]')
            .waitFor({ timeout: 30000 });
        await rowOf(page, 'eve@harbor.example').waitFor();
    } finally {
        await page.context().close();
        if (eve !== null) {
            await sessionApi(ctx.cluster, `/api/v1/users/${eve}`, bea,
                             { method: 'DELETE' });
        }
    }
});

test('a member sees the team with no way to change it', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, MAX);
        await page.getByText('Only a billing contact can change the team.')
            .waitFor();
        assert.deepEqual(await page.locator('#team-list .team-role')
            .allTextContents(), ['Billing contact', 'Member']);
        assert.equal(await page.locator('#team-list select').count(), 0);
        assert.equal(await page.locator('.team-remove').count(), 0);
        assert.equal(await page.locator('#team-form').isVisible(), false);
    } finally {
        await page.context().close();
    }
});

test('stepping down to member reloads the page as a member', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        await page.getByLabel(`Role of ${MAX.email}`)
            .selectOption('billing');
        await page.waitForFunction(() => !document.querySelector(
            '#team-list select:disabled'));
        await page.getByLabel(`Role of ${BEA.email}`)
            .selectOption('member');
        await page.getByText('Only a billing contact can change the team.')
            .waitFor();
        assert.equal(await page.locator('#team-list select').count(), 0);
        assert.deepEqual(await teamNow(),
            { [BEA.email]: 'member', [MAX.email]: 'billing' });
    } finally {
        await page.context().close();
    }
});

test('at 390 px the team and its controls fit the screen', async () => {
    const page = await web.newPage({ width: 390, height: 800 });
    try {
        await openTeam(page, MAX);   /* a billing contact by now */
        await page.locator('#team-list select').first().waitFor();
        await page.getByRole('heading', { name: 'Team' })
            .scrollIntoViewIfNeeded();
        const wide = await page.evaluate(() =>
            document.documentElement.scrollWidth
            > document.documentElement.clientWidth);
        assert.equal(wide, false, 'the page scrolls sideways');
    } finally {
        await page.context().close();
    }
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx);
