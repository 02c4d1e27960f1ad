/* Helpers shared by the decomposition files; not part of the public
 * numerics interface. All matrices are row-major doubles. */
#ifndef TD_DEC_INTERNAL_H
#define TD_DEC_INTERNAL_H

#include "td_decompose.h"

/* calloc(a * b doubles) with overflow and failure reported in err. */
td_status td_dec_alloc(double **p, size_t a, size_t b, td_err_t *err);

/* Product of dims[0..n-1] as size_t, overflow reported in err. */
td_status td_dec_numel(const int64_t *dims, int n, size_t *out, td_err_t *err);

/* Frobenius norm, accumulated with scaling so huge values do not overflow. */
double td_dec_norm(const double *a, size_t n);

/* ||a - b||_F. */
double td_dec_diff_norm(const double *a, const double *b, size_t n);

/* Smallest r with sqrt(sum_{i>=r} s_i^2) <= delta (absolute threshold). */
int64_t td_dec_rank_abs(const double *s, int64_t n, double delta);

/* The sign convention for singular and eigen vectors, which LAPACK leaves
 * open (and different routes or builds answer differently): sign[j] is +1
 * or -1 so that column j of u (m x k, row stride ldu) times sign[j] has
 * its largest-magnitude entry positive (ties: the lowest index). The
 * partner vector (row j of Vt, or of S Vt) takes the same sign. Applied
 * wherever a result, not only a factor's sign, depends on the signs. */
void td_dec_vector_signs(const double *u, int64_t m, int64_t k, int64_t ldu,
                         double *sign);

/* Thin SVD of the row-major m x n matrix a (not modified): u is m x k,
 * s has k values, vt is k x n, k = min(m, n). u or vt may be NULL when
 * only the values are wanted (then both must be NULL). */
td_status td_dec_svd_thin(const double *a, int64_t m, int64_t n, double *u,
                          double *s, double *vt, const char *what,
                          td_err_t *err);

/* The r leading eigenvectors (columns of u, n x r, descending eigenvalue)
 * of the symmetric n x n matrix g (destroyed); eig gets r eigenvalues
 * (may be NULL). */
td_status td_dec_sym_leading(double *g, int64_t n, int64_t r, double *u,
                             double *eig, td_err_t *err);

/* Overwrites the row-major m x r matrix b (m >= r) with the Q of its thin
 * QR factorisation: orthonormal columns spanning those of b. */
td_status td_dec_orth(double *b, int64_t m, int64_t r, td_err_t *err);

/* td_dec_orth for a b whose columns are already nearly orthonormal
 * (Cholesky QR; same result up to signs, cheaper). */
td_status td_dec_orth_near(double *b, int64_t m, int64_t r, td_err_t *err);

/* g (m x m) = a a^T for the row-major m x n matrix a. */
void td_dec_gram_rows(const double *a, int64_t m, int64_t n, double *g);

/* g (k x k, k = min(m, n), symmetric, full) = the Gram matrix of a's short
 * side: a a^T when m <= n, else a^T a. */
void td_dec_gram_short(const double *a, int64_t m, int64_t n, double *g);

/* The min(m, n) singular values of a, descending (*sv allocated), from
 * the eigenvalues of its short side's Gram matrix: one BLAS-3 pass where
 * LAPACK's SVD runs unblocked sweeps over a long side. Values below ~1e-8
 * x the largest lose relative accuracy. keep, when given, gets a copy of
 * the Gram matrix; errors are prefixed with what. */
td_status td_dec_gram_values(const double *a, int64_t m, int64_t n,
                             double **sv, double *keep, const char *what,
                             td_err_t *err);

/* The singular values (*k of them, descending, *sv allocated) of t's
 * unfolding with modes perm[0..nrow-1] on the rows and the rest, in perm's
 * order, on the columns, by td_dec_gram_values. */
td_status td_dec_unfolding_values(const double *t, int ndim,
                                  const int64_t *dims, size_t numel,
                                  const int *perm, int nrow, double **sv,
                                  int64_t *k, td_err_t *err);

/* Mode-k unfolding: out[i_k][rest] with the other indices in their original
 * (row-major) order. */
void td_dec_unfold(const double *t, int ndim, const int64_t *dims, int k,
                   double *out);

/* General axis permutation: out has dims dims[perm[0]], dims[perm[1]], ...
 * and out[j_0, j_1, ...] = t[i] with i_{perm[q]} = j_q. */
void td_dec_permute(const double *t, int ndim, const int64_t *dims,
                    const int *perm, double *out);

/* EVBMF threshold on singular values for an L x M matrix with noise
 * variance sigma2: sqrt(M * sigma2 * (1 + tau) * (1 + alpha / tau)) with
 * alpha = min/max and tau the positive root of
 * log(tau + 1) + alpha * log(tau / alpha + 1) - tau = 0. */
double td_evbmf_threshold(int64_t L, int64_t M, double sigma2);

#endif
