// `make run` as a newcomer meets it: scripts/run seeds the demo, serves the
// inbox, prints a curl command that posts a correctly signed webhook, stops
// everything on Ctrl-C, and does it all again on a second run; a crashed
// ws-server is started again while intake goes on.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, repoRoot, sleep } from '../lib/cluster.mjs';
import { connectWs, eventually, newMessageSid, signTwilio,
         wsUpgrade, wsUrl, ticket } from '../lib/inbox.mjs';

const varDir = mkdtempSync(join(tmpdir(), 'inbox-run-test-'));
let running = null;

after(() => {
    if (running) {
        try { process.kill(-running.child.pid, 'SIGKILL'); } catch { }
    }
    rmSync(varDir, { recursive: true, force: true });
});

// Starts scripts/run in its own process group (as a terminal would) and
// resolves once it has printed its banner.
async function startRun(port, wsPort) {
    const child = spawn(join(repoRoot, 'scripts', 'run'), [], {
        cwd: repoRoot,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, INBOX_VAR: varDir, INBOX_PORT: String(port),
               INBOX_WS_PORT: String(wsPort) },
    });
    const run = { child, out: '', exited: null };
    child.stdout.on('data', (d) => { run.out += d; });
    child.stderr.on('data', (d) => { run.out += d; });
    run.exited = new Promise((ok) => child.on('exit', (code) => ok(code)));
    running = run;

    const deadline = Date.now() + 20000;
    while (!/logs: /.test(run.out)) {
        assert.ok(Date.now() < deadline, `no banner:\n${run.out}`);
        const code = await Promise.race([run.exited,
            new Promise((ok) => setTimeout(() => ok(undefined), 100))]);
        assert.equal(code, undefined, `scripts/run exited:\n${run.out}`);
    }
    return run;
}

// Ctrl-C: SIGINT to the whole foreground process group.
async function interrupt(run) {
    process.kill(-run.child.pid, 'SIGINT');
    const code = await Promise.race([run.exited,
        new Promise((ok) => setTimeout(() => ok('timeout'), 10000))]);
    assert.notEqual(code, 'timeout', 'scripts/run stopped within 10 s');
    running = null;
    return code;
}

// The curl command the banner prints, as fetch() arguments.
function printedCurl(out) {
    const url = out.match(/curl -i -X POST '([^']+)'/);
    const signature = out.match(/X-Twilio-Signature: ([^']+)'/);
    const data = out.match(/--data '([^']+)'/);
    assert.ok(url && signature && data, `no curl command in:\n${out}`);
    return [url[1], {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded',
                   'X-Twilio-Signature': signature[1] },
        body: data[1],
    }];
}

function printedToken(out) {
    const m = out.match(/api token:\s+(\S+)/);
    assert.ok(m, `no api token in:\n${out}`);
    return m[1];
}

async function conversations(port, token) {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/conversations`,
        { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    return (await res.json()).items;
}

test('make run serves the demo, and its printed curl command is accepted, '
    + 'stored and shown', async () => {
    const port = await freePort();
    const run = await startRun(port, await freePort());

    assert.match(run.out, new RegExp(`http://127\\.0\\.0\\.1:${port}/`));
    assert.match(run.out, /user:\s+demo@example\.com/);
    const token = printedToken(run.out);

    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /text\/html/);

    const seeded = await conversations(port, token);
    assert.ok(seeded.length >= 4, 'the demo has a few threads');
    assert.ok(seeded.some((c) => c.contact.name === 'Maria Lopez'));

    const res = await fetch(...printedCurl(run.out));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '<Response></Response>');

    const updated = await conversations(port, token);
    assert.equal(updated.length, seeded.length + 1);
    assert.equal(updated[0].contact.phone, '+15005550199');
    assert.equal(updated[0].last_message.preview,
                 'Hello from curl! Is anyone there?');

    await interrupt(run);
    assert.match(run.out, /inbox stopped\./);
});

test('make run works a second time on the same data', async () => {
    const port = await freePort();
    const run = await startRun(port, await freePort());

    assert.match(run.out, /already seeded/);
    const threads = await conversations(port, printedToken(run.out));
    assert.ok(threads.some((c) => c.contact.phone === '+15005550199'),
        'the first run\'s message is still there');

    const res = await fetch(...printedCurl(run.out));
    assert.equal(res.status, 200);

    await interrupt(run);
    assert.match(run.out, /inbox stopped\./);
});

// The ws-server processes serving this run (found by their events socket).
function wsServerPids() {
    const sock = `${varDir}/run/events.sock`;
    const pids = [];
    for (const name of readdirSync('/proc')) {
        if (!/^[0-9]+$/.test(name)) {
            continue;
        }
        let argv;
        try {
            argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
        } catch {
            continue;   /* gone meanwhile */
        }
        if (/ws-server$/.test(argv[0]) && argv.includes(sock)) {
            pids.push(Number(name));
        }
    }
    return pids;
}

// The demo number's Twilio credentials as the banner prints them.
function printedNumber(out) {
    const m = out.match(/number:\s+(\+[0-9]+) \(twilio, auth token (\w+)\)/);
    assert.ok(m, `no number in:\n${out}`);
    return { number: m[1], authToken: m[2] };
}

test('make run starts a killed ws-server again: webhooks get 200 all along, '
    + 'and a new WebSocket gets the next event; Ctrl-C leaves no ws-server',
async () => {
    const port = await freePort();
    const run = await startRun(port, await freePort());
    const base = `http://127.0.0.1:${port}`;
    const inbox = { baseUrl: base, url: (path) => `${base}${path}` };
    const token = printedToken(run.out);
    const { number, authToken } = printedNumber(run.out);
    const hook = `${base}/webhooks/twilio/inbound`;

    const post = async (body) => {
        const form = { MessageSid: newMessageSid(),
            AccountSid: 'AC00000000000000000000000000000000',
            From: '+15005550177', To: number, Body: body, NumMedia: '0' };
        const res = await fetch(hook, { method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded',
                       'X-Twilio-Signature': signTwilio(hook, form,
                                                        authToken) },
            body: new URLSearchParams(form).toString() });
        await res.text();
        return res.status;
    };

    // browsers on the inbox's own address connect, others are refused
    for (const origin of [base, `http://localhost:${port}`]) {
        const res = await wsUpgrade(wsUrl(inbox, await ticket(inbox, token)),
            { origin });
        assert.equal(res.status, 101, `${origin}: ${res.text}`);
    }
    const foreign = await wsUpgrade(wsUrl(inbox, await ticket(inbox, token)),
        { origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);

    const [first] = wsServerPids();
    assert.ok(first, 'ws-server runs');

    // webhooks keep coming while ws-server dies and comes back
    const statuses = [];
    let posting = true;
    const poster = (async () => {
        for (let i = 0; posting; i++) {
            statuses.push(await post(`during the crash ${i}`));
            await sleep(20);
        }
    })();

    process.kill(first, 'SIGKILL');
    const second = await eventually(() => wsServerPids().find(
        (pid) => pid !== first), 10000, 'a new ws-server');

    // the new one takes WebSockets (nginx answers 502 until it listens)
    const ws = await eventually(async () => {
        try {
            const c = await connectWs(inbox, token);
            await c.waitForTypes(['hello']);
            return c;
        } catch {
            return null;
        }
    }, 10000, 'a WebSocket through the new ws-server');

    posting = false;
    await poster;
    assert.ok(statuses.length >= 3, `${statuses.length} webhooks sent`);
    assert.deepEqual(statuses.filter((s) => s !== 200), [],
        'every webhook answered 200');

    try {
        assert.equal(await post('after the restart'), 200);
        await ws.waitFor((frames) => frames.some((f) =>
            f.type === 'message.created'
            && f.message.body === 'after the restart'),
            5000, 'the new message');
    } finally {
        ws.close();
    }

    assert.match(run.out, /ws-server was killed by signal 9; starting it/);
    assert.deepEqual(wsServerPids(), [second]);

    await interrupt(run);
    assert.match(run.out, /inbox stopped\./);
    assert.doesNotMatch(run.out, /exited with status 0; starting it/);
    assert.deepEqual(wsServerPids(), [], 'no ws-server left behind');
});
