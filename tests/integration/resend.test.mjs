// Send again, recorded by the server: a person's reply that did not
// reach the phone goes again once, whoever presses it.  Two colleagues
// press Send again at the same moment (two sends naming it, resend_of,
// each under its own Idempotency-Key): one goes, the other is 409
// already_sent_again naming it, and the carrier gets the text once more,
// not twice; every socket of the organization is told the failed reply
// was sent again (message.updated carrying resent_as), and so is a read
// of the thread.  What is not a failed person's reply of that thread is
// refused in words.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { api, connectWs, deliverInbound, eventually } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Resend Org' }], carrierSim: true,
                         sender: true });
let org;
let sim;
let pat;

before(async () => {
    const cluster = await ctx.ready;
    org = cluster.orgs[0];
    sim = cluster.sim;
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '10');
    await addUser(cluster, org, 'pat@resend.test', 'correct horse 1');
    pat = (await login(cluster, 'pat@resend.test', 'correct horse 1'))
        .cookie;
    assert.ok(pat, 'pat is signed in');
});

const send = (conv, body, key) => sessionApi(ctx.cluster,
    `/api/v1/conversations/${conv}/messages`, pat, { method: 'POST', body,
    headers: key ? { 'Idempotency-Key': key } : {} });

const messages = async (conv) => (await api(ctx.cluster,
    `/api/v1/conversations/${conv}/messages`, org.token)).json.items;

test('a failed reply sent again by two at once goes once: the other is '
     + '409 already_sent_again naming it, one text reaches the carrier, '
     + 'and every socket sees the failed reply marked', async () => {
    const phone = uniqueNumber();
    await sim.fail({ type: 'final_status', number: phone,
                     status: 'failed', error_code: 30003, count: 1 });
    await deliverInbound(ctx.cluster, { from: phone, body: 'coming?' });
    const conv = (await api(ctx.cluster, '/api/v1/conversations',
        org.token)).json.items.find((c) => c.contact.phone === phone);
    const inbound = (await messages(conv.id))[0];

    const first = await send(conv.id, { body: 'Still coming?' });
    assert.equal(first.status, 201, first.text);
    const failed = await eventually(async () => (await messages(conv.id))
        .find((m) => m.id === first.json.id && m.status === 'failed'),
        15000, 'the reply failed');
    assert.equal(failed.resent_as, undefined);

    // not a failed person's reply of this thread: refused, nothing sent
    const inboundAgain = await send(conv.id, { body: 'coming?',
                                                resend_of: inbound.id });
    assert.equal(inboundAgain.status, 400, inboundAgain.text);
    assert.equal(inboundAgain.json.error.field, 'resend_of');
    assert.match(inboundAgain.json.error.message, /Only a person's reply/);
    const none = await send(conv.id, { body: 'Still coming?',
                                       resend_of: '999999999' });
    assert.equal(none.status, 404, none.text);
    assert.equal(none.json.error.field, 'resend_of');

    const a = await connectWs(ctx.cluster, org.token);
    const b = await connectWs(ctx.cluster, org.token);
    try {
        const tries = await Promise.all(['k-a', 'k-b'].map((key) =>
            send(conv.id, { body: 'Still coming?', resend_of: failed.id },
                 key)));
        const went = tries.filter((t) => t.status === 201);
        const refused = tries.filter((t) => t.status === 409);
        assert.equal(went.length, 1, tries.map((t) => t.text).join('\n'));
        assert.equal(refused.length, 1, tries.map((t) => t.text).join('\n'));
        const again = went[0].json;
        assert.deepEqual(refused[0].json.error, {
            code: 'already_sent_again',
            message: 'This reply was sent again already; nothing more was '
                + 'sent.',
            field: 'resend_of', message_id: again.id });

        // a third, later: refused the same way
        const late = await send(conv.id, { body: 'Still coming?',
                                           resend_of: failed.id }, 'k-c');
        assert.equal(late.status, 409, late.text);
        assert.equal(late.json.error.message_id, again.id);

        // each socket is told, the mark in the message itself
        for (const ws of [a, b]) {
            const frames = await ws.waitFor((fs) => fs.some((f) =>
                f.type === 'message.updated' && f.message.id === failed.id),
                5000, 'the failed reply\'s message.updated');
            const marked = frames.find((f) => f.type === 'message.updated'
                && f.message.id === failed.id).message;
            assert.equal(marked.resent_as, again.id);
            assert.equal(typeof marked.resent_at, 'string');
        }

        // the carrier got the text twice in all: the failure and one more
        await eventually(async () => (await messages(conv.id)).find((m) =>
            m.id === again.id && m.status === 'delivered'), 15000,
            'the one sent again delivered');
        const sent = await sim.messages({ contact: phone,
                                          direction: 'outbound' });
        assert.equal(sent.length, 2, JSON.stringify(sent));

        // a read of the thread says it too
        const read = (await messages(conv.id)).find((m) =>
            m.id === failed.id);
        assert.equal(read.resent_as, again.id);

        // the failure's credit came back, one spent
        const billing = await api(ctx.cluster, '/api/v1/billing',
                                  org.token);
        assert.equal(billing.json.credits.balance, 9, billing.text);
    } finally {
        a.close();
        b.close();
    }
});

errorLogIsCleanTest(ctx);
