// Media for tests: a real PNG (zlib from Node, CRC-32 by hand: Node 18
// has no zlib.crc32), a real 1x1 GIF, and bytes that only begin like a
// JPEG (the inbox decides a type by the leading bytes, never decodes);
// what else a contact's phone may attach (a voice note a browser plays, a
// contact card, a PDF, the start of an MP4 video); and an upload as a
// client makes it.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) {
        c = (c & 1) ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
    }
    return c >>> 0;
});

function crc32(buf) {
    let c = 0xFFFFFFFF;
    for (const b of buf) {
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >>> 8);
    }
    return (c ^ 0xFFFFFFFF) >>> 0;
}

function chunk(type, data) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
}

// A width x height PNG of one colour ([r, g, b]); pad adds that many bytes
// of an ancillary chunk, to make a large file that still decodes.
export function png(width = 8, height = 8, [r, g, b] = [200, 40, 40],
                    pad = 0) {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = 8;        // bit depth
    ihdr[9] = 2;        // truecolour
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
        row[1 + x * 3] = r;
        row[2 + x * 3] = g;
        row[3 + x * 3] = b;
    }
    const raw = Buffer.concat(Array.from({ length: height }, () => row));
    return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
        chunk('IHDR', ihdr),
        ...(pad ? [chunk('teXt', Buffer.alloc(pad, 0x61))] : []),
        chunk('IDAT', deflateSync(raw)),
        chunk('IEND', Buffer.alloc(0)),
    ]);
}

// A 1x1 GIF.
export const gif = Buffer.from(
    'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

// n bytes that begin as a JPEG does (FF D8 FF E0, "JFIF").
export function jpegLike(n = 2048) {
    const b = Buffer.alloc(n, 0x42);
    Buffer.from([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46])
        .copy(b);
    return b;
}

// A voice note: ms of a 440 Hz tone, 8 kHz 8-bit mono PCM in a WAV file,
// which any browser plays.
export function wav(ms = 300) {
    const rate = 8000;
    const samples = Buffer.alloc(Math.round(rate * ms / 1000));
    for (let i = 0; i < samples.length; i++) {
        samples[i] = 128 + Math.round(60 * Math.sin(2 * Math.PI * 440 * i
                                                    / rate));
    }
    const head = Buffer.alloc(44);
    head.write('RIFF', 0, 'ascii');
    head.writeUInt32LE(36 + samples.length, 4);
    head.write('WAVEfmt ', 8, 'ascii');
    head.writeUInt32LE(16, 16);          // the fmt chunk's size
    head.writeUInt16LE(1, 20);           // PCM
    head.writeUInt16LE(1, 22);           // mono
    head.writeUInt32LE(rate, 24);
    head.writeUInt32LE(rate, 28);        // bytes a second
    head.writeUInt16LE(1, 32);           // bytes a frame
    head.writeUInt16LE(8, 34);           // bits a sample
    head.write('data', 36, 'ascii');
    head.writeUInt32LE(samples.length, 40);
    return Buffer.concat([head, samples]);
}

// A contact card, as a phone shares one.
export function vcard(name = 'Ana Lima', phone = '+15550100') {
    return Buffer.from(['BEGIN:VCARD', 'VERSION:3.0', `FN:${name}`,
                        `TEL;TYPE=CELL:${phone}`, 'END:VCARD', ''].join('\r\n'));
}

// A one-page PDF (not checked for offsets: only its leading bytes count).
export const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> '
                               + 'endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

// n bytes that begin as an MP4 video does (an "ftyp" box, brand mp42).
export function mp4Like(n = 4096) {
    const b = Buffer.alloc(n, 0x20);
    Buffer.from([0, 0, 0, 0x18]).copy(b);
    b.write('ftypmp42', 4, 'ascii');
    return b;
}

// POST /api/v1/media with body; headers as given (a bearer token or a
// cookie is the caller's).  Resolves with status, headers, json, text.
export async function upload(cluster, body, headers = {}) {
    const res = await fetch(cluster.url('/api/v1/media'), {
        method: 'POST', headers, body });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, json, text };
}


// A PNG uploaded as token's organization, which must take it (201):
// the upload as the API answers it.
export async function uploadPng(cluster, token) {
    const res = await upload(cluster, png(), {
        Authorization: `Bearer ${token}`, 'Content-Type': 'image/png' });
    assert.equal(res.status, 201, res.text);
    return res.json;
}

// Where an upload (or a message's media) is kept on disk.
export function mediaFile(cluster, media) {
    return join(cluster.mediaDir, media.url.slice('/media/'.length));
}
