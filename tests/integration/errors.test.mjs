// What nginx answers by itself, before the module sees a request: a
// malformed request line or header, a body over client_max_body_size, a
// path nothing serves, ws-server down.  Under /api/, /webhooks/ and /ws it
// must be the contract's JSON error, never nginx's HTML page.  Also the
// headers that keep the web app out of frames and sniffers, what the
// shipped access log keeps of a WebSocket ticket, and the words of what
// the store refuses (a sentence, whichever backend said it).

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, connectWs, ticket, wsUrl }
    from '../lib/inbox.mjs';
import { gif, upload } from '../lib/media.mjs';

const ctx = useCluster();

// Sends raw bytes on a fresh connection and resolves with the parsed
// answer ({ status, headers, text, json }), read until the server closes
// or the announced body has arrived.
function rawHttp(port, bytes) {
    return new Promise((ok, fail) => {
        const sock = connect(port, '127.0.0.1');
        let buf = Buffer.alloc(0);
        const finish = () => {
            const text = buf.toString('latin1');
            const head = text.slice(0, text.indexOf('\r\n\r\n'));
            const lines = head.split('\r\n');
            const headers = new Headers();
            for (const line of lines.slice(1)) {
                const i = line.indexOf(':');
                headers.append(line.slice(0, i).trim(),
                               line.slice(i + 1).trim());
            }
            const body = buf.subarray(head.length + 4).toString('utf8');
            let json;
            try { json = JSON.parse(body); } catch { json = undefined; }
            ok({ status: Number(lines[0].split(' ')[1]), headers,
                 text: body, json });
            sock.destroy();
        };
        sock.on('data', (d) => {
            buf = Buffer.concat([buf, d]);
            const text = buf.toString('latin1');
            const end = text.indexOf('\r\n\r\n');
            const m = text.match(/\r\ncontent-length: *(\d+)/i);
            if (end >= 0 && m && buf.length >= end + 4 + Number(m[1])) {
                finish();
            }
        });
        sock.on('end', finish);
        sock.on('error', fail);
        sock.write(bytes);
    });
}

test('a duplicated Authorization header is 400 in JSON', async () => {
    const c = ctx.cluster ?? await ctx.ready;
    const token = c.orgs[0].token;
    const res = await rawHttp(c.port, 'GET /api/v1/conversations HTTP/1.1\r\n'
        + 'Host: localhost\r\n'
        + `Authorization: Bearer ${token}\r\n`
        + `Authorization: Bearer ${token}\r\n`
        + 'Connection: close\r\n\r\n');
    assertError(res, 400, 'invalid_request');
});

test('NUL in the path is 400 in JSON', async () => {
    const c = ctx.cluster;
    for (const path of ['/api/v1/conversations%00x', '/webhooks/twilio/%00',
                        '/ws%00']) {
        const res = await rawHttp(c.port, `GET ${path} HTTP/1.1\r\n`
            + 'Host: localhost\r\nConnection: close\r\n\r\n');
        assertError(res, 400, 'invalid_request');
    }
});

test('a malformed request line and oversized headers are JSON too',
    async () => {
        const c = ctx.cluster;
        const bad = await rawHttp(c.port, 'GET /api/v1/ HTTP/1.1 x\r\n'
            + 'Host: localhost\r\nConnection: close\r\n\r\n');
        assertError(bad, 400, 'invalid_request');
        const big = await rawHttp(c.port, 'GET /api/v1/conversations '
            + 'HTTP/1.1\r\nHost: localhost\r\n'
            + `X-Big: ${'a'.repeat(40000)}\r\nConnection: close\r\n\r\n`);
        // nginx reports oversized headers as a plain 400
        assertError(big, 400, 'invalid_request');
    });

test('a transfer coding or an HTTP version nginx does not speak, and an '
     + 'empty chunked body, are JSON too', async () => {
    const c = ctx.cluster;
    const token = c.orgs[0].token;
    const gzip = await rawHttp(c.port, 'POST /api/v1/contacts HTTP/1.1\r\n'
        + 'Host: localhost\r\nTransfer-Encoding: gzip\r\n'
        + 'Connection: close\r\n\r\n');
    assertError(gzip, 501, 'invalid_request');
    const version = await rawHttp(c.port, 'GET /api/v1/conversations '
        + 'HTTP/2.0\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    assertError(version, 505, 'invalid_request');
    const empty = await rawHttp(c.port, 'POST /api/v1/contacts HTTP/1.1\r\n'
        + `Host: localhost\r\nAuthorization: Bearer ${token}\r\n`
        + 'Content-Type: application/json\r\n'
        + 'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n'
        + '0\r\n\r\n');
    assertError(empty, 400, 'invalid_request');
});

test('a body over nginx\'s limit is 413 too_large in JSON', async () => {
    const c = ctx.cluster;
    const res = await fetch(c.url('/api/v1/conversations/1/read'), {
        method: 'POST',
        headers: { Authorization: `Bearer ${c.orgs[0].token}`,
                   'Content-Type': 'application/json' },
        body: 'x'.repeat(1024 * 1024 + 1),
    });
    const text = await res.text();
    assertError({ status: res.status, headers: res.headers, text,
                  json: JSON.parse(text) }, 413, 'too_large');
});

test('a method nginx refuses itself is 405 in JSON with Allow', async () => {
    const c = ctx.cluster ?? await ctx.ready;
    const media = await upload(c, gif, { 'Content-Type': 'image/gif',
        Authorization: `Bearer ${c.orgs[0].token}` });
    assert.equal(media.status, 201, media.text);
    const path = media.json.url;

    // the image itself: GET and HEAD only
    for (const method of ['POST', 'DELETE']) {
        const res = await fetch(c.url(path), { method });
        const json = await res.json();
        assert.equal(res.status, 405, method);
        assert.equal(json.error.code, 'method_not_allowed');
        assert.equal(res.headers.get('allow'), 'GET, HEAD', method);
    }
    assert.equal((await fetch(c.url(path))).status, 200);

    // TRACE, refused before any location
    const res = await rawHttp(c.port, 'TRACE /api/v1/conversations '
        + 'HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    assertError(res, 405, 'method_not_allowed');
    assert.equal(res.headers.get('allow'), 'GET, HEAD');

    // the API's own 405 keeps its own Allow, once
    const api405 = await api(c, '/api/v1/auth/login', null);
    assertError(api405, 405, 'method_not_allowed');
    assert.equal(api405.headers.get('allow'), 'POST');
});

test('paths nothing serves under /api/ and /webhooks/ are 404 in JSON',
    async () => {
        const c = ctx.cluster;
        assertError(await api(c, '/api/v2/conversations', null), 404,
                    'not_found');
        const res = await fetch(c.url('/webhooks/nowhere'), {
            method: 'POST', body: 'a=b',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        });
        const text = await res.text();
        assertError({ status: res.status, headers: res.headers, text,
                      json: JSON.parse(text) }, 404, 'not_found');
    });

test('what the store refuses is said in sentences a person can act on: '
     + 'an unknown conversation, contact, campaign or poll, a cursor no '
     + 'list gave, a number that is a contact already', async () => {
    const c = ctx.cluster ?? await ctx.ready;
    const call = (path, opts) => api(c, path, c.orgs[0].token, opts);
    const unknown = '999999';
    const CURSOR = 'This cursor was not given by this list; start again '
        + 'without it.';
    const cases = [
        [`/api/v1/conversations/${unknown}`, {}, 404,
         'There is no such conversation.'],
        [`/api/v1/conversations/${unknown}/messages`, {}, 404,
         'There is no such conversation.'],
        [`/api/v1/conversations/${unknown}/read`, { method: 'POST' }, 404,
         'There is no such conversation.'],
        [`/api/v1/contacts/${unknown}`, {}, 404, 'There is no such contact.'],
        [`/api/v1/contacts/${unknown}`, { method: 'PATCH',
          body: { name: 'Nobody' } }, 404, 'There is no such contact.'],
        [`/api/v1/contacts/${unknown}/timeline`, {}, 404,
         'There is no such contact.'],
        [`/api/v1/campaigns/${unknown}`, {}, 404,
         'There is no such campaign.'],
        [`/api/v1/polls/${unknown}`, {}, 404, 'There is no such poll.'],
        [`/api/v1/polls/${unknown}/pause`, { method: 'POST' }, 404,
         'There is no such poll.'],
        ['/api/v1/conversations?cursor=nope', {}, 400, CURSOR],
        ['/api/v1/contacts?cursor=nope', {}, 400, CURSOR],
    ];
    for (const [path, opts, status, message] of cases) {
        const res = await call(path, opts);
        const e = assertError(res, status,
            status === 404 ? 'not_found' : 'invalid_request');
        assert.equal(e.message, message, `${opts.method ?? 'GET'} ${path}`);
    }

    const phone = uniqueNumber();
    const first = await call('/api/v1/contacts', { method: 'POST',
                                                   body: { phone } });
    assert.equal(first.status, 201, first.text);
    const again = assertError(await call('/api/v1/contacts',
        { method: 'POST', body: { phone } }), 409, 'conflict');
    assert.equal(again.field, 'phone');
    const d = phone.slice(2);
    assert.equal(again.message, `+1 (${d.slice(0, 3)}) ${d.slice(3, 6)}-`
                 + `${d.slice(6)} is a contact already.`);
});

test('/ws with ws-server down is 503 unavailable in JSON, and works again '
    + 'once it is back', async () => {
    const c = ctx.cluster;
    const t = await ticket(c, c.orgs[0].token);
    await c.stopWs();
    try {
        const u = new URL(wsUrl(c, t));
        const res = await rawHttp(c.port, `GET ${u.pathname}${u.search} `
            + 'HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n'
            + 'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n'
            + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
            + 'Sec-WebSocket-Protocol: inbox.v1\r\n\r\n');
        assertError(res,
                    503, 'unavailable');
    } finally {
        await c.startWs();
    }
    const ws = await connectWs(c, c.orgs[0].token);
    await ws.waitForTypes(['hello']);
    ws.close();
});

test('the web app forbids framing, sniffing and foreign scripts',
    async () => {
        const c = ctx.cluster;
        const res = await fetch(c.url('/'));
        assert.equal(res.status, 200);
        const csp = res.headers.get('content-security-policy') || '';
        assert.match(csp, /default-src 'self'/);
        assert.match(csp, /script-src 'self'/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.equal(res.headers.get('x-frame-options'), 'DENY');
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        const js = await fetch(c.url('/app.js'));
        assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
        const apiRes = await api(c, '/api/v1/conversations',
                                 c.orgs[0].token);
        assert.equal(apiRes.headers.get('x-content-type-options'),
                     'nosniff');
    });

test('the access log masks WebSocket tickets', async () => {
    const c = ctx.cluster;
    const t = await ticket(c, c.orgs[0].token);
    const ws = await connectWs(c, c.orgs[0].token);
    ws.close();
    // a ticket that was refused is logged masked too
    const url = wsUrl(c, t).replace(/^ws/, 'http');
    await fetch(url);
    let log = '';
    for (let i = 0; i < 50 && !/ticket=\[masked\].*\n.*ticket=/s.test(log);
         i++) {
        await new Promise((r) => setTimeout(r, 100));
        log = c.readFile('access.log');
    }
    assert.match(log, /GET \/ws\?ticket=\[masked\] HTTP\/1\.1/);
    assert.ok(!log.includes(t.ticket), 'the ticket is not in the log');
    assert.doesNotMatch(log, /ticket=[A-Za-z0-9_-]{8,}/);
});

errorLogIsCleanTest(ctx);
