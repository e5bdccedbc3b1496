/*
 * Preloaded into the sender by a test (LD_PRELOAD): once the file
 * INBOX_TEST_STOP_FILE names exists, libcurl's curl_multi_poll removes
 * it as it returns and stops the process (SIGSTOP), so that the test
 * acts between the sender's wait and what it does with what the wait
 * brought; once the file INBOX_TEST_STOP_BEFORE_FILE names exists, it
 * removes that one as it is called and stops before it waits, at the
 * end of a turn of the sender's loop, so that what comes meanwhile is
 * what the wait brings, saying first on stderr (the sender's log) how
 * long that wait is to be ("poll_stops: stopped before a wait of N ms").
 * SIGCONT goes on from there.  Without the files, libcurl's own.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <curl/curl.h>

typedef CURLMcode (*poll_pt)(CURLM *multi, struct curl_waitfd *extra,
    unsigned int nextra, int timeout_ms, int *numfds);

static void poll_stops(const char *name, int before, int timeout_ms);


CURLMcode
curl_multi_poll(CURLM *multi, struct curl_waitfd *extra, unsigned int nextra,
    int timeout_ms, int *numfds)
{
    CURLMcode       rc;
    static poll_pt  real;

    if (real == NULL) {
        *(void **) &real = dlsym(RTLD_NEXT, "curl_multi_poll");
        if (real == NULL) {
            return CURLM_INTERNAL_ERROR;
        }
    }

    poll_stops("INBOX_TEST_STOP_BEFORE_FILE", 1, timeout_ms);

    rc = real(multi, extra, nextra, timeout_ms, numfds);

    poll_stops("INBOX_TEST_STOP_FILE", 0, timeout_ms);

    return rc;
}


/*
 * Stops the process once, when the file the variable name names exists;
 * before a wait, saying how long it is to be.
 */
static void
poll_stops(const char *name, int before, int timeout_ms)
{
    const char  *file;

    file = getenv(name);
    if (file != NULL && unlink(file) == 0) {
        if (before) {
            fprintf(stderr, "poll_stops: stopped before a wait of %d ms\n",
                    timeout_ms);
        }
        raise(SIGSTOP);
    }
}
