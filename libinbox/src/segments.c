/*
 * SMS segments and credits (see segments.h for the rules).
 *
 * Two passes over the body: the first decides the encoding (one character
 * outside GSM-7 changes what every other character costs), the second
 * walks ICU's grapheme clusters and fills the parts with them.
 */
#include <stdint.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>
#include <unicode/utf8.h>
#include <inbox/model.h>
#include <inbox/segments.h>
#include <inbox/utf8.h>


typedef struct {
    inbox_sms_encoding_t  encoding;
    unsigned              part;       /* units a part holds */
    unsigned              used;       /* units in the current part */
    unsigned              segments;   /* parts begun */
} inbox_segments_packer_t;


static UChar32 inbox_segments_next(const char *s, size_t len, size_t *off);
static unsigned inbox_gsm7_septets(UChar32 c);
static unsigned inbox_segments_units(inbox_sms_encoding_t encoding,
    UChar32 c);
static void inbox_segments_place(inbox_segments_packer_t *p,
    const char *s, size_t start, size_t end, unsigned cost);


/*
 * The GSM 03.38 default alphabet outside ASCII (ASCII's own members are
 * decided in inbox_gsm7_septets): the basic table's Latin-1 letters and
 * signs and its Greek capitals.
 */
static const UChar32  inbox_gsm7_basic[] = {
    0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5,
    0x00C6, 0x00C7, 0x00C9, 0x00D1, 0x00D6, 0x00D8, 0x00DC, 0x00DF,
    0x00E0, 0x00E4, 0x00E5, 0x00E6, 0x00E8, 0x00E9, 0x00EC, 0x00F1,
    0x00F2, 0x00F6, 0x00F8, 0x00F9, 0x00FC,
    0x0393, 0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x03A3, 0x03A6,
    0x03A8, 0x03A9
};


const char *
inbox_sms_encoding_name(inbox_sms_encoding_t encoding)
{
    return encoding == INBOX_SMS_GSM7 ? "GSM-7" : "UCS-2";
}


void
inbox_segments_count(const char *body, size_t len, inbox_segments_t *out)
{
    size_t                    off, start, end, first;
    int32_t                   next;
    UText                    *text;
    UChar32                   c;
    unsigned                  cost, single;
    UErrorCode                status;
    UBreakIterator           *bi;
    inbox_segments_packer_t   p;

    memset(out, 0, sizeof(*out));
    out->encoding = INBOX_SMS_GSM7;
    first = len;

    for (off = 0; off < len; out->code_points++) {
        start = off;
        c = inbox_segments_next(body, len, &off);
        if (inbox_gsm7_septets(c) == 0 && out->encoding == INBOX_SMS_GSM7) {
            out->encoding = INBOX_SMS_UCS2;
            first = start;
        }
    }

    p.encoding = out->encoding;
    p.part = out->encoding == INBOX_SMS_GSM7 ? INBOX_GSM7_PART
                                             : INBOX_UCS2_PART;
    p.used = 0;
    p.segments = 1;

    single = out->encoding == INBOX_SMS_GSM7 ? INBOX_GSM7_SINGLE
                                             : INBOX_UCS2_SINGLE;

    /* ICU's boundaries are int32_t offsets; without ICU every code point
     * is a cluster of its own */
    bi = NULL;
    text = NULL;
    status = U_ZERO_ERROR;

    if (len > 0 && len < INT32_MAX) {
        text = utext_openUTF8(NULL, body, (int64_t) len, &status);
        bi = ubrk_open(UBRK_CHARACTER, "", NULL, 0, &status);
        ubrk_setUText(bi, text, &status);

        if (U_FAILURE(status)) {
            ubrk_close(bi);
            bi = NULL;
        }
    }

    for (start = 0; start < len; start = off) {
        next = bi ? ubrk_following(bi, (int32_t) start) : UBRK_DONE;
        end = next == UBRK_DONE || (size_t) next <= start ? start + 1
                                                          : (size_t) next;

        /* whole code points up to the boundary, at least one */
        cost = 0;
        off = start;
        do {
            c = inbox_segments_next(body, len, &off);
            cost += inbox_segments_units(out->encoding, c);
        } while (off < end && off < len);

        out->characters++;
        out->units += cost;

        if (start <= first && first < off) {
            out->first_ucs2 = start;
            out->first_ucs2_len = off - start;
        }

        inbox_segments_place(&p, body, start, off, cost);
    }

    ubrk_close(bi);
    utext_close(text);

    if (out->units == 0) {
        out->remaining = single;

    } else if (out->units <= single) {
        out->segments = 1;
        out->remaining = single - out->units;

    } else {
        out->segments = p.segments;
        out->remaining = p.part - p.used;
    }
}


unsigned
inbox_message_segments(const inbox_segments_t *seg, size_t media_count)
{
    /* an MMS is one message, however long its text */
    if (media_count > 0 || seg->segments == 0) {
        return 1;
    }

    return seg->segments;
}


unsigned
inbox_message_credits(const char *body, size_t media_count)
{
    inbox_segments_t  seg;

    if (media_count > 0) {
        return INBOX_MMS_CREDITS;
    }

    inbox_segments_count(body, strlen(body), &seg);

    return (seg.characters + INBOX_CREDIT_BLOCK - 1) / INBOX_CREDIT_BLOCK;
}


inbox_status_t
inbox_message_check(const char *body, size_t len, size_t media_count,
    inbox_error_t *err)
{
    int               blank;
    size_t            off, code_points, units;
    UChar32           c;
    inbox_segments_t  seg;

    if (media_count > INBOX_MEDIA_MAX) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "media_ids",
                   "A message can carry at most %d pictures.",
                   INBOX_MEDIA_MAX);
    }

    if (!inbox_utf8_valid(body, len)) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
                   "The message is not valid UTF-8 text.");
    }

    blank = 1;
    code_points = 0;
    units = 0;

    for (off = 0; off < len; code_points++) {
        c = inbox_segments_next(body, len, &off);
        units += U16_LENGTH(c);

        if (!u_isUWhiteSpace(c)) {
            blank = 0;
        }
    }

    if (blank && media_count == 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
                   "The message is empty: write something or attach a "
                   "picture.");
    }

    /* an SMS the carrier would refuse or not deliver whole (Telnyx's
     * 40302); checked first, as it is the tighter limit: without media
     * the character limit below is never reached */
    if (media_count == 0) {
        inbox_segments_count(body, len, &seg);

        if (seg.segments > INBOX_SMS_SEGMENTS_MAX) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
                       "The message is %u segments (%s): the limit is %d, "
                       "so shorten it.", seg.segments,
                       inbox_sms_encoding_name(seg.encoding),
                       INBOX_SMS_SEGMENTS_MAX);
        }
    }

    /* Twilio's count, so that no message we take is refused for length
     * (21617); said the way a person counts when nothing counts 2 */
    if (units > INBOX_BODY_MAX && units == code_points) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
                   "The message is %zu character%s too long: carriers "
                   "take at most %d.", units - INBOX_BODY_MAX,
                   units - INBOX_BODY_MAX == 1 ? "" : "s", INBOX_BODY_MAX);
    }

    if (units > INBOX_BODY_MAX) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
                   "The message is %zu character%s too long: carriers "
                   "take at most %d, counting most emoji as 2 (this one "
                   "counts %zu).", units - INBOX_BODY_MAX,
                   units - INBOX_BODY_MAX == 1 ? "" : "s", INBOX_BODY_MAX,
                   units);
    }

    return INBOX_OK;
}


/* The code point at *off, moving *off past it; an ill-formed sequence
 * (its maximal subpart) is U+FFFD. */
static UChar32
inbox_segments_next(const char *s, size_t len, size_t *off)
{
    int32_t   i, n;
    UChar32   c;

    n = len - *off < 4 ? (int32_t) (len - *off) : 4;
    i = 0;

    U8_NEXT((const uint8_t *) s + *off, i, n, c);

    *off += (size_t) i;

    return c < 0 ? 0xFFFD : c;
}


/* 1 for the basic table, 2 for the extension table, 0 outside GSM-7. */
static unsigned
inbox_gsm7_septets(UChar32 c)
{
    size_t  i;

    if (c < 0x80) {
        if (c == '\n' || c == '\r') {
            return 1;
        }

        if (c == '\f' || (c != 0 && strchr("^{}\\[]~|", (int) c) != NULL)) {
            return 2;
        }

        return c >= 0x20 && c < 0x7F && c != '`' ? 1 : 0;
    }

    if (c == 0x20AC) {
        return 2;
    }

    for (i = 0; i < sizeof(inbox_gsm7_basic) / sizeof(UChar32); i++) {
        if (inbox_gsm7_basic[i] == c) {
            return 1;
        }
    }

    return 0;
}


static unsigned
inbox_segments_units(inbox_sms_encoding_t encoding, UChar32 c)
{
    if (encoding == INBOX_SMS_GSM7) {
        return inbox_gsm7_septets(c);
    }

    return U16_LENGTH(c);
}


/*
 * A cluster of cost units, bytes start..end of s, into the parts: whole
 * where it fits, else whole in the next part, and cut between its code
 * points only when no part can hold it.
 */
static void
inbox_segments_place(inbox_segments_packer_t *p, const char *s,
    size_t start, size_t end, unsigned cost)
{
    size_t    off;
    unsigned  units;

    if (p->used + cost <= p->part) {
        p->used += cost;
        return;
    }

    if (cost <= p->part) {
        p->segments++;
        p->used = cost;
        return;
    }

    for (off = start; off < end; /* void */) {
        units = inbox_segments_units(p->encoding,
                                     inbox_segments_next(s, end, &off));

        if (p->used + units > p->part) {
            p->segments++;
            p->used = 0;
        }

        p->used += units;
    }
}
