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
 * Used by app.js (the thread list, the open thread's header, and the
 * list's live check of a new thread with plain) and contacts.js (the
 * Contacts list): window.inboxHighlight.
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
     * Й, Ў (a breve on И, У) and Ї (a diaeresis on І), not Ё.  Case is
     * folded as ICU's NFKC_Casefold folds it (caseFolded), and what
     * Unicode says to ignore goes as it does there (a zero-width space
     * or joiner, a soft hyphen, Khmer's inherent vowels U+17B4/5). */
    const LETTER_MARK = '\\u3099\\u309a\\p{sc=Deva}\\p{sc=Beng}\\p{sc=Guru}'
        + '\\p{sc=Gujr}\\p{sc=Orya}\\p{sc=Taml}\\p{sc=Telu}\\p{sc=Knda}'
        + '\\p{sc=Mlym}\\p{sc=Sinh}\\p{sc=Thai}\\p{sc=Laoo}\\p{sc=Tibt}'
        + '\\p{sc=Mymr}\\p{sc=Khmr}\\p{sc=Lana}\\p{sc=Bali}\\p{sc=Java}'
        + '\\p{sc=Sund}\\p{sc=Mtei}\\p{sc=Cakm}';
    const ACCENT = new RegExp('(?<![\\u0418\\u0438\\u0423\\u0443])\\u0306'
        + '|(?<![\\u0406\\u0456])\\u0308'
        + '|[^\\P{Mn}\\u0306\\u0308' + LETTER_MARK + ']', 'gu');
    function plain(text) {
        return caseFolded(text.normalize('NFD').replace(ACCENT, '')
            .replace(/[\u309b\u309c]/g,
                (c) => String.fromCharCode(c.charCodeAt(0) - 2))
            .normalize('NFKC'))
            .replace(/\p{Default_Ignorable_Code_Point}/gu, '')
            .replace(ACCENT, '')
            .replace(/[\p{White_Space}\p{P}\p{Sk}\u02bc]/gu, '');
    }

    /* Case folded as Unicode folds it for comparison, which lower case
     * is not: one letter at a time, so that a word's last sigma (ς) is
     * σ as every other is ("ΟΔΥΣΣΕΥΣ" is "οδυσσευσ", lower case makes
     * its last "ς"), ß and ẞ are "ss", and a letter that is lower case
     * already but has another's capital (Old Cyrillic's ᲀ, Greek's
     * iota subscript U+0345) is that letter; not Turkish's dotless ı,
     * which is a letter of its own there too.  Cherokee folds to its
     * capitals, as Unicode has it. */
    function caseFolded(text) {
        return text.replace(/[^\p{ASCII}]|[A-Z]/gu, (c) => {
            if (c === '\u0131') {
                return c;
            }
            const upper = c.toUpperCase();
            return /\p{sc=Cher}/u.test(c) ? upper : upper.toLowerCase();
        }).replace(/\u00df/g, 'ss');
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

    /* Where a text's characters are told apart (Intl.Segmenter's
     * graphemes: a letter with its marks, a kana with its halfwidth
     * voicing mark, an emoji with its joiners), as offsets, 0 and its
     * length among them; a browser without it (Firefox before 125)
     * parts them before each character but a mark. */
    const graphemes = typeof Intl.Segmenter === 'function'
        ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;
    function breaks(text) {
        const at = graphemes
            ? Array.from(graphemes.segment(text), (g) => g.index)
            : Array.from(text.matchAll(/\P{M}\p{M}*|\p{M}+/gu),
                         (m) => m.index);
        at.push(text.length);
        return at;
    }

    /* q's words' keys (its parts between white space, as the server
     * parts them: search.h), when it has two or more with a key; else
     * none. */
    function words(q) {
        const keys = q.split(/\p{White_Space}+/u).map(plain)
            .filter((w) => w !== '');
        return keys.length >= 2 ? keys : [];
    }

    /* Where q matches a name's key (whole): its key as one run, else
     * each of its words, in any order, when every one is there (the
     * server's rule, search.h); none when it does not match. */
    function keyMatches(whole, q) {
        const key = plain(q);
        const at = found(whole, key);
        if (key === '' || at.length > 0) {
            return at;
        }
        const keys = words(q);
        if (keys.length === 0 || !keys.every((w) => whole.includes(w))) {
            return [];
        }
        return keys.flatMap((w) => found(whole, w));
    }

    /* Whether q matches name, as the server would tell. */
    function nameMatches(name, q) {
        return keyMatches(plain(name), q).length > 0;
    }

    /* The ranges of name that q's key matches.  The name's key is cut
     * where a part of the name as written folds on its own into the
     * part of the key it is there (a break before which the name folds
     * into the key's start, and after which into the rest): between
     * two such cuts, the name's characters and the key's are one piece.
     * A match is marked over the pieces it touches, so that what folds
     * other than one character at a time is marked whole: "ｶﾞ" (two
     * characters, one kana, ガ), "ß" ("ss"), "ΟΔΥΣΣΕΥΣ" (its last Σ is
     * σ for "οδυσσευσ", ς for "Οδυσσεύς" on its own).  What folds to
     * nothing (punctuation, a zero-width space) within a match is in
     * its mark; around it, not. */
    function nameRanges(name, q) {
        const whole = plain(name);
        const at = keyMatches(whole, q);
        if (at.length === 0) {
            return [];
        }
        const cuts = [];   /* [offset in name, offset in its key] */
        breaks(name).forEach((b) => {
            const head = plain(name.slice(0, b));
            const last = cuts[cuts.length - 1];
            if (whole.startsWith(head) && (!last || head.length >= last[1])
                && head + plain(name.slice(b)) === whole)
            {
                cuts.push([b, head.length]);
            }
        });
        /* the name's offset of the piece whose key holds index i: its
         * start, or (end) its end */
        const piece = (i, end) => {
            let k = 0;
            while (k + 2 < cuts.length && cuts[k + 1][1] <= i) {
                k++;
            }
            return cuts[end ? k + 1 : k][0];
        };
        return at.map(([s, e]) => [piece(s, false), piece(e - 1, true)]);
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

    return { plain: plain, nameMatches: nameMatches, name: name,
             phone: phone };
})();
