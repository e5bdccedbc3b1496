/*
 * Form bodies as carriers post them.
 */
#include <string.h>
#include <inbox/form.h>
#include "check.h"


TEST(form_decodes_plus_and_percent_escapes)
{
    inbox_form_t   form;
    inbox_error_t  err;
    const char    *body = "Body=Hi+there%2C+%F0%9F%91%8B&From=%2B1555";

    CHECK_INT(inbox_form_parse(body, strlen(body), &form, &err), INBOX_OK);
    CHECK_INT(form.count, 2);
    CHECK_STR(inbox_form_get(&form, "Body"), "Hi there, \xF0\x9F\x91\x8B");
    CHECK_STR(inbox_form_get(&form, "From"), "+1555");
    CHECK(inbox_form_get(&form, "To") == NULL);
    inbox_form_free(&form);
}


TEST(form_keeps_body_order_empty_values_and_repeats)
{
    inbox_form_t   form;
    inbox_error_t  err;
    const char    *body = "b=2&a=&&flag&b=3";

    CHECK_INT(inbox_form_parse(body, strlen(body), &form, &err), INBOX_OK);
    CHECK_INT(form.count, 4);
    CHECK_STR(form.fields[0].name, "b");
    CHECK_STR(form.fields[1].name, "a");
    CHECK_STR(form.fields[1].value, "");
    CHECK_STR(form.fields[2].name, "flag");
    CHECK_STR(form.fields[2].value, "");
    CHECK_STR(form.fields[3].value, "3");
    /* the first of a repeated name */
    CHECK_STR(inbox_form_get(&form, "b"), "2");
    inbox_form_free(&form);
}


TEST(form_reads_only_len_bytes)
{
    inbox_form_t   form;
    inbox_error_t  err;
    const char    *body = "a=1&b=2&c=3";

    CHECK_INT(inbox_form_parse(body, 7, &form, &err), INBOX_OK);
    CHECK_INT(form.count, 2);
    CHECK_STR(inbox_form_get(&form, "b"), "2");
    CHECK(inbox_form_get(&form, "c") == NULL);
    inbox_form_free(&form);
}


TEST(form_empty_body_has_no_fields)
{
    inbox_form_t   form;
    inbox_error_t  err;

    CHECK_INT(inbox_form_parse("", 0, &form, &err), INBOX_OK);
    CHECK_INT(form.count, 0);
    CHECK(inbox_form_get(&form, "a") == NULL);
    inbox_form_free(&form);
}


TEST(form_rejects_malformed_escapes)
{
    inbox_form_t   form;
    inbox_error_t  err;

    CHECK_INT(inbox_form_parse("a=%G1", 5, &form, &err), INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "escape") != NULL);
    CHECK(form.storage == NULL);
    CHECK_INT(inbox_form_parse("a=1&b=%4", 8, &form, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_form_parse("%=1", 3, &form, &err), INBOX_ERR_INVALID);
}


TEST(form_refuses_nul_bytes_naming_the_field)
{
    inbox_form_t   form;
    inbox_error_t  err;
    const char    *body = "To=1&Body=hi%00TAIL";

    /* a NUL would end the C string: the rest would be neither signed nor
     * stored */
    CHECK_INT(inbox_form_parse(body, strlen(body), &form, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "Body");
    CHECK(strstr(err.message, "%00") != NULL);
    CHECK(form.storage == NULL);

    CHECK_INT(inbox_form_parse("a%00b=1", 7, &form, &err),
              INBOX_ERR_INVALID);
}


TEST(form_keeps_each_length)
{
    inbox_form_t   form;
    inbox_error_t  err;
    const char    *body = "Body=h%C3%A9+x&Empty=&Flag";

    CHECK_INT(inbox_form_parse(body, strlen(body), &form, &err), INBOX_OK);
    CHECK_INT(form.fields[0].name_len, 4);
    CHECK_INT(form.fields[0].value_len, 5);
    CHECK_INT(form.fields[1].value_len, 0);
    CHECK_INT(form.fields[2].name_len, 4);
    CHECK_INT(form.fields[2].value_len, 0);
    inbox_form_free(&form);
}


TEST(form_names_a_repeated_name)
{
    inbox_form_t   form;
    inbox_error_t  err;
    const char    *name, *body = "limit=5&q=a&c=&limit=500&c=1";

    CHECK_INT(inbox_form_parse(body, strlen(body), &form, &err), INBOX_OK);
    CHECK_INT(inbox_form_repeated(&form, &name, &err), INBOX_OK);
    /* the first in byte order */
    CHECK_STR(name, "c");
    inbox_form_free(&form);

    /* names are compared decoded, values not at all */
    body = "limit=5&%6Cimit=5";
    CHECK_INT(inbox_form_parse(body, strlen(body), &form, &err), INBOX_OK);
    CHECK_INT(inbox_form_repeated(&form, &name, &err), INBOX_OK);
    CHECK_STR(name, "limit");
    inbox_form_free(&form);

    body = "limit=5&Limit=5&q=5&cursor=";
    CHECK_INT(inbox_form_parse(body, strlen(body), &form, &err), INBOX_OK);
    CHECK_INT(inbox_form_repeated(&form, &name, &err), INBOX_OK);
    CHECK(name == NULL);
    inbox_form_free(&form);

    CHECK_INT(inbox_form_parse("", 0, &form, &err), INBOX_OK);
    CHECK_INT(inbox_form_repeated(&form, &name, &err), INBOX_OK);
    CHECK(name == NULL);
    inbox_form_free(&form);
}


RUN_TESTS()
