#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("onnxtd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_exit_for(onnxtd_status s)
{
    return s == ONNXTD_OK ? CLI_OK : s == ONNXTD_EUSAGE ? CLI_USAGE : CLI_FAIL;
}

int cli_parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1ull << 10, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1ull << 20, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1ull << 30, end++;
    if (*end || v > SIZE_MAX / mul)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

int cli_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v != v)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_state(const char *v, onnxtd_state_pair *out)
{
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || !eq[1]) {
        cli_error("--state needs INPUT=OUTPUT (the output fed back to the "
                  "input at the next step), not '%s'", v);
        return -1;
    }
    char *in = strdup(v);
    if (!in) {
        cli_error("out of memory");
        return -1;
    }
    in[eq - v] = '\0';
    *out = (onnxtd_state_pair){in, in + (eq - v) + 1};
    return 0;
}

int cli_parse_i64(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

int cli_is(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

const char *cli_value(int argc, char **argv, int *i, const char *name)
{
    const char *eq = strchr(argv[*i], '=');
    if (eq)
        return eq + 1;
    if (*i + 1 >= argc) {
        cli_error("%s needs a value", name);
        return NULL;
    }
    return argv[++*i];
}

void cli_io_init(cli_io *io)
{
    memset(io, 0, sizeof *io);
    io->so.size_threshold = 1024;
}

int cli_io_arg(int argc, char **argv, int *i, const char *cmd, cli_io *io)
{
    const char *a = argv[*i], *v;
    if (!strcmp(a, "-o") || cli_is(a, "--output")) {
        if (!(io->out = cli_value(argc, argv, i, "-o")))
            return -1;
    } else if (cli_is(a, "--external-data")) {
        if (!(io->so.external_data = cli_value(argc, argv, i, a)))
            return -1;
    } else if (!strcmp(a, "--in-place")) {
        io->in_place = 1;
    } else if (cli_is(a, "--size-threshold")) {
        v = cli_value(argc, argv, i, "--size-threshold");
        if (!v || cli_parse_size(v, &io->so.size_threshold)) {
            cli_error("--size-threshold needs a byte count");
            return -1;
        }
    } else if (cli_is(a, "--mem-limit")) {
        v = cli_value(argc, argv, i, "--mem-limit");
        if (!v || cli_parse_size(v, &io->lo.mem_limit) || !io->lo.mem_limit) {
            cli_error("--mem-limit needs a positive byte count");
            return -1;
        }
    } else if (a[0] == '-' && a[1]) {
        cli_error("%s: unknown option '%s'", cmd, a);
        return -1;
    } else if (!io->in) {
        io->in = a;
    } else {
        cli_error("%s: unexpected argument '%s'", cmd, a);
        return -1;
    }
    return 0;
}

int cli_io_done(cli_io *io, const char *cmd)
{
    if (io->in_place && !io->out)
        io->out = io->in;
    if (!io->in)
        cli_error("%s: no input model given", cmd);
    else if (!io->out)
        cli_error("%s: -o is required (or --in-place to replace the input)",
                  cmd);
    return io->in && io->out ? 0 : -1;
}

onnxtd_status cli_io_save(const cli_io *io, onnxtd_model *m,
                          onnxtd_error *err)
{
    onnxtd_outputs o = {.model = m, .model_path = io->out, .save = &io->so,
                        .in_place = io->in_place};
    return onnxtd_outputs_write(&o, err);
}
