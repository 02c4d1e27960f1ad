/* Factors into a narrow format (td_range.h): scales moved only when a
 * factor overflows or flushes, the chain unchanged by the move, every
 * value rounded as written, and a refusal when nothing fits. */
#include "decompose/td_range.h"
#include "tcheck.h"
#include "test_dec_common.h"

/* float16 by arithmetic: 11 significant bits, quantum 2^-24 below 2^-14,
 * Inf from 65520 on (round to nearest even at the top). */
static double half(double x)
{
    if (x == 0 || !isfinite(x))
        return x;
    int e = ilogb(x);
    if (e < -14)
        e = -14;
    double q = ldexp(1.0, e - 10), r = nearbyint(x / q) * q;
    return fabs(r) > 65504 ? copysign(INFINITY, x) : r;
}

static const td_format_t F16 = {65504.0, 0x1p-14, half};

static double *scaled(trng_t *g, size_t n, double amp)
{
    double *a = trand(g, n);
    for (size_t i = 0; i < n; i++)
        a[i] *= amp;
    return a;
}

static int all_rounded(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]) || half(a[i]) != a[i])
            return 0;
    return 1;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* Weights of +-30000: the core holds ||W|| (about 1e5) and overflows; after
 * the fit the three factors' largest values are within a factor 4 of each
 * other and the chain is W to float16 rounding. */
static void test_tucker2_overflow(void)
{
    trng_t g = {1};
    int64_t co = 6, ci = 5, k = 4;
    size_t n = (size_t)(co * ci * k);
    double *w = scaled(&g, n, 30000), *full = malloc(n * sizeof *full);
    td_tucker2_t t = {0};
    td_err_t err = {0};
    CHECK(td_tucker2(w, co, ci, k, co, ci, NULL, &t, &err) == TD_OK);
    double core_max = max_abs(t.core, (size_t)(co * ci * k));
    CHECK(core_max > 65504);
    int balanced = 0;
    CHECK(td_tucker2_fit_format(&t, &F16, &balanced, &err) == TD_OK);
    CHECK(balanced == 1);
    double m[3] = {max_abs(t.u_out, (size_t)(co * co)),
                   max_abs(t.core, (size_t)(co * ci * k)),
                   max_abs(t.u_in, (size_t)(ci * ci))};
    CHECK(fmax(m[0], fmax(m[1], m[2])) <= 4 * fmin(m[0], fmin(m[1], m[2])));
    CHECK(all_rounded(t.u_out, (size_t)(co * co)));
    CHECK(all_rounded(t.core, (size_t)(co * ci * k)));
    CHECK(all_rounded(t.u_in, (size_t)(ci * ci)));
    CHECK(td_tucker2_full(&t, full, &err) == TD_OK);
    double e = trel_diff(w, full, n);
    CHECK_MSG(e > 1e-5 && e < 2e-3, "rel. error %g", e);
    td_tucker2_free(&t);
    free(w);
    free(full);
}

/* Weights of 1e-6 (subnormal in float16): the core's values flush; after
 * the move they are normal and the chain keeps float16 precision. */
static void test_tucker2_flush(void)
{
    trng_t g = {2};
    int64_t co = 6, ci = 5, k = 4;
    size_t n = (size_t)(co * ci * k);
    double *w = scaled(&g, n, 1e-6), *full = malloc(n * sizeof *full);
    td_tucker2_t t = {0};
    td_err_t err = {0};
    CHECK(td_tucker2(w, co, ci, k, co, ci, NULL, &t, &err) == TD_OK);
    int balanced = 0;
    CHECK(td_tucker2_fit_format(&t, &F16, &balanced, &err) == TD_OK);
    CHECK(balanced == 1);
    CHECK(td_tucker2_full(&t, full, &err) == TD_OK);
    double e = trel_diff(w, full, n);
    CHECK_MSG(e < 2e-3, "rel. error %g", e);
    td_tucker2_free(&t);
    free(w);
    free(full);
}

/* Factors that fit are only rounded: exactly what writing them would
 * give, scales untouched. */
static void test_fits_untouched(void)
{
    trng_t g = {3};
    int64_t co = 6, ci = 5, k = 4;
    size_t n = (size_t)(co * ci * k);
    double *w = scaled(&g, n, 0.5);
    td_tucker2_t t = {0};
    td_err_t err = {0};
    CHECK(td_tucker2(w, co, ci, k, 3, 3, NULL, &t, &err) == TD_OK);
    size_t nc = (size_t)(3 * 3 * k);
    double *core = malloc(nc * sizeof *core);
    for (size_t i = 0; i < nc; i++)
        core[i] = half(t.core[i]);
    int balanced = 0;
    CHECK(td_tucker2_fit_format(&t, &F16, &balanced, &err) == TD_OK);
    CHECK(balanced == 0);
    CHECK(memcmp(core, t.core, nc * sizeof *core) == 0);
    td_tucker2_free(&t);
    free(core);
    free(w);
}

/* SVD, CP and the ring of +-30000 weights: every value fits after the
 * fit, the chain is the weight to float16 rounding. */
static void test_other_methods(void)
{
    trng_t g = {4};
    td_err_t err = {0};
    int balanced;
    /* SVD: td_svd splits each singular value evenly, so here components
     * are made lopsided by hand (1e6 against 1e-3, and 1e-7 against 1e4):
     * each is balanced on its own and the product is kept */
    double left[6] = {1e6, 1e-7, -2e6, 3e-7, 5e5, -1e-7};  /* 3 x 2 */
    double right[4] = {1e-3, -2e-3, 1e4, 3e4};            /* 2 x 2 */
    double want[6], got[6];
    td_svd_t s = {.m = 3, .n = 2, .rank = 2, .left = left, .right = right};
    td_svd_full(&s, want);
    balanced = 0;
    CHECK(td_svd_fit_format(&s, &F16, &balanced, &err) == TD_OK);
    CHECK(balanced == 1);
    CHECK(all_rounded(left, 6) && all_rounded(right, 4));
    CHECK(fabs(left[0]) > 1 && fabs(left[0]) < 1e3 && fabs(right[2]) < 1e3);
    td_svd_full(&s, got);
    CHECK_MSG(trel_diff(want, got, 6) < 2e-3, "svd %g", trel_diff(want, got, 6));

    int64_t dims[4] = {5, 4, 3, 3};
    size_t n = 5 * 4 * 3 * 3;
    double *w = scaled(&g, n, 30000), *full = malloc(n * sizeof *full);
    td_cp_t c = {0};
    CHECK(td_cp_exact(w, 4, dims, &c, &err) == TD_OK);
    balanced = 0;
    CHECK(td_cp_fit_format(&c, &F16, &balanced, &err) == TD_OK);
    for (int q = 0; q < 4; q++)
        CHECK(all_rounded(c.factors[q], (size_t)(dims[q] * c.rank)));
    CHECK(td_cp_full(&c, full, &err) == TD_OK);
    CHECK_MSG(trel_diff(w, full, n) < 2e-3, "cp %g", trel_diff(w, full, n));
    td_cp_free(&c);
    free(full);

    td_tr_t tr = {0};
    CHECK(td_tr_svd(w, 4, dims, 0, 0, 0, &tr, &err) == TD_OK);
    balanced = 0;
    CHECK(td_tr_fit_format(&tr, &F16, &balanced, &err) == TD_OK);
    CHECK(balanced == 1);
    for (int q = 0; q < 4; q++)
        CHECK(all_rounded(tr.cores[q],
                          (size_t)(tr.ranks[q] * dims[q] * tr.ranks[q + 1])));
    full = NULL;
    CHECK(td_tr_full(&tr, &full, &err) == TD_OK);
    CHECK_MSG(full && trel_diff(w, full, n) < 2e-3, "tr %g",
              full ? trel_diff(w, full, n) : -1);
    td_tr_free(&tr);
    free(full);
    free(w);
}

/* A component whose product is beyond the format whatever the split:
 * refused, naming the factor. */
static void test_refused(void)
{
    double left[2] = {1e5, 1}, right[2] = {1e5, 1}, sv[1] = {1};
    td_svd_t s = {.m = 2, .n = 2, .rank = 1, .left = left, .right = right, .sv = sv};
    td_err_t err = {0};
    int balanced = 0;
    CHECK(td_svd_fit_format(&s, &F16, &balanced, &err) == TD_ENUMERIC);
    CHECK(balanced == 1);
    CHECK(strstr(err.msg, "svd factor") != NULL);
}

int main(void)
{
    test_tucker2_overflow();
    test_tucker2_flush();
    test_fits_untouched();
    test_other_methods();
    test_refused();
    return TCHECK_DONE();
}
