/*
 * Send again: which failed reply may go again, and the refusals of one
 * that may not.
 */
#include <stdio.h>
#include <string.h>
#include <inbox/outbox.h>
#include <inbox/resend.h>


/* Failures another try cannot mend (delivery.js words them): the inbox's
 * own and the carriers' codes. */
static const char *inbox_resend_final[] = {
    INBOX_SEND_ERROR_OPTED_OUT, INBOX_SEND_ERROR_CANCELLED,
    INBOX_SEND_ERROR_LATE,
    "21610", "40300",                   /* opted out at the carrier */
    "21211", "21614", "30005", "30006", /* no number that takes texts */
    "21617", "30019", "12300",          /* a text or picture refused */
    "30004",                            /* the contact's block */
};


static int inbox_resend_eligible(const inbox_message_t *m);


int
inbox_resend_worth(const char *status, const char *error_code)
{
    size_t  i;

    if (status == NULL
        || (strcmp(status, "failed") != 0
            && strcmp(status, "undelivered") != 0))
    {
        return 0;
    }

    if (error_code == NULL) {
        return 1;
    }

    for (i = 0; i < sizeof(inbox_resend_final) / sizeof(char *); i++) {
        if (strcmp(error_code, inbox_resend_final[i]) == 0) {
            return 0;
        }
    }

    return 1;
}


int
inbox_resend_can(const inbox_message_t *m)
{
    return inbox_resend_eligible(m) && m->resent_as[0] == '\0';
}


/* A person's reply that failed for a reason another try may mend, sent
 * again or not. */
static int
inbox_resend_eligible(const inbox_message_t *m)
{
    return m->direction == INBOX_OUTBOUND && m->sent_by[0] != '\0'
           && m->campaign_id[0] == '\0'
           && inbox_resend_worth(m->status, m->error_code);
}


inbox_status_t
inbox_resend_check(const inbox_reply_t *reply, const inbox_message_t *m,
    int found, inbox_error_t *err)
{
    if (!found || reply->conversation_id == NULL
        || strcmp(m->conversation_id, reply->conversation_id) != 0)
    {
        return inbox_error_set_field(err, INBOX_ERR_NOT_FOUND, "resend_of",
                                     "There is no such message in this "
                                     "conversation to send again.");
    }

    if (!inbox_resend_eligible(m)) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "resend_of",
                                     "Only a person's reply that did not "
                                     "reach the phone, for a reason another "
                                     "try may mend, can be sent again.");
    }

    if (m->resent_as[0] != '\0') {
        return inbox_resend_taken(err, m->resent_as);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_resend_taken(inbox_error_t *err, const char *as)
{
    inbox_error_set_field(err, INBOX_ERR_ALREADY_SENT_AGAIN, "resend_of",
                          "This reply was sent again already; nothing "
                          "more was sent.");

    if (err != NULL) {
        snprintf(err->last_message_id, sizeof(err->last_message_id), "%s",
                 as);
    }

    return INBOX_ERR_ALREADY_SENT_AGAIN;
}
