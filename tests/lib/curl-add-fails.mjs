// The sender with curl_multi_add_handle failing on cue (the preloaded
// tests/shim/curl_add_fails.c), and what its log must then say once.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildDir } from './cluster.mjs';

// useCluster's senderWrap: the first `passes` adds go through, the next
// `fails` fail.
export function curlAddFailsWrap(fails, passes = 0) {
    return ['env',
        `LD_PRELOAD=${join(buildDir, 'tests', 'shim', 'curl_add_fails.so')}`,
        ...(passes > 0 ? [`INBOX_TEST_ADD_PASSES=${passes}`] : []),
        `INBOX_TEST_ADD_FAILS=${fails}`];
}

// The trouble told once, with why, and its end with how many were put off.
export function assertStartTroubleToldOnce(log, fails) {
    assert.equal(log.match(/cannot start requests/g)?.length, 1, log);
    assert.match(log,
        /cannot start requests \(curl_multi_add_handle: Out of memory\)/);
    assert.match(log, new RegExp(`requests start again: ${fails} were put `
        + 'off meanwhile'));
}
