// The sender stopped at a chosen point of its loop, a turn at a time, by
// tests/shim/poll_stops.c (preloaded): as it is about to wait (the end of
// a turn) once the file `before` names exists, or as its wait returns
// once the file `after` names exists; each file is removed as it stops
// (SIGSTOP) the sender, which SIGCONT lets go on.  Its verbose log then
// says what each turn did.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { buildDir, sleep } from './cluster.mjs';
import { api, eventually } from './inbox.mjs';

// The stop files of this test process, and the sender's wrapper that
// preloads the shim with them (useCluster's senderWrap); the files are
// removed after the tests, left by one that failed before the sender
// stopped on them.
export function senderStops() {
    const before = join(tmpdir(), `inbox-sender-stop-before-${process.pid}`);
    const afterWait = join(tmpdir(), `inbox-sender-stop-after-${process.pid}`);
    after(() => {
        rmSync(before, { force: true });
        rmSync(afterWait, { force: true });
    });
    return {
        before, after: afterWait,
        wrap: ['env',
            `LD_PRELOAD=${join(buildDir, 'tests', 'shim', 'poll_stops.so')}`,
            `INBOX_TEST_STOP_BEFORE_FILE=${before}`,
            `INBOX_TEST_STOP_FILE=${afterWait}`],
    };
}

// Whether the process pid is stopped.
export function frozen(pid) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T';
}

// In a sender's log: the campaign messages it claimed, those it started,
// and those claimed and not started.
export const claimedIn = (log) => [...log.matchAll(
    /claimed message (\S+) \(bulk\)/g)].map((m) => m[1]);
export const startedIn = (log) => new Set([...log.matchAll(
    /sending message (\S+) \(attempt \d+, bulk\)/g)].map((m) => m[1]));
export const heldIn = (log) => claimedIn(log).filter(
    (id) => !startedIn(log).has(id));

// Two segments (GSM-7, 161 to 306 characters) once a word is put before
// it: a campaign message of it takes 2 of a number's tokens.
export const LONG = ' '.padEnd(170, 'and more news about the sale, ');

// What the tests of a sender stopped with a campaign message in its hands
// share: ctx is useSendingCluster's, stops senderStops()'s, turnMs the
// time of one of the number's tokens (its --rate), org() the organization
// whose campaigns are sent.
export function inHand(ctx, stops, turnMs = 1000, org = () => ctx.org) {
    const senderPid = () => ctx.cluster.sender.pid;
    const isFrozen = () => frozen(senderPid());

    // The answer's JSON to org()'s request, which must be status.
    async function ok(path, options = {}, status = 200) {
        const res = await api(ctx.cluster, path, org().token, options);
        assert.equal(res.status, status, res.text);
        return res.json;
    }

    // Stops the sender where the file stop names (one of the stop files),
    // with goOn letting it go on until then, and waits until it stopped.
    async function stopAt(stop, goOn = false) {
        writeFileSync(stop, '');
        if (goOn) {
            process.kill(senderPid(), 'SIGCONT');
        }
        await eventually(async () => isFrozen(), 10000, 'the sender stopped');
    }

    // Once made (a campaign or a poll of kind) went out in part, pauses
    // it and resumes it (the number's bucket full again), and stops the
    // sender with the message the resume's wake-up turn claimed and did
    // not start: at the end of that turn (stops.before: what comes next
    // is read in the turn that would start it), or as the wait after it
    // returns (stops.after: unread in that turn).  Stopped before the
    // resume, the sender reads the resume's wake-up in its first wait
    // after it, so the claim is that wake-up's turn's.  Resolves with the
    // message and the log's length; the sender is left stopped.
    async function holding(kind, made, stop = stops.before) {
        await ok(`/api/v1/${kind}/${made.id}/pause`, { method: 'POST' });
        await sleep(4 * turnMs);

        await stopAt(stops.before);
        const from = ctx.cluster.senderLog().length;
        await ok(`/api/v1/${kind}/${made.id}/resume`, { method: 'POST' });

        /* the resume's wake-up read, its turn's claim waits for the look */
        await stopAt(stops.before, true);
        if (stop === stops.after) {
            await stopAt(stops.after, true);
        }
        const log = ctx.cluster.senderLog();
        const held = heldIn(log.slice(from));
        assert.equal(held.length, 1, 'one message held after the resume');
        return { message: held[0], seen: log.length };
    }

    // A test's body; when it fails, the sender's last lines are shown,
    // and the next test starts with the sender going once cleanup (what
    // else the file undoes) ran.
    function withSenderLog(body, cleanup = async () => {}) {
        return async (t) => {
            try {
                await body(t);
            } catch (err) {
                t.diagnostic(ctx.cluster.senderLog().split('\n').slice(-80)
                    .join('\n'));
                rmSync(stops.before, { force: true });
                rmSync(stops.after, { force: true });
                if (ctx.cluster.sender && isFrozen()) {
                    process.kill(senderPid(), 'SIGCONT');
                }
                await cleanup();
                throw err;
            }
        };
    }

    return { ok, senderPid, frozen: isFrozen, stopAt, holding,
             withSenderLog };
}
