/*
 * The MongoDB backend: an organization's event stream.  Each change a
 * browser must see reserves the organization's next event numbers on its
 * org document, then stores in events what each event refers to (ids, the
 * unread total), where resuming browsers will find them: the frames are
 * rendered again from the documents they name, never stored twice.  Which
 * events a change makes, and their frames, are libinbox's (event.h).  The
 * stream's position, for a WebSocket's "hello", is read here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_mongo.h"


inbox_status_t
inbox_mongo_events_reserve(inbox_mongo_store_t *ms, const bson_oid_t *org,
    int64_t n, int64_t *first, char epoch[INBOX_EPOCH_MAX],
    inbox_error_t *err)
{
    int             found;
    bson_t          value;
    inbox_status_t  rc;

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("orgs"),
                 "query", "{", "_id", BCON_OID(org), "}",
                 "update", "{", "$inc", "{", "seq", BCON_INT64(n), "}", "}",
                 "fields", "{",
                     "seq", BCON_INT32(1), "epoch", BCON_INT32(1),
                 "}",
                 "new", BCON_BOOL(true)),
        &value, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                             "The organization of this change does not "
                             "exist.");
    }

    /* the new seq is the last of the n reserved */
    *first = inbox_mongo_get_int(&value, "seq") - n + 1;
    inbox_mongo_get_str(&value, "epoch", epoch, INBOX_EPOCH_MAX);
    bson_destroy(&value);

    return rc;
}


inbox_status_t
inbox_mongo_events_append(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_change_t *change, inbox_event_list_t *events, inbox_error_t *err)
{
    char                   key[24], org_hex[INBOX_ID_MAX];
    char                   epoch[INBOX_EPOCH_MAX];
    bson_t                 docs, doc;
    bson_t                *command;
    size_t                 i;
    int64_t                now, first, unread_total;
    bson_oid_t             oid, ref;
    inbox_status_t         rc;
    inbox_change_event_t  *e;

    rc = inbox_mongo_events_reserve(ms, org, (int64_t) change->count, &first,
                                    epoch, err);
    if (rc != INBOX_OK) {
        goto done;
    }

    if (inbox_change_wants_total(change)) {
        rc = inbox_mongo_unread_total(ms, org, &unread_total, err);
        if (rc != INBOX_OK) {
            goto done;
        }

        inbox_change_set_total(change, unread_total);
    }

    if (inbox_change_render(change, first, epoch) != 0) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto done;
    }

    now = inbox_mongo_now(ms);
    bson_init(&docs);

    for (i = 0; i < change->count; i++) {
        e = &change->items[i];

        snprintf(key, sizeof(key), "%zu", i);
        inbox_mongo_new_id(ms, &oid);

        BSON_APPEND_DOCUMENT_BEGIN(&docs, key, &doc);
        BSON_APPEND_OID(&doc, "_id", &oid);
        BSON_APPEND_OID(&doc, "org_id", org);
        BSON_APPEND_INT64(&doc, "seq", e->org_seq);
        BSON_APPEND_UTF8(&doc, "type", e->type);
        BSON_APPEND_UTF8(&doc, "epoch", epoch);

        if (e->message_id != NULL
            && inbox_mongo_parse_id(e->message_id, &ref) == 0)
        {
            BSON_APPEND_OID(&doc, "message_id", &ref);
        }

        if (e->conversation_id != NULL
            && inbox_mongo_parse_id(e->conversation_id, &ref) == 0)
        {
            BSON_APPEND_OID(&doc, "conversation_id", &ref);
        }

        if (e->campaign_id != NULL
            && inbox_mongo_parse_id(e->campaign_id, &ref) == 0)
        {
            BSON_APPEND_OID(&doc, "campaign_id", &ref);
        }

        /* which names a deleted one (a resume's campaign.deleted) */
        if (e->campaign_kind != NULL) {
            BSON_APPEND_UTF8(&doc, "campaign_kind", e->campaign_kind);
        }

        if (e->user_id != NULL
            && inbox_mongo_parse_id(e->user_id, &ref) == 0)
        {
            BSON_APPEND_OID(&doc, "user_id", &ref);
        }

        if (e->token_id != NULL
            && inbox_mongo_parse_id(e->token_id, &ref) == 0)
        {
            BSON_APPEND_OID(&doc, "token_id", &ref);
        }

        if (e->session_id != NULL
            && inbox_mongo_parse_id(e->session_id, &ref) == 0)
        {
            BSON_APPEND_OID(&doc, "session_id", &ref);
        }

        if (e->unread_total >= 0) {
            BSON_APPEND_INT64(&doc, "unread_total", e->unread_total);
        }

        BSON_APPEND_DATE_TIME(&doc, "created_at", now);
        bson_append_document_end(&docs, &doc);
    }

    command = BCON_NEW("insert", BCON_UTF8("events"),
                       "documents", BCON_ARRAY(&docs),
                       "ordered", BCON_BOOL(true));
    bson_destroy(&docs);

    rc = inbox_mongo_run_simple(ms, command, err);
    if (rc != INBOX_OK) {
        goto done;
    }

    inbox_mongo_id_hex(org, org_hex);

    if (inbox_change_push(change, org_hex, events) != 0) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

done:

    inbox_change_free(change);

    return rc;
}


inbox_status_t
inbox_mongo_realtime_state(inbox_store_t *store, const char *org_id,
    inbox_realtime_state_t *state, inbox_error_t *err)
{
    int                   found;
    bson_t                doc;
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(state, 0, sizeof(inbox_realtime_state_t));

    /* A malformed id names nothing, like another organization's. */
    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_not_found(err, "organization");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "orgs", BCON_NEW("_id", BCON_OID(&org)),
                              BCON_NEW("seq", BCON_INT32(1),
                                       "epoch", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "organization");
    }

    if (rc == INBOX_OK) {
        state->org_seq = inbox_mongo_get_int(&doc, "seq");
        inbox_mongo_get_str(&doc, "epoch", state->epoch,
                            sizeof(state->epoch));
    }

    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_unread_total(ms, &org, &state->unread_total, err);
}


/* What stream_positions fills, by the ids asked. */
typedef struct {
    const char *const        *org_ids;
    size_t                    n;
    inbox_stream_position_t  *positions;
} inbox_mongo_positions_t;


static inbox_status_t
inbox_mongo_position_add(void *data, const bson_t *doc, inbox_error_t *err)
{
    char                      id[INBOX_ID_MAX];
    size_t                    i;
    inbox_mongo_positions_t  *p = data;

    inbox_mongo_get_id(doc, "_id", id);

    for (i = 0; i < p->n; i++) {
        if (strcmp(p->org_ids[i], id) == 0) {
            p->positions[i].org_seq = inbox_mongo_get_int(doc, "seq");
            inbox_mongo_get_str(doc, "epoch", p->positions[i].epoch,
                                sizeof(p->positions[i].epoch));
        }
    }

    return INBOX_OK;
}


/* One find over the organizations' ids, their seq and epoch only. */
inbox_status_t
inbox_mongo_stream_positions(inbox_store_t *store,
    const char *const *org_ids, size_t n, inbox_stream_position_t *positions,
    inbox_error_t *err)
{
    char                     key[24];
    bson_t                   filter, in, ids, batch;
    size_t                   i, k;
    bson_oid_t               org;
    inbox_status_t           rc;
    inbox_mongo_store_t     *ms = (inbox_mongo_store_t *) store;
    inbox_mongo_positions_t  found;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    bson_init(&filter);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &ids);

    for (i = 0, k = 0; i < n; i++) {
        /* a malformed id names nothing, like another store's */
        if (inbox_mongo_parse_id(org_ids[i], &org) == 0) {
            snprintf(key, sizeof(key), "%zu", k++);
            BSON_APPEND_OID(&ids, key, &org);
        }
    }

    bson_append_array_end(&in, &ids);
    bson_append_document_end(&filter, &in);

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("orgs"),
                 "filter", BCON_DOCUMENT(&filter),
                 "projection", "{",
                     "seq", BCON_INT32(1),
                     "epoch", BCON_INT32(1),
                 "}",
                 "limit", BCON_INT32((int32_t) n),
                 "batchSize", BCON_INT32((int32_t) n),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);
    bson_destroy(&filter);

    if (rc == INBOX_OK) {
        found.org_ids = org_ids;
        found.n = n;
        found.positions = positions;
        rc = inbox_mongo_batch_each(&batch, inbox_mongo_position_add, &found,
                                    err);
    }

    bson_destroy(&batch);

    return rc;
}


/* resume */


int
inbox_mongo_batch_get(const bson_t *batch, const bson_oid_t *id, bson_t *doc)
{
    bson_iter_t  iter, field;

    if (!bson_iter_init(&iter, batch)) {
        return 0;
    }

    while (inbox_mongo_next_doc(&iter, doc)) {
        if (bson_iter_init_find(&field, doc, "_id")
            && BSON_ITER_HOLDS_OID(&field)
            && bson_oid_equal(bson_iter_oid(&field), id))
        {
            return 1;
        }
    }

    return 0;
}


inbox_status_t
inbox_mongo_find_in(inbox_mongo_store_t *ms, const char *collection,
    const bson_oid_t *org, const bson_t *ids, uint32_t n,
    const char *const *fields, bson_t *batch, inbox_error_t *err)
{
    size_t   i;
    bson_t   projection;
    bson_t  *command;

    if (n == 0) {
        bson_init(batch);
        return INBOX_OK;
    }

    command = BCON_NEW("find", BCON_UTF8(collection),
                       "filter", "{",
                           "_id", "{", "$in", BCON_ARRAY(ids), "}",
                           "org_id", BCON_OID(org),
                       "}");

    if (fields != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(command, "projection", &projection);
        for (i = 0; fields[i] != NULL; i++) {
            BSON_APPEND_INT32(&projection, fields[i], 1);
        }
        bson_append_document_end(command, &projection);
    }

    /* a limit, not singleBatch: 1,000 messages may pass a batch's 16 MiB,
     * and the rest come with getMore */
    BCON_APPEND(command, "limit", BCON_INT32((int32_t) n),
                "batchSize", BCON_INT32((int32_t) n));

    return inbox_mongo_run_cursor(ms, command, batch, err);
}


void
inbox_mongo_array_add(bson_t *array, uint32_t *n, const bson_oid_t *oid)
{
    char         buf[16];
    const char  *key;
    bson_iter_t  iter;

    if (bson_iter_init(&iter, array)) {
        while (bson_iter_next(&iter)) {
            if (BSON_ITER_HOLDS_OID(&iter)
                && bson_oid_equal(bson_iter_oid(&iter), oid))
            {
                return;
            }
        }
    }

    bson_uint32_to_string(*n, &key, buf, sizeof(buf));
    BSON_APPEND_OID(array, key, oid);
    (*n)++;
}


/* The rows of a stored event (doc), loaded into ref from the batches;
 * pointers of what is missing stay NULL. */
static inbox_status_t
inbox_mongo_event_ref(const bson_t *doc, const bson_t *messages,
    const bson_t *conversations, const bson_t *contacts,
    inbox_event_ref_t *ref, inbox_message_t *message,
    inbox_conversation_t *conversation, inbox_contact_record_t *contact,
    inbox_error_t *err)
{
    bson_t          row;
    bson_iter_t     iter;
    bson_oid_t      oid;
    unsigned        needs;
    inbox_status_t  rc;

    needs = inbox_event_ref_needs(ref->type);

    if ((needs & INBOX_EVENT_NEEDS_MESSAGE)
        && bson_iter_init_find(&iter, doc, "message_id")
        && BSON_ITER_HOLDS_OID(&iter)
        && inbox_mongo_batch_get(messages, bson_iter_oid(&iter), &row))
    {
        rc = inbox_mongo_parse_message(&row, message, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        ref->message = message;
    }

    if ((needs & INBOX_EVENT_NEEDS_CONVERSATION)
        && bson_iter_init_find(&iter, doc, "conversation_id")
        && BSON_ITER_HOLDS_OID(&iter)
        && inbox_mongo_batch_get(conversations, bson_iter_oid(&iter), &row))
    {
        inbox_mongo_parse_conversation(&row, conversation);
        ref->conversation = conversation;
    }

    if ((needs & INBOX_EVENT_NEEDS_CONTACT) && ref->conversation != NULL
        && inbox_mongo_parse_id(conversation->contact.id, &oid) == 0
        && inbox_mongo_batch_get(contacts, &oid, &row))
    {
        inbox_mongo_parse_contact(&row, contact);
        ref->contact = contact;
    }

    return INBOX_OK;
}


/* Renders the events of batch (seq after_seq + 1 on, no hole) onto
 * events, from the rows in the other batches. */
static inbox_status_t
inbox_mongo_events_render(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_t *batch, int64_t after_seq, const bson_t *messages,
    const bson_t *conversations, const bson_t *contacts, const char *org_hex,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                     r;
    char                    type[32], epoch[INBOX_EPOCH_MAX];
    char                    subject[INBOX_ID_MAX];
    char                    campaign_hex[INBOX_ID_MAX], campaign_kind[16];
    char                   *frame;
    bson_t                  doc;
    int64_t                 expect;
    bson_iter_t             iter;
    inbox_status_t          rc;
    inbox_message_t         message;
    inbox_event_ref_t       ref;
    inbox_conversation_t    conversation;
    inbox_contact_record_t  contact;
    inbox_campaign_t        campaign;
    bson_oid_t              campaign_id;
    bson_iter_t             field;
    int                     have_campaign, have_billing, have_settings;
    inbox_billing_t         billing;
    inbox_settings_t        settings;

    expect = after_seq + 1;
    rc = INBOX_OK;
    have_campaign = 0;
    have_billing = 0;
    have_settings = 0;
    memset(&campaign, 0, sizeof(campaign));

    if (!bson_iter_init(&iter, batch)) {
        return INBOX_OK;
    }

    while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
        /* a number given out but not written yet: the answer stops */
        if (inbox_mongo_get_int(&doc, "seq") != expect) {
            break;
        }

        memset(&ref, 0, sizeof(ref));
        memset(&message, 0, sizeof(message));
        memset(&conversation, 0, sizeof(conversation));
        memset(&contact, 0, sizeof(contact));

        inbox_mongo_get_str(&doc, "type", type, sizeof(type));
        inbox_mongo_get_str(&doc, "epoch", epoch, sizeof(epoch));
        ref.type = type;
        ref.epoch = epoch;
        ref.org_seq = expect;
        ref.unread_total = inbox_mongo_get_int(&doc, "unread_total");

        rc = inbox_mongo_event_ref(&doc, messages, conversations, contacts,
                                   &ref, &message, &conversation, &contact,
                                   err);

        /* user.*, token.revoked, session.ended: the id is all the frame
         * shows */
        if ((inbox_event_ref_needs(type) & INBOX_EVENT_NEEDS_USER)
            && bson_iter_init_find(&field, &doc, "user_id")
            && BSON_ITER_HOLDS_OID(&field))
        {
            inbox_mongo_id_hex(bson_iter_oid(&field), subject);
            ref.user_id = subject;
        }

        if ((inbox_event_ref_needs(type) & INBOX_EVENT_NEEDS_TOKEN)
            && bson_iter_init_find(&field, &doc, "token_id")
            && BSON_ITER_HOLDS_OID(&field))
        {
            inbox_mongo_id_hex(bson_iter_oid(&field), subject);
            ref.token_id = subject;
        }

        if ((inbox_event_ref_needs(type) & INBOX_EVENT_NEEDS_SESSION)
            && bson_iter_init_find(&field, &doc, "session_id")
            && BSON_ITER_HOLDS_OID(&field))
        {
            inbox_mongo_id_hex(bson_iter_oid(&field), subject);
            ref.session_id = subject;
        }

        /* a campaign event's id and kind, which name it once deleted */
        if ((inbox_event_ref_needs(type) & INBOX_EVENT_NEEDS_CAMPAIGN_ID)
            && bson_iter_init_find(&field, &doc, "campaign_id")
            && BSON_ITER_HOLDS_OID(&field))
        {
            inbox_mongo_id_hex(bson_iter_oid(&field), campaign_hex);
            ref.campaign_id = campaign_hex;
            inbox_mongo_get_str(&doc, "campaign_kind", campaign_kind,
                                sizeof(campaign_kind));
            ref.campaign_kind = campaign_kind[0] != '\0' ? campaign_kind
                                                          : NULL;
        }

        /* campaign.progress, campaign.updated: the campaign as it is
         * now, read once for its events in a row */
        if (rc == INBOX_OK
            && (inbox_event_ref_needs(type) & INBOX_EVENT_NEEDS_CAMPAIGN)
            && bson_iter_init_find(&field, &doc, "campaign_id")
            && BSON_ITER_HOLDS_OID(&field))
        {
            if (!have_campaign
                || !bson_oid_equal(&campaign_id, bson_iter_oid(&field)))
            {
                inbox_campaign_free(&campaign);
                memset(&campaign, 0, sizeof(campaign));
                bson_oid_copy(bson_iter_oid(&field), &campaign_id);
                rc = inbox_mongo_campaign_load(ms, org, &campaign_id,
                                               &campaign, err);
                have_campaign = (rc == INBOX_OK);
                if (rc == INBOX_ERR_NOT_FOUND) {
                    rc = INBOX_OK;
                }
            }

            if (have_campaign) {
                ref.campaign = &campaign;
            }
        }

        /* billing.updated: the organization's billing as it is now, read
         * once for all of them */
        if (rc == INBOX_OK
            && (inbox_event_ref_needs(type) & INBOX_EVENT_NEEDS_BILLING))
        {
            if (!have_billing) {
                rc = inbox_mongo_billing_load(ms, org, &billing, err);
                have_billing = (rc == INBOX_OK);
                if (rc == INBOX_ERR_NOT_FOUND) {
                    rc = INBOX_OK;
                }
            }

            if (have_billing) {
                ref.billing = &billing;
            }
        }

        /* settings.updated: the organization's settings as they are
         * now, read once for all of them */
        if (rc == INBOX_OK
            && (inbox_event_ref_needs(type) & INBOX_EVENT_NEEDS_SETTINGS))
        {
            if (!have_settings) {
                rc = inbox_mongo_settings_load(ms, org, &settings, err);
                have_settings = (rc == INBOX_OK);
                if (rc == INBOX_ERR_NOT_FOUND) {
                    rc = INBOX_OK;
                }
            }

            if (have_settings) {
                ref.settings = &settings;
            }
        }

        if (rc == INBOX_OK) {
            r = inbox_event_ref_render(&ref, &frame);

            if (r == 1) {
                rc = inbox_error_set_field(err, INBOX_ERR_CONFLICT,
                                           "org_seq",
                                           "Event %lld refers to what is no "
                                           "longer kept: reload.",
                                           (long long) expect);

            } else if (r != 0
                       || inbox_event_list_add(events, org_hex, expect,
                                               ref.type, ref.epoch,
                                               inbox_event_ref_unread(&ref),
                                               frame)
                          != 0)
            {
                rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "Out of memory.");
            }
        }

        inbox_message_free(&message);
        inbox_conversation_free(&conversation);
        inbox_contact_record_free(&contact);
        expect++;
    }

    inbox_campaign_free(&campaign);

    return rc;
}


inbox_status_t
inbox_mongo_events_since(inbox_store_t *store, const char *org_id,
    const char *epoch, int64_t after_seq, int64_t until_seq, size_t limit,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found, wants_contacts;
    char                  current[INBOX_EPOCH_MAX], org_hex[INBOX_ID_MAX];
    char                  type[32];
    bson_t                doc, batch, messages, conversations, contacts;
    bson_t                message_ids, conversation_ids, contact_ids;
    bson_t                row;
    size_t                first;
    int64_t               newest, oldest, expect;
    uint32_t              n_messages, n_conversations, n_contacts;
    bson_iter_t           iter, field;
    bson_oid_t            org, oid;
    inbox_status_t        rc;
    inbox_conversation_t  conversation;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_not_found(err, "organization");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "orgs", BCON_NEW("_id", BCON_OID(&org)),
                              BCON_NEW("seq", BCON_INT32(1),
                                       "epoch", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "organization");
    }

    newest = inbox_mongo_get_int(&doc, "seq");
    inbox_mongo_get_str(&doc, "epoch", current, sizeof(current));
    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        return rc;
    }

    if (until_seq <= 0 || until_seq > newest) {
        until_seq = newest;
    }

    /* the oldest event kept: retention deletes from the oldest on */
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("events"),
                 "filter", "{", "org_id", BCON_OID(&org), "}",
                 "sort", "{", "seq", BCON_INT32(1), "}",
                 "projection", "{", "seq", BCON_INT32(1), "}",
                 "limit", BCON_INT32(1),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);

    oldest = inbox_mongo_get_int(&batch, "0.seq");
    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_events_replayable(epoch, current, after_seq, until_seq, oldest,
                                 err);
    if (rc != INBOX_OK || after_seq >= until_seq) {
        return rc;
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("events"),
                 "filter", "{",
                     "org_id", BCON_OID(&org),
                     "seq", "{",
                         "$gt", BCON_INT64(after_seq),
                         "$lte", BCON_INT64(until_seq),
                     "}",
                 "}",
                 "sort", "{", "seq", BCON_INT32(1), "}",
                 "limit", BCON_INT32((int32_t) limit),
                 "batchSize", BCON_INT32((int32_t) limit),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    /* what the events refer to, one query per collection */
    bson_init(&message_ids);
    bson_init(&conversation_ids);
    bson_init(&contact_ids);
    bson_init(&messages);
    bson_init(&conversations);
    bson_init(&contacts);
    n_messages = 0;
    n_conversations = 0;
    n_contacts = 0;
    wants_contacts = 0;
    expect = after_seq + 1;

    if (bson_iter_init(&iter, &batch)) {
        while (inbox_mongo_next_doc(&iter, &doc)) {
            if (inbox_mongo_get_int(&doc, "seq") != expect++) {
                break;
            }

            inbox_mongo_get_str(&doc, "type", type, sizeof(type));
            if (inbox_event_ref_needs(type) & INBOX_EVENT_NEEDS_CONTACT) {
                wants_contacts = 1;
            }

            if (bson_iter_init_find(&field, &doc, "message_id")
                && BSON_ITER_HOLDS_OID(&field))
            {
                inbox_mongo_array_add(&message_ids, &n_messages,
                                      bson_iter_oid(&field));
            }

            if (bson_iter_init_find(&field, &doc, "conversation_id")
                && BSON_ITER_HOLDS_OID(&field))
            {
                inbox_mongo_array_add(&conversation_ids, &n_conversations,
                                      bson_iter_oid(&field));
            }
        }
    }

    bson_destroy(&messages);
    rc = inbox_mongo_find_in(ms, "messages", &org, &message_ids, n_messages,
                             inbox_mongo_message_fields, &messages, err);

    bson_destroy(&conversations);
    if (rc == INBOX_OK) {
        rc = inbox_mongo_find_in(ms, "conversations", &org,
                                 &conversation_ids, n_conversations,
                                 inbox_mongo_conversation_fields,
                                 &conversations, err);
    } else {
        bson_init(&conversations);
    }

    /* contact.updated shows the contact of its conversation */
    if (rc == INBOX_OK && wants_contacts
        && bson_iter_init(&iter, &conversations))
    {
        while (inbox_mongo_next_doc(&iter, &row)) {
            inbox_mongo_parse_conversation(&row, &conversation);

            if (inbox_mongo_parse_id(conversation.contact.id, &oid) == 0) {
                inbox_mongo_array_add(&contact_ids, &n_contacts, &oid);
            }

            inbox_conversation_free(&conversation);
        }
    }

    bson_destroy(&contacts);
    if (rc == INBOX_OK) {
        rc = inbox_mongo_find_in(ms, "contacts", &org, &contact_ids,
                                 n_contacts, inbox_mongo_contact_fields,
                                 &contacts, err);
    } else {
        bson_init(&contacts);
    }

    first = events->count;

    if (rc == INBOX_OK) {
        inbox_mongo_id_hex(&org, org_hex);
        rc = inbox_mongo_events_render(ms, &org, &batch, after_seq,
                                       &messages, &conversations, &contacts,
                                       org_hex, events, err);
    }

    if (rc != INBOX_OK) {
        inbox_event_list_truncate(events, first);
    }

    bson_destroy(&batch);
    bson_destroy(&message_ids);
    bson_destroy(&conversation_ids);
    bson_destroy(&contact_ids);
    bson_destroy(&messages);
    bson_destroy(&conversations);
    bson_destroy(&contacts);

    return rc;
}


/* retention */


/* *last: the org_seq of the last of org's oldest limit events that the
 * count lets go (max_seq) which keep does not hold, oldest first up to
 * the first one kept, so that what stays has no hole; 0 for none. */
static inbox_status_t
inbox_mongo_prune_walk(inbox_mongo_store_t *ms, const bson_oid_t *org,
    int64_t newest, int64_t now, const inbox_event_retention_t *keep,
    int64_t max_seq, size_t limit, int64_t *last, inbox_error_t *err)
{
    bson_t          batch, doc;
    bson_iter_t     iter;
    inbox_status_t  rc;

    *last = 0;

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("events"),
                 "filter", "{",
                     "org_id", BCON_OID(org),
                     "seq", "{", "$lte", BCON_INT64(max_seq), "}",
                 "}",
                 "sort", "{", "seq", BCON_INT32(1), "}",
                 "projection", "{",
                     "seq", BCON_INT32(1), "created_at", BCON_INT32(1),
                 "}",
                 "limit", BCON_INT32((int32_t) limit),
                 "batchSize", BCON_INT32((int32_t) limit),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);

    if (rc == INBOX_OK && bson_iter_init(&iter, &batch)) {
        while (inbox_mongo_next_doc(&iter, &doc)) {
            if (!inbox_event_prunable(keep, now, newest,
                                      inbox_mongo_get_int(&doc, "seq"),
                                      inbox_mongo_get_date(&doc,
                                                           "created_at")))
            {
                break;
            }

            *last = inbox_mongo_get_int(&doc, "seq");
        }
    }

    bson_destroy(&batch);

    return rc;
}


/* Deletes org's oldest events while keep does not hold them, at most
 * max; *removed gets how many.  Only the events the count lets go are
 * read (a range of org_seq_unique, empty for an organization with none
 * past its newest keep_count), and the oldest of them alone first: one
 * its age keeps costs that one event.  The age is not in the filter:
 * the server would walk every younger event up to the count's bound (a
 * busy organization's day of them) each round, to find none. */
static inbox_status_t
inbox_mongo_prune_org(inbox_mongo_store_t *ms, const bson_oid_t *org,
    int64_t newest, int64_t now, const inbox_event_retention_t *keep,
    size_t max, size_t *removed, inbox_error_t *err)
{
    int64_t         last, max_seq, before;
    inbox_status_t  rc;

    *removed = 0;

    inbox_event_prune_bounds(keep, now, newest, &max_seq, &before);
    if (max_seq < 1) {
        return INBOX_OK;
    }

    rc = inbox_mongo_prune_walk(ms, org, newest, now, keep, max_seq, 1,
                                &last, err);

    if (rc == INBOX_OK && last != 0 && max > 1) {
        rc = inbox_mongo_prune_walk(ms, org, newest, now, keep, max_seq, max,
                                    &last, err);
    }

    if (rc != INBOX_OK || last == 0) {
        return rc;
    }

    return inbox_mongo_delete(ms, "events",
                              BCON_NEW("org_id", BCON_OID(org),
                                       "seq", "{",
                                           "$lte", BCON_INT64(last),
                                       "}"),
                              removed, err);
}


/*
 * The organizations in _id order, a page a round, each round after the
 * last one the round before finished, from the start again after the
 * last page: every organization has its turn, however many there are.
 * Only those with more events than the count keeps are read (seq is the
 * newest's number), each with a query, and at most one delete.  Without
 * transactions a delete races nothing: events are only ever appended
 * past the newest, which keep always holds.
 */
#define INBOX_MONGO_PRUNE_ORGS  10000

inbox_status_t
inbox_mongo_events_prune(inbox_store_t *store, int64_t now,
    const inbox_event_retention_t *keep, size_t max, size_t *removed,
    inbox_error_t *err)
{
    int                   after_set, done_set;
    bson_t                orgs, doc, filter, *command;
    size_t                count, n;
    bson_oid_t            after, done;
    bson_iter_t           iter, field;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    pthread_mutex_lock(&ms->lock);
    after_set = ms->prune_after_set;
    bson_oid_copy(&ms->prune_after, &after);
    pthread_mutex_unlock(&ms->lock);

    command = bson_new();
    BSON_APPEND_UTF8(command, "find", "orgs");
    BSON_APPEND_DOCUMENT_BEGIN(command, "filter", &filter);
    if (after_set) {
        BCON_APPEND(&filter, "_id", "{", "$gt", BCON_OID(&after), "}");
    }
    BCON_APPEND(&filter, "seq", "{", "$gt", BCON_INT64(keep->keep_count),
                "}");
    bson_append_document_end(command, &filter);
    BCON_APPEND(command,
                "sort", "{", "_id", BCON_INT32(1), "}",
                "projection", "{", "seq", BCON_INT32(1), "}",
                "limit", BCON_INT32(INBOX_MONGO_PRUNE_ORGS),
                "batchSize", BCON_INT32(INBOX_MONGO_PRUNE_ORGS),
                "singleBatch", BCON_BOOL(true));

    rc = inbox_mongo_run_cursor(ms, command, &orgs, err);

    n = 0;
    done_set = 0;

    if (rc == INBOX_OK && bson_iter_init(&iter, &orgs)) {
        while (*removed < max && inbox_mongo_next_doc(&iter, &doc)) {
            n++;

            if (!bson_iter_init_find(&field, &doc, "_id")
                || !BSON_ITER_HOLDS_OID(&field))
            {
                continue;
            }

            rc = inbox_mongo_prune_org(ms, bson_iter_oid(&field),
                                       inbox_mongo_get_int(&doc, "seq"), now,
                                       keep, max - *removed, &count, err);
            if (rc != INBOX_OK) {
                break;
            }

            *removed += count;

            /* one that used the rest of the round may have more: the
             * next round begins with it */
            if (*removed < max) {
                bson_oid_copy(bson_iter_oid(&field), &done);
                done_set = 1;
            }
        }
    }

    pthread_mutex_lock(&ms->lock);
    if (rc == INBOX_OK && *removed < max && n < INBOX_MONGO_PRUNE_ORGS) {
        /* the last page, all of it: from the start again */
        ms->prune_after_set = 0;
    } else if (done_set) {
        bson_oid_copy(&done, &ms->prune_after);
        ms->prune_after_set = 1;
    }
    pthread_mutex_unlock(&ms->lock);

    bson_destroy(&orgs);

    return rc;
}


/* One new epoch for all organizations: an epoch only has to differ from
 * the one a client saw, and one update needs no transaction. */
inbox_status_t
inbox_mongo_events_new_epoch(inbox_store_t *store, size_t *orgs,
    inbox_error_t *err)
{
    char                  epoch[INBOX_EPOCH_MAX];
    bson_t                reply;
    bson_t               *command;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    inbox_mongo_new_epoch(ms, epoch);

    command = BCON_NEW("update", BCON_UTF8("orgs"),
                       "updates", "[", "{",
                           "q", "{", "}",
                           "u", "{", "$set", "{",
                               "epoch", BCON_UTF8(epoch),
                           "}", "}",
                           "multi", BCON_BOOL(true),
                       "}", "]",
                       "ordered", BCON_BOOL(true));

    rc = inbox_mongo_run(ms, command, &reply, err);
    bson_destroy(command);

    if (rc == INBOX_OK && orgs != NULL) {
        *orgs = (size_t) inbox_mongo_get_int(&reply, "n");
    }

    bson_destroy(&reply);

    return rc;
}


