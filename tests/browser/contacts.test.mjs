// The Contacts view in Debian's Chromium: the organization's contacts
// with their tags and opt-outs, searched by name and filtered by a tag;
// one added by hand (a number that is a contact already, or no number,
// refused next to the field); a contact chosen opens its record over its
// thread in the Inbox (a sheet at 390 px, which Back closes first; "No
// messages yet." until one is), listed once its first message
// is written; contacts imported
// from a CSV file, with the report of what was made and skipped and the
// columns not used, and their tag offered to campaigns at once, or of
// what an import the server stopped partway stored and the line it
// stopped at, and of the contacts that could not take all their tags; a
// search whose page the server ended with nothing found yet followed
// until it finds one; a contact's row following its live events (a
// STOP, new tags, a new name), contacts made elsewhere (a colleague's,
// an import's, a new number's text) joining the list shown, and the
// list read again after a colleague's import of many
// (contacts.imported), as it was shown (its pages, its tag, the focused
// row in its place), Show more pressed meanwhile taken once it is in;
// Add contact pressed twice adding once, and a server
// out of reach said; and at 390 px nothing scrolls sideways.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { noPageErrorsTest, shown, signIn, useBrowser }
         from '../lib/browser.mjs';
import { inboxctl, sqlite3Path, uniqueNumber } from '../lib/cluster.mjs';
import { useCluster, errorLogIsCleanTest } from '../lib/fixture.mjs';
import { api, deliverInbound, importContactsCsv } from '../lib/inbox.mjs';
import { addUser } from '../lib/session.mjs';

const ctx = useCluster({ orgs: [{ name: 'Contacts Org' }] });
const USER = { email: 'cleo@contacts.example', password: 'cleo keeps lists' };
const web = useBrowser();
let page;

const org = () => ctx.cluster.orgs[0];
const people = {
    ann: { name: 'Ann Archer', phone: uniqueNumber(), tags: ['vip'] },
    bo: { name: null, phone: uniqueNumber(), tags: [] },
    cy: { name: 'Cy Cole', phone: uniqueNumber(), tags: ['vip', 'spring'] },
};

async function call(path, opts = {}) {
    const res = await api(ctx.cluster, path, org().token, opts);
    assert.ok(res.status < 300, `${path}: ${res.status} ${res.text}`);
    return res.json;
}

const rows = () => page.locator('#contacts-list .contact-row');
const rowNames = () => page.locator('#contacts-list .contact-name')
    .allTextContents();

// the contacts.imported frames the page's socket has received
let importedSeen = 0;

// An import made while the page is on the Inbox, and the page's socket
// has its contacts.imported: a test's own setup, made before the list is
// opened, so a frame late under load does not read the list again while
// the test works on it.
async function importAway(csv) {
    await page.getByRole('link', { name: 'Inbox' }).click();
    const seen = importedSeen;
    await importContactsCsv(ctx.cluster, org().token, csv);
    const deadline = Date.now() + 10000;
    while (importedSeen === seen) {
        assert.ok(Date.now() < deadline, 'the import\'s contacts.imported '
                  + 'reaches the page');
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

async function openContacts() {
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.getByRole('heading', { name: 'Contacts', exact: true })
        .waitFor();
}

before(async () => {
    const cluster = await ctx.ready;
    await addUser(cluster, org(), USER.email, USER.password);
    await inboxctl(cluster.store, 'credits', 'grant', org().id, '10');
    for (const p of Object.values(people)) {
        p.contact = await call('/api/v1/contacts', { method: 'POST',
            body: { phone: p.phone, tags: p.tags,
                    ...(p.name ? { name: p.name } : {}) } });
    }
    await call(`/api/v1/conversations/${people.cy.contact.conversation_id}`
               + '/opt-out', { method: 'POST' });
    await web.launch();
    page = await web.newPage({ width: 1200, height: 800 });
    page.on('websocket', (ws) => ws.on('framereceived', (f) => {
        if (String(f.payload).includes('"contacts.imported"')) {
            importedSeen += 1;
        }
    }));
    await signIn(page, cluster, USER);
});

test('the contacts, newest first, with their tags and opt-outs; searched '
     + 'by name and filtered by a tag', async () => {
    await openContacts();
    await rows().nth(2).waitFor();
    assert.deepEqual(await rowNames(),
                     ['Cy Cole', shown(people.bo.phone), 'Ann Archer']);
    const cy = rows().nth(0);
    assert.equal(await cy.locator('.contact-phone').textContent(),
                 shown(people.cy.phone));
    assert.deepEqual(await cy.locator('.tag').allTextContents(),
                     ['vip', 'spring']);
    assert.equal(await cy.locator('.contact-opted-out').textContent(),
                 'Opted out');

    await page.getByLabel('Search contacts').fill('arch');
    await page.waitForFunction(() => document.querySelectorAll(
        '#contacts-list .contact-row').length === 1);
    assert.deepEqual(await rowNames(), ['Ann Archer']);

    await page.getByLabel('Search contacts').fill('');
    await page.locator('#contacts-tag').selectOption('vip');
    await page.waitForFunction(() => document.querySelectorAll(
        '#contacts-list .contact-row').length === 2);
    assert.deepEqual(await rowNames(), ['Cy Cole', 'Ann Archer']);
    await page.locator('#contacts-tag').selectOption('');
    await rows().nth(2).waitFor();
});

test('a contact added by hand comes first; a number that is a contact '
     + 'already (said as the app writes it, with its name), too short, or '
     + 'none, is refused next to the field',
async () => {
    const dee = uniqueNumber();
    await openContacts();
    await page.getByRole('button', { name: 'Add contact' }).first().click();
    await page.locator('#new-contact-phone').fill(dee);
    await page.locator('#new-contact-name').fill('Dee Dawson');
    await page.locator('#new-contact-tags').fill('volunteers, vip');
    await page.locator('#new-contact-form').getByRole('button',
        { name: 'Add contact' }).click();
    await page.locator('#contacts-status', { hasText: 'Added Dee Dawson.' })
        .waitFor();
    assert.equal(await page.locator('#new-contact-form').isVisible(), false);
    assert.equal(await rows().first().locator('.contact-name').textContent(),
                 'Dee Dawson');
    const stored = await call(`/api/v1/contacts?q=${dee.slice(2)}`);
    assert.deepEqual(stored.items.map((c) => [c.name, c.tags]),
                     [['Dee Dawson', ['volunteers', 'vip']]]);

    await page.getByRole('button', { name: 'Add contact' }).first().click();
    const number = page.locator('#new-contact-phone');
    await number.fill(people.ann.phone);
    await page.locator('#new-contact-form').getByRole('button',
        { name: 'Add contact' }).click();
    await page.locator('#new-contact-error:not(:empty)').waitFor();
    assert.equal(await number.getAttribute('aria-invalid'), 'true');
    assert.equal(await number.inputValue(), people.ann.phone);
    // the number as the app writes it, and whose it is
    const d = people.ann.phone.slice(2);
    assert.equal(await page.locator('#new-contact-error').textContent(),
                 `+1 (${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)} `
                 + 'is a contact already: Ann Archer.');

    // a number too short: the rule in a sentence of its own
    await number.fill('555 0100');
    await page.locator('#new-contact-form').getByRole('button',
        { name: 'Add contact' }).click();
    await page.locator('#new-contact-error', { hasText: '7 digits' })
        .waitFor();
    assert.equal(await page.locator('#new-contact-error').textContent(),
                 'The phone number has 7 digits; a number in US has 10 (or '
                 + 'write it as +<country code><number>).');

    await number.fill('');
    await page.locator('#new-contact-form').getByRole('button',
        { name: 'Add contact' }).click();
    await page.waitForFunction(() => /phone/i.test(
        document.getElementById('new-contact-error').textContent));
    await page.locator('#new-contact-close').click();
});

test('a contact added while the list is being read stays first, with its '
     + 'notice, when the older read answers', async () => {
    const eve = uniqueNumber();
    await openContacts();
    await rows().nth(2).waitFor();
    // the next read of the list is answered only after the add, with
    // what the server had before it
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    let held = false;
    let answered;
    const fulfilled = new Promise((resolve) => { answered = resolve; });
    const read = (url) => url.pathname === '/api/v1/contacts';
    await page.route(read, async (route) => {
        if (held || route.request().method() !== 'GET') {
            await route.fallback();
            return;
        }
        held = true;
        const answer = await route.fetch();
        await released;
        await route.fulfill({ response: answer });
        answered();
    });
    try {
        await page.locator('#contacts-tag').selectOption('vip');
        await page.waitForFunction(() => document.getElementById(
            'contacts-status').textContent === 'Loading\u2026');
        await page.getByRole('button', { name: 'Add contact' }).first()
            .click();
        await page.locator('#new-contact-phone').fill(eve);
        await page.locator('#new-contact-name').fill('Eve Early');
        await page.locator('#new-contact-tags').fill('vip');
        await page.locator('#new-contact-form').getByRole('button',
            { name: 'Add contact' }).click();
        await page.locator('#contacts-status', { hasText: 'Added Eve Early.' })
            .waitFor();
        const vip = (await call('/api/v1/contacts?tag=vip')).items
            .map((c) => c.name);
        assert.equal(vip[0], 'Eve Early');
        release();
        await fulfilled;
        await page.waitForFunction((want) => JSON.stringify([
            ...document.querySelectorAll('#contacts-list .contact-name')]
            .map((n) => n.textContent)) === JSON.stringify(want), vip);
        assert.equal(await page.locator('#contacts-status').textContent(),
                     'Added Eve Early.');
    } finally {
        release();
        await page.unroute(read);
        await page.locator('#contacts-tag').selectOption('');
    }
});

test('a contact chosen opens its record over its thread in the Inbox; a '
     + 'thread without a message says so, and so does its record\'s '
     + 'timeline; it joins the list with the first one written',
async () => {
    await openContacts();
    await rows().filter({ hasText: 'Ann Archer' }).click();
    await page.locator('#thread-title', { hasText: 'Ann Archer' })
        .waitFor();
    assert.equal(new URL(page.url()).hash, '#inbox');
    assert.equal(await page.locator('#app').isVisible(), true);
    // the name chosen opens the full record (the product's words), no
    // second press of Contact needed, beside the thread
    const panel = page.locator('#contact-panel');
    await panel.getByLabel('Name').waitFor();
    assert.equal(await panel.getByLabel('Name').inputValue(), 'Ann Archer');
    assert.equal(await page.locator('#act-contact')
        .getAttribute('aria-expanded'), 'true');
    // not a blank pane: the thread says it has nothing yet
    const empty = page.getByText('No messages yet.');
    await empty.waitFor();
    assert.equal(await empty.isVisible(), true, 'the thread beside it');
    // nor is the record's timeline a bare heading
    await page.locator('#timeline-title').waitFor();
    const nothing = page.locator('#timeline-empty');
    assert.equal(await nothing.textContent(), 'Nothing yet.');
    assert.equal(await nothing.isVisible(), true);

    const listed = page.locator('#threads .row-name',
                                { hasText: 'Ann Archer' });
    assert.equal(await listed.count(), 0, 'no message yet: not listed');
    await page.locator('#composer-text').fill('Welcome, Ann!');
    await page.getByRole('button', { name: 'Send' }).click();
    await listed.waitFor();
    assert.equal(await page.locator('#threads > li', { hasText: 'Ann Archer' })
        .locator('.row-preview-text').textContent(), 'Welcome, Ann!');
    assert.equal(await empty.isHidden(), true);
    // the message is the timeline's first entry, read again with it
    await page.locator('#timeline .timeline-item').first().waitFor();
    assert.equal(await nothing.isHidden(), true);
    await page.locator('#contact-close').click();
});

test('contacts imported from a CSV file: the report counts them, names '
     + 'the lines skipped and the columns not used, the list and the '
     + 'campaigns\' tags have them at once; a file without a phone column '
     + 'is refused with the server\'s reason', async () => {
    const ivy = uniqueNumber();
    const jay = uniqueNumber();
    await openContacts();
    await page.locator('#contacts-file').setInputFiles({
        name: 'people.csv', mimeType: 'application/vnd.ms-excel',
        buffer: Buffer.from(['phone,name,tags', `${ivy},Ivy Import,imported`,
            `${jay},"Import, Jay",imported`, `${ivy},,imported`,
            'not a number,Nobody,imported'].join('\r\n') + '\r\n') });
    const report = page.locator('#import-report');
    // Ivy twice is one contact: her second line is said apart
    await report.locator('p', { hasText: 'people.csv: 2 new contacts, '
        + '0 contacts updated, 1 line repeated the number of a line above '
        + 'it (merged into that contact). 1 line was skipped:' }).waitFor();
    assert.match(await report.locator('li').textContent(), /^Line 5: \S/);
    await rows().filter({ hasText: 'Ivy Import' }).waitFor();
    await rows().filter({ hasText: 'Import, Jay' }).waitFor();
    const imported = await call('/api/v1/contacts?tag=imported');
    assert.deepEqual(imported.items.map((c) => c.name).sort(),
                     ['Import, Jay', 'Ivy Import']);
    assert.equal(await report.locator('p.import-ignored').count(), 0,
                 'every column was used');

    // an export's split name is joined; the columns not used are named
    const kim = uniqueNumber();
    await page.locator('#contacts-file').setInputFiles({
        name: 'outlook.csv', mimeType: 'text/csv',
        buffer: Buffer.from('"First Name","Middle Name","Last Name",'
            + '"Company","Mobile Phone"\r\n'
            + `"Kim","","Split","Acme","${kim}"\r\n`) });
    await report.locator('p', { hasText: 'outlook.csv: 1 new contact, '
        + '0 contacts updated.' }).waitFor();
    assert.equal(await report.locator('p.import-ignored').textContent(),
                 'Not imported: the columns \u201cMiddle Name\u201d, '
                 + '\u201cCompany\u201d.');
    await rows().filter({ hasText: 'Kim Split' }).waitFor();

    // the new tag is offered to campaigns without waiting for it
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('button', { name: 'New campaign' }).click();
    await page.locator('#campaign-form').getByRole('checkbox',
        { name: 'imported (2)' }).waitFor();
    await page.locator('#campaign-close').click();

    await openContacts();
    await page.locator('#contacts-file').setInputFiles({
        name: 'names.csv', mimeType: 'text/csv',
        buffer: Buffer.from('name,tags\nIvy,vip\n') });
    await page.locator('#import-report.problem', {
        hasText: /^names\.csv was not imported: .*phone/ }).waitFor();
});

test('an import the server stops partway shows what it stored and the '
     + 'line it stopped at, and the same file again finishes it',
     async () => {
    const sql = (q) => promisify(execFile)(sqlite3Path,
        ['-cmd', '.timeout 5000', ctx.cluster.storePath, q]);
    const block = `+19176${String(Math.floor(Math.random() * 100))
        .padStart(2, '0')}`;
    const phone = (i) => `${block}${String(i).padStart(4, '0')}`;
    const lines = ['phone,name,notes'];
    for (let i = 0; i < 1100; i++) {
        lines.push(`${phone(i)},Batch ${i},x`);
    }
    const file = { name: 'big.csv', mimeType: 'text/csv',
                   buffer: Buffer.from(`${lines.join('\n')}\n`) };
    // the store fails the row of line 1052, in the second batch
    await sql('CREATE TRIGGER import_partial BEFORE INSERT ON contacts '
        + `WHEN NEW.phone = '${phone(1050)}' `
        + "BEGIN SELECT RAISE(ABORT, 'disk I/O simulated'); END");
    await openContacts();
    const report = page.locator('#import-report');
    try {
        await page.locator('#contacts-file').setInputFiles(file);
        await page.locator('#import-report.problem p', { hasText:
            'big.csv was imported only up to line 1,002: 1,000 new '
            + 'contacts, 0 contacts updated before it.' }).waitFor();
    } finally {
        await sql('DROP TRIGGER import_partial');
    }
    const note = await report.locator('p.import-ignored').textContent();
    assert.match(note, /^The server failed at line 1,002 .*Import the same /);
    assert.ok(note.endsWith('updated, not duplicated. Not imported: the '
        + 'column \u201cnotes\u201d.'), note);
    // the list has the contacts stored
    await page.locator('#contacts-search').fill('Batch 999');
    await rows().filter({ hasText: 'Batch 999' }).waitFor();

    await page.locator('#contacts-file').setInputFiles(file);
    await page.locator('#import-report:not(.problem) p', { hasText:
        'big.csv: 100 new contacts, 1,000 contacts updated.' }).waitFor();
    await page.locator('#contacts-search').fill('');
});

test('a file larger than an import takes is said before it goes, with '
     + 'what to do; a line with more than 50 tags is skipped, its line '
     + 'and the limit named; tags past the 50 a contact keeps are said '
     + 'left out', async () => {
    await openContacts();
    const report = page.locator('#import-report');
    const isImport = (url) => url.pathname === '/api/v1/contacts/import';
    let posts = 0;
    await page.route(isImport, (route) => {
        posts += 1;
        return route.continue();
    });
    try {
        /* 17 MB crosses to the browser base64-encoded: on a busy
         * machine that alone can outlast the default wait */
        await page.locator('#contacts-file').setInputFiles({
            name: 'huge.csv', mimeType: 'text/csv',
            buffer: Buffer.from(`phone\n${'1'.repeat(17 * 1024 * 1024)}\n`)
        }, { timeout: 60000 });
        await report.locator('p', { hasText: 'huge.csv was not imported: '
            + 'it is 17.0 MB, and an import takes a file of at most 16 MB. '
            + 'Split it into smaller files, each with the header row, and '
            + 'import each.' }).waitFor();
        assert.ok(await report.evaluate((el) =>
            el.classList.contains('problem')));
        assert.equal(posts, 0, 'nothing sent');
    } finally {
        await page.unroute(isImport);
    }

    const tags = Array.from({ length: 51 }, (_, i) => `t${i}`).join(';');
    await page.locator('#contacts-file').setInputFiles({
        name: 'tags.csv', mimeType: 'text/csv',
        buffer: Buffer.from(`phone,name,tags\n${uniqueNumber()},Tag Heavy,`
            + `${tags}\n${uniqueNumber()},Tag Light,t0\n`) });
    await report.locator('p', { hasText: 'tags.csv: 1 new contact, 0 '
        + 'contacts updated. 1 line was skipped:' }).waitFor();
    assert.equal(await report.locator('li').textContent(),
                 'Line 2: A contact has at most 50 tags.');
    assert.equal(await report.locator('.import-capped').count(), 0);

    // a contact with 50 tags given more: kept at 50, and said
    const full = uniqueNumber();
    await call('/api/v1/contacts', { method: 'POST', body: { phone: full,
        tags: Array.from({ length: 50 }, (_, i) => `t${i}`) } });
    await page.locator('#contacts-file').setInputFiles({
        name: 'more.csv', mimeType: 'text/csv',
        buffer: Buffer.from(`phone,tags\n${full},t0;extra;more\n`) });
    await report.locator('p', { hasText: 'more.csv: 0 new contacts, 1 '
        + 'contact updated.' }).waitFor();
    assert.equal(await report.locator('.import-capped').textContent(),
                 '1 contact reached 50 tags, the most a contact can have: '
                 + 'some of its tags in the file were not added.');
    assert.ok(!await report.evaluate((el) =>
        el.classList.contains('problem')), 'the import is no failure');
    const stored = await call(`/api/v1/contacts?q=${full.slice(2)}`);
    assert.equal(stored.items[0].tags.length, 50);
});

test('a search the server ends after 20,000 contacts with none found yet '
     + 'goes on by itself, saying it is searching, to the one it finds',
     async () => {
    const sql = (q) => promisify(execFile)(sqlite3Path,
        ['-cmd', '.timeout 5000', ctx.cluster.storePath, q]);
    // the whole list shown, which takes him in live (a search shown
    // would be read again, as the routes below would see)
    await openContacts();
    await page.getByLabel('Search contacts').fill('');
    const zb = await call('/api/v1/contacts', { method: 'POST',
        body: { phone: uniqueNumber(), name: 'Zbigniew Nowak' } });
    await rows().filter({ hasText: 'Zbigniew Nowak' }).waitFor();
    // 20,050 nameless contacts newer than him: "zb" (too short for the
    // name index) is checked on each, 20,000 a page, so the first page
    // ends empty with a cursor
    const block = `+1444${String(Math.floor(Math.random() * 100))
        .padStart(2, '0')}`;
    await sql('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 '
        + 'FROM n WHERE i < 20050) '
        + 'INSERT INTO contacts (org_id, phone, created_at) '
        + `SELECT z.org_id, '${block}' || printf('%05d', i), `
        + `z.created_at + i FROM n, contacts z WHERE z.id = ${zb.id}`);
    const first = await call('/api/v1/contacts?q=zb&limit=50');
    assert.equal(first.items.length, 0);
    assert.equal(typeof first.next_cursor, 'string');

    const reads = [];
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    const search = (url) => url.pathname === '/api/v1/contacts'
        && url.searchParams.get('q') === 'zb';
    await page.route(search, async (route) => {
        const url = new URL(route.request().url());
        reads.push(url.searchParams.get('cursor'));
        const answer = await route.fetch();
        if (url.searchParams.has('cursor')) {
            await released;
        }
        await route.fulfill({ response: answer });
    });
    try {
        await openContacts();
        await rows().first().waitFor();
        await page.getByLabel('Search contacts').fill('zb');
        // the page that ended empty is followed, nothing clicked
        await page.waitForFunction(() => document.getElementById(
            'contacts-status').textContent === 'Searching\u2026');
        assert.equal(await rows().count(), 0);
        assert.equal(await page.locator('#contacts-more').isVisible(),
                     false);
        release();
        await rows().filter({ hasText: 'Zbigniew Nowak' }).waitFor();
        assert.deepEqual(await rowNames(), ['Zbigniew Nowak']);
        assert.equal(await page.locator('#contacts-status').textContent(),
                     '');
        assert.deepEqual(reads, [null, first.next_cursor]);
    } finally {
        release();
        await page.unroute(search);
        await page.getByLabel('Search contacts').fill('');
        await sql(`DELETE FROM contacts WHERE phone LIKE '${block}%'`);
    }
});

test('Add contact pressed twice makes one POST; a server that cannot be '
     + 'reached is said next to the form, without a script error',
     async () => {
    await openContacts();
    const form = page.locator('#new-contact-form');
    const add = form.getByRole('button', { name: 'Add contact' });
    const isAdd = (url) => url.pathname === '/api/v1/contacts';
    let posts = 0;
    let release;
    const pressed = new Promise((resolve) => { release = resolve; });
    await page.route(isAdd, async (route) => {
        if (route.request().method() !== 'POST') {
            await route.fallback();
            return;
        }
        posts += 1;
        await pressed;
        await route.continue();
    });
    const gus = uniqueNumber();
    try {
        await page.getByRole('button', { name: 'Add contact' }).first()
            .click();
        await page.locator('#new-contact-phone').fill(gus);
        await page.locator('#new-contact-name').fill('Gus Twice');
        await add.click();
        // busy (aria-disabled), still pressable: pressed, and Enter
        await add.click({ force: true });
        await page.locator('#new-contact-name').press('Enter');
        await page.waitForTimeout(300);
        release();
        await page.locator('#contacts-status',
                           { hasText: 'Added Gus Twice.' }).waitFor();
        await page.waitForTimeout(300);
        assert.equal(posts, 1, 'one POST');
        assert.equal(await page.locator('#new-contact-error').textContent(),
                     '');
    } finally {
        release();
        await page.unroute(isAdd);
    }

    const errorsBefore = web.pageErrors.length;
    await page.route(isAdd, (route) => (route.request().method() === 'POST'
        ? route.abort('connectionrefused') : route.fallback()));
    try {
        await page.getByRole('button', { name: 'Add contact' }).first()
            .click();
        await page.locator('#new-contact-phone').fill(uniqueNumber());
        await add.click();
        await page.locator('#new-contact-error', { hasText: 'The server '
            + 'could not be reached. Try again.' }).waitFor();
        await page.waitForTimeout(200);
        assert.deepEqual(web.pageErrors.slice(errorsBefore), []);
        assert.ok(await form.isVisible(), 'the form kept');
        assert.equal(await add.getAttribute('aria-disabled'), 'false');
    } finally {
        await page.unroute(isAdd);
    }
    await page.locator('#new-contact-close').click();
});

test('the list follows live events: a STOP, new tags and a new name '
     + 'show in the contact\'s row, which keeps the focus', async () => {
    const fay = { phone: uniqueNumber(), name: 'Fay Field' };
    fay.contact = await call('/api/v1/contacts', { method: 'POST',
        body: { phone: fay.phone, name: fay.name, tags: ['spring'] } });
    await page.getByRole('link', { name: 'Inbox' }).click();
    await openContacts();
    const row = rows().filter({ has: page.locator('.contact-phone',
        { hasText: shown(fay.phone) }) });
    await row.waitFor();
    assert.equal(await row.locator('.contact-opted-out').count(), 0);
    await row.focus();

    await deliverInbound(ctx.cluster, { from: fay.phone, body: 'STOP' });
    await row.locator('.contact-opted-out', { hasText: 'Opted out' })
        .waitFor();
    // the contact whole: its tags stay
    assert.deepEqual(await row.locator('.tag').allTextContents(),
                     ['spring']);

    await call(`/api/v1/contacts/${fay.contact.id}`, { method: 'PATCH',
        body: { tags: ['spring', 'donor'] } });
    await page.waitForFunction((phone) => {
        const b = [...document.querySelectorAll('#contacts-list '
            + '.contact-row')].find((el) => el.querySelector(
            '.contact-phone') && el.querySelector('.contact-phone')
            .textContent === phone);
        return b && [...b.querySelectorAll('.tag')].map((t) =>
            t.textContent).join() === 'spring,donor';
    }, shown(fay.phone));

    await call(`/api/v1/contacts/${fay.contact.id}`, { method: 'PATCH',
        body: { name: 'Fay Fielding' } });
    await row.locator('.contact-name', { hasText: 'Fay Fielding' })
        .waitFor();
    assert.ok(await row.evaluate((el) => el === document.activeElement),
              'the row keeps the focus');
    assert.equal(await row.locator('.contact-opted-out').textContent(),
                 'Opted out');
});

test('contacts made elsewhere (a colleague\'s Add contact, an import of '
     + 'new numbers) show in the list shown, newest first, the focused row '
     + 'keeping the focus; a tag chosen shows only those with it; one '
     + 'added here is listed once, its event come first', async () => {
    await page.getByRole('link', { name: 'Inbox' }).click();
    await openContacts();
    const first = rows().first();
    await first.waitFor();
    const id = await first.getAttribute('data-id');
    const focused = page.locator(
        `#contacts-list .contact-row[data-id="${id}"]`);
    await focused.focus();
    const count = await rows().count();

    // a colleague adds one
    await call('/api/v1/contacts', { method: 'POST',
        body: { phone: uniqueNumber(), name: 'Hal Hart', tags: ['donor'] } });
    await rows().first().locator('.contact-name', { hasText: 'Hal Hart' })
        .waitFor();
    assert.deepEqual(await rows().first().locator('.tag').allTextContents(),
                     ['donor']);

    // an import of two new numbers: the later line the newer contact
    await importContactsCsv(ctx.cluster, org().token, 'phone,name\n'
        + `${uniqueNumber()},Ida Imported\n${uniqueNumber()},Jo Imported\n`);
    await page.waitForFunction((n) => document.querySelectorAll(
        '#contacts-list .contact-row').length === n, count + 3);
    assert.deepEqual((await rowNames()).slice(0, 4),
        ['Jo Imported', 'Ida Imported', 'Hal Hart',
         await focused.locator('.contact-name').textContent()]);
    assert.ok(await focused.evaluate((el) => el === document.activeElement),
              'the row keeps the focus');
    assert.equal(await page.locator('#contacts-status').textContent(), '');

    // the tag "vip" chosen: a new contact without it stays out, one with
    // it joins, and the tag's count follows
    const vipOption = (n) => page.waitForFunction((text) => document
        .querySelector('#contacts-tag option[value="vip"]')
        .textContent === text, `vip (${n})`);
    await page.locator('#contacts-tag').selectOption('vip');
    await page.waitForFunction(() => document.getElementById(
        'contacts-status').textContent === '');
    const vips = await rows().count();
    await vipOption(vips);
    await call('/api/v1/contacts', { method: 'POST',
        body: { phone: uniqueNumber(), name: 'Kit Plain' } });
    await call('/api/v1/contacts', { method: 'POST',
        body: { phone: uniqueNumber(), name: 'Lu Vip', tags: ['VIP'] } });
    await rows().first().locator('.contact-name', { hasText: 'Lu Vip' })
        .waitFor();
    await vipOption(vips + 1);
    assert.equal(await rows().count(), vips + 1);
    assert.equal(await rows().filter({ hasText: 'Kit Plain' }).count(), 0);
    await page.locator('#contacts-tag').selectOption('');
    await rows().filter({ hasText: 'Kit Plain' }).waitFor();

    // this browser's own, its event come before its answer: one row
    const isAdd = (url) => url.pathname === '/api/v1/contacts';
    const mine = rows().filter({ hasText: 'Max Mine' });
    await page.route(isAdd, async (route) => {
        if (route.request().method() !== 'POST') {
            await route.fallback();
            return;
        }
        const answer = await route.fetch();
        await mine.waitFor();
        await route.fulfill({ response: answer });
    });
    try {
        await page.getByRole('button', { name: 'Add contact' }).first()
            .click();
        await page.locator('#new-contact-phone').fill(uniqueNumber());
        await page.locator('#new-contact-name').fill('Max Mine');
        await page.locator('#new-contact-form').getByRole('button',
            { name: 'Add contact' }).click();
        await page.locator('#contacts-status',
                           { hasText: 'Added Max Mine.' }).waitFor();
        assert.equal(await mine.count(), 1);
    } finally {
        await page.unroute(isAdd);
    }
});

test('a text from a new number adds its contact to the list shown, '
     + 'first, without the list read again, the focused row keeping the '
     + 'focus', async () => {
    await page.getByRole('link', { name: 'Inbox' }).click();
    await openContacts();
    const first = rows().first();
    await first.waitFor();
    await page.waitForFunction(() => document.getElementById(
        'contacts-status').textContent === '');
    const id = await first.getAttribute('data-id');
    const focused = page.locator(
        `#contacts-list .contact-row[data-id="${id}"]`);
    await focused.focus();
    const count = await rows().count();

    const reads = [];
    const onRequest = (req) => {
        const url = new URL(req.url());
        if (url.pathname === '/api/v1/contacts' && req.method() === 'GET') {
            reads.push(url.search);
        }
    };
    page.on('request', onRequest);
    try {
        const phone = uniqueNumber();
        await deliverInbound(ctx.cluster, { from: phone,
            body: 'Is the garden open on Sunday?' });
        const row = rows().first();
        await row.locator('.contact-name', { hasText: shown(phone) })
            .waitFor();
        assert.equal(await rows().count(), count + 1);
        assert.equal(await row.locator('.tag').count(), 0);
        assert.equal(await row.locator('.contact-opted-out').count(), 0);
        assert.ok(await focused.evaluate(
            (el) => el === document.activeElement), 'the row keeps the focus');
        assert.deepEqual(reads, [], 'the list was not read again');

        // chosen, it opens the thread its text made
        await row.click();
        await page.locator('#messages .message',
                           { hasText: 'Is the garden open on Sunday?' })
            .waitFor();
    } finally {
        page.off('request', onRequest);
    }
});

test('an import made elsewhere that changes many contacts '
     + '(contacts.imported) shows in the list shown, the focused row '
     + 'keeping the focus', async () => {
    const phones = Array.from({ length: 55 }, () => uniqueNumber());
    const csv = (name) => ['phone,name', ...phones.map((p, i) =>
        `${p},${name} ${i}`)].join('\n') + '\n';
    const importCsv = (text) => importContactsCsv(ctx.cluster,
        org().token, text);
    await importAway(csv('Wave'));
    await openContacts();
    const first = rows().first();
    await first.filter({ hasText: /^Wave \d+/ }).waitFor();
    const id = await first.getAttribute('data-id');
    await first.focus();

    // a colleague's import renames them all: past the 50 a batch names
    // one by one, one contacts.imported says so
    await importCsv(csv('Renamed'));
    const row = page.locator(`#contacts-list .contact-row[data-id="${id}"]`);
    await row.locator('.contact-name', { hasText: /^Renamed \d+$/ })
        .waitFor();
    assert.ok(await row.evaluate((el) => el === document.activeElement),
              'the row keeps the focus');
    assert.equal(await rows().filter({ hasText: /^Wave \d/ }).count(), 0);
});

test('an import made elsewhere (contacts.imported) keeps the list as it '
     + 'was shown: its pages, its tag, the focused row where it was on '
     + 'the screen, the new contacts first', async () => {
    const lines = (prefix, n, tags) => Array.from({ length: n }, (_, i) =>
        `${uniqueNumber()},${prefix} ${i},${tags}`);
    const csv = (...parts) => ['phone,name,tags', ...parts.flat()]
        .join('\n') + '\n';
    const importCsv = (text) => importContactsCsv(ctx.cluster,
        org().token, text);
    await importAway(csv(lines('Crowd', 160, 'crowd')));
    await openContacts();
    await page.locator('#contacts-tag').selectOption('crowd');
    await rows().first().filter({ hasText: /^Crowd \d+/ }).waitFor();
    const more = page.getByRole('button', { name: 'Show more contacts' });
    for (const n of [100, 150]) {
        await more.click();
        await page.waitForFunction((count) => document.querySelectorAll(
            '#contacts-list .contact-row').length === count, n);
    }
    const ids = () => rows().evaluateAll((els) =>
        els.map((el) => el.dataset.id));
    const before = await ids();
    const row = rows().nth(119);
    const id = await row.getAttribute('data-id');
    await row.focus();
    const focused = page.locator(
        `#contacts-list .contact-row[data-id="${id}"]`);
    const at = () => focused.evaluate((el) =>
        Math.round(el.getBoundingClientRect().top));
    const top = await at();
    assert.ok(await page.locator('#contacts-view').evaluate((el) =>
        el.scrollTop > 0), 'the view scrolled to the row');
    /* what the row's place was measured against: said if it moves (this
     * has failed twice under load, 405 px off, unexplained) */
    const where = () => focused.evaluate((el) => {
        const view = document.getElementById('contacts-view');
        return JSON.stringify({
            row: Math.round(el.getBoundingClientRect().top),
            index: [...document.querySelectorAll('#contacts-list '
                + '.contact-row')].indexOf(el),
            view: Math.round(view.getBoundingClientRect().top),
            scrollTop: Math.round(view.scrollTop),
            scrollHeight: view.scrollHeight,
            clientHeight: view.clientHeight,
            windowY: window.scrollY,
            rootScroll: document.documentElement.scrollTop });
    });
    const placeBefore = await where();

    // a colleague imports 60 more of the tag and 5 without it: past the
    // 50 a batch names one by one, one contacts.imported says so
    await importCsv(csv(lines('Late', 60, 'crowd'),
                        lines('Stray', 5, 'other')));
    await page.waitForFunction(() => [...document.querySelectorAll(
        '#contacts-list .contact-name')].filter((el) =>
        /^Late \d+$/.test(el.textContent)).length === 60);
    const after = new Set(await ids());
    assert.deepEqual(before.filter((i) => !after.has(i)), [],
                     'every row shown before is still shown');
    assert.deepEqual((await rowNames()).slice(0, 60).map((n) =>
        n.replace(/\d+$/, '')), Array(60).fill('Late '));
    assert.equal(await rows().filter({ hasText: /^Stray \d/ }).count(), 0);
    assert.equal(await page.locator('#contacts-tag').inputValue(), 'crowd');
    assert.ok(await focused.evaluate((el) => el === document.activeElement),
              'the row keeps the focus');
    assert.equal(await at(), top, 'the row stays where it was: before '
                 + placeBefore + ', after ' + await where());
    await page.locator('#contacts-tag').selectOption('');
});

test('Show more pressed while the list is read again (contacts.imported) '
     + 'brings its page once the list is in: no contact lost or shown '
     + 'twice, the focus kept', async () => {
    const phones = Array.from({ length: 300 }, () => uniqueNumber());
    const lines = (name, list) => list.map((p, i) =>
        `${p},${name} ${i},queue`);
    const csv = (...parts) => ['phone,name,tags', ...parts.flat()]
        .join('\n') + '\n';
    const importCsv = (text) => importContactsCsv(ctx.cluster,
        org().token, text);
    await importAway(csv(lines('Waiting', phones)));
    await openContacts();
    await page.locator('#contacts-tag').selectOption('queue');
    await rows().first().filter({ hasText: /^Waiting \d+/ }).waitFor();
    const more = page.getByRole('button', { name: 'Show more contacts' });
    await more.click();
    await rows().nth(99).waitFor();

    // the list's next read (the one the import makes) is answered only
    // once Show more is pressed
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    let asked;
    const held = new Promise((resolve) => { asked = resolve; });
    let holding = true;
    const read = (url) => url.pathname === '/api/v1/contacts';
    await page.route(read, async (route) => {
        if (!holding || route.request().method() !== 'GET') {
            await route.fallback();
            return;
        }
        holding = false;
        asked();
        const answer = await route.fetch();
        await released;
        await route.fulfill({ response: answer });
    });
    try {
        // a colleague renames the 300 and adds 60 more of the tag: one
        // contacts.imported says so
        await importCsv(csv(lines('Called', phones), lines('Called new',
            Array.from({ length: 60 }, () => uniqueNumber()))));
        await held;
        await more.click();
        release();
        // read again: the 60 new first and on to the 100th row of before
        // (pages of 100, 50 and 50: 200 rows), then Show more's 50
        await page.waitForFunction(() => {
            const shown = [...document.querySelectorAll(
                '#contacts-list .contact-name')].map((n) => n.textContent);
            return shown.length === 250
                && shown.every((n) => /^Called /.test(n));
        });
        const ids = await rows().evaluateAll((els) =>
            els.map((el) => el.dataset.id));
        const first = await call('/api/v1/contacts?tag=queue&limit=200');
        const next = await call('/api/v1/contacts?tag=queue&limit=50'
            + `&cursor=${encodeURIComponent(first.next_cursor)}`);
        assert.deepEqual(ids, [...first.items, ...next.items].map((c) =>
            c.id), 'the 250 first, once each, in order');
        assert.ok(await more.evaluate((el) => el === document.activeElement),
                  'Show more keeps the focus');
    } finally {
        release();
        await page.unroute(read);
        await page.locator('#contacts-tag').selectOption('');
    }
});

test('at 390 px a contact chosen opens its record as a sheet over its '
     + 'thread; Back closes the sheet, then the thread, then shows '
     + 'Contacts again', async () => {
    // the newest, so on the first page
    await call('/api/v1/contacts', { method: 'POST',
        body: { phone: uniqueNumber(), name: 'Nia Narrow' } });
    const narrow = await web.newPage({ width: 390, height: 800 });
    try {
        await signIn(narrow, ctx.cluster, USER);
        await narrow.getByRole('link', { name: 'Contacts' }).click();
        await narrow.locator('#contacts-list .contact-row',
                             { hasText: 'Nia Narrow' }).click();
        const panel = narrow.locator('#contact-panel');
        const title = narrow.locator('#thread-title');
        await panel.getByLabel('Name').waitFor();
        assert.equal(await panel.getByLabel('Name').inputValue(),
                     'Nia Narrow');
        assert.equal(await title.isVisible(), true, 'the thread\'s header '
                     + 'above the sheet says whose it is');
        assert.match(await title.textContent(), /Nia Narrow/);

        await narrow.goBack();
        await panel.waitFor({ state: 'hidden' });
        assert.equal(await title.isVisible(), true,
                     'the first Back closed more than the sheet');
        await narrow.goBack();
        await title.waitFor({ state: 'hidden' });
        await narrow.goBack();
        await narrow.locator('#contacts-view').waitFor();
        assert.equal(new URL(narrow.url()).hash, '#contacts');
    } finally {
        await narrow.context().close();
    }
});

test('at 390 px the Contacts view fits the screen', async () => {
    const narrow = await web.newPage({ width: 390, height: 800 });
    try {
        await signIn(narrow, ctx.cluster, USER);
        await narrow.getByRole('link', { name: 'Contacts' }).click();
        await narrow.locator('#contacts-list .contact-row').first()
            .waitFor();
        const wide = await narrow.evaluate(() =>
            document.documentElement.scrollWidth
            > document.documentElement.clientWidth);
        assert.equal(wide, false, 'the page scrolls sideways');
    } finally {
        await narrow.context().close();
    }
});

noPageErrorsTest(web);
errorLogIsCleanTest(ctx, web.close);
