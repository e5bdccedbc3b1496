// An image whose upload fails (here the server's 429 for an
// organization over its upload budget), in Debian's Chromium: the reply
// box says why, the image goes, and the count says what the text alone
// costs (an SMS's credit), not the picture message's.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, openThread, rowOf, signIn, useBrowser }
         from '../lib/browser.mjs';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound } from '../lib/inbox.mjs';
import { png } from '../lib/media.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Upload Org' }] });
const USER = { email: 'uma@upload.example', password: 'uma sends maps' };
const FROM = '+14155550161';
const web = useBrowser();
let page;

const count = () => page.locator('#composer-count');

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '10');
    await deliverInbound(cluster, { from: FROM, body: 'Where are you?' });
    await web.launch();
    page = await web.newPage();
    await signIn(page, cluster, USER);
    await rowOf(page, '(415) 555-0161').waitFor();
    await openThread(page, '(415) 555-0161');
});

test('an upload refused 429: the image goes and the count is an SMS\'s '
     + 'again', async () => {
    await page.locator('#composer-text').fill('Here is the map');
    await count().filter({ hasText: /1 credit$/ }).waitFor();
    // answered once the count shows the picture message's credits
    await page.route('**/api/v1/media', async (route) => {
        await count().filter({ hasText: 'Picture message' }).waitFor();
        await route.fulfill({ status: 429,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'rate_limited',
                message: 'Too many uploads; try again later.' } }) });
    });
    await page.locator('#attach-input').setInputFiles({ name: 'map.png',
        mimeType: 'image/png', buffer: png(32, 32, [10, 160, 90]) });
    await page.waitForFunction(() => /Could not upload/.test(
        document.getElementById('composer-error').textContent));
    await count().filter({ hasText: /^1 segment .* 1 credit$/ }).waitFor();
    assert.doesNotMatch(await count().textContent(), /Picture|2 credits/);
    await page.unroute('**/api/v1/media');
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
