/* Whitening by the square root of an activation moment matrix; see
 * td_whiten.h for the math. */
#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"
#include "td_whiten.h"

void td_whiten_free(td_whiten_t *w)
{
    free(w->s);
    free(w->s_inv);
    td_taps_whiten_free(&w->taps);
    memset(w, 0, sizeof *w);
}

static td_status check_moment(const double *m, int64_t n, td_err_t *err)
{
    size_t nn = (size_t)n * (size_t)n;
    for (size_t q = 0; q < nn; q++)
        if (!isfinite(m[q]))
            return td_err_set(err, TD_EINPUT,
                              "moment matrix entry (%zu, %zu) is not finite",
                              q / (size_t)n, q % (size_t)n);
    double big = 0;
    for (size_t q = 0; q < nn; q++)
        big = fmax(big, fabs(m[q]));
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++) {
            double a = m[i * n + j], b = m[j * n + i];
            if (fabs(a - b) > 1e-6 * big)
                return td_err_set(err, TD_EINPUT,
                                  "moment matrix is not symmetric: entry "
                                  "(%lld, %lld) is %g, (%lld, %lld) is %g",
                                  (long long)i, (long long)j, a, (long long)j,
                                  (long long)i, b);
        }
    return TD_OK;
}

static td_status whiten(const double *m, const double *mu, int64_t n,
                        double rel_lambda, td_whiten_t *out, td_err_t *err);

td_status td_moment_check(const double *m, int64_t n, td_err_t *err)
{
    if (n <= 0 || n > INT_MAX)
        return td_err_set(err, TD_EINPUT, "moment matrix: bad size %lld",
                          (long long)n);
    td_status st = check_moment(m, n, err);
    if (st)
        return st;
    double *v = NULL, trace = 0;
    if ((st = td_dec_alloc(&v, (size_t)n, (size_t)n, err)))
        return st;
    for (int64_t i = 0; i < n; i++)
        trace += m[i * n + i];
    double shift = 1e-6 * fabs(trace) + 1e-300;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            v[i * n + j] = 0.5 * (m[i * n + j] + m[j * n + i]) + (i == j ? shift : 0);
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)n, v,
                                     (lapack_int)n);
    free(v);
    if (info > 0 || trace < 0)
        return td_err_set(err, TD_EINPUT, "moment matrix is not positive "
                          "semidefinite (its leading %d x %d block is not)",
                          (int)(info > 0 ? info : 1), (int)(info > 0 ? info : 1));
    if (info < 0)
        return td_err_set(err, TD_ENUMERIC, "moment matrix: LAPACK dpotrf "
                          "failed (info %d)", (int)info);
    return TD_OK;
}

td_status td_whiten_new(const double *m, int64_t n, double rel_lambda,
                        td_whiten_t *out, td_err_t *err)
{
    return whiten(m, NULL, n, rel_lambda, out, err);
}

td_status td_whiten_new_cov(const double *m, const double *mu, int64_t n,
                            double rel_lambda, td_whiten_t *out,
                            td_err_t *err)
{
    return whiten(m, mu, n, rel_lambda, out, err);
}

/* Eigenvalues of the symmetric part of m, ascending (values only). */
static td_status eigenvalues(const double *m, int64_t n, double *e,
                             td_err_t *err)
{
    double *v = NULL;
    td_status st = td_dec_alloc(&v, (size_t)n, (size_t)n, err);
    if (st)
        return st;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            v[i * n + j] = 0.5 * (m[i * n + j] + m[j * n + i]);
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'U', (lapack_int)n,
                                     v, (lapack_int)n, e);
    free(v);
    if (info != 0)
        return td_err_set(err, TD_ENUMERIC,
                          "moment matrix: LAPACK dsyevd failed (info %d)",
                          (int)info);
    return TD_OK;
}

static td_status whiten(const double *m, const double *mu, int64_t n,
                        double rel_lambda, td_whiten_t *out, td_err_t *err)
{
    memset(out, 0, sizeof *out);
    double *v = NULL, *e = NULL, *tmp = NULL;
    td_status st;
    if (n <= 0 || n > INT_MAX || !(rel_lambda >= 0))
        return td_err_set(err, TD_EINPUT, "whitening: bad size %lld",
                          (long long)n);
    if ((st = check_moment(m, n, err)))
        return st;
    double m_top = 0;  /* M's largest eigenvalue, when a mean is given */
    if (mu) {
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(mu[i]))
                return td_err_set(err, TD_EINPUT, "mean of channel %lld is "
                                  "not finite", (long long)i);
        double *e0 = NULL;
        if ((st = td_dec_alloc(&e0, (size_t)n, 1, err)))
            return st;
        st = eigenvalues(m, n, e0, err);
        double lo = e0[0];
        m_top = e0[n - 1];
        free(e0);
        if (st)
            return st;
        if (lo < -1e-6 * fmax(m_top, 0) || (m_top <= 0 && lo < 0))
            return td_err_set(err, TD_EINPUT,
                              "moment matrix is not positive semidefinite: "
                              "eigenvalue %g (largest %g)", lo, m_top);
    }
    if ((st = td_dec_alloc(&v, (size_t)n, (size_t)n, err)) ||
        (st = td_dec_alloc(&e, (size_t)n, 1, err)) ||
        (st = td_dec_alloc(&tmp, (size_t)n, (size_t)n, err)) ||
        (st = td_dec_alloc(&out->s, (size_t)n, (size_t)n, err)) ||
        (st = td_dec_alloc(&out->s_inv, (size_t)n, (size_t)n, err)))
        goto cleanup;
    out->n = n;
    /* the symmetrised matrix (rounding in an accumulated sum is not
     * exactly symmetric); symmetric, so row- and column-major agree */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            v[i * n + j] = 0.5 * (m[i * n + j] + m[j * n + i]) -
                           (mu ? mu[i] * mu[j] : 0.0);
    double trace = 0;
    for (int64_t i = 0; i < n; i++)
        trace += v[i * n + i];
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)n,
                                     v, (lapack_int)n, e);
    if (info != 0) {
        st = td_err_set(err, TD_ENUMERIC,
                        "moment matrix: LAPACK dsyevd failed (info %d)",
                        (int)info);
        goto cleanup;
    }
    double top = e[n - 1];  /* ascending */
    if (mu && e[0] < -1e-3 * fmax(m_top, 0)) {
        st = td_err_set(err, TD_EINPUT,
                        "the channel means do not fit the moment matrix: "
                        "its covariance has eigenvalue %g (moment's largest "
                        "%g)", e[0], m_top);
        goto cleanup;
    }
    if (!mu && (e[0] < -1e-6 * fmax(top, 0) || (top <= 0 && e[0] < 0))) {
        st = td_err_set(err, TD_EINPUT,
                        "moment matrix is not positive semidefinite: "
                        "eigenvalue %g (largest %g)", e[0], top);
        goto cleanup;
    }
    out->lambda = trace > 0 ? rel_lambda * trace / (double)n : 1.0;
    if (!(out->lambda > 0))
        out->lambda = 1.0;
    /* S = V diag(sqrt(e + lambda)) V^T, S^{-1} = V diag(1/sqrt(..)) V^T.
     * Column j of v (column-major) is eigenvector j: v[j*n + i]. */
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t j = 0; j < n; j++) {
            double d = sqrt(fmax(e[j], 0) + out->lambda);
            double f = pass == 0 ? sqrt(d) : 1 / sqrt(d);
            for (int64_t i = 0; i < n; i++)
                tmp[j * n + i] = v[j * n + i] * f;  /* row j: scaled v_j */
        }
        /* sum_j (f_j v_j)(f_j v_j)^T = tmp^T tmp */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)n, 1.0,
                    tmp, (int)n, 0.0, pass == 0 ? out->s : out->s_inv, (int)n);
        double *r = pass == 0 ? out->s : out->s_inv;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < i; j++)
                r[i * n + j] = r[j * n + i];
    }
    st = TD_OK;
cleanup:
    free(v);
    free(e);
    free(tmp);
    if (st)
        td_whiten_free(out);
    return st;
}

td_status td_mode1_mul(const double *t, int64_t d0, int64_t n, int64_t d2,
                       const double *a, double *out, td_err_t *err)
{
    if (d0 <= 0 || n <= 0 || d2 <= 0 || n > INT_MAX || d2 > INT_MAX ||
        d0 > INT_MAX / d2)
        return td_err_set(err, TD_EINPUT, "mode-1 product: bad shape");
    size_t blk = (size_t)n * (size_t)d2, rows = (size_t)d0 * (size_t)d2;
    if (d2 == 1) {  /* (d0 x n) a: one product */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d0, (int)n,
                    (int)n, 1.0, t, (int)n, a, (int)n, 0.0, out, (int)n);
        return TD_OK;
    }
    /* One product over all (x, c) rows instead of d0 small ones: each small
     * GEMM would repack the n x n matrix, which cost more than the
     * arithmetic (ISNet: two thirds of the whitening time in the copy). */
    double *p = malloc(rows * (size_t)n * sizeof *p);
    double *q = malloc(rows * (size_t)n * sizeof *q);
    if (!p || !q) {
        free(p);
        free(q);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    for (int64_t x = 0; x < d0; x++)
        for (int64_t j = 0; j < n; j++)
            for (int64_t c = 0; c < d2; c++)
                p[((size_t)x * (size_t)d2 + (size_t)c) * (size_t)n + (size_t)j] =
                    t[(size_t)x * blk + (size_t)j * (size_t)d2 + (size_t)c];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)n,
                (int)n, 1.0, p, (int)n, a, (int)n, 0.0, q, (int)n);
    for (int64_t x = 0; x < d0; x++)
        for (int64_t j = 0; j < n; j++)
            for (int64_t c = 0; c < d2; c++)
                out[(size_t)x * blk + (size_t)j * (size_t)d2 + (size_t)c] =
                    q[((size_t)x * (size_t)d2 + (size_t)c) * (size_t)n + (size_t)j];
    free(p);
    free(q);
    return TD_OK;
}
