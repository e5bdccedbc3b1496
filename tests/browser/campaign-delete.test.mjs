// A draft deleted from its card in the web app, in Debian's Chromium: the
// Delete button on a draft's card, which has no Cancel (none on one sent),
// a confirmation in the bulk dialog, the card gone and the focus on the
// next card's heading; a poll's draft likewise in the Polls view; one sent
// elsewhere follows on its card (no Delete), one deleted elsewhere goes
// from the page by itself (campaign.updated, campaign.deleted); one
// scheduled keeps Cancel, and cancelled before its time it offers Delete.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, signIn, useBrowser } from '../lib/browser.mjs';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Delete UI Org' }] });
const USER = { email: 'del@campaigns.example', password: 'del drafts now' };

const web = useBrowser();
let page;

const org = () => ctx.cluster.orgs[0];

async function call(path, opts = {}, status = null) {
    const res = await api(ctx.cluster, path, org().token, opts);
    if (status !== null) {
        assert.equal(res.status, status, `${path}: ${res.text}`);
    } else {
        assert.ok(res.status < 300, `${path}: ${res.status} ${res.text}`);
    }
    return res.json;
}

const draft = (name) => call('/api/v1/campaigns', { method: 'POST',
    body: { name, body: 'Our menu', audience: { all: true } } });

const cardOf = (name) => page.locator('.bulk-item', {
    has: page.locator('.bulk-name', { hasText: name }) });

const ids = {};

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org().id, '100');
    await call('/api/v1/contacts', { method: 'POST',
        body: { phone: uniqueNumber(), name: 'Pat' } });
    // newest first in the list: Sent elsewhere, Gone elsewhere, Keep me,
    // Old idea, Sent already
    const sent = await draft('Sent already');
    await call(`/api/v1/campaigns/${sent.id}/send`, { method: 'POST' });
    for (const name of ['Old idea', 'Keep me', 'Gone elsewhere',
                        'Sent elsewhere']) {
        ids[name] = (await draft(name)).id;
    }
    ids.poll = (await call('/api/v1/polls', { method: 'POST', body: {
        question: 'Lunch at noon?', options: ['Yes', 'No'],
        audience: { all: true } } })).id;

    await web.launch();
    page = await web.newPage({ width: 1200, height: 800 });
    await signIn(page, cluster, USER);
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await cardOf('Old idea').waitFor();
});

test('a draft\'s card offers Delete, one sent none; Back keeps it, '
     + 'Delete it removes the card and the draft', async () => {
    assert.deepEqual(await cardOf('Old idea').getByRole('button')
        .allTextContents(), ['Edit', 'Send…', 'Delete']);
    assert.deepEqual(await cardOf('Sent already').getByRole('button')
        .allTextContents(), ['Pause', 'Cancel']);

    const card = cardOf('Old idea');
    await card.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.locator('#bulk-dialog');
    await dialog.waitFor();
    assert.equal(await page.locator('#bulk-dialog-title').textContent(),
                 'Delete \u201cOld idea\u201d?');
    await page.getByRole('button', { name: 'Back' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await card.count(), 1);
    assert.equal((await call(`/api/v1/campaigns/${ids['Old idea']}`))
        .status, 'draft');

    await card.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete it' }).click();
    await card.waitFor({ state: 'detached' });
    await dialog.waitFor({ state: 'hidden' });
    await call(`/api/v1/campaigns/${ids['Old idea']}`, {}, 404);
    // the focus on the card after it, once the dialog's close event
    // has come
    await page.waitForFunction(() => document.activeElement
        .textContent === 'Sent already');
    assert.equal(await cardOf('Keep me').count(), 1);

    // read again: still gone
    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await cardOf('Keep me').waitFor();
    assert.equal(await cardOf('Old idea').count(), 0);
});

test('one sent elsewhere follows on its card, which offers Delete no '
     + 'more; one deleted elsewhere goes from the page by itself',
     async () => {
    await call(`/api/v1/campaigns/${ids['Sent elsewhere']}/send`,
               { method: 'POST' });
    const sent = cardOf('Sent elsewhere');
    await sent.getByRole('button', { name: 'Delete' })
        .waitFor({ state: 'detached' });
    assert.equal(await sent.count(), 1);

    await call(`/api/v1/campaigns/${ids['Gone elsewhere']}`,
               { method: 'DELETE' }, 204);
    await cardOf('Gone elsewhere').waitFor({ state: 'detached' });
    assert.equal(await cardOf('Keep me').count(), 1);
});

test('a scheduled campaign keeps Cancel; cancelled from its card before '
     + 'its time, it offers Delete, which removes it', async () => {
    const later = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Next year', body: 'Our menu', audience: { all: true },
        send_at: '2099-01-01T09:00:00Z' } });
    await call(`/api/v1/campaigns/${later.id}/send`, { method: 'POST' });
    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const card = cardOf('Next year');
    await card.locator('.bulk-status', { hasText: /^Scheduled for / })
        .waitFor();
    assert.deepEqual(await card.getByRole('button').allTextContents(),
                     ['Change time\u2026', 'Pause', 'Cancel']);

    await card.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Cancel it' }).click();
    await card.locator('.bulk-status', { hasText: /^Cancelled$/ })
        .waitFor();
    assert.deepEqual(await card.getByRole('button').allTextContents(),
                     ['Delete']);

    await card.getByRole('button', { name: 'Delete' }).click();
    await page.locator('#bulk-dialog', { hasText: 'It goes for good; '
        + 'nobody was sent it.' }).waitFor();
    await page.getByRole('button', { name: 'Delete it' }).click();
    await card.waitFor({ state: 'detached' });
    await call(`/api/v1/campaigns/${later.id}`, {}, 404);

    // read again: still gone
    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await cardOf('Keep me').waitFor();
    assert.equal(await cardOf('Next year').count(), 0);
});

test('a poll\'s draft is deleted from its card in the Polls view',
     async () => {
    await page.getByRole('link', { name: 'Polls' }).click();
    const card = cardOf('Lunch at noon?');
    await card.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete it' }).click();
    await card.waitFor({ state: 'detached' });
    await call(`/api/v1/polls/${ids.poll}`, {}, 404);
    await page.locator('#polls-status', { hasText: 'No polls yet.' })
        .waitFor();
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
