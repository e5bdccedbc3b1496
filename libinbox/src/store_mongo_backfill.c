/*
 * The MongoDB backend: fields that documents stored by older versions
 * lack and that a read cannot make up, given to them once a store.
 *
 * A campaign's or poll's message says which of the two sent it
 * (campaign_kind), as does a thread's last message; without it a client
 * is told null and looks the campaign up on both routes.  A thread's last
 * outbound message says how far its delivery got (status, error_code);
 * without it the list never marks a reply that failed, and a failed one
 * never moves again to set it.  Neither is known from the document
 * itself: the campaign has the kind, the message its status.
 */
#include "store_mongo.h"


/* The one element of a $lookup's array field, or missing when none. */
#define INBOX_MONGO_FOUND(field)                                              \
    "{", "$arrayElemAt", "[", BCON_UTF8(field), BCON_INT32(0), "]", "}"

/* last_message's field set from $$new's where the thread's last message
 * is still the one read, and its field by (field itself, or the one it
 * comes with) is still missing while $$new has that one; else left as
 * it is (missing stays missing). */
#define INBOX_MONGO_UNSET_LAST(field, by)                                     \
    "last_message." field, "{", "$cond", "[",                                 \
        "{", "$and", "[",                                                     \
            "{", "$eq", "[", BCON_UTF8("$last_message.id"),                   \
                BCON_UTF8("$$new.id"), "]", "}",                              \
            "{", "$eq", "[",                                                  \
                "{", "$type", BCON_UTF8("$last_message." by), "}",            \
                BCON_UTF8("missing"), "]", "}",                               \
            "{", "$ne", "[",                                                  \
                "{", "$type", BCON_UTF8("$$new." by), "}",                    \
                BCON_UTF8("missing"), "]", "}",                               \
        "]", "}",                                                             \
        BCON_UTF8("$$new." field),                                            \
        BCON_UTF8("$last_message." field),                                    \
    "]", "}"


/*
 * Every campaign's message without its kind given its campaign's: one
 * aggregate of the recipients a message was sent (a campaign's messages
 * are its recipients' and each recipient names its message), each with
 * its campaign looked up by _id, merged into the messages, each still
 * without one.  Not of messages into messages: MongoDB 4.2 merges into
 * another collection only.  Then the store's record is marked so that
 * later uses skip it.
 */
inbox_status_t
inbox_mongo_message_kinds_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err)
{
    return inbox_mongo_upgrade_aggregate(ms, INBOX_MONGO_MESSAGE_KINDS,
        BCON_NEW("aggregate", BCON_UTF8("campaign_recipients"),
                 "pipeline", "[",
                     "{", "$match", "{",
                         "message_id", "{", "$type", BCON_UTF8("objectId"),
                         "}",
                     "}", "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("campaigns"),
                         "localField", BCON_UTF8("campaign_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("campaign"),
                     "}", "}",
                     "{", "$project", "{",
                         "_id", BCON_UTF8("$message_id"),
                         "campaign_kind", INBOX_MONGO_FOUND("$campaign.kind"),
                     "}", "}",
                     "{", "$match", "{",
                         "campaign_kind", "{", "$type", BCON_UTF8("string"),
                         "}",
                     "}", "}",
                     "{", "$merge", "{",
                         "into", BCON_UTF8("messages"),
                         "on", BCON_UTF8("_id"),
                         "whenMatched", "[", "{", "$set", "{",
                             "campaign_kind", "{", "$ifNull", "[",
                                 BCON_UTF8("$campaign_kind"),
                                 BCON_UTF8("$$new.campaign_kind"),
                             "]", "}",
                         "}", "}", "]",
                         "whenNotMatched", BCON_UTF8("discard"),
                     "}", "}",
                 "]",
                 "allowDiskUse", BCON_BOOL(true),
                 "cursor", "{", "}"),
        err);
}


/*
 * Every thread whose last message lacks its campaign's kind (a
 * campaign's) or its status (an outbound one) given them: one aggregate
 * of the store's messages, each thread's newest (as the responses'
 * backfill groups them), with its campaign looked up by _id, merged into
 * the threads (MongoDB 4.2 merges into another collection only).  A
 * field is written only while the thread's last message is that one and
 * the thread still without it, so that a newer message, or a delivery
 * move announced meanwhile (which writes its own), is never undone;
 * error_code comes with the status.  Then the store's record is marked
 * so that later uses skip it.
 */
inbox_status_t
inbox_mongo_last_messages_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err)
{
    return inbox_mongo_upgrade_aggregate(ms, INBOX_MONGO_LAST_MESSAGES,
        BCON_NEW("aggregate", BCON_UTF8("messages"),
                 "pipeline", "[",
                     "{", "$sort", "{",
                         "conversation_id", BCON_INT32(1),
                         "created_at", BCON_INT32(-1),
                         "_id", BCON_INT32(-1),
                     "}", "}",
                     "{", "$group", "{",
                         "_id", BCON_UTF8("$conversation_id"),
                         "newest", "{", "$first", "{",
                             "id", BCON_UTF8("$_id"),
                             "direction", BCON_UTF8("$direction"),
                             "status", BCON_UTF8("$status"),
                             "error_code", BCON_UTF8("$error_code"),
                             "campaign_id", BCON_UTF8("$campaign_id"),
                         "}", "}",
                     "}", "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("campaigns"),
                         "localField", BCON_UTF8("newest.campaign_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("campaign"),
                     "}", "}",
                     "{", "$project", "{",
                         "id", BCON_UTF8("$newest.id"),
                         "campaign_kind", INBOX_MONGO_FOUND("$campaign.kind"),
                         /* an inbound one's thread says none */
                         "status", "{", "$cond", "[",
                             "{", "$eq", "[", BCON_UTF8("$newest.direction"),
                                 BCON_UTF8(inbox_direction_name(
                                               INBOX_OUTBOUND)),
                             "]", "}",
                             BCON_UTF8("$newest.status"),
                             BCON_UTF8("$$REMOVE"),
                         "]", "}",
                         /* null when the message has none */
                         "error_code", "{", "$ifNull", "[",
                             BCON_UTF8("$newest.error_code"), BCON_NULL,
                         "]", "}",
                     "}", "}",
                     "{", "$merge", "{",
                         "into", BCON_UTF8("conversations"),
                         "on", BCON_UTF8("_id"),
                         "whenMatched", "[", "{", "$set", "{",
                             INBOX_MONGO_UNSET_LAST("campaign_kind",
                                                    "campaign_kind"),
                             INBOX_MONGO_UNSET_LAST("status", "status"),
                             INBOX_MONGO_UNSET_LAST("error_code", "status"),
                         "}", "}", "]",
                         "whenNotMatched", BCON_UTF8("discard"),
                     "}", "}",
                 "]",
                 "allowDiskUse", BCON_BOOL(true),
                 "cursor", "{", "}"),
        err);
}
