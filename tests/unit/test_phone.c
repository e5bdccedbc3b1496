/*
 * Phone numbers as people type them, normalized to E.164.
 */
#include <string.h>
#include <inbox/phone.h>
#include "check.h"


static const char *
normalize(const char *in, const char *country)
{
    static char    out[INBOX_PHONE_MAX];
    inbox_error_t  err;

    if (inbox_phone_normalize(in, strlen(in), country, out, &err)
        != INBOX_OK)
    {
        return "(invalid)";
    }

    return out;
}


static inbox_error_t
reject(const char *in, const char *country)
{
    char           out[INBOX_PHONE_MAX];
    inbox_error_t  err;

    memset(&err, 0, sizeof(err));
    if (inbox_phone_normalize(in, strlen(in), country, out, &err)
        == INBOX_OK)
    {
        err.code = INBOX_OK;
        snprintf(err.message, sizeof(err.message), "accepted as %s", out);
    }

    return err;
}


/* The number as a person typed it, normalized or refused with the
 * message: "accepted as +44..." or the error's. */
static const char *
typed(const char *in, const char *country)
{
    static char           out[INBOX_PHONE_MAX];
    static inbox_error_t  err;

    memset(&err, 0, sizeof(err));
    if (inbox_phone_normalize_typed(in, strlen(in), country, out, &err)
        != INBOX_OK)
    {
        return err.message;
    }

    return out;
}


TEST(nanp_national_forms)
{
    CHECK_STR(normalize("(555) 234-5678", "US"), "+15552345678");
    CHECK_STR(normalize("555.234.5678", "US"), "+15552345678");
    CHECK_STR(normalize("1-555-234-5678", "US"), "+15552345678");
    CHECK_STR(normalize("15552345678", "CA"), "+15552345678");
    CHECK_STR(normalize("(555) 123-4567", "US"), "+15551234567");
    /* NULL means US */
    CHECK_STR(normalize("555 234 5678", NULL), "+15552345678");
}


TEST(plus_numbers_kept_after_stripping_formatting)
{
    CHECK_STR(normalize("+1 (234) 901-3030", "US"), "+12349013030");
    CHECK_STR(normalize("+44 20 7946 0958", "US"), "+442079460958");
    CHECK_STR(normalize("+33.1.23.45.67.89", "DE"), "+33123456789");
    CHECK_STR(normalize("+44 (0)20 7946 0958", "US"), "+442079460958");

    /* the spaces and dashes of Unicode, as spreadsheets and phones copy
     * them: no-break, narrow no-break, thin; non-breaking hyphen, en
     * dash, minus */
    CHECK_STR(normalize("+33\xc2\xa0" "6\xc2\xa0" "12\xe2\x80\xaf" "34"
                        "\xe2\x80\x89" "56 78", "US"), "+33612345678");
    CHECK_STR(normalize("555\xe2\x80\x91" "234\xe2\x80\x93" "5678", "US"),
              "+15552345678");
    CHECK_STR(normalize("555\xe2\x88\x92" "234-5678", "US"), "+15552345678");
    /* other characters outside ASCII are still refused */
    CHECK_STR(normalize("555\xe2\x80\xa2" "234 5678", "US"), "(invalid)");
}


TEST(international_prefixes)
{
    CHECK_STR(normalize("0044 20 7946 0958", "GB"), "+442079460958");
    CHECK_STR(normalize("0033 1 23 45 67 89", "FR"), "+33123456789");
    CHECK_STR(normalize("011 44 20 7946 0958", "US"), "+442079460958");
    CHECK_STR(normalize("0044 20 7946 0958", "US"), "+442079460958");
    CHECK_STR(normalize("0011 1 555 234 5678", "AU"), "+15552345678");
}


TEST(european_national_numbers_drop_trunk_prefix)
{
    CHECK_STR(normalize("020 7946 0958", "GB"), "+442079460958");
    CHECK_STR(normalize("07700 900123", "gb"), "+447700900123");
    CHECK_STR(normalize("01 23 45 67 89", "FR"), "+33123456789");
    CHECK_STR(normalize("030 1234567", "DE"), "+49301234567");
    CHECK_STR(normalize("0151 23456789", "DE"), "+4915123456789");
    CHECK_STR(normalize("612 34 56 78", "ES"), "+34612345678");
    CHECK_STR(normalize("020 123 4567", "NL"), "+31201234567");
    CHECK_STR(normalize("06 12345678", "NL"), "+31612345678");
}


TEST(italy_keeps_its_leading_zero)
{
    CHECK_STR(normalize("06 1234 5678", "IT"), "+390612345678");
    CHECK_STR(normalize("312 345 6789", "IT"), "+393123456789");
}


/* The trunk 0 written after the country code ("+44 020 ...") is not
 * dialled from abroad: one number, one contact, whichever way it came. */
TEST(a_plus_one_number_has_ten_digits_and_an_area_code)
{
    CHECK_STR(normalize("+1 415 555 0123", "GB"), "+14155550123");
    CHECK_STR(normalize("+15551234", "US"), "(invalid)");
    CHECK_STR(normalize("+1555123456999", "US"), "(invalid)");
    CHECK_STR(normalize("+1 055 555 0123", "US"), "(invalid)");
    CHECK_STR(normalize("+1 155 555 0123", "US"), "(invalid)");
    CHECK_STR(normalize("011 1 555 5550 123", "GB"), "(invalid)");
    CHECK_STR(normalize("00 1 415 555 0123", "GB"), "+14155550123");
}


TEST(a_trunk_zero_after_the_country_code_is_dropped)
{
    CHECK_STR(normalize("+44 020 7946 0958", "US"), "+442079460958");
    CHECK_STR(normalize("+4402079460958", "US"), "+442079460958");
    CHECK_STR(normalize("0044 020 7946 0958", "GB"), "+442079460958");
    CHECK_STR(normalize("011 44 020 7946 0958", "US"), "+442079460958");
    CHECK_STR(normalize("+33 06 12 34 56 78", "US"), "+33612345678");
    CHECK_STR(normalize("+49 030 1234567", "US"), "+49301234567");
    CHECK_STR(normalize("+61 04 1234 5678", "US"), "+61412345678");
    /* Italy's 0 is part of the number; unknown countries are as given */
    CHECK_STR(normalize("+39 06 1234 5678", "US"), "+390612345678");
    CHECK_STR(normalize("+358 040 1234567", "US"), "+3580401234567");
    /* too short without it: the digits are the number */
    CHECK_STR(normalize("+44 020 794 609", "US"), "+44020794609");
}


TEST(other_countries)
{
    CHECK_STR(normalize("0412 345 678", "AU"), "+61412345678");
    CHECK_STR(normalize("098765 43210", "IN"), "+919876543210");
    CHECK_STR(normalize("98765 43210", "IN"), "+919876543210");
    CHECK_STR(normalize("55 1234 5678", "MX"), "+525512345678");
    /* the retired mobile 1: one phone, one contact */
    CHECK_STR(normalize("+52 1 55 1234 5678", "US"), "+525512345678");
    CHECK_STR(normalize("00 52 1 55 1234 5678", "MX"), "+525512345678");
    CHECK_STR(normalize("1 55 1234 5678", "MX"), "+525512345678");
    CHECK_STR(normalize("52 1 55 1234 5678", "MX"), "+525512345678");
    /* a 1 that starts a ten-digit number is the number's own */
    CHECK_STR(normalize("+52 155 123 4567", "US"), "+521551234567");
    CHECK_STR(normalize("(11) 91234-5678", "BR"), "+5511912345678");
    CHECK_STR(normalize("0 11 91234-5678", "BR"), "+5511912345678");
    CHECK_STR(normalize("0 21 11 91234-5678", "BR"), "+5511912345678");
}


TEST(rejects_letters_naming_them)
{
    inbox_error_t  err;

    err = reject("555-CALL-NOW", "US");
    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "letters") != NULL);

    err = reject("banana", "US");
    CHECK_INT(err.code, INBOX_ERR_INVALID);
}


TEST(rejects_garbage_and_misplaced_plus)
{
    inbox_error_t  err;

    err = reject("555#234*5678", "US");
    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "'#'") != NULL);

    err = reject("1+5552345678", "US");
    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "'+'") != NULL);

    CHECK_INT(reject("", "US").code, INBOX_ERR_INVALID);
    CHECK_INT(reject(" () - ", "US").code, INBOX_ERR_INVALID);
    CHECK_INT(reject("555\n2345678", "US").code, INBOX_ERR_INVALID);
}


TEST(rejects_wrong_lengths)
{
    inbox_error_t  err;

    /* E.164 allows 8 to 15 digits */
    err = reject("+1234567", "US");
    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "8 to 15") != NULL);
    CHECK_INT(reject("+1234567890123456", "US").code, INBOX_ERR_INVALID);
    CHECK_STR(normalize("+49345678", "US"), "+49345678");
    CHECK_STR(normalize("+493012345678901", "US"), "+493012345678901");

    err = reject("234-5678", "US");
    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "10") != NULL);
    CHECK_INT(reject("25552345678", "US").code, INBOX_ERR_INVALID);
    CHECK_INT(reject("12345678901234567890123456", "US").code,
              INBOX_ERR_INVALID);
    CHECK_INT(reject("01 23 45 67", "FR").code, INBOX_ERR_INVALID);
}


TEST(rejects_impossible_numbers)
{
    /* NANP area codes never start with 0 or 1 */
    CHECK_INT(reject("(055) 234-5678", "US").code, INBOX_ERR_INVALID);
    CHECK_INT(reject("(155) 234-5678", "US").code, INBOX_ERR_INVALID);
    /* no country code starts with 0 */
    CHECK_INT(reject("+0441234567890", "US").code, INBOX_ERR_INVALID);
}


TEST(unknown_country_needs_international_form)
{
    inbox_error_t  err;

    err = reject("612345678", "ZZ");
    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "ZZ") != NULL);
    CHECK_STR(normalize("+34 612 34 56 78", "ZZ"), "+34612345678");
}


/* A number typed in international form for a country whose plan we know
 * has that plan's length, as a national one does: the carrier would
 * refuse it after credits are held. */
TEST(a_typed_number_has_its_countrys_length)
{
    CHECK_STR(typed("+44 20 7946 0958", "US"), "+442079460958");
    CHECK_STR(typed("+44 20 7946 095", "US"),
              "phone number has 9 digits after +44; a number in GB that "
              "starts with 2 has 10");
    CHECK_STR(typed("+44 7700 900 1234", "US"),
              "phone number has 11 digits after +44; a number in GB that "
              "starts with 7 has 10");
    CHECK_STR(typed("0044 20 7946 095", "GB"),
              "phone number has 9 digits after +44; a number in GB that "
              "starts with 2 has 10");
    /* some 01 areas' numbers have 9 digits */
    CHECK_STR(typed("+44 16977 3456", "US"), "+44169773456");
    CHECK_STR(typed("+44 16977 345", "US"),
              "phone number has 8 digits after +44; a number in GB has 9 "
              "to 10");
    /* the trunk 0 kept, its rest too short, is not counted */
    CHECK_STR(typed("+44 020 794 609", "US"),
              "phone number has 8 digits after +44 0; a number in GB that "
              "starts with 2 has 10");

    CHECK_STR(typed("+33 6 12 34 56 78", "US"), "+33612345678");
    CHECK_STR(typed("+33 6 12 34 56 78 9", "US"),
              "phone number has 10 digits after +33; a number in FR has 9");
    CHECK_STR(typed("+33 6 12 34 56 7", "US"),
              "phone number has 8 digits after +33; a number in FR has 9");

    CHECK_STR(typed("+1 415 555 0123", "GB"), "+14155550123");
    CHECK(strstr(typed("+1 415 555 012", "GB"), "ten digits") != NULL);
    CHECK(strstr(typed("+1 415 555 01234", "GB"), "ten digits") != NULL);

    /* Mexico's retired mobile 1: dropped with ten digits after it, not
     * counted when what follows it is too long to be a number */
    CHECK_STR(typed("+52 1 55 1234 5678", "US"), "+525512345678");
    CHECK_STR(typed("+52 55 1234 5678", "US"), "+525512345678");
    CHECK_STR(typed("+52 1 55 1234 56789", "US"),
              "phone number has 11 digits after +52 1; a number in MX has "
              "10");
    CHECK_STR(typed("+52 1 55 1234 56", "US"),
              "phone number has 9 digits after +52; a number in MX has 10");
    CHECK_STR(typed("+52 55 1234 567", "US"),
              "phone number has 9 digits after +52; a number in MX has 10");

    /* national numbers as before, in the same words */
    CHECK_STR(typed("020 7946 095", "GB"),
              "phone number has 9 digits; a number in GB that starts with "
              "2 has 10 (or write it as +<country code><number>)");
    CHECK_STR(typed("612 34 56 78", "ES"), "+34612345678");
    /* a country whose plan is not in the table: as written */
    CHECK_STR(typed("+358 40 123", "US"), "+35840123");
}


/* What a carrier sends is a number: no plan's length refuses it, or the
 * webhook, and its message, would be lost. */
TEST(a_carriers_number_keeps_any_length)
{
    CHECK_STR(normalize("+44 20 7946 095", "US"), "+44207946095");
    CHECK_STR(normalize("+33 6 12 34 56 78 9", "US"), "+336123456789");
    CHECK_STR(normalize("+52 1 55 1234 56789", "US"), "+52155123456789");
    CHECK_STR(normalize("+447700900", "US"), "+447700900");
}


TEST(mms_reaches_the_us_and_canada_only)
{
    CHECK(inbox_phone_takes_mms("+15551234567"));
    CHECK(inbox_phone_takes_mms("+16045550123"));     /* Vancouver */
    CHECK(inbox_phone_takes_mms("+17875550123"));     /* Puerto Rico */
    CHECK(inbox_phone_takes_mms("+16715550123"));     /* Guam */
    CHECK(!inbox_phone_takes_mms("+18765550123"));    /* Jamaica */
    CHECK(!inbox_phone_takes_mms("+18095550123"));    /* Dominican Rep. */
    CHECK(!inbox_phone_takes_mms("+14415550123"));    /* Bermuda */
    CHECK(!inbox_phone_takes_mms("+447700900123"));
    CHECK(!inbox_phone_takes_mms("+5215512345678"));
    CHECK(!inbox_phone_takes_mms("+1555"));
    CHECK(!inbox_phone_takes_mms(""));
}


/* The rule as MongoDB's count asks it: +1 and ten digits, but not the
 * area codes its lookahead lists, which are exactly those the rule
 * refuses. */
TEST(the_mms_pattern_is_the_rules_own_list)
{
    int          code;
    char         pattern[INBOX_PHONE_MMS_PATTERN_MAX], number[16], area[4];
    const char  *list, *end;

    CHECK_INT(inbox_phone_mms_pattern(pattern, sizeof(pattern)), 0);
    CHECK(strncmp(pattern, "^\\+1(?!", 7) == 0);
    end = strstr(pattern, ")[0-9]{10}$");
    CHECK(end != NULL && end[11] == '\0');
    list = pattern + 7;

    for (code = 200; end != NULL && code <= 999; code++) {
        snprintf(area, sizeof(area), "%d", code);
        snprintf(number, sizeof(number), "+1%s5550123", area);
        CHECK_INT(inbox_phone_takes_mms(number),
                  memmem(list, (size_t) (end - list), area, 3) == NULL);
    }

    CHECK_INT(inbox_phone_mms_pattern(pattern, 20), -1);
    CHECK_STR(pattern, "");
}


/* What a search may drop from a number in part (search.h): the trunk 0
 * or Mexico's retired 1 after the country code, the 1 before a national
 * number of Mexico; never the last digit, nor anything anywhere else. */
TEST(prefixes_a_search_drops_from_a_number_in_part)
{
    size_t       ccl;
    const char  *code;

    ccl = 0;
    CHECK_INT(inbox_phone_prefix_after_code("44020794", 8, &ccl), 1);
    CHECK_INT(ccl, 2);
    ccl = 0;
    CHECK_INT(inbox_phone_prefix_after_code("52155", 5, &ccl), 1);
    CHECK_INT(ccl, 2);
    CHECK_INT(inbox_phone_prefix_after_code("521", 3, &ccl), 0);
    CHECK_INT(inbox_phone_prefix_after_code("52551", 5, &ccl), 0);
    CHECK_INT(inbox_phone_prefix_after_code("3902", 4, &ccl), 0);
    CHECK_INT(inbox_phone_prefix_after_code("15551", 5, &ccl), 0);
    CHECK_INT(inbox_phone_prefix_after_code("549111", 6, &ccl), 0);

    code = NULL;
    CHECK_INT(inbox_phone_retired_national("MX", "1551", 4, &code), 1);
    CHECK_STR(code, "52");
    CHECK_INT(inbox_phone_retired_national("mx", "15", 2, &code), 1);
    CHECK_INT(inbox_phone_retired_national("MX", "1", 1, &code), 0);
    CHECK_INT(inbox_phone_retired_national("MX", "551", 3, &code), 0);
    CHECK_INT(inbox_phone_retired_national("US", "1555", 4, &code), 0);
    CHECK_INT(inbox_phone_retired_national(NULL, "1555", 4, &code), 0);
    CHECK_INT(inbox_phone_retired_national("GB", "1555", 4, &code), 0);
}


TEST(digits_for_search_terms)
{
    char  out[8];

    CHECK_INT(inbox_phone_digits("(555) 12", 8, out, sizeof(out)), 5);
    CHECK_STR(out, "55512");
    CHECK_INT(inbox_phone_digits("+1 555-123-4567", 15, out, sizeof(out)),
              7);
    CHECK_STR(out, "1555123");
    CHECK_INT(inbox_phone_digits("Ann", 3, out, sizeof(out)), 0);
    CHECK_STR(out, "");
}


/* a number written for people (every contact's phone_display, which the
 * web app shows): its country's grouping where the number says it, else
 * its national digits together */
TEST(a_number_written_for_people)
{
    char  out[INBOX_PHONE_DISPLAY_MAX];

    inbox_phone_display("+15005550101", out);
    CHECK_STR(out, "+1 (500) 555-0101");
    inbox_phone_display("+442079460958", out);
    CHECK_STR(out, "+44 20 7946 0958");
    inbox_phone_display("+447700900123", out);
    CHECK_STR(out, "+44 7700 900123");
    inbox_phone_display("+441214960000", out);
    CHECK_STR(out, "+44 121 496 0000");
    inbox_phone_display("+33123456789", out);
    CHECK_STR(out, "+33 1 23 45 67 89");
    inbox_phone_display("+919876543210", out);
    CHECK_STR(out, "+91 98765 43210");
    inbox_phone_display("+3531234567", out);
    CHECK_STR(out, "+353 1234567");
    inbox_phone_display("+61412345678", out);
    CHECK_STR(out, "+61 412 345 678");
    inbox_phone_display("+5511912345678", out);
    CHECK_STR(out, "+55 11 91234-5678");
    inbox_phone_display("+33612345678", out);
    CHECK_STR(out, "+33 6 12 34 56 78");
    inbox_phone_display("+4930123456", out);
    CHECK_STR(out, "+49 30123456");
    inbox_phone_display("+3725123456", out);
    CHECK_STR(out, "+372 5123456");
    inbox_phone_display("+1415555", out);
    CHECK_STR(out, "+1 415555");
    inbox_phone_display("12345", out);
    CHECK_STR(out, "12345");
    inbox_phone_display("not a number", out);
    CHECK_STR(out, "not a number");
}


RUN_TESTS()
