// The simulator's phone page, in a real browser: a person types as a
// contact and the text reaches the inbox's webhook; a reply the inbox
// sends through the carrier's API arrives with its ticks moving.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { useBrowser } from '../lib/browser.mjs';
import { uniqueNumber } from '../lib/cluster.mjs';
import { startCarrierSim, startReceiver } from '../lib/carrier-sim.mjs';

const SID = `AC${randomBytes(16).toString('hex')}`;
const TOKEN = randomBytes(16).toString('hex');
const NUMBER = uniqueNumber();
const CONTACT = uniqueNumber();

const web = useBrowser();
let sim;
let inbox;
let page;

before(async () => {
    inbox = await startReceiver();
    sim = await startCarrierSim({ config: {
        inbox: inbox.url,
        twilio: { accounts: { [SID]: TOKEN } },
        numbers: [{ number: NUMBER, carrier: 'twilio', account: SID }],
        // slow enough to see each tick
        delays: { sending: [5, 10], sent: [1000, 1000],
                  final: [1000, 1000], duplicate: [10, 20] },
    }, brisk: false });
    const browser = await web.launch();
    page = await (await browser.newContext()).newPage();
    await page.goto(`${sim.url}/`);
});

// (after the browser: useBrowser's after() runs first)
after(async () => {
    await sim?.stop();
    await inbox?.close();
});

test('a text typed on the phone reaches the inbox as Twilio\'s webhook',
async () => {
    await page.fill('#contact', CONTACT);
    await page.dispatchEvent('#contact', 'change');
    assert.equal(await page.inputValue('#number'), NUMBER);
    await page.fill('#text', 'Hello from the phone page');
    await page.press('#text', 'Enter');

    const [req] = await inbox.waitFor('/webhooks/twilio/inbound');
    const form = Object.fromEntries(new URLSearchParams(req.body.toString()));
    assert.equal(form.From, CONTACT);
    assert.equal(form.To, NUMBER);
    assert.equal(form.Body, 'Hello from the phone page');
    // the draft goes once the simulator took it (it may answer after the
    // webhook went out)
    await page.waitForFunction(
        () => document.querySelector('#text').value === '');
    await page.locator('.msg.mine', { hasText: 'Hello from the phone page' })
        .locator('.meta', { hasText: 'reached the inbox' }).waitFor();
});

test('a picture attached on the phone is an MMS', async () => {
    await page.click('#samples button >> nth=0');
    await page.click('#send');
    const reqs = await inbox.waitFor('/webhooks/twilio/inbound', 2);
    const form = Object.fromEntries(
        new URLSearchParams(reqs[1].body.toString()));
    assert.equal(form.NumMedia, '1');
    assert.match(form.MessageSid, /^MM[0-9a-f]{32}$/);
    await page.locator('.msg.mine img').waitFor();
});

test('a contact card attached on the phone is an MMS of a vCard, shown '
     + 'on the phone as one', async () => {
    await page.locator('#samples button', { hasText: 'Contact card' })
        .click();
    assert.equal(await page.locator('#attached-file').textContent(),
                 'Contact card');
    assert.ok(await page.locator('#attached-img').isHidden());
    await page.click('#send');
    const reqs = await inbox.waitFor('/webhooks/twilio/inbound', 3);
    const form = Object.fromEntries(
        new URLSearchParams(reqs[2].body.toString()));
    assert.equal(form.NumMedia, '1');
    assert.equal(form.MediaContentType0, 'text/vcard');
    const card = page.locator('.msg.mine a.file', { hasText: 'Contact card' });
    await card.waitFor();
    const got = await page.request.get(new URL(await card.getAttribute('href'),
                                               page.url()).href);
    assert.match((await got.body()).toString(), /^BEGIN:VCARD\r\n/);
});

test('the inbox\'s reply arrives on the phone and its ticks move to '
     + 'delivered', async () => {
    const res = await sim.twilioSend(SID, TOKEN, { to: CONTACT, from: NUMBER,
        body: 'Thanks, see you soon!' });
    assert.equal(res.status, 201);
    const reply = page.locator('.msg.theirs',
                               { hasText: 'Thanks, see you soon!' });
    const seen = [];
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
        const tick = await reply.locator('.tick').textContent()
            .catch(() => null);
        if (tick && seen[seen.length - 1] !== tick) {
            seen.push(tick);
        }
        if (tick?.includes('delivered')) {
            break;
        }
        await page.waitForTimeout(40);
    }
    assert.deepEqual(seen, ['◷ queued', '✓ sent', '✓✓ delivered']);
});

test('on the simulator\'s own machine the carrier tricks work',
async () => {
    assert.ok(await page.locator('#tricks-local').isHidden());
    await page.click('[data-trick="undelivered"]');
    await page.locator('#rules li', { hasText: `${CONTACT}: ends ` })
        .waitFor();
    await page.click('[data-trick="clear"]');
    await page.locator('#rules li').waitFor({ state: 'detached' });
});

test('the "account refused" trick refuses the inbox\'s next send to the '
     + 'contact as a suspended account\'s (Twilio 401 20005), once',
     async () => {
    await page.click('[data-trick="account_refused"]');
    const rule = page.locator('#rules li',
                              { hasText: `${CONTACT}: account refused` });
    await rule.waitFor();
    assert.match(await rule.textContent(), /\(1 left\)$/);

    const refused = await sim.twilioSend(SID, TOKEN, { to: CONTACT,
        from: NUMBER, body: 'Refused' });
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).code, 20005);
    await rule.waitFor({ state: 'detached' });
    const taken = await sim.twilioSend(SID, TOKEN, { to: CONTACT,
        from: NUMBER, body: 'Taken' });
    assert.equal(taken.status, 201);
    await page.locator('.msg.theirs', { hasText: 'Taken' }).waitFor();
    assert.equal(await page.locator('.msg.theirs',
                                    { hasText: 'Refused' }).count(), 0);
});

test('after STOP the page says the carrier blocks the business, and the '
     + 'carrier\'s answer shows', async () => {
    await page.fill('#text', 'STOP');
    await page.press('#text', 'Enter');
    await page.locator('#blocked').waitFor({ state: 'visible' });
    await page.locator('.msg.carrier', { hasText: 'unsubscribed' })
        .waitFor();
});
