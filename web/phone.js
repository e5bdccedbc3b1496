/*
 * Phone numbers for people: an E.164 number shown after its calling code
 * the way its country groups it (+44 20 7946 0958, +1 (415) 555-1234).
 *
 * Only countries whose grouping follows from the number itself are
 * grouped; any other number keeps its national digits together after the
 * calling code, so a grouping is never a wrong guess at an area code.
 */
'use strict';

(function (global) {
    /* ITU-T E.164 calling codes of one and two digits; the rest have three */
    const ONE_DIGIT = ['1', '7'];
    const TWO_DIGITS = new Set([
        '20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41',
        '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54',
        '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66',
        '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98',
    ]);

    /* digits cut into groups of the given sizes, the last taking the rest */
    function group(digits, sizes) {
        const out = [];
        let at = 0;
        sizes.forEach((size, i) => {
            const end = i === sizes.length - 1 ? digits.length : at + size;
            out.push(digits.slice(at, end));
            at = end;
        });
        return out.join(' ');
    }

    /* NANP: (NPA) NXX-XXXX */
    function nanp(n) {
        return n.length === 10
            ? '(' + n.slice(0, 3) + ') ' + n.slice(3, 6) + '-' + n.slice(6)
            : null;
    }

    /* UK: the area code's length follows from its first digits (Ofcom) */
    function uk(n) {
        if (n.length === 10) {
            if (n[0] === '2' || n[0] === '5') {
                return group(n, [2, 4, 4]);         /* 20 7946 0958 */
            }
            if (n[0] === '1' && (n[1] === '1' || n[2] === '1')) {
                return group(n, [3, 3, 4]);         /* 121 496 0000 */
            }
            if (n[0] === '1' || n[0] === '7') {
                return group(n, [4, 6]);            /* 7700 900123 */
            }
            return group(n, [3, 3, 4]);             /* 800 123 4567 */
        }
        if (n.length === 9 && n[0] === '1') {
            return group(n, [4, 5]);
        }
        if (n.length === 9 && n[0] === '8') {
            return group(n, [3, 6]);
        }
        return null;
    }

    /* Australia: mobiles 4xx xxx xxx, geographic areas one digit */
    function au(n) {
        if (n.length !== 9) {
            return null;
        }
        return n[0] === '4' || n[0] === '5'
            ? group(n, [3, 3, 3]) : group(n, [1, 4, 4]);
    }

    /* Brazil: a two-digit area code, then 9xxxx-xxxx or xxxx-xxxx */
    function br(n) {
        if (n.length !== 10 && n.length !== 11) {
            return null;
        }
        return n.slice(0, 2) + ' ' + n.slice(2, -4) + '-' + n.slice(-4);
    }

    const NATIONAL = {
        '1': nanp,
        '33': (n) => n.length === 9 ? group(n, [1, 2, 2, 2, 2]) : null,
        '34': (n) => n.length === 9 ? group(n, [3, 2, 2, 2]) : null,
        '44': uk,
        '55': br,
        '61': au,
        '91': (n) => n.length === 10 ? group(n, [5, 5]) : null,
    };

    function callingCode(digits) {
        if (ONE_DIGIT.includes(digits[0])) {
            return digits[0];
        }
        return TWO_DIGITS.has(digits.slice(0, 2))
            ? digits.slice(0, 2) : digits.slice(0, 3);
    }

    /* An E.164 number for people; anything else as it was given. */
    function format(phone) {
        const text = phone == null ? '' : String(phone);
        if (!/^\+[1-9]\d{6,14}$/.test(text)) {
            return text;
        }
        const digits = text.slice(1);
        const cc = callingCode(digits);
        const rest = digits.slice(cc.length);
        const national = NATIONAL[cc] ? NATIONAL[cc](rest) : null;
        return '+' + cc + ' ' + (national || rest);
    }

    global.inboxPhone = { format: format };
})(window);
