/* Truncated SVD A ~= (U_r sqrt(S_r)) (sqrt(S_r) Vt_r): the square root
 * split gives both factors the same scale, which keeps the two resulting
 * layers numerically balanced.
 *
 * Long matrices (one side at least GRAM_ASPECT times the other, the short
 * side at least GRAM_MIN; e.g. VGG16's 4096 x 25088 classifier) go through
 * the Gram matrix of the short side: one SYRK pass over A and a k x k
 * eigensolve instead of LAPACK's bidiagonalisation of all of A, and no
 * m x n copies of U, Vt or the reconstruction. Squaring costs the small
 * singular values their relative accuracy: those below ~1e-8 x the largest
 * come out as rounding. They matter neither for truncation at a relative
 * tolerance above that nor for the kept factors, whose product is the
 * exact projection of A onto the kept eigenvectors; the reported error is
 * sqrt(||A||^2 - ||kept part||^2), exact to ~1e-8 of ||A||. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"

#define GRAM_MIN 64
#define GRAM_ASPECT 3

static int use_gram(int64_t m, int64_t n)
{
    int64_t k = m < n ? m : n, l = m < n ? n : m;
    return k >= GRAM_MIN && l >= GRAM_ASPECT * k;
}

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
    if (!use_gram(m, n))
        return td_dec_svd_thin(a, m, n, NULL, sv, NULL, "singular values", err);
    double *v;
    if ((st = td_dec_gram_values(a, m, n, &v, NULL, "singular values", err)))
        return st;
    memcpy(sv, v, (size_t)(m < n ? m : n) * sizeof *v);
    free(v);
    return TD_OK;
}

/* td_svd's factors by the Gram route (see the top of the file). */
static td_status svd_gram(const double *a, int64_t m, int64_t n, int64_t rank,
                          double tol, td_svd_t *out, td_err_t *err)
{
    td_status st;
    int64_t k = m < n ? m : n;
    double *g = NULL, *v = NULL, *p = NULL;
    if ((st = td_dec_alloc(&g, (size_t)k, (size_t)k, err)) ||
        (st = td_dec_alloc(&v, (size_t)k, (size_t)k, err)) ||
        (st = td_dec_alloc(&out->sv, (size_t)k, 1, err)))
        goto cleanup;
    td_dec_gram_short(a, m, n, g);
    if ((st = td_dec_sym_leading(g, k, k, v, out->sv, err)))
        goto cleanup;
    for (int64_t i = 0; i < k; i++)
        out->sv[i] = out->sv[i] > 0 ? sqrt(out->sv[i]) : 0;
    int64_t r = rank > 0 ? rank : td_rank_for_tol(out->sv, k, tol);
    if (r > k)
        r = k;
    if (r < 1)
        r = 1;
    int64_t l = m < n ? n : m;
    /* p (r x l) = the kept eigenvectors applied to A's long side:
     * U_r^T A (wide) or (A V_r)^T (tall); row j has norm sigma_j */
    if ((st = td_dec_alloc(&p, (size_t)r, (size_t)l, err)) ||
        (st = td_dec_alloc(&out->left, (size_t)m, (size_t)r, err)) ||
        (st = td_dec_alloc(&out->right, (size_t)r, (size_t)n, err)))
        goto cleanup;
    if (m <= n)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r, (int)n,
                    (int)m, 1.0, v, (int)k, a, (int)n, 0.0, p, (int)n);
    else
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasTrans, (int)r, (int)m,
                    (int)n, 1.0, v, (int)k, a, (int)n, 0.0, p, (int)m);
    double kept = 0;
    for (int64_t j = 0; j < r; j++) {
        double nj = 0;
        for (int64_t q = 0; q < l; q++)
            nj += p[j * l + q] * p[j * l + q];
        kept += nj;
        /* the eigenvector side gets sqrt(sigma), the other side 1/sqrt */
        double sj = sqrt(sqrt(nj));
        double up = sj, down = sj > 0 ? 1 / sj : 0;
        double *eig_side = m <= n ? out->left : out->right;
        for (int64_t i = 0; i < k; i++) {
            if (m <= n)
                eig_side[i * r + j] = v[i * k + j] * up;
            else
                eig_side[j * n + i] = v[i * k + j] * up;
        }
        for (int64_t q = 0; q < l; q++) {
            if (m <= n)
                out->right[j * n + q] = p[j * l + q] * down;
            else
                out->left[q * r + j] = p[j * l + q] * down;
        }
    }
    out->m = m;
    out->n = n;
    out->rank = r;
    double na2 = 0;
    size_t cnt = (size_t)m * (size_t)n;
    for (size_t q = 0; q < cnt; q++)
        na2 += a[q] * a[q];
    out->rel_error = na2 > 0 ? sqrt(fmax(na2 - kept, 0) / na2) : 0.0;
cleanup:
    free(g);
    free(v);
    free(p);
    return st;
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
    if (use_gram(m, n)) {
        if ((st = svd_gram(a, m, n, rank, tol, out, err)))
            td_svd_free(out);
        return st;
    }
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
