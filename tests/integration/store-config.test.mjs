// The store nginx is told to use, as an operator meets it: a URI nginx
// cannot use is refused by `nginx -t`, a relative SQLite path is under
// nginx's prefix, and a store that cannot be opened says why in the error
// log, whatever changed after the start and also while no request comes
// (the idle housekeeping finds it), while /healthz, open to anyone,
// names neither the file nor MongoDB's hosts.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync }
    from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { nginxPath, sleep, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, assertServerFailure, postInbound } from '../lib/inbox.mjs';

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

    test('/healthz answers 503 without saying why, missing at the start '
        + 'or not a database; the error log says why with each answer, and '
        + 'that the store cannot be opened once per worker, not per '
        + 'request', async () => {
        const cluster = await ctx.ready;
        assertServerFailure(await api(cluster, '/healthz', null), 503,
            'unavailable');
        const missing = linesOf(cluster.errorLog(),
            /\[error\].*inbox: 503 unavailable: .*does not exist/);
        assert.ok(missing.length >= 1, cluster.errorLog());
        assert.ok(missing[0].includes(store), missing[0]);

        // fails for root too, unlike a file the workers may not read
        writeFileSync(store, 'not a database, whatever its name\n'
            .repeat(200));
        const notDb =
            /\[error\].*cannot open the store .*file is not a database/;
        const deadline = Date.now() + 8000;
        while (linesOf(cluster.errorLog(), notDb).length === 0
               && Date.now() < deadline) {
            await api(cluster, '/healthz', null);
            await sleep(100);
        }

        for (let i = 0; i < 20; i++) {
            const res = await api(cluster, '/healthz', null);
            const err = assertServerFailure(res, 503, 'unavailable');
            assert.ok(!res.text.includes(store), res.text);
            assert.doesNotMatch(err.message, /database/);
            await sleep(100);
        }
        const logged = linesOf(cluster.errorLog(), notDb);
        assert.ok(logged.length >= 1, cluster.errorLog());
        assert.ok(logged.length <= cluster.options.workerProcesses,
            logged.join('\n'));
        assert.ok(logged[0].includes(store), logged[0]);
        // each answer's cause, as it was answered
        assert.ok(linesOf(cluster.errorLog(),
            /\[error\].*inbox: 503 unavailable: .*file is not a database/)
            .length >= 20);
    });

    test('a store that breaks while nothing asks is logged by the idle '
        + 'housekeeping, without a request', async () => {
        const cluster = await ctx.ready;
        // the first test left a file that is no database: gone, as a
        // request logs (the same cause is logged once a minute at most)
        const gone = cluster.errorLog().length;
        rmSync(store, { force: true });
        await healthUntil(cluster, () => linesOf(cluster.errorLog()
            .slice(gone), /cannot open the store .*does not exist/)
            .length >= cluster.options.workerProcesses);
        const before = cluster.errorLog().length;
        writeFileSync(store, 'still not a database\n'.repeat(200));
        const notDb = /cannot open the store .*file is not a database/;
        const deadline = Date.now() + 20000;
        while (linesOf(cluster.errorLog().slice(before), notDb).length === 0
               && Date.now() < deadline) {
            await sleep(200);
        }
        assert.ok(linesOf(cluster.errorLog().slice(before), notDb).length
                  >= 1, cluster.errorLog().slice(before));
    });

    test('the store put in place serves; the API never showed the path',
        async () => {
        const cluster = await ctx.ready;
        const api503 = assertServerFailure(await api(cluster,
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
                + '.*(Unknown store URI.*use sqlite:PATH|needs a file path'
                + '|Unknown SQLite store option)'));
        }
    });

    errorLogIsCleanTest(ctx);
});


describe('a MongoDB store that cannot be reached', () => {
    // no mongod: the name never resolves (RFC 6761), and the driver gives
    // up after its server selection timeout, made short here
    const host = 'db-internal.corp.invalid';
    const ctx = useCluster({ orgs: [{ name: 'Unreachable Org' }],
        nginxStore: `mongodb://${host}:27017/inbox`
            + '?serverSelectionTimeoutMS=300' });

    test('/healthz, the API and a webhook answer 503 without MongoDB\'s '
        + 'host or port; the error log names them', async () => {
        const cluster = await ctx.ready;
        const answers = [
            await api(cluster, '/healthz', null),
            await api(cluster, '/api/v1/conversations',
                cluster.orgs[0].token),
            await postInbound(cluster, { from: uniqueNumber(),
                body: 'anyone there?' }),
        ];
        for (const res of answers) {
            assertServerFailure(res, 503, 'unavailable');
            assert.ok(!res.text.includes(host), res.text);
            assert.doesNotMatch(res.text, /27017|MongoDB|resolve/);
        }
        const logged = linesOf(cluster.errorLog(),
            /\[error\].*inbox: 503 unavailable: .*MongoDB/);
        assert.ok(logged.length >= answers.length, cluster.errorLog());
        assert.ok(logged.some((l) => l.includes(host)), logged.join('\n'));
    });

    errorLogIsCleanTest(ctx);
});
