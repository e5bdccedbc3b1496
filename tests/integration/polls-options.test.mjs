// A poll's options refused over HTTP: a refusal of one option names it,
// field "options.N" with N its index in the array sent (from 0), in a
// sentence that numbers it as the poll does (from 1), the later of two
// the same; a refusal of the list as a whole (too few, too many, too
// long with the question for one message) names "options".  An item
// that is not text is named so by the request's own check, as an
// audience's tag is ("audience.tags.1", "Tag 2 must be text.").  A
// create, a draft's edit and the estimate the form's preview asks say the
// same, and nothing is stored.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, assertError } from '../lib/inbox.mjs';

const ctx = useCluster({ orgs: [{ name: 'Poll Options' }] });

const org = () => ctx.cluster.orgs[0];

function call(path, opts = {}) {
    return api(ctx.cluster, path, org().token, opts);
}

async function ok(path, opts = {}, status = 200) {
    const res = await call(path, opts);
    assert.equal(res.status, status, res.text);
    return res.json;
}

const POLL = { question: 'Which day?', options: ['Monday', 'Friday'],
               audience: { all: true } };

// [options, field, message]
const ONE = [
    [['Monday', 'Friday', 'Sunday', ' monday! '], 'options.3',
     'Option 4 is the same as option 1.'],
    [['Monday', 'Friday', 'friday'], 'options.2',
     'Option 3 is the same as option 2.'],
    [['Monday', '   ', 'Friday'], 'options.1', 'Option 2 is empty.'],
    [['Monday', 'Friday', 'x'.repeat(101)], 'options.2',
     'Option 3 is longer than 100 characters.'],
    [['Mon\tday', 'Friday'], 'options.0',
     'Option 1 holds a control character.'],
    [['3', 'Friday', 'Sunday'], 'options.0',
     'Option 1 reads as 3, the number that answers option 3.'],
    [['Monday', 'Friday', 'Stop'], 'options.2',
     'Option 3 may not be an opt-out word such as STOP or CANCEL: a '
     + 'recipient who answers it is unsubscribed from every message.'],
    [['Help', 'Friday'], 'options.0',
     'Option 1 may not be HELP or INFO: a recipient who answers it is '
     + 'sent the help text.'],
];

// what the request's reading refuses, before the poll's rules: the body
// sent and [field, message]
const READ = [
    [{ options: ['Monday', 3] }, 'options.1', 'Option 2 must be text.'],
    [{ options: ['Monday', 'Friday', null] }, 'options.2',
     'Option 3 must be text.'],
    [{ options: [['Monday'], 'Friday'] }, 'options.0',
     'Option 1 must be text.'],
    // JSON.stringify escapes a lone surrogate: "\ud800"
    [{ options: ['Monday', 'Fri\ud800'] }, 'options.1',
     'Option 2 holds \\ud800, half of a UTF-16 surrogate pair without '
     + 'the other half.'],
    [{ audience: { tags: ['vip', 7] } }, 'audience.tags.1',
     'Tag 2 must be text.'],
    // the list as a whole: its name
    [{ options: 'Monday' }, 'options', 'options must be an array of '
     + 'strings.'],
];

const ALL = [
    [['Monday'], 'A poll has 2 to 9 options.'],
    [Array.from({ length: 10 }, (_, i) => `Day ${i + 11}`),
     'options may have at most 9 items.'],
];

function refused(res, field, message, what) {
    const e = assertError(res, 400, 'invalid_request');
    assert.deepEqual([e.field, e.message], [field, message],
                     what + ' ' + res.text);
}

test('a refused option is named by its index, the list as a whole by '
     + '"options", in a create and the estimate', async () => {
    const before = (await ok('/api/v1/polls')).items.length;
    for (const [options, field, message] of ONE) {
        for (const path of ['/api/v1/polls', '/api/v1/polls/estimate']) {
            refused(await call(path, { method: 'POST',
                                       body: { ...POLL, options } }),
                    field, message, path + ' ' + JSON.stringify(options));
        }
    }
    for (const [options, message] of ALL) {
        refused(await call('/api/v1/polls', { method: 'POST',
                                              body: { ...POLL, options } }),
                'options', message, JSON.stringify(options));
    }
    // the question and every option make one message: the list's
    const long = assertError(await call('/api/v1/polls', { method: 'POST',
        body: { ...POLL, question: 'q'.repeat(1525) } }), 400,
        'invalid_request');
    assert.equal(long.field, 'options', long.message);
    assert.equal((await ok('/api/v1/polls')).items.length, before);
});

test('an option that is not text is named by its index, as a tag of the '
     + 'audience is, in a create, the estimate and a draft\'s edit',
     async () => {
    const before = (await ok('/api/v1/polls')).items.length;
    const draft = await ok('/api/v1/polls', { method: 'POST', body: POLL },
                           201);
    for (const [body, field, message] of READ) {
        for (const path of ['/api/v1/polls', '/api/v1/polls/estimate']) {
            refused(await call(path, { method: 'POST',
                                       body: { ...POLL, ...body } }),
                    field, message, path + ' ' + JSON.stringify(body));
        }
        refused(await call(`/api/v1/polls/${draft.id}`, { method: 'PATCH',
                                                          body }),
                field, message, 'PATCH ' + JSON.stringify(body));
    }
    const kept = await ok(`/api/v1/polls/${draft.id}`);
    assert.deepEqual([kept.options, kept.audience.all],
                     [POLL.options, true]);
    await ok(`/api/v1/polls/${draft.id}`, { method: 'DELETE' }, 204);
    assert.equal((await ok('/api/v1/polls')).items.length, before);
});

test('a draft\'s edit names the option as a create does, and leaves the '
     + 'draft as it was', async () => {
    const draft = await ok('/api/v1/polls', { method: 'POST', body: POLL },
                           201);
    const path = `/api/v1/polls/${draft.id}`;
    refused(await call(path, { method: 'PATCH', body: {
        options: ['Monday', 'Friday', 'FRIDAY.'] } }),
        'options.2', 'Option 3 is the same as option 2.', 'PATCH');
    refused(await call(path, { method: 'PATCH', body: {
        options: ['Monday', ''] } }),
        'options.1', 'Option 2 is empty.', 'PATCH');
    assert.deepEqual((await ok(path)).options, POLL.options);
    await ok(path, { method: 'DELETE' }, 204);
});

errorLogIsCleanTest(ctx);
