/*
 * The media job: copies inbound MMS files (pictures, videos, voice notes,
 * contact cards, documents), which the carrier keeps behind the account's
 * credentials, into the media directory that nginx serves, so browsers
 * can show or download them.  The type is decided by the bytes
 * (media.h), whatever the carrier said.
 *
 * The credentials go only to the carrier's own API host: a media URL
 * elsewhere is fetched without them (curl never forwards them across a
 * redirect either).
 *
 * A copy counts an attempt when claimed, and a failed one is tried again
 * later (inbox_media_fetch_retry_at) until INBOX_MEDIA_FETCH_ATTEMPTS.
 * One that never left because the sender had no file descriptor free,
 * or could not start it (curl refused it, no memory: sender_start.c), is
 * given back instead, its attempt taken back: a shortage during a burst
 * of sends would otherwise spend a file's tries, and give it up, while
 * the carrier was never asked (and a claim left to its lease would wait
 * minutes, then count as a try).
 *
 * The URL is whatever the webhook said, and anyone with the account's
 * credentials can sign a webhook: a copy connects only to public
 * addresses (sender_transfer_public_only), so that it cannot read the
 * inbox's own host or private network and show the answer as a file.
 * The number's configured API base (a carrier simulator on loopback, a
 * gateway on the operator's network) is the one exception, and what
 * comes from there is kept only when it is of a type phones send.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/media.h>
#include "sender_jobs.h"

/* Files are held in memory while fetched: only a few at once. */
#define SENDER_MEDIA_ACTIVE_MAX  4

/* A copy (or an upload, nginx's) half-written this long ago was left by
 * a process that died: its temporary file goes, looked for this often. */
#define SENDER_MEDIA_TMP_AGE_S      3600
#define SENDER_MEDIA_SWEEP_EVERY_MS (3600 * 1000LL)

#define SENDER_TWILIO_API  "https://api.twilio.com"

typedef struct {
    sender_transfer_t  transfer;            /* first */
    sender_t          *s;
    char               message_id[INBOX_ID_MAX];
    char               org_id[INBOX_ID_MAX];
    unsigned           idx;
    unsigned           attempts;
} sender_fetch_t;

typedef struct {
    int       look;
    int64_t   due;
    int64_t   sweep_at;                     /* the next sweep; 0: at once */
    unsigned  active;
} sender_media_state_t;

static sender_media_state_t  sender_media = { .look = 1 };

static void sender_media_start(sender_t *s, const inbox_media_fetch_t *item,
    int64_t now);
static int sender_media_credentials_for(const inbox_number_t *number,
    const char *url);
static void sender_media_done(sender_transfer_t *t);
static inbox_status_t sender_media_store(sender_t *s, sender_fetch_t *f,
    inbox_event_list_t *events, inbox_error_t *err);
static void sender_media_failed(sender_t *s, sender_fetch_t *f,
    const char *why, int final);
static void sender_media_not_started(sender_t *s,
    const inbox_media_fetch_t *item, int64_t now, const char *why);
static void sender_media_give_back(sender_t *s, const char *message_id,
    unsigned idx, int64_t now, int64_t due_at, const char *why);


void
sender_media_wake(sender_t *s)
{
    sender_media.look = 1;
}


int64_t
sender_media_pump(sender_t *s, int64_t now)
{
    int                        n;
    size_t                     i;
    unsigned                   room;
    inbox_error_t              err;
    inbox_media_fetch_list_t   list;

    if (s->options.media_dir == NULL) {
        return -1;
    }

    if (now >= sender_media.sweep_at) {
        n = inbox_media_sweep(s->options.media_dir,
                              (time_t) (now / 1000) - SENDER_MEDIA_TMP_AGE_S);
        if (n > 0) {
            sender_log(s, "removed %d half-written media file%s left in "
                       "%s", n, n == 1 ? "" : "s", s->options.media_dir);
        }

        sender_media.sweep_at = now + SENDER_MEDIA_SWEEP_EVERY_MS;
    }

    if (now >= sender_media.due) {
        sender_media.look = 1;
    }

    room = SENDER_MEDIA_ACTIVE_MAX - sender_media.active;

    if (!sender_media.look || room == 0) {
        return sender_media.look ? -1 : sender_media.due - now;
    }

    memset(&list, 0, sizeof(list));

    if (inbox_store_media_fetch_claim(s->store, now, room, &list, &err)
        != INBOX_OK)
    {
        sender_log(s, "cannot claim media to copy: %s", err.message);
        sender_media.look = 0;
        sender_media.due = now + SENDER_IDLE_LOOK_MS;
        return SENDER_IDLE_LOOK_MS;
    }

    sender_media.look = (list.count == room);
    sender_media.due = now + SENDER_IDLE_LOOK_MS;

    for (i = 0; i < list.count; i++) {
        sender_media_start(s, &list.items[i], now);
    }

    inbox_media_fetch_list_free(&list);

    /* a copy given back may be due sooner than the next look */
    return sender_media.look ? -1 : sender_media.due - now;
}


static void
sender_media_start(sender_t *s, const inbox_media_fetch_t *item,
    int64_t now)
{
    sender_fetch_t  *f;

    f = calloc(1, sizeof(sender_fetch_t));
    if (f == NULL) {
        sender_media_not_started(s, item, now, "out of memory");
        return;
    }

    f->s = s;
    strcpy(f->message_id, item->message_id);
    strcpy(f->org_id, item->org_id);
    f->idx = item->idx;
    f->attempts = item->attempts;

    if (f->attempts > INBOX_MEDIA_FETCH_ATTEMPTS) {
        /* its leases ran out that often (a sender stopped mid-copy, a
         * store that could not take the outcome): no more tries */
        sender_media_failed(s, f, "tried too often", 1);
        free(f);
        return;
    }

    if (sender_transfer_init(&f->transfer, "GET", item->url, NULL, NULL, 0,
                             s->options.timeout_ms)
        != 0)
    {
        free(f);
        sender_media_not_started(s, item, now, "out of memory");
        return;
    }

    /* setting curl's options fails only when memory runs out: the copy
     * never left, and is given back as one curl would not start */
    if (sender_transfer_follow(&f->transfer, item->url) != 0
        || sender_transfer_public_only(&f->transfer, item->number.api_base)
           != 0)
    {
        sender_transfer_cleanup(&f->transfer);
        free(f);
        sender_media_not_started(s, item, now, "out of memory");
        return;
    }

    f->transfer.response_max = INBOX_MEDIA_SIZE_DEFAULT;
    f->transfer.response_fail = 1;
    f->transfer.done = sender_media_done;
    f->transfer.data = f;

    if (sender_media_credentials_for(&item->number, item->url)
        && sender_transfer_basic_auth(&f->transfer, item->number.account_sid,
                                      item->number.auth_token)
           != 0)
    {
        sender_transfer_cleanup(&f->transfer);
        free(f);
        sender_media_not_started(s, item, now, "out of memory");
        return;
    }

    if (sender_start(s, &f->transfer) != 0) {
        sender_media_not_started(s, item, now, f->transfer.error);
        sender_transfer_cleanup(&f->transfer);
        free(f);
        return;
    }

    sender_media.active++;
    sender_debug(s, "copying media %u of message %s", f->idx,
                 f->message_id);
}


/* Twilio's media need the account's credentials, and only Twilio's own
 * API host (or the one the number names) may see them. */
static int
sender_media_credentials_for(const inbox_number_t *number, const char *url)
{
    const char  *base;
    size_t       len;

    if (number->carrier != INBOX_CARRIER_TWILIO
        || number->account_sid == NULL || number->auth_token == NULL)
    {
        return 0;
    }

    base = number->api_base != NULL ? number->api_base : SENDER_TWILIO_API;
    len = strlen(base);

    while (len > 0 && base[len - 1] == '/') {
        len--;
    }

    return strncmp(url, base, len) == 0 && url[len] == '/';
}


static void
sender_media_done(sender_transfer_t *t)
{
    char                 why[256];
    int64_t              now;
    sender_fetch_t      *f = t->data;
    sender_t            *s = f->s;
    inbox_error_t        err;
    inbox_event_list_t   events;

    sender_media.active--;

    if (t->reach == SENDER_NO_DESCRIPTOR) {
        now = inbox_now_ms();
        sender_media_give_back(s, f->message_id, f->idx, now,
                               sender_no_descriptor(s, now),
                               "no file descriptor free");

    } else if (t->reach != SENDER_ANSWERED && t->refused[0] != '\0'
               && t->allowed_hop != t->refused_hop)
    {
        /* where the URL leads will not change (an address it may reach,
         * tried beside the refused one, failed as any: again later) */
        snprintf(why, sizeof(why), "refused to connect to %s: not a "
                 "public address, nor the number's own carrier API",
                 t->refused);
        sender_media_failed(s, f, why, 1);

    } else if (t->reach != SENDER_ANSWERED) {
        sender_media_failed(s, f, t->response_cut ? "the file is too large"
                                                  : t->error,
                            t->response_cut);

    } else if (t->status != 200) {
        /* a carrier's 404 will not change; its 5xx may */
        sender_media_failed(s, f, "the carrier refused it",
                            t->status >= 400 && t->status < 500
                            && t->status != 408 && t->status != 429);

    } else {
        memset(&events, 0, sizeof(events));

        if (sender_media_store(s, f, &events, &err) == INBOX_OK) {
            sender_publish(s, &events);
        } else {
            /* a disk that is full or gone: tried again later, as a
             * carrier's hiccup is, and given up after as many tries */
            sender_media_failed(s, f, err.message, 0);
        }

        inbox_event_list_free(&events);
    }

    sender_transfer_cleanup(t);
    free(f);
}


static inbox_status_t
sender_media_store(sender_t *s, sender_fetch_t *f, inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_status_t              rc;
    inbox_media_writer_t        w;
    const inbox_media_type_t   *type;
    sender_transfer_t          *t = &f->transfer;

    type = inbox_media_type(t->response, t->response_len);
    if (type == NULL) {
        /* the carrier has nothing more to give */
        sender_media_failed(s, f, "the carrier sent an empty file", 1);
        return INBOX_OK;
    }

    /*
     * From the operator's own network (the number's API base on a private
     * address), only a type a phone sends: anyone holding the account's
     * credentials can sign a webhook naming any page there, whose answer
     * would otherwise be kept for them to download.
     */
    if (t->reached_private
        && strcmp(type->content_type, INBOX_MEDIA_TYPE_UNKNOWN) == 0)
    {
        sender_media_failed(s, f, "from a private address, and of no type "
                            "a phone sends", 1);
        return INBOX_OK;
    }

    rc = inbox_media_write_begin(&w, s->options.media_dir, type, err);
    if (rc == INBOX_OK) {
        rc = inbox_media_write(&w, t->response, t->response_len, err);
    }
    if (rc == INBOX_OK) {
        rc = inbox_media_write_commit(&w, err);
    } else {
        inbox_media_write_abort(&w);
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_store_media_fetch_done(s->store, f->message_id, f->idx,
                                      w.file, type->content_type,
                                      (int64_t) t->response_len, events,
                                      err);
    /*
     * Removed only when the store says no record points at it (nobody
     * would ever serve it).  A store that failed otherwise may have
     * recorded it before failing (MongoDB: the media's state is written
     * before the message is read back and its events appended), and a
     * copy the inbox shows must not go: kept, at worst unused.
     */
    if (rc == INBOX_ERR_NOT_FOUND || rc == INBOX_ERR_CONFLICT
        || rc == INBOX_ERR_INVALID)
    {
        inbox_media_remove(s->options.media_dir, w.file);
    }

    return rc;
}


static void
sender_media_failed(sender_t *s, sender_fetch_t *f, const char *why,
    int final)
{
    int64_t              now, retry_at;
    inbox_error_t        err;
    inbox_event_list_t   events;

    now = inbox_now_ms();
    retry_at = final ? 0 : inbox_media_fetch_retry_at(f->attempts, now);

    sender_log(s, "media %u of message %s: %s%s", f->idx, f->message_id,
               why, retry_at == 0 ? " (given up)" : "");

    memset(&events, 0, sizeof(events));

    if (inbox_store_media_fetch_failed(s->store, f->message_id, f->idx,
                                       retry_at, &events, &err)
        == INBOX_OK)
    {
        sender_publish(s, &events);

        if (retry_at != 0 && retry_at < sender_media.due) {
            sender_media.due = retry_at;
        }
    }

    inbox_event_list_free(&events);
}


/* The copy could not start (sender_start.c): given back at once, due
 * later each time none starts. */
static void
sender_media_not_started(sender_t *s, const inbox_media_fetch_t *item,
    int64_t now, const char *why)
{
    sender_media_give_back(s, item->message_id, item->idx, now,
                           sender_start_failed(s, now, why), why);
}


/* The copy never left (sender_nofile.c, sender_start.c): due again at
 * due_at, with the attempt its claim counted taken back.  Should the
 * store refuse, its lease runs out and it comes back, that attempt
 * counted. */
static void
sender_media_give_back(sender_t *s, const char *message_id, unsigned idx,
    int64_t now, int64_t due_at, const char *why)
{
    inbox_error_t  err;

    if (inbox_store_media_fetch_give_back(s->store, message_id, idx, due_at,
                                          &err)
        != INBOX_OK)
    {
        sender_log(s, "media %u of message %s: not copied (%s), and cannot "
                   "be given back: %s", idx, message_id, why, err.message);
        return;
    }

    sender_debug(s, "media %u of message %s given back uncopied (%s), due "
                 "in %" PRId64 " ms", idx, message_id, why,
                 due_at - now);

    if (due_at < sender_media.due) {
        sender_media.due = due_at;
    }
}
