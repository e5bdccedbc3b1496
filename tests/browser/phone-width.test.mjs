// Every view at a phone's width (320 and 375 px) in Debian's Chromium:
// the page never scrolls sideways, every link of the views' menu can be
// reached, and the last column of the credits' ledger ("Held after")
// can be scrolled to (at 375 px the ledger fits its card).  At 320x568
// an image attached to a reply takes one short row, and the thread keeps
// most of the height it had without it.  At 375x667 (an iPhone) the
// contact's record is a sheet over the conversation, its messages and
// its reply box with Send, under the thread's header, its Close in
// reach; Close brings the conversation back as it was left: the place
// read, the reply being written, a message that came meanwhile.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, openThread, signIn, useBrowser }
         from '../lib/browser.mjs';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound } from '../lib/inbox.mjs';
import { png } from '../lib/media.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Narrow Street Bakery' }] });
const USER = { email: 'nia@narrow.example', password: 'nia pays the bills' };
const VIEWS = ['Inbox', 'Campaigns', 'Polls', 'Contacts', 'Settings'];
// a thread longer than a phone's screen
const LONG = '+14155550178';
const LONG_MESSAGES = 24;
const web = useBrowser();

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, USER.email, USER.password, 'billing');
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '1250');
    await deliverInbound(cluster, { from: '+14155550177',
        body: 'Do you still have the rye loaves?' });
    for (let i = 1; i <= LONG_MESSAGES; i++) {
        await deliverInbound(cluster, { from: LONG,
            body: `Order line ${i}: two sourdough, one rye` });
    }
    await web.launch();
});

// Brings el into view the way a person would (scrolling whatever
// scrolls) and says whether it is then wholly on the screen.
function reachable(el) {
    el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.left >= -0.5 && r.right <= innerWidth + 0.5;
}

for (const width of [320, 375]) {
    test(`at ${width} px no view scrolls sideways; the menu and the `
         + 'ledger\'s last column can be reached', async () => {
        const page = await web.newPage({ width: width, height: 740 });
        await signIn(page, ctx.cluster, USER);
        try {
            for (const name of VIEWS) {
                const link = page.locator('#views')
                    .getByRole('link', { name: name });
                assert.ok(await link.evaluate(reachable),
                    `the menu's ${name} is off the screen`);
                await link.click();
                await page.waitForFunction((n) => document.querySelector(
                    '#views a[aria-current="page"]').textContent === n,
                    name);
                if (name === 'Settings') {
                    await page.locator('#ledger-rows tr').first().waitFor();
                }
                await page.waitForTimeout(200);
                const [doc, win] = await page.evaluate(() => [
                    document.documentElement.scrollWidth, innerWidth]);
                assert.ok(doc <= win,
                    `${name} at ${width} px: ${doc} px wide`);
            }
            const last = page.locator('#ledger th').last();
            assert.equal(await last.textContent(), 'Held after');
            if (width >= 375) {
                // the whole table fits in the card, nothing to scroll
                assert.ok(await last.evaluate((el) => el
                    .getBoundingClientRect().right <= el.closest('.billing')
                    .getBoundingClientRect().right + 0.5),
                    'the ledger is wider than its card');
            }
            assert.ok(await last.evaluate(reachable),
                'the ledger\'s "Held after" cannot be reached');
        } finally {
            await page.context().close();
        }
    });
}

test('at 320x568 an image attached to a reply takes one short row: the '
     + 'thread keeps most of its height, and a second costs one more row',
async () => {
    const page = await web.newPage({ width: 320, height: 568 });
    try {
        await signIn(page, ctx.cluster, USER);
        await openThread(page, '(415) 555-0177');
        const heights = () => page.evaluate(() => ({
            thread: document.getElementById('messages')
                .getBoundingClientRect().height,
            item: document.querySelector('#attachments .attachment')
                ?.getBoundingClientRect().height,
            doc: document.documentElement.scrollWidth,
        }));
        const before = await heights();
        await page.locator('#attach-input').setInputFiles([
            { name: 'rye-loaves-on-the-counter.png', mimeType: 'image/png',
              buffer: png(200, 150, [150, 100, 40]) }]);
        await page.locator('#attachments .attachment[data-state="ready"]')
            .waitFor();
        const one = await heights();
        /* the old layout: a 56 px preview with its buttons stacked beside
         * it left the thread 156 of its 220 px (71%); now 182 (83%) */
        assert.ok(one.thread >= 0.8 * before.thread, `the thread has `
            + `${one.thread} px of the ${before.thread} it had`);
        assert.ok(one.item <= 40, `the image's row is ${one.item} px tall`);
        assert.ok(one.doc <= 320, `the page is ${one.doc} px wide`);

        await page.locator('#attach-input').setInputFiles([
            { name: 'the-menu.png', mimeType: 'image/png',
              buffer: png(120, 160, [40, 90, 150]) }]);
        await page.locator('#attachments .attachment[data-state="ready"]')
            .nth(1).waitFor();
        const two = await heights();
        assert.ok(two.thread >= before.thread - 2 * 40, `with two images `
            + `the thread has ${two.thread} px of the ${before.thread}`);
        assert.ok(two.doc <= 320, `the page is ${two.doc} px wide`);
        const remove = await page.getByRole('button',
            { name: 'Remove the-menu.png' }).boundingBox();
        assert.ok(remove.x >= 0 && remove.x + remove.width <= 320,
                  `the second image's Remove is at ${remove.x}`);
    } finally {
        await page.context().close();
    }
});

test('at 375x667 the contact\'s record is a sheet over the '
     + 'conversation and its reply box; Close brings them back as they '
     + 'were: the place read, the reply being written, a message that '
     + 'came meanwhile', async () => {
    const page = await web.newPage({ width: 375, height: 667 });
    const messages = page.locator('#messages');
    const reply = page.getByRole('textbox', { name: 'Message' });
    const contact = page.getByRole('button', { name: 'Contact',
                                               exact: true });
    const panel = page.getByRole('complementary', { name: 'Contact' });
    const close = panel.getByRole('button', { name: 'Close' });
    const box = (el) => el.evaluate((e) => {
        const r = e.getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom].map(Math.round);
    });
    try {
        await signIn(page, ctx.cluster, USER);
        await openThread(page, '(415) 555-0178');
        await page.locator('#messages .message .body', { hasText:
            `Order line ${LONG_MESSAGES}:` }).waitFor();
        // read up the thread, a reply half written
        const place = await messages.evaluate((el) => {
            el.scrollTop = Math.round((el.scrollHeight - el.clientHeight)
                / 2);
            return el.scrollTop;
        });
        assert.ok(place > 0);
        await reply.fill('Yes, the rye is ready at');

        await contact.click();
        await panel.getByLabel('Name').waitFor();
        // the record from under the thread's header to the screen's foot:
        // over the messages and the reply box with its Send, none of
        // them showing beneath it (the header says whose it is)
        const [left, top, right, bottom] = await box(panel);
        const header = await box(page.locator('.thread-header'));
        assert.deepEqual([left, top, right, bottom],
            [0, header[3], 375, 667]);
        for (const covered of [messages, reply,
            page.getByRole('button', { name: 'Send' })]) {
            assert.equal(await covered.isVisible(), false);
        }
        assert.equal(await page.locator('#thread-title').isVisible(), true);
        // Close at the sheet's top, a finger's size, and still there
        // once the record is scrolled down to its timeline
        const at = await close.boundingBox();
        assert.ok(at.y >= top && at.y + at.height <= top + 60
            && at.height >= 44, `Close is at ${JSON.stringify(at)}`);
        await panel.locator('.timeline-item').last().scrollIntoViewIfNeeded();
        assert.deepEqual(await close.boundingBox(), at);

        await close.click();
        await panel.waitFor({ state: 'hidden' });
        assert.equal(await messages.evaluate((el) => el.scrollTop), place);
        assert.equal(await reply.inputValue(), 'Yes, the rye is ready at');
        assert.equal(await page.evaluate(() =>
            document.activeElement.textContent), 'Contact');

        // at the thread's foot, a message that comes while the record is
        // open is in view on Close, as it would have been
        await messages.evaluate((el) => {
            el.scrollTop = el.scrollHeight;
        });
        await contact.click();
        await panel.getByLabel('Name').waitFor();
        await deliverInbound(ctx.cluster, { from: LONG,
            body: 'And a baguette, please' });
        await panel.locator('.timeline-detail',
            { hasText: 'And a baguette, please' }).waitFor();
        await close.click();
        const newest = page.locator('#messages .message .body',
            { hasText: 'And a baguette, please' });
        await newest.waitFor();
        assert.ok(await newest.evaluate((el) => {
            const r = el.getBoundingClientRect();
            const m = document.getElementById('messages')
                .getBoundingClientRect();
            return r.top >= m.top && r.bottom <= m.bottom;
        }), 'the new message is out of view');
        assert.equal(await page.locator('#new-below').isVisible(), false);
        assert.equal(await reply.inputValue(), 'Yes, the rye is ready at');
    } finally {
        await page.context().close();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
