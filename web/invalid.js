/*
 * A field a refusal is about, as a screen reader should meet it: marked
 * invalid (aria-invalid), described by the words that say why
 * (aria-describedby: the refusal's element added to the field's own
 * hints, which stay), and focused; cleared when the field is edited or
 * the next try begins.  Only the refusal's id is added and taken out,
 * so hints a view sets on a field meanwhile are kept.
 *
 * Used by app.js (the contact panel), composer.js (the reply box),
 * bulk.js (the Campaigns and Polls forms), settings.js, contacts.js,
 * team.js and password.js: window.inboxInvalid.
 */
'use strict';

window.inboxInvalid = (function () {
    function idsOf(el) {
        return (el.getAttribute('aria-describedby') || '').split(/\s+/)
            .filter((id) => id !== '');
    }

    /* el described by the element errorId names as well (on), or no
     * longer (off); its other descriptions stay, in their order */
    function describe(el, errorId, on) {
        const ids = idsOf(el).filter((id) => id !== errorId);
        if (on) {
            ids.push(errorId);
        }
        if (ids.length === 0) {
            el.removeAttribute('aria-describedby');
        } else {
            el.setAttribute('aria-describedby', ids.join(' '));
        }
    }

    /* The refusal shown in error is about field: marked, described by
     * it, and focused (focus: the element that takes the focus for a
     * field that cannot, and is described; field itself by default). */
    function mark(field, error, focus) {
        const target = focus || field;
        field.setAttribute('aria-invalid', 'true');
        describe(target, error.id, true);
        target.focus();
    }

    /* field edited: the refusal is about it no more */
    function clear(field, error) {
        field.removeAttribute('aria-invalid');
        describe(field, error.id, false);
    }

    /* a new try: no field of form is refused by error */
    function clearAll(form, error) {
        form.querySelectorAll('[aria-invalid]').forEach(
            (el) => el.removeAttribute('aria-invalid'));
        form.querySelectorAll('[aria-describedby]').forEach(
            (el) => describe(el, error.id, false));
    }

    return Object.freeze({ describe, mark, clear, clearAll });
})();
