// A sign-in the server could not check (503: the password pool's queue
// full, the store out of reach) says so on the form and keeps what was
// typed, so that trying again is one click; a wrong password
// (inbox.test.mjs) is cleared.
//
// nginx here is given a store it cannot open, so every sign-in is 503
// unavailable: the same answer as a burst past the password pool's queue,
// which a test cannot make happen to one browser on cue.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, useBrowser } from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Busy Org' }],
    nginxStore: 'sqlite:/nonexistent-inbox-dir/inbox.db',
});
const USER = { email: 'kim@busy.example', password: 'kim waits a moment' };
const web = useBrowser();

before(async () => {
    await ctx.ready;
    await web.launch();
});

test('a sign-in refused 503 shows the server\'s message and keeps the '
     + 'email and the password for another try', async () => {
    const page = await web.newPage();
    try {
        await page.goto(ctx.cluster.url('/'));
        await page.getByLabel('Email', { exact: true }).fill(USER.email);
        await page.getByLabel('Password', { exact: true }).fill(USER.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('#signin-error:not(:empty)').waitFor();

        assert.match(await page.locator('#signin-error').textContent(),
                     /try again/i);
        assert.equal(await page.getByLabel('Password', { exact: true })
            .inputValue(), USER.password);
        assert.equal(await page.getByLabel('Email', { exact: true })
            .inputValue(), USER.email);
        assert.equal(await page.locator('#app').isVisible(), false);
        assert.equal(await page.evaluate(() => document.activeElement.id),
                     'password-input');
    } finally {
        await page.context().close();
    }
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx);
