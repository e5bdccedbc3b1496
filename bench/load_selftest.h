/*
 * webhook-load --selftest: the signature against Twilio's worked example,
 * the generated requests against an independent reading of them, and the
 * response parser on the shapes servers answer with.
 */
#ifndef LOAD_SELFTEST_H
#define LOAD_SELFTEST_H

/* Prints each failure and a summary to stdout; 0 when all passed. */
int load_selftest(void);

#endif
