// An image whose upload fails (here the server's 429 for an
// organization over its upload budget), in Debian's Chromium: the reply
// box says why, the image stays in the draft marked as not uploaded with
// its own Retry and Remove, and no send goes without it: tried again it
// goes with the others, in their order; removed, the others go without
// it and the count follows.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, openThread, rowOf, signIn, useBrowser }
         from '../lib/browser.mjs';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { png } from '../lib/media.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Upload Org' }] });
const USER = { email: 'uma@upload.example', password: 'uma sends maps' };
const FROM = '+14155550161';
const web = useBrowser();
let page;

const count = () => page.locator('#composer-count');
const error = () => page.locator('#composer-error');
const item = (name) => page.locator('#attachments .attachment',
                                    { hasText: name });

const MAP = png(32, 32, [10, 160, 90]);
const MENU = png(24, 24, [200, 120, 30]);
const SIGN = png(16, 16, [90, 30, 160]);

// Uploads of `bytes` are refused 429 while refusing() says so.
async function refuseUploadsOf(bytes, refusing) {
    await page.route('**/api/v1/media', async (route) => {
        const body = route.request().postDataBuffer();
        if (refusing() && body && body.equals(bytes)) {
            await route.fulfill({ status: 429,
                contentType: 'application/json',
                body: JSON.stringify({ error: { code: 'rate_limited',
                    message: 'Too many uploads; try again later.' } }) });
            return;
        }
        await route.fallback();
    });
}

// The pictures of the thread's newest reply, as the bytes /media/ serves.
async function newestReplyPictures() {
    const cluster = ctx.cluster;
    const org = cluster.orgs[0];
    const list = await api(cluster,
        `/api/v1/conversations?q=${FROM.slice(2)}`, org.token);
    const conv = list.json.items[0];
    const res = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    const [m] = res.json.items.filter((x) => x.direction === 'outbound');
    const pictures = [];
    for (const media of m.media) {
        const r = await fetch(new URL(media.url, cluster.baseUrl));
        assert.equal(r.status, 200, media.url);
        pictures.push(Buffer.from(await r.arrayBuffer()));
    }
    return { body: m.body, pictures,
             replies: res.json.items.filter(
                 (x) => x.direction === 'outbound').length };
}

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '10');
    await deliverInbound(cluster, { from: FROM, body: 'Where are you?' });
    await web.launch();
    page = await web.newPage();
    await signIn(page, cluster, USER);
    await rowOf(page, '(415) 555-0161').waitFor();
    await openThread(page, '(415) 555-0161');
});

test('an upload refused 429 stays, said, with Retry and Remove; the send '
     + 'waits for it, and tried again it goes with the others in order',
async () => {
    let refusing = true;
    await refuseUploadsOf(MAP, () => refusing);
    const text = page.locator('#composer-text');
    await text.fill('Here is the map');
    await count().filter({ hasText: /1 credit$/ }).waitFor();
    await page.locator('#attach-input').setInputFiles([
        { name: 'map.png', mimeType: 'image/png', buffer: MAP },
        { name: 'menu.png', mimeType: 'image/png', buffer: MENU }]);
    await error().filter({ hasText: /\S/ }).waitFor();
    assert.equal(await error().textContent(), 'Could not upload '
        + '\u201cmap.png\u201d: Too many uploads; try again later.');
    await item('map.png').and(page.locator('[data-state="failed"]'))
        .waitFor();
    await item('menu.png').and(page.locator('[data-state="ready"]'))
        .waitFor();
    assert.equal(await item('map.png').locator('.attachment-state')
        .textContent(), 'not uploaded: Too many uploads; try again later.');
    // still the picture message the draft is: its two images, 2 credits
    await count().filter({
        hasText: /^Picture message \(MMS\) · 2 images · 2 credits$/ })
        .waitFor();

    // the send waits for it, says why, and nothing goes
    await text.press('Enter');
    await error().filter({ hasText: 'Not sent' }).waitFor();
    assert.equal(await error().textContent(), 'Not sent: \u201cmap.png\u201d '
        + 'was not uploaded. Retry it or remove it, then send.');
    assert.equal(await text.inputValue(), 'Here is the map');
    assert.equal(await page.locator('#messages .message.outbound').count(),
                 0);

    // tried again: the focus goes from the Retry it hides to its Remove
    refusing = false;
    await page.getByRole('button', { name: 'Retry map.png' }).click();
    await item('map.png').and(page.locator('[data-state="ready"]'))
        .waitFor();
    assert.equal(await page.evaluate(() => document.activeElement
        .getAttribute('aria-label')), 'Remove map.png');
    assert.equal(await error().textContent(), '');
    assert.equal(await page.getByRole('button', { name: 'Retry map.png' })
        .count(), 0);

    await text.press('Enter');
    await page.locator('#messages .message.outbound',
        { hasText: 'Here is the map' }).waitFor();
    await page.locator('#attachments').waitFor({ state: 'hidden' });
    const sent = await newestReplyPictures();
    assert.equal(sent.body, 'Here is the map');
    assert.equal(sent.pictures.length, 2);
    assert.ok(sent.pictures[0].equals(MAP), 'the map first');
    assert.ok(sent.pictures[1].equals(MENU), 'the menu second');
    await page.unroute('**/api/v1/media');
});

test('a failed upload removed: the others go without it, and the count '
     + 'follows', async () => {
    await refuseUploadsOf(MENU, () => true);
    const text = page.locator('#composer-text');
    await text.fill('Two of three');
    await page.locator('#attach-input').setInputFiles([
        { name: 'map.png', mimeType: 'image/png', buffer: MAP },
        { name: 'menu.png', mimeType: 'image/png', buffer: MENU },
        { name: 'sign.png', mimeType: 'image/png', buffer: SIGN }]);
    await item('menu.png').and(page.locator('[data-state="failed"]'))
        .waitFor();
    await count().filter({ hasText: '3 images · 2 credits' }).waitFor();

    // Remove hands the focus to the next image's
    await page.getByRole('button', { name: 'Remove menu.png' }).click();
    assert.equal(await page.evaluate(() => document.activeElement
        .getAttribute('aria-label')), 'Remove sign.png');
    assert.equal(await error().textContent(), '');
    await count().filter({ hasText: '2 images · 2 credits' }).waitFor();
    assert.deepEqual(await page.locator('#attachments .attachment-name')
        .allTextContents(), ['map.png', 'sign.png']);

    await text.press('Enter');
    await page.locator('#messages .message.outbound',
        { hasText: 'Two of three' }).waitFor();
    const sent = await newestReplyPictures();
    assert.equal(sent.body, 'Two of three');
    assert.equal(sent.pictures.length, 2);
    assert.ok(sent.pictures[0].equals(MAP));
    assert.ok(sent.pictures[1].equals(SIGN));
    assert.equal(sent.replies, 2);

    // the only image failed and removed: the count is an SMS's again
    await text.fill('Just text then');
    await page.locator('#attach-input').setInputFiles({ name: 'menu.png',
        mimeType: 'image/png', buffer: MENU });
    await item('menu.png').and(page.locator('[data-state="failed"]'))
        .waitFor();
    await count().filter({ hasText: 'Picture message' }).waitFor();
    await page.getByRole('button', { name: 'Remove menu.png' }).click();
    assert.equal(await page.evaluate(() => document.activeElement.id),
                 'composer-text');
    await count().filter({ hasText: /^1 segment .* 1 credit$/ }).waitFor();
    await page.unroute('**/api/v1/media');
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
