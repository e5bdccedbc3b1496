// A real inbox on loopback ports: a fresh SQLite store made by inboxctl,
// ws-server and nginx with the inbox module, all in a temporary directory.
//
//   const cluster = await startCluster({ orgs: [{ name: 'Acme' }] });
//   ... cluster.orgs[0].token, cluster.orgs[0].number, cluster.baseUrl ...
//   await cluster.stop();
//
// Every process is started in its own process group and killed at stop(),
// and again (SIGKILL) when the test process exits, whatever happened.

import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync,
         rmSync, openSync, closeSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)),
                                '..', '..');
export const buildDir = join(repoRoot, 'build');
// Each can be pointed elsewhere by an environment variable (debugging).
export const inboxctlPath = process.env.INBOXCTL
    || join(buildDir, 'inboxctl');
export const wsServerPath = process.env.INBOX_WS_SERVER
    || join(buildDir, 'ws-server');
export const senderPath = process.env.INBOX_SENDER
    || join(buildDir, 'sender');
export const modulePath = process.env.INBOX_NGINX_MODULE
    || join(buildDir, 'ngx_http_inbox_module.so');
export const webRoot = join(repoRoot, 'web');
// The locations and http-level settings the shipped nginx.conf includes.
export const configDir = join(repoRoot, 'config');
export const nginxPath = process.env.NGINX || '/usr/sbin/nginx';

const live = new Set();   // process groups to kill if the test process dies
const dirs = new Set();   // directories to remove then

function killAll() {
    for (const pid of live) {
        try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    if (!process.env.INBOX_KEEP_TEST_DIR) {
        for (const dir of dirs) {
            rmSync(dir, { recursive: true, force: true });
        }
    }
}

process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
        killAll();
        process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15
            : 1));
    });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A free loopback port, as the kernel hands one out.
export function freePort() {
    return new Promise((resolvePort, reject) => {
        const srv = createServer();
        srv.unref();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolvePort(port));
        });
    });
}

// n consecutive free loopback ports, for a server that takes port, port+1…
// They are taken below the kernel's ephemeral range, so that no other
// test's freePort() or outgoing connection can be handed port+1 meanwhile.
export async function freePortRun(n) {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range',
        'utf8').trim().split(/\s+/).map(Number);
    const first = 10000;
    for (let tries = 0; tries < 100; tries++) {
        const base = first
            + Math.floor(Math.random() * (low - first - n));
        const ports = Array.from({ length: n }, (_, k) => base + k);
        if ((await Promise.all(ports.map(portIsFree))).every(Boolean)) {
            return base;
        }
    }
    throw new Error(`no ${n} consecutive free ports below ${low}`);
}

function portIsFree(port) {
    return new Promise((answer) => {
        const srv = createServer();
        srv.unref();
        srv.on('error', () => answer(false));
        srv.listen(port, '127.0.0.1', () => srv.close(() => answer(true)));
    });
}

export async function inboxctl(store, ...args) {
    try {
        const { stdout } = await execFileAsync(inboxctlPath,
            ['--store', store, ...args], { timeout: 20000 });
        return stdout.trim();
    } catch (err) {
        throw new Error(`inboxctl ${args.join(' ')} failed: `
            + `${err.stderr || err.message}`);
    }
}

// Quiet hours one minute long, twelve and a half hours from now: the
// organizations' of a cluster unless a test names its own.  The default,
// 21:00-08:00, held a campaign sent in a test when the run came at night
// (UTC), and CI runs at any hour.  Half a day and half an hour away, the
// minute is not now on the clock of any zone a test may give the
// organization or a contact later (offsets run from -12:00 to +14:00,
// none at +12:30 or -11:30), and a file's run reaches it only after half
// an hour on a +12:00 clock, half a day on UTC's.
export function quietHoursOffNow(now = new Date()) {
    const at = new Date(now.getTime() + (12 * 60 + 30) * 60000);
    const hhmm = (d) => `${String(d.getUTCHours()).padStart(2, '0')}:`
        + String(d.getUTCMinutes()).padStart(2, '0');
    return `${hhmm(at)}-${hhmm(new Date(at.getTime() + 60000))}`;
}

// Starts a child in its own process group, its output appended to logPath;
// opts.env: more environment for it.
function startChild(cmd, args, logPath, opts = {}) {
    const fd = openSync(logPath, 'a');
    const child = spawn(cmd, args, {
        detached: true,
        stdio: ['ignore', opts.pipe ? 'pipe' : fd, opts.pipe ? 'pipe' : fd],
        cwd: opts.cwd,
        env: opts.env ? { ...process.env, ...opts.env } : undefined,
    });
    closeSync(fd);
    live.add(child.pid);
    child.exited = new Promise((r) => child.once('exit', (code, signal) => {
        live.delete(child.pid);
        r({ code, signal });
    }));
    return child;
}

// Sends sig to the child's group, then SIGKILL after graceMs if need be.
async function stopChild(child, sig = 'SIGTERM', graceMs = 5000) {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
        return;
    }
    try { process.kill(-child.pid, sig); } catch { /* gone */ }
    const timer = sleep(graceMs).then(() => 'timeout');
    if (await Promise.race([child.exited, timer]) === 'timeout') {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
        await child.exited;
    }
    // nginx workers share the group; make sure none outlives the master
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ }
}

function nginxConf(c) {
    const user = process.getuid && process.getuid() === 0
        ? 'user root root;\n' : '';
    return `# generated by tests/lib/cluster.mjs
load_module ${modulePath};
${user}daemon off;
master_process on;
worker_processes ${c.options.workerProcesses};
pid ${c.dir}/nginx.pid;
worker_shutdown_timeout 5s;
working_directory ${c.options.workingDirectory || c.dir};
worker_rlimit_core 512m;
error_log ${c.dir}/error.log ${c.options.errorLogLevel};
thread_pool inbox ${c.options.threadPool};
thread_pool inbox_password ${c.options.passwordPool};

events {
    worker_connections 1024;
}

http {
    client_body_temp_path ${c.dir}/tmp/client_body;
    proxy_temp_path ${c.dir}/tmp/proxy;
    fastcgi_temp_path ${c.dir}/tmp/fastcgi;
    uwsgi_temp_path ${c.dir}/tmp/uwsgi;
    scgi_temp_path ${c.dir}/tmp/scgi;
    include /etc/nginx/mime.types;
    include ${configDir}/inbox-http.conf;
    access_log ${c.dir}/access.log inbox;
    default_type application/octet-stream;

    inbox_store ${c.nginxStore};
    inbox_thread_pool inbox;
    inbox_public_url ${c.options.publicUrl || c.baseUrl};
    inbox_events_socket ${c.eventsSockets.join(' ')};
    inbox_sender_socket ${c.senderSocket};
    inbox_realtime_secret ${c.dir}/realtime.key;
    inbox_default_country US;
    inbox_media_dir ${c.mediaDir};
${c.options.http.map((line) => `    ${line}\n`).join('')}
    upstream inbox_ws {
        hash $inbox_ws_org consistent;
${c.wsPorts.map((p) => `        server 127.0.0.1:${p};\n`).join('')}    }

    server {
        listen ${c.options.dualStack ? `[::]:${c.port} ipv6only=off`
                 : `127.0.0.1:${c.port}`}${c.options.reuseport
                 ? ' reuseport' : ''};
        server_name localhost;

        root ${webRoot};
${c.options.server.map((line) => `        ${line}\n`).join('')}        include ${configDir}/inbox-server.conf;
    }
}
`;
}

export const sqlite3Path = process.env.SQLITE3 || 'sqlite3';

export async function holdWriteLock(dbPath, timeoutMs = 10000) {
    const child = spawn(sqlite3Path, ['-cmd', '.timeout 5000', dbPath], {
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(child.pid);
    child.exited = new Promise((r) => child.once('exit', (code, signal) => {
        live.delete(child.pid);
        r({ code, signal });
    }));
    child.once('error', () => {});
    child.stdin.on('error', () => {});
    let out = '';
    let err = '';
    child.stderr.on('data', (buf) => { err += buf; });
    try {
        await new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(
                `sqlite3 did not take the write lock within ${timeoutMs} ms`
                + `: ${err}`)), timeoutMs);
            child.stdout.on('data', (buf) => {
                out += buf;
                if (/locked/.test(out)) {
                    clearTimeout(timer);
                    ok();
                }
            });
            child.stderr.on('data', () => {
                clearTimeout(timer);
                fail(new Error(`sqlite3: ${err}`));
            });
            child.exited.then(({ code, signal }) => {
                clearTimeout(timer);
                fail(new Error(`sqlite3 exited (${code ?? signal}): ${err}`));
            });
            child.stdin.write("BEGIN IMMEDIATE;\nSELECT 'locked';\n");
        });
    } catch (e) {
        await stopChild(child, 'SIGKILL', 1000);
        throw e;
    }
    let released = null;
    return {
        release() {
            if (!released) {
                child.stdin.end('ROLLBACK;\n');
                released = Promise.race([child.exited, sleep(5000)])
                    .then(() => stopChild(child, 'SIGKILL', 1000));
            }
            return released;
        },
    };
}

// A maker of numbers in one random block of 10,000 of area code "area"
// (NPA plus the first digit of the exchange, e.g. '1646'): each call of
// the function it returns gives n more, none repeated within the run.
export function numberBlock(area) {
    const block = 200 + (randomBytes(2).readUInt16BE() % 700);
    let used = 0;
    return (n) => {
        const out = [];
        for (let i = 0; i < n; i++, used++) {
            out.push(`+${area}${block}${String(used).padStart(4, '0')}`);
        }
        return out;
    };
}

// A US number unlikely to collide with any other in the same store.
export function uniqueNumber() {
    const area = ['212', '312', '415', '617', '646', '718'][
        randomBytes(1)[0] % 6];
    const exchange = 200 + (randomBytes(2).readUInt16BE() % 800);
    const line = randomBytes(2).readUInt16BE() % 10000;
    return `+1${area}${exchange}${String(line).padStart(4, '0')}`;
}


// What startCluster's options may change; the defaults are what every test
// file got before there were options.
//   workerProcesses: nginx's worker_processes;
//   threadPool: the arguments of the "thread_pool inbox" line;
//   passwordPool: those of "thread_pool inbox_password" (sign-ins);
//   http: more http-level directives, each a string ("inbox_batch_size 1;");
//   server: more directives in the inbox's server block, before the
//     include of inbox-server.conf, as an operator's own locations beside
//     the inbox's;
//   errorLogLevel: error_log's level (info by default, to see everything;
//     the shipped configuration uses notice);
//   workingDirectory: nginx's working_directory, when not the cluster's
//     directory (nginx's prefix; crash cores are looked for there);
//   nginxEnv: more environment for nginx (a shim it preloads), or a
//     function of the cluster that answers it;
//   nginxStore: the inbox_store URI nginx is given (the organizations are
//     still made in the cluster's own store, cluster.store); when set,
//     nginx counts as started once /healthz answers at all, not only 200.
//   wsArgs: more ws-server arguments (it always gets --origin baseUrl);
//   reuseport: a listening socket per worker, so that the kernel spreads
//     new connections over the workers instead of the busiest taking most.
//   dualStack: listen on [::] with ipv6only=off, so that IPv4 clients
//     (127.0.0.1 still reaches it) arrive as ::ffff:a.b.c.d addresses.
//   publicUrl: inbox_public_url, when it is not the loopback address the
//     tests call (an https one makes session cookies Secure).
//   carrierSim: start the carrier simulator (tests/lib/carrier-sim.mjs)
//     first and point every organization's number at it (--api-base);
//     true, or the simulator's config to apply; cluster.sim is it.
//   wsServers: how many ws-server processes (each its own port and events
//     socket; cluster.wsList[i], startWs(i), stopWs(i); cluster.ws is the
//     first), behind nginx's upstream as config/nginx.conf.in has them;
//   sender: start the sender process too (build/sender), with senderArgs;
//     senderWrap: a command it runs under (prlimit), as startWs's wsWrap;
//     senderVerbose: false leaves out its --verbose (a line per send).
const defaultOptions = {
    workerProcesses: 2,
    threadPool: 'threads=4 max_queue=4096',
    passwordPool: 'threads=2 max_queue=64',
    http: [],
    server: [],
    errorLogLevel: 'info',
    nginxStore: null,
    nginxEnv: null,
    workingDirectory: null,
    wsArgs: [],
    wsServers: 1,
    reuseport: false,
    dualStack: false,
    publicUrl: null,
    carrierSim: false,
    sender: false,
    senderArgs: [],
    senderVerbose: true,
};

export class Cluster {
    constructor(options = {}) {
        this.options = { ...defaultOptions, ...options };
        this.options.http = [].concat(this.options.http);
        this.options.server = [].concat(this.options.server);
        this.dir = mkdtempSync(join(tmpdir(), 'inbox-test-'));
        dirs.add(this.dir);
        this.orgs = [];
        this.nginx = null;
        this.wsList = [];
        this.sender = null;
        this.sim = null;
        this.stopped = false;
    }

    get store() { return `sqlite:${this.dir}/inbox.db`; }
    get storePath() { return join(this.dir, 'inbox.db'); }
    get nginxStore() { return this.options.nginxStore || this.store; }
    get errorLogPath() { return join(this.dir, 'error.log'); }
    // inbox_media_dir: uploads and copies of inbound media (nginx makes it)
    get mediaDir() { return join(this.dir, 'media'); }
    get wsLogPath() { return this.wsLogPathOf(0); }
    // ws-server i's log and events socket (the first keeps the old names)
    wsLogPathOf(i) {
        return join(this.dir, i ? `ws-server-${i + 1}.log` : 'ws-server.log');
    }
    eventsSocketOf(i) {
        return join(this.dir, i ? `events-${i + 1}.sock` : 'events.sock');
    }
    get eventsSockets() {
        return this.wsPorts.map((_, i) => this.eventsSocketOf(i));
    }
    get wsPort() { return this.wsPorts[0]; }
    get ws() { return this.wsList[0] || null; }
    get senderSocket() { return join(this.dir, 'sender.sock'); }
    get senderLogPath() { return join(this.dir, 'sender.log'); }

    url(path) { return `${this.baseUrl}${path}`; }

    // quietHours: the organization's, as HH:MM-HH:MM; by default a minute
    // far from now (quietHoursOffNow), so that what a test sends goes at
    // any hour of the day it runs; null keeps the product's default
    // (21:00-08:00), for a test about that default.
    async addOrg({ name = 'Test Org', number = uniqueNumber(),
                   accountSid = `AC${randomBytes(16).toString('hex')}`,
                   authToken = randomBytes(16).toString('hex'),
                   quietHours = quietHoursOffNow() } = {}) {
        const id = await inboxctl(this.store, 'org', 'create', name);
        if (!id) {
            throw new Error('inboxctl org create printed no id');
        }
        if (quietHours !== null) {
            await inboxctl(this.store, 'settings', 'set', id,
                           '--quiet-hours', quietHours);
        }
        // the inbox's own keyword answers, which the tests look at (a
        // number's default leaves them to the carrier)
        await inboxctl(this.store, 'number', 'add', id, number,
            '--carrier', 'twilio', '--account-sid', accountSid,
            '--auth-token', authToken, '--keyword-answers', 'inbox',
            ...(this.sim ? ['--api-base', this.sim.url] : []));
        if (this.sim) {
            await this.sim.configure({
                twilio: { accounts: { [accountSid]: authToken } },
                numbers: [{ number, carrier: 'twilio', account: accountSid }],
            });
        }
        const token = await inboxctl(this.store, 'token', 'create', id);
        if (!token) {
            throw new Error('inboxctl token create printed no token');
        }
        const org = { id, name, number, accountSid, authToken, token,
                      quietHours };
        this.orgs.push(org);
        return org;
    }

    async startWs(i = 0) {
        const logPath = this.wsLogPathOf(i);
        // options.wsWrap: a command ws-server runs under (valgrind)
        const wrap = this.options.wsWrap ?? [];
        const child = startChild(wrap[0] ?? wsServerPath, [
            ...wrap.slice(1), ...(wrap.length > 0 ? [wsServerPath] : []),
            '--listen', `127.0.0.1:${this.wsPorts[i]}`,
            '--events', this.eventsSocketOf(i),
            '--secret', `${this.dir}/realtime.key`, '--store', this.store,
            '--origin', this.baseUrl, ...this.options.wsArgs],
            logPath, { pipe: true });
        this.wsList[i] = child;
        let seen = '';
        await new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(
                `ws-server did not say "listening" within 10 s:\n${seen}`)),
                10000);
            const onData = (buf) => {
                const text = buf.toString();
                seen += text;
                try { writeFileSync(logPath, text, { flag: 'a' }); }
                catch { /* the directory may be gone at teardown */ }
                if (/listening/i.test(seen)) {
                    clearTimeout(timer);
                    ok();
                }
            };
            child.stdout.on('data', onData);
            child.stderr.on('data', onData);
            child.exited.then(({ code, signal }) => {
                clearTimeout(timer);
                fail(new Error(`ws-server exited (${code ?? signal}):\n`
                    + seen));
            });
        });
        // keep logging after "listening", never block on a full pipe
        child.exited.catch(() => {});
    }

    // Resolves with how it exited ({ code, signal }).
    async stopWs(i = 0) {
        const child = this.wsList[i];
        await stopChild(child, 'SIGTERM', 15000);
        this.wsList[i] = null;
        return child ? child.exited : null;
    }

    // The sender process; resolves once it said it started.
    async startSender(args = this.options.senderArgs) {
        const wrap = this.options.senderWrap ?? [];
        const child = startChild(wrap[0] ?? senderPath, [
            ...wrap.slice(1), ...(wrap.length > 0 ? [senderPath] : []),
            '--store', this.store,
            '--wake', this.senderSocket,
            ...this.eventsSockets.flatMap((p) => ['--events', p]),
            '--public-url', this.baseUrl,
            '--media-dir', this.mediaDir,
            ...(this.options.senderVerbose ? ['--verbose'] : []), ...args],
            this.senderLogPath);
        this.sender = child;
        const deadline = Date.now() + 10000;
        while (!/sender: started/.test(this.readFile('sender.log'))) {
            if (child.exitCode !== null || child.signalCode !== null) {
                throw new Error('sender exited at start:\n'
                    + this.readFile('sender.log'));
            }
            if (Date.now() > deadline) {
                throw new Error('sender did not start within 10 s:\n'
                    + this.readFile('sender.log'));
            }
            await sleep(20);
        }
    }

    // signal SIGKILL is a crash: nothing in flight is recorded.
    async stopSender(signal = 'SIGTERM') {
        await stopChild(this.sender, signal);
        this.sender = null;
    }

    senderLog() {
        return this.readFile('sender.log');
    }

    // healthy: false counts nginx as started once /healthz answers at all
    // (a test that starts it on a missing or broken store).
    async startNginx({ healthy = true } = {}) {
        writeFileSync(join(this.dir, 'nginx.conf'), nginxConf(this));
        const env = this.options.nginxEnv;
        const child = startChild(nginxPath, ['-p', this.dir, '-c',
            join(this.dir, 'nginx.conf'), '-e', this.errorLogPath],
            join(this.dir, 'nginx.out'),
            { env: typeof env === 'function' ? env(this) : env });
        this.nginx = child;
        const deadline = Date.now() + 15000;
        let last = 'no answer';
        for (;;) {
            if (child.exitCode !== null || child.signalCode !== null) {
                throw new Error(`nginx exited at start:\n${this.errorLog()}`
                    + `\n${this.readFile('nginx.out')}`);
            }
            try {
                const res = await fetch(this.url('/healthz'),
                    { signal: AbortSignal.timeout(2000) });
                if (res.status === 200 || this.options.nginxStore
                    || !healthy) {
                    return;
                }
                last = `status ${res.status}`;
            } catch (err) {
                last = err.message;
            }
            if (Date.now() > deadline) {
                throw new Error(`/healthz not 200 within 15 s (${last}):\n`
                    + this.errorLog());
            }
            await sleep(100);
        }
    }

    async stopNginx() {
        await stopChild(this.nginx, 'SIGQUIT', 8000);
    }

    // `nginx -s reload`: new workers, then the old ones leave.  Resolves
    // once as many new workers started as old ones exited; with
    // untilExited false, once the old ones were told to leave (they may
    // linger for what they still serve, a WebSocket up to
    // worker_shutdown_timeout).
    async reloadNginx({ untilExited = true } = {}) {
        const count = (re) => (this.errorLog().match(re) || []).length;
        const started = /start worker process \d+/g;
        const leaving = /gracefully shutting down/g;
        const exited = /worker process \d+ exited/g;
        const before = [count(started), count(leaving), count(exited)];
        const n = this.options.workerProcesses;
        process.kill(this.nginx.pid, 'SIGHUP');
        const deadline = Date.now() + 10000;
        while (count(started) < before[0] + n
               || count(leaving) < before[1] + n
               || (untilExited && count(exited) < before[2] + n)) {
            if (Date.now() > deadline) {
                throw new Error('nginx did not reload within 10 s:\n'
                    + this.errorLog());
            }
            await sleep(50);
        }
    }

    readFile(name) {
        const p = join(this.dir, name);
        return existsSync(p) ? readFileSync(p, 'utf8') : '';
    }

    errorLog() {
        return this.readFile('error.log');
    }

    // Holds SQLite's write lock on the store from another process, as a
    // stalled writer would: the sqlite3 CLI inside BEGIN IMMEDIATE, its
    // stdin kept open.  Resolves once the lock is held, with release(),
    // which rolls back and waits for the CLI to exit.
    async lockStore() {
        return holdWriteLock(this.storePath);
    }

    // Lines of the error log that mean something went badly wrong.
    errorLogProblems() {
        return this.errorLog().split('\n').filter((line) =>
            /\[(alert|emerg|crit)\]/.test(line)
            || /exited on signal/.test(line)
            || /AddressSanitizer|runtime error:/.test(line));
    }

    async stop() {
        if (this.stopped) {
            return;
        }
        this.stopped = true;
        await stopChild(this.sender, 'SIGTERM');
        await stopChild(this.nginx, 'SIGQUIT', 8000);
        for (const ws of this.wsList) {
            await stopChild(ws, 'SIGTERM');
        }
        await this.sim?.stop();
    }

    // A crashed worker's backtraces, from the cores nginx left in its
    // working directory (worker_rlimit_core), read with gdb when this
    // machine has it; the directory is then kept for a closer look.
    async crashReport() {
        const cores = readdirSync(this.dir).filter((f) => /^core/.test(f));
        if (cores.length === 0) {
            return 'no core file was written (see core_pattern)';
        }
        this.keep = true;
        const traces = [`kept ${this.dir} with ${cores.join(', ')}`];
        for (const core of cores) {
            try {
                const { stdout } = await execFileAsync('gdb', ['-batch', '-q',
                    '-ex', 'thread apply all bt', nginxPath,
                    join(this.dir, core)], { timeout: 60000,
                    maxBuffer: 1 << 24 });
                traces.push(stdout);
            } catch (err) {
                traces.push(`gdb: ${err.message}`);
            }
        }
        return traces.join('\n');
    }

    // Removes the directory, unless INBOX_KEEP_TEST_DIR is set (debugging)
    // or it holds a crashed worker's core.
    cleanup() {
        if (!process.env.INBOX_KEEP_TEST_DIR && !this.keep) {
            rmSync(this.dir, { recursive: true, force: true });
            dirs.delete(this.dir);
        } else {
            process.stderr.write(`kept ${this.dir}\n`);
        }
    }
}

// Starts store, ws-server and nginx.  orgs: [{name, number, authToken,
// quietHours}] (addOrg's), one organization by default; the other options
// are Cluster's (above).
// On failure everything started is stopped.
export async function startCluster({ orgs = [{}], ...options } = {}) {
    for (const bin of [inboxctlPath, wsServerPath, modulePath,
                       ...(options.sender ? [senderPath] : [])]) {
        if (!existsSync(bin)) {
            throw new Error(`${bin} is missing: run "make all" first`);
        }
    }
    const c = new Cluster(options);
    try {
        // below the ephemeral range: a port freePort() found free there
        // could be some test's outgoing connection's before the server
        // binds it (ws-server once failed with EADDRINUSE so)
        c.port = await freePortRun(1);
        c.wsPorts = [];
        while (c.wsPorts.length < c.options.wsServers) {
            const port = await freePortRun(1);
            if (port !== c.port && !c.wsPorts.includes(port)) {
                c.wsPorts.push(port);
            }
        }
        c.baseUrl = `http://127.0.0.1:${c.port}`;
        mkdirSync(join(c.dir, 'tmp'));
        if (c.options.carrierSim) {
            const { startCarrierSim } = await import('./carrier-sim.mjs');
            const config = c.options.carrierSim === true ? {}
                : c.options.carrierSim;
            c.sim = await startCarrierSim({
                config: { inbox: c.baseUrl, ...config } });
        }
        for (const spec of orgs) {
            await c.addOrg(spec);
        }
        writeFileSync(join(c.dir, 'realtime.key'),
            randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
        for (let i = 0; i < c.options.wsServers; i++) {
            await c.startWs(i);
        }
        await c.startNginx();
        if (c.options.sender) {
            await c.startSender();
        }
    } catch (err) {
        await c.stop();
        c.cleanup();
        throw err;
    }
    return c;
}
