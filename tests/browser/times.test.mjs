// Times in Debian's Chromium read one way everywhere and stay right past
// midnight: the Settings ledger writes a credit's time as a thread writes
// a message's ("11:12 PM" today, "Dec 7, 11:12 PM" before), the full
// date and time in its title; a page left open over midnight says the
// day of yesterday's times at once (a thread, its contact's timeline,
// the ledger), without being opened again.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, openThread, signIn, useBrowser }
    from '../lib/browser.mjs';
import { inboxctl } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Night Desk' }] });
const BEA = { email: 'bea@night.example', password: 'bea pays the bills' };
const PHONE = '+14155550177';
const web = useBrowser();
const org = () => ctx.cluster.orgs[0];

/* the page's clock and zone fixed: UTC, en-US */
const PAGE = { timezoneId: 'UTC', locale: 'en-US' };
const CLOCK = /^\d{1,2}:\d{2} [AP]M$/;
const DAY_CLOCK = /^[A-Z][a-z]{2} \d{1,2}, \d{1,2}:\d{2} [AP]M$/;

/* when the message came (the credits were granted just before): the
 * page's clock is set by it, so that a run across a real midnight
 * still finds them of the page's today */
let wroteAt = 0;

/* 23:59 UTC of that day (or just after the message): the page's
 * midnight is a minute or two away */
function lastMinuteOfThatDay() {
    const d = new Date(wroteAt);
    return Math.max(wroteAt + 1000, Date.UTC(d.getUTCFullYear(),
        d.getUTCMonth(), d.getUTCDate(), 23, 59));
}

async function openLedger(page) {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.locator('#ledger-rows tr[data-kind="grant"]').waitFor();
    return page.locator('#ledger-rows tr[data-kind="grant"] time');
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), BEA.email, BEA.password, 'billing');
    await inboxctl(cluster.store, 'credits', 'grant', org().id, '25');
    await deliverInbound(cluster, { from: PHONE, body: 'Open late?' });
    const res = await api(cluster, '/api/v1/conversations', org().token);
    assert.equal(res.status, 200, res.text);
    wroteAt = Date.parse(res.json.items[0].last_activity_at);
    await web.launch();
});

test('the ledger writes a time as a thread does: the clock time today, '
     + 'the full date and time in its title', async () => {
    const page = await web.newPage({ width: 1200, height: 800 }, PAGE);
    try {
        await page.clock.install({ time: wroteAt + 1000 });
        await signIn(page, ctx.cluster, BEA);
        await openThread(page, '(415) 555-0177');
        const said = await page.locator('#messages .message time').first()
            .textContent();
        assert.match(said, CLOCK);
        const time = await openLedger(page);
        const text = await time.textContent();
        assert.match(text, CLOCK);
        assert.match(await time.getAttribute('title'),
            /^\d{1,2}\/\d{1,2}\/\d{4}, \d{1,2}:\d{2}:\d{2} [AP]M$/);
        assert.ok(await time.getAttribute('datetime'));
    } finally {
        await page.context().close();
    }
});

test('past midnight an open thread and the ledger say the day of '
     + 'yesterday\'s times, without a reload', async () => {
    const page = await web.newPage({ width: 1200, height: 800 }, PAGE);
    try {
        await page.clock.install({ time: lastMinuteOfThatDay() });
        await signIn(page, ctx.cluster, BEA);
        await openThread(page, '(415) 555-0177');
        const message = page.locator('#messages .message time').first();
        assert.match(await message.textContent(), CLOCK);

        await page.clock.runFor(2 * 60 * 1000);
        assert.match(await message.textContent(), DAY_CLOCK);
        /* "Mon", or "2 min" when it came just before midnight */
        assert.doesNotMatch(await page.locator('#threads .row-time')
            .first().textContent(), CLOCK);

        const ledger = await openLedger(page);
        assert.match(await ledger.textContent(), DAY_CLOCK);
    } finally {
        await page.context().close();
    }
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx);
