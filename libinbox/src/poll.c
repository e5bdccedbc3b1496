/*
 * Polls (see poll.h): their options, the text sent, and answers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/fold.h>
#include <inbox/keywords.h>
#include <inbox/poll.h>
#include <inbox/utf8.h>


static int inbox_poll_key(const char *s, size_t len, char *out, size_t size);
static unsigned inbox_poll_number(const char *folded);
static inbox_status_t inbox_poll_refused(inbox_error_t *err, size_t i,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));


inbox_status_t
inbox_poll_options_check(const char *const *options, size_t n,
    inbox_error_t *err)
{
    size_t       i, j, len, chars;
    unsigned     number;
    const char  *text, *p;
    char         keys[INBOX_POLL_OPTIONS_MAX][INBOX_POLL_OPTION_MAX * 12];

    if (n < INBOX_POLL_OPTIONS_MIN || n > INBOX_POLL_OPTIONS_MAX
        || options == NULL)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "options",
                                     "A poll has 2 to 9 options.");
    }

    for (i = 0; i < n; i++) {
        if (options[i] == NULL) {
            return inbox_poll_refused(err, i, "needs a text.");
        }

        len = strlen(options[i]);
        text = inbox_poll_trim(options[i], &len);

        if (!inbox_utf8_valid(text, len)) {
            return inbox_poll_refused(err, i, "is not valid UTF-8.");
        }

        chars = 0;

        for (p = text; p < text + len; p++) {
            if ((unsigned char) *p < 0x20 || *p == 0x7f) {
                return inbox_poll_refused(err, i,
                                          "holds a control character.");
            }

            chars += ((unsigned char) *p & 0xc0) != 0x80;
        }

        if (chars == 0) {
            return inbox_poll_refused(err, i, "is empty.");
        }

        if (chars > INBOX_POLL_OPTION_MAX) {
            return inbox_poll_refused(err, i, "is longer than %d "
                                      "characters.", INBOX_POLL_OPTION_MAX);
        }

        /* an answer that is a keyword is taken as the keyword first: a
         * recipient answering "Cancel" would end every message to them */
        switch (inbox_keyword_match(text, len, NULL)) {
        case INBOX_KEYWORD_OPT_OUT:
            return inbox_poll_refused(err, i, "may not be an opt-out word "
                                      "such as STOP or CANCEL: a "
                                      "recipient who answers it is "
                                      "unsubscribed from every message.");
        case INBOX_KEYWORD_HELP:
            return inbox_poll_refused(err, i, "may not be HELP or INFO: a "
                                      "recipient who answers it is sent "
                                      "the help text.");
        default:
            break;
        }

        /* its folded form overflows only when it is long */
        if (inbox_poll_key(text, len, keys[i], sizeof(keys[i])) < 0) {
            return inbox_poll_refused(err, i, "is longer than %d "
                                      "characters.", INBOX_POLL_OPTION_MAX);
        }

        /* "5, 10, 20" is fine; "2" as the first of two would be read as
         * the second's number */
        number = inbox_poll_number(keys[i]);

        if (number != 0 && number <= n && number != i + 1) {
            return inbox_poll_refused(err, i, "reads as %u, the number "
                                      "that answers option %u.", number,
                                      number);
        }

        /* the later of two the same is the one refused */
        for (j = 0; j < i; j++) {
            if (strcmp(keys[i], keys[j]) == 0) {
                return inbox_poll_refused(err, i, "is the same as option "
                                          "%zu.", j + 1);
            }
        }
    }

    return INBOX_OK;
}


char *
inbox_poll_text(const char *question, const char *const *options, size_t n)
{
    char        *text, *p;
    size_t       i, len, size, qlen;
    const char  *q, *o;

    qlen = strlen(question);
    q = inbox_poll_trim(question, &qlen);

    /* "\nN) " per option */
    size = qlen + 1;

    for (i = 0; i < n; i++) {
        size += strlen(options[i]) + 5;
    }

    text = malloc(size);
    if (text == NULL) {
        return NULL;
    }

    memcpy(text, q, qlen);
    p = text + qlen;

    for (i = 0; i < n; i++) {
        len = strlen(options[i]);
        o = inbox_poll_trim(options[i], &len);
        p += sprintf(p, "\n%u) ", (unsigned) (i + 1));
        memcpy(p, o, len);
        p += len;
    }

    *p = '\0';

    return text;
}


unsigned
inbox_poll_answer(const char *body, size_t len, const char *const *options,
    size_t n)
{
    size_t    i;
    unsigned  number;
    char      key[INBOX_FOLD_MAX], option[INBOX_FOLD_MAX];

    if (n > INBOX_POLL_OPTIONS_MAX
        || inbox_poll_key(body, len, key, sizeof(key)) <= 0)
    {
        return 0;
    }

    number = inbox_poll_number(key);

    if (number >= 1 && number <= n) {
        return number;
    }

    for (i = 0; i < n; i++) {
        if (inbox_poll_key(options[i], strlen(options[i]), option,
                           sizeof(option)) > 0
            && strcmp(key, option) == 0)
        {
            return (unsigned) (i + 1);
        }
    }

    return 0;
}


int64_t
inbox_poll_answer_since(int64_t at)
{
    return at - INBOX_POLL_ANSWER_WINDOW_MS;
}


/* Option i (0-based) refused: the field "options.<i>", the message
 * "Option <i + 1> " then fmt's words, numbered as the poll sends it. */
static inbox_status_t
inbox_poll_refused(inbox_error_t *err, size_t i, const char *fmt, ...)
{
    char     field[INBOX_ERROR_FIELD_MAX], why[INBOX_ERROR_MESSAGE_MAX];
    va_list  args;

    snprintf(field, sizeof(field), "options.%zu", i);

    va_start(args, fmt);
    vsnprintf(why, sizeof(why), fmt, args);
    va_end(args);

    return inbox_error_set_field(err, INBOX_ERR_INVALID, field,
                                 "Option %zu %s", i + 1, why);
}


/* s folded, without the punctuation people end or wrap a short answer
 * in: trailing ".", "!", "?" or "," (nor the space before them), and
 * parentheses around it all ("(2)", "(Yes)"); its length, or -1. */
static int
inbox_poll_key(const char *s, size_t len, char *out, size_t size)
{
    int  n, wrapped;

    n = inbox_text_fold(s, len, out, size);

    /* the end's punctuation, then one pair of parentheses around it
     * all, then the end's punctuation inside them ("(Yes!)") */
    for (wrapped = 0; n > 0; wrapped = 1) {
        while (n > 0 && strchr(".!?, ", out[n - 1]) != NULL) {
            out[--n] = '\0';
        }

        while (wrapped && n > 0 && out[0] == ' ') {
            memmove(out, out + 1, (size_t) n--);
        }

        if (wrapped || n <= 2 || out[0] != '(' || out[n - 1] != ')') {
            break;
        }

        n -= 2;
        memmove(out, out + 1, (size_t) n);
        out[n] = '\0';
    }

    return n;
}


/* The number a folded answer is ("2", "2.", "2)", "#2"), 0 for none.
 * ("2." lost its dot to inbox_poll_key already.) */
static unsigned
inbox_poll_number(const char *folded)
{
    unsigned     n;
    const char  *p;

    p = folded;

    if (*p == '#') {
        p++;
    }

    if (*p < '1' || *p > '9') {
        return 0;
    }

    n = 0;

    while (*p >= '0' && *p <= '9' && n < 1000) {
        n = n * 10 + (unsigned) (*p++ - '0');
    }

    if (*p == ')') {
        p++;
    }

    return *p == '\0' ? n : 0;
}


const char *
inbox_poll_trim(const char *s, size_t *len)
{
    size_t  n;

    n = *len;

    while (n > 0 && (*s == ' ' || (*s >= '\t' && *s <= '\r'))) {
        s++;
        n--;
    }

    while (n > 0 && (s[n - 1] == ' '
                     || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
    {
        n--;
    }

    *len = n;

    return s;
}
