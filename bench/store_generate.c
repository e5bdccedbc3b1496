/*
 * store-generate: makes a large store for measuring the thread list and
 * its search (bench/search):
 *
 *   store-generate --store sqlite:PATH [--threads N] [--orgs K]
 *                  [--other-threads M] [--seed S]
 *
 * PATH must not exist.  The store is made by libinbox
 * (inbox_store_create, so its schema is the store's own), with an
 * organization "Bench" owning +15005550006 and K others ("Other 1", ...)
 * owning +15005551kkk.  Every thread is one inbound message stored by
 * inbox_store_inbound_ingest in batches, from its own number (40 area
 * codes, a different subscriber number each), a minute or so apart and
 * the others' threads among them.  What no store operation does in bulk
 * is then done with SQL on the same file, in one transaction (the
 * store's triggers keep the counts and the search index): about 3 in 4
 * contacts get a name (first and last from lists of common ones), tags
 * ("customer" 1 in 3, "VIP" 1 in 50, "Spring 2025" 1 in 500), and
 * the threads a realistic mix of flags: older ones mostly archived, 1 in
 * 10 of the rest unread, 1 in 50 starred, 2 in 3 answered (last message
 * outbound, a person's response).  Last, the store indexes its contacts
 * for search, as the server's housekeeping would (inbox_store_maintain):
 * nothing is left pending.  Prints the Bench organization's id.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#include <inbox/error.h>
#include <inbox/event.h>
#include <inbox/model.h>
#include <inbox/search.h>
#include <inbox/store.h>


#define BATCH   2000
#define T0      1735689600000LL      /* 2025-01-01T00:00:00Z */
#define STEP    30000LL              /* ms between two threads' activity */


static const char  *first_names[] = {
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael",
    "Linda", "David", "Elizabeth", "William", "Barbara", "Richard", "Susan",
    "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Chris",
    "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret",
    "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Paul",
    "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kenneth", "Carol",
    "Kevin", "Amanda", "Brian", "Melissa", "George", "Deborah", "Timothy",
    "Stephanie", "Ronald", "Rebecca", "Edward", "Sharon", "Jason", "Laura",
    "Jeffrey", "Cynthia", "Ryan", "Kathleen", "Jacob", "Amy", "Gary",
    "Angela", "Nicholas", "Shirley", "Eric", "Anna", "Jonathan", "Brenda",
    "Stephen", "Pamela", "Larry", "Emma", "Justin", "Nicole", "Scott",
    "Helen", "Brandon", "Samantha", "Benjamin", "Katherine", "Samuel",
    "Christine", "Gregory", "Debra", "Alexander", "Rachel", "Frank",
    "Carolyn", "Patrick", "Janet", "Raymond", "Catherine", "Jack", "Maria",
    "Dennis", "Heather", "Jerry", "Diane", "Tyler", "Ruth", "Aaron", "Julie",
    "José", "Zoë", "Chloé", "Renée", "Ngozi", "Wei", "Priya", "Aisha"
};

static const char  *last_names[] = {
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller",
    "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez",
    "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
    "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
    "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz",
    "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan",
    "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos",
    "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez",
    "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long",
    "Ross", "Foster", "Jimenez", "Powell", "Jenkins", "Perry", "Russell",
    "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan",
    "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin",
    "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera",
    "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray",
    "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
    "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas",
    "Henry", "Chen", "Freeman", "Webb", "Tucker", "Guzman", "Burns",
    "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez",
    "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Muñoz", "Hunt", "Hicks",
    "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose",
    "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice",
    "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens",
    "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "O'Brien"
};

static const char  *area_codes[] = {
    "201", "212", "213", "214", "215", "216", "224", "248", "281", "303",
    "305", "310", "312", "313", "317", "323", "346", "347", "404", "408",
    "415", "424", "469", "480", "503", "510", "512", "602", "617", "646",
    "702", "713", "718", "720", "773", "786", "818", "832", "917", "972"
};

static const struct {
    const char  *tag;
    uint64_t     every;
} tags[] = {
    { "customer", 3 }, { "VIP", 50 }, { "Spring 2025", 500 }
};

#define COUNT(a)  (sizeof(a) / sizeof((a)[0]))


static uint64_t mix(uint64_t x);
static double now_s(void);
static int make_org(inbox_store_t *store, const char *name,
    const char *number, char id[INBOX_ID_MAX]);
static int ingest(inbox_store_t *store, size_t threads, size_t orgs,
    size_t other_threads, uint64_t seed);
static int finish(const char *path, uint64_t seed);
static int maintain(const char *uri);


int
main(int argc, char **argv)
{
    int                    ch;
    char                   org[INBOX_ID_MAX], other[INBOX_ID_MAX];
    char                   name[32], number[INBOX_PHONE_MAX];
    size_t                 k, threads, orgs, other_threads;
    double                 start;
    uint64_t               seed;
    const char            *uri;
    inbox_error_t          err;
    inbox_store_t         *store;
    static struct option   long_options[] = {
        { "store",         required_argument, NULL, 's' },
        { "threads",       required_argument, NULL, 'n' },
        { "orgs",          required_argument, NULL, 'o' },
        { "other-threads", required_argument, NULL, 'm' },
        { "seed",          required_argument, NULL, 'S' },
        { NULL, 0, NULL, 0 }
    };

    uri = NULL;
    threads = 1000000;
    orgs = 10;
    other_threads = 10000;
    seed = 1;

    while ((ch = getopt_long(argc, argv, "s:n:", long_options, NULL)) != -1)
    {
        switch (ch) {
        case 's':
            uri = optarg;
            break;
        case 'n':
            threads = strtoul(optarg, NULL, 10);
            break;
        case 'o':
            orgs = strtoul(optarg, NULL, 10);
            break;
        case 'm':
            other_threads = strtoul(optarg, NULL, 10);
            break;
        case 'S':
            seed = strtoull(optarg, NULL, 10);
            break;
        default:
            goto usage;
        }
    }

    if (uri == NULL || strncmp(uri, "sqlite:", 7) != 0 || orgs > 999) {
        goto usage;
    }

    start = now_s();
    memset(&err, 0, sizeof(err));

    store = inbox_store_create(uri, &err);
    if (store == NULL) {
        fprintf(stderr, "store-generate: %s\n", err.message);
        return 1;
    }

    if (make_org(store, "Bench", "+15005550006", org) != 0) {
        return 1;
    }

    for (k = 1; k <= orgs; k++) {
        snprintf(name, sizeof(name), "Other %zu", k);
        snprintf(number, sizeof(number), "+15005551%03zu", k);
        if (make_org(store, name, number, other) != 0) {
            return 1;
        }
    }

    if (ingest(store, threads, orgs, other_threads, seed) != 0) {
        return 1;
    }

    inbox_store_close(store);

    fprintf(stderr, "store-generate: %zu + %zu x %zu threads ingested in "
            "%.1f s\n", threads, orgs, other_threads, now_s() - start);

    if (finish(uri + 7, seed) != 0 || maintain(uri) != 0) {
        return 1;
    }

    fprintf(stderr, "store-generate: done in %.1f s\n", now_s() - start);
    printf("%s\n", org);

    return 0;

usage:

    fprintf(stderr, "usage: store-generate --store sqlite:PATH [--threads N]"
            " [--orgs K] [--other-threads M] [--seed S]\n");
    return 2;
}


/* splitmix64's finalizer: a well spread hash of x. */
static uint64_t
mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;

    return x ^ (x >> 31);
}


static double
now_s(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int
make_org(inbox_store_t *store, const char *name, const char *e164,
    char id[INBOX_ID_MAX])
{
    inbox_error_t   err;
    inbox_number_t  number;

    memset(&err, 0, sizeof(err));

    if (inbox_store_org_create(store, name, "UTC", id, &err) != INBOX_OK) {
        fprintf(stderr, "store-generate: %s\n", err.message);
        return -1;
    }

    memset(&number, 0, sizeof(number));
    strcpy(number.org_id, id);
    strcpy(number.e164, e164);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.account_sid = (char *) "AC0123456789abcdef0123456789abcdef";
    number.auth_token = (char *) "T";

    if (inbox_store_number_add(store, &number, &err) != INBOX_OK) {
        fprintf(stderr, "store-generate: %s\n", err.message);
        return -1;
    }

    return 0;
}


/*
 * Thread i of all (the Bench organization's and the others' mixed, one
 * other's thread every threads / (orgs * other_threads) of Bench's) is one
 * message at T0 + i * STEP from a number of its own: an area code and a
 * subscriber number that i picks (7 digits, a bijection of i's rank).
 */
static int
ingest(inbox_store_t *store, size_t threads, size_t orgs,
    size_t other_threads, uint64_t seed)
{
    char                   *bodies, *sids;
    size_t                  i, k, total, done, every, subscriber;
    uint64_t                h;
    inbox_error_t           err;
    inbox_inbound_t        *msgs;
    inbox_event_list_t      events;
    inbox_ingest_result_t  *results;

    total = threads + orgs * other_threads;
    every = orgs * other_threads > 0 ? total / (orgs * other_threads) : 0;

    msgs = calloc(BATCH, sizeof(inbox_inbound_t));
    results = calloc(BATCH, sizeof(inbox_ingest_result_t));
    bodies = malloc(BATCH * 128);
    sids = malloc(BATCH * 40);
    if (msgs == NULL || results == NULL || bodies == NULL || sids == NULL) {
        fprintf(stderr, "store-generate: out of memory\n");
        return -1;
    }

    memset(&err, 0, sizeof(err));

    for (done = 0; done < total; done += k) {
        k = total - done < BATCH ? total - done : BATCH;

        for (i = 0; i < k; i++) {
            h = mix(seed ^ (done + i));
            memset(&msgs[i], 0, sizeof(inbox_inbound_t));
            msgs[i].carrier = INBOX_CARRIER_TWILIO;
            snprintf(sids + i * 40, 40, "SMgen%029zu", done + i);
            msgs[i].provider_id = sids + i * 40;

            /* 7919 is prime to 10^7: distinct i, distinct numbers */
            subscriber = ((done + i) * 7919 + 2000000) % 10000000;
            snprintf(msgs[i].from, sizeof(msgs[i].from), "+1%s%07zu",
                     area_codes[h % COUNT(area_codes)], subscriber);

            if (every > 0 && (done + i) % every == every - 1
                && (done + i) / every < orgs * other_threads)
            {
                snprintf(msgs[i].to, sizeof(msgs[i].to), "+15005551%03zu",
                         (done + i) / every % orgs + 1);
            } else {
                strcpy(msgs[i].to, "+15005550006");
            }

            snprintf(bodies + i * 128, 128,
                     "Hi! Is my order %zu ready for pickup on Thursday?",
                     (size_t) (h >> 40));
            msgs[i].body = bodies + i * 128;
            msgs[i].segments = 1;
            msgs[i].received_at = T0 + (int64_t) (done + i) * STEP
                                  + (int64_t) (h % 1000);
        }

        memset(&events, 0, sizeof(events));

        if (inbox_store_inbound_ingest(store, msgs, k, results, &events,
                                       &err)
            != INBOX_OK)
        {
            fprintf(stderr, "store-generate: %s\n", err.message);
            return -1;
        }

        inbox_event_list_free(&events);

        for (i = 0; i < k; i++) {
            if (results[i].status != INBOX_OK) {
                fprintf(stderr, "store-generate: message %zu not stored\n",
                        done + i);
                return -1;
            }
        }

        if (done / BATCH % 50 == 0) {
            fprintf(stderr, "\rstore-generate: %zu / %zu", done + k, total);
        }
    }

    fprintf(stderr, "\n");

    free(msgs);
    free(results);
    free(bodies);
    free(sids);

    return 0;
}


/* Names and flags, in one transaction on the file the store made. */
static int
finish(const char *path, uint64_t seed)
{
    int            rc;
    char           name[96], key[INBOX_SEARCH_KEY_MAX];
    int64_t        id, max_id, rank;
    uint64_t       h;
    sqlite3       *db;
    sqlite3_stmt  *contact, *thread, *tag, *stmt;
    size_t         k;
    int            archived, unread, starred, answered;

    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "store-generate: %s\n", sqlite3_errmsg(db));
        return -1;
    }

    rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL;"
                          "PRAGMA synchronous = OFF;"
                          "PRAGMA cache_size = -262144;"
                          "BEGIN IMMEDIATE;", NULL, NULL, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db,
            "UPDATE contacts SET name = ?2, search_name = ?3 WHERE id = ?1",
            -1, &contact, NULL);
    }

    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db,
            "INSERT INTO contact_tags (contact_id, org_id, tag)"
            " SELECT id, org_id, ?2 FROM contacts WHERE id = ?1", -1, &tag,
            NULL);
    }

    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db,
            "UPDATE conversations SET unread_count = ?2, archived = ?3,"
            " starred = ?4, last_direction = ?5,"
            " last_read_at = CASE WHEN ?2 = 0 THEN last_activity_at END,"
            /* an answered thread's last message is its response */
            " responded_at = CASE WHEN ?5 = 'outbound'"
            "   THEN last_activity_at END,"
            " unresponded_at = CASE WHEN ?5 = 'inbound'"
            "   THEN unresponded_at END"
            " WHERE id = ?1", -1, &thread, NULL);
    }

    if (rc != SQLITE_OK) {
        fprintf(stderr, "store-generate: %s\n", sqlite3_errmsg(db));
        return -1;
    }

    max_id = 0;
    if (sqlite3_prepare_v2(db, "SELECT max(id) FROM conversations", -1,
                           &stmt, NULL) == SQLITE_OK)
    {
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            max_id = sqlite3_column_int64(stmt, 0);
        }
        sqlite3_finalize(stmt);
    }

    for (id = 1; id <= max_id && rc == SQLITE_OK; id++) {
        h = mix(seed * 31 + (uint64_t) id);

        /* contacts and threads are made together, so ids go alike */
        if (h % 4 != 0) {
            snprintf(name, sizeof(name), "%s %s",
                     first_names[(h >> 8) % COUNT(first_names)],
                     last_names[(h >> 24) % COUNT(last_names)]);
            sqlite3_bind_int64(contact, 1, id);
            sqlite3_bind_text(contact, 2, name, -1, SQLITE_TRANSIENT);
            /* what the store writes beside a name (search.h) */
            (void) inbox_search_key(name, key, sizeof(key));
            sqlite3_bind_text(contact, 3, key, -1, SQLITE_TRANSIENT);
            rc = sqlite3_step(contact) == SQLITE_DONE ? SQLITE_OK
                                                      : SQLITE_ERROR;
            sqlite3_reset(contact);
        }

        for (k = 0; k < COUNT(tags) && rc == SQLITE_OK; k++) {
            if ((h >> 32) % tags[k].every == tags[k].every - 1) {
                sqlite3_bind_int64(tag, 1, id);
                sqlite3_bind_text(tag, 2, tags[k].tag, -1, SQLITE_STATIC);
                rc = sqlite3_step(tag) == SQLITE_DONE ? SQLITE_OK
                                                      : SQLITE_ERROR;
                sqlite3_reset(tag);
            }
        }

        /* rank 0 is the oldest, 1000 the newest */
        rank = id * 1000 / max_id;
        archived = (int64_t) ((h >> 40) % 1000) < (1000 - rank) * 8 / 10;
        unread = !archived && (h >> 50) % 10 == 0;
        starred = (h >> 54) % 50 == 0;
        answered = (h >> 60) % 3 != 0;

        sqlite3_bind_int64(thread, 1, id);
        sqlite3_bind_int(thread, 2, unread ? 1 + (int) ((h >> 20) % 3) : 0);
        sqlite3_bind_int(thread, 3, archived);
        sqlite3_bind_int(thread, 4, starred);
        sqlite3_bind_text(thread, 5, answered ? "outbound" : "inbound", -1,
                          SQLITE_STATIC);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(thread) == SQLITE_DONE ? SQLITE_OK
                                                     : SQLITE_ERROR;
        }
        sqlite3_reset(thread);
    }

    sqlite3_finalize(contact);
    sqlite3_finalize(tag);
    sqlite3_finalize(thread);

    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);",
                          NULL, NULL, NULL);
    }

    if (rc != SQLITE_OK) {
        fprintf(stderr, "store-generate: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }

    sqlite3_close(db);

    return 0;
}


/* The contacts noted for the search index, indexed (the store's own
 * housekeeping), and the log checkpointed. */
static int
maintain(const char *uri)
{
    inbox_error_t   err;
    inbox_store_t  *store;

    memset(&err, 0, sizeof(err));

    store = inbox_store_open(uri, &err);

    if (store == NULL || inbox_store_maintain(store, &err) != INBOX_OK) {
        fprintf(stderr, "store-generate: %s\n", err.message);
        inbox_store_close(store);
        return -1;
    }

    inbox_store_close(store);

    return 0;
}
