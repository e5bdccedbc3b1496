/*
 * Text as a person would compare it: what a keyword and a poll answer
 * are matched in (and, plainer, a contact's name by a search).
 *
 * - NFKC_Casefold (ICU): case folded, and compatibility forms made plain,
 *   so that "Stop", "ＳＴＯＰ" (full-width) and "STOP" with a zero-width
 *   space are one; default-ignorable characters are dropped;
 * - trimmed of Unicode white space (White_Space: also no-break and
 *   ideographic spaces, line breaks), and runs of it inside made one
 *   ASCII space.
 */
#ifndef INBOX_FOLD_H
#define INBOX_FOLD_H

#include <stddef.h>
#include <stdint.h>

/* The longest text folded, in bytes: longer is never a match. */
#define INBOX_FOLD_BYTES_MAX  1024

/* The kana's combining voicing marks, which plain folding keeps. */
#define INBOX_FOLD_VOICING(c)  ((c) == 0x3099 || (c) == 0x309A)

/*
 * Whether the nonspacing mark c (a code point) is part of its letter,
 * which plain folding keeps wherever it stands: a kana's voicing mark, or
 * a mark of an Indic or Southeast Asian script (decided by the mark's own
 * script, ICU's Script property: fold.c lists them), where the marks are
 * vowel signs, viramas, subjoined letters and tones, never optional.
 */
int inbox_fold_letter_mark(int32_t c);

/* Room for the folded form of any text inbox_text_fold takes. */
#define INBOX_FOLD_MAX  (INBOX_FOLD_BYTES_MAX * 3 * 2 + 1)

/*
 * Folds s (len bytes of UTF-8; invalid bytes count as U+FFFD) into out
 * (size bytes, NUL-terminated UTF-8).  Returns the folded length, or -1
 * when s is longer than INBOX_FOLD_BYTES_MAX or the result does not fit.
 */
int inbox_text_fold(const char *s, size_t len, char *out, size_t size);

/*
 * The same, plainer still, for a search by name: the accents and other
 * nonspacing marks dropped first (each character decomposed, NFD), and
 * the typographic apostrophes (U+2018, U+2019, U+02BC) made "'", so that
 * "jose", "JOSÉ" and "José" are one, and "O’Brien" and "o'brien".  The
 * kana's voicing marks (dakuten U+3099, handakuten U+309A) are no accent
 * but part of the letter (ジ is "ji", シ "shi"): they stay, and their
 * spacing (U+309B, U+309C) and halfwidth (U+FF9E, U+FF9F) forms join the
 * kana before them, so that "ジョン", "ｼﾞｮﾝ" and "シ゛ョン" are one, and
 * none of them "ション".  The marks of Indic and Southeast Asian scripts
 * (inbox_fold_letter_mark) stay too: "सुमित" (Sumit) is not "समित"
 * (Samit), nor a Thai name without its vowels.  So do the Cyrillic
 * letters written as a letter and a mark: Й and Ў (a breve on И and У),
 * Ї (a diaeresis on І); "Йоанна" is not "Иоанна".  Ё is Е, as Russian
 * writes it more often than not ("семен" finds Семён), and the vowel
 * points of Arabic and Hebrew, optional in writing, go as accents do.
 */
int inbox_text_fold_plain(const char *s, size_t len, char *out,
    size_t size);

#endif
