// The web app in Debian's Chromium: one headless browser per test file,
// pages that note their script errors and Content-Security-Policy
// violations, signing in on the form, and the thread list as the app
// shows it.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';
import { api } from './inbox.mjs';

// web.launch() starts the browser (in a file's before(), once the data is
// in place); web.newPage() opens pages whose errors and CSP violations go
// to web.pageErrors and web.cspViolations; web.close() closes the browser
// before the last test stops nginx (a page's open WebSocket would keep a
// graceful shutdown waiting), and after() does if nothing did.
export function useBrowser() {
    const web = { browser: null, pageErrors: [], cspViolations: [] };
    web.launch = async () => {
        web.browser = await chromium.launch({
            executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
            args: ['--headless=new', '--no-sandbox', '--disable-gpu',
                   '--disable-quic', '--no-first-run',
                   '--disable-background-networking',
                   '--disable-component-update', '--disable-sync'],
        });
        return web.browser;
    };
    // A page in a context of its own (close it with page.context().close()).
    web.newPage = async (viewport = { width: 1200, height: 720 },
                         options = {}) => {
        const context = await web.browser.newContext({ viewport,
                                                       ...options });
        const page = await context.newPage();
        page.setDefaultTimeout(10000);
        page.on('pageerror', (err) => web.pageErrors.push(err.message));
        page.on('console', (msg) => {
            if (/Content Security Policy/i.test(msg.text())) {
                web.cspViolations.push(msg.text());
            }
        });
        return page;
    };
    web.close = async () => {
        if (web.browser) {
            await web.browser.close();
            web.browser = null;
        }
    };
    after(web.close);
    return web;
}

// A file's test that none of its pages had a script error or a
// Content-Security-Policy violation.
export function noPageErrorsTest(web) {
    test('no page errors and no Content-Security-Policy violations',
        async () => {
            assert.deepEqual(web.pageErrors, []);
            assert.deepEqual(web.cspViolations, []);
        });
}

// Signs in on the form as user ({ email, password }) and waits until
// the app's live updates are on.
export async function signIn(page, cluster, user) {
    await page.goto(cluster.url('/'));
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#conn[data-state="live"]').waitFor();
}

// How the app shows a US number: +1 (415) 555-1234.
export function shown(phone) {
    const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phone);
    return `+1 (${m[1]}) ${m[2]}-${m[3]}`;
}

// The thread list's row whose name has text.
export const rowOf = (page, text) => page.locator('#threads > li',
    { has: page.locator('.row-name', { hasText: text }) });

// Opens the thread whose row's name has text; waits for its messages.
export async function openThread(page, text) {
    await rowOf(page, text).getByRole('button').click();
    await page.locator('#messages .message').first().waitFor();
}

// What a screen reader is told of each dialog open on the page: its
// accessible name and description, as Chromium computes them.
export async function dialogsSaid(page) {
    const cdp = await page.context().newCDPSession(page);
    try {
        const { nodes } = await cdp.send('Accessibility.getFullAXTree');
        return nodes.filter((n) => !n.ignored && n.role
                            && n.role.value === 'dialog')
            .map((n) => ({ name: n.name ? n.name.value : '',
                           description: n.description
                               ? n.description.value : '' }));
    } finally {
        await cdp.detach();
    }
}

// What a field's aria-describedby names, in its order, each element's
// id and text (a screen reader says them after the field's name).
export function descriptionOf(locator) {
    return locator.evaluate((el) => (el.getAttribute('aria-describedby')
        || '').split(/\s+/).filter((id) => id !== '').map((id) => {
        const named = document.getElementById(id);
        return [id, named ? named.textContent.replace(/\s+/g, ' ').trim()
            : null];
    }));
}

// A route answered as the inbox answers when its store is out of reach:
// 503 unavailable, saying message.
export function answerUnavailable(route, message) {
    return route.fulfill({ status: 503, contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'unavailable', message } }) });
}

// The routes sending needs (estimate, send, billing): a build without
// them fails here, saying so, rather than by a timeout further on.
export async function needsSendRoutes(cluster) {
    const org = cluster.orgs[0];
    for (const [method, path, body] of [
        ['POST', '/api/v1/messages/estimate', { body: 'x', media_count: 0 }],
        ['GET', '/api/v1/billing', undefined]]) {
        const res = await api(cluster, path, org.token, { method, body });
        assert.notEqual(res.status, 404, `${method} ${path} answered 404: `
            + 'this build has no send routes (ngx_http_inbox_send.c)');
    }
}

// The page's connection indicator and the browser's network: "at once"
// is far below the socket's liveness bound (CONN_PROMPT_MS).
export const CONN_PROMPT_MS = 3000;

// The indicator while it says state (live, reconnecting, offline).
export const connOf = (page, state) =>
    page.locator(`#conn[data-state="${state}"]`);

// Every state the indicator takes from now on, in order, noted in the
// page's window.connStates.
export function watchConnection(page) {
    return page.evaluate(() => {
        const conn = document.getElementById('conn');
        window.connStates = [];
        new MutationObserver(() => window.connStates.push(
            conn.dataset.state)).observe(conn,
            { attributes: true, attributeFilter: ['data-state'] });
    });
}

// The network taken away, once the page says it is offline.
export async function goOffline(page) {
    await page.context().setOffline(true);
    await connOf(page, 'offline').waitFor({ timeout: CONN_PROMPT_MS });
}

// The network given back, once the page is live again.
export async function backOnline(page) {
    await page.context().setOffline(false);
    await connOf(page, 'live').waitFor({ timeout: CONN_PROMPT_MS + 2000 });
}
