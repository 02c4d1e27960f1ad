/* Lower bounds on tensor-ring storage, from ring cuts.
 *
 * Cutting the ring of a TR approximation T~ at two edges splits its modes
 * into a contiguous arc and the rest; the matching unfolding of T~ has rank
 * at most the product of the two cut ranks. If ||T - T~||^2 <= E, then the
 * same unfolding of T has at most E beyond that rank (Eckart-Young), so
 * the product is at least rho(E), the smallest k whose tail energy is at
 * most E. One unfolding's spectrum thus bounds every candidate chain of
 * every shift and split, which lets the RSDTR search discard most
 * candidates without the SVDs that would settle their ranks. */
#include <stdlib.h>
#include <string.h>

#include "tr_internal.h"

/* Cuts whose unfolding is larger than this on both sides are left out:
 * their spectrum would cost more than the candidates they could discard. */
#define ARC_MAX_SIDE 2048

void td_tr_arcs_free(td_tr_arcs_t *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->tail[i]);
    memset(a, 0, sizeof *a);
}

/* tail[j] = sum_{i >= j} s_i^2 for j = 0..k, from descending s. */
static td_status tail_new(const double *s, int64_t k, double **out,
                          td_err_t *err)
{
    td_status st = td_dec_alloc(out, (size_t)k + 1, 1, err);
    if (st)
        return st;
    double acc = 0.0;
    (*out)[k] = 0.0;
    for (int64_t j = k - 1; j >= 0; j--) {
        acc += s[j] * s[j];
        (*out)[j] = acc;
    }
    return TD_OK;
}

static td_status add_arc(td_tr_arcs_t *a, int start, int len, const double *s,
                         int64_t k, td_err_t *err)
{
    td_status st = tail_new(s, k, &a->tail[a->n], err);
    if (st)
        return st;
    a->start[a->n] = start;
    a->len[a->n] = len;
    a->k[a->n] = k;
    a->n++;
    return TD_OK;
}

td_status td_tr_arcs_init(td_tr_arcs_t *a, const double *t, int ndim,
                          const int64_t *dims, size_t numel,
                          const td_tr_first_t *f, int nf, td_err_t *err)
{
    td_status st;
    memset(a, 0, sizeof *a);
    a->ndim = ndim;
    /* single modes: the first SVD of the shift that opens at that mode */
    for (int s = 0; s < nf; s++)
        if ((st = add_arc(a, f[s].shift, 1, f[s].s, f[s].k, err)))
            goto fail;
    /* longer arcs up to half the ring (an arc and its complement are the
     * same cut) */
    for (int len = 2; 2 * len <= ndim; len++)
        for (int start = 0; start < (2 * len == ndim ? len : ndim); start++) {
            int64_t rows = 1;
            for (int j = 0; j < len; j++)
                rows *= dims[(start + j) % ndim];
            int64_t cols = (int64_t)numel / rows;
            if ((rows < cols ? rows : cols) > ARC_MAX_SIDE ||
                a->n >= TD_TR_MAX_ARCS)
                continue;
            double *sv;
            int64_t k;
            int perm[TD_MAX_MODES];
            for (int j = 0; j < ndim; j++)
                perm[j] = (start + j) % ndim;
            if ((st = td_dec_unfolding_values(t, ndim, dims, numel, perm, len,
                                              &sv, &k, err)))
                goto fail;
            st = add_arc(a, start, len, sv, k, err);
            free(sv);
            if (st)
                goto fail;
        }
    return TD_OK;
fail:
    td_tr_arcs_free(a);
    return st;
}

/* Smallest j with tail[j] <= e. */
static int64_t arc_rank(const double *tail, int64_t k, double e)
{
    int64_t lo = 0, hi = k;  /* tail[k] = 0 <= e */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (tail[mid] <= e)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int64_t td_tr_cut_rank(const td_tr_arcs_t *a, int start, int len, double e)
{
    int d = a->ndim;
    start %= d;
    for (int i = 0; i < a->n; i++)
        if ((a->start[i] == start && a->len[i] == len) ||
            (a->start[i] == (start + len) % d && a->len[i] == d - len))
            return arc_rank(a->tail[i], a->k[i], e);
    return -1;
}

void td_tr_rank_lb(const td_tr_arcs_t *a, const td_tr_first_t *f, double e,
                   int64_t *r)
{
    int d = f->ndim;
    for (int j = 0; j < d; j++)
        if (r[j] <= 0)
            r[j] = -1;  /* unknown, bound 1 */
    for (int i = 0; i < a->n; i++) {
        int p = ((a->start[i] - f->shift) % d + d) % d;
        int q = (p + a->len[i]) % d;
        int unk;
        int64_t known;
        if (r[p] > 0 && r[q] < 0) {
            unk = q;
            known = r[p];
        } else if (r[q] > 0 && r[p] < 0) {
            unk = p;
            known = r[q];
        } else {
            continue;
        }
        int64_t rho = arc_rank(a->tail[i], a->k[i], e);
        int64_t need = (rho + known - 1) / known;
        if (need > -r[unk])
            r[unk] = -need;
    }
    for (int j = 0; j < d; j++)
        if (r[j] < 0)
            r[j] = -r[j];
}

int64_t td_tr_storage_of(const td_tr_first_t *f, const int64_t *r)
{
    int64_t s = 0;
    for (int j = 0; j < f->ndim; j++)
        s += r[j] * f->mdims[j] * r[(j + 1) % f->ndim];
    return s;
}
