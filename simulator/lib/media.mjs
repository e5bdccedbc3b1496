// Media: the samples a contact can attach (pictures, and a contact card:
// phones send more than pictures), and a carrier's fetch of the media URLs
// a send names (Twilio and Telnyx fetch each one themselves, so it must be
// reachable and be a picture they take).

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpGetFollow } from './http-client.mjs';

const samplesDir = join(dirname(fileURLToPath(import.meta.url)), '..',
                        'samples');

export const MAX_MEDIA_BYTES = 5 * 1024 * 1024;

// A picture's type by its leading bytes, never by anyone's word.
export function sniff(bytes) {
    if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8
        && bytes[2] === 0xff) {
        return 'image/jpeg';
    }
    if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from(
        [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
        return 'image/png';
    }
    if (bytes.length >= 4 && bytes.subarray(0, 4).toString('latin1')
        === 'GIF8') {
        return 'image/gif';
    }
    return null;
}

let samples = null;

// name -> { bytes, contentType }
export function sampleMedia() {
    if (!samples) {
        samples = new Map();
        for (const name of readdirSync(samplesDir).sort()) {
            const bytes = readFileSync(join(samplesDir, name));
            const contentType = sniff(bytes)
                ?? (name.endsWith('.vcf') ? 'text/vcard' : null);
            if (contentType) {
                samples.set(name, { bytes, contentType });
            }
        }
    }
    return samples;
}

const TAKEN = new Set(['image/jpeg', 'image/png', 'image/gif']);

// Fetches one media URL as the carrier would.  Resolves with
// { ok: true, bytes, contentType, size, sha256 } or { ok: false,
// reason: 'unreachable' | 'type' | 'size', detail }.
export async function fetchMedia(url) {
    let res;
    try {
        res = await httpGetFollow(url, { timeoutMs: 10000,
                                         maxBytes: MAX_MEDIA_BYTES });
    } catch (err) {
        return { ok: false,
                 reason: err.code === 'ETOOBIG' ? 'size' : 'unreachable',
                 detail: `${url}: ${err.code || err.message}` };
    }
    if (res.status !== 200) {
        return { ok: false, reason: 'unreachable',
                 detail: `${url} answered ${res.status}` };
    }
    const contentType = String(res.headers['content-type'] ?? '')
        .split(';')[0].trim().toLowerCase();
    if (!TAKEN.has(contentType)) {
        return { ok: false, reason: 'type',
                 detail: `${url} is ${contentType || 'without a type'}, `
                         + 'not image/jpeg, image/png or image/gif' };
    }
    return { ok: true, bytes: res.body, contentType, size: res.body.length,
             sha256: createHash('sha256').update(res.body).digest('hex') };
}
