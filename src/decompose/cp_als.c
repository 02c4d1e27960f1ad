/* CP by alternating least squares (Carroll & Chang 1970; Harshman 1970;
 * Kolda & Bader 2009, Sec. 3.4). With all factors but A_n fixed the
 * least-squares update solves A_n V = M where M is the MTTKRP and
 * V = Hadamard product of the other factors' Gram matrices (R x R, SPD when
 * the model is identifiable), so only R x R systems are factorised.
 *
 * Start: leading left singular vectors of each unfolding (HOSVD start,
 * Kolda & Bader Sec. 3.4), columns beyond the mode size padded with a fixed
 * hash so the start is deterministic and the Gram products stay regular.
 *
 * Swamps (long plateaus of slow ALS progress) are shortened with Bro's
 * extrapolation (Bro 1998, Sec. 4.3): after a sweep, try
 * A_prev + s (A_new - A_prev) with s = it^(1/p); keep it only if the error
 * drops, and make later jumps shorter (p += 1) when it does not. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cp_internal.h"

typedef struct als {
    const double *t;
    int nd;
    const int64_t *dims;
    int64_t R;
    size_t numel;
    double nt2;
    double *f[TD_MAX_MODES], *prev[TD_MAX_MODES], *ls[TD_MAX_MODES];
    double *gram[TD_MAX_MODES], *lsgram[TD_MAX_MODES];
    double *m, *mls, *v, *work, *full;
    double *z;    /* rest x R: T_(0)^T times mode 0's factor */
    size_t rest;  /* prod(dims[1..]) */
} als_t;

static void gram_of(const double *a, int64_t d, int64_t R, double *g)
{
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)R, (int)d, 1.0, a,
                (int)R, 0.0, g, (int)R);
    for (int64_t i = 0; i < R; i++)
        for (int64_t j = 0; j < i; j++)
            g[i * R + j] = g[j * R + i];
}

static void hadamard_except(double *const *g, int nd, int skip, int64_t R,
                            double *v)
{
    size_t n = (size_t)R * (size_t)R;
    for (size_t i = 0; i < n; i++)
        v[i] = 1.0;
    for (int m = 0; m < nd; m++)
        if (m != skip)
            for (size_t i = 0; i < n; i++)
                v[i] *= g[m][i];
}

/* x (d x R) := rhs V^{-1}. Cholesky first; a V that is not numerically
 * positive definite (collinear components) falls back to the
 * pseudo-inverse from its eigendecomposition, cutting eigenvalues below
 * R * eps * lambda_max. */
static td_status solve_normal(const double *v, int64_t R, double *x, int64_t d,
                              double *work, td_err_t *err)
{
    td_status st;
    double *w = NULL, *tmp = NULL;
    size_t rr = (size_t)R * (size_t)R;
    memcpy(work, v, rr * sizeof *work);
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)R, work,
                                     (lapack_int)R);
    if (info == 0) {
        info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)R, (lapack_int)d,
                              work, (lapack_int)R, x, (lapack_int)R);
        if (info != 0)
            return td_err_set(err, TD_ENUMERIC, "cp: LAPACK dpotrs failed "
                              "(info %d)", (int)info);
        return TD_OK;
    }
    if (info < 0)
        return td_err_set(err, TD_ENUMERIC, "cp: LAPACK dpotrf failed (info %d)",
                          (int)info);
    memcpy(work, v, rr * sizeof *work);
    if ((st = td_dec_alloc(&w, (size_t)R, 1, err)) ||
        (st = td_dec_alloc(&tmp, (size_t)d, (size_t)R, err)))
        goto cleanup;
    info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)R, work,
                          (lapack_int)R, w);
    if (info != 0) {
        st = td_err_set(err, info == LAPACK_WORK_MEMORY_ERROR ? TD_ENOMEM
                        : TD_ENUMERIC, "cp: LAPACK dsyevd failed (info %d)",
                        (int)info);
        goto cleanup;
    }
    /* column-major Q read row-major is Q^T: x := ((x Q) diag(1/w)) Q^T */
    double cut = (double)R * 2.220446049250313e-16 * fabs(w[R - 1]);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d, (int)R, (int)R,
                1.0, x, (int)R, work, (int)R, 0.0, tmp, (int)R);
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < R; j++)
            tmp[i * R + j] = w[j] > cut ? tmp[i * R + j] / w[j] : 0.0;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)R,
                (int)R, 1.0, tmp, (int)R, work, (int)R, 0.0, x, (int)R);
    st = TD_OK;
cleanup:
    free(w);
    free(tmp);
    return st;
}

/* ||T - [[f]]||^2 from the MTTKRP of the last mode (m) computed with the
 * same factors: ||T||^2 - 2 <M, A_N> + sum(Hadamard of all Grams). That
 * expansion cancels badly once the error is below ~1e-5 ||T||, so there the
 * residual is formed explicitly. */
static td_status model_err2(als_t *s, double *const *f, double *const *g,
                            const double *m, double *e2, td_err_t *err)
{
    int last = s->nd - 1;
    size_t n = (size_t)s->dims[last] * (size_t)s->R, rr = (size_t)(s->R * s->R);
    double inner = 0.0, nm = 0.0;
    for (size_t i = 0; i < n; i++)
        inner += m[i] * f[last][i];
    hadamard_except(g, s->nd, -1, s->R, s->v);
    for (size_t i = 0; i < rr; i++)
        nm += s->v[i];
    double e = s->nt2 - 2.0 * inner + nm;
    if (e < 1e-10 * s->nt2) {
        td_status st;
        if (!s->full && (st = td_dec_alloc(&s->full, s->numel, 1, err)))
            return st;
        if ((st = td_cp_full_dense(s->nd, s->dims, f, s->R, s->full, err)))
            return st;
        e = td_dec_diff_norm(s->t, s->full, s->numel);
        e *= e;
    }
    *e2 = e > 0.0 ? e : 0.0;
    return TD_OK;
}

static double pad_value(int mode, int64_t i, int64_t r, int64_t d)
{
    uint64_t z = (uint64_t)mode * 0x9E3779B97F4A7C15ull + (uint64_t)i * 0x632BE59BD9B4E019ull +
                 (uint64_t)r * 0x85EBCA77C2B2AE63ull + 0x2545F4914F6CDD1Dull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) * (2.0 / 9007199254740992.0) - 1.0) / sqrt((double)d);
}

static td_status init_factors(als_t *s, td_err_t *err)
{
    td_status st = TD_OK;
    double *unf = NULL, *g = NULL, *u = NULL;
    int64_t maxd = 0;
    for (int m = 0; m < s->nd; m++)
        if (s->dims[m] > maxd)
            maxd = s->dims[m];
    if ((st = td_dec_alloc(&unf, s->numel, 1, err)) ||
        (st = td_dec_alloc(&g, (size_t)maxd, (size_t)maxd, err)) ||
        (st = td_dec_alloc(&u, (size_t)maxd, (size_t)maxd, err)))
        goto cleanup;
    for (int m = 0; m < s->nd; m++) {
        int64_t d = s->dims[m], ru = s->R < d ? s->R : d;
        td_dec_unfold(s->t, s->nd, s->dims, m, unf);
        td_dec_gram_rows(unf, d, (int64_t)(s->numel / (size_t)d), g);
        if ((st = td_dec_sym_leading(g, d, ru, u, NULL, err)))
            goto cleanup;
        for (int64_t i = 0; i < d; i++)
            for (int64_t r = 0; r < s->R; r++)
                s->f[m][i * s->R + r] = r < ru ? u[i * ru + r]
                                               : pad_value(m, i, r, d);
        gram_of(s->f[m], d, s->R, s->gram[m]);
    }
cleanup:
    free(unf);
    free(g);
    free(u);
    return st;
}

static td_status sweep(als_t *s, td_err_t *err)
{
    td_status st;
    for (int n = 0; n < s->nd; n++) {
        if (n == 0) {
            if ((st = td_cp_mttkrp(s->t, s->nd, s->dims, s->f, s->R, 0, s->m,
                                   err)))
                return st;
        } else {
            /* mode 0 is updated by now: its contraction serves every
             * later mode of this sweep */
            if (n == 1)
                td_cp_partial0(s->t, s->dims, s->rest, s->f[0], s->R, s->z);
            td_cp_mttkrp_from0(s->z, s->nd, s->dims, s->f, s->R, n, s->m);
        }
        hadamard_except(s->gram, s->nd, n, s->R, s->v);
        memcpy(s->f[n], s->m, (size_t)s->dims[n] * (size_t)s->R * sizeof(double));
        if ((st = solve_normal(s->v, s->R, s->f[n], s->dims[n], s->work, err)))
            return st;
        gram_of(s->f[n], s->dims[n], s->R, s->gram[n]);
    }
    return TD_OK;
}

/* Bro's extrapolation; on success the candidate becomes the iterate. */
static td_status line_search(als_t *s, int it, double *p, double *e2,
                             td_err_t *err)
{
    td_status st;
    double jump = pow((double)it, 1.0 / *p), e_ls;
    for (int m = 0; m < s->nd; m++) {
        size_t n = (size_t)s->dims[m] * (size_t)s->R;
        for (size_t i = 0; i < n; i++)
            s->ls[m][i] = s->prev[m][i] + jump * (s->f[m][i] - s->prev[m][i]);
        gram_of(s->ls[m], s->dims[m], s->R, s->lsgram[m]);
    }
    int last = s->nd - 1;
    td_cp_partial0(s->t, s->dims, s->rest, s->ls[0], s->R, s->z);
    td_cp_mttkrp_from0(s->z, s->nd, s->dims, s->ls, s->R, last, s->mls);
    if ((st = model_err2(s, s->ls, s->lsgram, s->mls, &e_ls, err)))
        return st;
    if (e_ls < *e2) {
        for (int m = 0; m < s->nd; m++) {
            double *a = s->f[m], *g = s->gram[m];
            s->f[m] = s->ls[m];
            s->ls[m] = a;
            s->gram[m] = s->lsgram[m];
            s->lsgram[m] = g;
        }
        *e2 = e_ls;
    } else {
        *p += 1.0;
    }
    return TD_OK;
}

static void als_free(als_t *s)
{
    for (int m = 0; m < TD_MAX_MODES; m++) {
        free(s->f[m]);
        free(s->prev[m]);
        free(s->ls[m]);
        free(s->gram[m]);
        free(s->lsgram[m]);
    }
    free(s->m);
    free(s->mls);
    free(s->v);
    free(s->work);
    free(s->full);
    free(s->z);
}

td_status td_cp_als(const double *t, int ndim, const int64_t *dims,
                    int64_t rank, const td_cp_opts_t *opts, td_cp_t *out,
                    td_err_t *err)
{
    td_status st;
    als_t s = {0};
    if (!out)
        return td_err_set(err, TD_EINPUT, "cp: NULL output");
    memset(out, 0, sizeof *out);
    if ((st = td_cp_check(t, ndim, dims, 2, &s.numel, err)))
        return st;
    if (rank <= 0)
        return td_err_set(err, TD_EINPUT, "cp: rank %lld must be > 0",
                          (long long)rank);
    /* Any tensor has CP rank <= prod of all dims but the largest (slice
     * along the largest mode), so larger ranks are never needed. */
    int64_t maxd = 0, cap = 1;
    for (int m = 0; m < ndim; m++)
        if (dims[m] > maxd)
            maxd = dims[m];
    cap = (int64_t)(s.numel / (size_t)maxd);
    if (rank > cap)
        rank = cap;
    int max_sweeps = opts && opts->max_sweeps > 0 ? opts->max_sweeps : 500;
    double fit_tol = opts && opts->fit_tol > 0.0 ? opts->fit_tol : 1e-8;
    size_t R = (size_t)rank, rr;
    if (td_mul_size(R, R, &rr))
        return td_err_set(err, TD_ENOMEM, "cp: rank %lld too large", (long long)rank);
    s.t = t;
    s.nd = ndim;
    s.dims = dims;
    s.R = rank;
    double nt = td_dec_norm(t, s.numel);
    s.nt2 = nt * nt;
    for (int m = 0; m < ndim; m++) {
        size_t d = (size_t)dims[m];
        if ((st = td_dec_alloc(&s.f[m], d, R, err)) ||
            (st = td_dec_alloc(&s.prev[m], d, R, err)) ||
            (st = td_dec_alloc(&s.ls[m], d, R, err)) ||
            (st = td_dec_alloc(&s.gram[m], R, R, err)) ||
            (st = td_dec_alloc(&s.lsgram[m], R, R, err)))
            goto cleanup;
    }
    s.rest = s.numel / (size_t)dims[0];
    if ((st = td_dec_alloc(&s.z, s.rest, R, err)) ||
        (st = td_dec_alloc(&s.m, (size_t)maxd, R, err)) ||
        (st = td_dec_alloc(&s.mls, (size_t)maxd, R, err)) ||
        (st = td_dec_alloc(&s.v, R, R, err)) ||
        (st = td_dec_alloc(&s.work, R, R, err)))
        goto cleanup;
    int sweeps = 0;
    if (nt > 0.0) {
        if ((st = init_factors(&s, err)))
            goto cleanup;
        double fit = 0.0, p = 3.0, e2;
        for (int it = 1; it <= max_sweeps; it++) {
            for (int m = 0; m < ndim; m++)
                memcpy(s.prev[m], s.f[m], (size_t)dims[m] * R * sizeof(double));
            if ((st = sweep(&s, err)) ||
                (st = model_err2(&s, s.f, s.gram, s.m, &e2, err)))
                goto cleanup;
            if (it >= 3 && (st = line_search(&s, it, &p, &e2, err)))
                goto cleanup;
            sweeps = it;
            double nf = 1.0 - sqrt(e2) / nt;
            double change = fabs(nf - fit);
            fit = nf;
            if (change < fit_tol)
                break;
        }
    }
    if ((st = td_cp_normalise(ndim, dims, s.f, rank, err)))
        goto cleanup;
    out->ndim = ndim;
    for (int m = 0; m < ndim; m++) {
        out->dims[m] = dims[m];
        out->factors[m] = s.f[m];
        s.f[m] = NULL;
    }
    out->rank = rank;
    out->sweeps = sweeps;
    if ((st = td_cp_rel_error(t, out, nt, &out->rel_error, err)))
        goto cleanup;
cleanup:
    als_free(&s);
    if (st)
        td_cp_free(out);
    return st;
}
