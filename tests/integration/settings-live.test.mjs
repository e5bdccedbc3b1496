// A change of the organization's settings reaches its open sockets as a
// settings.updated frame carrying the settings as GET /api/v1/settings
// answers them, and no other organization's: a billing user's PATCH
// (pushed by nginx once stored) and inboxctl settings set (which pushes
// nothing: ws-server finds the event in the store at its look every
// 2 s).  A PATCH that changes nothing, or is refused, makes none.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, connectWs } from '../lib/inbox.mjs';
import { addUser, login, sessionApi } from '../lib/session.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Corner Bakery' }, { name: 'Other Org' }],
});

// a PATCH's frame comes at once; inboxctl's at the store's look (2 s),
// on a loaded machine
const ARRIVES_MS = 10000;

let cluster, billing, wsA, wsA2, wsB;

// A socket of org, live: its hello came and it resumed from there, as
// the web app does.
async function liveSocket(org) {
    const ws = await connectWs(cluster, org.token);
    const hello = (await ws.waitForTypes(['hello']))[0];
    ws.send({ type: 'resume', epoch: hello.epoch, org_seq: hello.org_seq });
    return ws;
}

const settingsFrames = (ws) =>
    ws.frames.filter((f) => f.type === 'settings.updated');

// The next settings.updated ws gets after the n it has.
async function nextSettings(ws, n) {
    await ws.waitFor((frames) => frames.filter(
        (f) => f.type === 'settings.updated').length > n, ARRIVES_MS,
        'settings.updated');
    return settingsFrames(ws)[n];
}

async function settingsOf(org) {
    const res = await api(cluster, '/api/v1/settings', org.token);
    assert.equal(res.status, 200, res.text);
    return res.json;
}

async function patch(body) {
    return sessionApi(cluster, '/api/v1/settings', billing,
                      { method: 'PATCH', body });
}

// Whatever org A's sockets get after a fence: a later event of the
// organization (an inboxctl grant's billing.updated, found at the same
// look) that every socket gets after anything written before it.
async function fence(ws) {
    const n = ws.frames.filter((f) => f.type === 'billing.updated').length;
    await inboxctl(cluster.store, 'credits', 'grant', cluster.orgs[0].id,
                   '1');
    await ws.waitFor((frames) => frames.filter(
        (f) => f.type === 'billing.updated').length > n, ARRIVES_MS,
        'billing.updated');
}

before(async () => {
    cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, 'bea@bakery.test', 'correct horse 2',
                  'billing');
    billing = (await login(cluster, 'bea@bakery.test', 'correct horse 2'))
        .cookie;
    assert.ok(billing);
    wsA = await liveSocket(cluster.orgs[0]);
    wsA2 = await liveSocket(cluster.orgs[0]);
    wsB = await liveSocket(cluster.orgs[1]);
});

test('a billing user\'s PATCH pushes settings.updated, with the settings '
     + 'GET shows, to every socket of its organization only', async () => {
    const [orgA] = cluster.orgs;
    const hello = wsA2.frames.find((f) => f.type === 'hello');

    const res = await patch({ quiet_hours: { start: '20:00', end: '09:15' },
                              timezone: 'America/Chicago' });
    assert.equal(res.status, 200, res.text);

    const frame = await nextSettings(wsA2, 0);
    assert.equal(frame.org_seq, hello.org_seq + 1);
    assert.equal(frame.epoch, hello.epoch);
    assert.deepEqual(frame.settings.quiet_hours,
                     { start: '20:00', end: '09:15' });
    assert.equal(frame.settings.timezone, 'America/Chicago');
    assert.deepEqual(frame.settings, res.json);
    assert.deepEqual(frame.settings, await settingsOf(orgA));
    assert.deepEqual(await nextSettings(wsA, 0), frame);

    // the other organization's sockets heard nothing of it
    await fence(wsA);
    assert.equal(settingsFrames(wsB).length, 0);
});

test('a PATCH that changes nothing, or is refused, pushes nothing',
     async () => {
    const n = settingsFrames(wsA).length;
    const seqBefore = Math.max(...wsA.frames.map((f) => f.org_seq)
        .filter((seq) => typeof seq === 'number'));

    // the values it has, and the object GET answers saved as it is
    let res = await patch({ quiet_hours: { start: '20:00', end: '09:15' },
                            timezone: 'America/Chicago' });
    assert.equal(res.status, 200, res.text);
    res = await patch(await settingsOf(cluster.orgs[0]));
    assert.equal(res.status, 200, res.text);
    // the organization's own name as its business name, which it was
    res = await patch({ business_name: 'Corner Bakery' });
    assert.equal(res.status, 200, res.text);
    // refused
    res = await patch({ timezone: 'Nowhere/Land' });
    assert.equal(res.status, 400, res.text);
    res = await patch({ quiet_hours: { start: '09:00', end: '09:00' } });
    assert.equal(res.status, 400, res.text);

    // the grant after them is the next event: none was written
    await fence(wsA);
    assert.equal(settingsFrames(wsA).length, n);
    const grant = wsA.frames.filter((f) => f.type === 'billing.updated')
        .at(-1);
    assert.equal(grant.org_seq, seqBefore + 1);

    // a change after them is one again
    res = await patch({ support_contact: 'hello@bakery.test' });
    assert.equal(res.status, 200, res.text);
    const frame = await nextSettings(wsA, n);
    assert.equal(frame.settings.support_contact, 'hello@bakery.test');
    assert.equal(frame.org_seq, grant.org_seq + 1);
});

test('inboxctl settings set is an event too, found by ws-server at its '
     + 'look', async () => {
    // the frames of the test before have all reached this socket too
    // (a grant after them has), so the next one is inboxctl's
    await fence(wsA2);
    const n = settingsFrames(wsA2).length;
    await inboxctl(cluster.store, 'settings', 'set', cluster.orgs[0].id,
                   '--quiet-hours', '22:30-06:45');
    const frame = await nextSettings(wsA2, n);
    assert.deepEqual(frame.settings.quiet_hours,
                     { start: '22:30', end: '06:45' });
    assert.deepEqual(frame.settings, await settingsOf(cluster.orgs[0]));

    // a socket that resumes from before them gets them again
    const hello = wsA2.frames.find((f) => f.type === 'hello');
    const late = await connectWs(cluster, cluster.orgs[0].token);
    const h = (await late.waitForTypes(['hello']))[0];
    late.send({ type: 'resume', epoch: h.epoch, org_seq: hello.org_seq });
    await late.waitFor((frames) => frames.filter(
        (f) => f.type === 'settings.updated').length >= n + 1, ARRIVES_MS,
        'settings.updated replayed');
    assert.deepEqual(settingsFrames(late).map((f) => f.org_seq),
                     settingsFrames(wsA2).map((f) => f.org_seq));
    assert.deepEqual(settingsFrames(late).at(-1), frame);
    late.close();

    assert.equal(settingsFrames(wsB).length, 0);
    wsA.close();
    wsA2.close();
    wsB.close();
});

errorLogIsCleanTest(ctx);
