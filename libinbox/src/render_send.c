/*
 * Sending as the API shows it: a reply's message, and the composer's
 * estimate of what a message is and costs (the counting is segments.h's).
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/render.h>


char *
inbox_render_message(const inbox_message_t *m, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    inbox_json_message(g, m);

    return inbox_json_finish(g, len);
}


char *
inbox_render_estimate(const char *body, const inbox_segments_t *seg,
    unsigned credits, const char *refused, size_t *len)
{
    char      *because;
    yajl_gen   g;

    because = NULL;

    if (seg->first_ucs2_len > 0) {
        because = strndup(body + seg->first_ucs2, seg->first_ucs2_len);
        if (because == NULL) {
            return NULL;
        }
    }

    g = inbox_json_begin();
    if (g == NULL) {
        free(because);
        return NULL;
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "encoding");
    inbox_json_string(g, inbox_sms_encoding_name(seg->encoding));
    inbox_json_key(g, "segments");
    inbox_json_int(g, seg->segments);
    inbox_json_key(g, "characters");
    inbox_json_int(g, seg->characters);
    inbox_json_key(g, "remaining");
    inbox_json_int(g, seg->remaining);
    inbox_json_key(g, "credits");
    inbox_json_int(g, credits);
    inbox_json_key(g, "ucs2_because");
    /* NULL is null; a byte that is not UTF-8 comes out as U+FFFD */
    inbox_json_string(g, because);
    inbox_json_key(g, "refused");
    inbox_json_string(g, refused);
    yajl_gen_map_close(g);

    free(because);

    return inbox_json_finish(g, len);
}
