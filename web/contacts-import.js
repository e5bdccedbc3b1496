/*
 * Contacts imported from a CSV file, in the Contacts view: the file
 * chosen goes as it is
 * to POST /api/v1/contacts/import, which reads it (a header row: phone,
 * required; name, or first and last name; tags separated by ";";
 * timezone) and answers how many contacts it made and updated, which
 * lines it skipped, and why, and which columns it did not use (an
 * export's "Company", "E-mail Address": the user sees they are not
 * imported).
 * The report stays under the heading until the next import; the
 * contacts list and the audience's tags are read again at once (an
 * "inbox:contacts" event on the document).
 *
 * What it uses of the app is window.inboxApp (api, failed, on) and
 * window.inboxBulk (plural), window.inboxAudience.
 */
'use strict';

(function (app, bulk, audience) {
    const plural = bulk.plural;
    const SKIPPED_SHOWN = 20;
    const IGNORED_SHOWN = 20;

    const $ = (id) => document.getElementById(id);

    const els = {
        button: $('contacts-import'),
        file: $('contacts-file'),
        report: $('import-report'),
    };

    /* lines: the first a paragraph, the others a list; note: one more
     * paragraph after them */
    function say(lines, problem, note) {
        els.report.textContent = '';
        els.report.classList.toggle('problem', Boolean(problem));
        lines.forEach((text, i) => {
            const p = document.createElement(i === 0 ? 'p' : 'li');
            p.textContent = text;
            if (i === 0) {
                els.report.appendChild(p);
            } else {
                let ul = els.report.querySelector('ul');
                if (!ul) {
                    ul = document.createElement('ul');
                    els.report.appendChild(ul);
                }
                ul.appendChild(p);
            }
        });
        if (note) {
            const p = document.createElement('p');
            p.className = 'import-ignored';
            p.textContent = note;
            els.report.appendChild(p);
        }
        els.report.hidden = false;
    }

    function report(name, r) {
        const lines = [name + ': ' + plural(r.created, 'new contact',
            'new contacts') + ', ' + plural(r.updated, 'contact updated',
            'contacts updated') + '.'
            + (r.invalid_count > 0 ? ' ' + plural(r.invalid_count,
                'line was', 'lines were') + ' skipped:' : '')];
        const shown = (r.invalid || []).slice(0, SKIPPED_SHOWN);
        shown.forEach((bad) => {
            lines.push('Line ' + bad.line + ': ' + bad.reason);
        });
        const unlisted = r.invalid_count - shown.length;
        if (unlisted > 0) {
            lines.push('and ' + plural(unlisted, 'more line', 'more lines'));
        }
        say(lines, false, ignoredNote(r.ignored_columns || []));
    }

    /* "Not imported: the columns Company, Notes." */
    function ignoredNote(columns) {
        if (columns.length === 0) {
            return '';
        }
        const names = columns.slice(0, IGNORED_SHOWN)
            .map((c) => '\u201c' + c + '\u201d').join(', ');
        const more = columns.length - IGNORED_SHOWN;
        return 'Not imported: the ' + (columns.length === 1 ? 'column '
            : 'columns ') + names + (more > 0 ? ' and '
            + plural(more, 'more column', 'more columns') : '') + '.';
    }

    async function importFile(file) {
        els.button.disabled = true;
        say(['Importing ' + file.name + '\u2026'], false);
        try {
            /* whatever type the system gave the file, it is read as CSV */
            const r = await app.api('/api/v1/contacts/import', {
                method: 'POST',
                raw: new Blob([file], { type: 'text/csv' }) });
            report(file.name, r);
            audience.stale();
            document.dispatchEvent(new CustomEvent('inbox:contacts'));
        } catch (err) {
            if (!app.failed(err)) {
                say([file.name + ' was not imported: '
                    + (typeof err.status === 'number' ? err.message
                        : 'the server could not be reached. Try again.')],
                    true);
            }
        } finally {
            els.button.disabled = false;
            els.file.value = '';
        }
    }

    els.button.addEventListener('click', () => els.file.click());
    els.file.addEventListener('change', () => {
        if (els.file.files.length > 0) {
            importFile(els.file.files[0]);
        }
    });

    app.on('session', () => {
        els.report.hidden = true;
        els.report.textContent = '';
    });
})(window.inboxApp, window.inboxBulk, window.inboxAudience);
