// The simulator's outgoing HTTP: webhooks to the inbox and the media
// fetches a carrier makes.  Plain node:http(s), so that every header and
// byte sent is the simulator's own and a timeout is exact.

import http from 'node:http';
import https from 'node:https';

// Resolves with { status, headers, body (Buffer) }; rejects with an Error
// whose code is ETIMEDOUT when no whole answer came within timeoutMs, or
// the socket's error code (ECONNREFUSED...).
export function httpRequest(url, { method = 'GET', headers = {}, body,
                                   timeoutMs = 5000,
                                   maxBytes = 16 * 1024 * 1024 } = {}) {
    return new Promise((resolve, reject) => {
        let u;
        try {
            u = new URL(url);
        } catch {
            const err = new Error(`not a URL: ${url}`);
            err.code = 'EINVALIDURL';
            reject(err);
            return;
        }
        const lib = u.protocol === 'https:' ? https : u.protocol === 'http:'
            ? http : null;
        if (!lib) {
            const err = new Error(`not an http(s) URL: ${url}`);
            err.code = 'EINVALIDURL';
            reject(err);
            return;
        }
        const h = { ...headers };
        if (body !== undefined) {
            h['Content-Length'] = Buffer.byteLength(body);
        }
        const req = lib.request(u, { method, headers: h, agent: false });
        const timer = setTimeout(() => {
            const err = new Error(`no answer within ${timeoutMs} ms`);
            err.code = 'ETIMEDOUT';
            req.destroy(err);
        }, timeoutMs);
        req.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
        });
        req.on('response', (res) => {
            const chunks = [];
            let size = 0;
            res.on('data', (c) => {
                size += c.length;
                if (size > maxBytes) {
                    const err = new Error(`answer over ${maxBytes} bytes`);
                    err.code = 'ETOOBIG';
                    req.destroy(err);
                    return;
                }
                chunks.push(c);
            });
            res.on('end', () => {
                clearTimeout(timer);
                resolve({ status: res.statusCode, headers: res.headers,
                          body: Buffer.concat(chunks) });
            });
            res.on('error', (err) => {
                clearTimeout(timer);
                reject(err);
            });
        });
        req.end(body);
    });
}

// A GET that follows up to five redirects, as a carrier fetching media.
export async function httpGetFollow(url, opts = {}) {
    let current = url;
    for (let hop = 0; hop <= 5; hop++) {
        const res = await httpRequest(current, { ...opts, method: 'GET' });
        if (res.status >= 300 && res.status < 400 && res.headers.location) {
            current = new URL(res.headers.location, current).toString();
            continue;
        }
        return { ...res, url: current };
    }
    const err = new Error(`too many redirects from ${url}`);
    err.code = 'EREDIRECTS';
    throw err;
}
