// Answers that come late never undo what is newer, in Debian's Chromium:
// a message arriving between the first read of the list and the
// WebSocket's hello is listed; a live message that comes while a
// thread's messages are read stays, and so does one that comes while a
// star or an opt-out is answered, or while a thread chosen in Contacts is
// read (it opens read); a count refresh's unread total does not replace
// a newer live one; "More" clicked twice lists the next
// contacts once; a save is not undone by a read begun before it; a
// campaign's card ends in its final state though its list was read while
// it sent; and a colleague's change to a contact keeps what is being
// typed in its panel.  Each test holds a real answer of the server
// (page.route) until the newer thing has happened, then lets it through.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, rowOf, shown, signIn, useBrowser }
         from '../lib/browser.mjs';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, importContactsCsv, quietHoursAway }
         from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Late Org' }],
    sender: true,
    carrierSim: { delays: { sending: [5, 10], sent: [50, 60],
                            final: [60, 80], duplicate: [10, 20] } },
});
const USER = { email: 'lu@late.example', password: 'lu waits for nothing' };
const web = useBrowser();
const first = uniqueNumber();
const frames = [];          /* what the app's WebSockets received */
let page;

const org = () => ctx.cluster.orgs[0];

async function call(path, opts = {}) {
    const res = await api(ctx.cluster, path, org().token, opts);
    assert.ok(res.status < 300, `${path}: ${res.status} ${res.text}`);
    return res.json;
}

// A promise and the function that settles it.
function gate() {
    let open;
    const opened = new Promise((resolve) => { open = resolve; });
    return { opened, open };
}

// Holds the first request matching match (and method): the server answers
// at once, the page gets that answer only when release() is called.
// answered: the page has it (its response event fired).  read resolves
// to the server's answer once it is held.
async function holdAnswer(match, method = 'GET') {
    const read = gate();
    const release = gate();
    let held = false;
    let answered;
    await page.route(match, async (route) => {
        if (held || route.request().method() !== method) {
            await route.fallback();
            return;
        }
        held = true;
        const url = route.request().url();
        answered = page.waitForResponse((r) => r.url() === url);
        const answer = await route.fetch();
        read.open(answer);
        await release.opened;
        await route.fulfill({ response: answer });
    });
    return {
        read: read.opened,
        release: async () => {
            release.open();
            await answered;
            // the page's own handling of the answer: a task or two
            await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
            await page.unroute(match);
        },
    };
}

// The page's one polite status (app.js announce()).
const announcer = () => page.locator('#announcer');

// Waits until the page's status says what it says once it has taken in
// an action's answer (words): the fence for what that answer must not
// have changed, which the page would have changed in the same step,
// just before saying it.
async function saidOnceTakenIn(words) {
    await page.locator('#announcer', { hasText: words })
        .waitFor({ state: 'attached' });
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), USER.email, USER.password, 'billing');
    await deliverInbound(cluster, { from: first, body: 'first thread' });
    const lines = ['phone,name,tags'];
    for (let i = 0; i < 60; i++) {
        lines.push(`${uniqueNumber()},Many ${String(i).padStart(2, '0')},`
                   + (i === 0 ? 'late' : 'many'));
    }
    await importContactsCsv(cluster, org().token, lines.join('\n') + '\n');
    await inboxctl(cluster.store, 'credits', 'grant', org().id, '50');
    await inboxctl(cluster.store, 'settings', 'set', org().id, '--timezone',
                   'UTC', '--quiet-hours', quietHoursAway());
    await web.launch();
    page = await web.newPage({ width: 1200, height: 800 });
    page.on('websocket', (ws) => ws.on('framereceived',
        (f) => frames.push(String(f.payload))));
});

test('a message that comes between the first read of the list and the '
     + 'live connection is listed, and the unread total counts it',
     async () => {
    const late = uniqueNumber();
    const list = await holdAnswer((u) => u.pathname
                                  === '/api/v1/conversations');
    // the socket opens only once the message is stored
    const stored = gate();
    let ticketHeld = false;
    const ticket = (u) => u.pathname === '/api/v1/realtime/ticket';
    await page.route(ticket, async (route) => {
        if (!ticketHeld) {
            ticketHeld = true;
            await stored.opened;
        }
        await route.fallback();
    });
    const signingIn = signIn(page, ctx.cluster, USER);
    await list.read;
    await deliverInbound(ctx.cluster, { from: late, body: 'in the gap' });
    stored.open();
    await signingIn;
    await list.release();
    await page.unroute(ticket);
    await rowOf(page, shown(late)).waitFor();
    await rowOf(page, shown(first)).waitFor();
    await page.locator('#unread-total', { hasText: '2' }).waitFor();
});

test('a message that comes while a thread is read stays shown', async () => {
    const thread = await holdAnswer((u) => /\/messages$/.test(u.pathname));
    await rowOf(page, shown(first)).getByRole('button').click();
    await thread.read;
    await deliverInbound(ctx.cluster, { from: first, body: 'while reading' });
    // the page has its message.created before the older page of messages
    for (let i = 0; i < 100 && !frames.some((f) => f.includes(
        'while reading')); i++) {
        await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(frames.some((f) => f.includes('while reading')));
    await thread.release();
    const bodies = page.locator('#messages .message');
    await bodies.filter({ hasText: 'while reading' }).waitFor();
    assert.deepEqual(await page.locator('#messages .message .body')
        .allTextContents(), ['first thread', 'while reading']);
});

test('a star\'s answer that comes after a newer live message does not put '
     + 'the older preview back', async () => {
    const star = await holdAnswer((u) => /\/star$/.test(u.pathname), 'POST');
    await rowOf(page, shown(first)).getByRole('button').click();
    await page.locator('#act-star').click();
    await star.read;
    await deliverInbound(ctx.cluster, { from: first, body: 'after the star' });
    for (let i = 0; i < 100 && !frames.some((f) => f.includes(
        'after the star')); i++) {
        await new Promise((r) => setTimeout(r, 50));
    }
    const row = rowOf(page, shown(first));
    await row.filter({ hasText: 'after the star' }).waitFor();
    assert.doesNotMatch(await announcer().textContent(), /Starred\./);
    await star.release();
    await saidOnceTakenIn('Starred.');
    assert.match(await row.textContent(), /after the star/);
    // and starred: the star's own event came in order
    assert.equal(await row.locator('.row-star').isVisible(), true);
});

test('"More" clicked twice lists the next contacts once', async () => {
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.locator('#contacts-more').waitFor({ state: 'visible' });
    const next = await holdAnswer((u) => u.pathname === '/api/v1/contacts'
                                  && u.searchParams.has('cursor'));
    await page.locator('#contacts-more').click();
    await next.read;
    await page.locator('#contacts-more').click();
    await next.release();
    await page.locator('#contacts-more').waitFor({ state: 'hidden' });
    const names = await page.locator('#contacts-list .contact-row')
        .evaluateAll((rows) => rows.map((r) => r.dataset.id));
    assert.equal(names.length, new Set(names).size, 'a contact listed twice');
    let all = 0;
    let cursor = '';
    do {
        const p = await call(`/api/v1/contacts?limit=50${cursor}`);
        all += p.items.length;
        cursor = p.next_cursor
            ? `&cursor=${encodeURIComponent(p.next_cursor)}` : '';
    } while (cursor);
    assert.equal(names.length, all);
});

test('a save is not undone by the read begun when Settings was shown',
     async () => {
    const settingsRead = (u) => u.pathname === '/api/v1/settings';
    const shownOnce = page.waitForResponse((r) => settingsRead(
        new URL(r.url())));
    await page.getByRole('link', { name: 'Settings' }).click();
    await shownOnce;
    const business = page.locator('#settings-business');
    await page.getByRole('link', { name: 'Contacts' }).click();
    const read = await holdAnswer(settingsRead);
    await page.getByRole('link', { name: 'Settings' }).click();
    await read.read;
    await business.fill('Newer Name');
    await page.locator('#settings-save').click();
    await page.locator('#settings-status', { hasText: 'Saved.' }).waitFor();
    // a fence: the page reads the ledger (this user may see it) right
    // after it took in the held read, filling the form or keeping it
    const ledgerRead = page.waitForRequest((r) => new URL(r.url())
        .pathname === '/api/v1/billing/ledger');
    await read.release();
    await ledgerRead;
    assert.equal(await business.inputValue(), 'Newer Name');
    assert.equal((await call('/api/v1/settings')).business_name,
                 'Newer Name');
    await page.locator('#settings-save').click();
    await page.locator('#settings-status', { hasText: 'Nothing to save.' })
        .waitFor();
});

test('a campaign\'s card ends done though its list was read while it sent',
     async () => {
    const c = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Late sale', body: 'Hello', audience: { tags: ['late'] } } });
    const card = page.locator('.bulk-item', { hasText: 'Late sale' });
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await card.locator('.bulk-status', { hasText: 'Draft' }).waitFor();
    await page.getByRole('link', { name: 'Inbox' }).click();
    const list = await holdAnswer((u) => u.pathname === '/api/v1/campaigns');
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await list.read;
    await call(`/api/v1/campaigns/${c.id}/send`, { method: 'POST' });
    // its last frame (done, delivered) has reached the page: none follows
    const last = (f) => f.includes(c.id) && f.includes('"status":"done"')
        && f.includes('"delivered":1');
    for (let i = 0; i < 200 && !frames.some(last); i++) {
        await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(frames.some(last), 'no final progress frame');
    await list.release();
    await card.locator('.bulk-status', { hasText: 'Done' }).waitFor();
});

test('a name being typed in the contact panel stays when a colleague opts '
     + 'the contact out', async () => {
    await page.getByRole('link', { name: 'Inbox' }).click();
    await rowOf(page, shown(first)).getByRole('button').click();
    await page.locator('#act-contact').click();
    const name = page.locator('#contact-name');
    await name.waitFor();
    await name.fill('Half typed');
    const conv = (await call('/api/v1/conversations?q='
        + encodeURIComponent(first))).items[0];
    await call(`/api/v1/conversations/${conv.id}/opt-out`,
               { method: 'POST' });
    await page.locator('#contact-optout:not([hidden])').waitFor();
    assert.equal(await name.inputValue(), 'Half typed');
    assert.equal(await name.evaluate((el) => el === document.activeElement),
                 true);

    // the half-typed name dropped as a person would (Esc leaves the
    // field, then says "Not saved", then drops it), so that the next
    // test's thread opens without that warning
    for (let i = 0; i < 3; i++) {
        await page.keyboard.press('Escape');
    }
    await page.locator('#contact-panel').waitFor({ state: 'hidden' });
});

// Waits until the app's WebSocket has received a frame saying text.
async function frameWith(text) {
    for (let i = 0; i < 100 && !frames.some((f) => f.includes(text)); i++) {
        await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(frames.some((f) => f.includes(text)), `no frame with ${text}`);
}

test('an opt-out\'s answer that comes after a newer live message does not '
     + 'put the older preview back', async () => {
    const late = uniqueNumber();
    await deliverInbound(ctx.cluster, { from: late, body: 'before opting' });
    const row = rowOf(page, shown(late));
    await row.getByRole('button').click();
    await page.locator('#messages .message .body',
                       { hasText: 'before opting' }).waitFor();
    const optOut = await holdAnswer((u) => /\/opt-out$/.test(u.pathname),
                                    'POST');
    await page.locator('#act-optout').click();
    await page.locator('#optout-confirm').click();
    await optOut.read;
    await deliverInbound(ctx.cluster, { from: late, body: 'after opting' });
    await frameWith('after opting');
    await row.filter({ hasText: 'after opting' }).waitFor();
    assert.doesNotMatch(await announcer().textContent(), /Opted out\./);
    await optOut.release();
    await saidOnceTakenIn('Opted out.');
    assert.match(await row.textContent(), /after opting/);
    assert.equal(await page.locator('#act-optout').textContent(),
                 'Opted out');
});

test('a thread chosen in Contacts while a message comes in opens with it: '
     + 'its preview, and read', async () => {
    const late = uniqueNumber();
    await deliverInbound(ctx.cluster, { from: late, body: 'before choosing' });
    const id = (await call('/api/v1/conversations?q='
        + encodeURIComponent(late))).items[0].id;
    // read elsewhere: nothing is unread when it is chosen
    await call(`/api/v1/conversations/${id}/read`, { method: 'POST' });
    const row = rowOf(page, shown(late));
    await row.filter({ hasText: 'before choosing' }).waitFor();
    await row.locator('.badge').waitFor({ state: 'hidden' });
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.getByLabel('Search contacts').fill(late.slice(2));
    const contact = page.locator('#contacts-list .contact-row');
    await page.waitForFunction(() => document.querySelectorAll(
        '#contacts-list .contact-row').length === 1);
    const conv = await holdAnswer((u) => /^\/api\/v1\/conversations\/[^/]+$/
                                  .test(u.pathname));
    await contact.click();
    await conv.read;
    await deliverInbound(ctx.cluster, { from: late, body: 'while choosing' });
    await frameWith('while choosing');
    await conv.release();
    await page.locator('#messages .message .body',
                       { hasText: 'while choosing' }).waitFor();
    await row.filter({ hasText: 'while choosing' }).waitFor();
    let unread = 1;
    for (const deadline = Date.now() + 10000;
         unread !== 0 && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 50));
        unread = (await call(`/api/v1/conversations/${id}`)).unread_count;
    }
    assert.equal(unread, 0, 'the message shown is read');
});

test('the unread total a count refresh read is not shown over a newer '
     + 'live total', async () => {
    await page.getByRole('link', { name: 'Inbox' }).click();
    // the refreshes earlier changes asked for are done
    await page.evaluate(() => new Promise((r) => setTimeout(r, 1500)));
    const counts = (u) => u.pathname === '/api/v1/conversations'
        && u.searchParams.get('limit') === '1';
    const held = await holdAnswer(counts);
    await deliverInbound(ctx.cluster, { from: uniqueNumber(),
                                        body: 'counted once' });
    const heldTotal = (await (await held.read).json()).unread_total;
    // a newer total, and the refresh it makes, answered first
    await deliverInbound(ctx.cluster, { from: uniqueNumber(),
                                        body: 'counted twice' });
    await frameWith('counted twice');
    await page.waitForResponse((r) => counts(new URL(r.url())));
    const total = String((await call('/api/v1/conversations?limit=1'))
                         .unread_total);
    await page.locator('#unread-total', { hasText: total }).waitFor();
    assert.notEqual(heldTotal, Number(total), 'the held total is older');
    // a fence: the page reads each answer with json() and takes it in
    // on that read's continuations, before any later task; a task set
    // as the held answer's read settles runs once the page has taken it
    // in, with the older total it would wrongly show
    await page.evaluate(() => {
        const json = Response.prototype.json;
        window.answersTakenIn = [];
        Response.prototype.json = function () {
            const reading = json.call(this);
            reading.then((body) => setTimeout(
                () => window.answersTakenIn.push(body)), () => {});
            return reading;
        };
    });
    await held.release();
    await page.waitForFunction((t) => window.answersTakenIn.some(
        (body) => body && body.unread_total === t), heldTotal);
    assert.equal(await page.locator('#unread-total').textContent(), total);
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx, web.close);
