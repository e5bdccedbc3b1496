/*
 * Whether the realtime socket still works.  A socket can die without a
 * close event: the laptop slept, the Wi-Fi changed, a NAT forgot the
 * connection, the server hangs.  Nothing arrives then, and the browser
 * says nothing for many minutes.  ws-server sends every socket something
 * at least every ping_secs (its hello says how many: {"type":"ping"}
 * when nothing else went), so a socket that brought nothing for twice
 * that and a little more is taken for dead.
 *
 * One timer, set for when the silence would pass the bound and moved on
 * when it fires early: a frame only notes the time, so a busy stream
 * costs nothing.  Times are the wall clock's: a machine that slept finds
 * the bound passed as it wakes, however late its timers fire.
 *
 * Used by app.js: window.inboxLiveness.watch(onSilent).
 */
'use strict';

window.inboxLiveness = (function () {
    /* a ping late by network or a busy tab is no death */
    const SLACK_MS = 5000;
    /* ws-server's default, until a hello says */
    const DEFAULT_PING_SECS = 30;

    const boundOf = (pingSecs) => 2 * pingSecs * 1000 + SLACK_MS;

    /* A watch over one socket at a time: onSilent() is called once when
     * the socket started last brought nothing for the bound. */
    function watch(onSilent) {
        let bound = boundOf(DEFAULT_PING_SECS);
        let heardAt = 0;
        let watching = false;
        let timer = null;

        function arm(ms) {
            clearTimeout(timer);
            timer = setTimeout(check, Math.max(0, ms));
        }

        function check() {
            timer = null;
            if (!watching) {
                return;
            }
            const left = heardAt + bound - Date.now();
            if (left > 0) {
                arm(left);
                return;
            }
            watching = false;
            onSilent();
        }

        return {
            /* a new socket, not open yet: it must bring its hello
             * within the bound too (a server that hangs accepts and
             * says nothing) */
            start() {
                heardAt = Date.now();
                watching = true;
                arm(bound);
            },
            /* a frame came, whatever it was */
            heard() {
                heardAt = Date.now();
            },
            /* the hello's ping_secs; a server that names none sends
             * nothing to time, and its socket is not watched */
            expect(pingSecs) {
                if (typeof pingSecs === 'number' && pingSecs > 0) {
                    bound = boundOf(pingSecs);
                    arm(heardAt + bound - Date.now());
                } else {
                    this.stop();
                }
            },
            stop() {
                watching = false;
                clearTimeout(timer);
                timer = null;
            },
            /* how long a socket may be silent, in ms */
            bound() {
                return bound;
            },
        };
    }

    return { watch };
})();
