/* Factors into a narrow format: see td_range.h. */
#include "td_range.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "cp_internal.h"

/* n values from p, stride apart: a factor, or one component of it. */
struct part {
    double *p;
    size_t n, stride;
};

static double part_max(const struct part *q)
{
    double m = 0;
    for (size_t i = 0; i < q->n; i++)
        m = fmax(m, fabs(q->p[i * q->stride]));
    return m;
}

/* Would this factor, written as it is, overflow, or lose more below the
 * normal range than TD_RANGE_FLUSH allows? */
static int part_misfits(const struct part *q, const td_format_t *fmt)
{
    double all = 0, low = 0;
    for (size_t i = 0; i < q->n; i++) {
        double x = q->p[i * q->stride];
        if (!isfinite(fmt->round(x)))
            return 1;
        all += x * x;
        low += x != 0 && fabs(x) < fmt->min_normal;
    }
    return sqrt(low) * fmt->min_normal > TD_RANGE_FLUSH * sqrt(all);
}

/* Scales the parts by powers of two whose product is 1 so that their
 * largest magnitudes meet at (about) their geometric mean. Parts that are
 * all zero keep the chain zero whatever the others hold: left alone. */
static void balance(struct part *q, int n)
{
    double logm[TD_MAX_MODES + 2], mean = 0;
    for (int k = 0; k < n; k++) {
        double m = part_max(&q[k]);
        if (!(m > 0))
            return;
        logm[k] = log2(m);
        mean += logm[k];
    }
    mean /= n;
    int rest = 0;
    for (int k = 0; k < n; k++) {
        int e = k + 1 < n ? (int)lround(mean - logm[k]) : -rest;
        rest += e;
        for (size_t i = 0; i < q[k].n; i++)
            q[k].p[i * q[k].stride] = ldexp(q[k].p[i * q[k].stride], e);
    }
}

/* Rounds the factors in place; TD_ENUMERIC naming the first that holds a
 * value the format cannot. */
static td_status round_parts(struct part *q, int n, const td_format_t *fmt,
                             const char *what, td_err_t *err)
{
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < q[k].n; i++) {
            double *x = &q[k].p[i * q[k].stride];
            double r = fmt->round(*x);
            if (!isfinite(r))
                return td_err_set(err, TD_ENUMERIC, "%s factor %d: %g is "
                                  "beyond the format's largest value %g even "
                                  "after rebalancing", what, k, *x,
                                  fmt->max_finite);
            *x = r;
        }
    return TD_OK;
}

static int any_misfits(const struct part *q, int n, const td_format_t *fmt)
{
    for (int k = 0; k < n; k++)
        if (part_misfits(&q[k], fmt))
            return 1;
    return 0;
}

td_status td_svd_fit_format(td_svd_t *s, const td_format_t *fmt, int *balanced,
                            td_err_t *err)
{
    size_t r = (size_t)s->rank;
    struct part whole[2] = {{s->left, (size_t)s->m * r, 1},
                            {s->right, r * (size_t)s->n, 1}};
    if (any_misfits(whole, 2, fmt)) {
        *balanced = 1;
        for (size_t q = 0; q < r; q++) {
            struct part c[2] = {{s->left + q, (size_t)s->m, r},
                                {s->right + q * (size_t)s->n, (size_t)s->n, 1}};
            balance(c, 2);
        }
    }
    return round_parts(whole, 2, fmt, "svd", err);
}

td_status td_tucker2_fit_format(td_tucker2_t *t, const td_format_t *fmt,
                                int *balanced, td_err_t *err)
{
    struct part p[3] = {
        {t->u_in, (size_t)(t->cin * t->r_in), 1},
        {t->core, (size_t)(t->r_out * t->r_in * t->k), 1},
        {t->u_out, (size_t)(t->cout * t->r_out), 1}};
    if (any_misfits(p, 3, fmt)) {
        *balanced = 1;
        balance(p, 3);
    }
    return round_parts(p, 3, fmt, "tucker2", err);
}

td_status td_cp_fit_format(td_cp_t *c, const td_format_t *fmt, int *balanced,
                           td_err_t *err)
{
    struct part p[TD_MAX_MODES];
    size_t r = (size_t)c->rank;
    for (int k = 0; k < c->ndim; k++)
        p[k] = (struct part){c->factors[k], (size_t)c->dims[k] * r, 1};
    if (any_misfits(p, c->ndim, fmt)) {
        *balanced = 1;
        for (size_t q = 0; q < r; q++) {
            struct part col[TD_MAX_MODES];
            for (int k = 0; k < c->ndim; k++)
                col[k] = (struct part){c->factors[k] + q, (size_t)c->dims[k], r};
            balance(col, c->ndim);
        }
    }
    return round_parts(p, c->ndim, fmt, "cp", err);
}

td_status td_tr_fit_format(td_tr_t *tr, const td_format_t *fmt, int *balanced,
                           td_err_t *err)
{
    struct part p[TD_MAX_MODES];
    for (int k = 0; k < tr->ndim; k++)
        p[k] = (struct part){tr->cores[k],
                             (size_t)(tr->ranks[k] * tr->dims[k] * tr->ranks[k + 1]),
                             1};
    if (any_misfits(p, tr->ndim, fmt)) {
        *balanced = 1;
        balance(p, tr->ndim);
    }
    return round_parts(p, tr->ndim, fmt, "tensor ring", err);
}

void td_svd_full(const td_svd_t *s, double *full)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->m, (int)s->n,
                (int)s->rank, 1.0, s->left, (int)s->rank, s->right, (int)s->n,
                0.0, full, (int)s->n);
}

/* W[o, i, q] = sum_ab U_out[o, a] core[a, b, q] U_in[i, b]: the core
 * contracted with U_in one slice a at a time (r_out x (cin k)), then
 * U_out times that. */
td_status td_tucker2_full(const td_tucker2_t *t, double *full, td_err_t *err)
{
    int64_t ro = t->r_out, ri = t->r_in, ci = t->cin, k = t->k;
    double *blk = NULL;
    td_status st = td_dec_alloc(&blk, (size_t)ro, (size_t)(ci * k), err);
    if (st)
        return st;
    for (int64_t a = 0; a < ro; a++)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)ci, (int)k,
                    (int)ri, 1.0, t->u_in, (int)ri, t->core + a * ri * k, (int)k,
                    0.0, blk + a * ci * k, (int)k);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)t->cout,
                (int)(ci * k), (int)ro, 1.0, t->u_out, (int)ro, blk,
                (int)(ci * k), 0.0, full, (int)(ci * k));
    free(blk);
    return TD_OK;
}

td_status td_cp_full(const td_cp_t *c, double *full, td_err_t *err)
{
    return td_cp_full_dense(c->ndim, c->dims, c->factors, c->rank, full, err);
}
