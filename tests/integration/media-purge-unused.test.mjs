// Uploads nothing names are purged once the grace has passed, however
// they came to be unused: with inbox_media_keep_unused 3s, an upload
// the composer dropped (never sent) and one a draft's edit replaced are
// gone after a maintenance round, record and file, their URLs 404; the
// images a reply sent, the one the edit put in, and one the edit dropped
// that the reply sent too still serve.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, deliverInbound, eventually }
    from '../lib/inbox.mjs';
import { mediaFile, uploadPng } from '../lib/media.mjs';

const ctx = useCluster({ orgs: [{ name: 'Unused Media Org' }],
                         http: ['inbox_media_keep_unused 3s;'] });

const org = () => ctx.cluster.orgs[0];

const uploadOk = () => uploadPng(ctx.cluster, org().token);

async function call(path, body, method = 'POST') {
    return api(ctx.cluster, path, org().token, { method, body });
}

const fileOf = (media) => mediaFile(ctx.cluster, media);

async function served(media) {
    const res = await fetch(ctx.cluster.url(media.url));
    await res.arrayBuffer();
    return res.status;
}

test('an upload no reply and no campaign names is purged after the '
     + 'grace, a draft\'s replaced image too; what a reply sent or the '
     + 'draft shows stays', async () => {
    await ctx.ready;
    await inboxctl(ctx.cluster.store, 'credits', 'grant', org().id, '10');
    const from = uniqueNumber();
    await deliverInbound(ctx.cluster, { org: org(), from, body: 'pics?' });
    const list = await api(ctx.cluster, '/api/v1/conversations',
                           org().token);
    const conv = list.json.items.find((c) => c.contact.phone === from);

    // each used as soon as it is uploaded, well within the grace
    const sent = await uploadOk();
    const shared = await uploadOk();
    const reply = await call(`/api/v1/conversations/${conv.id}/messages`,
                             { body: 'here', media_ids: [sent.id,
                                                         shared.id] });
    assert.equal(reply.status, 201, reply.text);

    const replaced = await uploadOk();
    const draft = await call('/api/v1/campaigns',
        { name: 'Pictures', body: 'Look', audience: { all: true },
          media_ids: [replaced.id, shared.id] });
    assert.equal(draft.status, 201, draft.text);

    const kept = await uploadOk();
    const edit = await call(`/api/v1/campaigns/${draft.json.id}`,
                            { media_ids: [kept.id] }, 'PATCH');
    assert.equal(edit.status, 200, edit.text);
    assert.deepEqual(edit.json.media.map((m) => m.id), [kept.id]);

    // dropped from the composer: never sent
    const unused = await uploadOk();

    // uploads run the maintenance step (at most a purge a second)
    await eventually(async () => {
        await uploadOk();
        return !existsSync(fileOf(unused)) && !existsSync(fileOf(replaced));
    }, 30000, 'the unused and the replaced uploads purged');

    assert.equal(await served(unused), 404);
    assert.equal(await served(replaced), 404);
    for (const media of [sent, shared, kept]) {
        assert.ok(existsSync(fileOf(media)), media.url);
        assert.equal(await served(media), 200, media.url);
    }

    // a purged upload is none to send; the reply still shows its images
    const e = assertError(
        await call(`/api/v1/conversations/${conv.id}/messages`,
                   { body: 'again', media_ids: [replaced.id] }),
        400, 'invalid_request');
    assert.equal(e.field, 'media_ids.0');
    assert.match(e.message, /^Attachment 1: there is no image with the id /);
    const thread = await api(ctx.cluster,
        `/api/v1/conversations/${conv.id}/messages`, org().token);
    const mine = thread.json.items.find((m) => m.id === reply.json.id);
    assert.deepEqual(mine.media.map((m) => m.url), [sent.url, shared.url]);
    const shown = await api(ctx.cluster,
        `/api/v1/campaigns/${draft.json.id}`, org().token);
    assert.deepEqual(shown.json.media.map((m) => m.url), [kept.url]);
});

errorLogIsCleanTest(ctx);
