/* Thin wrappers over LAPACK's SVD and symmetric eigensolver that hide the
 * row-major/column-major bookkeeping and turn info codes into td_err. */
#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"

static td_status lapack_fail(td_err_t *err, const char *routine,
                             const char *what, lapack_int info)
{
    if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return td_err_set(err, TD_ENOMEM, "%s: %s: out of memory", what, routine);
    return td_err_set(err, TD_ENUMERIC, "%s: LAPACK %s failed (info %d)", what,
                      routine, (int)info);
}

/* A row-major m x n matrix is the column-major n x m matrix A^T, and
 * A^T = V S U^T. So calling column-major LAPACK on the untouched buffer
 * yields Vt (as its "U") and U (as its "Vt") directly in row-major order,
 * with no transposition copies. gesdd (divide and conquer) is used for
 * speed; if it fails to converge, the slower QR-iteration gesvd is tried
 * before giving up. */
td_status td_dec_svd_thin(const double *a, int64_t m, int64_t n, double *u,
                          double *s, double *vt, const char *what,
                          td_err_t *err)
{
    td_status st;
    double *w = NULL, *sup = NULL;
    if (m <= 0 || n <= 0 || m > INT_MAX || n > INT_MAX)
        return td_err_set(err, TD_EINPUT, "%s: bad matrix size %lld x %lld",
                          what, (long long)m, (long long)n);
    int64_t k = m < n ? m : n;
    char job = (u && vt) ? 'S' : 'N';
    st = td_dec_alloc(&w, (size_t)m, (size_t)n, err);
    if (st)
        goto cleanup;
    memcpy(w, a, (size_t)m * (size_t)n * sizeof(double));
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, job, (lapack_int)n,
                                     (lapack_int)m, w, (lapack_int)n, s, vt,
                                     (lapack_int)n, u, (lapack_int)k);
    if (info > 0) {
        memcpy(w, a, (size_t)m * (size_t)n * sizeof(double));
        st = td_dec_alloc(&sup, (size_t)k, 1, err);
        if (st)
            goto cleanup;
        info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, job, job, (lapack_int)n,
                              (lapack_int)m, w, (lapack_int)n, s, vt,
                              (lapack_int)n, u, (lapack_int)k, sup);
        if (info != 0) {
            st = lapack_fail(err, "dgesvd", what, info);
            goto cleanup;
        }
    } else if (info < 0) {
        st = lapack_fail(err, "dgesdd", what, info);
        goto cleanup;
    }
    st = TD_OK;
cleanup:
    free(w);
    free(sup);
    return st;
}

void td_dec_gram_rows(const double *a, int64_t m, int64_t n, double *g)
{
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)m, (int)n, 1.0,
                a, (int)n, 0.0, g, (int)m);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < i; j++)
            g[i * m + j] = g[j * m + i];
}

void td_dec_gram_short(const double *a, int64_t m, int64_t n, double *g)
{
    if (m <= n) {
        td_dec_gram_rows(a, m, n, g);
        return;
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)m, 1.0, a,
                (int)n, 0.0, g, (int)n);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < i; j++)
            g[i * n + j] = g[j * n + i];
}

td_status td_dec_gram_values(const double *a, int64_t m, int64_t n,
                             double **sv, double *keep, const char *what,
                             td_err_t *err)
{
    td_status st;
    int64_t k = m < n ? m : n;
    double *g = NULL;
    *sv = NULL;
    if ((st = td_dec_alloc(&g, (size_t)k, (size_t)k, err)) ||
        (st = td_dec_alloc(sv, (size_t)k, 1, err)))
        goto cleanup;
    td_dec_gram_short(a, m, n, g);
    if (keep)
        memcpy(keep, g, (size_t)k * (size_t)k * sizeof *g);
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'U', (lapack_int)k,
                                     g, (lapack_int)k, *sv);
    if (info) {
        st = td_err_set(err, info < 0 ? TD_EINPUT : TD_ENUMERIC,
                        "%s: LAPACK dsyevd failed (info %d)", what, (int)info);
        goto cleanup;
    }
    double *v = *sv;
    for (int64_t i = 0; i < k / 2; i++) {  /* ascending -> descending */
        double x = v[i];
        v[i] = v[k - 1 - i];
        v[k - 1 - i] = x;
    }
    for (int64_t i = 0; i < k; i++)
        v[i] = v[i] > 0.0 ? sqrt(v[i]) : 0.0;
cleanup:
    free(g);
    if (st) {
        free(*sv);
        *sv = NULL;
    }
    return st;
}

td_status td_dec_unfolding_values(const double *t, int ndim,
                                  const int64_t *dims, size_t numel,
                                  const int *perm, int nrow, double **sv,
                                  int64_t *k, td_err_t *err)
{
    td_status st;
    int64_t rows = 1;
    double *x = NULL;
    for (int j = 0; j < nrow; j++)
        rows *= dims[perm[j]];
    int64_t cols = (int64_t)(numel / (size_t)rows);
    *k = rows < cols ? rows : cols;
    *sv = NULL;
    if ((st = td_dec_alloc(&x, numel, 1, err)))
        return st;
    td_dec_permute(t, ndim, dims, perm, x);
    st = td_dec_gram_values(x, rows, cols, sv, NULL, "unfolding", err);
    free(x);
    return st;
}

/* All eigenpairs by divide and conquer (dsyevd), then the top r columns in
 * descending order. Measured on 512 x 512 Gram matrices asking for half
 * the spectrum, dsyevr's subset path (bisection plus inverse iteration)
 * took about three times longer than dsyevd on everything. */
td_status td_dec_sym_leading(double *g, int64_t n, int64_t r, double *u,
                             double *eig, td_err_t *err)
{
    td_status st;
    double *w = NULL;
    if (n <= 0 || n > INT_MAX || r <= 0 || r > n)
        return td_err_set(err, TD_EINPUT, "eigensolver: bad size n=%lld r=%lld",
                          (long long)n, (long long)r);
    st = td_dec_alloc(&w, (size_t)n, 1, err);
    if (st)
        goto cleanup;
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)n,
                                     g, (lapack_int)n, w);
    if (info != 0) {
        st = lapack_fail(err, "dsyevd", "eigensolver", info);
        goto cleanup;
    }
    /* column j of the column-major result is the j-th eigenvector */
    for (int64_t c = 0; c < r; c++) {
        const double *col = g + (size_t)(n - 1 - c) * (size_t)n;
        for (int64_t i = 0; i < n; i++)
            u[i * r + c] = col[i];
        if (eig)
            eig[c] = w[n - 1 - c];
    }
    st = TD_OK;
cleanup:
    free(w);
    return st;
}

/* The row-major m x r buffer is the column-major r x m matrix B^T, and
 * B = Q R is B^T = R^T Q^T, an LQ factorisation: dgelqf/dorglq on the
 * untouched buffer leave Q (m x r, row-major) in place. Householder, so Q
 * is orthonormal to working precision whatever the conditioning of B. */
td_status td_dec_orth(double *b, int64_t m, int64_t r, td_err_t *err)
{
    td_status st;
    double *tau = NULL;
    if (r <= 0 || m < r || m > INT_MAX)
        return td_err_set(err, TD_EINPUT, "orthonormalise: bad size %lld x %lld",
                          (long long)m, (long long)r);
    if ((st = td_dec_alloc(&tau, (size_t)r, 1, err)))
        return st;
    lapack_int info = LAPACKE_dgelqf(LAPACK_COL_MAJOR, (lapack_int)r,
                                     (lapack_int)m, b, (lapack_int)r, tau);
    if (info == 0)
        info = LAPACKE_dorglq(LAPACK_COL_MAJOR, (lapack_int)r, (lapack_int)m,
                              (lapack_int)r, b, (lapack_int)r, tau);
    st = info ? lapack_fail(err, "dgelqf/dorglq", "orthonormalise", info) : TD_OK;
    free(tau);
    return st;
}

/* Cholesky QR: with C = B^T B = R^T R, Q = B R^{-1}. It squares B's
 * condition number, which costs nothing for a basis already orthonormal to
 * single precision (C = I + O(1e-6)), and it is three BLAS-3 calls instead
 * of a Householder sweep. Falls back to td_dec_orth if C is not positive
 * definite to working precision. */
td_status td_dec_orth_near(double *b, int64_t m, int64_t r, td_err_t *err)
{
    td_status st;
    double *c = NULL;
    if (r <= 0 || m < r || m > INT_MAX)
        return td_err_set(err, TD_EINPUT, "orthonormalise: bad size %lld x %lld",
                          (long long)m, (long long)r);
    if ((st = td_dec_alloc(&c, (size_t)r, (size_t)r, err)))
        return st;
    /* row-major upper triangle of B^T B = column-major lower */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)r, (int)m, 1.0, b,
                (int)r, 0.0, c, (int)r);
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)r, c,
                                     (lapack_int)r);
    if (info == 0)
        cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans,
                    CblasNonUnit, (int)m, (int)r, 1.0, c, (int)r, b, (int)r);
    free(c);
    return info == 0 ? TD_OK : td_dec_orth(b, m, r, err);
}
