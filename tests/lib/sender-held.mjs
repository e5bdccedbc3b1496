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
import { api, deliverInbound, eventually, importTagged } from './inbox.mjs';
import { inHand } from './sender-stops.mjs';

// two segments (GSM-7): one message a turn starts (sender-stops.mjs)
export { LONG } from './sender-stops.mjs';

// The helpers of ctx's cluster (useCluster's), its sender wrapped by
// stops (senderStops()) and paced a token every turnMs; org() is the
// organization whose campaigns are sent, tag names their audiences.
export function senderHolding(ctx, stops, { org, turnMs = 1000,
                                            tag = 'held' }) {
    const hand = inHand(ctx, stops, turnMs, org);
    const { ok } = hand;
    let sent = 0;
    let sending = null;

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

    // The carrier's sends of the campaign whose text starts with prefix:
    // their To.
    async function sendsOf(prefix) {
        return (await ctx.cluster.sim.requests({ kind: 'send' }))
            .map((r) => Object.fromEntries(r.form ?? []))
            .filter((f) => f.Body?.startsWith(prefix))
            .map((f) => f.To);
    }

    // Once campaign c (its text starting with prefix) went out in part,
    // the message the sender holds after a pause and a resume
    // (sender-stops.mjs' holding); the sender is left stopped.
    async function frozenHolding(c, prefix) {
        await eventually(async () => (await sendsOf(prefix)).length > 0,
                         20000, 'a first message sent');
        return hand.holding('campaigns', c);
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

    // A test's body (sender-stops.mjs' withSenderLog); when it fails, the
    // campaign sending is cancelled too (the next test's sends alone).
    function withSenderLog(body) {
        return hand.withSenderLog(body, async () => {
            if (sending !== null) {
                await api(ctx.cluster,
                          `/api/v1/campaigns/${sending.id}/cancel`,
                          org().token, { method: 'POST' });
            }
        });
    }

    return { ok, campaignTo, frozenHolding, threadOf, sendsOf,
             withSenderLog, senderPid: hand.senderPid };
}
