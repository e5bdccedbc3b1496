/*
 * The JSON request reader: what a route's declared fields let through,
 * and the 400 naming the field for everything else.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/contact.h>
#include <inbox/request.h>
#include "check.h"


static const inbox_field_t  hours[] = {
    { .name = "start", .type = INBOX_FIELD_STRING, .required = 1,
      .max = 5 },
    { .name = "end", .type = INBOX_FIELD_STRING, .required = 1, .max = 5 },
    { .name = NULL }
};

static const inbox_field_t  audience[] = {
    { .name = "tags", .type = INBOX_FIELD_STRINGS, .item = "Tag" },
    { .name = NULL }
};

static const inbox_field_t  fields[] = {
    { .name = "email", .type = INBOX_FIELD_STRING, .required = 1,
      .min = 1, .max = 20 },
    { .name = "name", .type = INBOX_FIELD_STRING, .nullable = 1,
      .max = 4 },
    { .name = "tags", .type = INBOX_FIELD_STRINGS, .max = 2,
      .item_max = 3 },
    { .name = "limit", .type = INBOX_FIELD_INTEGER, .min = 1, .max = 200 },
    { .name = "all", .type = INBOX_FIELD_BOOLEAN },
    { .name = "quiet_hours", .type = INBOX_FIELD_OBJECT, .fields = hours },
    { .name = "options", .type = INBOX_FIELD_STRINGS, .max = 3, .min = 1,
      .item_max = 5, .item = "Option" },
    { .name = "audience", .type = INBOX_FIELD_OBJECT, .fields = audience },
    { .name = NULL }
};


/* Parses body and expects a refusal naming field (NULL: none). */
static void
refused(const char *body, const char *field, const char *message_part)
{
    inbox_error_t    err;
    inbox_request_t  req;

    if (inbox_request_parse(body, strlen(body), fields, &req, &err)
        != INBOX_ERR_INVALID)
    {
        fprintf(stderr, "    %s was not refused\n", body);
        CHECK(0);
        inbox_request_free(&req);
        return;
    }

    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(req.root == NULL);
    CHECK_STR(err.field, field ? field : "");

    if (message_part != NULL && strstr(err.message, message_part) == NULL) {
        fprintf(stderr, "    \"%s\" lacks \"%s\" (body %s)\n", err.message,
                message_part, body);
        CHECK(0);
    }
}


TEST(a_body_that_fits_is_read)
{
    const char      *body;
    inbox_error_t    err;
    inbox_request_t  req;

    body = "{\"email\":\"a@b.test\",\"name\":null,\"tags\":[\"vip\",\"é\"],"
           "\"limit\":200,\"all\":false,"
           "\"quiet_hours\":{\"start\":\"21:00\",\"end\":\"08:00\"}}";

    CHECK_INT(inbox_request_parse(body, strlen(body), fields, &req, &err),
              INBOX_OK);
    CHECK_STR(inbox_request_string(&req, "email"), "a@b.test");
    CHECK(inbox_request_string(&req, "name") == NULL);
    CHECK(inbox_request_has(&req, "name"));
    CHECK(YAJL_IS_NULL(inbox_request_get(&req, "name")));
    CHECK(!inbox_request_has(&req, "missing"));
    CHECK_STR(inbox_request_string(&req, "quiet_hours.end"), "08:00");
    CHECK_INT(YAJL_GET_INTEGER(inbox_request_get(&req, "limit")), 200);
    inbox_request_free(&req);
    CHECK(req.root == NULL);

    /* optional fields may be left out; the body needs no NUL after it */
    body = "{\"email\":\"x@y\"}trailing";
    CHECK_INT(inbox_request_parse(body, strlen("{\"email\":\"x@y\"}"),
                                  fields, &req, &err), INBOX_OK);
    inbox_request_free(&req);
}


TEST(each_mistake_names_its_field)
{
    refused("{}", "email", "email is required");
    refused("{\"email\":5}", "email", "email must be a string");
    refused("{\"email\":null}", "email", "not null");
    refused("{\"email\":\"\"}", "email", "may not be empty");
    refused("{\"email\":\"123456789012345678901\"}", "email",
            "at most 20 characters");
    refused("{\"email\":\"a@b\",\"emial\":\"a@b\"}", "emial",
            "emial is not a field of this request; it takes email, name, "
            "tags, limit, all, quiet_hours, options and audience");
    refused("{\"email\":\"a@b\",\"email\":\"c@d\"}", "email", "twice");
    refused("{\"email\":\"a@b\",\"tags\":\"vip\"}", "tags",
            "an array of strings");
    refused("{\"email\":\"a@b\",\"tags\":[\"a\",\"b\",\"c\"]}", "tags",
            "at most 2 items");
    refused("{\"email\":\"a@b\",\"tags\":[\"a\",2]}", "tags.1",
            "Item 2 of tags must be text.");
    refused("{\"email\":\"a@b\",\"tags\":[\"long\"]}", "tags.0",
            "Item 1 of tags may have at most 3 characters.");
    refused("{\"email\":\"a@b\",\"limit\":0}", "limit", "from 1 to 200");
    refused("{\"email\":\"a@b\",\"limit\":1.5}", "limit", "whole number");
    refused("{\"email\":\"a@b\",\"limit\":99999999999999999999}", "limit",
            "whole number");
    refused("{\"email\":\"a@b\",\"all\":\"yes\"}", "all", "true or false");
    refused("{\"email\":\"a@b\",\"quiet_hours\":{\"start\":\"21:00\"}}",
            "quiet_hours.end", "quiet_hours.end is required");
    refused("{\"email\":\"a@b\",\"quiet_hours\":{\"start\":\"21:00\","
            "\"end\":\"8\",\"tz\":1}}", "quiet_hours.tz", "not a field");
    refused("{\"email\":\"a@b\",\"quiet_hours\":[]}", "quiet_hours",
            "an object");
}


TEST(one_item_of_an_array_refused_is_named_by_its_index)
{
    /* the field from 0, as the array sent; the words from 1, by the
     * field's own name for an item */
    refused("{\"email\":\"a@b\",\"options\":[\"Yes\",3]}", "options.1",
            "Option 2 must be text.");
    refused("{\"email\":\"a@b\",\"options\":[\"Yes\",\"No\",null]}",
            "options.2", "Option 3 must be text.");
    refused("{\"email\":\"a@b\",\"options\":[\"Yes\",\"\"]}", "options.1",
            "Option 2 may not be empty.");
    refused("{\"email\":\"a@b\",\"options\":[\"Maybe!\"]}", "options.0",
            "Option 1 may have at most 5 characters.");
    refused("{\"email\":\"a@b\",\"options\":[\"Yes\",\"\xed\xa0\x80\"]}",
            "options.1", "Option 2 is not valid UTF-8.");
    refused("{\"email\":\"a@b\",\"options\":[\"Yes\",\"No\\ud800\"]}",
            "options.1", "Option 2 holds \\ud800, half of a UTF-16 "
            "surrogate pair");
    /* in an object: its path, then the index */
    refused("{\"email\":\"a@b\",\"audience\":{\"tags\":[\"vip\",false]}}",
            "audience.tags.1", "Tag 2 must be text.");
    refused("{\"audience\":{\"tags\":[\"vip\",\"new\",\"\\udc00\"]},"
            "\"email\":\"a@b\"}", "audience.tags.2", "Tag 3 holds \\udc00");

    /* the array as a whole keeps the field's name */
    refused("{\"email\":\"a@b\",\"options\":\"Yes\"}", "options",
            "options must be an array of strings.");
    refused("{\"email\":\"a@b\",\"options\":[\"a\",\"b\",\"c\",\"d\"]}",
            "options", "options may have at most 3 items.");
    refused("{\"email\":\"a@b\",\"options\":null}", "options", "not null");
}


/* An item a rule refuses after the parse (contact.h's tags, an unknown
 * upload) is named as the parse names one: its index, said from 1. */
TEST(an_item_a_later_rule_refuses_is_named_by_its_index)
{
    inbox_error_t  err;
    inbox_tags_t   tags = { NULL, 0 };

    CHECK_INT(inbox_tags_add(&tags, "vip", 3, &err), INBOX_OK);
    CHECK_INT(inbox_tags_add(&tags, "new\xe2\x80\x8b", 6, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "tags");
    CHECK_INT(inbox_request_item_refused(fields, "audience.tags", 1, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "audience.tags.1");
    CHECK(strncmp(err.message, "Tag 2: a tag cannot hold invisible ",
                  35) == 0);
    inbox_tags_free(&tags);

    inbox_error_set_field(&err, INBOX_ERR_INVALID, "options",
                          "There is no such option.");
    inbox_request_item_refused(fields, "options", 0, &err);
    CHECK_STR(err.field, "options.0");
    CHECK_STR(err.message, "Option 1: there is no such option.");

    /* a field with no word for its items; an acronym stays as it is */
    inbox_error_set_field(&err, INBOX_ERR_INVALID, "tags",
                          "URL \"x\" is refused.");
    inbox_request_item_refused(fields, "tags", 4, &err);
    CHECK_STR(err.field, "tags.4");
    CHECK_STR(err.message, "Item 5 of tags: URL \"x\" is refused.");
}


TEST(what_is_not_a_json_object_is_refused)
{
    inbox_error_t    err;
    inbox_request_t  req;

    refused("", NULL, "needs a JSON object");
    refused("{\"email\":", NULL, "not valid JSON");
    refused("email=a@b", NULL, "not valid JSON");
    refused("[\"email\"]", NULL, "must be a JSON object");
    refused("\"a@b\"", NULL, "must be a JSON object");
    refused("{\"email\":\"a@b\"} {}", NULL, "not valid JSON");

    /* a NUL byte, raw or escaped, would cut a string short unseen */
    CHECK_INT(inbox_request_parse("{\"email\":\"a\0@b\"}", 16, fields, &req,
                                  &err), INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "NUL") != NULL);
    refused("{\"email\":\"a\\u0000@b\"}", NULL, "NUL");
    /* an escaped backslash before "u0000" is text, not NUL */
    CHECK_INT(inbox_request_parse("{\"email\":\"a\\\\u0000\"}", 20, fields,
                                  &req, &err), INBOX_OK);
    CHECK_STR(inbox_request_string(&req, "email"), "a\\u0000");
    inbox_request_free(&req);

    /* nesting is bounded before yajl builds (and recursively frees) it */
    refused("{\"email\":\"a\",\"tags\":"
            "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}", NULL,
            "nests more than");
}


TEST(strings_must_be_valid_utf8)
{
    /* surrogates, which yajl's own check lets through: as bytes */
    refused("{\"email\":\"\xed\xa0\x80@b\"}", "email", "not valid UTF-8");
    refused("{\"email\":\"a@b\",\"\xff\":1}", NULL, "not valid");
    /* characters are counted, not bytes: four of them fit in name */
    {
        const char      *body = "{\"email\":\"a@b\",\"name\":\"éééé\"}";
        inbox_error_t    err;
        inbox_request_t  req;

        CHECK_INT(inbox_request_parse(body, strlen(body), fields, &req,
                                      &err), INBOX_OK);
        inbox_request_free(&req);
    }
    refused("{\"email\":\"a@b\",\"name\":\"ééééé\"}", "name",
            "at most 4 characters");
}


TEST(half_a_surrogate_pair_is_refused_naming_its_field)
{
    const char      *body;
    inbox_error_t    err;
    inbox_request_t  req;

    /* yajl would store a lone high one as "?", and join one to any
     * escape after it */
    refused("{\"email\":\"a@b\",\"name\":\"A\\ud800\"}", "name",
            "half of a UTF-16 surrogate pair");
    refused("{\"email\":\"a@b\",\"name\":\"\\uD800\\u0041\"}", "name",
            "\\uD800");
    refused("{\"email\":\"a@b\",\"name\":\"\\ud800\\ud800\"}", "name",
            "surrogate");
    refused("{\"email\":\"a@b\",\"tags\":[\"x\",\"\\udfff\"]}", "tags.1",
            "Item 2 of tags holds \\udfff");
    refused("{\"quiet_hours\":{\"start\":\"1\",\"end\":\"\\udc00\"},"
            "\"email\":\"a@b\"}", "quiet_hours.end", "surrogate");
    refused("{\"quiet_hours\":{\"start\":\"1\",\"end\":\"2\"},"
            "\"email\":\"\\ud83d\"}", "email", "surrogate");
    refused("{\"email\":\"a@b\",\"\\ud800\":1}", NULL, "surrogate");
    refused("[\"\\ud800\"]", NULL, "The request holds \\ud800");

    /* a pair is one character; an escaped backslash is text */
    body = "{\"email\":\"\\ud83d\\ude00\\\\ud800\","
           "\"name\":\"\\uD83D\\uDE00\"}";
    CHECK_INT(inbox_request_parse(body, strlen(body), fields, &req, &err),
              INBOX_OK);
    CHECK_STR(inbox_request_string(&req, "email"),
              "\xf0\x9f\x98\x80\\ud800");
    CHECK_STR(inbox_request_string(&req, "name"), "\xf0\x9f\x98\x80");
    inbox_request_free(&req);

    /* carriers' JSON is read as yajl reads it (telnyx.c repairs text) */
    body = "{\"text\":\"A\\ud800\"}";
    CHECK_INT(inbox_request_read(body, strlen(body), &req, &err), INBOX_OK);
    inbox_request_free(&req);
}


RUN_TESTS()
