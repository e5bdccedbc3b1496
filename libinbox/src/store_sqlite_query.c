/*
 * The SQLite backend: the conversation list (filters, search, keyset
 * pages), one conversation, and a conversation's messages.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/phone.h>
#include "store_sqlite.h"


#define INBOX_SQLITE_SEARCH_MAX  128


static unsigned inbox_sqlite_limit(unsigned limit);
static inbox_status_t inbox_sqlite_unread_total(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t *total, inbox_error_t *err);
static inbox_status_t inbox_sqlite_media_read(inbox_sqlite_conn_t *conn,
    int64_t message, inbox_message_t *m, inbox_error_t *err);


/*
 * One statement per filter, each on its own index (the sparse filters on
 * partial indexes, named so the planner cannot pick a long scan instead).
 * The keyset condition is always there (the first page starts above every
 * row); ?4 is the lower-cased search term, ?5 its digits (NULL when none).
 */
#define INBOX_SQLITE_LIST_SQL(index, filter)                                  \
    INBOX_SQLITE_CONVERSATION_COLUMNS                                        \
    " FROM conversations c " index                                           \
    " JOIN contacts ct ON ct.id = c.contact_id"                              \
    " WHERE c.org_id = ?1 AND " filter                                       \
    " AND (c.last_activity_at, c.id) < (?2, ?3)"                             \
    " AND (?4 IS NULL OR instr(lower(ct.name), ?4) > 0"                      \
    "      OR (?5 IS NOT NULL AND instr(substr(ct.phone, 2), ?5) > 0))"      \
    " ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?6"

static const char  *inbox_sqlite_list_sql[] = {
    /* INBOX_FILTER_ALL */
    INBOX_SQLITE_LIST_SQL("INDEXED BY conversations_by_activity",
                          "c.archived = 0"),
    /* INBOX_FILTER_UNREAD */
    INBOX_SQLITE_LIST_SQL("INDEXED BY conversations_unread",
                          "c.unread_count > 0 AND c.archived = 0"),
    /* INBOX_FILTER_UNRESPONDED */
    INBOX_SQLITE_LIST_SQL("INDEXED BY conversations_by_activity",
                          "c.archived = 0 AND c.last_direction = 'inbound'"),
    /* INBOX_FILTER_STARRED */
    INBOX_SQLITE_LIST_SQL("INDEXED BY conversations_starred",
                          "c.starred = 1 AND c.archived = 0"),
    /* INBOX_FILTER_ARCHIVED */
    INBOX_SQLITE_LIST_SQL("INDEXED BY conversations_by_activity",
                          "c.archived = 1")
};


static unsigned
inbox_sqlite_limit(unsigned limit)
{
    if (limit == 0) {
        return INBOX_LIST_LIMIT_DEFAULT;
    }

    return limit > INBOX_LIST_LIMIT_MAX ? INBOX_LIST_LIMIT_MAX : limit;
}


inbox_status_t
inbox_sqlite_conversation_read(sqlite3_stmt *stmt,
    inbox_conversation_t *c, inbox_error_t *err)
{
    int          oom;
    const char  *direction;

    memset(c, 0, sizeof(inbox_conversation_t));
    oom = 0;

    inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), c->id);
    inbox_sqlite_format_id(sqlite3_column_int64(stmt, 1), c->contact.id);
    c->contact.name = inbox_sqlite_column_strdup(stmt, 2, &oom);
    inbox_sqlite_column_copy(stmt, 3, c->contact.phone,
                             sizeof(c->contact.phone));
    c->contact.opted_out = sqlite3_column_int(stmt, 4);

    if (sqlite3_column_type(stmt, 5) != SQLITE_NULL) {
        c->has_last_message = 1;
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 5),
                               c->last_message.id);

        direction = (const char *) sqlite3_column_text(stmt, 6);
        c->last_message.direction =
            (direction && strcmp(direction, "outbound") == 0)
            ? INBOX_OUTBOUND : INBOX_INBOUND;

        inbox_sqlite_column_copy(stmt, 7, c->last_message.preview,
                                 sizeof(c->last_message.preview));
        c->last_message.at = sqlite3_column_int64(stmt, 8);
    }

    c->last_activity_at = sqlite3_column_int64(stmt, 9);
    c->unread_count = sqlite3_column_int64(stmt, 10);
    c->archived = sqlite3_column_int(stmt, 11);
    c->starred = sqlite3_column_int(stmt, 12);

    if (oom) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    return INBOX_OK;
}


static inbox_status_t
inbox_sqlite_unread_total(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t *total, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_UNREAD_TOTAL,
                             INBOX_SQLITE_UNREAD_TOTAL_SQL, err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        *total = sqlite3_column_int64(stmt, 0);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_conversations_list(inbox_store_t *store, const char *org_id,
    const inbox_conversation_query_t *query, inbox_conversation_page_t *page,
    inbox_error_t *err)
{
    int                   rc;
    char                  search[INBOX_SQLITE_SEARCH_MAX];
    char                  digits[INBOX_SQLITE_SEARCH_MAX];
    size_t                i, len;
    int64_t               org, at, id, last_id;
    unsigned              limit;
    sqlite3_stmt         *stmt;
    inbox_filter_t        filter;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;
    inbox_conversation_t *items;

    if (err == NULL) {
        err = &fallback;
    }

    memset(page, 0, sizeof(inbox_conversation_page_t));

    if (inbox_sqlite_parse_id(org_id, &org) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "no such organization");
    }

    filter = query->filter;
    if ((unsigned) filter > INBOX_FILTER_ARCHIVED) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "filter",
                                     "unknown filter");
    }

    at = INT64_MAX;
    id = INT64_MAX;

    if (query->cursor != NULL && query->cursor[0] != '\0'
        && inbox_sqlite_cursor_decode(query->cursor, &at, &id) != 0)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "cursor",
                                     "the cursor is not one this list "
                                     "gave; start again without it");
    }

    search[0] = '\0';
    digits[0] = '\0';

    if (query->q != NULL && query->q[0] != '\0') {
        len = strlen(query->q);
        if (len >= sizeof(search)) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "q",
                                         "the search is too long");
        }

        /* lower() in SQLite folds ASCII only; do the same here */
        for (i = 0; i <= len; i++) {
            search[i] = (char) tolower((unsigned char) query->q[i]);
        }

        inbox_phone_digits(query->q, len, digits, sizeof(digits));
    }

    limit = inbox_sqlite_limit(query->limit);

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* the items and the unread total from one snapshot */
    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = inbox_sqlite_unread_total(conn, org, &page->unread_total, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONVERSATIONS_ALL + filter,
                             inbox_sqlite_list_sql[filter], err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    items = calloc(limit, sizeof(inbox_conversation_t));
    if (items == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
        goto failed;
    }

    page->items = items;
    last_id = 0;

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, at);
    sqlite3_bind_int64(stmt, 3, id);
    inbox_sqlite_bind_text(stmt, 4, search[0] ? search : NULL);
    inbox_sqlite_bind_text(stmt, 5, digits[0] ? digits : NULL);
    /* one row more tells whether there is a next page */
    sqlite3_bind_int64(stmt, 6, (int64_t) limit + 1);

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {

        if (page->count == limit) {
            inbox_sqlite_cursor_encode(items[limit - 1].last_activity_at,
                                       last_id, page->next_cursor);
            break;
        }

        last_id = sqlite3_column_int64(stmt, 0);
        status = inbox_sqlite_conversation_read(stmt, &items[page->count],
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

    return inbox_sqlite_commit(conn, err);

failed:

    inbox_sqlite_rollback(conn);
    return status;
}


inbox_status_t
inbox_sqlite_conversation_get(inbox_store_t *store, const char *org_id,
    const char *conversation_id, inbox_conversation_t *conversation,
    inbox_error_t *err)
{
    int64_t               org, id;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    memset(conversation, 0, sizeof(inbox_conversation_t));

    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(conversation_id, &id) != 0)
    {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "no such conversation");
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    return inbox_sqlite_conversation_load(conn, org, id, conversation, err);
}


inbox_status_t
inbox_sqlite_conversation_load(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t id, inbox_conversation_t *conversation, inbox_error_t *err)
{
    int             rc;
    sqlite3_stmt   *stmt;
    inbox_status_t  status;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONVERSATION_GET,
                             INBOX_SQLITE_CONVERSATION_GET_SQL, err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        status = inbox_sqlite_conversation_read(stmt, conversation, err);

    } else if (rc == SQLITE_DONE) {
        status = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                 "no such conversation");

    } else {
        status = inbox_sqlite_fail(conn, rc, err);
    }

    inbox_sqlite_done(stmt);

    return status;
}


static inbox_status_t
inbox_sqlite_media_read(inbox_sqlite_conn_t *conn, int64_t message,
    inbox_message_t *m, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;
    inbox_media_t *media;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MESSAGE_MEDIA,
        "SELECT url, content_type FROM message_media"
        " WHERE message_id = ?1 ORDER BY idx", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        media = realloc(m->media, (m->media_count + 1) * sizeof(inbox_media_t));
        if (media == NULL) {
            inbox_sqlite_done(stmt);
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
        }

        m->media = media;
        media = &m->media[m->media_count++];

        inbox_sqlite_column_copy(stmt, 0, media->url, sizeof(media->url));
        inbox_sqlite_column_copy(stmt, 1, media->content_type,
                                 sizeof(media->content_type));
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
    const char           *direction;
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
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "no such conversation");
    }

    at = INT64_MAX;
    id = INT64_MAX;

    if (cursor != NULL && cursor[0] != '\0'
        && inbox_sqlite_cursor_decode(cursor, &at, &id) != 0)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "cursor",
                                     "the cursor is not one this list "
                                     "gave; start again without it");
    }

    limit = inbox_sqlite_limit(limit);

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
                 ? inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                   "no such conversation")
                 : inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    items = calloc(limit, sizeof(inbox_message_t));
    if (items == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
        goto failed;
    }

    page->items = items;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MESSAGES_PAGE,
        "SELECT id, direction, body, status, error_code, segments, credits,"
        " created_at, sent_by FROM messages"
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

        direction = (const char *) sqlite3_column_text(stmt, 1);
        m->direction = (direction && strcmp(direction, "outbound") == 0)
                       ? INBOX_OUTBOUND : INBOX_INBOUND;

        m->body = inbox_sqlite_column_strdup(stmt, 2, &oom);
        inbox_sqlite_column_copy(stmt, 3, m->status, sizeof(m->status));
        inbox_sqlite_column_copy(stmt, 4, m->error_code,
                                 sizeof(m->error_code));
        m->segments = (unsigned) sqlite3_column_int(stmt, 5);
        m->credits = (unsigned) sqlite3_column_int(stmt, 6);
        m->created_at = sqlite3_column_int64(stmt, 7);

        if (sqlite3_column_type(stmt, 8) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 8),
                                   m->sent_by);
        }

        if (oom) {
            break;
        }
    }

    inbox_sqlite_done(stmt);

    if (oom) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
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
