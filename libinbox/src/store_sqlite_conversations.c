/*
 * The SQLite backend: conversations.  The list (filters, search, keyset
 * pages), one conversation, and a person's action on one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/search.h>
#include "store_sqlite.h"


/*
 * A search walks the filter's rows newest first when its matches are too
 * many to collect (or q has a part too short for the trigram index), each
 * row checked with inbox_search_matches; at most this many rows a page.
 * A page that ends there may hold fewer items than asked (even none) and
 * has a cursor that continues after the last row examined.
 */
#define INBOX_SQLITE_SCAN_WALK      20000
/* A walk of the candidates' set (index entries only, five times as
 * cheap a row) goes on longer before it ends a page the same way. */
#define INBOX_SQLITE_SET_WALK       100000


static inbox_status_t inbox_sqlite_counts(inbox_sqlite_conn_t *conn,
    int64_t org, inbox_conversation_page_t *page, inbox_error_t *err);
static inbox_status_t inbox_sqlite_list_rows(inbox_sqlite_conn_t *conn,
    int64_t org, sqlite3_stmt **stmts, unsigned n,
    const inbox_search_t *search, const inbox_sqlite_ids_t *set,
    unsigned limit, unsigned walk, inbox_conversation_page_t *page,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_conversation_write(
    inbox_sqlite_conn_t *conn, int64_t org, const inbox_conversation_t *c,
    inbox_action_t action, int64_t now, inbox_error_t *err);


/* What each filter shows (inbox_filter_matches), in inbox_filter_t's
 * order, then a search from the default view (inbox_query_any_archived).
 * The partial indexes' conditions (conversations_unread, _unresponded,
 * _starred) are these, so that SQLite may use them.  Every list leaves
 * out the threads without a message, which alone have no activity
 * (INBOX_ACTIVITY_NONE): a bound of the activity every index is ordered
 * by, so that they are never walked (INBOX_SQLITE_LISTED). */
#define INBOX_SQLITE_LISTED          "c.last_activity_at > 0"
#define INBOX_SQLITE_IN_ALL          "c.archived = 0"
#define INBOX_SQLITE_IN_UNREAD       "c.unread_count > 0 AND c.archived = 0"
#define INBOX_SQLITE_IN_UNRESPONDED                                          \
    "c.archived = 0 AND c.unresponded_at IS NOT NULL"
#define INBOX_SQLITE_IN_STARRED      "c.starred = 1 AND c.archived = 0"
#define INBOX_SQLITE_IN_ARCHIVED     "c.archived = 1"
#define INBOX_SQLITE_IN_ANY          "c.archived IN (0, 1)"

/*
 * The filter's threads newest first, each filter on its own index (the
 * sparse filters on partial indexes, named so the planner cannot pick a
 * long scan instead).  The keyset condition is always there (the first
 * page starts above every row); ?4 is the limit (-1: none, for a walk).
 */
#define INBOX_SQLITE_LIST_SQL(index, filter)                                  \
    INBOX_SQLITE_CONVERSATION_COLUMNS                                        \
    " FROM conversations c " index                                           \
    " JOIN contacts ct ON ct.id = c.contact_id"                              \
    INBOX_SQLITE_CONVERSATION_LAST                                           \
    " WHERE c.org_id = ?1 AND " filter " AND " INBOX_SQLITE_LISTED           \
    " AND (c.last_activity_at, c.id) < (?2, ?3)"                             \
    " ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?4"

static const char  *inbox_sqlite_list_sql[] = {
    INBOX_SQLITE_LIST_SQL("INDEXED BY conversations_by_activity",
                          INBOX_SQLITE_IN_ALL),
    INBOX_SQLITE_LIST_SQL("INDEXED BY conversations_unread",
                          INBOX_SQLITE_IN_UNREAD),
    INBOX_SQLITE_LIST_SQL("INDEXED BY conversations_unresponded",
                          INBOX_SQLITE_IN_UNRESPONDED),
    INBOX_SQLITE_LIST_SQL("INDEXED BY conversations_starred",
                          INBOX_SQLITE_IN_STARRED),
    INBOX_SQLITE_LIST_SQL("INDEXED BY conversations_by_activity",
                          INBOX_SQLITE_IN_ARCHIVED)
    /* a walk from the default view merges the first and the last */
};

/* A lookup: the candidates (?5, a JSON array of contact ids) to their
 * threads, the page's sorted out (SQLite keeps only the best ?4 as it
 * goes); their contacts are read for the page only.  Each candidate's
 * thread is checked for a message, not looked for by it (the unary +):
 * as a bound, SQLite walked a filter's index for each candidate. */
#define INBOX_SQLITE_SEARCH_SQL(filter)                                       \
    INBOX_SQLITE_CONVERSATION_COLUMNS                                        \
    " FROM (SELECT c.id AS id FROM json_each(?5) s"                          \
    "  CROSS JOIN conversations c ON c.contact_id = s.value"                 \
    "  WHERE c.org_id = ?1 AND " filter " AND +" INBOX_SQLITE_LISTED         \
    "  AND (c.last_activity_at, c.id) < (?2, ?3)"                            \
    "  ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?4) m"              \
    " CROSS JOIN conversations c ON c.id = m.id"                             \
    " JOIN contacts ct ON ct.id = c.contact_id"                              \
    INBOX_SQLITE_CONVERSATION_LAST                                           \
    " ORDER BY c.last_activity_at DESC, c.id DESC"

static const char  *inbox_sqlite_search_sql[] = {
    INBOX_SQLITE_SEARCH_SQL(INBOX_SQLITE_IN_ALL),
    INBOX_SQLITE_SEARCH_SQL(INBOX_SQLITE_IN_UNREAD),
    INBOX_SQLITE_SEARCH_SQL(INBOX_SQLITE_IN_UNRESPONDED),
    INBOX_SQLITE_SEARCH_SQL(INBOX_SQLITE_IN_STARRED),
    INBOX_SQLITE_SEARCH_SQL(INBOX_SQLITE_IN_ARCHIVED),
    INBOX_SQLITE_SEARCH_SQL(INBOX_SQLITE_IN_ANY)
};

/* The filter's threads newest first, from the index alone (migration 12):
 * the id, the contact (a candidate?) and the activity. */
#define INBOX_SQLITE_SET_WALK_SQL(index, filter)                              \
    "SELECT c.id, c.contact_id, c.last_activity_at"                          \
    " FROM conversations c " index                                           \
    " WHERE c.org_id = ?1 AND " filter " AND " INBOX_SQLITE_LISTED           \
    " AND (c.last_activity_at, c.id) < (?2, ?3)"                             \
    " ORDER BY c.last_activity_at DESC, c.id DESC"

static const char  *inbox_sqlite_set_walk_sql[] = {
    INBOX_SQLITE_SET_WALK_SQL("INDEXED BY conversations_by_activity",
                              INBOX_SQLITE_IN_ALL),
    INBOX_SQLITE_SET_WALK_SQL("INDEXED BY conversations_unread",
                              INBOX_SQLITE_IN_UNREAD),
    INBOX_SQLITE_SET_WALK_SQL("INDEXED BY conversations_unresponded",
                              INBOX_SQLITE_IN_UNRESPONDED),
    INBOX_SQLITE_SET_WALK_SQL("INDEXED BY conversations_starred",
                              INBOX_SQLITE_IN_STARRED),
    INBOX_SQLITE_SET_WALK_SQL("INDEXED BY conversations_by_activity",
                              INBOX_SQLITE_IN_ARCHIVED)
};


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
        inbox_sqlite_column_copy(stmt, 15, c->last_message.media_type,
                                 sizeof(c->last_message.media_type));
        c->last_message.at = sqlite3_column_int64(stmt, 8);

        if (sqlite3_column_type(stmt, 16) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 16),
                                   c->last_message.sent_by);
        }

        if (sqlite3_column_type(stmt, 17) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 17),
                                   c->last_message.campaign_id);
        }

        inbox_sqlite_column_copy(stmt, 18, c->last_message.campaign_kind,
                                 sizeof(c->last_message.campaign_kind));
        inbox_sqlite_column_copy(stmt, 19, c->last_message.status,
                                 sizeof(c->last_message.status));
        inbox_sqlite_column_copy(stmt, 20, c->last_message.error_code,
                                 sizeof(c->last_message.error_code));
    }

    c->last_activity_at = sqlite3_column_int64(stmt, 9);
    c->unread_count = sqlite3_column_int64(stmt, 10);
    c->archived = sqlite3_column_int(stmt, 11);
    c->starred = sqlite3_column_int(stmt, 12);
    /* NULL (none) reads as 0 */
    c->unresponded_at = sqlite3_column_int64(stmt, 13);
    c->responded_at = sqlite3_column_int64(stmt, 14);

    if (oom) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return INBOX_OK;
}


/* The unread total and the tabs' counts, from the organization's row. */
static inbox_status_t
inbox_sqlite_counts(inbox_sqlite_conn_t *conn, int64_t org,
    inbox_conversation_page_t *page, inbox_error_t *err)
{
    int            rc;
    unsigned       f;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_COUNTS, INBOX_SQLITE_COUNTS_SQL,
                             err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        page->unread_total = sqlite3_column_int64(stmt, 0);

        /* the columns in inbox_filter_t's order */
        for (f = 0; f < INBOX_FILTER_COUNT; f++) {
            page->counts[f] = sqlite3_column_int64(stmt, (int) f + 1);
        }

        page->has_counts = 1;
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return inbox_error_not_found(err, "organization");
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


/*
 * Without a search, the filter's index gives the page.  A search's
 * candidates are collected from the index (store_sqlite_search.c) and
 * read by the cheaper plan: a lookup of the few, or a walk of the
 * filter's index that checks each entry's contact against them; too
 * many to collect, or q too short for the index, the filter's rows are
 * walked and each checked.  A walk from the default view walks the
 * threads not archived and the archived ones, each in activity order on
 * the index, merged here (SQLite would sort the whole organization).
 */
inbox_status_t
inbox_sqlite_conversations_list(inbox_store_t *store, const char *org_id,
    const inbox_conversation_query_t *query, inbox_conversation_page_t *page,
    inbox_error_t *err)
{
    int64_t               org, at, id;
    unsigned              which, n, k, f, walk;
    sqlite3_stmt         *stmts[2];
    inbox_search_t        search;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_ids_t    set;
    inbox_sqlite_conn_t  *conn;
    inbox_sqlite_list_t   list;
    enum { LIST, LOOKUP, SET_WALK, SCAN } plan;

    if (err == NULL) {
        err = &fallback;
    }

    memset(page, 0, sizeof(inbox_conversation_page_t));
    memset(&set, 0, sizeof(inbox_sqlite_ids_t));

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

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* the items and the unread total from one snapshot */
    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = inbox_sqlite_counts(conn, org, page, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    which = query->any_archived ? INBOX_FILTER_COUNT
                                : (unsigned) query->filter;
    /* the list's rows, each an entry of the index a walk passes */
    memset(&list, 0, sizeof(inbox_sqlite_list_t));
    list.limit = query->limit;
    list.checked = search.checked;
    list.listed = query->any_archived
                  ? page->counts[INBOX_FILTER_ALL]
                    + page->counts[INBOX_FILTER_ARCHIVED]
                  : page->counts[query->filter];

    if (search.name[0] == '\0') {
        plan = LIST;

    } else if (!search.indexed) {
        plan = SCAN;

    } else {
        status = inbox_sqlite_contacts_population(conn, &list.population,
                                                  err);
        if (status != INBOX_OK) {
            goto failed;
        }

        status = inbox_sqlite_search_collect(conn, &search, query->q,
                                             query->country,
                                             inbox_sqlite_collect_max(&list),
                                             &set, err);
        if (status != INBOX_OK) {
            goto failed;
        }

        if (set.over) {
            plan = SCAN;

        } else {
            plan = inbox_sqlite_plan(set.n, &list) == INBOX_SQLITE_PLAN_LOOKUP
                   ? LOOKUP : SET_WALK;
        }
    }

    n = (plan != LIST && plan != LOOKUP && which == INBOX_FILTER_COUNT)
        ? 2 : 1;

    for (k = 0; k < n; k++) {
        f = n == 2 ? (k == 0 ? INBOX_FILTER_ALL : INBOX_FILTER_ARCHIVED)
                   : which;

        switch (plan) {

        case LOOKUP:
            stmts[k] = inbox_sqlite_stmt(conn, INBOX_SQL_SEARCH_ALL + f,
                                         inbox_sqlite_search_sql[f], err);
            break;

        case SET_WALK:
            stmts[k] = inbox_sqlite_stmt(conn, INBOX_SQL_SET_WALK_ALL + f,
                                         inbox_sqlite_set_walk_sql[f], err);
            break;

        default:
            stmts[k] = inbox_sqlite_stmt(conn,
                                         INBOX_SQL_CONVERSATIONS_ALL + f,
                                         inbox_sqlite_list_sql[f], err);
        }

        if (stmts[k] == NULL) {
            if (k == 1) {
                inbox_sqlite_done(stmts[0]);
            }
            status = err->code;
            goto failed;
        }

        sqlite3_bind_int64(stmts[k], 1, org);
        sqlite3_bind_int64(stmts[k], 2, at);
        sqlite3_bind_int64(stmts[k], 3, id);

        if (plan == LIST || plan == LOOKUP) {
            /* one row more tells whether there is a next page */
            sqlite3_bind_int64(stmts[k], 4, (int64_t) query->limit + 1);

        } else if (plan == SCAN) {
            sqlite3_bind_int64(stmts[k], 4, -1);
        }

        if (plan == LOOKUP) {
            status = inbox_sqlite_ids_bind(stmts[k], 5, &set, err);
            if (status != INBOX_OK) {
                inbox_sqlite_done(stmts[k]);
                goto failed;
            }
        }
    }

    walk = plan == SCAN ? INBOX_SQLITE_SCAN_WALK
                        : plan == SET_WALK ? INBOX_SQLITE_SET_WALK : 0;

    status = inbox_sqlite_list_rows(conn, org, stmts, n,
                                    plan == SCAN ? &search : NULL,
                                    plan == SET_WALK ? &set : NULL,
                                    query->limit, walk, page, err);

    inbox_sqlite_ids_free(&set);

    if (status != INBOX_OK) {
        goto failed;
    }

    return inbox_sqlite_commit(conn, err);

failed:

    inbox_sqlite_ids_free(&set);
    inbox_sqlite_rollback(conn);
    return status;
}


/*
 * Reads a page from n (1 or 2) statements, each a list in the page's
 * order, merged: the rows that match, up to limit, and the cursor when
 * one more matches.  Rows are conversations (INBOX_SQLITE_SET_WALK_SQL's
 * keys when set is given: those whose contact is in set match, and are
 * loaded); with search, those it matches.  walk > 0 ends the page after
 * that many rows examined, with the cursor after the last.
 */
static inbox_status_t
inbox_sqlite_list_rows(inbox_sqlite_conn_t *conn, int64_t org,
    sqlite3_stmt **stmts, unsigned n, const inbox_search_t *search,
    const inbox_sqlite_ids_t *set, unsigned limit, unsigned walk,
    inbox_conversation_page_t *page, inbox_error_t *err)
{
    int                    rc[2], col, match;
    int64_t                at[2], id[2], last_id;
    unsigned               k, m, examined;
    sqlite3_stmt          *stmt;
    inbox_status_t         status;
    inbox_conversation_t  *items;

    items = calloc(limit, sizeof(inbox_conversation_t));
    if (items == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto done;
    }

    page->items = items;
    last_id = 0;
    examined = 0;
    status = INBOX_OK;
    col = set ? 2 : 9;      /* last_activity_at */

    /* each statement's current row's key, read once a row */
    for (k = 0; k < n; k++) {
        rc[k] = sqlite3_step(stmts[k]);
        if (rc[k] == SQLITE_ROW) {
            at[k] = sqlite3_column_int64(stmts[k], col);
            id[k] = sqlite3_column_int64(stmts[k], 0);
        }
    }

    for ( ;; ) {
        /* the newest of the statements' current rows */
        m = n;
        for (k = 0; k < n; k++) {
            if (rc[k] == SQLITE_ROW
                && (m == n || at[k] > at[m]
                    || (at[k] == at[m] && id[k] > id[m])))
            {
                m = k;
            }
        }

        if (m == n) {
            break;
        }

        stmt = stmts[m];
        examined++;

        if (set != NULL) {
            match = inbox_sqlite_ids_has(set, sqlite3_column_int64(stmt, 1));

        } else if (search != NULL) {
            match = inbox_search_matches(search,
                        (const char *) sqlite3_column_text(stmt, 2),
                        (const char *) sqlite3_column_text(stmt, 3));

        } else {
            match = 1;
        }

        if (match) {
            if (page->count == limit) {
                inbox_sqlite_cursor_encode(items[limit - 1].last_activity_at,
                                           last_id, page->next_cursor);
                break;
            }

            last_id = id[m];

            if (set != NULL) {
                status = inbox_sqlite_conversation_load(conn, org, id[m],
                                                        &items[page->count],
                                                        err);
            } else {
                status = inbox_sqlite_conversation_read(stmt,
                                                        &items[page->count],
                                                        err);
            }

            page->count++;

            if (status != INBOX_OK) {
                goto done;
            }
        }

        if (walk > 0 && examined == walk) {
            inbox_sqlite_cursor_encode(at[m], id[m], page->next_cursor);
            break;
        }

        rc[m] = sqlite3_step(stmt);
        if (rc[m] == SQLITE_ROW) {
            at[m] = sqlite3_column_int64(stmt, col);
            id[m] = sqlite3_column_int64(stmt, 0);
        }
    }

    for (k = 0; k < n; k++) {
        if (rc[k] != SQLITE_ROW && rc[k] != SQLITE_DONE) {
            status = inbox_sqlite_fail(conn, rc[k], err);
        }
    }

done:

    for (k = 0; k < n; k++) {
        inbox_sqlite_done(stmts[k]);
    }

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
        return inbox_error_not_found(err, "conversation");
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
        status = inbox_error_not_found(err, "conversation");

    } else {
        status = inbox_sqlite_fail(conn, rc, err);
    }

    inbox_sqlite_done(stmt);

    return status;
}


/*
 * One write transaction: the conversation is read, libinbox's rule says
 * what the action makes of it, and only a change is written (the triggers
 * on conversations move orgs.unread_total with it) with its events.
 */
inbox_status_t
inbox_sqlite_conversation_act(inbox_store_t *store, const char *org_id,
    const char *conversation_id, inbox_action_t action,
    inbox_conversation_t *conversation, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int64_t               org, id, now;
    inbox_change_t        change;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;
    inbox_conversation_t  before;

    if (err == NULL) {
        err = &fallback;
    }

    memset(conversation, 0, sizeof(inbox_conversation_t));
    memset(&change, 0, sizeof(inbox_change_t));

    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(conversation_id, &id) != 0)
    {
        return inbox_error_not_found(err, "conversation");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* also tells an unknown or another organization's id */
    status = inbox_sqlite_conversation_load(conn, org, id, conversation, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_conversation_action_check(conversation, action, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    /* its flags only: the name stays the conversation's */
    before = *conversation;

    if (!inbox_conversation_apply(conversation, action)) {
        return inbox_sqlite_commit(conn, err);
    }

    now = inbox_now_ms();

    status = inbox_sqlite_conversation_write(conn, org, conversation, action,
                                             now, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    inbox_change_action(&change, &before, conversation);

    status = inbox_sqlite_events_commit(conn, org, &change, now, events,
                                        err);
    if (status != INBOX_OK) {
        goto undone;
    }

    return INBOX_OK;

failed:

    inbox_sqlite_rollback(conn);

undone:

    inbox_change_free(&change);
    inbox_conversation_free(conversation);
    memset(conversation, 0, sizeof(inbox_conversation_t));

    return status;
}


/* The flags the rule set; a read thread notes when it was read. */
static inbox_status_t
inbox_sqlite_conversation_write(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_conversation_t *c, inbox_action_t action, int64_t now,
    inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONVERSATION_ACT,
        "UPDATE conversations SET unread_count = ?3, archived = ?4,"
        " starred = ?5, last_read_at = coalesce(?6, last_read_at)"
        " WHERE id = ?1 AND org_id = ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, strtoll(c->id, NULL, 10));
    sqlite3_bind_int64(stmt, 2, org);
    sqlite3_bind_int64(stmt, 3, c->unread_count);
    sqlite3_bind_int(stmt, 4, c->archived != 0);
    sqlite3_bind_int(stmt, 5, c->starred != 0);

    if (action == INBOX_ACTION_READ) {
        sqlite3_bind_int64(stmt, 6, now);
    }

    return inbox_sqlite_update_read_row(conn, stmt, err);
}


inbox_status_t
inbox_sqlite_conversation_respond_write(inbox_sqlite_conn_t *conn,
    const inbox_conversation_t *c, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONVERSATION_RESPOND,
        "UPDATE conversations SET responded_at = nullif(?2, 0),"
        " unresponded_at = nullif(?3, 0) WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, strtoll(c->id, NULL, 10));
    sqlite3_bind_int64(stmt, 2, c->responded_at);
    sqlite3_bind_int64(stmt, 3, c->unresponded_at);

    return inbox_sqlite_update_read_row(conn, stmt, err);
}


void
inbox_sqlite_search_matches(sqlite3_context *ctx, int argc,
    sqlite3_value **argv)
{
    inbox_search_t  *search, *copy, parsed;

    /* q (and the country) is the same for every row of a statement:
     * parsed at the first */
    search = sqlite3_get_auxdata(ctx, 0);

    if (search == NULL) {
        (void) inbox_search_parse(
            (const char *) sqlite3_value_text(argv[0]),
            (const char *) sqlite3_value_text(argv[1]), &parsed);
        search = &parsed;

        copy = sqlite3_malloc(sizeof(inbox_search_t));
        if (copy != NULL) {
            *copy = parsed;
            sqlite3_set_auxdata(ctx, 0, copy, sqlite3_free);
        }
    }

    sqlite3_result_int(ctx, inbox_search_matches(search,
        (const char *) sqlite3_value_text(argv[2]),
        (const char *) sqlite3_value_text(argv[3])));
}
