// A campaign message the sender holds claimed and not started yet, on
// cue, for the tests of what it does with such a message when something
// moves meanwhile (sender-inhand.test.mjs, sender-quiet-lost.test.mjs).
//
// A claim takes only what can start at once, so the sender holds a
// campaign message only for a moment: one claimed in the turn of a
// wake-up (a resume's) waits for the campaigns job's look and starts at
// the next turn (campaign-pause-held.test.mjs).  The sender runs with a
// token a second (turnMs 1000, a burst of 4: a two-segment message
// starts at 4, half the burst left to replies) and stops's wrapper
// (sender-stops.mjs), which stops it at the end of that turn; the move
// under test is made meanwhile, and the sender goes on.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { sleep } from './cluster.mjs';
import { api, deliverInbound, eventually, importTagged } from './inbox.mjs';
import { frozen as frozenPid, heldIn } from './sender-stops.mjs';

// two segments (GSM-7): one message a turn starts (sender-stops.mjs)
export { LONG } from './sender-stops.mjs';

// The helpers of ctx's cluster (useCluster's), its sender wrapped by
// stops (senderStops()) and paced a token every turnMs; org() is the
// organization whose campaigns are sent, tag names their audiences.
export function senderHolding(ctx, stops, { org, turnMs = 1000,
                                            tag = 'held' }) {
    const senderPid = () => ctx.cluster.sender.pid;
    const frozen = () => frozenPid(senderPid());
    let sent = 0;
    let sending = null;

    async function ok(path, options = {}, status = 200) {
        const res = await api(ctx.cluster, path, org().token, options);
        assert.equal(res.status, status, res.text);
        return res.json;
    }

    // A campaign to phones (more of its POST's body in extra: a
    // send_at), sent; each of them texted first, so that their threads
    // are listed.
    async function campaignTo(phones, text, extra = {}) {
        const name = `${tag}-${++sent}`;
        for (const from of phones) {
            await deliverInbound(ctx.cluster, { org: org(), from,
                                                body: 'hello' });
        }
        await importTagged(ctx.cluster, org().token, phones, name);
        const made = await ok('/api/v1/campaigns', { method: 'POST',
            body: { name: `To ${name}`, body: text,
                    audience: { tags: [name] }, ...extra } }, 201);
        assert.equal(made.segments, 2);
        await ok(`/api/v1/campaigns/${made.id}/send`, { method: 'POST' });
        sending = made;
        return made;
    }

    // Lets the sender go on (or stops it) until it is about to wait.
    async function stopBeforeAWait(goOn) {
        writeFileSync(stops.before, '');
        if (goOn) {
            process.kill(senderPid(), 'SIGCONT');
        }
        await eventually(async () => frozen(), 10000, 'the sender stopped');
    }

    // The carrier's sends of the campaign whose text starts with prefix:
    // their To.
    async function sendsOf(prefix) {
        return (await ctx.cluster.sim.requests({ kind: 'send' }))
            .map((r) => Object.fromEntries(r.form ?? []))
            .filter((f) => f.Body?.startsWith(prefix))
            .map((f) => f.To);
    }

    // Once campaign c (its text starting with prefix) went out in part,
    // pauses and resumes it (the number's bucket full again) and stops
    // the sender at the end of the turn that read the resume's wake-up:
    // it holds the message that turn claimed, for the campaigns job's
    // look.  Resolves with the message and the log's length; the sender
    // is left stopped.
    async function frozenHolding(c, prefix) {
        await eventually(async () => (await sendsOf(prefix)).length > 0,
                         20000, 'a first message sent');
        await ok(`/api/v1/campaigns/${c.id}/pause`, { method: 'POST' });
        await sleep(4 * turnMs);

        await stopBeforeAWait(false);
        const from = ctx.cluster.senderLog().length;
        await ok(`/api/v1/campaigns/${c.id}/resume`, { method: 'POST' });
        await stopBeforeAWait(true);

        const log = ctx.cluster.senderLog();
        const held = heldIn(log.slice(from));
        assert.equal(held.length, 1, 'one message held after the resume');
        return { message: held[0], seen: log.length };
    }

    // The thread among phones' whose messages include message, and that
    // message.
    async function threadOf(message, phones) {
        const list = await ok('/api/v1/conversations?limit=200');
        for (const conv of list.items) {
            if (!phones.includes(conv.contact.phone)) {
                continue;
            }
            const page = await ok(
                `/api/v1/conversations/${conv.id}/messages?limit=50`);
            const m = page.items.find((x) => x.id === message);
            if (m !== undefined) {
                return { conv, message: m };
            }
        }
        assert.fail(`no thread holds message ${message}`);
    }

    // A test's body; when it fails, the sender's last lines are shown,
    // the sender goes on and the campaign sending is cancelled (the next
    // test's sends alone).
    function withSenderLog(body) {
        return async (t) => {
            try {
                await body();
            } catch (err) {
                t.diagnostic(ctx.cluster.senderLog().split('\n').slice(-80)
                    .join('\n'));
                rmSync(stops.before, { force: true });
                if (frozen()) {
                    process.kill(senderPid(), 'SIGCONT');
                }
                if (sending !== null) {
                    await api(ctx.cluster,
                              `/api/v1/campaigns/${sending.id}/cancel`,
                              org().token, { method: 'POST' });
                }
                throw err;
            }
        };
    }

    return { ok, campaignTo, frozenHolding, threadOf, sendsOf,
             withSenderLog, senderPid };
}
