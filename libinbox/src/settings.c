/*
 * An organization's settings: the rules of settings.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <inbox/quiet.h>
#include <inbox/settings.h>
#include <inbox/utf8.h>


#define INBOX_ZONEINFO  "/usr/share/zoneinfo"


static const char *inbox_settings_trim(const char *s, size_t *len);
static inbox_status_t inbox_settings_text(const char *s, const char *field,
    const char *what, size_t max, char *out, size_t size,
    inbox_error_t *err);


/*
 * A zone is a relative path of letters, digits and "_+-" parts under the
 * database's directory (no "..", no absolute path: a name is never a way
 * out of it), naming a regular file that starts as every compiled zone
 * does, with "TZif" (RFC 8536): not a directory ("America") nor one of
 * the database's tables ("zone.tab").  ICU must know it as well: quiet
 * hours read the clock there, and one it does not know would be UTC.
 */
int
inbox_timezone_valid(const char *name)
{
    int          fd, ok;
    char         path[512], magic[4];
    size_t       i, len;
    ssize_t      n;
    const char  *dir;
    struct stat  st;

    if (name == NULL) {
        return 0;
    }

    len = strlen(name);

    if (len == 0 || len >= INBOX_TIMEZONE_MAX || name[0] == '/'
        || name[len - 1] == '/')
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        char  c = name[i];

        if (c == '/') {
            if (name[i + 1] == '/') {
                return 0;
            }
            continue;
        }

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-'))
        {
            return 0;
        }
    }

    /* as tzset(3) looks zones up */
    dir = getenv("TZDIR");
    if (dir == NULL || dir[0] == '\0') {
        dir = INBOX_ZONEINFO;
    }

    if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, name)
        >= sizeof(path))
    {
        return 0;
    }

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return 0;
    }

    ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);

    if (ok) {
        do {
            n = read(fd, magic, sizeof(magic));
        } while (n == -1 && errno == EINTR);

        ok = n == (ssize_t) sizeof(magic) && memcmp(magic, "TZif", 4) == 0;
    }

    close(fd);

    return ok && inbox_quiet_zone_known(name);
}


int
inbox_settings_time_parse(const char *hhmm)
{
    int  h, m;

    if (hhmm == NULL || strlen(hhmm) != 5 || hhmm[2] != ':'
        || hhmm[0] < '0' || hhmm[0] > '9' || hhmm[1] < '0' || hhmm[1] > '9'
        || hhmm[3] < '0' || hhmm[3] > '9' || hhmm[4] < '0' || hhmm[4] > '9')
    {
        return -1;
    }

    h = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
    m = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');

    if (h > 23 || m > 59) {
        return -1;
    }

    return h * 60 + m;
}


void
inbox_settings_time_format(int minutes, char out[6])
{
    if (minutes < 0 || minutes >= 24 * 60) {
        minutes = 0;
    }

    snprintf(out, 6, "%02d:%02d", minutes / 60, minutes % 60);
}


inbox_status_t
inbox_settings_set_timezone(inbox_settings_edit_t *edit, const char *timezone,
    inbox_error_t *err)
{
    if (!inbox_timezone_valid(timezone)) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "timezone",
                                     "\"%.64s\" is not a time zone; use a "
                                     "name of the tz database, such as "
                                     "\"America/Chicago\" or \"UTC\".",
                                     timezone ? timezone : "");
    }

    snprintf(edit->timezone, sizeof(edit->timezone), "%s", timezone);
    edit->set_timezone = 1;

    return INBOX_OK;
}


inbox_status_t
inbox_settings_set_quiet_hours(inbox_settings_edit_t *edit,
    const char *start, const char *end, inbox_error_t *err)
{
    int  s, e;

    s = inbox_settings_time_parse(start);
    if (s < 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                                     "quiet_hours.start",
                                     "quiet_hours.start is a time of day "
                                     "as HH:MM, from 00:00 to 23:59.");
    }

    e = inbox_settings_time_parse(end);
    if (e < 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                                     "quiet_hours.end",
                                     "quiet_hours.end is a time of day "
                                     "as HH:MM, from 00:00 to 23:59.");
    }

    if (s == e) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "quiet_hours",
                                     "Quiet hours start and end at "
                                     "different times.");
    }

    edit->quiet_start = s;
    edit->quiet_end = e;
    edit->set_quiet_hours = 1;

    return INBOX_OK;
}


inbox_status_t
inbox_settings_set_business_name(inbox_settings_edit_t *edit,
    const char *name, inbox_error_t *err)
{
    inbox_status_t  status;

    status = inbox_settings_text(name, "business_name", "A business name",
                                 INBOX_BUSINESS_NAME_MAX,
                                 edit->business_name,
                                 sizeof(edit->business_name), err);
    if (status == INBOX_OK) {
        edit->set_business_name = 1;
    }

    return status;
}


inbox_status_t
inbox_settings_set_support_contact(inbox_settings_edit_t *edit,
    const char *contact, inbox_error_t *err)
{
    inbox_status_t  status;

    status = inbox_settings_text(contact, "support_contact",
                                 "A support contact",
                                 INBOX_SUPPORT_CONTACT_MAX,
                                 edit->support_contact,
                                 sizeof(edit->support_contact), err);
    if (status == INBOX_OK) {
        edit->set_support_contact = 1;
    }

    return status;
}


inbox_status_t
inbox_settings_set_default_country(inbox_settings_edit_t *edit,
    const char *country, inbox_error_t *err)
{
    inbox_status_t  status;

    edit->default_country[0] = '\0';

    if (country != NULL && country[0] != '\0') {
        status = inbox_phone_country_check(country, "default_country",
                                           edit->default_country, err);
        if (status != INBOX_OK) {
            return status;
        }
    }

    edit->set_default_country = 1;

    return INBOX_OK;
}


inbox_status_t
inbox_settings_edit_check(const inbox_settings_edit_t *edit,
    inbox_error_t *err)
{
    char                   start[6], end[6];
    inbox_settings_edit_t  copy;

    memset(&copy, 0, sizeof(copy));

    if (edit->set_timezone
        && inbox_settings_set_timezone(&copy, edit->timezone, err)
           != INBOX_OK)
    {
        return err ? err->code : INBOX_ERR_INVALID;
    }

    if (edit->set_quiet_hours) {
        if (edit->quiet_start < 0 || edit->quiet_start >= 24 * 60
            || edit->quiet_end < 0 || edit->quiet_end >= 24 * 60)
        {
            return inbox_error_set_field(err, INBOX_ERR_INVALID,
                                         "quiet_hours",
                                         "Quiet hours are times of day.");
        }

        inbox_settings_time_format(edit->quiet_start, start);
        inbox_settings_time_format(edit->quiet_end, end);

        if (inbox_settings_set_quiet_hours(&copy, start, end, err)
            != INBOX_OK)
        {
            return err ? err->code : INBOX_ERR_INVALID;
        }
    }

    /* a setter's output is its own input: trimmed, in its limits */
    if (edit->set_business_name
        && (memchr(edit->business_name, '\0', sizeof(edit->business_name))
            == NULL
            || inbox_settings_set_business_name(&copy, edit->business_name,
                                                err) != INBOX_OK
            || strcmp(copy.business_name, edit->business_name) != 0))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "business_name",
                                     "A business name has at most %d "
                                     "characters, trimmed, without control "
                                     "characters.", INBOX_BUSINESS_NAME_MAX);
    }

    if (edit->set_support_contact
        && (memchr(edit->support_contact, '\0',
                   sizeof(edit->support_contact)) == NULL
            || inbox_settings_set_support_contact(&copy,
                                                  edit->support_contact, err)
               != INBOX_OK
            || strcmp(copy.support_contact, edit->support_contact) != 0))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                                     "support_contact",
                                     "A support contact has at most %d "
                                     "characters, trimmed, without control "
                                     "characters.",
                                     INBOX_SUPPORT_CONTACT_MAX);
    }

    /* as the setter writes it: a code it knows, in upper case */
    if (edit->set_default_country
        && (memchr(edit->default_country, '\0',
                   sizeof(edit->default_country)) == NULL
            || inbox_settings_set_default_country(&copy,
                                                  edit->default_country, err)
               != INBOX_OK
            || strcmp(copy.default_country, edit->default_country) != 0))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                                     "default_country",
                                     "A default country is a country code "
                                     "in upper case, or none.");
    }

    return INBOX_OK;
}


int
inbox_settings_edit_moves_quiet_hours(const inbox_settings_edit_t *edit)
{
    return edit->set_timezone || edit->set_quiet_hours;
}


void
inbox_settings_apply(inbox_settings_t *settings,
    const inbox_settings_edit_t *edit, const char *org_name)
{
    if (edit->set_timezone) {
        snprintf(settings->timezone, sizeof(settings->timezone), "%s",
                 edit->timezone);
    }

    if (edit->set_quiet_hours) {
        settings->quiet_start = edit->quiet_start;
        settings->quiet_end = edit->quiet_end;
    }

    if (edit->set_business_name) {
        snprintf(settings->business_name, sizeof(settings->business_name),
                 "%s", edit->business_name[0] != '\0'
                       ? edit->business_name : org_name ? org_name : "");
    }

    if (edit->set_support_contact) {
        snprintf(settings->support_contact,
                 sizeof(settings->support_contact), "%s",
                 edit->support_contact);
    }

    if (edit->set_default_country) {
        snprintf(settings->default_country,
                 sizeof(settings->default_country), "%s",
                 edit->default_country);
    }
}


int
inbox_settings_same(const inbox_settings_t *a, const inbox_settings_t *b)
{
    return strcmp(a->timezone, b->timezone) == 0
           && a->quiet_start == b->quiet_start
           && a->quiet_end == b->quiet_end
           && strcmp(a->business_name, b->business_name) == 0
           && strcmp(a->support_contact, b->support_contact) == 0
           && strcmp(a->default_country, b->default_country) == 0;
}


const char *
inbox_settings_country(const inbox_settings_t *settings,
    const char *fallback)
{
    if (settings != NULL && settings->default_country[0] != '\0') {
        return settings->default_country;
    }

    return fallback != NULL ? fallback : "US";
}


void
inbox_settings_defaults(inbox_settings_t *settings, const char *org_name)
{
    memset(settings, 0, sizeof(inbox_settings_t));

    snprintf(settings->timezone, sizeof(settings->timezone), "UTC");
    settings->quiet_start = INBOX_QUIET_START_DEFAULT;
    settings->quiet_end = INBOX_QUIET_END_DEFAULT;
    snprintf(settings->business_name, sizeof(settings->business_name), "%s",
             org_name ? org_name : "");
}


/* Leading and trailing ASCII white space off s (len bytes). */
static const char *
inbox_settings_trim(const char *s, size_t *len)
{
    size_t  n = *len;

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


/* A name or contact as typed (NULL: none), trimmed into out. */
static inbox_status_t
inbox_settings_text(const char *s, const char *field, const char *what,
    size_t max, char *out, size_t size, inbox_error_t *err)
{
    size_t  i, len;

    out[0] = '\0';

    if (s == NULL) {
        return INBOX_OK;
    }

    len = strlen(s);
    s = inbox_settings_trim(s, &len);

    if (!inbox_utf8_valid(s, len) || inbox_utf8_length(s, len) > max
        || len >= size)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, field,
                                     "%s has at most %zu characters.", what,
                                     max);
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, field,
                                         "%s cannot hold control "
                                         "characters.", what);
        }
    }

    memcpy(out, s, len);
    out[len] = '\0';

    return INBOX_OK;
}
