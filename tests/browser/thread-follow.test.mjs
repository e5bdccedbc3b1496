// The open thread and its newest messages, in Debian's Chromium: read at
// its foot it follows what comes in; scrolled up to older messages it
// stays where it is, and a "New messages" button (said to a screen
// reader) takes the reader down, going once the foot is reached, by it
// or by hand.  At its foot it stays there as an image in it loads and
// as the reply box grows.  One's own reply is followed wherever the
// thread was.  A resync (frames lost on the way: the thread read again
// over HTTP) does the same: the reader of older messages, even of a page
// "Show older messages" brought, keeps their place; one at the foot
// follows.  So does one after more than a page of messages was missed.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { needsSendRoutes, noPageErrorsTest, openThread, rowOf, signIn,
         useBrowser } from '../lib/browser.mjs';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { png, upload } from '../lib/media.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Follow Org' }] });
const USER = { email: 'ray@follow.example', password: 'ray reads history' };
const FROM = '+14155550142';
const web = useBrowser();
let page;

// message.created frames the page's socket loses on the way (those of a
// message with one of these texts), so that the next frame shows the
// page a gap, and it reads the thread again
const lose = new Set();
let lost = 0;

// While deaf, the page's socket loses every frame of the organization's
// stream (each has an org_seq), as one cut off for a while would; the
// texts of the messages whose message.created it lost so, in order.
let deaf = false;
const missed = [];

const messages = () => page.locator('#messages');
const newBelow = () => page.getByRole('button', { name: 'New messages' });
const message = (text) => page.locator('#messages .message',
    { hasText: text });

// How far the thread is from its foot, in pixels.
const fromFoot = () => messages().evaluate(
    (el) => el.scrollHeight - el.scrollTop - el.clientHeight);

// Where the message whose text is text is, from the thread's top edge in
// pixels; null when the thread does not show it.
const placeOf = (text) => messages().evaluate((el, text) => {
    const body = Array.from(el.querySelectorAll('.message .body'))
        .find((b) => b.textContent === text);
    return body ? body.getBoundingClientRect().top
        - el.getBoundingClientRect().top : null;
}, text);

// Lets the page see a scroll (its handler runs before the next frame).
const twoFrames = () => page.evaluate(() => new Promise((done) =>
    requestAnimationFrame(() => requestAnimationFrame(done))));

// A message whose frame is lost, then one whose frames are not: the page
// sees the gap and reads the thread again, which brings both.
async function deliverAcrossGap(lostText, nextText) {
    const before = lost;
    lose.add(lostText);
    await deliverInbound(ctx.cluster, { from: FROM, body: lostText });
    for (let waited = 0; lost === before; waited += 20) {
        assert.ok(waited < 10000, `the frame of "${lostText}" never came`);
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await deliverInbound(ctx.cluster, { from: FROM, body: nextText });
    await message(lostText).waitFor();
    await message(nextText).waitFor();
}

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
    await page.routeWebSocket(/\/ws/, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((m) => {
            let f = null;
            try { f = JSON.parse(m); } catch { /* not JSON */ }
            if (deaf && f && typeof f.org_seq === 'number') {
                if (f.type === 'message.created' && f.message) {
                    missed.push(f.message.body);
                }
                return;
            }
            if (f && f.type === 'message.created' && f.message
                && lose.has(f.message.body)) {
                lost += 1;
                return;
            }
            ws.send(m);
        });
    });
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

test('scrolled down to the foot as an image above it loads, the thread '
    + 'is read at its foot and follows the next message', async () => {
    // (not by the wheel: at the foot already, it would scroll the page,
    // and the next test's wheel would go on scrolling the page too)
    await messages().evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await twoFrames();
    // a little up, still within the foot's slack
    await messages().evaluate((el) => { el.scrollTop -= 30; });
    await twoFrames();
    // back down, and in the same frame a message above grows as its
    // image's size becomes known: the scroll is seen after it grew
    await messages().evaluate((el) => {
        el.scrollTop = el.scrollHeight;
        const grown = document.createElement('div');
        grown.style.height = '120px';
        el.querySelector('.message:last-child .bubble').appendChild(grown);
    });
    await twoFrames();
    await deliverInbound(ctx.cluster, { from: FROM, body: 'Right after' });
    await message('Right after').waitFor();
    await page.waitForFunction(() => {
        const el = document.getElementById('messages');
        return el.scrollHeight - el.scrollTop - el.clientHeight < 1;
    }, null, { timeout: 3000 });
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

test('a resync leaves a reader of older messages where they were, an '
     + 'older page they brought too, and offers what came', async () => {
    await page.getByRole('button', { name: 'Show older messages' }).click();
    const line5 = page.locator('#messages .message .body',
        { hasText: /^Line 5$/ });
    await line5.waitFor();
    await line5.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await twoFrames();
    const place = await placeOf('Line 5');
    assert.ok(place > 0, 'Line 5 is in view');

    await deliverAcrossGap('Lost on the way', 'After the gap');
    await twoFrames();
    assert.equal(await placeOf('Line 5'), place, 'Line 5 has not moved');
    await newBelow().waitFor();
    // what the resync brought is in order, at the foot
    const bodies = await messages().locator('.message .body')
        .allTextContents();
    assert.deepEqual(bodies.slice(-2), ['Lost on the way', 'After the gap']);
    assert.equal(bodies.filter((b) => b === 'Line 1').length, 1);
});

test('read at its foot the thread follows what a resync brings',
async () => {
    await scrollTo('foot');
    await deliverAcrossGap('Lost at the foot', 'Followed after the gap');
    await page.waitForFunction(() => {
        const el = document.getElementById('messages');
        return el.scrollHeight - el.scrollTop - el.clientHeight < 1;
    });
    assert.equal(await newBelow().isHidden(), true);
});

test('a resync after more than a page was missed leaves the reader where '
     + 'they were and brings all of it, in order', async () => {
    const bodies = () => messages().locator('.message .body')
        .allTextContents();
    const line30 = page.locator('#messages .message .body',
        { hasText: /^Line 30$/ });
    await line30.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await twoFrames();
    const place = await placeOf('Line 30');
    assert.ok(place > 0, 'Line 30 is in view');
    const shown = await bodies();

    // 80 messages while the socket hears nothing: more than a page (50)
    const texts = Array.from({ length: 80 }, (_, i) => `Missed ${i + 1}`);
    deaf = true;
    for (const body of texts) {
        await deliverInbound(ctx.cluster, { from: FROM, body });
    }
    for (let waited = 0; !missed.includes('Missed 80'); waited += 20) {
        assert.ok(waited < 10000, 'the frame of "Missed 80" never came');
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    deaf = false;
    // heard: the page sees the gap and reads the thread again
    await deliverInbound(ctx.cluster, { from: FROM, body: 'Heard again' });
    await message('Heard again').waitFor();
    await message('Missed 80').waitFor();
    await twoFrames();

    assert.equal(await placeOf('Line 30'), place, 'Line 30 has not moved');
    await newBelow().waitFor();
    // what was shown stays, older pages too; all 80 follow it, in order,
    // once each
    assert.deepEqual(await bodies(), [...shown, ...texts, 'Heard again']);
});

test('read at its foot the thread stays there as an image in it loads '
     + 'and as the reply box grows under it', async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[0];
    await scrollTo('foot');
    // a picture sent from elsewhere: followed as it comes, taller once
    // it has loaded (its size is known only then)
    const image = await upload(ctx.cluster, png(200, 200), {
        Authorization: `Bearer ${org.token}`, 'Content-Type': 'image/png' });
    assert.equal(image.status, 201, image.text);
    const list = await api(ctx.cluster, '/api/v1/conversations', org.token);
    const conv = list.json.items.find((c) => c.contact.phone === FROM);
    const sent = await api(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token, {
            method: 'POST', body: { body: 'The porch, as promised',
                                    media_ids: [image.json.id] } });
    assert.equal(sent.status, 201, sent.text);
    await page.waitForFunction(() => {
        const img = document.querySelector('#messages .message:last-child '
                                           + '.media-thumb img');
        return img && img.complete && img.naturalHeight > 0;
    });
    await twoFrames();
    assert.ok(await fromFoot() < 1, 'at the foot once the image loaded');
    assert.equal(await newBelow().isHidden(), true);

    // an image attached to a reply: the box grows, the thread's newest
    // message stays in view above it
    await page.locator('#attach-input').setInputFiles({
        name: 'porch.png', mimeType: 'image/png', buffer: png(40, 40) });
    await page.getByRole('button', { name: /^Remove/ }).waitFor();
    await twoFrames();
    assert.ok(await fromFoot() < 1, 'at the foot with the image attached');
    await page.getByRole('button', { name: /^Remove/ }).click();
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
