// Request bodies the server refuses: a request it answers before reading
// its body never has the body asked for ("Expect: 100-continue" gets the
// final answer, never "100 Continue"), and the connection closes rather
// than wait for a body still to come.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';

const ctx = useCluster();

// Sends head (a request's line and headers, without the blank line) with
// "Expect: 100-continue", as a client that waits for "100 Continue"
// before it sends its body does (body, if any, goes then); resolves with
// every answer the server sent, up to and including the first final one:
// [{ status, headers, text }].
function expectContinue(port, head, body) {
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
                answers.push({ status, headers, text: buf.subarray(end + 4,
                    end + 4 + length).toString('utf8') });
                buf = buf.subarray(end + 4 + length);
                if (status >= 200) {
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

// The one answer to a refused request: its final status, no "100
// Continue" before it, and "Connection: close" (the body never came).
async function refused(head, status) {
    const c = ctx.cluster ?? await ctx.ready;
    const answers = await expectContinue(c.port, head);
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
        body);
    assert.deepEqual(answers.map((a) => a.status), [100, 201],
        answers.map((a) => a.text).join());
});

errorLogIsCleanTest(ctx);
