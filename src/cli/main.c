#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util/td_mem.h"

/* Under ONNXTD_FAIL_ALLOC=N (util/td_mem.h) says whether the Nth allocation
 * was reached, so that a test looping over N knows when it has seen them
 * all. */
static int fault_report(int rc)
{
    td_mem_fault_stats st;
    td_mem_fault_stats_get(&st);
    if (st.armed)
        fprintf(stderr,
                "onnxtd: fault injection: allocation %llu %s, %llu counted\n",
                (unsigned long long)st.fail_at,
                st.fired ? "failed" : "not reached",
                (unsigned long long)st.count);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(cli_help_usage, stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    /* "onnxtd help CMD" is "onnxtd CMD --help" */
    char help_flag[] = "--help";
    char *help_argv[4] = {argv[0], argc > 2 ? argv[2] : NULL, help_flag, NULL};
    if (!strcmp(cmd, "help") && argc > 2) {
        cmd = argv[2];
        argc = 3;
        argv = help_argv;
    } else if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
               !strcmp(cmd, "help")) {
        fputs(cli_help_usage, stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("onnxtd %s\n", onnxtd_version());
        return CLI_OK;
    }
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } cmds[] = {
        {"convert", cmd_convert},
        {"info", cmd_info},
        {"diff", cmd_diff},
        {"compress", cmd_compress},
        {"stats-model", cmd_stats_model},
        {"eval", cmd_eval},


    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (!strcmp(cmd, cmds[i].name)) {
            int rc = cmds[i].run(argc - 1, argv + 1);
            /* a usage error is one line, then where the help is (diff's
             * 2 is any error: it points to its help itself) */
            if (rc == CLI_USAGE && strcmp(cmd, "diff"))
                fprintf(stderr, "see 'onnxtd %s --help'\n", cmd);
            return fault_report(rc);
        }
    cli_error("unknown command '%s'", cmd);
    fputs("see 'onnxtd --help'\n", stderr);
    return CLI_USAGE;
}
