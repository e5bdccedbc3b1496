/*
 * Tags edited as separate items: each tag a chip with a button that
 * removes it, and a text field that adds one on Enter.  A tag may hold a
 * comma (a CSV import splits its tags on ';'), so a chip is never split:
 * what is read back is the chips as they are, and tags the user did not
 * touch never change.  A comma typed still adds the tag typed so far, as
 * a convenience, unless it begins one of the tags suggested (the
 * organization's): "Donor," is kept while "Donor, 2024" is a tag.
 *
 * editor(input, opts) wraps an <input> that keeps its id, label and hint;
 * opts.onChange is called when a chip comes or goes, opts.take(tag) may
 * take a tag instead of a chip (true when it did).  It returns
 * { get, chips, set, suggest }.
 *
 * Plain DOM; it uses nothing of the app.
 */
'use strict';

(function () {
    /* tags are one in any ASCII case, as the server keeps them */
    const fold = (t) => t.replace(/[A-Z]/g, (c) => c.toLowerCase());

    function editor(input, opts = {}) {
        const box = document.createElement('div');
        const chipList = document.createElement('ul');
        const known = document.createElement('datalist');
        const said = document.createElement('span');
        let tags = [];
        let suggested = [];

        box.className = 'tag-editor';
        chipList.className = 'tag-chips';
        chipList.setAttribute('aria-label', input.labels.length > 0
            ? input.labels[0].textContent.trim() : 'Tags');
        chipList.hidden = true;
        known.id = input.id + '-known';
        said.className = 'visually-hidden';
        said.setAttribute('role', 'status');
        input.parentNode.insertBefore(box, input);
        box.appendChild(chipList);
        box.appendChild(input);
        box.appendChild(known);
        box.appendChild(said);
        input.classList.add('tag-input');
        input.setAttribute('list', known.id);
        input.placeholder = 'Add a tag';

        const has = (t) => tags.some((x) => fold(x) === fold(t));
        const changed = () => {
            if (opts.onChange) {
                opts.onChange();
            }
        };

        function chip(t) {
            const li = document.createElement('li');
            li.className = 'tag';
            const name = document.createElement('span');
            name.dir = 'auto';
            name.textContent = t;
            const remove = document.createElement('button');
            remove.type = 'button';
            remove.className = 'tag-remove';
            remove.setAttribute('aria-label', 'Remove tag ' + t);
            remove.title = 'Remove';
            remove.textContent = '\u00d7';
            remove.addEventListener('click', () => drop(t));
            remove.addEventListener('keydown', (event) => {
                if (event.key === 'Backspace' || event.key === 'Delete') {
                    event.preventDefault();
                    drop(t);
                }
            });
            li.appendChild(name);
            li.appendChild(remove);
            return li;
        }

        function draw() {
            chipList.textContent = '';
            tags.forEach((t) => chipList.appendChild(chip(t)));
            chipList.hidden = tags.length === 0;
        }

        /* a tag typed (spelled as a suggestion spells it), unless it is
         * one already; true when it was new */
        function add(text) {
            let t = text.trim();
            if (t === '' || has(t)) {
                return false;
            }
            t = suggested.find((k) => fold(k) === fold(t)) || t;
            if (!opts.take || !opts.take(t)) {
                tags.push(t);
            }
            said.textContent = 'Added tag ' + t + '.';
            return true;
        }

        /* focus goes to the next chip's button, else the field */
        function drop(t) {
            const at = tags.indexOf(t);
            if (at < 0) {
                return;
            }
            tags.splice(at, 1);
            draw();
            said.textContent = 'Removed tag ' + t + '.';
            const buttons = chipList.querySelectorAll('.tag-remove');
            (buttons[Math.min(at, buttons.length - 1)] || input).focus();
            changed();
        }

        /* The text up to each comma typed becomes a tag, unless it and
         * the comma begin a tag suggested. */
        function cut() {
            const v = input.value;
            let start = 0;
            let added = false;
            for (let i = v.indexOf(','); i >= 0; i = v.indexOf(',', i + 1)) {
                const head = fold(v.slice(start, i + 1).trimStart());
                if (!suggested.some((k) => fold(k).startsWith(head))) {
                    added = add(v.slice(start, i)) || added;
                    start = i + 1;
                }
            }
            if (start > 0) {
                input.value = v.slice(start).trimStart();
                draw();
                if (added) {
                    changed();
                }
            }
        }

        function addTyped() {
            const added = add(input.value);
            input.value = '';
            draw();
            if (added) {
                changed();
            }
        }

        input.addEventListener('keydown', (event) => {
            if (event.key === 'Enter' && input.value.trim() !== '') {
                event.preventDefault();     /* not the form's submit */
                addTyped();
            } else if (event.key === 'Backspace' && input.value === ''
                       && tags.length > 0)
            {
                event.preventDefault();
                const buttons = chipList.querySelectorAll('.tag-remove');
                buttons[buttons.length - 1].focus();
            }
        });
        input.addEventListener('input', (event) => {
            /* one of the suggestions chosen: it is added whole */
            if (event.inputType === 'insertReplacementText'
                && suggested.some((k) => k === input.value))
            {
                addTyped();
            } else {
                cut();
            }
        });
        box.addEventListener('click', (event) => {
            if (event.target === box || event.target === chipList) {
                input.focus();
            }
        });

        return {
            /* the chips, and a tag still being typed */
            get: () => {
                const t = input.value.trim();
                return t === '' || has(t) ? tags.slice() : tags.concat([t]);
            },
            chips: () => tags.slice(),
            /* these chips, and nothing typed */
            set: (list) => {
                tags = (list || []).slice();
                input.value = '';
                said.textContent = '';
                draw();
            },
            /* the tags a comma does not cut, offered as the field's list */
            suggest: (list) => {
                suggested = list.slice();
                known.textContent = '';
                suggested.forEach((t) => {
                    const option = document.createElement('option');
                    option.value = t;
                    known.appendChild(option);
                });
            },
        };
    }

    window.inboxTags = Object.freeze({ editor });
})();
