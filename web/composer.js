/*
 * The reply composer of the open thread, and the credit balance in the
 * header.
 *
 * A draft per thread: its text, its images (up to the 10 a reply
 * carries, in the order chosen, each checked, previewed and uploaded as
 * soon as it is chosen or pasted, with its own state: one whose upload
 * failed stays, said, until it is tried again or removed, and no send
 * goes without it) and the Idempotency-Key of its send.  When the
 * session ends by itself (it expired, or was ended elsewhere) the texts
 * stay, in this page's memory only, without their images, for the same
 * user signing in again; anyone else starts with none, and signing out
 * (here or in another tab) forgets them, as it forgets the campaign and
 * poll forms.  Enter sends (Shift+Enter: a new
 * line); the message is in the thread from the answer at once, and its
 * ticks move with the message.status frames (app.js).  While typing,
 * the segments and credits it would cost come from POST
 * /api/v1/messages/estimate, a moment after the last key; typing never
 * waits for them.  When the estimate says a send would be refused (too
 * long, as the carrier counts: most emoji count 2), the count says why
 * instead.  The balance is read at sign-in, after a send, after status
 * frames, when the Inbox or the tab is shown again and whenever Settings
 * reads it; a billing.updated frame (credits granted, billing or the
 * plan changed) carries it; a billing refusal under the reply box
 * follows them: it says what a send would be refused for as they read
 * (billing inactive, the credits short), and goes once the send would
 * go.
 *
 * A person's reply that failed for a reason that may pass is sent
 * again, as it was, by its Send again (resend()).
 *
 * What it uses of the app is window.inboxApp (the end of app.js): api,
 * failed, showMessage, reloadConversation and
 * on(session|signout|thread|event|billing|resend); the images are
 * attachments.js's (window.inboxAttachments), which media.js checks; a
 * button at work is busy.js's (window.inboxBusy); what the box says
 * describes the box (invalid.js, window.inboxInvalid); what billing
 * inactive asks of the signed-in user is delivery.js's
 * (window.inboxDelivery), as a failed reply's tick says it.
 */
'use strict';

(function (app, busy, attachments, invalid, delivery) {
    const ESTIMATE_DELAY_MS = 200;
    const BALANCE_DELAY_MS = 300;
    const EARLIER_SENT = 'An earlier try had already sent this message; '
        + 'your edited draft is still here.';
    /* The server's refusal of a send while billing is inactive (each
     * backend's reply_accept) is for any client.  Said here, or when a
     * balance read finds it so, as fits who reads it, in the words a
     * failed reply's tick says it with (delivery.js's billingWhat). */
    const BILLING_INACTIVE = 'Billing is inactive, so nothing can be sent';
    const MAX_IMAGES = attachments.max;
    const ATTACH_TITLE = 'Attach images: JPEG, PNG or GIF, up to '
        + MAX_IMAGES + ', 5 MB in all';
    const FULL = attachments.full('A reply');
    /* the server's refusal (inbox_reply_reaches), said before a pick */
    const NO_MMS = 'Pictures reach only numbers in the US and Canada, '
        + 'and this contact\u2019s number is in another country: send text '
        + 'alone.';

    const $ = (id) => document.getElementById(id);

    const els = {
        balance: $('balance'),
        balanceWord: document.querySelector('#balance .balance-word'),
        balanceCount: $('balance-count'),
        form: $('composer'),
        text: $('composer-text'),
        send: $('composer-send'),
        attach: $('attach'),
        file: $('attach-input'),
        attachments: $('attachments'),
        error: $('composer-error'),
        count: $('composer-count'),
        staleDialog: $('stale-dialog'),
        closed: $('composer-closed'),
    };

    const state = {
        signedIn: false,
        conv: null,             /* the open thread's conversation */
        drafts: new Map(),      /* conversation id -> draft */
        user: null,             /* the signed-in user's id */
        kept: null,             /* {user, drafts} from an ended session */
        estimateTimer: null,
        estimateSeq: 0,         /* answers to older estimates are dropped */
        balanceTimer: null,
        balanceSeq: 0,
        plan: 'per_message',    /* GET /api/v1/billing's, as last read */
    };

    /* what the reply box says while billing is inactive */
    function billingInactive() {
        return BILLING_INACTIVE + '; ' + billingWhat() + '.';
    }

    function billingWhat() {
        return delivery.billingWhat();
    }

    /* ---- drafts ---- */

    /* text: what is typed; media: the images, in the order they go
     * (attachments.js's);
     * key: the Idempotency-Key of the sends of this draft, kept until an
     * answer says what became of it (an edit does not change it: the
     * first try may have gone), keyFor: what it was
     * first sent with; error: what the last send or image said
     * (refused: the billing refusal it said, {code, text, needed},
     * which a balance read that says sending can go clears; ofText:
     * the refusal of its text, too long, which an edit clears); seen:
     * the newest message of the thread when the draft was begun, which
     * the send carries so that the server can say when the thread moved
     * on meanwhile (409 stale). */
    function draftOf(id) {
        let d = state.drafts.get(id);
        if (!d) {
            d = { text: '', media: [], key: null, keyFor: null,
                  sending: false, error: '', seen: null, refused: null,
                  ofText: null };
            state.drafts.set(id, d);
        }
        return d;
    }

    function current() {
        return state.conv ? draftOf(state.conv.id) : null;
    }

    /* A draft begun now answers the thread as it is now; an emptied one
     * starts over. */
    function noteBegun(d) {
        if (d.text.trim() === '' && d.media.length === 0) {
            d.seen = null;
        } else if (d.seen === null) {
            d.seen = app.newestMessageId();
        }
    }

    function dropMedia(d) {
        attachments.dropAll(d.media);
    }

    function forgetDrafts() {
        state.drafts.forEach(dropMedia);
        state.drafts.clear();
    }

    /* The drafts with text, their images dropped (the uploads were the
     * ended session's); the same objects, so that a send in flight still
     * clears its own. */
    function textDrafts() {
        const kept = new Map();
        state.drafts.forEach((d, id) => {
            dropMedia(d);
            d.error = '';
            if (d.text !== '') {
                kept.set(id, d);
            }
        });
        return kept;
    }

    /* A key nobody else will use: 128 random bits. */
    function newKey() {
        if (crypto.randomUUID) {
            return crypto.randomUUID();
        }
        const b = crypto.getRandomValues(new Uint8Array(16));
        return Array.from(b, (x) => x.toString(16).padStart(2, '0'))
            .join('');
    }

    /* ---- showing the composer ---- */

    function render() {
        const d = current();
        const open = Boolean(state.conv) && !state.conv.contact.opted_out;
        if (!open && state.conv && els.form.contains(document.activeElement)) {
            /* the contact opted out while a reply was being typed: hidden
             * with the focus, the form would drop it to the page, and the
             * rest of the sentence would go to the inbox's keys (u, s, e,
             * j, k); the notice says why the box went */
            els.closed.focus();
        }
        els.form.hidden = !open;
        if (!d) {
            return;
        }
        if (els.text.value !== d.text) {
            els.text.value = d.text;
        }
        els.text.readOnly = d.sending;
        els.form.setAttribute('aria-busy', String(d.sending));
        /* busy, not disabled: a focused Send, Image, Retry or Remove would
         * drop the focus to the page; each ignores a press while one is
         * out */
        busy.setBusy(els.send, d.sending);
        els.send.textContent = d.sending ? 'Sending\u2026' : 'Send';
        busy.setBusy(els.attach, d.sending);
        els.attach.title = !takesImages() ? NO_MMS
            : d.media.length >= MAX_IMAGES ? FULL : ATTACH_TITLE;
        els.error.textContent = d.error;
        /* what is said over the box (a refusal: no credits, opted out,
         * moved on; an image) is about the message written in it: a
         * screen reader hears it with the box, which is marked when its
         * text is what was refused (too long) */
        invalid.describe(els.text, els.error.id, d.error !== '');
        if (d.error !== '' && d.error === d.ofText) {
            els.text.setAttribute('aria-invalid', 'true');
        } else {
            els.text.removeAttribute('aria-invalid');
        }
        countOnce();
        renderMedia(d);
    }

    /* A send refused for its text (too long) says what the count under
     * the box says already: said once, above the box, not twice. */
    function countOnce() {
        const d = current();
        els.count.hidden = Boolean(d && d.error)
            && els.count.textContent === d.error;
    }

    /* The images of the open thread's draft; a redraw keeps each item
     * (and the focus on its buttons). */
    const imagesView = attachments.view(els.attachments, {
        images: () => (current() ? current().media : []),
        retry: retryItem,
        remove: removeItem,
        away: () => els.text,
    });

    function renderMedia(d) {
        imagesView.render(d.media, d.sending);
    }

    /* the open thread changed (another one, its contact opted out, or
     * none) */
    function onThread(conv) {
        const before = state.conv ? state.conv.id : null;
        if (before !== null && (!conv || conv.id !== before)) {
            draftOf(before).text = els.text.value;
        }
        state.conv = conv;
        render();
        if (conv && conv.id !== before) {
            showCount('');
            estimateSoon(0);
        }
    }

    function onSession(me) {
        const user = me && me.user ? me.user.id : null;
        if (!me && state.user !== null) {
            if (state.conv) {
                draftOf(state.conv.id).text = els.text.value;
            }
            state.kept = { user: state.user, drafts: textDrafts() };
        }
        state.signedIn = Boolean(me);
        state.user = user;
        clearTimeout(state.estimateTimer);
        clearTimeout(state.balanceTimer);
        state.estimateSeq += 1;
        state.balanceSeq += 1;
        forgetDrafts();
        if (me) {
            /* what was being written goes on only for who wrote it */
            if (state.kept && state.kept.user === user) {
                state.drafts = state.kept.drafts;
            }
            state.kept = null;
        }
        resends.clear();
        state.conv = null;
        els.text.value = '';
        showCount('');
        els.form.hidden = true;
        showBalance(null);
        if (me) {
            refreshBalance();
        }
    }

    /* The user chose to sign out (after onSession(null), which kept
     * the texts): whoever signs in next on this computer, the same
     * user too, finds no reply half written. */
    function onSignOut() {
        state.kept = null;
    }

    /* ---- the estimate: segments, encoding and credits ---- */

    function plural(n, one, many) {
        return n + ' ' + (n === 1 ? one : many);
    }

    /* A character shown as itself, or by its code point when it has no
     * glyph of its own (a no-break space, a joiner). */
    function shownChar(text) {
        if (/^[\s\p{C}\p{M}]+$/u.test(text)) {
            return Array.from(text, (c) => 'U+' + c.codePointAt(0)
                .toString(16).toUpperCase().padStart(4, '0')).join(' ');
        }
        return text;
    }

    /* "2 segments · UCS-2 because of 😀 · 1 credit"; an MMS of n images:
     * "Picture message (MMS) · 3 images · 2 credits" (the server's
     * credits: an MMS costs the same however many it carries); on an
     * unlimited plan the subscription pays: "… · included in your
     * plan". */
    function estimateText(e, images) {
        const credits = state.plan === 'unlimited' ? 'included in your plan'
            : plural(e.credits, 'credit', 'credits');
        if (images > 0) {
            return 'Picture message (MMS) \u00b7 '
                + plural(images, 'image', 'images') + ' \u00b7 ' + credits;
        }
        let encoding = e.encoding;
        if (e.encoding === 'UCS-2' && e.ucs2_because) {
            encoding += ' because of ' + shownChar(e.ucs2_because);
        }
        return plural(e.segments, 'segment', 'segments') + ' \u00b7 '
            + encoding + ' \u00b7 ' + credits;
    }

    function estimateSoon(delay = ESTIMATE_DELAY_MS) {
        clearTimeout(state.estimateTimer);
        state.estimateSeq += 1;     /* an answer on its way is stale now */
        state.estimateTimer = setTimeout(estimate, delay);
    }

    async function estimate() {
        const d = current();
        const seq = ++state.estimateSeq;
        const body = els.text.value;
        const images = d ? d.media.length : 0;
        if (!d || (body === '' && images === 0)) {
            showCount('');
            return;
        }
        try {
            const e = await app.api('/api/v1/messages/estimate', {
                method: 'POST',
                body: { body: body, media_count: images } });
            if (seq !== state.estimateSeq) {
                return;
            }
            if (e.refused) {
                /* the server's rule, in its words, before a send */
                showCount(e.refused);
                els.count.dataset.refused = '';
                return;
            }
            showCount(estimateText(e, images));
            els.count.dataset.encoding = e.encoding;
            if (images === 0) {
                els.count.title = plural(e.characters, 'character',
                    'characters') + '; ' + e.remaining
                    + ' more fit in this segment';
            }
        } catch (err) {
            if (!app.failed(err) && seq === state.estimateSeq) {
                /* no count rather than a wrong one */
                showCount('');
            }
        }
    }

    function showCount(text) {
        els.count.textContent = text;
        els.count.removeAttribute('title');
        delete els.count.dataset.refused;
        countOnce();
    }

    /* ---- the image ---- */

    function takesImages() {
        return !state.conv || state.conv.contact.can_receive_mms !== false;
    }

    /* Said in the composer, not a file picker opened for nothing; said
     * again (an alert repeats only a change) on each try. */
    function sayAgain(d, text) {
        d.error = '';
        render();
        requestAnimationFrame(() => {
            d.error = text;
            render();
        });
    }

    /* Its upload, begun at once: a send names uploads.  A failure stays
     * on the image, said, until it is tried again or removed. */
    function upload(conv, d, item) {
        attachments.upload(item, (said) => {
            if (said && d.media.includes(item)) {
                d.error = said;
            }
            if (state.conv && state.conv.id === conv.id) {
                render();
            }
        });
    }

    /* Files chosen or pasted, in their order, after those already there;
     * what cannot go is said and left out, the rest attached. */
    async function attachFiles(files) {
        const conv = state.conv;
        if (!conv || files.length === 0) {
            return;
        }
        const d = draftOf(conv.id);
        if (d.sending) {
            return;
        }
        if (!takesImages()) {
            sayAgain(d, NO_MMS);
            return;
        }
        if (d.media.length >= MAX_IMAGES) {
            sayAgain(d, FULL);
            return;
        }
        const { added, said } = await attachments.check(d.media, files,
                                                        'A reply');
        for (const item of added) {
            d.media.push(item);
            upload(conv, d, item);
        }
        d.error = said;
        noteBegun(d);
        render();
        estimateSoon(0);
    }

    /* An image of the open thread's draft (its Retry and Remove are
     * shown only there), not while the draft is sent: true when done. */
    function retryItem(item) {
        const conv = state.conv;
        const d = current();
        if (!conv || d.sending || item.state !== 'failed'
            || !d.media.includes(item))
        {
            return false;
        }
        d.error = '';
        upload(conv, d, item);
        render();
        return true;
    }

    function removeItem(item) {
        const d = current();
        if (!d || d.sending || !attachments.drop(d.media, item)) {
            return false;
        }
        d.error = '';
        noteBegun(d);
        render();
        estimateSoon(0);
        return true;
    }

    function onFileChosen() {
        const files = Array.from(els.file.files || []);
        els.file.value = '';
        attachFiles(files);
    }

    /* Images pasted into the text are attached; text pastes as text,
     * also beside an image its contact's number, or a full reply, cannot
     * take. */
    function onPaste(event) {
        const data = event.clipboardData;
        const files = data ? Array.from(data.files || []) : [];
        const d = current();
        const noRoom = !takesImages()
            || (d !== null && d.media.length >= MAX_IMAGES);
        if (files.length === 0
            || (noRoom && data.getData('text/plain') !== ''))
        {
            return;
        }
        event.preventDefault();
        attachFiles(files);
    }

    /* ---- sending ---- */

    /* What a refusal says to the person who sent: the server's own
     * sentence (402 and 409 say what to do), but billing inactive's
     * as fits the sender's role. */
    function refusalText(err) {
        if (typeof err.status !== 'number') {
            return 'The server could not be reached, so the message may '
                + 'or may not have gone. Send again: it will not go '
                + 'twice.';
        }
        if (err.code === 'billing_inactive') {
            return billingInactive();
        }
        if (err.code === 'insufficient_credits'
            && typeof err.error.needed === 'number'
            && typeof err.error.balance === 'number'
            && !/\d/.test(err.message))
        {
            return err.message + ' (It needs '
                + plural(err.error.needed, 'credit', 'credits')
                + '; the balance is ' + err.error.balance + '.)';
        }
        return err.message;
    }

    async function send() {
        const conv = state.conv;
        if (!conv || conv.contact.opted_out) {
            return;
        }
        const d = draftOf(conv.id);
        d.text = els.text.value;
        if (d.sending || (d.text.trim() === '' && d.media.length === 0)) {
            return;
        }
        d.sending = true;
        d.error = '';
        render();
        try {
            /* the images as they are now: none is added or removed while
             * it is sent (a pick checked meanwhile goes to the next) */
            const media = d.media.slice();
            const failed = await attachments.settled(media);
            if (failed.length > 0) {
                /* no reply goes without a picture it was written with */
                sayAgain(d, 'Not sent: ' + attachments.notUploaded(failed)
                    + ', then send.');
                return;
            }
            const ids = media.map((item) => item.id);
            const body = d.text;
            const content = JSON.stringify([body, ids]);
            if (d.key === null) {
                d.key = newKey();
                d.keyFor = content;
            }
            const request = { body: body, media_ids: ids };
            if (d.seen !== null) {
                request.last_seen_message_id = d.seen;
            }
            let m;
            try {
                m = await app.api('/api/v1/conversations/'
                    + encodeURIComponent(conv.id) + '/messages', {
                    method: 'POST',
                    headers: { 'Idempotency-Key': d.key },
                    body: request });
            } catch (err) {
                if (app.failed(err)) {
                    return;
                }
                /* a refusal is an answer: nothing went, and the next try
                 * is a new send; with no answer (or a 5xx) the key stays,
                 * so that trying again cannot send it twice */
                if (typeof err.status === 'number' && err.status < 500) {
                    d.key = null;
                }
                if (err.code === 'stale') {
                    askStale(conv.id, err);
                    return;
                }
                if (err.status === 409 && err.error
                    && err.error.field === 'idempotency_key')
                {
                    /* the key of an earlier try, whose answer was lost,
                     * for an edited draft: that try was sent; the edit
                     * goes, with a new key, if sent again (that try,
                     * newer than what the draft answered, is known) */
                    d.error = EARLIER_SENT;
                    d.seen = null;
                    return;
                }
                d.error = refusalText(err);
                d.ofText = err.status === 400 && err.error
                    && err.error.field === 'body' ? d.error : null;
                /* the refusal is about the message: the box takes the
                 * focus from Send, and its description says why */
                if (document.activeElement === els.send) {
                    els.text.focus();
                }
                if (err.code === 'contact_opted_out') {
                    app.reloadConversation(conv.id);
                }
                if (err.code === 'insufficient_credits'
                    || err.code === 'billing_inactive')
                {
                    d.refused = { code: err.code, text: d.error,
                        needed: err.error
                            && typeof err.error.needed === 'number'
                            ? err.error.needed : 1,
                        /* billing inactive is said first: credits
                         * it said were short may still be */
                        credits: err.code === 'insufficient_credits'
                            ? d.error : d.refused && d.refused.credits };
                    refreshBalance();
                }
                return;
            }
            app.showMessage(m);
            d.refused = null;
            /* the answer to an earlier try of this draft, edited since,
             * is that try's message: the edit stays to be sent */
            const earlier = d.keyFor !== content && (m.body !== body
                || (m.media || []).length !== ids.length);
            d.key = null;
            d.seen = null;
            if (earlier) {
                d.error = EARLIER_SENT;
            } else {
                d.text = '';
                media.forEach((item) => attachments.drop(d.media, item));
            }
            refreshBalance();
        } finally {
            d.sending = false;
            if (state.conv && state.conv.id === conv.id) {
                render();
                estimateSoon(0);
            }
        }
    }

    function onKeyDown(event) {
        if (event.key === 'Enter' && !event.shiftKey && !event.altKey
            && !event.isComposing)
        {
            event.preventDefault();
            send();
        } else if (event.key === 'Escape') {
            /* the app's Esc (close the thread) is one more press away */
            event.preventDefault();
            els.text.blur();
        }
    }

    function onInput() {
        const d = current();
        if (d) {
            d.text = els.text.value;
            noteBegun(d);
            /* a refusal of the text is of the text it was: the count
             * says what the edited one would be */
            if (d.ofText !== null && d.error === d.ofText) {
                d.error = '';
                render();
            }
            d.ofText = null;
        }
        estimateSoon();
    }

    /* The thread moved on while the draft was written (a newer message
     * came in, or a colleague replied): the writer reads it and then
     * sends anyway or goes on editing.  Either way the draft now answers
     * the newest message the refusal names, the server's own: the
     * thread shown may not have it yet, or put another of the same time
     * last, and Send anyway would be refused again and again. */
    function askStale(id, err) {
        const d = draftOf(id);
        d.seen = err.error.last_message_id || app.newestMessageId();
        els.staleDialog.dataset.conversation = id;
        els.staleDialog.querySelector('.stale-why').textContent =
            err.message;
        els.staleDialog.showModal();
    }

    function onStaleClosed() {
        const id = els.staleDialog.dataset.conversation;
        if (els.staleDialog.returnValue === 'send' && state.conv
            && state.conv.id === id)
        {
            send();
        } else {
            els.text.focus();
        }
    }

    /* ---- a failed reply sent again ---- */

    /* Each failed reply sent again has its try, as a draft has: the
     * Idempotency-Key and the uploads its pictures are, kept until an
     * answer says what became of it, so that pressing Send again after
     * an answer was lost cannot send it twice.  Forgotten when the
     * session ends. */
    const resends = new Map();      /* failed message id -> try */

    /* The uploads a send names for the reply's pictures: those they
     * are (each item's id), kept for good since the reply names them;
     * only when one does not say (a message kept before ids were)
     * are they read back and uploaded again. */
    function uploadsOf(media) {
        return media.every((item) => item.id)
            ? Promise.resolve(media.map((item) => item.id))
            : uploadAgain(media);
    }

    /* Its pictures, read back from the inbox and uploaded again: a send
     * names uploads, and these are what the failed reply showed. */
    async function uploadAgain(media) {
        const ids = [];
        for (const item of media) {
            const res = item.url ? await fetch(item.url) : null;
            if (!res || !res.ok) {
                const err = new Error(media.length === 1
                    ? 'Its picture could not be read again; attach it to '
                        + 'a new reply.'
                    : 'One of its pictures could not be read again; '
                        + 'attach them to a new reply.');
                err.status = res ? res.status : 404;
                throw err;
            }
            const answer = await app.api('/api/v1/media', { method: 'POST',
                raw: await res.blob() });
            ids.push(answer.id);
        }
        return ids;
    }

    /* Send again (app.js's resendOffer): the reply's text and pictures
     * as a new message naming it (resend_of), sent at once and charged
     * as any reply; the draft of the thread is left as it is.  The
     * server marks it sent again in the same write, so a colleague's
     * page, or this one stale, is refused (409 already_sent_again, said
     * beside the button) rather than sending it twice.  One try of a
     * message at a time, whichever of its buttons (a redraw makes it
     * anew) is pressed.  What went wrong is said beside the button
     * (offer.say), in the words a send's refusal has. */
    function resend(offer) {
        const m = offer.message;
        const button = offer.button;
        return busy.whileBusy(button, async () => {
            let t = resends.get(m.id);
            if (t && t.pending) {
                return;
            }
            if (!t) {
                t = { key: newKey(), mediaIds: null, pending: false };
                resends.set(m.id, t);
            }
            t.pending = true;
            let again;
            try {
                if (t.mediaIds === null) {
                    t.mediaIds = await uploadsOf(m.media || []);
                }
                again = await app.api('/api/v1/conversations/'
                    + encodeURIComponent(m.conversation_id) + '/messages', {
                    method: 'POST',
                    headers: { 'Idempotency-Key': t.key },
                    body: { body: m.body, media_ids: t.mediaIds,
                        resend_of: m.id } });
            } catch (err) {
                if (app.failed(err)) {
                    return;
                }
                if (err.status === 409 && err.error
                    && err.error.field === 'idempotency_key')
                {
                    /* an earlier try, whose answer was lost, went: its
                     * message comes with its frame */
                    resends.delete(m.id);
                    offer.sent();
                    return;
                }
                const refused = typeof err.status === 'number'
                    && err.status < 500;
                /* a refusal: nothing went, the next try starts anew;
                 * without an answer the try (its key) stays */
                if (refused) {
                    resends.delete(m.id);
                }
                offer.say((refused ? 'Not sent again. ' : '')
                    + refusalText(err));
                if (err.code === 'contact_opted_out') {
                    app.reloadConversation(m.conversation_id);
                }
                refreshBalance();
                return;
            } finally {
                t.pending = false;
            }
            resends.delete(m.id);
            const focused = document.activeElement === button;
            offer.sent(again);
            app.showMessage(again);
            if (focused && !els.form.hidden) {
                els.text.focus();
            }
            refreshBalance();
        });
    }

    /* ---- the balance in the header ---- */

    function showBalance(b) {
        if (!b || !b.credits) {
            els.balance.hidden = true;
            return;
        }
        clearRefusals(b);
        if (b.plan !== state.plan) {
            state.plan = b.plan;
            estimateSoon(0);        /* its credits are said differently */
        }
        els.balance.hidden = false;
        els.balance.classList.toggle('inactive', !b.active);
        if (!b.active) {
            els.balanceWord.textContent = 'Billing';
            els.balanceCount.textContent = 'inactive';
            els.balance.title = 'Nothing can be sent until billing is '
                + 'active again; ' + billingWhat() + '.';
            return;
        }
        if (b.plan === 'unlimited') {
            els.balanceWord.textContent = 'Plan:';
            els.balanceCount.textContent = 'Unlimited';
            els.balance.classList.remove('low');
            els.balance.title = 'Your subscription pays for every message; '
                + 'no credits are used.';
            return;
        }
        const n = Number(b.credits.balance) || 0;
        const held = Number(b.credits.held) || 0;
        els.balanceWord.textContent = 'Credits:';
        els.balanceCount.textContent = n.toLocaleString();
        els.balance.classList.toggle('low', n === 0);
        els.balance.title = plural(n, 'credit', 'credits') + ' to spend'
            + (held > 0 ? ', ' + held.toLocaleString()
                + ' held for messages on their way' : '');
    }

    /* A billing refusal under the reply box follows the balance read:
     * it says what a send would now be refused for, billing inactive
     * (checked first by the server) or the credits short, and goes when
     * a send would go.  A credits refusal comes back with billing
     * active again only while the balance is still short of it. */
    function clearRefusals(b) {
        const n = Number(b.credits.balance) || 0;
        let shown = false;
        state.drafts.forEach((d) => {
            const r = d.refused;
            if (!r || d.error !== r.text) {
                return;
            }
            const text = !b.active ? billingInactive()
                : r.credits !== null && b.plan !== 'unlimited'
                    && n < r.needed ? r.credits : '';
            if (text !== r.text) {
                d.error = text;
                r.text = text;
                r.code = !b.active ? 'billing_inactive'
                    : 'insufficient_credits';
                shown = shown || d === current();
            }
            if (text === '') {
                d.refused = null;
            }
        });
        if (shown) {
            render();
        }
    }

    /* A view that read the billing (Settings), or a billing.updated
     * frame: it is the newest, any read out now is older. */
    function onBilling(b) {
        if (state.signedIn) {
            clearTimeout(state.balanceTimer);
            state.balanceTimer = null;
            state.balanceSeq += 1;
            showBalance(b);
        }
    }

    async function refreshBalance() {
        clearTimeout(state.balanceTimer);
        state.balanceTimer = null;
        const seq = ++state.balanceSeq;
        try {
            const b = await app.api('/api/v1/billing');
            if (seq === state.balanceSeq && state.signedIn) {
                showBalance(b);
            }
        } catch (err) {
            if (!app.failed(err) && seq === state.balanceSeq) {
                showBalance(null);
            }
        }
    }

    /* a burst of status frames: asked for once */
    function refreshBalanceSoon() {
        if (!state.balanceTimer) {
            state.balanceTimer = setTimeout(refreshBalance,
                BALANCE_DELAY_MS);
        }
    }

    function onEvent(ev) {
        if (ev.type === 'message.status' || ev.type === 'hello') {
            refreshBalanceSoon();
        }
    }

    els.form.addEventListener('submit', (event) => {
        event.preventDefault();
        send();
    });
    els.text.addEventListener('keydown', onKeyDown);
    els.text.addEventListener('input', onInput);
    els.text.addEventListener('paste', onPaste);
    els.attach.addEventListener('click', () => {
        if (busy.busy(els.attach)) {
            return;
        }
        if (state.conv && !takesImages()) {
            sayAgain(current(), NO_MMS);
        } else if (state.conv && current().media.length >= MAX_IMAGES) {
            sayAgain(current(), FULL);
        } else {
            els.file.click();
        }
    });
    els.file.addEventListener('change', onFileChosen);
    els.staleDialog.addEventListener('close', onStaleClosed);

    app.on('session', onSession);
    app.on('signout', onSignOut);
    app.on('thread', onThread);
    app.on('event', onEvent);
    app.on('billing', onBilling);
    app.on('resend', resend);
    /* billing may have changed while the inbox or the tab was away */
    document.getElementById('app').addEventListener('inbox:show', () => {
        if (state.signedIn) {
            refreshBalance();
        }
    });
    document.addEventListener('visibilitychange', () => {
        if (state.signedIn && document.visibilityState === 'visible') {
            refreshBalance();
        }
    });
})(window.inboxApp, window.inboxBusy, window.inboxAttachments,
   window.inboxInvalid, window.inboxDelivery);
