/*
 * The SQLite backend: how a list finds what a search (or a tag) picks.
 *
 * The candidates are looked up in an index (contacts_search, migration 8,
 * for q; contact_tags_by_tag for a tag) and collected here, sorted by id.
 * Then the list is read by the cheaper of two plans, by the cost of each
 * (measured on a million threads, see docs/BENCHMARKS.md):
 *
 *   lookup    each candidate's own row, the matches sorted: about 1.7 us
 *             a candidate, so for a few;
 *   set walk  the list's index newest first, each entry's contact id
 *             looked up in the candidates, until the page is full: about
 *             0.12 us an entry (the index covers it), and a walk is as
 *             long as the matches are sparse: limit * population / K.
 *
 * A q of several words (search.h) looks up its joined key or its long
 * words all; when a word is short, the index's candidates are a superset,
 * each checked as it is collected (inbox_search_matches), at a scanned
 * row's cost more.
 *
 * Candidates too many to collect (they cost about 0.45 us each, FTS5's
 * own work) are dense: the rows are then scanned newest first and each
 * checked (inbox_search_matches), about 0.7 us a row, which soon fills a
 * page.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/fold.h>
#include "store_sqlite.h"


/* What each step costs, in nanoseconds (see above). */
#define INBOX_SQLITE_COST_LOOKUP    1700
#define INBOX_SQLITE_COST_SET_WALK  120
#define INBOX_SQLITE_COST_SCAN      700
#define INBOX_SQLITE_COST_COLLECT   450

/* Bounds of the most candidates collected. */
#define INBOX_SQLITE_COLLECT_MIN    1000
#define INBOX_SQLITE_COLLECT_MAX    100000


static void inbox_sqlite_search_match(const inbox_search_t *search,
    char match[INBOX_SQLITE_MATCH_MAX]);
static char *inbox_sqlite_search_phrase(char *p, const char *text);
static int inbox_sqlite_ids_add(inbox_sqlite_ids_t *ids, int64_t id,
    size_t max);
static int inbox_sqlite_id_compare(const void *a, const void *b);


/* name : "..." OR (name : "..." AND ...) (q's long words, search.h) OR
 * digits : "..." (OR digits : the dialled ones): each part one phrase,
 * its trigrams one after the other, that is the text itself. */
static void
inbox_sqlite_search_match(const inbox_search_t *search,
    char match[INBOX_SQLITE_MATCH_MAX])
{
    int          i, n;
    char        *p;
    const char  *word;

    p = stpcpy(match, "name : ");
    p = inbox_sqlite_search_phrase(p, search->name);

    for (i = 0, n = 0, word = search->words; i < search->nwords; i++) {
        if (inbox_search_chars(word) >= INBOX_SEARCH_INDEX_MIN) {
            p = stpcpy(p, n++ == 0 ? " OR (name : " : " AND name : ");
            p = inbox_sqlite_search_phrase(p, word);
        }

        word += strlen(word) + 1;
    }

    if (n > 0) {
        *p++ = ')';
    }

    if (search->digits[0] != '\0') {
        p = stpcpy(p, " OR digits : \"");
        p = stpcpy(p, search->digits);
        *p++ = '"';
    }

    if (search->dialled[0] != '\0') {
        p = stpcpy(p, " OR digits : \"");
        p = stpcpy(p, search->dialled);
        *p++ = '"';
    }

    *p = '\0';
}


/* text as an FTS5 phrase at p, quoted, each quote doubled; the end. */
static char *
inbox_sqlite_search_phrase(char *p, const char *text)
{
    *p++ = '"';

    for (/* void */; *text; text++) {
        if (*text == '"') {
            *p++ = '"';
        }
        *p++ = *text;
    }

    *p++ = '"';

    return p;
}


/*
 * The index entries a walk passes to fill a page when k candidates match:
 * they spread over the population as the list's rows do, so the page
 * takes limit * population / k of the list's rows (at most all of them),
 * one entry each (every list has an index of its own rows).
 */
static double
inbox_sqlite_walk(double k, const inbox_sqlite_list_t *list)
{
    double  rows;

    if (list->listed <= 0) {
        return 0;
    }

    rows = (double) list->limit * (double) list->population / k;
    if (rows > (double) list->listed) {
        rows = (double) list->listed;
    }

    return rows;
}


/*
 * The most candidates worth collecting: past it a scan is cheaper than
 * the collecting and a walk of the set, since a scan's length falls as
 * the matches grow.
 */
size_t
inbox_sqlite_collect_max(const inbox_sqlite_list_t *list)
{
    double  collect;
    size_t  k;

    /* a candidate checked is also looked up and checked as a scanned
     * row is */
    collect = INBOX_SQLITE_COST_COLLECT
              + (list->checked ? INBOX_SQLITE_COST_SCAN : 0);

    for (k = INBOX_SQLITE_COLLECT_MIN; k < INBOX_SQLITE_COLLECT_MAX;
         k += k / 8)
    {
        if ((double) k * collect
            + inbox_sqlite_walk(k, list) * INBOX_SQLITE_COST_SET_WALK
            >= inbox_sqlite_walk(k, list) * INBOX_SQLITE_COST_SCAN)
        {
            break;
        }
    }

    return k;
}


inbox_sqlite_plan_t
inbox_sqlite_plan(size_t k, const inbox_sqlite_list_t *list)
{
    if (k == 0) {
        return INBOX_SQLITE_PLAN_LOOKUP;
    }

    return (double) k * INBOX_SQLITE_COST_LOOKUP
           <= inbox_sqlite_walk(k, list) * INBOX_SQLITE_COST_SET_WALK
           ? INBOX_SQLITE_PLAN_LOOKUP : INBOX_SQLITE_PLAN_SET_WALK;
}


/*
 * The contacts q matches, of every organization: those in the index and
 * those noted but not indexed yet (few: each checked).  At most max; one
 * more sets ids->over and empties ids.
 */
inbox_status_t
inbox_sqlite_search_collect(inbox_sqlite_conn_t *conn,
    const inbox_search_t *search, const char *q, const char *country,
    size_t max, inbox_sqlite_ids_t *ids, inbox_error_t *err)
{
    int            rc, k, added, unsorted;
    char           match[INBOX_SQLITE_MATCH_MAX];
    int64_t        id;
    sqlite3_stmt  *stmt;

    memset(ids, 0, sizeof(inbox_sqlite_ids_t));
    unsorted = 0;

    inbox_sqlite_search_match(search, match);

    for (k = 0; k < 2; k++) {
        if (k == 0 && search->checked) {
            /* a short word, not looked up: each candidate checked */
            stmt = inbox_sqlite_stmt(conn,
                INBOX_SQL_SEARCH_CANDIDATES_CHECKED,
                "SELECT s.rowid FROM contacts_search s"
                " CROSS JOIN contacts c ON c.id = s.rowid"
                " WHERE contacts_search MATCH ?1"
                "   AND inbox_search_matches(?2, ?3, c.name, c.phone)", err);
        } else if (k == 0) {
            stmt = inbox_sqlite_stmt(conn, INBOX_SQL_SEARCH_CANDIDATES,
                "SELECT rowid FROM contacts_search"
                " WHERE contacts_search MATCH ?1", err);
        } else {
            stmt = inbox_sqlite_stmt(conn, INBOX_SQL_SEARCH_PENDING_MATCH,
                "SELECT p.contact_id FROM contacts_search_pending p"
                " CROSS JOIN contacts c ON c.id = p.contact_id"
                " WHERE inbox_search_matches(?1, ?2, c.name, c.phone)",
                err);
        }

        if (stmt == NULL) {
            goto failed;
        }

        if (k == 0) {
            inbox_sqlite_bind_text(stmt, 1, match);
            if (search->checked) {
                inbox_sqlite_bind_text(stmt, 2, q);
                inbox_sqlite_bind_text(stmt, 3, country);
            }
        } else {
            inbox_sqlite_bind_text(stmt, 1, q);
            inbox_sqlite_bind_text(stmt, 2, country);
        }

        added = 0;

        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            id = sqlite3_column_int64(stmt, 0);
            unsorted |= ids->n > 0 && id < ids->ids[ids->n - 1];

            added = inbox_sqlite_ids_add(ids, id, max);
            if (added != 0) {
                break;
            }
        }

        inbox_sqlite_done(stmt);

        if (added < 0) {
            inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
            goto failed;
        }

        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            inbox_sqlite_fail(conn, rc, err);
            goto failed;
        }

        if (ids->over) {
            return INBOX_OK;
        }
    }

    /* the index gives them in order; pending ones come after, if any */
    if (unsorted) {
        qsort(ids->ids, ids->n, sizeof(int64_t), inbox_sqlite_id_compare);
    }

    return INBOX_OK;

failed:

    inbox_sqlite_ids_free(ids);
    return err->code;
}


/* The organization's contacts with the tag (NOCASE), as collect above. */
inbox_status_t
inbox_sqlite_tag_collect(inbox_sqlite_conn_t *conn, int64_t org,
    const char *tag, size_t max, inbox_sqlite_ids_t *ids, inbox_error_t *err)
{
    int            rc, added;
    sqlite3_stmt  *stmt;

    memset(ids, 0, sizeof(inbox_sqlite_ids_t));

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TAG_CANDIDATES,
        "SELECT contact_id FROM contact_tags INDEXED BY contact_tags_by_tag"
        " WHERE org_id = ?1 AND tag = ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, tag);

    added = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        added = inbox_sqlite_ids_add(ids, sqlite3_column_int64(stmt, 0),
                                     max);
        if (added != 0) {
            break;
        }
    }

    inbox_sqlite_done(stmt);

    if (added < 0) {
        inbox_sqlite_ids_free(ids);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        inbox_sqlite_ids_free(ids);
        return inbox_sqlite_fail(conn, rc, err);
    }

    /* in the index's order, sorted but for tags spelled in other cases */
    if (ids->n > 1) {
        qsort(ids->ids, ids->n, sizeof(int64_t), inbox_sqlite_id_compare);
    }

    return INBOX_OK;
}


/* Binds the ids as a JSON array, for json_each(): a lookup reads the
 * candidates collected rather than asking the index again. */
inbox_status_t
inbox_sqlite_ids_bind(sqlite3_stmt *stmt, int i, const inbox_sqlite_ids_t *ids,
    inbox_error_t *err)
{
    char    *json, *p;
    size_t   k;

    /* "[", each id (at most 20 characters) and its comma, "]" */
    json = malloc(ids->n * 21 + 3);
    if (json == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    p = json;
    *p++ = '[';

    for (k = 0; k < ids->n; k++) {
        p += sprintf(p, k ? ",%" PRId64 : "%" PRId64, ids->ids[k]);
    }

    *p++ = ']';
    *p = '\0';

    sqlite3_bind_text(stmt, i, json, (int) (p - json), free);

    return INBOX_OK;
}


/* Keeps the ids whose contact has the tag: a probe of contact_tags's
 * (contact_id, tag) key each, for a tag too common to collect. */
inbox_status_t
inbox_sqlite_ids_tagged(inbox_sqlite_conn_t *conn, inbox_sqlite_ids_t *ids,
    const char *tag, inbox_error_t *err)
{
    int             rc;
    size_t          n;
    sqlite3_stmt   *stmt;
    inbox_status_t  status;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_IDS_TAGGED,
        "SELECT m.value FROM json_each(?1) m"
        " WHERE EXISTS (SELECT 1 FROM contact_tags t"
        "   WHERE t.contact_id = m.value AND t.tag = ?2)", err);
    if (stmt == NULL) {
        return err->code;
    }

    status = inbox_sqlite_ids_bind(stmt, 1, ids, err);
    if (status != INBOX_OK) {
        inbox_sqlite_done(stmt);
        return status;
    }

    inbox_sqlite_bind_text(stmt, 2, tag);

    /* in the array's order, which is the ids' */
    n = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        ids->ids[n++] = sqlite3_column_int64(stmt, 0);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    ids->n = n;

    return INBOX_OK;
}


/* Keeps in a the ids that b holds too. */
void
inbox_sqlite_ids_intersect(inbox_sqlite_ids_t *a, const inbox_sqlite_ids_t *b)
{
    size_t  i, n;

    for (i = 0, n = 0; i < a->n; i++) {
        if (inbox_sqlite_ids_has(b, a->ids[i])) {
            a->ids[n++] = a->ids[i];
        }
    }

    a->n = n;
}


int
inbox_sqlite_ids_has(const inbox_sqlite_ids_t *ids, int64_t id)
{
    return ids->n > 0
           && bsearch(&id, ids->ids, ids->n, sizeof(int64_t),
                      inbox_sqlite_id_compare) != NULL;
}


void
inbox_sqlite_ids_free(inbox_sqlite_ids_t *ids)
{
    free(ids->ids);
    memset(ids, 0, sizeof(inbox_sqlite_ids_t));
}


/* 0; 1 once past max (ids->over, ids emptied); -1 when out of memory. */
static int
inbox_sqlite_ids_add(inbox_sqlite_ids_t *ids, int64_t id, size_t max)
{
    size_t    cap;
    int64_t  *grown;

    if (ids->n == max) {
        inbox_sqlite_ids_free(ids);
        ids->over = 1;
        return 1;
    }

    if (ids->n == ids->cap) {
        cap = ids->cap ? 2 * ids->cap : 256;

        grown = realloc(ids->ids, cap * sizeof(int64_t));
        if (grown == NULL) {
            return -1;
        }

        ids->ids = grown;
        ids->cap = cap;
    }

    ids->ids[ids->n++] = id;

    return 0;
}


static int
inbox_sqlite_id_compare(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


/* The most contacts a search can pick: all contacts of every
 * organization (the index holds them all); the largest id will do. */
inbox_status_t
inbox_sqlite_contacts_population(inbox_sqlite_conn_t *conn,
    int64_t *population, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACTS_POPULATION,
                             "SELECT max(id) FROM contacts", err);
    if (stmt == NULL) {
        return err->code;
    }

    rc = sqlite3_step(stmt);
    *population = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


/* The organization's contacts, as it counts them (migration 44; 0 for no
 * such organization). */
inbox_status_t
inbox_sqlite_org_contacts(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t *contacts, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_ORG_CONTACTS,
        "SELECT count_contacts FROM orgs WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);
    *contacts = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


void
inbox_sqlite_search_key(sqlite3_context *ctx, int argc,
    sqlite3_value **argv)
{
    int          n;
    char         key[INBOX_FOLD_MAX];
    const char  *name;

    name = (const char *) sqlite3_value_text(argv[0]);

    n = name != NULL ? inbox_search_key(name, key, sizeof(key)) : -1;

    if (n < 0) {
        sqlite3_result_null(ctx);
        return;
    }

    sqlite3_result_text(ctx, key, n, SQLITE_TRANSIENT);
}


int
inbox_sqlite_bind_search_name(sqlite3_stmt *stmt, int i, const char *name)
{
    int   n;
    char  key[INBOX_FOLD_MAX];

    n = name != NULL && name[0] != '\0'
        ? inbox_search_key(name, key, sizeof(key)) : -1;

    if (n < 0) {
        return sqlite3_bind_null(stmt, i);
    }

    return sqlite3_bind_text(stmt, i, key, n, SQLITE_TRANSIENT);
}
