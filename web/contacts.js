/*
 * The Contacts view: the organization's contacts (GET /api/v1/contacts,
 * newest first, PAGE at a time), searched by name or number and
 * filtered by a tag (the organization's, from GET /api/v1/tags); one
 * added by hand (POST /api/v1/contacts: the server judges the number and
 * says so next to the field, 409 when it is a contact already); a
 * contact chosen opens its record over its thread in the Inbox.
 * The list is read again whenever the view is shown, after an import
 * (contacts-import.js's "inbox:contacts" event), after a resync
 * (events missed) and, shown, after a contacts.imported (an import,
 * a colleague's or inboxctl's, changed more contacts than it names one
 * by one); the last two read it as it was shown (readAgain: as many
 * contacts as the pages shown, the search and tag, the focus and the
 * scroll position kept), the others from its first page; Show more
 * pressed while the list is read brings the page after what that read
 * shows, once it is in (its rows replace those shown: a page read
 * meanwhile would be lost or shown twice).  A
 * contact.updated (an opt-out, new tags) or a
 * conversation.updated (a new name) redraws a listed contact's row in
 * place, and a contact.updated of one not listed (a colleague's new
 * contact, an import's, a new number's first text) adds it in its
 * place when the list would have it (joinList). A read still under way
 * when a contact is added is read again, since its answer may not have
 * the new contact; the "Added" notice stays until the list is chosen
 * anew (a search, a tag, the view shown again).  A page the server ended
 * with nothing found yet (it checks so many contacts a page) is followed
 * by the next at once, "Searching…" said meanwhile.
 *
 * A new contact's tags are chips (tags.js), the organization's
 * suggested.
 *
 * What it uses of the app is window.inboxApp (api, failed, on,
 * showConversation, searchText, displayName, phoneOf) and
 * window.inboxBusy (Add contact, one add at a time),
 * window.inboxAudience, window.inboxTags, window.inboxReread (reread.js),
 * window.inboxHighlight (what a search found, marked).
 */
'use strict';

(function (app, busy, audience, tagEditor, reread) {
    const invalid = window.inboxInvalid;
    const highlight = window.inboxHighlight;
    const PAGE = 50;
    const PAGE_MAX = 200;       /* the API's largest page */
    const SEARCH_DELAY_MS = 250;
    /* contacts.imported comes once a batch of a large import: read once */
    const IMPORTED_DELAY_MS = 500;

    const $ = (id) => document.getElementById(id);
    /* ASCII case, as the server matches a tag */
    const fold = (t) => t.replace(/[A-Z]/g, (c) => c.toLowerCase());

    const els = {
        view: $('contacts-view'),
        add: $('contact-new'),
        form: $('new-contact-form'),
        submit: document.querySelector('#new-contact-form '
                                       + 'button[type="submit"]'),
        phone: $('new-contact-phone'),
        name: $('new-contact-name'),
        tags: $('new-contact-tags'),
        error: $('new-contact-error'),
        close: $('new-contact-close'),
        search: $('contacts-search'),
        tag: $('contacts-tag'),
        status: $('contacts-status'),
        title: $('contacts-title'),
        list: $('contacts-list'),
        more: $('contacts-more'),
    };

    const FIELDS = { phone: els.phone, name: els.name, tags: els.tags };

    const newTags = tagEditor.editor(els.tags);

    const state = {
        cursor: null,
        seq: 0,                 /* answers to an older read are dropped */
        reading: false,         /* a first page is on its way */
        kept: null,             /* what that read keeps (readAgain) */
        more: false,            /* a next page is on its way */
        moreAsked: false,       /* Show more pressed while the list was
                                   read: taken once it is in */
        notice: '',             /* what was just done, kept over reads */
        searchTimer: null,
        importedTimer: null,
        tagsTimer: null,
        shown: new Map(),       /* id -> the contact as its row shows it */
        search: null,           /* the search the rows are of ({q,
                                   digits}: what they mark), or null */
        failed: null,           /* the last read that failed, while it
                                   stands: 'list' or 'more' */
    };

    /* ---- the list ---- */

    function listRows() {
        return Array.from(els.list.querySelectorAll('.contact-row'));
    }

    function findRow(id) {
        return listRows().find((b) => b.dataset.id === id);
    }

    function row(c) {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'contact-row';
        button.dataset.id = c.id;
        state.shown.set(c.id, c);
        fillRow(button, c);
        button.addEventListener('click', () =>
            openContact(state.shown.get(c.id) || c));
        li.appendChild(button);
        return li;
    }

    /* A row's words, filled anew in the same button: a focused one keeps
     * the focus when its contact changes. */
    function fillRow(button, c) {
        button.textContent = '';
        const name = document.createElement('span');
        name.className = 'contact-name';
        name.dir = 'auto';
        /* what the search found marked (highlight.js) */
        if (c.name) {
            highlight.name(name, c.name, state.search);
        } else {
            highlight.phone(name, app.phoneOf(c), state.search);
        }
        button.appendChild(name);
        if (c.name) {
            const number = document.createElement('span');
            number.className = 'contact-phone';
            highlight.phone(number, app.phoneOf(c), state.search);
            button.appendChild(number);
        }
        const tags = document.createElement('span');
        tags.className = 'contact-tags';
        (c.tags || []).forEach((t) => {
            const chip = document.createElement('span');
            chip.className = 'tag';
            chip.textContent = t;
            tags.appendChild(chip);
        });
        if (c.opted_out) {
            const out = document.createElement('span');
            out.className = 'contact-opted-out';
            out.textContent = 'Opted out';
            tags.appendChild(out);
        }
        button.appendChild(tags);
    }

    /* A contact as an event has it now (contact.updated: an opt-out, an
     * opt-in, new tags; conversation.updated: its name): its rows drawn
     * again where they are, even if a search or tag it no longer matches
     * chose it (the list is read anew when chosen again).  One not
     * listed may join the list (contact.updated: a new one, joinList). */
    function applyContact(c, whole) {
        const was = c && c.id ? state.shown.get(c.id) : undefined;
        if (was === undefined) {
            if (whole) {
                joinList(c);
            }
            return;
        }
        const now = Object.assign({}, was, c);
        if (JSON.stringify(now) === JSON.stringify(was)) {
            return;
        }
        state.shown.set(c.id, now);
        els.list.querySelectorAll('.contact-row').forEach((button) => {
            if (button.dataset.id === c.id) {
                fillRow(button, now);
            }
        });
    }

    /* Whether contact a comes after b in the list: newest first, then
     * the greater id (digits, or ObjectIds: as long, compared as text). */
    function listedAfter(a, b) {
        if (a.created_at !== b.created_at) {
            return a.created_at < b.created_at;
        }
        return a.id.length !== b.id.length ? a.id.length < b.id.length
            : a.id < b.id;
    }

    /* A contact the list does not show, whole as contact.updated has it
     * (a colleague's new one, an import's, a new number's that texted, or
     * one given the list's tag): shown, the list takes it in its place
     * when it has the list's tag and falls among the rows read (or after
     * them all, the list being whole), the focus staying where it is; a
     * read under way is made again, as its answer may not have it.
     * Whether a search finds a new one is the server's to say: the list
     * is read again. */
    function joinList(c) {
        if (c.tags && c.tags.length > 0) {
            app.staleTags();    /* the audience pickers' counts */
        }
        if (els.view.hidden || !c.created_at || !c.phone) {
            return;
        }
        const rows = listRows();
        const next = rows.find((b) => {
            const shown = state.shown.get(b.dataset.id);
            return shown && listedAfter(shown, c);
        });
        if (next === undefined && state.cursor) {
            return;             /* a later page has it */
        }
        /* its name and number are as they were unless it is new, which
         * comes first: only then may a search find it anew */
        if (app.searchText(els.search.value) !== '') {
            if (next === rows[0]) {
                importedSoon();
            }
            return;
        }
        const tag = fold(els.tag.value);
        if (tag !== '' && !(c.tags || []).some((t) => fold(t) === tag)) {
            return;
        }
        const li = row(c);
        els.list.insertBefore(li, next ? next.parentNode : null);
        if (!state.notice) {
            els.status.textContent = '';
        }
        if (state.reading) {
            readUnderWayAgain();
        }
        tagsSoon();
    }

    async function openContact(c) {
        state.notice = '';
        els.status.textContent = '';
        try {
            /* the contact's record over its thread: what the name
             * chosen is for (a thread alone hid who they are) */
            await app.showConversation(c.conversation_id, true);
        } catch (err) {
            if (!app.failed(err)) {
                els.status.textContent = 'Could not open the thread: '
                    + app.whyNot(err);
            }
        }
    }

    function path(cursor, limit) {
        let p = '/api/v1/contacts?limit=' + (limit || PAGE);
        const q = app.searchText(els.search.value);
        if (q !== '') {
            p += '&q=' + encodeURIComponent(q);
        }
        if (els.tag.value !== '') {
            p += '&tag=' + encodeURIComponent(els.tag.value);
        }
        if (cursor) {
            p += '&cursor=' + encodeURIComponent(cursor);
        }
        return p;
    }

    /* The search a page (the first of a read) answered, q as asked:
     * what the rows mark, the digits of a number the server's. */
    function searchOf(page, q) {
        return q === '' ? null : { q: q, digits: page.search
            && Array.isArray(page.search.phone_digits)
            ? page.search.phone_digits : [] };
    }

    /* A read of the list that failed, unless a newer one is under way
     * (or the session ended: app.failed says so). */
    function sayReadFailed(err, seq, more) {
        if (!app.failed(err) && seq === state.seq) {
            state.failed = more ? 'more' : 'list';
            els.status.textContent = 'Could not load the contacts: '
                + app.whyNot(err);
        }
    }

    /* What the list says under it once read. */
    function sayShown() {
        els.status.textContent = state.notice
            || (els.list.childElementCount > 0 ? ''
                : (app.searchText(els.search.value) !== ''
                   || els.tag.value !== '')
                    ? 'No contact matches.' : 'No contacts yet.');
    }

    async function load(more) {
        if (more && (state.more || state.moreAsked)) {
            return;             /* a second click: one next page */
        }
        if (more && state.reading) {
            /* the rows are being read anew: the next page is read once
             * they are in, from where they end (readDone) */
            state.moreAsked = true;
            return;
        }
        const seq = more ? state.seq : ++state.seq;
        state.more = more || state.more;
        if (!more) {
            state.reading = true;
            state.kept = null;
            els.status.textContent = state.notice || 'Loading\u2026';
        }
        let shown = false;
        const q = app.searchText(els.search.value);
        try {
            let page = await app.api(path(more ? state.cursor : null));
            if (seq !== state.seq) {
                return;
            }
            /* a row read again keeps the focus it had */
            const had = !more && els.list.contains(document.activeElement)
                ? document.activeElement.dataset.id : undefined;
            if (!more) {
                els.list.textContent = '';
                state.shown.clear();
                state.search = searchOf(page, q);
            }
            /* "Show more contacts" gone with the focus hands it to the
             * first contact it brought, not to the page */
            const focused = document.activeElement === els.more;
            const shownBefore = els.list.childElementCount;
            /* The server ends a search's page after so many contacts
             * checked, even with none found, its cursor going on from
             * there: a page that brings nothing is followed at once
             * (no one would ask for "more" of nothing). */
            for (;;) {
                const items = page.items || [];
                items.forEach((c) => els.list.appendChild(row(c)));
                state.cursor = page.next_cursor || null;
                if (items.length > 0 || !state.cursor) {
                    break;
                }
                /* a button pressed stays while it is followed */
                els.more.hidden = !more;
                els.status.textContent = state.notice || 'Searching\u2026';
                page = await app.api(path(state.cursor));
                if (seq !== state.seq) {
                    return;
                }
            }
            els.more.hidden = !state.cursor;
            const first = els.list.children[shownBefore];
            if (focused && els.more.hidden) {
                (first ? first.querySelector('button') : els.title).focus();
            }
            if (had !== undefined) {
                (findRow(had) || els.title).focus();
            }
            sayShown();
            shown = true;
            state.failed = null;
        } catch (err) {
            sayReadFailed(err, seq, more);
        } finally {
            if (more) {
                state.more = false;
            } else {
                readDone(seq, shown);
            }
        }
    }

    /* A read of the rows anew over (shown: drawn), unless a newer one
     * is under way: Show more pressed meanwhile brings its page now. */
    function readDone(seq, shown) {
        if (seq !== state.seq) {
            return;
        }
        state.reading = false;
        if (state.moreAsked) {
            state.moreAsked = false;
            if (shown && state.cursor) {
                load(true);
            }
        }
    }

    /* What the list shows: how many contacts (a next page asked for
     * counted in) and the last of them. */
    function shownNow() {
        const rows = listRows();
        const last = rows.length > 0
            ? state.shown.get(rows[rows.length - 1].dataset.id) : undefined;
        return { count: rows.length + (state.more ? PAGE : 0),
                 last: last || null };
    }

    /* The list read again as the user has it (contacts changed that no
     * event names: an import's, or events missed): the same search and
     * tag, as many contacts as were shown and on to the last of them
     * (reread.js), drawn at once in place of the rows shown until then
     * (no "Loading" said over them), the focused row and the row at the
     * top of the view where they were. */
    async function readAgain() {
        const keep = shownNow();
        const seq = ++state.seq;
        state.reading = true;
        state.kept = keep;
        let shown = false;
        const q = app.searchText(els.search.value);
        try {
            const pages = await reread.pages({
                read: (cursor, limit) => app.api(path(cursor, limit)),
                page: PAGE, max: PAGE_MAX, count: keep.count,
                last: keep.last, after: listedAfter,
                current: () => seq === state.seq });
            if (pages === null) {
                return;
            }
            state.cursor = pages[pages.length - 1].next_cursor || null;
            state.search = searchOf(pages[0], q);
            showAgain(pages.flatMap((page) => page.items || []));
            sayShown();
            shown = true;
            state.failed = null;
        } catch (err) {
            sayReadFailed(err, seq);
        } finally {
            readDone(seq, shown);
        }
    }

    /* The rows read again drawn in one go, the row at the top of the
     * view (or the first below it) kept where it was on the screen and
     * a focused one keeping the focus. */
    function showAgain(items) {
        const focused = document.activeElement;
        const had = els.list.contains(focused) ? focused.dataset.id
            : undefined;
        const moreHad = focused === els.more;
        reread.keepPlace(els.view, listRows, () => {
            state.shown.clear();
            const frag = document.createDocumentFragment();
            items.forEach((c) => frag.appendChild(row(c)));
            els.list.replaceChildren(frag);
            els.more.hidden = !state.cursor;
        });
        if (had !== undefined) {
            (findRow(had) || els.title).focus({ preventScroll: true });
        } else if (moreHad && els.more.hidden) {
            const last = els.list.lastElementChild;
            (last ? last.querySelector('button') : els.title).focus();
        }
    }

    /* A read under way may not have what was just listed: made again,
     * as it was asked for. */
    function readUnderWayAgain() {
        if (state.kept !== null) {
            readAgain();
        } else {
            load(false);
        }
    }

    /* The list as the user now chooses it, without the last notice. */
    function reload() {
        state.notice = '';
        load(false);
    }

    async function loadTags() {
        try {
            const page = await app.api('/api/v1/tags');
            const chosen = els.tag.value;
            while (els.tag.options.length > 1) {
                els.tag.remove(1);
            }
            (page.items || []).forEach((t) => {
                const option = document.createElement('option');
                option.value = t.tag;
                option.textContent = t.tag + ' (' + t.contacts + ')';
                els.tag.appendChild(option);
            });
            els.tag.value = chosen;
            if (els.tag.value !== chosen) {
                els.tag.value = '';
            }
            newTags.suggest((page.items || []).map((t) => t.tag));
        } catch (err) {
            app.failed(err);        /* the list still works without */
        }
    }

    function refresh() {
        loadTags();
        reload();
    }

    /* An import changed contacts it does not name (contacts.imported):
     * the list and the tags are read again while shown, once for a
     * burst of batches, a focused row keeping the focus and a notice
     * staying, as the list is not chosen anew. */
    function importedSoon() {
        if (els.view.hidden || state.importedTimer !== null) {
            return;
        }
        state.importedTimer = setTimeout(() => {
            state.importedTimer = null;
            if (!els.view.hidden) {
                loadTags();
                readAgain();
            }
        }, IMPORTED_DELAY_MS);
    }

    /* A contact joined with tags: the tag filter's counts read again,
     * once for a burst. */
    function tagsSoon() {
        if (state.tagsTimer !== null) {
            return;
        }
        state.tagsTimer = setTimeout(() => {
            state.tagsTimer = null;
            if (!els.view.hidden) {
                loadTags();
            }
        }, IMPORTED_DELAY_MS);
    }

    /* ---- adding one ---- */

    function clearError() {
        els.error.textContent = '';
        Object.values(FIELDS).forEach((el) => invalid.clear(el, els.error));
    }

    function openForm(open) {
        els.form.hidden = !open;
        els.add.setAttribute('aria-expanded', String(open));
        clearError();
        if (open) {
            els.phone.focus();
        } else {
            els.form.reset();
            newTags.set([]);
            els.add.focus();
        }
    }

    /* One add at a time, from the press to its answer (busy.js): a
     * second press or Enter meanwhile would POST again, and the second
     * answer be a 409 said of a contact just made. */
    function submit(event) {
        event.preventDefault();
        busy.whileBusy(els.submit, addContact);
    }

    async function addContact() {
        clearError();
        const body = {
            phone: els.phone.value.trim(),
            tags: newTags.get(),
        };
        if (els.name.value.trim() !== '') {
            body.name = els.name.value.trim();
        }
        try {
            const c = await app.api('/api/v1/contacts',
                { method: 'POST', body: body });
            openForm(false);
            state.notice = 'Added ' + app.displayName(c) + '.';
            els.status.textContent = state.notice;
            /* its contact.updated may have come first and listed it */
            if (!state.shown.has(c.id)) {
                els.list.insertBefore(row(c), els.list.firstChild);
            }
            /* a search typed just before: read now, keeping the notice
             * (its own reload would drop it) */
            if (state.searchTimer !== null) {
                clearTimeout(state.searchTimer);
                state.searchTimer = null;
                load(false);
            } else if (state.reading) {
                readUnderWayAgain();
            }
            audience.stale();
            loadTags();
        } catch (err) {
            if (app.failed(err)) {
                return;
            }
            els.error.textContent = typeof err.status === 'number'
                ? err.message : 'The server could not be reached. Try again.';
            /* a network error has no answer, nor a field */
            const field = err.error ? err.error.field : null;
            const el = err.status === 409 ? els.phone
                : FIELDS[String(field || '').split('.')[0]];
            if (el) {
                invalid.mark(el, els.error);
            }
        }
    }

    els.add.addEventListener('click', () => openForm(els.form.hidden));
    els.close.addEventListener('click', () => openForm(false));
    els.form.addEventListener('submit', submit);
    els.search.addEventListener('input', () => {
        clearTimeout(state.searchTimer);
        state.searchTimer = setTimeout(() => {
            state.searchTimer = null;
            reload();
        }, SEARCH_DELAY_MS);
    });
    els.tag.addEventListener('change', reload);
    els.more.addEventListener('click', () => load(true));
    els.view.addEventListener('inbox:show', refresh);
    document.addEventListener('inbox:contacts', refresh);

    app.on('event', (ev) => {
        if (ev.type === 'contact.updated') {
            applyContact(ev.contact, true);
        } else if (ev.type === 'conversation.updated' && ev.conversation
                   && ev.conversation.contact)
        {
            /* a conversation's contact has no tags: what it has */
            const c = ev.conversation.contact;
            applyContact({ id: c.id, name: c.name || null, phone: c.phone,
                           phone_display: c.phone_display,
                           opted_out: Boolean(c.opted_out) });
        } else if (ev.type === 'contacts.imported') {
            importedSoon();
        }
    });
    /* The connection back: a read that failed (offline, say) is made
     * again, shown, rather than left said until the view is shown anew:
     * the rows shown read again as they are, or the first page. */
    app.on('back', () => {
        if (state.failed === null || els.view.hidden) {
            return;
        }
        if (state.failed === 'more') {
            load(true);
        } else if (listRows().length > 0) {
            readAgain();
        } else {
            load(false);
        }
    });
    /* events may have been missed (a reset, a gap): read again, shown */
    app.on('resync', () => {
        if (!els.view.hidden) {
            readAgain();
        }
    });

    app.on('session', () => {
        clearTimeout(state.importedTimer);
        state.importedTimer = null;
        clearTimeout(state.tagsTimer);
        state.tagsTimer = null;
        state.seq += 1;
        state.reading = false;
        state.moreAsked = false;
        state.kept = null;
        state.cursor = null;
        state.failed = null;
        state.notice = '';
        state.shown.clear();
        els.list.textContent = '';
        els.search.value = '';
        els.tag.value = '';
        els.form.hidden = true;
        newTags.set([]);
        els.add.setAttribute('aria-expanded', 'false');
        els.status.textContent = '';
    });
})(window.inboxApp, window.inboxBusy, window.inboxAudience,
   window.inboxTags, window.inboxReread);
