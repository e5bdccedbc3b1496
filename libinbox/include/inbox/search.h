/*
 * What a conversation search matches, the same for every store backend.
 *
 * q matches a contact whose name contains q, both as a key
 * (inbox_search_key): folded plain (fold.h: without case or accents,
 * "jose" finds "José") and without what separates a name's parts, white
 * space and punctuation (apostrophes of any kind, hyphens, periods), so
 * that a name is found however its parts are joined: "oconnor",
 * "o'connor" and "o connor" find "O’Connor", "jeanluc" and "jean luc"
 * "Jean-Luc", "st john" "St. John" and "StJohn".  Staff type a name as
 * they heard it; its spelling on file is someone else's.  (The cost: a
 * match may span two words, "al lee" finds "Allee" and "Al Lee" both;
 * a q of separators alone finds no name.)
 * A q of several words (parts between white space, as q is typed) also
 * matches a name whose key contains every word's key, in any order:
 * "lopez maria", "maria lopez" and "lop mar" find "Maria Lopez" (and
 * "o connor" still finds "O’Connor" by its joined key).  A short word
 * (under INBOX_SEARCH_INDEX_MIN characters, which a trigram index cannot
 * look up) must be in the name all the same: an index looks up the long
 * words, and the candidates are checked with inbox_search_matches; a q
 * of short words only is scanned for, as a short q is.  A q of digits
 * (a number, below) is not parted: "555 12" looks for 55512.
 * Or q matches a contact whose phone
 * number contains q's digits, whatever the formatting around them
 * ("(555) 12", "555-12" and "+155512" all look for 55512).  A q with
 * letters in it is a name's only ("Suite 4").  Digits typed as they are
 * dialled, after a trunk "0" or an international "00" or "011" ("07700
 * 900123", "0044 7700 900123"), look for what follows the prefix too,
 * and an international number without the trunk "0" or the prefix its
 * country retired written after its country code ("+44 020 7946",
 * "+52 1 55 1234"), a national one without the prefix its country (the
 * organization's default country, phone.h) retired ("1 55 1234" in MX,
 * as +52 55 1234): E.164 has none of those prefixes, and q finds the
 * contact that a contact added with it maps to.  Invisible characters in
 * q (format characters, Cf, such as U+200B, U+2060 and U+FEFF, and the
 * others Unicode calls default ignorable) are ignored; a q of nothing
 * else is no search at all (store.c passes none on).  A backend finds
 * the matches by its own means (SQLite: a trigram index) and checks them
 * with inbox_search_matches where it scans.
 */
#ifndef INBOX_SEARCH_H
#define INBOX_SEARCH_H

#include <stddef.h>

/* The longest q, in bytes. */
#define INBOX_SEARCH_MAX        128
/* The fewest characters a trigram index can look up. */
#define INBOX_SEARCH_INDEX_MIN  3

/* Room for q or a name folded: folding may lengthen a text. */
#define INBOX_SEARCH_KEY_MAX    (INBOX_SEARCH_MAX * 8)

typedef struct {
    char  name[INBOX_SEARCH_KEY_MAX]; /* q folded; "" when no search */
    char  digits[INBOX_SEARCH_MAX];   /* q's digits; "" when none */
    /* q's digits after their dialling prefix; "" when none */
    char  dialled[INBOX_SEARCH_MAX];
    /* q's words' keys, each ended by '\0', when q has two or more
     * words with a key (a number has none): a name matches with every
     * one in it, in any order, as well as with name in it */
    char  words[INBOX_SEARCH_KEY_MAX + INBOX_SEARCH_MAX];
    int   nwords;
    /* every part has at least INBOX_SEARCH_INDEX_MIN characters: an
     * index of three-character pieces finds every match (of the words,
     * the long ones, see checked) */
    int   indexed;
    /* a word is shorter than INBOX_SEARCH_INDEX_MIN: what an index finds
     * of the long words is a superset, each checked */
    int   checked;
} inbox_search_t;

/* Reads q (NULL, "" or only invisible characters: no search, name "");
 * a number in it without its country code as written in country (NULL:
 * "US"), as inbox_phone_normalize reads one.  Returns 0, or -1 when q is
 * longer than INBOX_SEARCH_MAX - 1 bytes (or folds into more than a key
 * holds). */
int inbox_search_parse(const char *q, const char *country,
    inbox_search_t *s);
/* Whether a contact's name (NULL when unknown) and E.164 phone match. */
int inbox_search_matches(const inbox_search_t *s, const char *name,
    const char *phone);
/* What of a name a search compares (fold.h's plain folding, without
 * white space, punctuation (P*), modifier symbols (Sk: "`", "^"), the
 * marks folding leaves of them and U+02BC; an ASCII name the quick way,
 * to the same result) into out (size bytes); its length, or -1 when it
 * does not fit (or the name is longer than INBOX_FOLD_BYTES_MAX).  A
 * name of separators only has the key "". */
int inbox_search_key(const char *name, char *out, size_t size);
/* A key's characters (UTF-8's: every byte but the continuation ones), as
 * an index of INBOX_SEARCH_INDEX_MIN characters counts them. */
size_t inbox_search_chars(const char *key);
/* The rule's version, one more at each change of what a key is: a store
 * makes the keys it kept under an older one again (SQLite by a migration,
 * MongoDB once, by the version its record keeps).  3: the marks of Indic
 * and Southeast Asian scripts and Cyrillic's Й, Ў and Ї stay (fold.h);
 * 2: a kana's voicing marks stay; 1: separators left out. */
#define INBOX_SEARCH_KEY_RULE  3

#endif
