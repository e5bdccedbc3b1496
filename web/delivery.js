/*
 * An outbound message's delivery as a person reads it: its ticks (queued,
 * sent, delivered) and, when it failed (or is still sending because the
 * carrier never answered the send), why, in words rather than a
 * carrier's code.
 *
 * Statuses only move forward; moves() says whether a status is news for
 * a message that has another (a frame that comes late changes nothing),
 * final() whether it moves no more, missed() whether it never reached
 * the phone, named() its mark and name alone, words() says it without
 * the ticks.  Whether it may be sent again is the server's word, the
 * message's can_send_again (libinbox's resend.c).
 *
 * Billing inactive is said as fits who reads it (readBy(), the
 * signed-in user's role, which app.js gives at sign-in; a new role
 * reloads the page): billingWhat() is what they can do, which the reply
 * box and the header say too (composer.js).
 */
'use strict';

(function (global) {
    /* how far each status got; the three final ones are equally far */
    const RANK = {
        queued: 0,
        sending: 1,
        sent: 2,
        delivered: 3,
        undelivered: 3,
        failed: 3,
    };

    const TICKS = {
        queued: ['\u25f7', 'Queued'],
        sending: ['\u25f7', 'Sending'],
        sent: ['\u2713', 'Sent'],
        delivered: ['\u2713\u2713', 'Delivered'],
        undelivered: ['\u2715', 'Not delivered'],
        failed: ['\u2715', 'Failed'],
    };

    /* The server's refusal is for any client ("contact your billing
     * admin", the product's words); here a billing contact, who is that
     * admin, is told what they can do (only whoever runs the inbox makes
     * billing active: inboxctl), anyone else where to find theirs. */
    const BILLING_WHAT = {
        billing: 'as a billing contact, ask whoever runs the inbox to '
            + 'make it active again (Settings \u2192 Billing shows when it '
            + 'is)',
        member: 'contact your billing admin (Settings \u2192 Team lists '
            + 'who)',
    };
    let reader = 'member';      /* the signed-in user's role */

    const NUMBER_REFUSED = 'the carrier refused this number\u2019s '
        + 'account or credentials: ask whoever runs the inbox to check the '
        + 'number\u2019s carrier settings, then send it again';

    /* The inbox's own codes, then the carriers' (Twilio's and Telnyx's
     * published error codes) that a person can do something about. */
    const REASONS = {
        /* the carrier's refusal or report, or the sender's withdrawal
         * of a message whose contact opted out in the inbox since */
        contact_opted_out: 'the contact has opted out',
        unknown_outcome: 'the carrier did not answer; it may have been '
            + 'sent: look before sending it again',
        carrier_unavailable: 'the carrier could not be reached, even after '
            + 'several tries',
        refused: 'the carrier refused it',
        campaign_cancelled: 'not sent: its campaign was cancelled',
        number_removed: 'not sent: the number it was to go from was '
            + 'removed',
        answer_late: 'not sent: a keyword\u2019s automatic answer goes '
            + 'within 5 minutes or not at all',
        /* the number's settings, not the contact: staff may not reach
         * them (the inbox says carrier_account whichever of the
         * carriers' codes refused the number's account, outbox.h); not
         * final: sent again once they are fixed */
        carrier_account: NUMBER_REFUSED,
        /* only messages that failed before the inbox said so keep the
         * carrier's code: the two codes these words had then, kept for
         * those, not a copy of the rule */
        20003: NUMBER_REFUSED,
        10009: NUMBER_REFUSED,
        21211: 'the number is not a valid phone number',
        21610: 'the contact opted out at the carrier',
        21614: 'the number cannot receive text messages',
        21617: 'the message is longer than the carrier accepts',
        30003: 'the phone could not be reached (switched off or out of '
            + 'coverage)',
        30004: 'it was blocked (the contact may have blocked the number)',
        30005: 'the number is unknown or no longer in service',
        30006: 'the number is a landline or cannot receive texts',
        30007: 'the carrier filtered it as unwanted',
        30008: 'the carrier reported an unknown error',
        30019: 'the picture is larger than the carrier accepts',
        11200: 'the carrier could not fetch the picture',
        12300: 'the carrier cannot send that kind of picture',
        40300: 'the contact opted out at the carrier',
    };

    function moves(from, to) {
        if (!(to in RANK)) {
            return false;
        }
        return !(from in RANK) || RANK[to] >= RANK[from];
    }

    function final(status) {
        return RANK[status] === 3;
    }

    /* Failed or not delivered: the thread list marks the row of a
     * thread whose last message, a reply, did not reach the phone. */
    function missed(status) {
        return status === 'failed' || status === 'undelivered';
    }

    /* ['\u2715', 'Not delivered']: the mark and the name a tick shows */
    function named(status) {
        return TICKS[status] || ['', String(status)];
    }

    function readBy(role) {
        reader = role === 'billing' ? 'billing' : 'member';
    }

    function billingWhat() {
        return BILLING_WHAT[reader];
    }

    function reason(code) {
        if (code === null || code === undefined || code === '') {
            return '';
        }
        if (code === 'billing_inactive') {
            return 'not sent: billing is inactive; ' + billingWhat()
                + ', then send it again';
        }
        return REASONS[code] || 'the carrier reported error ' + code;
    }

    /* Why a message is where it is: a failure's reason, or why one is
     * still sending (its send's answer never came: the carrier may have
     * it, and its callback moves it on). */
    function why(status, code) {
        if (status === 'failed' || status === 'undelivered') {
            return reason(code);
        }
        return status === 'sending' && code === 'unknown_outcome'
            ? reason(code) : '';
    }

    /* "Delivered", "Failed: the number is unknown or no longer in
     * service" */
    function words(status, code) {
        const known = named(status);
        const because = why(status, code);
        return known[1] + (because ? ': ' + because : '');
    }

    /* <span class="tick" data-status="…"><span aria-hidden>✓✓</span>
     * Delivered</span>, and for a failure ": <span class=tick-reason>
     * why</span>". */
    function tick(status, code) {
        const known = named(status);
        const span = document.createElement('span');
        span.className = 'tick';
        span.dataset.status = String(status);
        if (known[0]) {
            const mark = document.createElement('span');
            mark.className = 'tick-mark';
            mark.setAttribute('aria-hidden', 'true');
            mark.textContent = known[0];
            span.appendChild(mark);
            span.appendChild(document.createTextNode(' '));
        }
        span.appendChild(document.createTextNode(known[1]));
        const because = why(status, code);
        if (because) {
            span.appendChild(document.createTextNode(': '));
            const r = document.createElement('span');
            r.className = 'tick-reason';
            r.textContent = because;
            span.appendChild(r);
        }
        return span;
    }

    global.inboxDelivery = Object.freeze({ moves, final, missed, named,
                                           reason, words, tick, readBy,
                                           billingWhat });
})(window);
