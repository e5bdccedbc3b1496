/*
 * The images of one message being written, as the reply composer
 * (composer.js) and the campaign form (campaigns.js) take them: up to
 * the 10 a message carries, in the order chosen, each checked before
 * any of it is sent (media.js), uploaded at once (what is sent names
 * uploads) and shown as an item of its own: a thumbnail, its name, its
 * size or state, and its own Retry (after a failed upload) and Remove,
 * each named for the image.  A failed upload stays, said on the image,
 * until it is tried again or removed; what names the uploads waits for
 * them all and goes only when none failed (settled, notUploaded).
 *
 * An image: {file, name, bytes, url (its preview: an object URL, or
 * the inbox's own for one stored already), state: uploading|ready|
 * failed, id (its upload's), upload (a promise that settles, never
 * rejects), error (why its upload failed)}.
 *
 * What it uses of the app is window.inboxApp (api, failed), media.js
 * (window.inboxMedia) and busy.js (window.inboxBusy).
 */
'use strict';

(function (global, app, mms, busy) {
    const MAX = mms.perMessage;

    function nameOf(m) {
        return m.name || 'Pasted image';
    }

    function quoted(m) {
        return m.name ? '\u201c' + m.name + '\u201d' : 'the pasted image';
    }

    /* A file chosen or pasted, as an image not uploaded yet. */
    function fromFile(file) {
        return { file: file, name: file.name || '', bytes: file.size,
                 url: URL.createObjectURL(file), state: 'uploading',
                 id: null, upload: null, error: '' };
    }

    /* Files chosen or pasted, after the images there are (media): the
     * images of those that can go, and what is said of the others, by
     * the server's own rules, before any of it is sent.  noun: what
     * carries them ('A reply').  Counted after the checks: the images
     * may change while the files are read. */
    async function check(media, files, noun) {
        const said = [];
        const fine = [];
        for (const file of files) {
            const problem = await mms.problem(file);
            if (problem) {
                said.push(problem);
            } else {
                fine.push(file);
            }
        }
        let total = media.reduce((n, m) => n + (m.bytes || 0), 0);
        let room = MAX - media.length;
        let left = 0;
        const added = [];
        for (const file of fine) {
            if (room <= 0) {
                left += 1;
                continue;
            }
            const over = mms.overTotal(file.name, file.size, total);
            if (over) {
                said.push(over);
                continue;
            }
            total += file.size;
            room -= 1;
            added.push(fromFile(file));
        }
        if (left > 0) {
            said.push(noun + ' carries at most ' + MAX + ' images, so '
                + left + ' of those chosen ' + (left === 1 ? 'was' : 'were')
                + ' not attached.');
        }
        return { added: added, said: said.join(' ') };
    }

    /* What is said when there is no room for another. */
    function full(noun) {
        return noun + ' carries at most ' + MAX + ' images: remove one to '
            + 'attach another.';
    }

    /* Its upload, begun at once and again by Retry; done(said) once it
     * is in or failed, said: what to say of a failure ('' when none, or
     * when the session ended), before the upload's promise settles. */
    function upload(m, done) {
        m.state = 'uploading';
        m.error = '';
        m.id = null;
        m.upload = app.api('/api/v1/media', { method: 'POST', raw: m.file })
            .then((answer) => {
                m.id = answer.id;
                m.state = 'ready';
                return '';
            }, (err) => {
                m.state = 'failed';
                m.error = err.status ? err.message
                    : 'the server could not be reached.';
                return app.failed(err) ? ''
                    : 'Could not upload ' + quoted(m) + ': ' + m.error;
            })
            .then(done);
        return m.upload;
    }

    /* Removes an image; true when it was there. */
    function drop(media, m) {
        const i = media.indexOf(m);
        if (i === -1) {
            return false;
        }
        if (m.url.startsWith('blob:')) {
            URL.revokeObjectURL(m.url);
        }
        media.splice(i, 1);
        return true;
    }

    function dropAll(media) {
        media.slice().forEach((m) => drop(media, m));
    }

    /* Once every upload of media settled: those not in. */
    async function settled(media) {
        await Promise.all(media.map((m) => m.upload));
        return media.filter((m) => m.state !== 'ready');
    }

    /* Why what names them cannot go: '“map.png” was not uploaded. Retry
     * it or remove it'. */
    function notUploaded(failed) {
        return failed.length === 1
            ? quoted(failed[0]) + ' was not uploaded. Retry it or remove it'
            : failed.length + ' images were not uploaded. Retry them or '
                + 'remove them';
    }

    function stateText(m) {
        if (m.state === 'uploading') {
            return 'uploading\u2026';
        }
        if (m.state === 'failed') {
            return 'not uploaded: ' + m.error;
        }
        return typeof m.bytes === 'number'
            ? [mms.sizeText(m.bytes), mms.advice(m.bytes)]
                .filter(Boolean).join(', ')
            : '';
    }

    /* The list (a <ul>) that shows the images of whichever message is
     * written there.  opts: images() (those shown now), retry(m) and
     * remove(m) (true when done, the list drawn again), away() (where
     * the focus goes when the last one is removed).  Each image's item
     * is made once and kept while it is shown: a redraw changes what it
     * says, not the element, so the focus stays on its buttons. */
    function view(list, opts) {
        const itemEls = new WeakMap();      /* image -> its <li> */

        /* An image's own button, named with the image: "Remove" alone
         * would not say which of several */
        function itemButton(label, className, m, onClick) {
            const button = document.createElement('button');
            button.type = 'button';
            button.className = 'link-button ' + className;
            button.textContent = label;
            button.setAttribute('aria-label', label + ' ' + nameOf(m));
            button.addEventListener('click', onClick);
            return button;
        }

        function onRetry(m) {
            const li = itemEls.get(m);
            const focused = li.contains(document.activeElement);
            if (opts.retry(m) && focused) {
                /* Retry is hidden while it uploads */
                li.querySelector('.attachment-remove').focus();
            }
        }

        function onRemove(m) {
            const media = opts.images();
            const i = media.indexOf(m);
            if (i === -1 || !opts.remove(m)) {
                return;
            }
            /* the next image's Remove, for removing several; after the
             * last, the one before; after the only one, away */
            const next = media[i] || media[i - 1];
            if (next && itemEls.has(next)) {
                itemEls.get(next).querySelector('.attachment-remove')
                    .focus();
            } else {
                opts.away().focus();
            }
        }

        function itemOf(m) {
            let li = itemEls.get(m);
            if (li) {
                return li;
            }
            li = document.createElement('li');
            li.className = 'attachment';
            const img = document.createElement('img');
            img.className = 'attachment-preview';
            img.alt = '';       /* its name, beside it, says which it is */
            img.src = m.url;
            const info = document.createElement('span');
            info.className = 'attachment-info';
            const name = document.createElement('span');
            name.className = 'attachment-name';
            name.dir = 'auto';
            name.textContent = nameOf(m);
            const said = document.createElement('span');
            said.className = 'attachment-state';
            info.append(name, said);
            const actions = document.createElement('span');
            actions.className = 'attachment-actions';
            actions.append(
                itemButton('Retry', 'attachment-retry', m,
                           () => onRetry(m)),
                itemButton('Remove', 'attachment-remove', m,
                           () => onRemove(m)));
            li.append(img, info, actions);
            itemEls.set(m, li);
            return li;
        }

        /* media as they are now; working: a send of them is out, so
         * their buttons are busy (never disabled: the focus stays) */
        function render(media, working) {
            const items = media.map(itemOf);
            const focused = document.activeElement;
            /* an image sent or gone with the focus on its button: the
             * focus goes on (away) rather than to the page */
            const lost = list.contains(focused)
                && !items.some((li) => li.contains(focused));
            Array.from(list.children).forEach((li) => {
                if (!items.includes(li)) {
                    li.remove();
                }
            });
            /* those kept are in order already; a new one goes at the
             * end */
            items.forEach((li, i) => {
                if (list.children[i] !== li) {
                    list.insertBefore(li, list.children[i] || null);
                }
            });
            media.forEach((m, i) => {
                const li = items[i];
                li.dataset.state = m.state;
                li.querySelector('.attachment-state').textContent =
                    stateText(m);
                li.querySelector('.attachment-retry').hidden =
                    m.state !== 'failed';
                busy.setBusy(li.querySelector('.attachment-retry'),
                             working);
                busy.setBusy(li.querySelector('.attachment-remove'),
                             working);
            });
            list.hidden = items.length === 0;
            if (lost) {
                opts.away().focus();
            }
        }

        return { render };
    }

    global.inboxAttachments = Object.freeze({
        max: MAX, check, full, upload, drop, dropAll, settled,
        notUploaded, view,
    });
})(window, window.inboxApp, window.inboxMedia, window.inboxBusy);
