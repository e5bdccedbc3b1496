/*
 * What a search matched, marked where a list shows it (<mark>): in a
 * name, what the search's key matched there (the server's key,
 * search.h: without case or accents, nor white space and punctuation),
 * marked over the whole of the name as written that it spans ("oconnor"
 * marks "O’Connor", "jose" "José"); in a number as written for people
 * ("+1 (555) 123-4567"), the digits the server says it looked for (a
 * page's search.phone_digits), however they are grouped.  Marks are
 * elements and text nodes, never markup: names are the contacts' own.
 *
 * Used by app.js (the thread list, and its live check of a new thread
 * with plain) and contacts.js (the Contacts list): window.inboxHighlight.
 */
'use strict';

window.inboxHighlight = (function () {
    /* Text as the server's search compares names (search.h's key):
     * without case or accents, nor white space and punctuation, so that
     * "oconnor" and "o connor" are O'Connor, "jean luc" Jean-Luc; a
     * kana's voicing marks (U+3099, U+309A) are no accents and stay, a
     * spacing one joined to its kana (fold.h: "ション" is not "ジョン"),
     * and so do the marks of Indic and Southeast Asian scripts, by the
     * mark's script (fold.c's list: "समित" is not "सुमित"), and Cyrillic's
     * Й, Ў (a breve on И, У) and Ї (a diaeresis on І), not Ё. */
    const LETTER_MARK = '\\u3099\\u309a\\p{sc=Deva}\\p{sc=Beng}\\p{sc=Guru}'
        + '\\p{sc=Gujr}\\p{sc=Orya}\\p{sc=Taml}\\p{sc=Telu}\\p{sc=Knda}'
        + '\\p{sc=Mlym}\\p{sc=Sinh}\\p{sc=Thai}\\p{sc=Laoo}\\p{sc=Tibt}'
        + '\\p{sc=Mymr}\\p{sc=Khmr}\\p{sc=Lana}\\p{sc=Bali}\\p{sc=Java}'
        + '\\p{sc=Sund}\\p{sc=Mtei}\\p{sc=Cakm}';
    const ACCENT = new RegExp('(?<![\\u0418\\u0438\\u0423\\u0443])\\u0306'
        + '|(?<![\\u0406\\u0456])\\u0308'
        + '|[^\\P{Mn}\\u0306\\u0308' + LETTER_MARK + ']', 'gu');
    function plain(text) {
        return text.normalize('NFD').replace(ACCENT, '')
            .replace(/[\u309b\u309c]/g,
                (c) => String.fromCharCode(c.charCodeAt(0) - 2))
            .normalize('NFKC').toLowerCase().replace(ACCENT, '')
            .replace(/[\s\p{P}\p{Sk}\u02bc]/gu, '');
    }

    /* Ranges of a text ([start, end)) in order, those that overlap or
     * touch made one. */
    function joined(ranges) {
        const out = [];
        ranges.sort((a, b) => a[0] - b[0]).forEach((r) => {
            const last = out[out.length - 1];
            if (last && r[0] <= last[1]) {
                last[1] = Math.max(last[1], r[1]);
            } else {
                out.push([r[0], r[1]]);
            }
        });
        return out;
    }

    /* Every place needle is in hay, overlapping ones too: [start, end). */
    function found(hay, needle) {
        const at = [];
        if (needle === '') {
            return at;
        }
        for (let i = hay.indexOf(needle); i !== -1;
             i = hay.indexOf(needle, i + 1))
        {
            at.push([i, i + needle.length]);
        }
        return at;
    }

    /* The ranges of name that q's key matches.  Each character of the
     * name, with the marks that follow it, is folded alone, its key's
     * characters pointing back at it; a name whose key that way is not
     * its key folded whole (a rare composition across characters) is
     * not marked rather than marked wrong. */
    function nameRanges(name, q) {
        const key = plain(q);
        if (key === '') {
            return [];
        }
        const pieces = name.match(/\P{M}\p{M}*|\p{M}+/gu) || [];
        const from = [];
        let folded = '';
        let offset = 0;
        pieces.forEach((piece) => {
            const k = plain(piece);
            folded += k;
            for (let i = 0; i < k.length; i++) {
                from.push([offset, offset + piece.length]);
            }
            offset += piece.length;
        });
        if (folded !== plain(name)) {
            return [];
        }
        return found(folded, key).map(([s, e]) =>
            [from[s][0], from[e - 1][1]]);
    }

    /* The ranges of a number as written that hold one of digits. */
    function phoneRanges(phone, digits) {
        const at = [];
        for (let i = 0; i < phone.length; i++) {
            if (phone[i] >= '0' && phone[i] <= '9') {
                at.push(i);
            }
        }
        const all = at.map((i) => phone[i]).join('');
        return digits.flatMap((d) => found(all, d))
            .map(([s, e]) => [at[s], at[e - 1] + 1]);
    }

    /* el's text made text, the ranges of it marked. */
    function fill(el, text, ranges) {
        if (ranges.length === 0) {
            el.textContent = text;
            return;
        }
        el.textContent = '';
        let at = 0;
        joined(ranges).forEach(([s, e]) => {
            if (s > at) {
                el.appendChild(document.createTextNode(text.slice(at, s)));
            }
            const mark = document.createElement('mark');
            mark.textContent = text.slice(s, e);
            el.appendChild(mark);
            at = e;
        });
        if (at < text.length) {
            el.appendChild(document.createTextNode(text.slice(at)));
        }
    }

    /* el shows name with what search ({q, digits}, or null for none)
     * matched in it marked. */
    function name(el, text, search) {
        fill(el, text, search ? nameRanges(text, search.q) : []);
    }

    /* el shows a number as written, the digits search matched marked;
     * whether any were. */
    function phone(el, text, search) {
        const ranges = search ? phoneRanges(text, search.digits) : [];
        fill(el, text, ranges);
        return ranges.length > 0;
    }

    return { plain: plain, name: name, phone: phone };
})();
