// The Settings view's Team section in Debian's Chromium: a billing
// contact adds someone with a first password (who then signs in), sees
// a bad field refused next to it, changes a role with the row's "Change
// role" button (arrowing through the list's choices stores nothing; the
// change is said, and focus stays on the list; the last billing
// contact's refusal shown and the row put back), and removes a user
// after a confirmation (read out with what it does; the user's browser
// is signed out at once, by its WebSocket closing), gives a colleague who
// forgot theirs a new password (their browser signed out too); a
// colleague's changes
// show without a reload (in a billing contact's role lists too), even
// those made while live updates were down past what the server keeps;
// changing one's own role asks first (Cancel keeps it) and reloads the
// page as the new role; a member sees the team but no controls.  One's
// own role list gone while it has the focus (one became the only
// billing contact) leaves the focus on the row's role.  At 390 px
// nothing scrolls sideways.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { dialogsSaid, noPageErrorsTest, signIn, useBrowser }
         from '../lib/browser.mjs';
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

const roleOf = (page, email) => page.getByLabel(`Role of ${email}`,
    { exact: true });

// The role chosen in a row's list, stored with its "Change role" button
// (and, for one's own row, its question answered).
async function changeRole(page, email, role) {
    await roleOf(page, email).selectOption(role);
    await page.getByRole('button', { name: `Change role of ${email}` })
        .click();
}

// The PATCHes a page sends from now on.
function patchesOf(page) {
    const sent = [];
    page.on('request', (req) => {
        if (req.method() === 'PATCH') {
            sent.push(`${req.url()} ${req.postData()}`);
        }
    });
    return sent;
}

const focusedLabel = (page) => page.evaluate(() =>
    document.activeElement.getAttribute('aria-label'));

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

test('arrowing through a role\'s choices stores nothing; "Change role" '
     + 'stores it, says so and leaves focus on the list', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        const patches = patchesOf(page);
        const role = roleOf(page, MAX.email);
        const change = page.getByRole('button',
            { name: `Change role of ${MAX.email}` });

        // Chromium changes a closed list's value at each arrow key
        await role.focus();
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('ArrowUp');
        await page.keyboard.press('ArrowDown');
        await page.waitForTimeout(500);
        assert.deepEqual(patches, [], 'a role was sent');
        assert.equal((await teamNow())[MAX.email], 'member');
        assert.equal(await role.inputValue(), 'billing');
        assert.equal(await change.isDisabled(), false);

        await page.keyboard.press('Tab');
        assert.equal(await focusedLabel(page),
            `Change role of ${MAX.email}`);
        await page.keyboard.press('Enter');
        await page.locator('#team-status',
            { hasText: `${MAX.email} is now a billing contact.` }).waitFor();
        assert.equal((await teamNow())[MAX.email], 'billing');
        assert.equal(patches.length, 1);
        await change.and(page.locator(':disabled')).waitFor();
        // the list drawn again by the change's event keeps it too
        await page.waitForTimeout(500);
        assert.equal(await focusedLabel(page), `Role of ${MAX.email}`);
        assert.equal(await role.inputValue(), 'billing');

        // and back, by the keyboard alone
        await page.keyboard.press('ArrowUp');
        await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        await page.locator('#team-status',
            { hasText: `${MAX.email} is now a member.` }).waitFor();
        assert.equal((await teamNow())[MAX.email], 'member');
    } finally {
        await page.context().close();
    }
});

test('the only billing contact is offered neither a role change nor '
     + 'Remove on their own row, and is told why; a second billing '
     + 'contact brings both', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        const mine = rowOf(page, BEA.email);
        await mine.getByText('You are the only billing contact: make '
            + 'someone else one before you step down or leave.').waitFor();
        assert.equal(await mine.locator('.team-role').textContent(),
            'Billing contact');
        assert.equal(await roleOf(page, BEA.email).count(), 0);
        assert.equal(await page.getByRole('button',
            { name: `Remove ${BEA.email}` }).count(), 0);
        /* a colleague's row keeps its controls */
        await roleOf(page, MAX.email).waitFor();
        await page.getByRole('button', { name: `Remove ${MAX.email}` })
            .waitFor();

        /* made a billing contact elsewhere: both come, the reason goes */
        const res = await api(ctx.cluster, '/api/v1/users', org().token);
        const max = res.json.items.find((u) => u.email === MAX.email);
        const bea = (await login(ctx.cluster, BEA.email, BEA.password))
            .cookie;
        await page.locator('#conn[data-state="live"]').waitFor();
        const made = await sessionApi(ctx.cluster, `/api/v1/users/${max.id}`,
            bea, { method: 'PATCH', body: { role: 'billing' } });
        assert.equal(made.status, 200, made.text);
        try {
            await roleOf(page, BEA.email).waitFor();
            await page.getByRole('button', { name: `Remove ${BEA.email}` })
                .waitFor();
            assert.equal(await mine.locator('.team-why').count(), 0);
        } finally {
            const back = await sessionApi(ctx.cluster,
                `/api/v1/users/${max.id}`, bea,
                { method: 'PATCH', body: { role: 'member' } });
            assert.equal(back.status, 200, back.text);
        }
        await mine.locator('.team-why').waitFor();
        assert.equal(await roleOf(page, BEA.email).count(), 0);
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

test('a colleague who forgot theirs gets a new password from "New '
     + 'password…": a short one is refused in the dialog, their browser is '
     + 'signed out, they sign in with the new one; one\'s own row has none',
async () => {
    const DEE = { email: 'dee@harbor.example', password: 'dee forgot it 1' };
    const deeId = await addUser(ctx.cluster, org(), DEE.email, DEE.password);
    const dee = await web.newPage({ width: 1200, height: 800 });
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await signIn(dee, ctx.cluster, DEE);
        await openTeam(page, BEA);
        await rowOf(page, DEE.email).waitFor();
        assert.equal(await page.getByRole('button',
            { name: `New password for ${BEA.email}` }).count(), 0);

        const open = page.getByRole('button',
            { name: `New password for ${DEE.email}` });
        await open.click();
        const dialog = page.getByRole('dialog',
            { name: 'Give a new password' });
        await dialog.waitFor();
        const field = dialog.getByLabel('Their new password');
        assert.equal(await page.evaluate(() => document.activeElement.id),
                     'team-new-password');
        assert.match(await dialog.textContent(),
                     /signed out everywhere and sign in with the password/);
        await field.fill('short');
        await dialog.getByRole('button', { name: 'Set password' }).click();
        await page.locator('#team-password-error:not(:empty)').waitFor();
        assert.equal(await field.getAttribute('aria-invalid'), 'true');
        assert.equal(await dialog.isVisible(), true);

        await field.fill('dee starts over 2');
        await dialog.getByRole('button', { name: 'Set password' }).click();
        await dialog.waitFor({ state: 'hidden' });
        await page.locator('#team-status', { hasText:
            `${DEE.email} signs in with the new password now.` }).waitFor();
        assert.equal(await focusedLabel(page), `New password for ${DEE.email}`);

        // Dee's browser is back at signing in; the new password is theirs
        await dee.getByText('Your session has ended').waitFor();
        assert.equal((await login(ctx.cluster, DEE.email, DEE.password))
            .status, 401);
        assert.equal((await login(ctx.cluster, DEE.email,
                                  'dee starts over 2')).status, 200);

        // Escape sets nothing, and what was typed is gone
        await open.click();
        await field.fill('never sent 1234');
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
        await open.click();
        assert.equal(await field.inputValue(), '');
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await dialog.waitFor({ state: 'hidden' });
        assert.equal((await login(ctx.cluster, DEE.email,
                                  'dee starts over 2')).status, 200);
    } finally {
        await dee.context().close();
        await page.context().close();
        /* the team as the tests after this one know it */
        const bea = (await login(ctx.cluster, BEA.email, BEA.password))
            .cookie;
        assert.equal((await sessionApi(ctx.cluster, `/api/v1/users/${deeId}`,
                                       bea, { method: 'DELETE' })).status,
                     204);
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
        await roleOf(page, BEA.email).waitFor();
        assert.equal(await page.locator('#team-form').isVisible(), true);
        assert.equal((await setMax('member')).status, 200);
        await page.getByText('Only a billing contact can change the team.')
            .waitFor();
        assert.equal(await page.locator('#team-list select').count(), 0);
    } finally {
        await page.context().close();
    }
});

// Sets Max's role as Bea, signed in elsewhere (another session).
async function maxRoleSetElsewhere() {
    const maxId = (await api(ctx.cluster, '/api/v1/users', org().token))
        .json.items.find((u) => u.email === MAX.email).id;
    const elsewhere = (await login(ctx.cluster, BEA.email, BEA.password))
        .cookie;
    return (role) => sessionApi(ctx.cluster, `/api/v1/users/${maxId}`,
        elsewhere, { method: 'PATCH', body: { role } });
}

test('a role changed elsewhere shows in a billing contact\'s open team, '
    + 'with nothing left to store', async () => {
    const setMax = await maxRoleSetElsewhere();
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        await page.locator('#conn[data-state="live"]').waitFor();
        assert.equal(await roleOf(page, MAX.email).inputValue(), 'member');

        assert.equal((await setMax('billing')).status, 200);
        await page.waitForFunction((email) => document.querySelector(
            `select[aria-label="Role of ${email}"]`)?.value === 'billing',
            MAX.email);
        assert.equal(await page.getByRole('button',
            { name: `Change role of ${MAX.email}` }).isDisabled(), true);
    } finally {
        assert.equal((await setMax('member')).status, 200);
        await page.context().close();
    }
});

test('one\'s own role list gone while it has the focus (one became the '
    + 'only billing contact live): the focus goes to the row\'s role, and '
    + 'nothing more is said', async () => {
    const setMax = await maxRoleSetElsewhere();
    assert.equal((await setMax('billing')).status, 200);
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        await page.locator('#conn[data-state="live"]').waitFor();
        await roleOf(page, BEA.email).focus();
        const status = await page.locator('#team-status').textContent();

        assert.equal((await setMax('member')).status, 200);
        await rowOf(page, BEA.email).getByText('You are the only billing '
            + 'contact').waitFor();
        assert.deepEqual(await page.evaluate(() => {
            const el = document.activeElement;
            return [el.tagName, el.className, el.textContent,
                    el.closest('li')?.querySelector('.team-email')
                        ?.textContent];
        }), ['SPAN', 'team-role', 'Billing contact', `${BEA.email} (you)`]);
        assert.equal(await page.locator('#team-status').textContent(),
                     status);
    } finally {
        await setMax('member');
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
        assert.equal(await page.locator('.team-password').count(), 0);
        assert.equal(await page.locator('#team-form').isVisible(), false);
    } finally {
        await page.context().close();
    }
});

test('changing one\'s own role asks first, and Cancel keeps it',
    async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        await changeRole(page, MAX.email, 'billing');
        await page.locator('#team-status',
            { hasText: `${MAX.email} is now a billing contact.` }).waitFor();

        const patches = patchesOf(page);
        const mine = roleOf(page, BEA.email);
        await mine.focus();
        await page.keyboard.press('ArrowUp');
        assert.equal(await mine.inputValue(), 'member');
        await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        const dialog = page.getByRole('dialog',
            { name: 'Change your own role?' });
        await dialog.waitFor();
        const [said] = await dialogsSaid(page);
        assert.equal(said.name, 'Change your own role?');
        assert.match(said.description, /^You will be a member: /);
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await dialog.waitFor({ state: 'hidden' });

        // the list has focus again, showing the stored role
        await mine.and(page.locator(':focus')).waitFor();
        assert.equal(await mine.inputValue(), 'billing');
        assert.equal(await page.getByRole('button',
            { name: `Change role of ${BEA.email}` }).isDisabled(), true);
        await page.waitForTimeout(300);
        assert.deepEqual(patches, []);
        assert.equal((await teamNow())[BEA.email], 'billing');

        // Esc is a Cancel too
        await mine.selectOption('member');
        await page.getByRole('button', { name: `Change role of ${BEA.email}` })
            .click();
        await dialog.waitFor();
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
        await mine.and(page.locator(':focus')).waitFor();
        assert.equal(await mine.inputValue(), 'billing');
        assert.deepEqual(patches, []);
    } finally {
        await page.context().close();
    }
});

test('the removal\'s question is read out with what it does', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        await page.getByRole('button', { name: `Remove ${MAX.email}` })
            .click();
        const dialog = page.getByRole('dialog',
            { name: 'Remove from the team?' });
        await dialog.waitFor();
        assert.deepEqual(await dialogsSaid(page), [{
            name: 'Remove from the team?',
            description: `${MAX.email} will be signed out everywhere and can `
                + 'no longer sign in. What they did stays.' }]);
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await dialog.waitFor({ state: 'hidden' });

        /* one's own removal (Max is a billing contact too now) speaks to
         * the one who reads it */
        await page.getByRole('button', { name: `Remove ${BEA.email}` })
            .click();
        await dialog.waitFor();
        assert.deepEqual(await dialogsSaid(page), [{
            name: 'Remove from the team?',
            description: 'You will be signed out everywhere and can no '
                + 'longer sign in. What you did stays.' }]);
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await dialog.waitFor({ state: 'hidden' });
        assert.equal((await teamNow())[BEA.email], 'billing');
    } finally {
        await page.context().close();
    }
});

test('stepping down to member reloads the page as a member', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openTeam(page, BEA);
        await changeRole(page, BEA.email, 'member');
        await page.getByRole('dialog', { name: 'Change your own role?' })
            .getByRole('button', { name: 'Change my role' }).click();
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

// An email or password field is drawn as every other field of the
// Settings view: its label above it, as wide as its form, with the
// forms' padding (not the browser's bare box beside its label).
test('the team\'s and the password\'s fields are laid out as the other '
     + 'fields: a label above a field as wide as its form', async () => {
    const page = await web.newPage({ width: 390, height: 800 });
    try {
        /* whichever is a billing contact by now (run alone: BEA) */
        const team = await teamNow();
        await openTeam(page, [BEA, MAX].find((u) =>
            team[u.email] === 'billing'));
        await page.locator('#team-form').waitFor();
        const fields = ['team-email', 'team-password', 'password-current',
                        'password-new', 'settings-business'];
        const laid = await page.evaluate((ids) => ids.map((id) => {
            const input = document.getElementById(id);
            const label = document.querySelector(`label[for="${id}"]`);
            const form = input.closest('form');
            const f = input.getBoundingClientRect();
            const l = label.getBoundingClientRect();
            const style = getComputedStyle(form);
            const inner = form.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return { id: id,
                     labelAbove: l.bottom <= f.top + 1,
                     full: Math.abs(f.width - inner) < 2,
                     padding: getComputedStyle(input).paddingLeft };
        }), fields);
        const like = laid[laid.length - 1];
        assert.deepEqual(like, { id: 'settings-business', labelAbove: true,
                                 full: true, padding: like.padding });
        for (const field of laid.slice(0, -1)) {
            assert.deepEqual(field, { id: field.id, labelAbove: true,
                                      full: true, padding: like.padding });
        }
    } finally {
        await page.context().close();
    }
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx);
