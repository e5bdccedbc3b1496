/*
 * Preloaded into nginx by a test (LD_PRELOAD): the first unlink of a
 * path in the directory INBOX_TEST_KILL_DIR made while the file
 * INBOX_TEST_KILL_ARM exists removes that file and kills the process
 * (SIGKILL) before anything is unlinked, as a worker dying between a
 * purge's records and its files would; the file's removal disarms it,
 * so only one process dies, once.  Every other unlink is libc's.  Both
 * are read as the library loads, in the master: nginx's workers keep
 * only the environment its env directives name.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*unlink_pt)(const char *path);


static char  kill_dir[PATH_MAX];
static char  kill_arm[PATH_MAX];


__attribute__((constructor)) static void
unlink_kills_init(void)
{
    const char  *dir, *arm;

    dir = getenv("INBOX_TEST_KILL_DIR");
    arm = getenv("INBOX_TEST_KILL_ARM");

    if (dir != NULL && arm != NULL) {
        snprintf(kill_dir, sizeof(kill_dir), "%s/", dir);
        snprintf(kill_arm, sizeof(kill_arm), "%s", arm);
    }
}


int
unlink(const char *path)
{
    static unlink_pt  real;

    if (real == NULL) {
        *(void **) &real = dlsym(RTLD_NEXT, "unlink");
        if (real == NULL) {
            errno = ENOSYS;
            return -1;
        }
    }

    /* only the one whose unlink of the arm file succeeds dies */
    if (kill_dir[0] != '\0'
        && strncmp(path, kill_dir, strlen(kill_dir)) == 0
        && real(kill_arm) == 0)
    {
        kill(getpid(), SIGKILL);
    }

    return real(path);
}
