/* The tensor ring does not depend on the signs LAPACK gives singular
 * vectors: the first rank's split r = r0 r1 reads U's columns in blocks,
 * which is not sign-invariant, so the ring fixes a sign convention first.
 * Checked by flipping signs of the first factorisation by hand, by the
 * plain SVD against the Gram route the ring takes for a wide unfolding,
 * and by RSDTR on a tensor whose Cout rows are permuted. */
#include <lapacke.h>

#include "decompose/tr_internal.h"
#include "tcheck.h"
#include "test_dec_common.h"

enum { CO = 8, CI = 8, KH = 3, KW = 3, N = CO * CI * KH * KW };
static const int64_t DIMS[4] = {CO, CI, KH, KW};

/* A kernel with a decaying spectrum in every unfolding (a sum of rank-1
 * terms of falling weight plus a little noise): truncations at a tolerance
 * land between close singular values, where a changed spectrum shows. */
static void kernel(double *t)
{
    trng_t g = {2222};
    memset(t, 0, N * sizeof *t);
    for (int q = 0; q < 12; q++) {
        double a[CO], b[CI], c[KH], d[KW], wq = pow(0.8, q);
        for (int i = 0; i < CO; i++) a[i] = trng_gauss(&g);
        for (int i = 0; i < CI; i++) b[i] = trng_gauss(&g);
        for (int i = 0; i < KH; i++) c[i] = trng_gauss(&g);
        for (int i = 0; i < KW; i++) d[i] = trng_gauss(&g);
        for (int i = 0; i < N; i++)
            t[i] += wq * a[i / (CI * KH * KW)] * b[i / (KH * KW) % CI] *
                    c[i / KW % KH] * d[i % KW];
    }
    for (int i = 0; i < N; i++)
        t[i] += 0.01 * trng_gauss(&g);
}

static int same_ranks(const td_tr_t *a, const td_tr_t *b)
{
    for (int k = 0; k <= a->ndim; k++)
        if (a->ranks[k] != b->ranks[k])
            return 0;
    return 1;
}

/* ||full(a) - full(b)|| / ||full(a)||, or 1 when either fails. */
static double ring_diff(const td_tr_t *a, const td_tr_t *b)
{
    double *fa = NULL, *fb = NULL, e = 1;
    td_err_t err = {0};
    if (td_tr_full(a, &fa, &err) == TD_OK && td_tr_full(b, &fb, &err) == TD_OK)
        e = trel_diff(fa, fb, N);
    free(fa);
    free(fb);
    return e;
}

/* Column j of U and row j of S Vt negated: the same factorisation, other
 * signs. Every eps with r0 > 1 must give the same ranks and ring. */
static void test_flipped_first(void)
{
    double t[N];
    kernel(t);
    int split = 0;
    for (double eps = 0.02; eps < 0.6; eps += 0.01) {
        td_tr_first_t f = {0};
        td_tr_t a = {0}, b = {0};
        td_err_t err = {0};
        double norm = tnorm(t, N);
        CHECK(td_tr_first_svd(t, 4, DIMS, N, norm, eps, 0, &f, &err) == TD_OK);
        int64_t r0 = td_tr_pick_r0(f.r, 0);
        if (r0 > 1) {
            split++;
            CHECK(td_tr_from_first(&f, r0, &a, &err) == TD_OK);
            for (int64_t j = 0; j < f.k; j++) {
                if (j % 3 == 1)
                    continue;
                for (int64_t i = 0; i < f.mdims[0]; i++)
                    f.u[i * f.k + j] = -f.u[i * f.k + j];
                for (size_t q = 0; q < f.rest; q++)
                    f.svt[(size_t)j * f.rest + q] = -f.svt[(size_t)j * f.rest + q];
            }
            CHECK(td_tr_from_first(&f, r0, &b, &err) == TD_OK);
            CHECK_MSG(same_ranks(&a, &b), "eps %.2f: ranks %lld %lld %lld %lld "
                      "vs %lld %lld %lld %lld", eps, (long long)a.ranks[0],
                      (long long)a.ranks[1], (long long)a.ranks[2],
                      (long long)a.ranks[3], (long long)b.ranks[0],
                      (long long)b.ranks[1], (long long)b.ranks[2],
                      (long long)b.ranks[3]);
            double e = ring_diff(&a, &b);
            CHECK_MSG(e <= 1e-6, "eps %.2f: rings differ by %g", eps, e);
        }
        td_tr_free(&a);
        td_tr_free(&b);
        td_tr_first_free(&f);
    }
    CHECK(split >= 10);
}

/* The first unfolding (8 x 72) is wide, so the ring takes U from the Gram
 * matrix's eigenvectors; LAPACK's SVD of the same matrix returns its own
 * signs. Both must give the same ring at every eps. */
static void test_gram_vs_svd(void)
{
    double t[N], u[CO * CO], s[CO], vt[CO * (N / CO)];
    kernel(t);
    double copy[N];
    memcpy(copy, t, sizeof copy);
    CHECK(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', CO, N / CO, copy, N / CO, s, u,
                         CO, vt, N / CO) == 0);
    int split = 0;
    for (double eps = 0.02; eps < 0.6; eps += 0.01) {
        td_tr_first_t f = {0};
        td_tr_t a = {0}, b = {0};
        td_err_t err = {0};
        CHECK(td_tr_first_svd(t, 4, DIMS, N, tnorm(t, N), eps, 0, &f, &err) == TD_OK);
        CHECK(f.k == CO && f.rest == N / CO);
        int64_t r0 = td_tr_pick_r0(f.r, 0);
        if (r0 > 1) {
            split++;
            CHECK(td_tr_from_first(&f, r0, &a, &err) == TD_OK);
            memcpy(f.u, u, sizeof u);
            memcpy(f.s, s, sizeof s);
            for (int j = 0; j < CO; j++)
                for (int q = 0; q < N / CO; q++)
                    f.svt[j * (N / CO) + q] = s[j] * vt[j * (N / CO) + q];
            td_tr_first_set_eps(&f, eps);
            CHECK(td_tr_from_first(&f, r0, &b, &err) == TD_OK);
            CHECK_MSG(same_ranks(&a, &b), "eps %.2f: Gram route ranks %lld %lld "
                      "%lld %lld, SVD %lld %lld %lld %lld", eps,
                      (long long)a.ranks[0], (long long)a.ranks[1],
                      (long long)a.ranks[2], (long long)a.ranks[3],
                      (long long)b.ranks[0], (long long)b.ranks[1],
                      (long long)b.ranks[2], (long long)b.ranks[3]);
            double e = ring_diff(&a, &b);
            CHECK_MSG(e <= 1e-6, "eps %.2f: rings differ by %g", eps, e);
        }
        td_tr_free(&a);
        td_tr_free(&b);
        td_tr_first_free(&f);
    }
    CHECK(split >= 10);
}

/* RSDTR on the kernel and on it with its Cout rows reversed (LAPACK sees
 * another matrix and picks its signs afresh): the same ranks, and the
 * same ring up to that permutation. */
static void test_rsdtr_permuted(void)
{
    double t[N], p[N];
    kernel(t);
    int per = N / CO;
    for (int o = 0; o < CO; o++)
        memcpy(p + o * per, t + (CO - 1 - o) * per, (size_t)per * sizeof *p);
    for (double eps = 0.1; eps < 0.5; eps += 0.05) {
        td_tr_t a = {0}, b = {0};
        td_err_t err = {0};
        CHECK(td_rsdtr(t, 4, DIMS, eps, &a, &err) == TD_OK);
        CHECK(td_rsdtr(p, 4, DIMS, eps, &b, &err) == TD_OK);
        CHECK_MSG(same_ranks(&a, &b) && a.shift == b.shift && a.r0 == b.r0,
                  "eps %.2f: rsdtr shift %d r0 %lld vs shift %d r0 %lld", eps,
                  a.shift, (long long)a.r0, b.shift, (long long)b.r0);
        double *fa = NULL, *fb = NULL;
        if (td_tr_full(&a, &fa, &err) == TD_OK && td_tr_full(&b, &fb, &err) == TD_OK) {
            double back[N];
            for (int o = 0; o < CO; o++)
                memcpy(back + o * per, fb + (CO - 1 - o) * per,
                       (size_t)per * sizeof *back);
            double e = trel_diff(fa, back, N);
            CHECK_MSG(e <= 1e-6, "eps %.2f: rsdtr rings differ by %g", eps, e);
        }
        free(fa);
        free(fb);
        td_tr_free(&a);
        td_tr_free(&b);
    }
}

int main(void)
{
    test_flipped_first();
    test_gram_vs_svd();
    test_rsdtr_permuted();
    return TCHECK_DONE();
}
