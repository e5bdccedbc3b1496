/*
 * Campaigns and polls: their checks, lifecycle and counts (campaign.h).
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/campaign.h>
#include <inbox/outbox.h>
#include <inbox/segments.h>
#include <inbox/utf8.h>


typedef struct {
    const char  *name;
    int          value;
} inbox_campaign_name_t;


static const char *inbox_campaign_name_of(const inbox_campaign_name_t *t,
    size_t n, int value);
static int inbox_campaign_parse_name(const inbox_campaign_name_t *t,
    size_t n, const char *name, int *value);
static inbox_status_t inbox_campaign_text_check(inbox_campaign_kind_t kind,
    const char *body, const char *question, const char *const *options,
    size_t option_count, size_t media_count, inbox_error_t *err);
static inbox_status_t inbox_campaign_text_refused(inbox_error_t *err,
    const char *field, const char *preface);


static const inbox_campaign_name_t  inbox_campaign_kinds[] = {
    { "campaign", INBOX_CAMPAIGN_KIND_CAMPAIGN },
    { "poll", INBOX_CAMPAIGN_KIND_POLL }
};

static const inbox_campaign_name_t  inbox_campaign_statuses[] = {
    { "draft", INBOX_CAMPAIGN_DRAFT },
    { "scheduled", INBOX_CAMPAIGN_SCHEDULED },
    { "sending", INBOX_CAMPAIGN_SENDING },
    { "paused", INBOX_CAMPAIGN_PAUSED },
    { "done", INBOX_CAMPAIGN_DONE },
    { "cancelled", INBOX_CAMPAIGN_CANCELLED }
};

static const inbox_campaign_name_t  inbox_pause_reasons[] = {
    { "manual", INBOX_PAUSE_MANUAL },
    { "insufficient_credits", INBOX_PAUSE_INSUFFICIENT_CREDITS },
    { "billing_inactive", INBOX_PAUSE_BILLING_INACTIVE },
    { "carrier_account", INBOX_PAUSE_CARRIER_ACCOUNT }
};

static const inbox_campaign_name_t  inbox_cancel_reasons[] = {
    { "manual", INBOX_CANCEL_MANUAL },
    { "text_refused", INBOX_CANCEL_TEXT_REFUSED }
};

static const inbox_campaign_name_t  inbox_recipient_states[] = {
    { "due", INBOX_RECIPIENT_DUE },
    { "waiting_quiet_hours", INBOX_RECIPIENT_WAITING },
    { "queued", INBOX_RECIPIENT_QUEUED },
    { "sent", INBOX_RECIPIENT_SENT },
    { "delivered", INBOX_RECIPIENT_DELIVERED },
    { "failed", INBOX_RECIPIENT_FAILED },
    { "suppressed", INBOX_RECIPIENT_SUPPRESSED },
    { "cancelled", INBOX_RECIPIENT_CANCELLED }
};

static const inbox_campaign_name_t  inbox_campaign_actions[] = {
    { "send", INBOX_CAMPAIGN_SEND },
    { "pause", INBOX_CAMPAIGN_PAUSE },
    { "resume", INBOX_CAMPAIGN_RESUME },
    { "cancel", INBOX_CAMPAIGN_CANCEL }
};

#define INBOX_NAMES(t)  (t), sizeof(t) / sizeof((t)[0])


inbox_status_t
inbox_campaign_check(const inbox_campaign_new_t *c, inbox_error_t *err)
{
    int              tagged;
    char            *name;
    size_t           len;
    inbox_status_t   status;
    const char      *given;

    /* a new poll's text is made of its parts once they pass */
    status = inbox_campaign_text_check(c->kind,
                                       c->kind == INBOX_CAMPAIGN_KIND_POLL
                                       ? NULL : c->body,
                                       c->question, c->options,
                                       c->option_count, c->media_count,
                                       err);
    if (status != INBOX_OK) {
        return status;
    }

    given = c->kind == INBOX_CAMPAIGN_KIND_POLL && c->name == NULL
            ? c->question : c->name;

    if (given == NULL) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "name",
                                     "A campaign needs a name.");
    }

    len = strlen(given);

    /* a poll named by a long question: its name is cut by the caller */
    if (c->kind == INBOX_CAMPAIGN_KIND_CAMPAIGN || c->name != NULL) {
        status = inbox_contact_name(given, len, &name, err);
        if (status != INBOX_OK) {
            return status;
        }

        if (name == NULL) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "name",
                                         "A campaign needs a name.");
        }

        free(name);
    }

    tagged = c->tags != NULL && c->tags->count > 0;

    if (!c->audience_all && !tagged) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "audience",
                                     "Choose who gets it: all contacts or "
                                     "some tags.");
    }

    if (c->audience_all && tagged) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "audience",
                                     "Choose all contacts or some tags, "
                                     "not both.");
    }

    if (c->media_count > INBOX_MEDIA_MAX
        || (c->media_count > 0 && c->media == NULL))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "media_ids",
                                     "At most %d images.", INBOX_MEDIA_MAX);
    }

    if (c->send_at < 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "send_at",
                                     "send_at is not a time.");
    }

    return INBOX_OK;
}


inbox_status_t
inbox_campaign_sendable(const inbox_campaign_t *campaign, inbox_error_t *err)
{
    const char  *body;

    /* none stored is an empty text: an image only, else refused */
    body = campaign->body != NULL ? campaign->body : "";

    return inbox_campaign_text_check(campaign->kind, body,
                                     campaign->question,
                                     (const char *const *) campaign->options,
                                     campaign->option_count,
                                     campaign->media_count, err);
}


inbox_status_t
inbox_campaign_act(inbox_campaign_action_t action, int64_t send_at,
    int64_t now, inbox_campaign_status_t *status,
    inbox_pause_reason_t *reason, inbox_cancel_reason_t *cancelled,
    int *changed, inbox_error_t *err)
{
    inbox_campaign_status_t  to;
    inbox_pause_reason_t     why;

    to = *status;
    why = *reason;

    switch (action) {

    case INBOX_CAMPAIGN_SEND:
        /* a retry after a lost answer: the send it repeats was made */
        if (*status == INBOX_CAMPAIGN_SCHEDULED
            || *status == INBOX_CAMPAIGN_SENDING)
        {
            break;
        }

        if (*status != INBOX_CAMPAIGN_DRAFT) {
            goto conflict;
        }

        to = send_at > now ? INBOX_CAMPAIGN_SCHEDULED
                           : INBOX_CAMPAIGN_SENDING;
        break;

    case INBOX_CAMPAIGN_PAUSE:
        /* paused by billing, the messages handed over still go: a
         * person's pause holds them too (inbox_campaign_outbox) */
        if (*status == INBOX_CAMPAIGN_PAUSED) {
            why = INBOX_PAUSE_MANUAL;
            break;
        }

        if (*status != INBOX_CAMPAIGN_SCHEDULED
            && *status != INBOX_CAMPAIGN_SENDING)
        {
            goto conflict;
        }

        to = INBOX_CAMPAIGN_PAUSED;
        why = INBOX_PAUSE_MANUAL;
        break;

    case INBOX_CAMPAIGN_RESUME:
        if (*status == INBOX_CAMPAIGN_SENDING) {
            break;
        }

        if (*status != INBOX_CAMPAIGN_PAUSED) {
            goto conflict;
        }

        to = send_at > now ? INBOX_CAMPAIGN_SCHEDULED
                           : INBOX_CAMPAIGN_SENDING;
        why = INBOX_PAUSE_NONE;
        break;

    case INBOX_CAMPAIGN_CANCEL:
        if (*status == INBOX_CAMPAIGN_CANCELLED) {
            break;
        }

        if (*status == INBOX_CAMPAIGN_DONE) {
            goto conflict;
        }

        to = INBOX_CAMPAIGN_CANCELLED;
        why = INBOX_PAUSE_NONE;
        break;

    default:
        goto conflict;
    }

    *changed = to != *status || why != *reason;

    /* only a person's action cancels here: the dispatch's own cancel
     * (a text refused as its time comes) is not an action */
    if (*changed && to == INBOX_CAMPAIGN_CANCELLED) {
        *cancelled = INBOX_CANCEL_MANUAL;
    }

    *status = to;
    *reason = why;

    return INBOX_OK;

conflict:

    *changed = 0;

    return inbox_error_set(err, INBOX_ERR_CONFLICT,
                           "A %s campaign cannot be %s.",
                           inbox_campaign_status_name(*status),
                           action == INBOX_CAMPAIGN_SEND ? "sent again"
                           : action == INBOX_CAMPAIGN_PAUSE ? "paused"
                           : action == INBOX_CAMPAIGN_RESUME ? "resumed"
                           : "cancelled");
}


inbox_status_t
inbox_campaign_found(inbox_status_t rc, const inbox_campaign_t *c,
    inbox_campaign_kind_t kind, inbox_error_t *err)
{
    if (rc == INBOX_ERR_NOT_FOUND || (rc == INBOX_OK && c->kind != kind)) {
        return inbox_error_not_found(err, kind == INBOX_CAMPAIGN_KIND_POLL
                                          ? "poll" : "campaign");
    }

    return rc;
}


inbox_status_t
inbox_campaign_editable(inbox_campaign_status_t status, inbox_error_t *err)
{
    if (status == INBOX_CAMPAIGN_DRAFT) {
        return INBOX_OK;
    }

    if (status == INBOX_CAMPAIGN_SCHEDULED) {
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "Only a draft can be edited; this one is "
                               "scheduled: its time can move (send_at "
                               "alone), or cancel it.");
    }

    return inbox_error_set(err, INBOX_ERR_CONFLICT,
                           "Only a draft can be edited; this one is %s.",
                           inbox_campaign_status_name(status));
}


inbox_status_t
inbox_campaign_deletable(const inbox_campaign_t *c, inbox_error_t *err)
{
    /* nobody got it: no contact's thread nor record names it (a start
     * alone hands nothing over: quiet hours, opt-outs, a refused text) */
    if (c->status == INBOX_CAMPAIGN_DRAFT
        || (c->status == INBOX_CAMPAIGN_CANCELLED && c->handed_at == 0))
    {
        return INBOX_OK;
    }

    if (c->status == INBOX_CAMPAIGN_CANCELLED) {
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "Messages of this campaign were handed "
                               "over for sending before it was cancelled; "
                               "it stays in its contacts' records.");
    }

    if (inbox_campaign_final(c->status)) {
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "Only a draft, or one cancelled before any "
                               "of its messages was handed over, can be "
                               "deleted; this one is %s%s.",
                               inbox_campaign_status_name(c->status),
                               c->handed_at != 0
                               ? " and stays in its contacts' records" : "");
    }

    if (c->handed_at != 0) {
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "Only a draft, or one cancelled before any "
                               "of its messages was handed over, can be "
                               "deleted; this one is %s and handed "
                               "messages over: cancel it to stop it; it "
                               "stays in its contacts' records.",
                               inbox_campaign_status_name(c->status));
    }

    return inbox_error_set(err, INBOX_ERR_CONFLICT,
                           "Only a draft, or one cancelled before any of "
                           "its messages was handed over, can be deleted; "
                           "this one is %s: cancel it instead.",
                           inbox_campaign_status_name(c->status));
}


inbox_status_t
inbox_campaign_movable(const inbox_campaign_t *c, inbox_error_t *err)
{
    if (c->status == INBOX_CAMPAIGN_SCHEDULED
        || (c->status == INBOX_CAMPAIGN_PAUSED && c->started_at == 0))
    {
        return INBOX_OK;
    }

    if (c->status == INBOX_CAMPAIGN_PAUSED) {
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "This campaign began sending before it was "
                               "paused; only one not begun can move its "
                               "time.");
    }

    return inbox_error_set(err, INBOX_ERR_CONFLICT,
                           "Only a scheduled campaign's time can move; this "
                           "one is %s.",
                           inbox_campaign_status_name(c->status));
}


inbox_status_t
inbox_campaign_edited_since(inbox_error_t *err)
{
    return inbox_error_set(err, INBOX_ERR_CONFLICT,
                           "This draft was edited meanwhile; read it again.");
}


int
inbox_campaign_pause_for(inbox_campaign_status_t *status,
    inbox_pause_reason_t *reason, inbox_pause_reason_t why)
{
    if (*status != INBOX_CAMPAIGN_SENDING || why == INBOX_PAUSE_NONE) {
        return -1;
    }

    *status = INBOX_CAMPAIGN_PAUSED;
    *reason = why;

    return 0;
}


int
inbox_campaign_pause_carrier(inbox_campaign_status_t *status,
    inbox_pause_reason_t *reason)
{
    /* a resumed campaign dated ahead is scheduled, its messages in the
     * outbox going all the same */
    if ((*status == INBOX_CAMPAIGN_PAUSED
         && *reason == INBOX_PAUSE_INSUFFICIENT_CREDITS)
        || *status == INBOX_CAMPAIGN_SCHEDULED)
    {
        *status = INBOX_CAMPAIGN_PAUSED;
        *reason = INBOX_PAUSE_CARRIER_ACCOUNT;
        return 0;
    }

    return inbox_campaign_pause_for(status, reason,
                                    INBOX_PAUSE_CARRIER_ACCOUNT);
}


int
inbox_campaign_dispatching(inbox_campaign_status_t status)
{
    return status == INBOX_CAMPAIGN_SENDING;
}


inbox_campaign_outbox_t
inbox_campaign_outbox(inbox_campaign_status_t status,
    inbox_pause_reason_t reason)
{
    if (status == INBOX_CAMPAIGN_CANCELLED) {
        return INBOX_OUTBOX_CANCELLED;
    }

    /* nothing from the number can go until a person fixed it either */
    if (status == INBOX_CAMPAIGN_PAUSED
        && (reason == INBOX_PAUSE_MANUAL
            || reason == INBOX_PAUSE_CARRIER_ACCOUNT))
    {
        return INBOX_OUTBOX_WAITS;
    }

    return INBOX_OUTBOX_GOES;
}


inbox_campaign_outbox_t
inbox_campaign_outbox_named(const char *status, const char *reason)
{
    inbox_pause_reason_t     why;
    inbox_campaign_status_t  state;

    if (status == NULL || inbox_campaign_status_parse(status, &state) != 0) {
        return INBOX_OUTBOX_GOES;
    }

    if (reason == NULL || inbox_pause_reason_parse(reason, &why) != 0) {
        why = INBOX_PAUSE_NONE;
    }

    return inbox_campaign_outbox(state, why);
}


int64_t
inbox_campaign_due_at(int64_t send_at, int64_t now)
{
    return send_at > 0 ? send_at : now;
}


int
inbox_campaign_final(inbox_campaign_status_t status)
{
    return status == INBOX_CAMPAIGN_DONE
           || status == INBOX_CAMPAIGN_CANCELLED;
}


inbox_recipient_state_t
inbox_recipient_of_delivery(inbox_delivery_t status, const char *error_code)
{
    switch (status) {

    case INBOX_DELIVERY_SENT:
        return INBOX_RECIPIENT_SENT;

    case INBOX_DELIVERY_DELIVERED:
        return INBOX_RECIPIENT_DELIVERED;

    case INBOX_DELIVERY_UNDELIVERED:
    case INBOX_DELIVERY_FAILED:
        /* the contact opted out, in the inbox since the hand-over (the
         * sender withdrew it) or at the carrier (its refusal, or its
         * report): not a failure to reach them, but what send counts
         * suppressed */
        if (error_code != NULL
            && strcmp(error_code, INBOX_SEND_ERROR_OPTED_OUT) == 0)
        {
            return INBOX_RECIPIENT_SUPPRESSED;
        }

        return INBOX_RECIPIENT_FAILED;

    default:
        return INBOX_RECIPIENT_QUEUED;
    }
}


int
inbox_recipient_of_unsent(inbox_send_outcome_t outcome,
    inbox_recipient_state_t *state)
{
    switch (outcome) {

    case INBOX_SEND_CANCELLED:
        *state = INBOX_RECIPIENT_CANCELLED;
        return 0;

    default:
        return -1;
    }
}


int
inbox_campaign_reply_counts(inbox_keyword_t keyword)
{
    return keyword != INBOX_KEYWORD_OPT_OUT && keyword != INBOX_KEYWORD_HELP;
}


int64_t *
inbox_campaign_count_of(inbox_campaign_counts_t *counts,
    inbox_recipient_state_t state)
{
    switch (state) {

    case INBOX_RECIPIENT_WAITING:
        return &counts->waiting_quiet_hours;

    case INBOX_RECIPIENT_SENT:
        return &counts->sent;

    case INBOX_RECIPIENT_DELIVERED:
        return &counts->delivered;

    case INBOX_RECIPIENT_FAILED:
        return &counts->failed;

    case INBOX_RECIPIENT_SUPPRESSED:
        return &counts->suppressed;

    case INBOX_RECIPIENT_CANCELLED:
        return &counts->cancelled;

    default:
        /* due or handed over and not yet taken */
        return &counts->queued;
    }
}


int64_t
inbox_campaign_recipients(int64_t audience, int64_t excluded)
{
    return audience > excluded ? audience - excluded : 0;
}


void
inbox_campaign_free(inbox_campaign_t *campaign)
{
    size_t  i;

    free(campaign->name);
    free(campaign->body);
    free(campaign->question);
    free(campaign->cancelled_message);

    for (i = 0; i < campaign->option_count; i++) {
        free(campaign->options[i]);
    }

    inbox_tags_free(&campaign->tags);
    free(campaign->media);

    memset(campaign, 0, sizeof(inbox_campaign_t));
}


void
inbox_campaign_page_free(inbox_campaign_page_t *page)
{
    size_t  i;

    for (i = 0; i < page->count; i++) {
        inbox_campaign_free(&page->items[i]);
    }

    free(page->items);

    memset(page, 0, sizeof(inbox_campaign_page_t));
}


void
inbox_poll_results_free(inbox_poll_results_t *results)
{
    size_t  i;

    inbox_campaign_free(&results->poll);

    for (i = 0; i < results->count; i++) {
        free(results->responses[i].name);
    }

    free(results->responses);

    memset(results, 0, sizeof(inbox_poll_results_t));
}


void
inbox_contact_campaigns_free(inbox_contact_campaigns_t *list)
{
    size_t  i;

    for (i = 0; i < list->campaign_count; i++) {
        free(list->campaigns[i].name);
    }

    for (i = 0; i < list->poll_count; i++) {
        free(list->polls[i].question);
        free(list->polls[i].answer_text);
    }

    free(list->campaigns);
    free(list->polls);

    memset(list, 0, sizeof(inbox_contact_campaigns_t));
}


const char *
inbox_campaign_kind_name(inbox_campaign_kind_t kind)
{
    return inbox_campaign_name_of(INBOX_NAMES(inbox_campaign_kinds),
                                  (int) kind);
}


const char *
inbox_campaign_status_name(inbox_campaign_status_t status)
{
    return inbox_campaign_name_of(INBOX_NAMES(inbox_campaign_statuses),
                                  (int) status);
}


const char *
inbox_pause_reason_name(inbox_pause_reason_t reason)
{
    return inbox_campaign_name_of(INBOX_NAMES(inbox_pause_reasons),
                                  (int) reason);
}


const char *
inbox_cancel_reason_name(inbox_cancel_reason_t reason)
{
    return inbox_campaign_name_of(INBOX_NAMES(inbox_cancel_reasons),
                                  (int) reason);
}


const char *
inbox_recipient_state_name(inbox_recipient_state_t state)
{
    return inbox_campaign_name_of(INBOX_NAMES(inbox_recipient_states),
                                  (int) state);
}


int
inbox_campaign_kind_parse(const char *name, inbox_campaign_kind_t *kind)
{
    int  v;

    if (inbox_campaign_parse_name(INBOX_NAMES(inbox_campaign_kinds), name,
                                  &v) != 0)
    {
        return -1;
    }

    *kind = (inbox_campaign_kind_t) v;

    return 0;
}


int
inbox_campaign_status_parse(const char *name,
    inbox_campaign_status_t *status)
{
    int  v;

    if (inbox_campaign_parse_name(INBOX_NAMES(inbox_campaign_statuses), name,
                                  &v) != 0)
    {
        return -1;
    }

    *status = (inbox_campaign_status_t) v;

    return 0;
}


int
inbox_pause_reason_parse(const char *name, inbox_pause_reason_t *reason)
{
    int  v;

    if (name == NULL) {
        *reason = INBOX_PAUSE_NONE;
        return 0;
    }

    if (inbox_campaign_parse_name(INBOX_NAMES(inbox_pause_reasons), name,
                                  &v) != 0)
    {
        return -1;
    }

    *reason = (inbox_pause_reason_t) v;

    return 0;
}


int
inbox_cancel_reason_parse(const char *name, inbox_cancel_reason_t *reason)
{
    int  v;

    if (name == NULL) {
        *reason = INBOX_CANCEL_NONE;
        return 0;
    }

    if (inbox_campaign_parse_name(INBOX_NAMES(inbox_cancel_reasons), name,
                                  &v) != 0)
    {
        return -1;
    }

    *reason = (inbox_cancel_reason_t) v;

    return 0;
}


int
inbox_recipient_state_parse(const char *name, inbox_recipient_state_t *state)
{
    int  v;

    if (inbox_campaign_parse_name(INBOX_NAMES(inbox_recipient_states), name,
                                  &v) != 0)
    {
        return -1;
    }

    *state = (inbox_recipient_state_t) v;

    return 0;
}


int
inbox_campaign_action_parse(const char *name,
    inbox_campaign_action_t *action)
{
    int  v;

    if (inbox_campaign_parse_name(INBOX_NAMES(inbox_campaign_actions), name,
                                  &v) != 0)
    {
        return -1;
    }

    *action = (inbox_campaign_action_t) v;

    return 0;
}


/* NULL for a value without a name (INBOX_PAUSE_NONE: null on the wire). */
static const char *
inbox_campaign_name_of(const inbox_campaign_name_t *t, size_t n, int value)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (t[i].value == value) {
            return t[i].name;
        }
    }

    return NULL;
}


static int
inbox_campaign_parse_name(const inbox_campaign_name_t *t, size_t n,
    const char *name, int *value)
{
    size_t  i;

    for (i = 0; name != NULL && i < n; i++) {
        if (strcmp(t[i].name, name) == 0) {
            *value = t[i].value;
            return 0;
        }
    }

    return -1;
}


/*
 * The rule of a campaign's text, for a new one and for one about to be
 * sent: a campaign's body a message may have (segments.h); a poll's
 * question, its options (poll.h) and the one message they make, body,
 * or when body is NULL the text they make now (inbox_poll_text).  Each
 * refusal names the field the person edits.
 */
static inbox_status_t
inbox_campaign_text_check(inbox_campaign_kind_t kind, const char *body,
    const char *question, const char *const *options, size_t option_count,
    size_t media_count, inbox_error_t *err)
{
    char            *made;
    inbox_status_t   status;

    if (kind == INBOX_CAMPAIGN_KIND_CAMPAIGN) {
        if (body == NULL) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
                                         "A campaign needs a text or an "
                                         "image.");
        }

        return inbox_message_check(body, strlen(body), media_count, err);
    }

    if (question == NULL || question[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "question",
                                     "A poll needs a question.");
    }

    status = inbox_message_check(question, strlen(question), 0, err);
    if (status != INBOX_OK) {
        return inbox_campaign_text_refused(err, "question", "");
    }

    status = inbox_poll_options_check(options, option_count, err);
    if (status != INBOX_OK) {
        return status;
    }

    made = NULL;

    if (body == NULL) {
        made = inbox_poll_text(question, options, option_count);
        if (made == NULL) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
        }

        body = made;
    }

    status = inbox_message_check(body, strlen(body), media_count, err);
    free(made);

    if (status != INBOX_OK) {
        return inbox_campaign_text_refused(err, "options",
                                           "The question and its "
                                           "options make one message. ");
    }

    return INBOX_OK;
}


/*
 * inbox_message_check's refusal of a poll's text, in its own words (how
 * many segments, or characters too many), said of the field the person
 * edits: a poll has no "body".
 */
static inbox_status_t
inbox_campaign_text_refused(inbox_error_t *err, const char *field,
    const char *preface)
{
    char  refusal[INBOX_ERROR_MESSAGE_MAX];

    if (err == NULL) {
        return INBOX_ERR_INVALID;
    }

    memcpy(refusal, err->message, sizeof(refusal));

    return inbox_error_set_field(err, INBOX_ERR_INVALID, field, "%s%s",
                                 preface, refusal);
}
