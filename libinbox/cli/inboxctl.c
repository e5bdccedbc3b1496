/*
 * inboxctl: the administration command line of the inbox.
 *
 *   inboxctl [--store URI] COMMAND ...
 *
 * Every command is one or a few libinbox store operations; errors go to
 * stderr with a non-zero exit status.
 *
 * Only the commands that set a store up (org create, seed-demo) make it
 * when it does not exist, with a file only its owner can read; the others
 * need a store, and an organization in it, already.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include <errno.h>

#include <inbox/account.h>
#include <inbox/campaign.h>
#include <inbox/clock.h>
#include <inbox/import.h>
#include <inbox/encoding.h>
#include <inbox/error.h>
#include <inbox/form.h>
#include <inbox/password.h>
#include <inbox/phone.h>
#include <inbox/render.h>
#include <inbox/store.h>
#include <inbox/token.h>
#include <inbox/telnyx.h>
#include <inbox/twilio.h>
#include <inbox/wake.h>


#define CTL_MAX_ARGS     8
#define CTL_MAX_OPTIONS  24
#define CTL_PASSWORD_MAX (INBOX_PASSWORD_MAX + 2)
#define CTL_SECRET_MAX   1024
#define CTL_MAX(a, b)    ((a) > (b) ? (a) : (b))

#define CTL_SENDER_WAIT  1000     /* ms for room in the sender's queue */

#define DEMO_ORG_NAME    "Demo Organization"
#define DEMO_NUMBER      "+15005550006"
#define DEMO_ACCOUNT_SID "AC00000000000000000000000000000000"
#define DEMO_EMAIL       "demo@example.com"
#define DEMO_PUBLIC_URL  "http://127.0.0.1:8080"
#define DEMO_TOKEN_NAME  "demo"


typedef struct {
    const char  *name;
    const char  *value;
} ctl_option_t;

/* A command's words after the command name: positionals and --options. */
typedef struct {
    const char    *args[CTL_MAX_ARGS];
    int            nargs;
    ctl_option_t   options[CTL_MAX_OPTIONS];
    int            noptions;
    const char    *verb;       /* the command's */
} ctl_words_t;

typedef int (*ctl_handler_t)(inbox_store_t *store, ctl_words_t *words);

typedef struct {
    const char     *noun;
    const char     *verb;        /* NULL for a one-word command */
    int             nargs;       /* positionals required */
    const char     *options;     /* the --options it takes, space
                                    separated; "name!" takes no value */
    ctl_handler_t   handler;
    const char     *usage;
} ctl_command_t;

/*
 * A carrier's secrets given as "-", read from stdin rather than taken
 * from the command line (where ps and the shell's history show them);
 * wiped once the store has them.
 */
typedef struct {
    char  auth_token[CTL_SECRET_MAX];
    char  api_key[CTL_SECRET_MAX];
} ctl_number_secrets_t;


/* The sender's wake-up socket (--sender-socket): told when a command
 * moved an organization's quiet hours, as nginx tells it. */
static const char  *ctl_sender_socket;


static void ctl_wake_quiet(const char *org_id);
static int ctl_org_create(inbox_store_t *store, ctl_words_t *words);
static int ctl_org_list(inbox_store_t *store, ctl_words_t *words);
static int ctl_number_add(inbox_store_t *store, ctl_words_t *words);
static int ctl_number_set(inbox_store_t *store, ctl_words_t *words);
static int ctl_number_list(inbox_store_t *store, ctl_words_t *words);
static int ctl_number_remove(inbox_store_t *store, ctl_words_t *words);
static int ctl_number_update(inbox_store_t *store, ctl_words_t *words,
    inbox_number_t *number);
static int ctl_number_read(ctl_words_t *words, inbox_number_t *number,
    ctl_number_secrets_t *secrets);
static int ctl_secret_option(ctl_words_t *words, const char *name,
    const char *what, char buf[CTL_SECRET_MAX], char **value);
static long ctl_read_secret(const char *prompt, char *buf, size_t size);
static int ctl_user_add(inbox_store_t *store, ctl_words_t *words);
static int ctl_user_list(inbox_store_t *store, ctl_words_t *words);
static int ctl_user_passwd(inbox_store_t *store, ctl_words_t *words);
static int ctl_user_role(inbox_store_t *store, ctl_words_t *words);
static int ctl_user_remove(inbox_store_t *store, ctl_words_t *words);
static int ctl_token_create(inbox_store_t *store, ctl_words_t *words);
static int ctl_token_list(inbox_store_t *store, ctl_words_t *words);
static int ctl_token_revoke(inbox_store_t *store, ctl_words_t *words);
static int ctl_credits_grant(inbox_store_t *store, ctl_words_t *words);
static int ctl_billing_show(inbox_store_t *store, ctl_words_t *words);
static int ctl_billing_print(inbox_store_t *store, const char *org_id);
static int ctl_billing_set(inbox_store_t *store, ctl_words_t *words);
static int ctl_billing_plan(inbox_store_t *store, ctl_words_t *words);
static int ctl_settings_set(inbox_store_t *store, ctl_words_t *words);
static int ctl_seed_demo(inbox_store_t *store, ctl_words_t *words);
static int ctl_contacts_import(inbox_store_t *store, ctl_words_t *words);
static int ctl_campaign_create(inbox_store_t *store, ctl_words_t *words);
static int ctl_poll_create(inbox_store_t *store, ctl_words_t *words);
static int ctl_campaign_act(inbox_store_t *store, ctl_words_t *words);
static int ctl_campaign_list(inbox_store_t *store, ctl_words_t *words);
static int ctl_events_new_epoch(inbox_store_t *store, ctl_words_t *words);
static int ctl_store_restore(inbox_store_t *store, ctl_words_t *words);
static int ctl_media_sweep(inbox_store_t *store, ctl_words_t *words);


static const ctl_command_t  ctl_commands[] = {
    { "org", "create", 1, "timezone", ctl_org_create,
      "org create NAME [--timezone TZ]" },
    { "org", "list", 0, "", ctl_org_list,
      "org list" },
    { "number", "add", 2,
      "carrier account-sid auth-token public-key api-key api-base "
      "keyword-answers",
      ctl_number_add,
      "number add ORG_ID E164 --carrier twilio|telnyx [--account-sid SID]\n"
      "        [--auth-token TOKEN|-] [--public-key KEY] [--api-key KEY|-]\n"
      "        [--api-base URL] [--keyword-answers inbox|carrier]\n"
      "        (-: the token or key on stdin, one line each, the auth\n"
      "        token first, kept out of ps and the shell's history)\n"
      "        (--keyword-answers carrier, the default: the carrier answers\n"
      "        STOP, START and HELP itself, as Twilio's default opt-out\n"
      "        handling and Telnyx do, and the inbox sends no answer of its\n"
      "        own; inbox: the inbox answers each, for a number whose\n"
      "        carrier's own handling is turned off)" },
    { "number", "set", 2,
      "carrier account-sid auth-token public-key api-key api-base "
      "keyword-answers",
      ctl_number_set,
      "number set ORG_ID E164 --carrier twilio|telnyx ...   (the same\n"
      "        options as add: a rotated token, another carrier or API base,\n"
      "        in place of the number's; --keyword-answers stays as it\n"
      "        was unless given)" },
    { "number", "list", 1, "", ctl_number_list,
      "number list ORG_ID   (each number, its carrier, who answers\n"
      "        keywords, its API base and which credentials it has, never\n"
      "        what they are; the first is the one a contact who never\n"
      "        texted the others gets replies and campaigns from)" },
    { "number", "remove", 2, "", ctl_number_remove,
      "number remove ORG_ID E164   (a number released at the carrier:\n"
      "        its threads get replies and campaigns from the first\n"
      "        number; refused while messages wait to go from it)" },
    { "user", "add", 2, "role", ctl_user_add,
      "user add ORG_ID EMAIL --role member|billing   (password on stdin)" },
    { "user", "list", 1, "", ctl_user_list,
      "user list ORG_ID" },
    { "user", "passwd", 2, "", ctl_user_passwd,
      "user passwd ORG_ID EMAIL   (the new password on stdin; signs the\n"
      "        user out everywhere)" },
    { "user", "role", 3, "", ctl_user_role,
      "user role ORG_ID USER_ID|EMAIL member|billing   (an organization\n"
      "        keeps at least one billing contact)" },
    { "user", "remove", 2, "", ctl_user_remove,
      "user remove ORG_ID USER_ID|EMAIL   (signs them out and revokes\n"
      "        their API tokens; their history stays)" },
    { "token", "create", 1, "user expires-in name", ctl_token_create,
      "token create ORG_ID [--user EMAIL] [--expires-in DURATION]\n"
      "        [--name NAME]   (DURATION: 90s, 45m, 12h, 30d or 2w)" },
    { "token", "list", 1, "", ctl_token_list,
      "token list ORG_ID" },
    { "token", "revoke", 2, "", ctl_token_revoke,
      "token revoke ORG_ID TOKEN_ID|TOKEN" },
    { "credits", "grant", 2, "", ctl_credits_grant,
      "credits grant ORG_ID N   (prints the billing as it is then)" },
    { "billing", "show", 1, "", ctl_billing_show,
      "billing show ORG_ID   (active, plan, credits balance and held)" },
    { "billing", "set", 2, "", ctl_billing_set,
      "billing set ORG_ID active|inactive" },
    { "billing", "plan", 2, "", ctl_billing_plan,
      "billing plan ORG_ID per_message|unlimited   (unlimited: a\n"
      "        subscription pays for every message; the balance stays)" },
    { "settings", "set", 1,
      "business-name support-contact timezone quiet-hours default-country",
      ctl_settings_set,
      "settings set ORG_ID [--business-name NAME] [--support-contact TEXT]\n"
      "        [--timezone TZ] [--quiet-hours HH:MM-HH:MM]\n"
      "        [--default-country CC]   (\"\" is the default again: the\n"
      "        organization's name, no contact, UTC, 21:00-08:00, none:\n"
      "        the server's country for numbers without +country;\n"
      "        prints the settings)" },
    { "seed-demo", NULL, 0, "public-url api-base", ctl_seed_demo,
      "seed-demo [--public-url URL] [--api-base URL]   (--api-base: where\n"
      "        the demo number's carrier is, e.g. the carrier simulator)" },
    { "contacts", "import", 2, "country", ctl_contacts_import,
      "contacts import ORG_ID FILE.csv [--country CC]   (a header row:\n"
      "        phone, name or first name and last name, tags separated\n"
      "        by \";\", timezone such as America/New_York; the report\n"
      "        names the columns not imported; - reads stdin; numbers\n"
      "        without +country are read as CC's, by default the\n"
      "        organization's default country, else US's)" },
    { "campaign", "create", 1, "name body tag all! send-at",
      ctl_campaign_create,
      "campaign create ORG_ID --name NAME --body TEXT (--all | --tag TAG\n"
      "        [--tag TAG]...) [--send-at 2030-01-31T09:00:00Z]   (prints\n"
      "        the draft's id)" },
    { "campaign", "send", 2, "", ctl_campaign_act,
      "campaign send|pause|resume|cancel ORG_ID ID   (prints the\n"
      "        campaign's status and counts)" },
    { "campaign", "pause", 2, "", ctl_campaign_act, NULL },
    { "campaign", "resume", 2, "", ctl_campaign_act, NULL },
    { "campaign", "cancel", 2, "", ctl_campaign_act, NULL },
    { "campaign", "list", 1, "", ctl_campaign_list,
      "campaign list ORG_ID   (campaigns and polls, newest first)" },
    { "poll", "create", 1, "name question option tag all! send-at",
      ctl_poll_create,
      "poll create ORG_ID --question TEXT --option A --option B...\n"
      "        (2 to 9) (--all | --tag TAG...) [--name NAME]\n"
      "        [--send-at TIME]   (send it with campaign send ORG_ID ID)" },
    { "events", "new-epoch", 0, "", ctl_events_new_epoch,
      "events new-epoch   (after a backup was restored: every browser\n"
      "        reloads its lists, none waits for numbers it saw before)" },
    { "store", "restore", 1, "", ctl_store_restore,
      "store restore BACKUP.db   (SQLite, while nginx runs: this store's\n"
      "        backup written back into it, then events new-epoch)" },
    { "media", "sweep", 0, "dir older-than dry-run! verbose!",
      ctl_media_sweep,
      "media sweep --dir DIR [--older-than SECONDS] [--dry-run]\n"
      "        [--verbose]   (DIR: nginx's inbox_media_dir; removes the\n"
      "        media files no record names that a crash left, those older\n"
      "        than SECONDS, by default 86400, the unused uploads' grace;\n"
      "        --dry-run removes nothing and lists what it would, as\n"
      "        --verbose lists what it removes)" },
};

#define CTL_NCOMMANDS  (sizeof(ctl_commands) / sizeof(ctl_commands[0]))


/* Whether cmd may make a new store: it is the first step of a setup. */
static int
ctl_creates_store(const ctl_command_t *cmd)
{
    return cmd->handler == ctl_org_create || cmd->handler == ctl_seed_demo;
}


static void
ctl_usage(FILE *out)
{
    size_t  i;

    fprintf(out, "usage: inboxctl [--store URI] [--sender-socket PATH] "
            "COMMAND ...\n\n"
            "URI is sqlite:PATH or mongodb://...; the default is the\n"
            "INBOX_STORE environment variable, else sqlite:var/inbox.db.\n"
            "PATH is the sender's wake-up socket (nginx's\n"
            "inbox_sender_socket), told when quiet hours or zones move;\n"
            "the default is INBOX_SENDER_SOCKET, else var/run/sender.sock.\n"
            "org create and seed-demo make the store when it does not\n"
            "exist; the other commands need it.\n\n"
            "commands:\n");

    for (i = 0; i < CTL_NCOMMANDS; i++) {
        if (ctl_commands[i].usage != NULL) {
            fprintf(out, "    %s\n", ctl_commands[i].usage);
        }
    }
}


/* An unknown command: the noun's own commands when the noun is known (a
 * mistyped verb), else the whole usage. */
static void
ctl_unknown(int argc, char **argv)
{
    size_t       i;
    const char  *sep;

    sep = NULL;

    for (i = 0; i < CTL_NCOMMANDS; i++) {
        if (ctl_commands[i].verb == NULL
            || strcmp(ctl_commands[i].noun, argv[0]) != 0)
        {
            continue;
        }

        if (sep == NULL) {
            if (argc > 1) {
                fprintf(stderr, "inboxctl: unknown command \"%s %s\"; ",
                        argv[0], argv[1]);

            } else {
                fprintf(stderr, "inboxctl: \"%s\" needs a command; ",
                        argv[0]);
            }

            fprintf(stderr, "%s takes: ", argv[0]);
            sep = "";
        }

        fprintf(stderr, "%s%s", sep, ctl_commands[i].verb);
        sep = ", ";
    }

    if (sep != NULL) {
        fprintf(stderr, "\n\nusage:\n");

        for (i = 0; i < CTL_NCOMMANDS; i++) {
            if (ctl_commands[i].usage != NULL
                && strcmp(ctl_commands[i].noun, argv[0]) == 0)
            {
                fprintf(stderr, "    inboxctl %s\n", ctl_commands[i].usage);
            }
        }

        return;
    }

    fprintf(stderr, "inboxctl: unknown command \"%s\"\n\n", argv[0]);
    ctl_usage(stderr);
}


static int
ctl_fail(const inbox_error_t *err)
{
    fprintf(stderr, "inboxctl: %s\n", err->message);
    return 1;
}


static const char *
ctl_option(const ctl_words_t *words, const char *name)
{
    int  i;

    for (i = 0; i < words->noptions; i++) {
        if (strcmp(words->options[i].name, name) == 0) {
            return words->options[i].value;
        }
    }

    return NULL;
}


/* 1 when name is one of the space separated words in list, 2 when it
 * is there as "name!" (an option without a value). */
static int
ctl_option_known(const char *list, const char *name)
{
    size_t       len;
    const char  *p;

    len = strlen(name);

    for (p = list; (p = strstr(p, name)) != NULL; p += len) {
        if (p != list && p[-1] != ' ') {
            continue;
        }

        if (p[len] == ' ' || p[len] == '\0') {
            return 1;
        }

        if (p[len] == '!' && (p[len + 1] == ' ' || p[len + 1] == '\0')) {
            return 2;
        }
    }

    return 0;
}


static int
ctl_parse_words(const ctl_command_t *cmd, int argc, char **argv,
    ctl_words_t *words)
{
    int  i;

    memset(words, 0, sizeof(ctl_words_t));

    for (i = 0; i < argc; i++) {

        if (strncmp(argv[i], "--", 2) == 0) {
            if (!ctl_option_known(cmd->options, argv[i] + 2)) {
                fprintf(stderr, "inboxctl: unknown option %s\n", argv[i]);
                return -1;
            }

            if (ctl_option_known(cmd->options, argv[i] + 2) == 2) {
                if (words->noptions == CTL_MAX_OPTIONS) {
                    fprintf(stderr, "inboxctl: too many options\n");
                    return -1;
                }

                words->options[words->noptions].name = argv[i] + 2;
                words->options[words->noptions++].value = "";
                continue;
            }

            if (i + 1 == argc || words->noptions == CTL_MAX_OPTIONS) {
                fprintf(stderr, "inboxctl: %s needs a value\n", argv[i]);
                return -1;
            }

            words->options[words->noptions].name = argv[i] + 2;
            words->options[words->noptions++].value = argv[++i];
            continue;
        }

        if (words->nargs == CTL_MAX_ARGS) {
            fprintf(stderr, "inboxctl: too many arguments\n");
            return -1;
        }

        words->args[words->nargs++] = argv[i];
    }

    if (words->nargs != cmd->nargs) {
        /* a verb without usage of its own shares the one above it */
        while (cmd->usage == NULL) {
            cmd--;
        }

        fprintf(stderr, "usage: inboxctl %s\n", cmd->usage);
        return -1;
    }

    return 0;
}


static int
ctl_org_create(inbox_store_t *store, ctl_words_t *words)
{
    char           id[INBOX_ID_MAX];
    const char    *timezone;
    inbox_error_t  err;

    timezone = ctl_option(words, "timezone");

    if (inbox_store_org_create(store, words->args[0],
                               timezone ? timezone : "UTC", id, &err)
        != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    printf("%s\n", id);

    if (timezone == NULL) {
        /* quiet hours at 21:00 UTC are mid-afternoon in the Americas */
        fprintf(stderr, "inboxctl: the organization's time zone is UTC: "
                "quiet hours follow it for contacts whose own is unknown; "
                "set it with inboxctl settings set %s --timezone ZONE "
                "(such as America/New_York), or in Settings\n", id);
    }

    return 0;
}


/* "2026-01-01T00:00:00Z": whole seconds are enough to read. */
static void
ctl_time(int64_t ms, char out[INBOX_ISO8601_MAX])
{
    inbox_iso8601(ms, out);
    strcpy(out + 19, "Z");
}


/* One line an organization, oldest first, under a header line; the name,
 * which may hold spaces, comes last. */
/*
 * A restored backup numbers events again from where it was made; a new
 * epoch tells every browser and ws-server that this is another stream.
 */
static int
ctl_events_new_epoch(inbox_store_t *store, ctl_words_t *words)
{
    size_t         orgs;
    inbox_error_t  err;

    orgs = 0;

    if (inbox_store_events_new_epoch(store, &orgs, &err) != INBOX_OK) {
        return ctl_fail(&err);
    }

    printf("a new event epoch for %zu organization%s: browsers reload "
           "their lists at the next event\n", orgs, orgs == 1 ? "" : "s");

    return 0;
}


static void
ctl_media_swept(const char *file, int errnum, void *data)
{
    if (errnum != 0) {
        fprintf(stderr, "inboxctl: %s could not be removed (%s)\n", file,
                strerror(errnum));
        return;
    }

    if (data != NULL) {
        printf("%s %s\n", (const char *) data, file);
    }
}


static int
ctl_media_sweep(inbox_store_t *store, ctl_words_t *words)
{
    int                     dry_run;
    char                   *end;
    long long               older;
    const char             *dir, *value, *listed;
    inbox_error_t           err;
    inbox_media_orphans_t   swept;

    dir = ctl_option(words, "dir");
    if (dir == NULL || dir[0] == '\0') {
        fprintf(stderr, "inboxctl: media sweep needs --dir DIR, the "
                "media directory (nginx's inbox_media_dir)\n");
        return 1;
    }

    older = INBOX_MEDIA_KEEP_UNUSED_MS / 1000;
    value = ctl_option(words, "older-than");

    if (value != NULL) {
        errno = 0;
        older = strtoll(value, &end, 10);

        if (*value == '\0' || *end != '\0' || errno == ERANGE
            || older < 0 || older > 100LL * 365 * 86400)
        {
            fprintf(stderr, "inboxctl: --older-than must be a whole "
                    "number of seconds, 0 or more\n");
            return 1;
        }
    }

    dry_run = ctl_option(words, "dry-run") != NULL;

    /* each one removed is listed only when asked; a failure always */
    listed = dry_run ? "would remove"
             : ctl_option(words, "verbose") ? "removed" : NULL;

    if (inbox_store_media_sweep_orphans(store, dir,
                                        time(NULL) - (time_t) older,
                                        dry_run, ctl_media_swept,
                                        (void *) listed, &swept, &err)
        != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    printf("looked at %zu media file%s older than %llds: %zu kept (a "
           "record names them), %zu %s", swept.looked,
           swept.looked == 1 ? "" : "s", older, swept.kept, swept.removed,
           dry_run ? "to remove (a dry run: none removed)" : "removed");

    if (swept.recent > 0) {
        printf("; %zu younger left alone", swept.recent);
    }

    printf("\n");

    if (swept.failed > 0) {
        fprintf(stderr, "inboxctl: %zu could not be removed\n",
                swept.failed);
        return 1;
    }

    return 0;
}


static int
ctl_store_restore(inbox_store_t *store, ctl_words_t *words)
{
    inbox_error_t  err;

    if (inbox_store_restore(store, words->args[0], &err) != INBOX_OK) {
        return ctl_fail(&err);
    }

    printf("restored %s; a new event epoch: browsers reload their lists at "
           "the next event\n", words->args[0]);

    return 0;
}


static int
ctl_org_list(inbox_store_t *store, ctl_words_t *words)
{
    int                id_w, tz_w;
    char               created[INBOX_ISO8601_MAX];
    size_t             i;
    inbox_org_t       *o;
    inbox_error_t      err;
    inbox_org_list_t   list;

    if (inbox_store_orgs_list(store, &list, &err) != INBOX_OK) {
        return ctl_fail(&err);
    }

    id_w = (int) strlen("ID");
    tz_w = (int) strlen("TIMEZONE");

    for (i = 0; i < list.count; i++) {
        id_w = CTL_MAX(id_w, (int) strlen(list.items[i].id));
        tz_w = CTL_MAX(tz_w, (int) strlen(list.items[i].timezone));
    }

    printf("%-*s  %-20s  %-*s  %s\n", id_w, "ID", "CREATED", tz_w,
           "TIMEZONE", "NAME");

    for (i = 0; i < list.count; i++) {
        o = &list.items[i];
        ctl_time(o->created_at, created);
        printf("%-*s  %-20s  %-*s  %s\n", id_w, o->id, created, tz_w,
               o->timezone, o->name ? o->name : "");
    }

    if (list.truncated) {
        fprintf(stderr, "inboxctl: only the oldest %d organizations are "
                "shown\n", INBOX_ACCOUNT_LIST_MAX);
    }

    inbox_org_list_free(&list);

    return 0;
}


static int
ctl_number_add(inbox_store_t *store, ctl_words_t *words)
{
    int                   rc;
    inbox_error_t         err;
    inbox_number_t        number;
    ctl_number_secrets_t  secrets;

    rc = ctl_number_read(words, &number, &secrets);

    if (rc == 0 && inbox_store_number_add(store, &number, &err) != INBOX_OK) {
        rc = ctl_fail(&err);
    }

    sodium_memzero(&secrets, sizeof(secrets));

    if (rc == 0) {
        printf("%s\n", number.e164);
    }

    return rc;
}


/* A token rotated at the carrier (or another carrier, another API base):
 * the number's credentials replaced in place. */
static int
ctl_number_set(inbox_store_t *store, ctl_words_t *words)
{
    int                   rc;
    inbox_number_t        number;
    ctl_number_secrets_t  secrets;

    rc = ctl_number_read(words, &number, &secrets);

    if (rc == 0) {
        rc = ctl_number_update(store, words, &number);
    }

    sodium_memzero(&secrets, sizeof(secrets));

    return rc;
}


static int
ctl_number_remove(inbox_store_t *store, ctl_words_t *words)
{
    char           e164[INBOX_PHONE_MAX];
    inbox_error_t  err;

    if (inbox_phone_normalize_typed(words->args[1], strlen(words->args[1]),
                                    NULL, e164, &err)
        != INBOX_OK
        || inbox_store_number_remove(store, words->args[0], e164, NULL,
                                     &err)
           != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    printf("%s\n", e164);

    return 0;
}


/* Which credentials a number has, for number list: the account SID is
 * no secret, the rest only "set" or "missing". */
static void
ctl_number_credentials(const inbox_number_t *number, char *out, size_t size)
{
    if (number->carrier == INBOX_CARRIER_TELNYX) {
        snprintf(out, size, "api key %s, public key %s",
                 number->api_key ? "set" : "missing",
                 number->public_key ? "set" : "missing");
        return;
    }

    snprintf(out, size, "account %s, auth token %s",
             number->account_sid ? number->account_sid : "missing",
             number->auth_token ? "set" : "missing");
}


/* A number's API base as number list shows it: a user and password in
 * it are secrets too. */
static void
ctl_api_base_shown(const char *base, char *out, size_t size)
{
    const char  *host, *at, *end;

    if (base == NULL) {
        snprintf(out, size, "the carrier's");
        return;
    }

    host = strstr(base, "://");
    host = host != NULL ? host + 3 : base;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t) (end - host));

    if (at == NULL) {
        snprintf(out, size, "%s", base);
        return;
    }

    snprintf(out, size, "%.*s***%s", (int) (host - base), base, at);
}


static int
ctl_number_list(inbox_store_t *store, ctl_words_t *words)
{
    int                   api_w;
    char                  credentials[256], api[1024];
    size_t                i;
    inbox_error_t         err;
    inbox_number_t       *n;
    inbox_number_list_t   list;

    if (inbox_store_numbers_list(store, words->args[0], &list, &err)
        != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    api_w = (int) strlen("API BASE");

    for (i = 0; i < list.count; i++) {
        ctl_api_base_shown(list.items[i].api_base, api, sizeof(api));
        api_w = CTL_MAX(api_w, (int) strlen(api));
    }

    printf("%-16s  %-7s  %-8s  %-*s  %s\n", "NUMBER", "CARRIER",
           "KEYWORDS", api_w, "API BASE", "CREDENTIALS");

    for (i = 0; i < list.count; i++) {
        n = &list.items[i];
        ctl_number_credentials(n, credentials, sizeof(credentials));
        ctl_api_base_shown(n->api_base, api, sizeof(api));
        printf("%-16s  %-7s  %-8s  %-*s  %s\n", n->e164,
               inbox_carrier_name(n->carrier),
               n->carrier_answers_keywords ? "carrier" : "inbox", api_w,
               api, credentials);
    }

    if (list.truncated) {
        fprintf(stderr, "inboxctl: only the first %d numbers are shown\n",
                INBOX_ACCOUNT_LIST_MAX);
    }

    inbox_number_list_free(&list);

    return 0;
}


static int
ctl_number_update(inbox_store_t *store, ctl_words_t *words,
    inbox_number_t *number)
{
    inbox_status_t  rc;
    inbox_error_t   err;
    inbox_number_t  stored;

    /* a rotated token leaves who answers keywords as it was (a number
     * not found is the update's to refuse) */
    if (ctl_option(words, "keyword-answers") == NULL) {
        rc = inbox_store_number_find(store, number->e164, &stored, &err);

        if (rc == INBOX_OK) {
            number->carrier_answers_keywords =
                stored.carrier_answers_keywords;

        } else if (rc != INBOX_ERR_NOT_FOUND) {
            return ctl_fail(&err);
        }

        inbox_number_free(&stored);
    }

    if (inbox_store_number_update(store, number, &err) != INBOX_OK) {
        return ctl_fail(&err);
    }

    printf("%s\n", number->e164);
    return 0;
}


/* The number add and set describe, checked: 0, or 1 with why on stderr.
 * Its strings stay owned by argv, or by secrets for those read from stdin
 * (the store copies what it keeps). */
static int
ctl_number_read(ctl_words_t *words, inbox_number_t *number,
    ctl_number_secrets_t *secrets)
{
    const char     *carrier, *answers;
    inbox_error_t   err;

    memset(number, 0, sizeof(inbox_number_t));

    carrier = ctl_option(words, "carrier");
    answers = ctl_option(words, "keyword-answers");

    if (carrier == NULL
        || inbox_carrier_parse(carrier, &number->carrier) != 0)
    {
        fprintf(stderr, "inboxctl: --carrier must be twilio or telnyx\n");
        return 1;
    }

    /* typed by the operator: a number with a length its country never
     * gives is a typo no webhook would ever be sent to */
    if (inbox_phone_normalize_typed(words->args[1], strlen(words->args[1]),
                                    NULL, number->e164, &err)
        != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    if (strlen(words->args[0]) >= INBOX_ID_MAX) {
        fprintf(stderr, "inboxctl: no organization has id %s\n",
                words->args[0]);
        return 1;
    }

    strcpy(number->org_id, words->args[0]);

    number->account_sid = (char *) ctl_option(words, "account-sid");
    number->public_key = (char *) ctl_option(words, "public-key");
    number->api_base = (char *) ctl_option(words, "api-base");

    /* in this order on stdin, as the usage says */
    if (ctl_secret_option(words, "auth-token", "auth token",
                          secrets->auth_token, &number->auth_token)
        != 0
        || ctl_secret_option(words, "api-key", "API key", secrets->api_key,
                             &number->api_key)
           != 0)
    {
        return 1;
    }

    if (answers != NULL && strcmp(answers, "carrier") != 0
        && strcmp(answers, "inbox") != 0)
    {
        fprintf(stderr, "inboxctl: --keyword-answers must be inbox or "
                "carrier\n");
        return 1;
    }

    /* both carriers answer keywords themselves unless told not to, and
     * refuse any send after a STOP: the inbox's own answers are for
     * the numbers whose carrier's handling was turned off */
    number->carrier_answers_keywords =
        answers == NULL || strcmp(answers, "carrier") == 0;

    /* webhooks are refused unless they carry this account and token */
    if (number->carrier == INBOX_CARRIER_TWILIO
        && (!inbox_twilio_sid_valid(number->account_sid, "AC")
            || number->auth_token == NULL || number->auth_token[0] == '\0'))
    {
        fprintf(stderr, "inboxctl: a Twilio number needs --account-sid "
                "(AC and 32 hex digits, as in the Twilio console) and "
                "--auth-token\n");
        return 1;
    }

    /* ... or signed with this key; and sending needs the API key */
    if (number->carrier == INBOX_CARRIER_TELNYX
        && (!inbox_telnyx_public_key_valid(number->public_key)
            || number->api_key == NULL || number->api_key[0] == '\0'))
    {
        fprintf(stderr, "inboxctl: a Telnyx number needs --public-key (the "
                "webhook signing key as the Telnyx portal shows it: base64 "
                "of 32 bytes) and --api-key\n");
        return 1;
    }

    return 0;
}


/*
 * The option's value; "-" reads it from stdin (one line, prompted for
 * with what on a terminal) into buf.  0, or 1 with why on stderr.
 */
static int
ctl_secret_option(ctl_words_t *words, const char *name, const char *what,
    char buf[CTL_SECRET_MAX], char **value)
{
    long  len;

    *value = (char *) ctl_option(words, name);

    if (*value == NULL || strcmp(*value, "-") != 0) {
        return 0;
    }

    len = ctl_read_secret(what, buf, CTL_SECRET_MAX);

    if (len <= 0) {
        fprintf(stderr, "inboxctl: --%s -: give the %s on standard input "
                "(one line)\n", name, what);
        return 1;
    }

    if ((size_t) len >= CTL_SECRET_MAX - 1) {
        fprintf(stderr, "inboxctl: --%s -: the %s on standard input is "
                "longer than %d bytes\n", name, what, CTL_SECRET_MAX - 2);
        return 1;
    }

    *value = buf;

    return 0;
}


/* Reads one line from stdin, without its newline; on a terminal, after
 * "prompt: ", and not shown as typed.  Returns its length or -1 when
 * there is none. */
static long
ctl_read_secret(const char *prompt, char *buf, size_t size)
{
    int             quiet;
    char           *line;
    size_t          len;
    struct termios  shown, hidden;

    quiet = 0;

    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &shown) == 0) {
        hidden = shown;
        hidden.c_lflag &= ~(tcflag_t) ECHO;
        /* TCSANOW: a line typed already is the password, not dropped */
        quiet = tcsetattr(STDIN_FILENO, TCSANOW, &hidden) == 0;
    }

    /* after echo is off, so that nothing typed on cue is shown */
    if (isatty(STDIN_FILENO)) {
        fprintf(stderr, "%s: ", prompt);
    }

    line = fgets(buf, (int) size, stdin);

    if (quiet) {
        /* what is left of a line too long goes nowhere, not to a shell */
        (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &shown);
        /* the newline typed was not shown either */
        fprintf(stderr, "\n");
    }

    if (line == NULL) {
        return -1;
    }

    len = strcspn(buf, "\r\n");
    buf[len] = '\0';

    return (long) len;
}


static inbox_status_t
ctl_add_user(inbox_store_t *store, const char *org_id, const char *email,
    inbox_role_t role, const char *password, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    char            hash[INBOX_PASSWORD_HASH_MAX];
    inbox_status_t  rc;

    rc = inbox_password_hash(password, strlen(password), hash, err);

    if (rc == INBOX_OK) {
        rc = inbox_store_user_add(store, org_id, email, role, hash, id,
                                  NULL, err);
    }

    sodium_memzero(hash, sizeof(hash));

    return rc;
}


/* The password on stdin (prompted for on a terminal), checked against
 * password.h's rules; -1 after saying why not. */
static int
ctl_password_input(char password[CTL_PASSWORD_MAX])
{
    long           len;
    inbox_error_t  err;

    len = ctl_read_secret("password", password, CTL_PASSWORD_MAX);

    if (len <= 0) {
        fprintf(stderr, "inboxctl: give the password on standard input "
                "(one line)\n");
        return -1;
    }

    if (inbox_password_check(password, (size_t) len, &err) != INBOX_OK) {
        sodium_memzero(password, CTL_PASSWORD_MAX);
        fprintf(stderr, "inboxctl: %s\n", err.message);
        return -1;
    }

    return 0;
}


static int
ctl_user_add(inbox_store_t *store, ctl_words_t *words)
{
    char           id[INBOX_ID_MAX], password[CTL_PASSWORD_MAX];
    const char    *role_name;
    inbox_role_t   role;
    inbox_error_t  err;

    role_name = ctl_option(words, "role");

    if (role_name == NULL || inbox_role_parse(role_name, &role) != 0) {
        fprintf(stderr, "inboxctl: --role must be member or billing\n");
        return 1;
    }

    if (ctl_password_input(password) != 0) {
        return 1;
    }

    if (ctl_add_user(store, words->args[0], words->args[1], role, password,
                     id, &err)
        != INBOX_OK)
    {
        sodium_memzero(password, sizeof(password));
        return ctl_fail(&err);
    }

    sodium_memzero(password, sizeof(password));
    printf("%s\n", id);
    return 0;
}


/* One line a user, oldest first, under a header line. */
static int
ctl_user_list(inbox_store_t *store, ctl_words_t *words)
{
    int                 id_w;
    char                created[INBOX_ISO8601_MAX];
    size_t              i;
    inbox_user_t       *u;
    inbox_error_t       err;
    inbox_user_list_t   list;

    if (inbox_store_users_list(store, words->args[0], &list, &err)
        != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    id_w = (int) strlen("ID");

    for (i = 0; i < list.count; i++) {
        id_w = CTL_MAX(id_w, (int) strlen(list.items[i].id));
    }

    printf("%-*s  %-7s  %-20s  %s\n", id_w, "ID", "ROLE", "CREATED",
           "EMAIL");

    for (i = 0; i < list.count; i++) {
        u = &list.items[i];
        ctl_time(u->created_at, created);
        printf("%-*s  %-7s  %-20s  %s\n", id_w, u->id,
               inbox_role_name(u->role), created, u->email);
    }

    if (list.truncated) {
        fprintf(stderr, "inboxctl: only the oldest %d users are shown\n",
                INBOX_ACCOUNT_LIST_MAX);
    }

    inbox_user_list_free(&list);

    return 0;
}


static inbox_status_t
ctl_set_password(inbox_store_t *store, const char *org_id, const char *email,
    const char *password, char id[INBOX_ID_MAX], inbox_error_t *err)
{
    char            hash[INBOX_PASSWORD_HASH_MAX];
    inbox_status_t  rc;

    rc = inbox_password_hash(password, strlen(password), hash, err);

    if (rc == INBOX_OK) {
        rc = inbox_store_user_password_set(store, org_id, email, NULL,
                                           hash, id, NULL, err);
    }

    sodium_memzero(hash, sizeof(hash));

    return rc;
}


/* A new password; the user's sessions end with the old one.  Prints the
 * user's id. */
static int
ctl_user_passwd(inbox_store_t *store, ctl_words_t *words)
{
    char           id[INBOX_ID_MAX], password[CTL_PASSWORD_MAX];
    inbox_error_t  err;

    if (ctl_password_input(password) != 0) {
        return 1;
    }

    if (ctl_set_password(store, words->args[0], words->args[1], password, id,
                         &err)
        != INBOX_OK)
    {
        sodium_memzero(password, sizeof(password));
        return ctl_fail(&err);
    }

    sodium_memzero(password, sizeof(password));
    printf("%s\n", id);
    return 0;
}


/* The id of the organization's user named by its id or its email. */
static inbox_status_t
ctl_user_find(inbox_store_t *store, const char *org_id, const char *who,
    char id[INBOX_ID_MAX], inbox_error_t *err)
{
    size_t             i;
    inbox_status_t     rc;
    inbox_user_list_t  list;

    if (strchr(who, '@') == NULL) {
        snprintf(id, INBOX_ID_MAX, "%s", who);
        return INBOX_OK;
    }

    rc = inbox_store_users_list(store, org_id, &list, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                         "organization %s has no user %s", org_id, who);

    for (i = 0; i < list.count; i++) {
        if (strcasecmp(list.items[i].email, who) == 0) {
            snprintf(id, INBOX_ID_MAX, "%s", list.items[i].id);
            rc = INBOX_OK;
            break;
        }
    }

    inbox_user_list_free(&list);

    return rc;
}


/* Prints the user as they are now, as user list does. */
static int
ctl_user_role(inbox_store_t *store, ctl_words_t *words)
{
    char           id[INBOX_ID_MAX];
    inbox_role_t   role;
    inbox_user_t   user;
    inbox_error_t  err;

    if (inbox_role_parse(words->args[2], &role) != 0) {
        fprintf(stderr, "inboxctl: the role is member or billing\n");
        return 1;
    }

    if (ctl_user_find(store, words->args[0], words->args[1], id, &err)
        != INBOX_OK
        || inbox_store_user_role_set(store, words->args[0], id, role, &user,
                                     NULL, &err)
           != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    printf("%s  %s  %s\n", user.id, inbox_role_name(user.role), user.email);
    return 0;
}


static int
ctl_user_remove(inbox_store_t *store, ctl_words_t *words)
{
    char           id[INBOX_ID_MAX];
    inbox_error_t  err;

    if (ctl_user_find(store, words->args[0], words->args[1], id, &err)
        != INBOX_OK
        || inbox_store_user_remove(store, words->args[0], id, NULL, &err)
           != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    printf("removed %s\n", words->args[1]);
    return 0;
}


static inbox_status_t
ctl_new_token(inbox_store_t *store, const char *org_id, const char *email,
    const char *name, int64_t expires_at, char token[INBOX_TOKEN_MAX],
    inbox_error_t *err)
{
    char  hash[INBOX_TOKEN_HASH_MAX];

    if (inbox_token_generate(token) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "the system gave no random bytes for a token");
    }

    inbox_token_hash(token, strlen(token), hash);

    return inbox_store_token_add(store, org_id, email, hash, name,
                                 expires_at, NULL, err);
}


/* Prints only the token: scripts read it from stdout. */
static int
ctl_token_create(inbox_store_t *store, ctl_words_t *words)
{
    char           token[INBOX_TOKEN_MAX];
    int64_t        expires_at, lifetime;
    const char    *expires_in, *name;
    inbox_error_t  err;

    expires_in = ctl_option(words, "expires-in");
    name = ctl_option(words, "name");
    expires_at = 0;

    if (expires_in != NULL) {
        if (inbox_duration_parse(expires_in, &lifetime) != 0) {
            fprintf(stderr, "inboxctl: --expires-in takes a duration such as"
                    " 90s, 45m, 12h, 30d or 2w (at most 3650d)\n");
            return 1;
        }

        expires_at = inbox_now_ms() + lifetime;
    }

    if (ctl_new_token(store, words->args[0], ctl_option(words, "user"),
                      name, expires_at, token, &err)
        != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    printf("%s\n", token);
    return 0;
}


/* One line a token, in aligned columns without spaces inside a field (so
 * that awk and cut work too); a header line first. */
static int
ctl_token_list(inbox_store_t *store, ctl_words_t *words)
{
    int                  id_w, name_w, user_w;
    char                 created[INBOX_ISO8601_MAX];
    char                 expires[INBOX_ISO8601_MAX];
    size_t               i;
    int64_t              now;
    const char          *name, *user;
    inbox_token_t       *t;
    inbox_error_t        err;
    inbox_token_list_t   list;

    if (inbox_store_tokens_list(store, words->args[0], &list, &err)
        != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    id_w = (int) strlen("ID");
    name_w = (int) strlen("NAME");
    user_w = (int) strlen("USER");

    for (i = 0; i < list.count; i++) {
        t = &list.items[i];
        id_w = CTL_MAX(id_w, (int) strlen(t->id));
        name_w = CTL_MAX(name_w, (int) strlen(t->name));
        user_w = CTL_MAX(user_w, (int) strlen(t->user_email));
    }

    printf("%-*s  %-*s  %-*s  %-20s  %-20s  %s\n", id_w, "ID", name_w, "NAME",
           user_w, "USER", "CREATED", "EXPIRES", "STATUS");

    now = inbox_now_ms();

    for (i = 0; i < list.count; i++) {
        t = &list.items[i];
        name = t->name[0] ? t->name : "-";
        user = t->user_email[0] ? t->user_email : "-";

        ctl_time(t->created_at, created);

        if (t->expires_at != 0) {
            ctl_time(t->expires_at, expires);
        } else {
            strcpy(expires, "never");
        }

        printf("%-*s  %-*s  %-*s  %-20s  %-20s  %s\n", id_w, t->id, name_w,
               name, user_w, user, created, expires,
               inbox_token_state_name(inbox_token_state(t->expires_at,
                                                        t->revoked_at, now)));
    }

    if (list.truncated) {
        fprintf(stderr, "inboxctl: only the oldest %d tokens are shown\n",
                INBOX_TOKEN_LIST_MAX);
    }

    inbox_token_list_free(&list);

    return 0;
}


/* TOKEN_ID as token list shows it, or the token itself ("ibx_..."), for
 * the operator who has a leaked one in hand; prints the revoked id. */
static int
ctl_token_revoke(inbox_store_t *store, ctl_words_t *words)
{
    char           id[INBOX_ID_MAX], hash[INBOX_TOKEN_HASH_MAX];
    const char    *which;
    inbox_status_t rc;
    inbox_error_t  err;

    which = words->args[1];

    if (inbox_token_is_secret(which)) {
        inbox_token_hash(which, strlen(which), hash);
        rc = inbox_store_token_revoke(store, words->args[0], NULL, hash, id,
                                      NULL, &err);
    } else {
        rc = inbox_store_token_revoke(store, words->args[0], which, NULL, id,
                                      NULL, &err);
    }

    if (rc != INBOX_OK) {
        return ctl_fail(&err);
    }

    printf("%s\n", id);
    return 0;
}


static int
ctl_credits_grant(inbox_store_t *store, ctl_words_t *words)
{
    char           *end;
    long long       credits;
    inbox_error_t   err;

    errno = 0;
    credits = strtoll(words->args[1], &end, 10);

    if (*words->args[1] == '\0' || *end != '\0' || errno == ERANGE
        || credits <= 0 || credits > INBOX_CREDITS_GRANT_MAX)
    {
        fprintf(stderr, "inboxctl: credits must be a whole number from 1 "
                "to %lld\n", (long long) INBOX_CREDITS_GRANT_MAX);
        return 1;
    }

    if (inbox_store_credits_grant(store, words->args[0], credits, &err)
        != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    return ctl_billing_print(store, words->args[0]);
}


static int
ctl_billing_set(inbox_store_t *store, ctl_words_t *words)
{
    int            active;
    inbox_error_t  err;

    if (strcmp(words->args[1], "active") == 0) {
        active = 1;

    } else if (strcmp(words->args[1], "inactive") == 0) {
        active = 0;

    } else {
        fprintf(stderr, "inboxctl: billing is active or inactive\n");
        return 1;
    }

    if (inbox_store_billing_set(store, words->args[0], active, &err)
        != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    return ctl_billing_print(store, words->args[0]);
}


static int
ctl_billing_plan(inbox_store_t *store, ctl_words_t *words)
{
    inbox_plan_t   plan;
    inbox_error_t  err;

    if (inbox_plan_parse(words->args[1], &plan) != 0) {
        fprintf(stderr, "inboxctl: the plan is per_message or unlimited\n");
        return 1;
    }

    if (inbox_store_plan_set(store, words->args[0], plan, &err) != INBOX_OK) {
        return ctl_fail(&err);
    }

    return ctl_billing_print(store, words->args[0]);
}


static int
ctl_billing_show(inbox_store_t *store, ctl_words_t *words)
{
    return ctl_billing_print(store, words->args[0]);
}


/* As GET /api/v1/billing shows it: a change's result, or the balance. */
static int
ctl_billing_print(inbox_store_t *store, const char *org_id)
{
    char             *json;
    inbox_error_t     err;
    inbox_billing_t   billing;

    if (inbox_store_billing_get(store, org_id, &billing, &err) != INBOX_OK) {
        return ctl_fail(&err);
    }

    json = inbox_render_billing(&billing, NULL);
    if (json == NULL) {
        fprintf(stderr, "inboxctl: out of memory\n");
        return 1;
    }

    printf("%s\n", json);
    free(json);

    return 0;
}


/*
 * As nginx after a settings edit or a contact's zone: the sender gives
 * back what it holds of org_id's campaigns, for the next claim to hold
 * for quiet hours as they are now.  A sender not running holds nothing;
 * one whose queue stayed full is said: it finds the move at its own look
 * at what it holds, within 300 ms of waiting, and what starts before
 * goes by the quiet hours it was claimed under.
 */
static void
ctl_wake_quiet(const char *org_id)
{
    char                err[256];
    inbox_dgram_peer_t  peer;

    if (inbox_dgram_peer_open(&peer, ctl_sender_socket, err, sizeof(err))
        != 0
        || inbox_dgram_peer_set_wait(&peer, CTL_SENDER_WAIT, err,
                                     sizeof(err))
           != 0)
    {
        fprintf(stderr, "inboxctl: the sender's socket: %s\n", err);
        inbox_dgram_peer_close(&peer);
        return;
    }

    if (inbox_wake_send_quiet(&peer, org_id) != 0
        && errno != ENOENT && errno != ECONNREFUSED)
    {
        fprintf(stderr, "inboxctl: the sender was not told quiet hours "
                "moved (%s: %s): it finds the move at its look at the "
                "campaign messages it holds, within 300 ms\n",
                ctl_sender_socket, strerror(errno));
    }

    inbox_dgram_peer_close(&peer);
}


/* As PATCH /api/v1/settings does, each value checked by settings.h;
 * "" is a setting's default (inbox_settings_defaults). */
static int
ctl_settings_set(inbox_store_t *store, ctl_words_t *words)
{
    char                   start[6], end[6];
    const char            *v;
    inbox_error_t          err;
    inbox_status_t         rc;
    inbox_settings_t       s, defaults;
    inbox_settings_edit_t  edit;

    memset(&edit, 0, sizeof(edit));
    inbox_settings_defaults(&defaults, NULL);
    rc = INBOX_OK;

    if ((v = ctl_option(words, "business-name")) != NULL) {
        rc = inbox_settings_set_business_name(&edit, v, &err);
    }

    if (rc == INBOX_OK && (v = ctl_option(words, "support-contact")) != NULL)
    {
        rc = inbox_settings_set_support_contact(&edit, v, &err);
    }

    if (rc == INBOX_OK && (v = ctl_option(words, "timezone")) != NULL) {
        rc = inbox_settings_set_timezone(&edit, v[0] ? v : defaults.timezone,
                                         &err);
    }

    if (rc == INBOX_OK && (v = ctl_option(words, "quiet-hours")) != NULL) {
        if (v[0] == '\0') {
            inbox_settings_time_format(defaults.quiet_start, start);
            inbox_settings_time_format(defaults.quiet_end, end);
            rc = inbox_settings_set_quiet_hours(&edit, start, end, &err);

        } else if (strlen(v) != 11 || v[5] != '-') {
            fprintf(stderr, "inboxctl: --quiet-hours is HH:MM-HH:MM, such "
                    "as 21:00-08:00\n");
            return 1;

        } else {
            memcpy(start, v, 5);
            start[5] = '\0';
            memcpy(end, v + 6, 5);
            end[5] = '\0';
            rc = inbox_settings_set_quiet_hours(&edit, start, end, &err);
        }
    }

    if (rc == INBOX_OK
        && (v = ctl_option(words, "default-country")) != NULL)
    {
        rc = inbox_settings_set_default_country(&edit, v, &err);
    }

    if (rc == INBOX_OK) {
        /* its settings.updated is pushed by nobody: ws-server finds it
         * at its next look at the store */
        rc = inbox_store_settings_update(store, words->args[0], &edit, &s,
                                         NULL, &err);
    }

    if (rc != INBOX_OK) {
        return ctl_fail(&err);
    }

    if (inbox_settings_edit_moves_quiet_hours(&edit)) {
        ctl_wake_quiet(words->args[0]);
    }

    inbox_settings_time_format(s.quiet_start, start);
    inbox_settings_time_format(s.quiet_end, end);

    printf("timezone         %s\n"
           "quiet hours      %s-%s\n"
           "business name    %s\n"
           "support contact  %s\n"
           "default country  %s\n", s.timezone, start, end, s.business_name,
           s.support_contact[0] ? s.support_contact : "(none)",
           s.default_country[0] ? s.default_country : "(none)");

    return 0;
}


/* The demo's contacts and what they texted, oldest first. */
static const struct {
    const char  *phone;
    const char  *name;
    const char  *sid;
    const char  *body;
    int          minutes_ago;
} ctl_demo_messages[] = {
    { "+15005550101", "Maria Lopez", "SMdemo000000000000000000000000001",
      "Hi! Is the community dinner still on for Friday?", 180 },
    { "+15005550102", "Dev Patel", "SMdemo000000000000000000000000002",
      "Thanks for the reminder, I'll be there.", 95 },
    { "+15005550103", NULL, "SMdemo000000000000000000000000003",
      "Who is this? I don't recognise the number.", 40 },
    { "+15005550101", "Maria Lopez", "SMdemo000000000000000000000000004",
      "Also, can I bring my neighbour along?", 12 },
    { "+15005550104", "Sam O'Connor", "SMdemo000000000000000000000000005",
      "YES count me in for the volunteer shift", 3 },
};

#define CTL_DEMO_NMESSAGES \
    (sizeof(ctl_demo_messages) / sizeof(ctl_demo_messages[0]))


static inbox_status_t
ctl_seed_messages(inbox_store_t *store, const char *org_id,
    inbox_error_t *err)
{
    char                   id[INBOX_ID_MAX];
    size_t                 i;
    int64_t                now;
    inbox_status_t         rc;
    inbox_inbound_t        msgs[CTL_DEMO_NMESSAGES];
    inbox_event_list_t     events;
    inbox_ingest_result_t  results[CTL_DEMO_NMESSAGES];

    for (i = 0; i < CTL_DEMO_NMESSAGES; i++) {
        if (ctl_demo_messages[i].name != NULL
            && inbox_store_contact_upsert(store, org_id,
                                          ctl_demo_messages[i].phone,
                                          ctl_demo_messages[i].name, id, err)
               != INBOX_OK)
        {
            return err->code;
        }
    }

    memset(msgs, 0, sizeof(msgs));
    memset(&events, 0, sizeof(inbox_event_list_t));
    now = inbox_now_ms();

    for (i = 0; i < CTL_DEMO_NMESSAGES; i++) {
        msgs[i].carrier = INBOX_CARRIER_TWILIO;
        msgs[i].provider_id = ctl_demo_messages[i].sid;
        strcpy(msgs[i].from, ctl_demo_messages[i].phone);
        strcpy(msgs[i].to, DEMO_NUMBER);
        msgs[i].body = ctl_demo_messages[i].body;
        msgs[i].segments = 1;
        msgs[i].received_at = now
                              - ctl_demo_messages[i].minutes_ago * 60000LL;
    }

    /* Fixed message ids make a second run store nothing new. */
    rc = inbox_store_inbound_ingest(store, msgs, CTL_DEMO_NMESSAGES, results,
                                    &events, err);
    inbox_event_list_free(&events);

    if (rc != INBOX_OK) {
        return rc;
    }

    for (i = 0; i < CTL_DEMO_NMESSAGES; i++) {
        if (results[i].status != INBOX_OK) {
            return inbox_error_set(err, results[i].status,
                                   "the demo message %s was not stored",
                                   msgs[i].provider_id);
        }
    }

    return INBOX_OK;
}


/* The demo's volunteers: the named contacts, tagged for the drafts. */
static const char  *ctl_demo_volunteers[] = {
    "+15005550101", "+15005550102", "+15005550104"
};

#define CTL_DEMO_TAG  "volunteers"

static const char  *ctl_demo_poll_options[] = {
    "Thursday", "Friday", "Saturday"
};


/*
 * Made with the organization, once: the volunteers' tag, and a campaign
 * to them and a poll to everyone, both drafts, so that the Campaigns and
 * Polls views have something to send (the sender hands them to the
 * carrier simulator, whose phone page answers them).
 */
static inbox_status_t
ctl_seed_drafts(inbox_store_t *store, const char *org_id, inbox_error_t *err)
{
    size_t                n;
    inbox_tags_t          tags;
    inbox_status_t        rc;
    inbox_campaign_t      made;
    inbox_contact_row_t   rows[3];
    inbox_import_count_t  count;
    inbox_campaign_new_t  c;

    memset(rows, 0, sizeof(rows));
    memset(&tags, 0, sizeof(inbox_tags_t));

    rc = inbox_tags_add(&tags, CTL_DEMO_TAG, strlen(CTL_DEMO_TAG), err);

    for (n = 0; rc == INBOX_OK && n < 3; n++) {
        strcpy(rows[n].phone, ctl_demo_volunteers[n]);
        rc = inbox_tags_add(&rows[n].tags, CTL_DEMO_TAG, strlen(CTL_DEMO_TAG),
                            err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_store_contacts_import(store, org_id, rows, n, &count,
                                         NULL, err);
    }

    memset(&c, 0, sizeof(inbox_campaign_new_t));
    c.kind = INBOX_CAMPAIGN_KIND_CAMPAIGN;
    c.name = "Community dinner reminder";
    c.body = "Reminder: the community dinner is this Friday at 6pm in the "
             "Harbor Hall. Reply here with any questions!";
    c.tags = &tags;

    if (rc == INBOX_OK) {
        rc = inbox_store_campaign_create(store, org_id, &c, inbox_now_ms(),
                                         &made, NULL, err);
        inbox_campaign_free(&made);
    }

    memset(&c, 0, sizeof(inbox_campaign_new_t));
    c.kind = INBOX_CAMPAIGN_KIND_POLL;
    c.name = "Next dinner";
    c.question = "Which night suits you for the next community dinner?";
    c.options = ctl_demo_poll_options;
    c.option_count = 3;
    c.audience_all = 1;

    if (rc == INBOX_OK) {
        rc = inbox_store_campaign_create(store, org_id, &c, inbox_now_ms(),
                                         &made, NULL, err);
        inbox_campaign_free(&made);
    }

    for (n = 0; n < 3; n++) {
        inbox_tags_free(&rows[n].tags);
    }

    inbox_tags_free(&tags);

    return rc;
}


/*
 * At most one live demo token: each run revokes the ones earlier runs made
 * (named "demo", or, from before tokens had names, unnamed ones of the demo
 * user) before it makes a new one.
 */
static inbox_status_t
ctl_revoke_demo_tokens(inbox_store_t *store, const char *org_id,
    size_t *revoked, inbox_error_t *err)
{
    size_t               i;
    int64_t              now;
    inbox_status_t       rc;
    inbox_token_t       *t;
    inbox_token_list_t   list;

    rc = inbox_store_tokens_list(store, org_id, &list, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    now = inbox_now_ms();
    *revoked = 0;

    for (i = 0; i < list.count && rc == INBOX_OK; i++) {
        t = &list.items[i];

        if (inbox_token_state(t->expires_at, t->revoked_at, now)
            != INBOX_TOKEN_ACTIVE)
        {
            continue;
        }

        if (strcmp(t->name, DEMO_TOKEN_NAME) == 0
            || (t->name[0] == '\0' && strcmp(t->user_email, DEMO_EMAIL) == 0))
        {
            rc = inbox_store_token_revoke(store, org_id, t->id, NULL, NULL,
                                          NULL, err);
            *revoked += 1;
        }
    }

    inbox_token_list_free(&list);

    return rc;
}


/* Form-encodes s onto the end of buf (of size bytes). */
static void
ctl_form_append(char *buf, size_t size, const char *s)
{
    size_t               len;
    static const char    hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    len = strlen(buf);

    for (p = (const unsigned char *) s; *p && len + 4 < size; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
            || (*p >= '0' && *p <= '9') || strchr("-_.~", *p))
        {
            buf[len++] = (char) *p;

        } else if (*p == ' ') {
            buf[len++] = '+';

        } else {
            buf[len++] = '%';
            buf[len++] = hex[*p >> 4];
            buf[len++] = hex[*p & 0xf];
        }
    }

    buf[len] = '\0';
}


/* Prints a curl command posting a correctly signed inbound webhook. */
static int
ctl_print_demo_curl(const char *public_url, const char *auth_token)
{
    char            url[1024], body[1024], sid[35];
    char            signature[INBOX_TWILIO_SIGNATURE_MAX];
    unsigned char   random[16];
    size_t          i;
    inbox_form_t    form;
    inbox_error_t   err;
    static const char  hex[] = "0123456789abcdef";

    randombytes_buf(random, sizeof(random));
    sid[0] = 'S';
    sid[1] = 'M';

    for (i = 0; i < sizeof(random); i++) {
        sid[2 + 2 * i] = hex[random[i] >> 4];
        sid[3 + 2 * i] = hex[random[i] & 0xf];
    }

    sid[34] = '\0';

    snprintf(url, sizeof(url), "%s/webhooks/twilio/inbound", public_url);

    body[0] = '\0';
    strcat(body, "MessageSid=");
    ctl_form_append(body, sizeof(body), sid);
    strcat(body, "&AccountSid=" DEMO_ACCOUNT_SID "&From=");
    ctl_form_append(body, sizeof(body), "+15005550199");
    strcat(body, "&To=");
    ctl_form_append(body, sizeof(body), DEMO_NUMBER);
    strcat(body, "&Body=");
    ctl_form_append(body, sizeof(body), "Hello from curl! Is anyone there?");
    strcat(body, "&NumMedia=0&NumSegments=1");

    if (inbox_form_parse(body, strlen(body), &form, &err) != INBOX_OK) {
        return ctl_fail(&err);
    }

    inbox_twilio_signature(url, &form, auth_token, signature);
    inbox_form_free(&form);

    printf("curl -i -X POST '%s' \\\n"
           "  -H 'X-Twilio-Signature: %s' \\\n"
           "  --data '%s'\n", url, signature, body);

    return 0;
}


static int
ctl_seed_demo(inbox_store_t *store, ctl_words_t *words)
{
    int              created;
    size_t           revoked;
    char             org_id[INBOX_ID_MAX], user_id[INBOX_ID_MAX];
    char             token[INBOX_TOKEN_MAX], password[48], auth_token[33];
    unsigned char    random[18];
    const char      *public_url, *api_base;
    inbox_status_t   rc;
    inbox_error_t    err;
    inbox_number_t   number;

    public_url = ctl_option(words, "public-url");
    public_url = public_url ? public_url : DEMO_PUBLIC_URL;
    api_base = ctl_option(words, "api-base");
    created = 0;

    rc = inbox_store_org_find_by_name(store, DEMO_ORG_NAME, org_id, &err);

    if (rc == INBOX_ERR_NOT_FOUND) {
        if (inbox_store_org_create(store, DEMO_ORG_NAME, "America/New_York",
                                   org_id, &err)
            != INBOX_OK
            || inbox_store_credits_grant(store, org_id, 500, &err) != INBOX_OK)
        {
            return ctl_fail(&err);
        }

        created = 1;

    } else if (rc != INBOX_OK) {
        return ctl_fail(&err);
    }

    memset(&number, 0, sizeof(inbox_number_t));

    rc = inbox_store_number_find(store, DEMO_NUMBER, &number, &err);

    if (rc == INBOX_ERR_NOT_FOUND) {
        randombytes_buf(random, 16);
        sodium_bin2hex(auth_token, sizeof(auth_token), random, 16);

        strcpy(number.org_id, org_id);
        strcpy(number.e164, DEMO_NUMBER);
        number.carrier = INBOX_CARRIER_TWILIO;
        number.account_sid = DEMO_ACCOUNT_SID;
        number.auth_token = auth_token;
        number.api_base = (char *) api_base;
        /* Twilio's default, and the simulator's: it answers keywords */
        number.carrier_answers_keywords = 1;

        if (inbox_store_number_add(store, &number, &err) != INBOX_OK) {
            return ctl_fail(&err);
        }

    } else if (rc != INBOX_OK) {
        return ctl_fail(&err);

    } else {
        snprintf(auth_token, sizeof(auth_token), "%s",
                 number.auth_token ? number.auth_token : "");

        /* the carrier may have moved since (another simulator port);
         * and it answers keywords, whenever the number was seeded */
        if ((api_base != NULL
             && (number.api_base == NULL
                 || strcmp(number.api_base, api_base) != 0))
            || !number.carrier_answers_keywords)
        {
            if (api_base != NULL) {
                free(number.api_base);
                number.api_base = strdup(api_base);
            }

            number.carrier_answers_keywords = 1;

            rc = api_base == NULL || number.api_base != NULL
                 ? inbox_store_number_update(store, &number, &err)
                 : inbox_error_set(&err, INBOX_ERR_INTERNAL,
                                   "out of memory");
            if (rc != INBOX_OK) {
                inbox_number_free(&number);
                return ctl_fail(&err);
            }
        }

        inbox_number_free(&number);
    }

    randombytes_buf(random, sizeof(random));
    inbox_base64url_encode(random, sizeof(random), password);

    /* a fresh password each run, printed: the demo user is made once and
     * its password set again (which signs its browsers out) */
    rc = ctl_add_user(store, org_id, DEMO_EMAIL, INBOX_ROLE_BILLING, password,
                      user_id, &err);

    if (rc == INBOX_ERR_CONFLICT) {
        rc = ctl_set_password(store, org_id, DEMO_EMAIL, password, user_id,
                              &err);
    }

    if (rc != INBOX_OK) {
        return ctl_fail(&err);
    }

    if (ctl_seed_messages(store, org_id, &err) != INBOX_OK
        || (created && ctl_seed_drafts(store, org_id, &err) != INBOX_OK)
        || ctl_revoke_demo_tokens(store, org_id, &revoked, &err)
           != INBOX_OK
        || ctl_new_token(store, org_id, DEMO_EMAIL, DEMO_TOKEN_NAME, 0,
                         token, &err)
           != INBOX_OK)
    {
        return ctl_fail(&err);
    }

    printf("demo organization: %s (id %s)%s\n", DEMO_ORG_NAME, org_id,
           created ? "" : ", already seeded");
    printf("number:            %s (twilio, auth token %s)\n", DEMO_NUMBER,
           auth_token);
    printf("sign in at %s/ as\n", public_url);
    printf("  email:           %s\n", DEMO_EMAIL);
    printf("  password:        %s\n", password);
    printf("api token:         %s%s\n", token,
           revoked ? " (earlier demo tokens no longer work)" : "");
    printf("\npost a signed inbound webhook:\n");

    return ctl_print_demo_curl(public_url, auth_token);
}


/* contacts import, campaigns and polls */

/* FILE ("-": stdin) whole, malloc'd into *data; 0, or -1 said. */
static int
ctl_read_file(const char *path, char **data, size_t *len)
{
    FILE    *f;
    char    *buf, *more;
    size_t   cap, n;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "inboxctl: cannot read %s: %s\n", path,
                strerror(errno));
        return -1;
    }

    buf = NULL;
    cap = 0;
    *len = 0;

    for ( ;; ) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 65536;
            more = realloc(buf, cap);
            if (more == NULL) {
                fprintf(stderr, "inboxctl: out of memory\n");
                free(buf);
                if (f != stdin) {
                    fclose(f);
                }
                return -1;
            }
            buf = more;
        }

        n = fread(buf + *len, 1, cap - *len, f);
        *len += n;

        if (n == 0) {
            break;
        }
    }

    if (ferror(f)) {
        fprintf(stderr, "inboxctl: cannot read %s: %s\n", path,
                strerror(errno));
        free(buf);
        buf = NULL;
    }

    if (f != stdin) {
        fclose(f);
    }

    *data = buf;

    return buf ? 0 : -1;
}


/* One pass of an import over data: the check (store NULL) or the
 * import; *im is the importer, for its report. */
static inbox_status_t
ctl_import_pass(inbox_store_t *store, const char *org_id,
    const char *country, const char *data, size_t len, inbox_import_t **im,
    inbox_error_t *err)
{
    inbox_status_t  rc;

    *im = inbox_import_new(store, org_id, country);
    if (*im == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    rc = inbox_import_feed(*im, data, len, err);
    if (rc == INBOX_OK) {
        rc = inbox_import_finish(*im, err);
    }

    return rc;
}


/* As POST /api/v1/contacts/import does: a check that stores nothing,
 * then the import; the report is the API's answer, one line (its error,
 * with what was stored, when a batch failed after others were stored). */
static int
ctl_contacts_import(inbox_store_t *store, ctl_words_t *words)
{
    int              none;
    char            *data, *report;
    char             stopped[INBOX_IMPORT_STOPPED_MAX];
    char             country[INBOX_COUNTRY_MAX], given[INBOX_COUNTRY_MAX];
    size_t           len;
    const char      *v;
    inbox_error_t    err, maintain_err;
    inbox_status_t   rc;
    inbox_import_t  *im;

    v = ctl_option(words, "country");

    if (v != NULL && inbox_phone_country_check(v, NULL, country, &err)
                     != INBOX_OK)
    {
        fprintf(stderr, "inboxctl: --country: %s A number written "
                "+<country code><number> needs none.\n", err.message);
        return 1;
    }

    if (ctl_read_file(words->args[1], &data, &len) != 0) {
        return 1;
    }

    /* the organization first (an import into none would only fail at
     * its first batch), and its default country unless --country */
    rc = inbox_store_default_country(store, words->args[0], NULL,
                                     v != NULL ? given : country, &err);

    if (rc == INBOX_OK) {
        rc = ctl_import_pass(NULL, words->args[0], country, data, len, &im,
                             &err);
        inbox_import_free(im);
    }

    none = 0;
    stopped[0] = '\0';

    if (rc == INBOX_OK) {
        rc = ctl_import_pass(store, words->args[0], country, data, len, &im,
                             &err);

        report = rc == INBOX_OK ? inbox_import_render(im, NULL) : NULL;

        /* stopped partway: the error the route answers, what the batches
         * before stored in it */
        if (rc != INBOX_OK && inbox_import_stopped_at(im) > 0) {
            report = inbox_import_render_stopped(im, &err, NULL);
            inbox_import_stopped_message(im, &err, stopped,
                                         sizeof(stopped));
        }

        if (report != NULL) {
            printf("%s\n", report);
            free(report);
        }

        /* as the API's import: the contacts stored go into the search
         * index now, not scanned one by one by every search until nginx
         * next does its housekeeping (after a webhook) */
        if (inbox_import_stored(im) > 0
            && inbox_store_maintain(store, &maintain_err) != INBOX_OK)
        {
            fprintf(stderr, "inboxctl: indexing the imported contacts for "
                    "search: %s (nginx does it later)\n",
                    maintain_err.message);
        }

        if (inbox_import_moves_zones(im)) {
            ctl_wake_quiet(words->args[0]);
        }

        /* said, not only counted: tags the file gives were dropped */
        if (inbox_import_tags_capped(im) > 0) {
            fprintf(stderr, "inboxctl: %s: %zu contact%s reached %d tags, "
                    "the most a contact can have: some of %s tags in the "
                    "file were not added\n", words->args[1],
                    inbox_import_tags_capped(im),
                    inbox_import_tags_capped(im) == 1 ? "" : "s",
                    INBOX_TAGS_MAX,
                    inbox_import_tags_capped(im) == 1 ? "its" : "their");
        }

        /* a file of which nothing could be read is a failed import */
        if (rc == INBOX_OK && inbox_import_stored(im) == 0
            && inbox_import_refused(im) > 0)
        {
            fprintf(stderr, "inboxctl: %s: no line was imported, %zu "
                    "refused (listed above)\n", words->args[1],
                    inbox_import_refused(im));
            none = 1;
        }

        inbox_import_free(im);
    }

    free(data);

    if (rc != INBOX_OK) {
        fprintf(stderr, "inboxctl: %s: %s\n", words->args[1],
                stopped[0] != '\0' ? stopped : err.message);
        return 1;
    }

    return none;
}


/* The audience and send time of a new campaign or poll from --all,
 * --tag and --send-at; 0, or -1 said. */
static int
ctl_campaign_audience(ctl_words_t *words, inbox_campaign_new_t *c,
    inbox_tags_t *tags)
{
    int             i;
    const char     *at;
    inbox_error_t   err;

    c->audience_all = ctl_option(words, "all") != NULL;

    for (i = 0; i < words->noptions; i++) {
        if (strcmp(words->options[i].name, "tag") != 0) {
            continue;
        }

        if (inbox_tags_add_named(tags, words->options[i].value,
                                 strlen(words->options[i].value), &err)
            != INBOX_OK)
        {
            fprintf(stderr, "inboxctl: --tag \"%s\": %s\n",
                    words->options[i].value, err.message);
            return -1;
        }
    }

    if (c->audience_all == (tags->count > 0)) {
        fprintf(stderr, "inboxctl: say who gets it: --all, or one --tag "
                "TAG or more (not both)\n");
        return -1;
    }

    c->tags = tags;

    at = ctl_option(words, "send-at");

    if (at != NULL && (inbox_iso8601_parse(at, &c->send_at) != 0
                       || c->send_at <= 0))
    {
        fprintf(stderr, "inboxctl: --send-at is a UTC time such as "
                "2030-01-31T09:00:00Z\n");
        return -1;
    }

    return 0;
}


/* A draft whose audience holds nobody is said: a tag mistyped or not
 * imported yet would otherwise be sent to nobody, "done" and silent.
 * The draft stays (its contacts can be tagged before it is sent). */
static void
ctl_campaign_nobody(inbox_store_t *store, const char *org_id,
    const inbox_campaign_new_t *c)
{
    size_t            i;
    int64_t           audience, suppressed;
    inbox_error_t     err;
    inbox_tag_page_t  page;

    if (inbox_store_campaign_audience(store, org_id, c->audience_all,
                                      c->tags, &audience, &suppressed, NULL,
                                      &err)
        != INBOX_OK || audience > suppressed)
    {
        return;
    }

    if (audience > 0) {
        fprintf(stderr, "inboxctl: every contact in its audience is opted "
                "out: sent now, it would reach nobody\n");
        return;
    }

    if (c->audience_all) {
        fprintf(stderr, "inboxctl: the organization has no contacts yet: "
                "sent now, it would reach nobody (contacts import adds "
                "them)\n");
        return;
    }

    fprintf(stderr, "inboxctl: no contact is tagged");

    for (i = 0; i < c->tags->count; i++) {
        fprintf(stderr, "%s \"%s\"", i == 0 ? "" : " or",
                c->tags->items[i]);
    }

    fprintf(stderr, ": sent now, it would reach nobody");

    /* the tags there are, for the mistyped one */
    memset(&page, 0, sizeof(inbox_tag_page_t));

    if (inbox_store_tags_list(store, org_id, &page, &err) == INBOX_OK
        && page.count > 0)
    {
        fprintf(stderr, " (tags in use:");

        for (i = 0; i < page.count && i < 10; i++) {
            fprintf(stderr, "%s %s", i == 0 ? "" : ",", page.items[i].tag);
        }

        fprintf(stderr, "%s)", page.count > 10 || page.more ? ", ..." : "");
    }

    inbox_tag_page_free(&page);

    fprintf(stderr, "\n");
}


static int
ctl_campaign_made(inbox_store_t *store, const char *org_id,
    const inbox_campaign_new_t *c)
{
    inbox_error_t     err;
    inbox_campaign_t  campaign;

    if (inbox_store_campaign_create(store, org_id, c, inbox_now_ms(),
                                    &campaign, NULL, &err)
        != INBOX_OK)
    {
        if (err.field[0] != '\0') {
            fprintf(stderr, "inboxctl: %s: %s\n", err.field, err.message);
        } else {
            ctl_fail(&err);
        }

        inbox_campaign_free(&campaign);
        return 1;
    }

    printf("%s\n", campaign.id);
    inbox_campaign_free(&campaign);

    ctl_campaign_nobody(store, org_id, c);

    return 0;
}


static int
ctl_campaign_create(inbox_store_t *store, ctl_words_t *words)
{
    int                   rc;
    inbox_tags_t          tags;
    inbox_campaign_new_t  c;

    memset(&c, 0, sizeof(inbox_campaign_new_t));
    memset(&tags, 0, sizeof(inbox_tags_t));

    c.kind = INBOX_CAMPAIGN_KIND_CAMPAIGN;
    c.name = ctl_option(words, "name");
    c.body = ctl_option(words, "body");

    if (c.name == NULL || c.body == NULL) {
        fprintf(stderr, "inboxctl: a campaign needs --name and --body\n");
        return 1;
    }

    rc = ctl_campaign_audience(words, &c, &tags) == 0
         ? ctl_campaign_made(store, words->args[0], &c) : 1;

    inbox_tags_free(&tags);

    return rc;
}


static int
ctl_poll_create(inbox_store_t *store, ctl_words_t *words)
{
    int                   i, rc;
    const char           *options[INBOX_POLL_OPTIONS_MAX + 1];
    inbox_tags_t          tags;
    inbox_campaign_new_t  c;

    memset(&c, 0, sizeof(inbox_campaign_new_t));
    memset(&tags, 0, sizeof(inbox_tags_t));

    c.kind = INBOX_CAMPAIGN_KIND_POLL;
    c.name = ctl_option(words, "name");
    c.question = ctl_option(words, "question");

    if (c.question == NULL) {
        fprintf(stderr, "inboxctl: a poll needs --question\n");
        return 1;
    }

    for (i = 0; i < words->noptions; i++) {
        if (strcmp(words->options[i].name, "option") != 0) {
            continue;
        }

        if (c.option_count == INBOX_POLL_OPTIONS_MAX) {
            fprintf(stderr, "inboxctl: a poll has at most %d options\n",
                    INBOX_POLL_OPTIONS_MAX);
            return 1;
        }

        options[c.option_count++] = words->options[i].value;
    }

    c.options = options;

    rc = ctl_campaign_audience(words, &c, &tags) == 0
         ? ctl_campaign_made(store, words->args[0], &c) : 1;

    inbox_tags_free(&tags);

    return rc;
}


static void
ctl_campaign_print(const inbox_campaign_t *c)
{
    const char  *why;

    /* paused:manual, cancelled:text_refused; a cancel from before the
     * reason was kept says none */
    why = c->status == INBOX_CAMPAIGN_PAUSED
          ? inbox_pause_reason_name(c->paused_reason)
          : c->status == INBOX_CAMPAIGN_CANCELLED
          ? inbox_cancel_reason_name(c->cancelled_reason) : NULL;

    printf("%s %s %s%s%s recipients=%lld suppressed=%lld queued=%lld "
           "waiting_quiet_hours=%lld sent=%lld delivered=%lld failed=%lld "
           "replied=%lld  %s\n",
           c->id, inbox_campaign_kind_name(c->kind),
           inbox_campaign_status_name(c->status),
           why != NULL ? ":" : "", why != NULL ? why : "",
           (long long) inbox_campaign_recipients(c->counts.audience,
                                                 c->counts.excluded),
           (long long) c->counts.suppressed, (long long) c->counts.queued,
           (long long) c->counts.waiting_quiet_hours,
           (long long) c->counts.sent, (long long) c->counts.delivered,
           (long long) c->counts.failed, (long long) c->counts.replied,
           c->name ? c->name : "");
}


/* send, pause, resume or cancel (the verb); the sender hands the
 * recipients over (a running nginx wakes it; else at its next look). */
static int
ctl_campaign_act(inbox_store_t *store, ctl_words_t *words)
{
    inbox_error_t            err;
    inbox_campaign_t         c;
    inbox_campaign_action_t  action;

    if (inbox_campaign_action_parse(words->verb, &action) != 0) {
        fprintf(stderr, "inboxctl: unknown campaign action %s\n",
                words->verb);
        return 2;
    }

    if (inbox_store_campaign_act(store, words->args[0], words->args[1],
                                 action, inbox_now_ms(), &c, NULL, &err)
        != INBOX_OK)
    {
        inbox_campaign_free(&c);

        if (err.code == INBOX_ERR_NOT_FOUND) {
            fprintf(stderr, "inboxctl: no campaign or poll %s in "
                    "organization %s (see campaign list ORG_ID)\n",
                    words->args[1], words->args[0]);
            return 1;
        }

        return ctl_fail(&err);
    }

    ctl_campaign_print(&c);
    inbox_campaign_free(&c);

    return 0;
}


static int
ctl_campaign_list(inbox_store_t *store, ctl_words_t *words)
{
    int                     k;
    char                    cursor[INBOX_CURSOR_MAX];
    size_t                  i;
    inbox_error_t           err;
    inbox_campaign_page_t   page;
    inbox_campaign_kind_t   kinds[2] = { INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                         INBOX_CAMPAIGN_KIND_POLL };

    for (k = 0; k < 2; k++) {
        cursor[0] = '\0';

        do {
            if (inbox_store_campaigns_list(store, words->args[0], kinds[k],
                                           cursor, INBOX_LIST_LIMIT_MAX,
                                           &page, &err)
                != INBOX_OK)
            {
                inbox_campaign_page_free(&page);
                return ctl_fail(&err);
            }

            for (i = 0; i < page.count; i++) {
                ctl_campaign_print(&page.items[i]);
            }

            snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
            inbox_campaign_page_free(&page);

        } while (cursor[0] != '\0');
    }

    return 0;
}



static const ctl_command_t *
ctl_find_command(int argc, char **argv, int *used)
{
    size_t  i;

    for (i = 0; i < CTL_NCOMMANDS; i++) {
        if (strcmp(ctl_commands[i].noun, argv[0]) != 0) {
            continue;
        }

        if (ctl_commands[i].verb == NULL) {
            *used = 1;
            return &ctl_commands[i];
        }

        if (argc > 1 && strcmp(ctl_commands[i].verb, argv[1]) == 0) {
            *used = 2;
            return &ctl_commands[i];
        }
    }

    return NULL;
}


int
main(int argc, char **argv)
{
    int                   used, rc;
    const char           *uri;
    ctl_words_t           words;
    inbox_store_t        *store;
    inbox_error_t         err;
    const ctl_command_t  *cmd;

    uri = getenv("INBOX_STORE");
    uri = (uri && *uri) ? uri : "sqlite:var/inbox.db";
    ctl_sender_socket = getenv("INBOX_SENDER_SOCKET");
    if (ctl_sender_socket == NULL || *ctl_sender_socket == '\0') {
        ctl_sender_socket = "var/run/sender.sock";
    }
    argc--;
    argv++;

    for ( ;; ) {
        if (argc >= 2 && strcmp(argv[0], "--store") == 0) {
            uri = argv[1];

        } else if (argc >= 2 && strcmp(argv[0], "--sender-socket") == 0) {
            ctl_sender_socket = argv[1];

        } else {
            break;
        }

        argc -= 2;
        argv += 2;
    }

    if (argc == 0 || strcmp(argv[0], "--help") == 0
        || strcmp(argv[0], "help") == 0)
    {
        ctl_usage(argc == 0 ? stderr : stdout);
        return argc == 0 ? 2 : 0;
    }

    cmd = ctl_find_command(argc, argv, &used);

    if (cmd == NULL) {
        ctl_unknown(argc, argv);
        return 2;
    }

    if (ctl_parse_words(cmd, argc - used, argv + used, &words) != 0) {
        return 2;
    }

    words.verb = cmd->verb;

    if (sodium_init() < 0) {
        fprintf(stderr, "inboxctl: libsodium could not start\n");
        return 1;
    }

    store = ctl_creates_store(cmd) ? inbox_store_create(uri, &err)
                                   : inbox_store_open(uri, &err);

    if (store == NULL) {
        return ctl_fail(&err);
    }

    rc = cmd->handler(store, &words);

    inbox_store_close(store);

    return rc;
}
