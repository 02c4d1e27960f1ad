/* Reduced-storage direct tensor ring (Gabor & Zdunek 2024): TR-SVD's
 * storage depends on which mode opens the ring (the circular shift) and on
 * how the first rank r is split into r0 * r1; both are searched
 * exhaustively. The first SVD depends only on the shift, so it is computed
 * once per shift (untruncated) and reused for every divisor r0 of its rank
 * and, in the storage search, for every eps tried. Candidates are first
 * compared by storage alone (no cores are built); only those of the least
 * storage are built, and their errors come from the discarded singular
 * values (tr_internal.h), so nothing is ever reconstructed densely. */
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

/* Storage no chain of this shift and split can go below: the first core
 * is r x n_0 and every later rank is at least 1. */
static double storage_floor(const td_tr_first_t *f, int64_t r0)
{
    double lb = (double)f->r * (double)f->mdims[0];
    lb += (double)(f->r / r0) * (double)f->mdims[1];
    for (int j = 2; j < f->ndim; j++)
        lb += (double)f->mdims[j];
    return lb + (double)(r0 - 1) * (double)f->mdims[f->ndim - 1];
}

/* The least storage over the shifts and splits at the firsts' current eps;
 * with out, also the chain of that storage with the least error (ties: the
 * earlier shift, then the smaller r0). With fit >= 0 and no out, only
 * whether some chain stores at most fit matters: candidates that cannot
 * are skipped and the first that does ends the search. */
static td_status pick(const td_tr_first_t *f, int nf, int all_r0, double fit,
                      int64_t *storage, td_tr_t *out, td_err_t *err)
{
    td_status st;
    int64_t best = -1, sto;
    for (int s = 0; s < nf; s++)
        for (int64_t r0 = next_r0(&f[s], all_r0, 0); r0;
             r0 = next_r0(&f[s], all_r0, r0)) {
            if (!out && fit >= 0 && storage_floor(&f[s], r0) > fit)
                continue;
            if ((st = td_tr_first_storage(&f[s], r0, &sto, err)))
                return st;
            if (best < 0 || sto < best)
                best = sto;
            if (!out && fit >= 0 && (double)sto <= fit)
                goto done;
        }
done:
    if (best < 0)  /* every candidate skipped: none fits */
        best = (int64_t)fit + 1;
    *storage = best;
    if (!out)
        return TD_OK;
    td_tr_t cand;
    int have = 0;
    for (int s = 0; s < nf; s++)
        for (int64_t r0 = next_r0(&f[s], all_r0, 0); r0;
             r0 = next_r0(&f[s], all_r0, r0)) {
            if ((st = td_tr_first_storage(&f[s], r0, &sto, err)))
                goto fail;
            if (sto != best)
                continue;
            if ((st = td_tr_from_first(&f[s], r0, &cand, err)))
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
    return TD_OK;
fail:
    if (have)
        td_tr_free(out);
    return st;
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
    int nf = 0;
    int64_t storage;
    if (!out)
        return td_err_set(err, TD_EINPUT, "tr: NULL output");
    memset(out, 0, sizeof *out);
    if ((st = td_tr_check(t, ndim, dims, eps, &numel, &norm, err)))
        return st;
    if ((st = firsts_new(t, ndim, dims, numel, norm, eps, rsdtr, f, &nf, err)))
        goto done;
    if (max_storage >= 0) {
        /* Storage falls as eps grows (each truncation keeps fewer values):
         * bisect for the smallest eps whose chain fits. */
        double lo = 0, hi = 1;
        for (int it = 0; it < TD_TR_BISECT; it++) {
            double mid = 0.5 * (lo + hi);
            for (int s = 0; s < nf; s++)
                td_tr_first_set_eps(&f[s], mid);
            if ((st = pick(f, nf, rsdtr, max_storage, &storage, NULL, err)))
                goto done;
            if ((double)storage <= max_storage)
                hi = mid;
            else
                lo = mid;
        }
        for (int s = 0; s < nf; s++)
            td_tr_first_set_eps(&f[s], hi);
    }
    st = pick(f, nf, rsdtr, -1, &storage, out, err);
done:
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
