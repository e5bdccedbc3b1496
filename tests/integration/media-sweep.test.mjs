// nginx sweeps the media directory's orphans by itself, every
// inbox_media_sweep_interval (here 1 s; 6 h by default), the files a crash
// leaves that no record names (an upload's written before its record, a
// copy's before it was recorded), which before only an operator's
// inboxctl media sweep removed: an old orphan goes, and the error log's
// notice says how many went; an upload's, an inbound copy's and a
// campaign image's files stay, as do a younger orphan (maybe about to be
// recorded) and any file of a name the inbox never makes. An orphan
// whose unlink fails (tests/shim/unlink_fails.c: EIO for the name the
// test writes) stays, and the error log names it with why. One worker
// of the two sweeps.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { buildDir } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { eventually } from '../lib/inbox.mjs';
import { png } from '../lib/media.mjs';
import { DAY, agedMedia, recordedMediaFiles } from '../lib/media-files.mjs';

const failFile = (cluster) => join(cluster.dir, 'unlink-fails');
const ctx = useCluster({
    orgs: [{ name: 'Swept Org' }], carrierSim: true, sender: true,
    http: ['inbox_media_sweep_interval 1s;'],
    nginxEnv: (cluster) => ({
        LD_PRELOAD: join(buildDir, 'tests', 'shim', 'unlink_fails.so'),
        INBOX_TEST_UNLINK_FAIL: failFile(cluster),
    }),
});
let sim;

before(async () => {
    sim = (await ctx.ready).sim;
});

// A file of the media directory, written (unless there) and aged.
const aged = (name, seconds, bytes) =>
    agedMedia(ctx.cluster, name, seconds, bytes);

const has = (name) => existsSync(join(ctx.cluster.mediaDir, name));

// The error log's lines of the media sweep.
const sweepLines = () => ctx.cluster.errorLog().split('\n')
    .filter((line) => /inbox: the media sweep/.test(line));

test('nginx sweeps the old orphans by itself, and logs what it removed '
    + 'and what it could not', { timeout: 90000 }, async () => {
    const org = ctx.cluster.orgs[0];

    // an upload nothing used yet; a campaign's image; an inbound copy,
    // every one two days old, as old as the orphans
    const { upload, campaign, copy } =
        await recordedMediaFiles(ctx.cluster, sim, org.token);
    const oldOrphan = `${'O'.repeat(43)}.png`;
    const stuckOrphan = `${'S'.repeat(43)}.png`;
    const youngOrphan = `${'Y'.repeat(43)}.jpg`;
    writeFileSync(failFile(ctx.cluster), stuckOrphan);
    aged(youngOrphan, 60, png());
    aged('notes.txt', 2 * DAY, 'an operator\'s');
    aged(stuckOrphan, 2 * DAY, png());
    aged(oldOrphan, 2 * DAY, png());

    await eventually(async () => !has(oldOrphan), 30000,
                     'the sweep removes the old orphan');
    const removed = new RegExp('\\[notice\\] .*inbox: the media sweep '
        + 'removed 1 files no record names, of [0-9]+ older than 86400 s');
    await eventually(async () => sweepLines().some((l) => removed.test(l)),
                     10000, 'the sweep\'s notice');
    const failed = new RegExp(`\\[error\\] .*the media sweep could not `
        + `remove ".*/media/${stuckOrphan}".*Input/output error`);
    await eventually(async () => sweepLines().some((l) => failed.test(l)),
                     10000, 'the sweep\'s error naming the stuck orphan');

    for (const name of [upload, campaign, copy, youngOrphan, stuckOrphan,
                        'notes.txt']) {
        assert.ok(has(name), name);
    }
    const res = await fetch(ctx.cluster.url(`/media/${campaign}`));
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.ok(readFileSync(`${failFile(ctx.cluster)}.tries`, 'utf8')
        .length > 0);

    // one worker sweeps: every sweep line is one process's
    const pids = new Set(sweepLines()
        .map((line) => /\[[a-z]+\] ([0-9]+)#/.exec(line)[1]));
    assert.equal(pids.size, 1, sweepLines().join('\n'));
});

errorLogIsCleanTest(ctx);
