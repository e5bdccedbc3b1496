// The carrier simulator (simulator/carrier-sim.mjs) for a test: started on
// a free port in its own process group, driven through its control API,
// killed when the test process exits whatever happened.
//
//   const sim = await startCarrierSim({ config: { inbox: cluster.baseUrl,
//       twilio: { accounts: { [sid]: token } }, numbers: [...] } });
//   await sim.inbound({ from, to, body });  ...  await sim.stop();
//
// startReceiver() is a small HTTP server standing in for the inbox's
// webhooks: it keeps every request and answers as told.

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { repoRoot, sleep } from './cluster.mjs';

export const simulatorPath = join(repoRoot, 'simulator', 'carrier-sim.mjs');

const live = new Set();
process.on('exit', () => {
    for (const pid of live) {
        try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    }
});

// Quick delays, so that a test sees a message's whole life in well under a
// second, and quick webhook retries.
export const BRISK = {
    delays: { sending: [5, 15], sent: [10, 40], final: [20, 60],
              duplicate: [10, 30] },
    webhook: { retryDelaysMs: [100, 200] },
};

export class CarrierSim {
    constructor(child, url, publicKey) {
        this.child = child;
        this.url = url;
        this.publicKey = publicKey;
    }

    // Calls the control API; resolves with { status, json }.
    async control(method, path, body) {
        const res = await fetch(`${this.url}/_sim${path}`, {
            method,
            headers: body === undefined ? {}
                : { 'Content-Type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        return { status: res.status, json, text };
    }

    async ok(method, path, body) {
        const res = await this.control(method, path, body);
        if (res.status >= 300) {
            throw new Error(`${method} /_sim${path}: ${res.status} `
                            + res.text);
        }
        return res.json;
    }

    configure(patch) { return this.ok('POST', '/config', patch); }
    reset(everything = false) {
        return this.ok('POST', '/reset', { everything });
    }
    // A message from a contact to the inbox; resolves once the webhook was
    // delivered or given up: { message, webhook }.
    inbound(spec) { return this.ok('POST', '/inbound', spec); }
    fail(spec) { return this.ok('POST', '/failures', spec); }
    // Lets the sends a failure hold kept waiting go on: { released }.
    release() { return this.ok('POST', '/release'); }

    async list(what, query = {}) {
        const q = new URLSearchParams(query).toString();
        return (await this.ok('GET', `/${what}${q ? `?${q}` : ''}`)).items;
    }
    requests(query) { return this.list('requests', query); }
    messages(query) { return this.list('messages', query); }
    webhooks(query) { return this.list('webhooks', query); }
    message(id) { return this.ok('GET', `/messages/${id}`); }

    // Polls the message until predicate(message) holds.
    async waitForMessage(id, predicate, timeoutMs = 5000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const m = await this.message(id);
            if (predicate(m)) {
                return m;
            }
            if (Date.now() > deadline) {
                throw new Error(`message ${id} stayed ${m.status}`);
            }
            await sleep(25);
        }
    }

    // A message sent through the simulator's Twilio API, as the inbox's
    // sender sends one: the fetch's Response.
    twilioSend(sid, token, { to, from, body }) {
        return fetch(`${this.url}/2010-04-01/Accounts/${sid}/Messages.json`,
            { method: 'POST',
              headers: { Authorization: 'Basic '
                  + Buffer.from(`${sid}:${token}`).toString('base64'),
                         'Content-Type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams({ To: to, From: from, Body: body }) });
    }

    async stop() {
        const child = this.child;
        if (child.exitCode !== null || child.signalCode !== null) {
            return;
        }
        try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
        const timer = sleep(3000).then(() => 'timeout');
        if (await Promise.race([child.exited, timer]) === 'timeout') {
            try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
            await child.exited;
        }
    }
}

// One of this machine's own addresses that is not a loopback one, as a
// caller on another machine would reach a server listening on all
// addresses: { listen: the all-addresses host to listen on, host: the
// address for a URL }, or null when the machine has none (then the
// server cannot tell a caller from elsewhere: 127.0.0.2 and the like are
// loopback too).  Link-local IPv6 needs a zone in URLs: left out.
export function nonLoopbackAddress() {
    const all = Object.values(networkInterfaces()).flat()
        .filter((a) => !a.internal && !/^fe80:/i.test(a.address));
    const a = all.find((x) => x.family === 'IPv4') ?? all[0];
    if (!a) {
        return null;
    }
    return a.family === 'IPv4' ? { listen: '0.0.0.0', host: a.address }
        : { listen: '::', host: `[${a.address}]` };
}

// Starts the simulator on a free port (the kernel's choice, read back from
// its first line) of host.  config: POSTed to /_sim/config once it is up
// (BRISK delays unless config says otherwise); args: more command-line
// options.  The control API is called on the loopback: listening on all
// addresses (0.0.0.0, ::), sim.url is http://127.0.0.1:PORT (or [::1]).
export async function startCarrierSim({ config = {}, args = [],
                                        brisk = true,
                                        host = '127.0.0.1' } = {}) {
    const child = spawn(process.execPath, [simulatorPath, '--port', '0',
        '--host', host, ...args], {
        detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child.pid);
    child.exited = new Promise((r) => child.once('exit', (code, signal) => {
        live.delete(child.pid);
        r({ code, signal });
    }));
    let out = '';
    const line = await new Promise((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(
            `carrier-sim printed no URL within 10 s:\n${out}`)), 10000);
        const onData = (buf) => {
            out += buf;
            const m = /carrier-sim on (http:\/\/\S+) .*Telnyx public key: (\S+)/
                .exec(out);
            if (m) {
                clearTimeout(timer);
                ok(m);
            }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.exited.then(({ code, signal }) => {
            clearTimeout(timer);
            fail(new Error(`carrier-sim exited (${code ?? signal}):\n${out}`));
        });
    });
    child.stdout.resume();
    child.stderr.on('data', (buf) => process.stderr.write(buf));
    const url = line[1].replace('//0.0.0.0:', '//127.0.0.1:')
        .replace('//[::]:', '//[::1]:');
    const sim = new CarrierSim(child, url, line[2]);
    const patch = brisk ? { ...BRISK, ...config } : config;
    if (Object.keys(patch).length > 0) {
        try {
            await sim.configure(patch);
        } catch (e) {
            await sim.stop();
            throw e;
        }
    }
    return sim;
}

// An HTTP server on a free loopback port that keeps every request
// ({ method, url, path, headers, body (Buffer), at }) and answers with
// respond(req, n) -> { status, headers, body } (n: 1 for the first
// request to that path); 200 and empty TwiML by default.  connections
// counts the TCP connections it accepted, a request sent on them or not.
export async function startReceiver(respond = () => ({})) {
    const received = [];
    const counts = new Map();
    const waiters = [];
    let connections = 0;
    const server = createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const u = new URL(req.url, 'http://receiver');
            const entry = { method: req.method, url: req.url,
                            path: u.pathname, headers: req.headers,
                            body: Buffer.concat(chunks), at: Date.now() };
            received.push(entry);
            const n = (counts.get(u.pathname) ?? 0) + 1;
            counts.set(u.pathname, n);
            const a = respond(entry, n) ?? {};
            if (a.hang) {
                return;
            }
            res.writeHead(a.status ?? 200, a.headers
                ?? { 'Content-Type': 'text/xml' });
            res.end(a.body ?? '<Response></Response>');
            for (const w of waiters.splice(0)) {
                w();
            }
        });
    });
    server.on('connection', () => { connections += 1; });
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${server.address().port}`;
    return {
        url,
        received,
        get connections() { return connections; },
        // Resolves with the requests to path (those that match, when
        // `match` is given) once there are at least n.
        async waitFor(path, n = 1, match = () => true, timeoutMs = 5000) {
            const deadline = Date.now() + timeoutMs;
            for (;;) {
                const got = received.filter((r) => r.path === path
                                                   && match(r));
                if (got.length >= n) {
                    return got;
                }
                if (Date.now() > deadline) {
                    throw new Error(`${path} got ${got.length} requests, `
                                    + `not ${n}`);
                }
                await new Promise((ok) => {
                    waiters.push(ok);
                    setTimeout(ok, 50);
                });
            }
        },
        close() {
            server.closeAllConnections();
            return new Promise((ok) => server.close(() => ok()));
        },
    };
}
