/*
 * A server process's descriptors: its soft limit raised to the hard one,
 * the part connections may take, and a shortage logged once an episode.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <inbox/nofile.h>
#include "check.h"


TEST(raise_takes_the_soft_limit_up_to_the_hard_one)
{
    long           limit;
    char           err[256];
    rlim_t         want;
    struct rlimit  rl;

    CHECK_INT(getrlimit(RLIMIT_NOFILE, &rl), 0);
    want = rl.rlim_max == RLIM_INFINITY
           || rl.rlim_max > (rlim_t) INBOX_NOFILE_MAX
           ? (rlim_t) INBOX_NOFILE_MAX : rl.rlim_max;

    /* a soft limit of 64, as a service manager may leave 1024 */
    rl.rlim_cur = 64;
    CHECK_INT(setrlimit(RLIMIT_NOFILE, &rl), 0);

    limit = inbox_nofile_raise(err, sizeof(err));
    CHECK_STR(err, "");
    CHECK_INT(limit, (long long) want);
    CHECK_INT(getrlimit(RLIMIT_NOFILE, &rl), 0);
    CHECK_INT(rl.rlim_cur, (long long) want);
}


TEST(raise_leaves_a_limit_already_at_the_hard_one)
{
    int    status;
    pid_t  pid;

    /* lowering the hard limit cannot be undone: in a child */
    pid = fork();
    CHECK(pid != -1);

    if (pid == 0) {
        long           limit;
        char           err[256];
        struct rlimit  rl = { 48, 48 };

        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            _exit(2);
        }

        limit = inbox_nofile_raise(err, sizeof(err));
        _exit(limit == 48 && err[0] == '\0' ? 0 : 1);
    }

    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
}


TEST(connections_leave_the_reserve)
{
    CHECK_INT(inbox_nofile_connections(1024), 1024 - INBOX_NOFILE_RESERVE);
    CHECK_INT(inbox_nofile_connections(2 * INBOX_NOFILE_RESERVE + 1),
              INBOX_NOFILE_RESERVE + 1);

    /* too small for a whole reserve: half each */
    CHECK_INT(inbox_nofile_connections(2 * INBOX_NOFILE_RESERVE),
              INBOX_NOFILE_RESERVE);
    CHECK_INT(inbox_nofile_connections(16), 8);
}


TEST(a_shortage_is_told_once_an_episode)
{
    inbox_nofile_episode_t  e;

    memset(&e, 0, sizeof(e));

    CHECK_INT(inbox_nofile_calm(&e, 50000), 0);

    CHECK_INT(inbox_nofile_short(&e, 1000), 1);
    CHECK_INT(inbox_nofile_short(&e, 1001), 0);
    CHECK_INT(inbox_nofile_short(&e, 9000), 0);

    /* calm counts from the latest shortage, not the first */
    CHECK_INT(inbox_nofile_calm(&e, 9000 + INBOX_NOFILE_CALM_MS - 1), 0);
    CHECK_INT(inbox_nofile_short(&e, 18000), 0);
    CHECK_INT(inbox_nofile_calm(&e, 18000 + INBOX_NOFILE_CALM_MS), 4);
    CHECK_INT(inbox_nofile_calm(&e, 90000), 0);

    /* the next one starts another episode, counted afresh */
    CHECK_INT(inbox_nofile_short(&e, 100000), 1);
    CHECK_INT(inbox_nofile_calm(&e, 100000 + INBOX_NOFILE_CALM_MS), 1);
}


RUN_TESTS()
