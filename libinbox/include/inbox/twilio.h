/*
 * Twilio: webhook signatures and the inbound message form.
 */
#ifndef INBOX_TWILIO_H
#define INBOX_TWILIO_H

#include <stddef.h>
#include <inbox/error.h>
#include <inbox/form.h>
#include <inbox/model.h>

/* base64 of a 20-byte HMAC-SHA1 digest, and its NUL. */
#define INBOX_TWILIO_SIGNATURE_MAX  29

/*
 * X-Twilio-Signature: the URL Twilio called, then every POST parameter as
 * name and value, sorted by name (then value) in byte order, HMAC-SHA1 with
 * the auth token, base64.
 */
void inbox_twilio_signature(const char *url, const inbox_form_t *params,
    const char *auth_token, char out[INBOX_TWILIO_SIGNATURE_MAX]);

/* 1 when signature is right for url and params; compares in constant time. */
int inbox_twilio_signature_valid(const char *url, const inbox_form_t *params,
    const char *auth_token, const char *signature);

/*
 * Reads an inbound message webhook (MessageSid, From, To, Body, NumMedia,
 * NumSegments, MediaUrlN, MediaContentTypeN) into msg.  Unknown fields are
 * ignored.  msg points into form, which must outlive it.  A missing
 * MessageSid, From or To, or a number that is not one, is
 * INBOX_ERR_INVALID naming the field.
 */
inbox_status_t inbox_twilio_inbound_parse(const inbox_form_t *form,
    const char *default_country, inbox_inbound_t *msg, inbox_error_t *err);

#endif
