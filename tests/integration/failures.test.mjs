// What a carrier sees when things go wrong: a store that cannot be opened
// or is write-locked, a worker's batch queue full, clients that hang up
// mid-wait, bodies too large.  The carrier must get a 503 it will retry (or
// a 413), never a hang, a 500 or a duplicate; nginx must keep serving.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { sleep, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, inboundForm, newMessageSid, postInbound,
         TWIML_EMPTY, webhookRequest } from '../lib/inbox.mjs';

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
        { signal: AbortSignal.timeout(5000) });
    await res.text();
    return res.status;
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

    test('/healthz is 503', async () => {
        const cluster = await ctx.ready;
        const res = await fetch(cluster.url('/healthz'));
        assert.equal(res.status, 503, await res.text());
    });

    test('the API is 503 unavailable, not 500', async () => {
        const cluster = await ctx.ready;
        const res = await api(cluster, '/api/v1/conversations',
            cluster.orgs[0].token);
        assertError(res, 503, 'unavailable');
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
            // the worker still answers while its batch waits
            assert.equal(await healthz(cluster), 200);
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
