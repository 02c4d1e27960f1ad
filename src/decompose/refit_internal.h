/* What the two refit solves share (refit.c, refit_chain.c); not part of
 * the public numerics interface. An accumulator's "z" side is whatever
 * the fitted map reads: the chain's inner value for the last factor
 * alone, the chain's input for the whole chain. */
#ifndef TD_REFIT_INTERNAL_H
#define TD_REFIT_INTERNAL_H

#include "td_refit.h"

/* E||y - A z - b||^2 from the sums; A is cout x r, b NULL counts as 0. */
double td_refit_mse(const td_refit_acc *a, const double *A, const double *b);

/* 0 when the sums hold NaN or Inf. */
int td_refit_sums_finite(const td_refit_acc *a);

/* m (r x r) <- the (centred when centre) second moment of z plus lambda I;
 * rhs (r x cout, the transpose of the map) <- the (centred) cross moment
 * plus lambda a0, for the solve M A^T = rhs. lambda = rel_lambda x the
 * mean eigenvalue of z's second moment (1 when z never varies: only the
 * prior speaks); returns it. */
double td_refit_system(const td_refit_acc *a, const double *a0, int centre,
                       double rel_lambda, double *m, double *rhs);

/* b_out (cout) <- E[y] - m E[z]: the bias that goes with the map m. */
void td_refit_bias(const td_refit_acc *a, const double *m, double *b_out);

/* The whole chain's factors as td_refit_solve_chain finds them (centre:
 * the fit has a bias), and prod (cout x cin) <- left right, without the
 * bias and the errors: the cross-validation's candidates need only the
 * map. */
td_status td_refit_chain_fit(const td_refit_acc *a, const double *g0,
                             int centre, int64_t r, double rel_lambda,
                             double *left, double *right, double *prod,
                             td_err_t *err);

/* With the fitted map m (cout x r): b_out <- E[y] - m E[z] when b0 (the
 * fit has a bias); *before / *after <- the relative squared error of
 * (m0, b0) and of (m, b_out). */
void td_refit_finish(const td_refit_acc *a, const double *m0,
                     const double *b0, const double *m, double *b_out,
                     double *before, double *after);

#endif
