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

typedef struct td_whiten {
    int64_t n;
    double lambda;  /* added to M's eigenvalues */
    double *s;      /* n x n, (M + lambda I)^{1/2}, symmetric */
    double *s_inv;  /* n x n, its inverse, symmetric */
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
