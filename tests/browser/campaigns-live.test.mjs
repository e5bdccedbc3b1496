// Two browsers on the Campaigns view, in Debian's Chromium, neither
// reloading: a draft a colleague makes in one shows up in the other, an
// edit redraws its card there, and a delete from one's card removes it
// from the other (the focus it held moving to the next card); a draft
// deleted while open in the other's Edit form says so in words, there
// and again when saved, rather than a bare "not found".  The Polls view
// follows a poll made and deleted the same way.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, signIn, useBrowser } from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Live UI Org' }] });
const ANN = { email: 'ann@live.example', password: 'ann sees it live' };
const BEN = { email: 'ben@live.example', password: 'ben sees it live' };
const GONE = 'This draft was deleted by someone else.';

const web = useBrowser();
let ann;
let ben;

const org = () => ctx.cluster.orgs[0];

async function call(path, opts = {}) {
    const res = await api(ctx.cluster, path, org().token, opts);
    assert.ok(res.status < 300, `${path}: ${res.status} ${res.text}`);
    return res.json;
}

const cardOf = (page, name) => page.locator('.bulk-item', {
    has: page.locator('.bulk-name', { hasText: name }) });

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), ANN.email, ANN.password);
    await addUser(cluster, org(), BEN.email, BEN.password);
    await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Already here', body: 'Hi', audience: { all: true } } });
    await web.launch();
    ann = await web.newPage({ width: 1200, height: 800 });
    ben = await web.newPage({ width: 1200, height: 800 });
    for (const [page, user] of [[ann, ANN], [ben, BEN]]) {
        await signIn(page, cluster, user);
        await page.getByRole('link', { name: 'Campaigns' }).click();
        await cardOf(page, 'Already here').waitFor();
    }
});

test('a draft made in one browser shows up in the other, its edit '
     + 'redraws the card, and its delete removes it', async () => {
    await ann.getByRole('button', { name: 'New campaign' }).click();
    await ann.locator('#campaign-name').fill('Bake sale');
    await ann.locator('#campaign-body').fill('Cakes on Friday');
    await ann.locator('#campaign-form')
        .getByRole('button', { name: 'Save as draft' }).click();
    await cardOf(ann, 'Bake sale').waitFor();

    const there = cardOf(ben, 'Bake sale');
    await there.waitFor();
    assert.equal(await there.locator('.bulk-text').textContent(),
                 'Cakes on Friday');
    assert.deepEqual(await there.getByRole('button').allTextContents(),
                     ['Edit', 'Send\u2026', 'Delete']);

    // edited in Ann's: Ben's card says the new text
    await cardOf(ann, 'Bake sale').getByRole('button', { name: 'Edit' })
        .click();
    await ann.locator('#campaign-body').fill('Cakes on Saturday');
    await ann.locator('#campaign-form')
        .getByRole('button', { name: 'Save as draft' }).click();
    await there.locator('.bulk-text', { hasText: 'Cakes on Saturday' })
        .waitFor();

    // deleted from Ann's card while Ben's focus is on it: gone from
    // Ben's page, his focus on the next card
    await there.locator('.bulk-name').focus();
    await cardOf(ann, 'Bake sale').getByRole('button', { name: 'Delete' })
        .click();
    await ann.getByRole('button', { name: 'Delete it' }).click();
    await there.waitFor({ state: 'detached' });
    await ben.waitForFunction(() => document.activeElement
        .textContent === 'Already here');
    assert.equal(await cardOf(ben, 'Already here').count(), 1);
});

test('a draft deleted while open in the Edit form says so in words',
     async () => {
    const made = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Open here', body: 'Menu', audience: { all: true } } });
    const card = cardOf(ben, 'Open here');
    await card.waitFor();
    await card.getByRole('button', { name: 'Edit' }).click();
    await ben.locator('#campaign-body').fill('Menu, changed');

    await call(`/api/v1/campaigns/${made.id}`, { method: 'DELETE' });
    await card.waitFor({ state: 'detached' });
    const error = ben.locator('#campaign-error');
    await error.locator(`text=${GONE}`).waitFor();
    // what was typed stays; a save says the same, not "not found"
    assert.equal(await ben.locator('#campaign-body').inputValue(),
                 'Menu, changed');
    await error.evaluate((el) => { el.textContent = ''; });
    await ben.locator('#campaign-form')
        .getByRole('button', { name: 'Save as draft' }).click();
    await error.locator(`text=${GONE}`).waitFor();
    await ben.locator('#campaign-form').getByRole('button',
        { name: 'Close' }).click();
});

test('a poll made and deleted elsewhere comes and goes in the Polls view',
     async () => {
    await ben.getByRole('link', { name: 'Polls' }).click();
    await ben.locator('#polls-status', { hasText: 'No polls yet.' })
        .waitFor();
    const poll = await call('/api/v1/polls', { method: 'POST', body: {
        question: 'Lunch at noon?', options: ['Yes', 'No'],
        audience: { all: true } } });
    const card = cardOf(ben, 'Lunch at noon?');
    await card.waitFor();
    await call(`/api/v1/polls/${poll.id}`, { method: 'DELETE' });
    await card.waitFor({ state: 'detached' });
    await ben.locator('#polls-status', { hasText: 'No polls yet.' })
        .waitFor();
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
