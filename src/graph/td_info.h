/* A description of a model for people and scripts: header fields, inputs
 * and outputs, op counts, parameters by dtype, and per convolution its
 * geometry, parameters and multiply-accumulates. */
#ifndef TD_INFO_H
#define TD_INFO_H

#include "td_model.h"
#include "td_shape.h"

typedef struct td_info_opts {
    const td_dim_value *dims;  /* values for symbolic input dims; borrowed */
    size_t n_dims;
} td_info_opts;

/* *out (malloc'd, caller frees) is JSON when json != 0, else text. opts
 * may be NULL. The model is not changed (its arena may grow). */
td_status td_info_describe(td_model *m, const td_info_opts *opts, int json,
                           char **out, td_err_t *err);

#endif
