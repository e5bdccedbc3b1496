// A number's own rate (here one send every 5 s) is the sender's to keep:
// a reply that waits for its number's next turn past its claim is given
// back and claimed again, not counted as a carrier's "slow down" with a
// retry's backoff (eight of those and it would fail unsent).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { inboxctl, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Rate Org' }], carrierSim: true, sender: true,
    senderArgs: ['--rate', '0.2', '--burst', '1', '--lease', '5000',
                 '--timeout', '2000'],
});
let org;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '100');
});

test('replies waiting for their number\'s rate past their claim go in '
    + 'turn, with no carrier retry counted', { timeout: 60000 },
    async () => {
    const cluster = ctx.cluster;
    const from = uniqueNumber();
    await deliverInbound(cluster, { from, body: 'hi' });
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === from);
    for (const body of ['one', 'two', 'three']) {
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages`, org.token,
            { method: 'POST', body: { body } });
        assert.equal(res.status, 201, res.text);
    }

    // an entry waiting out a retry's backoff: its attempt counted, no
    // lease; looked for all along
    const retried = [];
    const look = async () => {
        const { stdout } = await promisify(execFile)(sqlite3Path, ['-cmd',
            '.timeout 5000', cluster.storePath, 'SELECT count(*) FROM outbox'
            + ' WHERE attempts > 0 AND lease_until IS NULL']);
        retried.push(Number(stdout.trim()));
    };

    // 5 s apart: the third about 10 s after the first
    const sent = await eventually(async () => {
        await look();
        const res = await api(cluster,
            `/api/v1/conversations/${conv.id}/messages?limit=10`,
            org.token);
        const out = res.json.items.filter((m) => m.direction === 'outbound');
        return out.every((m) => m.status !== 'queued'
                                && m.status !== 'sending') ? out : null;
    }, 30000, 'the three replies sent');
    assert.deepEqual(sent.map((m) => m.status).filter(
        (s) => s === 'failed' || s === 'undelivered'), []);

    assert.ok(retried.length > 20, `looked ${retried.length} times`);
    assert.deepEqual(retried.filter((n) => n > 0), [],
                     'no reply waited out a carrier retry\'s backoff');
});

errorLogIsCleanTest(ctx);
