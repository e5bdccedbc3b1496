// Small HTTP helpers for the simulator's own server.

export function sendJson(res, status, obj, headers = {}) {
    const body = JSON.stringify(obj);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8',
                            'Content-Length': Buffer.byteLength(body),
                            'Cache-Control': 'no-store', ...headers });
    res.end(body);
}

export function sendBytes(res, status, bytes, contentType, headers = {}) {
    res.writeHead(status, { 'Content-Type': contentType,
                            'Content-Length': bytes.length,
                            'X-Content-Type-Options': 'nosniff',
                            ...headers });
    res.end(bytes);
}

// The request body as one Buffer; rejects past maxBytes.
export function readBody(req, maxBytes = 16 * 1024 * 1024) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on('data', (c) => {
            size += c.length;
            if (size > maxBytes) {
                reject(Object.assign(new Error('body too large'),
                                     { status: 413 }));
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on('end', () => resolve(Buffer.concat(chunks)));
        req.on('error', reject);
    });
}

// Authorization: Basic -> { scheme, user, password }; Bearer -> { scheme,
// token }; null when absent or unreadable.
export function parseAuthorization(header) {
    if (!header) {
        return null;
    }
    const m = /^(\S+)\s+(.*)$/.exec(header.trim());
    if (!m) {
        return { scheme: 'unknown', raw: header };
    }
    const scheme = m[1].toLowerCase();
    if (scheme === 'basic') {
        const text = Buffer.from(m[2], 'base64').toString('utf8');
        const colon = text.indexOf(':');
        if (colon < 0) {
            return { scheme, user: text, password: null };
        }
        return { scheme, user: text.slice(0, colon),
                 password: text.slice(colon + 1) };
    }
    if (scheme === 'bearer') {
        return { scheme, token: m[2].trim() };
    }
    return { scheme, raw: header };
}

// "Thu, 24 Aug 2023 05:01:45 +0000", as Twilio writes dates.
export function rfc2822(date = new Date()) {
    return date.toUTCString().replace('GMT', '+0000');
}

// A 429 as a carrier sends it, with Retry-After when the rule has one.
export function rateLimited(answer, rule) {
    return rule.retryAfter === undefined ? answer
        : { ...answer, headers: { 'Retry-After': String(rule.retryAfter) } };
}
