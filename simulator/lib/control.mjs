// The control API under /_sim/, JSON in and out, for tests and the phone
// page: configure, send as a contact, see what happened, ask for
// failures, reset.  Errors are {"error":{"code","message"}}.
//
// Only this machine (a loopback address) has all of it: the configuration
// holds the carriers' auth tokens and says where webhooks go, and the
// logs hold everyone's messages.  A caller elsewhere (make run listening
// on all addresses, for the phone page) gets the phone page's routes
// only, and one contact's messages at a time.

import { applyConfig, ConfigError, E164 } from './config.mjs';
import { FailureError } from './failures.mjs';
import { InboundError, sendInbound } from './inbound.mjs';
import { sampleMedia } from './media.mjs';

const err = (status, code, message) => ({ status,
    json: { error: { code, message } } });

// What the phone page calls; those listed in CONTACT_ROUTES only with
// ?contact=, and answer for that contact only.
const PHONE_ROUTES = new Set(['GET /phone', 'POST /inbound', 'GET /messages',
                              'GET /events', 'GET /optouts', 'GET /samples',
                              'GET /telnyx/public-key']);
const CONTACT_ROUTES = new Set(['GET /messages', 'GET /events',
                                'GET /optouts']);
const PHONE_FILES = /^\/(samples|media)\/[^/]+$/;

// 127.0.0.0/8 and ::1, also as a dual-stack listener sees IPv4
// (::ffff:127.0.0.1).
export function isLoopback(address) {
    const a = String(address ?? '').replace(/^::ffff:/i, '');
    return a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
}

// Why a caller on another machine may not have route, or null.
function refusedRemotely(method, path, route, query) {
    if (method === 'GET' && PHONE_FILES.test(path)) {
        return null;
    }
    if (!PHONE_ROUTES.has(route)) {
        return err(403, 'forbidden', `/_sim${path} answers only on the `
                   + 'simulator\'s own machine (a loopback address); from '
                   + 'elsewhere only the phone page\'s routes');
    }
    if (CONTACT_ROUTES.has(route) && !E164.test(query.get('contact') ?? '')) {
        return err(403, 'forbidden', `from elsewhere, /_sim${path} answers `
                   + 'for one contact: add ?contact=+15551234567');
    }
    return null;
}

const contactOf = (m) => (m.direction === 'inbound' ? m.from : m.to);

function parseJson(raw) {
    if (raw.length === 0) {
        return {};
    }
    try {
        return JSON.parse(raw.toString('utf8'));
    } catch {
        throw new ConfigError('the body is not JSON');
    }
}

function listed(items, query, fields) {
    let out = items;
    for (const f of fields) {
        const v = query.get(f);
        if (v !== null) {
            out = out.filter((x) => String(x[f]) === v);
        }
    }
    const since = query.get('since');
    if (since !== null) {
        out = out.filter((x) => x.seq > Number(since));
    }
    return { status: 200, json: { items: out } };
}

function configView(sim, publicUrl) {
    return { config: sim.config, url: publicUrl,
             telnyx_public_key: sim.signer.publicKeyBase64 };
}

// What the phone page shows: no auth token, nothing it could change.
function phoneView(sim, local) {
    const c = sim.config;
    return { inbox: c.inbox,
             numbers: c.numbers.map((n) => ({ number: n.number,
                                               carrier: n.carrier })),
             twilio_accounts: Object.keys(c.twilio.accounts),
             telnyx_public_key: sim.signer.publicKeyBase64, local };
}

// Opens the Server-Sent Events stream: every message and webhook change,
// or (keep) only the events keep(type, data) lets through.
function openStream(sim, req, res, keep) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream',
                         'Cache-Control': 'no-store',
                         Connection: 'keep-alive' });
    res.write(': carrier-sim\n\n');
    sim.streams.set(res, keep);
    const ping = setInterval(() => res.write(': ping\n\n'), 15000);
    req.on('close', () => {
        clearInterval(ping);
        sim.streams.delete(res);
    });
}

export async function control(sim, ctx, req, res) {
    const { method, query, local } = ctx;
    const path = ctx.path.slice('/_sim'.length) || '/';
    const route = `${method} ${path}`;
    const refused = local ? null
        : refusedRemotely(method, path, route, query);
    if (refused) {
        return refused;
    }
    try {
        switch (route) {
        case 'GET /phone':
            return { status: 200, json: phoneView(sim, local) };
        case 'GET /config':
            return { status: 200, json: configView(sim, ctx.publicUrl) };
        case 'POST /config':
            applyConfig(sim.config, parseJson(ctx.raw));
            return { status: 200, json: configView(sim, ctx.publicUrl) };
        case 'POST /reset':
            sim.reset({ everything: parseJson(ctx.raw).everything === true });
            return { status: 200, json: { reset: true } };
        case 'POST /inbound': {
            const spec = parseJson(ctx.raw);
            if (!local && spec.sid !== undefined) {
                // it would replace the simulator's message of that id
                return err(403, 'forbidden', 'sid is for the simulator\'s '
                           + 'own machine');
            }
            const { msg, delivered } = sendInbound(sim, spec, ctx.publicUrl);
            if (spec.wait === false) {
                delivered.catch(() => {});
                return { status: 202, json: { message: msg } };
            }
            const webhook = await delivered;
            // the webhook's record (its signature, the inbox's answer) is
            // this machine's; the message says how delivery went
            return { status: 200, json: local ? { message: msg, webhook }
                : { message: msg } };
        }
        case 'GET /requests':
            return listed(sim.requests, query, ['carrier', 'kind']);
        case 'GET /messages': {
            let items = [...sim.messages.values()];
            const contact = query.get('contact');
            if (contact !== null) {
                items = items.filter((m) => contactOf(m) === contact);
            }
            return listed(items, query, ['carrier', 'direction']);
        }
        case 'GET /webhooks':
            return listed(sim.webhooks, query,
                          ['carrier', 'kind', 'message_id', 'state']);
        case 'GET /failures':
            return { status: 200, json: { items: sim.failures.rules } };
        case 'POST /failures': {
            const spec = parseJson(ctx.raw);
            const specs = Array.isArray(spec) ? spec : [spec];
            const added = specs.map((s) => sim.failures.add(s));
            return { status: 201, json: { items: added } };
        }
        case 'DELETE /failures':
            sim.failures.clear();
            return { status: 200, json: { items: [] } };
        case 'POST /release':
            return { status: 200, json: { released: sim.release() } };
        case 'GET /optouts':
            return listed(sim.optouts.list(), query, ['contact', 'number']);
        case 'GET /samples':
            return { status: 200, json: { items: [...sampleMedia()].map(
                ([name, s]) => ({ name, content_type: s.contentType,
                                  size: s.bytes.length,
                                  url: `/_sim/samples/${name}` })) } };
        case 'GET /telnyx/public-key':
            return { status: 200,
                     json: { public_key: sim.signer.publicKeyBase64 } };
        case 'GET /events': {
            const contact = query.get('contact');
            openStream(sim, req, res, local ? null
                : (type, data) => type === 'reset'
                    || (type === 'message' && contactOf(data) === contact));
            return { streamed: true };
        }
        default:
            break;
        }
        let m = /^\/messages\/([^/]+)$/.exec(path);
        if (m && method === 'GET') {
            const msg = sim.messages.get(decodeURIComponent(m[1]));
            return msg ? { status: 200, json: msg }
                : err(404, 'not_found', 'no such message');
        }
        m = /^\/(samples|media)\/([^/]+)$/.exec(path);
        if (m && method === 'GET') {
            const key = decodeURIComponent(m[2]);
            const got = m[1] === 'samples' ? sampleMedia().get(key)
                : sim.media.get(key);
            return got ? { status: 200, bytes: got.bytes,
                           contentType: got.contentType }
                : err(404, 'not_found', `no ${m[1].replace(/s$/, '')} `
                      + `"${key}"`);
        }
        return err(404, 'not_found', `no control route ${route}`);
    } catch (e) {
        if (e instanceof ConfigError || e instanceof FailureError) {
            return err(400, 'invalid_request', e.message);
        }
        if (e instanceof InboundError) {
            return err(e.status, e.status === 409 ? 'not_configured'
                : 'invalid_request', e.message);
        }
        throw e;
    }
}
