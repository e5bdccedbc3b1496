// A poll's answers past the first hundred, in Debian's Chromium: the
// results list the newest hundred, and "Show more answers" a hundred more
// each time (the API's next page after them), keeping the focus, until
// every answer is shown.  A new answer meanwhile redraws the list with as
// many shown, the older ones read before kept.  A thread names the poll
// that sent its message, read on the polls' path at once (the message's
// campaign_kind), never first on the campaigns' one, which answered 404.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, openThread, signIn, useBrowser }
    from '../lib/browser.mjs';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually, importTagged, quietHoursAway }
    from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Poll Answers Org' }],
                         sender: true, senderVerbose: false,
                         carrierSim: true });
const USER = { email: 'pia@answers.example', password: 'pia counts them' };
const PEOPLE = 230;
const phones = Array.from({ length: PEOPLE }, () => uniqueNumber());
const web = useBrowser();
let poll;

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org.id,
                   String(PEOPLE + 10));
    await inboxctl(cluster.store, 'settings', 'set', org.id, '--timezone',
                   'UTC', '--quiet-hours', quietHoursAway());
    await importTagged(cluster, org.token, phones, 'panel');
    const made = await api(cluster, '/api/v1/polls', org.token, {
        method: 'POST', body: { question: 'Tea or coffee?',
            options: ['Tea', 'Coffee'], audience: { tags: ['panel'] } } });
    assert.equal(made.status, 201, made.text);
    poll = made.json;
    const sent = await api(cluster, `/api/v1/polls/${poll.id}/send`,
        org.token, { method: 'POST' });
    assert.ok(sent.status < 300, sent.text);
    await eventually(async () => {
        const p = await api(cluster, `/api/v1/polls/${poll.id}`, org.token);
        return p.json.counts.sent + p.json.counts.delivered >= PEOPLE
            || p.json.status === 'done';
    }, 60000, 'the poll sent to everyone');
    for (let i = 0; i < PEOPLE; i++) {
        await deliverInbound(cluster, { from: phones[i],
            body: i % 3 === 0 ? 'Coffee' : '1' });
    }
    await web.launch();
});

test('a thread names the poll its message was sent for, asking the polls\' '
     + 'path at once: no request of the page answers 404', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    const missed = [];
    page.on('response', (res) => {
        if (res.status() === 404) {
            missed.push(res.url());
        }
    });
    try {
        await signIn(page, ctx.cluster, USER);
        await openThread(page, `Person ${PEOPLE - 1}`);
        await page.locator('#messages .message.outbound .author',
            { hasText: 'Poll \u201cTea or coffee?\u201d' }).waitFor();
        assert.deepEqual(missed, []);
    } finally {
        await page.context().close();
    }
});

test('the newest hundred answers, then a hundred more at each "Show more '
     + 'answers", which keeps the focus; the last page hands it to the '
     + 'last answer', async () => {
    const page = await web.newPage({ width: 1200, height: 800 });
    try {
        await signIn(page, ctx.cluster, USER);
        await page.getByRole('link', { name: 'Polls' }).click();
        const card = page.locator('.bulk-item', {
            has: page.locator('.bulk-name', { hasText: 'Tea or coffee?' }) });
        await card.getByRole('button', { name: 'Results' }).click();
        const responses = card.locator('.response');
        await card.locator('.tally-total',
            { hasText: `${PEOPLE} answers` }).waitFor();
        assert.equal(await responses.count(), 100);
        // the newest first: the last answer sent is the first shown
        assert.equal(await responses.first().locator('.response-who')
            .textContent(), `Person ${PEOPLE - 1}`);

        const more = card.getByRole('button', { name: /^Show more answers/ });
        assert.equal(await more.textContent(),
                     `Show more answers (${PEOPLE - 100} more)`);
        // the next hundred are the page after the first, read then
        const pages = [];
        page.on('request', (req) => {
            if (req.url().includes(`/api/v1/polls/${poll.id}/responses`)) {
                pages.push(new URL(req.url()).searchParams.get('cursor'));
            }
        });
        await more.focus();
        await page.keyboard.press('Enter');
        await card.locator('.response').nth(199).waitFor();
        assert.equal(pages.length, 1);
        assert.ok(pages[0], 'after the first page\'s cursor');
        assert.equal(await responses.count(), 200);
        assert.equal(await page.evaluate(() => document.activeElement
            .textContent), `Show more answers (${PEOPLE - 200} more)`);

        // a new answer redraws the results, as many shown, the focus kept
        await deliverInbound(ctx.cluster, { from: phones[0], body: 'Tea' });
        await card.locator('.response').first()
            .locator('.response-who', { hasText: 'Person 0' }).waitFor();
        assert.equal(await responses.count(), 200);
        assert.equal(await page.evaluate(() => document.activeElement
            .classList.contains('responses-more')), true);

        await page.keyboard.press('Enter');
        await card.locator('.response').nth(PEOPLE - 1).waitFor();
        assert.equal(await responses.count(), PEOPLE);
        assert.equal(await more.count(), 0);
        assert.equal(await page.evaluate(() => document.activeElement
            .classList.contains('response')), true);
        assert.equal(await card.locator('.responses + .bulk-meta').count(),
                     0, 'every answer is listed');
    } finally {
        await page.context().close();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
