// A colleague's campaign or poll reaches the organization's other
// sockets as it happens: a draft made or edited is campaign.updated with
// the campaign as GET shows it (a send, pause or move of its time too),
// and a delete is campaign.deleted naming its id and kind, each at the
// organization's next org_seq.  Another organization's socket gets none
// of them, and a socket resuming from before a deleted poll was made gets
// its frames again, ending with its deletion.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, connectWs } from '../lib/inbox.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Live Campaigns Org' }, { name: 'Other Live Org' }],
});

const orgA = () => ctx.cluster.orgs[0];
const orgB = () => ctx.cluster.orgs[1];

async function ok(path, opts = {}, status = 200, org = orgA()) {
    const res = await api(ctx.cluster, path, org.token, opts);
    assert.equal(res.status, status, res.text);
    return res.json;
}

// The frame of type about id the socket gets next after those it had.
function frameOf(ws, type, id, what) {
    const about = (f) => f.type === type
        && (f.campaign ? f.campaign.id : f.id) === id;
    return ws.waitFor((frames) => frames.some(about), 5000, what)
        .then((frames) => frames.find(about));
}

test('a draft made and edited, a poll made and deleted reach the '
     + 'org\'s other socket in order; another org\'s socket gets none',
     async () => {
    const cluster = await ctx.ready;
    const mine = await connectWs(cluster, orgA().token);
    const theirs = await connectWs(cluster, orgB().token);
    try {
        await mine.waitForTypes(['hello']);
        await theirs.waitForTypes(['hello']);
        const start = mine.frames[0].org_seq;

        const made = await ok('/api/v1/campaigns', { method: 'POST', body: {
            name: 'Spring sale', body: 'Sale!', audience: { all: true } } },
            201);
        const f1 = await frameOf(mine, 'campaign.updated', made.id, 'made');
        assert.equal(f1.org_seq, start + 1);
        assert.deepEqual(f1.campaign, made);

        const edited = await ok(`/api/v1/campaigns/${made.id}`, {
            method: 'PATCH', body: { name: 'Summer sale' } });
        const f2 = await mine.waitFor((fs) => fs.filter((f) =>
            f.type === 'campaign.updated'
            && f.campaign.id === made.id).length === 2, 5000, 'edited')
            .then((fs) => fs.filter((f) => f.type === 'campaign.updated')
                .at(-1));
        assert.equal(f2.org_seq, start + 2);
        assert.equal(f2.campaign.name, 'Summer sale');
        assert.deepEqual(f2.campaign, edited);

        const poll = await ok('/api/v1/polls', { method: 'POST', body: {
            question: 'Lunch?', options: ['Yes', 'No'],
            audience: { all: true } } }, 201);
        const f3 = await frameOf(mine, 'campaign.updated', poll.id,
                                 'poll made');
        assert.equal(f3.campaign.kind, 'poll');
        const res = await api(cluster, `/api/v1/polls/${poll.id}`,
                              orgA().token, { method: 'DELETE' });
        assert.equal(res.status, 204, res.text);
        const f4 = await frameOf(mine, 'campaign.deleted', poll.id,
                                 'poll deleted');
        assert.equal(f4.org_seq, f3.org_seq + 1);
        assert.equal(f4.kind, 'poll');
        assert.deepEqual(Object.keys(f4).sort(),
                         ['epoch', 'id', 'kind', 'org_seq', 'type']);

        // every frame of the org in org_seq order, without a gap
        const seqs = mine.frames.slice(1).map((f) => f.org_seq);
        assert.deepEqual(seqs, seqs.map((_, i) => start + 1 + i),
                         JSON.stringify(mine.frames));

        // a socket resuming from before the poll was made gets its two
        // frames again, at their org_seq, and ends with it deleted
        // (ws-server's recent frames as they went; the store renders the
        // first as its deletion once it is gone: the contract test)
        const resumed = await connectWs(cluster, orgA().token);
        resumed.send({ type: 'resume', epoch: f3.epoch,
                       org_seq: f3.org_seq - 1 });
        try {
            await resumed.waitFor((fs) => fs.some((f) =>
                f.type === 'campaign.deleted' && f.id === poll.id), 5000,
                'the poll\'s frames again');
            const again = resumed.frames.filter((f) => f.id === poll.id
                || (f.campaign && f.campaign.id === poll.id));
            assert.deepEqual(again.map((f) => f.org_seq),
                             [f3.org_seq, f4.org_seq]);
            assert.equal(again[1].type, 'campaign.deleted');
        } finally {
            resumed.close();
        }

        // the other org's own change is its fence: nothing of org A's
        // came before it
        const fence = await ok('/api/v1/campaigns', { method: 'POST',
            body: { name: 'Theirs', body: 'Hi', audience: { all: true } } },
            201, orgB());
        await frameOf(theirs, 'campaign.updated', fence.id, 'their own');
        assert.deepEqual(theirs.frames.map((f) => [f.type, f.org_seq]),
            [['hello', theirs.frames[0].org_seq],
             ['campaign.updated', theirs.frames[0].org_seq + 1]]);
        assert.equal(mine.frames.some((f) => f.campaign
            && f.campaign.name === 'Theirs'), false);
    } finally {
        mine.close();
        theirs.close();
    }
});

errorLogIsCleanTest(ctx);
