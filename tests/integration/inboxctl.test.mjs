// inboxctl as an operator uses it: each command does what it says to the
// store, prints what the next command needs, and a mistake is a message on
// stderr with a non-zero exit, never a half-made change.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { inboxctlPath } from '../lib/cluster.mjs';

const dir = mkdtempSync(join(tmpdir(), 'inboxctl-test-'));
const store = `sqlite:${join(dir, 'inbox.db')}`;

after(() => rmSync(dir, { recursive: true, force: true }));

// Runs inboxctl; resolves with its exit code and output, whatever they are.
// shell: run args with /bin/sh instead (args[0] is then the script).
function ctl(args, { input, env, shell } = {}) {
    return new Promise((resolve) => {
        const child = execFile(shell ? '/bin/sh' : inboxctlPath, args,
            { env: { ...process.env, ...env }, timeout: 20000 },
            (err, stdout, stderr) => resolve({
                code: err ? err.code : 0, stdout: stdout.trim(),
                stderr: stderr.trim(),
            }));
        child.stdin.end(input ?? '');
    });
}

async function ok(args, opts) {
    const res = await ctl(['--store', store, ...args], opts);
    assert.equal(res.code, 0, `inboxctl ${args.join(' ')}: ${res.stderr}`);
    return res.stdout;
}

async function fails(args, pattern, opts) {
    const res = await ctl(['--store', store, ...args], opts);
    assert.notEqual(res.code, 0, `inboxctl ${args.join(' ')} should fail`);
    assert.match(res.stderr, pattern);
    assert.equal(res.stdout, '');
}

test('an organization, its number, a user and a token, one by one',
    async () => {
    const org = await ok(['org', 'create', 'Harbor Books',
                          '--timezone', 'America/Chicago']);
    assert.match(org, /^\S+$/);

    assert.equal(await ok(['number', 'add', org, '(312) 555-0134',
                           '--carrier', 'twilio', '--account-sid', 'AC1',
                           '--auth-token', 'tok']), '+13125550134');
    const user = await ok(['user', 'add', org, 'ana@harbor.example',
                           '--role', 'billing'], { input: 'a long secret\n' });
    assert.match(user, /^\S+$/);
    assert.match(await ok(['token', 'create', org,
                           '--user', 'ana@harbor.example']), /^ibx_\S{40,}$/);
    assert.match(await ok(['token', 'create', org]), /^ibx_/);
    assert.equal(await ok(['credits', 'grant', org, '250']), '');
    assert.equal(await ok(['billing', 'set', org, 'inactive']), '');
    assert.equal(await ok(['billing', 'set', org, 'active']), '');
});

test('mistakes are refused with a message and a non-zero exit', async () => {
    const org = await ok(['org', 'create', 'Refusals']);

    await fails(['number', 'add', org, '+13125550177'], /--carrier/);
    await fails(['number', 'add', org, 'call me', '--carrier', 'twilio'],
                /phone|number/i);
    await ok(['number', 'add', org, '+13125550177', '--carrier', 'telnyx']);
    await fails(['number', 'add', org, '+13125550177', '--carrier', 'twilio'],
                /\S/);
    await fails(['user', 'add', org, 'x@refusals.example', '--role', 'boss'],
                /--role/, { input: 'a long secret\n' });
    await fails(['user', 'add', org, 'x@refusals.example', '--role',
                 'member'], /password/, { input: 'short\n' });
    await fails(['token', 'create', '999999'], /organization/);
    await fails(['token', 'create', org, '--user', 'nobody@refusals.example'],
                /\S/);
    await fails(['credits', 'grant', org, '-5'], /positive/);
    await fails(['billing', 'set', org, 'maybe'], /active or inactive/);
    await fails(['frobnicate'], /unknown command/);
    await fails(['org', 'create', 'X', '--colour', 'blue'], /unknown option/);
});

test('the store comes from --store, else INBOX_STORE', async () => {
    const other = `sqlite:${join(dir, 'other.db')}`;
    const res = await ctl(['org', 'create', 'From The Environment'],
                          { env: { INBOX_STORE: other } });
    assert.equal(res.code, 0, res.stderr);

    const bad = await ctl(['--store', 'postgres://nowhere', 'org', 'create',
                           'Y']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /sqlite:PATH or mongodb/);
});

test('seed-demo makes a working demo once and keeps it on a second run',
    async () => {
    const first = await ok(['seed-demo', '--public-url',
                            'http://127.0.0.1:9']);
    assert.match(first, /demo organization: Demo Organization/);
    assert.match(first, /api token:\s+ibx_/);
    assert.match(first, /X-Twilio-Signature: /);
    assert.match(first, /http:\/\/127\.0\.0\.1:9\/webhooks\/twilio\/inbound/);

    const second = await ok(['seed-demo']);
    assert.match(second, /already seeded/);
    const token = (s) => s.match(/api token:\s+(\S+)/)[1];
    assert.notEqual(token(first), token(second), 'a fresh token each run');
    const authToken = (s) => s.match(/auth token (\w+)/)[1];
    assert.equal(authToken(first), authToken(second),
                 'the number keeps its auth token');
});

test('only org create and seed-demo make a store, readable by its owner '
    + 'only, whatever the umask', async () => {
    const missing = join(dir, 'missing.db');
    for (const args of [['token', 'create', '1'],
                        ['credits', 'grant', '1', '5'],
                        ['number', 'add', '1', '+13125550199',
                         '--carrier', 'twilio']]) {
        const res = await ctl(['--store', `sqlite:${missing}`, ...args]);
        assert.notEqual(res.code, 0, `${args.join(' ')} should fail`);
        assert.match(res.stderr, /does not exist.*inboxctl/);
        assert.equal(existsSync(missing), false, `${args[0]} made a file`);
    }

    for (const [name, args] of [['org.db', ['org', 'create', 'Private']],
                                ['demo.db', ['seed-demo']]]) {
        const path = join(dir, name);
        const res = await ctl(['-c', 'umask 000 && exec "$0" "$@"',
            inboxctlPath, '--store', `sqlite:${path}`, ...args],
            { shell: true });
        assert.equal(res.code, 0, res.stderr);
        assert.equal(statSync(path).mode & 0o777, 0o600, name);
    }
});
