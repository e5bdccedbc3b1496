// Webhooks the carriers send: each one POSTed, and tried again as the
// carrier does. Telnyx (and the default) tries again when the receiver
// answers 5xx, does not answer in time or cannot be reached
// (webhook.attempts in all; a 2xx ends it, a 4xx too: asking again would
// not change the answer); Twilio as the URL's connection overrides say
// (twilio-overrides.mjs). Every attempt is kept, with what was sent and
// what came back, for the control API.

import { postTarget } from './config.mjs';
import { httpRequest } from './http-client.mjs';

const KEEP_BYTES = 4096;

// What went wrong with an attempt, in the terms of Twilio's retry policy:
// '5xx', '4xx' (any other answer but a 2xx), 'rt' (no answer in time),
// 'ct' (no connection).
function failureOf(attempt) {
    if (attempt.response) {
        return attempt.response.status >= 500 ? '5xx' : '4xx';
    }
    return attempt.error === 'ETIMEDOUT' ? 'rt' : 'ct';
}

const RETRY_ON_DEFAULT = new Set(['5xx', 'rt', 'ct']);

// record: { carrier, kind, url, message_id, ... } is filled in and kept;
// build(attempt) returns { headers, body } for attempt 1, 2, ...
// retry: { url (requested instead of record.url), attempts (the first
// included), retryOn (Set of failureOf's kinds) }, each defaulting to
// the above.
// Resolves with the record once delivered or given up. A url under the
// inbox's public URL is posted to the inbox's own (record.posted_to).
export async function deliverWebhook(sim, record, build, retry = {}) {
    record.seq = sim.nextSeq();
    record.id = `WH${String(record.seq).padStart(6, '0')}`;
    record.state = 'pending';
    record.attempts = [];
    const target = postTarget(sim.config, retry.url ?? record.url);
    if (target !== record.url) {
        record.posted_to = target;
    }
    sim.webhooks.push(record);
    const { retryDelaysMs, timeoutMs } = sim.config.webhook;
    const attempts = retry.attempts ?? sim.config.webhook.attempts;
    const retryOn = retry.retryOn ?? RETRY_ON_DEFAULT;
    for (let n = 1; n <= attempts; n++) {
        if (sim.closed) {
            break;
        }
        const { headers, body } = build(n);
        const attempt = { attempt: n, at: new Date().toISOString(),
                          request: { headers, body } };
        record.attempts.push(attempt);
        try {
            const res = await httpRequest(target, {
                method: 'POST', headers, body,
                timeoutMs: timeoutMs[record.carrier] });
            attempt.response = {
                status: res.status,
                content_type: res.headers['content-type'] ?? null,
                body: res.body.subarray(0, KEEP_BYTES).toString('utf8'),
            };
            if (res.status >= 200 && res.status < 300) {
                record.state = 'delivered';
                break;
            }
        } catch (err) {
            attempt.error = err.code || err.message;
        }
        if (n === attempts || !retryOn.has(failureOf(attempt))) {
            // refused: the receiver said no; failed: it never took it
            record.state = attempt.response
                && attempt.response.status < 500 ? 'refused' : 'failed';
            break;
        }
        const wait = retryDelaysMs[Math.min(n - 1, retryDelaysMs.length - 1)];
        await sim.sleep(wait ?? 0);
    }
    if (record.state === 'pending') {
        record.state = 'failed';
    }
    sim.emit('webhook', record);
    return record;
}
