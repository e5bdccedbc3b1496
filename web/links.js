/*
 * The web addresses in a message's text as links: http:// and https://
 * ones, and bare www. ones (taken as http://, which the browser moves to
 * https where the site has it), each opening in a new tab that cannot
 * reach back to the inbox (rel noopener noreferrer).  A message's text
 * is the contact's or anyone's: it is only ever text nodes and anchors
 * made here, never markup, and a link goes nowhere but http or https.
 *
 * Punctuation that ends a sentence after an address ("see
 * https://a.example/x." or "(www.a.example)") stays out of the link; a
 * closing bracket the address opened stays in it
 * (https://en.wikipedia.org/wiki/Foo_(bar)).
 */
'use strict';

(function (global) {
    /* an address starts after a space, an opening mark or the start,
     * never inside a word, an e-mail address or another address */
    const ADDRESS = /(?<![\w.@/:-])(?:https?:\/\/|www\.)[^\s<>"]+/giu;
    /* what a sentence puts after an address */
    const TRAILING = /[.,;:!?'\u2019\u201d\u00bb\u2026*_]$/u;
    const CLOSERS = { ')': '(', ']': '[', '}': '{' };

    function count(text, c) {
        return text.split(c).length - 1;
    }

    /* the address without what ends the sentence around it */
    function trim(text) {
        for (;;) {
            const last = text.slice(-1);
            if (TRAILING.test(text)
                || (CLOSERS[last]
                    && count(text, CLOSERS[last]) < count(text, last)))
            {
                text = text.slice(0, -1);
            } else {
                return text;
            }
        }
    }

    /* the link's address, or null for what is no web address */
    function hrefOf(text) {
        const full = /^www\./i.test(text) ? 'http://' + text : text;
        try {
            const url = new URL(full);
            if ((url.protocol === 'http:' || url.protocol === 'https:')
                && url.hostname.includes('.'))
            {
                return url.href;
            }
        } catch (e) {
            /* not an address: left as text */
        }
        return null;
    }

    /* Fills el with text, its addresses as links. */
    function fill(el, text) {
        el.textContent = '';
        let from = 0;
        for (const found of text.matchAll(ADDRESS)) {
            const shown = trim(found[0]);
            const href = shown.length > 0 && !/^www\.$/i.test(shown)
                ? hrefOf(shown) : null;
            if (href === null) {
                continue;
            }
            if (found.index > from) {
                el.appendChild(document.createTextNode(
                    text.slice(from, found.index)));
            }
            const a = document.createElement('a');
            a.href = href;
            a.target = '_blank';
            a.rel = 'noopener noreferrer';
            a.textContent = shown;
            el.appendChild(a);
            from = found.index + shown.length;
        }
        if (from < text.length) {
            el.appendChild(document.createTextNode(text.slice(from)));
        }
    }

    global.inboxLinks = { fill: fill };
})(window);
