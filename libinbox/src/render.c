/*
 * The API's JSON shapes through yajl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <inbox/clock.h>
#include <inbox/media.h>
#include <inbox/phone.h>
#include <inbox/render.h>
#include <inbox/resend.h>
#include <inbox/utf8.h>


yajl_gen
inbox_json_begin(void)
{
    yajl_gen  g;

    g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return NULL;
    }

    /* compact; "/" unescaped; yajl's own UTF-8 check stays on, though it
     * lets surrogates and overlong forms through (see inbox_json_string) */
    yajl_gen_config(g, yajl_gen_beautify, 0);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    yajl_gen_config(g, yajl_gen_escape_solidus, 0);

    return g;
}


char *
inbox_json_finish(yajl_gen g, size_t *len)
{
    char                 *out;
    size_t                n;
    const unsigned char  *buf;

    if (g == NULL) {
        return NULL;
    }

    out = NULL;

    if (yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok) {
        out = malloc(n + 1);
        if (out != NULL) {
            memcpy(out, buf, n);
            out[n] = '\0';
            if (len != NULL) {
                *len = n;
            }
        }
    }

    yajl_gen_free(g);

    return out;
}


void
inbox_json_string(yajl_gen g, const char *s)
{
    char    *repaired;
    size_t   len;

    if (s == NULL) {
        yajl_gen_null(g);
        return;
    }

    len = strlen(s);

    if (inbox_utf8_valid(s, len)) {
        yajl_gen_string(g, (const unsigned char *) s, len);
        return;
    }

    /* stored before intake repaired text, or a bug: never send it on */
    repaired = inbox_utf8_repair(s, len, &len);

    if (repaired == NULL) {
        yajl_gen_null(g);
        return;
    }

    yajl_gen_string(g, (const unsigned char *) repaired, len);
    free(repaired);
}


void
inbox_json_key(yajl_gen g, const char *key)
{
    yajl_gen_string(g, (const unsigned char *) key, strlen(key));
}


void
inbox_json_int(yajl_gen g, int64_t v)
{
    yajl_gen_integer(g, (long long) v);
}


void
inbox_json_bool(yajl_gen g, int v)
{
    yajl_gen_bool(g, v != 0);
}


void
inbox_json_time(yajl_gen g, int64_t ms)
{
    char  buf[INBOX_ISO8601_MAX];

    inbox_iso8601(ms, buf);
    yajl_gen_string(g, (const unsigned char *) buf, strlen(buf));
}


void
inbox_json_phone(yajl_gen g, const char *e164)
{
    char  shown[INBOX_PHONE_DISPLAY_MAX];

    inbox_json_key(g, "phone");
    inbox_json_string(g, e164);
    inbox_json_key(g, "phone_display");

    if (e164 == NULL) {
        yajl_gen_null(g);
        return;
    }

    inbox_phone_display(e164, shown);
    inbox_json_string(g, shown);
}


void
inbox_json_time_or_null(yajl_gen g, int64_t ms)
{
    if (ms != 0) {
        inbox_json_time(g, ms);
    } else {
        yajl_gen_null(g);
    }
}


void
inbox_json_conversation(yajl_gen g, const inbox_conversation_t *c)
{
    yajl_gen_map_open(g);

    inbox_json_key(g, "id");
    inbox_json_string(g, c->id);

    inbox_json_key(g, "contact");
    yajl_gen_map_open(g);
    inbox_json_key(g, "id");
    inbox_json_string(g, c->contact.id);
    inbox_json_key(g, "name");
    inbox_json_string(g, c->contact.name);
    inbox_json_phone(g, c->contact.phone);
    inbox_json_key(g, "can_receive_mms");
    inbox_json_bool(g, inbox_phone_takes_mms(c->contact.phone));
    inbox_json_key(g, "opted_out");
    inbox_json_bool(g, c->contact.opted_out);
    yajl_gen_map_close(g);

    inbox_json_key(g, "last_message");
    if (c->has_last_message) {
        yajl_gen_map_open(g);
        inbox_json_key(g, "id");
        inbox_json_string(g, c->last_message.id);
        inbox_json_key(g, "direction");
        inbox_json_string(g, inbox_direction_name(c->last_message.direction));
        inbox_json_key(g, "preview");
        inbox_json_string(g, c->last_message.preview);
        /* what a message without text carries, for a client to say */
        inbox_json_key(g, "media_type");
        inbox_json_string(g, c->last_message.media_type[0]
                             ? c->last_message.media_type : NULL);
        inbox_json_key(g, "at");
        inbox_json_time(g, c->last_message.at);
        /* who sent it, as a message says (inbox_render_message) */
        inbox_json_key(g, "sent_by");
        inbox_json_string(g, c->last_message.sent_by[0]
                             ? c->last_message.sent_by : NULL);
        inbox_json_key(g, "campaign_id");
        inbox_json_string(g, c->last_message.campaign_id[0]
                             ? c->last_message.campaign_id : NULL);
        inbox_json_key(g, "campaign_kind");
        inbox_json_string(g, c->last_message.campaign_kind[0]
                             ? c->last_message.campaign_kind : NULL);
        /* an outbound one's delivery as its message has it now (a list
         * marks one that failed), as a message says */
        inbox_json_key(g, "status");
        inbox_json_string(g, c->last_message.status[0]
                             ? c->last_message.status : NULL);
        inbox_json_key(g, "error_code");
        inbox_json_string(g, c->last_message.error_code[0]
                             ? c->last_message.error_code : NULL);
        yajl_gen_map_close(g);

    } else {
        yajl_gen_null(g);
    }

    inbox_json_key(g, "last_activity_at");
    if (c->last_activity_at != INBOX_ACTIVITY_NONE) {
        inbox_json_time(g, c->last_activity_at);
    } else {
        yajl_gen_null(g);
    }
    inbox_json_key(g, "unread_count");
    inbox_json_int(g, c->unread_count);
    inbox_json_key(g, "archived");
    inbox_json_bool(g, c->archived);
    inbox_json_key(g, "starred");
    inbox_json_bool(g, c->starred);
    /* a client cannot tell it from the last message, which may be a
     * campaign's (inbox_conversation_unresponded) */
    inbox_json_key(g, "unresponded");
    inbox_json_bool(g, inbox_conversation_unresponded(c));

    yajl_gen_map_close(g);
}


/*
 * A message's media: "url" is what a browser may fetch, our own copy
 * (inbox_media_url: its path on the inbox's origin, as an upload's), or
 * null while there is none ("state" "pending", or "failed" when none will
 * come): a carrier's URL needs the carrier's credentials, so it is never
 * shown.  An outbound one's "id" is the upload it is, which a send's
 * media_ids names again (Send again); there is none when it is not known
 * (an inbound copy is no upload; a message MongoDB stored before ids
 * were kept).
 */
void
inbox_json_media(yajl_gen g, const inbox_media_t *media)
{
    yajl_gen_map_open(g);

    if (media->upload_id[0] != '\0') {
        inbox_json_key(g, "id");
        inbox_json_string(g, media->upload_id);
    }

    inbox_json_media_fields(g, media);
    yajl_gen_map_close(g);
}


void
inbox_json_media_fields(yajl_gen g, const inbox_media_t *media)
{
    char                 url[INBOX_MEDIA_URL_MAX];
    inbox_media_state_t  state;

    state = media->state;

    if (state == INBOX_MEDIA_STORED && media->file[0] == '\0') {
        /* nothing to show yet */
        state = INBOX_MEDIA_PENDING;
    }

    inbox_media_url(media->file, url);

    inbox_json_key(g, "url");
    inbox_json_string(g, state == INBOX_MEDIA_STORED ? url : NULL);
    inbox_json_key(g, "content_type");
    inbox_json_string(g, media->content_type[0] ? media->content_type
                                                : NULL);
    inbox_json_key(g, "state");
    inbox_json_string(g, inbox_media_state_name(state));
    /* what a browser offering a download says of it */
    inbox_json_key(g, "bytes");
    if (state == INBOX_MEDIA_STORED) {
        inbox_json_int(g, media->bytes);
    } else {
        yajl_gen_null(g);
    }
}


void
inbox_json_message(yajl_gen g, const inbox_message_t *m)
{
    size_t  i;

    yajl_gen_map_open(g);

    inbox_json_key(g, "id");
    inbox_json_string(g, m->id);
    inbox_json_key(g, "conversation_id");
    inbox_json_string(g, m->conversation_id);
    inbox_json_key(g, "direction");
    inbox_json_string(g, inbox_direction_name(m->direction));
    inbox_json_key(g, "body");
    inbox_json_string(g, m->body ? m->body : "");

    inbox_json_key(g, "media");
    yajl_gen_array_open(g);
    for (i = 0; m->media != NULL && i < m->media_count; i++) {
        inbox_json_media(g, &m->media[i]);
    }
    yajl_gen_array_close(g);

    inbox_json_key(g, "status");
    inbox_json_string(g, m->status[0] ? m->status : NULL);
    inbox_json_key(g, "error_code");
    inbox_json_string(g, m->error_code[0] ? m->error_code : NULL);
    inbox_json_key(g, "segments");
    inbox_json_int(g, m->segments);
    inbox_json_key(g, "credits");
    inbox_json_int(g, m->credits);
    inbox_json_key(g, "created_at");
    inbox_json_time(g, m->created_at);
    inbox_json_key(g, "sent_by");
    inbox_json_string(g, m->sent_by[0] ? m->sent_by : NULL);
    inbox_json_key(g, "campaign_id");
    inbox_json_string(g, m->campaign_id[0] ? m->campaign_id : NULL);
    inbox_json_key(g, "campaign_kind");
    inbox_json_string(g, m->campaign_kind[0] ? m->campaign_kind : NULL);
    /* whether Send again may go (resend.h's rule, the one a send naming
     * it is checked by): what a browser shows the button by */
    inbox_json_key(g, "can_send_again");
    yajl_gen_bool(g, inbox_resend_can(m));
    /* a failed reply's Send again, once it went: every browser drops
     * its button (resend.h); none on a message never sent again, as a
     * media's "id" */
    if (m->resent_as[0] != '\0') {
        inbox_json_key(g, "resent_as");
        inbox_json_string(g, m->resent_as);
        inbox_json_key(g, "resent_at");
        inbox_json_time(g, m->resent_at);
    }

    yajl_gen_map_close(g);
}


char *
inbox_render_conversation(const inbox_conversation_t *c, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    inbox_json_conversation(g, c);

    return inbox_json_finish(g, len);
}


char *
inbox_render_conversation_page(const inbox_conversation_page_t *page,
    const inbox_search_t *search, size_t *len)
{
    size_t    i;
    unsigned  f;
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);

    inbox_json_key(g, "items");
    yajl_gen_array_open(g);
    for (i = 0; i < page->count; i++) {
        inbox_json_conversation(g, &page->items[i]);
    }
    yajl_gen_array_close(g);

    inbox_json_key(g, "next_cursor");
    inbox_json_string(g, page->next_cursor[0] ? page->next_cursor : NULL);
    inbox_json_key(g, "unread_total");
    inbox_json_int(g, page->unread_total);

    /* the tabs' counts, on a first page */
    if (page->has_counts) {
        inbox_json_key(g, "counts");
        yajl_gen_map_open(g);

        for (f = 0; f < INBOX_FILTER_COUNT; f++) {
            inbox_json_key(g, inbox_filter_name((inbox_filter_t) f));
            inbox_json_int(g, page->counts[f]);
        }

        yajl_gen_map_close(g);
    }

    inbox_json_search(g, search);

    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


void
inbox_json_campaign_ref_open(yajl_gen g, const char *id,
    inbox_campaign_kind_t kind, const char *name)
{
    yajl_gen_map_open(g);
    inbox_json_key(g, "id");
    inbox_json_string(g, id);
    inbox_json_key(g, "kind");
    inbox_json_string(g, inbox_campaign_kind_name(kind));
    inbox_json_key(g, "name");
    inbox_json_string(g, name);
}


void
inbox_json_search(yajl_gen g, const inbox_search_t *search)
{
    if (search == NULL || search->name[0] == '\0') {
        return;
    }

    inbox_json_key(g, "search");
    yajl_gen_map_open(g);
    inbox_json_key(g, "phone_digits");
    yajl_gen_array_open(g);

    if (search->digits[0] != '\0') {
        inbox_json_string(g, search->digits);
    }

    if (search->dialled[0] != '\0') {
        inbox_json_string(g, search->dialled);
    }

    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}


char *
inbox_json_page(const void *items, size_t count, size_t size,
    inbox_json_item_pt item, const char *next_cursor, size_t *len)
{
    size_t    i;
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);

    inbox_json_key(g, "items");
    yajl_gen_array_open(g);
    for (i = 0; i < count; i++) {
        item(g, (const char *) items + i * size);
    }
    yajl_gen_array_close(g);

    inbox_json_key(g, "next_cursor");
    inbox_json_string(g, next_cursor[0] ? next_cursor : NULL);

    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


static void
inbox_json_message_item(yajl_gen g, const void *m)
{
    inbox_json_message(g, m);
}


char *
inbox_render_message_page(const inbox_message_page_t *page, size_t *len)
{
    return inbox_json_page(page->items, page->count, sizeof(page->items[0]),
                           inbox_json_message_item, page->next_cursor, len);
}


void
inbox_json_error_open(yajl_gen g, const inbox_error_t *err,
    const char *message)
{
    if (message == NULL) {
        message = inbox_error_client_message(err);
    }

    if (message[0] == '\0') {
        message = "something went wrong";
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "error");
    yajl_gen_map_open(g);

    inbox_json_key(g, "code");
    inbox_json_string(g, inbox_status_code(err ? err->code
                                               : INBOX_ERR_INTERNAL));
    inbox_json_key(g, "message");
    inbox_json_string(g, message);

    if (err != NULL && err->field[0] != '\0') {
        inbox_json_key(g, "field");
        inbox_json_string(g, err->field);
    }
}


char *
inbox_render_error(const inbox_error_t *err, size_t *len)
{
    yajl_gen         g;
    inbox_status_t   code;

    code = err ? err->code : INBOX_ERR_INTERNAL;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    inbox_json_error_open(g, err, NULL);

    /* the extra fields each code has in the contract */

    if (code == INBOX_ERR_INSUFFICIENT_CREDITS) {
        inbox_json_key(g, "needed");
        inbox_json_int(g, err->needed);
        inbox_json_key(g, "balance");
        inbox_json_int(g, err->balance);
    }

    if (code == INBOX_ERR_STALE) {
        inbox_json_key(g, "last_message_id");
        inbox_json_string(g, err->last_message_id[0] ? err->last_message_id
                                                     : NULL);
    }

    if (code == INBOX_ERR_ALREADY_SENT_AGAIN) {
        inbox_json_key(g, "message_id");
        inbox_json_string(g, err->last_message_id[0] ? err->last_message_id
                                                     : NULL);
    }

    if (code == INBOX_ERR_RATE_LIMITED) {
        inbox_json_key(g, "retry_after");
        inbox_json_int(g, err->retry_after ? err->retry_after : 1);
    }

    yajl_gen_map_close(g);
    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}
