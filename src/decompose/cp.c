/* CP bookkeeping, the exact slice-SVD CP, and the rank search. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cp_internal.h"

void td_cp_free(td_cp_t *c)
{
    if (!c)
        return;
    for (int m = 0; m < TD_MAX_MODES; m++)
        free(c->factors[m]);
    memset(c, 0, sizeof *c);
}

td_status td_cp_check(const double *t, int ndim, const int64_t *dims,
                      int min_ndim, size_t *numel, td_err_t *err)
{
    td_status st;
    if (!t || !dims)
        return td_err_set(err, TD_EINPUT, "cp: NULL tensor");
    if (ndim < min_ndim || ndim > TD_MAX_MODES)
        return td_err_set(err, TD_EINPUT, "cp: %d modes (need %d..%d)", ndim,
                          min_ndim, TD_MAX_MODES);
    if ((st = td_dec_numel(dims, ndim, numel, err)))
        return st;
    if (*numel > (size_t)INT_MAX)
        return td_err_set(err, TD_ENOMEM, "cp: tensor of %zu values is too "
                          "large for BLAS", *numel);
    return td_check_finite(t, *numel, err);
}

td_status td_cp_alloc(td_cp_t *c, int ndim, const int64_t *dims,
                      int64_t rank, td_err_t *err)
{
    td_status st;
    memset(c, 0, sizeof *c);
    c->ndim = ndim;
    c->rank = rank;
    for (int m = 0; m < ndim; m++) {
        c->dims[m] = dims[m];
        if ((st = td_dec_alloc(&c->factors[m], (size_t)dims[m], (size_t)rank,
                               err))) {
            td_cp_free(c);
            return st;
        }
    }
    return TD_OK;
}

/* T[:, :, c] = U S V^T for every index c of modes 2..N-1, so
 * T = sum_c sum_q s_q u_q o v_q o e_{c_2} o ... o e_{c_{N-1}}: an exact CP
 * with rank prod(dims[2..]) * min(dims[0], dims[1]). Each term's scale s_q
 * is spread as s_q^(1/N) over its N unit vectors. */
td_status td_cp_exact(const double *t, int ndim, const int64_t *dims,
                      td_cp_t *out, td_err_t *err)
{
    td_status st;
    size_t numel;
    double *slice = NULL, *u = NULL, *s = NULL, *vt = NULL;
    if (!out)
        return td_err_set(err, TD_EINPUT, "cp: NULL output");
    memset(out, 0, sizeof *out);
    if ((st = td_cp_check(t, ndim, dims, 3, &numel, err)))
        return st;
    int64_t d0 = dims[0], d1 = dims[1], mn = d0 < d1 ? d0 : d1;
    int64_t P = (int64_t)(numel / (size_t)(d0 * d1)), rank;
    if (td_mul_i64(P, mn, &rank))
        return td_err_set(err, TD_ENOMEM, "cp: exact rank overflows");
    if ((st = td_cp_alloc(out, ndim, dims, rank, err)) ||
        (st = td_dec_alloc(&slice, (size_t)d0, (size_t)d1, err)) ||
        (st = td_dec_alloc(&u, (size_t)d0, (size_t)mn, err)) ||
        (st = td_dec_alloc(&s, (size_t)mn, 1, err)) ||
        (st = td_dec_alloc(&vt, (size_t)mn, (size_t)d1, err)))
        goto cleanup;
    double inv_n = 1.0 / ndim;
    for (int64_t c = 0; c < P; c++) {
        for (int64_t i = 0; i < d0; i++)
            for (int64_t j = 0; j < d1; j++)
                slice[i * d1 + j] = t[(size_t)(i * d1 + j) * (size_t)P + (size_t)c];
        if ((st = td_dec_svd_thin(slice, d0, d1, u, s, vt, "cp exact", err)))
            goto cleanup;
        for (int64_t q = 0; q < mn; q++) {
            int64_t col = c * mn + q;
            double sc = pow(s[q], inv_n);
            for (int64_t i = 0; i < d0; i++)
                out->factors[0][i * rank + col] = u[i * mn + q] * sc;
            for (int64_t j = 0; j < d1; j++)
                out->factors[1][j * rank + col] = vt[q * d1 + j] * sc;
            int64_t rem = c;
            for (int m = ndim - 1; m >= 2; m--) {
                out->factors[m][(rem % dims[m]) * rank + col] = sc;
                rem /= dims[m];
            }
        }
    }
    double nt = td_dec_norm(t, numel);
    st = td_cp_rel_error(t, out, nt, &out->rel_error, err);
cleanup:
    free(slice);
    free(u);
    free(s);
    free(vt);
    if (st)
        td_cp_free(out);
    return st;
}

/* How far past the extrapolated rank the growth phase steps: a step that
 * just misses tol costs a whole ALS run more. */
#define GROW_MARGIN 1.0625

/* ALS error is not guaranteed monotone in the rank, but it is in practice
 * close to it. The search starts at the unfoldings' bound (cp_bound.c:
 * every rank below it is out of reach, so no ALS runs there), grows the
 * rank until tol is met (doubling, or once two ranks have failed,
 * extrapolating their log(error) linearly, a little beyond), then narrows
 * the bracket (lo fails, hi meets tol) until it is at most
 * max(1, hi / TD_CP_RANK_PREC) wide. The
 * next rank interpolates log(error) linearly between the ends when both
 * were run, falling back to bisection whenever two steps in a row did not
 * halve the bracket. On a big conv kernel each ALS run costs seconds and
 * the runs near the answer dominate, so the relative stop, not the last
 * few ranks of an exact bisection, decides the search's time. */
td_status td_cp_for_tol(const double *t, int ndim, const int64_t *dims,
                        double tol, int64_t max_rank, const td_cp_opts_t *opts,
                        td_cp_t *out, td_err_t *err)
{
    td_status st;
    size_t numel;
    td_cp_t best = {0}, trial = {0};
    if (!out)
        return td_err_set(err, TD_EINPUT, "cp: NULL output");
    memset(out, 0, sizeof *out);
    if (!(tol >= 0.0 && isfinite(tol)))
        return td_err_set(err, TD_EINPUT, "cp: tolerance %g is not >= 0", tol);
    if (tol == 0.0)
        return td_cp_exact(t, ndim, dims, out, err);
    if ((st = td_cp_check(t, ndim, dims, 2, &numel, err)))
        return st;
    if (max_rank <= 0)
        return td_err_set(err, TD_EINPUT, "cp: max_rank %lld must be > 0",
                          (long long)max_rank);
    int64_t lb;
    if ((st = td_cp_rank_lb(t, ndim, dims, numel, tol, max_rank, &lb, err)))
        return st;
    if (lb > max_rank)
        return td_err_set(err, TD_EINPUT, "cp: no rank up to %lld reaches "
                          "relative error %g (an unfolding needs rank %lld)",
                          (long long)max_rank, tol, (long long)lb);
    int64_t lo = lb - 1, hi = -1, r = lb;
    double e_lo = NAN, e_hi = NAN;
    for (;;) {
        if ((st = td_cp_als(t, ndim, dims, r, opts, &trial, err)))
            goto cleanup;
        if (trial.rel_error <= tol) {
            best = trial;
            memset(&trial, 0, sizeof trial);
            hi = r;
            e_hi = best.rel_error;
            break;
        }
        double e_prev = e_lo;
        int64_t r_prev = lo;
        e_lo = trial.rel_error;
        td_cp_free(&trial);
        lo = r;
        if (r >= max_rank)
            break;
        int64_t next = r * 2;
        if (e_prev > e_lo && e_lo > 0.0) {
            /* two failures: extrapolate log(error) linearly in the rank,
             * a little past the point it predicts */
            double g = (log(e_prev) - log(e_lo)) / (double)(r - r_prev);
            double x = (double)r + (log(e_lo) - log(tol)) / g * GROW_MARGIN;
            int64_t step = r / TD_CP_RANK_PREC > 1 ? r / TD_CP_RANK_PREC : 1;
            if (x < (double)next)
                next = x > (double)(r + step) ? (int64_t)ceil(x) : r + step;
        }
        r = next < max_rank ? next : max_rank;
    }
    if (hi < 0) {
        st = td_err_set(err, TD_EINPUT, "cp: no rank up to %lld reaches "
                        "relative error %g", (long long)max_rank, tol);
        goto cleanup;
    }
    int slow = 0;
    while (hi - lo > (hi / TD_CP_RANK_PREC > 1 ? hi / TD_CP_RANK_PREC : 1)) {
        int64_t w = hi - lo, mid = lo + w / 2;
        if (slow < 2 && e_lo > e_hi && e_hi > 0.0) {
            double x = (log(e_lo) - log(tol)) / (log(e_lo) - log(e_hi));
            x = x < 0.1 ? 0.1 : x > 0.9 ? 0.9 : x;
            mid = lo + (int64_t)llround(x * (double)w);
            mid = mid <= lo ? lo + 1 : mid >= hi ? hi - 1 : mid;
        }
        if ((st = td_cp_als(t, ndim, dims, mid, opts, &trial, err)))
            goto cleanup;
        if (trial.rel_error <= tol) {
            td_cp_free(&best);
            best = trial;
            memset(&trial, 0, sizeof trial);
            hi = mid;
            e_hi = best.rel_error;
        } else {
            e_lo = trial.rel_error;
            td_cp_free(&trial);
            lo = mid;
        }
        slow = hi - lo > w / 2 ? slow + 1 : 0;
    }
    *out = best;
    memset(&best, 0, sizeof best);
    st = TD_OK;
cleanup:
    td_cp_free(&best);
    td_cp_free(&trial);
    return st;
}
