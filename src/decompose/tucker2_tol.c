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
 * it. A bisection on how far the sum bound may be relaxed picks a handful
 * of them to verify with real HOOI runs; when few cheaper candidates are
 * left they are all verified, cheapest first. A pair failing the budget is
 * taken to mean every pair it dominates fails too. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"

#define TUCKER2_BISECT 6
#define TUCKER2_EXHAUSTIVE 12

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

/* Cheapest pair with tail_s(a) + tail_t(b) <= lim whose lower bound
 * max(tail_s(a), tail_t(b)) <= budget; for each a the smallest such b only
 * shrinks as a grows. */
static cand_t cheapest_under(const double *t0, const double *t1, int64_t co,
                             int64_t ci, int64_t k, double lim, double budget)
{
    cand_t best = {co, ci, params_of(co, ci, k, co, ci)};
    int64_t b = ci;
    for (int64_t a = 1; a <= co; a++) {
        if (t0[a] > budget || t0[a] > lim)
            continue;
        while (b > 1 && t1[b - 1] <= budget && t0[a] + t1[b - 1] <= lim)
            b--;
        int64_t p = params_of(co, ci, k, a, b);
        if (p < best.params)
            best = (cand_t){a, b, p};
    }
    return best;
}

/* A pair that fails is assumed to make every pair it dominates fail. */
static int dominated(cand_t p, const cand_t *failed, int nfail)
{
    for (int f = 0; f < nfail; f++)
        if (p.a <= failed[f].a && p.b <= failed[f].b)
            return 1;
    return 0;
}

/* Runs HOOI at p; when it meets tol and is cheaper, it replaces *best. */
static td_status try_pair(const double *w, int64_t co, int64_t ci, int64_t k,
                          double tol, const td_tucker2_opts_t *opts, cand_t p,
                          td_tucker2_t *best, int64_t *best_p, int *ok,
                          td_err_t *err)
{
    td_tucker2_t trial = {0};
    /* only whether p meets tol matters here: sweeps stop once it does, and
     * the chosen pair is converged at the end */
    td_tucker2_opts_t o = opts ? *opts : (td_tucker2_opts_t){0};
    o.stop_below = tol;
    td_status st = td_tucker2(w, co, ci, k, p.a, p.b, &o, &trial, err);
    *ok = 0;
    if (st)
        return st;
    if (trial.rel_error <= tol && p.params < *best_p) {
        td_tucker2_free(best);
        *best = trial;
        *best_p = p.params;
        *ok = 1;
        return TD_OK;
    }
    td_tucker2_free(&trial);
    return TD_OK;
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
    cand_t *cands = NULL;
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

    /* 1. The cheapest pair under the upper bound is feasible; rounding at
     *    the boundary is covered by growing ranks until the measured error
     *    complies. */
    cand_t g = cheapest_under(t0, t1, cout, cin, k, budget, budget);
    td_tucker2_opts_t early = opts ? *opts : (td_tucker2_opts_t){0};
    early.stop_below = tol;
    for (;;) {
        if ((st = td_tucker2(w, cout, cin, k, g.a, g.b, &early, out, err)))
            goto cleanup;
        if (out->rel_error <= tol || (g.a == cout && g.b == cin))
            break;
        td_tucker2_free(out);
        if (g.b < cin)
            g.b++;
        else
            g.a++;
    }
    int64_t best_p = params_of(cout, cin, k, out->r_out, out->r_in);
    cand_t failed[TUCKER2_BISECT + TUCKER2_EXHAUSTIVE];
    int nfail = 0;

    /* 2. HOOI errors fall between the bounds. Relax the sum bound to
     *    c * budget, c in (1, 2] (c = 2 is implied by the lower bound), and
     *    bisect on c with real HOOI runs. */
    double clo = 1.0, chi = 2.0;
    for (int it = 0; it < TUCKER2_BISECT; it++) {
        double c = it == 0 ? chi : 0.5 * (clo + chi);
        cand_t p = cheapest_under(t0, t1, cout, cin, k, c * budget, budget);
        if (p.params >= best_p) {
            clo = c;
            continue;
        }
        if (dominated(p, failed, nfail)) {
            chi = c;
            continue;
        }
        int ok;
        if ((st = try_pair(w, cout, cin, k, tol, opts, p, out, &best_p, &ok,
                           err)))
            goto cleanup;
        if (ok) {
            clo = c;
            if (it == 0)
                break;
        } else {
            failed[nfail++] = p;
            chi = c;
        }
    }

    /* 3. When only a few cheaper pairs pass the lower bound, test them all,
     *    cheapest first, so small layers get the true optimum. */
    size_t ncand = 0;
    int64_t blo = cin;
    while (blo > 1 && t1[blo - 1] <= budget)
        blo--;
    cands = calloc(TUCKER2_EXHAUSTIVE, sizeof *cands);
    if (!cands) {
        st = td_err_set(err, TD_ENOMEM, "tucker2: out of memory");
        goto cleanup;
    }
    for (int64_t a = 1; a <= cout && ncand <= TUCKER2_EXHAUSTIVE; a++) {
        if (t0[a] > budget)
            continue;
        for (int64_t bb = blo; bb <= cin; bb++) {
            cand_t p = {a, bb, params_of(cout, cin, k, a, bb)};
            if (p.params >= best_p)
                break;
            if (dominated(p, failed, nfail))
                continue;
            if (ncand++ < TUCKER2_EXHAUSTIVE)
                cands[ncand - 1] = p;
        }
    }
    if (ncand <= TUCKER2_EXHAUSTIVE) {
        qsort(cands, ncand, sizeof *cands, cand_cmp);
        for (size_t c = 0; c < ncand; c++) {
            int ok;
            if (dominated(cands[c], failed, nfail))
                continue;
            if ((st = try_pair(w, cout, cin, k, tol, opts, cands[c], out,
                               &best_p, &ok, err)))
                goto cleanup;
            if (ok)
                break;
            failed[nfail++] = cands[c];
        }
    }
    /* the winner may have stopped sweeping early: converge it */
    {
        td_tucker2_t fin = {0};
        if ((st = td_tucker2(w, cout, cin, k, out->r_out, out->r_in, opts,
                             &fin, err)))
            goto cleanup;
        /* HOOI only gains fit past the early stop; keep the trial if
         * rounding says otherwise */
        if (fin.rel_error <= tol) {
            td_tucker2_free(out);
            *out = fin;
        } else {
            td_tucker2_free(&fin);
        }
    }
    st = TD_OK;
cleanup:
    free(s0);
    free(s1);
    free(t0);
    free(t1);
    free(cands);
    return st;
}
