// inboxctl as an operator uses it: each command does what it says to the
// store, prints what the next command needs, and a mistake is a message on
// stderr with a non-zero exit, never a half-made change.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { inboxctlPath, sqlite3Path } from '../lib/cluster.mjs';

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
        // inboxctl may exit before it reads stdin (a usage error, a
        // command that reads none): the write then fails with EPIPE,
        // which is no test's concern and must not crash the runner.
        child.stdin.on('error', () => {});
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
                           '--carrier', 'twilio', '--account-sid',
                           `AC${'0123456789abcdef'.repeat(2)}`,
                           '--auth-token', 'tok']), '+13125550134');
    const user = await ok(['user', 'add', org, 'ana@harbor.example',
                           '--role', 'billing'], { input: 'a long secret\n' });
    assert.match(user, /^\S+$/);
    assert.match(await ok(['token', 'create', org,
                           '--user', 'ana@harbor.example']), /^ibx_\S{40,}$/);
    assert.match(await ok(['token', 'create', org]), /^ibx_/);
    // each change shows the billing as it is then, as does billing show
    const billing = async (args) => JSON.parse(await ok(args));
    assert.deepEqual(await billing(['credits', 'grant', org, '250']),
        { active: true, plan: 'per_message',
          credits: { balance: 250, held: 0 } });
    assert.equal((await billing(['credits', 'grant', org, '50']))
        .credits.balance, 300);
    assert.equal((await billing(['billing', 'set', org, 'inactive'])).active,
                 false);
    assert.equal((await billing(['billing', 'show', org])).active, false);
    assert.equal((await billing(['billing', 'set', org, 'active'])).active,
                 true);
    assert.equal((await billing(['billing', 'plan', org, 'unlimited'])).plan,
                 'unlimited');
    assert.deepEqual(await billing(['billing', 'show', org]),
        { active: true, plan: 'unlimited',
          credits: { balance: 300, held: 0 } });
});

test('an organization made without --timezone is on UTC, and inboxctl '
     + 'says so and how to set it; one made with a zone is not told',
async () => {
    const res = await ctl(['--store', store, 'org', 'create', 'Zoneless']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^\S+$/);
    assert.match(res.stderr, /time zone is UTC/);
    assert.ok(res.stderr.includes(`settings set ${res.stdout} --timezone`),
              res.stderr);
    assert.match(await ok(['settings', 'set', res.stdout]),
                 /^timezone +UTC$/m);
    const zoned = await ctl(['--store', store, 'org', 'create', 'Zoned',
                             '--timezone', 'Europe/Paris']);
    assert.equal(zoned.code, 0, zoned.stderr);
    assert.equal(zoned.stderr, '');
});

test('mistakes are refused with a message and a non-zero exit', async () => {
    const org = await ok(['org', 'create', 'Refusals']);

    await fails(['number', 'add', org, '+13125550177'], /--carrier/);
    await fails(['number', 'add', org, 'call me', '--carrier', 'twilio'],
                /phone|number/i);
    // webhooks to it would all be refused
    await fails(['number', 'add', org, '+13125550178', '--carrier', 'twilio',
                 '--account-sid', 'AC1', '--auth-token', 'tok'],
                /--account-sid/);
    await fails(['number', 'add', org, '+13125550178', '--carrier', 'twilio',
                 '--account-sid', `AC${'ab'.repeat(16)}`], /--auth-token/);
    // a Telnyx number's webhooks are checked with its key, and sending
    // needs its API key
    await fails(['number', 'add', org, '+13125550177', '--carrier',
                 'telnyx'], /--public-key/);
    await fails(['number', 'add', org, '+13125550177', '--carrier', 'telnyx',
                 '--public-key', 'zzz', '--api-key', 'KEY'], /--public-key/);
    const key = Buffer.alloc(32, 7).toString('base64');
    await fails(['number', 'add', org, '+13125550177', '--carrier', 'telnyx',
                 '--public-key', key], /--api-key/);
    await ok(['number', 'add', org, '+13125550177', '--carrier', 'telnyx',
              '--public-key', key, '--api-key', 'KEY']);
    await fails(['number', 'add', org, '+13125550177', '--carrier', 'twilio'],
                /\S/);
    // a +1 number has ten digits after the 1
    await fails(['number', 'add', org, '+15551234', '--carrier', 'twilio',
                 '--account-sid', `AC${'ab'.repeat(16)}`, '--auth-token',
                 'tok'], /ten digits/);
    await fails(['user', 'add', org, 'x@refusals.example', '--role', 'boss'],
                /--role/, { input: 'a long secret\n' });
    await fails(['user', 'add', org, 'x@refusals.example', '--role',
                 'member'], /password/, { input: 'short\n' });
    await fails(['token', 'create', '999999'], /organization/);
    await fails(['token', 'create', org, '--user', 'nobody@refusals.example'],
                /\S/);
    await fails(['credits', 'grant', org, '-5'], /a whole number from 1 to/);
    await fails(['billing', 'set', org, 'maybe'], /active or inactive/);
    await fails(['billing', 'show', '999999'], /organization/);
    await fails(['frobnicate'], /unknown command/);
    // a mistyped verb: the noun's own commands, not the whole list
    const lsit = await ctl(['--store', store, 'org', 'lsit']);
    assert.equal(lsit.code, 2);
    assert.match(lsit.stderr,
        /^inboxctl: unknown command "org lsit"; org takes: create, list\n/);
    assert.doesNotMatch(lsit.stderr, /token create/);
    await fails(['user'], /"user" needs a command; user takes: add, list, /);
    await fails(['org', 'create', 'X', '--colour', 'blue'], /unknown option/);
    // its name is its business name until one is set: at most 100
    await fails(['org', 'create', 'x'.repeat(101)], /100/);

    // an import of which no line could be read failed, with its report
    const none = await ctl(['--store', store, 'contacts', 'import', org, '-'],
                           { input: 'phone,name\nnope,Ann\n12,Bo\n' });
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no line was imported, 2 refused/);
    assert.equal(JSON.parse(none.stdout).invalid_count, 2);
    // one good line is a success, the refused ones listed
    const some = JSON.parse(await ok(['contacts', 'import', org, '-'],
        { input: 'phone,name\n(312) 555-0190,Ann\n12,Bo\n' }));
    assert.equal(some.created, 1);
    assert.deepEqual(some.invalid.map((i) => i.line), [3]);
    assert.deepEqual(some.ignored_columns, []);
    // a number typed for a country whose plan is known has its length
    await fails(['number', 'add', org, '+44 20 7946 095', '--carrier',
                 'twilio', '--account-sid', `AC${'ab'.repeat(16)}`,
                 '--auth-token', 'tok'],
                /9 digits after \+44; a number in GB/);
    const gb = JSON.parse(await ok(['contacts', 'import', org, '-'],
        { input: 'phone,name\n+44 20 7946 0958,Gil\n+44 20 7946 095,Hal\n' }));
    assert.equal(gb.created, 1);
    assert.deepEqual(gb.invalid.map((i) => [i.line, i.reason]),
        [[3, 'phone number has 9 digits after +44; a number in GB that '
             + 'starts with 2 has 10']]);
    // first and last names make the name; the columns not used are named
    const split = JSON.parse(await ok(['contacts', 'import', org, '-'],
        { input: 'First Name,Last Name,Mobile Phone,Company\n'
                 + 'Cy,Ortiz,(312) 555-0193,Acme\n' }));
    assert.equal(split.created, 1);
    assert.deepEqual(split.ignored_columns, ['Company']);
    // a column named twice is refused whole, naming it: taking either
    // would drop the other's numbers unseen
    const twice = await ctl(['--store', store, 'contacts', 'import', org,
                             '-'], { input: 'Phone,name,PHONE\n'
                                     + '(312) 555-0191,Cy,(312) 555-0192\n' });
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /phone column twice/);
    assert.equal(twice.stdout, '');
    const after = JSON.parse(await ok(['contacts', 'import', org, '-'],
        { input: 'phone\n(312) 555-0191\n' }));
    assert.equal(after.created, 1, 'the refused file stored nothing');
    // tags past the 50 a contact keeps are said left out, not only
    // counted
    const tags = (p) => Array.from({ length: 30 }, (_, i) => `${p}${i}`)
        .join(';');
    await ok(['contacts', 'import', org, '-'],
        { input: `phone,tags\n(312) 555-0194,${tags('old')}\n` });
    const capped = await ctl(['--store', store, 'contacts', 'import', org,
                              '-'], { input: 'phone,tags\n'
                                      + `(312) 555-0194,${tags('new')}\n` });
    assert.equal(capped.code, 0, capped.stderr);
    assert.equal(JSON.parse(capped.stdout).tags_capped, 1);
    assert.match(capped.stderr, new RegExp('^inboxctl: -: 1 contact '
        + 'reached 50 tags, the most a contact can have: some of its tags '
        + 'in the file were not added$', 'm'));
});

// sql run on the store as an operator would, its output trimmed.
function storeSql(q) {
    return new Promise((resolve, reject) => {
        execFile(sqlite3Path, ['-cmd', '.timeout 5000', join(dir, 'inbox.db'),
            q], (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
    });
}

test('number list shows an organization\'s numbers in the order added, '
     + 'each carrier, who answers keywords, the API base and which '
     + 'credentials are set, never a secret', async () => {
    const org = await ok(['org', 'create', 'Two Lines']);
    const other = await ok(['org', 'create', 'Elsewhere']);
    const sid = `AC${'0123456789abcdef'.repeat(2)}`;
    const key = Buffer.alloc(32, 5).toString('base64');
    await ok(['number', 'add', org, '+13125550191', '--carrier', 'twilio',
              '--account-sid', sid, '--auth-token', 'twilio-secret']);
    await ok(['number', 'add', org, '+13125550190', '--carrier', 'telnyx',
              '--public-key', key, '--api-key', 'telnyx-secret',
              '--api-base', 'http://gw:gw-secret@127.0.0.1:8090/v2',
              '--keyword-answers', 'inbox']);
    await ok(['number', 'add', other, '+13125550192', '--carrier', 'twilio',
              '--account-sid', sid, '--auth-token', 'other-secret']);

    const listed = await ok(['number', 'list', org]);
    assert.deepEqual(listed.split('\n').map((l) => l.split(/ {2,}/)), [
        ['NUMBER', 'CARRIER', 'KEYWORDS', 'API BASE', 'CREDENTIALS'],
        ['+13125550191', 'twilio', 'carrier', 'the carrier\'s',
         `account ${sid}, auth token set`],
        // a gateway's user and password are secrets too
        ['+13125550190', 'telnyx', 'inbox', 'http://***@127.0.0.1:8090/v2',
         'api key set, public key set'],
    ]);
    assert.doesNotMatch(listed, /secret|other|0192/);

    const none = await ok(['org', 'create', 'No Lines Yet']);
    assert.equal(await ok(['number', 'list', none]),
                 'NUMBER            CARRIER  KEYWORDS  API BASE  CREDENTIALS');
    await fails(['number', 'list', '999999'], /no organization/i);
    await fails(['number', 'remove', '999999', '+13125550191'],
                /There is no organization with the id "999999"/);

    // a number released at the carrier goes, as it was typed; only the
    // organization's own
    await fails(['number', 'remove', other, '+13125550191'],
                /has no number \+13125550191/);
    assert.equal(await ok(['number', 'remove', org, '(312) 555-0191']),
                 '+13125550191');
    assert.deepEqual((await ok(['number', 'list', org])).split('\n')
        .slice(1).map((l) => l.split(/ {2,}/)[0]), ['+13125550190']);
    await fails(['number', 'remove', org, '+13125550191'],
                /has no number \+13125550191/);
    // it may be added again, to any organization
    await ok(['number', 'add', other, '+13125550191', '--carrier', 'twilio',
              '--account-sid', sid, '--auth-token', 'new-secret']);
});

test('number add and set take --auth-token - and --api-key - from stdin, '
    + 'one line each, keeping them off the command line', async () => {
    const org = await ok(['org', 'create', 'Quiet Secrets']);
    const sid = `AC${'0123456789abcdef'.repeat(2)}`;
    const key = Buffer.alloc(32, 9).toString('base64');
    const secrets = (e164) => storeSql('SELECT auth_token, api_key FROM '
        + `numbers WHERE e164 = '${e164}'`);

    assert.equal(await ok(['number', 'add', org, '+13125550161',
                           '--carrier', 'twilio', '--account-sid', sid,
                           '--auth-token', '-'],
                          { input: 'token from stdin\n' }),
                 '+13125550161');
    assert.equal(await secrets('+13125550161'), 'token from stdin|');

    // a token rotated at Twilio
    await ok(['number', 'set', org, '+13125550161', '--carrier', 'twilio',
              '--account-sid', sid, '--auth-token', '-'],
             { input: 'rotated token\r\n' });
    assert.equal(await secrets('+13125550161'), 'rotated token|');

    await ok(['number', 'add', org, '+13125550162', '--carrier', 'telnyx',
              '--public-key', key, '--api-key', '-'],
             { input: 'KEYFROMSTDIN\n' });
    assert.equal(await secrets('+13125550162'), '|KEYFROMSTDIN');
    // both: the auth token's line first
    await ok(['number', 'set', org, '+13125550162', '--carrier', 'telnyx',
              '--public-key', key, '--api-key', '-', '--auth-token', '-'],
             { input: 'second token\nKEYROTATED\n' });
    assert.equal(await secrets('+13125550162'), 'second token|KEYROTATED');

    // nothing on stdin: refused, and nothing changed
    await fails(['number', 'set', org, '+13125550161', '--carrier',
                 'twilio', '--account-sid', sid, '--auth-token', '-'],
                /--auth-token -: give the auth token on standard input/,
                { input: '' });
    await fails(['number', 'add', org, '+13125550163', '--carrier',
                 'telnyx', '--public-key', key, '--api-key', '-'],
                /--api-key -: give the API key on standard input/,
                { input: '\n' });
    await fails(['number', 'set', org, '+13125550162', '--carrier',
                 'telnyx', '--public-key', key, '--api-key', '-'],
                /longer than 1022 bytes/, { input: `${'k'.repeat(1023)}\n` });
    assert.equal(await secrets('+13125550161'), 'rotated token|');
    assert.equal(await secrets('+13125550162'), 'second token|KEYROTATED');
    assert.equal(await secrets('+13125550163'), '');
});

test('an import the store fails partway prints what it stored and the line '
    + 'it stopped at, exits non-zero, and finishes when run again',
    async () => {
    const org = await ok(['org', 'create', 'Partial Imports']);
    const phone = (i) => `+1312556${String(i).padStart(4, '0')}`;
    const rows = ['phone,name,tags'];
    for (let i = 0; i < 1500; i++) {
        rows.push(`${phone(i)},P ${i},walk-in`);
    }
    const csv = `${rows.join('\n')}\n`;
    const count = () => storeSql('SELECT count(*) FROM contacts WHERE phone '
        + "LIKE '+1312556%'");
    // the reviewer's failure: the 1,201st row's insert is refused
    await storeSql('CREATE TRIGGER import_partial BEFORE INSERT ON contacts '
        + `WHEN NEW.phone = '${phone(1200)}' `
        + "BEGIN SELECT RAISE(ABORT, 'disk I/O simulated'); END");
    const failed = await ctl(['--store', store, 'contacts', 'import', org,
                              '-'], { input: csv });
    await storeSql('DROP TRIGGER import_partial');
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /disk I\/O simulated/);
    assert.match(failed.stderr, new RegExp('lines before line 1002 were '
        + 'imported \\(1000 created, 0 updated, 0 refused\\)'));
    assert.match(failed.stderr, /Send the same file again/);
    const e = JSON.parse(failed.stdout).error;
    assert.equal(e.stopped_at_line, 1002);
    assert.equal(e.created, 1000);
    assert.equal(e.updated, 0);
    assert.equal(await count(), '1000');

    const again = JSON.parse(await ok(['contacts', 'import', org, '-'],
                                      { input: csv }));
    assert.equal(again.created, 500);
    assert.equal(again.updated, 1000);
    assert.equal(await count(), '1500');
    assert.equal(await storeSql('SELECT count(*) FROM contact_tags t JOIN '
        + "contacts c ON c.id = t.contact_id WHERE c.phone LIKE '+1312556%'"),
        '1500', 'each contact tagged once');
});

// The lines of token list after its header, each split into its columns.
async function tokenRows(org) {
    const [header, ...lines] = (await ok(['token', 'list', org])).split('\n');
    assert.deepEqual(header.split(/\s+/),
        ['ID', 'NAME', 'USER', 'CREATED', 'EXPIRES', 'STATUS']);
    return lines.map((l) => {
        const [id, name, user, created, expires, status] = l.split(/\s+/);
        return { id, name, user, created, expires, status };
    });
}

test('token list shows each token without its secret, oldest first',
    async () => {
    const org = await ok(['org', 'create', 'Token Lister']);
    await ok(['user', 'add', org, 'kim@lister.example', '--role', 'member'],
             { input: 'a long secret\n' });
    assert.deepEqual(await tokenRows(org), []);

    const before = Date.now();
    const ci = await ok(['token', 'create', org, '--user',
                         'kim@lister.example', '--name', 'ci-deploy',
                         '--expires-in', '30d']);
    assert.match(ci, /^ibx_\S+$/, 'only the token on stdout');
    const wide = await ok(['token', 'create', org]);

    const listing = await ok(['token', 'list', org]);
    assert.ok(!listing.includes(ci) && !listing.includes(wide),
              'no secret in the listing');
    assert.ok(!/[0-9a-f]{64}/.test(listing), 'no hash in the listing');

    const rows = await tokenRows(org);
    assert.equal(rows.length, 2);
    assert.equal(rows[0].name, 'ci-deploy');
    assert.equal(rows[0].user, 'kim@lister.example');
    assert.equal(rows[0].status, 'active');
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
    assert.match(rows[0].created, iso);
    assert.match(rows[0].expires, iso);
    const expires = Date.parse(rows[0].expires);
    assert.ok(Math.abs(expires - (before + 30 * 86400000)) < 60000,
              `30 days from now: ${rows[0].expires}`);
    assert.deepEqual([rows[1].name, rows[1].user, rows[1].expires,
                      rows[1].status], ['-', '-', 'never', 'active']);
    assert.notEqual(rows[0].id, rows[1].id);
    assert.ok(rows[0].id.length <= 24, 'a short id');
});

test('token revoke takes an id or the token itself, and says so',
    async () => {
    const org = await ok(['org', 'create', 'Token Revoker']);
    await ok(['token', 'create', org, '--name', 'first']);
    const leaked = await ok(['token', 'create', org, '--name', 'leaked']);
    await ok(['token', 'create', org, '--name', 'kept']);
    const [first, second, third] = await tokenRows(org);

    assert.equal(await ok(['token', 'revoke', org, first.id]), first.id);
    assert.equal(await ok(['token', 'revoke', org, leaked]), second.id);
    // again: nothing changes, still a success
    assert.equal(await ok(['token', 'revoke', org, first.id]), first.id);

    assert.deepEqual((await tokenRows(org)).map((r) => r.status),
                     ['revoked', 'revoked', 'active']);

    // another organization cannot revoke them, by id or by token
    const other = await ok(['org', 'create', 'Someone Else']);
    await fails(['token', 'revoke', other, third.id], /no token/);
    await fails(['token', 'revoke', other, leaked], /no such token/);
    assert.equal((await tokenRows(org))[2].status, 'active');
});

test('token mistakes are refused on stderr with a non-zero exit',
    async () => {
    const org = await ok(['org', 'create', 'Token Mistakes']);
    await fails(['token', 'list', '999999'],
                /There is no organization with the id "999999"\./);
    await fails(['token', 'list', 'nope'],
                /There is no organization with the id "nope"\./);
    await fails(['token', 'revoke', '999999', '1'],
                /There is no organization with the id "999999"\./);
    await fails(['token', 'revoke', org, '999999'], /no token/);
    await fails(['token', 'revoke', org, 'ibx_not-a-token'], /no such token/);
    await fails(['token', 'revoke', org], /usage: inboxctl token revoke/);
    for (const d of ['30', '0d', '1y', '-5m', '1.5h', '3651d']) {
        await fails(['token', 'create', org, '--expires-in', d],
                    /--expires-in takes a duration/);
    }
    await fails(['token', 'create', org, '--name', 'two words'], /name/);
    await fails(['token', 'create', org, '--name', 'x'.repeat(65)], /name/);
    await fails(['token', 'create', org, '--colour', 'red'],
                /unknown option/);
    assert.deepEqual(await tokenRows(org), [], 'nothing was stored');
});

test('org list and user list show ids, times and roles, never a '
    + 'password', async () => {
    const org = await ok(['org', 'create', 'Lister of People',
                          '--timezone', 'Europe/Lisbon']);
    const ana = await ok(['user', 'add', org, 'Ana@Lister.example',
                          '--role', 'billing'], { input: 'a long secret\n' });
    const bo = await ok(['user', 'add', org, 'bo@lister.example', '--role',
                         'member'], { input: 'another secret\n' });

    const [orgHeader, ...orgs] = (await ok(['org', 'list'])).split('\n');
    assert.deepEqual(orgHeader.split(/\s+/),
                     ['ID', 'CREATED', 'TIMEZONE', 'NAME']);
    const line = orgs.find((l) => l.startsWith(`${org} `));
    assert.ok(line, orgs.join('\n'));
    // the name, spaces and all, is the last column
    assert.match(line, /^\S+\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+Europe\/Lisbon\s+Lister of People$/);
    // oldest first: the first organization these tests made leads
    assert.match(orgs[0], /\sHarbor Books$/);

    const listing = await ok(['user', 'list', org]);
    const [userHeader, ...users] = listing.split('\n');
    assert.deepEqual(userHeader.split(/\s+/),
                     ['ID', 'ROLE', 'CREATED', 'EMAIL']);
    assert.deepEqual(users.map((l) => {
        const [id, role, , email] = l.split(/\s+/);
        return [id, role, email];
    }), [[ana, 'billing', 'ana@lister.example'],
         [bo, 'member', 'bo@lister.example']]);
    assert.doesNotMatch(listing, /argon2|secret/);

    const empty = await ok(['org', 'create', 'Nobody Here']);
    assert.equal(await ok(['user', 'list', empty]), userHeader);
    await fails(['user', 'list', '999999'], /organization/);
});

test('user passwd sets a new password from stdin, by the rules, for the '
    + 'organization\'s own users', async () => {
    const org = await ok(['org', 'create', 'Password Changers']);
    const other = await ok(['org', 'create', 'Someone Else']);
    const id = await ok(['user', 'add', org, 'cy@passwd.example', '--role',
                         'member'], { input: 'first secret 1\n' });
    await ok(['user', 'add', other, 'di@passwd.example', '--role', 'member'],
             { input: 'first secret 2\n' });
    const hashOf = (email) => new Promise((done) => execFile(sqlite3Path,
        [store.slice('sqlite:'.length), 'SELECT password_hash FROM users'
         + ` WHERE email = '${email}'`], (err, out) => done(out.trim())));
    const before = await hashOf('cy@passwd.example');
    assert.match(before, /^\$argon2id\$/);

    // the email in any case; prints the user's id
    assert.equal(await ok(['user', 'passwd', org, 'CY@passwd.example'],
                          { input: 'second secret 1\n' }), id);
    const after = await hashOf('cy@passwd.example');
    assert.match(after, /^\$argon2id\$/);
    assert.notEqual(after, before);

    await fails(['user', 'passwd', org, 'cy@passwd.example'],
                /at least 8 characters/, { input: 'short\n' });
    await fails(['user', 'passwd', org, 'cy@passwd.example'],
                /standard input/, { input: '' });
    await fails(['user', 'passwd', org, 'nobody@passwd.example'],
                /no user/, { input: 'a fine secret\n' });
    await fails(['user', 'passwd', org, 'di@passwd.example'],
                /no user/, { input: 'a fine secret\n' });
    await fails(['user', 'passwd', '999999', 'cy@passwd.example'],
                /organization/, { input: 'a fine secret\n' });
    assert.equal(await hashOf('cy@passwd.example'), after,
                 'nothing changed by a refusal');
});

// Runs inboxctl on a pseudo-terminal, as an operator at a shell does;
// types line once it asks.  Resolves with its exit code and all it wrote
// to the terminal (what the operator saw, echo included).
function ctlOnTerminal(args, line) {
    const script = `
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen, typed = b"", False
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    seen += data
    if not typed and b"password: " in seen:
        os.write(fd, os.environ["LINE"].encode() + b"\\n")
        typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;
    return new Promise((resolve) => {
        execFile('python3', ['-c', script, inboxctlPath, '--store', store,
                             ...args],
            { env: { ...process.env, LINE: line }, timeout: 20000 },
            (err, stdout) => resolve({ code: err ? err.code : 0,
                                       seen: stdout }));
    });
}

test('on a terminal, user add and user passwd ask for the password and do '
    + 'not show it as it is typed', async () => {
    const org = await ok(['org', 'create', 'Shoulder Surfers']);
    const secret = 'not for the screen 1';
    const added = await ctlOnTerminal(['user', 'add', org,
        'gus@tty.example', '--role', 'member'], secret);
    assert.equal(added.code, 0, added.seen);
    assert.match(added.seen, /password: \r?\n/);
    assert.ok(!added.seen.includes(secret), added.seen);

    const changed = await ctlOnTerminal(['user', 'passwd', org,
        'gus@tty.example'], 'not for the screen 2');
    assert.equal(changed.code, 0, changed.seen);
    assert.ok(!changed.seen.includes('not for the screen'), changed.seen);
    // the id the add printed, on a line of its own after the prompt
    const id = added.seen.trim().split(/\r?\n/).pop();
    assert.ok(changed.seen.includes(id), changed.seen);
});

test('user role and user remove take an id or an email, and keep a '
    + 'billing contact', async () => {
    const org = await ok(['org', 'create', 'Team Changers']);
    const ed = await ok(['user', 'add', org, 'ed@team.example', '--role',
                         'billing'], { input: 'first secret 1\n' });
    const fay = await ok(['user', 'add', org, 'fay@team.example', '--role',
                          'member'], { input: 'first secret 2\n' });
    const roles = async () => (await ok(['user', 'list', org])).split('\n')
        .slice(1).map((line) => line.split(/\s+/).slice(0, 2).join(' '));

    await fails(['user', 'role', org, 'ed@team.example', 'member'],
                /at least one billing contact/);
    await fails(['user', 'remove', org, ed], /at least one billing contact/);
    assert.equal(await ok(['user', 'role', org, 'FAY@team.example',
                           'billing']), `${fay}  billing  fay@team.example`);
    await ok(['user', 'role', org, ed, 'member']);
    assert.deepEqual(await roles(), [`${ed} member`, `${fay} billing`]);

    assert.equal(await ok(['user', 'remove', org, 'ed@team.example']),
                 'removed ed@team.example');
    assert.deepEqual(await roles(), [`${fay} billing`]);
    await fails(['user', 'remove', org, ed], /no user/);
    await fails(['user', 'role', org, 'nobody@team.example', 'member'],
                /no user/);
    await fails(['user', 'role', org, fay, 'owner'], /member or billing/);
    // back again, as the same user
    assert.equal(await ok(['user', 'add', org, 'ed@team.example', '--role',
                           'member'], { input: 'third secret 3\n' }), ed);
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
    assert.match(first, /email:\s+demo@example\.com/);
    assert.match(first, /X-Twilio-Signature: /);
    assert.match(first, /http:\/\/127\.0\.0\.1:9\/webhooks\/twilio\/inbound/);

    const second = await ok(['seed-demo']);
    assert.match(second, /already seeded/);
    // a fresh password each run, for the one demo user
    const password = (out) => out.match(/password:\s+(\S+)/)[1];
    assert.match(password(first), /^[A-Za-z0-9_-]{24}$/);
    assert.notEqual(password(second), password(first));
    const token = (s) => s.match(/api token:\s+(\S+)/)[1];
    assert.notEqual(token(first), token(second), 'a fresh token each run');
    assert.match(second, /earlier demo tokens no longer work/);
    const authToken = (s) => s.match(/auth token (\w+)/)[1];
    assert.equal(authToken(first), authToken(second),
                 'the number keeps its auth token');

    // its carrier (the simulator, as Twilio) answers STOP, START and HELP
    // itself: the inbox sends no answer of its own; a demo number seeded
    // otherwise before is set so again
    const answers = () => new Promise((resolve, reject) => {
        execFile(sqlite3Path, ['-cmd', '.timeout 5000', join(dir, 'inbox.db'),
            'SELECT carrier_answers_keywords FROM numbers'
            + " WHERE e164 = '+15005550006'"],
        (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
    });
    assert.equal(await answers(), '1');
    const org = second.match(/\(id (\S+?)\)/)[1];
    await ok(['number', 'set', org, '+15005550006', '--carrier', 'twilio',
              '--account-sid', 'AC' + '0'.repeat(32), '--auth-token',
              authToken(first), '--keyword-answers', 'inbox']);
    assert.equal(await answers(), '0');

    // the first run's token is revoked: one live demo token, however often
    await ok(['seed-demo']);
    assert.equal(await answers(), '1');
    // a campaign to the volunteers and a poll to everyone, drafts, once
    const drafts = (await ok(['campaign', 'list', org])).split('\n');
    assert.equal(drafts.length, 2, drafts.join('\n'));
    assert.ok(drafts.some((l) => / campaign draft .*Community dinner/
        .test(l)), drafts.join('\n'));
    assert.ok(drafts.some((l) => / poll draft .*Next dinner/.test(l)),
              drafts.join('\n'));
    assert.equal((await ok(['user', 'list', org])).split('\n').length, 2,
                 'one demo user, however often');
    const rows = await tokenRows(org);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => [r.name, r.user, r.status]), [
        ['demo', 'demo@example.com', 'revoked'],
        ['demo', 'demo@example.com', 'revoked'],
        ['demo', 'demo@example.com', 'active'],
    ]);

    // a token of the demo organization that is not the demo's stays; an
    // unnamed one of the demo user is what seed-demo made before tokens
    // had names, and goes
    await ok(['token', 'create', org, '--name', 'mine']);
    await ok(['token', 'create', org, '--user', 'demo@example.com']);
    await ok(['seed-demo']);
    assert.deepEqual((await tokenRows(org)).filter((r) => r.status
        === 'active').map((r) => r.name).sort(), ['demo', 'mine']);
});

test('store restore brings this store\'s backup back in a new epoch; '
    + 'another store\'s backup is refused; events new-epoch says how many',
    async () => {
    await ok(['org', 'create', 'Restored Books']);
    const backup = join(dir, 'restore-backup.db');
    const sql = (db, q) => new Promise((resolve, reject) => {
        execFile(sqlite3Path, ['-cmd', '.timeout 5000', db, q],
            (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
    });
    const live = join(dir, 'inbox.db');
    await sql(live, `.backup '${backup}'`);
    await ok(['org', 'create', 'After The Backup']);
    const epochs = async () => sql(live, 'SELECT epoch FROM orgs ORDER BY id');
    const before = await epochs();
    assert.match(await ok(['org', 'list']), /After The Backup/);

    const out = await ok(['store', 'restore', backup]);
    assert.match(out, /restored .*a new event epoch/);
    const list = await ok(['org', 'list']);
    assert.match(list, /Restored Books/);
    assert.doesNotMatch(list, /After The Backup/);
    const after_ = (await epochs()).split('\n');
    for (const e of after_) {
        assert.ok(!before.split('\n').includes(e), 'a new epoch each');
    }

    const other = `sqlite:${join(dir, 'restore-other.db')}`;
    const made = await ctl(['--store', other, 'org', 'create', 'Elsewhere']);
    assert.equal(made.code, 0, made.stderr);
    await fails(['store', 'restore', join(dir, 'restore-other.db')],
                /another store/);
    assert.match(await ok(['events', 'new-epoch']),
                 /a new event epoch for \d+ organizations?/);
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

test('settings set checks each value as the API does; an organization\'s '
    + 'time zone must be one of the tz database', async () => {
    await fails(['org', 'create', 'Lost in Time', '--timezone', 'Mars/Base'],
                /time zone/);
    assert.doesNotMatch(await ok(['org', 'list']), /Lost in Time/);

    const org = await ok(['org', 'create', 'Harbor Cafe']);
    assert.equal(await ok(['settings', 'set', org, '--business-name',
                           ' Harbor Cafe & Bakery ', '--support-contact',
                           'hello@harbor.example', '--timezone',
                           'America/Denver', '--quiet-hours', '22:00-07:00']),
                 'timezone         America/Denver\n'
                 + 'quiet hours      22:00-07:00\n'
                 + 'business name    Harbor Cafe & Bakery\n'
                 + 'support contact  hello@harbor.example\n'
                 + 'default country  (none)');
    // "" is the default again; what is not named stays
    assert.match(await ok(['settings', 'set', org, '--business-name', '',
                           '--support-contact', '']),
                 /quiet hours {6}22:00-07:00\nbusiness name {4}Harbor Cafe\n/);
    // the time zone and the quiet hours too: UTC, 21:00 to 08:00
    assert.equal(await ok(['settings', 'set', org, '--timezone', '',
                           '--quiet-hours', '']),
                 'timezone         UTC\n'
                 + 'quiet hours      21:00-08:00\n'
                 + 'business name    Harbor Cafe\n'
                 + 'support contact  (none)\n'
                 + 'default country  (none)');
    await ok(['settings', 'set', org, '--timezone', 'America/Denver']);

    await fails(['settings', 'set', org, '--timezone', '../../etc/passwd'],
                /time zone/);
    // a file of the database quiet hours would read as UTC
    await fails(['org', 'create', 'Posix Time', '--timezone',
                 'posix/America/New_York'], /time zone/);
    assert.doesNotMatch(await ok(['org', 'list']), /Posix Time/);
    await fails(['settings', 'set', org, '--timezone', 'localtime'],
                /time zone/);
    assert.match(await ok(['settings', 'set', org, '--quiet-hours',
                           '22:00-07:00']), /^timezone {9}America\/Denver\n/);
    await fails(['settings', 'set', org, '--quiet-hours', '22:00'],
                /HH:MM-HH:MM/);
    await fails(['settings', 'set', org, '--quiet-hours', '24:00-07:00'],
                /quiet_hours.start/);
    await fails(['settings', 'set', 'no-such-org', '--business-name', 'X'],
                /\S/);
});

test('contacts import reads numbers without a country code as the '
    + 'organization\'s default country, else US; --country overrides it',
    async () => {
    const org = await ok(['org', 'create', 'Thames Bikes']);
    const csv = (phone) => ({ input: `phone\n${phone}\n` });

    // none set: US, as before
    assert.match(await ok(['settings', 'set', org, '--timezone', 'UTC']),
                 /\ndefault country {2}\(none\)$/);
    let report = JSON.parse(await ok(['contacts', 'import', org, '-'],
                                     csv('(415) 555-0170')));
    assert.equal(report.created, 1);
    assert.equal(report.country, 'US');

    // the organization's, checked by the same rule as the API's
    await fails(['settings', 'set', org, '--default-country', 'UK'],
                /"UK" is not a country code whose phone numbers we know; /);
    assert.match(await ok(['settings', 'set', org, '--default-country',
                           'gb']), /\ndefault country {2}GB$/);
    report = JSON.parse(await ok(['contacts', 'import', org, '-'],
                                 csv('07700 900171')));
    assert.equal(report.created, 1, JSON.stringify(report));
    assert.equal(report.country, 'GB');

    // --country is this import's alone
    report = JSON.parse(await ok(['contacts', 'import', org, '-',
                                  '--country', 'us'],
                                 csv('(415) 555-0172')));
    assert.equal(report.created, 1, JSON.stringify(report));
    assert.equal(report.country, 'US');
    // GB's numbers have 9 or 10 digits after the trunk 0
    const refused = await ctl(['--store', store, 'contacts', 'import', org,
                               '-'], csv('1 (415) 555-0173'));
    assert.equal(refused.code, 1);
    report = JSON.parse(refused.stdout);
    assert.equal(report.created, 0);
    assert.match(report.invalid[0].reason, /a number in GB has 9 to 10/);
    assert.equal(report.country, 'GB');

    // '' is none again: US
    assert.match(await ok(['settings', 'set', org, '--default-country', '']),
                 /\ndefault country {2}\(none\)$/);
    report = JSON.parse(await ok(['contacts', 'import', org, '-'],
                                 csv('1 (415) 555-0173')));
    assert.equal(report.created, 1, JSON.stringify(report));
    assert.equal(report.country, 'US');

    const phones = await new Promise((done) => execFile(sqlite3Path,
        [store.slice('sqlite:'.length), 'SELECT phone FROM contacts'
         + ` WHERE org_id = ${org} ORDER BY id`],
        (err, out) => done(out.trim())));
    assert.deepEqual(phones.split('\n'), ['+14155550170', '+447700900171',
                                          '+14155550172', '+14155550173']);
});

test('campaign and poll create say when their audience holds nobody, '
    + 'naming the tags in use, and still make the draft', async () => {
    const org = await ok(['org', 'create', 'Lakeside Choir']);
    const created = async (args) => {
        const res = await ctl(['--store', store, ...args]);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /^\d+$/);
        return res.stderr;
    };

    // no contacts at all
    assert.match(await created(['campaign', 'create', org, '--name', 'A',
                                '--body', 'hi', '--all']),
                 /no contacts yet: sent now, it would reach nobody/);
    await ok(['contacts', 'import', org, '-'],
             { input: 'phone,tags\n+14155550180,altos;tenors\n' });
    // a tag mistyped: said, with the tags there are
    assert.equal(await created(['campaign', 'create', org, '--name', 'B',
                                '--body', 'hi', '--tag', 'alto']),
        'inboxctl: no contact is tagged "alto": sent now, it would reach '
        + 'nobody (tags in use: altos, tenors)');
    assert.match(await created(['poll', 'create', org, '--question', 'Q',
                                '--option', 'a', '--option', 'b',
                                '--tag', 'bass', '--tag', 'sopranos']),
                 /no contact is tagged "bass" or "sopranos": /);
    // an audience with someone in it says nothing
    assert.equal(await created(['campaign', 'create', org, '--name', 'C',
                                '--body', 'hi', '--tag', 'ALTOS']), '');
    assert.equal(await created(['campaign', 'create', org, '--name', 'D',
                                '--body', 'hi', '--all']), '');
    // the drafts are made all the same
    assert.equal((await ok(['campaign', 'list', org])).split('\n').length,
                 5);
});

test('contacts imported with inboxctl are in the search index when it '
    + 'ends, not left for every search to scan one by one', async () => {
    const org = await ok(['org', 'create', 'Larch Florists']);
    const rows = ['name,phone'];
    for (let i = 0; i < 2500; i++) {
        rows.push(`Guest ${i},+1415555${String(i).padStart(4, '0')}`);
    }
    rows.push('Zinnia Quist,+14155559999');
    const report = JSON.parse(await ok(['contacts', 'import', org, '-'],
                                       { input: rows.join('\n') + '\n' }));
    assert.equal(report.created, 2501, JSON.stringify(report));

    const sql = (q) => new Promise((done) => execFile(sqlite3Path,
        [store.slice('sqlite:'.length), q], (err, out) => done(out.trim())));
    assert.equal(await sql('SELECT count(*) FROM contacts_search_pending'),
                 '0');
    assert.equal(await sql("SELECT count(*) FROM contacts_search WHERE"
                           + " contacts_search MATCH 'name : \"quist\"'"),
                 '1');
});
