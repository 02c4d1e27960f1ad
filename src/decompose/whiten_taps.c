/* The kernel taps' share of the output metric (td_whiten.h, "Taps"): one
 * small symmetric square root per spatial axis, from the input's
 * autocorrelation along that axis. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"
#include "td_whiten.h"

void td_taps_whiten_free(td_taps_whiten_t *t)
{
    for (int s = 0; s < TD_TAPS_MAX_AXES; s++) {
        free(t->s[s]);
        free(t->s_inv[s]);
    }
    memset(t, 0, sizeof *t);
}

/* Axis s's R (k x k Toeplitz, unit diagonal) from its autocorrelation at
 * lags 0, d, 2d, ...; 0 when the statistics cannot give it (no energy, or
 * the kernel reaches past the lags gathered): the axis stays unweighted. */
static int toeplitz(const double *acf, int64_t lags, int64_t k, int64_t d,
                    double *r)
{
    if (!(acf[0] > 0) || d < 1 || (k - 1) * d >= lags)
        return 0;
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++) {
            int64_t lag = (a > b ? a - b : b - a) * d;
            double v = acf[lag] / acf[0];
            if (!isfinite(v))
                return 0;
            /* a correlation: |v| <= 1 (lags are averaged over their own
             * overlaps, so an estimate can step past it by rounding) */
            r[a * k + b] = fmax(-1.0, fmin(1.0, v));
        }
    return 1;
}

/* S = V diag(sqrt((e + lambda) / (1 + lambda))) V^T and its inverse, from
 * r (k x k, symmetric; clobbered). Eigenvalues of an estimated Toeplitz
 * matrix can dip below 0: clamped there. Dividing by 1 + lambda keeps S = I
 * for uncorrelated taps, so a layer's weighted norm does not change scale
 * with the statistics. */
static td_status roots(double *r, int64_t k, double lambda, double *s,
                       double *s_inv, td_err_t *err)
{
    double e[64];
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)k,
                                     r, (lapack_int)k, e);
    if (info != 0)
        return td_err_set(err, TD_ENUMERIC, "tap correlation: LAPACK dsyevd "
                          "failed (info %d)", (int)info);
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++) {
            double p = 0, q = 0;
            for (int64_t j = 0; j < k; j++) {
                double d = sqrt((fmax(e[j], 0) + lambda) / (1 + lambda));
                double vv = r[j * k + a] * r[j * k + b];  /* column j */
                p += vv * d;
                q += vv / d;
            }
            s[a * k + b] = p;
            s_inv[a * k + b] = q;
        }
    return TD_OK;
}

td_status td_taps_whiten_new(int nsp, const int64_t *k, const int64_t *dil,
                             const double *acf, int64_t lags, double rel_lambda,
                             td_taps_whiten_t *out, td_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (nsp < 1 || nsp > TD_TAPS_MAX_AXES || lags < 1 || !(rel_lambda > 0))
        return TD_OK;  /* nothing to weight: the taps stay uncorrelated */
    double lambda = rel_lambda;  /* R has a unit diagonal: its mean */
    double r[64 * 64];
    int any = 0;
    for (int s = 0; s < nsp; s++) {
        out->k[s] = k[s];
        if (k[s] < 2 || k[s] > 64 ||
            !toeplitz(acf + (size_t)s * (size_t)lags, lags, k[s], dil[s], r))
            continue;
        td_status st;
        if ((st = td_dec_alloc(&out->s[s], (size_t)k[s], (size_t)k[s], err)) ||
            (st = td_dec_alloc(&out->s_inv[s], (size_t)k[s], (size_t)k[s], err)) ||
            (st = roots(r, k[s], lambda, out->s[s], out->s_inv[s], err))) {
            td_taps_whiten_free(out);
            return st;
        }
        any = 1;
    }
    if (any)
        out->nsp = nsp;
    else
        td_taps_whiten_free(out);
    return TD_OK;
}

td_status td_taps_mul_axis(const td_taps_whiten_t *t, int s, int inverse,
                           double *x, int64_t pre, int64_t post, td_err_t *err)
{
    if (s >= t->nsp || !t->s[s])
        return TD_OK;
    int64_t k = t->k[s];
    size_t cnt = (size_t)pre * (size_t)k * (size_t)post;
    double *tmp = malloc(cnt * sizeof *tmp);
    if (!tmp)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    /* symmetric, so x_s S and S x_s are the same product */
    td_status st = td_mode1_mul(x, pre, k, post, inverse ? t->s_inv[s] : t->s[s],
                                tmp, err);
    if (!st)
        memcpy(x, tmp, cnt * sizeof *tmp);
    free(tmp);
    return st;
}

td_status td_taps_mul(const td_taps_whiten_t *t, int inverse, double *x,
                      int64_t lead, td_err_t *err)
{
    td_status st = TD_OK;
    for (int s = 0; s < t->nsp && !st; s++) {
        int64_t pre = lead, post = 1;
        for (int a = 0; a < s; a++)
            pre *= t->k[a];
        for (int a = s + 1; a < t->nsp; a++)
            post *= t->k[a];
        st = td_taps_mul_axis(t, s, inverse, x, pre, post, err);
    }
    return st;
}
