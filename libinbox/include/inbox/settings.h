/*
 * An organization's settings (GET and PATCH /api/v1/settings): its time
 * zone, its quiet hours, the business name its confirmation texts give
 * and a support contact for the HELP answer; and the rules each follows,
 * the same for every store backend, route and command.
 *
 *   timezone         a zone of the system's time zone database (IANA
 *                    names, Debian's tzdata: /usr/share/zoneinfo, or
 *                    $TZDIR) that ICU knows too, "UTC" by default
 *   quiet hours      when campaigns and polls hold their sends: from
 *                    start to end, local time, minutes after midnight
 *                    ("HH:MM" on the wire); 21:00 to 08:00 by default;
 *                    start and end differ (a window may cross midnight)
 *   business_name    1 to INBOX_BUSINESS_NAME_MAX characters, trimmed;
 *                    the organization's name unless set
 *   support_contact  at most INBOX_SUPPORT_CONTACT_MAX characters,
 *                    trimmed; none ("") unless set
 *   default_country  the country of the organization's numbers written
 *                    without a country code (a contact added, a CSV
 *                    import, a carrier's national number): a code of
 *                    inbox_phone_country_check (phone.h), in upper case;
 *                    none ("") unless set, when the server's is used
 *                    (nginx's inbox_default_country, inboxctl's US)
 *
 * Names and contacts hold no control characters.
 */
#ifndef INBOX_SETTINGS_H
#define INBOX_SETTINGS_H

#include <stddef.h>
#include <inbox/error.h>
#include <inbox/phone.h>

#define INBOX_TIMEZONE_MAX          64     /* bytes, with the NUL */
#define INBOX_BUSINESS_NAME_MAX     100    /* characters */
#define INBOX_SUPPORT_CONTACT_MAX   100    /* characters */
#define INBOX_QUIET_START_DEFAULT   (21 * 60)
#define INBOX_QUIET_END_DEFAULT     (8 * 60)

/* Room for that many characters of UTF-8. */
#define INBOX_SETTINGS_TEXT_SIZE(chars)  ((chars) * 4 + 1)

typedef struct {
    char  timezone[INBOX_TIMEZONE_MAX];
    int   quiet_start;                  /* minutes after midnight */
    int   quiet_end;
    char  business_name[INBOX_SETTINGS_TEXT_SIZE(INBOX_BUSINESS_NAME_MAX)];
                                        /* never "" */
    char  support_contact[
              INBOX_SETTINGS_TEXT_SIZE(INBOX_SUPPORT_CONTACT_MAX)];
                                        /* "" none */
    char  default_country[INBOX_COUNTRY_MAX];
                                        /* "" none */
} inbox_settings_t;

/* What a PATCH changes: only the fields whose set_ flag is 1, each
 * checked by its setter below.  business_name "" goes back to the
 * organization's name, support_contact and default_country "" to none. */
typedef struct {
    unsigned  set_timezone:1;
    unsigned  set_quiet_hours:1;
    unsigned  set_business_name:1;
    unsigned  set_support_contact:1;
    unsigned  set_default_country:1;
    char      timezone[INBOX_TIMEZONE_MAX];
    int       quiet_start;
    int       quiet_end;
    char      business_name[INBOX_SETTINGS_TEXT_SIZE(INBOX_BUSINESS_NAME_MAX)];
    char      support_contact[
                  INBOX_SETTINGS_TEXT_SIZE(INBOX_SUPPORT_CONTACT_MAX)];
    char      default_country[INBOX_COUNTRY_MAX];
} inbox_settings_edit_t;

/* 1 when name is a time zone an organization or a contact may have: a
 * zone of the system's time zone database, a plain relative path there
 * ("America/Chicago", "UTC") to a TZif file, that quiet hours' calendar
 * (ICU, quiet.h) knows too, so that a zone accepted is the clock quiet
 * hours read ("posix/America/New_York" and "localtime" are files, but
 * would be read as UTC). */
int inbox_timezone_valid(const char *name);

/* "HH:MM" (00:00 to 23:59) as minutes after midnight; -1 when it is not
 * one.  inbox_settings_time_format writes minutes back as "HH:MM". */
int inbox_settings_time_parse(const char *hhmm);
void inbox_settings_time_format(int minutes, char out[6]);

/* The setters check a value (INBOX_ERR_INVALID naming its field:
 * "timezone", "quiet_hours.start" or ".end", "quiet_hours",
 * "business_name", "support_contact", "default_country") and put it in
 * edit.  A NULL business name, support contact or default country (or
 * a default country "") is "back to the default". */
inbox_status_t inbox_settings_set_timezone(inbox_settings_edit_t *edit,
    const char *timezone, inbox_error_t *err);
inbox_status_t inbox_settings_set_quiet_hours(inbox_settings_edit_t *edit,
    const char *start, const char *end, inbox_error_t *err);
inbox_status_t inbox_settings_set_business_name(inbox_settings_edit_t *edit,
    const char *name, inbox_error_t *err);
inbox_status_t inbox_settings_set_support_contact(
    inbox_settings_edit_t *edit, const char *contact, inbox_error_t *err);
inbox_status_t inbox_settings_set_default_country(
    inbox_settings_edit_t *edit, const char *country, inbox_error_t *err);

/* Checks an edit made by hand as the setters would (the store applies
 * it only when it passes). */
inbox_status_t inbox_settings_edit_check(const inbox_settings_edit_t *edit,
    inbox_error_t *err);

/* 1 when the edit sets the time zone or the quiet hours: when quiet
 * hours end for the organization's recipients may move, and what waits
 * for them is looked at again (the store makes it due). */
int inbox_settings_edit_moves_quiet_hours(const inbox_settings_edit_t *edit);

/* Settings as edit leaves them: each field it sets, business_name ""
 * back to org_name (the organization's), support_contact and
 * default_country "" to none; what it does not set stays.  What a
 * backend stores is what this gives (store_mongo_settings.c reads the
 * settings before an edit, and works out those after it so). */
void inbox_settings_apply(inbox_settings_t *settings,
    const inbox_settings_edit_t *edit, const char *org_name);

/* 1 when a and b show the same (GET /api/v1/settings): an edit that
 * changes nothing of them is no change (no settings.updated). */
int inbox_settings_same(const inbox_settings_t *a,
    const inbox_settings_t *b);

/* The country the organization's numbers without a country code are
 * read as: its default_country, else fallback (the server's; NULL is
 * "US").  Points into settings or is fallback. */
const char *inbox_settings_country(const inbox_settings_t *settings,
    const char *fallback);

/* The defaults for an organization named org_name (a backend reads its
 * settings over them: what it has not stored stays the default). */
void inbox_settings_defaults(inbox_settings_t *settings,
    const char *org_name);

#endif
