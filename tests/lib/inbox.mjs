// What carriers and clients do to an inbox: signed Twilio webhooks, API
// calls with a bearer token, and WebSocket connections with a ticket.

import { createHmac, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildDir, sleep } from './cluster.mjs';

// An empty TwiML answer, with or without an XML declaration.
export const TWIML_EMPTY =
    /^(<\?xml[^>]*\?>\s*)?<Response\s*(\/>|><\/Response>)\s*$/;

// A name or value as the bytes that go on the wire: a Buffer as it is (to
// send bytes that are not UTF-8), anything else as UTF-8 text.
function bytesOf(v) {
    return Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
}

// X-Twilio-Signature: the URL, then each parameter's name and value sorted
// by name (then value) in byte order, HMAC-SHA1 with the auth token, base64.
// params: an object or a list of [name, value] pairs (for repeated names).
export function signTwilio(url, params, authToken) {
    const pairs = Array.isArray(params) ? params : Object.entries(params);
    const sorted = pairs.map(([k, v]) => [bytesOf(k), bytesOf(v)]).sort(
        (a, b) => Buffer.compare(a[0], b[0]) || Buffer.compare(a[1], b[1]));
    const hmac = createHmac('sha1', authToken).update(url, 'utf8');
    for (const [k, v] of sorted) {
        hmac.update(k).update(v);
    }
    return hmac.digest('base64');
}

// application/x-www-form-urlencoded, every byte that is not a letter, a
// digit or -._~ as %XX (so a Buffer's bytes arrive exactly).
export function formEncode(pairs) {
    const enc = (v) => [...bytesOf(v)].map((b) =>
        /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
            ? String.fromCharCode(b)
            : `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    return pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

export function newMessageSid() {
    return `SM${randomBytes(16).toString('hex')}`;
}

// The form Twilio posts for an inbound message, as a list of pairs.
export function inboundForm({ org, from, to, body = '', sid = newMessageSid(),
                              media = [], extra = {} }) {
    const pairs = [
        ['ToCountry', 'US'], ['ToState', 'NY'], ['SmsMessageSid', sid],
        ['NumMedia', String(media.length)], ['ToCity', 'NEW YORK'],
        ['FromZip', '10001'], ['SmsSid', sid], ['FromState', 'NY'],
        ['SmsStatus', 'received'], ['FromCity', 'NEW YORK'],
        ['Body', body], ['FromCountry', 'US'], ['To', to ?? org.number],
        ['MessagingServiceSid', ''], ['ToZip', '10001'],
        ['NumSegments', '1'], ['MessageSid', sid],
        ['AccountSid', org ? org.accountSid : 'AC0'],
        ['From', from], ['ApiVersion', '2010-04-01'],
    ];
    media.forEach((m, i) => {
        const item = typeof m === 'string'
            ? { url: m, content_type: 'image/jpeg' } : m;
        pairs.push([`MediaContentType${i}`, item.content_type]);
        pairs.push([`MediaUrl${i}`, item.url]);
    });
    for (const [k, v] of Object.entries(extra)) {
        pairs.push([k, v]);
    }
    return pairs;
}

// The request Twilio makes to deliver a form: { url, headers, body }, signed
// with authToken unless signature is given (null: no header at all), to
// the inbound webhook unless path names another (its status callback).
export function webhookRequest(cluster, pairs, { authToken, signature,
                               path = '/webhooks/twilio/inbound' } = {}) {
    const url = cluster.url(path);
    const body = formEncode(pairs);
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (signature === undefined) {
        headers['X-Twilio-Signature'] = signTwilio(url, pairs, authToken);
    } else if (signature !== null) {
        headers['X-Twilio-Signature'] = signature;
    }
    return { url, headers, body };
}

// POSTs a form to the Twilio inbound webhook, signed with the org's auth
// token unless signature is given (null: no header at all).
export async function postWebhook(cluster, pairs, opts = {}) {
    const { url, headers, body } = webhookRequest(cluster, pairs, opts);
    const res = await fetch(url, { method: 'POST', headers, body });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
}

// An inbound message from `from` to org's number, as Twilio sends it.
export async function postInbound(cluster, { org = cluster.orgs[0], from,
                                  to, body, sid, media, extra,
                                  signature } = {}) {
    const pairs = inboundForm({ org, from, to, body, sid, media, extra });
    return postWebhook(cluster, pairs, { authToken: org.authToken,
                                         signature });
}

// Like postInbound, but fails unless the carrier got 200 and TwiML.
export async function deliverInbound(cluster, opts) {
    const res = await postInbound(cluster, opts);
    assert.equal(res.status, 200, `webhook answered ${res.status}: `
        + res.text);
    return res;
}

// Calls the API with a bearer token (none when token is null).  Returns
// status, headers and the parsed JSON (undefined when not JSON).
export async function api(cluster, path, token, { method = 'GET',
                          body, headers = {} } = {}) {
    const h = { ...headers };
    if (token) {
        h.Authorization = `Bearer ${token}`;
    }
    if (body !== undefined) {
        h['Content-Type'] = 'application/json';
    }
    const res = await fetch(cluster.url(path), { method, headers: h,
        body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, json, text };
}

// Imports csv (phone,name,tags rows) into token's organization through
// the API, as an operator's upload; fails unless every row was taken.
// Returns the import's answer.
export async function importContactsCsv(cluster, token, csv) {
    const res = await fetch(cluster.url('/api/v1/contacts/import'), {
        method: 'POST', body: csv,
        headers: { Authorization: `Bearer ${token}`,
                   'Content-Type': 'text/csv' } });
    const json = await res.json();
    assert.equal(res.status, 200, JSON.stringify(json));
    assert.equal(json.invalid.length, 0, JSON.stringify(json.invalid));
    return json;
}

// Imports phones into the organization whose token is given, as "Person
// N", every one tagged tag.
export function importTagged(cluster, token, phones, tag) {
    return importContactsCsv(cluster, token, ['phone,name,tags',
        ...phones.map((p, i) => `${p},Person ${i},${tag}`)].join('\n')
        + '\n');
}

// Runs one store operation with tests/wire/store_op (the libinbox call
// the sender or a route makes, waking the sender as nginx does); fails
// unless it succeeded, and returns its result.
export async function storeOp(cluster, ...args) {
    const { stdout } = await promisify(execFile)(
        join(buildDir, 'tests', 'wire', 'store_op'), [cluster.store, ...args],
        { env: { ...process.env, INBOX_SENDER_SOCKET: cluster.senderSocket } });
    const line = JSON.parse(stdout);
    assert.equal(line.status, 'ok', stdout);
    return line.result;
}

// Fails unless res is the contract's JSON error with the given status and
// code; returns the error object.
export function assertError(res, status, code) {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}: `
        + res.text);
    assert.match(res.headers.get('content-type') || '', /application\/json/);
    assert.equal(typeof res.json?.error, 'object', res.text);
    if (code) {
        assert.equal(res.json.error.code, code, res.text);
    }
    assert.equal(typeof res.json.error.message, 'string', res.text);
    assert.ok(res.json.error.message.length > 0, res.text);
    return res.json.error;
}

// What a client is told of a failure on the server's side, whatever its
// cause (inbox_status_server_message): the cause is for the error log.
export const SERVER_FAILURE = {
    internal: 'Something went wrong on our side; try again, and tell the '
        + 'operator if it lasts.',
    unavailable: 'The service is unavailable for a moment; try again '
        + 'shortly.',
};

// Fails unless res is a 500 internal or 503 unavailable that says only
// its code's sentence; returns the error object.
export function assertServerFailure(res, status, code) {
    const err = assertError(res, status, code);
    assert.equal(err.message, SERVER_FAILURE[code], res.text);
    return err;
}

export async function ticket(cluster, token) {
    const res = await api(cluster, '/api/v1/realtime/ticket', token,
        { method: 'POST' });
    assert.equal(res.status, 200, `ticket: ${res.status} ${res.text}`);
    assert.equal(typeof res.json.ticket, 'string');
    assert.equal(typeof res.json.url, 'string');
    return res.json;
}

// A ticket's claims (not secret, only signed): ORG.claims.signature.
export function ticketClaims(t) {
    return JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString());
}

// When a ticket answer's ticket was issued (ms; whole seconds, as its
// claims carry it: expires less its 60 s lifetime).
export function ticketIssuedMs({ ticket: t }) {
    return (ticketClaims(t).expires - 60) * 1000;
}

// Where a ticket answer's ticket says the organization's stream stood in
// the store when it was issued: { epoch, org_seq }.
export function ticketPosition({ ticket: t }) {
    const claims = ticketClaims(t);
    return { epoch: claims.epoch, org_seq: claims.org_seq };
}

// The ws:// URL for a ticket answer, resolved against the cluster.
export function wsUrl(cluster, { url, ticket: t }) {
    const u = new URL(url, cluster.baseUrl.replace(/^http/, 'ws'));
    if (u.protocol === 'http:') {
        u.protocol = 'ws:';
    }
    if (t !== undefined && !u.searchParams.has('ticket')) {
        u.searchParams.set('ticket', t);
    }
    return u.toString();
}

// A ticket answer's WebSocket URL with its ticket made for another
// organization id, signed as nginx signs (ORG.base64url(claims).
// base64url(HMAC-SHA256), libinbox ticket.c): for a ws-server whose
// --store is a MongoDB stand-in, which reads only organizations named by
// an ObjectId.
export function wsUrlForOrg(cluster, answer, orgId) {
    const claims = { ...ticketClaims(answer.ticket), org_id: orgId };
    const body = `${orgId}.${Buffer.from(JSON.stringify(claims))
        .toString('base64url')}`;
    const secret = readFileSync(join(cluster.dir, 'realtime.key'), 'utf8')
        .trim();
    const mac = createHmac('sha256', secret).update(body)
        .digest('base64url');
    const url = new URL(wsUrl(cluster, answer));
    url.searchParams.set('ticket', `${body}.${mac}`);
    return url.toString();
}

// Tries an upgrade; resolves with the HTTP status (101 when it upgraded).
export function wsUpgradeStatus(url) {
    return new Promise((done) => {
        const ws = new WebSocket(url, 'inbox.v1');
        ws.on('upgrade', () => { done(101); ws.terminate(); });
        ws.on('unexpected-response', (req, res) => {
            done(res.statusCode);
            req.destroy();
        });
        ws.on('error', () => done(0));
    });
}

// Tries an upgrade with ws's options (origin, headers...); resolves with
// { status, headers, text, json, protocol }: 101 and the subprotocol when
// it upgraded, else the refusal and its body.
export function wsUpgrade(url, { protocols = 'inbox.v1', ...options } = {}) {
    return new Promise((done) => {
        const ws = new WebSocket(url, protocols, options);
        ws.on('open', () => {
            done({ status: 101, protocol: ws.protocol });
            ws.terminate();
        });
        ws.on('unexpected-response', (req, res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { text += d; });
            res.on('end', () => {
                let json;
                try { json = JSON.parse(text); } catch { json = undefined; }
                done({ status: res.statusCode, headers: res.headers, text,
                       json });
                req.destroy();
            });
        });
        ws.on('error', (err) => done({ status: 0, text: err.message }));
    });
}

// Client sockets not yet closed, whoever opened them (see
// closeLeftSockets).
const openClients = new Set();

// Cuts every client socket a test left open, as a test that failed between
// opening two sockets does; resolves with how many there were.  A socket
// left open would keep nginx's graceful stop waiting on its upgraded
// connection and fail the file's clean-stop test for the earlier failure.
export function closeLeftSockets() {
    const left = [...openClients];
    left.forEach((c) => c.close());
    return left.length;
}

// A client socket that keeps every frame it gets, and once closed the
// close code and reason it was given (1006: none, the connection was cut).
export class WsClient {
    constructor(ws) {
        openClients.add(this);
        this.ws = ws;
        this.frames = [];
        this.waiters = [];
        this.closed = false;
        this.closeCode = null;
        this.closeReason = null;
        ws.on('message', (data) => {
            let frame;
            try { frame = JSON.parse(data.toString()); }
            catch { frame = { type: '(not json)', raw: data.toString() }; }
            this.frames.push(frame);
            this.waiters = this.waiters.filter((w) => !w());
        });
        ws.on('close', (code, reason) => {
            openClients.delete(this);
            this.closed = true;
            this.closeCode = code;
            this.closeReason = reason.toString();
            this.waiters = this.waiters.filter((w) => !w());
        });
    }

    // Resolves with the frames once predicate(frames) is true.
    waitFor(predicate, timeoutMs = 5000, what = 'frames') {
        return new Promise((ok, fail) => {
            const check = () => {
                if (predicate(this.frames)) {
                    clearTimeout(timer);
                    ok(this.frames);
                    return true;
                }
                return false;
            };
            const timer = setTimeout(() => {
                this.waiters = this.waiters.filter((w) => w !== check);
                fail(new Error(`timed out waiting for ${what}; got `
                    + JSON.stringify(this.frames.map((f) => f.type))));
            }, timeoutMs);
            if (!check()) {
                this.waiters.push(check);
            }
        });
    }

    waitForTypes(types, timeoutMs = 5000) {
        return this.waitFor((frames) => types.every(
            (t) => frames.some((f) => f.type === t)), timeoutMs,
            types.join(', '));
    }

    send(obj) {
        this.ws.send(JSON.stringify(obj));
    }

    close() {
        openClients.delete(this);
        if (!this.closed) {
            this.ws.terminate();
        }
    }
}

// Gets a ticket for token and connects with subprotocol inbox.v1; resolves
// once the socket is open (frames are collected from the start).
export async function connectWs(cluster, token) {
    return openWs(wsUrl(cluster, await ticket(cluster, token)));
}

// Connects to a ticket's ws:// URL (see wsUrl) as connectWs does.
export async function openWs(url) {
    const ws = new WebSocket(url, 'inbox.v1');
    const client = new WsClient(ws);
    await new Promise((ok, fail) => {
        ws.once('open', ok);
        ws.once('unexpected-response', (req, res) => {
            req.destroy();
            fail(new Error(`WebSocket upgrade refused: ${res.statusCode}`));
        });
        ws.once('error', fail);
    });
    client.protocol = ws.protocol;
    return client;
}

// Fences a check that something was not pushed, where a fixed sleep
// would pass on a loaded machine with the frame still on its way.  Stars,
// then unstars, conversationId (a thread of token's organization that
// the test does not otherwise look at, not starred: it is left as it
// was), waits until each of sockets has both frames, and resolves with
// the frames each got before the star's.  An organization's events reach
// its sockets in store order (org_seq), so a frame that any request made
// before the fence pushed is among them.
export async function framesBeforeFence(cluster, token, conversationId,
                                        sockets, timeoutMs = 10000) {
    for (const action of ['star', 'unstar']) {
        const res = await api(cluster,
            `/api/v1/conversations/${conversationId}/${action}`, token,
            { method: 'POST' });
        assert.equal(res.status, 200, `the fence's ${action}: ${res.text}`);
    }
    const fence = (starred) => (f) => f.type === 'conversation.updated'
        && f.conversation.id === conversationId
        && f.conversation.starred === starred;
    return Promise.all(sockets.map(async (ws) => {
        const frames = await ws.waitFor((all) => {
            const star = all.findIndex(fence(true));
            return star >= 0 && all.slice(star + 1).some(fence(false));
        }, timeoutMs, 'the fence\'s star and unstar');
        return frames.slice(0, frames.findIndex(fence(true)));
    }));
}

// Polls fn until it returns a truthy value or timeoutMs passes.
export async function eventually(fn, timeoutMs = 5000, what = 'condition') {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        last = await fn();
        if (last) {
            return last;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await sleep(100);
    }
}

export const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;


// Quiet hours (in UTC) hours from now, an hour long: settings under which
// a campaign sent in a test goes at once.
export function quietHoursAway(hours = 6) {
    const h = new Date().getUTCHours();
    const at = (n) => `${String(n % 24).padStart(2, '0')}:00`;
    return `${at(h + hours)}-${at(h + hours + 1)}`;
}
