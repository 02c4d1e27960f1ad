/* The refit's ridge strength by cross-validation over folds of the
 * calibration inputs; see td_refit.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"
#include "refit_internal.h"

/* From nearly no ridge to nearly the chain as it is (at 1e4 the data move
 * it by about 1e-4 of what they would unregularised): on PP-OCR cls, det
 * and rec most chains chose 100 or more (bench/README.md). A whole chain's
 * fit (a Cholesky and an SVD of cout x cin) costs far more than a last
 * factor's (an r x r solve): it tries every other value. */
static const double grid_last[] = {1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3, 1e4};
static const double grid_whole[] = {1e-2, 1, 100, 1e4};
#define NGRID_MAX 8

void td_refit_acc_sum(td_refit_acc *dst, const td_refit_acc *folds, size_t k,
                      size_t skip)
{
    size_t n1 = (size_t)(dst->cout * dst->r), n2 = (size_t)(dst->r * dst->r);
    memset(dst->syz, 0, n1 * sizeof *dst->syz);
    memset(dst->szz, 0, n2 * sizeof *dst->szz);
    memset(dst->sy, 0, (size_t)dst->cout * sizeof *dst->sy);
    memset(dst->sz, 0, (size_t)dst->r * sizeof *dst->sz);
    dst->syy = 0;
    dst->count = 0;
    for (size_t f = 0; f < k; f++) {
        const td_refit_acc *a = &folds[f];
        if (f == skip || !(a->count > 0))
            continue;
        for (size_t q = 0; q < n1; q++)
            dst->syz[q] += a->syz[q];
        for (size_t q = 0; q < n2; q++)
            dst->szz[q] += a->szz[q];
        for (int64_t q = 0; q < dst->cout; q++)
            dst->sy[q] += a->sy[q];
        for (int64_t q = 0; q < dst->r; q++)
            dst->sz[q] += a->sz[q];
        dst->syy += a->syy;
        dst->count += a->count;
    }
}

/* One candidate's fit on `rest`: m (cout x n, the map it applies) and,
 * with b0, its bias b. */
static td_status fit(const td_refit_acc *rest, const double *a0,
                     const double *b0, int64_t rank, double lambda, double *m,
                     double *b, double *work_l, double *work_r, td_err_t *err)
{
    double before, after;
    if (!rank)
        return td_refit_solve(rest, a0, b0, lambda, m, b, &before, &after,
                              err);
    td_status s = td_refit_chain_fit(rest, a0, b0 != NULL, rank, lambda,
                                     work_l, work_r, m, err);
    if (!s && b0)
        td_refit_bias(rest, m, b);
    return s;
}

td_status td_refit_choose(const td_refit_acc *folds, size_t k,
                          const double *a0, const double *b0, int64_t rank,
                          double *lambda, double *cv_kept, double *cv_best,
                          td_err_t *err)
{
    size_t used = 0;
    for (size_t f = 0; f < k; f++)
        used += folds[f].count > 0;
    *lambda = TD_REFIT_REL_LAMBDA;
    *cv_kept = *cv_best = NAN;
    if (used < 2)
        return TD_OK;
    int64_t co = folds[0].cout, n = folds[0].r;
    td_refit_acc rest;
    double *m = NULL, *b = NULL, *wl = NULL, *wr = NULL;
    const double *grid = rank ? grid_whole : grid_last;
    size_t ngrid = rank ? sizeof grid_whole / sizeof *grid_whole
                        : sizeof grid_last / sizeof *grid_last;
    double err_l[NGRID_MAX] = {0}, kept = 0, yy = 0;
    td_status s = td_refit_acc_init(&rest, co, n, err);
    if (s)
        return s;
    if ((s = td_dec_alloc(&m, (size_t)co, (size_t)n, err)) ||
        (s = td_dec_alloc(&b, (size_t)co, 1, err)) ||
        (rank && ((s = td_dec_alloc(&wl, (size_t)co, (size_t)rank, err)) ||
                  (s = td_dec_alloc(&wr, (size_t)rank, (size_t)n, err)))))
        goto done;
    for (size_t f = 0; f < k && !s; f++) {
        const td_refit_acc *held = &folds[f];
        if (!(held->count > 0))
            continue;
        td_refit_acc_sum(&rest, folds, k, f);
        yy += held->syy;
        kept += td_refit_mse(held, a0, b0) * held->count;
        for (size_t g = 0; g < ngrid && !s; g++)
            if (!(s = fit(&rest, a0, b0, rank, grid[g], m, b, wl, wr, err)))
                err_l[g] += td_refit_mse(held, m, b0 ? b : NULL) * held->count;
    }
    if (s)
        goto done;
    size_t best = 0;
    for (size_t g = 1; g < ngrid; g++)
        if (err_l[g] < err_l[best])
            best = g;
    *cv_kept = yy > 0 ? fmax(kept, 0) / yy : 0;
    *cv_best = yy > 0 ? fmax(err_l[best], 0) / yy : 0;
    *lambda = grid[best];
done:
    td_refit_acc_free(&rest);
    free(m);
    free(b);
    free(wl);
    free(wr);
    return s;
}
