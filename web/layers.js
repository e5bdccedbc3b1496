/*
 * The inbox's layers in the browser's history: the open thread over the
 * list, the contact's record over the thread.  Each layer shown has an
 * entry of its own above the Inbox view's ({ inboxLayer: 1 } the thread,
 * 2 the record, the page's address unchanged), so that Back (a phone's
 * back gesture) closes the top one as Esc does rather than leaving the
 * page.  Another thread opened in the open one's place adds none: two
 * entries at most, however many threads were read.  A layer closed
 * another way (Esc, Close, the thread's Back, u) takes its entry with it
 * (history.go back), so that the next Back goes where it would have
 * gone; Forward to an entry whose layer is closed comes back at once.
 *
 * The same on every width: one that changes while a layer is open (a
 * phone turned, a window resized) keeps its history right, and Back
 * closes what Esc closes.
 *
 * inboxLayers(depth, closeTo): depth() says what the app shows (0 the
 * list, 1 a thread, 2 its record), closeTo(n) closes the layers above n
 * (a record's unsaved edits keep it, said).  The app calls shown() when
 * what it shows changes.  A Back or Forward between views (the page's
 * #fragment, views.js) leaves the layers as they are, as the hidden
 * view keeps them.
 */
'use strict';

(function (global) {
    function inboxLayers(depth, closeTo) {
        let going = false;          /* our own history.go under way */
        let href = location.href;   /* the entry's view */
        let was = 0;                /* the depth the history matches */

        function entryDepth() {
            const s = history.state;
            return s && Number.isInteger(s.inboxLayer) ? s.inboxLayer : 0;
        }

        /* the history made to match what is shown; while our own
         * history.go is under way, once it has come */
        function sync() {
            if (going) {
                return;
            }
            const want = depth();
            was = want;
            let at = entryDepth();
            if (want < at) {
                going = true;
                history.go(want - at);
                return;
            }
            while (at < want) {
                at += 1;
                history.pushState({ inboxLayer: at }, '');
            }
            href = location.href;
        }

        /* only when the depth changed: the record read again (while
         * another view is shown too, its entry not the Inbox's) is none */
        function shown() {
            if (depth() !== was) {
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
            if (!ours && entryDepth() < depth()) {
                closeTo(entryDepth());
            }
            /* a layer kept (its entry again), one opened meanwhile, or
             * Forward to one closed (back again) */
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
