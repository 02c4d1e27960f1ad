/* Rank selection for Tucker-2 under a relative error budget.
 *
 * With s (mode 0) and t (mode 1) the unfolding spectra and
 * tail_s(a) = sum_{i>=a} s_i^2, any Tucker-2 with ranks (a, b) has
 *   max(tail_s(a), tail_t(b)) <= ||W - W_hat||^2            (lower bound)
 * because projecting one mode onto a rank-a subspace cannot beat the best
 * rank-a approximation of that unfolding, and the truncated HOSVD gives
 *   ||W - W_hat||^2 <= tail_s(a) + tail_t(b)                (upper bound)
 * (De Lathauwer et al. 2000a, Property 10). HOOI starts at the HOSVD and
 * never loses fit, so the cheapest pair meeting the upper bound is always
 * feasible. Only pairs that are cheaper and pass the lower bound can beat
 * it; those are verified with a real HOOI run, cheapest first, assuming
 * that a pair failing the budget implies every pair it dominates fails. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"

#define TUCKER2_MAX_TRIALS 24

typedef struct cand {
    int64_t a, b, params;
} cand_t;

static int cand_cmp(const void *x, const void *y)
{
    const cand_t *p = x, *q = y;
    if (p->params != q->params)
        return p->params < q->params ? -1 : 1;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

static int64_t params_of(int64_t co, int64_t ci, int64_t k, int64_t a,
                         int64_t b)
{
    return co * a + a * b * k + b * ci;
}

/* tail[r] = sum_{i>=r} s_i^2, r = 0..n */
static void tails(const double *s, int64_t n, double *tail)
{
    tail[n] = 0.0;
    for (int64_t i = n - 1; i >= 0; i--)
        tail[i] = tail[i + 1] + s[i] * s[i];
}

/* Numerical rank: values above the usual max(m,n)*eps*s_0 noise floor. */
static int64_t num_rank(const double *s, int64_t n, int64_t other)
{
    double thr = (double)(n > other ? n : other) * DBL_EPSILON * s[0];
    int64_t r = 0;
    while (r < n && s[r] > thr)
        r++;
    return r < 1 ? 1 : r;
}

td_status td_tucker2_for_tol(const double *w, int64_t cout, int64_t cin,
                             int64_t k, double tol,
                             const td_tucker2_opts_t *opts, td_tucker2_t *out,
                             td_err_t *err)
{
    td_status st;
    double *s0 = NULL, *s1 = NULL, *t0 = NULL, *t1 = NULL;
    cand_t *cands = NULL, *failed = NULL;
    if (!out)
        return td_err_set(err, TD_EINPUT, "tucker2: NULL output");
    memset(out, 0, sizeof *out);
    if (!(tol >= 0.0 && isfinite(tol)))
        return td_err_set(err, TD_EINPUT, "tucker2: tolerance %g is not >= 0", tol);
    if (cout <= 0 || cin <= 0 || k <= 0)
        return td_err_set(err, TD_EINPUT, "tucker2: bad kernel shape");
    if ((st = td_dec_alloc(&s0, (size_t)cout, 1, err)) ||
        (st = td_dec_alloc(&s1, (size_t)cin, 1, err)) ||
        (st = td_dec_alloc(&t0, (size_t)cout + 1, 1, err)) ||
        (st = td_dec_alloc(&t1, (size_t)cin + 1, 1, err)))
        goto cleanup;
    if ((st = td_tucker2_spectra(w, cout, cin, k, s0, s1, err)))
        goto cleanup;
    tails(s0, cout, t0);
    tails(s1, cin, t1);
    double nw2 = t0[0], budget = tol * tol * nw2;
    if (!(nw2 > 0.0)) {
        st = td_tucker2(w, cout, cin, k, 1, 1, opts, out, err);
        goto cleanup;
    }
    if (tol == 0.0) {
        st = td_tucker2(w, cout, cin, k, num_rank(s0, cout, cin * k),
                        num_rank(s1, cin, cout * k), opts, out, err);
        goto cleanup;
    }

    /* Cheapest pair under the upper bound: for each a, the smallest b with
     * tail_s(a) + tail_t(b) <= budget (b only shrinks as a grows). */
    int64_t ua = cout, ub = cin, up = params_of(cout, cin, k, cout, cin);
    int64_t b = cin;
    for (int64_t a = 1; a <= cout; a++) {
        if (t0[a] > budget)
            continue;
        while (b > 1 && t0[a] + t1[b - 1] <= budget)
            b--;
        int64_t p = params_of(cout, cin, k, a, b);
        if (p < up) {
            up = p;
            ua = a;
            ub = b;
        }
    }

    /* Pairs cheaper than that which pass the lower bound. */
    int64_t blo = cin;
    while (blo > 1 && t1[blo - 1] <= budget)
        blo--;
    size_t ncand = 0, cap = 0;
    for (int64_t a = 1; a <= cout; a++) {
        if (t0[a] > budget)
            continue;
        for (int64_t bb = blo; bb <= cin; bb++) {
            int64_t p = params_of(cout, cin, k, a, bb);
            if (p >= up)
                break;
            if (ncand == cap) {
                cap = cap ? 2 * cap : 64;
                cand_t *nc = realloc(cands, cap * sizeof *nc);
                if (!nc) {
                    st = td_err_set(err, TD_ENOMEM, "tucker2: out of memory");
                    goto cleanup;
                }
                cands = nc;
            }
            cands[ncand++] = (cand_t){a, bb, p};
        }
    }
    if (ncand)
        qsort(cands, ncand, sizeof *cands, cand_cmp);
    failed = calloc(TUCKER2_MAX_TRIALS, sizeof *failed);
    if (!failed) {
        st = td_err_set(err, TD_ENOMEM, "tucker2: out of memory");
        goto cleanup;
    }
    int nfail = 0;
    for (size_t c = 0; c < ncand && nfail < TUCKER2_MAX_TRIALS; c++) {
        int dominated = 0;
        for (int f = 0; f < nfail && !dominated; f++)
            dominated = cands[c].a <= failed[f].a && cands[c].b <= failed[f].b;
        if (dominated)
            continue;
        td_tucker2_t trial = {0};
        st = td_tucker2(w, cout, cin, k, cands[c].a, cands[c].b, opts, &trial,
                        err);
        if (st)
            goto cleanup;
        if (trial.rel_error <= tol) {
            *out = trial;
            goto cleanup;
        }
        td_tucker2_free(&trial);
        failed[nfail++] = cands[c];
    }

    /* The bound guarantees this pair; rounding at the boundary is covered
     * by growing the ranks until the measured error complies. */
    for (;;) {
        st = td_tucker2(w, cout, cin, k, ua, ub, opts, out, err);
        if (st || out->rel_error <= tol || (ua == cout && ub == cin))
            break;
        td_tucker2_free(out);
        if (ub < cin)
            ub++;
        else
            ua++;
    }
cleanup:
    free(s0);
    free(s1);
    free(t0);
    free(t1);
    free(cands);
    free(failed);
    return st;
}
