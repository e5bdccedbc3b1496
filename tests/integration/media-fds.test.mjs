// The sender out of file descriptors while an inbound MMS waits for its
// copy: the copy never leaves the sender, so it is the sender's own
// shortage, not the carrier's.  It is given back with its attempt taken
// back (counted as a failure, a shortage of a few minutes spent the
// image's tries and gave it up, the carrier never asked), and is made
// once descriptors free up, as its first attempt.  The shortage is made
// by lowering the running sender's soft RLIMIT_NOFILE to the descriptors
// it holds (prlimit --pid), and raising it again.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { eventually } from '../lib/inbox.mjs';

const execFileAsync = promisify(execFile);
const ctx = useCluster({ orgs: [{ name: 'Media Fds Org' }],
                         carrierSim: true, sender: true });
let sim;

before(async () => {
    sim = (await ctx.ready).sim;
});

// The lowest descriptor number the process does not hold.
function lowestFree(pid) {
    const held = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
    let fd = 0;
    while (held.has(fd)) {
        fd++;
    }
    return fd;
}

async function softLimit(pid, soft) {
    await execFileAsync('prlimit', ['--pid', String(pid),
                                    `--nofile=${soft}:`]);
}

async function currentSoftLimit(pid) {
    const { stdout } = await execFileAsync('prlimit', ['--pid', String(pid),
        '--nofile', '--noheadings', '--output=SOFT']);
    return stdout.trim();
}

// The copy of from's image: { attempts, state }.
async function copyOf(from) {
    const { stdout } = await execFileAsync(sqlite3Path, ['-cmd',
        '.timeout 5000', ctx.cluster.storePath,
        'SELECT mm.attempts, mm.state FROM message_media mm'
        + ' JOIN messages m ON m.id = mm.message_id'
        + ' JOIN conversations v ON v.id = m.conversation_id'
        + ' JOIN contacts c ON c.id = v.contact_id'
        + ` WHERE c.phone = '${from}'`]);
    const [attempts, state] = stdout.trim().split('|');
    return { attempts: Number(attempts), state };
}

const logLines = (re) => ctx.cluster.senderLog().split('\n').filter(
    (line) => re.test(line));

test('an image the sender could not fetch for want of a file descriptor '
     + 'keeps its tries, and is copied once descriptors free up',
     { timeout: 60000 }, async () => {
    const pid = ctx.cluster.sender.pid;
    const limit = await currentSoftLimit(pid);

    // no descriptor left for a connection (nor for curl's resolver)
    let full;
    for (let i = 0; i < 10 && full === undefined; i++) {
        const free = lowestFree(pid);
        await softLimit(pid, free);
        if (lowestFree(pid) === free) {
            full = free;
        }
    }
    assert.notEqual(full, undefined, 'the sender\'s descriptors settled');

    const from = uniqueNumber();
    try {
        const { webhook } = await sim.inbound({ from, body: 'look',
                                                media: ['sunset.jpg'] });
        assert.equal(webhook.state, 'delivered');

        // tried, and given back, a few times over
        const givenBack = /media 0 of message \d+ given back uncopied/;
        await eventually(async () => logLines(givenBack).length >= 3
            || logLines(/media 0 of message \d+: /).length > 0,
            15000, 'the copy tried three times');
        assert.deepEqual(logLines(/media 0 of message \d+: /), [],
                         'the shortage taken as the copy\'s failure');
        assert.deepEqual(await copyOf(from),
                         { attempts: 0, state: 'pending' });
        assert.equal(logLines(/sender: no file descriptor free \(/).length,
                     1);
        assert.deepEqual(await sim.requests({ kind: 'media' }), [],
                         'the carrier asked');
    } finally {
        await softLimit(pid, limit);
    }

    // copied, as its first attempt, with one request to the carrier
    await eventually(async () => (await copyOf(from)).state !== 'pending',
                     15000, 'the copy made');
    assert.deepEqual(await copyOf(from), { attempts: 1, state: 'stored' });
    assert.equal((await sim.requests({ kind: 'media' })).length, 1);

    // the end of the shortage told, the copies given back counted
    await eventually(async () => logLines(
        /file descriptors free again: \d+ requests/).length === 1,
        20000, 'the shortage over');
});

errorLogIsCleanTest(ctx);
