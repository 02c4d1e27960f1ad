/* The refit's ridge by cross-validation (td_refit_choose, td_refit_acc_sum):
 * fold sums add up to the sums of all positions; where every fold follows
 * one map the smallest ridges win, and the fit beats the wrong prior out
 * of fold; where each fold follows its own map, the largest win (the data
 * do not generalise: keep the prior); one fold cannot be cross-validated;
 * the whole chain's choice the same way. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decompose/td_refit.h"
#include "tcheck.h"
#include "test_dec_common.h"

enum { CO = 5, R = 3, P = 120, K = TD_REFIT_FOLDS };

/* p positions of z (R x p, correlated channels) and y = a z + b + noise. */
static void positions(trng_t *g, const double *a, const double *b,
                      double noise, int p, double *z, double *y)
{
    for (int q = 0; q < p; q++) {
        double w = trng_gauss(g);
        for (int c = 0; c < R; c++)
            z[c * p + q] = trng_gauss(g) + 0.7 * w + 0.2 * c;
    }
    for (int o = 0; o < CO; o++)
        for (int q = 0; q < p; q++) {
            double v = b[o] + noise * trng_gauss(g);
            for (int c = 0; c < R; c++)
                v += a[o * R + c] * z[c * p + q];
            y[o * p + q] = v;
        }
}

static void init_folds(td_refit_acc *f, int64_t zdim)
{
    td_err_t err = {0};
    for (int k = 0; k < K; k++)
        CHECK(td_refit_acc_init(&f[k], CO, zdim, &err) == TD_OK);
}

static void free_folds(td_refit_acc *f)
{
    for (int k = 0; k < K; k++)
        td_refit_acc_free(&f[k]);
}

static void test_sum(void)
{
    trng_t g = {3};
    double a[CO * R], b[CO], z[R * P], y[CO * P];
    for (int i = 0; i < CO * R; i++)
        a[i] = trng_gauss(&g);
    for (int o = 0; o < CO; o++)
        b[o] = trng_gauss(&g);
    td_refit_acc f[K], all, sum, three;
    td_err_t err = {0};
    init_folds(f, R);
    CHECK(td_refit_acc_init(&all, CO, R, &err) == TD_OK);
    CHECK(td_refit_acc_init(&three, CO, R, &err) == TD_OK);
    CHECK(td_refit_acc_init(&sum, CO, R, &err) == TD_OK);
    for (int k = 0; k < K; k++) {
        positions(&g, a, b, 0.1, P, z, y);
        td_refit_acc_add(&f[k], y, z, P);
        td_refit_acc_add(&all, y, z, P);
        if (k != 2)
            td_refit_acc_add(&three, y, z, P);
    }
    td_refit_acc_sum(&sum, f, K, K);
    CHECK(sum.count == all.count && sum.count == K * P);
    CHECK_MSG(tmax_diff(sum.syz, all.syz, CO * R) < 1e-9 &&
              tmax_diff(sum.szz, all.szz, R * R) < 1e-9 &&
              fabs(sum.syy - all.syy) < 1e-9 * all.syy,
              "fold sums off the sums of all positions");
    td_refit_acc_sum(&sum, f, K, 2);
    CHECK(sum.count == 3 * P);
    CHECK_MSG(tmax_diff(sum.syz, three.syz, CO * R) < 1e-9 &&
              tmax_diff(sum.sz, three.sz, R) < 1e-9,
              "the sum without fold 2 is off");
    free_folds(f);
    td_refit_acc_free(&all);
    td_refit_acc_free(&three);
    td_refit_acc_free(&sum);
}

static void test_choice(void)
{
    trng_t g = {17};
    double a[CO * R], b[CO], a0[CO * R], b0[CO], z[R * P], y[CO * P];
    double lambda, kept, best;
    td_err_t err = {0};
    for (int i = 0; i < CO * R; i++)
        a[i] = trng_gauss(&g);
    for (int o = 0; o < CO; o++)
        b0[o] = b[o] = trng_gauss(&g);
    /* one map for every fold, a prior far from it: fit it */
    for (int i = 0; i < CO * R; i++)
        a0[i] = a[i] + 0.5 * trng_gauss(&g);
    td_refit_acc f[K];
    init_folds(f, R);
    for (int k = 0; k < K; k++) {
        positions(&g, a, b, 0.05, P, z, y);
        td_refit_acc_add(&f[k], y, z, P);
    }
    CHECK(td_refit_choose(f, K, a0, b0, 0, &lambda, &kept, &best, &err) == TD_OK);
    CHECK_MSG(lambda <= 0.01 && best < 0.1 * kept,
              "one map: ridge %g, out-of-fold error %g against the prior's %g",
              lambda, best, kept);
    free_folds(f);
    /* each fold its own map around the prior, a few positions each: the
     * data do not generalise, the prior stays */
    for (int i = 0; i < CO * R; i++)
        a0[i] = a[i];
    init_folds(f, R);
    for (int k = 0; k < K; k++) {
        double ak[CO * R];
        for (int i = 0; i < CO * R; i++)
            ak[i] = a[i] + 0.8 * trng_gauss(&g);
        positions(&g, ak, b, 0.05, 6, z, y);
        td_refit_acc_add(&f[k], y, z, 6);
    }
    CHECK(td_refit_choose(f, K, a0, b0, 0, &lambda, &kept, &best, &err) == TD_OK);
    /* (the candidates' scores fall toward the prior's as the ridge grows:
     * measured 10, within 1.5 % of the prior's) */
    CHECK_MSG(lambda >= 10 && best < 1.05 * kept, "a map per fold: ridge %g "
              "(out of fold %g, the prior %g)", lambda, best, kept);
    free_folds(f);
    /* a single fold with positions: no cross-validation, the default */
    init_folds(f, R);
    positions(&g, a, b, 0.05, P, z, y);
    td_refit_acc_add(&f[1], y, z, P);
    CHECK(td_refit_choose(f, K, a0, b0, 0, &lambda, &kept, &best, &err) == TD_OK);
    CHECK(lambda == TD_REFIT_REL_LAMBDA && isnan(kept) && isnan(best));
    free_folds(f);
}

/* The whole chain: y = T x with T of rank 2 (CO x R), a rank-2 prior off
 * it; every fold alike, so the small ridges win. */
static void test_whole(void)
{
    trng_t g = {23};
    double t[CO * R], l[CO * 2], r[2 * R], g0[CO * R], b[CO] = {0};
    double z[R * P], y[CO * P], lambda, kept, best;
    td_err_t err = {0};
    for (int i = 0; i < CO * 2; i++)
        l[i] = trng_gauss(&g);
    for (int i = 0; i < 2 * R; i++)
        r[i] = trng_gauss(&g);
    tmatmul(l, r, t, CO, 2, R);
    for (int i = 0; i < 2 * R; i++)
        r[i] += 0.5 * trng_gauss(&g);
    tmatmul(l, r, g0, CO, 2, R);
    td_refit_acc f[K];
    init_folds(f, R);
    for (int k = 0; k < K; k++) {
        positions(&g, t, b, 0.01, P, z, y);
        td_refit_acc_add(&f[k], y, z, P);
    }
    CHECK(td_refit_choose(f, K, g0, b, 2, &lambda, &kept, &best, &err) == TD_OK);
    CHECK_MSG(lambda <= 0.01 && best < 0.1 * kept,
              "whole chain: ridge %g, out of fold %g, the prior %g", lambda,
              best, kept);
    free_folds(f);
}

int main(void)
{
    test_sum();
    test_choice();
    test_whole();
    return TCHECK_DONE();
}
