/* The chosen factors as they will be written: in the layer's dtype. */
#ifndef TD_FIT_H
#define TD_FIT_H

#include "td_factor.h"

/* Brings f into the layer's dtype (decompose/td_range.h): moves the
 * factors' scales where one would overflow or flush to subnormals, rounds
 * every value as the file will hold it, and after a rescale, or for a
 * 16-bit dtype when the error is below 1e-2 (where the rounding shows),
 * sets f->rel_error to the error of the chain as written (against
 * w, output-weighted like td_factor_layer's when b carries statistics).
 * bias: the layer's bias tensor or NULL (checked with f->bias_shift added).
 * When some value cannot be represented, *refusal is set (static text) and
 * the layer must be kept; errors are for allocation and LAPACK only. */
td_status td_fit_dtype(const td_layer *l, const double *w, const td_factor_request *b,
                       const Onnx__TensorProto *bias, td_factors *f,
                       const char **refusal, td_err_t *err);

#endif
