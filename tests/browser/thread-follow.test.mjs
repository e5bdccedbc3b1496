// The open thread and its newest messages, in Debian's Chromium: read at
// its foot it follows what comes in; scrolled up to older messages it
// stays where it is, and a "New messages" button (said to a screen
// reader) takes the reader down, going once the foot is reached, by it
// or by hand.  One's own reply is followed wherever the thread was.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { needsSendRoutes, noPageErrorsTest, openThread, rowOf, signIn,
         useBrowser } from '../lib/browser.mjs';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Follow Org' }] });
const USER = { email: 'ray@follow.example', password: 'ray reads history' };
const FROM = '+14155550142';
const web = useBrowser();
let page;

const messages = () => page.locator('#messages');
const newBelow = () => page.getByRole('button', { name: 'New messages' });
const message = (text) => page.locator('#messages .message',
    { hasText: text });

// How far the thread is from its foot, in pixels.
const fromFoot = () => messages().evaluate(
    (el) => el.scrollHeight - el.scrollTop - el.clientHeight);

// Scrolls the thread with the mouse wheel until it is at scrollTop top,
// and lets the page see the scroll.
async function scrollTo(top) {
    const box = await messages().boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, top === 0 ? -100000 : 100000);
    await page.waitForFunction((top) => {
        const el = document.getElementById('messages');
        return top === 0 ? el.scrollTop === 0
            : el.scrollHeight - el.scrollTop - el.clientHeight < 1;
    }, top);
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(
        () => requestAnimationFrame(done))));
}

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '10');
    for (let i = 1; i <= 60; i++) {
        await deliverInbound(cluster, { from: FROM, body: `Line ${i}` });
    }
    await web.launch();
    page = await web.newPage({ width: 1200, height: 720 });
    await signIn(page, cluster, USER);
    await rowOf(page, '(415) 555-0142').waitFor();
    await openThread(page, '(415) 555-0142');
    await message('Line 60').waitFor();
});

test('scrolled up to older messages, one that comes in leaves the thread '
     + 'where it is and offers "New messages", which goes down',
async () => {
    await scrollTo(0);
    await deliverInbound(ctx.cluster, { from: FROM, body: 'While you read' });
    await message('While you read').waitFor();
    await newBelow().waitFor();
    assert.equal(await messages().evaluate((el) => el.scrollTop), 0);
    await page.locator('#announcer', { hasText: 'New messages below.' })
        .waitFor();

    await newBelow().click();
    assert.ok(await fromFoot() < 1, 'at the foot');
    await newBelow().waitFor({ state: 'hidden' });
    // the button gone, its focus is the thread's title, not the page
    assert.equal(await page.evaluate(() => document.activeElement.id),
                 'thread-title');
});

test('read at its foot the thread follows a message that comes in',
async () => {
    assert.ok(await fromFoot() < 1);
    await deliverInbound(ctx.cluster, { from: FROM, body: 'Following on' });
    await message('Following on').waitFor();
    await page.waitForFunction(() => {
        const el = document.getElementById('messages');
        return el.scrollHeight - el.scrollTop - el.clientHeight < 1;
    });
    assert.equal(await newBelow().isHidden(), true);
});

test('"New messages" goes when the reader scrolls down by hand',
async () => {
    await scrollTo(0);
    await deliverInbound(ctx.cluster, { from: FROM, body: 'One more' });
    await newBelow().waitFor();
    await scrollTo('foot');
    await newBelow().waitFor({ state: 'hidden' });
});

test('one\'s own reply is followed wherever the thread was', async () => {
    await needsSendRoutes(ctx.cluster);
    await scrollTo(0);
    await page.locator('#composer-text').fill('Scrolled up, answering');
    await page.locator('#composer-text').press('Enter');
    await message('Scrolled up, answering').waitFor();
    await page.waitForFunction(() => {
        const el = document.getElementById('messages');
        return el.scrollHeight - el.scrollTop - el.clientHeight < 1;
    });
    assert.equal(await newBelow().isHidden(), true);
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
