/*
 * Who a campaign or poll goes to, and when: all contacts or those with
 * any of some tags (the organization's tags offered as check boxes, any
 * other typed in), sent when asked or at a time.  The fields come from
 * the page's <template id="audience-fields">, once in each form.
 *
 * The tags offered are the organization's, from GET /api/v1/tags (each
 * once in any case, with how many contacts carry it; the first 1,000
 * by name: a tag past them can still be typed).
 *
 * The tags are read again 30 s after the last read, or at once after an
 * import (stale).
 *
 * What it uses of the app is window.inboxApp: api, failed, on(session).
 */
'use strict';

(function (app) {
    const TAGS_FRESH_MS = 30000;

    const template = document.getElementById('audience-fields');

    const tags = {
        list: [],               /* {tag, contacts, sendable}, by name */
        at: 0,
        loading: null,
    };

    const pickers = [];

    /* The organization's tags, case folded as the server matches them. */
    async function loadTags() {
        if (tags.loading) {
            return tags.loading;
        }
        if (Date.now() - tags.at < TAGS_FRESH_MS) {
            return tags.list;
        }
        tags.loading = (async () => {
            try {
                const page = await app.api('/api/v1/tags');
                tags.list = page.items || [];
                tags.at = Date.now();
            } catch (err) {
                app.failed(err);    /* typed tags still work */
            } finally {
                tags.loading = null;
            }
            return tags.list;
        })();
        return tags.loading;
    }

    function contacts(n) {
        return n + (n === 1 ? ' contact' : ' contacts');
    }

    /* The fields, in container; ids begin with prefix.  Returns
     * { refresh, read, reset, onChange }. */
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

        function drawTags(list) {
            const checked = new Set(Array.from(
                els.boxes.querySelectorAll('input:checked'),
                (b) => b.value.toLowerCase()));
            els.boxes.textContent = '';
            list.forEach((t) => {
                const label = document.createElement('label');
                label.className = 'choice tag-choice';
                const box = document.createElement('input');
                box.type = 'checkbox';
                box.value = t.tag;
                box.checked = checked.has(t.tag.toLowerCase());
                const name = document.createElement('span');
                name.dir = 'auto';
                name.textContent = t.tag;
                /* how many carry it; opted-out ones get nothing */
                const count = document.createElement('span');
                count.className = 'tag-count';
                count.textContent = ' (' + t.contacts + ')';
                label.title = contacts(t.contacts)
                    + (t.sendable < t.contacts ? ', '
                        + (t.contacts - t.sendable) + ' opted out' : '');
                label.appendChild(box);
                label.appendChild(name);
                label.appendChild(count);
                els.boxes.appendChild(label);
            });
            els.none.hidden = list.length > 0;
        }

        async function refresh() {
            drawTags(await loadTags());
        }

        /* {audience, send_at}, or {problem} when the form cannot say
         * yet what it means (the server judges the rest). */
        function read() {
            let audience;
            if (els.some.checked) {
                const chosen = Array.from(
                    els.boxes.querySelectorAll('input:checked'),
                    (b) => b.value);
                const typed = els.other.value.split(',')
                    .map((t) => t.trim()).filter((t) => t !== '');
                const list = [];
                const seen = new Set();
                chosen.concat(typed).forEach((t) => {
                    if (!seen.has(t.toLowerCase())) {
                        seen.add(t.toLowerCase());
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

        function reset() {
            els.all.checked = true;
            els.boxes.querySelectorAll('input').forEach((b) => {
                b.checked = false;
            });
            els.other.value = '';
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

        const picker = { refresh, read, reset, audienceInput: els.some,
                         sendAtInput: els.sendAt,
                         onChange: (fn) => listeners.push(fn) };
        pickers.push(picker);
        return picker;
    }

    app.on('session', () => {
        tags.list = [];
        tags.at = 0;
        pickers.forEach((p) => p.reset());
    });

    /* Contacts and their tags changed (an import): read them again. */
    function stale() {
        tags.at = 0;
        pickers.forEach((p) => p.refresh());
    }

    window.inboxAudience = Object.freeze({ mount, stale });
})(window.inboxApp);
