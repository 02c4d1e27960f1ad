/* The least CP rank that can reach a tolerance, bounded from below by the
 * unfoldings' spectra.
 *
 * Each rank-one term a_0 o a_1 o ... is a rank-one matrix in every
 * unfolding (any split of the modes into rows and columns), so a CP of
 * rank R has rank at most R in all of them, and by Eckart-Young its
 * squared error is at least the unfolding's tail sum_{i >= R} s_i^2. A
 * rank whose tail exceeds tol^2 ||T||^2 in some unfolding can therefore be
 * skipped without running ALS; the bound is the largest of the per-
 * unfolding ranks. For a conv kernel the split (Cout, kh) x (Cin, kw) has
 * up to 3 x min(Cout, Cin) values and is often the tightest. */
#include <math.h>
#include <stdlib.h>

#include "cp_internal.h"

/* Unfoldings whose short side is longer are skipped (their Gram
 * eigensolve would cost more than it can save). */
#define LB_MAX_SIDE 2048

/* The rank at tolerance of the unfolding rows = the modes in mask. */
static td_status mask_rank(const double *t, int ndim, const int64_t *dims,
                           size_t numel, unsigned mask, double d2,
                           int64_t *rank, td_err_t *err)
{
    int perm[TD_MAX_MODES], nrow = 0, np;
    for (int m = 0; m < ndim; m++)
        if (mask >> m & 1u)
            perm[nrow++] = m;
    np = nrow;
    for (int m = 0; m < ndim; m++)
        if (!(mask >> m & 1u))
            perm[np++] = m;
    double *sv;
    int64_t k;
    td_status st = td_dec_unfolding_values(t, ndim, dims, numel, perm, nrow,
                                           &sv, &k, err);
    if (st)
        return st;
    *rank = td_dec_rank_abs(sv, k, sqrt(d2));
    free(sv);
    return TD_OK;
}

td_status td_cp_rank_lb(const double *t, int ndim, const int64_t *dims,
                        size_t numel, double tol, int64_t cap, int64_t *lb,
                        td_err_t *err)
{
    double nt = td_dec_norm(t, numel), n2 = nt * nt;
    /* Slack for the Gram route's eigenvalues (absolute error about
     * k eps ||T||^2 each, up to LB_MAX_SIDE of them in a tail): a larger
     * threshold only lowers the bound. */
    double d2 = (tol * tol * (1.0 + 1e-6) + 1e-9) * n2;
    *lb = 1;
    /* each split once (the masks holding mode 0), the short ones first:
     * they are the cheap ones, and often enough to pass cap */
    unsigned masks[1u << (TD_MAX_MODES - 1)];
    int64_t side[1u << (TD_MAX_MODES - 1)];
    int n = 0;
    for (unsigned mask = 1; mask < (1u << ndim) - 1u; mask += 2u) {
        int64_t rows = 1;
        for (int m = 0; m < ndim; m++)
            if (mask >> m & 1u)
                rows *= dims[m];
        int64_t cols = (int64_t)(numel / (size_t)rows);
        int64_t k = rows < cols ? rows : cols;
        int i = n++;
        for (; i > 0 && side[i - 1] > k; i--) {
            masks[i] = masks[i - 1];
            side[i] = side[i - 1];
        }
        masks[i] = mask;
        side[i] = k;
    }
    for (int i = 0; i < n && *lb <= cap; i++) {
        if (side[i] <= *lb || side[i] > LB_MAX_SIDE)
            continue;  /* cannot raise the bound, or too costly */
        int64_t r;
        td_status st = mask_rank(t, ndim, dims, numel, masks[i], d2, &r, err);
        if (st)
            return st;
        if (r > *lb)
            *lb = r;
    }
    return TD_OK;
}
