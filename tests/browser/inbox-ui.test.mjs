// The web app as a person uses it, in Debian's Chromium: search (a
// thread it finds as the server does joining live), the five filters,
// the keyboard, acting on a thread (star, archive, mark unread), the
// unread count in the tab's title, a tab whose first page fails (no
// false list, Try again), a list that loads more as it scrolls, the
// banner while live updates are down, phone numbers written for people,
// and a 390 px wide screen without sideways scrolling.

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { before, test } from 'node:test';
import { answerUnavailable, noPageErrorsTest, rowOf, signIn, useBrowser }
         from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, importContactsCsv } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';


const ctx = useCluster({ orgs: [{ name: 'UI Org' }, { name: 'Many Org' },
                                { name: 'Search Org' }] });

// UI Org's contacts, each with one inbound message.
const UK = '+442079460958';
const US = '+14155550123';
const NAMED = '+13125550147';
const LONG = '+16175550199';
const LONG_BODY = 'Hello, I would like to ask about '
    + 'https://example.com/'.padEnd(300, 'x') + ' and '
    + 'Supercalifragilisticexpialidocious'.repeat(8);
// Many Org: more threads than the list's first pages hold.
const MANY = 130;
const manyNumber = (i) => `+1646555${String(1000 + i)}`;

const web = useBrowser();
let page;   // UI Org, 1200 x 720

const PASSWORD = 'ui test password';
const personOf = (org) => ({ email: `person@${org.id}.example`,
                             password: PASSWORD });

const rows = (p) => p.locator('#threads > li');
const names = (p) => p.locator('#threads .row-name').allTextContents();
const tab = (p, name) => p.getByRole('button', { name, exact: true });

// Signs in to org and waits until the list is shown and live.
async function signInTo(p, org) {
    await signIn(p, ctx.cluster, personOf(org));
    await rows(p).first().waitFor();
}

// Waits until the list shows exactly these names, in any order.
async function waitForNames(p, expected) {
    const want = [...expected].sort();
    const deadline = Date.now() + 10000;
    let got;
    for (;;) {
        got = (await names(p)).sort();
        if (JSON.stringify(got) === JSON.stringify(want)) {
            return;
        }
        if (Date.now() > deadline) {
            assert.deepEqual(got, want, 'the list shows these threads');
        }
        await new Promise((r) => setTimeout(r, 100));
    }
}

async function inParallel(items, n, fn) {
    const queue = [...items];
    await Promise.all(Array.from({ length: n }, async () => {
        while (queue.length) {
            await fn(queue.shift());
        }
    }));
}

// Names the contact of org's thread with phone, as its record's form does.
async function nameContact(org, phone, name) {
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === phone);
    const res = await api(ctx.cluster, `/api/v1/contacts/${conv.contact.id}`,
                          org.token, { method: 'PATCH', body: { name } });
    assert.equal(res.status, 200, res.text);
}

before(async () => {
    const cluster = await ctx.ready;
    const [ui, many] = cluster.orgs;
    for (const org of cluster.orgs) {
        await addUser(cluster, org, personOf(org).email, PASSWORD);
    }
    for (const [from, body] of [[UK, 'Hello from London'],
        [US, 'Hi from San Francisco'], [NAMED, 'Is the shop open?'],
        [LONG, LONG_BODY]]) {
        await deliverInbound(cluster, { org: ui, from, body });
    }
    await nameContact(ui, NAMED, 'Zoë Fairweather');
    await inParallel([...Array(MANY).keys()], 8, (i) => deliverInbound(
        cluster, { org: many, from: manyNumber(i), body: `Thread ${i}` }));

    await web.launch();
    page = await web.newPage();
});

test('the tab title counts unread messages, in words, live', async () => {
    await signInTo(page, ctx.cluster.orgs[0]);
    await rows(page).nth(3).waitFor();
    assert.equal(await page.title(), '4 unread messages \u00b7 Inbox');
    await deliverInbound(ctx.cluster, { from: UK, body: 'One more thing' });
    await page.waitForFunction(() =>
        document.title === '5 unread messages \u00b7 Inbox');
});

test('numbers are written for people: UK and US', async () => {
    assert.equal(await rowOf(page, '+44 20 7946 0958').count(), 1);
    assert.equal(await rowOf(page, '+1 (415) 555-0123').count(), 1);
    assert.equal(await rowOf(page, 'Zoë Fairweather').count(), 1);
    // the rule's other countries are libinbox's (test_phone); the page
    // shows what the server wrote
});

test('a thread last written to in another year says the year in its '
    + 'row, not a date that reads as this year\'s', async () => {
    const p = await web.newPage();
    try {
        /* the browser's clock 400 days on: every thread is of last year */
        await p.clock.install({ time: Date.now() + 400 * 24 * 3600 * 1000 });
        await signInTo(p, ctx.cluster.orgs[0]);
        const row = rowOf(p, '+44 20 7946 0958');
        const year = new Date().getFullYear();
        assert.match(await row.locator('.row-time').textContent(),
            new RegExp(`^[A-Z][a-z]{2} \\d{1,2}, ${year}$`));
    } finally {
        await p.context().close();
    }
});

test('search finds a thread by part of its number in any formatting, '
    + 'or by name; Esc clears it', async () => {
    const search = page.getByRole('searchbox', {
        name: 'Search conversations' });
    await page.locator('body').press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id),
        'search', '/ focuses the search');
    await page.keyboard.type('7946 09');
    await waitForNames(page, ['+44 20 7946 0958']);

    await search.press('Escape');
    assert.equal(await search.inputValue(), '');
    await waitForNames(page, ['+44 20 7946 0958', '+1 (415) 555-0123',
        'Zoë Fairweather', '+1 (617) 555-0199']);

    await search.fill('(415) 555-01');
    await waitForNames(page, ['+1 (415) 555-0123']);
    await search.fill('fairw');
    await waitForNames(page, ['Zoë Fairweather']);
    // typed without the accent, or in capitals
    await search.fill('ZOE');
    await waitForNames(page, ['Zoë Fairweather']);
    // a zero-width space alone (pasted, or typed by a keyboard) is no
    // search: every thread, where it once listed the names with a space
    await search.fill('\u200b');
    await waitForNames(page, ['+44 20 7946 0958', '+1 (415) 555-0123',
        'Zoë Fairweather', '+1 (617) 555-0199']);
    await search.fill('\u2060fair\u200bw\ufeff');
    await waitForNames(page, ['Zoë Fairweather']);
    await search.fill('nobody at all');
    await page.locator('#list-status',
        { hasText: 'No conversations match' }).waitFor();
    assert.equal(await rows(page).count(), 0);

    await search.press('Escape');
    await rows(page).nth(3).waitFor();
    await search.press('Escape');
    assert.notEqual(await page.evaluate(() => document.activeElement.id),
        'search', 'a second Esc leaves the search box');
});

test('a search in a tab finding nothing says which tab it looked in, '
    + 'not that no conversation matches', async () => {
    const search = page.locator('#search');
    try {
        await tab(page, 'Starred').click();
        await search.fill('fairw');
        await page.locator('#list-status', { hasText: 'No starred '
            + 'conversations match \u201cfairw\u201d. All searches every '
            + 'conversation.' }).waitFor();
        assert.equal(await rows(page).count(), 0);
        // All shows the thread the search finds
        await tab(page, 'All').click();
        await waitForNames(page, ['Zo\u00eb Fairweather']);
    } finally {
        await tab(page, 'All').click();
        await search.fill('');
    }
    await rows(page).nth(3).waitFor();
});

test('a thread that a search shown finds as the server does joins the '
    + 'list live: a Mexican mobile typed with its retired 1, in part, '
    + 'international and, in an organization of MX, national', async () => {
    const org = ctx.cluster.orgs[2];
    await deliverInbound(ctx.cluster, { org, from: '+13125550111',
                                        body: 'Hello' });
    await addUser(ctx.cluster, org, 'billing@search.example', PASSWORD,
                  'billing');
    const { cookie } = await login(ctx.cluster, 'billing@search.example',
                                   PASSWORD);
    const country = async (code) => assert.equal((await sessionApi(
        ctx.cluster, '/api/v1/settings', cookie, { method: 'PATCH',
        body: { default_country: code } })).status, 200);
    const p = await web.newPage();
    try {
        await signInTo(p, org);
        const search = p.locator('#search');
        for (const [typed, code] of [
            [(a, b) => `+52 1 55 ${a} ${b.slice(0, 2)}`, null],
            [(a, b) => `1 55 ${a} ${b}`, 'MX']]) {
            await country(code);
            const line = String(randomInt(100000000)).padStart(8, '0');
            await search.fill(typed(line.slice(0, 4), line.slice(4)));
            await p.locator('#list-status',
                { hasText: 'No conversations match' }).waitFor();
            // stored without the 1, as the server's search finds it
            await deliverInbound(ctx.cluster, { org, from: `+5255${line}`,
                                                body: 'Hola' });
            await waitForNames(p, [`+52 55${line}`]);
        }
    } finally {
        await country(null);
        await p.context().close();
    }
});

test('a name is found whatever separates its parts: "oconnor" shows '
    + 'O\u2019Connor\'s thread, and a text from Jean-Luc joins a search for '
    + '"jean luc" live', async () => {
    const org = ctx.cluster.orgs[2];
    const oconnor = 'Siobh\u00e1n O\u2019Connor';
    const jeanluc = 'Jean-Luc St. John';
    await deliverInbound(ctx.cluster, { org, from: '+13125550123',
                                        body: 'Is it ready?' });
    await nameContact(org, '+13125550123', oconnor);
    // a contact without a thread yet: its first text comes live
    const made = await api(ctx.cluster, '/api/v1/contacts', org.token, {
        method: 'POST', body: { phone: '+13125550124', name: jeanluc } });
    assert.equal(made.status, 201, made.text);
    const p = await web.newPage();
    try {
        await signInTo(p, org);
        const search = p.locator('#search');
        for (const typed of ['oconnor', 'o connor', "o'connor",
            'SIOBHAN OCONNOR']) {
            await search.fill(typed);
            await waitForNames(p, [oconnor]);
        }
        await search.fill('jean luc');
        await p.locator('#list-status',
            { hasText: 'No conversations match' }).waitFor();
        await deliverInbound(ctx.cluster, { org, from: '+13125550124',
                                            body: 'Hello' });
        await waitForNames(p, [jeanluc]);
        await search.fill('stjohn');
        await waitForNames(p, [jeanluc]);
    } finally {
        await p.context().close();
    }
});

test('a kana\'s voicing mark is part of a name: a text from \u30b8\u30e7\u30f3 '
    + '(John) does not join a search for \u30b7\u30e7\u30f3 (shon) live, one '
    + 'from \u30b7\u30e7\u30f3 does, and \uff7c\uff9e\uff6e\uff9d finds '
    + 'John', async () => {
    const org = ctx.cluster.orgs[2];
    const jon = '\u30b8\u30e7\u30f3\u30fb\u30b9\u30df\u30b9';
    const shon = '\u30b7\u30e7\u30f3\u30fb\u30ea\u30fc';
    for (const [phone, name] of [['+13125550131', jon],
        ['+13125550132', shon]]) {
        const made = await api(ctx.cluster, '/api/v1/contacts', org.token, {
            method: 'POST', body: { phone, name } });
        assert.equal(made.status, 201, made.text);
    }
    // a thread to sign in to, when this test runs alone
    await deliverInbound(ctx.cluster, { org, from: '+13125550133',
                                        body: 'Hi' });
    const p = await web.newPage();
    try {
        await signInTo(p, org);
        const search = p.locator('#search');
        await search.fill('\u30b7\u30e7\u30f3');
        await p.locator('#list-status',
            { hasText: 'No conversations match' }).waitFor();
        // John's first, then shon's: once shon's row is in, John's frame
        // was taken before it and left out
        await deliverInbound(ctx.cluster, { org, from: '+13125550131',
                                            body: 'Hello' });
        await deliverInbound(ctx.cluster, { org, from: '+13125550132',
                                            body: 'Hello' });
        await waitForNames(p, [shon]);
        // halfwidth, with its voicing mark apart, as the server reads it
        await search.fill('\uff7c\uff9e\uff6e\uff9d');
        await waitForNames(p, [jon]);
    } finally {
        await p.context().close();
    }
});

test('\u0419 is a letter of its own, not \u0418 with an accent: a text '
    + 'from \u0419\u043e\u0430\u043d\u043d\u0430 does not join a search '
    + 'for \u0418\u043e\u0430\u043d\u043d\u0430 live, one from '
    + '\u0418\u043e\u0430\u043d\u043d\u0430 does, and a Devanagari '
    + 'vowel sign is kept', async () => {
    const org = ctx.cluster.orgs[2];
    const yoanna = '\u0419\u043e\u0430\u043d\u043d\u0430 '
        + '\u041f\u0435\u0442\u0440\u043e\u0432\u0430';
    const ioanna = '\u0418\u043e\u0430\u043d\u043d\u0430 '
        + '\u0421\u043c\u0438\u0440\u043d\u043e\u0432\u0430';
    // सुमित (Sumit), समित (Samit)
    const sumit = '\u0938\u0941\u092e\u093f\u0924';
    const samit = '\u0938\u092e\u093f\u0924';
    for (const [phone, name] of [['+13125550141', yoanna],
        ['+13125550142', ioanna], ['+13125550143', sumit],
        ['+13125550145', samit]]) {
        const made = await api(ctx.cluster, '/api/v1/contacts', org.token, {
            method: 'POST', body: { phone, name } });
        assert.equal(made.status, 201, made.text);
    }
    // a thread to sign in to, when this test runs alone
    await deliverInbound(ctx.cluster, { org, from: '+13125550144',
                                        body: 'Hi' });
    const p = await web.newPage();
    try {
        await signInTo(p, org);
        const search = p.locator('#search');
        await search.fill('\u0418\u043e\u0430\u043d\u043d\u0430');
        await p.locator('#list-status',
            { hasText: 'No conversations match' }).waitFor();
        // Йоанна's first, then Иоанна's: once Иоанна's row is in,
        // Йоанна's frame was taken before it and left out
        await deliverInbound(ctx.cluster, { org, from: '+13125550141',
                                            body: 'Hello' });
        await deliverInbound(ctx.cluster, { org, from: '+13125550142',
                                            body: 'Hello' });
        await waitForNames(p, [ioanna]);
        await search.fill('\u0439\u043e\u0430\u043d\u043d\u0430');
        await waitForNames(p, [yoanna]);
        // nor Sumit's a search for Samit, his vowel sign kept
        await search.fill(samit);
        await p.locator('#list-status',
            { hasText: 'No conversations match' }).waitFor();
        await deliverInbound(ctx.cluster, { org, from: '+13125550143',
                                            body: 'Hello' });
        await deliverInbound(ctx.cluster, { org, from: '+13125550145',
                                            body: 'Hello' });
        await waitForNames(p, [samit]);
        await search.fill(sumit);
        await waitForNames(p, [sumit]);
    } finally {
        await p.context().close();
    }
});

test('the tabs switch between the five filters, with counts when the API '
    + 'gives them', async () => {
    const answer = await api(ctx.cluster, '/api/v1/conversations',
        ctx.cluster.orgs[0].token);
    const counts = answer.json.counts;
    for (const [name, filter] of [['All', 'all'],
        ['Unread threads', 'unread'], ['Unresponded', 'unresponded'],
        ['Starred', 'starred'], ['Archived', 'archived']]) {
        const count = page.locator(`#count-${filter}`);
        if (counts) {
            await count.filter({ hasText: String(counts[filter]) })
                .waitFor();
        } else {
            assert.equal(await count.isVisible(), false,
                'no count shown when the API gives none');
        }
        await tab(page, name).click();
        await page.locator(`.tab[data-filter="${filter}"]`
            + '[aria-pressed="true"]').waitFor();
        if (filter === 'starred' || filter === 'archived') {
            await page.locator('#list-status', { hasText:
                `No ${filter} conversations.` }).waitFor();
            assert.equal(await rows(page).count(), 0);
        } else {
            // every thread here is unread and waits for a reply
            await waitForNames(page, ['+44 20 7946 0958',
                '+1 (415) 555-0123', 'Zoë Fairweather',
                '+1 (617) 555-0199']);
        }
    }
    await tab(page, 'All').click();
    await page.locator('.tab[data-filter="all"][aria-pressed="true"]')
        .waitFor();
    await rows(page).nth(3).waitFor();
});

test('a tab whose first page fails shows no rows of the tab before, says '
    + 'why (live events too) and offers Try again, which lists it',
    async () => {
    const org = ctx.cluster.orgs[0];
    const list = await api(ctx.cluster, '/api/v1/conversations', org.token);
    const us = list.json.items.find((c) => c.contact.phone === US);
    const archive = (action) => api(ctx.cluster,
        `/api/v1/conversations/${us.id}/${action}`, org.token,
        { method: 'POST' });
    assert.equal((await archive('archive')).status, 200);
    await waitForNames(page, ['+44 20 7946 0958', 'Zoë Fairweather',
        '+1 (617) 555-0199']);

    const archived = /\/api\/v1\/conversations\?filter=archived&/;
    let down = true;
    await page.route(archived, (route) => (down
        ? answerUnavailable(route, 'Try later')
        : route.continue()));
    const status = page.locator('#list-status');
    const retry = page.getByRole('button', { name: 'Try again',
                                             exact: true });
    try {
        await tab(page, 'Archived').click();
        await status.filter({ hasText:
            'Could not load conversations: Try later' }).waitFor();
        assert.equal(await rows(page).count(), 0);

        // a live event draws the list: still no rows, still why
        const title = await page.title();
        await deliverInbound(ctx.cluster, { from: UK, body: 'Still there?' });
        await page.waitForFunction((t) => document.title !== t, title);
        await page.waitForTimeout(200);
        assert.equal(await rows(page).count(), 0);
        assert.equal(await status.textContent(),
            'Could not load conversations: Try later');
        assert.equal(await retry.isVisible(), true);

        down = false;
        await retry.click();
        await waitForNames(page, ['+1 (415) 555-0123']);
        assert.equal(await status.textContent(), '');
        assert.equal(await retry.isVisible(), false);
        assert.equal(await page.evaluate(() => document.activeElement
            .closest('#threads > li').dataset.id), us.id);
    } finally {
        await page.unroute(archived);
    }
    assert.equal((await archive('unarchive')).status, 200);
    await tab(page, 'All').click();
    await waitForNames(page, ['+44 20 7946 0958', '+1 (415) 555-0123',
        'Zoë Fairweather', '+1 (617) 555-0199']);
});

test('a request that gets no answer at all (the network down) is said in '
    + 'words, not in fetch\'s "Failed to fetch": a tab\'s list, a star',
    async () => {
    const p = await web.newPage();
    await signInTo(p, ctx.cluster.orgs[0]);
    const unread = /\/api\/v1\/conversations\?filter=unread&/;
    const star = /\/api\/v1\/conversations\/[^/]+\/star$/;
    const down = (route) => route.abort('internetdisconnected');
    await p.route(unread, down);
    await p.route(star, down);
    const status = p.locator('#list-status');
    try {
        await tab(p, 'Unread threads').click();
        await status.filter({ hasText: 'Could not load' }).waitFor();
        assert.equal(await status.textContent(), 'Could not load '
            + 'conversations: the server could not be reached.');

        await tab(p, 'All').click();
        await rowOf(p, 'Zo\u00eb Fairweather').getByRole('button')
            .click();
        await p.locator('#thread-title',
            { hasText: 'Zo\u00eb Fairweather' }).waitFor();
        await p.getByRole('button', { name: 'Star', exact: true })
            .click();
        const said = p.locator('#action-error');
        await said.filter({ hasText: 'Could not' }).waitFor();
        assert.equal(await said.textContent(),
            'Could not star: the server could not be reached.');
    } finally {
        await p.context().close();
    }
});

test('keyboard: j and k move and open, Esc closes, and no key acts while '
    + 'typing', async () => {
    const order = await names(page);
    const current = page.locator('#threads .thread-row[aria-current="true"]'
        + ' .row-name');
    await page.locator('body').press('j');
    await current.filter({ hasText: order[0] }).waitFor();
    assert.equal(await page.locator('#thread-title').textContent(),
        order[0]);
    await page.keyboard.press('j');
    await current.filter({ hasText: order[1] }).waitFor();
    await page.locator('#thread-title', { hasText: order[1] }).waitFor();
    await page.keyboard.press('j');
    await current.filter({ hasText: order[2] }).waitFor();
    await page.keyboard.press('k');
    await current.filter({ hasText: order[1] }).waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#thread-view').waitFor({ state: 'hidden' });
    assert.equal(await current.count(), 0);

    // typed into the search, j and s are letters, not commands
    await page.keyboard.press('/');
    await page.keyboard.type('js');
    assert.equal(await page.locator('#search').inputValue(), 'js');
    assert.equal(await page.locator('#thread-view').isVisible(), false);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await rows(page).nth(3).waitFor();
});

// The actions below need the conversation actions of the API
// (POST /api/v1/conversations/{id}/star, archive, unread...).

test('s stars the open thread: the Starred tab lists it, and another '
    + 'browser sees it live', async () => {
    const other = await web.newPage();
    try {
        await signInTo(other, ctx.cluster.orgs[0]);
        await tab(other, 'Starred').click();
        await other.locator('#list-status',
            { hasText: 'No starred conversations.' }).waitFor();

        await rowOf(page, 'Zoë Fairweather').getByRole('button').click();
        await page.locator('#thread-title',
            { hasText: 'Zoë Fairweather' }).waitFor();
        await page.locator('#messages .message').first().waitFor();
        await page.keyboard.press('s');
        await page.getByRole('button', { name: 'Unstar' }).waitFor();
        await rowOf(page, 'Zoë Fairweather').locator('.row-star')
            .waitFor();
        await page.locator('#count-starred', { hasText: /^1$/ }).waitFor();

        // live, in the other browser's Starred tab
        await waitForNames(other, ['Zoë Fairweather']);

        await tab(page, 'Starred').click();
        await waitForNames(page, ['Zoë Fairweather']);

        // unstarred from the header button, it leaves both lists
        await page.getByRole('button', { name: 'Unstar' }).click();
        await page.getByRole('button', { name: 'Star', exact: true })
            .waitFor();
        await waitForNames(page, []);
        await waitForNames(other, []);
        await page.locator('#count-starred', { hasText: /^0$/ }).waitFor();
        await tab(page, 'All').click();
        await rows(page).nth(3).waitFor();
    } finally {
        await other.context().close();
    }
});

test('e archives: the thread leaves All, is under Archived, a search '
    + 'still finds it, and Unarchive brings it back', async () => {
    await rowOf(page, '+1 (415) 555-0123').getByRole('button').click();
    await page.locator('#thread-title',
        { hasText: '+1 (415) 555-0123' }).waitFor();
    await page.locator('#messages .message').first().waitFor();
    await page.locator('body').press('e');
    await page.getByRole('button', { name: 'Unarchive' }).waitFor();
    await waitForNames(page, ['+44 20 7946 0958', 'Zoë Fairweather',
        '+1 (617) 555-0199']);

    await tab(page, 'Archived').click();
    await waitForNames(page, ['+1 (415) 555-0123']);

    // a search from the default view finds it, shown as archived
    await tab(page, 'All').click();
    await page.locator('#search').fill('415 555');
    await waitForNames(page, ['+1 (415) 555-0123']);
    await rowOf(page, '+1 (415) 555-0123').locator('.row-archived')
        .waitFor();
    await page.locator('#search').press('Escape');

    await page.getByRole('button', { name: 'Unarchive' }).click();
    await page.getByRole('button', { name: 'Archive', exact: true })
        .waitFor();
    await waitForNames(page, ['+44 20 7946 0958', '+1 (415) 555-0123',
        'Zoë Fairweather', '+1 (617) 555-0199']);
});

test('a new message brings an archived thread back to All, live',
    async () => {
        await rowOf(page, 'Zoë Fairweather').getByRole('button').click();
        await page.locator('#thread-title',
            { hasText: 'Zoë Fairweather' }).waitFor();
        await page.getByRole('button', { name: 'Archive', exact: true })
            .click();
        await page.getByRole('button', { name: 'Unarchive' }).waitFor();
        await page.keyboard.press('Escape');
        await page.locator('#thread-view').waitFor({ state: 'hidden' });
        await waitForNames(page, ['+44 20 7946 0958', '+1 (415) 555-0123',
            '+1 (617) 555-0199']);

        await deliverInbound(ctx.cluster, { from: NAMED,
            body: 'Are you still there?' });
        const row = rowOf(page, 'Zoë Fairweather');
        await row.locator('.row-preview', { hasText: 'Are you still there?' })
            .waitFor();
        assert.equal(await row.locator('.row-archived').isVisible(), false);
        assert.equal(await rows(page).first().locator('.row-name')
            .textContent(), 'Zoë Fairweather');
    });

test('u marks the open thread unread: it closes and its badge is back',
    async () => {
        const row = rowOf(page, '+44 20 7946 0958');
        await row.getByRole('button').click();
        await page.locator('#messages .message').first().waitFor();
        await row.locator('.badge').waitFor({ state: 'hidden' });
        const before = await page.title();

        await page.locator('body').press('u');
        await page.locator('#thread-view').waitFor({ state: 'hidden' });
        await row.locator('.badge').waitFor();
        assert.ok(Number(await row.locator('.badge').textContent()) >= 1);
        await page.waitForFunction((t) => document.title !== t, before);
        await tab(page, 'Unread threads').click();
        await rowOf(page, '+44 20 7946 0958').waitFor();
        await tab(page, 'All').click();
        await rows(page).nth(3).waitFor();
    });

test('while live updates are down a banner says so; when they are back '
    + 'it goes and the list is brought up to date', async () => {
    const banner = page.getByRole('alert').filter(
        { hasText: 'Live updates are down' });
    assert.equal(await banner.isVisible(), false);
    await ctx.cluster.stopWs();
    try {
        await banner.waitFor();
        await page.locator('#conn[data-state="reconnecting"]').waitFor();
        // what arrives meanwhile cannot be pushed
        await deliverInbound(ctx.cluster, { from: '+12125550111',
            body: 'Sent while you were away' });
    } finally {
        await ctx.cluster.startWs();
    }
    await banner.waitFor({ state: 'hidden', timeout: 30000 });
    await page.locator('#conn[data-state="live"]').waitFor();
    await rowOf(page, '+1 (212) 555-0111').waitFor();
    assert.equal(await rowOf(page, '+1 (212) 555-0111')
        .locator('.row-preview').textContent(), 'Sent while you were away');
});

test('the list loads more as it scrolls, past 100 threads, with no '
    + 'thread twice when live messages arrive meanwhile', async () => {
    const p = await web.newPage();
    try {
        await signInTo(p, ctx.cluster.orgs[1]);
        const first = await rows(p).count();
        assert.ok(first < MANY, `the first page is not everything (${first})`);

        // the oldest thread (not loaded yet) and a new one get messages
        await deliverInbound(ctx.cluster, { org: ctx.cluster.orgs[1],
            from: manyNumber(0), body: 'Back to the top' });
        await deliverInbound(ctx.cluster, { org: ctx.cluster.orgs[1],
            from: '+16465559999', body: 'Brand new' });
        await p.locator('#threads > li:nth-child(2) .row-preview',
            { hasText: 'Back to the top' }).waitFor();

        const total = MANY + 1;
        const deadline = Date.now() + 30000;
        while (await rows(p).count() < total) {
            assert.ok(Date.now() < deadline, 'every thread was loaded; got '
                + await rows(p).count());
            await p.locator('#threads-scroll').evaluate(
                (el) => { el.scrollTop = el.scrollHeight; });
            await p.waitForTimeout(150);
        }
        await p.waitForTimeout(500);
        const ids = await p.locator('#threads > li').evaluateAll(
            (lis) => lis.map((li) => li.dataset.id));
        assert.equal(ids.length, total);
        assert.equal(new Set(ids).size, total, 'no thread twice');
        const shown = await names(p);
        assert.equal(shown[0], '+1 (646) 555-9999');
        assert.equal(shown[1], '+1 (646) 555-1000');
        // in the API's own order
        const all = await api(ctx.cluster, '/api/v1/conversations?limit=200',
            ctx.cluster.orgs[1].token);
        assert.deepEqual(ids, all.json.items.map((c) => c.id));
        assert.equal(await p.locator('#list-more').textContent(), '');
    } finally {
        await p.context().close();
    }
});

test('at 390 px wide nothing scrolls sideways; the list and the thread '
    + 'take turns, with a way back', async () => {
    const p = await web.newPage({ width: 390, height: 844 });
    try {
        // unread again, so that its row has a badge
        await deliverInbound(ctx.cluster, { from: LONG, body: LONG_BODY });
        await signInTo(p, ctx.cluster.orgs[0]);
        const longRow = rowOf(p, '+1 (617) 555-0199');
        await longRow.locator('.badge').waitFor();
        const width = () => p.evaluate(
            () => document.documentElement.scrollWidth);
        assert.ok(await width() <= 390, `page is ${await width()} px wide`);
        for (const sel of ['.row-time', '.badge', '.row-preview']) {
            const box = await longRow.locator(sel).boundingBox();
            assert.ok(box && box.x >= 0 && box.x + box.width <= 390,
                `${sel} is on screen: ${JSON.stringify(box)}`);
        }

        await longRow.getByRole('button').click();
        await p.locator('#messages .message .body',
            { hasText: 'Supercalifragilistic' }).first().waitFor();
        assert.equal(await p.locator('#threads').isVisible(), false,
            'the thread takes the whole screen');
        assert.ok(await width() <= 390, `thread is ${await width()} px wide`);
        for (const name of ['Star', 'Archive', 'Mark unread', 'Contact']) {
            const box = await p.getByRole('button', { name, exact: true })
                .boundingBox();
            assert.ok(box && box.x + box.width <= 390, `${name} on screen`);
        }

        await p.getByRole('button', { name: 'Back' }).click();
        await longRow.waitFor();
        assert.equal(await p.locator('#thread-view').isVisible(), false);

        // and with the banner up
        await ctx.cluster.stopWs();
        try {
            await p.getByRole('alert').filter(
                { hasText: 'Live updates are down' }).waitFor();
            assert.ok(await width() <= 390,
                `with the banner ${await width()} px wide`);
        } finally {
            await ctx.cluster.startWs();
        }
    } finally {
        await p.context().close();
    }
});

// The contact's record needs the contacts routes (GET and PATCH
// /api/v1/contacts/{id}, its timeline).

test('the contact panel names an unknown number and tags it; the thread '
    + 'and the list show the name at once, and it stays', async () => {
    await page.locator('#search').fill('7946');
    const row = rowOf(page, '+44 20 7946 0958');
    await waitForNames(page, ['+44 20 7946 0958']);
    await row.getByRole('button').click();
    await page.locator('#messages .message').first().waitFor();

    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Contact' });
    await panel.getByLabel('Name').waitFor();
    assert.equal(await panel.locator('#contact-phone').textContent(),
        '+44 20 7946 0958');
    assert.equal(await panel.getByLabel('Name').inputValue(), '');
    await panel.locator('.timeline-item', { hasText: 'Hello from London' })
        .waitFor();
    assert.equal(await panel.locator('.timeline-item').first()
        .locator('.timeline-what').textContent(), 'Message received');

    await panel.getByLabel('Name').fill('Ada Lovelace');
    // typed as one would, a comma adding each tag; the same tag once
    await panel.getByRole('combobox', { name: 'Tags' })
        .pressSequentially('vip, london, vip');
    await panel.getByRole('button', { name: 'Save' }).click();
    await panel.getByText('Saved.').waitFor();
    assert.equal(await page.locator('#thread-title').textContent(),
        'Ada Lovelace');
    assert.equal(await page.locator('#thread-sub').textContent(),
        '+44 20 7946 0958');
    await waitForNames(page, ['Ada Lovelace']);

    // as the server keeps it: opened again, and over the API
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    await panel.getByLabel('Name').waitFor();
    await page.waitForFunction(() =>
        document.getElementById('contact-name').value === 'Ada Lovelace');
    assert.deepEqual(await panel.getByRole('list', { name: 'Tags' })
        .locator('.tag > span').allTextContents(), ['vip', 'london']);
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    await page.keyboard.press('Escape');
    await page.locator('#search').fill('lovelace');
    await waitForNames(page, ['Ada Lovelace']);
    await page.locator('#search').fill('');
    await rows(page).nth(3).waitFor();
});

test('the contact panel shows a colleague\'s rename as it happens, and '
    + 'Save sends only what was changed here: their tags stay, commas and '
    + 'all', async () => {
    const ui = ctx.cluster.orgs[0];
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
                           ui.token);
    const contactId = list.json.items.find((c) => c.contact.phone === US)
        .contact.id;
    const patch = async (body) => {
        const res = await api(ctx.cluster, `/api/v1/contacts/${contactId}`,
                              ui.token, { method: 'PATCH', body });
        assert.equal(res.status, 200, res.text);
        // the record as GET answers it: the panel may take it whole
        assert.ok(Array.isArray(res.json.campaigns)
                  && Array.isArray(res.json.polls), res.text);
        return res.json;
    };
    await patch({ name: 'Sam Reyes', tags: ['Smith, John', 'vip'] });

    await page.locator('#search').fill('Sam Reyes');
    await waitForNames(page, ['Sam Reyes']);
    await rowOf(page, 'Sam Reyes').getByRole('button').click();
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Contact' });
    await page.waitForFunction(() =>
        document.getElementById('contact-name').value === 'Sam Reyes');

    // a colleague renames the contact, then tags it: both show here
    await patch({ name: 'Sam Colleague' });
    await page.waitForFunction(() =>
        document.getElementById('contact-name').value === 'Sam Colleague');
    await patch({ tags: ['Smith, John', 'vip', 'late'] });
    await panel.getByRole('list', { name: 'Tags' })
        .locator('.tag > span', { hasText: 'late' }).waitFor();

    await panel.getByLabel('Name').fill('Samantha Reyes');
    await panel.getByRole('button', { name: 'Save' }).click();
    await panel.getByText('Saved.').waitFor();
    const after = await api(ctx.cluster, `/api/v1/contacts/${contactId}`,
                            ui.token);
    assert.equal(after.json.name, 'Samantha Reyes');
    assert.deepEqual([...after.json.tags].sort(),
                     ['Smith, John', 'late', 'vip']);

    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    await page.keyboard.press('Escape');
    await page.locator('#search').fill('');
    await rows(page).nth(3).waitFor();
});

test('a colleague\'s CSV import shows at once in the open thread: its '
    + 'name in the list and the header, its tags in the contact panel; a '
    + 'large one too', async () => {
    const ui = ctx.cluster.orgs[0];
    const talker = '+13125550150';
    await deliverInbound(ctx.cluster, { org: ui, from: talker,
                                        body: 'About my order' });
    await page.locator('#search').fill('555-0150');
    await waitForNames(page, ['+1 (312) 555-0150']);
    await rowOf(page, '+1 (312) 555-0150').getByRole('button').click();
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Contact' });
    await panel.waitFor();

    await importContactsCsv(ctx.cluster, ui.token,
                            `phone,name,tags\n${talker},Imogen Park,gold\n`);
    await waitForNames(page, ['Imogen Park']);
    await page.waitForFunction(() =>
        document.getElementById('thread-title').textContent === 'Imogen Park'
        && document.getElementById('contact-name').value === 'Imogen Park'
        && [...document.getElementById('contact-tags').closest('.tag-editor')
            .querySelectorAll('.tag > span')].map((t) => t.textContent)
            .join('|') === 'gold');

    // a tag alone: the panel reads the contact again
    await importContactsCsv(ctx.cluster, ui.token,
                            `phone,tags\n${talker},silver\n`);
    await page.waitForFunction(() =>
        [...document.getElementById('contact-tags').closest('.tag-editor')
            .querySelectorAll('.tag > span')].map((t) => t.textContent)
            .join('|') === 'gold|silver');

    // more contacts changed than are pushed one by one: one event, and
    // the page reads its list, thread and panel again
    const others = [...Array(50).keys()].map((i) =>
        `+1312555${String(2000 + i)}`);
    await importContactsCsv(ctx.cluster, ui.token,
                            'phone\n' + others.join('\n') + '\n');
    await importContactsCsv(ctx.cluster, ui.token, 'phone,name\n'
        + `${talker},Imogen Park-Lee\n`
        + others.map((p, i) => `${p},Neighbour ${i}\n`).join(''));
    await waitForNames(page, ['Imogen Park-Lee']);
    await page.waitForFunction(() =>
        document.getElementById('thread-title').textContent
            === 'Imogen Park-Lee'
        && document.getElementById('contact-name').value
            === 'Imogen Park-Lee');

    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    await page.keyboard.press('Escape');
    await page.locator('#search').fill('');
    await rows(page).nth(3).waitFor();
});

test('the contact panel\'s timeline shows its newest 50 entries, and '
    + 'Show older brings the rest', async () => {
    const ui = ctx.cluster.orgs[0];
    const talker = '+13125550148';
    await inParallel([...Array(55).keys()], 8, (i) => deliverInbound(
        ctx.cluster, { org: ui, from: talker, body: `Note ${i}` }));

    await page.locator('#search').fill('5550148');
    await waitForNames(page, ['+1 (312) 555-0148']);
    await rowOf(page, '+1 (312) 555-0148').getByRole('button').click();
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Contact' });
    const items = panel.locator('.timeline-item');
    await items.nth(49).waitFor();
    assert.equal(await items.count(), 50);
    const more = panel.getByRole('button', { name: 'Show older' });
    await more.click();
    await items.nth(54).waitFor();
    await more.waitFor({ state: 'hidden' });
    assert.equal(await items.count(), 55);
    // each once, none skipped or repeated where the pages meet
    const notes = (await items.locator('.timeline-detail')
        .allTextContents())
        .map((t) => Number(/^Note (\d+)$/.exec(t.trim())[1]))
        .sort((a, b) => a - b);
    assert.deepEqual(notes, [...Array(55).keys()]);

    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    await page.keyboard.press('Escape');
    await page.locator('#search').fill('');
    await rows(page).nth(3).waitFor();
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
