// Once a pause or a cancel of a campaign or a poll was answered, nothing
// the sender held of it starts: not a message it had claimed that was
// waiting for its number's turn when the turn comes together with the
// wake-up nginx sent after the pause (in the same turn of the sender's
// loop, its outbox used to start the message before its campaigns job
// saw the pause), nor when the wake-up is still unread as the turn comes.
//
// The sender is frozen (SIGSTOP) while it holds such a message, which
// it always does for a moment before each of a two-segment campaign's
// messages: with a burst of 4 a campaign's claim takes a message as soon
// as the number has 3 tokens (it leaves half the burst to replies) and
// starts it at 4 (its two segments and that half), a token a second
// later.  Frozen, the pause is answered and the message's turn comes;
// then it goes on.  The second test freezes it as its wait for sockets
// returns (tests/shim/poll_stops.c, preloaded), so that the wake-up is
// not read yet when it goes on.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildDir, inboxctl, numberBlock, sleep } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, eventually, importTagged, quietHoursAway }
    from '../lib/inbox.mjs';

// a token a second: a claimed message waits for its turn a second at most
const TURN_MS = 1000;
const STOP_FILE = join(tmpdir(), `inbox-sender-stop-${process.pid}`);

const ctx = useCluster({
    orgs: [{ name: 'Held Org' }], carrierSim: true, sender: true,
    senderArgs: ['--rate', String(1000 / TURN_MS), '--burst', '4'],
    senderWrap: ['env',
        `LD_PRELOAD=${join(buildDir, 'tests', 'shim', 'poll_stops.so')}`,
        `INBOX_TEST_STOP_FILE=${STOP_FILE}`],
});
let org;

// left by a test that failed before the sender stopped on it
after(() => rmSync(STOP_FILE, { force: true }));

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '1000');
    await inboxctl(cluster.store, 'settings', 'set', org.id, '--timezone',
                   'UTC', '--quiet-hours', quietHoursAway());
});

const numbers = numberBlock('1657');

// two segments (GSM-7, 161 to 306 characters)
const LONG = ' '.padEnd(170, 'and more news about the sale, ');

async function ok(path, options = {}, status = 200) {
    const res = await api(ctx.cluster, path, org.token, options);
    assert.equal(res.status, status, res.text);
    return res.json;
}

// A campaign or a poll (kind) to phones, sent; its two segments checked.
async function sendTo(kind, phones, text) {
    const tag = `held-${kind}`;
    await importTagged(ctx.cluster, org.token, phones, tag);
    const body = kind === 'polls'
        ? { question: text, options: ['Yes', 'No'] }
        : { name: `To ${tag}`, body: text };
    const made = await ok(`/api/v1/${kind}`, { method: 'POST',
        body: { ...body, audience: { tags: [tag] } } }, 201);
    assert.equal(made.segments, 2);
    await ok(`/api/v1/${kind}/${made.id}/send`, { method: 'POST' });
    return made;
}

const senderPid = () => ctx.cluster.sender.pid;

function frozen() {
    const stat = readFileSync(`/proc/${senderPid()}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T';
}

// Messages the sender claimed of a campaign and has not started.
function held(log) {
    const claimed = [...log.matchAll(/claimed message (\S+) \(bulk\)/g)]
        .map((m) => m[1]);
    return claimed.filter((id) => !log.includes(`sending message ${id} `));
}

// Freezes the sender (freeze(): SIGSTOP, or a stop file for the shim)
// while it holds a message claimed and not started, and lets the
// message's turn come; resolves with the message and the log's length.
async function frozenHolding(freeze) {
    for (;;) {
        await eventually(async () => held(ctx.cluster.senderLog()).length
                         > 0, 20000, 'a message claimed, waiting its turn');
        freeze();
        await eventually(async () => frozen(), 5000, 'the sender frozen');
        const log = ctx.cluster.senderLog();
        const [message] = held(log);
        if (message) {
            await sleep(TURN_MS + 500);
            return { message, seen: log.length };
        }
        /* it started just before: the next one */
        process.kill(senderPid(), 'SIGCONT');
    }
}

// The move (answered while the sender is frozen), then the sender goes
// on, also when the move failed.
async function goOn(move) {
    try {
        return await move();
    } finally {
        process.kill(senderPid(), 'SIGCONT');
    }
}

// After SIGCONT: the sender's own word on message, given back (not sent)
// or started.
async function fateOf(message, seen, words) {
    const after = await eventually(async () => {
        const log = ctx.cluster.senderLog().slice(seen);
        return words.test(log) || log.includes(`sending message ${message} `)
            ? log : null;
    }, 10000, 'the held message given back or sent');
    assert.doesNotMatch(after, /sending message/,
                        'a message started after the move was answered');
    assert.match(after, words);
}

// A test's body; when it fails, the sender's last lines are shown.
function withSenderLog(body) {
    return async (t) => {
        try {
            await body();
        } catch (err) {
            t.diagnostic(ctx.cluster.senderLog().split('\n').slice(-80)
                .join('\n'));
            throw err;
        }
    };
}

test('a campaign paused while the sender holds one of its messages: the '
     + 'message does not start when its turn comes with the wake-up, and '
     + 'goes once after the resume', { timeout: 90000 },
withSenderLog(async () => {
    const phones = numbers(6);
    const text = `Paused${LONG}`;
    const c = await sendTo('campaigns', phones, text);

    const { message, seen } = await frozenHolding(
        () => process.kill(senderPid(), 'SIGSTOP'));
    const paused = await goOn(() => ok(`/api/v1/campaigns/${c.id}/pause`,
                                       { method: 'POST' }));
    assert.equal(paused.status, 'paused');
    await fateOf(message, seen,
                 new RegExp(`campaign ${c.id} paused: 1 of its messages not `
                            + 'sent'));

    await ok(`/api/v1/campaigns/${c.id}/resume`, { method: 'POST' });
    await eventually(async () => {
        const now = await ok(`/api/v1/campaigns/${c.id}`);
        return now.counts.delivered === phones.length ? now : null;
    }, 40000, 'every recipient delivered after the resume');
    const sends = (await ctx.cluster.sim.requests({ kind: 'send' }))
        .map((r) => Object.fromEntries(r.form ?? []))
        .filter((f) => f.Body?.startsWith('Paused'));
    assert.deepEqual(sends.map((f) => f.To).sort(), [...phones].sort(),
                     'each recipient once');
}));

test('a poll cancelled while the sender holds one of its messages, its '
     + 'wake-up not read yet when the message\'s turn comes: the message '
     + 'is reported cancelled, never sent', { timeout: 90000 },
withSenderLog(async () => {
    const phones = numbers(6);
    const poll = await sendTo('polls', phones, `Cancelled${LONG}?`);

    const { message, seen } = await frozenHolding(
        () => writeFileSync(STOP_FILE, ''));
    const cancelled = await goOn(() => ok(`/api/v1/polls/${poll.id}/cancel`,
                                          { method: 'POST' }));
    assert.equal(cancelled.status, 'cancelled');
    await fateOf(message, seen,
                 new RegExp(`campaign ${poll.id} cancelled: 1 of its `
                            + 'messages not sent'));

    const end = await eventually(async () => {
        const now = await ok(`/api/v1/polls/${poll.id}`);
        return now.counts.queued === 0 ? now : null;
    }, 10000, 'nothing left queued');
    const sent = (await ctx.cluster.sim.requests({ kind: 'send' }))
        .filter((r) => (r.form ?? []).some(([k, v]) => k === 'Body'
                                           && v.startsWith('Cancelled')));
    assert.equal(end.counts.cancelled, phones.length - sent.length);
    assert.ok(end.counts.cancelled >= 1);
}));

errorLogIsCleanTest(ctx);
