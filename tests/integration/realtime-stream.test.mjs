// Realtime without gaps: every event once, in org_seq order, on every
// socket, whatever happens between nginx and ws-server (two workers
// publishing interleaved, ws-server killed or stopped while webhooks
// flow); exact resume, reset when the events are gone; presence within
// one organization only, of users only (an API token is nobody), a
// user's tabs shown together, expiring by itself, rate-limited.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { renameSync } from 'node:fs';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { inboxctl, sleep, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { connectWs, deliverInbound, postInbound, ticket, ticketClaims }
    from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const execFileAsync = promisify(execFile);
// This file opens some fifty sockets with each organization's token in
// well under a minute, more than the default ticket bucket (60r/m,
// burst=20) lets one token have on a fast machine; the bucket itself is
// realtime-limits' subject, not this file's.
const ctx = useCluster({ orgs: [{ name: 'Org A' }, { name: 'Org B' }],
                         workerProcesses: 2,
                         http: ['inbox_ticket_rate 600r/m burst=200;'] });

const STREAM_TYPES = new Set(['message.created', 'conversation.updated',
    'unread.total', 'contact.updated', 'message.status', 'message.updated']);

// The events of a text from a new number (uniqueNumber): its message's
// three, then its contact's contact.updated.
const PER_TEXT = 4;

const events = (client) => client.frames.filter((f) => STREAM_TYPES.has(f.type));
const seqs = (client) => events(client).map((f) => f.org_seq);
const lastSeq = (client) => {
    const s = seqs(client);
    return s.length ? s[s.length - 1] : null;
};

// Where the organization's stream stands in the store (a ticket says).
async function position(cluster, org) {
    const t = await ticket(cluster, org.token);
    const claims = ticketClaims(t.ticket);
    return { org_seq: claims.org_seq, epoch: claims.epoch };
}

// A socket that resumes at once (from its hello's position unless given).
async function connectResumed(cluster, org, resume) {
    const c = await connectWs(cluster, org.token);
    if (resume) {
        c.send({ type: 'resume', ...resume });
    }
    await c.waitForTypes(['hello']);
    if (!resume) {
        const h = c.frames[0];
        c.send({ type: 'resume', epoch: h.epoch, org_seq: h.org_seq });
    }
    return c;
}

function assertRun(client, from, to, what) {
    const got = seqs(client);
    const want = [];
    for (let s = from + 1; s <= to; s++) {
        want.push(s);
    }
    assert.deepEqual(got, want, `${what}: org_seq ${from + 1}..${to}`);
}

async function waitSeq(client, seq, timeoutMs = 15000) {
    await client.waitFor(() => (lastSeq(client) ?? -1) >= seq, timeoutMs,
        `org_seq ${seq} (last ${lastSeq(client)})`);
}

// count inbound messages, concurrency at a time, to org.
async function flood(cluster, org, count, concurrency, tag) {
    let next = 0;
    const failures = [];
    const worker = async () => {
        while (next < count) {
            const i = next++;
            const res = await postInbound(cluster, { org,
                from: uniqueNumber(), body: `${tag} ${i}` });
            if (res.status !== 200) {
                failures.push(res.status);
            }
        }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    assert.deepEqual(failures, [], 'every webhook answered 200');
}

test('resume right after connecting gets exactly the events missed, in '
    + 'order, then live ones: nothing twice at the seam', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const a = await connectResumed(cluster, org);
    const start = a.frames[0].org_seq;
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'one' });
    await waitSeq(a, start + PER_TEXT);
    a.close();

    await deliverInbound(cluster, { from: uniqueNumber(), body: 'missed 1' });
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'missed 2' });

    const b = await connectWs(cluster, org.token);
    b.send({ type: 'resume', epoch: a.frames[0].epoch,
             org_seq: start + PER_TEXT });
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'live' });
    await waitSeq(b, start + 4 * PER_TEXT);
    await sleep(300);
    try {
        assert.equal(b.frames[0].type, 'hello');
        assertRun(b, start + PER_TEXT, start + 4 * PER_TEXT,
                  'resumed socket');
        const bodies = events(b).filter((f) => f.type === 'message.created')
            .map((f) => f.message.body);
        assert.deepEqual(bodies, ['missed 1', 'missed 2', 'live']);
    } finally {
        b.close();
    }
});

test('a resume from a busy tab, half a second after its hello while '
    + 'messages keep coming, still gets what it missed then live ones, in '
    + 'order, and no reset', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const a = await connectResumed(cluster, org);
    const start = a.frames[0].org_seq;
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'seen' });
    await waitSeq(a, start + PER_TEXT);
    a.close();
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'missed' });

    const b = await connectWs(cluster, org.token);
    try {
        await b.waitForTypes(['hello']);
        assert.equal(b.frames[0].org_seq, start + 2 * PER_TEXT);
        // live messages while the tab is busy: the old 250 ms hold ended
        // meanwhile and sent them past the missed ones, then a reset
        const flow = (async () => {
            for (let i = 0; i < 4; i++) {
                await deliverInbound(cluster,
                    { from: uniqueNumber(), body: `live ${i}` });
                await sleep(100);
            }
        })();
        await sleep(500);
        b.send({ type: 'resume', epoch: a.frames[0].epoch,
                 org_seq: start + PER_TEXT });
        await flow;
        await waitSeq(b, start + 6 * PER_TEXT);
        await sleep(300);
        assert.deepEqual(b.frames.filter((f) => f.type === 'reset'), []);
        assertRun(b, start + PER_TEXT, start + 6 * PER_TEXT, 'resumed late');
        const bodies = events(b).filter((f) => f.type === 'message.created')
            .map((f) => f.message.body);
        assert.deepEqual(bodies,
            ['missed', 'live 0', 'live 1', 'live 2', 'live 3']);
    } finally {
        b.close();
    }
});

test('two nginx workers under load: every socket sees org_seq strictly '
    + 'increasing with no gap, and nothing of the other organization',
    async () => {
    const { cluster } = ctx;
    const [orgA, orgB] = cluster.orgs;
    const startA = await position(cluster, orgA);
    const startB = await position(cluster, orgB);
    const socketsA = [];
    const socketsB = [];
    for (let i = 0; i < 3; i++) {
        socketsA.push(await connectResumed(cluster, orgA, startA));
        socketsB.push(await connectResumed(cluster, orgB, startB));
    }
    try {
        const t0 = Date.now();
        await Promise.all([flood(cluster, orgA, 400, 12, 'loadA'),
                           flood(cluster, orgB, 200, 6, 'loadB')]);
        const secs = (Date.now() - t0) / 1000;
        const endA = (await position(cluster, orgA)).org_seq;
        const endB = (await position(cluster, orgB)).org_seq;
        assert.equal(endA, startA.org_seq + 400 * PER_TEXT);
        assert.equal(endB, startB.org_seq + 200 * PER_TEXT);
        for (const s of socketsA) {
            await waitSeq(s, endA);
            assertRun(s, startA.org_seq, endA, 'org A socket');
            assert.ok(!JSON.stringify(s.frames).includes('loadB'));
        }
        for (const s of socketsB) {
            await waitSeq(s, endB);
            assertRun(s, startB.org_seq, endB, 'org B socket');
            assert.ok(!JSON.stringify(s.frames).includes('loadA'));
        }
        process.stderr.write(`# ${600 / secs | 0} webhooks/s\n`);
    } finally {
        [...socketsA, ...socketsB].forEach((s) => s.close());
    }
});

test('ws-server killed while signed webhooks flow, restarted: a socket '
    + 'that resumes gets every event exactly once, in order', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const start = await position(cluster, org);
    const first = await connectResumed(cluster, org, start);
    const flow = flood(cluster, org, 90, 3, 'killed');
    await waitSeq(first, start.org_seq + 10 * PER_TEXT);
    process.kill(cluster.ws.pid, 'SIGKILL');
    await cluster.ws.exited;
    await first.waitFor(() => first.closed, 5000, 'close');
    const seen = lastSeq(first);
    assertRun(first, start.org_seq, seen, 'before the kill');
    await sleep(300);               // webhooks go on while it is down
    await cluster.startWs();
    await flow;

    const end = (await position(cluster, org)).org_seq;
    assert.equal(end, start.org_seq + 90 * PER_TEXT);
    const again = await connectResumed(cluster, org,
        { epoch: start.epoch, org_seq: seen });
    try {
        await waitSeq(again, end);
        await deliverInbound(cluster, { from: uniqueNumber(), body: 'after' });
        await waitSeq(again, end + PER_TEXT);
        await sleep(300);
        assertRun(again, seen, end + PER_TEXT, 'resumed after the restart');
    } finally {
        again.close();
    }
});

test('a datagram channel flooded while ws-server is stopped loses '
    + 'nothing, and what nginx shed is logged', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const start = await position(cluster, org);
    const c = await connectResumed(cluster, org, start);
    try {
        process.kill(cluster.ws.pid, 'SIGSTOP');
        const flow = flood(cluster, org, 80, 8, 'stopped');
        await sleep(1200);
        process.kill(cluster.ws.pid, 'SIGCONT');
        await flow;
        const end = (await position(cluster, org)).org_seq;
        assert.equal(end, start.org_seq + 80 * PER_TEXT);
        await waitSeq(c, end);
        await sleep(300);
        assertRun(c, start.org_seq, end, 'through the stop');
        assert.match(cluster.errorLog(),
            /events not handed to ws-server at \S+ \(\d+ in all\)/);
    } finally {
        c.close();
    }
});

test('the last events nginx shed, with nothing after them, still come: '
    + 'ws-server asks the store where the streams stand', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const start = await position(cluster, org);
    const c = await connectResumed(cluster, org, start);
    try {
        /* every webhook answered while ws-server reads nothing: its
         * queue fills and nginx sheds the rest */
        process.kill(cluster.ws.pid, 'SIGSTOP');
        try {
            await flood(cluster, org, 40, 8, 'shed last');
        } finally {
            process.kill(cluster.ws.pid, 'SIGCONT');
        }
        const end = (await position(cluster, org)).org_seq;
        assert.equal(end, start.org_seq + 40 * PER_TEXT);
        /* no datagram follows the shed ones: only the check finds them */
        await waitSeq(c, end, 10000);
        await sleep(300);
        assertRun(c, start.org_seq, end, 'after the last shed event');
    } finally {
        c.close();
    }
});

test('a reset while ws-server catches up from the store is not below the '
    + 'hello: the reloaded browser does not get the events between again',
    async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const start = await position(cluster, org);
    const a = await connectResumed(cluster, org, start);
    const sql = (text) => execFileAsync(sqlite3Path, ['-cmd',
        '.timeout 5000', cluster.storePath, text]);
    try {
        // a message's datagrams lost: nginx finds no socket to send to
        const socket = cluster.eventsSocketOf(0);
        renameSync(socket, `${socket}.away`);
        try {
            await deliverInbound(cluster, { from: uniqueNumber(),
                                            body: 'between' });
        } finally {
            renameSync(`${socket}.away`, socket);
        }
        // and its events not written yet (MongoDB numbers them first):
        // ws-server asks the store for them again every 200 ms
        await sql(`CREATE TABLE held_back AS SELECT * FROM events `
            + `WHERE org_id = ${org.id} AND seq > ${start.org_seq}; `
            + `DELETE FROM events WHERE org_id = ${org.id} `
            + `AND seq > ${start.org_seq}`);

        // a browser of another epoch connects meanwhile: reset, reload
        const b = await connectWs(cluster, org.token);
        try {
            b.send({ type: 'resume', epoch: 'not-this-one', org_seq: 1 });
            await b.waitForTypes(['hello', 'reset']);
            const hello = b.frames[0];
            assert.equal(hello.org_seq, start.org_seq + PER_TEXT);
            const reset = b.frames.find((f) => f.type === 'reset');
            assert.equal(reset.org_seq, hello.org_seq);

            await sql('INSERT INTO events SELECT * FROM held_back; '
                + 'DROP TABLE held_back');
            await waitSeq(a, start.org_seq + PER_TEXT);
            await deliverInbound(cluster, { from: uniqueNumber(),
                                            body: 'after' });
            await waitSeq(a, start.org_seq + 2 * PER_TEXT);
            await waitSeq(b, start.org_seq + 2 * PER_TEXT);
            await sleep(300);
            assertRun(a, start.org_seq, start.org_seq + 2 * PER_TEXT,
                      'the open one');
            assertRun(b, start.org_seq + PER_TEXT,
                      start.org_seq + 2 * PER_TEXT, 'the reloaded one');
        } finally {
            b.close();
        }
    } finally {
        a.close();
    }
});

test('resume from a pruned position, or of another epoch, gets reset, '
    + 'and live events after it', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const start = await position(cluster, org);
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'p1' });
    await deliverInbound(cluster, { from: uniqueNumber(), body: 'p2' });
    const end = (await position(cluster, org)).org_seq;

    // another epoch: a reset at once
    const e = await connectWs(cluster, org.token);
    e.send({ type: 'resume', epoch: 'not-this-one', org_seq: start.org_seq });
    await e.waitForTypes(['reset']);
    const reset = e.frames.find((f) => f.type === 'reset');
    assert.equal(reset.epoch, start.epoch);
    assert.equal(reset.org_seq, end);
    assert.equal(events(e).length, 0);
    e.close();

    // the events are gone from the store and ws-server's ring is new
    await execFileAsync(sqlite3Path, ['-cmd', '.timeout 5000',
        cluster.storePath, `DELETE FROM events WHERE org_id = ${org.id} `
        + `AND seq <= ${start.org_seq + PER_TEXT - 1}`]);
    await cluster.stopWs();
    await cluster.startWs();

    const r = await connectWs(cluster, org.token);
    r.send({ type: 'resume', epoch: start.epoch, org_seq: start.org_seq });
    try {
        await r.waitForTypes(['reset']);
        assert.equal(events(r).length, 0, JSON.stringify(r.frames));
        assert.equal(r.frames.find((f) => f.type === 'reset').org_seq, end);
        await deliverInbound(cluster, { from: uniqueNumber(), body: 'p3' });
        await waitSeq(r, end + PER_TEXT);
        assertRun(r, end, end + PER_TEXT, 'live after the reset');
    } finally {
        r.close();
    }

    // a position still kept is replayed from the store
    const k = await connectWs(cluster, org.token);
    k.send({ type: 'resume', epoch: start.epoch,
             org_seq: start.org_seq + PER_TEXT });
    try {
        await waitSeq(k, end + PER_TEXT);
        assertRun(k, start.org_seq + PER_TEXT, end + PER_TEXT,
                  'resumed from the store');
        assert.ok(!k.frames.some((f) => f.type === 'reset'));
    } finally {
        k.close();
    }
});

test('presence reaches the organization\'s other sockets only, with the '
    + 'user, and a new socket gets it after hello', async () => {
    const { cluster } = ctx;
    const [orgA, orgB] = cluster.orgs;
    await addUser(cluster, orgA, 'ana@presence.example', 'a long secret');
    const anaToken = await inboxctl(cluster.store, 'token', 'create',
        orgA.id, '--user', 'ana@presence.example');
    const ana = await connectResumed(cluster, { token: anaToken });
    const colleague = await connectResumed(cluster, orgA);
    const other = await connectResumed(cluster, orgB);
    try {
        await sleep(100);
        ana.send({ type: 'presence', conversation_id: 'c42',
                   state: 'viewing' });
        await colleague.waitForTypes(['presence']);
        const p = colleague.frames.find((f) => f.type === 'presence');
        assert.equal(p.conversation_id, 'c42');
        assert.equal(p.state, 'viewing');
        assert.equal(p.user.name, 'ana@presence.example');
        assert.equal(typeof p.user.id, 'string');
        assert.equal(p.expires_in, 30);
        assert.equal(p.org_seq, undefined);

        const late = await connectWs(cluster, orgA.token);
        await late.waitForTypes(['hello', 'presence'], 10000);
        const types = late.frames.map((f) => f.type);
        assert.deepEqual(types.slice(0, 2), ['hello', 'presence']);
        late.close();

        await sleep(300);
        assert.ok(!other.frames.some((f) => f.type === 'presence'));
        assert.ok(!ana.frames.some((f) => f.type === 'presence'));

        // a closed browser is idle at once (its viewing would lapse in 30 s)
        ana.close();
        await colleague.waitFor((fs) => fs.some((f) => f.type === 'presence'
            && f.state === 'idle'), 10000, 'idle');
    } finally {
        [ana, colleague, other].forEach((s) => s.close());
    }
});

test('a socket of an organization-wide API token is nobody to show: what it '
    + 'says of presence reaches no one', async () => {
    const { cluster } = ctx;
    const orgA = cluster.orgs[0];
    const user = async (email) => {
        await addUser(cluster, orgA, email, 'a long secret');
        return connectResumed(cluster, { token: await inboxctl(cluster.store,
            'token', 'create', orgA.id, '--user', email) });
    };
    const flo = await user('flo@presence.example');
    const gus = await user('gus@presence.example');
    const app = await connectResumed(cluster, orgA);
    try {
        await sleep(100);
        app.send({ type: 'presence', conversation_id: 'n1',
                   state: 'viewing' });
        await sleep(200);
        // one that is shown, after it
        gus.send({ type: 'presence', conversation_id: 'n2', state: 'viewing' });
        await flo.waitFor((fs) => fs.some((f) => f.type === 'presence'
            && f.conversation_id === 'n2'), 10000, 'Gus\'s presence');
        assert.deepEqual(flo.frames.filter((f) => f.type === 'presence')
            .map((f) => f.conversation_id), ['n2']);
    } finally {
        [flo, gus, app].forEach((s) => s.close());
    }
});

test('a user in two tabs is shown by what the tabs together say: one '
    + 'going idle or to another thread leaves the other\'s state shown',
    async () => {
    const { cluster } = ctx;
    const [orgA] = cluster.orgs;
    await addUser(cluster, orgA, 'di@presence.example', 'a long secret');
    const diToken = await inboxctl(cluster.store, 'token', 'create',
        orgA.id, '--user', 'di@presence.example');
    const tab1 = await connectResumed(cluster, { token: diToken });
    const tab2 = await connectResumed(cluster, { token: diToken });
    const colleague = await connectResumed(cluster, orgA);
    const shown = (client) => client.frames
        .filter((f) => f.type === 'presence'
                && f.user.name === 'di@presence.example')
        .map((f) => `${f.conversation_id} ${f.state}`);
    // waits for n more frames about Di, and gives them
    const next = async (n) => {
        const before = shown(colleague).length;
        await colleague.waitFor(() => shown(colleague).length >= before + n,
                                10000, `${n} more`);
        await sleep(200);
        return shown(colleague).slice(before);
    };
    const late = [];
    try {
        tab1.send({ type: 'presence', conversation_id: 'd1',
                    state: 'viewing' });
        tab2.send({ type: 'presence', conversation_id: 'd1',
                    state: 'viewing' });
        await next(2);

        // one tab idle: Di still views d1, for the colleague and a new
        // socket alike
        tab2.send({ type: 'presence', conversation_id: 'd1', state: 'idle' });
        assert.deepEqual(await next(1), ['d1 viewing']);
        late.push(await connectWs(cluster, orgA.token));
        await late[0].waitForTypes(['hello', 'presence'], 10000);
        await sleep(200);
        assert.deepEqual(shown(late[0]), ['d1 viewing']);

        // typing in one tab, viewing in the other: typing, then viewing
        // when the typing tab goes
        tab2.send({ type: 'presence', conversation_id: 'd1',
                    state: 'viewing' });
        tab1.send({ type: 'presence', conversation_id: 'd1',
                    state: 'typing' });
        assert.deepEqual(await next(2), ['d1 viewing', 'd1 typing']);
        late.push(await connectWs(cluster, orgA.token));
        await late[1].waitForTypes(['hello', 'presence'], 10000);
        await sleep(200);
        assert.deepEqual(shown(late[1]), ['d1 typing']);
        tab1.send({ type: 'presence', conversation_id: 'd1', state: 'idle' });
        assert.deepEqual(await next(1), ['d1 viewing']);

        // the last tab in d1 views another thread: d1 is left, idle
        tab2.send({ type: 'presence', conversation_id: 'd2',
                    state: 'viewing' });
        assert.deepEqual(await next(2), ['d1 idle', 'd2 viewing']);

        // a tab closing while the other is still in the thread
        tab1.send({ type: 'presence', conversation_id: 'd2',
                    state: 'viewing' });
        assert.deepEqual(await next(1), ['d2 viewing']);
        tab2.close();
        assert.deepEqual(await next(1), ['d2 viewing']);
        tab1.close();
        assert.deepEqual(await next(1), ['d2 idle']);
    } finally {
        [tab1, tab2, colleague, ...late].forEach((s) => s.close());
    }
});

test('a message that comes in pieces is put together: a presence sent in '
    + 'fragments reaches the colleague; one longer than 1 KiB is refused',
    async () => {
    const { cluster } = ctx;
    const [orgA] = cluster.orgs;
    await addUser(cluster, orgA, 'cy@presence.example', 'a long secret');
    const cyToken = await inboxctl(cluster.store, 'token', 'create',
        orgA.id, '--user', 'cy@presence.example');
    const cy = await connectResumed(cluster, { token: cyToken });
    const colleague = await connectResumed(cluster, orgA);
    // frames of one message: the first and the middle ones not final
    const inPieces = (text, n) => {
        const size = Math.ceil(text.length / n);
        for (let i = 0; i < text.length; i += size) {
            cy.ws.send(text.slice(i, i + size),
                       { fin: i + size >= text.length });
        }
    };
    try {
        inPieces(JSON.stringify({ type: 'presence', conversation_id: 'p1',
                                  state: 'viewing' }), 3);
        await colleague.waitFor((fs) => fs.some((f) => f.type === 'presence'
            && f.conversation_id === 'p1'), 10000, 'presence in pieces');

        // too long, in pieces: refused and counted, nothing shown
        inPieces(JSON.stringify({ type: 'presence', conversation_id: 'p2',
                                  state: 'viewing', pad: 'x'.repeat(1500) }),
                 4);
        inPieces(JSON.stringify({ type: 'presence', conversation_id: 'p3',
                                  state: 'typing' }), 2);
        await colleague.waitFor((fs) => fs.some((f) => f.type === 'presence'
            && f.conversation_id === 'p3'), 10000, 'the next one');
        assert.ok(!colleague.frames.some((f) => f.conversation_id === 'p2'));
        assert.equal(cy.closed, false);
    } finally {
        cy.close();
        colleague.close();
    }
});

test('a connection resumes once: resumes sent again are ignored, and a '
    + 'flood of them closes it', async () => {
    const { cluster } = ctx;
    const [orgA] = cluster.orgs;
    const ana = await connectResumed(cluster, orgA);
    try {
        const hello = ana.frames.find((f) => f.type === 'hello');
        ana.send({ type: 'resume', epoch: hello.epoch, org_seq: 0 });
        await sleep(300);
        assert.equal(ana.closed, false);
        assert.ok(!ana.frames.some((f) => f.type === 'reset'));
        for (let i = 0; i < 60; i++) {
            ana.send({ type: 'resume', epoch: hello.epoch, org_seq: 0 });
        }
        await ana.waitFor(() => ana.closed, 5000, 'close');
        assert.ok([1008, 1006].includes(ana.closeCode), `${ana.closeCode}`);
    } finally {
        ana.close();
    }
});

test('presence expires by itself when a browser goes silent, and a flood '
    + 'is ignored then closed', async () => {
    const { cluster } = ctx;
    const [orgA] = cluster.orgs;
    await addUser(cluster, orgA, 'bo@presence.example', 'a long secret');
    const anaToken = await inboxctl(cluster.store, 'token', 'create',
        orgA.id, '--user', 'bo@presence.example');
    const ana = await connectResumed(cluster, { token: anaToken });
    const colleague = await connectResumed(cluster, orgA);
    try {
        ana.send({ type: 'presence', conversation_id: 'c7', state: 'typing' });
        await colleague.waitFor((fs) => fs.some((f) => f.type === 'presence'
            && f.state === 'typing'), 3000, 'typing');
        const typing = colleague.frames.find((f) => f.state === 'typing');
        assert.equal(typing.expires_in, 8);
        const t0 = Date.now();
        await colleague.waitFor((fs) => fs.some((f) => f.type === 'presence'
            && f.state === 'idle'), 12000, 'lapse');
        assert.ok(Date.now() - t0 > 6000, 'not before its time');
        assert.ok(!ana.closed);

        const before = colleague.frames.length;
        for (let i = 0; i < 80; i++) {
            ana.send({ type: 'presence', conversation_id: `f${i}`,
                       state: 'viewing' });
        }
        await ana.waitFor(() => ana.closed, 5000, 'close');
        // 1008, unless the close frame was lost to the reset that closing
        // a socket with the rest of the flood unread sends (1006)
        assert.ok([1008, 1006].includes(ana.closeCode), `${ana.closeCode}`);
        await sleep(300);
        const shown = colleague.frames.slice(before)
            .filter((f) => f.type === 'presence' && f.state === 'viewing');
        assert.ok(shown.length >= 5 && shown.length <= 11,
            `${shown.length} of 80 shown`);
    } finally {
        ana.close();
        colleague.close();
    }
});

errorLogIsCleanTest(ctx);
