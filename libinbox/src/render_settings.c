/*
 * JSON for an organization's settings (see render.h).
 */
#include <stddef.h>
#include <inbox/phone.h>
#include <inbox/render.h>


void
inbox_json_settings(yajl_gen g, const inbox_settings_t *settings)
{
    char    start[6], end[6];
    size_t  i;

    inbox_settings_time_format(settings->quiet_start, start);
    inbox_settings_time_format(settings->quiet_end, end);

    yajl_gen_map_open(g);

    inbox_json_key(g, "timezone");
    inbox_json_string(g, settings->timezone);

    inbox_json_key(g, "quiet_hours");
    yajl_gen_map_open(g);
    inbox_json_key(g, "start");
    inbox_json_string(g, start);
    inbox_json_key(g, "end");
    inbox_json_string(g, end);
    yajl_gen_map_close(g);

    inbox_json_key(g, "business_name");
    inbox_json_string(g, settings->business_name);
    inbox_json_key(g, "support_contact");
    inbox_json_string(g, settings->support_contact[0]
                         ? settings->support_contact : NULL);
    inbox_json_key(g, "default_country");
    inbox_json_string(g, settings->default_country[0]
                         ? settings->default_country : NULL);

    /* what a settings form offers: the rule's own list */
    inbox_json_key(g, "countries");
    yajl_gen_array_open(g);

    for (i = 0; inbox_phone_country_at(i) != NULL; i++) {
        inbox_json_string(g, inbox_phone_country_at(i));
    }

    yajl_gen_array_close(g);

    yajl_gen_map_close(g);
}


char *
inbox_render_settings(const inbox_settings_t *settings, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    inbox_json_settings(g, settings);

    return inbox_json_finish(g, len);
}
