// What a carrier sees when things go wrong: a store that cannot be opened,
// is write-locked, deleted, replaced, read-only or out of disk, a worker's
// batch queue full, clients that hang up mid-wait, bodies too large.  The
// carrier must get a 503 it will retry (or a 413), never a hang, a 500, a
// duplicate or a 200 for a message that was not kept; nginx must keep
// serving, and never make a new, empty store.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync,
         unlinkSync, writeSync, openSync, closeSync }
    from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { inboxctl, sleep, sqlite3Path, uniqueNumber }
    from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, assertServerFailure, connectWs, deliverInbound,
         inboundForm, newMessageSid, postInbound, ticket, ticketPosition,
         TWIML_EMPTY, webhookRequest }
    from '../lib/inbox.mjs';

// SQLite's busy timeout in the store: a write-locked store answers after it.
const BUSY_TIMEOUT_MS = 5000;

// One POST on its own connection.  Resolves with status, text, json and
// ms (from sending to the end of the answer); `sent` resolves once the
// whole request is written; req is there to destroy the socket.
function rawPost(url, headers, body, { chunked = false } = {}) {
    const started = Date.now();
    const h = { ...headers, Connection: 'close' };
    if (!chunked) {
        h['Content-Length'] = Buffer.byteLength(body);
    }
    const req = request(url, { method: 'POST', headers: h, agent: false });
    const done = new Promise((ok, fail) => {
        req.on('response', (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { text += d; });
            res.on('end', () => {
                let json;
                try { json = JSON.parse(text); } catch { json = undefined; }
                ok({ status: res.statusCode, headers: new Headers(
                    res.headers), text, json, ms: Date.now() - started });
            });
            res.on('error', fail);
        });
        req.on('error', fail);
    });
    const sent = new Promise((ok) => req.on('finish', ok));
    if (chunked) {
        // several chunks, so nginx cannot know the length beforehand
        const step = 8192;
        for (let i = 0; i < body.length; i += step) {
            req.write(body.slice(i, i + step));
        }
        req.end();
    } else {
        req.end(body);
    }
    return { req, done, sent };
}

function postSigned(cluster, fields, opts) {
    const org = cluster.orgs[0];
    const pairs = inboundForm({ org, ...fields });
    const { url, headers, body } = webhookRequest(cluster, pairs,
        { authToken: org.authToken });
    return rawPost(url, headers, body, opts);
}

// The messages of the conversation with phone, oldest last; [] when none.
async function messagesFrom(cluster, phone) {
    const token = cluster.orgs[0].token;
    const list = await api(cluster, '/api/v1/conversations?limit=200',
        token);
    assert.equal(list.status, 200, list.text);
    const conv = list.json.items.find((c) => c.contact.phone === phone);
    if (!conv) {
        return [];
    }
    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages?limit=200`, token);
    assert.equal(msgs.status, 200, msgs.text);
    return msgs.json.items;
}

async function healthz(cluster) {
    const res = await fetch(cluster.url('/healthz'),
        { signal: AbortSignal.timeout(8000) });
    await res.text();
    return res.status;
}

// /healthz as a monitor reads it: status, and the JSON error when 503.
async function health(cluster) {
    return api(cluster, '/healthz', null);
}

// /healthz answers 503 with its code's sentence alone, open to anyone as
// it is; the error line of that answer says why, matching reason.
async function assertHealthUnavailable(cluster, reason) {
    const before = cluster.errorLog().length;
    const res = await health(cluster);
    assertServerFailure(res, 503, 'unavailable');
    const lines = cluster.errorLog().slice(before).split('\n').filter((l) =>
        /\[error\].*inbox: 503 unavailable: .*GET \/healthz/.test(l));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], reason);
    return lines[0];
}

// Waits until /healthz answers status (the module opens a missing store
// again at most once a second).
async function healthBecomes(cluster, status, ms = 5000) {
    const deadline = Date.now() + ms;
    let res;
    for (;;) {
        res = await health(cluster);
        if (res.status === status || Date.now() > deadline) {
            return res;
        }
        await sleep(200);
    }
}

// Posts a signed webhook again while it is 503, as a carrier retries;
// the last answer.
async function postUntilAccepted(cluster, fields, ms = 5000) {
    const deadline = Date.now() + ms;
    for (;;) {
        const res = await postSigned(cluster, fields).done;
        if (res.status !== 503 || Date.now() > deadline) {
            return res;
        }
        await sleep(200);
    }
}

// A webhook posted twice (the second a carrier's retry), each again
// while 503: both 200, and its thread holds its body once.
async function assertStoredOnce(cluster, fields) {
    for (let i = 0; i < 2; i++) {
        const res = await postUntilAccepted(cluster, fields);
        assert.equal(res.status, 200, res.text);
    }
    assert.deepEqual((await messagesFrom(cluster, fields.from))
        .map((m) => m.body), [fields.body]);
}

function storeFiles(cluster) {
    return ['', '-wal', '-shm'].map((s) => cluster.storePath + s);
}

// A consistent copy of the running store, as an operator's backup.
function backupStore(cluster, path) {
    execFileSync(sqlite3Path, [cluster.storePath, `.backup '${path}'`]);
}

// A few webhooks, enough to meet every worker; their answers.
async function postSome(cluster, n, body) {
    const answers = [];
    for (let i = 0; i < n; i++) {
        answers.push(await postSigned(cluster, { from: uniqueNumber(), body })
            .done);
    }
    return answers;
}

// Problems beyond errorLogProblems: a worker that died and was replaced.
function assertNoWorkerDied(cluster) {
    const lines = cluster.errorLog().split('\n').filter((l) =>
        /exited on signal|exited with (fatal )?code [1-9]/.test(l));
    assert.deepEqual(lines, []);
}


describe('store down', () => {
    const ctx = useCluster({
        orgs: [{ name: 'Down Org' }],
        nginxStore: 'sqlite:/nonexistent-inbox-dir/inbox.db',
    });

    test('a signed webhook is 503 unavailable, so the carrier retries',
        async () => {
            const cluster = await ctx.ready;
            const res = await postInbound(cluster, { from: uniqueNumber(),
                body: 'anyone there?' });
            const err = assertError(res, 503, 'unavailable');
            assert.match(err.message, /again|retry|later/i);
        });

    test('/healthz is 503; the store\'s path is in the error log, not in '
        + 'the answer', async () => {
        const cluster = await ctx.ready;
        await assertHealthUnavailable(cluster,
            /"\/nonexistent-inbox-dir\/inbox\.db" does not exist/);
    });

    test('the API is 503 unavailable, not 500, and names no path',
        async () => {
            const cluster = await ctx.ready;
            const res = await api(cluster, '/api/v1/conversations',
                cluster.orgs[0].token);
            assertServerFailure(res, 503, 'unavailable');
            assert.doesNotMatch(res.text, /nonexistent-inbox-dir/);
        });

    errorLogIsCleanTest(ctx);
});


describe('store write-locked by another process', () => {
    const ctx = useCluster({ orgs: [{ name: 'Busy Org' }] });

    test('a webhook is 503 after the busy timeout, nothing is stored, and '
        + 'the retry after the lock is gone is stored once', async () => {
        const cluster = await ctx.ready;
        const from = uniqueNumber();
        const sid = newMessageSid();
        const lock = await cluster.lockStore();
        let res;
        try {
            res = await postSigned(cluster, { from, sid, body: 'busy' })
                .done;
            assert.ok(res.ms >= BUSY_TIMEOUT_MS - 1000
                && res.ms < BUSY_TIMEOUT_MS + 4000,
                `answered after ${res.ms} ms`);
            assertError(res, 503, 'unavailable');
            // reads go on beside the writer's lock
            assert.deepEqual(await messagesFrom(cluster, from), []);
        } finally {
            await lock.release();
        }
        assert.deepEqual(await messagesFrom(cluster, from), []);

        for (let i = 0; i < 2; i++) {
            res = await postSigned(cluster, { from, sid, body: 'busy' })
                .done;
            assert.equal(res.status, 200, res.text);
            assert.match(res.text, TWIML_EMPTY);
        }
        const msgs = await messagesFrom(cluster, from);
        assert.deepEqual(msgs.map((m) => m.body), ['busy']);
    });

    test('API writes queued behind one waiting out the lock are 503 when '
        + 'it is, not one busy timeout after another', async () => {
        const cluster = await ctx.ready;
        const token = cluster.orgs[0].token;
        const lock = await cluster.lockStore();
        let answers;
        try {
            const started = Date.now();
            // more writers than the two workers have pool threads (4
            // each): some wait for a thread before they ask the store
            answers = await Promise.all(Array.from({ length: 12 }, (_, i) =>
                api(cluster, '/api/v1/contacts', token, { method: 'POST',
                    body: { phone: `+1555010${String(i).padStart(4, '0')}` } })
                    .then((res) => ({ res, ms: Date.now() - started }))));
        } finally {
            await lock.release();
        }
        for (const { res, ms } of answers) {
            // the code's sentence; why, for the error log
            assertServerFailure(res, 503, 'unavailable');
            // each waited one timeout at most, not one per writer ahead
            assert.ok(ms < BUSY_TIMEOUT_MS * 2, `answered after ${ms} ms`);
        }
        assert.match(cluster.errorLog(),
            /\[error\].*inbox: 503 unavailable: .*busy.*POST \/api\/v1\//);
    });

    test('clients that hang up while their webhooks wait crash nothing',
        async (t) => {
            const cluster = await ctx.ready;
            const froms = Array.from({ length: 20 }, () => uniqueNumber());
            const lock = await cluster.lockStore();
            try {
                const posts = froms.map((from) => postSigned(cluster,
                    { from, body: 'hung up' }));
                posts.forEach((p) => p.done.catch(() => {}));
                await Promise.all(posts.map((p) => p.sent));
                // nginx has read the bodies: they wait for the store
                await sleep(300);
                for (const p of posts) {
                    p.req.destroy();
                }
                await sleep(300);
            } finally {
                await lock.release();
            }

            const res = await postSigned(cluster, { from: uniqueNumber(),
                body: 'still here' }).done;
            assert.equal(res.status, 200, res.text);
            assert.equal(await healthz(cluster), 200);

            // Either outcome is fine for the carrier (it retries, the
            // MessageSid dedupes); the count is for the record.
            let stored = 0;
            for (const from of froms) {
                const msgs = await messagesFrom(cluster, from);
                assert.ok(msgs.length <= 1, `${from} stored once at most`);
                stored += msgs.length;
            }
            t.diagnostic(`${stored} of ${froms.length} abandoned webhooks `
                + 'were stored');
            assertNoWorkerDied(cluster);
        });

    test('a body over inbox_max_body is 413 too_large, with Content-Length '
        + 'or chunked', async () => {
        const cluster = await ctx.ready;
        const from = uniqueNumber();
        const big = 'x'.repeat(70 * 1024);
        for (const chunked of [false, true]) {
            const res = await postSigned(cluster, { from, body: big },
                { chunked }).done;
            assertError(res, 413, 'too_large');
        }
        assert.deepEqual(await messagesFrom(cluster, from), []);
        // just under the limit still goes through
        const ok = await postSigned(cluster, { from, body: 'y'.repeat(1500) },
            { chunked: true }).done;
        assert.equal(ok.status, 200, ok.text);
    });

    errorLogIsCleanTest(ctx);
});


describe('a full batch queue', () => {
    // one worker, so that every webhook meets the same queue: one in
    // flight, 64 x inbox_batch_size waiting, the rest turned away
    const BATCH = 1;
    const CAP = 64 * BATCH;
    const ctx = useCluster({
        orgs: [{ name: 'Queue Org' }],
        workerProcesses: 1,
        http: [`inbox_batch_size ${BATCH};`],
    });

    test('webhooks beyond the cap are 503 at once; the rest are stored '
        + 'once the store is free', async () => {
        const cluster = await ctx.ready;
        const total = CAP + 20;
        const froms = Array.from({ length: total }, () => uniqueNumber());
        const lock = await cluster.lockStore();
        let answers;
        try {
            const posts = froms.map((from) => postSigned(cluster,
                { from, body: 'queued' }).done);
            const early = [];
            posts.forEach((p) => p.then((res) => {
                if (res.status === 503) {
                    early.push(res);
                }
            }, () => {}));
            // the refused ones come back long before the busy timeout
            const deadline = Date.now() + BUSY_TIMEOUT_MS / 2;
            while (early.length < total - CAP - 1 && Date.now() < deadline) {
                await sleep(50);
            }
            assert.equal(early.length, total - CAP - 1,
                'one in flight and CAP waiting; the others 503 at once');
            for (const res of early) {
                assertError(res, 503, 'unavailable');
                assert.match(res.json.error.message, /again|retry|later/i);
                assert.ok(res.ms < BUSY_TIMEOUT_MS / 2, `${res.ms} ms`);
            }
            // the worker still answers while its batch waits (a read:
            // /healthz writes, so it would queue behind the batch)
            const read = await api(cluster, '/api/v1/conversations',
                cluster.orgs[0].token);
            assert.equal(read.status, 200, read.text);
            await lock.release();
            answers = await Promise.all(posts);
        } finally {
            await lock.release();
        }

        const refused = new Set();
        answers.forEach((res, i) => {
            if (res.status === 503) {
                refused.add(froms[i]);
            } else {
                assert.equal(res.status, 200, res.text);
                assert.match(res.text, TWIML_EMPTY);
            }
        });
        assert.equal(refused.size, total - CAP - 1);

        const list = await api(cluster, '/api/v1/conversations?limit=200',
            cluster.orgs[0].token);
        assert.equal(list.status, 200, list.text);
        const phones = list.json.items.map((c) => c.contact.phone);
        assert.equal(phones.length, CAP + 1);
        assert.equal(new Set(phones).size, phones.length);
        for (const phone of phones) {
            assert.ok(!refused.has(phone), `${phone} was refused yet stored`);
        }
        for (const c of list.json.items) {
            assert.equal(c.unread_count, 1, `${c.contact.phone} stored once`);
        }
        assert.equal(await healthz(cluster), 200);
    });

    errorLogIsCleanTest(ctx);
});


describe('the store deleted, put back, replaced', () => {
    const ctx = useCluster({ orgs: [{ name: 'Deleted Org' }] });
    const retry = { from: uniqueNumber(), sid: newMessageSid() };
    let kept;

    test('deleting its files under a running nginx: webhooks, the API and '
        + '/healthz are 503, and no new file appears', async () => {
        const cluster = await ctx.ready;
        kept = { from: uniqueNumber(), sid: newMessageSid() };
        const ok = await postSigned(cluster, { ...kept, body: 'kept' }).done;
        assert.equal(ok.status, 200, ok.text);
        backupStore(cluster, join(cluster.dir, 'backup.db'));

        for (const f of storeFiles(cluster)) {
            rmSync(f, { force: true });
        }

        // stored into the deleted file, this would be lost with a 200
        const res = await postSigned(cluster, { ...retry, body: 'retried' })
            .done;
        assertError(res, 503, 'unavailable');
        for (const other of await postSome(cluster, 4, 'gone')) {
            assertError(other, 503, 'unavailable');
        }
        await assertHealthUnavailable(cluster, /missing|deleted/i);
        assertError(await api(cluster, '/api/v1/conversations',
            cluster.orgs[0].token), 503, 'unavailable');
        assert.equal(existsSync(cluster.storePath), false);
    });

    test('a reload with the store missing: 503, a clear error log line, '
        + 'and still no file', async () => {
        const cluster = await ctx.ready;
        await cluster.reloadNginx();

        const res = await postSigned(cluster, { ...retry, body: 'retried' })
            .done;
        assertError(res, 503, 'unavailable');
        assertError(await health(cluster), 503, 'unavailable');
        assertError(await api(cluster, '/api/v1/conversations',
            cluster.orgs[0].token), 503, 'unavailable');
        assert.equal(existsSync(cluster.storePath), false);
        assert.match(cluster.errorLog(),
            /\[error\].*cannot open the store .*does not exist/);
    });

    test('after that reload its backup put back serves at once; the '
        + "carrier's retry is stored once", async () => {
        const cluster = await ctx.ready;
        renameSync(join(cluster.dir, 'backup.db'), cluster.storePath);

        assert.equal((await healthBecomes(cluster, 200)).status, 200);
        // /healthz met one worker; the other reopens its store within a
        // second, so the webhook is retried the way a carrier would
        await assertStoredOnce(cluster, { ...retry, body: 'retried' });
        assert.deepEqual((await messagesFrom(cluster, kept.from))
            .map((m) => m.body), ['kept']);
    });

    test('another store put in its place is refused: 503, and nothing is '
        + 'written to it', async () => {
        const cluster = await ctx.ready;
        const org = cluster.orgs[0];
        const other = `sqlite:${join(cluster.dir, 'other.db')}`;
        const id = await inboxctl(other, 'org', 'create', 'Impostor');
        await inboxctl(other, 'number', 'add', id, org.number,
            '--carrier', 'twilio', '--account-sid', org.accountSid,
            '--auth-token', org.authToken);
        renameSync(join(cluster.dir, 'other.db'), cluster.storePath);

        const res = await postSigned(cluster, { from: uniqueNumber(),
            body: 'to whom?' }).done;
        assertError(res, 503, 'unavailable');
        for (const more of await postSome(cluster, 4, 'to whom?')) {
            assertError(more, 503, 'unavailable');
        }
        await assertHealthUnavailable(cluster, /replaced/);
        const count = execFileSync(sqlite3Path, [cluster.storePath,
            'SELECT count(*) FROM messages']).toString().trim();
        assert.equal(count, '0');
    });

    errorLogIsCleanTest(ctx);
});


describe('the store moved back, restored, or a copy put in its place '
    + 'while nginx runs', () => {
    const ctx = useCluster({ orgs: [{ name: 'Restored Org' }] });
    const kept = { from: uniqueNumber(), sid: newMessageSid() };
    const late = { from: uniqueNumber(), sid: newMessageSid() };

    test('moved away: 503; moved back: it serves, and the retry is '
        + 'stored once', async () => {
        const cluster = await ctx.ready;
        const ok = await postSigned(cluster, { ...kept, body: 'kept' }).done;
        assert.equal(ok.status, 200, ok.text);
        const away = join(cluster.dir, 'away.db');
        // only the file moves: its -wal and -shm stay beside the path
        renameSync(cluster.storePath, away);

        const retry = { from: uniqueNumber(), sid: newMessageSid() };
        assertError(await postSigned(cluster, { ...retry, body: 'retried' })
            .done, 503, 'unavailable');
        await assertHealthUnavailable(cluster, /missing/);

        renameSync(away, cluster.storePath);
        assert.equal((await healthBecomes(cluster, 200)).status, 200);
        await assertStoredOnce(cluster, { ...retry, body: 'retried' });
    });

    test("a backup brought back with sqlite3's .restore serves at once; "
        + 'what it lacks, retried, is stored once', async () => {
        const cluster = await ctx.ready;
        const backup = join(cluster.dir, 'backup.db');
        backupStore(cluster, backup);
        const res = await postSigned(cluster, { ...late, body: 'late' }).done;
        assert.equal(res.status, 200, res.text);
        assert.equal((await messagesFrom(cluster, late.from)).length, 1);

        execFileSync(sqlite3Path, ['-cmd', '.timeout 5000',
            cluster.storePath, `.restore '${backup}'`]);

        assert.equal((await health(cluster)).status, 200);
        assert.deepEqual(await messagesFrom(cluster, late.from), []);
        assert.deepEqual((await messagesFrom(cluster, kept.from))
            .map((m) => m.body), ['kept']);
        await assertStoredOnce(cluster, { ...late, body: 'late' });
    });

    test('restored, then `inboxctl events new-epoch`: a browser that saw '
        + 'newer events is reset and gets the next ones live', async () => {
        const cluster = await ctx.ready;
        const org = cluster.orgs[0];
        const ws = await connectWs(cluster, org.token);
        try {
            await ws.waitForTypes(['hello']);
            const hello = ws.frames[0];
            ws.send({ type: 'resume', epoch: hello.epoch,
                      org_seq: hello.org_seq });
            const backup = join(cluster.dir, 'before-newer.db');
            backupStore(cluster, backup);
            await deliverInbound(cluster, { from: uniqueNumber(),
                                            body: 'newer' });
            await ws.waitFor((fs) => fs.some((f) =>
                f.type === 'message.created'
                && f.message.body === 'newer'), 5000, 'the newer event');

            execFileSync(sqlite3Path, ['-cmd', '.timeout 5000',
                cluster.storePath, `.restore '${backup}'`]);
            const out = await inboxctl(cluster.store, 'events', 'new-epoch');
            assert.match(out, /a new event epoch for 1 organization/);

            // numbered as the newer one was, in the new epoch
            await deliverInbound(cluster, { from: uniqueNumber(),
                                            body: 'after the restore' });
            const frames = await ws.waitFor((fs) => fs.some((f) =>
                f.type === 'message.created'
                && f.message.body === 'after the restore'), 5000,
                'the event after the restore');
            // a look at the store between the restore and new-epoch finds
            // it gone back in the old epoch, and resets first in that one:
            // the reset before the next event is the new epoch's
            const after = frames.find((f) => f.type === 'message.created'
                && f.message.body === 'after the restore');
            const reset = frames.slice(0, frames.indexOf(after))
                .filter((f) => f.type === 'reset').at(-1);
            assert.ok(reset, JSON.stringify(frames.map((f) => f.type)));
            assert.notEqual(reset.epoch, hello.epoch);
            assert.equal(after.epoch, reset.epoch);
        } finally {
            ws.close();
        }
    });

    test('`inboxctl events new-epoch` and no event after it: ws-server '
        + 'finds the new epoch at its look at the store and resets the '
        + 'open sockets into it, where the store is', async () => {
        const cluster = await ctx.ready;
        const org = cluster.orgs[0];
        const ws = await connectWs(cluster, org.token);
        try {
            await ws.waitForTypes(['hello']);
            const hello = ws.frames[0];
            ws.send({ type: 'resume', epoch: hello.epoch,
                      org_seq: hello.org_seq });
            await inboxctl(cluster.store, 'events', 'new-epoch');
            const now = ticketPosition(await ticket(cluster, org.token));
            assert.notEqual(now.epoch, hello.epoch);

            // its look comes every 2 s; nothing else tells it
            await ws.waitForTypes(['reset'], 5000);
            const reset = ws.frames.find((f) => f.type === 'reset');
            assert.deepEqual({ epoch: reset.epoch, org_seq: reset.org_seq },
                             now);

            await deliverInbound(cluster, { from: uniqueNumber(),
                                            body: 'in the new epoch' });
            const frames = await ws.waitFor((fs) => fs.some((f) =>
                f.type === 'message.created'
                && f.message.body === 'in the new epoch'), 5000,
                'the next event');
            assert.equal(frames.filter((f) => f.type === 'reset').length, 1);
            const next = frames.find((f) => f.type === 'message.created');
            assert.equal(next.epoch, now.epoch);
            assert.ok(next.org_seq > now.org_seq, JSON.stringify(next));
        } finally {
            ws.close();
        }
    });

    test('`inboxctl events new-epoch`, then a browser connects before any '
        + 'event: its hello and its resume there agree on the new epoch '
        + '(no reset, no reload), and the open sockets are reset into it',
        async () => {
        const cluster = await ctx.ready;
        const org = cluster.orgs[0];
        const open = await connectWs(cluster, org.token);
        let fresh;
        try {
            await open.waitForTypes(['hello']);
            const old = open.frames[0];
            open.send({ type: 'resume', epoch: old.epoch,
                        org_seq: old.org_seq });
            await inboxctl(cluster.store, 'events', 'new-epoch');

            fresh = await connectWs(cluster, org.token);
            await fresh.waitForTypes(['hello']);
            const hello = fresh.frames[0];
            assert.notEqual(hello.epoch, old.epoch);
            fresh.send({ type: 'resume', epoch: hello.epoch,
                         org_seq: hello.org_seq });

            await open.waitForTypes(['reset'], 5000);
            const reset = open.frames.find((f) => f.type === 'reset');
            assert.deepEqual(
                { epoch: reset.epoch, org_seq: reset.org_seq },
                { epoch: hello.epoch, org_seq: hello.org_seq });

            await deliverInbound(cluster, { from: uniqueNumber(),
                                            body: 'after the new epoch' });
            const got = (ws) => ws.waitFor((fs) => fs.some((f) =>
                f.type === 'message.created'
                && f.message.body === 'after the new epoch'), 5000,
                'the next event');
            const frames = await got(fresh);
            await got(open);
            assert.deepEqual(frames.filter((f) => f.type === 'reset'), []);
            const next = frames.find((f) => f.type === 'message.created');
            assert.equal(next.epoch, hello.epoch);
            assert.ok(next.org_seq > hello.org_seq, JSON.stringify(next));
            assert.equal(open.frames.filter((f) => f.type === 'reset')
                .length, 1);
        } finally {
            open.close();
            fresh?.close();
        }
    });

    test('restored without `events new-epoch`: ws-server sees the store '
        + 'went back when it numbers anew and resets its browsers, and a '
        + 'browser resuming from past the store is reset too', async () => {
        const cluster = await ctx.ready;
        const org = cluster.orgs[0];
        const seqOf = (frames) => Math.max(...frames
            .filter((f) => typeof f.org_seq === 'number')
            .map((f) => f.org_seq));
        const ws = await connectWs(cluster, org.token);
        let late;
        try {
            await ws.waitForTypes(['hello']);
            const hello = ws.frames[0];
            ws.send({ type: 'resume', epoch: hello.epoch,
                      org_seq: hello.org_seq });
            const backup = join(cluster.dir, 'before-lost.db');
            backupStore(cluster, backup);
            for (const body of ['lost 1', 'lost 2', 'lost 3']) {
                await deliverInbound(cluster, { from: uniqueNumber(), body });
            }
            const seen = await ws.waitFor((fs) => fs.some((f) =>
                f.type === 'message.created'
                && f.message.body === 'lost 3'), 5000, 'the lost events');
            const lastSeq = seqOf(seen);

            execFileSync(sqlite3Path, ['-cmd', '.timeout 5000',
                cluster.storePath, `.restore '${backup}'`]);

            // more than were lost, at once: by ws-server's periodic look
            // the store is past what went out, and looks ahead of it
            for (const body of ['anew 1', 'anew 2', 'anew 3', 'anew 4']) {
                await deliverInbound(cluster, { from: uniqueNumber(), body });
            }
            const frames = await ws.waitFor((fs) => fs.some((f) =>
                f.type === 'reset'), 5000, 'a reset');
            const reset = frames.find((f) => f.type === 'reset');
            assert.equal(reset.epoch, hello.epoch);
            assert.ok(reset.org_seq < lastSeq, JSON.stringify(reset));

            await deliverInbound(cluster, { from: uniqueNumber(),
                                            body: 'after the restore' });
            const next = await ws.waitFor((fs) => fs.some((f) =>
                f.type === 'message.created'
                && f.message.body === 'after the restore'), 5000,
                'the event after the restore');
            const after = next.find((f) => f.type === 'message.created'
                && f.message.body === 'after the restore');
            assert.ok(next.indexOf(reset) < next.indexOf(after));
            assert.ok(after.org_seq > reset.org_seq, JSON.stringify(after));
            late = { epoch: hello.epoch, org_seq: seqOf(next) };
        } finally {
            ws.close();
        }

        // a browser that was away resumes from where it had got to, and
        // the store is behind it (restored again) where a ws-server
        // started since has only the store to go by
        await cluster.stopWs();
        execFileSync(sqlite3Path, ['-cmd', '.timeout 5000',
            cluster.storePath,
            `.restore '${join(cluster.dir, 'before-lost.db')}'`]);
        await cluster.startWs();
        const back = await connectWs(cluster, org.token);
        try {
            await back.waitForTypes(['hello']);
            const hello = back.frames[0];
            assert.ok(hello.org_seq < late.org_seq, JSON.stringify(hello));
            back.send({ type: 'resume', ...late });
            const frames = await back.waitFor((fs) => fs.some((f) =>
                f.type === 'reset'), 5000, 'a reset');
            const reset = frames.find((f) => f.type === 'reset');
            assert.equal(reset.org_seq, hello.org_seq);
            await deliverInbound(cluster, { from: uniqueNumber(),
                                            body: 'seen after all' });
            await back.waitFor((fs) => fs.some((f) =>
                f.type === 'message.created'
                && f.message.body === 'seen after all'), 5000,
                'the next event');
        } finally {
            back.close();
        }
    });

    test('restored behind where a restarted ws-server began watching: '
        + 'its browsers are reset, and new tickets open sockets that get '
        + 'live events', async () => {
        const cluster = await ctx.ready;
        const org = cluster.orgs[0];
        const backup = join(cluster.dir, 'before-restart.db');
        backupStore(cluster, backup);
        for (const body of ['gone 1', 'gone 2', 'gone 3']) {
            await deliverInbound(cluster, { from: uniqueNumber(), body });
        }
        await cluster.stopWs();
        await cluster.startWs();
        // the first socket of the new process: it watches from here on
        const a = await connectWs(cluster, org.token);
        try {
            await a.waitForTypes(['hello']);
            a.send({ type: 'resume', epoch: a.frames[0].epoch,
                     org_seq: a.frames[0].org_seq });
            execFileSync(sqlite3Path, ['-cmd', '.timeout 5000',
                cluster.storePath, `.restore '${backup}'`]);
            await deliverInbound(cluster, { from: uniqueNumber(),
                                            body: 'anew' });
            await a.waitFor((fs) => fs.some((f) => f.type === 'reset'),
                            5000, 'a reset');

            for (let i = 0; i < 2; i++) {
                const b = await connectWs(cluster, org.token);
                try {
                    await b.waitForTypes(['hello']);
                    b.send({ type: 'resume', epoch: b.frames[0].epoch,
                             org_seq: b.frames[0].org_seq });
                    const body = `live ${i}`;
                    await deliverInbound(cluster, { from: uniqueNumber(),
                                                    body });
                    await b.waitFor((fs) => fs.some((f) =>
                        f.type === 'message.created'
                        && f.message.body === body), 5000, body);
                    assert.equal(b.closed, false, `${b.closeCode} `
                        + `${b.closeReason}`);
                } finally {
                    b.close();
                }
            }
        } finally {
            a.close();
        }
    });

    test('a copy put in its place, the old -wal still beside it, is '
        + 'refused: 503, and nothing is written to it', async () => {
        const cluster = await ctx.ready;
        const copy = join(cluster.dir, 'copy.db');
        backupStore(cluster, copy);
        const count = () => execFileSync(sqlite3Path, [copy,
            'SELECT count(*) FROM messages']).toString().trim();
        const before = count();
        // the live file's -wal and -shm stay, open in the workers
        renameSync(copy, cluster.storePath);

        for (const res of await postSome(cluster, 4, 'into the copy?')) {
            assertError(res, 503, 'unavailable');
        }
        const why = await assertHealthUnavailable(cluster, /replaced/);
        assert.match(why, /restarted/);
        assertError(await api(cluster, '/api/v1/conversations',
            cluster.orgs[0].token), 503, 'unavailable');
        // counted away from the path, where no -wal is beside it
        renameSync(cluster.storePath, copy);
        assert.equal(count(), before);
    });
});


// A tiny tmpfs holds nginx's store: filled up, then read-only.  Mounting
// needs root (CI runs as root, and chmod does not stop root's writes).
function mountTmpfs(dir) {
    try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700',
            'tmpfs', dir], { stdio: 'pipe' });
        return null;
    } catch (err) {
        return `${err.stderr || err.message}`.trim();
    }
}

describe('the store on a disk that fills up or turns read-only', () => {
    const mnt = mkdtempSync(join(tmpdir(), 'inbox-test-tmpfs-'));
    const refused = mountTmpfs(mnt);
    // (node:test skips on any skip but undefined or false)
    const skip = refused ? 'mounting a tmpfs needs root and CAP_SYS_ADMIN '
        + `(mount said: ${refused})` : false;
    const store = join(mnt, 'inbox.db');
    const filler = join(mnt, 'filler');
    const ctx = useCluster({ orgs: [{ name: 'Disk Org' }],
                             nginxStore: `sqlite:${store}` });

    after(() => {
        if (!refused) {
            try {
                execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
            } catch { /* unmounted already */ }
        }
        rmSync(mnt, { recursive: true, force: true });
    });

    test('nginx started without its store answers 503 and makes none; the '
        + 'store put in place serves without a restart', { skip },
    async () => {
        const cluster = await ctx.ready;
        const res = await postSigned(cluster, { from: uniqueNumber(),
            body: 'early' }).done;
        assertError(res, 503, 'unavailable');
        assertError(await health(cluster), 503, 'unavailable');
        assert.equal(existsSync(store), false);

        copyFileSync(cluster.storePath, store);
        assert.equal((await healthBecomes(cluster, 200)).status, 200);
        const ok = await postUntilAccepted(cluster, { from: uniqueNumber(),
            body: 'on time' });
        assert.equal(ok.status, 200, ok.text);
    });

    test('a full disk: /healthz 503; a webhook is stored (200) or refused '
        + '(503), never lost', { skip }, async () => {
        const cluster = await ctx.ready;
        const fd = openSync(filler, 'w');
        try {
            const chunk = Buffer.alloc(64 * 1024, 1);
            for (;;) {
                writeSync(fd, chunk);
            }
        } catch (err) {
            assert.equal(err.code, 'ENOSPC');
        } finally {
            closeSync(fd);
        }

        await assertHealthUnavailable(cluster, /full/);

        const sent = [];
        for (let i = 0; i < 6; i++) {
            const msg = { from: uniqueNumber(), sid: newMessageSid(),
                          body: 'z'.repeat(1500) };
            const res = await postSigned(cluster, msg).done;
            assert.ok(res.status === 200 || res.status === 503,
                `${res.status}: ${res.text}`);
            if (res.status === 503) {
                assertError(res, 503, 'unavailable');
            }
            sent.push({ msg, status: res.status });
        }

        unlinkSync(filler);
        assert.equal((await healthBecomes(cluster, 200)).status, 200);
        for (const { msg, status } of sent) {
            if (status === 503) {
                const res = await postUntilAccepted(cluster, msg);
                assert.equal(res.status, 200, res.text);
            }
            assert.equal((await messagesFrom(cluster, msg.from)).length, 1,
                `${msg.from} (first answered ${status}) stored once`);
        }
    });

    test('a read-only store: /healthz 503 and a clear error log line; '
        + 'writable again, it serves', { skip }, async () => {
        const cluster = await ctx.ready;
        // a mount with files open for writing cannot turn read-only
        await cluster.stopNginx();
        execFileSync('mount', ['-o', 'remount,ro', mnt], { stdio: 'pipe' });
        try {
            await cluster.startNginx({ healthy: false });
            assertError(await health(cluster), 503, 'unavailable');
            const res = await postSigned(cluster, { from: uniqueNumber(),
                body: 'read-only' }).done;
            assertError(res, 503, 'unavailable');
            assert.match(cluster.errorLog(), /\[error\].*is read-only/);
        } finally {
            execFileSync('mount', ['-o', 'remount,rw', mnt],
                { stdio: 'pipe' });
        }
        assert.equal((await healthBecomes(cluster, 200)).status, 200);
    });

    errorLogIsCleanTest(ctx);
});
