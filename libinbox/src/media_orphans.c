/*
 * The media directory's orphans: files a crash left that no record
 * names (an upload's written before its record, an inbound copy's
 * before it was recorded).  The purge of uploads leaves none (its
 * records go after their files); nothing else would remove these.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <inbox/store.h>


typedef struct {
    inbox_store_t          *store;
    int                     dir_fd;
    int                     dry_run;
    inbox_media_unlinked_pt each;
    void                   *data;
    inbox_media_orphans_t  *result;
    size_t                  n;
    char                    files[INBOX_MEDIA_NAMED_MAX]
                                 [INBOX_MEDIA_FILE_MAX];
    unsigned char           named[INBOX_MEDIA_NAMED_MAX];
} inbox_media_orphans_batch_t;


/* The batch's files no record names unlinked (or only counted). */
static inbox_status_t
inbox_media_orphans_flush(inbox_media_orphans_batch_t *b, inbox_error_t *err)
{
    size_t          i;
    inbox_status_t  status;

    if (b->n == 0) {
        return INBOX_OK;
    }

    status = inbox_store_media_files_named(b->store, b->files, b->n,
                                           b->named, err);
    if (status != INBOX_OK) {
        return status;
    }

    for (i = 0; i < b->n; i++) {
        if (b->named[i]) {
            b->result->kept++;
            continue;
        }

        /* gone already (another sweep's) is gone */
        if (!b->dry_run && unlinkat(b->dir_fd, b->files[i], 0) != 0
            && errno != ENOENT)
        {
            b->result->failed++;

            if (b->each != NULL) {
                b->each(b->files[i], errno, b->data);
            }

            continue;
        }

        b->result->removed++;

        if (b->each != NULL) {
            b->each(b->files[i], 0, b->data);
        }
    }

    b->n = 0;

    return INBOX_OK;
}


inbox_status_t
inbox_store_media_sweep_orphans(inbox_store_t *store, const char *dir,
    time_t before, int dry_run, inbox_media_unlinked_pt each, void *data,
    inbox_media_orphans_t *result, inbox_error_t *err)
{
    DIR                          *d;
    struct stat                   st;
    struct dirent                *e;
    inbox_status_t                status;
    inbox_media_orphans_batch_t  *b;

    memset(result, 0, sizeof(inbox_media_orphans_t));

    if (dir == NULL || dir[0] == '\0') {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "Name the media directory.");
    }

    /* a batch's names are 500 x 48 bytes: not on the stack */
    b = calloc(1, sizeof(inbox_media_orphans_batch_t));
    if (b == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    d = opendir(dir);
    if (d == NULL) {
        status = inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                                 "The media directory %s cannot be read "
                                 "(%s).", dir, strerror(errno));
        free(b);
        return status;
    }

    b->store = store;
    b->dir_fd = dirfd(d);
    b->dry_run = dry_run;
    b->each = each;
    b->data = data;
    b->result = result;

    status = INBOX_OK;

    while (status == INBOX_OK && (e = readdir(d)) != NULL) {
        /* only what media.h names: never a temporary file (the sender
         * sweeps those), nor anything an operator put there */
        if (strlen(e->d_name) >= INBOX_MEDIA_FILE_MAX
            || !inbox_media_file_valid(e->d_name)
            || fstatat(b->dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
            || !S_ISREG(st.st_mode))
        {
            continue;
        }

        if (st.st_mtime >= before) {
            result->recent++;
            continue;
        }

        result->looked++;
        memcpy(b->files[b->n++], e->d_name, strlen(e->d_name) + 1);

        if (b->n == INBOX_MEDIA_NAMED_MAX) {
            status = inbox_media_orphans_flush(b, err);
        }
    }

    if (status == INBOX_OK) {
        status = inbox_media_orphans_flush(b, err);
    }

    closedir(d);
    free(b);

    return status;
}
