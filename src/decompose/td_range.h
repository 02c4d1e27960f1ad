/* Factors written in a narrow floating-point format (float16 holds no value
 * above 65504). A chain's factors multiply, so they may trade positive
 * scalars without changing the chain: W = A B = (A c)(B / c). The numerics
 * return factors whose scale sits wherever the algorithm left it (an
 * orthonormal basis and a core holding all of ||W||, say), and a weight
 * that fits float16 can have a core that does not. These functions move the
 * scales by powers of two (exact in binary, so only the range changes),
 * round every value to the format, and say when a value still overflows.
 * Knows no ONNX: the caller describes the format. */
#ifndef TD_RANGE_H
#define TD_RANGE_H

#include "td_decompose.h"

typedef struct td_format {
    double max_finite;         /* largest finite value (65504 for float16) */
    double min_normal;         /* smallest normal value (2^-14 for float16) */
    double (*round)(double x); /* x as stored and read back (+-Inf above the
                                  range, 0 or subnormal below it) */
} td_format_t;

/* How much a factor may lose below min_normal before its scales are
 * moved. Below the normal range a value keeps an absolute error of half
 * the quantum there, min_normal x 2^-p (or flushes to zero, losing at most
 * as much), where a normal value keeps a relative error of 2^-p. So with
 * n_low such values the loss is at most sqrt(n_low) min_normal 2^-p, and
 * the factor's own rounding about ||F|| 2^-p: the scales move when
 * sqrt(n_low) min_normal > TD_RANGE_FLUSH ||F||, i.e. when subnormals could
 * add a tenth of the format's own rounding error. (A few subnormals in a
 * large core, common in float16 models, stay as they are.) */
#define TD_RANGE_FLUSH 0.1

/* For each decomposition: when some factor overflows fmt or loses more
 * than TD_RANGE_FLUSH allows below min_normal, equalises the factors'
 * largest magnitudes in the log domain (per component where the chain
 * allows it: SVD and CP components, else per factor) and sets *balanced;
 * factors that fit are left alone, so their bytes stay what they were. Then
 * rounds every value to fmt in place. TD_ENUMERIC (naming the factor) when
 * some value still overflows after that. */
td_status td_svd_fit_format(td_svd_t *s, const td_format_t *fmt, int *balanced,
                            td_err_t *err);
td_status td_tucker2_fit_format(td_tucker2_t *t, const td_format_t *fmt,
                                int *balanced, td_err_t *err);
td_status td_cp_fit_format(td_cp_t *c, const td_format_t *fmt, int *balanced,
                           td_err_t *err);
td_status td_tr_fit_format(td_tr_t *tr, const td_format_t *fmt, int *balanced,
                           td_err_t *err);

/* Dense reconstructions in the decomposed tensor's layout (full is
 * caller-allocated: m x n for SVD, cout x cin x k for Tucker-2, prod(dims)
 * for CP). td_tr_full covers the tensor ring. */
void td_svd_full(const td_svd_t *s, double *full);
td_status td_tucker2_full(const td_tucker2_t *t, double *full, td_err_t *err);
td_status td_cp_full(const td_cp_t *c, double *full, td_err_t *err);

#endif
