// People who sign in: users made with inboxctl (the password on stdin),
// POST /api/v1/auth/login, and API calls with the session cookie it sets
// (and the CSRF header a browser script adds to every change).

import { execFile } from 'node:child_process';
import { inboxctlPath } from './cluster.mjs';

// Runs inboxctl with input on stdin; resolves with { code, stdout, stderr }.
export function inboxctlStdin(store, input, ...args) {
    return new Promise((done) => {
        const child = execFile(inboxctlPath, ['--store', store, ...args],
            { timeout: 30000 }, (err, stdout, stderr) => {
                done({ code: err ? (err.code ?? 1) : 0, stdout: stdout.trim(),
                       stderr: stderr.trim() });
            });
        child.stdin.end(input);
    });
}

// A user of org with that password; resolves with the user's id.
export async function addUser(cluster, org, email, password,
                              role = 'member') {
    const res = await inboxctlStdin(cluster.store, `${password}\n`, 'user',
        'add', org.id, email, '--role', role);
    if (res.code !== 0) {
        throw new Error(`inboxctl user add ${email} failed: ${res.stderr}`);
    }
    return res.stdout;
}

async function answer(res) {
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
}

// POST /api/v1/auth/login.  Resolves with the answer and, when it set
// one, cookie ("name=value", to send back) and setCookie (the header).
export async function login(cluster, email, password, { headers = {},
                            body } = {}) {
    const res = await fetch(cluster.url('/api/v1/auth/login'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: body ?? JSON.stringify({ email, password }),
    });
    const out = await answer(res);
    out.setCookie = res.headers.get('set-cookie');
    out.cookie = out.setCookie ? out.setCookie.split(';')[0] : null;
    return out;
}

// An API call with the session cookie; the CSRF header is sent unless
// csrf is false.
export async function sessionApi(cluster, path, cookie, { method = 'GET',
                                 body, headers = {}, csrf = true } = {}) {
    const h = { ...headers };
    if (cookie) {
        h.Cookie = cookie;
    }
    if (csrf) {
        h['X-Requested-With'] = 'inbox';
    }
    if (body !== undefined) {
        h['Content-Type'] = 'application/json';
    }
    const res = await fetch(cluster.url(path), { method, headers: h,
        body: body === undefined ? undefined : JSON.stringify(body) });
    const out = await answer(res);
    out.setCookie = res.headers.get('set-cookie');
    return out;
}
