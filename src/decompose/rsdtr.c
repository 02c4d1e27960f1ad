/* Reduced-storage direct tensor ring (Gabor & Zdunek 2024): TR-SVD's
 * storage depends on which mode opens the ring (the circular shift) and on
 * how the first rank r is split into r0 * r1; both are searched
 * exhaustively. The first SVD depends only on the shift, so it is computed
 * once per shift (untruncated) and reused for every divisor r0 of its rank
 * and, in the storage search, for every eps tried. Candidates are compared
 * by storage alone (tr_storage.c, no cores), most of them only by bounds
 * on it (tr_bound.c); only those of the least storage are built, and their
 * errors come from the discarded singular values (tr_internal.h), so
 * nothing is ever reconstructed densely. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tr_internal.h"

/* The shifts searched: all of them for RSDTR, shift 0 for TR-SVD. */
static td_status firsts_new(const double *t, int ndim, const int64_t *dims,
                            size_t numel, double norm, double eps, int rsdtr,
                            td_tr_first_t *f, int *nf, td_err_t *err)
{
    *nf = 0;
    for (int s = 0; s < (rsdtr ? ndim : 1); s++) {
        td_status st = td_tr_first_svd(t, ndim, dims, numel, norm, eps, s,
                                       &f[s], err);
        if (st)
            return st;
        ++*nf;
    }
    return TD_OK;
}

static void firsts_free(td_tr_first_t *f, int nf)
{
    for (int s = 0; s < nf; s++)
        td_tr_first_free(&f[s]);
}

static int next_r0(const td_tr_first_t *f, int all_r0, int64_t r0)
{
    if (!all_r0)
        return r0 == 0 ? (int)td_tr_pick_r0(f->r, 0) : 0;
    for (int64_t q = r0 + 1; q <= f->r; q++)
        if (f->r % q == 0)
            return (int)q;
    return 0;
}

/* One (shift, split) at the current eps: its storage bound and, once
 * computed, its storage (-1 until then). */
typedef struct cand {
    int s;
    int64_t r0, lb, sto;
} cand_t;

/* Shift, then r0: the tie order of the chains built. */
static int cand_order(const void *pa, const void *pb)
{
    const cand_t *a = pa, *b = pb;
    if (a->s != b->s)
        return a->s - b->s;
    return a->r0 < b->r0 ? -1 : a->r0 > b->r0;
}

/* Storage bound first. */
static int cand_cmp(const void *pa, const void *pb)
{
    const cand_t *a = pa, *b = pb;
    if (a->lb != b->lb)
        return a->lb < b->lb ? -1 : 1;
    return cand_order(pa, pb);
}

/* Storage bound before any further SVD: the first core is fixed and the
 * ring cuts bound the other ranks, the chain's discarded energy being at
 * most the first truncation's plus delta^2 per later one. */
static int64_t bound0(const td_tr_arcs_t *a, const td_tr_first_t *f, int64_t r0)
{
    int64_t r[TD_MAX_MODES] = {0};
    r[0] = r0;
    r[1] = f->r / r0;
    td_tr_rank_lb(a, f, f->tail2 + (double)(f->ndim - 2) * f->delta * f->delta,
                  r);
    return td_tr_storage_of(f, r);
}

/* Storage bounds once the second unfolding's singular values are known
 * (cached across eps steps): its rank is then exact. With three modes that
 * settles the storage; with four, the last rank R3 is at most the size of
 * the last unfolding, (R2 n_2) x (n_3 r0), and at least what the ring cuts
 * and this: the last truncation leaves R2 x (n_2 ...) rows in a space of
 * dimension n_2 R3, so it discards at least the second unfolding's kept
 * values beyond index n_2 R3, and it may discard at most delta^2. *ub is
 * -1 when no upper bound is known (five modes and more). */
static td_status bound1(td_tr_first_t *f, const td_tr_arcs_t *a, int64_t r0,
                        int64_t *lb, int64_t *ub, td_err_t *err)
{
    td_status st;
    const double *sv;
    int64_t k, r[TD_MAX_MODES] = {0};
    int d = f->ndim;
    double d2 = f->delta * f->delta;
    if ((st = td_tr_first_spec(f, r0, &sv, &k, err)))
        return st;
    r[0] = r0;
    r[1] = f->r / r0;
    double t2;
    r[2] = td_tr_rank_at(sv, k, f->delta, &t2);
    if (d == 3) {
        *lb = *ub = td_tr_storage_of(f, r);
        return TD_OK;
    }
    td_tr_rank_lb(a, f, f->tail2 + t2 + (double)(d - 3) * d2, r);
    *ub = -1;
    if (d == 4) {
        int64_t q = 1;
        for (;; q++) {
            double drop = 0.0;
            for (int64_t j = q * f->mdims[2]; j < r[2]; j++)
                drop += sv[j] * sv[j];
            if (drop <= d2)
                break;
        }
        if (q > r[3])
            r[3] = q;
        int64_t hi[TD_MAX_MODES] = {r[0], r[1], r[2], r[2] * f->mdims[2]};
        if (f->mdims[3] * r0 < hi[3])
            hi[3] = f->mdims[3] * r0;
        /* With r0 = 1 (or r1 = 1) the ring is open there and the chain is
         * TT-SVD: the last unfolding is then the unfolding of T around the
         * last mode (around modes 1-2), compressed on both sides by
         * orthonormal bases, so its singular values are at most T's, and
         * its rank at delta at most T's. */
        int64_t cut = -1;
        if (r0 == 1)
            cut = td_tr_cut_rank(a, f->shift + 3, 1, d2);
        else if (r[1] == 1)
            cut = td_tr_cut_rank(a, f->shift + 1, 2, d2);
        if (cut >= 1 && cut < hi[3])
            hi[3] = cut;
        *ub = td_tr_storage_of(f, hi);
        if (r[3] > hi[3])  /* cannot happen in exact arithmetic */
            r[3] = hi[3];
    }
    *lb = td_tr_storage_of(f, r);
    return TD_OK;
}

/* The least storage over the shifts and splits at the firsts' current eps;
 * with out, also the chain of that storage with the least error (ties: the
 * earlier shift, then the smaller r0). With fit >= 0 and no out, only
 * whether some chain stores at most fit matters: the first that does ends
 * the search (*storage is then its storage, or a bound on it not above
 * fit); when none does, *storage is the least storage or storage bound
 * seen, above fit. Candidates are taken in order of their storage bound,
 * so a bound over the answer (or over fit) ends the search; a is NULL for
 * plain TR-SVD (one candidate). */
static td_status pick(td_tr_first_t *f, int nf, const td_tr_arcs_t *a,
                      int all_r0, double fit, int64_t *storage, td_tr_t *out,
                      td_err_t *err)
{
    static const td_tr_arcs_t none = {0};
    td_status st = TD_OK;
    cand_t *c = NULL;
    size_t n = 0, cap = 0;
    int query = !out && fit >= 0;
    int64_t best = INT64_MAX, est = INT64_MAX;
    if (!a)
        a = &none;
    for (int s = 0; s < nf; s++)
        for (int64_t r0 = next_r0(&f[s], all_r0, 0); r0;
             r0 = next_r0(&f[s], all_r0, r0)) {
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                cand_t *p = realloc(c, cap * sizeof *p);
                if (!p) {
                    st = td_err_set(err, TD_ENOMEM, "tr: out of memory");
                    goto done;
                }
                c = p;
            }
            c[n++] = (cand_t){s, r0, bound0(a, &f[s], r0), -1};
        }
    qsort(c, n, sizeof *c, cand_cmp);
    for (size_t i = 0; i < n; i++) {
        double limit = query ? fit : (double)best;
        if ((double)c[i].lb > limit) {
            if (c[i].lb < est)
                est = c[i].lb;
            break;  /* and so are all later bounds */
        }
        td_tr_first_t *fi = &f[c[i].s];
        if (a->n && fi->ndim >= 3) {
            int64_t lb, ub;
            if ((st = bound1(fi, a, c[i].r0, &lb, &ub, err)))
                goto done;
            if ((double)lb > limit) {
                if (lb < est)
                    est = lb;
                continue;
            }
            if (query && ub >= 0 && (double)ub <= fit) {
                best = ub;  /* fits, whatever its exact storage */
                break;
            }
            if (lb == ub)
                c[i].sto = lb;
        }
        if (c[i].sto < 0 &&
            (st = td_tr_first_storage(fi, c[i].r0, &c[i].sto, err)))
            goto done;
        if (c[i].sto < best)
            best = c[i].sto;
        if (query && (double)best <= fit)
            break;
    }
    if (query && (double)best > fit)
        best = est < best ? est : best;  /* none fits: what is known */
    *storage = best;
    if (!out)
        goto done;
    /* build the chains of the least storage, in shift then r0 order */
    qsort(c, n, sizeof *c, cand_order);
    int have = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].sto != best)
            continue;
        td_tr_t cand;
        if ((st = td_tr_from_first(&f[c[i].s], c[i].r0, &cand, err)))
            goto fail;
        if (!have || cand.rel_error < out->rel_error) {
            if (have)
                td_tr_free(out);
            *out = cand;
            have = 1;
        } else {
            td_tr_free(&cand);
        }
    }
    goto done;
fail:
    if (have)
        td_tr_free(out);
done:
    free(c);
    return st;
}

static void set_eps(td_tr_first_t *f, int nf, double eps)
{
    for (int s = 0; s < nf; s++)
        td_tr_first_set_eps(&f[s], eps);
}

/* The storage search. Storage S(eps), the least over the candidates,
 * falls as eps grows; the search keeps lo (S above the budget B, or 0) and
 * hi (S within it, or 1) and stops when hi - lo <= TD_TR_EPS_STEP, or as
 * soon as S(hi) >= TD_TR_FILL * B: a smaller eps could then gain at most
 * that last fraction of the budget. The next eps comes from interpolating
 * log S linearly between the ends (what each step learnt of S: a storage,
 * or a bound when bounds settled it), falling back to bisection whenever
 * two steps in a row did not halve the bracket. On an early stop the
 * chain at hi is built into out (*built = 1); otherwise the firsts are
 * left at hi. */
static td_status fit_search(td_tr_first_t *f, int nf, const td_tr_arcs_t *a,
                            int rsdtr, double budget, td_tr_t *out, int *built,
                            td_err_t *err)
{
    td_status st;
    *built = 0;
    double lo = 0, hi = 1, s_lo = NAN, s_hi = NAN;
    int slow = 0;
    int64_t sto;
    while (hi - lo > TD_TR_EPS_STEP) {
        double w = hi - lo, mid = 0.5 * (lo + hi);
        if (slow < 2 && isfinite(s_lo) && isfinite(s_hi) && s_lo > s_hi &&
            s_hi > 0) {
            double x = (log(s_lo) - log(budget)) / (log(s_lo) - log(s_hi));
            /* stay off the ends, where a step learns nothing */
            x = x < 0.02 ? 0.02 : x > 0.98 ? 0.98 : x;
            mid = lo + x * w;
        }
        set_eps(f, nf, mid);
        if ((st = pick(f, nf, a, rsdtr, budget, &sto, NULL, err)))
            return st;
        if ((double)sto <= budget) {
            hi = mid;
            s_hi = (double)sto;
            if ((double)sto >= TD_TR_FILL * budget) {
                /* sto may be a bound, or not the least: the least decides
                 * (spectra are cached, so only the build costs again) */
                if ((st = pick(f, nf, a, rsdtr, -1, &sto, NULL, err)))
                    return st;
                if ((double)sto >= TD_TR_FILL * budget) {
                    *built = 1;
                    return pick(f, nf, a, rsdtr, -1, &sto, out, err);
                }
                s_hi = (double)sto;
            }
        } else {
            lo = mid;
            s_lo = (double)sto;
        }
        slow = hi - lo > 0.5 * w ? slow + 1 : 0;
    }
    set_eps(f, nf, hi);
    return TD_OK;
}

/* At tolerance eps, or (max_storage >= 0) the smallest eps whose chain
 * stores at most max_storage values. */
static td_status search(const double *t, int ndim, const int64_t *dims,
                        double eps, int rsdtr, double max_storage,
                        td_tr_t *out, td_err_t *err)
{
    td_status st;
    size_t numel;
    double norm;
    td_tr_first_t f[TD_MAX_MODES];
    td_tr_arcs_t arcs = {0};
    int nf = 0;
    int64_t storage;
    if (!out)
        return td_err_set(err, TD_EINPUT, "tr: NULL output");
    memset(out, 0, sizeof *out);
    if ((st = td_tr_check(t, ndim, dims, eps, &numel, &norm, err)))
        return st;
    if ((st = firsts_new(t, ndim, dims, numel, norm, eps, rsdtr, f, &nf, err)))
        goto done;
    /* plain TR-SVD has one candidate per eps: nothing for bounds to save */
    if (rsdtr &&
        (st = td_tr_arcs_init(&arcs, t, ndim, dims, numel, f, nf, err)))
        goto done;
    if (max_storage >= 0) {
        int built;
        if ((st = fit_search(f, nf, rsdtr ? &arcs : NULL, rsdtr, max_storage,
                             out, &built, err)) || built)
            goto done;
    }
    st = pick(f, nf, rsdtr ? &arcs : NULL, rsdtr, -1, &storage, out, err);
done:
    td_tr_arcs_free(&arcs);
    firsts_free(f, nf);
    return st;
}

td_status td_rsdtr(const double *t, int ndim, const int64_t *dims, double eps,
                   td_tr_t *out, td_err_t *err)
{
    return search(t, ndim, dims, eps, 1, -1, out, err);
}

td_status td_tr_for_storage(const double *t, int ndim, const int64_t *dims,
                            int rsdtr, double max_storage, td_tr_t *out,
                            td_err_t *err)
{
    if (!(max_storage >= 0))
        return td_err_set(err, TD_EINPUT, "tr: storage budget %g is not >= 0",
                          max_storage);
    return search(t, ndim, dims, 0.0, rsdtr, max_storage, out, err);
}
