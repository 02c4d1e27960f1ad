/* Truncated SVD under an output metric (decompose/svd_metric.c): the blend,
 * the spectrum, the factors against references built here. */
#include "decompose/td_decompose.h"
#include "tcheck.h"
#include "test_dec_common.h"

#define M 30
#define N 12

/* a^T b for a (m x p), b (m x q): p x q */
static void tatb(const double *a, const double *b, double *c, int64_t m,
                 int64_t p, int64_t q)
{
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = 0; j < q; j++) {
            double s = 0;
            for (int64_t k = 0; k < m; k++)
                s += a[k * p + i] * b[k * q + j];
            c[i * q + j] = s;
        }
}

/* tr(D^T G D) for D = w - left right (m x n), G (m x m) */
static double metric_err(const double *w, const td_svd_t *s, const double *g)
{
    double d[M * N], gd[M * N], rec[M * N];
    tmatmul(s->left, s->right, rec, M, s->rank, N);
    for (int i = 0; i < M * N; i++)
        d[i] = w[i] - rec[i];
    tmatmul(g, d, gd, M, M, N);
    double e = 0;
    for (int i = 0; i < M * N; i++)
        e += d[i] * gd[i];
    return e;
}

/* G = sum of three rank-one terms: a softmax over few active classes */
static void make_g(trng_t *r, double *g)
{
    memset(g, 0, sizeof(double) * M * M);
    for (int k = 0; k < 3; k++) {
        double v[M];
        for (int i = 0; i < M; i++)
            v[i] = trng_gauss(r);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < M; j++)
                g[i * M + j] += (3.0 - k) * v[i] * v[j];
    }
}

static void test_blend(void)
{
    trng_t r = {5};
    double *w = trand(&r, M * N), *s = trand(&r, N * N);
    double g[M * M], gw[M * N], k[N * N], p[N * N], out[N * N], ref[N * N];
    make_g(&r, g);
    tmatmul(g, w, gw, M, M, N);
    tatb(w, gw, k, M, N, N);  /* K = W^T G W, unwhitened */
    /* S symmetric positive definite: s s^T + n I */
    double ss[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double v = 0;
            for (int q = 0; q < N; q++)
                v += s[i * N + q] * s[j * N + q];
            ss[i * N + j] = v + (i == j ? N : 0);
        }
    double ww[M * N], sk[N * N], sks[N * N];
    tmatmul(w, ss, ww, M, N, N);  /* W_w = W S */
    tmatmul(ss, k, sk, N, N, N);
    tmatmul(sk, ss, sks, N, N, N);
    tatb(ww, ww, p, M, N, N);
    double tk = 0, tp = 0;
    for (int i = 0; i < N; i++) {
        tk += sks[i * N + i];
        tp += p[i * N + i];
    }
    td_err_t err = {0};
    CHECK(td_metric_blend(ss, k, ww, M, N, 0.5, out, &err) == TD_OK);
    for (int i = 0; i < N * N; i++)
        ref[i] = sks[i] + 0.5 * tk / tp * p[i];
    CHECK_MSG(trel_diff(out, ref, N * N) < 1e-12, "%g", trel_diff(out, ref, N * N));
    /* symmetric exactly */
    int sym = 1;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            sym &= out[i * N + j] == out[j * N + i];
    CHECK(sym);
    CHECK(td_metric_blend(ss, k, ww, M, N, -1, out, &err) == TD_EINPUT);
    k[7] = NAN;
    CHECK(td_metric_blend(ss, k, ww, M, N, 0.1, out, &err) == TD_ENUMERIC);
    free(w);
    free(s);
}

static void test_factors(void)
{
    trng_t r = {9};
    double *w = trand(&r, M * N);
    double g[M * M], gw[M * N], k[N * N], id[N * N] = {0}, kb[N * N];
    for (int i = 0; i < N; i++)
        id[i * N + i] = 1;
    make_g(&r, g);
    tmatmul(g, w, gw, M, M, N);
    tatb(w, gw, k, M, N, N);
    td_err_t err = {0};
    CHECK(td_metric_blend(id, k, w, M, N, 0, kb, &err) == TD_OK);

    /* G has rank 3: at rank 3 the metric's error vanishes, where the
     * plain SVD's (the best in the plain error) does not */
    td_svd_t f = {0}, p = {0};
    CHECK(td_svd_metric(w, M, N, kb, 3, 0, &f, &err) == TD_OK);
    CHECK(td_svd(w, M, N, 3, 0, &p, &err) == TD_OK);
    CHECK(f.rank == 3 && f.m == M && f.n == N);
    double total = 0;
    for (int i = 0; i < N; i++)
        total += kb[i * N + i];
    double ef = metric_err(w, &f, g), ep = metric_err(w, &p, g);
    CHECK_MSG(ef < 1e-10 * total, "metric error %g of %g", ef, total);
    CHECK_MSG(ep > 1e-2 * total, "plain SVD's metric error %g of %g", ep, total);
    /* rel_error: the plain one, and no better than the plain SVD's */
    double rec[M * N];
    tmatmul(f.left, f.right, rec, M, 3, N);
    double want = trel_diff(w, rec, M * N);
    CHECK_MSG(fabs(f.rel_error - want) < 1e-10, "%g vs %g", f.rel_error, want);
    CHECK(f.rel_error >= p.rel_error - 1e-12);
    /* each pair balanced */
    for (int q = 0; q < 3; q++) {
        double a = 0, b = 0;
        for (int i = 0; i < M; i++)
            a += f.left[i * 3 + q] * f.left[i * 3 + q];
        for (int i = 0; i < N; i++)
            b += f.right[q * N + i] * f.right[q * N + i];
        CHECK_MSG(fabs(a - b) < 1e-10 * (a + b), "pair %d: %g vs %g", q, a, b);
    }
    /* the spectrum: the square roots of kb's eigenvalues, descending */
    double sv[N];
    CHECK(td_metric_values(kb, N, sv, &err) == TD_OK);
    double s2 = 0;
    for (int i = 0; i < N; i++) {
        s2 += sv[i] * sv[i];
        CHECK(i == 0 || sv[i] <= sv[i - 1]);
        CHECK(i >= M || fabs(sv[i] - f.sv[i]) < 1e-12 * (sv[0] + 1));
    }
    CHECK_MSG(fabs(s2 - total) < 1e-9 * total, "%g vs %g", s2, total);
    CHECK(sv[3] < 1e-6 * sv[0]);  /* rank 3 */
    /* under a tolerance: the smallest rank whose metric tail is within */
    td_svd_t t = {0};
    CHECK(td_svd_metric(w, M, N, kb, 0, 1e-6, &t, &err) == TD_OK);
    CHECK_MSG(t.rank == 3, "rank %lld", (long long)t.rank);
    td_svd_free(&t);
    td_svd_free(&f);
    td_svd_free(&p);

    /* the plain metric (K = W^T W, mu 0) gives the plain SVD's product */
    double pk[N * N], r1[M * N], r2[M * N];
    tatb(w, w, pk, M, N, N);
    CHECK(td_metric_blend(id, pk, w, M, N, 0, kb, &err) == TD_OK);
    CHECK(td_svd_metric(w, M, N, kb, 5, 0, &f, &err) == TD_OK);
    CHECK(td_svd(w, M, N, 5, 0, &p, &err) == TD_OK);
    tmatmul(f.left, f.right, r1, M, 5, N);
    tmatmul(p.left, p.right, r2, M, 5, N);
    CHECK_MSG(trel_diff(r1, r2, M * N) < 1e-10, "%g", trel_diff(r1, r2, M * N));
    CHECK(fabs(f.rel_error - p.rel_error) < 1e-10);
    td_svd_free(&f);
    td_svd_free(&p);

    /* non-finite input is refused before LAPACK */
    w[3] = INFINITY;
    CHECK(td_svd_metric(w, M, N, kb, 2, 0, &f, &err) == TD_ENUMERIC);
    td_svd_free(&f);
    free(w);
}

int main(void)
{
    test_blend();
    test_factors();
    return TCHECK_DONE();
}
