// bench/e2e.mjs: what the end-to-end benches share (bench/replies.mjs,
// bench/campaign.mjs): the cluster they start, the keep-alive client and
// its load loop, CPU time from /proc, percentiles and cells, perf, and
// the carrier simulator's own ceiling.

import http from 'node:http';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync }
    from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, sleep, startCluster } from '../tests/lib/cluster.mjs';

export const log = (s) => process.stderr.write(`${s}\n`);

export const loadAverage = () => readFileSync('/proc/loadavg', 'utf8')
    .split(' ').slice(0, 3).join(' ');

// Wall clock in epoch ms with the monotonic clock's resolution.
export const epochMs = (at = performance.now()) => performance.timeOrigin
    + at;

// ---- CPU time of processes, from /proc ----

const TICK = (() => {
    try {
        return Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
    } catch {
        return 100;
    }
})();

// utime + stime of a process (all its threads), in seconds.
export function cpuOf(pid) {
    try {
        const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        return (Number(f[11]) + Number(f[12])) / TICK;
    } catch {
        return 0;
    }
}

export function childrenOf(ppid) {
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

// Resident memory of a process in MB (VmRSS).
export function rssMb(pid) {
    try {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`,
                                                     'utf8'));
        return m ? Number(m[1]) / 1024 : NaN;
    } catch {
        return NaN;
    }
}

// The whole machine: busy and total jiffies from /proc/stat.
function machine() {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]
        .split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - f[3] - f[4], total };
}

// The processes of a cluster the benches account for, by name.
export function clusterProcs(cluster) {
    return () => ({
        nginx: [cluster.nginx.pid, ...childrenOf(cluster.nginx.pid)],
        ws: [cluster.ws.pid],
        sender: [cluster.sender.pid],
        sim: [cluster.sim.child.pid],
    });
}

export function snapshot(procs) {
    const out = { at: performance.now(), machine: machine() };
    for (const [name, pids] of Object.entries(procs())) {
        out[name] = pids.reduce((a, p) => a + cpuOf(p), 0);
    }
    const u = process.cpuUsage();
    out.client = (u.user + u.system) / 1e6;
    return out;
}

// CPU seconds of each process between two snapshots, and the wall time.
export function cpuDelta(a, b) {
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

// Returns request(port, path, headers, body, method): resolves with
// { status, body } or { status: 0, error }.  body null: none.
export function makeClient(concurrency) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency,
                                   maxFreeSockets: concurrency });
    return function request(port, path, headers, body, method = 'POST') {
        return new Promise((resolve) => {
            const h = body === null ? headers : { ...headers,
                'Content-Length': Buffer.byteLength(body) };
            const req = http.request({ host: '127.0.0.1', port, path,
                method, agent, headers: h },
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
            req.end(body ?? undefined);
        });
    };
}

// Runs `concurrency` loops for `seconds` (or, when it is a function,
// until it returns true); request(n) -> { port, path, headers, body,
// method, ok(status), done(answer, at) }; rate > 0 starts that many
// requests a second at most.  Every request started is waited for.
// Latencies in ms of the answers ok() accepts.
export async function load(send, concurrency, seconds, request, rate = 0) {
    // starts[i]: when the request of latencies[i] began (performance.now())
    const stats = { ok: 0, other: {}, latencies: [], starts: [],
                    started: 0 };
    const t0 = performance.now();
    const until = typeof seconds === 'function' ? seconds : null;
    const end = until ? Infinity : t0 + seconds * 1000;
    const over = () => performance.now() >= end || (until && until());
    let n = 0;
    let slot = t0;
    const loop = async () => {
        while (!over()) {
            if (rate > 0) {
                const at = slot;
                slot += 1000 / rate;
                if (at >= end) {
                    break;
                }
                const wait = at - performance.now();
                if (wait > 0) {
                    await sleep(wait);
                }
                if (over()) {
                    break;
                }
            }
            const r = request(n++);
            stats.started += 1;
            const t = performance.now();
            const a = await send(r.port, r.path, r.headers, r.body,
                                 r.method);
            const now = performance.now();
            if (r.ok(a.status)) {
                stats.ok += 1;
                stats.latencies.push(now - t);
                stats.starts.push(t);
            } else {
                const k = a.status || a.error;
                stats.other[k] = (stats.other[k] ?? 0) + 1;
            }
            r.done?.(a, now, t);
        }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    stats.elapsed = (performance.now() - t0) / 1000;
    stats.rps = stats.ok / stats.elapsed;
    return stats;
}

export function pct(values, q) {
    if (values.length === 0) {
        return NaN;
    }
    const s = Float64Array.from(values).sort();
    return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
export const int = (x) => (Number.isFinite(x)
    ? Math.round(x).toLocaleString('en-US') : '-');
export const us = (cpuSeconds, n) => (n > 0
    ? Math.round(cpuSeconds / n * 1e6) : '-');
export const pc = (x) => `${Math.round(x * 100)}%`;

// ---- perf, optional ----

export function perfRecord(dir, seconds) {
    const out = join(dir, 'perf.data');
    const child = spawn('perf', ['record', '-a', '-g', '-o', out, '--',
                                 'sleep', String(seconds)],
                        { stdio: 'ignore' });
    return new Promise((ok) => {
        child.on('exit', () => ok(out));
        child.on('error', () => ok(null));
    });
}

export function perfReport(file) {
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

// ---- the cluster ----

// One organization, nginx (2 workers by default) with a second server
// block answering `return 200` (cluster.sinkPort; the simulator's
// callbacks in its own phase are logged there as 4 bytes each), the
// sender paced far above what the machine can send, and the carrier
// simulator (delays scaled by delayScale; named carrier-sim in top and
// perf, with perf its JIT code named).  senderVerbose: the sender logs a
// line per send (cluster.senderLog()); poolThreads: the threads of
// nginx's inbox pool, per worker.
export async function startBenchCluster({ name, workers = 2,
                                          delayScale = 0, perf = false,
                                          keep = false,
                                          senderVerbose = false,
                                          poolThreads = 4,
                                          senderArgs = ['--rate', '1000000',
                                                        '--burst',
                                                        '1000000'] }) {
    if (keep) {
        process.env.INBOX_KEEP_TEST_DIR = '1';
    }
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} `
        + `--title=carrier-sim${perf ? ' --perf-basic-prof' : ''}`;
    const sinkPort = await freePort();
    const cluster = await startCluster({
        orgs: [{ name }],
        workerProcesses: workers,
        threadPool: `threads=${poolThreads} max_queue=4096`,
        errorLogLevel: 'notice',
        carrierSim: { delayScale },
        sender: true,
        senderVerbose,
        senderArgs,
        // relative paths are the cluster's directory, nginx's prefix
        http: ["log_format inbox_sink '$status';",
               `server { listen 127.0.0.1:${sinkPort}; access_log off; `
               + 'client_body_buffer_size 16k; '
               + 'location / { return 200; } '
               + 'location /webhooks/ { access_log sink.log inbox_sink; '
               + 'return 200; } }'],
    });
    cluster.sinkPort = sinkPort;
    return cluster;
}

// ---- the carrier simulator alone ----

// Twilio Messages API sends (form fields, Basic auth) straight to the
// simulator at `concurrency`, for `duration` s after `warmup` s, their
// two signed status callbacks each going to the sink's return 200.
// The ceiling (`sustained`) is the sends ÷ the time until the last
// callback was answered.  to: the numbers sent to; body(tag, n): a text.
// The simulator's logs are reset before and after.
export async function simCeiling({ cluster, concurrency, duration, warmup,
                                   to, body, procs }) {
    const org = cluster.orgs[0];
    const sim = cluster.sim;
    const simPort = Number(new URL(sim.url).port);
    const send = makeClient(concurrency);
    const basic = `Basic ${Buffer.from(`${org.accountSid}:${org.authToken}`)
        .toString('base64')}`;
    const callback = `http://127.0.0.1:${cluster.sinkPort}`
        + '/webhooks/twilio/status';
    const simReq = (tag) => (n) => ({ port: simPort,
        path: `/2010-04-01/Accounts/${org.accountSid}/Messages.json`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded',
                   Authorization: basic },
        body: new URLSearchParams([['To', to[n % to.length]],
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
    const seenW = callbacksSeen();
    const warm = await load(send, concurrency, warmup, simReq('warm'));
    await drainSim(seenW, 2 * warm.ok);
    await sim.reset();
    const seen0 = callbacksSeen();
    const a = snapshot(procs);
    const ceil = await load(send, concurrency, duration, simReq('sim'));
    const sent = snapshot(procs);
    ceil.callbacks = await drainSim(seen0, 2 * ceil.ok);
    const drained = snapshot(procs);
    ceil.cpu = cpuDelta(a, drained);
    ceil.drainS = (drained.at - sent.at) / 1000;
    ceil.sustained = ceil.ok / ceil.cpu.wall;
    if (ceil.callbacks !== 2 * ceil.ok) {
        throw new Error(`the simulator's phase: ${ceil.callbacks} `
            + `callbacks for ${ceil.ok} sends (2 each expected)`);
    }
    await sim.reset();
    return ceil;
}

// Starts the cluster (startBenchCluster's options), runs fn(cluster) and
// stops it whatever happened; the directory is removed unless keep.
// Resolves with what fn resolved with.
export async function withBenchCluster(options, fn) {
    const cluster = await startBenchCluster(options);
    try {
        return await fn(cluster);
    } finally {
        const simPid = cluster.sim?.child.pid;
        await cluster.stop();
        if (options.perf && simPid) {
            rmSync(`/tmp/perf-${simPid}.map`, { force: true });
        }
        if (options.keep) {
            log(`kept ${cluster.dir}`);
        } else {
            cluster.cleanup();
        }
    }
}
