/* Tensor ring by TR-SVD (Zhao, Zhou, Xie, Zhang, Cichocki 2016,
 * "Tensor ring decomposition", Algorithm 1).
 *
 * On the modes taken in circular order shift, shift+1, ..., the first
 * unfolding (n_0 x rest) is SVD-truncated at delta = eps ||T|| / sqrt(d-1);
 * its rank r is split r = r0 r1 so that U becomes the first core
 * (r0 x n_0 x r1) and S Vt, with the r0 index moved to the end, carries the
 * ring closure through the remaining d-2 sequential truncated SVDs. The
 * d-1 truncation errors are orthogonal, so ||T - T_hat||^2 <= (d-1)
 * delta^2 = eps^2 ||T||^2. */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tr_internal.h"

void td_tr_free(td_tr_t *tr)
{
    if (!tr)
        return;
    for (int k = 0; k < TD_MAX_MODES; k++)
        free(tr->cores[k]);
    memset(tr, 0, sizeof *tr);
}

void td_tr_first_free(td_tr_first_t *f)
{
    free(f->u);
    free(f->s);
    free(f->svt);
    for (int i = 0; i < f->nspec; i++)
        free(f->spec[i].s);
    free(f->spec);
    free(f->gram);
    memset(f, 0, sizeof *f);
}

td_status td_tr_check(const double *t, int ndim, const int64_t *dims,
                      double eps, size_t *numel, double *norm, td_err_t *err)
{
    td_status st;
    if (!t || !dims)
        return td_err_set(err, TD_EINPUT, "tr: NULL tensor");
    if (ndim < 2 || ndim > TD_MAX_MODES)
        return td_err_set(err, TD_EINPUT, "tr: %d modes (need 2..%d)", ndim,
                          TD_MAX_MODES);
    if (!(eps >= 0.0 && isfinite(eps)))
        return td_err_set(err, TD_EINPUT, "tr: eps %g is not >= 0", eps);
    if ((st = td_dec_numel(dims, ndim, numel, err)))
        return st;
    if (*numel > (size_t)INT_MAX)
        return td_err_set(err, TD_ENOMEM, "tr: tensor of %zu values is too "
                          "large for BLAS", *numel);
    if ((st = td_check_finite(t, *numel, err)))
        return st;
    *norm = td_dec_norm(t, *numel);
    return TD_OK;
}

/* Thin SVD of a (m x n), truncated at delta: *u gets m x r, *svt r x n,
 * *tail2 the discarded energy. */
static td_status trunc_svd(const double *a, int64_t m, int64_t n, double delta,
                           int64_t *r_out, double *tail2, double **u_out,
                           double **svt_out, td_err_t *err)
{
    td_status st;
    int64_t k = m < n ? m : n;
    double *u = NULL, *s = NULL, *vt = NULL;
    *u_out = *svt_out = NULL;
    if ((st = td_dec_alloc(&s, (size_t)k, 1, err)) ||
        (st = td_dec_alloc(&u, (size_t)m, (size_t)k, err)) ||
        (st = td_dec_alloc(&vt, (size_t)k, (size_t)n, err)))
        goto cleanup;
    if ((st = td_dec_svd_thin(a, m, n, u, s, vt, "tr", err)))
        goto cleanup;
    int64_t r = td_tr_rank_at(s, k, delta, tail2);
    *r_out = r;
    /* compact U to r columns in place (rows only move left) */
    for (int64_t i = 0; i < m; i++)
        memmove(u + i * r, u + i * k, (size_t)r * sizeof *u);
    for (int64_t j = 0; j < r; j++)
        for (int64_t q = 0; q < n; q++)
            vt[j * n + q] *= s[j];
    *u_out = u;
    *svt_out = vt; /* first r rows are S_r Vt_r */
    u = vt = NULL;
cleanup:
    free(u);
    free(s);
    free(vt);
    return st;
}

/* The first unfolding a (m x n, n >= 2m): U from the eigenvectors of
 * a a^T, S Vt as U^T a and each singular value as the norm of its row of
 * U^T a. sqrt(eigenvalue) would carry no relative accuracy below ~1e-8 of
 * the largest; the row norms are the energies a truly has along the
 * (orthonormal) U found, so every truncation's discarded energy, and the
 * reported error, stay exact. A conv kernel's first unfolding is wide
 * (Cout x Cin k^2, or k x everything), where one BLAS-3 pass beats
 * LAPACK's bidiagonalisation several times over. */
static td_status first_by_gram(const double *a, int64_t m, int64_t n, double *u,
                               double *s, double *svt, td_err_t *err)
{
    td_status st;
    double *g = NULL;
    if ((st = td_dec_alloc(&g, (size_t)m, (size_t)m, err)))
        return st;
    td_dec_gram_rows(a, m, n, g);
    if (!(st = td_dec_sym_leading(g, m, m, u, NULL, err))) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n,
                    (int)m, 1.0, u, (int)m, a, (int)n, 0.0, svt, (int)n);
        for (int64_t j = 0; j < m; j++)
            s[j] = td_dec_norm(svt + (size_t)j * (size_t)n, (size_t)n);
    }
    free(g);
    return st;
}

td_status td_tr_first_svd(const double *t, int ndim, const int64_t *dims,
                          size_t numel, double norm, double eps, int shift,
                          td_tr_first_t *f, td_err_t *err)
{
    td_status st;
    double *x = NULL;
    int perm[TD_MAX_MODES];
    memset(f, 0, sizeof *f);
    f->ndim = ndim;
    f->shift = shift;
    f->norm = norm;
    for (int j = 0; j < ndim; j++) {
        perm[j] = (shift + j) % ndim;
        f->dims[j] = dims[j];
        f->mdims[j] = dims[perm[j]];
    }
    f->rest = numel / (size_t)f->mdims[0];
    f->k = f->mdims[0] < (int64_t)f->rest ? f->mdims[0] : (int64_t)f->rest;
    if ((st = td_dec_alloc(&x, numel, 1, err)) ||
        (st = td_dec_alloc(&f->u, (size_t)f->mdims[0], (size_t)f->k, err)) ||
        (st = td_dec_alloc(&f->s, (size_t)f->k, 1, err)) ||
        (st = td_dec_alloc(&f->svt, (size_t)f->k, f->rest, err)))
        goto cleanup;
    td_dec_permute(t, ndim, dims, perm, x);
    if ((int64_t)f->rest >= 2 * f->mdims[0]) {
        st = first_by_gram(x, f->mdims[0], (int64_t)f->rest, f->u, f->s,
                           f->svt, err);
    } else {
        st = td_dec_svd_thin(x, f->mdims[0], (int64_t)f->rest, f->u, f->s,
                             f->svt, "tr", err);
        for (int64_t j = 0; !st && j < f->k; j++)
            for (size_t q = 0; q < f->rest; q++)
                f->svt[(size_t)j * f->rest + q] *= f->s[j];
    }
    if (!st)
        td_tr_first_set_eps(f, eps);
cleanup:
    free(x);
    if (st)
        td_tr_first_free(f);
    return st;
}

void td_tr_first_set_eps(td_tr_first_t *f, double eps)
{
    f->eps = eps;
    f->delta = eps * f->norm / sqrt((double)(f->ndim - 1));
    f->r = td_tr_rank_at(f->s, f->k, f->delta, &f->tail2);
}

int64_t td_tr_rank_at(const double *sv, int64_t k, double delta, double *t2)
{
    int64_t r = td_dec_rank_abs(sv, k, delta);
    if (r < 1)
        r = 1;
    if (t2) {
        *t2 = 0.0;
        for (int64_t j = k - 1; j >= r; j--)
            *t2 += sv[j] * sv[j];
    }
    return r;
}

td_status td_tr_check_r0(const td_tr_first_t *f, int64_t r0, td_err_t *err)
{
    if (r0 <= 0 || f->r % r0 != 0)
        return td_err_set(err, TD_EINPUT, "tr: r0 %lld does not divide the first "
                          "rank %lld", (long long)r0, (long long)f->r);
    return TD_OK;
}

/* The signs (td_dec_vector_signs) the first r columns of U, and the rows
 * of S Vt, take before the first rank is split as r0 x r1; *sign is NULL
 * for r0 == 1. The blocks (a, b) of U's columns are not sign-invariant:
 * flipping column (a, b) flips one block of the second unfolding, whose
 * singular values then change, and with them every later rank (the Gram
 * route and the plain SVD gave 245 and 246 for one ISNet layer at eps
 * 0.3). With r0 == 1 a flip only flips a row of the second unfolding: the
 * same ring up to the signs of its cores, which are left as computed. */
static td_status split_signs(const td_tr_first_t *f, int64_t r0, double **sign,
                             td_err_t *err)
{
    *sign = NULL;
    if (r0 == 1)
        return TD_OK;
    td_status st = td_dec_alloc(sign, (size_t)f->r, 1, err);
    if (!st)
        td_dec_vector_signs(f->u, f->mdims[0], f->r, f->k, *sign);
    return st;
}

/* S_r Vt_r with (r0, r1, rest) -> (r1, rest, r0): the ring index travels
 * to the end; read as (r1 n_1) x rest', the second unfolding. */
td_status td_tr_second_matrix(const td_tr_first_t *f, int64_t r0,
                              double **c, td_err_t *err)
{
    double *sign;
    td_status st = split_signs(f, r0, &sign, err);
    if (!st && (st = td_dec_alloc(c, (size_t)f->r * f->rest, 1, err)))
        free(sign);
    if (st)
        return st;
    /* the first r rows of S Vt are contiguous */
    int64_t r1 = f->r / r0, d3[3] = {r0, r1, (int64_t)f->rest};
    int p3[3] = {1, 2, 0};
    td_dec_permute(f->svt, 3, d3, p3, *c);
    /* (b, q, a) holds row a r1 + b of S Vt */
    for (int64_t b = 0; sign && b < r1; b++)
        for (size_t q = 0; q < f->rest; q++)
            for (int64_t a = 0; a < r0; a++)
                (*c)[((size_t)b * f->rest + q) * (size_t)r0 + (size_t)a] *=
                    sign[a * r1 + b];
    free(sign);
    return TD_OK;
}

/* The sequential SVDs after the first, by exact SVDs, and the cores. */
td_status td_tr_from_first(const td_tr_first_t *f, int64_t r0, td_tr_t *out,
                           td_err_t *err)
{
    td_status st;
    int d = f->ndim;
    int64_t R[TD_MAX_MODES + 1];
    double *core[TD_MAX_MODES] = {0}, *c = NULL, *next = NULL, *u = NULL;
    double *sign = NULL;
    double tail2 = f->tail2;
    memset(out, 0, sizeof *out);
    if ((st = td_tr_check_r0(f, r0, err)))
        return st;
    int64_t r1 = f->r / r0, m0 = f->mdims[0];
    R[0] = R[d] = r0;
    R[1] = r1;
    /* first core: U's column index read as (a, b), a in r0, b in r1 */
    if ((st = td_dec_alloc(&core[0], (size_t)(r0 * m0), (size_t)r1, err)) ||
        (st = split_signs(f, r0, &sign, err)))
        goto cleanup;
    for (int64_t a = 0; a < r0; a++)
        for (int64_t i = 0; i < m0; i++)
            for (int64_t b = 0; b < r1; b++)
                core[0][(a * m0 + i) * r1 + b] =
                    f->u[i * f->k + a * r1 + b] * (sign ? sign[a * r1 + b] : 1);
    size_t csize = (size_t)f->r * f->rest;
    if ((st = td_tr_second_matrix(f, r0, &c, err)))
        goto cleanup;
    for (int j = 1; j <= d - 2; j++) {
        int64_t rows = R[j] * f->mdims[j];
        int64_t cols = (int64_t)(csize / (size_t)rows);
        double t2;
        if ((st = trunc_svd(c, rows, cols, f->delta, &R[j + 1], &t2, &u, &next,
                            err)))
            goto cleanup;
        tail2 += t2;
        core[j] = u;
        u = NULL;
        free(c);
        c = next;
        next = NULL;
        csize = (size_t)R[j + 1] * (size_t)cols;
    }
    st = TD_OK;
    /* what is left is R[d-1] x n_{d-1} x r0: the closing core */
    core[d - 1] = c;
    c = NULL;
    out->ndim = d;
    out->shift = f->shift;
    out->r0 = r0;
    out->storage = td_tr_storage_of(f, R);
    out->rel_error = f->norm > 0.0 ? sqrt(tail2) / f->norm : 0.0;
    out->eps = f->eps;
    for (int k = 0; k < d; k++) {
        int j = ((k - f->shift) % d + d) % d;
        out->dims[k] = f->dims[k];
        out->ranks[k] = R[j];
        out->cores[k] = core[j];
        core[j] = NULL;
    }
    out->ranks[d] = out->ranks[0];
cleanup:
    for (int k = 0; k < TD_MAX_MODES; k++)
        free(core[k]);
    free(sign);
    free(c);
    free(next);
    free(u);
    if (st)
        td_tr_free(out);
    return st;
}

/* Reconstruction one ring index a at a time: contracting the open chain
 * G_0[a] G_1 ... G_{d-2} and closing with G_{d-1}[:, :, a] keeps the
 * intermediate at prod(n_0..n_k) x r_{k+1} instead of r_0^2 times that. */
td_status td_tr_full(const td_tr_t *tr, double **full, td_err_t *err)
{
    td_status st;
    double *p = NULL, *q = NULL, *last = NULL, *out = NULL;
    size_t numel, maxsz = 0, lead = 1;
    if (!tr || !full)
        return td_err_set(err, TD_EINPUT, "tr: NULL argument");
    *full = NULL;
    int d = tr->ndim;
    if (d < 2 || d > TD_MAX_MODES)
        return td_err_set(err, TD_EINPUT, "tr: %d modes", d);
    if ((st = td_dec_numel(tr->dims, d, &numel, err)))
        return st;
    for (int k = 0; k < d; k++)
        if (!tr->cores[k] || tr->ranks[k] <= 0)
            return td_err_set(err, TD_EINPUT, "tr: core %d missing", k);
    if (tr->ranks[d] != tr->ranks[0])
        return td_err_set(err, TD_EINPUT, "tr: ring not closed");
    for (int k = 0; k + 1 < d; k++) {
        size_t sz;
        lead *= (size_t)tr->dims[k];
        if (td_mul_size(lead, (size_t)tr->ranks[k + 1], &sz))
            return td_err_set(err, TD_ENOMEM, "tr: reconstruction too large");
        if (sz > maxsz)
            maxsz = sz;
    }
    int64_t ra = tr->ranks[0], rl = tr->ranks[d - 1], nl = tr->dims[d - 1];
    if ((st = td_dec_alloc(&p, maxsz, 1, err)) ||
        (st = td_dec_alloc(&q, maxsz, 1, err)) ||
        (st = td_dec_alloc(&last, (size_t)rl, (size_t)nl, err)) ||
        (st = td_dec_alloc(&out, numel, 1, err)))
        goto cleanup;
    for (int64_t a = 0; a < ra; a++) {
        size_t rows = (size_t)tr->dims[0];
        memcpy(p, tr->cores[0] + (size_t)a * rows * (size_t)tr->ranks[1],
               rows * (size_t)tr->ranks[1] * sizeof *p);
        for (int k = 1; k <= d - 2; k++) {
            int64_t rk = tr->ranks[k], cols = tr->dims[k] * tr->ranks[k + 1];
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows,
                        (int)cols, (int)rk, 1.0, p, (int)rk, tr->cores[k],
                        (int)cols, 0.0, q, (int)cols);
            double *sw = p;
            p = q;
            q = sw;
            rows *= (size_t)tr->dims[k];
        }
        const double *g = tr->cores[d - 1];
        for (int64_t b = 0; b < rl; b++)
            for (int64_t i = 0; i < nl; i++)
                last[b * nl + i] = g[(b * nl + i) * ra + a];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)nl,
                    (int)rl, 1.0, p, (int)rl, last, (int)nl, 1.0, out, (int)nl);
    }
    *full = out;
    out = NULL;
    st = TD_OK;
cleanup:
    free(p);
    free(q);
    free(last);
    free(out);
    return st;
}

int64_t td_tr_pick_r0(int64_t r, int64_t want)
{
    int64_t best = 1;
    if (want > 0) {
        for (int64_t q = 1; q <= r && q <= want; q++)
            if (r % q == 0)
                best = q;
        return best;
    }
    double root = sqrt((double)r), bd = INFINITY;
    for (int64_t q = 1; q <= r; q++)
        if (r % q == 0 && fabs((double)q - root) < bd) {
            bd = fabs((double)q - root);
            best = q;
        }
    return best;
}

td_status td_tr_svd(const double *t, int ndim, const int64_t *dims,
                    double eps, int shift, int64_t r0, td_tr_t *out,
                    td_err_t *err)
{
    td_status st;
    size_t numel;
    double norm;
    td_tr_first_t f = {0};
    if (!out)
        return td_err_set(err, TD_EINPUT, "tr: NULL output");
    memset(out, 0, sizeof *out);
    if ((st = td_tr_check(t, ndim, dims, eps, &numel, &norm, err)))
        return st;
    if (shift < 0 || shift >= ndim)
        return td_err_set(err, TD_EINPUT, "tr: shift %d not in 0..%d", shift,
                          ndim - 1);
    if ((st = td_tr_first_svd(t, ndim, dims, numel, norm, eps, shift, &f, err)) ||
        (st = td_tr_from_first(&f, td_tr_pick_r0(f.r, r0), out, err)))
        goto cleanup;
cleanup:
    td_tr_first_free(&f);
    if (st)
        td_tr_free(out);
    return st;
}
