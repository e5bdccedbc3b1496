// Twilio, as the inbox meets it: the Messages API (form fields, HTTP Basic
// auth, Twilio's error JSON), the message's status callbacks, inbound
// message webhooks and the media they name, every webhook signed with
// X-Twilio-Signature and the account's auth token and tried again only as
// its URL's connection overrides say (twilio-overrides.mjs).

import { E164, inboxBase } from './config.mjs';
import { encodeForm, formValue, formValues, parseForm } from './form.mjs';
import { runOutbound } from './outbound.mjs';
import { rateLimited, rfc2822 } from './respond.mjs';
import { segmentsOf } from './segments.mjs';
import { hex32 } from './simulator.mjs';
import { twilioOverrides } from './twilio-overrides.mjs';
import { signTwilio } from './twilio-signature.mjs';
import { deliverWebhook } from './webhooks.mjs';

export const API_VERSION = '2010-04-01';

export function twilioError(status, code, message, extra = {}) {
    return { status, json: { code, message,
        more_info: `https://www.twilio.com/docs/errors/${code}`, status,
        ...extra } };
}

const unauthorized = () => ({
    ...twilioError(401, 20003, 'Authenticate',
                   { detail: 'Your AccountSid or AuthToken was incorrect.' }),
    headers: { 'WWW-Authenticate': 'Basic realm="Twilio API"' },
});

const notFound = (path) => twilioError(404, 20404,
    `The requested resource ${path} was not found`);

// The account the request authenticates as, or an answer refusing it:
// 401 for wrong credentials, 404 for another account's resource.
function authenticate(sim, ctx, pathSid) {
    const a = ctx.auth;
    const token = a?.scheme === 'basic'
        ? sim.config.twilio.accounts[a.user] : undefined;
    if (token === undefined || token !== a.password) {
        return { refused: unauthorized() };
    }
    if (a.user !== pathSid) {
        return { refused: notFound(ctx.path) };
    }
    return { sid: a.user, token };
}

const base = (sid) => `/${API_VERSION}/Accounts/${sid}`;

export function messageResource(msg) {
    return {
        account_sid: msg.account,
        api_version: API_VERSION,
        body: msg.body,
        date_created: rfc2822(new Date(msg.created_at)),
        date_sent: msg.sent_at ? rfc2822(new Date(msg.sent_at)) : null,
        date_updated: rfc2822(new Date(msg.updated_at)),
        direction: msg.direction === 'inbound' ? 'inbound' : 'outbound-api',
        error_code: msg.error_code ? Number(msg.error_code) : null,
        error_message: msg.error_message ?? null,
        from: msg.from,
        messaging_service_sid: msg.messaging_service_sid ?? null,
        num_media: String(msg.media.length),
        num_segments: String(msg.segments),
        price: null,
        price_unit: 'USD',
        sid: msg.id,
        status: msg.status,
        subresource_uris: {
            media: `${base(msg.account)}/Messages/${msg.id}/Media.json`,
        },
        to: msg.to,
        uri: `${base(msg.account)}/Messages/${msg.id}.json`,
    };
}

function validUrl(u) {
    try {
        const p = new URL(u).protocol;
        return p === 'http:' || p === 'https:';
    } catch {
        return false;
    }
}

// The sending number: From, or one of the Messaging Service's numbers.
// Returns { from } or { refused }.
function sender(sim, sid, from, service) {
    const owned = sim.config.numbers.filter((n) => n.carrier === 'twilio'
                                                   && n.account === sid);
    if (!from) {
        if (!/^MG[0-9a-fA-F]{32}$/.test(service)) {
            return { refused: twilioError(400, 21705,
                'The Messaging Service Sid is invalid.') };
        }
        const n = owned.find((o) => o.messagingServiceSid === service);
        if (!n) {
            return { refused: twilioError(404, 21701,
                `The Messaging Service ${service} does not exist.`) };
        }
        return { from: n.number };
    }
    if (!E164.test(from)) {
        return { refused: twilioError(400, 21212,
            `Invalid From Number (caller ID): ${from}`) };
    }
    if (owned.length > 0 && !owned.some((n) => n.number === from)) {
        return { refused: twilioError(400, 21606,
            `The From phone number ${from} is not a valid, SMS-capable `
            + 'inbound phone number or short code for your account.') };
    }
    return { from };
}

// POST /2010-04-01/Accounts/{AccountSid}/Messages.json
export async function twilioSend(sim, ctx, pathSid) {
    const pairs = parseForm(ctx.raw);
    ctx.record.form = pairs;
    const who = authenticate(sim, ctx, pathSid);
    if (who.refused) {
        return who.refused;
    }
    const to = formValue(pairs, 'To');
    const injected = sim.failures.takeRequest('twilio', to);
    if (injected?.type === 'hold' && !await sim.heldUntilReleased()) {
        // reset (or closed) while held: never answered
        return { hold: true };
    }
    if (injected?.type === 'http_error') {
        // processed: taken and sent, then the answer failed
        const taken = injected.processed
            ? twilioAccept(sim, who, pairs, to) : {};
        return { ...twilioError(injected.status, injected.status === 503
            ? 20503 : 20500, injected.status === 503
            ? 'Service is unavailable. Please try again'
            : 'An internal server error has occurred'),
                 message_id: taken.message_id, start: taken.start };
    }
    if (injected?.type === 'rate_limit') {
        return rateLimited(twilioError(429, 20429, 'Too Many Requests'),
                           injected);
    }
    if (injected?.type === 'queue_full') {
        // 10 hours of the number's rate queued already: nothing taken
        return twilioError(400, 21611, "This 'From' number has exceeded "
                           + 'the maximum number of queued messages');
    }
    if (injected?.type === 'account_refused') {
        // a suspended account: its credentials are right, nothing goes
        return twilioError(401, 20005, 'Account not active');
    }
    const answer = twilioAccept(sim, who, pairs, to);
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

// The checks and, when they pass, the message: 201 and the resource.
function twilioAccept(sim, who, pairs, to) {
    const fromField = formValue(pairs, 'From');
    const service = formValue(pairs, 'MessagingServiceSid');
    const body = formValue(pairs, 'Body') ?? '';
    const mediaUrls = formValues(pairs, 'MediaUrl');
    const callback = formValue(pairs, 'StatusCallback');

    if (!to) {
        return twilioError(400, 21604, "A 'To' phone number is required.");
    }
    if (!fromField && !service) {
        return twilioError(400, 21603, "A 'From' phone number is required.");
    }
    if (body === '' && mediaUrls.length === 0) {
        return twilioError(400, 21602, 'Message body is required.');
    }
    if (!E164.test(to)) {
        return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    }
    const s = sender(sim, who.sid, fromField, service);
    if (s.refused) {
        return s.refused;
    }
    if (body.length > 1600) {
        return twilioError(400, 21617, 'The concatenated message body '
                           + 'exceeds the 1600 character limit.');
    }
    if (mediaUrls.length > 10) {
        return twilioError(400, 21623, 'The number of media files exceeds '
                           + 'the allowed limit of 10.');
    }
    const badMedia = mediaUrls.filter((u) => !validUrl(u));
    if (badMedia.length > 0) {
        return twilioError(400, 21620, `Media urls: ${badMedia.join(', ')} `
                           + 'are invalid. Please use only valid http and '
                           + 'https urls');
    }
    if (callback !== undefined && !validUrl(callback)) {
        return twilioError(400, 21609, 'Invalid StatusCallback url');
    }
    if (sim.config.carrierOptOut && sim.optouts.isBlocked(s.from, to)) {
        return twilioError(400, 21610,
                           'Attempt to send to unsubscribed recipient');
    }

    const now = new Date().toISOString();
    const msg = {
        id: `${mediaUrls.length > 0 ? 'MM' : 'SM'}${hex32()}`,
        carrier: 'twilio', direction: 'outbound', account: who.sid,
        from: s.from, to, body,
        media_urls: mediaUrls,
        media: mediaUrls.map((url) => ({ url, content_type: null })),
        messaging_service_sid: service ?? null,
        status_callback: callback ?? null,
        segments: segmentsOf(body).parts,
        status: service && !fromField ? 'accepted' : 'queued',
        error_code: null, error_message: null,
        created_at: now, updated_at: now, sent_at: null,
        history: [],
    };
    msg.history.push({ status: msg.status, at: now });
    return { status: 201, json: messageResource(msg), message_id: msg.id,
             start: () => twilioStart(sim, msg, who.token) };
}

function twilioStart(sim, msg, token) {
    sim.addMessage(msg);
    runOutbound(sim, msg, twilioCarrier(sim, token)).catch(sim.oops);
}

const FAILURES = {
    unreachable: ['11200', 'HTTP retrieval failure'],
    type: ['12300', 'Invalid Content-Type'],
    size: ['30019', 'Content size exceeds carrier limit'],
    undelivered: ['30003', 'Unreachable destination handset'],
    failed: ['30008', 'Unknown error'],
    expired: ['30003', 'Unreachable destination handset'],
};

// Twilio reports no delivery_unconfirmed (the message stays sent), and a
// message its carrier gave up on within the validity period is
// undelivered.
const STATUS = { unconfirmed: null, expired: 'undelivered' };

function twilioCarrier(sim, token) {
    return {
        name: 'twilio',
        status: (step) => (step in STATUS ? STATUS[step] : step),
        failure(reason, plan) {
            const [code, message] = FAILURES[reason];
            return { code: plan.errorCode ?? code, message };
        },
        notify(msg, status) {
            if (!msg.status_callback) {
                return Promise.resolve(null);
            }
            const pairs = [
                ['SmsSid', msg.id], ['SmsStatus', status],
                ['MessageStatus', status], ['To', msg.to],
                ['MessageSid', msg.id], ['AccountSid', msg.account],
                ['From', msg.from], ['ApiVersion', API_VERSION],
            ];
            if (msg.messaging_service_sid) {
                pairs.push(['MessagingServiceSid',
                            msg.messaging_service_sid]);
            }
            if (status === 'failed' || status === 'undelivered') {
                pairs.push(['ErrorCode', String(msg.error_code)]);
            }
            if (status === 'delivered') {
                pairs.push(['RawDlrDoneDate', new Date().toISOString()
                    .replace(/\D/g, '').slice(2, 12)]);
            }
            return postForm(sim, { carrier: 'twilio', kind: 'status',
                                   status, message_id: msg.id,
                                   url: msg.status_callback }, pairs, token);
        },
    };
}

// A signed form POST, the same bytes and signature on every attempt, to
// record.url without its fragment, tried again only as the fragment's
// connection overrides say.
function postForm(sim, record, pairs, token) {
    const retry = twilioOverrides(record.url);
    const body = encodeForm(pairs);
    const headers = {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': signTwilio(retry.url, pairs, token),
        'User-Agent': 'TwilioProxy/1.1',
        'I-Twilio-Idempotency-Token': hex32(),
    };
    return deliverWebhook(sim, record, () => ({ headers, body }), retry);
}

// GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json
export function twilioFetch(sim, ctx, pathSid, msgSid) {
    const who = authenticate(sim, ctx, pathSid);
    if (who.refused) {
        return who.refused;
    }
    const msg = sim.messages.get(msgSid);
    if (!msg || msg.carrier !== 'twilio' || msg.account !== who.sid) {
        return notFound(ctx.path);
    }
    return { status: 200, json: messageResource(msg) };
}

// GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}/Media/{MediaSid}:
// the bytes, for the account's credentials only; with
// twilio.mediaRedirect, a 307 to {mediaRedirect}/{MediaSid} instead, as
// Twilio sends the caller on to its CDN.
export function twilioMedia(sim, ctx, pathSid, msgSid, mediaSid) {
    const who = authenticate(sim, ctx, pathSid);
    if (who.refused) {
        return who.refused;
    }
    const msg = sim.messages.get(msgSid);
    const m = sim.media.get(mediaSid);
    if (!msg || msg.account !== who.sid || !m
        || !msg.media.some((x) => x.sid === mediaSid)) {
        return notFound(ctx.path);
    }
    const cdn = sim.config.twilio.mediaRedirect;
    if (cdn) {
        return { status: 307, json: { status: 307, message: 'Temporary '
                 + 'Redirect' }, headers: { Location: `${cdn}/${mediaSid}` } };
    }
    return { status: 200, bytes: m.bytes, contentType: m.contentType };
}

// A contact's message to a Twilio number, as Twilio posts it to the
// number's messaging webhook.  media: [{ bytes, contentType }].
export function twilioInbound(sim, number, { from, body, media, publicUrl,
                                             sid }) {
    const token = sim.config.twilio.accounts[number.account];
    const now = new Date().toISOString();
    const id = sid ?? `${media.length > 0 ? 'MM' : 'SM'}${hex32()}`;
    const msg = {
        id, carrier: 'twilio', direction: 'inbound', account: number.account,
        from, to: number.number, body, media_urls: [],
        media: media.map((m) => {
            const mediaSid = sim.putMedia(m.bytes, m.contentType,
                                          `ME${hex32()}`);
            return { sid: mediaSid, content_type: m.contentType,
                     size: m.bytes.length,
                     url: `${publicUrl}${base(number.account)}/Messages/`
                          + `${id}/Media/${mediaSid}`,
                     local_url: `/_sim/media/${mediaSid}` };
        }),
        segments: segmentsOf(body).parts,
        status: 'received', created_at: now, updated_at: now,
        history: [{ status: 'received', at: now }],
    };
    const pairs = [
        ['ToCountry', 'US'], ['ToState', 'NY'], ['SmsMessageSid', id],
        ['NumMedia', String(media.length)], ['ToCity', 'NEW YORK'],
        ['FromZip', '94105'], ['SmsSid', id], ['FromState', 'CA'],
        ['SmsStatus', 'received'], ['FromCity', 'SAN FRANCISCO'],
        ['Body', body], ['FromCountry', 'US'], ['To', number.number],
        ['MessagingServiceSid', number.messagingServiceSid ?? ''],
        ['ToZip', '10001'], ['NumSegments', String(msg.segments)],
        ['MessageSid', id], ['AccountSid', number.account],
        ['From', from], ['ApiVersion', API_VERSION],
    ];
    msg.media.forEach((m, i) => {
        pairs.push([`MediaContentType${i}`, m.content_type]);
        pairs.push([`MediaUrl${i}`, m.url]);
    });
    const url = number.smsUrl
        ?? `${inboxBase(sim.config)}/webhooks/twilio/inbound`;
    sim.addMessage(msg);
    const delivered = postForm(sim, { carrier: 'twilio', kind: 'inbound',
                                      message_id: id, url }, pairs, token);
    return { msg, delivered };
}
