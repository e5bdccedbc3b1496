// inbox-server.conf included in a server that has locations of its own,
// as the README says to: the operator's regex location for static files
// does not take the web app's page (nor its security headers), and the
// operator's own locations keep nginx's error pages, not the inbox's JSON.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError } from '../lib/inbox.mjs';

const ctx = useCluster({ server: [
    // a common one: long caching for static files, the server's root
    'location ~* \\.(?:png|jpg|gif|js|css|html)$ { expires 7d; }',
    'location = /operator/fails { return 500; }',
    // an upstream of the operator's that is down: nothing listens on 1
    'location /operator/app/ { proxy_pass http://127.0.0.1:1; }',
] });

test('an operator\'s regex location for static files does not strip the '
     + 'web app\'s Content-Security-Policy and X-Frame-Options',
async () => {
    const c = ctx.cluster ?? await ctx.ready;
    for (const path of ['/', '/index.html']) {
        const res = await fetch(c.url(path));
        assert.equal(res.status, 200, path);
        assert.match(await res.text(), /<html/i, path);
        assert.match(res.headers.get('content-security-policy') ?? '',
                     /frame-ancestors 'none'/, path);
        assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
        assert.equal(res.headers.get('expires'), null, path);
    }
    const js = await fetch(c.url('/app.js'));
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
});

test('an operator\'s own location answering 500 or 502 keeps nginx\'s '
     + 'error page, not the inbox\'s JSON', async () => {
    const c = ctx.cluster ?? await ctx.ready;
    for (const [path, status] of [['/operator/fails', 500],
                                  ['/operator/app/x', 502]]) {
        const res = await fetch(c.url(path));
        const text = await res.text();
        assert.equal(res.status, status, `${path}: ${text}`);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/,
                     path);
        assert.match(text, new RegExp(`<title>${status} `), path);
    }
    // the inbox's own paths still answer in JSON
    assertError(await api(c, '/api/v2/conversations', null), 404,
                'not_found');
});

errorLogIsCleanTest(ctx);
