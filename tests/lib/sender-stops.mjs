// The sender stopped at a chosen point of its loop, a turn at a time, by
// tests/shim/poll_stops.c (preloaded): as it is about to wait (the end of
// a turn) once the file `before` names exists, or as its wait returns
// once the file `after` names exists; each file is removed as it stops
// (SIGSTOP) the sender, which SIGCONT lets go on.  Its verbose log then
// says what each turn did.

import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { buildDir } from './cluster.mjs';

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
