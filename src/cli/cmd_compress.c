#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: onnxtd compress IN -o OUT [options]\n"
    "\n"
    "Replaces Conv layers (and Gemm/MatMul with constant weights) by chains\n"
    "of smaller layers built from tensor-decomposition factors.\n"
    "\n"
    "  --method M        auto (default: per layer the best of the methods\n"
    "                    below), tucker2, cp, svd (1x1 Conv, Gemm, MatMul),\n"
    "                    tr (tensor ring, TR-SVD), rsdtr (reduced-storage TR)\n"
    "  --rank N          rank N for each factored mode (capped by the size)\n"
    "  --ratio R         per layer, the largest ranks whose chain keeps at\n"
    "                    most R x the layer's parameters (default 0.5)\n"
    "  --tol E           per layer, the smallest chain whose relative\n"
    "                    Frobenius error is at most E (0: exact)\n"
    "  --include RE      only layers whose node name matches (POSIX ERE)\n"
    "  --exclude RE      skip layers whose node name matches\n"
    "  --force           keep chains even when not smaller than the layer\n"
    "  --no-fold-bn      do not fold BatchNormalization into the Conv before\n"
    "  --report FILE     write the JSON report to FILE\n"
    "  --threads N       layers factored in parallel (default: all CPUs)\n"
    "  --quiet           no summary table on stderr\n"
    "  --sweeps N        cap on HOOI / ALS sweeps (default 10)\n"
    "  --fit-tol F       stop sweeping when the relative fit changes by less\n"
    "                    than F (default 1e-4)\n"
    "  --external-data NAME, --size-threshold BYTES  as for convert\n";

static int parse_method(const char *v, onnxtd_method *m)
{
    static const struct { const char *name; onnxtd_method m; } t[] = {
        {"auto", ONNXTD_METHOD_AUTO}, {"tucker2", ONNXTD_METHOD_TUCKER2},
        {"cp", ONNXTD_METHOD_CP}, {"svd", ONNXTD_METHOD_SVD},
        {"tr", ONNXTD_METHOD_TR}, {"rsdtr", ONNXTD_METHOD_RSDTR}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (!strcmp(v, t[i].name)) {
            *m = t[i].m;
            return 0;
        }
    return -1;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n;
    bad |= fclose(f) != 0;
    return bad ? -1 : 0;
}

int cmd_compress(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *report_path = NULL, *v;
    int quiet = 0;
    onnxtd_compress_options co = {0};
    onnxtd_save_options so = {NULL, 1024};
    long long ll;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return CLI_OK;
        } else if (!strcmp(a, "-o") || cli_is(a, "--output")) {
            if (!(out = cli_value(argc, argv, &i, "-o")))
                return CLI_USAGE;
        } else if (cli_is(a, "--method")) {
            if (!(v = cli_value(argc, argv, &i, "--method")))
                return CLI_USAGE;
            if (parse_method(v, &co.method)) {
                cli_error("--method: unknown method '%s'", v);
                return CLI_USAGE;
            }
        } else if (cli_is(a, "--rank")) {
            if (!(v = cli_value(argc, argv, &i, "--rank")) ||
                cli_parse_i64(v, &ll) || ll < 1) {
                cli_error("--rank needs a positive integer");
                return CLI_USAGE;
            }
            co.rank = ll;
        } else if (cli_is(a, "--ratio")) {
            if (!(v = cli_value(argc, argv, &i, "--ratio")) ||
                cli_parse_double(v, &co.ratio) || !(co.ratio > 0 && co.ratio <= 1)) {
                cli_error("--ratio needs a number in (0, 1]");
                return CLI_USAGE;
            }
        } else if (cli_is(a, "--tol")) {
            if (!(v = cli_value(argc, argv, &i, "--tol")) ||
                cli_parse_double(v, &co.tol) || !(co.tol >= 0 && co.tol < 1)) {
                cli_error("--tol needs a number in [0, 1)");
                return CLI_USAGE;
            }
            co.use_tol = 1;
        } else if (cli_is(a, "--include")) {
            if (!(co.include = cli_value(argc, argv, &i, "--include")))
                return CLI_USAGE;
        } else if (cli_is(a, "--exclude")) {
            if (!(co.exclude = cli_value(argc, argv, &i, "--exclude")))
                return CLI_USAGE;
        } else if (!strcmp(a, "--force")) {
            co.force = 1;
        } else if (!strcmp(a, "--no-fold-bn")) {
            co.no_fold_bn = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (cli_is(a, "--report")) {
            if (!(report_path = cli_value(argc, argv, &i, "--report")))
                return CLI_USAGE;
        } else if (cli_is(a, "--threads")) {
            if (!(v = cli_value(argc, argv, &i, "--threads")) ||
                cli_parse_i64(v, &ll) || ll < 1 || ll > 64) {
                cli_error("--threads needs an integer from 1 to 64");
                return CLI_USAGE;
            }
            co.threads = (int)ll;
        } else if (cli_is(a, "--sweeps")) {
            if (!(v = cli_value(argc, argv, &i, "--sweeps")) ||
                cli_parse_i64(v, &ll) || ll < 1 || ll > 100000) {
                cli_error("--sweeps needs a positive integer");
                return CLI_USAGE;
            }
            co.max_sweeps = (int)ll;
        } else if (cli_is(a, "--fit-tol")) {
            if (!(v = cli_value(argc, argv, &i, "--fit-tol")) ||
                cli_parse_double(v, &co.fit_tol) || !(co.fit_tol > 0)) {
                cli_error("--fit-tol needs a positive number");
                return CLI_USAGE;
            }
        } else if (cli_is(a, "--external-data")) {
            if (!(so.external_data = cli_value(argc, argv, &i, a)))
                return CLI_USAGE;
        } else if (cli_is(a, "--size-threshold")) {
            v = cli_value(argc, argv, &i, "--size-threshold");
            if (!v || cli_parse_size(v, &so.size_threshold)) {
                cli_error("--size-threshold needs a byte count");
                return CLI_USAGE;
            }
        } else if (a[0] == '-' && a[1]) {
            cli_error("compress: unknown option '%s'", a);
            return CLI_USAGE;
        } else if (!in) {
            in = a;
        } else {
            cli_error("compress: unexpected argument '%s'", a);
            return CLI_USAGE;
        }
    }
    if (!in || !out) {
        fputs(help, stderr);
        return CLI_USAGE;
    }
    if ((co.rank > 0) + (co.ratio > 0) + co.use_tol > 1) {
        cli_error("give at most one of --rank, --ratio and --tol");
        return CLI_USAGE;
    }
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    char *report = NULL, *summary = NULL;
    onnxtd_status s = onnxtd_model_load(in, NULL, &m, &err);
    if (s == ONNXTD_OK)
        s = onnxtd_compress(m, &co, &report, &summary, &err);
    if (s == ONNXTD_OK)
        s = onnxtd_model_save(m, out, &so, &err);
    if (s != ONNXTD_OK) {
        cli_error("%s", err.message);
    } else {
        if (!quiet && summary)
            fputs(summary, stderr);
        if (report_path && write_text(report_path, report)) {
            cli_error("%s: cannot write the report", report_path);
            s = ONNXTD_EIO;
        }
    }
    free(report);
    free(summary);
    onnxtd_model_free(m);
    return cli_exit_for(s);
}
