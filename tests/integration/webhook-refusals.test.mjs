// A carrier webhook refused for one of our numbers, as an operator meets
// it behind a proxy: Twilio signs the URL set in its console, the public
// https one, and nginx checks the signature against inbox_public_url.
// When the two differ every message is refused, and Twilio does not send
// a refused webhook again: at the shipped log level (notice) the error
// log must say so, naming the URL the signature was checked against,
// without a line per webhook.  A number nobody has stays at info (anyone
// can probe numbers).
//
// One worker: each worker says it once a minute (per number), and the
// kernel picks which worker takes a request.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import { assertError, inboundForm, postInbound, postWebhook, signTwilio }
    from '../lib/inbox.mjs';

const PUBLIC_URL = 'https://inbox.example.test';

const ctx = useCluster({ orgs: [{ name: 'Proxied Org' },
                                { name: 'Other Org' }],
                         publicUrl: PUBLIC_URL, workerProcesses: 1,
                         errorLogLevel: 'notice' });

const linesWith = (cluster, text) =>
    cluster.errorLog().split('\n').filter((l) => l.includes(text));

test('a webhook signed for another URL than inbox_public_url leaves one '
    + 'warn line naming the URL checked; ten more leave none', async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];

    // signed for the URL the request came to, not the public one
    assertError(await postInbound(cluster, { from: uniqueNumber(),
                                             body: 'lost?' }),
                403, 'forbidden');

    let lines = linesWith(cluster, org.number);
    assert.equal(lines.length, 1, cluster.errorLog());
    assert.match(lines[0], /\[warn\]/);
    assert.match(lines[0], /wrong X-Twilio-Signature/);
    assert.ok(lines[0].includes(
        `checked against the URL "${PUBLIC_URL}/webhooks/twilio/inbound"`),
        lines[0]);
    assert.match(lines[0], /inbox_public_url/);

    for (let i = 0; i < 10; i++) {
        assertError(await postInbound(cluster, { from: uniqueNumber(),
                                                 body: `lost ${i}?` }),
                    403, 'forbidden');
    }
    lines = linesWith(cluster, org.number);
    assert.equal(lines.length, 1, lines.join('\n'));

    // signed for the public URL, as Twilio signs it: taken
    const pairs = inboundForm({ org, from: uniqueNumber(), body: 'found' });
    const signature = signTwilio(`${PUBLIC_URL}/webhooks/twilio/inbound`,
                                 pairs, org.authToken);
    assert.equal((await postWebhook(cluster, pairs, { signature })).status,
                 200);
});

test('a signed webhook refused for its form leaves one warn line saying '
    + 'why, without the URL', async () => {
    const cluster = await ctx.ready;
    // a number the test above has not had refused this minute
    const org = cluster.orgs[1];
    const post = async (body) => {
        const pairs = inboundForm({ org, from: 'whatsapp:+15550001234',
                                    body });
        const signature = signTwilio(`${PUBLIC_URL}/webhooks/twilio/inbound`,
                                     pairs, org.authToken);
        return postWebhook(cluster, pairs, { signature });
    };
    const before = linesWith(cluster, 'signed, refused').length;

    // Twilio does not send it again: the operator hears of it at warn
    assertError(await post('lost'), 400, 'invalid_request');
    let lines = linesWith(cluster, 'signed, refused');
    assert.equal(lines.length, before + 1, cluster.errorLog());
    const line = lines[lines.length - 1];
    assert.match(line, /\[warn\]/);
    assert.ok(line.includes(`webhook to ${org.number}`), line);
    assert.match(line, /field: From/);
    assert.match(line, /does not send a refused webhook again/);
    assert.doesNotMatch(line, /checked against the URL/);

    // once a minute per number, as any refusal
    assertError(await post('lost again'), 400, 'invalid_request');
    lines = linesWith(cluster, 'signed, refused');
    assert.equal(lines.length, before + 1, lines.join('\n'));
});

test('a webhook for a number no organization has leaves no line at '
    + 'notice', async () => {
    const cluster = await ctx.ready;
    const nobody = uniqueNumber();
    assertError(await postInbound(cluster, { from: uniqueNumber(),
                                             to: nobody, body: 'who?' }),
                403, 'forbidden');
    // the line is written before the answer (at info: not kept here)
    assert.deepEqual(linesWith(cluster, nobody), []);
});

errorLogIsCleanTest(ctx);
