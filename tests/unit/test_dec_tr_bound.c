/* The tensor-ring search's internals against the chains they stand for:
 * storage from Gram spectra (cached across eps) equals the storage of the
 * chain built by exact SVDs, and the ring-cut rank bounds hold for every
 * chain TR-SVD builds, for every shift and split. */
#include "decompose/td_decompose.h"
#include "decompose/tr_internal.h"
#include "tcheck.h"
#include "test_dec_common.h"

/* Conv-like: noise scaled down along the first two modes, plus a spike so
 * that some spectra have a gap. */
static double *kernel(trng_t *r, const int64_t *d, size_t *n, double *norm)
{
    *n = (size_t)(d[0] * d[1] * d[2] * d[3]);
    double *t = trand(r, *n);
    size_t inner = (size_t)(d[2] * d[3]);
    *norm = 0;
    for (size_t i = 0; i < *n; i++) {
        size_t a = i / (inner * (size_t)d[1]), b = i / inner % (size_t)d[1];
        t[i] /= (1.0 + (double)a / 4.0) * (1.0 + (double)b / 4.0);
        if (i % inner == inner / 2)
            t[i] += 0.5;
        *norm += t[i] * t[i];
    }
    *norm = sqrt(*norm);
    return t;
}

static void test_storage_and_bounds(void)
{
    const int64_t shapes[][4] = {{12, 10, 3, 3}, {9, 16, 3, 3}, {20, 6, 3, 3}};
    const double eps[] = {0.1, 0.3, 0.1, 0.55}; /* 0.1 twice: cached spectra */
    long checked = 0, tt_checked = 0;
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++) {
        trng_t r = {700 + c};
        const int64_t *d = shapes[c];
        size_t n;
        double norm;
        double *t = kernel(&r, d, &n, &norm);
        td_err_t err = {0};
        td_tr_first_t f[4];
        for (int s = 0; s < 4; s++)
            CHECK(td_tr_first_svd(t, 4, d, n, norm, 0.1, s, &f[s], &err) == TD_OK);
        td_tr_arcs_t arcs;
        CHECK(td_tr_arcs_init(&arcs, t, 4, d, n, f, 4, &err) == TD_OK);
        CHECK(arcs.n == 6); /* four modes, two pair cuts */
        for (size_t e = 0; e < sizeof eps / sizeof *eps; e++)
            for (int s = 0; s < 4; s++) {
                td_tr_first_set_eps(&f[s], eps[e]);
                for (int64_t r0 = 1; r0 <= f[s].r; r0++) {
                    if (f[s].r % r0)
                        continue;
                    int64_t sto = -1;
                    td_tr_t tr = {0};
                    CHECK(td_tr_first_storage(&f[s], r0, &sto, &err) == TD_OK);
                    CHECK(td_tr_from_first(&f[s], r0, &tr, &err) == TD_OK);
                    CHECK_MSG(sto == tr.storage, "shape %zu eps %g shift %d r0 "
                              "%lld: Gram storage %lld, built %lld", c, eps[e],
                              s, (long long)r0, (long long)sto,
                              (long long)tr.storage);
                    /* ranks in shifted order, r[j] before shifted mode j */
                    int64_t got[4], lb[4] = {r0, f[s].r / r0, 0, 0};
                    for (int j = 0; j < 4; j++)
                        got[j] = tr.ranks[(j + s) % 4];
                    double e2 = tr.rel_error * norm * tr.rel_error * norm;
                    td_tr_rank_lb(&arcs, &f[s], e2 * (1 + 1e-9), lb);
                    for (int j = 0; j < 4; j++)
                        CHECK_MSG(got[j] >= lb[j], "shape %zu shift %d r0 %lld: "
                                  "rank %d is %lld, bound %lld", c, s,
                                  (long long)r0, j, (long long)got[j],
                                  (long long)lb[j]);
                    CHECK(td_tr_storage_of(&f[s], lb) <= tr.storage);
                    /* ring open at r0 or r1: TT-SVD, whose last rank is at
                     * most the cut's rank at delta */
                    double d2 = f[s].delta * f[s].delta * (1 - 1e-9);
                    int64_t cut = r0 == 1 ? td_tr_cut_rank(&arcs, s + 3, 1, d2)
                                  : lb[1] == 1 ? td_tr_cut_rank(&arcs, s + 1, 2, d2)
                                               : -1;
                    if (r0 == 1 || lb[1] == 1) {
                        CHECK(cut >= 1);
                        CHECK_MSG(got[3] <= cut, "shape %zu shift %d r0 %lld: "
                                  "last rank %lld over the cut's %lld", c, s,
                                  (long long)r0, (long long)got[3],
                                  (long long)cut);
                        tt_checked++;
                    }
                    checked++;
                    td_tr_free(&tr);
                }
            }
        td_tr_arcs_free(&arcs);
        for (int s = 0; s < 4; s++)
            td_tr_first_free(&f[s]);
        free(t);
    }
    /* the cases reach both kinds of candidate, many times */
    CHECK_MSG(checked > 100 && tt_checked > 50, "%ld candidates, %ld TT", checked,
              tt_checked);
}

int main(void)
{
    test_storage_and_bounds();
    return TCHECK_DONE();
}
