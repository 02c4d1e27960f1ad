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

#endif
