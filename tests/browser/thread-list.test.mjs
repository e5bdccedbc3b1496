// The thread list under load, in Debian's Chromium: a next page the server
// fails to give is said, with a Try again button, and not asked for again
// and again.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, signIn, useBrowser } from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'List Org' }] });

const PERSON = { email: 'person@list.example', password: 'list test pw' };
// more threads than the first page (100) holds
const OLD = 130;
const oldNumber = (i) => `+1646555${String(1000 + i)}`;

const web = useBrowser();

const rows = (p) => p.locator('#threads > li');
const rowIds = (p) => rows(p).evaluateAll(
    (lis) => lis.map((li) => li.dataset.id));

async function inParallel(items, n, fn) {
    const queue = [...items];
    await Promise.all(Array.from({ length: n }, async () => {
        while (queue.length) {
            await fn(queue.shift());
        }
    }));
}

// Every thread of the organization, as the API orders them.
async function allIds() {
    const org = ctx.cluster.orgs[0];
    const ids = [];
    let cursor = null;
    do {
        const res = await api(ctx.cluster, '/api/v1/conversations?limit=200'
            + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''),
            org.token);
        assert.equal(res.status, 200, res.text);
        ids.push(...res.json.items.map((c) => c.id));
        cursor = res.json.next_cursor;
    } while (cursor);
    return ids;
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], PERSON.email, PERSON.password);
    await inParallel([...Array(OLD).keys()], 8, (i) => deliverInbound(
        cluster, { from: oldNumber(i), body: `Old thread ${i}` }));
    await web.launch();
});

test('a next page the server fails to give is said with a Try again '
     + 'button, asked for again only after a pause, and loads once the '
     + 'server answers', async () => {
    const p = await web.newPage();
    try {
        await signIn(p, ctx.cluster, PERSON);
        await rows(p).nth(99).waitFor();
        assert.equal(await rows(p).count(), 100, 'the first page');

        let asked = 0;
        let down = true;
        await p.route(/\/api\/v1\/conversations\?.*cursor=/, (route) => {
            asked += 1;
            return down ? route.fulfill({ status: 503,
                contentType: 'application/json',
                body: '{"error":{"code":"unavailable",'
                    + '"message":"Try later"}}' })
                : route.continue();
        });
        await p.locator('#threads-scroll').evaluate(
            (el) => { el.scrollTop = el.scrollHeight; });
        const more = p.locator('#list-more');
        await more.filter({ hasText: 'Could not load more: Try later' })
            .waitFor();
        const retry = p.getByRole('button', { name: 'Try again',
                                              exact: true });
        await retry.waitFor();
        assert.equal(await retry.evaluate((el) => el.tagName), 'BUTTON');
        const first = Date.now();
        await p.waitForTimeout(3000);
        assert.ok(asked >= 1 && asked <= 2,
            `${asked} next-page requests in ${Date.now() - first} ms`);
        await more.filter({ hasText: 'Could not load more' }).waitFor();
        assert.equal(await retry.isVisible(), true);

        // scrolled up, the end out of view: nothing asks for the page
        // again but the button (clicked where it is, not scrolled to)
        await p.locator('#threads-scroll').evaluate(
            (el) => { el.scrollTop = 0; });
        await more.filter({ hasText: 'Could not load more' }).waitFor();
        const before = asked;
        await p.waitForTimeout(500);
        down = false;
        await retry.evaluate((button) => button.click());
        await rows(p).nth(OLD - 1).waitFor({ state: 'attached' });
        assert.equal(asked, before + 1, 'Try again asked once');
        assert.deepEqual(await rowIds(p), await allIds());
        assert.equal(await more.textContent(), '');
        assert.equal(await retry.isVisible(), false);
    } finally {
        await p.context().close();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
