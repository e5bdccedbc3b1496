// inboxctl media sweep: the files a crash leaves in the media directory
// that no record names (an upload's written before its record, a copy's
// before it was recorded) are removed once older than the grace; an
// upload's, an inbound copy's and a campaign image's stay, as do a
// younger orphan (maybe about to be recorded) and any file of a name the
// inbox never makes.  --dry-run lists what it would remove, removing
// nothing.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildDir, inboxctlPath, sqlite3Path, uniqueNumber }
    from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, eventually } from '../lib/inbox.mjs';
import { png, uploadPng } from '../lib/media.mjs';

const execFileAsync = promisify(execFile);
const ctx = useCluster({
    orgs: [{ name: 'Sweep Org' }], carrierSim: true, sender: true,
});
const DAY = 86400;
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

// The file of from's inbound image once copied, else ''.
async function copyOf(from) {
    const { stdout } = await execFileAsync(sqlite3Path, ['-cmd',
        '.timeout 5000', ctx.cluster.storePath,
        'SELECT mm.file FROM message_media mm'
        + ' JOIN messages m ON m.id = mm.message_id'
        + ' JOIN conversations v ON v.id = m.conversation_id'
        + ' JOIN contacts c ON c.id = v.contact_id'
        + ` WHERE c.phone = '${from}' AND mm.state = 'stored'`]);
    return stdout.trim();
}

// A file of the media directory, written (unless there) and aged.
function aged(name, seconds, bytes) {
    const path = join(ctx.cluster.mediaDir, name);
    if (bytes !== undefined) {
        writeFileSync(path, bytes);
    }
    const t = Date.now() / 1000 - seconds;
    utimesSync(path, t, t);
    return path;
}

const fileOf = (url) => url.slice('/media/'.length);

test('media sweep removes only the old files no record names, and '
    + '--dry-run only lists them', { timeout: 60000 }, async () => {
    const org = ctx.cluster.orgs[0];

    // an upload nothing used yet; a campaign's image; an inbound copy
    const upload = fileOf((await uploadPng(ctx.cluster, org.token)).url);
    const pictured = await uploadPng(ctx.cluster, org.token);
    const draft = await api(ctx.cluster, '/api/v1/campaigns', org.token, {
        method: 'POST', body: { name: 'Picture', body: 'Look',
                                media_ids: [pictured.id],
                                audience: { all: true } } });
    assert.equal(draft.status, 201, draft.text);
    const campaign = fileOf(draft.json.media[0].url);
    const from = uniqueNumber();
    const { webhook } = await sim.inbound({ from, body: 'look',
                                            media: ['sunset.jpg'] });
    assert.equal(webhook.state, 'delivered');
    await eventually(async () => (await copyOf(from)) !== '', 30000,
                     'the copy made');
    const copy = await copyOf(from);

    // every one two days old, as old as the orphans
    for (const name of [upload, campaign, copy]) {
        aged(name, 2 * DAY);
    }
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
