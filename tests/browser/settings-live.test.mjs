// The organization's settings live in every browser, in Debian's
// Chromium: a billing contact saves new quiet hours, and a colleague's
// Settings, open in another browser, shows them at once, with no reload,
// and says they were changed by someone else (so does a member's, and
// a change made by inboxctl shows too).  A colleague in the middle of
// an edit keeps what they typed: the fields they did not touch show the
// new values, the form says someone else changed the settings (naming
// what they typed over), Save stores their edit without undoing the
// other's, and "Reload the settings" drops what they typed for the
// settings as saved.  The saver's own save says "Saved." only, even
// when its frame comes after the answer and a colleague's before it.  A
// change whose frame was missed (live updates
// down longer than the server keeps them) shows after the reset.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { noPageErrorsTest, signIn, useBrowser } from '../lib/browser.mjs';
import { inboxctl, sqlite3Path } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

// the default quiet hours, which Settings first shows (null: not the
// fixture's)
const ctx = useCluster({ orgs: [{ name: 'Harbor Cafe', quietHours: null }] });
const BEA = { email: 'bea@harbor.example', password: 'bea pays the bills' };
const ANN = { email: 'ann@harbor.example', password: 'ann pays them too' };
const MAX = { email: 'max@harbor.example', password: 'max answers texts' };
const web = useBrowser();

// inboxctl's change comes at ws-server's look at the store (2 s)
const LOOK_MS = 10000;

const org = () => ctx.cluster.orgs[0];

let bea, ann, max;

async function settingsNow() {
    const res = await api(ctx.cluster, '/api/v1/settings', org().token);
    assert.equal(res.status, 200, res.text);
    return res.json;
}

async function openSettings(page, user) {
    await signIn(page, ctx.cluster, user);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.locator('[data-billing="balance"]').waitFor();
    await page.locator('#conn[data-state="live"]').waitFor();
    // gone on a reload: a change must show without one
    await page.evaluate(() => {
        window.notReloaded = true;
    });
}

const from = (page) => page.getByLabel('From', { exact: true });
const until = (page) => page.getByLabel('until', { exact: true });

// Waits until the page's field (by id) holds value.
async function fieldShows(page, id, value, timeout = 10000) {
    await page.waitForFunction(([i, v]) => document.getElementById(i)
        .value === v, [id, value], { timeout });
}

async function save(page) {
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#settings-status', { hasText: 'Saved.' })
        .waitFor();
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), BEA.email, BEA.password, 'billing');
    await addUser(cluster, org(), ANN.email, ANN.password, 'billing');
    await addUser(cluster, org(), MAX.email, MAX.password);
    await web.launch();
    bea = await web.newPage({ width: 1200, height: 800 });
    ann = await web.newPage({ width: 1200, height: 800 });
    max = await web.newPage({ width: 1200, height: 800 });
    await openSettings(bea, BEA);
    await openSettings(ann, ANN);
    await openSettings(max, MAX);
});

test('quiet hours saved in one browser show in another\'s Settings at '
     + 'once, with no reload', async () => {
    assert.equal(await from(ann).inputValue(), '21:00');
    await from(bea).fill('22:15');
    await until(bea).fill('06:45');
    await save(bea);

    for (const page of [ann, max]) {
        await fieldShows(page, 'settings-quiet-start', '22:15');
        await fieldShows(page, 'settings-quiet-end', '06:45');
        await page.locator('#settings-status',
            { hasText: 'Changed by someone else.' }).waitFor();
        assert.equal(await page.evaluate(() => window.notReloaded), true);
        assert.equal(await page.locator('#settings-changed').isVisible(),
                     false);
    }
    // the saver's own form says it saved, nothing else
    assert.equal(await bea.locator('#settings-status').textContent(),
                 'Saved.');

    // nothing typed: Save has nothing to send, the shown values are the
    // server's
    await ann.getByRole('button', { name: 'Save changes' }).click();
    await ann.locator('#settings-status', { hasText: 'Nothing to save.' })
        .waitFor();
});

test('a colleague in the middle of an edit keeps what they typed; the '
     + 'rest shows the new settings, and Save undoes none of them',
     async () => {
    const business = ann.getByLabel('Business name');
    await business.fill('Harbor Cafe & Bakery');

    await bea.getByLabel('Support contact').fill('hello@harbor.example');
    await until(bea).fill('07:00');
    await save(bea);

    await fieldShows(ann, 'settings-support', 'hello@harbor.example');
    await fieldShows(ann, 'settings-quiet-end', '07:00');
    assert.equal(await business.inputValue(), 'Harbor Cafe & Bakery');
    const notice = ann.locator('#settings-changed');
    await notice.waitFor();
    assert.match(await notice.textContent(),
                 /Changed by someone else while you were editing/);
    assert.equal(await ann.evaluate(() => window.notReloaded), true);

    await save(ann);
    assert.equal(await notice.isVisible(), false);
    const { countries, ...saved } = await settingsNow();
    assert.ok(countries.length > 0);
    assert.deepEqual(saved, {
        timezone: 'UTC',
        quiet_hours: { start: '22:15', end: '07:00' },
        business_name: 'Harbor Cafe & Bakery',
        support_contact: 'hello@harbor.example',
        default_country: null,
    });
    // and back in the other browser, with nothing typed there
    await fieldShows(bea, 'settings-business', 'Harbor Cafe & Bakery');
});

test('a field both changed: what was typed stays, the form names it, and '
     + '"Reload the settings" shows the saved ones', async () => {
    await from(ann).fill('20:00');

    await from(bea).fill('23:30');
    await save(bea);

    const notice = ann.locator('#settings-changed');
    await notice.waitFor();
    assert.match(await notice.textContent(), /the quiet hours/);
    assert.equal(await from(ann).inputValue(), '20:00');

    await notice.getByRole('button', { name: 'Reload the settings' })
        .click();
    assert.equal(await from(ann).inputValue(), '23:30');
    assert.equal(await until(ann).inputValue(), '07:00');
    assert.equal(await notice.isVisible(), false);
    await ann.getByRole('button', { name: 'Save changes' }).click();
    await ann.locator('#settings-status', { hasText: 'Nothing to save.' })
        .waitFor();
    assert.equal((await settingsNow()).quiet_hours.start, '23:30');
});

test('two saves at nearly the same moment: the saver sees "Saved." only, '
     + 'its own change\'s frame come after the answer and a colleague\'s '
     + 'before it; a colleague\'s change after it still says so',
     async () => {
    const annCookie = (await login(ctx.cluster, ANN.email, ANN.password))
        .cookie;
    const page = await web.newPage({ width: 1200, height: 800 });
    // the page's own save's frame held until its PATCH is answered; the
    // colleague's, sent while that PATCH waits, let through at once
    let socket = null;
    let holding = true;
    const held = [];
    let heard;
    const colleagueHeard = new Promise((ok) => { heard = ok; });
    await page.routeWebSocket(/\/ws\?/, (ws) => {
        socket = ws;
        const server = ws.connectToServer();
        server.onMessage((msg) => {
            let ev = null;
            try {
                ev = JSON.parse(String(msg));
            } catch {
                ev = null;
            }
            const s = ev && ev.type === 'settings.updated' ? ev.settings
                                                           : null;
            if (s && holding && s.business_name === 'Harbor Bakery') {
                held.push(msg);
                return;
            }
            ws.send(msg);
            if (s && s.support_contact === 'ann@harbor.example') {
                heard();
            }
        });
    });
    // the fence: each frame the page's socket delivered, noted a task
    // after its dispatch, when the page's own listeners (added after the
    // socket was made) have taken it in; the socket is routeWebSocket's
    // stand-in, made by the script it added first
    await page.addInitScript(() => {
        window.framesTakenIn = [];
        const Socket = window.WebSocket;
        window.WebSocket = class extends Socket {
            constructor(...args) {
                super(...args);
                this.addEventListener('message', (e) => {
                    setTimeout(() => window.framesTakenIn.push(
                        String(e.data)), 0);
                });
            }
        };
    });
    const takenIn = (text) => page.waitForFunction(
        (t) => window.framesTakenIn.some((f) => f.includes(t)), text,
        { timeout: 10000 });
    await page.route('**/api/v1/settings', async (route) => {
        if (route.request().method() !== 'PATCH') {
            return route.continue();
        }
        const res = await sessionApi(ctx.cluster, '/api/v1/settings',
            annCookie, { method: 'PATCH',
                         body: { support_contact: 'ann@harbor.example' } });
        assert.equal(res.status, 200, res.text);
        await colleagueHeard;
        /* the page takes the colleague's frame in before the answer
         * (nothing on it shows that while the save is on its way) */
        await takenIn('"support_contact":"ann@harbor.example"');
        return route.fulfill({ response: await route.fetch() });
    });
    try {
        await openSettings(page, BEA);
        await page.getByLabel('Business name').fill('Harbor Bakery');
        await save(page);
        assert.ok(socket !== null);
        holding = false;
        for (let i = 0; held.length === 0 && i < 200; i++) {
            await page.waitForTimeout(50);
        }
        assert.ok(held.length >= 1, 'the page\'s own frame came');
        held.forEach((msg) => socket.send(msg));
        await takenIn('"business_name":"Harbor Bakery"');
        assert.equal(await page.locator('#settings-status').textContent(),
                     'Saved.');
        assert.equal(await page.locator('#settings-changed').isVisible(),
                     false);
        assert.equal(await page.getByLabel('Business name').inputValue(),
                     'Harbor Bakery');
        assert.equal(await page.getByLabel('Support contact').inputValue(),
                     'ann@harbor.example');

        // a colleague's change after it: said as theirs
        const res = await sessionApi(ctx.cluster, '/api/v1/settings',
            annCookie, { method: 'PATCH', body: { business_name:
                         'Harbor Cafe & Bakery' } });
        assert.equal(res.status, 200, res.text);
        await fieldShows(page, 'settings-business', 'Harbor Cafe & Bakery');
        await page.locator('#settings-status',
            { hasText: 'Changed by someone else.' }).waitFor();
        for (const p of [ann, bea]) {
            await fieldShows(p, 'settings-business', 'Harbor Cafe & Bakery');
            await fieldShows(p, 'settings-support', 'ann@harbor.example');
        }
    } finally {
        await page.context().close();
    }
});

test('a change whose frame was missed shows in Settings after the reset',
     async () => {
    const cluster = ctx.cluster;
    await cluster.stopWs();
    try {
        await ann.locator('#conn[data-state="reconnecting"]').waitFor();
        await inboxctl(cluster.store, 'settings', 'set', org().id,
                       '--business-name', 'Harbor Cafe Downtown');
        // its event is gone: the page's resume gets a reset
        await promisify(execFile)(sqlite3Path, ['-cmd', '.timeout 5000',
            cluster.storePath,
            `DELETE FROM events WHERE org_id = ${org().id}`]);
    } finally {
        await cluster.startWs();
    }
    await ann.locator('#conn[data-state="live"]').waitFor({ timeout: 30000 });
    await fieldShows(ann, 'settings-business', 'Harbor Cafe Downtown');
    assert.equal(await ann.evaluate(() => window.notReloaded), true);
    await bea.locator('#conn[data-state="live"]').waitFor({ timeout: 30000 });
    await max.locator('#conn[data-state="live"]').waitFor({ timeout: 30000 });
});

test('what is typed before the settings are first read is kept when '
     + 'they come; the other fields show them', async () => {
    const now = await settingsNow();
    const page = await web.newPage({ width: 1200, height: 800 });
    let release;
    const held = new Promise((resolve) => {
        release = resolve;
    });
    await page.route('**/api/v1/settings', async (route) => {
        if (route.request().method() === 'GET') {
            await held;
        }
        return route.continue();
    });
    try {
        await signIn(page, ctx.cluster, BEA);
        await page.getByRole('link', { name: 'Settings' }).click();
        const business = page.getByLabel('Business name');
        await business.fill('Harbor Cafe & Bar');
        release();
        await page.locator('[data-billing="balance"]').waitFor();
        await fieldShows(page, 'settings-timezone', now.timezone);
        assert.equal(await business.inputValue(), 'Harbor Cafe & Bar');
    } finally {
        release();
        await page.context().close();
    }
});

test('who signs in next on the same page sees the saved settings, not '
     + 'what the one before typed and left', async () => {
    const now = await settingsNow();
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await openSettings(page, BEA);
        await page.getByLabel('Business name').fill('Not saved by Bea');
        await page.locator('#sign-out').click();
        await page.getByLabel('Email', { exact: true }).fill(ANN.email);
        await page.getByLabel('Password', { exact: true })
            .fill(ANN.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('#conn[data-state="live"]').waitFor();
        await page.getByRole('link', { name: 'Settings' }).click();
        await page.locator('[data-billing="balance"]').waitFor();
        await fieldShows(page, 'settings-business', now.business_name);
    } finally {
        await page.context().close();
    }
});

test('a change made by inboxctl shows in the open Settings too',
     async () => {
    await inboxctl(ctx.cluster.store, 'settings', 'set', org().id,
                   '--timezone', 'America/Chicago');
    for (const page of [ann, bea, max]) {
        await fieldShows(page, 'settings-timezone', 'America/Chicago',
                         LOOK_MS);
        assert.equal(await page.evaluate(() => window.notReloaded), true);
    }
    for (const page of [bea, ann, max]) {
        await page.context().close();
    }
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx);
