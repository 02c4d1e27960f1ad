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

/* The rel_lambda where cross-validation cannot choose (refit_cv.c: fewer
 * than two folds of calibration inputs): small next to the spectrum of z's
 * covariance (1 % of its mean eigenvalue), so the data decide where they
 * speak, and directions they never excite keep A0. */
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

/* The whole two-factor chain refitted (refit_chain.c): for a chain
 * y~ = L R x^ + b whose first factor R (r x cin) reads the input x^
 * directly at the output's positions (a pointwise map), both factors are
 * chosen together. The sums are those of (y, x^), cin on the z side. With
 * C = Cov(x^) + lambda I and G = (Cov(y, x^) + lambda G0) C^{-1} (G0 =
 * L0 R0, the chain as decomposed; lambda = rel_lambda x the mean eigenvalue
 * of Cov(x^)), the ridge objective
 *
 *     E||y - M x^ - b||^2 + lambda ||M - G0||_F^2
 *
 * equals ||(M - G) C^{1/2}||_F^2 plus a constant, so its minimum over
 * M = L R of rank r is G's truncated SVD in that norm (reduced-rank
 * regression): with C = K K^T (Cholesky), H = G K = U S V^T, L = U_r
 * S_r^{1/2}, R = S_r^{1/2} V_r^T K^{-1}, and b = E[y] - L R E[x^]. It can
 * also re-choose which r directions of x^ the chain keeps, where the last
 * factor alone only re-mixes the r it was given; G0 being feasible, the
 * regularised objective is never above the chain's as decomposed. Without
 * b0 (a MatMul: no bias) the same with uncentred moments and b = 0.
 *
 * g0: cout x cin; left: cout x r; right: r x cin; b_out: cout (with b0).
 * *before / *after as td_refit_solve, of (G0, b0) and of the result. */
td_status td_refit_solve_chain(const td_refit_acc *a, const double *g0,
                               const double *b0, int64_t r,
                               double rel_lambda, double *left,
                               double *right, double *b_out, double *before,
                               double *after, td_err_t *err);

/* ---- the ridge strength by cross-validation (refit_cv.c) ----------------
 * The calibration inputs split into folds (sums gathered per fold): each
 * candidate rel_lambda fits on all folds but one and is scored on that
 * one, in turn; the score is the squared error summed over the held-out
 * folds over their sum of ||y||^2. A ridge the data do not support is
 * not taken: few calibration inputs (PP-OCR det's 3 pages, cls's 12
 * crops) over-fit the fixed default (each chain's calibration error falls
 * while the model's held-out deviation rises), and there the largest
 * ridges win, which leave the chain nearly as decomposed. */
#define TD_REFIT_FOLDS 4

/* dst (initialised as the folds) <- the sum of folds[0..k) but fold skip
 * (skip >= k: all). */
void td_refit_acc_sum(td_refit_acc *dst, const td_refit_acc *folds, size_t k,
                      size_t skip);

/* *lambda <- the candidate rel_lambda with the lowest cross-validated
 * error, for the last factor (rank 0; a0 cout x r) or the whole chain
 * (rank r; a0 the chain's product, cout x cin, as td_refit_solve_chain's
 * g0); TD_REFIT_REL_LAMBDA when fewer than two folds hold positions (then
 * *cv_kept and *cv_best are NaN). *cv_kept: the chain as it is (a0, b0)
 * scored on each fold (its factors saw every fold: a score biased low);
 * *cv_best: the choice's score. */
td_status td_refit_choose(const td_refit_acc *folds, size_t k,
                          const double *a0, const double *b0, int64_t rank,
                          double *lambda, double *cv_kept, double *cv_best,
                          td_err_t *err);

#endif
