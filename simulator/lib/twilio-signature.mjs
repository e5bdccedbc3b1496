// X-Twilio-Signature: the exact URL called, then every POST parameter's
// name and value with no separator, sorted by name (then value) in byte
// order; HMAC-SHA1 with the account's auth token, base64.

import { createHmac } from 'node:crypto';

export function signTwilio(url, pairs, authToken) {
    const bytes = pairs.map(([k, v]) => [Buffer.from(String(k), 'utf8'),
                                         Buffer.from(String(v), 'utf8')]);
    bytes.sort((a, b) => Buffer.compare(a[0], b[0])
                         || Buffer.compare(a[1], b[1]));
    const hmac = createHmac('sha1', authToken).update(url, 'utf8');
    for (const [k, v] of bytes) {
        hmac.update(k).update(v);
    }
    return hmac.digest('base64');
}
