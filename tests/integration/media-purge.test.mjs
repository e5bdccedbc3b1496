// Uploads nothing uses are purged: with inbox_media_keep_unused 1h,
// an upload aged two hours in the store (its clock moved back, as the
// maintenance step cannot be made to wait that long) is gone after the
// next maintenance round, its record and its file, and a send naming it
// is a 400 naming media_ids.0; uploads a reply or a campaign attached stay
// served however old, and so does a fresh one.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { inboxctl, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, deliverInbound, eventually }
    from '../lib/inbox.mjs';
import { mediaFile, uploadPng } from '../lib/media.mjs';

const execFileAsync = promisify(execFile);
const ctx = useCluster({ orgs: [{ name: 'Purge Org' }],
                         http: ['inbox_media_keep_unused 1h;'] });
const HOUR = 3600 * 1000;

const org = () => ctx.cluster.orgs[0];

const uploadOk = () => uploadPng(ctx.cluster, org().token);

function call(path, body) {
    return api(ctx.cluster, path, org().token, { method: 'POST', body });
}

const fileOf = (media) => mediaFile(ctx.cluster, media);

async function sql(statement) {
    const { stdout } = await execFileAsync(sqlite3Path,
        [ctx.cluster.storePath, statement]);
    return stdout.trim();
}

test('an upload nothing attached is purged, file and record, once older '
     + 'than inbox_media_keep_unused; attached ones stay', async () => {
    await ctx.ready;
    await inboxctl(ctx.cluster.store, 'credits', 'grant', org().id, '10');
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { org: org(), from, body: 'pics?' });
    const list = await api(ctx.cluster, '/api/v1/conversations',
                           org().token);
    const conv = list.json.items.find((c) => c.contact.phone === from);

    const unused = await uploadOk();
    const replied = await uploadOk();
    const campaigned = await uploadOk();

    const sent = await call(`/api/v1/conversations/${conv.id}/messages`,
                            { body: 'here', media_ids: [replied.id] });
    assert.equal(sent.status, 201, sent.text);
    const draft = await call('/api/v1/campaigns',
        { name: 'Pictures', body: 'Look', media_ids: [campaigned.id],
          audience: { all: true } });
    assert.equal(draft.status, 201, draft.text);

    // within the hour nothing goes, whatever maintenance runs
    await uploadOk();
    await new Promise((ok) => setTimeout(ok, 1200));
    await uploadOk();
    assert.ok(existsSync(fileOf(unused)));

    // the clock moved on two hours, for these three uploads
    await sql(`UPDATE media SET created_at = created_at - ${2 * HOUR}`
              + ` WHERE id IN (${unused.id}, ${replied.id},`
              + ` ${campaigned.id})`);

    // uploads run the maintenance step: at most a purge a second
    const fresh = await eventually(async () => {
        const up = await uploadOk();
        return existsSync(fileOf(unused)) ? null : up;
    }, 10000, 'the unattached upload purged');

    assert.equal((await fetch(ctx.cluster.url(unused.url))).status, 404);
    assert.equal(await sql(`SELECT count(*) FROM media WHERE id = `
                           + `${unused.id}`), '0');
    const e = assertError(
        await call(`/api/v1/conversations/${conv.id}/messages`,
                   { body: 'again', media_ids: [unused.id] }),
        400, 'invalid_request');
    assert.equal(e.field, 'media_ids.0');
    assert.match(e.message, /^Attachment 1: there is no image with the id /);

    // what a reply or a campaign uses stays, and so does a fresh upload
    for (const media of [replied, campaigned, fresh]) {
        const res = await fetch(ctx.cluster.url(media.url));
        assert.equal(res.status, 200, media.url);
        await res.arrayBuffer();
    }
    const again = await call(`/api/v1/conversations/${conv.id}/messages`,
                             { body: 'again', media_ids: [replied.id] });
    assert.equal(again.status, 201, again.text);
});

errorLogIsCleanTest(ctx);
