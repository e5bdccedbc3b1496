// The web app in Debian's Chromium: sign in with email and password, see
// the threads, and watch a new conversation arrive live, without reloading
// the page.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { rowOf, shown, signIn, useBrowser } from '../lib/browser.mjs';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const SCREENSHOT = process.env.INBOX_SCREENSHOT || '/tmp/inbox-web.png';
// small sign-in limits, so that a test sees the 429 message
const ctx = useCluster({ orgs: [{ name: 'Browser Org' }],
                         http: ['inbox_login_rate 1r/m burst=1;'] });
const USER = { email: 'robin@browser.example', password: 'robin signs in' };
const seeded = uniqueNumber();
const web = useBrowser();
let page;

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], USER.email, USER.password);
    await deliverInbound(cluster, { from: seeded,
        body: 'Do you deliver on Saturdays?' });
    await web.launch();
    page = await web.newPage();
});

test('a wrong password is refused on the sign-in form', async () => {
    await page.goto(ctx.cluster.url('/'));
    await page.getByLabel('Email', { exact: true }).fill(USER.email);
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That email and password do not match').waitFor();
    assert.equal(await page.locator('#app').isVisible(), false);
    assert.equal(await page.getByLabel('Password', { exact: true })
        .inputValue(), '');
});

test('repeated failed sign-ins are told how long to wait', async () => {
    const other = 'nobody@browser.example';
    for (let i = 0; i < 3; i++) {
        await page.getByLabel('Email', { exact: true }).fill(other);
        await page.getByLabel('Password', { exact: true }).fill(`guess ${i}`);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('#signin-error:not(:empty)').waitFor();
        if (/Too many/.test(await page.locator('#signin-error')
            .textContent())) {
            break;
        }
        await page.evaluate(() => {
            document.getElementById('signin-error').textContent = '';
        });
    }
    assert.match(await page.locator('#signin-error').textContent(),
        /^Too many failed sign-ins\. Wait \d+ seconds and try again\.$/);
});

test('signing in shows the seeded thread, the unread total and "live"',
    async () => {
        await signIn(page, ctx.cluster, USER);
        // no credential a script could read: the cookie is HttpOnly
        assert.equal(await page.evaluate(() => document.cookie), '');

        const rows = page.locator('#threads > li');
        await rows.first().waitFor();
        assert.equal(await rows.count(), 1);
        const row = rows.first();
        assert.equal(await row.locator('.row-name').textContent(),
            shown(seeded));
        assert.equal(await row.locator('.row-preview').textContent(),
            'Do you deliver on Saturdays?');
        assert.equal(await row.locator('.badge').textContent(), '1');
        assert.equal(await row.locator('.row-time').textContent(), 'now');
        await page.locator('#unread-total', { hasText: /^1$/ }).waitFor();
        await page.locator('#conn[data-state="live"]').waitFor();
        assert.equal(await page.locator('#conn-label').textContent(),
            'live');
    });

test('a new conversation appears at the top with its badge, live',
    async () => {
        await page.evaluate(() => { window.noReloadMarker = 42; });
        const from = uniqueNumber();
        await deliverInbound(ctx.cluster, { from,
            body: 'Hi! I\'d like to book a table for 4 <b>tonight</b>' });

        const top = page.locator('#threads > li').first();
        await top.locator('.row-name', { hasText: shown(from) }).waitFor();
        assert.equal(await top.locator('.row-preview').textContent(),
            'Hi! I\'d like to book a table for 4 <b>tonight</b>');
        assert.equal(await top.locator('.badge').textContent(), '1');
        assert.equal(await top.locator('.badge').isVisible(), true);
        await page.locator('#unread-total', { hasText: /^2$/ }).waitFor();
        assert.equal(await page.locator('#threads > li').count(), 2);
        assert.equal(await page.evaluate(() => window.noReloadMarker), 42,
            'the page was not reloaded');
        assert.equal(await page.locator('#threads b').count(), 0,
            'text is never parsed as HTML');
    });

test('a new message to an older thread moves it to the top', async () => {
    await deliverInbound(ctx.cluster, { from: seeded,
        body: 'Also, do you have gift cards?' });
    const top = page.locator('#threads > li').first();
    await top.locator('.row-name', { hasText: shown(seeded) }).waitFor();
    assert.equal(await top.locator('.row-preview').textContent(),
        'Also, do you have gift cards?');
    assert.equal(await top.locator('.badge').textContent(), '2');
    await page.locator('#unread-total', { hasText: /^3$/ }).waitFor();
});

test('opening a thread shows its messages, and new ones append live',
    async () => {
        await page.locator('#threads > li').first().getByRole('button')
            .click();
        const bodies = page.locator('#messages .message .body');
        await bodies.nth(1).waitFor();
        assert.deepEqual(await bodies.allTextContents(),
            ['Do you deliver on Saturdays?', 'Also, do you have gift cards?']);
        assert.equal(await page.locator('#thread-title').textContent(),
            shown(seeded));

        await deliverInbound(ctx.cluster, { from: seeded,
            body: 'Thanks!' });
        await bodies.nth(2).waitFor();
        assert.equal(await bodies.nth(2).textContent(), 'Thanks!');
        await page.screenshot({ path: SCREENSHOT });
    });

test('the Unread tab lists only threads with unread messages', async () => {
    await page.getByRole('button', { name: 'Unread threads',
                                    exact: true }).click();
    await page.locator('.tab[data-filter="unread"][aria-pressed="true"]')
        .waitFor();
    // read atomically in the page: the open thread, read meanwhile, may
    // leave the list while it is being looked at
    await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#threads > li')];
        const unread = (li) => !li.querySelector('.badge').hidden;
        const open = (li) => li.querySelector('.thread-row')
            .getAttribute('aria-current') === 'true';
        return rows.some(unread)
            && rows.every((li) => open(li) || unread(li));
    });
    await page.getByRole('button', { name: 'All', exact: true }).click();
    await page.waitForFunction(() =>
        document.querySelectorAll('#threads > li').length === 2);
});

test('opening a thread clears its badge and lowers the header total, '
    + 'also in another browser of the organization', async () => {
        const page2 = await web.newPage();
        try {
            await signIn(page2, ctx.cluster, USER);

            const from = uniqueNumber();
            await deliverInbound(ctx.cluster, { from,
                body: 'Are you open on Sunday?' });
            const rowFrom = (p) => rowOf(p, shown(from));
            for (const p of [page, page2]) {
                await rowFrom(p).locator('.badge', { hasText: /^1$/ })
                    .waitFor();
            }
            const total = Number(
                await page.locator('#unread-total').textContent());
            assert.ok(total >= 1);
            await page2.locator('#unread-total',
                { hasText: new RegExp(`^${total}$`) }).waitFor();

            await rowFrom(page).getByRole('button').click();
            await page.locator('#messages .message .body',
                { hasText: 'Are you open on Sunday?' }).waitFor();
            const left = new RegExp(`^${total - 1}$`);
            for (const p of [page, page2]) {
                await rowFrom(p).locator('.badge').waitFor(
                    { state: 'hidden' });
                await p.locator('#unread-total', { hasText: left })
                    .waitFor();
                assert.equal(await rowFrom(p).evaluate(
                    (li) => li.classList.contains('unread')), false);
            }
        } finally {
            await page2.context().close();
        }
    });

// The unread count of the thread with phone, as the server has it.
async function unreadOf(phone) {
    const list = await api(ctx.cluster,
        `/api/v1/conversations?q=${phone.slice(2)}`, ctx.cluster.orgs[0].token);
    return list.json.items[0].unread_count;
}

// Opens the thread of a new number, which texts body first; returns the
// number once the thread is read.
async function openedNewThread(body) {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body });
    await rowOf(page, shown(from)).getByRole('button').click();
    await page.locator('#messages .message .body', { hasText: body })
        .waitFor();
    await rowOf(page, shown(from)).locator('.badge')
        .waitFor({ state: 'hidden' });
    return from;
}

// Delivers body from `from` and waits until the open thread shows it.
async function arrives(from, body) {
    await deliverInbound(ctx.cluster, { from, body });
    await page.locator('#messages .message .body', { hasText: body })
        .waitFor({ state: 'attached' });
}

const READS = /\/api\/v1\/conversations\/[^/]+\/read$/;

// Delivers body from `from` to the open thread while it is not seen;
// returns the reads the page sent meanwhile (there should be none).  A
// read for body would be sent as the page takes in its message.created;
// a fence: a message of a new number comes after it in the stream, so
// once its row is listed, such a read has been sent (and its request
// event, from the same page, seen before).
async function readsSentAsArrives(from, body) {
    const sent = [];
    const onRequest = (req) => {
        if (req.method() === 'POST' && READS.test(req.url())) {
            sent.push(req.url());
        }
    };
    page.on('request', onRequest);
    try {
        await arrives(from, body);
        const later = uniqueNumber();
        await deliverInbound(ctx.cluster, { from: later,
            body: 'A later message, of another thread' });
        await rowOf(page, shown(later)).waitFor({ state: 'attached' });
    } finally {
        page.off('request', onRequest);
    }
    return sent;
}

test('a message to the open thread, shown, is read at once: no badge, and '
    + 'read for the server too', async () => {
        const from = await openedNewThread('Is there parking?');
        await arrives(from, 'Or only in the street?');
        await eventually(async () => await unreadOf(from) === 0, 5000,
            'the thread read');
        assert.equal(await rowOf(page, shown(from)).locator('.badge')
            .isVisible(), false);
    });

test('a message to the open thread while another view is shown stays '
    + 'unread until the Inbox is shown again', async () => {
        const from = await openedNewThread('Is the patio open?');
        await page.evaluate(() => { location.hash = '#campaigns'; });
        await page.locator('#app').waitFor({ state: 'hidden' });

        assert.deepEqual(await readsSentAsArrives(from, 'We are six people'),
            [], 'not seen, so not read');
        assert.equal(await unreadOf(from), 1, 'not seen, so not read');
        assert.equal(await rowOf(page, shown(from)).locator('.badge')
            .textContent(), '1');

        await page.evaluate(() => { location.hash = '#inbox'; });
        await rowOf(page, shown(from)).locator('.badge')
            .waitFor({ state: 'hidden' });
        assert.equal(await unreadOf(from), 0);
    });

test('a message to the open thread while the tab is hidden stays unread '
    + 'until the tab is back', async () => {
        const from = await openedNewThread('Do you take cards?');
        const setHidden = (hidden) => page.evaluate((h) => {
            if (h) {
                Object.defineProperty(document, 'visibilityState',
                    { configurable: true, get: () => 'hidden' });
            } else {
                delete document.visibilityState;
            }
            document.dispatchEvent(new Event('visibilitychange'));
        }, hidden);
        await setHidden(true);
        try {
            assert.deepEqual(await readsSentAsArrives(from, 'Or only cash?'),
                [], 'not seen, so not read');
            assert.equal(await unreadOf(from), 1, 'not seen, so not read');
        } finally {
            await setHidden(false);
        }
        await rowOf(page, shown(from)).locator('.badge')
            .waitFor({ state: 'hidden' });
        assert.equal(await unreadOf(from), 0);
    });

test('choosing the open thread again marks it read when its read did not '
    + 'go through', async () => {
        const from = uniqueNumber();
        await deliverInbound(ctx.cluster, { from, body: 'Any vegan dishes?' });
        // the read is let through only once the page's was refused:
        // before, it would go through and leave nothing to read again
        let refused;
        const readRefused = new Promise((r) => { refused = r; });
        await page.route(READS, async (route) => {
            await route.abort();
            refused();
        });
        try {
            await rowOf(page, shown(from)).getByRole('button').click();
            await page.locator('#messages .message .body',
                { hasText: 'Any vegan dishes?' }).waitFor();
            await readRefused;
            assert.equal(await unreadOf(from), 1);
        } finally {
            await page.unroute(READS);
        }
        await rowOf(page, shown(from)).getByRole('button').click();
        await rowOf(page, shown(from)).locator('.badge')
            .waitFor({ state: 'hidden' });
        assert.equal(await unreadOf(from), 0);
    });

test('bidi controls in what a contact writes stay inside it', async () => {
    const from = uniqueNumber();
    // U+202E (right-to-left override), never closed
    const body = 'Invoice \u202Efdp.exe and more';
    await deliverInbound(ctx.cluster, { from, body });
    const row = rowOf(page, shown(from));
    const preview = row.locator('.row-preview-text');
    await preview.waitFor();
    assert.equal(await preview.textContent(), body, 'shown, not stripped');
    await row.getByRole('button').click();
    const shownBody = page.locator('#messages .message .body',
        { hasText: 'fdp.exe' });
    await shownBody.waitFor();
    for (const el of [preview, shownBody, row.locator('.row-name'),
                      page.locator('#thread-title')]) {
        assert.equal(await el.evaluate(
            (e) => getComputedStyle(e).unicodeBidi), 'isolate');
    }
});

test('the app runs under its Content-Security-Policy without violations',
    async () => {
        assert.deepEqual(web.cspViolations, []);
    });

test('a reload keeps the session; signing out ends it', async () => {
    await page.reload();
    await page.locator('#conn[data-state="live"]').waitFor();
    const [cookie] = (await page.context().cookies())
        .filter((c) => c.name === 'inbox_session');
    assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Lax',
        JSON.stringify(cookie));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Password', { exact: true }).waitFor();
    await page.waitForFunction(async () =>
        (await fetch('/api/v1/me')).status === 401);
    await page.reload();
    await page.getByLabel('Password', { exact: true }).waitFor();
    assert.equal(await page.locator('#app').isVisible(), false);

    // the old cookie is no key to anything now
    const res = await fetch(ctx.cluster.url('/api/v1/me'),
        { headers: { Cookie: `inbox_session=${cookie.value}` } });
    assert.equal(res.status, 401);
    assert.deepEqual(web.pageErrors, []);
});

test('a session that ends while the app is open shows the sign-in form',
    async () => {
        await signIn(page, ctx.cluster, USER);
        // ended elsewhere (another tab signed out, or it expired); the
        // next thing the app asks for says so.  One step in the page, so
        // that none of the app's own timers asks first
        await page.evaluate(async () => {
            await fetch('/api/v1/auth/logout', { method: 'POST',
                headers: { 'X-Requested-With': 'inbox' } });
            document.querySelector('.tab[data-filter="unread"]').click();
        });
        await page.getByText('Your session has ended. Sign in again.')
            .waitFor();
        assert.equal(await page.locator('#app').isVisible(), false);
        assert.deepEqual(web.pageErrors, []);
    });

test('signing out in one tab signs out the other tabs at once', async () => {
    await signIn(page, ctx.cluster, USER);
    await page.locator('#conn[data-state="live"]').waitFor();
    const other = await page.context().newPage();
    try {
        await other.goto(ctx.cluster.url('/'));
        await other.locator('#conn[data-state="live"]').waitFor();

        await page.getByRole('button', { name: 'Sign out' }).click();
        // with nothing done in it, the other tab shows no inbox any more
        await other.getByText('You signed out in another tab.').waitFor();
        assert.equal(await other.locator('#app').isVisible(), false);
        assert.equal(await other.locator('#threads li').count(), 0);
    } finally {
        await other.close();
    }
    assert.deepEqual(web.pageErrors, []);
});

errorLogIsCleanTest(ctx, web.close);
