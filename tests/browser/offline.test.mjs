// The network gone and back, in Debian's Chromium (playwright's
// setOffline: navigator.onLine false, the offline event, requests
// failing): the page says at once that it is offline, rather than saying
// "live" until its socket's silence passes the liveness bound (65 s with
// ws-server's default ping every 30 s), and says it is back and resumes
// when the network returns.  A request that meets no server, the server
// not answering the page's question either, says the socket may be dead
// too: the page says so at once and tries a new one (a lone failure, the
// server answering, is reconnect.test.mjs's).  A list that
// could not be read while offline (the thread list, Campaigns,
// Contacts) is read again by itself once the connection is back, not
// left failed until someone presses Try again or opens the view anew.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { backOnline, CONN_PROMPT_MS as PROMPT_MS, connOf, goOffline,
         noPageErrorsTest, rowOf, shown, signIn, useBrowser,
         watchConnection } from '../lib/browser.mjs';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Patchy Signal Cafe' }] });
const USER = { email: 'oli@patchy.example', password: 'oli rides trains' };
const FIRST = uniqueNumber();
const LATER = uniqueNumber();
const web = useBrowser();

let page;

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], USER.email, USER.password);
    await deliverInbound(cluster, { from: FIRST, body: 'Are you open?' });
    await web.launch();
    page = await web.newPage();
    await signIn(page, cluster, USER);
    await rowOf(page, shown(FIRST)).waitFor();
    /* every state the connection indicator takes, in order */
    await watchConnection(page);
});

const conn = (state) => connOf(page, state);
const banner = () => page.locator('#live-banner');

test('offline is said at once, and back online too; what came meanwhile '
     + 'shows', async () => {
    await goOffline(page);
    await banner().getByText('You are offline.').waitFor();
    assert.equal(await page.locator('#conn-label').textContent(),
                 'offline');
    assert.equal(await banner().getByText('Live updates are down.')
        .isVisible(), false);

    await deliverInbound(ctx.cluster, { from: LATER,
                                        body: 'Sent while you were away' });
    await backOnline(page);
    await banner().waitFor({ state: 'hidden' });
    await page.locator('#announcer', { hasText: 'Back online.' }).waitFor();
    await rowOf(page, shown(LATER)).waitFor();
});

test('a request that meets no server, nor the page\'s question whether '
     + 'it is there, says so at once and tries the socket anew',
async () => {
    await conn('live').waitFor();
    await page.evaluate(() => { window.connStates.length = 0; });
    /* every request cut, as by a server gone, until the page says so */
    const cut = [];
    await page.route('**/api/v1/**', (route) => {
        cut.push(new URL(route.request().url()).pathname);
        return route.abort('internetdisconnected');
    });
    try {
        await rowOf(page, shown(FIRST)).getByRole('button').click();
        await page.waitForFunction(() => window.connStates.includes(
            'reconnecting'), null, { timeout: PROMPT_MS });
        assert.ok(cut.includes('/api/v1/me'), cut.join(' '));
    } finally {
        await page.unroute('**/api/v1/**');
    }
    await conn('live').waitFor({ timeout: PROMPT_MS + 2000 });
});

test('a thread list that failed while offline is read again by itself '
     + 'when the connection is back', async () => {
    await goOffline(page);
    await page.getByRole('button', { name: /^Unread/ }).click();
    await page.locator('#list-status',
                       { hasText: 'Could not load conversations' }).waitFor();
    await page.locator('#list-retry').waitFor();
    await backOnline(page);
    /* no press of Try again */
    await rowOf(page, shown(LATER)).waitFor();
    await page.locator('#list-retry').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#list-status').textContent(), '');
});

test('Campaigns and Contacts that failed while offline are read again by '
     + 'themselves when the connection is back', async () => {
    const views = page.locator('#views');
    const status = (id) => page.locator('#' + id + '-status');
    await goOffline(page);
    await views.getByRole('link', { name: 'Campaigns' }).click();
    await status('campaigns').filter(
        { hasText: 'Could not load the campaigns' }).waitFor();
    await backOnline(page);
    await page.waitForFunction(() => !/Could not load/.test(document
        .getElementById('campaigns-status').textContent), null,
        { timeout: PROMPT_MS });

    await goOffline(page);
    await views.getByRole('link', { name: 'Contacts' }).click();
    await status('contacts').filter(
        { hasText: 'Could not load the contacts' }).waitFor();
    assert.equal(await page.locator('#contacts-list .contact-row').count(),
                 0);
    await backOnline(page);
    await page.locator('#contacts-list .contact-row',
                       { hasText: shown(LATER) }).waitFor();
    assert.equal(await status('contacts').textContent(), '');
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
