/*
 * What intake keeps of an inbound message's text and media, for every
 * carrier alike.  A webhook refused is a message lost: the carrier tries
 * a 4xx again a few times, then gives up, and the contact's words go
 * with it.  So only what the signature and the message's identity need
 * (its id, From, To, the form's shape) refuses a webhook; a text too long
 * is kept cut, with a note saying so, and a media item that cannot be
 * fetched is kept failed, the rest of the message with it.
 */
#ifndef INBOX_INBOUND_H
#define INBOX_INBOUND_H

#include <stddef.h>
#include <inbox/error.h>
#include <inbox/model.h>

/*
 * The characters of a text received that are kept.  Not the carrier's
 * limit (Twilio cuts at 1600 itself; Telnyx documents none for what it
 * delivers, and an MMS text may be longer): the store, the API, the web
 * and search take any length, but a new message travels to ws-server as
 * one event of at most INBOX_EVENT_DATAGRAM_MAX (64 KiB) bytes.  5000
 * characters, at most 6 bytes each once escaped in JSON, leave that
 * event room to spare.
 */
#define INBOX_INBOUND_BODY_MAX  5000

/*
 * text (len bytes, as the carrier sent it) as msg->body: repaired when
 * it is not valid UTF-8 (see utf8.h), and cut after
 * INBOX_INBOUND_BODY_MAX characters with a note of how many more there
 * were.  msg->body points to text when it is kept as it is, else to
 * msg->owned.  INBOX_ERR_INTERNAL only when out of memory.
 */
inbox_status_t inbox_inbound_body(inbox_inbound_t *msg, const char *text,
    size_t len, inbox_error_t *err);

/*
 * One media item as the carrier named it (type NULL when it gave none)
 * into media.  Pending, to be copied, when url is an http or https URL
 * that fits (inbox_media_field_valid); else failed, with no URL: no copy
 * can be made, and the web shows the attachment failed.  A type that is
 * not printable ASCII or does not fit is kept unknown (""): the copy
 * decides the type by the bytes, never by the carrier's word.
 */
void inbox_inbound_media(inbox_media_t *media, const char *url,
    size_t url_len, const char *type, size_t type_len);

/*
 * Whether a media item the carrier named by type (type_len bytes; NULL
 * for none) is the message's layout, SMIL (application/smil, any case,
 * with parameters), which a phone sends with its attachments to say how
 * they are laid out: nothing a person reads, and not kept.
 */
int inbox_inbound_media_is_layout(const char *type, size_t type_len);

/*
 * A message keeps its first INBOX_MEDIA_MAX media items (Twilio's limit;
 * Telnyx documents none for what it delivers).  When the carrier named
 * `more` beyond those, a note saying so ends msg->body ("[2 more
 * attachments not kept]"), as a cut text's does: the agent can ask the
 * contact for them; not a keyword's (keywords.h), which must stay one.
 * INBOX_ERR_INTERNAL only when out of memory.
 */
inbox_status_t inbox_inbound_media_over(inbox_inbound_t *msg, size_t more,
    inbox_error_t *err);

#endif
