/*
 * Which build a program runs, for its log: `git describe --always
 * --dirty` of the tree libinbox was built from ("unknown" outside a git
 * checkout).  nginx's reload keeps a module it has loaded already
 * (README.md, "Upgrading"), so each worker says which build it runs.
 */
#ifndef INBOX_BUILD_H
#define INBOX_BUILD_H

const char *inbox_build(void);

#endif
