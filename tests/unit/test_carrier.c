/*
 * What the carrier files share (carrier_util.h), read with a carrier of
 * the test's own so that no carrier's fields hide what the shared part
 * does: the opening of a status answer (no answer, no JSON object, an
 * error with the carrier's code and text, the carrier's "no such
 * message", a 200 handed on).
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/carrier.h>
#include "carrier_util.h"
#include "check.h"


static int  error_reads;


/* The test carrier's error answer: {"oops": {"n": code, "say": text}}. */
static void
test_carrier_error(yajl_val root, char code[INBOX_CARRIER_CODE_MAX],
    const char **text)
{
    static const char  *code_path[] = { "oops", "n", NULL };
    static const char  *text_path[] = { "oops", "say", NULL };

    error_reads++;

    if (inbox_carrier_code(inbox_carrier_get(root, code_path), code) != 0) {
        code[0] = '\0';
    }

    *text = inbox_carrier_string(inbox_carrier_get(root, text_path));
}


/* The test carrier says it has no such message with a 404 and code 7. */
static int
status_object(long http_status, const char *body, yajl_val *root,
    char why[INBOX_CARRIER_MESSAGE_MAX])
{
    strcpy(why, "not set");

    return inbox_carrier_status_object("Acme", http_status, body,
                                       body ? strlen(body) : 0,
                                       test_carrier_error, "7", root, why);
}


TEST(status_object_hands_a_200_object_to_the_carrier)
{
    char                why[INBOX_CARRIER_MESSAGE_MAX];
    yajl_val            root;
    static const char  *state_path[] = { "state", NULL };

    error_reads = 0;
    CHECK_INT(status_object(200, "{\"state\":\"done\"}", &root, why), 0);
    CHECK(root != NULL && YAJL_IS_OBJECT(root));
    CHECK_STR(inbox_carrier_string(inbox_carrier_get(root, state_path)),
              "done");
    CHECK_INT(error_reads, 0);

    if (root != NULL) {
        yajl_tree_free(root);
    }
}


TEST(status_object_without_an_answer_says_so)
{
    char      why[INBOX_CARRIER_MESSAGE_MAX];
    yajl_val  root;

    CHECK_INT(status_object(0, NULL, &root, why), -1);
    CHECK(root == NULL);
    CHECK_STR(why, "Acme did not answer.");

    /* a body that came with no status is still no answer */
    CHECK_INT(status_object(0, "{\"state\":\"done\"}", &root, why), -1);
    CHECK_STR(why, "Acme did not answer.");
}


TEST(status_object_without_a_json_object_says_so)
{
    char      why[INBOX_CARRIER_MESSAGE_MAX];
    yajl_val  root;

    error_reads = 0;
    CHECK_INT(status_object(200, "not json", &root, why), -1);
    CHECK(root == NULL);
    CHECK_STR(why, "Acme answered HTTP 200 without a JSON object.");

    CHECK_INT(status_object(503, "<html>busy</html>", &root, why), -1);
    CHECK_STR(why, "Acme answered HTTP 503 without a JSON object.");

    CHECK_INT(status_object(200, "[{\"state\":\"done\"}]", &root, why), -1);
    CHECK(root == NULL);
    CHECK_STR(why, "Acme answered HTTP 200 without a JSON object.");

    CHECK_INT(status_object(200, "", &root, why), -1);
    CHECK_INT(error_reads, 0);
}


TEST(status_object_error_says_the_carriers_code_and_text)
{
    char      why[INBOX_CARRIER_MESSAGE_MAX];
    yajl_val  root;

    error_reads = 0;
    CHECK_INT(status_object(404, "{\"oops\":{\"n\":20404,\"say\":\"No such "
                                 "message\"}}", &root, why), -1);
    CHECK(root == NULL);
    CHECK_STR(why, "Acme answered HTTP 404, error 20404: No such message");
    CHECK_INT(error_reads, 1);

    /* a code without a text, a text without a code, neither */
    CHECK_INT(status_object(401, "{\"oops\":{\"n\":\"auth\"}}", &root, why),
              -1);
    CHECK_STR(why, "Acme answered HTTP 401, error auth: no reason given");

    CHECK_INT(status_object(429, "{\"oops\":{\"say\":\"Slow down\"}}", &root,
                            why), -1);
    CHECK_STR(why, "Acme answered HTTP 429: Slow down");

    CHECK_INT(status_object(500, "{}", &root, why), -1);
    CHECK_STR(why, "Acme answered HTTP 500: no reason given");

    /* a 2xx other than 200 is no answer to a GET of the message */
    CHECK_INT(status_object(204, "{}", &root, why), -1);
    CHECK_STR(why, "Acme answered HTTP 204: no reason given");

    /* the carrier's text is made safe to log */
    CHECK_INT(status_object(500, "{\"oops\":{\"say\":\"a\\nb\"}}", &root,
                            why), -1);
    CHECK_STR(why, "Acme answered HTTP 500: a b");
}


TEST(status_object_tells_the_carriers_no_such_message_apart)
{
    char      why[INBOX_CARRIER_MESSAGE_MAX];
    yajl_val  root;

    CHECK_INT(status_object(404, "{\"oops\":{\"n\":7,\"say\":\"Not "
                                 "here\"}}", &root, why),
              INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE);
    CHECK(root == NULL);
    CHECK_STR(why, "Acme answered HTTP 404, error 7: Not here");

    /* another code, another status, a page that is not the carrier's:
     * nothing said, asked again */
    CHECK_INT(status_object(404, "{\"oops\":{\"n\":8}}", &root, why), -1);
    CHECK_INT(status_object(410, "{\"oops\":{\"n\":7}}", &root, why), -1);
    CHECK_INT(status_object(404, "<html>Not Found</html>", &root, why), -1);
    CHECK(root == NULL);

    /* a carrier whose every JSON 404 says so names no code */
    CHECK_INT(inbox_carrier_status_object("Acme", 404, "{}", 2,
                                          test_carrier_error, NULL, &root,
                                          why),
              INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE);
    CHECK_STR(why, "Acme answered HTTP 404: no reason given");
    CHECK_INT(inbox_carrier_status_object("Acme", 404, "nope", 4,
                                          test_carrier_error, NULL, &root,
                                          why), -1);
}


RUN_TESTS()
