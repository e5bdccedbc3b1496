/*
 * store-search: times the thread list, the contacts list and the tags
 * list in the store alone (no nginx, no HTTP), on a store made by
 * store-generate (or bench/tags):
 *
 *   store-search --store URI --org ID [--repeat N] [--contacts | --tags]
 *                [--filter F] [--tag T] [Q ...]
 *
 * Each Q (a search; "" for none) is asked N times (default 20) for the
 * first page of the filter (all, unread, unresponded, starred, archived;
 * default all, a search from it also finds archived threads) or, with
 * --contacts, of the contacts list (with --tag T, its tag filter).  One
 * line a Q: the items of the first page, whether there is a next one, and
 * the median, 90th percentile and worst time in microseconds.  With
 * --tags, the organization's tags (GET tags) instead, one line, no Q.
 * The first asking of all is not timed (it opens the connection).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <inbox/error.h>
#include <inbox/model.h>
#include <inbox/store.h>


static double now_us(void);
static int compare(const void *a, const void *b);
static int ask(inbox_store_t *store, const char *org, int contacts,
    inbox_filter_t filter, const char *tag, const char *q, size_t *items,
    int *more);
static int ask_tags(inbox_store_t *store, const char *org, size_t *items,
    int *more);


int
main(int argc, char **argv)
{
    int                    ch, contacts, tags, more;
    size_t                 items, k, last, n, repeat;
    double                *times, start;
    const char            *uri, *org, *tag, *q;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_filter_t         filter;
    static struct option   long_options[] = {
        { "store",    required_argument, NULL, 's' },
        { "org",      required_argument, NULL, 'o' },
        { "repeat",   required_argument, NULL, 'n' },
        { "filter",   required_argument, NULL, 'f' },
        { "tag",      required_argument, NULL, 't' },
        { "contacts", no_argument,       NULL, 'c' },
        { "tags",     no_argument,       NULL, 'g' },
        { NULL, 0, NULL, 0 }
    };

    uri = NULL;
    org = NULL;
    tag = NULL;
    repeat = 20;
    contacts = 0;
    tags = 0;
    filter = INBOX_FILTER_ALL;

    while ((ch = getopt_long(argc, argv, "s:o:n:f:t:cg", long_options, NULL))
           != -1)
    {
        switch (ch) {
        case 's':
            uri = optarg;
            break;
        case 'o':
            org = optarg;
            break;
        case 'n':
            repeat = strtoul(optarg, NULL, 10);
            break;
        case 'f':
            if (inbox_filter_parse(optarg, &filter) != 0) {
                goto usage;
            }
            break;
        case 't':
            tag = optarg;
            break;
        case 'c':
            contacts = 1;
            break;
        case 'g':
            tags = 1;
            break;
        default:
            goto usage;
        }
    }

    if (uri == NULL || org == NULL || repeat == 0 || (tags && contacts)) {
        goto usage;
    }

    memset(&err, 0, sizeof(err));

    store = inbox_store_open(uri, &err);
    if (store == NULL) {
        fprintf(stderr, "store-search: %s\n", err.message);
        return 1;
    }

    times = calloc(repeat, sizeof(double));
    if (times == NULL
        || (tags ? ask_tags(store, org, &items, &more)
                 : ask(store, org, contacts, filter, tag, "", &items, &more))
           != 0)
    {
        return 1;
    }

    printf("| q | items | more | p50 µs | p90 µs | max µs |\n"
           "| --- | --- | --- | --- | --- | --- |\n");

    /* the tags list has no Q: one line */
    last = tags ? (size_t) optind + 1 : (size_t) argc;

    for (k = (size_t) optind; k < last; k++) {
        q = tags ? "(tags)" : argv[k];

        for (n = 0; n < repeat; n++) {
            start = now_us();
            if ((tags ? ask_tags(store, org, &items, &more)
                      : ask(store, org, contacts, filter, tag, q, &items,
                            &more))
                != 0)
            {
                return 1;
            }
            times[n] = now_us() - start;
        }

        qsort(times, repeat, sizeof(double), compare);

        printf("| %s | %zu | %s | %.0f | %.0f | %.0f |\n", q, items,
               more ? "yes" : "no", times[repeat / 2],
               times[repeat * 9 / 10], times[repeat - 1]);
    }

    free(times);
    inbox_store_close(store);

    return 0;

usage:

    fprintf(stderr, "usage: store-search --store URI --org ID [--repeat N]"
            " [--contacts | --tags] [--filter F] [--tag T] [Q ...]\n");
    return 2;
}


static int
ask(inbox_store_t *store, const char *org, int contacts,
    inbox_filter_t filter, const char *tag, const char *q, size_t *items,
    int *more)
{
    inbox_status_t              rc;
    inbox_error_t               err;
    inbox_contact_page_t        people;
    inbox_contact_query_t       cq;
    inbox_conversation_page_t   page;
    inbox_conversation_query_t  query;

    memset(&err, 0, sizeof(err));

    if (contacts) {
        memset(&cq, 0, sizeof(cq));
        cq.q = q;
        cq.tag = tag;

        rc = inbox_store_contacts_list(store, org, &cq, &people, &err);
        *items = people.count;
        *more = people.next_cursor[0] != '\0';
        inbox_contact_page_free(&people);

    } else {
        memset(&query, 0, sizeof(query));
        query.filter = filter;
        query.q = q;

        rc = inbox_store_conversations_list(store, org, &query, &page, &err);
        *items = page.count;
        *more = page.next_cursor[0] != '\0';
        inbox_conversation_page_free(&page);
    }

    if (rc != INBOX_OK) {
        fprintf(stderr, "store-search: \"%s\": %s\n", q, err.message);
        return -1;
    }

    return 0;
}


static int
ask_tags(inbox_store_t *store, const char *org, size_t *items, int *more)
{
    inbox_status_t    rc;
    inbox_error_t     err;
    inbox_tag_page_t  page;

    memset(&err, 0, sizeof(err));

    rc = inbox_store_tags_list(store, org, &page, &err);
    *items = page.count;
    *more = page.more;
    inbox_tag_page_free(&page);

    if (rc != INBOX_OK) {
        fprintf(stderr, "store-search: tags: %s\n", err.message);
        return -1;
    }

    return 0;
}


static double
now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}


static int
compare(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}
