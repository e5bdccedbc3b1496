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
 * are read again whenever the view is shown.  A settings.updated frame
 * (someone else saved them, or inboxctl) shows in the form at once; a
 * field being edited (typed, not saved) keeps what was typed, the others
 * show the new values, and the form says it was changed by someone else
 * and offers to reload the settings (what was typed dropped).  A
 * billing.updated frame (credits granted, billing or the plan changed)
 * shows in the billing card at once, and the ledger is read again for
 * its new entry; so are both after a message.status (a message's credits
 * held, spent or given back make no frame of their own); all are read
 * again after a resync (frames missed).
 *
 * Each ledger entry of a message names the campaign or poll that sent it
 * (as the thread names it: "Campaign “Spring sale”"; the app has no
 * page of one campaign to link to), whom it was for, a link that opens
 * the thread, and a release why the message failed (its error_code, in
 * delivery.js's words).
 *
 * What it uses of the app is window.inboxApp (api, failed, on,
 * showConversation, displayName, bulkName, billing: its billing read
 * shows in the header too); Save is busy.js's (window.inboxBusy); a
 * failure's reason by delivery.js (window.inboxDelivery); an entry's
 * time by times.js (window.inboxTimes), as a thread writes one.
 */
'use strict';

(function (app, busy, delivery) {
    const invalid = window.inboxInvalid;
    const LEDGER_PAGE = 25;
    /* a burst of status frames (a campaign's) read for once */
    const CREDITS_DELAY_MS = 300;

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
        changed: $('settings-changed'),
        changedText: $('settings-changed-text'),
        reload: $('settings-reload'),
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

    /* the form's fields: their names said when someone else changed
     * one being edited */
    const FORM_FIELDS = {
        business: 'the business name',
        support: 'the support contact',
        timezone: 'the time zone',
        country: 'the country of phone numbers',
        quietStart: 'the quiet hours',
        quietEnd: 'the quiet hours',
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
        settingsFrames: 0,      /* settings.updated frames taken in */
        latest: null,           /* the settings of the last of them */
        saving: false,          /* a save's answer is on its way */
        heard: [],              /* the settings of the frames that came
                                   while it was */
        saves: 0,               /* a read begun before one keeps off */
        ledgerMore: false,      /* the ledger's next page is on its way */
        creditsTimer: null,     /* a read for credits that moved */
        readFailed: false,      /* a read of the view failed (offline,
                                   say), to be made again when back */
    };

    /* ---- the settings ---- */

    /* Each field's value as settings s fill it. */
    function shownOf(s) {
        const q = (s && s.quiet_hours) || {};
        s = s || {};
        return {
            business: s.business_name || '',
            support: s.support_contact || '',
            timezone: s.timezone || '',
            country: s.default_country || '',
            quietStart: q.start || '',
            quietEnd: q.end || '',
        };
    }

    /* Each field's value as a save reads it (changes()). */
    function typed() {
        return {
            business: els.business.value.trim(),
            support: els.support.value.trim(),
            timezone: els.timezone.value.trim(),
            country: els.country.value,
            quietStart: els.quietStart.value,
            quietEnd: els.quietEnd.value,
        };
    }

    function sameSettings(a, b) {
        const x = shownOf(a);
        const y = shownOf(b);
        return Object.keys(FORM_FIELDS).every((k) => x[k] === y[k]);
    }

    function hideChanged() {
        els.changed.hidden = true;
        els.changedText.textContent = '';
    }

    function fill(s) {
        state.saved = s;
        hideChanged();
        offerCountries(s.countries || []);
        const v = shownOf(s);
        Object.keys(FORM_FIELDS).forEach((k) => {
            els[k].value = v[k];
        });
        offerLocalZone();
    }

    /* The first settings read, shown: a field typed in while it was on
     * its way (the form empty till then) keeps what was typed. */
    function fillKeepingTyped(s) {
        const empty = shownOf(null);
        const now = typed();
        const kept = {};
        Object.keys(FORM_FIELDS).forEach((k) => {
            if (now[k] !== empty[k]) {
                kept[k] = els[k].value;
            }
        });
        fill(s);
        Object.keys(kept).forEach((k) => {
            els[k].value = kept[k];
        });
        offerLocalZone();
    }

    /*
     * Settings s, newer than the form's (a frame, or a read no frame
     * overtook), shown.  An untouched form takes them all (said, when
     * another's change moved it); one being edited keeps each field
     * typed in and takes the others, so that a save sends what was
     * typed over them, and says that someone else changed them.
     */
    function take(s, said) {
        if (state.saved === null) {
            fillKeepingTyped(s);
            return;
        }
        if (sameSettings(s, state.saved)) {
            return;
        }
        const was = shownOf(state.saved);
        const next = shownOf(s);
        const now = typed();
        const edited = Object.keys(FORM_FIELDS).filter(
            (k) => now[k] !== was[k]);
        if (edited.length === 0) {
            fill(s);
            if (said) {
                els.status.textContent = 'Changed by someone else.';
            }
            return;
        }
        const clashes = [];
        Object.keys(FORM_FIELDS).forEach((k) => {
            if (!edited.includes(k)) {
                els[k].value = next[k];
            } else if (next[k] !== was[k]
                       && !clashes.includes(FORM_FIELDS[k])) {
                clashes.push(FORM_FIELDS[k]);
            }
        });
        state.saved = s;
        offerLocalZone();
        els.status.textContent = '';
        const text = 'Changed by someone else while you were editing. '
            + (clashes.length > 0
                ? 'What you typed is kept, so saving replaces their '
                    + clashes.join(' and ') + '.'
                : 'What you typed is kept; the rest shows their '
                    + 'changes.');
        els.changedText.textContent = text;
        els.changed.hidden = false;
        app.announce(text);
    }

    function clearError() {
        els.error.textContent = '';
        Object.values(FIELDS).forEach((el) => invalid.clear(el, els.error));
    }

    function showError(err) {
        els.error.textContent = typeof err.status === 'number' ? err.message
            : 'The server could not be reached. Try again.';
        const el = err.error && FIELDS[err.error.field];
        if (el) {
            invalid.mark(el, els.error);
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

    /*
     * The answer shows what the save left.  Frames come in order: those
     * heard while it was on its way before this save's own (the one
     * whose settings are the answer's) are older than the answer, and
     * its own, come after the answer, is the settings shown (take()
     * leaves them).  Only one after its own, heard already, is a
     * colleague's newer change, and said so; so the saver's own change
     * never reads as someone else's.
     */
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
        const frames = state.settingsFrames;
        state.saving = true;
        state.heard = [];
        try {
            const saved = await app.api('/api/v1/settings',
                { method: 'PATCH', body: body });
            state.saving = false;
            const heard = state.heard;
            state.heard = [];
            fill(saved);
            els.status.textContent = 'Saved.';
            const own = heard.findIndex((s) => sameSettings(s, saved));
            if (own >= 0 && !sameSettings(heard[heard.length - 1], saved)) {
                take(heard[heard.length - 1], true);
            }
        } catch (err) {
            state.saving = false;
            if (frames !== state.settingsFrames) {
                take(state.latest, true);
            }
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
        a.textContent = app.displayName(entry.contact);
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

    /* "Held for a message to Ann Lee", "Held for a message from
     * Campaign “Spring sale” to Ann Lee", "Given back for a message to
     * Ann Lee: the contact has opted out"; a message gone since names
     * nobody. */
    function ledgerWhat(entry) {
        const td = document.createElement('td');
        const bulk = entry.campaign;
        td.textContent = LEDGER_WORDS[entry.kind] || entry.kind;
        if (bulk) {
            const name = document.createElement('span');
            name.className = 'ledger-campaign';
            name.dataset.campaignId = bulk.id;
            name.textContent = app.bulkName(bulk.kind, bulk.name);
            td.appendChild(document.createTextNode(' from '));
            td.appendChild(name);
        }
        if (entry.contact && entry.conversation_id) {
            td.appendChild(document.createTextNode(' to '));
            td.appendChild(threadLink(entry));
        }
        if (entry.kind === 'release'
            && entry.error_code === 'campaign_paused') {
            /* not a failure: parked while its campaign is paused, and
             * held again as it goes */
            td.appendChild(document.createTextNode(': its '
                + (bulk && bulk.kind === 'poll' ? 'poll' : 'campaign')
                + ' was paused; held again when it goes'));
        } else if (entry.kind === 'release') {
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
        window.inboxTimes.stamp(time, entry.at);
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

    /* Settings as a read begun at frames (settings.updated frames taken
     * in then) and saves has them: shown unless a frame came meanwhile
     * (newer, and shown already) or a save began (its answer is). */
    function showSettingsRead(settings, frames, saves) {
        if (frames === state.settingsFrames && saves === state.saves
            && !state.saving)
        {
            take(settings, false);
        }
    }

    async function load() {
        const seq = ++state.seq;
        const saves = state.saves;
        const frames = state.billingFrames;
        const settingsFrames = state.settingsFrames;
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
            state.readFailed = false;
            showSettingsRead(settings, settingsFrames, saves);
            await showBillingRead(billing, seq, frames);
        } catch (err) {
            if (!app.failed(err) && seq === state.seq) {
                state.readFailed = true;
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
    els.reload.addEventListener('click', () => {
        if (state.saved !== null) {
            clearError();
            fill(state.saved);
            els.status.textContent = 'The saved settings are shown.';
            els.business.focus();
        }
    });
    els.view.addEventListener('inbox:show', load);

    /* Settings changed (someone else's save, inboxctl): the form shows
     * them, what is being typed kept; a hidden view reads them when
     * shown, and a save on its way shows the newest once answered. */
    app.on('event', (ev) => {
        if (ev.type !== 'settings.updated' || !ev.settings) {
            return;
        }
        state.settingsFrames += 1;
        state.latest = ev.settings;
        if (state.saving) {
            state.heard.push(ev.settings);
            return;
        }
        if (els.view.hidden) {
            return;
        }
        take(ev.settings, true);
    });

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

    /* Credits held, spent or given back for a message (a reply or a
     * campaign's, sent, delivered or failed) make no billing.updated:
     * its message.status is told.  While the view is shown, the card
     * and the ledger are read again after it, once for a burst. */
    async function creditsMoved() {
        state.creditsTimer = null;
        if (els.view.hidden) {
            return;
        }
        const seq = state.seq;
        const frames = state.billingFrames;
        try {
            const billing = await app.api('/api/v1/billing');
            if (seq === state.seq) {
                await showBillingRead(billing, seq, frames);
            }
        } catch (err) {
            if (!app.failed(err) && seq === state.seq) {
                state.readFailed = true;
                els.ledgerStatus.textContent = 'Could not read the '
                    + 'billing again: '
                    + (typeof err.status === 'number' ? err.message
                        : 'the server could not be reached.');
            }
        }
    }

    app.on('event', (ev) => {
        if (ev.type === 'message.status' && !els.view.hidden
            && state.creditsTimer === null)
        {
            state.creditsTimer = setTimeout(creditsMoved,
                                            CREDITS_DELAY_MS);
        }
    });

    /* Frames may have been missed (a reset, a gap): a settings.updated
     * or billing.updated among them would leave the form, the card and
     * the ledger as they were.  All as the server has them, what is
     * being typed kept. */
    async function readAgain() {
        if (els.view.hidden) {
            return;
        }
        const seq = state.seq;
        const frames = state.billingFrames;
        const settingsFrames = state.settingsFrames;
        const saves = state.saves;
        try {
            const [settings, billing] = await Promise.all([
                app.api('/api/v1/settings'),
                app.api('/api/v1/billing'),
            ]);
            if (seq !== state.seq) {
                return;
            }
            if (state.readFailed) {
                state.readFailed = false;
                els.ledgerStatus.textContent = '';
            }
            showSettingsRead(settings, settingsFrames, saves);
            await showBillingRead(billing, seq, frames);
        } catch (err) {
            if (!app.failed(err) && seq === state.seq) {
                state.readFailed = true;
                els.ledgerStatus.textContent = 'Could not read the '
                    + 'settings and billing again: '
                    + (typeof err.status === 'number' ? err.message
                        : 'the server could not be reached.');
            }
        }
    }

    app.on('resync', readAgain);

    /* The connection back: a read that failed (offline, say) is made
     * again, rather than left said until the view is shown anew; the
     * first, never shown, as a first, what is being typed kept else. */
    app.on('back', () => {
        if (state.readFailed && !els.view.hidden) {
            if (state.saved === null) {
                load();
            } else {
                readAgain();
            }
        }
    });

    app.on('session', (me) => {
        state.seq += 1;
        state.readFailed = false;
        state.saved = null;
        /* empty, as before a first read (another's settings are not
         * shown, nor taken for typed, fillKeepingTyped) */
        Object.keys(FORM_FIELDS).forEach((k) => {
            els[k].value = '';
        });
        state.latest = null;
        hideChanged();
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
})(window.inboxApp, window.inboxBusy, window.inboxDelivery);
