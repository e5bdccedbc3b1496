/*
 * Preloaded into the sender by a test (LD_PRELOAD): once the file
 * INBOX_TEST_STOP_FILE names exists, libcurl's curl_multi_poll removes
 * it as it returns and stops the process (SIGSTOP), so that the test
 * acts between the sender's wait and what it does with what the wait
 * brought; once the file INBOX_TEST_STOP_BEFORE_FILE names exists, it
 * removes that one as it is called and stops before it waits, at the
 * end of a turn of the sender's loop, so that what comes meanwhile is
 * what the wait brings.  SIGCONT goes on from there.  Without the
 * files, libcurl's own.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <curl/curl.h>

typedef CURLMcode (*poll_pt)(CURLM *multi, struct curl_waitfd *extra,
    unsigned int nextra, int timeout_ms, int *numfds);

static void poll_stops(const char *name);


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

    poll_stops("INBOX_TEST_STOP_BEFORE_FILE");

    rc = real(multi, extra, nextra, timeout_ms, numfds);

    poll_stops("INBOX_TEST_STOP_FILE");

    return rc;
}


/* Stops the process once, when the file the variable name names exists. */
static void
poll_stops(const char *name)
{
    const char  *file;

    file = getenv(name);
    if (file != NULL && unlink(file) == 0) {
        raise(SIGSTOP);
    }
}
