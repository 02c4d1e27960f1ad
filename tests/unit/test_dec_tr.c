/* Tensor ring: TR-SVD exactness and tolerance, core layout against an
 * independent trace formula, and RSDTR against brute force. */
#include "decompose/td_decompose.h"
#include "tcheck.h"
#include "test_dec_common.h"

static size_t numel(int nd, const int64_t *d)
{
    size_t n = 1;
    for (int m = 0; m < nd; m++)
        n *= (size_t)d[m];
    return n;
}

/* T[i] = trace(G_0[:, i_0, :] ... G_{d-1}[:, i_{d-1}, :]), naive. */
static void tr_naive(int nd, const int64_t *d, const int64_t *rk,
                     double *const *g, double *out)
{
    size_t n = numel(nd, d);
    double *a = malloc(64 * 64 * sizeof *a), *b = malloc(64 * 64 * sizeof *b);
    for (size_t lin = 0; lin < n; lin++) {
        size_t idx[8] = {0}, rem = lin;
        for (int m = nd - 1; m >= 0; m--) {
            idx[m] = rem % (size_t)d[m];
            rem /= (size_t)d[m];
        }
        /* a = G_0[:, i0, :] (rk0 x rk1) */
        int64_t r0 = rk[0], rc = rk[1];
        for (int64_t x = 0; x < r0; x++)
            for (int64_t y = 0; y < rc; y++)
                a[x * rc + y] = g[0][(x * d[0] + (int64_t)idx[0]) * rc + y];
        for (int m = 1; m < nd; m++) {
            int64_t rn = rk[m + 1];
            for (int64_t x = 0; x < r0; x++)
                for (int64_t y = 0; y < rn; y++) {
                    double s = 0;
                    for (int64_t z = 0; z < rc; z++)
                        s += a[x * rc + z] *
                             g[m][(z * d[m] + (int64_t)idx[m]) * rn + y];
                    b[x * rn + y] = s;
                }
            double *t = a;
            a = b;
            b = t;
            rc = rn;
        }
        double tr = 0;
        for (int64_t x = 0; x < r0; x++)
            tr += a[x * rc + x];
        out[lin] = tr;
    }
    free(a);
    free(b);
}

static double naive_err(const double *t, const td_tr_t *tr)
{
    size_t n = numel(tr->ndim, tr->dims);
    double *rec = malloc(n * sizeof *rec);
    tr_naive(tr->ndim, tr->dims, tr->ranks, tr->cores, rec);
    double e = trel_diff(t, rec, n);
    free(rec);
    return e;
}

static int64_t storage_of(const td_tr_t *tr)
{
    int64_t s = 0;
    for (int k = 0; k < tr->ndim; k++)
        s += tr->ranks[k] * tr->dims[k] * tr->ranks[k + 1];
    return s;
}

static double *tr_tensor(trng_t *r, int nd, const int64_t *d, const int64_t *rk)
{
    double *g[8] = {0};
    for (int m = 0; m < nd; m++)
        g[m] = trand(r, (size_t)(rk[m] * d[m] * rk[m + 1]));
    double *t = malloc(numel(nd, d) * sizeof *t);
    tr_naive(nd, d, rk, g, t);
    for (int m = 0; m < nd; m++)
        free(g[m]);
    return t;
}

static void test_exact(void)
{
    trng_t r = {21};
    int64_t d[4] = {7, 8, 6, 5}, rk[5] = {2, 3, 2, 2, 2};
    double *t = tr_tensor(&r, 4, d, rk);
    td_err_t err = {0};
    td_tr_t tr = {0};
    /* eps 0: exact to rounding whatever the split */
    for (int s = 0; s < 4; s++) {
        CHECK(td_tr_svd(t, 4, d, 0.0, s, 0, &tr, &err) == TD_OK);
        CHECK_MSG(tr.rel_error < 1e-12, "shift %d: %g", s, tr.rel_error);
        CHECK(fabs(naive_err(t, &tr) - tr.rel_error) < 1e-12);
        CHECK(tr.ranks[4] == tr.ranks[0] && tr.storage == storage_of(&tr));
        CHECK(tr.shift == s);
        for (int k = 0; k < 4; k++)
            CHECK(tr.dims[k] == d[k]);
        td_tr_free(&tr);
    }
    /* a tiny eps finds the generating first split (2 x 3); the later
     * TR-SVD ranks need not be minimal, because the first SVD fixes the
     * (r0, r1) index only up to a gauge that mixes the two */
    CHECK(td_tr_svd(t, 4, d, 1e-10, 0, 2, &tr, &err) == TD_OK);
    CHECK_MSG(tr.rel_error < 1e-10, "%g", tr.rel_error);
    CHECK(fabs(naive_err(t, &tr) - tr.rel_error) < 1e-12);
    CHECK(tr.ranks[0] == 2 && tr.ranks[1] == 3 && tr.ranks[4] == 2);
    CHECK(tr.r0 == 2);
    CHECK(tr.storage < (int64_t)numel(4, d));
    td_tr_free(&tr);
    /* r0 <= 0: divisor of the first rank (6) nearest sqrt(6) is 2 */
    CHECK(td_tr_svd(t, 4, d, 1e-10, 0, 0, &tr, &err) == TD_OK);
    CHECK(tr.r0 == 2 && tr.ranks[1] == 3);
    td_tr_free(&tr);
    /* shifted: core k still belongs to mode k */
    CHECK(td_tr_svd(t, 4, d, 1e-10, 2, 1, &tr, &err) == TD_OK);
    CHECK(tr.rel_error < 1e-10 && tr.ranks[2] == 1);
    CHECK(fabs(naive_err(t, &tr) - tr.rel_error) < 1e-12);
    td_tr_free(&tr);
    free(t);
}

static void test_tolerance(void)
{
    trng_t r = {22};
    int64_t d[4] = {5, 4, 6, 3};
    double *t = trand(&r, numel(4, d));
    /* some decay so that the truncations are non-trivial */
    for (size_t i = 0; i < numel(4, d); i++)
        t[i] *= 1.0 / (1.0 + (double)(i % 7));
    double eps[] = {0.0, 1e-8, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8};
    size_t ne = sizeof eps / sizeof *eps;
    td_err_t err = {0};
    for (int s = 0; s < 4; s++) {
        double prev_err = -1;
        int64_t prev_store = INT64_MAX;
        for (size_t e = 0; e < ne; e++) {
            td_tr_t tr = {0};
            CHECK(td_tr_svd(t, 4, d, eps[e], s, 1, &tr, &err) == TD_OK);
            CHECK_MSG(tr.rel_error <= eps[e] + 1e-14, "shift %d eps %g: %g", s,
                      eps[e], tr.rel_error);
            CHECK(fabs(naive_err(t, &tr) - tr.rel_error) < 1e-12);
            /* larger eps: never more storage, never less error */
            CHECK(tr.storage <= prev_store);
            CHECK(tr.rel_error >= prev_err - 1e-14);
            prev_err = tr.rel_error;
            prev_store = tr.storage;
            td_tr_free(&tr);
        }
    }
    int64_t prev_store = INT64_MAX;
    for (size_t e = 0; e < ne; e++) {
        td_tr_t tr = {0};
        CHECK(td_rsdtr(t, 4, d, eps[e], &tr, &err) == TD_OK);
        CHECK(tr.rel_error <= eps[e] + 1e-14);
        CHECK(fabs(naive_err(t, &tr) - tr.rel_error) < 1e-12);
        CHECK_MSG(tr.storage <= prev_store, "eps %g: storage %lld > %lld", eps[e],
                  (long long)tr.storage, (long long)prev_store);
        prev_store = tr.storage;
        td_tr_free(&tr);
    }
    free(t);
}

/* Noise whose scale decays along the first two modes, as in trained conv
 * kernels: unfolding spectra fall off smoothly, so the storage bounds of
 * the RSDTR search (tr_bound.c) settle most candidates there. */
static double *decaying(trng_t *r, int nd, const int64_t *d)
{
    size_t n = numel(nd, d), inner = n / (size_t)(d[0] * d[1]);
    double *t = trand(r, n);
    for (size_t i = 0; i < n; i++) {
        size_t a = i / (inner * (size_t)d[1]), b = i / inner % (size_t)d[1];
        t[i] /= (1.0 + (double)a / 3.0) * (1.0 + (double)b / 3.0);
    }
    return t;
}

/* RSDTR's pick must be the best of all td_tr_svd(shift, r0). */
static void test_rsdtr_bruteforce(void)
{
    struct {
        int nd;
        int64_t d[5];
        double eps;
        int decay;
    } cases[] = {
        {3, {6, 5, 4}, 0.1, 0}, {3, {6, 5, 4}, 0.0, 0},
        {4, {4, 3, 5, 2}, 0.15, 0}, {4, {3, 4, 3, 4}, 0.05, 0},
        {5, {3, 2, 3, 2, 3}, 0.2, 0}, {2, {6, 8}, 0.1, 0},
        {4, {16, 12, 3, 3}, 0.3, 1}, {4, {12, 16, 3, 3}, 0.5, 1},
        {4, {20, 14, 3, 3}, 0.15, 1}, {3, {16, 12, 9}, 0.3, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        trng_t r = {300 + c};
        int nd = cases[c].nd;
        const int64_t *d = cases[c].d;
        double *t = cases[c].decay ? decaying(&r, nd, d)
                                   : trand(&r, numel(nd, d));
        td_err_t err = {0};
        td_tr_t best = {0};
        CHECK(td_rsdtr(t, nd, d, cases[c].eps, &best, &err) == TD_OK);
        int64_t bs = INT64_MAX, bshift = -1, br0 = -1;
        double be = 2;
        for (int s = 0; s < nd; s++) {
            td_tr_t one = {0};
            CHECK(td_tr_svd(t, nd, d, cases[c].eps, s, 1, &one, &err) == TD_OK);
            int64_t rfirst = one.ranks[(s + 1) % nd];
            td_tr_free(&one);
            for (int64_t q = 1; q <= rfirst; q++) {
                if (rfirst % q)
                    continue;
                td_tr_t tr = {0};
                CHECK(td_tr_svd(t, nd, d, cases[c].eps, s, q, &tr, &err) == TD_OK);
                CHECK(tr.r0 == q && tr.ranks[s] == q);
                if (tr.storage < bs || (tr.storage == bs && tr.rel_error < be)) {
                    bs = tr.storage;
                    be = tr.rel_error;
                    bshift = s;
                    br0 = q;
                }
                td_tr_free(&tr);
            }
        }
        CHECK_MSG(best.storage == bs && best.shift == bshift && best.r0 == br0,
                  "case %zu: rsdtr (%d, %lld, %lld), brute force (%lld, %lld, %lld)",
                  c, best.shift, (long long)best.r0, (long long)best.storage,
                  (long long)bshift, (long long)br0, (long long)bs);
        CHECK(best.rel_error == be);
        CHECK(best.rel_error <= cases[c].eps + 1e-14);
        td_tr_free(&best);
        free(t);
    }
}

/* td_tr_for_storage against the plain method it searches over: the chain
 * is td_rsdtr's (td_tr_svd's) at the eps it reports, to the rank; it fits;
 * and its eps is the least that does, to TD_TR_EPS_STEP, unless it fills
 * at least TD_TR_FILL of the budget. Errors equal the reconstruction's. */
static void test_for_storage(void)
{
    struct {
        int nd;
        int64_t d[4], rk[5];
        double noise, ratio;
    } cases[] = {
        {4, {8, 6, 3, 3}, {2, 3, 2, 2, 2}, 0.05, 0.5},
        {4, {8, 6, 3, 3}, {2, 3, 2, 2, 2}, 0.05, 0.2},
        {4, {12, 10, 3, 3}, {3, 4, 2, 2, 3}, 0.3, 0.35},
        {4, {24, 20, 3, 3}, {4, 6, 3, 3, 5}, 0.2, 0.3},
        {3, {9, 7, 5}, {2, 4, 3, 2}, 0.1, 0.3},
        {4, {6, 5, 3, 3}, {1, 1, 1, 1, 1}, 0.0, 0.001}, /* cannot fit */
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        trng_t r = {500 + c};
        int nd = cases[c].nd;
        const int64_t *d = cases[c].d;
        size_t n = numel(nd, d);
        double *t = tr_tensor(&r, nd, d, cases[c].rk);
        double nrm = 0;
        for (size_t i = 0; i < n; i++)
            nrm += t[i] * t[i];
        nrm = sqrt(nrm / (double)n);
        for (size_t i = 0; i < n; i++)
            t[i] += cases[c].noise * nrm * trng_gauss(&r);
        double budget = cases[c].ratio * (double)n;
        for (int rs = 0; rs <= 1; rs++) {
            td_err_t err = {0};
            td_tr_t got = {0}, want = {0}, less = {0};
            CHECK(td_tr_for_storage(t, nd, d, rs, budget, &got, &err) == TD_OK);
            CHECK((rs ? td_rsdtr(t, nd, d, got.eps, &want, &err)
                      : td_tr_svd(t, nd, d, got.eps, 0, 0, &want, &err)) == TD_OK);
            CHECK_MSG(got.storage == want.storage && got.shift == want.shift &&
                          got.r0 == want.r0,
                      "case %zu rsdtr %d: storage %lld/%lld shift %d/%d r0 "
                      "%lld/%lld", c, rs, (long long)got.storage,
                      (long long)want.storage, got.shift, want.shift,
                      (long long)got.r0, (long long)want.r0);
            for (int k = 0; k <= nd; k++)
                CHECK(got.ranks[k] == want.ranks[k]);
            CHECK(fabs(got.rel_error - want.rel_error) < 1e-12);
            if (c + 1 < sizeof cases / sizeof *cases &&
                (double)got.storage < TD_TR_FILL * budget) {
                double e = got.eps - TD_TR_EPS_STEP;
                CHECK_MSG(e > 0, "case %zu rsdtr %d: eps %g", c, rs, got.eps);
                CHECK((rs ? td_rsdtr(t, nd, d, e, &less, &err)
                          : td_tr_svd(t, nd, d, e, 0, 0, &less, &err)) == TD_OK);
                CHECK_MSG((double)less.storage > budget,
                          "case %zu rsdtr %d: eps %g - step also fits (%lld)",
                          c, rs, got.eps, (long long)less.storage);
                td_tr_free(&less);
            }
            CHECK_MSG(fabs(naive_err(t, &got) - got.rel_error) < 1e-10,
                      "case %zu: reported %g, reconstruction %g", c,
                      got.rel_error, naive_err(t, &got));
            if (c + 1 < sizeof cases / sizeof *cases)
                CHECK((double)got.storage <= budget);
            else
                CHECK((double)got.storage > budget); /* the eps = 1 chain */
            td_tr_free(&got);
            td_tr_free(&want);
        }
        free(t);
    }
}

static void test_edges(void)
{
    int64_t d[3] = {2, 3, 2};
    double z[12] = {0};
    td_err_t err = {0};
    td_tr_t tr = {0};
    CHECK(td_tr_svd(z, 3, d, 0.1, 0, 0, &tr, &err) == TD_OK);
    CHECK(tr.rel_error == 0.0 && tr.ranks[0] == 1);
    td_tr_free(&tr);
    CHECK(td_rsdtr(z, 3, d, 0.0, &tr, &err) == TD_OK);
    CHECK(tr.rel_error == 0.0);
    td_tr_free(&tr);
    CHECK(td_tr_svd(z, 3, d, 0.1, 3, 0, &tr, &err) == TD_EINPUT);
    CHECK(td_tr_svd(z, 1, d, 0.1, 0, 0, &tr, &err) == TD_EINPUT);
    CHECK(td_tr_svd(z, 3, d, -1.0, 0, 0, &tr, &err) == TD_EINPUT);
    z[3] = NAN;
    CHECK(td_tr_svd(z, 3, d, 0.1, 0, 0, &tr, &err) == TD_ENUMERIC);
    z[3] = INFINITY;
    CHECK(td_rsdtr(z, 3, d, 0.1, &tr, &err) == TD_ENUMERIC);
    double *full = NULL;
    CHECK(td_tr_full(&tr, &full, &err) == TD_EINPUT && full == NULL);
    td_tr_free(&tr);
}

int main(void)
{
    test_exact();
    test_tolerance();
    test_rsdtr_bruteforce();
    test_for_storage();
    test_edges();
    return TCHECK_DONE();
}
