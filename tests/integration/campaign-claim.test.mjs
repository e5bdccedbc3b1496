// What the sender claims of a campaign, and when, seen turn by turn of
// its loop: the sender is stopped at the end of a turn, before it waits
// (or as its wait returns), by tests/shim/poll_stops.c (preloaded), and
// its verbose log then says what that turn did.
//
// A campaign's first messages are claimed in the turn that hands them
// to the outbox, as the person pressing Send expects them to leave at
// once: not at the next turn, which came 300 ms to a second later.
//
// A claim takes only what its number can start at once, counting each
// message's segments: a two-segment campaign message was claimed as soon
// as its number had one token above the half of its burst kept for
// replies, and started a token later, so a sender killed meanwhile left
// it claimed, reported "unknown" (perhaps sent) though it never left.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { numberBlock, sqlite3Path } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useSendingCluster } from '../lib/fixture.mjs';
import { eventually, importTagged } from '../lib/inbox.mjs';
import { LONG, heldIn, inHand, senderStops, startedIn }
    from '../lib/sender-stops.mjs';

const stops = senderStops();
const STOP_BEFORE = stops.before;
const STOP_AFTER = stops.after;

// a token a second, four at once: half of them kept for replies; a
// claim's lease of 8 s, so that what a killed sender left claimed comes
// back within the test
const ctx = useSendingCluster({
    orgs: [{ name: 'Claim Org' }], credits: 1000, quietAway: true,
    senderArgs: ['--rate', '1', '--burst', '4', '--lease', '8000',
                 '--timeout', '2000'],
    senderWrap: stops.wrap,
});
const { ok, senderPid, frozen, withSenderLog } = inHand(ctx, stops);

const numbers = numberBlock('1659');

// A campaign of text to phones, made (not sent).
async function campaignTo(phones, text) {
    const tag = `claim-${phones[0].slice(-6)}`;
    await importTagged(ctx.cluster, ctx.org.token, phones, tag);
    return ok('/api/v1/campaigns', { method: 'POST',
        body: { name: `To ${tag}`, body: text, audience: { tags: [tag] } } },
              201);
}

// Stops the sender where the file stop says, does act, and lets it go
// on a turn at a time until its log from seen on makes ends(log) true;
// resolves with that log, the sender left stopped.
async function stopAt(stop, seen, ends, act = async () => {}) {
    writeFileSync(stop, '');
    await act();
    for (let turns = 0; ; turns++) {
        await eventually(async () => frozen(), 10000, 'the sender stopped');
        const log = ctx.cluster.senderLog().slice(seen);
        if (ends(log)) {
            return log;
        }
        assert.ok(turns < 200, 'no such turn in 200');
        writeFileSync(stop, '');
        process.kill(senderPid(), 'SIGCONT');
    }
}

// In a sender's log: the messages it has the carrier's answer to.
const answeredIn = (log) => [...log.matchAll(/message (\S+): \w+ \(HTTP/g)]
    .map((m) => m[1]);

// The messages of campaign id whose outbox entries are claimed (leased):
// a sender that dies leaves them to be reported unknown.
function leased(id) {
    return execFileSync(sqlite3Path, ['-cmd', '.timeout 5000',
        ctx.cluster.storePath, 'SELECT o.message_id FROM outbox o JOIN '
        + 'messages m ON m.id = o.message_id WHERE o.lease_until IS NOT '
        + `NULL AND m.campaign_id = ${Number(id)}`]).toString().split('\n')
        .filter((x) => x !== '');
}

// Goes on after stopAt, its stop file gone.
function goOn(stop) {
    rmSync(stop, { force: true });
    process.kill(senderPid(), 'SIGCONT');
}

test('a campaign\'s first messages are claimed and sent in the turn that '
     + 'hands them to the outbox', { timeout: 90000 },
withSenderLog(async () => {
    const phones = numbers(3);
    const c = await campaignTo(phones, 'First at once');
    const seen = ctx.cluster.senderLog().length;

    // stopped as it is about to wait, turn after turn, until the turn
    // that handed the campaign's messages to the outbox
    const handover = /campaigns: [1-9]\d* handed to the outbox/;
    const log = await stopAt(STOP_BEFORE, seen, (l) => handover.test(l),
        () => ok(`/api/v1/campaigns/${c.id}/send`, { method: 'POST' }));

    const turn = log.slice(log.search(handover));
    const claimed = turn.match(/claimed message (\S+) \(bulk\)/);
    assert.ok(claimed, 'its first message claimed in the same turn');
    assert.match(turn, new RegExp(`sending message ${claimed[1]} `),
                 'and sent');
    goOn(STOP_BEFORE);

    await eventually(async () => {
        const now = await ok(`/api/v1/campaigns/${c.id}`);
        return now.counts.delivered === phones.length ? now : null;
    }, 30000, 'every recipient delivered');
}));

test('a sender killed while a two-segment campaign sends slowly leaves '
     + 'none of its messages claimed that it had not started: none is '
     + 'reported unknown that never left', { timeout: 120000 },
withSenderLog(async () => {
    const phones = numbers(4);
    const c = await campaignTo(phones, `Long${LONG}`);
    assert.equal(c.segments, 2);
    const seen = ctx.cluster.senderLog().length;
    await ok(`/api/v1/campaigns/${c.id}/send`, { method: 'POST' });
    await eventually(async () => startedIn(ctx.cluster.senderLog()
        .slice(seen)).size > 0, 10000, 'the first message sent');

    // stopped as each wait returns, until it holds a message it claimed
    // and has not started, or the second message's answer is recorded
    // and nothing is in flight
    const log = await stopAt(STOP_AFTER, seen,
        (l) => heldIn(l).length > 0
               || (answeredIn(l).length >= 2 && leased(c.id).length === 0));
    await ctx.cluster.stopSender('SIGKILL');

    const started = startedIn(log);
    const left = leased(c.id);
    for (const message of left) {
        assert.ok(started.has(message), `message ${message} left claimed `
                  + 'by the kill though it was never sent');
    }

    // after the restart: what the kill left claimed is failed, unknown
    // (none here), the others delivered
    await ctx.cluster.startSender();
    const end = await eventually(async () => {
        const now = await ok(`/api/v1/campaigns/${c.id}`);
        return now.counts.delivered + now.counts.failed === phones.length
            ? now : null;
    }, 60000, 'every recipient delivered or failed');
    assert.equal(end.counts.failed, left.length);
}));

errorLogIsCleanTest(ctx);
