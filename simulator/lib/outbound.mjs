// What happens to a message after the API accepted it, for either carrier:
// the carrier fetches its media, then the message is sent and delivered
// (or not, as a failure asked), each step after a short wait and each
// reported to the message's callback URL.  Callbacks go out one after the
// other, in the order of the steps, unless out of order was asked (then
// the last comes first) or twice, or none at all when dropping was asked
// (the message still moves, and the API's GET answers where it is).
//
// carrier: { name, status(step), failure(reason, plan) -> { code, message },
//            notify(msg, status) -> Promise }
//   steps: sending, sent, delivered, undelivered, failed, unconfirmed,
//   expired, partially_delivered;
//   reasons: unreachable, type, size (media), undelivered, failed,
//   expired.

import { fetchMedia } from './media.mjs';

async function fetchAll(sim, msg) {
    for (const [i, url] of msg.media_urls.entries()) {
        const got = await fetchMedia(url);
        if (!got.ok) {
            return got;
        }
        const key = sim.putMedia(got.bytes, got.contentType);
        msg.media[i] = { url, content_type: got.contentType, size: got.size,
                         sha256: got.sha256, local_url: `/_sim/media/${key}` };
    }
    return { ok: true };
}

export async function runOutbound(sim, msg, carrier) {
    const plan = sim.failures.planFor(carrier.name, msg.to);
    let queue = Promise.resolve();
    const held = [];
    const report = (status) => {
        if (plan.drop) {
            return;     // lost on the way: the inbox never hears of it
        }
        const send = () => {
            queue = queue.then(() => carrier.notify(msg, status))
                .catch(() => {});
        };
        send();
        if (plan.duplicate) {
            queue = queue.then(() => sim.sleep(sim.delay('duplicate')));
            send();
        }
    };
    const step = (name, extra = {}) => {
        const status = carrier.status(name);
        if (!status) {
            return;     // a step this carrier does not report
        }
        sim.setStatus(msg, status, extra);
        if (plan.outOfOrder) {
            held.push(status);
        } else {
            report(status);
        }
    };

    if (msg.media_urls.length > 0) {
        await sim.sleep(sim.delay('sending'));
        const got = await fetchAll(sim, msg);
        if (!got.ok) {
            const err = carrier.failure(got.reason, plan);
            msg.media_error = got.detail;
            step('failed', { error_code: err.code,
                             error_message: err.message });
            held.reverse().forEach(report);
            return queue;
        }
    }

    if (plan.outcome === 'failed') {
        await sim.sleep(sim.delay('sent'));
        const err = carrier.failure('failed', plan);
        step('failed', { error_code: err.code, error_message: err.message });
    } else {
        if (carrier.name === 'twilio' && sim.config.twilioSendingCallback) {
            await sim.sleep(sim.delay('sending'));
            step('sending');
        }
        await sim.sleep(sim.delay('sent'));
        step('sent', { sent_at: new Date().toISOString() });
        if (plan.outcome !== 'none') {
            await sim.sleep(sim.delay('final'));
            const extra = { completed_at: new Date().toISOString() };
            if (plan.outcome === 'undelivered'
                || plan.outcome === 'expired') {
                const err = carrier.failure(plan.outcome, plan);
                extra.error_code = err.code;
                extra.error_message = err.message;
            }
            step(plan.outcome, extra);
        }
    }
    held.reverse().forEach(report);
    return queue;
}
