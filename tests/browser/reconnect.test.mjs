// What failed while the connection was down heals by itself once it is
// back, in Debian's Chromium (playwright's setOffline, or requests cut by
// a route while the server seems gone): an open thread whose messages
// could not load, the contact panel beside it (a name being typed there
// stays), an opted-out thread's notice (how its contact opted out, read
// once), and Settings' Team list, form and billing; the reply and the
// email being typed stay too, and what did not fail (the thread list) is not read again.
// A lone request that met no server while the socket lives, the server
// answering the page's probe at once, says nothing of the connection:
// no "reconnecting" shown for a moment.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { backOnline, CONN_PROMPT_MS as PROMPT_MS, connOf, goOffline,
         noPageErrorsTest, rowOf, shown, signIn, useBrowser,
         watchConnection } from '../lib/browser.mjs';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

// the default quiet hours, shown once Settings is read again (null: not the
// fixture's)
const ctx = useCluster({ orgs: [{ name: 'Ferry Landing Deli',
                                  quietHours: null }] });
const USER = { email: 'ines@ferry.example', password: 'ines minds the deli' };
const FIRST = uniqueNumber();
const SECOND = uniqueNumber();
const STOPPER = uniqueNumber();     /* texted STOP */
const REFUSED = uniqueNumber();     /* texted STOP; its record refused */
const web = useBrowser();

let page;

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], USER.email, USER.password,
                  'billing');
    await deliverInbound(cluster, { from: FIRST, body: 'Any soup today?' });
    await deliverInbound(cluster, { from: SECOND,
                                    body: 'Is the ferry running?' });
    /* read already: opened, their threads have nothing to mark read, so
     * no answer of that draws the header again on the way back */
    const token = cluster.orgs[0].token;
    for (const from of [STOPPER, REFUSED]) {
        await deliverInbound(cluster, { from, body: 'STOP' });
        const found = await api(cluster, '/api/v1/conversations?q='
                                + from.slice(2), token);
        const read = await api(cluster, '/api/v1/conversations/'
                               + found.json.items[0].id + '/read', token,
                               { method: 'POST' });
        assert.equal(read.status, 200, read.text);
    }
    await web.launch();
    page = await web.newPage();
    await signIn(page, cluster, USER);
    await rowOf(page, shown(FIRST)).waitFor();
    await rowOf(page, shown(SECOND)).waitFor();
    /* every state the connection indicator takes, in order */
    await watchConnection(page);
});

const conn = (state) => connOf(page, state);
const panel = () => page.getByRole('complementary', { name: 'Contact' });
const sub = () => page.locator('#thread-sub');
const views = () => page.locator('#views');

/* The API paths (with their query) the page asks for from now on,
 * their method first. */
function requestsOf() {
    const asked = [];
    const note = (req) => {
        const url = new URL(req.url());
        if (url.pathname.startsWith('/api/')) {
            asked.push(`${req.method()} ${url.pathname}${url.search}`);
        }
    };
    page.on('request', note);
    return { asked, stop: () => page.off('request', note) };
}

test('an open thread whose messages failed while offline is read again '
     + 'when the connection is back; the reply being typed stays, and '
     + 'the thread list is not read again', async () => {
    await goOffline(page);
    await rowOf(page, shown(FIRST)).getByRole('button').click();
    await sub().filter({ hasText: 'Could not load messages' }).waitFor();
    const reply = page.locator('#composer-text');
    await reply.fill('Tomato, until four');
    const asked = requestsOf();
    try {
        await backOnline(page);
        await page.locator('#messages .message',
                           { hasText: 'Any soup today?' }).waitFor();
        await page.waitForFunction(() => !/Could not load/.test(
            document.getElementById('thread-sub').textContent), null,
            { timeout: PROMPT_MS });
    } finally {
        asked.stop();
    }
    assert.equal(await reply.inputValue(), 'Tomato, until four');
    /* the thread's messages, and the ticket of the new socket; the list
     * read fine before: it is not read again */
    assert.equal(asked.asked.filter((r) => /^GET \/api\/v1\/conversations\?/
        .test(r)).length, 0, asked.asked.join('\n'));
    assert.ok(asked.asked.some((r) => r.startsWith('GET /api/v1/'
        + 'conversations/') && r.includes('/messages')), asked.asked
        .join('\n'));
    await reply.fill('');
});

test('the contact panel whose read failed while offline is read again '
     + 'when the connection is back', async () => {
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    await panel().locator('.timeline-item',
                          { hasText: 'Any soup today?' }).waitFor();
    await goOffline(page);
    await rowOf(page, shown(SECOND)).getByRole('button').click();
    await panel().locator('#contact-status',
        { hasText: 'Could not load the contact' }).waitFor();
    await backOnline(page);
    await panel().locator('.timeline-item',
                          { hasText: 'Is the ferry running?' }).waitFor();
    assert.equal(await panel().locator('#contact-status').textContent(),
                 '');
    await page.locator('#messages .message',
                       { hasText: 'Is the ferry running?' }).waitFor();
});

test('a read of the contact panel that failed while the server could not '
     + 'be reached is made again once it is back, the name being typed '
     + 'kept', async () => {
    const name = panel().getByLabel('Name');
    await name.fill('Ferry Fan');
    /* the thread read (the last request the page had under way) */
    await rowOf(page, shown(SECOND)).and(page.locator('.unread'))
        .waitFor({ state: 'detached' });
    /* the server gone: every request cut, the page's own questions
     * too, until the page says it is down */
    await page.route('**/api/v1/**',
                     (route) => route.abort('connectionrefused'));
    try {
        /* the panel reads its contact again for a message that came */
        await deliverInbound(ctx.cluster, { from: SECOND,
                                            body: 'And the last one?' });
        await panel().locator('#contact-status',
            { hasText: 'Could not load the contact' }).waitFor();
        await conn('reconnecting').waitFor({ timeout: PROMPT_MS });
    } finally {
        await page.unroute('**/api/v1/**');
    }
    await conn('live').waitFor({ timeout: 3 * PROMPT_MS });
    await panel().locator('.timeline-item',
                          { hasText: 'And the last one?' }).waitFor();
    assert.equal(await panel().locator('#contact-status').textContent(),
                 '');
    assert.equal(await name.inputValue(), 'Ferry Fan');
    await name.fill('');
});

test('the Team list and the settings and billing that failed while '
     + 'offline are read again when the connection is back; the email '
     + 'being typed stays', async () => {
    await goOffline(page);
    await views().getByRole('link', { name: 'Settings' }).click();
    await page.locator('#team-status',
                       { hasText: 'Could not load the team' }).waitFor();
    await page.locator('#settings-error',
                       { hasText: 'could not be reached' }).waitFor();
    assert.equal(await page.locator('#billing-figures dt').count(), 0);
    assert.equal(await page.locator('#settings-quiet-start').inputValue(),
                 '');
    await page.locator('#team-email').fill('new.hand@ferry.example');
    await backOnline(page);
    await page.locator('#team-list li', { hasText: USER.email }).waitFor();
    assert.equal(await page.locator('#team-status').textContent(), '');
    await page.locator('#billing-figures dt').first().waitFor();
    assert.equal(await page.locator('#settings-error').textContent(), '');
    /* the organization's quiet hours, the default, shown */
    assert.equal(await page.locator('#settings-quiet-start').inputValue(),
                 '21:00');
    assert.equal(await page.locator('#team-email').inputValue(),
                 'new.hand@ferry.example');
    await page.locator('#team-email').fill('');
});

test('a lone request that meets no server, or a proxy\'s 502, while the '
     + 'socket is live and the server answers, says nothing of the '
     + 'connection', async () => {
    await views().getByRole('link', { name: 'Inbox' }).click();
    await conn('live').waitFor();
    await page.evaluate(() => { window.connStates.length = 0; });
    /* the first request opening the thread makes is cut; the second
     * answered by a proxy that lost its server for a moment */
    const cut = [];
    const probes = [];
    const probed = (res) => {
        if (new URL(res.url()).pathname === '/api/v1/me') {
            probes.push(res.status());
        }
    };
    page.on('response', probed);
    await page.route('**/api/v1/conversations/**', (route) => {
        cut.push(new URL(route.request().url()).pathname);
        if (cut.length === 1) {
            return route.abort('connectionreset');
        }
        if (cut.length === 2) {
            return route.fulfill({ status: 502, contentType: 'text/html',
                                   body: '<h1>502 Bad Gateway</h1>' });
        }
        return route.fallback();
    });
    /* what the question to the server, or a new socket had one been
     * tried, takes */
    const settled = () => page.waitForTimeout(1000);
    const said = () => page.evaluate(() => window.connStates);
    try {
        await rowOf(page, shown(FIRST)).getByRole('button').click();
        await sub().filter({ hasText: 'Could not load messages' }).waitFor();
        await settled();
        assert.deepEqual(await said(), []);
        await rowOf(page, shown(SECOND)).getByRole('button').click();
        await sub().filter({ hasText: 'answered 502' }).waitFor();
        await settled();
        assert.deepEqual(await said(), []);
        assert.ok(cut.length >= 2, cut.join(' '));
    } finally {
        await page.unroute('**/api/v1/conversations/**');
        page.off('response', probed);
    }
    assert.equal(await page.locator('#live-banner').isVisible(), false);
    /* the server was asked, once, and answered */
    assert.deepEqual(probes, [200]);
});

test('an opted-out thread opened while offline says how its contact '
     + 'opted out once the connection is back, without a click, its '
     + 'record read once', async () => {
    /* the panel closed: it reads the contact for itself */
    const contact = page.getByRole('button', { name: 'Contact',
                                               exact: true });
    if (await contact.getAttribute('aria-expanded') === 'true') {
        await contact.click();
    }
    const notice = page.locator('#composer-closed');
    await goOffline(page);
    await rowOf(page, shown(STOPPER)).getByRole('button').click();
    await notice.filter({ hasText: 'opted out' }).waitFor();
    assert.equal(await notice.textContent(), shown(STOPPER) + ' opted out'
                 + ' \u2014 they can text START to opt back in.');
    const asked = requestsOf();
    try {
        await backOnline(page);
        await page.waitForFunction(() => / opted out \(by keyword STOP on /
            .test(document.getElementById('composer-closed').textContent),
            null, { timeout: PROMPT_MS });
        await page.waitForTimeout(500);
    } finally {
        asked.stop();
    }
    assert.equal(asked.asked.filter((r) => /^GET \/api\/v1\/contacts\//
        .test(r)).length, 1, asked.asked.join('\n'));
});

test('an opted-out contact\'s record the server refuses each time is read '
     + 'again once a return of the connection, not by each redraw of its '
     + 'thread', async () => {
    const notice = page.locator('#composer-closed');
    const refused = [];
    await page.route('**/api/v1/contacts/*', (route) => {
        refused.push(route.request().url());
        return route.fulfill({ status: 500, contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'internal',
                                            message: 'Try again.' } }) });
    });
    try {
        const answered = page.waitForResponse((res) =>
            /^\/api\/v1\/contacts\/[^/]+$/.test(new URL(res.url()).pathname));
        await rowOf(page, shown(REFUSED)).getByRole('button').click();
        assert.equal((await answered).status(), 500);
        await notice.filter({ hasText: 'opted out' }).waitFor();
        assert.equal(refused.length, 1);
        /* a text of theirs draws the thread's header again */
        await deliverInbound(ctx.cluster, { from: REFUSED,
                                            body: 'Who is this?' });
        await page.locator('#messages .message',
                           { hasText: 'Who is this?' }).waitFor();
        await page.waitForTimeout(500);
        assert.equal(refused.length, 1, 'read again by a redraw');
        await goOffline(page);
        await backOnline(page);
        await page.waitForTimeout(1000);
        assert.equal(refused.length, 2, 'read again once when back');
        assert.doesNotMatch(await notice.textContent(), /\(by keyword/);
    } finally {
        await page.unroute('**/api/v1/contacts/*');
    }
    await goOffline(page);
    await backOnline(page);
    await page.waitForFunction(() => / opted out \(by keyword STOP on /
        .test(document.getElementById('composer-closed').textContent),
        null, { timeout: PROMPT_MS });
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
