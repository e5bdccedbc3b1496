/*
 * Campaigns' and polls' own rules: quiet hours on each recipient's clock
 * (ICU's tz database: DST, two zones, a window across midnight, the
 * clock given by the test), poll answers, and the lifecycle.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/campaign.h>
#include <inbox/fold.h>
#include <inbox/keywords.h>
#include <inbox/outbox.h>
#include <inbox/poll.h>
#include <inbox/quiet.h>
#include "check.h"


#define HOUR    3600000LL
#define MINUTE  60000LL

/* 2026-01-01T00:00:00Z */
#define JAN1    1767225600000LL
/* 2026-03-08: New York springs forward at 02:00 EST (07:00Z) */
#define MAR8    1772928000000LL
/* 2026-11-01: New York falls back at 02:00 EDT (06:00Z) */
#define NOV1    1793491200000LL

#define Q_START  (21 * 60)
#define Q_END    (8 * 60)


static int64_t
opens(const char *contact_tz, const char *org_tz, int start, int end,
    int64_t now)
{
    int64_t  at;

    if (!inbox_quiet_hours(contact_tz, org_tz, start, end, now, &at)) {
        CHECK_INT(at, now);
        return 0;
    }

    CHECK(at > now);

    return at;
}


TEST(quiet_hours_in_new_york_cross_midnight)
{
    /* Jan 1, 20:59 EST (01:59Z Jan 2): not yet quiet */
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END,
                    JAN1 + 25 * HOUR + 59 * MINUTE), 0);
    /* 21:00 EST (02:00Z Jan 2): quiet until 08:00 EST (13:00Z Jan 2) */
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END,
                    JAN1 + 26 * HOUR), JAN1 + 37 * HOUR);
    /* after midnight, 03:00 EST: the same morning's 08:00 */
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END,
                    JAN1 + 32 * HOUR), JAN1 + 37 * HOUR);
    /* 07:59:59.999 EST still quiet, 08:00 EST not */
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END,
                    JAN1 + 37 * HOUR - 1), JAN1 + 37 * HOUR);
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END,
                    JAN1 + 37 * HOUR), 0);
}


TEST(quiet_hours_in_two_zones_at_one_instant)
{
    int64_t  now;

    /* 2026-01-02T02:00Z: 21:00 in New York, 11:00 in Tokyo */
    now = JAN1 + 26 * HOUR;
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END, now),
              JAN1 + 37 * HOUR);
    CHECK_INT(opens("Asia/Tokyo", "UTC", Q_START, Q_END, now), 0);

    /* 2026-01-01T12:00Z: 21:00 in Tokyo (no DST, UTC+9), 07:00 in New
     * York */
    now = JAN1 + 12 * HOUR;
    CHECK_INT(opens("Asia/Tokyo", "UTC", Q_START, Q_END, now),
              JAN1 + 23 * HOUR);
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END, now),
              JAN1 + 13 * HOUR);
}


TEST(quiet_hours_follow_dst)
{
    /* the night New York springs forward: quiet from 21:00 EST
     * (02:00Z Mar 8) to 08:00 EDT (12:00Z), not 13:00Z */
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END,
                    MAR8 + 2 * HOUR), MAR8 + 12 * HOUR);
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END,
                    MAR8 + 12 * HOUR - 1), MAR8 + 12 * HOUR);
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END,
                    MAR8 + 12 * HOUR), 0);

    /* the night it falls back: until 08:00 EST (13:00Z Nov 1) */
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END,
                    NOV1 + 2 * HOUR), NOV1 + 13 * HOUR);
    CHECK_INT(opens("America/New_York", "UTC", Q_START, Q_END,
                    NOV1 + 12 * HOUR), NOV1 + 13 * HOUR);

    /* a window ending at 01:30, a time Nov 1 repeats: from 01:00 EDT
     * (05:00Z) it opens at the first 01:30 (05:30Z); from 01:10 EST,
     * the hour again (06:10Z), at the second (06:30Z), not a day on */
    CHECK_INT(opens("America/New_York", "UTC", 23 * 60, 60 + 30,
                    NOV1 + 5 * HOUR), NOV1 + 5 * HOUR + 30 * MINUTE);
    CHECK_INT(opens("America/New_York", "UTC", 23 * 60, 60 + 30,
                    NOV1 + 6 * HOUR + 10 * MINUTE),
              NOV1 + 6 * HOUR + 30 * MINUTE);

    /* a window ending at 02:30, a time Mar 8 skips: it opens at the
     * first valid instant after, 03:00 EDT (07:00Z) */
    CHECK_INT(opens("America/New_York", "UTC", 23 * 60, 2 * 60 + 30,
                    MAR8 + 5 * HOUR), MAR8 + 7 * HOUR);
}


TEST(quiet_hours_of_a_window_inside_one_day)
{
    /* 12:00 to 13:30 UTC */
    CHECK_INT(opens("UTC", NULL, 12 * 60, 13 * 60 + 30,
                    JAN1 + 11 * HOUR), 0);
    CHECK_INT(opens("UTC", NULL, 12 * 60, 13 * 60 + 30,
                    JAN1 + 12 * HOUR), JAN1 + 13 * HOUR + 30 * MINUTE);
    CHECK_INT(opens("UTC", NULL, 12 * 60, 13 * 60 + 30,
                    JAN1 + 13 * HOUR + 30 * MINUTE), 0);
    CHECK_INT(opens("UTC", NULL, 12 * 60, 13 * 60 + 30,
                    JAN1 + 23 * HOUR), 0);

    /* no window */
    CHECK_INT(opens("UTC", NULL, 600, 600, JAN1 + 10 * HOUR), 0);
    CHECK_INT(opens("UTC", NULL, -1, 600, JAN1 + 5 * HOUR), 0);
}


TEST(quiet_hours_use_the_organizations_zone_when_the_contacts_is_unknown)
{
    /* 2026-01-01T12:00Z: 21:00 in Tokyo */
    CHECK_STR(inbox_quiet_zone(NULL, "Asia/Tokyo"), "Asia/Tokyo");
    CHECK_STR(inbox_quiet_zone("", "Asia/Tokyo"), "Asia/Tokyo");
    CHECK_STR(inbox_quiet_zone("Mars/Olympus_Mons", "Asia/Tokyo"),
              "Asia/Tokyo");
    CHECK_STR(inbox_quiet_zone("America/New_York", "Asia/Tokyo"),
              "America/New_York");
    CHECK_STR(inbox_quiet_zone(NULL, "Nowhere/At_All"), "UTC");
    CHECK_STR(inbox_quiet_zone(NULL, NULL), "UTC");

    CHECK_INT(opens(NULL, "Asia/Tokyo", Q_START, Q_END, JAN1 + 12 * HOUR),
              JAN1 + 23 * HOUR);
    CHECK_INT(opens("America/New_York", "Asia/Tokyo", Q_START, Q_END,
                    JAN1 + 12 * HOUR), JAN1 + 13 * HOUR);

    CHECK(inbox_quiet_zone_known("Europe/Paris"));
    CHECK(!inbox_quiet_zone_known("Europe/Pariss"));
    CHECK(!inbox_quiet_zone_known(""));
}


static const char *const  days[] = { "Monday", "Friday", "Not sure" };


TEST(a_poll_is_sent_as_its_question_and_numbered_options)
{
    char  *text;

    text = inbox_poll_text("  Which day? ", days, 3);
    CHECK_STR(text, "Which day?\n1) Monday\n2) Friday\n3) Not sure");
    free(text);
}


TEST(a_poll_answer_is_an_options_number_or_text)
{
    CHECK_INT(inbox_poll_answer("2", 1, days, 3), 2);
    CHECK_INT(inbox_poll_answer(" 2. ", 4, days, 3), 2);
    CHECK_INT(inbox_poll_answer("3)", 2, days, 3), 3);
    CHECK_INT(inbox_poll_answer("#1", 2, days, 3), 1);
    /* full-width digit, folded */
    CHECK_INT(inbox_poll_answer("\xef\xbc\x92", 3, days, 3), 2);
    CHECK_INT(inbox_poll_answer("friday", 6, days, 3), 2);
    CHECK_INT(inbox_poll_answer("  FRIDAY!\n", 10, days, 3), 2);
    CHECK_INT(inbox_poll_answer("not   SURE", 10, days, 3), 3);
    CHECK_INT(inbox_poll_answer("Monday.", 7, days, 3), 1);
    /* what people end or wrap a short answer in */
    CHECK_INT(inbox_poll_answer("Friday?", 7, days, 3), 2);
    CHECK_INT(inbox_poll_answer("monday,", 7, days, 3), 1);
    CHECK_INT(inbox_poll_answer("(2)", 3, days, 3), 2);
    CHECK_INT(inbox_poll_answer(" ( 3 ) ", 7, days, 3), 3);
    CHECK_INT(inbox_poll_answer("(Not sure!)", 11, days, 3), 3);
    CHECK_INT(inbox_poll_answer("2?!", 3, days, 3), 2);
}


TEST(what_is_not_a_poll_answer)
{
    CHECK_INT(inbox_poll_answer("4", 1, days, 3), 0);
    CHECK_INT(inbox_poll_answer("0", 1, days, 3), 0);
    CHECK_INT(inbox_poll_answer("22", 2, days, 3), 0);
    CHECK_INT(inbox_poll_answer("2 please", 8, days, 3), 0);
    CHECK_INT(inbox_poll_answer("Friday works", 12, days, 3), 0);
    CHECK_INT(inbox_poll_answer("Fri", 3, days, 3), 0);
    CHECK_INT(inbox_poll_answer("", 0, days, 3), 0);
    CHECK_INT(inbox_poll_answer("   ", 3, days, 3), 0);
    CHECK_INT(inbox_poll_answer("2.5", 3, days, 3), 0);
    CHECK_INT(inbox_poll_answer("-2", 2, days, 3), 0);
    /* a question back, or a part in brackets, is no answer */
    CHECK_INT(inbox_poll_answer("(2", 2, days, 3), 0);
    CHECK_INT(inbox_poll_answer("()", 2, days, 3), 0);
    CHECK_INT(inbox_poll_answer("(2) or (3)", 10, days, 3), 0);
    CHECK_INT(inbox_poll_answer("Friday (maybe)", 14, days, 3), 0);
}


TEST(a_poll_answer_counts_within_seven_days)
{
    /* what both backends bound their look for the polls answered by */
    CHECK_INT(inbox_poll_answer_since(JAN1 + 7 * 24 * HOUR), JAN1);
    CHECK_INT(inbox_poll_answer_since(JAN1 + 7 * 24 * HOUR + 1), JAN1 + 1);
}


TEST(a_polls_options_are_checked)
{
    inbox_error_t  err;

    static const char *const  one[] = { "Yes" };
    static const char *const  same[] = { "Yes", " yes " };
    static const char *const  blank[] = { "Yes", "   " };
    static const char *const  numbered[] = { "2", "1" };
    static const char *const  own[] = { "1", "2" };
    static const char *const  ten[] = { "a", "b", "c", "d", "e", "f", "g",
                                        "h", "i", "j" };
    static const char *const  nine[] = { "a", "b", "c", "d", "e", "f", "g",
                                         "h", "i" };
    static const char *const  ctrl[] = { "Yes", "N\to" };
    static const char *const  counts[] = { "5", "10", "20" };
    static const char *const  years[] = { "2026", "2027" };
    static const char *const  stop[] = { "Continue", " Cancel " };
    static const char *const  help[] = { "Info", "Going" };
    static const char *const  yes_no[] = { "Yes", "No" };
    static const char *const  last_number[] = { "2", "Blue" };
    static const char *const  late_same[] = { "Red", "Blue", "Green",
                                              "(blue!)" };
    static const char *const  bad_utf8[] = { "Yes", "N\xc3o" };
    static const char *const  missing[] = { "Yes", NULL };
    const char               *long_one[3];
    char                      hundred_one[102];

    memset(hundred_one, 'x', 101);
    hundred_one[101] = '\0';
    long_one[0] = "Short";
    long_one[1] = "Fine";
    long_one[2] = hundred_one;

    CHECK_INT(inbox_poll_options_check(days, 3, NULL), INBOX_OK);
    CHECK_INT(inbox_poll_options_check(nine, 9, NULL), INBOX_OK);
    CHECK_INT(inbox_poll_options_check(own, 2, NULL), INBOX_OK);
    /* numbers past the last option's cannot be read as one's number */
    CHECK_INT(inbox_poll_options_check(counts, 3, NULL), INBOX_OK);
    CHECK_INT(inbox_poll_options_check(years, 2, NULL), INBOX_OK);
    CHECK_INT(inbox_poll_answer("10", 2, counts, 3), 2);
    CHECK_INT(inbox_poll_answer("2", 1, counts, 3), 2);
    CHECK_INT(inbox_poll_answer("2027", 4, years, 2), 2);

    /* the list as a whole: too few, too many */
    CHECK_INT(inbox_poll_options_check(one, 1, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options");
    CHECK_STR(err.message, "A poll has 2 to 9 options.");
    CHECK_INT(inbox_poll_options_check(ten, 10, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options");

    /* one option: named by its index from 0, said as the poll numbers
     * it; of two the same, the later */
    CHECK_INT(inbox_poll_options_check(same, 2, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.1");
    CHECK_STR(err.message, "Option 2 is the same as option 1.");
    CHECK_INT(inbox_poll_options_check(late_same, 4, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.3");
    CHECK_STR(err.message, "Option 4 is the same as option 2.");
    CHECK_INT(inbox_poll_options_check(blank, 2, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.1");
    CHECK_STR(err.message, "Option 2 is empty.");
    CHECK_INT(inbox_poll_options_check(numbered, 2, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.0");
    CHECK_STR(err.message, "Option 1 reads as 2, the number that answers "
              "option 2.");
    /* the last option's number, written as the first option alone */
    CHECK_INT(inbox_poll_options_check(last_number, 2, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.0");
    CHECK_INT(inbox_poll_options_check(ctrl, 2, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.1");
    CHECK_STR(err.message, "Option 2 holds a control character.");
    CHECK_INT(inbox_poll_options_check(long_one, 3, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.2");
    CHECK_STR(err.message, "Option 3 is longer than 100 characters.");
    CHECK_INT(inbox_poll_options_check(bad_utf8, 2, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.1");
    CHECK_STR(err.message, "Option 2 is not valid UTF-8.");
    CHECK_INT(inbox_poll_options_check(missing, 2, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.1");
    CHECK_STR(err.message, "Option 2 needs a text.");

    /* keywords are answered as keywords; "Yes" (an opt-in) changes
     * nothing for a recipient who is subscribed */
    CHECK_INT(inbox_poll_options_check(stop, 2, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.1");
    CHECK(strncmp(err.message, "Option 2 may not be", 19) == 0);
    CHECK(strstr(err.message, "unsubscribed") != NULL);
    CHECK_INT(inbox_poll_options_check(help, 2, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options.0");
    CHECK(strncmp(err.message, "Option 1 may not be", 19) == 0);
    CHECK(strstr(err.message, "help text") != NULL);
    CHECK_INT(inbox_poll_options_check(yes_no, 2, NULL), INBOX_OK);
}


TEST(folding_is_the_one_keywords_use)
{
    char         out[INBOX_FOLD_MAX];
    const char  *s;

    /* full-width letters, a zero-width space, white space around */
    s = " \xef\xbc\xb3\xef\xbc\xb4OP\xe2\x80\x8b ";
    CHECK_INT(inbox_text_fold(s, strlen(s), out, sizeof(out)), 4);
    CHECK_STR(out, "stop");
    CHECK_INT(inbox_keyword_match(s, strlen(s), NULL), INBOX_KEYWORD_OPT_OUT);

    s = "Stra\xc3\x9f" "e  \n Caf\xc3\xa9";
    CHECK_INT(inbox_text_fold(s, strlen(s), out, sizeof(out)), 13);
    CHECK_STR(out, "strasse caf\xc3\xa9");
}


static inbox_status_t
act(inbox_campaign_action_t action, int64_t send_at, int64_t now,
    inbox_campaign_status_t *status, inbox_pause_reason_t *reason,
    int *changed)
{
    inbox_status_t         rc;
    inbox_cancel_reason_t  cancelled;

    cancelled = INBOX_CANCEL_NONE;

    rc = inbox_campaign_act(action, send_at, now, status, reason,
                            &cancelled, changed, NULL);

    /* no other move says why it cancelled */
    CHECK(cancelled == INBOX_CANCEL_NONE
          || (action == INBOX_CAMPAIGN_CANCEL && *changed));

    return rc;
}


TEST(a_campaigns_lifecycle)
{
    int                      changed;
    inbox_campaign_status_t  s;
    inbox_pause_reason_t     r;
    inbox_cancel_reason_t    why;

    s = INBOX_CAMPAIGN_DRAFT;
    r = INBOX_PAUSE_NONE;

    /* sent with send_at ahead: scheduled */
    CHECK_INT(act(INBOX_CAMPAIGN_SEND, JAN1 + HOUR, JAN1, &s, &r, &changed),
              INBOX_OK);
    CHECK_INT(s, INBOX_CAMPAIGN_SCHEDULED);
    CHECK_INT(changed, 1);
    /* sent again (a retry): as it is, nothing changed */
    CHECK_INT(act(INBOX_CAMPAIGN_SEND, JAN1 + HOUR, JAN1, &s, &r,
                  &changed), INBOX_OK);
    CHECK_INT(s, INBOX_CAMPAIGN_SCHEDULED);
    CHECK_INT(changed, 0);

    /* paused by hand, twice: the second changes nothing */
    CHECK_INT(act(INBOX_CAMPAIGN_PAUSE, JAN1 + HOUR, JAN1, &s, &r,
                  &changed), INBOX_OK);
    CHECK_INT(s, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(r, INBOX_PAUSE_MANUAL);
    CHECK_INT(act(INBOX_CAMPAIGN_PAUSE, JAN1 + HOUR, JAN1, &s, &r,
                  &changed), INBOX_OK);
    CHECK_INT(changed, 0);

    /* resumed after its time: sending */
    CHECK_INT(act(INBOX_CAMPAIGN_RESUME, JAN1 + HOUR, JAN1 + 2 * HOUR, &s,
                  &r, &changed), INBOX_OK);
    CHECK_INT(s, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(r, INBOX_PAUSE_NONE);
    CHECK_INT(act(INBOX_CAMPAIGN_RESUME, 0, JAN1, &s, &r, &changed),
              INBOX_OK);
    CHECK_INT(changed, 0);

    /* billing stops it, resume goes on */
    CHECK_INT(inbox_campaign_pause_for(&s, &r,
                                       INBOX_PAUSE_INSUFFICIENT_CREDITS), 0);
    CHECK_INT(s, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(r, INBOX_PAUSE_INSUFFICIENT_CREDITS);
    CHECK_STR(inbox_pause_reason_name(r), "insufficient_credits");
    CHECK_INT(inbox_campaign_pause_for(&s, &r,
                                       INBOX_PAUSE_BILLING_INACTIVE), -1);
    CHECK_INT(r, INBOX_PAUSE_INSUFFICIENT_CREDITS);
    CHECK(!inbox_campaign_dispatching(s));
    CHECK_INT(inbox_campaign_outbox(s, r), INBOX_OUTBOX_GOES);

    /* a person pauses it too: what was handed over waits as well */
    CHECK_INT(act(INBOX_CAMPAIGN_PAUSE, 0, JAN1, &s, &r, &changed),
              INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(s, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(r, INBOX_PAUSE_MANUAL);
    CHECK_INT(inbox_campaign_outbox(s, r), INBOX_OUTBOX_WAITS);
    CHECK_INT(act(INBOX_CAMPAIGN_PAUSE, 0, JAN1, &s, &r, &changed),
              INBOX_OK);
    CHECK_INT(changed, 0);

    CHECK_INT(act(INBOX_CAMPAIGN_RESUME, 0, JAN1, &s, &r, &changed),
              INBOX_OK);
    CHECK(inbox_campaign_dispatching(s));
    CHECK_INT(act(INBOX_CAMPAIGN_SEND, 0, JAN1, &s, &r, &changed),
              INBOX_OK);
    CHECK_INT(s, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(changed, 0);

    /* cancelled, by a person: final, a repeat is fine (and says
     * nothing new), nothing else is */
    why = INBOX_CANCEL_NONE;
    CHECK_INT(inbox_campaign_act(INBOX_CAMPAIGN_CANCEL, 0, JAN1, &s, &r,
                                 &why, &changed, NULL), INBOX_OK);
    CHECK_INT(s, INBOX_CAMPAIGN_CANCELLED);
    CHECK_INT(why, INBOX_CANCEL_MANUAL);
    CHECK_STR(inbox_cancel_reason_name(why), "manual");
    CHECK(inbox_campaign_final(s));
    why = INBOX_CANCEL_TEXT_REFUSED;
    CHECK_INT(inbox_campaign_act(INBOX_CAMPAIGN_CANCEL, 0, JAN1, &s, &r,
                                 &why, &changed, NULL), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(why, INBOX_CANCEL_TEXT_REFUSED);
    CHECK_INT(act(INBOX_CAMPAIGN_RESUME, 0, JAN1, &s, &r, &changed),
              INBOX_ERR_CONFLICT);
    CHECK_INT(act(INBOX_CAMPAIGN_PAUSE, 0, JAN1, &s, &r, &changed),
              INBOX_ERR_CONFLICT);
    CHECK_INT(act(INBOX_CAMPAIGN_SEND, 0, JAN1, &s, &r, &changed),
              INBOX_ERR_CONFLICT);

    /* done cannot be cancelled nor sent again; a draft cannot be paused
     * or resumed */
    s = INBOX_CAMPAIGN_DONE;
    CHECK_INT(act(INBOX_CAMPAIGN_SEND, 0, JAN1, &s, &r, &changed),
              INBOX_ERR_CONFLICT);
    CHECK_INT(act(INBOX_CAMPAIGN_CANCEL, 0, JAN1, &s, &r, &changed),
              INBOX_ERR_CONFLICT);
    s = INBOX_CAMPAIGN_DRAFT;
    CHECK_INT(act(INBOX_CAMPAIGN_PAUSE, 0, JAN1, &s, &r, &changed),
              INBOX_ERR_CONFLICT);
    CHECK_INT(act(INBOX_CAMPAIGN_RESUME, 0, JAN1, &s, &r, &changed),
              INBOX_ERR_CONFLICT);
    CHECK_INT(act(INBOX_CAMPAIGN_SEND, 0, JAN1, &s, &r, &changed),
              INBOX_OK);
    CHECK_INT(s, INBOX_CAMPAIGN_SENDING);
}


TEST(recipients_are_due_at_the_campaigns_send_time_else_when_sent)
{
    CHECK(inbox_campaign_due_at(0, 5000) == 5000);
    CHECK(inbox_campaign_due_at(9000, 5000) == 9000);
    /* a send time gone by: due then, so due at once */
    CHECK(inbox_campaign_due_at(1000, 5000) == 1000);
}


TEST(a_recipients_state_follows_its_messages_status)
{
    inbox_campaign_counts_t  c;

    memset(&c, 0, sizeof(c));

    CHECK_INT(inbox_recipient_of_delivery(INBOX_DELIVERY_QUEUED, NULL),
              INBOX_RECIPIENT_QUEUED);
    CHECK_INT(inbox_recipient_of_delivery(INBOX_DELIVERY_SENDING, NULL),
              INBOX_RECIPIENT_QUEUED);
    CHECK_INT(inbox_recipient_of_delivery(INBOX_DELIVERY_SENT, NULL),
              INBOX_RECIPIENT_SENT);
    CHECK_INT(inbox_recipient_of_delivery(INBOX_DELIVERY_DELIVERED, NULL),
              INBOX_RECIPIENT_DELIVERED);
    CHECK_INT(inbox_recipient_of_delivery(INBOX_DELIVERY_UNDELIVERED, NULL),
              INBOX_RECIPIENT_FAILED);
    CHECK_INT(inbox_recipient_of_delivery(INBOX_DELIVERY_FAILED, "30003"),
              INBOX_RECIPIENT_FAILED);

    CHECK(inbox_campaign_count_of(&c, INBOX_RECIPIENT_DUE) == &c.queued);
    CHECK(inbox_campaign_count_of(&c, INBOX_RECIPIENT_QUEUED) == &c.queued);
    CHECK(inbox_campaign_count_of(&c, INBOX_RECIPIENT_WAITING)
          == &c.waiting_quiet_hours);
    CHECK(inbox_campaign_count_of(&c, INBOX_RECIPIENT_SUPPRESSED)
          == &c.suppressed);
    CHECK(inbox_campaign_count_of(&c, INBOX_RECIPIENT_FAILED) == &c.failed);
}


/* A message that failed because its contact opted out counts its
 * recipient suppressed, as send counts one opted out before, however it
 * came to fail: withdrawn after an opt-out in the inbox, refused by the
 * carrier (21610, 40300: contact_opted_out), or reported undelivered so
 * after the carrier took it.  Only a failure says so: a status report's
 * code on a message still going counts nothing. */
TEST(a_recipient_whose_contact_opted_out_is_suppressed_not_failed)
{
    CHECK_INT(inbox_recipient_of_delivery(INBOX_DELIVERY_FAILED,
                                          INBOX_SEND_ERROR_OPTED_OUT),
              INBOX_RECIPIENT_SUPPRESSED);
    CHECK_INT(inbox_recipient_of_delivery(INBOX_DELIVERY_UNDELIVERED,
                                          INBOX_SEND_ERROR_OPTED_OUT),
              INBOX_RECIPIENT_SUPPRESSED);
    CHECK_INT(inbox_recipient_of_delivery(INBOX_DELIVERY_SENT,
                                          INBOX_SEND_ERROR_OPTED_OUT),
              INBOX_RECIPIENT_SENT);
    CHECK_INT(inbox_recipient_of_delivery(INBOX_DELIVERY_FAILED,
                                          INBOX_SEND_ERROR_REFUSED),
              INBOX_RECIPIENT_FAILED);
}


/* A message never sent because its campaign was cancelled is counted
 * cancelled, not failed; any other outcome (withdrawn, a carrier's
 * opt-out refusal among them) follows the message's status and error
 * code. */
TEST(a_recipient_whose_message_never_left_is_counted_by_why)
{
    inbox_recipient_state_t  state;

    state = INBOX_RECIPIENT_FAILED;
    CHECK_INT(inbox_recipient_of_unsent(INBOX_SEND_CANCELLED, &state), 0);
    CHECK_INT(state, INBOX_RECIPIENT_CANCELLED);

    state = INBOX_RECIPIENT_FAILED;
    CHECK_INT(inbox_recipient_of_unsent(INBOX_SEND_WITHDRAWN, &state), -1);
    CHECK_INT(inbox_recipient_of_unsent(INBOX_SEND_OPTED_OUT, &state), -1);
    CHECK_INT(inbox_recipient_of_unsent(INBOX_SEND_REFUSED, &state), -1);
    CHECK_INT(inbox_recipient_of_unsent(INBOX_SEND_ACCEPTED, &state), -1);
    CHECK_INT(state, INBOX_RECIPIENT_FAILED);
}


/* STOP and HELP are no reply to a campaign; an opt-in word ("Yes") may
 * answer a poll and is. */
TEST(an_opt_out_or_help_keyword_is_no_reply)
{
    CHECK_INT(inbox_campaign_reply_counts(INBOX_KEYWORD_NONE), 1);
    CHECK_INT(inbox_campaign_reply_counts(INBOX_KEYWORD_OPT_IN), 1);
    CHECK_INT(inbox_campaign_reply_counts(INBOX_KEYWORD_OPT_OUT), 0);
    CHECK_INT(inbox_campaign_reply_counts(INBOX_KEYWORD_HELP), 0);
}


TEST(a_campaign_is_checked)
{
    inbox_tags_t          tags;
    inbox_error_t         err;
    inbox_campaign_new_t  c;

    memset(&tags, 0, sizeof(tags));
    CHECK_INT(inbox_tags_add(&tags, "vip", 3, NULL), INBOX_OK);

    memset(&c, 0, sizeof(c));
    c.name = "Spring sale";
    c.body = "20% off this week";
    c.audience_all = 1;
    CHECK_INT(inbox_campaign_check(&c, NULL), INBOX_OK);

    /* both chosen, or neither: each said as it is */
    c.tags = &tags;
    CHECK_INT(inbox_campaign_check(&c, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "audience");
    CHECK_STR(err.message, "Choose all contacts or some tags, not both.");
    c.audience_all = 0;
    CHECK_INT(inbox_campaign_check(&c, NULL), INBOX_OK);
    c.tags = NULL;
    CHECK_INT(inbox_campaign_check(&c, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "audience");
    CHECK_STR(err.message, "Choose who gets it: all contacts or some tags.");
    c.audience_all = 1;

    c.name = "   ";
    CHECK_INT(inbox_campaign_check(&c, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "name");
    c.name = "Spring sale";
    c.body = "";
    CHECK_INT(inbox_campaign_check(&c, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");

    /* a poll: named by its question unless named */
    memset(&c, 0, sizeof(c));
    c.kind = INBOX_CAMPAIGN_KIND_POLL;
    c.question = "Which day?";
    c.options = days;
    c.option_count = 3;
    c.audience_all = 1;
    CHECK_INT(inbox_campaign_check(&c, NULL), INBOX_OK);
    c.option_count = 1;
    CHECK_INT(inbox_campaign_check(&c, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options");
    c.option_count = 3;
    c.question = "";
    CHECK_INT(inbox_campaign_check(&c, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "question");

    inbox_tags_free(&tags);
}


TEST(a_campaign_or_poll_longer_than_ten_segments_is_refused_saying_so)
{
    char                  long_text[1701], question[1501];
    inbox_error_t         err;
    inbox_campaign_new_t  c;

    memset(long_text, 'a', 1700);
    long_text[1700] = '\0';

    memset(&c, 0, sizeof(c));
    c.name = "Long";
    c.body = long_text;
    c.audience_all = 1;
    CHECK_INT(inbox_campaign_check(&c, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    CHECK(strstr(err.message, "12 segments") != NULL);
    CHECK(strstr(err.message, "limit is 10") != NULL);

    /* a poll: a question of 1500 fits, the options make it 11 parts
     * (the sent text is the question and "\n1) Monday"...), said of the
     * options in the segments' words, not as 1600 characters */
    memset(question, 'q', 1500);
    question[1500] = '\0';

    memset(&c, 0, sizeof(c));
    c.kind = INBOX_CAMPAIGN_KIND_POLL;
    c.question = question;
    c.options = days;
    c.option_count = 3;
    c.audience_all = 1;
    CHECK_INT(inbox_campaign_check(&c, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options");
    CHECK(strstr(err.message, "The question and its options make one "
                 "message. The message is 11 segments") != NULL);
    CHECK(strstr(err.message, "1600") == NULL);
    CHECK_INT(inbox_campaign_check(&c, NULL), INBOX_ERR_INVALID);

    c.question = long_text;
    CHECK_INT(inbox_campaign_check(&c, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "question");
    CHECK(strstr(err.message, "12 segments") != NULL);
}


/* A stored draft is judged at send by the rule of a new one, in the same
 * words: one saved before a rule existed cannot be sent. */
TEST(a_stored_campaign_is_sendable_by_the_rule_a_new_one_is_checked_by)
{
    char                  long_text[1701];
    inbox_error_t         err, made;
    inbox_media_t         media;
    inbox_campaign_t      stored;
    inbox_campaign_new_t  c;

    memset(long_text, 'a', 1700);
    long_text[1700] = '\0';

    memset(&c, 0, sizeof(c));
    c.name = "Long";
    c.body = long_text;
    c.audience_all = 1;
    CHECK_INT(inbox_campaign_check(&c, &made), INBOX_ERR_INVALID);

    memset(&stored, 0, sizeof(stored));
    stored.kind = INBOX_CAMPAIGN_KIND_CAMPAIGN;
    stored.body = long_text;
    CHECK_INT(inbox_campaign_sendable(&stored, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, made.field);
    CHECK_STR(err.message, made.message);

    stored.body = "Sale!";
    CHECK_INT(inbox_campaign_sendable(&stored, &err), INBOX_OK);

    /* an image only: an empty text goes, as at create */
    memset(&media, 0, sizeof(media));
    stored.body = "";
    stored.media = &media;
    stored.media_count = 1;
    CHECK_INT(inbox_campaign_sendable(&stored, &err), INBOX_OK);
    stored.media = NULL;
    stored.media_count = 0;
    CHECK_INT(inbox_campaign_sendable(&stored, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");

    /* a poll's text as stored, the one sent, said of its options */
    memset(&stored, 0, sizeof(stored));
    stored.kind = INBOX_CAMPAIGN_KIND_POLL;
    stored.question = "Which day?";
    stored.options[0] = (char *) days[0];
    stored.options[1] = (char *) days[1];
    stored.option_count = 2;
    stored.body = "Which day?\n1) Monday\n2) Friday";
    CHECK_INT(inbox_campaign_sendable(&stored, &err), INBOX_OK);

    stored.body = long_text;
    CHECK_INT(inbox_campaign_sendable(&stored, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "options");
    CHECK(strstr(err.message, "The question and its options make one "
                 "message. The message is 12 segments") != NULL);

    stored.question = long_text;
    CHECK_INT(inbox_campaign_sendable(&stored, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "question");
    CHECK_STR(err.message, made.message);
}


/* A draft is deleted, and one cancelled before any of its messages was
 * handed over, begun or not; the others say what to do instead, or why
 * they stay. */
TEST(a_draft_or_one_cancelled_before_any_hand_over_can_be_deleted)
{
    inbox_error_t     err;
    inbox_campaign_t  c;

    memset(&c, 0, sizeof(c));

    c.status = INBOX_CAMPAIGN_DRAFT;
    CHECK_INT(inbox_campaign_deletable(&c, &err), INBOX_OK);
    /* cancelled as a draft, or scheduled or paused before its time */
    c.status = INBOX_CAMPAIGN_CANCELLED;
    CHECK_INT(inbox_campaign_deletable(&c, &err), INBOX_OK);

    c.status = INBOX_CAMPAIGN_SCHEDULED;
    CHECK_INT(inbox_campaign_deletable(&c, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft, or one cancelled before any of "
                           "its messages was handed over, can be deleted; "
                           "this one is scheduled: cancel it instead.");

    /* begun, every recipient waiting for quiet hours or suppressed */
    c.started_at = 1000;
    c.status = INBOX_CAMPAIGN_SENDING;
    CHECK_INT(inbox_campaign_deletable(&c, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft, or one cancelled before any of "
                           "its messages was handed over, can be deleted; "
                           "this one is sending: cancel it instead.");
    c.status = INBOX_CAMPAIGN_CANCELLED;
    CHECK_INT(inbox_campaign_deletable(&c, &err), INBOX_OK);
    /* all of it suppressed: it ended, nobody got it */
    c.status = INBOX_CAMPAIGN_DONE;
    CHECK_INT(inbox_campaign_deletable(&c, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft, or one cancelled before any of "
                           "its messages was handed over, can be deleted; "
                           "this one is done.");

    /* a message handed over: its contacts' records name it */
    c.handed_at = 2000;
    CHECK_INT(inbox_campaign_deletable(&c, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft, or one cancelled before any of "
                           "its messages was handed over, can be deleted; "
                           "this one is done and stays in its contacts' "
                           "records.");
    c.status = INBOX_CAMPAIGN_PAUSED;
    CHECK_INT(inbox_campaign_deletable(&c, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft, or one cancelled before any of "
                           "its messages was handed over, can be deleted; "
                           "this one is paused and handed messages over: "
                           "cancel it to stop it; it stays in its "
                           "contacts' records.");
    c.status = INBOX_CAMPAIGN_CANCELLED;
    CHECK_INT(inbox_campaign_deletable(&c, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Messages of this campaign were handed over for "
                           "sending before it was cancelled; it stays in "
                           "its contacts' records.");
}


TEST(what_a_campaigns_outbox_does_follows_its_status_and_pause)
{
    CHECK_INT(inbox_campaign_outbox(INBOX_CAMPAIGN_SENDING, INBOX_PAUSE_NONE),
              INBOX_OUTBOX_GOES);
    CHECK_INT(inbox_campaign_outbox(INBOX_CAMPAIGN_DONE, INBOX_PAUSE_NONE),
              INBOX_OUTBOX_GOES);
    /* paid for already: a pause for credits or billing lets it go */
    CHECK_INT(inbox_campaign_outbox(INBOX_CAMPAIGN_PAUSED,
                                    INBOX_PAUSE_INSUFFICIENT_CREDITS),
              INBOX_OUTBOX_GOES);
    CHECK_INT(inbox_campaign_outbox(INBOX_CAMPAIGN_PAUSED,
                                    INBOX_PAUSE_BILLING_INACTIVE),
              INBOX_OUTBOX_GOES);
    CHECK_INT(inbox_campaign_outbox(INBOX_CAMPAIGN_PAUSED,
                                    INBOX_PAUSE_MANUAL), INBOX_OUTBOX_WAITS);
    CHECK_INT(inbox_campaign_outbox(INBOX_CAMPAIGN_CANCELLED,
                                    INBOX_PAUSE_NONE),
              INBOX_OUTBOX_CANCELLED);
}


/* The carrier refused the number's account: a sending or scheduled
 * campaign pauses for it, one paused for credits takes the reason a
 * person can act on; a person's pause, billing's and an ended one stay. */
TEST(a_carrier_refusing_the_numbers_account_pauses_a_campaign)
{
    int                      changed;
    inbox_pause_reason_t     r;
    inbox_campaign_status_t  s;

    s = INBOX_CAMPAIGN_SENDING;
    r = INBOX_PAUSE_NONE;
    CHECK_INT(inbox_campaign_pause_carrier(&s, &r), 0);
    CHECK_INT(s, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(r, INBOX_PAUSE_CARRIER_ACCOUNT);
    CHECK_STR(inbox_pause_reason_name(r), "carrier_account");
    CHECK_INT(inbox_pause_reason_parse("carrier_account", &r), 0);
    CHECK_INT(r, INBOX_PAUSE_CARRIER_ACCOUNT);
    CHECK_INT(inbox_campaign_outbox(s, r), INBOX_OUTBOX_WAITS);
    CHECK_INT(inbox_campaign_pause_carrier(&s, &r), -1);

    s = INBOX_CAMPAIGN_SCHEDULED;
    r = INBOX_PAUSE_NONE;
    CHECK_INT(inbox_campaign_pause_carrier(&s, &r), 0);
    CHECK_INT(r, INBOX_PAUSE_CARRIER_ACCOUNT);

    s = INBOX_CAMPAIGN_PAUSED;
    r = INBOX_PAUSE_INSUFFICIENT_CREDITS;
    CHECK_INT(inbox_campaign_pause_carrier(&s, &r), 0);
    CHECK_INT(r, INBOX_PAUSE_CARRIER_ACCOUNT);

    r = INBOX_PAUSE_MANUAL;
    CHECK_INT(inbox_campaign_pause_carrier(&s, &r), -1);
    CHECK_INT(r, INBOX_PAUSE_MANUAL);
    r = INBOX_PAUSE_BILLING_INACTIVE;
    CHECK_INT(inbox_campaign_pause_carrier(&s, &r), -1);
    s = INBOX_CAMPAIGN_DONE;
    r = INBOX_PAUSE_NONE;
    CHECK_INT(inbox_campaign_pause_carrier(&s, &r), -1);
    CHECK_INT(s, INBOX_CAMPAIGN_DONE);

    /* resumed, it sends again */
    s = INBOX_CAMPAIGN_PAUSED;
    r = INBOX_PAUSE_CARRIER_ACCOUNT;
    CHECK_INT(act(INBOX_CAMPAIGN_RESUME, 0, JAN1, &s, &r, &changed),
              INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(s, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(r, INBOX_PAUSE_NONE);
}


TEST(what_a_campaigns_outbox_does_from_the_names_a_store_keeps)
{
    CHECK_INT(inbox_campaign_outbox_named("paused", "manual"),
              INBOX_OUTBOX_WAITS);
    CHECK_INT(inbox_campaign_outbox_named("paused", "insufficient_credits"),
              INBOX_OUTBOX_GOES);
    /* nothing from the number can go until a person fixed it */
    CHECK_INT(inbox_campaign_outbox_named("paused", "carrier_account"),
              INBOX_OUTBOX_WAITS);
    CHECK_INT(inbox_campaign_outbox_named("cancelled", NULL),
              INBOX_OUTBOX_CANCELLED);
    CHECK_INT(inbox_campaign_outbox_named("sending", ""),
              INBOX_OUTBOX_GOES);
    /* a reply (no campaign) or a status this build does not know: it goes */
    CHECK_INT(inbox_campaign_outbox_named(NULL, NULL), INBOX_OUTBOX_GOES);
    CHECK_INT(inbox_campaign_outbox_named("", "manual"), INBOX_OUTBOX_GOES);
    CHECK_INT(inbox_campaign_outbox_named("archived", "manual"),
              INBOX_OUTBOX_GOES);
    /* a paused campaign whose reason is unreadable holds nothing back */
    CHECK_INT(inbox_campaign_outbox_named("paused", "because"),
              INBOX_OUTBOX_GOES);
}


/* A campaign's pictures where MMS does not reach: its text and a link
 * to each, one SMS at an SMS's price; a text too long for that is
 * refused, and one stored before that rule keeps its pictures. */
#define BASE  "https://in.test"

TEST(a_campaigns_pictures_go_as_links_where_mms_does_not_reach)
{
    char                             *long_text;
    size_t                            i;
    inbox_error_t                     err;
    inbox_media_t                     media[2];
    inbox_campaign_t                  c;
    inbox_campaign_messages_t         m;
    const inbox_campaign_message_t   *to;

    /* the links are of the files at the base named, whatever address
     * the campaign's own record keeps */
    memset(media, 0, sizeof(media));
    snprintf(media[0].url, sizeof(media[0].url), "http://old.test/x.png");
    snprintf(media[0].file, sizeof(media[0].file), "a.png");
    snprintf(media[1].file, sizeof(media[1].file), "b.gif");

    memset(&c, 0, sizeof(c));
    c.body = "Spring sale";
    c.media = media;
    c.media_count = 2;
    c.segments = 1;
    c.credits = 2;

    CHECK_INT(inbox_campaign_messages(&c, BASE, &m, &err), INBOX_OK);

    to = inbox_campaign_message_to(&m, "+15551234567");
    CHECK_STR(to->body, "Spring sale");
    CHECK_INT(to->media_count, 2);
    CHECK_INT(to->credits, 2);

    /* Britain, and Jamaica on +1 */
    to = inbox_campaign_message_to(&m, "+447911123456");
    CHECK_STR(to->body, "Spring sale\nhttps://in.test/media/a.png\n"
                        "https://in.test/media/b.gif");
    CHECK_INT(to->media_count, 0);
    CHECK(to->media == NULL);
    CHECK_INT(to->segments, 1);
    CHECK_INT(to->credits, 1);
    CHECK(inbox_campaign_message_to(&m, "+18765550123") == to);
    inbox_campaign_messages_free(&m);

    /* an image alone: the links alone */
    c.body = NULL;
    c.media_count = 1;
    CHECK_INT(inbox_campaign_messages(&c, BASE, &m, &err), INBOX_OK);
    CHECK_STR(inbox_campaign_message_to(&m, "+447911123456")->body,
              "https://in.test/media/a.png");
    inbox_campaign_messages_free(&m);

    /* 470 characters and a link: past 480, 2 credits as an SMS */
    long_text = malloc(471);
    memset(long_text, 'a', 470);
    long_text[470] = '\0';
    c.body = long_text;
    CHECK_INT(inbox_campaign_messages(&c, BASE, &m, &err), INBOX_OK);
    CHECK_INT(inbox_campaign_message_to(&m, "+447911123456")->credits, 2);
    CHECK_INT(inbox_campaign_message_to(&m, "+447911123456")->segments, 4);
    inbox_campaign_messages_free(&m);
    free(long_text);

    /* 660 characters of UCS-2 are an MMS's text, but with a link not an
     * SMS's (10 segments of 67 at most) */
    long_text = malloc(660 * 2 + 1);
    for (i = 0; i < 660; i++) {
        memcpy(long_text + 2 * i, "\xc4\x85", 2);      /* ą: UCS-2 */
    }
    long_text[660 * 2] = '\0';
    CHECK_INT(inbox_campaign_links_check(long_text, BASE, media, 1, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    CHECK(strstr(err.message, "outside the US and Canada") != NULL);

    c.body = long_text;
    CHECK_INT(inbox_campaign_messages(&c, BASE, &m, &err), INBOX_OK);
    CHECK(inbox_campaign_message_to(&m, "+447911123456")->body == long_text);
    CHECK_INT(inbox_campaign_message_to(&m, "+447911123456")->media_count,
              1);
    inbox_campaign_messages_free(&m);
    free(long_text);

    CHECK_INT(inbox_campaign_links_check("Sale", BASE, media, 2, &err),
              INBOX_OK);
}


RUN_TESTS()
