// A worker that dies in the middle of the uploads' purge leaves no file
// served that no record names: with nginx preloading
// tests/shim/unlink_kills.c, the worker whose purge first unlinks a file
// of the media directory once the test arms it is SIGKILLed right there,
// after the purge's write and before any file is unlinked. The master
// starts another; the next maintenance round (the new worker's or the
// other's) finishes the purge: the file is gone, its URL 404, no record
// names it, and a send naming it is a 400 naming media_ids.0. (Before the
// purge was two-phase its write deleted the record, and the file stayed
// served for good.)

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { buildDir, inboxctl, sqlite3Path, uniqueNumber }
    from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { api, assertError, deliverInbound, eventually }
    from '../lib/inbox.mjs';
import { mediaFile, uploadPng } from '../lib/media.mjs';

const execFileAsync = promisify(execFile);
const HOUR = 3600 * 1000;

const armFile = (cluster) => join(cluster.dir, 'kill-at-unlink');

describe('a worker killed between the purge\'s write and its unlinks', () => {
    const ctx = useCluster({
        orgs: [{ name: 'Purge Crash Org' }],
        http: ['inbox_media_keep_unused 1h;'],
        nginxEnv: (cluster) => ({
            LD_PRELOAD: join(buildDir, 'tests', 'shim', 'unlink_kills.so'),
            INBOX_TEST_KILL_DIR: cluster.mediaDir,
            INBOX_TEST_KILL_ARM: armFile(cluster),
        }),
    });

    const org = () => ctx.cluster.orgs[0];

    async function sql(statement) {
        const { stdout } = await execFileAsync(sqlite3Path,
            [ctx.cluster.storePath, statement]);
        return stdout.trim();
    }

    async function served(media) {
        const res = await fetch(ctx.cluster.url(media.url));
        await res.arrayBuffer();
        return res.status;
    }

    const killed = () => ctx.cluster.errorLog().split('\n')
        .filter((line) => /exited on signal 9/.test(line));

    test('leaves the upload for the next round, which removes its file '
         + 'and its record', async () => {
        const cluster = await ctx.ready;
        await inboxctl(cluster.store, 'credits', 'grant', org().id, '10');
        const from = uniqueNumber();
        await deliverInbound(cluster, { org: org(), from, body: 'pics?' });
        const list = await api(cluster, '/api/v1/conversations',
                               org().token);
        const conv = list.json.items.find((c) => c.contact.phone === from);

        const unused = await uploadPng(cluster, org().token);
        const file = mediaFile(cluster, unused);
        const name = unused.url.slice('/media/'.length);
        assert.equal(await served(unused), 200);

        // armed, then past the grace (its clock moved back two hours)
        writeFileSync(armFile(cluster), '');
        await sql(`UPDATE media SET created_at = created_at - ${2 * HOUR}`
                  + ` WHERE file = '${name}';`);

        // the idle workers' rounds (every 5 s) reach it: one dies at the
        // unlink, the other or its successor finishes the purge
        await eventually(async () => killed().length === 1, 30000,
                         'a worker killed at the purge\'s unlink');
        assert.ok(!existsSync(armFile(cluster)));
        await eventually(async () => !existsSync(file), 30000,
                         'the next round removes the file');

        assert.equal(await served(unused), 404);
        assert.equal(await sql('SELECT count(*) FROM media'
                               + ` WHERE file = '${name}';`), '0');
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, org().token,
            { method: 'POST', body: { body: 'here',
                                      media_ids: [unused.id] } });
        assert.equal(assertError(res, 400, 'invalid_request').field,
                     'media_ids.0');
        assert.match(cluster.errorLog(), /start worker process/);
    });

    test('nginx stops cleanly, the one kill the only problem logged',
         async () => {
        const cluster = await ctx.ready;
        await cluster.stop();
        const problems = cluster.errorLogProblems()
            .filter((line) => !/exited on signal 9/.test(line));
        assert.deepEqual(problems, []);
        assert.equal(killed().length, 1);
    });
});
