/*
 * CSV import of contacts (POST /api/v1/contacts/import): a header row
 * naming the columns (phone, required; name; first name and last name,
 * joined "First Last" as the name of a row whose name cell is empty or
 * missing, as Outlook and CRMs export it; tags, separated by ";";
 * timezone, a tz database zone; any case, in any order, each once (two
 * names of one column, "phone" and "mobile", are refused too, as taking
 * either would drop the other unseen); others are not imported, and the
 * report names them), then one contact a line.  A line may have up to
 * INBOX_CSV_FIELDS_MAX columns (csv.h: an Outlook export has 92) and
 * INBOX_CSV_RECORD_MAX bytes; a header past either is refused, a line
 * past the bytes refused alone.
 *
 * The body is fed in pieces as it is read (inbox_import_feed), so a
 * 100,000-line upload is never held whole.  A caller makes two passes: a
 * check (store NULL) that counts the rows and finds what refuses the
 * whole request (no phone column, a column named twice, a quote never
 * closed, too many rows), so that such a request stores nothing; then the
 * import itself, which writes the good lines in batches of
 * INBOX_IMPORT_BATCH, one transaction each, and reports each refused line
 * with its number and why.  A batch the store fails (busy, a full disk)
 * stops the import there; the batches before are kept, and the error
 * says what they stored and at which line it stopped
 * (inbox_import_render_stopped), so that the user sends the same file
 * again, which the rules below make safe.  A number
 * already a contact is updated, never duplicated: a name given replaces
 * its name, tags given are added to its tags, and its opt-out is never
 * touched; a time zone given replaces its time zone, an empty cell keeps
 * it.  A line with the number of an earlier line of the same file is
 * applied so too, to the contact that line made or found, and counted
 * "repeated", neither created nor updated: a number new to the
 * organization twice in a file is one contact created, not one created
 * and one updated.
 *
 * A contact keeps at most INBOX_TAGS_MAX tags: the tags a line adds to
 * one that has them already are left out, and the report counts the
 * contacts it so capped ("tags_capped"), so that the user is told.
 *
 * Browsers see an import live: each batch pushes each contact it made
 * (contact.updated, as for one added by hand) and each that was there
 * before it and that it renamed, gave a new tag or another time zone
 * (one event each, inbox_change_contact, as for an edit), or, past
 * INBOX_IMPORT_EVENTS_MAX of them, one contacts.imported that makes them read
 * their lists again; so a 100,000-line import pushes at most one event a
 * batch beyond that bound.
 */
#ifndef INBOX_IMPORT_H
#define INBOX_IMPORT_H

#include <stddef.h>
#include <inbox/error.h>
#include <inbox/store.h>

#define INBOX_IMPORT_ROWS_MAX     100000   /* lines a request, header aside */
#define INBOX_IMPORT_BATCH        1000     /* lines a transaction */
#define INBOX_IMPORT_INVALID_MAX  1000     /* refused lines listed */
#define INBOX_IMPORT_EVENTS_MAX   50       /* contacts a batch pushes */
#define INBOX_IMPORT_STOPPED_MAX  640      /* an import_stopped message */

typedef struct inbox_import_s  inbox_import_t;

/* store NULL: the check pass.  default_country as for
 * inbox_phone_normalize_typed, which reads each line's number.  NULL when
 * out of memory. */
inbox_import_t *inbox_import_new(inbox_store_t *store, const char *org_id,
    const char *default_country);

/* The events of the batches written from now on are appended to events
 * (NULL, as at first: stored for resume, pushed by nobody); the caller
 * sends them after each inbox_import_feed and inbox_import_finish, also
 * when it failed (the batches before are durable). */
void inbox_import_set_events(inbox_import_t *im, inbox_event_list_t *events);

/* Whether a batch that made or changed n contacts pushes each
 * (inbox_change_contact), else one contacts.imported
 * (inbox_change_imported). */
int inbox_import_push_each(size_t n);

/* The next piece of the body.  INBOX_ERR_INVALID for a header without a
 * phone column or naming one twice (field: the column, "first_name" or
 * "last_name" for those) or too wide,
 * INBOX_ERR_TOO_LARGE past INBOX_IMPORT_ROWS_MAX rows, a store's error;
 * the import stops there. */
inbox_status_t inbox_import_feed(inbox_import_t *im, const char *data,
    size_t len, inbox_error_t *err);
/* The end of the body: the last line, the last batch.  INBOX_ERR_INVALID
 * too for an empty body or a quoted field never closed. */
inbox_status_t inbox_import_finish(inbox_import_t *im, inbox_error_t *err);

/* {"created","updated","repeated","tags_capped","invalid":[{"line",
 * "reason"}],"invalid_count","ignored_columns":[name],"country"}: the
 * lines that made a contact, updated one and repeated an earlier line's
 * number (above), the contacts whose tags were capped (above; a number
 * in two batches of the file may count in each), the first
 * INBOX_IMPORT_INVALID_MAX refused lines, how many there were in all,
 * the header's names no column goes by, in the file's order (unnamed
 * columns left out), and the country numbers without a country code were
 * read as.  malloc'd; NULL when out of memory. */
char *inbox_import_render(const inbox_import_t *im, size_t *len);

/* The lines stored (created, updated or repeated) and refused so far;
 * the contacts whose tags were capped (the report's "tags_capped"). */
size_t inbox_import_stored(const inbox_import_t *im);
size_t inbox_import_refused(const inbox_import_t *im);
size_t inbox_import_tags_capped(const inbox_import_t *im);
/* Whether lines stored so far may have moved a contact's zone (the file
 * has a timezone column): the sender is told quiet hours moved. */
int inbox_import_moves_zones(const inbox_import_t *im);

/*
 * After the import failed (a store's error, such as a busy store, or the
 * body unreadable) with batches before stored: the line it stopped at,
 * every line before it stored or refused and nothing of the batch that
 * failed kept (SQLite; MongoDB may have written part of it).  0 when
 * nothing was stored: the error alone says it.
 */
size_t inbox_import_stopped_at(const inbox_import_t *im);

/* err's message, then what the import stored before that line and that
 * the same file may be sent again (a number already a contact is
 * updated, never duplicated; its opt-out is never touched).  err's own
 * words, a store's failure's too: for an operator (inboxctl), not for a
 * client. */
void inbox_import_stopped_message(const inbox_import_t *im,
    const inbox_error_t *err, char *buf, size_t size);

/* The error of an import stopped at a line, as the route answers it
 * (with err's HTTP status): {"error":{"code","message"[,"field"],
 * "stopped_at_line","created","updated","repeated","tags_capped",
 * "invalid","invalid_count",
 * "ignored_columns","country"}}, the message inbox_import_stopped_message's
 * made of what a client is told of err (inbox_error_client_message: a
 * fixed sentence for internal and unavailable) and the report that of the
 * lines before that one.  malloc'd; NULL when out of memory. */
char *inbox_import_render_stopped(const inbox_import_t *im,
    const inbox_error_t *err, size_t *len);

void inbox_import_free(inbox_import_t *im);

#endif
