// Opt-out in the web app, in Debian's Chromium: the thread toolbar's "Opt
// out" asks first, then closes the thread's composer with why; a contact
// who texted STOP shows the keyword; START texted in opens it again, live;
// the contact panel and its timeline show the opt-out.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Opt-out Org' }] });
const USER = { email: 'kim@optout.example', password: 'kim signs in' };
const asker = uniqueNumber();     // texts a question
const stopper = uniqueNumber();   // texts STOP
let browser;
let page;
const pageErrors = [];
const cspViolations = [];

// How the app shows a US number: +1 (415) 555-1234.
function shown(phone) {
    const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phone);
    return `+1 (${m[1]}) ${m[2]}-${m[3]}`;
}

const rowOf = (p, text) => p.locator('#threads > li',
    { has: p.locator('.row-name', { hasText: text }) });

async function openThread(phone) {
    await rowOf(page, shown(phone)).getByRole('button').click();
    await page.locator('#messages .message').first().waitFor();
}

async function contactOf(phone) {
    const list = await api(ctx.cluster,
        `/api/v1/conversations?q=${phone.slice(2)}`, ctx.cluster.orgs[0].token);
    const conv = list.json.items[0];
    return (await api(ctx.cluster, `/api/v1/contacts/${conv.contact.id}`,
                      ctx.cluster.orgs[0].token)).json;
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], USER.email, USER.password);
    await deliverInbound(cluster, { from: asker,
        body: 'Can I move my appointment?' });
    await deliverInbound(cluster, { from: stopper, body: 'Stop' });
    browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: ['--headless=new', '--no-sandbox', '--disable-gpu',
               '--disable-quic', '--no-first-run',
               '--disable-background-networking',
               '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
    page.setDefaultTimeout(10000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
        if (/Content Security Policy/i.test(msg.text())) {
            cspViolations.push(msg.text());
        }
    });
    await page.goto(cluster.url('/'));
    await page.getByLabel('Email').fill(USER.email);
    await page.getByLabel('Password').fill(USER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#conn[data-state="live"]').waitFor();
});

async function closeBrowser() {
    if (browser) {
        await browser.close();
        browser = null;
    }
}

after(closeBrowser);

test('"Opt out" in the toolbar asks first; confirmed, the composer is '
    + 'closed and says why', async () => {
    await openThread(asker);
    const notice = page.locator('#composer-closed');
    const button = page.locator('#act-optout');
    assert.equal(await notice.isHidden(), true);
    assert.equal(await button.textContent(), 'Opt out');

    // cancelled: nothing happens
    await button.click();
    const dialog = page.getByRole('dialog', { name: 'Opt this contact out?' });
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /only they can opt back in/i);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await contactOf(asker)).opted_out, false);
    assert.equal(await notice.isHidden(), true);

    // confirmed
    await button.click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Opt out' }).click();
    await page.waitForFunction(() => /by hand on/.test(
        document.getElementById('composer-closed').textContent));
    const text = await notice.textContent();
    assert.match(text, new RegExp(`^${shown(asker).replace(/[()+]/g, '\\$&')}`
        + ' opted out \\(by hand on .+\\) \u2014 they can text START to '
        + 'opt back in\\.$'));
    assert.equal(await button.isDisabled(), true);
    assert.equal(await button.textContent(), 'Opted out');
    assert.match(await page.locator('#thread-sub').textContent(),
                 /Opted out/);

    const c = await contactOf(asker);
    assert.equal(c.opted_out, true);
    assert.equal(c.opt_out_source, 'manual');

    // the contact panel and its timeline show it
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Contact' });
    await panel.locator('.timeline-item', { hasText: 'Opted out by hand' })
        .waitFor();
    assert.match(await panel.locator('#contact-optout').textContent(),
                 /^Opted out by hand on /);
    await panel.getByRole('button', { name: 'Close' }).click();
});

test('a contact who texted STOP shows the keyword; START texted in opens '
    + 'the thread again, live', async () => {
    await openThread(stopper);
    const notice = page.locator('#composer-closed');
    await page.waitForFunction(() => /by keyword STOP on/.test(
        document.getElementById('composer-closed').textContent));
    assert.match(await notice.textContent(),
                 /opted out \(by keyword STOP on .+\) \u2014 they can text START/);

    await deliverInbound(ctx.cluster, { from: stopper, body: 'START' });
    await notice.waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#act-optout').isDisabled(), false);
    assert.equal(await page.locator('#act-optout').textContent(), 'Opt out');
    await page.locator('#messages .message', { hasText: 'START' }).waitFor();
});

test('no page errors and no Content-Security-Policy violations',
    async () => {
        assert.deepEqual(pageErrors, []);
        assert.deepEqual(cspViolations, []);
    });

errorLogIsCleanTest(ctx, closeBrowser);
