/*
 * The Polls view: the organization's polls (bulk.js's list, their status
 * and counts moved live by campaign.progress frames), the form for a new
 * one (a question, 2 to 9 options, who it goes to and when, and under
 * them what it would cost, as a campaign's form says it: bulk.js's
 * preview, POST /api/v1/polls/estimate), and one
 * poll's results at a time: the tally as bars with counts and the
 * responses, newest first, a hundred at a time: GET /api/v1/polls/{id}
 * with the newest, "Show more answers" the next page after them
 * (GET …/responses?cursor=).
 *
 * The open results follow the poll live: a campaign.progress frame for
 * it (an answer moved its counts) reads them again, at most one request
 * in flight and one every RESULTS_GAP_MS, so a burst of answers costs a
 * few requests, not one each.  A read brings the newest page only; the
 * older answers already listed stay (mergeResponses), so the list shown
 * does not shrink back to a hundred.
 *
 * What it uses of the app is window.inboxApp (api, failed, on) and
 * window.inboxBulk, window.inboxAudience; an answer's time is written
 * by times.js (window.inboxTimes), as a thread writes one.
 */
'use strict';

(function (app, bulk, audience) {
    const invalid = window.inboxInvalid;
    const OPTIONS_MIN = 2;
    const OPTIONS_MAX = 9;
    const RESULTS_GAP_MS = 300;
    const RESPONSES_STEP = 100;     /* responses shown at first, and more
                                       at each "Show more answers" */

    const $ = (id) => document.getElementById(id);

    const els = {
        view: $('polls-view'),
        add: $('poll-new'),
        form: $('poll-form'),
        question: $('poll-question'),
        options: $('poll-options'),
        addOption: $('poll-add-option'),
        estimate: $('poll-estimate'),
        error: $('poll-error'),
        close: $('poll-close'),
    };

    const state = {
        /* the poll whose results are open */
        open: null,             /* its id */
        inFlight: false,
        again: false,           /* a frame came while a read was out */
        lastAt: 0,
        timer: null,
        last: null,             /* the open poll's results as last read */
        responses: [],          /* its answers read, newest first, with
                                   none missing between them */
        cursor: null,           /* the page after them; null: no more */
        paging: false,          /* a page after them being read */
        opened: 0,              /* bumped each time results open */
        shown: RESPONSES_STEP,  /* how many of its responses are shown */
    };

    const list = bulk.list({
        kind: 'polls',
        noun: 'poll',
        els: { list: $('polls-list'), status: $('polls-status'),
               more: $('polls-more') },
        extra: pollExtra,
    });

    const picker = audience.mount($('poll-audience'), 'poll');
    /* what it would cost, while it is written (estimated()): the
     * question with its numbered options is one message */
    const preview = bulk.preview({
        el: els.estimate, kind: 'polls', request: estimated,
        fields: ['question', 'options'],
    });

    /* ---- the form ---- */

    /* the option inputs the last save sent, in its order: a refusal's
     * "options.2" is the third of them */
    let sentOptions = [];

    function optionInputs() {
        return Array.from(els.options.querySelectorAll('input'));
    }

    /* The option rows numbered as they will be sent ("1) Yes"), each
     * removable while more than two are left.  A row left empty before
     * a written one is not sent (closeGaps): it has no number, so the
     * rows after it are numbered as the poll and the preview's refusal
     * ("Option 3 is the same as option 1.") number them; the empty rows
     * after the last written are numbered as they would be written. */
    function renumber() {
        const rows = Array.from(els.options.children);
        const last = lastWritten(rows);
        let n = 0;
        rows.forEach((li, i) => {
            const input = li.querySelector('input');
            const label = li.querySelector('label');
            const sent = i > last || written(li);
            input.id = 'poll-option-' + (i + 1);
            label.htmlFor = input.id;
            n += sent ? 1 : 0;
            label.textContent = sent ? 'Option ' + n : 'Not sent';
            const remove = li.querySelector('button');
            remove.hidden = rows.length <= OPTIONS_MIN;
            remove.setAttribute('aria-label', sent ? 'Remove option ' + n
                : 'Remove the empty option');
        });
        els.addOption.disabled = rows.length >= OPTIONS_MAX;
    }

    function written(li) {
        return li.querySelector('input').value.trim() !== '';
    }

    /* the index of the last row written, or -1 */
    function lastWritten(rows) {
        return rows.map(written).lastIndexOf(true);
    }

    function addOption(value) {
        if (els.options.children.length >= OPTIONS_MAX) {
            return null;
        }
        const li = document.createElement('li');
        li.className = 'poll-option';
        const label = document.createElement('label');
        const input = document.createElement('input');
        input.type = 'text';
        input.autocomplete = 'off';
        input.dir = 'auto';
        input.value = value || '';
        input.addEventListener('input', () => {
            /* this option refused ("options.2"): it is no more */
            invalid.clear(input, els.error);
            /* the options as a whole refused: marked on the list, said
             * to the option focused (optionToFix), which may be any */
            if (els.options.hasAttribute('aria-invalid')) {
                invalid.clear(els.options, els.error);
                optionInputs().forEach(
                    (i) => invalid.describe(i, els.error.id, false));
            }
            /* written or emptied: the rows' numbers as a save's */
            renumber();
            preview.soon();
        });
        input.addEventListener('keydown', (event) => {
            if (event.key === 'Enter' && !event.isComposing
                && !event.shiftKey && !event.ctrlKey && !event.altKey
                && !event.metaKey)
            {
                event.preventDefault();
                nextOption(li);
            }
        });
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'link-button';
        remove.textContent = 'Remove';
        remove.addEventListener('click', () => {
            const next = li.nextElementSibling || li.previousElementSibling;
            li.remove();
            renumber();
            preview.soon();
            if (next) {
                next.querySelector('input').focus();
            }
        });
        li.appendChild(label);
        li.appendChild(input);
        li.appendChild(remove);
        els.options.appendChild(li);
        renumber();
        return input;
    }

    /* Enter in an option goes on to the next, a new one after a last
     * one written (while there may be more): options are written one
     * after another, and the form submitted there was a poll half
     * written, refused as having too few options. */
    function nextOption(li) {
        const next = li.nextElementSibling;
        if (next) {
            next.querySelector('input').focus();
            return;
        }
        if (li.querySelector('input').value.trim() !== '') {
            const input = addOption('');
            if (input) {
                input.focus();
            }
        }
    }

    function clearForm() {
        els.question.value = '';
        els.options.textContent = '';
        for (let i = 0; i < OPTIONS_MIN; i++) {
            addOption('');
        }
        picker.reset();
        els.error.textContent = '';
        preview.clear();
        clearInvalid();
    }

    const editor = bulk.createForm({
        form: els.form, add: els.add, close: els.close, error: els.error,
        title: $('poll-form-title'),
        list, picker, save,
        first: els.question, clear: clearForm, fieldOf,
        fill: (item) => {
            els.question.value = item.question || '';
            els.options.textContent = '';
            (item.options || []).forEach((value) => addOption(value));
            while (els.options.children.length < OPTIONS_MIN) {
                addOption('');
            }
            preview.soon();
        },
        keep: () => ({ question: els.question.value,
                       options: optionInputs().map((i) => i.value) }),
        restore: (kept) => {
            els.question.value = kept.question;
            els.options.textContent = '';
            kept.options.forEach((value) => addOption(value));
            while (els.options.children.length < OPTIONS_MIN) {
                addOption('');
            }
            preview.soon();
        },
        focusOf: (field) => (field === els.options ? optionToFix()
                                                   : field),
    });

    /* The option a refusal of the options sends the focus to: with
     * fewer than two written, the rows left empty were not sent and
     * the refusal is theirs, so the first of them; else the first. */
    function optionToFix() {
        const inputs = optionInputs();
        const empty = inputs.find((i) => i.value.trim() === '');
        return filledOptions().length < OPTIONS_MIN && empty ? empty
            : inputs[0];
    }
    const clearInvalid = editor.clearInvalid;
    const showError = editor.showError;

    function fieldOf(name) {
        const [head, index] = String(name || '').split('.');
        switch (head) {
        case 'question':
        case 'name':
            return els.question;
        case 'options':
            return optionSent(index);
        case 'audience':
            return picker.audienceInput;
        case 'send_at':
            return picker.sendAtInput;
        default:
            return null;
        }
    }

    /* The input of a refusal's "options.<index>": the option sent at
     * that index (from 0), still in the form; the whole list for a
     * refusal of them all ("options"). */
    function optionSent(index) {
        const input = /^\d+$/.test(index || '')
            ? sentOptions[Number(index)] : null;
        return input && input.isConnected ? input : els.options;
    }

    /* rows left empty are not options; the server judges the rest */
    function filledInputs() {
        return optionInputs().filter((i) => i.value.trim() !== '');
    }

    function filledOptions() {
        return filledInputs().map((i) => i.value);
    }

    /* Rows left empty before a written one go, as a save does not send
     * them (renumber gave them no number already): a refusal's
     * "Option 3" is the row labelled Option 3.  Those after the last
     * written stay, two rows at least. */
    function closeGaps() {
        const rows = Array.from(els.options.children);
        const last = lastWritten(rows);
        rows.forEach((li, i) => {
            if (i < last && !written(li)) {
                li.remove();
            }
        });
        while (els.options.children.length < OPTIONS_MIN) {
            addOption('');
        }
        renumber();
    }

    async function save(andSend) {
        editor.begin();
        const who = picker.read();
        if (who.problem) {
            showError(who.problem, who.field);
            return;
        }
        closeGaps();
        sentOptions = filledInputs();
        await editor.submit('/api/v1/polls', {
            question: els.question.value,
            options: sentOptions.map((i) => i.value),
            audience: who.audience, send_at: who.send_at,
        }, andSend);
    }

    /* ---- the preview while writing ---- */

    /* What the preview estimates: nothing until there is a question and
     * two options (a refusal of less would be said at each key), then
     * the poll as a save sends it, its text made by the server as it
     * sends it (inbox_poll_text). */
    function estimated() {
        const who = picker.read();
        const options = filledOptions();
        if (who.problem || els.question.value.trim() === ''
            || options.length < OPTIONS_MIN) {
            return null;
        }
        return { question: els.question.value, options: options,
                 audience: who.audience, send_at: who.send_at };
    }

    /* ---- a poll's card: its options and its results ---- */

    function pollExtra(card, poll) {
        if (!card.poll) {
            const box = document.createElement('div');
            box.className = 'poll-extra';
            const options = document.createElement('ol');
            options.className = 'poll-choices';
            const button = document.createElement('button');
            button.type = 'button';
            button.className = 'action results-toggle';
            button.textContent = 'Results';
            button.setAttribute('aria-expanded', 'false');
            const results = document.createElement('section');
            results.className = 'poll-results';
            results.id = 'poll-results-' + poll.id;
            results.hidden = true;
            results.setAttribute('aria-label', 'Results');
            button.setAttribute('aria-controls', results.id);
            button.addEventListener('click', () => toggleResults(poll.id));
            box.appendChild(button);
            box.appendChild(results);
            /* the options under the question, the results last */
            card.article.insertBefore(options, card.meta);
            card.article.appendChild(box);
            card.poll = { options, button, results };
        }
        card.poll.options.textContent = '';
        (poll.options || []).forEach((o) => {
            const li = document.createElement('li');
            li.dir = 'auto';
            li.textContent = o;
            card.poll.options.appendChild(li);
        });
        card.poll.button.hidden = poll.status === 'draft';
    }

    function toggleResults(id) {
        const was = state.open;
        if (was !== null) {
            const old = list.card(was);
            if (old && old.poll) {
                old.poll.results.hidden = true;
                old.poll.button.setAttribute('aria-expanded', 'false');
            }
            state.open = null;
        }
        if (was === id) {
            return;
        }
        const card = list.card(id);
        if (!card || !card.poll) {
            return;
        }
        state.open = id;
        state.opened += 1;
        state.last = null;
        state.responses = [];
        state.cursor = null;
        state.paging = false;
        state.shown = RESPONSES_STEP;
        card.poll.results.hidden = false;
        card.poll.button.setAttribute('aria-expanded', 'true');
        if (!card.poll.results.firstChild) {
            const p = document.createElement('p');
            p.className = 'bulk-meta';
            p.textContent = 'Loading the results\u2026';
            card.poll.results.appendChild(p);
        }
        state.lastAt = 0;
        readSoon();
    }

    /* Another read of the open results: now when none is out and the
     * last was long enough ago, else once after it. */
    function readSoon() {
        if (state.inFlight) {
            state.again = true;
            return;
        }
        if (state.timer) {
            return;
        }
        state.timer = setTimeout(readResults, Math.max(0,
            state.lastAt + RESULTS_GAP_MS - Date.now()));
    }

    async function readResults() {
        state.timer = null;
        const id = state.open;
        if (id === null) {
            return;
        }
        state.inFlight = true;
        state.lastAt = Date.now();
        try {
            const r = await app.api('/api/v1/polls/'
                + encodeURIComponent(id) + '?limit=' + RESPONSES_STEP);
            if (state.open === id) {
                list.upsert(r);
                state.last = r;
                const merged = mergeResponses(state.responses, state.cursor,
                    r.responses || [], r.responses_next_cursor || null);
                state.responses = merged.responses;
                state.cursor = merged.cursor;
                const card = list.card(id);
                resultsSaid(card, '');
                drawResults(card, r);
            }
        } catch (err) {
            const card = list.card(id);
            if (!app.failed(err) && card && state.open === id) {
                resultsSaid(card, 'Could not read the results: '
                    + bulk.errorText(err));
            }
        } finally {
            state.inFlight = false;
            if (state.again) {
                state.again = false;
                readSoon();
            }
        }
    }

    /* What the results' reads say on the card: a failure, or '' once
     * one is read, which clears a failure of theirs and nothing else
     * (a refused Pause's words stay). */
    function resultsSaid(card, text) {
        if (!card) {
            return;
        }
        if (text !== '' || card.error.textContent === card.resultsSaid) {
            card.error.textContent = text;
        }
        card.resultsSaid = text;
    }

    /*
     * The newest page read now with the answers listed before (newest
     * first, none missing between the newest and the oldest of them, the
     * page after them at cursor).  An answer changed since moved to the
     * top: its old place goes.  Those older than the page's last stay;
     * when even the oldest of the page is newer than every answer listed
     * (a burst of more than a page), what came between is unknown, and
     * the list starts again from the page.
     */
    function mergeResponses(old, cursor, page, pageCursor) {
        if (pageCursor === null || page.length === 0 || old.length === 0) {
            return { responses: page, cursor: pageCursor };
        }
        const at = (x) => Date.parse(x.answered_at) || 0;
        const last = at(page[page.length - 1]);
        /* ties at the page's edge are ordered by the server's row ids:
         * what came between may share that millisecond */
        if (at(old[0]) <= last) {
            return { responses: page, cursor: pageCursor };
        }
        const inPage = new Set(page.map((x) => x.contact && x.contact.id));
        const older = old.filter((x) => at(x) <= last
            && !inPage.has(x.contact && x.contact.id));
        /* the page reaches past every answer listed: its cursor goes on */
        if (at(old[old.length - 1]) > last) {
            return { responses: page.concat(older), cursor: pageCursor };
        }
        return { responses: page.concat(older), cursor: cursor };
    }

    /* "Show more answers": those read and not shown, else the next page
     * after them. */
    async function showMore(card) {
        const id = state.open;
        if (state.responses.length >= state.shown + RESPONSES_STEP
            || state.cursor === null)
        {
            state.shown += RESPONSES_STEP;
            drawResults(card, state.last);
            return;
        }
        if (state.paging) {
            return;
        }
        const cursor = state.cursor;
        const opened = state.opened;
        state.paging = true;
        try {
            const page = await app.api('/api/v1/polls/'
                + encodeURIComponent(id) + '/responses?limit='
                + RESPONSES_STEP + '&cursor=' + encodeURIComponent(cursor));
            /* a read of the newest meanwhile may have started the list
             * again: this page follows what is listed only if its
             * cursor is still the list's */
            if (state.opened === opened && state.cursor === cursor) {
                const listed = new Set(state.responses.map((x) =>
                    x.contact && x.contact.id));
                state.responses = state.responses.concat((page.items || [])
                    .filter((x) => !listed.has(x.contact && x.contact.id)));
                state.cursor = page.next_cursor || null;
                state.shown += RESPONSES_STEP;
                resultsSaid(list.card(id), '');
                drawResults(list.card(id), state.last);
            }
        } catch (err) {
            if (!app.failed(err) && state.opened === opened) {
                resultsSaid(card, 'Could not read more answers: '
                    + bulk.errorText(err));
            }
        } finally {
            if (state.opened === opened) {
                state.paging = false;
            }
        }
    }

    function drawResults(card, r) {
        if (!card || !card.poll) {
            return;
        }
        const box = card.poll.results;
        /* a redraw (a new answer) keeps the focus on Show more answers */
        const moreFocused = document.activeElement !== null
            && document.activeElement.classList.contains('responses-more')
            && box.contains(document.activeElement);
        box.textContent = '';
        const tally = r.tally || [];
        const answered = tally.reduce((n, t) => n + (Number(t.count) || 0),
            0);
        const total = document.createElement('p');
        total.className = 'tally-total';
        total.textContent = bulk.plural(answered, 'answer', 'answers')
            + ' from ' + bulk.plural(r.counts ? r.counts.recipients : 0,
                'recipient', 'recipients');
        box.appendChild(total);

        const ol = document.createElement('ol');
        ol.className = 'tally';
        const most = tally.reduce((m, t) => Math.max(m, Number(t.count)
            || 0), 0);
        tally.forEach((t, i) => {
            const n = Number(t.count) || 0;
            const li = document.createElement('li');
            li.className = 'tally-row';
            li.dataset.option = String(t.number || i + 1);
            const name = document.createElement('span');
            name.className = 'tally-option';
            name.dir = 'auto';
            name.textContent = (t.number || i + 1) + ') ' + t.option;
            const bar = document.createElement('span');
            bar.className = 'tally-bar';
            bar.setAttribute('aria-hidden', 'true');
            const fill = document.createElement('span');
            fill.className = 'tally-fill';
            /* CSSOM, which the page's style-src allows */
            fill.style.width = (most > 0 ? Math.round(100 * n / most) : 0)
                + '%';
            bar.appendChild(fill);
            const count = document.createElement('span');
            count.className = 'tally-count';
            count.textContent = String(n) + (answered > 0 ? ' ('
                + Math.round(100 * n / answered) + '%)' : '');
            li.appendChild(name);
            li.appendChild(bar);
            li.appendChild(count);
            ol.appendChild(li);
        });
        box.appendChild(ol);

        const responses = state.responses;
        const h = document.createElement('h4');
        h.className = 'responses-title';
        h.textContent = 'Responses';
        box.appendChild(h);
        if (responses.length === 0) {
            const p = document.createElement('p');
            p.className = 'bulk-meta';
            p.textContent = 'No answers yet.';
            box.appendChild(p);
            return;
        }
        const ul = document.createElement('ul');
        ul.className = 'responses';
        responses.slice(0, state.shown).forEach((x) => {
            const li = document.createElement('li');
            li.className = 'response';
            const who = document.createElement('span');
            who.className = 'response-who';
            who.dir = 'auto';
            const c = x.contact || {};
            who.textContent = window.inboxApp.displayName(c);
            const answer = document.createElement('span');
            answer.className = 'response-answer';
            answer.dir = 'auto';
            answer.textContent = x.answer || '';
            const at = document.createElement('time');
            at.className = 'response-at';
            window.inboxTimes.stamp(at, x.answered_at);
            li.appendChild(who);
            li.appendChild(answer);
            li.appendChild(at);
            ul.appendChild(li);
        });
        box.appendChild(ul);
        const shown = Math.min(responses.length, state.shown);
        if (responses.length > shown || state.cursor !== null) {
            /* the tally counts every answer, one a recipient */
            const left = Math.max(answered, responses.length) - shown;
            const more = document.createElement('button');
            more.type = 'button';
            more.className = 'action responses-more';
            more.textContent = 'Show more answers'
                + (left > 0 ? ' (' + left.toLocaleString() + ' more)' : '');
            more.addEventListener('click', () => showMore(card));
            box.appendChild(more);
            if (moreFocused) {
                more.focus();
            }
        } else if (moreFocused) {
            /* the last of them shown: the focus to the list's last */
            const last = ul.lastElementChild;
            last.tabIndex = -1;
            last.focus();
        }
    }

    /* ---- wiring ---- */

    els.question.addEventListener('input', preview.soon);
    picker.onChange(preview.soon);
    /* contacts changed (audience.js): who it reaches, and its cost */
    picker.onCounts(preview.soon);
    els.addOption.addEventListener('click', () => {
        const input = addOption('');
        if (input) {
            input.focus();
        }
    });
    els.view.addEventListener('inbox:show', () => list.load(false));

    app.on('event', (ev) => {
        /* an answer moved the open poll's counts */
        if (state.open !== null && ev.type === 'campaign.progress'
            && ev.id === state.open)
        {
            readSoon();
        }
    });
    /* frames may have been missed (a reset, a gap the app saw) */
    app.on('resync', () => {
        if (state.open !== null) {
            readSoon();
        }
    });
    app.on('session', () => {
        clearTimeout(state.timer);
        state.timer = null;
        state.open = null;
        state.again = false;
    });

    clearForm();
})(window.inboxApp, window.inboxBulk, window.inboxAudience);
