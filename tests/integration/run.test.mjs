// `make run` as a newcomer meets it: scripts/run seeds the demo, serves the
// inbox, prints a curl command that posts a correctly signed webhook, stops
// everything on Ctrl-C, and does it all again on a second run; a crashed
// ws-server is started again while intake goes on.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync }
    from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { freePort, freePortRun, inboxctl, repoRoot, sleep }
    from '../lib/cluster.mjs';
import { connectWs, eventually, newMessageSid, signTwilio,
         wsUpgrade, wsUrl, ticket } from '../lib/inbox.mjs';
import { nonLoopbackAddress } from '../lib/carrier-sim.mjs';

const varDir = mkdtempSync(join(tmpdir(), 'inbox-run-test-'));
let running = null;
let firstToken = null;     // the API token the first run printed
let firstPassword = null;  // the demo user's password the first run printed

// A test that failed half way leaves its run going: stopped here as
// Ctrl-C would, so that the next test's ws-server and nginx do not find
// their sockets and ports taken.
afterEach(async () => {
    if (!running) {
        return;
    }
    const run = running;
    running = null;
    try { process.kill(-run.child.pid, 'SIGINT'); } catch { }
    const code = await Promise.race([run.exited,
        new Promise((ok) => setTimeout(() => ok('timeout'), 10000))]);
    if (code === 'timeout') {
        try { process.kill(-run.child.pid, 'SIGKILL'); } catch { }
    }
});

after(() => {
    if (running) {
        try { process.kill(-running.child.pid, 'SIGKILL'); } catch { }
    }
    rmSync(varDir, { recursive: true, force: true });
});

// Starts scripts/run in its own process group (as a terminal would).
async function spawnRun(port, wsPort, simPort = 0, env = {}) {
    const child = spawn(join(repoRoot, 'scripts', 'run'), [], {
        cwd: repoRoot,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, INBOX_VAR: varDir, INBOX_PORT: String(port),
               INBOX_WS_PORT: String(wsPort),
               INBOX_SIM_PORT: String(simPort || await freePort()), ...env },
    });
    const run = { child, out: '', exited: null };
    child.stdout.on('data', (d) => { run.out += d; });
    child.stderr.on('data', (d) => { run.out += d; });
    run.exited = new Promise((ok) => child.on('exit', (code) => ok(code)));
    running = run;
    return run;
}

// scripts/run, resolved once it has printed its banner.
async function startRun(port, wsPort, simPort = 0, env = {}) {
    const run = await spawnRun(port, wsPort, simPort, env);
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

// The demo user's email and password the banner prints.
function printedLogin(out) {
    const email = out.match(/email:\s+(\S+)/);
    const password = out.match(/password:\s+(\S+)/);
    assert.ok(email && password, `no sign-in in:\n${out}`);
    return { email: email[1], password: password[1] };
}

async function signIn(port, { email, password }) {
    return fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password }),
    });
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
    assert.match(run.out, /email:\s+demo@example\.com/);
    const token = printedToken(run.out);
    firstToken = token;

    // the printed email and password sign in to the web app
    const credentials = printedLogin(run.out);
    firstPassword = credentials.password;
    const signedIn = await signIn(port, credentials);
    assert.equal(signedIn.status, 200);
    assert.equal((await signedIn.json()).organization.name,
                 'Demo Organization');
    assert.match(signedIn.headers.get('set-cookie'), /^inbox_session=/);

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

    // the printed phone page is the demo number's carrier: what a contact
    // types there reaches the inbox, signed with the demo's auth token
    const phone = run.out.match(/a contact's phone[^:]*: (http:\S+)\//);
    assert.ok(phone, `no phone page in:\n${run.out}`);
    const phonePage = await fetch(`${phone[1]}/`);
    assert.equal(phonePage.status, 200);
    assert.match(await phonePage.text(), /<html/i);
    const sent = await fetch(`${phone[1]}/_sim/inbound`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ from: '+15005550142',
                               body: 'Typed on the phone page' }) });
    assert.equal(sent.status, 200, await sent.clone().text());
    assert.equal((await sent.json()).webhook.state, 'delivered');
    const texted = await conversations(port, token);
    assert.equal(texted[0].contact.phone, '+15005550142');
    assert.equal(texted[0].last_message.preview, 'Typed on the phone page');

    // STOP typed there opts the contact out, and the phone gets the
    // carrier's own answer, the only one: the carrier refuses any send
    // after a STOP, so a confirmation of the inbox's would only fail in
    // the thread
    const stop = await fetch(`${phone[1]}/_sim/inbound`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ from: '+15005550142', body: 'STOP' }) });
    assert.equal(stop.status, 200, await stop.clone().text());
    await eventually(async () => (await conversations(port, token))
        .find((c) => c.contact.phone === '+15005550142').contact.opted_out,
    5000, 'the contact opted out');
    await sleep(1000);
    const thread = await (await fetch(`http://127.0.0.1:${port}`
        + `/api/v1/conversations/${texted[0].id}/messages`,
    { headers: { Authorization: `Bearer ${token}` } })).json();
    assert.deepEqual(thread.items.map((m) => [m.direction, m.body]),
                     [['inbound', 'STOP'],
                      ['inbound', 'Typed on the phone page']]);
    const onPhone = await (await fetch(`${phone[1]}/_sim/messages?contact=`
        + encodeURIComponent('+15005550142'))).json();
    assert.equal(onPhone.items.filter((m) => m.carrier_reply).length, 1);

    await secretsStayOutOfLogs(port, token);
    if (process.getuid() === 0) {
        nothingFacingTheNetworkRunsAsRoot();
    }

    await interrupt(run);
    assert.match(run.out, /inbox stopped\./);
});

// A duplicated Authorization header (which nginx refuses, naming the header
// at the info level) and a WebSocket ticket (in /ws's query string) leave no
// secret in the shipped configuration's logs.
async function secretsStayOutOfLogs(port, token) {
    const res = await new Promise((ok, fail) => {
        const sock = connect(port, '127.0.0.1');
        let text = '';
        sock.on('data', (d) => { text += d; });
        sock.on('end', () => ok(text));
        sock.on('error', fail);
        sock.write('GET /api/v1/conversations HTTP/1.1\r\nHost: localhost\r\n'
            + `Authorization: Bearer ${token}\r\n`
            + `Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
    });
    assert.match(res, /^HTTP\/1\.1 400 /);
    assert.match(res, /"code":"invalid_request"/);

    const base = `http://127.0.0.1:${port}`;
    const t = await (await fetch(`${base}/api/v1/realtime/ticket`, {
        method: 'POST', headers: { Authorization: `Bearer ${token}` },
    })).json();
    await (await fetch(`${base}/ws?ticket=${encodeURIComponent(t.ticket)}`))
        .text();

    // nginx logs a request once its answer is sent: the client may read
    // the answer a moment before the line is written
    const accessLog = () => readFileSync(join(varDir, 'log', 'access.log'),
                                         'utf8');
    await eventually(() => /"GET \/ws\?ticket=/.test(accessLog()), 5000,
                     'the /ws request in access.log');
    const access = accessLog();
    assert.match(access, /"GET \/ws\?ticket=\[masked\] HTTP\/1\.1"/);
    assert.ok(!access.includes(t.ticket), 'no ticket in access.log');
    const errors = readFileSync(join(varDir, 'log', 'error.log'), 'utf8');
    assert.ok(!errors.includes(token), 'no API token in error.log');
    assert.ok(!errors.includes(t.ticket), 'no ticket in error.log');
}

// Started as root, make run keeps root for nginx's master alone.
function nothingFacingTheNetworkRunsAsRoot() {
    const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p))
        .map((pid) => {
            try {
                const status = readFileSync(`/proc/${pid}/status`, 'utf8');
                const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
                    .replace(/\0/g, ' ');
                return { pid, cmd, uid: Number(
                    status.match(/^Uid:\s+(\d+)/m)[1]) };
            } catch { return null; }
        })
        .filter((p) => p && p.cmd.includes(varDir));
    const master = readFileSync(join(varDir, 'run', 'nginx.pid'), 'utf8')
        .trim();
    const workers = readdirSync('/proc').filter((p) => /^\d+$/.test(p))
        .filter((pid) => {
            try {
                return readFileSync(`/proc/${pid}/stat`, 'utf8')
                    .split(') ')[1].split(' ')[1] === master;
            } catch { return false; }
        });
    assert.ok(workers.length >= 1, 'nginx has workers');
    for (const pid of workers) {
        const uid = Number(readFileSync(`/proc/${pid}/status`, 'utf8')
            .match(/^Uid:\s+(\d+)/m)[1]);
        assert.notEqual(uid, 0, `nginx worker ${pid} runs as root`);
    }
    const ws = procs.filter((p) => p.cmd.includes('ws-server'));
    assert.ok(ws.length >= 1, 'ws-server runs');
    for (const p of ws) {
        assert.notEqual(p.uid, 0, 'ws-server runs as root');
    }
    const db = statSync(join(varDir, 'inbox.db'));
    assert.notEqual(db.uid, 0, 'the store belongs to the unprivileged user');
}

test('make run works a second time on the same data', async () => {
    const port = await freePort();
    const run = await startRun(port, await freePort());

    assert.match(run.out, /already seeded/);
    const threads = await conversations(port, printedToken(run.out));
    assert.ok(threads.some((c) => c.contact.phone === '+15005550199'),
        'the first run\'s message is still there');

    // the second run replaced the demo token: one live, the first refused
    const org = run.out.match(/demo organization: .*\(id (\S+?)\)/)[1];
    const rows = (await inboxctl(`sqlite:${join(varDir, 'inbox.db')}`,
        'token', 'list', org)).split('\n').slice(1);
    assert.equal(rows.filter((r) => /\sactive$/.test(r)).length, 1,
        rows.join('\n'));
    assert.ok(firstToken, 'the first run printed a token');
    const refused = await fetch(
        `http://127.0.0.1:${port}/api/v1/conversations`,
        { headers: { Authorization: `Bearer ${firstToken}` } });
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, 'unauthenticated');

    const res = await fetch(...printedCurl(run.out));
    assert.equal(res.status, 200);

    // the password printed now works, the first run's no longer does
    const credentials = printedLogin(run.out);
    assert.notEqual(credentials.password, firstPassword);
    assert.equal((await signIn(port, credentials)).status, 200);
    assert.equal((await signIn(port, { email: credentials.email,
        password: firstPassword })).status, 401);
    const users = (await inboxctl(`sqlite:${join(varDir, 'inbox.db')}`,
        'user', 'list', org)).split('\n').slice(1);
    assert.equal(users.length, 1, users.join('\n'));

    const errorLog = join(varDir, 'log', 'error.log');
    const errorAt = logSince(errorLog, 0).length;
    await interrupt(run);
    assert.match(run.out, /inbox stopped\./);
    // Ctrl-C is the run's to pass on: nothing is started again meanwhile,
    // and nginx is told to quit gracefully, not stopped at once by the
    // terminal's SIGINT
    assert.doesNotMatch(run.out, /starting it again/);
    const nginx = logSince(errorLog, errorAt);
    assert.match(nginx, /signal 3 \(SIGQUIT\) received/, nginx);
    assert.doesNotMatch(nginx, /signal 2 \(SIGINT\) received/, nginx);
});

// The ws-server processes serving this run (found by their events socket).
function wsServerPids(sock = `${varDir}/run/events.sock`) {
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

test('INBOX_WS_SERVERS=2 make run: two ws-servers, each on its port with its '
    + 'own events socket, nginx handing events to both', async () => {
    const port = await freePort();
    const wsPort = await freePortRun(2);   // ws-servers on wsPort and wsPort+1
    const run = await startRun(port, wsPort, 0, { INBOX_WS_SERVERS: '2' });
    const base = `http://127.0.0.1:${port}`;
    const inbox = { baseUrl: base, url: (path) => `${base}${path}` };
    const token = printedToken(run.out);
    const { number, authToken } = printedNumber(run.out);
    const socks = [`${varDir}/run/events.sock`, `${varDir}/run/events-2.sock`];
    try {
        const conf = readFileSync(`${varDir}/nginx.conf`, 'utf8');
        assert.match(conf, new RegExp(`inbox_events_socket ${socks[0]} `
            + `${socks[1]};`));
        assert.match(conf, new RegExp(`server 127\\.0\\.0\\.1:${wsPort};`
            + `\\s+server 127\\.0\\.0\\.1:${wsPort + 1};`));
        // the supervisors start them beside nginx: give them the time
        for (const [k, sock] of socks.entries()) {
            const log = `${varDir}/log/ws-server-${k + 1}.log`;
            await eventually(() => wsServerPids(sock).length === 1, 10000,
                `one ws-server reading ${sock}`).catch((err) => {
                throw new Error(`${err.message}\n${run.out}\n${log}:\n`
                    + readFileSync(log, 'utf8').slice(-2000));
            });
        }

        const ws = await connectWs(inbox, token);
        await ws.waitForTypes(['hello']);
        const hook = `${base}/webhooks/twilio/inbound`;
        const form = { MessageSid: newMessageSid(),
            AccountSid: 'AC00000000000000000000000000000000',
            From: '+15005550178', To: number, Body: 'two servers',
            NumMedia: '0' };
        const res = await fetch(hook, { method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded',
                       'X-Twilio-Signature': signTwilio(hook, form,
                                                        authToken) },
            body: new URLSearchParams(form).toString() });
        assert.equal(res.status, 200);
        await ws.waitFor((frames) => frames.some((f) =>
            f.type === 'message.created' && f.message.body === 'two servers'),
            5000, 'the new message');
        ws.close();
    } finally {
        await interrupt(run);
    }
    assert.deepEqual([...wsServerPids(socks[0]), ...wsServerPids(socks[1])],
        [], 'no ws-server left behind');
});

test('make run on all addresses behind a public URL (the Dockerfile\'s '
    + 'docker run): the phone page\'s texts are signed for that URL and '
    + 'accepted', async () => {
    const port = await freePort();
    const run = await startRun(port, await freePort(), 0, {
        INBOX_BIND: '0.0.0.0',
        INBOX_PUBLIC_URL: 'https://inbox.example.com/' });
    assert.match(run.out, /inbox is running at https:\/\/inbox\.example\.com\//);
    const token = printedToken(run.out);
    const phone = run.out.match(/a contact's phone[^:]*: (http:\S+)\//);
    assert.ok(phone, `no phone page in:\n${run.out}`);
    assert.match(run.out, /from elsewhere: port \d+ of this machine/);
    const sent = await fetch(`${phone[1]}/_sim/inbound`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ from: '+15005550143',
                               body: 'Through the proxy' }) });
    assert.equal(sent.status, 200, await sent.clone().text());
    const { webhook } = await sent.json();
    assert.equal(webhook.state, 'delivered', JSON.stringify(webhook));
    // the demo number's SMS URL asks, as README.md tells operators, for a
    // webhook answered 5xx to be tried again (Twilio's default drops it);
    // posted and signed without the fragment, it was accepted above
    assert.equal(webhook.url, 'https://inbox.example.com/webhooks/twilio/'
                 + 'inbound#rp=5xx,ct&rc=3');
    const texted = await conversations(port, token);
    assert.equal(texted[0].contact.phone, '+15005550143');
    assert.equal(texted[0].last_message.preview, 'Through the proxy');
    // from elsewhere (this machine at an address not a loopback one): the
    // phone page, not the simulator's configuration with the demo token
    const where = nonLoopbackAddress();
    if (where) {
        const outside = `http://${where.host}:${new URL(phone[1]).port}`;
        assert.equal((await fetch(`${outside}/`)).status, 200);
        const config = await fetch(`${outside}/_sim/config`);
        assert.equal(config.status, 403);
        assert.ok(!(await config.text())
            .includes(printedNumber(run.out).authToken));
    }
    await interrupt(run);
});

// scripts/run that is to stop by itself: how it exited, and what it said.
async function runUntilItStops(env) {
    const run = await spawnRun(await freePortRun(1), await freePortRun(1),
                               await freePortRun(1), env);
    const code = await Promise.race([run.exited,
        new Promise((ok) => setTimeout(() => ok('timeout'), 30000))]);
    assert.notEqual(code, 'timeout', `scripts/run went on:\n${run.out}`);
    running = null;
    return { code, out: run.out };
}

test('make run on all addresses without INBOX_PUBLIC_URL refuses to start '
    + 'and says to set it', async () => {
    const run = await runUntilItStops({ INBOX_BIND: '0.0.0.0',
                                        INBOX_PUBLIC_URL: '' });
    assert.equal(run.code, 2, run.out);
    assert.match(run.out, /INBOX_BIND=0\.0\.0\.0 needs INBOX_PUBLIC_URL/);
    assert.doesNotMatch(run.out, /inbox is running/);
});

test('make run whose nginx cannot start says so and stops, without '
    + 'printing that the inbox is running', async () => {
    // an address of no interface here (TEST-NET-1): nginx's bind fails
    const run = await runUntilItStops({ INBOX_BIND: '192.0.2.1' });
    assert.notEqual(run.code, 0);
    assert.match(run.out, /nginx did not answer/);
    assert.match(run.out, /bind\(\)/);
    assert.doesNotMatch(run.out, /inbox is running/);
});

// Whatever of a file's text was written after `from` characters.
function logSince(path, from) {
    try {
        return readFileSync(path, 'utf8').slice(from);
    } catch {
        return '';
    }
}

// An SSH session dropped under `make run` in the foreground: SIGHUP to the
// whole process group (nginx, in a session of its own, does not get it: it
// would take it as a reload; it quits as it is told).
test('a hangup stops make run gracefully: the sender and ws-server stop as '
    + 'on SIGTERM, nginx quits, nothing is started again and nothing is '
    + 'left behind',
async () => {
    const port = await freePort();
    const senderLog = join(varDir, 'log', 'sender.log');
    const wsLog = join(varDir, 'log', 'ws-server.log');
    const errorLog = join(varDir, 'log', 'error.log');
    const senderAt = logSince(senderLog, 0).length;
    const wsAt = logSince(wsLog, 0).length;
    const errorAt = logSince(errorLog, 0).length;
    const run = await startRun(port, await freePort());
    assert.ok(wsServerPids().length > 0, 'ws-server runs');

    process.kill(-run.child.pid, 'SIGHUP');
    const code = await Promise.race([run.exited,
        new Promise((ok) => setTimeout(() => ok('timeout'), 20000))]);
    assert.notEqual(code, 'timeout', `scripts/run went on:\n${run.out}`);
    running = null;

    assert.match(run.out, /inbox stopped\./);
    assert.doesNotMatch(run.out, /starting it again/);
    const sender = logSince(senderLog, senderAt);
    assert.match(sender, /sender: stopping after/, sender);
    assert.match(sender, /sender: stopped/, sender);
    assert.match(logSince(wsLog, wsAt), /ws-server: stopped/);
    // nginx was told to quit gracefully, not to stop at once
    const nginx = logSince(errorLog, errorAt);
    assert.match(nginx, /signal 3 \(SIGQUIT\) received/, nginx);
    assert.doesNotMatch(nginx, /signal 15 \(SIGTERM\) received/, nginx);
    assert.deepEqual(wsServerPids(), [], 'no ws-server left behind');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`),
        'nginx is gone');
});
