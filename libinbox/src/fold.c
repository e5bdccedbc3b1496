/*
 * Text folded for comparison (see fold.h): ICU's NFKC_Casefold on UTF-16,
 * then white space trimmed and collapsed, then UTF-8 again.
 */
#include <stdint.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <inbox/fold.h>


/* NFKC_Casefold may lengthen a text: room for three times its units. */
#define INBOX_FOLD_UNITS  (INBOX_FOLD_BYTES_MAX * 3)


int
inbox_text_fold(const char *s, size_t len, char *out, size_t size)
{
    int32_t             src_len, dst_len, i, n, out_len;
    UChar32             c;
    UErrorCode          status;
    const UNormalizer2 *nfkc_cf;
    int                 space;
    UChar               src[INBOX_FOLD_BYTES_MAX];
    UChar               dst[INBOX_FOLD_UNITS];
    UChar               folded[INBOX_FOLD_UNITS];

    if (len > INBOX_FOLD_BYTES_MAX || size == 0 || size > INT32_MAX) {
        return -1;
    }

    status = U_ZERO_ERROR;

    /* UTF-16 is never longer in units than UTF-8 in bytes */
    u_strFromUTF8WithSub(src, INBOX_FOLD_BYTES_MAX, &src_len, s,
                         (int32_t) len, 0xFFFD, NULL, &status);

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
