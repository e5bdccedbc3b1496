// The reply composer in Debian's Chromium: the live segment and credit
// count (and what made a text UCS-2), Enter to send (Shift+Enter: a new
// line), the message in the thread at once and only once (said in
// words to be "You sent:", as the contact's are "... wrote:"), refusals
// (402 without credits, 403 with billing inactive) shown with the draft
// and its image kept, one of a text too long said once and gone with an
// edit, no composer for an opted-out contact (live, too),
// images checked before they are uploaded, an MMS with its thumbnail,
// several images to one reply (10 at most, 5 MB in all, each removed on
// its own, kept by the thread's draft),
// Image and Remove kept focusable and inert while a send is out, the
// balance in the header (the plan on an unlimited one), a draft's
// text kept across a session's end for the same user only and forgotten
// when they sign out, and 390 px without sideways scrolling.
//
// Nothing is faked: the real API (estimate, send, media, billing) of a
// real nginx, and its real WebSocket frames.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { needsSendRoutes, noPageErrorsTest, openThread, rowOf, shown,
         signIn, useBrowser } from '../lib/browser.mjs';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { png } from '../lib/media.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Composer Org' },
    { name: 'Broke Org' }, { name: 'Lapsed Org' },
    { name: 'Subscribed Org' }] });
const PASSWORD = 'composer test password';
const agentOf = (org) => ({ email: `agent@${org.id}.example`,
                            password: PASSWORD });
const CREDITS = 50;

// Composer Org's contacts
const talker = uniqueNumber();      // replies go to them
const stopper = uniqueNumber();     // texted STOP
const changer = uniqueNumber();     // texts STOP while their thread is open
const pictures = uniqueNumber();    // gets an MMS
const narrow = uniqueNumber();      // seen at 390 px
const retrier = uniqueNumber();     // a send whose answer is lost
const editor = uniqueNumber();      // ... then its draft edited
const waiter = uniqueNumber();      // a draft outlives a session
const leaver = uniqueNumber();      // ... not a sign-out
const holder = uniqueNumber();      // pressed while a send is out
const typist = uniqueNumber();      // opted out by hand mid-reply
const collector = uniqueNumber();   // gets as many images as a reply takes
const islander = '+18765550123';    // Jamaica: +1, but no MMS reaches it
// the other organizations' contacts
const broke = uniqueNumber();
const lapsed = uniqueNumber();
const subscriber = uniqueNumber();

const web = useBrowser();
const VIEWPORT = { width: 1200, height: 760 };

async function conversationOf(org, phone) {
    const list = await api(ctx.cluster,
        `/api/v1/conversations?q=${phone.slice(2)}`, org.token);
    assert.equal(list.status, 200, list.text);
    return list.json.items[0];
}

async function messagesOf(org, phone) {
    const conv = await conversationOf(org, phone);
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    assert.equal(res.status, 200, res.text);
    return res.json.items;
}

async function balanceOf(org) {
    const res = await api(ctx.cluster, '/api/v1/billing', org.token);
    assert.equal(res.status, 200, `GET /api/v1/billing: ${res.status} `
        + res.text);
    return res.json.credits.balance;
}

// Pastes as a person does: the text on the clipboard, then Ctrl+V.
async function pasteText(p, selector, text) {
    await p.evaluate((t) => navigator.clipboard.writeText(t), text);
    await p.locator(selector).press('Control+V');
}

// Pastes a file (a screenshot, say) into the composer's text.
async function pasteFile(p, { name, mimeType, buffer }) {
    await p.locator('#composer-text').evaluate((el, f) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(f.bytes)], f.name,
            { type: f.mimeType }));
        el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt,
            bubbles: true, cancelable: true }));
    }, { name, mimeType, bytes: [...buffer] });
}

const composerCount = (p) => p.locator('#composer-count');

// The images to send, each an item of #attachments.
const images = (p) => p.locator('#attachments .attachment');

// Resolves once the composer shows n images, every one uploaded.
async function imagesReady(p, n = 1) {
    await p.waitForFunction((want) => {
        const items = document.querySelectorAll('#attachments .attachment');
        return items.length === want && Array.from(items).every(
            (li) => li.dataset.state === 'ready');
    }, n);
}

async function waitForCount(p, re) {
    try {
        await p.waitForFunction((src) => new RegExp(src, 'u').test(
            document.getElementById('composer-count').textContent),
            re.source);
    } catch (err) {
        assert.fail(`the count says "${await composerCount(p).textContent()}"`
            + `, not ${re}`);
    }
}

before(async () => {
    const cluster = await ctx.ready;
    const [org, brokeOrg, lapsedOrg, subscribedOrg] = cluster.orgs;
    for (const o of cluster.orgs) {
        await addUser(cluster, o, agentOf(o).email, PASSWORD);
    }
    await inboxctl(cluster.store, 'credits', 'grant', org.id,
        String(CREDITS));
    await inboxctl(cluster.store, 'credits', 'grant', lapsedOrg.id, '10');
    await inboxctl(cluster.store, 'billing', 'set', lapsedOrg.id,
        'inactive');
    await inboxctl(cluster.store, 'billing', 'plan', subscribedOrg.id,
        'unlimited');
    for (const from of [talker, changer, pictures, narrow, retrier,
                        editor, waiter, leaver, holder, islander,
                        typist, collector]) {
        await deliverInbound(cluster, { from, body: 'Are you open today?' });
    }
    await deliverInbound(cluster, { from: stopper, body: 'Hi there' });
    await deliverInbound(cluster, { from: stopper, body: 'STOP' });
    await deliverInbound(cluster, { org: brokeOrg, from: broke,
        body: 'Can you call me back?' });
    await deliverInbound(cluster, { org: lapsedOrg, from: lapsed,
        body: 'Is my order ready?' });
    await deliverInbound(cluster, { org: subscribedOrg, from: subscriber,
        body: 'Do you deliver?' });
    await web.launch();
});

test('the count follows the draft: GSM-7 is "1 segment", a pasted emoji '
     + 'makes it UCS-2 and says so; past 10 segments it says why a send '
     + 'would be refused', async () => {
    await needsSendRoutes(ctx.cluster);
    const p = await web.newPage(VIEWPORT);
    await p.context().grantPermissions(['clipboard-read',
        'clipboard-write']);
    try {
        await signIn(p, ctx.cluster, agentOf(ctx.cluster.orgs[0]));
        await openThread(p, shown(talker));
        const text = p.locator('#composer-text');
        assert.equal(await composerCount(p).textContent(), '');

        await text.pressSequentially('See you at 5pm', { delay: 15 });
        await waitForCount(p, /^1 segment · GSM-7 · 1 credit$/);

        // 100 GSM-7 characters and an emoji: 102 UTF-16 units, two
        // segments of UCS-2
        await text.fill('x'.repeat(100));
        await waitForCount(p, /^1 segment · GSM-7/);
        await text.press('End');
        await pasteText(p, '#composer-text', '😀');
        assert.equal(await text.inputValue(), 'x'.repeat(100) + '😀');
        await waitForCount(p, /^2 segments · UCS-2 because of .*😀.* · 1 credit$/);

        // typing never waits for the count: every key is in the draft
        await text.fill('');
        await text.pressSequentially('quick typing is never held back',
            { delay: 0 });
        assert.equal(await text.inputValue(),
            'quick typing is never held back');
        await waitForCount(p, /^1 segment · GSM-7 · 1 credit$/);

        // past the 10 segments carriers deliver: the count warns before
        // a send, in the server's words
        await text.fill('x'.repeat(1531));
        await waitForCount(p, /^The message is 11 segments \(GSM-7\): the limit is 10, so shorten it\.$/);
        assert.equal(await composerCount(p).getAttribute('data-refused'),
                     '');
        await text.fill('x'.repeat(1530));
        await waitForCount(p, /^10 segments · GSM-7 · 4 credits$/);
        assert.equal(await composerCount(p).getAttribute('data-refused'),
                     null);
        // UCS-2 parts are shorter: 340 emoji are 11
        await text.fill('👋'.repeat(340));
        await waitForCount(p, /^The message is 11 segments \(UCS-2\)/);

        // an empty draft has no count
        await text.fill('');
        await p.waitForFunction(() => document.getElementById(
            'composer-count').textContent === '');
    } finally {
        await p.context().close();
    }
});

test('a send refused as too long says so once, above the box, and the '
     + 'refusal goes as the text is edited', async () => {
    await needsSendRoutes(ctx.cluster);
    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, ctx.cluster, agentOf(ctx.cluster.orgs[0]));
        await openThread(p, shown(talker));
        const text = p.locator('#composer-text');
        const TOO_LONG = 'The message is 11 segments (GSM-7): the limit is '
            + '10, so shorten it.';
        await text.fill('x'.repeat(1531));
        await waitForCount(p, /^The message is 11 segments/);
        await text.press('Enter');
        await p.locator('#composer-error', { hasText: TOO_LONG }).waitFor();
        // the count under the box said it already: not twice on screen
        await composerCount(p).waitFor({ state: 'hidden' });
        assert.equal(await p.getByText(TOO_LONG, { exact: true })
            .filter({ visible: true }).count(), 1);

        // shortened, the refusal of the longer text goes; the count says
        // what this one would be
        await text.press('End');
        await text.press('Backspace');
        await waitForCount(p, /^10 segments · GSM-7 · 4 credits$/);
        assert.equal(await p.locator('#composer-error').textContent(), '');
        assert.equal(await composerCount(p).isVisible(), true);
        await text.fill('');
    } finally {
        await p.context().close();
    }
});

test('Enter sends (Shift+Enter is a new line): the message is in the '
     + 'thread at once, once, queued; list keys do nothing while typing',
async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[0];
    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await p.locator('#balance-count', { hasText: String(CREDITS) })
            .waitFor();
        await openThread(p, shown(talker));
        const text = p.locator('#composer-text');
        // j, k, e, s and u are the list's keys: here they are letters
        await text.pressSequentially('Yes, just ask for Sue', { delay: 10 });
        await text.press('Shift+Enter');
        await text.pressSequentially('kind regards', { delay: 10 });
        assert.equal(await text.inputValue(),
            'Yes, just ask for Sue\nkind regards');
        assert.equal(await p.locator('#act-star').textContent(), 'Star');
        assert.equal(await p.locator('#thread-view').isVisible(), true);

        await text.press('Enter');
        const mine = p.locator('#messages .message.outbound', {
            hasText: 'Yes, just ask for Sue' });
        await mine.waitFor();
        assert.equal(await mine.locator('.body').textContent(),
            'Yes, just ask for Sue\nkind regards');
        assert.equal(await mine.locator('.tick').getAttribute('data-status'),
            'queued');
        assert.match(await mine.locator('.tick').textContent(), /Queued/);
        assert.equal(await text.inputValue(), '');

        // the message.created frame moves the thread's row; the message
        // is still there once
        await p.locator('#threads .row-preview', {
            hasText: 'You: Yes, just ask for Sue' }).waitFor();
        await p.waitForTimeout(300);
        assert.equal(await mine.count(), 1);

        const stored = await messagesOf(org, talker);
        assert.equal(stored[0].body, 'Yes, just ask for Sue\nkind regards');
        assert.equal(stored[0].direction, 'outbound');
        assert.equal(stored.filter((m) => m.direction === 'outbound').length,
            1, 'sent once');
        const conv = await conversationOf(org, talker);
        assert.equal(conv.starred, false);
        assert.equal(conv.archived, false);

        // the header's balance follows
        await p.locator('#balance-count', {
            hasText: String(CREDITS - 1) }).waitFor();
        assert.equal(await balanceOf(org), CREDITS - 1);

        // after a reload the message is there, once, with its tick
        await p.reload();
        await p.locator('#conn[data-state="live"]').waitFor();
        await openThread(p, shown(talker));
        assert.equal(await mine.count(), 1);
        assert.equal(await mine.locator('.tick').getAttribute('data-status'),
            'queued');
    } finally {
        await p.context().close();
    }
});

test('who wrote each message is said in words, not only by its side '
     + 'and colour', async () => {
    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, ctx.cluster, agentOf(ctx.cluster.orgs[0]));
        await openThread(p, shown(talker));
        const messages = p.getByRole('list', { name: 'Messages' });
        await messages.locator('.message.outbound').waitFor();
        // as a screen reader reads them: the words, then the message
        const said = await messages.ariaSnapshot();
        assert.ok(said.includes(`- listitem:\n    - text: "${shown(talker)}`
            + ' wrote:"\n    - paragraph: Are you open today?'), said);
        assert.ok(said.includes('- listitem:\n    - text: "You sent:"\n'
            + '    - paragraph: Yes, just ask for Sue kind regards'), said);
    } finally {
        await p.context().close();
    }
});

test('each reply says who on the team sent it: You, a colleague by name, '
     + 'one no longer on the team, and no one for a token\'s; so does the '
     + 'list before a thread\'s last reply', async () => {
    const cluster = ctx.cluster;
    const org = cluster.orgs[0];
    const from = uniqueNumber();
    const colleague = `colleague@${org.id}.example`;
    await addUser(cluster, org, colleague, PASSWORD);
    await deliverInbound(cluster, { from, body: 'Who is on today?' });
    const list = await api(cluster, '/api/v1/conversations', org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    const reply = async (thread, token, body) => {
        const res = await api(cluster,
            `/api/v1/conversations/${thread.id}/messages`, token,
            { method: 'POST', body: { body } });
        assert.equal(res.status, 201, res.text);
        return res.json;
    };
    const tokenOf = (email) => inboxctl(cluster.store, 'token', 'create',
        org.id, '--user', email);
    const theirs = await reply(conv, await tokenOf(colleague), 'Sam is in');
    await reply(conv, org.token, 'Opening hours: 9 to 5');
    const mine = await tokenOf(agentOf(org).email);
    await reply(conv, mine, 'And me');
    // a thread with only this user's reply: no colleague to read the team
    // for
    const alone = uniqueNumber();
    await deliverInbound(cluster, { from: alone, body: 'Anyone there?' });
    const lists = await api(cluster, '/api/v1/conversations', org.token);
    await reply(lists.json.items.find((c) => c.contact.phone === alone),
                mine, 'Here');
    // threads whose last reply is a colleague's, and a token's
    const theirsLast = uniqueNumber();
    const tokenLast = uniqueNumber();
    await deliverInbound(cluster, { from: theirsLast, body: 'Call me?' });
    await deliverInbound(cluster, { from: tokenLast, body: 'Open now?' });
    const threads = (await api(cluster, '/api/v1/conversations', org.token))
        .json.items;
    const threadOf = (phone) => threads.find((c) => c.contact.phone === phone);
    await reply(threadOf(theirsLast), await tokenOf(colleague),
                'Sam will call');
    await reply(threadOf(tokenLast), org.token, 'We open at 9');

    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, cluster, agentOf(org));
        // the list says who sent each thread's last message
        const preview = (phone) => rowOf(p, shown(phone))
            .locator('.row-preview');
        await preview(alone).filter({ hasText: /^You: Here$/ }).waitFor();
        await preview(from).filter({ hasText: /^You: And me$/ }).waitFor();
        await preview(theirsLast)
            .filter({ hasText: `${colleague}: Sam will call` }).waitFor();
        await preview(tokenLast).filter({ hasText: /^Sent: We open at 9$/ })
            .waitFor();
        const messages = p.getByRole('list', { name: 'Messages' });
        const meta = (text) => messages.locator('.message.outbound',
            { hasText: text }).locator('.meta');
        await openThread(p, shown(alone));
        await meta('Here').filter({ hasText: /^You · / }).waitFor();
        await openThread(p, shown(from));
        await meta('Sam is in').filter({ hasText: colleague }).waitFor();
        assert.match(await meta('Sam is in').textContent(),
            new RegExp(`^${colleague.replace(/\./g, '\\.')} · `));
        assert.match(await meta('Opening hours').textContent(), /^\d/);
        assert.match(await meta('And me').textContent(), /^You · /);
        const said = await messages.ariaSnapshot();
        assert.ok(said.includes(`- text: "${colleague} sent:"\n`
            + '    - paragraph: Sam is in'), said);
        assert.ok(said.includes('- text: "Sent:"\n'
            + '    - paragraph: "Opening hours: 9 to 5"'), said);
        assert.ok(said.includes('- text: "You sent:"\n'
            + '    - paragraph: And me'), said);

        // once they leave the team, their replies are still theirs
        const boss = `boss@${org.id}.example`;
        await addUser(cluster, org, boss, PASSWORD, 'billing');
        const removed = await api(cluster,
            `/api/v1/users/${encodeURIComponent(theirs.sent_by)}`,
            await tokenOf(boss), { method: 'DELETE' });
        assert.ok(removed.status < 300, removed.text);
        await p.reload();
        await openThread(p, shown(from));
        await meta('Sam is in').filter({ hasText: 'A former colleague' })
            .waitFor();
        await preview(theirsLast)
            .filter({ hasText: /^A former colleague: Sam will call$/ })
            .waitFor();
        assert.match(await meta('And me').textContent(), /^You · /);
    } finally {
        await p.context().close();
    }
});

test('while a reply is sent its Image and Remove keep the focus and do '
     + 'nothing: the image goes with it', async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[0];
    const p = await web.newPage(VIEWPORT);
    // the send's answer held until the presses are in
    let release;
    const pressed = new Promise((resolve) => { release = resolve; });
    await p.route('**/api/v1/conversations/*/messages', async (route) => {
        if (route.request().method() === 'POST') {
            await pressed;
        }
        await route.fallback();
    });
    let choosers = 0;
    p.on('filechooser', () => { choosers += 1; });
    const focused = (sel) => p.evaluate((s) => document.activeElement
        .matches(s), sel);
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await openThread(p, shown(holder));
        await p.locator('#attach-input').setInputFiles({ name: 'menu.png',
            mimeType: 'image/png', buffer: png(40, 30) });
        await imagesReady(p);
        await p.locator('#composer-text').fill('The menu you asked for');
        await p.locator('#composer-text').press('Enter');
        await p.locator('#composer-send', { hasText: 'Sending' }).waitFor();

        for (const sel of ['#attach', '#attachments .attachment-remove']) {
            await p.locator(sel).focus();
            assert.ok(await focused(sel), `${sel} takes the focus`);
            await p.keyboard.press('Enter');
            await p.locator(sel).click({ force: true });
            assert.ok(await focused(sel), `${sel} keeps the focus`);
        }
        await p.waitForTimeout(300);
        assert.equal(choosers, 0, 'no file chooser while sending');
        assert.equal(await p.locator('#attachments').isVisible(), true,
                     'the image is still there');

        release();
        await p.locator('#messages .message.outbound',
            { hasText: 'The menu you asked for' }).waitFor();
        await p.locator('#attachments').waitFor({ state: 'hidden' });
        // Remove gone with the image sent, the focus is the reply box's
        assert.ok(await focused('#composer-text'));
        const [m] = await messagesOf(org, holder);
        assert.equal(m.body, 'The menu you asked for');
        assert.equal(m.media.length, 1);

        // sent, Image opens the file chooser again
        await p.locator('#attach').focus();
        await p.keyboard.press('Enter');
        await p.waitForTimeout(300);
        assert.equal(choosers, 1);
    } finally {
        release();
        await p.context().close();
    }
});

// The page's first send reaches the server, but its answer never comes
// back; the Idempotency-Key of every send is kept, in order.
async function loseFirstAnswer(p) {
    const keys = [];
    let lose = true;
    await p.route('**/api/v1/conversations/*/messages', async (route) => {
        const req = route.request();
        if (req.method() !== 'POST') {
            await route.fallback();
            return;
        }
        keys.push(req.headers()['idempotency-key']);
        if (lose) {
            lose = false;
            await route.fetch();
            await route.abort('connectionreset');
            return;
        }
        await route.fallback();
    });
    return keys;
}

test('a send whose answer was lost is sent again with the same '
     + 'Idempotency-Key, and goes once', async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[0];
    const p = await web.newPage(VIEWPORT);
    const keys = await loseFirstAnswer(p);
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await openThread(p, shown(retrier));
        const text = p.locator('#composer-text');
        await text.fill('Only once, please');
        await text.press('Enter');
        const error = p.locator('#composer-error');
        await error.filter({ hasText: /\S/ }).waitFor();
        assert.match(await error.textContent(), /will not go twice/);
        assert.equal(await text.inputValue(), 'Only once, please');

        await p.getByRole('button', { name: 'Send' }).click();
        await p.waitForFunction(() => document.getElementById(
            'composer-text').value === '');
        assert.equal(await error.textContent(), '');
        const mine = p.locator('#messages .message.outbound',
            { hasText: 'Only once, please' });
        await mine.waitFor();
        await p.waitForTimeout(300);
        assert.equal(await mine.count(), 1);

        assert.equal(keys.length, 2);
        assert.ok(keys[0] && keys[0] === keys[1],
            `the keys: ${JSON.stringify(keys)}`);
        const sent = (await messagesOf(org, retrier)).filter(
            (m) => m.direction === 'outbound');
        assert.equal(sent.length, 1, 'stored once');
    } finally {
        await p.context().close();
    }
});

test('a draft edited after a lost answer: the earlier try is said to be '
     + 'sent, the edit stays and goes when sent again', async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[0];
    const p = await web.newPage(VIEWPORT);
    const keys = await loseFirstAnswer(p);
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await openThread(p, shown(editor));
        const text = p.locator('#composer-text');
        const error = p.locator('#composer-error');
        await text.fill('First words');
        await text.press('Enter');
        await error.filter({ hasText: /will not go twice/ }).waitFor();

        await text.fill('Better words');
        await text.press('Enter');
        await error.filter({ hasText: 'An earlier try had already sent this '
            + 'message; your edited draft is still here.' }).waitFor();
        assert.equal(await text.inputValue(), 'Better words');

        await text.press('Enter');
        await p.waitForFunction(() => document.getElementById(
            'composer-text').value === '');
        await p.locator('#messages .message.outbound',
            { hasText: 'Better words' }).waitFor();
        assert.equal(keys.length, 3);
        assert.equal(keys[0], keys[1]);
        assert.notEqual(keys[2], keys[1]);
        const sent = (await messagesOf(org, editor)).filter(
            (m) => m.direction === 'outbound').map((m) => m.body).sort();
        assert.deepEqual(sent, ['Better words', 'First words']);
    } finally {
        await p.context().close();
    }
});

test('402: without credits the contract\'s message shows, and the draft '
     + 'and its image stay', async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[1];
    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await p.locator('#balance-count', { hasText: '0' }).waitFor();
        await openThread(p, shown(broke));
        await p.locator('#attach-input').setInputFiles({ name: 'map.png',
            mimeType: 'image/png', buffer: png(32, 32, [10, 160, 90]) });
        await imagesReady(p);
        const text = p.locator('#composer-text');
        await text.fill('I will call at noon');
        await text.press('Enter');
        const error = p.locator('#composer-error');
        await error.filter({ hasText: /\S/ }).waitFor();
        assert.match(await error.textContent(),
            /credits.*contact your billing admin/i);
        assert.equal(await text.inputValue(), 'I will call at noon');
        assert.equal(await p.locator('#attachments').isVisible(), true);
        assert.equal(await images(p).locator('.attachment-name')
            .textContent(), 'map.png');
        assert.equal(await p.locator('#messages .message.outbound').count(),
            0);
        assert.equal((await messagesOf(org, broke)).length, 1);
        assert.equal(await p.locator('#composer-send').isEnabled(), true);
    } finally {
        await p.context().close();
    }
});

test('403: with billing inactive the contract\'s message shows and the '
     + 'draft stays; the header says billing is inactive', async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[2];
    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await p.locator('#balance.inactive').waitFor();
        assert.match(await p.locator('#balance').textContent(),
            /Billing\s+inactive/);
        await openThread(p, shown(lapsed));
        const text = p.locator('#composer-text');
        await text.fill('Yes, it is ready');
        await p.getByRole('button', { name: 'Send' }).click();
        const error = p.locator('#composer-error');
        await error.filter({ hasText: /\S/ }).waitFor();
        assert.match(await error.textContent(),
            /billing.*inactive.*contact your billing admin/i);
        assert.equal(await text.inputValue(), 'Yes, it is ready');
        assert.equal((await messagesOf(org, lapsed)).length, 1);
    } finally {
        await p.context().close();
    }
});

test('on an unlimited plan the header names the plan, the count says the '
     + 'plan pays, and a reply goes with no credits', async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[3];
    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await p.locator('#balance-count', { hasText: 'Unlimited' }).waitFor();
        assert.match(await p.locator('#balance').textContent(),
            /Plan:\s+Unlimited/);
        await openThread(p, shown(subscriber));
        const text = p.locator('#composer-text');
        await text.pressSequentially('Yes, free of charge', { delay: 10 });
        await waitForCount(p,
            /^1 segment · GSM-7 · included in your plan$/);

        await text.press('Enter');
        await p.locator('#messages .message.outbound', {
            hasText: 'Yes, free of charge' }).waitFor();
        assert.equal(await p.locator('#composer-error').textContent(), '');
        const [sent] = await messagesOf(org, subscriber);
        assert.equal(sent.body, 'Yes, free of charge');
        assert.equal(sent.credits, 0);
        assert.equal(await balanceOf(org), 0);
    } finally {
        await p.context().close();
    }
});

test('an opted-out contact\'s thread has no composer, and one that opts '
     + 'out while open loses it at once', async () => {
    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, ctx.cluster, agentOf(ctx.cluster.orgs[0]));
        await openThread(p, shown(stopper));
        await p.locator('#composer-closed').waitFor();
        assert.equal(await p.locator('#composer').isHidden(), true);
        assert.match(await p.locator('#composer-closed').textContent(),
            /opted out/);

        await openThread(p, shown(changer));
        const composer = p.locator('#composer');
        await composer.waitFor();
        await p.locator('#composer-text').fill('a draft kept for later');
        await deliverInbound(ctx.cluster, { from: changer, body: 'stop' });
        await composer.waitFor({ state: 'hidden' });
        assert.equal(await p.locator('#composer-closed').isVisible(), true);

        await deliverInbound(ctx.cluster, { from: changer, body: 'START' });
        await composer.waitFor();
        assert.equal(await p.locator('#composer-closed').isHidden(), true);
        assert.equal(await p.locator('#composer-text').inputValue(),
            'a draft kept for later');
    } finally {
        await p.context().close();
    }
});

test('a contact opted out while a reply is typed: the focus goes to the '
     + 'notice, and the rest of the sentence marks, stars, archives and '
     + 'moves nothing; START texted in gives it back to the reply box',
     async () => {
    const org = ctx.cluster.orgs[0];
    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await openThread(p, shown(typist));
        const conv = await conversationOf(org, typist);
        const text = p.locator('#composer-text');
        await text.pressSequentially('Sure, ', { delay: 15 });

        /* a colleague opts them out meanwhile */
        const res = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}/opt-out`, org.token,
            { method: 'POST' });
        assert.equal(res.status, 200, res.text);
        await p.locator('#composer').waitFor({ state: 'hidden' });

        /* u: unread, s: star, e: archive, j and k: another thread */
        await p.keyboard.type('use the side door, just knock', { delay: 15 });
        assert.equal(await p.locator('#thread-name').textContent(),
            shown(typist));
        const after = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}`, org.token);
        assert.equal(after.status, 200, after.text);
        assert.equal(after.json.starred, false);
        assert.equal(after.json.archived, false);
        assert.equal(after.json.unread_count, 0);
        assert.equal(await p.evaluate(() => document.activeElement.id),
            'composer-closed');
        assert.match(await p.locator('#composer-closed').textContent(),
            /opted out/);

        /* they opt back in: the notice goes, the box is back, and the
         * focus with it (not dropped to the page, where the next key
         * would be a shortcut) */
        await deliverInbound(ctx.cluster, { from: typist, body: 'START' });
        await p.locator('#composer').waitFor();
        assert.equal(await p.evaluate(() => document.activeElement.id),
            'composer-text');
        await p.keyboard.type('so, as I said', { delay: 15 });
        assert.equal(await p.locator('#composer-text').inputValue(),
            'Sure, so, as I said');
    } finally {
        await p.context().close();
    }
});

test('a file that is not a JPEG, PNG or GIF, or is over 5 MB, is refused '
     + 'before any upload', async () => {
    const p = await web.newPage(VIEWPORT);
    const uploads = [];
    p.on('request', (req) => {
        if (req.url().endsWith('/api/v1/media')) {
            uploads.push(req.url());
        }
    });
    try {
        await signIn(p, ctx.cluster, agentOf(ctx.cluster.orgs[0]));
        await openThread(p, shown(pictures));
        const input = p.locator('#attach-input');
        const error = p.locator('#composer-error');

        await input.setInputFiles({ name: 'notes.txt',
            mimeType: 'text/plain', buffer: Buffer.from('hello') });
        await error.filter({ hasText: /\S/ }).waitFor();
        assert.equal(await error.textContent(), '\u201cnotes.txt\u201d is '
            + 'not an image an MMS can carry: attach a JPEG, PNG or GIF '
            + 'image.');

        // (a file on disk: six megabytes through the protocol are slow)
        const big = join(ctx.cluster.dir, 'huge.png');
        writeFileSync(big, png(16, 16, [200, 40, 40], 6 * 1024 * 1024));
        await input.setInputFiles(big);
        await error.filter({ hasText: 'huge.png' }).waitFor();
        assert.match(await error.textContent(),
            /^\u201chuge\.png\u201d is 6\.0 MB; an MMS image can be at most 5 MB/);

        // the bytes decide, not what the file says it is
        await input.setInputFiles({ name: 'fake.png', mimeType: 'image/png',
                                    buffer: Buffer.from('not a picture') });
        await error.filter({ hasText: 'fake.png' }).waitFor();
        assert.match(await error.textContent(),
                     /is not an image an MMS can carry/);

        // pasted, likewise
        await pasteFile(p, { name: 'report.pdf', mimeType: 'application/pdf',
                             buffer: Buffer.from('%PDF-1.4') });
        await error.filter({ hasText: 'report.pdf' }).waitFor();

        assert.equal(await p.locator('#attachments').isHidden(), true);
        assert.deepEqual(uploads, []);
    } finally {
        await p.context().close();
    }
});

test('a contact whose number no MMS reaches: Image says so instead of '
     + 'opening a picker, a pasted image likewise, and text still goes',
async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[0];
    const p = await web.newPage(VIEWPORT);
    const pickers = [];
    p.on('filechooser', (chooser) => pickers.push(chooser));
    const uploads = [];
    p.on('request', (req) => {
        if (req.url().endsWith('/api/v1/media')) {
            uploads.push(req.url());
        }
    });
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await openThread(p, shown(islander));
        const error = p.locator('#composer-error');
        const said = 'Pictures reach only numbers in the US and Canada, '
            + 'and this contact\u2019s number is in another country: send '
            + 'text alone.';

        await p.locator('#attach').click();
        await error.filter({ hasText: /\S/ }).waitFor();
        assert.equal(await error.textContent(), said);
        assert.equal(await p.locator('#attach').getAttribute('title'),
                     await error.textContent());

        await pasteFile(p, { name: 'menu.png', mimeType: 'image/png',
                             buffer: png(8, 8, [30, 120, 200]) });
        assert.equal(await p.locator('#attachments').isHidden(), true);

        const text = p.locator('#composer-text');
        await text.fill('Our menu is on the website');
        await text.press('Enter');
        await p.locator('#messages .message.outbound',
            { hasText: 'Our menu is on the website' }).waitFor();
        assert.deepEqual(pickers, []);
        assert.deepEqual(uploads, []);

        // a thread in the US still opens the picker
        await openThread(p, shown(pictures));
        const [chooser] = await Promise.all([p.waitForEvent('filechooser'),
            p.locator('#attach').click()]);
        assert.equal(chooser.isMultiple(), true);
    } finally {
        await p.context().close();
    }
});

test('an image is what its bytes are, whatever its name says, and one over '
     + '1 MB is attached with a word that carriers may not deliver it',
async () => {
    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, ctx.cluster, agentOf(ctx.cluster.orgs[0]));
        await openThread(p, shown(pictures));
        const input = p.locator('#attach-input');
        const state = (name) => images(p).filter({ hasText: name })
            .locator('.attachment-state');

        // a PNG saved as .jpg, which the browser calls a JPEG
        await input.setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg',
                                    buffer: png(8, 8) });
        await imagesReady(p);
        assert.equal(await p.locator('#composer-error').textContent(), '');
        assert.doesNotMatch(await state('photo.jpg').textContent(),
                            /carriers/);

        // a second pick adds to the first
        const big = join(ctx.cluster.dir, 'poster.png');
        writeFileSync(big, png(16, 16, [40, 40, 200], 1536 * 1024));
        await input.setInputFiles(big);
        await imagesReady(p, 2);
        assert.deepEqual(await images(p).locator('.attachment-name')
            .allTextContents(), ['photo.jpg', 'poster.png']);
        assert.equal(await state('poster.png').textContent(), '1.5 MB, '
            + 'over 1 MB: some carriers may not deliver it; a smaller image '
            + 'is safer');
        await p.getByRole('button', { name: 'Remove photo.jpg' }).click();
        await p.getByRole('button', { name: 'Remove poster.png' }).click();
        await p.locator('#attachments').waitFor({ state: 'hidden' });
    } finally {
        await p.context().close();
    }
});

test('an MMS: the image is previewed, costs 2 credits, and is sent with '
     + 'its thumbnail', async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[0];
    const before = await balanceOf(org);
    const p = await web.newPage(VIEWPORT);
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await openThread(p, shown(pictures));
        // pasted, as a screenshot is
        await pasteFile(p, { name: 'screenshot.png', mimeType: 'image/png',
                             buffer: png(64, 48, [30, 120, 200]) });
        await imagesReady(p);
        await p.waitForFunction(() => {
            const img = document.querySelector(
                '#attachments .attachment-preview');
            return img.complete && img.naturalWidth === 64
                && img.src.startsWith('blob:');
        });
        await waitForCount(p, /MMS.* · 2 credits$/);
        const text = p.locator('#composer-text');
        await text.fill('Here is the map');
        await waitForCount(p, /MMS.* · 2 credits$/);
        await text.press('Enter');

        const mine = p.locator('#messages .message.outbound',
            { hasText: 'Here is the map' });
        await mine.waitFor();
        await p.waitForFunction(() => {
            const img = document.querySelector(
                '#messages .message.outbound a.media-thumb img');
            return img && img.complete && img.naturalWidth === 64;
        });
        assert.match(await mine.locator('a.media-thumb').getAttribute('href'),
            /\/media\/[A-Za-z0-9_-]{43}\.png$/);
        assert.equal(await p.locator('#attachments').isHidden(), true);
        assert.equal(await text.inputValue(), '');
        await p.waitForTimeout(300);
        assert.equal(await mine.count(), 1);
        await p.locator('#balance-count', {
            hasText: String(before - 2) }).waitFor();
        const [m] = await messagesOf(org, pictures);
        assert.equal(m.media.length, 1);
        assert.equal(m.credits, 2);
    } finally {
        await p.context().close();
    }
});

test('a reply takes 10 images: more chosen are said and left out, Image '
     + 'and a paste say so when it is full, the draft keeps them across '
     + 'threads, and all 10 go for 2 credits; more than 5 MB in all is '
     + 'refused before any upload', async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[0];
    const p = await web.newPage(VIEWPORT);
    let choosers = 0;
    p.on('filechooser', () => { choosers += 1; });
    const uploads = [];
    p.on('request', (req) => {
        if (req.url().endsWith('/api/v1/media')) {
            uploads.push(req.url());
        }
    });
    const names = () => images(p).locator('.attachment-name')
        .allTextContents();
    const error = p.locator('#composer-error');
    const full = 'A reply carries at most 10 images: remove one to attach '
        + 'another.';
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await openThread(p, shown(collector));
        const files = Array.from({ length: 12 }, (_, i) => ({
            name: `photo-${i + 1}.png`, mimeType: 'image/png',
            buffer: png(8 + i, 8, [20 * i, 100, 200 - 10 * i]) }));
        await p.locator('#attach-input').setInputFiles(files);
        await imagesReady(p, 10);
        assert.equal(await error.textContent(), 'A reply carries at most '
            + '10 images, so 2 of those chosen were not attached.');
        assert.deepEqual(await names(), files.slice(0, 10).map(
            (f) => f.name));
        assert.equal(uploads.length, 10);
        await waitForCount(p,
            /^Picture message \(MMS\) · 10 images · 2 credits$/);

        // full: Image and a paste say so, and nothing is picked
        assert.equal(await p.locator('#attach').getAttribute('title'), full);
        await p.locator('#attach').click();
        await error.filter({ hasText: full }).waitFor();
        await pasteFile(p, files[10]);
        await p.waitForTimeout(200);
        assert.equal(await error.textContent(), full);
        assert.equal(await images(p).count(), 10);
        assert.equal(choosers, 0);
        // an image beside text on the clipboard: the text pastes as text
        const taken = await p.locator('#composer-text').evaluate((el) => {
            const dt = new DataTransfer();
            dt.setData('text/plain', 'see below');
            dt.items.add(new File([new Uint8Array([0x89, 0x50])], 'x.png',
                                  { type: 'image/png' }));
            const ev = new ClipboardEvent('paste', { clipboardData: dt,
                bubbles: true, cancelable: true });
            el.dispatchEvent(ev);
            return ev.defaultPrevented;
        });
        assert.equal(taken, false, 'the paste left to the text box');
        assert.equal(uploads.length, 10);

        // the draft keeps them, in order, while another thread is open
        await p.locator('#composer-text').fill('All ten, as promised');
        await openThread(p, shown(talker));
        assert.equal(await p.locator('#attachments').isHidden(), true);
        await openThread(p, shown(collector));
        await imagesReady(p, 10);
        assert.deepEqual(await names(), files.slice(0, 10).map(
            (f) => f.name));
        assert.equal(await p.locator('#composer-text').inputValue(),
                     'All ten, as promised');

        await p.locator('#composer-text').press('Enter');
        await p.locator('#messages .message.outbound',
            { hasText: 'All ten, as promised' }).waitFor();
        await p.locator('#attachments').waitFor({ state: 'hidden' });
        const [m] = await messagesOf(org, collector);
        assert.equal(m.media.length, 10);
        assert.equal(m.credits, 2);

        // 5 MB in all: the second of two 3 MB images is refused unsent
        const bigs = ['big-1.png', 'big-2.png'].map((name, i) => {
            const path = join(ctx.cluster.dir, name);
            writeFileSync(path, png(16, 16, [60 * i, 60, 60],
                                    3 * 1024 * 1024));
            return path;
        });
        await p.locator('#attach-input').setInputFiles(bigs);
        await imagesReady(p, 1);
        assert.deepEqual(await names(), ['big-1.png']);
        assert.equal(await error.textContent(), '\u201cbig-2.png\u201d '
            + 'would bring the images to 6.0 MB; a message carries 5 MB in '
            + 'all. Attach a smaller one.');
        assert.equal(uploads.length, 11);
        await p.getByRole('button', { name: 'Remove big-1.png' }).click();
        await p.locator('#attachments').waitFor({ state: 'hidden' });
    } finally {
        await p.context().close();
    }
});

test('a reply being typed when the session ends is there again for the '
    + 'same user, without its image, and for nobody else', async () => {
    const org = ctx.cluster.orgs[0];
    const other = { email: `other@${org.id}.example`, password: PASSWORD };
    await addUser(ctx.cluster, org, other.email, other.password);
    const p = await web.newPage(VIEWPORT);
    // ended elsewhere; the next thing the app asks for says so
    const endSession = async () => {
        await p.evaluate(async () => {
            await fetch('/api/v1/auth/logout', { method: 'POST',
                headers: { 'X-Requested-With': 'inbox' } });
            document.querySelector('.tab[data-filter="unread"]').click();
        });
        await p.getByText('Your session has ended. Sign in again.')
            .waitFor();
    };
    // on the form the app shows, without loading the page again
    const signInAgain = async (user) => {
        await p.getByLabel('Email', { exact: true }).fill(user.email);
        await p.getByLabel('Password', { exact: true }).fill(user.password);
        await p.getByRole('button', { name: 'Sign in' }).click();
        await p.locator('#conn[data-state="live"]').waitFor();
        await p.getByRole('button', { name: 'All', exact: true }).click();
        await openThread(p, shown(waiter));
    };
    const text = p.locator('#composer-text');
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await openThread(p, shown(waiter));
        await p.locator('#attach-input').setInputFiles({ name: 'menu.png',
            mimeType: 'image/png', buffer: png(40, 30) });
        await imagesReady(p);
        await text.fill('Your table is ready, come in');

        await endSession();
        await signInAgain(agentOf(org));
        assert.equal(await text.inputValue(), 'Your table is ready, come in');
        assert.equal(await p.locator('#attachments').isHidden(), true,
            'the image is not kept');

        await endSession();
        await signInAgain(other);
        assert.equal(await text.inputValue(), '', 'not shown to another');

        await endSession();
        await signInAgain(agentOf(org));
        assert.equal(await text.inputValue(), '',
            'forgotten once another signed in');
    } finally {
        await p.context().close();
    }
});

test('signing out forgets the replies being typed: the same user signing '
     + 'in again on this computer finds none', async () => {
    const org = ctx.cluster.orgs[0];
    const p = await web.newPage(VIEWPORT);
    const text = p.locator('#composer-text');
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await openThread(p, shown(leaver));
        await text.fill('Half an answer, not for the next person');
        await p.getByRole('button', { name: 'Sign out' }).click();

        await p.getByLabel('Email', { exact: true })
            .fill(agentOf(org).email);
        await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
        await p.getByRole('button', { name: 'Sign in' }).click();
        await p.locator('#conn[data-state="live"]').waitFor();
        await openThread(p, shown(leaver));
        assert.equal(await text.inputValue(), '');
    } finally {
        await p.context().close();
    }
});

test('signing out in another tab forgets the replies a tab kept when its '
     + 'session ended by itself', async () => {
    const org = ctx.cluster.orgs[0];
    const p = await web.newPage(VIEWPORT);
    const text = p.locator('#composer-text');
    try {
        await signIn(p, ctx.cluster, agentOf(org));
        await openThread(p, shown(leaver));
        await text.fill('Kept while the session was away');
        // the session ends by itself: the tab keeps the reply and waits
        // at the sign-in form
        await p.evaluate(async () => {
            await fetch('/api/v1/auth/logout', { method: 'POST',
                headers: { 'X-Requested-With': 'inbox' } });
            document.querySelector('.tab[data-filter="unread"]').click();
        });
        await p.getByText('Your session has ended. Sign in again.')
            .waitFor();
        // meanwhile a second tab of the same browser is signed in, and
        // signed out: whoever used the computer is leaving it
        const other = await p.context().newPage();
        await signIn(other, ctx.cluster, agentOf(org));
        await other.getByRole('button', { name: 'Sign out' }).click();
        await other.getByRole('button', { name: 'Sign in' }).waitFor();

        await p.getByLabel('Email', { exact: true })
            .fill(agentOf(org).email);
        await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
        await p.getByRole('button', { name: 'Sign in' }).click();
        await p.locator('#conn[data-state="live"]').waitFor();
        await p.getByRole('button', { name: 'All', exact: true }).click();
        await openThread(p, shown(leaver));
        assert.equal(await text.inputValue(), '');
    } finally {
        await p.context().close();
    }
});

test('at 390 px the composer, its images and its messages fit the screen',
async () => {
    await needsSendRoutes(ctx.cluster);
    const p = await web.newPage({ width: 390, height: 844 });
    try {
        await signIn(p, ctx.cluster, agentOf(ctx.cluster.orgs[0]));
        await openThread(p, shown(narrow));
        await p.locator('#attach-input').setInputFiles([{
            name: 'a-rather-long-file-name-for-a-narrow-screen.png',
            mimeType: 'image/png', buffer: png(400, 300, [90, 90, 200]) }, {
            name: 'another.png', mimeType: 'image/png',
            buffer: png(300, 400, [200, 90, 90]) }]);
        await imagesReady(p, 2);
        await p.locator('#composer-text').fill('Wide '.repeat(80)
            + 'https://example.com/' + 'x'.repeat(200));
        await waitForCount(p, /MMS/);
        for (const sel of ['#attachments', '#attachments .attachment-remove']) {
            const box = await p.locator(sel).last().boundingBox();
            assert.ok(box && box.x >= 0 && box.x + box.width <= 390,
                `${sel} is on screen: ${JSON.stringify(box)}`);
        }
        await p.locator('#composer-text').press('Enter');
        await p.locator('#messages .message.outbound a.media-thumb img')
            .last().waitFor();
        await p.locator('#composer-text').fill('😀'.repeat(40));
        await waitForCount(p, /UCS-2/);
        for (const sel of ['#composer', '#composer-send', '#attach',
                           '#composer-count', '#balance',
                           '#messages .message.outbound .bubble']) {
            const box = await p.locator(sel).first().boundingBox();
            assert.ok(box && box.x >= 0 && box.x + box.width <= 390,
                `${sel} is on screen: ${JSON.stringify(box)}`);
        }
        const width = await p.evaluate(
            () => document.documentElement.scrollWidth);
        assert.ok(width <= 390, `the page is ${width} px wide`);
    } finally {
        await p.context().close();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
