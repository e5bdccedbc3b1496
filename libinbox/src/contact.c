/*
 * A contact's name, tags and time zone: the rules of contact.h, once for
 * every backend and route.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>
#include <yajl/yajl_tree.h>
#include <inbox/contact.h>
#include <inbox/utf8.h>


static const char *inbox_trim(const char *s, size_t *len);
static const char *inbox_tag_trim(const char *s, size_t *len);
static int inbox_tag_inner_format(UChar32 c, int followed);
static inbox_status_t inbox_tag_check(const char *tag, size_t len,
    inbox_error_t *err);
static inbox_status_t inbox_tags_append(inbox_tags_t *tags,
    const char *tag, size_t len, inbox_error_t *err);


/* Leading and trailing ASCII white space off s (len bytes). */
static const char *
inbox_trim(const char *s, size_t *len)
{
    size_t  n = *len;

    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'
                     || *s == '\f' || *s == '\v'))
    {
        s++;
        n--;
    }

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'
                     || s[n - 1] == '\r' || s[n - 1] == '\n'
                     || s[n - 1] == '\f' || s[n - 1] == '\v'))
    {
        n--;
    }

    *len = n;
    return s;
}


void
inbox_tags_free(inbox_tags_t *tags)
{
    size_t  i;

    if (tags == NULL) {
        return;
    }

    for (i = 0; tags->items != NULL && i < tags->count; i++) {
        free(tags->items[i]);
    }

    free(tags->items);
    tags->items = NULL;
    tags->count = 0;
}


void
inbox_tag_key(const char *tag, char out[INBOX_TAG_KEY_MAX])
{
    size_t  i;

    for (i = 0; tag[i] != '\0' && i + 1 < INBOX_TAG_KEY_MAX; i++) {
        out[i] = (tag[i] >= 'A' && tag[i] <= 'Z') ? tag[i] + 32 : tag[i];
    }

    out[i] = '\0';
}


int
inbox_tags_has(const inbox_tags_t *tags, const char *tag)
{
    size_t  i;

    for (i = 0; i < tags->count; i++) {
        /* ASCII only, as SQLite's NOCASE and MongoDB's stored key */
        if (strcasecmp(tags->items[i], tag) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * A tag's white space off both ends, Unicode's (no-break, ideographic
 * spaces) as well as ASCII's: "vip" and "vip" with a no-break space
 * after it would be two tags that look alike.  Bytes that are no UTF-8
 * stop the trim; the check refuses them.
 */
static const char *
inbox_tag_trim(const char *s, size_t *len)
{
    int32_t  start, end, i;
    UChar32  c;

    s = inbox_trim(s, len);

    start = 0;
    end = (int32_t) *len;

    while (start < end) {
        i = start;
        U8_NEXT(s, i, end, c);
        if (c < 0 || !u_isUWhiteSpace(c)) {
            break;
        }
        start = i;
    }

    while (end > start) {
        i = end;
        U8_PREV(s, start, i, c);
        if (c < 0 || !u_isUWhiteSpace(c)) {
            break;
        }
        end = i;
    }

    *len = (size_t) (end - start);

    return s + start;
}


inbox_status_t
inbox_tags_add(inbox_tags_t *tags, const char *tag, size_t len,
    inbox_error_t *err)
{
    inbox_status_t  rc;

    tag = inbox_tag_trim(tag, &len);

    rc = inbox_tag_check(tag, len, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_tags_append(tags, tag, len, err);
}


int
inbox_tag_blank(const char *tag, size_t len)
{
    inbox_tag_trim(tag, &len);

    return len == 0;
}


inbox_status_t
inbox_tags_add_named(inbox_tags_t *tags, const char *tag, size_t len,
    inbox_error_t *err)
{
    tag = inbox_tag_trim(tag, &len);

    if (len == 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "tags",
                                     "A tag cannot be empty.");
    }

    if (inbox_utf8_length(tag, len) > INBOX_TAG_MAX) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "tags",
                                     "A tag has at most %d characters.",
                                     INBOX_TAG_MAX);
    }

    return inbox_tags_append(tags, tag, len, err);
}


inbox_status_t
inbox_tags_add_stored(inbox_tags_t *tags, const char *tag,
    inbox_error_t *err)
{
    return inbox_tags_append(tags, tag, strlen(tag), err);
}


/*
 * What a tag (len bytes, trimmed) may be.  Besides its length, it must
 * survive where tags go: a CSV import splits its tags column on ";", so
 * a tag holding one would come back as two; and the web app's chips and
 * audience picker show tags inside other text, where a control
 * character (C0, DEL, C1), a format character (Cf: zero-width spaces,
 * U+2060, U+FEFF, bidi marks, embeddings, overrides and isolates) or a
 * line or paragraph separator would make two tags that look the same,
 * or reorder the text around it.  Only joiners between visible
 * characters and emoji's tag characters after one are let in
 * (inbox_tag_inner_format).  A tag of white space or default ignorable
 * characters alone (a Hangul filler) shows as nothing.
 */
static inbox_status_t
inbox_tag_check(const char *tag, size_t len, inbox_error_t *err)
{
    int       visible;
    int32_t   i;
    UChar32   c;
    int8_t    type;

    if (len == 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "tags",
                                     "A tag cannot be empty.");
    }

    /* at most INBOX_TAG_MAX * 4 bytes from here on */
    if (inbox_utf8_length(tag, len) > INBOX_TAG_MAX) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "tags",
                                     "A tag has at most %d characters.",
                                     INBOX_TAG_MAX);
    }

    visible = 0;

    for (i = 0; i < (int32_t) len; /* void */) {
        U8_NEXT(tag, i, (int32_t) len, c);

        if (c < 0) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "tags",
                                         "A tag must be UTF-8 text.");
        }

        if (c == ';') {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "tags",
                                         "A tag cannot hold \";\": a CSV "
                                         "import separates tags with it.");
        }

        type = u_charType(c);

        if (type == U_CONTROL_CHAR) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "tags",
                                         "A tag cannot hold control "
                                         "characters.");
        }

        if ((type == U_FORMAT_CHAR
             && !(visible && inbox_tag_inner_format(c, i < (int32_t) len)))
            || type == U_LINE_SEPARATOR || type == U_PARAGRAPH_SEPARATOR)
        {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "tags",
                                         "A tag cannot hold invisible "
                                         "characters such as zero-width "
                                         "spaces, direction marks or line "
                                         "separators (it holds U+%04X).",
                                         (unsigned) c);
        }

        if (!u_isUWhiteSpace(c)
            && !u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
        {
            visible = 1;
        }
    }

    if (!visible) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "tags",
                                     "A tag cannot be only invisible "
                                     "characters.");
    }

    return INBOX_OK;
}


/*
 * The format characters a tag may hold after a visible one, as words and
 * emoji need them: the zero-width non-joiner of Persian spelling and the
 * joiner of emoji sequences (a family, a profession), each followed by
 * more (followed), and the tag characters that end a subdivision flag.
 */
static int
inbox_tag_inner_format(UChar32 c, int followed)
{
    if (c == 0x200c || c == 0x200d) {
        return followed;
    }

    return c >= 0xe0020 && c <= 0xe007f;
}


/* tag (len bytes) added as it is, unless the set has it in any ASCII
 * case; a set of INBOX_TAGS_MAX takes no other. */
static inbox_status_t
inbox_tags_append(inbox_tags_t *tags, const char *tag, size_t len,
    inbox_error_t *err)
{
    char  *copy, **items;

    copy = strndup(tag, len);
    if (copy == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    if (inbox_tags_has(tags, copy)) {
        free(copy);
        return INBOX_OK;
    }

    if (tags->count == INBOX_TAGS_MAX) {
        free(copy);
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "tags",
                                     "A contact has at most %d tags.",
                                     INBOX_TAGS_MAX);
    }

    items = realloc(tags->items, (tags->count + 1) * sizeof(char *));
    if (items == NULL) {
        free(copy);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    items[tags->count++] = copy;
    tags->items = items;

    return INBOX_OK;
}


inbox_status_t
inbox_tags_from_json(const char *json, inbox_tags_t *tags,
    inbox_error_t *err)
{
    char        *copy;
    size_t       i;
    yajl_val     root, v;
    const char  *str;

    memset(tags, 0, sizeof(inbox_tags_t));

    if (json == NULL) {
        return INBOX_OK;
    }

    root = yajl_tree_parse(json, NULL, 0);
    if (root == NULL || !YAJL_IS_ARRAY(root)) {
        yajl_tree_free(root);
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "stored tags are not a list");
    }

    if (root->u.array.len > 0) {
        tags->items = calloc(root->u.array.len, sizeof(char *));
        if (tags->items == NULL) {
            yajl_tree_free(root);
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
        }
    }

    for (i = 0; i < root->u.array.len; i++) {
        v = root->u.array.values[i];

        str = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
        if (str == NULL) {
            continue;
        }

        copy = strdup(str);
        if (copy == NULL) {
            yajl_tree_free(root);
            inbox_tags_free(tags);
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
        }

        tags->items[tags->count++] = copy;
    }

    yajl_tree_free(root);

    return INBOX_OK;
}


inbox_status_t
inbox_contact_name(const char *name, size_t len, char **out,
    inbox_error_t *err)
{
    size_t  i;

    *out = NULL;

    if (name == NULL) {
        return INBOX_OK;
    }

    name = inbox_trim(name, &len);

    if (len == 0) {
        return INBOX_OK;
    }

    if (inbox_utf8_length(name, len) > INBOX_NAME_MAX) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "name",
                                     "A name has at most %d characters.",
                                     INBOX_NAME_MAX);
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) name[i] < 0x20 || name[i] == 0x7f) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "name",
                                         "A name cannot hold control "
                                         "characters.");
        }
    }

    *out = strndup(name, len);
    if (*out == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    return INBOX_OK;
}


/* The organization's rule (inbox_timezone_valid: a zone of the system's
 * database that quiet hours' calendar knows). */
inbox_status_t
inbox_contact_timezone(const char *tz, size_t len,
    char out[INBOX_TIMEZONE_MAX], inbox_error_t *err)
{
    out[0] = '\0';

    if (tz == NULL) {
        return INBOX_OK;
    }

    tz = inbox_trim(tz, &len);

    if (len == 0) {
        return INBOX_OK;
    }

    if (len < INBOX_TIMEZONE_MAX) {
        memcpy(out, tz, len);
        out[len] = '\0';

        if (inbox_timezone_valid(out)) {
            return INBOX_OK;
        }
    }

    out[0] = '\0';

    return inbox_error_set_field(err, INBOX_ERR_INVALID, "timezone",
                                 "\"%.*s\" is not a time zone of the tz "
                                 "database (for example America/New_York).",
                                 (int) (len < 64 ? len : 64), tz);
}


void
inbox_contact_record_free(inbox_contact_record_t *contact)
{
    if (contact == NULL) {
        return;
    }

    free(contact->name);
    contact->name = NULL;
    inbox_tags_free(&contact->tags);
}


unsigned
inbox_contact_edit_changes(const inbox_contact_record_t *contact,
    const inbox_contact_edit_t *edit)
{
    size_t    i;
    unsigned  changed;

    changed = 0;

    if (edit->set_name
        && ((contact->name == NULL) != (edit->name == NULL)
            || (contact->name != NULL
                && strcmp(contact->name, edit->name) != 0)))
    {
        changed |= INBOX_CONTACT_CHANGED_NAME;
    }

    if (edit->set_tags) {
        if (contact->tags.count != edit->tags.count) {
            changed |= INBOX_CONTACT_CHANGED_TAGS;

        } else {
            for (i = 0; i < edit->tags.count; i++) {
                if (strcmp(contact->tags.items[i], edit->tags.items[i])
                    != 0)
                {
                    changed |= INBOX_CONTACT_CHANGED_TAGS;
                    break;
                }
            }
        }
    }

    if (edit->set_timezone
        && strcmp(contact->timezone, edit->timezone) != 0)
    {
        changed |= INBOX_CONTACT_CHANGED_TIMEZONE;
    }

    return changed;
}


void
inbox_contact_page_free(inbox_contact_page_t *page)
{
    size_t  i;

    if (page == NULL) {
        return;
    }

    for (i = 0; page->items != NULL && i < page->count; i++) {
        inbox_contact_record_free(&page->items[i]);
    }

    free(page->items);
    page->items = NULL;
    page->count = 0;
}


void
inbox_tag_page_free(inbox_tag_page_t *page)
{
    if (page == NULL) {
        return;
    }

    free(page->items);
    page->items = NULL;
    page->count = 0;
    page->more = 0;
}


void
inbox_contact_row_free(inbox_contact_row_t *row)
{
    if (row == NULL) {
        return;
    }

    free(row->name);
    row->name = NULL;
    inbox_tags_free(&row->tags);
}


void
inbox_timeline_page_free(inbox_timeline_page_t *page)
{
    size_t  i;

    if (page == NULL) {
        return;
    }

    for (i = 0; page->items != NULL && i < page->count; i++) {
        inbox_message_free(&page->items[i].message);
        free(page->items[i].campaign.name);
        free(page->items[i].campaign.answer_text);
    }

    free(page->items);
    page->items = NULL;
    page->count = 0;
}


void
inbox_contact_event_page_free(inbox_contact_event_page_t *page)
{
    if (page == NULL) {
        return;
    }

    free(page->items);
    page->items = NULL;
    page->count = 0;
}


const char *
inbox_timeline_type_name(inbox_timeline_type_t type)
{
    switch (type) {
    case INBOX_TIMELINE_MESSAGE:
        return "message";
    case INBOX_TIMELINE_OPT_OUT:
        return "opt_out";
    case INBOX_TIMELINE_OPT_IN:
        return "opt_in";
    case INBOX_TIMELINE_CAMPAIGN:
        return "campaign";
    case INBOX_TIMELINE_POLL_ANSWER:
        return "poll_answer";
    }

    return "message";
}
