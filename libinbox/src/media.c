/*
 * Media: types by their leading bytes, file names, writing a file
 * whole or not at all, an upload's JSON, and when a failed copy is tried
 * again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <inbox/encoding.h>
#include <inbox/media.h>
#include <inbox/render.h>
#include <inbox/request.h>


#define INBOX_MEDIA_TOKEN_BYTES  32


/*
 * The types a copy may be, and the first three, the only ones an upload
 * may be: what both carriers send by MMS.  The rest are what phones
 * attach (a video, a voice note, a contact card, a document); anything
 * else is kept as bytes of no known type.
 */
enum {
    INBOX_TYPE_JPEG, INBOX_TYPE_PNG, INBOX_TYPE_GIF, INBOX_TYPE_WEBP,
    INBOX_TYPE_AVIF, INBOX_TYPE_HEIC, INBOX_TYPE_MP4, INBOX_TYPE_3GPP,
    INBOX_TYPE_3GPP2, INBOX_TYPE_MOV, INBOX_TYPE_M4A, INBOX_TYPE_AAC,
    INBOX_TYPE_MP3, INBOX_TYPE_AMR, INBOX_TYPE_AMR_WB, INBOX_TYPE_OGG,
    INBOX_TYPE_WAV, INBOX_TYPE_VCARD, INBOX_TYPE_PDF, INBOX_TYPE_OCTET
};

static const inbox_media_type_t  inbox_media_types[] = {
    [INBOX_TYPE_JPEG]  = { "image/jpeg", "jpg", 1 },
    [INBOX_TYPE_PNG]   = { "image/png", "png", 1 },
    [INBOX_TYPE_GIF]   = { "image/gif", "gif", 1 },
    [INBOX_TYPE_WEBP]  = { "image/webp", "webp", 0 },
    [INBOX_TYPE_AVIF]  = { "image/avif", "avif", 0 },
    [INBOX_TYPE_HEIC]  = { "image/heic", "heic", 0 },
    [INBOX_TYPE_MP4]   = { "video/mp4", "mp4", 0 },
    [INBOX_TYPE_3GPP]  = { "video/3gpp", "3gp", 0 },
    [INBOX_TYPE_3GPP2] = { "video/3gpp2", "3g2", 0 },
    [INBOX_TYPE_MOV]   = { "video/quicktime", "mov", 0 },
    [INBOX_TYPE_M4A]   = { "audio/mp4", "m4a", 0 },
    [INBOX_TYPE_AAC]   = { "audio/aac", "aac", 0 },
    [INBOX_TYPE_MP3]   = { "audio/mpeg", "mp3", 0 },
    [INBOX_TYPE_AMR]   = { "audio/amr", "amr", 0 },
    [INBOX_TYPE_AMR_WB] = { "audio/amr-wb", "awb", 0 },
    [INBOX_TYPE_OGG]   = { "audio/ogg", "ogg", 0 },
    [INBOX_TYPE_WAV]   = { "audio/wav", "wav", 0 },
    [INBOX_TYPE_VCARD] = { "text/vcard", "vcf", 0 },
    [INBOX_TYPE_PDF]   = { "application/pdf", "pdf", 0 },
    [INBOX_TYPE_OCTET] = { INBOX_MEDIA_TYPE_UNKNOWN, "bin", 0 },
};

#define INBOX_MEDIA_TYPES                                                     \
    (sizeof(inbox_media_types) / sizeof(inbox_media_types[0]))

/*
 * Signatures: a type, and the bytes that must be at each offset (one or
 * two runs, none holding a NUL).  The first that matches wins.  ISO
 * media files (MP4 and its kin) say which they are by the brand after
 * "ftyp"; a brand not listed is left to no known type.  MPEG audio
 * frames begin FF and a byte saying the version and layer: layer III
 * (MP3) with FB, FA, F3, F2 or E3, none (AAC in ADTS) with F1 or F9.
 */
static const struct {
    unsigned     type;
    unsigned     at[2];
    const char  *magic[2];
} inbox_media_magic[] = {
    { INBOX_TYPE_JPEG,  { 0, 0 }, { "\xFF\xD8\xFF", NULL } },
    { INBOX_TYPE_PNG,   { 0, 0 }, { "\x89PNG\r\n\x1A\n", NULL } },
    { INBOX_TYPE_GIF,   { 0, 0 }, { "GIF8", NULL } },
    { INBOX_TYPE_WEBP,  { 0, 8 }, { "RIFF", "WEBP" } },
    { INBOX_TYPE_WAV,   { 0, 8 }, { "RIFF", "WAVE" } },
    { INBOX_TYPE_OGG,   { 0, 0 }, { "OggS", NULL } },
    { INBOX_TYPE_AMR_WB, { 0, 0 }, { "#!AMR-WB\n", NULL } },
    { INBOX_TYPE_AMR,   { 0, 0 }, { "#!AMR\n", NULL } },
    { INBOX_TYPE_MP3,   { 0, 0 }, { "ID3", NULL } },
    { INBOX_TYPE_MP3,   { 0, 0 }, { "\xFF\xFB", NULL } },
    { INBOX_TYPE_MP3,   { 0, 0 }, { "\xFF\xFA", NULL } },
    { INBOX_TYPE_MP3,   { 0, 0 }, { "\xFF\xF3", NULL } },
    { INBOX_TYPE_MP3,   { 0, 0 }, { "\xFF\xF2", NULL } },
    { INBOX_TYPE_MP3,   { 0, 0 }, { "\xFF\xE3", NULL } },
    { INBOX_TYPE_AAC,   { 0, 0 }, { "\xFF\xF1", NULL } },
    { INBOX_TYPE_AAC,   { 0, 0 }, { "\xFF\xF9", NULL } },
    { INBOX_TYPE_PDF,   { 0, 0 }, { "%PDF-", NULL } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "isom" } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "iso2" } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "iso4" } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "iso5" } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "iso6" } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "mp41" } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "mp42" } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "avc1" } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "mmp4" } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "M4V " } },
    { INBOX_TYPE_MP4,   { 4, 8 }, { "ftyp", "dash" } },
    { INBOX_TYPE_3GPP2, { 4, 8 }, { "ftyp", "3g2" } },
    { INBOX_TYPE_3GPP,  { 4, 8 }, { "ftyp", "3g" } },
    { INBOX_TYPE_MOV,   { 4, 8 }, { "ftyp", "qt  " } },
    { INBOX_TYPE_M4A,   { 4, 8 }, { "ftyp", "M4A " } },
    { INBOX_TYPE_M4A,   { 4, 8 }, { "ftyp", "M4B " } },
    { INBOX_TYPE_AVIF,  { 4, 8 }, { "ftyp", "avif" } },
    { INBOX_TYPE_AVIF,  { 4, 8 }, { "ftyp", "avis" } },
    { INBOX_TYPE_HEIC,  { 4, 8 }, { "ftyp", "heic" } },
    { INBOX_TYPE_HEIC,  { 4, 8 }, { "ftyp", "heix" } },
    { INBOX_TYPE_HEIC,  { 4, 8 }, { "ftyp", "heis" } },
    { INBOX_TYPE_HEIC,  { 4, 8 }, { "ftyp", "mif1" } },
    { INBOX_TYPE_HEIC,  { 4, 8 }, { "ftyp", "msf1" } },
};


static int
inbox_media_magic_at(const unsigned char *bytes, size_t len, unsigned at,
    const char *magic)
{
    size_t  n;

    if (magic == NULL) {
        return 1;
    }

    n = strlen(magic);

    return len >= at + n && memcmp(bytes + at, magic, n) == 0;
}


/* A vCard is text: "BEGIN:VCARD" in any case, after a UTF-8 byte order
 * mark and white space if there are any. */
static int
inbox_media_is_vcard(const unsigned char *bytes, size_t len)
{
    static const char  begin[] = "BEGIN:VCARD";

    if (len >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0) {
        bytes += 3;
        len -= 3;
    }

    while (len > 0 && (*bytes == ' ' || *bytes == '\t' || *bytes == '\r'
                       || *bytes == '\n'))
    {
        bytes++;
        len--;
    }

    return len >= sizeof(begin) - 1
           && strncasecmp((const char *) bytes, begin, sizeof(begin) - 1)
              == 0;
}


static const inbox_media_type_t *
inbox_media_type_known(const void *bytes, size_t len)
{
    size_t  i;

    for (i = 0; i < sizeof(inbox_media_magic) / sizeof(inbox_media_magic[0]);
         i++)
    {
        if (inbox_media_magic_at(bytes, len, inbox_media_magic[i].at[0],
                                 inbox_media_magic[i].magic[0])
            && inbox_media_magic_at(bytes, len, inbox_media_magic[i].at[1],
                                    inbox_media_magic[i].magic[1]))
        {
            return &inbox_media_types[inbox_media_magic[i].type];
        }
    }

    if (inbox_media_is_vcard(bytes, len)) {
        return &inbox_media_types[INBOX_TYPE_VCARD];
    }

    return NULL;
}


const inbox_media_type_t *
inbox_media_type(const void *bytes, size_t len)
{
    const inbox_media_type_t  *type;

    if (len == 0) {
        return NULL;
    }

    type = inbox_media_type_known(bytes, len);

    return type != NULL ? type : &inbox_media_types[INBOX_TYPE_OCTET];
}


const inbox_media_type_t *
inbox_image_type(const void *bytes, size_t len)
{
    const inbox_media_type_t  *type;

    type = inbox_media_type_known(bytes, len);

    return type != NULL && type->uploadable ? type : NULL;
}


const inbox_media_type_t *
inbox_media_type_named(const char *content_type)
{
    size_t  i;

    for (i = 0; content_type != NULL && i < INBOX_MEDIA_TYPES; i++) {
        if (strcmp(content_type, inbox_media_types[i].content_type) == 0) {
            return &inbox_media_types[i];
        }
    }

    return NULL;
}


const inbox_media_type_t *
inbox_media_type_at(size_t i)
{
    return i < INBOX_MEDIA_TYPES ? &inbox_media_types[i] : NULL;
}


int
inbox_media_file_name(const inbox_media_type_t *type,
    char out[INBOX_MEDIA_FILE_MAX])
{
    unsigned char  bytes[INBOX_MEDIA_TOKEN_BYTES];
    char           token[INBOX_BASE64_LEN(INBOX_MEDIA_TOKEN_BYTES)];

    out[0] = '\0';

    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        return -1;
    }

    inbox_base64url_encode(bytes, sizeof(bytes), token);
    OPENSSL_cleanse(bytes, sizeof(bytes));

    snprintf(out, INBOX_MEDIA_FILE_MAX, "%s.%s", token, type->ext);

    return 0;
}


int
inbox_media_file_valid(const char *name)
{
    size_t  i;
    char    c;

    if (name == NULL) {
        return 0;
    }

    for (i = 0; i < INBOX_MEDIA_TOKEN_LEN; i++) {
        c = name[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return 0;
        }
    }

    if (name[i] != '.') {
        return 0;
    }

    for (i = 0; i < INBOX_MEDIA_TYPES; i++) {
        if (strcmp(name + INBOX_MEDIA_TOKEN_LEN + 1, inbox_media_types[i].ext)
            == 0)
        {
            return 1;
        }
    }

    return 0;
}


int
inbox_media_file_is(const char *name, const char *content_type)
{
    const inbox_media_type_t  *type;

    type = inbox_media_type_named(content_type);

    return type != NULL && inbox_media_file_valid(name)
           && strcmp(name + INBOX_MEDIA_TOKEN_LEN + 1, type->ext) == 0;
}


static const char  *inbox_media_states[] = { "pending", "stored", "failed" };


const char *
inbox_media_state_name(inbox_media_state_t state)
{
    if ((size_t) state >= sizeof(inbox_media_states) / sizeof(char *)) {
        return "pending";
    }

    return inbox_media_states[state];
}


int
inbox_media_state_parse(const char *name, inbox_media_state_t *state)
{
    size_t  i;

    for (i = 0; name != NULL
                && i < sizeof(inbox_media_states) / sizeof(char *); i++)
    {
        if (strcmp(name, inbox_media_states[i]) == 0) {
            *state = (inbox_media_state_t) i;
            return 0;
        }
    }

    return -1;
}


/* Writing a file whole or not at all. */

static char *
inbox_media_path(const char *dir, const char *prefix, const char *name,
    const char *suffix)
{
    char    *path;
    size_t   len;

    len = strlen(dir) + strlen(prefix) + strlen(name) + strlen(suffix) + 2;

    path = malloc(len);
    if (path != NULL) {
        snprintf(path, len, "%s/%s%s%s", dir, prefix, name, suffix);
    }

    return path;
}


inbox_status_t
inbox_media_write_begin(inbox_media_writer_t *w, const char *dir,
    const inbox_media_type_t *type, inbox_error_t *err)
{
    char  token[INBOX_MEDIA_TOKEN_LEN + 1];

    memset(w, 0, sizeof(inbox_media_writer_t));
    w->fd = -1;

    if (inbox_media_file_name(type, w->file) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "No random bytes to name the file.");
    }

    memcpy(token, w->file, INBOX_MEDIA_TOKEN_LEN);
    token[INBOX_MEDIA_TOKEN_LEN] = '\0';

    w->dir = strdup(dir);
    w->tmp = inbox_media_path(dir, ".", token, ".tmp");

    if (w->dir == NULL || w->tmp == NULL) {
        inbox_media_write_abort(w);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    /* readable by all, whatever the umask: nginx serves it to anyone with
     * its URL, and its writer may be another process (the fetcher) */
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

    if (w->fd != -1 && fchmod(w->fd, 0644) != 0) {
        close(w->fd);
        unlink(w->tmp);
        w->fd = -1;
    }

    if (w->fd == -1) {
        inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                        "The media directory cannot be written (%s); "
                        "try again later.", strerror(errno));
        free(w->tmp);
        w->tmp = NULL;
        inbox_media_write_abort(w);
        return err ? err->code : INBOX_ERR_UNAVAILABLE;
    }

    return INBOX_OK;
}


inbox_status_t
inbox_media_write(inbox_media_writer_t *w, const void *buf, size_t len,
    inbox_error_t *err)
{
    ssize_t      n;
    const char  *p = buf;

    while (len > 0) {
        n = write(w->fd, p, len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                                   "The file could not be written (%s); "
                                   "try again later.",
                                   n == 0 ? "no room" : strerror(errno));
        }

        p += n;
        len -= (size_t) n;
        w->bytes += n;
    }

    return INBOX_OK;
}


inbox_status_t
inbox_media_write_commit(inbox_media_writer_t *w, inbox_error_t *err)
{
    int    dir_fd, rc;
    char  *path;

    rc = fsync(w->fd);
    rc |= close(w->fd);
    w->fd = -1;

    if (rc != 0) {
        inbox_media_write_abort(w);
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The file could not be saved (%s); try "
                               "again later.", strerror(errno));
    }

    path = inbox_media_path(w->dir, "", w->file, "");
    if (path == NULL) {
        inbox_media_write_abort(w);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    if (rename(w->tmp, path) != 0) {
        free(path);
        inbox_media_write_abort(w);
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The file could not be saved (%s); try "
                               "again later.", strerror(errno));
    }

    free(path);

    /* the new name itself survives a crash once the directory is synced */
    dir_fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rc = (dir_fd == -1) ? -1 : fsync(dir_fd);

    if (dir_fd != -1) {
        close(dir_fd);
    }

    free(w->tmp);
    w->tmp = NULL;

    if (rc != 0) {
        inbox_media_remove(w->dir, w->file);
        inbox_media_write_abort(w);
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The file could not be saved (%s); try "
                               "again later.", strerror(errno));
    }

    inbox_media_write_abort(w);

    return INBOX_OK;
}


void
inbox_media_write_abort(inbox_media_writer_t *w)
{
    if (w->fd != -1) {
        close(w->fd);
        w->fd = -1;
    }

    if (w->tmp != NULL) {
        unlink(w->tmp);
        free(w->tmp);
        w->tmp = NULL;
    }

    free(w->dir);
    w->dir = NULL;
}


int
inbox_media_remove(const char *dir, const char *file)
{
    int    rc, saved;
    char  *path;

    if (dir == NULL || !inbox_media_file_valid(file)) {
        errno = EINVAL;
        return -1;
    }

    path = inbox_media_path(dir, "", file, "");
    if (path == NULL) {
        errno = ENOMEM;
        return -1;
    }

    /* gone already (a purge that died after its unlink) is gone */
    rc = (unlink(path) == 0 || errno == ENOENT) ? 0 : -1;

    /* why it failed is the caller's to report */
    saved = errno;
    free(path);
    errno = saved;

    return rc;
}


int
inbox_media_sweep(const char *dir, time_t before)
{
    int             removed;
    DIR            *d;
    size_t          len;
    struct stat     st;
    struct dirent  *e;

    d = opendir(dir);
    if (d == NULL) {
        return -1;
    }

    removed = 0;

    while ((e = readdir(d)) != NULL) {
        /* ".TOKEN.tmp", as write_begin names them, and nothing else */
        len = strlen(e->d_name);

        if (len != 1 + INBOX_MEDIA_TOKEN_LEN + 4 || e->d_name[0] != '.'
            || strcmp(e->d_name + len - 4, ".tmp") != 0
            || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
            || !S_ISREG(st.st_mode) || st.st_mtime >= before)
        {
            continue;
        }

        if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
            removed++;
        }
    }

    closedir(d);

    return removed;
}


void
inbox_media_url(const char *file, char url[INBOX_MEDIA_URL_MAX])
{
    snprintf(url, INBOX_MEDIA_URL_MAX, INBOX_MEDIA_PATH "%s", file);
}


int
inbox_media_public_url(const char *base, const char *file, char *url,
    size_t size)
{
    int   n;
    char  path[INBOX_MEDIA_URL_MAX];

    inbox_media_url(file, path);

    n = snprintf(url, size, "%s%s", base, path);

    if (n < 0 || (size_t) n >= size) {
        url[0] = '\0';
        return -1;
    }

    return 0;
}


char *
inbox_render_media(const inbox_media_record_t *media, size_t *len)
{
    char      url[INBOX_MEDIA_URL_MAX];
    yajl_gen  g;

    inbox_media_url(media->file, url);

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "id");
    inbox_json_string(g, media->id);
    inbox_json_key(g, "url");
    inbox_json_string(g, url);
    inbox_json_key(g, "content_type");
    inbox_json_string(g, media->content_type);
    inbox_json_key(g, "bytes");
    inbox_json_int(g, media->bytes);
    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


void
inbox_media_fetch_list_free(inbox_media_fetch_list_t *list)
{
    size_t  i;

    for (i = 0; list->items != NULL && i < list->count; i++) {
        inbox_number_free(&list->items[i].number);
    }

    free(list->items);
    list->items = NULL;
    list->count = 0;
}


int64_t
inbox_media_fetch_retry_at(unsigned attempts, int64_t now)
{
    /* a carrier's hiccup passes in a minute; an outage in hours */
    static const int64_t  wait[] = {
        60000LL, 5 * 60000LL, 30 * 60000LL, 2 * 3600000LL, 12 * 3600000LL
    };

    if (attempts == 0) {
        attempts = 1;
    }

    if (attempts >= INBOX_MEDIA_FETCH_ATTEMPTS
        || attempts > sizeof(wait) / sizeof(wait[0]))
    {
        return 0;
    }

    return now + wait[attempts - 1];
}


inbox_status_t
inbox_media_message_check(const inbox_media_record_t *media, size_t n,
    inbox_error_t *err)
{
    size_t   i;
    int64_t  total;

    total = 0;

    for (i = 0; i < n; i++) {
        total += media[i].bytes;
    }

    if (total <= INBOX_MEDIA_MESSAGE_BYTES_MAX) {
        return INBOX_OK;
    }

    return inbox_error_set_field(err, INBOX_ERR_INVALID, "media_ids",
                                 "The images come to %.1f MB; a message "
                                 "carries %d MB in all.",
                                 (double) total / (1024 * 1024),
                                 INBOX_MEDIA_MESSAGE_BYTES_MAX
                                 / (1024 * 1024));
}


inbox_status_t
inbox_media_gone(size_t i, inbox_error_t *err)
{
    /* the routes' media_ids, as their requests declare it */
    static const inbox_field_t  fields[] = {
        { .name = "media_ids", .type = INBOX_FIELD_STRINGS,
          .item = INBOX_MEDIA_ITEM },
        { .name = NULL }
    };

    (void) inbox_error_set_field(err, INBOX_ERR_INVALID, "media_ids",
                                 "This image is no longer there (uploads "
                                 "that no message or campaign uses are "
                                 "removed after a while); upload it "
                                 "again.");

    return inbox_request_item_refused(fields, "media_ids", i, err);
}
