// Webhooks the carriers send: each one POSTed, and tried again when the
// receiver answers 5xx, does not answer in time or cannot be reached, as
// both carriers do (a 2xx ends it; a 4xx too: asking again would not
// change the answer).  Every attempt is kept, with what was sent and what
// came back, for the control API.

import { postTarget } from './config.mjs';
import { httpRequest } from './http-client.mjs';

const KEEP_BYTES = 4096;

// record: { carrier, kind, url, message_id, ... } is filled in and kept;
// build(attempt) returns { headers, body } for attempt 1, 2, ...
// Resolves with the record once delivered or given up.  A url under the
// inbox's public URL is posted to the inbox's own (record.posted_to).
export async function deliverWebhook(sim, record, build) {
    record.seq = sim.nextSeq();
    record.id = `WH${String(record.seq).padStart(6, '0')}`;
    record.state = 'pending';
    record.attempts = [];
    const target = postTarget(sim.config, record.url);
    if (target !== record.url) {
        record.posted_to = target;
    }
    sim.webhooks.push(record);
    const { attempts, retryDelaysMs, timeoutMs } = sim.config.webhook;
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
            if (res.status < 500) {
                record.state = 'refused';
                break;
            }
        } catch (err) {
            attempt.error = err.code || err.message;
        }
        if (n < attempts) {
            const wait = retryDelaysMs[Math.min(n - 1,
                                                retryDelaysMs.length - 1)];
            await sim.sleep(wait ?? 0);
        }
    }
    if (record.state === 'pending') {
        record.state = 'failed';
    }
    sim.emit('webhook', record);
    return record;
}
