// Twilio's connection overrides: a webhook URL's fragment says when
// Twilio tries a webhook again, e.g. https://host/path#rp=5xx,ct&rc=3.
//   rc  retries after the first try, 0 to 5 (default 1)
//   rp  what is retried, a comma list of 4xx, 5xx, ct (no connection),
//       rt (no answer in time) or all (default ct)
// Without one, a webhook answered 5xx is never sent again. The fragment
// is Twilio's alone: the request goes to the URL without it, and
// X-Twilio-Signature is computed over that URL, the one the receiver
// sees. Other keys (ct, rt, tt timeouts, e edge, sni) are not simulated;
// a value Twilio would not take leaves its default.

const RETRY_COUNT_DEFAULT = 1;
const RETRY_COUNT_MAX = 5;
const POLICIES = ['4xx', '5xx', 'ct', 'rt'];

// { url: what is requested and signed, attempts: the first included,
//   retryOn: Set of the failure kinds above that are tried again }
export function twilioOverrides(configured) {
    const hash = configured.indexOf('#');
    const url = hash < 0 ? configured : configured.slice(0, hash);
    const params = new URLSearchParams(hash < 0 ? ''
                                       : configured.slice(hash + 1));
    let retries = RETRY_COUNT_DEFAULT;
    const rc = params.get('rc');
    if (rc !== null && /^\d+$/.test(rc) && Number(rc) <= RETRY_COUNT_MAX) {
        retries = Number(rc);
    }
    let retryOn = new Set(['ct']);
    const rp = params.get('rp');
    if (rp !== null) {
        const kinds = rp.split(',');
        if (kinds.every((k) => k === 'all' || POLICIES.includes(k))) {
            retryOn = new Set(kinds.includes('all') ? POLICIES : kinds);
        }
    }
    return { url, attempts: 1 + retries, retryOn };
}
