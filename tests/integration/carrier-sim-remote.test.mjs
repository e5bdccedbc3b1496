// The carrier simulator listening on all addresses (make run with
// INBOX_BIND=0.0.0.0, the Dockerfile's docker run): a caller on another
// machine has the phone page (its files, texting the inbox, its own
// contact's thread live), and nothing else of the control API, which
// holds the carriers' auth tokens, says where webhooks go, and lists
// everyone's messages.
//
// "Another machine" is this machine called at one of its own addresses
// that is not a loopback one: the simulator sees that address as the
// caller's.  Binding the client to 127.0.0.2 would not do (all of
// 127.0.0.0/8 is loopback), so without such an address the tests skip.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { uniqueNumber } from '../lib/cluster.mjs';
import { nonLoopbackAddress, startCarrierSim,
         startReceiver } from '../lib/carrier-sim.mjs';

const SID = `AC${randomBytes(16).toString('hex')}`;
const TOKEN = randomBytes(16).toString('hex');
const NUMBER = uniqueNumber();
const CONTACT = uniqueNumber();
const OTHER = uniqueNumber();

const where = nonLoopbackAddress();
const skip = where ? false
    : 'this machine has no address but loopback ones';

let sim;
let inbox;
let remote;     // the simulator at the non-loopback address

before(async () => {
    if (!where) {
        return;
    }
    inbox = await startReceiver();
    sim = await startCarrierSim({ host: where.listen, config: {
        inbox: inbox.url,
        twilio: { accounts: { [SID]: TOKEN } },
        numbers: [{ number: NUMBER, carrier: 'twilio', account: SID }],
    } });
    remote = `http://${where.host}:${new URL(sim.url).port}`;
});

after(async () => {
    await sim?.stop();
    await inbox?.close();
});

async function call(method, path, body) {
    const res = await fetch(`${remote}${path}`, {
        method,
        headers: body === undefined ? {}
            : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, json, text,
             type: res.headers.get('content-type') };
}

// The contact's Twilio reply, sent by "the inbox" through the API.
async function reply(to, text) {
    const res = await sim.twilioSend(SID, TOKEN,
                                     { to, from: NUMBER, body: text });
    assert.equal(res.status, 201);
    return (await res.json()).sid;
}

// Opens a Server-Sent Events stream; resolves once the simulator has
// answered, from when on it hands the stream every event: { status,
// events: [{ event, data }], until(predicate, ms), close() }.
function openEvents(path) {
    return new Promise((resolve, reject) => {
        const got = [];
        let waiters = [];
        let buf = '';
        const req = request(`${remote}${path}`, (res) => {
            if (res.statusCode !== 200) {
                res.resume();
                resolve({ status: res.statusCode, events: got });
                return;
            }
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
                buf += chunk;
                let end;
                while ((end = buf.indexOf('\n\n')) >= 0) {
                    const frame = buf.slice(0, end);
                    buf = buf.slice(end + 2);
                    const ev = /^event: (.*)$/m.exec(frame);
                    const data = /^data: (.*)$/m.exec(frame);
                    if (ev) {
                        got.push({ event: ev[1],
                                   data: JSON.parse(data[1]) });
                    }
                }
                waiters = waiters.filter((w) => !w());
            });
            resolve({
                status: 200,
                events: got,
                until: (predicate, ms, what) => new Promise((ok, fail) => {
                    const timer = setTimeout(() => fail(new Error(
                        `no ${what} in ${ms} ms; got ${JSON.stringify(got)}`
                    )), ms);
                    const check = () => {
                        if (!predicate(got)) {
                            return false;
                        }
                        clearTimeout(timer);
                        ok(got);
                        return true;
                    };
                    if (!check()) {
                        waiters.push(check);
                    }
                }),
                close: () => req.destroy(),
            });
        });
        req.on('error', (e) => (e.code === 'ECONNRESET' ? null
            : reject(e)));
        req.end();
    });
}

test('from another machine the configuration, with its auth token, is '
     + 'refused, and so is changing it', { skip }, async () => {
    const got = await call('GET', '/_sim/config');
    assert.equal(got.status, 403);
    assert.equal(got.json.error.code, 'forbidden');
    assert.match(got.json.error.message, /own machine/);
    assert.ok(!got.text.includes(TOKEN), 'the auth token in the answer');

    const set = await call('POST', '/_sim/config',
                           { inbox: 'http://192.0.2.99:1' });
    assert.equal(set.status, 403);
    const cfg = await sim.ok('GET', '/config');
    assert.equal(cfg.config.inbox, inbox.url, 'webhooks pointed elsewhere');
    assert.equal(cfg.config.twilio.accounts[SID], TOKEN,
                 'this machine still reads it');
});

test('from another machine the logs, the failures and reset are refused',
     { skip }, async () => {
    const id = await reply(OTHER, 'for the other contact');
    for (const [method, path, body] of [
        ['GET', '/_sim/messages'],
        ['GET', `/_sim/messages/${id}`],
        ['GET', '/_sim/requests'],
        ['GET', '/_sim/webhooks'],
        ['GET', '/_sim/optouts'],
        ['GET', '/_sim/events'],
        ['GET', '/_sim/failures'],
        ['POST', '/_sim/failures', { type: 'http_error', status: 503 }],
        ['DELETE', '/_sim/failures'],
        ['POST', '/_sim/reset', { everything: true }],
        ['GET', '/_sim/nothing-here'],
    ]) {
        const got = await call(method, path, body);
        assert.equal(got.status, 403, `${method} ${path}: ${got.text}`);
        assert.equal(got.json.error.code, 'forbidden');
        assert.ok(!got.text.includes(TOKEN));
    }
    assert.deepEqual(await sim.list('failures'), [], 'a failure was added');
    assert.equal((await sim.message(id)).body, 'for the other contact',
                 'the simulator was reset');
});

test('from another machine the phone page works: its files, texting the '
     + 'inbox, pictures, the contact\'s own thread and its live ticks',
     { skip }, async () => {
    for (const [path, type] of [['/', /text\/html/],
                                ['/phone.js', /javascript/],
                                ['/phone.css', /text\/css/]]) {
        const got = await call('GET', path);
        assert.equal(got.status, 200, path);
        assert.match(got.type, type);
    }
    const phone = await call('GET', '/_sim/phone');
    assert.equal(phone.status, 200);
    assert.deepEqual(phone.json.numbers,
                     [{ number: NUMBER, carrier: 'twilio' }]);
    assert.equal(phone.json.local, false);
    assert.ok(!phone.text.includes(TOKEN), 'the auth token on the page');
    const samples = await call('GET', '/_sim/samples');
    assert.equal(samples.status, 200);
    const png = await fetch(`${remote}${samples.json.items[0].url}`);
    assert.equal(png.status, 200);
    assert.match(png.headers.get('content-type'), /^image\//);

    // texting the inbox: the webhook reaches it, the answer keeps the
    // webhook's record (signature, the inbox's answer) on this machine
    const sent = await call('POST', '/_sim/inbound', {
        from: CONTACT, to: NUMBER, body: 'Hello from elsewhere',
        media: [samples.json.items[0].name] });
    assert.equal(sent.status, 200, sent.text);
    assert.equal(sent.json.message.delivery.state, 'delivered');
    assert.equal(sent.json.webhook, undefined);
    const [hook] = await inbox.waitFor('/webhooks/twilio/inbound', 1,
        (r) => new URLSearchParams(r.body.toString()).get('Body')
            === 'Hello from elsewhere');
    assert.equal(new URLSearchParams(hook.body.toString()).get('NumMedia'),
                 '1');
    const pic = await fetch(`${remote}`
                            + `${sent.json.message.media[0].local_url}`);
    assert.equal(pic.status, 200);
    const sid = await call('POST', '/_sim/inbound', {
        from: CONTACT, body: 'mine', sid: 'SMreplacing' });
    assert.equal(sid.status, 403);

    // the contact's thread, and only theirs
    await sim.inbound({ from: OTHER, to: NUMBER, body: 'not yours' });
    const thread = await call('GET', '/_sim/messages?contact='
                              + encodeURIComponent(CONTACT));
    assert.equal(thread.status, 200);
    assert.deepEqual(thread.json.items.map((m) => m.body),
                     ['Hello from elsewhere']);
    const optouts = await call('GET', '/_sim/optouts?contact='
                               + encodeURIComponent(CONTACT));
    assert.deepEqual(optouts.json.items, []);

    // the reply's ticks, live; nothing of the other contact, and no API
    // request (their records carry the auth token)
    const live = await openEvents(
        `/_sim/events?contact=${encodeURIComponent(CONTACT)}`);
    assert.equal(live.status, 200);
    let got;
    try {
        const id = await reply(CONTACT, 'Got it');
        const other = await reply(OTHER, 'not yours either');
        await sim.waitForMessage(other, (m) => m.status === 'delivered',
                                 15000);
        // the contact's next message moves after all of the other's: once
        // it is delivered here, the other's would have come before it
        const last = await reply(CONTACT, 'One more');
        const delivered = (m) => (all) => all.some((e) => e.data.id === m
            && e.data.status === 'delivered');
        got = await live.until((all) => delivered(id)(all)
            && delivered(last)(all), 15000, 'the replies delivered');
        assert.deepEqual(got.filter((e) => e.data.id === id)
            .map((e) => e.data.status), ['queued', 'sent', 'delivered']);
    } finally {
        live.close();
    }
    assert.deepEqual([...new Set(got.map((e) => e.event))], ['message']);
    assert.deepEqual([...new Set(got.map((e) => e.data.to))], [CONTACT]);
});

test('on the simulator\'s own machine everything answers, as before',
     { skip }, async () => {
    for (const path of ['/config', '/messages', '/requests', '/webhooks',
                        '/failures', '/optouts']) {
        assert.equal((await sim.control('GET', path)).status, 200, path);
    }
    const phone = await sim.ok('GET', '/phone');
    assert.equal(phone.local, true);
});
