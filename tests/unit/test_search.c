/*
 * What a search matches (search.h), without a store: a number as q has
 * it and as normalization stores it.
 */
#include <string.h>
#include <inbox/search.h>
#include "check.h"


/* Whether q, its numbers read as written in country, finds phone. */
static int
finds(const char *q, const char *country, const char *phone)
{
    inbox_search_t  s;

    if (inbox_search_parse(q, country, &s) != 0) {
        return -1;
    }

    return inbox_search_matches(&s, NULL, phone);
}


static const char *
dialled(const char *q, const char *country)
{
    static inbox_search_t  s;

    if (inbox_search_parse(q, country, &s) != 0) {
        return "(too long)";
    }

    return s.dialled;
}


TEST(a_number_is_found_by_its_digits_whatever_the_formatting)
{
    CHECK_INT(finds("(555) 12", NULL, "+15551234567"), 1);
    CHECK_INT(finds("555-12", NULL, "+15551234567"), 1);
    CHECK_INT(finds("tel:+1-555-12", NULL, "+15551234567"), 1);
    CHECK_INT(finds("555-13", NULL, "+15551234567"), 0);
    /* letters make it a name's */
    CHECK_INT(finds("Suite 555", NULL, "+15551234567"), 0);
    CHECK_STR(dialled("(555) 12", NULL), "");
}


TEST(a_number_typed_as_it_is_dialled_is_found_too)
{
    CHECK_INT(finds("07700 900123", NULL, "+447700900123"), 1);
    CHECK_INT(finds("0044 7700 900", NULL, "+447700900123"), 1);
    CHECK_INT(finds("011 44 7700 900", NULL, "+447700900123"), 1);
    CHECK_INT(finds("+44 020 7946", NULL, "+442079460958"), 1);
    CHECK_INT(finds("+44 (0)20 7946", NULL, "+442079460958"), 1);
    CHECK_STR(dialled("+44 020 7946", NULL), "44207946");
    CHECK_STR(dialled("0770", NULL), "770");
}


/*
 * Mexico's mobile "1", retired in 2019: "+52 1 55 1234 5678" and "1 55
 * 1234 5678" in MX are stored as +525512345678 (phone.h), and a search
 * written either way, whole or in part, finds that number.
 */
TEST(mexicos_retired_mobile_one_is_found_as_normalization_stores_it)
{
    const char  *mx = "+525512345678";

    CHECK_INT(finds("+52 1 55 1234 5678", NULL, mx), 1);
    CHECK_INT(finds("+52 1 55 1234 5678", "MX", mx), 1);
    CHECK_INT(finds("+52 1 55 1234", NULL, mx), 1);
    CHECK_INT(finds("0052 1 55 1234", "MX", mx), 1);
    CHECK_INT(finds("011 52 1 55 12", "US", mx), 1);
    CHECK_STR(dialled("+52 1 55 1234", NULL), "52551234");

    /* national: the organization's country says what the 1 is */
    CHECK_INT(finds("1 55 1234 5678", "MX", mx), 1);
    CHECK_INT(finds("1 55 1234", "MX", mx), 1);
    CHECK_INT(finds("1 55", "MX", mx), 1);
    CHECK_STR(dialled("1 55 1234", "MX"), "52551234");
    CHECK_STR(dialled("1 55 1234 5678", "MX"), "525512345678");
    CHECK_INT(finds("55 1234", "MX", mx), 1);
    CHECK_INT(finds("1 55 1234 5679", "MX", mx), 0);
    CHECK_INT(finds("1 56 1234", "MX", mx), 0);
    /* in the US a 1 is the country's own code: nothing more is looked
     * for, so "1 555 1234" finds no number with 5551234 elsewhere */
    CHECK_INT(finds("1 55 1234", "US", mx), 0);
    CHECK_INT(finds("1 55 1234", NULL, mx), 0);
    CHECK_STR(dialled("1 555 1234", "US"), "");
    CHECK_INT(finds("1 555 1234", "US", "+12125551234"), 0);

    /* the number as typed is still looked for as it is */
    CHECK_INT(finds("1 55 1234", "MX", "+5215512349999"), 1);
}


/* A national number's trunk "0" goes in any country. */
TEST(a_national_number_is_found_without_its_trunk_zero)
{
    CHECK_INT(finds("020 7946 0958", "GB", "+442079460958"), 1);
    CHECK_STR(dialled("020 7946 0958", "GB"), "2079460958");
    CHECK_STR(dialled("+44 20 7946 0958", NULL), "");
}


RUN_TESTS()
