/*
 * The sender's carrier opt-outs against a real SQLite store that another
 * connection holds locked: an opt-out the store cannot take waits and is
 * taken once the lock is gone, in the order the carrier refused them,
 * unless its contact texted START meanwhile.
 * sender.c (the process, its loop) is not linked: its publish and log
 * are this file's, which count the events and keep the last line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <inbox/clock.h>
#include <inbox/contact.h>
#include <inbox/store.h>
#include "sender.h"
#include "sender_jobs.h"
#include "check.h"

#define NUMBER  "+15550001111"

static size_t  published;
static char    last_log[512];


void
sender_publish(sender_t *s, const inbox_event_list_t *events)
{
    (void) s;
    published += events->count;
}


void
sender_log(sender_t *s, const char *fmt, ...)
{
    va_list  args;

    (void) s;
    va_start(args, fmt);
    vsnprintf(last_log, sizeof(last_log), fmt, args);
    va_end(args);
}


static void
contact_add(inbox_store_t *store, const char *org, const char *phone,
    char id[INBOX_ID_MAX])
{
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    memset(&edit, 0, sizeof(edit));
    memset(&c, 0, sizeof(c));
    CHECK_INT(inbox_store_contact_create(store, org, phone, &edit, &c, NULL,
                                         NULL), INBOX_OK);
    snprintf(id, INBOX_ID_MAX, "%s", c.id);
    inbox_contact_record_free(&c);
}


static int
opted_out_at_carrier(inbox_store_t *store, const char *org, const char *id)
{
    int                     yes;
    inbox_contact_record_t  c;

    memset(&c, 0, sizeof(c));
    if (inbox_store_contact_get(store, org, id, &c, NULL) != INBOX_OK) {
        return -1;
    }

    yes = c.opted_out && strcmp(c.opt_out_source, "carrier") == 0;
    inbox_contact_record_free(&c);

    return yes;
}


TEST(an_opt_out_the_store_cannot_take_waits_and_is_taken_later)
{
    char            path[128], uri[160], org[INBOX_ID_MAX];
    char            ana[INBOX_ID_MAX], ben[INBOX_ID_MAX], cy[INBOX_ID_MAX];
    int64_t         now, wait;
    sqlite3        *blocker;
    sender_t        s;
    inbox_number_t  number;

    snprintf(path, sizeof(path), "/tmp/inbox-test-sender-optouts-%ld.db",
             (long) getpid());
    unlink(path);
    snprintf(uri, sizeof(uri), "sqlite:%s", path);

    memset(&s, 0, sizeof(s));
    s.store = inbox_store_create(uri, NULL);
    CHECK(s.store != NULL);
    if (s.store == NULL) {
        return;
    }

    CHECK_INT(inbox_store_org_create(s.store, "Acme", "UTC", org, NULL),
              INBOX_OK);
    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", org);
    snprintf(number.e164, sizeof(number.e164), "%s", NUMBER);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "secret";
    CHECK_INT(inbox_store_number_add(s.store, &number, NULL), INBOX_OK);

    contact_add(s.store, org, "+15551230001", ana);
    contact_add(s.store, org, "+15551230002", ben);
    contact_add(s.store, org, "+15551230003", cy);

    /* cy texted STOP, and the carrier blocks it too */
    CHECK_INT(inbox_store_contact_opt_out(s.store, org, cy,
                                          INBOX_OPT_OUT_KEYWORD, "STOP", 0, 0,
                                          NULL, NULL, NULL), INBOX_OK);

    /* nothing waits: the pump has nothing to look at */
    CHECK_INT(sender_optouts_pump(&s, inbox_now_ms()), -1);

    /* a stalled writer in another process */
    CHECK_INT(sqlite3_open(path, &blocker), SQLITE_OK);
    CHECK_INT(sqlite3_exec(blocker, "BEGIN IMMEDIATE", NULL, NULL, NULL),
              SQLITE_OK);

    /* refused by the store after its busy timeout: it waits */
    sender_opt_out(&s, org, ana, inbox_now_ms());
    CHECK(strstr(last_log, "tried again") != NULL);
    /* the next go behind it at once, without meeting the lock */
    now = inbox_now_ms();
    sender_opt_out(&s, org, ben, now);
    sender_opt_out(&s, org, cy, now);
    CHECK(inbox_now_ms() - now < 1000);
    CHECK_INT(published, 0);

    /* not before its second */
    wait = sender_optouts_pump(&s, now);
    CHECK(wait > 0 && wait <= 1000);

    sqlite3_exec(blocker, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(blocker);

    CHECK_INT(opted_out_at_carrier(s.store, org, ana), 0);

    /* cy texts START while its carrier's refusal waits */
    CHECK_INT(inbox_store_contact_opt_in(s.store, org, cy, "START", 0, NULL,
                                         NULL, NULL), INBOX_OK);

    /* the store is back: both taken, and browsers hear of both */
    CHECK_INT(sender_optouts_pump(&s, now + 1000), -1);
    CHECK_INT(opted_out_at_carrier(s.store, org, ana), 1);
    CHECK_INT(opted_out_at_carrier(s.store, org, ben), 1);
    CHECK_INT(opted_out_at_carrier(s.store, org, cy), 0);
    CHECK(published >= 2);
    CHECK_INT(sender_optouts_pump(&s, now + 5000), -1);

    /* a contact that is not there is logged, not kept */
    published = 0;
    sender_opt_out(&s, org, "999999", inbox_now_ms());
    CHECK(strstr(last_log, "cannot mark contact 999999") != NULL);
    CHECK_INT(sender_optouts_pump(&s, now + 10000), -1);
    CHECK_INT(published, 0);

    inbox_store_close(s.store);
    unlink(path);
}


RUN_TESTS()
