/*
 * The build's name, given by libinbox/build.mk (INBOX_BUILD_ID).
 */
#include <inbox/build.h>

#ifndef INBOX_BUILD_ID
#define INBOX_BUILD_ID  "unknown"
#endif


const char *
inbox_build(void)
{
    return INBOX_BUILD_ID;
}
