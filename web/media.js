/*
 * An image as an MMS can carry it, checked before any of it is sent:
 * its type (by its first bytes) and its size, as POST /api/v1/media
 * decides them, how many and how much in all one message carries, as a
 * send decides them, and a word when it is larger than carriers like.  The
 * reply composer (composer.js) and the campaigns' form (campaigns.js)
 * say the same.
 *
 * And what a contact's MMS carries, named for the thread (app.js): an
 * image is shown, a video or voice note played where the browser can,
 * anything else offered as a download.  An image is shown the same way
 * in a thread and on a campaign's card (bulk.js): a thumbnail that
 * opens the full image.
 */
'use strict';

(function (global) {
    const MAX_BYTES = 5 * 1024 * 1024;  /* POST /api/v1/media's */
    const CARRIER_SAFE_BYTES = 1024 * 1024;
    /* what one message carries, as a reply's send decides it (libinbox:
     * INBOX_MEDIA_MAX, INBOX_MEDIA_MESSAGE_BYTES_MAX) */
    const PER_MESSAGE = 10;
    const MESSAGE_BYTES = 5 * 1024 * 1024;
    /* the three types an MMS carries, by their leading bytes (as the
     * server decides them) */
    const TYPES = [
        { type: 'image/jpeg', name: 'JPEG', magic: [0xFF, 0xD8, 0xFF] },
        { type: 'image/png', name: 'PNG',
          magic: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] },
        { type: 'image/gif', name: 'GIF', magic: [0x47, 0x49, 0x46, 0x38] },
    ];

    function sizeText(bytes) {
        if (bytes < 1024) {
            return bytes + ' bytes';
        }
        if (bytes < 1024 * 1024) {
            return Math.round(bytes / 1024) + ' KB';
        }
        return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
    }

    /* What is wrong with a file as an MMS image; '' when nothing is.
     * Its first bytes decide, never its name or the type the browser
     * guessed from it: a JPEG saved as "photo.png" is a JPEG. */
    async function problem(file) {
        const name = file.name ? '\u201c' + file.name + '\u201d'
            : 'That file';
        const allowed = 'attach a JPEG, PNG or GIF image';
        if (file.size === 0) {
            return name + ' is empty: ' + allowed + '.';
        }
        const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
        const real = TYPES.find((t) => t.magic.every(
            (b, i) => head[i] === b));
        if (!real) {
            return name + ' is not an image an MMS can carry: '
                + allowed + '.';
        }
        if (file.size > MAX_BYTES) {
            return name + ' is ' + sizeText(file.size) + '; an MMS image '
                + 'can be at most 5 MB. Attach a smaller one.';
        }
        return '';
    }

    /* What is wrong with adding an image of `bytes` to images already
     * coming to `total` bytes in one message; '' when nothing is.  The
     * send would be refused (400 media_ids) only after every upload. */
    function overTotal(name, bytes, total) {
        if (total + bytes <= MESSAGE_BYTES) {
            return '';
        }
        return (name ? '\u201c' + name + '\u201d' : 'That image')
            + ' would bring the images to ' + sizeText(total + bytes)
            + '; a message carries 5 MB in all. Attach a smaller one.';
    }

    /* What is worth knowing of an image that will go: US carriers
     * deliver much less than 5 MB on ordinary numbers (about 1 MB). */
    function advice(bytes) {
        return bytes > CARRIER_SAFE_BYTES
            ? 'over 1 MB: some carriers may not deliver it; a smaller '
              + 'image is safer' : '';
    }

    /* What each type of a message's media is called and how the thread
     * shows it: 'image' (a thumbnail), 'audio' and 'video' (a player,
     * when the browser plays that type), 'file' (a download).  The types
     * are those the inbox keeps a copy as (libinbox's media.h); a type a
     * carrier named for a copy still to come may be any. */
    const KINDS = [
        { re: /^image\/(jpeg|jpg|png|gif|webp|avif)$/, name: 'Image',
          show: 'image' },
        { re: /^image\//, name: 'Photo', show: 'file' },
        { re: /^video\//, name: 'Video', show: 'video' },
        { re: /^audio\//, name: 'Audio', show: 'audio' },
        { re: /^text\/(x-)?vcard$/, name: 'Contact card', show: 'file' },
        { re: /^application\/pdf$/, name: 'PDF document', show: 'file' },
        { re: /./, name: 'File', show: 'file' },
    ];

    /* a carrier may write a type in any case and with parameters
     * ("Text/VCard; charset=utf-8") */
    function kindOf(contentType) {
        const type = String(contentType || '').split(';')[0].trim()
            .toLowerCase();
        if (!type) {
            return { name: 'Attachment', show: 'file' };
        }
        return KINDS.find((k) => k.re.test(type));
    }

    /* A URL the page may link to or load: http(s) only, made absolute
     * (a carrier's or a colleague's text never makes a javascript:). */
    function safeUrl(url) {
        try {
            const u = new URL(url, location.href);
            return u.protocol === 'https:' || u.protocol === 'http:'
                ? u.href : null;
        } catch (e) {
            return null;
        }
    }

    /* A stored image of a message or a campaign (media as the API says
     * it) as a thumbnail, alt the name given, that opens the full image
     * in a new tab; null for one not stored yet or no image. */
    function thumb(media, name) {
        const href = media && media.state === 'stored'
            ? safeUrl(media.url) : null;
        if (!href || kindOf(media.content_type).show !== 'image') {
            return null;
        }
        const a = document.createElement('a');
        a.className = 'media media-thumb';
        a.href = href;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.title = 'Open the full image';
        const img = document.createElement('img');
        img.src = href;
        img.alt = name;
        img.loading = 'lazy';
        a.appendChild(img);
        return a;
    }

    global.inboxMedia = Object.freeze({ problem, advice, sizeText,
                                        overTotal, kindOf, safeUrl, thumb,
                                        perMessage: PER_MESSAGE });
})(window);
