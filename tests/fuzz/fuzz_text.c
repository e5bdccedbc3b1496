/*
 * Fuzz target: a message's or a person's text, through every rule that
 * reads it: phone numbers, SMS segments and the body check, opt-out and
 * other keywords, UTF-8 repair, folding and search, a poll's answer.
 */
#include <inbox/fold.h>
#include <inbox/keywords.h>
#include <inbox/optout.h>
#include <inbox/phone.h>
#include <inbox/poll.h>
#include <inbox/search.h>
#include <inbox/segments.h>
#include <inbox/utf8.h>
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               *s, *repaired;
    char                phone[INBOX_PHONE_MAX], folded[64];
    char                keyword[INBOX_KEYWORD_MAX], search_out[512];
    size_t              repaired_len;
    inbox_error_t       err;
    inbox_search_t      search;
    inbox_segments_t    segments;

    static const char  *options[] = { "Yes", "No", "Maybe later",
                                      "caf\xc3\xa9" };

    s = fuzz_string(data, size);
    if (s == NULL) {
        return 0;
    }

    (void) inbox_phone_normalize(s, size, "US", phone, &err);
    (void) inbox_phone_normalize(s, size, "GB", phone, &err);
    (void) inbox_phone_normalize_typed(s, size, "GB", phone, &err);
    (void) inbox_phone_normalize_typed(s, size, "MX", phone, &err);

    inbox_segments_count(s, size, &segments);
    (void) inbox_message_check(s, size, 0, &err);
    (void) inbox_keyword_match(s, size, NULL);
    inbox_opt_keyword(s, keyword);

    repaired = inbox_utf8_repair(s, size, &repaired_len);
    free(repaired);
    (void) inbox_utf8_valid(s, size);
    (void) inbox_utf8_length(s, size);
    (void) inbox_text_fold(s, size, folded, sizeof(folded));

    /* a search is at most a few hundred bytes: the API refuses more */
    if (size < 200) {
        (void) inbox_search_parse(s, NULL, &search);
        (void) inbox_search_parse(s, "MX", &search);
        (void) inbox_search_key(s, search_out, sizeof(search_out));
    }

    (void) inbox_poll_answer(s, size, options, 4);

    free(s);
    return 0;
}
