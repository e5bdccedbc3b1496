// A contact texting a business number: the carrier's inbound webhook to
// the inbox (Twilio's form or Telnyx's message.received), media hosted by
// the simulator, and the carrier's own handling of STOP, START and HELP
// (its block list, and its own short answer on the contact's phone).

import { E164, inboxBase } from './config.mjs';
import { sampleMedia, sniff } from './media.mjs';
import { keywordOf } from './optouts.mjs';
import { telnyxInbound } from './telnyx.mjs';
import { twilioInbound } from './twilio.mjs';

export class InboundError extends Error {
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

const REPLIES = {
    stop: 'You have successfully been unsubscribed. You will not receive '
          + 'any more messages from this number. Reply START to '
          + 'resubscribe.',
    start: 'You have successfully been re-subscribed to messages from this '
           + 'number. Reply HELP for help. Reply STOP to unsubscribe. '
           + 'Msg&Data Rates May Apply.',
    help: 'Reply STOP to unsubscribe. Msg&Data Rates May Apply.',
};

function mediaOf(list) {
    if (list === undefined || list === null) {
        return [];
    }
    if (!Array.isArray(list) || list.length > 10) {
        throw new InboundError(400, 'media must be a list of at most 10');
    }
    return list.map((m) => {
        if (typeof m === 'string') {
            const s = sampleMedia().get(m);
            if (!s) {
                throw new InboundError(400, `no sample picture "${m}" (see `
                                       + 'GET /_sim/samples)');
            }
            return s;
        }
        if (m && typeof m.data === 'string') {
            const bytes = Buffer.from(m.data, 'base64');
            const contentType = m.content_type ?? sniff(bytes);
            if (!contentType) {
                throw new InboundError(400, 'media data is not a JPEG, PNG '
                                       + 'or GIF (give content_type)');
            }
            return { bytes, contentType };
        }
        throw new InboundError(400, 'each media is a sample name or '
                               + '{ data (base64), content_type }');
    });
}

// Sends spec ({ from, to, body, media, sid }) to the inbox.  Resolves
// with { msg, delivered } (delivered: a promise of the webhook record).
export function sendInbound(sim, spec, publicUrl) {
    if (!spec || typeof spec.from !== 'string' || !E164.test(spec.from)) {
        throw new InboundError(400, 'from must be the contact\'s number in '
                               + 'E.164 form (+15551234567)');
    }
    const number = spec.to === undefined
        ? sim.config.numbers[0] : sim.numberOf(spec.to);
    if (!number) {
        throw new InboundError(400, spec.to === undefined
            ? 'no business number is configured (POST /_sim/config)'
            : `${spec.to} is not a number the simulator knows`);
    }
    const body = spec.body ?? '';
    if (typeof body !== 'string' || body.length > 1600) {
        throw new InboundError(400, 'body must be text of at most 1600 '
                               + 'characters');
    }
    const media = mediaOf(spec.media);
    if (body === '' && media.length === 0) {
        throw new InboundError(400, 'say something: body or media');
    }
    const hook = number.carrier === 'twilio' ? number.smsUrl
        : number.webhookUrl;
    if (!hook && !inboxBase(sim.config)) {
        throw new InboundError(409, 'no inbox URL is configured: set inbox '
                               + '(POST /_sim/config or --inbox)');
    }
    if (spec.sid !== undefined && typeof spec.sid !== 'string') {
        throw new InboundError(400, 'sid must be a string');
    }

    const kw = sim.config.carrierOptOut
        ? sim.optouts.note(number.number, spec.from, body) : keywordOf(body);
    const make = number.carrier === 'twilio' ? twilioInbound : telnyxInbound;
    const { msg, delivered } = make(sim, number, {
        from: spec.from, body, media, publicUrl, sid: spec.sid });
    msg.delivery = { state: 'pending' };
    const done = delivered.then((rec) => {
        const last = rec.attempts[rec.attempts.length - 1];
        msg.delivery = { state: rec.state, attempts: rec.attempts.length,
                         status: last?.response?.status ?? null,
                         error: last?.error ?? null, webhook_id: rec.id };
        sim.emit('message', msg);
        return rec;
    });
    if (sim.config.carrierReplies && REPLIES[kw]) {
        const now = new Date().toISOString();
        sim.addMessage({
            id: `carrier-${sim.nextSeq()}`, carrier: number.carrier,
            direction: 'outbound', carrier_reply: true,
            from: number.number, to: spec.from, body: REPLIES[kw],
            media: [], media_urls: [], status: 'delivered',
            created_at: now, updated_at: now,
            history: [{ status: 'delivered', at: now }],
        });
    }
    return { msg, delivered: done };
}
