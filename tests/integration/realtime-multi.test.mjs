// Two ws-server processes behind the same /ws: nginx hands every event to
// both, an organization's sockets all go to one of them (by the
// organization its ticket leads with) and both get some; every socket of an
// organization gets every event in order.  One killed while webhooks
// flow: its browsers reconnect to the other and resume with no gap, and
// nginx logs what it could not hand to the dead one only.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { sleep, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { connectWs, eventually, postInbound, ticket, ticketClaims,
         wsUpgradeStatus,
         wsUrl }
    from '../lib/inbox.mjs';

// The tests use ORGS organizations, some on each ws-server, picked out
// of POOL: which ws-server an organization's sockets go to follows
// nginx's consistent hash of its id over the ws-servers' ports, random in
// each run, and six organizations drawn blind all fell on one about
// once in thirty runs.
const ORGS = 6;
const POOL = 16;
const PER_ORG = 3;
const ctx = useCluster({
    orgs: Array.from({ length: POOL }, (_, i) => ({ name: `Org ${i}` })),
    workerProcesses: 2, wsServers: 2 });
let orgs = null;
// The ws-server (0 or 1) each organization's sockets go to.
const serverOf = new Map();

const STREAM_TYPES = new Set(['message.created', 'conversation.updated',
    'unread.total', 'contact.updated', 'message.status', 'message.updated']);
// The events of a text from a new number (uniqueNumber): its message's
// three, then its contact's contact.updated.
const PER_TEXT = 4;

const seqs = (client) => client.frames
    .filter((f) => STREAM_TYPES.has(f.type)).map((f) => f.org_seq);
const lastSeq = (client) => {
    const s = seqs(client);
    return s.length ? s[s.length - 1] : null;
};

async function position(cluster, org) {
    const t = await ticket(cluster, org.token);
    const claims = ticketClaims(t.ticket);
    return { org_seq: claims.org_seq, epoch: claims.epoch };
}

async function connectResumed(cluster, org, resume) {
    const c = await connectWs(cluster, org.token);
    c.send({ type: 'resume', ...resume });
    await c.waitForTypes(['hello']);
    return c;
}

function run(from, to) {
    const want = [];
    for (let s = from + 1; s <= to; s++) {
        want.push(s);
    }
    return want;
}

async function waitSeq(client, seq, timeoutMs = 20000) {
    await client.waitFor(() => (lastSeq(client) ?? -1) >= seq, timeoutMs,
        `org_seq ${seq} (last ${lastSeq(client)})`);
}

// count webhooks to each organization, concurrency at a time in all.
async function flood(cluster, count, concurrency, tag) {
    const jobs = [];
    for (let i = 0; i < count; i++) {
        for (const org of orgs) {
            jobs.push({ org, body: `${tag} ${i}` });
        }
    }
    const failures = [];
    const worker = async () => {
        for (let job = jobs.shift(); job; job = jobs.shift()) {
            const res = await postInbound(cluster, { org: job.org,
                from: uniqueNumber(), body: job.body });
            if (res.status !== 200) {
                failures.push(res.status);
            }
        }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    assert.deepEqual(failures, [], 'every webhook answered 200');
}

// Established TCP connections whose local port is port (nginx's to a
// ws-server), from /proc/net/tcp.
function established(port) {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
        .filter((line) => {
            const f = line.trim().split(/\s+/);
            return f.length > 3 && f[1].endsWith(`:${hex}`) && f[3] === '01';
        }).length;
}

// Which ws-server (0 or 1) each organization of the pool is on: the one
// whose count of connections grows when a socket of it connects.
async function pickOrgs(cluster) {
    const on = [[], []];
    const probes = [];
    for (const org of cluster.orgs) {
        const before = cluster.wsPorts.map(established);
        const c = await connectWs(cluster, org.token);
        await c.waitForTypes(['hello']);
        probes.push(c);
        const after = cluster.wsPorts.map(established);
        const server = after[0] > before[0] ? 0 : 1;
        on[server].push(org);
        serverOf.set(org, server);
    }
    probes.forEach((c) => c.close());
    for (let i = 0; i < 100 && cluster.wsPorts.map(established)
             .some((n) => n > 0); i++) {
        await sleep(50);
    }
    assert.ok(on[0].length > 0 && on[1].length > 0,
              `the pool of ${POOL} spread: ${on[0].length} and `
              + `${on[1].length}`);
    const half = Math.min(ORGS / 2, on[0].length, on[1].length);
    const picked = [...on[0].slice(0, half), ...on[1].slice(0, half)];
    for (const org of [...on[0].slice(half), ...on[1].slice(half)]) {
        if (picked.length < ORGS) {
            picked.push(org);
        }
    }
    return picked;
}

// Each organization's sockets, all resumed from where it stands now.
async function connectAll(cluster) {
    orgs ??= await pickOrgs(cluster);
    const all = [];
    for (const org of orgs) {
        const start = await position(cluster, org);
        const sockets = [];
        for (let i = 0; i < PER_ORG; i++) {
            sockets.push(await connectResumed(cluster, org, start));
        }
        all.push({ org, start, sockets });
    }
    return all;
}

test('sockets spread over both ws-servers, an organization on one, and '
    + 'every socket gets every event of its organization in order',
    async () => {
    const { cluster } = ctx;
    const all = await connectAll(cluster);
    try {
        const [a, b] = cluster.wsPorts.map(established);
        assert.equal(a + b, ORGS * PER_ORG, `connections ${a} + ${b}`);
        assert.ok(a > 0 && b > 0, `both get connections: ${a} and ${b}`);
        assert.equal(a % PER_ORG, 0, 'an organization\'s sockets together');

        await flood(cluster, 25, 12, 'spread');
        for (const { org, start, sockets } of all) {
            const end = (await position(cluster, org)).org_seq;
            assert.equal(end, start.org_seq + 25 * PER_TEXT);
            for (const s of sockets) {
                await waitSeq(s, end);
                assert.deepEqual(seqs(s), run(start.org_seq, end),
                    `org ${org.name}: org_seq in order, once each`);
                assert.ok(!JSON.stringify(s.frames).includes('"reset"'));
            }
        }
    } finally {
        all.forEach(({ sockets }) => sockets.forEach((s) => s.close()));
    }
});

test('a ticket opens one socket only: nginx routes it by the organization '
    + 'it leads with, and ws-server takes it only from a URL that nginx '
    + 'read the same way', async () => {
    const { cluster } = ctx;
    const [org, other] = cluster.orgs;
    const answer = await ticket(cluster, org.token);
    const good = new URL(wsUrl(cluster, answer));
    const t = good.searchParams.get('ticket');
    // the contract's form, nothing more
    assert.equal(good.search, `?ticket=${t}`);
    assert.ok(t.startsWith(`${org.id}.`), t);
    const base = `${good.origin}${good.pathname}`;
    const id = encodeURIComponent(org.id);
    const encoded = [...org.id].map((c) => `%${c.charCodeAt(0)
        .toString(16)}`).join('');
    // nginx reads $arg_ticket (and an older config $arg_org) in any
    // case, the first of its name, as sent; ws-server reads them decoded:
    // each of these could land on another process than the ticket's
    for (const query of [`TICKET=${t}`, `Ticket=${t}&ticket=${t}`,
                         `ticket=${t}&ticket=${t}`, `%74icket=${t}`,
                         `ticket=${t}&ORG=${id}`, `Org=${id}&ticket=${t}`,
                         `ORG=${id}&org=${id}&ticket=${t}`,
                         `org=${id}&org=${id}&ticket=${t}`,
                         `org=${encodeURIComponent(other.id)}&ticket=${t}`,
                         `org=${encoded}&ticket=${t}`]) {
        const status = await wsUpgradeStatus(`${base}?${query}`);
        assert.ok(status === 400 || status === 403, `${query}: ${status}`);
    }
    // none of them used it up
    assert.equal(await wsUpgradeStatus(good.toString()), 101);
    assert.equal(await wsUpgradeStatus(good.toString()), 403);
    // an older ticket url's org, naming its own organization, still opens
    const next = new URL(wsUrl(cluster, await ticket(cluster, org.token)));
    assert.equal(await wsUpgradeStatus(
        `${base}?org=${id}&ticket=${next.searchParams.get('ticket')}`), 101);
});

test('one ws-server killed while webhooks flow: its browsers reconnect to '
    + 'the other and resume with no gap; the shed is logged for its '
    + 'socket only', async () => {
    const { cluster } = ctx;
    const all = await connectAll(cluster);
    const resumed = [];
    try {
        const flow = flood(cluster, 40, 8, 'killed');
        for (const { start, sockets } of all) {
            await waitSeq(sockets[0], start.org_seq + 5 * PER_TEXT);
        }
        process.kill(cluster.wsList[0].pid, 'SIGKILL');
        await cluster.wsList[0].exited;
        // nginx closes the sockets it had on the killed one as it notices
        await eventually(() => all.every(({ org, sockets }) =>
            serverOf.get(org) !== 0 || sockets.every((s) => s.closed)),
        10000, 'the sockets of the killed ws-server closed');

        // an organization's sockets closed together, and some stayed
        const dead = all.filter(({ sockets }) => sockets[0].closed);
        for (const { org, sockets } of all) {
            assert.ok(sockets.every((s) => s.closed === sockets[0].closed),
                `org ${org.name}: its sockets on one ws-server`);
        }
        assert.ok(dead.length > 0 && dead.length < ORGS,
            `${dead.length} of ${ORGS} organizations were on the killed one`);

        // as a browser does: a new ticket, resume from the last org_seq
        for (const entry of dead) {
            entry.again = [];
            for (const s of entry.sockets) {
                const c = await connectResumed(cluster, entry.org,
                    { epoch: entry.start.epoch, org_seq: lastSeq(s) });
                entry.again.push(c);
                resumed.push(c);
            }
        }
        assert.equal(established(cluster.wsPorts[0]), 0);
        await flow;

        for (const entry of all) {
            const { org, start, sockets } = entry;
            const end = (await position(cluster, org)).org_seq;
            assert.equal(end, start.org_seq + 40 * PER_TEXT);
            for (let i = 0; i < PER_ORG; i++) {
                const live = entry.again ? entry.again[i] : sockets[i];
                await waitSeq(live, end);
                const got = entry.again
                    ? seqs(sockets[i]).concat(seqs(live)) : seqs(live);
                assert.deepEqual(got, run(start.org_seq, end),
                    `org ${org.name} socket ${i}`
                    + `${entry.again ? ' (resumed)' : ''}: every event once`);
            }
        }

        const log = cluster.errorLog();
        assert.match(log, new RegExp('events not handed to ws-server at '
            + `${cluster.eventsSocketOf(0)} `));
        assert.ok(!log.includes(`ws-server at ${cluster.eventsSocketOf(1)}`),
            'the live ws-server lost nothing');
    } finally {
        all.forEach(({ sockets }) => sockets.forEach((s) => s.close()));
        resumed.forEach((s) => s.close());
        await cluster.startWs(0);
    }
});

errorLogIsCleanTest(ctx);
