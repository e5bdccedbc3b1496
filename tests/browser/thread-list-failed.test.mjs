// A thread whose last message, a reply, did not reach the phone, as the
// thread list shows it in Debian's Chromium: the carrier's report that it
// was not delivered, a second or minutes after the send, marks the row
// while the list is shown (a red "✕ Not delivered" before the preview,
// why in words for a screen reader) without reading the list again; a
// list read later marks it too; the contact's next message, the last
// then, clears it.  At a phone's width the marked row keeps its layout.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { needsSendRoutes, noPageErrorsTest, rowOf, shown, signIn,
         useBrowser } from '../lib/browser.mjs';
import { inboxctl, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, eventually } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({
    orgs: [{ name: 'Marked Org' }],
    sender: true,
    // the carrier's final report a second and a half after the send: the
    // row shows the reply unmarked first
    carrierSim: { delays: { final: [1500, 1500] } },
});
const USER = { email: 'rae@marked.example', password: 'rae reads lists' };
const unlucky = uniqueNumber();
const fine = uniqueNumber();
const narrow = uniqueNumber();
const web = useBrowser();

// the failed tick's colour (style.css --danger)
const DANGER = 'rgb(200, 50, 43)';
const OFFLINE = 'Not delivered: the phone could not be reached (switched '
    + 'off or out of coverage)';

before(async () => {
    const cluster = await ctx.ready;
    const org = cluster.orgs[0];
    await addUser(cluster, org, USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org.id, '20');
    await deliverInbound(cluster, { from: fine, body: 'All good, thanks' });
    await deliverInbound(cluster, { from: unlucky,
                                    body: 'Are you open on Sunday?' });
    await web.launch();
});

// A reply to the thread with phone, from the organization's token (a
// colleague's integration); the carrier will report it undelivered.
async function failingReply(phone, body) {
    const cluster = ctx.cluster;
    const org = cluster.orgs[0];
    await cluster.sim.fail({ type: 'final_status', number: phone,
                             status: 'undelivered', error_code: 30003 });
    const list = await api(cluster, '/api/v1/conversations?limit=200',
                           org.token);
    const conv = list.json.items.find((c) => c.contact.phone === phone);
    assert.ok(conv, `a thread with ${phone}`);
    const res = await api(cluster,
        `/api/v1/conversations/${conv.id}/messages`, org.token,
        { method: 'POST', body: { body } });
    assert.equal(res.status, 201, res.text);
    return { conv, message: res.json };
}

test('a reply reported undelivered while the list is shown marks its row '
     + 'at once, red, before the preview, saying why to a screen reader; '
     + 'a list read later marks it too; the contact\'s next message clears '
     + 'it', async () => {
    await needsSendRoutes(ctx.cluster);
    const page = await web.newPage({ width: 1200, height: 720 });
    try {
        await signIn(page, ctx.cluster, USER);
        const row = rowOf(page, shown(unlucky));
        const mark = row.locator('.row-failed');
        await row.waitFor();
        assert.equal(await mark.isHidden(), true);

        /* the list's pages, not the tabs' counts a new message has read
         * again (a page of one) */
        let listed = 0;
        page.on('request', (req) => {
            const url = req.url();
            if (/\/api\/v1\/conversations(\?|$)/.test(url)
                && !/[?&]limit=1(&|$)/.test(url))
            {
                listed += 1;
            }
        });

        await failingReply(unlucky, 'We open at 10.');
        /* the reply is the last message, on its way: no mark yet */
        await row.locator('.row-preview-text',
                          { hasText: 'We open at 10.' }).waitFor();
        assert.equal(await mark.isHidden(), true);

        /* the carrier's report: marked, with no list read again */
        await mark.waitFor();
        assert.equal(await mark.textContent(), '\u2715 Not delivered');
        assert.equal(await row.locator('.row-preview').textContent(),
                     '\u2715 Not deliveredSent: We open at 10.');
        assert.equal(await mark.evaluate((el) => getComputedStyle(el).color),
                     DANGER);
        assert.equal(await mark.getAttribute('title'), OFFLINE);
        const said = await row.getByRole('button').getAttribute('aria-label');
        assert.ok(said.includes(', ' + OFFLINE + ', Sent: We open at 10., '),
                  said);
        assert.equal(listed, 0, 'the list was read again');
        /* the other thread says nothing of it */
        assert.equal(await rowOf(page, shown(fine)).locator('.row-failed')
            .isHidden(), true);

        /* a list read later (staff who were elsewhere) marks it too */
        await page.reload();
        await page.locator('#conn[data-state="live"]').waitFor();
        await mark.waitFor();
        assert.equal(await mark.textContent(), '\u2715 Not delivered');

        /* the contact's answer is the last message: the mark goes */
        await deliverInbound(ctx.cluster, { from: unlucky,
                                            body: 'OK, see you then' });
        await row.locator('.row-preview-text',
                          { hasText: 'OK, see you then' }).waitFor();
        assert.equal(await mark.isHidden(), true);
        assert.ok(!(await row.getByRole('button').getAttribute('aria-label'))
            .includes('Not delivered'));
    } finally {
        await page.context().close();
    }
});

test('at a phone\'s width (320 px) a marked row keeps the height of the '
     + 'others, its mark, name and time on the screen, and nothing scrolls '
     + 'sideways; in the thread, why the reply failed is on lines that end '
     + 'under its bubble, as a reply\'s time does', async () => {
    const cluster = ctx.cluster;
    await deliverInbound(cluster, { from: narrow,
        body: 'Can I change my booking to a table for six on Friday?' });
    const { conv, message } = await failingReply(narrow,
        'Of course, a table for six on Friday at eight is yours.');
    await eventually(async () => {
        const res = await api(cluster, `/api/v1/conversations/${conv.id}`,
                              cluster.orgs[0].token);
        return res.json.last_message.id === message.id
            && res.json.last_message.status === 'undelivered';
    }, 10000, 'the reply undelivered');

    const page = await web.newPage({ width: 320, height: 640 });
    try {
        await signIn(page, cluster, USER);
        const row = rowOf(page, shown(narrow));
        const mark = row.locator('.row-failed');
        await mark.waitFor();
        const box = await row.evaluate((li) => {
            const rect = (el) => el.getBoundingClientRect();
            const other = [...document.querySelectorAll('#threads > li')]
                .find((x) => x !== li
                      && x.querySelector('.row-failed').hidden);
            return {
                height: rect(li).height,
                other: rect(other).height,
                left: rect(li).left,
                right: rect(li).right,
                mark: rect(li.querySelector('.row-failed')),
                time: rect(li.querySelector('.row-time')),
                name: rect(li.querySelector('.row-name')),
                doc: document.documentElement.scrollWidth,
            };
        });
        assert.equal(box.height, box.other, 'the marked row\'s height');
        assert.ok(box.mark.left >= box.left && box.mark.right <= box.right,
                  'the mark is cut');
        assert.ok(box.mark.width > 0);
        assert.ok(box.time.right <= box.right && box.time.width > 0,
                  'the time is off the row');
        assert.ok(box.name.width > 0);
        assert.ok(box.doc <= 320, `the page is ${box.doc} px wide`);

        /* the reply's time and why it failed take three lines here; each
         * ends at the right, under the bubble, not the last one left
         * alone on the left */
        await row.getByRole('button').click();
        const meta = page.locator('#messages .message.outbound .meta',
            { hasText: 'Not delivered' });
        await meta.waitFor();
        const lines = await meta.evaluate((el) => {
            const range = document.createRange();
            range.selectNodeContents(el);
            const ends = new Map();
            for (const r of range.getClientRects()) {
                const top = Math.round(r.top);
                ends.set(top, Math.max(ends.get(top) || 0, r.right));
            }
            return { right: el.getBoundingClientRect().right,
                     ends: [...ends.values()] };
        });
        assert.ok(lines.ends.length > 1, 'the reason is on one line');
        for (const end of lines.ends) {
            assert.ok(lines.right - end < 2, `a line ends at ${end}, left `
                      + `of the reason's right edge, ${lines.right}`);
        }
    } finally {
        await page.context().close();
    }
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
