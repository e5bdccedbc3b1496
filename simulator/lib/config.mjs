// The simulator's configuration: the carriers' accounts, the numbers they
// own, where the inbox is, and how the simulated network behaves.  It
// comes from the command line, a JSON file, or POST /_sim/config; each
// patch is merged into what is there (see README.md for the fields).

export const E164 = /^\+[1-9]\d{6,14}$/;

export class ConfigError extends Error {}

export function defaultConfig() {
    return {
        // the inbox's base URL: inbound webhooks go to
        // {inbox}/webhooks/twilio/inbound and {inbox}/webhooks/telnyx
        inbox: null,
        // the inbox's URL as carriers know it, when a proxy stands in
        // front (its inbox_public_url): webhooks are addressed and Twilio
        // signed for it, and those under it posted to inbox instead
        inboxPublicUrl: null,
        // accounts: AccountSid -> auth token; mediaRedirect: where
        // Twilio's media URLs send a caller, as Twilio's go to its CDN
        // (null: the bytes themselves)
        twilio: { accounts: {}, mediaRedirect: null },
        telnyx: { apiKeys: [] },
        numbers: [],                        // the business numbers
        // milliseconds, [min, max], each multiplied by delayScale
        delays: { sending: [20, 80], sent: [100, 400], final: [300, 1500],
                  duplicate: [30, 200] },
        delayScale: 1,
        webhook: {
            // Telnyx's, first try included; Twilio's are its URL's
            // connection overrides' (twilio-overrides.mjs)
            attempts: 3,
            retryDelaysMs: [500, 2000],     // before the 2nd, the 3rd...
            timeoutMs: { twilio: 15000, telnyx: 2000 },
        },
        // Twilio also reports "sending" before "sent"
        twilioSendingCallback: false,
        // a number that texted STOP is refused (21610 / 40300) until START
        carrierOptOut: true,
        // the carrier answers STOP, START and HELP itself, as both do by
        // default
        carrierReplies: true,
        // how many sends the carrier's API works on at once (null: any
        // number), each for serviceMs; the others wait in turn
        api: { lanes: null, serviceMs: 0 },
    };
}

// The base of the inbox's webhook URLs, as a carrier addresses (and
// Twilio signs) them: the public URL, else the inbox's own; null if none.
export function inboxBase(cfg) {
    return cfg.inboxPublicUrl ?? cfg.inbox;
}

// Where a webhook addressed to url is posted: under the inbox's public URL,
// the same path under its own URL (as the proxy in front of it forwards
// it); anything else as it is.
export function postTarget(cfg, url) {
    const pub = cfg.inboxPublicUrl;
    if (pub && cfg.inbox && (url === pub || url.startsWith(`${pub}/`))) {
        return cfg.inbox + url.slice(pub.length);
    }
    return url;
}

function fail(msg) {
    throw new ConfigError(msg);
}

function isObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function httpUrl(v, what) {
    let u;
    try {
        u = new URL(v);
    } catch {
        fail(`${what} must be an http(s) URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        fail(`${what} must be an http(s) URL`);
    }
    return v.replace(/\/+$/, '');
}

function range(v, what) {
    if (!Array.isArray(v) || v.length !== 2
        || !v.every((n) => Number.isFinite(n) && n >= 0) || v[0] > v[1]) {
        fail(`${what} must be [min, max] in milliseconds`);
    }
    return [v[0], v[1]];
}

function number(spec, cfg) {
    if (!isObject(spec) || typeof spec.number !== 'string'
        || !E164.test(spec.number)) {
        fail('each of numbers needs "number" in E.164 form (+15551234567)');
    }
    if (spec.carrier !== 'twilio' && spec.carrier !== 'telnyx') {
        fail(`number ${spec.number}: "carrier" must be twilio or telnyx`);
    }
    const n = { number: spec.number, carrier: spec.carrier };
    if (spec.carrier === 'twilio') {
        const sid = spec.account ?? spec.accountSid;
        if (typeof sid !== 'string' || !(sid in cfg.twilio.accounts)) {
            fail(`number ${spec.number}: "account" must be a Twilio `
                 + 'AccountSid configured in twilio.accounts');
        }
        n.account = sid;
        if (spec.messagingServiceSid !== undefined) {
            n.messagingServiceSid = String(spec.messagingServiceSid);
        }
    } else {
        if (spec.apiKey !== undefined) {
            if (!cfg.telnyx.apiKeys.includes(spec.apiKey)) {
                fail(`number ${spec.number}: "apiKey" must be one of `
                     + 'telnyx.apiKeys');
            }
            n.apiKey = spec.apiKey;
        }
        n.messagingProfileId = spec.messagingProfileId
            ?? '40017f4d-8e26-4a6b-9dd6-7f6a5c1a2b3c';
    }
    for (const k of ['smsUrl', 'webhookUrl']) {
        if (spec[k] !== undefined && spec[k] !== null) {
            n[k] = httpUrl(spec[k], `number ${spec.number}: ${k}`);
        }
    }
    return n;
}

// Merges patch into cfg (changed in place); throws ConfigError, leaving
// cfg as it was, when a field is wrong.
export function applyConfig(cfg, patch) {
    if (!isObject(patch)) {
        fail('the configuration must be a JSON object');
    }
    const next = structuredClone(cfg);
    const known = new Set(Object.keys(defaultConfig()));
    for (const k of Object.keys(patch)) {
        if (!known.has(k)) {
            fail(`unknown configuration field "${k}"`);
        }
    }
    if (patch.inbox !== undefined) {
        next.inbox = patch.inbox === null ? null
            : httpUrl(patch.inbox, 'inbox');
    }
    if (patch.inboxPublicUrl !== undefined) {
        next.inboxPublicUrl = patch.inboxPublicUrl === null ? null
            : httpUrl(patch.inboxPublicUrl, 'inboxPublicUrl');
    }
    if (patch.twilio !== undefined) {
        const accounts = patch.twilio?.accounts ?? {};
        if (!isObject(patch.twilio) || !isObject(accounts)) {
            fail('twilio.accounts must be an object: AccountSid -> token');
        }
        for (const k of Object.keys(patch.twilio)) {
            if (k !== 'accounts' && k !== 'mediaRedirect') {
                fail(`unknown configuration field "twilio.${k}"`);
            }
        }
        if (patch.twilio.mediaRedirect !== undefined) {
            next.twilio.mediaRedirect = patch.twilio.mediaRedirect === null
                ? null
                : httpUrl(patch.twilio.mediaRedirect, 'twilio.mediaRedirect');
        }
        for (const [sid, token] of Object.entries(accounts)) {
            if (!/^AC[0-9a-fA-F]{32}$/.test(sid)) {
                fail(`twilio account "${sid}" is not AC + 32 hex digits`);
            }
            if (token === null) {
                delete next.twilio.accounts[sid];
            } else if (typeof token !== 'string' || token === '') {
                fail(`twilio account ${sid}: the auth token is a string`);
            } else {
                next.twilio.accounts[sid] = token;
            }
        }
    }
    if (patch.telnyx !== undefined) {
        const keys = patch.telnyx?.apiKeys;
        if (!Array.isArray(keys)
            || !keys.every((k) => typeof k === 'string' && k !== '')) {
            fail('telnyx.apiKeys must be a list of strings');
        }
        for (const k of keys) {
            if (!next.telnyx.apiKeys.includes(k)) {
                next.telnyx.apiKeys.push(k);
            }
        }
    }
    if (patch.numbers !== undefined) {
        if (!Array.isArray(patch.numbers)) {
            fail('numbers must be a list');
        }
        for (const spec of patch.numbers) {
            const n = number(spec, next);
            next.numbers = next.numbers.filter((o) => o.number !== n.number);
            next.numbers.push(n);
        }
    }
    if (patch.delays !== undefined) {
        if (!isObject(patch.delays)) {
            fail('delays must be an object');
        }
        for (const [k, v] of Object.entries(patch.delays)) {
            if (!(k in next.delays)) {
                fail(`unknown delay "${k}"`);
            }
            next.delays[k] = range(v, `delays.${k}`);
        }
    }
    if (patch.delayScale !== undefined) {
        if (!Number.isFinite(patch.delayScale) || patch.delayScale < 0) {
            fail('delayScale must be a number >= 0');
        }
        next.delayScale = patch.delayScale;
    }
    if (patch.webhook !== undefined) {
        const w = patch.webhook;
        if (!isObject(w)) {
            fail('webhook must be an object');
        }
        if (w.attempts !== undefined) {
            if (!Number.isInteger(w.attempts) || w.attempts < 1
                || w.attempts > 10) {
                fail('webhook.attempts must be 1 to 10');
            }
            next.webhook.attempts = w.attempts;
        }
        if (w.retryDelaysMs !== undefined) {
            if (!Array.isArray(w.retryDelaysMs) || !w.retryDelaysMs.every(
                (n) => Number.isFinite(n) && n >= 0)) {
                fail('webhook.retryDelaysMs must be a list of milliseconds');
            }
            next.webhook.retryDelaysMs = [...w.retryDelaysMs];
        }
        if (w.timeoutMs !== undefined) {
            if (!isObject(w.timeoutMs)) {
                fail('webhook.timeoutMs must be { twilio, telnyx }');
            }
            for (const [k, v] of Object.entries(w.timeoutMs)) {
                if (!(k in next.webhook.timeoutMs) || !Number.isFinite(v)
                    || v <= 0) {
                    fail('webhook.timeoutMs must be { twilio, telnyx } in '
                         + 'milliseconds');
                }
                next.webhook.timeoutMs[k] = v;
            }
        }
    }
    if (patch.api !== undefined) {
        const a = patch.api;
        if (!isObject(a)) {
            fail('api must be an object: { lanes, serviceMs }');
        }
        if (a.lanes !== undefined) {
            if (a.lanes !== null
                && (!Number.isInteger(a.lanes) || a.lanes < 1)) {
                fail('api.lanes must be a whole number >= 1, or null');
            }
            next.api.lanes = a.lanes;
        }
        if (a.serviceMs !== undefined) {
            if (!Number.isFinite(a.serviceMs) || a.serviceMs < 0) {
                fail('api.serviceMs must be milliseconds >= 0');
            }
            next.api.serviceMs = a.serviceMs;
        }
    }
    for (const k of ['twilioSendingCallback', 'carrierOptOut',
                     'carrierReplies']) {
        if (patch[k] !== undefined) {
            if (typeof patch[k] !== 'boolean') {
                fail(`${k} must be true or false`);
            }
            next[k] = patch[k];
        }
    }
    Object.assign(cfg, next);
    return cfg;
}
