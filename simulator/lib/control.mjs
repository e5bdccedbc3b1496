// The control API under /_sim/, JSON in and out, for tests and the phone
// page: configure, send as a contact, see what happened, ask for
// failures, reset.  Errors are {"error":{"code","message"}}.

import { applyConfig, ConfigError } from './config.mjs';
import { FailureError } from './failures.mjs';
import { InboundError, sendInbound } from './inbound.mjs';
import { sampleMedia } from './media.mjs';

const err = (status, code, message) => ({ status,
    json: { error: { code, message } } });

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

// Opens the Server-Sent Events stream: every message and webhook change.
function openStream(sim, req, res) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream',
                         'Cache-Control': 'no-store',
                         Connection: 'keep-alive' });
    res.write(': carrier-sim\n\n');
    sim.streams.add(res);
    const ping = setInterval(() => res.write(': ping\n\n'), 15000);
    req.on('close', () => {
        clearInterval(ping);
        sim.streams.delete(res);
    });
}

export async function control(sim, ctx, req, res) {
    const { method, query } = ctx;
    const path = ctx.path.slice('/_sim'.length) || '/';
    const route = `${method} ${path}`;
    try {
        switch (route) {
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
            const { msg, delivered } = sendInbound(sim, spec, ctx.publicUrl);
            if (spec.wait === false) {
                delivered.catch(() => {});
                return { status: 202, json: { message: msg } };
            }
            const webhook = await delivered;
            return { status: 200, json: { message: msg, webhook } };
        }
        case 'GET /requests':
            return listed(sim.requests, query, ['carrier', 'kind']);
        case 'GET /messages': {
            let items = [...sim.messages.values()];
            const contact = query.get('contact');
            if (contact !== null) {
                items = items.filter((m) => (m.direction === 'inbound'
                    ? m.from : m.to) === contact);
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
        case 'GET /optouts':
            return { status: 200, json: { items: sim.optouts.list() } };
        case 'GET /samples':
            return { status: 200, json: { items: [...sampleMedia()].map(
                ([name, s]) => ({ name, content_type: s.contentType,
                                  size: s.bytes.length,
                                  url: `/_sim/samples/${name}` })) } };
        case 'GET /telnyx/public-key':
            return { status: 200,
                     json: { public_key: sim.signer.publicKeyBase64 } };
        case 'GET /events':
            openStream(sim, req, res);
            return { streamed: true };
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
