/* Refitting a chain's last factor to the original layer's output (numerics
 * only): the asymmetric reconstruction of Zhang et al. (TPAMI 2016, sec. 4)
 * and SVD-LLM, for the part of a chain that is linear in its last factor.
 *
 * A compressed chain computes y~ = A z + b, where z = inner(x^) is what its
 * earlier factors make of the input x^ the (already compressed) model gives
 * it, A (cout x r) is the last pointwise factor and b the bias. The
 * original layer gives y = W x + b0 on the original model's input x. Over
 * the calibration positions (both models run on the same samples, y and z
 * taken at the same output position), the ridge least squares
 *
 *     min_{A, b}  E||y - A z - b||^2 + lambda ||A - A0||_F^2
 *
 * (A0 the factor as decomposed: the prior the few calibration samples are
 * pulled toward) has, with C_zz = Cov(z), C_yz = Cov(y, z),
 *
 *     A = (C_yz + lambda A0) (C_zz + lambda I)^{-1},   b = E[y] - A E[z],
 *
 * and without a bias the same with the uncentred moments and b = 0. Since
 * A0 is feasible, the solution's calibration error is never above A0's
 * (with b at its best). lambda = rel_lambda x trace(C_zz) / r keeps the
 * solve well posed where the samples excite fewer than r directions of z
 * (a head seeing one vector per sample). */
#ifndef TD_REFIT_H
#define TD_REFIT_H

#include <stdint.h>

#include "../util/td_err.h"

/* The default rel_lambda: small next to the spectrum of z's covariance
 * (1 % of its mean eigenvalue), so the data decide where they speak, and
 * directions they never excite keep A0. */
#define TD_REFIT_REL_LAMBDA 0.01

/* The sums over positions of one chain's output pair (y, z). */
typedef struct td_refit_acc {
    int64_t cout, r;
    double *syz;    /* cout x r: sum y z^T */
    double *szz;    /* r x r:    sum z z^T */
    double *sy;     /* cout */
    double *sz;     /* r */
    double syy;     /* sum ||y||^2 */
    double count;   /* positions */
} td_refit_acc;

td_status td_refit_acc_init(td_refit_acc *a, int64_t cout, int64_t r,
                            td_err_t *err);
void td_refit_acc_free(td_refit_acc *a);

/* Adds p positions: y is cout x p and z r x p, channel-major (row c holds
 * channel c at the p positions, row stride p). */
void td_refit_acc_add(td_refit_acc *a, const double *y, const double *z,
                      int64_t p);

/* The refitted factor. a0: cout x r (row-major), the factor as it is; b0:
 * its cout bias, or NULL to fit without one (b stays 0). Writes a_out
 * (cout x r) and, with b0, b_out (cout). *before and *after get the
 * relative squared error E||y - A z - b||^2 / E||y||^2 on the sums, of
 * (A0, b0) and of the result (0 when E||y||^2 is). TD_EINPUT when the sums
 * hold NaN/Inf or no position, naming what. */
td_status td_refit_solve(const td_refit_acc *a, const double *a0,
                         const double *b0, double rel_lambda, double *a_out,
                         double *b_out, double *before, double *after,
                         td_err_t *err);

#endif
