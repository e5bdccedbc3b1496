/*
 * The Settings view's Team section: the organization's users (GET
 * /api/v1/users) for everyone; for a billing contact a role to choose on
 * each row (PATCH /api/v1/users/{id}), a Remove button with a
 * confirmation (DELETE), and a form that adds someone with a first
 * password (POST /api/v1/users).
 *
 * The server keeps the rule that the organization has a billing contact:
 * its refusal is shown, and the row goes back to what is stored.  A
 * change to one's own role reloads the page, so that every view reads
 * the new role; removing oneself ends the session.  The team's events
 * (user.updated, user.removed, user.signed_out) and a resync (events
 * may have been missed) read the list again while it is shown, so a
 * colleague's changes appear at once.
 *
 * What it uses of the app is window.inboxApp (api, failed, on).
 */
'use strict';

(function (app) {
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
    };

    const ROLE_WORDS = { member: 'Member', billing: 'Billing contact' };

    /* the field a 400 or 409 names -> its input */
    const FIELDS = {
        email: els.email,
        password: els.password,
        role: els.role,
    };

    const state = {
        billingRole: false,
        meId: null,
        removing: null,         /* the user the dialog asks about */
        seq: 0,                 /* answers to an older read are dropped */
    };

    function message(err) {
        return typeof err.status === 'number' ? err.message
            : 'The server could not be reached. Try again.';
    }

    /* ---- the list ---- */

    function roleControl(user) {
        if (!state.billingRole) {
            const span = document.createElement('span');
            span.className = 'team-role';
            span.textContent = ROLE_WORDS[user.role] || user.role;
            return span;
        }
        const select = document.createElement('select');
        select.className = 'team-role';
        select.setAttribute('aria-label', 'Role of ' + user.email);
        Object.keys(ROLE_WORDS).forEach((role) => {
            const option = document.createElement('option');
            option.value = role;
            option.textContent = ROLE_WORDS[role];
            select.appendChild(option);
        });
        select.value = user.role;
        select.addEventListener('change', () => changeRole(user, select));
        return select;
    }

    function row(user) {
        const li = document.createElement('li');
        li.className = 'team-member';
        li.dataset.userId = user.id;
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
        li.appendChild(roleControl(user));
        if (state.billingRole) {
            const remove = document.createElement('button');
            remove.type = 'button';
            remove.className = 'link-button team-remove';
            remove.textContent = 'Remove';
            remove.setAttribute('aria-label', 'Remove ' + user.email);
            remove.addEventListener('click', () => confirmRemove(user));
            li.appendChild(remove);
        }
        return li;
    }

    function show(users) {
        els.list.textContent = '';
        users.forEach((user) => els.list.appendChild(row(user)));
        els.status.textContent = users.length === 0 ? 'No one yet.' : '';
    }

    async function load() {
        const seq = ++state.seq;
        els.error.textContent = '';
        try {
            const page = await app.api('/api/v1/users');
            if (seq === state.seq) {
                show(page.items || []);
            }
        } catch (err) {
            if (!app.failed(err) && seq === state.seq) {
                els.status.textContent = 'Could not load the team: '
                    + message(err);
            }
        }
    }

    /* ---- changes (a billing contact's) ---- */

    async function changeRole(user, select) {
        els.error.textContent = '';
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
        } catch (err) {
            if (app.failed(err)) {
                return;
            }
            els.error.textContent = message(err);
        }
        select.value = user.role;
        select.disabled = false;
    }

    function confirmRemove(user) {
        state.removing = user;
        els.dialogText.textContent = user.email + ' will be signed out'
            + ' everywhere and can no longer sign in. What they did stays.';
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
        } catch (err) {
            if (!app.failed(err)) {
                els.error.textContent = message(err);
            }
        }
    }

    function clearFormError() {
        els.formError.textContent = '';
        Object.values(FIELDS).forEach((el) =>
            el.removeAttribute('aria-invalid'));
    }

    async function addUser(event) {
        event.preventDefault();
        if (els.add.disabled) {
            return;
        }
        clearFormError();
        els.formStatus.textContent = '';
        const email = els.email.value.trim();
        els.add.disabled = true;
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
                el.setAttribute('aria-invalid', 'true');
                el.focus();
            }
        } finally {
            els.add.disabled = false;
        }
    }

    els.form.addEventListener('submit', addUser);
    els.dialog.addEventListener('close', () => {
        const user = state.removing;
        state.removing = null;
        if (user && els.dialog.returnValue === 'remove') {
            remove(user);
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

    app.on('session', (me) => {
        state.seq += 1;
        state.billingRole = Boolean(me) && me.role === 'billing';
        state.meId = me && me.user ? me.user.id : null;
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
})(window.inboxApp);
