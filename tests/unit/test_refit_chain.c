/* The whole chain's reduced-rank regression (td_refit_solve_chain),
 * against references computed here from the raw data: an exactly low-rank
 * target is recovered; at full rank the result is the ridge regression
 * solved here by Gaussian elimination; below it no perturbation of the
 * factors and no other rank-r map (the chain as given, the chain with only
 * its last factor refitted) reaches a lower regularised objective; and bad
 * input is refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decompose/td_refit.h"
#include "tcheck.h"
#include "test_dec_common.h"

enum { CO = 6, N = 5, P = 300 };

typedef struct data {
    double x[N * P], y[CO * P];
} data;

/* x (N x P): correlated channels with offsets (so the fit is not the
 * plain SVD); y = T x + bt + noise, T = Lt Rt of rank rt. */
static void make(trng_t *g, data *d, int rt, double noise, double *bt,
                 double *t)
{
    double mix[N * N], lt[CO * N], rt_[N * N];
    for (int i = 0; i < N * N; i++)
        mix[i] = trng_gauss(g) * (i % (N + 1) == 0 ? 2.0 : 0.6);
    for (int p = 0; p < P; p++) {
        double w[N];
        for (int i = 0; i < N; i++)
            w[i] = trng_gauss(g);
        for (int c = 0; c < N; c++) {
            double v = 0.3 * c;
            for (int i = 0; i < N; i++)
                v += mix[c * N + i] * w[i];
            d->x[c * P + p] = v;
        }
    }
    for (int i = 0; i < CO * rt; i++)
        lt[i] = trng_gauss(g);
    for (int i = 0; i < rt * N; i++)
        rt_[i] = trng_gauss(g);
    for (int o = 0; o < CO; o++)
        bt[o] = trng_gauss(g);
    for (int o = 0; o < CO; o++)
        for (int c = 0; c < N; c++) {
            t[o * N + c] = 0;
            for (int q = 0; q < rt; q++)
                t[o * N + c] += lt[o * rt + q] * rt_[q * N + c];
        }
    for (int o = 0; o < CO; o++)
        for (int p = 0; p < P; p++) {
            double v = bt[o] + noise * trng_gauss(g);
            for (int q = 0; q < rt; q++) {
                double rx = 0;
                for (int c = 0; c < N; c++)
                    rx += rt_[q * N + c] * d->x[c * P + p];
                v += lt[o * rt + q] * rx;
            }
            d->y[o * P + p] = v;
        }
}

static void acc_of(const data *d, td_refit_acc *acc)
{
    td_err_t err = {0};
    CHECK(td_refit_acc_init(acc, CO, N, &err) == TD_OK);
    td_refit_acc_add(acc, d->y, d->x, P);
}

/* A random rank-2 chain l0 r0 and its product g0: the chain as decomposed. */
static void random_chain(trng_t *g, double *l0, double *r0, double *g0)
{
    for (int i = 0; i < CO * 2; i++)
        l0[i] = trng_gauss(g);
    for (int i = 0; i < 2 * N; i++)
        r0[i] = trng_gauss(g);
    tmatmul(l0, r0, g0, CO, 2, N);
}

/* The centred, regularised objective from the raw data:
 * mean ||y_c - M x_c||^2 + lambda ||M - G0||^2, lambda = rel tr(Cxx) / N. */
static double objective(const data *d, const double *m, const double *g0,
                        double rel)
{
    double mx[N] = {0}, my[CO] = {0}, tr = 0, e = 0, reg = 0;
    for (int p = 0; p < P; p++) {
        for (int c = 0; c < N; c++)
            mx[c] += d->x[c * P + p] / P;
        for (int o = 0; o < CO; o++)
            my[o] += d->y[o * P + p] / P;
    }
    for (int c = 0; c < N; c++)
        for (int p = 0; p < P; p++)
            tr += pow(d->x[c * P + p] - mx[c], 2) / P;
    for (int p = 0; p < P; p++)
        for (int o = 0; o < CO; o++) {
            double v = d->y[o * P + p] - my[o];
            for (int c = 0; c < N; c++)
                v -= m[o * N + c] * (d->x[c * P + p] - mx[c]);
            e += v * v / P;
        }
    for (int i = 0; i < CO * N; i++)
        reg += pow(m[i] - g0[i], 2);
    return e + rel * tr / N * reg;
}

/* Full-rank ridge regression from the raw data, row by row. */
static void ridge(const data *d, const double *g0, double rel, double *m)
{
    double mx[N] = {0}, my[CO] = {0}, cxx[N * N] = {0}, cyx[CO * N] = {0};
    for (int p = 0; p < P; p++) {
        for (int c = 0; c < N; c++)
            mx[c] += d->x[c * P + p] / P;
        for (int o = 0; o < CO; o++)
            my[o] += d->y[o * P + p] / P;
    }
    for (int p = 0; p < P; p++)
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++)
                cxx[i * N + j] += (d->x[i * P + p] - mx[i]) *
                                  (d->x[j * P + p] - mx[j]) / P;
            for (int o = 0; o < CO; o++)
                cyx[o * N + i] += (d->y[o * P + p] - my[o]) *
                                  (d->x[i * P + p] - mx[i]) / P;
        }
    tridge_rows(cxx, cyx, g0, CO, N, rel, m);
}

static void test_exact(void)
{
    trng_t g = {7};
    data *d = malloc(sizeof *d);
    double bt[CO], t[CO * N], l0[CO * 2], r0[2 * N], g0[CO * N], b0[CO] = {0};
    double l[CO * 2], r[2 * N], b[CO], m[CO * N], before, after;
    make(&g, d, 2, 0, bt, t);
    random_chain(&g, l0, r0, g0);
    td_refit_acc acc;
    td_err_t err = {0};
    acc_of(d, &acc);
    CHECK(td_refit_solve_chain(&acc, g0, b0, 2, 1e-12, l, r, b, &before,
                               &after, &err) == TD_OK);
    tmatmul(l, r, m, CO, 2, N);
    /* y - bt is exactly rank 2 in x: the map and the bias come back */
    CHECK_MSG(tmax_diff(m, t, CO * N) < 1e-7, "rank-2 map off by %g",
              tmax_diff(m, t, CO * N));
    CHECK_MSG(tmax_diff(b, bt, CO) < 1e-7, "bias off by %g", tmax_diff(b, bt, CO));
    CHECK_MSG(after < 1e-12 && before > 1e-2, "before %g after %g", before,
              after);
    td_refit_acc_free(&acc);
    free(d);
}

static void test_ridge_and_optimality(void)
{
    trng_t g = {11};
    data *d = malloc(sizeof *d);
    double bt[CO], t[CO * N], g0[CO * N], b0[CO] = {0}, before, after;
    make(&g, d, N, 0.5, bt, t);
    /* the chain as decomposed: some rank-2 map */
    double l0[CO * 2], r0[2 * N];
    random_chain(&g, l0, r0, g0);
    td_refit_acc acc;
    td_err_t err = {0};
    acc_of(d, &acc);
    const double rel = 0.3;
    /* full rank: the ridge regression itself */
    double lf[CO * N], rf[N * N], bf[CO], mf[CO * N], ref[CO * N];
    CHECK(td_refit_solve_chain(&acc, g0, b0, N, rel, lf, rf, bf, &before,
                               &after, &err) == TD_OK);
    tmatmul(lf, rf, mf, CO, N, N);
    ridge(d, g0, rel, ref);
    CHECK_MSG(tmax_diff(mf, ref, CO * N) < 1e-9, "full rank off the ridge by %g",
              tmax_diff(mf, ref, CO * N));
    /* rank 2: a minimum among rank-2 maps */
    double l[CO * 2], r[2 * N], b[CO], m[CO * N];
    CHECK(td_refit_solve_chain(&acc, g0, b0, 2, rel, l, r, b, &before, &after,
                               &err) == TD_OK);
    tmatmul(l, r, m, CO, 2, N);
    double best = objective(d, m, g0, rel);
    CHECK_MSG(objective(d, g0, g0, rel) > best, "the chain as given %g, "
              "refitted %g", objective(d, g0, g0, rel), best);
    CHECK_MSG(after < before, "before %g after %g", before, after);
    int worse = 0;
    for (int t = 0; t < 200; t++) {
        double lp[CO * 2], rp[2 * N], mp[CO * N];
        double eps = t < 100 ? 1e-3 : 1e-1;
        for (int i = 0; i < CO * 2; i++)
            lp[i] = l[i] + eps * trng_gauss(&g);
        for (int i = 0; i < 2 * N; i++)
            rp[i] = r[i] + eps * trng_gauss(&g);
        tmatmul(lp, rp, mp, CO, 2, N);
        worse += objective(d, mp, g0, rel) >= best * (1 - 1e-12);
    }
    CHECK_MSG(worse == 200, "%d of 200 perturbations lowered the objective",
              200 - worse);
    /* the last factor alone refitted on r0's inner value does no better */
    td_refit_acc inner;
    double *z = malloc(sizeof(double) * 2 * P), la[CO * 2], ba[CO], ma[CO * N];
    for (int q = 0; q < 2; q++)
        for (int p = 0; p < P; p++) {
            double v = 0;
            for (int c = 0; c < N; c++)
                v += r0[q * N + c] * d->x[c * P + p];
            z[q * P + p] = v;
        }
    CHECK(td_refit_acc_init(&inner, CO, 2, &err) == TD_OK);
    td_refit_acc_add(&inner, d->y, z, P);
    double b2, a2;
    CHECK(td_refit_solve(&inner, l0, b0, 1e-12, la, ba, &b2, &a2, &err) == TD_OK);
    tmatmul(la, r0, ma, CO, 2, N);
    CHECK_MSG(objective(d, ma, g0, rel) > best, "last factor alone %g, "
              "whole chain %g", objective(d, ma, g0, rel), best);
    td_refit_acc_free(&inner);
    free(z);
    td_refit_acc_free(&acc);
    free(d);
}

static void test_refusals(void)
{
    td_refit_acc acc;
    td_err_t err = {0};
    double g0[CO * N] = {0}, l[CO * N], r[N * N], b[CO], before, after;
    CHECK(td_refit_acc_init(&acc, CO, N, &err) == TD_OK);
    CHECK(td_refit_solve_chain(&acc, g0, NULL, 2, 0.01, l, r, b, &before,
                               &after, &err) == TD_EINPUT);
    CHECK(strstr(err.msg, "no position") != NULL);
    double y[CO] = {1, 2, 3, 4, 5, 6}, x[N] = {1, 2, 3, 4, 5};
    td_refit_acc_add(&acc, y, x, 1);
    CHECK(td_refit_solve_chain(&acc, g0, NULL, N + 1, 0.01, l, r, b, &before,
                               &after, &err) == TD_EINPUT);
    CHECK(strstr(err.msg, "rank 6") != NULL);
    g0[3] = INFINITY;
    CHECK(td_refit_solve_chain(&acc, g0, NULL, 2, 0.01, l, r, b, &before,
                               &after, &err) == TD_EINPUT);
    CHECK(strstr(err.msg, "NaN or Inf") != NULL);
    td_refit_acc_free(&acc);
}

int main(void)
{
    test_exact();
    test_ridge_and_optimality();
    test_refusals();
    return TCHECK_DONE();
}
