// application/x-www-form-urlencoded, the way Twilio reads and writes it:
// a body is a list of (name, value) pairs, names may repeat (MediaUrl).

// Parses a body into [name, value] pairs, in the order they came.
export function parseForm(buf) {
    const text = Buffer.isBuffer(buf) ? buf.toString('utf8') : String(buf);
    return [...new URLSearchParams(text)];
}

// Every byte that is not a letter, a digit or -._~ as %XX.
function encode(value) {
    return encodeURIComponent(String(value)).replace(/[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function encodeForm(pairs) {
    return pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
}

// The first value of a name, or undefined.
export function formValue(pairs, name) {
    const pair = pairs.find(([k]) => k === name);
    return pair ? pair[1] : undefined;
}

export function formValues(pairs, name) {
    return pairs.filter(([k]) => k === name).map(([, v]) => v);
}

// The pairs as an object; a repeated name keeps all its values in a list.
export function formObject(pairs) {
    const obj = {};
    for (const [k, v] of pairs) {
        if (k in obj) {
            obj[k] = [].concat(obj[k], v);
        } else {
            obj[k] = v;
        }
    }
    return obj;
}
