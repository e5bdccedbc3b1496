// Images: POST /api/v1/media (the type by the bytes, never by the
// Content-Type; 415 for anything else, 413 over the limit, nothing stored
// either way; bearer or cookie with the CSRF header) and GET /media/FILE,
// served by nginx itself from inbox_media_dir: the same bytes, the right
// type, nosniff, and nothing else of the disk reachable.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inboxctl, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, connectWs, deliverInbound } from
    '../lib/inbox.mjs';
import { addUser, login } from '../lib/session.mjs';
import { png, gif, jpegLike, upload } from '../lib/media.mjs';

const execFileAsync = promisify(execFile);
const ctx = useCluster({ orgs: [{ name: 'Media Org' }] });
const LIMIT = 5 * 1024 * 1024;
const TOKEN_FILE = /^\/media\/[A-Za-z0-9_-]{43}\.(jpg|png|gif)$/;

const bearer = () => ({ Authorization: `Bearer ${ctx.cluster.orgs[0].token}` });

async function stored() {
    const { stdout } = await execFileAsync(sqlite3Path,
        [ctx.cluster.storePath, 'SELECT count(*) FROM media']);
    return Number(stdout.trim());
}

const files = () => readdirSync(ctx.cluster.mediaDir).sort();

// A GET (or another method's request, without a body) as sent, byte for
// byte (fetch would clean up the path first).
function rawGet(path, method = 'GET', headers = {}) {
    const { port } = new URL(ctx.cluster.baseUrl);
    return new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, method,
                              headers },
            (res) => {
                const parts = [];
                res.on('data', (b) => parts.push(b));
                res.on('end', () => resolve({ status: res.statusCode,
                    headers: res.headers, body: Buffer.concat(parts) }));
            });
        req.on('error', reject);
        req.end();
    });
}

// A chunked POST (no Content-Length: nothing to refuse it by before it
// arrives) of n bytes that begin as a PNG.
function chunkedUpload(n) {
    const { port } = new URL(ctx.cluster.baseUrl);
    return new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/api/v1/media',
            method: 'POST', headers: { ...bearer(),
                'Content-Type': 'image/png',
                'Transfer-Encoding': 'chunked' } },
        (res) => {
            const parts = [];
            res.on('data', (b) => parts.push(b));
            res.on('end', () => resolve({ status: res.statusCode,
                text: Buffer.concat(parts).toString() }));
        });
        req.on('error', reject);
        const head = png(1, 1);
        req.write(head);
        let left = n - head.length;
        const piece = Buffer.alloc(256 * 1024, 0x61);
        const more = () => {
            while (left > 0) {
                const b = piece.subarray(0, Math.min(left, piece.length));
                left -= b.length;
                if (!req.write(b)) {
                    req.once('drain', more);
                    return;
                }
            }
            req.end();
        };
        more();
    });
}

async function uploadOk(body, type) {
    const res = await upload(ctx.cluster, body,
        { ...bearer(), 'Content-Type': type });
    assert.equal(res.status, 201, res.text);
    return res.json;
}

// url: as the API gives it, a path on the inbox's origin
async function fetchMedia(url) {
    const res = await fetch(new URL(url, ctx.cluster.baseUrl));
    return { status: res.status, headers: res.headers,
             body: Buffer.from(await res.arrayBuffer()) };
}

test('JPEG, PNG and GIF uploads are served back, byte for byte, with '
     + 'their type and nosniff', async () => {
    const cases = [
        [jpegLike(3000), 'image/jpeg', 'jpg'],
        [png(16, 16), 'image/png', 'png'],
        [gif, 'image/gif', 'gif'],
        // past nginx's body buffer: from its temporary file
        [png(4, 4, [1, 2, 3], 300 * 1024), 'image/png', 'png'],
    ];
    for (const [bytes, type, ext] of cases) {
        const media = await uploadOk(bytes, type);
        assert.equal(typeof media.id, 'string');
        assert.equal(media.content_type, type);
        assert.equal(media.bytes, bytes.length);
        // a path on the inbox's origin, as a message's media show it
        assert.match(media.url, TOKEN_FILE);
        assert.ok(media.url.endsWith(`.${ext}`));

        const got = await fetchMedia(media.url);
        assert.equal(got.status, 200);
        assert.equal(got.headers.get('content-type'), type);
        assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
        assert.ok(got.body.equals(bytes), 'the same bytes');
        // written whole, under its name only
        assert.ok(readFileSync(join(ctx.cluster.mediaDir,
            media.url.slice('/media/'.length))).equals(bytes));
    }
    assert.ok(files().every((f) => !f.startsWith('.')),
        `no temporary file left: ${files()}`);
});

test('the bytes decide the type, whatever the Content-Type says',
    async () => {
    const asJpeg = await uploadOk(png(2, 2), 'image/jpeg');
    assert.equal(asJpeg.content_type, 'image/png');
    assert.ok(asJpeg.url.endsWith('.png'));
    const got = await fetchMedia(asJpeg.url);
    assert.equal(got.headers.get('content-type'), 'image/png');

    const asText = await uploadOk(jpegLike(100), 'text/plain');
    assert.equal(asText.content_type, 'image/jpeg');
    assert.ok(asText.url.endsWith('.jpg'));
});

test('what is not a JPEG, PNG or GIF is 415 and stores nothing',
    async () => {
    const before = [await stored(), files()];
    const bodies = [
        ['<html><script>alert(1)</script></html>', 'image/png'],
        ['<svg xmlns="http://www.w3.org/2000/svg"/>', 'image/gif'],
        ['just text', 'text/plain'],
        [Buffer.from('RIFF\0\0\0\0WEBPVP8 '), 'image/jpeg'],
        [Buffer.alloc(0), 'image/png'],
    ];
    for (const [body, type] of bodies) {
        const res = await upload(ctx.cluster, body,
            { ...bearer(), 'Content-Type': type });
        assertError(res, 415, 'unsupported_media_type');
    }
    assert.deepEqual([await stored(), files()], before);
});

test('over the limit is 413 before the body is read, and stores nothing; '
     + 'the limit itself is taken', async () => {
    const before = [await stored(), files()];

    const big = Buffer.alloc(LIMIT + 1, 0x61);
    png(1, 1).copy(big);
    const res = await upload(ctx.cluster, big,
        { ...bearer(), 'Content-Type': 'image/png' });
    assertError(res, 413, 'too_large');

    // chunked: refused as it arrives
    const chunked = await chunkedUpload(LIMIT + 64 * 1024);
    assert.equal(chunked.status, 413, chunked.text);
    assert.equal(JSON.parse(chunked.text).error.code, 'too_large');
    assert.deepEqual([await stored(), files()], before);

    const media = await uploadOk(big.subarray(0, LIMIT), 'image/png');
    assert.equal(media.bytes, LIMIT);
    assert.equal(await stored(), before[0] + 1);
});

test('an upload needs a token, or a session with the CSRF header',
    async () => {
    const before = await stored();
    assertError(await upload(ctx.cluster, gif,
        { 'Content-Type': 'image/gif' }), 401, 'unauthenticated');
    assertError(await upload(ctx.cluster, gif,
        { Authorization: 'Bearer ibx_not-a-token', 'Content-Type':
          'image/gif' }), 401, 'unauthenticated');

    const org = ctx.cluster.orgs[0];
    await addUser(ctx.cluster, org, 'uploader@media.example',
        'upload password');
    const session = await login(ctx.cluster, 'uploader@media.example',
        'upload password');
    assert.equal(session.status, 200, session.text);

    assertError(await upload(ctx.cluster, gif, { Cookie: session.cookie,
        'Content-Type': 'image/gif' }), 403, 'forbidden');
    assert.equal(await stored(), before);

    const res = await upload(ctx.cluster, gif, { Cookie: session.cookie,
        'X-Requested-With': 'inbox', 'Content-Type': 'image/gif' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.content_type, 'image/gif');
});

test('only the files the inbox made are served: made-up tokens, other '
     + 'names and paths out of the directory are 404', async () => {
    const media = await uploadOk(png(3, 3), 'image/png');
    const path = media.url;
    const token = path.slice('/media/'.length, -'.png'.length);

    // what else could be in the directory, or next to it
    writeFileSync(join(ctx.cluster.mediaDir, 'notes.txt'), 'secret');
    writeFileSync(join(ctx.cluster.mediaDir, `.${token}.tmp`), 'partial');
    writeFileSync(join(ctx.cluster.mediaDir, `${'Z'.repeat(43)}.html`),
        '<script>alert(1)</script>');

    // inside /media/: the contract's 404
    const missing = [
        `/media/${'A'.repeat(43)}.png`,
        `/media/${token}.jpg`,
        `/media/${token}.PNG`,
        `/media/${token}.png/`,
        `/media/${token}`,
        `/media/${token.slice(1)}.png`,
        '/media/',
        '/media/notes.txt',
        `/media/.${token}.tmp`,
        `/media/${'Z'.repeat(43)}.html`,
    ];
    // out of it: nginx cleans the path up first (or refuses it), and
    // what is left is not a media file either
    const outside = [
        '/media/../inbox.db',
        '/media/%2e%2e/inbox.db',
        '/media/..%2finbox.db',
        `/media/${token}.png/../../inbox.db`,
        '/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
        '/media/../media/../../inbox.db',
        `/media/${token}.png%00.html`,
    ];
    for (const p of [...missing, ...outside]) {
        const res = await rawGet(p);
        if (missing.includes(p)) {
            assert.equal(res.status, 404, `${p}: ${res.status}`);
            assert.equal(JSON.parse(res.body).error.code, 'not_found', p);
        } else {
            assert.ok([400, 404].includes(res.status), `${p}: ${res.status}`);
        }
        assert.ok(!res.body.includes('secret') && !res.body.includes('SQLite')
            && !res.body.includes('partial') && !res.body.includes('alert')
            && !res.body.includes('root:'),
            `${p} leaked: ${res.body.toString().slice(0, 80)}`);
    }

    // the real one still is
    const got = await rawGet(path);
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-type'], 'image/png');

    // a part of it too; a range past its end is the contract's JSON,
    // never kept by a cache as the file's answer for a year
    const part = await rawGet(path, 'GET', { Range: 'bytes=0-7' });
    assert.equal(part.status, 206);
    assert.equal(part.body.length, 8);
    const past = await rawGet(path, 'GET', { Range: 'bytes=99999-' });
    assert.equal(past.status, 416);
    assert.match(past.headers['content-type'], /application\/json/);
    assert.equal(JSON.parse(past.body).error.code, 'invalid_request');
    assert.doesNotMatch(past.headers['cache-control'] ?? '', /immutable/);
    assert.equal(past.headers['x-content-type-options'], 'nosniff');

    // and is only read: anything else is the contract's 405, not nginx's
    // HTML page
    for (const method of ['POST', 'PUT', 'DELETE']) {
        const res = await rawGet(path, method);
        assert.equal(res.status, 405, method);
        assert.match(res.headers['content-type'], /application\/json/,
                     method);
        assert.equal(JSON.parse(res.body).error.code, 'method_not_allowed',
                     method);
    }
});

test('images adding up to more than a message carries (5 MB) are refused '
     + 'with the send, naming media_ids; each alone is fine', async () => {
    const big = () => Buffer.concat([png(1, 1),
        Buffer.alloc(3 * 1024 * 1024, 0x61)]);
    const a = await uploadOk(big(), 'image/png');
    const b = await uploadOk(big(), 'image/png');
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body: 'send pictures' });
    const list = await api(ctx.cluster, '/api/v1/conversations',
        ctx.cluster.orgs[0].token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    const send = (ids) => api(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`,
        ctx.cluster.orgs[0].token, { method: 'POST',
            body: { body: 'here', media_ids: ids } });

    const e = assertError(await send([a.id, b.id]), 400, 'invalid_request');
    assert.equal(e.field, 'media_ids');
    assert.match(e.message, /6\.0 MB; a message carries 5 MB in all/);
    // one of them is not refused for its size (this org has no credits)
    assertError(await send([a.id]), 402, 'insufficient_credits');
});

test('an image to a number no MMS reaches is refused with the send, '
     + 'naming media_ids; the thread says so before', async () => {
    const a = await uploadOk(png(1, 1), 'image/png');
    const from = '+447700900461';
    await deliverInbound(ctx.cluster, { from, body: 'photos please' });
    const list = await api(ctx.cluster, '/api/v1/conversations',
        ctx.cluster.orgs[0].token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    assert.equal(conv.contact.can_receive_mms, false);
    const us = list.json.items.find((c) => c.contact.phone !== from);
    assert.equal(us.contact.can_receive_mms, true);
    const contact = await api(ctx.cluster,
        `/api/v1/contacts/${conv.contact.id}`, ctx.cluster.orgs[0].token);
    assert.equal(contact.json.can_receive_mms, false);

    const res = await api(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`,
        ctx.cluster.orgs[0].token, { method: 'POST',
            body: { body: 'here', media_ids: [a.id] } });
    const e = assertError(res, 400, 'invalid_request');
    assert.equal(e.field, 'media_ids');
    assert.match(e.message, /only numbers in the US and Canada/);
    const msgs = await api(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`,
        ctx.cluster.orgs[0].token);
    assert.equal(msgs.json.items.length, 1);
});

test('an inbound MMS shows each image waiting for its copy, never the '
     + 'carrier\'s URL', async () => {
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body: 'look', media: [
        { url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/'
               + 'Media/ME1', content_type: 'image/jpeg' },
        { url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/'
               + 'Media/ME2', content_type: 'image/png' },
    ] });
    const list = await api(ctx.cluster, '/api/v1/conversations',
        ctx.cluster.orgs[0].token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    const messages = await api(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`,
        ctx.cluster.orgs[0].token);
    assert.deepEqual(messages.json.items[0].media, [
        { url: null, content_type: 'image/jpeg', state: 'pending',
          bytes: null },
        { url: null, content_type: 'image/png', state: 'pending',
          bytes: null },
    ]);
    assert.ok(!messages.text.includes('api.twilio.com'));
});

// The image names its upload ("id") wherever the message is shown, so
// that the message goes again (the composer's Send again) naming it in
// media_ids rather than uploading its bytes again.
test('a message shows its image at the URL its upload answered, a path on '
     + 'the inbox\'s origin, over HTTP, in message.created and in the '
     + 'contact\'s timeline, with its upload\'s id; each fetches the '
     + 'image, and a send naming that id carries the same image', async () => {
    const org = ctx.cluster.orgs[0];
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { from, body: 'a picture please' });
    const list = await api(ctx.cluster, '/api/v1/conversations', org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    const bytes = png(6, 6, [10, 120, 200]);
    const up = await uploadOk(bytes, 'image/png');
    assert.match(up.url, TOKEN_FILE);

    // an MMS is 2 credits, and it goes twice: this organization has
    // none otherwise
    await inboxctl(ctx.cluster.store, 'credits', 'grant', org.id, '4');
    const ws = await connectWs(ctx.cluster, org.token);
    try {
        const sent = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body: 'here',
                                      media_ids: [up.id] } });
        assert.equal(sent.status, 201, sent.text);
        const message = sent.json;

        const frames = await ws.waitFor((fs) => fs.some((f) =>
            f.type === 'message.created' && f.message.id === message.id),
            5000, 'the message\'s message.created');
        const created = frames.find((f) => f.type === 'message.created'
            && f.message.id === message.id);

        const listed = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token);
        const timeline = await api(ctx.cluster,
            `/api/v1/contacts/${conv.contact.id}/timeline`, org.token);
        assert.equal(timeline.status, 200, timeline.text);
        const item = timeline.json.items.find((i) => i.type === 'message'
            && i.message.id === message.id);
        assert.ok(item, 'the message in the timeline');

        const seen = {
            'the send\'s answer': message.media,
            'the thread': listed.json.items.find(
                (m) => m.id === message.id).media,
            'message.created': created.message.media,
            'the timeline': item.message.media,
        };
        for (const [where, media] of Object.entries(seen)) {
            assert.deepEqual(media, [{ id: up.id, url: up.url,
                content_type: 'image/png', state: 'stored',
                bytes: up.bytes }], where);
        }

        // the message again, as the thread shows it: the same upload,
        // no new file
        const before = files();
        const uploads = await stored();
        const again = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body: 'here', media_ids:
                seen['the thread'].map((m) => m.id) } });
        assert.equal(again.status, 201, again.text);
        assert.notEqual(again.json.id, message.id);
        assert.deepEqual(again.json.media, message.media);
        assert.deepEqual(files(), before);
        assert.equal(await stored(), uploads);
    } finally {
        ws.close();
    }

    const got = await fetchMedia(up.url);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'image/png');
    assert.ok(got.body.equals(bytes), 'the same bytes');
});

errorLogIsCleanTest(ctx);
