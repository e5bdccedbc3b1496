// Upload budgets: with inbox_upload_rate 1r/m burst=5, an API token may
// upload six megabytes at once (each upload its started megabytes), then
// is refused 429 rate_limited with Retry-After, nothing written; uploads
// that stored nothing (415) cost nothing; another organization's token
// is not affected, and a made-up token is 401, never charged.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { assertError } from '../lib/inbox.mjs';
import { png, upload } from '../lib/media.mjs';

const ctx = useCluster({ orgs: [{ name: 'Upload Org' },
                                { name: 'Other Upload Org' }],
                         http: ['inbox_upload_rate 1r/m burst=5;'] });

const send = (token, body = png()) => upload(ctx.cluster, body, {
    Authorization: `Bearer ${token}`, 'Content-Type': 'image/png' });

const files = () => readdirSync(ctx.cluster.mediaDir).length;

test('a token uploads its budget of megabytes, then is refused 429 with '
     + 'Retry-After and nothing written', async () => {
    await ctx.ready;
    const [org, other] = ctx.cluster.orgs;

    // three megabytes and a bit: four of the six
    const big = await send(org.token, Buffer.concat([png(1, 1),
        Buffer.alloc(3 * 1024 * 1024 + 1, 0x61)]));
    assert.equal(big.status, 201, big.text);

    // what stores nothing is given back: more of them than the two
    // megabytes left
    for (let i = 0; i < 8; i++) {
        assertError(await send(org.token, Buffer.from('<svg/>')), 415,
                    'unsupported_media_type');
    }

    for (let i = 0; i < 2; i++) {
        const res = await send(org.token);
        assert.equal(res.status, 201, res.text);
    }

    const before = files();
    const refused = await send(org.token);
    const e = assertError(refused, 429, 'rate_limited');
    assert.match(e.message, /uploaded with this API token or session/);
    const retry = Number(refused.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 65, `Retry-After ${retry}`);
    assert.equal(files(), before);

    // another organization's token has its own budget
    const theirs = await send(other.token);
    assert.equal(theirs.status, 201, theirs.text);

    // a made-up token is 401, however often
    for (let i = 0; i < 8; i++) {
        assertError(await send('made-up-token'), 401, 'unauthenticated');
    }
});

errorLogIsCleanTest(ctx);
