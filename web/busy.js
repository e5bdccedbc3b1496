/*
 * A button whose work is out: marked aria-disabled, never disabled.
 * Disabling the focused button drops the focus to the page, so that the
 * next key (j, k, e, s) acts on the thread list instead of where the
 * person was.  A press meanwhile is ignored by whileBusy(), so the
 * handler is one call at a time without a guard of its own; a button
 * busy for longer than one call (the composer's while its draft is sent,
 * the send confirmation's until its preview is in) is marked with
 * setBusy(), and its handler asks busy() first.
 */
'use strict';

(function (global) {
    function busy(button) {
        return button.getAttribute('aria-disabled') === 'true';
    }

    /* For a button whose busy time is not one promise's (the composer's,
     * busy while its draft is sent): its handler asks busy() first. */
    function setBusy(button, on) {
        button.setAttribute('aria-disabled', String(Boolean(on)));
    }

    /* work() (a promise) with the button marked busy until it settles;
     * its answer, or undefined when the button was busy already. */
    async function whileBusy(button, work) {
        if (busy(button)) {
            return undefined;
        }
        setBusy(button, true);
        try {
            return await work();
        } finally {
            setBusy(button, false);
        }
    }

    global.inboxBusy = Object.freeze({ busy, setBusy, whileBusy });
})(window);
