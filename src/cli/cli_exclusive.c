/* Options that exclude each other, named both when given together: the
 * library only knows that its fields clash, the command line knows which
 * flags the user typed. */
#include <string.h>

#include "cli.h"

/* The group ("--a|--b") that arg belongs to, with the flag it matched in
 * *flag; -1 when none. */
static int group_of(const char *arg, const char *const *groups,
                    char *flag, size_t cap)
{
    for (int g = 0; groups[g]; g++)
        for (const char *p = groups[g]; *p;) {
            size_t n = strcspn(p, "|");
            if (n < cap) {
                memcpy(flag, p, n);
                flag[n] = '\0';
                if (cli_is(arg, flag))
                    return g;
            }
            p += n + (p[n] == '|');
        }
    return -1;
}

int cli_exclusive(int argc, char **argv, const char *const *groups)
{
    enum { FLAG_MAX = 64 };
    char first[FLAG_MAX] = "", flag[FLAG_MAX];
    int first_group = -1;
    for (int i = 1; i < argc; i++) {
        int g = group_of(argv[i], groups, flag, sizeof flag);
        if (g < 0)
            continue;
        if (first_group < 0) {
            first_group = g;
            strcpy(first, flag);
        } else if (g != first_group) {
            cli_error("%s and %s exclude each other", first, flag);
            return -1;
        }
    }
    return 0;
}
