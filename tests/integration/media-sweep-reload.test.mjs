// nginx's media sweep keeps its schedule across reloads: when the next
// sweep is due is kept in shared memory that a reload keeps, so a
// reload's new worker 0 sweeps when the one before would have.  Reloads
// more frequent than inbox_media_sweep_interval (here 8 s, reloads every
// 2 s) put the sweep off for good before: each new worker armed its
// first sweep an interval after its start.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sleep } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { png } from '../lib/media.mjs';
import { DAY, agedMedia } from '../lib/media-files.mjs';

const INTERVAL_S = 8;
const ctx = useCluster({
    orgs: [{ name: 'Reload Sweep Org' }],
    http: [`inbox_media_sweep_interval ${INTERVAL_S}s;`],
});

test('nginx reloaded every 2 s, more often than the sweep\'s interval: '
     + 'the sweep still runs when due and removes an old orphan',
     { timeout: 90000 }, async () => {
    const cluster = await ctx.ready;
    const orphan = `${'R'.repeat(43)}.png`;
    agedMedia(cluster, orphan, 2 * DAY, png());

    const started = Date.now();
    let reloads = 0;
    while ((reloads < 2 || existsSync(join(cluster.mediaDir, orphan)))
           && Date.now() - started < 4 * INTERVAL_S * 1000) {
        await sleep(2000);
        await cluster.reloadNginx();
        reloads++;
    }

    assert.ok(reloads >= 2, `reloaded ${reloads} times within the period`);
    assert.ok(!existsSync(join(cluster.mediaDir, orphan)),
              `the orphan still there after ${reloads} reloads in `
              + `${Math.round((Date.now() - started) / 1000)} s`);
    assert.match(cluster.errorLog(),
                 /inbox: the media sweep removed 1 files no record names/);
});

errorLogIsCleanTest(ctx);
