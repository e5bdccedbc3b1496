// inboxctl media sweep: the files a crash leaves in the media directory
// that no record names (an upload's written before its record, a copy's
// before it was recorded) are removed once older than the grace; an
// upload's, an inbound copy's and a campaign image's stay, as do a
// younger orphan (maybe about to be recorded) and any file of a name the
// inbox never makes.  --dry-run lists what it would remove, removing
// nothing.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildDir, inboxctlPath } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { png } from '../lib/media.mjs';
import { DAY, agedMedia, recordedMediaFiles } from '../lib/media-files.mjs';

const execFileAsync = promisify(execFile);
const ctx = useCluster({
    orgs: [{ name: 'Sweep Org' }], carrierSim: true, sender: true,
});
let sim;

before(async () => {
    sim = (await ctx.ready).sim;
});

async function sweep(...args) {
    const { stdout } = await execFileAsync(inboxctlPath,
        ['--store', ctx.cluster.store, 'media', 'sweep',
         '--dir', ctx.cluster.mediaDir, ...args], { timeout: 20000 });
    return stdout.trim();
}

// A file of the media directory, written (unless there) and aged.
const aged = (name, seconds, bytes) =>
    agedMedia(ctx.cluster, name, seconds, bytes);


test('media sweep removes only the old files no record names, and '
    + '--dry-run only lists them', { timeout: 60000 }, async () => {
    const org = ctx.cluster.orgs[0];

    // an upload nothing used yet; a campaign's image; an inbound copy,
    // every one two days old, as old as the orphans
    const { upload, campaign, copy } =
        await recordedMediaFiles(ctx.cluster, sim, org.token);
    const oldOrphan = `${'O'.repeat(43)}.png`;
    const youngOrphan = `${'Y'.repeat(43)}.jpg`;
    aged(oldOrphan, 2 * DAY, png());
    aged(youngOrphan, 60, png());
    aged('notes.txt', 2 * DAY, 'an operator\'s');
    const all = [upload, campaign, copy, oldOrphan, youngOrphan,
                 'notes.txt'];

    const dry = await sweep('--dry-run');
    assert.equal(dry.split('\n')[0], `would remove ${oldOrphan}`);
    assert.equal(dry.split('\n')[1], 'looked at 4 media files older than '
        + '86400s: 3 kept (a record names them), 1 to remove (a dry run: '
        + 'none removed); 1 younger left alone');
    for (const name of all) {
        assert.ok(existsSync(join(ctx.cluster.mediaDir, name)), name);
    }

    const done = await sweep();
    assert.equal(done, 'looked at 4 media files older than 86400s: 3 kept '
        + '(a record names them), 1 removed; 1 younger left alone');
    assert.ok(!existsSync(join(ctx.cluster.mediaDir, oldOrphan)));
    for (const name of all.filter((n) => n !== oldOrphan)) {
        assert.ok(existsSync(join(ctx.cluster.mediaDir, name)), name);
    }

    // --verbose names each removed; --older-than takes the young one too
    assert.equal(await sweep('--older-than', '30', '--verbose'),
        `removed ${youngOrphan}\nlooked at 4 media files older than 30s: `
        + '3 kept (a record names them), 1 removed');
    const res = await fetch(ctx.cluster.url(`/media/${campaign}`));
    assert.equal(res.status, 200);
});

test('media sweep names a file it could not remove, with why, and exits '
    + 'non-zero', async () => {
    // its unlink fails with EIO (tests/shim/unlink_fails.c)
    const stuck = `${'S'.repeat(43)}.png`;
    const failFile = join(ctx.cluster.dir, 'unlink-fails');
    writeFileSync(failFile, stuck);
    aged(stuck, 2 * DAY, png());

    const failed = await execFileAsync(inboxctlPath,
        ['--store', ctx.cluster.store, 'media', 'sweep',
         '--dir', ctx.cluster.mediaDir], { timeout: 20000, env: {
            ...process.env,
            LD_PRELOAD: join(buildDir, 'tests', 'shim', 'unlink_fails.so'),
            INBOX_TEST_UNLINK_FAIL: failFile } })
        .then(() => null, (e) => e);
    assert.ok(failed, 'it exits non-zero');
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr, `inboxctl: ${stuck} could not be removed `
        + '(Input/output error)\ninboxctl: 1 could not be removed\n');
    assert.ok(existsSync(join(ctx.cluster.mediaDir, stuck)));

    // the disk works again: removed
    assert.match(await sweep('--verbose'), new RegExp(`removed ${stuck}`));
    assert.ok(!existsSync(join(ctx.cluster.mediaDir, stuck)));
});

errorLogIsCleanTest(ctx);
