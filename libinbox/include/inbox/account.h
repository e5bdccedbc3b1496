/*
 * Who uses the inbox: organizations and their users, as sign-in, "me" and
 * inboxctl's listings see them (never a password hash).
 *
 * Heap strings (char *) belong to the struct and are freed by its _free
 * function; lists are freed with theirs, also after a failure.
 */
#ifndef INBOX_ACCOUNT_H
#define INBOX_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/error.h>
#include <inbox/model.h>

#define INBOX_EMAIL_MAX         256
#define INBOX_TIMEZONE_MAX      64
/* What one listing holds at most (the oldest first). */
#define INBOX_ACCOUNT_LIST_MAX  1000

typedef struct {
    char     id[INBOX_ID_MAX];
    char    *name;                        /* NULL only when not read */
    char     timezone[INBOX_TIMEZONE_MAX];
    int64_t  created_at;                  /* ms */
} inbox_org_t;

typedef struct {
    char          id[INBOX_ID_MAX];
    char          org_id[INBOX_ID_MAX];
    char          email[INBOX_EMAIL_MAX]; /* as stored: lower case */
    inbox_role_t  role;
    int64_t       created_at;             /* ms */
} inbox_user_t;

/* Who a request acts as, spelled out: the organization and, unless an
 * organization-wide API token made the request, the user. */
typedef struct {
    inbox_org_t   org;
    int           has_user;
    inbox_user_t  user;
} inbox_account_t;

typedef struct {
    inbox_org_t  *items;
    size_t        count;
    int           truncated;              /* more than the list holds */
} inbox_org_list_t;

typedef struct {
    inbox_user_t  *items;
    size_t         count;
    int            truncated;
} inbox_user_list_t;

/* An organization's numbers, with their carrier credentials (inboxctl
 * shows which are set, never what they are). */
typedef struct {
    inbox_number_t  *items;
    size_t           count;
    int              truncated;
} inbox_number_list_t;

void inbox_org_free(inbox_org_t *org);
void inbox_account_free(inbox_account_t *account);
void inbox_org_list_free(inbox_org_list_t *list);
void inbox_user_list_free(inbox_user_list_t *list);
void inbox_number_list_free(inbox_number_list_t *list);

/* For the store: a new zeroed item at the end of the list, or NULL when
 * out of memory. */
inbox_org_t *inbox_org_list_add(inbox_org_list_t *list);
inbox_user_t *inbox_user_list_add(inbox_user_list_t *list);
inbox_number_t *inbox_number_list_add(inbox_number_list_t *list);

/* An email address as the store keys it: ASCII letters in lower case,
 * into out (of size bytes).  0, or -1 when it is not an address (no "@",
 * empty, too long, control characters). */
int inbox_email_normalize(const char *email, char *out, size_t size);

/* The team's rule: an organization always keeps a billing contact.  A
 * change to a user who is one now (was_billing) after which they are not
 * (stays_billing 0: a member now, or removed) is allowed only when
 * other_billing (how many other billing contacts the team has) is not
 * 0: INBOX_OK, else INBOX_ERR_CONFLICT saying what to do first.  Each
 * backend applies it where it can see the team whole. */
inbox_status_t inbox_team_keeps_billing(int was_billing, int stays_billing,
    int64_t other_billing, inbox_error_t *err);

#endif
