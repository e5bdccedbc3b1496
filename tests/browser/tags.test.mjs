// Tags with a comma of their own, in Debian's Chromium.  A CSV import
// splits its tags on ';', so "Donor, 2024" is one tag: the web app edits
// tags as chips, never splitting one, so saving a contact keeps the tags
// the user did not touch; a tag is added on Enter (or a comma typed,
// unless it begins one of the organization's tags) and removed by its
// chip's button, by mouse or keyboard; and a campaign's audience can
// name the comma tag, typed or chosen, and counts its contact.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, signIn, useBrowser }
         from '../lib/browser.mjs';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, importContactsCsv } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Comma Tags Org' }] });
const USER = { email: 'tess@tags.example', password: 'tess tags donors' };
const web = useBrowser();
let page;

const org = () => ctx.cluster.orgs[0];
const dana = { name: 'Dana Donor', phone: uniqueNumber() };
const eli = { name: 'Eli Else', phone: uniqueNumber() };

async function call(path, opts = {}) {
    const res = await api(ctx.cluster, path, org().token, opts);
    assert.ok(res.status < 300, `${path}: ${res.status} ${res.text}`);
    return res.json;
}

async function stored(person) {
    return (await call(`/api/v1/contacts?q=${person.phone.slice(2)}`))
        .items[0];
}

const panel = () => page.getByRole('complementary', { name: 'Contact' });
const chips = () => panel().getByRole('list',
    { name: 'Tags', exact: true }).locator('.tag > span');
const tagField = () => panel().getByRole('combobox',
    { name: 'Tags', exact: true });

// The Contacts view's row of person opens its thread; then its record.
async function openPanel(person) {
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.locator('#contacts-list .contact-name',
                       { hasText: person.name }).click();
    await page.locator('#thread-title', { hasText: person.name }).waitFor();
    const button = page.getByRole('button', { name: 'Contact',
                                              exact: true });
    if (await button.getAttribute('aria-expanded') !== 'true') {
        await button.click();
    }
    await page.waitForFunction((name) =>
        document.getElementById('contact-name').value === name,
    person.name);
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), USER.email, USER.password);
    await importContactsCsv(cluster, org().token, 'phone,name,tags\n'
        + `${dana.phone},${dana.name},"Donor, 2024;VIP"\n`
        + `${eli.phone},${eli.name},Donor\n`);
    await web.launch();
    page = await web.newPage({ width: 1200, height: 800 });
    await signIn(page, cluster, USER);
});

test('a contact imported with a comma in a tag keeps its tags when its '
     + 'name is edited and saved', async () => {
    assert.deepEqual((await stored(dana)).tags, ['Donor, 2024', 'VIP']);
    await openPanel(dana);
    assert.deepEqual(await chips().allTextContents(),
                     ['Donor, 2024', 'VIP']);

    dana.name = 'Dana Giver';
    await panel().getByLabel('Name').fill(dana.name);
    await panel().getByRole('button', { name: 'Save' }).click();
    await panel().getByText('Saved.').waitFor();
    const after = await stored(dana);
    assert.equal(after.name, 'Dana Giver');
    assert.deepEqual(after.tags, ['Donor, 2024', 'VIP']);
    assert.deepEqual(await chips().allTextContents(),
                     ['Donor, 2024', 'VIP']);
});

test('tags added on Enter and with a comma, removed by their chips\' '
     + 'buttons with the mouse and the keyboard; the comma tag stays '
     + 'whole', async () => {
    await openPanel(dana);
    const field = tagField();
    await field.pressSequentially('Spring');
    await field.press('Enter');
    await field.pressSequentially('Gala,');
    assert.equal(await field.inputValue(), '');
    assert.deepEqual(await chips().allTextContents(),
                     ['Donor, 2024', 'VIP', 'Spring', 'Gala']);
    await panel().getByRole('button', { name: 'Remove tag VIP' }).click();
    assert.deepEqual(await chips().allTextContents(),
                     ['Donor, 2024', 'Spring', 'Gala']);
    // focus went to the next chip's button
    assert.equal(await page.evaluate(() =>
        document.activeElement.getAttribute('aria-label')),
    'Remove tag Spring');
    await panel().getByRole('button', { name: 'Save' }).click();
    await panel().getByText('Saved.').waitFor();
    assert.deepEqual((await stored(dana)).tags,
                     ['Donor, 2024', 'Spring', 'Gala']);

    // Backspace in the empty field reaches the last chip; Delete drops it
    await field.focus();
    await field.press('Backspace');
    assert.equal(await page.evaluate(() =>
        document.activeElement.getAttribute('aria-label')),
    'Remove tag Gala');
    await page.keyboard.press('Delete');
    assert.deepEqual(await chips().allTextContents(),
                     ['Donor, 2024', 'Spring']);
    await panel().getByRole('button', { name: 'Save' }).click();
    await panel().getByText('Saved.').waitFor();
    assert.deepEqual((await stored(dana)).tags, ['Donor, 2024', 'Spring']);
});

test('a comma typed does not cut one of the organization\'s tags: '
     + '"donor, 2024" typed on another contact is that tag', async () => {
    await openPanel(eli);
    assert.deepEqual(await chips().allTextContents(), ['Donor']);
    const field = tagField();
    await field.pressSequentially('donor, 2024');
    await field.press('Enter');
    // spelled as the organization has it
    assert.deepEqual(await chips().allTextContents(),
                     ['Donor', 'Donor, 2024']);
    await panel().getByRole('button', { name: 'Save' }).click();
    await panel().getByText('Saved.').waitFor();
    assert.deepEqual((await stored(eli)).tags, ['Donor', 'Donor, 2024']);
});

test('a campaign to a comma tag, typed as Other tags, counts that '
     + 'tag\'s contacts', async () => {
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.getByRole('button', { name: 'New campaign' }).click();
    await page.locator('#campaign-name').fill('Donor thanks');
    await page.locator('#campaign-body').fill('Thank you for 2024!');
    const form = page.locator('#campaign-form');
    const box = form.getByRole('checkbox', { name: 'Donor, 2024' });
    await box.waitFor();
    const other = form.getByRole('combobox', { name: 'Other tags' });
    await other.pressSequentially('Donor, 2024');
    await other.press('Enter');
    assert.equal(await box.isChecked(), true);
    assert.ok(await form.getByRole('radio', { name: /these tags/ })
        .isChecked());
    await page.locator('#campaign-estimate', { hasText: /^2 recipients/ })
        .waitFor();

    await page.getByRole('button', { name: 'Review and send' }).click();
    const dialog = page.getByRole('dialog',
                                  { name: 'Send “Donor thanks”?' });
    await dialog.locator('[data-estimate="recipients"]').waitFor();
    assert.equal(await dialog.locator('[data-estimate="recipients"]')
        .textContent(), 'Contacts tagged “Donor, 2024”: 2 contacts.');
    await dialog.getByRole('button', { name: 'Back' }).click();
    const drafts = (await call('/api/v1/campaigns')).items
        .filter((c) => c.name === 'Donor thanks');
    assert.deepEqual(drafts.map((c) => c.audience),
                     [{ tags: ['Donor, 2024'] }]);
});

test('a new contact\'s tags are chips too', async () => {
    const fay = uniqueNumber();
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.getByRole('button', { name: 'Add contact' }).first().click();
    await page.locator('#new-contact-phone').fill(fay);
    const field = page.getByRole('combobox', { name: 'Tags', exact: true });
    await field.pressSequentially('Donor, 2024');
    await field.press('Enter');
    await field.pressSequentially('new');
    await page.locator('#new-contact-form').getByRole('button',
        { name: 'Add contact' }).click();
    await page.locator('#contacts-status', { hasText: 'Added' }).waitFor();
    const c = (await call(`/api/v1/contacts?q=${fay.slice(2)}`)).items[0];
    assert.deepEqual(c.tags, ['Donor, 2024', 'new']);
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx, web.close);
