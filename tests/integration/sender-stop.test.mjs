/*
 * A sender told to stop (SIGTERM, SIGINT) while the store is
 * busy: the replies the carrier answered while it stopped are recorded
 * once the store takes them again, not dropped after one try to come
 * back "unknown_outcome" although the carrier took them.  It
 * waits for that only while their claims last (then the store reports
 * them unknown whatever it says), or until a second signal.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { holdWriteLock, inboxctl, sleep, uniqueNumber }
    from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';

/* long enough for a busy store's timeout (5 s), a retry after it, and a
 * request's --timeout past a loop turn that waited that long */
const LEASE_MS = 20000;
const SENDER_ARGS = ['--lease', String(LEASE_MS), '--timeout', '12000'];
/* the carrier answers this long after taking a send: the sender has
 * been told to stop, and the store is busy, by then */
const ANSWER_MS = 3000;

const ctx = useCluster({ orgs: [{ name: 'Stop Org' }], carrierSim: true,
    sender: true, senderArgs: SENDER_ARGS });
let org, sim;
before(async () => {
    const c = await ctx.ready; org = c.orgs[0]; sim = c.sim;
    await inboxctl(c.store, 'credits', 'grant', org.id, '100');
});

async function messages(convId) {
    const res = await api(ctx.cluster,
        `/api/v1/conversations/${convId}/messages?limit=50`, org.token);
    assert.equal(res.status, 200, res.text);
    return res.json.items.filter((m) => m.direction === 'outbound');
}

const sendsTo = async (to) => (await sim.requests({ kind: 'send' }))
    .filter((r) => r.form?.some(([k, v]) => k === 'To' && v === to));

/*
 * Three replies in flight (queued while no sender ran, so claimed and
 * answered together), answered late by the carrier; the store's write
 * lock is taken and the sender signalled before the answers come.
 * Resolves with what the test needs to go on: the lock, the sender's
 * process, the thread and its log since.
 */
async function stopWithAnswersInFlight(signal, senderArgs = SENDER_ARGS) {
    const c = ctx.cluster;
    const from = uniqueNumber();
    await deliverInbound(c, { from, body: 'hi' });
    const list = await api(c, '/api/v1/conversations?limit=200', org.token);
    const conv = list.json.items.find((x) => x.contact.phone === from);
    await sim.fail({ type: 'late_answer', delay_ms: ANSWER_MS, count: 3,
                     number: from });
    await c.stopSender('SIGTERM');
    for (const body of ['one', 'two', 'three']) {
        const res = await api(c, `/api/v1/conversations/${conv.id}/messages`,
            org.token, { method: 'POST', body: { body } });
        assert.equal(res.status, 201, res.text);
    }
    const logAt = c.senderLog().length;
    await c.startSender(senderArgs);
    await eventually(async () => (await sendsTo(from)).length === 3, 5000,
                     'the three sends reached the carrier');

    const lock = await holdWriteLock(c.storePath);
    const sender = c.sender;
    process.kill(sender.pid, signal);
    return { c, from, conv, lock, sender,
             log: () => c.senderLog().slice(logAt) };
}

async function restartSender(c, sender) {
    await Promise.race([sender.exited, sleep(30000)]);
    if (c.sender === sender) {
        c.sender = null;
    }
    if (!c.sender) {
        await c.startSender();
    }
}

test('a sender stopped while the store is busy records the carrier\'s '
     + 'answers once the store takes them again: the replies are not '
     + 'reported unknown', { timeout: 120000 }, async () => {
    const { c, from, conv, lock, sender, log } =
        await stopWithAnswersInFlight('SIGTERM');
    try {
        /* the answers came, the store refused them for a busy timeout */
        await eventually(() => /cannot record the results of \d+ messages/
            .test(log()), 20000, 'a record refused by the busy store');
        await lock.release();

        const { code, signal } = await Promise.race([sender.exited,
            sleep(30000).then(() => ({ code: 'still running' }))]);
        assert.equal(signal, null, log());
        assert.equal(code, 0, log());
    } finally {
        await lock.release();
        await restartSender(c, sender);
    }

    /* the carrier took each one: after their claims' leases nothing
     * comes back to report them unknown, and none was sent again */
    await sleep(LEASE_MS + 1000);
    const out = await messages(conv.id);
    assert.equal(out.length, 3);
    for (const m of out) {
        assert.notEqual(m.status, 'failed',
            `${m.body}: ${m.status} ${m.error_code}\n${log()}`);
        assert.notEqual(m.error_code, 'unknown_outcome',
            `${m.body}: ${m.status} ${m.error_code}\n${log()}`);
    }
    assert.equal((await sendsTo(from)).length, 3);
    assert.doesNotMatch(log(), /not recorded/);
});

test('a second signal stops a sender still waiting for a busy store, and '
     + 'it says which results it dropped', { timeout: 120000 }, async () => {
    const { c, lock, sender, log } = await stopWithAnswersInFlight('SIGINT');
    try {
        await eventually(() => /cannot record the results of \d+ messages/
            .test(log()), 20000, 'a record refused by the busy store');
        /* it is still waiting for the store, not gone */
        assert.equal(sender.exitCode, null, log());
        process.kill(sender.pid, 'SIGTERM');
        const { code } = await Promise.race([sender.exited,
            sleep(30000).then(() => ({ code: 'still running' }))]);
        assert.equal(code, 0, log());
        assert.match(log(), /second signal: 3 results not recorded/);
    } finally {
        await lock.release();
        await restartSender(c, sender);
    }
});

test('a sender stopping gives up on results the store refused until '
     + 'their claims ended, and says so', { timeout: 120000 }, async () => {
    const c = ctx.cluster;
    /* claims that end while the store is still busy */
    const { lock, sender, log } = await stopWithAnswersInFlight('SIGTERM',
        ['--lease', '6000', '--timeout', '4000']);
    try {
        const { code } = await Promise.race([sender.exited,
            sleep(40000).then(() => ({ code: 'still running' }))]);
        assert.equal(code, 0, log());
        assert.match(log(), /stopping after 3 requests in flight/);
        assert.match(log(), new RegExp('3 results not recorded: the store '
            + 'refused them until their claims\' leases ended'));
    } finally {
        await lock.release();
        await restartSender(c, sender);
    }
});
