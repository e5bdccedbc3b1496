/*
 * Who a campaign or poll goes to, and when: all contacts or those with
 * any of some tags (the organization's tags offered as check boxes, any
 * other typed in as chips, tags.js), sent when asked or at a time.  The
 * fields come from the page's <template id="audience-fields">, once in
 * each form.  The time is the browser's, and says so with its zone's
 * name: what is sent is the absolute time (send_at, UTC).
 *
 * The tags offered are the organization's, from GET /api/v1/tags (each
 * once in any case, with how many contacts carry it; the first 1,000
 * by name: a tag past them can still be typed, and is suggested as it
 * is typed).  A tag typed that is offered checks its box; a comma never
 * cuts one of them (such as "Donor, 2024").
 *
 * The tags are read again 30 s after the last read (app.tags), or at
 * once after an import (stale).  Their counts follow the contacts: a
 * contact.updated (one made, tagged, opted out or in), a
 * contacts.imported or a resync (events missed) makes the tags stale
 * for whatever reads them next and, once for a burst (COUNTS_DELAY_MS
 * after the last event, COUNTS_WAIT_MAX_MS after the first at most),
 * reads them again in each form open and tells its onCounts listeners
 * (a campaign's preview of its cost), and the page's (inboxAudience's
 * onCounts: a send's confirmation open); a form hidden, or open in a
 * view not shown, does so once shown again.  Boxes are updated in
 * place: a focused one keeps the focus, and a chosen tag no contact
 * has any more stays, counted 0, rather than leave the audience unseen.
 *
 * What it uses of the app is window.inboxApp: tags, staleTags,
 * on(session, event, resync); and window.inboxTags.
 */
'use strict';

(function (app, tagEditor) {
    /* an import's batches, or many opt-outs: one read for a burst, and
     * one every so often while it lasts */
    const COUNTS_DELAY_MS = 500;
    const COUNTS_WAIT_MAX_MS = 3000;
    /* GET /api/v1/tags lists this many at most: one past them is not
     * known to have no contact */
    const TAGS_LISTED_MAX = 1000;

    const template = document.getElementById('audience-fields');

    const pickers = [];
    const countListeners = [];  /* the page's, told as the forms are */
    const live = { timer: null, first: 0 };

    /* ASCII case, as the server matches tags */
    const fold = (t) => t.replace(/[A-Z]/g, (c) => c.toLowerCase());

    function contacts(n) {
        return n + (n === 1 ? ' contact' : ' contacts');
    }

    /* The zone such a field's time is in, named: the browser's, which
     * may not be the organization's ("your time, Europe/Paris"). */
    function yourTime() {
        const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
        return zone === '' ? 'your time' : 'your time, ' + zone;
    }

    /* A time as a datetime-local field holds it: the browser's own
     * time, to the minute. */
    function localInput(t) {
        const two = (n) => String(n).padStart(2, '0');
        return t.getFullYear() + '-' + two(t.getMonth() + 1) + '-'
            + two(t.getDate()) + 'T' + two(t.getHours()) + ':'
            + two(t.getMinutes());
    }

    /* The fields, in container; ids begin with prefix.  Returns
     * { refresh, read, reset, set, onChange }. */
    function mount(container, prefix) {
        const frag = template.content.cloneNode(true);
        frag.querySelectorAll('[data-id]').forEach((el) => {
            el.id = prefix + '-' + el.dataset.id;
        });
        frag.querySelectorAll('[data-for]').forEach((el) => {
            el.htmlFor = prefix + '-' + el.dataset.for;
        });
        frag.querySelectorAll('[data-describedby]').forEach((el) => {
            el.setAttribute('aria-describedby',
                prefix + '-' + el.dataset.describedby);
        });
        container.appendChild(frag);
        container.querySelector('.when-zone').textContent = '('
            + yourTime() + ')';
        container.querySelector('[data-id="send-at"]').setAttribute(
            'aria-label', 'Send time (' + yourTime() + ')');

        const els = {
            all: container.querySelector('input[name="audience"][value="all"]'),
            some: container.querySelector(
                'input[name="audience"][value="tags"]'),
            boxes: container.querySelector('.audience-tags'),
            none: container.querySelector('.audience-none'),
            other: container.querySelector('[data-id="other-tags"]'),
            now: container.querySelector('input[name="when"][value="now"]'),
            at: container.querySelector('input[name="when"][value="at"]'),
            sendAt: container.querySelector('[data-id="send-at"]'),
        };
        const listeners = [];
        const changed = () => listeners.forEach((fn) => fn());
        const countListeners = [];
        let recounted = false;  /* contacts changed since last drawn */
        const shown = () => container.closest('[hidden]') === null;
        /* a tag typed: its box when one is offered, else a chip */
        const other = tagEditor.editor(els.other, {
            take: (t) => {
                const box = Array.from(els.boxes.querySelectorAll('input'))
                    .find((b) => fold(b.value) === fold(t));
                if (box) {
                    box.checked = true;
                }
                return box !== undefined;
            },
            onChange: () => {
                if (other.chips().length > 0
                    || els.boxes.querySelector('input:checked'))
                {
                    els.some.checked = true;
                }
                changed();
            },
        });

        function tagChoice() {
            const label = document.createElement('label');
            label.className = 'choice tag-choice';
            const box = document.createElement('input');
            box.type = 'checkbox';
            const name = document.createElement('span');
            name.dir = 'auto';
            const count = document.createElement('span');
            count.className = 'tag-count';
            label.appendChild(box);
            label.appendChild(name);
            label.appendChild(count);
            return label;
        }

        /* how many carry it; opted-out ones get nothing */
        function fillChoice(label, t) {
            label.querySelector('input').value = t.tag;
            label.querySelector('span[dir]').textContent = t.tag;
            label.querySelector('.tag-count').textContent = ' ('
                + t.contacts + ')';
            label.title = contacts(t.contacts)
                + (t.sendable < t.contacts ? ', '
                    + (t.contacts - t.sendable) + ' opted out' : '');
        }

        /* The boxes as list has them, in its order, those there already
         * kept (checked or focused as they were); one no longer listed
         * goes, unless checked or focused: then it stays where it is,
         * counted 0 when the list is whole. */
        function drawTags(list) {
            const had = new Map(Array.from(
                els.boxes.querySelectorAll('label'),
                (l) => [fold(l.querySelector('input').value), l]));
            const listed = new Set(list.map((t) => fold(t.tag)));
            const kept = new Set();
            had.forEach((label, key) => {
                const box = label.querySelector('input');
                if (listed.has(key)) {
                    return;
                }
                if (box.checked || box === document.activeElement) {
                    if (list.length < TAGS_LISTED_MAX) {
                        fillChoice(label, { tag: box.value, contacts: 0,
                                            sendable: 0 });
                    }
                    kept.add(label);
                } else {
                    label.remove();
                }
            });
            let at = els.boxes.firstElementChild;
            list.forEach((t) => {
                while (kept.has(at)) {
                    at = at.nextElementSibling;
                }
                const label = had.get(fold(t.tag)) || tagChoice();
                fillChoice(label, t);
                if (label === at) {
                    at = at.nextElementSibling;
                } else {
                    els.boxes.insertBefore(label, at);
                }
            });
            els.none.hidden = els.boxes.childElementCount > 0;
            other.suggest(list.map((t) => t.tag));
        }

        /* The tags read (again), and what counts the contacts told,
         * when they changed since. */
        async function refresh() {
            if (recounted) {
                recounted = false;
                countListeners.forEach((fn) => fn());
            }
            drawTags(await app.tags());
        }

        /* Contacts changed: counted again now if shown, else once
         * shown (the form opened, refresh; its view shown). */
        function recount() {
            recounted = true;
            if (shown()) {
                refresh();
            }
        }
        const view = container.closest('main');
        if (view) {
            view.addEventListener('inbox:show', () => {
                if (recounted && shown()) {
                    refresh();
                }
            });
        }

        /* {audience, send_at}, or {problem} when the form cannot say
         * yet what it means (the server judges the rest). */
        function read() {
            let audience;
            if (els.some.checked) {
                const chosen = Array.from(
                    els.boxes.querySelectorAll('input:checked'),
                    (b) => b.value);
                const list = [];
                const seen = new Set();
                chosen.concat(other.get()).forEach((t) => {
                    if (!seen.has(fold(t))) {
                        seen.add(fold(t));
                        list.push(t);
                    }
                });
                audience = { tags: list };
            } else {
                audience = { all: true };
            }
            let sendAt = null;
            if (els.at.checked) {
                const t = els.sendAt.value ? new Date(els.sendAt.value)
                    : null;
                if (!t || Number.isNaN(t.getTime())) {
                    return { problem: 'Choose the day and time to send it, '
                        + 'or send it when you press Send.',
                             field: els.sendAt };
                }
                sendAt = t.toISOString().replace(/\.\d+Z$/, 'Z');
            }
            return { audience: audience, send_at: sendAt };
        }

        /* A draft's audience and time written in: its tags checked
         * where offered (read first), typed as chips where not. */
        async function set(audience, sendAt) {
            reset();
            try {
                await refresh();
            } catch (err) {
                /* no boxes: every tag a chip */
            }
            if (audience && Array.isArray(audience.tags)) {
                els.some.checked = true;
                const boxes = Array.from(els.boxes.querySelectorAll('input'));
                const typed = [];
                audience.tags.forEach((t) => {
                    const box = boxes.find((b) => fold(b.value) === fold(t));
                    if (box) {
                        box.checked = true;
                    } else {
                        typed.push(t);
                    }
                });
                other.set(typed);
            }
            if (sendAt) {
                els.at.checked = true;
                els.sendAt.value = localInput(new Date(sendAt));
            }
            changed();
        }

        function reset() {
            els.all.checked = true;
            els.boxes.querySelectorAll('input').forEach((b) => {
                b.checked = false;
            });
            other.set([]);
            els.now.checked = true;
            els.sendAt.value = '';
        }

        /* a tag chosen or typed means "these tags"; a time, "at" */
        container.addEventListener('change', (event) => {
            if (event.target.type === 'checkbox' && event.target.checked) {
                els.some.checked = true;
            }
            if (event.target === els.sendAt && els.sendAt.value) {
                els.at.checked = true;
            }
            changed();
        });
        els.other.addEventListener('input', () => {
            if (els.other.value.trim() !== '') {
                els.some.checked = true;
            }
            changed();
        });

        const picker = { refresh, recount, read, reset, set,
                         audienceInput: els.some, sendAtInput: els.sendAt,
                         onChange: (fn) => listeners.push(fn),
                         onCounts: (fn) => countListeners.push(fn) };
        pickers.push(picker);
        return picker;
    }

    app.on('session', () => {
        clearTimeout(live.timer);
        live.timer = null;
        pickers.forEach((p) => p.reset());
    });

    /* Contacts and their tags changed (an import, an add): read them
     * again where shown. */
    function stale() {
        app.staleTags();
        pickers.forEach((p) => p.recount());
        countListeners.forEach((fn) => fn());
    }

    /* Contacts changed elsewhere: the tags stale at once (a form opened
     * meanwhile reads them), the forms counted again once for a burst. */
    function changedSoon() {
        app.staleTags();
        const now = Date.now();
        if (live.timer === null) {
            live.first = now;
        }
        clearTimeout(live.timer);
        live.timer = setTimeout(() => {
            live.timer = null;
            stale();
        }, Math.max(0, Math.min(COUNTS_DELAY_MS,
                                live.first + COUNTS_WAIT_MAX_MS - now)));
    }

    app.on('event', (ev) => {
        if (ev.type === 'contact.updated'
            || ev.type === 'contacts.imported')
        {
            changedSoon();
        }
    });
    app.on('resync', changedSoon);

    window.inboxAudience = Object.freeze({
        mount, stale, localInput, yourTime,
        onCounts: (fn) => countListeners.push(fn),
    });
})(window.inboxApp, window.inboxTags);
