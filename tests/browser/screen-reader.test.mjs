// The web app with a keyboard and a screen reader, in Debian's Chromium:
// a thread's messages are not a live region (opening a thread reads no
// history aloud, a tick does not write the message again); the page's one
// announcer says a message that arrives, once, and a reply's final
// outcome (or that it was sent, when no receipt follows); opening a thread where its row disappears (a phone's width,
// the Contacts view) puts the focus on its title, before Back; the focus
// never drops to the page after archiving with e, an opt-out, Pause and
// Resume, Send, a removal from the team, a new message moving the
// focused row to the top, or "Show older messages" and "Show more
// contacts" pressed to their last page (the button stays while pages
// remain), and what happened is said; a message with files says whether
// they are pictures or other attachments.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { needsSendRoutes, noPageErrorsTest, openThread, rowOf, shown,
         signIn, useBrowser } from '../lib/browser.mjs';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Keyboard Org' }], sender: true,
                         carrierSim: true });
const USER = { email: 'kai@keyboard.example', password: 'kai uses keys' };
const COLLEAGUE = { email: 'col@keyboard.example', password: 'col leaves' };
const LONG = 26;
const long = uniqueNumber();      // a thread of 26 messages
const others = Array.from({ length: 5 }, () => uniqueNumber());

const web = useBrowser();

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, USER.email, USER.password, 'billing');
    await addUser(cluster, org, COLLEAGUE.email, COLLEAGUE.password);
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '50');
    for (let i = 0; i < LONG; i++) {
        await deliverInbound(cluster, { from: long,
            body: `Long thread message ${i}` });
    }
    for (const [i, from] of others.entries()) {
        await deliverInbound(cluster, { from, body: `Hello from ${i}` });
    }
    await web.launch();
});

// A signed-in page showing the list.
async function newPage(viewport) {
    const page = await web.newPage(viewport);
    await signIn(page, ctx.cluster, USER);
    await page.locator('#threads > li').first().waitFor();
    return page;
}

// From now on the page notes what is added to its live regions (as
// {region, text}) and each thing its announcer says.
async function listen(page) {
    await page.evaluate(() => {
        window.live = [];
        window.said = [];
        const regions = '[aria-live],[role=alert],[role=status],[role=log]';
        new MutationObserver((muts) => {
            for (const m of muts) {
                const el = m.target.nodeType === 1 ? m.target
                    : m.target.parentElement;
                const region = el && el.closest(regions);
                if (!region) {
                    continue;
                }
                const texts = m.type === 'characterData' ? [m.target.data]
                    : Array.from(m.addedNodes, (n) => n.textContent);
                texts.forEach((text) => window.live.push({
                    region: region.id || region.className, text }));
            }
        }).observe(document.body, { subtree: true, childList: true,
                                    characterData: true });
        const announcer = document.getElementById('announcer');
        if (announcer) {
            new MutationObserver(() => {
                const text = announcer.textContent.trim();
                if (text !== '') {
                    window.said.push(text);
                }
            }).observe(announcer, { subtree: true, childList: true,
                                    characterData: true });
        }
    });
}

const heard = (page) => page.evaluate(() => window.said);
const liveTexts = (page) => page.evaluate(() => window.live);

// What has the focus: "tag#id.class", or BODY.
const focused = (page) => page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) {
        return 'BODY';
    }
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
        + (e.className ? '.' + String(e.className).split(' ').join('.')
            : '');
});

async function saidSoon(page, pattern) {
    await page.waitForFunction((p) => window.said.some(
        (t) => new RegExp(p).test(t)), pattern.source);
}

test('opening a thread reads none of its messages aloud; one that '
     + 'arrives is said once, with its words', async () => {
    const page = await newPage();
    try {
        await listen(page);
        await openThread(page, shown(long));
        await page.locator('#messages .message').nth(LONG - 1).waitFor();
        await page.waitForTimeout(500);
        const history = (await liveTexts(page)).filter(
            (l) => /Long thread message/.test(l.text));
        assert.deepEqual(history, [], 'the history went to a live region');
        assert.deepEqual(await heard(page), []);

        await deliverInbound(ctx.cluster, { from: long,
            body: 'Are you still there?' });
        await page.locator('#messages .message',
            { hasText: 'Are you still there?' }).waitFor();
        await saidSoon(page, /still there/);
        await page.waitForTimeout(500);
        assert.deepEqual(await heard(page),
            ['New message: Are you still there?']);
        assert.deepEqual((await liveTexts(page)).filter((l) =>
            l.region !== 'announcer' && /still there/.test(l.text)), []);

        // another thread's: whose it is, not its words
        await deliverInbound(ctx.cluster, { from: others[4],
            body: 'Something private' });
        await saidSoon(page, /from/);
        assert.deepEqual((await heard(page)).slice(1),
            [`New message from ${shown(others[4])}.`]);
        // the unread count is no live region of its own
        assert.equal(await page.locator('[aria-live] #unread-total, '
            + '#unread-total[aria-live]').count(), 0);
    } finally {
        await page.context().close();
    }
});

test('a reply\'s ticks do not write its words again; its final status '
     + 'is said', async () => {
    await needsSendRoutes(ctx.cluster);
    const page = await newPage();
    try {
        await openThread(page, shown(others[0]));
        await page.evaluate(() => {
            window.added = [];
            new MutationObserver((muts) => muts.forEach((m) =>
                m.addedNodes.forEach((n) => window.added.push(
                    n.textContent)))).observe(
                document.getElementById('messages'),
                { subtree: true, childList: true });
        });
        await listen(page);
        const text = 'Ticks should not repeat me';
        await page.locator('#composer-text').fill(text);
        await page.locator('#composer-text').press('Enter');
        await page.locator('#messages .message.outbound',
            { hasText: text }).locator('.tick[data-status="delivered"]')
            .waitFor();
        const added = await page.evaluate(() => window.added);
        assert.equal(added.filter((t) => t.includes(text)).length, 1,
            'the message was written ' + JSON.stringify(added));
        assert.ok(added.some((t) => /Delivered/.test(t)), 'no tick moved');
        await saidSoon(page, /Delivered/);
        assert.deepEqual(await heard(page),
            [`Your reply to ${shown(others[0])}: Delivered.`]);
    } finally {
        await page.context().close();
    }
});

test('a reply whose carrier never reports delivery is said to be sent, '
     + 'once', async () => {
    await needsSendRoutes(ctx.cluster);
    const quiet = uniqueNumber();
    await deliverInbound(ctx.cluster, { from: quiet, body: 'No receipts' });
    await ctx.cluster.sim.fail({ type: 'final_status', number: quiet,
                                 status: 'none' });
    const page = await newPage();
    try {
        await openThread(page, shown(quiet));
        await listen(page);
        const text = 'Nobody will confirm me';
        await page.locator('#composer-text').fill(text);
        await page.locator('#composer-text').press('Enter');
        await page.locator('#messages .message.outbound',
            { hasText: text }).locator('.tick[data-status="sent"]')
            .waitFor();
        await saidSoon(page, /: Sent\./);
        await page.waitForTimeout(500);
        assert.deepEqual(await heard(page),
            [`Your reply to ${shown(quiet)}: Sent.`]);
    } finally {
        await page.context().close();
    }
});

test('at a phone\'s width the opened thread\'s title has the focus, and '
     + 'Tab goes to Back', async () => {
    const page = await newPage({ width: 390, height: 760 });
    try {
        await page.locator('#threads .thread-row').nth(1).focus();
        await page.keyboard.press('Enter');
        await page.locator('#messages .message').first().waitFor();
        await page.waitForTimeout(300);
        assert.equal(await focused(page), 'h2#thread-title');
        await page.keyboard.press('Tab');
        assert.equal(await focused(page), 'button#back.link-button.back');
        await page.keyboard.press('Tab');
        assert.equal(await focused(page), 'button#act-star.action');
        // Back, then the list's row has the focus again
        await page.keyboard.press('Shift+Tab');
        await page.keyboard.press('Enter');
        assert.match(await focused(page), /^button\.thread-row/);
    } finally {
        await page.context().close();
    }
});

test('a contact chosen in the Contacts view opens its thread with the '
     + 'focus on its title', async () => {
    const page = await newPage();
    try {
        await page.getByRole('link', { name: 'Contacts' }).click();
        const row = page.locator('#contacts-list .contact-row',
            { hasText: shown(others[2]) });
        await row.focus();
        await page.keyboard.press('Enter');
        await page.locator('#thread-title', { hasText: shown(others[2]) })
            .waitFor();
        await page.locator('#app').waitFor();
        await page.waitForTimeout(300);
        assert.equal(await focused(page), 'h2#thread-title');
        await page.keyboard.press('Tab');
        assert.equal(await focused(page), 'button#act-star.action');
    } finally {
        await page.context().close();
    }
});

// Pages of n where the app asks for more (a short list takes several).
async function smallPages(page, pattern, n) {
    await page.route(pattern, (route) => {
        const url = new URL(route.request().url());
        url.searchParams.set('limit', String(n));
        route.continue({ url: url.href });
    });
}

test('"Show older messages" pressed from the keyboard keeps the focus '
     + 'while older pages remain, then hands it to the oldest message',
async () => {
    const page = await newPage();
    try {
        await smallPages(page, /\/api\/v1\/conversations\/[^/]+\/messages/,
            10);
        await openThread(page, shown(long));
        const older = page.getByRole('button',
            { name: 'Show older messages' });
        const first = page.locator('#messages .message .body').first();
        await first.filter({ hasText: /^Long thread message 1[67]$/ })
            .waitFor();
        await older.focus();
        await page.keyboard.press('Enter');
        await first.filter({ hasText: /^Long thread message [67]$/ })
            .waitFor();
        assert.equal(await page.evaluate(() => document.activeElement
            .textContent), 'Show older messages');
        // the last page: the button goes, the oldest message has the focus
        await page.keyboard.press('Enter');
        await older.waitFor({ state: 'detached' });
        assert.equal(await page.evaluate(() => document.activeElement
            .querySelector('.body')?.textContent), 'Long thread message 0');
    } finally {
        await page.context().close();
    }
});

test('"Show more contacts" pressed from the keyboard keeps the focus, '
     + 'then hands it to the first contact the last page brought',
async () => {
    const page = await newPage();
    try {
        // 6 contacts at least: 3 pages and more
        await smallPages(page, /\/api\/v1\/contacts\?/, 2);
        await page.getByRole('link', { name: 'Contacts' }).click();
        const rows = page.locator('#contacts-list .contact-row');
        const more = page.getByRole('button', { name: 'Show more contacts' });
        await more.waitFor();
        await more.focus();
        await page.keyboard.press('Enter');
        await rows.nth(2).waitFor();
        assert.equal(await more.isVisible(), true);
        assert.equal(await page.evaluate(() => document.activeElement.id),
            'contacts-more');
        let count;
        do {
            count = await rows.count();
            await page.keyboard.press('Enter');
            await rows.nth(count).waitFor();
            await page.waitForTimeout(100);
        } while (await more.isVisible());
        const ids = await rows.evaluateAll((all) =>
            all.map((b) => b.dataset.id));
        assert.equal(await page.evaluate(() => document.activeElement
            .dataset.id), ids[count], 'the first row of the last page');
    } finally {
        await page.context().close();
    }
});

test('archived with e, the row leaves the list and the focus goes to the '
     + 'one in its place; "Archived" is said', async () => {
    const page = await newPage();
    try {
        await page.locator('#search').focus();
        await page.keyboard.press('Escape');
        const ids = await page.locator('#threads > li').evaluateAll(
            (lis) => lis.map((li) => li.dataset.id));
        await page.keyboard.press('j');
        await page.keyboard.press('j');
        await page.waitForFunction((id) => document.activeElement
            .closest('li')?.dataset.id === id, ids[1]);
        await listen(page);
        await page.keyboard.press('e');
        await page.locator(`#threads > li[data-id="${ids[1]}"]`)
            .waitFor({ state: 'detached' });
        assert.equal(await page.evaluate(() => document.activeElement
            .closest('#threads > li')?.dataset.id), ids[2]);
        await saidSoon(page, /Archived/);
        assert.deepEqual(await heard(page), ['Archived.']);
        // e again acts on the open thread: it comes back
        await page.keyboard.press('e');
        await page.locator(`#threads > li[data-id="${ids[1]}"]`).waitFor();
        assert.notEqual(await focused(page), 'BODY');
    } finally {
        await page.context().close();
    }
});

test('a new message moving the focused row to the top keeps the focus '
     + 'on it, and says whose it is', async () => {
    const page = await newPage();
    try {
        const row = rowOf(page, shown(others[1]));
        assert.ok(await row.evaluate((li) => li.previousElementSibling),
            'the row is already on top');
        await row.locator('.thread-row').focus();
        await listen(page);
        await deliverInbound(ctx.cluster, { from: others[1],
            body: 'Bumping my thread' });
        await page.waitForFunction((name) => document.querySelector(
            '#threads > li .row-name').textContent === name,
            shown(others[1]));
        assert.equal(await page.evaluate(() => document.activeElement
            .closest('li')?.querySelector('.row-name').textContent),
            shown(others[1]));
        await saidSoon(page, /New message/);
        assert.deepEqual(await heard(page),
            [`New message from ${shown(others[1])}.`]);
    } finally {
        await page.context().close();
    }
});

test('Send chosen with the keyboard keeps the focus while it sends',
     async () => {
    await needsSendRoutes(ctx.cluster);
    const page = await newPage();
    try {
        await openThread(page, shown(others[3]));
        await page.locator('#composer-text').fill('Sent with Space');
        await page.keyboard.press('Tab');
        assert.equal(await focused(page), 'button#composer-send.primary.send');
        await page.keyboard.press('Space');
        await page.locator('#messages .message.outbound',
            { hasText: 'Sent with Space' }).waitFor();
        await page.waitForTimeout(300);
        assert.equal(await focused(page), 'button#composer-send.primary.send');
        assert.equal(await page.locator('#composer-text').inputValue(), '');
    } finally {
        await page.context().close();
    }
});

test('an opt-out confirmed from the keyboard leaves the focus on the '
     + 'thread\'s title and says so', async () => {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body: 'Please stop' });
    const page = await newPage();
    try {
        await openThread(page, shown(from));
        await page.locator('#act-optout').focus();
        await page.keyboard.press('Enter');
        await page.getByRole('dialog', { name: 'Opt this contact out?' })
            .waitFor();
        await page.keyboard.press('Tab');
        await listen(page);
        await page.keyboard.press('Enter');
        await page.locator('#act-optout', { hasText: 'Opted out' })
            .waitFor();
        assert.equal(await focused(page), 'h2#thread-title');
        assert.ok(await page.locator('#act-optout').isDisabled());
        await saidSoon(page, /Opted out/);
    } finally {
        await page.context().close();
    }
});

test('Pause and Resume from the keyboard keep the focus on the campaign '
     + 'and say what they did', async () => {
    const org = ctx.cluster.orgs[0];
    const later = new Date(Date.now() + 3 * 86400e3).toISOString();
    const made = await api(ctx.cluster, '/api/v1/campaigns', org.token, {
        method: 'POST', body: { name: 'Later sale', body: 'Soon',
            audience: { all: true }, send_at: later } });
    assert.ok(made.status < 300, made.text);
    const sent = await api(ctx.cluster,
        `/api/v1/campaigns/${made.json.id}/send`, org.token,
        { method: 'POST' });
    assert.ok(sent.status < 300, sent.text);
    const page = await newPage();
    try {
        await page.getByRole('link', { name: 'Campaigns' }).click();
        const card = page.locator('.bulk-item', { hasText: 'Later sale' });
        await card.getByRole('button', { name: 'Pause' }).focus();
        await listen(page);
        await page.keyboard.press('Enter');
        await card.getByRole('button', { name: 'Resume' }).waitFor();
        await page.waitForTimeout(100);
        assert.equal(await focused(page), 'h3#campaigns-name-'
            + made.json.id + '.bulk-name');
        await saidSoon(page, /Paused/);

        await card.getByRole('button', { name: 'Resume' }).focus();
        await page.keyboard.press('Space');
        await card.getByRole('button', { name: 'Pause' }).waitFor();
        await page.waitForTimeout(100);
        assert.equal(await focused(page), 'h3#campaigns-name-'
            + made.json.id + '.bulk-name');
        await saidSoon(page, /Resumed/);
        assert.deepEqual(await heard(page), ['Paused: Later sale.',
                                             'Resumed: Later sale.']);
    } finally {
        await page.context().close();
        await api(ctx.cluster, `/api/v1/campaigns/${made.json.id}/cancel`,
                  org.token, { method: 'POST' });
    }
});

test('a colleague removed from the team: the focus goes to the team\'s '
     + 'heading and the removal is said', async () => {
    const page = await newPage();
    try {
        await page.getByRole('link', { name: 'Settings' }).click();
        const remove = page.getByRole('button',
            { name: `Remove ${COLLEAGUE.email}` });
        await remove.focus();
        await page.keyboard.press('Enter');
        const dialog = page.getByRole('dialog',
            { name: 'Remove from the team?' });
        await dialog.waitFor();
        await listen(page);
        await dialog.getByRole('button', { name: 'Remove' }).press('Enter');
        await remove.waitFor({ state: 'detached' });
        await page.waitForTimeout(100);
        assert.equal(await focused(page), 'h3#team-title');
        await saidSoon(page, /Removed/);
        assert.deepEqual(await heard(page),
            [`Removed ${COLLEAGUE.email}.`]);
    } finally {
        await page.context().close();
    }
});

test('a message with files in the open thread says what they are: '
     + '"with a picture" when they are all pictures, "with an attachment" '
     + 'when any is another kind of file', async () => {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body: 'Hi, it is Mo' });
    const media = (n, type) => ({ content_type: type, url:
        `https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM${n}`
        + `/Media/ME${n}` });
    const page = await newPage();
    try {
        await openThread(page, shown(from));
        await listen(page);
        await deliverInbound(ctx.cluster, { from, body: '',
            media: [media(1, 'image/jpeg'), media(2, 'Image/PNG')] });
        await saidSoon(page, /with a/);
        await deliverInbound(ctx.cluster, { from, body: 'my card',
            media: [media(3, 'image/png'), media(4, 'text/x-vcard')] });
        await saidSoon(page, /my card/);
        assert.deepEqual(await heard(page), [
            'New message with a picture.',
            'New message with an attachment: my card']);
    } finally {
        await page.context().close();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
