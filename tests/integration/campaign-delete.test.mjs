// A draft campaign or poll is deleted over HTTP: 204, gone from its list
// and its GET, and its image purged once unused for the grace (here
// inbox_media_keep_unused 3s), while another draft's stays; so is one
// scheduled and cancelled before its time, and one started and cancelled
// before any of its messages was handed over (no sender runs here). One
// scheduled or sending is refused 409 in words and stays as it was; another organization's, the other kind's and an unknown id are
// 404.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError, eventually } from '../lib/inbox.mjs';
import { mediaFile, uploadPng } from '../lib/media.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Delete Org' }, { name: 'Other Delete Org' }],
    http: ['inbox_media_keep_unused 3s;'],
});

const orgA = () => ctx.cluster.orgs[0];
const orgB = () => ctx.cluster.orgs[1];

async function call(path, opts = {}, org = orgA()) {
    return api(ctx.cluster, path, org.token, opts);
}

async function ok(path, opts = {}, status = 200, org = orgA()) {
    const res = await call(path, opts, org);
    assert.equal(res.status, status, res.text);
    return res.json;
}

async function listed(kind) {
    return (await ok(`/api/v1/${kind}`)).items.map((c) => c.id);
}

async function draft(name, mediaIds = []) {
    return ok('/api/v1/campaigns', { method: 'POST', body: {
        name, body: 'Our menu', audience: { all: true },
        media_ids: mediaIds } }, 201);
}

test('a draft is deleted: 204, gone from the list and its GET, and its '
     + 'image purged after the grace while another draft\'s stays',
     async () => {
    const cluster = await ctx.ready;
    const gone = await uploadPng(cluster, orgA().token);
    const kept = await uploadPng(cluster, orgA().token);
    const abandoned = await draft('Abandoned', [gone.id]);
    const other = await draft('Still a draft', [kept.id]);
    const path = `/api/v1/campaigns/${abandoned.id}`;

    const res = await call(path, { method: 'DELETE' });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');
    assertError(await call(path), 404, 'not_found');
    assert.deepEqual((await listed('campaigns')).filter((id) =>
        id === abandoned.id), []);
    assert.ok((await listed('campaigns')).includes(other.id));
    // once: a repeat finds none
    assertError(await call(path, { method: 'DELETE' }), 404, 'not_found');

    await eventually(async () => !existsSync(mediaFile(cluster, gone)),
                     30000, 'the deleted draft\'s image purged');
    const file = await fetch(cluster.url(gone.url));
    await file.arrayBuffer();
    assert.equal(file.status, 404);
    assert.ok(existsSync(mediaFile(cluster, kept)),
              'the other draft keeps its image');
    assert.deepEqual((await ok(`/api/v1/campaigns/${other.id}`)).media
        .map((m) => m.id), [kept.id]);
});

test('a poll draft is deleted under polls; under campaigns, from another '
     + 'organization or unknown it is 404 and stays', async () => {
    const poll = await ok('/api/v1/polls', { method: 'POST', body: {
        question: 'Lunch?', options: ['Yes', 'No'],
        audience: { all: true } } }, 201);
    const mine = await draft('Mine');

    for (const [path, org] of [
        [`/api/v1/campaigns/${poll.id}`, orgA()],
        [`/api/v1/polls/${mine.id}`, orgA()],
        [`/api/v1/polls/${poll.id}`, orgB()],
        [`/api/v1/campaigns/${mine.id}`, orgB()],
        ['/api/v1/campaigns/999999', orgA()],
        ['/api/v1/polls/999999', orgA()]])
    {
        assertError(await call(path, { method: 'DELETE' }, org), 404,
                    'not_found');
    }
    assert.equal((await ok(`/api/v1/polls/${poll.id}`)).status, 'draft');
    assert.equal((await ok(`/api/v1/campaigns/${mine.id}`)).status,
                 'draft');

    const res = await call(`/api/v1/polls/${poll.id}`, { method: 'DELETE' });
    assert.equal(res.status, 204, res.text);
    assertError(await call(`/api/v1/polls/${poll.id}`), 404, 'not_found');
    assert.ok(!(await listed('polls')).includes(poll.id));
});

test('a campaign scheduled or sending is refused 409 in words and stays '
     + 'as it was; one scheduled and cancelled, or started and cancelled '
     + 'before any hand-over, is deleted', async () => {
    const cluster = await ctx.ready;
    await inboxctl(cluster.store, 'credits', 'grant', orgA().id, '100');
    await ok('/api/v1/contacts', { method: 'POST',
        body: { phone: uniqueNumber(), name: 'Alice' } }, 201);

    const sent = await draft('Sent');
    assert.equal((await ok(`/api/v1/campaigns/${sent.id}/send`,
                           { method: 'POST' })).status, 'sending');
    const e = assertError(await call(`/api/v1/campaigns/${sent.id}`,
                                   { method: 'DELETE' }), 409, 'conflict');
    assert.equal(e.message, 'Only a draft, or one cancelled before any of '
                            + 'its messages was handed over, can be '
                 + 'deleted; this one is sending: cancel it instead.');
    assert.equal((await ok(`/api/v1/campaigns/${sent.id}`)).status,
                 'sending');

    /* started, but no sender runs here: nothing was handed over, so
     * once cancelled it goes as one never begun does */
    const cancelled = await ok(`/api/v1/campaigns/${sent.id}/cancel`,
                               { method: 'POST' });
    assert.ok(cancelled.started_at, 'it started');
    const gone = await call(`/api/v1/campaigns/${sent.id}`,
                            { method: 'DELETE' });
    assert.equal(gone.status, 204, gone.text);
    assertError(await call(`/api/v1/campaigns/${sent.id}`), 404,
                'not_found');
    assert.ok(!(await listed('campaigns')).includes(sent.id));

    const later = await ok('/api/v1/campaigns', { method: 'POST', body: {
        name: 'Later', body: 'soon', audience: { all: true },
        send_at: '2099-01-01T09:00:00Z' } }, 201);
    await ok(`/api/v1/campaigns/${later.id}/send`, { method: 'POST' });
    assertError(await call(`/api/v1/campaigns/${later.id}`,
                           { method: 'DELETE' }), 409, 'conflict');
    assert.equal((await ok(`/api/v1/campaigns/${later.id}`)).status,
                 'scheduled');

    // cancelled before its time: nobody was sent it, so it goes
    await ok(`/api/v1/campaigns/${later.id}/cancel`, { method: 'POST' });
    const res = await call(`/api/v1/campaigns/${later.id}`,
                           { method: 'DELETE' });
    assert.equal(res.status, 204, res.text);
    assertError(await call(`/api/v1/campaigns/${later.id}`), 404,
                'not_found');
    assert.ok(!(await listed('campaigns')).includes(later.id));
});

errorLogIsCleanTest(ctx);
