// What a search matched, marked in Debian's Chromium: the part of a name
// a search found, over the punctuation and accents it spans ("oconnor"
// marks "O’Connor", "jose" "José"), and the digits of a number written
// for people ("555 01" marks "555-01" in "+1 (312) 555-0123", shown
// beside a named contact's name then); rows that join the list live
// while a search is open are marked too, and nothing is without a
// search; what folds otherwise together than a letter at a time is
// marked whole ("ガ" marks halfwidth "ｶﾞ"), and what Unicode says to
// ignore is ignored as the server's search ignores it; the open
// thread's header is marked as its row is; the Contacts list marks its
// rows the same way.  A name's markup is its text, never elements.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { noPageErrorsTest, rowOf, signIn, useBrowser }
    from '../lib/browser.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Marking Org' }] });
const USER = { email: 'mo@marking.example', password: 'mo marks them' };
const web = useBrowser();
let page;

const OCONNOR = 'Siobh\u00e1n O\u2019Connor';
const JOSE = 'Jos\u00e9 N\u00fa\u00f1ez';
// a name typed with its accent as a mark of its own (NFD)
const RENEE = 'Rene\u0301e Marchand';
const MARKUP = '<i>Ann</i> Lee';
const UK = '+442079460958';

const rows = (p) => p.locator('#threads > li');
// each row's marks, as [name's, number's] texts
const marks = (p) => p.locator('#threads > li').evaluateAll((lis) =>
    lis.map((li) => {
        const number = li.querySelector('.row-phone');
        return [li.querySelector('.row-name').textContent,
            Array.from(li.querySelectorAll('.row-name mark'),
                       (m) => m.textContent),
            number && !number.hidden ? number.textContent : null,
            Array.from(li.querySelectorAll('.row-phone mark'),
                       (m) => m.textContent)];
    }).sort());

// Searches for typed and waits for the rows it finds, as
// [name shown, [its marks], number shown or null, [its marks]].
async function searchShows(p, typed, expected) {
    await p.locator('#search').fill(typed);
    const want = JSON.stringify([...expected].sort());
    const deadline = Date.now() + 10000;
    let got;
    for (;;) {
        got = await marks(p);
        if (JSON.stringify(got) === want) {
            return;
        }
        if (Date.now() > deadline) {
            assert.deepEqual(got, [...expected].sort(),
                `what "${typed}" marks`);
        }
        await new Promise((r) => setTimeout(r, 100));
    }
}

async function contact(phone, name) {
    const res = await api(ctx.cluster, '/api/v1/contacts',
        ctx.cluster.orgs[0].token, { method: 'POST', body: { phone, name } });
    assert.equal(res.status, 201, res.text);
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, cluster.orgs[0], USER.email, USER.password);
    for (const [phone, name] of [['+13125550123', OCONNOR],
        ['+13125550124', JOSE], ['+13125550125', RENEE],
        ['+13125550126', MARKUP]]) {
        await contact(phone, name);
        await deliverInbound(cluster, { from: phone, body: 'Hello' });
    }
    await deliverInbound(cluster, { from: UK, body: 'Hello from London' });
    await web.launch();
    page = await web.newPage();
    await signIn(page, cluster, USER);
    await rows(page).nth(4).waitFor();
});

test('without a search nothing is marked', async () => {
    assert.equal(await page.locator('#threads mark').count(), 0);
    assert.equal(await page.locator('#threads .row-phone:not([hidden])')
        .count(), 0);
});

test('a name search marks what it found in the name as written: across '
    + 'its punctuation and accents', async () => {
    for (const typed of ['oconnor', 'o connor', "O'CONNOR"]) {
        await searchShows(page, typed, [[OCONNOR, ['O\u2019Connor'],
                                         null, []]]);
    }
    await searchShows(page, 'siobhan o', [[OCONNOR, ['Siobh\u00e1n O'],
                                           null, []]]);
    await searchShows(page, 'jose', [[JOSE, ['Jos\u00e9'], null, []]]);
    await searchShows(page, 'nunez', [[JOSE, ['N\u00fa\u00f1ez'],
                                       null, []]]);
    // the accent's mark goes with its letter
    await searchShows(page, 'renee', [[RENEE, ['Rene\u0301e'], null, []]]);
    await searchShows(page, 'NEE', [[RENEE, ['ne\u0301e'], null, []]]);
    // a name's markup is its text
    await searchShows(page, 'ann', [[MARKUP, ['Ann'], null, []]]);
    assert.equal(await page.locator('#threads .row-name i').count(), 0);
});

test('a number search marks its digits in the number as written; a named '
    + 'contact found by number shows it', async () => {
    await searchShows(page, '7946 09', [['+44 20 7946 0958', ['7946 09'],
                                         null, []]]);
    await searchShows(page, '(312) 555-0123', [[OCONNOR, [],
        '+1 (312) 555-0123', ['312) 555-0123']]]);
    await searchShows(page, '555 0124', [[JOSE, [],
        '+1 (312) 555-0124', ['555-0124']]]);
    // what a screen reader is told of the row says the number too
    const said = await rowOf(page, JOSE).locator('.thread-row')
        .getAttribute('aria-label');
    assert.ok(said.startsWith(`${JOSE}, +1 (312) 555-0124, `), said);
    // a search cleared marks nothing
    await page.locator('#search').press('Escape');
    await rows(page).nth(4).waitFor();
    await page.waitForFunction(() =>
        document.querySelectorAll('#threads mark').length === 0);
    assert.equal(await page.locator('#threads .row-phone:not([hidden])')
        .count(), 0);
});

test('a thread that joins a search live is marked as the list is',
    async () => {
        await contact('+13125550127', 'Jean-Luc St. John');
        await searchShows(page, 'jean luc', []);
        await page.locator('#list-status',
            { hasText: 'No conversations match' }).waitFor();
        await deliverInbound(ctx.cluster, { from: '+13125550127',
                                            body: 'Hello' });
        await searchShows(page, 'jean luc', [['Jean-Luc St. John',
                                              ['Jean-Luc'], null, []]]);
        await searchShows(page, '4477 00', []);
        await deliverInbound(ctx.cluster, { from: '+447700900123',
                                            body: 'Hi' });
        await searchShows(page, '4477 00', [['+44 7700 900123',
                                             ['44 7700'], null, []]]);
    });

test('a name\'s words typed in another order find it and each is '
    + 'marked, also on a thread that joins the search live', async () => {
        await searchShows(page, 'marchand renee', [[RENEE,
            ['Rene\u0301e', 'Marchand'], null, []]]);
        await searchShows(page, 'nunez  JOSE', [[JOSE,
            ['Jos\u00e9', 'N\u00fa\u00f1ez'], null, []]]);
        // a word of the name's, not its start
        await searchShows(page, 'connor siob', [[OCONNOR,
            ['Siob', 'Connor'], null, []]]);
        // every word must be there
        await searchShows(page, 'connor jose', []);
        await contact('+13125550128', 'Ada King Lovelace');
        await searchShows(page, 'lovelace ada', []);
        await deliverInbound(ctx.cluster, { from: '+13125550128',
                                            body: 'Hello' });
        await searchShows(page, 'lovelace ada', [['Ada King Lovelace',
            ['Ada', 'Lovelace'], null, []]]);
        await page.locator('#search').press('Escape');
        await rows(page).nth(4).waitFor();
    });

// Names that fold other than one letter at a time: a Greek name in
// capitals (its last Σ a σ to the server's search, ς to lower case), one
// in halfwidth katakana (ｶﾞ is two characters, one kana: ガ), a German ß
// ("ss"); and names with characters Unicode says to ignore, which the
// server's key drops: a soft hyphen, a zero-width joiner, Khmer's
// inherent vowel U+17B4.
const ODYSSEUS = '\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3 '
    + '\u03a0\u0391\u03a0\u0391\u03a3';
const GAKU = '\uff76\uff9e\uff78 \uff80\uff9b\uff73';
const STRASSE = 'Greta Stra\u00dfe';
const MARTA = 'Ma\u00adrta Nowak';
const ELIZA = 'Eli\u200dza Woods';
const SOKHA = '\u179f\u17b4\u17bb\u1781\u17b6 Chan';
const FOLDED = [['+13125550141', ODYSSEUS], ['+13125550142', GAKU],
    ['+13125550143', STRASSE], ['+13125550144', MARTA],
    ['+13125550145', ELIZA], ['+13125550146', SOKHA]];

test('a name whose letters fold together otherwise than one at a time '
    + 'is marked over what the search found', async () => {
        for (const [phone, name] of FOLDED.slice(0, 2)) {
            await contact(phone, name);
            await deliverInbound(ctx.cluster, { from: phone, body: 'Hi' });
        }
        const greek = ODYSSEUS.split(' ')[0];
        // as the server folds it, and as a Greek writes it (Οδυσσεύς)
        for (const typed of [
            '\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c3',
            '\u039f\u03b4\u03c5\u03c3\u03c3\u03b5\u03cd\u03c2'])
        {
            await searchShows(page, typed, [[ODYSSEUS, [greek], null, []]]);
        }
        // the voicing mark goes with its kana, typed either way
        for (const typed of ['\u30ac\u30af', '\uff76\uff9e\uff78']) {
            await searchShows(page, typed, [[GAKU, ['\uff76\uff9e\uff78'],
                                             null, []]]);
        }
        // ß is "ss" to the server's search: a thread of it joins live
        await contact(FOLDED[2][0], STRASSE);
        await searchShows(page, 'strasse', []);
        await page.locator('#list-status',
            { hasText: 'No conversations match' }).waitFor();
        await deliverInbound(ctx.cluster, { from: FOLDED[2][0],
                                            body: 'Hi' });
        await searchShows(page, 'strasse', [[STRASSE, ['Stra\u00dfe'],
                                             null, []]]);
    });

test('a name with characters Unicode says to ignore is marked as if they '
    + 'were not there', async () => {
        for (const [phone, name] of FOLDED.slice(3)) {
            await contact(phone, name);
            await deliverInbound(ctx.cluster, { from: phone, body: 'Hi' });
        }
        await searchShows(page, 'marta', [[MARTA, ['Ma\u00adrta'],
                                           null, []]]);
        await searchShows(page, 'eliza', [[ELIZA, ['Eli\u200dza'],
                                           null, []]]);
        await searchShows(page, '\u179f\u17bb\u1781\u17b6',
            [[SOKHA, ['\u179f\u17b4\u17bb\u1781\u17b6'], null, []]]);
    });

// The open thread's header: its name's marks, and its number's.
const headerMarks = (p) => p.evaluate(() => [
    Array.from(document.querySelectorAll('#thread-name mark'),
               (m) => m.textContent),
    Array.from(document.querySelectorAll('#thread-sub mark'),
               (m) => m.textContent),
    document.getElementById('thread-name').textContent,
    document.getElementById('thread-sub').textContent]);

async function headerShows(p, expected) {
    const want = JSON.stringify(expected);
    const deadline = Date.now() + 10000;
    for (;;) {
        const got = await headerMarks(p);
        if (JSON.stringify(got) === want) {
            return;
        }
        if (Date.now() > deadline) {
            assert.deepEqual(got, expected, 'what the header marks');
        }
        await new Promise((r) => setTimeout(r, 100));
    }
}

test('the open thread\'s header marks what the search found, as its row '
    + 'does, and nothing once the search is cleared', async () => {
        await searchShows(page, 'jose', [[JOSE, ['Jos\u00e9'], null, []]]);
        await rowOf(page, JOSE).locator('.thread-row').click();
        await headerShows(page, [['Jos\u00e9'], [], JOSE,
                                 '+1 (312) 555-0124']);
        // another search, the thread still open: by its number
        await searchShows(page, '555 0124', [[JOSE, [],
            '+1 (312) 555-0124', ['555-0124']]]);
        await headerShows(page, [[], ['555-0124'], JOSE,
                                 '+1 (312) 555-0124']);
        await page.locator('#search').fill('');
        await rows(page).nth(4).waitFor();
        await headerShows(page, [[], [], JOSE, '+1 (312) 555-0124']);
        // a thread of a number alone: the number is its name
        await searchShows(page, '7946 09', [['+44 20 7946 0958',
                                             ['7946 09'], null, []]]);
        await rowOf(page, '+44 20 7946 0958').locator('.thread-row').click();
        await headerShows(page, [['7946 09'], [], '+44 20 7946 0958', '']);
        await page.locator('#search').fill('');
        await rows(page).nth(4).waitFor();
        await headerShows(page, [[], [], '+44 20 7946 0958', '']);
    });

// the Contacts list's rows, as marks() has the thread list's
const contactMarks = (p) => p.locator('#contacts-list .contact-row')
    .evaluateAll((rs) => rs.map((r) => {
        const number = r.querySelector('.contact-phone');
        return [r.querySelector('.contact-name').textContent,
            Array.from(r.querySelectorAll('.contact-name mark'),
                       (m) => m.textContent),
            number ? number.textContent : null,
            Array.from(r.querySelectorAll('.contact-phone mark'),
                       (m) => m.textContent)];
    }).sort());

test('the Contacts list marks what its search found the same way: a '
    + 'number typed with its trunk 0 by the digits the server looked for',
    async () => {
        await page.getByRole('link', { name: 'Contacts' }).click();
        const search = page.getByLabel('Search contacts');
        for (const [typed, expected] of [
            ['oconnor', [[OCONNOR, ['O\u2019Connor'], '+1 (312) 555-0123',
                          []]]],
            ['555 0124', [[JOSE, [], '+1 (312) 555-0124', ['555-0124']]]],
            // 07700 900123 as dialled in the UK: +44 7700 900123
            ['07700 900', [['+44 7700 900123', ['7700 900'], null, []]]],
            ['', null]]) {
            await search.fill(typed);
            const want = JSON.stringify(expected);
            const deadline = Date.now() + 10000;
            for (;;) {
                const got = await contactMarks(page);
                if (expected === null
                    ? got.length > 5 && got.every((r) => r[1].length === 0
                                                         && r[3].length === 0)
                    : JSON.stringify(got) === want)
                {
                    break;
                }
                if (Date.now() > deadline) {
                    assert.fail(`"${typed}" marks ${JSON.stringify(got)}`);
                }
                await new Promise((r) => setTimeout(r, 100));
            }
        }
    });

noPageErrorsTest(web);
errorLogIsCleanTest(ctx, () => web.close());
