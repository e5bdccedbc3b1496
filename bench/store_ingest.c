/*
 * store-ingest: times inbox_store_inbound_ingest() alone, without nginx or
 * HTTP, in batches like the module's group commit, so that the ingest
 * figure of bench/run can be split into "the store" and "the rest".
 *
 *   store-ingest --store sqlite:PATH [-n MESSAGES] [-b BATCH] [--contacts N]
 *
 * PATH should be a new file: it gets an organization owning +15005550006.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <inbox/error.h>
#include <inbox/event.h>
#include <inbox/model.h>
#include <inbox/store.h>


static double now_s(void);
static int setup_org(inbox_store_t *store);


int
main(int argc, char **argv)
{
    int                     ch;
    char                   *bodies, *sids;
    size_t                  i, k, n, batch, contacts, done, stored;
    double                  start, elapsed, t, worst;
    const char             *uri;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_inbound_t        *msgs;
    inbox_event_list_t      events;
    inbox_ingest_result_t  *results;
    static struct option    long_options[] = {
        { "store",    required_argument, NULL, 's' },
        { "messages", required_argument, NULL, 'n' },
        { "batch",    required_argument, NULL, 'b' },
        { "contacts", required_argument, NULL, 'C' },
        { NULL, 0, NULL, 0 }
    };

    uri = NULL;
    n = 20000;
    batch = 64;
    contacts = 1000;

    while ((ch = getopt_long(argc, argv, "s:n:b:", long_options, NULL))
           != -1)
    {
        switch (ch) {
        case 's':
            uri = optarg;
            break;
        case 'n':
            n = strtoul(optarg, NULL, 10);
            break;
        case 'b':
            batch = strtoul(optarg, NULL, 10);
            break;
        case 'C':
            contacts = strtoul(optarg, NULL, 10);
            break;
        default:
            goto usage;
        }
    }

    if (uri == NULL || batch == 0 || contacts == 0) {
        goto usage;
    }

    memset(&err, 0, sizeof(err));

    store = inbox_store_create(uri, &err);
    if (store == NULL) {
        fprintf(stderr, "store-ingest: %s\n", err.message);
        return 1;
    }

    if (setup_org(store) != 0) {
        return 1;
    }

    msgs = calloc(batch, sizeof(inbox_inbound_t));
    results = calloc(batch, sizeof(inbox_ingest_result_t));
    bodies = malloc(batch * 256);
    sids = malloc(batch * 40);
    if (msgs == NULL || results == NULL || bodies == NULL || sids == NULL) {
        fprintf(stderr, "store-ingest: out of memory\n");
        return 1;
    }

    done = 0;
    stored = 0;
    worst = 0;
    start = now_s();

    while (done < n) {
        k = n - done < batch ? n - done : batch;

        for (i = 0; i < k; i++) {
            memset(&msgs[i], 0, sizeof(inbox_inbound_t));
            msgs[i].carrier = INBOX_CARRIER_TWILIO;
            snprintf(sids + i * 40, 40, "SMstore%027zu", done + i);
            msgs[i].provider_id = sids + i * 40;
            snprintf(msgs[i].from, sizeof(msgs[i].from), "+1415%07zu",
                     5550000 + (done + i) % contacts);
            strcpy(msgs[i].to, "+15005550006");
            snprintf(bodies + i * 256, 256,
                     "Hi, this is contact %zu again (message %zu). Is the "
                     "order still on for Thursday at 10?",
                     (done + i) % contacts, done + i);
            msgs[i].body = bodies + i * 256;
            msgs[i].segments = 1;
        }

        memset(&events, 0, sizeof(events));
        t = now_s();

        if (inbox_store_inbound_ingest(store, msgs, k, results, &events,
                                       &err)
            != INBOX_OK)
        {
            fprintf(stderr, "store-ingest: %s\n", err.message);
            return 1;
        }

        t = now_s() - t;
        worst = t > worst ? t : worst;

        for (i = 0; i < k; i++) {
            stored += (results[i].status == INBOX_OK
                       && !results[i].duplicate);
        }

        inbox_event_list_free(&events);
        done += k;
    }

    elapsed = now_s() - start;

    printf("store-ingest: %zu messages in batches of %zu, %zu contacts: "
           "%.0f msg/s, %.1f us/msg, slowest batch %.1f ms; %zu stored\n",
           n, batch, contacts, n / elapsed, elapsed * 1e6 / n, worst * 1e3,
           stored);
    printf("{\"messages\":%zu,\"batch\":%zu,\"contacts\":%zu,"
           "\"msg_per_s\":%.0f,\"stored\":%zu}\n",
           n, batch, contacts, n / elapsed, stored);

    free(msgs);
    free(results);
    free(bodies);
    free(sids);
    inbox_store_close(store);

    return stored == n ? 0 : 1;

usage:

    fprintf(stderr, "usage: store-ingest --store sqlite:PATH [-n MESSAGES] "
            "[-b BATCH] [--contacts N]\n");
    return 2;
}


static double
now_s(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int
setup_org(inbox_store_t *store)
{
    char            org[INBOX_ID_MAX];
    inbox_error_t   err;
    inbox_number_t  number;

    memset(&err, 0, sizeof(err));

    if (inbox_store_org_create(store, "store-ingest", "UTC", org, &err)
        != INBOX_OK)
    {
        fprintf(stderr, "store-ingest: %s\n", err.message);
        return -1;
    }

    memset(&number, 0, sizeof(number));
    strcpy(number.org_id, org);
    strcpy(number.e164, "+15005550006");
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "T";

    if (inbox_store_number_add(store, &number, &err) != INBOX_OK) {
        fprintf(stderr, "store-ingest: %s\n", err.message);
        return -1;
    }

    return 0;
}
