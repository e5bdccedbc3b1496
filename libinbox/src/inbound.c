/*
 * What intake keeps of an inbound message's text and media (inbound.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <inbox/carrier.h>
#include <inbox/inbound.h>
#include <inbox/keywords.h>
#include <inbox/utf8.h>


static size_t inbox_inbound_cut_at(const char *s, size_t len,
    size_t characters);


inbox_status_t
inbox_inbound_body(inbox_inbound_t *msg, const char *text, size_t len,
    inbox_error_t *err)
{
    int      n;
    char    *repaired, *cut;
    size_t   characters, more, at, size;

    repaired = NULL;

    if (!inbox_utf8_valid(text, len)) {
        repaired = inbox_utf8_repair(text, len, &len);
        if (repaired == NULL) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }

        text = repaired;
    }

    characters = inbox_utf8_length(text, len);

    if (characters <= INBOX_INBOUND_BODY_MAX) {
        msg->owned = repaired;
        msg->body = text;
        return INBOX_OK;
    }

    at = inbox_inbound_cut_at(text, len, INBOX_INBOUND_BODY_MAX);
    size = at + 128;

    cut = malloc(size);
    if (cut == NULL) {
        free(repaired);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    /* the agent reads that the contact wrote more than is shown */
    more = characters - INBOX_INBOUND_BODY_MAX;
    n = snprintf(cut, size, "%.*s\n[%zu more character%s not kept]",
                 (int) at, text, more, more == 1 ? "" : "s");
    free(repaired);

    if (n < 0 || (size_t) n >= size) {
        free(cut);
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "The text could not be cut.");
    }

    msg->owned = cut;
    msg->body = cut;

    return INBOX_OK;
}


/* The bytes of the first `characters` code points of valid UTF-8 s. */
static size_t
inbox_inbound_cut_at(const char *s, size_t len, size_t characters)
{
    size_t  i, seen;

    seen = 0;

    for (i = 0; i < len; i++) {
        /* a lead byte starts the next character */
        if (((unsigned char) s[i] & 0xc0) != 0x80) {
            if (seen == characters) {
                return i;
            }

            seen++;
        }
    }

    return len;
}


void
inbox_inbound_media(inbox_media_t *media, const char *url, size_t url_len,
    const char *type, size_t type_len)
{
    memset(media, 0, sizeof(*media));

    if (type != NULL
        && inbox_media_field_valid(type, type_len, 0,
                                   sizeof(media->content_type)))
    {
        memcpy(media->content_type, type, type_len);
    }

    if (url == NULL
        || !inbox_media_field_valid(url, url_len, 1, sizeof(media->url)))
    {
        media->state = INBOX_MEDIA_FAILED;
        return;
    }

    memcpy(media->url, url, url_len);
    media->state = INBOX_MEDIA_PENDING;
}


int
inbox_inbound_media_is_layout(const char *type, size_t type_len)
{
    static const char  smil[] = "application/smil";

    return type != NULL && type_len >= sizeof(smil) - 1
           && strncasecmp(type, smil, sizeof(smil) - 1) == 0
           && (type_len == sizeof(smil) - 1
               || type[sizeof(smil) - 1] == ';'
               || type[sizeof(smil) - 1] == ' '
               || type[sizeof(smil) - 1] == '+');
}


inbox_status_t
inbox_inbound_media_over(inbox_inbound_t *msg, size_t more,
    inbox_error_t *err)
{
    int      n;
    char    *noted;
    size_t   size;

    /* a keyword stays one (STOP with a dozen pictures still opts out):
     * its attachments past ten go unnoted */
    if (more == 0
        || inbox_keyword_match(msg->body, strlen(msg->body), NULL)
           != INBOX_KEYWORD_NONE)
    {
        return INBOX_OK;
    }

    size = strlen(msg->body) + 64;

    noted = malloc(size);
    if (noted == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    n = snprintf(noted, size, "%s%s[%zu more attachment%s not kept]",
                 msg->body, msg->body[0] != '\0' ? "\n" : "", more,
                 more == 1 ? "" : "s");

    if (n < 0 || (size_t) n >= size) {
        free(noted);
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "The attachments could not be noted.");
    }

    /* the body may be the old owned text: copied before it goes */
    free(msg->owned);
    msg->owned = noted;
    msg->body = noted;

    return INBOX_OK;
}
