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

import http from 'node:http';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync }
    from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import WebSocket from '../tests/node_modules/ws/index.js';
import { freePort, inboxctl, sleep, startCluster }
    from '../tests/lib/cluster.mjs';
import { postInbound, ticket, wsUrl } from '../tests/lib/inbox.mjs';

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

const log = (s) => process.stderr.write(`${s}\n`);

// ---- CPU time of processes, from /proc ----

const TICK = (() => {
    try {
        return Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
    } catch {
        return 100;
    }
})();

// utime + stime of a process (all its threads), in seconds.
function cpuOf(pid) {
    try {
        const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        return (Number(f[11]) + Number(f[12])) / TICK;
    } catch {
        return 0;
    }
}

function childrenOf(ppid) {
    const out = [];
    for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) {
            continue;
        }
        try {
            const s = readFileSync(`/proc/${name}/stat`, 'utf8');
            const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
            if (Number(f[1]) === ppid) {
                out.push(Number(name));
            }
        } catch { /* gone */ }
    }
    return out;
}

// The whole machine: busy and total jiffies from /proc/stat.
function machine() {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]
        .split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - f[3] - f[4], total };
}

function snapshot(procs) {
    const out = { at: performance.now(), machine: machine() };
    for (const [name, pids] of Object.entries(procs())) {
        out[name] = pids.reduce((a, p) => a + cpuOf(p), 0);
    }
    const u = process.cpuUsage();
    out.client = (u.user + u.system) / 1e6;
    return out;
}

// CPU seconds of each process between two snapshots, and the wall time.
function cpuDelta(a, b) {
    const out = { wall: (b.at - a.at) / 1000,
                  machineBusy: (b.machine.busy - a.machine.busy)
                      / (b.machine.total - a.machine.total) };
    for (const k of Object.keys(a)) {
        if (k !== 'at' && k !== 'machine') {
            out[k] = b[k] - a[k];
        }
    }
    return out;
}

// ---- the client: fixed concurrency over one keep-alive agent ----

function makeClient(concurrency) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency,
                                   maxFreeSockets: concurrency });
    return function post(port, path, headers, body) {
        return new Promise((resolve) => {
            const req = http.request({ host: '127.0.0.1', port, path,
                method: 'POST', agent, headers: { ...headers,
                    'Content-Length': Buffer.byteLength(body) } },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => resolve({ status: res.statusCode,
                    body: Buffer.concat(chunks) }));
                res.on('error', (e) => resolve({ status: 0,
                                                 error: e.code }));
            });
            req.on('error', (e) => resolve({ status: 0,
                                             error: e.code || e.message }));
            req.end(body);
        });
    };
}

// Runs `concurrency` loops for `seconds`; request(n) -> { port, path,
// headers, body, ok(status), done(answer, at) }; rate > 0 starts that many
// requests a second at most.  Every request started is waited for.
// Latencies in ms of the answers ok() accepts.
async function load(post, concurrency, seconds, request, rate = 0) {
    const stats = { ok: 0, other: {}, latencies: [], started: 0 };
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let n = 0;
    let slot = t0;
    const loop = async () => {
        while (performance.now() < end) {
            if (rate > 0) {
                const at = slot;
                slot += 1000 / rate;
                const wait = at - performance.now();
                if (wait > 0) {
                    await sleep(wait);
                }
                if (at >= end) {
                    break;
                }
            }
            const r = request(n++);
            stats.started += 1;
            const t = performance.now();
            const a = await post(r.port, r.path, r.headers, r.body);
            const now = performance.now();
            if (r.ok(a.status)) {
                stats.ok += 1;
                stats.latencies.push(now - t);
            } else {
                const k = a.status || a.error;
                stats.other[k] = (stats.other[k] ?? 0) + 1;
            }
            r.done?.(a, now);
        }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    stats.elapsed = (performance.now() - t0) / 1000;
    stats.rps = stats.ok / stats.elapsed;
    return stats;
}

function pct(values, q) {
    if (values.length === 0) {
        return NaN;
    }
    const s = Float64Array.from(values).sort();
    return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US')
                                       : '-');
const us = (cpuSeconds, n) => (n > 0 ? Math.round(cpuSeconds / n * 1e6)
                                     : '-');
const share = (cpuSeconds, wall) => `${Math.round(cpuSeconds / wall * 100)}%`;

// ---- perf, optional ----

function perfRecord(dir, seconds) {
    const out = join(dir, 'perf.data');
    const child = spawn('perf', ['record', '-a', '-g', '-o', out, '--',
                                 'sleep', String(seconds)],
                        { stdio: 'ignore' });
    return new Promise((ok) => {
        child.on('exit', () => ok(out));
        child.on('error', () => ok(null));
    });
}

function perfReport(file) {
    const run = (sort) => {
        try {
            return execFileSync('perf', ['report', '-i', file,
                '--no-children', '--sort', sort, '-g', 'none', '--stdio'],
                { stdio: ['ignore', 'pipe', 'ignore'],
                  maxBuffer: 64 << 20 }).toString().split('\n')
                .filter((l) => !l.startsWith('#') && l.includes('%'))
                .slice(0, 25).join('\n');
        } catch (e) {
            return `perf report failed: ${e.message}`;
        }
    };
    return { byProcess: run('comm,dso'), bySymbol: run('comm,sym') };
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
    const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ')
        .slice(0, 3).join(' ');
    log(`== load average before: ${loadBefore}`);

    if (o.keep) {
        process.env.INBOX_KEEP_TEST_DIR = '1';
    }
    // the simulator (the one node child) named apart from this client in
    // top and perf, and with --perf its JIT code named (/tmp/perf-PID.map)
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} `
        + `--title=carrier-sim${o.perf ? ' --perf-basic-prof' : ''}`;
    const sinkPort = await freePort();
    const cluster = await startCluster({
        orgs: [{ name: 'Bench Replies' }],
        workerProcesses: o.workers,
        errorLogLevel: 'notice',
        carrierSim: { delayScale: o.delayScale },
        sender: true,
        senderVerbose: false,
        // pacing per number far above what the machine can send
        senderArgs: ['--rate', '1000000', '--burst', '1000000'],
        // return 200, and the simulator's callbacks in its own phase
        // (each logged as 4 bytes, "200\n", to count them); relative
        // paths are the cluster's directory, nginx's prefix
        http: ["log_format inbox_sink '$status';",
               `server { listen 127.0.0.1:${sinkPort}; access_log off; `
               + 'client_body_buffer_size 16k; '
               + 'location / { return 200; } '
               + 'location /webhooks/ { access_log sink.log inbox_sink; '
               + 'return 200; } }'],
    });
    let status = 0;
    try {
        status = await run(o, cluster, sinkPort, loadBefore);
    } finally {
        const simPid = cluster.sim?.child.pid;
        await cluster.stop();
        if (o.perf && simPid) {
            rmSync(`/tmp/perf-${simPid}.map`, { force: true });
        }
        if (o.keep) {
            log(`bench/replies: kept ${cluster.dir}`);
        } else {
            cluster.cleanup();
        }
    }
    process.exit(status);
}

async function run(o, cluster, sinkPort, loadBefore) {
    const org = cluster.orgs[0];
    const sim = cluster.sim;
    const nginxPort = cluster.port;
    const simPort = Number(new URL(sim.url).port);
    const post = makeClient(o.concurrency);
    const runId = Date.now().toString(36);
    const procs = () => ({
        nginx: [cluster.nginx.pid, ...childrenOf(cluster.nginx.pid)],
        ws: [cluster.ws.pid],
        sender: [cluster.sender.pid],
        sim: [sim.child.pid],
    });

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
    let a = snapshot(procs);
    const base = await load(post, o.concurrency, o.duration, sinkReq);
    base.cpu = cpuDelta(a, snapshot(procs));
    log(`   ${int(base.rps)} req/s`);

    // ---- 2. the simulator alone ----
    const basic = `Basic ${Buffer.from(`${org.accountSid}:${org.authToken}`)
        .toString('base64')}`;
    const callback = `http://127.0.0.1:${sinkPort}/webhooks/twilio/status`;
    const simReq = (tag) => (n) => ({ port: simPort,
        path: `/2010-04-01/Accounts/${org.accountSid}/Messages.json`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded',
                   Authorization: basic },
        body: new URLSearchParams([['To', contacts[n % contacts.length]],
            ['From', org.number], ['Body', body(tag, n)],
            ['StatusCallback', callback]]).toString(),
        ok: (s) => s === 201 });
    // Resolves once n callbacks more than `from` reached return 200, or
    // after 60 s.
    const sinkLog = join(cluster.dir, 'sink.log');
    const callbacksSeen = () => (existsSync(sinkLog)
        ? statSync(sinkLog).size / 4 : 0);
    const drainSim = async (from, n) => {
        const deadline = performance.now() + 60000;
        while (callbacksSeen() - from < n && performance.now() < deadline) {
            await sleep(20);
        }
        return callbacksSeen() - from;
    };
    log('-- carrier simulator alone');
    const warm = await load(post, o.concurrency, o.warmup, simReq('warm'));
    await drainSim(0, 2 * warm.ok);
    await sim.reset();
    const seen0 = callbacksSeen();
    a = snapshot(procs);
    const ceil = await load(post, o.concurrency, o.duration, simReq('sim'));
    const ceilSent = snapshot(procs);
    ceil.callbacks = await drainSim(seen0, 2 * ceil.ok);
    const ceilDrained = snapshot(procs);
    ceil.cpu = cpuDelta(a, ceilDrained);
    ceil.drainS = (ceilDrained.at - ceilSent.at) / 1000;
    ceil.sustained = ceil.ok / ceil.cpu.wall;
    if (ceil.callbacks !== 2 * ceil.ok) {
        throw new Error(`the simulator's phase: ${ceil.callbacks} `
            + `callbacks for ${ceil.ok} sends (2 each expected)`);
    }
    log(`   ${int(ceil.rps)} sends/s answered, callbacks drained `
        + `${ceil.drainS.toFixed(2)} s later: ${int(ceil.sustained)}/s `
        + `sustained, ${ceil.callbacks} callbacks`);
    await sim.reset();

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
    const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ')
        .slice(0, 3).join(' ');
    const nginxV = spawnSync('nginx', ['-v']).stderr?.toString() ?? '';
    const c = ceil.cpu;
    const pc = (x) => `${Math.round(x * 100)}%`;
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
