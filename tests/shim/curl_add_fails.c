/*
 * Preloaded into the sender by a test (LD_PRELOAD): libcurl's
 * curl_multi_add_handle fails as when curl is out of memory, for
 * INBOX_TEST_ADD_FAILS calls (every call without it) after the first
 * INBOX_TEST_ADD_PASSES (none without it); the others go to libcurl's
 * own.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <curl/curl.h>

typedef CURLMcode (*add_handle_pt)(CURLM *multi, CURL *easy);


CURLMcode
curl_multi_add_handle(CURLM *multi, CURL *easy)
{
    long                  n, passes;
    const char           *fails, *first;
    static long           calls;
    static add_handle_pt  add;

    fails = getenv("INBOX_TEST_ADD_FAILS");
    first = getenv("INBOX_TEST_ADD_PASSES");
    passes = first != NULL ? atol(first) : 0;
    n = calls++;

    if (n >= passes && (fails == NULL || n - passes < atol(fails))) {
        return CURLM_OUT_OF_MEMORY;
    }

    if (add == NULL) {
        *(void **) &add = dlsym(RTLD_NEXT, "curl_multi_add_handle");
        if (add == NULL) {
            return CURLM_INTERNAL_ERROR;
        }
    }

    return add(multi, easy);
}
