/*
 * Billing and its ledger as the API shows them.
 */
#include <inbox/render.h>


void
inbox_json_billing(yajl_gen g, const inbox_billing_t *billing)
{
    yajl_gen_map_open(g);
    inbox_json_key(g, "active");
    inbox_json_bool(g, billing->active);
    inbox_json_key(g, "plan");
    inbox_json_string(g, billing->plan);
    inbox_json_key(g, "credits");
    yajl_gen_map_open(g);
    inbox_json_key(g, "balance");
    inbox_json_int(g, billing->balance);
    inbox_json_key(g, "held");
    inbox_json_int(g, billing->held);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
}


char *
inbox_render_billing(const inbox_billing_t *billing, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    inbox_json_billing(g, billing);

    return inbox_json_finish(g, len);
}


char *
inbox_render_ledger_page(const inbox_ledger_page_t *page, size_t *len)
{
    size_t                       i;
    yajl_gen                     g;
    const inbox_ledger_entry_t  *e;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "items");
    yajl_gen_array_open(g);

    for (i = 0; i < page->count; i++) {
        e = &page->items[i];

        yajl_gen_map_open(g);
        inbox_json_key(g, "id");
        inbox_json_string(g, e->id);
        inbox_json_key(g, "kind");
        inbox_json_string(g, inbox_ledger_kind_name(e->kind));
        inbox_json_key(g, "credits");
        inbox_json_int(g, e->credits);
        inbox_json_key(g, "balance");
        inbox_json_int(g, e->balance);
        inbox_json_key(g, "held");
        inbox_json_int(g, e->held);
        inbox_json_key(g, "message_id");
        inbox_json_string(g, e->message_id[0] ? e->message_id : NULL);
        inbox_json_key(g, "conversation_id");
        inbox_json_string(g, e->conversation_id[0] ? e->conversation_id
                                                   : NULL);
        inbox_json_key(g, "contact");
        if (e->contact_phone[0] != '\0') {
            yajl_gen_map_open(g);
            inbox_json_key(g, "name");
            inbox_json_string(g, e->contact_name[0] ? e->contact_name : NULL);
            inbox_json_phone(g, e->contact_phone);
            yajl_gen_map_close(g);
        } else {
            yajl_gen_null(g);
        }
        inbox_json_key(g, "campaign");
        if (e->campaign.id[0] != '\0') {
            inbox_json_campaign_ref_open(g, e->campaign.id,
                                         e->campaign.kind, e->campaign.name);
            yajl_gen_map_close(g);
        } else {
            yajl_gen_null(g);
        }
        inbox_json_key(g, "error_code");
        inbox_json_string(g, e->error_code[0] ? e->error_code : NULL);
        inbox_json_key(g, "at");
        inbox_json_time(g, e->at);
        yajl_gen_map_close(g);
    }

    yajl_gen_array_close(g);
    inbox_json_key(g, "next_cursor");
    inbox_json_string(g, page->next_cursor[0] ? page->next_cursor : NULL);
    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}
