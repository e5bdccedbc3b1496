// Draws the sample pictures a contact can attach on the phone page:
// landscape.png (written here, zlib) and sunset.ppm, which cjpeg turns into
// sunset.jpg.  Run once; the pictures are committed.
//   node make-samples.mjs && cjpeg -quality 80 sunset.ppm > sunset.jpg

import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

const W = 160;
const H = 120;

function draw(pixel) {
    const rgb = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
            const [r, g, b] = pixel(x, y);
            rgb.writeUInt8(r, (y * W + x) * 3);
            rgb.writeUInt8(g, (y * W + x) * 3 + 1);
            rgb.writeUInt8(b, (y * W + x) * 3 + 2);
        }
    }
    return rgb;
}

const mix = (a, b, t) => a.map((v, i) => Math.round(v + (b[i] - v) * t));

function landscape(x, y) {
    if ((x - 115) ** 2 + (y - 35) ** 2 < 18 ** 2) {
        return [255, 210, 63];
    }
    if (y > 70 + 25 * Math.sin(x / 25)) {
        return mix([60, 179, 113], [34, 100, 60], (y - 60) / 60);
    }
    return mix([120, 180, 245], [30, 70, 150], y / H);
}

function sunset(x, y) {
    if ((x - 80) ** 2 + (y - 80) ** 2 < 30 ** 2 && y < 85) {
        return [255, 236, 170];
    }
    if (y >= 85) {
        return (Math.floor(y / 4) % 2) ? [40, 50, 110] : [70, 60, 130];
    }
    return mix([247, 178, 103], [232, 93, 117], y / 85);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) {
        c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    return c >>> 0;
});

function crc32(buf) {
    let c = 0xffffffff;
    for (const b of buf) {
        c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    }
    return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
}

function png(rgb) {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(W, 0);
    ihdr.writeUInt32BE(H, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    const raw = Buffer.alloc(H * (W * 3 + 1));
    for (let y = 0; y < H; y++) {
        rgb.copy(raw, y * (W * 3 + 1) + 1, y * W * 3, (y + 1) * W * 3);
    }
    return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })),
        chunk('IEND', Buffer.alloc(0))]);
}

writeFileSync('landscape.png', png(draw(landscape)));
writeFileSync('sunset.ppm', Buffer.concat([
    Buffer.from(`P6\n${W} ${H}\n255\n`, 'ascii'), draw(sunset)]));
