/*
 * Preloaded into nginx by a test (LD_PRELOAD): an unlink (or unlinkat)
 * of a file whose name is what the file INBOX_TEST_UNLINK_FAIL holds
 * fails with EIO, as on a failing disk, while that file exists, and
 * appends a line to INBOX_TEST_UNLINK_FAIL.tries, so the test knows how
 * often it was tried; every other unlink is libc's.  Running as root,
 * the tests cannot make a directory refuse an unlink (root ignores its
 * permissions).  The variable is read as the library loads, in the
 * master: nginx's workers keep only the environment its env directives
 * name.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*unlink_pt)(const char *path);
typedef int (*unlinkat_pt)(int dirfd, const char *path, int flags);


static char  fail_name_file[PATH_MAX];
static char  fail_tries_file[PATH_MAX + 8];


__attribute__((constructor)) static void
unlink_fails_init(void)
{
    const char  *file;

    file = getenv("INBOX_TEST_UNLINK_FAIL");

    if (file != NULL) {
        snprintf(fail_name_file, sizeof(fail_name_file), "%s", file);
        snprintf(fail_tries_file, sizeof(fail_tries_file), "%s.tries",
                 file);
    }
}


/* 1 when path's last part is the name to fail, counted; else 0. */
static int
unlink_fails(const char *path)
{
    int          fd, saved;
    char         name[NAME_MAX + 2];
    ssize_t      n;
    const char  *base;

    if (fail_name_file[0] == '\0') {
        return 0;
    }

    saved = errno;

    fd = open(fail_name_file, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        errno = saved;
        return 0;
    }

    n = read(fd, name, sizeof(name) - 1);
    close(fd);

    if (n <= 0) {
        errno = saved;
        return 0;
    }

    name[n] = '\0';
    name[strcspn(name, "\n")] = '\0';

    base = strrchr(path, '/');
    base = (base == NULL) ? path : base + 1;

    if (strcmp(base, name) != 0) {
        errno = saved;
        return 0;
    }

    fd = open(fail_tries_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
              0644);
    if (fd != -1) {
        (void) write(fd, "EIO\n", 4);
        close(fd);
    }

    errno = EIO;

    return 1;
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

    if (unlink_fails(path)) {
        return -1;
    }

    return real(path);
}


int
unlinkat(int dirfd, const char *path, int flags)
{
    static unlinkat_pt  real;

    if (real == NULL) {
        *(void **) &real = dlsym(RTLD_NEXT, "unlinkat");
        if (real == NULL) {
            errno = ENOSYS;
            return -1;
        }
    }

    if (unlink_fails(path)) {
        return -1;
    }

    return real(dirfd, path, flags);
}
