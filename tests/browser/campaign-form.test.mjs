// The campaign form in Debian's Chromium, while it is written: "Review
// and send" pressed twice while the image still uploads makes one
// draft.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, signIn, useBrowser } from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api } from '../lib/inbox.mjs';
import { png } from '../lib/media.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Form Org' }] });
const ANA = { email: 'ana@form.example', password: 'ana writes slowly' };
const web = useBrowser();
let page;

const org = () => ctx.cluster.orgs[0];
const name = () => page.locator('#campaign-name');
const body = () => page.locator('#campaign-body');

async function campaignsNamed(text) {
    const res = await api(ctx.cluster, '/api/v1/campaigns', org().token);
    assert.equal(res.status, 200, res.text);
    return res.json.items.filter((c) => c.name === text);
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), ANA.email, ANA.password);
    await web.launch();
    page = await web.newPage({ width: 1200, height: 800 });
    await signIn(page, cluster, ANA);
});

test('"Review and send" pressed twice while the image uploads makes one '
     + 'draft', async () => {
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('button', { name: 'New campaign' }).click();
    await name().fill('Twice pressed');
    await body().fill('One draft only');
    // the upload answered only once both presses are in
    let release;
    const pressed = new Promise((resolve) => { release = resolve; });
    await page.route('**/api/v1/media', async (route) => {
        await pressed;
        await route.continue();
    });
    try {
        await page.locator('#campaign-file').setInputFiles({
            name: 'flyer.png', mimeType: 'image/png', buffer: png() });
        await page.locator('#campaign-image-state',
            { hasText: 'uploading' }).waitFor();
        const review = page.getByRole('button', { name: 'Review and send' });
        await review.click();
        await review.click();
        release();
        const dialog = page.getByRole('dialog',
            { name: '\u201cTwice pressed\u201d' });
        await dialog.waitFor();
        await page.waitForTimeout(500);
        assert.equal((await campaignsNamed('Twice pressed')).length, 1);
        await dialog.getByRole('button', { name: 'Back' }).click();
    } finally {
        release();
        await page.unroute('**/api/v1/media');
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
