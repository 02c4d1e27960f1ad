/* CP helpers shared by the ALS, exact and search code. Factors are
 * row-major dims[m] x rank. */
#ifndef TD_CP_INTERNAL_H
#define TD_CP_INTERNAL_H

#include "dec_internal.h"

/* m (dims[n] x rank) = T_(n) * KR(factors except n), in the row-major
 * index order of the remaining modes. */
td_status td_cp_mttkrp(const double *t, int nd, const int64_t *dims,
                       double *const *f, int64_t rank, int n, double *m,
                       td_err_t *err);

/* The MTTKRPs of modes 1.. share their contraction with mode 0's factor
 * (a dimension tree of depth one): z (rest x rank, rest = prod(dims[1..]))
 * = T_(0)^T f[0] is one GEMM over the whole tensor, after which each
 * mode n >= 1 costs rest x rank x (nd - 2) multiplications instead of a
 * pass over the tensor with a Khatri-Rao product of its other modes (for
 * a conv kernel's tiny spatial modes that product has Cout x Cin x k rows).
 * The results equal td_cp_mttkrp's up to the order of the sums. */
void td_cp_partial0(const double *t, const int64_t *dims, size_t rest,
                    const double *f0, int64_t rank, double *z);
void td_cp_mttkrp_from0(const double *z, int nd, const int64_t *dims,
                        double *const *f, int64_t rank, int n, double *m);

/* Dense reconstruction into full (prod(dims) doubles). */
td_status td_cp_full_dense(int nd, const int64_t *dims, double *const *f,
                           int64_t rank, double *full, td_err_t *err);

/* Unit columns with lambda^(1/N) on each factor, sorted by lambda. */
td_status td_cp_normalise(int nd, const int64_t *dims, double **f,
                          int64_t rank, td_err_t *err);

/* ||T - [[c]]|| / nt from the dense reconstruction (0 when nt == 0). */
td_status td_cp_rel_error(const double *t, const td_cp_t *c, double nt,
                          double *rel, td_err_t *err);

/* Validates ndim/dims/data and returns the element count. */
td_status td_cp_check(const double *t, int ndim, const int64_t *dims,
                      int min_ndim, size_t *numel, td_err_t *err);

/* Sets shape fields and allocates zeroed factors. */
td_status td_cp_alloc(td_cp_t *c, int ndim, const int64_t *dims,
                      int64_t rank, td_err_t *err);

/* A lower bound (>= 1) on the rank of any CP within relative error tol of
 * t (cp_bound.c): the largest rank at tol of its unfoldings whose short
 * side is at most 2048. Stops early once the bound exceeds cap. */
td_status td_cp_rank_lb(const double *t, int ndim, const int64_t *dims,
                        size_t numel, double tol, int64_t cap, int64_t *lb,
                        td_err_t *err);

#endif
