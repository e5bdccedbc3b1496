/*
 * Times as people read them, one way everywhere (the thread list, a
 * thread, a contact's timeline, the Settings ledger): "now", "5 min" or
 * the clock time today in the list, a day's name within the week, else
 * "Dec 2" ("Dec 2, 2025" another year); a message's time is its clock
 * time today, else "Dec 2, 11:10 PM".  The full date and time is the
 * title, the instant the <time>'s datetime.
 *
 * "Today" is a day-relative word: a page left open past midnight draws
 * again at the next local midnight (one timer, armed again each day)
 * every <time> stamp() wrote, and calls what onNewDay() was given (the
 * thread list's times).
 */
'use strict';

window.inboxTimes = (function () {
    /* made once: each toLocaleString call makes a formatter anew, and
     * every row of the list writes two times */
    const formats = {
        clock: new Intl.DateTimeFormat([], { hour: 'numeric',
                                             minute: '2-digit' }),
        weekday: new Intl.DateTimeFormat([], { weekday: 'short' }),
        day: new Intl.DateTimeFormat([], { month: 'short',
                                           day: 'numeric' }),
        dayOfYear: new Intl.DateTimeFormat([], { month: 'short',
            day: 'numeric', year: 'numeric' }),
        /* toLocaleString()'s own */
        full: new Intl.DateTimeFormat([], { year: 'numeric',
            month: 'numeric', day: 'numeric', hour: 'numeric',
            minute: 'numeric', second: 'numeric' }),
    };
    const newDay = [];

    /* another year's "Dec 2" would read as this year's */
    function dayOf(when, now) {
        return (when.getFullYear() === now.getFullYear()
            ? formats.day : formats.dayOfYear).format(when);
    }

    function relative(iso) {
        const t = Date.parse(iso);
        if (Number.isNaN(t)) {
            return '';
        }
        const ago = Date.now() - t;
        const when = new Date(t);
        const now = new Date();
        if (ago < 60 * 1000) {
            return 'now';
        }
        if (ago < 60 * 60 * 1000) {
            return Math.floor(ago / 60000) + ' min';
        }
        if (when.toDateString() === now.toDateString()) {
            return formats.clock.format(when);
        }
        if (ago < 6 * 24 * 60 * 60 * 1000) {
            return formats.weekday.format(when);
        }
        return dayOf(when, now);
    }

    function full(iso) {
        const t = Date.parse(iso);
        return Number.isNaN(t) ? '' : formats.full.format(t);
    }

    /* the clock time today, else the day too */
    function at(iso) {
        const t = Date.parse(iso);
        if (Number.isNaN(t)) {
            return '';
        }
        const when = new Date(t);
        const now = new Date();
        const clock = formats.clock.format(when);
        return when.toDateString() === now.toDateString() ? clock
            : dayOf(when, now) + ', ' + clock;
    }

    /* the time of day alone, "2:05 AM" */
    function clock(iso) {
        const t = Date.parse(iso);
        return Number.isNaN(t) ? '' : formats.clock.format(t);
    }

    /* a day alone, "Jan 5, 2026" */
    function date(iso) {
        const t = Date.parse(iso);
        return Number.isNaN(t) ? '' : formats.dayOfYear.format(t);
    }

    /* A <time> showing at(iso), drawn again after midnight. */
    function stamp(time, iso) {
        time.dateTime = iso || '';
        time.textContent = at(iso);
        time.title = full(iso);
        time.classList.add('day-relative');
    }

    function midnight() {
        document.querySelectorAll('time.day-relative').forEach((time) => {
            time.textContent = at(time.dateTime);
        });
        newDay.forEach((fn) => fn());
        armMidnight();
    }

    /* the next local midnight (a day of 23 or 25 hours too); a timer
     * late (a sleeping laptop) draws late, never wrong afterwards */
    function armMidnight() {
        const now = new Date();
        const next = new Date(now.getFullYear(), now.getMonth(),
            now.getDate() + 1);
        setTimeout(midnight, next - now);
    }

    armMidnight();

    return Object.freeze({
        relative: relative,
        at: at,
        full: full,
        clock: clock,
        date: date,
        stamp: stamp,
        onNewDay: (fn) => newDay.push(fn),
    });
}());
