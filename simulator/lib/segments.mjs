// How many SMS parts a text makes, as the carrier counts them for
// num_segments (Twilio) and parts/encoding (Telnyx): GSM-7 at 160 septets
// (153 a part when split, an extension character takes two), otherwise
// UCS-2 at 70 UTF-16 units (67 a part), a surrogate pair or an escape
// pair never split over two parts.

const GSM_BASIC = new Set(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ'
    + ' !"#¤%&\'()*+,-./0123456789:;<=>?'
    + '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿'
    + 'abcdefghijklmnopqrstuvwxyzäöñüà');
const GSM_EXTENSION = new Set('^{}\\[~]|€\f');

function gsmWidths(text) {
    const widths = [];
    for (const ch of text) {
        if (GSM_BASIC.has(ch)) {
            widths.push(1);
        } else if (GSM_EXTENSION.has(ch)) {
            widths.push(2);
        } else {
            return null;
        }
    }
    return widths;
}

// Parts of at most `part` units each, an item never split.
function pack(widths, single, part) {
    const total = widths.reduce((a, b) => a + b, 0);
    if (total <= single) {
        return 1;
    }
    let parts = 1;
    let used = 0;
    for (const w of widths) {
        if (used + w > part) {
            parts += 1;
            used = 0;
        }
        used += w;
    }
    return parts;
}

export function segmentsOf(text) {
    const gsm = gsmWidths(text);
    if (gsm) {
        return { encoding: 'GSM-7', parts: pack(gsm, 160, 153) };
    }
    const units = [...text].map((ch) => ch.length);
    return { encoding: 'UCS-2', parts: pack(units, 70, 67) };
}
