/*
 * The SQLite backend: an organization's settings (settings.h), columns of
 * its orgs row; NULL business name, support contact and default country
 * are the defaults.
 */
#include <stdio.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/settings.h>
#include "store_sqlite.h"


/* The columns inbox_sqlite_settings_read expects. */
#define INBOX_SQLITE_SETTINGS_COLUMNS                                         \
    " name, timezone, quiet_start, quiet_end, business_name,"                \
    " support_contact, default_country"


static void
inbox_sqlite_settings_read(sqlite3_stmt *stmt, inbox_settings_t *settings)
{
    inbox_settings_defaults(settings,
                            (const char *) sqlite3_column_text(stmt, 0));

    if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
        inbox_sqlite_column_copy(stmt, 1, settings->timezone,
                                 sizeof(settings->timezone));
    }

    settings->quiet_start = sqlite3_column_int(stmt, 2);
    settings->quiet_end = sqlite3_column_int(stmt, 3);

    if (sqlite3_column_type(stmt, 4) != SQLITE_NULL) {
        inbox_sqlite_column_copy(stmt, 4, settings->business_name,
                                 sizeof(settings->business_name));
    }

    inbox_sqlite_column_copy(stmt, 5, settings->support_contact,
                             sizeof(settings->support_contact));
    inbox_sqlite_column_copy(stmt, 6, settings->default_country,
                             sizeof(settings->default_country));
}


/* One row or none: the settings, or not found. */
static inbox_status_t
inbox_sqlite_settings_row(inbox_sqlite_conn_t *conn, sqlite3_stmt *stmt,
    inbox_settings_t *settings, inbox_error_t *err)
{
    int  rc;

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_settings_read(stmt, settings);

        /* RETURNING commits only when the statement is run to its end */
        rc = sqlite3_step(stmt);

        if (rc == SQLITE_DONE) {
            inbox_sqlite_done(stmt);
            return INBOX_OK;
        }
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return inbox_error_not_found(err, "organization");
    }

    return inbox_sqlite_fail(conn, rc, err);
}


inbox_status_t
inbox_sqlite_settings_get(inbox_store_t *store, const char *org_id,
    inbox_settings_t *settings, inbox_error_t *err)
{
    int64_t               org;
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

    return inbox_sqlite_settings_load(conn, org, settings, err);
}


inbox_status_t
inbox_sqlite_settings_load(inbox_sqlite_conn_t *conn, int64_t org,
    inbox_settings_t *settings, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_SETTINGS_GET,
        "SELECT" INBOX_SQLITE_SETTINGS_COLUMNS " FROM orgs WHERE id = ?1",
        err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    return inbox_sqlite_settings_row(conn, stmt, settings, err);
}


inbox_status_t
inbox_sqlite_settings_update(inbox_store_t *store, const char *org_id,
    const inbox_settings_edit_t *edit, inbox_settings_t *settings,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int64_t               org;
    sqlite3_stmt         *stmt;
    inbox_change_t        change;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_settings_t      before;
    inbox_sqlite_conn_t  *conn;

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

    /* as they were, in the write's transaction: whether it changed them */
    status = inbox_sqlite_settings_load(conn, org, &before, err);
    if (status != INBOX_OK) {
        inbox_sqlite_rollback(conn);
        return status;
    }

    /* each column changes when its flag (?2, ?4, ?7, ?9, ?11) says so;
     * "" is the default again (NULL) */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_SETTINGS_UPDATE,
        "UPDATE orgs SET"
        " timezone = CASE WHEN ?2 THEN ?3 ELSE timezone END,"
        " quiet_start = CASE WHEN ?4 THEN ?5 ELSE quiet_start END,"
        " quiet_end = CASE WHEN ?4 THEN ?6 ELSE quiet_end END,"
        " business_name = CASE WHEN ?7 THEN nullif(?8, '')"
        "   ELSE business_name END,"
        " support_contact = CASE WHEN ?9 THEN nullif(?10, '')"
        "   ELSE support_contact END,"
        " default_country = CASE WHEN ?11 THEN nullif(?12, '')"
        "   ELSE default_country END"
        " WHERE id = ?1 RETURNING" INBOX_SQLITE_SETTINGS_COLUMNS, err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int(stmt, 2, edit->set_timezone);
    inbox_sqlite_bind_text(stmt, 3, edit->timezone);
    sqlite3_bind_int(stmt, 4, edit->set_quiet_hours);
    sqlite3_bind_int(stmt, 5, edit->quiet_start);
    sqlite3_bind_int(stmt, 6, edit->quiet_end);
    sqlite3_bind_int(stmt, 7, edit->set_business_name);
    inbox_sqlite_bind_text(stmt, 8, edit->business_name);
    sqlite3_bind_int(stmt, 9, edit->set_support_contact);
    inbox_sqlite_bind_text(stmt, 10, edit->support_contact);
    sqlite3_bind_int(stmt, 11, edit->set_default_country);
    inbox_sqlite_bind_text(stmt, 12, edit->default_country);

    status = inbox_sqlite_settings_row(conn, stmt, settings, err);

    if (status == INBOX_OK && inbox_settings_edit_moves_quiet_hours(edit)) {
        status = inbox_sqlite_outbox_unpark_quiet(conn, org, 0,
                                                  inbox_now_ms(), err);
    }

    if (status != INBOX_OK) {
        inbox_sqlite_rollback(conn);
        return status;
    }

    if (inbox_settings_same(&before, settings)) {
        return inbox_sqlite_commit(conn, err);
    }

    inbox_change_settings(&change, settings);

    return inbox_sqlite_events_commit(conn, org, &change, inbox_now_ms(),
                                      events, err);
}
