/* Truncated SVD A ~= (U_r sqrt(S_r)) (sqrt(S_r) Vt_r): the square root
 * split gives both factors the same scale, which keeps the two resulting
 * layers numerically balanced. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"

void td_svd_free(td_svd_t *s)
{
    if (!s)
        return;
    free(s->left);
    free(s->right);
    free(s->sv);
    memset(s, 0, sizeof *s);
}

static td_status check_matrix(const double *a, int64_t m, int64_t n,
                              td_err_t *err)
{
    size_t cnt;
    int64_t dims[2] = {m, n};
    if (!a)
        return td_err_set(err, TD_EINPUT, "svd: NULL matrix");
    td_status st = td_dec_numel(dims, 2, &cnt, err);
    if (st)
        return st;
    return td_check_finite(a, cnt, err);
}

td_status td_singular_values(const double *a, int64_t m, int64_t n,
                             double *sv, td_err_t *err)
{
    td_status st = check_matrix(a, m, n, err);
    if (st)
        return st;
    if (!sv)
        return td_err_set(err, TD_EINPUT, "svd: NULL output");
    return td_dec_svd_thin(a, m, n, NULL, sv, NULL, "singular values", err);
}

td_status td_svd(const double *a, int64_t m, int64_t n, int64_t rank,
                 double tol, td_svd_t *out, td_err_t *err)
{
    td_status st;
    double *u = NULL, *vt = NULL, *rec = NULL;
    if (!out)
        return td_err_set(err, TD_EINPUT, "svd: NULL output");
    memset(out, 0, sizeof *out);
    st = check_matrix(a, m, n, err);
    if (st)
        return st;
    if (rank <= 0 && !(tol >= 0.0 && isfinite(tol)))
        return td_err_set(err, TD_EINPUT, "svd: tolerance %g is not >= 0", tol);
    int64_t k = m < n ? m : n;
    if ((st = td_dec_alloc(&u, (size_t)m, (size_t)k, err)) ||
        (st = td_dec_alloc(&vt, (size_t)k, (size_t)n, err)) ||
        (st = td_dec_alloc(&out->sv, (size_t)k, 1, err)))
        goto cleanup;
    st = td_dec_svd_thin(a, m, n, u, out->sv, vt, "svd", err);
    if (st)
        goto cleanup;
    int64_t r = rank > 0 ? rank : td_rank_for_tol(out->sv, k, tol);
    if (r > k)
        r = k;
    if (r < 1)
        r = 1; /* zero matrix: a zero rank-1 pair keeps shapes valid */
    if ((st = td_dec_alloc(&out->left, (size_t)m, (size_t)r, err)) ||
        (st = td_dec_alloc(&out->right, (size_t)r, (size_t)n, err)) ||
        (st = td_dec_alloc(&rec, (size_t)m, (size_t)n, err)))
        goto cleanup;
    for (int64_t j = 0; j < r; j++) {
        double q = sqrt(out->sv[j]);
        for (int64_t i = 0; i < m; i++)
            out->left[i * r + j] = u[i * k + j] * q;
        for (int64_t i = 0; i < n; i++)
            out->right[j * n + i] = vt[j * n + i] * q;
    }
    out->m = m;
    out->n = n;
    out->rank = r;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n,
                (int)r, 1.0, out->left, (int)r, out->right, (int)n, 0.0, rec,
                (int)n);
    size_t cnt = (size_t)m * (size_t)n;
    double na = td_dec_norm(a, cnt);
    out->rel_error = na > 0.0 ? td_dec_diff_norm(a, rec, cnt) / na : 0.0;
    st = TD_OK;
cleanup:
    free(u);
    free(vt);
    free(rec);
    if (st)
        td_svd_free(out);
    return st;
}
