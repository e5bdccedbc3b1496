/*
 * What campaigns and polls share in the web app: a list of them as
 * cards (status and its paused or cancelled reason in words, the counts,
 * the buttons the lifecycle allows, Delete for one nobody got; a
 * draft's audience now, an estimate, for the counts a send fixes), kept
 * current by campaign.progress frames without asking the server again,
 * and the confirmation before a send with its preview (GET …/estimate:
 * recipients, opted out, segments, credits) and the balance, read again
 * while it is open as contacts change.
 *
 * campaigns.js and polls.js each make a list (list()) for their kind,
 * a create form (createForm()) and its live cost preview (preview():
 * POST …/estimate while it is written);
 * the API's own answer to every button is what the card shows next, and
 * a refusal shows the server's message on the card.
 *
 * What it uses of the app is window.inboxApp: api, failed, announce and
 * on(session|event|resync); a button at work is busy.js's
 * (window.inboxBusy); a time written into a field, and when contacts
 * changed, audience.js's (window.inboxAudience); a time written on a
 * card, times.js's (window.inboxTimes), as a thread writes one.
 */
'use strict';

(function (app, busy, audienceFields, times) {
    const invalid = window.inboxInvalid;
    const PAGE = 100;
    const RELOAD_AFTER_MS = 2000;   /* an unknown id: the list again, at
                                       most this often */
    const PREVIEW_DELAY_MS = 300;   /* a form's preview, after the last
                                       change */

    /* the lifecycle's moves from each status (campaign.h); a campaign
     * paused for credits or billing may be paused by hand as well, which
     * holds the messages it had already queued (those still go else, for
     * billing once it is active again).  A draft is deleted, not
     * cancelled: nobody got it; one scheduled keeps Cancel, its send was
     * decided, and once cancelled before it began it is deleted too
     * (movesOf) */
    const ACTIONS = {
        draft: ['edit', 'send', 'delete'],
        scheduled: ['move', 'pause', 'cancel'],
        sending: ['pause', 'cancel'],
        paused: ['resume', 'cancel'],
        paused_by_billing: ['pause', 'resume', 'cancel'],
        done: [],
        cancelled: [],
    };

    const BUTTONS = { edit: 'Edit', send: 'Send\u2026',
                      move: 'Change time\u2026', pause: 'Pause',
                      resume: 'Resume', cancel: 'Cancel',
                      delete: 'Delete' };
    /* what a move did, said to a screen reader (send: the new status) */
    const DONE = { pause: 'Paused', resume: 'Resumed',
                   cancel: 'Cancelled' };

    /* the counts a card shows, in the order a send moves through them */
    const COUNTS = [
        ['recipients', 'Recipients'],
        ['suppressed', 'Opted out, not sent'],
        ['queued', 'Queued'],
        ['waiting_quiet_hours', 'Waiting for quiet hours'],
        /* each message is counted once, where it is now: one
         * delivered is no more "Sent", so a bare "Sent 0" beside
         * "Delivered 3" read as nothing sent */
        ['sent', 'Sent, no report yet'],
        ['delivered', 'Delivered'],
        ['failed', 'Failed'],
        ['replied', 'Replied'],
        ['cancelled', 'Cancelled'],
    ];

    const $ = (id) => document.getElementById(id);

    /* what the Edit form says of its draft deleted meanwhile */
    const GONE_WORDS = 'This draft was deleted by someone else.';

    /* A draft's audience now: its recipients are fixed only by its send,
     * so its counts are all 0 until then, which read as nobody.  Its
     * card says instead how many the audience holds now, the figure the
     * Send dialog shows (GET …/{id}/estimate), read once for each
     * audience the drafts shown have (drafts of the same audience, of
     * either list, share it), READS_AT_ONCE at a time, and kept: a card
     * drawn again (a frame, the list read again) asks nothing.  Contacts
     * changed (audience.js's onCounts: once for a burst) make the
     * figures old: those of a list shown are read again, the old one
     * shown meanwhile; a list hidden reads them when shown.  One that
     * could not be read is read again once the connection is back. */
    const READS_AT_ONCE = 3;
    const reach = {
        known: new Map(),       /* audience key -> estimate, or null: it
                                   could not be read */
        old: new Map(),         /* the figures before contacts changed */
        asked: new Set(),       /* keys being read, or waiting to be */
        waiting: [],            /* reads not begun yet */
        reading: 0,
        era: 0,                 /* answers of an older era dropped */
        lists: [],
    };

    const dialog = {
        el: $('bulk-dialog'),
        title: $('bulk-dialog-title'),
        body: $('bulk-dialog-body'),
        error: $('bulk-dialog-error'),
        ok: $('bulk-dialog-ok'),
        back: $('bulk-dialog-back'),
        run: null,              /* what the primary button does: a
                                   promise of the refusal, or null */
        card: null,             /* where focus goes back to */
        seq: 0,                 /* answers for an older opening dropped */
        sending: false,         /* its primary button's work is out */
        recount: null,          /* a send's preview read again */
        reads: 0,               /* answers to an older read dropped */
        previewFailed: false,   /* the error said is the preview's */
    };

    /* ---- words ---- */

    /* Pictures reach only the US and Canada: what the others of a
     * send's preview (e) get in their place, or '' */
    function withoutMms(e, unlimited) {
        const w = e.without_mms;
        if (!w || !w.recipients) {
            return '';
        }
        return plural(w.recipients, 'recipient is', 'recipients are')
            + ' outside the US and Canada, where pictures do not reach: '
            + (w.recipients === 1 ? 'it gets' : 'they get')
            + ' the text with a link to each picture, as an SMS'
            + (unlimited ? '.' : ' (' + plural(w.credits, 'credit',
                'credits') + ' each).');
    }

    function plural(n, one, many) {
        return Number(n).toLocaleString() + ' ' + (n === 1 ? one : many);
    }

    /* A line of words and times: parts are strings, and {at: iso} for
     * a time, written as a thread writes one (times.js: "11:12 PM"
     * today, else "Dec 7, 11:12 PM", the full date and time its title),
     * in a <time> that times.js draws again at midnight, where a card
     * kept yesterday's bare clock time until the list was read again.
     * Written only when the parts change, so a frame touches nothing
     * else. */
    const written = new WeakMap();

    function writeParts(el, parts) {
        const key = JSON.stringify(parts);
        if (written.get(el) === key) {
            return;
        }
        written.set(el, key);
        el.replaceChildren(...parts.map((part) => {
            if (typeof part === 'string') {
                return document.createTextNode(part);
            }
            const time = document.createElement('time');
            times.stamp(time, part.at);
            return time;
        }));
    }

    /* the same line as words alone (said to a screen reader) */
    function partsText(parts) {
        return parts.map((part) => (typeof part === 'string' ? part
            : times.at(part.at))).join('');
    }

    function pausedText(item) {
        switch (item.paused_reason) {
        case 'insufficient_credits':
            /* a person's pause parks what was queued and gives its
             * credits back until it goes (outbox.h) */
            return 'Paused: not enough credits. Add credits, then resume. '
                + 'Messages already queued still go; Pause stops them too '
                + 'and gives their credits back (held again when they '
                + 'go).';
        case 'billing_inactive':
            /* nothing is sent while billing is inactive, queued or not
             * (inbox_outbox_billing): what was queued goes once it is
             * active, unless paused by hand */
            return 'Paused: billing is inactive. Nothing is sent until it '
                + 'is active again; then Resume. Messages already queued '
                + 'go once it is; Pause stops them too and gives their '
                + 'credits back (held again when they go).';
        case 'carrier_account':
            /* its messages wait parked, none failed (campaign.h): the
             * fix is the number's settings, which staff may not reach;
             * the number the carrier refused named (one paused before
             * the server kept it names none) */
            if (item.paused_number) {
                return 'Paused: the carrier refused '
                    + (item.paused_number_display || item.paused_number)
                    + ' for this account'
                    + (item.paused_error_code ? ' (error '
                        + item.paused_error_code + ')' : '')
                    + ', so nothing was sent. Fix the number in the '
                    + 'carrier account (or ask whoever runs the inbox '
                    + 'to), then Resume.';
            }
            return 'Paused: the carrier refused this number\u2019s account '
                + 'or credentials, so nothing was sent. Ask whoever runs '
                + 'the inbox to check the number\u2019s carrier settings, '
                + 'then Resume.';
        default:
            return 'Paused';
        }
    }

    /* Why it was cancelled: a person's cancel needs no words; the
     * dispatch's, of a text a rule made since it was scheduled refuses,
     * says the refusal (the server's words: how long, the limit) and
     * what to do, as a cancelled one is final (campaign.h). */
    function cancelledText(item) {
        if (item.cancelled_reason !== 'text_refused') {
            return 'Cancelled';
        }
        const noun = item.kind === 'poll' ? 'poll' : 'campaign';
        return 'Cancelled when its time came, nothing sent: its text is '
            + 'longer than a message may be now. '
            + (item.cancelled_message ? item.cancelled_message + ' ' : '')
            + 'A cancelled ' + noun + ' cannot be sent again: create a '
            + 'new one with a shorter text.';
    }

    /* A card's status, as writeParts' parts. */
    function statusParts(item) {
        switch (item.status) {
        case 'draft':
            return ['Draft'];
        case 'scheduled':
            /* the zone named: a colleague's may be another */
            return item.send_at ? ['Scheduled for ', { at: item.send_at },
                ' (' + audienceFields.yourTime() + ')'] : ['Scheduled'];
        case 'sending':
            return ['Sending'];
        case 'paused':
            return [pausedText(item)];
        case 'done':
            return ['Done'];
        case 'cancelled':
            return [cancelledText(item)];
        default:
            return [String(item.status || '')];
        }
    }

    function statusText(item) {
        return partsText(statusParts(item));
    }

    function audienceText(audience) {
        if (!audience || audience.all) {
            return 'All contacts';
        }
        /* a tag with a comma of its own is quoted, so the list reads */
        const tags = (audience.tags || []).map((t) =>
            (t.includes(',') ? '\u201c' + t + '\u201d' : t));
        return 'Contacts tagged ' + tags.join(', ');
    }

    /* What a refusal says: the server's own sentence (the contract's
     * message), or that it could not be reached. */
    function errorText(err) {
        return typeof err.status === 'number' ? err.message
            : 'The server could not be reached. Try again.';
    }

    /* ---- one card ---- */

    function counter(key, label) {
        const div = document.createElement('div');
        div.className = 'bulk-count';
        div.dataset.count = key;
        const dt = document.createElement('dt');
        dt.textContent = label;
        const dd = document.createElement('dd');
        div.appendChild(dt);
        div.appendChild(dd);
        return div;
    }

    /* The parts of a card that move: its status, its counts and its
     * buttons.  Text is written only where it changed, so a progress
     * frame touches a few nodes, and the buttons are made anew only when
     * the moves offered change: a focused one stays. */
    function fillMoving(card, item) {
        card.li.dataset.status = item.status;
        writeParts(card.status, statusParts(item));
        const moves = movesOf(item);
        if (moves.join(' ') !== card.moves) {
            fillActions(card, moves);
        }
        /* a draft has no recipients yet: its audience now instead */
        const draft = item.status === 'draft';
        card.countsEl.hidden = draft;
        card.reach.hidden = !draft;
        if (draft) {
            fillReach(card, item);
        }
        const counts = item.counts || {};
        /* recipients fixed for a time still to come are not in the
         * queue yet: "Queued" beside "Scheduled for …" read as going */
        const notYet = !item.started_at && Boolean(item.send_at)
            && (item.status === 'scheduled' || item.status === 'paused');
        card.counts.forEach((dd, key) => {
            const n = Number(counts[key]) || 0;
            const text = n.toLocaleString();
            if (dd.textContent !== text) {
                dd.textContent = text;
            }
            if (key === 'queued') {
                const label = notYet ? 'Waiting for its time' : 'Queued';
                const dt = dd.previousElementSibling;
                if (dt.textContent !== label) {
                    dt.textContent = label;
                }
            }
            /* cancelled only once some are */
            if (key === 'cancelled') {
                dd.parentNode.hidden = n === 0;
            }
        });
    }

    /* The moves the lifecycle allows it now.  Paused for credits or
     * billing, what it queued may still go: Pause holds it; paused for
     * the carrier's refusal of its number, it waits already. */
    function movesOf(item) {
        const byBilling = item.status === 'paused'
            && (item.paused_reason === 'insufficient_credits'
                || item.paused_reason === 'billing_inactive');
        /* paused before it began, its time still moves */
        if (item.status === 'paused' && !item.started_at) {
            return ['move'].concat(ACTIONS.paused);
        }
        /* cancelled before any of its messages was handed over (before
         * it began, while every recipient waited out quiet hours, or as
         * its time came, for its text): nobody got it, so it can go
         * (inbox_campaign_deletable); a card of a server before handed_at
         * goes by started_at */
        if (item.status === 'cancelled'
            && ('handed_at' in item ? !item.handed_at
                : !item.started_at
                  || item.cancelled_reason === 'text_refused'))
        {
            return ['delete'];
        }
        return ACTIONS[byBilling ? 'paused_by_billing' : item.status] || [];
    }

    /* The buttons for other moves (a live frame, a reload, an answer):
     * one that had the focus hands it to its like among the new, else
     * to the card's heading, never to the page. */
    function fillActions(card, moves) {
        const had = card.actions.contains(document.activeElement)
            ? document.activeElement.dataset.action : null;
        card.moves = moves.join(' ');
        card.actions.textContent = '';
        moves.forEach((action) => {
            const b = document.createElement('button');
            b.type = 'button';
            b.className = 'action' + (action === 'cancel'
                || action === 'delete' ? ' danger'
                : action === 'send' ? ' send-action' : '');
            b.dataset.action = action;
            b.textContent = BUTTONS[action];
            /* a move still out: the new ones ignore presses too */
            busy.setBusy(b, card.busy);
            b.addEventListener('click', () => card.list.act(card.id, action));
            card.actions.appendChild(b);
        });
        if (had !== null) {
            const same = card.actions.querySelector('button[data-action="'
                + had + '"]');
            (same || card.name).focus();
        }
    }

    function makeCard(list, item) {
        const li = document.createElement('li');
        li.className = 'bulk-item';
        li.dataset.id = item.id;
        const article = document.createElement('article');
        const headId = list.kind + '-name-' + item.id;
        article.setAttribute('aria-labelledby', headId);

        const head = document.createElement('header');
        head.className = 'bulk-item-head';
        const h = document.createElement('h3');
        h.className = 'bulk-name';
        h.id = headId;
        h.tabIndex = -1;
        h.dir = 'auto';
        const status = document.createElement('p');
        status.className = 'bulk-status';
        status.setAttribute('role', 'status');
        head.appendChild(h);
        head.appendChild(status);
        article.appendChild(head);

        const text = document.createElement('p');
        text.className = 'bulk-text';
        text.dir = 'auto';
        article.appendChild(text);

        /* a campaign's images, small: each opens the full image */
        const images = document.createElement('div');
        images.className = 'bulk-images';
        images.hidden = true;
        article.appendChild(images);

        const meta = document.createElement('p');
        meta.className = 'bulk-meta';
        article.appendChild(meta);

        const dl = document.createElement('dl');
        dl.className = 'bulk-counts';
        const counts = new Map();
        COUNTS.forEach(([key, label]) => {
            const div = counter(key, label);
            dl.appendChild(div);
            counts.set(key, div.querySelector('dd'));
        });
        article.appendChild(dl);

        const reachLine = document.createElement('p');
        reachLine.className = 'bulk-reach';
        reachLine.hidden = true;
        article.appendChild(reachLine);

        const actions = document.createElement('div');
        actions.className = 'bulk-actions';
        actions.setAttribute('role', 'group');
        article.appendChild(actions);

        const error = document.createElement('p');
        error.className = 'bulk-error';
        error.setAttribute('role', 'alert');
        article.appendChild(error);

        li.appendChild(article);
        const card = { id: item.id, list, li, article, name: h, status,
                       text, images, imagesShown: '', meta, counts,
                       countsEl: dl, reach: reachLine, reachKey: null,
                       actions, error, moves: null, busy: false };
        return card;
    }

    /* ---- a draft's audience now ---- */

    /* An audience as the server matches it: all, or tags by ASCII
     * case, in any order. */
    function audienceKey(audience) {
        if (!audience || audience.all) {
            return '*';
        }
        return JSON.stringify((audience.tags || []).map((t) =>
            t.replace(/[A-Z]/g, (c) => c.toLowerCase())).sort());
    }

    /* What a draft's card says of its audience now (e: its estimate;
     * undefined not read yet, null not readable): an estimate, said as
     * one, as those in it when it is sent get it. */
    function reachText(e) {
        if (e === undefined) {
            return 'Counting who is in its audience\u2026';
        }
        if (e === null) {
            return 'Its recipients are counted when it is sent.';
        }
        if (e.recipients === 0) {
            return 'Nobody to send it to now'
                + (e.suppressed > 0 ? ' (' + plural(e.suppressed,
                    'contact is', 'contacts are') + ' opted out)' : '')
                + ': its recipients are counted when it is sent.';
        }
        return 'About ' + plural(e.recipients, 'recipient', 'recipients')
            + ' now' + (e.suppressed > 0 ? ' (' + plural(e.suppressed,
                'opted out', 'opted out') + ', not sent)' : '')
            + ': its recipients are counted when it is sent.';
    }

    /* A draft card's line, from what is known of its audience, which is
     * read when nothing is (nor being read). */
    function fillReach(card, item) {
        const key = audienceKey(item.audience);
        card.reachKey = key;
        const known = reach.known.has(key) ? reach.known.get(key)
            : reach.old.get(key);
        const said = reachText(known);
        if (card.reach.textContent !== said) {
            card.reach.textContent = said;
        }
        if (!reach.known.has(key) && !reach.asked.has(key)) {
            reach.asked.add(key);
            reach.waiting.push({ key, kind: card.list.kind, id: item.id });
            readReach();
        }
    }

    /* The reads waiting, READS_AT_ONCE at a time; each answer drawn on
     * the draft cards of its audience. */
    function readReach() {
        while (reach.reading < READS_AT_ONCE && reach.waiting.length > 0) {
            const ask = reach.waiting.shift();
            const era = reach.era;
            reach.reading += 1;
            app.api('/api/v1/' + ask.kind + '/' + encodeURIComponent(ask.id)
                    + '/estimate')
                .then((e) => e, (err) => (app.failed(err) ? undefined
                    : null))
                .then((e) => {
                    reach.reading -= 1;
                    /* a session ended (undefined) asks nothing more */
                    if (era === reach.era && e !== undefined) {
                        reach.asked.delete(ask.key);
                        reach.known.set(ask.key, e);
                        redrawReach(ask.key);
                    }
                    readReach();
                });
        }
    }

    function redrawReach(key) {
        reach.lists.forEach((list) => list.cards.forEach((card) => {
            const item = list.items.get(card.id);
            if (card.reachKey === key && item && item.status === 'draft') {
                fillReach(card, item);
            }
        }));
    }

    /* Contacts changed: the figures are old.  The drafts of a list shown
     * read theirs again (the old one said meanwhile). */
    function reachStale() {
        reach.era += 1;
        reach.known.forEach((e, key) => reach.old.set(key, e));
        reach.known.clear();
        reach.asked.clear();
        reach.waiting = [];
        reach.lists.forEach((list) => {
            if (list.shown()) {
                list.cards.forEach((card) => {
                    const item = list.items.get(card.id);
                    if (item && item.status === 'draft') {
                        fillReach(card, item);
                    }
                });
            }
        });
    }

    /* The connection back (the app's 'back'): the audiences whose
     * figure could not be read are read again, once, where a list shows
     * their drafts ("Counting…" meanwhile; a list hidden reads them when
     * shown), rather than left saying only that the send counts them
     * until contacts change or the page is loaded again.  The figures
     * read are kept: a reconnect asks nothing of them. */
    function reachAgain() {
        const failed = new Set();
        reach.known.forEach((e, key) => {
            if (e === null) {
                failed.add(key);
            }
        });
        if (failed.size === 0) {
            return;
        }
        failed.forEach((key) => {
            reach.known.delete(key);
            reach.old.delete(key);
        });
        reach.lists.forEach((list) => {
            if (list.shown()) {
                list.cards.forEach((card) => {
                    const item = list.items.get(card.id);
                    if (item && item.status === 'draft'
                        && failed.has(card.reachKey)) {
                        fillReach(card, item);
                    }
                });
            }
        });
    }

    function reachReset() {
        reach.era += 1;
        reach.known.clear();
        reach.old.clear();
        reach.asked.clear();
        reach.waiting = [];
    }

    /* Who it goes to, what it costs and when, in a line (writeParts'
     * parts). */
    function metaParts(list, item) {
        const meta = [audienceText(item.audience)];
        if (item.media && item.media.length) {
            meta.push(plural(item.media.length, 'image', 'images'));
        }
        meta.push(list.plan === 'unlimited' ? 'Included in your plan'
            : plural(item.credits || 0, 'credit', 'credits') + ' a message');
        const parts = [meta.join(' \u00b7 ')];
        const at = (words, iso) => parts.push(' \u00b7 ' + words + ' ',
                                              { at: iso });
        /* one cancelled ended there: it neither goes at its time nor
         * finished its sending */
        const cancelled = item.status === 'cancelled';
        if (item.started_at) {
            at('Started', item.started_at);
        } else if (item.send_at) {
            at(cancelled ? 'Was to go' : 'Goes', item.send_at);
        } else {
            at('Created', item.created_at);
        }
        if (item.finished_at) {
            at(cancelled ? 'Cancelled' : 'Finished', item.finished_at);
        }
        return parts;
    }

    /* The images as thumbnails (the meta line counts them), made anew
     * only when they change, so a progress frame reloads none; one not
     * stored yet is counted, not shown. */
    function fillImages(card, item) {
        const media = item.media || [];
        const key = JSON.stringify(media.map((m) => [m.url, m.state]));
        if (key === card.imagesShown) {
            return;
        }
        card.imagesShown = key;
        card.images.replaceChildren();
        media.forEach((m, i) => {
            const thumb = window.inboxMedia.thumb(m, (item.name || 'The '
                + card.list.noun) + ': image' + (media.length > 1
                ? ' ' + (i + 1) + ' of ' + media.length : ''));
            if (thumb) {
                card.images.appendChild(thumb);
            }
        });
        card.images.hidden = card.images.childElementCount === 0;
    }

    /* Everything a card shows, from the API's campaign or poll. */
    function fillCard(card, item) {
        card.name.textContent = item.name || '';
        /* a poll's question, unless its name already says it (the form
         * names a poll by its question) */
        card.text.textContent = card.list.kind === 'polls'
            ? (item.question && item.question !== item.name
                ? item.question : '')
            : item.body || (item.media && item.media.length
                ? 'Picture message' : '');
        card.text.hidden = card.text.textContent === '';
        fillImages(card, item);
        writeParts(card.meta, metaParts(card.list, item));
        card.actions.setAttribute('aria-label', 'Actions for '
            + (item.name || 'this ' + card.list.noun));
        fillMoving(card, item);
        if (card.list.extra) {
            card.list.extra(card, item);
        }
    }

    /* ---- a list of one kind ---- */

    /* kind: 'campaigns' or 'polls' (the API's path); noun: 'campaign' or
     * 'poll'; els: {list, status, more}; extra(card, item): what a kind
     * adds to a card, called whenever the card is filled anew and when
     * a frame changes its status. */
    function list(opts) {
        const self = {
            kind: opts.kind,
            noun: opts.noun,
            extra: opts.extra || null,
            items: new Map(),       /* id -> the item, as last seen */
            cards: new Map(),       /* id -> card */
            cursor: null,
            plan: 'per_message',    /* the organization's, at the load */
            loaded: false,
            loading: null,
            failed: false,          /* the last read failed */
            reloadAt: 0,
            again: false,           /* a read asked while one was on its way */
            reloadTimer: null,
            strangers: new Set(),   /* ids of the other kind (or gone) */
            removed: new Set(),     /* ids this page deletes or deleted:
                                       their campaign.deleted is its own */
            gone: null,             /* (id): the form, of one deleted
                                       elsewhere */
            unknown: new Set(),     /* ids asked about by the next load */
            pending: [],            /* frames that came during a load */
        };
        const els = opts.els;

        function render() {
            const ids = Array.from(self.items.values()).sort((a, b) =>
                Date.parse(b.created_at) - Date.parse(a.created_at)
                || b.id.length - a.id.length || (b.id < a.id ? -1 : 1))
                .map((i) => i.id);
            let before = els.list.firstElementChild;
            for (const id of ids) {
                let card = self.cards.get(id);
                if (!card) {
                    card = makeCard(self, self.items.get(id));
                    fillCard(card, self.items.get(id));
                    self.cards.set(id, card);
                }
                if (card.li !== before) {
                    els.list.insertBefore(card.li, before);
                } else {
                    before = before.nextElementSibling;
                }
            }
            els.status.textContent = ids.length ? ''
                : 'No ' + self.noun + 's yet.';
            els.more.hidden = !self.cursor;
        }

        /* An item as the API (or a frame) says it is now. */
        function upsert(item) {
            if (!item || !item.id) {
                return;
            }
            self.strangers.delete(item.id);
            self.items.set(item.id, item);
            const card = self.cards.get(item.id);
            if (card) {
                fillCard(card, item);
            } else {
                render();
            }
        }

        /* "Show older" gone with the focus, the last page in: the focus
         * to the first card that page brought (the list's last, when it
         * brought none), not to the page. */
        function moreGone(items) {
            const first = items.length > 0 ? self.cards.get(items[0].id)
                : null;
            const last = els.list.lastElementChild;
            const heir = first
                || (last ? self.cards.get(last.dataset.id) : null);
            if (heir) {
                heir.name.focus();
            }
        }

        async function load(more) {
            if (self.loading) {
                /* the answer on its way may predate what this read asks
                 * for (frames missed meanwhile): read again after it */
                self.again = self.again || !more;
                return self.loading;
            }
            let path = '/api/v1/' + self.kind + '?limit=' + PAGE;
            if (more && self.cursor) {
                path += '&cursor=' + encodeURIComponent(self.cursor);
            }
            self.reloadAt = Date.now();
            if (!self.loaded) {
                els.status.textContent = 'Loading\u2026';
            }
            self.loading = (async () => {
                try {
                    const [page, billing] = await Promise.all([
                        app.api(path),
                        more ? null
                            : app.api('/api/v1/billing').catch(() => null),
                    ]);
                    if (billing && billing.plan) {
                        self.plan = billing.plan;
                    }
                    self.cursor = page.next_cursor || null;
                    self.loaded = true;
                    self.failed = false;
                    (page.items || []).forEach((item) => {
                        self.items.set(item.id, item);
                        const card = self.cards.get(item.id);
                        if (card) {
                            fillCard(card, item);
                        }
                    });
                    const focused = document.activeElement === els.more;
                    render();
                    if (focused && els.more.hidden) {
                        moreGone(page.items || []);
                    }
                } catch (err) {
                    if (!app.failed(err)) {
                        self.failed = true;
                        els.status.textContent = 'Could not load the '
                            + self.noun + 's: ' + errorText(err);
                    }
                } finally {
                    self.loading = null;
                    self.pending.splice(0).forEach(frame);
                    if (self.again && self.loaded) {
                        self.again = false;
                        load(false);
                    }
                }
            })();
            return self.loading;
        }

        /* A frame about an id this list has not seen: one made in
         * another browser (the list again, not too often), or one of the
         * other kind (remembered, so that it costs nothing next time). */
        function reloadSoon() {
            if (self.reloadTimer || !self.loaded) {
                return;
            }
            const wait = Math.max(0, self.reloadAt + RELOAD_AFTER_MS
                - Date.now());
            self.reloadTimer = setTimeout(async () => {
                self.reloadTimer = null;
                const asked = Array.from(self.unknown);
                self.unknown.clear();
                await load(false);
                asked.forEach((id) => {
                    if (!self.items.has(id)) {
                        self.strangers.add(id);
                    }
                });
            }, wait);
        }

        /* campaign.progress: the card's status and counts, in place.  One
         * that comes while the list is read waits for its answer, which
         * may be older: the frames, in order, end at the newest. */
        function progress(ev) {
            if (typeof ev.id !== 'string') {
                return;
            }
            if (self.loading) {
                self.pending.push(ev);
                return;
            }
            const item = self.items.get(ev.id);
            if (!item) {
                if (!self.strangers.has(ev.id)) {
                    self.unknown.add(ev.id);
                    reloadSoon();
                }
                return;
            }
            const was = item.status;
            item.status = ev.status || item.status;
            /* a scheduled one moved elsewhere: its time, said twice */
            const moved = 'send_at' in ev && ev.send_at !== item.send_at;
            if (moved) {
                item.send_at = ev.send_at;
            }
            item.paused_reason = ev.paused_reason || null;
            item.paused_number = ev.paused_number || null;
            item.paused_number_display = ev.paused_number_display || null;
            item.paused_error_code = ev.paused_error_code || null;
            item.cancelled_reason = ev.cancelled_reason || null;
            item.cancelled_message = ev.cancelled_message || null;
            if (ev.counts && typeof ev.counts === 'object') {
                item.counts = ev.counts;
            }
            /* the frame has no started_at nor finished_at: its status
             * says when the server sets them (sending begins it, and
             * only a begun one pauses for billing; done and cancelled
             * end it), so that the card's time and buttons follow (a
             * begun one's time no longer moves).  This page's clock,
             * until the list is read again. */
            const now = new Date().toISOString();
            const begun = !item.started_at && (item.status === 'sending'
                || item.status === 'done' || (item.status === 'paused'
                    && item.paused_reason !== null
                    && item.paused_reason !== 'manual'));
            if (begun) {
                item.started_at = now;
            }
            /* nor handed_at: a message sent, delivered or failed was
             * handed over (one handed and cancelled unsent shows only
             * as cancelled: the server's 409 then says so) */
            const c = item.counts || {};
            if (item.handed_at === null
                && (c.sent > 0 || c.delivered > 0 || c.failed > 0))
            {
                item.handed_at = now;
            }
            const ended = !item.finished_at && (item.status === 'done'
                || item.status === 'cancelled');
            if (ended) {
                item.finished_at = now;
            }
            const card = self.cards.get(ev.id);
            if (card && (moved || begun || ended)) {
                writeParts(card.meta, metaParts(card.list, item));
            }
            if (card) {
                fillMoving(card, item);
                /* what a kind shows by status (a poll's Results, once it
                 * is no draft) follows, the kind's parts filled anew */
                if (self.extra && item.status !== was) {
                    self.extra(card, item);
                }
            }
        }

        /* campaign.updated: one of this kind made or changed (here or in
         * another browser), its card added or drawn anew as the frame
         * has it; campaign.deleted: its card gone (gone()).  Both wait
         * for a read under way, as progress does. */
        function frame(ev) {
            if (ev.type === 'campaign.progress') {
                progress(ev);
                return;
            }
            if (!self.loaded && !self.loading) {
                return;         /* the view's first read will show it */
            }
            if (self.loading) {
                self.pending.push(ev);
                return;
            }
            if (ev.type === 'campaign.updated') {
                const item = ev.campaign;
                if (item && typeof item.id === 'string'
                    && item.kind === self.noun) {
                    upsert(item);
                }
            } else if (ev.type === 'campaign.deleted'
                       && typeof ev.id === 'string'
                       && (!ev.kind || ev.kind === self.noun)) {
                gone(ev.id);
            }
        }

        /* One deleted, here or elsewhere: its card goes, the focus it
         * held to the card after it (else before it, else the list's
         * line), and a deletion by someone else is said, to the Edit
         * form too when it holds that draft. */
        function gone(id) {
            if (self.removed.has(id)) {
                return;     /* this page's remove() does it, its focus
                               after the dialog's */
            }
            self.strangers.add(id);
            const card = self.cards.get(id);
            const item = self.items.get(id);
            if (card) {
                const held = card.li.contains(document.activeElement);
                const next = card.li.nextElementSibling
                    || card.li.previousElementSibling;
                self.items.delete(id);
                self.cards.delete(id);
                card.li.remove();
                render();
                const heir = next ? self.cards.get(next.dataset.id) : null;
                if (held && heir) {
                    heir.name.focus();
                } else if (held) {
                    els.status.tabIndex = -1;
                    els.status.focus();
                }
                app.announce('Deleted by someone else: '
                    + ((item && item.name) || 'a ' + self.noun) + '.');
            } else if (item) {
                self.items.delete(id);
            }
            if (self.gone) {
                self.gone(id);
            }
        }

        async function act(id, action) {
            const item = self.items.get(id);
            const card = self.cards.get(id);
            if (!item || !card || card.busy) {
                return;
            }
            if (action === 'send') {
                confirmSend(self, item);
                return;
            }
            if (action === 'edit') {
                if (self.edit) {
                    self.edit(item);
                }
                return;
            }
            if (action === 'cancel') {
                confirmCancel(self, item);
                return;
            }
            if (action === 'delete') {
                confirmDelete(self, item);
                return;
            }
            if (action === 'move') {
                confirmMove(self, item);
                return;
            }
            await move(id, action);
        }

        /* send, pause, resume or cancel, or with body a PATCH (a
         * scheduled one's time moved: {send_at}); the answer is the item as it
         * now is, and said.  A refusal: the server's message on the
         * card.  The buttons are not disabled meanwhile (a focused one
         * would drop the focus to the page): act() ignores them. */
        async function move(id, action, body) {
            const card = self.cards.get(id);
            const had = card.actions.contains(document.activeElement)
                ? document.activeElement.dataset.action : null;
            const markBusy = (on) => card.actions.querySelectorAll('button')
                .forEach((b) => busy.setBusy(b, on));
            card.error.textContent = '';
            card.busy = true;
            markBusy(true);
            try {
                const path = '/api/v1/' + self.kind + '/'
                    + encodeURIComponent(id);
                const item = body === undefined
                    ? await app.api(path + '/' + action, { method: 'POST' })
                    : await app.api(path, { method: 'PATCH', body: body });
                upsert(item);
                app.announce((DONE[action] || statusText(item)) + ': '
                    + (item.name || 'the ' + self.noun) + '.');
                return null;
            } catch (err) {
                if (app.failed(err)) {
                    return null;
                }
                card.error.textContent = errorText(err);
                return err;
            } finally {
                card.busy = false;
                markBusy(false);
                refocus(card, had);
            }
        }

        /* One nobody got deleted (DELETE): its card gone, the focus (once the
         * dialog closes) to the card after it, else before it.  One gone
         * already (another browser deleted it: 404) goes the same way.
         * A refusal (it was sent meanwhile): the server's message on the
         * card and in the dialog, which stays. */
        async function remove(id) {
            const card = self.cards.get(id);
            const item = self.items.get(id);
            if (!card) {
                return null;    /* deleted elsewhere meanwhile: gone */
            }
            card.error.textContent = '';
            card.busy = true;
            /* its campaign.deleted may come before the answer */
            self.removed.add(id);
            try {
                await app.api('/api/v1/' + self.kind + '/'
                    + encodeURIComponent(id), { method: 'DELETE' });
            } catch (err) {
                if (app.failed(err)) {
                    self.removed.delete(id);
                    return null;
                }
                if (err.status !== 404) {
                    self.removed.delete(id);
                    card.error.textContent = errorText(err);
                    return err;
                }
            } finally {
                card.busy = false;
            }
            const next = card.li.nextElementSibling
                || card.li.previousElementSibling;
            card.heir = next ? self.cards.get(next.dataset.id) : null;
            self.items.delete(id);
            self.cards.delete(id);
            /* a late frame about it reloads nothing */
            self.strangers.add(id);
            card.li.remove();
            render();
            app.announce('Deleted: ' + (item.name || 'the ' + self.noun)
                + '.');
            return null;
        }

        /* The buttons were made anew for the new status: the focus goes
         * back to the same one, else to the card's heading. */
        function refocus(card, action) {
            const now = document.activeElement;
            if (action === null || !card.li.isConnected
                || (now !== null && now !== document.body))
            {
                return;
            }
            const same = card.actions.querySelector('button[data-action="'
                + action + '"]');
            (same || card.name).focus();
        }

        function reset() {
            self.items.clear();
            self.cards.clear();
            self.strangers.clear();
            self.removed.clear();
            self.unknown.clear();
            clearTimeout(self.reloadTimer);
            self.reloadTimer = null;
            self.cursor = null;
            self.loaded = false;
            self.failed = false;
            self.pending = [];
            self.again = false;
            els.list.textContent = '';
            els.status.textContent = '';
            els.more.hidden = true;
        }

        self.load = load;
        self.upsert = upsert;
        self.progress = progress;
        self.act = act;
        self.move = move;
        self.remove = remove;
        self.reset = reset;
        self.card = (id) => self.cards.get(id) || null;
        self.get = (id) => self.items.get(id) || null;
        self.shown = () => els.list.offsetParent !== null;
        reach.lists.push(self);

        els.more.addEventListener('click', () => load(true));
        app.on('session', reset);
        app.on('event', (ev) => {
            if (ev.type === 'campaign.progress'
                || ev.type === 'campaign.updated'
                || ev.type === 'campaign.deleted') {
                frame(ev);
            }
        });
        /* frames may have been missed (a reset, a gap the app saw): as
         * the server has it */
        app.on('resync', () => {
            if (self.loaded || self.loading) {
                load(false);
            }
        });
        /* the connection back: a read that failed (offline, say) is made
         * again, rather than left said until the view is shown anew */
        app.on('back', () => {
            if (self.failed) {
                load(false);
            }
        });
        return self;
    }

    /* ---- the preview while writing ---- */

    /* What a form's estimate (e: POST …/estimate) says it would cost:
     * recipients (those not opted out, suppressed apart), segments or a
     * picture message's images, and credits each and in all. */
    function previewText(e, images) {
        /* pictures reach only the US and Canada: the others get links,
         * at an SMS's price (in the total) */
        const abroad = e.without_mms ? e.without_mms.recipients : 0;
        return plural(e.recipients, 'recipient', 'recipients')
            + (e.suppressed > 0 ? ' (' + e.suppressed
                + ' opted out, not sent)' : '')
            + (abroad > 0 ? ' \u00b7 ' + abroad + ' outside the US '
                + 'and Canada ' + (abroad === 1 ? 'gets' : 'get')
                + ' links in place of pictures' : '')
            /* an MMS costs the same however many it carries */
            + ' \u00b7 ' + (images > 0 ? 'picture message (MMS), '
                + plural(images, 'image', 'images')
                : plural(e.segments || 1, 'segment', 'segments')
                    + ' (' + e.encoding + ')') + ' \u00b7 '
            + (e.plan === 'unlimited' ? 'included in your plan'
                : plural(e.credits, 'credit', 'credits')
                + ' each, ' + plural(e.total_credits, 'credit', 'credits')
                + ' in all \u00b7 balance '
                + Number(e.balance).toLocaleString());
    }

    /*
     * A create form's live cost preview in opts.el, for campaigns and
     * polls alike: POST /api/v1/<opts.kind>/estimate with opts.request()
     * (null: nothing to estimate yet, the preview empty) a moment after
     * the last change (soon()); an answer a newer change overtook is
     * dropped.  opts.images() is how many images it carries; a refusal
     * naming one of opts.fields (a text that cannot be sent: too many
     * segments, too long) is said at once, in the server's words, the
     * rest when saving.
     */
    function preview(opts) {
        const p = { timer: null, seq: 0 };

        async function read() {
            const seq = ++p.seq;
            const body = opts.request();
            if (body === null) {
                opts.el.textContent = '';
                return;
            }
            /* "any of these tags" with none chosen yet: the server
             * would refuse it; say what it waits for */
            if (body.audience && Array.isArray(body.audience.tags)
                && body.audience.tags.length === 0)
            {
                opts.el.textContent = 'Choose one or more tags to see '
                    + 'what it costs.';
                return;
            }
            const images = opts.images ? opts.images() : 0;
            try {
                const e = await app.api('/api/v1/' + opts.kind
                    + '/estimate', { method: 'POST', body: body });
                if (seq === p.seq) {
                    opts.el.textContent = previewText(e, images);
                }
            } catch (err) {
                if (!app.failed(err) && seq === p.seq) {
                    /* no figure rather than a wrong one; a refusal
                     * of one item of a field ("options.2") is the
                     * field's */
                    opts.el.textContent = err.status === 400 && err.error
                        && opts.fields.includes(
                            String(err.error.field).split('.')[0])
                        ? err.message : '';
                }
            }
        }

        return {
            soon: () => {
                clearTimeout(p.timer);
                p.seq += 1;
                p.timer = setTimeout(read, PREVIEW_DELAY_MS);
            },
            clear: () => {
                clearTimeout(p.timer);
                p.seq += 1;
                opts.el.textContent = '';
            },
        };
    }

    /* ---- the confirmations ---- */

    /* A confirmation's question about a campaign or poll by its name,
     * Send "Spring sale"?; a name that is itself a question (a poll's,
     * often) ends it: Send "Which day?", not "Which day?"?. */
    function asked(verb, name) {
        return verb + ' \u201c' + name + '\u201d'
            + (/[?\uff1f]$/.test(name) ? '' : '?');
    }

    function line(text, field) {
        const p = document.createElement('p');
        p.textContent = text;
        if (field) {
            p.dataset.estimate = field;
        }
        dialog.body.appendChild(p);
        return p;
    }

    /* card: the card it is about, whose heading has the focus once the
     * dialog closes (the button that opened it may be gone).  Its OK is
     * busy (aria-disabled, never disabled: pressed, a disabled one
     * would drop the focus to the page) until the dialog says what it
     * would do (a send's preview), and while its work is out. */
    function openDialog(card, title, okText, run) {
        dialog.seq += 1;
        dialog.card = card;
        dialog.title.textContent = title;
        dialog.body.textContent = '';
        dialog.error.textContent = '';
        dialog.ok.textContent = okText;
        busy.setBusy(dialog.ok, true);
        dialog.run = run;
        dialog.sending = false;
        dialog.recount = null;
        dialog.previewFailed = false;
        dialog.el.returnValue = '';
        if (!dialog.el.open) {
            dialog.el.showModal();
        }
        dialog.back.focus();
    }

    /* The preview of a send: who it goes to, who is left out, what it
     * costs, and the balance; then send (or schedule) it.  Contacts
     * changed while it is open (an opt-out, a new contact with a tag,
     * an import, events missed) read it again, once for a burst
     * (audience.js's onCounts), as the forms' counts are. */
    function confirmSend(list, item) {
        const later = item.send_at && Date.parse(item.send_at) > Date.now();
        const title = asked(later ? 'Schedule' : 'Send', item.name);
        openDialog(list.card(item.id), title,
            later ? 'Schedule' : 'Send now',
            () => list.move(item.id, 'send'));
        line('Counting the recipients\u2026', null);
        dialog.recount = () => readPreview(list, item, later);
        readPreview(list, item, later);
    }

    /* The preview read, drawn in place of what the dialog said: its
     * lines hold no focus, which stays where it is, and a send under
     * way keeps its button busy.  A read that fails is said while no
     * preview is shown; once one is, it stays. */
    async function readPreview(list, item, later) {
        const seq = dialog.seq;
        const read = ++dialog.reads;
        const now = () => seq === dialog.seq && read === dialog.reads
            && dialog.el.open;
        try {
            /* the draft as stored: its text, images and audience */
            const [e, billing] = await Promise.all([
                app.api('/api/v1/' + list.kind + '/'
                        + encodeURIComponent(item.id) + '/estimate'),
                app.api('/api/v1/billing').catch(() => null),
            ]);
            if (!now()) {
                return;
            }
            if (dialog.previewFailed) {
                dialog.previewFailed = false;
                dialog.error.textContent = '';
            }
            dialog.body.textContent = '';
            drawPreview(item, later, e, billing);
            /* the focus stays on Back: two Enters never send by mistake */
            if (!dialog.sending) {
                busy.setBusy(dialog.ok, e.recipients === 0);
            }
        } catch (err) {
            if (!app.failed(err) && now()
                && dialog.body.querySelector('[data-estimate]') === null)
            {
                dialog.body.textContent = '';
                dialog.previewFailed = true;
                dialog.error.textContent = errorText(err);
            }
        }
    }

    /* What a send's preview (e) and billing say, line by line. */
    function drawPreview(item, later, e, billing) {
        /* recipients are those not opted out, suppressed the others:
         * the audience is both */
        const total = e.total_credits;
        line(audienceText(item.audience) + ': '
            + plural(e.recipients + e.suppressed, 'contact', 'contacts')
            + '.',
            'recipients');
        /* nobody in it: why Send now does nothing, rather than "Nobody
         * in it is opted out" */
        line(e.suppressed > 0 ? plural(e.suppressed, 'contact is',
            'contacts are') + ' opted out and will not get it; '
            + plural(e.recipients, 'contact gets', 'contacts get')
            + ' it.'
            : e.recipients === 0
            ? 'Nobody is in it: there is no one to send it to.'
            : 'Nobody in it is opted out.', 'suppressed');
        const unlimited = e.plan === 'unlimited';
        const each = unlimited ? '.' : ', ' + plural(e.credits, 'credit',
            'credits') + ' each.';
        /* the draft as saved: an image that did not make it is missed
         * here, before the send; a picture message costs the same
         * however many segments its text has, so they go unsaid */
        const images = item.media ? item.media.length : 0;
        line(images > 0 ? 'A picture message (MMS) with '
            + plural(images, 'image', 'images') + each
            : plural(e.segments || 1, 'segment', 'segments') + ' ('
                + e.encoding + ') a message' + each, 'segments');
        const abroad = withoutMms(e, unlimited);
        if (abroad) {
            line(abroad, 'abroad');
        }
        if (unlimited) {
            line('Your unlimited plan pays for it: no credits are '
                + 'used.', 'total');
        } else {
            line(plural(total, 'credit', 'credits') + ' in all.',
                'total');
            line('Your balance: ' + plural(e.balance, 'credit',
                'credits') + '.', 'balance');
        }
        if (billing && billing.active === false) {
            line('Billing is inactive: nothing is sent until it is '
                + 'active again.', 'warning');
        } else if (total > e.balance) {
            line('The balance does not cover it all: it pauses when '
                + 'the credits run out, and resumes after you add '
                + 'more.', 'warning');
        }
        if (later) {
            line('It goes at ' + times.at(item.send_at) + ' ('
                + audienceFields.yourTime() + ').', 'when');
        }
        line('Quiet hours hold each message until they end in the '
            + 'contact\u2019s time zone.', null);
    }

    function confirmCancel(list, item) {
        const title = asked('Cancel', item.name);
        openDialog(list.card(item.id), title, 'Cancel it',
            () => list.move(item.id, 'cancel'));
        line('Messages not handed to the carrier yet will not be sent; '
             + 'this cannot be undone.', null);
        busy.setBusy(dialog.ok, false);
    }

    function confirmDelete(list, item) {
        const title = asked('Delete', item.name);
        openDialog(list.card(item.id), title, 'Delete it',
            () => list.remove(item.id));
        line(item.status === 'draft'
            ? 'This draft goes for good; nobody has got it.'
            : 'It goes for good; nobody was sent it.', null);
        busy.setBusy(dialog.ok, false);
    }

    /* A scheduled campaign's new time, or none: at once.  Its text and
     * audience were fixed when it was scheduled. */
    function confirmMove(list, item) {
        const title = 'Change the time of \u201c' + item.name + '\u201d';
        const label = document.createElement('label');
        const input = document.createElement('input');
        /* a time gone sends now too, as the server takes it */
        const okText = () => (input.value
            && new Date(input.value).getTime() > Date.now()
            ? 'Move it' : 'Send now');
        label.textContent = 'Send it at (' + audienceFields.yourTime()
            + ')';
        input.type = 'datetime-local';
        input.id = 'bulk-dialog-when';
        input.value = item.send_at
            ? audienceFields.localInput(new Date(item.send_at)) : '';
        label.htmlFor = input.id;
        openDialog(list.card(item.id), title, okText(), () => {
            /* half typed reads as empty: never "now" by mistake */
            const t = input.value ? new Date(input.value) : null;
            if (input.validity.badInput || (t && Number.isNaN(t.getTime()))) {
                return Promise.resolve({ status: 0, message: 'Finish the '
                    + 'day and time, or empty the field to send now.' });
            }
            return list.move(item.id, 'move', { send_at: t
                ? t.toISOString().replace(/\.\d+Z$/, 'Z') : null });
        });
        input.addEventListener('input', () => {
            dialog.ok.textContent = okText();
        });
        dialog.body.append(label, input);
        line('Empty: it goes now. Its text and recipients stay as they '
             + 'were scheduled.', null);
        busy.setBusy(dialog.ok, false);
    }

    /* One run at a time: a press while it is out, or before the preview
     * is in, is ignored.  A refusal is shown in the dialog, which stays
     * for another try; an answer that comes after the dialog was closed
     * and opened again (Back, then another card's Send) is not this
     * one's to show. */
    dialog.ok.addEventListener('click', async () => {
        const run = dialog.run;
        const seq = dialog.seq;
        if (!run || busy.busy(dialog.ok)) {
            return;
        }
        busy.setBusy(dialog.ok, true);
        dialog.error.textContent = '';
        dialog.previewFailed = false;
        dialog.sending = true;
        const err = await run();
        if (seq !== dialog.seq) {
            return;
        }
        dialog.sending = false;
        if (err) {
            dialog.error.textContent = errorText(err);
            busy.setBusy(dialog.ok, false);
        } else {
            dialog.run = null;
            dialog.el.close();
        }
    });
    dialog.back.addEventListener('click', () => dialog.el.close());
    dialog.el.addEventListener('close', () => {
        dialog.run = null;
        dialog.recount = null;
        const card = dialog.card;
        dialog.card = null;
        if (card && card.li.isConnected) {
            card.name.focus();
        } else if (card && card.heir && card.heir.li.isConnected) {
            /* deleted: the card that took its place */
            card.heir.name.focus();
        }
    });
    app.on('session', () => {
        if (dialog.el.open) {
            dialog.el.close();
        }
    });
    /* contacts changed: an open send's preview read again, and the
     * drafts' audiences now */
    audienceFields.onCounts(() => {
        if (dialog.el.open && dialog.recount) {
            dialog.recount();
        }
        reachStale();
    });
    app.on('session', reachReset);
    app.on('back', reachAgain);

    /*
     * The create form of a view: opened and closed by its Add button, a
     * refusal shown with the field it names marked and focused, and a
     * submit that creates the item, puts it in the list and, when asked,
     * opens the send confirmation, the form kept as it was on a refusal.
     * A draft's Edit opens the same form filled with the draft as the
     * server has it now, and its submit PATCHes that draft instead.
     * What was typed outlives a session that ends by itself (below).
     * opts: form, add, close, error, title (elements), list, picker
     * (audience.mount's), first (focused on open), clear() (empties the
     * fields), keep() (what was typed) and restore(kept) (typed again),
     * save(andSend) (the view's, on submit, one at a time: "send" asks
     * for the confirmation), fieldOf(name) (the element an error's field
     * names), focusOf(el) (what to focus for it; itself by default),
     * fill(item) (a draft's own fields written in), others() (what else
     * the form holds that keep() leaves out, a campaign's images, to
     * tell a change; optional).
     *
     * Unsaved work is not dropped without a word, as the contact panel's
     * edits are not: a draft's edit changed and then closed (Close, Esc,
     * the Add button), or a form typed in when a draft's Edit is
     * pressed, says so first (in the form, or on the card pressed) and
     * is dropped only by the same way again.
     */
    function createForm(opts) {
        /* editSeq: each Edit, new form or session ends what came before,
         * so an Edit still reading gives up; asRead: the edited draft's
         * fields as filled in; warned: the way out that said the work is
         * unsaved, which taken again drops it */
        const f = { saving: false, editing: null, editSeq: 0, asRead: null,
                    warned: null };
        const newTitle = opts.title.textContent;
        const addWords = opts.add.textContent.replace(/\s+/g, ' ').trim();

        /* What the fields say now, to be compared. */
        function shape() {
            return JSON.stringify([opts.keep(), opts.picker.read(),
                                   opts.others ? opts.others() : null]);
        }

        /* Work that closing or another Edit would drop: an edit's
         * change, or anything typed in a new one (its audience alone is
         * soon chosen again). */
        function unsaved() {
            if (f.editing !== null) {
                return f.asRead !== null && shape() !== f.asRead;
            }
            const typed = (v) => (Array.isArray(v) ? v.some(typed)
                : String(v).trim() !== '');
            return Object.values(opts.keep()).some(typed)
                || (opts.others ? opts.others().length > 0 : false);
        }

        /* The first try of a way (how) that would drop unsaved work says
         * so in where and is not taken (true); the same way again is. */
        function warnedFirst(how, where, text) {
            if (f.warned === how || !unsaved()) {
                f.warned = null;
                return false;
            }
            f.warned = how;
            where.textContent = text;
            return true;
        }

        function editKept(how) {
            return warnedFirst(how, opts.error, 'Not saved: save your '
                + 'changes to \u201c' + (f.editing.name || 'the draft')
                + '\u201d, or ' + how + ' again to drop them.');
        }

        f.clearInvalid = () => invalid.clearAll(opts.form, opts.error);

        f.show = () => {
            opts.form.hidden = false;
            opts.add.setAttribute('aria-expanded', 'true');
            opts.picker.refresh();
        };

        f.open = () => {
            f.show();
            opts.first.focus();
        };

        f.close = () => {
            opts.form.hidden = true;
            opts.add.setAttribute('aria-expanded', 'false');
            /* an edit closed is given up: the form is a new one's again */
            if (f.editing !== null) {
                stopEditing();
                opts.clear();
            }
        };

        function stopEditing() {
            f.editSeq += 1;
            f.editing = null;
            f.asRead = null;
            f.warned = null;
            opts.title.textContent = newTitle;
        }

        /* Close, Esc: a new one's work stays, hidden; an edit's goes. */
        function leave(how) {
            if (f.editing !== null && editKept(how)) {
                return;
            }
            f.close();
            opts.add.focus();
        }

        /* A draft's Edit: the form filled with the draft as it is now (a
         * colleague may have edited it), or why not on its card. */
        f.edit = async (item) => {
            const card = opts.list.card(item.id);
            if (card) {
                card.error.textContent = '';
                /* said on the card pressed, where the person is */
                const said = f.editing !== null
                    ? 'Your changes to \u201c' + (f.editing.name
                        || 'the draft') + '\u201d are not saved: save '
                        + 'them, or press Edit again to drop them.'
                    : 'The new ' + opts.list.noun + ' you are writing is '
                        + 'not saved: save it, or press Edit again to drop '
                        + 'it.';
                if (warnedFirst('edit ' + item.id, card.error, said)) {
                    return;
                }
            }
            const seq = ++f.editSeq;
            let now;
            try {
                now = await app.api('/api/v1/' + opts.list.kind + '/'
                    + encodeURIComponent(item.id));
            } catch (err) {
                if (!app.failed(err) && card && seq === f.editSeq) {
                    card.error.textContent = errorText(err);
                }
                return;
            }
            if (seq !== f.editSeq || f.saving) {
                return;
            }
            opts.list.upsert(now);
            if (now.status !== 'draft') {
                if (card) {
                    card.error.textContent = 'Only a draft can be edited.';
                }
                return;
            }
            opts.clear();
            f.editing = now;
            opts.title.textContent = 'Edit \u201c' + (now.name || 'draft')
                + '\u201d';
            opts.fill(now);
            await opts.picker.set(now.audience, now.send_at);
            if (seq === f.editSeq) {
                f.asRead = shape();
                f.warned = null;
                f.open();
            }
        };
        opts.list.edit = f.edit;

        /* The draft being edited was deleted by someone else: said in
         * the form, whose words stay (a save would find it gone). */
        opts.list.gone = (id) => {
            if (f.editing !== null && f.editing.id === id) {
                opts.error.textContent = GONE_WORDS;
            }
        };

        f.showError = (text, field) => {
            opts.error.textContent = text;
            if (field) {
                invalid.mark(field, opts.error,
                             opts.focusOf ? opts.focusOf(field) : field);
            }
        };

        /* A new attempt: no error shown. */
        f.begin = () => {
            f.clearInvalid();
            opts.error.textContent = '';
        };

        /* POSTs body to path (PATCHes the draft being edited): the item
         * saved, or null after showing why not. */
        f.submit = async (path, body, andSend) => {
            const editing = f.editing;
            try {
                const item = await app.api(editing === null ? path
                    : path + '/' + encodeURIComponent(editing.id),
                    { method: editing === null ? 'POST' : 'PATCH', body });
                opts.list.upsert(item);
                stopEditing();
                opts.clear();
                f.close();
                const card = opts.list.card(item.id);
                if (andSend) {
                    confirmSend(opts.list, item);
                } else if (editing !== null && card) {
                    /* back to the draft edited */
                    card.name.focus();
                } else {
                    opts.add.focus();
                }
                return item;
            } catch (err) {
                if (!app.failed(err) && editing !== null
                    && err.status === 404) {
                    /* deleted meanwhile: said, not a bare "not found" */
                    f.showError(GONE_WORDS);
                } else if (!app.failed(err)) {
                    f.showError(errorText(err),
                                opts.fieldOf(err.error && err.error.field));
                }
                return null;
            }
        };

        /* One save at a time, from the press to its answer: a second
         * press while an image still uploads (the save waits for it)
         * would make a second draft. */
        async function save(andSend) {
            if (f.saving) {
                return;
            }
            f.saving = true;
            opts.form.setAttribute('aria-busy', 'true');
            try {
                await opts.save(andSend);
            } finally {
                f.saving = false;
                opts.form.removeAttribute('aria-busy');
            }
        }

        opts.add.addEventListener('click', () => {
            if (f.editing !== null && editKept('press ' + addWords)) {
                return;
            }
            /* an Edit still reading gives up */
            f.editSeq += 1;
            if (f.editing !== null) {
                /* from a draft's edit to a new one */
                stopEditing();
                opts.clear();
                f.open();
            } else if (opts.form.hidden) {
                f.open();
            } else {
                f.close();
            }
        });
        opts.close.addEventListener('click', () => leave('press Close'));
        opts.form.addEventListener('submit', (event) => {
            event.preventDefault();
            save(Boolean(event.submitter
                         && event.submitter.value === 'send'));
        });
        opts.form.addEventListener('keydown', (event) => {
            if (event.key === 'Escape') {
                event.preventDefault();
                leave('press Esc');
            }
        });

        /* A session that ends by itself (it expired, or was ended
         * elsewhere) keeps what was typed, as the reply composer keeps
         * its drafts: the same user signing in again finds the form as
         * it was, anyone else an empty one.  Signing out forgets it.
         * The image and the audience are not kept: an upload belongs to
         * the ended session, and the tags are read again. */
        let user = null;
        let kept = null;
        app.on('session', (me) => {
            if (!me && user !== null && f.editing === null) {
                kept = { user: user, open: !opts.form.hidden,
                         typed: opts.keep() };
            }
            user = me && me.user ? me.user.id : null;
            stopEditing();
            opts.clear();
            f.close();
            if (!me) {
                return;
            }
            if (kept !== null && kept.user === user) {
                opts.restore(kept.typed);
                if (kept.open) {
                    f.show();
                }
            }
            kept = null;
        });
        app.on('signout', () => {
            kept = null;
        });

        return f;
    }

    window.inboxBulk = Object.freeze({
        list, createForm, preview, plural, errorText, audienceText,
        statusText, confirmSend: (l, item) => confirmSend(l, item),
    });
})(window.inboxApp, window.inboxBusy, window.inboxAudience,
   window.inboxTimes);
