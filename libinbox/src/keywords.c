/*
 * Opt-out, opt-in and help keywords (see keywords.h for the rule).
 *
 * The message is folded (fold.h, as a search folds names) into a short
 * ASCII key, its punctuation and symbols spaces; the keywords are ASCII,
 * so anything else left in the key means the message is not one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>
#include <inbox/fold.h>
#include <inbox/keywords.h>


/* The longest keyword ("unsubscribe") and its NUL, with room to spare. */
#define INBOX_KEYWORD_KEY_MAX  16


typedef struct {
    const char            *key;
    inbox_keyword_t        keyword;
    inbox_keyword_lang_t   lang;
} inbox_keyword_entry_t;


/*
 * What a keyword is answered with in one language.  A text naming the
 * business is the name and its *_named part; without a name, the whole
 * sentence *_unnamed.  A help text is the business, help_named (or
 * help_unnamed), then help_contact and the support contact (or
 * help_reply), then help_stop.
 */
typedef struct {
    const char  *opt_out_named;
    const char  *opt_out_unnamed;
    const char  *opt_in_named;
    const char  *opt_in_unnamed;
    const char  *help_named;
    const char  *help_unnamed;
    const char  *help_contact;
    const char  *help_reply;
    const char  *help_stop;
} inbox_keyword_texts_t;


static int inbox_keyword_key(const char *body, size_t len,
    char key[INBOX_KEYWORD_KEY_MAX]);
static const char *inbox_keyword_trim(const char *s, size_t *len);


#define EN  INBOX_KEYWORD_LANG_EN
#define FR  INBOX_KEYWORD_LANG_FR

static const inbox_keyword_entry_t  inbox_keywords[] = {
    { "stop",         INBOX_KEYWORD_OPT_OUT,  EN },
    { "stopall",      INBOX_KEYWORD_OPT_OUT,  EN },
    { "unsubscribe",  INBOX_KEYWORD_OPT_OUT,  EN },
    { "cancel",       INBOX_KEYWORD_OPT_OUT,  EN },
    { "end",          INBOX_KEYWORD_OPT_OUT,  EN },
    { "quit",         INBOX_KEYWORD_OPT_OUT,  EN },
    { "revoke",       INBOX_KEYWORD_OPT_OUT,  EN },
    { "optout",       INBOX_KEYWORD_OPT_OUT,  EN },
    { "stop all",     INBOX_KEYWORD_OPT_OUT,  EN },
    { "opt out",      INBOX_KEYWORD_OPT_OUT,  EN },
    /* Canada's bilingual rule (CWTA): French "ARRÊT" and "AIDE" too,
     * answered in French */
    { "arret",        INBOX_KEYWORD_OPT_OUT,  FR },
    { "start",        INBOX_KEYWORD_OPT_IN,   EN },
    { "unstop",       INBOX_KEYWORD_OPT_IN,   EN },
    { "yes",          INBOX_KEYWORD_OPT_IN,   EN },
    { "help",         INBOX_KEYWORD_HELP,     EN },
    { "info",         INBOX_KEYWORD_HELP,     EN },
    { "aide",         INBOX_KEYWORD_HELP,     FR }
};

#undef EN
#undef FR


/*
 * The answers in each language.  The English texts are GSM-7: one
 * segment (160) with a business name of up to 76 characters (help: name
 * and support contact up to 112 together).  The French ones are UCS-2,
 * for "ê" and "Ê" are not GSM-7 ("é" and "à" are): two segments of 67
 * units with a name of up to 43 characters (help: name and support
 * contact up to 67 together), more past that; short enough that a
 * typical name keeps ARRÊT's answer to two.  Canadian French, a space
 * before ":" in every one.  The escapes are UTF-8: \xc3\xa9 "é",
 * \xc3\xaa "ê", \xc3\x8a "Ê", \xc3\xa0 "à".
 */
static const inbox_keyword_texts_t  inbox_keyword_texts[] = {
    [INBOX_KEYWORD_LANG_EN] = {
        ": you are unsubscribed and will get no further messages. Reply "
        "START to resubscribe.",
        "You are unsubscribed and will get no further messages from this "
        "number. Reply START to resubscribe.",
        ": you are subscribed again. Reply HELP for help, STOP to "
        "unsubscribe.",
        "You are subscribed to this number again. Reply HELP for help, "
        "STOP to unsubscribe.",
        ": for help, ",
        "For help, ",
        "contact ",
        "reply to this message",
        ". Reply STOP to unsubscribe."
    },
    [INBOX_KEYWORD_LANG_FR] = {
        " : vous \xc3\xaates d\xc3\xa9sabonn\xc3\xa9 et ne recevrez plus de "
        "messages. R\xc3\xa9pondez START pour vous r\xc3\xa9" "abonner.",
        "Vous \xc3\xaates d\xc3\xa9sabonn\xc3\xa9 et ne recevrez plus de "
        "messages de ce num\xc3\xa9ro. R\xc3\xa9pondez START pour vous "
        "r\xc3\xa9" "abonner.",
        " : vous \xc3\xaates de nouveau abonn\xc3\xa9. R\xc3\xa9pondez AIDE "
        "pour de l'aide, ARR\xc3\x8aT pour vous d\xc3\xa9sabonner.",
        "Vous \xc3\xaates de nouveau abonn\xc3\xa9 \xc3\xa0 ce num\xc3\xa9ro. "
        "R\xc3\xa9pondez AIDE pour de l'aide, ARR\xc3\x8aT pour vous "
        "d\xc3\xa9sabonner.",
        " : pour de l'aide, ",
        "Pour de l'aide, ",
        "contactez ",
        "r\xc3\xa9pondez \xc3\xa0 ce message",
        ". R\xc3\xa9pondez ARR\xc3\x8aT pour vous d\xc3\xa9sabonner."
    }
};


inbox_keyword_t
inbox_keyword_match(const char *body, size_t len, inbox_keyword_lang_t *lang)
{
    size_t  i;
    char    key[INBOX_KEYWORD_KEY_MAX];

    if (lang != NULL) {
        *lang = INBOX_KEYWORD_LANG_EN;
    }

    if (!inbox_keyword_key(body, len, key)) {
        return INBOX_KEYWORD_NONE;
    }

    for (i = 0; i < sizeof(inbox_keywords) / sizeof(inbox_keywords[0]); i++)
    {
        if (strcmp(key, inbox_keywords[i].key) == 0) {
            if (lang != NULL) {
                *lang = inbox_keywords[i].lang;
            }

            return inbox_keywords[i].keyword;
        }
    }

    return INBOX_KEYWORD_NONE;
}


inbox_wait_t
inbox_keyword_wait(inbox_keyword_t keyword, int opt_changed)
{
    switch (keyword) {

    case INBOX_KEYWORD_OPT_OUT:
        return INBOX_WAIT_ENDS;

    case INBOX_KEYWORD_HELP:
        return INBOX_WAIT_KEPT;

    case INBOX_KEYWORD_OPT_IN:
        return opt_changed ? INBOX_WAIT_KEPT : INBOX_WAIT_STARTS;

    default:
        return INBOX_WAIT_STARTS;
    }
}


int
inbox_keyword_answered(inbox_keyword_t keyword, int opt_changed,
    int carrier_answers, int64_t help_answered_at, int64_t at)
{
    if (carrier_answers || keyword == INBOX_KEYWORD_NONE) {
        return 0;
    }

    if (keyword == INBOX_KEYWORD_HELP) {
        /* a late HELP older than the one answered is within it too */
        return help_answered_at == 0
               || at - help_answered_at >= INBOX_KEYWORD_HELP_INTERVAL_MS;
    }

    return opt_changed;
}


char *
inbox_keyword_reply(inbox_keyword_t keyword, inbox_keyword_lang_t lang,
    const char *business_name, const char *support_contact)
{
    int                           rc;
    char                         *out;
    size_t                        name_len, support_len;
    const char                   *name, *support, *named, *unnamed;
    const inbox_keyword_texts_t  *t;

    t = &inbox_keyword_texts[lang == INBOX_KEYWORD_LANG_FR
                             ? INBOX_KEYWORD_LANG_FR : INBOX_KEYWORD_LANG_EN];

    name_len = business_name ? strlen(business_name) : 0;
    name = inbox_keyword_trim(business_name ? business_name : "", &name_len);

    support_len = support_contact ? strlen(support_contact) : 0;
    support = inbox_keyword_trim(support_contact ? support_contact : "",
                                 &support_len);

    out = NULL;

    switch (keyword) {

    case INBOX_KEYWORD_OPT_OUT:
        named = t->opt_out_named;
        unnamed = t->opt_out_unnamed;
        break;

    case INBOX_KEYWORD_OPT_IN:
        named = t->opt_in_named;
        unnamed = t->opt_in_unnamed;
        break;

    case INBOX_KEYWORD_HELP:
        rc = asprintf(&out, "%.*s%s%s%.*s%s",
                      (int) name_len, name,
                      name_len > 0 ? t->help_named : t->help_unnamed,
                      support_len > 0 ? t->help_contact : t->help_reply,
                      (int) support_len, support, t->help_stop);

        return rc < 0 ? NULL : out;

    default:
        return NULL;
    }

    if (name_len == 0) {
        return strdup(unnamed);
    }

    rc = asprintf(&out, "%.*s%s", (int) name_len, name, named);

    return rc < 0 ? NULL : out;
}


/*
 * The message as a keyword would be written: folded plain (fold.h:
 * accents dropped, so "ARRÊT" is "arret"), then its
 * punctuation and symbols (emoji too) made spaces, runs of spaces one,
 * trimmed ("Stop.", "STOP!!" and "🛑 stop" are "stop", "opt-out" is "opt
 * out"), and one word said again and again said once ("STOP STOP").  0
 * when it cannot be a keyword (too long, or anything but ASCII letters
 * left: a digit, another script).
 */
static int
inbox_keyword_key(const char *body, size_t len,
    char key[INBOX_KEYWORD_KEY_MAX])
{
    int      n, i, k, word;
    UChar32  c;
    char     folded[INBOX_FOLD_MAX], plain[INBOX_FOLD_MAX];

    if (len > INBOX_KEYWORD_BYTES_MAX) {
        return 0;
    }

    n = inbox_text_fold_plain(body, len, folded, sizeof(folded));

    if (n <= 0) {
        return 0;
    }

    k = 0;

    for (i = 0; i < n; /* void */) {
        U8_NEXT((const uint8_t *) folded, i, n, c);

        if (c >= 'a' && c <= 'z') {
            plain[k++] = (char) c;

        } else if (c == 0xFFFD) {
            /* bytes that were not text: what they said is unknown */
            return 0;

        } else if (c == ' ' || u_ispunct(c)
                   || (U_GET_GC_MASK(c) & U_GC_S_MASK) != 0)
        {
            if (k > 0 && plain[k - 1] != ' ') {
                plain[k++] = ' ';
            }

        } else {
            return 0;
        }
    }

    while (k > 0 && plain[k - 1] == ' ') {
        k--;
    }

    plain[k] = '\0';

    /* the first word again and again: that word once */
    word = (int) strcspn(plain, " ");

    for (i = word; i < k && i + 1 + word <= k
                   && strncmp(plain + i + 1, plain, (size_t) word) == 0
                   && (plain[i + 1 + word] == ' '
                       || plain[i + 1 + word] == '\0');
         i += 1 + word)
    {
        /* void */
    }

    if (i == k) {
        k = word;
        plain[k] = '\0';
    }

    if (k == 0 || k >= INBOX_KEYWORD_KEY_MAX) {
        return 0;
    }

    memcpy(key, plain, (size_t) k + 1);

    return 1;
}


/* s without its leading and trailing white space; *len in and out. */
static const char *
inbox_keyword_trim(const char *s, size_t *len)
{
    int32_t  i, end, prev;
    UChar32  c;

    if (*len > INT32_MAX) {
        return s;
    }

    end = (int32_t) *len;

    for (i = 0; i < end; /* void */) {
        prev = i;
        U8_NEXT((const uint8_t *) s, i, end, c);

        if (!u_isUWhiteSpace(c)) {
            i = prev;
            break;
        }
    }

    while (end > i) {
        prev = end;
        U8_PREV((const uint8_t *) s, i, end, c);

        if (!u_isUWhiteSpace(c)) {
            end = prev;
            break;
        }
    }

    *len = (size_t) (end - i);

    return s + i;
}
