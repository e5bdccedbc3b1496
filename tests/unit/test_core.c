/*
 * Errors, model and plan names and store URIs: what callers branch on and
 * show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <inbox/account.h>
#include <inbox/billing.h>
#include <inbox/error.h>
#include <inbox/model.h>
#include <inbox/outbox.h>
#include <inbox/store.h>
#include "check.h"


TEST(status_codes_and_http)
{
    static const struct {
        inbox_status_t  status;
        const char     *code;
        int             http;
    } expected[] = {
        { INBOX_ERR_INVALID, "invalid_request", 400 },
        { INBOX_ERR_UNAUTHENTICATED, "unauthenticated", 401 },
        { INBOX_ERR_INSUFFICIENT_CREDITS, "insufficient_credits", 402 },
        { INBOX_ERR_FORBIDDEN, "forbidden", 403 },
        { INBOX_ERR_BILLING_INACTIVE, "billing_inactive", 403 },
        { INBOX_ERR_NOT_FOUND, "not_found", 404 },
        { INBOX_ERR_METHOD_NOT_ALLOWED, "method_not_allowed", 405 },
        { INBOX_ERR_CONFLICT, "conflict", 409 },
        { INBOX_ERR_CONTACT_OPTED_OUT, "contact_opted_out", 409 },
        { INBOX_ERR_TOO_LARGE, "too_large", 413 },
        { INBOX_ERR_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415 },
        { INBOX_ERR_RATE_LIMITED, "rate_limited", 429 },
        { INBOX_ERR_UNAVAILABLE, "unavailable", 503 },
        { INBOX_ERR_INTERNAL, "internal", 500 },
    };

    size_t  i;

    for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        CHECK_STR(inbox_status_code(expected[i].status), expected[i].code);
        CHECK_INT(inbox_status_http(expected[i].status), expected[i].http);
    }
}


TEST(error_set_formats_and_clears)
{
    inbox_error_t  err;

    CHECK_INT(inbox_error_set(&err, INBOX_ERR_CONFLICT, "%s is taken",
                              "a@b.test"), INBOX_ERR_CONFLICT);
    CHECK_INT(err.code, INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "a@b.test is taken");
    CHECK_STR(err.field, "");

    CHECK_INT(inbox_error_set_field(&err, INBOX_ERR_INVALID, "limit",
                                    "limit must be 1 to %d", 200),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "limit");
    CHECK_STR(err.message, "limit must be 1 to 200");

    inbox_error_clear(&err);
    CHECK_INT(err.code, INBOX_OK);
    CHECK_STR(err.message, "");
    CHECK_STR(err.field, "");

    /* a NULL error is allowed everywhere */
    CHECK_INT(inbox_error_set(NULL, INBOX_ERR_INTERNAL, "x"),
              INBOX_ERR_INTERNAL);
}


TEST(model_names_parse_back)
{
    inbox_carrier_t  carrier;
    inbox_role_t     role;
    inbox_filter_t   filter;

    CHECK_INT(inbox_carrier_parse("telnyx", &carrier), 0);
    CHECK_INT(carrier, INBOX_CARRIER_TELNYX);
    CHECK_STR(inbox_carrier_name(carrier), "telnyx");
    CHECK_INT(inbox_carrier_parse("twilio", &carrier), 0);
    CHECK_STR(inbox_carrier_name(carrier), "twilio");
    CHECK_INT(inbox_carrier_parse("Twilio", &carrier), -1);

    CHECK_INT(inbox_role_parse("billing", &role), 0);
    CHECK_STR(inbox_role_name(role), "billing");
    CHECK_INT(inbox_role_parse("member", &role), 0);
    CHECK_STR(inbox_role_name(role), "member");
    CHECK_INT(inbox_role_parse("admin", &role), -1);

    CHECK_STR(inbox_direction_name(INBOX_INBOUND), "inbound");
    CHECK_STR(inbox_direction_name(INBOX_OUTBOUND), "outbound");

    CHECK_INT(inbox_filter_parse("all", &filter), 0);
    CHECK_INT(filter, INBOX_FILTER_ALL);
    CHECK_INT(inbox_filter_parse("unread", &filter), 0);
    CHECK_INT(filter, INBOX_FILTER_UNREAD);
    CHECK_INT(inbox_filter_parse("unresponded", &filter), 0);
    CHECK_INT(filter, INBOX_FILTER_UNRESPONDED);
    CHECK_INT(inbox_filter_parse("starred", &filter), 0);
    CHECK_INT(filter, INBOX_FILTER_STARRED);
    CHECK_INT(inbox_filter_parse("archived", &filter), 0);
    CHECK_INT(filter, INBOX_FILTER_ARCHIVED);
    CHECK_INT(inbox_filter_parse("", &filter), -1);
    CHECK_INT(inbox_filter_parse("deleted", &filter), -1);
}


TEST(store_open_rejects_unknown_uris)
{
    inbox_error_t  err;

    CHECK(inbox_store_open("postgres://localhost/inbox", &err) == NULL);
    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "sqlite:PATH") != NULL);

    CHECK(inbox_store_open("", &err) == NULL);
    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(inbox_store_open("sqlite:", &err) == NULL);
    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(inbox_store_open("mongodb:/x", &err) == NULL);
    CHECK_INT(err.code, INBOX_ERR_INVALID);
}


TEST(store_open_dispatches_sqlite)
{
    char            path[] = "/tmp/inbox-core-XXXXXX";
    char            uri[64];
    inbox_error_t   err;
    inbox_store_t  *store;

    CHECK(mkdtemp(path) != NULL);
    snprintf(uri, sizeof(uri), "sqlite:%s/inbox.db", path);

    store = inbox_store_create(uri, &err);
    CHECK(store != NULL);
    if (store != NULL) {
        CHECK_STR(inbox_store_backend(store), "sqlite");
        CHECK_INT(inbox_store_ping(store, &err), INBOX_OK);
        inbox_store_close(store);
    }

    snprintf(uri, sizeof(uri), "%s/inbox.db", path);
    unlink(uri);
    snprintf(uri, sizeof(uri), "%s/inbox.db-wal", path);
    unlink(uri);
    snprintf(uri, sizeof(uri), "%s/inbox.db-shm", path);
    unlink(uri);
    snprintf(uri, sizeof(uri), "%s/inbox.db-writer", path);
    unlink(uri);
    CHECK_INT(rmdir(path), 0);
}


/* A plan this release does not know (or none, from before plans) is
 * charged per message: nothing goes out unpaid by mistake. */
TEST(only_a_known_unlimited_plan_sends_for_nothing)
{
    inbox_plan_t  plan;

    CHECK_INT(inbox_plan_parse("unlimited", &plan), 0);
    CHECK_INT(plan, INBOX_PLAN_UNLIMITED);
    CHECK_STR(inbox_plan_name(plan), "unlimited");
    CHECK_INT(inbox_plan_parse("both", &plan), -1);
    CHECK_INT(inbox_plan_parse(NULL, &plan), -1);

    CHECK_INT(inbox_plan_charge(inbox_plan_stored("unlimited"), 2), 0);
    CHECK_INT(inbox_plan_charge(inbox_plan_stored("per_message"), 2), 2);
    CHECK_INT(inbox_plan_charge(inbox_plan_stored(""), 2), 2);
    CHECK_INT(inbox_plan_charge(inbox_plan_stored("Unlimited"), 1), 1);
    CHECK_INT(inbox_plan_charge(inbox_plan_stored(NULL), 1), 1);
}


/* A keyword's answer goes within 5 minutes of it or not at all (the FCC's
 * one confirmation of an opt-out); a reply or a campaign's message is
 * never too late. */
TEST(a_keywords_answer_goes_within_five_minutes_or_not_at_all)
{
    inbox_outbox_item_t  item;
    const int64_t        t0 = 1767268800000LL;
    const int64_t        minute = 60 * 1000;

    memset(&item, 0, sizeof(item));
    item.message.created_at = t0;
    item.priority = INBOX_OUTBOX_NOTICE;

    CHECK(!inbox_outbox_notice_late(&item, t0));
    CHECK(!inbox_outbox_notice_late(&item, t0 + 5 * minute));
    CHECK(inbox_outbox_notice_late(&item, t0 + 5 * minute + 1));
    CHECK(inbox_outbox_notice_late(&item, t0 + 60 * minute));

    item.priority = INBOX_OUTBOX_REPLY;
    CHECK(!inbox_outbox_notice_late(&item, t0 + 60 * minute));
    item.priority = INBOX_OUTBOX_BULK;
    CHECK(!inbox_outbox_notice_late(&item, t0 + 60 * minute));
}


TEST(a_status_callback_names_a_message_only_by_an_ids_form)
{
    char  out[INBOX_ID_MAX];
    char  longest[INBOX_ID_MAX + 1];

    /* both stores' ids: SQLite's digits, MongoDB's hexadecimal */
    inbox_outbox_callback_message("42", 2, out);
    CHECK_STR(out, "42");
    inbox_outbox_callback_message("65f0c1aa00000000000000ffzz", 24, out);
    CHECK_STR(out, "65f0c1aa00000000000000ff");

    memset(longest, 'a', sizeof(longest) - 1);
    inbox_outbox_callback_message(longest, sizeof(longest) - 1, out);
    CHECK_STR(out, "");
    inbox_outbox_callback_message(longest, sizeof(longest) - 2, out);
    CHECK_INT((int) strlen(out), INBOX_ID_MAX - 1);

    /* anything else names none, so no store is asked for it */
    strcpy(out, "stale");
    inbox_outbox_callback_message("", 0, out);
    CHECK_STR(out, "");
    strcpy(out, "stale");
    inbox_outbox_callback_message(NULL, 0, out);
    CHECK_STR(out, "");
    inbox_outbox_callback_message("4 2", 3, out);
    CHECK_STR(out, "");
    inbox_outbox_callback_message("42%00", 5, out);
    CHECK_STR(out, "");
    inbox_outbox_callback_message("{\"$ne\":1}", 9, out);
    CHECK_STR(out, "");
}


TEST(the_team_keeps_a_billing_contact)
{
    inbox_error_t  err;

    /* a billing contact may go when another stays */
    CHECK_INT(inbox_team_keeps_billing(1, 0, 1, &err), INBOX_OK);
    CHECK_INT(inbox_team_keeps_billing(1, 0, 0, &err), INBOX_ERR_CONFLICT);
    CHECK(strstr(err.message, "at least one billing contact") != NULL);

    /* nothing taken away: a member, or a billing contact who stays one */
    CHECK_INT(inbox_team_keeps_billing(0, 0, 0, &err), INBOX_OK);
    CHECK_INT(inbox_team_keeps_billing(0, 1, 0, &err), INBOX_OK);
    CHECK_INT(inbox_team_keeps_billing(1, 1, 0, &err), INBOX_OK);
    CHECK_INT(inbox_team_keeps_billing(1, 0, 0, NULL), INBOX_ERR_CONFLICT);
}


RUN_TESTS()
