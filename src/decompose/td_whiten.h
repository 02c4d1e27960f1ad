/* Output-weighted factoring from activation statistics (numerics only).
 *
 * A layer y = W x (per kernel tap k, W_k is Cout x Cin) whose input has the
 * channel second-moment matrix M = E[x x^T] has expected squared output
 * error sum_k tr(dW_k M dW_k^T) = sum_k ||dW_k S||_F^2 with S = M^{1/2},
 * when the taps' inputs are treated as uncorrelated with each other (the
 * patch covariance approximated by M on its diagonal blocks). So factoring
 * the whitened weight W' = W x_1 S (every tap right-multiplied by S) with
 * the plain methods minimises the output error, and multiplying the factor
 * that touches Cin by S^{-1} maps the result back. Tucker-2, CP, SVD and
 * tensor-ring models are closed under an invertible map of the Cin mode, so
 * the chain's shapes and parameter counts do not change and the optimum of
 * the weighted problem lies in the same model class.
 *
 * S is built from M + lambda I with lambda = rel_lambda x trace(M) / n:
 * channels the calibration data never excites (dead ReLUs, M singular)
 * still get a small weight, so the factors stay bounded (S^{-1} at most
 * 1/sqrt(lambda)) and do not discard what unseen inputs would use.
 *
 * With the channel means mu known as well, the output error splits into
 * the mean shift dW mu and the part from the centred input, of expected
 * square tr(dW Sigma dW^T) with Sigma = M - mu mu^T <= M. The shift is the
 * same at every interior position, so the bias absorbs it exactly (at
 * zero-padded borders the taps that fall outside see 0 instead of mu, and
 * a part of the shift stays); the factors then only need to fit the
 * centred input: S is built from Sigma instead of M. */
#ifndef TD_WHITEN_H
#define TD_WHITEN_H

#include <stdint.h>

#include "../util/td_err.h"
#include "td_decompose.h"

/* The default rel_lambda: 10 % of the mean channel energy, chosen on
 * calibration images alone (moments from some, output error on others):
 * past 0.1 the held-out error barely falls. A few calibration images
 * describe the input distribution only roughly, and the regularisation
 * keeps the weight error in view (as rel_lambda grows the factors tend to
 * the data-free ones). It bounds S^{-1} at ~3.2 / sqrt(mean energy). */
#define TD_WHITEN_REL_LAMBDA 0.1

/* Taps. Neighbouring positions of a feature map are far from
 * uncorrelated (ISNet's: 0.72-0.94 between adjacent pixels), so an error
 * that is smooth across a kernel's taps costs more output than one that
 * alternates. With the patch covariance approximated as the Kronecker
 * product M x R_1 x R_2 (R_s: the k_s x k_s correlation of the taps along
 * spatial axis s, Toeplitz, from the input's autocorrelation along s at
 * the kernel's dilated lags, averaged over channels), the expected squared
 * output error is ||dW x_in S x_1 T_1 x_2 T_2||^2 with T_s = R_s^{1/2}. The
 * axes multiply separately, so every method whitens and unwhitens them on
 * its own factors (Tucker-2's core, CP's and the ring's spatial factors)
 * and stays in its model class. On ISNet's 3x3 convs at half their ranks it
 * lowered the held-out output error of Tucker-2 by 4-18 % against the
 * channels alone; the full 9 x 9 tap correlation did no better than the
 * separable one. T_s is built from R_s + lambda I (lambda the same
 * rel_lambda, R_s having a unit diagonal), over 1 + lambda: the
 * identity for uncorrelated taps, and less weight on the statistics as
 * rel_lambda grows, as for the channels. */
#define TD_TAPS_MAX_AXES 3

typedef struct td_taps_whiten {
    int nsp;                          /* 0: the taps are left unweighted */
    int64_t k[TD_TAPS_MAX_AXES];      /* kernel size per spatial axis */
    double *s[TD_TAPS_MAX_AXES];      /* k x k, T_s (NULL: this axis not) */
    double *s_inv[TD_TAPS_MAX_AXES];  /* k x k, its inverse */
} td_taps_whiten_t;

typedef struct td_whiten {
    int64_t n;
    double lambda;  /* added to M's eigenvalues */
    double *s;      /* n x n, (M + lambda I)^{1/2}, symmetric */
    double *s_inv;  /* n x n, its inverse, symmetric */
    td_taps_whiten_t taps;  /* the kernel taps' (td_taps_whiten_new) */
} td_whiten_t;

/* Builds S and S^{-1} from the n x n moment matrix m (row-major). Refuses
 * (TD_EINPUT, naming the entry or eigenvalue) a matrix with NaN/Inf, one
 * that is not symmetric (|m_ij - m_ji| > 1e-6 max|m|) or not positive
 * semidefinite (an eigenvalue below -1e-6 x the largest). An all-zero m
 * gives S = I. */
td_status td_whiten_new(const double *m, int64_t n, double rel_lambda,
                        td_whiten_t *out, td_err_t *err);

/* The checks td_whiten_new makes (finite, symmetric, positive
 * semidefinite up to rounding), cheaply: a Cholesky factorisation of
 * M + 1e-6 trace(M) I, which succeeds for every M td_whiten_new accepts
 * (its eigenvalue floor is -1e-6 x the largest <= trace). For statistics
 * of layers no whitening is built for, so a bad file is refused whatever
 * the plan keeps. */
td_status td_moment_check(const double *m, int64_t n, td_err_t *err);

/* The same from the covariance M - mu mu^T (mu: n channel means; lambda
 * relative to its trace). M is checked as above; the covariance's
 * eigenvalues above -1e-3 x M's largest are rounding of the runtime's float
 * sums and are clamped to 0, lower ones mean the mean does not belong to
 * the moment and are refused. */
td_status td_whiten_new_cov(const double *m, const double *mu, int64_t n,
                            double rel_lambda, td_whiten_t *out,
                            td_err_t *err);
void td_whiten_free(td_whiten_t *w);

/* Cross-validation of rel_lambda. How far a few calibration inputs
 * describe what the model will see differs by model and by layer (rec's
 * rendered lines are alike, ISNet's photos are not), and one value for
 * all served some models and cost others (bench/README.md, "How much
 * calibration trusts itself"). The calibration inputs can say it
 * themselves: with their statistics kept per fold (consecutive inputs),
 * each candidate rel_lambda factors the layer on every fold but one, and
 * the output error that leaves on the fold held out is summed over the
 * folds. The factoring is modelled by the two projections every method's
 * metric shapes: the input side keeps the best rank-r approximation of A
 * (Cin on the columns, outputs and taps on the rows) in the metric S; the
 * output side (Tucker-2's, with r_out) the leading r_out output
 * directions of sum_t W_t S^2 W_t^T; their errors add (as a Tucker
 * truncation's nearly do). The taps' weighting is left out. */

typedef struct td_whiten_fold {
    const double *m;   /* n x n: E[x x^T] over the fold's positions */
    const double *mu;  /* n: E[x] (needed when centred) */
    double weight;     /* its positions; 0: an empty fold */
} td_whiten_fold;

/* The candidates (borrowed, ascending); returns how many. */
size_t td_whiten_cv_grid(const double **values);

/* rel[g * nr + q]: the held-out output error of w (cout x cin x k) factored
 * at Cin rank ranks[q] (rising, within 1..cin) and, with 0 < r_out < cout,
 * at output rank r_out, in the metric of candidate g, summed over the
 * folds held out one at a time and divided by the output energy there.
 * centred: the metric is the covariance and the mean shift goes to the
 * bias (td_whiten_new_cov), so the held-out error is about the training
 * folds' mean. */
td_status td_whiten_cv_errors(const double *w, int64_t cout, int64_t cin,
                              int64_t k, const td_whiten_fold *f, size_t nf,
                              int centred, const int64_t *ranks, size_t nr,
                              int64_t r_out, double *rel, td_err_t *err);

/* The candidate with the lowest held-out error (*chosen = 1) at the ranks
 * the layer will be factored at: r_in on the input side (<= 0: a quarter
 * and a half of what the weight's rank allows, together) and r_out on the
 * output side (<= 0 or >= cout: none). TD_WHITEN_REL_LAMBDA (*chosen = 0)
 * when fewer than two folds have positions, or when a training set (all
 * folds but one) has no more positions than cin. */
td_status td_whiten_choose(const double *w, int64_t cout, int64_t cin,
                           int64_t k, const td_whiten_fold *f, size_t nf,
                           int centred, int64_t r_out, int64_t r_in,
                           double *rel_lambda, int *chosen, td_err_t *err);

/* T_s per spatial axis from acf (nsp rows of lags values, row-major):
 * acf[s][t] = E[sum_c x_c(p) x_c(p + t e_s)], the input's autocorrelation
 * along axis s at lag t (averaged over the positions where both exist). An
 * axis whose kernel is 1 wide or reaches past the lags given (dil[s] x
 * (k[s] - 1) >= lags), or without energy (acf[s][0] <= 0), is left
 * unweighted; with none left, out->nsp = 0 (no tap weighting). */
td_status td_taps_whiten_new(int nsp, const int64_t *k, const int64_t *dil,
                             const double *acf, int64_t lags, double rel_lambda,
                             td_taps_whiten_t *out, td_err_t *err);
void td_taps_whiten_free(td_taps_whiten_t *t);
/* x (lead, k_0, ..., k_{nsp-1}) row-major, in place: every spatial mode
 * times T_s (inverse: T_s^{-1}). Nothing when t->nsp is 0. */
td_status td_taps_mul(const td_taps_whiten_t *t, int inverse, double *x,
                      int64_t lead, td_err_t *err);
/* The same for axis s alone, of x (pre, k_s, post): a CP factor
 * (1, k_s, R) or a ring core (r, k_s, r'). */
td_status td_taps_mul_axis(const td_taps_whiten_t *t, int s, int inverse,
                           double *x, int64_t pre, int64_t post, td_err_t *err);

/* out[x, i, c] = sum_j t[x, j, c] a[j, i] for t of shape (d0, n, d2) and
 * a (n x n); out must not alias t. With a = S this whitens a weight
 * (d0 = Cout, d2 = kernel size); with a = S^{-1} it maps a factor whose
 * middle mode is Cin back (Tucker-2's U_in: (1, Cin, R); CP's Cin factor;
 * SVD's right factor: (R, Cin, 1); a tensor-ring core (r, Cin, r')). */
td_status td_mode1_mul(const double *t, int64_t d0, int64_t n, int64_t d2,
                       const double *a, double *out, td_err_t *err);

/* out[o] = sum_{c, taps} W[o, c, tap] mu_c: the response of a layer at an
 * interior position to an input constant over space with channel values
 * mu, from the dense weight (cout x cin x k) or from factors of it (after
 * any S^{-1} was applied). */
void td_dense_const_response(const double *w, int64_t cout, int64_t cin,
                             int64_t k, const double *mu, double *out);
/* sum over taps of ||W_k mu||^2: the mean's share of the output energy in
 * the per-tap model above (E||W_k x||^2 = tr(W_k Sigma W_k^T) + ||W_k mu||^2),
 * which relative errors of covariance-whitened factors are taken against
 * together with ||W S||^2, so that they stay comparable across layers. */
double td_mean_energy(const double *w, int64_t cout, int64_t cin, int64_t k,
                      const double *mu);
td_status td_tucker2_const_response(const td_tucker2_t *t, const double *mu,
                                    double *out, td_err_t *err);
td_status td_cp_const_response(const td_cp_t *c, const double *mu,
                               double *out, td_err_t *err);
td_status td_svd_const_response(const td_svd_t *s, const double *mu,
                                double *out, td_err_t *err);
td_status td_tr_const_response(const td_tr_t *tr, const double *mu,
                               double *out, td_err_t *err);

#endif
