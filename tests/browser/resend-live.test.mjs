// Send again is the server's, not one page's: two pages of the same
// thread (a colleague's, the same user's other tab) both offer Send
// again on a reply that did not reach the phone; once one presses it,
// the other's button goes, without a reload, for "Sent again"
// (message.updated carries the failed reply's mark).  A page that
// missed that frame (its socket silent meanwhile) still offers it, and
// pressing it says the server's refusal beside the button: the contact
// gets the text once more, not twice.  Whether a reply may be sent again
// is the server's word (can_send_again): a reply that fails live shows
// Send again from its message.status frame alone, one that another try
// cannot mend (a landline) does not.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { needsSendRoutes, noPageErrorsTest, openThread, shown, signIn,
         useBrowser } from '../lib/browser.mjs';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Resend Live Org' }],
                         sender: true, carrierSim: true });
const USER = { email: 'sam@resend.example', password: 'sam sends again' };
const phone = uniqueNumber();
const offline = uniqueNumber();
const landline = uniqueNumber();
const web = useBrowser();
/* the third page's socket forwards nothing from the server while set */
const stale = { on: false };
let pages;
let failedId;

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '10');
    await cluster.sim.fail({ type: 'final_status', number: phone,
                             status: 'failed', error_code: 30003,
                             count: 1 });
    await deliverInbound(cluster, { from: phone, body: 'Are you coming?' });
    await deliverInbound(cluster, { from: offline, body: 'Call me back' });
    await deliverInbound(cluster, { from: landline, body: 'Ring the desk' });

    // the user's reply, failed at the carrier
    const cookie = (await login(cluster, USER.email, USER.password)).cookie;
    const conv = (await api(cluster, '/api/v1/conversations', org.token))
        .json.items.find((c) => c.contact.phone === phone);
    const sent = await sessionApi(cluster,
        `/api/v1/conversations/${conv.id}/messages`, cookie,
        { method: 'POST', body: { body: 'Still coming?' } });
    assert.equal(sent.status, 201, sent.text);
    failedId = sent.json.id;
    await eventually(async () => (await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token)).json.items
        .some((m) => m.id === failedId && m.status === 'failed'), 15000,
        'the reply failed');

    await web.launch();
    pages = [];
    for (let i = 0; i < 3; i++) {
        const page = await web.newPage({ width: 1100, height: 700 });
        if (i === 2) {
            await page.routeWebSocket(/.*/, (ws) => {
                const server = ws.connectToServer();
                server.onMessage((m) => {
                    if (!stale.on) {
                        ws.send(m);
                    }
                });
                ws.onMessage((m) => server.send(m));
            });
        }
        await signIn(page, cluster, USER);
        pages.push(page);
    }
});

const failedOn = (page) => page.locator('#messages li.message.outbound',
    { hasText: 'Still coming?' }).first();

// Sends text from the open thread and waits for its tick to say failed;
// resolves with the reply's item and the reads of the thread's messages
// the page made from the send on.
async function sendUntilFailed(page, text) {
    const reads = [];
    const thread = /^\/api\/v1\/conversations\/[^/]+\/messages$/;
    const seen = (req) => {
        if (req.method() === 'GET'
            && thread.test(new URL(req.url()).pathname)) {
            reads.push(req.url());
        }
    };
    page.on('request', seen);
    try {
        await page.locator('#composer-text').fill(text);
        await page.locator('#composer-text').press('Enter');
        const li = page.locator('#messages li.message.outbound',
                                { hasText: text });
        await li.locator('.tick[data-status="failed"]')
            .waitFor({ timeout: 15000 });
        return { li, reads };
    } finally {
        page.off('request', seen);
    }
}

test('a reply that fails live offers Send again from its frame, with no '
     + 'read of the thread; one to a landline does not', async () => {
    await needsSendRoutes(ctx.cluster);
    const sim = ctx.cluster.sim;
    const page = pages[0];
    await sim.fail({ type: 'final_status', number: offline,
                     status: 'failed', error_code: 30003, count: 1 });
    await sim.fail({ type: 'final_status', number: landline,
                     status: 'failed', error_code: 30006, count: 1 });

    await openThread(page, shown(offline));
    const off = await sendUntilFailed(page, 'Ringing you now');
    await off.li.getByRole('button', { name: 'Send again' }).waitFor();
    assert.deepEqual(off.reads, [], 'the thread was not read again');

    await openThread(page, shown(landline));
    const desk = await sendUntilFailed(page, 'Will ring at two');
    assert.match(await desk.li.locator('.tick').textContent(), /landline/);
    assert.equal(await desk.li.locator('.resend').count(), 0);
    assert.deepEqual(desk.reads, []);
    // and read again, the server says the same of each
    await openThread(page, shown(offline));
    await page.locator('#messages li.message.outbound',
        { hasText: 'Ringing you now' })
        .getByRole('button', { name: 'Send again' }).waitFor();
});

test('one page\'s Send again takes the button from another page without '
     + 'a reload; a stale page pressing it is refused in words, and the '
     + 'contact gets the text once more only', async () => {
    await needsSendRoutes(ctx.cluster);
    const [a, b, c] = pages;
    for (const page of pages) {
        await openThread(page, shown(phone));
        assert.equal(await failedOn(page).getAttribute('data-id'), failedId);
        await failedOn(page).getByRole('button', { name: 'Send again' })
            .waitFor();
    }
    stale.on = true;

    await failedOn(a).getByRole('button', { name: 'Send again' }).click();
    await failedOn(a).locator('.resent').waitFor();

    // the other page, live: its button goes, "Sent again" instead
    await failedOn(b).locator('.resend').waitFor({ state: 'detached' });
    await failedOn(b).getByRole('button', { name: 'Sent again' }).waitFor();
    assert.equal(await b.locator('#messages .resend').count(), 0);

    // the stale page still offers it; pressing it is refused
    const again = failedOn(c).getByRole('button', { name: 'Send again' });
    await again.click();
    const why = failedOn(c).locator('.resend-error');
    await why.waitFor();
    assert.equal(await why.textContent(), 'Not sent again. This reply was '
        + 'sent again already; nothing more was sent.');
    stale.on = false;

    // the carrier got the failure and one more, not two
    await eventually(async () => (await ctx.cluster.sim.messages({
        contact: phone, direction: 'outbound' })).length === 2, 10000,
        'the one sent again at the carrier');
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.equal((await ctx.cluster.sim.messages({ contact: phone,
        direction: 'outbound' })).length, 2);

    // read again, the page shows the mark from the server
    await b.reload();
    await b.locator('#conn[data-state="live"]').waitFor();
    await openThread(b, shown(phone));
    await failedOn(b).getByRole('button', { name: 'Sent again' }).waitFor();
    assert.equal(await failedOn(b).locator('.resend').count(), 0);

    // the stale page's socket is a proxy of the test's: closed here, so
    // that nginx stops as it would with browsers gone
    for (const page of pages) {
        await page.context().close();
    }
});

test('a failed reply\'s Send again goes while its contact is opted out '
     + 'and comes back when they opt in again, live', async () => {
    const page = await web.newPage({ width: 1100, height: 700 });
    try {
        await optOutAndBack(page);
    } finally {
        // closed, so that nginx stops as it would with browsers gone
        await page.context().close();
    }
});

async function optOutAndBack(page) {
    await signIn(page, ctx.cluster, USER);
    await openThread(page, shown(offline));
    const failed = page.locator('#messages li.message.outbound',
                                { hasText: 'Ringing you now' });
    const again = failed.getByRole('button', { name: 'Send again' });
    await again.waitFor();
    await deliverInbound(ctx.cluster, { from: offline, body: 'STOP' });
    await page.locator('#composer-closed', { hasText: 'opted out' })
        .waitFor();
    await eventually(async () => (await failed.locator('.resend').count())
                     === 0, 10000, 'Send again gone with the opt-out');
    await deliverInbound(ctx.cluster, { from: offline, body: 'START' });
    await page.locator('#composer-closed').waitFor({ state: 'hidden' });
    await again.waitFor();
}

noPageErrorsTest(web);
errorLogIsCleanTest(ctx);
