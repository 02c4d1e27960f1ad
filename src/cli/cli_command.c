/* The command line as a shell would take it back, for the output model's
 * metadata and the report: arguments with anything but safe characters
 * are single-quoted. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int plain(const char *a)
{
    if (!*a)
        return 0;
    for (; *a; a++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789-_./=:,+@%", *a))
            return 0;
    return 1;
}

char *cli_command_line(int argc, char **argv)
{
    size_t n = sizeof "onnxtd";
    for (int i = 0; i < argc; i++)
        n += 3 + 4 * strlen(argv[i]);  /* each ' becomes '\'' */
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    p = stpcpy(p, "onnxtd");
    for (int i = 0; i < argc; i++) {
        *p++ = ' ';
        if (plain(argv[i])) {
            p = stpcpy(p, argv[i]);
            continue;
        }
        *p++ = '\'';
        for (const char *a = argv[i]; *a; a++)
            p = *a == '\'' ? stpcpy(p, "'\\''") : (*p = *a, p + 1);
        *p++ = '\'';
    }
    *p = '\0';
    return s;
}
