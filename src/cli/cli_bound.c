/* --max-error, --min-agreement, --min-iou: a number, or "off" for no bound. */
#include <string.h>

#include "cli.h"

int cli_parse_bound(int argc, char **argv, int *i, const char *opt,
                    double max, double *out)
{
    const char *v = cli_value(argc, argv, i, opt);
    if (v && !strcmp(v, "off")) {
        *out = -1;
        return 0;
    }
    if (!v || cli_parse_double(v, out) || !(*out > 0 && *out <= max)) {
        cli_error("%s needs a number in (0, %g] or 'off'", opt, max);
        return -1;
    }
    return 0;
}
