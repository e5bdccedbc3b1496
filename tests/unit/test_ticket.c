/*
 * Realtime tickets: what ws-server accepts and what it must refuse.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <inbox/encoding.h>
#include <inbox/ticket.h>
#include "check.h"


#define SECRET  "0123456789abcdef0123456789abcdef0123456789abcdef"
#define NOW     ((time_t) 1800000000)


static void
issue(char ticket[INBOX_TICKET_MAX])
{
    inbox_error_t          err;
    inbox_ticket_claims_t  claims;

    memset(&claims, 0, sizeof(claims));
    strcpy(claims.org_id, "42");
    strcpy(claims.user_id, "7");
    claims.state.org_seq = 1234;
    strcpy(claims.state.epoch, "ep-2026");
    claims.state.unread_total = 5;

    if (inbox_ticket_issue((const unsigned char *) SECRET, strlen(SECRET),
                           &claims, NOW, ticket, &err)
        != INBOX_OK)
    {
        fprintf(stderr, "    issue failed: %s\n", err.message);
        abort();
    }
}


static inbox_status_t
verify(const char *ticket, time_t now, inbox_ticket_claims_t *claims)
{
    inbox_error_t  err;

    return inbox_ticket_verify((const unsigned char *) SECRET,
                               strlen(SECRET), ticket, now, claims, &err);
}


TEST(issued_ticket_verifies_with_its_claims)
{
    char                   ticket[INBOX_TICKET_MAX];
    inbox_ticket_claims_t  claims;

    issue(ticket);
    /* the organization in clear, first: nginx routes by it */
    CHECK(strncmp(ticket, "42.", 3) == 0);
    CHECK_INT(verify(ticket, NOW + 10, &claims), INBOX_OK);
    CHECK_STR(claims.org_id, "42");
    CHECK_STR(claims.user_id, "7");
    CHECK_INT(claims.expires, NOW + INBOX_TICKET_TTL);
    CHECK_INT(inbox_ticket_issued(&claims), NOW);
    CHECK_INT(claims.state.org_seq, 1234);
    CHECK_STR(claims.state.epoch, "ep-2026");
    CHECK_INT(claims.state.unread_total, 5);
    CHECK_INT(strlen(claims.nonce), 32);
}


TEST(each_ticket_has_its_own_nonce)
{
    char                   a[INBOX_TICKET_MAX], b[INBOX_TICKET_MAX];
    inbox_ticket_claims_t  ca, cb;

    issue(a);
    issue(b);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(verify(a, NOW, &ca), INBOX_OK);
    CHECK_INT(verify(b, NOW, &cb), INBOX_OK);
    CHECK(strcmp(ca.nonce, cb.nonce) != 0);
}


TEST(expired_ticket_is_forbidden)
{
    char                   ticket[INBOX_TICKET_MAX];
    inbox_error_t          err;
    inbox_ticket_claims_t  claims;

    issue(ticket);
    CHECK_INT(verify(ticket, NOW + INBOX_TICKET_TTL - 1, &claims), INBOX_OK);
    CHECK_INT(inbox_ticket_verify((const unsigned char *) SECRET,
                                  strlen(SECRET), ticket,
                                  NOW + INBOX_TICKET_TTL, &claims, &err),
              INBOX_ERR_FORBIDDEN);
    CHECK(strstr(err.message, "expired") != NULL);
}


TEST(ticket_signed_with_another_secret_is_forbidden)
{
    char                   ticket[INBOX_TICKET_MAX];
    const char            *other = "ffffffffffffffffffffffffffffffffffff";
    inbox_error_t          err;
    inbox_ticket_claims_t  claims;

    issue(ticket);
    CHECK_INT(inbox_ticket_verify((const unsigned char *) other,
                                  strlen(other), ticket, NOW, &claims, &err),
              INBOX_ERR_FORBIDDEN);
}


TEST(tampered_claims_are_forbidden)
{
    char                   ticket[INBOX_TICKET_MAX], forged[3 * INBOX_TICKET_MAX];
    char                   body[INBOX_TICKET_MAX];
    const char            *dot, *json;
    inbox_ticket_claims_t  claims;

    issue(ticket);
    dot = strrchr(ticket, '.');

    /* another organization's claims under the original signature */
    json = "{\"org_id\":\"43\",\"user_id\":\"7\",\"nonce\":\"x\","
           "\"expires\":1900000000,\"org_seq\":1,\"epoch\":\"e\","
           "\"unread_total\":0}";
    inbox_base64url_encode((const unsigned char *) json, strlen(json), body);
    snprintf(forged, sizeof(forged), "43.%s%s", body, dot);
    CHECK_INT(verify(forged, NOW, &claims), INBOX_ERR_FORBIDDEN);
    CHECK_STR(claims.org_id, "");

    /* the organization in clear changed: routed elsewhere, refused */
    snprintf(forged, sizeof(forged), "43%s", ticket + 2);
    CHECK_INT(verify(forged, NOW, &claims), INBOX_ERR_FORBIDDEN);
    CHECK_STR(claims.org_id, "");

    /* one character of the signature changed */
    strcpy(forged, ticket);
    forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ? 'B'
                                                                  : 'A';
    CHECK_INT(verify(forged, NOW, &claims), INBOX_ERR_FORBIDDEN);

    /* the signature cut short */
    strcpy(forged, ticket);
    forged[strlen(forged) - 4] = '\0';
    CHECK_INT(verify(forged, NOW, &claims), INBOX_ERR_FORBIDDEN);
}


TEST(malformed_tickets_are_forbidden)
{
    char                   ticket[INBOX_TICKET_MAX], bad[2 * INBOX_TICKET_MAX];
    inbox_ticket_claims_t  claims;

    CHECK_INT(verify("", NOW, &claims), INBOX_ERR_FORBIDDEN);
    CHECK_INT(verify(NULL, NOW, &claims), INBOX_ERR_FORBIDDEN);
    CHECK_INT(verify("nodot", NOW, &claims), INBOX_ERR_FORBIDDEN);
    CHECK_INT(verify(".abc", NOW, &claims), INBOX_ERR_FORBIDDEN);
    CHECK_INT(verify("a.b.c", NOW, &claims), INBOX_ERR_FORBIDDEN);
    CHECK_INT(verify("a..c", NOW, &claims), INBOX_ERR_FORBIDDEN);
    CHECK_INT(verify(".b.c", NOW, &claims), INBOX_ERR_FORBIDDEN);
    CHECK_INT(verify("a.b.c.d", NOW, &claims), INBOX_ERR_FORBIDDEN);
    CHECK_INT(verify("!!!.???", NOW, &claims), INBOX_ERR_FORBIDDEN);

    issue(ticket);
    snprintf(bad, sizeof(bad), "%s.", ticket);
    CHECK_INT(verify(bad, NOW, &claims), INBOX_ERR_FORBIDDEN);

    memset(bad, 'A', sizeof(bad) - 1);
    bad[sizeof(bad) - 1] = '\0';
    bad[100] = '.';
    CHECK_INT(verify(bad, NOW, &claims), INBOX_ERR_FORBIDDEN);
}


/* Signs org and json with SECRET as the issuer would: only the claims
 * are bad. */
static void
sign(const char *org, const char *json, char out[INBOX_TICKET_MAX])
{
    size_t         n, mac_len;
    unsigned char  mac[32];

    n = (size_t) snprintf(out, INBOX_TICKET_MAX, "%s.", org);
    n += inbox_base64url_encode((const unsigned char *) json, strlen(json),
                                out + n);
    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, SECRET, strlen(SECRET),
              (const unsigned char *) out, n, mac, sizeof(mac), &mac_len);
    out[n++] = '.';
    inbox_base64url_encode(mac, sizeof(mac), out + n);
}


TEST(validly_signed_malformed_claims_are_forbidden)
{
    char                   ticket[INBOX_TICKET_MAX];
    inbox_ticket_claims_t  claims;

    sign("42", "{\"org_id\":\"42\",\"user_id\":\"7\",\"nonce\":\"n\","
         "\"expires\":1900000000,\"org_seq\":1,\"epoch\":\"e\","
         "\"unread_total\":0}", ticket);
    CHECK_INT(verify(ticket, NOW, &claims), INBOX_OK);

    /* signed, but the organization in clear is not the claims' */
    sign("4", "{\"org_id\":\"42\",\"user_id\":\"7\",\"nonce\":\"n\","
         "\"expires\":1900000000,\"org_seq\":1,\"epoch\":\"e\","
         "\"unread_total\":0}", ticket);
    CHECK_INT(verify(ticket, NOW, &claims), INBOX_ERR_FORBIDDEN);

    sign("42", "not json", ticket);
    CHECK_INT(verify(ticket, NOW, &claims), INBOX_ERR_FORBIDDEN);

    sign("42", "[\"42\"]", ticket);
    CHECK_INT(verify(ticket, NOW, &claims), INBOX_ERR_FORBIDDEN);

    /* no organization */
    sign("42", "{\"user_id\":\"7\",\"nonce\":\"n\",\"expires\":1900000000,"
         "\"org_seq\":1,\"epoch\":\"e\",\"unread_total\":0}", ticket);
    CHECK_INT(verify(ticket, NOW, &claims), INBOX_ERR_FORBIDDEN);

    /* an expiry that is not a number */
    sign("42", "{\"org_id\":\"42\",\"user_id\":\"7\",\"nonce\":\"n\","
         "\"expires\":\"never\",\"org_seq\":1,\"epoch\":\"e\","
         "\"unread_total\":0}", ticket);
    CHECK_INT(verify(ticket, NOW, &claims), INBOX_ERR_FORBIDDEN);

    /* an org_id longer than any id */
    sign("0123456789012345678901234567890123456789",
         "{\"org_id\":\"0123456789012345678901234567890123456789\","
         "\"user_id\":\"7\",\"nonce\":\"n\",\"expires\":1900000000,"
         "\"org_seq\":1,\"epoch\":\"e\",\"unread_total\":0}", ticket);
    CHECK_INT(verify(ticket, NOW, &claims), INBOX_ERR_FORBIDDEN);
}


static void
write_file(const char *path, const char *content)
{
    FILE  *f;

    f = fopen(path, "w");
    if (f == NULL) {
        abort();
    }
    fputs(content, f);
    fclose(f);
}


TEST(secret_load_trims_whitespace)
{
    char           path[] = "/tmp/inbox-secret-XXXXXX";
    size_t         n;
    unsigned char  buf[256];
    inbox_error_t  err;

    close(mkstemp(path));
    write_file(path, "  \n" SECRET "\n\n");
    n = inbox_ticket_secret_load(path, buf, sizeof(buf), &err);
    CHECK_INT(n, strlen(SECRET));
    CHECK(n == strlen(SECRET) && memcmp(buf, SECRET, n) == 0);
    unlink(path);
}


TEST(secret_load_rejects_short_or_missing)
{
    char           path[] = "/tmp/inbox-secret-XXXXXX";
    unsigned char  buf[256];
    inbox_error_t  err;

    close(mkstemp(path));
    /* 31 bytes once trimmed */
    write_file(path, "0123456789abcdef0123456789abcde\n   ");
    CHECK_INT(inbox_ticket_secret_load(path, buf, sizeof(buf), &err), 0);
    CHECK(strstr(err.message, "31") != NULL);

    write_file(path, "0123456789abcdef0123456789abcdef");
    CHECK_INT(inbox_ticket_secret_load(path, buf, sizeof(buf), &err), 32);
    unlink(path);

    CHECK_INT(inbox_ticket_secret_load(path, buf, sizeof(buf), &err), 0);
    CHECK(strstr(err.message, path) != NULL);
}


/* A ticket knows when the token or session it was issued on ends by
 * itself; one issued on a credential without an end never lapses. */
TEST(a_ticket_lapses_with_its_session_or_token)
{
    char                   ticket[INBOX_TICKET_MAX];
    inbox_error_t          err;
    inbox_ticket_claims_t  claims, got;

    memset(&claims, 0, sizeof(claims));
    strcpy(claims.org_id, "42");
    strcpy(claims.user_id, "7");
    strcpy(claims.state.epoch, "ep-2026");
    claims.ends_at = (int64_t) NOW * 1000 + 30000;

    CHECK_INT(inbox_ticket_issue((const unsigned char *) SECRET,
                                 strlen(SECRET), &claims, NOW, ticket, &err),
              INBOX_OK);
    CHECK_INT(verify(ticket, NOW + 1, &got), INBOX_OK);
    CHECK(got.ends_at == claims.ends_at);
    CHECK(!inbox_ticket_lapsed(&got, claims.ends_at - 1));
    CHECK(inbox_ticket_lapsed(&got, claims.ends_at));

    claims.ends_at = 0;
    CHECK_INT(inbox_ticket_issue((const unsigned char *) SECRET,
                                 strlen(SECRET), &claims, NOW, ticket, &err),
              INBOX_OK);
    CHECK_INT(verify(ticket, NOW + 1, &got), INBOX_OK);
    CHECK(got.ends_at == 0);
    CHECK(!inbox_ticket_lapsed(&got, INT64_MAX));
}


/* The longest claims there can be (MongoDB ids, a token's or a session's,
 * the longest name, the largest numbers) still fit in a ticket, and the
 * name, the token and the session come back. */
TEST(the_users_name_rides_in_the_ticket)
{
    char                   ticket[INBOX_TICKET_MAX], name[INBOX_TICKET_NAME_MAX];
    inbox_error_t          err;
    inbox_ticket_claims_t  claims, got;

    memset(&claims, 0, sizeof(claims));
    strcpy(claims.org_id, "65a1f0c2e4b0a1b2c3d4e5f6");
    strcpy(claims.user_id, "65a1f0c2e4b0a1b2c3d4e5f7");
    strcpy(claims.token_id, "65a1f0c2e4b0a1b2c3d4e5f8");
    memset(claims.user_name, 'n', INBOX_TICKET_NAME_MAX - 1);
    claims.state.org_seq = INT64_MAX;
    memset(claims.state.epoch, 'e', INBOX_EPOCH_MAX - 1);
    claims.state.unread_total = INT64_MAX;
    claims.ends_at = INT64_MAX;

    CHECK_INT(inbox_ticket_issue((const unsigned char *) SECRET,
                                 strlen(SECRET), &claims, NOW, ticket, &err),
              INBOX_OK);
    CHECK_INT(verify(ticket, NOW + 1, &got), INBOX_OK);
    CHECK_STR(got.user_name, claims.user_name);
    CHECK_STR(got.token_id, claims.token_id);
    CHECK(got.ends_at == INT64_MAX);

    CHECK_STR(got.session_id, "");

    /* a session's ticket names the session (a logout closes what it
     * opened), and no token */
    claims.token_id[0] = '\0';
    strcpy(claims.session_id, "65a1f0c2e4b0a1b2c3d4e5f9");
    CHECK_INT(inbox_ticket_issue((const unsigned char *) SECRET,
                                 strlen(SECRET), &claims, NOW, ticket, &err),
              INBOX_OK);
    CHECK_INT(verify(ticket, NOW + 1, &got), INBOX_OK);
    CHECK_STR(got.token_id, "");
    CHECK_STR(got.session_id, claims.session_id);
    CHECK_STR(got.user_name, claims.user_name);

    /* an address that fits is the name; a longer one its local part */
    inbox_ticket_user_name("ana@harbor.example", name);
    CHECK_STR(name, "ana@harbor.example");
    inbox_ticket_user_name("ana.maria.de.los.santos@a-very-long-subdomain"
                           ".of.a.harbor.example", name);
    CHECK_STR(name, "ana.maria.de.los.santos");
}


RUN_TESTS()
