// The campaign and poll forms in Debian's Chromium, while they are
// written: "Review and send" pressed twice while the image still uploads
// makes one draft, and one whose upload then fails makes none (the form
// and the error kept; the confirmation counts the images); a campaign
// takes up to 10 images as the reply box does (each with its state,
// Retry and Remove, in order; a draft's own kept by their uploads' ids,
// and only one with no id, from before ids were kept, uploaded again
// when the images change); the send
// confirmation's "Send now", pressed, keeps the focus and ignores a
// second press until the answer; a draft's Edit fills the form with the
// draft (its image, tags and time) and saves the edit to the same
// draft, a poll's too; a contact abroad is told apart in the previews
// (links in place of pictures); the audience's tag counts and the
// preview's cost follow contacts changed elsewhere while the form is
// open, and a form opened later reads them afresh, and the send's
// confirmation its counts and credits while it is open; a session that
// ends by itself keeps what was typed (not the image) for the same user
// signing in again, and for nobody else; signing out forgets it.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { before, test } from 'node:test';
import { answerUnavailable, noPageErrorsTest, signIn, useBrowser }
    from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { uniqueNumber } from '../lib/cluster.mjs';
import { api, deliverInbound, importContactsCsv } from '../lib/inbox.mjs';
import { png, upload } from '../lib/media.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Form Org' }] });
const ANA = { email: 'ana@form.example', password: 'ana writes slowly' };
const BO = { email: 'bo@form.example', password: 'bo writes too' };
const web = useBrowser();
let page;

const org = () => ctx.cluster.orgs[0];
const name = () => page.locator('#campaign-name');
const body = () => page.locator('#campaign-body');
const question = () => page.getByLabel('Question');
const option = (n) => page.getByLabel(`Option ${n}`, { exact: true });
const images = () => page.locator('#campaign-attachments .attachment');

async function campaignsNamed(text) {
    const res = await api(ctx.cluster, '/api/v1/campaigns', org().token);
    assert.equal(res.status, 200, res.text);
    return res.json.items.filter((c) => c.name === text);
}

// Ended elsewhere (another tab, an expiry); the next thing the app asks
// for says so.
async function endSession() {
    await page.evaluate(async () => {
        await fetch('/api/v1/auth/logout', { method: 'POST',
            headers: { 'X-Requested-With': 'inbox' } });
        document.querySelector('.tab[data-filter="unread"]').click();
    });
    await page.getByText('Your session has ended. Sign in again.').waitFor();
}

// On the form the app shows, without loading the page again.
async function signInAgain(user) {
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#conn[data-state="live"]').waitFor();
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), ANA.email, ANA.password);
    await addUser(cluster, org(), BO.email, BO.password);
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
        await images().locator('.attachment-state',
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

test('an image whose upload fails after "Review and send" was pressed: no '
     + 'draft, no send, the form and the error kept; retried, the '
     + 'confirmation counts it', async () => {
    await page.getByRole('button', { name: 'New campaign' }).click();
    await name().fill('Image lost');
    await body().fill('See the poster');
    // the upload fails only once the press is in
    let release;
    const pressed = new Promise((resolve) => { release = resolve; });
    await page.route('**/api/v1/media', async (route) => {
        await pressed;
        await answerUnavailable(route, 'The server is busy; try again.');
    });
    const error = page.locator('#campaign-error');
    try {
        await page.locator('#campaign-file').setInputFiles({
            name: 'poster.png', mimeType: 'image/png', buffer: png() });
        await images().locator('.attachment-state',
            { hasText: 'uploading' }).waitFor();
        await page.getByRole('button', { name: 'Review and send' }).click();
        release();
        await error.filter({ hasText: 'Not saved: \u201cposter.png\u201d was '
            + 'not uploaded. Retry it or remove it, then save again.' })
            .waitFor();
        await page.waitForTimeout(500);
        assert.deepEqual(await campaignsNamed('Image lost'), []);
        assert.equal(await page.locator('dialog[open]').count(), 0);
        assert.equal(await page.locator('#campaign-form').isVisible(), true);
        assert.equal(await name().inputValue(), 'Image lost');
        assert.equal(await body().inputValue(), 'See the poster');
        assert.equal(await images().locator('.attachment-state')
            .textContent(), 'not uploaded: The server is busy; try again.');
    } finally {
        release();
        await page.unroute('**/api/v1/media');
    }

    await page.getByRole('button', { name: 'Retry poster.png' }).click();
    await page.locator('#campaign-attachments [data-state="ready"]')
        .waitFor();
    await page.getByRole('button', { name: 'Review and send' }).click();
    const dialog = page.getByRole('dialog',
        { name: '\u201cImage lost\u201d' });
    await dialog.locator('[data-estimate="segments"]',
        { hasText: 'A picture message (MMS) with 1 image' }).waitFor();
    const [draft] = await campaignsNamed('Image lost');
    assert.equal(draft.media.length, 1);
    await dialog.getByRole('button', { name: 'Back' }).click();
});

test('"Send now" pressed keeps the focus while the send is out, and a '
     + 'second press sends nothing more', async () => {
    const made = await api(ctx.cluster, '/api/v1/contacts', org().token,
        { method: 'POST', body: { phone: uniqueNumber(), name: 'Ida' } });
    assert.equal(made.status, 201, made.text);
    const draft = await api(ctx.cluster, '/api/v1/campaigns', org().token,
        { method: 'POST', body: { name: 'Pressed once', body: 'Hello Ida',
                                  audience: { all: true } } });
    assert.equal(draft.status, 201, draft.text);
    // shown anew, the view reads its list with the new draft in it
    await page.getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const card = page.locator('.bulk-item', { has: page.locator(
        '.bulk-name', { hasText: 'Pressed once' }) });
    // the send's answer held until both presses are in
    let release;
    const pressed = new Promise((resolve) => { release = resolve; });
    const sends = [];
    let asked;
    const sent = new Promise((resolve) => { asked = resolve; });
    const sendPath = `**/api/v1/campaigns/${draft.json.id}/send`;
    await page.route(sendPath, async (route) => {
        sends.push(route.request().method());
        asked();
        await pressed;
        await route.continue();
    });
    try {
        await card.getByRole('button', { name: 'Send…' }).click();
        const dialog = page.getByRole('dialog',
            { name: 'Send \u201cPressed once\u201d?' });
        await dialog.locator('[data-estimate="total"]').waitFor();
        const ok = dialog.getByRole('button', { name: 'Send now' });
        await ok.focus();
        await page.keyboard.press('Enter');
        await sent;
        assert.equal(await page.evaluate(() => document.activeElement.id),
                     'bulk-dialog-ok', 'the focus is where it was');
        assert.equal(await ok.getAttribute('aria-disabled'), 'true');
        await page.keyboard.press('Enter');
        await ok.click({ force: true });
        await page.waitForTimeout(300);
        release();
        await dialog.waitFor({ state: 'hidden' });
        assert.deepEqual(sends, ['POST'], 'sent once');
        await card.locator('.bulk-status', { hasText: /Sending|Scheduled/ })
            .waitFor();
    } finally {
        release();
        await page.unroute(sendPath);
    }
});

// A draft made through the API, as a colleague would, and its card.
async function draftCard(kind, body) {
    const res = await api(ctx.cluster, `/api/v1/${kind}`, org().token,
                          { method: 'POST', body });
    assert.equal(res.status, 201, res.text);
    // shown anew, the view reads its list with the draft in it
    await page.getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('link',
        { name: kind === 'polls' ? 'Polls' : 'Campaigns' }).click();
    const card = page.locator('.bulk-item', { has: page.locator(
        '.bulk-name', { hasText: body.name || body.question }) });
    await card.waitFor();
    return { id: res.json.id, card };
}

async function stored(kind, id) {
    const res = await api(ctx.cluster, `/api/v1/${kind}/${id}`, org().token);
    assert.equal(res.status, 200, res.text);
    return res.json;
}

test('a draft\'s Edit fills the form with it (its image, tags and time) '
     + 'and saves the edit to that draft', async () => {
    const made = await api(ctx.cluster, '/api/v1/contacts', org().token,
        { method: 'POST', body: { phone: uniqueNumber(), name: 'Vi',
                                  tags: ['vip'] } });
    assert.equal(made.status, 201, made.text);
    const up = await upload(ctx.cluster, png(), {
        Authorization: `Bearer ${org().token}`, 'Content-Type': 'image/png' });
    assert.equal(up.status, 201, up.text);
    const sendAt = '2099-03-01T09:00:00Z';
    // a contact in Britain, where pictures do not reach
    const abroad = await api(ctx.cluster, '/api/v1/contacts', org().token,
        { method: 'POST', body: { phone: '+447700900456', name: 'Wyn',
                                  tags: ['rare'] } });
    assert.equal(abroad.status, 201, abroad.text);
    const { id, card } = await draftCard('campaigns', {
        name: 'Spring', body: 'Helo', media_ids: [up.json.id],
        audience: { tags: ['vip', 'rare'] }, send_at: sendAt });

    // the send's confirmation says what that contact gets instead
    await card.getByRole('button', { name: 'Send\u2026' }).click();
    const confirm = page.getByRole('dialog', { name: /Spring/ });
    await confirm.locator('[data-estimate="abroad"]', { hasText:
        '1 recipient is outside the US and Canada, where pictures do not '
        + 'reach: it gets the text with a link to each picture, as an SMS '
        + '(1 credit each).' }).waitFor();
    await confirm.locator('[data-estimate="total"]',
                          { hasText: '3 credits in all.' }).waitFor();
    await confirm.getByRole('button', { name: 'Back' }).click();
    await confirm.waitFor({ state: 'hidden' });

    await card.getByRole('button', { name: 'Edit' }).click();
    const form = page.locator('#campaign-form');
    await form.getByRole('heading', { name: 'Edit \u201cSpring\u201d' })
        .waitFor();
    assert.equal(await name().inputValue(), 'Spring');
    assert.equal(await body().inputValue(), 'Helo');
    assert.equal(await page.evaluate(() => document.activeElement.id),
                 'campaign-name');
    await images().locator('.attachment-name',
        { hasText: 'The draft\u2019s image' }).waitFor();
    assert.equal(await images().locator('.attachment-preview')
        .getAttribute('src'), (await stored('campaigns', id)).media[0].url);
    const audience = page.locator('#campaign-audience');
    assert.ok(await audience.getByLabel('Contacts with any of these tags')
        .isChecked());
    // the tags chosen: a box checked where the list offers one, a chip
    // where it does not yet (the app reads the tags at most every 30 s)
    assert.deepEqual(await audience.evaluate((el) => [
        ...Array.from(el.querySelectorAll('.audience-tags input:checked'),
                      (b) => b.value),
        ...Array.from(el.querySelectorAll('.tag'),
                      (c) => c.firstChild.textContent.trim()),
    ].sort()), ['rare', 'vip']);
    assert.ok(await audience.getByRole('radio', { name: /^At \(your time/ })
        .isChecked());
    assert.equal(await page.locator('#campaign-send-at').inputValue(),
        await page.evaluate((iso) => {
            const t = new Date(iso);
            const two = (n) => String(n).padStart(2, '0');
            return `${t.getFullYear()}-${two(t.getMonth() + 1)}-`
                + `${two(t.getDate())}T${two(t.getHours())}:`
                + `${two(t.getMinutes())}`;
        }, sendAt));
    // the preview counts the draft's image: an MMS, and a link to it
    // for the contact abroad
    await page.locator('#campaign-estimate', { hasText: '2 credits each' })
        .waitFor();
    await page.locator('#campaign-estimate', { hasText: '1 outside the US '
        + 'and Canada gets links in place of pictures' }).waitFor();

    await body().fill('Hello');
    await form.getByRole('button', { name: 'Save as draft' }).click();
    await form.waitFor({ state: 'hidden' });
    await card.locator('.bulk-text', { hasText: 'Hello' }).waitFor();
    assert.equal(await page.evaluate(() =>
        document.activeElement.classList.contains('bulk-name')
        && document.activeElement.textContent), 'Spring',
        'the focus back on the draft edited');
    let now = await stored('campaigns', id);
    assert.equal(now.body, 'Hello');
    assert.equal(now.media.length, 1, 'the image kept');
    // any of these tags: the order is the list's when it offers both
    // (a contact.updated since may have had the tags read again)
    assert.deepEqual(Object.keys(now.audience), ['tags']);
    assert.deepEqual(now.audience.tags.slice().sort(), ['rare', 'vip']);
    assert.equal(now.send_at, '2099-03-01T09:00:00.000Z');
    assert.equal((await campaignsNamed('Spring')).length, 1, 'no new one');

    // New campaign after an edit is an empty form again
    await page.getByRole('button', { name: 'New campaign' }).click();
    await form.getByRole('heading', { name: 'New campaign' }).waitFor();
    assert.equal(await name().inputValue(), '');
    assert.ok(await page.locator('#campaign-attachments').isHidden());
    await page.locator('#campaign-close').click();

    // the image removed, to everyone, when sent
    await card.getByRole('button', { name: 'Edit' }).click();
    await images().waitFor();
    await page.getByRole('button',
        { name: 'Remove The draft\u2019s image' }).click();
    assert.equal(await page.evaluate(() => document.activeElement.id),
                 'campaign-attach', 'the focus on Add images');
    await audience.getByLabel('All contacts').check();
    await audience.getByLabel('When I press Send').check();
    await form.getByRole('button', { name: 'Save as draft' }).click();
    await form.waitFor({ state: 'hidden' });
    await card.locator('.bulk-meta', { hasText: 'All contacts' }).waitFor();
    now = await stored('campaigns', id);
    assert.equal(now.media.length, 0);
    assert.deepEqual(now.audience, { all: true });
    assert.equal(now.send_at, null);

    // an edit closed is given up, on a second Close: nothing saved, the
    // form new again
    await card.getByRole('button', { name: 'Edit' }).click();
    await body().fill('Not this');
    await page.locator('#campaign-close').click();
    await page.locator('#campaign-close').click();
    await form.waitFor({ state: 'hidden' });
    assert.equal((await stored('campaigns', id)).body, 'Hello');
    await page.getByRole('button', { name: 'New campaign' }).click();
    assert.equal(await body().inputValue(), '');
    await page.locator('#campaign-close').click();
});

test('unsaved work is not dropped without a word: a new campaign typed '
     + 'in, a draft\'s Edit says so on its card and takes a second press; '
     + 'an edit changed, Close, Esc and New campaign each say so and take '
     + 'a second press', async () => {
    const { id, card } = await draftCard('campaigns', {
        name: 'Kept words', body: 'As stored', audience: { all: true } });
    const form = page.locator('#campaign-form');
    const error = page.locator('#campaign-error');
    if (await form.isHidden()) {
        await page.getByRole('button', { name: 'New campaign' }).click();
    }
    await form.getByRole('heading', { name: 'New campaign' }).waitFor();
    await name().fill('Half a thought');
    await body().fill('Something for next week');
    // Esc hides a new one's form, its words kept
    await body().press('Escape');
    await form.waitFor({ state: 'hidden' });

    const edit = card.getByRole('button', { name: 'Edit' });
    await edit.click();
    await card.locator('.bulk-error', { hasText: 'The new campaign you are '
        + 'writing is not saved: save it, or press Edit again to drop '
        + 'it.' }).waitFor();
    assert.ok(await form.isHidden());
    assert.equal(await name().inputValue(), 'Half a thought');
    assert.equal(await body().inputValue(), 'Something for next week');
    await edit.click();
    await form.getByRole('heading', { name: 'Edit \u201cKept words\u201d' })
        .waitFor();
    assert.equal(await body().inputValue(), 'As stored');
    assert.equal(await card.locator('.bulk-error').textContent(), '');

    // an edit left as it was closes at once
    await page.locator('#campaign-close').click();
    await form.waitFor({ state: 'hidden' });

    // changed: each way out says so first, the same way again drops it
    await edit.click();
    await form.getByRole('heading', { name: 'Edit \u201cKept words\u201d' })
        .waitFor();
    await body().fill('As changed');
    await page.locator('#campaign-close').click();
    await error.filter({ hasText: 'Not saved: save your changes to '
        + '\u201cKept words\u201d, or press Close again to drop them.' })
        .waitFor();
    assert.ok(await form.isVisible());
    await body().press('Escape');
    await error.filter({ hasText: 'or press Esc again to drop them.' })
        .waitFor();
    assert.ok(await form.isVisible());
    await page.getByRole('button', { name: 'New campaign' }).click();
    await error.filter({ hasText: 'or press New campaign again to drop '
        + 'them.' }).waitFor();
    assert.equal(await body().inputValue(), 'As changed');
    await page.getByRole('button', { name: 'New campaign' }).click();
    await form.getByRole('heading', { name: 'New campaign' }).waitFor();
    assert.equal(await body().inputValue(), '');
    assert.equal((await stored('campaigns', id)).body, 'As stored');

    // another draft's Edit while an edit is changed: said on that card
    await edit.click();
    await form.getByRole('heading', { name: 'Edit \u201cKept words\u201d' })
        .waitFor();
    await body().fill('Changed again');
    const { card: other } = await draftCard('campaigns', {
        name: 'Other words', body: 'Other', audience: { all: true } });
    await other.getByRole('button', { name: 'Edit' }).click();
    await other.locator('.bulk-error', { hasText: 'Your changes to '
        + '\u201cKept words\u201d are not saved: save them, or press Edit '
        + 'again to drop them.' }).waitFor();
    assert.equal(await body().inputValue(), 'Changed again');
    await body().press('Escape');
    await body().press('Escape');
    await form.waitFor({ state: 'hidden' });
    assert.equal((await stored('campaigns', id)).body, 'As stored');
});

// The name of the button that has the focus.
const focusedButton = () => page.evaluate(() =>
    document.activeElement.getAttribute('aria-label')
    || document.activeElement.textContent.trim());

test('a campaign takes several images, as the reply box does: each listed '
     + 'in order with its state, Retry and Remove; one not uploaded keeps '
     + '"Review and send" from saving; the preview says an MMS of them at '
     + '2 credits', async () => {
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('button', { name: 'New campaign' }).click();
    await name().fill('Three pictures');
    await body().fill('Our new menu');
    const shots = [png(8, 8), png(9, 9), png(10, 10)];
    // the second one's upload fails until let through
    let down = true;
    await page.route('**/api/v1/media', (route) => (down
        && route.request().postDataBuffer().equals(shots[1])
        ? answerUnavailable(route, 'The server is busy; try again.')
        : route.continue()));
    const error = page.locator('#campaign-error');
    try {
        await page.locator('#campaign-file').setInputFiles(shots.map(
            (buffer, i) => ({ name: `dish${i + 1}.png`,
                              mimeType: 'image/png', buffer })));
        await images().nth(2).waitFor();
        assert.deepEqual(await images().locator('.attachment-name')
            .allTextContents(), ['dish1.png', 'dish2.png', 'dish3.png']);
        await images().nth(1).locator('.attachment-state', { hasText:
            'not uploaded: The server is busy; try again.' }).waitFor();
        await error.filter({ hasText: 'Could not upload \u201cdish2.png'
            + '\u201d: The server is busy; try again.' }).waitFor();
        await page.getByRole('button', { name: 'Retry dish2.png' })
            .waitFor();
        assert.equal(await page.getByRole('button', { name: /^Retry/ })
            .count(), 1, 'only the one not uploaded is retried');
        await page.locator('#campaign-estimate', { hasText:
            'picture message (MMS), 3 images \u00b7 2 credits each' })
            .waitFor();

        await page.getByRole('button', { name: 'Review and send' }).click();
        await error.filter({ hasText: 'Not saved: \u201cdish2.png\u201d was '
            + 'not uploaded. Retry it or remove it, then save again.' })
            .waitFor();
        await page.waitForTimeout(300);
        assert.deepEqual(await campaignsNamed('Three pictures'), []);
        assert.equal(await page.locator('dialog[open]').count(), 0);

        // retried: its Remove has the focus while it uploads again
        down = false;
        await page.getByRole('button', { name: 'Retry dish2.png' }).click();
        assert.equal(await focusedButton(), 'Remove dish2.png');
        await page.locator('#campaign-attachments [data-state="ready"]')
            .nth(2).waitFor();
        assert.equal(await error.textContent(), '');
    } finally {
        down = false;
        await page.unroute('**/api/v1/media');
    }

    await page.getByRole('button', { name: 'Review and send' }).click();
    const dialog = page.getByRole('dialog',
        { name: '\u201cThree pictures\u201d' });
    await dialog.locator('[data-estimate="segments"]',
        { hasText: 'A picture message (MMS) with 3 images' }).waitFor();
    const [draft] = await campaignsNamed('Three pictures');
    assert.deepEqual(draft.media.map((m) => m.bytes),
                     shots.map((b) => b.length), 'in the order shown');
    await dialog.getByRole('button', { name: 'Back' }).click();
});

test('a campaign takes at most 10 images: of 12 chosen the first 10 are '
     + 'attached and the others said; Add images then says so; Remove hands '
     + 'the focus to the next image, and after the last to Add images',
     async () => {
    await page.getByRole('button', { name: 'New campaign' }).click();
    await name().fill('Ten pictures');
    const files = Array.from({ length: 12 }, (_, i) => ({
        name: `p${i + 1}.png`, mimeType: 'image/png',
        buffer: png(8, 8, [i * 20, 40, 40]) }));
    await page.locator('#campaign-file').setInputFiles(files);
    const error = page.locator('#campaign-error');
    await error.filter({ hasText: 'A campaign carries at most 10 images, '
        + 'so 2 of those chosen were not attached.' }).waitFor();
    assert.deepEqual(await images().locator('.attachment-name')
        .allTextContents(), files.slice(0, 10).map((f) => f.name));
    await page.locator('#campaign-estimate', { hasText:
        'picture message (MMS), 10 images \u00b7 2 credits each' })
        .waitFor();

    // full: said, and no file picker
    let picked = 0;
    const chooser = () => { picked += 1; };
    page.on('filechooser', chooser);
    try {
        await page.getByRole('button', { name: 'Add images' }).click();
        await error.filter({ hasText: 'A campaign carries at most 10 '
            + 'images: remove one to attach another.' }).waitFor();
        await page.waitForTimeout(200);
        assert.equal(picked, 0);
    } finally {
        page.off('filechooser', chooser);
    }

    await page.getByRole('button', { name: 'Remove p10.png' }).click();
    assert.equal(await focusedButton(), 'Remove p9.png');
    await page.getByRole('button', { name: 'Remove p1.png' }).click();
    assert.equal(await focusedButton(), 'Remove p2.png');
    for (let n = 2; n <= 9; n++) {
        await page.keyboard.press('Enter');
    }
    assert.equal(await images().count(), 0);
    assert.equal(await page.evaluate(() => document.activeElement.id),
                 'campaign-attach');
    assert.equal(await error.textContent(), '');
    // nothing left written, so the next Edit asks nothing
    await name().fill('');
    await page.locator('#campaign-close').click();
});

test('a draft of two images edited: both shown, kept as they are by an '
     + 'edit of its text; with a third added, the three are saved in '
     + 'order', async () => {
    const shots = [png(11, 11), png(12, 12), png(13, 13)];
    const ids = [];
    for (const buffer of shots.slice(0, 2)) {
        const up = await upload(ctx.cluster, buffer, {
            Authorization: `Bearer ${org().token}`,
            'Content-Type': 'image/png' });
        assert.equal(up.status, 201, up.text);
        ids.push(up.json.id);
    }
    const { id, card } = await draftCard('campaigns', {
        name: 'Two, then three', body: 'Pictures', media_ids: ids,
        audience: { all: true } });
    const was = (await stored('campaigns', id)).media;
    const form = page.locator('#campaign-form');

    await card.getByRole('button', { name: 'Edit' }).click();
    await images().nth(1).waitFor();
    assert.deepEqual(await images().locator('.attachment-name')
        .allTextContents(), ['The draft\u2019s image 1',
                             'The draft\u2019s image 2']);
    await page.locator('#campaign-estimate', { hasText:
        'picture message (MMS), 2 images' }).waitFor();
    await body().fill('Pictures, edited');
    await form.getByRole('button', { name: 'Save as draft' }).click();
    await form.waitFor({ state: 'hidden' });
    let now = await stored('campaigns', id);
    assert.equal(now.body, 'Pictures, edited');
    assert.deepEqual(now.media.map((m) => m.url), was.map((m) => m.url),
                     'the same images, not uploaded again');

    await card.getByRole('button', { name: 'Edit' }).click();
    await images().nth(1).waitFor();
    const posts = uploadsCounted();
    try {
        await page.locator('#campaign-file').setInputFiles({
            name: 'third.png', mimeType: 'image/png', buffer: shots[2] });
        await images().nth(2).waitFor();
        await form.getByRole('button', { name: 'Save as draft' }).click();
        await form.waitFor({ state: 'hidden' });
        assert.equal(posts.count, 1, 'the third alone uploaded');
    } finally {
        posts.stop();
    }
    now = await stored('campaigns', id);
    assert.deepEqual(now.media.map((m) => m.bytes),
                     shots.map((b) => b.length), 'the three, in order');
    assert.deepEqual(now.media.slice(0, 2).map((m) => [m.id, m.url]),
                     was.map((m) => [m.id, m.url]),
                     'the two of before named by their uploads');
});

// Counts the uploads the page makes (POST /api/v1/media) until stop().
function uploadsCounted() {
    const seen = { count: 0 };
    const count = (req) => {
        if (req.method() === 'POST'
            && new URL(req.url()).pathname === '/api/v1/media')
        {
            seen.count += 1;
        }
    };
    page.on('request', count);
    seen.stop = () => page.off('request', count);
    return seen;
}

// The files in the media directory (uploads and copies).
const mediaFiles = () => readdirSync(ctx.cluster.mediaDir)
    .filter((f) => !f.startsWith('.')).length;

// Three images uploaded and a draft of them, as the API made it.
async function draftOfThree(draftName, sizes) {
    const ups = [];
    for (const size of sizes) {
        const up = await upload(ctx.cluster, png(size, size), {
            Authorization: `Bearer ${org().token}`,
            'Content-Type': 'image/png' });
        assert.equal(up.status, 201, up.text);
        ups.push(up.json);
    }
    const { id, card } = await draftCard('campaigns', {
        name: draftName, body: 'Dishes', media_ids: ups.map((u) => u.id),
        audience: { all: true } });
    return { ups, id, card };
}

test('a draft of three images with the second removed keeps the first '
     + 'and third as they were: the same uploads, no image uploaded again',
     async () => {
    const { ups, id, card } = await draftOfThree('Three, then two',
                                                 [14, 15, 16]);
    const was = (await stored('campaigns', id)).media;
    assert.deepEqual(was.map((m) => [m.id, m.url]),
                     ups.map((u) => [u.id, u.url]));
    const form = page.locator('#campaign-form');
    const files = mediaFiles();

    const posts = uploadsCounted();
    try {
        await card.getByRole('button', { name: 'Edit' }).click();
        await images().nth(2).waitFor();
        await page.getByRole('button',
            { name: 'Remove The draft\u2019s image 2' }).click();
        assert.equal(await focusedButton(),
                     'Remove The draft\u2019s image 3');
        assert.deepEqual(await images().locator('.attachment-name')
            .allTextContents(), ['The draft\u2019s image 1',
                                 'The draft\u2019s image 3']);
        assert.deepEqual(await images().evaluateAll((items) => items.map(
            (li) => li.dataset.state)), ['ready', 'ready'],
            'nothing to upload');
        await page.locator('#campaign-estimate', { hasText:
            'picture message (MMS), 2 images' }).waitFor();
        await form.getByRole('button', { name: 'Save as draft' }).click();
        await form.waitFor({ state: 'hidden' });
        assert.equal(posts.count, 0, 'no upload made');
    } finally {
        posts.stop();
    }

    const now = await stored('campaigns', id);
    assert.deepEqual(now.media.map((m) => [m.id, m.url]),
                     [was[0], was[2]].map((m) => [m.id, m.url]),
                     'the first and third, their uploads and files');
    assert.equal(mediaFiles(), files, 'no file stored anew');
});

test('a draft whose images name no upload (stored before they were kept) '
     + 'has those left read back and uploaded again once one is removed',
     async () => {
    const { ups, id, card } = await draftOfThree('Old three', [17, 18, 19]);
    const form = page.locator('#campaign-form');
    // the draft as an older MongoDB store answers it: no image's id
    const draftPath = (url) => url.pathname === `/api/v1/campaigns/${id}`;
    await page.route(draftPath, async (route) => {
        if (route.request().method() !== 'GET') {
            return route.continue();
        }
        const res = await route.fetch();
        const json = await res.json();
        json.media = json.media.map(({ id: _, ...m }) => m);
        return route.fulfill({ response: res, json });
    });
    const posts = uploadsCounted();
    try {
        await card.getByRole('button', { name: 'Edit' }).click();
        await images().nth(2).waitFor();
        await page.getByRole('button',
            { name: 'Remove The draft\u2019s image 2' }).click();
        await page.locator('#campaign-attachments [data-state="ready"]')
            .nth(1).waitFor();
        await form.getByRole('button', { name: 'Save as draft' }).click();
        await form.waitFor({ state: 'hidden' });
        assert.equal(posts.count, 2, 'the two left uploaded again');
    } finally {
        posts.stop();
        await page.unroute(draftPath);
    }
    const now = await stored('campaigns', id);
    assert.deepEqual(now.media.map((m) => m.bytes),
                     [ups[0].bytes, ups[2].bytes], 'the two, in order');
    assert.notDeepEqual(now.media.map((m) => m.id),
                        [ups[0].id, ups[2].id], 'new uploads of them');
});

test('a poll draft\'s Edit fills its question and options; an option '
     + 'added is saved, and a sent draft offers no Edit', async () => {
    const { id, card } = await draftCard('polls', {
        question: 'Tea or coffee?', options: ['Tea', 'Coffee'],
        audience: { all: true } });
    await card.getByRole('button', { name: 'Edit' }).click();
    const form = page.locator('#poll-form');
    await form.getByRole('heading',
        { name: 'Edit \u201cTea or coffee?\u201d' }).waitFor();
    assert.equal(await question().inputValue(), 'Tea or coffee?');
    assert.equal(await option(1).inputValue(), 'Tea');
    assert.equal(await option(2).inputValue(), 'Coffee');
    await page.locator('#poll-add-option').click();
    await option(3).fill('Neither');
    await form.getByRole('button', { name: 'Save as draft' }).click();
    await form.waitFor({ state: 'hidden' });
    const now = await stored('polls', id);
    assert.deepEqual(now.options, ['Tea', 'Coffee', 'Neither']);
    assert.equal(now.name, 'Tea or coffee?');
    await card.locator('.poll-choices li', { hasText: 'Neither' }).waitFor();

    // sent elsewhere: shown anew, the card offers no Edit
    const sent = await api(ctx.cluster, `/api/v1/polls/${id}/send`,
                           org().token, { method: 'POST' });
    assert.equal(sent.status, 200, sent.text);
    await page.getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('link', { name: 'Polls' }).click();
    await card.locator('.bulk-status', { hasText: /Sending|Done/ })
        .waitFor();
    assert.equal(await card.getByRole('button', { name: 'Edit' }).count(),
                 0);
});

test('a campaign\'s text typed before its name is previewed: the cost '
     + 'does not wait for the name', async () => {
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const form = page.locator('#campaign-form');
    if (await form.isHidden()) {
        await page.getByRole('button', { name: 'New campaign' }).click();
    }
    const asked = [];
    const listener = (req) => {
        if (req.url().endsWith('/api/v1/campaigns/estimate')) {
            asked.push(req.postDataJSON());
        }
    };
    page.on('request', listener);
    try {
        await name().fill('');
        await body().fill('Doors open at nine');
        await page.locator('#campaign-estimate', { hasText:
            /1 segment \(GSM-7\) · 1 credit each, \d+ credits? in all · /
        }).waitFor();
        assert.ok(asked.length > 0);
        assert.ok(asked.every((b) => !('name' in b)),
                  'no name asked about');
    } finally {
        page.off('request', listener);
    }
    await body().fill('');
    await page.locator('#campaign-close').click();
    await form.waitFor({ state: 'hidden' });
});

test('the audience\'s counts follow the contacts while the form is open '
     + '(a colleague adds one with the tag, an opt-out, an import of many), '
     + 'the preview\'s cost with them; a form opened later reads them '
     + 'afresh', async () => {
    const call = async (path, opts = {}) => {
        const res = await api(ctx.cluster, path, org().token, opts);
        assert.ok(res.status < 300, `${path}: ${res.status} ${res.text}`);
        return res.json;
    };
    const add = () => call('/api/v1/contacts', { method: 'POST',
        body: { phone: uniqueNumber(), tags: ['regulars'] } });
    const optOut = (c) => call(`/api/v1/conversations/${c.conversation_id}`
                               + '/opt-out', { method: 'POST' });
    const made = [await add(), await add()];
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const form = page.locator('#campaign-form');
    if (await form.isHidden()) {
        await page.getByRole('button', { name: 'New campaign' }).click();
    }
    const regulars = (n) => form.getByRole('checkbox',
        { name: `regulars (${n})`, exact: true });
    const label = form.locator('label.tag-choice',
                               { hasText: /^regulars \(/ });
    // the preview: who it reaches, and its cost
    const costs = (n, out) => {
        const who = out ? `${n} recipients (${out} opted out, not sent)`
            : `${n} recipients`;
        return page.locator('#campaign-estimate').filter({ hasText:
            `${who} · 1 segment (GSM-7) · 1 credit each, ${n} credits `
            + 'in all · ' }).waitFor();
    };
    await name().fill('Live counts');
    await body().fill('See you Friday');
    await regulars(2).check();
    await costs(2);
    await regulars(2).focus();

    // from another session: one more with the tag
    made.push(await add());
    await regulars(3).waitFor();
    await costs(3);
    assert.ok(await regulars(3).isChecked(), 'the tag stays chosen');
    assert.ok(await regulars(3).evaluate((el) =>
        el === document.activeElement), 'the box keeps the focus');

    // an opt-out: the tag's contacts the same, one of them opted out
    await optOut(made[0]);
    await costs(2, 1);
    assert.equal(await label.getAttribute('title'),
                 '3 contacts, 1 opted out');

    // an import of 60 with the tag: one contacts.imported for them
    await importContactsCsv(ctx.cluster, org().token, ['phone,tags',
        ...Array.from({ length: 60 }, () => `${uniqueNumber()},regulars`)]
        .join('\n') + '\n');
    await regulars(63).waitFor();
    await costs(62, 1);

    // the form closed, an opt-out; the poll form opened reads the count
    // again rather than keep the one read a moment ago
    await body().fill('');
    await name().fill('');
    await page.locator('#campaign-close').click();
    await form.waitFor({ state: 'hidden' });
    await optOut(made[1]);
    await page.getByRole('link', { name: 'Polls' }).click();
    await page.getByRole('button', { name: 'New poll' }).click();
    await page.locator('#poll-form label.tag-choice', { hasText:
        /^regulars \(63\)$/ }).and(page.locator(
        '[title="63 contacts, 2 opted out"]')).waitFor();
    await page.locator('#poll-close').click();
});

test('the send\'s confirmation follows the contacts while it is open: a '
     + 'STOP changes its counts and credits, the focus where it was; one '
     + 'while "Send now" is out leaves the button busy', async () => {
    const phones = [uniqueNumber(), uniqueNumber(), uniqueNumber()];
    for (const phone of phones) {
        const res = await api(ctx.cluster, '/api/v1/contacts', org().token,
            { method: 'POST', body: { phone, tags: ['confirmers'] } });
        assert.equal(res.status, 201, res.text);
    }
    const { id, card } = await draftCard('campaigns', { name: 'Live confirm',
        body: 'See you', audience: { tags: ['confirmers'] } });
    await card.getByRole('button', { name: 'Send…' }).click();
    const dialog = page.getByRole('dialog',
        { name: 'Send \u201cLive confirm\u201d?' });
    const says = (field, text) => dialog.locator(
        `[data-estimate="${field}"]`, { hasText: text }).waitFor();
    await says('suppressed', 'Nobody in it is opted out.');
    await says('total', '3 credits in all.');
    const ok = dialog.getByRole('button', { name: 'Send now' });
    const focused = () => page.evaluate(() => document.activeElement.id);
    assert.equal(await focused(), 'bulk-dialog-back');

    // a contact of the audience texts STOP: counted again in place
    await deliverInbound(ctx.cluster, { from: phones[0], body: 'STOP' });
    await says('suppressed', '1 contact is opted out and will not get it; '
               + '2 contacts get it.');
    await says('total', '2 credits in all.');
    await says('recipients', 'Contacts tagged confirmers: 3 contacts.');
    assert.equal(await focused(), 'bulk-dialog-back', 'the focus stays');
    assert.equal(await ok.getAttribute('aria-disabled'), 'false');

    // Send now pressed, its answer held: another STOP is counted, the
    // button stays busy and a press meanwhile sends nothing more
    let release;
    const pressed = new Promise((resolve) => { release = resolve; });
    const sends = [];
    const sendPath = `**/api/v1/campaigns/${id}/send`;
    await page.route(sendPath, async (route) => {
        sends.push(route.request().method());
        await pressed;
        await route.continue();
    });
    try {
        await ok.focus();
        await page.keyboard.press('Enter');
        await deliverInbound(ctx.cluster, { from: phones[1], body: 'STOP' });
        await says('suppressed', '2 contacts are opted out and will not get '
                   + 'it; 1 contact gets it.');
        await says('total', '1 credit in all.');
        assert.equal(await focused(), 'bulk-dialog-ok', 'the focus stays');
        assert.equal(await ok.getAttribute('aria-disabled'), 'true');
        await page.keyboard.press('Enter');
        release();
        await dialog.waitFor({ state: 'hidden' });
        assert.deepEqual(sends, ['POST'], 'sent once');
    } finally {
        release();
        await page.unroute(sendPath);
    }
});

test('the send\'s confirmation of a campaign to a tag no contact has says '
     + 'nobody is in it, its Send now doing nothing', async () => {
    const { card } = await draftCard('campaigns', { name: 'To nobody',
        body: 'Hello?', audience: { tags: ['no-such-people'] } });
    await card.getByRole('button', { name: 'Send…' }).click();
    const dialog = page.getByRole('dialog',
        { name: 'Send \u201cTo nobody\u201d?' });
    await dialog.locator('[data-estimate="recipients"]', { hasText:
        'Contacts tagged no-such-people: 0 contacts.' }).waitFor();
    assert.equal(await dialog.locator('[data-estimate="suppressed"]')
        .textContent(), 'Nobody is in it: there is no one to send it to.');
    assert.equal(await dialog.getByRole('button', { name: 'Send now' })
        .getAttribute('aria-disabled'), 'true');
    await dialog.getByRole('button', { name: 'Back' }).click();
    await dialog.waitFor({ state: 'hidden' });
});

test('a campaign and a poll being written when the session ends are there '
     + 'again for the same user, without the image', async () => {
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('button', { name: 'New campaign' }).click();
    await name().fill('Half written');
    await body().fill('Our spring hours are');
    await page.locator('#campaign-file').setInputFiles({
        name: 'hours.png', mimeType: 'image/png', buffer: png() });
    await images().locator('.attachment-name', { hasText: 'hours.png' })
        .waitFor();
    await page.getByRole('link', { name: 'Polls' }).click();
    await page.getByRole('button', { name: 'New poll' }).click();
    await question().fill('Which day suits you?');
    await option(1).fill('Monday');
    await option(2).fill('Friday');
    await page.getByRole('button', { name: 'Add an option' }).click();
    await option(3).fill('Sunday');

    await endSession();
    await signInAgain(ANA);
    // the view it was in, with the form open as it was
    await question().waitFor();
    assert.equal(await question().inputValue(), 'Which day suits you?');
    assert.deepEqual(await page.locator('#poll-options input')
        .evaluateAll((inputs) => inputs.map((i) => i.value)),
        ['Monday', 'Friday', 'Sunday']);
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await name().waitFor();
    assert.equal(await name().inputValue(), 'Half written');
    assert.equal(await body().inputValue(), 'Our spring hours are');
    assert.equal(await page.locator('#campaign-attachments').isHidden(),
                 true, 'the image is not kept');
});

test('a draft\'s edit under way when the session ends is given up: kept, '
     + 'it would be saved to all contacts', async () => {
    const { id, card } = await draftCard('campaigns', {
        name: 'Edited at expiry', body: 'As saved',
        audience: { tags: ['vip'] } });
    // the new one written before is there: its drop asked first
    await card.getByRole('button', { name: 'Edit' }).click();
    await card.locator('.bulk-error', { hasText: 'The new campaign you are '
        + 'writing is not saved' }).waitFor();
    await card.getByRole('button', { name: 'Edit' }).click();
    await page.locator('#campaign-form').getByRole('heading',
        { name: 'Edit \u201cEdited at expiry\u201d' }).waitFor();
    await body().fill('Typed, not saved');

    await endSession();
    await signInAgain(ANA);
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await card.waitFor();
    assert.ok(await page.locator('#campaign-form').isHidden());
    await page.getByRole('button', { name: 'New campaign' }).click();
    await page.locator('#campaign-form').getByRole('heading',
        { name: 'New campaign' }).waitFor();
    assert.equal(await body().inputValue(), '');
    await page.locator('#campaign-close').click();
    const now = await stored('campaigns', id);
    assert.equal(now.body, 'As saved');
    assert.deepEqual(now.audience, { tags: ['vip'] });
});

test('another user signing in finds the forms empty, and so does the '
     + 'first one after them', async () => {
    await endSession();
    await signInAgain(BO);
    assert.equal(await name().inputValue(), '');
    assert.equal(await body().inputValue(), '');
    assert.equal(await page.locator('#campaign-form').isHidden(), true);
    assert.equal(await question().inputValue(), '');

    await endSession();
    await signInAgain(ANA);
    assert.equal(await name().inputValue(), '');
    assert.equal(await question().inputValue(), '');
});

test('signing out forgets what was being written', async () => {
    await page.getByRole('button', { name: 'New campaign' }).click();
    await name().fill('Never sent');
    await body().fill('Signed out before saving');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInAgain(ANA);
    assert.equal(await name().inputValue(), '');
    assert.equal(await body().inputValue(), '');
    assert.equal(await page.locator('#campaign-form').isHidden(), true);
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
