// An unused upload whose file cannot be unlinked (a failing disk: with
// nginx preloading tests/shim/unlink_fails.c, its name's unlink fails
// with EIO while the test wants it to) stays marked and is tried again
// every round, as before; the error log now names its file and why, once
// per worker however many rounds try it, where before it said nothing
// and the disk stayed full unnoticed. Once the unlink works again the
// next round removes the file and the record, its URL answers 404, and
// the log says it is removed at last.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { buildDir, sqlite3Path } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { eventually } from '../lib/inbox.mjs';
import { mediaFile, uploadPng } from '../lib/media.mjs';

const execFileAsync = promisify(execFile);
const HOUR = 3600 * 1000;

const failFile = (cluster) => join(cluster.dir, 'unlink-fails');

describe('an upload whose file the purge cannot unlink', () => {
    const ctx = useCluster({
        orgs: [{ name: 'Stuck Disk Org' }],
        http: ['inbox_media_keep_unused 1h;'],
        nginxEnv: (cluster) => ({
            LD_PRELOAD: join(buildDir, 'tests', 'shim', 'unlink_fails.so'),
            INBOX_TEST_UNLINK_FAIL: failFile(cluster),
        }),
    });

    const org = () => ctx.cluster.orgs[0];

    async function sql(statement) {
        const { stdout } = await execFileAsync(sqlite3Path,
            ['-cmd', '.timeout 5000', ctx.cluster.storePath, statement]);
        return stdout.trim();
    }

    async function served(media) {
        const res = await fetch(ctx.cluster.url(media.url));
        await res.arrayBuffer();
        return res.status;
    }

    // How often the purge tried the file's unlink, failing.
    const tries = () => {
        const path = `${failFile(ctx.cluster)}.tries`;
        return existsSync(path)
            ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;
    };

    // The purge's lines of the error log naming name, at level.
    const logged = (name, level) => ctx.cluster.errorLog().split('\n')
        .filter((line) => line.includes(`[${level}]`)
                          && line.includes('inbox: the media file ')
                          && line.includes(`/${name}"`));
    const pidOf = (line) => /\[[a-z]+\] ([0-9]+)#/.exec(line)[1];

    test('is logged once by each worker, not every round, and removed '
         + 'once it can be', { timeout: 120000 }, async () => {
        const cluster = await ctx.ready;
        const unused = await uploadPng(cluster, org().token);
        const file = mediaFile(cluster, unused);
        const name = unused.url.slice('/media/'.length);
        assert.equal(await served(unused), 200);

        // its unlink fails from now on; then past the grace (its clock
        // moved back two hours)
        writeFileSync(failFile(cluster), name);
        await sql(`UPDATE media SET created_at = created_at - ${2 * HOUR}`
                  + ` WHERE file = '${name}';`);

        // the idle workers' rounds (every 5 s each) try it again and again
        await eventually(async () => tries() >= 6, 60000,
                         'six rounds that failed to unlink it');
        assert.ok(existsSync(file));
        assert.equal(await sql('SELECT count(*) FROM media WHERE file = '
                               + `'${name}' AND purging_at IS NOT NULL;`),
                     '1');

        const errors = logged(name, 'error');
        assert.ok(errors.length >= 1, cluster.errorLog());
        assert.match(errors[0], /could not be removed/);
        assert.match(errors[0], /Input\/output error/);
        const pids = errors.map(pidOf);
        assert.equal(new Set(pids).size, pids.length,
                     `a worker logged it twice:\n${errors.join('\n')}`);
        assert.ok(errors.length < tries());

        // the disk works again: the next round removes it
        rmSync(failFile(cluster));
        await eventually(async () => !existsSync(file), 30000,
                         'the next round removes the file');
        assert.equal(await served(unused), 404);
        await eventually(async () => (await sql('SELECT count(*) FROM media'
                         + ` WHERE file = '${name}';`)) === '0', 10000,
                         'its record deleted');
        await eventually(async () => logged(name, 'notice')
                             .some((l) => /removed at last/.test(l)),
                         10000, 'the notice that it is removed');
        assert.deepEqual(logged(name, 'error'), errors);
    });

    errorLogIsCleanTest(ctx);
});
