/*
 * The app's five views and the links between them in the header:
 * Inbox (app.js), Campaigns (campaigns.js), Polls (polls.js), Contacts
 * (contacts.js, contacts-import.js) and Settings (settings.js).  The
 * view is the page's #fragment, so the browser's Back goes to the one
 * before (from the Inbox once its thread and record are closed, each
 * its own Back: layers.js) and a reload stays where it was.
 *
 * Showing a view tells it with an "inbox:show" event on its element (it
 * reads its list again then); the hidden ones keep their state, and the
 * inbox's keys work only while it is shown (app.js ignores them while
 * its element is hidden).
 *
 * What it uses of the app is window.inboxApp: on(session).
 */
'use strict';

(function (app) {
    const VIEWS = new Map([
        ['inbox', document.getElementById('app')],
        ['campaigns', document.getElementById('campaigns-view')],
        ['polls', document.getElementById('polls-view')],
        ['contacts', document.getElementById('contacts-view')],
        ['settings', document.getElementById('settings-view')],
    ]);

    const nav = document.getElementById('views');
    const links = Array.from(nav.querySelectorAll('a[data-view]'));

    const state = {
        signedIn: false,
        shown: null,
    };

    function wanted() {
        const name = location.hash.replace(/^#/, '');
        return VIEWS.has(name) ? name : 'inbox';
    }

    function show(focus) {
        if (!state.signedIn) {
            return;
        }
        const name = wanted();
        VIEWS.forEach((el, key) => {
            el.hidden = key !== name;
        });
        links.forEach((a) => {
            if (a.dataset.view === name) {
                a.setAttribute('aria-current', 'page');
            } else {
                a.removeAttribute('aria-current');
            }
        });
        const el = VIEWS.get(name);
        if (state.shown !== name) {
            state.shown = name;
            el.dispatchEvent(new CustomEvent('inbox:show'));
            /* where a screen reader's user chose to go */
            const heading = el.querySelector('[data-view-heading]');
            if (focus && heading) {
                heading.focus();
            }
        }
    }

    app.on('session', (me) => {
        state.signedIn = Boolean(me);
        state.shown = null;
        nav.hidden = !me;
        if (me) {
            show(false);
        } else {
            VIEWS.forEach((el, key) => {
                if (key !== 'inbox') {
                    el.hidden = true;
                }
            });
        }
    });
    window.addEventListener('hashchange', () => show(true));
})(window.inboxApp);
