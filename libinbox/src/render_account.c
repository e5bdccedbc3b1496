/*
 * The signed-in account as the API shows it.
 */
#include <inbox/render.h>


char *
inbox_render_account(const inbox_account_t *account, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);

    inbox_json_key(g, "user");

    if (account->has_user) {
        yajl_gen_map_open(g);
        inbox_json_key(g, "id");
        inbox_json_string(g, account->user.id);
        inbox_json_key(g, "email");
        inbox_json_string(g, account->user.email);
        yajl_gen_map_close(g);

    } else {
        yajl_gen_null(g);
    }

    /* an organization-wide token acts as a member */
    inbox_json_key(g, "role");
    inbox_json_string(g, inbox_role_name(account->has_user
                                         ? account->user.role
                                         : INBOX_ROLE_MEMBER));

    inbox_json_key(g, "organization");
    yajl_gen_map_open(g);
    inbox_json_key(g, "id");
    inbox_json_string(g, account->org.id);
    inbox_json_key(g, "name");
    inbox_json_string(g, account->org.name ? account->org.name : "");
    inbox_json_key(g, "timezone");
    inbox_json_string(g, account->org.timezone);
    yajl_gen_map_close(g);

    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}
