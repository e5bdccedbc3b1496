// Event retention through real nginx and SQLite: with
// inbox_events_keep_seconds 0 and inbox_events_keep_count 3, the workers'
// maintenance prunes each organization's stream down to its newest three
// events after webhooks, oldest first; a resume from before them is a
// reset, one from the oldest kept gets them all (tests/wire/store_op
// events-since: the store operation ws-server resumes with).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { buildDir, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { connectWs, deliverInbound, eventually } from '../lib/inbox.mjs';

const execFileAsync = promisify(execFile);
const storeOp = join(buildDir, 'tests', 'wire', 'store_op');

const ctx = useCluster({
    orgs: [{ name: 'Retention Org' }],
    http: ['inbox_events_keep_seconds 0;', 'inbox_events_keep_count 3;'],
});

async function since(org, epoch, after) {
    const { stdout } = await execFileAsync(storeOp,
        [ctx.cluster.store, 'events-since', org.id, epoch, String(after), '0',
         '100']);
    return JSON.parse(stdout);
}

test('each organization keeps its newest events as configured; a resume '
    + 'from before them is a reset', async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];

    // the stream's epoch and position, as a browser's hello has them
    const ws = await connectWs(cluster, org.token);
    const [hello] = await ws.waitFor((f) => f.length >= 1);
    ws.close();
    assert.equal(hello.type, 'hello');
    const start = hello.org_seq;

    for (let i = 0; i < 4; i++) {
        await deliverInbound(cluster, { org, from: uniqueNumber(),
                                        body: `message ${i}` });
    }
    // each a new number's: its message's three, its contact's one
    const newest = start + 16;

    // maintenance prunes at most once a second, after writes
    const pruned = await eventually(async () => {
        await deliverInbound(cluster, { org, from: uniqueNumber(),
                                        body: 'one more' });
        const r = await since(org, hello.epoch, 0);
        return r.status === 'conflict' ? r : null;
    }, 10000, 'the stream pruned');
    assert.equal(pruned.result.field, 'org_seq');
    assert.equal(pruned.http, 409);

    // the newest three are there whole, whatever was pruned before them
    const ws2 = await connectWs(cluster, org.token);
    const [now] = await ws2.waitFor((f) => f.length >= 1);
    ws2.close();
    assert.ok(now.org_seq >= newest);
    const kept = await since(org, hello.epoch, now.org_seq - 3);
    assert.equal(kept.status, 'ok', JSON.stringify(kept));
    const frames = kept.result.frames.map((f) => JSON.parse(f));
    assert.equal(frames.length, 3);
    assert.deepEqual(frames.map((f) => f.type),
                     ['conversation.updated', 'unread.total',
                      'contact.updated']);
    assert.ok(frames.every((f) => f.epoch === hello.epoch));
    assert.equal(frames[1].org_seq, frames[0].org_seq + 1);

    // another epoch is a reset too
    const other = await since(org, '0000000000000000', now.org_seq - 3);
    assert.equal(other.status, 'conflict');
    assert.equal(other.result.field, 'epoch');
});

errorLogIsCleanTest(ctx);
