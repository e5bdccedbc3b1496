/*
 * A minimal unit test harness: TEST(name) defines a test, CHECK* record
 * failures with file and line and go on, RUN_TESTS() runs them all and
 * prints "N passed, N failed".  A test fails when any check in it fails.
 */
#ifndef INBOX_CHECK_H
#define INBOX_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*check_fn)(void);

struct check_test {
    const char  *name;
    check_fn     fn;
};

#define CHECK_MAX_TESTS 256

static struct check_test  check_tests[CHECK_MAX_TESTS];
static int                check_ntests;
static int                check_failed_now;

#define TEST(id)                                                            \
    static void test_##id(void);                                            \
    __attribute__((constructor)) static void register_##id(void)            \
    {                                                                       \
        if (check_ntests == CHECK_MAX_TESTS) {                              \
            /* a test that would not run must not pass unseen */            \
            fprintf(stderr, "more than %d tests: raise CHECK_MAX_TESTS\n",  \
                    CHECK_MAX_TESTS);                                       \
            printf("# 0 passed, 1 failed\n");                               \
            exit(1);                                                        \
        }                                                                   \
        check_tests[check_ntests].name = #id;                               \
        check_tests[check_ntests++].fn = test_##id;                         \
    }                                                                       \
    static void test_##id(void)

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "    %s:%d: CHECK(%s) failed\n",                \
                    __FILE__, __LINE__, #cond);                             \
            check_failed_now = 1;                                           \
        }                                                                   \
    } while (0)

#define CHECK_INT(a, b)                                                     \
    do {                                                                    \
        long long check_a_ = (long long) (a), check_b_ = (long long) (b);   \
        if (check_a_ != check_b_) {                                         \
            fprintf(stderr, "    %s:%d: %s == %lld, expected %lld\n",       \
                    __FILE__, __LINE__, #a, check_a_, check_b_);            \
            check_failed_now = 1;                                           \
        }                                                                   \
    } while (0)

#define CHECK_STR(a, b)                                                     \
    do {                                                                    \
        const char *check_a_ = (a), *check_b_ = (b);                        \
        if (check_a_ == NULL || check_b_ == NULL                            \
            || strcmp(check_a_, check_b_) != 0)                             \
        {                                                                   \
            fprintf(stderr, "    %s:%d: %s == \"%s\",\n"                    \
                    "        expected \"%s\"\n", __FILE__, __LINE__, #a,    \
                    check_a_ ? check_a_ : "(null)",                         \
                    check_b_ ? check_b_ : "(null)");                        \
            check_failed_now = 1;                                           \
        }                                                                   \
    } while (0)

#define RUN_TESTS()                                                         \
    int main(void)                                                          \
    {                                                                       \
        int  i, passed = 0, failed = 0;                                     \
        for (i = 0; i < check_ntests; i++) {                                \
            check_failed_now = 0;                                           \
            check_tests[i].fn();                                            \
            if (check_failed_now) {                                         \
                failed++;                                                   \
                printf("not ok - %s\n", check_tests[i].name);               \
            } else {                                                        \
                passed++;                                                   \
                printf("ok - %s\n", check_tests[i].name);                   \
            }                                                               \
        }                                                                   \
        printf("# %d passed, %d failed\n", passed, failed);                 \
        return failed ? 1 : 0;                                              \
    }

#endif
