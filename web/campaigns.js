/*
 * The Campaigns view: the organization's campaigns with their status and
 * counts (bulk.js's list, moved live by campaign.progress frames), and
 * the form for a new one: a name, the text, an optional image (uploaded
 * at once through POST /api/v1/media), who it goes to and when
 * (audience.js).  While it is written, the preview under the text says
 * what it would cost (POST /api/v1/campaigns/estimate), or why its text
 * cannot be sent (too many segments, too long); "Review and
 * send" makes the draft and shows bulk.js's confirmation with the
 * estimate and the balance.  A draft's Edit fills the same form; its
 * image stays unless removed or replaced.
 *
 * A refusal shows the server's message and keeps the form as it was.
 *
 * What it uses of the app is window.inboxApp (api, failed, on) and
 * window.inboxBulk, window.inboxAudience, window.inboxMedia (an image
 * checked as the reply composer checks it).
 */
'use strict';

(function (app, bulk, audience, mms) {
    const ESTIMATE_DELAY_MS = 300;

    const $ = (id) => document.getElementById(id);

    const els = {
        view: $('campaigns-view'),
        add: $('campaign-new'),
        form: $('campaign-form'),
        name: $('campaign-name'),
        body: $('campaign-body'),
        attach: $('campaign-attach'),
        file: $('campaign-file'),
        attachment: $('campaign-attachment'),
        preview: $('campaign-preview'),
        imageName: $('campaign-image-name'),
        imageState: $('campaign-image-state'),
        imageRemove: $('campaign-image-remove'),
        estimate: $('campaign-estimate'),
        error: $('campaign-error'),
        close: $('campaign-close'),
    };

    const state = {
        image: null,            /* {file, url, id, state: uploading|ready},
                                   or a draft's own: {kept, url, state} */
        estimateTimer: null,
        estimateSeq: 0,
    };

    const list = bulk.list({
        kind: 'campaigns',
        noun: 'campaign',
        els: { list: $('campaigns-list'), status: $('campaigns-status'),
               more: $('campaigns-more') },
    });

    const picker = audience.mount($('campaign-audience'), 'campaign');

    /* ---- the form ---- */

    const editor = bulk.createForm({
        form: els.form, add: els.add, close: els.close, error: els.error,
        title: $('campaign-form-title'),
        list, picker, save,
        first: els.name, clear: clearForm, fieldOf, fill,
        keep: () => ({ name: els.name.value, body: els.body.value }),
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
        dropImage();
        picker.reset();
        els.error.textContent = '';
        els.estimate.textContent = '';
        clearInvalid();
    }

    /* A draft to edit: its name, text and images (its own, kept as
     * they are unless removed or replaced; kept counts them). */
    function fill(item) {
        els.name.value = item.name || '';
        els.body.value = item.body || '';
        if (item.media && item.media.length) {
            state.image = { kept: item.media.length, url: item.media[0].url,
                            state: 'ready', id: null };
        }
        renderImage();
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
        const img = state.image;
        return {
            name: els.name.value.trim(),
            body: els.body.value,
            /* a draft's own image is not named: an edit keeps it */
            media_ids: img && img.kept ? undefined
                : img && img.id ? [img.id] : [],
            audience: who.audience,
            send_at: who.send_at,
        };
    }

    async function save(andSend) {
        editor.begin();
        const img = state.image;
        if (img && img.state === 'uploading') {
            await img.upload;
            if (state.image !== img || img.state !== 'ready') {
                /* the upload failed (its error stays shown) or the image
                 * was removed or replaced meanwhile: a campaign pressed
                 * with an image never goes without it */
                return;
            }
        }
        const body = request();
        if (body.problem) {
            showError(body.problem, body.field);
            return;
        }
        await editor.submit('/api/v1/campaigns', body, andSend);
    }

    /* ---- the preview while writing ---- */

    function estimateSoon() {
        clearTimeout(state.estimateTimer);
        state.estimateSeq += 1;
        state.estimateTimer = setTimeout(estimate, ESTIMATE_DELAY_MS);
    }

    async function estimate() {
        const seq = ++state.estimateSeq;
        const body = request();
        if (body.media_ids === undefined) {
            /* a draft's own images: the estimate counts images without
             * reading them, and these are stored already */
            body.media_ids = new Array(state.image.kept).fill('kept');
        }
        if (body.problem || (body.body === '' && !body.media_ids.length)) {
            els.estimate.textContent = '';
            return;
        }
        try {
            const e = await app.api('/api/v1/campaigns/estimate',
                { method: 'POST', body: body });
            if (seq !== state.estimateSeq) {
                return;
            }
            /* pictures reach only the US and Canada: the others get
             * links, at an SMS's price (in the total) */
            const abroad = e.without_mms ? e.without_mms.recipients : 0;
            /* recipients are those not opted out (suppressed apart) */
            els.estimate.textContent = bulk.plural(e.recipients,
                'recipient', 'recipients')
                + (e.suppressed > 0 ? ' (' + e.suppressed
                    + ' opted out, not sent)' : '')
                + (abroad > 0 ? ' \u00b7 ' + abroad + ' outside the US '
                    + 'and Canada ' + (abroad === 1 ? 'gets' : 'get')
                    + ' links in place of pictures' : '')
                + ' \u00b7 ' + bulk.plural(e.segments || 1, 'segment',
                    'segments') + ' (' + e.encoding + ') \u00b7 '
                + (e.plan === 'unlimited' ? 'included in your plan'
                    : bulk.plural(e.credits, 'credit', 'credits')
                    + ' each, ' + bulk.plural(e.total_credits,
                        'credit', 'credits')
                    + ' in all \u00b7 balance '
                    + Number(e.balance).toLocaleString());
        } catch (err) {
            if (!app.failed(err) && seq === state.estimateSeq) {
                /* no figure rather than a wrong one; a text that cannot
                 * be sent (past 10 segments, say) is said at once, in
                 * the server's words, the rest when saving */
                els.estimate.textContent = err.status === 400
                    && err.error && err.error.field === 'body'
                    ? err.message : '';
            }
        }
    }

    /* ---- the image ---- */

    function dropImage() {
        if (state.image) {
            if (!state.image.kept) {
                URL.revokeObjectURL(state.image.url);
            }
            state.image = null;
        }
        renderImage();
    }

    function renderImage() {
        const img = state.image;
        els.attachment.hidden = !img;
        els.attach.textContent = img ? 'Replace the image' : 'Add an image';
        if (!img) {
            els.preview.removeAttribute('src');
            return;
        }
        els.preview.src = img.url;
        els.preview.alt = 'The campaign\u2019s image';
        els.imageName.textContent = !img.kept ? img.file.name || 'Image'
            : img.kept === 1 ? 'The draft\u2019s image'
            : 'The draft\u2019s ' + img.kept + ' images';
        els.imageState.textContent = img.state === 'uploading'
            ? 'uploading\u2026' : img.kept ? '' : mms.advice(img.file.size);
    }

    async function attach(file) {
        dropImage();
        els.error.textContent = '';
        els.attach.removeAttribute('aria-invalid');
        /* the server's own rule, said before any of it is sent (its 413
         * names no size) */
        const problem = await mms.problem(file);
        if (problem) {
            estimateSoon();
            showError(problem, els.attach);
            return;
        }
        const img = { file: file, url: URL.createObjectURL(file),
                      state: 'uploading', id: null };
        state.image = img;
        img.upload = app.api('/api/v1/media', { method: 'POST', raw: file })
            .then((answer) => {
                img.id = answer.id;
                img.state = 'ready';
            }, (err) => {
                if (state.image === img) {
                    dropImage();
                }
                if (!app.failed(err)) {
                    showError('Could not upload the image: '
                        + bulk.errorText(err), els.attach);
                }
            })
            .then(() => {
                if (state.image === img) {
                    renderImage();
                    estimateSoon();
                }
            });
        renderImage();
    }

    /* ---- wiring ---- */

    els.name.addEventListener('input', () => els.name
        .removeAttribute('aria-invalid'));
    els.body.addEventListener('input', estimateSoon);
    picker.onChange(estimateSoon);
    els.attach.addEventListener('click', () => els.file.click());
    els.file.addEventListener('change', () => {
        const file = els.file.files && els.file.files[0];
        els.file.value = '';
        if (file) {
            attach(file);
        }
    });
    els.imageRemove.addEventListener('click', () => {
        dropImage();
        estimateSoon();
        els.attach.focus();
    });
    els.view.addEventListener('inbox:show', () => list.load(false));
})(window.inboxApp, window.inboxBulk, window.inboxAudience,
   window.inboxMedia);
