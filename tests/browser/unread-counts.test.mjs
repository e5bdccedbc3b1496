// The two unread counts in Debian's Chromium, in two browsers of one
// organization: the header counts unread messages and says so ("3 unread
// messages"), and so does the page's title, the browser tab's name ("3
// unread messages · Inbox", not a bare "(3)"), the Unread tab counts
// threads and says so ("Unread threads 2", on a phone's screen and to a
// screen reader), so that the two numbers never read as one count that
// disagrees.  A new inbound message, a thread read and a thread marked
// unread move them all, the same way, in both browsers, with no
// reload; marked unread, the Unread tab moves as the header does, not a
// second after it.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, rowOf, shown, signIn, useBrowser }
    from '../lib/browser.mjs';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Counting Cafe' }] });
const USER = { email: 'uma@counting.example', password: 'uma counts them' };
const twice = uniqueNumber();
const once = uniqueNumber();
const web = useBrowser();
let pages;

// What the header says of the unread total, as a person reads it.
const header = (page) => page.locator('#unread-total-wrap').innerText();
const tab = (page) => page.locator('#count-unread').innerText();

// Waits until every page's header and title say messages and its
// Unread tab counts threads.
async function countsShow(messages, threads) {
    const words = `${messages} unread message${messages === 1 ? '' : 's'}`;
    for (const page of pages) {
        await page.waitForFunction(([w, t]) => document.getElementById(
            'unread-total-wrap').innerText.replace(/\s+/g, ' ').trim() === w
            && document.title === `${w} \u00b7 Inbox`
            && document.getElementById('count-unread').innerText === t,
            [words, String(threads)]).catch(async (err) => {
            throw new Error(`expected "${words}" and Unread ${threads}, `
                + `saw "${await header(page)}", title "${await page
                .title()}" and Unread ${await tab(page)}: ${err.message}`);
        });
    }
}

// Notes in page the header's total and the Unread tab's count each time
// the total changes, at that very moment (the observer's callback runs
// before the page does anything else), until noted() says what it saw.
async function noteAtHeader(page) {
    await page.evaluate(() => {
        const total = document.getElementById('unread-total');
        const tab = document.getElementById('count-unread');
        const seen = [];
        const observer = new MutationObserver(() => seen.push(
            [total.textContent, tab.textContent]));
        observer.observe(total, { childList: true, characterData: true,
                                  subtree: true });
        window.notedAtHeader = () => {
            observer.disconnect();
            return seen;
        };
    });
}
const noted = (page) => page.evaluate(() => window.notedAtHeader());

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], USER.email, USER.password);
    await deliverInbound(cluster, { from: twice, body: 'Are you open?' });
    await deliverInbound(cluster, { from: twice, body: 'Until when?' });
    await deliverInbound(cluster, { from: once, body: 'Table for two?' });
    await web.launch();
    pages = [await web.newPage(), await web.newPage()];
    for (const page of pages) {
        await signIn(page, cluster, USER);
        await rowOf(page, shown(once)).waitFor();
    }
});

test('the header and the title count unread messages in words, the '
     + 'Unread tab threads',
    async () => {
        await countsShow(3, 2);
        assert.equal(await pages[0].locator('.tab[data-filter="unread"]')
            .getAttribute('title'), 'Threads with unread messages');
    });

test('a new inbound message moves both, in every browser', async () => {
    await deliverInbound(ctx.cluster, { from: uniqueNumber(),
        body: 'Do you take bookings?' });
    await countsShow(4, 3);
    await deliverInbound(ctx.cluster, { from: once, body: 'At eight?' });
    await countsShow(5, 3);
});

test('a thread read lowers both, in every browser', async () => {
    await rowOf(pages[0], shown(twice)).getByRole('button').click();
    await pages[0].locator('#messages .message .body',
        { hasText: 'Until when?' }).waitFor();
    await countsShow(3, 2);
});

test('a thread marked unread raises both, in every browser, at the same '
     + 'moment: the Unread tab does not trail the header',
    async () => {
        for (const page of pages) {
            await noteAtHeader(page);
        }
        await pages[0].getByRole('button', { name: 'Mark unread' }).click();
        await countsShow(4, 3);
        for (const page of pages) {
            assert.deepEqual(await noted(page), [['4', '3']]);
        }
        await rowOf(pages[1], shown(once)).getByRole('button').click();
        await pages[1].locator('#messages .message .body',
            { hasText: 'At eight?' }).waitFor();
        await countsShow(2, 2);
        await pages[1].getByRole('button', { name: 'Mark unread' }).click();
        await countsShow(3, 3);
    });

test('on a phone the Unread tab says threads, on the screen and to a '
     + 'screen reader alike', async () => {
    const page = await web.newPage({ width: 375, height: 667 });
    try {
        await signIn(page, ctx.cluster, USER);
        const unread = page.locator('.tab[data-filter="unread"]');
        await unread.locator('.tab-count', { hasText: /\d/ }).waitFor();
        const n = await tab(page);
        // its words, then the count beside them (a margin apart)
        assert.equal(await unread.evaluate((t) => t.firstChild.textContent
            .trim()), 'Unread threads');
        assert.equal(await unread.innerText(), `Unread threads${n}`);
        const cdp = await page.context().newCDPSession(page);
        const { nodes } = await cdp.send('Accessibility.getFullAXTree');
        await cdp.detach();
        const said = nodes.filter((node) => !node.ignored && node.role
            && node.role.value === 'button' && node.name
            && /^Unread/.test(node.name.value))
            .map((node) => [node.name.value, node.description
                ? node.description.value : '']);
        assert.deepEqual(said, [['Unread threads', n]]);
    } finally {
        await page.context().close();
    }
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx, () => web.close());
