/*
 * What a conversation search matches (see <inbox/search.h>).
 */
#include <string.h>
#include <inbox/phone.h>
#include <inbox/search.h>


static size_t inbox_search_chars(const char *s);
static void inbox_search_dialled(const char *digits, char *dialled);
static int inbox_search_contains(const char *name, const char *folded);
static char inbox_search_fold_char(char c);


int
inbox_search_parse(const char *q, inbox_search_t *s)
{
    size_t  len;

    memset(s, 0, sizeof(inbox_search_t));

    if (q == NULL || q[0] == '\0') {
        return 0;
    }

    len = strlen(q);
    if (len >= sizeof(s->name)) {
        return -1;
    }

    inbox_search_fold(q, len, s->name);
    inbox_phone_digits(q, len, s->digits, sizeof(s->digits));
    inbox_search_dialled(s->digits, s->dialled);

    s->indexed = inbox_search_chars(s->name) >= INBOX_SEARCH_INDEX_MIN
                 && (s->digits[0] == '\0'
                     || strlen(s->digits) >= INBOX_SEARCH_INDEX_MIN)
                 && (s->dialled[0] == '\0'
                     || strlen(s->dialled) >= INBOX_SEARCH_INDEX_MIN);

    return 0;
}


/*
 * The digits after a dialling prefix: "011" (North America's way out),
 * else every leading "0" (a trunk "0", or "00" out of most countries).
 * Too few left to look up, and the number is taken as typed alone.
 */
static void
inbox_search_dialled(const char *digits, char *dialled)
{
    const char  *rest;

    rest = digits;

    if (strncmp(rest, "011", 3) == 0) {
        rest += 3;

    } else {
        while (*rest == '0') {
            rest++;
        }
    }

    if (rest == digits || strlen(rest) < INBOX_SEARCH_INDEX_MIN) {
        dialled[0] = '\0';
        return;
    }

    strcpy(dialled, rest);
}


int
inbox_search_matches(const inbox_search_t *s, const char *name,
    const char *phone)
{
    if (s->name[0] == '\0') {
        return 1;
    }

    /* an E.164 number is "+" and its digits */
    if (phone != NULL && phone[0] == '+') {
        phone++;
    }

    if (phone != NULL && s->digits[0] != '\0'
        && (strstr(phone, s->digits) != NULL
            || (s->dialled[0] != '\0' && strstr(phone, s->dialled) != NULL)))
    {
        return 1;
    }

    return name != NULL && inbox_search_contains(name, s->name);
}


void
inbox_search_fold(const char *in, size_t len, char *out)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        out[i] = inbox_search_fold_char(in[i]);
    }

    out[len] = '\0';
}


/* Whether name, folded, contains folded (a name has no length limit). */
static int
inbox_search_contains(const char *name, const char *folded)
{
    size_t  i;

    for ( /* void */ ; *name; name++) {
        for (i = 0; folded[i] != '\0'
                    && inbox_search_fold_char(name[i]) == folded[i]; i++)
        {
            /* void */
        }

        if (folded[i] == '\0') {
            return 1;
        }
    }

    return 0;
}


static char
inbox_search_fold_char(char c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


/* UTF-8 characters: every byte but the continuation bytes. */
static size_t
inbox_search_chars(const char *s)
{
    size_t  n;

    for (n = 0; *s; s++) {
        n += ((unsigned char) *s & 0xc0) != 0x80;
    }

    return n;
}
