/*
 * The Campaigns view: the organization's campaigns with their status and
 * counts (bulk.js's list, moved live by campaign.progress frames), and
 * the form for a new one: a name, the text, up to 10 images (taken as
 * the reply composer takes them, attachments.js: each checked, uploaded
 * at once through POST /api/v1/media, with its own state, Retry and
 * Remove), who it goes to and when (audience.js).  While it is written,
 * the preview under the text says what it would cost (POST
 * /api/v1/campaigns/estimate), read again when contacts change (the
 * picker's onCounts), or why its text cannot be sent (too many
 * segments, too long); "Review and send" makes the draft, once every
 * image it was pressed with is uploaded, and shows bulk.js's
 * confirmation with the estimate and the balance.  A draft's Edit fills
 * the same form; its images stay as they are, and once some are removed
 * or others added, what is saved names those left by the ids of their
 * uploads (each of a campaign's media says its "id").
 *
 * A refusal shows the server's message and keeps the form as it was.
 *
 * What it uses of the app is window.inboxApp (api, failed, on) and
 * window.inboxBulk, window.inboxAudience, window.inboxAttachments (the
 * images, as the reply composer has them).
 */
'use strict';

(function (app, bulk, audience, attachments) {
    const invalid = window.inboxInvalid;
    const NOUN = 'A campaign';
    const ATTACH_TITLE = 'JPEG, PNG or GIF, up to ' + attachments.max
        + ', 5 MB in all';

    const $ = (id) => document.getElementById(id);

    const els = {
        view: $('campaigns-view'),
        add: $('campaign-new'),
        form: $('campaign-form'),
        name: $('campaign-name'),
        body: $('campaign-body'),
        attach: $('campaign-attach'),
        file: $('campaign-file'),
        attachments: $('campaign-attachments'),
        estimate: $('campaign-estimate'),
        error: $('campaign-error'),
        close: $('campaign-close'),
    };

    const state = {
        images: [],             /* attachments.js's, in the order they
                                   go; a draft's own are kept: true
                                   (stored, their upload's id) */
        imagesAsRead: false,    /* a draft's, none removed or added: an
                                   edit leaves them out */
    };

    const list = bulk.list({
        kind: 'campaigns',
        noun: 'campaign',
        els: { list: $('campaigns-list'), status: $('campaigns-status'),
               more: $('campaigns-more') },
    });

    const picker = audience.mount($('campaign-audience'), 'campaign');
    /* what it would cost, while it is written (estimated()) */
    const preview = bulk.preview({
        el: els.estimate, kind: 'campaigns', request: estimated,
        images: () => state.images.length, fields: ['body'],
    });
    const estimateSoon = preview.soon;

    /* ---- the form ---- */

    const editor = bulk.createForm({
        form: els.form, add: els.add, close: els.close, error: els.error,
        title: $('campaign-form-title'),
        list, picker, save,
        first: els.name, clear: clearForm, fieldOf, fill,
        keep: () => ({ name: els.name.value, body: els.body.value }),
        others: () => state.images.map((m) => m.name),
        restore: (kept) => {
            els.name.value = kept.name;
            els.body.value = kept.body;
            estimateSoon();
        },
    });
    const clearInvalid = editor.clearInvalid;
    const showError = editor.showError;

    function clearForm() {
        els.name.value = '';
        els.body.value = '';
        attachments.dropAll(state.images);
        state.imagesAsRead = false;
        renderImages();
        picker.reset();
        els.error.textContent = '';
        preview.clear();
        clearInvalid();
    }

    /* A draft to edit: its name, text and images (its own, each with
     * the id of the upload it is, kept as they are unless the images
     * change). */
    function fill(item) {
        els.name.value = item.name || '';
        els.body.value = item.body || '';
        const media = item.media || [];
        state.images = media.map((m, i) => ({
            file: null, bytes: m.bytes, url: m.url || '', state: 'ready',
            id: m.id || null, upload: null, error: '', kept: true,
            name: media.length === 1 ? 'The draft\u2019s image'
                : 'The draft\u2019s image ' + (i + 1) }));
        state.imagesAsRead = true;
        renderImages();
        estimateSoon();
    }

    /* The field a refusal names, marked and focused. */
    function fieldOf(name) {
        switch (String(name || '').split('.')[0]) {
        case 'name':
            return els.name;
        case 'body':
            return els.body;
        case 'media_ids':
            return els.attach;
        case 'audience':
            return picker.audienceInput;
        case 'send_at':
            return picker.sendAtInput;
        default:
            return null;
        }
    }

    function request() {
        const who = picker.read();
        if (who.problem) {
            return who;
        }
        const images = state.images;
        return {
            name: els.name.value.trim(),
            body: els.body.value,
            /* a draft's own images as they were are not named: an edit
             * keeps them; else every upload, in order, those kept by
             * their ids */
            media_ids: state.imagesAsRead ? undefined
                : images.map((m) => m.id),
            audience: who.audience,
            send_at: who.send_at,
        };
    }

    async function save(andSend) {
        editor.begin();
        /* the images the press saw, each upload waited for: a campaign
         * pressed with an image never goes without it */
        const media = state.images.slice();
        const failed = await attachments.settled(media);
        if (media.length !== state.images.length
            || media.some((m, i) => state.images[i] !== m))
        {
            /* removed or added meanwhile: the next press saves them */
            return;
        }
        if (failed.length > 0) {
            showError('Not saved: ' + attachments.notUploaded(failed)
                + ', then save again.', els.attach);
            return;
        }
        const body = request();
        if (body.problem) {
            showError(body.problem, body.field);
            return;
        }
        await editor.submit('/api/v1/campaigns', body, andSend);
    }

    /* ---- the preview while writing ---- */

    /* What the preview estimates: every image shown, uploaded or not, a
     * draft's own too (the estimate counts images without reading
     * them), and no name (the cost owes nothing to it, perhaps not
     * written yet: one named, even empty, is checked and refused). */
    function estimated() {
        const body = request();
        if (body.problem || (body.body === '' && state.images.length === 0)) {
            return null;
        }
        body.media_ids = state.images.map((m) => m.id || 'image');
        delete body.name;
        return body;
    }

    /* ---- the images ---- */

    const imagesView = attachments.view(els.attachments, {
        images: () => state.images,
        retry: retryImage,
        remove: removeImage,
        away: () => els.attach,
    });

    function renderImages() {
        imagesView.render(state.images, false);
        els.attach.title = state.images.length >= attachments.max
            ? attachments.full(NOUN) : ATTACH_TITLE;
    }

    /* What an upload of m said when it settled: an upload's failure is
     * said without taking the focus (it may come while the text is
     * typed); the image says it too, with its Retry. */
    function uploaded(m) {
        return (said) => {
            if (!state.images.includes(m)) {
                return;
            }
            if (said) {
                els.error.textContent = said;
            }
            renderImages();
        };
    }

    /* Its upload, begun at once: what is saved names uploads.  A draft's
     * own image without an id is read back from the inbox first. */
    function upload(m) {
        if (m.file !== null) {
            attachments.upload(m, uploaded(m));
            return;
        }
        m.state = 'uploading';
        m.error = '';
        m.upload = fetch(m.url).then((res) => (res.ok ? res.blob() : null),
                                     () => null)
            .then((blob) => {
                if (blob !== null) {
                    m.file = new File([blob], 'image', { type: blob.type });
                    return attachments.upload(m, uploaded(m));
                }
                m.state = 'failed';
                m.error = 'it could not be read back from the inbox.';
                uploaded(m)('Could not upload \u201c' + m.name + '\u201d: '
                    + m.error);
                return undefined;
            });
    }

    /* The images change: what is saved names every upload, a draft's
     * own by their ids.  One with no id (stored before a campaign's
     * images kept their upload: an older MongoDB draft's, or one whose
     * upload SQLite's migration 45 did not find) can only be named as a
     * new upload of its bytes, read back: that alone is uploaded
     * again. */
    function loosen() {
        state.imagesAsRead = false;
        state.images.filter((m) => m.kept && !m.id).forEach((m) => {
            m.kept = false;
            upload(m);
        });
    }

    /* Files chosen, after the images there are; what cannot go is said
     * and left out, the rest attached and uploaded. */
    async function attach(files) {
        els.error.textContent = '';
        invalid.clear(els.attach, els.error);
        const { added, said } = await attachments.check(state.images, files,
                                                        NOUN);
        if (added.length > 0) {
            loosen();
            added.forEach((m) => {
                state.images.push(m);
                upload(m);
            });
        }
        renderImages();
        estimateSoon();
        if (said) {
            showError(said, els.attach);
        }
    }

    function retryImage(m) {
        if (m.state !== 'failed' || !state.images.includes(m)) {
            return false;
        }
        els.error.textContent = '';
        upload(m);
        renderImages();
        return true;
    }

    function removeImage(m) {
        if (!attachments.drop(state.images, m)) {
            return false;
        }
        loosen();
        els.error.textContent = '';
        invalid.clear(els.attach, els.error);
        renderImages();
        estimateSoon();
        return true;
    }

    /* ---- wiring ---- */

    els.name.addEventListener('input', () => invalid.clear(els.name,
                                                           els.error));
    els.body.addEventListener('input', estimateSoon);
    picker.onChange(estimateSoon);
    /* contacts changed (audience.js): who it reaches, and its cost */
    picker.onCounts(estimateSoon);
    els.attach.addEventListener('click', () => {
        if (state.images.length >= attachments.max) {
            /* said, not a picker opened for nothing */
            showError(attachments.full(NOUN), els.attach);
        } else {
            els.file.click();
        }
    });
    els.file.addEventListener('change', () => {
        const files = Array.from(els.file.files || []);
        els.file.value = '';
        if (files.length > 0) {
            attach(files);
        }
    });
    els.view.addEventListener('inbox:show', () => list.load(false));
})(window.inboxApp, window.inboxBulk, window.inboxAudience,
   window.inboxAttachments);
