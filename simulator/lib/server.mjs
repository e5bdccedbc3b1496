// The simulator's HTTP server: Twilio's and Telnyx's APIs, the media they
// host, the control API and the phone page, all on one port.
//
//   const s = await startServer({ port: 0, config: {...} });
//   s.url, s.sim, await s.close()

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { control, isLoopback } from './control.mjs';
import { parseAuthorization, readBody, sendBytes,
         sendJson } from './respond.mjs';
import { Simulator } from './simulator.mjs';
import { telnyxError, telnyxFetch, telnyxSend } from './telnyx.mjs';
import { twilioError, twilioFetch, twilioMedia,
         twilioSend } from './twilio.mjs';

const publicDir = join(dirname(fileURLToPath(import.meta.url)), '..',
                       'public');
const PAGES = {
    '/': ['index.html', 'text/html; charset=utf-8'],
    '/phone.js': ['phone.js', 'text/javascript; charset=utf-8'],
    '/phone.css': ['phone.css', 'text/css; charset=utf-8'],
};

const ACCOUNT = '/2010-04-01/Accounts/([^/]+)';
const TWILIO_ROUTES = [
    [new RegExp(`^${ACCOUNT}/Messages\\.json$`), 'POST', 'send',
     (sim, ctx, m) => twilioSend(sim, ctx, m[1])],
    [new RegExp(`^${ACCOUNT}/Messages/([^/]+)\\.json$`), 'GET', 'fetch',
     (sim, ctx, m) => twilioFetch(sim, ctx, m[1], m[2])],
    [new RegExp(`^${ACCOUNT}/Messages/([^/]+)/Media/([^/.]+)$`), 'GET',
     'media', (sim, ctx, m) => twilioMedia(sim, ctx, m[1], m[2], m[3])],
];
const TELNYX_ROUTES = [
    [/^\/v2\/messages$/, 'POST', 'send', (sim, ctx) => telnyxSend(sim, ctx)],
    [/^\/v2\/messages\/([^/]+)$/, 'GET', 'fetch',
     (sim, ctx, m) => telnyxFetch(sim, ctx, m[1])],
];

function write(res, answer) {
    if (answer.bytes) {
        sendBytes(res, answer.status, answer.bytes, answer.contentType,
                  answer.headers);
    } else {
        sendJson(res, answer.status, answer.json, answer.headers);
    }
}

// A carrier API call: recorded in sim.requests with its auth, fields
// and answer, then answered (or held, never answered).  A send waits for
// one of the API's lanes first (config api), and its record says how
// many sends were waiting ahead of it when it came (ahead).
async function carrierCall(sim, ctx, res, carrier, kind, handler, m) {
    const record = {
        seq: sim.nextSeq(), at: new Date().toISOString(), carrier, kind,
        method: ctx.method, path: ctx.path, query: ctx.search,
        content_type: ctx.headers['content-type'] ?? null,
        auth: ctx.auth, body: ctx.raw.toString('utf8').slice(0, 65536),
    };
    ctx.record = record;
    sim.requests.push(record);
    if (kind === 'send') {
        record.ahead = await sim.lanes.enter(sim.config.api);
    }
    let answer;
    try {
        answer = await handler(sim, ctx, m);
        if (kind === 'send' && sim.config.api.serviceMs > 0) {
            await new Promise((r) => setTimeout(r, sim.config.api.serviceMs));
        }
    } finally {
        if (kind === 'send') {
            sim.lanes.leave();
        }
    }
    record.message_id = answer.message_id ?? null;
    if (answer.hold) {
        record.response = { status: null, held: true };
        sim.held.add(res);
        res.on('close', () => sim.held.delete(res));
    } else if (answer.delayMs) {
        // the message goes now, its answer later
        record.response = { status: answer.status,
                            json: answer.json ?? null,
                            delayed_ms: answer.delayMs };
        setTimeout(() => write(res, answer), answer.delayMs);
    } else {
        record.response = { status: answer.status,
                            json: answer.json ?? null };
        write(res, answer);
    }
    sim.emit('request', record);
    answer.start?.();
}

function route(sim, ctx, req, res) {
    for (const [carrier, routes] of [['twilio', TWILIO_ROUTES],
                                     ['telnyx', TELNYX_ROUTES]]) {
        for (const [re, method, kind, handler] of routes) {
            const m = re.exec(ctx.path);
            if (m && ctx.method === method) {
                return carrierCall(sim, ctx, res, carrier, kind, handler, m);
            }
        }
    }
    if (ctx.path.startsWith('/_sim/') || ctx.path === '/_sim') {
        return control(sim, ctx, req, res).then((answer) => {
            if (!answer.streamed) {
                write(res, answer);
            }
        });
    }
    const tm = /^\/telnyx-media\/([^/]+)$/.exec(ctx.path);
    if (tm && ctx.method === 'GET') {
        const got = sim.media.get(decodeURIComponent(tm[1]));
        write(res, got ? { status: 200, bytes: got.bytes,
                           contentType: got.contentType }
            : { status: 404, json: { errors: [{ code: '10005',
                title: 'Resource not found' }] } });
        return null;
    }
    const page = PAGES[ctx.path];
    if (page && ctx.method === 'GET') {
        write(res, { status: 200, contentType: page[1],
                     bytes: readFileSync(join(publicDir, page[0])),
                     headers: { 'Cache-Control': 'no-store' } });
        return null;
    }
    if (ctx.path.startsWith('/2010-04-01/')) {
        write(res, twilioError(404, 20404, `The requested resource `
                               + `${ctx.path} was not found`));
    } else if (ctx.path.startsWith('/v2/')) {
        write(res, telnyxError(404, '10005', 'Resource not found',
                               'The requested resource or URL could not '
                               + 'be found.'));
    } else {
        write(res, { status: 404, json: { error: { code: 'not_found',
            message: `nothing at ${ctx.method} ${ctx.path}` } } });
    }
    return null;
}

export async function startServer({ port = 0, host = '127.0.0.1',
                                    stateDir = null, config = {},
                                    publicUrl = null } = {}) {
    const sim = new Simulator({ stateDir, config });
    const state = { publicUrl };
    const server = createServer(async (req, res) => {
        try {
            const u = new URL(req.url, 'http://sim');
            const raw = await readBody(req);
            const ctx = { method: req.method, path: u.pathname,
                          search: u.search, query: u.searchParams,
                          headers: req.headers, raw,
                          auth: parseAuthorization(req.headers.authorization),
                          local: isLoopback(req.socket.remoteAddress),
                          publicUrl: state.publicUrl };
            await route(sim, ctx, req, res);
        } catch (e) {
            if (!res.headersSent) {
                sendJson(res, e.status ?? 500, { error: {
                    code: e.status ? 'invalid_request' : 'internal',
                    message: e.message } });
            } else {
                res.destroy();
            }
            if (!e.status) {
                process.stderr.write(`carrier-sim: ${e.stack}\n`);
            }
        }
    });
    server.keepAliveTimeout = 65000;
    await new Promise((ok, fail) => {
        server.once('error', fail);
        server.listen(port, host, ok);
    });
    const addr = server.address();
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `http://${shown}:${addr.port}`;
    state.publicUrl = (publicUrl ?? url).replace(/\/+$/, '');
    return {
        sim, server, url, port: addr.port, publicUrl: state.publicUrl,
        close() {
            sim.close();
            return new Promise((ok) => {
                server.close(() => ok());
                server.closeAllConnections();
            });
        },
    };
}
