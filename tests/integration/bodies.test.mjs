// Request bodies the server refuses: a request it answers before reading
// its body never has the body asked for ("Expect: 100-continue" gets the
// final answer, never "100 Continue"), and the connection closes rather
// than wait for a body still to come.  A credential that cannot be a
// token or a session is refused before any body is read, and the large
// bodies (a CSV import, an image) are read only once the store knows
// their sender: nothing of theirs reaches the disk before.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { addUser, login } from '../lib/session.mjs';

const ctx = useCluster();

// Sends head (a request's line and headers, without the blank line) with
// "Expect: 100-continue", as a client that waits for "100 Continue"
// before it sends its body does (body, if any, goes then); resolves with
// every answer the server sent, up to and including the first final one
// (only the first answer when first): [{ status, headers, text, json }].
function expectContinue(port, head, { body, first = false } = {}) {
    return new Promise((ok, fail) => {
        const sock = connect(port, '127.0.0.1');
        let buf = Buffer.alloc(0);
        const answers = [];
        const parse = () => {
            for (;;) {
                const text = buf.toString('latin1');
                const end = text.indexOf('\r\n\r\n');
                if (end < 0) {
                    return false;
                }
                const lines = text.slice(0, end).split('\r\n');
                const headers = new Headers();
                for (const line of lines.slice(1)) {
                    const i = line.indexOf(':');
                    headers.append(line.slice(0, i).trim(),
                                   line.slice(i + 1).trim());
                }
                const status = Number(lines[0].split(' ')[1]);
                const length = status < 200 ? 0
                    : Number(headers.get('content-length') ?? 0);
                if (buf.length < end + 4 + length) {
                    return false;
                }
                const answer = buf.subarray(end + 4, end + 4 + length)
                    .toString('utf8');
                let json;
                try { json = JSON.parse(answer); } catch { json = undefined; }
                answers.push({ status, headers, text: answer, json });
                buf = buf.subarray(end + 4 + length);
                if (status >= 200 || first) {
                    return true;
                }
                if (body !== undefined) {
                    sock.write(body);
                }
            }
        };
        sock.on('data', (d) => {
            buf = Buffer.concat([buf, d]);
            if (parse()) {
                sock.destroy();
                ok(answers);
            }
        });
        sock.on('end', () => ok(answers));
        sock.on('error', fail);
        sock.write(`${head}\r\nHost: localhost\r\n`
            + 'Expect: 100-continue\r\n\r\n');
    });
}

// The first answer to a refused request: its final status, no "100
// Continue" before it, and "Connection: close" (the body never came).
async function refused(head, status) {
    const c = ctx.cluster ?? await ctx.ready;
    const answers = await expectContinue(c.port, head, { first: true });
    assert.deepEqual(answers.map((a) => a.status), [status],
        `${head.split('\r\n')[0]}: ${answers.map((a) => a.text).join()}`);
    assert.equal(answers[0].headers.get('connection'), 'close');
    return answers[0];
}

test('a body refused before it is read is never asked for', async () => {
    const c = ctx.cluster ?? await ctx.ready;
    const bearer = `Authorization: Bearer ${c.orgs[0].token}`;

    // no credential
    await refused('POST /api/v1/contacts/import HTTP/1.1\r\n'
        + 'Content-Type: text/csv\r\nContent-Length: 1000000', 401);
    // larger than the route takes
    await refused(`POST /api/v1/contacts HTTP/1.1\r\n${bearer}\r\n`
        + 'Content-Type: application/json\r\nContent-Length: 1000000', 413);
    // of another type
    await refused(`POST /api/v1/contacts/import HTTP/1.1\r\n${bearer}\r\n`
        + 'Content-Type: text/plain\r\nContent-Length: 1000000', 415);
    // a method the path does not take
    const allow = await refused('DELETE /api/v1/conversations HTTP/1.1\r\n'
        + `${bearer}\r\nContent-Length: 1000`, 405);
    assert.equal(allow.headers.get('allow'), 'GET, HEAD');
    // a webhook larger than any carrier sends, or not a POST
    await refused('POST /webhooks/twilio/inbound HTTP/1.1\r\n'
        + 'Content-Type: application/x-www-form-urlencoded\r\n'
        + 'Content-Length: 1000000', 413);
    await refused('PUT /webhooks/telnyx HTTP/1.1\r\n'
        + 'Content-Length: 1000', 405);
    // nginx's own refusals, answered by inbox_error_page
    await refused('POST /media/x HTTP/1.1\r\nContent-Length: 1000', 404);
    await refused(`DELETE /media/${'a'.repeat(43)}.png HTTP/1.1\r\n`
        + 'Content-Length: 1000', 405);
    await refused(`POST /api/v1/media HTTP/1.1\r\n${bearer}\r\n`
        + 'Content-Type: image/png\r\nContent-Length: 100000000', 413);
});

test('a body the route takes is still asked for', async () => {
    const c = ctx.cluster ?? await ctx.ready;
    const body = JSON.stringify({ phone: '+14155550123' });
    const answers = await expectContinue(c.port, 'POST /api/v1/contacts '
        + `HTTP/1.1\r\nAuthorization: Bearer ${c.orgs[0].token}\r\n`
        + `Content-Type: application/json\r\nContent-Length: ${body.length}`,
        { body });
    assert.deepEqual(answers.map((a) => a.status), [100, 201],
        answers.map((a) => a.text).join());
});

// Of a token's form, and nobody's.
const madeUpToken = () => `ibx_${randomBytes(32).toString('base64url')}`;

const importHead = (credential) => 'POST /api/v1/contacts/import HTTP/1.1'
    + `\r\n${credential}\r\nContent-Type: text/csv\r\n`
    + `Content-Length: ${15 * 1024 * 1024}`;
const mediaHead = (credential) => 'POST /api/v1/media HTTP/1.1'
    + `\r\n${credential}\r\nContent-Type: image/png\r\n`
    + `Content-Length: ${5 * 1024 * 1024}`;

test('an import or an upload is read only once its sender is known',
    async () => {
    const c = ctx.cluster ?? await ctx.ready;
    await addUser(c, c.orgs[0], 'bodies@bodies.example', 'bodies password');
    const session = await login(c, 'bodies@bodies.example',
                                'bodies password');
    assert.equal(session.status, 200, session.text);
    const gone = `inbox_session=${randomBytes(32).toString('base64url')}`;

    for (const head of [importHead, mediaHead]) {
        // a token, or a session, the store does not know
        let res = await refused(
            head(`Authorization: Bearer ${madeUpToken()}`), 401);
        assert.equal(res.json.error.message,
                     'This API token is not valid; ask for a new one.');
        res = await refused(head(`Cookie: ${gone}\r\n`
            + 'X-Requested-With: inbox'), 401);
        assert.match(res.headers.get('set-cookie'), /^inbox_session=;/);

        // the right one is asked for its body
        const answers = await expectContinue(c.port, head(
            `Cookie: ${session.cookie}\r\nX-Requested-With: inbox`),
            { first: true });
        assert.deepEqual(answers.map((a) => a.status), [100]);
    }
});

test('a credential that cannot be a token or a session is refused before '
     + 'any body is read', async () => {
    for (const credential of ['Authorization: Bearer not-a-token',
                              `Authorization: Bearer ${madeUpToken()}x`,
                              'Cookie: inbox_session=garbage\r\n'
                              + 'X-Requested-With: inbox']) {
        for (const head of [importHead(credential), mediaHead(credential),
            'POST /api/v1/contacts HTTP/1.1\r\n'
            + `${credential}\r\nContent-Type: application/json\r\n`
            + 'Content-Length: 1000']) {
            const res = await refused(head, 401);
            if (credential.startsWith('Cookie')) {
                assert.equal(res.json.error.message,
                             'Your session has ended; sign in again.');
                assert.match(res.headers.get('set-cookie'),
                             /^inbox_session=;.*Max-Age=0/);
            } else {
                assert.equal(res.json.error.message,
                             'This API token is not valid; ask for a new '
                             + 'one.');
            }
        }
    }
});

// (on a server that reads the body first, no answer would come until
// client_body_timeout: the timeout only ends the wait)
test('a made-up token sending an import without waiting is answered '
     + 'before its body has come, and none of it is on disk',
     { timeout: 30000 }, async () => {
    const c = ctx.cluster ?? await ctx.ready;
    const tempDir = join(c.dir, 'tmp', 'client_body');
    const res = await new Promise((ok, fail) => {
        const sock = connect(c.port, '127.0.0.1');
        let buf = '';
        sock.on('data', (d) => {
            buf += d.toString('latin1');
            const end = buf.indexOf('\r\n\r\n');
            const m = buf.match(/\r\ncontent-length: *(\d+)/i);
            if (end >= 0 && m && buf.length >= end + 4 + Number(m[1])) {
                // the other 14 MB were never sent
                const files = readdirSync(tempDir);
                sock.destroy();
                ok({ head: buf.slice(0, end), files });
            }
        });
        sock.on('error', fail);
        sock.write(`${importHead(`Authorization: Bearer ${madeUpToken()}`)}`
            + '\r\nHost: localhost\r\n\r\n');
        sock.write(Buffer.alloc(1024 * 1024, 'a,b\r\n'));
    });
    assert.match(res.head, /^HTTP\/1.1 401 /);
    assert.match(res.head, /\r\nConnection: close/i);
    assert.deepEqual(res.files, []);
});

errorLogIsCleanTest(ctx);
