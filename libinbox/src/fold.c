/*
 * Text folded for comparison (see fold.h): ICU's NFKC_Casefold on UTF-16
 * (plain: NFD without the marks first), then white space trimmed and
 * collapsed, then UTF-8 again.
 */
#include <stdint.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <inbox/fold.h>


/* NFKC_Casefold may lengthen a text: room for three times its units. */
#define INBOX_FOLD_UNITS  (INBOX_FOLD_BYTES_MAX * 3)


static int inbox_fold(const char *s, size_t len, int plain, char *out,
    size_t size);
static int32_t inbox_fold_marks_off(UChar *text, int32_t len,
    UErrorCode *status);
static int inbox_fold_cyrillic_letter(UChar32 base, UChar32 mark);


/*
 * The scripts whose nonspacing marks are part of their letters (fold.h):
 * the Brahmic scripts of India and Southeast Asia, Tibetan's among them,
 * whose vowel signs, viramas and subjoined letters no writer leaves out.
 * web/highlight.js lists the same (its LETTER_MARK).
 */
static const UScriptCode  inbox_fold_mark_scripts[] = {
    USCRIPT_DEVANAGARI, USCRIPT_BENGALI, USCRIPT_GURMUKHI, USCRIPT_GUJARATI,
    USCRIPT_ORIYA, USCRIPT_TAMIL, USCRIPT_TELUGU, USCRIPT_KANNADA,
    USCRIPT_MALAYALAM, USCRIPT_SINHALA, USCRIPT_THAI, USCRIPT_LAO,
    USCRIPT_TIBETAN, USCRIPT_MYANMAR, USCRIPT_KHMER, USCRIPT_LANNA,
    USCRIPT_BALINESE, USCRIPT_JAVANESE, USCRIPT_SUNDANESE,
    USCRIPT_MEITEI_MAYEK, USCRIPT_CHAKMA
};


int
inbox_text_fold(const char *s, size_t len, char *out, size_t size)
{
    return inbox_fold(s, len, 0, out, size);
}


int
inbox_text_fold_plain(const char *s, size_t len, char *out, size_t size)
{
    return inbox_fold(s, len, 1, out, size);
}


int
inbox_fold_letter_mark(int32_t c)
{
    size_t       i;
    UErrorCode   status;
    UScriptCode  script;

    if (INBOX_FOLD_VOICING(c)) {
        return 1;
    }

    status = U_ZERO_ERROR;
    script = uscript_getScript(c, &status);

    if (U_FAILURE(status)) {
        return 0;
    }

    for (i = 0; i < sizeof(inbox_fold_mark_scripts)
                    / sizeof(inbox_fold_mark_scripts[0]); i++)
    {
        if (script == inbox_fold_mark_scripts[i]) {
            return 1;
        }
    }

    return 0;
}


static int
inbox_fold(const char *s, size_t len, int plain, char *out, size_t size)
{
    int32_t             src_len, dst_len, i, n, out_len;
    UChar32             c;
    UErrorCode          status;
    const UNormalizer2 *nfkc_cf;
    int                 space;
    UChar               src[INBOX_FOLD_UNITS];
    UChar               dst[INBOX_FOLD_UNITS];
    UChar               folded[INBOX_FOLD_UNITS];

    if (len > INBOX_FOLD_BYTES_MAX || size == 0 || size > INT32_MAX) {
        return -1;
    }

    status = U_ZERO_ERROR;

    /* UTF-16 is never longer in units than UTF-8 in bytes */
    u_strFromUTF8WithSub(src, INBOX_FOLD_BYTES_MAX, &src_len, s,
                         (int32_t) len, 0xFFFD, NULL, &status);

    if (plain) {
        src_len = inbox_fold_marks_off(src, src_len, &status);
    }

    nfkc_cf = unorm2_getNFKCCasefoldInstance(&status);
    dst_len = unorm2_normalize(nfkc_cf, src, src_len, dst, INBOX_FOLD_UNITS,
                               &status);

    if (U_FAILURE(status)) {
        return -1;
    }

    n = 0;
    space = 0;

    for (i = 0; i < dst_len; /* void */) {
        U16_NEXT(dst, i, dst_len, c);

        if (u_isUWhiteSpace(c)) {
            space = n > 0;
            continue;
        }

        if (space) {
            folded[n++] = ' ';
            space = 0;
        }

        /* n never passes i: each unit written was read */
        U16_APPEND_UNSAFE(folded, n, c);
    }

    u_strToUTF8(out, (int32_t) size, &out_len, folded, n, &status);

    if (U_FAILURE(status) || status == U_STRING_NOT_TERMINATED_WARNING) {
        out[0] = '\0';
        return -1;
    }

    return out_len;
}


/*
 * text (len units, room for INBOX_FOLD_UNITS) decomposed (NFD) without
 * its nonspacing marks but those part of a letter (fold.h: a kana's
 * voicing marks, an Indic script's, a Cyrillic letter's), and with
 * the typographic apostrophes a phone's keyboard puts in made ASCII
 * ones; its new length.
 */
static int32_t
inbox_fold_marks_off(UChar *text, int32_t len, UErrorCode *status)
{
    int32_t             nfd_len, i, n;
    UChar32             c, base;
    const UNormalizer2 *nfd;
    UChar               nfd_text[INBOX_FOLD_UNITS];

    nfd = unorm2_getNFDInstance(status);
    nfd_len = unorm2_normalize(nfd, text, len, nfd_text, INBOX_FOLD_UNITS,
                               status);

    if (U_FAILURE(*status)) {
        return 0;
    }

    n = 0;
    c = 0;

    for (i = 0; i < nfd_len; /* void */) {
        base = c;
        U16_NEXT(nfd_text, i, nfd_len, c);

        if (c == 0x309B || c == 0x309C) {
            /* a spacing voicing mark, as a keyboard may type it after
             * its kana: the combining one, which NFKC joins to it */
            c -= 0x309B - 0x3099;

        } else if (u_charType(c) == U_NON_SPACING_MARK
                   && !inbox_fold_letter_mark(c)
                   && !inbox_fold_cyrillic_letter(base, c))
        {
            continue;
        }

        if (c == 0x2018 || c == 0x2019 || c == 0x02BC) {
            c = '\'';
        }

        if (n + U16_LENGTH(c) > INBOX_FOLD_UNITS) {
            *status = U_BUFFER_OVERFLOW_ERROR;
            return 0;
        }

        U16_APPEND_UNSAFE(text, n, c);
    }

    return n;
}


/*
 * Whether mark after base (the character before it, decomposed) makes a
 * Cyrillic letter of its own: Й/й and Ў/ў (Belarusian), a breve on И/и
 * and У/у, and Ї/ї (Ukrainian), a diaeresis on І/і.  Not Ё/ё: Russian
 * writes Е for it as often as not, so its diaeresis goes as an accent
 * does and "семен" finds Семён.
 */
static int
inbox_fold_cyrillic_letter(UChar32 base, UChar32 mark)
{
    switch (mark) {

    case 0x0306:
        return base == 0x0418 || base == 0x0438
               || base == 0x0423 || base == 0x0443;

    case 0x0308:
        return base == 0x0406 || base == 0x0456;

    default:
        return 0;
    }
}
