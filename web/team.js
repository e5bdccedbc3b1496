/*
 * The Settings view's Team section: the organization's users (GET
 * /api/v1/users) for everyone; for a billing contact a role to choose on
 * each row and a "Change role" button that stores it (PATCH
 * /api/v1/users/{id}), on a colleague's row "New password…", a dialog
 * that gives one who forgot theirs a new first password (POST
 * /api/v1/users/{id}/password), a Remove button with a confirmation
 * (DELETE), and
 * a form that adds someone with a first password (POST /api/v1/users).
 *
 * Choosing in the role's list changes nothing by itself: Chromium fires
 * `change` for every arrow key on a closed list, so acting on it would
 * store each role a keyboard user passes.  The stored role is said in
 * the team's status, and focus stays on the row's list.
 *
 * The server keeps the rule that the organization has a billing contact:
 * one's own row while one is the only one the list shows offers no role
 * list and no Remove, and says why; a refusal (the team changed
 * meanwhile) is shown, and the row goes back to what is stored.  A
 * change to one's own role asks first, then reloads the page, so that
 * every view reads the new role; removing oneself ends the session.  The
 * list is drawn again on every read, keeping the control that had focus
 * and a role chosen but not stored yet.  The team's events
 * (user.updated, user.removed, user.signed_out) and a resync (events
 * may have been missed) read the list again while it is shown, so a
 * colleague's changes appear at once; a read that failed (offline, say)
 * is made again when the connection is back (the app's back).
 *
 * What it uses of the app is window.inboxApp (api, failed, announce,
 * on); a button at work is busy.js's (window.inboxBusy).  "Change role"
 * is disabled only while the list shows the stored role: it becomes so
 * while the list has the focus, or after a change, once the focus went
 * back to the list.
 */
'use strict';

(function (app, busy) {
    const invalid = window.inboxInvalid;
    const $ = (id) => document.getElementById(id);

    const els = {
        view: $('settings-view'),
        who: $('team-who'),
        status: $('team-status'),
        list: $('team-list'),
        error: $('team-error'),
        form: $('team-form'),
        email: $('team-email'),
        password: $('team-password'),
        role: $('team-role'),
        formError: $('team-form-error'),
        add: $('team-add'),
        formStatus: $('team-form-status'),
        dialog: $('team-dialog'),
        dialogText: $('team-dialog-text'),
        roleDialog: $('team-role-dialog'),
        roleDialogText: $('team-role-dialog-text'),
        passwordDialog: $('team-password-dialog'),
        passwordDialogText: $('team-password-dialog-text'),
        passwordForm: $('team-password-form'),
        newPassword: $('team-new-password'),
        passwordError: $('team-password-error'),
        passwordCancel: $('team-password-cancel'),
        passwordSet: $('team-password-set'),
    };

    const ROLE_WORDS = { member: 'Member', billing: 'Billing contact' };
    const ROLE_NOUNS = { member: 'a member', billing: 'a billing contact' };

    /* the field a 400 or 409 names -> its input */
    const FIELDS = {
        email: els.email,
        password: els.password,
        role: els.role,
    };

    const state = {
        billingRole: false,
        billingCount: 0,        /* the billing contacts the list shows */
        meId: null,
        removing: null,         /* the user the dialog asks about */
        resetting: null,        /* the colleague given a new password */
        stepping: null,         /* one's own role change, being asked */
        said: '',               /* the last role change stored */
        seq: 0,                 /* answers to an older read are dropped */
        failed: false,          /* the last read failed */
    };

    function message(err) {
        return typeof err.status === 'number' ? err.message
            : 'The server could not be reached. Try again.';
    }

    /* the team's status; the same words again are not read out again */
    function say(text) {
        if (els.status.textContent !== text) {
            els.status.textContent = text;
        }
    }

    /* ---- the list ---- */

    /* One's own row while one is the organization's only billing
     * contact: the server would refuse both stepping down and removal
     * (inbox_team_keeps_billing), so neither is offered, and the row
     * says why.  The server still refuses one a colleague's change
     * made possible, then not (a read shows it). */
    const lastBilling = (user) => user.id === state.meId
        && user.role === 'billing' && state.billingCount === 1;

    function roleControls(user, li) {
        if (!state.billingRole || lastBilling(user)) {
            const span = document.createElement('span');
            span.className = 'team-role';
            span.textContent = ROLE_WORDS[user.role] || user.role;
            li.appendChild(span);
            if (state.billingRole) {
                const why = document.createElement('span');
                why.className = 'team-why';
                why.textContent = 'You are the only billing contact: make'
                    + ' someone else one before you step down or leave.';
                li.appendChild(why);
            }
            return;
        }
        const select = document.createElement('select');
        select.className = 'team-role';
        select.dataset.control = 'role';
        select.setAttribute('aria-label', 'Role of ' + user.email);
        Object.keys(ROLE_WORDS).forEach((role) => {
            const option = document.createElement('option');
            option.value = role;
            option.textContent = ROLE_WORDS[role];
            select.appendChild(option);
        });
        select.value = user.role;
        const save = document.createElement('button');
        save.type = 'button';
        save.className = 'action team-role-save';
        save.dataset.control = 'save';
        save.textContent = 'Change role';
        save.setAttribute('aria-label', 'Change role of ' + user.email);
        save.disabled = true;
        const chosen = () => {
            save.disabled = select.value === user.role;
        };
        select.addEventListener('input', chosen);
        select.addEventListener('change', chosen);
        save.addEventListener('click', () => {
            if (user.id === state.meId) {
                confirmOwnRole(user, select, save);
            } else {
                changeRole(user, select, save);
            }
        });
        li.appendChild(select);
        li.appendChild(save);
    }

    function row(user) {
        const li = document.createElement('li');
        li.className = 'team-member';
        li.dataset.userId = user.id;
        li.dataset.role = user.role;
        const who = document.createElement('span');
        who.className = 'team-email';
        who.textContent = user.email;
        if (user.id === state.meId) {
            const you = document.createElement('span');
            you.className = 'team-you';
            you.textContent = ' (you)';
            who.appendChild(you);
        }
        li.appendChild(who);
        roleControls(user, li);
        if (state.billingRole && user.id !== state.meId) {
            /* one's own is changed with the current one (password.js) */
            const reset = document.createElement('button');
            reset.type = 'button';
            reset.className = 'link-button team-password';
            reset.dataset.control = 'password';
            reset.textContent = 'New password\u2026';
            reset.setAttribute('aria-label', 'New password for '
                + user.email);
            reset.addEventListener('click', () => askPassword(user));
            li.appendChild(reset);
        }
        if (state.billingRole && !lastBilling(user)) {
            const remove = document.createElement('button');
            remove.type = 'button';
            remove.className = 'link-button team-remove';
            remove.dataset.control = 'remove';
            remove.textContent = 'Remove';
            remove.setAttribute('aria-label', 'Remove ' + user.email);
            remove.addEventListener('click', () => confirmRemove(user));
            li.appendChild(remove);
        }
        return li;
    }

    const rowFor = (id) => els.list.querySelector('li[data-user-id="'
        + CSS.escape(String(id)) + '"]');

    /* Drawn again whole: the control that had focus keeps it (or its
     * row's role list, if it is disabled now, or the row's role, said
     * in words, if no list is left: one became the only billing contact
     * meanwhile, and the row says why), and a role chosen but not
     * stored stays chosen. */
    function show(users) {
        const focused = document.activeElement;
        const had = focused && els.list.contains(focused)
            && focused.dataset.control
            ? { id: focused.closest('li').dataset.userId,
                control: focused.dataset.control } : null;
        /* only what differs from the role the row showed was chosen: the
         * rest is the stored role, which the new read may have changed */
        const chosen = new Map();
        els.list.querySelectorAll('li').forEach((li) => {
            const select = li.querySelector('select');
            if (select && !select.disabled
                && select.value !== li.dataset.role)
            {
                chosen.set(li.dataset.userId, select.value);
            }
        });
        els.list.textContent = '';
        state.billingCount = users.filter((user) =>
            user.role === 'billing').length;
        users.forEach((user) => {
            const li = row(user);
            const select = li.querySelector('select');
            const value = chosen.get(String(user.id));
            if (select && value && value !== user.role) {
                select.value = value;
                li.querySelector('.team-role-save').disabled = false;
            }
            els.list.appendChild(li);
        });
        say(users.length === 0 ? 'No one yet.' : state.said);
        const li = had ? rowFor(had.id) : null;
        if (li) {
            const el = li.querySelector('[data-control="' + had.control
                + '"]');
            const to = (el && !el.disabled ? el : null)
                || li.querySelector('select') || stillRole(li);
            if (to) {
                to.focus();
            }
        }
    }

    /* the row's role in words, which takes the focus a vanished
     * control had (rather than the page's body) */
    function stillRole(li) {
        const span = li.querySelector('span.team-role');
        if (span) {
            span.tabIndex = -1;
        }
        return span;
    }

    async function load() {
        const seq = ++state.seq;
        els.error.textContent = '';
        try {
            const page = await app.api('/api/v1/users');
            if (seq === state.seq) {
                state.failed = false;
                show(page.items || []);
            }
        } catch (err) {
            if (!app.failed(err) && seq === state.seq) {
                state.failed = true;
                els.status.textContent = 'Could not load the team: '
                    + message(err);
            }
        }
    }

    /* ---- changes (a billing contact's) ---- */

    /* The role chosen in the row's list, stored; the row's list has focus
     * after (the one drawn by a read the change's event started, if
     * any). */
    function changeRole(user, select, save) {
        return busy.whileBusy(save, () => storeRole(user, select, save));
    }

    async function storeRole(user, select, save) {
        els.error.textContent = '';
        state.said = '';
        say('');
        select.disabled = true;
        try {
            const changed = await app.api('/api/v1/users/'
                + encodeURIComponent(user.id),
                { method: 'PATCH', body: { role: select.value } });
            if (changed.id === state.meId) {
                window.location.reload();
                return;
            }
            user.role = changed.role;
            state.said = changed.email + ' is now '
                + (ROLE_NOUNS[changed.role] || changed.role) + '.';
            say(state.said);
        } catch (err) {
            if (app.failed(err)) {
                return;
            }
            els.error.textContent = message(err);
        }
        select.value = user.role;
        select.disabled = false;
        const li = rowFor(user.id);
        const now = li ? li.querySelector('select') : null;
        if (now) {
            now.focus();
        }
        save.disabled = true;       /* the list shows the stored role */
    }

    /* Stepping down is for good unless another billing contact undoes
     * it: asked first, as removal is. */
    function confirmOwnRole(user, select, save) {
        state.stepping = { user: user, select: select, save: save };
        els.roleDialogText.textContent = 'You will be '
            + (ROLE_NOUNS[select.value] || select.value) + ': only a'
            + ' billing contact can change billing, settings and the team,'
            + ' and make you one again. The page reloads with your new'
            + ' role.';
        els.roleDialog.returnValue = '';
        els.roleDialog.showModal();
    }

    function confirmRemove(user) {
        state.removing = user;
        els.dialogText.textContent = user.id === state.meId
            ? 'You will be signed out everywhere and can no longer sign'
                + ' in. What you did stays.'
            : user.email + ' will be signed out everywhere and can no'
                + ' longer sign in. What they did stays.';
        els.dialog.returnValue = '';
        els.dialog.showModal();
    }

    async function remove(user) {
        els.error.textContent = '';
        try {
            await app.api('/api/v1/users/' + encodeURIComponent(user.id),
                { method: 'DELETE' });
            if (user.id === state.meId) {
                /* signed out with the rest: the next call says so */
                await app.api('/api/v1/me');
                return;
            }
            await load();
            removed(user);
        } catch (err) {
            if (!app.failed(err)) {
                els.error.textContent = message(err);
            }
        }
    }

    /* A colleague who forgot theirs gets a new first password, which
     * the billing contact gives them; they are signed out everywhere. */
    function askPassword(user) {
        state.resetting = user;
        els.passwordDialogText.textContent = user.email + ' will be signed'
            + ' out everywhere and sign in with the password you set here'
            + ' (at least 8 characters): give it to them.';
        els.newPassword.value = '';
        invalid.clear(els.newPassword, els.passwordError);
        els.passwordError.textContent = '';
        els.passwordDialog.showModal();
        els.newPassword.focus();
    }

    async function setPassword() {
        const user = state.resetting;
        if (user === null) {
            return;
        }
        els.passwordError.textContent = '';
        try {
            await app.api('/api/v1/users/' + encodeURIComponent(user.id)
                + '/password', { method: 'POST',
                body: { password: els.newPassword.value } });
        } catch (err) {
            if (!app.failed(err) && state.resetting === user) {
                els.passwordError.textContent = message(err);
                invalid.mark(els.newPassword, els.passwordError);
            }
            return;
        }
        state.said = user.email + ' signs in with the new password now.';
        say(state.said);
        if (state.resetting === user) {
            els.passwordDialog.close('set');
        }
    }

    /* The Remove button that had the focus goes with its row (this
     * read or the user.removed event's): the focus goes to the list's
     * heading, and what happened is said. */
    function removed(user) {
        const now = document.activeElement;
        if (now === null || now === document.body
            || els.list.contains(now))
        {
            document.getElementById('team-title').focus();
        }
        app.announce('Removed ' + user.email + '.');
    }

    function clearFormError() {
        els.formError.textContent = '';
        Object.values(FIELDS).forEach((el) =>
            invalid.clear(el, els.formError));
    }

    async function addUser() {
        clearFormError();
        els.formStatus.textContent = '';
        const email = els.email.value.trim();
        try {
            const user = await app.api('/api/v1/users', { method: 'POST',
                body: { email: email, role: els.role.value,
                        password: els.password.value } });
            els.form.reset();
            els.formStatus.textContent = user.email + ' can sign in now.';
            await load();
        } catch (err) {
            if (app.failed(err)) {
                return;
            }
            els.formError.textContent = message(err);
            const el = err.error && FIELDS[err.error.field];
            if (el) {
                invalid.mark(el, els.formError);
            }
        }
    }

    els.form.addEventListener('submit', (event) => {
        event.preventDefault();
        busy.whileBusy(els.add, addUser);
    });
    els.passwordForm.addEventListener('submit', (event) => {
        event.preventDefault();
        busy.whileBusy(els.passwordSet, setPassword);
    });
    els.passwordCancel.addEventListener('click', () =>
        els.passwordDialog.close(''));
    /* closed however (Escape, Cancel, set, the session ending): the
     * password typed goes, and the focus back to its row's button */
    els.passwordDialog.addEventListener('close', () => {
        const user = state.resetting;
        state.resetting = null;
        els.newPassword.value = '';
        const li = user ? rowFor(user.id) : null;
        const button = li ? li.querySelector('[data-control="password"]')
            : null;
        if (button && state.meId !== null) {
            button.focus();
        }
    });
    els.dialog.addEventListener('close', () => {
        const user = state.removing;
        state.removing = null;
        if (user && els.dialog.returnValue === 'remove') {
            remove(user);
        }
    });
    els.roleDialog.addEventListener('close', () => {
        const asked = state.stepping;
        state.stepping = null;
        if (!asked) {
            return;
        }
        if (els.roleDialog.returnValue === 'change') {
            changeRole(asked.user, asked.select, asked.save);
            return;
        }
        /* kept: the row shows the stored role again */
        const li = rowFor(asked.user.id);
        const select = li ? li.querySelector('select') : null;
        if (select) {
            select.value = li.dataset.role;
            li.querySelector('.team-role-save').disabled = true;
            select.focus();
        }
    });
    els.view.addEventListener('inbox:show', load);
    /* a colleague changed the team: shown as it is now */
    app.on('event', (ev) => {
        if (typeof ev.type === 'string' && ev.type.startsWith('user.')
            && !els.view.hidden && state.meId !== null) {
            load();
        }
    });
    /* the team's events may have been missed (live updates were down
     * longer than the server keeps them) */
    app.on('resync', () => {
        if (!els.view.hidden && state.meId !== null) {
            load();
        }
    });

    /* the connection back: a read that failed (offline, say) is made
     * again, rather than left said until the view is shown anew; the
     * add form and a role chosen stay as they are (show) */
    app.on('back', () => {
        if (state.failed && !els.view.hidden && state.meId !== null) {
            load();
        }
    });

    app.on('session', (me) => {
        state.seq += 1;
        state.failed = false;
        state.billingRole = Boolean(me) && me.role === 'billing';
        state.meId = me && me.user ? me.user.id : null;
        state.said = '';
        els.list.textContent = '';
        els.error.textContent = '';
        els.who.hidden = state.billingRole;
        els.form.hidden = !state.billingRole;
        els.form.reset();
        clearFormError();
        els.formStatus.textContent = '';
        if (me && !els.view.hidden) {
            load();
        }
    });
})(window.inboxApp, window.inboxBusy);
