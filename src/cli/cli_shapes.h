/* --dim NAME=VALUE and --input-shape INPUT:D1,D2,... as info, compress
 * and eval take them (cli_shapes.c). */
#ifndef CLI_SHAPES_H
#define CLI_SHAPES_H

#include "cli.h"

/* Input shapes one command takes: a bound for the arrays that hold them,
 * far above the inputs of any model seen. */
enum { CLI_MAX_SHAPES = 64, CLI_MAX_AXES = 16 };

typedef struct cli_shapes {
    /* the values given, then (cli_shapes_resolve) those the input shapes
     * give; the first n_given names are owned */
    onnxtd_dim_value dims[CLI_MAX_DIMS];
    size_t n_dims, n_given;
    onnxtd_input_shape shapes[CLI_MAX_SHAPES];  /* input names owned */
    int64_t axes[CLI_MAX_SHAPES][CLI_MAX_AXES];
    size_t n_shapes;
} cli_shapes;

/* Takes argv[*i] when it is --dim or --input-shape (with its value; the
 * caller checked with cli_shapes_is): 0, or -1 after printing a usage
 * error. */
int cli_shapes_is(const char *arg);
int cli_shapes_arg(int argc, char **argv, int *i, cli_shapes *s);
/* Checks the names given against m and adds the input shapes' dims. */
onnxtd_status cli_shapes_resolve(cli_shapes *s, onnxtd_model *m,
                                 onnxtd_error *err);
void cli_shapes_free(cli_shapes *s);

#endif
