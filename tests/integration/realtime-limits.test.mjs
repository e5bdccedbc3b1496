// What one organization or one API token can take of the realtime
// service, with small limits: tickets per person or organization token
// (inbox_ticket_rate, counted across nginx workers) and tickets in use per organization in ws-server
// (--tickets-per-org).  Hitting a limit only ever stops the one who hit it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { randomBytes, createHash } from 'node:crypto';
import { inboxctl, sleep, sqlite3Path, startCluster, wsServerPath }
    from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { connectWs, ticket, wsUpgrade, wsUrl } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Org A' }, { name: 'Org B' }],
    http: ['inbox_ticket_rate 30r/m burst=2;'],
    wsArgs: ['--tickets-per-org', '3'],
    reuseport: true,
});

// The pids of the workers that logged a 429 for a ticket.
function workersThatRefused() {
    const pids = new Set();
    for (const line of ctx.cluster.errorLog().split('\n')) {
        const m = line.match(/\[info\] (\d+)#\d+: .*429 rate_limited/);
        if (m) {
            pids.add(m[1]);
        }
    }
    return pids;
}

async function newToken(org) {
    return inboxctl(ctx.cluster.store, 'token', 'create', org.id);
}

// POST /api/v1/realtime/ticket on a connection of its own, so that the
// requests of one test are spread over nginx's two workers.
function askTicket(token) {
    return new Promise((done, fail) => {
        const req = request(ctx.cluster.url('/api/v1/realtime/ticket'), {
            method: 'POST',
            agent: false,
            headers: { Authorization: `Bearer ${token}` },
        }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { text += d; });
            res.on('end', () => {
                let json;
                try { json = JSON.parse(text); } catch { json = undefined; }
                done({ status: res.statusCode, headers: res.headers, text,
                       json });
            });
        });
        req.on('error', fail);
        req.end();
    });
}

test('a token past its ticket rate gets 429 with Retry-After; another '
    + 'token of the same organization and one of another still get '
    + 'tickets, and the first one does after Retry-After', async () => {
    const { cluster } = ctx;
    const [orgA, orgB] = cluster.orgs;

    // 30r/m burst=2: three at once
    for (let i = 0; i < 3; i++) {
        const res = await askTicket(orgA.token);
        assert.equal(res.status, 200, `ticket ${i}: ${res.text}`);
    }
    const limited = await askTicket(orgA.token);
    assert.equal(limited.status, 429, limited.text);
    assert.match(limited.headers['content-type'], /application\/json/);
    assert.equal(limited.json?.error?.code, 'rate_limited', limited.text);
    assert.ok(limited.json.error.message.length > 0);
    assert.equal(limited.json.ticket, undefined);
    const retryAfter = limited.headers['retry-after'];
    assert.match(retryAfter ?? '', /^[0-9]+$/, 'Retry-After in seconds');
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 2,
        `one ticket every 2 s: Retry-After ${retryAfter}`);

    // still limited on every worker: the bucket is shared (each request
    // is a new connection, which the kernel hands to either worker)
    for (let i = 0; i < 40 && workersThatRefused().size < 2; i++) {
        assert.equal((await askTicket(orgA.token)).status, 429);
        await sleep(20);
    }
    assert.equal(workersThatRefused().size, 2,
        'both workers refused the token');

    assert.equal((await askTicket(await newToken(orgA))).status, 200,
        'another token of the same organization');
    assert.equal((await askTicket(orgB.token)).status, 200,
        'a token of another organization');

    // an unknown token is told so, whatever the limit
    assert.equal((await askTicket('ibx_not_a_token')).status, 401);

    await sleep(Number(retryAfter) * 1000 + 100);
    const again = await askTicket(orgA.token);
    assert.equal(again.status, 200, `after Retry-After: ${again.text}`);
});

test('one person signed in many times has one ticket bucket, not one a '
    + 'session; a colleague has their own', async () => {
    const { cluster } = ctx;
    const orgA = cluster.orgs[0];
    await addUser(cluster, orgA, 'many@a.test', 'many-sessions-1');
    await addUser(cluster, orgA, 'colleague@a.test', 'colleague-pw-1');
    const sessions = [];
    for (let i = 0; i < 4; i++) {
        const signedIn = await login(cluster, 'many@a.test',
                                     'many-sessions-1');
        assert.equal(signedIn.status, 200, signedIn.text);
        sessions.push(signedIn.cookie);
    }
    const ask = (cookie) => sessionApi(cluster, '/api/v1/realtime/ticket',
                                       cookie, { method: 'POST' });

    // 30r/m burst=2: three, whichever session asks
    for (let i = 0; i < 3; i++) {
        const res = await ask(sessions[i]);
        assert.equal(res.status, 200, `ticket ${i}: ${res.text}`);
    }
    const limited = await ask(sessions[3]);
    assert.equal(limited.status, 429, limited.text);
    assert.match(limited.json.error.message, /all your sessions/);

    const colleague = await login(cluster, 'colleague@a.test',
                                  'colleague-pw-1');
    assert.equal((await ask(colleague.cookie)).status, 200,
                 'a colleague of the same organization');
});

test('a zone full of tokens that took a ticket lately refuses a new '
    + 'token (429) and forgets none of them', async () => {
    // the zone at its smallest, about 190 buckets; one ticket a minute
    const small = await startCluster({ http: [
        'inbox_ticket_rate 1r/m burst=0 size=32k;'] });
    try {
        const org = small.orgs[0];
        const tokens = [];
        const rows = [];
        for (let i = 0; i < 300; i++) {
            const token = `ibx_${randomBytes(32).toString('base64url')}`;
            const hash = createHash('sha256').update(token).digest('hex');
            tokens.push(token);
            rows.push(`('${hash}', ${org.id}, 0)`);
        }
        await new Promise((done, fail) => execFile(sqlite3Path,
            ['-cmd', '.timeout 5000', small.storePath,
             'INSERT INTO tokens (token_hash, org_id, created_at) VALUES '
             + `${rows.join(', ')};`], (err) => (err ? fail(err) : done())));

        const ask = (token) => fetch(small.url('/api/v1/realtime/ticket'),
            { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
        const statuses = [];
        for (let i = 0; i < tokens.length; i += 10) {
            for (const res of await Promise.all(
                tokens.slice(i, i + 10).map(ask))) {
                statuses.push(res.status);
                await res.arrayBuffer();
            }
        }
        const granted = statuses.filter((s) => s === 200).length;
        assert.ok(granted > 100 && granted < 300, `${granted} granted`);
        assert.ok(statuses.every((s) => s === 200 || s === 429));

        // the first token's bucket was not forgotten to make room: still
        // its one ticket a minute
        const first = await ask(tokens[0]);
        assert.equal(first.status, 429);
        const res = await ask(tokens[tokens.length - 1]);
        assert.equal(res.status, 429);
        // about when the first bucket drains (1r/m is 62.5 s in whole ms)
        const after = Number(res.headers.get('retry-after'));
        assert.ok(after >= 1 && after <= 63, `Retry-After ${after}`);
        // logged, once rather than per refusal
        assert.equal(small.errorLog().split('\n').filter((line) =>
            /"inbox_ticket_rate" zone is full/.test(line)).length, 1);
    } finally {
        await small.stop();
        small.cleanup();
    }
});

test('an organization that has used up its tickets in ws-server gets 429; '
    + 'another organization still connects', async () => {
    const { cluster } = ctx;
    const [orgA, orgB] = cluster.orgs;

    // --tickets-per-org 3: org A opens three sockets
    const token = await newToken(orgA);
    const sockets = [];
    try {
        for (let i = 0; i < 3; i++) {
            const ws = await connectWs(cluster, token);
            await ws.waitForTypes(['hello']);
            sockets.push(ws);
        }

        // a fourth good ticket of org A (from a token with room left)
        const t = await ticket(cluster, await newToken(orgA));
        const res = await wsUpgrade(wsUrl(cluster, t));
        assert.equal(res.status, 429, res.text);
        assert.match(res.headers['content-type'], /application\/json/);
        assert.equal(res.json?.error?.code, 'rate_limited', res.text);
        assert.match(res.headers['retry-after'] ?? '', /^[0-9]+$/);

        // org B is not held back by org A's volume
        const b = await connectWs(cluster, orgB.token);
        try {
            await b.waitForTypes(['hello']);
        } finally {
            b.close();
        }

        // and A's open sockets are untouched
        assert.ok(sockets.every((s) => !s.closed));
    } finally {
        sockets.forEach((s) => s.close());
    }
});

test('a second ws-server on a port already taken says so and exits 1, '
    + 'leaving no events socket behind', async () => {
    const cluster = await ctx.ready;
    const events = join(cluster.dir, 'events-taken.sock');
    const child = execFile(wsServerPath, ['--listen',
        `127.0.0.1:${cluster.wsPorts[0]}`, '--events', events,
        '--secret', join(cluster.dir, 'realtime.key')]);
    let stderr = '';
    child.stderr.on('data', (b) => { stderr += b; });
    const code = await new Promise((done) => child.on('exit',
        (c, signal) => done(c ?? signal)));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /cannot listen on 127\.0\.0\.1:/);
    assert.equal(existsSync(events), false);
});

errorLogIsCleanTest(ctx);

