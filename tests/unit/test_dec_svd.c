/* Truncated SVD, singular values, rank_for_tol, finite checks. */
#include <lapacke.h>

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

/* Long matrices take the Gram route (svd.c): against LAPACK's dgesdd on
 * the same matrix, the singular values above 1e-6 of the largest agree to
 * 1e-9 relative, the reported error is the reconstruction's to 1e-7, it
 * matches Eckart-Young from the exact values, and the factors' product is
 * the best rank-r approximation (equal error to the exact truncation). */
static void test_gram_route(void)
{
    const int64_t shapes[][2] = {{80, 400}, {400, 70}, {64, 192}};
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++) {
        int64_t m = shapes[c][0], n = shapes[c][1], k = m < n ? m : n;
        trng_t r = {900 + c};
        double *a = malloc((size_t)(m * n) * sizeof *a);
        /* decaying spectrum: scale column j by 0.9^j (wide) or row i (tall) */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                a[i * n + j] = trng_gauss(&r) * pow(0.93, (double)(m <= n ? i : j));
        double *w = malloc((size_t)(m * n) * sizeof *w), *ex = malloc((size_t)k * sizeof *ex);
        memcpy(w, a, (size_t)(m * n) * sizeof *w);
        double *uu = malloc((size_t)(m * k) * sizeof *uu), *vv = malloc((size_t)(k * n) * sizeof *vv);
        CHECK(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, w,
                             (lapack_int)n, ex, uu, (lapack_int)k, vv, (lapack_int)n) == 0);
        free(uu);
        free(vv);
        double *sv = malloc((size_t)k * sizeof *sv);
        td_err_t err = {0};
        CHECK(td_singular_values(a, m, n, sv, &err) == TD_OK);
        double worst = 0;
        for (int64_t i = 0; i < k; i++)
            if (ex[i] > 1e-6 * ex[0])
                worst = fmax(worst, fabs(sv[i] - ex[i]) / ex[i]);
        CHECK_MSG(worst < 1e-9, "%lldx%lld: singular values off by %g", (long long)m,
                  (long long)n, worst);
        double tot = 0;
        for (int64_t i = 0; i < k; i++)
            tot += ex[i] * ex[i];
        for (int64_t rank = 1; rank <= k; rank += k / 3) {
            td_svd_t f = {0};
            CHECK(td_svd(a, m, n, rank, 0, &f, &err) == TD_OK);
            double *rec = calloc((size_t)(m * n), sizeof *rec);
            for (int64_t i = 0; i < m; i++)
                for (int64_t q = 0; q < f.rank; q++)
                    for (int64_t j = 0; j < n; j++)
                        rec[i * n + j] += f.left[i * f.rank + q] * f.right[q * n + j];
            double real = trel_diff(a, rec, (size_t)(m * n)), tail = 0;
            for (int64_t i = rank; i < k; i++)
                tail += ex[i] * ex[i];
            double ey = sqrt(tail / tot);
            CHECK_MSG(fabs(real - f.rel_error) < 1e-7, "%lldx%lld rank %lld: reported %g, "
                      "reconstruction %g", (long long)m, (long long)n, (long long)rank,
                      f.rel_error, real);
            CHECK_MSG(fabs(real - ey) < 1e-7, "%lldx%lld rank %lld: error %g, optimum %g",
                      (long long)m, (long long)n, (long long)rank, real, ey);
            /* balanced factors: column j of left and row j of right have
             * the same norm */
            for (int64_t q = 0; q < f.rank; q++) {
                double nl = 0, nr = 0;
                for (int64_t i = 0; i < m; i++)
                    nl += f.left[i * f.rank + q] * f.left[i * f.rank + q];
                for (int64_t j = 0; j < n; j++)
                    nr += f.right[q * n + j] * f.right[q * n + j];
                CHECK(fabs(nl - nr) <= 1e-9 * fmax(nl, nr));
            }
            free(rec);
            td_svd_free(&f);
        }
        free(a);
        free(w);
        free(ex);
        free(sv);
    }
}

int main(void)
{
    test_rank_for_tol();
    test_finite();
    test_exact_and_monotone();
    test_zero();
    test_gram_route();
    return TCHECK_DONE();
}
