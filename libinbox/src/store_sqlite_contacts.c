/*
 * The SQLite backend: contacts.  A contact always has its conversation
 * (empty until the first message), so that its thread can be opened; its
 * tags are rows of contact_tags, in the order given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/import.h>
#include <inbox/phone.h>
#include "store_sqlite.h"


/* The columns inbox_sqlite_contact_read expects; append a WHERE clause. */
#define INBOX_SQLITE_CONTACT_SELECT                                           \
    "SELECT ct.id, ct.name, ct.phone, ct.opted_out, ct.opted_out_at,"        \
    " ct.opt_out_source, ct.created_at, cv.id,"                              \
    " (SELECT json_group_array(tag) FROM (SELECT tag FROM contact_tags"      \
    "   WHERE contact_id = ct.id ORDER BY id)), ct.opt_out_keyword,"         \
    " ct.timezone, ct.opted_in_at, ct.opt_latest_at"                         \
    " FROM contacts ct LEFT JOIN conversations cv ON cv.contact_id = ct.id "

#define INBOX_SQLITE_CONTACT_INSERT_SQL                                       \
    "INSERT INTO contacts (org_id, phone, name, created_at, search_name)"     \
    " VALUES (?1, ?2, nullif(?3, ''), ?4, ?5) RETURNING id"


/* A contact that an import's batch made or changed
 * (INBOX_CONTACT_CHANGED_*): pushed once, however many of its rows. */
typedef struct {
    int64_t   id;
    unsigned  changed;
} inbox_sqlite_import_changed_t;


static inbox_status_t inbox_sqlite_conversation_ensure(
    inbox_sqlite_conn_t *conn, int64_t org, int64_t contact, int64_t now,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_contact_read(sqlite3_stmt *stmt,
    inbox_contact_record_t *contact, inbox_error_t *err);
static inbox_status_t inbox_sqlite_contact_rename(inbox_sqlite_conn_t *conn,
    int64_t id, const char *name, inbox_error_t *err);
static inbox_status_t inbox_sqlite_contact_timezone(
    inbox_sqlite_conn_t *conn, int64_t org, int64_t id, const char *timezone,
    int held, inbox_error_t *err);
static inbox_status_t inbox_sqlite_contact_tags(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t id, const inbox_tags_t *tags, int replace,
    int *capped, inbox_error_t *err);
static inbox_status_t inbox_sqlite_contacts_walk(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t at, int64_t id, const inbox_search_t *search,
    const char *tag, const inbox_sqlite_ids_t *set, unsigned limit,
    inbox_contact_page_t *page, inbox_error_t *err);
static void inbox_sqlite_import_changed(
    inbox_sqlite_import_changed_t *changed, size_t *n, int64_t id,
    unsigned did);
static inbox_status_t inbox_sqlite_import_events(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_sqlite_import_changed_t *changed, size_t n,
    int64_t now, inbox_event_list_t *events, inbox_error_t *err);


/* A NULL name keeps the name the contact has; "" forgets it. */
inbox_status_t
inbox_sqlite_contact_upsert(inbox_store_t *store, const char *org_id,
    const char *phone, const char *name, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    int                   rc;
    int64_t               org, contact, now;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    now = inbox_now_ms();

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_UPSERT,
        "INSERT INTO contacts (org_id, phone, name, created_at,"
        " search_name)"
        " VALUES (?1, ?2, nullif(?3, ''), ?4, ?5)"
        " ON CONFLICT (org_id, phone)"
        " DO UPDATE SET name = CASE WHEN ?3 IS NULL THEN name"
        "   ELSE excluded.name END,"
        " search_name = CASE WHEN ?3 IS NULL THEN search_name"
        "   ELSE excluded.search_name END"
        " RETURNING id", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, phone);
    inbox_sqlite_bind_text(stmt, 3, name);
    sqlite3_bind_int64(stmt, 4, now);
    inbox_sqlite_bind_search_name(stmt, 5, name);

    rc = sqlite3_step(stmt);
    contact = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;

    if (rc == SQLITE_ROW) {
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_write_fail(conn, rc, "the phone number", org_id, err);
        goto failed;
    }

    status = inbox_sqlite_conversation_ensure(conn, org, contact, now, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    inbox_sqlite_format_id(contact, id);
    return INBOX_OK;

failed:

    inbox_sqlite_rollback(conn);
    return err->code;
}


/* Its empty conversation, unless it has one: no activity yet, listed
 * after the threads with messages (INBOX_ACTIVITY_NONE). */
static inbox_status_t
inbox_sqlite_conversation_ensure(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t contact, int64_t now, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONVERSATION_ENSURE,
        "INSERT INTO conversations (org_id, contact_id, last_activity_at,"
        " created_at) VALUES (?1, ?2, ?4, ?3)"
        " ON CONFLICT (contact_id) DO NOTHING", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, contact);
    sqlite3_bind_int64(stmt, 3, now);
    sqlite3_bind_int64(stmt, 4, INBOX_ACTIVITY_NONE);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


static inbox_status_t
inbox_sqlite_contact_read(sqlite3_stmt *stmt, inbox_contact_record_t *c,
    inbox_error_t *err)
{
    int  oom;

    memset(c, 0, sizeof(inbox_contact_record_t));
    oom = 0;

    inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), c->id);
    c->name = inbox_sqlite_column_strdup(stmt, 1, &oom);
    inbox_sqlite_column_copy(stmt, 2, c->phone, sizeof(c->phone));
    c->opted_out = sqlite3_column_int(stmt, 3);
    c->opted_out_at = sqlite3_column_int64(stmt, 4);
    inbox_sqlite_column_copy(stmt, 5, c->opt_out_source,
                             sizeof(c->opt_out_source));
    inbox_sqlite_column_copy(stmt, 9, c->opt_out_keyword,
                             sizeof(c->opt_out_keyword));
    inbox_sqlite_column_copy(stmt, 10, c->timezone, sizeof(c->timezone));
    c->opted_in_at = sqlite3_column_int64(stmt, 11);
    c->opt_latest_at = sqlite3_column_int64(stmt, 12);
    c->created_at = sqlite3_column_int64(stmt, 6);

    if (sqlite3_column_type(stmt, 7) != SQLITE_NULL) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 7),
                               c->conversation_id);
    }

    if (oom) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return inbox_tags_from_json((const char *) sqlite3_column_text(stmt, 8),
                                &c->tags, err);
}


inbox_status_t
inbox_sqlite_contact_load(inbox_sqlite_conn_t *conn, int64_t org, int64_t id,
    inbox_contact_record_t *contact, inbox_error_t *err)
{
    int             rc;
    sqlite3_stmt   *stmt;
    inbox_status_t  status;

    /* freeable whatever the outcome: callers free it on not found too */
    memset(contact, 0, sizeof(inbox_contact_record_t));

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_GET,
        INBOX_SQLITE_CONTACT_SELECT "WHERE ct.id = ?1 AND ct.org_id = ?2",
        err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        status = inbox_sqlite_contact_read(stmt, contact, err);

    } else if (rc == SQLITE_DONE) {
        status = inbox_error_not_found(err, "contact");

    } else {
        status = inbox_sqlite_fail(conn, rc, err);
    }

    inbox_sqlite_done(stmt);

    return status;
}


inbox_status_t
inbox_sqlite_contact_get(inbox_store_t *store, const char *org_id,
    const char *contact_id, inbox_contact_record_t *contact,
    inbox_error_t *err)
{
    int64_t               org, id;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    memset(contact, 0, sizeof(inbox_contact_record_t));

    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(contact_id, &id) != 0)
    {
        return inbox_error_not_found(err, "contact");
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* the contact and its tags from one snapshot */
    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = inbox_sqlite_contact_load(conn, org, id, contact, err);
    if (status != INBOX_OK) {
        inbox_sqlite_rollback(conn);
        return status;
    }

    return inbox_sqlite_commit(conn, err);
}


static inbox_status_t
inbox_sqlite_contact_rename(inbox_sqlite_conn_t *conn, int64_t id,
    const char *name, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_RENAME,
        "UPDATE contacts SET name = nullif(?2, ''), search_name = ?3"
        " WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    inbox_sqlite_bind_text(stmt, 2, name);
    inbox_sqlite_bind_search_name(stmt, 3, name);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


/* The contact's time zone for quiet hours; "" none (NULL).  The row is
 * written only when the zone is another, so that an import tells; then a
 * contact that may have messages held (held) has them looked at again on
 * its new clock. */
static inbox_status_t
inbox_sqlite_contact_timezone(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t id, const char *timezone, int held, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_TIMEZONE,
        "UPDATE contacts SET timezone = nullif(?2, '')"
        " WHERE id = ?1 AND timezone IS NOT nullif(?2, '')", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    inbox_sqlite_bind_text(stmt, 2, timezone);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (held && sqlite3_changes(conn->db) > 0) {
        return inbox_sqlite_outbox_unpark_quiet(conn, org, id, inbox_now_ms(),
                                                err);
    }

    return INBOX_OK;
}


/* Adds tags to the contact's (a tag it has in any case is left out), or
 * replaces them.  Adding, a tag it lacks is left out too once it has
 * INBOX_TAGS_MAX: *capped (when not NULL) is then set. */
static inbox_status_t
inbox_sqlite_contact_tags(inbox_sqlite_conn_t *conn, int64_t org, int64_t id,
    const inbox_tags_t *tags, int replace, int *capped, inbox_error_t *err)
{
    int            rc;
    size_t         i;
    sqlite3_stmt  *stmt;

    if (replace) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_TAGS_CLEAR,
            "DELETE FROM contact_tags WHERE contact_id = ?1", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, id);
        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            return inbox_sqlite_fail(conn, rc, err);
        }
    }

    for (i = 0; i < tags->count; i++) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_TAG_ADD,
            "INSERT INTO contact_tags (contact_id, org_id, tag)"
            " SELECT ?1, ?2, ?3 WHERE (SELECT count(*) FROM contact_tags"
            "   WHERE contact_id = ?1) < ?4"
            " ON CONFLICT DO NOTHING", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, id);
        sqlite3_bind_int64(stmt, 2, org);
        inbox_sqlite_bind_text(stmt, 3, tags->items[i]);
        /* an import adds tags: a contact keeps at most this many */
        sqlite3_bind_int(stmt, 4, INBOX_TAGS_MAX);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            return inbox_sqlite_fail(conn, rc, err);
        }

        if (capped == NULL || *capped || sqlite3_changes(conn->db) != 0) {
            continue;
        }

        /* not added: it has the tag, else it is full */
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_TAG_HAS,
            "SELECT NOT EXISTS (SELECT 1 FROM contact_tags"
            " WHERE contact_id = ?1 AND tag = ?2)", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, id);
        inbox_sqlite_bind_text(stmt, 2, tags->items[i]);

        rc = sqlite3_step(stmt);
        *capped = rc == SQLITE_ROW && sqlite3_column_int(stmt, 0) != 0;
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_ROW) {
            return inbox_sqlite_fail(conn, rc, err);
        }
    }

    return INBOX_OK;
}


/* The contact, its tags, time zone and thread, then its event
 * (inbox_change_contact: made), in one write transaction. */
inbox_status_t
inbox_sqlite_contact_create(inbox_store_t *store, const char *org_id,
    const char *phone, const inbox_contact_edit_t *edit,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                   rc;
    int64_t               org, id, now;
    sqlite3_stmt         *stmt;
    inbox_change_t        change;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;
    inbox_conversation_t  conversation;

    if (err == NULL) {
        err = &fallback;
    }

    memset(contact, 0, sizeof(inbox_contact_record_t));
    memset(&change, 0, sizeof(inbox_change_t));
    memset(&conversation, 0, sizeof(inbox_conversation_t));

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    now = inbox_now_ms();

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_INSERT,
        INBOX_SQLITE_CONTACT_INSERT_SQL, err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, phone);
    inbox_sqlite_bind_text(stmt, 3, edit->set_name ? edit->name : NULL);
    sqlite3_bind_int64(stmt, 4, now);
    inbox_sqlite_bind_search_name(stmt, 5,
                                  edit->set_name ? edit->name : NULL);

    rc = sqlite3_step(stmt);
    id = (rc == SQLITE_ROW) ? sqlite3_column_int64(stmt, 0) : 0;

    if (rc == SQLITE_ROW) {
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_write_fail(conn, rc, "the phone number",
                                         org_id, err);
        if (status == INBOX_ERR_CONFLICT) {
            inbox_error_set_field(err, INBOX_ERR_CONFLICT, "phone",
                                  "%s is a contact already.", phone);
        }
        goto failed;
    }

    if (edit->set_tags) {
        status = inbox_sqlite_contact_tags(conn, org, id, &edit->tags, 1,
                                           NULL, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    if (edit->set_timezone) {
        status = inbox_sqlite_contact_timezone(conn, org, id,
                                               edit->timezone, 0, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    status = inbox_sqlite_conversation_ensure(conn, org, id, now, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_contact_load(conn, org, id, contact, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_conversation_load(conn, org,
                 strtoll(contact->conversation_id, NULL, 10), &conversation,
                 err);
    if (status != INBOX_OK) {
        goto failed;
    }

    inbox_change_contact(&change, contact, &conversation,
                         INBOX_CONTACT_CHANGED_CREATED);

    status = inbox_sqlite_events_commit(conn, org, &change, now, events,
                                        err);
    if (status != INBOX_OK) {
        goto undone;
    }

    inbox_conversation_free(&conversation);

    return status;

failed:

    inbox_sqlite_rollback(conn);

undone:

    inbox_change_free(&change);
    inbox_conversation_free(&conversation);
    inbox_contact_record_free(contact);
    memset(contact, 0, sizeof(inbox_contact_record_t));

    return status;
}


/*
 * One write transaction: the contact as it was, what the edit changes in
 * it (inbox_contact_edit_changes) written, the contact as it is, and the
 * event that change makes (inbox_change_contact).
 */
inbox_status_t
inbox_sqlite_contact_update(inbox_store_t *store, const char *org_id,
    const char *contact_id, const inbox_contact_edit_t *edit,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int64_t               org, id, now;
    unsigned              changed;
    inbox_change_t        change;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;
    inbox_conversation_t  conversation;

    if (err == NULL) {
        err = &fallback;
    }

    memset(contact, 0, sizeof(inbox_contact_record_t));
    memset(&change, 0, sizeof(inbox_change_t));
    memset(&conversation, 0, sizeof(inbox_conversation_t));

    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(contact_id, &id) != 0)
    {
        return inbox_error_not_found(err, "contact");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* also tells an unknown or another organization's id */
    status = inbox_sqlite_contact_load(conn, org, id, contact, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    changed = inbox_contact_edit_changes(contact, edit);

    if (changed & INBOX_CONTACT_CHANGED_NAME) {
        status = inbox_sqlite_contact_rename(conn, id, edit->name, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    if (changed & INBOX_CONTACT_CHANGED_TAGS) {
        status = inbox_sqlite_contact_tags(conn, org, id, &edit->tags, 1,
                                           NULL, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    if (changed & INBOX_CONTACT_CHANGED_TIMEZONE) {
        status = inbox_sqlite_contact_timezone(conn, org, id,
                                               edit->timezone, 1, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    if (changed == 0) {
        return inbox_sqlite_commit(conn, err);
    }

    inbox_contact_record_free(contact);

    status = inbox_sqlite_contact_load(conn, org, id, contact, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    now = inbox_now_ms();

    status = inbox_sqlite_conversation_load(conn, org,
                 strtoll(contact->conversation_id, NULL, 10), &conversation,
                 err);
    if (status != INBOX_OK) {
        goto failed;
    }

    inbox_change_contact(&change, contact, &conversation, changed);

    status = inbox_sqlite_events_commit(conn, org, &change, now, events,
                                        err);
    if (status != INBOX_OK) {
        goto undone;
    }

    inbox_conversation_free(&conversation);

    return status;

failed:

    inbox_sqlite_rollback(conn);

undone:

    inbox_change_free(&change);
    inbox_conversation_free(&conversation);
    inbox_contact_record_free(contact);
    memset(contact, 0, sizeof(inbox_contact_record_t));

    return status;
}


/*
 * The contacts list's plans, as the thread list's (store_sqlite_search.c),
 * over the candidates of q and of the tag: both few, those of both; q's
 * few and the tag common, q's kept when they have the tag (one probe of
 * contact_tags each); the tag's few and q common (or too short for the
 * index), a lookup of the tag's, each checked for q.  Then a lookup of
 * the candidates, sorted, or a walk of contacts_by_created newest first
 * that looks each entry up in them.  With no candidates (both common,
 * or nothing asked) the rows are walked and each checked (a scan), at
 * most INBOX_SQLITE_CONTACTS_SCAN a page.  ?1 org, ?2 ?3 the keyset, ?4
 * q (when checked), ?5 the candidates, ?6 the tag (NULL for any; the
 * column's NOCASE compares it), ?7 the limit.
 */
#define INBOX_SQLITE_CONTACTS_SCAN  20000
#define INBOX_SQLITE_CONTACTS_WALK  100000

#define INBOX_SQLITE_CONTACTS_KEYSET                                          \
    " AND (ct.created_at, ct.id) < (?2, ?3)"

/* A lookup: the candidates (a JSON array of contact ids) of this
 * organization, checked for q when asked, the page's ids sorted out,
 * then their records. */
static const char  *inbox_sqlite_contacts_lookup_sql =
    INBOX_SQLITE_CONTACT_SELECT
    " WHERE ct.id IN (SELECT ct.id FROM json_each(?5) m"
    "   CROSS JOIN contacts ct ON ct.id = m.value"
    "   WHERE ct.org_id = ?1" INBOX_SQLITE_CONTACTS_KEYSET
    "   AND (?4 IS NULL OR inbox_search_matches(?4, ?8, ct.name, ct.phone))"
    "   ORDER BY ct.created_at DESC, ct.id DESC LIMIT ?7)"
    " ORDER BY ct.created_at DESC, ct.id DESC";

/* A walk's rows: the id and the key, and a scan's checks. */
static const char  *inbox_sqlite_contacts_set_walk_sql =
    "SELECT ct.id, ct.created_at FROM contacts ct"
    " INDEXED BY contacts_by_created"
    " WHERE ct.org_id = ?1" INBOX_SQLITE_CONTACTS_KEYSET
    " ORDER BY ct.created_at DESC, ct.id DESC";

static const char  *inbox_sqlite_contacts_scan_sql =
    "SELECT ct.id, ct.created_at, ct.name, ct.phone,"
    " ?6 IS NULL OR EXISTS (SELECT 1 FROM contact_tags t"
    "   WHERE t.contact_id = ct.id AND t.tag = ?6)"
    " FROM contacts ct INDEXED BY contacts_by_created"
    " WHERE ct.org_id = ?1" INBOX_SQLITE_CONTACTS_KEYSET
    " ORDER BY ct.created_at DESC, ct.id DESC";


inbox_status_t
inbox_sqlite_contacts_list(inbox_store_t *store, const char *org_id,
    const inbox_contact_query_t *query, inbox_contact_page_t *page,
    inbox_error_t *err)
{
    int                      rc, lookup;
    int64_t                  org, at, id, last_id;
    unsigned                 limit;
    const char              *tag, *check;
    sqlite3_stmt            *stmt;
    inbox_search_t           search;
    inbox_status_t           status;
    inbox_error_t            fallback;
    inbox_sqlite_ids_t       found, tagged, *set;
    inbox_sqlite_conn_t     *conn;
    inbox_sqlite_list_t      list;
    inbox_contact_record_t  *items;

    if (err == NULL) {
        err = &fallback;
    }

    memset(page, 0, sizeof(inbox_contact_page_t));
    memset(&found, 0, sizeof(inbox_sqlite_ids_t));
    memset(&tagged, 0, sizeof(inbox_sqlite_ids_t));

    if (inbox_sqlite_parse_id(org_id, &org) != 0) {
        return inbox_error_not_found(err, "organization");
    }

    at = INT64_MAX;
    id = INT64_MAX;

    if (query->cursor != NULL && query->cursor[0] != '\0'
        && inbox_sqlite_cursor_decode(query->cursor, &at, &id) != 0)
    {
        return inbox_error_cursor(err);
    }

    /* store.c refused a q too long */
    (void) inbox_search_parse(query->q, query->country, &search);
    tag = (query->tag != NULL && query->tag[0] != '\0') ? query->tag : NULL;
    limit = query->limit;

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    items = calloc(limit, sizeof(inbox_contact_record_t));
    if (items == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto failed;
    }

    page->items = items;

    /* the list: the organization's contacts, newest first */
    memset(&list, 0, sizeof(inbox_sqlite_list_t));
    list.limit = limit;
    list.checked = search.checked;

    status = inbox_sqlite_org_contacts(conn, org, &list.listed, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    set = NULL;
    check = NULL;

    /* the tag's candidates, drawn from this organization's contacts */
    if (tag != NULL) {
        list.population = list.listed;

        status = inbox_sqlite_tag_collect(conn, org, tag,
                                          inbox_sqlite_collect_max(&list),
                                          &tagged, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    /* q's, drawn from every organization's */
    if (search.name[0] != '\0' && search.indexed) {
        status = inbox_sqlite_contacts_population(conn, &list.population,
                                                  err);
        if (status != INBOX_OK) {
            goto failed;
        }

        status = inbox_sqlite_search_collect(conn, &search, query->q,
                                             query->country,
                                             inbox_sqlite_collect_max(&list),
                                             &found, err);
        if (status != INBOX_OK) {
            goto failed;
        }

        if (!found.over) {
            set = &found;

            if (tag != NULL) {
                status = tagged.over
                         ? inbox_sqlite_ids_tagged(conn, &found, tag, err)
                         : (inbox_sqlite_ids_intersect(&found, &tagged),
                            INBOX_OK);
                if (status != INBOX_OK) {
                    goto failed;
                }

                /* now all of this organization's */
                list.population = list.listed;
            }
        }
    }

    if (set == NULL && tag != NULL && !tagged.over) {
        set = &tagged;
        list.population = list.listed;

        /* q's candidates too many to use, or none: q checked on each */
        check = search.name[0] != '\0' ? query->q : NULL;
    }

    lookup = set != NULL
             && (check != NULL
                 || inbox_sqlite_plan(set->n, &list)
                    == INBOX_SQLITE_PLAN_LOOKUP);

    if (lookup) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACTS_LOOKUP,
                                 inbox_sqlite_contacts_lookup_sql, err);
        if (stmt == NULL) {
            status = err->code;
            goto failed;
        }

        sqlite3_bind_int64(stmt, 1, org);
        sqlite3_bind_int64(stmt, 2, at);
        sqlite3_bind_int64(stmt, 3, id);
        inbox_sqlite_bind_text(stmt, 4, check);
        inbox_sqlite_bind_text(stmt, 8, query->country);
        /* one row more tells whether there is a next page */
        sqlite3_bind_int64(stmt, 7, (int64_t) limit + 1);

        status = inbox_sqlite_ids_bind(stmt, 5, set, err);
        if (status != INBOX_OK) {
            inbox_sqlite_done(stmt);
            goto failed;
        }

        last_id = 0;

        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {

            if (page->count == limit) {
                inbox_sqlite_cursor_encode(items[limit - 1].created_at,
                                           last_id, page->next_cursor);
                break;
            }

            last_id = sqlite3_column_int64(stmt, 0);
            status = inbox_sqlite_contact_read(stmt, &items[page->count],
                                               err);
            page->count++;

            if (status != INBOX_OK) {
                inbox_sqlite_done(stmt);
                goto failed;
            }
        }

        inbox_sqlite_done(stmt);

        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            status = inbox_sqlite_fail(conn, rc, err);
            goto failed;
        }

    } else {
        status = inbox_sqlite_contacts_walk(conn, org, at, id, &search, tag,
                                            set, limit, page, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    inbox_sqlite_ids_free(&found);
    inbox_sqlite_ids_free(&tagged);

    return inbox_sqlite_commit(conn, err);

failed:

    inbox_sqlite_ids_free(&found);
    inbox_sqlite_ids_free(&tagged);
    inbox_sqlite_rollback(conn);
    return status;
}


/*
 * A walk of the organization's contacts newest first: of the index's
 * entries, those in set (a set walk); without set, of the rows, those q
 * and the tag match (a scan).  It ends a page as the thread list's walks
 * do, after so many entries examined, with the cursor after the last.
 */
static inbox_status_t
inbox_sqlite_contacts_walk(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t at, int64_t id, const inbox_search_t *search, const char *tag,
    const inbox_sqlite_ids_t *set, unsigned limit, inbox_contact_page_t *page,
    inbox_error_t *err)
{
    int             rc, match;
    int64_t         created, contact, last_id;
    unsigned        examined, walk;
    sqlite3_stmt   *stmt;
    inbox_status_t  status;

    if (set != NULL) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACTS_SET_WALK,
                                 inbox_sqlite_contacts_set_walk_sql, err);
        walk = INBOX_SQLITE_CONTACTS_WALK;

    } else {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACTS_LIST,
                                 inbox_sqlite_contacts_scan_sql, err);
        walk = INBOX_SQLITE_CONTACTS_SCAN;
    }

    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, at);
    sqlite3_bind_int64(stmt, 3, id);
    if (set == NULL) {
        inbox_sqlite_bind_text(stmt, 6, tag);
    }

    examined = 0;
    last_id = 0;
    status = INBOX_OK;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        contact = sqlite3_column_int64(stmt, 0);
        created = sqlite3_column_int64(stmt, 1);
        examined++;

        if (set != NULL) {
            match = inbox_sqlite_ids_has(set, contact);

        } else {
            match = sqlite3_column_int(stmt, 4)
                    && inbox_search_matches(search,
                           (const char *) sqlite3_column_text(stmt, 2),
                           (const char *) sqlite3_column_text(stmt, 3));
        }

        if (match) {
            if (page->count == limit) {
                /* one more: there is a next page */
                inbox_sqlite_cursor_encode(page->items[limit - 1].created_at,
                                           last_id, page->next_cursor);
                break;
            }

            status = inbox_sqlite_contact_load(conn, org, contact,
                                               &page->items[page->count],
                                               err);
            page->count++;

            if (status != INBOX_OK) {
                break;
            }

            last_id = contact;
        }

        if (examined == walk) {
            inbox_sqlite_cursor_encode(created, contact, page->next_cursor);
            break;
        }
    }

    inbox_sqlite_done(stmt);

    if (status == INBOX_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
    }

    return status;
}


/*
 * A batch of an import in one write transaction (see store.h).  The
 * contacts whose tags were capped are kept in capped (the batch's rows
 * at most), each counted once however many of its rows were.
 */
inbox_status_t
inbox_sqlite_contacts_import(inbox_store_t *store, const char *org_id,
    const inbox_contact_row_t *rows, size_t n, inbox_import_count_t *count,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                            rc, found, renamed, full;
    char                          *name;
    size_t                         i, j, nchanged, pushed;
    int64_t                        org, id, now, changes, *capped;
    unsigned                       did;
    sqlite3_stmt                  *stmt;
    inbox_status_t                 status;
    inbox_error_t                  fallback;
    inbox_sqlite_conn_t           *conn;
    inbox_sqlite_import_changed_t  changed[INBOX_IMPORT_EVENTS_MAX + 1];

    if (err == NULL) {
        err = &fallback;
    }

    memset(count, 0, sizeof(inbox_import_count_t));

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    capped = malloc((n > 0 ? n : 1) * sizeof(int64_t));
    if (capped == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        free(capped);
        return err->code;
    }

    now = inbox_now_ms();
    nchanged = 0;
    pushed = events ? events->count : 0;

    for (i = 0; i < n; i++) {

        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_FIND_PHONE,
            "SELECT id, name FROM contacts WHERE org_id = ?1 AND phone = ?2",
            err);
        if (stmt == NULL) {
            status = err->code;
            goto failed;
        }

        sqlite3_bind_int64(stmt, 1, org);
        inbox_sqlite_bind_text(stmt, 2, rows[i].phone);

        rc = sqlite3_step(stmt);
        id = (rc == SQLITE_ROW) ? sqlite3_column_int64(stmt, 0) : 0;
        name = (rc == SQLITE_ROW)
               ? (char *) sqlite3_column_text(stmt, 1) : NULL;

        /* a name given that is not the one it has */
        renamed = id != 0 && rows[i].name != NULL
                  && (name == NULL ? rows[i].name[0] != '\0'
                                   : strcmp(name, rows[i].name) != 0);

        inbox_sqlite_done(stmt);

        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            status = inbox_sqlite_fail(conn, rc, err);
            goto failed;
        }

        found = (id != 0);

        if (found) {
            if (rows[i].repeated) {
                count->repeated++;
            } else {
                count->updated++;
            }

            if (rows[i].name != NULL) {
                status = inbox_sqlite_contact_rename(conn, id, rows[i].name,
                                                     err);
                if (status != INBOX_OK) {
                    goto failed;
                }
            }

        } else {
            count->created++;

            stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_INSERT,
                INBOX_SQLITE_CONTACT_INSERT_SQL, err);
            if (stmt == NULL) {
                status = err->code;
                goto failed;
            }

            sqlite3_bind_int64(stmt, 1, org);
            inbox_sqlite_bind_text(stmt, 2, rows[i].phone);
            inbox_sqlite_bind_text(stmt, 3, rows[i].name);
            sqlite3_bind_int64(stmt, 4, now);
            inbox_sqlite_bind_search_name(stmt, 5, rows[i].name);

            rc = sqlite3_step(stmt);
            id = (rc == SQLITE_ROW) ? sqlite3_column_int64(stmt, 0) : 0;

            if (rc == SQLITE_ROW) {
                rc = sqlite3_step(stmt);
            }

            inbox_sqlite_done(stmt);

            if (rc != SQLITE_DONE) {
                status = inbox_sqlite_write_fail(conn, rc, "the phone number",
                                                 org_id, err);
                goto failed;
            }

            status = inbox_sqlite_conversation_ensure(conn, org, id, now,
                                                      err);
            if (status != INBOX_OK) {
                goto failed;
            }
        }

        did = renamed ? INBOX_CONTACT_CHANGED_NAME : 0;
        if (!found) {
            did |= INBOX_CONTACT_CHANGED_CREATED;
        }

        changes = sqlite3_total_changes64(conn->db);
        full = 0;

        status = inbox_sqlite_contact_tags(conn, org, id, &rows[i].tags, 0,
                                           &full, err);
        if (status != INBOX_OK) {
            goto failed;
        }

        for (j = 0; full && j < count->capped; j++) {
            full = capped[j] != id;
        }

        if (full) {
            capped[count->capped++] = id;
        }

        if (sqlite3_total_changes64(conn->db) != changes) {
            did |= INBOX_CONTACT_CHANGED_TAGS;
            changes = sqlite3_total_changes64(conn->db);
        }

        if (rows[i].timezone[0] != '\0') {
            status = inbox_sqlite_contact_timezone(conn, org, id,
                                                   rows[i].timezone, found,
                                                   err);
            if (status != INBOX_OK) {
                goto failed;
            }

            if (sqlite3_total_changes64(conn->db) != changes) {
                did |= INBOX_CONTACT_CHANGED_TIMEZONE;
            }
        }

        if (did != 0) {
            inbox_sqlite_import_changed(changed, &nchanged, id, did);
        }
    }

    status = inbox_sqlite_import_events(conn, org, changed, nchanged, now,
                                        events, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        goto undone;
    }

    free(capped);

    return status;

failed:

    inbox_sqlite_rollback(conn);

undone:

    if (events != NULL) {
        inbox_event_list_truncate(events, pushed);
    }

    free(capped);
    memset(count, 0, sizeof(inbox_import_count_t));
    return status;
}


/* Adds id to the contacts changed, up to one more than are pushed each. */
static void
inbox_sqlite_import_changed(inbox_sqlite_import_changed_t *changed,
    size_t *n, int64_t id, unsigned did)
{
    size_t  i;

    for (i = 0; i < *n; i++) {
        if (changed[i].id == id) {
            changed[i].changed |= did;
            return;
        }
    }

    if (*n <= INBOX_IMPORT_EVENTS_MAX) {
        changed[*n].id = id;
        changed[*n].changed = did;
        (*n)++;
    }
}


/* The batch's events (inbox_import_push_each), stored in its transaction
 * and handed to events, which the caller takes back if it fails. */
static inbox_status_t
inbox_sqlite_import_events(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_sqlite_import_changed_t *changed, size_t n, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    char                    org_text[INBOX_ID_MAX];
    size_t                  i;
    inbox_change_t          change;
    inbox_status_t          status;
    inbox_conversation_t    conversation;
    inbox_contact_record_t  contact;

    if (n == 0) {
        return INBOX_OK;
    }

    inbox_sqlite_format_id(org, org_text);

    if (!inbox_import_push_each(n)) {
        inbox_change_imported(&change);

        status = inbox_sqlite_events_record(conn, org, &change, now, err);
        if (status == INBOX_OK
            && inbox_change_push(&change, org_text, events) != 0)
        {
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "Out of memory.");
        }

        inbox_change_free(&change);
        return status;
    }

    status = INBOX_OK;

    for (i = 0; i < n && status == INBOX_OK; i++) {
        memset(&change, 0, sizeof(inbox_change_t));
        memset(&conversation, 0, sizeof(inbox_conversation_t));
        memset(&contact, 0, sizeof(inbox_contact_record_t));

        status = inbox_sqlite_contact_load(conn, org, changed[i].id,
                                           &contact, err);

        if (status == INBOX_OK) {
            status = inbox_sqlite_conversation_load(conn, org,
                         strtoll(contact.conversation_id, NULL, 10),
                         &conversation, err);
        }

        if (status == INBOX_OK) {
            inbox_change_contact(&change, &contact, &conversation,
                                 changed[i].changed);

            status = inbox_sqlite_events_record(conn, org, &change, now,
                                                err);
        }

        if (status == INBOX_OK
            && inbox_change_push(&change, org_text, events) != 0)
        {
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "Out of memory.");
        }

        inbox_change_free(&change);
        inbox_conversation_free(&conversation);
        inbox_contact_record_free(&contact);
    }

    return status;
}


/*
 * The organization's tags: its rows of tag_counts (migration 30), one
 * a tag in NOCASE (as audiences match them), spelled as the contact made
 * first spells it, with their counts, which triggers keep in the
 * transaction of every change to a tag or an opt-out.  The rows come in
 * key order, so LIMIT ends the read: it costs the tags shown, not the
 * contacts tagged.
 */
inbox_status_t
inbox_sqlite_tags_list(inbox_store_t *store, const char *org_id, size_t max,
    inbox_tag_page_t *page, inbox_error_t *err)
{
    int                   rc;
    int64_t               org;
    const char           *tag;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_tag_count_t    *t;
    inbox_sqlite_conn_t  *conn;

    if (inbox_sqlite_parse_id(org_id, &org) != 0) {
        return inbox_error_not_found(err, "organization");
    }

    page->items = calloc(max > 0 ? max : 1, sizeof(inbox_tag_count_t));
    if (page->items == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TAGS_LIST,
        "SELECT tag, contacts, sendable FROM tag_counts"
        " WHERE org_id = ?1 ORDER BY tag LIMIT ?2", err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    /* one more tells whether there are others */
    sqlite3_bind_int64(stmt, 2, (int64_t) max + 1);

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (page->count == max) {
            page->more = 1;
            break;
        }

        tag = (const char *) sqlite3_column_text(stmt, 0);
        t = &page->items[page->count++];
        snprintf(t->tag, sizeof(t->tag), "%s", tag != NULL ? tag : "");
        t->contacts = sqlite3_column_int64(stmt, 1);
        t->sendable = sqlite3_column_int64(stmt, 2);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        inbox_sqlite_rollback(conn);
        return status;
    }

    return inbox_sqlite_commit(conn, err);
}
