/*
 * Presence: who else has the open thread in front of them ("Ana is
 * viewing", "Ana is typing…"), and telling the others about us.
 *
 * We say "viewing" when a thread opens and while it stays open, the
 * Inbox view is shown and the tab is visible (again every KEEPALIVE_MS,
 * since the server forgets a browser that goes quiet), "typing" at most
 * every TYPING_EVERY_MS while keys go into the composer, and "idle" when
 * the thread closes, another view is shown or the tab is hidden.
 * Others' presence is shown for the open thread only, and forgotten when
 * it expires (the frame says when), so a browser that vanished stops
 * being shown by itself.
 *
 * What it uses of the app is window.inboxApp: sendFrame and
 * on(session|thread|connected|presence).
 */
'use strict';

(function (app) {
    const KEEPALIVE_MS = 10000;
    const TYPING_EVERY_MS = 2000;
    const TYPING_FOR_MS = 4000;     /* typing stops this long after a key */
    const DEFAULT_EXPIRY_MS = 30000;

    const els = {
        line: document.getElementById('thread-presence'),
        inbox: document.getElementById('app'),
        text: document.getElementById('composer-text'),
    };

    const state = {
        me: null,               /* our user id */
        openId: null,
        said: null,             /* {conversation_id, state} last sent */
        saidAt: 0,
        typingTimer: null,
        keepalive: null,
        expiry: null,
        /* "conversation id/user id" -> {conversation_id, state, name,
         * until} */
        others: new Map(),
    };

    function say(conversationId, what) {
        const frame = { type: 'presence', conversation_id: conversationId,
                        state: what };
        if (app.sendFrame(frame)) {
            state.said = frame;
            state.saidAt = Date.now();
        }
    }

    /* What we are doing with the open thread now. */
    function current() {
        if (state.openId === null || els.inbox.hidden
            || document.visibilityState !== 'visible')
        {
            return null;
        }
        return state.typingTimer !== null ? 'typing' : 'viewing';
    }

    function update() {
        const now = current();
        const prev = state.said;
        if (prev && prev.state !== 'idle'
            && (now === null || prev.conversation_id !== state.openId))
        {
            say(prev.conversation_id, 'idle');
        }
        if (now !== null && (!state.said
            || state.said.conversation_id !== state.openId
            || state.said.state !== now))
        {
            say(state.openId, now);
        }
    }

    function onTyping() {
        if (state.openId === null) {
            return;
        }
        const wasTyping = state.typingTimer !== null;
        clearTimeout(state.typingTimer);
        state.typingTimer = setTimeout(() => {
            state.typingTimer = null;
            update();
        }, TYPING_FOR_MS);
        if (!wasTyping || Date.now() - state.saidAt >= TYPING_EVERY_MS) {
            state.said = null;      /* say it again: it is still true */
            update();
        }
    }

    function keepAlive() {
        const now = current();
        if (now !== null) {
            say(state.openId, now);
        }
    }

    /* ---- others ---- */

    function nameOf(ev) {
        const u = ev.user || {};
        return u.name || u.email || 'Someone';
    }

    function render() {
        const now = Date.now();
        const viewing = [];
        const typing = [];
        state.others.forEach((p, key) => {
            if (p.until <= now) {
                state.others.delete(key);
            } else if (p.conversation_id === state.openId) {
                (p.state === 'typing' ? typing : viewing).push(p.name);
            }
        });
        const parts = [];
        if (typing.length > 0) {
            parts.push(join(typing) + (typing.length > 1 ? ' are' : ' is')
                + ' typing\u2026');
        }
        if (viewing.length > 0) {
            parts.push(join(viewing) + (viewing.length > 1 ? ' are' : ' is')
                + ' viewing');
        }
        els.line.textContent = parts.join(' · ');
        clearTimeout(state.expiry);
        let next = Infinity;
        state.others.forEach((p) => {
            next = Math.min(next, p.until);
        });
        if (next !== Infinity) {
            state.expiry = setTimeout(render, Math.max(0, next - now) + 50);
        }
    }

    function join(names) {
        return names.length <= 2 ? names.join(' and ')
            : names.slice(0, -1).join(', ') + ' and '
              + names[names.length - 1];
    }

    function onPresence(ev) {
        const id = ev.user && ev.user.id;
        if (typeof ev.conversation_id !== 'string' || !id
            || id === state.me)
        {
            return;
        }
        /* one entry per user and thread: a user in two tabs counts once */
        const key = ev.conversation_id + '/' + id;
        if (ev.state === 'idle') {
            state.others.delete(key);
        } else {
            const ms = typeof ev.expires_in === 'number'
                ? ev.expires_in * 1000 : DEFAULT_EXPIRY_MS;
            state.others.set(key, { conversation_id: ev.conversation_id,
                state: ev.state, name: nameOf(ev), until: Date.now() + ms });
        }
        render();
    }

    /* ---- the app's moments ---- */

    app.on('session', (me) => {
        state.me = me && me.user ? me.user.id : null;
        state.others.clear();
        state.said = null;
        clearInterval(state.keepalive);
        state.keepalive = me ? setInterval(keepAlive, KEEPALIVE_MS) : null;
        render();
    });
    app.on('thread', (conv) => {
        state.openId = conv ? conv.id : null;
        if (!conv) {
            clearTimeout(state.typingTimer);
            state.typingTimer = null;
        }
        update();
        render();
    });
    app.on('connected', () => {
        /* a new socket: the server knows nothing of us yet, and what it
         * knows of the others comes again */
        state.said = null;
        state.others.clear();
        update();
        render();
    });
    app.on('presence', onPresence);
    els.text.addEventListener('input', onTyping);
    document.addEventListener('visibilitychange', update);
    /* another view shown (views.js hides the Inbox's element) or back */
    new MutationObserver(update).observe(els.inbox,
        { attributes: true, attributeFilter: ['hidden'] });
})(window.inboxApp);
