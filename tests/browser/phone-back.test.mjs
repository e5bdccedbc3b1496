// The browser's Back (a phone's back gesture) and the keys at a phone's
// width (375x667) in Debian's Chromium, where the thread is a page over
// the list and the contact's record a sheet over the thread: Back
// closes the sheet, then the thread, and only then leaves the Inbox
// (the view before it shows), however many threads were opened; a name
// typed in the sheet and not saved is said and kept on Back, dropped on
// a second Back; and e and s pressed while the sheet covers the thread
// neither archive nor star it (the same keys act once it is closed).
// Forward onto a thread the server no longer gives (another
// organization signed into since) stays closed and says why; / with
// the record's edits not saved keeps them once, as Back does.
// Wider, where the thread is beside the list, Back closes it too, and a
// thread closed with Esc leaves no Back to spend on it.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, openThread, signIn, useBrowser }
         from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Back Lane Florist' },
                                { name: 'Front Street Bakery' }] });
const USER = { email: 'bo@backlane.example', password: 'bo goes back' };
/* of the other organization, signed into in the same page */
const BAKER = { email: 'di@frontstreet.example', password: 'di bakes bread' };
const PHONES = ['+14155550141', '+14155550142', '+14155550143'];
const web = useBrowser();

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], USER.email, USER.password);
    await addUser(cluster, cluster.orgs[1], BAKER.email, BAKER.password);
    for (const phone of PHONES) {
        await deliverInbound(cluster, { from: phone,
            body: `Tulips for ${phone.slice(-2)}, please` });
    }
    await web.launch();
});

const shownAs = (phone) => `(415) 555-${phone.slice(-4)}`;
const panelOf = (page) => page.getByRole('complementary',
                                         { name: 'Contact' });
const contactOf = (page) => page.getByRole('button', { name: 'Contact',
                                                       exact: true });

// A phone's page (or size's) signed in, the Inbox shown after Campaigns
// (so that leaving the Inbox with Back shows where it goes).
async function phonePage(size = { width: 375, height: 667 }) {
    const page = await web.newPage(size);
    await signIn(page, ctx.cluster, USER);
    const views = page.locator('#views');
    await views.getByRole('link', { name: 'Campaigns' }).click();
    await page.locator('#campaigns-view').waitFor();
    await views.getByRole('link', { name: 'Inbox' }).click();
    await page.locator('#threads').waitFor();
    return page;
}

async function openSheet(page) {
    await contactOf(page).click();
    await panelOf(page).getByLabel('Name').waitFor();
}

test('Back closes the contact\'s sheet, then the thread, then leaves the '
     + 'Inbox; three threads opened cost no more Backs than one',
async () => {
    const page = await phonePage();
    const title = page.locator('#thread-title');
    const list = page.locator('#threads');
    try {
        const named = (phone) => page.waitForFunction((n) => document
            .getElementById('thread-name').textContent.includes(n),
            shownAs(phone));
        await openThread(page, shownAs(PHONES[0]));
        // the list again, the way a phone's user goes to it
        await page.goBack();
        await list.waitFor();
        assert.equal(await title.isVisible(), false);
        // another thread, then the one above it and back with the keys
        // (newest first: 0143, 0142, 0141)
        await openThread(page, shownAs(PHONES[1]));
        await named(PHONES[1]);
        await page.keyboard.press('k');
        await named(PHONES[2]);
        await page.keyboard.press('j');
        await named(PHONES[1]);
        await openSheet(page);

        await page.goBack();
        await panelOf(page).waitFor({ state: 'hidden' });
        assert.equal(await title.isVisible(), true,
                     'the first Back closed more than the sheet');
        assert.equal(await page.evaluate(() =>
            document.activeElement.textContent), 'Contact');

        await page.goBack();
        await list.waitFor();
        assert.equal(await title.isVisible(), false);
        assert.equal(await page.locator('#app').isVisible(), true,
                     'the second Back left the Inbox');

        await page.goBack();
        await page.locator('#campaigns-view').waitFor();
        assert.equal(await page.locator('#app').isVisible(), false);
    } finally {
        await page.context().close();
    }
});

test('Back with a name typed in the sheet and not saved says so and '
     + 'keeps it; a second Back drops it, the thread still open',
async () => {
    const page = await phonePage();
    const panel = panelOf(page);
    const name = panel.getByLabel('Name');
    try {
        await openThread(page, shownAs(PHONES[0]));
        await openSheet(page);
        await name.fill('Rosa (the wedding order)');
        await page.locator('#contact-heading').click();

        await page.goBack();
        await panel.getByText('Not saved: Save the changes, or go back '
                              + 'again to drop them.').waitFor();
        assert.equal(await panel.isVisible(), true);
        assert.equal(await name.inputValue(), 'Rosa (the wedding order)');

        await page.goBack();
        await panel.waitFor({ state: 'hidden' });
        assert.equal(await page.locator('#thread-title').isVisible(), true);
        await page.goBack();
        await page.locator('#threads').waitFor();
    } finally {
        await page.context().close();
    }
});

test('at 1200 px too, Back closes the thread after three were opened from '
     + 'the list; one closed with Esc leaves no Back behind', async () => {
    const page = await phonePage({ width: 1200, height: 720 });
    const title = page.locator('#thread-title');
    try {
        for (const phone of PHONES) {
            await openThread(page, shownAs(phone));
        }
        await page.goBack();
        await title.waitFor({ state: 'hidden' });
        assert.equal(await page.locator('#app').isVisible(), true,
                     'Back left the Inbox');

        await openThread(page, shownAs(PHONES[0]));
        await page.keyboard.press('Escape');
        await title.waitFor({ state: 'hidden' });
        await page.goBack();
        await page.locator('#campaigns-view').waitFor();
    } finally {
        await page.context().close();
    }
});

test('e and s pressed while the sheet covers the thread neither archive '
     + 'nor star it; the sheet closed, e archives it', async () => {
    const page = await phonePage();
    const org = ctx.cluster.orgs[0];
    const phone = PHONES[1];
    const { id } = (await api(ctx.cluster, '/api/v1/conversations',
        org.token)).json.items.find((c) => c.contact.phone === phone);
    // what the page asks of the thread, in order
    const acts = [];
    page.on('request', (req) => {
        const m = /\/conversations\/[^/]+\/(archive|unarchive|star|unstar)$/
            .exec(req.url());
        if (req.method() === 'POST' && m) {
            acts.push(m[1]);
        }
    });
    try {
        await openThread(page, shownAs(phone));
        await openSheet(page);
        // reading the record: the focus on its heading, in no field
        await page.locator('#contact-heading').click();
        await page.keyboard.press('e');
        await page.keyboard.press('s');

        await panelOf(page).getByRole('button', { name: 'Close' }).click();
        await panelOf(page).waitFor({ state: 'hidden' });
        await Promise.all([
            page.waitForResponse((res) => /\/(un)?archive$/
                .test(res.url())),
            page.keyboard.press('e')]);
        // a press under the sheet would have been asked before this one
        assert.deepEqual(acts, ['archive'],
                         'a key acted on the thread under the sheet');
        await page.locator('#act-archive', { hasText: 'Unarchive' })
            .waitFor();
        const conv = (await api(ctx.cluster, `/api/v1/conversations/${id}`,
                                org.token)).json;
        assert.equal(conv.archived, true);
        assert.equal(conv.starred, false);
    } finally {
        await page.context().close();
    }
});

test('Forward after Back opens again the thread, then the sheet, Back '
     + 'closed; Back then closes them again as before', async () => {
    const page = await phonePage();
    const title = page.locator('#thread-title');
    const list = page.locator('#threads');
    const panel = panelOf(page);
    try {
        await openThread(page, shownAs(PHONES[0]));
        await openSheet(page);
        await page.goBack();
        await panel.waitFor({ state: 'hidden' });
        await page.goBack();
        await list.waitFor();

        await page.goForward();
        await title.waitFor();
        assert.match(await page.locator('#thread-name').textContent(),
                     /0141/, 'Forward opened another thread');
        assert.equal(await panel.isVisible(), false,
                     'one Forward opened the sheet too');
        await page.goForward();
        await panel.getByLabel('Name').waitFor();
        assert.equal(await panel.getByLabel('Name').isVisible(), true);

        await page.goBack();
        await panel.waitFor({ state: 'hidden' });
        assert.equal(await title.isVisible(), true);
        await page.goBack();
        await list.waitFor();
        await page.goBack();
        await page.locator('#campaigns-view').waitFor();
    } finally {
        await page.context().close();
    }
});

test('Forward to a thread the list no longer holds (another tab chosen) '
     + 'reads it and opens it; one another thread replaced stays closed',
async () => {
    const page = await phonePage();
    const title = page.locator('#thread-title');
    const list = page.locator('#threads');
    const panel = panelOf(page);
    const name = page.locator('#thread-name');
    try {
        await openThread(page, shownAs(PHONES[0]));
        await page.goBack();
        await list.waitFor();
        await page.getByRole('button', { name: /^Starred/ }).click();
        await page.locator('#list-status',
            { hasText: 'No starred conversations.' }).waitFor();
        await page.goForward();
        await title.waitFor();
        await page.locator('#messages .message .body',
            { hasText: 'Tulips for 41, please' }).waitFor();
        assert.match(await name.textContent(), /0141/);
        await page.goBack();
        await title.waitFor({ state: 'hidden' });
        await page.getByRole('button', { name: /^All/ }).click();
        await list.waitFor();

        // the sheet closed by Back, then the next thread with j: the
        // Forward to the first thread's sheet is dropped
        await openThread(page, shownAs(PHONES[2]));
        await openSheet(page);
        await page.goBack();
        await panel.waitFor({ state: 'hidden' });
        await page.keyboard.press('j');
        await page.waitForFunction(() => !document
            .getElementById('thread-name').textContent.includes('0143'));
        const next = await name.textContent();
        await page.goForward();
        // back at once: the next thread without a sheet
        await page.waitForFunction(() => history.state
            && history.state.inboxLayer === 1);
        assert.equal(await panel.isVisible(), false,
                     'Forward opened a sheet over another thread');
        assert.equal(await name.textContent(), next);
        await page.goBack();
        await list.waitFor();
        assert.equal(await title.isVisible(), false);
    } finally {
        await page.context().close();
    }
});

test('Forward to a thread the server no longer gives (another '
     + 'organization signed into since, without a reload) stays closed, '
     + 'and the screen reader is told why', async () => {
    const page = await phonePage();
    const title = page.locator('#thread-title');
    const list = page.locator('#threads');
    try {
        await openThread(page, shownAs(PHONES[0]));
        await page.goBack();
        await list.waitFor();
        await page.locator('#sign-out').click();
        await page.getByLabel('Email', { exact: true }).fill(BAKER.email);
        await page.getByLabel('Password', { exact: true })
            .fill(BAKER.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('#conn[data-state="live"]').waitFor();
        await page.locator('#list-status',
            { hasText: /No conversations/ }).waitFor();

        await page.goForward();
        await page.locator('#announcer',
            { hasText: 'Could not open that conversation again' }).waitFor();
        assert.match(await page.locator('#announcer').textContent(),
            new RegExp('^Could not open that conversation again: '
                       + 'There is no such conversation\\.'));
        // the entry left at once: back where it came from, closed
        await page.waitForFunction(() => !history.state
            || !history.state.inboxLayer);
        assert.equal(await title.isVisible(), false);
        assert.equal(await page.locator('#list-status').isVisible(), true,
                     'the (empty) list is not shown');
    } finally {
        await page.context().close();
    }
});

test('at 390 px / with a thread open and its record\'s edits not saved '
     + 'keeps them and says so; / again drops them and focuses the search',
async () => {
    const page = await phonePage({ width: 390, height: 844 });
    const panel = panelOf(page);
    const name = panel.getByLabel('Name');
    const search = page.getByRole('searchbox',
                                  { name: 'Search conversations' });
    try {
        await openThread(page, shownAs(PHONES[0]));
        await openSheet(page);
        await name.fill('Mo (the birthday lilies)');
        await page.locator('#contact-heading').click();

        await page.keyboard.press('/');
        await panel.getByText('Not saved: Save the changes, or press / '
                              + 'again to drop them.').waitFor();
        assert.equal(await panel.isVisible(), true);
        assert.equal(await name.inputValue(), 'Mo (the birthday lilies)');
        assert.equal(await search.isVisible(), false);

        await page.keyboard.press('/');
        await page.locator('#threads').waitFor();
        await page.waitForFunction(() =>
            document.activeElement.id === 'search');
        assert.equal(await panel.isVisible(), false);
        assert.equal(await page.locator('#thread-title').isVisible(), false);
        const convs = await api(ctx.cluster, '/api/v1/conversations',
                                ctx.cluster.orgs[0].token);
        const mo = convs.json.items.find((c) => c.contact.phone
            === PHONES[0]);
        assert.notEqual(mo.contact.name, 'Mo (the birthday lilies)');
    } finally {
        await page.context().close();
    }
});

test('/ with a thread open over the list shows the list and its search '
     + 'box, focused, and what is typed filters it', async () => {
    const page = await phonePage();
    const search = page.getByRole('searchbox',
                                  { name: 'Search conversations' });
    try {
        await openThread(page, shownAs(PHONES[2]));
        await openSheet(page);
        await page.locator('#contact-heading').click();
        await page.keyboard.press('/');
        await page.locator('#threads').waitFor();
        assert.equal(await search.isVisible(), true,
                     '/ focused a search box the thread hides');
        assert.equal(await page.evaluate(() => document.activeElement.id),
                     'search');
        await page.keyboard.type('555-0141');
        await page.locator('#threads > li').filter({ hasText: '0143' })
            .waitFor({ state: 'detached' });
        assert.equal(await page.locator('#threads > li').count(), 1);
        // the thread and the sheet took their entries with them
        await page.goBack();
        await page.locator('#campaigns-view').waitFor();
    } finally {
        await page.context().close();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
