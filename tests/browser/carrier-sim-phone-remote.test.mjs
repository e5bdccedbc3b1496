// The simulator's phone page opened from another machine (make run with
// INBOX_BIND=0.0.0.0): texting the inbox and the replies' ticks work as
// on the simulator's own machine; the carrier tricks, which the
// simulator refuses to callers elsewhere, are disabled and say why.
// "Another machine" is this one at an address of its own that is not a
// loopback one (see integration/carrier-sim-remote.test.mjs).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { noPageErrorsTest, useBrowser } from '../lib/browser.mjs';
import { uniqueNumber } from '../lib/cluster.mjs';
import { nonLoopbackAddress, startCarrierSim,
         startReceiver } from '../lib/carrier-sim.mjs';

const SID = `AC${randomBytes(16).toString('hex')}`;
const TOKEN = randomBytes(16).toString('hex');
const NUMBER = uniqueNumber();
const CONTACT = uniqueNumber();

const where = nonLoopbackAddress();
const skip = where ? false
    : 'this machine has no address but loopback ones';

const web = useBrowser();
let sim;
let inbox;
let page;

before(async () => {
    if (!where) {
        return;
    }
    inbox = await startReceiver();
    sim = await startCarrierSim({ host: where.listen, config: {
        inbox: inbox.url,
        twilio: { accounts: { [SID]: TOKEN } },
        numbers: [{ number: NUMBER, carrier: 'twilio', account: SID }],
        delays: { sending: [5, 10], sent: [300, 300], final: [300, 300],
                  duplicate: [10, 20] },
    } });
    await web.launch();
    page = await web.newPage();
    await page.goto(`http://${where.host}:${new URL(sim.url).port}/`);
});

// (after the browser: useBrowser's after() runs first)
after(async () => {
    await sim?.stop();
    await inbox?.close();
});

test('from another machine a text typed on the phone reaches the inbox',
     { skip }, async () => {
    await page.fill('#contact', CONTACT);
    await page.dispatchEvent('#contact', 'change');
    assert.equal(await page.inputValue('#number'), NUMBER);
    await page.fill('#text', 'Hello from another machine');
    await page.press('#text', 'Enter');
    const [req] = await inbox.waitFor('/webhooks/twilio/inbound');
    const form = Object.fromEntries(new URLSearchParams(req.body.toString()));
    assert.equal(form.From, CONTACT);
    assert.equal(form.Body, 'Hello from another machine');
    await page.locator('.msg.mine', { hasText: 'Hello from another machine' })
        .locator('.meta', { hasText: 'reached the inbox' }).waitFor();
});

test('from another machine the inbox\'s reply arrives and its ticks move '
     + 'to delivered', { skip }, async () => {
    const res = await sim.twilioSend(SID, TOKEN,
        { to: CONTACT, from: NUMBER, body: 'Welcome!' });
    assert.equal(res.status, 201);
    const tick = page.locator('.msg.theirs', { hasText: 'Welcome!' })
        .locator('.tick');
    await tick.filter({ hasText: 'delivered' }).waitFor();
});

test('from another machine the carrier tricks are disabled and say why',
     { skip }, async () => {
    assert.equal(await page.locator('[data-trick]:enabled').count(), 0);
    assert.match(await page.locator('#tricks-local').textContent(),
                 /own\s+machine/);
    assert.equal(await page.locator('#status').textContent(), '');
});

test('after STOP the page says the carrier blocks the business',
     { skip }, async () => {
    await page.fill('#text', 'STOP');
    await page.press('#text', 'Enter');
    await page.locator('#blocked').waitFor({ state: 'visible' });
    await page.locator('.msg.carrier', { hasText: 'unsubscribed' })
        .waitFor();
});

noPageErrorsTest(web);
