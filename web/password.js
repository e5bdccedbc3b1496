/*
 * The Settings view's "Your password" form: POST /api/v1/me/password
 * with the current and the new password.  The server ends every other
 * session and gives this browser a new one with its answer; the user's
 * WebSockets close on it, and this browser's reconnects once the answer
 * is in (holdRealtime).  A refusal names its field (a wrong current
 * password, a new one too short) and is shown there.
 *
 * What it uses of the app is window.inboxApp (api, failed, holdRealtime,
 * on); its button is busy.js's (window.inboxBusy).
 */
'use strict';

(function (app, busy) {
    const invalid = window.inboxInvalid;
    const $ = (id) => document.getElementById(id);

    const els = {
        form: $('password-form'),
        current: $('password-current'),
        next: $('password-new'),
        error: $('password-error'),
        save: $('password-save'),
        status: $('password-status'),
    };

    /* the field a 400 names -> its input */
    const FIELDS = {
        current_password: els.current,
        new_password: els.next,
    };

    function clear() {
        els.error.textContent = '';
        els.status.textContent = '';
        Object.values(FIELDS).forEach((el) => invalid.clear(el, els.error));
    }

    async function change() {
        clear();
        try {
            /* the server closes this user's sockets on it; this
             * browser's opens again in the session the answer sets */
            await app.holdRealtime(app.api('/api/v1/me/password',
                { method: 'POST',
                  body: { current_password: els.current.value,
                          new_password: els.next.value } }));
            els.form.reset();
            els.status.textContent = 'Your password is changed.';
        } catch (err) {
            if (app.failed(err)) {
                return;
            }
            els.error.textContent = typeof err.status === 'number'
                ? err.message : 'The server could not be reached. Try again.';
            const el = err.error && FIELDS[err.error.field];
            if (el) {
                invalid.mark(el, els.error);
            }
        }
    }

    els.form.addEventListener('submit', (event) => {
        event.preventDefault();
        busy.whileBusy(els.save, change);
    });

    /* someone else signing in here does not find the last one's words */
    app.on('session', () => {
        els.form.reset();
        clear();
    });
})(window.inboxApp, window.inboxBusy);
