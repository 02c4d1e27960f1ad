#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util/td_mem.h"

static const char usage[] =
    "usage: onnxtd COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  convert IN -o OUT [--external-data NAME] [--size-threshold BYTES]\n"
    "      rewrite a model losslessly (inline or move tensors to NAME)\n"
    "  info MODEL [--json]\n"
    "      IR version, opsets, inputs/outputs, op counts, parameters, convs\n"
    "  diff A B [--json] [--atol A] [--rtol R] [--ignore WHAT]\n"
    "      compare two models by meaning; exit 0 same, 1 different, 2 error\n"
    "  compress IN -o OUT [--method auto|tucker2|cp|svd|tr|rsdtr]\n"
    "           [--rank N | --ratio R | --tol E] [--include RE] [--exclude RE]\n"
    "           [--force] [--no-fold-bn] [--report FILE.json]\n"
    "      replace layers by chains of smaller ones built from factors\n"
    "  stats-model IN -o OUT\n"
    "      a copy of IN that also outputs its layers' input statistics, for\n"
    "      calibration in ONNX Runtime (tools/ort/calib_stats.js)\n"
    "  eval A [B] --inputs SRC [--rtol R] [--min-cosine C] [--json]\n"
    "      run A and B in ONNX Runtime on the same inputs: output deviation,\n"
    "      top-1 agreement, latency; one model: against its stored outputs\n"
    "\n"
    "Run 'onnxtd COMMAND --help' for a command's options.\n";

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
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--version")) {
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
        if (!strcmp(cmd, cmds[i].name))
            return fault_report(cmds[i].run(argc - 1, argv + 1));
    cli_error("unknown command '%s'", cmd);
    fputs(usage, stderr);
    return CLI_USAGE;
}
