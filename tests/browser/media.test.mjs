// Inbound MMS in Debian's Chromium: a placeholder while the inbox has no
// copy of an image (the carrier's URL needs its credentials), the
// thumbnail swapped in live when the copy lands, the full image in a new
// tab, and nothing sideways at 390 px; a voice note played in the
// thread, a contact card and a file of no known type offered as
// downloads.
//
// The copy is made as the fetcher will make it, minus the carrier's HTTP
// request: tests/wire/store_op claims the image and keeps the bytes (the
// real store operations, the real file writer), and sends the event to
// ws-server as nginx does.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, test } from 'node:test';
import { noPageErrorsTest, signIn, useBrowser } from '../lib/browser.mjs';
import { buildDir, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { png, vcard, wav } from '../lib/media.mjs';
import { addUser } from '../lib/session.mjs';

const execFileAsync = promisify(execFile);
const storeOp = join(buildDir, 'tests', 'wire', 'store_op');
const ctx = useCluster({ orgs: [{ name: 'MMS Org' }] });
const USER = { email: 'kim@mms.example', password: 'kim looks at photos' };
const from = uniqueNumber();
const web = useBrowser();
let messageId;

// Runs one store operation as the fetcher would; its JSON line.
async function fetcher(...args) {
    const { stdout } = await execFileAsync(storeOp,
        [ctx.cluster.store, ...args], { env: { ...process.env,
            INBOX_EVENTS_SOCKET: join(ctx.cluster.dir, 'events.sock'),
            ASAN_OPTIONS: 'detect_leaks=0' } });
    const out = JSON.parse(stdout);
    assert.equal(out.status, 'ok', stdout);
    return out;
}

async function openThread(p) {
    await signIn(p, ctx.cluster, USER);
    await p.locator('#threads > li').first().getByRole('button').click();
    await p.locator('#messages .message .body', { hasText: 'our new porch' })
        .waitFor();
}

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, USER.email, USER.password);
    await deliverInbound(cluster, { from, body: 'our new porch', media: [
        { url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/'
               + 'MM1/Media/ME1', content_type: 'image/png' },
        { url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/'
               + 'MM1/Media/ME2', content_type: 'image/jpeg' },
    ] });
    const list = await api(cluster, '/api/v1/conversations', org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    messageId = msgs.json.items[0].id;
    await web.launch();
});

test('images show as placeholders until their copy lands, then as '
     + 'thumbnails, live; a thumbnail opens the full image', async () => {
    const p = await web.newPage();
    try {
        await openThread(p);
        const placeholders = p.locator('#messages .media-placeholder');
        await assert.doesNotReject(placeholders.nth(1).waitFor());
        assert.equal(await placeholders.count(), 2);
        assert.equal(await placeholders.first().textContent(),
            'Image 1 of 2 loading…');
        assert.equal(await p.locator('#messages img').count(), 0);

        // the fetcher claims both and gets the first one's bytes
        const claimed = await fetcher('media-claim', String(Date.now()),
            '10');
        assert.deepEqual(claimed.result.items.map((i) => i.idx).sort(),
            [0, 1]);
        const image = png(64, 48, [30, 120, 200]);
        const path = join(ctx.cluster.dir, 'fetched.png');
        writeFileSync(path, image);
        const copy = await fetcher('media-copy', ctx.cluster.mediaDir,
            messageId, '0', path);
        assert.equal(copy.events.length, 1);

        // no reload: the event swaps the thumbnail in
        const img = p.locator('#messages a.media-thumb img');
        await img.waitFor();
        await p.waitForFunction(() => {
            const i = document.querySelector('#messages a.media-thumb img');
            return i && i.complete && i.naturalWidth === 64;
        });
        assert.equal(await img.getAttribute('alt'), 'Image 1 of 2');
        assert.equal(await placeholders.count(), 1, 'the second still waits');
        const link = p.locator('#messages a.media-thumb');
        const href = await link.getAttribute('href');
        assert.equal(href, ctx.cluster.url(`/media/${copy.result.file}`));
        assert.equal(await link.getAttribute('target'), '_blank');

        const [tab] = await Promise.all([
            p.context().waitForEvent('page'),
            link.click(),
        ]);
        await tab.waitForLoadState();
        assert.equal(tab.url(), href);
        const full = await tab.request.get(href);
        assert.equal(full.headers()['content-type'], 'image/png');
        assert.ok(Buffer.from(await full.body()).equals(image));
        await tab.close();

        // and so after a reload too
        await p.reload();
        await p.locator('#threads > li').first().getByRole('button').click();
        await p.locator('#messages a.media-thumb img').waitFor();
        assert.equal(await placeholders.count(), 1);
    } finally {
        await p.context().close();
    }
});

test('at 390 px a thumbnail and a placeholder fit the screen', async () => {
    const p = await web.newPage({ width: 390, height: 844 });
    try {
        await openThread(p);
        await p.locator('#messages a.media-thumb img').waitFor();
        const width = await p.evaluate(
            () => document.documentElement.scrollWidth);
        assert.ok(width <= 390, `the thread is ${width} px wide`);
        for (const sel of ['#messages a.media-thumb img',
                           '#messages .media-placeholder']) {
            const box = await p.locator(sel).first().boundingBox();
            assert.ok(box && box.x >= 0 && box.x + box.width <= 390,
                `${sel} is on screen: ${JSON.stringify(box)}`);
        }
    } finally {
        await p.context().close();
    }
});

test('a voice note plays in the thread and a contact card and a file of '
     + 'no known type download, each named for what it is', async () => {
    const cluster = ctx.cluster;
    const org = cluster.orgs[0];
    const sender = uniqueNumber();
    const carrierUrl = (n) => 'https://api.twilio.com/2010-04-01/Accounts/'
        + `AC1/Messages/MM2/Media/ME${n}`;
    await deliverInbound(cluster, { from: sender, body: 'my details',
        media: [{ url: carrierUrl(1), content_type: 'audio/x-wav' },
                { url: carrierUrl(2), content_type: 'text/x-vcard' },
                { url: carrierUrl(3), content_type: 'application/zip' }] });
    const list = await api(cluster, '/api/v1/conversations', org.token);
    const conv = list.json.items.find((c) => c.contact.phone === sender);
    const msgs = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token);
    const id = msgs.json.items[0].id;

    const p = await web.newPage();
    try {
        await signIn(p, cluster, USER);
        await p.locator('#threads > li').first().getByRole('button').click();
        await p.locator('#messages .message .body', { hasText: 'my details' })
            .waitFor();
        // named by what the carrier said until the copies land
        const placeholders = p.locator('#messages .media-placeholder');
        await placeholders.nth(2).waitFor();
        assert.deepEqual(await placeholders.allTextContents(), [
            'Audio 1 of 3 loading…', 'Contact card 2 of 3 loading…',
            'File 3 of 3 loading…']);

        await fetcher('media-claim', String(Date.now()), '10');
        const files = [wav(250), vcard('Ana Lima', sender),
                       Buffer.from('PK\x03\x04 a zip of no known type')];
        for (const [i, bytes] of files.entries()) {
            const path = join(cluster.dir, `fetched-${i}`);
            writeFileSync(path, bytes);
            await fetcher('media-copy', cluster.mediaDir, id, String(i),
                          path);
        }

        // live: the voice note in a player that really plays it
        const audio = p.locator('#messages .media-player audio');
        await audio.waitFor();
        assert.equal(await audio.getAttribute('aria-label'), 'Audio 1 of 3');
        const duration = await audio.evaluate((a) => new Promise(
            (resolve) => {
                if (a.readyState >= 1) {
                    resolve(a.duration);
                }
                a.addEventListener('loadedmetadata', () => resolve(a.duration));
                a.addEventListener('error', () => resolve(-1));
                a.load();
            }));
        assert.ok(Math.abs(duration - 0.25) < 0.05, `${duration} s`);

        const links = p.locator('#messages a.media-file');
        await links.nth(2).waitFor();
        assert.equal(await placeholders.count(), 0);
        assert.deepEqual(await links.evaluateAll((as) => as.map((a) => [
            a.querySelector('.media-file-name').textContent,
            a.querySelector('.media-file-meta').textContent,
            a.getAttribute('download'), a.getAttribute('aria-label')])), [
            // 2,044 bytes
            ['Audio 1 of 3', 'WAV · 2 KB · Download', 'Audio.wav',
             'Download Audio 1 of 3, WAV, 2 KB'],
            ['Contact card 2 of 3', `VCF · ${files[1].length} bytes · `
             + 'Download', 'Contact card.vcf', 'Download Contact card 2 of '
             + `3, VCF, ${files[1].length} bytes`],
            ['File 3 of 3', `BIN · ${files[2].length} bytes · Download`,
             'File.bin', `Download File 3 of 3, BIN, ${files[2].length} `
             + 'bytes'],
        ]);

        // a click downloads the contact card, the very bytes it sent
        const [download] = await Promise.all([
            p.waitForEvent('download'),
            links.nth(1).click(),
        ]);
        assert.equal(download.suggestedFilename(), 'Contact card.vcf');
        assert.ok(readFileSync(await download.path()).equals(files[1]));
        assert.equal(p.url(), cluster.url('/'), 'the inbox stays open');

        // a card sent alone says so in the contact's timeline
        await deliverInbound(cluster, { from: sender, body: '', media: [
            { url: carrierUrl(4), content_type: 'text/vcard' }] });
        await p.locator('#messages .media-placeholder',
                        { hasText: 'Contact card loading…' }).waitFor();
        // and in the list, by the type the carrier named
        await p.locator('#threads > li').first()
            .locator('.row-preview-text', { hasText: /^Contact card$/ })
            .waitFor();
        await p.getByRole('button', { name: 'Contact', exact: true }).click();
        const details = p.getByRole('complementary', { name: 'Contact' })
            .locator('.timeline-item .timeline-detail');
        await details.filter({ hasText: 'my details' }).waitFor();
        assert.deepEqual((await details.allTextContents()).slice(0, 2),
                         ['Contact card', 'my details']);

        // a card the carrier called a picture: the list says what its copy
        // is once it lands, live
        await deliverInbound(cluster, { from: sender, body: '', media: [
            { url: carrierUrl(5), content_type: 'image/jpeg' }] });
        const row = p.locator('#threads > li').first()
            .locator('.row-preview-text');
        await row.filter({ hasText: /^Picture message$/ }).waitFor();
        const last = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token);
        const path = join(cluster.dir, 'fetched-card');
        writeFileSync(path, vcard('Ana Lima', sender));
        await fetcher('media-claim', String(Date.now()), '10');
        await fetcher('media-copy', cluster.mediaDir, last.json.items[0].id,
                      '0', path);
        await row.filter({ hasText: /^Contact card$/ }).waitFor();
    } finally {
        await p.context().close();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
