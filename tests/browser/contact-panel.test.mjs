// The contact panel in Debian's Chromium, at a phone's width where it
// takes the thread's place: a message that comes in while it is open
// shows in its timeline at once (a name being typed there stays, and
// keeps the focus), and Esc in its fields leaves the field, not the
// panel, so an unsaved name is never thrown away; closing the panel with
// an edit unsaved asks for a second Esc or Close, and so do Back,
// another thread and Mark unread (u), while Opt out keeps it.  Save
// keeps the focus while it works, and a message that comes after "Show
// older" keeps the older entries shown.  The contact's name over the
// thread opens it too, and a contact's time zone (for quiet hours) is
// set there (one refused is marked, focused and tied to the refusal).

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, openThread, rowOf, signIn, useBrowser }
         from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Panel Org' }] });
const USER = { email: 'pat@panel.example', password: 'pat reads panels' };
const FROM = '+14155550123';
// a contact with more messages than a page of the timeline holds
const LONG = '+14155550124';
const LONG_MESSAGES = 60;
const web = useBrowser();
let page;

const panel = () => page.getByRole('complementary', { name: 'Contact' });
const items = () => panel().locator('.timeline-item');

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], USER.email, USER.password);
    await deliverInbound(cluster, { from: FROM, body: 'First question' });
    for (let i = 1; i <= LONG_MESSAGES; i++) {
        await deliverInbound(cluster, { from: LONG, body: `Message ${i}` });
    }
    await web.launch();
    page = await web.newPage({ width: 375, height: 740 });
    await signIn(page, cluster, USER);
    await rowOf(page, '(415) 555-0123').waitFor();
    await openThread(page, '(415) 555-0123');
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    await items().filter({ hasText: 'First question' }).waitFor();
});

test('a message that comes in while the panel is open shows in its '
     + 'timeline; the name being typed stays, with the focus', async () => {
    const name = panel().getByLabel('Name');
    await name.fill('Jordan Re');
    await deliverInbound(ctx.cluster, { from: FROM, body: 'Second one' });
    await items().filter({ hasText: 'Second one' }).waitFor();
    assert.deepEqual(await items().locator('.timeline-detail')
        .allTextContents(), ['Second one', 'First question']);
    assert.equal(await name.inputValue(), 'Jordan Re');
    await name.press('End');
    await page.keyboard.type('yes');
    assert.equal(await name.inputValue(), 'Jordan Reyes');
});

test('Esc in the Name or Tags field leaves the field and keeps the panel '
     + 'and the edit; with an edit unsaved the panel closes only on a '
     + 'second press', async () => {
    const name = panel().getByLabel('Name');
    const tags = panel().getByRole('combobox', { name: 'Tags' });
    await name.fill('Jordan Reyes (met at the food bank)');
    await name.press('Escape');
    assert.equal(await panel().isVisible(), true);
    assert.equal(await name.inputValue(),
        'Jordan Reyes (met at the food bank)');
    assert.equal(await page.evaluate(() => document.activeElement.id),
        '');
    await tags.fill('food-ba');
    await tags.press('Escape');
    assert.equal(await panel().isVisible(), true);
    assert.equal(await tags.inputValue(), 'food-ba');

    // no field has the focus: the first Esc says the edit is unsaved
    await page.keyboard.press('Escape');
    assert.equal(await panel().isVisible(), true);
    await panel().getByText(/Not saved/).waitFor();
    assert.equal(await name.inputValue(),
        'Jordan Reyes (met at the food bank)');
    await page.keyboard.press('Escape');
    await panel().waitFor({ state: 'hidden' });
});

test('Close with an edit unsaved says so and keeps the panel; a second '
     + 'Close drops the edit', async () => {
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    const name = panel().getByLabel('Name');
    await name.fill('Jordan R. (typed, never saved)');
    const close = panel().getByRole('button', { name: 'Close' });
    await close.click();
    await panel().getByText(/Not saved.*choose Close again/).waitFor();
    assert.equal(await panel().isVisible(), true);
    assert.equal(await name.inputValue(), 'Jordan R. (typed, never saved)');
    await close.click();
    await panel().waitFor({ state: 'hidden' });

    // opened again, the panel shows what is saved, and closes at once
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    await items().first().waitFor();
    assert.notEqual(await name.inputValue(),
        'Jordan R. (typed, never saved)');
    await close.click();
    await panel().waitFor({ state: 'hidden' });
});

test('Save keeps the focus on the button while it works and after, so '
     + 'the next key is not the thread list\'s', async () => {
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    await panel().getByLabel('Name').fill('Jordan Reyes');
    const save = panel().getByRole('button', { name: 'Save' });
    await save.click();
    await panel().getByText('Saved.').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement
        .textContent), 'Save');
    assert.equal(await save.evaluate((b) => b === document.activeElement),
                 true);
    await panel().getByRole('button', { name: 'Close' }).click();
    await panel().waitFor({ state: 'hidden' });
});

test('a message that comes after "Show older" is put on top of the '
     + 'timeline; the older entries stay, with no way to more', async () => {
    await page.getByRole('button', { name: 'Back' }).click();
    await openThread(page, '(415) 555-0124');
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    await items().filter({ hasText: `Message ${LONG_MESSAGES}` }).waitFor();
    assert.equal(await items().count(), 50);
    const more = panel().getByRole('button', { name: 'Show older' });
    await more.click();
    await panel().locator('.timeline-detail', { hasText: /^Message 1$/ })
        .waitFor();
    assert.equal(await items().count(), LONG_MESSAGES);
    assert.equal(await more.isHidden(), true);

    await deliverInbound(ctx.cluster, { from: LONG, body: 'Newest one' });
    await items().filter({ hasText: 'Newest one' }).waitFor();
    // a fence: a later message's read of the panel starts after any read
    // the first one started, and only the latest read fills the panel,
    // so once it shows, no earlier read can change what is shown
    await deliverInbound(ctx.cluster, { from: LONG, body: 'Newer still' });
    await items().filter({ hasText: 'Newer still' }).waitFor();
    const details = await items().locator('.timeline-detail')
        .allTextContents();
    assert.equal(details.length, LONG_MESSAGES + 2);
    assert.deepEqual(details.slice(0, 4),
        ['Newer still', 'Newest one', 'Message 60', 'Message 59']);
    assert.deepEqual(details.slice(-2), ['Message 2', 'Message 1']);
    assert.equal(await more.isHidden(), true);
});

test('the contact\'s name over the thread opens their record, as the '
     + 'Contact button does', async () => {
    await panel().getByRole('button', { name: 'Close' }).click();
    await panel().waitFor({ state: 'hidden' });
    const name = page.getByRole('heading', { level: 2 })
        .getByRole('button', { name: '(415) 555-0124' });
    assert.equal(await name.getAttribute('title'),
                 'Open the contact\'s record');
    await name.click();
    await items().filter({ hasText: 'Newer still' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Contact',
        exact: true }).getAttribute('aria-expanded'), 'true');
});

test('a contact\'s time zone is set in the panel, from the zones the '
     + 'browser offers; one the server does not know is refused (no '
     + '"Saved." left from before), and empty is the organization\'s '
     + 'again', async () => {
    const zone = panel().getByLabel('Time zone');
    const save = panel().getByRole('button', { name: 'Save' });
    const status = panel().locator('#contact-status');
    const stored = async () => {
        const list = await api(ctx.cluster,
            `/api/v1/contacts?q=${encodeURIComponent(LONG)}`,
            ctx.cluster.orgs[0].token);
        return list.json.items[0].timezone;
    };
    assert.equal(await zone.inputValue(), '');
    await zone.focus();
    assert.ok(await page.locator('#time-zones option[value="America/Chicago"]')
        .count() === 1, 'the zones are offered');
    await zone.fill('America/Chicago');
    await save.click();
    await status.filter({ hasText: 'Saved.' }).waitFor();
    assert.equal(await stored(), 'America/Chicago');

    await zone.fill('Mars/Olympus_Mons');
    await save.click();
    await panel().locator('#contact-error', { hasText: /Could not save/ })
        .waitFor();
    assert.equal(await stored(), 'America/Chicago');
    // the save before's "Saved." is not left over the refusal
    assert.equal(await status.textContent(), '');
    // the refused field is marked, has the focus, and is described by
    // its hint and the message that says why, as other refusals are
    assert.equal(await zone.getAttribute('aria-invalid'), 'true');
    assert.equal(await zone.evaluate((el) => el === document.activeElement),
        true);
    assert.equal(await zone.getAttribute('aria-describedby'),
        'contact-timezone-hint contact-error');
    assert.equal(await panel().getByLabel('Name')
        .getAttribute('aria-invalid'), null);
    await zone.fill('Mars/Olympus_Mon');
    assert.equal(await zone.getAttribute('aria-invalid'), null);
    assert.equal(await zone.getAttribute('aria-describedby'),
        'contact-timezone-hint');

    await zone.fill('');
    const [patched] = await Promise.all([
        page.waitForResponse((res) => res.request().method() === 'PATCH'),
        save.click(),
    ]);
    assert.equal(patched.status(), 200);
    assert.equal(await stored(), null);
});

test('an unsaved edit is not dropped without a word by Back, Opt out or '
     + 'another thread: Back and another thread say so first, Opt out '
     + 'keeps it', async () => {
    const name = panel().getByLabel('Name');
    const title = page.locator('#thread-title');
    await name.fill('Dana (typed, not saved)');

    await page.getByRole('button', { name: 'Back' }).click();
    await panel().getByText(/Not saved.*choose Back again/).waitFor();
    assert.equal(await page.locator('#thread-view').isVisible(), true);
    assert.equal(await name.inputValue(), 'Dana (typed, not saved)');

    await page.getByRole('button', { name: 'Opt out' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Opt out' })
        .click();
    await panel().locator('#contact-optout', { hasText: /^Opted out/ })
        .waitFor();
    assert.equal(await name.inputValue(), 'Dana (typed, not saved)');

    // j: the next thread, tried twice
    await title.focus();
    await page.keyboard.press('j');
    await panel().getByText(/Not saved.*open the other conversation again/)
        .waitFor();
    assert.match(await title.textContent(), /555-0124/);
    assert.equal(await name.inputValue(), 'Dana (typed, not saved)');
    await page.keyboard.press('j');
    await title.filter({ hasText: 'Jordan Reyes' }).waitFor();
    await items().filter({ hasText: 'First question' }).waitFor();
    assert.equal(await name.inputValue(), 'Jordan Reyes');
});

test('u with an edit unsaved says so and marks nothing, as Mark unread '
     + 'does in its words; its second press marks the thread unread and '
     + 'closes it, the edit dropped', async () => {
    const name = panel().getByLabel('Name');
    const title = page.locator('#thread-title');
    const button = page.getByRole('button', { name: 'Mark unread' });
    const marks = [];
    page.on('request', (req) => {
        if (req.method() === 'POST' && req.url().endsWith('/unread')) {
            marks.push(req.url());
        }
    });
    await name.fill('Jordan (typed, not saved)');

    await title.focus();
    await page.keyboard.press('u');
    await panel().getByText(/Not saved.*press u again/).waitFor();
    await button.click();
    await panel().getByText(/Not saved.*choose Mark unread again/)
        .waitFor();
    await page.waitForTimeout(200);
    assert.deepEqual(marks, []);
    assert.equal(await page.locator('#thread-view').isVisible(), true);
    assert.equal(await name.inputValue(), 'Jordan (typed, not saved)');

    await button.click();
    await page.locator('#thread-view').waitFor({ state: 'hidden' });
    assert.equal(marks.length, 1);
    assert.equal(await panel().isVisible(), false);
    await rowOf(page, 'Jordan Reyes').locator('.badge').waitFor();
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
