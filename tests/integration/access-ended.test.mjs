// Access that ends ends at once, on the WebSocket too: a user removed
// from the team, or signed out everywhere by a new password, loses the
// sockets already open (closed with 4003) and a ticket they got before
// opens nothing, as does a revoked API token and a session signed out;
// the rest of the organization hears of the change (user.updated,
// user.removed, user.signed_out, token.revoked, session.ended) and keeps
// its sockets.  A session or
// token that ends by itself (idle, too old, expired) closes its sockets
// when it ends.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { inboxctl, sqlite3Path } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, connectWs, deliverInbound, eventually, openWs, ticket,
         ticketClaims, wsUrl }
    from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

// ws-server's own keepalive (--ping-secs 30: a sweep every 15 s) is
// left as it is: a socket closes at its session's or token's end, not
// at the next sweep
const ctx = useCluster({
    orgs: [{ name: 'Harbor Dental' }, { name: 'Other Org' }],
});

const ENDED = 4003;
const PAT = { email: 'pat@harbor.example', password: 'correct horse 42' };
let ids;

async function ready() {
    const cluster = await ctx.ready;
    if (!ids) {
        const [orgA, orgB] = cluster.orgs;
        ids = {
            pat: await addUser(cluster, orgA, PAT.email, PAT.password,
                               'billing'),
            zed: await addUser(cluster, orgB, 'zed@other.example',
                               'zed password 9', 'billing'),
        };
    }
    return cluster;
}

async function signIn(cluster, email, password) {
    const res = await login(cluster, email, password);
    assert.equal(res.status, 200, res.text);
    return res.cookie;
}

// A teammate of Harbor Dental with a session.
async function teammate(cluster, name) {
    const who = { email: `${name}@harbor.example`,
                  password: `${name} password 1` };
    who.id = await addUser(cluster, cluster.orgs[0], who.email,
                           who.password, 'member');
    who.cookie = await signIn(cluster, who.email, who.password);
    return who;
}

async function ticketFor(cluster, cookie) {
    return sessionApi(cluster, '/api/v1/realtime/ticket', cookie,
                      { method: 'POST' });
}

// A socket of the session, live: its hello came and it resumed from
// there, as the web app does.
async function socketOf(cluster, cookie) {
    const t = await ticketFor(cluster, cookie);
    assert.equal(t.status, 200, t.text);
    const ws = await openWs(wsUrl(cluster, t.json));
    const hello = (await ws.waitForTypes(['hello']))[0];
    ws.send({ type: 'resume', epoch: hello.epoch, org_seq: hello.org_seq });
    return ws;
}

// A socket opened with the API token, live.
async function liveWithToken(cluster, token) {
    const ws = await connectWs(cluster, token);
    const hello = (await ws.waitForTypes(['hello']))[0];
    ws.send({ type: 'resume', epoch: hello.epoch, org_seq: hello.org_seq });
    return ws;
}

function closedAsEnded(ws, what) {
    return eventually(() => ws.closed, 5000, `${what} closed`).then(() => {
        assert.equal(ws.closeCode, ENDED, `${what}: ${ws.closeCode} `
            + `${ws.closeReason}`);
    });
}

// The frame of type naming user, once it came.
async function heard(ws, type, user) {
    const frames = await ws.waitFor((fs) => fs.some((f) => f.type === type
        && f.user_id === user), 5000, `${type} ${user}`);
    return frames.find((f) => f.type === type && f.user_id === user);
}

// The stream position a ticket was issued at (its claims are not secret,
// only signed).
function positionOf(ticketJson) {
    return ticketClaims(ticketJson.ticket).org_seq;
}

test('a removed user\'s open sockets close at once; the team hears it and '
    + 'keeps its own', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT.email, PAT.password);
    const sam = await teammate(cluster, 'sam');

    const patWs = await socketOf(cluster, pat);
    const samWs = [await socketOf(cluster, sam.cookie),
                   await socketOf(cluster, sam.cookie)];
    const zedWs = await socketOf(cluster, await signIn(cluster,
        'zed@other.example', 'zed password 9'));
    // one that has not resumed yet, held back from live events
    const held = await openWs(wsUrl(cluster,
        (await ticketFor(cluster, sam.cookie)).json));
    samWs.push(held);
    // got before the removal, used after it
    const early = await ticketFor(cluster, sam.cookie);
    assert.equal(early.status, 200, early.text);

    const res = await sessionApi(cluster, `/api/v1/users/${sam.id}`, pat,
                                 { method: 'DELETE' });
    assert.equal(res.status, 204, res.text);

    await Promise.all(samWs.map((ws, i) => closedAsEnded(ws, `sam's #${i}`)));
    const removed = await heard(patWs, 'user.removed', sam.id);
    assert.equal(typeof removed.org_seq, 'number');

    const late = await openWs(wsUrl(cluster, early.json));
    await closedAsEnded(late, 'the ticket got before');
    assert.ok(!late.frames.some((f) => f.type !== 'hello'),
        JSON.stringify(late.frames));
    const again = await ticketFor(cluster, sam.cookie);
    assert.equal(again.status, 401, again.text);

    // the rest of the organization is still live, the other one heard
    // nothing
    await deliverInbound(cluster, { from: '+15551230301', body: 'still?' });
    await patWs.waitForTypes(['message.created']);
    assert.equal(patWs.closed, false);
    assert.ok(!zedWs.frames.some((f) => f.type.startsWith('user.')),
        JSON.stringify(zedWs.frames));
    patWs.close();
    zedWs.close();
    late.close();
});

test('a new password closes the user\'s sockets; the session that changed '
    + 'it opens a new one, the others cannot', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT.email, PAT.password);
    const lee = await teammate(cluster, 'lee');
    const elsewhere = await signIn(cluster, lee.email, lee.password);

    const patWs = await socketOf(cluster, pat);
    const here = await socketOf(cluster, lee.cookie);
    const there = await socketOf(cluster, elsewhere);

    const res = await sessionApi(cluster, '/api/v1/me/password', lee.cookie,
        { method: 'POST', body: { current_password: lee.password,
                                  new_password: 'a new password 2' } });
    assert.equal(res.status, 204, res.text);
    const renewed = res.setCookie.split(';')[0];

    await closedAsEnded(here, 'the changing browser\'s');
    await closedAsEnded(there, 'the other browser\'s');
    await heard(patWs, 'user.signed_out', lee.id);

    // the browser that changed it goes on in its new session, and its new
    // socket resumes where the old one stopped
    const seen = here.frames.filter((f) => typeof f.org_seq === 'number')
        .at(-1).org_seq;
    const t = await ticketFor(cluster, renewed);
    assert.equal(t.status, 200, t.text);
    const back = await openWs(wsUrl(cluster, t.json));
    const hello = (await back.waitForTypes(['hello']))[0];
    back.send({ type: 'resume', epoch: hello.epoch, org_seq: seen });
    await deliverInbound(cluster, { from: '+15551230302', body: 'hi lee' });
    await back.waitForTypes(['message.created']);
    assert.equal(back.closed, false);
    const seqs = back.frames.filter((f) => f.type !== 'hello')
        .map((f) => f.org_seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(seqs[0], seen + 1, JSON.stringify(back.frames));

    assert.equal((await ticketFor(cluster, elsewhere)).status, 401);
    back.close();
    patWs.close();
});

test('signing out closes the sockets of that session, whoever holds them, '
    + 'and a ticket it got before opens nothing; the user\'s other '
    + 'sessions stay', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT.email, PAT.password);
    const amy = await teammate(cluster, 'amy');
    const elsewhere = await signIn(cluster, amy.email, amy.password);

    const patWs = await socketOf(cluster, pat);
    // Amy's tab, and a socket of someone holding a copy of her cookie
    const mine = await socketOf(cluster, amy.cookie);
    const copy = await socketOf(cluster, amy.cookie);
    const otherWs = await socketOf(cluster, elsewhere);
    const early = await ticketFor(cluster, amy.cookie);
    assert.equal(early.status, 200, early.text);

    const res = await sessionApi(cluster, '/api/v1/auth/logout', amy.cookie,
                                 { method: 'POST' });
    assert.equal(res.status, 204, res.text);

    await closedAsEnded(mine, 'the signed out tab\'s');
    await closedAsEnded(copy, 'the copied cookie\'s');
    const ended = (await patWs.waitFor((fs) => fs.some((f) => f.type
        === 'session.ended'), 5000, 'session.ended'))
        .find((f) => f.type === 'session.ended');
    assert.equal(typeof ended.session_id, 'string');
    assert.equal(typeof ended.org_seq, 'number');

    // the ticket got before the logout, used after it: closed as it
    // opens, and what comes next never reaches it
    const late = await openWs(wsUrl(cluster, early.json));
    const hello = patWs.frames.find((f) => f.type === 'hello');
    late.send({ type: 'resume', epoch: hello.epoch,
                org_seq: positionOf(early.json) });
    await deliverInbound(cluster, { from: '+15551230307',
                                    body: 'after the logout' });
    await closedAsEnded(late, 'the ticket got before the logout');
    for (const [ws, what] of [[mine, 'the tab'], [copy, 'the copy'],
                              [late, 'the late ticket']]) {
        assert.ok(!ws.frames.some((f) => f.type === 'message.created'),
                  `${what}: ${JSON.stringify(ws.frames)}`);
    }
    const again = await ticketFor(cluster, amy.cookie);
    assert.equal(again.status, 401, again.text);

    // Amy's other session and the team are still live
    await otherWs.waitForTypes(['message.created']);
    await patWs.waitForTypes(['message.created']);
    assert.equal(otherWs.closed, false);
    assert.equal(patWs.closed, false);
    assert.equal((await ticketFor(cluster, elsewhere)).status, 200);
    otherWs.close();
    patWs.close();
    late.close();
});

test('adding a user and changing a role are pushed to the team; the '
    + 'sockets stay', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT.email, PAT.password);
    const kim = await teammate(cluster, 'kim');
    const patWs = await socketOf(cluster, pat);
    const kimWs = await socketOf(cluster, kim.cookie);

    const added = await sessionApi(cluster, '/api/v1/users', pat,
        { method: 'POST', body: { email: 'ray@harbor.example',
                                  role: 'member',
                                  password: 'ray password 3' } });
    assert.equal(added.status, 201, added.text);
    await heard(kimWs, 'user.updated', added.json.id);

    const changed = await sessionApi(cluster, `/api/v1/users/${kim.id}`, pat,
        { method: 'PATCH', body: { role: 'billing' } });
    assert.equal(changed.status, 200, changed.text);
    await heard(kimWs, 'user.updated', kim.id);
    await heard(patWs, 'user.updated', kim.id);
    assert.equal(kimWs.closed, false);
    assert.equal(patWs.closed, false);
    patWs.close();
    kimWs.close();
});

test('a removal by inboxctl, which pushes nothing, reaches ws-server from '
    + 'the store', async () => {
    const cluster = await ready();
    const max = await teammate(cluster, 'max');
    const maxWs = await socketOf(cluster, max.cookie);

    await inboxctl(cluster.store, 'user', 'remove', cluster.orgs[0].id,
                   max.email);

    // ws-server looks at the store's streams every 2 s
    await eventually(() => maxWs.closed, 10000, 'max\'s socket closed');
    assert.equal(maxWs.closeCode, ENDED);
    const again = await ticketFor(cluster, max.cookie);
    assert.equal(again.status, 401, again.text);
});

test('revoking an API token closes the sockets it opened, and a ticket it '
    + 'got before opens nothing; another token\'s stay', async () => {
    const cluster = await ready();
    const org = cluster.orgs[0].id;
    const leaked = await inboxctl(cluster.store, 'token', 'create', org);
    const kept = await inboxctl(cluster.store, 'token', 'create', org,
                                '--user', PAT.email);
    const leakedWs = await liveWithToken(cluster, leaked);
    const keptWs = await liveWithToken(cluster, kept);
    const early = await ticket(cluster, leaked);

    // by the token in hand, as an operator with a leaked one does; no
    // push: ws-server finds the revocation in the store
    await inboxctl(cluster.store, 'token', 'revoke', org, leaked);

    await eventually(() => leakedWs.closed, 10000, 'the token\'s socket');
    assert.equal(leakedWs.closeCode, ENDED);
    const late = await openWs(wsUrl(cluster, early));
    await closedAsEnded(late, 'the ticket got before');
    const refused = await api(cluster, '/api/v1/realtime/ticket', leaked,
                              { method: 'POST' });
    assert.equal(refused.status, 401, refused.text);

    // the other token, Pat's, is not Pat's session either: it stays
    await keptWs.waitFor((fs) => fs.some((f) => f.type === 'token.revoked'),
                         5000, 'token.revoked');
    await deliverInbound(cluster, { from: '+15551230303', body: 'token?' });
    await keptWs.waitForTypes(['message.created']);
    assert.equal(keptWs.closed, false);
    keptWs.close();
    late.close();
});

test('a socket closes when the API token it was opened with expires; '
    + 'a token without an end keeps its own', async () => {
    const cluster = await ready();
    const org = cluster.orgs[0].id;
    // each token's socket opened as soon as it is made; the token ends
    // its lifetime after a moment between made and madeBy
    const live = async (...args) => {
        const made = Date.now();
        const token = await inboxctl(cluster.store, 'token', 'create', org,
                                     ...args);
        const madeBy = Date.now();
        return { token, made, madeBy,
                 ws: await liveWithToken(cluster, token) };
    };
    const brief = await live('--expires-in', '3s');
    const later = await live('--expires-in', '5s');
    const lastingWs = (await live()).ws;

    // each at its end: not before, and not at some later sweep
    await eventually(() => brief.ws.closed,
                     brief.madeBy + 5000 - Date.now(),
                     'the expired token\'s socket, by 2 s after its end');
    assert.equal(brief.ws.closeCode, ENDED);
    assert.ok(Date.now() >= brief.made + 3000,
              `${Date.now() - brief.made} ms`);
    assert.equal(later.ws.closed, false);
    await eventually(() => later.ws.closed,
                     later.madeBy + 7000 - Date.now(),
                     'the next token\'s socket, by 2 s after its end');
    assert.equal(later.ws.closeCode, ENDED);
    assert.ok(Date.now() >= later.made + 5000,
              `${Date.now() - later.made} ms`);
    const refused = await api(cluster, '/api/v1/realtime/ticket',
                              brief.token, { method: 'POST' });
    assert.equal(refused.status, 401, refused.text);

    await deliverInbound(cluster, { from: '+15551230304', body: 'lasting?' });
    await lastingWs.waitForTypes(['message.created']);
    assert.equal(lastingWs.closed, false);
    lastingWs.close();
});

test('a socket still closing (its browser does not answer the close) '
    + 'does not hold up another\'s end', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT.email, PAT.password);
    const joy = await teammate(cluster, 'joy');
    const joyWs = await socketOf(cluster, joy.cookie);
    // Joy's browser stops reading: ws-server's close frame goes
    // unanswered, so her connection stays for the close's grace
    joyWs.ws._socket.pause();
    const res = await sessionApi(cluster, `/api/v1/users/${joy.id}`, pat,
                                 { method: 'DELETE' });
    assert.equal(res.status, 204, res.text);

    const brief = await inboxctl(cluster.store, 'token', 'create',
        cluster.orgs[0].id, '--expires-in', '2s');
    const madeBy = Date.now();
    const briefWs = await liveWithToken(cluster, brief);
    await eventually(() => briefWs.closed, madeBy + 4000 - Date.now(),
                     'the expired token\'s socket, by 2 s after its end');
    assert.equal(briefWs.closeCode, ENDED);
    assert.equal(joyWs.closed, false, 'Joy\'s close was still unanswered');

    // and ws-server still serves everyone else
    const patWs = await socketOf(cluster, pat);
    await deliverInbound(cluster, { from: '+15551230306', body: 'there?' });
    await patWs.waitForTypes(['message.created']);
    joyWs.ws._socket.resume();
    await closedAsEnded(joyWs, 'Joy\'s socket, once read');
    patWs.close();
});

test('a session that lapses closes its sockets, and its ticket got before '
    + 'opens nothing; other sessions stay', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT.email, PAT.password);
    const ida = await teammate(cluster, 'ida');
    const patWs = await socketOf(cluster, pat);
    // Ida's session was last used now and ends in 4 s (as one idle for
    // 12 hours, or 7 days old, would): time for her socket and a ticket
    // before, on a loaded machine too
    const now = Date.now();
    await promisify(execFile)(sqlite3Path, ['-cmd', '.timeout 5000',
        cluster.storePath, `UPDATE sessions SET last_seen_at = ${now}, `
        + `expires_at = ${now + 4000} WHERE user_id = '${ida.id}'`]);

    const idaWs = await socketOf(cluster, ida.cookie);
    const early = await ticketFor(cluster, ida.cookie);
    assert.equal(early.status, 200, early.text);

    await closedAsEnded(idaWs, 'the lapsed session\'s socket');
    assert.ok(Date.now() >= now + 4000, `${Date.now() - now} ms`);
    assert.ok(Date.now() <= now + 6000, `${Date.now() - now} ms: at its `
        + 'end, not at a later sweep');
    // closed as it opens: what it says never reaches the team
    const late = await openWs(wsUrl(cluster, early.json));
    const hello = patWs.frames.find((f) => f.type === 'hello');
    late.send({ type: 'resume', epoch: hello.epoch, org_seq: hello.org_seq });
    late.send({ type: 'presence', conversation_id: 'c1', state: 'viewing' });
    await closedAsEnded(late, 'the ticket got before the lapse');
    const again = await ticketFor(cluster, ida.cookie);
    assert.equal(again.status, 401, again.text);
    assert.match(again.json.error.message, /session has ended/);

    await deliverInbound(cluster, { from: '+15551230305', body: 'pat?' });
    await patWs.waitForTypes(['message.created']);
    assert.equal(patWs.closed, false);
    assert.ok(!patWs.frames.some((f) => f.type === 'presence'),
        JSON.stringify(patWs.frames));
    patWs.close();
    late.close();
});

test('after ws-server restarts, a ticket got before a removal opens '
    + 'nothing and replays nothing', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT.email, PAT.password);
    const uma = await teammate(cluster, 'uma');
    const vic = await teammate(cluster, 'vic');
    const umaEarly = (await ticketFor(cluster, uma.cookie)).json;
    const vicEarly = (await ticketFor(cluster, vic.cookie)).json;
    for (const who of [uma, vic]) {
        const res = await sessionApi(cluster, `/api/v1/users/${who.id}`, pat,
                                     { method: 'DELETE' });
        assert.equal(res.status, 204, res.text);
    }
    // what came after the removals, and neither may see
    await deliverInbound(cluster, { from: '+15551230306', body: 'secret' });
    const noLeak = (ws, what) => assert.ok(
        !ws.frames.some((f) => f.type === 'message.created'),
        `${what}: ${JSON.stringify(ws.frames)}`);

    // A ticket issued in an earlier second than the new process started
    // is refused at the upgrade (c233996); one of the same second opens,
    // and what follows must close it.  Either way nothing is seen.
    const openUnlessRefused = async (url, what) => {
        try {
            return await openWs(url);
        } catch (err) {
            assert.match(err.message, /upgrade refused: 403/, what);
            return null;
        }
    };

    // The new process watches the stream from the first socket's ticket
    // on, Pat's, which is past the removals: Uma's, issued before, is
    // closed as it opens, whatever it asks to resume from.
    await cluster.stopWs(0);
    await cluster.startWs(0);
    const patWs = await socketOf(cluster, pat);
    const umaWs = await openUnlessRefused(wsUrl(cluster, umaEarly), 'Uma');
    if (umaWs) {
        umaWs.send({ type: 'resume', epoch: patWs.frames[0].epoch,
                     org_seq: positionOf(umaEarly) });
        await closedAsEnded(umaWs, 'Uma\'s ticket after the restart');
        noLeak(umaWs, 'Uma');
    }
    patWs.close();

    // Vic's is the first socket of the next process: the stream, from his
    // ticket's position on, brings his removal before what came after
    await cluster.stopWs(0);
    await cluster.startWs(0);
    const vicWs = await openUnlessRefused(wsUrl(cluster, vicEarly), 'Vic');
    if (vicWs) {
        const hello = (await vicWs.waitForTypes(['hello']))[0];
        vicWs.send({ type: 'resume', epoch: hello.epoch,
                     org_seq: positionOf(vicEarly) });
        await eventually(() => vicWs.closed, 8000, 'Vic\'s socket');
        assert.equal(vicWs.closeCode, ENDED);
        noLeak(vicWs, 'Vic');
    }
});

// The removal's datagram is shed (ws-server stopped, its queue full)
// while nobody of the organization is connected: ws-server skips the gap
// unread, and cannot know what was in it.
test('a removal in a gap nobody was connected to read still refuses the '
    + 'tickets got before it', async () => {
    const cluster = await ready();
    const pat = await signIn(cluster, PAT.email, PAT.password);
    const wes = await teammate(cluster, 'wes');
    await deliverInbound(cluster, { from: '+15551230401', body: 'known' });
    const early = (await ticketFor(cluster, wes.cookie)).json;

    process.kill(cluster.ws.pid, 'SIGSTOP');
    try {
        for (let i = 0; i < 30; i++) {
            await deliverInbound(cluster, { from: '+15551230402',
                                            body: `while stopped ${i}` });
        }
        const res = await sessionApi(cluster, `/api/v1/users/${wes.id}`, pat,
                                     { method: 'DELETE' });
        assert.equal(res.status, 204, res.text);
    } finally {
        process.kill(cluster.ws.pid, 'SIGCONT');
    }
    // ws-server reads its datagrams in order: once another organization's
    // later one has come through, it has read what was queued for it (on
    // a busy machine it is still catching up after SIGCONT for a while)
    const zed = await socketOf(cluster,
                               await signIn(cluster, 'zed@other.example',
                                            'zed password 9'));
    const barrier = async (body) => {
        await deliverInbound(cluster, { org: cluster.orgs[1],
                                        from: '+15551230405', body });
        await zed.waitFor((fs) => fs.some((f) => f.type === 'message.created'
            && f.message.body === body), 10000, body);
    };
    await barrier('caught up');
    // so this one is not shed behind the backlog: its datagram shows the
    // gap, and with nobody to give them to, the events are skipped
    await deliverInbound(cluster, { from: '+15551230403', body: 'after' });
    await barrier('read the gap');
    zed.close();
    // and its reorder window passes
    await new Promise((ok) => setTimeout(ok, 300));

    const ws = await openWs(wsUrl(cluster, early));
    if (ws.frames[0]?.type === 'hello') {
        ws.send({ type: 'resume', epoch: ws.frames[0].epoch,
                  org_seq: positionOf(early) });
    }
    await deliverInbound(cluster, { from: '+15551230404',
                                    body: 'for the team only' });
    await closedAsEnded(ws, 'Wes\'s ticket got before his removal');
    assert.ok(!ws.frames.some((f) => f.type === 'message.created'),
              JSON.stringify(ws.frames));
    assert.equal((await ticketFor(cluster, wes.cookie)).status, 401);
});

errorLogIsCleanTest(ctx);
