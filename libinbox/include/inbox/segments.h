/*
 * SMS segments and credits: what a carrier bills, what the composer shows
 * and what a reply costs.
 *
 * Encoding.  A body is GSM-7 when every character is in the GSM 03.38
 * default alphabet (basic table: 1 septet) or its extension table
 * (`^ { } \ [ ] ~ |`, `€` and form feed: 2 septets, escape and code);
 * one character outside it makes the whole body UCS-2, counted in UTF-16
 * units (a character outside the Basic Multilingual Plane takes 2).  No
 * look-alike is substituted: a curly quote is UCS-2, as carriers bill it.
 *
 * Segments.  A body of at most 160 septets (GSM-7) or 70 units (UCS-2)
 * is one segment; a longer one is cut into parts of 153 septets or 67
 * units (6 octets of each go to the concatenation header).  Parts are
 * filled greedily, and what must stay whole moves to the next part
 * instead of being cut:
 *
 * - a grapheme cluster: Unicode's extended grapheme clusters (UAX #29, as
 *   ICU implements them): a base with its combining marks, variation
 *   selectors and emoji modifiers, emoji joined by ZWJ, a pair of
 *   regional indicators (a flag), CR LF, Hangul syllables;
 * - so also every surrogate pair and escape pair, which lie inside one.
 *
 * A cluster longer than a whole part (a base with dozens of marks) is the
 * one thing cut, between its code points (never inside a pair).
 *
 * Credits (the product's rule).  An SMS costs one credit per started
 * block of INBOX_CREDIT_BLOCK characters, a character being a grapheme
 * cluster as above (a flag, an emoji family, an accented letter written
 * with a combining mark each count one: what a person sees); an MMS (any
 * media) costs INBOX_MMS_CREDITS whatever its length.
 *
 * An MMS is one message however long its text: it is sent as 1 segment.
 *
 * Body length.  An SMS is at most INBOX_SMS_SEGMENTS_MAX (10) segments:
 * Telnyx refuses a longer one (40302, "Message too large") and most
 * carriers do not deliver beyond 10 parts, so it is refused before it
 * is charged rather than failing at the carrier.  That is 1530 GSM-7
 * septets or 670 UCS-2 units.  Any message's text, an MMS's too, is at
 * most INBOX_BODY_MAX (1600) UTF-16 units, as Twilio counts its limit
 * (error 21617): a character outside the Basic Multilingual Plane, most
 * emoji, counts 2, whatever the encoding.
 *
 * Bodies are UTF-8; a byte that is not (which callers should have
 * refused) counts as one U+FFFD.
 */
#ifndef INBOX_SEGMENTS_H
#define INBOX_SEGMENTS_H

#include <stddef.h>
#include <inbox/error.h>

#define INBOX_GSM7_SINGLE    160   /* septets in a one-segment SMS */
#define INBOX_GSM7_PART      153   /* septets in each part of a longer one */
#define INBOX_UCS2_SINGLE    70    /* UTF-16 units, likewise */
#define INBOX_UCS2_PART      67
#define INBOX_CREDIT_BLOCK   480   /* characters an SMS credit pays for */
#define INBOX_MMS_CREDITS    2

#define INBOX_SMS_SEGMENTS_MAX  10   /* segments an SMS may be sent as */

typedef enum {
    INBOX_SMS_GSM7 = 0,
    INBOX_SMS_UCS2
} inbox_sms_encoding_t;

typedef struct {
    inbox_sms_encoding_t  encoding;
    unsigned              segments;     /* 0 for an empty body */
    unsigned              units;        /* septets (GSM-7) or UTF-16 units
                                           (UCS-2), escapes and pairs
                                           included */
    unsigned              remaining;    /* units still free in the last
                                           segment (160 or 70 when empty) */
    unsigned              characters;   /* grapheme clusters */
    unsigned              code_points;
    /* UCS-2: the grapheme cluster holding the first character outside
     * GSM-7 (what made the body UCS-2, for the composer to name), as
     * bytes first_ucs2 .. first_ucs2 + first_ucs2_len of the body;
     * first_ucs2_len is 0 for GSM-7 */
    size_t                first_ucs2;
    size_t                first_ucs2_len;
} inbox_segments_t;

/* "GSM-7" or "UCS-2". */
const char *inbox_sms_encoding_name(inbox_sms_encoding_t encoding);

/* Counts body (len bytes) into out.  Never fails: should ICU fail (out of
 * memory), each code point counts as its own cluster. */
void inbox_segments_count(const char *body, size_t len,
    inbox_segments_t *out);

/* The segments a message is sent as (what its record and a campaign's
 * say): 1 with any media (an MMS) or for an empty body, else seg's. */
unsigned inbox_message_segments(const inbox_segments_t *seg,
    size_t media_count);

/* The credits a message costs: INBOX_MMS_CREDITS with any media, else one
 * per started INBOX_CREDIT_BLOCK characters of body (NUL-terminated); 0
 * for an empty body without media (which inbox_message_check refuses). */
unsigned inbox_message_credits(const char *body, size_t media_count);

/*
 * Whether a message may be sent (a reply, a campaign's or poll's text, a
 * keyword's answer): INBOX_ERR_INVALID naming "body" when it is empty
 * without media, not UTF-8, without media more than
 * INBOX_SMS_SEGMENTS_MAX segments (saying how many) or longer than
 * INBOX_BODY_MAX UTF-16 units (saying by how much), naming "media_ids"
 * with more than INBOX_MEDIA_MAX media.
 */
inbox_status_t inbox_message_check(const char *body, size_t len,
    size_t media_count, inbox_error_t *err);

#endif
