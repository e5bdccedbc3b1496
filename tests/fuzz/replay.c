/*
 * Runs a fuzz target on saved inputs, without libFuzzer.  make test
 * builds each target with this driver under AddressSanitizer and
 * UndefinedBehaviorSanitizer (build/tests/test_fuzz_TARGET) and runs it
 * like a unit test: it feeds the target every file of its seeds
 * directory (FUZZ_SEEDS), so the targets keep building and every input
 * that ever found something stays a regression test.  A crash or a
 * sanitizer report ends it before its summary, which fails it.
 *
 *     test_fuzz_TARGET [FILE...]    (no FILE: the seeds)
 */
#include <dirent.h>
#include <stdio.h>
#include "fuzz.h"


static int
replay(const char *path)
{
    long      len;
    FILE     *f;
    uint8_t  *data;

    f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }

    data = NULL;

    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0
        || (data = malloc((size_t) len + 1)) == NULL
        || fread(data, 1, (size_t) len, f) != (size_t) len)
    {
        free(data);
        fclose(f);
        return -1;
    }

    fclose(f);
    (void) LLVMFuzzerTestOneInput(data, (size_t) len);
    free(data);

    return 0;
}


int
main(int argc, char **argv)
{
    int             i, passed, failed;
    DIR            *dir;
    char            path[4096];
    struct dirent  *entry;

    passed = 0;
    failed = 0;

    for (i = 1; i < argc; i++) {
        if (replay(argv[i]) == 0) {
            passed++;
        } else {
            fprintf(stderr, "    cannot read %s\n", argv[i]);
            failed++;
        }
    }

    if (argc == 1) {
        dir = opendir(FUZZ_SEEDS);
        if (dir == NULL) {
            fprintf(stderr, "    no seeds in %s\n", FUZZ_SEEDS);
            failed++;
        }

        while (dir != NULL && (entry = readdir(dir)) != NULL) {
            if (entry->d_name[0] == '.') {
                continue;
            }

            snprintf(path, sizeof(path), "%s/%s", FUZZ_SEEDS, entry->d_name);

            if (replay(path) == 0) {
                printf("ok - %s\n", path);
                passed++;
            } else {
                printf("not ok - %s\n", path);
                failed++;
            }
        }

        if (dir != NULL) {
            closedir(dir);
        }
    }

    printf("# %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
