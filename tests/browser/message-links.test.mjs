// Web addresses in a thread's messages, in Debian's Chromium: an http or
// https address, or a bare www. one, a contact texts is a link opening
// in a new tab that cannot reach back (noopener noreferrer); the
// punctuation of the sentence around it stays out of it, and what only
// looks like an address (javascript:, an e-mail address) or markup in
// the text stays text.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, openThread, rowOf, signIn, useBrowser }
         from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Links Org' }] });
const USER = { email: 'lee@links.example', password: 'lee follows links' };
const FROM = '+14155550177';
const TEXT = 'See https://shop.example/a?b=1&c=2, or (www.shop.example/faq). '
    + 'Wiki: https://en.wikipedia.org/wiki/Foo_(bar)! '
    + 'Not javascript:alert(1) nor me@www.mail.example '
    + 'nor <a href="https://evil.example">x</a>';
const web = useBrowser();
let page;

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], USER.email, USER.password);
    await deliverInbound(cluster, { from: FROM, body: TEXT });
    await web.launch();
    page = await web.newPage();
    await signIn(page, cluster, USER);
    await rowOf(page, '(415) 555-0177').waitFor();
    await openThread(page, '(415) 555-0177');
});

test('the addresses in a message are links to a new tab, without the '
     + 'punctuation after them; the rest stays text', async () => {
    const body = page.locator('#messages .message .body',
                              { hasText: 'See https://' });
    await body.waitFor();
    assert.equal(await body.textContent(), TEXT);
    const links = await body.locator('a').evaluateAll((as) => as.map(
        (a) => [a.textContent, a.getAttribute('href'), a.target, a.rel]));
    const tab = ['_blank', 'noopener noreferrer'];
    assert.deepEqual(links, [
        ['https://shop.example/a?b=1&c=2', 'https://shop.example/a?b=1&c=2',
         ...tab],
        ['www.shop.example/faq', 'http://www.shop.example/faq', ...tab],
        ['https://en.wikipedia.org/wiki/Foo_(bar)',
         'https://en.wikipedia.org/wiki/Foo_(bar)', ...tab],
        ['https://evil.example', 'https://evil.example/', ...tab],
    ]);
    // the markup in the text is shown as written, never made
    assert.equal(await body.locator('a[href^="javascript"]').count(), 0);
    assert.equal(await body.evaluate((el) => el.children.length), 4);

    const [opened] = await Promise.all([
        page.context().waitForEvent('page'),
        body.getByRole('link', { name: 'www.shop.example/faq' }).click(),
    ]);
    assert.equal(await opened.evaluate(() => window.opener), null);
    await opened.close();
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
