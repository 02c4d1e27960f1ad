/* The last factor's ridge least squares; see td_refit.h. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"
#include "refit_internal.h"

td_status td_refit_acc_init(td_refit_acc *a, int64_t cout, int64_t r,
                            td_err_t *err)
{
    memset(a, 0, sizeof *a);
    if (cout < 1 || r < 1)
        return td_err_set(err, TD_EINPUT, "refit: %lld outputs, %lld inner "
                          "channels", (long long)cout, (long long)r);
    a->cout = cout;
    a->r = r;
    td_status s;
    if ((s = td_dec_alloc(&a->syz, (size_t)cout, (size_t)r, err)) ||
        (s = td_dec_alloc(&a->szz, (size_t)r, (size_t)r, err)) ||
        (s = td_dec_alloc(&a->sy, (size_t)cout, 1, err)) ||
        (s = td_dec_alloc(&a->sz, (size_t)r, 1, err)))
        td_refit_acc_free(a);
    return s;
}

void td_refit_acc_free(td_refit_acc *a)
{
    free(a->syz);
    free(a->szz);
    free(a->sy);
    free(a->sz);
    memset(a, 0, sizeof *a);
}

void td_refit_acc_add(td_refit_acc *a, const double *y, const double *z,
                      int64_t p)
{
    if (p < 1)
        return;
    int co = (int)a->cout, r = (int)a->r, n = (int)p;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, co, r, n, 1.0, y, n,
                z, n, 1.0, a->syz, r);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, r, n, 1.0, z, n,
                z, n, 1.0, a->szz, r);
    for (int64_t c = 0; c < a->cout; c++) {
        const double *row = y + c * p;
        double s = 0, q = 0;
        for (int64_t j = 0; j < p; j++) {
            s += row[j];
            q += row[j] * row[j];
        }
        a->sy[c] += s;
        a->syy += q;
    }
    for (int64_t c = 0; c < a->r; c++) {
        const double *row = z + c * p;
        double s = 0;
        for (int64_t j = 0; j < p; j++)
            s += row[j];
        a->sz[c] += s;
    }
    a->count += (double)p;
}

/* Expanded: (syy - 2 <A, syz> - 2 b.sy + <A szz, A> + 2 b.A sz + n |b|^2)
 * / n. A szz by one product (cout x r x r: a whole chain's 480 x 480 x 480
 * is called some 20 times per chain by the cross-validation), row by row
 * where its buffer cannot be had. */
double td_refit_mse(const td_refit_acc *a, const double *A, const double *b)
{
    int64_t co = a->cout, r = a->r;
    double *as = malloc((size_t)(co * r) * sizeof *as);
    double e = a->syy;
    if (as)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)co,
                    (int)r, (int)r, 1.0, A, (int)r, a->szz, (int)r, 0.0, as,
                    (int)r);
    for (int64_t o = 0; o < co; o++) {
        const double *ar = A + o * r;
        double az = 0;
        for (int64_t i = 0; i < r; i++) {
            double szz_a = 0;
            if (as) {
                szz_a = as[o * r + i];   /* szz is symmetric */
            } else {
                for (int64_t j = 0; j < r; j++)
                    szz_a += a->szz[i * r + j] * ar[j];
            }
            e += ar[i] * (szz_a - 2 * a->syz[o * r + i]);
            az += ar[i] * a->sz[i];
        }
        if (b)
            e += b[o] * (-2 * a->sy[o] + 2 * az + a->count * b[o]);
    }
    free(as);
    return e / a->count;
}

int td_refit_sums_finite(const td_refit_acc *a)
{
    size_t n1 = (size_t)(a->cout * a->r), n2 = (size_t)(a->r * a->r);
    for (size_t q = 0; q < n1; q++)
        if (!isfinite(a->syz[q]))
            return 0;
    for (size_t q = 0; q < n2; q++)
        if (!isfinite(a->szz[q]))
            return 0;
    return isfinite(a->syy);
}

double td_refit_system(const td_refit_acc *a, const double *a0, int centre,
                       double rel_lambda, double *m, double *rhs)
{
    int64_t co = a->cout, r = a->r;
    double n = a->count, tr = 0;
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < r; j++) {
            double v = a->szz[i * r + j] / n;
            if (centre)
                v -= (a->sz[i] / n) * (a->sz[j] / n);
            m[i * r + j] = v;
            tr += i == j ? v : 0;
        }
    double lambda = rel_lambda * (tr > 0 ? tr : 0) / (double)r;
    /* z never varies (a dead inner channel set): only the prior speaks */
    if (!(lambda > 0))
        lambda = 1;
    for (int64_t i = 0; i < r; i++)
        m[i * r + i] += lambda;
    for (int64_t o = 0; o < co; o++)
        for (int64_t i = 0; i < r; i++) {
            double v = a->syz[o * r + i] / n;
            if (centre)
                v -= (a->sy[o] / n) * (a->sz[i] / n);
            rhs[i * co + o] = v + lambda * a0[o * r + i];
        }
    return lambda;
}

void td_refit_bias(const td_refit_acc *a, const double *m, double *b_out)
{
    int64_t co = a->cout, r = a->r;
    for (int64_t o = 0; o < co; o++) {
        double mz = 0;
        for (int64_t i = 0; i < r; i++)
            mz += m[o * r + i] * a->sz[i];
        b_out[o] = (a->sy[o] - mz) / a->count;
    }
}

void td_refit_finish(const td_refit_acc *a, const double *m0,
                     const double *b0, const double *m, double *b_out,
                     double *before, double *after)
{
    if (b0)
        td_refit_bias(a, m, b_out);
    double yy = a->syy / a->count;
    double e0 = td_refit_mse(a, m0, b0);
    double e1 = td_refit_mse(a, m, b0 ? b_out : NULL);
    *before = yy > 0 ? fmax(e0, 0) / yy : 0;
    *after = yy > 0 ? fmax(e1, 0) / yy : 0;
}

td_status td_refit_solve(const td_refit_acc *a, const double *a0,
                         const double *b0, double rel_lambda, double *a_out,
                         double *b_out, double *before, double *after,
                         td_err_t *err)
{
    if (!(a->count > 0))
        return td_err_set(err, TD_EINPUT, "refit: no position was gathered");
    if (!td_refit_sums_finite(a))
        return td_err_set(err, TD_EINPUT, "refit: the gathered sums hold "
                          "NaN or Inf");
    int64_t co = a->cout, r = a->r;
    double *m = NULL, *rhs = NULL;
    td_status s;
    if ((s = td_dec_alloc(&m, (size_t)r, (size_t)r, err)) ||
        (s = td_dec_alloc(&rhs, (size_t)r, (size_t)co, err)))
        goto done;
    td_refit_system(a, a0, b0 != NULL, rel_lambda, m, rhs);
    /* M is a covariance plus lambda I: symmetric positive definite */
    lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)r,
                                    (lapack_int)co, m, (lapack_int)r, rhs,
                                    (lapack_int)co);
    if (info != 0) {
        s = td_err_set(err, TD_ENUMERIC, "refit: the regularised %lld x %lld "
                       "system is not positive definite (dposv info %d)",
                       (long long)r, (long long)r, (int)info);
        goto done;
    }
    for (int64_t o = 0; o < co; o++)
        for (int64_t i = 0; i < r; i++)
            a_out[o * r + i] = rhs[i * co + o];
    td_refit_finish(a, a0, b0, a_out, b_out, before, after);
done:
    free(m);
    free(rhs);
    return s;
}
