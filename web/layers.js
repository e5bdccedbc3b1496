/*
 * The inbox's layers in the browser's history: the open thread over the
 * list, the contact's record over the thread.  Each layer shown has an
 * entry of its own above the Inbox view's ({ inboxLayer: 1 } the thread,
 * 2 the record, each with the open thread's id; the page's address
 * unchanged), so that Back (a phone's back gesture) closes the top one
 * as Esc does rather than leaving the page.  Another thread opened in
 * the open one's place adds none (the entry now names it): two entries
 * at most, however many threads were read.  A layer closed another way
 * (Esc, Close, the thread's Back, u, /) takes its entry with it
 * (history.go back), so that the next Back goes where it would have
 * gone.
 *
 * Forward onto a closed layer's entry opens again what it names, as a
 * page's Forward shows again what Back left: the thread (and its record
 * at 2) where the list or that same thread is shown.  Where another
 * thread took its place meanwhile (a row, j, k: a new page, which would
 * have dropped the Forward), or the app cannot open it, the entry is
 * left at once, back where it came from.
 *
 * The same on every width: one that changes while a layer is open (a
 * phone turned, a window resized) keeps its history right, and Back
 * closes what Esc closes.
 *
 * inboxLayers({ depth, thread, closeTo, reopen }): depth() says what the
 * app shows (0 the list, 1 a thread, 2 its record) and thread() which
 * thread (null none); closeTo(n) closes the layers above n (a record's
 * unsaved edits keep it, said), reopen(n, id) opens thread id and the
 * layers up to n (not at all where it cannot).  The app calls shown()
 * when what it shows changes.  A Back or Forward between views (the
 * page's #fragment, views.js) leaves the layers as they are, as the
 * hidden view keeps them.
 */
'use strict';

(function (global) {
    function inboxLayers(app) {
        let going = false;          /* our own history.go under way */
        let opening = false;        /* reopen() under way */
        let href = location.href;   /* the entry's view */
        let was = 0;                /* the depth the history matches */
        let wasThread = null;       /* and the thread */

        function entryDepth() {
            const s = history.state;
            return s && Number.isInteger(s.inboxLayer) ? s.inboxLayer : 0;
        }

        function entryThread() {
            const s = history.state;
            return s && typeof s.thread === 'string' ? s.thread : null;
        }

        /* the history made to match what is shown; while our own
         * history.go is under way, once it has come */
        function sync() {
            if (going || opening) {
                return;
            }
            const want = app.depth();
            const thread = app.thread();
            was = want;
            wasThread = thread;
            let at = entryDepth();
            if (want < at) {
                going = true;
                history.go(want - at);
                return;
            }
            /* a layer's entry (only the Inbox's are) names the thread
             * shown now, so that Forward back to it opens that one */
            if (at > 0 && entryThread() !== thread) {
                history.replaceState({ inboxLayer: at, thread }, '');
            }
            while (at < want) {
                at += 1;
                history.pushState({ inboxLayer: at, thread }, '');
            }
            href = location.href;
        }

        /* only when the depth or the thread changed: the record read
         * again (while another view is shown too, its entry not the
         * Inbox's) is none */
        function shown() {
            if (app.depth() !== was || app.thread() !== wasThread) {
                sync();
            }
        }

        window.addEventListener('popstate', () => {
            const ours = going;
            const moved = location.href !== href;
            going = false;
            href = location.href;
            if (moved && !ours) {
                return;
            }
            const at = entryDepth();
            if (!ours && at < app.depth()) {
                app.closeTo(at);
            } else if (!ours && at > app.depth()) {
                /* Forward onto a closed layer's: what it names again,
                 * where nothing else took its place */
                const thread = entryThread();
                const open = app.thread();
                if (thread !== null && (open === null || open === thread)) {
                    opening = true;
                    try {
                        app.reopen(at, thread);
                    } finally {
                        opening = false;
                    }
                }
            }
            /* a layer kept (its entry again), one opened meanwhile, or
             * one not opened again on Forward (back again) */
            sync();
        });

        /* a reload shows the list: its entry is the view's again */
        if (entryDepth() !== 0) {
            history.replaceState(null, '');
        }
        return Object.freeze({ shown });
    }

    global.inboxLayers = inboxLayers;
})(window);
