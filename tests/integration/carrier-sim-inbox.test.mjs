// The carrier simulator against the real inbox (nginx with the module,
// SQLite, the sender): what a contact texts through it lands in the
// inbox, so its webhooks are ones the inbox's own signature check
// accepts, and the pictures (and any other file) of an MMS are copied by
// the sender with the account's credentials.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import { promisify } from 'node:util';
import { inboxctl, sleep, sqlite3Path, uniqueNumber }
    from '../lib/cluster.mjs';
import { startReceiver } from '../lib/carrier-sim.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually, TWIML_EMPTY }
    from '../lib/inbox.mjs';
import { mp4Like, pdf, png, vcard, wav } from '../lib/media.mjs';

const ctx = useCluster({ orgs: [{ name: 'Simulated Org' }],
                         carrierSim: true, sender: true });
let sim;

before(async () => {
    sim = (await ctx.ready).sim;
});

async function messagesOf(phone) {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === phone);
    assert.ok(conv, `a conversation with ${phone}`);
    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    assert.equal(msgs.status, 200, msgs.text);
    return msgs.json.items;
}

test('a contact\'s SMS through the simulator is accepted and shows in the '
     + 'inbox', async () => {
    const from = uniqueNumber();
    const { message, webhook } = await sim.inbound({
        from, body: 'Hi! Do you open on Sundays? 🙂' });
    assert.equal(webhook.state, 'delivered');
    const [attempt] = webhook.attempts;
    assert.equal(attempt.response.status, 200);
    assert.match(attempt.response.body, TWIML_EMPTY);
    const [m] = await messagesOf(from);
    assert.equal(m.direction, 'inbound');
    assert.equal(m.body, 'Hi! Do you open on Sundays? 🙂');
    assert.deepEqual([message.delivery.state, message.delivery.status],
                     ['delivered', 200]);
});

test('an MMS through the simulator keeps every picture: the sender '
     + 'copies each with the account\'s credentials, and the inbox serves '
     + 'the copies', async () => {
    const org = ctx.cluster.orgs[0];
    const from = uniqueNumber();
    const { webhook, message } = await sim.inbound({
        from, body: 'these two', media: ['landscape.png', 'sunset.jpg'] });
    assert.equal(webhook.state, 'delivered');
    let media;
    const deadline = Date.now() + 15000;
    do {
        [{ media }] = await messagesOf(from);
        if (media.every((x) => x.state === 'stored')) {
            break;
        }
        await sleep(100);
    } while (Date.now() < deadline);
    assert.deepEqual(media.map((x) => [x.content_type, x.state]),
                     [['image/png', 'stored'], ['image/jpeg', 'stored']]);
    const auth = `Basic ${Buffer.from(`${org.accountSid}:${org.authToken}`)
        .toString('base64')}`;
    for (const [i, { url, content_type: type }] of media.entries()) {
        assert.match(url, /^\/media\/[A-Za-z0-9_-]{43}\.(png|jpg)$/);
        const copy = await fetch(ctx.cluster.url(url));
        assert.equal(copy.status, 200);
        assert.equal(copy.headers.get('content-type'), type);
        /* the same bytes the carrier keeps behind its credentials */
        const original = await fetch(message.media[i].url,
                                     { headers: { Authorization: auth } });
        assert.deepEqual(Buffer.from(await copy.arrayBuffer()),
                         Buffer.from(await original.arrayBuffer()));
    }
});


// Stored copies of from's newest message, waited for.
async function storedMedia(from) {
    let media;
    const deadline = Date.now() + 15000;
    do {
        [{ media }] = await messagesOf(from);
        if (media.every((x) => x.state !== 'pending')) {
            break;
        }
        await sleep(100);
    } while (Date.now() < deadline);
    return media;
}

test('an MMS of a voice note, a contact card, a video and a PDF keeps each: '
     + 'copied, typed by its bytes, and served as a download, never opened '
     + 'on the inbox\'s origin; bytes of no known type from the carrier API '
     + 'on a private address are not kept', async () => {
    const from = uniqueNumber();
    const odd = Buffer.concat([Buffer.from('<html><script>alert(1)'
                                           + '</script>'), randomBytes(64)]);
    const sent = [
        // what the carriers say is their own word only
        { data: wav(200), content_type: 'audio/x-wav',
          type: 'audio/wav', ext: 'wav' },
        { data: vcard('Ana Lima', from), content_type: 'text/x-vcard',
          type: 'text/vcard', ext: 'vcf' },
        { data: mp4Like(), content_type: 'video/mp4',
          type: 'video/mp4', ext: 'mp4' },
        { data: pdf, content_type: 'application/pdf',
          type: 'application/pdf', ext: 'pdf' },
        { data: odd, content_type: 'text/html',
          type: 'application/octet-stream', ext: 'bin' },
        { data: png(4, 4), content_type: 'image/png',
          type: 'image/png', ext: 'png' },
    ];
    const { webhook } = await sim.inbound({ from, body: '', media: sent.map(
        (m) => ({ data: m.data.toString('base64'),
                  content_type: m.content_type })) });
    assert.equal(webhook.state, 'delivered');

    const media = await storedMedia(from);
    // the simulator is the number's API base, on loopback: a page of the
    // operator's network a signed webhook could name is never kept
    const unknownType = (m) => m.ext === 'bin';
    assert.deepEqual(media.map((x) => [x.state, x.content_type, x.bytes]),
                     sent.map((m) => (unknownType(m)
                         ? ['failed', m.content_type, null]
                         : ['stored', m.type, m.data.length])));
    assert.match(ctx.cluster.senderLog(), new RegExp('media 4 of message '
        + '\\d+: from a private address, and of no type a phone sends '
        + '\\(given up\\)'));
    for (const [i, { url }] of media.entries()) {
        const m = sent[i];
        if (unknownType(m)) {
            assert.equal(url, null);
            continue;
        }
        assert.match(url, new RegExp(
            `^/media/[A-Za-z0-9_-]{43}\\.${m.ext}$`));
        const copy = await fetch(ctx.cluster.url(url));
        assert.equal(copy.status, 200, url);
        assert.equal(copy.headers.get('content-type'), m.type, m.ext);
        assert.equal(copy.headers.get('x-content-type-options'), 'nosniff');
        // an image is shown; anything else is only ever a download
        assert.equal(copy.headers.get('content-disposition'),
                     m.ext === 'png' ? null : 'attachment', m.ext);
        assert.deepEqual(Buffer.from(await copy.arrayBuffer()), m.data);
    }

    // a range past a download's end is the contract's JSON error, no
    // download and never cached
    const card = ctx.cluster.url(media[1].url);
    const past = await fetch(card, { headers: { Range: 'bytes=99999-' } });
    assert.equal(past.status, 416);
    assert.match(past.headers.get('content-type'), /application\/json/);
    assert.equal(past.headers.get('content-disposition'), null);
    assert.doesNotMatch(past.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await past.json()).error.code, 'invalid_request');
});

test('an empty file from the carrier is given up at once, the rest of the '
     + 'message kept', async () => {
    const from = uniqueNumber();
    await sim.inbound({ from, body: 'card', media: [
        { data: '', content_type: 'text/vcard' },
        { data: vcard().toString('base64'), content_type: 'text/vcard' }] });
    const media = await storedMedia(from);
    assert.deepEqual(media.map((x) => [x.state, x.content_type]),
                     [['failed', 'text/vcard'], ['stored', 'text/vcard']]);
    assert.equal(ctx.cluster.senderLog().match(
        /media 0 of message \d+: the carrier sent an empty file \(given up\)/)
        ?.length, 1);
});


// The copy of from's (first) image: { attempts, fetchIn (ms from now),
// state }; set: what to change first (SQL of message_media's columns).
async function copyOf(from, set) {
    const which = 'message_id = (SELECT m.id FROM messages m'
        + ' JOIN conversations v ON v.id = m.conversation_id'
        + ' JOIN contacts c ON c.id = v.contact_id'
        + ` WHERE c.phone = '${from}' ORDER BY m.id DESC LIMIT 1)`;
    const sql = (set ? `UPDATE message_media SET ${set} WHERE ${which};` : '')
        + 'SELECT attempts, fetch_at - CAST((julianday(\'now\')'
        + ' - 2440587.5) * 86400000 AS INTEGER), state FROM message_media'
        + ` WHERE ${which};`;
    const { stdout } = await promisify(execFile)(sqlite3Path,
        [ctx.cluster.storePath, sql]);
    const [attempts, fetchIn, state] = stdout.trim().split('|');
    return { attempts: Number(attempts), fetchIn: Number(fetchIn), state };
}

test('an image whose copy cannot be kept is tried again as a carrier\'s '
     + 'hiccup is, and given up after its tries: never fetched for ever',
async () => {
    const dir = ctx.cluster.mediaDir;
    const fetches = async () => (await sim.requests({ kind: 'media' }))
        .length;
    const from = uniqueNumber();
    renameSync(dir, `${dir}.away`);
    try {
        await sim.inbound({ from, body: 'look', media: ['sunset.jpg'] });
        // fetched, not kept: due again in a minute, not at the end of
        // the 5-minute lease
        let copy;
        await eventually(async () => {
            copy = await copyOf(from);
            return copy.attempts === 1 && copy.fetchIn < 2 * 60000;
        }, 15000, 'the first try recorded as failed');
        assert.equal(copy.state, 'pending');
        assert.ok(copy.fetchIn > 30000, `due in ${copy.fetchIn} ms`);

        // its last try fails too: given up
        await copyOf(from, 'attempts = 5, fetch_at = 0');
        await eventually(async () => (await copyOf(from)).state === 'failed',
            15000, 'the copy given up');
        const [{ media }] = await messagesOf(from);
        assert.deepEqual(media.map((m) => m.state), ['failed']);

        // one whose leases kept running out is given up without a fetch
        const other = uniqueNumber();
        await sim.inbound({ from: other, body: 'and', media: ['sunset.jpg'] });
        await eventually(async () => (await copyOf(other)).attempts === 1,
            15000, 'the first try');
        const before = await fetches();
        await copyOf(other, "attempts = 6, fetch_at = 0, state = 'pending'");
        await eventually(async () => (await copyOf(other)).state === 'failed',
            15000, 'the copy given up');
        assert.equal(await fetches(), before);
    } finally {
        renameSync(`${dir}.away`, dir);
    }
});

test('webhooks signed with another token are refused by the inbox and '
     + 'not retried', async () => {
    const org = ctx.cluster.orgs[0];
    await sim.configure({ twilio: { accounts: {
        [org.accountSid]: 'f'.repeat(32) } } });
    try {
        const from = uniqueNumber();
        const { webhook } = await sim.inbound({ from, body: 'forged' });
        assert.equal(webhook.state, 'refused');
        assert.equal(webhook.attempts.length, 1);
        assert.equal(webhook.attempts[0].response.status, 403);
        const list = await api(ctx.cluster,
                               '/api/v1/conversations?limit=200', org.token);
        assert.ok(!list.json.items.some((c) => c.contact.phone === from));
    } finally {
        await sim.configure({ twilio: { accounts: {
            [org.accountSid]: org.authToken } } });
    }
});

test('an image sent to the organization\'s second number, on another '
     + 'account, is copied with that account\'s credentials', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const number = uniqueNumber();
    const account = `AC${randomBytes(16).toString('hex')}`;
    const token = randomBytes(16).toString('hex');
    await inboxctl(cluster.store, 'number', 'add', org.id, number,
        '--carrier', 'twilio', '--account-sid', account,
        '--auth-token', token, '--api-base', sim.url);
    await sim.configure({ twilio: { accounts: { [account]: token } },
        numbers: [{ number, carrier: 'twilio', account }] });

    const from = uniqueNumber();
    await sim.inbound({ from, to: number, body: 'to the other line',
                        media: ['landscape.png'] });
    let media;
    await eventually(async () => {
        [{ media }] = await messagesOf(from);
        return media[0].state !== 'pending';
    }, 15000, 'the copy settled');
    assert.equal(media[0].state, 'stored');
    const [fetch] = (await sim.requests({ kind: 'media' }))
        .filter((r) => r.path.includes(`/Accounts/${account}/`));
    assert.ok(fetch, 'fetched from the second account');
    assert.deepEqual([fetch.auth?.scheme, fetch.auth?.user],
                     ['basic', account]);
});

// A server on the loopback that is not the number's carrier API (the
// simulator is): what an attacker would have the sender read, answering
// every request with an image so that only the sender's refusal keeps it
// out of the inbox.
async function privateServer() {
    return startReceiver(() => ({ status: 200, body: png(),
        headers: { 'Content-Type': 'image/png' } }));
}

// The copy of from's (only) image once it settled: 'stored' or 'failed'.
async function settledMedia(from) {
    let media;
    await eventually(async () => {
        [{ media }] = await messagesOf(from);
        return media[0].state !== 'pending';
    }, 15000, 'the copy settled');
    return media;
}

test('a signed webhook whose media URL is on a private address other than '
     + 'the number\'s carrier API: the message is kept, its image is never '
     + 'fetched (not even a connection) and fails for good', async () => {
    const secret = await privateServer();
    try {
        const from = uniqueNumber();
        await deliverInbound(ctx.cluster, { from, body: 'see this',
            media: [{ url: `${secret.url}/internal/secret`,
                      content_type: 'image/png' }] });
        const media = await settledMedia(from);
        assert.deepEqual(media.map((m) => [m.state, m.url]),
                         [['failed', null]]);
        assert.equal((await messagesOf(from))[0].body, 'see this');
        assert.equal(secret.connections, 0);
        assert.deepEqual(secret.received, []);
        const port = new URL(secret.url).port;
        assert.match(ctx.cluster.senderLog(), new RegExp(
            `refused to connect to 127\\.0\\.0\\.1 port ${port}: not a `
            + 'public address.*\\(given up\\)'));
    } finally {
        await secret.close();
    }
});

test('a redirect from the number\'s carrier API to a private address is '
     + 'not followed: the image fails for good, that server never reached',
async () => {
    const secret = await privateServer();
    await sim.configure({ twilio: { mediaRedirect: secret.url } });
    try {
        const from = uniqueNumber();
        const { message } = await sim.inbound({ from, body: 'moved',
                                                media: ['landscape.png'] });
        const media = await settledMedia(from);
        assert.deepEqual(media.map((m) => m.state), ['failed']);
        // the carrier was asked, with the credentials, and redirected
        const [asked] = (await sim.requests({ kind: 'media' }))
            .filter((r) => r.path.includes(`/Messages/${message.id}/`));
        assert.equal(asked?.response?.status, 307);
        assert.equal(secret.connections, 0);
    } finally {
        await sim.configure({ twilio: { mediaRedirect: null } });
        await secret.close();
    }
});

test('another number\'s carrier API is not this one\'s: a media URL on '
     + 'it is refused, even while the sender holds a connection open to '
     + 'it', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    // this number's carrier API is elsewhere (nothing listens there)
    const number = uniqueNumber();
    await inboxctl(cluster.store, 'number', 'add', org.id, number,
        '--carrier', 'twilio', '--account-sid', org.accountSid,
        '--auth-token', org.authToken, '--api-base', 'http://127.0.0.1:9');

    // an image copied from the simulator leaves a connection to it in the
    // sender's pool, kept alive for a few seconds
    const first = uniqueNumber();
    const { message } = await sim.inbound({ from: first, body: 'open',
                                            media: ['landscape.png'] });
    assert.deepEqual((await settledMedia(first)).map((m) => m.state),
                     ['stored']);
    const link = message.media[0].url;

    const from = uniqueNumber();
    await deliverInbound(cluster, { from, to: number, body: 'theirs',
        media: [{ url: link, content_type: 'image/png' }] });
    assert.deepEqual((await settledMedia(from)).map((m) => m.state),
                     ['failed']);
    const asked = (await sim.requests({ kind: 'media' }))
        .filter((r) => link.endsWith(r.path));
    assert.equal(asked.length, 1, 'only the first copy reached it');
});

// Twilio (by default) and Telnyx answer STOP, START and HELP themselves and
// refuse any send after a STOP, as the simulator does by default.

// A number of the organization's on its Twilio account, known to the
// simulator; extra: inboxctl's options after the carrier's.
async function addNumber(...extra) {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const number = uniqueNumber();
    await inboxctl(cluster.store, 'number', 'add', org.id, number,
        '--carrier', 'twilio', '--account-sid', org.accountSid,
        '--auth-token', org.authToken, '--api-base', sim.url, ...extra);
    await sim.configure({ numbers: [{ number, carrier: 'twilio',
                                      account: org.accountSid }] });
    return number;
}

async function contactOf(phone) {
    const org = ctx.cluster.orgs[0];
    const list = await api(ctx.cluster, '/api/v1/conversations?limit=200',
                           org.token);
    return list.json.items.find((c) => c.contact.phone === phone).contact;
}

test('on a number set --keyword-answers carrier, a STOP opts the contact '
     + 'out and leaves no failed message in the thread: the phone gets the '
     + 'carrier\'s answer alone; HELP and START get no second answer; the '
     + 'thread waits for no response, the STOP having ended the wait of the '
     + 'question before it',
async () => {
    const number = await addNumber('--keyword-answers', 'carrier');
    const from = uniqueNumber();
    const org = ctx.cluster.orgs[0];
    const unresponded = async () => (await api(ctx.cluster,
        '/api/v1/conversations?filter=unresponded&limit=200', org.token))
        .json.items.some((c) => c.contact.phone === from);

    await sim.inbound({ from, to: number, body: 'Where is my order?' });
    await eventually(unresponded, 5000, 'the question waits');
    const stop = await sim.inbound({ from, to: number, body: 'STOP' });
    assert.equal(stop.webhook.state, 'delivered');
    await eventually(async () => (await contactOf(from)).opted_out, 5000,
                     'the contact opted out');
    await sim.inbound({ from, to: number, body: 'HELP' });
    await sim.inbound({ from, to: number, body: 'START' });
    await eventually(async () => !(await contactOf(from)).opted_out, 5000,
                     'the contact opted back in');

    // what the sender might have sent has had its time
    await sleep(1500);
    const msgs = await messagesOf(from);
    assert.deepEqual(msgs.map((m) => [m.direction, m.body]),
                     [['inbound', 'START'], ['inbound', 'HELP'],
                      ['inbound', 'STOP'], ['inbound', 'Where is my order?']]);
    assert.equal(await unresponded(), false,
                 'no response awaited after the STOP');
    const sent = (await sim.requests({ kind: 'send' }))
        .filter((r) => new URLSearchParams(r.body).get('To') === from);
    assert.deepEqual(sent, [], 'the inbox sent the phone nothing');

    // the phone got the carrier's answer to each, one apiece
    const replies = (await sim.messages({ contact: from }))
        .filter((m) => m.carrier_reply).map((m) => m.body);
    assert.equal(replies.length, 3, JSON.stringify(replies));
    assert.ok(replies.some((b) => /unsubscribed/.test(b)));
    assert.ok(replies.some((b) => /re-subscribed/.test(b)));
    assert.ok(replies.some((b) => /^Reply STOP/.test(b)));
});

test('a number set --keyword-answers inbox has the inbox confirm a STOP '
     + '(queued free); at a carrier that confirms it too, that one is '
     + 'refused as opted out', async () => {
    const number = await addNumber('--keyword-answers', 'inbox');
    const from = uniqueNumber();
    await sim.inbound({ from, to: number, body: 'STOP' });
    let notice;
    await eventually(async () => {
        [notice] = await messagesOf(from);
        return notice.direction === 'outbound';
    }, 5000, 'the confirmation queued');
    assert.match(notice.body, /unsubscribed/);
    assert.equal(notice.credits, 0);
    await eventually(async () => {
        [notice] = await messagesOf(from);
        return notice.status === 'failed';
    }, 15000, 'the carrier\'s refusal');
    assert.equal(notice.error_code, 'contact_opted_out');
});

// What the inbox sent the contact's phone through the simulated carrier,
// the carrier's own answers aside, once count texts have gone.
async function sentTo(phone, count) {
    let sent;
    await eventually(async () => {
        sent = (await sim.messages({ contact: phone })).filter(
            (m) => m.direction === 'outbound' && !m.carrier_reply);
        return sent.length >= count;
    }, 15000, `${count} text(s) sent to ${phone}`);
    return sent;
}

// Canada's bilingual rule (CWTA): the French keywords work and are
// answered in French.  The simulated carrier leaves them to the inbox.
test('a contact texting "Arrêt" gets the French confirmation on its '
     + 'phone, one texting "AIDE" the French help', async () => {
    const number = await addNumber('--keyword-answers', 'inbox');

    const stopper = uniqueNumber();
    await sim.inbound({ from: stopper, to: number, body: 'Arr\u00eat' });
    const [confirmation] = await sentTo(stopper, 1);
    assert.equal(confirmation.body, 'Simulated Org : vous \u00eates '
        + 'd\u00e9sabonn\u00e9 et ne recevrez plus de messages. '
        + 'R\u00e9pondez START pour vous r\u00e9abonner.');
    assert.equal(confirmation.from, number);
    assert.equal(confirmation.segments, 2);
    assert.equal((await contactOf(stopper)).opted_out, true);

    const asker = uniqueNumber();
    await sim.inbound({ from: asker, to: number, body: 'AIDE' });
    const [help] = await sentTo(asker, 1);
    assert.equal(help.body, 'Simulated Org : pour de l\'aide, '
        + 'r\u00e9pondez \u00e0 ce message. R\u00e9pondez ARR\u00caT pour '
        + 'vous d\u00e9sabonner.');
    assert.equal(help.segments, 2);
});

test('inboxctl number add leaves keyword answers to the carrier unless '
     + 'told otherwise; number set keeps them unless given, and takes inbox '
     + 'or carrier only', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const number = await addNumber();
    const stored = async () => (await promisify(execFile)(sqlite3Path,
        [cluster.storePath, 'SELECT carrier_answers_keywords FROM numbers'
         + ` WHERE e164 = '${number}'`])).stdout.trim();
    const set = (...extra) => inboxctl(cluster.store, 'number', 'set',
        org.id, number, '--carrier', 'twilio', '--account-sid',
        org.accountSid, '--auth-token', org.authToken, '--api-base',
        sim.url, ...extra);
    assert.equal(await stored(), '1');
    await set();                        // a rotated token, say
    assert.equal(await stored(), '1');
    await set('--keyword-answers', 'inbox');
    assert.equal(await stored(), '0');
    await assert.rejects(set('--keyword-answers', 'both'),
                         /--keyword-answers must be inbox or carrier/);
    assert.equal(await stored(), '0');

    // set back to the inbox's answers, HELP is answered by the inbox
    const from = uniqueNumber();
    await sim.inbound({ from, to: number, body: 'help' });
    await eventually(async () => (await messagesOf(from))
        .some((m) => m.direction === 'outbound'), 5000, 'the HELP answer');
});

// The inbox answers 503 when it cannot store a message, and Twilio sends
// it again only when the number's webhook URL asks it to (README.md):
// with the URL the docs give, the message the store was too busy for is
// stored by the retry, the inbox checking the signature of the URL
// without the fragment, as Twilio signs it; with the bare URL it is lost.
test('with the webhook URL the docs give, a message answered 503 while '
     + 'the store is locked is stored by Twilio\'s retry; with the bare '
     + 'URL it is lost', { timeout: 60000 }, async () => {
    const cluster = ctx.cluster;
    const org = cluster.orgs[0];
    const numberWith = (smsUrl) => sim.configure({ numbers: [{
        number: org.number, carrier: 'twilio', account: org.accountSid,
        ...(smsUrl ? { smsUrl } : {}) }] });
    // the first try waits out the store's busy timeout and is 503; the
    // lock goes then, before a retry could have waited out its own
    const whileLocked = async (from) => {
        const lock = await cluster.lockStore();
        try {
            const { message } = await sim.inbound({ from, to: org.number,
                                                    body: 'open?',
                                                    wait: false });
            await eventually(async () => {
                const [w] = await sim.webhooks({ message_id: message.id });
                return w?.attempts[0]?.response?.status === 503;
            }, 20000, 'the first try answered 503');
            return message;
        } finally {
            await lock.release();
        }
    };
    const settled = (message) => eventually(async () => {
        const [w] = await sim.webhooks({ message_id: message.id });
        return w.state !== 'pending' ? w : null;
    }, 20000, 'the webhook settled');
    const stored = async (from) => {
        const list = await api(cluster, '/api/v1/conversations?limit=200',
                               org.token);
        return list.json.items.some((c) => c.contact.phone === from);
    };

    await numberWith(`${cluster.baseUrl}/webhooks/twilio/inbound`
                     + '#rp=5xx,ct&rc=3');
    try {
        const from = uniqueNumber();
        const w = await settled(await whileLocked(from));
        assert.equal(w.state, 'delivered');
        assert.deepEqual(w.attempts.map((a) => a.response.status),
                         [503, 200]);
        const msgs = await messagesOf(from);
        assert.deepEqual(msgs.map((m) => m.body), ['open?']);
    } finally {
        await numberWith(null);
    }

    const from = uniqueNumber();
    const w = await settled(await whileLocked(from));
    assert.equal(w.state, 'failed');
    assert.deepEqual(w.attempts.map((a) => a.response.status), [503]);
    assert.equal(await stored(from), false);
});

errorLogIsCleanTest(ctx);
