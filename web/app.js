/*
 * The inbox web app: sign in with email and password (a session cookie the
 * page never sees), read the thread list and threads, and keep them
 * current from the realtime WebSocket.
 *
 * Plain DOM, no build step.  Every piece of data reaches the page through
 * textContent or a checked attribute, never as HTML.
 *
 * Threads are found with the search, the five filters and a list that
 * loads more as it scrolls; they are acted on (star, archive, mark unread,
 * the contact's record) from the mouse or the keyboard.  Replying is
 * composer.js's, through window.inboxApp (the end of this file).
 */
'use strict';

(function () {
    /* where an older version kept an API token: forgotten on load */
    const OLD_TOKEN_KEY = 'inbox.token';
    const LIST_LIMIT = 100;
    const MESSAGE_LIMIT = 50;
    /* a resync reads the open thread's pages this far back (250 messages)
     * to reach what it shows; past it the thread starts over */
    const RESYNC_PAGES_MAX = 5;
    const LIST_LIMIT_MAX = 200;     /* the API's largest page */
    const SEARCH_DELAY_MS = 250;
    const COUNTS_DELAY_MS = 800;
    /* contacts.imported comes once a batch of a large import: read once */
    const IMPORTED_DELAY_MS = 500;
    /* a burst of messages or ticks for the open panel's contact: read once */
    const PANEL_DELAY_MS = 400;
    /* a thread scrolled this near its foot follows new messages */
    const NEWEST_SLACK_PX = 48;
    const BACKOFF_MIN_MS = 1000;
    /* a request that met no server: the server asked whether it is
     * there, for this long at most */
    const PROBE_MS = 5000;
    const BACKOFF_MAX_MS = 30000;
    /* a next page that failed is asked for again after this, doubled
     * with each failure (up to BACKOFF_MAX_MS) */
    const MORE_RETRY_MIN_MS = 2000;
    /* the next page loads when the end of the list is this near */
    const END_MARGIN_PX = 400;
    /* ws-server's close code for a user removed or signed out everywhere */
    const ACCESS_ENDED = 4003;
    const FILTERS = ['all', 'unread', 'unresponded', 'starred', 'archived'];
    const TAGS_FRESH_MS = 30000;
    /* sentences for the screen reader within this are said together */
    const ANNOUNCE_DELAY_MS = 150;
    const ANNOUNCE_MAX = 4;
    /* a reply still at Sent this long is said to be sent: its carrier may
     * never report delivery */
    const SENT_QUIET_MS = 3000;
    /* what an action on a thread did, in words */
    const ACTION_WORDS = { star: 'Starred', unstar: 'Unstarred',
                           archive: 'Archived', unarchive: 'Unarchived',
                           unread: 'Marked unread' };

    const $ = (id) => document.getElementById(id);
    const delivery = window.inboxDelivery;
    const whileBusy = window.inboxBusy.whileBusy;
    const reread = window.inboxReread;
    const invalid = window.inboxInvalid;
    const highlight = window.inboxHighlight;
    const times = window.inboxTimes;
    /* a socket that brought nothing for too long is let go */
    const liveness = window.inboxLiveness.watch(socketSilent);
    /* Back closes the top layer: the record, then the thread; Forward
     * opens again what it closed */
    const layers = window.inboxLayers({
        depth: () => (state.openId === null ? 0
            : state.contactId === null ? 1 : 2),
        thread: () => state.openId,
        closeTo: closeLayersTo,
        reopen: reopenLayers });

    const els = {
        session: $('session'),
        announcer: $('announcer'),
        unreadTotal: $('unread-total'),
        unreadWord: $('unread-word'),
        conn: $('conn'),
        connLabel: $('conn-label'),
        liveBanner: $('live-banner'),
        liveDown: $('live-down'),
        liveOffline: $('live-offline'),
        liveRetry: $('live-retry'),
        signOut: $('sign-out'),
        signin: $('signin'),
        signinForm: $('signin-form'),
        emailInput: $('email-input'),
        passwordInput: $('password-input'),
        signinError: $('signin-error'),
        app: $('app'),
        search: $('search'),
        tabs: Array.from(document.querySelectorAll('.tab')),
        threadsScroll: $('threads-scroll'),
        listStatus: $('list-status'),
        listMore: $('list-more'),
        listRetry: $('list-retry'),
        threads: $('threads'),
        threadEmpty: $('thread-empty'),
        threadView: $('thread-view'),
        threadTitle: $('thread-title'),
        threadName: $('thread-name'),
        threadSub: $('thread-sub'),
        actStar: $('act-star'),
        actArchive: $('act-archive'),
        actUnread: $('act-unread'),
        actContact: $('act-contact'),
        actionError: $('action-error'),
        messages: $('messages'),
        newBelow: $('new-below'),
        messagesEmpty: $('messages-empty'),
        contactPanel: $('contact-panel'),
        contactStatus: $('contact-status'),
        contactForm: $('contact-form'),
        contactPhone: $('contact-phone'),
        contactOptout: $('contact-optout'),
        contactName: $('contact-name'),
        contactZone: $('contact-timezone'),
        contactTags: $('contact-tags'),
        contactError: $('contact-error'),
        contactCampaignsTitle: $('contact-campaigns-title'),
        contactCampaigns: $('contact-campaigns'),
        contactPollsTitle: $('contact-polls-title'),
        contactPolls: $('contact-polls'),
        timelineTitle: $('timeline-title'),
        timeline: $('timeline'),
        timelineEmpty: $('timeline-empty'),
        timelineMore: $('timeline-more'),
        actOptout: $('act-optout'),
        composerClosed: $('composer-closed'),
        composerText: $('composer-text'),
        optoutDialog: $('optout-dialog'),
        optoutText: $('optout-text'),
        rowTemplate: $('thread-row'),
    };

    /* the contact's tags as chips: tags.js */
    const contactTags = window.inboxTags.editor(els.contactTags);

    const state = {
        signedIn: false,
        team: new Map(),            /* user id -> name, or FORMER */
        teamRead: null,             /* the team's read under way */
        teamRetryAt: 0,             /* no read of it before (ms) */
        bulk: new Map(),            /* campaign or poll id -> what its
                                       messages say sent them; '' until
                                       read, or when none is found */
        bulkRead: 0,                /* bumped by a new session */
        filter: 'all',
        q: '',                      /* the search as sent */
        searchDigits: [],           /* what the server's search looks
                                       for in a number, as its first
                                       page said (one of them) */
        searchShown: null,          /* the search the listed rows are of
                                       ({q, digits}: what their rows
                                       mark), from its first page; null
                                       for none */
        view: 0,                    /* bumped when filter or search change */
        listRead: 0,                /* bumped by every first-page read */
        conversations: new Map(),   /* id -> conversation, as last seen */
        liveChanges: new Map(),     /* id -> live events that changed it */
        listed: new Set(),          /* ids the list's query would show */
        rows: new Map(),            /* id -> <li> */
        changed: new Set(),         /* ids whose rows are to be filled
                                       again */
        refillAll: false,           /* every row is (the clock, a view) */
        marked: { selected: null, open: null },  /* as the rows show */
        renderFrame: null,          /* the frame the list is drawn in */
        joined: false,              /* threads joined since the last
                                       draw: the list may be trimmed */
        paged: false,               /* a page came since the last draw */
        loadedRows: 0,              /* rows shown after the last page */
        shownIds: [],               /* the list as shown, top to bottom */
        cursor: null,               /* the list's next page ('' the first
                                       again), null: no more */
        oldest: null,               /* the list holds every thread of its
                                       query down to this one */
        pages: [],                  /* where each page loaded ends */
        loadingMore: false,
        moreFailures: 0,            /* next pages failed in a row */
        listFailed: null,           /* why this view's first page could
                                       not be read: it holds no rows */
        listAgain: null,            /* the list as shown before a read
                                       again that failed: Try again
                                       reads it so */
        moreTimer: null,            /* to watch the end again after one */
        openId: null,
        threadVisit: 0,             /* bumped as a thread opens or
                                       closes: a page read for an
                                       earlier one is dropped */
        selectedId: null,           /* the keyboard's place in the list */
        selectedIndex: 0,           /* where it was last seen */
        shown: new Map(),           /* id -> message, as the open
                                       thread shows it */
        olderCursor: null,
        atNewest: true,             /* the thread was left at its foot */
        lastScrollTop: 0,           /* where its last scroll left it */
        contactId: null,            /* the contact shown in the panel */
        contactShown: null,         /* as its form was last filled */
        contactSaving: false,       /* its form's PATCH in flight */
        contactCloseWarned: null,   /* the way out that said edits are
                                       unsaved ('press Esc'), if one did */
        timelineCursor: null,       /* its timeline's next page */
        timeline: new Map(),        /* timelineKey -> {li, json} shown */
        contactLoad: 0,             /* bumped by every read of the panel */
        showAsked: 0,               /* threads asked for by other views */
        optContact: null,           /* the open thread's contact's record,
                                       for why it is opted out */
        optLoading: null,           /* the contact id being read for it */
        optFailed: null,            /* that read that failed, while its
                                       thread stays open: {id, visit} */
        newestFailed: -1,           /* the threadVisit whose newest pages
                                       failed to load, while it stands */
        olderFailed: -1,            /* the same of an older page */
        contactFailed: null,        /* the panel's read that failed, while
                                       its words stand: {id, older, said} */
        ws: null,
        wsGeneration: 0,
        connectedOnce: false,
        attempt: 0,
        reconnectTimer: null,
        offlineSaid: false,         /* offline was said since last live */
        probe: null,                /* the server asked whether it is
                                       there (unreachable) */
        hiddenAt: document.hidden ? Date.now() : null,
        lastSeq: null,
        epoch: null,
        loading: 0,
        pending: [],                /* events that came in during a load */
        clockTimer: null,
        searchTimer: null,
        countsTimer: null,
        importedTimer: null,
        panelTimer: null,
        hasCounts: false,           /* the list answer carries counts */
        counts: {},                 /* the tabs' counts shown */
        countMoves: 0,              /* the counts moved here (moveCounts) */
        liveTotals: 0,              /* unread totals live frames brought */
        me: null,                   /* /api/v1/me of who is signed in */
        realtimeHold: null,         /* a change the next ticket waits for */
        mine: new Map(),            /* replies sent from this page whose
                                       outcome is not said yet: null, or
                                       a timer to say Sent, or 'said' */
        resent: new Set(),          /* failed replies this page sent
                                       again: offered no more */
        announcing: [],             /* sentences not said yet */
        announceTimer: null,
    };

    /* the organization's tags ({tag, contacts, sendable}, by name); gen
     * counts the changes heard of (staleTags), listGen the one list
     * was read after, loadingGen the one the read under way began
     * after */
    const orgTags = { list: [], at: 0, loading: null, gen: 0, listGen: 0,
                      loadingGen: 0 };

    class Unauthenticated extends Error {}

    /* A refusal: the status and the contract's error object (code,
     * message, and what else it says: field, needed, balance). */
    class ApiError extends Error {
        constructor(status, error) {
            super(error && error.message ? error.message
                : 'The server answered ' + status);
            this.status = status;
            this.code = error && error.code ? error.code : null;
            this.error = error || {};
        }
    }

    /* ---- HTTP ---- */

    /* The session cookie goes along by itself; every change carries the
     * header the server asks of a cookie-authenticated change (another
     * site's page cannot send it).  options: method, body (sent as
     * JSON), raw (a Blob sent as it is, with its own type), headers.
     * A refusal throws ApiError; no answer at all, fetch's TypeError. */
    async function api(path, options = {}) {
        const method = options.method || 'GET';
        const headers = Object.assign({}, options.headers);
        if (method !== 'GET' && method !== 'HEAD') {
            headers['X-Requested-With'] = 'inbox';
        }
        let body;
        if (options.raw !== undefined) {
            headers['Content-Type'] = options.raw.type;
            body = options.raw;
        } else if (options.body !== undefined) {
            headers['Content-Type'] = 'application/json';
            body = JSON.stringify(options.body);
        }
        let res;
        try {
            res = await fetch(path, {
                method: method,
                headers: headers,
                credentials: 'same-origin',
                body: body,
            });
        } catch (err) {
            unreachable();
            throw err;
        }
        if (res.status === 401) {
            throw new Unauthenticated();
        }
        let json = null;
        try {
            json = await res.json();
        } catch (e) {
            json = null;
        }
        if (!res.ok) {
            throw new ApiError(res.status, json && json.error);
        }
        return json;
    }

    function failed(err) {
        if (err instanceof Unauthenticated) {
            endSession('Your session has ended. Sign in again.');
            return true;
        }
        return false;
    }

    /* What a request met, after "Could not …: ": the server's sentence,
     * or that no answer came at all (fetch's own words, "Failed to
     * fetch", are not for people). */
    function whyNot(err) {
        return typeof err.status === 'number' ? err.message
            : 'the server could not be reached.';
    }

    /* ---- formatting ---- */

    /* +44 20 7946 0958, +1 (415) 555-1234: the server writes a number
     * for people (phone_display) by libinbox's one rule */
    function phoneOf(contact) {
        return contact.phone_display || contact.phone || '';
    }

    function displayName(contact) {
        return contact.name ? contact.name : phoneOf(contact);
    }

    /* ---- what a screen reader is told ---- */

    /* What happens away from the focus (a message arriving, a reply's
     * outcome, what an action did), said once in the page's one polite
     * status; a burst is said together, its first sentences only. */
    function announce(text) {
        state.announcing.push(text);
        if (state.announceTimer !== null) {
            return;
        }
        state.announceTimer = setTimeout(() => {
            const said = state.announcing;
            state.announcing = [];
            state.announceTimer = null;
            let text = said.slice(0, ANNOUNCE_MAX).join(' ');
            if (said.length > ANNOUNCE_MAX) {
                text += ' And ' + (said.length - ANNOUNCE_MAX) + ' more.';
            }
            /* the same words again are a change too */
            if (els.announcer.textContent === text) {
                text += '\u00a0';
            }
            els.announcer.textContent = text;
        }, ANNOUNCE_DELAY_MS);
    }

    function announceReset() {
        clearTimeout(state.announceTimer);
        state.announceTimer = null;
        state.announcing = [];
        state.mine.forEach((said) => clearTimeout(said));
        state.mine.clear();
        state.resent.clear();
        els.announcer.textContent = '';
    }

    /* An inbound message as it comes: its words when its thread is open
     * in front, else whose it is. */
    function announceMessage(m) {
        const conv = state.conversations.get(m.conversation_id);
        if (m.conversation_id === state.openId && threadInView()) {
            const media = (m.media || []).length === 0 ? ''
                : (m.media || []).every((x) => window.inboxMedia.kindOf(
                    x.content_type).show === 'image') ? ' with a picture'
                    : ' with an attachment';
            announce('New message' + media
                + (m.body ? ': ' + m.body : '.'));
        } else {
            announce('New message' + (conv ? ' from '
                + displayName(conv.contact) : '') + '.');
        }
    }

    /* A reply sent from this page moved: its final status is said, and
     * Sent when nothing follows it for a while. */
    function announceOutcome(id, status, code, conversationId) {
        if (!state.mine.has(id)) {
            return;
        }
        const said = state.mine.get(id);
        const reply = () => {
            const conv = state.conversations.get(conversationId);
            return 'Your reply' + (conv ? ' to ' + displayName(conv.contact)
                : '') + ': ';
        };
        if (delivery.final(status)) {
            clearTimeout(said);
            state.mine.delete(id);
            announce(reply() + delivery.words(status, code) + '.');
        } else if (status === 'sent' && said === null) {
            state.mine.set(id, setTimeout(() => {
                state.mine.set(id, 'said');
                announce(reply() + delivery.words('sent', null) + '.');
            }, SENT_QUIET_MS));
        }
    }

    /* ---- the header ---- */

    /* The organization's unread messages ("5 unread messages"), in the
     * header and the page's title (the browser's tab) alike; the Unread
     * tab's count is of threads, so the words say which: a bare "(5)"
     * over a tab that says 2 read as one count gone wrong. */
    function setUnreadTotal(n) {
        const text = String(Math.max(0, Number(n) || 0));
        if (els.unreadTotal.textContent !== text) {
            els.unreadTotal.textContent = text;
            els.unreadWord.textContent = text === '1' ? 'unread message'
                : 'unread messages';
        }
        document.title = text !== '0' ? text + ' '
            + els.unreadWord.textContent + ' \u00b7 Inbox' : 'Inbox';
    }

    /* connecting, live, reconnecting, or offline: reconnecting while the
     * browser knows it has no network (navigator.onLine false is sure;
     * true is only a maybe).  The banner says when it is down, and
     * coming back is said too. */
    function setConnection(kind) {
        if (kind === 'reconnecting' && navigator.onLine === false) {
            kind = 'offline';
        }
        const was = els.conn.dataset.state;
        els.conn.dataset.state = kind;
        els.connLabel.textContent = kind;
        els.liveBanner.hidden = kind !== 'reconnecting' && kind !== 'offline';
        els.liveDown.hidden = kind === 'offline';
        els.liveOffline.hidden = kind !== 'offline';
        if (kind === 'offline') {
            state.offlineSaid = true;
        } else if (kind === 'live'
                   && (was === 'reconnecting' || was === 'offline'))
        {
            announce(state.offlineSaid ? 'Back online.'
                : 'Live updates are back.');
        }
        if (kind === 'live' || kind === 'connecting') {
            state.offlineSaid = false;
        }
    }

    /* ---- the thread list ---- */

    /* Newest activity first, then the larger id, as the API orders them
     * (ids are opaque: compared by length, then as text). */
    function compare(a, b) {
        const at = (Date.parse(b.last_activity_at) || 0)
            - (Date.parse(a.last_activity_at) || 0);
        if (at !== 0) {
            return at;
        }
        return b.id.length - a.id.length || (b.id < a.id ? -1
            : b.id > a.id ? 1 : 0);
    }

    /* Whether a conversation belongs in the current filter: as the
     * server counts it (countedIn), but the open thread stays under
     * Unread while it is open (reading it is not a reason to lose one's
     * place) and a search from the default view finds archived threads
     * too. */
    function inFilter(conv) {
        if (state.filter === 'unread' && conv.id === state.openId
            && conv.last_activity_at && !conv.archived) {
            return true;
        }
        if (state.filter === 'all' && state.q !== ''
            && conv.last_activity_at) {
            return true;
        }
        return countedIn(conv, state.filter);
    }

    /* A search as typed, as the server reads it (search.h): without its
     * invisible characters (format characters such as a zero-width
     * space, and the other default ignorables), trimmed; "" is none. */
    function searchText(text) {
        return text.replace(/[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu,
            '').trim();
    }

    /* The search, as near as the browser can tell: used only for threads
     * the server has not listed yet (a new message during a search). */
    function matchesSearch(conv) {
        if (state.q === '') {
            return true;
        }
        /* a search of punctuation alone finds no name; its words are
         * found in any order */
        if (highlight.nameMatches(conv.contact.name || '', state.q)) {
            return true;
        }
        /* a number as the server reads it (search.h: none when there
         * are letters; its digits, and those without a dialling prefix,
         * a trunk "0" or Mexico's retired "1", in the organization's
         * country), which its first page says; the view's events wait
         * for that page */
        const phone = (conv.contact.phone || '').replace(/\D/g, '');
        return state.searchDigits.some((digits) => phone.includes(digits));
    }

    /* Whether a conversation sorts within the pages loaded so far; one
     * below them comes with a later page, in its place. */
    function inLoadedRange(conv) {
        return state.cursor === null || state.oldest === null
            || compare(conv, state.oldest) <= 0;
    }

    /* A last message without text: what it carries, by the type of its
     * first attachment ("Contact card"); a picture, or a thread from
     * before the type was kept, is a "Picture message". */
    function attachmentLine(lm) {
        if (lm.preview !== '') {
            return '';
        }
        const kind = window.inboxMedia.kindOf(lm.media_type);
        return !lm.media_type || kind.show === 'image' ? 'Picture message'
            : kind.name;
    }

    /* A thread whose last message is a reply (a person's, a token's or
     * a keyword's answer: not a campaign's or a poll's, which their own
     * view counts) that did not reach the phone: its row says so first,
     * why in its title and to a screen reader; '' for any other. */
    function missedLine(lm) {
        return lm && lm.direction === 'outbound' && !lm.campaign_id
            && delivery.missed(lm.status)
            ? delivery.words(lm.status, lm.error_code || null) : '';
    }

    /* A hidden mark holds no text, not even a space: the preview's text
     * is what the row says, and tests and copy read it whole. */
    function fillMissed(li, lm, words) {
        const mark = li.querySelector('.row-failed');
        const glyph = mark.querySelector('.row-failed-mark');
        const name = mark.querySelector('.row-failed-name');
        mark.hidden = words === '';
        if (words === '') {
            delete mark.dataset.status;
            mark.removeAttribute('title');
            glyph.textContent = '';
            name.textContent = '';
            return;
        }
        const [sign, status] = delivery.named(lm.status);
        mark.dataset.status = lm.status;
        mark.title = words;
        glyph.textContent = sign;
        name.textContent = ' ' + status;
    }

    /* A row's name, what the list's search matched in it marked; a
     * named contact's number too when the search found it by its digits
     * (else nothing in the row says why it is there): that number, or
     * ''.  The marks are a hint: the search field says what was asked. */
    function showName(li, contact) {
        const search = state.searchShown;
        const name = li.querySelector('.row-name');
        const number = li.querySelector('.row-phone');
        if (!contact.name) {
            highlight.phone(name, phoneOf(contact), search);
        } else {
            highlight.name(name, contact.name, search);
        }
        number.hidden = !contact.name
            || !highlight.phone(number, phoneOf(contact), search);
        if (number.hidden) {
            number.textContent = '';
        }
        return number.textContent;
    }

    function fillRow(li, conv) {
        const button = li.querySelector('.thread-row');
        const name = displayName(conv.contact);
        const lm = conv.last_message;
        const who = lm && lm.direction === 'outbound'
            ? (authorOf(lm) || 'Sent') + ': ' : '';
        const text = lm ? lm.preview || attachmentLine(lm) : '';
        const preview = who + text;
        const missed = missedLine(lm);
        const time = li.querySelector('.row-time');
        const badge = li.querySelector('.badge');
        const unread = conv.unread_count > 0;
        const archivedTag = conv.archived && state.filter !== 'archived';

        /* what contacts write is shown isolated (dir=auto, <bdi>): a
         * right-to-left override in it cannot reorder what follows */
        const phoneShown = showName(li, conv.contact);
        fillMissed(li, lm, missed);
        li.querySelector('.row-preview-who').textContent = who;
        li.querySelector('.row-preview-text').textContent = text;
        li.querySelector('.row-optout').hidden = !conv.contact.opted_out;
        li.querySelector('.row-archived').hidden = !archivedTag;
        li.querySelector('.row-star').hidden = !conv.starred;
        time.textContent = times.relative(conv.last_activity_at);
        time.dateTime = conv.last_activity_at || '';
        time.title = times.full(conv.last_activity_at);
        badge.hidden = !unread;
        badge.textContent = unread ? String(conv.unread_count) : '';
        li.classList.toggle('unread', unread);
        li.classList.toggle('selected', conv.id === state.selectedId);
        button.setAttribute('aria-label', name + ', '
            + (phoneShown ? phoneShown + ', ' : '')
            + (conv.contact.opted_out ? 'opted out, ' : '')
            + (unread ? conv.unread_count + ' unread, ' : '')
            + (conv.starred ? 'starred, ' : '')
            + (conv.archived ? 'archived, ' : '')
            + (missed ? missed + ', ' : '')
            + preview + ', ' + time.title);
        if (conv.id === state.openId) {
            button.setAttribute('aria-current', 'true');
        } else {
            button.removeAttribute('aria-current');
        }
    }

    function makeRow(conv) {
        const li = els.rowTemplate.content.firstElementChild.cloneNode(true);
        li.dataset.id = conv.id;
        li.querySelector('.thread-row').addEventListener('click',
            () => select(conv.id, false));
        return li;
    }

    function emptyText() {
        /* a search looks in the tab shown: the tab is said, or "No
         * conversations match" reads as none anywhere */
        if (state.q !== '') {
            const which = {
                unread: 'unread conversations',
                unresponded: 'conversations waiting for a reply',
                starred: 'starred conversations',
                archived: 'archived conversations',
            }[state.filter];
            return which === undefined
                ? 'No conversations match \u201c' + state.q + '\u201d.'
                : 'No ' + which + ' match \u201c' + state.q
                  + '\u201d. All searches every conversation.';
        }
        switch (state.filter) {
        case 'unread':
            return 'No unread conversations.';
        case 'unresponded':
            return 'Every conversation has a reply.';
        case 'starred':
            return 'No starred conversations.';
        case 'archived':
            return 'No archived conversations.';
        default:
            return 'No conversations yet.';
        }
    }

    /* The listed threads the filter shows, in the list's order. */
    function shownInOrder() {
        return Array.from(state.listed, (id) => state.conversations.get(id))
            .filter(inFilter).sort(compare).map((c) => c.id);
    }

    /* A conversation's row is to be filled again at the next draw. */
    function rowChanged(id) {
        state.changed.add(id);
    }

    /* The rows of the selected and the open thread are marked: both
     * filled again, the old and the new, when either moves. */
    function markMoved() {
        const marked = state.marked;
        if (marked.selected === state.selectedId
            && marked.open === state.openId)
        {
            return;
        }
        [marked.selected, marked.open, state.selectedId, state.openId]
            .forEach((id) => id && rowChanged(id));
        marked.selected = state.selectedId;
        marked.open = state.openId;
    }

    /* Live events draw the list once a frame, however many came in it: a
     * campaign's replies come by the hundred. */
    function renderListSoon() {
        if (state.renderFrame === null) {
            state.renderFrame = requestAnimationFrame(() => {
                state.renderFrame = null;
                renderList();
            });
        }
    }

    /* Every row's relative time moves on. */
    function renderClock() {
        state.refillAll = true;
        renderList();
    }
    /* past midnight "11:10 PM" is yesterday's: the list says so at once
     * (a thread's own times are stamps, times.js draws them) */
    times.onNewDay(() => {
        if (state.signedIn) {
            renderClock();
        }
    });

    /* Brings the DOM in line with state, reusing rows: a row is filled
     * again only when its conversation changed, and only the rows that
     * came or moved are put in place.  A row moved (a new message puts it
     * on top) or removed (archived out of the view) loses the focus: it
     * goes back to the row, or to the one now in its place. */
    function renderList() {
        if (state.renderFrame !== null) {
            cancelAnimationFrame(state.renderFrame);
            state.renderFrame = null;
        }
        const had = document.activeElement;
        const hadRow = had ? had.closest('#threads > li') : null;
        const hadAt = hadRow ? state.shownIds.indexOf(hadRow.dataset.id)
            : -1;
        let ids = shownInOrder();
        if (state.paged) {
            state.paged = false;
            state.loadedRows = ids.length;
        }
        /* not under a page being read: it goes on from its own cursor */
        if (state.joined && state.loading === 0) {
            state.joined = false;
            if (trimList(ids)) {
                ids = ids.filter((id) => state.listed.has(id));
            }
        }
        markMoved();
        const keep = new Set(ids);
        for (const [id, li] of state.rows) {
            if (!keep.has(id)) {
                li.remove();
                state.rows.delete(id);
            }
        }
        let before = els.threads.firstElementChild;
        for (const id of ids) {
            const conv = state.conversations.get(id);
            let li = state.rows.get(id);
            if (!li) {
                li = makeRow(conv);
                state.rows.set(id, li);
                fillRow(li, conv);
            } else if (state.refillAll || state.changed.has(id)) {
                fillRow(li, conv);
            }
            if (li !== before) {
                els.threads.insertBefore(li, before);
            } else {
                before = before.nextElementSibling;
            }
        }
        state.changed.clear();
        state.refillAll = false;
        state.shownIds = ids;
        const at = ids.indexOf(state.selectedId);
        if (at !== -1) {
            state.selectedIndex = at;
        }
        /* a view whose first page failed is not empty: it says why */
        if (state.listFailed === null) {
            els.listStatus.textContent = ids.length
                || state.cursor !== null ? '' : emptyText();
        }
        if (hadRow && document.activeElement !== had) {
            keepFocus(had, hadAt);
        }
    }

    /* Where the list, as drawn, is seen down to: the last row whose top
     * is above the bottom of the list's pane, and twice the margin the
     * end is watched at (what is dropped below it is out of the end's
     * reach too); null when none is, the pane hidden. */
    function lastRowSeen() {
        const pane = els.threadsScroll.getBoundingClientRect();
        const ids = state.shownIds;
        if (pane.height === 0 || ids.length === 0) {
            return null;
        }
        const bottom = pane.bottom + 2 * END_MARGIN_PX;
        let lo = 0;
        let hi = ids.length;
        while (lo < hi) {
            const mid = (lo + hi) >> 1;
            const li = state.rows.get(ids[mid]);
            if (li && li.getBoundingClientRect().top < bottom) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo > 0 ? ids[lo - 1] : null;
    }

    function focusedRowId() {
        const f = document.activeElement;
        const li = f && f.closest ? f.closest('#threads > li') : null;
        return li ? li.dataset.id : null;
    }

    function dropListed(id) {
        state.listed.delete(id);
        state.conversations.delete(id);
    }

    /* The threads a view holds are capped: a campaign puts thread after
     * thread on top, and a list that kept them all would grow, and cost
     * more to draw, with each.  Once threads joined, the list keeps what
     * its pages loaded (a page at least) and what is seen, and drops the
     * tail below; the paging cursor goes back to the last page that ended
     * above the tail, so scrolling down reads it again (a page then
     * brings again threads the list holds: each is held once).  Threads
     * out of the filter are dropped too: one that comes back into it
     * joins again by upsertConversation's rule as it changes.  The open,
     * the selected and the focused thread are never dropped.  ids: the
     * rows to show, in order.  Returns whether any was dropped. */
    function trimList(ids) {
        const kept = new Set([state.openId, state.selectedId,
                              focusedRowId()]);
        let dropped = false;
        for (const id of state.listed) {
            if (!kept.has(id) && !inFilter(state.conversations.get(id))) {
                dropListed(id);
                dropped = true;
            }
        }
        const held = ids.filter((id) => state.listed.has(id)
            && inLoadedRange(state.conversations.get(id)));
        const cap = Math.max(LIST_LIMIT, state.loadedRows);
        if (held.length <= cap) {
            return dropped;
        }
        const seen = held.indexOf(lastRowSeen());
        const floor = state.conversations.get(held[Math.max(cap - 1, seen)]);
        let tail = false;
        for (const id of state.listed) {
            if (!kept.has(id)
                && compare(state.conversations.get(id), floor) > 0)
            {
                dropListed(id);
                tail = true;
            }
        }
        if (!tail) {
            return dropped;
        }
        state.oldest = position(floor);
        const pages = state.pages;
        while (pages.length > 1 && pages[pages.length - 1].end !== null
               && compare(pages[pages.length - 1].end, floor) > 0)
        {
            pages.pop();
        }
        state.cursor = pages[pages.length - 1].cursor;
        if (state.moreTimer === null) {
            /* else watched once a failed page's pause is over */
            watchEnd();
        }
        return true;
    }

    function keepFocus(had, at) {
        if (had.isConnected) {
            had.focus({ preventScroll: true });
        } else if (state.shownIds.length > 0) {
            focusRow(state.shownIds[Math.min(at,
                state.shownIds.length - 1)]);
        }
        if (document.activeElement === null
            || document.activeElement === document.body)
        {
            /* the list is empty */
            (state.openId ? els.threadTitle : els.tabs.find(
                (t) => t.dataset.filter === state.filter)).focus();
        }
    }

    /* A conversation as it now is (from an answer or a live event).  One
     * the list has not shown yet joins it only where the list's own
     * query would have put it. */
    function upsertConversation(conv) {
        if (!conv || !conv.id || !conv.contact) {
            return;
        }
        const was = state.conversations.get(conv.id);
        keepDelivery(conv, was);
        moveCounts(was, conv);
        state.conversations.set(conv.id, conv);
        rowChanged(conv.id);
        if (!state.listed.has(conv.id) && matchesSearch(conv)
            && inLoadedRange(conv) && state.listFailed === null)
        {
            state.listed.add(conv.id);
            state.joined = true;
        }
        if (conv.id === state.openId) {
            fillThreadHeader(conv);
        }
    }

    /* A thread's last message keeps the furthest status its
     * message.status frames told (they only move forward): an answer or
     * a frame rendered before the move must not take its row's mark
     * back. */
    function keepDelivery(conv, was) {
        const lm = conv.last_message;
        const old = was && was.last_message;
        if (lm && old && lm.id === old.id && old.status
            && !delivery.moves(old.status, lm.status))
        {
            conv.last_message = Object.assign({}, lm, {
                status: old.status, error_code: old.error_code || null });
        }
    }

    /* message.status of a thread's last message: its row follows (a
     * reply that did not reach the phone is marked), the frame being
     * all that tells it. */
    function moveLastStatus(ev) {
        const conv = state.conversations.get(ev.conversation_id);
        const lm = conv && conv.last_message;
        if (!lm || lm.id !== ev.id || lm.status === ev.status
            || !delivery.moves(lm.status, ev.status))
        {
            return;
        }
        conv.last_message = Object.assign({}, lm, { status: ev.status,
            error_code: ev.error_code || null });
        rowChanged(conv.id);
        renderListSoon();
    }

    /* A conversation as a live event says it is: newer than any answer
     * to an action sent before it came (the action's own event follows
     * in order), which then must not put the older state back. */
    function liveConversation(conv) {
        if (conv && conv.id) {
            state.liveChanges.set(conv.id,
                (state.liveChanges.get(conv.id) || 0) + 1);
        }
        upsertConversation(conv);
    }

    /* An answer about conversation id (an action's, a read's), unless a
     * live event changed it since the request was sent (changesBefore)
     * and the page still holds what it said. */
    function answeredConversation(conv, id, changesBefore) {
        if ((state.liveChanges.get(id) || 0) === changesBefore
            || !state.conversations.has(id))
        {
            upsertConversation(conv);
        }
    }

    function showCounts(counts) {
        state.hasCounts = Boolean(counts) && typeof counts === 'object';
        state.counts = {};
        els.tabs.forEach((tab) => {
            const span = tab.querySelector('.tab-count');
            const n = state.hasCounts ? counts[tab.dataset.filter] : null;
            const shown = typeof n === 'number' && n >= 0;
            if (shown) {
                state.counts[tab.dataset.filter] = n;
            }
            const text = shown ? n.toLocaleString() : '';
            if (span.textContent !== text) {
                span.textContent = text;
            }
            tab.classList.toggle('has-count', shown);
        });
    }

    /* Whether a thread counts in a tab's count, as the server counts
     * them (inbox_filter_matches): the organization's, whatever is
     * searched or open.  A contact's thread before its first two-way
     * message (none, or campaigns only) has no activity and is in no
     * list, as the server lists them (it joins with that message); the
     * server's Unresponded (a campaign is no response) is more than the
     * last message can tell. */
    function countedIn(conv, filter) {
        if (!conv.last_activity_at) {
            return false;
        }
        switch (filter) {
        case 'archived':
            return Boolean(conv.archived);
        case 'unread':
            return !conv.archived && conv.unread_count > 0;
        case 'unresponded':
            return !conv.archived && conv.unresponded === true;
        case 'starred':
            return !conv.archived && Boolean(conv.starred);
        default:
            return !conv.archived;
        }
    }

    /* A thread the page knew changed (an action's answer, a live
     * frame): the tabs' counts move with it at once, as the header's
     * total moves with its unread.total frame, which the server sends
     * after the thread's own; the Unread tab waited for the counts read
     * again (refreshCountsSoon) and trailed the header by a second.
     * That read still comes, and is what the counts end at; a thread
     * the page did not hold is left to it. */
    function moveCounts(was, conv) {
        if (!state.hasCounts || !was) {
            return;
        }
        let moved = false;
        Object.keys(state.counts).forEach((filter) => {
            const by = Number(countedIn(conv, filter))
                - Number(countedIn(was, filter));
            if (by !== 0) {
                state.counts[filter] = Math.max(0,
                                                state.counts[filter] + by);
                moved = true;
            }
        });
        if (moved) {
            state.countMoves += 1;
            showCounts(Object.assign({}, state.counts));
            refreshCountsSoon();
        }
    }

    function listPath(limit, cursor) {
        let path = '/api/v1/conversations?filter='
            + encodeURIComponent(state.filter) + '&limit=' + limit;
        if (state.q !== '') {
            path += '&q=' + encodeURIComponent(state.q);
        }
        if (cursor) {
            path += '&cursor=' + encodeURIComponent(cursor);
        }
        return path;
    }

    /* Where a conversation sorts in the list, kept apart from it. */
    function position(conv) {
        return { id: conv.id, last_activity_at: conv.last_activity_at };
    }

    /* The list as it is before its first page: a cursor of '' reads it. */
    function firstPageOnly() {
        return [{ end: null, cursor: '' }];
    }

    /* Takes in one page of the list (the first when reset).  A page read
     * again after the list was trimmed may bring threads it holds. */
    function takePage(page, reset) {
        if (reset) {
            state.listFailed = null;
            const open = state.conversations.get(state.openId);
            state.conversations.clear();
            state.listed.clear();
            if (open) {
                state.conversations.set(open.id, open);
            }
            state.pages = firstPageOnly();
            state.refillAll = true;
        }
        for (const conv of page.items) {
            state.conversations.set(conv.id, conv);
            state.listed.add(conv.id);
            rowChanged(conv.id);
        }
        const last = page.items.length
            ? position(page.items[page.items.length - 1]) : null;
        if (reset) {
            state.oldest = last;
        } else if (last !== null && (state.oldest === null
                   || compare(last, state.oldest) > 0))
        {
            state.oldest = last;
        }
        state.cursor = page.next_cursor || null;
        if (state.cursor !== null) {
            /* an empty page ends where the one before it did */
            state.pages.push({ end: last || state.pages[
                state.pages.length - 1].end, cursor: state.cursor });
        }
        state.paged = true;
        setUnreadTotal(page.unread_total);
        /* the tabs' counts come with a first page only; live events and
         * refreshCountsSoon keep them since */
        if (reset || page.counts !== undefined) {
            showCounts(page.counts);
        }
        if (reset) {
            state.searchDigits = page.search && Array.isArray(
                page.search.phone_digits) ? page.search.phone_digits : [];
            state.searchShown = state.q === '' ? null
                : { q: state.q, digits: state.searchDigits };
            /* the open thread's header marks what this search matched
             * (its line under the name, unless it says a page failed) */
            const open = state.conversations.get(state.openId);
            if (open) {
                fillThreadName(open);
                if (state.newestFailed !== state.threadVisit
                    && state.olderFailed !== state.threadVisit)
                {
                    fillThreadSub(open);
                }
            }
        }
    }

    function eventsDone() {
        state.loading -= 1;
        if (state.loading === 0) {
            const events = state.pending;
            state.pending = [];
            events.forEach(applyEvent);
        }
    }

    /* What the list shows, to be read again as it is: how many threads
     * (a next page under way counted in, its answer then dropped) and
     * where the last of them was. */
    function listShown() {
        const ids = state.shownIds;
        const last = ids.length > 0
            ? state.conversations.get(ids[ids.length - 1]) : undefined;
        return { count: ids.length + (state.loadingMore ? LIST_LIMIT : 0),
                 last: last ? position(last) : null };
    }

    /* The first page of the current view, or the same view read again
     * as it was shown when what it lists changed unseen (a reconnect's
     * resync, a large import): as many threads as it showed and on to
     * the last of them (reread.js), drawn in one go, the focused row
     * and the row at the top of the list where they were. */
    async function loadList(sameView, again = null) {
        const view = sameView ? state.view : ++state.view;
        const read = ++state.listRead;
        /* another view since, or a newer read of this one */
        const current = () => view === state.view && read === state.listRead;
        const shown = again ? again.shown : sameView ? listShown() : null;
        state.listAgain = null;
        if (!sameView) {
            state.cursor = null;
            state.oldest = null;
            state.pages = firstPageOnly();
            moreShown();
            if (state.listFailed !== null) {
                els.listStatus.textContent = 'Loading conversations\u2026';
            }
        }
        state.loading += 1;
        try {
            const pages = shown ? await reread.pages({
                read: (cursor, limit) => api(listPath(limit, cursor)),
                page: LIST_LIMIT, max: LIST_LIMIT_MAX,
                count: shown.count, last: shown.last,
                after: (a, b) => compare(a, b) > 0, current })
                : [await api(listPath(LIST_LIMIT, null))];
            if (pages === null || !current()) {
                return;
            }
            pages.forEach((page, i) => takePage(page, i === 0));
            if (state.openId && !state.listed.has(state.openId)) {
                /* the open thread, out of this list: its header current */
                try {
                    const open = await api('/api/v1/conversations/'
                        + encodeURIComponent(state.openId));
                    if (open.id === state.openId) {
                        state.conversations.set(open.id, open);
                        fillThreadHeader(open);
                    }
                } catch (e) {
                    if (failed(e)) {
                        return;
                    }
                }
            }
            if (!sameView) {
                els.threadsScroll.scrollTop = 0;
            }
            const retried = document.activeElement === els.listRetry;
            const rowsNow = () => Array.from(els.threads.children);
            moreShown();
            if (again) {
                renderList();
                reread.restorePlace(els.threadsScroll, rowsNow, again.place);
            } else if (shown) {
                reread.keepPlace(els.threadsScroll, rowsNow, renderList);
            } else {
                renderList();
            }
            watchEnd();
            if (retried) {
                /* Try again, hidden now, had the focus: the row that had
                 * it before the read failed takes it back, else the
                 * first row, or the view's tab when there is none */
                if (again && state.rows.has(again.focused)) {
                    focusRow(again.focused);
                } else if (state.shownIds.length > 0) {
                    focusRow(state.shownIds[0]);
                } else {
                    els.tabs.find((t) => t.dataset.filter === state.filter)
                        .focus();
                }
            }
        } catch (err) {
            /* read again (a reset, a gap, a large import), the rows
             * missed what made the read: no more current than another
             * view's.  Only the newest read says: an older one failing
             * late must not drop the rows a newer one brought. */
            if (!failed(err) && current()) {
                firstPageFailed(err, shown ? { shown,
                    place: again ? again.place : listPlace(),
                    focused: again ? again.focused : rowFocused() } : null);
            }
        } finally {
            eventsDone();
        }
    }

    function listPlace() {
        return reread.placeOf(els.threadsScroll,
                              () => Array.from(els.threads.children));
    }

    /* the id of the row that has the focus, if one has */
    function rowFocused() {
        const had = document.activeElement;
        const row = had ? had.closest('#threads > li') : null;
        return row ? row.dataset.id : null;
    }

    /* A first page that could not be read: the rows shown are the view
     * before's, which its filter would thin into a false list ("No
     * archived conversations."), or this view's from before what it
     * missed (a reset), and live events cannot say what it holds.  It
     * shows none, says why, and offers Try again until a first page is
     * read.  Its next page goes with the rows: the emptied list brings
     * its end into view, which would fill it with the page after them.
     * A list read again as it was shown (again: what was shown, the row
     * at the top and the focused row) is read so again by Try again. */
    function firstPageFailed(err, again) {
        state.listAgain = again;
        const open = state.conversations.get(state.openId);
        state.conversations.clear();
        state.listed.clear();
        if (open) {
            state.conversations.set(open.id, open);
        }
        state.cursor = null;
        state.oldest = null;
        state.pages = firstPageOnly();
        watchEnd();
        state.listFailed = 'Could not load conversations: ' + whyNot(err);
        renderList();
        els.listStatus.textContent = state.listFailed;
        els.listRetry.hidden = false;
    }

    /* The next page, when the end of the list comes into view (or Try
     * again is chosen). */
    async function loadMore() {
        if (state.cursor === null || state.loadingMore || state.loading > 0) {
            return;
        }
        const view = state.view;
        const read = state.listRead;
        const retried = document.activeElement === els.listRetry;
        const shownBefore = state.shownIds.length;
        let loaded = false;
        state.loadingMore = true;
        state.loading += 1;
        clearTimeout(state.moreTimer);
        state.moreTimer = null;
        els.listMore.textContent = 'Loading more conversations\u2026';
        try {
            const page = await api(listPath(LIST_LIMIT, state.cursor));
            /* another view, or the list read again with this page */
            if (view !== state.view || read !== state.listRead) {
                return;
            }
            takePage(page, false);
            moreShown();
            renderList();
            loaded = true;
            if (retried && state.shownIds.length > 0) {
                /* Try again, hidden now, had the focus: the first row
                 * the page brought takes it */
                focusRow(state.shownIds[Math.min(shownBefore,
                    state.shownIds.length - 1)]);
            }
        } catch (err) {
            if (!failed(err) && view === state.view
                && read === state.listRead)
            {
                moreFailed(err);
            }
        } finally {
            state.loadingMore = false;
            eventsDone();
            if (loaded) {
                watchEnd();
            }
        }
    }

    /* The end of the list as it is when no next page failed.  A first
     * page that failed keeps its Try again, with the focus it may have
     * (hidden, even for a moment, it drops it), until a read is in. */
    function moreShown() {
        clearTimeout(state.moreTimer);
        state.moreTimer = null;
        state.moreFailures = 0;
        els.listMore.textContent = '';
        els.listRetry.hidden = state.listFailed === null;
    }

    /* A next page that could not be read: said, with a button to try
     * again.  The end is watched again only after a pause, doubled with
     * each failure in a row: watched at once, it is still in view and
     * the page would be asked for again and again. */
    function moreFailed(err) {
        if (endObserver) {
            endObserver.unobserve(els.listMore);
        }
        els.listMore.textContent = 'Could not load more: ' + whyNot(err);
        els.listRetry.hidden = false;
        const wait = Math.min(BACKOFF_MAX_MS,
            MORE_RETRY_MIN_MS * 2 ** state.moreFailures);
        state.moreFailures += 1;
        clearTimeout(state.moreTimer);
        state.moreTimer = setTimeout(() => {
            state.moreTimer = null;
            watchEnd();
        }, wait);
    }

    /* Observing anew reports at once whether the end is still in view (a
     * tall window may show a whole page). */
    const endObserver = 'IntersectionObserver' in window
        ? new IntersectionObserver((entries) => {
            if (entries.some((e) => e.isIntersecting)) {
                loadMore();
            }
        }, { root: els.threadsScroll,
             rootMargin: '0px 0px ' + END_MARGIN_PX + 'px 0px' })
        : null;

    function watchEnd() {
        if (endObserver) {
            endObserver.unobserve(els.listMore);
            if (state.cursor !== null) {
                endObserver.observe(els.listMore);
            }
        }
    }

    /* Back after being cut off: a first page that failed (while offline,
     * say) is read again by itself, as Try again would, and a next page
     * that failed is asked for again now, rather than either waiting for
     * a press the user has no reason to make now. */
    function readFailedAgain() {
        if (state.listFailed !== null) {
            loadList(false, state.listAgain);
        } else if (state.moreFailures > 0) {
            loadMore();
        }
        threadFailedAgain();
        optoutFailedAgain();
        contactFailedAgain();
    }

    /* The tabs' counts move with live events; asked for again shortly
     * after a burst of them, once.  The unread total it reads is older
     * than one a live frame brought meanwhile, which stays; so are the
     * counts older than a move made meanwhile (moveCounts), which asks
     * for them again. */
    function refreshCountsSoon() {
        if (!state.hasCounts || state.countsTimer) {
            return;
        }
        state.countsTimer = setTimeout(async () => {
            state.countsTimer = null;
            const totals = state.liveTotals;
            const moves = state.countMoves;
            try {
                const page = await api(listPath(1, null));
                if (moves === state.countMoves) {
                    showCounts(page.counts);
                }
                if (totals === state.liveTotals) {
                    setUnreadTotal(page.unread_total);
                }
            } catch (err) {
                failed(err);
            }
        }, COUNTS_DELAY_MS);
    }

    function setFilter(filter) {
        if (!FILTERS.includes(filter)) {
            return;
        }
        state.filter = filter;
        els.tabs.forEach((tab) => tab.setAttribute('aria-pressed',
            String(tab.dataset.filter === filter)));
        loadList(false);
    }

    function setSearch(text) {
        clearTimeout(state.searchTimer);
        state.searchTimer = null;
        const q = searchText(text);
        if (q === state.q) {
            return;
        }
        state.q = q;
        loadList(false);
    }

    /* The default view, for the next person to sign in. */
    function resetView() {
        clearTimeout(state.searchTimer);
        clearTimeout(state.countsTimer);
        clearTimeout(state.importedTimer);
        clearTimeout(state.panelTimer);
        state.searchTimer = null;
        state.countsTimer = null;
        state.importedTimer = null;
        state.panelTimer = null;
        state.view += 1;
        state.q = '';
        state.searchDigits = [];
        state.searchShown = null;
        els.search.value = '';
        state.filter = 'all';
        els.tabs.forEach((tab) => tab.setAttribute('aria-pressed',
            String(tab.dataset.filter === 'all')));
        showCounts(null);
        state.shownIds = [];
        state.cursor = null;
        state.oldest = null;
        state.pages = firstPageOnly();
        state.loadedRows = 0;
        state.selectedId = null;
        state.selectedIndex = 0;
        state.listFailed = null;
        state.listAgain = null;
        moreShown();
        watchEnd();
    }

    function clearSearch() {
        els.search.value = '';
        setSearch('');
    }

    /* ---- one thread ---- */

    /* The line under the thread's name: the number (under a name),
     * opted out, archived; what the list's search matched in the number
     * marked, as in its row. */
    function fillThreadSub(conv) {
        const c = conv.contact;
        const rest = [];
        if (c.opted_out) {
            rest.push('Opted out');
        }
        if (conv.archived) {
            rest.push('Archived');
        }
        els.threadSub.textContent = '';
        if (c.name) {
            const number = document.createElement('span');
            highlight.phone(number, phoneOf(c), state.searchShown);
            els.threadSub.appendChild(number);
        }
        if (rest.length > 0) {
            els.threadSub.appendChild(document.createTextNode(
                (c.name ? ' · ' : '') + rest.join(' · ')));
        }
    }

    /* The open thread's name, what the list's search matched marked as
     * its row marks it: the thread was opened from that list, and under
     * 700 px the header is all of the thread that says whom it is
     * with. */
    function fillThreadName(conv) {
        const c = conv.contact;
        if (c.name) {
            highlight.name(els.threadName, c.name, state.searchShown);
        } else {
            highlight.phone(els.threadName, phoneOf(c), state.searchShown);
        }
    }

    function fillThreadHeader(conv) {
        const c = conv.contact;
        fillThreadName(conv);
        fillThreadSub(conv);
        els.actStar.textContent = conv.starred ? 'Unstar' : 'Star';
        els.actStar.classList.toggle('on', Boolean(conv.starred));
        els.actArchive.textContent = conv.archived ? 'Unarchive' : 'Archive';
        /* the notice has the focus only when it took it from a reply
         * being typed (composer.js); the contact opted back in, it goes
         * and the reply box is back: the focus returns to the box, not
         * to the page */
        const fromNotice = document.activeElement === els.composerClosed;
        showOptout(conv);
        notify('thread', conv);
        if (fromNotice && !c.opted_out) {
            els.composerText.focus();
        }
    }

    /* ---- opt-out: the toolbar's button, and why an opted-out thread's
     * composer is closed ---- */

    /* How the contact opted out, from its record: "by keyword STOP on
     * 5 Jan 2026". */
    function optoutWhy(contact) {
        const day = times.date(contact.opted_out_at || '');
        const on = day ? ' on ' + day : '';
        switch (contact.opt_out_source) {
        case 'keyword':
            return 'by keyword ' + (contact.opt_out_keyword || 'STOP') + on;
        case 'manual':
            return 'by hand' + on;
        case 'carrier':
            return 'by their carrier' + on;
        default:
            return on.trim();
        }
    }

    /* The notice and the button follow the open thread's contact; the
     * record (how and when) is read once per contact and kept fresh by
     * contact.updated; a read that failed is made again when the
     * connection is back (optoutFailedAgain), or the thread opened
     * anew, not by each redraw. */
    function showOptout(conv) {
        const c = conv.contact;
        if (c.opted_out && document.activeElement === els.actOptout) {
            /* disabled, it would drop the focus to the page */
            els.threadTitle.focus();
        }
        els.actOptout.disabled = Boolean(c.opted_out);
        els.actOptout.textContent = c.opted_out ? 'Opted out' : 'Opt out';
        els.composerClosed.hidden = !c.opted_out;
        if (conv.id === state.openId) {
            followOptoutWithResend(Boolean(c.opted_out));
        }
        if (!c.opted_out) {
            els.composerClosed.textContent = '';
            return;
        }
        const known = optoutKnown(c.id);
        const why = known ? optoutWhy(known) : '';
        els.composerClosed.textContent = displayName(c) + ' opted out'
            + (why ? ' (' + why + ')' : '')
            + ' \u2014 they can text START to opt back in.';
        const f = state.optFailed;
        if (!known && state.optLoading !== c.id
            && (f === null || f.id !== c.id
                || f.visit !== state.threadVisit))
        {
            readOptout(c.id);
        }
    }

    /* The record of opted-out contact id, when read (how and when). */
    function optoutKnown(id) {
        const known = state.optContact;
        return known && known.id === id && known.opted_out ? known : null;
    }

    /* Reads contact id's record for the open thread's notice; a failure
     * is noted for the connection's return while the thread stays
     * open. */
    function readOptout(id) {
        const visit = state.threadVisit;
        state.optLoading = id;
        state.optFailed = null;
        api('/api/v1/contacts/' + encodeURIComponent(id))
            .then((contact) => {
                state.optLoading = null;
                state.optContact = contact;
                const open = state.conversations.get(state.openId);
                if (open && open.contact.id === contact.id
                    && contact.opted_out)
                {
                    showOptout(open);
                }
            }, (err) => {
                state.optLoading = null;
                if (!failed(err) && state.threadVisit === visit) {
                    state.optFailed = { id: id, visit: visit };
                }
            });
    }

    /* Back after being cut off: the notice's read that failed is made
     * again, once, if its thread is still open and its contact still
     * opted out (a START meanwhile: no notice to complete) and not read
     * since (contact.updated). */
    function optoutFailedAgain() {
        const f = state.optFailed;
        const open = state.conversations.get(state.openId);
        state.optFailed = null;
        if (f !== null && f.visit === state.threadVisit && open
            && open.contact.id === f.id && open.contact.opted_out
            && !optoutKnown(f.id) && state.optLoading !== f.id)
        {
            readOptout(f.id);
        }
    }

    function confirmOptout() {
        const conv = state.conversations.get(state.openId);
        if (!conv || conv.contact.opted_out) {
            return;
        }
        els.optoutText.textContent = displayName(conv.contact)
            + ' will get no more texts from you. Only they can opt back in,'
            + ' by texting START.';
        els.optoutDialog.returnValue = '';
        els.optoutDialog.showModal();
    }

    async function optOut(id) {
        els.actionError.textContent = '';
        const changes = state.liveChanges.get(id) || 0;
        try {
            answeredConversation(await api('/api/v1/conversations/'
                + encodeURIComponent(id) + '/opt-out', { method: 'POST' }),
                id, changes);
            renderList();
            announce('Opted out.');
            if (state.contactId !== null) {
                /* read again: a name or tags being typed there stay */
                openContact(true);
            }
        } catch (err) {
            if (!failed(err)) {
                els.actionError.textContent = 'Could not opt out: '
                    + whyNot(err);
            }
        }
    }

    /* contact.updated: the contact's threads show its state at once, and
     * its open panel reads it again (what is being typed there stays),
     * unless the panel shows it so already or a save's own answer is
     * coming (this browser's edit); an opt-out or opt-in is read all the
     * same, its timeline grew. */
    function applyContact(contact) {
        if (!contact || !contact.id) {
            return;
        }
        state.optContact = contact;
        for (const conv of state.conversations.values()) {
            if (conv.contact.id === contact.id) {
                conv.contact.opted_out = Boolean(contact.opted_out);
                rowChanged(conv.id);
                if (conv.id === state.openId) {
                    fillThreadHeader(conv);
                }
            }
        }
        const shown = state.contactShown;
        const same = shown !== null && shown.id === contact.id
            && Boolean(shown.opted_out) === Boolean(contact.opted_out)
            && (state.contactSaving
                || ((shown.name || null) === (contact.name || null)
                    && (shown.timezone || null) === (contact.timezone || null)
                    && sameTags(shown.tags || [], contact.tags || [])));
        if (state.contactId === contact.id && !same) {
            openContact(true);
        }
        renderListSoon();
    }

    /* ---- media ---- */

    /* A file of a message, once the inbox has its copy (the carrier's own
     * URL needs its credentials, so the API never shows it): an image as
     * a thumbnail that opens the full image in a new tab; a video or a
     * voice note the browser plays in a player, with its download; any
     * other file (a contact card, a document) as its download.  Until
     * then a placeholder, swapped for it when message.updated comes. */
    function mediaItem(media, i, count) {
        const kind = window.inboxMedia.kindOf(media.content_type);
        const name = kind.name + (count > 1 ? ' ' + (i + 1) + ' of ' + count
            : '');
        const href = media.state === 'stored'
            ? window.inboxMedia.safeUrl(media.url) : null;
        const thumb = window.inboxMedia.thumb(media, name);
        if (thumb) {
            return thumb;
        }
        if (href && kind.show !== 'file'
            && document.createElement(kind.show)
                .canPlayType(media.content_type) !== '') {
            const box = document.createElement('div');
            box.className = 'media media-player';
            const player = document.createElement(kind.show);
            player.controls = true;
            player.preload = 'metadata';
            player.src = href;
            player.setAttribute('aria-label', name);
            box.append(player, mediaDownload(media, href, name, kind));
            return box;
        }
        if (href) {
            return mediaDownload(media, href, name, kind);
        }
        const span = document.createElement('span');
        span.className = 'media media-placeholder'
            + (media.state === 'failed' ? ' failed' : '');
        span.dataset.state = media.state || 'pending';
        span.setAttribute('role', 'img');
        span.textContent = media.state === 'failed'
            ? name + ' could not be loaded' : name + ' loading…';
        span.setAttribute('aria-label', span.textContent);
        return span;
    }

    /* A stored file as a link that downloads it (nginx serves it as an
     * attachment too), named for what it is: "Contact card.vcf". */
    function mediaDownload(media, href, name, kind) {
        const ext = (/\.([a-z0-9]+)$/.exec(href) || [])[1] || '';
        const a = document.createElement('a');
        a.className = 'media media-file';
        a.href = href;
        a.download = kind.name + (ext ? '.' + ext : '');
        const title = document.createElement('span');
        title.className = 'media-file-name';
        title.textContent = name;
        const facts = [ext.toUpperCase(), typeof media.bytes === 'number'
            ? window.inboxMedia.sizeText(media.bytes) : ''].filter(Boolean);
        const meta = document.createElement('span');
        meta.className = 'media-file-meta';
        meta.textContent = facts.concat('Download').join(' · ');
        a.append(title, meta);
        a.setAttribute('aria-label', ['Download ' + name].concat(facts)
            .join(', '));
        return a;
    }

    /* The open thread shows the message as it is now (its images); its
     * delivery as far as it got, whichever came first. */
    function replaceMessage(m) {
        const old = m ? state.shown.get(m.id) : null;
        if (!old) {
            return;
        }
        const now = Object.assign({}, old, m);
        if (!delivery.moves(old.status, m.status)) {
            /* Send again goes with the status it was said of; a mark of
             * it sent again takes it away whatever the status */
            now.status = old.status;
            now.error_code = old.error_code;
            now.can_send_again = Boolean(old.can_send_again)
                && !m.resent_as;
        }
        redrawMessage(now);
    }

    /* ---- delivery: an outbound message's ticks (see delivery.js) ---- */

    /* A tick that moved changes only the tick: the message's words are
     * not written again. */
    function redrawMessage(m) {
        const old = state.shown.get(m.id);
        state.shown.set(m.id, m);
        for (const li of els.messages.querySelectorAll('li.message')) {
            if (li.dataset.id !== m.id) {
                continue;
            }
            const tick = li.querySelector('.meta .tick');
            if (tick && m.status && old && old.body === m.body
                && (old.resent_as || null) === (m.resent_as || null)
                && JSON.stringify(old.media || [])
                    === JSON.stringify(m.media || []))
            {
                tick.replaceWith(delivery.tick(m.status, m.error_code));
                const again = li.querySelector('.meta .resend');
                const now = resendOffer(m);
                if (again && !now) {
                    again.remove();
                } else if (now && !again) {
                    li.querySelector('.meta').appendChild(now);
                }
            } else {
                const focused = document.activeElement === li;
                const now = messageItem(m);
                li.replaceWith(now);
                if (focused) {
                    focusMessage(now);
                }
            }
            return;
        }
    }

    /* message.status: the ticks move forward, never back (a late frame,
     * or the answer to the send arriving after the frames); the frame
     * says whether the status it brings may be sent again. */
    function moveStatus(ev) {
        const m = state.shown.get(ev.id);
        if (m && delivery.moves(m.status, ev.status)) {
            redrawMessage(Object.assign({}, m, { status: ev.status,
                error_code: ev.error_code || null,
                can_send_again: ev.can_send_again === true }));
        }
    }

    function messageItem(m) {
        const li = document.createElement('li');
        li.className = 'message ' + (m.direction === 'outbound'
            ? 'outbound' : 'inbound');
        li.dataset.id = m.id;

        /* the side and colour say who wrote it; this says it in words */
        const conv = state.conversations.get(state.openId);
        const who = document.createElement('span');
        who.className = 'visually-hidden who';
        who.textContent = m.direction === 'outbound' ? ''
            : (conv ? displayName(conv.contact) : 'They') + ' wrote: ';
        li.appendChild(who);

        const bubble = document.createElement('div');
        bubble.className = 'bubble';
        if (m.body) {
            const body = document.createElement('p');
            body.className = 'body';
            body.dir = 'auto';
            window.inboxLinks.fill(body, m.body);
            bubble.appendChild(body);
        }
        (m.media || []).forEach((media, i) => {
            bubble.appendChild(mediaItem(media, i, m.media.length));
        });
        li.appendChild(bubble);

        const meta = document.createElement('p');
        meta.className = 'meta';
        if (m.direction === 'outbound') {
            const author = document.createElement('span');
            author.className = 'author';
            meta.appendChild(author);
        }
        const time = document.createElement('time');
        times.stamp(time, m.created_at);
        meta.appendChild(time);
        if (m.direction === 'outbound' && m.status) {
            meta.appendChild(document.createTextNode(' · '));
            meta.appendChild(delivery.tick(m.status, m.error_code));
            const again = resendOffer(m) || resentNote(m);
            if (again) {
                meta.appendChild(again);
            }
        }
        li.appendChild(meta);
        if (m.direction === 'outbound') {
            fillAuthor(li, m);
        }
        return li;
    }

    /* Send again, where the server says the message may go again
     * (can_send_again: a person's reply that did not reach the phone
     * for a reason that may pass, the phone off or billing inactive,
     * not sent again yet), while its contact may be written to.
     * composer.js sends it (the resend hook), says what the try met
     * with say(), and calls sent() once it went: then this page offers
     * it no more. */
    function resendOffer(m) {
        const conv = state.conversations.get(m.conversation_id);
        if (!m.can_send_again || state.resent.has(m.id)
            || (conv && conv.contact.opted_out))
        {
            return null;
        }
        const offer = document.createElement('span');
        offer.className = 'resend';
        offer.appendChild(document.createTextNode(' · '));
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'link-button';
        button.textContent = 'Send again';
        button.addEventListener('click', () => notify('resend', {
            message: state.shown.get(m.id) || m,
            button: button,
            say: (text) => sayOfResend(m.id, text),
            sent: (again) => {
                state.resent.add(m.id);
                resendOffers(m.id).forEach((o) => o.remove());
                const now = state.shown.get(m.id);
                if (now && again && !now.resent_as) {
                    redrawMessage(Object.assign({}, now,
                        { resent_as: again.id, can_send_again: false }));
                }
            },
        }));
        offer.appendChild(button);
        return offer;
    }

    /* "Sent again", once a failed reply went again (the server's mark,
     * resent_as, which message.updated brings to every page showing
     * it): it takes the reader to the message it went as. */
    function resentNote(m) {
        if (m.direction !== 'outbound' || !m.resent_as) {
            return null;
        }
        const note = document.createElement('span');
        note.className = 'resent';
        note.appendChild(document.createTextNode(' · '));
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'link-button';
        button.textContent = 'Sent again';
        button.addEventListener('click', () => {
            const li = Array.from(els.messages.querySelectorAll(
                'li.message')).find((o) => o.dataset.id === m.resent_as);
            if (li) {
                li.scrollIntoView({ block: 'nearest' });
                focusMessage(li);
            }
        });
        note.appendChild(button);
        return note;
    }

    /* The open thread's contact opted out or back in (resendOffer):
     * its failed replies' Send again go, or come back, without a read. */
    function followOptoutWithResend(optedOut) {
        if (optedOut) {
            els.messages.querySelectorAll('li.message .resend')
                .forEach((o) => o.remove());
            return;
        }
        for (const li of els.messages.querySelectorAll('li.message')) {
            const m = state.shown.get(li.dataset.id);
            const meta = li.querySelector('.meta');
            if (m && meta && !meta.querySelector('.resend')) {
                const offer = resendOffer(m);
                if (offer) {
                    meta.appendChild(offer);
                }
            }
        }
    }

    /* The Send again of message id the thread shows now. */
    function resendOffers(id) {
        return Array.from(els.messages.querySelectorAll('li.message .resend'))
            .filter((o) => o.closest('li.message').dataset.id === id);
    }

    /* What a try of Send again met, below its button. */
    function sayOfResend(id, text) {
        resendOffers(id).forEach((offer) => {
            let why = offer.querySelector('.resend-error');
            if (!why) {
                why = document.createElement('span');
                why.className = 'resend-error';
                why.setAttribute('role', 'alert');
                offer.appendChild(why);
            }
            why.textContent = text;
        });
    }

    /* ---- who sent a reply (its sent_by: a user's id) ---- */

    const FORMER = 'A former colleague';
    /* a read of names that failed is not made again sooner */
    const RETRY_NAMES_MS = 30000;

    /* Who sent a message, or a thread's last one: "You", a colleague by
     * name, FORMER, a campaign or poll by name (bulkOf), or '' for no one
     * (an automatic answer, an API token's reply) and while the team or
     * the campaign is being read (refillAuthors after). */
    function authorOf(m) {
        const id = m.sent_by;
        if (!id) {
            return m.campaign_id ? bulkOf(m.campaign_id, m.campaign_kind)
                : '';
        }
        if (state.me && state.me.user && id === state.me.user.id) {
            return 'You';
        }
        if (!state.team.has(id)) {
            readTeam(id);
        }
        return state.team.get(id) || '';
    }

    /* An outbound message's <li>: its author beside its time, and in the
     * words a screen reader says before it. */
    function fillAuthor(li, m) {
        const name = authorOf(m);
        li.dataset.sentBy = m.sent_by || '';
        li.querySelector('.who').textContent = name ? name + ' sent: '
            : 'Sent: ';
        const author = li.querySelector('.meta .author');
        if (author) {
            author.textContent = name ? name + ' · ' : '';
        }
    }

    /* The team (anyone may read it) once a reply names someone not in
     * it yet: a colleague added since, or one removed (FORMER from then
     * on, so they are not read for again; only those drawn before the
     * read began: a reply the answer may not know of yet is read for
     * again).  A new session forgets the read under way. */
    function readTeam(id) {
        if (state.teamRead !== null || Date.now() < state.teamRetryAt) {
            return;
        }
        const read = {};
        state.teamRead = read;
        const asked = new Set(Array.from(
            els.messages.querySelectorAll('.message[data-sent-by]'),
            (li) => li.dataset.sentBy));
        for (const conv of state.conversations.values()) {
            if (conv.last_message && conv.last_message.sent_by) {
                asked.add(conv.last_message.sent_by);
            }
        }
        asked.add(id);      /* the reply being drawn, not shown yet */
        api('/api/v1/users').then((page) => {
            if (state.teamRead !== read) {
                return;
            }
            (page.items || []).forEach((u) => state.team.set(u.id,
                u.name || u.email));
            asked.forEach((id) => {
                if (id && !state.team.has(id)) {
                    state.team.set(id, FORMER);
                }
            });
            state.teamRead = null;
            refillAuthors();
        }).catch((err) => {
            if (state.teamRead === read) {
                state.teamRead = null;
                /* every row drawn asks: not again for a while */
                state.teamRetryAt = Date.now() + RETRY_NAMES_MS;
            }
            /* names stay out until a reply needs the team again */
            failed(err);
        });
    }

    /* A campaign's or poll's message: "Campaign “Spring sale”", its
     * name read once by its id on the path of its kind (the message's
     * campaign_kind), '' until then. */
    function bulkOf(id, kind) {
        if (!state.bulk.has(id)) {
            state.bulk.set(id, '');
            readBulk(id, kind);
        }
        return state.bulk.get(id);
    }

    /* "Campaign “Spring sale”", "Poll “Lunch?”": a campaign or poll as
     * a message's author, or the Settings ledger's line, names it */
    function bulkName(kind, name) {
        return (kind === 'poll' ? 'Poll' : 'Campaign')
            + ' \u201c' + name + '\u201d';
    }

    function campaignLabel(path) {
        return api('/api/v1/campaigns' + path)
            .then((c) => bulkName('campaign', c.name));
    }

    function pollLabel(path) {
        return api('/api/v1/polls' + path + '?limit=1')
            .then((p) => bulkName('poll', p.name));
    }

    async function readBulk(id, kind) {
        const session = state.bulkRead;
        const path = '/' + encodeURIComponent(id);
        let label = '';
        try {
            if (kind === 'poll') {
                label = await pollLabel(path);
            } else if (kind === 'campaign') {
                label = await campaignLabel(path);
            } else {
                /* not known (a message MongoDB stored before messages
                 * kept it): the campaigns' path, else the polls' */
                try {
                    label = await campaignLabel(path);
                } catch (err) {
                    if (err.status !== 404) {
                        throw err;
                    }
                    label = await pollLabel(path);
                }
            }
        } catch (err) {
            /* none found: no name; another failure: read again when a
             * message needs it, a while after (every row drawn asks) */
            if (err.status !== 404) {
                setTimeout(() => {
                    if (session === state.bulkRead
                        && state.bulk.get(id) === '')
                    {
                        state.bulk.delete(id);
                    }
                }, RETRY_NAMES_MS);
            }
            failed(err);
            return;
        }
        if (session === state.bulkRead) {
            state.bulk.set(id, label);
            refillAuthors();
        }
    }

    /* the open thread's replies and the list's last messages named again
     * (the team read, or changed; a campaign's name read) */
    function refillAuthors() {
        state.refillAll = true;
        renderListSoon();
        els.messages.querySelectorAll('.message[data-sent-by]')
            .forEach((li) => {
                const m = state.shown.get(li.dataset.id);
                if (m) {
                    fillAuthor(li, m);
                }
            });
    }

    /* A message the open thread does not show yet; one it shows (the
     * answer to a send and its message.created frame) moves on at most.
     * A new one at the foot is followed only by a thread read at its
     * foot: someone reading older messages stays where they are, and
     * is offered the way down. */
    function appendMessage(m, atTop) {
        if (!m || !m.id) {
            return;
        }
        if (state.shown.has(m.id)) {
            replaceMessage(m);
            return;
        }
        state.shown.set(m.id, m);
        els.messagesEmpty.hidden = true;
        const li = messageItem(m);
        if (atTop) {
            const first = els.messages.querySelector('.message');
            els.messages.insertBefore(li, first);
        } else {
            els.messages.appendChild(li);
            if (state.atNewest) {
                showNewest();
            } else {
                offerNewest();
            }
        }
    }

    /* The thread scrolled to its foot, or within a line of it.  Noted
     * as it scrolls, not as a message comes: an image that loaded since
     * made the foot taller without anyone scrolling away from it. */
    function atNewest() {
        const list = els.messages;
        return list.scrollHeight - list.scrollTop - list.clientHeight
            <= NEWEST_SLACK_PX;
    }

    function showNewest() {
        els.messages.scrollTop = els.messages.scrollHeight;
        state.atNewest = true;
        hideNewBelow();
    }

    /* Read at its foot, the thread stays there as it changes size with
     * nobody scrolling: an image or a player that loads makes it taller
     * (its size is known only then), and the reply box growing (an
     * image attached, a refusal, more lines) makes it shorter; either
     * hid the newest message under the reply box. */
    function keepNewest() {
        if (state.atNewest) {
            showNewest();
        }
    }

    /* "New messages" over the thread's foot, said once as it appears
     * (after what the frame itself says: the message's words). */
    function offerNewest() {
        if (!els.newBelow.hidden) {
            return;
        }
        els.newBelow.hidden = false;
        queueMicrotask(() => {
            if (!els.newBelow.hidden) {
                announce('New messages below.');
            }
        });
    }

    /* the button goes; its focus to the thread's title */
    function hideNewBelow() {
        if (els.newBelow.hidden) {
            return;
        }
        const focused = document.activeElement === els.newBelow;
        els.newBelow.hidden = true;
        if (focused) {
            els.threadTitle.focus();
        }
    }

    function clearMessages() {
        els.messages.textContent = '';
        els.messagesEmpty.hidden = true;
        state.shown.clear();
        state.olderFailed = -1;     /* the page it was for is gone */
        state.atNewest = true;
        state.lastScrollTop = 0;
        hideNewBelow();
    }

    /* "Show older messages", one item kept for the thread's life on the
     * page: replaced after each page, it would take the focus of whoever
     * pressed it with it, to the page, and the next key (j, k, e) would
     * act on the thread list. */
    const olderItem = (() => {
        const li = document.createElement('li');
        li.className = 'older';
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'link-button';
        button.textContent = 'Show older messages';
        button.addEventListener('click',
            () => whileBusy(button, loadOlderMessages));
        li.appendChild(button);
        return li;
    })();

    /* The button on top while there is an older page; when it goes with
     * the focus, the focus goes to heir (the first message its last page
     * brought), else to the thread's title. */
    function renderOlderButton(heir) {
        if (!state.olderCursor) {
            const focused = olderItem.contains(document.activeElement);
            olderItem.remove();
            if (focused) {
                focusMessage(heir || null);
            }
            return;
        }
        /* moved only when it has to be: a move drops the focus too */
        if (els.messages.firstChild !== olderItem) {
            els.messages.insertBefore(olderItem, els.messages.firstChild);
        }
    }

    /* A message's item takes the focus (focusable by script only), or
     * the thread's title without one. */
    function focusMessage(li) {
        if (!li) {
            els.threadTitle.focus();
            return;
        }
        li.tabIndex = -1;
        li.focus();
    }

    /* The list item that shows the message with this id, or null. */
    function messageLi(id) {
        return els.messages.querySelector('li.message[data-id="'
            + CSS.escape(id) + '"]');
    }

    /* Whether the thread would show the message any differently. */
    function sameMessage(a, b) {
        return a.body === b.body && a.status === b.status
            && (a.error_code || null) === (b.error_code || null)
            && Boolean(a.can_send_again) === Boolean(b.can_send_again)
            && (a.resent_as || null) === (b.resent_as || null)
            && JSON.stringify(a.media || []) === JSON.stringify(b.media || []);
    }

    /* Whether the page holds a message the thread shows. */
    function reachesShown(page) {
        return (page.items || []).some((m) => state.shown.has(m.id));
    }

    /* The thread's newest pages (each newest first, as the API answers),
     * read as the thread opens (one page) or again when frames may have
     * been missed (a resync).  Read again they are merged into what is
     * shown, so that the reader keeps their place: a message missed
     * meanwhile goes where it belongs (at the foot, followed only from
     * the foot and else offered by "New messages"), a changed one (a
     * tick) is drawn again, and the older pages "Show older messages"
     * brought stay, with their cursor.  Pages that reach nothing shown
     * (more came than RESYNC_PAGES_MAX pages hold) start the thread
     * over, at its foot, with the newest page alone. */
    function showNewestPages(pages) {
        const oldest = pages[pages.length - 1];
        if (state.shown.size === 0
            || (oldest.next_cursor && !reachesShown(oldest)))
        {
            clearMessages();
            (pages[0].items || []).slice().reverse()
                .forEach((m) => appendMessage(m, false));
            state.olderCursor = pages[0].next_cursor;
            renderOlderButton();
            return;
        }
        let newer = null;       /* the item of the next newer one */
        let atFoot = false;
        pages.flatMap((page) => page.items || []).forEach((m) => {
            const had = state.shown.get(m.id);
            if (had) {
                if (!sameMessage(had, m)) {
                    replaceMessage(m);
                }
                newer = messageLi(m.id);
                return;
            }
            state.shown.set(m.id, m);
            els.messagesEmpty.hidden = true;
            const li = messageItem(m);
            if (newer) {
                els.messages.insertBefore(li, newer);
            } else {
                els.messages.appendChild(li);
                atFoot = true;
            }
            newer = li;
        });
        if (atFoot) {
            if (state.atNewest) {
                showNewest();
            } else {
                offerNewest();
            }
        }
    }

    function messagesPath(id, cursor) {
        return '/api/v1/conversations/' + encodeURIComponent(id)
            + '/messages?limit=' + MESSAGE_LIMIT
            + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    }

    /* The open thread's newest page and, when a resync's reaches nothing
     * shown, the older ones down to one that does (at most
     * RESYNC_PAGES_MAX in all): with only the newest, a thread that got
     * more than a page while frames were missed would start over, and
     * its reader lose their place.  Null when the thread was closed or
     * another opened meanwhile. */
    async function readNewestPages(id, visit) {
        const pages = [];
        let cursor = null;
        do {
            const page = await api(messagesPath(id, cursor));
            if (state.threadVisit !== visit) {
                return null;
            }
            pages.push(page);
            cursor = page.next_cursor;
        } while (cursor && state.shown.size > 0
                 && pages.length < RESYNC_PAGES_MAX
                 && !reachesShown(pages[pages.length - 1]));
        return pages;
    }

    /* The thread's newest pages (events that come meanwhile wait for
     * them, then apply: the pages may be older than they are). */
    async function loadNewestMessages() {
        const visit = state.threadVisit;
        state.loading += 1;
        try {
            const pages = await readNewestPages(state.openId, visit);
            if (pages) {
                showNewestPages(pages);
                /* a contact's thread opened before anyone wrote (from
                 * the Contacts view): said, not a blank pane */
                els.messagesEmpty.hidden = state.shown.size > 0;
                loadedAgain('newestFailed', visit);
            }
        } catch (err) {
            loadFailed(err, visit, 'newestFailed');
        } finally {
            eventsDone();
        }
    }

    /* The page before what the thread shows ("Show older messages"). */
    async function loadOlderMessages() {
        const visit = state.threadVisit;
        try {
            const page = await api(messagesPath(state.openId,
                state.olderCursor));
            if (state.threadVisit !== visit) {
                return;
            }
            page.items.forEach((m) => appendMessage(m, true));
            state.olderCursor = page.next_cursor;
            /* the page is newest first: its last is now on top */
            const oldest = page.items[page.items.length - 1];
            renderOlderButton(oldest ? messageLi(oldest.id) : null);
            loadedAgain('olderFailed', visit);
        } catch (err) {
            loadFailed(err, visit, 'olderFailed');
        }
    }

    /* A page of the thread that could not be read, said in its header
     * while the thread it was read for is open, and noted (which:
     * 'newestFailed' or 'olderFailed') for the connection's return. */
    function loadFailed(err, visit, which) {
        if (!failed(err) && state.threadVisit === visit) {
            state[which] = visit;
            els.threadSub.textContent = 'Could not load messages: '
                + whyNot(err);
        }
    }

    /* A page that had failed read now: the header says again what it
     * said before, unless the other read still stands failed. */
    function loadedAgain(which, visit) {
        if (state[which] !== visit) {
            return;
        }
        state[which] = -1;
        const conv = state.conversations.get(state.openId);
        if (conv && state.newestFailed !== visit
            && state.olderFailed !== visit)
        {
            fillThreadSub(conv);
        }
    }

    /* Back after being cut off: the open thread's pages that failed are
     * read again, and what came is then read (markRead), as when it
     * opened; a draft being typed is the composer's, untouched. */
    function threadFailedAgain() {
        const id = state.openId;
        const visit = state.threadVisit;
        if (id === null) {
            return;
        }
        if (state.newestFailed === visit) {
            loadNewestMessages().then(() => {
                markRead(id);
                if (state.olderFailed === visit
                    && state.newestFailed !== visit)
                {
                    loadOlderMessages();
                }
            });
        } else if (state.olderFailed === visit) {
            loadOlderMessages();
        }
    }

    /* The open thread is in front of whoever uses the app: the Inbox
     * view is the one shown, in a tab that is visible. */
    function threadInView() {
        return state.openId !== null && !els.app.hidden
            && document.visibilityState === 'visible';
    }

    /* Marks the open thread read, only while it is seen: what comes while
     * another view or tab is in front stays unread until it is back. */
    /* Marks the open thread read when it has unread messages (unless
     * unknown: the list's count may be older than the thread shown). */
    async function markRead(id, unknown) {
        const conv = state.conversations.get(id);
        if (!conv || (conv.unread_count === 0 && !unknown)
            || state.openId !== id || !threadInView())
        {
            return;
        }
        const changes = state.liveChanges.get(id) || 0;
        try {
            answeredConversation(await api('/api/v1/conversations/'
                + encodeURIComponent(id) + '/read', { method: 'POST' }),
                id, changes);
            renderList();
        } catch (err) {
            failed(err);
        }
    }

    /* Whether the thread is open now: not while the contact panel keeps
     * unsaved edits (contactKept). */
    function openThread(id) {
        const conv = state.conversations.get(id);
        if (!conv) {
            return false;
        }
        if (id === state.openId) {
            /* chosen again: what came while it was not seen is read */
            markRead(id);
            return true;
        }
        if (contactKept('open the other conversation')) {
            return false;
        }
        state.openId = id;
        state.threadVisit += 1;
        state.olderCursor = null;
        els.threadEmpty.hidden = true;
        els.threadView.hidden = false;
        els.app.classList.add('thread-open');
        els.actionError.textContent = '';
        fillThreadHeader(conv);
        clearMessages();
        if (state.contactId !== null) {
            openContact();
        }
        layers.shown();
        renderList();
        loadNewestMessages().then(() => markRead(id));
        /* the row that opened it hidden (on a narrow screen the thread
         * takes the list's place): the title, before the thread's
         * buttons */
        const f = document.activeElement;
        if (f === null || f === document.body || f.offsetParent === null) {
            els.threadTitle.focus();
        }
        return true;
    }

    /* Opens a thread the list may not hold (another view asked): read,
     * kept, shown in the Inbox view; the last one asked for wins.  With
     * record (a contact chosen in Contacts, whose name opens the full
     * record) the contact's record opens over it too, a layer of its
     * own (a sheet under 700 px, which Back closes first). */
    async function showConversation(id, record) {
        const asked = ++state.showAsked;
        const changes = state.liveChanges.get(id) || 0;
        const conv = await api('/api/v1/conversations/'
            + encodeURIComponent(id));
        answeredConversation(conv, id, changes);
        if (asked !== state.showAsked) {
            return;
        }
        /* the view that asked is hidden with what had the focus */
        if (location.hash !== '#inbox') {
            window.addEventListener('hashchange', () => {
                if (state.openId === id) {
                    els.threadTitle.focus();
                }
            }, { once: true });
            location.hash = '#inbox';
        }
        if (state.openId !== id) {
            openThread(id);
        }
        if (record === true && state.openId === id
            && state.contactId === null)
        {
            openContact();
        }
        els.threadTitle.focus();
    }

    /* Esc, Back: the thread closed, the focus to its row in the list */
    function leaveThread() {
        const id = state.openId;
        closeThread();
        renderList();
        focusRow(id);
    }

    /* The browser's Back (layers.js): the layers above n closed, as Esc
     * closes them, the record's unsaved edits said and kept first */
    function closeLayersTo(n) {
        if (n < 2 && state.contactId !== null) {
            leaveContact('go back');
            if (state.contactId !== null) {
                return;
            }
        }
        if (n < 1 && state.openId !== null) {
            leaveThread();
        }
    }

    /* The browser's Forward onto what Back (or Esc) closed (layers.js):
     * thread id open again, and its record at n = 2.  One the list no
     * longer holds (another tab chosen, a search typed, the list read
     * again) is read first: its entry left meanwhile, it comes with one
     * of its own, as a row opens it; one the server no longer gives (a
     * sign-in since to another organization) stays closed, said. */
    function reopenLayers(n, id) {
        if (!state.signedIn) {
            return;
        }
        if (state.openId === null && !state.conversations.has(id)) {
            showConversation(id).then(() => {
                if (n >= 2 && state.openId === id
                    && state.contactId === null)
                {
                    openContact();
                }
            }, (err) => {
                if (!failed(err)) {
                    announce('Could not open that conversation again: '
                        + whyNot(err));
                }
            });
            return;
        }
        if (state.openId === null) {
            select(id, false);
        }
        if (n >= 2 && state.openId === id && state.contactId === null) {
            openContact();
        }
    }

    function closeThread() {
        state.openId = null;
        state.threadVisit += 1;
        els.app.classList.remove('thread-open');
        els.threadView.hidden = true;
        els.threadEmpty.hidden = false;
        clearMessages();
        closeContact();
        layers.shown();
        notify('thread', null);
    }

    /* ---- acting on a thread ---- */

    /* star, unstar, archive, unarchive or unread; the answer is the
     * conversation as it now is (the event follows to other browsers) */
    async function act(id, action) {
        els.actionError.textContent = '';
        const changes = state.liveChanges.get(id) || 0;
        try {
            answeredConversation(await api('/api/v1/conversations/'
                + encodeURIComponent(id) + '/' + action,
                { method: 'POST' }), id, changes);
            renderList();
            refreshCountsSoon();
            announce(ACTION_WORDS[action] + '.');
            return true;
        } catch (err) {
            if (!failed(err)) {
                els.actionError.textContent = 'Could not '
                    + (action === 'unread' ? 'mark it unread' : action)
                    + ': ' + whyNot(err);
            }
            return false;
        }
    }

    /* What the keys and buttons act on: the open thread, else the
     * keyboard's place in the list. */
    function target() {
        const id = state.openId || state.selectedId;
        return id && state.conversations.has(id) ? id : null;
    }

    function toggleStar() {
        const id = target();
        if (id) {
            act(id, state.conversations.get(id).starred ? 'unstar' : 'star');
        }
    }

    function toggleArchive() {
        const id = target();
        if (id) {
            act(id, state.conversations.get(id).archived
                ? 'unarchive' : 'archive');
        }
    }

    /* Marked unread, the thread closes: left open, it would be read
     * again by the next message.  Closing it drops the contact panel, so
     * its unsaved edits are said first (how names the way, u or the
     * button) and the mark waits for that way's second try. */
    async function markUnread(how) {
        const id = target();
        if (!id || (id === state.openId && contactKept(how))) {
            return;
        }
        if (await act(id, 'unread') && state.openId === id) {
            closeThread();
            renderList();
            focusRow(id);
        }
    }

    /* ---- the keyboard's place in the list ---- */

    /* Focus follows the keyboard's place, where the list is shown (on
     * a narrow screen the open thread hides it). */
    function focusRow(id) {
        const li = id ? state.rows.get(id) : null;
        if (li && li.offsetParent !== null) {
            li.scrollIntoView({ block: 'nearest' });
            li.querySelector('.thread-row').focus({ preventScroll: true });
        }
    }

    function select(id, fromKeyboard) {
        if (!openThread(id)) {
            return;
        }
        state.selectedId = id;
        renderList();
        if (fromKeyboard) {
            focusRow(id);
        }
    }

    /* j and k: the next or previous thread, opened.  When the selected
     * thread has left the list (archived), j takes the one now in its
     * place and k the one before. */
    function move(delta) {
        const ids = state.shownIds;
        if (!ids.length) {
            return;
        }
        let at = ids.indexOf(state.selectedId);
        if (at === -1) {
            at = state.selectedId === null ? (delta > 0 ? 0 : ids.length - 1)
                : Math.min(ids.length - 1, Math.max(0,
                    state.selectedIndex - (delta > 0 ? 0 : 1)));
        } else {
            at = Math.min(ids.length - 1, Math.max(0, at + delta));
        }
        select(ids[at], true);
        if (at === ids.length - 1) {
            loadMore();
        }
    }

    function typing(el) {
        return el && (el.isContentEditable
            || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
    }

    /* whether the contact's record covers the thread's messages (a
     * sheet under 700 px; beside them, wider) */
    function sheetOver() {
        return state.contactId !== null
            && getComputedStyle(els.messages).visibility === 'hidden';
    }

    /* /: the search box.  Under 700 px the open thread (and its
     * record) hides the list and the box with it: they close first, as
     * Back would close them (the record's unsaved edits said and kept
     * first), so that what is typed goes where it is seen. */
    function findKey() {
        if (els.search.offsetParent === null && state.openId !== null) {
            if (contactKept('press /')) {
                return;
            }
            leaveThread();
        }
        if (els.search.offsetParent !== null) {
            els.search.focus();
            els.search.select();
        }
    }

    function onKey(event) {
        /* a confirmation open (any dialog: the opt-out's, composer.js's
         * "moved on"): its own keys only (Esc cancels it) */
        if (els.app.hidden || event.ctrlKey || event.metaKey
            || event.altKey || event.defaultPrevented
            || document.querySelector('dialog[open]') !== null)
        {
            return;
        }
        if (event.key === 'Escape') {
            if (event.target === els.search) {
                event.preventDefault();
                if (els.search.value !== '') {
                    clearSearch();
                } else {
                    els.search.blur();
                }
            } else if (typing(event.target)
                       && els.contactPanel.contains(event.target)) {
                /* a field of the panel: Esc leaves the field, as the
                 * reply box's does; the panel is one more press away */
                event.preventDefault();
                event.target.blur();
            } else if (state.contactId !== null) {
                leaveContact('press Esc');
            } else if (state.openId) {
                leaveThread();
            } else if (state.q !== '') {
                clearSearch();
            }
            return;
        }
        /* the closed composer's notice has the focus only when it took
         * it from a reply being typed (composer.js): the keys that follow
         * are the rest of that reply, not shortcuts */
        if (typing(event.target) || event.target === els.composerClosed) {
            return;
        }
        /* the record a sheet over the thread (under 700 px): e and s
         * would change the thread it hides, unseen (archived, a stray key
         * while reading the record); its header's buttons still do.  j, k
         * and u go where it is seen: the sheet follows to the other
         * thread's contact, or closes with the thread (u). */
        if (sheetOver() && (event.key === 'e' || event.key === 's')) {
            return;
        }
        switch (event.key) {
        case 'j':
            move(1);
            break;
        case 'k':
            move(-1);
            break;
        case '/':
            findKey();
            break;
        case 'e':
            toggleArchive();
            break;
        case 's':
            toggleStar();
            break;
        case 'u':
            markUnread('press u');
            break;
        default:
            return;
        }
        event.preventDefault();
    }

    /* ---- the contact's record ---- */

    /* Esc, Close or the Contact button: an unsaved name or tags are
     * said, and dropped only on a second try (how names the way) */
    function leaveContact(how) {
        if (contactKept(how)) {
            return;
        }
        closeContact();
        els.actContact.focus();
    }

    /* Any way that would drop the panel's unsaved name, tags or zone
     * (Esc, Close, Contact, another thread, Back, Mark unread): the
     * first try says so and is not taken (returns true), the same way
     * again drops them. */
    function contactKept(how) {
        if (state.contactId === null || !contactEdited()
            || state.contactCloseWarned === how)
        {
            return false;
        }
        state.contactCloseWarned = how;
        els.contactStatus.textContent = 'Not saved: Save the changes, '
            + 'or ' + how + ' again to drop them.';
        return true;
    }

    function closeContact() {
        state.contactId = null;
        state.contactCloseWarned = null;
        state.contactFailed = null;
        els.contactPanel.hidden = true;
        els.actContact.setAttribute('aria-expanded', 'false');
        els.app.classList.remove('contact-open');
        layers.shown();
    }

    function timelineItem(entry) {
        const li = document.createElement('li');
        li.className = 'timeline-item';
        const what = document.createElement('p');
        what.className = 'timeline-what';
        const detail = document.createElement('p');
        detail.className = 'timeline-detail';
        detail.dir = 'auto';
        const type = String(entry.type || '');
        const m = entry.message || entry;
        if (type === 'message') {
            /* a message of ours as far as it got: one that failed never
             * left (the carrier refused it, or it was withdrawn) */
            const outbound = m.direction === 'outbound';
            what.textContent = !outbound ? 'Message received'
                : m.status === 'failed' ? 'Message not sent'
                    : 'Message sent';
            if (outbound && m.status) {
                what.appendChild(document.createTextNode(' \u00b7 '));
                what.appendChild(delivery.tick(m.status, m.error_code));
            }
            /* a message of pictures or files alone says what it held */
            detail.textContent = m.body || m.preview
                || (m.media || []).map((x) => window.inboxMedia.kindOf(
                    x.content_type).name).join(', ');
        } else if (type === 'opt_out' || type === 'opted_out') {
            what.textContent = 'Opted out'
                + (entry.source === 'keyword' && entry.keyword
                    ? ' by keyword ' + entry.keyword
                    : entry.source === 'manual' ? ' by hand'
                        : entry.source === 'carrier' ? ' by their carrier'
                            : '');
        } else if (type === 'opt_in' || type === 'opted_in') {
            what.textContent = 'Opted back in'
                + (entry.keyword ? ' by keyword ' + entry.keyword : '');
        } else if (type === 'campaign' && entry.campaign) {
            /* a campaign or poll handed over, as far as its message got,
             * or why it never left */
            const unsent = campaignUnsent(entry.campaign);
            what.textContent = (entry.campaign.kind === 'poll'
                ? 'Poll' : 'Campaign') + (unsent ? ' not sent' : ' sent');
            detail.textContent = entry.campaign.name || '';
            if (unsent) {
                what.appendChild(document.createTextNode(' \u00b7 '
                                                         + unsent));
            } else if (entry.campaign.status) {
                what.appendChild(document.createTextNode(' \u00b7 '));
                what.appendChild(delivery.tick(entry.campaign.status, null));
            }
        } else if (type === 'poll_answer') {
            what.textContent = 'Poll answer: ' + (entry.answer || '');
            detail.textContent = entry.question || '';
        } else {
            what.textContent = type.replace(/[._]/g, ' ');
            detail.textContent = entry.name || entry.question || '';
        }
        li.appendChild(what);
        if (detail.textContent) {
            li.appendChild(detail);
        }
        const time = document.createElement('time');
        time.className = 'timeline-at';
        times.stamp(time, entry.at);
        li.appendChild(time);
        return li;
    }

    function sameTags(a, b) {
        return a.length === b.length && a.every((t, i) => t === b[i]);
    }

    /* 1 when the name, tags or time zone differ from the contact shown
     * (a tag being typed counts). */
    function contactEdited() {
        const c = state.contactShown;
        return c !== null && !els.contactForm.hidden
            && (els.contactName.value !== (c.name || '')
                || els.contactZone.value.trim() !== (c.timezone || '')
                || !sameTags(contactTags.get(), c.tags || []));
    }

    function fillContact(contact) {
        state.contactShown = contact;
        state.contactCloseWarned = null;
        els.contactPhone.textContent = phoneOf(contact);
        els.contactOptout.hidden = !contact.opted_out;
        /* the day is optoutWhy's; the time of day follows it (the
         * whole date again, in figures, read as a second date) */
        const at = times.clock(contact.opted_out_at || '');
        els.contactOptout.textContent = contact.opted_out
            ? 'Opted out ' + optoutWhy(contact) + (at ? ' at ' + at : '')
            : '';
        els.contactName.value = contact.name || '';
        els.contactZone.value = contact.timezone || '';
        contactTags.set(contact.tags);
        els.contactForm.hidden = false;
        /* a contact without them (a list item's shape) says nothing of
         * them: those shown stay */
        if ('campaigns' in contact) {
            fillHistory(contact);
        }
    }

    /* The campaigns and polls the contact was sent (when, and how far
     * each message got), and its poll answers. */
    function fillHistory(contact) {
        const sent = contact.campaigns || [];
        const answers = contact.polls || [];
        els.contactCampaigns.textContent = '';
        els.contactPolls.textContent = '';
        sent.forEach((c) => {
            const li = historyItem((c.kind === 'poll' ? 'Poll: ' : '')
                + (c.name || ''), '', c.sent_at);
            const unsent = campaignUnsent(c);
            if (unsent) {
                li.appendChild(document.createTextNode(' \u00b7 Not sent: '
                                                       + unsent));
            } else if (c.status) {
                li.appendChild(document.createTextNode(' \u00b7 '));
                li.appendChild(delivery.tick(c.status, null));
            }
            els.contactCampaigns.appendChild(li);
        });
        answers.forEach((p) => {
            els.contactPolls.appendChild(historyItem(p.question,
                p.answer || '', p.answered_at));
        });
        els.contactCampaignsTitle.hidden = sent.length === 0;
        els.contactCampaigns.hidden = sent.length === 0;
        els.contactPollsTitle.hidden = answers.length === 0;
        els.contactPolls.hidden = answers.length === 0;
    }

    /* Why a campaign or poll handed over for the contact never left, by
     * how its campaign counts the contact (its message is failed all the
     * same, and its error code would blame the carrier): '' when it
     * left. */
    function campaignUnsent(c) {
        if (c.state === 'suppressed') {
            return 'the contact had opted out';
        }
        if (c.state === 'cancelled') {
            return c.kind === 'poll' ? 'the poll was cancelled'
                : 'the campaign was cancelled';
        }
        return '';
    }

    function historyItem(name, note, at) {
        const li = document.createElement('li');
        li.className = 'history-item';
        const n = document.createElement('span');
        n.className = 'history-name';
        n.dir = 'auto';
        n.textContent = name || '';
        li.appendChild(n);
        if (note) {
            /* "Which day suits you? Monday", not "…you?: Monday" */
            li.appendChild(document.createTextNode(
                /[?!.:\u2026]$/.test(name || '') ? ' ' : ': '));
            const b = document.createElement('strong');
            b.className = 'history-note';
            b.dir = 'auto';
            b.textContent = note;
            li.appendChild(b);
        }
        li.appendChild(document.createElement('br'));
        const time = document.createElement('time');
        time.className = 'timeline-at';
        times.stamp(time, at);
        li.appendChild(time);
        return li;
    }

    /* The panel for the open thread's contact: the record, then its
     * timeline, newest first.  Read again (again: a change made
     * elsewhere), it keeps a name or tags being typed, and the form.
     * Only the latest read fills it: two at once (an opt-out's answer
     * and its contact.updated) would show the timeline twice. */
    async function openContact(again) {
        const conv = state.conversations.get(state.openId);
        if (!conv) {
            return;
        }
        const id = conv.contact.id;
        const load = ++state.contactLoad;
        const current = () => load === state.contactLoad
            && state.contactId === id;
        const refresh = again === true && state.contactId === id
            && !els.contactForm.hidden;
        const focused = refresh
            && els.contactForm.contains(document.activeElement)
            ? document.activeElement : null;
        const edits = refresh && (focused !== null || contactEdited())
            ? { name: els.contactName.value, tags: contactTags.chips(),
                typed: els.contactTags.value,
                /* only one typed here: a colleague's new zone shows */
                zone: els.contactZone.value.trim()
                    !== ((state.contactShown || {}).timezone || '')
                    ? els.contactZone.value : null,
                from: focused && focused.selectionStart,
                to: focused && focused.selectionEnd }
            : null;
        state.contactId = id;
        els.contactPanel.hidden = false;
        els.actContact.setAttribute('aria-expanded', 'true');
        els.app.classList.add('contact-open');
        layers.shown();
        /* read again (a new message, an answer, a tick): what is shown
         * stays until the answer replaces it, so nothing flickers */
        if (!refresh) {
            els.contactForm.hidden = true;
            els.contactError.textContent = '';
            clearContactInvalid();
            fillHistory({});
            clearTimeline();
            els.timelineTitle.hidden = true;
            els.timelineEmpty.hidden = true;
            els.timelineMore.hidden = true;
            state.timelineCursor = null;
            els.contactStatus.textContent = 'Loading\u2026';
        }
        orgTagList().then((list) => {
            contactTags.suggest(list.map((t) => t.tag));
        });
        try {
            const contact = await api('/api/v1/contacts/'
                + encodeURIComponent(id));
            if (!current()) {
                return;
            }
            if (!refresh) {
                els.contactStatus.textContent = '';
            }
            const warned = state.contactCloseWarned;
            fillContact(contact);
            if (edits !== null) {
                /* the edits kept, so is the "Not saved" said of them */
                state.contactCloseWarned = warned;
                els.contactName.value = edits.name;
                if (edits.zone !== null) {
                    els.contactZone.value = edits.zone;
                }
                contactTags.set(edits.tags);
                els.contactTags.value = edits.typed;
                if (focused !== null && focused.isConnected) {
                    focused.focus();
                    if (edits.from !== null) {
                        focused.setSelectionRange(edits.from, edits.to);
                    }
                }
            }
            const page = await api('/api/v1/contacts/'
                + encodeURIComponent(id) + '/timeline');
            if (!current()) {
                return;
            }
            els.timelineTitle.hidden = false;
            if (refresh) {
                mergeTimeline(page);
            } else {
                clearTimeline();
                showTimeline(page);
            }
            /* a contact added or imported: not a bare heading */
            els.timelineEmpty.hidden = state.timeline.size !== 0;
            /* an older page that failed is moot once the timeline
             * started over */
            contactReadAgain(id, !refresh);
        } catch (err) {
            if (!failed(err) && current()) {
                contactReadFailed(id, false,
                                  'Could not load the contact: '
                                  + whyNot(err));
            }
        }
    }

    /* A read of the panel that failed, said and noted for the
     * connection's return (older: a page of "Show older"). */
    function contactReadFailed(id, older, said) {
        state.contactFailed = { id: id, older: older, said: said };
        els.contactStatus.textContent = said;
    }

    /* A read of the panel was made: the record's and timeline's, or
     * (older) an older page or the timeline from its start.  A failure
     * it makes moot is forgotten, and its words go unless something
     * was said since (an unsaved edit's warning). */
    function contactReadAgain(id, older) {
        const f = state.contactFailed;
        if (f === null || f.id !== id || (f.older && !older)) {
            return;
        }
        state.contactFailed = null;
        if (els.contactStatus.textContent === f.said) {
            els.contactStatus.textContent = '';
        }
    }

    /* Back after being cut off: the panel's read that failed is made
     * again, what is being typed in its form kept (openContact's read
     * again), after a save under way has its answer. */
    function contactFailedAgain() {
        const f = state.contactFailed;
        if (f === null || f.id !== state.contactId) {
            return;
        }
        if (f.older) {
            olderTimeline();
        } else if (!state.contactSaving) {
            openContact(true);
        } else if (state.panelTimer === null) {
            panelLater();
        }
    }

    /* What one timeline entry is in every read of it: its message, its
     * campaign or its poll (a poll's answer, changed, moves), or an opt
     * event by all it says. */
    function timelineKey(entry) {
        switch (entry.type) {
        case 'message':
            return 'message ' + (entry.message || {}).id;
        case 'campaign':
            return 'campaign ' + (entry.campaign || {}).id;
        case 'poll_answer':
            return 'poll_answer ' + entry.poll_id;
        default:
            return JSON.stringify([entry.type, entry.at, entry.source,
                entry.keyword, entry.message_id]);
        }
    }

    function clearTimeline() {
        els.timeline.textContent = '';
        state.timeline.clear();
    }

    /* A page of the timeline after what is shown, and a button for the
     * next while there is one (its focus, when it goes, to the
     * timeline's title). */
    function showTimeline(page) {
        (page.items || []).forEach((entry) => {
            const key = timelineKey(entry);
            if (!state.timeline.has(key)) {
                const li = timelineItem(entry);
                state.timeline.set(key, { li: li,
                                          json: JSON.stringify(entry) });
                els.timeline.appendChild(li);
            }
        });
        state.timelineCursor = page.next_cursor || null;
        const more = state.timelineCursor !== null;
        if (!more && document.activeElement === els.timelineMore) {
            els.timelineTitle.focus();
        }
        els.timelineMore.hidden = !more;
    }

    /* The first page read again (a message came, a tick moved): its new
     * entries on top, the changed ones drawn again where they are, and
     * the older pages "Show older" brought kept with their cursor.  An
     * entry shown above the last one the page still has, and that it
     * has not, is gone.  A page that reaches nothing shown (more came
     * than a page holds) starts the timeline over. */
    function mergeTimeline(page) {
        const items = page.items || [];
        const keys = items.map(timelineKey);
        const fresh = new Set(keys);
        if (state.timeline.size === 0 || (page.next_cursor
            && !keys.some((key) => state.timeline.has(key))))
        {
            clearTimeline();
            showTimeline(page);
            return;
        }
        const keyOf = new Map();
        state.timeline.forEach((shown, key) => keyOf.set(shown.li, key));
        const before = Array.from(els.timeline.children,
            (li) => keyOf.get(li));
        let reached = -1;
        before.forEach((key, i) => {
            if (fresh.has(key)) {
                reached = i;
            }
        });
        before.slice(0, reached).forEach((key) => {
            if (!fresh.has(key)) {
                state.timeline.get(key).li.remove();
                state.timeline.delete(key);
            }
        });
        let next = els.timeline.firstChild;
        items.forEach((entry, i) => {
            const json = JSON.stringify(entry);
            const had = state.timeline.get(keys[i]);
            let li = had ? had.li : null;
            if (!had || had.json !== json) {
                li = timelineItem(entry);
                if (had) {
                    if (next === had.li) {
                        next = li;
                    }
                    had.li.replaceWith(li);
                }
                state.timeline.set(keys[i], { li: li, json: json });
            }
            if (li === next) {
                next = next.nextSibling;
            } else {
                els.timeline.insertBefore(li, next);
            }
        });
    }

    async function olderTimeline() {
        const id = state.contactId;
        const cursor = state.timelineCursor;
        if (id === null || cursor === null) {
            return;
        }
        try {
            const page = await api('/api/v1/contacts/'
                + encodeURIComponent(id) + '/timeline?cursor='
                + encodeURIComponent(cursor));
            if (state.contactId === id && state.timelineCursor === cursor) {
                showTimeline(page);
                contactReadAgain(id, true);
            }
        } catch (err) {
            if (!failed(err) && state.contactId === id) {
                contactReadFailed(id, true,
                                  'Could not load older entries: '
                                  + whyNot(err));
            }
        }
    }

    /* The panel's field a refusal names (400 "timezone"), marked and
     * tied to the message that says why; the others are cleared. */
    function contactFieldOf(name) {
        switch (String(name || '').split('.')[0]) {
        case 'name':
            return els.contactName;
        case 'tags':
            return els.contactTags;
        case 'timezone':
            return els.contactZone;
        default:
            return null;
        }
    }

    function clearContactInvalid() {
        invalid.clearAll(els.contactForm, els.contactError);
    }

    function onContactSubmit(event) {
        event.preventDefault();
        whileBusy(els.contactForm.querySelector('button[type=submit]'),
            saveContact);
    }

    async function saveContact() {
        const id = state.contactId;
        if (id === null) {
            return;
        }
        /* only what was changed here: a colleague's rename or tags meanwhile
         * stay; each tag is a chip, sent as it is, commas and all */
        const shown = state.contactShown || {};
        const body = {};
        const name = els.contactName.value.trim();
        const tags = contactTags.get();
        if (name !== (shown.name || '')) {
            body.name = name === '' ? null : name;
        }
        if (!sameTags(tags, shown.tags || [])) {
            body.tags = tags;
        }
        const zone = els.contactZone.value.trim();
        if (zone !== (shown.timezone || '')) {
            body.timezone = zone === '' ? null : zone;
        }
        if (Object.keys(body).length === 0) {
            els.contactStatus.textContent = 'Nothing to save.';
            return;
        }
        state.contactSaving = true;
        /* a "Saved." of the save before would sit over this one's
         * refusal */
        els.contactStatus.textContent = '';
        els.contactError.textContent = '';
        clearContactInvalid();
        try {
            const contact = await api('/api/v1/contacts/'
                + encodeURIComponent(id), { method: 'PATCH', body: body });
            if (state.contactId !== id) {
                return;
            }
            fillContact(contact);
            if ('tags' in body) {
                staleTags();
            }
            els.contactStatus.textContent = 'Saved.';
            /* the thread list and header show the new name at once */
            for (const conv of state.conversations.values()) {
                if (conv.contact.id === id) {
                    conv.contact.name = contact.name;
                    rowChanged(conv.id);
                    if (conv.id === state.openId) {
                        fillThreadHeader(conv);
                    }
                }
            }
            renderList();
        } catch (err) {
            if (!failed(err)) {
                els.contactError.textContent = 'Could not save: '
                    + whyNot(err);
                const el = err.status === 400 && err.error
                    && state.contactId === id
                    ? contactFieldOf(err.error.field) : null;
                if (el) {
                    invalid.mark(el, els.contactError);
                }
            }
        } finally {
            state.contactSaving = false;
        }
    }

    /* ---- realtime ---- */

    /* The list, the open thread and its contact panel reloaded over HTTP
     * (what the socket may have missed), keeping as much of the list as
     * was shown, the thread's reader where they were (showNewestPages)
     * and what is being typed in the panel; the other views
     * hear of it (resync).  What came meanwhile is read once the open
     * thread shows it, whatever the list says: a filter chosen while the
     * list was read drops that read, and the thread's count with it. */
    function resync() {
        const id = state.openId;
        const list = loadList(true);
        if (id) {
            Promise.all([list, loadNewestMessages()])
                .then(() => markRead(id, true));
        }
        if (state.contactId !== null && !state.contactSaving) {
            openContact(true);
        }
        notify('resync', null);
    }

    /* contacts.imported: an import changed more contacts than it names
     * one by one.  The list, the open thread's header and its contact
     * panel are read again, once for the events of a burst of batches. */
    function importedSoon() {
        if (state.importedTimer !== null) {
            return;
        }
        state.importedTimer = setTimeout(() => {
            state.importedTimer = null;
            loadList(true);
            if (state.openId) {
                reloadConversation(state.openId);
            }
            if (state.contactId !== null && !state.contactSaving) {
                openContact(true);
            }
        }, IMPORTED_DELAY_MS);
    }

    /* message.created or message.status of the thread whose contact the
     * panel shows: its timeline, campaigns and answers are read again
     * (what is being typed there stays), once for a burst. */
    function contactPanelSoon(conversationId) {
        const conv = state.conversations.get(conversationId);
        if (state.contactId === null
            || (conv ? conv.contact.id !== state.contactId
                : conversationId !== state.openId)
            || state.panelTimer !== null) {
            return;
        }
        panelLater();
    }

    function panelLater() {
        state.panelTimer = setTimeout(() => {
            state.panelTimer = null;
            if (state.contactSaving) {
                panelLater();       /* after the save's own answer */
            } else if (state.contactId !== null) {
                openContact(true);
            }
        }, PANEL_DELAY_MS);
    }

    function applyEvent(ev) {
        if (state.loading > 0) {
            state.pending.push(ev);
            return;
        }
        switch (ev.type) {
        case 'message.created':
            liveConversation(ev.conversation);
            if (ev.message && ev.message.conversation_id === state.openId) {
                appendMessage(ev.message, false);
                if (ev.message.direction === 'inbound') {
                    markRead(state.openId);
                }
            }
            renderListSoon();
            refreshCountsSoon();
            if (ev.message) {
                if (ev.message.direction === 'inbound') {
                    announceMessage(ev.message);
                }
                contactPanelSoon(ev.message.conversation_id);
            }
            break;
        case 'conversation.updated':
            /* starred, archived, read: it may leave or join the view */
            liveConversation(ev.conversation);
            renderListSoon();
            refreshCountsSoon();
            /* a rename: the open contact panel shows it (what is being
             * typed there stays; a save's own answer shows its own) */
            if (ev.conversation && ev.conversation.contact
                && ev.conversation.contact.id === state.contactId
                && !state.contactSaving && state.contactShown
                && (ev.conversation.contact.name || null)
                    !== (state.contactShown.name || null)) {
                openContact(true);
            }
            break;
        case 'unread.total':
            state.liveTotals += 1;
            setUnreadTotal(ev.count);
            break;
        case 'message.updated':
            /* a copy of a file landed: its thumbnail, player or download
             * replaces its placeholder */
            replaceMessage(ev.message);
            break;
        case 'message.status':
            moveStatus(ev);
            moveLastStatus(ev);
            announceOutcome(ev.id, ev.status, ev.error_code || null,
                ev.conversation_id);
            contactPanelSoon(ev.conversation_id);
            break;
        case 'contact.updated':
            /* an opt-out, or new tags (an edit's or an import's): the
             * panel reads it again */
            applyContact(ev.contact);
            break;
        case 'contacts.imported':
            importedSoon();
            break;
        case 'billing.updated':
            /* credits granted, billing or the plan changed: the header,
             * a refusal under the reply box and Settings show it */
            if (ev.billing && ev.billing.credits) {
                notify('billing', ev.billing);
            }
            break;
        case 'user.removed':
            /* their replies stay theirs */
            if (state.team.has(ev.user_id)) {
                state.team.set(ev.user_id, FORMER);
                refillAuthors();
            }
            break;
        case 'user.updated':
            /* a colleague may have changed this user's role */
            if (state.me && state.me.user
                && ev.user_id === state.me.user.id) {
                recheckRole();
            }
            break;
        default:
            break;
        }
        notify('event', ev);
    }

    function onFrame(data) {
        let ev;
        try {
            ev = JSON.parse(data);
        } catch (e) {
            return;
        }
        if (!ev || typeof ev.type !== 'string') {
            return;
        }
        if (ev.type === 'ping') {
            return;     /* heard (liveness.js): no event, no org_seq */
        }
        if (ev.type === 'hello') {
            const reconnected = state.connectedOnce;
            state.connectedOnce = true;
            state.attempt = 0;
            liveness.expect(ev.ping_secs);
            setConnection('live');
            if (reconnected) {
                readFailedAgain();
                notify('back', ev);
            }
            state.liveTotals += 1;
            setUnreadTotal(ev.unread_total);
            if (reconnected && state.lastSeq !== null
                && ev.epoch === state.epoch)
            {
                /* what happened while away comes next, in order, or a
                 * reset when the server no longer has all of it */
                sendFrame({ type: 'resume', epoch: state.epoch,
                            org_seq: state.lastSeq });
            } else {
                state.lastSeq = ev.org_seq;
                state.epoch = ev.epoch;
                /* live events from here, at once: the server holds them
                 * back a moment for a socket that might resume */
                sendFrame({ type: 'resume', epoch: ev.epoch,
                            org_seq: ev.org_seq });
                /* read again: what happened between the first read and
                 * this hello comes in no event */
                resync();
            }
            notify('connected', ev);
            notify('event', ev);
            return;
        }
        if (ev.type === 'presence') {
            notify('presence', ev);
            return;
        }
        if (ev.type === 'reset') {
            /* the gap cannot be filled: everything is read again over
             * HTTP, and the stream goes on from where the server is */
            if (typeof ev.org_seq === 'number') {
                state.lastSeq = ev.org_seq;
                state.epoch = ev.epoch;
            }
            resync();
            notify('event', ev);
            return;
        }
        if (typeof ev.org_seq === 'number' && state.lastSeq !== null) {
            if (ev.epoch === state.epoch && ev.org_seq <= state.lastSeq) {
                return;     /* already seen */
            }
            const gap = ev.epoch !== state.epoch
                || ev.org_seq > state.lastSeq + 1;
            state.lastSeq = ev.org_seq;
            state.epoch = ev.epoch;
            if (gap) {
                resync();
                return;
            }
        }
        applyEvent(ev);
    }

    /* Every view reads the role once: a new one reloads the page, as a
     * change of one's own role in the Team section does. */
    async function recheckRole() {
        try {
            const me = await api('/api/v1/me');
            if (state.me && me.role !== state.me.role) {
                window.location.reload();
            }
        } catch (err) {
            failed(err);
        }
    }

    /* A client frame (resume, presence); dropped while the socket is not
     * open, as a reconnect says everything again. */
    function sendFrame(frame) {
        if (state.ws && state.ws.readyState === WebSocket.OPEN) {
            state.ws.send(JSON.stringify(frame));
            return true;
        }
        return false;
    }

    function socketUrl(answer) {
        const u = new URL(answer.url || '/ws', location.href);
        if (u.protocol === 'http:') {
            u.protocol = 'ws:';
        } else if (u.protocol === 'https:') {
            u.protocol = 'wss:';
        }
        if (!u.searchParams.has('ticket')) {
            u.searchParams.set('ticket', answer.ticket);
        }
        return u.href;
    }

    function scheduleReconnect() {
        if (!state.signedIn || state.reconnectTimer) {
            return;
        }
        setConnection('reconnecting');
        const base = Math.min(BACKOFF_MAX_MS,
            BACKOFF_MIN_MS * Math.pow(2, state.attempt));
        const delay = base / 2 + Math.random() * base / 2;
        state.attempt += 1;
        state.reconnectTimer = setTimeout(() => {
            state.reconnectTimer = null;
            connect();
        }, delay);
    }

    async function connect() {
        const generation = ++state.wsGeneration;
        let answer;
        if (state.realtimeHold) {
            await state.realtimeHold;
            if (generation !== state.wsGeneration || !state.signedIn) {
                return;
            }
        }
        try {
            answer = await api('/api/v1/realtime/ticket', { method: 'POST' });
        } catch (err) {
            if (!failed(err)) {
                scheduleReconnect();
            }
            return;
        }
        if (generation !== state.wsGeneration || !state.signedIn) {
            return;
        }
        let ws;
        try {
            ws = new WebSocket(socketUrl(answer), 'inbox.v1');
        } catch (e) {
            scheduleReconnect();
            return;
        }
        state.ws = ws;
        liveness.start();
        ws.addEventListener('message', (e) => {
            if (generation === state.wsGeneration) {
                liveness.heard();
                onFrame(e.data);
            }
        });
        ws.addEventListener('close', (e) => {
            if (generation === state.wsGeneration) {
                state.ws = null;
                liveness.stop();
                if (e.code === ACCESS_ENDED) {
                    /* the next ticket says whether this session still
                     * works: soon, not after a backoff */
                    state.attempt = 0;
                }
                scheduleReconnect();
            }
        });
    }

    /* The sockets close while a change that ends sessions (a new
     * password) is under way: the next ticket waits for its answer,
     * which carries this browser's new session. */
    function holdRealtime(promise) {
        const hold = Promise.resolve(promise).then(() => {}, () => {});
        state.realtimeHold = hold;
        hold.then(() => {
            if (state.realtimeHold === hold) {
                state.realtimeHold = null;
            }
        });
        return promise;
    }

    /* Now rather than at the end of the backoff, asked to from the
     * banner (shown only while signed in and down). */
    function reconnectNow() {
        if (state.ws) {
            return;
        }
        clearTimeout(state.reconnectTimer);
        state.reconnectTimer = null;
        state.attempt = 0;
        connect();
    }

    function disconnect() {
        dropSocket();
        clearTimeout(state.reconnectTimer);
        state.reconnectTimer = null;
    }

    /* The socket is let go: its late frames and its close, which may
     * come minutes later or never, are ignored. */
    function dropSocket() {
        state.wsGeneration += 1;
        liveness.stop();
        if (state.ws) {
            state.ws.close();
            state.ws = null;
        }
    }

    /* The socket brought nothing, not even ws-server's ping, for longer
     * than the server lets pass (liveness.js): dead without a close.  A
     * new one resumes from the last org_seq applied, as after a close. */
    function socketSilent() {
        if (!state.ws) {
            return;
        }
        dropSocket();
        scheduleReconnect();
    }

    /* The browser says the network is gone, or the server did not
     * answer (unreachable): the socket cannot be heard from, and waiting
     * for its silence to pass the bound would leave the page saying
     * "live" for many seconds.  It goes now, and the page says it is
     * down (offline, while the browser knows); a new one is tried after
     * the backoff's first wait, and 'online' brings one at once. */
    function wentDown() {
        if (!state.signedIn) {
            return;
        }
        dropSocket();
        setConnection('reconnecting');
        scheduleReconnect();
    }

    /* A request met no server at all (fetch's network error): the socket
     * may be as dead, unseen until its silence passed the bound, or the
     * request alone was lost (a proxy dropped it).  While the socket is
     * believed live the server is asked at once whether it is there: an
     * answer, whatever it says, keeps the socket and says nothing (the
     * read that failed says so itself; made again, it might fail again,
     * and again); none within PROBE_MS lets the socket go, says so and
     * tries a new one, whose hello reads again what failed. */
    function unreachable() {
        if (!state.signedIn || els.conn.dataset.state !== 'live'
            || state.probe !== null)
        {
            return;
        }
        const generation = state.wsGeneration;
        state.probe = serverThere().then((there) => {
            state.probe = null;
            if (!there && generation === state.wsGeneration) {
                wentDown();
            }
        });
    }

    /* Whether the server answers a request now (its own question, not
     * through api(): a failure here is no new unreachable()). */
    async function serverThere() {
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), PROBE_MS);
        try {
            await fetch('/api/v1/me', { credentials: 'same-origin',
                                        cache: 'no-store',
                                        signal: abort.signal });
            return true;
        } catch (err) {
            return false;
        } finally {
            clearTimeout(timer);
        }
    }

    /* The socket may have died unseen: the network came back (a new
     * address, a NAT that forgot it), or the tab was hidden longer than
     * a silence may last, its timers held back and its frames maybe
     * queued, so what it heard says little.  A new socket now, which
     * resumes exactly, costs less than trusting the old one. */
    function reconnectFresh() {
        if (!state.signedIn) {
            return;
        }
        dropSocket();
        clearTimeout(state.reconnectTimer);
        state.reconnectTimer = null;
        state.attempt = 0;
        setConnection('reconnecting');
        connect();
    }

    function onVisibility() {
        if (document.hidden) {
            state.hiddenAt = Date.now();
            return;
        }
        const away = state.hiddenAt === null ? 0 : Date.now() - state.hiddenAt;
        state.hiddenAt = null;
        if (away > liveness.bound()) {
            reconnectFresh();
        }
    }

    /* ---- sign in and out ---- */

    function showSignIn(message) {
        els.session.hidden = true;
        els.app.hidden = true;
        els.signin.hidden = false;
        els.signinError.textContent = message || '';
        els.passwordInput.value = '';
        (els.emailInput.value ? els.passwordInput : els.emailInput).focus();
    }

    function startApp(me) {
        state.signedIn = true;
        state.me = me;
        delivery.readBy(me && me.role);   /* its words fit who reads */
        state.team.clear();
        state.teamRead = null;
        state.teamRetryAt = 0;
        state.bulk.clear();
        state.bulkRead += 1;
        els.signOut.title = me && me.user
            ? 'Signed in as ' + me.user.email : '';
        els.signin.hidden = true;
        els.session.hidden = false;
        els.app.hidden = false;
        setConnection('connecting');
        state.connectedOnce = false;
        state.attempt = 0;
        state.lastSeq = null;
        loadList();
        connect();
        clearInterval(state.clockTimer);
        state.clockTimer = setInterval(renderClock, 30000);
        notify('session', me);
    }

    /* Forgets everything shown; the server's session is already gone or
     * is ended by signOut (signedOut: the user signed out, here or in
     * another tab, so what they were writing goes too).  No question a
     * dialog asked stays over the sign-in form: each closes, answered
     * with nothing. */
    function endSession(message, signedOut) {
        state.signedIn = false;
        document.querySelectorAll('dialog[open]').forEach(
            (dialog) => dialog.close(''));
        disconnect();
        clearInterval(state.clockTimer);
        state.conversations.clear();
        state.listed.clear();
        state.rows.clear();
        state.changed.clear();
        cancelAnimationFrame(state.renderFrame);
        state.renderFrame = null;
        els.threads.textContent = '';
        closeThread();
        resetView();
        setUnreadTotal(0);
        announceReset();
        orgTags.list = [];
        orgTags.at = 0;
        orgTags.gen += 1;       /* a read under way is the last user's */
        orgTags.listGen = orgTags.gen;
        orgTags.loading = null;
        notify('session', null);
        if (signedOut) {
            notify('signout', null);
        }
        showSignIn(message);
    }

    /* The other tabs of this browser share its session cookie: signing
     * out in one signs them all out at once, so that none goes on
     * showing live messages to whoever sits down next.  A tab whose
     * session had ended by itself, waiting at the sign-in form, forgets
     * what it kept for the same user too. */
    const otherTabs = typeof BroadcastChannel === 'function'
        ? new BroadcastChannel('inbox-session') : null;

    if (otherTabs) {
        otherTabs.addEventListener('message', (e) => {
            if (e.data !== 'signed-out') {
                return;
            }
            if (state.signedIn) {
                endSession('You signed out in another tab.', true);
            } else {
                notify('signout', null);
            }
        });
    }

    async function signOut() {
        endSession('', true);
        if (otherTabs) {
            otherTabs.postMessage('signed-out');
        }
        try {
            await fetch('/api/v1/auth/logout', {
                method: 'POST',
                credentials: 'same-origin',
                headers: { 'X-Requested-With': 'inbox' },
            });
        } catch (e) {
            /* the cookie stays until it expires; nothing shows it */
        }
    }

    /* What the sign-in form says when the server refuses. */
    async function signInRefusal(res) {
        let json = null;
        try {
            json = await res.json();
        } catch (e) {
            json = null;
        }
        if (res.status === 401) {
            return 'That email and password do not match. Try again.';
        }
        if (res.status === 429) {
            const wait = Number(res.headers.get('Retry-After')) || 60;
            return 'Too many failed sign-ins. Wait ' + (wait > 90
                ? Math.ceil(wait / 60) + ' minutes' : wait + ' seconds')
                + ' and try again.';
        }
        if (json && json.error && json.error.message) {
            return json.error.message;
        }
        return 'The server answered ' + res.status + '. Try again.';
    }

    function onSignInSubmit(event) {
        event.preventDefault();
        whileBusy(els.signinForm.querySelector('button[type=submit]'),
            signIn);
    }

    async function signIn() {
        const email = els.emailInput.value.trim();
        const password = els.passwordInput.value;
        if (!email || !password) {
            els.signinError.textContent =
                'Enter your email address and password.';
            (email ? els.passwordInput : els.emailInput).focus();
            return;
        }
        els.signinError.textContent = '';
        try {
            const res = await fetch('/api/v1/auth/login', {
                method: 'POST',
                credentials: 'same-origin',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ email: email, password: password }),
            });
            if (!res.ok) {
                els.signinError.textContent = await signInRefusal(res);
                /* a password refused is typed again; one the server
                 * could not check yet (503: busy) is kept for a retry */
                if (res.status === 401 || res.status === 429) {
                    els.passwordInput.value = '';
                }
                els.passwordInput.focus();
                return;
            }
            els.passwordInput.value = '';
            startApp(await res.json());
        } catch (err) {
            els.signinError.textContent =
                'Could not reach the server. Try again.';
        }
    }

    /* On load: signed in already when the cookie's session still counts. */
    async function resume() {
        localStorage.removeItem(OLD_TOKEN_KEY);
        try {
            const res = await fetch('/api/v1/me',
                { credentials: 'same-origin' });
            if (res.ok) {
                startApp(await res.json());
                return;
            }
            showSignIn(res.status === 401 ? ''
                : 'The server answered ' + res.status + '. Try again.');
        } catch (err) {
            showSignIn('Could not reach the server. Try again.');
        }
    }

    /* ---- the organization's tags ---- */

    /* GET /api/v1/tags (each tag once in any case, the first 1,000 by
     * name), read again 30 s after the last read or once stale.  A read
     * under way when contacts changed may not count the change: it is
     * not waited for, and what it brings is fresh for nobody after;
     * an older read answering last does not undo a newer one. */
    async function orgTagList() {
        if (orgTags.loading && orgTags.loadingGen === orgTags.gen) {
            return orgTags.loading;
        }
        if (orgTags.listGen === orgTags.gen
            && Date.now() - orgTags.at < TAGS_FRESH_MS) {
            return orgTags.list;
        }
        const gen = orgTags.gen;
        orgTags.loadingGen = gen;
        orgTags.loading = (async () => {
            try {
                const page = await api('/api/v1/tags');
                if (gen >= orgTags.listGen) {
                    orgTags.list = page.items || [];
                    orgTags.listGen = gen;
                    orgTags.at = Date.now();
                }
            } catch (err) {
                failed(err);        /* typed tags still work */
            } finally {
                if (orgTags.loadingGen === gen) {
                    orgTags.loading = null;
                }
            }
            return orgTags.list;
        })();
        return orgTags.loading;
    }

    /* contacts and their tags changed (an import, an edit, an opt-out) */
    function staleTags() {
        orgTags.gen += 1;
    }

    /* ---- what composer.js sees of the app ---- */

    const hooks = { session: [], signout: [], thread: [], event: [],
                    connected: [], back: [], presence: [], resync: [],
                    billing: [], resend: [] };

    /* session: the signed-in user (/me), null once signed out;
     * signout: after session's null, when the user chose to sign out
     * (here or in another tab), not when the session expired;
     * thread: the open thread's conversation whenever it is shown anew
     * (opened, changed, its contact opted out), null once closed;
     * event: each realtime frame, after the app applied it;
     * billing: the billing as GET /api/v1/billing has it, newer than
     * any read out now (a view read it, or a billing.updated came);
     * resync: frames may have been missed (a reset, a hello of another
     * epoch, a gap): what a view read over HTTP is to be read again;
     * back: the socket is back after being down (offline, say): a read
     * that failed meanwhile is to be made again, not left failed;
     * resend: Send again pressed ({message, button, say, sent},
     * resendOffer). */
    function notify(kind, detail) {
        hooks[kind].forEach((fn) => fn(detail));
    }

    /* A message the open thread should show now (the answer to a send);
     * shown once, whatever else brings it.  Its final status is said
     * (its frame may have come first). */
    function showMessage(m) {
        if (!m || !m.id) {
            return;
        }
        if (!state.mine.has(m.id)) {
            state.mine.set(m.id, null);
        }
        if (m.conversation_id === state.openId) {
            appendMessage(m, false);
            /* one's own reply is seen to go, wherever the thread was */
            showNewest();
        }
        const now = state.shown.get(m.id) || m;
        announceOutcome(m.id, now.status, now.error_code || null,
            m.conversation_id);
    }

    /* The id of the newest message the open thread shows (what a reply
     * written now answers), or null before its messages are in. */
    function newestMessageId() {
        let newest = null;
        state.shown.forEach((m) => {
            if (newest === null || Date.parse(m.created_at)
                > Date.parse(newest.created_at)
                || (m.created_at === newest.created_at
                    && (m.id.length - newest.id.length || (m.id > newest.id
                        ? 1 : m.id < newest.id ? -1 : 0)) > 0))
            {
                newest = m;
            }
        });
        return newest ? newest.id : null;
    }

    /* The conversation as the server has it now (a send refused because
     * its contact opted out: the thread says so). */
    async function reloadConversation(id) {
        const changes = state.liveChanges.get(id) || 0;
        try {
            answeredConversation(await api('/api/v1/conversations/'
                + encodeURIComponent(id)), id, changes);
            renderList();
        } catch (err) {
            failed(err);
        }
    }

    window.inboxApp = Object.freeze({
        api: api,
        failed: failed,
        whyNot: whyNot,
        showMessage: showMessage,
        reloadConversation: reloadConversation,
        showConversation: showConversation,
        displayName: displayName,
        bulkName: bulkName,
        phoneOf: phoneOf,
        newestMessageId: newestMessageId,
        searchText: searchText,
        tags: orgTagList,
        staleTags: staleTags,
        announce: announce,
        sendFrame: sendFrame,
        holdRealtime: holdRealtime,
        on: (kind, fn) => hooks[kind].push(fn),
        /* a view read GET /api/v1/billing: the header shows it too */
        billing: (b) => notify('billing', b),
    });

    els.signinForm.addEventListener('submit', onSignInSubmit);
    els.signOut.addEventListener('click', () => signOut());
    $('back').addEventListener('click', () => {
        if (contactKept('choose Back')) {
            return;
        }
        leaveThread();
    });
    els.tabs.forEach((tab) => tab.addEventListener('click',
        () => setFilter(tab.dataset.filter)));
    /* the first page again after it failed (once at a time), else the
     * next one */
    els.listRetry.addEventListener('click', () => (state.listFailed !== null
        ? whileBusy(els.listRetry, () => loadList(false, state.listAgain))
        : loadMore()));
    els.search.addEventListener('input', () => {
        clearTimeout(state.searchTimer);
        state.searchTimer = setTimeout(() => setSearch(els.search.value),
            SEARCH_DELAY_MS);
    });
    els.search.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') {
            setSearch(els.search.value);
        }
    });
    document.addEventListener('keydown', onKey);
    els.actStar.addEventListener('click', toggleStar);
    els.actArchive.addEventListener('click', toggleArchive);
    els.actUnread.addEventListener('click',
        () => markUnread('choose Mark unread'));
    window.inboxZones.offerTo(els.contactZone);
    /* the name opens the record (and leaves one open as it is) */
    els.threadName.addEventListener('click', () => {
        if (state.contactId === null) {
            openContact();
        }
    });
    els.actContact.addEventListener('click', () => {
        if (state.contactId !== null) {
            leaveContact('choose Contact');
        } else {
            openContact();
        }
    });
    $('contact-close').addEventListener('click', () => {
        leaveContact('choose Close');
    });
    els.contactForm.addEventListener('submit', onContactSubmit);
    [els.contactName, els.contactTags, els.contactZone].forEach((el) =>
        el.addEventListener('input', () => invalid.clear(el,
                                                         els.contactError)));
    els.newBelow.addEventListener('click', showNewest);
    els.messages.addEventListener('load', keepNewest, true);
    els.messages.addEventListener('loadedmetadata', keepNewest, true);
    new ResizeObserver(keepNewest).observe(els.messages);
    els.messages.addEventListener('scroll', () => {
        /* only a scroll up leaves the foot: one down to it is seen after
         * the frame's layout, which an image above that loaded meanwhile
         * made taller (its load then found the thread left) */
        const top = els.messages.scrollTop;
        state.atNewest = atNewest()
            || (state.atNewest && top >= state.lastScrollTop);
        state.lastScrollTop = top;
        if (state.atNewest) {
            hideNewBelow();
        }
    }, { passive: true });
    els.timelineMore.addEventListener('click',
        () => whileBusy(els.timelineMore, olderTimeline));
    els.actOptout.addEventListener('click', confirmOptout);
    els.optoutDialog.addEventListener('close', () => {
        const id = state.openId;
        if (els.optoutDialog.returnValue === 'optout' && id) {
            optOut(id);
        }
    });
    /* the open thread seen again: the Inbox view shown, the tab back */
    els.app.addEventListener('inbox:show', () => markRead(state.openId));
    document.addEventListener('visibilitychange',
        () => markRead(state.openId));
    document.addEventListener('visibilitychange', onVisibility);
    els.liveRetry.addEventListener('click', reconnectNow);
    window.addEventListener('online', reconnectFresh);
    window.addEventListener('offline', wentDown);

    /* once every deferred script ran: composer.js hooks in first */
    document.addEventListener('DOMContentLoaded', resume, { once: true });
})();
