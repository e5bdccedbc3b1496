/*
 * A button whose work is out: marked aria-disabled, never disabled.
 * Disabling the focused button drops the focus to the page, so that the
 * next key (j, k, e, s) acts on the thread list instead of where the
 * person was; the reply composer's Send and the campaign cards' buttons
 * were the first to work this way.  A press meanwhile is ignored here,
 * so the handler is one call at a time without a guard of its own.
 */
'use strict';

(function (global) {
    function busy(button) {
        return button.getAttribute('aria-disabled') === 'true';
    }

    /* work() (a promise) with the button marked busy until it settles;
     * its answer, or undefined when the button was busy already. */
    async function whileBusy(button, work) {
        if (busy(button)) {
            return undefined;
        }
        button.setAttribute('aria-disabled', 'true');
        try {
            return await work();
        } finally {
            button.setAttribute('aria-disabled', 'false');
        }
    }

    global.inboxBusy = Object.freeze({ busy, whileBusy });
})(window);
