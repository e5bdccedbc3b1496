// A server's refusal shown next to a field is tied to it, in Debian's
// Chromium, as the contact panel's is: the field's aria-describedby
// names the refusal's words (after its own hints, which stay), it is
// marked aria-invalid and has the focus; edited, it is neither.  The
// reply box's refusal (here a 402: no credits) is about the message, so
// it describes the box, which takes the focus from Send; the Campaigns
// and Polls forms, Settings and a new contact do the same for the field
// the server names.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { descriptionOf, needsSendRoutes, noPageErrorsTest, openThread,
         shown, signIn, useBrowser } from '../lib/browser.mjs';
import { uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

/* no credits: a reply is refused 402 */
const ctx = useCluster({ orgs: [{ name: 'Refused Books' }] });
const USER = { email: 'rio@refused.example', password: 'rio reads aloud' };
const ASKER = uniqueNumber();
const web = useBrowser();
let page;

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], USER.email, USER.password,
                  'billing');
    await deliverInbound(cluster, { from: ASKER, body: 'Is it in stock?' });
    await web.launch();
    page = await web.newPage({ width: 1200, height: 800 });
    await signIn(page, cluster, USER);
});

const focused = (locator) => locator.evaluate(
    (el) => el === document.activeElement);

test('the reply box is described by its refusal (402), and takes the '
     + 'focus from Send', async () => {
    await needsSendRoutes(ctx.cluster);
    await openThread(page, shown(ASKER));
    const text = page.locator('#composer-text');
    await text.fill('Yes, two left');
    await page.locator('#composer-send').click();
    const error = page.locator('#composer-error');
    await error.filter({ hasText: /\S/ }).waitFor();
    const said = (await error.textContent()).trim();
    assert.match(said, /credit/i);
    assert.deepEqual((await descriptionOf(text)).map(([id]) => id),
                     ['composer-count', 'composer-error']);
    assert.deepEqual((await descriptionOf(text)).at(-1),
                     ['composer-error', said]);
    assert.equal(await focused(text), true, 'the focus stayed on Send');
    /* the message is not wrong, it cannot go */
    assert.equal(await text.getAttribute('aria-invalid'), null);
});

test('the Campaigns form: a name refused describes the name field',
async () => {
    await page.locator('#views').getByRole('link', { name: 'Campaigns' })
        .click();
    await page.getByRole('button', { name: 'New campaign' }).click();
    await page.locator('#campaign-body').fill('Half price on Friday');
    await page.getByRole('button', { name: 'Save as draft' }).click();
    const error = page.locator('#campaign-error');
    await error.filter({ hasText: 'A campaign needs a name.' }).waitFor();
    const name = page.locator('#campaign-name');
    assert.deepEqual(await descriptionOf(name), [
        ['campaign-name-hint',
         'For you and your colleagues; contacts never see it.'],
        ['campaign-error', 'A campaign needs a name.']]);
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    assert.equal(await focused(name), true);
    await name.fill('Friday');
    assert.deepEqual((await descriptionOf(name)).map(([id]) => id),
                     ['campaign-name-hint']);
    assert.equal(await name.getAttribute('aria-invalid'), null);
    await page.locator('#campaign-close').click();
});

test('the Polls form: one option refused describes that option, the '
     + 'later of two the same', async () => {
    await page.locator('#views').getByRole('link', { name: 'Polls' })
        .click();
    await page.getByRole('button', { name: 'New poll' }).click();
    const option = (n) => page.getByLabel(`Option ${n}`, { exact: true });
    await page.getByLabel('Question').fill('Paperback or hardback?');
    await option(1).fill('Paperback');
    await option(2).fill('paperback');
    await page.getByRole('button', { name: 'Save as draft' }).click();
    const said = 'Option 2 is the same as option 1.';
    await page.locator('#poll-error', { hasText: said }).waitFor();
    assert.equal(await focused(option(2)), true);
    assert.deepEqual((await descriptionOf(option(2))).at(-1),
                     ['poll-error', said]);
    assert.equal(await option(2).getAttribute('aria-invalid'), 'true');
    /* that option, not the first nor the list */
    assert.deepEqual(await descriptionOf(option(1)), []);
    assert.equal(await option(1).getAttribute('aria-invalid'), null);
    assert.equal(await page.locator('#poll-options')
        .getAttribute('aria-invalid'), null);
    /* another option edited: the refusal is still this one's */
    await option(1).fill('Paperback!');
    assert.equal(await option(2).getAttribute('aria-invalid'), 'true');
    await option(2).fill('Hardback');
    assert.equal(await option(2).getAttribute('aria-invalid'), null);
    assert.deepEqual(await descriptionOf(option(2)), []);
    await option(1).fill('Paperback');

    /* a row left empty between is not sent: it has no number, and the
     * rows close up, so the refused "Option 3" is the row labelled so */
    await page.getByRole('button', { name: 'Add an option' }).click();
    await page.getByRole('button', { name: 'Add an option' }).click();
    await option(2).fill('');
    await option(3).fill('Hardback');
    /* Hardback is sent second: the row after it is the third */
    await option(3).fill('PAPERBACK!');
    await page.getByRole('button', { name: 'Save as draft' }).click();
    const again = 'Option 3 is the same as option 1.';
    await page.locator('#poll-error', { hasText: again }).waitFor();
    assert.equal(await page.locator('#poll-options li').count(), 3);
    assert.equal(await option(3).inputValue(), 'PAPERBACK!');
    assert.equal(await focused(option(3)), true);
    assert.deepEqual((await descriptionOf(option(3))).at(-1),
                     ['poll-error', again]);
    assert.equal(await option(3).getAttribute('aria-invalid'), 'true');
    assert.equal(await option(2).getAttribute('aria-invalid'), null);
    await page.locator('#poll-close').click();
});

test('the Polls form: options refused as a whole (too few) mark the '
     + 'list and describe the option focused', async () => {
    await page.getByRole('button', { name: 'New poll' }).click();
    const option = (n) => page.getByLabel(`Option ${n}`, { exact: true });
    await page.getByLabel('Question').fill('Paperback or hardback?');
    for (const n of [3, 2, 1]) {
        await option(n).fill('');
    }
    await option(1).fill('Paperback');
    await page.getByRole('button', { name: 'Save as draft' }).click();
    const said = 'A poll has 2 to 9 options.';
    await page.locator('#poll-error', { hasText: said }).waitFor();
    assert.equal(await page.locator('#poll-options')
        .getAttribute('aria-invalid'), 'true');
    const empty = option(2);
    assert.equal(await focused(empty), true);
    assert.deepEqual((await descriptionOf(empty)).at(-1),
                     ['poll-error', said]);
    await empty.fill('Hardback');
    assert.equal(await page.locator('#poll-options')
        .getAttribute('aria-invalid'), null);
    assert.deepEqual(await descriptionOf(empty), []);
    await page.locator('#poll-close').click();
});

test('Settings: a time zone refused describes the zone field', async () => {
    await page.locator('#views').getByRole('link', { name: 'Settings' })
        .click();
    const zone = page.locator('#settings-form').getByLabel('Time zone');
    await zone.fill('Mars/Olympus_Mons');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const error = page.locator('#settings-error');
    await error.filter({ hasText: /\S/ }).waitFor();
    const said = (await error.textContent()).trim();
    assert.deepEqual((await descriptionOf(zone)).map(([id]) => id),
                     ['settings-timezone-hint', 'settings-error']);
    assert.deepEqual((await descriptionOf(zone)).at(-1),
                     ['settings-error', said]);
    assert.equal(await zone.getAttribute('aria-invalid'), 'true');
    assert.equal(await focused(zone), true);
});

test('a new contact: a number refused describes the number field',
async () => {
    await page.locator('#views').getByRole('link', { name: 'Contacts' })
        .click();
    await page.locator('#contact-new').click();
    const number = page.locator('#new-contact-phone');
    await number.fill('12');
    await page.locator('#new-contact-form button[type="submit"]').click();
    const error = page.locator('#new-contact-error');
    await error.filter({ hasText: /\S/ }).waitFor();
    assert.deepEqual((await descriptionOf(number)).at(-1),
        ['new-contact-error', (await error.textContent()).trim()]);
    assert.equal(await number.getAttribute('aria-invalid'), 'true');
    assert.equal(await focused(number), true);
});

noPageErrorsTest(web);

errorLogIsCleanTest(ctx, web.close);
