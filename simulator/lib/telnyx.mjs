// Telnyx, as the inbox meets it: POST /v2/messages (JSON, Bearer API key,
// Telnyx's {"errors": [...]} answers), the message.sent and
// message.finalized events, message.received for a contact's message, each
// webhook signed with Ed25519 over "timestamp|body".

import { randomUUID } from 'node:crypto';
import { E164, inboxBase } from './config.mjs';
import { runOutbound } from './outbound.mjs';
import { rateLimited } from './respond.mjs';
import { segmentsOf } from './segments.mjs';
import { deliverWebhook } from './webhooks.mjs';

const ORGANIZATION_ID = 'b448f9cc-a842-4784-98e9-03c1a5872950';
const SMS_PARTS_MAX = 10;

export function telnyxError(status, code, title, detail, pointer) {
    const e = { code, title, detail,
                meta: { url: `https://developers.telnyx.com/docs/overview/`
                             + `errors/${code}` } };
    if (pointer) {
        e.source = { pointer };
    }
    return { status, json: { errors: [e] } };
}

const unauthorized = () => telnyxError(401, '10009', 'Authentication failed',
    'The required authentication headers were either invalid or not '
    + 'included in the request.');

const missing = (name) => telnyxError(422, '10004',
    'Missing required parameter', `The '${name}' parameter is required.`,
    `/${name}`);

function authenticate(sim, ctx) {
    const a = ctx.auth;
    if (a?.scheme !== 'bearer'
        || !sim.config.telnyx.apiKeys.includes(a.token)) {
        return null;
    }
    return a.token;
}

function validUrl(u) {
    try {
        const p = new URL(u).protocol;
        return p === 'http:' || p === 'https:';
    } catch {
        return false;
    }
}

// A time as Telnyx writes it: "2019-12-09T20:16:07.588+00:00", never "Z".
// iso is the simulator's own ISO 8601 UTC time (or null).
export function telnyxTime(iso) {
    return iso ? iso.replace(/Z$/, '+00:00') : null;
}

// The message record, as the API answers and the events carry it.
export function messageRecord(msg) {
    const contact = { carrier: 'T-MOBILE USA, INC.', line_type: 'Wireless' };
    const ours = { carrier: 'Telnyx', line_type: 'Wireless' };
    const { encoding, parts } = segmentsOf(msg.body);
    const outbound = msg.direction === 'outbound';
    return {
        record_type: 'message',
        direction: msg.direction,
        id: msg.id,
        type: msg.media.length > 0 ? 'MMS' : 'SMS',
        messaging_profile_id: msg.messaging_profile_id,
        organization_id: ORGANIZATION_ID,
        from: { phone_number: msg.from, ...(outbound ? ours : contact) },
        to: [{ phone_number: msg.to, status: msg.status,
               ...(outbound ? contact : ours) }],
        cc: [],
        text: msg.body,
        subject: msg.subject ?? null,
        media: msg.media.map((m) => ({ url: m.url,
            content_type: m.content_type ?? null,
            sha256: m.sha256 ?? null, size: m.size ?? null })),
        webhook_url: msg.webhook_url ?? null,
        webhook_failover_url: msg.webhook_failover_url ?? null,
        encoding,
        parts,
        tags: [],
        cost: outbound ? { amount: '0.0040', currency: 'USD' } : null,
        received_at: telnyxTime(msg.created_at),
        sent_at: telnyxTime(msg.sent_at),
        completed_at: telnyxTime(msg.completed_at),
        valid_until: null,
        errors: msg.error_code ? [{ code: msg.error_code,
                                    title: msg.error_message,
                                    detail: msg.error_detail
                                            ?? msg.error_message }] : [],
    };
}

// POST /v2/messages
export async function telnyxSend(sim, ctx) {
    let req;
    try {
        req = JSON.parse(ctx.raw.toString('utf8'));
        ctx.record.json = req;
    } catch {
        req = undefined;
    }
    const key = authenticate(sim, ctx);
    if (!key) {
        return unauthorized();
    }
    if (req === undefined) {
        return telnyxError(400, '10015', 'Bad Request',
                           'The request failed because it was not '
                           + 'well-formed.');
    }
    if (req === null || typeof req !== 'object' || Array.isArray(req)) {
        return telnyxError(400, '10015', 'Bad Request',
                           'The request body must be a JSON object.');
    }
    const to = Array.isArray(req.to) && req.to.length === 1 ? req.to[0]
        : req.to;
    const injected = sim.failures.takeRequest('telnyx',
        typeof to === 'string' ? to : undefined);
    if (injected?.type === 'hold' && !await sim.heldUntilReleased()) {
        // reset (or closed) while held: never answered
        return { hold: true };
    }
    if (injected?.type === 'http_error') {
        // processed: taken and sent, then the answer failed
        const taken = injected.processed ? telnyxAccept(sim, key, req, to)
            : {};
        return { ...telnyxError(injected.status, '10007', 'Unexpected error',
                                'An unexpected error occured.'),
                 message_id: taken.message_id, start: taken.start };
    }
    if (injected?.type === 'rate_limit') {
        return rateLimited(telnyxError(429, '10011', 'Too many requests',
            'Too many requests have been made in a short period.'),
            injected);
    }
    if (injected?.type === 'account_refused') {
        // a known key that may not act on the number: nothing goes
        return telnyxError(403, '10010', 'Authorization failed',
                           'You do not have permission to perform the '
                           + 'requested action on the specified resource '
                           + 'or resources.');
    }
    const answer = telnyxAccept(sim, key, req, to);
    if (injected?.type === 'timeout') {
        // processed: sent all the same, the answer lost on the way
        return injected.processed
            ? { hold: true, message_id: answer.message_id,
                start: answer.start }
            : { hold: true };
    }
    if (injected?.type === 'late_answer') {
        return { ...answer, delayMs: injected.delayMs };
    }
    return answer;
}

function telnyxAccept(sim, key, req, to) {
    if (to === undefined || to === null || to === '') {
        return missing('to');
    }
    if (typeof to !== 'string' || !E164.test(to)) {
        return telnyxError(400, '40310', "Invalid 'to' address",
                           "The 'to' address should be a single valid "
                           + 'number.', '/to');
    }
    if (req.from === undefined || req.from === null || req.from === '') {
        return missing('from');
    }
    const owned = sim.config.numbers.filter((n) => n.carrier === 'telnyx'
        && (!n.apiKey || n.apiKey === key));
    const number = owned.find((n) => n.number === req.from);
    if (typeof req.from !== 'string' || !E164.test(req.from)
        || (owned.length > 0 && !number)) {
        // Telnyx's words: a from not in the key's messaging profiles
        return telnyxError(400, '40305', "Invalid 'from' address",
                           "The 'from' address should be string containing "
                           + 'a valid number associated with the sending '
                           + 'messaging profile.', '/from');
    }
    const media = req.media_urls ?? [];
    if (!Array.isArray(media) || !media.every((u) => typeof u === 'string')) {
        return telnyxError(422, '10015', 'Bad Request',
                           "'media_urls' must be a list of URLs.",
                           '/media_urls');
    }
    const text = req.text ?? '';
    if (typeof text !== 'string') {
        return telnyxError(422, '10015', 'Bad Request',
                           "'text' must be a string.", '/text');
    }
    if (text === '' && media.length === 0) {
        return missing('text');
    }
    // Telnyx sends an SMS of at most 10 parts and refuses a longer one
    // outright; an MMS's text is not split into parts.
    const parts = segmentsOf(text).parts;
    if (media.length === 0 && parts > SMS_PARTS_MAX) {
        return telnyxError(400, '40302', 'Message too large',
                           `The message is ${parts} parts long; at most `
                           + `${SMS_PARTS_MAX} may be sent.`, '/text');
    }
    for (const u of media) {
        if (!validUrl(u)) {
            return telnyxError(422, '10003', 'Invalid URL',
                               `The URL ${u} is invalid.`, '/media_urls');
        }
    }
    for (const k of ['webhook_url', 'webhook_failover_url']) {
        if (req[k] !== undefined && req[k] !== null && req[k] !== ''
            && !validUrl(req[k])) {
            return telnyxError(422, '10003', 'Invalid URL',
                               `The URL ${req[k]} is invalid.`, `/${k}`);
        }
    }
    if (sim.config.carrierOptOut && sim.optouts.isBlocked(req.from, to)) {
        return telnyxError(400, '40300', 'Blocked due to STOP message',
                           `Messages cannot be sent from '${req.from}' to `
                           + `'${to}' due to an existing block rule.`,
                           '/to');
    }

    const now = new Date().toISOString();
    const msg = {
        id: randomUUID(), carrier: 'telnyx', direction: 'outbound',
        account: key, from: req.from, to, body: text,
        subject: req.subject ?? null,
        media_urls: media,
        media: media.map((url) => ({ url, content_type: null })),
        messaging_profile_id: number?.messagingProfileId
            ?? req.messaging_profile_id ?? null,
        webhook_url: req.webhook_url || null,
        webhook_failover_url: req.webhook_failover_url || null,
        profile_webhook: req.use_profile_webhooks === false ? null
            : number?.webhookUrl ?? (inboxBase(sim.config)
                ? `${inboxBase(sim.config)}/webhooks/telnyx` : null),
        segments: parts,
        status: 'queued', error_code: null, error_message: null,
        created_at: now, updated_at: now, history: [],
    };
    msg.history.push({ status: 'queued', at: now });
    return { status: 200, json: { data: messageRecord(msg) },
             message_id: msg.id,
             start: () => {
                 sim.addMessage(msg);
                 runOutbound(sim, msg, telnyxCarrier(sim)).catch(sim.oops);
             } };
}

// Telnyx has no partial delivery: a message some of which arrived is
// delivered.
const STATUS = { sent: 'sent', delivered: 'delivered',
                 undelivered: 'delivery_failed', failed: 'sending_failed',
                 unconfirmed: 'delivery_unconfirmed', expired: 'expired',
                 partially_delivered: 'delivered' };

const FAILURES = {
    unreachable: ['40008', 'Undeliverable'],
    type: ['40008', 'Undeliverable'],
    size: ['40008', 'Undeliverable'],
    undelivered: ['40008', 'Undeliverable'],
    failed: ['40008', 'Undeliverable'],
    expired: ['40005', 'Message expired during transmission'],
};

// An event to url, signed anew on every attempt (meta.attempt changes).
export function postEvent(sim, record, eventType, payload) {
    const id = randomUUID();
    const occurredAt = telnyxTime(new Date().toISOString());
    return deliverWebhook(sim, { ...record, event: eventType }, (attempt) => {
        const body = JSON.stringify({
            data: { event_type: eventType, id, occurred_at: occurredAt,
                    payload, record_type: 'event' },
            meta: { attempt, delivered_to: record.url },
        });
        return { body, headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'telnyx-webhooks',
            ...sim.signer.headers(body) } };
    });
}

function telnyxCarrier(sim) {
    return {
        name: 'telnyx',
        status: (step) => STATUS[step] ?? null,
        failure(reason, plan) {
            const [code, message] = FAILURES[reason];
            return { code: plan.errorCode ?? code, message };
        },
        async notify(msg, status) {
            const urls = [msg.webhook_url, msg.webhook_failover_url,
                          msg.profile_webhook].filter(Boolean);
            const event = status === 'sent' ? 'message.sent'
                : 'message.finalized';
            const payload = messageRecord({ ...msg, status });
            let rec = null;
            for (const url of urls) {
                rec = await postEvent(sim, { carrier: 'telnyx',
                    kind: 'status', status, message_id: msg.id, url },
                    event, payload);
                if (rec.state === 'delivered') {
                    break;
                }
            }
            return rec;
        },
    };
}

// GET /v2/messages/{id}: another API key's message is not found, as
// another Telnyx account's is.
export function telnyxFetch(sim, ctx, id) {
    const key = authenticate(sim, ctx);
    if (!key) {
        return unauthorized();
    }
    const msg = sim.messages.get(id);
    if (!msg || msg.carrier !== 'telnyx'
        || (msg.account && msg.account !== key)) {
        return telnyxError(404, '10005', 'Resource not found',
                           'The requested resource or URL could not be '
                           + 'found.');
    }
    return { status: 200, json: { data: messageRecord(msg) } };
}

// A contact's message to a Telnyx number: message.received to the
// number's (its messaging profile's) webhook URL.
export function telnyxInbound(sim, number, { from, body, media, publicUrl,
                                             sid }) {
    const now = new Date().toISOString();
    const msg = {
        id: sid ?? randomUUID(), carrier: 'telnyx', direction: 'inbound',
        account: number.apiKey ?? null, from, to: number.number, body,
        media_urls: [],
        media: media.map((m) => {
            const key = sim.putMedia(m.bytes, m.contentType);
            return { url: `${publicUrl}/telnyx-media/${key}`,
                     content_type: m.contentType, size: m.bytes.length,
                     local_url: `/_sim/media/${key}` };
        }),
        messaging_profile_id: number.messagingProfileId,
        webhook_url: null,
        segments: segmentsOf(body).parts,
        status: 'webhook_delivered', created_at: now, updated_at: now,
        history: [{ status: 'received', at: now }],
    };
    const url = number.webhookUrl
        ?? `${inboxBase(sim.config)}/webhooks/telnyx`;
    msg.webhook_url = url;
    sim.addMessage(msg);
    const delivered = postEvent(sim, { carrier: 'telnyx', kind: 'inbound',
                                       message_id: msg.id, url },
                                'message.received', messageRecord(msg));
    return { msg, delivered };
}
