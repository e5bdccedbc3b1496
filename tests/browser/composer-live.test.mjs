// A reply's ticks moving live in Debian's Chromium, the whole way: the
// composer's send, the sender process, the carrier simulator (Twilio's
// API and its signed status callbacks, slowed so that each step can be
// seen), the status webhook, and message.status on the page's socket.
// A failure shows its reason in words, and its released credits come
// back to the header's balance.  A send the carrier never answered shows
// Sending and why, and moves on live when the carrier's callback comes.
// A failed reply goes again, pictures and all, with its Send again,
// naming the uploads its pictures are (none uploaded again) unless the
// message does not say them.  A reply's several pictures reach the
// carrier in the order they were attached.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, test } from 'node:test';
import { needsSendRoutes, noPageErrorsTest, openThread, shown, signIn,
         useBrowser } from '../lib/browser.mjs';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, formEncode, newMessageSid, signTwilio }
    from '../lib/inbox.mjs';
import { png } from '../lib/media.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Live Org' }],
    sender: true,
    // a send the carrier holds unanswered is given up after 4 s
    senderArgs: ['--timeout', '4000', '--lease', '10000'],
    // about a second between the carrier's steps
    carrierSim: { delays: { sending: [5, 10], sent: [900, 900],
                            final: [900, 900], duplicate: [10, 20] } },
});
const USER = { email: 'sam@live.example', password: 'sam sends replies' };
const CREDITS = 20;
const happy = uniqueNumber();
const unlucky = uniqueNumber();
const unanswered = uniqueNumber();
const stopped = uniqueNumber();
const offline = uniqueNumber();
const landline = uniqueNumber();
const gallery = uniqueNumber();
const olden = uniqueNumber();
const refusedTo = uniqueNumber();

const web = useBrowser();
let page;

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

// Resolves once the composer shows n images, every one uploaded.
async function imagesReady(n) {
    await page.waitForFunction((want) => {
        const items = document.querySelectorAll('#attachments .attachment');
        return items.length === want && Array.from(items).every(
            (li) => li.dataset.state === 'ready');
    }, n);
}

// Sends text from the open thread with Enter; watches its tick until it
// reaches a final status and resolves with the statuses it showed, in
// order, the tick's text at the end, and the balances the header showed
// meanwhile.
async function sendAndWatch(contact, text) {
    await page.locator('#composer-text').fill(text);
    await page.locator('#composer-text').press('Enter');
    const tick = page.locator('#messages .message.outbound',
        { hasText: text }).locator('.tick');
    await tick.waitFor();
    return page.evaluate((body) => new Promise((done, fail) => {
        const seen = [];
        const balances = [];
        const started = Date.now();
        const look = () => {
            const li = Array.from(document.querySelectorAll(
                '#messages .message.outbound')).find((m) =>
                m.querySelector('.body').textContent === body);
            const t = li && li.querySelector('.tick');
            const status = t ? t.dataset.status : null;
            if (status && seen[seen.length - 1] !== status) {
                seen.push(status);
            }
            const b = document.getElementById('balance-count').textContent;
            if (balances[balances.length - 1] !== b) {
                balances.push(b);
            }
            if (['delivered', 'undelivered', 'failed'].includes(status)) {
                done({ seen, balances, text: t.textContent });
            } else if (Date.now() - started > 8000) {
                fail(new Error('the tick stayed ' + JSON.stringify(seen)));
            } else {
                setTimeout(look, 30);
            }
        };
        look();
    }), text).catch(async (err) => {
        throw new Error(`${err.message}; ${await whyStuck(contact)}`);
    });
}

// The requests the page makes to the API until stop(): uploads counts
// POST /api/v1/media, sends holds the bodies of the replies' POSTs.
function requestsSeen() {
    const seen = { uploads: 0, sends: [] };
    const listener = (req) => {
        const path = new URL(req.url()).pathname;
        if (req.method() !== 'POST') {
            return;
        }
        if (path === '/api/v1/media') {
            seen.uploads += 1;
        } else if (/^\/api\/v1\/conversations\/[^/]+\/messages$/
                   .test(path))
        {
            seen.sends.push(req.postDataJSON());
        }
    };
    page.on('request', listener);
    seen.stop = () => page.off('request', listener);
    return seen;
}

// The message with id as the API lists it in its thread.
async function messageOf(contact, id) {
    const org = ctx.cluster.orgs[0];
    const list = await api(ctx.cluster,
        `/api/v1/conversations?q=${contact.slice(2)}`, org.token);
    const res = await api(ctx.cluster, '/api/v1/conversations/'
        + `${list.json.items[0].id}/messages`, org.token);
    return res.json.items.find((m) => m.id === id);
}

// Where a message's life stopped, as the carrier simulator saw it.
async function whyStuck(contact) {
    const [m] = await ctx.cluster.sim.messages({ contact,
        direction: 'outbound' });
    if (!m) {
        return 'the carrier simulator never got the send';
    }
    const hooks = await ctx.cluster.sim.webhooks({ message_id: m.id });
    return `the carrier's message is ${m.status}; its status callbacks `
        + 'were answered ' + JSON.stringify(hooks.map((h) => {
            const last = h.attempts[h.attempts.length - 1];
            return last && last.response ? last.response.status
                : h.state;
        }));
}

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org.id,
        String(CREDITS));
    await deliverInbound(cluster, { from: happy, body: 'Where are you?' });
    await deliverInbound(cluster, { from: unlucky, body: 'Text me back' });
    await deliverInbound(cluster, { from: unanswered, body: 'Still on?' });
    await web.launch();
    page = await web.newPage({ width: 1200, height: 760 });
    await signIn(page, cluster, USER);
});

test('a reply\'s ticks move live: queued, sent, delivered', async () => {
    await needsSendRoutes(ctx.cluster);
    await openThread(page, shown(happy));
    const { seen, text } = await sendAndWatch(happy,
        'On my way, ten minutes');
    assert.deepEqual(seen, ['queued', 'sent', 'delivered']);
    assert.match(text, /Delivered/);
    const [sent] = await ctx.cluster.sim.messages({ contact: happy,
        direction: 'outbound' });
    assert.equal(sent.body, 'On my way, ten minutes');
    await page.locator('#balance-count', { hasText: String(CREDITS - 1) })
        .waitFor();
});

// (a hold is released only by a failure before "sent": once sent, the
// credits are spent whatever comes after)
test('a reply the carrier could not send says why, and its credit comes '
     + 'back', async () => {
    await needsSendRoutes(ctx.cluster);
    await ctx.cluster.sim.fail({ type: 'final_status', number: unlucky,
        status: 'failed', error_code: 30003 });
    await openThread(page, shown(unlucky));
    const { seen, balances, text } = await sendAndWatch(unlucky,
        'Did this reach you?');
    assert.deepEqual(seen, ['queued', 'failed']);
    assert.equal(text.replace(/^\S+ /, ''), 'Failed: the phone could not '
        + 'be reached (switched off or out of coverage)');
    // held while on its way, released when it failed: the balance is
    // what it was before the send
    assert.ok(balances.includes(String(CREDITS - 2)),
        `the header showed ${JSON.stringify(balances)}`);
    await page.locator('#balance-count', { hasText: String(CREDITS - 1) })
        .waitFor();
});

// The carrier's API never answers the send (here it never got it
// either): the reply may have gone, so it is not shown failed, and its
// credit stays held; the carrier's callback, whose URL names the
// message, moves it on, live.
test('a reply to a contact who opted out at the carrier fails saying the '
     + 'contact has opted out, and its credit comes back', async () => {
    await needsSendRoutes(ctx.cluster);
    const sim = ctx.cluster.sim;
    const org = ctx.cluster.orgs[0];
    await deliverInbound(ctx.cluster, { from: stopped, body: 'Call me' });
    /* then a STOP that reached the carrier, never the inbox */
    await sim.configure({ inbox: 'http://127.0.0.1:9' });
    try {
        await sim.inbound({ from: stopped, to: org.number, body: 'STOP' });
    } finally {
        await sim.configure({ inbox: ctx.cluster.baseUrl });
    }
    const before = await page.locator('#balance-count').textContent();
    await openThread(page, shown(stopped));
    const { seen, text } = await sendAndWatch(stopped, 'Still coming?');
    assert.equal(seen[seen.length - 1], 'failed', JSON.stringify(seen));
    assert.equal(text.replace(/^\S+ /, ''),
                 'Failed: the contact has opted out');
    await page.locator('#balance-count', { hasText: before }).waitFor();
    // sending again cannot mend that: not offered
    assert.equal(await page.locator('#messages .message.outbound',
        { hasText: 'Still coming?' }).locator('.resend').count(), 0);

    // the contact's timeline says it never left, and why
    const panel = page.getByRole('complementary', { name: 'Contact' });
    if (await panel.isHidden()) {
        await page.getByRole('button', { name: 'Contact', exact: true })
            .click();
    }
    const item = panel.locator('.timeline-item', { hasText: 'Still coming?' });
    await item.waitFor();
    assert.equal(await item.locator('.timeline-what').textContent(),
                 'Message not sent \u00b7 \u2715 Failed: the contact has '
                 + 'opted out');
});

test('a reply whose send the carrier never answered shows Sending and '
     + 'why, and moves on live when the carrier\'s callback comes',
     async () => {
    await needsSendRoutes(ctx.cluster);
    const org = ctx.cluster.orgs[0];
    await ctx.cluster.sim.fail({ type: 'timeout', number: unanswered });
    await openThread(page, shown(unanswered));
    await page.locator('#composer-text').fill('Are we still on?');
    await page.locator('#composer-text').press('Enter');
    const li = page.locator('#messages .message.outbound',
        { hasText: 'Are we still on?' });
    const tick = li.locator('.tick');
    await tick.locator('.tick-reason').waitFor({ timeout: 20000 });
    assert.equal(await tick.getAttribute('data-status'), 'sending');
    assert.equal((await tick.textContent()).replace(/^\S+ /, ''),
                 'Sending: the carrier did not answer; it may have been '
                 + 'sent: look before sending it again');
    // held: one spent, one released before, this one held
    await page.locator('#balance-count', { hasText: String(CREDITS - 2) })
        .waitFor();

    const id = await li.getAttribute('data-id');
    const url = ctx.cluster.url(`/webhooks/twilio/status?message=${id}`);
    const pairs = [['MessageSid', newMessageSid()],
                   ['MessageStatus', 'delivered'], ['To', unanswered],
                   ['AccountSid', org.accountSid], ['From', org.number]];
    const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded',
                   'X-Twilio-Signature': signTwilio(url, pairs,
                                                    org.authToken) },
        body: formEncode(pairs) });
    assert.equal(res.status, 200, await res.text());

    await li.locator('.tick[data-status="delivered"]').waitFor();
    assert.equal((await li.locator('.tick').textContent())
        .replace(/^\S+ /, ''), 'Delivered');
    await page.locator('#balance-count', { hasText: String(CREDITS - 2) })
        .waitFor();
});

// Send again, on a person's reply that did not reach the phone: the same
// text and pictures go once more as a new message, charged as any reply,
// and the failed one offers it no more.  A refusal is said beside the
// button, and nothing goes.  The pictures are the uploads the failed
// reply names (its media's ids): no byte of them is uploaded again, nor
// kept twice.
test('a failed reply is sent again as it was, pictures and all, with '
     + 'Send again; a refusal says why beside it', async () => {
    await needsSendRoutes(ctx.cluster);
    const sim = ctx.cluster.sim;
    const org = ctx.cluster.orgs[0];
    await deliverInbound(ctx.cluster, { from: offline,
                                        body: 'Send me the map' });
    await sim.fail({ type: 'final_status', number: offline,
                     status: 'failed', error_code: 30003, count: 1 });
    await openThread(page, shown(offline));
    const images = [png(24, 16, [30, 90, 200]), png(16, 24, [200, 90, 30])];
    await page.locator('#attach-input').setInputFiles([
        { name: 'map.png', mimeType: 'image/png', buffer: images[0] },
        { name: 'door.png', mimeType: 'image/png', buffer: images[1] }]);
    await imagesReady(2);
    const balance = Number(await page.locator('#balance-count')
        .textContent());
    const { seen } = await sendAndWatch(offline, 'Here is the map');
    assert.deepEqual(seen, ['queued', 'failed']);
    const failed = page.locator('#messages .message.outbound',
        { hasText: 'Here is the map' });
    assert.equal(await failed.count(), 1);
    await page.locator('#balance-count', { hasText: String(balance) })
        .waitFor();
    const uploads = (await messageOf(offline,
        await failed.getAttribute('data-id'))).media.map((m) => m.id);
    assert.equal(uploads.length, 2);
    assert.ok(uploads.every((id) => typeof id === 'string'),
              JSON.stringify(uploads));

    // billing inactive: refused, said beside the button, nothing sent
    const asked = requestsSeen();
    await inboxctl(ctx.cluster.store, 'billing', 'set', org.id, 'inactive');
    const again = failed.getByRole('button', { name: 'Send again' });
    const second = page.locator('#messages .message.outbound',
        { hasText: 'Here is the map' }).nth(1);
    try {
        await again.click();
        const why = failed.locator('.resend-error');
        await why.waitFor();
        assert.match(await why.textContent(),
                     /^Not sent again\. .*contact your billing admin/);
        assert.equal(await failed.count(), 1);
        assert.equal((await sim.messages({ contact: offline,
            direction: 'outbound' })).length, 1);

        await inboxctl(ctx.cluster.store, 'billing', 'set', org.id,
                       'active');
        await again.click();
        await second.locator('.tick[data-status="delivered"]')
            .waitFor({ timeout: 10000 });
    } finally {
        asked.stop();
    }
    // each try named the failed reply's uploads, in its order
    assert.equal(asked.uploads, 0, 'no picture uploaded again');
    assert.deepEqual(asked.sends.map((b) => b.media_ids),
                     [uploads, uploads]);
    assert.equal(await failed.first().locator('.resend').count(), 0,
                 'the failed reply offers Send again no more');
    assert.equal(await page.locator('#messages .resend').count(), 0);
    assert.equal(await second.locator('.bubble img').count(), 2);

    // the carrier got it twice, the pictures the same bytes in the same
    // order each time
    const sent = await sim.messages({ contact: offline,
                                      direction: 'outbound' });
    assert.equal(sent.length, 2);
    for (const m of sent) {
        assert.equal(m.body, 'Here is the map');
        assert.deepEqual(m.media.map((x) => x.sha256), images.map(sha256));
    }
    // the MMS's two credits: spent once, the failed one's given back
    await page.locator('#balance-count', { hasText: String(balance - 2) })
        .waitFor();
});

// A message that does not say which uploads its pictures are (one a
// MongoDB store kept before it said so, as an older store answers it
// here): its pictures are read back and uploaded again, in order.
test('Send again of a failed reply whose pictures name no upload uploads '
     + 'them again, in order', async () => {
    await needsSendRoutes(ctx.cluster);
    const sim = ctx.cluster.sim;
    await deliverInbound(ctx.cluster, { from: olden,
                                        body: 'The plans, please' });
    await sim.fail({ type: 'final_status', number: olden,
                     status: 'failed', error_code: 30003, count: 1 });
    await openThread(page, shown(olden));
    const images = [png(18, 12, [120, 30, 60]), png(12, 18, [60, 30, 120])];
    await page.locator('#attach-input').setInputFiles([
        { name: 'front.png', mimeType: 'image/png', buffer: images[0] },
        { name: 'back.png', mimeType: 'image/png', buffer: images[1] }]);
    await imagesReady(2);
    const { seen: ticks } = await sendAndWatch(olden, 'The plans');
    assert.deepEqual(ticks, ['queued', 'failed']);

    const thread = (url) => /^\/api\/v1\/conversations\/[^/]+\/messages$/
        .test(url.pathname);
    await page.route(thread, async (route) => {
        if (route.request().method() !== 'GET') {
            return route.continue();
        }
        const res = await route.fetch();
        const json = await res.json();
        for (const m of json.items) {
            m.media = m.media.map(({ id: _, ...item }) => item);
        }
        return route.fulfill({ response: res, json });
    });
    const seen = requestsSeen();
    try {
        await page.reload();
        await page.locator('#conn[data-state="live"]').waitFor();
        await openThread(page, shown(olden));
        const failed = page.locator('#messages .message.outbound',
            { hasText: 'The plans' });
        await failed.getByRole('button', { name: 'Send again' }).click();
        await failed.nth(1).locator('.tick[data-status="delivered"]')
            .waitFor({ timeout: 10000 });
    } finally {
        seen.stop();
        await page.unroute(thread);
    }
    assert.equal(seen.uploads, 2, 'both pictures uploaded again');
    assert.equal(seen.sends.length, 1);
    assert.equal(seen.sends[0].media_ids.length, 2);
    const sent = await sim.messages({ contact: olden,
                                      direction: 'outbound' });
    assert.equal(sent.length, 2);
    for (const m of sent) {
        assert.deepEqual(m.media.map((x) => x.sha256), images.map(sha256));
    }
});

test('a reply to a landline is not offered Send again: another try '
     + 'cannot reach it', async () => {
    await needsSendRoutes(ctx.cluster);
    await deliverInbound(ctx.cluster, { from: landline,
                                        body: 'Call the office' });
    await ctx.cluster.sim.fail({ type: 'final_status', number: landline,
                                 status: 'failed', error_code: 30006 });
    await openThread(page, shown(landline));
    const { seen, text } = await sendAndWatch(landline, 'Will do');
    assert.deepEqual(seen, ['queued', 'failed']);
    assert.match(text, /landline/);
    assert.equal(await page.locator('#messages .message.outbound',
        { hasText: 'Will do' }).locator('.resend').count(), 0);
});

test('a reply with several pictures reaches the carrier with them in the '
     + 'order they were attached, one removed before the send left out; '
     + 'the MMS costs 2 credits', async () => {
    await needsSendRoutes(ctx.cluster);
    await deliverInbound(ctx.cluster, { from: gallery,
                                        body: 'Photos of the room?' });
    await openThread(page, shown(gallery));
    const [bed, bath, view, desk] = [[200, 40, 40], [40, 200, 40],
        [40, 40, 200], [200, 200, 40]].map((rgb, i) => png(20 + i, 20, rgb));
    // three at once, then one more
    await page.locator('#attach-input').setInputFiles([
        { name: 'bed.png', mimeType: 'image/png', buffer: bed },
        { name: 'bath.png', mimeType: 'image/png', buffer: bath },
        { name: 'view.png', mimeType: 'image/png', buffer: view }]);
    await imagesReady(3);
    await page.locator('#attach-input').setInputFiles({ name: 'desk.png',
        mimeType: 'image/png', buffer: desk });
    await imagesReady(4);
    await page.getByRole('button', { name: 'Remove bath.png' }).click();
    await imagesReady(3);
    assert.deepEqual(await page.locator('#attachments .attachment-name')
        .allTextContents(), ['bed.png', 'view.png', 'desk.png']);
    await page.locator('#composer-count', { hasText:
        /^Picture message \(MMS\) · 3 images · 2 credits$/ }).waitFor();

    const { seen } = await sendAndWatch(gallery, 'The room, three views');
    assert.deepEqual(seen, ['queued', 'sent', 'delivered']);
    const mine = page.locator('#messages .message.outbound',
        { hasText: 'The room, three views' });
    assert.equal(await mine.locator('a.media-thumb').count(), 3);
    assert.equal(await page.locator('#attachments').isHidden(), true);

    const [m] = await ctx.cluster.sim.messages({ contact: gallery,
                                                 direction: 'outbound' });
    assert.equal(m.body, 'The room, three views');
    assert.deepEqual(m.media.map((x) => x.sha256),
                     [bed, view, desk].map(sha256));
    // the inbox's record of it: three pictures, 2 credits
    const org = ctx.cluster.orgs[0];
    const list = await api(ctx.cluster,
        `/api/v1/conversations?q=${gallery.slice(2)}`, org.token);
    const res = await api(ctx.cluster, '/api/v1/conversations/'
        + `${list.json.items[0].id}/messages`, org.token);
    const [reply] = res.json.items.filter(
        (x) => x.direction === 'outbound');
    assert.equal(reply.media.length, 3);
    assert.equal(reply.credits, 2);
});

// The carrier refuses the number's credentials (the simulator's 401
// 20003 for a wrong auth token): not the contact's doing, and not
// something the person replying can mend; the words say who can.
test('a reply the carrier refused for the number\'s credentials says to '
     + 'have the number\'s settings checked, and its credit comes back',
     async () => {
    await needsSendRoutes(ctx.cluster);
    const { sim, store } = ctx.cluster;
    const org = ctx.cluster.orgs[0];
    const setToken = (token) => inboxctl(store, 'number', 'set', org.id,
        org.number, '--carrier', 'twilio', '--account-sid', org.accountSid,
        '--auth-token', token, '--api-base', sim.url);
    await deliverInbound(ctx.cluster, { from: refusedTo, body: 'Hello?' });
    const before = await page.locator('#balance-count').textContent();
    await openThread(page, shown(refusedTo));
    await setToken('f'.repeat(32));
    try {
        const { seen, text } = await sendAndWatch(refusedTo, 'Hi there');
        assert.equal(seen[seen.length - 1], 'failed', JSON.stringify(seen));
        assert.equal(text.replace(/^\S+ /, ''), 'Failed: the carrier '
            + 'refused this number\u2019s account or credentials: ask '
            + 'whoever runs the inbox to check the number\u2019s carrier '
            + 'settings, then send it again');
    } finally {
        await setToken(org.authToken);
    }
    await page.locator('#balance-count', { hasText: before }).waitFor();
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
