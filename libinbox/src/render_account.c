/*
 * The signed-in account and the team, as the API shows them.
 */
#include <inbox/render.h>


static void inbox_json_user(yajl_gen g, const void *item);


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


char *
inbox_render_user(const inbox_user_t *user, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    inbox_json_user(g, user);

    return inbox_json_finish(g, len);
}


char *
inbox_render_users(const inbox_user_list_t *list, size_t *len)
{
    return inbox_json_page(list->items, list->count, sizeof(inbox_user_t),
                           inbox_json_user, "", len);
}


static void
inbox_json_user(yajl_gen g, const void *item)
{
    const inbox_user_t *user = item;

    yajl_gen_map_open(g);
    inbox_json_key(g, "id");
    inbox_json_string(g, user->id);
    inbox_json_key(g, "email");
    inbox_json_string(g, user->email);
    inbox_json_key(g, "role");
    inbox_json_string(g, inbox_role_name(user->role));
    inbox_json_key(g, "created_at");
    inbox_json_time(g, user->created_at);
    yajl_gen_map_close(g);
}
