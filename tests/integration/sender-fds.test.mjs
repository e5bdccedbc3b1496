// The sender at its file descriptor limit (here 16, by prlimit: room for
// three connections beside its store and sockets) with a burst of replies
// at a slow carrier: a send that finds no descriptor is the sender's own
// shortage, not the carrier's.  It is given back with no attempt counted
// (counted as the carrier's retry, eight of them failed a message the
// carrier never saw as "carrier_unavailable"), and goes once descriptors
// free up; the shortage is logged once.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { inboxctl, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';

const LIMIT = 16;
const REPLIES = 20;
const ctx = useCluster({
    orgs: [{ name: 'Fds Org' }], carrierSim: true, sender: true,
    senderWrap: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`],
    senderArgs: ['--rate', '100', '--burst', '50'],
});
let org;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100');
});

test('replies that find the sender out of file descriptors are given back '
    + 'with no attempt counted and all go once descriptors free up',
    { timeout: 90000 }, async () => {
    const cluster = ctx.cluster;
    assert.match(cluster.senderLog(),
                 new RegExp(`sender: ${LIMIT} file descriptors`));

    // each send answered after 1.5 s: a connection each meanwhile
    await cluster.sim.configure({ api: { lanes: null, serviceMs: 1500 } });
    const from = uniqueNumber();
    await deliverInbound(cluster, { from, body: 'hi' });
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    const bodies = [];
    for (let i = 0; i < REPLIES; i++) {
        bodies.push(`reply ${i}`);
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body: bodies[i] } });
        assert.equal(res.status, 201, res.text);
    }

    // an entry waiting out a retry's backoff (its attempt counted, no
    // lease), looked for all along: there is none
    let looks = 0;
    const look = async () => {
        const { stdout } = await promisify(execFile)(sqlite3Path, ['-cmd',
            '.timeout 5000', cluster.storePath, 'SELECT count(*) FROM outbox'
            + ' WHERE attempts > 0 AND lease_until IS NULL']);
        assert.equal(Number(stdout.trim()), 0, 'replies waiting out a '
            + 'retry\'s backoff for the sender\'s own shortage');
        looks++;
    };
    const sent = await eventually(async () => {
        await look();
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages?limit=50`,
            org.token);
        const out = res.json.items.filter((m) => m.direction === 'outbound');
        return out.length === REPLIES
            && out.every((m) => m.status !== 'queued'
                                && m.status !== 'sending') ? out : null;
    }, 60000, 'every reply sent');
    assert.deepEqual(sent.map((m) => m.status).filter(
        (s) => s === 'failed' || s === 'undelivered'), []);
    assert.ok(looks > 10, `looked ${looks} times`);

    // each reached the carrier once
    const sends = (await cluster.sim.requests({ kind: 'send' })).filter(
        (r) => r.form?.some(([k, v]) => k === 'To' && v === from));
    const got = sends.map((r) => r.form.find(([k]) => k === 'Body')[1]);
    assert.deepEqual(got.sort(), [...bodies].sort());

    // the shortage was there, and said once
    const lines = cluster.senderLog().split('\n').filter((line) =>
        /sender: no file descriptor free \(/.test(line));
    assert.equal(lines.length, 1, lines.join('\n'));
});

errorLogIsCleanTest(ctx);
