// The header's balance and a billing refusal under the reply box follow
// billing as it is, in Debian's Chromium: a send refused while billing
// is inactive says so in the header and under the reply box; once it is
// active again, Settings' read of it clears "Billing inactive" from the
// header at once, and back in the Inbox the refusal is gone; a change
// made while another view was shown is read on coming back.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, openThread, rowOf, signIn, useBrowser }
         from '../lib/browser.mjs';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Lapsed Cafe' }] });
const USER = { email: 'lee@lapsed.example', password: 'lee pays again' };
const FROM = '+14155550142';
const web = useBrowser();
let page;

const org = () => ctx.cluster.orgs[0];

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org().id, '10');
    await deliverInbound(cluster, { from: FROM, body: 'Is my order ready?' });
    await web.launch();
    page = await web.newPage();
    await signIn(page, cluster, USER);
    await rowOf(page, '(415) 555-0142').waitFor();
    await page.locator('#balance-count', { hasText: '10' }).waitFor();
});

test('billing active again: Settings clears "Billing inactive" from the '
     + 'header, and the refusal under the reply box goes', async () => {
    await inboxctl(ctx.cluster.store, 'billing', 'set', org().id,
        'inactive');
    await openThread(page, '(415) 555-0142');
    await page.locator('#composer-text').fill('Yes, come by at 5');
    await page.locator('#composer-text').press('Enter');
    const error = page.locator('#composer-error');
    await page.waitForFunction(() => /inactive/i.test(
        document.getElementById('composer-error').textContent));
    await page.locator('#balance.inactive').waitFor();

    await inboxctl(ctx.cluster.store, 'billing', 'set', org().id, 'active');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.locator('[data-billing="active"]', { hasText: 'Active' })
        .waitFor();
    await page.locator('#balance:not(.inactive)').waitFor();
    assert.match(await page.locator('#balance').textContent(),
        /Credits:\s*10/);

    await page.getByRole('link', { name: 'Inbox' }).click();
    await page.locator('#composer-text').waitFor();
    assert.equal(await error.textContent(), '');
    assert.equal(await page.locator('#composer-text').inputValue(),
        'Yes, come by at 5');
});

test('billing changed while the page was on another view: back in the '
     + 'Inbox the header reads it again', async () => {
    for (const [now, shows] of [['inactive', '#balance.inactive'],
                                ['active', '#balance:not(.inactive)']]) {
        await page.getByRole('link', { name: 'Contacts' }).click();
        await inboxctl(ctx.cluster.store, 'billing', 'set', org().id, now);
        await page.getByRole('link', { name: 'Inbox' }).click();
        await page.locator(shows).waitFor();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
