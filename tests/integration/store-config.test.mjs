// The store nginx is told to use, as an operator meets it: a URI nginx
// cannot use is refused by `nginx -t`, a relative SQLite path is under
// nginx's prefix, and a store that cannot be opened says why, in
// /healthz and in the error log, whatever changed after the start.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync }
    from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { nginxPath, sleep } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, assertError } from '../lib/inbox.mjs';

const execFileAsync = promisify(execFile);

// Waits until /healthz's answer passes ok (the module opens a missing
// store again at most once a second, in the worker a request meets).
async function healthUntil(cluster, ok, ms = 8000) {
    const deadline = Date.now() + ms;
    for (;;) {
        const res = await api(cluster, '/healthz', null);
        if (ok(res) || Date.now() > deadline) {
            return res;
        }
        await sleep(100);
    }
}

const linesOf = (log, re) => log.split('\n').filter((l) => re.test(l));


describe('a store that cannot be opened', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inbox-test-later-'));
    const store = join(dir, 'inbox.db');
    const ctx = useCluster({ orgs: [{ name: 'Later Org' }],
                             nginxStore: `sqlite:${store}` });

    after(() => rmSync(dir, { recursive: true, force: true }));

    test('/healthz says why: missing at the start, then not a database, '
        + 'and the error log names each cause once per worker, not per '
        + 'request', async () => {
        const cluster = await ctx.ready;
        const missing = assertError(await api(cluster, '/healthz', null),
            503, 'unavailable');
        assert.match(missing.message, /does not exist/);
        assert.ok(missing.message.includes(store), missing.message);

        // fails for root too, unlike a file the workers may not read
        writeFileSync(store, 'not a database, whatever its name\n'
            .repeat(200));
        const res = await healthUntil(cluster, (r) =>
            /not a database/.test(r.json?.error?.message));
        const err = assertError(res, 503, 'unavailable');
        assert.match(err.message, /not a database/);

        for (let i = 0; i < 20; i++) {
            assertError(await api(cluster, '/healthz', null), 503,
                'unavailable');
            await sleep(100);
        }
        const logged = linesOf(cluster.errorLog(),
            /\[error\].*cannot open the store .*file is not a database/);
        assert.ok(logged.length >= 1, cluster.errorLog());
        assert.ok(logged.length <= cluster.options.workerProcesses,
            logged.join('\n'));
        assert.ok(logged[0].includes(store), logged[0]);
    });

    test('the store put in place serves; the API never showed the path',
        async () => {
        const cluster = await ctx.ready;
        const api503 = assertError(await api(cluster,
            '/api/v1/conversations', cluster.orgs[0].token), 503,
            'unavailable');
        assert.ok(!api503.message.includes(store), api503.message);

        copyFileSync(cluster.storePath, store);
        const res = await healthUntil(cluster, (r) => r.status === 200);
        assert.equal(res.status, 200, res.text);
    });

    errorLogIsCleanTest(ctx);
});


describe('a relative SQLite path', () => {
    // nginx runs with -p the cluster's directory, where its store is; its
    // workers in another directory
    const elsewhere = mkdtempSync(join(tmpdir(), 'inbox-test-cwd-'));
    const ctx = useCluster({ orgs: [{ name: 'Relative Org' }],
                             nginxStore: 'sqlite:inbox.db',
                             workingDirectory: elsewhere });

    after(() => rmSync(elsewhere, { recursive: true, force: true }));

    test('is under nginx\'s prefix, not where nginx was started from',
        async () => {
        const cluster = await ctx.ready;
        assert.equal(existsSync(join(elsewhere, 'inbox.db')), false);
        const res = await healthUntil(cluster, (r) => r.status === 200);
        assert.equal(res.status, 200, res.text);
        assert.equal((await api(cluster, '/api/v1/conversations',
            cluster.orgs[0].token)).status, 200);
    });

    test('a URI of no known store is refused by nginx -t, before any '
        + 'request', async () => {
        const cluster = await ctx.ready;
        const conf = readFileSync(join(cluster.dir, 'nginx.conf'), 'utf8');
        assert.match(conf, /inbox_store sqlite:inbox\.db;/);
        for (const uri of ['/srv/inbox.db', 'mysql://db/inbox', 'sqlite:',
                           'sqlite:?synchronous=full',
                           'sqlite:inbox.db?sync=full']) {
            const bad = join(cluster.dir, 'nginx-bad-store.conf');
            writeFileSync(bad, conf.replace('inbox_store sqlite:inbox.db;',
                                            `inbox_store ${uri};`));
            const err = await execFileAsync(nginxPath, ['-t', '-p',
                cluster.dir, '-c', bad, '-e', '/dev/stderr'])
                .then(() => null, (e) => e);
            assert.ok(err, `nginx -t accepted inbox_store ${uri}`);
            assert.match(err.stderr, new RegExp('\\[emerg\\].*inbox_store: '
                + '.*(unknown store URI.*use sqlite:PATH|needs a file path'
                + '|unknown SQLite store option)'));
        }
    });

    errorLogIsCleanTest(ctx);
});
