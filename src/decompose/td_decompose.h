/* onnxtd numerics: dense row-major (C order) double buffers with explicit
 * dimensions in, factors out. Knows LAPACKE/CBLAS, never ONNX.
 *
 * Conventions
 * - Every function validates its input with isfinite() before any LAPACK
 *   call (LAPACK's SVD never returns on Inf), returns TD_ENUMERIC naming the
 *   first bad index, and TD_ENUMERIC with LAPACK's info on a LAPACK failure.
 * - Every *_t filled by a function owns its buffers; release with its _free
 *   (safe on a zeroed struct, and after a failed call).
 * - rel_error is always ||T - reconstruction||_F / ||T||_F computed from the
 *   actual reconstruction (0 when ||T|| == 0).
 * - Results are deterministic: no random starts.
 * - Thread-safe: no global mutable state; layers may be decomposed in
 *   parallel threads.
 */
#ifndef TD_DECOMPOSE_H
#define TD_DECOMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/td_err.h"

#define TD_MAX_MODES 8

/* ---- helpers ---------------------------------------------------------- */

/* TD_OK when all n values are finite; else TD_ENUMERIC with the index. */
td_status td_check_finite(const double *a, size_t n, td_err_t *err);

/* Smallest r (>= 1 when any s > 0) such that
 * sqrt(sum_{i>=r} s_i^2) <= tol * sqrt(sum_i s_i^2); s descending. */
int64_t td_rank_for_tol(const double *s, int64_t n, double tol);

/* ---- truncated SVD ---------------------------------------------------- */

typedef struct td_svd {
    int64_t m, n, rank;
    double *left;   /* m x rank  = U_r * diag(sqrt(s_r))   */
    double *right;  /* rank x n  = diag(sqrt(s_r)) * Vt_r  */
    double *sv;     /* min(m, n) singular values, descending (full spectrum) */
    double rel_error;
} td_svd_t;

/* A (m x n) ~= left * right with the given rank (capped at min(m, n)).
 * rank <= 0 means: choose the smallest rank with rel_error <= tol. */
td_status td_svd(const double *a, int64_t m, int64_t n, int64_t rank,
                 double tol, td_svd_t *out, td_err_t *err);
void td_svd_free(td_svd_t *s);

/* Singular values only (descending), sv has min(m, n) entries. */
td_status td_singular_values(const double *a, int64_t m, int64_t n,
                             double *sv, td_err_t *err);

/* ---- truncated SVD under an output metric (svd_metric.c) ----------------
 * For a matrix layer whose output feeds a softmax: the error counted in the
 * softmax's Fisher metric, from K = W^T G W (n x n). */

/* out (n x n) = S K S + mu x tr(S K S) / ||W_w||^2 x W_w^T W_w: the metric
 * in whitened coordinates (s: S, n x n symmetric; ww: W_w = W S, m x n),
 * with a share mu of the plain output error. */
td_status td_metric_blend(const double *s, const double *k, const double *ww,
                          int64_t m, int64_t n, double mu, double *out,
                          td_err_t *err);
/* sv (n entries): the square roots of kb's eigenvalues, descending (the
 * spectrum whose tails are the metric's truncation errors). */
td_status td_metric_values(const double *kb, int64_t n, double *sv,
                           td_err_t *err);
/* ww (m x n) ~= left right with right = the leading eigenvectors of kb
 * (td_metric_blend's), left = ww right^T, each pair scaled to equal norms;
 * sv: the square roots of kb's eigenvalues (min(m, n) of them); rank as
 * td_svd's (rank <= 0: the smallest whose metric error, the tail of sv,
 * is <= tol); rel_error the plain ||ww - left right|| / ||ww||, in the
 * currency of every other layer's. */
td_status td_svd_metric(const double *ww, int64_t m, int64_t n,
                        const double *kb, int64_t rank, double tol,
                        td_svd_t *out, td_err_t *err);

/* ---- Tucker-2 over modes 0 (Cout) and 1 (Cin) of W (Cout x Cin x K) ---- */

typedef struct td_tucker2_opts {
    int max_sweeps;     /* HOOI sweep cap; 0 -> default (50) */
    double fit_tol;     /* stop when the relative fit change < fit_tol; 0 -> 1e-9 */
    /* Sweeps (products, Grams, eigensolves) in single precision where a
     * channel dimension is >= 128 and fit_tol >= 1e-5 (about twice as fast;
     * the factors are orthonormalised, and the core and rel_error computed,
     * in double); 1 forces double throughout. */
    int double_sweeps;
    /* Stop sweeping as soon as the relative error is <= stop_below (0: off).
     * HOOI never loses fit, so the result still meets it; used by
     * td_tucker2_for_tol for the pairs it only needs to test. */
    double stop_below;
} td_tucker2_opts_t;

typedef struct td_tucker2 {
    int64_t cout, cin, k, r_out, r_in;
    double *u_out;  /* cout x r_out, orthonormal columns */
    double *core;   /* r_out x r_in x k */
    double *u_in;   /* cin x r_in, orthonormal columns */
    double rel_error;
    int sweeps;
} td_tucker2_t;

/* W ~= core x_0 U_out x_1 U_in. HOSVD start, HOOI sweeps until the fit stops
 * improving. Ranks are capped at the dimension. opts may be NULL. */
td_status td_tucker2(const double *w, int64_t cout, int64_t cin, int64_t k,
                     int64_t r_out, int64_t r_in, const td_tucker2_opts_t *opts,
                     td_tucker2_t *out, td_err_t *err);

/* The ranks (r_out, r_in) with the fewest parameters
 * cout*r_out + r_out*r_in*k + r_in*cin whose Tucker-2 rel_error <= tol
 * (tol 0 -> exact, full ranks or the exact multilinear ranks), and the
 * decomposition at those ranks. */
td_status td_tucker2_for_tol(const double *w, int64_t cout, int64_t cin,
                             int64_t k, double tol,
                             const td_tucker2_opts_t *opts, td_tucker2_t *out,
                             td_err_t *err);

/* Singular values of the mode-0 (cout values) and mode-1 (cin values)
 * unfoldings; either output may be NULL. */
td_status td_tucker2_spectra(const double *w, int64_t cout, int64_t cin,
                             int64_t k, double *sv_out, double *sv_in,
                             td_err_t *err);
/* The same spectra from the eigenvalues of the unfoldings' Gram matrices:
 * several times faster, exact to ~1e-8 of the largest singular value
 * (smaller ones come out as noise of that size). Good for rank allocation
 * by tail sums of squares; not for deciding exact rank. */
td_status td_tucker2_spectra_gram(const double *w, int64_t cout, int64_t cin,
                                  int64_t k, double *sv_out, double *sv_in,
                                  td_err_t *err);

void td_tucker2_free(td_tucker2_t *t);

/* ---- CP (CANDECOMP/PARAFAC) of an N-way tensor ------------------------- */

typedef struct td_cp_opts {
    int max_sweeps;    /* ALS sweep cap; 0 -> default (500) */
    double fit_tol;    /* stop when relative fit change < fit_tol; 0 -> 1e-8 */
} td_cp_opts_t;

typedef struct td_cp {
    int ndim;
    int64_t dims[TD_MAX_MODES];
    int64_t rank;
    double *factors[TD_MAX_MODES];  /* dims[n] x rank; scale spread evenly */
    double rel_error;
    int sweeps;
} td_cp_t;

/* T ~= sum_r a0[:,r] o a1[:,r] o ... ; ALS from an SVD-based (HOSVD)
 * deterministic start, relative-fit convergence test, sweep cap, and a
 * safeguard against swamps (line search or damping). */
td_status td_cp_als(const double *t, int ndim, const int64_t *dims,
                    int64_t rank, const td_cp_opts_t *opts, td_cp_t *out,
                    td_err_t *err);

/* An exact CP of a tensor (ndim >= 3) with rank
 * prod(dims[2..]) * min(dims[0], dims[1]): one SVD of each mode-(0,1)
 * slice. Used for tol == 0. */
td_status td_cp_exact(const double *t, int ndim, const int64_t *dims,
                      td_cp_t *out, td_err_t *err);

/* The smallest rank (up to max_rank) whose ALS rel_error <= tol, to
 * within max(1, rank / TD_CP_RANK_PREC): exact below 2 x TD_CP_RANK_PREC;
 * above, some rank at most that much smaller failed. Ranks below the unfoldings' bound
 * (every unfolding of a rank-R CP has rank <= R) are not tried. tol == 0
 * gives td_cp_exact. Returns TD_EINPUT with a message when no rank up to
 * max_rank meets tol. */
#define TD_CP_RANK_PREC 64
td_status td_cp_for_tol(const double *t, int ndim, const int64_t *dims,
                        double tol, int64_t max_rank, const td_cp_opts_t *opts,
                        td_cp_t *out, td_err_t *err);

void td_cp_free(td_cp_t *c);

/* ---- Threads -------------------------------------------------------- */

/* Sets the BLAS library's thread count (process-wide: OpenBLAS has no
 * per-call setting) and returns the one it had. Callers that factor layers
 * on their own threads set 1 while they run and restore the old value. */
int td_dec_blas_threads(int n);

/* ---- Tensor ring: TR-SVD and reduced-storage direct TR (RSDTR) --------- */

typedef struct td_tr {
    int ndim;
    int64_t dims[TD_MAX_MODES];
    /* ranks[k] x dims[k] x ranks[k+1] is core k, in the ORIGINAL mode
     * order; ranks[ndim] == ranks[0] closes the ring. */
    int64_t ranks[TD_MAX_MODES + 1];
    double *cores[TD_MAX_MODES];
    int shift;          /* circular mode shift the SVDs ran in */
    int64_t r0;         /* ring rank chosen at the first split */
    int64_t storage;    /* sum_k ranks[k]*dims[k]*ranks[k+1] */
    double rel_error;
    double eps;         /* the tolerance it was built at */
} td_tr_t;

/* TR-SVD (Zhao et al. 2016) on the modes taken in the order
 * shift, shift+1, ... (mod ndim). Each of the ndim-1 SVDs truncates at
 * eps/sqrt(ndim-1) of its norm, so rel_error <= eps. The first rank r is
 * split r = r0 * r1; r0 <= 0 picks the divisor of r closest to sqrt(r)
 * (the classic balanced choice). Cores are rotated back to the original
 * order. */
td_status td_tr_svd(const double *t, int ndim, const int64_t *dims,
                    double eps, int shift, int64_t r0, td_tr_t *out,
                    td_err_t *err);

/* RSDTR (Gabor & Zdunek 2024): every shift in 0..ndim-1 and every divisor
 * r0 of the first rank; keeps the candidate with the smallest storage
 * (ties: smaller rel_error, then smaller shift, then smaller r0). */
td_status td_rsdtr(const double *t, int ndim, const int64_t *dims, double eps,
                   td_tr_t *out, td_err_t *err);

/* The chain of the smallest eps in [0, 1] (to TD_TR_EPS_STEP) that
 * stores at most max_storage values: RSDTR's search when rsdtr != 0, else
 * TR-SVD with shift 0 and the balanced split. The search also stops once a
 * chain fitting the budget fills at least TD_TR_FILL of it (a smaller eps
 * could use at most the rest). When even eps = 1 does not fit, the eps = 1
 * chain. out->eps is the eps it was built at. Each shift's first SVD is
 * computed once for the whole search, and candidates are compared by
 * storage, and bounds on it, before any core is built. */
#define TD_TR_EPS_STEP (1.0 / 16384)
#define TD_TR_FILL 0.99
td_status td_tr_for_storage(const double *t, int ndim, const int64_t *dims,
                            int rsdtr, double max_storage, td_tr_t *out,
                            td_err_t *err);

/* Dense reconstruction (prod(dims) doubles, caller frees). */
td_status td_tr_full(const td_tr_t *tr, double **full, td_err_t *err);

void td_tr_free(td_tr_t *tr);

/* ---- rank selection --------------------------------------------------- */

/* EVBMF (Nakajima et al. 2013) rank of an L x M matrix from its singular
 * values (descending, min(L, M) of them), with the noise variance estimated
 * empirically. Returns the rank (>= 0); sigma2 may be NULL. */
int64_t td_evbmf_rank(const double *sv, int64_t L, int64_t M, double *sigma2);

#endif
