// Campaigns and polls in the web app, in Debian's Chromium, the whole way:
// a campaign made in the Campaigns view to a tag, its preview (recipients,
// the opted-out contact left out, credits, the balance), sent through the
// sender to the carrier simulator, its counts reaching delivered from the
// page's campaign.progress frames without a reload or a read of the list;
// a poll made and sent in the Polls view whose tally moves live as signed
// replies answer it by number and by text; a poll's form previewing its
// cost while it is written, as the campaign's does, Enter in an
// option going on to the next, and a refusal of too few options taking
// the focus to the one left empty; a refusal showing the server's
// message with the form kept; a campaign with an image (its card shows
// it small, opening the full image); the contact
// panel's campaigns, poll answers and timeline (one the carrier refused
// because the contact opted out there: not sent; a campaign alone lists
// no thread, and the list names the campaign before a thread's last
// message); the previews on an
// unlimited plan; the form offering every tag of the organization,
// with its count; a campaign scheduled before the 10-segment rule,
// whose card says why the sender cancelled it and what to do, where a
// person's cancel says Cancelled; a scheduled campaign that began and
// paused for billing, whose card follows (Pause, not Change time, and
// when it started); one scheduled and cancelled before its time, whose
// card says when it was to go and when it was cancelled; one the
// carrier refused for its number's credentials, whose card says what to
// do; a draft's card saying how many its audience holds now (an
// estimate, read once an audience, again as contacts change); a card's
// times written as a thread writes them, drawn again past midnight; a
// draft's figure that could not be read, read again after a reconnect;
// and
// progress frames lost on the way,
// whose gap has the page read the lists and a poll's open results
// again, also when the gap comes while the list is being read.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { answerUnavailable, backOnline, goOffline, noPageErrorsTest, rowOf,
         signIn, useBrowser } from '../lib/browser.mjs';
import { inboxctl, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually, quietHoursAway }
         from '../lib/inbox.mjs';
import { png, upload } from '../lib/media.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Campaign UI Org' }],
    sender: true,
    // most of a second between the carrier's steps, so that the page's
    // counts show the messages sent before they show them delivered
    carrierSim: { delays: { sending: [5, 10], sent: [800, 800],
                            final: [800, 800], duplicate: [10, 20] } },
});
const USER = { email: 'cam@campaigns.example', password: 'cam sends sales' };
const CREDITS = 100;

// Pat and Quinn get the campaign and the poll; Rae the campaign only;
// Sol is tagged too but opted out; Uma has another tag.
const people = {
    pat: { name: 'Pat Poll', phone: uniqueNumber(), tags: ['spring', 'poll'] },
    quinn: { name: 'Quinn Poll', phone: uniqueNumber(),
             tags: ['spring', 'poll'] },
    rae: { name: 'Rae Spring', phone: uniqueNumber(), tags: ['spring'] },
    sol: { name: 'Sol Stopped', phone: uniqueNumber(), tags: ['spring'] },
    uma: { name: 'Uma Autumn', phone: uniqueNumber(), tags: ['autumn'] },
};

const web = useBrowser();
let page;

const org = () => ctx.cluster.orgs[0];

async function call(path, opts = {}) {
    const res = await api(ctx.cluster, path, org().token, opts);
    assert.ok(res.status < 300, `${path}: ${res.status} ${res.text}`);
    return res.json;
}

// Quiet hours (UTC) hours away from now: never in the way here.

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org().id,
                   String(CREDITS));
    await inboxctl(cluster.store, 'settings', 'set', org().id, '--timezone',
                   'UTC', '--quiet-hours', quietHoursAway());
    for (const p of Object.values(people)) {
        p.contact = await call('/api/v1/contacts', { method: 'POST',
            body: { phone: p.phone, name: p.name, tags: p.tags } });
    }
    await call(`/api/v1/conversations/${people.sol.contact.conversation_id}`
               + '/opt-out', { method: 'POST' });

    await web.launch();
    page = await web.newPage({ width: 1200, height: 800 });
    await signIn(page, cluster, USER);
});

const cardOf = (name) => page.locator('.bulk-item', {
    has: page.locator('.bulk-name', { hasText: name }) });

// The page's GET requests to path (a RegExp) from now on.
function watchRequests(path) {
    const seen = [];
    const listener = (req) => {
        const url = new URL(req.url());
        if (req.method() === 'GET' && path.test(url.pathname)) {
            seen.push(url.pathname + url.search);
        }
    };
    page.on('request', listener);
    return { seen, stop: () => page.off('request', listener) };
}

// Watches a card's counts in the page until its delivered count and its
// status are these; resolves with the distinct counts (and status) it
// showed, in order.
function watchCounts(name, { delivered, status }, timeoutMs = 20000) {
    return page.evaluate(({ name, delivered, status, timeoutMs }) =>
        new Promise((resolve, reject) => {
            const seen = [];
            const started = Date.now();
            const look = () => {
                const li = Array.from(document.querySelectorAll(
                    '.bulk-item')).find((el) => el.querySelector(
                    '.bulk-name').textContent === name);
                if (li) {
                    const c = {};
                    li.querySelectorAll('.bulk-count').forEach((d) => {
                        c[d.dataset.count] = Number(d.querySelector('dd')
                            .textContent.replace(/\D/g, ''));
                    });
                    c.status = li.querySelector('.bulk-status').textContent;
                    const key = JSON.stringify(c);
                    if (seen.length === 0
                        || JSON.stringify(seen[seen.length - 1]) !== key) {
                        seen.push(c);
                    }
                    if (c.delivered === delivered && c.status === status) {
                        resolve(seen);
                        return;
                    }
                }
                if (Date.now() - started > timeoutMs) {
                    reject(new Error('the counts stayed '
                        + JSON.stringify(seen.slice(-3))));
                    return;
                }
                setTimeout(look, 25);
            };
            look();
        }), { name, delivered, status, timeoutMs });
}

test('a campaign to a tag: its preview leaves the opted-out contact out '
     + 'and counts the credits; sent, its counts reach delivered live, '
     + 'without a reload', async () => {
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await page.getByRole('button', { name: 'New campaign' }).click();
    await page.locator('#campaign-name').fill('Spring sale');
    await page.locator('#campaign-body').fill(
        'Spring sale: 20% off this week');
    // the organization's tags are offered
    const form = page.locator('#campaign-form');
    await form.getByRole('checkbox', { name: 'spring' }).check();
    await form.getByRole('checkbox', { name: 'autumn' }).waitFor();
    assert.ok(await form.getByRole('radio', { name: /these tags/ })
        .isChecked());

    // the preview while writing
    await page.locator('#campaign-estimate', { hasText:
        '3 recipients (1 opted out, not sent)' }).waitFor();
    assert.match(await page.locator('#campaign-estimate').textContent(),
        /1 segment \(GSM-7\) · 1 credit each, 3 credits in all · balance 100/);
    // no tag chosen yet: the preview says what it waits for, and asks
    // nothing the server would refuse
    const refused = [];
    const onEstimate = (r) => {
        if (r.url().endsWith('/estimate') && r.status() !== 200) {
            refused.push(r.status());
        }
    };
    page.on('response', onEstimate);
    await form.getByRole('checkbox', { name: 'spring' }).uncheck();
    await page.locator('#campaign-estimate', { hasText: 'Choose one or '
        + 'more tags to see what it costs.' }).waitFor();
    await form.getByRole('checkbox', { name: 'spring' }).check();
    await page.locator('#campaign-estimate', { hasText:
        '3 recipients (1 opted out, not sent)' }).waitFor();
    page.off('response', onEstimate);
    assert.deepEqual(refused, []);
    // past 10 segments the preview says why it cannot go, not nothing
    await page.locator('#campaign-body').fill('x'.repeat(1531));
    await page.locator('#campaign-estimate', { hasText: 'The message is 11 '
        + 'segments (GSM-7): the limit is 10, so shorten it.' }).waitFor();
    await page.locator('#campaign-body').fill(
        'Spring sale: 20% off this week');
    await page.locator('#campaign-estimate', { hasText:
        '3 recipients (1 opted out, not sent)' }).waitFor();

    await page.getByRole('button', { name: 'Review and send' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send “Spring sale”?' });
    await dialog.locator('[data-estimate="total"]').waitFor();
    const says = async (field) => dialog.locator(
        `[data-estimate="${field}"]`).textContent();
    assert.equal(await says('recipients'),
                 'Contacts tagged spring: 4 contacts.');
    assert.equal(await says('suppressed'), '1 contact is opted out and '
                 + 'will not get it; 3 contacts get it.');
    assert.equal(await says('segments'),
                 '1 segment (GSM-7) a message, 1 credit each.');
    assert.equal(await says('total'), '3 credits in all.');
    assert.equal(await says('balance'), 'Your balance: 100 credits.');

    // from here the page learns only from its socket
    await page.evaluate(() => { window.notReloaded = true; });
    const lists = watchRequests(/^\/api\/v1\/campaigns(\/\d+)?$/);
    const counts = watchCounts('Spring sale',
                               { delivered: 3, status: 'Done' });
    await dialog.getByRole('button', { name: 'Send now' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const seen = await counts;
    lists.stop();

    const last = seen[seen.length - 1];
    assert.equal(last.recipients, 3);
    assert.equal(last.suppressed, 1);
    assert.equal(last.queued, 0);
    assert.equal(last.failed, 0);
    // the send's answer showed them queued; then sent, then delivered
    assert.ok(seen.some((c) => c.queued === 3 && c.delivered === 0),
        JSON.stringify(seen));
    assert.ok(seen.some((c) => c.sent > 0 && c.delivered < 3),
        JSON.stringify(seen));
    assert.deepEqual(lists.seen, [], 'the list was read again');
    assert.equal(await page.evaluate(() => window.notReloaded), true);
    assert.equal(await cardOf('Spring sale').getByRole('button')
        .count(), 0, 'a done campaign offers no move');

    // the carrier got it once for each, never the opted-out contact
    const sends = await ctx.cluster.sim.requests({ kind: 'send' });
    const to = sends.map((r) => Object.fromEntries(r.form ?? []))
        .filter((f) => f.Body === 'Spring sale: 20% off this week')
        .map((f) => f.To).sort();
    assert.deepEqual(to, [people.pat.phone, people.quinn.phone,
                          people.rae.phone].sort());
});

test('a poll made and sent in the Polls view: its tally moves live as '
     + 'answers come by number and by text', async () => {
    await page.getByRole('link', { name: 'Polls' }).click();
    await page.getByRole('button', { name: 'New poll' }).click();
    await page.getByLabel('Question').fill('Which day suits you?');
    await page.getByLabel('Option 1', { exact: true }).fill('Monday');
    await page.getByLabel('Option 2', { exact: true }).fill('Friday');
    await page.getByRole('button', { name: 'Add an option' }).click();
    await page.getByLabel('Option 3', { exact: true }).fill('Not sure');
    await page.locator('#poll-form').getByRole('checkbox', { name: 'poll' })
        .check();
    await page.getByRole('button', { name: 'Review and send' }).click();

    // a name that is a question ends the dialog's: not '…you?”?'
    const dialog = page.getByRole('dialog',
        { name: 'Send “Which day suits you?”', exact: true });
    await dialog.locator('[data-estimate="recipients"]', { hasText:
        'Contacts tagged poll: 2 contacts.' }).waitFor();
    await dialog.getByRole('button', { name: 'Send now' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await watchCounts('Which day suits you?',
                      { delivered: 2, status: 'Done' });

    const card = cardOf('Which day suits you?');
    assert.deepEqual(await card.locator('.poll-choices li').allTextContents(),
                     ['Monday', 'Friday', 'Not sure']);
    await card.getByRole('button', { name: 'Results' }).click();
    const row = (n) => card.locator(`.tally-row[data-option="${n}"]`);
    await row(3).waitFor();
    assert.deepEqual(await card.locator('.tally-count').allTextContents(),
                     ['0', '0', '0']);
    await card.getByText('No answers yet.').waitFor();

    await page.evaluate(() => { window.notReloaded = true; });
    await deliverInbound(ctx.cluster, { from: people.pat.phone, body: '2' });
    await row(2).locator('.tally-count', { hasText: '1 (100%)' }).waitFor();
    await deliverInbound(ctx.cluster, { from: people.quinn.phone,
                                        body: ' monday ' });
    await row(1).locator('.tally-count', { hasText: '1 (50%)' }).waitFor();
    assert.equal(await row(2).locator('.tally-count').textContent(),
                 '1 (50%)');
    assert.equal(await row(3).locator('.tally-count').textContent(), '0 (0%)');
    assert.equal(await card.locator('.tally-total').textContent(),
                 '2 answers from 2 recipients');
    const responses = card.locator('.response');
    await responses.nth(1).waitFor();
    const answers = Object.fromEntries(await responses.evaluateAll(
        (lis) => lis.map((li) => [li.querySelector('.response-who')
            .textContent, li.querySelector('.response-answer')
            .textContent])));
    assert.deepEqual(answers, { 'Pat Poll': 'Friday',
                                'Quinn Poll': 'Monday' });
    await card.locator('.bulk-count[data-count="replied"] dd',
        { hasText: '2' }).waitFor();
    assert.equal(await page.evaluate(() => window.notReloaded), true);
});

test('a poll\'s form previews what it would cost while it is written, as '
     + 'the campaign\'s does: its question with the numbered options, to '
     + 'its audience', async () => {
    const estimate = page.locator('#poll-estimate');
    await page.getByRole('button', { name: 'New poll' }).click();
    await page.getByLabel('Question').fill('Lunch or dinner?');
    await page.getByLabel('Option 1', { exact: true }).fill('Lunch');
    await page.locator('#poll-form').getByRole('checkbox', { name: 'poll' })
        .check();
    // one option is not a poll yet: nothing to say
    await page.waitForTimeout(600);
    assert.equal(await estimate.textContent(), '');
    await page.getByLabel('Option 2', { exact: true }).fill('Dinner');
    await page.locator('#poll-estimate', { hasText: new RegExp(
        '^2 recipients · 1 segment \\(GSM-7\\) · 1 credit each, '
        + '2 credits in all · balance \\d+$') }).waitFor();
    // the options count: "1) …" lines past one segment make two
    await page.getByRole('button', { name: 'Add an option' }).click();
    await page.getByLabel('Option 3', { exact: true })
        .fill('Neither, thanks: '.padEnd(100, 'x'));
    await page.getByLabel('Question').fill('Lunch or dinner? '
        + 'y'.repeat(30));
    await page.locator('#poll-estimate', { hasText: '2 recipients · '
        + '2 segments (GSM-7) · 1 credit each, 2 credits in all' })
        .waitFor();
    // who it goes to: all contacts, the opted-out one left out
    await page.locator('#poll-form').getByRole('radio',
        { name: 'All contacts' }).check();
    await page.locator('#poll-estimate', { hasText: new RegExp(
        '^4 recipients \\(1 opted out, not sent\\) · 2 segments') })
        .waitFor();
    // a text past what one message holds is said at once
    await page.getByLabel('Question').fill('z'.repeat(1500));
    await page.locator('#poll-estimate', { hasText: 'The question and its '
        + 'options make one message.' }).waitFor();
    assert.equal(await page.getByLabel('Question').getAttribute(
        'aria-describedby'), 'poll-question-hint poll-estimate');
    // nothing written, nothing said; the form left as a new one's
    await page.getByRole('button', { name: 'Remove option 3' }).click();
    for (const label of ['Question', 'Option 2', 'Option 1']) {
        await page.getByLabel(label, { exact: true }).fill('');
    }
    await page.waitForFunction(() => document.getElementById(
        'poll-estimate').textContent === '');
    await page.locator('#poll-close').click();
    await page.locator('#poll-form').waitFor({ state: 'hidden' });
});

test('a poll\'s form numbers its options as the save sends them: a row '
     + 'left empty between two written is not sent, and the preview\'s '
     + '"Option 3" is the row labelled so', async () => {
    await page.getByRole('link', { name: 'Polls' }).click();
    await page.getByRole('button', { name: 'New poll' }).click();
    const row = (n) => page.locator(
        `#poll-options li:nth-child(${n}) input`);
    const labels = () => page.locator('#poll-options label')
        .allTextContents();
    await page.getByLabel('Question').fill('Paperback or hardback?');
    await page.locator('#poll-form').getByRole('checkbox', { name: 'poll' })
        .check();
    await row(1).fill('Paperback');
    await page.getByRole('button', { name: 'Add an option' }).click();
    await page.getByRole('button', { name: 'Add an option' }).click();
    // the second row left empty: the third is sent second
    await row(3).fill('Hardback');
    await row(4).fill('paperback!');
    assert.deepEqual(await labels(),
                     ['Option 1', 'Not sent', 'Option 2', 'Option 3']);
    await page.locator('#poll-estimate',
        { hasText: 'Option 3 is the same as option 1.' }).waitFor();
    assert.equal(await page.getByLabel('Option 3', { exact: true })
        .inputValue(), 'paperback!');
    assert.equal(await page.getByRole('button',
        { name: 'Remove option 3' }).count(), 1);
    // the row written again is sent again, in its place
    await row(2).fill('Either');
    assert.deepEqual(await labels(),
                     ['Option 1', 'Option 2', 'Option 3', 'Option 4']);
    await page.locator('#poll-estimate',
        { hasText: 'Option 4 is the same as option 1.' }).waitFor();
    // emptied again (a space is nothing): not sent, as before (a save
    // closes it up: refusal-described's test)
    await row(2).fill(' ');
    assert.deepEqual(await labels(),
                     ['Option 1', 'Not sent', 'Option 2', 'Option 3']);
    await page.locator('#poll-estimate',
        { hasText: 'Option 3 is the same as option 1.' }).waitFor();
    for (const n of [4, 3]) {
        await page.locator(`#poll-options li:nth-child(${n}) button`)
            .click();
    }
    for (const n of [2, 1]) {
        await row(n).fill('');
    }
    await page.getByLabel('Question').fill('');
    await page.locator('#poll-close').click();
    await page.locator('#poll-form').waitFor({ state: 'hidden' });
});

test('Enter in a poll\'s option goes on to the next one, a new one after '
     + 'the last written, and sends nothing', async () => {
    const posted = [];
    const onRequest = (req) => {
        if (req.method() === 'POST'
            && /\/api\/v1\/polls(\/\d+\/send)?$/.test(req.url())) {
            posted.push(req.url());
        }
    };
    page.on('request', onRequest);
    try {
        await page.getByRole('link', { name: 'Polls' }).click();
        await page.getByRole('button', { name: 'New poll' }).click();
        await page.getByLabel('Question').fill('Tea or coffee?');
        const option = (n) => page.getByLabel(`Option ${n}`,
                                              { exact: true });
        await option(1).focus();
        await page.keyboard.type('Tea');
        await page.keyboard.press('Enter');
        assert.equal(await page.evaluate(() => document.activeElement.id),
                     'poll-option-2');
        await page.keyboard.type('Coffee');
        await page.keyboard.press('Enter');
        // a third, made for it
        assert.equal(await page.evaluate(() => document.activeElement.id),
                     'poll-option-3');
        // an empty last one makes no other
        await page.keyboard.press('Enter');
        assert.equal(await page.evaluate(() => document.activeElement.id),
                     'poll-option-3');
        assert.equal(await page.locator('#poll-options li').count(), 3);
        await page.waitForTimeout(300);
        assert.deepEqual(posted, []);
        assert.equal(await page.locator('#poll-error').textContent(), '');
        assert.equal(await page.locator('#bulk-dialog[open]').count(), 0);
        await page.getByRole('button', { name: 'Remove option 3' }).click();
        for (const label of ['Question', 'Option 2', 'Option 1']) {
            await page.getByLabel(label, { exact: true }).fill('');
        }
        await page.locator('#poll-close').click();
        await page.locator('#poll-form').waitFor({ state: 'hidden' });
    } finally {
        page.off('request', onRequest);
    }
});

test('a poll refused for having one option written takes the focus to '
     + 'the option left empty', async () => {
    await page.getByRole('link', { name: 'Polls' }).click();
    await page.getByRole('button', { name: 'New poll' }).click();
    await page.getByLabel('Question').fill('Tea or coffee?');
    await page.getByLabel('Option 1', { exact: true }).fill('Tea');
    await page.getByRole('button', { name: 'Review and send' }).click();
    await page.locator('#poll-error',
        { hasText: 'A poll has 2 to 9 options.' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id),
                 'poll-option-2');
    for (const label of ['Question', 'Option 1']) {
        await page.getByLabel(label, { exact: true }).fill('');
    }
    await page.locator('#poll-close').click();
    await page.locator('#poll-form').waitFor({ state: 'hidden' });
});

test('a refusal shows the server\'s message and keeps the form; a '
     + 'campaign with an image is saved as a draft', async () => {
    await page.getByRole('button', { name: 'New poll' }).click();
    await page.getByLabel('Question').fill('Coffee or tea?');
    await page.getByLabel('Option 1', { exact: true }).fill('Yes');
    await page.getByLabel('Option 2', { exact: true }).fill('yes');
    await page.getByRole('button', { name: 'Save as draft' }).click();
    await page.locator('#poll-error',
        { hasText: 'Option 2 is the same as option 1.' }).waitFor();
    assert.equal(await page.getByLabel('Question').inputValue(),
                 'Coffee or tea?');
    assert.equal(await page.getByLabel('Option 2', { exact: true })
        .inputValue(), 'yes');
    assert.equal(await page.getByLabel('Option 2', { exact: true })
        .getAttribute('aria-invalid'), 'true');
    assert.equal(await cardOf('Coffee or tea?').count(), 0);
    await page.locator('#poll-close').click();

    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('button', { name: 'New campaign' }).click();
    await page.locator('#campaign-name').fill('Picture day');
    await page.locator('#campaign-body').fill('Look at this');
    const poster = png(48, 32, [220, 120, 30]);
    await page.locator('#campaign-file').setInputFiles({ name: 'sale.png',
        mimeType: 'image/png', buffer: poster });
    await page.locator('#campaign-attachments .attachment-name',
                       { hasText: 'sale.png' }).waitFor();
    // an MMS: two credits to each of the four contacts not opted out
    // (all five but Sol)
    await page.locator('#campaign-estimate',
        { hasText: '2 credits each, 8 credits in all' }).waitFor();
    await page.getByRole('button', { name: 'Save as draft' }).click();
    const card = cardOf('Picture day');
    await card.waitFor();
    assert.match(await card.locator('.bulk-meta').textContent(),
                 /^All contacts · 1 image · 2 credits a message/);
    assert.equal(await card.locator('.bulk-status').textContent(), 'Draft');
    assert.deepEqual(await card.getByRole('button').allTextContents(),
                     ['Edit', 'Send…', 'Delete']);
    const list = await call('/api/v1/campaigns');
    const draft = list.items.find((c) => c.name === 'Picture day');
    assert.equal(draft.media.length, 1);
    assert.equal(draft.media[0].content_type, 'image/png');

    // the card shows the image it counts, small, as a thread shows one:
    // a thumbnail named for what it is that opens the full image
    const thumb = card.getByRole('link', { name: 'Picture day: image' });
    const href = ctx.cluster.url(draft.media[0].url);
    assert.equal(await thumb.getAttribute('href'), href);
    assert.equal(await thumb.getAttribute('target'), '_blank');
    await thumb.locator('img').evaluate((img) => img.decode());
    assert.deepEqual(await thumb.locator('img').evaluate((img) =>
        [img.naturalWidth, img.width <= 64, img.height <= 64]),
        [48, true, true]);
    const [tab] = await Promise.all([
        page.context().waitForEvent('page'),
        thumb.click(),
    ]);
    await tab.waitForLoadState();
    assert.equal(tab.url(), href);
    const full = await tab.request.get(href);
    assert.equal(full.headers()['content-type'], 'image/png');
    assert.ok(Buffer.from(await full.body()).equals(poster));
    await tab.close();
});

test('a campaign image too large or not an image is refused before any '
     + 'of it is sent, saying why, as the reply box says it', async () => {
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('button', { name: 'New campaign' }).click();
    let uploads = 0;
    const media = (url) => url.pathname === '/api/v1/media';
    await page.route(media, async (route) => {
        uploads += 1;
        await route.fallback();
    });
    try {
        const error = page.locator('#campaign-error');
        const big = Buffer.alloc(5 * 1024 * 1024 + 1);
        png().copy(big);
        await page.locator('#campaign-file').setInputFiles({
            name: 'poster.png', mimeType: 'image/png', buffer: big });
        await error.filter({ hasText: '\u201cposter.png\u201d is 5.0 MB; '
            + 'an MMS image can be at most 5 MB.' }).waitFor();
        assert.equal(await page.locator('#campaign-attach')
            .getAttribute('aria-invalid'), 'true');
        await page.locator('#campaign-file').setInputFiles({
            name: 'notes.txt', mimeType: 'text/plain',
            buffer: Buffer.from('not a picture') });
        await error.filter({ hasText: 'is not an image an MMS can carry' })
            .waitFor();
        assert.equal(await page.locator('#campaign-attachments')
            .isHidden(), true);
        assert.equal(uploads, 0);
    } finally {
        await page.unroute(media);
        await page.locator('#campaign-close').click();
    }
});

test('at 390 px wide the Campaigns and Polls views, a poll\'s results and '
     + 'the header fit the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
        const width = () => page.evaluate(
            () => document.documentElement.scrollWidth);
        await page.getByRole('link', { name: 'Polls' }).click();
        const card = cardOf('Which day suits you?');
        await card.locator('.tally-row').first().waitFor();
        assert.ok(await width() <= 390, `Polls is ${await width()} px wide`);
        await page.getByRole('link', { name: 'Campaigns' }).click();
        await cardOf('Spring sale').waitFor();
        assert.ok(await width() <= 390,
                  `Campaigns is ${await width()} px wide`);
        await page.getByRole('button', { name: 'New campaign' }).click();
        assert.ok(await width() <= 390,
                  `the form is ${await width()} px wide`);
        await page.locator('#campaign-close').click();
    } finally {
        await page.setViewportSize({ width: 1200, height: 800 });
    }
});

test('the contact panel lists the campaigns a contact got and its poll '
     + 'answer, and the timeline says both in words, each send once',
async () => {
    await page.getByRole('link', { name: 'Inbox' }).click();
    await rowOf(page, 'Quinn Poll').getByRole('button').click();
    // in the thread, each message names the campaign or poll that sent it
    const messages = page.getByRole('list', { name: 'Messages' });
    const sender = messages.locator('.message.outbound .author');
    await sender.filter({ hasText: 'Poll \u201cWhich day suits you?\u201d' })
        .waitFor();
    await sender.filter({ hasText: 'Campaign \u201cSpring sale\u201d' })
        .waitFor();
    await page.getByRole('button', { name: 'Contact', exact: true }).click();
    const panel = page.locator('#contact-panel');
    const campaigns = panel.getByRole('list', { name: 'Campaigns' });
    await campaigns.locator('li').nth(1).waitFor();
    const got = await campaigns.locator('.history-name').allTextContents();
    assert.deepEqual(got.sort(), ['Poll: Which day suits you?',
                                  'Spring sale']);
    assert.match(await campaigns.locator('li', { hasText: 'Spring sale' })
        .textContent(), /Delivered/);
    const polls = panel.getByRole('list', { name: 'Poll answers' });
    assert.equal(await polls.locator('li').count(), 1);
    assert.equal(await polls.locator('.history-name').textContent(),
                 'Which day suits you?');
    assert.equal(await polls.locator('.history-note').textContent(),
                 'Monday');
    // the question's own mark ends it, no colon after it
    assert.match(await polls.locator('li').textContent(),
                 /^Which day suits you\? Monday/);

    const timeline = panel.locator('#timeline');
    await timeline.locator('li').first().waitFor();
    const items = await timeline.locator('li').evaluateAll((lis) =>
        lis.map((li) => [li.querySelector('.timeline-what').textContent,
            li.querySelector('.timeline-detail')?.textContent ?? '']));
    assert.deepEqual(items[0], ['Poll answer: Monday',
                                'Which day suits you?']);
    assert.ok(items.some(([what, detail]) => /^Poll sent/.test(what)
        && detail === 'Which day suits you?'), JSON.stringify(items));
    assert.ok(items.some(([what, detail]) =>
        /^Campaign sent · ✓✓ Delivered$/.test(what)
        && detail === 'Spring sale'), JSON.stringify(items));
    // each send is one entry, its message not a "Message sent" again
    assert.equal(items.filter(([what]) => /^(Campaign|Poll) sent/
        .test(what)).length, 2, JSON.stringify(items));
    assert.ok(!items.some(([what]) => /^Message sent/.test(what)),
              JSON.stringify(items));
});

test('a campaign the carrier refused because the contact opted out there '
     + 'is "not sent" in the contact panel, the contact having opted out, '
     + 'not "sent" and failed; a campaign alone lists no thread, and the '
     + 'list names the campaign before a thread\'s last message',
async () => {
    const sim = ctx.cluster.sim;
    const phone = uniqueNumber();
    /* the contact's STOP reached the carrier, never the inbox */
    await sim.configure({ inbox: 'http://127.0.0.1:9' });
    try {
        await sim.inbound({ from: phone, to: org().number, body: 'STOP' });
    } finally {
        await sim.configure({ inbox: ctx.cluster.baseUrl });
    }
    const val = await call('/api/v1/contacts', { method: 'POST',
        body: { phone, name: 'Val Blocked', tags: ['carrier-stopped'] } });
    // Wes wrote first: his thread is two-way
    const wes = uniqueNumber();
    await call('/api/v1/contacts', { method: 'POST',
        body: { phone: wes, name: 'Wes Wrote', tags: ['carrier-stopped'] } });
    await deliverInbound(ctx.cluster, { from: wes, to: org().number,
                                        body: 'Any news?' });
    const made = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Last call', body: 'Last call!',
        audience: { tags: ['carrier-stopped'] } } });
    await call(`/api/v1/campaigns/${made.id}/send`, { method: 'POST' });
    await eventually(async () => {
        const c = await call(`/api/v1/campaigns/${made.id}`);
        return c.status === 'done' && c.counts.suppressed === 1;
    }, 20000, 'the campaign refused at the carrier');
    const record = await call(`/api/v1/contacts/${val.id}`);
    assert.deepEqual(record.campaigns.map((c) => [c.status, c.state]),
                     [['failed', 'suppressed']]);

    await page.getByRole('link', { name: 'Inbox' }).click();
    // Wes's row says the campaign sent his thread's last message; Val's
    // thread, with the campaign alone, is in no list
    await rowOf(page, 'Wes Wrote').locator('.row-preview',
        { hasText: /^Campaign \u201cLast call\u201d: Last call!$/ }).waitFor();
    assert.equal(await rowOf(page, 'Val Blocked').count(), 0);
    const listed = await call('/api/v1/conversations');
    assert.ok(!listed.items.some((c) => c.contact.phone === phone),
              'a campaign alone lists no thread');
    assert.equal(listed.items.find((c) => c.contact.phone === wes)
        .last_message.campaign_id, made.id);
    // her thread is opened from the Contacts view
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.locator('.contact-row', { hasText: 'Val Blocked' }).click();
    await page.locator('#thread-title', { hasText: 'Val Blocked' }).waitFor();
    // the message in the thread says which campaign sent it, in words a
    // screen reader says too
    const messages = page.getByRole('list', { name: 'Messages' });
    await messages.locator('.message.outbound', { hasText: 'Last call!' })
        .locator('.meta', { hasText: /^Campaign \u201cLast call\u201d · / })
        .waitFor();
    const said = await messages.ariaSnapshot();
    assert.ok(said.includes('- text: "Campaign \u201cLast call\u201d sent:"'),
              said);
    const panel = page.locator('#contact-panel');
    if (await panel.isHidden()) {
        await page.getByRole('button', { name: 'Contact', exact: true })
            .click();
    }
    const campaigns = panel.getByRole('list', { name: 'Campaigns' });
    const item = campaigns.locator('li', { hasText: 'Last call' });
    await item.waitFor();
    assert.match(await item.textContent(),
                 / · Not sent: the contact had opted out$/);
    assert.equal(await item.locator('.tick').count(), 0);
    const timeline = panel.locator('#timeline');
    await timeline.locator('li .timeline-detail', { hasText: /^Last call$/ })
        .waitFor();
    const items = await timeline.locator('li').evaluateAll((lis) =>
        lis.map((li) => [li.querySelector('.timeline-what').textContent,
            li.querySelector('.timeline-detail')?.textContent ?? '']));
    assert.deepEqual(items.filter(([, detail]) => detail === 'Last call'),
        [['Campaign not sent · the contact had opted out', 'Last call']]);
});

// The contacts list shows newest first: a tag only the oldest contacts
// carry, past the first thousand of it, is offered all the same.
test('a picture-only draft made elsewhere is previewed before its send: '
     + 'its image counted as an MMS', async () => {
    const up = await upload(ctx.cluster, png(), {
        Authorization: `Bearer ${org().token}`,
        'Content-Type': 'image/png' });
    assert.equal(up.status, 201, up.text);
    const draft = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Just the poster', body: '', media_ids: [up.json.id],
        audience: { tags: ['spring'] } } });

    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const card = cardOf('Just the poster');
    await card.getByRole('button', { name: 'Send…' }).click();
    const dialog = page.getByRole('dialog',
        { name: 'Send “Just the poster”?' });
    await dialog.locator('[data-estimate="recipients"]', { hasText:
        'Contacts tagged spring: 4 contacts.' }).waitFor();
    // a picture message costs the same whatever its text's segments
    assert.equal(await dialog.locator('[data-estimate="segments"]')
        .textContent(), 'A picture message (MMS) with 1 image, 2 credits '
        + 'each.');
    assert.equal(await dialog.locator('[data-estimate="total"]')
        .textContent(), '6 credits in all.');
    await dialog.getByRole('button', { name: 'Back' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await call(`/api/v1/campaigns/${draft.id}/cancel`, { method: 'POST' });
});

test('on an unlimited plan the previews say the plan pays and ask no '
     + 'credits', async () => {
    await inboxctl(ctx.cluster.store, 'billing', 'plan', org().id,
                   'unlimited');
    try {
        const draft = await call('/api/v1/campaigns', { method: 'POST',
            body: { name: 'On the house', body: 'Free coffee today',
                    audience: { tags: ['spring'] } } });
        await page.reload();
        await page.getByRole('link', { name: 'Campaigns' }).click();
        assert.match(await cardOf('On the house').locator('.bulk-meta')
            .textContent(), /Included in your plan/);
        await cardOf('On the house').getByRole('button', { name: 'Send…' })
            .click();
        const dialog = page.getByRole('dialog',
            { name: 'Send “On the house”?' });
        await dialog.locator('[data-estimate="total"]').waitFor();
        assert.equal(await dialog.locator('[data-estimate="segments"]')
            .textContent(), '1 segment (GSM-7) a message.');
        assert.equal(await dialog.locator('[data-estimate="total"]')
            .textContent(), 'Your unlimited plan pays for it: no credits '
            + 'are used.');
        assert.equal(await dialog.locator('[data-estimate="balance"]')
            .count(), 0);
        await dialog.getByRole('button', { name: 'Back' }).click();
        await dialog.waitFor({ state: 'hidden' });
        await call(`/api/v1/campaigns/${draft.id}/cancel`,
                   { method: 'POST' });

        // and while writing one
        await page.getByRole('button', { name: 'New campaign' }).click();
        await page.locator('#campaign-name').fill('Coffee');
        await page.locator('#campaign-body').fill('Free coffee again');
        await page.locator('#campaign-form')
            .getByRole('checkbox', { name: 'spring' }).check();
        await page.locator('#campaign-estimate', { hasText:
            'included in your plan' }).waitFor();
        assert.doesNotMatch(await page.locator('#campaign-estimate')
            .textContent(), /credit|balance/);
    } finally {
        await inboxctl(ctx.cluster.store, 'billing', 'plan', org().id,
                       'per_message');
        await page.reload();
    }
});

test('a poll named apart from its question shows the question under its '
     + 'name; one the form named by its question shows it once', async () => {
    await call('/api/v1/polls', { method: 'POST', body: {
        name: 'Next dinner',
        question: 'Which night suits you for the next dinner?',
        options: ['Thursday', 'Friday'], audience: { all: true } } });
    await page.reload();
    await page.getByRole('link', { name: 'Polls' }).click();
    const named = cardOf('Next dinner');
    await named.waitFor();
    assert.equal(await named.locator('.bulk-text').textContent(),
                 'Which night suits you for the next dinner?');
    assert.equal(await named.locator('.bulk-text').isVisible(), true);
    const asked = cardOf('Which day suits you?');
    assert.equal(await asked.locator('.bulk-text').isVisible(), false);
});

test('the campaign form offers every tag with its count, also one only '
     + 'contacts past the first thousand carry', async () => {
    const phones = new Set();
    while (phones.size < 1003) {
        phones.add(uniqueNumber());
    }
    const all = Array.from(phones);
    const csv = (list, tag) => ['phone,name,tags',
        ...list.map((p) => `${p},,${tag}`)].join('\n') + '\n';
    for (const [list, tag] of [[all.slice(0, 3), 'Old-Guard'],
                               [all.slice(3), 'newcomer']]) {
        const res = await fetch(ctx.cluster.url('/api/v1/contacts/import'), {
            method: 'POST', body: csv(list, tag),
            headers: { Authorization: `Bearer ${org().token}`,
                       'Content-Type': 'text/csv' } });
        assert.equal(res.status, 200, await res.text());
    }

    // a new visit reads the tags again
    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('button', { name: 'New campaign' }).click();
    const form = page.locator('#campaign-form');
    const old = form.getByRole('checkbox', { name: 'Old-Guard (3)' });
    await old.waitFor();
    await form.getByRole('checkbox', { name: 'newcomer (1000)' }).waitFor();
    // Sol is opted out: counted, and said so
    const spring = form.locator('label.tag-choice', { hasText: 'spring' });
    assert.equal(await spring.textContent(), 'spring (4)');
    assert.equal(await spring.getAttribute('title'),
                 '4 contacts, 1 opted out');
    await page.locator('#campaign-name').fill('Old guard');
    await page.locator('#campaign-body').fill('Thanks for staying');
    await old.check();
    await page.locator('#campaign-estimate', { hasText: '3 recipients' })
        .waitFor();
    await page.locator('#campaign-close').click();
});

test('a campaign paused for billing offers Pause beside Resume and '
     + 'Cancel, which holds what it had queued: then only Resume and '
     + 'Cancel', async () => {
    const made = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Held for billing', body: 'Back soon',
        audience: { tags: ['Old-Guard'] } } });
    await inboxctl(ctx.cluster.store, 'billing', 'set', org().id,
                   'inactive');
    try {
        await call(`/api/v1/campaigns/${made.id}/send`, { method: 'POST' });
        await page.reload();
        await page.getByRole('link', { name: 'Campaigns' }).click();
        const card = cardOf('Held for billing');
        // the sender's dispatch pauses it
        await card.locator('.bulk-status', { hasText:
            'Paused: billing is inactive.' }).waitFor();
        // nothing goes while billing is inactive, queued or not
        assert.match(await card.locator('.bulk-status').textContent(),
                     /Nothing is sent until it is active again; then Resume/);
        assert.doesNotMatch(await card.locator('.bulk-status').textContent(),
                            /still go/);
        // a person's pause gives the queued messages' credits back
        assert.match(await card.locator('.bulk-status').textContent(),
                     new RegExp('Pause stops them too and gives their '
                                + 'credits back \\(held again when they '
                                + 'go\\)\\.$'));
        assert.deepEqual(await card.getByRole('button').allTextContents(),
                         ['Pause', 'Resume', 'Cancel']);

        await card.getByRole('button', { name: 'Pause' }).click();
        await card.locator('.bulk-status', { hasText: /^Paused$/ })
            .waitFor();
        assert.deepEqual(await card.getByRole('button').allTextContents(),
                         ['Resume', 'Cancel']);
        const now = await call(`/api/v1/campaigns/${made.id}`);
        assert.equal(now.status, 'paused');
        assert.equal(now.paused_reason, 'manual');
    } finally {
        await inboxctl(ctx.cluster.store, 'billing', 'set', org().id,
                       'active');
        await call(`/api/v1/campaigns/${made.id}/cancel`, { method: 'POST' });
    }
});

test('a campaign the carrier refuses for its number\'s credentials says '
     + 'so in words staff can act on, naming the number refused and the '
     + 'carrier\'s code, live and once read again, offers Resume and '
     + 'Cancel, and goes once resumed with the credentials fixed',
     async () => {
    const o = org();
    const setToken = (token) => inboxctl(ctx.cluster.store, 'number', 'set',
        o.id, o.number, '--carrier', 'twilio', '--account-sid', o.accountSid,
        '--auth-token', token, '--api-base', ctx.cluster.sim.url);
    const phone = uniqueNumber();
    await call('/api/v1/contacts', { method: 'POST', body: {
        phone, name: 'Vic Token', tags: ['token-test'] } });
    const made = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Wrong token', body: 'Open late',
        audience: { tags: ['token-test'] } } });
    await setToken('f'.repeat(32));
    try {
        await page.reload();
        await page.getByRole('link', { name: 'Campaigns' }).click();
        const card = cardOf('Wrong token');
        await call(`/api/v1/campaigns/${made.id}/send`, { method: 'POST' });
        // the sender pauses it at the carrier's 401, live, the number
        // named as people read it (uniqueNumber's are +1 NANP ones)
        const d = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(o.number);
        assert.ok(d, o.number);
        const number = `+1 (${d[1]}) ${d[2]}-${d[3]}`;
        const words = `Paused: the carrier refused ${number} for this `
            + 'account (error 20003), so nothing was sent. Fix the number '
            + 'in the carrier account (or ask whoever runs the inbox to), '
            + 'then Resume.';
        await card.locator('.bulk-status', { hasText: words }).waitFor();
        assert.deepEqual(await card.getByRole('button').allTextContents(),
                         ['Resume', 'Cancel']);
        // and read again
        await page.reload();
        await page.getByRole('link', { name: 'Campaigns' }).click();
        await card.locator('.bulk-status', { hasText: words }).waitFor();

        await setToken(o.authToken);
        await card.getByRole('button', { name: 'Resume' }).click();
        await card.locator('.bulk-status', { hasText: /^(Sending|Done)$/ })
            .waitFor();
        const end = await eventually(async () => {
            const c = await call(`/api/v1/campaigns/${made.id}`);
            return c.status === 'done' ? c : null;
        }, 20000, 'the campaign done');
        assert.equal(end.counts.failed, 0);
    } finally {
        await setToken(o.authToken);
    }
});

test('a campaign scheduled before the 10-segment rule, cancelled as its '
     + 'time comes, says why on its card, live, and what to do; one a '
     + 'person cancels says Cancelled', async () => {
    const later = { name: 'Scheduled long ago', body: 'short for now',
                    audience: { tags: ['spring'] },
                    send_at: '2099-01-01T09:00:00Z' };
    const long = await call('/api/v1/campaigns',
                            { method: 'POST', body: later });
    const mine = await call('/api/v1/campaigns', { method: 'POST',
        body: { ...later, name: 'Cancelled by hand' } });
    for (const c of [long, mine]) {
        await call(`/api/v1/campaigns/${c.id}/send`, { method: 'POST' });
    }

    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const card = cardOf('Scheduled long ago');
    await card.locator('.bulk-status', { hasText: /^Scheduled for / })
        .waitFor();

    // its text as one saved before the rule (1,600 characters: 11
    // segments), and its time now: the sender's dispatch cancels it
    const text = 'x'.repeat(1600);
    await promisify(execFile)(sqlite3Path, ['-cmd', '.timeout 5000',
        ctx.cluster.storePath, `UPDATE campaigns SET body = '${text}',`
        + ` segments = 11, credits = 4, send_at = ${Date.now()}`
        + ` WHERE id = ${long.id}`]);
    await card.locator('.bulk-status', { hasText: 'Cancelled when its time '
        + 'came, nothing sent' }).waitFor({ timeout: 15000 });
    assert.equal(await card.locator('.bulk-status').textContent(),
                 'Cancelled when its time came, nothing sent: its text is '
                 + 'longer than a message may be now. The message is 11 '
                 + 'segments (GSM-7): the limit is 10, so shorten it. A '
                 + 'cancelled campaign cannot be sent again: create a new '
                 + 'one with a shorter text.');
    // nothing was sent: it can go
    assert.deepEqual(await card.getByRole('button').allTextContents(),
                     ['Delete']);
    const gone = await call(`/api/v1/campaigns/${long.id}`);
    assert.equal(gone.cancelled_reason, 'text_refused');

    // read again, the card says the same
    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await card.locator('.bulk-status', { hasText: 'The message is 11 '
        + 'segments (GSM-7)' }).waitFor();
    // started as it was refused, yet nothing went: still Delete
    assert.deepEqual(await card.getByRole('button').allTextContents(),
                     ['Delete']);

    const byHand = cardOf('Cancelled by hand');
    await byHand.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Cancel it' }).click();
    await byHand.locator('.bulk-status', { hasText: /^Cancelled$/ })
        .waitFor();
    assert.equal((await call(`/api/v1/campaigns/${mine.id}`))
        .cancelled_reason, 'manual');
});

test('a scheduled campaign\'s time is changed from its card, emptied it '
     + 'sends now; a time moved elsewhere shows on the card live',
     async () => {
    const made = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Autumn preview', body: 'Autumn is coming',
        audience: { tags: ['autumn'] }, send_at: '2099-01-01T09:00:00Z' } });
    await call(`/api/v1/campaigns/${made.id}/send`, { method: 'POST' });
    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const card = cardOf('Autumn preview');
    const status = card.locator('.bulk-status');
    await status.filter({ hasText: /^Scheduled for / }).waitFor();
    assert.deepEqual(await card.getByRole('button').allTextContents(),
                     ['Change time\u2026', 'Pause', 'Cancel']);
    // its recipients wait for its time, not in the queue
    const queued = card.locator('[data-count="queued"] dt');
    assert.equal(await queued.textContent(), 'Waiting for its time');

    // moved elsewhere (another browser, the API): the card follows
    const june = '2098-06-01T09:00:00Z';
    const [shown, typed] = await page.evaluate((iso) => {
        const t = new Date(iso);
        const two = (n) => String(n).padStart(2, '0');
        return [window.inboxTimes.at(iso),
                `${t.getFullYear()}-${two(t.getMonth() + 1)}-`
                + `${two(t.getDate())}T${two(t.getHours())}:`
                + `${two(t.getMinutes())}`];
    }, june);
    // ... and the button that has the focus keeps it
    await card.getByRole('button', { name: 'Pause' }).focus();
    await call(`/api/v1/campaigns/${made.id}`, { method: 'PATCH',
                                                 body: { send_at: june } });
    await status.filter({ hasText: `Scheduled for ${shown}` }).waitFor();
    assert.ok((await card.locator('.bulk-meta').textContent())
        .includes(`Goes ${shown}`));
    assert.equal(await page.evaluate(() => document.activeElement
        .textContent), 'Pause');

    // paused before its time, its time still moves
    await card.getByRole('button', { name: 'Pause' }).click();
    await status.filter({ hasText: /^Paused$/ }).waitFor();
    assert.deepEqual(await card.getByRole('button').allTextContents(),
                     ['Change time\u2026', 'Resume', 'Cancel']);
    await card.getByRole('button', { name: 'Resume' }).click();
    await status.filter({ hasText: `Scheduled for ${shown}` }).waitFor();

    // changed here: the dialog has its time; emptied, it goes now
    await card.getByRole('button', { name: 'Change time\u2026' }).click();
    const dialog = page.getByRole('dialog',
        { name: 'Change the time of \u201cAutumn preview\u201d' });
    const when = dialog.getByLabel('Send it at');
    assert.equal(await when.inputValue(), typed);
    await dialog.getByRole('button', { name: 'Move it' }).waitFor();
    await when.fill('');
    await dialog.getByRole('button', { name: 'Send now' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await status.filter({ hasText: /^(Sending|Done)$/ })
        .waitFor({ timeout: 15000 });
    assert.equal(await queued.textContent(), 'Queued');
    await eventually(async () => {
        const { counts } = await call(`/api/v1/campaigns/${made.id}`);
        return counts.queued + counts.sent + counts.delivered === 1;
    }, 15000, 'the campaign handed over');
});

test('a poll sent elsewhere while its draft is shown gets its Results '
     + 'button live', async () => {
    const poll = await call('/api/v1/polls', { method: 'POST', body: {
        question: 'Sent from afar?', options: ['Yes', 'No'],
        audience: { tags: ['autumn'] },
        send_at: '2099-03-01T09:00:00Z' } });
    await page.getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('link', { name: 'Polls' }).click();
    const card = cardOf('Sent from afar?');
    await card.locator('.bulk-status', { hasText: /^Draft$/ }).waitFor();
    const results = card.getByRole('button', { name: 'Results' });
    assert.equal(await results.count(), 0, 'a draft has no results');

    await page.evaluate(() => { window.notReloaded = true; });
    await call(`/api/v1/polls/${poll.id}/send`, { method: 'POST' });
    await card.locator('.bulk-status', { hasText: /^Scheduled for / })
        .waitFor();
    await results.waitFor();
    assert.ok(await page.evaluate(() => window.notReloaded));
    await results.click();
    await card.locator('.tally-total', { hasText: '0 answers from' })
        .waitFor();
    await results.click();
    await call(`/api/v1/polls/${poll.id}/cancel`, { method: 'POST' });
});

test('a poll\'s results that could not be read say so on its card until '
     + 'a read succeeds', async () => {
    const poll = await call('/api/v1/polls', { method: 'POST', body: {
        question: 'Read at last?', options: ['Yes', 'No'],
        audience: { tags: ['autumn'] },
        send_at: '2099-04-01T09:00:00Z' } });
    await call(`/api/v1/polls/${poll.id}/send`, { method: 'POST' });
    await page.getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('link', { name: 'Polls' }).click();
    const card = cardOf('Read at last?');
    const results = card.getByRole('button', { name: 'Results' });
    const error = card.locator('.bulk-error');
    // the first read of its results fails, the next ones go through
    let failed = 0;
    const read = (url) => url.pathname === `/api/v1/polls/${poll.id}`;
    await page.route(read, (route) => {
        if (failed > 0 || route.request().method() !== 'GET') {
            return route.fallback();
        }
        failed += 1;
        return answerUnavailable(route, 'The store is busy; try again.');
    });
    try {
        await results.click();
        await error.filter({ hasText: 'Could not read the results: The '
            + 'store is busy; try again.' }).waitFor();
        // closed and opened again: read, and the failure goes
        await results.click();
        await results.click();
        await card.locator('.tally-total', { hasText: '0 answers from' })
            .waitFor();
        await page.waitForFunction((id) => document.querySelector(
            `#polls-list .bulk-item[data-id="${id}"] .bulk-error`)
            .textContent === '', poll.id);
        assert.equal(failed, 1);
    } finally {
        await page.unroute(read);
    }
    await results.click();
    await call(`/api/v1/polls/${poll.id}/cancel`, { method: 'POST' });
});

test('a send time is the browser\'s, and the form, the confirmation and '
     + 'the card name its zone, here not the organization\'s: what is '
     + 'stored is that absolute time',
     async () => {
    // the organization is on UTC; this browser in Paris (UTC+2 in June)
    const paris = await web.newPage({ width: 1200, height: 800 },
                                    { timezoneId: 'Europe/Paris' });
    try {
        await signIn(paris, ctx.cluster, USER);
        await paris.getByRole('link', { name: 'Campaigns' }).click();
        await paris.getByRole('button', { name: 'New campaign' }).click();
        await paris.locator('#campaign-name').fill('Paris time');
        await paris.locator('#campaign-body').fill('Doors at ten');
        const form = paris.locator('#campaign-form');
        await form.getByRole('checkbox', { name: 'autumn' }).check();
        const at = form.getByRole('radio',
            { name: 'At (your time, Europe/Paris)', exact: true });
        await at.check();
        assert.equal(await form.getByLabel('Send time (your time, '
            + 'Europe/Paris)', { exact: true }).count(), 1);
        await paris.locator('#campaign-send-at').fill('2099-06-01T10:00');
        await form.getByRole('button', { name: 'Review and send' }).click();
        const dialog = paris.getByRole('dialog',
            { name: 'Schedule \u201cParis time\u201d?' });
        const goes = dialog.locator('[data-estimate="when"]');
        await goes.waitFor();
        assert.match(await goes.textContent(), new RegExp('^It goes at '
            + '.*10:00.* \\(your time, Europe/Paris\\)\\.$'));
        // what was stored is the absolute time: 10:00 in Paris
        const made = (await call('/api/v1/campaigns')).items
            .find((c) => c.name === 'Paris time');
        assert.equal(Date.parse(made.send_at),
                     Date.parse('2099-06-01T08:00:00Z'));
        await dialog.getByRole('button', { name: 'Schedule' }).click();
        await dialog.waitFor({ state: 'hidden' });
        const card = paris.locator('.bulk-item', { has: paris.locator(
            '.bulk-name', { hasText: 'Paris time' }) });
        await card.locator('.bulk-status', { hasText:
            /^Scheduled for .*10:00.* \(your time, Europe\/Paris\)$/ })
            .waitFor();
        await card.getByRole('button', { name: 'Change time\u2026' })
            .click();
        const move = paris.getByRole('dialog');
        await move.getByLabel('Send it at (your time, Europe/Paris)',
                              { exact: true }).waitFor();
        await move.getByRole('button', { name: 'Back' }).click();
        await call(`/api/v1/campaigns/${made.id}/cancel`,
                   { method: 'POST' });
    } finally {
        await paris.context().close();
    }
});

test('a card\'s focused button keeps the focus: the list read again with '
     + 'nothing of it changed leaves its buttons be, and a status changed '
     + 'elsewhere hands the focus to the same button or the card',
     async () => {
    const made = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Focus kept', body: 'Kept in focus',
        audience: { tags: ['autumn'] },
        send_at: '2099-02-01T09:00:00Z' } });
    await call(`/api/v1/campaigns/${made.id}/send`, { method: 'POST' });
    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const card = cardOf('Focus kept');
    const status = card.locator('.bulk-status');
    await status.filter({ hasText: /^Scheduled for / }).waitFor();
    await card.getByRole('button', { name: 'Pause' }).focus();
    await page.evaluate(() => {
        window.focusedPause = document.activeElement;
    });

    // a colleague's campaign, sent: its frame has the list read again
    const other = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Focus elsewhere', body: 'Not this one',
        audience: { tags: ['autumn'] },
        send_at: '2099-02-01T09:00:00Z' } });
    await call(`/api/v1/campaigns/${other.id}/send`, { method: 'POST' });
    await cardOf('Focus elsewhere').waitFor();
    assert.ok(await page.evaluate(() => document.activeElement
        === window.focusedPause), 'the same Pause, still focused');

    // paused elsewhere: Pause goes, the focus to the card's heading
    await call(`/api/v1/campaigns/${made.id}/pause`, { method: 'POST' });
    await status.filter({ hasText: /^Paused$/ }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id),
                 `campaigns-name-${made.id}`);

    // resumed elsewhere with Cancel focused: the new Cancel has it
    await card.getByRole('button', { name: 'Cancel' }).focus();
    await call(`/api/v1/campaigns/${made.id}/resume`, { method: 'POST' });
    await status.filter({ hasText: /^Scheduled for / }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement
        .closest('.bulk-item') && document.activeElement.textContent),
                 'Cancel');
    for (const id of [made.id, other.id]) {
        await call(`/api/v1/campaigns/${id}/cancel`, { method: 'POST' });
    }
});

test('a scheduled campaign that began and paused for billing offers '
     + 'Pause, not Change time, and says when it started, live; cancelled, '
     + 'when it finished, and Delete (nothing was handed over)',
     async () => {
    const made = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Winter preview', body: 'Winter is coming',
        audience: { tags: ['autumn'] }, send_at: '2099-01-01T09:00:00Z' } });
    await call(`/api/v1/campaigns/${made.id}/send`, { method: 'POST' });
    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const card = cardOf('Winter preview');
    const status = card.locator('.bulk-status');
    const meta = card.locator('.bulk-meta');
    await status.filter({ hasText: /^Scheduled for / }).waitFor();
    assert.deepEqual(await card.getByRole('button').allTextContents(),
                     ['Change time\u2026', 'Pause', 'Cancel']);

    await inboxctl(ctx.cluster.store, 'billing', 'set', org().id,
                   'inactive');
    try {
        // its time moved to now elsewhere: it begins, and the sender's
        // dispatch pauses it
        await call(`/api/v1/campaigns/${made.id}`,
                   { method: 'PATCH', body: { send_at: null } });
        await status.filter({ hasText: 'Paused: billing is inactive.' })
            .waitFor({ timeout: 15000 });
        assert.deepEqual(await card.getByRole('button').allTextContents(),
                         ['Pause', 'Resume', 'Cancel']);
        assert.match(await meta.textContent(), / · Started [^·]+$/);
        assert.ok((await call(`/api/v1/campaigns/${made.id}`)).started_at);
    } finally {
        await inboxctl(ctx.cluster.store, 'billing', 'set', org().id,
                       'active');
    }
    await card.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Cancel it' }).click();
    await status.filter({ hasText: /^Cancelled$/ }).waitFor();
    assert.match(await meta.textContent(),
                 / · Started [^·]+ · Cancelled [^·]+$/);
    // begun, but paused before any message was handed over: nobody got
    // it, so it can go
    assert.deepEqual(await card.getByRole('button').allTextContents(),
                     ['Delete']);
});

test('a scheduled campaign cancelled before its time says when it was to '
     + 'go and when it was cancelled, not that it goes then or finished',
     async () => {
    const made = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Spring preview', body: 'Spring is coming',
        audience: { tags: ['autumn'] }, send_at: '2099-03-01T09:00:00Z' } });
    await call(`/api/v1/campaigns/${made.id}/send`, { method: 'POST' });
    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const card = cardOf('Spring preview');
    const status = card.locator('.bulk-status');
    const meta = card.locator('.bulk-meta');
    await status.filter({ hasText: /^Scheduled for / }).waitFor();
    assert.match(await meta.textContent(), / · Goes [^·]+$/);

    await card.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Cancel it' }).click();
    await status.filter({ hasText: /^Cancelled$/ }).waitFor();
    assert.match(await meta.textContent(),
                 / · Was to go [^·]+ · Cancelled [^·]+$/);
    // the same once read again
    await page.reload();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await status.filter({ hasText: /^Cancelled$/ }).waitFor();
    assert.match(await meta.textContent(),
                 / · Was to go [^·]+ · Cancelled [^·]+$/);
});

test('progress frames lost on the way (the page sees the gap they leave) '
     + 'read the Campaigns list and the open poll\'s results again',
     async () => {
    const phone = uniqueNumber();
    await call('/api/v1/contacts', { method: 'POST',
        body: { phone, name: 'Gus Gap', tags: ['gap'] } });
    const poll = await call('/api/v1/polls', { method: 'POST', body: {
        question: 'Gap day?', options: ['Yes', 'No'],
        audience: { tags: ['gap'] } } });
    await call(`/api/v1/polls/${poll.id}/send`, { method: 'POST' });
    const sale = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Gap sale', body: 'Half off', audience: { tags: ['gap'] } } });
    for (let i = 0; i < 200; i++) {
        const now = await call(`/api/v1/polls/${poll.id}`);
        if (now.status === 'done' && now.counts.delivered === 1) {
            break;
        }
        await new Promise((r) => setTimeout(r, 100));
    }

    // a page whose socket loses these campaigns' progress frames
    const lost = new Set();
    let dropped = 0;
    const gappy = await web.newPage({ width: 1200, height: 800 });
    await gappy.routeWebSocket(/\/ws/, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((m) => {
            let f = null;
            try { f = JSON.parse(m); } catch { /* not JSON */ }
            if (f && f.type === 'campaign.progress' && lost.has(f.id)) {
                dropped += 1;
                return;
            }
            ws.send(m);
        });
    });
    await signIn(gappy, ctx.cluster, USER);
    await gappy.locator('#conn[data-state="live"]').waitFor();
    // frames after the lost ones show the page its gap
    const another = () => deliverInbound(ctx.cluster,
        { from: uniqueNumber(), body: 'after the gap' });

    await gappy.getByRole('link', { name: 'Campaigns' }).click();
    const card = gappy.locator('.bulk-item', {
        has: gappy.locator('.bulk-name', { hasText: 'Gap sale' }) });
    await card.locator('.bulk-status', { hasText: 'Draft' }).waitFor();
    lost.add(sale.id);
    await call(`/api/v1/campaigns/${sale.id}/send`, { method: 'POST' });
    for (let i = 0; i < 200; i++) {
        const now = await call(`/api/v1/campaigns/${sale.id}`);
        if (now.status === 'done' && now.counts.delivered === 1) {
            break;
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(dropped > 0, 'no progress frame was lost');
    await another();
    // a list read while the sale was done but not yet delivered (another
    // gap) may show Done first: the read after this gap brings delivered
    await card.locator('.bulk-status', { hasText: 'Done' }).waitFor();
    await card.locator('.bulk-count[data-count="delivered"] dd',
        { hasText: /^1$/ }).waitFor();

    await gappy.getByRole('link', { name: 'Polls' }).click();
    const pollCard = gappy.locator('.bulk-item', {
        has: gappy.locator('.bulk-name', { hasText: 'Gap day?' }) });
    await pollCard.getByRole('button', { name: 'Results' }).click();
    await pollCard.getByText('No answers yet.').waitFor();
    lost.add(poll.id);
    dropped = 0;
    await deliverInbound(ctx.cluster, { from: phone, body: 'yes' });
    for (let i = 0; i < 100 && dropped === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(dropped > 0, 'the answer\'s progress frame was not lost');
    await another();
    await pollCard.locator('.tally-row[data-option="1"] .tally-count',
        { hasText: '1 (100%)' }).waitFor();
    await gappy.context().close();
});

test('a gap seen while the Campaigns list is being read has it read again '
     + 'once that answer (from before the gap) is in', async () => {
    const phone = uniqueNumber();
    await call('/api/v1/contacts', { method: 'POST',
        body: { phone, name: 'Hal Held', tags: ['held'] } });
    const held = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Held sale', body: 'Held off', audience: { tags: ['held'] } } });

    const slow = await web.newPage({ width: 1200, height: 800 });
    let dropping = false;
    await slow.routeWebSocket(/\/ws/, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((m) => {
            let f = null;
            try { f = JSON.parse(m); } catch { /* not JSON */ }
            if (dropping && f && f.type === 'campaign.progress'
                && f.id === held.id)
            {
                return;
            }
            ws.send(m);
        });
    });
    await signIn(slow, ctx.cluster, USER);
    await slow.locator('#conn[data-state="live"]').waitFor();
    await slow.evaluate(() => {
        window.resyncs = 0;
        window.inboxApp.on('resync', () => { window.resyncs += 1; });
    });

    // the view's first read of the list is answered (as a draft) and
    // held back until the campaign is done and the page saw the gap
    let release;
    const released = new Promise((r) => { release = r; });
    let answered;
    const asked = new Promise((r) => { answered = r; });
    await slow.route(/\/api\/v1\/campaigns\?/, async (route) => {
        const res = await route.fetch();
        answered();
        await released;
        await route.fulfill({ response: res });
    }, { times: 1 });
    await slow.getByRole('link', { name: 'Campaigns' }).click();
    await asked;

    dropping = true;
    await call(`/api/v1/campaigns/${held.id}/send`, { method: 'POST' });
    for (let i = 0; i < 200; i++) {
        const now = await call(`/api/v1/campaigns/${held.id}`);
        if (now.status === 'done' && now.counts.delivered === 1) {
            break;
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    await deliverInbound(ctx.cluster,
        { from: uniqueNumber(), body: 'after the held gap' });
    await slow.waitForFunction(() => window.resyncs > 0);
    release();

    const card = slow.locator('.bulk-item', {
        has: slow.locator('.bulk-name', { hasText: 'Held sale' }) });
    await card.locator('.bulk-status', { hasText: 'Done' }).waitFor();
    assert.equal(await card.locator('.bulk-count[data-count="delivered"] dd')
        .textContent(), '1');
    // its one message, delivered, is counted there alone: the count of
    // those still waiting for the carrier's report does not read as
    // "Sent 0", nothing sent
    assert.equal(await card.locator('.bulk-count[data-count="sent"] dt')
        .textContent(), 'Sent, no report yet');
    assert.equal(await card.locator('.bulk-count[data-count="sent"] dd')
        .textContent(), '0');
    await slow.context().close();
});

test('a draft\'s card says how many its audience holds now, as an '
     + 'estimate, where "Recipients 0" read as nobody; drafts of one '
     + 'audience ask once, a card drawn again asks nothing, and a contact '
     + 'joining the audience moves the figure', async () => {
    const tag = 'draftee';
    for (const name of ['Dee One', 'Dee Two', 'Dee Out']) {
        const c = await call('/api/v1/contacts', { method: 'POST',
            body: { phone: uniqueNumber(), name, tags: [tag] } });
        if (name === 'Dee Out') {
            await call(`/api/v1/conversations/${c.conversation_id}`
                       + '/opt-out', { method: 'POST' });
        }
    }
    // the same audience twice (a tag matched in any case)
    const a = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Draft for Dees', body: 'Hello Dees',
        audience: { tags: [tag] } } });
    const b = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Another for Dees', body: 'Hello again',
        audience: { tags: ['DRAFTEE'] } } });

    await page.reload();
    const estimates = watchRequests(new RegExp(
        `^/api/v1/campaigns/(${a.id}|${b.id})/estimate$`));
    try {
        await page.getByRole('link', { name: 'Campaigns' }).click();
        const now = (n) => `About ${n} recipients now (1 opted out, not `
            + 'sent): its recipients are counted when it is sent.';
        await cardOf('Draft for Dees').locator('.bulk-reach',
            { hasText: now(2) }).waitFor();
        await cardOf('Another for Dees').locator('.bulk-reach',
            { hasText: now(2) }).waitFor();
        // no count that says nobody: the send fixes them
        assert.equal(await cardOf('Draft for Dees').locator('.bulk-counts')
            .isVisible(), false);
        // the frames of the contacts made above, which a new page may
        // resume, read the figure again once: let them settle
        await page.waitForTimeout(1500);
        assert.equal(new Set(estimates.seen).size, 1, 'the two cards of '
                     + 'one audience asked apart: '
                     + JSON.stringify(estimates.seen));
        const first = estimates.seen.length;
        // the Send dialog says the same
        await cardOf('Draft for Dees').getByRole('button', { name: 'Send…' })
            .click();
        const dialog = page.getByRole('dialog',
            { name: 'Send “Draft for Dees”?' });
        await dialog.locator('[data-estimate="suppressed"]', { hasText:
            '1 contact is opted out and will not get it; 2 contacts get '
            + 'it.' }).waitFor();
        await dialog.getByRole('button', { name: 'Back' }).click();
        await dialog.waitFor({ state: 'hidden' });
        const asked = estimates.seen.length;
        assert.equal(asked, first + 1, 'the dialog reads its own: '
                     + JSON.stringify(estimates.seen));

        // drawn again: a colleague's edit, the view shown again
        await call(`/api/v1/campaigns/${a.id}`, { method: 'PATCH',
            body: { name: 'Draft for the Dees' } });
        await cardOf('Draft for the Dees').locator('.bulk-reach',
            { hasText: now(2) }).waitFor();
        await page.getByRole('link', { name: 'Polls' }).click();
        const read = page.waitForResponse((r) => new URL(r.url()).pathname
            === '/api/v1/campaigns');
        await page.getByRole('link', { name: 'Campaigns' }).click();
        await read;
        await cardOf('Draft for the Dees').locator('.bulk-reach',
            { hasText: now(2) }).waitFor();
        assert.equal(estimates.seen.length, asked, 'a card drawn again '
                     + 'asked: ' + JSON.stringify(estimates.seen));

        // a contact joins the audience: read again, once
        await call('/api/v1/contacts', { method: 'POST',
            body: { phone: uniqueNumber(), name: 'Dee Three',
                    tags: [tag] } });
        await cardOf('Draft for the Dees').locator('.bulk-reach',
            { hasText: now(3) }).waitFor();
        await cardOf('Another for Dees').locator('.bulk-reach',
            { hasText: now(3) }).waitFor();
        assert.equal(estimates.seen.length, asked + 1,
                     JSON.stringify(estimates.seen));
    } finally {
        estimates.stop();
        for (const d of [a, b]) {
            await call(`/api/v1/campaigns/${d.id}`, { method: 'DELETE' });
        }
    }
});

test('a draft\'s audience whose figure could not be read is read again '
     + 'once the connection is back after a reconnect, that one alone',
     async () => {
    // no reload and no contact made: neither reads the figures again
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const fine = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Autumn draft', body: 'Leaves falling',
        audience: { tags: ['autumn'] } } });
    const reachOf = (name, text) => cardOf(name).locator('.bulk-reach',
        { hasText: text });
    const figure = /^About \d+ recipients? now/;
    await reachOf('Autumn draft', figure).waitFor();
    // every other draft's figure refused (the store busy), until the
    // connection goes
    let refusing = true;
    const route = '**/api/v1/campaigns/*/estimate';
    await page.route(route, (route) => (refusing && !route.request().url()
        .includes(`/campaigns/${fine.id}/`)
        ? answerUnavailable(route, 'The store is busy; try again.')
        : route.continue()));
    let failing = null;
    const estimates = { seen: [], stop: () => {} };
    try {
        failing = await call('/api/v1/campaigns', { method: 'POST', body: {
            name: 'Ferry draft', body: 'Boarding soon',
            audience: { tags: ['poll', 'autumn'] } } });
        await reachOf('Ferry draft', new RegExp('^Its recipients are '
            + 'counted when it is sent\\.$')).waitFor();
        refusing = false;
        Object.assign(estimates, watchRequests(new RegExp(
            `^/api/v1/campaigns/(${failing.id}|${fine.id})/estimate$`)));

        await goOffline(page);
        await backOnline(page);
        await reachOf('Ferry draft', figure).waitFor().catch(async () => {
            throw new Error('after the reconnect it still says "'
                + await cardOf('Ferry draft').locator('.bulk-reach')
                    .textContent() + '"');
        });
        // the failed one read again, once; the one read, not again
        assert.deepEqual(estimates.seen,
                         [`/api/v1/campaigns/${failing.id}/estimate`]);
        await reachOf('Autumn draft', figure).waitFor();
    } finally {
        estimates.stop();
        await page.unroute(route);
        for (const d of [failing, fine]) {
            if (d) {
                await call(`/api/v1/campaigns/${d.id}`, { method: 'DELETE' });
            }
        }
    }
});

test('a card writes its times as a thread does (the clock time today, '
     + 'another year\'s with its year, the full date and time its title), '
     + 'and past midnight says the day of yesterday\'s, without a reload',
     async () => {
    const draft = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Night draft', body: 'Open late tonight',
        audience: { tags: ['autumn'] } } });
    const ahead = await call('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Far ahead', body: 'See you in 2099',
        audience: { tags: ['autumn'] }, send_at: '2099-06-01T09:00:00Z' } });
    await call(`/api/v1/campaigns/${ahead.id}/send`, { method: 'POST' });
    // the page's clock at 23:59 UTC of the day the draft was made (or
    // just after it): its midnight a minute or two away
    const made = Date.parse(draft.created_at);
    const day = new Date(made);
    const night = await web.newPage({ width: 1200, height: 800 },
                                    { timezoneId: 'UTC', locale: 'en-US' });
    try {
        await night.clock.install({ time: Math.max(made + 1000, Date.UTC(
            day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(),
            23, 59)) });
        await signIn(night, ctx.cluster, USER);
        await night.getByRole('link', { name: 'Campaigns' }).click();
        const cardAt = (name) => night.locator('.bulk-item', {
            has: night.locator('.bulk-name', { hasText: name }) });
        const meta = cardAt('Night draft').locator('.bulk-meta');
        await meta.filter({ hasText: ' · Created ' }).waitFor();
        assert.match(await meta.textContent(),
                     / · Created \d{1,2}:\d{2} [AP]M$/);
        const time = meta.locator('time');
        assert.equal(await time.getAttribute('datetime'), draft.created_at);
        assert.match(await time.getAttribute('title'),
            /^\d{1,2}\/\d{1,2}\/\d{4}, \d{1,2}:\d{2}:\d{2} [AP]M$/);
        // another year's time says its year, in the status and the line
        const status = cardAt('Far ahead').locator('.bulk-status');
        await status.filter({ hasText: /^Scheduled for / }).waitFor();
        assert.match(await status.textContent(), new RegExp('^Scheduled '
            + 'for Jun 1, 2099, 9:00 AM \\(your time, [^)]+\\)$'));
        assert.match(await cardAt('Far ahead').locator('.bulk-meta')
            .textContent(), / · Goes Jun 1, 2099, 9:00 AM$/);

        await night.clock.runFor(2 * 60 * 1000);
        assert.match(await meta.textContent(), new RegExp(' · Created '
            + '[A-Z][a-z]{2} \\d{1,2}, \\d{1,2}:\\d{2} [AP]M$'));
    } finally {
        await night.context().close();
        await call(`/api/v1/campaigns/${draft.id}`, { method: 'DELETE' });
        await call(`/api/v1/campaigns/${ahead.id}/cancel`,
                   { method: 'POST' });
        await call(`/api/v1/campaigns/${ahead.id}`, { method: 'DELETE' });
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
