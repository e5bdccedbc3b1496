/*
 * The rules of optout.h and settings.h: what an opt-out and an opt-in do
 * to a contact, the keyword as a record shows it, and what a setting may
 * be (a time zone of the system's tz database, HH:MM, names).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/optout.h>
#include <inbox/settings.h>
#include "check.h"


TEST(the_first_opt_out_counts_and_an_opt_in_clears_it)
{
    inbox_contact_record_t  c;

    memset(&c, 0, sizeof(c));

    CHECK_INT(inbox_contact_opt_in(&c, 50), 0);
    CHECK_INT(c.opted_in_at, 0);

    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_KEYWORD, "STOP", 100,
                                    0), 1);
    CHECK_INT(c.opted_out, 1);
    CHECK_INT(c.opted_out_at, 100);
    CHECK_STR(c.opt_out_source, "keyword");
    CHECK_STR(c.opt_out_keyword, "STOP");

    /* again, from anywhere: as it first was */
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_CARRIER, NULL, 200,
                                    150), 0);
    CHECK_INT(c.opted_out_at, 100);
    CHECK_STR(c.opt_out_source, "keyword");

    CHECK_INT(inbox_contact_opt_in(&c, 250), 1);
    CHECK_INT(c.opted_out, 0);
    CHECK_INT(c.opted_out_at, 0);
    CHECK_INT(c.opted_in_at, 250);
    CHECK_STR(c.opt_out_source, "");
    CHECK_STR(c.opt_out_keyword, "");

    /* by hand: no keyword kept, whatever is given */
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_MANUAL, "STOP", 300,
                                    0), 1);
    CHECK_STR(c.opt_out_source, "manual");
    CHECK_STR(c.opt_out_keyword, "");

    /* an unknown source opts nobody out */
    CHECK_INT(inbox_contact_opt_in(&c, 400), 1);
    CHECK_INT(inbox_contact_opt_out(&c, (inbox_opt_out_source_t) 9, NULL, 1,
                                    0), 0);
    CHECK_INT(c.opted_out, 0);
}


TEST(a_carrier_refusal_from_before_the_last_opt_in_changes_nothing)
{
    inbox_contact_record_t  c;

    memset(&c, 0, sizeof(c));

    /* never opted in: the carrier's word counts */
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_CARRIER, NULL, 100, 90),
              1);
    CHECK_STR(c.opt_out_source, "carrier");

    /* STOP, START at 300: a report of a send at 200 comes late */
    CHECK_INT(inbox_contact_opt_in(&c, 300), 1);
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_CARRIER, NULL, 400,
                                    200), 0);
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_CARRIER, NULL, 400,
                                    300), 0);
    CHECK_INT(c.opted_out, 0);

    /* unknown when the carrier took it: the START stands */
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_CARRIER, NULL, 400, 0),
              0);

    /* a send after the START, refused: opted out again */
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_CARRIER, NULL, 500,
                                    301), 1);
    CHECK_INT(c.opted_out_at, 500);
    CHECK_STR(c.opt_out_source, "carrier");

    /* the contact's own STOP or a person's hand: whenever */
    CHECK_INT(inbox_contact_opt_in(&c, 600), 1);
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_KEYWORD, "STOP", 700,
                                    0), 1);
    CHECK_INT(inbox_contact_opt_in(&c, 800), 1);
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_MANUAL, NULL, 900, 0),
              1);
}


TEST(keywords_count_in_the_order_they_were_sent_not_received)
{
    inbox_contact_record_t  c;

    memset(&c, 0, sizeof(c));

    /* STOP sent at 105 arrives first (at 200), START sent at 100 after
     * (at 210): still opted out, the START older news */
    CHECK_INT(inbox_contact_opt_keyword(&c, 1, "STOP", 200, 105), 1);
    CHECK_INT(c.opted_out, 1);
    CHECK_INT(c.opted_out_at, 200);
    CHECK_INT(c.opt_latest_at, 105);
    CHECK_INT(inbox_contact_opt_keyword(&c, 0, "START", 210, 100), 0);
    CHECK_INT(c.opted_out, 1);
    CHECK_INT(c.opt_latest_at, 105);

    /* a START sent after it counts, whenever it arrives; one sent at the
     * same moment as the newest counts too, in arrival order */
    CHECK_INT(inbox_contact_opt_keyword(&c, 0, "START", 220, 105), 1);
    CHECK_INT(c.opted_out, 0);
    CHECK_INT(c.opted_in_at, 220);
    CHECK_INT(c.opt_latest_at, 105);
}


TEST(a_keyword_that_changes_nothing_still_makes_older_ones_older_news)
{
    inbox_contact_record_t  c;

    memset(&c, 0, sizeof(c));

    /* STOP at 100, STOP at 105 (opted out already), then a START sent at
     * 103 arrives: the second STOP is the newest, the START changes
     * nothing */
    CHECK_INT(inbox_contact_opt_keyword(&c, 1, "STOP", 200, 100), 1);
    CHECK_INT(inbox_contact_opt_keyword(&c, 1, "STOP", 201, 105), 0);
    CHECK_INT(c.opt_latest_at, 105);
    CHECK_INT(c.opted_out_at, 200);
    CHECK_INT(inbox_contact_opt_keyword(&c, 0, "START", 202, 103), 0);
    CHECK_INT(c.opted_out, 1);

    /* likewise a START to a contact not opted out */
    memset(&c, 0, sizeof(c));
    CHECK_INT(inbox_contact_opt_keyword(&c, 0, "START", 200, 110), 0);
    CHECK_INT(c.opt_latest_at, 110);
    CHECK_INT(inbox_contact_opt_keyword(&c, 1, "STOP", 201, 109), 0);
    CHECK_INT(c.opted_out, 0);
}


TEST(a_person_or_the_carrier_opting_out_is_news_at_its_own_time)
{
    inbox_contact_record_t  c;

    memset(&c, 0, sizeof(c));

    /* a person at 1010: a START sent at 1003, arriving at 1020, is older */
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_MANUAL, NULL, 1010, 0),
              1);
    CHECK_INT(c.opt_latest_at, 1010);
    CHECK_INT(inbox_contact_opt_keyword(&c, 0, "START", 1020, 1003), 0);
    CHECK_INT(c.opted_out, 1);

    /* opted out already by a STOP: a person's opt-out still counts as
     * the newest, so the late START stays older news */
    memset(&c, 0, sizeof(c));
    CHECK_INT(inbox_contact_opt_keyword(&c, 1, "STOP", 1000, 1000), 1);
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_MANUAL, NULL, 1010, 0),
              0);
    CHECK_INT(c.opt_latest_at, 1010);
    CHECK_STR(c.opt_out_source, "keyword");
    CHECK_INT(inbox_contact_opt_keyword(&c, 0, "START", 1020, 1003), 0);
    CHECK_INT(c.opted_out, 1);

    /* the carrier's refusal at 1030, the same */
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_CARRIER, NULL, 1030,
                                    1025), 0);
    CHECK_INT(c.opt_latest_at, 1030);

    /* never back in time */
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_MANUAL, NULL, 900, 0),
              0);
    CHECK_INT(c.opt_latest_at, 1030);

    /* a refusal of a send before the last START is no news at all */
    memset(&c, 0, sizeof(c));
    CHECK_INT(inbox_contact_opt_keyword(&c, 1, "STOP", 100, 100), 1);
    CHECK_INT(inbox_contact_opt_keyword(&c, 0, "START", 300, 300), 1);
    CHECK_INT(inbox_contact_opt_out(&c, INBOX_OPT_OUT_CARRIER, NULL, 400,
                                    200), 0);
    CHECK_INT(c.opt_latest_at, 300);
}


TEST(sources_have_their_contract_names)
{
    CHECK_STR(inbox_opt_out_source_name(INBOX_OPT_OUT_KEYWORD), "keyword");
    CHECK_STR(inbox_opt_out_source_name(INBOX_OPT_OUT_MANUAL), "manual");
    CHECK_STR(inbox_opt_out_source_name(INBOX_OPT_OUT_CARRIER), "carrier");
    CHECK(inbox_opt_out_source_name((inbox_opt_out_source_t) 3) == NULL);
}


TEST(a_keyword_is_shown_trimmed_in_upper_case_and_cut_between_characters)
{
    int   i;
    char  out[INBOX_KEYWORD_MAX];
    char  long_body[64];

    inbox_opt_keyword("  Stop \n", out);
    CHECK_STR(out, "STOP");
    inbox_opt_keyword("stop all", out);
    CHECK_STR(out, "STOP ALL");
    inbox_opt_keyword("\xef\xbc\xb3\xef\xbc\xb4\xef\xbc\xaf\xef\xbc\xb0",
                      out);                          /* full-width STOP */
    CHECK_STR(out, "\xef\xbc\xb3\xef\xbc\xb4\xef\xbc\xaf\xef\xbc\xb0");

    /* ten 3-byte characters: 30 bytes fit, a 31st would split one */
    memset(long_body, 0, sizeof(long_body));
    for (i = 0; i < 11; i++) {
        memcpy(long_body + 3 * i, "\xef\xbc\xb3", 3);
    }
    inbox_opt_keyword(long_body, out);
    CHECK_INT(strlen(out), 30);

    /* exactly INBOX_KEYWORD_MAX bytes: cut to one less */
    memset(long_body, 0, sizeof(long_body));
    memcpy(long_body, "STOP", 4);
    memset(long_body + 4, '!', INBOX_KEYWORD_MAX - 4);
    inbox_opt_keyword(long_body, out);
    CHECK_INT(strlen(out), INBOX_KEYWORD_MAX - 1);
}


TEST(a_time_zone_is_a_zone_of_the_tz_database)
{
    CHECK(inbox_timezone_valid("UTC"));
    CHECK(inbox_timezone_valid("America/Chicago"));
    CHECK(inbox_timezone_valid("America/Argentina/Buenos_Aires"));
    CHECK(inbox_timezone_valid("Etc/GMT+5"));

    CHECK(!inbox_timezone_valid(NULL));
    CHECK(!inbox_timezone_valid(""));
    CHECK(!inbox_timezone_valid("Mars/Olympus_Mons"));
    CHECK(!inbox_timezone_valid("America"));           /* a directory */
    CHECK(!inbox_timezone_valid("zone.tab"));          /* a table */
    CHECK(!inbox_timezone_valid("../../etc/passwd"));
    CHECK(!inbox_timezone_valid("/etc/localtime"));
    CHECK(!inbox_timezone_valid("America//Chicago"));
    CHECK(!inbox_timezone_valid("America/Chicago/"));
    CHECK(!inbox_timezone_valid("america chicago"));

    /* files of the database that ICU, and so quiet hours, would read as
     * UTC: refused, for an organization as for a contact */
    CHECK(!inbox_timezone_valid("posix/America/New_York"));
    CHECK(!inbox_timezone_valid("right/Europe/Paris"));
    CHECK(!inbox_timezone_valid("localtime"));

    /* where tzset(3) looks: $TZDIR */
    setenv("TZDIR", "/nonexistent", 1);
    CHECK(!inbox_timezone_valid("UTC"));
    unsetenv("TZDIR");
    CHECK(inbox_timezone_valid("UTC"));
}


/* An organization's zone, as a contact's, is one quiet hours read: one
 * they would read as UTC is a 400 naming the field, and nothing is set. */
TEST(an_organizations_time_zone_is_one_quiet_hours_read)
{
    inbox_error_t          err;
    inbox_settings_edit_t  edit;

    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_timezone(&edit, "posix/America/New_York",
                                          &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "timezone");
    CHECK(strstr(err.message, "posix/America/New_York") != NULL);
    CHECK_INT(edit.set_timezone, 0);
    CHECK_INT(inbox_settings_set_timezone(&edit, "localtime", &err),
              INBOX_ERR_INVALID);

    /* an edit made by hand is checked the same way by the store */
    snprintf(edit.timezone, sizeof(edit.timezone), "right/Europe/Paris");
    edit.set_timezone = 1;
    CHECK_INT(inbox_settings_edit_check(&edit, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "timezone");

    CHECK_INT(inbox_settings_set_timezone(&edit, "America/New_York", &err),
              INBOX_OK);
    CHECK_STR(edit.timezone, "America/New_York");
}


TEST(quiet_hours_are_two_different_times_of_day)
{
    char                   out[6];
    inbox_error_t          err;
    inbox_settings_edit_t  edit;

    CHECK_INT(inbox_settings_time_parse("00:00"), 0);
    CHECK_INT(inbox_settings_time_parse("21:00"), 1260);
    CHECK_INT(inbox_settings_time_parse("23:59"), 1439);
    CHECK_INT(inbox_settings_time_parse("24:00"), -1);
    CHECK_INT(inbox_settings_time_parse("12:60"), -1);
    CHECK_INT(inbox_settings_time_parse("8:00"), -1);
    CHECK_INT(inbox_settings_time_parse("08:00 "), -1);
    CHECK_INT(inbox_settings_time_parse(NULL), -1);

    inbox_settings_time_format(480, out);
    CHECK_STR(out, "08:00");

    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "21:00", "08:00", &err),
              INBOX_OK);
    CHECK_INT(edit.quiet_start, 1260);
    CHECK_INT(edit.quiet_end, 480);
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "08:00", "08:00", &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "quiet_hours");
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "08:00", "x", &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "quiet_hours.end");
}


TEST(names_are_trimmed_bounded_and_without_control_characters)
{
    char                   big[INBOX_BUSINESS_NAME_MAX + 2];
    inbox_error_t          err;
    inbox_settings_edit_t  edit;

    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_business_name(&edit, "  Acme  ", &err),
              INBOX_OK);
    CHECK_STR(edit.business_name, "Acme");
    CHECK_INT(inbox_settings_set_business_name(&edit, NULL, &err), INBOX_OK);
    CHECK_STR(edit.business_name, "");
    CHECK_INT(inbox_settings_set_support_contact(&edit, "a\tb", &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "support_contact");

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(inbox_settings_set_business_name(&edit, big, &err),
              INBOX_ERR_INVALID);
    big[sizeof(big) - 2] = '\0';
    CHECK_INT(inbox_settings_set_business_name(&edit, big, &err), INBOX_OK);

    /* an edit made by hand is checked as the setters would */
    memset(&edit, 0, sizeof(edit));
    edit.set_business_name = 1;
    snprintf(edit.business_name, sizeof(edit.business_name), " padded ");
    CHECK_INT(inbox_settings_edit_check(&edit, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "business_name");
    snprintf(edit.business_name, sizeof(edit.business_name), "padded");
    CHECK_INT(inbox_settings_edit_check(&edit, &err), INBOX_OK);
}



/* What an edit leaves (a field it does not set stays; a business name
 * "" is the organization's again) and whether that is a change of what
 * GET shows: the rule that decides a settings.updated. */
TEST(an_edit_that_leaves_the_settings_as_they_were_changes_nothing)
{
    inbox_settings_t       before, after;
    inbox_settings_edit_t  edit;

    inbox_settings_defaults(&before, "Acme");
    after = before;
    CHECK(inbox_settings_same(&before, &after));

    memset(&edit, 0, sizeof(edit));
    inbox_settings_apply(&after, &edit, "Acme");
    CHECK(inbox_settings_same(&before, &after));

    /* the defaults set by hand, and the organization's name */
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "21:00", "08:00", NULL),
              INBOX_OK);
    CHECK_INT(inbox_settings_set_timezone(&edit, "UTC", NULL), INBOX_OK);
    CHECK_INT(inbox_settings_set_business_name(&edit, "Acme", NULL),
              INBOX_OK);
    inbox_settings_apply(&after, &edit, "Acme");
    CHECK(inbox_settings_same(&before, &after));

    /* each field alone is a change */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "21:00", "08:30", NULL),
              INBOX_OK);
    inbox_settings_apply(&after, &edit, "Acme");
    CHECK(!inbox_settings_same(&before, &after));
    CHECK_INT(after.quiet_end, 8 * 60 + 30);
    CHECK_INT(after.quiet_start, 21 * 60);

    after = before;
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_timezone(&edit, "Europe/Paris", NULL),
              INBOX_OK);
    inbox_settings_apply(&after, &edit, "Acme");
    CHECK(!inbox_settings_same(&before, &after));
    CHECK_STR(after.timezone, "Europe/Paris");

    after = before;
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_support_contact(&edit, "help@acme.test",
                                                 NULL), INBOX_OK);
    inbox_settings_apply(&after, &edit, "Acme");
    CHECK(!inbox_settings_same(&before, &after));
    CHECK_STR(after.support_contact, "help@acme.test");

    after = before;
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_default_country(&edit, "gb", NULL),
              INBOX_OK);
    inbox_settings_apply(&after, &edit, "Acme");
    CHECK(!inbox_settings_same(&before, &after));
    CHECK_STR(after.default_country, "GB");

    /* a business name, then none: the organization's again */
    after = before;
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_business_name(&edit, "Acme Dental", NULL),
              INBOX_OK);
    inbox_settings_apply(&after, &edit, "Acme");
    CHECK(!inbox_settings_same(&before, &after));
    CHECK_INT(inbox_settings_set_business_name(&edit, "", NULL), INBOX_OK);
    inbox_settings_apply(&after, &edit, "Acme");
    CHECK_STR(after.business_name, "Acme");
    CHECK(inbox_settings_same(&before, &after));
}

RUN_TESTS()
