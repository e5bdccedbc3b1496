// One cluster per test file: started before the first test, stopped and
// removed after the last one, whatever happened in between.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inboxctl, startCluster } from './cluster.mjs';
import { closeLeftSockets, quietHoursAway } from './inbox.mjs';

// ctx.ready resolves with the cluster: a file's own before() hooks must
// await it (Node 20 does not wait for one root hook before the next).
export function useCluster(opts) {
    const ctx = { cluster: null };
    let started;
    ctx.ready = new Promise((ok, fail) => { started = { ok, fail }; });
    ctx.ready.catch(() => {});
    before(async () => {
        try {
            ctx.cluster = await startCluster(opts);
            started.ok(ctx.cluster);
        } catch (err) {
            started.fail(err);
            throw err;
        }
    });
    after(async () => {
        await ctx.ready.catch(() => {});
        if (ctx.cluster) {
            closeLeftSockets();
            await ctx.cluster.stop();
            ctx.cluster.cleanup();
        }
    });
    return ctx;
}

// A cluster that sends (the carrier simulator and the sender; opts as
// useCluster's, which they may add to), its first organization granted
// credits, and with quietAway its zone UTC and its quiet hours away from
// now (campaigns go at once).  ctx.ready resolves with the cluster once
// that is done, ctx.org and ctx.sim set.
export function useSendingCluster({ credits, quietAway = false, ...opts }) {
    const ctx = useCluster({ carrierSim: true, sender: true, ...opts });
    ctx.ready = ctx.ready.then(async (cluster) => {
        const org = cluster.orgs[0];
        await inboxctl(cluster.store, 'credits', 'grant', org.id,
                       String(credits));
        if (quietAway) {
            await inboxctl(cluster.store, 'settings', 'set', org.id,
                           '--timezone', 'UTC', '--quiet-hours',
                           quietHoursAway());
        }
        ctx.org = org;
        ctx.sim = cluster.sim;
        return cluster;
    });
    ctx.ready.catch(() => {});
    before(async () => {
        await ctx.ready;
    });
    return ctx;
}

// The last test of a file: nginx shuts down cleanly and its error log
// has no alert, emerg or crash in it.
// beforeStop: what to close first (a browser holding a WebSocket open
// would keep a graceful shutdown waiting).
export function errorLogIsCleanTest(ctx, beforeStop = async () => {}) {
    test('nginx stops cleanly and logged no alert, emerg or crash',
        async (t) => {
            assert.ok(ctx.cluster, 'the cluster started');
            /* a test that failed between two connects leaves its first
             * socket open; a passing one that forgot its own is named too */
            const left = closeLeftSockets();
            if (left > 0) {
                t.diagnostic(`${left} WebSocket(s) still open, cut before `
                    + 'the stop');
            }
            await beforeStop();
            const started = Date.now();
            await ctx.cluster.stop();
            assert.ok(Date.now() - started < 5000,
                'nginx stopped within 5 s of SIGQUIT');
            const problems = ctx.cluster.errorLogProblems();
            if (problems.some((line) => /exited on signal/.test(line))) {
                problems.push(await ctx.cluster.crashReport());
            }
            assert.deepEqual(problems, []);
        });
}
