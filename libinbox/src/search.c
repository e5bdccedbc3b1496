/*
 * What a conversation search matches (see <inbox/search.h>).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>
#include <inbox/fold.h>
#include <inbox/phone.h>
#include <inbox/search.h>


/*
 * inbox_search_separator's ASCII characters, a bit each, for the quick
 * way (a lookup of ICU's a character made the key five times slower):
 * \t to \r, space, !"#%&'()*,-./:;?@[\]^_`{} (test_search checks that
 * ICU says the same of every ASCII character).
 */
#define INBOX_SEARCH_ASCII_LOW   0x8c00f7ef00003e00ULL
#define INBOX_SEARCH_ASCII_HIGH  0x28000001f8000001ULL
#define INBOX_SEARCH_ASCII_SEPARATOR(c)                                      \
    ((c) < 64 ? (INBOX_SEARCH_ASCII_LOW >> (c)) & 1                          \
              : (INBOX_SEARCH_ASCII_HIGH >> ((c) - 64)) & 1)


static void inbox_search_visible(const char *q, size_t len, char *out);
static int inbox_search_numeric(const char *q);
static int inbox_search_words(const char *q, inbox_search_t *s);
static void inbox_search_dialled(const char *q, const char *digits,
    const char *country, char *dialled);
static int inbox_search_key_ascii(const char *name, size_t len, char *out,
    size_t size);
static int inbox_search_separator(UChar32 c);


int
inbox_search_parse(const char *q, const char *country, inbox_search_t *s)
{
    char    visible[INBOX_SEARCH_MAX];
    size_t  len;

    memset(s, 0, sizeof(inbox_search_t));

    if (q == NULL || q[0] == '\0') {
        return 0;
    }

    len = strlen(q);
    if (len >= INBOX_SEARCH_MAX) {
        return -1;
    }

    inbox_search_visible(q, len, visible);

    if (visible[0] == '\0') {
        /* a zero-width space alone: nothing to look for */
        return 0;
    }

    q = visible;
    len = strlen(q);

    if (inbox_search_key(q, s->name, sizeof(s->name)) < 0) {
        s->name[0] = '\0';
        return -1;
    }

    if (s->name[0] == '\0') {
        /* only white space and punctuation: a search all the same, for
         * a space, which no name's key holds */
        strcpy(s->name, " ");
    }

    /* "Suite 4" looks for a name, not for every number with a 4 */
    if (inbox_search_numeric(q)) {
        inbox_phone_digits(q, len, s->digits, sizeof(s->digits));
        inbox_search_dialled(q, s->digits, country, s->dialled);

    } else if (inbox_search_words(q, s) != 0) {
        s->name[0] = '\0';
        return -1;
    }

    s->indexed = inbox_search_chars(s->name) >= INBOX_SEARCH_INDEX_MIN
                 && (s->nwords == 0 || s->checked < s->nwords)
                 && (s->digits[0] == '\0'
                     || strlen(s->digits) >= INBOX_SEARCH_INDEX_MIN)
                 && (s->dialled[0] == '\0'
                     || strlen(s->dialled) >= INBOX_SEARCH_INDEX_MIN);

    return 0;
}


/*
 * q (len bytes, fewer than INBOX_SEARCH_MAX) into out without its
 * invisible characters: format characters (Cf: zero-width spaces and
 * joiners, U+2060, U+FEFF, the direction marks a number copied from a
 * page carries) and the others Unicode says to ignore, which folding
 * drops from names anyway.  Bytes that are not UTF-8 are kept.
 */
static void
inbox_search_visible(const char *q, size_t len, char *out)
{
    size_t   n;
    int32_t  i, start;
    UChar32  c;

    n = 0;

    for (i = 0; i < (int32_t) len; /* void */) {
        start = i;
        U8_NEXT(q, i, (int32_t) len, c);

        if (c >= 0
            && (u_charType(c) == U_FORMAT_CHAR
                || u_hasBinaryProperty(c,
                                       UCHAR_DEFAULT_IGNORABLE_CODE_POINT)))
        {
            continue;
        }

        memcpy(out + n, q + start, (size_t) (i - start));
        n += (size_t) (i - start);
    }

    out[n] = '\0';
}


/*
 * q's words (parted at white space) into s->words, the key of each with
 * one (not "-" alone), when two or more have one; how many are short.
 */
static int
inbox_search_words(const char *q, inbox_search_t *s)
{
    int      n;
    char     word[INBOX_SEARCH_MAX];
    char    *p;
    size_t   room;
    int32_t  i, start, end, len;
    UChar32  c;

    len = (int32_t) strlen(q);
    p = s->words;
    room = sizeof(s->words);

    for (i = 0; i < len; /* void */) {
        start = i;
        U8_NEXT(q, i, len, c);

        if (c >= 0 && u_isUWhiteSpace(c)) {
            continue;
        }

        /* the word: up to the next white space */
        for (end = i; i < len; end = i) {
            U8_NEXT(q, i, len, c);

            if (c >= 0 && u_isUWhiteSpace(c)) {
                break;
            }
        }

        memcpy(word, q + start, (size_t) (end - start));
        word[end - start] = '\0';

        n = inbox_search_key(word, p, room);
        if (n < 0) {
            return -1;
        }

        if (n == 0) {
            continue;
        }

        s->nwords++;
        s->checked += inbox_search_chars(p) < INBOX_SEARCH_INDEX_MIN;
        p += n + 1;
        room -= (size_t) n + 1;
    }

    if (s->nwords < 2) {
        /* one word: its key is name */
        memset(s->words, 0, sizeof(s->words));
        s->nwords = 0;
        s->checked = 0;
    }

    return 0;
}


/* Whether q is a number as people write one: digits, and only the
 * signs and spaces around them ("+44 (0)20 7946-0958"), perhaps as a
 * link gives it ("tel:+1-555-98"). */
static int
inbox_search_numeric(const char *q)
{
    q += strspn(q, " \t");

    if (strncasecmp(q, "tel:", 4) == 0) {
        q += 4;
    }

    return q[strspn(q, "0123456789+-(). /\t")] == '\0';
}


/*
 * The digits as E.164 has them of a number that may be its first digits
 * only (phone.h's rules for a part): after a dialling prefix, "011" (North
 * America's way out), else every leading "0" (a trunk "0", or "00" out
 * of most countries); an international number without the trunk "0" or
 * the retired prefix written after its country code ("+44 020 7946",
 * "0044 (0)20", "+52 1 55 12"); a national one, as written in country,
 * without the prefix its country retired, and with its country code
 * then ("1 55 12" in MX: 525512).  "" when that is the number as typed,
 * or too short to look up.
 */
static void
inbox_search_dialled(const char *q, const char *digits,
    const char *country, char *dialled)
{
    size_t       ccl, skip;
    const char  *rest, *code;
    int          international;

    rest = digits;
    international = strchr(q, '+') != NULL;

    if (strncmp(rest, "011", 3) == 0) {
        rest += 3;
        international = 1;

    } else {
        international |= strncmp(rest, "00", 2) == 0;

        while (*rest == '0') {
            rest++;
        }
    }

    ccl = 0;
    code = "";
    skip = 0;

    if (international) {
        skip = inbox_phone_prefix_after_code(rest, strlen(rest), &ccl);

    } else if (rest == digits) {
        skip = inbox_phone_retired_national(country, rest, strlen(rest),
                                            &code);
    }

    if (skip > 0) {
        snprintf(dialled, INBOX_SEARCH_MAX, "%s%.*s%s", code, (int) ccl,
                 rest, rest + ccl + skip);

    } else if (rest != digits) {
        strcpy(dialled, rest);

    } else {
        dialled[0] = '\0';
    }

    if (strlen(dialled) < INBOX_SEARCH_INDEX_MIN) {
        dialled[0] = '\0';
    }
}


int
inbox_search_matches(const inbox_search_t *s, const char *name,
    const char *phone)
{
    int          i;
    char         key[INBOX_FOLD_MAX];
    const char  *word;

    if (s->name[0] == '\0') {
        return 1;
    }

    /* an E.164 number is "+" and its digits */
    if (phone != NULL && phone[0] == '+') {
        phone++;
    }

    if (phone != NULL && s->digits[0] != '\0'
        && (strstr(phone, s->digits) != NULL
            || (s->dialled[0] != '\0' && strstr(phone, s->dialled) != NULL)))
    {
        return 1;
    }

    if (name == NULL || inbox_search_key(name, key, sizeof(key)) < 0) {
        return 0;
    }

    if (strstr(key, s->name) != NULL) {
        return 1;
    }

    /* every word, in any order */
    for (i = 0, word = s->words; i < s->nwords; i++) {
        if (strstr(key, word) == NULL) {
            return 0;
        }

        word += strlen(word) + 1;
    }

    return s->nwords > 0;
}


int
inbox_search_key(const char *name, char *out, size_t size)
{
    int      n;
    size_t   len;
    int32_t  i, start, kept;
    UChar32  c;

    len = strlen(name);

    if (len > INBOX_FOLD_BYTES_MAX) {
        return -1;
    }

    n = inbox_search_key_ascii(name, len, out, size);
    if (n >= 0) {
        return n;
    }

    n = inbox_text_fold_plain(name, len, out, size);
    if (n < 0) {
        return -1;
    }

    /* what folding leaves of the separators goes, in place: the key
     * only ever shortens */
    kept = 0;

    for (i = 0; i < n; /* void */) {
        start = i;
        U8_NEXT(out, i, n, c);

        if (c >= 0 && inbox_search_separator(c)) {
            continue;
        }

        memmove(out + kept, out + start, (size_t) (i - start));
        kept += i - start;
    }

    out[kept] = '\0';

    return (int) kept;
}


/*
 * What a name's key leaves out (search.h): white space, punctuation
 * (every P category: apostrophes, hyphens and dashes, periods, commas,
 * brackets, quotes, middle dots), the modifier symbols typed for an
 * apostrophe or an accent ("`", "\u00b4", "^") and what folding makes of
 * them (a combining mark; never one part of its letter, fold.h's: a
 * kana's voicing mark, an Indic script's), and the modifier letter
 * apostrophe U+02BC.
 */
static int
inbox_search_separator(UChar32 c)
{
    uint32_t  gc;

    gc = U_GET_GC_MASK(c);

    return c == 0x02BC || u_isUWhiteSpace(c)
           || (gc & (U_GC_P_MASK | U_GC_SK_MASK)) != 0
           || ((gc & U_GC_MN_MASK) != 0 && !inbox_fold_letter_mark(c));
}


/*
 * An ASCII name's key as the long way makes it (NFKC_Casefold leaves
 * ASCII but its capitals alone): lower case, without the separators.
 * -1, leaving the work to ICU, when the name is not ASCII or out is too
 * small.
 */
static int
inbox_search_key_ascii(const char *name, size_t len, char *out,
    size_t size)
{
    size_t         i, n;
    unsigned char  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) name[i];

        if (c >= 0x80) {
            return -1;
        }

        if (INBOX_SEARCH_ASCII_SEPARATOR(c)) {
            continue;
        }

        if (n + 1 >= size) {
            return -1;
        }

        out[n++] = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
    }

    if (size == 0) {
        return -1;
    }

    out[n] = '\0';

    return (int) n;
}


size_t
inbox_search_chars(const char *s)
{
    size_t  n;

    for (n = 0; *s; s++) {
        n += ((unsigned char) *s & 0xc0) != 0x80;
    }

    return n;
}
