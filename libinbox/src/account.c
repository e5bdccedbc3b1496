/*
 * Organizations and users as the store hands them out, and the one rule
 * for an email address.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/account.h>


static void *inbox_account_list_grow(void *items, size_t count,
    size_t size);


void
inbox_org_free(inbox_org_t *org)
{
    if (org == NULL) {
        return;
    }

    free(org->name);
    org->name = NULL;
}


void
inbox_account_free(inbox_account_t *account)
{
    if (account == NULL) {
        return;
    }

    inbox_org_free(&account->org);
}


void
inbox_org_list_free(inbox_org_list_t *list)
{
    size_t  i;

    if (list == NULL) {
        return;
    }

    for (i = 0; i < list->count; i++) {
        inbox_org_free(&list->items[i]);
    }

    free(list->items);
    memset(list, 0, sizeof(inbox_org_list_t));
}


void
inbox_user_list_free(inbox_user_list_t *list)
{
    if (list == NULL) {
        return;
    }

    free(list->items);
    memset(list, 0, sizeof(inbox_user_list_t));
}


/* items with room for one more than count, growing by doubling; NULL
 * when out of memory (items is then still good). */
static void *
inbox_account_list_grow(void *items, size_t count, size_t size)
{
    size_t  cap;

    cap = 8;
    while (cap < count) {
        cap *= 2;
    }

    if (count != 0 && count < cap) {
        return items;
    }

    return realloc(items, (count ? cap * 2 : cap) * size);
}


inbox_org_t *
inbox_org_list_add(inbox_org_list_t *list)
{
    inbox_org_t  *items;

    items = inbox_account_list_grow(list->items, list->count,
                                    sizeof(inbox_org_t));
    if (items == NULL) {
        return NULL;
    }

    list->items = items;
    memset(&items[list->count], 0, sizeof(inbox_org_t));

    return &items[list->count++];
}


inbox_user_t *
inbox_user_list_add(inbox_user_list_t *list)
{
    inbox_user_t  *items;

    items = inbox_account_list_grow(list->items, list->count,
                                    sizeof(inbox_user_t));
    if (items == NULL) {
        return NULL;
    }

    list->items = items;
    memset(&items[list->count], 0, sizeof(inbox_user_t));

    return &items[list->count++];
}


int
inbox_email_normalize(const char *email, char *out, size_t size)
{
    size_t         i, len;
    unsigned char  c;

    if (email == NULL || size == 0) {
        return -1;
    }

    len = strlen(email);

    if (len == 0 || len >= size || strchr(email, '@') == NULL) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) email[i];

        if (c < 0x20 || c == 0x7f) {
            return -1;
        }

        /* ASCII only: SQLite's NOCASE folds no other letters either */
        out[i] = (char) ((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
    }

    out[len] = '\0';

    return 0;
}


inbox_status_t
inbox_team_keeps_billing(int was_billing, int stays_billing,
    int64_t other_billing, inbox_error_t *err)
{
    if (!was_billing || stays_billing || other_billing > 0) {
        return INBOX_OK;
    }

    return inbox_error_set(err, INBOX_ERR_CONFLICT,
                           "The organization needs at least one billing "
                           "contact: make someone else a billing contact "
                           "first.");
}


void
inbox_number_list_free(inbox_number_list_t *list)
{
    size_t  i;

    if (list == NULL) {
        return;
    }

    for (i = 0; i < list->count; i++) {
        inbox_number_free(&list->items[i]);
    }

    free(list->items);
    memset(list, 0, sizeof(inbox_number_list_t));
}


inbox_number_t *
inbox_number_list_add(inbox_number_list_t *list)
{
    inbox_number_t  *items;

    items = inbox_account_list_grow(list->items, list->count,
                                    sizeof(inbox_number_t));
    if (items == NULL) {
        return NULL;
    }

    list->items = items;
    memset(&items[list->count], 0, sizeof(inbox_number_t));

    return &items[list->count++];
}
