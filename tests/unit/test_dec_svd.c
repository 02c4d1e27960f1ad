/* Truncated SVD, singular values, rank_for_tol, finite checks. */
#include "decompose/td_decompose.h"
#include "tcheck.h"
#include "test_dec_common.h"

static void test_rank_for_tol(void)
{
    double s[4] = {4.0, 3.0, 0.0, 0.0};
    CHECK(td_rank_for_tol(s, 4, 0.0) == 2);
    /* tail after rank 1 is 3 of a total 5: 0.6 */
    CHECK(td_rank_for_tol(s, 4, 0.6) == 1);
    CHECK(td_rank_for_tol(s, 4, 0.59) == 2);
    CHECK(td_rank_for_tol(s, 4, 2.0) == 1); /* >= 1 when any s > 0 */
    double z[3] = {0, 0, 0};
    CHECK(td_rank_for_tol(z, 3, 0.1) == 0);
}

static void test_finite(void)
{
    td_err_t err = {0};
    double a[6] = {1, 2, 3, 4, 5, 6};
    CHECK(td_check_finite(a, 6, &err) == TD_OK);
    a[4] = NAN;
    CHECK(td_check_finite(a, 6, &err) == TD_ENUMERIC);
    CHECK(strstr(err.msg, "4") != NULL);
    td_svd_t s = {0};
    CHECK(td_svd(a, 2, 3, 1, 0.0, &s, &err) == TD_ENUMERIC);
    a[4] = INFINITY; /* LAPACK's SVD would not return on this */
    CHECK(td_svd(a, 2, 3, 0, 0.1, &s, &err) == TD_ENUMERIC);
    double sv[2];
    CHECK(td_singular_values(a, 2, 3, sv, &err) == TD_ENUMERIC);
    td_svd_free(&s);
    td_svd_free(&s); /* safe twice */
}

static void test_exact_and_monotone(void)
{
    trng_t r = {11};
    const int64_t m = 20, n = 15, k = 3;
    double *b = trand(&r, m * k), *c = trand(&r, k * n);
    double *a = malloc(m * n * sizeof *a), *rec = malloc(m * n * sizeof *rec);
    tmatmul(b, c, a, m, k, n);
    td_err_t err = {0};
    td_svd_t s = {0};
    CHECK(td_svd(a, m, n, k, 0.0, &s, &err) == TD_OK);
    CHECK(s.rank == k && s.m == m && s.n == n);
    CHECK_MSG(s.rel_error < 1e-12, "rank-3 exact: %g", s.rel_error);
    tmatmul(s.left, s.right, rec, m, k, n);
    CHECK(trel_diff(a, rec, m * n) < 1e-12);
    /* left = U sqrt(S), right = sqrt(S) Vt: left^T left = right right^T = S */
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++) {
            double l = 0, rr = 0;
            for (int64_t q = 0; q < m; q++)
                l += s.left[q * k + i] * s.left[q * k + j];
            for (int64_t q = 0; q < n; q++)
                rr += s.right[i * n + q] * s.right[j * n + q];
            double want = i == j ? s.sv[i] : 0.0;
            CHECK(fabs(l - want) < 1e-10 * s.sv[0]);
            CHECK(fabs(rr - want) < 1e-10 * s.sv[0]);
        }
    /* tol 0 finds the exact rank from the spectrum */
    td_svd_free(&s);
    CHECK(td_svd(a, m, n, 0, 0.0, &s, &err) == TD_OK);
    CHECK_MSG(s.rel_error < 1e-12, "%g", s.rel_error);
    td_svd_free(&s);

    /* error decreases with rank on a full-rank matrix and tolerances hold */
    double *g = trand(&r, m * n);
    double prev = 2.0;
    for (int64_t q = 1; q <= n + 3; q++) {
        CHECK(td_svd(g, m, n, q, 0.0, &s, &err) == TD_OK);
        CHECK(s.rank == (q < n ? q : n)); /* capped at min(m, n) */
        CHECK_MSG(s.rel_error <= prev + 1e-15, "rank %lld", (long long)q);
        tmatmul(s.left, s.right, rec, m, s.rank, n);
        CHECK(fabs(trel_diff(g, rec, m * n) - s.rel_error) < 1e-12);
        prev = s.rel_error;
        td_svd_free(&s);
    }
    CHECK(prev < 1e-12);
    double eps[] = {0.9, 0.5, 0.3, 0.1, 0.05, 0.01, 1e-6};
    for (size_t e = 0; e < sizeof eps / sizeof *eps; e++) {
        CHECK(td_svd(g, m, n, 0, eps[e], &s, &err) == TD_OK);
        CHECK_MSG(s.rel_error <= eps[e], "eps %g err %g", eps[e], s.rel_error);
        int64_t rk = s.rank;
        td_svd_free(&s);
        if (rk > 1) { /* and it is the smallest such rank */
            CHECK(td_svd(g, m, n, rk - 1, 0.0, &s, &err) == TD_OK);
            CHECK(s.rel_error > eps[e]);
            td_svd_free(&s);
        }
    }
    /* singular values: descending, energy equals ||A||^2, match td_svd */
    double sv[15];
    CHECK(td_singular_values(g, m, n, sv, &err) == TD_OK);
    double e2 = 0;
    for (int i = 0; i < n; i++) {
        e2 += sv[i] * sv[i];
        if (i)
            CHECK(sv[i] <= sv[i - 1]);
    }
    double ng = tnorm(g, m * n);
    CHECK(fabs(e2 - ng * ng) < 1e-10 * ng * ng);
    /* wide matrix uses the same layout conventions */
    double *gt = malloc(m * n * sizeof *gt);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            gt[j * m + i] = g[i * n + j];
    CHECK(td_svd(gt, n, m, 4, 0.0, &s, &err) == TD_OK);
    tmatmul(s.left, s.right, rec, n, 4, m);
    CHECK(fabs(trel_diff(gt, rec, m * n) - s.rel_error) < 1e-12);
    CHECK(fabs(s.sv[0] - sv[0]) < 1e-12 * sv[0]);
    td_svd_free(&s);
    free(gt);
    free(g);
    free(a);
    free(b);
    free(c);
    free(rec);
}

static void test_zero(void)
{
    double z[12] = {0};
    td_err_t err = {0};
    td_svd_t s = {0};
    CHECK(td_svd(z, 3, 4, 0, 0.1, &s, &err) == TD_OK);
    CHECK(s.rank == 1 && s.rel_error == 0.0);
    CHECK(s.left[0] == 0.0 && s.right[0] == 0.0);
    td_svd_free(&s);
    CHECK(td_svd(z, 0, 4, 1, 0.0, &s, &err) == TD_EINPUT);
}

int main(void)
{
    test_rank_for_tol();
    test_finite();
    test_exact_and_monotone();
    test_zero();
    return TCHECK_DONE();
}
