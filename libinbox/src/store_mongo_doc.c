/*
 * The MongoDB backend: reading stored documents into the model structs,
 * ids, clocks and keyset cursors (store_mongo_page.c reads a page after
 * one).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "store_mongo.h"


static int inbox_mongo_find(const bson_t *doc, const char *path,
    bson_iter_t *iter);
static inbox_status_t inbox_mongo_parse_media(bson_iter_t *array,
    inbox_message_t *message, inbox_error_t *err);


void
inbox_mongo_new_id(inbox_mongo_store_t *ms, bson_oid_t *oid)
{
    ms->make_id(ms->hooks_ctx, oid);
}


void
inbox_mongo_new_epoch(inbox_mongo_store_t *ms, char epoch[INBOX_EPOCH_MAX])
{
    size_t      i;
    bson_oid_t  oid;

    inbox_mongo_new_id(ms, &oid);

    for (i = 0; i < 8; i++) {
        snprintf(epoch + 2 * i, 3, "%02x", oid.bytes[4 + i]);
    }
}


int64_t
inbox_mongo_now(inbox_mongo_store_t *ms)
{
    return ms->clock(ms->hooks_ctx);
}


int
inbox_mongo_parse_id(const char *hex, bson_oid_t *oid)
{
    size_t  i;

    if (hex == NULL || strlen(hex) != 24) {
        return -1;
    }

    /* in lower case only, as ids are written: one spelling per id, so
     * that comparing two as strings (the caller's own?) is comparing
     * the ids (bson_oid_is_valid takes capitals too) */
    for (i = 0; i < 24; i++) {
        if (!((hex[i] >= '0' && hex[i] <= '9')
              || (hex[i] >= 'a' && hex[i] <= 'f')))
        {
            return -1;
        }
    }

    bson_oid_init_from_string(oid, hex);

    return 0;
}


void
inbox_mongo_id_hex(const bson_oid_t *oid, char out[INBOX_ID_MAX])
{
    bson_oid_to_string(oid, out);
}


static int
inbox_mongo_find(const bson_t *doc, const char *path, bson_iter_t *iter)
{
    bson_iter_t  root;

    return bson_iter_init(&root, doc)
           && bson_iter_find_descendant(&root, path, iter);
}


void
inbox_mongo_get_id(const bson_t *doc, const char *path,
    char out[INBOX_ID_MAX])
{
    bson_iter_t  iter;

    out[0] = '\0';

    if (!inbox_mongo_find(doc, path, &iter)) {
        return;
    }

    if (BSON_ITER_HOLDS_OID(&iter)) {
        bson_oid_to_string(bson_iter_oid(&iter), out);

    } else if (BSON_ITER_HOLDS_UTF8(&iter)) {
        snprintf(out, INBOX_ID_MAX, "%s", bson_iter_utf8(&iter, NULL));
    }
}


void
inbox_mongo_get_str(const bson_t *doc, const char *path, char *out,
    size_t size)
{
    bson_iter_t  iter;

    out[0] = '\0';

    if (inbox_mongo_find(doc, path, &iter) && BSON_ITER_HOLDS_UTF8(&iter)) {
        snprintf(out, size, "%s", bson_iter_utf8(&iter, NULL));
    }
}


char *
inbox_mongo_dup_str(const bson_t *doc, const char *path)
{
    bson_iter_t  iter;

    if (inbox_mongo_find(doc, path, &iter) && BSON_ITER_HOLDS_UTF8(&iter)) {
        return strdup(bson_iter_utf8(&iter, NULL));
    }

    return NULL;
}


int64_t
inbox_mongo_get_int(const bson_t *doc, const char *path)
{
    bson_iter_t  iter;

    if (inbox_mongo_find(doc, path, &iter) && BSON_ITER_HOLDS_NUMBER(&iter)) {
        return bson_iter_as_int64(&iter);
    }

    return 0;
}


int64_t
inbox_mongo_get_date(const bson_t *doc, const char *path)
{
    bson_iter_t  iter;

    if (!inbox_mongo_find(doc, path, &iter)) {
        return 0;
    }

    if (BSON_ITER_HOLDS_DATE_TIME(&iter)) {
        return bson_iter_date_time(&iter);
    }

    return BSON_ITER_HOLDS_NUMBER(&iter) ? bson_iter_as_int64(&iter) : 0;
}


int
inbox_mongo_get_bool(const bson_t *doc, const char *path)
{
    bson_iter_t  iter;

    if (inbox_mongo_find(doc, path, &iter)
        && (BSON_ITER_HOLDS_BOOL(&iter) || BSON_ITER_HOLDS_NUMBER(&iter)))
    {
        return bson_iter_as_bool(&iter);
    }

    return 0;
}


/* What inbox_mongo_parse_conversation reads: a find for it reads no more
 * (the contact's copy without its version, last_message whole). */
const char *const inbox_mongo_conversation_fields[] = {
    "contact.id", "contact.name", "contact.phone", "contact.opted_out",
    "last_message", "last_activity_at", "unread_count", "archived",
    "starred", "unresponded_at", "responded_at", NULL
};


void
inbox_mongo_parse_conversation(const bson_t *doc,
    inbox_conversation_t *conversation)
{
    bson_iter_t  iter;
    char         direction[16];

    memset(conversation, 0, sizeof(inbox_conversation_t));

    inbox_mongo_get_id(doc, "_id", conversation->id);
    inbox_mongo_get_id(doc, "contact.id", conversation->contact.id);
    conversation->contact.name = inbox_mongo_dup_str(doc, "contact.name");
    inbox_mongo_get_str(doc, "contact.phone", conversation->contact.phone,
                        sizeof(conversation->contact.phone));
    conversation->contact.opted_out = inbox_mongo_get_bool(doc,
                                                     "contact.opted_out");

    /* An empty conversation (a contact made by hand) has last_message
     * null. */
    if (inbox_mongo_find(doc, "last_message", &iter)
        && BSON_ITER_HOLDS_DOCUMENT(&iter))
    {
        conversation->has_last_message = 1;
        inbox_mongo_get_id(doc, "last_message.id",
                           conversation->last_message.id);
        inbox_mongo_get_str(doc, "last_message.direction", direction,
                            sizeof(direction));
        conversation->last_message.direction =
            strcmp(direction, inbox_direction_name(INBOX_OUTBOUND)) == 0
            ? INBOX_OUTBOUND : INBOX_INBOUND;
        inbox_mongo_get_str(doc, "last_message.preview",
                            conversation->last_message.preview,
                            sizeof(conversation->last_message.preview));
        inbox_mongo_get_str(doc, "last_message.media_type",
                            conversation->last_message.media_type,
                            sizeof(conversation->last_message.media_type));
        conversation->last_message.at = inbox_mongo_get_date(doc,
                                                       "last_message.at");
        inbox_mongo_get_id(doc, "last_message.sent_by",
                           conversation->last_message.sent_by);
        inbox_mongo_get_id(doc, "last_message.campaign_id",
                           conversation->last_message.campaign_id);
        /* none on a thread whose last message was stored before it
         * was kept: not known (a client asks both routes) */
        inbox_mongo_get_str(doc, "last_message.campaign_kind",
                            conversation->last_message.campaign_kind,
                            sizeof(conversation->last_message.campaign_kind));
        /* absent on a thread whose last message was stored before, until
         * its next move */
        inbox_mongo_get_str(doc, "last_message.status",
                            conversation->last_message.status,
                            sizeof(conversation->last_message.status));
        inbox_mongo_get_str(doc, "last_message.error_code",
                            conversation->last_message.error_code,
                            sizeof(conversation->last_message.error_code));
    }

    conversation->last_activity_at = inbox_mongo_get_date(doc,
                                                       "last_activity_at");
    conversation->unread_count = inbox_mongo_get_int(doc, "unread_count");
    conversation->archived = inbox_mongo_get_bool(doc, "archived");
    conversation->starred = inbox_mongo_get_bool(doc, "starred");
    /* null or absent (none) reads as 0 */
    conversation->unresponded_at = inbox_mongo_get_date(doc,
                                                        "unresponded_at");
    conversation->responded_at = inbox_mongo_get_date(doc, "responded_at");
}


bson_t *
inbox_mongo_listed(void)
{
    /* INBOX_ACTIVITY_NONE, the epoch, or none written yet */
    return BCON_NEW("$gt", "[",
                        "{", "$ifNull", "[",
                            BCON_UTF8("$last_activity_at"),
                            BCON_DATE_TIME(INBOX_ACTIVITY_NONE),
                        "]", "}",
                        BCON_DATE_TIME(INBOX_ACTIVITY_NONE),
                    "]");
}


bson_t *
inbox_mongo_newer(int64_t at)
{
    /* a thread without a message yet has none to compare with */
    return BCON_NEW("$gte", "[",
                        BCON_DATE_TIME(at),
                        "{", "$ifNull", "[",
                            BCON_UTF8("$last_message.at"),
                            BCON_DATE_TIME(INT64_MIN),
                        "]", "}",
                    "]");
}


bson_t *
inbox_mongo_last_message(const bson_oid_t *id, inbox_direction_t direction,
    const inbox_preview_t *preview, int64_t at, const bson_oid_t *sent_by,
    const bson_oid_t *campaign, const char *campaign_kind)
{
    bson_t  *doc;

    doc = bson_new();
    BSON_APPEND_OID(doc, "id", id);
    BSON_APPEND_UTF8(doc, "direction", inbox_direction_name(direction));
    BSON_APPEND_UTF8(doc, "preview", preview->text);

    if (preview->media_type[0] != '\0') {
        BSON_APPEND_UTF8(doc, "media_type", preview->media_type);
    }

    BSON_APPEND_DATE_TIME(doc, "at", at);

    if (sent_by != NULL) {
        BSON_APPEND_OID(doc, "sent_by", sent_by);
    }

    if (campaign != NULL) {
        BSON_APPEND_OID(doc, "campaign_id", campaign);
        BSON_APPEND_UTF8(doc, "campaign_kind", campaign_kind);
    }

    if (direction == INBOX_OUTBOUND) {
        BSON_APPEND_UTF8(doc, "status",
                         inbox_delivery_name(INBOX_DELIVERY_QUEUED));
    }

    return doc;
}


/* What inbox_mongo_parse_message reads: a find for it reads no more (not
 * a media's fetch_at nor attempts, the fetcher's). */
const char *const inbox_mongo_message_fields[] = {
    "conversation_id", "direction", "body", "status", "error_code",
    "segments", "credits", "created_at", "sent_by", "campaign_id",
    "campaign_kind", "resent_as", "resent_at", "media.url",
    "media.content_type", "media.state", "media.file", "media.bytes",
    "media.upload_id", NULL
};


inbox_status_t
inbox_mongo_parse_message(const bson_t *doc, inbox_message_t *message,
    inbox_error_t *err)
{
    bson_iter_t  iter;
    char         direction[16];

    memset(message, 0, sizeof(inbox_message_t));

    inbox_mongo_get_id(doc, "_id", message->id);
    inbox_mongo_get_id(doc, "conversation_id", message->conversation_id);
    inbox_mongo_get_str(doc, "direction", direction, sizeof(direction));
    message->direction =
        strcmp(direction, inbox_direction_name(INBOX_OUTBOUND)) == 0
        ? INBOX_OUTBOUND : INBOX_INBOUND;

    message->body = inbox_mongo_dup_str(doc, "body");
    if (message->body == NULL) {
        message->body = strdup("");
        if (message->body == NULL) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }
    }

    inbox_mongo_get_str(doc, "status", message->status,
                        sizeof(message->status));
    inbox_mongo_get_str(doc, "error_code", message->error_code,
                        sizeof(message->error_code));
    message->segments = (unsigned) inbox_mongo_get_int(doc, "segments");
    message->credits = (unsigned) inbox_mongo_get_int(doc, "credits");
    message->created_at = inbox_mongo_get_date(doc, "created_at");
    inbox_mongo_get_id(doc, "sent_by", message->sent_by);
    inbox_mongo_get_id(doc, "campaign_id", message->campaign_id);
    /* none on a document stored before it was kept: not known */
    inbox_mongo_get_str(doc, "campaign_kind", message->campaign_kind,
                        sizeof(message->campaign_kind));

    inbox_mongo_get_id(doc, "resent_as", message->resent_as);

    if (message->resent_as[0] != '\0') {
        message->resent_at = inbox_mongo_get_date(doc, "resent_at");
    }

    if (inbox_mongo_find(doc, "media", &iter) && BSON_ITER_HOLDS_ARRAY(&iter)) {
        return inbox_mongo_parse_media(&iter, message, err);
    }

    return INBOX_OK;
}


/* media */
/* A media's copy: "state" (none: pending), "file", "bytes"; an
 * outbound one's "upload_id" (none in a document of before). */
static void
inbox_mongo_parse_media_copy(const bson_t *item, inbox_media_t *media)
{
    char  state[16];

    inbox_mongo_get_str(item, "state", state, sizeof(state));

    if (inbox_media_state_parse(state, &media->state) != 0) {
        media->state = INBOX_MEDIA_PENDING;
    }

    inbox_mongo_get_str(item, "file", media->file, sizeof(media->file));
    media->bytes = inbox_mongo_get_int(item, "bytes");
    inbox_mongo_get_id(item, "upload_id", media->upload_id);
}


static inbox_status_t
inbox_mongo_parse_media(bson_iter_t *array, inbox_message_t *message,
    inbox_error_t *err)
{
    size_t          n;
    bson_t          item;
    bson_iter_t     iter;

    n = 0;
    if (bson_iter_recurse(array, &iter)) {
        while (bson_iter_next(&iter)) {
            n++;
        }
    }

    if (n == 0) {
        return INBOX_OK;
    }

    message->media = calloc(n, sizeof(inbox_media_t));
    if (message->media == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    bson_iter_recurse(array, &iter);

    while (message->media_count < n && inbox_mongo_next_doc(&iter, &item)) {
        inbox_mongo_get_str(&item, "url",
                            message->media[message->media_count].url,
                            sizeof(message->media[0].url));
        inbox_mongo_get_str(&item, "content_type",
                            message->media[message->media_count].content_type,
                            sizeof(message->media[0].content_type));
        inbox_mongo_parse_media_copy(&item,
                                     &message->media[message->media_count]);
        message->media_count++;
    }

    return INBOX_OK;
}


inbox_status_t
inbox_mongo_parse_number(const bson_t *doc, inbox_number_t *number,
    inbox_error_t *err)
{
    char  carrier[16];

    memset(number, 0, sizeof(inbox_number_t));

    inbox_mongo_get_id(doc, "org_id", number->org_id);
    inbox_mongo_get_str(doc, "e164", number->e164, sizeof(number->e164));
    inbox_mongo_get_str(doc, "carrier", carrier, sizeof(carrier));
    number->carrier =
        strcmp(carrier, inbox_carrier_name(INBOX_CARRIER_TELNYX)) == 0
        ? INBOX_CARRIER_TELNYX : INBOX_CARRIER_TWILIO;

    /* Absent fields stay NULL. */
    number->account_sid = inbox_mongo_dup_str(doc, "account_sid");
    number->auth_token = inbox_mongo_dup_str(doc, "auth_token");
    number->public_key = inbox_mongo_dup_str(doc, "public_key");
    number->api_key = inbox_mongo_dup_str(doc, "api_key");
    number->api_base = inbox_mongo_dup_str(doc, "api_base");
    /* absent in a number stored before it: the inbox answers */
    number->carrier_answers_keywords =
        inbox_mongo_get_bool(doc, "carrier_answers_keywords");

    if ((number->account_sid == NULL && bson_has_field(doc, "account_sid"))
        || (number->auth_token == NULL && bson_has_field(doc, "auth_token"))
        || (number->public_key == NULL && bson_has_field(doc, "public_key"))
        || (number->api_key == NULL && bson_has_field(doc, "api_key"))
        || (number->api_base == NULL && bson_has_field(doc, "api_base")))
    {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored number has a malformed field.");
    }

    return INBOX_OK;
}


void
inbox_mongo_cursor_make(int64_t ms, const char *id_hex,
    char out[INBOX_CURSOR_MAX])
{
    snprintf(out, INBOX_CURSOR_MAX, "%lld:%s", (long long) ms, id_hex);
}


inbox_status_t
inbox_mongo_cursor_parse(const char *cursor, int64_t *ms, bson_oid_t *oid,
    inbox_error_t *err)
{
    char       *end;
    long long   value;

    errno = 0;
    value = strtoll(cursor, &end, 10);

    if (errno != 0 || end == cursor || *end != ':' || value < 0
        || inbox_mongo_parse_id(end + 1, oid) != 0)
    {
        return inbox_error_cursor(err);
    }

    *ms = value;

    return INBOX_OK;
}


inbox_status_t
inbox_mongo_unread_total(inbox_mongo_store_t *ms, const bson_oid_t *org,
    int64_t *total, inbox_error_t *err)
{
    return inbox_mongo_unread_sum(ms, org, total, NULL, err);
}


inbox_status_t
inbox_mongo_unread_sum(inbox_mongo_store_t *ms, const bson_oid_t *org,
    int64_t *total, int64_t *listed, inbox_error_t *err)
{
    bson_t          batch, group;
    inbox_status_t  rc;

    /* Summed, not kept as a counter, so it cannot drift from the
     * conversations: the unread threads not archived (archived ones are
     * out of the default view and so out of the count), with or without
     * a message, which are org_unread_activity_search's own.  Its partial
     * filter is the match, and the $project leaves the group indexed
     * fields alone, so a server (7.0 and later: it drops what the partial
     * filter holds) reads the keys and no document; an older one fetches
     * the unread threads, no others.  A thread with a message (its
     * activity after the epoch, INBOX_ACTIVITY_NONE) is listed too, in
     * the unread tab's count. */
    bson_init(&group);
    BSON_APPEND_NULL(&group, "_id");
    BCON_APPEND(&group, "total", "{", "$sum", BCON_UTF8("$unread_count"), "}");

    if (listed != NULL) {
        BCON_APPEND(&group,
                    "listed", "{", "$sum", "{", "$cond", "[",
                        "{", "$gt", "[", BCON_UTF8("$last_activity_at"),
                            BCON_DATE_TIME(INBOX_ACTIVITY_NONE), "]", "}",
                        BCON_INT32(1), BCON_INT32(0),
                    "]", "}", "}");
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("conversations"),
                 "pipeline", "[",
                     "{", "$match", "{",
                         "org_id", BCON_OID(org),
                         "archived", BCON_BOOL(false),
                         "unread_count", "{", "$gt", BCON_INT32(0), "}",
                     "}", "}",
                     "{", "$project", "{",
                         "_id", BCON_INT32(0),
                         "last_activity_at", BCON_INT32(1),
                         "unread_count", BCON_INT32(1),
                     "}", "}",
                     "{", "$group", BCON_DOCUMENT(&group), "}",
                 "]",
                 "hint", BCON_UTF8("org_unread_activity_search"),
                 "cursor", "{", "}"),
        &batch, err);
    bson_destroy(&group);

    /* no unread thread: no group, both 0 */
    *total = rc == INBOX_OK ? inbox_mongo_get_int(&batch, "0.total") : 0;

    if (listed != NULL) {
        *listed = rc == INBOX_OK ? inbox_mongo_get_int(&batch, "0.listed")
                                 : 0;
    }

    bson_destroy(&batch);

    return rc;
}


inbox_status_t
inbox_mongo_ids(const char *org_id, bson_oid_t *org,
    const char *conversation_id, bson_oid_t *conversation,
    inbox_error_t *err)
{
    /* A malformed id names nothing, like another organization's. */
    if (inbox_mongo_parse_id(org_id, org) != 0
        || (conversation != NULL
            && inbox_mongo_parse_id(conversation_id, conversation) != 0))
    {
        return inbox_error_not_found(err, conversation != NULL
                                          ? "conversation" : "organization");
    }

    return INBOX_OK;
}


int
inbox_mongo_iter_doc(const bson_iter_t *iter, bson_t *doc)
{
    uint32_t        len;
    const uint8_t  *data;

    if (!BSON_ITER_HOLDS_DOCUMENT(iter)) {
        return 0;
    }

    bson_iter_document(iter, &len, &data);

    return bson_init_static(doc, data, len);
}


int
inbox_mongo_next_doc(bson_iter_t *iter, bson_t *doc)
{
    while (bson_iter_next(iter)) {
        if (inbox_mongo_iter_doc(iter, doc)) {
            return 1;
        }
    }

    return 0;
}


/* Calls add for each document a cursor read. */
inbox_status_t
inbox_mongo_batch_each(const bson_t *batch,
    inbox_status_t (*add)(void *list, const bson_t *doc, inbox_error_t *err),
    void *list, inbox_error_t *err)
{
    bson_t          doc;
    bson_iter_t     iter;
    inbox_status_t  rc;

    if (!bson_iter_init(&iter, batch)) {
        return INBOX_OK;
    }

    while (inbox_mongo_next_doc(&iter, &doc)) {
        rc = add(list, &doc, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    return INBOX_OK;
}


/* Deletes every document of collection query matches (query is taken
 * over); *removed (may be NULL) counts them. */
inbox_status_t
inbox_mongo_delete(inbox_mongo_store_t *ms, const char *collection,
    bson_t *query, size_t *removed, inbox_error_t *err)
{
    bson_t          reply;
    bson_t         *command;
    inbox_status_t  rc;

    command = BCON_NEW("delete", BCON_UTF8(collection),
                       "deletes", "[", "{",
                           "q", BCON_DOCUMENT(query),
                           "limit", BCON_INT32(0),
                       "}", "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(query);

    rc = inbox_mongo_run(ms, command, &reply, err);

    if (rc == INBOX_OK && removed != NULL) {
        *removed = (size_t) inbox_mongo_get_int(&reply, "n");
    }

    bson_destroy(&reply);
    bson_destroy(command);

    return rc;
}
