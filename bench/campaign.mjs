// bench/campaign.mjs: a campaign to many recipients sent through the
// sender to the carrier simulator while the inbox is in use, beside the
// simulator's own ceiling and the same use with no send running, in one
// run (bench/campaign builds first, then runs this; see its header and
// docs/BENCHMARKS.md).
//
// One cluster (bench/e2e.mjs): a fresh SQLite store, nginx with the module
// (2 workers), ws-server, the sender (paced far above what the machine
// can send) and the carrier simulator (status callbacks at once).  The
// recipients are imported with `inboxctl contacts import` from a
// generated CSV, all with the tag the campaign goes to.  Then:
//   1. the simulator alone: its ceiling (sends with their callbacks done);
//   2. "idle, before": for -d seconds, with no send running, three paced
//      clients at once: signed Twilio inbound webhooks from recipients
//      (--inbound-rate, 200/s), the first page of
//      GET /api/v1/conversations?filter=unread (--unread-rate, 20/s) and
//      replies POSTed to the API in other threads (--reply-rate, 5/s);
//   3. the campaign: created and sent over the API, the same three
//      clients running until every recipient's message is delivered in
//      the store;
//   4. "idle, after": phase 2 again, on the store the send left.
// With --alternate S the campaign is paused and resumed every S seconds
// during phase 3, and the clients' answers of the sending turns are
// compared with those of the paused ones: idle and busy from the same
// minutes, so that what else shares the machine weighs on both alike.
// A reply's queue-to-carrier time is from the API's 201 to the
// simulator's record of the send.  Then it checks that every recipient
// was sent the campaign exactly once (the simulator's messages and the
// store's counts), that every reply reached the simulator once, and that
// every webhook and page was answered 200 and every inbound stored once;
// it exits 1 otherwise.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { inboxctl, inboxctlPath, sleep } from '../tests/lib/cluster.mjs';
import { api, inboundForm, postInbound, webhookRequest }
    from '../tests/lib/inbox.mjs';
import { clusterProcs, cpuDelta, epochMs, int, load, loadAverage, log,
         makeClient, ms, pc, pct, perfRecord, perfReport, rssMb,
         simCeiling, snapshot, withBenchCluster } from './e2e.mjs';

const USAGE = `usage: bench/campaign [--recipients N] [-d SECONDS] [-w SECONDS]
                      [-c CONCURRENCY] [--inbound-rate R]
                      [--unread-rate R] [--reply-rate R]
                      [--inbound-contacts N] [--reply-threads N]
                      [--workers N] [--pool-threads N] [--max-active N]
                      [--number-rate R] [--segments N]
                      [--delay-scale F] [--perf]
                      [--sender-log] [--keep] [--pin] [--alternate S]
                      [--sim-idle]
  --recipients N        the campaign's recipients (RECIPIENTS, else 100000)
  -d SECONDS            each phase with no send running (20)
  -w SECONDS            warm-up before the first phase, not counted (3)
  -c N                  requests in flight, the simulator's ceiling (48,
                        the sender's campaign messages in flight)
  --inbound-rate R      signed inbound webhooks a second (200)
  --unread-rate R       first pages of filter=unread a second (20)
  --reply-rate R        replies a second, POSTed to the API (5)
  --inbound-contacts N  the recipients the inbound messages come from
                        (2000)
  --reply-threads N     threads the replies go to, not recipients (20)
  --workers N           nginx worker_processes (2)
  --pool-threads N      threads of nginx's inbox thread pool (4)
  --max-active N        the sender's carrier requests in flight (64; a
                        quarter is kept for replies)
  --number-rate R       the sending number's rate, sends a second (the
                        sender's --rate; its --burst a tenth of it, at
                        least 20): a campaign paced as a carrier paces
                        a number (default: no limit, as fast as the
                        machine goes)
  --segments N          the campaign's text as N segments (1 to 10, 1: a
                        short text), N tokens of the number's rate each
  --delay-scale F       the simulator's delays (0: callbacks at once)
  --perf                a system-wide perf profile of 10 s of the send
  --pin                 the inbox (nginx, ws-server, the sender) on core
                        0, the carrier simulator and this client on
                        core 1, as if they ran on other machines
  --sender-log          the sender logs each send (--verbose), and a
                        reply's time to the carrier is split at the
                        moment the sender starts its request
  --keep                keep the cluster's directory (logs, store)
  --alternate S         during the send, pause the campaign for S seconds
                        every S seconds, and compare the clients' figures
                        while it sends with those while it is paused (its
                        callbacks over): idle and busy measured in the same
                        minutes, whatever else the machine does meanwhile
  --sim-idle            the simulator's threads at SCHED_IDLE (chrt -i): it
                        runs only on a core nothing else wants, as if the
                        carrier were another machine (it still keeps up at
                        a paced send; not for full-speed runs)`;

function options() {
    let v;
    try {
        v = parseArgs({ options: {
            recipients: { type: 'string' },
            d: { type: 'string', short: 'd' },
            w: { type: 'string', short: 'w' },
            c: { type: 'string', short: 'c' },
            'inbound-rate': { type: 'string' },
            'unread-rate': { type: 'string' },
            'reply-rate': { type: 'string' },
            'inbound-contacts': { type: 'string' },
            'reply-threads': { type: 'string' },
            workers: { type: 'string' },
            'pool-threads': { type: 'string' },
            'max-active': { type: 'string' },
            'number-rate': { type: 'string' },
            segments: { type: 'string' },
            'delay-scale': { type: 'string' },
            perf: { type: 'boolean' },
            'sender-log': { type: 'boolean' },
            keep: { type: 'boolean' },
            pin: { type: 'boolean' },
            alternate: { type: 'string' },
            'sim-idle': { type: 'boolean' },
            help: { type: 'boolean', short: 'h' },
        } }).values;
    } catch (e) {
        process.stderr.write(`bench/campaign: ${e.message}\n${USAGE}\n`);
        process.exit(2);
    }
    if (v.help) {
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
    }
    const o = {
        recipients: Number(v.recipients ?? process.env.RECIPIENTS ?? 100000),
        duration: Number(v.d ?? 20),
        warmup: Number(v.w ?? 3),
        concurrency: Number(v.c ?? 48),
        inboundRate: Number(v['inbound-rate'] ?? 200),
        unreadRate: Number(v['unread-rate'] ?? 20),
        replyRate: Number(v['reply-rate'] ?? 5),
        inboundContacts: Number(v['inbound-contacts'] ?? 2000),
        replyThreads: Number(v['reply-threads'] ?? 20),
        workers: Number(v.workers ?? 2),
        poolThreads: Number(v['pool-threads'] ?? 4),
        maxActive: Number(v['max-active'] ?? 64),
        numberRate: Number(v['number-rate'] ?? 1000000),
        segments: Number(v.segments ?? 1),
        delayScale: Number(v['delay-scale'] ?? 0),
        perf: v.perf === true,
        senderLog: v['sender-log'] === true,
        keep: v.keep === true,
        pin: v.pin === true,
        alternate: Number(v.alternate ?? 0),
        simIdle: v['sim-idle'] === true,
    };
    for (const [k, x] of Object.entries(o)) {
        if (typeof x === 'number' && !(x >= 0)) {
            process.stderr.write(`bench/campaign: bad ${k}\n${USAGE}\n`);
            process.exit(2);
        }
    }
    if (!(o.recipients >= 1 && o.recipients <= 1000000)
        || !(o.replyThreads >= 1 && o.replyThreads <= 10000)
        || !(o.inboundContacts >= 1) || !(o.duration > 0)
        || !(o.numberRate > 0)
        || !(Number.isInteger(o.segments) && o.segments >= 1
             && o.segments <= 10)) {
        process.stderr.write(`bench/campaign: --recipients 1 to 1000000, `
            + `--reply-threads 1 to 10000, --segments 1 to 10, `
            + `--inbound-contacts, --number-rate `
            + `and -d more than 0\n${USAGE}\n`);
        process.exit(2);
    }
    o.inboundContacts = Math.min(o.inboundContacts, o.recipients);
    o.body = campaignBody(o.segments);
    return o;
}

const CAMPAIGN_BODY = 'Harbor Cafe: 20% off every breakfast this week, '
    + 'show this text at the counter. Reply STOP to opt out.';
const TAG = 'bench';

// The campaign's text as n segments: GSM-7, 153 characters a segment of
// a long text.
function campaignBody(n) {
    if (n === 1) {
        return CAMPAIGN_BODY;
    }
    return `${CAMPAIGN_BODY} `.padEnd(153 * (n - 1) + 20,
                                      'More on the menu inside. ');
}

// Recipient i's number: +1 646 2EE LLLL, valid US numbers, distinct up
// to 1,000,000; a reply thread's: +1 415 3EE LLLL.
const recipient = (i) => `+1646${200 + Math.floor(i / 10000)}`
    + `${String(i % 10000).padStart(4, '0')}`;
const replyContact = (i) => `+1415${300 + Math.floor(i / 10000)}`
    + `${String(i % 10000).padStart(4, '0')}`;

// --pin: every thread of the inbox's processes on core 0, the
// simulator's and this client's on core 1 (taskset -a).
function pinCluster(cluster) {
    const pin = (core, pids) => {
        for (const pid of pids) {
            execFileSync('taskset', ['-a', '-p', '-c', String(core),
                                     String(pid)], { stdio: 'ignore' });
        }
    };
    const procs = clusterProcs(cluster)();
    pin(0, [...procs.nginx, ...procs.ws, ...procs.sender]);
    pin(1, [...procs.sim, process.pid]);
    log('== pinned: nginx, ws-server and the sender on core 0; the '
        + 'simulator and the client on core 1');
}

// --sim-idle: every thread of the simulator at SCHED_IDLE.
function idleSimulator(cluster) {
    for (const pid of clusterProcs(cluster)().sim) {
        execFileSync('chrt', ['-i', '-a', '-p', '0', String(pid)],
                     { stdio: 'ignore' });
    }
    log('== the simulator at SCHED_IDLE: it runs when a core is free');
}

// The number's burst: a tenth of its rate, at least 20.
const burstOf = (o) => Math.max(20, Math.round(o.numberRate / 10));

async function main() {
    const o = options();
    const loadBefore = loadAverage();
    log(`== load average before: ${loadBefore}`);
    const status = await withBenchCluster({ name: 'Bench Campaign',
        workers: o.workers, delayScale: o.delayScale, perf: o.perf,
        keep: o.keep, senderVerbose: o.senderLog,
        poolThreads: o.poolThreads,
        senderArgs: ['--rate', String(o.numberRate),
                     '--burst', String(burstOf(o)),
                     '--max-active', String(o.maxActive)] },
    (cluster) => run(o, cluster, loadBefore));
    process.exit(status);
}

async function run(o, cluster, loadBefore) {
    const org = cluster.orgs[0];
    const sim = cluster.sim;
    const procs = clusterProcs(cluster);
    const runId = Date.now().toString(36);
    if (o.pin) {
        pinCluster(cluster);
    }
    if (o.simIdle) {
        idleSimulator(cluster);
    }
    const sql = (q) => execFileSync('sqlite3', ['-separator', '\t',
        cluster.storePath, q]).toString().trim();

    // ---- the organization: credits, billing, quiet hours away ----
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100000000');
    await inboxctl(cluster.store, 'billing', 'set', org.id, 'active');
    // quiet hours (there are always some) six hours from now, UTC
    const hour = new Date().getUTCHours();
    const at = (h) => `${String(h % 24).padStart(2, '0')}:00`;
    await inboxctl(cluster.store, 'settings', 'set', org.id, '--timezone',
                   'UTC', '--quiet-hours', `${at(hour + 6)}-${at(hour + 7)}`);

    // ---- the recipients: a CSV, imported by inboxctl ----
    const recipients = Array.from({ length: o.recipients },
                                  (_, i) => recipient(i));
    const csv = join(cluster.dir, 'recipients.csv');
    writeFileSync(csv, `phone,name,tags\n${recipients.map((p, i) =>
        `${p},Person ${i},${TAG}`).join('\n')}\n`);
    log(`== importing ${int(o.recipients)} contacts (inboxctl contacts `
        + 'import)');
    const i0 = performance.now();
    const report = JSON.parse(execFileSync(inboxctlPath, ['--store',
        cluster.store, 'contacts', 'import', org.id, csv, '--country', 'US'],
        { maxBuffer: 64 << 20 }).toString());
    const importS = (performance.now() - i0) / 1000;
    const tagged = Number(sql('SELECT count(*) FROM contact_tags '
        + `WHERE tag = '${TAG}';`));
    if (tagged !== o.recipients) {
        throw new Error(`the import tagged ${tagged} contacts, not `
            + `${o.recipients}: ${JSON.stringify(report).slice(0, 300)}`);
    }
    log(`   ${importS.toFixed(1)} s (${int(o.recipients / importS)}/s)`);

    // ---- the reply threads: contacts that are not recipients ----
    const replyContacts = Array.from({ length: o.replyThreads },
                                     (_, i) => replyContact(i));
    for (let i = 0; i < replyContacts.length; i += 16) {
        await Promise.all(replyContacts.slice(i, i + 16).map(async (from) => {
            const res = await postInbound(cluster, { from, body: 'Are you '
                + 'open on Sunday?' });
            if (res.status !== 200) {
                throw new Error(`inbound webhook: ${res.status} ${res.text}`);
            }
        }));
    }
    // (the import made a thread for every contact; these are the unread)
    const mine = new Set(replyContacts);
    const threads = [];
    let cursor = null;
    do {
        const res = await api(cluster, '/api/v1/conversations?filter=unread'
            + '&limit=200'
            + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''),
            org.token);
        threads.push(...res.json.items.filter((c) => mine.has(
            c.contact.phone)).map((c) => c.id));
        cursor = res.json.next_cursor;
    } while (cursor);
    if (threads.length !== o.replyThreads) {
        throw new Error(`${threads.length} threads, not ${o.replyThreads}`);
    }

    // ---- 1. the simulator alone ----
    log('-- carrier simulator alone');
    const ceil = await simCeiling({ cluster, concurrency: o.concurrency,
        duration: Math.min(o.duration, 10), warmup: 2,
        to: recipients.slice(0, 1000),
        body: (tag, n) => `${o.body} (${tag} ${n})`, procs });
    log(`   ${int(ceil.rps)} sends/s answered, ${int(ceil.sustained)}/s `
        + 'with their callbacks done');

    // ---- the three clients: inbound, unread page, replies ----
    // in flight at most, each: enough to keep the pace through answers
    // of a second or more (a carrier does not wait for the last webhook)
    const IN_FLIGHT = { inbound: 64, unread: 8, reply: 8 };
    const inClient = makeClient(IN_FLIGHT.inbound);
    const pageClient = makeClient(IN_FLIGHT.unread);
    const replyClient = makeClient(IN_FLIGHT.reply);
    const inboundContacts = recipients.slice(0, o.inboundContacts);
    let inbound200 = 0;
    const inboundReq = (phase) => (n) => {
        const from = inboundContacts[n % inboundContacts.length];
        const pairs = inboundForm({ org, from, body: `Thanks, see you `
            + `Saturday! (${phase} ${n})` });
        const r = webhookRequest(cluster, pairs, { authToken: org.authToken });
        return { port: cluster.port, path: '/webhooks/twilio/inbound',
                 headers: r.headers, body: r.body,
                 ok: (s) => s === 200,
                 done(a) { inbound200 += a.status === 200 ? 1 : 0; } };
    };
    const unreadReq = () => ({ port: cluster.port,
        path: '/api/v1/conversations?filter=unread', method: 'GET',
        headers: { Authorization: `Bearer ${org.token}` }, body: null,
        ok: (s) => s === 200 });
    const replies = [];             // { body, accepted (epoch ms), phase }
    const replyReq = (phase) => (n) => {
        const text = `Yes, we open at 9 on Sundays. (${runId} ${phase} ${n})`;
        return { port: cluster.port,
            path: `/api/v1/conversations/${threads[n % threads.length]}`
                + '/messages',
            headers: { 'Content-Type': 'application/json',
                       Authorization: `Bearer ${org.token}` },
            body: JSON.stringify({ body: text }),
            ok: (s) => s === 201,
            done(a, now, start) {
                if (a.status === 201) {
                    replies.push({ body: text, posted: epochMs(start),
                                   accepted: epochMs(now), phase,
                                   id: JSON.parse(a.body).id });
                }
            } };
    };
    // The three at once for `seconds` (or until it returns true).
    const mix = async (phase, seconds) => {
        const s0 = snapshot(procs);
        const [inbound, unread, reply] = await Promise.all([
            load(inClient, IN_FLIGHT.inbound, seconds, inboundReq(phase),
                 o.inboundRate),
            load(pageClient, IN_FLIGHT.unread, seconds, unreadReq,
                 o.unreadRate),
            load(replyClient, IN_FLIGHT.reply, seconds, replyReq(phase),
                 o.replyRate)]);
        return { phase, inbound, unread, reply,
                 cpu: cpuDelta(s0, snapshot(procs)) };
    };

    log(`-- warm-up, ${o.warmup} s`);
    await mix('warm', o.warmup);
    log(`-- idle, before the send: ${o.duration} s`);
    const before = await mix('before', o.duration);
    log(`   inbound p99 ${ms(pct(before.inbound.latencies, 0.99))} ms, `
        + `unread page p99 ${ms(pct(before.unread.latencies, 0.99))} ms`);

    // ---- 3. the campaign ----
    const created = await api(cluster, '/api/v1/campaigns', org.token,
        { method: 'POST', body: { name: `Bench ${runId}`,
                                  body: o.body,
                                  audience: { tags: [TAG] } } });
    if (created.status !== 201) {
        throw new Error(`campaign create: ${created.status} ${created.text}`);
    }
    const id = created.json.id;
    const campaign = async () => {
        const res = await api(cluster, `/api/v1/campaigns/${id}`, org.token);
        if (res.status !== 200) {
            throw new Error(`campaign get: ${res.status} ${res.text}`);
        }
        return res.json;
    };
    let finished = false;
    let sendAt = 0;
    // Until every recipient's message is delivered in the store (or
    // failed); resolves with what went wrong, if anything: the campaign
    // left `sending` unfinished, or a minute passed with no progress.
    const untilDelivered = async () => {
        let lastMove = performance.now();
        let lastDone = -1;
        let lastLog = performance.now();
        for (;;) {
            await sleep(500);
            const c = await campaign();
            const n = c.counts;
            const done = n.delivered + n.failed;
            if (done !== lastDone) {
                lastDone = done;
                lastMove = performance.now();
            }
            if (performance.now() - lastLog > 10000) {
                lastLog = performance.now();
                log(`   ${((epochMs() - sendAt) / 1000).toFixed(0)} s: `
                    + `${c.status}, queued ${n.queued}, sent ${n.sent}, `
                    + `delivered ${n.delivered}, failed ${n.failed}; load `
                    + `${loadAverage()}`);
            }
            if (done >= n.recipients && c.status === 'done') {
                return null;
            }
            // (done: every recipient handed to the outbox; paused by
            // --alternate, which resumes it)
            const alternating = c.status === 'paused'
                && c.paused_reason === 'manual' && o.alternate > 0;
            if ((c.status !== 'sending' && c.status !== 'done'
                 && !alternating)
                || performance.now() - lastMove
                   > 60000 + o.alternate * 1000) {
                return `the campaign stopped: ${c.status} `
                    + `${c.paused_reason ?? ''} ${JSON.stringify(n)}`;
            }
        }
    };
    // --alternate: the campaign paused and resumed in turn; each turn
    // { state, from } (performance.now()), the send's start the first
    const turns = [];
    const alternate = async () => {
        for (let paused = false; ;) {
            await sleep(o.alternate * 1000);
            if (finished) {
                return;
            }
            const c = await campaign();
            if (c.status === 'done') {
                return;
            }
            const to = paused ? 'resume' : 'pause';
            const res = await api(cluster, `/api/v1/campaigns/${id}/${to}`,
                                  org.token, { method: 'POST' });
            if (res.status !== 200) {
                throw new Error(`campaign ${to}: ${res.status} ${res.text}`);
            }
            paused = !paused;
            turns.push({ state: paused ? 'paused' : 'sending',
                         from: performance.now() });
        }
    };
    log(`-- the campaign to ${int(o.recipients)} recipients`
        + (o.alternate > 0 ? `, paused ${o.alternate} s every ${o.alternate}`
           + ' s' : ''));
    const sendMix = mix('send', () => finished);
    sendAt = epochMs();
    let failure = null;
    let sendCallMs = NaN;
    let perfDone = null;
    let alternated = null;
    try {
        turns.push({ state: 'sending', from: performance.now() });
        const sent = await api(cluster, `/api/v1/campaigns/${id}/send`,
                               org.token, { method: 'POST' });
        sendCallMs = epochMs() - sendAt;
        if (sent.status !== 200) {
            failure = `campaign send: ${sent.status} ${sent.text}`;
        } else {
            perfDone = o.perf ? sleep(5000).then(() =>
                perfRecord(cluster.dir, 10)) : null;
            alternated = o.alternate > 0 ? alternate().catch((e) => e)
                : null;
            failure = await untilDelivered();
        }
    } finally {
        finished = true;
    }
    const doneAt = epochMs();
    const send = await sendMix;
    const alternateError = alternated ? await alternated : null;
    if (alternateError) {
        throw alternateError;
    }
    turns.push({ state: 'over', from: performance.now() });
    const perfFile = perfDone ? await perfDone : null;
    if (failure) {
        throw new Error(failure);
    }
    const simRss = rssMb(sim.child.pid);
    log(`   all delivered ${((doneAt - sendAt) / 1000).toFixed(1)} s after `
        + 'the send');

    log(`-- idle, after the send: ${o.duration} s`);
    const after = await mix('after', o.duration);
    await sleep(1000);              // the last replies reach the simulator

    // ---- what the simulator got ----
    const sims = await sim.messages({ direction: 'outbound' });
    const byBody = new Map();
    const campaignAt = [];
    const campaignTo = new Map();
    for (const m of sims) {
        if (m.body === o.body) {
            campaignAt.push(Date.parse(m.created_at));
            campaignTo.set(m.to, (campaignTo.get(m.to) ?? 0) + 1);
        } else {
            const list = byBody.get(m.body) ?? [];
            list.push(Date.parse(m.created_at));
            byBody.set(m.body, list);
        }
    }
    campaignAt.sort((a, b) => a - b);
    const phases = [before, send, after];
    for (const ph of phases) {
        ph.toCarrier = [];
        ph.replies = 0;
        ph.notSent = 0;
        ph.sentTwice = 0;
        for (const r of replies) {
            if (r.phase !== ph.phase) {
                continue;
            }
            ph.replies += 1;
            const got = byBody.get(r.body) ?? [];
            if (got.length === 0) {
                ph.notSent += 1;
            } else {
                ph.sentTwice += got.length > 1 ? 1 : 0;
                ph.toCarrier.push(got[0] - r.posted);
            }
        }
    }
    // with --sender-log: when the sender started each reply's request
    const started = new Map();
    for (const line of o.senderLog ? cluster.senderLog().split('\n') : []) {
        const m = /^(\S+) sender: debug: sending message (\S+) \(attempt 1\)/
            .exec(line);
        if (m) {
            started.set(m[2], Date.parse(m[1]));
        }
    }
    for (const ph of phases) {
        ph.toSender = [];
        ph.senderToSim = [];
        for (const r of replies) {
            const at = started.get(r.id);
            const got = byBody.get(r.body);
            if (r.phase === ph.phase && at !== undefined && got) {
                ph.toSender.push(at - r.posted);
                ph.senderToSim.push(got[0] - at);
            }
        }
    }
    const repliesSent = replies.reduce((x, r) => x + (byBody.has(r.body)
        ? 1 : 0), 0);

    // the send rate at the simulator: overall (from the send call), and
    // over the middle 80 % of the messages (the steady state)
    const first = campaignAt[0];
    const last = campaignAt[campaignAt.length - 1];
    const overall = campaignAt.length / ((last - sendAt) / 1000);
    const lo = campaignAt[Math.floor(campaignAt.length * 0.1)];
    const hi = campaignAt[Math.floor(campaignAt.length * 0.9)];
    const steady = (Math.floor(campaignAt.length * 0.9)
                    - Math.floor(campaignAt.length * 0.1)) / ((hi - lo) / 1000);

    // ---- checks ----
    const problems = [];
    const final = await campaign();
    const n = final.counts;
    const want = { recipients: o.recipients, suppressed: 0,
                   waiting_quiet_hours: 0, queued: 0, sent: 0,
                   delivered: o.recipients, failed: 0 };
    for (const [k, v] of Object.entries(want)) {
        if (n[k] !== v) {
            problems.push(`the campaign's ${k} is ${n[k]}, not ${v}`);
        }
    }
    if (final.status !== 'done') {
        problems.push(`the campaign is ${final.status}, not done`);
    }
    const [storedMsgs, storedThreads] = sql('SELECT count(*), count(DISTINCT '
        + `conversation_id) FROM messages WHERE campaign_id = ${Number(id)};`)
        .split('\t').map(Number);
    if (storedMsgs !== o.recipients || storedThreads !== o.recipients) {
        problems.push(`the store holds ${storedMsgs} campaign messages in `
            + `${storedThreads} threads for ${o.recipients} recipients`);
    }
    const wanted = new Set(recipients);
    let once = 0;
    let twice = 0;
    let strangers = 0;
    for (const [to, k] of campaignTo) {
        if (!wanted.has(to)) {
            strangers += k;
        } else if (k === 1) {
            once += 1;
        } else {
            twice += 1;
        }
    }
    if (once !== o.recipients) {
        problems.push(`${once} recipients got the campaign once at the `
            + `simulator, ${twice} more than once, `
            + `${o.recipients - once - twice} never`);
    }
    if (strangers > 0) {
        problems.push(`${strangers} campaign messages to numbers not in it`);
    }
    for (const ph of phases) {
        if (ph.notSent > 0 || ph.sentTwice > 0) {
            problems.push(`${ph.phase}: ${ph.notSent} replies never reached `
                + `the simulator, ${ph.sentTwice} more than once`);
        }
        for (const [what, st] of [['inbound webhooks', ph.inbound],
                                  ['unread pages', ph.unread],
                                  ['replies', ph.reply]]) {
            const other = Object.entries(st.other);
            if (other.length > 0) {
                problems.push(`${ph.phase}: ${what} answered `
                    + other.map(([k, v]) => `${k} ×${v}`).join(', '));
            }
        }
    }
    const strayReplies = sims.length - campaignAt.length - repliesSent;
    if (strayReplies !== 0) {
        problems.push(`${strayReplies} sends at the simulator that are `
            + 'neither the campaign nor a reply accepted');
    }
    const [inStored, inDistinct] = sql('SELECT count(*), count(DISTINCT '
        + "provider_id) FROM messages WHERE direction = 'inbound';")
        .split('\t').map(Number);
    const inWanted = inbound200 + o.replyThreads;
    if (inStored !== inWanted || inDistinct !== inWanted) {
        problems.push(`${inStored} inbound messages stored (${inDistinct} `
            + `distinct) for ${inWanted} answered 200`);
    }
    const errors = cluster.errorLogProblems();
    if (errors.length > 0) {
        problems.push(`nginx error log: ${errors.slice(0, 3).join(' | ')}`);
    }

    // ---- the report ----
    const loadAfter = loadAverage();
    const nginxV = spawnSync('nginx', ['-v']).stderr?.toString() ?? '';
    const sendS = (doneAt - sendAt) / 1000;
    const p = (v) => `${ms(pct(v, 0.5))} / ${ms(pct(v, 0.99))}`;
    const lines = [];
    lines.push('', '## campaign send vs the carrier simulator, the inbox '
        + 'in use', '');
    lines.push(`${new Date().toISOString().slice(0, 16).replace('T', ' ')} `
        + `UTC, ${cpus().length} cores (${cpus()[0].model.trim()}), node `
        + `${process.version}, ${int(o.recipients)} recipients, nginx `
        + `worker_processes ${o.workers} (inbox pool threads=`
        + `${o.poolThreads}), sender --rate ${o.numberRate} --burst `
        + `${burstOf(o)} `
        + `${o.segments > 1 ? `(${o.segments} segments a message) ` : ''}`
        + `--max-active ${o.maxActive}, simulator delay scale `
        + `${o.delayScale}; inbound ${o.inboundRate}/s from `
        + `${o.inboundContacts} recipients, unread page ${o.unreadRate}/s, `
        + `replies ${o.replyRate}/s to ${o.replyThreads} threads (at most `
        + `${IN_FLIGHT.inbound}, ${IN_FLIGHT.unread} and ${IN_FLIGHT.reply} `
        + `in flight); idle `
        + `phases ${o.duration} s; loopback`
        + `${o.pin ? '; the inbox on core 0, the rest on core 1' : ''}`
        + `${o.simIdle ? '; the simulator at SCHED_IDLE' : ''}`
        + `; load average before `
        + `${loadBefore}, after ${loadAfter}.`, '');
    lines.push(`| the send | |`);
    lines.push('| --- | --- |');
    lines.push(`| contacts imported (inboxctl contacts import) | `
        + `${int(o.recipients)} in ${importS.toFixed(1)} s `
        + `(${int(o.recipients / importS)}/s) |`);
    lines.push(`| POST …/send answered (recipients fixed) | `
        + `${ms(sendCallMs)} ms |`);
    lines.push(`| send → first message at the simulator | `
        + `${ms(first - sendAt)} ms |`);
    lines.push(`| send → last message at the simulator | `
        + `${((last - sendAt) / 1000).toFixed(1)} s |`);
    lines.push(`| send → every message delivered in the store | `
        + `${sendS.toFixed(1)} s |`);
    lines.push(`| messages at the simulator / s, overall | ${int(overall)} |`);
    lines.push(`| messages at the simulator / s, middle 80 % | `
        + `${int(steady)} |`);
    lines.push(`| the simulator alone (sends with their callbacks done) / s `
        + `| ${int(ceil.sustained)} (answered ${int(ceil.rps)}/s, `
        + `${o.concurrency} in flight) |`);
    lines.push(`| **send rate ÷ the simulator's ceiling** | `
        + `**${(overall / ceil.sustained).toFixed(2)}** overall, `
        + `${(steady / ceil.sustained).toFixed(2)} in the middle 80 % |`);
    lines.push(`| the simulator's memory after the send | ${int(simRss)} MB |`);
    lines.push('');
    lines.push('| phase | seconds | inbound answered/s | webhook ingest '
        + 'p50 / p99 ms | unread pages/s | unread page p50 / p99 ms | '
        + 'replies | reply API p50 / p99 ms | reply POST → at the simulator '
        + 'p50 / p99 / max ms | machine busy |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- '
        + '| --- |');
    for (const ph of phases) {
        lines.push(`| ${ph.phase === 'send' ? 'during the send'
            : `idle, ${ph.phase} the send`} | ${ph.cpu.wall.toFixed(1)} | `
            + `${int(ph.inbound.rps)} | ${p(ph.inbound.latencies)} | `
            + `${int(ph.unread.rps)} | ${p(ph.unread.latencies)} | `
            + `${ph.replies} | ${p(ph.reply.latencies)} | `
            + `${p(ph.toCarrier)} / `
            + `${ms(Math.max(...ph.toCarrier))} | `
            + `${pc(ph.cpu.machineBusy)} |`);
    }
    lines.push('');
    const ratio = (k, ph, q = 0.99) => (pct(send[k].latencies, q)
        / pct(ph[k].latencies, q)).toFixed(2);
    lines.push(`During the send ÷ idle (before, after), p99: webhook ingest `
        + `${ratio('inbound', before)}, ${ratio('inbound', after)}; unread `
        + `page ${ratio('unread', before)}, ${ratio('unread', after)} `
        + `(goal: 1.5 at most). A reply's queue-to-carrier p99 during the `
        + `send: ${ms(pct(send.toCarrier, 0.99))} ms (goal: under 50), `
        + `idle ${ms(pct(before.toCarrier, 0.99))} and `
        + `${ms(pct(after.toCarrier, 0.99))} ms.`, '');
    if (o.senderLog) {
        lines.push('A reply\'s time to the carrier split where the sender '
            + 'starts its request (its --verbose log, ms), p50 / p99 / max:',
            '');
        lines.push('| phase | POST → the sender starts it | the sender → at '
            + 'the simulator |');
        lines.push('| --- | --- | --- |');
        for (const ph of phases) {
            lines.push(`| ${ph.phase} | ${p(ph.toSender)} / `
                + `${ms(Math.max(...ph.toSender))} | ${p(ph.senderToSim)} / `
                + `${ms(Math.max(...ph.senderToSim))} |`);
        }
        lines.push('');
    }
    if (o.alternate > 0) {
        lines.push(...alternationReport(o, send, turns), '');
    }
    lines.push('CPU, share of one core over each phase (utime + stime from '
        + '/proc); during the send also µs per campaign message:', '');
    lines.push('| phase | sender | simulator | nginx | ws-server | client '
        + '| other processes |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- |');
    const other = (cpu) => {
        const ours = ['sender', 'sim', 'nginx', 'ws', 'client']
            .reduce((x, k) => x + (cpu[k] ?? 0), 0);
        return pc(Math.max(0, cpu.machineBusy * cpus().length
                              - ours / cpu.wall));
    };
    for (const ph of phases) {
        const c = ph.cpu;
        const cell = (k) => `${pc(c[k] / c.wall)}${ph.phase === 'send'
            ? ` (${Math.round(c[k] / o.recipients * 1e6)} µs)` : ''}`;
        lines.push(`| ${ph.phase === 'send' ? 'during the send'
            : `idle, ${ph.phase}`} | ${cell('sender')} | ${cell('sim')} | `
            + `${cell('nginx')} | ${cell('ws')} | ${cell('client')} | `
            + `${other(c)} |`);
    }
    lines.push('');
    lines.push(`Check: ${int(once)} of ${int(o.recipients)} recipients got `
        + `the campaign exactly once at the simulator, ${twice} more than `
        + `once, ${strangers} to others; the store: ${int(n.delivered)} `
        + `delivered, ${n.failed} failed, ${int(storedMsgs)} campaign `
        + `messages in ${int(storedThreads)} threads; ${replies.length} `
        + `replies accepted, ${repliesSent} at the simulator; `
        + `${int(inbound200)} inbound webhooks answered 200, `
        + `${int(inStored - o.replyThreads)} stored: `
        + `${problems.length === 0 ? 'ok' : `FAILED: ${problems.join('; ')}`}`
        + '.');
    if (nginxV) {
        lines.push('', nginxV.trim());
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    if (perfFile && existsSync(perfFile)) {
        const r = perfReport(perfFile);
        process.stdout.write(`\n### perf, 10 s of the send, whole machine, `
            + 'by process and object (node is this client)\n\n```\n'
            + `${r.byProcess}\n\`\`\`\n`
            + `\n### by process and symbol\n\n\`\`\`\n${r.bySymbol}\n`
            + '```\n');
    }
    return problems.length === 0 ? 0 : 1;
}

// --alternate: a client's answers during the send, split by the turn its
// request began in: those of a sending turn from a second after the
// resume (the sender claims again), those of a paused turn from when the
// callbacks of what was in flight are over (the simulator's "delivered"
// comes up to 1.5 s x the delay scale after the send), each only if its
// answer came within the turn.
function splitByTurn(stats, turns, pausedSettleMs) {
    // byTurn[k]: the answers counted in turn k
    const out = { sending: [], paused: [], byTurn: turns.map(() => []) };
    let k = 0;
    for (let i = 0; i < stats.starts.length; i++) {
        const t = stats.starts[i];
        const end = t + stats.latencies[i];
        while (k > 0 && turns[k].from > t) {
            k--;
        }
        while (k + 1 < turns.length && turns[k + 1].from <= t) {
            k++;
        }
        const turn = turns[k];
        const next = turns[k + 1];
        if (!next || t < turn.from || end > next.from) {
            continue;
        }
        if (turn.state === 'sending' && t >= turn.from + 1000) {
            out.sending.push(stats.latencies[i]);
            out.byTurn[k].push(stats.latencies[i]);
        } else if (turn.state === 'paused'
                   && t >= turn.from + pausedSettleMs) {
            out.paused.push(stats.latencies[i]);
            out.byTurn[k].push(stats.latencies[i]);
        }
    }
    return out;
}

// Each paused turn against the sending turn before it: p99 ÷ p99.  A
// burst of the machine's other work lands in one turn; the median of
// the pairs leaves it out where the p99 of all answers cannot.
function pairRatios(split, turns) {
    const ratios = [];
    for (let k = 1; k < turns.length; k++) {
        if (turns[k].state === 'paused' && turns[k - 1].state === 'sending'
            && split.byTurn[k].length > 0 && split.byTurn[k - 1].length > 0) {
            ratios.push(pct(split.byTurn[k - 1], 0.99)
                        / pct(split.byTurn[k], 0.99));
        }
    }
    return ratios.sort((a, b) => a - b);
}

const median = (sorted) => (sorted.length % 2
    ? sorted[(sorted.length - 1) / 2]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2);

function alternationReport(o, send, turns) {
    const settle = 1000 + 2000 * o.delayScale;
    const count = (s) => turns.filter((t) => t.state === s).length;
    const lines = [`Alternating during the send (--alternate ${o.alternate}): `
        + `${count('sending')} sending and ${count('paused')} paused turns; `
        + 'a request counts in its turn from 1 s after a resume and '
        + `${(settle / 1000).toFixed(1)} s after a pause (the callbacks of `
        + 'what was in flight), when answered within the turn:', '',
        '| client | answers sending / paused | p50 ms sending / paused | '
        + 'p99 ms sending / paused | **p99 sending ÷ paused** | '
        + 'each pair of turns: median (lowest–highest) |',
        '| --- | --- | --- | --- | --- | --- |'];
    for (const [name, k] of [['webhook ingest', 'inbound'],
                             ['unread page', 'unread']]) {
        const s = splitByTurn(send[k], turns, settle);
        const pairs = pairRatios(s, turns);
        lines.push(`| ${name} | ${int(s.sending.length)} / `
            + `${int(s.paused.length)} | ${ms(pct(s.sending, 0.5))} / `
            + `${ms(pct(s.paused, 0.5))} | ${ms(pct(s.sending, 0.99))} / `
            + `${ms(pct(s.paused, 0.99))} | **${(pct(s.sending, 0.99)
                / pct(s.paused, 0.99)).toFixed(2)}** | `
            + `${pairs.length ? `${median(pairs).toFixed(2)} `
                + `(${pairs[0].toFixed(2)}–`
                + `${pairs[pairs.length - 1].toFixed(2)})` : '-'} |`);
    }
    return lines;
}

main().catch((e) => {
    process.stderr.write(`bench/campaign: ${e.stack || e}\n`);
    process.exit(1);
});
