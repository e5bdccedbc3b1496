// Opt-out in the web app, in Debian's Chromium: the thread toolbar's "Opt
// out" asks first (a screen reader hears what it does with the question),
// then closes the thread's composer with why; a contact who texted STOP
// shows the keyword; START texted in opens it again, live; the contact
// panel and its timeline show the opt-out; the thread list marks the
// threads of contacts opted out.  A question still open when
// the session ends goes with it, unanswered.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { dialogsSaid, noPageErrorsTest, openThread, rowOf, shown, signIn,
         useBrowser } from '../lib/browser.mjs';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Opt-out Org' }] });
const USER = { email: 'kim@optout.example', password: 'kim signs in' };
const asker = uniqueNumber();     // texts a question
const stopper = uniqueNumber();   // texts STOP
const web = useBrowser();
let page;

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
    await web.launch();
    page = await web.newPage();
    await signIn(page, cluster, USER);
});

test('"Opt out" in the toolbar asks first; confirmed, the composer is '
    + 'closed and says why', async () => {
    await openThread(page, shown(asker));
    const notice = page.locator('#composer-closed');
    const button = page.locator('#act-optout');
    assert.equal(await notice.isHidden(), true);
    assert.equal(await button.textContent(), 'Opt out');

    // cancelled: nothing happens
    await button.click();
    const dialog = page.getByRole('dialog', { name: 'Opt this contact out?' });
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /only they can opt back in/i);
    // a screen reader reads what it does with the question
    assert.deepEqual(await dialogsSaid(page), [{
        name: 'Opt this contact out?',
        description: `${shown(asker)} will get no more texts from you. Only `
            + 'they can opt back in, by texting START.' }]);
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
    // its day and time once: "on Dec 7, 2026 at 2:05 AM"
    assert.match(await panel.locator('#contact-optout').textContent(),
                 new RegExp('^Opted out by hand on [A-Z][a-z]{2} \\d{1,2}, '
                            + '\\d{4} at \\d{1,2}:\\d{2}\\s[AP]M$'));
    await panel.getByRole('button', { name: 'Close' }).click();
});

test('a contact who texted STOP shows the keyword; START texted in opens '
    + 'the thread again, live', async () => {
    await openThread(page, shown(stopper));
    const notice = page.locator('#composer-closed');
    await page.waitForFunction(() => /by keyword STOP on/.test(
        document.getElementById('composer-closed').textContent));
    assert.match(await notice.textContent(),
                 /opted out \(by keyword STOP on .+\) \u2014 they can text START/);

    await deliverInbound(ctx.cluster, { from: stopper, body: 'START' });
    await notice.waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#act-optout').isDisabled(), false);
    assert.equal(await page.locator('#act-optout').textContent(), 'Opt out');
    await page.locator('#messages .message.inbound',
        { hasText: 'START' }).waitFor();
});

test('the thread list says which contacts opted out, to the eye and to '
    + 'a screen reader, live both ways', async () => {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body: 'Is the sale on?' });
    const row = rowOf(page, shown(from));
    const tag = row.locator('.row-optout');
    const button = row.getByRole('button');
    await row.waitFor();
    assert.equal(await tag.isVisible(), false);
    assert.doesNotMatch(await button.getAttribute('aria-label'),
                        /opted out/);
    // the one opted out by hand in the first test, from the toolbar
    assert.equal(await rowOf(page, shown(asker)).locator('.row-optout')
        .isVisible(), true);

    // another's STOP arrives while the list is shown: its row says so
    await deliverInbound(ctx.cluster, { from, body: 'STOP' });
    await tag.waitFor();
    assert.equal(await tag.textContent(), 'Opted out');
    assert.match(await button.getAttribute('aria-label'),
                 new RegExp('^' + shown(from).replace(/[()+]/g, '\\$&')
                            + ', opted out, '));

    // and no more once they text START
    await deliverInbound(ctx.cluster, { from, body: 'START' });
    await tag.waitFor({ state: 'hidden' });
    assert.doesNotMatch(await button.getAttribute('aria-label'),
                        /opted out/);
});

test('the contact panel open during an opt-out shows each timeline entry '
    + 'once', async () => {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body: 'Please call me back' });
    await openThread(page, shown(from));
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Contact' });
    const items = panel.locator('.timeline-item');
    await items.filter({ hasText: 'Please call me back' }).waitFor();

    // the panel is read again twice (after the opt-out's answer and on
    // contact.updated); a slow timeline makes the two reads overlap
    const timeline = /\/api\/v1\/contacts\/[^/]+\/timeline$/;
    await page.route(timeline, (route) =>
        setTimeout(() => route.continue(), 500));
    try {
        const answered = page.waitForResponse(
            (res) => /\/opt-out$/.test(res.url()));
        await page.locator('#act-optout').click();
        const dialog = page.getByRole('dialog',
            { name: 'Opt this contact out?' });
        await dialog.getByRole('button', { name: 'Opt out' }).click();
        await items.filter({ hasText: 'Opted out by hand' }).first()
            .waitFor();
        await answered;
        // a fence: a later message's read of the panel starts after both
        // (its event follows contact.updated in the stream), and only the
        // latest read fills the panel, so once it shows, neither can
        // change what is shown
        await deliverInbound(ctx.cluster, { from, body: 'Got it, thanks' });
        await items.filter({ hasText: 'Got it, thanks' }).waitFor();
    } finally {
        await page.unroute(timeline);
    }
    assert.deepEqual(await items.locator('.timeline-what').allTextContents(),
        ['Message received', 'Opted out by hand', 'Message received']);
    assert.deepEqual(await items.locator('.timeline-detail')
        .allTextContents(), ['Got it, thanks', 'Please call me back']);
    await panel.getByRole('button', { name: 'Close' }).click();
});

test('the opt-out question open when the session ends is closed with '
    + 'it, nothing opted out', async () => {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body: 'Are you open today?' });
    await openThread(page, shown(from));
    await page.locator('#act-optout').click();
    await page.getByRole('dialog', { name: 'Opt this contact out?' })
        .waitFor();

    // ended elsewhere; the next thing the app asks for says so
    await page.evaluate(async () => {
        await fetch('/api/v1/auth/logout', { method: 'POST',
            headers: { 'X-Requested-With': 'inbox' } });
        document.querySelector('.tab[data-filter="unread"]').click();
    });
    await page.getByText('Your session has ended. Sign in again.').waitFor();
    assert.equal(await page.evaluate(
        () => document.querySelectorAll('dialog[open]').length), 0);
    assert.equal(await page.getByLabel('Email', { exact: true })
        .isVisible(), true);
    assert.equal((await contactOf(from)).opted_out, false);
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
