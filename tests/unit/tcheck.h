/* A tiny test harness that can fail: every CHECK that fails is printed with
 * its place, and main returns non-zero when any did. */
#ifndef TCHECK_H
#define TCHECK_H
#include <stdio.h>

static int tcheck_failures;
static int tcheck_count;

#define CHECK(cond)                                                            \
    do {                                                                       \
        tcheck_count++;                                                        \
        if (!(cond)) {                                                         \
            tcheck_failures++;                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
        }                                                                      \
    } while (0)

#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        tcheck_count++;                                                        \
        if (!(cond)) {                                                         \
            tcheck_failures++;                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__,   \
                    #cond);                                                    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

#define TCHECK_DONE()                                                          \
    (fprintf(stderr, "%d checks, %d failed\n", tcheck_count, tcheck_failures), \
     tcheck_failures ? 1 : 0)

#endif
