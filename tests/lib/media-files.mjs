// The media directory as the sweep tests see it: files aged by their
// mtime, and the files three kinds of record name (an upload nothing used
// yet, a draft campaign's image, an inbound message's copy), which a
// sweep must leave however old they are.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sqlite3Path, uniqueNumber } from './cluster.mjs';
import { api, eventually } from './inbox.mjs';
import { uploadPng } from './media.mjs';

const execFileAsync = promisify(execFile);

export const DAY = 86400;

// A file of cluster's media directory, written (unless bytes is left
// out: it is there) and made seconds old.
export function agedMedia(cluster, name, seconds, bytes) {
    const path = join(cluster.mediaDir, name);
    if (bytes !== undefined) {
        writeFileSync(path, bytes);
    }
    const t = Date.now() / 1000 - seconds;
    utimesSync(path, t, t);
    return path;
}

// The file of from's inbound image once its copy is stored, else ''.
async function copyOf(cluster, from) {
    const { stdout } = await execFileAsync(sqlite3Path, ['-cmd',
        '.timeout 5000', cluster.storePath,
        'SELECT mm.file FROM message_media mm'
        + ' JOIN messages m ON m.id = mm.message_id'
        + ' JOIN conversations v ON v.id = m.conversation_id'
        + ' JOIN contacts c ON c.id = v.contact_id'
        + ` WHERE c.phone = '${from}' AND mm.state = 'stored'`]);
    return stdout.trim();
}

const fileOf = (url) => url.slice('/media/'.length);

// The files of an upload nothing used yet, a draft campaign's image and
// an inbound copy (texted through sim), each made two days old.
export async function recordedMediaFiles(cluster, sim, token) {
    const upload = fileOf((await uploadPng(cluster, token)).url);
    const pictured = await uploadPng(cluster, token);
    const draft = await api(cluster, '/api/v1/campaigns', token, {
        method: 'POST', body: { name: 'Picture', body: 'Look',
                                media_ids: [pictured.id],
                                audience: { all: true } } });
    assert.equal(draft.status, 201, draft.text);
    const campaign = fileOf(draft.json.media[0].url);
    const from = uniqueNumber();
    const { webhook } = await sim.inbound({ from, body: 'look',
                                            media: ['sunset.jpg'] });
    assert.equal(webhook.state, 'delivered');
    await eventually(async () => (await copyOf(cluster, from)) !== '',
                     30000, 'the copy made');
    const copy = await copyOf(cluster, from);

    for (const name of [upload, campaign, copy]) {
        agedMedia(cluster, name, 2 * DAY);
    }
    return { upload, campaign, copy };
}
