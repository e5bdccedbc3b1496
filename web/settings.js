/*
 * The Settings view: the organization's settings (GET and PATCH
 * /api/v1/settings: business name, support contact, time zone, quiet
 * hours, the country of numbers written without a country code, chosen
 * among the codes the server lists) and its billing (GET
 * /api/v1/billing: plan, whether billing is active, the balance and
 * what is held; for a billing contact also GET /api/v1/billing/ledger,
 * every change of the credits, newest first).
 *
 * Everyone of the organization sees them; only a billing contact may
 * change the settings or read the ledger (the server says so too: a
 * member's PATCH is 403).  Each value is checked by the server alone,
 * whose message names the field; the form keeps what was typed.  Both
 * are read again whenever the view is shown.  A billing.updated frame
 * (credits granted, billing or the plan changed) shows in the billing
 * card at once, and the ledger is read again for its new entry; so
 * are both after a resync (frames missed).
 *
 * Each ledger entry of a message names whom it was for, a link that
 * opens the thread, and a release why the message failed (its
 * error_code, in delivery.js's words).
 *
 * What it uses of the app is window.inboxApp (api, failed, on,
 * showConversation, billing: its billing read shows in the header too);
 * Save is busy.js's (window.inboxBusy); a number is shown by phone.js
 * (window.inboxPhone), a failure's reason by delivery.js
 * (window.inboxDelivery).
 */
'use strict';

(function (app, busy, phone, delivery) {
    const LEDGER_PAGE = 25;

    const $ = (id) => document.getElementById(id);

    const els = {
        view: $('settings-view'),
        form: $('settings-form'),
        who: $('settings-who'),
        business: $('settings-business'),
        support: $('settings-support'),
        timezone: $('settings-timezone'),
        timezoneLocal: $('settings-timezone-local'),
        timezoneHere: $('settings-timezone-here'),
        timezoneUse: $('settings-timezone-use'),
        country: $('settings-country'),
        quietStart: $('settings-quiet-start'),
        quietEnd: $('settings-quiet-end'),
        error: $('settings-error'),
        save: $('settings-save'),
        status: $('settings-status'),
        figures: $('billing-figures'),
        ledgerTitle: $('ledger-title'),
        ledgerStatus: $('ledger-status'),
        ledger: $('ledger'),
        ledgerRows: $('ledger-rows'),
        ledgerMore: $('ledger-more'),
    };

    /* the field a 400 names -> its input */
    const FIELDS = {
        business_name: els.business,
        support_contact: els.support,
        timezone: els.timezone,
        default_country: els.country,
        quiet_hours: els.quietStart,
        'quiet_hours.start': els.quietStart,
        'quiet_hours.end': els.quietEnd,
    };

    /* what an entry did; one of a message goes on "… to <whom>" */
    const LEDGER_WORDS = {
        grant: 'Credits added',
        hold: 'Held for a message',
        release: 'Given back for a message',
        capture: 'Spent what was held for a message',
    };

    const state = {
        billingRole: false,
        saved: null,            /* the settings as the server last said */
        cursor: null,           /* the ledger's next page */
        seq: 0,                 /* answers to an older read are dropped */
        ledgerSeq: 0,           /* the ledger's newest first-page read */
        billingFrames: 0,       /* billing.updated frames taken in */
        saves: 0,               /* a read begun before one keeps off */
        ledgerMore: false,      /* the ledger's next page is on its way */
    };

    /* ---- the settings ---- */

    function fill(s) {
        state.saved = s;
        els.business.value = s.business_name || '';
        els.support.value = s.support_contact || '';
        els.timezone.value = s.timezone || '';
        offerLocalZone();
        offerCountries(s.countries || []);
        els.country.value = s.default_country || '';
        els.quietStart.value = s.quiet_hours ? s.quiet_hours.start : '';
        els.quietEnd.value = s.quiet_hours ? s.quiet_hours.end : '';
    }

    function clearError() {
        els.error.textContent = '';
        Object.values(FIELDS).forEach((el) =>
            el.removeAttribute('aria-invalid'));
    }

    function showError(err) {
        els.error.textContent = typeof err.status === 'number' ? err.message
            : 'The server could not be reached. Try again.';
        const el = err.error && FIELDS[err.error.field];
        if (el) {
            el.setAttribute('aria-invalid', 'true');
            el.focus();
        }
    }

    /* Only what changed goes: an empty name or contact is null (the
     * name falls back to the organization's). */
    function changes() {
        const body = {};
        const s = state.saved || {};
        const business = els.business.value.trim();
        const support = els.support.value.trim();
        if (business !== (s.business_name || '')) {
            body.business_name = business === '' ? null : business;
        }
        if (support !== (s.support_contact || '')) {
            body.support_contact = support === '' ? null : support;
        }
        if (els.timezone.value.trim() !== (s.timezone || '')) {
            body.timezone = els.timezone.value.trim();
        }
        if (els.country.value !== (s.default_country || '')) {
            body.default_country = els.country.value || null;
        }
        const q = s.quiet_hours || {};
        if (els.quietStart.value !== q.start || els.quietEnd.value !== q.end) {
            body.quiet_hours = { start: els.quietStart.value,
                                 end: els.quietEnd.value };
        }
        return body;
    }

    async function save() {
        if (!state.billingRole) {
            return;
        }
        clearError();
        els.status.textContent = '';
        const body = changes();
        if (Object.keys(body).length === 0) {
            els.status.textContent = 'Nothing to save.';
            return;
        }
        state.saves += 1;
        try {
            fill(await app.api('/api/v1/settings',
                { method: 'PATCH', body: body }));
            els.status.textContent = 'Saved.';
        } catch (err) {
            if (!app.failed(err)) {
                showError(err);
            }
        }
    }

    /* The browser's own zone, offered to a billing contact while the
     * field says another (an organization made without one is on UTC,
     * whose 21:00 is mid-afternoon in the Americas). */
    const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'GMT',
                               'Etc/GMT', 'Universal', 'Etc/Universal',
                               'Zulu', 'Etc/Zulu']);

    function offerLocalZone() {
        const here = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
        const set = els.timezone.value.trim();
        els.timezoneHere.textContent = here;
        els.timezoneLocal.hidden = !state.billingRole || here === ''
            || here === set || (UTC_NAMES.has(here) && UTC_NAMES.has(set));
    }

    function setRole(billingRole) {
        state.billingRole = billingRole;
        els.who.hidden = billingRole;
        [els.business, els.support, els.timezone, els.country,
         els.quietStart, els.quietEnd].forEach((el) => {
            el.disabled = !billingRole;
        });
        els.save.hidden = !billingRole;
        els.ledgerTitle.hidden = !billingRole;
        offerLocalZone();
    }

    /* the codes the server takes, named in the browser's language; the
     * first option, "", is none (the server's default) */
    function offerCountries(codes) {
        if (els.country.options.length > 1) {
            return;
        }
        let names = null;
        try {
            names = new Intl.DisplayNames(undefined, { type: 'region' });
        } catch (err) {
            names = null;
        }
        codes.forEach((code) => {
            const option = document.createElement('option');
            option.value = code;
            option.textContent = names
                ? `${names.of(code)} (${code})` : code;
            els.country.appendChild(option);
        });
    }

    /* ---- billing ---- */

    function figure(term, value, key) {
        const dt = document.createElement('dt');
        dt.textContent = term;
        const dd = document.createElement('dd');
        dd.textContent = value;
        dd.dataset.billing = key;
        els.figures.appendChild(dt);
        els.figures.appendChild(dd);
    }

    function showBilling(b) {
        els.figures.textContent = '';
        figure('Plan', b.plan === 'unlimited'
            ? 'Unlimited: your subscription pays for every message'
            : 'Per message: each message takes credits', 'plan');
        figure('Billing', b.active ? 'Active'
            : 'Inactive: nothing can be sent', 'active');
        figure('Credits to spend',
            Number(b.credits.balance).toLocaleString(), 'balance');
        figure('Held for messages on their way',
            Number(b.credits.held).toLocaleString(), 'held');
    }

    /* The change to the credits to spend.  A capture moves nothing from
     * the balance (the hold already did): it spends what was held, and
     * says so, lest a message look charged twice. */
    function ledgerChange(entry) {
        const n = Number(entry.credits).toLocaleString();
        switch (entry.kind) {
        case 'grant':
        case 'release':
            return '+' + n;
        case 'capture':
            return '\u2212' + n + ' held';
        default:
            return '\u2212' + n;
        }
    }

    /* A link that opens the thread of the entry's message, named as its
     * contact is now. */
    function threadLink(entry) {
        const a = document.createElement('a');
        a.href = '#inbox';
        a.className = 'ledger-thread';
        a.textContent = entry.contact.name
            || phone.format(entry.contact.phone);
        a.addEventListener('click', async (event) => {
            event.preventDefault();
            try {
                await app.showConversation(entry.conversation_id);
            } catch (err) {
                if (!app.failed(err)) {
                    els.ledgerStatus.textContent = 'Could not open the '
                        + 'thread: ' + err.message;
                }
            }
        });
        return a;
    }

    /* "Held for a message to Ann Lee", "Given back for a message to
     * Ann Lee: the contact has opted out"; a message gone
     * since names nobody. */
    function ledgerWhat(entry) {
        const td = document.createElement('td');
        td.textContent = LEDGER_WORDS[entry.kind] || entry.kind;
        if (entry.contact && entry.conversation_id) {
            td.appendChild(document.createTextNode(' to '));
            td.appendChild(threadLink(entry));
        }
        if (entry.kind === 'release') {
            const why = delivery.reason(entry.error_code);
            td.appendChild(document.createTextNode(': '
                + (why || 'not delivered')));
        }
        return td;
    }

    function ledgerRow(entry) {
        const tr = document.createElement('tr');
        const when = document.createElement('td');
        const time = document.createElement('time');
        time.dateTime = entry.at;
        time.textContent = new Date(entry.at).toLocaleString();
        when.appendChild(time);
        tr.appendChild(when);
        tr.appendChild(ledgerWhat(entry));
        [ledgerChange(entry),
         Number(entry.balance).toLocaleString(),
         Number(entry.held).toLocaleString()].forEach((text) => {
            const td = document.createElement('td');
            td.className = 'num';
            td.textContent = text;
            tr.appendChild(td);
        });
        tr.dataset.kind = entry.kind;
        return tr;
    }

    /* The first page again (more: the next one); an answer to a read
     * that a newer first-page read overtook is dropped. */
    async function loadLedger(more, seq) {
        const ledgerSeq = more ? state.ledgerSeq : ++state.ledgerSeq;
        let path = '/api/v1/billing/ledger?limit=' + LEDGER_PAGE;
        if (more && state.cursor) {
            path += '&cursor=' + encodeURIComponent(state.cursor);
        }
        const page = await app.api(path);
        if (seq !== state.seq || ledgerSeq !== state.ledgerSeq) {
            return;
        }
        if (!more) {
            els.ledgerRows.textContent = '';
        }
        const focused = document.activeElement === els.ledgerMore;
        const first = els.ledgerRows.childElementCount;
        (page.items || []).forEach((entry) =>
            els.ledgerRows.appendChild(ledgerRow(entry)));
        state.cursor = page.next_cursor || null;
        els.ledger.hidden = els.ledgerRows.childElementCount === 0;
        els.ledgerStatus.textContent = els.ledger.hidden
            ? 'No credits have moved yet.' : '';
        els.ledgerMore.hidden = !state.cursor;
        /* the button gone with the focus: the first change it brought
         * (or the last shown) takes it, not the page */
        const heir = els.ledgerRows.children[first]
            || els.ledgerRows.lastElementChild;
        if (focused && els.ledgerMore.hidden && heir) {
            heir.tabIndex = -1;
            heir.focus();
        }
    }

    /* ---- reading it all ---- */

    /* Billing as a read begun at frames (billing.updated frames taken in
     * then) has it: the card and the header show it unless a frame that
     * came meanwhile is newer; the ledger is read again for a billing
     * contact. */
    async function showBillingRead(billing, seq, frames) {
        if (frames === state.billingFrames) {
            showBilling(billing);
            app.billing(billing);
        }
        if (state.billingRole) {
            await loadLedger(false, seq);
        }
    }

    async function load() {
        const seq = ++state.seq;
        const saves = state.saves;
        const frames = state.billingFrames;
        clearError();
        els.status.textContent = '';
        try {
            const [settings, billing] = await Promise.all([
                app.api('/api/v1/settings'),
                app.api('/api/v1/billing'),
            ]);
            if (seq !== state.seq) {
                return;
            }
            /* the form is the person's once they saved or typed while
             * this read was out: the save's answer is newer */
            if (saves === state.saves
                && (state.saved === null
                    || Object.keys(changes()).length === 0))
            {
                fill(settings);
            }
            await showBillingRead(billing, seq, frames);
        } catch (err) {
            if (!app.failed(err) && seq === state.seq) {
                showError(err);
            }
        }
    }

    els.form.addEventListener('submit', (event) => {
        event.preventDefault();
        busy.whileBusy(els.save, save);
    });
    window.inboxZones.offerTo(els.timezone);
    els.timezone.addEventListener('input', offerLocalZone);
    els.timezoneUse.addEventListener('click', () => {
        els.timezone.value = els.timezoneHere.textContent;
        offerLocalZone();
        els.timezone.focus();
    });
    els.ledgerMore.addEventListener('click', async () => {
        if (state.ledgerMore) {
            return;             /* a second click: one next page */
        }
        state.ledgerMore = true;
        try {
            await loadLedger(true, state.seq);
        } catch (err) {
            if (!app.failed(err)) {
                els.ledgerStatus.textContent = err.message;
            }
        } finally {
            state.ledgerMore = false;
        }
    });
    els.view.addEventListener('inbox:show', load);

    /* Billing changed (inboxctl): the card shows it, and the ledger its
     * entry; a hidden view reads both when shown. */
    app.on('event', (ev) => {
        if (ev.type !== 'billing.updated' || !ev.billing
            || !ev.billing.credits)
        {
            return;
        }
        state.billingFrames += 1;
        if (els.view.hidden) {
            return;
        }
        showBilling(ev.billing);
        if (state.billingRole) {
            loadLedger(false, state.seq).catch((err) => {
                if (!app.failed(err)) {
                    els.ledgerStatus.textContent = err.message;
                }
            });
        }
    });

    /* Frames may have been missed (a reset, a gap): a billing.updated
     * among them would leave the card and the ledger as they were.
     * Both as the server has them; the form, which no frame moves, as
     * it is. */
    app.on('resync', async () => {
        if (els.view.hidden) {
            return;
        }
        const seq = state.seq;
        const frames = state.billingFrames;
        try {
            const billing = await app.api('/api/v1/billing');
            if (seq !== state.seq) {
                return;
            }
            await showBillingRead(billing, seq, frames);
        } catch (err) {
            if (!app.failed(err) && seq === state.seq) {
                els.ledgerStatus.textContent = 'Could not read billing '
                    + 'again: ' + (typeof err.status === 'number'
                        ? err.message
                        : 'the server could not be reached.');
            }
        }
    });

    app.on('session', (me) => {
        state.seq += 1;
        state.saved = null;
        state.cursor = null;
        els.ledgerRows.textContent = '';
        els.ledger.hidden = true;
        els.ledgerMore.hidden = true;
        els.figures.textContent = '';
        setRole(Boolean(me) && me.role === 'billing');
        /* shown already (a reload on #settings): read as this role */
        if (me && !els.view.hidden) {
            load();
        }
    });
})(window.inboxApp, window.inboxBusy, window.inboxPhone,
   window.inboxDelivery);
