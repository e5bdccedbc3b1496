// A burst of STOPs to a number the carrier refuses for its account
// (Twilio 401 20005, account not active): each STOP's answer fails
// "carrier_account", and the sender's error log names the first in full
// and counts the others, said in one line once the minute is over or as
// the sender stops, rather than one line for each.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numberBlock } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useSendingCluster } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';

const ctx = useSendingCluster({ orgs: [{ name: 'Refused Org' }],
                                credits: 100 });
const numbers = numberBlock('1662');

// The inbox's answer to phone's STOP, once it failed.
async function answerFailed(phone) {
    return eventually(async () => {
        const list = await api(ctx.cluster,
            '/api/v1/conversations?limit=200', ctx.org.token);
        const conv = list.json.items.find((c) => c.contact.phone === phone);
        if (!conv) {
            return null;
        }
        const msgs = await api(ctx.cluster,
            `/api/v1/conversations/${conv.id}/messages`, ctx.org.token);
        return msgs.json.items.find((m) => m.direction === 'outbound'
                                           && m.status === 'failed') ?? null;
    }, 20000, `the answer to ${phone}'s STOP failed`);
}

const E164_RE = (n) => n.replace('+', '\\+');

test('a burst of STOPs to a number whose account the carrier refuses '
     + 'logs the first refusal in full and the others as one count',
     async () => {
    const phones = numbers(6);
    const logAt = ctx.cluster.senderLog().length;
    await ctx.sim.fail({ type: 'account_refused', carrier: 'twilio',
                     count: phones.length });

    for (const from of phones) {
        await deliverInbound(ctx.cluster, { from, body: 'STOP' });
    }
    const failed = [];
    for (const phone of phones) {
        const m = await answerFailed(phone);
        assert.equal(m.error_code, 'carrier_account');
        failed.push(m.id);
    }

    const full = () => ctx.cluster.senderLog().slice(logAt).split('\n')
        .filter((l) => / failed: the carrier refused the account or /
            .test(l) && l.includes(`credentials of ${ctx.org.number}: `));
    assert.equal(full().length, 1, ctx.cluster.senderLog());
    assert.match(full()[0], new RegExp(`message (${failed.join('|')}) `
        + 'failed: .*Twilio refused the message \\(HTTP 401, error '
        + '20005\\): Account not active'));

    /* the others, counted: said as the sender stops (before the minute) */
    await ctx.cluster.stopSender('SIGTERM');
    const counted = ctx.cluster.senderLog().slice(logAt).split('\n')
        .filter((l) => / more messages? failed: /.test(l));
    assert.equal(counted.length, 1, ctx.cluster.senderLog());
    assert.match(counted[0], new RegExp(`${phones.length - 1} more messages `
        + 'failed: the carrier refused the account or credentials of '
        + `${E164_RE(ctx.org.number)} \\(HTTP 401, error 20005\\), the `
        + 'latest '
        + `message (${failed.join('|')})`));
    await ctx.cluster.startSender();
});

errorLogIsCleanTest(ctx);
