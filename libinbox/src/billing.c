/*
 * Billing: the ledger's kinds and what each moves, and what a plan
 * charges.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/billing.h>


static const char  *inbox_ledger_kinds[] = {
    "grant", "hold", "release", "capture"
};

#define INBOX_LEDGER_KINDS                                                    \
    (sizeof(inbox_ledger_kinds) / sizeof(inbox_ledger_kinds[0]))

static const char  *inbox_plans[] = {
    "per_message", "unlimited"
};

#define INBOX_PLANS  (sizeof(inbox_plans) / sizeof(inbox_plans[0]))


void
inbox_ledger_page_free(inbox_ledger_page_t *page)
{
    if (page == NULL) {
        return;
    }

    free(page->items);
    page->items = NULL;
    page->count = 0;
}


const char *
inbox_ledger_kind_name(inbox_ledger_kind_t kind)
{
    if ((unsigned) kind >= INBOX_LEDGER_KINDS) {
        return "grant";
    }

    return inbox_ledger_kinds[kind];
}


int
inbox_ledger_kind_parse(const char *name, inbox_ledger_kind_t *kind)
{
    unsigned  i;

    for (i = 0; name != NULL && i < INBOX_LEDGER_KINDS; i++) {
        if (strcmp(name, inbox_ledger_kinds[i]) == 0) {
            *kind = (inbox_ledger_kind_t) i;
            return 0;
        }
    }

    return -1;
}


int64_t
inbox_ledger_balance_change(inbox_ledger_kind_t kind, int64_t credits)
{
    switch (kind) {
    case INBOX_LEDGER_GRANT:
    case INBOX_LEDGER_RELEASE:
        return credits;
    case INBOX_LEDGER_HOLD:
        return -credits;
    default:
        return 0;
    }
}


int64_t
inbox_ledger_held_change(inbox_ledger_kind_t kind, int64_t credits)
{
    switch (kind) {
    case INBOX_LEDGER_HOLD:
        return credits;
    case INBOX_LEDGER_RELEASE:
    case INBOX_LEDGER_CAPTURE:
        return -credits;
    default:
        return 0;
    }
}


const char *
inbox_plan_name(inbox_plan_t plan)
{
    if ((unsigned) plan >= INBOX_PLANS) {
        return "per_message";
    }

    return inbox_plans[plan];
}


int
inbox_plan_parse(const char *name, inbox_plan_t *plan)
{
    unsigned  i;

    for (i = 0; name != NULL && i < INBOX_PLANS; i++) {
        if (strcmp(name, inbox_plans[i]) == 0) {
            *plan = (inbox_plan_t) i;
            return 0;
        }
    }

    return -1;
}


inbox_plan_t
inbox_plan_stored(const char *name)
{
    inbox_plan_t  plan;

    if (inbox_plan_parse(name, &plan) != 0) {
        return INBOX_PLAN_PER_MESSAGE;
    }

    return plan;
}


unsigned
inbox_plan_charge(inbox_plan_t plan, unsigned credits)
{
    return plan == INBOX_PLAN_UNLIMITED ? 0 : credits;
}
