/*
 * JSON for contacts: the record, the list, the timeline and the
 * organization's tags (see render.h).
 */
#include <stddef.h>
#include <inbox/phone.h>
#include <inbox/render.h>


static void inbox_json_contact_with(yajl_gen g,
    const inbox_contact_record_t *c, const inbox_contact_campaigns_t *list);


void
inbox_json_contact(yajl_gen g, const inbox_contact_record_t *c)
{
    inbox_json_contact_with(g, c, NULL);
}


static void
inbox_json_contact_with(yajl_gen g, const inbox_contact_record_t *c,
    const inbox_contact_campaigns_t *list)
{
    size_t  i;

    yajl_gen_map_open(g);

    inbox_json_key(g, "id");
    inbox_json_string(g, c->id);
    inbox_json_key(g, "name");
    inbox_json_string(g, c->name);
    inbox_json_phone(g, c->phone);
    inbox_json_key(g, "can_receive_mms");
    inbox_json_bool(g, inbox_phone_takes_mms(c->phone));

    inbox_json_key(g, "tags");
    yajl_gen_array_open(g);
    for (i = 0; i < c->tags.count; i++) {
        inbox_json_string(g, c->tags.items[i]);
    }
    yajl_gen_array_close(g);

    inbox_json_key(g, "opted_out");
    inbox_json_bool(g, c->opted_out);
    inbox_json_key(g, "opted_out_at");
    inbox_json_time_or_null(g, c->opted_out_at);
    inbox_json_key(g, "opt_out_source");
    inbox_json_string(g, c->opt_out_source[0] ? c->opt_out_source : NULL);
    inbox_json_key(g, "opt_out_keyword");
    inbox_json_string(g, c->opt_out_keyword[0] ? c->opt_out_keyword : NULL);
    inbox_json_key(g, "timezone");
    inbox_json_string(g, c->timezone[0] ? c->timezone : NULL);
    inbox_json_key(g, "created_at");
    inbox_json_time(g, c->created_at);
    inbox_json_key(g, "conversation_id");
    inbox_json_string(g, c->conversation_id[0] ? c->conversation_id : NULL);

    /* what it was sent and its answers: the record's (GET, and the
     * answers of a create or an edit), not a list item's nor an event's,
     * which do not read them: an empty list there would say the contact
     * had none */
    if (list == NULL) {
        yajl_gen_map_close(g);
        return;
    }

    inbox_json_key(g, "campaigns");
    yajl_gen_array_open(g);
    for (i = 0; i < list->campaign_count; i++) {
        inbox_json_campaign_ref_open(g, list->campaigns[i].id,
                                     list->campaigns[i].kind,
                                     list->campaigns[i].name);
        inbox_json_key(g, "sent_at");
        inbox_json_time(g, list->campaigns[i].sent_at);
        inbox_json_key(g, "status");
        inbox_json_string(g, list->campaigns[i].status);
        inbox_json_key(g, "state");
        inbox_json_string(g, inbox_recipient_state_name(
                                 list->campaigns[i].state));
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);

    inbox_json_key(g, "polls");
    yajl_gen_array_open(g);
    for (i = 0; i < list->poll_count; i++) {
        yajl_gen_map_open(g);
        inbox_json_key(g, "poll_id");
        inbox_json_string(g, list->polls[i].poll_id);
        inbox_json_key(g, "question");
        inbox_json_string(g, list->polls[i].question);
        inbox_json_key(g, "answer");
        inbox_json_string(g, list->polls[i].answer_text);
        inbox_json_key(g, "answer_number");
        inbox_json_int(g, list->polls[i].answer);
        inbox_json_key(g, "answered_at");
        inbox_json_time(g, list->polls[i].answered_at);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);

    yajl_gen_map_close(g);
}


char *
inbox_render_contact_record(const inbox_contact_record_t *c,
    const inbox_contact_campaigns_t *list, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    inbox_json_contact_with(g, c, list);

    return inbox_json_finish(g, len);
}


char *
inbox_render_contact_page(const inbox_contact_page_t *page,
    const inbox_search_t *search, size_t *len)
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
    for (i = 0; i < page->count; i++) {
        inbox_json_contact(g, &page->items[i]);
    }
    yajl_gen_array_close(g);

    inbox_json_key(g, "next_cursor");
    inbox_json_string(g, page->next_cursor[0] ? page->next_cursor : NULL);
    inbox_json_search(g, search);

    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


char *
inbox_render_tag_page(const inbox_tag_page_t *page, size_t *len)
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

    for (i = 0; i < page->count; i++) {
        yajl_gen_map_open(g);
        inbox_json_key(g, "tag");
        inbox_json_string(g, page->items[i].tag);
        inbox_json_key(g, "contacts");
        inbox_json_int(g, page->items[i].contacts);
        inbox_json_key(g, "sendable");
        inbox_json_int(g, page->items[i].sendable);
        yajl_gen_map_close(g);
    }

    yajl_gen_array_close(g);

    inbox_json_key(g, "more");
    inbox_json_bool(g, page->more);

    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


char *
inbox_render_timeline_page(const inbox_timeline_page_t *page, size_t *len)
{
    size_t                        i;
    yajl_gen                      g;
    const inbox_contact_event_t      *e;
    const inbox_timeline_campaign_t  *tc;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);

    inbox_json_key(g, "items");
    yajl_gen_array_open(g);

    for (i = 0; i < page->count; i++) {
        yajl_gen_map_open(g);
        inbox_json_key(g, "type");
        inbox_json_string(g, inbox_timeline_type_name(page->items[i].type));
        inbox_json_key(g, "at");
        inbox_json_time(g, page->items[i].at);

        tc = &page->items[i].campaign;

        if (page->items[i].type == INBOX_TIMELINE_MESSAGE) {
            inbox_json_key(g, "message");
            inbox_json_message(g, &page->items[i].message);

        } else if (page->items[i].type == INBOX_TIMELINE_CAMPAIGN) {
            /* a campaign or poll handed over, its message's status and
             * how its campaign counts the contact (never sent:
             * suppressed or cancelled) */
            inbox_json_key(g, "campaign");
            inbox_json_campaign_ref_open(g, tc->id,
                                         tc->poll ? INBOX_CAMPAIGN_KIND_POLL
                                         : INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                         tc->name);
            inbox_json_key(g, "status");
            inbox_json_string(g, tc->status);
            inbox_json_key(g, "state");
            inbox_json_string(g, tc->state[0] ? tc->state : NULL);
            yajl_gen_map_close(g);

        } else if (page->items[i].type == INBOX_TIMELINE_POLL_ANSWER) {
            inbox_json_key(g, "poll_id");
            inbox_json_string(g, tc->id);
            inbox_json_key(g, "question");
            inbox_json_string(g, tc->name);
            inbox_json_key(g, "answer");
            inbox_json_string(g, tc->answer_text);
            inbox_json_key(g, "answer_number");
            inbox_json_int(g, tc->answer);

        } else {
            /* an opt-out (its source) or an opt-in, with the keyword and
             * the message that said it, when one did */
            e = &page->items[i].event;
            inbox_json_key(g, "source");
            inbox_json_string(g, e->source[0] ? e->source : NULL);
            inbox_json_key(g, "keyword");
            inbox_json_string(g, e->keyword[0] ? e->keyword : NULL);
            inbox_json_key(g, "message_id");
            inbox_json_string(g, e->message_id[0] ? e->message_id : NULL);
        }

        yajl_gen_map_close(g);
    }

    yajl_gen_array_close(g);

    inbox_json_key(g, "next_cursor");
    inbox_json_string(g, page->next_cursor[0] ? page->next_cursor : NULL);

    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}
