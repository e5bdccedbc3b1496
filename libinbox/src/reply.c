/*
 * Replies: what a well-formed one is, its fingerprint for
 * Idempotency-Key, and what it does to its thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <inbox/delivery.h>
#include <inbox/phone.h>
#include <inbox/reply.h>
#include <inbox/segments.h>


static void inbox_reply_digest_add(EVP_MD_CTX *ctx, const char *s);


void
inbox_reply_result_free(inbox_reply_result_t *result)
{
    if (result == NULL) {
        return;
    }

    inbox_message_free(&result->message);
    inbox_message_free(&result->resent);
    inbox_conversation_free(&result->conversation);
}


inbox_status_t
inbox_reply_check(const inbox_reply_t *reply, inbox_error_t *err)
{
    size_t           i, len;
    const char      *key;
    inbox_status_t   status;

    if (reply->conversation_id == NULL || reply->conversation_id[0] == '\0')
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                                     "conversation_id",
                                     "Name the conversation to reply in.");
    }

    if (reply->body == NULL
        || (reply->body[0] == '\0' && reply->media_count == 0))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
                                     "A reply needs some text or a "
                                     "picture.");
    }

    len = strlen(reply->body);

    /* what any message may be: text, its length as carriers count it */
    status = inbox_message_check(reply->body, len, reply->media_count, err);
    if (status != INBOX_OK) {
        return status;
    }

    if (reply->media_count > INBOX_MEDIA_MAX
        || (reply->media_count > 0 && reply->media == NULL))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "media_ids",
                                     "A reply carries at most %d pictures.",
                                     INBOX_MEDIA_MAX);
    }

    for (i = 0; i < reply->media_count; i++) {
        if (reply->media[i].url[0] == '\0'
            || reply->media[i].content_type[0] == '\0')
        {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "media_ids",
                                         "A picture of this reply is not "
                                         "stored.");
        }
    }

    if (reply->segments == 0 || reply->credits == 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
                                     "The reply's segments and credits "
                                     "were not counted.");
    }

    key = reply->idempotency_key;

    if (key != NULL && key[0] != '\0') {
        return inbox_reply_key_check(key, strlen(key), err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_reply_key_check(const char *key, size_t len, inbox_error_t *err)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (key[i] < '!' || key[i] > '~') {
            break;
        }
    }

    if (len == 0 || len > INBOX_IDEMPOTENCY_KEY_MAX || i < len) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                                     "idempotency_key",
                                     "An Idempotency-Key is 1 to %d "
                                     "printable ASCII characters.",
                                     INBOX_IDEMPOTENCY_KEY_MAX);
    }

    return INBOX_OK;
}


/* Each field with its length first, so that no two replies digest the
 * same bytes ("ab" + "c" is not "a" + "bc"). */
static void
inbox_reply_digest_add(EVP_MD_CTX *ctx, const char *s)
{
    char    len[24];
    size_t  n;

    s = s ? s : "";
    n = strlen(s);

    snprintf(len, sizeof(len), "%zu:", n);
    EVP_DigestUpdate(ctx, len, strlen(len));
    EVP_DigestUpdate(ctx, s, n);
}


void
inbox_reply_fingerprint(const inbox_reply_t *reply,
    char out[INBOX_FINGERPRINT_MAX])
{
    size_t          i;
    unsigned        n;
    EVP_MD_CTX     *ctx;
    unsigned char   digest[EVP_MAX_MD_SIZE];

    out[0] = '\0';
    n = 0;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return;
    }

    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
        inbox_reply_digest_add(ctx, reply->conversation_id);
        inbox_reply_digest_add(ctx, reply->user_id);
        inbox_reply_digest_add(ctx, reply->body);

        for (i = 0; i < reply->media_count && reply->media != NULL; i++) {
            inbox_reply_digest_add(ctx, reply->media[i].url);
            inbox_reply_digest_add(ctx, reply->media[i].content_type);
        }

        /* a send again is another request than the same words sent new;
         * a new reply's fingerprint is as it was before resend_of */
        if (reply->resend_of != NULL && reply->resend_of[0] != '\0') {
            inbox_reply_digest_add(ctx, "resend_of");
            inbox_reply_digest_add(ctx, reply->resend_of);
        }

        if (EVP_DigestFinal_ex(ctx, digest, &n) != 1) {
            n = 0;
        }
    }

    EVP_MD_CTX_free(ctx);

    for (i = 0; i < n && i * 2 + 2 < INBOX_FINGERPRINT_MAX; i++) {
        snprintf(out + i * 2, 3, "%02x", digest[i]);
    }
}


inbox_status_t
inbox_reply_message(inbox_message_t *m, const inbox_reply_t *reply,
    int64_t now, inbox_error_t *err)
{
    m->direction = INBOX_OUTBOUND;
    m->body = strdup(reply->body);

    if (reply->media_count > 0) {
        m->media = calloc(reply->media_count, sizeof(inbox_media_t));
    }

    if (m->body == NULL || (reply->media_count > 0 && m->media == NULL)) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    if (reply->media_count > 0) {
        memcpy(m->media, reply->media,
               reply->media_count * sizeof(inbox_media_t));
    }

    m->media_count = reply->media_count;
    snprintf(m->status, sizeof(m->status), "%s",
             inbox_delivery_name(INBOX_DELIVERY_QUEUED));
    m->segments = reply->segments;
    m->credits = reply->credits;
    m->created_at = now;

    return INBOX_OK;
}


/* An outbound message stored in c: its last message unless a newer one
 * is there. */
static void
inbox_conversation_outbound(inbox_conversation_t *c,
    const inbox_message_t *m, const inbox_preview_t *preview)
{
    if (!inbox_conversation_newer(c, m->created_at)) {
        return;
    }

    c->has_last_message = 1;
    memcpy(c->last_message.id, m->id, sizeof(c->last_message.id));
    c->last_message.direction = INBOX_OUTBOUND;
    inbox_conversation_last_preview(c, preview);
    c->last_message.at = m->created_at;
    memcpy(c->last_message.sent_by, m->sent_by,
           sizeof(c->last_message.sent_by));
    memcpy(c->last_message.campaign_id, m->campaign_id,
           sizeof(c->last_message.campaign_id));
    memcpy(c->last_message.campaign_kind, m->campaign_kind,
           sizeof(c->last_message.campaign_kind));
    memcpy(c->last_message.status, m->status,
           sizeof(c->last_message.status));
    memcpy(c->last_message.error_code, m->error_code,
           sizeof(c->last_message.error_code));
}


void
inbox_conversation_reply(inbox_conversation_t *c, const inbox_message_t *m,
    const inbox_preview_t *preview)
{
    inbox_conversation_outbound(c, m, preview);

    if (m->created_at > c->last_activity_at) {
        c->last_activity_at = m->created_at;
    }

    (void) inbox_conversation_respond(c, m->created_at);
}


void
inbox_conversation_bulk(inbox_conversation_t *c, const inbox_message_t *m,
    const inbox_preview_t *preview)
{
    inbox_conversation_outbound(c, m, preview);

    /* a thread without activity has no two-way message yet: a campaign's
     * alone does not list it (inbox_filter_matches) */
    if (c->last_activity_at != INBOX_ACTIVITY_NONE
        && m->created_at > c->last_activity_at)
    {
        c->last_activity_at = m->created_at;
    }
}


inbox_status_t
inbox_reply_credits_short(unsigned credits, int64_t balance,
    inbox_error_t *err)
{
    return inbox_error_insufficient_credits(err, credits, balance,
               "This message needs %u credit%s and %lld %s left; contact "
               "your billing admin.", credits, credits == 1 ? "" : "s",
               (long long) balance, balance == 1 ? "is" : "are");
}


inbox_status_t
inbox_reply_billing_inactive(inbox_error_t *err)
{
    return inbox_error_set(err, INBOX_ERR_BILLING_INACTIVE,
               "Billing is inactive, so nothing can be sent; contact "
               "your billing admin.");
}


const char *
inbox_reply_from(const char *kept, const char *first)
{
    return kept != NULL && kept[0] != '\0' ? kept : first;
}


inbox_status_t
inbox_reply_reaches(const inbox_reply_t *reply, int opted_out,
    const char *phone, inbox_error_t *err)
{
    if (opted_out) {
        return inbox_error_set(err, INBOX_ERR_CONTACT_OPTED_OUT,
                               "This contact opted out of messages; only "
                               "they can opt back in (by texting START).");
    }

    if (reply->media_count > 0 && !inbox_phone_takes_mms(phone)) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "media_ids",
                                     "Pictures reach only numbers in the "
                                     "US and Canada; send this reply "
                                     "without the image.");
    }

    return INBOX_OK;
}


inbox_status_t
inbox_reply_stale(const inbox_reply_t *reply, const inbox_conversation_t *c,
    inbox_error_t *err)
{
    const char  *newest;

    if (reply->last_seen_message_id == NULL
        || reply->last_seen_message_id[0] == '\0')
    {
        return INBOX_OK;
    }

    newest = c->has_last_message ? c->last_message.id : "";

    if (strcmp(newest, reply->last_seen_message_id) == 0) {
        return INBOX_OK;
    }

    inbox_error_set_field(err, INBOX_ERR_STALE, "last_seen_message_id",
                          "A newer message arrived in this conversation "
                          "since you started writing; read it, then send "
                          "again if your reply still fits.");

    if (err != NULL) {
        snprintf(err->last_message_id, sizeof(err->last_message_id), "%s",
                 newest);
    }

    return INBOX_ERR_STALE;
}
