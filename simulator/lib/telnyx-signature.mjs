// Telnyx's webhook signature: Ed25519 over "timestamp|raw body", sent as
// telnyx-signature-ed25519 (base64) and telnyx-timestamp (Unix seconds).
// The public key is shown as Telnyx's portal shows it: the raw 32 bytes,
// base64.  With a state directory the key pair outlives a restart, so an
// inbox configured with the public key keeps verifying.

import { createPrivateKey, createPublicKey, generateKeyPairSync,
         sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_FILE = 'telnyx-ed25519.pem';

export class TelnyxSigner {
    constructor(stateDir) {
        const file = stateDir ? join(stateDir, KEY_FILE) : null;
        if (file && existsSync(file)) {
            this.privateKey = createPrivateKey(readFileSync(file));
        } else {
            this.privateKey = generateKeyPairSync('ed25519').privateKey;
            if (file) {
                writeFileSync(file, this.privateKey.export(
                    { format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
            }
        }
        const spki = createPublicKey(this.privateKey).export(
            { format: 'der', type: 'spki' });
        // an Ed25519 SPKI ends with the raw 32-byte key
        this.publicKeyBase64 = spki.subarray(spki.length - 32)
            .toString('base64');
    }

    // The two headers for a body (a Buffer or a string) sent at `when`.
    headers(body, when = Date.now()) {
        const timestamp = String(Math.floor(when / 1000));
        const signed = Buffer.concat([Buffer.from(`${timestamp}|`, 'utf8'),
            Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
        return {
            'telnyx-signature-ed25519':
                sign(null, signed, this.privateKey).toString('base64'),
            'telnyx-timestamp': timestamp,
        };
    }
}
