/*
 * Preloaded into the sender by a test (LD_PRELOAD): once the file
 * INBOX_TEST_STOP_FILE names exists, libcurl's curl_multi_poll removes
 * it as it returns and stops the process (SIGSTOP), so that the test
 * acts between the sender's wait and what it does with what the wait
 * brought; SIGCONT goes on from there.  Without the file, libcurl's own.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <curl/curl.h>

typedef CURLMcode (*poll_pt)(CURLM *multi, struct curl_waitfd *extra,
    unsigned int nextra, int timeout_ms, int *numfds);


CURLMcode
curl_multi_poll(CURLM *multi, struct curl_waitfd *extra, unsigned int nextra,
    int timeout_ms, int *numfds)
{
    CURLMcode       rc;
    const char     *file;
    static poll_pt  real;

    if (real == NULL) {
        *(void **) &real = dlsym(RTLD_NEXT, "curl_multi_poll");
        if (real == NULL) {
            return CURLM_INTERNAL_ERROR;
        }
    }

    rc = real(multi, extra, nextra, timeout_ms, numfds);

    file = getenv("INBOX_TEST_STOP_FILE");
    if (file != NULL && unlink(file) == 0) {
        raise(SIGSTOP);
    }

    return rc;
}
