/*
 * Time zones offered to a field that takes one (Settings' and a
 * contact's): the zones this browser knows, put in the field's datalist
 * the first time any such field gets the focus.  The server checks what
 * is sent against its own tz database.
 */
'use strict';

(function () {
    function fill(list) {
        if (!list || list.childElementCount > 0
            || typeof Intl.supportedValuesOf !== 'function')
        {
            return;
        }
        Intl.supportedValuesOf('timeZone').forEach((zone) => {
            const option = document.createElement('option');
            option.value = zone;
            list.appendChild(option);
        });
    }

    window.inboxZones = Object.freeze({
        /* input: a text field whose list attribute names the datalist */
        offerTo(input) {
            input.addEventListener('focus', () => fill(input.list));
        },
    });
})();
