/*
 * JSON for campaigns and polls: one, a page, a poll's results and the
 * preview of a send (see render.h).
 */
#include <stddef.h>
#include <inbox/render.h>


static void inbox_json_campaign_fields(yajl_gen g, const inbox_campaign_t *c);


/*
 * A campaign's counts (campaign.h): "recipients", fixed by the send (the
 * audience less those opted out then), never moves after it;
 * "suppressed" is every contact of the audience never sent its message
 * because of an opt-out, whether opted out at the send (never a
 * recipient) or since (still a recipient); each of the others counts
 * recipients in one state, so the recipients are those states and the
 * suppressed that opted out since, and what is left to go is queued and
 * waiting_quiet_hours.  "replied" counts recipients apart from their
 * state.
 */
void
inbox_json_campaign_counts(yajl_gen g, const inbox_campaign_counts_t *n)
{
    yajl_gen_map_open(g);
    inbox_json_key(g, "recipients");
    inbox_json_int(g, inbox_campaign_recipients(n->audience,
                                                n->excluded));
    inbox_json_key(g, "suppressed");
    inbox_json_int(g, n->suppressed);
    inbox_json_key(g, "waiting_quiet_hours");
    inbox_json_int(g, n->waiting_quiet_hours);
    inbox_json_key(g, "queued");
    inbox_json_int(g, n->queued);
    inbox_json_key(g, "sent");
    inbox_json_int(g, n->sent);
    inbox_json_key(g, "delivered");
    inbox_json_int(g, n->delivered);
    inbox_json_key(g, "failed");
    inbox_json_int(g, n->failed);
    inbox_json_key(g, "cancelled");
    inbox_json_int(g, n->cancelled);
    inbox_json_key(g, "replied");
    inbox_json_int(g, n->replied);
    yajl_gen_map_close(g);
}


void
inbox_json_campaign_cancelled(yajl_gen g, const inbox_campaign_t *c)
{
    int  cancelled;

    cancelled = c->status == INBOX_CAMPAIGN_CANCELLED;

    inbox_json_key(g, "cancelled_reason");
    inbox_json_string(g, cancelled
                         ? inbox_cancel_reason_name(c->cancelled_reason)
                         : NULL);
    inbox_json_key(g, "cancelled_message");
    inbox_json_string(g, cancelled ? c->cancelled_message : NULL);
}


void
inbox_json_campaign_refused(yajl_gen g, const inbox_campaign_t *c)
{
    int   refused;
    char  shown[INBOX_PHONE_DISPLAY_MAX];

    refused = c->status == INBOX_CAMPAIGN_PAUSED
              && c->paused_reason == INBOX_PAUSE_CARRIER_ACCOUNT;

    /* the number as people read it too, by libinbox's one rule */
    inbox_json_key(g, "paused_number");
    if (refused && c->paused_number[0] != '\0') {
        inbox_json_string(g, c->paused_number);
        inbox_phone_display(c->paused_number, shown);
        inbox_json_key(g, "paused_number_display");
        inbox_json_string(g, shown);
    } else {
        yajl_gen_null(g);
        inbox_json_key(g, "paused_number_display");
        yajl_gen_null(g);
    }

    inbox_json_key(g, "paused_error_code");
    inbox_json_string(g, refused && c->paused_error_code[0] != '\0'
                         ? c->paused_error_code : NULL);
}


void
inbox_json_campaign(yajl_gen g, const inbox_campaign_t *c)
{
    yajl_gen_map_open(g);
    inbox_json_campaign_fields(g, c);
    yajl_gen_map_close(g);
}


/* Its keys and values, in a map the caller opened. */
static void
inbox_json_campaign_fields(yajl_gen g, const inbox_campaign_t *c)
{
    size_t  i;
    int     poll;

    poll = c->kind == INBOX_CAMPAIGN_KIND_POLL;

    inbox_json_key(g, "id");
    inbox_json_string(g, c->id);
    inbox_json_key(g, "kind");
    inbox_json_string(g, inbox_campaign_kind_name(c->kind));
    inbox_json_key(g, "name");
    inbox_json_string(g, c->name);
    inbox_json_key(g, "body");
    inbox_json_string(g, c->body);

    inbox_json_key(g, "question");
    inbox_json_string(g, poll ? c->question : NULL);
    inbox_json_key(g, "options");
    if (poll) {
        yajl_gen_array_open(g);
        for (i = 0; i < c->option_count; i++) {
            inbox_json_string(g, c->options[i]);
        }
        yajl_gen_array_close(g);
    } else {
        yajl_gen_null(g);
    }

    /* each image with its upload's id, which an edit names to keep it
     * (null for one stored before ids were kept) */
    inbox_json_key(g, "media");
    yajl_gen_array_open(g);
    for (i = 0; i < c->media_count; i++) {
        yajl_gen_map_open(g);
        inbox_json_key(g, "id");
        inbox_json_string(g, c->media[i].upload_id[0] != '\0'
                             ? c->media[i].upload_id : NULL);
        inbox_json_media_fields(g, &c->media[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);

    inbox_json_key(g, "audience");
    yajl_gen_map_open(g);
    if (c->audience_all) {
        inbox_json_key(g, "all");
        inbox_json_bool(g, 1);
    } else {
        inbox_json_key(g, "tags");
        yajl_gen_array_open(g);
        for (i = 0; i < c->tags.count; i++) {
            inbox_json_string(g, c->tags.items[i]);
        }
        yajl_gen_array_close(g);
    }
    yajl_gen_map_close(g);

    inbox_json_key(g, "send_at");
    inbox_json_time_or_null(g, c->send_at);
    inbox_json_key(g, "status");
    inbox_json_string(g, inbox_campaign_status_name(c->status));
    inbox_json_key(g, "paused_reason");
    inbox_json_string(g, c->status == INBOX_CAMPAIGN_PAUSED
                         ? inbox_pause_reason_name(c->paused_reason) : NULL);
    inbox_json_campaign_refused(g, c);
    inbox_json_campaign_cancelled(g, c);
    inbox_json_key(g, "segments");
    inbox_json_int(g, c->segments);
    inbox_json_key(g, "credits");
    inbox_json_int(g, c->credits);
    inbox_json_key(g, "counts");
    inbox_json_campaign_counts(g, &c->counts);
    inbox_json_key(g, "created_at");
    inbox_json_time(g, c->created_at);
    inbox_json_key(g, "started_at");
    inbox_json_time_or_null(g, c->started_at);
    inbox_json_key(g, "finished_at");
    inbox_json_time_or_null(g, c->finished_at);
    /* when its first message was handed over: the web app offers Delete
     * on a cancelled one without it (inbox_campaign_deletable) */
    inbox_json_key(g, "handed_at");
    inbox_json_time_or_null(g, c->handed_at);
}


char *
inbox_render_campaign(const inbox_campaign_t *c, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    inbox_json_campaign(g, c);

    return inbox_json_finish(g, len);
}


static void
inbox_json_campaign_item(yajl_gen g, const void *c)
{
    inbox_json_campaign(g, c);
}


char *
inbox_render_campaign_page(const inbox_campaign_page_t *page, size_t *len)
{
    return inbox_json_page(page->items, page->count, sizeof(page->items[0]),
                           inbox_json_campaign_item, page->next_cursor, len);
}


void
inbox_json_poll_tally(yajl_gen g, const inbox_campaign_t *poll)
{
    size_t  i;

    yajl_gen_array_open(g);
    for (i = 0; i < poll->option_count; i++) {
        yajl_gen_map_open(g);
        inbox_json_key(g, "number");
        inbox_json_int(g, (int64_t) i + 1);
        inbox_json_key(g, "option");
        inbox_json_string(g, poll->options[i]);
        inbox_json_key(g, "count");
        inbox_json_int(g, poll->tally[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}


/* The page of responses results holds, as an array. */
static void
inbox_json_poll_responses(yajl_gen g, const inbox_poll_results_t *results)
{
    size_t                        i;
    const inbox_campaign_t       *poll;
    const inbox_poll_response_t  *r;

    poll = &results->poll;

    yajl_gen_array_open(g);
    for (i = 0; i < results->count; i++) {
        r = &results->responses[i];

        yajl_gen_map_open(g);
        inbox_json_key(g, "contact");
        yajl_gen_map_open(g);
        inbox_json_key(g, "id");
        inbox_json_string(g, r->contact_id);
        inbox_json_key(g, "name");
        inbox_json_string(g, r->name);
        inbox_json_phone(g, r->phone);
        yajl_gen_map_close(g);
        inbox_json_key(g, "answer");
        inbox_json_string(g, r->answer >= 1 && r->answer <= poll->option_count
                             ? poll->options[r->answer - 1] : NULL);
        inbox_json_key(g, "answer_number");
        inbox_json_int(g, r->answer);
        inbox_json_key(g, "answered_at");
        inbox_json_time(g, r->answered_at);
        inbox_json_key(g, "message_id");
        inbox_json_string(g, r->message_id[0] ? r->message_id : NULL);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}


char *
inbox_render_poll_results(const inbox_poll_results_t *results, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);
    inbox_json_campaign_fields(g, &results->poll);

    inbox_json_key(g, "tally");
    inbox_json_poll_tally(g, &results->poll);

    inbox_json_key(g, "responses");
    inbox_json_poll_responses(g, results);
    inbox_json_key(g, "responses_next_cursor");
    inbox_json_string(g, results->next_cursor[0] ? results->next_cursor
                                                 : NULL);

    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


char *
inbox_render_poll_responses(const inbox_poll_results_t *results,
    size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "items");
    inbox_json_poll_responses(g, results);
    inbox_json_key(g, "next_cursor");
    inbox_json_string(g, results->next_cursor[0] ? results->next_cursor
                                                 : NULL);
    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


char *
inbox_render_campaign_estimate(const inbox_campaign_estimate_t *e,
    size_t *len)
{
    int64_t   recipients, no_mms;
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    recipients = inbox_campaign_recipients(e->audience, e->suppressed);
    /* counted apart: never more than there are */
    no_mms = e->no_mms < recipients ? e->no_mms : recipients;

    yajl_gen_map_open(g);
    inbox_json_key(g, "recipients");
    inbox_json_int(g, recipients);
    inbox_json_key(g, "suppressed");
    inbox_json_int(g, e->suppressed);
    inbox_json_key(g, "encoding");
    inbox_json_string(g, inbox_sms_encoding_name(e->seg.encoding));
    inbox_json_key(g, "segments");
    inbox_json_int(g, e->segments);
    inbox_json_key(g, "characters");
    inbox_json_int(g, e->seg.characters);
    inbox_json_key(g, "credits");
    inbox_json_int(g, e->credits);
    inbox_json_key(g, "without_mms");

    if (e->media_count == 0) {
        yajl_gen_null(g);

    } else {
        yajl_gen_map_open(g);
        inbox_json_key(g, "recipients");
        inbox_json_int(g, no_mms);
        inbox_json_key(g, "segments");
        inbox_json_int(g, e->links_segments);
        inbox_json_key(g, "credits");
        inbox_json_int(g, e->links_credits);
        yajl_gen_map_close(g);
    }

    inbox_json_key(g, "total_credits");
    inbox_json_int(g, (recipients - no_mms) * (int64_t) e->credits
                      + no_mms * (int64_t) e->links_credits);
    inbox_json_key(g, "balance");
    inbox_json_int(g, e->balance);
    inbox_json_key(g, "plan");
    inbox_json_string(g, inbox_plan_name(e->plan));
    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}
