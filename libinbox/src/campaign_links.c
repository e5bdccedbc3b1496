/* A campaign's pictures as links for the numbers MMS does not reach. */

#include <stdlib.h>
#include <string.h>
#include <inbox/campaign.h>
#include <inbox/phone.h>
#include <inbox/segments.h>


/* body, then each of media's addresses on a line of its own; NULL when
 * out of memory */
static char *
inbox_campaign_links_text(const char *body, const inbox_media_t *media,
    size_t media_count)
{
    char    *text, *p;
    size_t   i, len;

    len = strlen(body);
    for (i = 0; i < media_count; i++) {
        len += 1 + strlen(media[i].url);
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

        len = strlen(media[i].url);
        memcpy(p, media[i].url, len);
        p += len;
    }

    *p = '\0';

    return text;
}


inbox_status_t
inbox_campaign_links_check(const char *body, const inbox_media_t *media,
    size_t media_count, inbox_error_t *err)
{
    char            *text;
    inbox_status_t   rc;

    if (media_count == 0) {
        return INBOX_OK;
    }

    text = inbox_campaign_links_text(body, media, media_count);
    if (text == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    rc = inbox_message_check(text, strlen(text), 0, err);
    free(text);

    if (rc == INBOX_ERR_INVALID) {
        /* the limit's own words would be of a text the person never
         * wrote */
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
                   "Contacts outside the US and Canada cannot get "
                   "pictures: they get this text with a link to each "
                   "picture, as an SMS, and that is too long. Shorten "
                   "the text or use fewer pictures.");
    }

    return rc;
}


inbox_status_t
inbox_campaign_messages(const inbox_campaign_t *c,
    inbox_campaign_messages_t *m, inbox_error_t *err)
{
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

    if (c->media_count == 0
        || inbox_campaign_links_check(body, c->media, c->media_count,
                                      &refused)
           == INBOX_ERR_INVALID)
    {
        return INBOX_OK;
    }

    m->owned = inbox_campaign_links_text(body, c->media, c->media_count);
    if (m->owned == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    inbox_segments_count(m->owned, strlen(m->owned), &seg);

    m->links.body = m->owned;
    m->links.media = NULL;
    m->links.media_count = 0;
    m->links.segments = inbox_message_segments(&seg, 0);
    m->links.credits = inbox_message_credits(m->owned, 0);

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
