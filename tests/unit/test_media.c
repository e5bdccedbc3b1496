/*
 * Media (media.h): a type by its leading bytes only, file names nobody can
 * guess or bend into a path, files written whole or not at all, an
 * upload's JSON, and when a failed copy is tried again.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <inbox/media.h>
#include "check.h"


#define TOKEN  "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE"


TEST(an_upload_is_a_jpeg_png_or_gif_by_its_leading_bytes)
{
    const inbox_media_type_t  *t;

    t = inbox_image_type("\xFF\xD8\xFF\xE0\0\x10JFIF", 10);
    CHECK(t != NULL);
    CHECK_STR(t ? t->content_type : NULL, "image/jpeg");
    CHECK_STR(t ? t->ext : NULL, "jpg");

    t = inbox_image_type("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16);
    CHECK_STR(t ? t->content_type : NULL, "image/png");
    CHECK_STR(t ? t->ext : NULL, "png");

    t = inbox_image_type("GIF89a\x01\0", 8);
    CHECK_STR(t ? t->content_type : NULL, "image/gif");
    CHECK_STR(t ? t->ext : NULL, "gif");
    t = inbox_image_type("GIF87a", 6);
    CHECK_STR(t ? t->ext : NULL, "gif");

    /* nothing else, however it is labelled elsewhere: not even what a
     * contact may send (a carrier takes only these three) */
    CHECK(inbox_image_type("<html><script>", 14) == NULL);
    CHECK(inbox_image_type("<svg xmlns=", 11) == NULL);
    CHECK(inbox_image_type("RIFF\0\0\0\0WEBP", 12) == NULL);
    CHECK(inbox_image_type("%PDF-1.7", 8) == NULL);
    CHECK(inbox_image_type("\0\0\0\x18" "ftypmp42", 12) == NULL);
    CHECK(inbox_image_type("BEGIN:VCARD\r\n", 13) == NULL);
    CHECK(inbox_image_type("", 0) == NULL);

    /* too short to carry the whole signature */
    CHECK(inbox_image_type("\xFF\xD8", 2) == NULL);
    CHECK(inbox_image_type("\x89PNG\r\n\x1A", 7) == NULL);
    CHECK(inbox_image_type("GIF", 3) == NULL);
    /* one byte off */
    CHECK(inbox_image_type("\x89PNG\r\n\x1A\x0B", 8) == NULL);
    CHECK(inbox_image_type("\xFF\xD8\xFE", 3) == NULL);
}


static const char *
copy_type(const char *bytes, size_t len)
{
    const inbox_media_type_t  *t;

    t = inbox_media_type(bytes, len);

    return t != NULL ? t->content_type : NULL;
}


TEST(a_copy_is_whatever_the_phone_attached_by_its_leading_bytes)
{
    const inbox_media_type_t  *t;

    /* the three images, as uploads */
    CHECK_STR(copy_type("\xFF\xD8\xFF\xE0\0\x10JFIF", 10), "image/jpeg");
    CHECK_STR(copy_type("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16),
              "image/png");
    CHECK_STR(copy_type("GIF89a\x01\0", 8), "image/gif");

    /* pictures a browser may not show, videos by their ISO brand */
    CHECK_STR(copy_type("RIFF\x24\0\0\0WEBPVP8 ", 16), "image/webp");
    CHECK_STR(copy_type("\0\0\0\x18" "ftypheic\0\0\0\0", 16),
              "image/heic");
    CHECK_STR(copy_type("\0\0\0\x1C" "ftypmif1\0\0\0\0", 16),
              "image/heic");
    CHECK_STR(copy_type("\0\0\0\x18" "ftypmp42\0\0\0\0", 16), "video/mp4");
    CHECK_STR(copy_type("\0\0\0\x20" "ftypisom\0\0\x02\0", 16),
              "video/mp4");
    CHECK_STR(copy_type("\0\0\0\x14" "ftyp3gp4\0\0\0\0", 16),
              "video/3gpp");
    CHECK_STR(copy_type("\0\0\0\x14" "ftyp3g2a\0\0\0\0", 16),
              "video/3gpp2");
    CHECK_STR(copy_type("\0\0\0\x14" "ftypqt  \0\0\0\0", 16),
              "video/quicktime");
    CHECK_STR(copy_type("\0\0\0\x14" "ftyp3gr6\0\0\0\0", 16),
              "video/3gpp");
    CHECK_STR(copy_type("\0\0\0\x1C" "ftypavif\0\0\0\0", 16),
              "image/avif");
    CHECK_STR(copy_type("\0\0\0\x18" "ftypheis\0\0\0\0", 16),
              "image/heic");

    /* voice notes */
    CHECK_STR(copy_type("\0\0\0\x1C" "ftypM4A \0\0\0\0", 16), "audio/mp4");
    CHECK_STR(copy_type("\0\0\0\x1C" "ftypM4B \0\0\0\0", 16), "audio/mp4");
    CHECK_STR(copy_type("#!AMR\n\x3C", 7), "audio/amr");
    CHECK_STR(copy_type("#!AMR-WB\n\x04", 10), "audio/amr-wb");
    CHECK_STR(copy_type("\xFF\xFA\x90\x64", 4), "audio/mpeg");
    CHECK_STR(copy_type("\xFF\xE3\x18\xC4", 4), "audio/mpeg");
    CHECK_STR(copy_type("\xFF\xF1\x50\x80", 4), "audio/aac");
    CHECK_STR(copy_type("\xFF\xF9\x50\x80", 4), "audio/aac");
    CHECK_STR(copy_type("ID3\x04\0\0\0\0", 8), "audio/mpeg");
    CHECK_STR(copy_type("\xFF\xFB\x90\x64", 4), "audio/mpeg");
    CHECK_STR(copy_type("OggS\0\x02", 6), "audio/ogg");
    CHECK_STR(copy_type("RIFF\x24\0\0\0WAVEfmt ", 16), "audio/wav");

    /* a contact card, in any case and after a byte order mark */
    CHECK_STR(copy_type("BEGIN:VCARD\r\nVERSION:3.0", 24), "text/vcard");
    CHECK_STR(copy_type("begin:vcard\n", 12), "text/vcard");
    CHECK_STR(copy_type("\r\n  BEGIN:VCARD\r\n", 17), "text/vcard");
    CHECK_STR(copy_type("\xEF\xBB\xBF" "BEGIN:VCARD\r\n", 16), "text/vcard");
    CHECK_STR(copy_type("%PDF-1.7\n", 9), "application/pdf");

    /* anything else is kept, as bytes of no known type: never HTML,
     * never an SVG, never a type a browser would run */
    t = inbox_media_type("<html><script>", 14);
    CHECK_STR(t ? t->content_type : NULL, "application/octet-stream");
    CHECK_STR(t ? t->ext : NULL, "bin");
    CHECK_STR(copy_type("<svg xmlns=", 11), "application/octet-stream");
    CHECK_STR(copy_type("\0\0\0\x18" "ftypcrx \0\0\0\0", 16),
              "application/octet-stream");
    CHECK_STR(copy_type("BEGIN:VCAL", 10), "application/octet-stream");
    CHECK_STR(copy_type("RIFF\x24\0\0\0AVI ", 12),
              "application/octet-stream");
    CHECK_STR(copy_type("x", 1), "application/octet-stream");
    CHECK_STR(copy_type("\xFF", 1), "application/octet-stream");
    CHECK_STR(copy_type("#!AMRX", 6), "application/octet-stream");

    /* nothing at all is no file */
    CHECK(inbox_media_type("", 0) == NULL);

    /* only the three images may be uploaded */
    CHECK(inbox_media_type_named("image/png")->uploadable);
    CHECK(inbox_media_type_named("image/jpeg")->uploadable);
    CHECK(inbox_media_type_named("image/gif")->uploadable);
    CHECK(!inbox_media_type_named("image/webp")->uploadable);
    CHECK(!inbox_media_type_named("video/mp4")->uploadable);
    CHECK(!inbox_media_type_named("application/octet-stream")->uploadable);
}


TEST(types_by_name_are_those_the_bytes_decide)
{
    CHECK_STR(inbox_media_type_named("image/png")->ext, "png");
    CHECK_STR(inbox_media_type_named("image/jpeg")->ext, "jpg");
    CHECK_STR(inbox_media_type_named("image/gif")->ext, "gif");
    CHECK_STR(inbox_media_type_named("text/vcard")->ext, "vcf");
    CHECK_STR(inbox_media_type_named("video/3gpp")->ext, "3gp");
    CHECK_STR(inbox_media_type_named("application/pdf")->ext, "pdf");
    CHECK(inbox_media_type_named("image/svg+xml") == NULL);
    CHECK(inbox_media_type_named("text/html") == NULL);
    CHECK(inbox_media_type_named("text/x-vcard") == NULL);
    CHECK(inbox_media_type_named("IMAGE/PNG") == NULL);
    CHECK(inbox_media_type_named(NULL) == NULL);
}


/*
 * nginx's /media/ locations as config/inbox-server.conf has them: each
 * location's extensions (from its regex), its types block, and whether it
 * serves its files as downloads (Content-Disposition: attachment).
 */
#define CONF_TYPES_MAX  32

typedef struct {
    size_t  count, exts;
    int     attachment;
    char    type[CONF_TYPES_MAX][64];
    char    ext[CONF_TYPES_MAX][16];
    char    regex_ext[CONF_TYPES_MAX][16];
} media_location_t;


static char *
read_conf(const char *path)
{
    FILE  *f;
    long   n;
    char  *text;

    f = fopen(path, "r");
    if (f == NULL) {
        return NULL;
    }

    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = calloc(1, (size_t) n + 1);

    if (text != NULL && fread(text, 1, (size_t) n, f) != (size_t) n) {
        free(text);
        text = NULL;
    }

    fclose(f);

    return text;
}


/* The location that starts at loc ("location ~ ..."), up to its end. */
static int
parse_media_location(const char *loc, media_location_t *out)
{
    const char  *p, *end, *block;
    char         line[256];
    size_t       len;

    memset(out, 0, sizeof(media_location_t));

    /* "^/media/([A-Za-z0-9_-]{43}\.(?:jpg|png))$" { */
    p = strstr(loc, "(?:");
    end = strstr(loc, "\" {");
    if (p == NULL || end == NULL || p > end) {
        return -1;
    }

    for (p += 3; *p != ')' && out->exts < CONF_TYPES_MAX; out->exts++) {
        len = strcspn(p, "|)");
        snprintf(out->regex_ext[out->exts], 16, "%.*s", (int) len, p);
        p += len + (p[len] == '|');
    }

    block = strstr(end, "types {");
    end = strstr(end, "\n    }");    /* the location's own closing brace */
    if (block == NULL || end == NULL || block > end) {
        return -1;
    }

    out->attachment = strstr(block, "Content-Disposition attachment") != NULL
        && strstr(block, "Content-Disposition attachment") < end;

    for (p = strchr(block, '\n') + 1; *p != '\0'; p = strchr(p, '\n') + 1) {
        len = strcspn(p, "\n");
        snprintf(line, sizeof(line), "%.*s", (int) len, p);

        if (strchr(line, '}') != NULL) {
            break;
        }

        if (out->count < CONF_TYPES_MAX
            && sscanf(line, " %63s %15[^;];", out->type[out->count],
                      out->ext[out->count]) == 2)
        {
            out->count++;
        }
    }

    return 0;
}


static int
location_serves(const media_location_t *loc, const char *ext,
    const char *type)
{
    size_t  i, in_regex;

    in_regex = 0;

    for (i = 0; i < loc->exts; i++) {
        in_regex |= strcmp(loc->regex_ext[i], ext) == 0;
    }

    for (i = 0; in_regex && i < loc->count; i++) {
        if (strcmp(loc->ext[i], ext) == 0) {
            return strcmp(loc->type[i], type) == 0;
        }
    }

    return 0;
}


/* The file a copy is kept as is served by nginx with the type it is, and
 * only a picture a browser shows is served inline: every other type is a
 * download (never a page on the inbox's own origin).  The table here and
 * the configuration are kept in step by hand; this is what keeps them. */
TEST(nginx_serves_every_type_a_copy_may_be_as_that_type)
{
    char                      *conf, *media, *loc;
    size_t                     i, j, n, served;
    media_location_t           locs[2];
    const inbox_media_type_t  *t;

    conf = read_conf("config/inbox-server.conf");
    CHECK(conf != NULL);
    if (conf == NULL) {
        return;
    }

    media = strstr(conf, "location ^~ /media/ {");
    CHECK(media != NULL);

    for (n = 0, loc = media; n < 2 && loc != NULL; n++) {
        loc = strstr(loc + 1, "location ~ \"^/media/");
        CHECK(loc != NULL);
        if (loc == NULL) {
            break;
        }
        CHECK_INT(parse_media_location(loc, &locs[n]), 0);
    }

    if (n < 2) {
        free(conf);
        return;
    }

    /* the pictures inline, the rest as downloads */
    CHECK(!locs[0].attachment);
    CHECK(locs[1].attachment);

    for (j = 0; j < 2; j++) {
        /* each extension the regex lets through has its type, and no
         * other: nginx would serve it as application/octet-stream */
        CHECK_INT(locs[j].count, locs[j].exts);

        for (i = 0; i < locs[j].count; i++) {
            t = inbox_media_type_named(locs[j].type[i]);
            CHECK_STR(t != NULL ? t->ext : locs[j].type[i], locs[j].ext[i]);
            CHECK(location_serves(&locs[j], locs[j].ext[i],
                                  locs[j].type[i]));

            if (!locs[j].attachment) {
                CHECK(strncmp(locs[j].type[i], "image/", 6) == 0
                      && strcmp(locs[j].type[i], "image/heic") != 0);
            }
        }
    }

    for (i = 0; (t = inbox_media_type_at(i)) != NULL; i++) {
        served = location_serves(&locs[0], t->ext, t->content_type)
                 + location_serves(&locs[1], t->ext, t->content_type);
        if (served != 1) {
            fprintf(stderr, "    %s (.%s) is served by %zu locations\n",
                    t->content_type, t->ext, served);
        }
        CHECK_INT(served, 1);
    }

    CHECK_INT(locs[0].count + locs[1].count, i);

    free(conf);
}


TEST(file_names_are_random_tokens_with_the_types_extension)
{
    char  a[INBOX_MEDIA_FILE_MAX], b[INBOX_MEDIA_FILE_MAX];

    CHECK_INT(inbox_media_file_name(inbox_media_type_named("image/png"), a),
              0);
    CHECK_INT(inbox_media_file_name(inbox_media_type_named("image/png"), b),
              0);

    CHECK_INT(strlen(a), INBOX_MEDIA_TOKEN_LEN + 4);
    CHECK_STR(a + INBOX_MEDIA_TOKEN_LEN, ".png");
    CHECK(strcmp(a, b) != 0);
    CHECK(inbox_media_file_valid(a));
    CHECK(inbox_media_file_is(a, "image/png"));
    CHECK(!inbox_media_file_is(a, "image/jpeg"));
    CHECK(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-_") == INBOX_MEDIA_TOKEN_LEN);
}


TEST(only_such_names_are_valid)
{
    CHECK(inbox_media_file_valid(TOKEN ".jpg"));
    CHECK(inbox_media_file_valid(TOKEN ".gif"));
    CHECK(inbox_media_file_valid(TOKEN ".webp"));
    CHECK(inbox_media_file_valid(TOKEN ".3gp"));
    CHECK(inbox_media_file_valid(TOKEN ".vcf"));
    CHECK(inbox_media_file_valid(TOKEN ".bin"));
    CHECK(inbox_media_file_is(TOKEN ".vcf", "text/vcard"));
    CHECK(!inbox_media_file_is(TOKEN ".vcf", "image/png"));
    CHECK(!inbox_media_file_is(TOKEN ".bin", "text/html"));

    CHECK(!inbox_media_file_valid(TOKEN ".jpeg"));
    CHECK(!inbox_media_file_valid(TOKEN ".html"));
    CHECK(!inbox_media_file_valid(TOKEN ".svg"));
    CHECK(!inbox_media_file_valid(TOKEN ".webpx"));
    CHECK(!inbox_media_file_valid(TOKEN ".jpg/"));
    CHECK(!inbox_media_file_valid(TOKEN "A.jpg"));
    CHECK(!inbox_media_file_valid("A" TOKEN));
    CHECK(!inbox_media_file_valid("short.jpg"));
    CHECK(!inbox_media_file_valid("../../../../../../../../../etc/passwd"
                                  ".jpg"));
    CHECK(!inbox_media_file_valid("..AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                  ".jpg"));
    CHECK(!inbox_media_file_valid("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/AA"
                                  ".jpg"));
    CHECK(!inbox_media_file_valid(".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                  ".tmp"));
    CHECK(!inbox_media_file_valid(""));
    CHECK(!inbox_media_file_valid(NULL));
}


TEST(states_have_names)
{
    inbox_media_state_t  s;

    CHECK_STR(inbox_media_state_name(INBOX_MEDIA_PENDING), "pending");
    CHECK_STR(inbox_media_state_name(INBOX_MEDIA_STORED), "stored");
    CHECK_STR(inbox_media_state_name(INBOX_MEDIA_FAILED), "failed");
    CHECK_INT(inbox_media_state_parse("failed", &s), 0);
    CHECK_INT(s, INBOX_MEDIA_FAILED);
    CHECK_INT(inbox_media_state_parse("copied", &s), -1);
    CHECK_INT(inbox_media_state_parse(NULL, &s), -1);
}


/* The names in dir, sorted, joined by spaces, into out. */
static void
dir_list(const char *dir, char *out, size_t size)
{
    int              i, n;
    struct dirent  **names;

    out[0] = '\0';
    n = scandir(dir, &names, NULL, alphasort);

    for (i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") != 0
            && strcmp(names[i]->d_name, "..") != 0)
        {
            snprintf(out + strlen(out), size - strlen(out), "%s%s",
                     out[0] ? " " : "", names[i]->d_name);
        }
        free(names[i]);
    }

    free(names);
}


TEST(a_file_is_written_whole_under_its_name_or_not_at_all)
{
    char                  dir[64], listing[512], path[160], buf[64];
    FILE                 *f;
    size_t                n;
    struct stat           st;
    inbox_error_t         err;
    inbox_media_writer_t  w;

    snprintf(dir, sizeof(dir), "/tmp/inbox-test-media-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);

    /* while it is written: a hidden temporary name only */
    CHECK_INT(inbox_media_write_begin(&w, dir,
                                      inbox_media_type_named("image/gif"),
                                      &err), INBOX_OK);
    CHECK_INT(inbox_media_write(&w, "GIF89a", 6, &err), INBOX_OK);
    CHECK_INT(inbox_media_write(&w, "rest", 4, &err), INBOX_OK);
    CHECK_INT(w.bytes, 10);
    dir_list(dir, listing, sizeof(listing));
    CHECK(listing[0] == '.');
    CHECK(strstr(listing, ".tmp") != NULL);
    CHECK(strstr(listing, ".gif") == NULL);

    CHECK_INT(inbox_media_write_commit(&w, &err), INBOX_OK);
    CHECK(inbox_media_file_is(w.file, "image/gif"));
    dir_list(dir, listing, sizeof(listing));
    CHECK_STR(listing, w.file);

    snprintf(path, sizeof(path), "%s/%s", dir, w.file);
    f = fopen(path, "rb");
    CHECK(f != NULL);
    n = f ? fread(buf, 1, sizeof(buf), f) : 0;
    CHECK_INT(n, 10);
    CHECK(memcmp(buf, "GIF89arest", 10) == 0);
    if (f) {
        fclose(f);
    }
    /* nginx, as another user, serves it */
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0444, 0444);

    /* abandoned: nothing is left */
    inbox_media_remove(dir, w.file);
    CHECK_INT(inbox_media_write_begin(&w, dir,
                                      inbox_media_type_named("image/png"),
                                      &err), INBOX_OK);
    CHECK_INT(inbox_media_write(&w, "\x89PNG", 4, &err), INBOX_OK);
    inbox_media_write_abort(&w);
    inbox_media_write_abort(&w);
    dir_list(dir, listing, sizeof(listing));
    CHECK_STR(listing, "");

    /* a directory that is not there: unavailable, nothing made */
    CHECK_INT(inbox_media_write_begin(&w, "/nonexistent/inbox-media",
                                      inbox_media_type_named("image/png"),
                                      &err), INBOX_ERR_UNAVAILABLE);
    inbox_media_write_abort(&w);

    rmdir(dir);
}


/* Another token, of a file being written. */
#define YOUNG  "XbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE"


static void
unlink_in(const char *dir, const char *name)
{
    char  path[200];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}


/* dir/name made, last changed age seconds ago (a file, or a directory
 * when dir_too). */
static void
make_aged(const char *dir, const char *name, time_t age, int dir_too)
{
    char            path[200];
    FILE           *f;
    struct timespec times[2];

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    if (dir_too) {
        CHECK_INT(mkdir(path, 0755), 0);
    } else {
        f = fopen(path, "w");
        CHECK(f != NULL);
        if (f != NULL) {
            fputs("half", f);
            fclose(f);
        }
    }

    times[0].tv_sec = time(NULL) - age;
    times[0].tv_nsec = 0;
    times[1] = times[0];
    CHECK_INT(utimensat(AT_FDCWD, path, times, 0), 0);
}


TEST(a_sweep_removes_only_old_temporary_files)
{
    char  dir[64], listing[512];

    snprintf(dir, sizeof(dir), "/tmp/inbox-test-sweep-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);

    make_aged(dir, "." TOKEN ".tmp", 7200, 0);          /* left: goes */
    make_aged(dir, "." YOUNG ".tmp", 60, 0);            /* being written */
    make_aged(dir, TOKEN ".png", 7200, 0);              /* an image */
    make_aged(dir, ".short.tmp", 7200, 0);              /* not ours */

    CHECK_INT(inbox_media_sweep(dir, time(NULL) - 3600), 1);
    dir_list(dir, listing, sizeof(listing));
    CHECK(strstr(listing, TOKEN ".png") != NULL);
    CHECK(strstr(listing, ".short.tmp") != NULL);
    CHECK(strstr(listing, "." YOUNG ".tmp") != NULL);
    CHECK(strstr(listing, "." TOKEN ".tmp") == NULL);
    CHECK_INT(inbox_media_sweep(dir, time(NULL) - 3600), 0);
    CHECK_INT(inbox_media_sweep("/nonexistent/inbox-media", time(NULL)), -1);

    unlink_in(dir, "." YOUNG ".tmp");
    unlink_in(dir, TOKEN ".png");
    unlink_in(dir, ".short.tmp");
    CHECK_INT(rmdir(dir), 0);
}


TEST(an_upload_is_rendered_with_its_path_as_a_message_media_is)
{
    char                  *json;
    inbox_media_record_t   m;

    memset(&m, 0, sizeof(m));
    strcpy(m.id, "42");
    strcpy(m.file, TOKEN ".png");
    strcpy(m.content_type, "image/png");
    m.bytes = 1234;

    json = inbox_render_media(&m, NULL);
    CHECK_STR(json, "{\"id\":\"42\",\"url\":\"/media/" TOKEN ".png\","
                    "\"content_type\":\"image/png\",\"bytes\":1234}");
    free(json);
}


TEST(a_carrier_fetches_an_image_at_the_public_url_and_its_path)
{
    char         url[128], small[64];
    const char  *whole = "https://a.example/media/x.png";

    CHECK_INT(inbox_media_public_url("https://inbox.example", TOKEN ".png",
                                     url, sizeof(url)), 0);
    CHECK_STR(url, "https://inbox.example/media/" TOKEN ".png");

    /* no URL rather than one cut short, which would name another file
     * or none: a base that leaves no room for the whole path, then one
     * byte short of the NUL; just enough fits */
    strcpy(small, "left over");
    CHECK_INT(inbox_media_public_url("https://inbox.example", TOKEN ".png",
                                     small, sizeof(small)), -1);
    CHECK_STR(small, "");

    CHECK_INT(inbox_media_public_url("https://a.example", "x.png", small,
                                     strlen(whole)), -1);
    CHECK_STR(small, "");

    CHECK_INT(inbox_media_public_url("https://a.example", "x.png", small,
                                     strlen(whole) + 1), 0);
    CHECK_STR(small, whole);
}


TEST(a_failed_copy_is_tried_again_further_apart_then_given_up)
{
    int64_t   now = 1000000;
    unsigned  i;

    CHECK_INT(inbox_media_fetch_retry_at(1, now), now + 60000);
    CHECK_INT(inbox_media_fetch_retry_at(2, now), now + 300000);

    for (i = 2; i < INBOX_MEDIA_FETCH_ATTEMPTS; i++) {
        CHECK(inbox_media_fetch_retry_at(i, now)
              > inbox_media_fetch_retry_at(i - 1, now));
    }

    CHECK_INT(inbox_media_fetch_retry_at(INBOX_MEDIA_FETCH_ATTEMPTS, now), 0);
    CHECK_INT(inbox_media_fetch_retry_at(INBOX_MEDIA_FETCH_ATTEMPTS + 7, now),
              0);
}


RUN_TESTS()


TEST(a_message_carries_5_mb_of_images_in_all)
{
    inbox_error_t         err;
    inbox_media_record_t  m[3];

    memset(m, 0, sizeof(m));
    m[0].bytes = 2 * 1024 * 1024;
    m[1].bytes = 3 * 1024 * 1024;
    CHECK_INT(inbox_media_message_check(m, 2, NULL), INBOX_OK);

    m[2].bytes = 1;
    CHECK_INT(inbox_media_message_check(m, 3, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids");
    CHECK(strstr(err.message, "5.0 MB") != NULL);
    CHECK_INT(inbox_media_message_check(m, 0, NULL), INBOX_OK);
}


/* An upload removed between a send's read and its write is the item
 * that names it, as the parse and an unknown upload name one. */
TEST(an_upload_gone_since_it_was_read_is_named_by_its_index)
{
    inbox_error_t  err;

    CHECK_INT(inbox_media_gone(2, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids.2");
    CHECK_STR(err.message, "Attachment 3: this image is no longer there "
              "(uploads that no message or campaign uses are removed "
              "after a while); upload it again.");
}
