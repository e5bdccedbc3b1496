/*
 * Contacts imported from a CSV file, in the Contacts view: the file
 * chosen goes as it is
 * to POST /api/v1/contacts/import, which reads it (a header row: phone,
 * required; name, or first and last name; tags separated by ";";
 * timezone) and answers how many contacts it made and updated (and how
 * many lines repeated an earlier line's number, and how many contacts
 * could not take all their tags, having 50), which
 * lines it skipped, and why, which columns it did not use (an
 * export's "Company", "E-mail Address": the user sees they are not
 * imported) and the country numbers without a country code were read
 * as (the organization's default country, Settings).  An import the
 * server stopped partway (a store failure after batches were stored)
 * shows, as a problem, what the lines before the line it stopped at
 * made, and asks for the same file again.
 * A file larger than the route takes (16 MB) is said, with what to do,
 * before any of it goes.
 * The report stays under the heading until the next import; the
 * contacts list and the audience's tags are read again at once (an
 * "inbox:contacts" event on the document).
 *
 * What it uses of the app is window.inboxApp (api, failed, on) and
 * window.inboxBulk (plural), window.inboxAudience, window.inboxMedia
 * (sizeText); the button is busy
 * (window.inboxBusy) while a file goes, and chooses none meanwhile.
 */
'use strict';

(function (app, bulk, audience, busy, media) {
    const plural = bulk.plural;
    const SKIPPED_SHOWN = 20;
    const IGNORED_SHOWN = 20;
    /* POST /api/v1/contacts/import's largest body (its location's
     * client_max_body_size, the module's NGX_HTTP_INBOX_IMPORT_BODY_MAX):
     * nginx's 413 for a larger one names no size */
    const MAX_BYTES = 16 * 1024 * 1024;
    /* a contact's tags at most (INBOX_TAGS_MAX) */
    const TAGS_MAX = 50;

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
        say(reportLines(name + ': ', r, '.'), false,
            ignoredNote(r.ignored_columns || []));
        sayCapped(r);
        if (r.country) {
            const p = document.createElement('p');
            p.className = 'import-country';
            p.textContent = 'Numbers without a country code were read as '
                + r.country + ' numbers.';
            els.report.appendChild(p);
        }
    }

    /* An import the server stopped partway (its store failed): what the
     * lines before that one made, in the error, and that the same file
     * may go again (a re-import updates, never duplicates). */
    function stopped(name, e) {
        const line = e.stopped_at_line.toLocaleString();
        const note = 'The server failed at line ' + line + ' and the '
            + 'import stopped there. Import the same file again to finish '
            + 'it: the contacts already imported are updated, not '
            + 'duplicated. ' + ignoredNote(e.ignored_columns || []);
        say(reportLines(name + ' was imported only up to line ' + line
            + ': ', e, ' before it.'), true, note.trim());
        sayCapped(e);
    }

    /* Contacts that could not take all their tags in the file (a contact
     * keeps at most 50): said, as tags left out are data lost. */
    function sayCapped(r) {
        const n = r.tags_capped || 0;
        if (n === 0) {
            return;
        }
        const p = document.createElement('p');
        p.className = 'import-capped';
        p.textContent = plural(n, 'contact', 'contacts') + ' reached '
            + TAGS_MAX + ' tags, the most a contact can have: some of '
            + (n === 1 ? 'its' : 'their') + ' tags in the file were not '
            + 'added.';
        els.report.appendChild(p);
    }

    /* The report's counts after head, then its skipped lines.  A line
     * with the number of an earlier one went into that line's contact:
     * said apart, as it made no other contact nor updated one there
     * before. */
    function reportLines(head, r, end) {
        const lines = [head + plural(r.created, 'new contact',
            'new contacts') + ', ' + plural(r.updated, 'contact updated',
            'contacts updated')
            + (r.repeated > 0 ? ', ' + plural(r.repeated,
                'line repeated the number of a line above it',
                'lines repeated the number of a line above them')
                + ' (merged into that contact)' : '') + end
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
        return lines;
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

    /* err: the server's refusal (an ApiError) or a fetch that failed */
    function failedImport(name, err) {
        if (typeof (err.error || {}).stopped_at_line === 'number') {
            /* the lines before it were stored */
            stopped(name, err.error);
            audience.stale();
            document.dispatchEvent(new CustomEvent('inbox:contacts'));
            return;
        }
        say([name + ' was not imported: '
            + (typeof err.status === 'number' ? err.message
                : 'the server could not be reached. Try again.')], true);
    }

    async function importFile(file) {
        if (file.size > MAX_BYTES) {
            say([file.name + ' was not imported: it is '
                + media.sizeText(file.size) + ', and an import takes a '
                + 'file of at most ' + MAX_BYTES / (1024 * 1024) + ' MB. '
                + 'Split it into smaller files, each with the header '
                + 'row, and import each.'], true);
            els.file.value = '';
            return;
        }
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
                failedImport(file.name, err);
            }
        } finally {
            els.file.value = '';
        }
    }

    els.button.addEventListener('click', () => {
        if (!busy.busy(els.button)) {
            els.file.click();
        }
    });
    els.file.addEventListener('change', () => {
        if (els.file.files.length > 0) {
            const file = els.file.files[0];
            busy.whileBusy(els.button, () => importFile(file));
        }
    });

    app.on('session', () => {
        els.report.hidden = true;
        els.report.textContent = '';
    });
})(window.inboxApp, window.inboxBulk, window.inboxAudience,
   window.inboxBusy, window.inboxMedia);
