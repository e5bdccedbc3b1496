// Failures a test (or the phone page) asks for, used up as sends come:
//   http_error    the next `count` sends are answered `status` (5xx); the
//                 message is still sent when `processed` is true (the
//                 carrier took it, then failed its answer)
//   rate_limit    the next `count` sends are answered 429, too many
//                 requests (with Retry-After: `retry_after` seconds)
//   queue_full    Twilio only: the next `count` sends are answered 400
//                 21611, the From number's queue full
//   account_refused  the next `count` sends are refused for the account,
//                 as a suspended one's: Twilio 401 20005 (account not
//                 active), Telnyx 403 10010 (authorization failed: the
//                 key may not act on the number); nothing is sent
//   timeout       the next `count` sends are never answered (the message
//                 is still sent when `processed` is true)
//   late_answer   the next `count` sends are taken and processed at once,
//                 and answered `delay_ms` later: their status callbacks
//                 overtake the answer
//   hold          the next `count` sends wait at the carrier, neither
//                 taken nor answered, until POST /_sim/release lets them
//                 go on as any send (a test decides when a send ends)
//   final_status  messages to `number` end `status` (undelivered, failed,
//                 delivery_failed, sending_failed, unconfirmed, expired,
//                 partially_delivered, none)
//   callbacks     status callbacks come `duplicate` and/or `out_of_order`,
//                 or never (`drop`: lost, as a callback answered 5xx that
//                 Twilio does not retry); the message's own status still
//                 moves, for the API's GET to answer
// `carrier` (twilio, telnyx) limits a rule to one carrier, `number` to
// sends to one recipient, `count` to so many sends or messages (none:
// until reset; http_error, rate_limit, queue_full, account_refused,
// timeout, late_answer and hold default to 1).

import { E164 } from './config.mjs';

export class FailureError extends Error {}

const OUTCOMES = {
    delivered: 'delivered',
    undelivered: 'undelivered', delivery_failed: 'undelivered',
    failed: 'failed', sending_failed: 'failed',
    unconfirmed: 'unconfirmed', delivery_unconfirmed: 'unconfirmed',
    expired: 'expired', partially_delivered: 'partially_delivered',
    none: 'none',
};

function bad(msg) {
    throw new FailureError(msg);
}

export class Failures {
    constructor() {
        this.rules = [];
        this.nextId = 1;
    }

    clear() {
        this.rules = [];
    }

    add(spec) {
        if (spec === null || typeof spec !== 'object') {
            bad('a failure is a JSON object with a "type"');
        }
        const rule = { id: this.nextId, type: spec.type, count: null,
                       carrier: null };
        if (spec.count !== undefined && spec.count !== null) {
            if (!Number.isInteger(spec.count) || spec.count < 1) {
                bad('count must be a whole number >= 1');
            }
            rule.count = spec.count;
        }
        if (spec.carrier !== undefined && spec.carrier !== null) {
            if (spec.carrier !== 'twilio' && spec.carrier !== 'telnyx') {
                bad('carrier must be twilio or telnyx');
            }
            rule.carrier = spec.carrier;
        }
        if (spec.number !== undefined && spec.number !== null) {
            if (typeof spec.number !== 'string' || !E164.test(spec.number)) {
                bad('number must be in E.164 form');
            }
            rule.number = spec.number;
        }
        switch (spec.type) {
        case 'http_error':
            rule.status = spec.status ?? 500;
            if (!Number.isInteger(rule.status) || rule.status < 500
                || rule.status > 599) {
                bad('http_error: status must be 500 to 599');
            }
            rule.processed = spec.processed === true;
            rule.count ??= 1;
            break;
        case 'rate_limit':
            if (spec.retry_after !== undefined && spec.retry_after !== null) {
                if (!Number.isInteger(spec.retry_after)
                    || spec.retry_after < 0) {
                    bad('rate_limit: retry_after is whole seconds >= 0');
                }
                rule.retryAfter = spec.retry_after;
            }
            rule.count ??= 1;
            break;
        case 'queue_full':
            if (rule.carrier === 'telnyx') {
                bad('queue_full: Twilio\'s error 21611, for twilio only');
            }
            rule.carrier = 'twilio';
            rule.count ??= 1;
            break;
        case 'account_refused':
        case 'hold':
            rule.count ??= 1;
            break;
        case 'timeout':
            rule.processed = spec.processed === true;
            rule.count ??= 1;
            break;
        case 'late_answer':
            rule.delayMs = spec.delay_ms ?? 500;
            if (!Number.isInteger(rule.delayMs) || rule.delayMs < 0
                || rule.delayMs > 60000) {
                bad('late_answer: delay_ms is whole milliseconds, 0 to '
                    + '60000');
            }
            rule.count ??= 1;
            break;
        case 'final_status':
            if (!rule.number) {
                bad('final_status needs the recipient "number"');
            }
            rule.outcome = OUTCOMES[spec.status ?? 'undelivered'];
            if (!rule.outcome) {
                bad(`final_status: status must be one of `
                    + Object.keys(OUTCOMES).join(', '));
            }
            if (spec.error_code !== undefined) {
                rule.errorCode = String(spec.error_code);
            }
            break;
        case 'callbacks':
            rule.duplicate = spec.duplicate === true;
            rule.outOfOrder = spec.out_of_order === true;
            rule.drop = spec.drop === true;
            if (!rule.duplicate && !rule.outOfOrder && !rule.drop) {
                bad('callbacks: say duplicate and/or out_of_order, or drop');
            }
            if (rule.drop && (rule.duplicate || rule.outOfOrder)) {
                bad('callbacks: drop sends none, neither twice nor out of '
                    + 'order');
            }
            break;
        default:
            bad('type must be http_error, rate_limit, queue_full, '
                + 'account_refused, timeout, late_answer, hold, final_status '
                + 'or callbacks');
        }
        this.nextId += 1;
        this.rules.push(rule);
        return rule;
    }

    // The first rule of one of `types` that matches, one use taken.
    take(types, carrier, number) {
        const rule = this.rules.find((r) => types.includes(r.type)
            && (!r.carrier || r.carrier === carrier)
            && (!r.number || r.number === number));
        if (!rule) {
            return null;
        }
        if (rule.count !== null) {
            rule.count -= 1;
            if (rule.count === 0) {
                this.rules = this.rules.filter((r) => r !== rule);
            }
        }
        return rule;
    }

    // What happens to an API send before it is even read: a 5xx, a 429,
    // Twilio's 21611, the account refused, no answer at all, a late one
    // or one held.
    takeRequest(carrier, to) {
        return this.take(['http_error', 'rate_limit', 'queue_full',
                          'account_refused', 'timeout', 'late_answer',
                          'hold'], carrier, to);
    }

    // How an accepted message ends and how its callbacks come.
    planFor(carrier, to) {
        const final = this.take(['final_status'], carrier, to);
        const cb = this.take(['callbacks'], carrier, to);
        return {
            outcome: final ? final.outcome : 'delivered',
            errorCode: final?.errorCode ?? null,
            duplicate: cb?.duplicate ?? false,
            outOfOrder: cb?.outOfOrder ?? false,
            drop: cb?.drop ?? false,
        };
    }

    toJSON() {
        return this.rules;
    }
}
