// Live updates as two colleagues see them, in Debian's Chromium: a
// reconnect fills what was missed from where the page stood (a resume,
// not a reload of the list; after a reset the list, the thread and its
// contact panel are read again, and what the thread then shows is read,
// also when another tab was chosen meanwhile; a list that cannot be read
// again then shows none of its rows of before, and Try again),
// a colleague viewing or typing in the same
// thread is shown (past the server's expiry while they stay) and
// forgotten when they leave, and a reply written while the thread moved
// on asks before it goes (why, and what to do, read out with the
// question; once: "Send anyway" sends; also when typed on after the
// newer message showed), and not when a keyword's answer stored late is
// older than it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { answerUnavailable, dialogsSaid, openThread, rowOf, shown, signIn,
         useBrowser } from '../lib/browser.mjs';
import { inboxctl, sleep, sqlite3Path, uniqueNumber }
         from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually, postInbound }
         from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Live Desk' }] });
const ANA = { email: 'ana@desk.example', password: 'ana reads threads' };
const BEN = { email: 'ben@desk.example', password: 'ben reads threads' };
const ASKER = '+14155550188';
const OTHER = '+14155550177';
const RENAMED = '+14155550166';
const TAGGED = '+14155550155';
const HELPER = '+14155550144';
const LATE = '+14155550133';
const STAYED = '+14155550122';

const web = useBrowser();
let ana;
let ben;
let anaGot;             /* the frames Ana's page receives, from the start */

// Signs in as who and waits until the list is shown and live.
async function signInAs(p, who) {
    await signIn(p, ctx.cluster, who);
    await p.locator('#threads > li').first().waitFor();
}

// Every page of the thread list a page reads from now on (the filters'
// counts, read with limit=1 after live changes, are not the list).
function listReads(p) {
    const seen = [];
    p.on('request', (req) => {
        const u = new URL(req.url());
        if (req.method() === 'GET' && u.pathname === '/api/v1/conversations'
            && u.searchParams.get('limit') !== '1')
        {
            seen.push(u.search);
        }
    });
    return seen;
}

// The organization's thread with the contact of that phone number.
async function convOf(phone) {
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
        ctx.cluster.orgs[0].token);
    return list.json.items.find((c) => c.contact.phone === phone);
}

// The frames a page sends on its WebSocket, parsed.
function framesSent(p) {
    const sent = [];
    p.on('websocket', (ws) => ws.on('framesent', (f) => {
        try { sent.push(JSON.parse(f.payload)); } catch { /* not JSON */ }
    }));
    return sent;
}

// The frames a page receives on its WebSockets from now on, parsed.
function framesReceived(p) {
    const got = [];
    p.on('websocket', (ws) => ws.on('framereceived', (f) => {
        try { got.push(JSON.parse(f.payload)); } catch { /* not JSON */ }
    }));
    return got;
}

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, ANA.email, ANA.password);
    await addUser(cluster, org, BEN.email, BEN.password);
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '50');
    await deliverInbound(cluster, { from: ASKER, body: 'Are you open?' });
    await deliverInbound(cluster, { from: OTHER, body: 'Hello there' });
    await web.launch();
    ana = await web.newPage();
    anaGot = framesReceived(ana);
    ben = await web.newPage();
});

test('after live updates were down, the page resumes where it stood: '
    + 'what came meanwhile appears in order, and the list is not read '
    + 'again', async () => {
    await signInAs(ana, ANA);
    const sent = framesSent(ana);
    const reads = listReads(ana);
    await openThread(ana, '+1 (415) 555-0188');

    await ctx.cluster.stopWs();
    try {
        await ana.locator('#conn[data-state="reconnecting"]').waitFor();
        for (const body of ['First while away', 'Second while away']) {
            await deliverInbound(ctx.cluster, { from: ASKER, body });
        }
        await deliverInbound(ctx.cluster, { from: OTHER,
            body: 'Other thread while away' });
    } finally {
        await ctx.cluster.startWs();
    }
    await ana.locator('#conn[data-state="live"]').waitFor({ timeout: 30000 });

    const thread = ana.locator('#messages .message .body');
    await thread.filter({ hasText: 'Second while away' }).waitFor();
    const bodies = await thread.allTextContents();
    assert.deepEqual(bodies.slice(-2), ['First while away',
        'Second while away'], 'the missed messages, once each, in order');
    await rowOf(ana, '+1 (415) 555-0177').locator('.row-preview',
        { hasText: 'Other thread while away' }).waitFor();

    const resumes = sent.filter((f) => f.type === 'resume');
    assert.equal(resumes.length, 1, JSON.stringify(sent));
    assert.equal(typeof resumes[0].org_seq, 'number');
    assert.deepEqual(reads, [], 'the list was not read again');
});

test('a rename made while live updates were down longer than the server '
    + 'keeps them shows in the open contact panel after the reconnect',
    async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    await deliverInbound(cluster, { from: RENAMED, body: 'Who is this?' });
    await openThread(ana, '+1 (415) 555-0166');
    await ana.getByRole('button', { name: 'Contact', exact: true }).click();
    const panel = ana.getByRole('complementary', { name: 'Contact' });
    await panel.locator('.timeline-item').first().waitFor();
    const name = panel.getByLabel('Name');
    assert.equal(await name.inputValue(), '');
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const contactId = list.json.items.find((c) => c.contact.phone === RENAMED)
        .contact.id;

    await cluster.stopWs();
    try {
        await ana.locator('#conn[data-state="reconnecting"]').waitFor();
        const res = await api(cluster, `/api/v1/contacts/${contactId}`,
            org.token, { method: 'PATCH', body: { name: 'Olga Ortiz' } });
        assert.equal(res.status, 200, res.text);
        // the rename's event is gone: the page's resume gets a reset
        await promisify(execFile)(sqlite3Path, ['-cmd', '.timeout 5000',
            cluster.storePath, `DELETE FROM events WHERE org_id = ${org.id}`]);
    } finally {
        await cluster.startWs();
    }
    await ana.locator('#conn[data-state="live"]').waitFor({ timeout: 30000 });
    await ana.waitForFunction(() =>
        document.getElementById('contact-name').value === 'Olga Ortiz');
    await panel.getByRole('button', { name: 'Close' }).click();
    await openThread(ana, '+1 (415) 555-0188');
});

test('what came while live updates were down longer than the server keeps '
    + 'them shows in the open thread, read: no unread badge, for nobody',
    async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const unread = async () => (await api(cluster,
        '/api/v1/conversations?limit=200', org.token)).json.items
        .find((c) => c.contact.phone === ASKER).unread_count;
    await openThread(ana, '+1 (415) 555-0188');
    for (let i = 0; i < 50 && await unread() !== 0; i++) {
        await ana.waitForTimeout(100);
    }
    assert.equal(await unread(), 0);

    await cluster.stopWs();
    try {
        await ana.locator('#conn[data-state="reconnecting"]').waitFor();
        await deliverInbound(cluster, { from: ASKER,
            body: 'Still there after the reset?' });
        // the message's events are gone: the page's resume gets a reset
        await promisify(execFile)(sqlite3Path, ['-cmd', '.timeout 5000',
            cluster.storePath, `DELETE FROM events WHERE org_id = ${org.id}`]);
    } finally {
        await cluster.startWs();
    }
    await ana.locator('#conn[data-state="live"]').waitFor({ timeout: 30000 });
    await ana.locator('#messages .message .body',
        { hasText: 'Still there after the reset?' }).waitFor();
    for (let i = 0; i < 50 && await unread() !== 0; i++) {
        await ana.waitForTimeout(100);
    }
    assert.equal(await unread(), 0, 'the message shown is read');
    const row = rowOf(ana, '+1 (415) 555-0188');
    await row.locator('.badge').waitFor({ state: 'hidden' });
});

test('what came while away is read after a reset also when another tab '
    + 'is chosen while the list is read again', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const unread = async () => (await api(cluster,
        '/api/v1/conversations?limit=200', org.token)).json.items
        .find((c) => c.contact.phone === ASKER).unread_count;
    await openThread(ana, '+1 (415) 555-0188');
    for (let i = 0; i < 50 && await unread() !== 0; i++) {
        await ana.waitForTimeout(100);
    }
    assert.equal(await unread(), 0);

    // the list reads after the reconnect wait until let go, in order
    const held = [];
    let holding = false;
    const isListRead = (u) => u.pathname === '/api/v1/conversations'
        && u.searchParams.get('limit') !== '1';
    await ana.route(isListRead, (route) => {
        if (!holding) {
            return route.continue();
        }
        held.push(route);
        return undefined;
    });
    try {
        await cluster.stopWs();
        try {
            await ana.locator('#conn[data-state="reconnecting"]').waitFor();
            await deliverInbound(cluster, { from: ASKER,
                body: 'Still there, tab changed?' });
            await promisify(execFile)(sqlite3Path, ['-cmd',
                '.timeout 5000', cluster.storePath,
                `DELETE FROM events WHERE org_id = ${org.id}`]);
            holding = true;
        } finally {
            await cluster.startWs();
        }
        await ana.locator('#messages .message .body',
            { hasText: 'Still there, tab changed?' })
            .waitFor({ timeout: 30000 });
        for (let i = 0; i < 100 && held.length < 1; i++) {
            await ana.waitForTimeout(50);
        }
        assert.equal(held.length, 1, 'the reset read the list again');
        await ana.locator('.tab[data-filter="starred"]').click();
        for (let i = 0; i < 100 && held.length < 2; i++) {
            await ana.waitForTimeout(50);
        }
        assert.equal(held.length, 2, 'the tab read its list');
        holding = false;
        await held[0].continue();
        await ana.waitForTimeout(300);
        await held[1].continue();
    } finally {
        holding = false;
        await ana.unroute(isListRead);
    }
    for (let i = 0; i < 50 && await unread() !== 0; i++) {
        await ana.waitForTimeout(100);
    }
    assert.equal(await unread(), 0, 'the message shown is read');
    await ana.locator('.tab[data-filter="all"]').click();
    await rowOf(ana, '+1 (415) 555-0188').locator('.badge')
        .waitFor({ state: 'hidden' });
});

test('a list read again after a reset that fails shows none of the rows '
    + 'of before, says why (live events too) and offers Try again, which '
    + 'lists what came meanwhile', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const isListRead = (u) => u.pathname === '/api/v1/conversations'
        && u.searchParams.get('limit') !== '1';
    let down = false;
    await ana.route(isListRead, (route) => (down
        ? answerUnavailable(route, 'Try later')
        : route.continue()));
    const status = ana.locator('#list-status');
    const retry = ana.getByRole('button', { name: 'Try again',
                                            exact: true });
    const rows = ana.locator('#threads > li');
    try {
        await rowOf(ana, '+1 (415) 555-0177').waitFor();
        await cluster.stopWs();
        try {
            await ana.locator('#conn[data-state="reconnecting"]').waitFor();
            await deliverInbound(cluster, { from: OTHER,
                body: 'While the list could not be read' });
            // the message's events are gone: the page's resume gets a
            // reset, and its read of the list fails
            await promisify(execFile)(sqlite3Path, ['-cmd',
                '.timeout 5000', cluster.storePath,
                `DELETE FROM events WHERE org_id = ${org.id}`]);
            down = true;
        } finally {
            await cluster.startWs();
        }
        await status.filter({ hasText:
            'Could not load conversations: Try later' })
            .waitFor({ timeout: 30000 });
        assert.equal(await rows.count(), 0, 'no row of before is shown');
        assert.equal(await retry.isVisible(), true);

        // a live event draws the list: still no rows, still why
        const seen = anaGot.length;
        await deliverInbound(cluster, { from: OTHER,
            body: 'Live while the list could not be read' });
        await eventually(() => anaGot.slice(seen).some((f) =>
            f.type === 'message.created'), 10000, 'the live message');
        await ana.waitForTimeout(300);
        assert.equal(await rows.count(), 0);
        assert.equal(await status.textContent(),
            'Could not load conversations: Try later');
        assert.equal(await retry.isVisible(), true);

        down = false;
        await retry.click();
        await rowOf(ana, '+1 (415) 555-0177').locator('.row-preview',
            { hasText: 'Live while the list could not be read' }).waitFor();
        await rowOf(ana, '+1 (415) 555-0188').waitFor();
        assert.equal(await status.textContent(), '');
        assert.equal(await retry.isVisible(), false);
    } finally {
        down = false;
        await ana.unroute(isListRead);
    }
});

test('a colleague viewing the same thread is shown, then typing, and '
    + 'forgotten when they leave it', async () => {
    await signInAs(ben, BEN);
    await openThread(ben, '+1 (415) 555-0188');
    const line = ana.locator('#thread-presence');
    await line.filter({ hasText: /ben@desk\.example is viewing/ }).waitFor();
    // and the other way round
    await ben.locator('#thread-presence').filter(
        { hasText: /ana@desk\.example is viewing/ }).waitFor();

    await ben.locator('#composer-text').pressSequentially('On it',
        { delay: 30 });
    await line.filter({ hasText: /ben@desk\.example is typing/ }).waitFor();

    await ben.locator('#composer-text').fill('');
    // Esc leaves the composer, and Esc again closes the thread
    await ben.locator('#composer-text').press('Escape');
    await ben.locator('body').press('Escape');
    await ben.locator('#thread-view').waitFor({ state: 'hidden' });
    await ana.waitForFunction(() =>
        document.getElementById('thread-presence').textContent === '');

    // another thread's presence is not shown in this one; a fence: once
    // Ana's socket has Ben's presence there, a message of a new number
    // comes after it on that socket, and the page takes frames in in
    // order, so once its row is listed, that presence was taken in
    const other = await convOf(OTHER);
    const seen = anaGot.length;
    await openThread(ben, '+1 (415) 555-0177');
    await eventually(() => anaGot.slice(seen).some((f) =>
        f.type === 'presence' && f.conversation_id === other.id
        && f.state === 'viewing'), 10000, 'Ben\'s presence in the other '
        + 'thread on Ana\'s socket');
    const later = uniqueNumber();
    await deliverInbound(ctx.cluster, { from: later,
        body: 'A later message, of another thread' });
    await rowOf(ana, shown(later)).waitFor({ state: 'attached' });
    assert.equal(await line.textContent(), '');
});

test('a colleague who leaves the Inbox for another view is no longer '
    + 'shown viewing, and is again when back', async () => {
    await openThread(ben, '+1 (415) 555-0188');
    const line = ana.locator('#thread-presence');
    await line.filter({ hasText: /ben@desk\.example is viewing/ }).waitFor();

    await ben.evaluate(() => { location.hash = '#campaigns'; });
    try {
        await ben.locator('#app').waitFor({ state: 'hidden' });
        await ana.waitForFunction(() =>
            document.getElementById('thread-presence').textContent === '');
    } finally {
        await ben.evaluate(() => { location.hash = '#inbox'; });
    }
    await line.filter({ hasText: /ben@desk\.example is viewing/ }).waitFor();
});

test('a colleague who stays on a thread is still shown viewing after the '
    + 'server\'s 30 s expiry: their page says so again meanwhile',
    async () => {
    await deliverInbound(ctx.cluster, { from: STAYED, body: 'Still there?' });
    // pages of their own, whose clocks the test runs ahead
    const a = await web.newPage();
    const b = await web.newPage();
    try {
        for (const [p, who] of [[a, ANA], [b, BEN]]) {
            await p.clock.install();
            await signInAs(p, who);
            await openThread(p, '+1 (415) 555-0122');
        }
        const line = a.locator('#thread-presence');
        await line.filter({ hasText: /ben@desk\.example is viewing/ })
            .waitFor();
        // 40 s, 5 s at a time, Ben's page first: what it says again
        // reaches Ana's before her page would forget him
        for (let s = 5; s <= 40; s += 5) {
            await b.clock.runFor(5000);
            await sleep(100);
            await a.clock.runFor(5000);
            assert.match(await line.textContent(),
                /ben@desk\.example is viewing/, `after ${s} s`);
        }
    } finally {
        await a.context().close();
        await b.context().close();
    }
});

test('moving through the list as fast as keys repeat keeps the live '
    + 'connection, and colleagues see the thread it stopped on', async () => {
    await openThread(ana, '+1 (415) 555-0177');
    await ana.evaluate(() => {
        const conn = document.getElementById('conn');
        window.connStates = [];
        new MutationObserver(() => window.connStates.push(
            conn.dataset.state)).observe(conn, { attributes: true });
    });
    for (let i = 0; i < 60; i++) {
        await ana.keyboard.press(i % 2 === 0 ? 'j' : 'k');
    }
    await ana.keyboard.press('j');
    const title = await ana.locator('#thread-title').textContent();
    await openThread(ben, title);
    // sooner than the 10 s keepalive would say it again
    await ben.locator('#thread-presence').filter(
        { hasText: /ana@desk\.example is viewing/ }).waitFor({ timeout: 3000 });
    // a fence: a key in the composer after the moves says "typing" on
    // the socket after every frame they sent, so once Ben is shown it,
    // the server read them all and did not close the socket for them
    // (or it did, and the page, saying it again on a new one, noted so)
    const text = ana.locator('#composer-text');
    await text.press('x');
    await ben.locator('#thread-presence').filter(
        { hasText: /ana@desk\.example is typing/ }).waitFor();
    assert.deepEqual(await ana.evaluate(() => window.connStates), [],
        'the connection stayed live');
    await text.fill('');
    await text.press('Escape');
});

test('a reply written while a newer message came in asks first; "Send '
    + 'anyway" sends it, once', async () => {
    const org = ctx.cluster.orgs[0];
    await openThread(ben, '+1 (415) 555-0188');
    await ben.locator('#composer-text').fill('We open at nine');
    await deliverInbound(ctx.cluster, { from: ASKER,
        body: 'Never mind, found it' });
    await ben.locator('#messages .message .body',
        { hasText: 'Never mind, found it' }).waitFor();
    await ben.locator('#composer-text').press('Enter');

    const dialog = ben.locator('#stale-dialog');
    await dialog.waitFor();
    assert.equal(await ben.locator('#composer-text').inputValue(),
        'We open at nine', 'the draft is kept');
    const [said] = await dialogsSaid(ben);
    assert.equal(said.name, 'The conversation moved on');
    assert.ok(said.description.startsWith(await dialog.locator('.stale-why')
        .textContent() + ' Read what came in, then send your reply'),
        said.description);
    let outbound = ben.locator('#messages .message.outbound',
        { hasText: 'We open at nine' });
    assert.equal(await outbound.count(), 0, 'nothing went yet');

    await ben.locator('#stale-send').click();
    await outbound.first().waitFor();
    const conv = (await api(ctx.cluster, '/api/v1/conversations',
        org.token)).json.items.find((c) => c.contact.phone === ASKER);
    const msgs = await api(ctx.cluster, `/api/v1/conversations/${conv.id}`
        + '/messages', org.token);
    assert.equal(msgs.json.items.filter(
        (m) => m.body === 'We open at nine').length, 1, 'sent once');
    outbound = ben.locator('#messages .message.outbound',
        { hasText: 'We open at nine' });
    assert.equal(await outbound.count(), 1);

    // a draft begun after reading everything goes without a question
    await ben.locator('#composer-text').fill('See you then');
    await ben.locator('#composer-text').press('Enter');
    await ben.locator('#messages .message.outbound',
        { hasText: 'See you then' }).waitFor();
    assert.equal(await dialog.isVisible(), false);
});

test('a draft begun before a newer message came in, and typed on after it '
    + 'showed, still asks first', async () => {
    await openThread(ben, '+1 (415) 555-0188');
    const text = ben.locator('#composer-text');
    await text.fill('We close');
    await deliverInbound(ctx.cluster, { from: ASKER, body: 'Or at ten?' });
    await ben.locator('#messages .message .body', { hasText: 'Or at ten?' })
        .waitFor();
    await text.pressSequentially(' at six');
    await text.press('Enter');
    await ben.locator('#stale-dialog').waitFor();
    assert.equal(await ben.locator('#messages .message.outbound',
        { hasText: 'We close at six' }).count(), 0, 'nothing went yet');
    await ben.keyboard.press('Escape');
    await ben.locator('#stale-dialog').waitFor({ state: 'hidden' });
    await text.fill('');
});

test('keys act on nothing behind the "moved on" question: e archives '
    + 'nothing, and Esc only closes the question', async () => {
    const org = ctx.cluster.orgs[0];
    await ben.locator('#composer-text').fill('Table is ready');
    await deliverInbound(ctx.cluster, { from: ASKER,
        body: 'Running five minutes late' });
    await ben.locator('#messages .message .body',
        { hasText: 'Running five minutes late' }).waitFor();
    await ben.locator('#composer-text').press('Enter');
    const dialog = ben.locator('#stale-dialog');
    await dialog.waitFor();

    // what the page asks the server to do to a thread from now on
    const isAction = (req) => req.method() === 'POST'
        && /\/conversations\/[^/]+\/(un)?(archive|star)$/.test(req.url());
    const acted = [];
    const noteAction = (req) => {
        if (isAction(req)) {
            acted.push(req.url().replace(/^.*\//, ''));
        }
    };
    ben.on('request', noteAction);
    const star = ben.locator('#act-star');
    try {
        await ben.keyboard.press('e');
        await ben.keyboard.press('s');
        await ben.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
        // a fence: a click on Star, after the keys, is acted on after
        // them (the page takes each in as it comes, and would have asked
        // at once), so its request comes after any they made; and Esc
        // would have closed the thread before it
        const clicked = ben.waitForRequest(isAction);
        await star.click();
        await clicked;
    } finally {
        ben.off('request', noteAction);
    }
    assert.deepEqual(acted, ['star'], 'e and s acted on nothing');
    await star.filter({ hasText: /^Unstar$/ }).waitFor();
    await star.click();         /* as it was */
    await star.filter({ hasText: /^Star$/ }).waitFor();
    const conv = (await api(ctx.cluster, '/api/v1/conversations?filter=all',
        org.token)).json.items.find((c) => c.contact.phone === ASKER);
    assert.ok(conv, 'the thread is still in All');
    assert.equal(conv.archived, false);
    assert.equal(conv.starred, false);
    assert.equal(await ben.locator('#thread-view').isVisible(), true,
        'the thread is still open');
    assert.equal(await ben.locator('#composer-text').inputValue(),
        'Table is ready', 'the draft is kept');
});

test('a HELP read before a reply and stored after it (it waited for the '
    + 'store) stays behind it with its answer: the reply is still the '
    + 'thread\'s last message, and the next reply goes without a question',
    async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    await deliverInbound(cluster, { from: HELPER, body: 'Hi' });
    await openThread(ben, '+1 (415) 555-0144');
    const conv = await convOf(HELPER);

    // the reply takes the store first, the HELP is read meanwhile
    const lock = await cluster.lockStore();
    let reply;
    let help;
    try {
        reply = api(cluster, `/api/v1/conversations/${conv.id}/messages`,
            org.token, { method: 'POST', body: { body: 'Agent reply' } });
        await sleep(300);
        help = postInbound(cluster, { from: HELPER, body: 'HELP' });
        await sleep(300);
    } finally {
        await lock.release();
    }
    const r = await reply;
    const h = await help;
    assert.equal(r.status, 201, r.text);
    assert.equal(h.status, 200, h.text);

    const msgs = (await api(cluster, `/api/v1/conversations/${conv.id}`
        + '/messages', org.token)).json.items;
    const answer = msgs.find((m) => /for help/.test(m.body));
    const asked = msgs.find((m) => m.body === 'HELP');
    assert.ok(answer && asked, JSON.stringify(msgs));
    // what the case is about: the answer older than the reply
    assert.ok(Date.parse(answer.created_at) < Date.parse(r.json.created_at),
        JSON.stringify(msgs));
    const after = await convOf(HELPER);
    assert.equal(after.last_message.id, r.json.id);
    assert.equal(after.last_message.preview, 'Agent reply');
    await rowOf(ben, '+1 (415) 555-0144').locator('.row-preview',
        { hasText: 'Agent reply' }).waitFor();

    await ben.locator('#messages .message .body',
        { hasText: 'for help' }).waitFor();
    await ben.locator('#composer-text').fill('Anything else?');
    await ben.locator('#composer-text').press('Enter');
    await ben.locator('#messages .message.outbound',
        { hasText: 'Anything else?' }).waitFor();
    assert.equal(await ben.locator('#stale-dialog').isVisible(), false);
});

test('"Send anyway" sends at once though the newer message the server '
    + 'named has not reached the page yet', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    await deliverInbound(cluster, { from: LATE, body: 'Table for two?' });
    await openThread(ben, '+1 (415) 555-0133');
    await ben.locator('#composer-text').fill('Yes, at eight');

    const dialog = ben.locator('#stale-dialog');
    const outbound = ben.locator('#messages .message.outbound',
        { hasText: 'Yes, at eight' });
    await cluster.stopWs();
    try {
        await ben.locator('#conn[data-state="reconnecting"]').waitFor();
        await deliverInbound(cluster, { from: LATE, body: 'Make it three' });
        await ben.locator('#composer-text').press('Enter');
        await dialog.waitFor();
        await ben.locator('#stale-send').click();
        await outbound.waitFor({ timeout: 5000 });
        assert.equal(await dialog.isVisible(), false);
    } finally {
        await cluster.startWs();
    }
    await ben.locator('#conn[data-state="live"]').waitFor({ timeout: 30000 });
    await ben.locator('#messages .message .body',
        { hasText: 'Make it three' }).waitFor();
    const conv = await convOf(LATE);
    const msgs = (await api(cluster, `/api/v1/conversations/${conv.id}`
        + '/messages', org.token)).json.items;
    assert.equal(msgs.filter((m) => m.body === 'Yes, at eight').length, 1,
        'sent once');
    assert.equal(await outbound.count(), 1);
});

test('a tag a colleague saves in their contact panel shows at once in '
    + 'the same contact\'s panel open here, without a reload; theirs says '
    + 'Saved.', async () => {
    await deliverInbound(ctx.cluster, { from: TAGGED, body: 'Sign me up' });
    for (const p of [ana, ben]) {
        await openThread(p, '+1 (415) 555-0155');
        await p.getByRole('button', { name: 'Contact', exact: true }).click();
        await p.getByRole('complementary', { name: 'Contact' })
            .locator('.timeline-item').first().waitFor();
    }
    await ana.evaluate(() => { window.notReloaded = true; });
    const chips = (p) => p.getByRole('complementary', { name: 'Contact' })
        .getByRole('list', { name: 'Tags' }).locator('.tag > span');
    assert.deepEqual(await chips(ana).allTextContents(), []);

    // Ben's reads of the contact from now on (a read of his panel)
    const contactPath = '/api/v1/contacts/'
        + (await convOf(TAGGED)).contact.id;
    const benRead = [];
    const noteRead = (req) => {
        const u = new URL(req.url());
        if (req.method() === 'GET' && (u.pathname === contactPath
            || u.pathname === contactPath + '/timeline'))
        {
            benRead.push(u.pathname);
        }
    };
    ben.on('request', noteRead);
    const panel = ben.getByRole('complementary', { name: 'Contact' });
    await panel.getByRole('combobox', { name: 'Tags' })
        .pressSequentially('volunteer,');
    await panel.getByRole('button', { name: 'Save' }).click();
    await panel.getByText('Saved.').waitFor();

    await ana.waitForFunction(() => [...document.querySelectorAll(
        '#contact-panel .tag > span')].map((e) => e.textContent)
        .join('|') === 'volunteer');
    assert.equal(await ana.evaluate(() => window.notReloaded), true);
    // Ben's own event does not read his panel again over the answer; a
    // fence: a message of a new number comes after the event in the
    // stream, so once its row is listed on Ben's page, a read the event
    // started was asked for (and its request seen before)
    try {
        const later = uniqueNumber();
        await deliverInbound(ctx.cluster, { from: later,
            body: 'A later message, of another thread' });
        await rowOf(ben, shown(later)).waitFor({ state: 'attached' });
    } finally {
        ben.off('request', noteRead);
    }
    assert.deepEqual(benRead, [], 'his panel was not read again');
    assert.equal(await panel.getByText('Saved.').isVisible(), true);
    assert.deepEqual(await chips(ben).allTextContents(), ['volunteer']);

    for (const p of [ana, ben]) {
        await p.getByRole('complementary', { name: 'Contact' })
            .getByRole('button', { name: 'Close' }).click();
    }
});

test('no page errors', () => {
    assert.deepEqual(web.pageErrors, []);
});

errorLogIsCleanTest(ctx, web.close);
