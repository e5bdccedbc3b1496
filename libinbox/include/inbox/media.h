/*
 * Media: the files of MMS, kept in the media directory and served by
 * nginx as they are (GET /media/FILE).
 *
 * A file is named by an unguessable token (32 random bytes, base64url)
 * and the extension of its type, "TOKEN.EXT": whoever has the URL may
 * fetch it (carriers do, to send an MMS), nobody can guess another.  The
 * type is decided by the file's leading bytes only, never by what a
 * client or a carrier says.
 *
 * Two ways in: an upload (POST /api/v1/media, a record of the
 * organization: inbox_media_record_t), which must be a JPEG, PNG or GIF
 * image, what both carriers send; and the copy of an inbound MMS file,
 * which the carrier keeps behind its credentials (the message's media,
 * see inbox_media_t in model.h, and the fetch rules below).  A copy is
 * whatever the contact's phone attached: a picture, a video, a voice
 * note, a contact card, a document, or bytes of no type known here,
 * kept all the same; nginx serves the images to be shown and every
 * other type as a download (config/inbox-server.conf).
 */
#ifndef INBOX_MEDIA_H
#define INBOX_MEDIA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <inbox/error.h>
#include <inbox/model.h>

/* The largest file, unless configured otherwise (nginx: the
 * client_max_body_size of the upload's location). */
#define INBOX_MEDIA_SIZE_DEFAULT   (5 * 1024 * 1024)
/* How many leading bytes decide a type. */
#define INBOX_MEDIA_SNIFF_LEN      32
/* The token: 32 random bytes in base64url, without padding. */
#define INBOX_MEDIA_TOKEN_LEN      43
/* An upload's file name: its token, ".", and jpg, png or gif. */
#define INBOX_MEDIA_UPLOAD_FILE_LEN  (INBOX_MEDIA_TOKEN_LEN + 1 + 3)
/* Where a stored file is served, below the inbox's own origin. */
#define INBOX_MEDIA_PATH           "/media/"
#define INBOX_MEDIA_TYPE_MAX       16      /* an upload's: "image/jpeg" + NUL,
                                              and room */

typedef struct {
    const char  *content_type;    /* "image/jpeg", "video/mp4", ... */
    const char  *ext;             /* "jpg", "mp4", ... */
    unsigned     uploadable:1;    /* JPEG, PNG, GIF */
} inbox_media_type_t;

/* A copy's bytes of no type known here. */
#define INBOX_MEDIA_TYPE_UNKNOWN   "application/octet-stream"

/* The type the first len bytes of a copy say it is (at least
 * INBOX_MEDIA_SNIFF_LEN of them, or the whole file if shorter):
 * images (JPEG, PNG, GIF, WebP, AVIF, HEIC), videos (MP4, 3GPP, 3GPP2,
 * QuickTime), audio (MP4, AAC, MP3, AMR, AMR-WB, Ogg, WAV), a vCard, a
 * PDF, and INBOX_MEDIA_TYPE_UNKNOWN ("bin") for anything else; NULL only
 * when len is 0. */
const inbox_media_type_t *inbox_media_type(const void *bytes, size_t len);

/* The same for an upload: only JPEG, PNG or GIF, else NULL. */
const inbox_media_type_t *inbox_image_type(const void *bytes, size_t len);

/* The type of that content type ("image/png"), as the two above name
 * them; NULL for any other. */
const inbox_media_type_t *inbox_media_type_named(const char *content_type);

/* The i-th of every type a copy may be (from 0), NULL past the last: the
 * list nginx's /media/ locations must serve (config/inbox-server.conf,
 * test_media checks the two agree). */
const inbox_media_type_t *inbox_media_type_at(size_t i);

/* A new file name "TOKEN.EXT" for the type; 0, or -1 when no random bytes
 * could be had. */
int inbox_media_file_name(const inbox_media_type_t *type,
    char out[INBOX_MEDIA_FILE_MAX]);

/* Whether name is a file name inbox_media_file_name makes (a token of the
 * right length and alphabet and a known extension): nothing else is
 * stored, and no other name can reach outside the media directory. */
int inbox_media_file_valid(const char *name);

/* Whether name is such a file name of the type content_type. */
int inbox_media_file_is(const char *name, const char *content_type);

/* "pending", "stored", "failed"; parse returns 0, or -1 for an unknown
 * name. */
const char *inbox_media_state_name(inbox_media_state_t state);
int inbox_media_state_parse(const char *name, inbox_media_state_t *state);


/*
 * Writing a file into the media directory, so that a file is either
 * whole or absent: the bytes go to a hidden temporary name (".TOKEN.tmp",
 * which nginx never serves), are synced to disk, then renamed to
 * "TOKEN.EXT" and the directory synced.  Blocking: in nginx, a pool
 * thread's work.
 */
typedef struct {
    int      fd;                           /* -1 when closed */
    int64_t  bytes;                        /* written so far */
    char     file[INBOX_MEDIA_FILE_MAX];   /* the name it gets */
    char    *dir;                          /* malloc'd */
    char    *tmp;                          /* malloc'd: its path meanwhile */
} inbox_media_writer_t;

/* INBOX_ERR_UNAVAILABLE when the directory cannot be written. */
inbox_status_t inbox_media_write_begin(inbox_media_writer_t *w,
    const char *dir, const inbox_media_type_t *type, inbox_error_t *err);
inbox_status_t inbox_media_write(inbox_media_writer_t *w, const void *buf,
    size_t len, inbox_error_t *err);
/* Syncs and renames: w->file is then in dir.  w is closed either way. */
inbox_status_t inbox_media_write_commit(inbox_media_writer_t *w,
    inbox_error_t *err);
/* Removes what was written (after commit: nothing); w is closed.  Safe to
 * call on a closed writer. */
void inbox_media_write_abort(inbox_media_writer_t *w);
/* Removes a committed file (its record could not be stored, or is being
 * purged): 0 once it is not in dir (removed, or absent already), -1 when
 * it may still be there (an unlink that failed, a name media.h does not
 * make), errno saying why (EINVAL for the name). */
int inbox_media_remove(const char *dir, const char *file);
/* Removes the temporary files of writers that died before their commit
 * (a process killed mid-copy): those last changed before `before`
 * (seconds since the epoch).  How many went; -1 when dir is unreadable. */
int inbox_media_sweep(const char *dir, time_t before);


/* An upload, as its organization's store keeps it. */
typedef struct {
    char     id[INBOX_ID_MAX];
    char     file[INBOX_MEDIA_FILE_MAX];
    char     content_type[INBOX_MEDIA_TYPE_MAX];
    int64_t  bytes;
    int64_t  created_at;                    /* ms */
} inbox_media_record_t;

/* What a carrier takes in all for one message (Twilio: 5 MB). */
#define INBOX_MEDIA_MESSAGE_BYTES_MAX  (5 * 1024 * 1024)

/* INBOX_ERR_INVALID naming "media_ids" when the n uploads add up to more
 * than one message carries: the carrier would refuse it only later, with
 * its credits held meanwhile. */
inbox_status_t inbox_media_message_check(const inbox_media_record_t *media,
    size_t n, inbox_error_t *err);

/*
 * Uploads nothing uses: one that no reply or campaign attached within
 * INBOX_MEDIA_KEEP_UNUSED_MS of its upload (nginx:
 * inbox_media_keep_unused), or that a draft's edit dropped that long
 * ago (the grace counting from the edit), and that no message and no
 * campaign names, is removed (inbox_store_media_purge), so uploads alone
 * cannot fill the disk: its record marked purging first (gone from then
 * on), then its file, then its record, so that a file is never left
 * that no record names (its URL would serve it for good).  The
 * grace keeps an upload a composer holds (a reply written overnight, a
 * draft's form open) and covers a MongoDB write between its attach and
 * what names the file.  A reply or a campaign attaches its uploads in
 * the write that stores it; an upload marked before that write is
 * refused there (inbox_media_gone), so nothing is ever stored naming a
 * removed file.  Copies of inbound media are no uploads: never purged.
 */
#define INBOX_MEDIA_KEEP_UNUSED_MS  (24LL * 60 * 60 * 1000)
/* The most uploads one purge removes. */
#define INBOX_MEDIA_PURGE_MAX       500
/* The most file names one question to the store asks about
 * (inbox_store_media_files_named). */
#define INBOX_MEDIA_NAMED_MAX       500

/* What a route's media_ids calls one of its items ("Attachment 2"). */
#define INBOX_MEDIA_ITEM            "Attachment"

/* INBOX_ERR_INVALID naming item i (from 0) of "media_ids" as the parse
 * names one ("media_ids.1", "Attachment 2: ..."): that upload was
 * removed, unused, since the request read it. */
inbox_status_t inbox_media_gone(size_t i, inbox_error_t *err);

/*
 * The "url" a client is shown for a stored file, wherever it sees one (an
 * upload's answer, a message's or a campaign's media over HTTP, in the
 * contact timeline and in the WebSocket's events): INBOX_MEDIA_PATH +
 * file, a path on the inbox's own origin, to be resolved against the
 * origin the client reached the API at.  Not an absolute URL: events are
 * rendered by whichever process writes the store (nginx, the sender,
 * ws-server replaying a gap), and only nginx knows a public URL, the
 * configured one or else each request's own Host, so no one absolute
 * form could be promised on every path.  Carriers, which fetch from
 * outside, are given absolute URLs by whoever sends (the public URL +
 * this path).
 */
#define INBOX_MEDIA_URL_MAX  (sizeof(INBOX_MEDIA_PATH) + INBOX_MEDIA_FILE_MAX)

void inbox_media_url(const char *file, char url[INBOX_MEDIA_URL_MAX]);

/*
 * The absolute URL a carrier fetches a stored file from: base (the
 * inbox's public URL, without a trailing '/') + inbox_media_url's path,
 * into url (size bytes).  0, or -1 with url "" when it does not fit: a
 * URL cut short would name another file or none.
 */
int inbox_media_public_url(const char *base, const char *file, char *url,
    size_t size);

/* {"id","url","content_type","bytes"}, url as inbox_media_url says;
 * malloc'd, NULL when out of memory. */
char *inbox_render_media(const inbox_media_record_t *media, size_t *len);


/*
 * Copies of inbound MMS files.  The store hands out the media that still
 * need a copy (inbox_store_media_fetch_claim) with the credentials of the
 * number's carrier; a claim is a lease: until it ends nobody else gets
 * that media, and if the fetcher dies its claims come back by themselves.
 * Each claim counts as an attempt; after INBOX_MEDIA_FETCH_ATTEMPTS the
 * fetcher gives up (inbox_media_fetch_retry_at says when to try again).
 * A copy that never left the fetcher is given back, its attempt taken
 * back (inbox_store_media_fetch_give_back).
 */
#define INBOX_MEDIA_FETCH_LEASE_MS   (5 * 60 * 1000)
#define INBOX_MEDIA_FETCH_ATTEMPTS   6
#define INBOX_MEDIA_FETCH_LIMIT_MAX  100

typedef struct {
    char            message_id[INBOX_ID_MAX];
    char            org_id[INBOX_ID_MAX];
    unsigned        idx;                    /* its place in the message */
    char            url[INBOX_MEDIA_URL_CARRIER_MAX];  /* the carrier's */
    char            content_type[INBOX_CONTENT_TYPE_MAX];  /* what the
                                                           carrier said */
    unsigned        attempts;               /* this claim included */
    inbox_number_t  number;                 /* the organization's number of
                                               that carrier: credentials */
} inbox_media_fetch_t;

typedef struct {
    inbox_media_fetch_t  *items;
    size_t                count;
} inbox_media_fetch_list_t;

void inbox_media_fetch_list_free(inbox_media_fetch_list_t *list);

/* After a failed attempt (attempts so far, the failed one included): when
 * to try again (ms; sooner first, then further apart), or 0 to give up. */
int64_t inbox_media_fetch_retry_at(unsigned attempts, int64_t now);

#endif
