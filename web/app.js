/*
 * The inbox web app: sign in with email and password (a session cookie the
 * page never sees), read the thread list and threads, and keep them
 * current from the realtime WebSocket.
 *
 * Plain DOM, no build step.  Every piece of data reaches the page through
 * textContent or a checked attribute, never as HTML.
 */
'use strict';

(function () {
    /* where an older version kept an API token: forgotten on load */
    const OLD_TOKEN_KEY = 'inbox.token';
    const LIST_LIMIT = 100;
    const MESSAGE_LIMIT = 50;
    const BACKOFF_MIN_MS = 1000;
    const BACKOFF_MAX_MS = 30000;

    const $ = (id) => document.getElementById(id);

    const els = {
        session: $('session'),
        unreadTotal: $('unread-total'),
        conn: $('conn'),
        connLabel: $('conn-label'),
        signOut: $('sign-out'),
        signin: $('signin'),
        signinForm: $('signin-form'),
        emailInput: $('email-input'),
        passwordInput: $('password-input'),
        signinError: $('signin-error'),
        app: $('app'),
        tabs: Array.from(document.querySelectorAll('.tab')),
        listStatus: $('list-status'),
        threads: $('threads'),
        threadEmpty: $('thread-empty'),
        threadView: $('thread-view'),
        threadTitle: $('thread-title'),
        threadSub: $('thread-sub'),
        messages: $('messages'),
        rowTemplate: $('thread-row'),
    };

    const state = {
        signedIn: false,
        filter: 'all',
        conversations: new Map(),   /* id -> conversation */
        rows: new Map(),            /* id -> <li> */
        openId: null,
        messageIds: new Set(),      /* messages shown in the open thread */
        olderCursor: null,
        ws: null,
        wsGeneration: 0,
        connectedOnce: false,
        attempt: 0,
        reconnectTimer: null,
        lastSeq: null,
        epoch: null,
        loading: 0,
        pending: [],                /* events that came in during a load */
        clockTimer: null,
    };

    class Unauthenticated extends Error {}

    /* ---- HTTP ---- */

    /* The session cookie goes along by itself; every change carries the
     * header the server asks of a cookie-authenticated change (another
     * site's page cannot send it). */
    async function api(path, options = {}) {
        const method = options.method || 'GET';
        const headers = {};
        if (method !== 'GET' && method !== 'HEAD') {
            headers['X-Requested-With'] = 'inbox';
        }
        if (options.body !== undefined) {
            headers['Content-Type'] = 'application/json';
        }
        const res = await fetch(path, {
            method: method,
            headers: headers,
            credentials: 'same-origin',
            body: options.body === undefined ? undefined
                : JSON.stringify(options.body),
        });
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
            const msg = json && json.error && json.error.message
                ? json.error.message : 'The server answered ' + res.status;
            throw new Error(msg);
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

    /* ---- formatting ---- */

    function formatPhone(phone) {
        const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phone || '');
        return m ? '(' + m[1] + ') ' + m[2] + '-' + m[3] : (phone || '');
    }

    function displayName(contact) {
        return contact.name ? contact.name : formatPhone(contact.phone);
    }

    function relativeTime(iso) {
        const t = Date.parse(iso);
        if (Number.isNaN(t)) {
            return '';
        }
        const ago = Date.now() - t;
        const when = new Date(t);
        const now = new Date();
        if (ago < 60 * 1000) {
            return 'now';
        }
        if (ago < 60 * 60 * 1000) {
            return Math.floor(ago / 60000) + ' min';
        }
        if (when.toDateString() === now.toDateString()) {
            return when.toLocaleTimeString([], { hour: 'numeric',
                                                 minute: '2-digit' });
        }
        if (ago < 6 * 24 * 60 * 60 * 1000) {
            return when.toLocaleDateString([], { weekday: 'short' });
        }
        return when.toLocaleDateString([], { month: 'short',
                                             day: 'numeric' });
    }

    function fullTime(iso) {
        const t = Date.parse(iso);
        return Number.isNaN(t) ? '' : new Date(t).toLocaleString();
    }

    /* A message's time: the clock time today, else the date too. */
    function messageTime(iso) {
        const t = Date.parse(iso);
        if (Number.isNaN(t)) {
            return '';
        }
        const when = new Date(t);
        const clock = when.toLocaleTimeString([], { hour: 'numeric',
                                                    minute: '2-digit' });
        if (when.toDateString() === new Date().toDateString()) {
            return clock;
        }
        return when.toLocaleDateString([], { month: 'short', day: 'numeric',
            year: when.getFullYear() === new Date().getFullYear()
                ? undefined : 'numeric' }) + ', ' + clock;
    }

    function safeUrl(url) {
        try {
            const u = new URL(url, location.href);
            return u.protocol === 'https:' || u.protocol === 'http:'
                ? u.href : null;
        } catch (e) {
            return null;
        }
    }

    /* ---- the header ---- */

    function setUnreadTotal(n) {
        const text = String(Math.max(0, Number(n) || 0));
        if (els.unreadTotal.textContent !== text) {
            els.unreadTotal.textContent = text;
        }
        document.title = Number(text) > 0 ? '(' + text + ') Inbox' : 'Inbox';
    }

    function setConnection(kind) {
        els.conn.dataset.state = kind;
        els.connLabel.textContent = kind;
    }

    /* ---- the thread list ---- */

    function visible(conv) {
        if (conv.archived) {
            return false;
        }
        if (state.filter === 'unread') {
            return conv.unread_count > 0 || conv.id === state.openId;
        }
        return true;
    }

    function sortedIds() {
        return Array.from(state.conversations.values())
            .sort((a, b) => Date.parse(b.last_activity_at)
                - Date.parse(a.last_activity_at))
            .map((c) => c.id);
    }

    function fillRow(li, conv) {
        const button = li.querySelector('.thread-row');
        const name = displayName(conv.contact);
        const lm = conv.last_message;
        const who = lm && lm.direction === 'outbound' ? 'You: ' : '';
        const text = lm ? lm.preview
            || (lm.preview === '' ? 'Picture message' : '') : '';
        const preview = who + text;
        const time = li.querySelector('.row-time');
        const badge = li.querySelector('.badge');
        const unread = conv.unread_count > 0;

        li.querySelector('.row-name').textContent = name;
        /* what contacts write is shown isolated (dir=auto, <bdi>): a
         * right-to-left override in it cannot reorder what follows */
        li.querySelector('.row-preview-who').textContent = who;
        li.querySelector('.row-preview-text').textContent = text;
        time.textContent = relativeTime(conv.last_activity_at);
        time.dateTime = conv.last_activity_at || '';
        time.title = fullTime(conv.last_activity_at);
        badge.hidden = !unread;
        badge.textContent = unread ? String(conv.unread_count) : '';
        li.classList.toggle('unread', unread);
        button.setAttribute('aria-label', name + ', '
            + (unread ? conv.unread_count + ' unread, ' : '')
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
            () => openThread(conv.id));
        return li;
    }

    /* Brings the DOM in line with state, reusing rows so focus stays. */
    function renderList() {
        const ids = sortedIds().filter(
            (id) => visible(state.conversations.get(id)));
        const keep = new Set(ids);
        for (const [id, li] of state.rows) {
            if (!keep.has(id)) {
                li.remove();
                state.rows.delete(id);
            }
        }
        let before = els.threads.firstElementChild;
        for (const id of ids) {
            let li = state.rows.get(id);
            if (!li) {
                li = makeRow(state.conversations.get(id));
                state.rows.set(id, li);
            }
            fillRow(li, state.conversations.get(id));
            if (li !== before) {
                els.threads.insertBefore(li, before);
            } else {
                before = before.nextElementSibling;
            }
        }
        els.listStatus.textContent = ids.length ? ''
            : state.filter === 'unread' ? 'No unread conversations.'
            : 'No conversations yet.';
    }

    function upsertConversation(conv) {
        if (!conv || !conv.id) {
            return;
        }
        state.conversations.set(conv.id, conv);
        if (conv.id === state.openId) {
            fillThreadHeader(conv);
        }
    }

    async function loadList() {
        state.loading += 1;
        try {
            const page = await api('/api/v1/conversations?filter='
                + encodeURIComponent(state.filter) + '&limit=' + LIST_LIMIT);
            state.conversations.clear();
            for (const conv of page.items) {
                state.conversations.set(conv.id, conv);
            }
            if (state.openId && !state.conversations.has(state.openId)) {
                /* keep the open thread's row while it is open */
                try {
                    upsertConversation(await api('/api/v1/conversations/'
                        + encodeURIComponent(state.openId)));
                } catch (e) {
                    if (failed(e)) {
                        return;
                    }
                }
            }
            setUnreadTotal(page.unread_total);
            renderList();
        } catch (err) {
            if (!failed(err)) {
                els.listStatus.textContent = 'Could not load conversations: '
                    + err.message;
            }
        } finally {
            state.loading -= 1;
            if (state.loading === 0) {
                const events = state.pending;
                state.pending = [];
                events.forEach(applyEvent);
            }
        }
    }

    function setFilter(filter) {
        state.filter = filter;
        els.tabs.forEach((tab) => tab.setAttribute('aria-pressed',
            String(tab.dataset.filter === filter)));
        loadList();
    }

    /* ---- one thread ---- */

    function fillThreadHeader(conv) {
        const c = conv.contact;
        els.threadTitle.textContent = displayName(c);
        const sub = [];
        if (c.name) {
            sub.push(formatPhone(c.phone));
        }
        if (c.opted_out) {
            sub.push('Opted out');
        }
        els.threadSub.textContent = sub.join(' · ');
    }

    function messageItem(m) {
        const li = document.createElement('li');
        li.className = 'message ' + (m.direction === 'outbound'
            ? 'outbound' : 'inbound');
        li.dataset.id = m.id;

        const bubble = document.createElement('div');
        bubble.className = 'bubble';
        if (m.body) {
            const body = document.createElement('p');
            body.className = 'body';
            body.dir = 'auto';
            body.textContent = m.body;
            bubble.appendChild(body);
        }
        (m.media || []).forEach((media, i) => {
            const href = safeUrl(media.url);
            const item = document.createElement(href ? 'a' : 'span');
            item.className = 'media';
            item.textContent = 'Attachment ' + (i + 1)
                + (media.content_type ? ' (' + media.content_type + ')' : '');
            if (href) {
                item.href = href;
                item.target = '_blank';
                item.rel = 'noopener noreferrer';
            }
            bubble.appendChild(item);
        });
        li.appendChild(bubble);

        const meta = document.createElement('p');
        meta.className = 'meta';
        const time = document.createElement('time');
        time.dateTime = m.created_at || '';
        time.textContent = messageTime(m.created_at);
        time.title = fullTime(m.created_at);
        meta.appendChild(time);
        if (m.status) {
            meta.appendChild(document.createTextNode(' · ' + m.status));
        }
        li.appendChild(meta);
        return li;
    }

    function appendMessage(m, atTop) {
        if (!m || state.messageIds.has(m.id)) {
            return;
        }
        state.messageIds.add(m.id);
        const li = messageItem(m);
        if (atTop) {
            const first = els.messages.querySelector('.message');
            els.messages.insertBefore(li, first);
        } else {
            els.messages.appendChild(li);
            li.scrollIntoView({ block: 'end' });
        }
    }

    function renderOlderButton() {
        const old = els.messages.querySelector('.older');
        if (old) {
            old.remove();
        }
        if (!state.olderCursor) {
            return;
        }
        const li = document.createElement('li');
        li.className = 'older';
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'link-button';
        button.textContent = 'Show older messages';
        button.addEventListener('click', () => loadMessages(true));
        li.appendChild(button);
        els.messages.insertBefore(li, els.messages.firstChild);
    }

    async function loadMessages(older) {
        const id = state.openId;
        let path = '/api/v1/conversations/' + encodeURIComponent(id)
            + '/messages?limit=' + MESSAGE_LIMIT;
        if (older && state.olderCursor) {
            path += '&cursor=' + encodeURIComponent(state.olderCursor);
        }
        try {
            const page = await api(path);
            if (state.openId !== id) {
                return;
            }
            if (!older) {
                els.messages.textContent = '';
                state.messageIds.clear();
            }
            /* newest first from the API; the thread reads top to bottom */
            if (older) {
                page.items.forEach((m) => appendMessage(m, true));
            } else {
                page.items.slice().reverse().forEach(
                    (m) => appendMessage(m, false));
            }
            state.olderCursor = page.next_cursor;
            renderOlderButton();
        } catch (err) {
            if (!failed(err)) {
                els.threadSub.textContent = 'Could not load messages: '
                    + err.message;
            }
        }
    }

    async function markRead(id) {
        const conv = state.conversations.get(id);
        if (!conv || conv.unread_count === 0) {
            return;
        }
        try {
            upsertConversation(await api('/api/v1/conversations/'
                + encodeURIComponent(id) + '/read', { method: 'POST' }));
            renderList();
        } catch (err) {
            failed(err);
        }
    }

    function openThread(id) {
        const conv = state.conversations.get(id);
        if (!conv) {
            return;
        }
        state.openId = id;
        state.olderCursor = null;
        els.threadEmpty.hidden = true;
        els.threadView.hidden = false;
        els.app.classList.add('thread-open');
        fillThreadHeader(conv);
        els.messages.textContent = '';
        state.messageIds.clear();
        renderList();
        loadMessages(false).then(() => markRead(id));
    }

    function closeThread() {
        state.openId = null;
        els.app.classList.remove('thread-open');
        els.threadView.hidden = true;
        els.threadEmpty.hidden = false;
        els.messages.textContent = '';
        state.messageIds.clear();
    }

    /* ---- realtime ---- */

    function resync() {
        loadList();
        if (state.openId) {
            loadMessages(false);
        }
    }

    function applyEvent(ev) {
        if (state.loading > 0) {
            state.pending.push(ev);
            return;
        }
        switch (ev.type) {
        case 'message.created':
            upsertConversation(ev.conversation);
            if (ev.message && ev.message.conversation_id === state.openId) {
                appendMessage(ev.message, false);
                if (ev.message.direction === 'inbound'
                    && document.visibilityState === 'visible') {
                    markRead(state.openId);
                }
            }
            renderList();
            break;
        case 'conversation.updated':
            upsertConversation(ev.conversation);
            renderList();
            break;
        case 'unread.total':
            setUnreadTotal(ev.count);
            break;
        case 'message.status':
            if (state.messageIds.has(ev.id)) {
                resync();
            }
            break;
        case 'contact.updated':
        case 'reset':
            resync();
            break;
        default:
            break;
        }
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
        if (ev.type === 'hello') {
            const reconnected = state.connectedOnce;
            state.connectedOnce = true;
            state.attempt = 0;
            state.lastSeq = ev.org_seq;
            state.epoch = ev.epoch;
            setConnection('live');
            setUnreadTotal(ev.unread_total);
            if (reconnected) {
                resync();
            }
            return;
        }
        if (ev.type === 'presence') {
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
        ws.addEventListener('message', (e) => {
            if (generation === state.wsGeneration) {
                onFrame(e.data);
            }
        });
        ws.addEventListener('close', () => {
            if (generation === state.wsGeneration) {
                state.ws = null;
                scheduleReconnect();
            }
        });
    }

    function disconnect() {
        state.wsGeneration += 1;
        clearTimeout(state.reconnectTimer);
        state.reconnectTimer = null;
        if (state.ws) {
            state.ws.close();
            state.ws = null;
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
        state.clockTimer = setInterval(renderList, 30000);
    }

    /* Forgets everything shown; the server's session is already gone or
     * is ended by signOut. */
    function endSession(message) {
        state.signedIn = false;
        disconnect();
        clearInterval(state.clockTimer);
        state.conversations.clear();
        state.rows.clear();
        els.threads.textContent = '';
        closeThread();
        setUnreadTotal(0);
        showSignIn(message);
    }

    async function signOut() {
        endSession('');
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

    async function onSignIn(event) {
        event.preventDefault();
        const email = els.emailInput.value.trim();
        const password = els.passwordInput.value;
        if (!email || !password) {
            els.signinError.textContent =
                'Enter your email address and password.';
            (email ? els.passwordInput : els.emailInput).focus();
            return;
        }
        const button = els.signinForm.querySelector('button[type=submit]');
        button.disabled = true;
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
                els.passwordInput.value = '';
                els.passwordInput.focus();
                return;
            }
            els.passwordInput.value = '';
            startApp(await res.json());
        } catch (err) {
            els.signinError.textContent =
                'Could not reach the server. Try again.';
        } finally {
            button.disabled = false;
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

    els.signinForm.addEventListener('submit', onSignIn);
    els.signOut.addEventListener('click', () => signOut());
    $('back').addEventListener('click', () => {
        closeThread();
        renderList();
    });
    els.tabs.forEach((tab) => tab.addEventListener('click',
        () => setFilter(tab.dataset.filter)));
    window.addEventListener('online', () => {
        if (state.signedIn && !state.ws) {
            clearTimeout(state.reconnectTimer);
            state.reconnectTimer = null;
            state.attempt = 0;
            connect();
        }
    });

    resume();
})();
