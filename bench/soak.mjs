// bench/soak.mjs: the whole inbox in steady use for many minutes, to see
// what only time shows: memory or descriptors that grow, an event lost
// or repeated across many reconnects, an error now and then (bench/soak
// builds first, then runs this; see its header and docs/BENCHMARKS.md).
//
// One cluster (bench/e2e.mjs): a fresh SQLite store, nginx with the
// module (2 workers), ws-server, the sender and the carrier simulator
// with a carrier's delays (its status callbacks 0.1 to 1.5 s after a
// send).  For --minutes, at once and paced:
//   - signed Twilio inbound webhooks from --contacts numbers
//     (--inbound-rate, 50/s), and now and then STOP and START from one
//     number of its own (an opt-out and back);
//   - replies POSTed to the API (--reply-rate, 5/s), which the sender
//     hands to the simulator and its callbacks move to delivered;
//   - the first page of filter=unread (--page-rate, 10/s), and a thread
//     marked read or starred and unstarred (--action-rate, 5/s);
//   - --sockets WebSockets, each with its own API token, each closing
//     and opening again every 10 to 40 s and resuming from the last
//     org_seq it saw, as the web app does.
// Every --sample seconds it reads each process's resident memory and
// open descriptors.  At the end it prints markdown tables: per process,
// memory and descriptors after the warm-up and at the end and the
// memory's growth per 10 minutes over the second half (a least-squares
// slope); the requests and their answers; the sockets' frames,
// reconnects, gaps, repeats and resets.  It exits 1 unless every
// webhook, page, action and reply was answered as it should, every
// inbound message was stored once, every reply reached the simulator
// once, every socket saw every event exactly once and in order across
// its reconnects (no reset), and nginx logged no error.

import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import WebSocket from '../tests/node_modules/ws/index.js';
import { inboxctl, sleep } from '../tests/lib/cluster.mjs';
import { inboundForm, postInbound, webhookRequest, wsUrl }
    from '../tests/lib/inbox.mjs';
import { childrenOf, int, load, loadAverage, log, makeClient, pct, rssMb,
         withBenchCluster } from './e2e.mjs';

const USAGE = `usage: bench/soak [--minutes M] [--warmup S] [--sample S]
                  [--inbound-rate R] [--reply-rate R] [--page-rate R]
                  [--action-rate R] [--contacts N] [--sockets N]
                  [--keep]
  --minutes M        how long the use lasts, after the warm-up (10)
  --warmup S         use before the first counted sample (60)
  --sample S         seconds between samples of memory (15)
  --inbound-rate R   signed inbound webhooks a second (50)
  --reply-rate R     replies a second, POSTed to the API (5)
  --page-rate R      first pages of filter=unread a second (10)
  --action-rate R    threads marked read or (un)starred a second (5)
  --contacts N       numbers the inbound messages come from (2000)
  --sockets N        WebSockets, reconnecting (40)
  --keep             keep the cluster's directory`;

function options() {
    let v;
    try {
        ({ values: v } = parseArgs({ options: {
            minutes: { type: 'string' }, warmup: { type: 'string' },
            sample: { type: 'string' },
            'inbound-rate': { type: 'string' },
            'reply-rate': { type: 'string' },
            'page-rate': { type: 'string' },
            'action-rate': { type: 'string' },
            contacts: { type: 'string' }, sockets: { type: 'string' },
            keep: { type: 'boolean' }, help: { type: 'boolean' } } }));
    } catch (e) {
        process.stderr.write(`${e.message}\n${USAGE}\n`);
        process.exit(2);
    }
    if (v.help) {
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
    }
    const o = {
        minutes: Number(v.minutes ?? 10), warmup: Number(v.warmup ?? 60),
        sample: Number(v.sample ?? 15),
        inboundRate: Number(v['inbound-rate'] ?? 50),
        replyRate: Number(v['reply-rate'] ?? 5),
        pageRate: Number(v['page-rate'] ?? 10),
        actionRate: Number(v['action-rate'] ?? 5),
        contacts: Number(v.contacts ?? 2000),
        sockets: Number(v.sockets ?? 40), keep: Boolean(v.keep),
    };
    const bad = Object.entries(o).filter(([k, x]) => k !== 'keep'
        && !(Number.isFinite(x) && x > 0));
    if (bad.length > 0 || o.contacts > 10000) {
        process.stderr.write(`every figure must be above 0 (--contacts at `
            + `most 10000)\n${USAGE}\n`);
        process.exit(2);
    }
    return o;
}

// Contact i: +1 646 3EE LLLL; the one that opts out and back: +1 646 4990
// 000; a reply thread's: +1 415 5EE LLLL.
const contact = (i) => `+1646${300 + Math.floor(i / 10000)}`
    + `${String(i % 10000).padStart(4, '0')}`;
const OPTING = '+16464990000';
const replyContact = (i) => `+1415${500 + Math.floor(i / 10000)}`
    + `${String(i % 10000).padStart(4, '0')}`;
const REPLY_THREADS = 20;

// ---- a WebSocket that reconnects and resumes, as the web app does ----

// Counts, over all its connections, the stream's frames and anything
// out of order.  Keeps no frame.
class Subscriber {
    constructor(cluster, token, stats) {
        this.cluster = cluster;
        this.token = token;
        this.stats = stats;
        this.epoch = null;
        this.last = null;
        this.ws = null;
        this.stopped = false;
    }

    async ticket() {
        const res = await fetch(this.cluster.url('/api/v1/realtime/ticket'),
            { method: 'POST',
              headers: { Authorization: `Bearer ${this.token}` } });
        if (res.status !== 200) {
            throw new Error(`ticket: ${res.status} ${await res.text()}`);
        }
        return res.json();
    }

    // Opens, and closes again after 10 to 40 s, until stop().
    async run() {
        while (!this.stopped) {
            let t;
            try {
                t = await this.ticket();
            } catch (e) {
                this.stats.ticketErrors += 1;
                this.stats.lastError = e.message;
                await sleep(1000);
                continue;
            }
            const closed = this.open(t);
            const life = 10000 + Math.random() * 30000;
            await Promise.race([closed, sleep(life)]);
            if (this.ws.readyState === WebSocket.OPEN) {
                this.ws.close(1000);
            }
            await closed;
            this.stats.connections += 1;
            await sleep(Math.random() * 2000);
        }
    }

    open(t) {
        const ws = new WebSocket(wsUrl(this.cluster, t), 'inbox.v1');
        this.ws = ws;
        ws.on('message', (data) => this.frame(JSON.parse(data.toString())));
        ws.on('error', (e) => {
            this.stats.socketErrors += 1;
            this.stats.lastError = e.message;
        });
        return new Promise((ok) => ws.on('close', (code) => {
            if (code !== 1000 && code !== 1005 && !this.stopped) {
                this.stats.unexpectedCloses[code] =
                    (this.stats.unexpectedCloses[code] ?? 0) + 1;
            }
            ok();
        }));
    }

    frame(f) {
        const s = this.stats;
        if (f.type === 'hello') {
            if (this.last === null) {
                this.epoch = f.epoch;
                this.last = f.org_seq;
            }
            this.ws.send(JSON.stringify({ type: 'resume', epoch: this.epoch,
                                          org_seq: this.last }));
            return;
        }
        if (f.type === 'reset') {
            s.resets += 1;
            this.epoch = f.epoch;
            this.last = f.org_seq;
            return;
        }
        if (typeof f.org_seq !== 'number') {
            return;                     /* presence: not of the stream */
        }
        if (f.org_seq === this.last + 1 && f.epoch === this.epoch) {
            this.last = f.org_seq;
            s.frames += 1;
        } else if (f.org_seq <= this.last) {
            s.repeats += 1;
        } else {
            s.gaps += f.org_seq - this.last - 1;
            this.last = f.org_seq;
        }
    }

    stop() {
        this.stopped = true;
        if (this.ws?.readyState === WebSocket.OPEN) {
            this.ws.close(1000);
        }
    }
}

// ---- memory and descriptors ----

function fdCount(pid) {
    try {
        return readdirSync(`/proc/${pid}/fd`).length;
    } catch {
        return NaN;
    }
}

// The processes by role; nginx's workers are found again at each sample.
function processes(cluster) {
    const workers = childrenOf(cluster.nginx.pid).sort((a, b) => a - b);
    return [['nginx master', cluster.nginx.pid],
            ...workers.map((p, i) => [`nginx worker ${i + 1}`, p]),
            ['ws-server', cluster.ws.pid], ['sender', cluster.sender.pid],
            ['simulator (not ours)', cluster.sim.child.pid]];
}

function sampleAll(cluster, t0) {
    const at = (performance.now() - t0) / 60000;
    return processes(cluster).map(([name, pid]) => ({ name, pid, at,
        rssKb: rssMb(pid) * 1024, fds: fdCount(pid) }));
}

// Least-squares slope of y over x.
function slope(points) {
    const n = points.length;
    if (n < 2) {
        return NaN;
    }
    const mx = points.reduce((a, p) => a + p.x, 0) / n;
    const my = points.reduce((a, p) => a + p.y, 0) / n;
    const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
    const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
    return sxx > 0 ? sxy / sxx : NaN;
}

// ---- the run ----

async function main() {
    const o = options();
    const loadBefore = loadAverage();
    log(`== load average before: ${loadBefore}`);
    const status = await withBenchCluster({ name: 'Soak Dental',
        delayScale: 1, keep: o.keep, senderArgs: ['--rate', '100',
                                                  '--burst', '20'] },
    (cluster) => run(o, cluster, loadBefore));
    process.exit(status);
}

async function run(o, cluster, loadBefore) {
    const org = cluster.orgs[0];
    const sql = (q) => execFileSync('sqlite3', ['-separator', '\t',
        cluster.storePath, q]).toString().trim();
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100000000');
    await inboxctl(cluster.store, 'billing', 'set', org.id, 'active');

    // the reply threads: their first message, then their ids
    const replyFrom = Array.from({ length: REPLY_THREADS },
                                 (_, i) => replyContact(i));
    for (const from of replyFrom) {
        const res = await postInbound(cluster, { from, body: 'Open today?' });
        if (res.status !== 200) {
            throw new Error(`inbound webhook: ${res.status} ${res.text}`);
        }
    }
    const page = await fetch(cluster.url('/api/v1/conversations?limit=200'),
        { headers: { Authorization: `Bearer ${org.token}` } });
    const threads = (await page.json()).items.map((c) => c.id);
    if (threads.length !== REPLY_THREADS) {
        throw new Error(`${threads.length} threads, not ${REPLY_THREADS}`);
    }

    // the sockets, each with its own token (tickets are rate-limited per
    // token, as a browser's session is)
    const wsStats = { frames: 0, repeats: 0, gaps: 0, resets: 0,
                      connections: 0, ticketErrors: 0, socketErrors: 0,
                      unexpectedCloses: {}, lastError: null };
    const subs = [];
    for (let i = 0; i < o.sockets; i++) {
        const token = await inboxctl(cluster.store, 'token', 'create',
                                     org.id);
        subs.push(new Subscriber(cluster, token, wsStats));
    }
    const subsDone = subs.map((s) => s.run());

    // the clients
    const counts = { inbound200: 0, stop: 0 };
    const client = makeClient(64);
    const bearer = { Authorization: `Bearer ${org.token}` };
    const json = { ...bearer, 'Content-Type': 'application/json' };
    const inboundReq = (n) => {
        // every 1,000th: STOP, then START, from a number of its own
        const opting = n % 1000 === 500 || n % 1000 === 999;
        const from = opting ? OPTING : contact(n % o.contacts);
        const body = opting ? (n % 1000 === 500 ? 'STOP' : 'START')
            : `Running late, there in 10 (${n})`;
        const r = webhookRequest(cluster, inboundForm({ org, from, body }),
                                 { authToken: org.authToken });
        return { port: cluster.port, path: '/webhooks/twilio/inbound',
                 headers: r.headers, body: r.body, ok: (s) => s === 200,
                 done(a) {
                     counts.inbound200 += a.status === 200 ? 1 : 0;
                     counts.stop += opting && a.status === 200 ? 1 : 0;
                 } };
    };
    const replies = new Set();
    const replyReq = (n) => {
        const text = `See you at 10. (${n})`;
        return { port: cluster.port,
            path: `/api/v1/conversations/${threads[n % threads.length]}`
                + '/messages',
            headers: json, body: JSON.stringify({ body: text }),
            ok: (s) => s === 201,
            done(a) {
                if (a.status === 201) {
                    replies.add(text);
                }
            } };
    };
    const pageReq = () => ({ port: cluster.port, method: 'GET',
        path: '/api/v1/conversations?filter=unread', headers: bearer,
        body: null, ok: (s) => s === 200 });
    const ACTIONS = ['read', 'star', 'unstar', 'unread'];
    const actionReq = (n) => ({ port: cluster.port,
        path: `/api/v1/conversations/${threads[n % threads.length]}/`
            + ACTIONS[Math.floor(n / threads.length) % ACTIONS.length],
        headers: json, body: '{}', ok: (s) => s === 200 });

    const t0 = performance.now();
    const total = o.warmup + o.minutes * 60;
    const samples = [];
    let sampling = true;
    const sampler = (async () => {
        while (sampling) {
            samples.push(...sampleAll(cluster, t0));
            await sleep(o.sample * 1000);
        }
    })();
    log(`== ${o.warmup} s of warm-up, then ${o.minutes} min: inbound `
        + `${o.inboundRate}/s, replies ${o.replyRate}/s, pages `
        + `${o.pageRate}/s, actions ${o.actionRate}/s, ${o.sockets} sockets`);
    const [inbound, reply, pages, actions] = await Promise.all([
        load(client, 32, total, inboundReq, o.inboundRate),
        load(client, 8, total, replyReq, o.replyRate),
        load(client, 8, total, pageReq, o.pageRate),
        load(client, 8, total, actionReq, o.actionRate)]);
    log('== the use is over: letting the sockets and the sender catch up');

    // the sender's last replies and their callbacks, the sockets' last
    // events
    const deadline = performance.now() + 60000;
    let atSim = 0;
    while (performance.now() < deadline) {
        const sims = await cluster.sim.messages({ direction: 'outbound' });
        atSim = sims.filter((m) => replies.has(m.body)).length;
        if (atSim >= replies.size) {
            break;
        }
        await sleep(500);
    }
    await sleep(3000);
    const position = JSON.parse(Buffer.from((await subs[0].ticket()).ticket
        .split('.')[0], 'base64url')).org_seq;
    sampling = false;
    await sampler;
    samples.push(...sampleAll(cluster, t0));
    const behind = subs.filter((s) => s.ws?.readyState === WebSocket.OPEN
        && s.last !== position).length;
    subs.forEach((s) => s.stop());
    await Promise.all(subsDone);

    // ---- the checks ----
    const problems = [];
    for (const [what, st] of [['inbound webhooks', inbound],
                              ['replies', reply], ['unread pages', pages],
                              ['thread actions', actions]]) {
        const other = Object.entries(st.other);
        if (other.length > 0) {
            problems.push(`${what} answered `
                + other.map(([k, v]) => `${k} ×${v}`).join(', '));
        }
    }
    const [inStored, inDistinct] = sql('SELECT count(*), count(DISTINCT '
        + "provider_id) FROM messages WHERE direction = 'inbound';")
        .split('\t').map(Number);
    const inWanted = counts.inbound200 + REPLY_THREADS;
    if (inStored !== inWanted || inDistinct !== inWanted) {
        problems.push(`${inStored} inbound messages stored (${inDistinct} `
            + `distinct) for ${inWanted} answered 200`);
    }
    if (atSim !== replies.size) {
        problems.push(`${atSim} of ${replies.size} replies reached the `
            + 'simulator');
    }
    if (wsStats.gaps || wsStats.repeats || wsStats.resets || behind) {
        problems.push(`sockets: ${wsStats.gaps} events missed, `
            + `${wsStats.repeats} repeated, ${wsStats.resets} resets, `
            + `${behind} behind the store's ${position} at the end`);
    }
    if (wsStats.ticketErrors || wsStats.socketErrors
        || Object.keys(wsStats.unexpectedCloses).length) {
        problems.push(`sockets: ${wsStats.ticketErrors} tickets refused, `
            + `${wsStats.socketErrors} errors, closes `
            + `${JSON.stringify(wsStats.unexpectedCloses)} (last: `
            + `${wsStats.lastError})`);
    }
    const errors = cluster.errorLogProblems();
    if (errors.length > 0) {
        problems.push(`nginx error log: ${errors.slice(0, 3).join(' | ')}`);
    }

    // ---- the report ----
    const warm = o.warmup / 60;
    const half = warm + o.minutes / 2;
    const lines = [];
    const nginxV = spawnSync('nginx', ['-v']).stderr?.toString() ?? '';
    lines.push(`Soak, ${new Date().toISOString()}, ${o.minutes} min after `
        + `${o.warmup} s of warm-up; ${nginxV.trim()}; load average `
        + `${loadBefore} before, ${loadAverage()} after.`, '');
    lines.push('| process | RSS MB after warm-up | RSS MB at the end | RSS '
        + 'growth, second half, MB / 10 min | open fds after warm-up / at '
        + 'the end |', '|---|---|---|---|---|');
    for (const name of [...new Set(samples.map((s) => s.name))]) {
        const mine = samples.filter((s) => s.name === name);
        const first = mine.find((s) => s.at >= warm) ?? mine[0];
        const last = mine[mine.length - 1];
        const growth = slope(mine.filter((s) => s.at >= half)
            .map((s) => ({ x: s.at, y: s.rssKb / 1024 }))) * 10;
        lines.push(`| ${name} | ${(first.rssKb / 1024).toFixed(1)} | `
            + `${(last.rssKb / 1024).toFixed(1)} | ${growth.toFixed(2)} | `
            + `${first.fds} / ${last.fds} |`);
    }
    lines.push('', '| client | answered as expected | other answers | '
        + 'p50 / p99 ms |', '|---|---|---|---|');
    for (const [what, st] of [['inbound webhooks', inbound],
                              ['replies', reply], ['unread pages', pages],
                              ['thread actions', actions]]) {
        lines.push(`| ${what} | ${int(st.ok)} | `
            + `${JSON.stringify(st.other)} | `
            + `${pct(st.latencies, 0.5).toFixed(1)} / `
            + `${pct(st.latencies, 0.99).toFixed(1)} |`);
    }
    lines.push('', `Sockets: ${o.sockets}, ${int(wsStats.connections)} `
        + `connections in all, ${int(wsStats.frames)} stream frames, `
        + `${wsStats.gaps} missed, ${wsStats.repeats} repeated, `
        + `${wsStats.resets} resets; the stream ended at org_seq `
        + `${position}. Inbound stored ${int(inStored)} (${int(inDistinct)} `
        + `distinct) of ${int(inWanted)} answered 200, ${counts.stop} STOP `
        + `and START among them; replies at the simulator ${int(atSim)} of `
        + `${int(replies.size)}.`);
    lines.push('', problems.length === 0 ? 'Check: ok.'
        : `Check FAILED:\n- ${problems.join('\n- ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return problems.length === 0 ? 0 : 1;
}

main().catch((e) => {
    process.stderr.write(`${e.stack}\n`);
    process.exit(1);
});
