/*
 * What one load run measured: every latency, answers by status, socket
 * errors.  Each thread fills its own load_stats_t; load_stats_merge() adds
 * them up before the report.  The latency array grows as needed and is
 * freed by load_stats_free().
 */
#ifndef LOAD_STATS_H
#define LOAD_STATS_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
    uint64_t   connect;
    uint64_t   read;      /* includes the server closing mid-request */
    uint64_t   write;
    uint64_t   timeout;
    uint64_t   parse;     /* bytes that were not an HTTP response */
} load_errors_t;

typedef struct {
    uint32_t       *latency_us;   /* one per answer */
    uint64_t        count;
    uint64_t        capacity;
    uint64_t        status[600];
    load_errors_t   errors;
    uint64_t        reconnects;   /* server closed after an answer */
} load_stats_t;

typedef struct {
    const char  *path;
    unsigned     connections;
    unsigned     threads;
    double       elapsed_s;     /* first request to last answer */
    double       cpu_s;         /* the tool's own user + system time */
} load_run_t;

/* 0 on success, -1 when out of memory. */
int load_stats_record(load_stats_t *stats, int status, uint64_t latency_ns);
/* Moves src's figures into dst; src is left empty. */
int load_stats_merge(load_stats_t *dst, load_stats_t *src);
void load_stats_free(load_stats_t *stats);

/* Sorts the latencies (so call once) and prints the human report and
 * then one line of JSON (starting with '{') to out. */
void load_stats_report(load_stats_t *stats, const load_run_t *run,
    FILE *out);

#endif
