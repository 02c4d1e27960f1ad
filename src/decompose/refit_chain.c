/* The whole two-factor chain's reduced-rank regression; see td_refit.h. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"
#include "refit_internal.h"

static int all_finite(const double *v, size_t n)
{
    for (size_t q = 0; q < n; q++)
        if (!isfinite(v[q]))
            return 0;
    return 1;
}

td_status td_refit_chain_fit(const td_refit_acc *a, const double *g0,
                             int centre, int64_t r, double rel_lambda,
                             double *left, double *right, double *prod,
                             td_err_t *err)
{
    if (!(a->count > 0))
        return td_err_set(err, TD_EINPUT, "refit: no position was gathered");
    if (!td_refit_sums_finite(a) || !all_finite(g0, (size_t)(a->cout * a->r)))
        return td_err_set(err, TD_EINPUT, "refit: the gathered sums or the "
                          "chain hold NaN or Inf");
    int64_t co = a->cout, n = a->r;
    if (r < 1 || r > co || r > n)
        return td_err_set(err, TD_EINPUT, "refit: rank %lld for a %lld x %lld "
                          "map", (long long)r, (long long)co, (long long)n);
    double *m = NULL, *rhs = NULL, *h = NULL;
    td_svd_t v = {0};
    td_status s;
    if ((s = td_dec_alloc(&m, (size_t)n, (size_t)n, err)) ||
        (s = td_dec_alloc(&rhs, (size_t)n, (size_t)co, err)) ||
        (s = td_dec_alloc(&h, (size_t)co, (size_t)n, err)))
        goto done;
    td_refit_system(a, g0, centre, rel_lambda, m, rhs);
    /* C = K K^T: a covariance plus lambda I is positive definite */
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, m,
                                     (lapack_int)n);
    if (info != 0) {
        s = td_err_set(err, TD_ENUMERIC, "refit: the regularised %lld x %lld "
                       "input covariance is not positive definite (dpotrf "
                       "info %d)", (long long)n, (long long)n, (int)info);
        goto done;
    }
    /* H = G K = rhs^T C^{-1} K = rhs^T K^{-T}: H^T = K^{-1} rhs */
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans,
                CblasNonUnit, (int)n, (int)co, 1.0, m, (int)n, rhs, (int)co);
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < co; o++)
            h[o * n + i] = rhs[i * co + o];
    if ((s = td_svd(h, co, n, r, 0, &v, err)))
        goto done;
    /* R = S^{1/2} V^T K^{-1}: solve R K = right in place */
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans,
                CblasNonUnit, (int)v.rank, (int)n, 1.0, m, (int)n, v.right,
                (int)n);
    memset(left, 0, (size_t)(co * r) * sizeof *left);
    memset(right, 0, (size_t)(r * n) * sizeof *right);
    for (int64_t o = 0; o < co; o++)
        for (int64_t q = 0; q < v.rank; q++)
            left[o * r + q] = v.left[o * v.rank + q];
    memcpy(right, v.right, (size_t)(v.rank * n) * sizeof *right);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)co, (int)n,
                (int)r, 1.0, left, (int)r, right, (int)n, 0.0, prod, (int)n);
    if (!all_finite(prod, (size_t)(co * n))) {
        s = td_err_set(err, TD_ENUMERIC, "refit: the refitted chain holds "
                       "NaN or Inf");
        goto done;
    }
done:
    td_svd_free(&v);
    free(m);
    free(rhs);
    free(h);
    return s;
}

td_status td_refit_solve_chain(const td_refit_acc *a, const double *g0,
                               const double *b0, int64_t r,
                               double rel_lambda, double *left,
                               double *right, double *b_out, double *before,
                               double *after, td_err_t *err)
{
    double *prod = NULL;
    td_status s = td_dec_alloc(&prod, (size_t)a->cout, (size_t)a->r, err);
    if (!s)
        s = td_refit_chain_fit(a, g0, b0 != NULL, r, rel_lambda, left, right,
                               prod, err);
    if (!s)
        td_refit_finish(a, g0, b0, prod, b_out, before, after);
    free(prod);
    return s;
}
