/* CP: ALS recovery, reported error vs. independent reconstruction, the
 * exact slice-SVD CP, the unfoldings' rank bound, the rank search and input
 * handling. */
#include "decompose/cp_internal.h"
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

/* Builds a rank-R tensor from random factors; congruence > 0 mixes a
 * shared direction into every column to make the components collinear. */
static double *cp_tensor(trng_t *r, int nd, const int64_t *d, int64_t R,
                         double congruence)
{
    double *f[8];
    for (int m = 0; m < nd; m++) {
        f[m] = trand(r, (size_t)(d[m] * R));
        for (int64_t i = 0; i < d[m]; i++) {
            double shared = trng_unif(r);
            for (int64_t c = 0; c < R; c++)
                f[m][i * R + c] = (1 - congruence) * f[m][i * R + c] +
                                  congruence * shared;
        }
    }
    double *t = malloc(numel(nd, d) * sizeof *t);
    tcp_full(nd, d, R, f, t);
    for (int m = 0; m < nd; m++)
        free(f[m]);
    return t;
}

static double independent_err(const double *t, const td_cp_t *c)
{
    size_t n = numel(c->ndim, c->dims);
    double *rec = malloc(n * sizeof *rec);
    tcp_full(c->ndim, c->dims, c->rank, c->factors, rec);
    double e = trel_diff(t, rec, n);
    free(rec);
    return e;
}

static void test_recovery(void)
{
    struct {
        int nd;
        int64_t d[5], R;
        double cong;
    } cases[] = {
        {3, {6, 5, 4}, 3, 0.0},
        {3, {8, 7, 9}, 5, 0.0},
        {4, {5, 4, 3, 3}, 4, 0.0},
        {5, {4, 3, 3, 2, 2}, 3, 0.0},
        {3, {7, 6, 5}, 3, 0.6}, /* collinear components: a swamp */
    };
    td_cp_opts_t opts = {3000, 1e-15};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        trng_t r = {100 + k};
        double *t = cp_tensor(&r, cases[k].nd, cases[k].d, cases[k].R,
                              cases[k].cong);
        td_err_t err = {0};
        td_cp_t c = {0};
        CHECK(td_cp_als(t, cases[k].nd, cases[k].d, cases[k].R, &opts, &c,
                        &err) == TD_OK);
        CHECK_MSG(c.rel_error < 1e-10, "case %zu: error %g after %d sweeps", k,
                  c.rel_error, c.sweeps);
        double ind = independent_err(t, &c);
        CHECK_MSG(fabs(ind - c.rel_error) <= 1e-13 + 1e-9 * ind,
                  "case %zu: reported %g, actual %g", k, c.rel_error, ind);
        /* scale spread evenly: every column of a component has one norm */
        for (int64_t q = 0; q < c.rank; q++) {
            double n0 = 0;
            for (int64_t i = 0; i < c.dims[0]; i++)
                n0 += c.factors[0][i * c.rank + q] * c.factors[0][i * c.rank + q];
            for (int m = 1; m < c.ndim; m++) {
                double nm = 0;
                for (int64_t i = 0; i < c.dims[m]; i++)
                    nm += c.factors[m][i * c.rank + q] * c.factors[m][i * c.rank + q];
                CHECK(fabs(sqrt(nm) - sqrt(n0)) < 1e-10 * (1 + sqrt(n0)));
            }
        }
        td_cp_free(&c);
        free(t);
    }
}

/* Approximations below the true rank: the reported error must still be
 * the error of the returned factors, default options included. */
static void test_reported_error(void)
{
    trng_t r = {7};
    int64_t d[4] = {6, 5, 3, 3};
    double *t = trand(&r, numel(4, d));
    for (int64_t R = 1; R <= 6; R++) {
        td_err_t err = {0};
        td_cp_t c = {0};
        CHECK(td_cp_als(t, 4, d, R, NULL, &c, &err) == TD_OK);
        double ind = independent_err(t, &c);
        CHECK_MSG(fabs(ind - c.rel_error) < 1e-12, "R=%lld: %g vs %g",
                  (long long)R, c.rel_error, ind);
        CHECK(c.rel_error > 0.05 && c.rel_error < 1.0);
        CHECK(c.sweeps >= 1 && c.sweeps <= 500);
        td_cp_free(&c);
    }
    free(t);
}

static void test_exact(void)
{
    trng_t r = {8};
    int64_t d4[4] = {4, 3, 2, 2}, d3[3] = {3, 5, 4};
    td_err_t err = {0};
    td_cp_t c = {0};
    double *t = trand(&r, numel(4, d4));
    CHECK(td_cp_exact(t, 4, d4, &c, &err) == TD_OK);
    CHECK(c.rank == 2 * 2 * 3 && c.ndim == 4);
    CHECK(c.rel_error < 1e-13);
    CHECK(independent_err(t, &c) < 1e-13);
    td_cp_free(&c);
    CHECK(td_cp_for_tol(t, 4, d4, 0.0, 1, NULL, &c, &err) == TD_OK);
    CHECK(c.rank == 12 && independent_err(t, &c) < 1e-13);
    td_cp_free(&c);
    free(t);
    t = trand(&r, numel(3, d3));
    CHECK(td_cp_exact(t, 3, d3, &c, &err) == TD_OK);
    CHECK(c.rank == 4 * 3 && independent_err(t, &c) < 1e-13);
    td_cp_free(&c);
    CHECK(td_cp_exact(t, 2, d3, &c, &err) == TD_EINPUT);
    free(t);
}

static void test_for_tol(void)
{
    trng_t r = {9};
    int64_t d[3] = {6, 5, 4};
    double *t = cp_tensor(&r, 3, d, 4, 0.0);
    for (size_t i = 0; i < 120; i++)
        t[i] += 1e-3 * trng_unif(&r);
    double eps[] = {0.5, 0.2, 0.05, 0.01};
    td_cp_opts_t opts = {1000, 1e-12};
    for (size_t e = 0; e < sizeof eps / sizeof *eps; e++) {
        td_err_t err = {0};
        td_cp_t c = {0}, below = {0};
        CHECK(td_cp_for_tol(t, 3, d, eps[e], 10, &opts, &c, &err) == TD_OK);
        CHECK_MSG(c.rel_error <= eps[e], "eps %g: %g", eps[e], c.rel_error);
        CHECK(fabs(independent_err(t, &c) - c.rel_error) < 1e-12);
        if (c.rank > 1) {
            CHECK(td_cp_als(t, 3, d, c.rank - 1, &opts, &below, &err) == TD_OK);
            CHECK(below.rel_error > eps[e]);
            td_cp_free(&below);
        }
        if (eps[e] == 0.01)
            CHECK(c.rank == 4);
        td_cp_free(&c);
    }
    td_err_t err = {0};
    td_cp_t c = {0};
    CHECK(td_cp_for_tol(t, 3, d, 1e-9, 2, &opts, &c, &err) == TD_EINPUT);
    CHECK(err.msg[0] != '\0');
    free(t);
}

/* The unfoldings' bound: tight where an unfolding's rank is the CP rank,
 * taken from a split of the modes that is not a single mode when that
 * one is larger, and never above a rank that ALS shows reachable. */
static void test_rank_lb(void)
{
    td_err_t err = {0};
    int64_t lb;
    /* generic rank 4: every single-mode unfolding has rank 4 */
    trng_t r = {21};
    int64_t d3[3] = {6, 5, 7};
    double *t = cp_tensor(&r, 3, d3, 4, 0.0);
    CHECK(td_cp_rank_lb(t, 3, d3, 210, 1e-6, 100, &lb, &err) == TD_OK);
    CHECK_MSG(lb == 4, "lb %lld", (long long)lb);
    free(t);
    t = cp_tensor(&r, 3, d3, 1, 0.0);
    CHECK(td_cp_rank_lb(t, 3, d3, 210, 1e-6, 100, &lb, &err) == TD_OK && lb == 1);
    memset(t, 0, 210 * sizeof *t);
    CHECK(td_cp_rank_lb(t, 3, d3, 210, 0.1, 100, &lb, &err) == TD_OK && lb == 1);
    free(t);
    /* sum over (a, c) of e_a o e_a o e_c o e_c, dims 2 x 2 x 3 x 3: CP
     * rank 6, single modes show at most 3, the split (0, 2) x (1, 3) is
     * the 6 x 6 identity */
    int64_t d4[4] = {2, 2, 3, 3};
    double id[36] = {0};
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 3; c++)
            id[((a * 2 + a) * 3 + c) * 3 + c] = 1.0;
    CHECK(td_cp_rank_lb(id, 4, d4, 36, 1e-6, 100, &lb, &err) == TD_OK);
    CHECK_MSG(lb == 6, "lb %lld", (long long)lb);
    /* error exactly allowed: dropping one of the six equal terms leaves
     * 1/sqrt(6); just above that five suffice, just below six are needed */
    CHECK(td_cp_rank_lb(id, 4, d4, 36, 1.0 / sqrt(6.0) * 1.001, 100, &lb,
                        &err) == TD_OK && lb == 5);
    CHECK(td_cp_rank_lb(id, 4, d4, 36, 1.0 / sqrt(6.0) * 0.999, 100, &lb,
                        &err) == TD_OK && lb == 6);
    /* cap: the search needs to know only that the bound is above it */
    CHECK(td_cp_rank_lb(id, 4, d4, 36, 1e-6, 1, &lb, &err) == TD_OK && lb > 1);
    /* noisy tensors: ALS one rank below the bound misses tol, as any
     * rank-(lb - 1) approximation must */
    int64_t d[3] = {9, 8, 7};
    double tols[] = {0.6, 0.4, 0.2};
    td_cp_opts_t opts = {200, 1e-10};
    for (int k = 0; k < 3; k++) {
        trng_t q = {(uint64_t)(30 + k)};
        t = trand(&q, 504);
        CHECK(td_cp_rank_lb(t, 3, d, 504, tols[k], 1000, &lb, &err) == TD_OK);
        CHECK(lb >= 2);
        td_cp_t c = {0};
        CHECK(td_cp_als(t, 3, d, lb - 1, &opts, &c, &err) == TD_OK);
        CHECK_MSG(c.rel_error > tols[k], "tol %g: rank %lld reaches %g",
                  tols[k], (long long)(lb - 1), c.rel_error);
        td_cp_free(&c);
        CHECK(td_cp_for_tol(t, 3, d, tols[k], 1000, &opts, &c, &err) == TD_OK);
        CHECK(c.rank >= lb && c.rel_error <= tols[k]);
        td_cp_free(&c);
        free(t);
    }
    /* a matrix: CP is the SVD, and the bound is its rank at tol */
    int64_t d2[2] = {12, 9};
    trng_t m = {40};
    t = trand(&m, 108);
    double sv[9];
    CHECK(td_singular_values(t, 12, 9, sv, &err) == TD_OK);
    CHECK(td_cp_rank_lb(t, 2, d2, 108, 0.3, 100, &lb, &err) == TD_OK);
    CHECK_MSG(lb == td_rank_for_tol(sv, 9, 0.3), "lb %lld", (long long)lb);
    free(t);
}

/* Ranks above 2 x TD_CP_RANK_PREC: the search stops within rank / 64 of
 * the least rank it saw fail, starting from the bound. */
static void test_for_tol_large(void)
{
    trng_t r = {50};
    int64_t d[3] = {20, 20, 20};
    double *t = trand(&r, 8000);
    td_cp_opts_t opts = {30, 1e-6};
    td_err_t err = {0};
    td_cp_t c = {0}, below = {0};
    int64_t lb;
    CHECK(td_cp_rank_lb(t, 3, d, 8000, 0.08, 400, &lb, &err) == TD_OK);
    CHECK(td_cp_for_tol(t, 3, d, 0.08, 400, &opts, &c, &err) == TD_OK);
    CHECK_MSG(c.rank >= 2 * TD_CP_RANK_PREC && c.rank >= lb &&
              c.rel_error <= 0.08, "rank %lld lb %lld err %g",
              (long long)c.rank, (long long)lb, c.rel_error);
    int64_t step = c.rank / TD_CP_RANK_PREC;
    CHECK(td_cp_als(t, 3, d, c.rank - step - 1, &opts, &below, &err) == TD_OK);
    CHECK_MSG(below.rel_error > 0.08, "rank %lld: %g",
              (long long)(c.rank - step - 1), below.rel_error);
    td_cp_free(&below);
    td_cp_free(&c);
    /* out of reach by the bound: refused without ALS */
    CHECK(td_cp_for_tol(t, 3, d, 0.08, lb - 1, &opts, &c, &err) == TD_EINPUT);
    CHECK(strstr(err.msg, "unfolding needs rank") != NULL);
    free(t);
}

static void test_edges(void)
{
    int64_t d[3] = {3, 2, 2};
    double z[12] = {0};
    td_err_t err = {0};
    td_cp_t c = {0};
    CHECK(td_cp_als(z, 3, d, 2, NULL, &c, &err) == TD_OK);
    CHECK(c.rel_error == 0.0);
    td_cp_free(&c);
    CHECK(td_cp_exact(z, 3, d, &c, &err) == TD_OK);
    CHECK(c.rel_error == 0.0);
    td_cp_free(&c);
    /* rank above prod(dims)/max(dims) is capped there */
    trng_t r = {10};
    double *t = trand(&r, 12);
    CHECK(td_cp_als(t, 3, d, 50, NULL, &c, &err) == TD_OK);
    CHECK(c.rank == 4);
    CHECK(fabs(independent_err(t, &c) - c.rel_error) < 1e-12);
    td_cp_free(&c);
    t[5] = NAN;
    CHECK(td_cp_als(t, 3, d, 2, NULL, &c, &err) == TD_ENUMERIC);
    CHECK(td_cp_exact(t, 3, d, &c, &err) == TD_ENUMERIC);
    t[5] = INFINITY;
    CHECK(td_cp_for_tol(t, 3, d, 0.1, 3, NULL, &c, &err) == TD_ENUMERIC);
    CHECK(td_cp_exact(t, 3, d, &c, &err) == TD_ENUMERIC);
    t[5] = 0;
    CHECK(td_cp_als(t, 3, d, 0, NULL, &c, &err) == TD_EINPUT);
    CHECK(td_cp_als(t, 9, d, 1, NULL, &c, &err) == TD_EINPUT);
    td_cp_free(&c);
    free(t);
}

int main(void)
{
    test_recovery();
    test_reported_error();
    test_exact();
    test_for_tol();
    test_rank_lb();
    test_for_tol_large();
    test_edges();
    return TCHECK_DONE();
}
