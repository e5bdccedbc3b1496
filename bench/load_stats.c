/*
 * Latencies, status counts and the report of a load run.
 */
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "load_stats.h"


typedef struct {
    uint64_t   answers;
    uint64_t   ok;          /* 2xx */
    double     rps;
    uint32_t   p50, p90, p99, max;
    double     mean;
} load_summary_t;


static int compare_u32(const void *a, const void *b);
static uint32_t percentile(const load_stats_t *stats, double p);
static void summarize(load_stats_t *stats, const load_run_t *run,
    load_summary_t *sum);
static void print_json(const load_stats_t *stats, const load_run_t *run,
    const load_summary_t *sum, FILE *out);
static void gen_key(yajl_gen g, const char *key);
static void gen_uint(yajl_gen g, const char *key, uint64_t value);
static void gen_fixed(yajl_gen g, const char *key, double value);


int
load_stats_record(load_stats_t *stats, int status, uint64_t latency_ns)
{
    uint32_t  *grown;
    uint64_t   capacity, us;

    if (stats->count == stats->capacity) {
        capacity = stats->capacity ? stats->capacity * 2 : 65536;
        grown = realloc(stats->latency_us, capacity * sizeof(uint32_t));
        if (grown == NULL) {
            return -1;
        }
        stats->latency_us = grown;
        stats->capacity = capacity;
    }

    us = latency_ns / 1000;
    stats->latency_us[stats->count++] = us > UINT32_MAX ? UINT32_MAX : us;

    if (status >= 100 && status < 600) {
        stats->status[status]++;
    }

    return 0;
}


int
load_stats_merge(load_stats_t *dst, load_stats_t *src)
{
    size_t     i;
    uint32_t  *grown;
    uint64_t   need;

    need = dst->count + src->count;
    if (need > dst->capacity) {
        grown = realloc(dst->latency_us, need * sizeof(uint32_t));
        if (grown == NULL && need > 0) {
            return -1;
        }
        dst->latency_us = grown;
        dst->capacity = need;
    }

    if (src->count) {
        memcpy(dst->latency_us + dst->count, src->latency_us,
               src->count * sizeof(uint32_t));
    }
    dst->count = need;

    for (i = 0; i < 600; i++) {
        dst->status[i] += src->status[i];
    }

    dst->errors.connect += src->errors.connect;
    dst->errors.read += src->errors.read;
    dst->errors.write += src->errors.write;
    dst->errors.timeout += src->errors.timeout;
    dst->errors.parse += src->errors.parse;
    dst->reconnects += src->reconnects;

    load_stats_free(src);

    return 0;
}


void
load_stats_free(load_stats_t *stats)
{
    free(stats->latency_us);
    memset(stats, 0, sizeof(*stats));
}


void
load_stats_report(load_stats_t *stats, const load_run_t *run, FILE *out)
{
    size_t          i;
    load_summary_t  sum;

    summarize(stats, run, &sum);

    fprintf(out, "%s: %u connections, %u thread(s), %.2f s\n",
            run->path, run->connections, run->threads, run->elapsed_s);
    fprintf(out, "  answers     %llu (%llu 2xx)\n",
            (unsigned long long) sum.answers, (unsigned long long) sum.ok);
    fprintf(out, "  throughput  %.0f req/s\n", sum.rps);
    fprintf(out, "  latency     mean %.0f us, p50 %u us, p90 %u us, "
            "p99 %u us, max %u us\n",
            sum.mean, sum.p50, sum.p90, sum.p99, sum.max);

    for (i = 100; i < 600; i++) {
        if (stats->status[i] && (i < 200 || i >= 300)) {
            fprintf(out, "  status %zu  %llu\n", i,
                    (unsigned long long) stats->status[i]);
        }
    }

    fprintf(out, "  tool cpu    %.2f s (%.0f%% of one core)\n", run->cpu_s,
            run->elapsed_s > 0 ? 100 * run->cpu_s / run->elapsed_s : 0);
    fprintf(out, "  socket errors: connect %llu, read %llu, write %llu, "
            "timeout %llu, parse %llu\n",
            (unsigned long long) stats->errors.connect,
            (unsigned long long) stats->errors.read,
            (unsigned long long) stats->errors.write,
            (unsigned long long) stats->errors.timeout,
            (unsigned long long) stats->errors.parse);

    print_json(stats, run, &sum, out);
}


static void
summarize(load_stats_t *stats, const load_run_t *run, load_summary_t *sum)
{
    size_t  i;
    double  total;

    memset(sum, 0, sizeof(*sum));

    qsort(stats->latency_us, stats->count, sizeof(uint32_t), compare_u32);

    sum->answers = stats->count;

    for (i = 200; i < 300; i++) {
        sum->ok += stats->status[i];
    }

    sum->rps = run->elapsed_s > 0 ? stats->count / run->elapsed_s : 0;

    total = 0;
    for (i = 0; i < stats->count; i++) {
        total += stats->latency_us[i];
    }

    sum->mean = stats->count ? total / stats->count : 0;
    sum->p50 = percentile(stats, 50);
    sum->p90 = percentile(stats, 90);
    sum->p99 = percentile(stats, 99);
    sum->max = stats->count ? stats->latency_us[stats->count - 1] : 0;
}


/* Nearest rank on the sorted latencies. */
static uint32_t
percentile(const load_stats_t *stats, double p)
{
    uint64_t  rank;

    if (stats->count == 0) {
        return 0;
    }

    rank = (uint64_t) (p / 100.0 * stats->count + 0.999999);
    if (rank == 0) {
        rank = 1;
    }
    if (rank > stats->count) {
        rank = stats->count;
    }

    return stats->latency_us[rank - 1];
}


static void
print_json(const load_stats_t *stats, const load_run_t *run,
    const load_summary_t *sum, FILE *out)
{
    size_t                i;
    size_t                len;
    yajl_gen              g;
    char                  code[4];
    const unsigned char  *json;

    g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return;
    }

    yajl_gen_map_open(g);
    gen_key(g, "path");
    yajl_gen_string(g, (const unsigned char *) run->path,
                    strlen(run->path));
    gen_uint(g, "connections", run->connections);
    gen_uint(g, "threads", run->threads);
    gen_fixed(g, "elapsed_s", run->elapsed_s);
    gen_fixed(g, "tool_cpu_s", run->cpu_s);
    gen_uint(g, "requests", sum->answers);
    gen_uint(g, "ok", sum->ok);
    gen_uint(g, "rps", (uint64_t) (sum->rps + 0.5));

    gen_key(g, "latency_us");
    yajl_gen_map_open(g);
    gen_uint(g, "mean", (uint64_t) (sum->mean + 0.5));
    gen_uint(g, "p50", sum->p50);
    gen_uint(g, "p90", sum->p90);
    gen_uint(g, "p99", sum->p99);
    gen_uint(g, "max", sum->max);
    yajl_gen_map_close(g);

    gen_key(g, "status");
    yajl_gen_map_open(g);
    for (i = 100; i < 600; i++) {
        if (stats->status[i]) {
            snprintf(code, sizeof(code), "%zu", i);
            gen_uint(g, code, stats->status[i]);
        }
    }
    yajl_gen_map_close(g);

    gen_key(g, "errors");
    yajl_gen_map_open(g);
    gen_uint(g, "connect", stats->errors.connect);
    gen_uint(g, "read", stats->errors.read);
    gen_uint(g, "write", stats->errors.write);
    gen_uint(g, "timeout", stats->errors.timeout);
    gen_uint(g, "parse", stats->errors.parse);
    yajl_gen_map_close(g);

    gen_uint(g, "reconnects", stats->reconnects);
    yajl_gen_map_close(g);

    if (yajl_gen_get_buf(g, &json, &len) == yajl_gen_status_ok) {
        fprintf(out, "%.*s\n", (int) len, json);
    }

    yajl_gen_free(g);
}


static void
gen_key(yajl_gen g, const char *key)
{
    yajl_gen_string(g, (const unsigned char *) key, strlen(key));
}


static void
gen_uint(yajl_gen g, const char *key, uint64_t value)
{
    gen_key(g, key);
    yajl_gen_integer(g, (long long) value);
}


/* Three decimals: yajl_gen_double prints every digit a double has. */
static void
gen_fixed(yajl_gen g, const char *key, double value)
{
    int   len;
    char  buf[32];

    len = snprintf(buf, sizeof(buf), "%.3f", value);

    gen_key(g, key);
    yajl_gen_number(g, buf, len);
}


static int
compare_u32(const void *a, const void *b)
{
    uint32_t  x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}
