/* The whitening's rel_lambda by cross-validation (td_whiten_cv_errors,
 * td_whiten_choose): the held-out errors against a direct computation
 * from the samples (S built by td_whiten_new[_cov] on the training folds,
 * the rank-r SVD of A S mapped back, its error on the held-out samples
 * about the training mean; with an output rank, plus what projecting each
 * tap's output on the leading eigenvectors of sum_t W_t S^2 W_t^T drops),
 * centred and not, with unequal folds; folds
 * drawn alike choose the smallest candidate, folds that each excite their
 * own channels the data-free end; one fold, or training sets of no more
 * positions than channels, cannot choose; bad ranks are refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decompose/dec_internal.h"
#include "decompose/td_whiten.h"
#include "tcheck.h"
#include "test_dec_common.h"

enum { N = 8, CO = 5, KT = 3, ROWS = CO * KT, NF = 4, PMAX = 2000 };

typedef struct folds {
    int p[NF];
    double *x[NF];          /* N x p[j], column q the sample q */
    double m[NF][N * N];    /* E_j[x x^T] */
    double mu[NF][N];       /* E_j[x] */
    td_whiten_fold f[NF];
} folds;

static void moments(folds *s)
{
    for (int j = 0; j < NF; j++) {
        int p = s->p[j];
        memset(s->m[j], 0, sizeof s->m[j]);
        memset(s->mu[j], 0, sizeof s->mu[j]);
        for (int q = 0; q < p; q++)
            for (int a = 0; a < N; a++) {
                s->mu[j][a] += s->x[j][a * p + q] / p;
                for (int b = 0; b < N; b++)
                    s->m[j][a * N + b] +=
                        s->x[j][a * p + q] * s->x[j][b * p + q] / p;
            }
        s->f[j] = (td_whiten_fold){.m = s->m[j], .mu = s->mu[j],
                                   .weight = p};
    }
}

static void folds_free(folds *s)
{
    for (int j = 0; j < NF; j++)
        free(s->x[j]);
}

/* Samples x = L g + mean (+ for `own`, fold j's channels 2j, 2j+1 at 10x
 * the rest): a steep spectrum shared by all folds, or one per fold. */
static void draw(folds *s, trng_t *g, const int *p, int own)
{
    double l[N * N];
    for (int i = 0; i < N * N; i++)
        l[i] = trng_gauss(g) * pow(2.0, -(double)(i % N));
    for (int j = 0; j < NF; j++) {
        s->p[j] = p[j];
        s->x[j] = malloc((size_t)(N * p[j]) * sizeof *s->x[j]);
        for (int q = 0; q < p[j]; q++) {
            double z[N];
            for (int a = 0; a < N; a++)
                z[a] = trng_gauss(g);
            for (int a = 0; a < N; a++) {
                double v = 0.3 + 0.1 * a;
                if (own)
                    v = z[a] * (a / 2 == j ? 10.0 : 0.05);
                else
                    for (int b = 0; b < N; b++)
                        v += l[a * N + b] * z[b];
                s->x[j][a * p[j] + q] = v;
            }
        }
    }
    moments(s);
}

/* The held-out error, computed directly, pooled over the folds. */
static double direct(const folds *s, const double *w, double lam, int centred,
                     int64_t r, int64_t r_out)
{
    td_err_t err = {0};
    double a[ROWS * N];
    for (int o = 0; o < CO; o++)
        for (int c = 0; c < N; c++)
            for (int t = 0; t < KT; t++)
                a[(o * KT + t) * N + c] = w[(o * N + c) * KT + t];
    double num = 0, den = 0;
    for (int j = 0; j < NF; j++) {
        double mt[N * N] = {0}, mut[N] = {0}, tot = 0;
        for (int q = 0; q < NF; q++) {
            if (q == j)
                continue;
            tot += s->p[q];
            for (int i = 0; i < N * N; i++)
                mt[i] += s->p[q] * s->m[q][i];
            for (int i = 0; i < N; i++)
                mut[i] += s->p[q] * s->mu[q][i];
        }
        for (int i = 0; i < N * N; i++)
            mt[i] /= tot;
        for (int i = 0; i < N; i++)
            mut[i] /= tot;
        td_whiten_t wh;
        CHECK((centred ? td_whiten_new_cov(mt, mut, N, lam, &wh, &err)
                       : td_whiten_new(mt, N, lam, &wh, &err)) == TD_OK);
        double b[ROWS * N], u[ROWS * N], sv[N], vt[N * N], br[ROWS * N],
            ah[ROWS * N];
        tmatmul(a, wh.s, b, ROWS, N, N);
        CHECK(td_dec_svd_thin(b, ROWS, N, u, sv, vt, "test", &err) == TD_OK);
        memset(br, 0, sizeof br);
        for (int i = 0; i < ROWS; i++)
            for (int c = 0; c < N; c++)
                for (int64_t q = 0; q < r; q++)
                    br[i * N + c] += u[i * N + q] * sv[q] * vt[q * N + c];
        tmatmul(br, wh.s_inv, ah, ROWS, N, N);
        /* the output side: the leading r_out eigenvectors of
         * sum_t W_t S^2 W_t^T */
        double s2[N * N], q[CO * CO] = {0}, uo[CO * CO];
        tmatmul(wh.s, wh.s, s2, N, N, N);
        for (int t = 0; t < KT; t++)
            for (int o = 0; o < CO; o++)
                for (int o2 = 0; o2 < CO; o2++)
                    for (int c = 0; c < N; c++)
                        for (int c2 = 0; c2 < N; c2++)
                            q[o * CO + o2] += w[(o * N + c) * KT + t] *
                                              s2[c * N + c2] *
                                              w[(o2 * N + c2) * KT + t];
        if (r_out > 0)
            CHECK(td_dec_sym_leading(q, CO, r_out, uo, NULL, &err) == TD_OK);
        td_whiten_free(&wh);
        /* sum over held-out samples of ||dA (x - mu)||^2, and ||A (x - mu)||^2 */
        int p = s->p[j];
        for (int q = 0; q < p; q++) {
            double xc[N];
            for (int c = 0; c < N; c++)
                xc[c] = s->x[j][c * p + q] - (centred ? mut[c] : 0);
            for (int i = 0; i < ROWS; i++) {
                double e = 0, y = 0;
                for (int c = 0; c < N; c++) {
                    e += (a[i * N + c] - ah[i * N + c]) * xc[c];
                    y += a[i * N + c] * xc[c];
                }
                num += e * e / p;
                den += y * y / p;
            }
            /* what the output projection drops, per tap */
            for (int t = 0; r_out > 0 && t < KT; t++) {
                double y[CO], kept = 0, all = 0;
                for (int o = 0; o < CO; o++) {
                    y[o] = 0;
                    for (int c = 0; c < N; c++)
                        y[o] += w[(o * N + c) * KT + t] * xc[c];
                    all += y[o] * y[o];
                }
                for (int64_t i = 0; i < r_out; i++) {
                    double d = 0;
                    for (int o = 0; o < CO; o++)
                        d += uo[o * r_out + i] * y[o];
                    kept += d * d;
                }
                num += (all - kept) / p;
            }
        }
    }
    return num / den;
}

static void test_against_direct(void)
{
    trng_t g = {11};
    folds s;
    int p[NF] = {20, 30, 40, 25};
    draw(&s, &g, p, 0);
    double w[CO * N * KT];
    for (int i = 0; i < CO * N * KT; i++)
        w[i] = trng_gauss(&g);
    const double *grid;
    size_t ng = td_whiten_cv_grid(&grid);
    CHECK(ng >= 5 && grid[0] < 0.1 && grid[ng - 1] >= 3);
    int64_t ranks[2] = {2, 5};
    for (int centred = 0; centred < 2; centred++)
        for (int64_t r_out = 0; r_out <= 3; r_out += 3) {
            double rel[32];
            td_err_t err = {0};
            CHECK(td_whiten_cv_errors(w, CO, N, KT, s.f, NF, centred, ranks,
                                      2, r_out, rel, &err) == TD_OK);
            for (size_t gi = 0; gi < ng; gi++)
                for (int q = 0; q < 2; q++) {
                    double d = direct(&s, w, grid[gi], centred, ranks[q], r_out);
                    double c = rel[gi * 2 + q];
                    CHECK_MSG(fabs(c - d) <= 1e-9 * fmax(d, 1e-12) + 1e-13,
                              "centred %d lambda %g rank %lld, out %lld: "
                              "%.12g, directly %.12g", centred, grid[gi],
                              (long long)ranks[q], (long long)r_out, c, d);
                }
            /* the error falls with the rank */
            for (size_t gi = 0; gi < ng; gi++)
                CHECK(rel[gi * 2 + 1] < rel[gi * 2]);
        }
    folds_free(&s);
}

static void test_choice(void)
{
    trng_t g = {5};
    int p[NF] = {PMAX, PMAX, PMAX, PMAX};
    double w[CO * N * KT];
    for (int i = 0; i < CO * N * KT; i++)
        w[i] = trng_gauss(&g);
    const double *grid;
    size_t ng = td_whiten_cv_grid(&grid);
    td_err_t err = {0};
    double lam = 0;
    int chosen = 0;
    /* alike: what the training folds say holds on the held-out one */
    folds s;
    draw(&s, &g, p, 0);
    CHECK(td_whiten_choose(w, CO, N, KT, s.f, NF, 1, 0, 0, &lam, &chosen, &err) == TD_OK && chosen);
    CHECK_MSG(lam == grid[0], "alike folds chose %g", lam);
    folds_free(&s);
    /* each fold its own channels: the others say nothing about them */
    draw(&s, &g, p, 1);
    CHECK(td_whiten_choose(w, CO, N, KT, s.f, NF, 1, 0, 0, &lam, &chosen, &err) == TD_OK && chosen);
    CHECK_MSG(lam == grid[ng - 1], "unlike folds chose %g", lam);
    /* one fold with positions: nothing to hold out */
    td_whiten_fold one[NF];
    memcpy(one, s.f, sizeof one);
    for (int j = 1; j < NF; j++)
        one[j].weight = 0;
    CHECK(td_whiten_choose(w, CO, N, KT, one, NF, 1, 0, 0, &lam, &chosen, &err) == TD_OK && !chosen);
    CHECK(lam == TD_WHITEN_REL_LAMBDA);
    /* training sets of no more positions than channels (2 + 2 + 2 of 8,
     * as after global pooling): the default, not chosen */
    for (int j = 0; j < NF; j++)
        one[j].weight = 2;
    CHECK(td_whiten_choose(w, CO, N, KT, one, NF, 1, 0, 0, &lam, &chosen, &err) == TD_OK && !chosen);
    CHECK(lam == TD_WHITEN_REL_LAMBDA);
    one[0].weight = 3;  /* 7 of 8 still */
    CHECK(td_whiten_choose(w, CO, N, KT, one, NF, 1, 0, 0, &lam, &chosen, &err) == TD_OK && !chosen);
    for (int j = 0; j < NF; j++)
        one[j].weight = 3;  /* 9 > 8: chosen */
    CHECK(td_whiten_choose(w, CO, N, KT, one, NF, 1, 0, 0, &lam, &chosen, &err) == TD_OK && chosen);
    /* ranks out of order or beyond Cin */
    double rel[32];
    int64_t bad[2] = {4, 3}, big[1] = {N + 1}, ranks1[1] = {2};
    CHECK(td_whiten_cv_errors(w, CO, N, KT, s.f, NF, 1, bad, 2, 0, rel,
                              &err) == TD_EINPUT);
    CHECK(td_whiten_cv_errors(w, CO, N, KT, s.f, NF, 1, big, 1, 0, rel,
                              &err) == TD_EINPUT);
    CHECK(td_whiten_cv_errors(w, CO, N, KT, s.f, NF, 1, ranks1, 1, CO + 1,
                              rel, &err) == TD_EINPUT);
    folds_free(&s);
}

int main(void)
{
    test_against_direct();
    test_choice();
    return TCHECK_DONE();
}
