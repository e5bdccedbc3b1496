#!/usr/bin/env node
// carrier-sim: a stand-in for Twilio and Telnyx that speaks their wire
// formats, for the tests and for `make run`.  See README.md.
//
//   node simulator/carrier-sim.mjs --port 8090 --inbox http://127.0.0.1:8080 \
//       --twilio AC...:TOKEN --number +15005550006:twilio:AC...

import { mkdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startServer } from './lib/server.mjs';

const USAGE = `usage: carrier-sim.mjs [options]
  --port N              port to listen on (8090; 0: any free port)
  --host ADDR           address to listen on (127.0.0.1)
  --public-url URL      the simulator's URL as the inbox reaches it (media
                        URLs in inbound webhooks); default http://host:port
  --state-dir DIR       keep the Telnyx key pair and the STOP block list
                        here across restarts
  --config FILE         a JSON configuration (README.md); the options
                        below add to it
  --inbox URL           the inbox's base URL (webhooks go to
                        URL/webhooks/twilio/inbound and URL/webhooks/telnyx)
  --inbox-public-url URL
                        the inbox's URL as carriers know it (its
                        inbox_public_url), for a proxy in front of it:
                        webhooks are addressed and signed for this URL
                        and posted to --inbox instead
  --twilio SID:TOKEN    a Twilio account (repeatable)
  --telnyx KEY          a Telnyx API key (repeatable)
  --number E164:twilio:SID[:URL] | E164:telnyx[:KEY[:URL]]
                        a business number (repeatable); URL is where its
                        inbound webhooks go (Twilio's SMS URL with its
                        #rp=... fragment, Telnyx's webhook URL)
  --delay-scale F       multiply every simulated delay (1; 0.1 is brisk)
  --help
On start it prints one line with its URLs and the Telnyx public key.`;

function die(msg) {
    process.stderr.write(`carrier-sim: ${msg}\n${USAGE}\n`);
    process.exit(2);
}

function options() {
    let parsed;
    try {
        parsed = parseArgs({ options: {
            port: { type: 'string' },
            host: { type: 'string' },
            'public-url': { type: 'string' },
            'state-dir': { type: 'string' },
            config: { type: 'string' },
            inbox: { type: 'string' },
            'inbox-public-url': { type: 'string' },
            twilio: { type: 'string', multiple: true },
            telnyx: { type: 'string', multiple: true },
            number: { type: 'string', multiple: true },
            'delay-scale': { type: 'string' },
            help: { type: 'boolean' },
        } }).values;
    } catch (e) {
        die(e.message);
    }
    if (parsed.help) {
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
    }
    let file = {};
    if (parsed.config) {
        try {
            file = JSON.parse(readFileSync(parsed.config, 'utf8'));
        } catch (e) {
            die(`cannot read ${parsed.config}: ${e.message}`);
        }
    }
    const { port, host, stateDir, publicUrl, ...config } = file;
    const o = { port: port ?? 8090, host: host ?? '127.0.0.1',
                stateDir: stateDir ?? null, publicUrl: publicUrl ?? null,
                config };
    if (parsed.port !== undefined) {
        o.port = Number(parsed.port);
    }
    if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
        die('--port must be 0 to 65535');
    }
    o.host = parsed.host ?? o.host;
    o.publicUrl = parsed['public-url'] ?? o.publicUrl;
    o.stateDir = parsed['state-dir'] ?? o.stateDir;
    if (parsed.inbox) {
        config.inbox = parsed.inbox;
    }
    if (parsed['inbox-public-url']) {
        config.inboxPublicUrl = parsed['inbox-public-url'];
    }
    const accounts = {};
    for (const a of parsed.twilio ?? []) {
        const i = a.indexOf(':');
        if (i < 0) {
            die(`--twilio ${a}: give SID:TOKEN`);
        }
        accounts[a.slice(0, i)] = a.slice(i + 1);
    }
    if (Object.keys(accounts).length > 0) {
        config.twilio = { accounts: { ...config.twilio?.accounts,
                                      ...accounts } };
    }
    if (parsed.telnyx) {
        config.telnyx = { apiKeys: [...(config.telnyx?.apiKeys ?? []),
                                    ...parsed.telnyx] };
    }
    for (const n of parsed.number ?? []) {
        // the URL keeps its own colons ("https://...")
        const [number, carrier, owner, ...rest] = n.split(':');
        const url = rest.length > 0 ? rest.join(':') : undefined;
        const spec = { number, carrier };
        if (carrier === 'twilio') {
            spec.account = owner;
            spec.smsUrl = url;
        } else {
            spec.apiKey = owner || undefined;
            spec.webhookUrl = url;
        }
        config.numbers = [...(config.numbers ?? []), spec];
    }
    if (parsed['delay-scale'] !== undefined) {
        config.delayScale = Number(parsed['delay-scale']);
    }
    return o;
}

const o = options();
if (o.stateDir) {
    mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
}
let s;
try {
    s = await startServer(o);
} catch (e) {
    die(e.message);
}
process.stdout.write(`carrier-sim on ${s.url}  phone page: ${s.url}/  `
    + `API base (Twilio and Telnyx): ${s.url}  control: ${s.url}/_sim/  `
    + `Telnyx public key: ${s.sim.signer.publicKeyBase64}\n`);

// SIGHUP too: a terminal gone (an SSH session dropped under make run)
// stops it as Ctrl-C does
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
        s.close().then(() => process.exit(0));
        setTimeout(() => process.exit(0), 2000).unref();
    });
}
