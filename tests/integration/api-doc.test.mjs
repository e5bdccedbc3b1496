// docs/API.md against the code it describes, with no server: every route
// of the API's route table (ngx_inbox_module/ngx_http_inbox_api.c) has
// its row in the doc's route index with the caller the dispatcher lets
// in, the doc names no /api/v1/ route the table lacks, and each other
// path it documents (webhooks, media, /ws, /healthz) is a location of
// config/inbox-server.conf.  A route added without its doc, or one
// removed while the doc still promises it, fails here.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);
const read = (path) => readFileSync(new URL(path, root), 'utf8');

// What a route table's auth says, in the words of the index's "Who"
// column.
const WHO = {
    USER: 'user',
    BILLING: 'billing',
    SESSION: 'session',
    ANYONE: 'anyone',
};

// "METHOD /api/v1/path" -> who, from the C route table: each entry is
// "{ NGX_HTTP_METHOD, "path", AUTH, ...".
export function codeRoutes(source) {
    const start = source.indexOf('ngx_http_inbox_api_routes[] = {');
    assert.ok(start >= 0, 'the route table is in ngx_http_inbox_api.c');
    const end = source.indexOf('{ 0, NULL', start);
    assert.ok(end > start, 'the route table ends with its { 0, NULL } row');
    const table = source.slice(start, end);
    const routes = new Map();
    const row = /\{\s*NGX_HTTP_([A-Z]+),\s*"([^"]+)",\s*([A-Z]+)\s*,/g;
    for (const [, method, path, auth] of table.matchAll(row)) {
        assert.ok(auth in WHO, `${method} ${path}: unknown auth ${auth}`);
        routes.set(`${method} /api/v1/${path}`, WHO[auth]);
    }
    return routes;
}

// A path as the doc writes it, "{id}" for a segment, as the table's "*".
const normal = (path) => path.replace(/\{[^}/]*\}/g, '*');

// The doc's route index: rows "| `METHOD /api/v1/...` | who | ...".
export function docIndex(doc) {
    const routes = new Map();
    const row = /^\|\s*`(GET|POST|PUT|PATCH|DELETE) (\/api\/v1\/[^`\s?]*)`\s*\|\s*([a-z]+)\s*\|/gm;
    for (const [, method, path, who] of doc.matchAll(row)) {
        const key = `${method} ${normal(path)}`;
        assert.ok(!routes.has(key), `the index lists ${key} twice`);
        routes.set(key, who);
    }
    return routes;
}

// Every "METHOD /api/v1/..." the doc names anywhere, in code spans.
export function docMentions(doc) {
    const named = new Set();
    const span = /`(GET|POST|PUT|PATCH|DELETE|HEAD) (\/api\/v1\/[^`\s?]*)/g;
    for (const [, method, path] of doc.matchAll(span)) {
        named.add(`${method === 'HEAD' ? 'GET' : method} ${normal(path)}`);
    }
    return named;
}

const source = read('ngx_inbox_module/ngx_http_inbox_api.c');
const doc = read('docs/API.md');
const routes = codeRoutes(source);

test('the route table reads as routes', () => {
    assert.ok(routes.size > 40, `only ${routes.size} routes read`);
    assert.equal(routes.get('POST /api/v1/auth/login'), 'anyone');
    assert.equal(routes.get('PATCH /api/v1/settings'), 'billing');
});

test('every route of the table is in the index of docs/API.md, with who may call it', () => {
    const index = docIndex(doc);
    const missing = [...routes.keys()].filter((r) => !index.has(r));
    assert.deepEqual(missing, [], 'routes docs/API.md does not list');
    const wrong = [...routes].filter(([r, who]) => index.get(r) !== who)
        .map(([r, who]) => `${r}: ${who}, the doc says ${index.get(r)}`);
    assert.deepEqual(wrong, [], 'routes whose caller the doc misstates');
});

test('docs/API.md names no /api/v1/ route the table lacks', () => {
    const named = new Set([...docIndex(doc).keys(), ...docMentions(doc)]);
    const unknown = [...named].filter((r) => !routes.has(r));
    assert.deepEqual(unknown, [], 'routes the doc names that do not exist');
});

test('the other paths docs/API.md documents are locations nginx serves', () => {
    const conf = read('config/inbox-server.conf');
    const paths = [...doc.matchAll(/^#+ .*`(?:GET|POST) (\/(?!api\/)[^`\s?{]*)/gm)]
        .map(([, path]) => path);
    assert.ok(paths.includes('/webhooks/twilio/inbound'),
              'the doc has a heading for the Twilio inbound webhook');
    for (const path of paths) {
        assert.match(conf, new RegExp(`location (?:= |\\^~ )${path}[ /]`),
                     `${path} is no location of config/inbox-server.conf`);
    }
});

test('README.md links docs/API.md', () => {
    assert.match(read('README.md'), /\]\(docs\/API\.md\)/);
});
