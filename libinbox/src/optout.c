/*
 * Opt-out and opt-in: the rules of optout.h.
 */
#include <stdio.h>
#include <string.h>
#include <inbox/optout.h>


static const char  *inbox_opt_out_sources[INBOX_OPT_OUT_SOURCES] = {
    "keyword", "manual", "carrier"
};


const char *
inbox_opt_out_source_name(inbox_opt_out_source_t source)
{
    if ((unsigned) source >= INBOX_OPT_OUT_SOURCES) {
        return NULL;
    }

    return inbox_opt_out_sources[source];
}


int
inbox_contact_opt_out(inbox_contact_record_t *contact,
    inbox_opt_out_source_t source, const char *keyword, int64_t at,
    int64_t sent_at)
{
    const char  *name;

    name = inbox_opt_out_source_name(source);

    if (name == NULL) {
        return 0;
    }

    /* a refusal of a send before the contact's START: it resubscribed
     * since, and only the contact opts itself out again */
    if (!contact->opted_out && source == INBOX_OPT_OUT_CARRIER
        && contact->opted_in_at > 0 && sent_at <= contact->opted_in_at)
    {
        return 0;
    }

    /* news at at: a keyword sent before it and arriving after it is
     * older (inbox_contact_opt_keyword), a START that would undo it */
    if (source != INBOX_OPT_OUT_KEYWORD && at > contact->opt_latest_at) {
        contact->opt_latest_at = at;
    }

    /* the first opt-out is the one that counts */
    if (contact->opted_out) {
        return 0;
    }

    contact->opted_out = 1;
    contact->opted_out_at = at;
    snprintf(contact->opt_out_source, sizeof(contact->opt_out_source), "%s",
             name);
    snprintf(contact->opt_out_keyword, sizeof(contact->opt_out_keyword),
             "%s", source == INBOX_OPT_OUT_KEYWORD && keyword ? keyword : "");

    return 1;
}


int
inbox_contact_opt_in(inbox_contact_record_t *contact, int64_t at)
{
    if (!contact->opted_out) {
        return 0;
    }

    contact->opted_out = 0;
    contact->opted_in_at = at;
    contact->opted_out_at = 0;
    contact->opt_out_source[0] = '\0';
    contact->opt_out_keyword[0] = '\0';

    return 1;
}


int
inbox_contact_opt_keyword(inbox_contact_record_t *contact, int opt_out,
    const char *keyword, int64_t at, int64_t sent_at)
{
    /* sent before the newest seen (a carrier's late retry): older news.
     * One sent at the same moment counts, in the order it arrived. */
    if (sent_at < contact->opt_latest_at) {
        return 0;
    }

    contact->opt_latest_at = sent_at;

    return opt_out ? inbox_contact_opt_out(contact, INBOX_OPT_OUT_KEYWORD,
                                           keyword, at, 0)
                   : inbox_contact_opt_in(contact, at);
}


void
inbox_opt_keyword(const char *body, char out[INBOX_KEYWORD_MAX])
{
    size_t  len, i;

    len = body ? strlen(body) : 0;

    while (len > 0 && (*body == ' ' || (*body >= '\t' && *body <= '\r'))) {
        body++;
        len--;
    }

    while (len > 0 && (body[len - 1] == ' '
                       || (body[len - 1] >= '\t' && body[len - 1] <= '\r')))
    {
        len--;
    }

    if (len >= INBOX_KEYWORD_MAX) {
        len = INBOX_KEYWORD_MAX - 1;

        /* not inside a character: back to its first byte */
        while (len > 0 && ((unsigned char) body[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    for (i = 0; i < len; i++) {
        out[i] = (body[i] >= 'a' && body[i] <= 'z') ? body[i] - 'a' + 'A'
                                                    : body[i];
    }

    out[len] = '\0';
}
