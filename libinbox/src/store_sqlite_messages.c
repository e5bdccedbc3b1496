/*
 * The SQLite backend: a conversation's messages, newest first, with their
 * media.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "store_sqlite.h"


void
inbox_sqlite_message_columns(sqlite3_stmt *stmt, int first,
    inbox_message_t *m, int *oom)
{
    const char  *direction;

    direction = (const char *) sqlite3_column_text(stmt, first);
    m->direction = (direction && strcmp(direction, "outbound") == 0)
                   ? INBOX_OUTBOUND : INBOX_INBOUND;

    m->body = inbox_sqlite_column_strdup(stmt, first + 1, oom);
    inbox_sqlite_column_copy(stmt, first + 2, m->status, sizeof(m->status));
    inbox_sqlite_column_copy(stmt, first + 3, m->error_code,
                             sizeof(m->error_code));
    m->segments = (unsigned) sqlite3_column_int(stmt, first + 4);
    m->credits = (unsigned) sqlite3_column_int(stmt, first + 5);
    m->created_at = sqlite3_column_int64(stmt, first + 6);

    if (sqlite3_column_type(stmt, first + 7) != SQLITE_NULL) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, first + 7),
                               m->sent_by);
    }

    if (sqlite3_column_type(stmt, first + 8) != SQLITE_NULL) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, first + 8),
                               m->campaign_id);
    }

    inbox_sqlite_column_copy(stmt, first + 9, m->campaign_kind,
                             sizeof(m->campaign_kind));

    if (sqlite3_column_type(stmt, first + 10) != SQLITE_NULL) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, first + 10),
                               m->resent_as);
        m->resent_at = sqlite3_column_int64(stmt, first + 11);
    }
}


inbox_status_t
inbox_sqlite_media_read(inbox_sqlite_conn_t *conn, int64_t message,
    inbox_message_t *m, inbox_error_t *err)
{
    int            rc;
    const char    *state;
    sqlite3_stmt  *stmt;
    inbox_media_t *media;

    /* an outbound message's file is its upload's (media.file is
     * unique, and an upload a message names is never purged); an
     * inbound copy's is no upload's */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MESSAGE_MEDIA,
        "SELECT mm.url, mm.content_type, mm.state, mm.file, mm.bytes,"
        "  u.id"
        " FROM message_media mm LEFT JOIN media u ON u.file = mm.file"
        " WHERE mm.message_id = ?1 ORDER BY mm.idx", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        media = realloc(m->media, (m->media_count + 1) * sizeof(inbox_media_t));
        if (media == NULL) {
            inbox_sqlite_done(stmt);
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }

        m->media = media;
        media = &m->media[m->media_count++];
        memset(media, 0, sizeof(inbox_media_t));

        inbox_sqlite_column_copy(stmt, 0, media->url, sizeof(media->url));
        inbox_sqlite_column_copy(stmt, 1, media->content_type,
                                 sizeof(media->content_type));
        state = (const char *) sqlite3_column_text(stmt, 2);
        (void) inbox_media_state_parse(state, &media->state);
        inbox_sqlite_column_copy(stmt, 3, media->file, sizeof(media->file));
        media->bytes = sqlite3_column_int64(stmt, 4);

        if (sqlite3_column_type(stmt, 5) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 5),
                                   media->upload_id);
        }
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_messages_list(inbox_store_t *store, const char *org_id,
    const char *conversation_id, const char *cursor, unsigned limit,
    inbox_message_page_t *page, inbox_error_t *err)
{
    int                   rc, oom, found;
    int64_t               org, conversation, at, id, last_id;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_message_t      *items, *m;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    memset(page, 0, sizeof(inbox_message_page_t));

    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(conversation_id, &conversation) != 0)
    {
        return inbox_error_not_found(err, "conversation");
    }

    at = INT64_MAX;
    id = INT64_MAX;

    if (cursor != NULL && cursor[0] != '\0'
        && inbox_sqlite_cursor_decode(cursor, &at, &id) != 0)
    {
        return inbox_error_cursor(err);
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONVERSATION_OWNED,
        "SELECT 1 FROM conversations WHERE id = ?1 AND org_id = ?2", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, conversation);
    sqlite3_bind_int64(stmt, 2, org);

    rc = sqlite3_step(stmt);
    found = (rc == SQLITE_ROW);
    inbox_sqlite_done(stmt);

    if (!found) {
        status = (rc == SQLITE_DONE)
                 ? inbox_error_not_found(err, "conversation")
                 : inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    items = calloc(limit, sizeof(inbox_message_t));
    if (items == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto failed;
    }

    page->items = items;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MESSAGES_PAGE,
        "SELECT id, " INBOX_SQLITE_MESSAGE_COLUMNS " FROM messages"
        " WHERE conversation_id = ?1 AND (created_at, id) < (?2, ?3)"
        " ORDER BY created_at DESC, id DESC LIMIT ?4", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, conversation);
    sqlite3_bind_int64(stmt, 2, at);
    sqlite3_bind_int64(stmt, 3, id);
    sqlite3_bind_int64(stmt, 4, (int64_t) limit + 1);

    last_id = 0;
    oom = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {

        if (page->count == limit) {
            inbox_sqlite_cursor_encode(items[limit - 1].created_at, last_id,
                                       page->next_cursor);
            break;
        }

        m = &items[page->count++];
        last_id = sqlite3_column_int64(stmt, 0);

        inbox_sqlite_format_id(last_id, m->id);
        inbox_sqlite_format_id(conversation, m->conversation_id);
        inbox_sqlite_message_columns(stmt, 1, m, &oom);

        if (oom) {
            break;
        }
    }

    inbox_sqlite_done(stmt);

    if (oom) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto failed;
    }

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    /* the media after the page's statement is done, one message at a time */
    for (m = items; m < items + page->count; m++) {
        status = inbox_sqlite_media_read(conn, strtoll(m->id, NULL, 10), m,
                                         err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    return inbox_sqlite_commit(conn, err);

failed:

    inbox_sqlite_rollback(conn);
    return status;
}
