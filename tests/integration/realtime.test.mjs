// What a browser's WebSocket gets: a hello, then each change of its own
// organization in order, nothing of another's; who may open one (ticket,
// page origin, subprotocol); and the inbox keeps taking messages while the
// push server is down.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, statSync, writeFileSync }
    from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { nginxPath, sleep, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, connectWs, deliverInbound, eventually, openWs, ticket,
         ticketIssuedMs, wsUpgrade, wsUrl, wsUpgradeStatus }
    from '../lib/inbox.mjs';

const ctx = useCluster({ orgs: [{ name: 'Org A' }, { name: 'Org B' }] });
const EVENT_TYPES = ['message.created', 'conversation.updated',
                     'unread.total'];
// a text from a new number: its message's three, then its contact's
const NEW_CONTACT_TYPES = [...EVENT_TYPES, 'contact.updated'];

function hello(client) {
    const h = client.frames[0];
    assert.equal(h?.type, 'hello', `first frame: ${JSON.stringify(h)}`);
    return h;
}

test('a socket of org A gets hello then the three events of a new message '
    + 'and its new contact\'s, in order; org B\'s socket gets none of them',
    async () => {
    const { cluster } = ctx;
    const [orgA, orgB] = cluster.orgs;
    const a = await connectWs(cluster, orgA.token);
    const b = await connectWs(cluster, orgB.token);
    try {
        assert.equal(a.protocol, 'inbox.v1');
        await a.waitForTypes(['hello']);
        await b.waitForTypes(['hello']);
        const helloA = hello(a);
        assert.equal(typeof helloA.org_seq, 'number');
        assert.equal(typeof helloA.epoch, 'string');
        assert.equal(helloA.unread_total, 0);

        const from = uniqueNumber();
        await deliverInbound(cluster, { from, body: 'live one' });
        await a.waitForTypes(NEW_CONTACT_TYPES);
        const events = a.frames.slice(1);
        assert.deepEqual(events.map((e) => e.type), NEW_CONTACT_TYPES,
                         JSON.stringify(events));

        events.forEach((e, i) => {
            assert.equal(e.org_seq, helloA.org_seq + i + 1,
                `consecutive org_seq: ${JSON.stringify(events)}`);
            assert.equal(e.epoch, helloA.epoch);
        });
        const created = events.find((e) => e.type === 'message.created');
        assert.equal(created.message.body, 'live one');
        assert.equal(created.message.direction, 'inbound');
        assert.equal(created.conversation.contact.phone, from);
        assert.equal(created.message.conversation_id,
            created.conversation.id);
        const updated = events.find((e) => e.type === 'conversation.updated');
        assert.equal(updated.conversation.id, created.conversation.id);
        assert.equal(updated.conversation.unread_count, 1);
        assert.equal(updated.conversation.last_message.preview, 'live one');
        const total = events.find((e) => e.type === 'unread.total');
        assert.equal(total.count, 1);
        const contact = events.find((e) => e.type === 'contact.updated');
        assert.equal(contact.contact.phone, from);
        assert.equal(contact.contact.id, created.conversation.contact.id);
        assert.equal(contact.contact.conversation_id,
                     created.conversation.id);

        // B's own message reaches B, and only then do we know B saw
        // everything it was ever going to see of A's
        await deliverInbound(cluster, { org: orgB, from: uniqueNumber(),
            body: 'for B' });
        await b.waitForTypes(NEW_CONTACT_TYPES);
        await sleep(200);
        const bodies = JSON.stringify(b.frames);
        assert.ok(!bodies.includes('live one'), bodies);
        assert.ok(!bodies.includes(from), bodies);
        assert.equal(b.frames.length, 5, bodies);
        assert.ok(!JSON.stringify(a.frames).includes('for B'));
    } finally {
        a.close();
        b.close();
    }
});

test('hello carries the current position and unread total', async () => {
    const { cluster } = ctx;
    const c = await connectWs(cluster, cluster.orgs[0].token);
    try {
        await c.waitForTypes(['hello']);
        const h = hello(c);
        assert.equal(h.unread_total, 1);
        assert.ok(h.org_seq >= 3, JSON.stringify(h));
    } finally {
        c.close();
    }
});

test('an upgrade without a valid ticket is refused', async () => {
    const { cluster } = ctx;
    const token = cluster.orgs[0].token;
    const base = cluster.baseUrl.replace(/^http/, 'ws');
    const refused = (s) => s === 401 || s === 403;

    let s = await wsUpgradeStatus(`${base}/ws`);
    assert.ok(refused(s), `no ticket: ${s}`);
    s = await wsUpgradeStatus(`${base}/ws?ticket=`);
    assert.ok(refused(s), `empty ticket: ${s}`);
    s = await wsUpgradeStatus(`${base}/ws?ticket=garbage.garbage`);
    assert.ok(refused(s), `garbage ticket: ${s}`);

    // a real ticket with its signature changed
    const t = await ticket(cluster, token);
    const [org, claims, mac] = t.ticket.split('.');
    const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1);
    s = await wsUpgradeStatus(wsUrl(cluster,
        { url: '/ws', ticket: `${org}.${claims}.${flipped}` }));
    assert.ok(refused(s), `forged signature: ${s}`);

    // claims of another org with A's signature, under either organization
    const tB = await ticket(cluster, cluster.orgs[1].token);
    const [orgB, claimsB] = tB.ticket.split('.');
    for (const forged of [`${orgB}.${claimsB}.${mac}`,
                          `${org}.${claimsB}.${mac}`,
                          `${orgB}.${claims}.${mac}`]) {
        s = await wsUpgradeStatus(wsUrl(cluster,
            { url: '/ws', ticket: forged }));
        assert.ok(refused(s), `swapped claims ${forged}: ${s}`);
    }

    // a good ticket works once, at the url answered with it as it is:
    // that url carries the ticket, so a client adds nothing
    const good = await ticket(cluster, token);
    const url = new URL(good.url, base).toString();
    assert.equal(new URL(url).searchParams.get('ticket'), good.ticket);

    // ... at the contract's address; an org argument (older ticket urls
    // had one) naming another org, which an nginx hashing $arg_org would
    // route to another ws-server, is refused, unused
    assert.equal(new URL(url).search, `?ticket=${good.ticket}`);
    const steered = new URL(url);
    for (const org of [cluster.orgs[1].id, `${cluster.orgs[0].id}a`]) {
        steered.searchParams.set('org', org);
        const res = await wsUpgrade(steered.toString());
        assertWsError(res, 403, 'forbidden');
    }

    assert.equal(await wsUpgradeStatus(url), 101);
    s = await wsUpgradeStatus(url);
    assert.ok(refused(s), `reused ticket: ${s}`);
});

test('a used ticket stays refused while it lives, not only for the '
    + 'second after its use', async () => {
    const { cluster } = ctx;
    const t = await ticket(cluster, cluster.orgs[0].token);
    const url = wsUrl(cluster, t);
    assert.equal(await wsUpgradeStatus(url), 101);

    // two whole seconds after it was issued: a used ticket remembered
    // only until then would open a second socket now
    await sleep(Math.max(0, ticketIssuedMs(t) + 2200 - Date.now()));
    assert.equal(await wsUpgradeStatus(url), 403);
});

test('a ticket needs an API token', async () => {
    const res = await api(ctx.cluster, '/api/v1/realtime/ticket', null,
        { method: 'POST' });
    assert.equal(res.status, 401);
});

test('webhooks are stored while ws-server is down, and events flow again '
    + 'after it restarts; its tickets from before the restart open nothing',
async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    const usedTicket = await ticket(cluster, org.token);
    const usedUrl = wsUrl(cluster, usedTicket);
    const unusedUrl = wsUrl(cluster, await ticket(cluster, org.token));
    const live = await openWs(usedUrl);
    await live.waitForTypes(['hello']);
    assert.equal(await wsUpgradeStatus(usedUrl), 403, 'reused ticket');
    await cluster.stopWs();
    await eventually(() => live.closed, 5000, 'the socket to close');

    const from = uniqueNumber();
    for (let i = 0; i < 3; i++) {
        const started = Date.now();
        await deliverInbound(cluster, { from, body: `while down ${i}` });
        assert.ok(Date.now() - started < 2000, 'answered within 2 s');
    }
    const list = await api(cluster, '/api/v1/conversations', org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    assert.ok(conv, 'stored while ws-server was down');
    assert.equal(conv.unread_count, 3);
    assert.equal(conv.last_message.preview, 'while down 2');

    // started a second after the tickets were issued, as a restart is
    // (one issued in the second it started is taken)
    await sleep(Math.max(0, ticketIssuedMs(usedTicket) + 1000
                            - Date.now()));
    await cluster.startWs();

    // used once before the restart, or not at all: the new process
    // cannot tell, and refuses both as it refuses a reused ticket
    assertWsError(await wsUpgrade(usedUrl), 403, 'forbidden');
    assertWsError(await wsUpgrade(unusedUrl), 403, 'forbidden');

    const c = await connectWs(cluster, org.token);
    try {
        await c.waitForTypes(['hello']);
        assert.equal(hello(c).unread_total, 4);
        await deliverInbound(cluster, { from, body: 'after restart' });
        await c.waitForTypes(EVENT_TYPES);
        const created = c.frames.find((f) => f.type === 'message.created');
        assert.equal(created.message.body, 'after restart');
        const seqs = c.frames.map((f) => f.org_seq);
        assert.deepEqual(seqs.slice(1),
            [seqs[0] + 1, seqs[0] + 2, seqs[0] + 3],
            JSON.stringify(c.frames));
    } finally {
        c.close();
    }
});

// A refusal ws-server wrote itself: the contract's JSON error.
function assertWsError(res, status, code) {
    assert.equal(res.status, status, `${res.status}: ${res.text}`);
    assert.match(res.headers['content-type'] || '', /application\/json/);
    assert.equal(res.json?.error?.code, code, res.text);
    assert.ok(res.json.error.message.length > 0, res.text);
    return res.json.error;
}

test('a page of another origin is refused with 403 before its ticket is '
    + 'used; the inbox\'s own pages and clients without Origin connect',
async () => {
    const { cluster } = ctx;
    const token = cluster.orgs[0].token;
    const url = wsUrl(cluster, await ticket(cluster, token));

    for (const origin of ['http://evil.example', 'null',
                          cluster.baseUrl.replace('127.0.0.1', 'localhost'),
                          `https://127.0.0.1:${cluster.port}`]) {
        const res = await wsUpgrade(url, { origin });
        const err = assertWsError(res, 403, 'forbidden');
        assert.match(err.message, /origin/i);
    }
    await eventually(() => /origin refused: http:\/\/evil\.example/.test(
        cluster.readFile('ws-server.log')), 5000, 'the refusal logged');

    // the refusals did not use the ticket up: the inbox's own page may
    const own = await wsUpgrade(url, { origin: `${cluster.baseUrl}/` });
    assert.equal(own.status, 101, own.text);
    assert.equal(own.protocol, 'inbox.v1');

    // same origin, spelled with a different case and the default port
    const upper = cluster.baseUrl.replace('http://', 'HTTP://');
    const t2 = wsUrl(cluster, await ticket(cluster, token));
    assert.equal((await wsUpgrade(t2, { origin: upper })).status, 101);

    // not a browser: no Origin, the ticket alone decides
    const t3 = wsUrl(cluster, await ticket(cluster, token));
    assert.equal((await wsUpgrade(t3)).status, 101);
});

test('an upgrade asking only for other subprotocols gets a JSON 400 that '
    + 'names them, through nginx', async () => {
    const { cluster } = ctx;
    const token = cluster.orgs[0].token;

    for (const protocols of [['chat.v2'], ['inbox-events'],
                             ['mqtt', 'inbox-events', 'inbox.v1']]) {
        const url = wsUrl(cluster, await ticket(cluster, token));
        const res = await wsUpgrade(url, { protocols });
        const err = assertWsError(res, 400, 'invalid_request');
        assert.ok(err.message.includes(protocols[0]), err.message);
        assert.match(err.message, /inbox\.v1/);
        assert.equal(err.field, 'Sec-WebSocket-Protocol');
    }

    // inbox.v1 anywhere before the server's other protocols is taken
    const url = wsUrl(cluster, await ticket(cluster, token));
    const ok = await wsUpgrade(url, { protocols: ['chat.v2', 'inbox.v1'] });
    assert.equal(ok.status, 101, ok.text);
    assert.equal(ok.protocol, 'inbox.v1');
});

test('a realtime secret missing or too short is refused by nginx -t, '
    + 'naming the file; a relative one is under nginx\'s prefix',
    async () => {
    const dir = ctx.cluster.dir;
    const conf = readFileSync(join(dir, 'nginx.conf'), 'utf8');
    const line = `inbox_realtime_secret ${dir}/realtime.key;`;
    assert.ok(conf.includes(line), conf);
    const check = async (secret) => {
        const file = join(dir, 'nginx-secret.conf');
        writeFileSync(file, conf.replace(line,
                                         `inbox_realtime_secret ${secret};`));
        return promisify(execFile)(nginxPath, ['-t', '-p', dir, '-c', file,
                                               '-e', '/dev/stderr'])
            .then(() => null, (e) => e);
    };

    let err = await check(`${dir}/missing.key`);
    assert.ok(err, 'nginx -t accepted a missing realtime secret');
    assert.match(err.stderr, new RegExp('\\[emerg\\] .*inbox_realtime_'
        + `secret: cannot open the realtime secret "${dir}/missing.key": `
        + 'No such file or directory'));

    writeFileSync(join(dir, 'short.key'), 'abc123\n', { mode: 0o600 });
    err = await check(`${dir}/short.key`);
    assert.ok(err, 'nginx -t accepted a 6-byte realtime secret');
    assert.match(err.stderr, new RegExp('\\[emerg\\] .*inbox_realtime_'
        + `secret: the realtime secret "${dir}/short\\.key" has 6 bytes; `
        + 'it needs 32 to'));

    // relative: under -p's directory, not where nginx was started from
    copyFileSync(join(dir, 'realtime.key'), join(dir, 'relative.key'));
    assert.equal(await check('relative.key'), null);
    err = await check('missing.key');
    assert.match(err.stderr, new RegExp(`"${dir}/missing\\.key"`));
});

test('the events socket is for the owner and its group only (0660)', () => {
    const st = statSync(join(ctx.cluster.dir, 'events.sock'));
    assert.ok(st.isSocket());
    assert.equal((st.mode & 0o777).toString(8), '660');
});

test('a client that sends no resume gets what came during its hold at the '
     + 'hold\'s end (1 s), not at the next timer of ws-server', async () => {
    const { cluster } = ctx;
    const org = cluster.orgs[0];
    for (let round = 0; round < 3; round++) {
        const ws = await connectWs(cluster, org.token);
        const opened = Date.now();
        const body = `during the hold ${round}`;
        await deliverInbound(cluster, { org, from: uniqueNumber(), body });
        // the frame is queued by the hold's timer: before the fix it went
        // out only when the loop next woke, at ws-server's 2 s check
        await ws.waitFor((frames) => frames.some((f) =>
            f.type === 'message.created' && f.message?.body === body),
        1500, 'the frame at the hold\'s end');
        assert.ok(Date.now() - opened < 1500);
        ws.close();
    }
});

errorLogIsCleanTest(ctx);
