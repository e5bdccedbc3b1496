// bench/replies.mjs: replies end to end, beside the carrier simulator's
// own ceiling and nginx's bare `return 200`, in one run (bench/replies
// builds first, then runs this; see its header and docs/BENCHMARKS.md).
//
// One cluster (tests/lib/cluster.mjs): a fresh SQLite store, nginx with
// the module, ws-server, the sender and the carrier simulator (delays
// scaled by --delay-scale, 0 by default: status callbacks go out at once,
// so the bench measures work, not sleeping).  The same HTTP client (a
// keep-alive agent, a fixed number of requests in flight) drives:
//   1. return 200: a second nginx server block answering `return 200`;
//   2. the simulator alone: Twilio Messages API sends (form fields, Basic
//      auth), their status callbacks (sent, delivered; signed) going to
//      that `return 200`;
//   3. replies end to end: POST /api/v1/conversations/{id}/messages over
//      many threads, while a WebSocket of the organization counts
//      `message.status` frames; a reply is complete when its `delivered`
//      frame arrives (and, from the store's events afterwards, when its
//      delivery was stored);
//   4. the same paced at half of what phase 3 completed (--paced), for
//      latencies without the outbox's backlog.
// Then it checks that every accepted reply reached the simulator exactly
// once, was delivered in the store and had exactly one `delivered` frame,
// and exits 1 otherwise.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import WebSocket from '../tests/node_modules/ws/index.js';
import { inboxctl, sleep } from '../tests/lib/cluster.mjs';
import { postInbound, ticket, wsUrl } from '../tests/lib/inbox.mjs';
import { clusterProcs, cpuDelta, int, load, loadAverage, log, makeClient,
         ms, pc, pct, perfRecord, perfReport, simCeiling, snapshot,
         us, withBenchCluster } from './e2e.mjs';

const USAGE = `usage: bench/replies [-c CONCURRENCY] [-d SECONDS] [-w SECONDS]
                     [--conversations N] [--delay-scale F] [--workers N]
                     [--paced F] [--perf] [--keep]
  -c N               requests in flight, every phase (32)
  -d SECONDS         each measured phase (10)
  -w SECONDS         warm-up before each phase, not counted (2)
  --conversations N  threads the replies are spread over (200)
  --delay-scale F    the simulator's delays (0: callbacks at once)
  --workers N        nginx worker_processes (2)
  --paced F          then replies again, paced at F times what the first
                     replies phase completed (0.5; 0: not)
  --perf             a system-wide perf profile of the end-to-end phase
  --keep             keep the cluster's directory (logs, store)`;

function options() {
    let v;
    try {
        v = parseArgs({ options: {
            c: { type: 'string', short: 'c' },
            d: { type: 'string', short: 'd' },
            w: { type: 'string', short: 'w' },
            conversations: { type: 'string' },
            'delay-scale': { type: 'string' },
            workers: { type: 'string' },
            paced: { type: 'string' },
            perf: { type: 'boolean' },
            keep: { type: 'boolean' },
            help: { type: 'boolean', short: 'h' },
        } }).values;
    } catch (e) {
        process.stderr.write(`bench/replies: ${e.message}\n${USAGE}\n`);
        process.exit(2);
    }
    if (v.help) {
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
    }
    const o = {
        concurrency: Number(v.c ?? 32),
        duration: Number(v.d ?? 10),
        warmup: Number(v.w ?? 2),
        conversations: Number(v.conversations ?? 200),
        delayScale: Number(v['delay-scale'] ?? 0),
        workers: Number(v.workers ?? 2),
        paced: Number(v.paced ?? 0.5),
        perf: v.perf === true,
        keep: v.keep === true,
    };
    for (const [k, x] of Object.entries(o)) {
        if (typeof x === 'number' && !(x >= 0)) {
            process.stderr.write(`bench/replies: bad ${k}\n${USAGE}\n`);
            process.exit(2);
        }
    }
    return o;
}

// When each reply's delivery was stored (epoch ms), by body: its last
// message.status event (statuses only move forward).
function storedDoneTimes(sql) {
    const out = new Map();
    const rows = sql("SELECT m.body, max(e.created_at) FROM events e "
        + "JOIN messages m ON m.id = e.message_id WHERE e.type = "
        + "'message.status' AND m.direction = 'outbound' AND m.status = "
        + "'delivered' GROUP BY m.id;");
    for (const line of rows.split('\n')) {
        const i = line.lastIndexOf('\t');
        if (i > 0) {
            out.set(line.slice(0, i), Number(line.slice(i + 1)));
        }
    }
    return out;
}

// ---- the run ----

async function main() {
    const o = options();
    const loadBefore = loadAverage();
    log(`== load average before: ${loadBefore}`);
    const status = await withBenchCluster({ name: 'Bench Replies',
        workers: o.workers, delayScale: o.delayScale, perf: o.perf,
        keep: o.keep }, (cluster) => run(o, cluster, loadBefore));
    process.exit(status);
}

async function run(o, cluster, loadBefore) {
    const org = cluster.orgs[0];
    const sim = cluster.sim;
    const nginxPort = cluster.port;
    const sinkPort = cluster.sinkPort;
    const post = makeClient(o.concurrency);
    const runId = Date.now().toString(36);
    const procs = clusterProcs(cluster);

    // ---- the organization: credits, billing, threads ----
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100000000');
    await inboxctl(cluster.store, 'billing', 'set', org.id, 'active');
    log(`== ${o.conversations} threads (signed inbound webhooks)`);
    const contacts = Array.from({ length: o.conversations },
        (_, i) => `+1415${String(2000000 + i).padStart(7, '0')}`);
    for (let i = 0; i < contacts.length; i += 16) {
        await Promise.all(contacts.slice(i, i + 16).map(async (from) => {
            const res = await postInbound(cluster, { from, body: 'Hi, are '
                + 'you open on Sunday?' });
            if (res.status !== 200) {
                throw new Error(`inbound webhook: ${res.status} ${res.text}`);
            }
        }));
    }
    const convs = [];
    let cursor = null;
    do {
        const res = await fetch(cluster.url('/api/v1/conversations?limit=200'
            + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '')),
            { headers: { Authorization: `Bearer ${org.token}` } });
        const j = await res.json();
        convs.push(...j.items.map((c) => c.id));
        cursor = j.next_cursor;
    } while (cursor);
    if (convs.length !== o.conversations) {
        throw new Error(`${convs.length} threads, not ${o.conversations}`);
    }

    const body = (tag, n) => `Thanks! We open at 9 on Sundays, see you `
        + `then. (${tag} ${n})`;

    // ---- 1. nginx's return 200 ----
    const sinkReq = (n) => ({ port: sinkPort, path: '/baseline',
        headers: { 'Content-Type': 'application/json',
                   Authorization: `Bearer ${org.token}` },
        body: JSON.stringify({ body: body('base', n) }),
        ok: (s) => s === 200 });
    log('-- return 200');
    await load(post, o.concurrency, o.warmup, sinkReq);
    const a = snapshot(procs);
    const base = await load(post, o.concurrency, o.duration, sinkReq);
    base.cpu = cpuDelta(a, snapshot(procs));
    log(`   ${int(base.rps)} req/s`);

    // ---- 2. the simulator alone ----
    log('-- carrier simulator alone');
    const ceil = await simCeiling({ cluster, concurrency: o.concurrency,
        duration: o.duration, warmup: o.warmup, to: contacts, body,
        procs });
    log(`   ${int(ceil.rps)} sends/s answered, callbacks drained `
        + `${ceil.drainS.toFixed(2)} s later: ${int(ceil.sustained)}/s `
        + `sustained, ${ceil.callbacks} callbacks`);

    // ---- 3. replies end to end ----
    const t = await ticket(cluster, org.token);
    const ws = new WebSocket(wsUrl(cluster, t), 'inbox.v1');
    await new Promise((ok, fail) => {
        ws.once('open', ok);
        ws.once('error', fail);
    });
    const accepted = new Map();     // message id -> { at, body, phase }
    const delivered = new Map();    // message id -> [at, ...]
    let waiting = 0;                // accepted, no delivered frame yet
    let statusFrames = 0;
    let win = null;                 // the phase measured: { from, to, n }
    let closed = null;
    ws.on('close', (code) => { closed = code; });
    ws.on('message', (data) => {
        const text = data.toString();
        if (!text.includes('"message.status"')) {
            return;
        }
        const f = JSON.parse(text);
        if (f.type !== 'message.status') {
            return;
        }
        statusFrames += 1;
        if (f.status !== 'delivered') {
            return;
        }
        const now = performance.now();
        const list = delivered.get(f.id) ?? [];
        list.push(now);
        delivered.set(f.id, list);
        if (list.length === 1 && accepted.has(f.id)) {
            waiting -= 1;
        }
        if (win && now >= win.from && now <= win.to) {
            win.n += 1;
        }
    });
    const sql = (q) => execFileSync('sqlite3', ['-separator', '\t',
        cluster.storePath, q]).toString();
    const storedDelivered = () => Number(sql("SELECT count(*) FROM "
        + "messages WHERE direction = 'outbound' AND status = "
        + "'delivered';"));
    // Until every reply accepted so far is delivered in the store and its
    // frame came (or 2 s more passed: a lost frame never comes); 120 s
    // at most.
    const drainReplies = async () => {
        const deadline = performance.now() + 120000;
        while (storedDelivered() < accepted.size
               && performance.now() < deadline) {
            await sleep(100);
        }
        const grace = performance.now() + 2000;
        while (waiting > 0 && performance.now() < grace) {
            await sleep(10);
        }
    };
    const replyReq = (phase) => (n) => {
        const text = body(`${runId}-${phase}`, n);
        return { port: nginxPort,
            path: `/api/v1/conversations/${convs[n % convs.length]}/messages`,
            headers: { 'Content-Type': 'application/json',
                       Authorization: `Bearer ${org.token}` },
            body: JSON.stringify({ body: text }),
            ok: (st) => st === 201,
            done(answer, at) {
                if (answer.status === 201) {
                    const m = JSON.parse(answer.body.toString());
                    accepted.set(m.id, { at, body: text, phase });
                    if (!delivered.has(m.id)) {
                        waiting += 1;
                    }
                }
            } };
    };
    // One measured phase, from an empty outbox to the last reply
    // delivered.  rate: replies started per second at most (0: as fast
    // as the answers come).
    const repliesPhase = async (phase, rate, perf) => {
        const w = { from: performance.now(), to: Infinity, n: 0 };
        win = w;
        const perfDone = perf ? perfRecord(cluster.dir, Math.min(5,
                                                       o.duration)) : null;
        const s0 = snapshot(procs);
        const st = await load(post, o.concurrency, o.duration,
                              replyReq(phase), rate);
        const s1 = snapshot(procs);
        w.to = s1.at;
        await drainReplies();
        const s2 = snapshot(procs);
        st.phase = phase;
        st.rate = rate;
        st.window = w;
        st.cpu = cpuDelta(s0, s1);
        st.whole = cpuDelta(s0, s2);
        st.drainS = (s2.at - s1.at) / 1000;
        st.perfFile = perfDone ? await perfDone : null;
        st.socketRps = w.n / st.cpu.wall;
        return st;
    };

    log('-- replies end to end');
    await load(post, o.concurrency, o.warmup, replyReq('warm'));
    await drainReplies();
    const full = await repliesPhase('full', 0, o.perf);
    const phases = [full];
    log(`   ${int(full.rps)} accepted/s, ${int(full.socketRps)} delivered `
        + `frames/s, drained ${full.drainS.toFixed(2)} s later`);
    if (o.paced > 0) {
        // the same, paced below what the whole path completed
        const epoch0 = performance.timeOrigin;
        const doneAt = storedDoneTimes(sql);
        const inWin = [...doneAt.values()].filter((at) => at - epoch0
            >= full.window.from && at - epoch0 <= full.window.to).length;
        const rate = Math.max(1, Math.round(o.paced * inWin / full.cpu.wall));
        log(`-- replies paced at ${rate}/s`);
        const paced = await repliesPhase('paced', rate, false);
        phases.push(paced);
        log(`   ${int(paced.rps)} accepted/s, ${int(paced.socketRps)} `
            + `delivered frames/s, drained ${paced.drainS.toFixed(2)} s later`);
    }
    await sleep(500);               // a duplicate frame would come now
    const closedEarly = closed;
    ws.terminate();

    // ---- what the store says: when each reply's delivery was stored ----
    const epoch0 = performance.timeOrigin;
    const doneAt = storedDoneTimes(sql);
    for (const st of phases) {
        const toStore = [];
        const toSocket = [];
        let stored = 0;
        let missing = 0;
        let twice = 0;
        let replies = 0;
        for (const [id, r] of accepted) {
            if (r.phase !== st.phase) {
                continue;
            }
            replies += 1;
            const at = doneAt.get(r.body);
            if (at !== undefined) {
                toStore.push(at - epoch0 - r.at);
                if (at - epoch0 >= st.window.from
                    && at - epoch0 <= st.window.to) {
                    stored += 1;
                }
            }
            const d = delivered.get(id);
            if (d) {
                toSocket.push(d[0] - r.at);
                twice += d.length > 1 ? 1 : 0;
            } else {
                missing += 1;
            }
        }
        Object.assign(st, { toStore, toSocket, missing, twice, replies,
                            storeRps: stored / st.cpu.wall });
    }

    // ---- checks ----
    const sends = await sim.requests({ kind: 'send' });
    const sentBodies = new Map();
    let sendsNot201 = 0;
    for (const r of sends) {
        const b = (r.form ?? []).find(([k]) => k === 'Body')?.[1];
        sentBodies.set(b, (sentBodies.get(b) ?? 0) + 1);
        if (r.response?.status !== 201) {
            sendsNot201 += 1;
        }
    }
    const problems = [];
    let notSent = 0;
    let sentTwice = 0;
    let notDelivered = 0;
    let notStored = 0;
    let deliveredTwice = 0;
    for (const [id, r] of accepted) {
        const n = sentBodies.get(r.body) ?? 0;
        notSent += n === 0 ? 1 : 0;
        sentTwice += n > 1 ? 1 : 0;
        notStored += doneAt.has(r.body) ? 0 : 1;
        const d = delivered.get(id)?.length ?? 0;
        notDelivered += d === 0 ? 1 : 0;
        deliveredTwice += d > 1 ? 1 : 0;
    }
    const refused = phases.reduce((x, st) => x + Object.values(st.other)
        .reduce((y, z) => y + z, 0), 0);
    if (sends.length !== accepted.size) {
        problems.push(`${sends.length} sends for ${accepted.size} replies`);
    }
    for (const [n, what] of [[notSent, 'accepted replies never sent'],
        [sentTwice, 'replies sent more than once'],
        [sendsNot201, 'sends not answered 201'],
        [notStored, 'replies not delivered in the store'],
        [notDelivered, 'replies with no delivered frame on the socket'],
        [deliveredTwice, 'replies with more than one delivered frame'],
        [refused, 'replies not accepted']]) {
        if (n > 0) {
            problems.push(`${n} ${what}`);
        }
    }
    if (closedEarly !== null) {
        problems.push(`the WebSocket was closed (${closedEarly})`);
    }
    const errors = cluster.errorLogProblems();
    if (errors.length > 0) {
        problems.push(`nginx error log: ${errors.slice(0, 3).join(' | ')}`);
    }
    // callbacks the inbox answered 503 (the status came before the
    // sender had recorded the carrier's message id: tried again)
    let retried = 0;
    for (const h of await sim.webhooks({ kind: 'status' })) {
        retried += h.attempts.length > 1 ? 1 : 0;
    }

    // ---- the report ----
    const loadAfter = loadAverage();
    const nginxV = spawnSync('nginx', ['-v']).stderr?.toString() ?? '';
    const c = ceil.cpu;
    const lines = [];
    lines.push('', '## replies end to end vs the carrier simulator and '
        + 'return 200', '');
    lines.push(`${new Date().toISOString().slice(0, 16).replace('T', ' ')} `
        + `UTC, ${cpus().length} cores (${cpus()[0].model.trim()}), node `
        + `${process.version}, ${o.concurrency} requests in flight, `
        + `${o.duration} s per phase (after ${o.warmup} s of warm-up), `
        + `${o.conversations} threads, nginx worker_processes `
        + `${o.workers}, simulator delay scale ${o.delayScale}, loopback; `
        + `load average before ${loadBefore}, after ${loadAfter}.`, '');
    lines.push('| phase | answered/s | API p50 ms | API p99 ms | '
        + 'completed/s (store) | completed/s (socket) | accept → delivered '
        + 'stored p50 / p99 ms | accept → delivered on socket p50 / p99 ms '
        + '| frames missing | client CPU | machine busy |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- '
        + '| --- |');
    lines.push(`| return 200 (nginx) | ${int(base.rps)} | `
        + `${ms(pct(base.latencies, 0.5))} | ${ms(pct(base.latencies, 0.99))}`
        + ` | - | - | - | - | - | ${pc(base.cpu.client / base.cpu.wall)} | `
        + `${pc(base.cpu.machineBusy)} |`);
    lines.push(`| simulator alone (send → 201; its callbacks to return 200) `
        + `| ${int(ceil.rps)} | ${ms(pct(ceil.latencies, 0.5))} | `
        + `${ms(pct(ceil.latencies, 0.99))} | ${int(ceil.sustained)} `
        + `(callbacks done) | - | - | - | - | ${pc(c.client / c.wall)} | `
        + `${pc(c.machineBusy)} |`);
    for (const st of phases) {
        lines.push(`| replies, ${st.rate ? `paced at ${st.rate}/s`
            : `${o.concurrency} in flight`} | ${int(st.rps)} | `
            + `${ms(pct(st.latencies, 0.5))} | ${ms(pct(st.latencies, 0.99))}`
            + ` | ${int(st.storeRps)} | ${int(st.socketRps)} | `
            + `${ms(pct(st.toStore, 0.5))} / ${ms(pct(st.toStore, 0.99))} | `
            + `${ms(pct(st.toSocket, 0.5))} / ${ms(pct(st.toSocket, 0.99))} `
            + `| ${st.missing} of ${st.replies} | `
            + `${pc(st.cpu.client / st.cpu.wall)} | `
            + `${pc(st.cpu.machineBusy)} |`);
    }
    lines.push('');
    lines.push('CPU per message in µs (utime + stime from /proc, from the '
        + 'phase\'s start until its last callback or reply was done, ÷ '
        + 'messages), and in parentheses the share of one core over that '
        + 'time:', '');
    lines.push('| phase | messages | sender | simulator | nginx | ws-server '
        + '| client | other processes |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
    const cell = (cpu, k, n) => `${us(cpu[k], n)} (${pc(cpu[k] / cpu.wall)})`;
    // the rest of the machine's busy time: other work, the kernel's own
    const other = (cpu) => {
        const ours = ['sender', 'sim', 'nginx', 'ws', 'client']
            .reduce((x, k) => x + (cpu[k] ?? 0), 0);
        return `(${pc(Math.max(0, cpu.machineBusy * cpus().length
                                  - ours / cpu.wall))})`;
    };
    lines.push(`| simulator alone | ${ceil.ok} | - | ${cell(c, 'sim', ceil.ok)}`
        + ` | ${cell(c, 'nginx', ceil.ok)} | - | `
        + `${cell(c, 'client', ceil.ok)} | ${other(c)} |`);
    for (const st of phases) {
        const w = st.whole;
        lines.push(`| replies, ${st.rate ? `paced at ${st.rate}/s`
            : `${o.concurrency} in flight`} | ${st.replies} | `
            + `${cell(w, 'sender', st.replies)} | `
            + `${cell(w, 'sim', st.replies)} | `
            + `${cell(w, 'nginx', st.replies)} | `
            + `${cell(w, 'ws', st.replies)} | `
            + `${cell(w, 'client', st.replies)} | ${other(w)} |`);
    }
    lines.push('');
    lines.push(`Replies completed/s (store, ${o.concurrency} in flight) ÷ `
        + `the simulator's ceiling (sends with their callbacks done): `
        + `${(full.storeRps / ceil.sustained).toFixed(2)}. The simulator's `
        + `callbacks were all done ${ceil.drainS.toFixed(2)} s after its `
        + `phase; the last reply ${full.drainS.toFixed(2)} s after its `
        + `phase (the outbox's backlog). ${retried} status callbacks were `
        + 'answered 503 at first (the status came before the sender had '
        + 'recorded the send) and delivered on a later try.', '');
    lines.push(`Check: ${accepted.size} replies accepted (201) in all, `
        + `${sends.length} sends reached the simulator, ${sentBodies.size} `
        + `distinct bodies, ${accepted.size - notStored} delivered in the `
        + `store, ${accepted.size - notDelivered} with a delivered frame on `
        + `the socket, ${deliveredTwice} with two or more; `
        + `${statusFrames} message.status frames in all: `
        + `${problems.length === 0 ? 'ok' : `FAILED: ${problems.join('; ')}`}`
        + '.');
    if (nginxV) {
        lines.push('', nginxV.trim());
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    if (full.perfFile && existsSync(full.perfFile)) {
        const r = perfReport(full.perfFile);
        process.stdout.write(`\n### perf, replies phase, whole machine, by `
            + 'process and object (node is this client)\n\n```\n'
            + `${r.byProcess}\n\`\`\`\n`
            + `\n### by process and symbol\n\n\`\`\`\n${r.bySymbol}\n`
            + '```\n');
    }
    return problems.length === 0 ? 0 : 1;
}

main().catch((e) => {
    process.stderr.write(`bench/replies: ${e.stack || e}\n`);
    process.exit(1);
});
