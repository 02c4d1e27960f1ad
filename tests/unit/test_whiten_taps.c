/* The kernel taps' metric (td_whiten.h, "Taps"): T_s from an
 * autocorrelation is the square root of (R_s + lambda I) / (1 + lambda)
 * with the inverse beside it; uncorrelated taps give the identity; an axis
 * the lags do not reach, or without energy, is left out. Through
 * td_factor_layer with b.taps, every method's reported error is the
 * error of its reconstruction in the Kronecker metric (M + lambda I) x
 * Q_h x Q_w, computed here from the matrices directly (so a tap factor
 * left whitened, or unwhitened twice, fails), and Tucker-2's is below
 * that of the factors fitted to the channels alone at the same ranks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decompose/td_range.h"
#include "decompose/td_whiten.h"
#include "passes/td_factor.h"
#include "tcheck.h"
#include "test_dec_common.h"

#define LAMBDA 0.1
#define LAGS 4

/* acf of an AR(1) field along each axis: rho^t (row 0), rho2^t (row 1). */
static void ar_acf(double rho, double rho2, double *acf)
{
    for (int t = 0; t < LAGS; t++) {
        acf[t] = 3.0 * pow(rho, t);
        acf[LAGS + t] = 3.0 * pow(rho2, t);
    }
}

/* (R + lambda I) / (1 + lambda) for AR(1) rho, k x k, at dilation d. */
static void q_matrix(double rho, int64_t k, int64_t d, double *q)
{
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++)
            q[a * k + b] = (pow(rho, (double)(llabs(a - b) * d)) +
                            (a == b ? LAMBDA : 0)) / (1 + LAMBDA);
}

static void test_roots(void)
{
    double acf[2 * LAGS];
    ar_acf(0.9, -0.3, acf);
    int64_t k[2] = {3, 3}, d[2] = {1, 1};
    td_taps_whiten_t t;
    td_err_t err = {0};
    CHECK(td_taps_whiten_new(2, k, d, acf, LAGS, LAMBDA, &t, &err) == TD_OK);
    CHECK(t.nsp == 2 && t.s[0] && t.s[1]);
    double rho[2] = {0.9, -0.3};
    for (int s = 0; s < 2 && t.s[s]; s++) {
        double q[9];
        q_matrix(rho[s], 3, 1, q);
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) {
                double ss = 0, si = 0;
                for (int c = 0; c < 3; c++) {
                    ss += t.s[s][a * 3 + c] * t.s[s][c * 3 + b];
                    si += t.s[s][a * 3 + c] * t.s_inv[s][c * 3 + b];
                }
                CHECK_MSG(fabs(ss - q[a * 3 + b]) < 1e-12, "axis %d (%d, %d): "
                          "S^2 %g, want %g", s, a, b, ss, q[a * 3 + b]);
                CHECK(fabs(si - (a == b)) < 1e-12);
            }
    }
    td_taps_whiten_free(&t);

    /* uncorrelated: the identity */
    double flat[2 * LAGS] = {2, 0, 0, 0, 5, 0, 0, 0};
    CHECK(td_taps_whiten_new(2, k, d, flat, LAGS, LAMBDA, &t, &err) == TD_OK);
    for (int s = 0; s < 2; s++)
        for (int q = 0; q < 9 && t.s[s]; q++)
            CHECK(fabs(t.s[s][q] - (q % 4 == 0)) < 1e-12);
    td_taps_whiten_free(&t);

    /* dilation 2 reaches lag 4, past the 4 lags given: axis 0 left out;
     * axis 1 without energy: left out; nothing left: nsp 0 */
    int64_t d2[2] = {2, 1};
    ar_acf(0.9, 0.5, acf);
    acf[LAGS] = 0;
    CHECK(td_taps_whiten_new(2, k, d2, acf, LAGS, LAMBDA, &t, &err) == TD_OK);
    CHECK(t.nsp == 0 && !t.s[0] && !t.s[1]);
    /* a kernel 1 wide along axis 1: only axis 0 */
    ar_acf(0.9, 0.5, acf);
    int64_t k13[2] = {3, 1};
    CHECK(td_taps_whiten_new(2, k13, d, acf, LAGS, LAMBDA, &t, &err) == TD_OK);
    CHECK(t.nsp == 2 && t.s[0] && !t.s[1]);
    td_taps_whiten_free(&t);
    /* NaN (a lag with no positions): that axis left out */
    ar_acf(0.9, 0.5, acf);
    acf[1] = NAN;
    CHECK(td_taps_whiten_new(2, k, d, acf, LAGS, LAMBDA, &t, &err) == TD_OK);
    CHECK(t.nsp == 2 && !t.s[0] && t.s[1]);
    td_taps_whiten_free(&t);
}

/* A PSD channel moment: A A^T / n with a steep spectrum. */
static double *moment(trng_t *r, int64_t n)
{
    double *a = malloc((size_t)(n * n) * sizeof *a), *m = calloc((size_t)(n * n), sizeof *m);
    for (int64_t q = 0; q < n * n; q++)
        a[q] = trng_gauss(r) * pow(2.0, -(double)(q % n));
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            for (int64_t q = 0; q < n; q++)
                m[i * n + j] += a[i * n + q] * a[j * n + q] / (double)n;
    free(a);
    return m;
}

/* sum_o D_o^T-weighted: sum over o, (i, k), (j, k') of D[o,i,k] Mc[i,j]
 * Q[k,k'] D[o,j,k'], Q = Q_h x Q_w, Mc = M + lambda_c I. */
static double kron_sq(const double *dd, int64_t cout, int64_t cin,
                      const double *mc, const double *qh, const double *qw)
{
    double tot = 0;
    for (int64_t o = 0; o < cout; o++)
        for (int64_t i = 0; i < cin; i++)
            for (int64_t j = 0; j < cin; j++)
                for (int64_t k = 0; k < 9; k++)
                    for (int64_t k2 = 0; k2 < 9; k2++)
                        tot += dd[(o * cin + i) * 9 + k] * mc[i * cin + j] *
                               qh[(k / 3) * 3 + k2 / 3] * qw[(k % 3) * 3 + k2 % 3] *
                               dd[(o * cin + j) * 9 + k2];
    return tot;
}

static td_factors factor(td_layer *l, const double *w, td_method meth,
                         td_factor_request b)
{
    td_factors f;
    td_err_t err = {0};
    CHECK_MSG(td_factor_layer(l, w, meth, &b, &f, &err) == TD_OK, "%s", err.msg);
    return f;
}

static double *full(const td_layer *l, td_factors *f)
{
    int64_t n = l->cout * l->cin * 9;
    double *w = calloc((size_t)n, sizeof *w);
    td_err_t err = {0};
    if (f->tr) {
        double *t = NULL;
        CHECK(td_tr_full(f->tr, &t, &err) == TD_OK);
        if (t)
            memcpy(w, t, (size_t)n * sizeof *w);
        free(t);
    } else if (f->method == TD_TUCKER2) {
        CHECK(td_tucker2_full(&f->tucker2[0], w, &err) == TD_OK);
    } else {
        CHECK(td_cp_full(&f->cp[0], w, &err) == TD_OK);
    }
    return w;
}

static void test_methods(void)
{
    Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
    static char *ins[] = {"x", "W"};
    node.op_type = "Conv";
    node.input = ins;
    node.n_input = 2;
    td_layer l;
    memset(&l, 0, sizeof l);
    l.kind = TD_LAYER_CONV;
    l.node = &node;
    l.name = "conv";
    l.weight_name = "W";
    l.cout = 8;
    l.cin = l.cin_g = 6;
    l.group = 1;
    l.nsp = 2;
    l.k[0] = l.k[1] = 3;
    l.dilations[0] = l.dilations[1] = 1;
    for (int s = 0; s < 2; s++)
        l.in_sp[s] = l.out_sp[s] = -1;
    trng_t r = {11};
    int64_t n = l.cout * l.cin * 9;
    double *w = malloc((size_t)n * sizeof *w);
    for (int64_t q = 0; q < n; q++)
        w[q] = trng_gauss(&r);
    double *m = moment(&r, l.cin), acf[2 * LAGS];
    ar_acf(0.9, 0.7, acf);
    double tr = 0, qh[9], qw[9], *mc = malloc((size_t)(l.cin * l.cin) * sizeof *mc);
    for (int64_t i = 0; i < l.cin; i++)
        tr += m[i * l.cin + i];
    for (int64_t q = 0; q < l.cin * l.cin; q++)
        mc[q] = m[q] + (q % (l.cin + 1) == 0 ? LAMBDA * tr / (double)l.cin : 0);
    q_matrix(0.9, 3, 1, qh);
    q_matrix(0.7, 3, 1, qw);
    double base = kron_sq(w, l.cout, l.cin, mc, qh, qw);

    td_factor_request b = {.kind = TD_BUDGET_RANK, .rank = 3, .rank_in = 2,
                           .max_sweeps = 50, .fit_tol = 1e-12, .cp_sweeps = 300,
                           .moment = m, .rel_lambda = LAMBDA};
    td_factor_request bt = b;
    bt.taps = acf;
    bt.taps_lags = LAGS;
    struct { const char *name; td_method m; int64_t rank; } cases[] = {
        {"tucker2", TD_TUCKER2, 3}, {"cp", TD_CP, 5}, {"tr", TD_TR, 0},
        {"rsdtr", TD_RSDTR, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        td_factor_request bc = b, btc = bt;
        if (cases[c].rank)
            bc.rank = btc.rank = cases[c].rank;
        else {  /* the rings under a tolerance */
            bc.kind = btc.kind = TD_BUDGET_TOL;
            bc.tol = btc.tol = 0.5;
        }
        td_factors fc = factor(&l, w, cases[c].m, bc);
        td_factors ft = factor(&l, w, cases[c].m, btc);
        double *rc = full(&l, &fc), *rt = full(&l, &ft);
        for (int64_t q = 0; q < n; q++) {
            rc[q] = w[q] - rc[q];
            rt[q] = w[q] - rt[q];
        }
        double ec = sqrt(kron_sq(rc, l.cout, l.cin, mc, qh, qw) / base);
        double et = sqrt(kron_sq(rt, l.cout, l.cin, mc, qh, qw) / base);
        CHECK_MSG(fabs(et - ft.rel_error) < 1e-8, "%s: reported %.12g, "
                  "reconstruction %.12g", cases[c].name, ft.rel_error, et);
        if (cases[c].m == TD_TUCKER2)  /* HOOI fits the metric it is given */
            CHECK_MSG(et < 0.95 * ec, "%s: taps %.6g, channels alone %.6g",
                      cases[c].name, et, ec);
        fprintf(stderr, "%s: error in the taps' metric %.4f (channels alone "
                "%.4f)\n", cases[c].name, et, ec);
        free(rc);
        free(rt);
        td_factors_free(&fc);
        td_factors_free(&ft);
    }
    free(w);
    free(m);
    free(mc);
}

int main(void)
{
    test_roots();
    test_methods();
    return TCHECK_DONE();
}
