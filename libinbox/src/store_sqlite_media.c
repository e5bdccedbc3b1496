/*
 * The SQLite backend: uploads (media) and the copies of inbound MMS
 * images (message_media's state, fetch_at and attempts; migration 10).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include "store_sqlite.h"


static inbox_status_t inbox_sqlite_media_settle(inbox_store_t *store,
    const char *message_id, unsigned idx, inbox_sql_id_t sql_id,
    const char *sql, const char *file, const char *content_type,
    int64_t bytes, int64_t retry_at, inbox_event_list_t *events,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_media_retype_thread(
    inbox_sqlite_conn_t *conn, int64_t org, int64_t id,
    const inbox_message_t *message, const char *content_type,
    inbox_conversation_t *conversation, int *retyped, inbox_error_t *err);


inbox_status_t
inbox_sqlite_media_add(inbox_store_t *store, const char *org_id,
    inbox_media_record_t *media, inbox_error_t *err)
{
    int                   rc;
    int64_t               org;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    media->created_at = inbox_now_ms();

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_ADD,
        "INSERT INTO media (org_id, file, content_type, bytes, created_at)"
        " SELECT id, ?2, ?3, ?4, ?5 FROM orgs WHERE id = ?1"
        " RETURNING id", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, media->file);
    inbox_sqlite_bind_text(stmt, 3, media->content_type);
    sqlite3_bind_int64(stmt, 4, media->bytes);
    sqlite3_bind_int64(stmt, 5, media->created_at);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), media->id);
        rc = sqlite3_step(stmt);

    } else if (rc == SQLITE_DONE) {
        inbox_sqlite_done(stmt);
        status = inbox_error_org_unknown(err, org_id);
        goto failed;
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_write_fail(conn, rc, "the file name", org_id,
                                         err);
        goto failed;
    }

    return inbox_sqlite_commit(conn, err);

failed:

    inbox_sqlite_rollback(conn);
    media->id[0] = '\0';
    return status;
}


inbox_status_t
inbox_sqlite_media_get(inbox_store_t *store, const char *org_id,
    const char *const *ids, size_t n, inbox_media_record_t *media,
    inbox_error_t *err)
{
    int                   rc;
    size_t                i;
    int64_t               org, id;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    for (i = 0; i < n; i++) {

        /* another organization's id is as unknown as a made-up one */
        if (inbox_sqlite_parse_id(ids[i], &id) != 0) {
            status = inbox_error_set_field(err, INBOX_ERR_NOT_FOUND,
                                           "media_ids",
                                           "There is no image with the id "
                                           "\"%.32s\".", ids[i]);
            goto failed;
        }

        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_GET,
            "SELECT file, content_type, bytes, created_at FROM media"
            " WHERE id = ?1 AND org_id = ?2 AND purging_at IS NULL", err);
        if (stmt == NULL) {
            status = err->code;
            goto failed;
        }

        sqlite3_bind_int64(stmt, 1, id);
        sqlite3_bind_int64(stmt, 2, org);

        rc = sqlite3_step(stmt);

        if (rc == SQLITE_ROW) {
            inbox_sqlite_format_id(id, media[i].id);
            inbox_sqlite_column_copy(stmt, 0, media[i].file,
                                     sizeof(media[i].file));
            inbox_sqlite_column_copy(stmt, 1, media[i].content_type,
                                     sizeof(media[i].content_type));
            media[i].bytes = sqlite3_column_int64(stmt, 2);
            media[i].created_at = sqlite3_column_int64(stmt, 3);
        }

        inbox_sqlite_done(stmt);

        if (rc == SQLITE_DONE) {
            status = inbox_error_set_field(err, INBOX_ERR_NOT_FOUND,
                                           "media_ids",
                                           "There is no image with the id "
                                           "\"%.32s\".", ids[i]);
            goto failed;
        }

        if (rc != SQLITE_ROW) {
            status = inbox_sqlite_fail(conn, rc, err);
            goto failed;
        }
    }

    return inbox_sqlite_commit(conn, err);

failed:

    inbox_sqlite_rollback(conn);

    /* those found before the unknown one are kept: it is the first empty */
    if (status != INBOX_ERR_NOT_FOUND) {
        memset(media, 0, n * sizeof(inbox_media_record_t));
    }

    return status;
}


inbox_status_t
inbox_sqlite_media_attach(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_media_t *media, size_t n, inbox_error_t *err)
{
    size_t         i;
    sqlite3_stmt  *stmt;

    for (i = 0; i < n; i++) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_ATTACH,
            "UPDATE media SET attached = 1 WHERE file = ?1 AND org_id = ?2"
            " AND purging_at IS NULL", err);
        if (stmt == NULL) {
            return err->code;
        }

        inbox_sqlite_bind_text(stmt, 1, media[i].file);
        sqlite3_bind_int64(stmt, 2, org);

        if (!inbox_sqlite_step_done(stmt)) {
            return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        }

        /* purged (or being purged) since the request read it: nothing
         * may name its file */
        if (sqlite3_changes(conn->db) == 0) {
            return inbox_media_gone(i, err);
        }
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_media_release(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t campaign, int64_t now, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_RELEASE,
        "UPDATE media SET attached = 0, released_at = ?3"
        " WHERE org_id = ?1 AND file IN (SELECT file FROM campaign_media"
        " WHERE campaign_id = ?2)", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, campaign);
    sqlite3_bind_int64(stmt, 3, now);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* The purge's window: the oldest max (?2) uploads nothing attached since
 * before (?1), neither uploaded nor released after it, nor marked
 * purging already; and whether a message (an outbound one: an inbound
 * copy is no upload) or a campaign names the file of one (w) after
 * all. */
#define INBOX_SQLITE_MEDIA_DUE                                                \
    "SELECT id, file FROM media WHERE attached = 0 AND created_at < ?1"       \
    " AND (released_at IS NULL OR released_at < ?1)"                          \
    " AND purging_at IS NULL ORDER BY created_at LIMIT ?2"
#define INBOX_SQLITE_MEDIA_NAMED(w)                                           \
    "(EXISTS (SELECT 1 FROM message_media WHERE file = " w ".file)"           \
    " OR EXISTS (SELECT 1 FROM campaign_media WHERE file = " w ".file))"


static inbox_status_t inbox_sqlite_media_files(inbox_sqlite_conn_t *conn,
    sqlite3_stmt *stmt, size_t max, char (*files)[INBOX_MEDIA_FILE_MAX],
    size_t *n, inbox_error_t *err);


/*
 * The purge's first phase, in one write transaction: the uploads a round
 * left marked (it died, or an unlink or its delete failed), then, of the
 * window, those something names (an upload a draft's edit dropped that
 * a reply or another campaign uses too) attached again and those
 * nothing names marked, all their files handed back; each statement
 * reads at most max uploads and looks up two indexes for each, so the
 * write lock is short.  As the other purges, index seeks on this
 * thread's reader first, since mostly none is due.
 */
inbox_status_t
inbox_sqlite_media_purge(inbox_store_t *store, int64_t now, int64_t before,
    size_t max, char (*files)[INBOX_MEDIA_FILE_MAX], size_t *marked,
    inbox_error_t *err)
{
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_purge_begin(store, INBOX_SQL_MEDIA_UNATTACHED,
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM media"
        " WHERE purging_at IS NOT NULL)"
        " OR EXISTS (SELECT 1 FROM media WHERE attached = 0"
        " AND created_at < ?1 AND (released_at IS NULL OR released_at < ?1)"
        " AND purging_at IS NULL)",
        before, &conn, err);
    if (status != INBOX_OK || conn == NULL) {
        return status;
    }

    /* those a round left marked come first: their files may be there */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_PURGING,
        "SELECT file FROM media WHERE purging_at IS NOT NULL"
        " ORDER BY purging_at LIMIT ?1", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, (int64_t) max);

    status = inbox_sqlite_media_files(conn, stmt, max, files, marked, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    if (*marked == max) {
        return inbox_sqlite_commit(conn, err);
    }

    /* under the write lock: a reply or an edit that attaches one waits,
     * then finds it gone, or it went first and this leaves it */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_NAMED,
        "UPDATE media SET attached = 1 WHERE id IN (SELECT w.id FROM ("
        INBOX_SQLITE_MEDIA_DUE ") w WHERE " INBOX_SQLITE_MEDIA_NAMED("w")
        ")", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, before);
    sqlite3_bind_int64(stmt, 2, (int64_t) (max - *marked));

    if (!inbox_sqlite_step_done(stmt)) {
        status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        goto failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_MARK,
        "UPDATE media SET purging_at = ?3 WHERE id IN (SELECT w.id FROM ("
        INBOX_SQLITE_MEDIA_DUE ") w WHERE NOT "
        INBOX_SQLITE_MEDIA_NAMED("w") ") RETURNING file", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, before);
    sqlite3_bind_int64(stmt, 2, (int64_t) (max - *marked));
    sqlite3_bind_int64(stmt, 3, now);

    status = inbox_sqlite_media_files(conn, stmt, max, files, marked, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_commit(conn, err);
    if (status == INBOX_OK) {
        return INBOX_OK;
    }

    *marked = 0;
    return status;

failed:

    inbox_sqlite_rollback(conn);
    *marked = 0;
    return status;
}


/* The files stmt's rows name (its first column), after the *n of files
 * already there, up to max in all; stmt is done after. */
static inbox_status_t
inbox_sqlite_media_files(inbox_sqlite_conn_t *conn, sqlite3_stmt *stmt,
    size_t max, char (*files)[INBOX_MEDIA_FILE_MAX], size_t *n,
    inbox_error_t *err)
{
    int  rc;

    rc = SQLITE_DONE;

    while (*n < max && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        inbox_sqlite_column_copy(stmt, 0, files[*n], INBOX_MEDIA_FILE_MAX);
        (*n)++;
    }

    /* an UPDATE ... RETURNING runs whole: step it to its end */
    while (rc == SQLITE_ROW) {
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


/* The purge's second phase: the records of the files gone, in one write
 * transaction, those still marked only (another round's may have gone
 * first). */
inbox_status_t
inbox_sqlite_media_purge_done(inbox_store_t *store,
    char (*files)[INBOX_MEDIA_FILE_MAX], size_t n, inbox_error_t *err)
{
    size_t                i;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    for (i = 0; i < n; i++) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_PURGE,
            "DELETE FROM media WHERE file = ?1 AND purging_at IS NOT NULL",
            err);
        if (stmt == NULL) {
            status = err->code;
            goto failed;
        }

        inbox_sqlite_bind_text(stmt, 1, files[i]);

        if (!inbox_sqlite_step_done(stmt)) {
            status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
            goto failed;
        }
    }

    return inbox_sqlite_commit(conn, err);

failed:

    inbox_sqlite_rollback(conn);
    return status;
}


/*
 * Which files a record names, in one read: the names bound as a JSON
 * array (media.h's names need no escaping), each looked up in the
 * indexes on media.file (unique), message_media_file and
 * campaign_media_file; the rows are the array's places named.
 */
inbox_status_t
inbox_sqlite_media_files_named(inbox_store_t *store,
    char (*files)[INBOX_MEDIA_FILE_MAX], size_t n, unsigned char *named,
    inbox_error_t *err)
{
    int                   rc;
    char                 *json, *p;
    size_t                i;
    int64_t               at;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    /* "[", each name quoted and its comma, "]" */
    json = malloc(n * (INBOX_MEDIA_FILE_MAX + 3) + 3);
    if (json == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    p = json;
    *p++ = '[';

    for (i = 0; i < n; i++) {
        p += sprintf(p, i ? ",\"%s\"" : "\"%s\"", files[i]);
    }

    *p++ = ']';
    *p = '\0';

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        free(json);
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        free(json);
        return status;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_FILES_NAMED,
        "SELECT f.key FROM json_each(?1) f"
        " WHERE EXISTS (SELECT 1 FROM media m WHERE m.file = f.value)"
        " OR EXISTS (SELECT 1 FROM message_media mm"
        " WHERE mm.file = f.value)"
        " OR EXISTS (SELECT 1 FROM campaign_media cm"
        " WHERE cm.file = f.value)", err);
    if (stmt == NULL) {
        free(json);
        status = err->code;
        goto failed;
    }

    sqlite3_bind_text(stmt, 1, json, (int) (p - json), free);

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        at = sqlite3_column_int64(stmt, 0);

        if (at >= 0 && (size_t) at < n) {
            named[at] = 1;
        }
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    return inbox_sqlite_commit(conn, err);

failed:

    inbox_sqlite_rollback(conn);
    memset(named, 0, n);
    return status;
}


/*
 * The due ones, oldest first (the partial index message_media_due walks
 * them in that order), each with the first number of its organization on
 * the message's carrier; then each is leased.
 */
inbox_status_t
inbox_sqlite_media_fetch_claim(inbox_store_t *store, int64_t now,
    int64_t lease_until, unsigned limit, inbox_media_fetch_list_t *list,
    inbox_error_t *err)
{
    int                   rc, oom;
    size_t                i;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_media_fetch_t  *item;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    list->items = calloc(limit, sizeof(inbox_media_fetch_t));
    if (list->items == NULL) {
        inbox_sqlite_rollback(conn);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_DUE,
        "SELECT mm.message_id, mm.idx, mm.url, mm.content_type,"
        " mm.attempts, m.org_id, n.e164, n.carrier, n.account_sid,"
        " n.auth_token, n.public_key, n.api_key, n.api_base"
        " FROM message_media mm"
        " JOIN messages m ON m.id = mm.message_id"
        " LEFT JOIN numbers n ON n.id = coalesce("
        "   (SELECT id FROM numbers WHERE id = mm.number_id"
        "     AND org_id = m.org_id AND carrier = m.provider),"
        "   (SELECT id FROM numbers"
        "     WHERE org_id = m.org_id AND carrier = m.provider"
        "     ORDER BY id LIMIT 1))"
        " WHERE mm.state = 'pending' AND mm.fetch_at <= ?1"
        " ORDER BY mm.fetch_at LIMIT ?2", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, now);
    sqlite3_bind_int64(stmt, 2, limit);

    oom = 0;
    rc = SQLITE_DONE;

    while (list->count < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        item = &list->items[list->count++];

        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0),
                               item->message_id);
        item->idx = (unsigned) sqlite3_column_int(stmt, 1);
        inbox_sqlite_column_copy(stmt, 2, item->url, sizeof(item->url));
        inbox_sqlite_column_copy(stmt, 3, item->content_type,
                                 sizeof(item->content_type));
        item->attempts = (unsigned) sqlite3_column_int(stmt, 4) + 1;
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 5), item->org_id);

        /* no number of that carrier any more: no credentials */
        memcpy(item->number.org_id, item->org_id, INBOX_ID_MAX);
        inbox_sqlite_number_columns(stmt, 6, &item->number, &oom);

        if (oom) {
            break;
        }
    }

    if (list->count == limit || oom) {
        rc = SQLITE_DONE;
    }

    inbox_sqlite_done(stmt);

    if (oom) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto failed;
    }

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    for (i = 0; i < list->count; i++) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_LEASE,
            "UPDATE message_media SET fetch_at = ?3, attempts = attempts + 1"
            " WHERE message_id = ?1 AND idx = ?2", err);
        if (stmt == NULL) {
            status = err->code;
            goto failed;
        }

        sqlite3_bind_int64(stmt, 1,
                           strtoll(list->items[i].message_id, NULL, 10));
        sqlite3_bind_int(stmt, 2, (int) list->items[i].idx);
        sqlite3_bind_int64(stmt, 3, lease_until);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            status = inbox_sqlite_fail(conn, rc, err);
            goto failed;
        }
    }

    status = inbox_sqlite_commit(conn, err);
    if (status == INBOX_OK) {
        return INBOX_OK;
    }

    inbox_media_fetch_list_free(list);
    return status;

failed:

    inbox_sqlite_rollback(conn);
    inbox_media_fetch_list_free(list);
    return status;
}


inbox_status_t
inbox_sqlite_media_fetch_done(inbox_store_t *store, const char *message_id,
    unsigned idx, const char *file, const char *content_type, int64_t bytes,
    inbox_event_list_t *events, inbox_error_t *err)
{
    return inbox_sqlite_media_settle(store, message_id, idx,
        INBOX_SQL_MEDIA_DONE,
        "UPDATE message_media SET state = 'stored', file = ?3,"
        " content_type = ?4, bytes = ?5, fetch_at = 0"
        " WHERE message_id = ?1 AND idx = ?2 AND state = 'pending'",
        file, content_type, bytes, 0, events, err);
}


inbox_status_t
inbox_sqlite_media_fetch_failed(inbox_store_t *store, const char *message_id,
    unsigned idx, int64_t retry_at, inbox_event_list_t *events,
    inbox_error_t *err)
{
    /* ?6: when to try again, or 0: never */
    return inbox_sqlite_media_settle(store, message_id, idx,
        INBOX_SQL_MEDIA_FAILED,
        "UPDATE message_media"
        " SET state = CASE WHEN ?6 > 0 THEN 'pending' ELSE 'failed' END,"
        " fetch_at = CASE WHEN ?6 > 0 THEN ?6 ELSE 0 END"
        " WHERE message_id = ?1 AND idx = ?2 AND state = 'pending'",
        NULL, NULL, 0, retry_at, events, err);
}


/* ?6: due_at, never 0 (store.c), so the media stays pending and nothing
 * is pushed; one never claimed has no attempt to take back */
inbox_status_t
inbox_sqlite_media_fetch_give_back(inbox_store_t *store,
    const char *message_id, unsigned idx, int64_t due_at, inbox_error_t *err)
{
    return inbox_sqlite_media_settle(store, message_id, idx,
        INBOX_SQL_MEDIA_GIVE_BACK,
        "UPDATE message_media SET fetch_at = ?6, attempts = attempts - 1"
        " WHERE message_id = ?1 AND idx = ?2 AND state = 'pending'"
        " AND attempts > 0",
        NULL, NULL, 0, due_at, NULL, err);
}


/*
 * One media's new state in one transaction, by sql (?1 message, ?2 idx,
 * ?3 file, ?4 content_type, ?5 bytes, ?6 retry_at); unless it stays
 * pending, message.updated with the message as it is then.
 */
static inbox_status_t
inbox_sqlite_media_settle(inbox_store_t *store, const char *message_id,
    unsigned idx, inbox_sql_id_t sql_id, const char *sql, const char *file,
    const char *content_type, int64_t bytes, int64_t retry_at,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   rc, changed, exists, retyped;
    char                  org_text[INBOX_ID_MAX];
    int64_t               id, org;
    sqlite3_stmt         *stmt;
    inbox_change_t        change;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_message_t       message;
    inbox_sqlite_conn_t  *conn;
    inbox_conversation_t  conversation;

    if (err == NULL) {
        err = &fallback;
    }

    memset(&change, 0, sizeof(inbox_change_t));
    memset(&message, 0, sizeof(inbox_message_t));
    memset(&conversation, 0, sizeof(inbox_conversation_t));
    org = 0;

    if (inbox_sqlite_parse_id(message_id, &id) != 0) {
        return inbox_error_not_found(err, "message");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, sql_id, sql, err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int(stmt, 2, (int) idx);
    inbox_sqlite_bind_text(stmt, 3, file);
    inbox_sqlite_bind_text(stmt, 4, content_type);
    sqlite3_bind_int64(stmt, 5, bytes);
    sqlite3_bind_int64(stmt, 6, retry_at);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    changed = sqlite3_changes(conn->db);

    if (!changed) {
        /* no such media, or settled already */
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_STATE,
            "SELECT 1 FROM message_media WHERE message_id = ?1 AND idx = ?2",
            err);
        if (stmt == NULL) {
            status = err->code;
            goto failed;
        }

        sqlite3_bind_int64(stmt, 1, id);
        sqlite3_bind_int(stmt, 2, (int) idx);

        rc = sqlite3_step(stmt);
        exists = (rc == SQLITE_ROW);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            status = inbox_sqlite_fail(conn, rc, err);

        } else if (exists) {
            status = inbox_error_set(err, INBOX_ERR_CONFLICT,
                                     "This image has a copy already, or "
                                     "was given up.");
        } else {
            status = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                     "There is no such image.");
        }

        goto failed;
    }

    if (retry_at > 0) {
        /* still pending: nothing a browser shows changed */
        return inbox_sqlite_commit(conn, err);
    }

    status = inbox_sqlite_message_get(conn, id, &org, &message, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    retyped = 0;

    if (content_type != NULL && idx == 0) {
        status = inbox_sqlite_media_retype_thread(conn, org, id, &message,
                                                  content_type, &conversation,
                                                  &retyped, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    inbox_change_media(&change, &message, retyped ? &conversation : NULL);

    status = inbox_sqlite_events_record(conn, org, &change, inbox_now_ms(),
                                        err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_commit(conn, err);

    if (status == INBOX_OK) {
        inbox_sqlite_format_id(org, org_text);

        if (inbox_change_push(&change, org_text, events) != 0) {
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "Out of memory.");
        }
    }

    inbox_change_free(&change);
    inbox_message_free(&message);
    inbox_conversation_free(&conversation);

    return status;

failed:

    inbox_sqlite_rollback(conn);
    inbox_change_free(&change);
    inbox_message_free(&message);
    inbox_conversation_free(&conversation);

    return status;
}


/*
 * The copy of message's first attachment is content_type: when message is
 * its thread's last one, the thread's list row says so from now on
 * (*retyped, and the thread as it is then in *conversation), unless it
 * said so already or the copy's type says less
 * (inbox_preview_copy_type).
 */
static inbox_status_t
inbox_sqlite_media_retype_thread(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t id, const inbox_message_t *message, const char *content_type,
    inbox_conversation_t *conversation, int *retyped, inbox_error_t *err)
{
    int            rc;
    char           plain[INBOX_CONTENT_TYPE_MAX];
    int64_t        conversation_id;
    sqlite3_stmt  *stmt;

    if (inbox_sqlite_parse_id(message->conversation_id, &conversation_id)
        != 0)
    {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "The message has no conversation.");
    }

    if (!inbox_preview_copy_type(content_type, plain, sizeof(plain))) {
        return INBOX_OK;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MEDIA_RETYPE_THREAD,
        "UPDATE conversations SET last_media_type = ?3"
        " WHERE id = ?1 AND last_message_id = ?2"
        " AND last_media_type IS NOT ?3", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, conversation_id);
    sqlite3_bind_int64(stmt, 2, id);
    inbox_sqlite_bind_text(stmt, 3, plain);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (sqlite3_changes(conn->db) == 0) {
        return INBOX_OK;
    }

    *retyped = 1;

    return inbox_sqlite_conversation_load(conn, org, conversation_id,
                                          conversation, err);
}


/* One message by id, with its media, and its organization. */
inbox_status_t
inbox_sqlite_message_get(inbox_sqlite_conn_t *conn, int64_t id,
    int64_t *org, inbox_message_t *m, inbox_error_t *err)
{
    int            rc, oom;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MESSAGE_GET,
        "SELECT org_id, conversation_id, " INBOX_SQLITE_MESSAGE_COLUMNS
        " FROM messages WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);

    *org = 0;

    rc = sqlite3_step(stmt);

    if (rc != SQLITE_ROW) {
        inbox_sqlite_done(stmt);

        if (rc == SQLITE_DONE) {
            return inbox_error_not_found(err, "message");
        }

        return inbox_sqlite_fail(conn, rc, err);
    }

    oom = 0;

    *org = sqlite3_column_int64(stmt, 0);
    inbox_sqlite_format_id(id, m->id);
    inbox_sqlite_format_id(sqlite3_column_int64(stmt, 1), m->conversation_id);
    inbox_sqlite_message_columns(stmt, 2, m, &oom);

    inbox_sqlite_done(stmt);

    if (oom) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return inbox_sqlite_media_read(conn, id, m, err);
}
