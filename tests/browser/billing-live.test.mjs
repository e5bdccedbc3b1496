// The header's balance and a billing refusal under the reply box follow
// billing as it is, in Debian's Chromium: a send refused while billing
// is inactive says so in the header and under the reply box; once it is
// active again, Settings' read of it clears "Billing inactive" from the
// header at once, and back in the Inbox the refusal is gone; a change
// made while another view was shown is read on coming back.  A change
// made by inboxctl while the page stays where it is (a grant, billing
// made active or inactive) shows at once from its billing.updated frame:
// the header, the refusal under the reply box gone with the draft kept
// or saying what stops the send now (billing inactive over a short
// balance, then the balance again), and in
// Settings the billing card and the ledger's new entry, also when its
// frame was missed (a reset reads them again).  The ledger
// names whom each message's entry was for, a link that opens its
// thread, the campaign or poll that sent it (its API entry too), and
// why a message's credits came back (a failure, or its
// campaign's pause while it waited to be sent); a message's credits
// held and spent while Settings is shown show there at once (its
// message.status).  A reply that failed because billing went inactive
// before it went says in the thread, as the reply box does, what its
// reader can do: a member whom to ask, a billing contact what to do.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { noPageErrorsTest, openThread, rowOf, signIn, useBrowser }
         from '../lib/browser.mjs';
import { inboxctl, sqlite3Path } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually, postWebhook, quietHoursAway,
         storeOp } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Lapsed Cafe' },
                                { name: 'Broke Bistro' }] });
const USER = { email: 'lee@lapsed.example', password: 'lee pays again' };
const BROKE = { email: 'bo@broke.example', password: 'bo has no credits' };
const PAYER = { email: 'pia@lapsed.example', password: 'pia pays the bills' };
const FROM = '+14155550142';
const BROKE_FROM = '+14155550143';
const web = useBrowser();
let page, brokePage;

/* what the reply box tells a billing contact while billing is
 * inactive (the server's refusal, for any client, says "contact your
 * billing admin", and the billing contact is that admin) */
const BILLING_CONTACT_SAYS = 'Billing is inactive, so nothing can be sent; '
    + 'as a billing contact, ask whoever runs the inbox to make it active '
    + 'again (Settings \u2192 Billing shows when it is).';

const org = () => ctx.cluster.orgs[0];
const brokeOrg = () => ctx.cluster.orgs[1];

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

    /* a billing contact of an organization with no credits at all,
     * whose campaigns go at once whatever the hour the test runs at */
    await inboxctl(cluster.store, 'settings', 'set', brokeOrg().id,
                   '--timezone', 'UTC', '--quiet-hours', quietHoursAway(2));
    await addUser(cluster, brokeOrg(), BROKE.email, BROKE.password,
                  'billing');
    await deliverInbound(cluster, { org: brokeOrg(), from: BROKE_FROM,
                                    body: 'Table for two tonight?' });
    brokePage = await web.newPage();
    await signIn(brokePage, cluster, BROKE);
    await rowOf(brokePage, '(415) 555-0143').waitFor();
    await brokePage.locator('#balance-count', { hasText: '0' }).waitFor();
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
    /* a member is told whom to ask, and where to find them */
    assert.equal(await error.textContent(), 'Billing is inactive, so '
        + 'nothing can be sent; contact your billing admin (Settings '
        + '\u2192 Team lists who).');
    assert.equal(await page.locator('#balance').getAttribute('title'),
        'Nothing can be sent until billing is active again; contact '
        + 'your billing admin (Settings \u2192 Team lists who).');

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

test('billing made active while the refusal shows: the header and the '
     + 'reply box take it in at once, where the page is', async () => {
    await inboxctl(ctx.cluster.store, 'billing', 'set', org().id,
        'inactive');
    await page.getByRole('link', { name: 'Inbox' }).click();
    await openThread(page, '(415) 555-0142');
    await page.locator('#composer-text').fill('See you at 6');
    await page.locator('#composer-text').press('Enter');
    await page.waitForFunction(() => /inactive/i.test(
        document.getElementById('composer-error').textContent));
    await page.locator('#balance.inactive').waitFor();

    /* no view shown again, no tab hidden, no send: the frame alone */
    await inboxctl(ctx.cluster.store, 'billing', 'set', org().id, 'active');
    await page.locator('#balance:not(.inactive)').waitFor();
    await page.waitForFunction(() =>
        document.getElementById('composer-error').textContent === '');
    assert.match(await page.locator('#balance').textContent(),
        /Credits:\s*10/);
    assert.equal(await page.locator('#composer-text').inputValue(),
        'See you at 6');
});

test('billing made inactive while the reply box says the balance is '
     + 'short: the box says billing stops the send, and the credits again '
     + 'once billing is active with the balance still short', async () => {
    await openThread(brokePage, '(415) 555-0143');
    await brokePage.locator('#composer-text').fill('Is 8pm free?');
    await brokePage.locator('#composer-text').press('Enter');
    const error = () => brokePage.locator('#composer-error').textContent();
    await brokePage.waitForFunction(() => /credit/i.test(
        document.getElementById('composer-error').textContent));
    const short = await error();

    await inboxctl(ctx.cluster.store, 'billing', 'set', brokeOrg().id,
        'inactive');
    try {
        await brokePage.locator('#balance.inactive').waitFor();
        await brokePage.waitForFunction(() => /inactive/i.test(
            document.getElementById('composer-error').textContent));
        /* the billing contact is told what they can do, and where */
        assert.equal(await brokePage.locator('#balance')
            .getAttribute('title'), 'Nothing can be sent until billing is '
            + 'active again; as a billing contact, ask whoever runs the '
            + 'inbox to make it active again (Settings \u2192 Billing shows '
            + 'when it is).');
        assert.equal(await error(), BILLING_CONTACT_SAYS);
        /* what a send says now is what the box said */
        const refused = brokePage.waitForResponse((r) =>
            r.request().method() === 'POST'
            && /\/messages$/.test(r.url()));
        await brokePage.locator('#composer-text').press('Enter');
        assert.equal((await refused).status(), 403);
        await brokePage.waitForTimeout(200);
        assert.equal(await error(), BILLING_CONTACT_SAYS);
    } finally {
        await inboxctl(ctx.cluster.store, 'billing', 'set', brokeOrg().id,
            'active');
    }
    await brokePage.locator('#balance:not(.inactive)').waitFor();
    await brokePage.waitForFunction((was) => document.getElementById(
        'composer-error').textContent === was, short);
    assert.equal(await brokePage.locator('#composer-text').inputValue(),
        'Is 8pm free?');
});

test('a grant while the reply box says the balance is short: the header '
     + 'counts it and the refusal goes, with the draft kept', async () => {
    await openThread(brokePage, '(415) 555-0143');
    await brokePage.locator('#composer-text').fill('Yes, 7pm works');
    await brokePage.locator('#composer-text').press('Enter');
    await brokePage.waitForFunction(() => /credit/i.test(
        document.getElementById('composer-error').textContent));
    await brokePage.locator('#balance.low').waitFor();

    await inboxctl(ctx.cluster.store, 'credits', 'grant', brokeOrg().id,
        '5');
    await brokePage.locator('#balance-count', { hasText: '5' }).waitFor();
    await brokePage.waitForFunction(() =>
        document.getElementById('composer-error').textContent === '');
    assert.equal(await brokePage.locator('#balance.low').count(), 0);
    assert.equal(await brokePage.locator('#composer-text').inputValue(),
        'Yes, 7pm works');

    /* the other organization's header did not move */
    assert.match(await page.locator('#balance').textContent(),
        /Credits:\s*10/);
});

test('a grant while Settings is shown: the billing card and the ledger '
     + 'show it at once', async () => {
    await brokePage.getByRole('link', { name: 'Settings' }).click();
    await brokePage.locator('[data-billing="balance"]', { hasText: '5' })
        .waitFor();
    const grants = brokePage.locator('#ledger-rows tr[data-kind="grant"]');
    await grants.first().waitFor();
    assert.equal(await grants.count(), 1);

    await inboxctl(ctx.cluster.store, 'credits', 'grant', brokeOrg().id,
        '3');
    await brokePage.locator('[data-billing="balance"]', { hasText: '8' })
        .waitFor();
    await brokePage.waitForFunction(() => document.querySelectorAll(
        '#ledger-rows tr[data-kind="grant"]').length === 2);
    assert.match(await brokePage.locator('#balance').textContent(),
        /Credits:\s*8/);
});

test('a grant whose frame was missed (live updates down longer than the '
     + 'server keeps them) shows in Settings after the reset', async () => {
    const cluster = ctx.cluster;
    await brokePage.locator('[data-billing="balance"]', { hasText: '8' })
        .waitFor();
    await cluster.stopWs();
    try {
        await brokePage.locator('#conn[data-state="reconnecting"]')
            .waitFor();
        await inboxctl(cluster.store, 'credits', 'grant', brokeOrg().id,
                       '4');
        // the grant's event is gone: the page's resume gets a reset
        await promisify(execFile)(sqlite3Path, ['-cmd', '.timeout 5000',
            cluster.storePath,
            `DELETE FROM events WHERE org_id = ${brokeOrg().id}`]);
    } finally {
        await cluster.startWs();
    }
    await brokePage.locator('#conn[data-state="live"]')
        .waitFor({ timeout: 30000 });
    await brokePage.locator('[data-billing="balance"]', { hasText: '12' })
        .waitFor();
    await brokePage.waitForFunction(() => document.querySelectorAll(
        '#ledger-rows tr[data-kind="grant"]').length === 3);
    assert.match(await brokePage.locator('#balance').textContent(),
        /Credits:\s*12/);
});

test('the ledger names the contact each message was for, a link to its '
     + 'thread, and why its credits came back', async () => {
    const cluster = ctx.cluster;
    const token = brokeOrg().token;
    const list = await api(cluster, '/api/v1/conversations', token);
    const conv = list.json.items.find(
        (c) => c.contact.phone === BROKE_FROM);
    const named = await api(cluster, `/api/v1/contacts/${conv.contact.id}`,
        token, { method: 'PATCH', body: { name: 'Dana Ruiz' } });
    assert.equal(named.status, 200, named.text);

    /* a reply the carrier took, then could not deliver: held, then
     * given back */
    const sid = 'SM' + 'e'.repeat(32);
    await storeOp(cluster, 'reply-sent', brokeOrg().id, conv.id,
        'Your table is ready', sid);
    const res = await postWebhook(cluster, [
        ['SmsSid', sid], ['SmsStatus', 'undelivered'],
        ['MessageStatus', 'undelivered'], ['ErrorCode', '30003'],
        ['To', BROKE_FROM], ['MessageSid', sid],
        ['AccountSid', brokeOrg().accountSid], ['From', brokeOrg().number],
        ['ApiVersion', '2010-04-01'],
    ], { authToken: brokeOrg().authToken, path: '/webhooks/twilio/status' });
    assert.equal(res.status, 200, res.text);

    /* Settings read again on being shown */
    await brokePage.getByRole('link', { name: 'Inbox' }).click();
    await brokePage.getByRole('link', { name: 'Settings' }).click();
    const what = (kind) => brokePage.locator(
        `#ledger-rows tr[data-kind="${kind}"] td:nth-child(2)`);
    await what('release').waitFor();
    assert.equal(await what('hold').textContent(),
        'Held for a message to Dana Ruiz');
    assert.equal(await what('release').textContent(),
        'Given back for a message to Dana Ruiz: the phone could not be '
        + 'reached (switched off or out of coverage)');
    assert.equal(await what('grant').first().textContent(),
        'Credits added');

    await what('release').getByRole('link', { name: 'Dana Ruiz' }).click();
    await brokePage.locator('#thread-title', { hasText: 'Dana Ruiz' })
        .waitFor();
    assert.equal(await brokePage.locator('#settings-view').isVisible(),
        false);
});

test('a reply delivered while Settings is shown: the billing card and the '
     + 'ledger show its credits held and spent, with no other view between',
async () => {
    const cluster = ctx.cluster;
    const token = brokeOrg().token;
    await brokePage.getByRole('link', { name: 'Settings' }).click();
    await brokePage.locator('[data-billing="balance"]', { hasText: '12' })
        .waitFor();
    const captures = brokePage.locator(
        '#ledger-rows tr[data-kind="capture"]');
    assert.equal(await captures.count(), 0);

    const list = await api(cluster, '/api/v1/conversations', token);
    const conv = list.json.items.find(
        (c) => c.contact.phone === BROKE_FROM);
    const sid = 'SM' + 'f'.repeat(32);
    await storeOp(cluster, 'reply-sent', brokeOrg().id, conv.id,
        'See you at eight', sid);
    const res = await postWebhook(cluster, [
        ['SmsSid', sid], ['SmsStatus', 'delivered'],
        ['MessageStatus', 'delivered'], ['To', BROKE_FROM],
        ['MessageSid', sid], ['AccountSid', brokeOrg().accountSid],
        ['From', brokeOrg().number], ['ApiVersion', '2010-04-01'],
    ], { authToken: brokeOrg().authToken, path: '/webhooks/twilio/status' });
    assert.equal(res.status, 200, res.text);

    /* its message.status, and nothing else, tells the page */
    await captures.first().waitFor();
    assert.equal(await captures.first().locator('td:nth-child(2)')
        .textContent(), 'Spent what was held for a message to Dana Ruiz');
    await brokePage.locator('[data-billing="balance"]', { hasText: '11' })
        .waitFor();
    assert.equal(await brokePage.locator('[data-billing="held"]')
        .textContent(), '0');
    assert.match(await brokePage.locator('#balance').textContent(),
        /Credits:\s*11/);
});

test('a campaign paused with its message waiting gives its credit back, '
     + 'and the ledger says so: the pause, not a failure', async () => {
    const cluster = ctx.cluster;
    const id = brokeOrg().id;
    const c = await storeOp(cluster, 'campaign-create', id, 'Tonight',
                            'Tables free tonight', '');
    await storeOp(cluster, 'campaign-act', id, c.id, 'send');
    const d = await storeOp(cluster, 'campaign-dispatch',
                            String(Date.now()), '10', 'http://localhost');
    assert.equal(d.handed, 1);
    const paused = await storeOp(cluster, 'campaign-act', id, c.id,
                                 'pause');
    assert.equal(paused.status, 'paused');

    await brokePage.getByRole('link', { name: 'Inbox' }).click();
    await brokePage.getByRole('link', { name: 'Settings' }).click();
    const newest = brokePage.locator(
        '#ledger-rows tr:first-child td:nth-child(2)');
    await brokePage.locator('#ledger-rows tr:first-child[data-kind="release"]')
        .waitFor();
    assert.equal(await newest.textContent(),
        'Given back for a message from Campaign \u201cTonight\u201d to '
        + 'Dana Ruiz: its campaign was paused; held again when it goes');
    assert.equal(await brokePage.locator('[data-billing="held"]')
        .textContent(), '0');
});

test('the ledger names the campaign or poll each message\'s credits went '
     + 'to, a reply\'s none', async () => {
    const cluster = ctx.cluster;
    const token = brokeOrg().token;
    const poll = await api(cluster, '/api/v1/polls', token, {
        method: 'POST', body: { question: 'Lunch?', options: ['Yes', 'No'],
                                audience: { all: true } } });
    assert.equal(poll.status, 201, poll.text);
    const sent = await api(cluster, `/api/v1/polls/${poll.json.id}/send`,
                           token, { method: 'POST' });
    assert.equal(sent.status, 200, sent.text);
    const d = await storeOp(cluster, 'campaign-dispatch',
                            String(Date.now()), '10', 'http://localhost');
    assert.equal(d.handed, 1);

    /* the API says which, by id, kind and name */
    const { cookie } = await login(cluster, BROKE.email, BROKE.password);
    const ledger = await sessionApi(cluster,
                                    '/api/v1/billing/ledger?limit=200',
                                    cookie);
    assert.equal(ledger.status, 200, ledger.text);
    const [top] = ledger.json.items;
    assert.equal(top.kind, 'hold');
    assert.deepEqual(top.campaign,
                     { id: poll.json.id, kind: 'poll', name: 'Lunch?' });
    const tonight = ledger.json.items.filter(
        (e) => e.campaign && e.campaign.name === 'Tonight');
    assert.deepEqual(tonight.map((e) => [e.kind, e.campaign.kind]),
                     [['release', 'campaign'], ['hold', 'campaign']]);
    assert.ok(ledger.json.items.some((e) => e.contact && !e.campaign));

    await brokePage.getByRole('link', { name: 'Inbox' }).click();
    await brokePage.getByRole('link', { name: 'Settings' }).click();
    const what = (kind) => brokePage.locator(
        `#ledger-rows tr[data-kind="${kind}"] td:nth-child(2)`);
    await brokePage.locator('#ledger-rows tr:first-child[data-kind="hold"]')
        .waitFor();
    assert.equal(await what('hold').first().textContent(),
        'Held for a message from Poll \u201cLunch?\u201d to Dana Ruiz');
    assert.equal(await what('hold').nth(1).textContent(),
        'Held for a message from Campaign \u201cTonight\u201d to '
        + 'Dana Ruiz');
    /* the replies before them: no campaign named */
    assert.equal(await what('capture').first().textContent(),
        'Spent what was held for a message to Dana Ruiz');
});

test('a reply that failed because billing went inactive before it was '
     + 'sent says in the thread what its reader can do: a member whom to '
     + 'ask, a billing contact what they can do', async () => {
    const cluster = ctx.cluster;
    await addUser(cluster, org(), PAYER.email, PAYER.password, 'billing');
    const conv = (await api(cluster, '/api/v1/conversations', org().token))
        .json.items.find((c) => c.contact.phone === FROM);
    const sent = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org().token,
        { method: 'POST', body: { body: 'Ready at 6' } });
    assert.equal(sent.status, 201, sent.text);
    /* queued while billing was active; the sender, started once billing
     * is inactive, reports it failed without sending it */
    await inboxctl(cluster.store, 'billing', 'set', org().id, 'inactive');
    try {
        await cluster.startSender();
        await eventually(async () => (await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, org().token))
            .json.items.some((m) => m.id === sent.json.id
                && m.status === 'failed'
                && m.error_code === 'billing_inactive'),
            15000, 'the reply failed as billing_inactive');
    } finally {
        await cluster.stopSender();
        await inboxctl(cluster.store, 'billing', 'set', org().id, 'active');
    }
    const payer = await web.newPage();
    try {
        await signIn(payer, cluster, PAYER);
        const said = {};
        for (const [who, p] of [['member', page], ['billing', payer]]) {
            await p.getByRole('link', { name: 'Inbox' }).click();
            await openThread(p, '(415) 555-0142');
            const tick = p.locator(`#messages li[data-id="${sent.json.id}"]`
                + ' .tick[data-status="failed"]');
            await tick.waitFor();
            said[who] = await tick.textContent();
        }
        assert.equal(said.member, '\u2715 Failed: not sent: billing is '
            + 'inactive; contact your billing admin (Settings \u2192 Team '
            + 'lists who), then send it again');
        assert.equal(said.billing, '\u2715 Failed: not sent: billing is '
            + 'inactive; as a billing contact, ask whoever runs the inbox '
            + 'to make it active again (Settings \u2192 Billing shows when '
            + 'it is), then send it again');
    } finally {
        await payer.close();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
