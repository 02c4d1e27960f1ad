/* Inspection entry points beyond include/onnxtd.h: model info with values
 * for symbolic input dimensions (the CLI's --dim). Same conventions as the
 * public API; a candidate for it. */
#ifndef API_INSPECT_H
#define API_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "onnxtd.h"

typedef struct onnxtd_dim_value {
    const char *name;  /* a dim_param of the graph inputs */
    int64_t value;
} onnxtd_dim_value;

/* onnxtd_model_info with dims[0..n_dims) giving symbolic dims a value. */
onnxtd_status onnxtd_model_info_dims(onnxtd_model *m, int json,
                                     const onnxtd_dim_value *dims,
                                     size_t n_dims, char **out,
                                     onnxtd_error *err);

#endif
