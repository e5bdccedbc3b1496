// The phone page: a person texts the inbox as a contact and sees its
// replies arrive, their ticks moving.  Plain DOM, live through the
// simulator's Server-Sent Events.  Opened from another machine, the
// simulator shows it one contact's messages at a time and refuses the
// carrier tricks (config.local false).
'use strict';

const $ = (id) => document.getElementById(id);
const E164 = /^\+[1-9]\d{6,14}$/;
const messages = new Map();
let config = null;
let attached = null;
let stream = null;

async function call(path, { method = 'GET', body } = {}) {
    const res = await fetch(path, {
        method,
        headers: body === undefined ? {}
            : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
        throw new Error(json.error?.message || `${res.status}`);
    }
    return json;
}

const contact = () => $('contact').value.trim();
const business = () => $('number').value;
// Whether the simulator answers us for the contact: always on its own
// machine, for a well-formed number elsewhere.
const answered = () => config.local || E164.test(contact());
const scope = () => (config.local ? ''
    : `?contact=${encodeURIComponent(contact())}`);

function randomContact() {
    const line = String(100 + Math.floor(Math.random() * 100)).padStart(4, '0');
    return `+1415555${line}`;
}

function inThread(m) {
    return m.direction === 'inbound'
        ? m.from === contact() && m.to === business()
        : m.to === contact() && m.from === business();
}

const FAILED = new Set(['failed', 'undelivered', 'delivery_failed',
                        'sending_failed', 'expired']);

function tick(m) {
    const span = document.createElement('span');
    span.className = 'tick';
    if (m.carrier_reply) {
        span.textContent = 'from the carrier';
        return span;
    }
    if (FAILED.has(m.status)) {
        span.classList.add('failed');
        span.textContent = `✗ ${m.status}${m.error_code ? ` (${m.error_code}`
            + `${m.error_message ? ` ${m.error_message}` : ''})` : ''}`;
    } else if (m.status === 'delivered') {
        span.classList.add('delivered');
        span.textContent = '✓✓ delivered';
    } else if (m.status === 'partially_delivered') {
        span.classList.add('delivered');
        span.textContent = '✓✓ partially delivered';
    } else if (m.status === 'sent') {
        span.textContent = '✓ sent';
    } else if (m.status === 'delivery_unconfirmed') {
        span.textContent = '✓ sent, delivery unconfirmed';
    } else {
        span.textContent = `◷ ${m.status}`;
    }
    return span;
}

function deliveryNote(m) {
    const d = m.delivery || { state: 'pending' };
    switch (d.state) {
    case 'pending':
        return 'sending to the inbox…';
    case 'delivered':
        return d.attempts > 1 ? `✓ reached the inbox (try ${d.attempts})`
            : '✓ reached the inbox';
    case 'refused':
        return `✗ the inbox answered ${d.status}`;
    default:
        return `✗ not delivered (${d.error || d.status})`;
    }
}

function bubble(m) {
    const li = document.createElement('li');
    const mine = m.direction === 'inbound';
    li.className = `msg ${mine ? 'mine' : 'theirs'}`;
    if (m.carrier_reply) {
        li.classList.add('carrier');
    }
    if (!mine && FAILED.has(m.status)) {
        li.classList.add('failed');
    }
    for (const media of m.media || []) {
        if (media.local_url && /^image\//.test(media.content_type ?? '')) {
            const img = document.createElement('img');
            img.src = media.local_url;
            img.alt = 'picture';
            li.append(img);
        } else if (media.local_url) {
            const a = document.createElement('a');
            a.className = 'file';
            a.href = media.local_url;
            a.download = '';
            a.textContent = fileName(media.content_type);
            li.append(a);
        } else {
            const p = document.createElement('span');
            p.className = 'meta';
            p.textContent = `[picture: ${media.url}]`;
            li.append(p);
        }
    }
    if (m.body) {
        li.append(document.createTextNode(m.body));
    }
    const meta = document.createElement('span');
    meta.className = 'meta';
    const at = new Date(m.created_at).toLocaleTimeString();
    if (mine) {
        meta.textContent = `${at} · ${deliveryNote(m)}`;
    } else {
        meta.append(`${at} · `, tick(m));
    }
    li.append(meta);
    return li;
}

function render() {
    const thread = $('thread');
    const list = [...messages.values()].filter(inThread)
        .sort((a, b) => a.seq - b.seq);
    thread.replaceChildren(...list.map(bubble));
    thread.scrollTop = thread.scrollHeight;
    const seen = new Set();
    for (const m of messages.values()) {
        seen.add(m.direction === 'inbound' ? m.from : m.to);
    }
    $('contacts').replaceChildren(...[...seen].map((n) => {
        const o = document.createElement('option');
        o.value = n;
        return o;
    }));
}

async function refreshSide() {
    if (!config || !answered()) {
        return;
    }
    try {
        const [rules, optouts] = await Promise.all([
            config.local ? call('/_sim/failures') : { items: [] },
            call(`/_sim/optouts${scope()}`)]);
        $('rules').replaceChildren(...rules.items.map((r) => {
            const li = document.createElement('li');
            const what = r.type === 'final_status' ? `ends ${r.outcome}`
                : r.type === 'http_error' ? `answered ${r.status}`
                : r.type === 'account_refused' ? 'account refused'
                : r.type === 'callbacks' ? [r.duplicate && 'callbacks twice',
                    r.outOfOrder && 'out of order'].filter(Boolean).join(', ')
                : 'never answered';
            li.textContent = `${r.number || 'any number'}: ${what}`
                + (r.count ? ` (${r.count} left)` : '');
            return li;
        }));
        $('blocked').hidden = !optouts.items.some(
            (o) => o.contact === contact() && o.number === business());
    } catch (e) {
        $('status').textContent = e.message;
    }
}

function showSetup() {
    const rows = [
        ['inbox', config.inbox || '(not set)'],
        ['API base', location.origin],
        ['Twilio accounts', config.twilio_accounts.join(', ') || '(none)'],
        ['Telnyx public key', config.telnyx_public_key],
    ];
    $('setup').replaceChildren(...rows.flatMap(([k, v]) => {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = v;
        return [dt, dd];
    }));
    const sel = $('number');
    const keep = sel.value || localStorage.getItem('sim.number');
    sel.replaceChildren(...config.numbers.map((n) => {
        const o = document.createElement('option');
        o.value = n.number;
        o.textContent = `${n.number} (${n.carrier})`;
        return o;
    }));
    if (keep && config.numbers.some((n) => n.number === keep)) {
        sel.value = keep;
    }
    for (const b of document.querySelectorAll('[data-trick]')) {
        b.disabled = !config.local;
    }
    $('tricks-local').hidden = config.local;
}

async function loadThread() {
    const all = answered() ? (await call(`/_sim/messages${scope()}`)).items
        : [];
    messages.clear();
    for (const m of all) {
        messages.set(m.id, m);
    }
    render();
}

// What a file that is no picture is called on the phone.
function fileName(contentType) {
    return contentType === 'text/vcard' ? 'Contact card' : 'File';
}

async function load() {
    config = await call('/_sim/phone');
    showSetup();
    const samples = await call('/_sim/samples');
    $('samples').replaceChildren(...samples.items.map((s) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.title = `Attach ${s.name}`;
        const picture = /^image\//.test(s.content_type);
        if (picture) {
            const img = document.createElement('img');
            img.src = s.url;
            img.alt = s.name;
            b.append(img);
        } else {
            b.className = 'file';
            b.textContent = fileName(s.content_type);
        }
        b.addEventListener('click', () => {
            attached = s.name;
            $('attached-img').hidden = !picture;
            $('attached-img').src = picture ? s.url : '';
            $('attached-file').hidden = picture;
            $('attached-file').textContent = picture ? ''
                : fileName(s.content_type);
            $('attached').hidden = false;
        });
        return b;
    }));
    refreshSide();
}

async function send(ev) {
    ev.preventDefault();
    const body = $('text').value;
    $('status').textContent = '';
    if (!E164.test(contact())) {
        $('status').textContent = 'Your number: + and 7 to 15 digits.';
        return;
    }
    if (!body.trim() && !attached) {
        return;
    }
    try {
        await call('/_sim/inbound', { method: 'POST', body: {
            from: contact(), to: business(), body,
            media: attached ? [attached] : [], wait: false } });
        $('text').value = '';
        attached = null;
        $('attached').hidden = true;
        refreshSide();
    } catch (e) {
        $('status').textContent = e.message;
    }
}

async function trick(kind) {
    const number = contact();
    if (kind !== 'clear' && !E164.test(number)) {
        $('status').textContent = 'Enter your number first.';
        return;
    }
    const specs = {
        http_error: { type: 'http_error', status: 503, count: 1, number },
        timeout: { type: 'timeout', count: 1, number },
        account_refused: { type: 'account_refused', count: 1, number },
        undelivered: { type: 'final_status', status: 'undelivered', number },
        none: { type: 'final_status', status: 'none', number },
        callbacks: { type: 'callbacks', duplicate: true, out_of_order: true,
                     count: 5, number },
    };
    try {
        if (kind === 'clear') {
            await call('/_sim/failures', { method: 'DELETE' });
        } else {
            await call('/_sim/failures', { method: 'POST', body: specs[kind] });
        }
    } catch (e) {
        $('status').textContent = e.message;
    }
    refreshSide();
}

// Follows the simulator's events (the contact's only, from elsewhere);
// the thread is read anew on every (re)connection, so nothing missed
// while not connected stays missing.
function follow() {
    stream?.close();
    stream = null;
    if (!answered()) {
        messages.clear();
        render();
        return;
    }
    const es = new EventSource(`/_sim/events${scope()}`);
    stream = es;
    es.addEventListener('message', (ev) => {
        const m = JSON.parse(ev.data);
        messages.set(m.id, m);
        render();
    });
    es.addEventListener('request', () => refreshSide());
    es.addEventListener('reset', () => {
        load().then(loadThread).catch((e) => {
            $('status').textContent = e.message;
        });
    });
    es.addEventListener('open', () => {
        $('status').textContent = '';
        loadThread().catch((e) => { $('status').textContent = e.message; });
    });
    es.addEventListener('error', () => {
        $('status').textContent = 'Reconnecting to the simulator…';
    });
}

$('contact').value = localStorage.getItem('sim.contact') || randomContact();
$('contact').addEventListener('change', () => {
    localStorage.setItem('sim.contact', contact());
    if (config && !config.local) {
        follow();
    }
    render();
    refreshSide();
});
$('number').addEventListener('change', () => {
    localStorage.setItem('sim.number', business());
    render();
    refreshSide();
});
$('random').addEventListener('click', () => {
    $('contact').value = randomContact();
    $('contact').dispatchEvent(new Event('change'));
});
$('composer').addEventListener('submit', send);
$('text').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        send(ev);
    }
});
$('detach').addEventListener('click', () => {
    attached = null;
    $('attached').hidden = true;
});
for (const b of document.querySelectorAll('[data-trick]')) {
    b.addEventListener('click', () => trick(b.dataset.trick));
}
localStorage.setItem('sim.contact', contact());
load().then(follow).catch((e) => { $('status').textContent = e.message; });
