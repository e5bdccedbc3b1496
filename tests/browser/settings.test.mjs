// The Settings view in Debian's Chromium: a billing contact changes the
// business name, the time zone and the quiet hours (stored, and the form
// shows them after a reload) and picks the country of numbers written
// without a country code from the server's list, sees the server's
// refusal of an unknown time zone next to the field with nothing stored,
// and reads the billing
// figures and the ledger of every change of the credits; a member sees
// the same settings and figures but can change nothing and gets no
// ledger; anyone changes their own password.  At 390 px nothing scrolls
// sideways.  A delivered reply reads as one credit spent, not two.  A
// billing contact whose browser is in another zone is offered it.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, signIn, useBrowser } from '../lib/browser.mjs';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, postWebhook, storeOp } from '../lib/inbox.mjs';
import { addUser, login } from '../lib/session.mjs';

// the default quiet hours, which Settings first shows (null: not the
// fixture's)
const ctx = useCluster({ orgs: [{ name: 'Harbor Cafe', quietHours: null }] });
const BEA = { email: 'bea@harbor.example', password: 'bea pays the bills' };
// the organization's (a contact's panel has one too)
const zoneField = (page) => page.locator('#settings-form')
    .getByLabel('Time zone');
const MAX = { email: 'max@harbor.example', password: 'max answers texts' };
const web = useBrowser();

const org = () => ctx.cluster.orgs[0];

async function settingsNow() {
    const res = await api(ctx.cluster, '/api/v1/settings', org().token);
    assert.equal(res.status, 200, res.text);
    return res.json;
}

async function openSettings(page, user) {
    await signIn(page, ctx.cluster, user);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.locator('[data-billing="balance"]').waitFor();
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), BEA.email, BEA.password, 'billing');
    await addUser(cluster, org(), MAX.email, MAX.password);
    await inboxctl(cluster.store, 'credits', 'grant', org().id, '25');
    await web.launch();
});

test('a billing contact changes the business name, the time zone and the '
     + 'quiet hours; they are stored and shown again after a reload',
async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openSettings(page, BEA);
        const business = page.getByLabel('Business name');
        assert.equal(await business.inputValue(), 'Harbor Cafe');
        assert.equal(await zoneField(page).inputValue(), 'UTC');
        assert.equal(await page.getByLabel('From', { exact: true })
            .inputValue(), '21:00');
        assert.equal(await page.getByLabel('until', { exact: true })
            .inputValue(), '08:00');

        await business.fill('Harbor Cafe & Bakery');
        await page.getByLabel('Support contact').fill('hello@harbor.example');
        await zoneField(page).fill('America/New_York');
        await page.getByLabel('From', { exact: true }).fill('22:00');
        await page.getByLabel('until', { exact: true }).fill('07:30');
        await page.getByRole('button', { name: 'Save changes' }).click();
        await page.locator('#settings-status', { hasText: 'Saved.' })
            .waitFor();
        // Save kept the focus while it worked: not dropped to the page
        assert.equal(await page.evaluate(() => document.activeElement.id),
                     'settings-save');

        const { countries, ...saved } = await settingsNow();
        assert.ok(countries.includes('US'));
        assert.deepEqual(saved, {
            timezone: 'America/New_York',
            quiet_hours: { start: '22:00', end: '07:30' },
            business_name: 'Harbor Cafe & Bakery',
            support_contact: 'hello@harbor.example',
            default_country: null,
        });

        await page.reload();
        await page.locator('#conn[data-state="live"]').waitFor();
        await page.waitForFunction(() => document.getElementById(
            'settings-timezone').value === 'America/New_York');
        assert.equal(await page.getByLabel('From', { exact: true })
            .inputValue(), '22:00');
        assert.equal(await page.getByLabel('Support contact').inputValue(),
            'hello@harbor.example');
    } finally {
        await page.context().close();
    }
});

test('a billing contact picks the country of numbers written without a '
     + 'country code from the server\'s list; none is the server\'s default',
async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openSettings(page, BEA);
        const country = page.getByLabel('Country of phone numbers');
        assert.equal(await country.inputValue(), '');
        const offered = await country.locator('option')
            .evaluateAll((os) => os.map((o) => o.value));
        assert.deepEqual(offered, ['', ...(await settingsNow()).countries]);
        assert.match(await country.locator('option[value="GB"]')
            .textContent(), /\(GB\)$/);

        await country.selectOption('GB');
        await page.getByRole('button', { name: 'Save changes' }).click();
        await page.locator('#settings-status', { hasText: 'Saved.' })
            .waitFor();
        assert.equal((await settingsNow()).default_country, 'GB');

        await page.reload();
        await page.locator('#conn[data-state="live"]').waitFor();
        await page.waitForFunction(() => document.getElementById(
            'settings-country').value === 'GB');

        await country.selectOption('');
        await page.getByRole('button', { name: 'Save changes' }).click();
        await page.locator('#settings-status', { hasText: 'Saved.' })
            .waitFor();
        assert.equal((await settingsNow()).default_country, null);
    } finally {
        await page.context().close();
    }
});

test('an unknown time zone is refused next to its field, what was typed '
     + 'stays and nothing is stored', async () => {
    const before = await settingsNow();
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openSettings(page, BEA);
        const zone = zoneField(page);
        await zone.fill('Mars/Olympus_Mons');
        await page.getByLabel('From', { exact: true }).fill('20:00');
        await page.getByRole('button', { name: 'Save changes' }).click();
        await page.locator('#settings-error:not(:empty)').waitFor();
        assert.match(await page.locator('#settings-error').textContent(),
            /time ?zone/i);
        assert.equal(await zone.getAttribute('aria-invalid'), 'true');
        assert.equal(await zone.inputValue(), 'Mars/Olympus_Mons');
        assert.deepEqual(await settingsNow(), before);
    } finally {
        await page.context().close();
    }
});

test('billing shows the plan, the balance and every change of the '
     + 'credits to a billing contact', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openSettings(page, BEA);
        const figure = (key) => page.locator(`[data-billing="${key}"]`)
            .textContent();
        assert.match(await figure('plan'), /^Per message/);
        assert.equal(await figure('active'), 'Active');
        assert.equal(await figure('balance'), '25');
        assert.equal(await figure('held'), '0');
        const grant = page.locator('#ledger-rows tr[data-kind="grant"]');
        await grant.waitFor();
        assert.deepEqual((await grant.locator('td').allTextContents())
            .slice(1), ['Credits added', '+25', '25', '0']);
    } finally {
        await page.context().close();
    }
});

test('a member sees the settings and the figures but can change nothing '
     + 'and gets no ledger', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openSettings(page, MAX);
        await page.getByText('Only a billing contact can change these.')
            .waitFor();
        assert.equal(await page.getByLabel('Business name').isDisabled(),
            true);
        assert.equal(await page.getByLabel('From', { exact: true })
            .isDisabled(), true);
        assert.equal(await page.getByLabel('Country of phone numbers')
            .isDisabled(), true);
        assert.equal(await page.getByRole('button',
            { name: 'Save changes' }).isVisible(), false);
        assert.equal(await page.locator('[data-billing="balance"]')
            .textContent(), '25');
        assert.equal(await page.locator('#ledger').isVisible(), false);
        assert.equal(await page.locator('#ledger-title').isVisible(), false);
    } finally {
        await page.context().close();
    }
});

test('at 390 px the Settings view fits the screen', async () => {
    const page = await web.newPage({ width: 390, height: 800 });
    try {
        await openSettings(page, BEA);
        await page.locator('#ledger-rows tr').first().waitFor();
        const wide = await page.evaluate(() =>
            document.documentElement.scrollWidth
            > document.documentElement.clientWidth);
        assert.equal(wide, false, 'the page scrolls sideways');
    } finally {
        await page.context().close();
    }
});

test('anyone changes their own password: a wrong current one is refused '
     + 'next to it, then this browser stays signed in', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openSettings(page, MAX);
        const current = page.getByLabel('Current password');
        const next = page.getByLabel('New password', { exact: true });
        await current.fill('not my password');
        await next.fill('max has a new one 2');
        await page.getByRole('button', { name: 'Change password' }).click();
        await page.locator('#password-error:not(:empty)').waitFor();
        assert.match(await page.locator('#password-error').textContent(),
            /current password is not right/);
        assert.equal(await current.getAttribute('aria-invalid'), 'true');

        await page.locator('#conn[data-state="live"]').waitFor();
        await current.fill(MAX.password);
        await page.getByRole('button', { name: 'Change password' }).click();
        await page.locator('#password-status',
            { hasText: 'Your password is changed.' }).waitFor();
        assert.equal(await current.inputValue(), '');
        assert.equal(await current.getAttribute('aria-invalid'), null);

        // every socket of the user was closed; this browser's opens again
        // in its new session, with no sign-in
        await page.locator('#conn[data-state="reconnecting"]').waitFor();
        await page.locator('#conn[data-state="live"]').waitFor();
        assert.equal(await page.locator('#signin').isVisible(), false);

        // the new session cookie keeps this browser signed in
        await page.reload();
        await page.locator('#conn[data-state="live"]').waitFor();
        assert.equal((await login(ctx.cluster, MAX.email, MAX.password))
            .status, 401);
        assert.equal((await login(ctx.cluster, MAX.email,
            'max has a new one 2')).status, 200);
    } finally {
        await page.context().close();
    }
});

test('a delivered reply shows in the ledger as one credit held, then spent '
     + 'from what was held: never as two credits', async () => {
    const cluster = ctx.cluster;
    const contact = '+12125550187';
    await deliverInbound(cluster, { org: org(), from: contact,
                                    body: 'are you open?' });
    const list = await api(cluster, '/api/v1/conversations', org().token);
    const conv = list.json.items.find((c) => c.contact.phone === contact);
    const sid = 'SM' + 'd'.repeat(32);
    await storeOp(cluster, 'reply-sent', org().id, conv.id, 'Until 6', sid);
    const delivered = [
        ['SmsSid', sid], ['SmsStatus', 'delivered'],
        ['MessageStatus', 'delivered'], ['To', contact],
        ['MessageSid', sid], ['AccountSid', org().accountSid],
        ['From', org().number], ['ApiVersion', '2010-04-01'],
    ];
    const res = await postWebhook(cluster, delivered, {
        authToken: org().authToken, path: '/webhooks/twilio/status' });
    assert.equal(res.status, 200, res.text);

    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openSettings(page, BEA);
        const row = (kind) => page.locator(
            `#ledger-rows tr[data-kind="${kind}"]`).locator('td')
            .allTextContents();
        await page.locator('#ledger-rows tr[data-kind="capture"]').waitFor();
        assert.deepEqual((await row('hold')).slice(1),
            ['Held for a message to +1 (212) 555-0187', '\u22121', '24',
             '1']);
        assert.deepEqual((await row('capture')).slice(1),
            ['Spent what was held for a message to +1 (212) 555-0187',
             '\u22121 held', '24', '0']);
        assert.equal(await page.locator('[data-billing="balance"]')
            .textContent(), '24');
    } finally {
        await page.context().close();
    }
});

test('a billing contact whose browser is in another time zone is offered '
     + 'it beside the field, and Use it fills it in; a member is not '
     + 'offered it', async () => {
    const chicago = { timezoneId: 'America/Chicago' };
    const page = await web.newPage({ width: 1200, height: 800 }, chicago);
    try {
        await openSettings(page, BEA);
        const offer = page.locator('#settings-timezone-local');
        await offer.filter({ hasText: 'This browser is in America/Chicago.' })
            .waitFor();
        assert.notEqual(await zoneField(page).inputValue(), 'America/Chicago');
        await offer.getByRole('button', { name: 'Use it' }).click();
        assert.equal(await zoneField(page).inputValue(), 'America/Chicago');
        assert.equal(await offer.isVisible(), false);
        await page.getByRole('button', { name: 'Save changes' }).click();
        await page.locator('#settings-status', { hasText: 'Saved.' })
            .waitFor();
        assert.equal((await settingsNow()).timezone, 'America/Chicago');
        // typing another zone offers the browser's again
        await zoneField(page).fill('Europe/Paris');
        await offer.waitFor();
    } finally {
        await page.context().close();
    }
    const KIM = { email: 'kim@harbor.example', password: 'kim reads texts' };
    await addUser(ctx.cluster, org(), KIM.email, KIM.password);
    const member = await web.newPage({ width: 1200, height: 800 },
                                     { timezoneId: 'Asia/Tokyo' });
    try {
        await openSettings(member, KIM);
        await member.getByText('Only a billing contact can change these.')
            .waitFor();
        assert.equal(await member.locator('#settings-timezone-local')
            .isVisible(), false);
    } finally {
        await member.context().close();
    }
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx);
