/*
 * The MongoDB backend: a search (search.h) as regular expressions on the
 * list's own fields, so that a search filters index keys, not documents.
 *
 * Names are stored as typed; the search is folded plain (no case, no
 * accents).  So each letter of it becomes the class of every letter
 * that folds to it: "e" is [eéèêë…], each followed by any combining
 * diacritical marks (a name stored decomposed), the match caseless
 * ("i": É is é; Cyrillic and Greek are caseless by it alone).
 * The classes are found once from ICU's decompositions of the Latin
 * letters, not written by hand.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>
#include <inbox/search.h>
#include "store_mongo.h"


/* Each ASCII letter's class: the letter, then its accented forms. */
#define INBOX_MONGO_CLASS_MAX  512

static char            inbox_mongo_letters[26][INBOX_MONGO_CLASS_MAX];
static pthread_once_t  inbox_mongo_letters_once = PTHREAD_ONCE_INIT;


static void inbox_mongo_letters_find(void);
static void inbox_mongo_letter_add(UChar32 c, const UNormalizer2 *nfd);
static char *inbox_mongo_name_pattern(const char *folded);


int
inbox_mongo_append_search(bson_t *filter, bson_t *or,
    const inbox_search_t *search, const char *name, const char *phone)
{
    char    *pattern, *digits;
    bson_t   item;

    pattern = inbox_mongo_name_pattern(search->name);

    if (search->digits[0] == '\0') {
        BSON_APPEND_REGEX(filter, name, pattern, "i");
        bson_free(pattern);
        return 0;
    }

    BSON_APPEND_DOCUMENT_BEGIN(or, "0", &item);
    BSON_APPEND_REGEX(&item, name, pattern, "i");
    bson_append_document_end(or, &item);

    BSON_APPEND_DOCUMENT_BEGIN(or, "1", &item);
    if (search->dialled[0] == '\0') {
        BSON_APPEND_REGEX(&item, phone, search->digits, "");
    } else {
        /* digits only: nothing to escape */
        digits = bson_strdup_printf("%s|%s", search->digits,
                                    search->dialled);
        BSON_APPEND_REGEX(&item, phone, digits, "");
        bson_free(digits);
    }
    bson_append_document_end(or, &item);

    bson_free(pattern);

    return 1;
}


/*
 * The folded search as a pattern, unanchored: letters as their classes,
 * an apostrophe as any of the ones fold.h makes "'", a space as any run
 * of white space, regular expressions' own characters escaped.
 */
static char *
inbox_mongo_name_pattern(const char *folded)
{
    char         *pattern, *p;
    size_t        size;
    const char   *c;

    (void) pthread_once(&inbox_mongo_letters_once, inbox_mongo_letters_find);

    size = 1;
    for (c = folded; *c; c++) {
        size += (*c >= 'a' && *c <= 'z')
                ? strlen(inbox_mongo_letters[*c - 'a']) + 32 : 16;
    }

    pattern = bson_malloc(size);

    for (p = pattern, c = folded; *c; c++) {
        if (*c >= 'a' && *c <= 'z') {
            p = stpcpy(p, "[");
            p = stpcpy(p, inbox_mongo_letters[*c - 'a']);
            p = stpcpy(p, "][\\x{300}-\\x{36f}]*");
            continue;
        }

        if (*c == '\'') {
            /* ' and U+2018, U+2019, U+02BC */
            p = stpcpy(p, "['\xe2\x80\x98\xe2\x80\x99\xca\xbc]");
            continue;
        }

        if (*c == ' ') {
            p = stpcpy(p, "\\s+");
            continue;
        }

        if (strchr("\\^$.|?*+()[]{}", *c) != NULL) {
            *p++ = '\\';
        }
        *p++ = *c;
    }
    *p = '\0';

    return pattern;
}


/* The Latin letters with marks: their decompositions name their letter. */
static void
inbox_mongo_letters_find(void)
{
    int                  i;
    UChar32              c;
    UErrorCode           status;
    const UNormalizer2  *nfd;

    for (i = 0; i < 26; i++) {
        inbox_mongo_letters[i][0] = (char) ('a' + i);
    }

    status = U_ZERO_ERROR;
    nfd = unorm2_getNFDInstance(&status);
    if (U_FAILURE(status)) {
        return;
    }

    for (c = 0x00C0; c <= 0x024F; c++) {
        inbox_mongo_letter_add(c, nfd);
    }

    for (c = 0x1E00; c <= 0x1EFF; c++) {
        inbox_mongo_letter_add(c, nfd);
    }
}


/* c into its letter's class when it is that letter and marks only. */
static void
inbox_mongo_letter_add(UChar32 c, const UNormalizer2 *nfd)
{
    char        *class;
    size_t       len;
    int32_t      n, i;
    UChar32      base, mark;
    UErrorCode   status;
    UChar        decomposed[16];

    status = U_ZERO_ERROR;
    n = unorm2_getDecomposition(nfd, c, decomposed, 16, &status);

    if (U_FAILURE(status) || n < 2) {
        return;
    }

    i = 0;
    U16_NEXT(decomposed, i, n, base);

    if (base >= 'A' && base <= 'Z') {
        base += 'a' - 'A';
    }

    if (base < 'a' || base > 'z') {
        return;
    }

    while (i < n) {
        U16_NEXT(decomposed, i, n, mark);

        if (u_charType(mark) != U_NON_SPACING_MARK) {
            return;
        }
    }

    class = inbox_mongo_letters[base - 'a'];
    len = strlen(class);

    if (len + U8_MAX_LENGTH >= INBOX_MONGO_CLASS_MAX) {
        return;
    }

    U8_APPEND_UNSAFE(class, len, c);
    class[len] = '\0';
}
