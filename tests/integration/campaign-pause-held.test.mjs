// Once a pause or a cancel of a campaign or a poll was answered, nothing
// the sender held of it starts: not a message it had claimed and could
// start when the wake-up nginx sent after the pause is read in the same
// turn of the sender's loop (its outbox used to start the message before
// its campaigns job saw the pause), nor when the wake-up is still unread.
//
// A claim takes only what its number can start at once, so the sender
// holds a campaign message only for a moment: one it claimed in the turn
// of a wake-up waits for its campaigns job to look at what the wake-up
// may have brought, and starts at the next turn, at once.  Here that
// wake-up is a resume's, the number's bucket full again (a token a
// second, 4 at most: a two-segment message starts at 4, half the burst
// left to replies).  The sender is stopped with the message in hand by
// tests/shim/poll_stops.c (preloaded): as it is about to wait, so that
// the pause's wake-up is read in the turn the message would start (the
// first test), or as its wait returns, the wake-up unread (the second).
// It is stopped before the resume too, and let go only once the resume
// was answered, so that the message is claimed in the turn that reads
// the resume's wake-up, whatever the sender's own timing: a claim of its
// own between the resume's commit and that wake-up (its look every few
// seconds) would start the message at once, or hold it for the resume's
// wake-up rather than for the move under test.
// (So the first test's hold is the campaigns job's own: but for it, a
// message waits in hand only when a bulk window that shrank took back
// its place (a claim takes only what the window lets start), which no
// test makes happen at will.  It held a message for its number's turn
// too until a claim counted each message's segments.)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numberBlock } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useSendingCluster } from '../lib/fixture.mjs';
import { eventually, importTagged } from '../lib/inbox.mjs';
import { LONG, inHand, senderStops } from '../lib/sender-stops.mjs';

// a token a second
const TURN_MS = 1000;
const stops = senderStops();
const STOP_BEFORE = stops.before;
const STOP_AFTER = stops.after;

const ctx = useSendingCluster({
    orgs: [{ name: 'Held Org' }], credits: 1000, quietAway: true,
    senderArgs: ['--rate', String(1000 / TURN_MS), '--burst', '4'],
    senderWrap: stops.wrap,
});
const { ok, senderPid, holding, withSenderLog } = inHand(ctx, stops,
                                                          TURN_MS);

const numbers = numberBlock('1657');

// A campaign or a poll (kind) to phones, sent; its two segments checked.
let sent = 0;
async function sendTo(kind, phones, text) {
    const tag = `held-${kind}-${++sent}`;
    await importTagged(ctx.cluster, ctx.org.token, phones, tag);
    const body = kind === 'polls'
        ? { question: text, options: ['Yes', 'No'] }
        : { name: `To ${tag}`, body: text };
    const made = await ok(`/api/v1/${kind}`, { method: 'POST',
        body: { ...body, audience: { tags: [tag] } } }, 201);
    assert.equal(made.segments, 2);
    await ok(`/api/v1/${kind}/${made.id}/send`, { method: 'POST' });
    return made;
}

// Once made went out in part (its first send in the log from seen on),
// the sender stopped holding a message of it (inHand's holding).
async function frozenHolding(kind, made, seen, stop) {
    await eventually(async () => /sending message \S+ \(attempt \d+, bulk\)/
        .test(ctx.cluster.senderLog().slice(seen)), 20000,
                     'a first message sent');
    return holding(kind, made, stop);
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

test('a campaign paused while the sender holds one of its messages: the '
     + 'message does not start in the turn that reads the wake-up, and '
     + 'goes once after the resume', { timeout: 90000 },
withSenderLog(async () => {
    const phones = numbers(6);
    const text = `Paused${LONG}`;
    const start = ctx.cluster.senderLog().length;
    const c = await sendTo('campaigns', phones, text);

    const { message, seen } = await frozenHolding('campaigns', c, start,
                                                  STOP_BEFORE);
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
     + 'wake-up not read yet when the message could start: the message '
     + 'is reported cancelled, never sent', { timeout: 90000 },
withSenderLog(async () => {
    const phones = numbers(6);
    const start = ctx.cluster.senderLog().length;
    const poll = await sendTo('polls', phones, `Cancelled${LONG}?`);

    const { message, seen } = await frozenHolding('polls', poll, start,
                                                  STOP_AFTER);
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

test('a campaign resumed: the message its resume\'s wake-up turn holds for '
     + 'the campaigns job\'s look starts at the next turn, which the '
     + 'sender waits for nothing to begin', { timeout: 90000 },
withSenderLog(async () => {
    const phones = numbers(6);
    const start = ctx.cluster.senderLog().length;
    const c = await sendTo('campaigns', phones, `Resumed${LONG}`);

    const { message, seen } = await frozenHolding('campaigns', c, start,
                                                  STOP_BEFORE);
    const waits = [...ctx.cluster.senderLog().matchAll(
        /poll_stops: stopped before a wait of (\d+) ms/g)];
    assert.equal(waits.at(-1)?.[1], '0',
                 'the turn holding the message waits for the next');

    process.kill(senderPid(), 'SIGCONT');
    const after = await eventually(async () => {
        const log = ctx.cluster.senderLog().slice(seen);
        return /sending message/.test(log) ? log : null;
    }, 10000, 'a message started');
    assert.equal(after.match(/sending message (\S+) /)[1], message,
                 'the held message starts first');
    await ok(`/api/v1/campaigns/${c.id}/cancel`, { method: 'POST' });
}));

errorLogIsCleanTest(ctx);
