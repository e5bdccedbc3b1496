/* A campaign's pictures as links for the numbers MMS does not reach. */

#include <stdlib.h>
#include <string.h>
#include <inbox/campaign.h>
#include <inbox/media.h>
#include <inbox/phone.h>
#include <inbox/segments.h>


/* body, then the public address (base) of each of media's files on a
 * line of its own; NULL when out of memory */
static char *
inbox_campaign_links_text(const char *body, const char *base,
    const inbox_media_t *media, size_t media_count)
{
    char    *text, *p;
    size_t   i, len, base_len;
    char     path[INBOX_MEDIA_URL_MAX];

    base_len = strlen(base);
    len = strlen(body);

    for (i = 0; i < media_count; i++) {
        inbox_media_url(media[i].file, path);
        len += 1 + base_len + strlen(path);
    }

    text = malloc(len + 1);
    if (text == NULL) {
        return NULL;
    }

    p = text;
    len = strlen(body);
    memcpy(p, body, len);
    p += len;

    for (i = 0; i < media_count; i++) {
        /* an image-only campaign's text is its links alone */
        if (p != text) {
            *p++ = '\n';
        }

        inbox_media_url(media[i].file, path);
        memcpy(p, base, base_len);
        p += base_len;
        len = strlen(path);
        memcpy(p, path, len);
        p += len;
    }

    *p = '\0';

    return text;
}


/* Whether text may go as an SMS, in words of the text the person wrote
 * (the limit's own would be of a text they never wrote). */
static inbox_status_t
inbox_campaign_links_fit(const char *text, inbox_error_t *err)
{
    if (inbox_message_check(text, strlen(text), 0, err) == INBOX_OK) {
        return INBOX_OK;
    }

    return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
               "Contacts outside the US and Canada cannot get pictures: "
               "they get this text with a link to each picture, as an "
               "SMS, and that is too long. Shorten the text or use fewer "
               "pictures.");
}


inbox_status_t
inbox_campaign_links_check(const char *body, const char *base,
    const inbox_media_t *media, size_t media_count, inbox_error_t *err)
{
    char            *text;
    inbox_status_t   rc;

    if (media_count == 0) {
        return INBOX_OK;
    }

    text = inbox_campaign_links_text(body, base, media, media_count);
    if (text == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    rc = inbox_campaign_links_fit(text, err);
    free(text);

    return rc;
}


inbox_status_t
inbox_campaign_messages(const inbox_campaign_t *c, const char *base,
    inbox_campaign_messages_t *m, inbox_error_t *err)
{
    char              *text;
    const char        *body;
    inbox_error_t      refused;
    inbox_segments_t   seg;

    memset(m, 0, sizeof(inbox_campaign_messages_t));

    body = c->body != NULL ? c->body : "";

    m->pictures.body = body;
    m->pictures.media = c->media;
    m->pictures.media_count = c->media_count;
    m->pictures.segments = c->segments;
    m->pictures.credits = c->credits;
    m->links = m->pictures;

    if (c->media_count == 0 || base == NULL) {
        return INBOX_OK;
    }

    text = inbox_campaign_links_text(body, base, c->media, c->media_count);
    if (text == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    if (inbox_campaign_links_fit(text, &refused) != INBOX_OK) {
        /* saved before the rule: its pictures go everywhere */
        free(text);
        return INBOX_OK;
    }

    inbox_segments_count(text, strlen(text), &seg);

    m->owned = text;
    m->links.body = text;
    m->links.media = NULL;
    m->links.media_count = 0;
    m->links.segments = inbox_message_segments(&seg, 0);
    m->links.credits = inbox_message_credits(text, 0);

    return INBOX_OK;
}


const inbox_campaign_message_t *
inbox_campaign_message_to(const inbox_campaign_messages_t *m,
    const char *phone)
{
    return inbox_phone_takes_mms(phone) ? &m->pictures : &m->links;
}


void
inbox_campaign_messages_free(inbox_campaign_messages_t *m)
{
    free(m->owned);
    m->owned = NULL;
}
