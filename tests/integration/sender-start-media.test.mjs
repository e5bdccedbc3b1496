// The copy of an inbound MMS file the sender itself cannot start (curl
// refuses the request: curl_multi_add_handle fails, here by a library
// preloaded into the sender, tests/shim/curl_add_fails.c) never reached
// the carrier: it is given back at once with its try taken back, as a
// send is (sender-start.test.mjs), due twice as late each time none
// starts, the trouble logged once; left to its claim's five-minute
// lease, the picture stayed uncopied that long and lost a try for it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { errorLogIsCleanTest, useCluster } from '../lib/fixture.mjs';
import {
    assertStartTroubleToldOnce, curlAddFailsWrap,
} from '../lib/curl-add-fails.mjs';
import { eventually } from '../lib/inbox.mjs';

const execFileAsync = promisify(execFile);
const FAILS = 3;
const ctx = useCluster({
    orgs: [{ name: 'Start Media Org' }], carrierSim: true, sender: true,
    senderWrap: curlAddFailsWrap(FAILS),
});
let sim;

before(async () => {
    sim = (await ctx.ready).sim;
});

// The copy of from's image: { attempts, state }.
async function copyOf(from) {
    const { stdout } = await execFileAsync(sqlite3Path, ['-cmd',
        '.timeout 5000', ctx.cluster.storePath,
        'SELECT mm.attempts, mm.state FROM message_media mm'
        + ' JOIN messages m ON m.id = mm.message_id'
        + ' JOIN conversations v ON v.id = m.conversation_id'
        + ' JOIN contacts c ON c.id = v.contact_id'
        + ` WHERE c.phone = '${from}'`]);
    const [attempts, state] = stdout.trim().split('|');
    return { attempts: Number(attempts), state };
}

test('an image curl will not start copying is given back at once, later '
    + 'each time, keeps its tries, and is copied once curl takes it',
{ timeout: 60000 }, async () => {
    const from = uniqueNumber();
    const { webhook } = await sim.inbound({ from, body: 'look',
                                            media: ['sunset.jpg'] });
    assert.equal(webhook.state, 'delivered');

    // curl takes the fourth try: copied as the first, asked once
    await eventually(async () => (await copyOf(from)).state !== 'pending',
                     30000, 'the copy made');
    assert.deepEqual(await copyOf(from), { attempts: 1, state: 'stored' });
    assert.equal((await sim.requests({ kind: 'media' })).length, 1);

    const log = ctx.cluster.senderLog();
    // due again 1 s, 2 s, 4 s after each refusal
    const waits = [...log.matchAll(new RegExp('media 0 of message \\d+ '
        + 'given back uncopied \\(curl_multi_add_handle: Out of memory\\), '
        + 'due in (\\d+) ms', 'g'))].map((m) => Number(m[1]));
    assert.deepEqual(waits, [1000, 2000, 4000]);
    assertStartTroubleToldOnce(log, FAILS);
    assert.doesNotMatch(log, /media 0 of message \d+: /);
});

errorLogIsCleanTest(ctx);
