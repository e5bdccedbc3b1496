// The thread list under load, in Debian's Chromium: a burst of new threads
// (a campaign's replies pouring in) keeps the list to what was loaded and
// what is in view, the newest on top, and scrolling down still reaches
// every thread; a next page the server fails to give is said, with a Try
// again button, and not asked for again and again; a list read again
// after a large import (contacts.imported) keeps every page scrolled to
// and the focused row where it was, and after events missed a next page
// under way then; and one whose reading again fails shows nothing and
// asks for no next page of what it showed.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { answerUnavailable, noPageErrorsTest, signIn, useBrowser }
    from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, importContactsCsv } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'List Org' }] });

const PERSON = { email: 'person@list.example', password: 'list test pw' };
// more threads than the first page (100) holds
const OLD = 130;
// new threads, one live message.created each, while the list is open
const NEW = 300;
const oldNumber = (i) => `+1646555${String(1000 + i)}`;
const newNumber = (i) => `+1718555${String(1000 + i)}`;

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
async function allThreads() {
    const org = ctx.cluster.orgs[0];
    const threads = [];
    let cursor = null;
    do {
        const res = await api(ctx.cluster, '/api/v1/conversations?limit=200'
            + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''),
            org.token);
        assert.equal(res.status, 200, res.text);
        threads.push(...res.json.items);
        cursor = res.json.next_cursor;
    } while (cursor);
    return threads;
}

async function allIds() {
    return (await allThreads()).map((c) => c.id);
}

// A colleague's import naming the threads' contacts "name 0", "name 1"…:
// past the 50 a batch pushes one by one, one contacts.imported says so.
function nameContacts(threads, name) {
    return importContactsCsv(ctx.cluster, ctx.cluster.orgs[0].token,
        'phone,name\n' + threads.map((c, i) =>
            `${c.contact.phone},${name} ${i}\n`).join(''));
}

// Waits until n rows' names begin with name.
function namedRows(p, name, n) {
    return p.waitForFunction(([prefix, count]) => [...document
        .querySelectorAll('#threads .row-name')].filter((el) =>
        el.textContent.startsWith(prefix)).length === count, [name, n]);
}

// Scrolls the list to its end until it shows n rows.
async function scrollUntil(p, n) {
    const deadline = Date.now() + 30000;
    while (await rows(p).count() < n) {
        assert.ok(Date.now() < deadline, `the list reached ${n} rows; got `
            + await rows(p).count());
        await p.locator('#threads-scroll').evaluate(
            (el) => { el.scrollTop = el.scrollHeight; });
        await p.waitForTimeout(150);
    }
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
            return down ? answerUnavailable(route, 'Try later')
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

test('a burst of new threads keeps the list to what was loaded and what '
     + 'is in view, the newest on top; scrolling down reaches every thread',
     async () => {
    const p = await web.newPage();
    try {
        await signIn(p, ctx.cluster, PERSON);
        await rows(p).nth(99).waitFor();
        const loaded = await rows(p).count();
        assert.equal(loaded, 100, 'the first page');
        const inView = await p.locator('#threads-scroll').evaluate(
            (el) => Math.ceil(el.clientHeight
                / el.querySelector('#threads > li').offsetHeight));
        const bound = loaded + inView;

        let most = 0;
        const watching = setInterval(() => {
            rows(p).count().then((n) => { most = Math.max(most, n); },
                () => {});
        }, 50);
        try {
            await inParallel([...Array(NEW).keys()], 8,
                (i) => deliverInbound(ctx.cluster,
                    { from: newNumber(i), body: `New thread ${i}` }));
            // the last of them on top, once every frame came
            const all = await allIds();
            await p.waitForFunction((id) => {
                const li = document.querySelector('#threads > li');
                return li && li.dataset.id === id;
            }, all[0]);
            await p.waitForTimeout(300);
            const shown = await rowIds(p);
            assert.ok(shown.length <= bound,
                `${shown.length} rows shown, more than ${bound}`);
            assert.deepEqual(shown, all.slice(0, shown.length),
                'the newest threads, in the API\'s order');
        } finally {
            clearInterval(watching);
        }
        assert.ok(most <= bound, `${most} rows at once, more than ${bound}`);

        await scrollUntil(p, OLD + NEW);
        await p.waitForTimeout(500);
        const ids = await rowIds(p);
        assert.equal(new Set(ids).size, ids.length, 'no thread twice');
        assert.deepEqual(ids, await allIds());
        assert.equal(await p.locator('#list-more').textContent(), '');
    } finally {
        await p.context().close();
    }
});

test('a list read again after a large import (contacts.imported) keeps '
     + 'every page scrolled to, the focused row where it was on the screen',
     async () => {
    const p = await web.newPage();
    try {
        await signIn(p, ctx.cluster, PERSON);
        await rows(p).nth(99).waitFor();
        await scrollUntil(p, 300);
        const before = await rowIds(p);
        const threads = await allThreads();
        assert.deepEqual(before, threads.slice(0, 300).map((c) => c.id));
        const id = before[249];
        const focused = p.locator(`#threads > li[data-id="${id}"]`);
        await focused.locator('.thread-row').focus();
        const at = () => focused.evaluate((el) =>
            Math.round(el.getBoundingClientRect().top));
        const top = await at();

        // the contacts of rows 200 to 259 named by a colleague's import
        await nameContacts(threads.slice(200, 260), 'Named');
        await namedRows(p, 'Named ', 60);
        assert.deepEqual(await rowIds(p), before,
                         'every row shown before, in its place');
        assert.ok(await focused.locator('.thread-row').evaluate((el) =>
            el === document.activeElement), 'the row keeps the focus');
        assert.equal(await at(), top, 'the row stays where it was');
    } finally {
        await p.context().close();
    }
});

test('a next page under way when the list is read again (events '
     + 'missed) is read with it: no row shown goes, none is shown twice',
     async () => {
    const p = await web.newPage();
    // the next contacts.imported, once asked, is lost on the way: the
    // frame after it shows the page its gap
    let lose = null;
    await p.routeWebSocket(/\/ws/, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((m) => {
            if (lose && JSON.parse(m).type === 'contacts.imported') {
                lose();
                lose = null;
                return;
            }
            ws.send(m);
        });
    });
    // a request held until released; asked: once it is, or a failure
    const hold = (what) => {
        const held = {};
        const asked = new Promise((resolve) => { held.ask = resolve; });
        held.asked = () => Promise.race([asked, new Promise((_, fail) =>
            setTimeout(() => fail(new Error(`no ${what}`)), 15000))]);
        held.go = new Promise((resolve) => { held.release = resolve; });
        return held;
    };
    const more = hold('next page');
    const again = hold('read again');
    try {
        await signIn(p, ctx.cluster, PERSON);
        await rows(p).nth(99).waitFor();
        await scrollUntil(p, 200);
        // rows gone from the list, from now on
        await p.evaluate(() => {
            const list = document.getElementById('threads');
            let most = list.childElementCount;
            window.rowsGone = [];
            new MutationObserver(() => {
                const n = list.childElementCount;
                if (n < most) {
                    window.rowsGone.push(`${most} to ${n}`);
                }
                most = Math.max(most, n);
            }).observe(list, { childList: true });
        });
        // the next page, and the first read of the list again, held
        await p.route((u) => u.pathname === '/api/v1/conversations'
                      && u.searchParams.get('limit') !== '1', async (route) => {
            const u = new URL(route.request().url());
            const held = u.searchParams.has('cursor') ? more : again;
            if (held.request === undefined) {
                held.request = route.request();
                held.ask();
                await held.go;
            }
            await route.continue();
        });
        await p.locator('#threads-scroll').evaluate(
            (el) => { el.scrollTop = el.scrollHeight; });
        await more.asked();

        // rows 150 to 209 renamed, the event missed; the next shows the gap
        const threads = await allThreads();
        const lost = new Promise((resolve) => { lose = resolve; });
        await nameContacts(threads.slice(150, 210), 'Renamed');
        await lost;
        await nameContacts(threads.slice(0, 1), 'Top');
        await again.asked();
        // the next page answers first, then the list read again
        const answered = p.waitForEvent('requestfinished',
            { predicate: (r) => r === more.request });
        more.release();
        await answered;
        again.release();

        await namedRows(p, 'Renamed ', 60);
        await namedRows(p, 'Top ', 1);
        await p.waitForFunction(() => document.querySelectorAll(
            '#threads > li').length >= 300);
        const ids = await rowIds(p);
        assert.equal(new Set(ids).size, ids.length, 'no thread twice');
        assert.deepEqual(ids, threads.slice(0, ids.length)
            .map((c) => c.id));
        assert.deepEqual(await p.evaluate(() => window.rowsGone), [],
                         'no row shown went');
    } finally {
        more.release();
        again.release();
        await p.context().close();
    }
});

test('a list whose reading again fails shows no thread and asks for no '
     + 'next page of what it showed until Try again reads it anew',
     async () => {
    const p = await web.newPage();
    try {
        await signIn(p, ctx.cluster, PERSON);
        await rows(p).nth(99).waitFor();

        // the list read again fails; a next page is counted
        let nextPages = 0;
        let down = true;
        await p.route((u) => u.pathname === '/api/v1/conversations'
                      && u.searchParams.get('limit') !== '1', (route) => {
            const u = new URL(route.request().url());
            if (u.searchParams.has('cursor')) {
                nextPages += 1;
                return route.continue();
            }
            return down ? answerUnavailable(route, 'Try later')
                : route.continue();
        });
        // a colleague's import: the list is read again, and fails
        const threads = await allThreads();
        await nameContacts(threads.slice(0, 60), 'Unread');
        const status = p.locator('#list-status');
        await status.filter({ hasText: 'Could not load conversations: '
                                       + 'Try later' }).waitFor();
        // the emptied list brings its end into view: the page after the
        // rows it showed must not fill it
        await p.waitForTimeout(1000);
        assert.equal(nextPages, 0, 'no next page of the rows shown before');
        assert.equal(await rows(p).count(), 0);

        down = false;
        await p.getByRole('button', { name: 'Try again', exact: true })
            .click();
        await namedRows(p, 'Unread ', 60);
        assert.deepEqual(await rowIds(p), threads.slice(0, 100)
            .map((c) => c.id));
    } finally {
        await p.context().close();
    }
});

test('Try again after a failed reading again brings back every row shown '
     + 'and the focused row where it was', async () => {
    const p = await web.newPage();
    try {
        await signIn(p, ctx.cluster, PERSON);
        await rows(p).nth(99).waitFor();
        await scrollUntil(p, OLD);
        const before = await rowIds(p);
        const id = before[OLD - 20];
        const focused = p.locator(`#threads > li[data-id="${id}"]`);
        await focused.locator('.thread-row').focus();
        const at = () => focused.evaluate((el) =>
            Math.round(el.getBoundingClientRect().top));
        const top = await at();

        let down = true;
        await p.route((u) => u.pathname === '/api/v1/conversations'
                      && u.searchParams.get('limit') !== '1', (route) =>
            (down && !new URL(route.request().url()).searchParams
                .has('cursor') ? answerUnavailable(route, 'Try later')
                : route.continue()));
        // a colleague's import: the list is read again, and fails
        const threads = await allThreads();
        await nameContacts(threads.slice(0, 60), 'Again');
        await p.locator('#list-status').filter({ hasText:
            'Could not load conversations: Try later' }).waitFor();
        assert.equal(await rows(p).count(), 0);

        down = false;
        await p.getByRole('button', { name: 'Try again', exact: true })
            .click();
        await namedRows(p, 'Again ', 60);
        assert.deepEqual(await rowIds(p), before,
                         'every row shown before, in its place');
        assert.ok(await focused.locator('.thread-row').evaluate((el) =>
            el === document.activeElement), 'the row has the focus again');
        assert.equal(await at(), top, 'the row is where it was');
    } finally {
        await p.context().close();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
