/* Symbolic dims by name (--dim H=640) or whole input shapes by input name
 * (--input-shape x:1,3,640,640, the form onnxsim and Polygraphy take;
 * several in one value separated by spaces). Names are checked against
 * the model by the library once it is loaded. */
#include <stdlib.h>
#include <string.h>

#include "cli_shapes.h"

int cli_shapes_is(const char *arg)
{
    return cli_is(arg, "--dim") || cli_is(arg, "--input-shape");
}

static int take_dim(cli_shapes *s, const char *v)
{
    const char *eq = strrchr(v, '=');
    long long n;
    if (!eq || eq == v || cli_parse_i64(eq + 1, &n) || n < 0) {
        cli_error("--dim needs NAME=VALUE with VALUE >= 0, not '%s'", v);
        return -1;
    }
    if (s->n_dims == CLI_MAX_DIMS) {
        cli_error("at most %d --dim options", CLI_MAX_DIMS);
        return -1;
    }
    char *name = strndup(v, (size_t)(eq - v));
    if (!name) {
        cli_error("out of memory");
        return -1;
    }
    s->dims[s->n_dims].name = name;
    s->dims[s->n_dims++].value = n;
    s->n_given = s->n_dims;
    return 0;
}

/* One "INPUT:D1,D2,..." of length len (the input name may hold ':'). */
static int take_shape(cli_shapes *s, const char *v, size_t len)
{
    const char *colon = NULL;
    for (size_t k = 0; k < len; k++)
        if (v[k] == ':')
            colon = v + k;
    if (!colon || colon == v || colon + 1 == v + len) {
        cli_error("--input-shape needs INPUT:D1,D2,... , not '%.*s'",
                  (int)len, v);
        return -1;
    }
    if (s->n_shapes == CLI_MAX_SHAPES) {
        cli_error("at most %d input shapes", CLI_MAX_SHAPES);
        return -1;
    }
    onnxtd_input_shape *sh = &s->shapes[s->n_shapes];
    int64_t *axes = s->axes[s->n_shapes];
    size_t n = 0;
    for (const char *p = colon + 1; p < v + len;) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || n == CLI_MAX_AXES ||
            (end < v + len && *end != ',') || (*end == ',' && end + 1 == v + len)) {
            cli_error("--input-shape: '%.*s': dimensions are whole numbers "
                      ">= 0 separated by commas (at most %d)", (int)len, v,
                      CLI_MAX_AXES);
            return -1;
        }
        axes[n++] = d;
        p = end < v + len ? end + 1 : end;
    }
    char *input = strndup(v, (size_t)(colon - v));
    if (!input) {
        cli_error("out of memory");
        return -1;
    }
    *sh = (onnxtd_input_shape){input, axes, n};
    s->n_shapes++;
    return 0;
}

int cli_shapes_arg(int argc, char **argv, int *i, cli_shapes *s)
{
    int dim = cli_is(argv[*i], "--dim");
    const char *v = cli_value(argc, argv, i, dim ? "--dim" : "--input-shape");
    if (!v)
        return -1;
    if (dim)
        return take_dim(s, v);
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, " ");
        if (len && take_shape(s, p, len))
            return -1;
        p += len + (p[len] == ' ');
    }
    return 0;
}

onnxtd_status cli_shapes_resolve(cli_shapes *s, onnxtd_model *m,
                                 onnxtd_error *err)
{
    return onnxtd_input_dims(m, s->shapes, s->n_shapes, s->dims, &s->n_dims,
                             CLI_MAX_DIMS, err);
}

void cli_shapes_free(cli_shapes *s)
{
    for (size_t q = 0; q < s->n_given; q++)
        free((char *)s->dims[q].name);
    for (size_t q = 0; q < s->n_shapes; q++)
        free((char *)s->shapes[q].input);
    s->n_dims = s->n_given = s->n_shapes = 0;
}
