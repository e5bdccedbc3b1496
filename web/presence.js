/*
 * Presence: who else has the open thread in front of them ("Ana is
 * viewing", "Ana is typing…"), and telling the others about us.
 *
 * We say "viewing" when a thread opens and while it stays open, the
 * Inbox view is shown and the tab is visible (again every KEEPALIVE_MS,
 * since the server forgets a browser that goes quiet), "typing" at most
 * every TYPING_EVERY_MS while keys go into the composer, and "idle" when
 * the thread closes, another view is shown or the tab is hidden.  Each
 * goes at the pace ws-server takes (10 at once, then 2 a second; more are
 * ignored, and many in a row close the socket): one that must wait
 * replaces the one waiting, so j and k held down send where they stop.
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
    /* ws-server's bucket (ws_presence.h), less 2 for frames the network
     * bunches together */
    const PACE_BURST = 8;
    const PACE_RATE = 2;            /* a second */

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
        waiting: null,          /* the frame to send when the pace lets */
        tokens: PACE_BURST,     /* frames the pace lets go now */
        tokensAt: 0,
        paceTimer: null,
        typingTimer: null,
        keepalive: null,
        expiry: null,
        /* "conversation id/user id" -> {conversation_id, state, name,
         * until} */
        others: new Map(),
    };

    /* Sends the frame waiting, now or when the pace lets it go (a newer
     * one may replace it meanwhile). */
    function flush() {
        const frame = state.waiting;
        if (frame === null || state.paceTimer !== null) {
            return;
        }
        const now = Date.now();
        state.tokens = Math.min(PACE_BURST, state.tokens
            + (now - state.tokensAt) * PACE_RATE / 1000);
        state.tokensAt = now;
        if (state.tokens < 1) {
            state.paceTimer = setTimeout(() => {
                state.paceTimer = null;
                flush();
            }, Math.ceil((1 - state.tokens) * 1000 / PACE_RATE));
            return;
        }
        state.waiting = null;
        if (app.sendFrame(frame)) {
            state.tokens -= 1;
            state.said = frame;
            state.saidAt = now;
        }
    }

    /* Nothing waits, and the bucket is full, as a new socket's is. */
    function stopPace() {
        clearTimeout(state.paceTimer);
        state.paceTimer = null;
        state.waiting = null;
        state.tokens = PACE_BURST;
        state.tokensAt = 0;
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

    /* Tells the server what we do now, when it was told otherwise
     * (again: all the same, it is still true).  Viewing another thread
     * ends the last there; idle is said in the thread it last heard of. */
    function update(again) {
        const now = current();
        const told = state.said;
        let frame = null;
        if (now !== null) {
            frame = { type: 'presence', conversation_id: state.openId,
                      state: now };
        } else if (told && told.state !== 'idle') {
            frame = { type: 'presence', conversation_id: told.conversation_id,
                      state: 'idle' };
        }
        if (frame === null || (again !== true && told
            && told.conversation_id === frame.conversation_id
            && told.state === frame.state))
        {
            state.waiting = null;
            return;
        }
        state.waiting = frame;
        flush();
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
            update(true);
        }
    }

    function keepAlive() {
        if (current() !== null) {
            update(true);
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
        stopPace();
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
        /* a new socket: the server knows nothing of us yet (its bucket is
         * full), and what it knows of the others comes again */
        state.said = null;
        stopPace();
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
