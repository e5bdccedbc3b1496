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
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync }
    from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildDir, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, eventually } from '../lib/inbox.mjs';
import { png, uploadPng } from '../lib/media.mjs';

const execFileAsync = promisify(execFile);
const failFile = (cluster) => join(cluster.dir, 'unlink-fails');
const ctx = useCluster({
    orgs: [{ name: 'Swept Org' }], carrierSim: true, sender: true,
    http: ['inbox_media_sweep_interval 1s;'],
    nginxEnv: (cluster) => ({
        LD_PRELOAD: join(buildDir, 'tests', 'shim', 'unlink_fails.so'),
        INBOX_TEST_UNLINK_FAIL: failFile(cluster),
    }),
});
const DAY = 86400;
let sim;

before(async () => {
    sim = (await ctx.ready).sim;
});

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
const has = (name) => existsSync(join(ctx.cluster.mediaDir, name));

// The error log's lines of the media sweep.
const sweepLines = () => ctx.cluster.errorLog().split('\n')
    .filter((line) => /inbox: the media sweep/.test(line));

test('nginx sweeps the old orphans by itself, and logs what it removed '
    + 'and what it could not', { timeout: 90000 }, async () => {
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
