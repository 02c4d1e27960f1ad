/* The last factor's ridge least squares (td_refit.h), against hand-made
 * references: an exactly linear target is recovered, the ridge solution
 * matches normal equations solved here by Gaussian elimination, the
 * error never rises above the prior's, a huge lambda returns the prior, the
 * sums do not depend on how positions are chunked, and bad sums are
 * refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decompose/td_refit.h"
#include "tcheck.h"
#include "test_dec_common.h"

enum { CO = 5, R = 3, P = 200 };

/* z (R x P) random with per-channel offsets; y = At z + bt (+ noise). */
static void make_data(trng_t *g, double *z, double *y, double *at, double *bt,
                      double noise)
{
    for (int i = 0; i < R * CO; i++)
        at[i] = trng_gauss(g);
    for (int o = 0; o < CO; o++)
        bt[o] = trng_gauss(g);
    for (int c = 0; c < R; c++)
        for (int p = 0; p < P; p++)
            z[c * P + p] = trng_gauss(g) * (1 + c) + 0.5 * c;
    for (int o = 0; o < CO; o++)
        for (int p = 0; p < P; p++) {
            double v = bt[o] + noise * trng_gauss(g);
            for (int c = 0; c < R; c++)
                v += at[o * R + c] * z[c * P + p];
            y[o * P + p] = v;
        }
}

/* The ridge reference from the raw data: centred covariances, lambda
 * rel x trace/R, each row of A from (Czz + lambda I) a^T = Czy + lambda a0^T. */
static void reference(const double *z, const double *y, const double *a0,
                      double rel, double *a, double *b)
{
    double mz[R] = {0}, my[CO] = {0}, czz[R * R] = {0}, cyz[CO * R] = {0};
    for (int p = 0; p < P; p++) {
        for (int c = 0; c < R; c++)
            mz[c] += z[c * P + p] / P;
        for (int o = 0; o < CO; o++)
            my[o] += y[o * P + p] / P;
    }
    for (int p = 0; p < P; p++)
        for (int i = 0; i < R; i++) {
            for (int j = 0; j < R; j++)
                czz[i * R + j] += (z[i * P + p] - mz[i]) * (z[j * P + p] - mz[j]) / P;
            for (int o = 0; o < CO; o++)
                cyz[o * R + i] += (y[o * P + p] - my[o]) * (z[i * P + p] - mz[i]) / P;
        }
    tridge_rows(czz, cyz, a0, CO, R, rel, a);
    for (int o = 0; o < CO; o++) {
        b[o] = my[o];
        for (int i = 0; i < R; i++)
            b[o] -= a[o * R + i] * mz[i];
    }
}

static void test_exact_and_ridge(void)
{
    trng_t g = {42};
    double *z = malloc(sizeof(double) * R * P), *y = malloc(sizeof(double) * CO * P);
    double at[CO * R], bt[CO], a0[CO * R], b0[CO], a[CO * R], b[CO];
    make_data(&g, z, y, at, bt, 0);
    for (int i = 0; i < CO * R; i++)
        a0[i] = at[i] + 0.3 * trng_gauss(&g);
    for (int o = 0; o < CO; o++)
        b0[o] = 0;
    td_refit_acc acc;
    td_err_t err = {0};
    CHECK(td_refit_acc_init(&acc, CO, R, &err) == TD_OK);
    /* two chunks of positions, each channel-major with its own stride */
    double *z1 = malloc(sizeof(double) * R * 70), *y1 = malloc(sizeof(double) * CO * 70);
    double *z2 = malloc(sizeof(double) * R * 130), *y2 = malloc(sizeof(double) * CO * 130);
    for (int c = 0; c < R; c++) {
        memcpy(z1 + c * 70, z + c * P, 70 * sizeof(double));
        memcpy(z2 + c * 130, z + c * P + 70, 130 * sizeof(double));
    }
    for (int o = 0; o < CO; o++) {
        memcpy(y1 + o * 70, y + o * P, 70 * sizeof(double));
        memcpy(y2 + o * 130, y + o * P + 70, 130 * sizeof(double));
    }
    td_refit_acc_add(&acc, y1, z1, 70);
    td_refit_acc_add(&acc, y2, z2, 130);
    CHECK(acc.count == P);
    double before, after;
    /* lambda 1e-12: the exact map comes back */
    CHECK(td_refit_solve(&acc, a0, b0, 1e-12, a, b, &before, &after, &err) == TD_OK);
    CHECK_MSG(tmax_diff(a, at, CO * R) < 1e-8, "A off by %g", tmax_diff(a, at, CO * R));
    CHECK_MSG(tmax_diff(b, bt, CO) < 1e-8, "b off by %g", tmax_diff(b, bt, CO));
    CHECK_MSG(after < 1e-12 && before > 1e-2, "before %g after %g", before, after);
    /* a real ridge: the reference's normal equations */
    double ar[CO * R], br[CO];
    reference(z, y, a0, 0.5, ar, br);
    CHECK(td_refit_solve(&acc, a0, b0, 0.5, a, b, &before, &after, &err) == TD_OK);
    CHECK_MSG(tmax_diff(a, ar, CO * R) < 1e-9, "ridge A off by %g", tmax_diff(a, ar, CO * R));
    CHECK_MSG(tmax_diff(b, br, CO) < 1e-9, "ridge b off by %g", tmax_diff(b, br, CO));
    CHECK_MSG(after <= before, "before %g after %g", before, after);
    CHECK_MSG(after > 1e-6, "a ridge of 0.5 leaves some error: %g", after);
    /* an overwhelming ridge: the prior */
    CHECK(td_refit_solve(&acc, a0, b0, 1e12, a, b, &before, &after, &err) == TD_OK);
    CHECK_MSG(tmax_diff(a, a0, CO * R) < 1e-8, "prior off by %g", tmax_diff(a, a0, CO * R));
    /* without a bias: exact recovery when the target has none */
    td_refit_acc nb;
    CHECK(td_refit_acc_init(&nb, CO, R, &err) == TD_OK);
    for (int o = 0; o < CO; o++)
        for (int p = 0; p < P; p++)
            y[o * P + p] -= bt[o];
    td_refit_acc_add(&nb, y, z, P);
    CHECK(td_refit_solve(&nb, a0, NULL, 1e-12, a, NULL, &before, &after, &err) == TD_OK);
    CHECK_MSG(tmax_diff(a, at, CO * R) < 1e-8, "no-bias A off by %g", tmax_diff(a, at, CO * R));
    td_refit_acc_free(&nb);
    td_refit_acc_free(&acc);
    free(z);
    free(y);
    free(z1);
    free(y1);
    free(z2);
    free(y2);
}

static void test_refusals(void)
{
    td_refit_acc acc;
    td_err_t err = {0};
    double a0[CO * R] = {0}, a[CO * R], b[CO], before, after;
    CHECK(td_refit_acc_init(&acc, 0, R, &err) == TD_EINPUT);
    CHECK(td_refit_acc_init(&acc, CO, R, &err) == TD_OK);
    CHECK(td_refit_solve(&acc, a0, NULL, 0.01, a, b, &before, &after, &err) == TD_EINPUT);
    CHECK(strstr(err.msg, "no position") != NULL);
    double y[CO] = {1, 2, 3, 4, NAN}, z[R] = {1, 2, 3};
    td_refit_acc_add(&acc, y, z, 1);
    CHECK(td_refit_solve(&acc, a0, NULL, 0.01, a, b, &before, &after, &err) == TD_EINPUT);
    CHECK(strstr(err.msg, "NaN") != NULL);
    td_refit_acc_free(&acc);
}

int main(void)
{
    test_exact_and_ridge();
    test_refusals();
    return TCHECK_DONE();
}
