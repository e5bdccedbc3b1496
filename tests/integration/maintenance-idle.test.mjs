// The workers' maintenance runs on a server that takes no webhook and no
// upload (staff only replying, a quiet night): each worker's timer runs
// the round once none ran for a while. With inbox_media_keep_unused 3s,
// an upload nothing sends is purged (its file gone, its URL 404) though
// nothing is uploaded after it; with inbox_events_keep_count 3, contacts
// added by hand (API writes, which run no maintenance of their own) leave
// their organization's newest three events, a resume from before them a
// reset.
// The directive's old name, inbox_media_keep_unattached, still works,
// with a warning naming the new one.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { buildDir, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, connectWs, eventually } from '../lib/inbox.mjs';
import { mediaFile, uploadPng } from '../lib/media.mjs';

const execFileAsync = promisify(execFile);
const storeOp = join(buildDir, 'tests', 'wire', 'store_op');

async function status(cluster, path) {
    const res = await fetch(cluster.url(path));
    await res.arrayBuffer();
    return res.status;
}

// Nothing is written after the upload: the wait only looks (a GET of a
// file is no write), so only the idle workers' timers can purge it.
async function unusedUploadPurged(cluster, org) {
    const unused = await uploadPng(cluster, org.token);
    const file = mediaFile(cluster, unused);
    assert.ok(existsSync(file));
    await eventually(async () => !existsSync(file), 30000,
                     'the unused upload purged without another write');
    assert.equal(await status(cluster, unused.url), 404);
}

describe('an idle server', () => {
    const ctx = useCluster({
        orgs: [{ name: 'Idle Media Org' }, { name: 'Idle Events Org' }],
        http: ['inbox_media_keep_unused 3s;',
               'inbox_events_keep_seconds 0;',
               'inbox_events_keep_count 3;'],
    });

    async function since(org, epoch, after) {
        const { stdout } = await execFileAsync(storeOp,
            [ctx.cluster.store, 'events-since', org.id, epoch,
             String(after), '0', '100']);
        return JSON.parse(stdout);
    }

    async function hello(cluster, org) {
        const ws = await connectWs(cluster, org.token);
        const [frame] = await ws.waitFor((f) => f.length >= 1);
        ws.close();
        assert.equal(frame.type, 'hello');
        return frame;
    }

    test('purges an upload nothing sent once the grace has passed, with '
         + 'no webhook and no upload after it', async () => {
        const cluster = await ctx.ready;
        await unusedUploadPurged(cluster, cluster.orgs[0]);
    });

    test('prunes the events API writes made, with no webhook and no '
         + 'upload', async () => {
        const cluster = await ctx.ready;
        const org = cluster.orgs[1];
        const start = await hello(cluster, org);

        // each a contact.updated
        for (let i = 0; i < 5; i++) {
            const res = await api(cluster, '/api/v1/contacts', org.token,
                { method: 'POST', body: { phone: uniqueNumber(),
                                          name: `Contact ${i}` } });
            assert.equal(res.status, 201, res.text);
        }

        const pruned = await eventually(async () => {
            const r = await since(org, start.epoch, start.org_seq);
            return r.status === 'conflict' ? r : null;
        }, 30000, 'the stream pruned without a webhook');
        assert.equal(pruned.result.field, 'org_seq');

        const now = await hello(cluster, org);
        assert.equal(now.org_seq, start.org_seq + 5);
        const kept = await since(org, start.epoch, now.org_seq - 3);
        assert.equal(kept.status, 'ok', JSON.stringify(kept));
        const frames = kept.result.frames.map((f) => JSON.parse(f));
        assert.deepEqual(frames.map((f) => f.type),
                         ['contact.updated', 'contact.updated',
                          'contact.updated']);
    });

    errorLogIsCleanTest(ctx);
});

describe('inbox_media_keep_unattached, the old name', () => {
    const ctx = useCluster({ orgs: [{ name: 'Old Name Org' }],
                             http: ['inbox_media_keep_unattached 3s;'] });

    test('is taken, with a warning naming inbox_media_keep_unused',
         async () => {
        const cluster = await ctx.ready;
        assert.match(cluster.errorLog(), new RegExp(
            '\\[warn\\].*the "inbox_media_keep_unattached" directive is '
            + 'deprecated, use the "inbox_media_keep_unused" directive'));
        // its 3 s, not the default day
        await unusedUploadPurged(cluster, cluster.orgs[0]);
    });

    errorLogIsCleanTest(ctx);
});
