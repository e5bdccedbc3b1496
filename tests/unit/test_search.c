/*
 * What a search matches (search.h), without a store: a number as q has
 * it and as normalization stores it, a name as q and the key have it.
 */
#include <stdio.h>
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


/* Whether q finds the name. */
static int
names(const char *q, const char *name)
{
    inbox_search_t  s;

    if (inbox_search_parse(q, NULL, &s) != 0) {
        return -1;
    }

    return inbox_search_matches(&s, name, NULL);
}


static const char *
key(const char *name)
{
    static char  out[INBOX_SEARCH_KEY_MAX];

    return inbox_search_key(name, out, sizeof(out)) >= 0 ? out : "(none)";
}


/*
 * A name is found however its parts are joined: without the apostrophe
 * (straight, curly or the modifier letter), with a space for it, or as
 * written; a hyphen, a period and a space are no more than nothing.
 */
TEST(a_name_is_found_whatever_separates_its_parts)
{
    static const char  *oconnor[] = {
        "O'Connor", "O\xe2\x80\x99" "Connor", "O\xca\xbc" "Connor",
        "O Connor", "OConnor", "O\xc2\xb4" "Connor", "O`Connor"
    };
    static const char  *typed[] = {
        "oconnor", "o'connor", "o connor", "O\xe2\x80\x99" "CONNOR",
        "o-connor", "connor", "o\xe2\x80\x98" "connor", "O`Connor"
    };
    size_t  i, j;

    for (i = 0; i < sizeof(oconnor) / sizeof(oconnor[0]); i++) {
        CHECK_STR(key(oconnor[i]), "oconnor");

        for (j = 0; j < sizeof(typed) / sizeof(typed[0]); j++) {
            if (names(typed[j], oconnor[i]) != 1) {
                printf("# %s does not find %s\n", typed[j], oconnor[i]);
                CHECK(0);
            }
        }
    }

    CHECK_INT(names("jeanluc", "Jean-Luc Picard"), 1);
    CHECK_INT(names("jean luc", "Jean-Luc Picard"), 1);
    CHECK_INT(names("jean-luc", "Jeanluc Picard"), 1);
    /* an en dash, a non-breaking hyphen */
    CHECK_INT(names("jean luc", "Jean\xe2\x80\x93Luc"), 1);
    CHECK_INT(names("jeanluc", "Jean\xe2\x80\x91Luc"), 1);
    CHECK_INT(names("st john", "Mary St. John"), 1);
    CHECK_INT(names("stjohn", "Mary St. John"), 1);
    CHECK_INT(names("st. john", "Mary St John"), 1);
    CHECK_INT(names("anne marie", "Anne-Marie N\xc3\xba\xc3\xb1" "ez"),
              1);
    CHECK_INT(names("dr jones", "Dr. J. Smith"), 0);
    CHECK_INT(names("j smith", "Dr. J. Smith"), 1);
    /* accents and case still go, as before */
    CHECK_INT(names("jose", "Jos\xc3\xa9 O'Neil"), 1);
    CHECK_INT(names("oneil", "JOS\xc3\x89 O\xe2\x80\x99NEIL"), 1);
    /* letters are still letters */
    CHECK_INT(names("oconnel", "O'Connor"), 0);
    CHECK_INT(names("o'connors", "O'Connor"), 0);

    CHECK_STR(key("  Jean-Luc   St. John-O'Neil (Jr.) "),
              "jeanlucstjohnoneiljr");
    /* a katakana middle dot between a foreign name's parts */
    CHECK_INT(names("\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3"
                    "\xe3\x82\xb9\xe3\x83\x9f\xe3\x82\xb9",
                    "\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3\xe3\x83\xbb"
                    "\xe3\x82\xb9\xe3\x83\x9f\xe3\x82\xb9"), 1);
    CHECK_STR(key("\xef\xbc\xaf\xef\xbc\x87\xef\xbc\xa3"), "oc");
    /* symbols are not separators */
    CHECK_STR(key("A+ Plumbing $5"), "a+plumbing$5");
}


/*
 * A kana's voicing marks are part of its letter, not accents: "ション"
 * (shon) does not find "ジョン" (John), nor "カ" "ガ", whether the mark
 * is written in the kana, after it (combining, spacing) or halfwidth;
 * the accents of other scripts still go.
 */
TEST(a_kanas_voicing_marks_are_kept)
{
    /* ジョン, ション, ガ, カ, ポ, ホ */
#define JON      "\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3"
#define SHON     "\xe3\x82\xb7\xe3\x83\xa7\xe3\x83\xb3"
#define GA       "\xe3\x82\xac"
#define KA       "\xe3\x82\xab"
#define PO       "\xe3\x83\x9d"
#define HO       "\xe3\x83\x9b"
    static const char  *jon[] = {
        JON,
        /* シ and a combining dakuten, a spacing one */
        "\xe3\x82\xb7\xe3\x82\x99\xe3\x83\xa7\xe3\x83\xb3",
        "\xe3\x82\xb7\xe3\x82\x9b\xe3\x83\xa7\xe3\x83\xb3",
        /* halfwidth: ｼﾞｮﾝ */
        "\xef\xbd\xbc\xef\xbe\x9e\xef\xbd\xae\xef\xbe\x9d"
    };
    size_t  i, j;

    for (i = 0; i < sizeof(jon) / sizeof(jon[0]); i++) {
        CHECK_STR(key(jon[i]), JON);

        for (j = 0; j < sizeof(jon) / sizeof(jon[0]); j++) {
            CHECK_INT(names(jon[j], jon[i]), 1);
        }

        CHECK_INT(names(SHON, jon[i]), 0);
        CHECK_INT(names(jon[i], SHON), 0);
    }

    CHECK_INT(names(SHON, "\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3"
                          "\xe3\x83\xbb\xe3\x82\xb9\xe3\x83\x9f"
                          "\xe3\x82\xb9"), 0);
    CHECK_INT(names(KA, GA), 0);
    CHECK_INT(names(GA, KA), 0);
    CHECK_INT(names(GA, GA), 1);
    /* handakuten: ポ, ホ and ﾟ, ホ */
    CHECK_STR(key(PO), PO);
    CHECK_STR(key("\xef\xbe\x8e\xef\xbe\x9f"), PO);
    CHECK_STR(key(HO "\xe3\x82\x9a"), PO);
    CHECK_INT(names(HO, PO), 0);
    /* a mark after no kana it joins is still one */
    CHECK_STR(key("a\xe3\x82\x99"), "a\xe3\x82\x99");
    /* Latin, Greek and Cyrillic accents still go */
    CHECK_INT(names("jose", "Jos\xc3\xa9"), 1);
    CHECK_INT(names("\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1",
                    "\xce\x91\xce\xb8\xce\xae\xce\xbd\xce\xb1"), 1);
    CHECK_INT(names("\xd0\xb5\xd0\xb6", "\xd0\x81\xd0\xb6"), 1);
#undef JON
#undef SHON
#undef GA
#undef KA
#undef PO
#undef HO
}


/*
 * The marks of Indic and Southeast Asian scripts are vowel signs,
 * viramas, subjoined letters and tones, not accents: each name keeps
 * them in its key, and the name without them does not find it ("समित",
 * Samit, is not "सुमित", Sumit; a Thai name keeps its vowels).  The
 * Devanagari "करण" (Karan) does not find "किरण" (Kiran) either.
 */
TEST(the_marks_of_indic_and_southeast_asian_scripts_are_kept)
{
    static const struct {
        const char  *name;
        const char  *bare;      /* without its nonspacing marks */
    } kept[] = {
        /* सुमित, समित */
        { "\xe0\xa4\xb8\xe0\xa5\x81\xe0\xa4\xae\xe0\xa4\xbf"
          "\xe0\xa4\xa4",
          "\xe0\xa4\xb8\xe0\xa4\xae\xe0\xa4\xbf\xe0\xa4\xa4" },
        /* गुप्ता (Gupta: a vowel sign and a virama), गपता */
        { "\xe0\xa4\x97\xe0\xa5\x81\xe0\xa4\xaa\xe0\xa5\x8d\xe0\xa4\xa4"
          "\xe0\xa4\xbe",
          "\xe0\xa4\x97\xe0\xa4\xaa\xe0\xa4\xa4\xe0\xa4\xbe" },
        /* Thai วิชัย (Wichai), วชย */
        { "\xe0\xb8\xa7\xe0\xb8\xb4\xe0\xb8\x8a\xe0\xb8\xb1"
          "\xe0\xb8\xa2",
          "\xe0\xb8\xa7\xe0\xb8\x8a\xe0\xb8\xa2" },
        /* Tibetan སྒྲོལ (Drol: subjoined letters), སལ */
        { "\xe0\xbd\xa6\xe0\xbe\x92\xe0\xbe\xb2\xe0\xbd\xbc"
          "\xe0\xbd\xa3",
          "\xe0\xbd\xa6\xe0\xbd\xa3" },
        /* Khmer សុខា (Sokha), សខា */
        { "\xe1\x9e\x9f\xe1\x9e\xbb\xe1\x9e\x81\xe1\x9e\xb6",
          "\xe1\x9e\x9f\xe1\x9e\x81\xe1\x9e\xb6" },
        /* Myanmar မြင့် (Myint), မြင */
        { "\xe1\x80\x99\xe1\x80\xbc\xe1\x80\x84\xe1\x80\xb7"
          "\xe1\x80\xba",
          "\xe1\x80\x99\xe1\x80\xbc\xe1\x80\x84" },
        /* Lao ມະນີ (Mani), ມະນ */
        { "\xe0\xba\xa1\xe0\xba\xb0\xe0\xba\x99\xe0\xba\xb5",
          "\xe0\xba\xa1\xe0\xba\xb0\xe0\xba\x99" }
    };
    size_t  i;

    for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        CHECK_STR(key(kept[i].name), kept[i].name);
        CHECK_INT(names(kept[i].name, kept[i].name), 1);
        /* the last two's bare forms are a part of them, found so */
        if (i < 5) {
            CHECK_INT(names(kept[i].bare, kept[i].name), 0);
        }
    }

    /* करण, किरण */
    CHECK_INT(names("\xe0\xa4\x95\xe0\xa4\xb0\xe0\xa4\xa3",
                    "\xe0\xa4\x95\xe0\xa4\xbf\xe0\xa4\xb0\xe0\xa4\xa3"), 0);
}


/*
 * Cyrillic's Й, Ў and Ї are letters of their own, not И, У and І with an
 * accent: "Иоанна" does not find "Йоанна", nor the other way, however
 * the letter is written (one character, or the letter and its mark);
 * Ё is Е, as Russian writes it ("семен" finds "Семён"), and the vowel
 * points of Arabic and Hebrew, optional in writing, still go.
 */
TEST(cyrillic_letters_with_a_mark_are_kept_arabic_points_are_not)
{
    /* Йоанна, Иоанна, и and a combining breve */
#define YOANNA  "\xd0\x99\xd0\xbe\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0"
#define IOANNA  "\xd0\x98\xd0\xbe\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0"
    CHECK_STR(key(YOANNA),
              "\xd0\xb9\xd0\xbe\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0");
    CHECK_STR(key("\xd0\xb8\xcc\x86\xd0\xbe\xd0\xb0\xd0\xbd\xd0\xbd"
                  "\xd0\xb0"), key(YOANNA));
    CHECK_INT(names(IOANNA, YOANNA), 0);
    CHECK_INT(names(YOANNA, IOANNA), 0);
    CHECK_INT(names(YOANNA, YOANNA), 1);
    /* Ўладзімір, Уладзімір (Belarusian, Uladzimir) */
    CHECK_INT(names("\xd0\xa3\xd0\xbb\xd0\xb0\xd0\xb4",
                    "\xd0\x8e\xd0\xbb\xd0\xb0\xd0\xb4\xd0\xb7\xd1\x96\xd0\xbc"
                    "\xd1\x96\xd1\x80"), 0);
    CHECK_INT(names("\xd1\x9e\xd0\xbb\xd0\xb0\xd0\xb4",
                    "\xd0\x8e\xd0\xbb\xd0\xb0\xd0\xb4\xd0\xb7\xd1\x96\xd0\xbc"
                    "\xd1\x96\xd1\x80"), 1);
    /* Їжак, Іжак (Ukrainian) */
    CHECK_INT(names("\xd0\x86\xd0\xb6\xd0\xb0\xd0\xba",
                    "\xd0\x87\xd0\xb6\xd0\xb0\xd0\xba"), 0);
    CHECK_INT(names("\xd1\x97\xd0\xb6\xd0\xb0\xd0\xba",
                    "\xd0\x87\xd0\xb6\xd0\xb0\xd0\xba"), 1);
    /* a breve on another letter is an accent still: ă is a */
    CHECK_INT(names("a", "\xc4\x83"), 1);
    /* Семён, семен; Ёлка, елка */
    CHECK_INT(names("\xd1\x81\xd0\xb5\xd0\xbc\xd0\xb5\xd0\xbd",
                    "\xd0\xa1\xd0\xb5\xd0\xbc\xd1\x91\xd0\xbd"), 1);
    CHECK_STR(key("\xd0\x81\xd0\xbb\xd0\xba\xd0\xb0"),
              "\xd0\xb5\xd0\xbb\xd0\xba\xd0\xb0");
    /* مُحَمَّد (Muhammad, pointed) is محمد; שָׁלוֹם is שלום */
    CHECK_STR(key("\xd9\x85\xd9\x8f\xd8\xad\xd9\x8e\xd9\x85\xd9\x8e\xd9\x91"
                  "\xd8\xaf"), "\xd9\x85\xd8\xad\xd9\x85\xd8\xaf");
    CHECK_INT(names("\xd9\x85\xd8\xad\xd9\x85\xd8\xaf",
                    "\xd9\x85\xd9\x8f\xd8\xad\xd9\x8e\xd9\x85\xd9\x8e\xd9\x91"
                    "\xd8\xaf"), 1);
    CHECK_STR(key("\xd7\xa9\xd6\xb8\xd7\x81\xd7\x9c\xd7\x95\xd6\xb9\xd7\x9d"),
              "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");
#undef YOANNA
#undef IOANNA
}


/*
 * The quick way (ASCII) and ICU's make one key: each ASCII character
 * between two letters, once in an ASCII name and once beside an "é"
 * that sends the name to ICU.
 */
TEST(an_ascii_name_has_the_key_icu_gives_it)
{
    int   c;
    char  ascii[8], wide[16], quick[INBOX_SEARCH_KEY_MAX + 2];

    for (c = 1; c < 0x80; c++) {
        snprintf(ascii, sizeof(ascii), "a%cb", c);
        snprintf(wide, sizeof(wide), "a%cb\xc3\xa9", c);

        snprintf(quick, sizeof(quick), "%se", key(ascii));
        if (strcmp(quick, key(wide)) != 0) {
            printf("# 0x%02x: %s, %s\n", c, key(ascii), key(wide));
            CHECK(0);
        }
    }
}


/*
 * The number's part is as it was: "555-12" looks for the digits 55512 in
 * the number, and a q of punctuation alone finds no name (nor, without
 * digits, any number).
 */
TEST(separators_leave_the_number_as_it_was)
{
    inbox_search_t  s;

    CHECK_INT(inbox_search_parse("(555) 12-3", NULL, &s), 0);
    CHECK_STR(s.digits, "555123");
    CHECK_INT(finds("555-12", NULL, "+15551234567"), 1);
    CHECK_INT(finds("555.13", NULL, "+15551234567"), 0);

    CHECK_INT(inbox_search_parse("'", NULL, &s), 0);
    CHECK_STR(s.name, " ");
    CHECK_INT(names("'", "O'Connor"), 0);
    CHECK_INT(names(" - ", "Jean-Luc"), 0);
    CHECK_INT(finds(" - ", NULL, "+15551234567"), 0);
    /* a short one is not indexed: the key is two letters */
    CHECK_INT(inbox_search_parse("o'c", NULL, &s), 0);
    CHECK_STR(s.name, "oc");
    CHECK_INT(s.indexed, 0);
    CHECK_INT(inbox_search_parse("o'co", NULL, &s), 0);
    CHECK_INT(s.indexed, 1);
}


/*
 * Staff type a name as they heard it: a q of several words finds a name
 * that holds each, in any order, a short one too; the joined q still
 * finds what it found.  A number is not parted.
 */
TEST(a_names_words_are_found_in_any_order)
{
    inbox_search_t  s;

    CHECK_INT(names("lopez maria", "Maria Lopez"), 1);
    CHECK_INT(names("maria lopez", "Maria Lopez"), 1);
    CHECK_INT(names("lop mar", "Maria Lopez"), 1);
    CHECK_INT(names("LOPEZ  Mar\xc3\xad" "a", "Mar\xc3\xad" "a L\xc3\xb3pez"),
              1);
    CHECK_INT(names("smith dr", "Dr. J. Smith"), 1);
    CHECK_INT(names("O connor", "O\xe2\x80\x99" "Connor"), 1);
    CHECK_INT(names("connor o", "O\xe2\x80\x99" "Connor"), 1);
    CHECK_INT(names("al lee", "Allee"), 1);
    /* every word, not any */
    CHECK_INT(names("lopez maria", "Maria Garcia"), 0);
    CHECK_INT(names("lopez x", "Maria Lopez"), 0);
    CHECK_INT(names("lopez mariah", "Maria Lopez"), 0);

    CHECK_INT(inbox_search_parse("lopez  maria ", NULL, &s), 0);
    CHECK_STR(s.name, "lopezmaria");
    CHECK_INT(s.nwords, 2);
    CHECK_STR(s.words, "lopez");
    CHECK_STR(s.words + 6, "maria");
    CHECK_INT(s.indexed, 1);
    CHECK_INT(s.checked, 0);

    /* a short word is checked, not looked up; short ones alone, a scan */
    CHECK_INT(inbox_search_parse("o connor", NULL, &s), 0);
    CHECK_INT(s.indexed, 1);
    CHECK_INT(s.checked, 1);
    CHECK_INT(inbox_search_parse("al le", NULL, &s), 0);
    CHECK_INT(s.indexed, 0);

    /* a word of separators only is no word */
    CHECK_INT(inbox_search_parse("o ' connor", NULL, &s), 0);
    CHECK_INT(s.nwords, 2);
    CHECK_INT(inbox_search_parse("lopez -", NULL, &s), 0);
    CHECK_INT(s.nwords, 0);

    /* a number is one */
    CHECK_INT(inbox_search_parse("555 12", NULL, &s), 0);
    CHECK_INT(s.nwords, 0);
    CHECK_STR(s.digits, "55512");
    CHECK_INT(finds("12 555", NULL, "+15551234567"), 0);
}


RUN_TESTS()
