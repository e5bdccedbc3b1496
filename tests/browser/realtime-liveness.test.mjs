// A socket that dies without a close (a laptop that slept, a Wi-Fi
// change, a NAT that forgot it, a server that hangs) is found out, in
// Debian's Chromium: ws-server sends something at least every
// --ping-secs ({"type":"ping"} when nothing else goes, the hello says
// how often), and the page that hears nothing for twice that and 5 s
// leaves "live", says it is reconnecting, and resumes on a new socket
// exactly where it stood: what came meanwhile shows, the list is not
// read again.  It also starts a new socket at once when the network
// comes back, and when the tab comes back after being hidden longer
// than that.
//
// ws-server is frozen with SIGSTOP: its TCP connections stay open, and
// the kernel still accepts new ones, but nothing is answered.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, openThread, signIn, useBrowser }
         from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const PING_SECS = 1;
const BOUND_MS = 2 * PING_SECS * 1000 + 5000;   /* web/liveness.js */

const ctx = useCluster({ orgs: [{ name: 'Night Desk' }],
                         wsArgs: ['--ping-secs', String(PING_SECS),
                                  '--verbose'] });
const ANA = { email: 'ana@night.example', password: 'ana stays late' };
const ASKER = '+14155550199';

const web = useBrowser();
let page;
let sent;       /* the frames the page sends, parsed */
let reads;      /* the thread list's pages it reads */
let sockets;    /* the WebSockets it opens */

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], ANA.email, ANA.password);
    await deliverInbound(cluster, { from: ASKER, body: 'Still open?' });
    await web.launch();
    page = await web.newPage();
    sent = [];
    reads = [];
    sockets = [];
    page.on('websocket', (ws) => {
        sockets.push(ws);
        ws.on('framesent', (f) => {
            try { sent.push(JSON.parse(f.payload)); } catch { /* no */ }
        });
    });
    page.on('request', (req) => {
        const u = new URL(req.url());
        if (req.method() === 'GET' && u.pathname === '/api/v1/conversations'
            && u.searchParams.get('limit') !== '1')
        {
            reads.push(u.search);
        }
    });
    await signIn(page, cluster, ANA);
    await openThread(page, '+1 (415) 555-0199');
});

const live = () => page.locator('#conn[data-state="live"]')
    .waitFor({ timeout: 20000 });
const resumes = () => sent.filter((f) => f.type === 'resume');

// Resolves once the page's socket ws is closed (its close handshake done).
async function closed(ws) {
    if (!ws.isClosed()) {
        await ws.waitForEvent('close', { timeout: 10000 });
    }
}

function signal(sig) {
    process.kill(ctx.cluster.ws.pid, sig);
}

test('a socket that goes silent without a close is left within the '
    + 'bound, and the page resumes on a new one: what came meanwhile '
    + 'shows, the list is not read again', async () => {
    const resumed = resumes().length;
    reads.length = 0;

    signal('SIGSTOP');
    const frozen = Date.now();
    let left;
    try {
        await page.locator('#conn[data-state="reconnecting"]')
            .waitFor({ timeout: BOUND_MS + 5000 });
        left = Date.now() - frozen;
        assert.ok(await page.locator('#live-banner').isVisible(),
            'the banner says live updates are down');
        await deliverInbound(ctx.cluster, { from: ASKER,
            body: 'Sent while the server hung' });
    } finally {
        signal('SIGCONT');
    }
    assert.ok(left <= BOUND_MS + 1000,
        `left "live" ${left} ms after the server froze`);

    await live();
    await page.locator('#messages .message .body',
        { hasText: 'Sent while the server hung' }).waitFor();
    const bodies = await page.locator('#messages .message .body')
        .allTextContents();
    assert.deepEqual(bodies.slice(-2), ['Still open?',
        'Sent while the server hung'], 'once, in order');
    assert.ok(resumes().length > resumed, 'the new socket resumed');
    assert.equal(typeof resumes().at(-1).org_seq, 'number');
    assert.deepEqual(reads, [], 'the list was not read again');

    // the server's own stall is not the browsers' silence: the socket
    // it accepted as it woke stays (2 s without an answer would close it)
    await page.waitForTimeout(3 * PING_SECS * 1000);
    assert.equal(await page.locator('#conn').getAttribute('data-state'),
                 'live');
    assert.doesNotMatch(ctx.cluster.readFile('ws-server.log'),
                        /no answer to a ping/);
});

test('the network back: a new socket at once, which resumes', async () => {
    await live();
    const opened = sockets.length;
    const resumed = resumes().length;
    reads.length = 0;
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await live();
    await deliverInbound(ctx.cluster, { from: ASKER, body: 'After online' });
    await page.locator('#messages .message .body',
        { hasText: 'After online' }).waitFor();
    assert.equal(sockets.length, opened + 1, 'one new socket');
    await closed(sockets[opened - 1]);
    assert.equal(resumes().length, resumed + 1);
    assert.deepEqual(reads, []);
});

// Headless Chromium keeps the page visible: the test says it is hidden
// and visible again as the browser would.
async function setHidden(hidden) {
    await page.evaluate((h) => {
        Object.defineProperty(document, 'hidden',
            { configurable: true, get: () => h });
        Object.defineProperty(document, 'visibilityState',
            { configurable: true, get: () => (h ? 'hidden' : 'visible') });
        document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
}

test('the tab back after being hidden longer than the bound: a new '
    + 'socket at once; back sooner, the same one', async () => {
    await live();
    let opened = sockets.length;
    await setHidden(true);
    await setHidden(false);
    await page.waitForTimeout(500);
    assert.equal(sockets.length, opened, 'a moment away changes nothing');

    await setHidden(true);
    await page.waitForTimeout(BOUND_MS + 500);
    opened = sockets.length;
    await setHidden(false);
    await live();
    assert.equal(sockets.length, opened + 1, 'one new socket');
    await closed(sockets[opened - 1]);
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx, () => web.close());
