/* A layer's response to an input that is constant over space, from its
 * dense weight or from its factors. With mu the calibration mean of the
 * input channels, the difference between the two is the mean output shift
 * the factoring causes, which the bias absorbs (td_whiten.h). */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"
#include "td_whiten.h"

void td_dense_const_response(const double *w, int64_t cout, int64_t cin,
                             int64_t k, const double *mu, double *out)
{
    for (int64_t o = 0; o < cout; o++) {
        double acc = 0;
        for (int64_t c = 0; c < cin; c++) {
            const double *p = w + ((size_t)o * (size_t)cin + (size_t)c) * (size_t)k;
            double t = 0;
            for (int64_t q = 0; q < k; q++)
                t += p[q];
            acc += t * mu[c];
        }
        out[o] = acc;
    }
}

double td_mean_energy(const double *w, int64_t cout, int64_t cin, int64_t k,
                      const double *mu)
{
    double e = 0;
    for (int64_t o = 0; o < cout; o++)
        for (int64_t q = 0; q < k; q++) {
            double t = 0;
            for (int64_t c = 0; c < cin; c++)
                t += w[((size_t)o * (size_t)cin + (size_t)c) * (size_t)k + (size_t)q] * mu[c];
            e += t * t;
        }
    return e;
}

/* out = a v for the row-major rows x cols matrix a. */
static void matvec(const double *a, int64_t rows, int64_t cols,
                   const double *v, double *out)
{
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)rows, (int)cols, 1.0, a,
                (int)cols, v, 1, 0.0, out, 1);
}

td_status td_tucker2_const_response(const td_tucker2_t *t, const double *mu,
                                    double *out, td_err_t *err)
{
    double *z = calloc((size_t)(t->r_in + t->r_out), sizeof *z);
    if (!z)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    double *y = z + t->r_in;
    for (int64_t c = 0; c < t->cin; c++)  /* z = U_in^T mu */
        for (int64_t b = 0; b < t->r_in; b++)
            z[b] += t->u_in[c * t->r_in + b] * mu[c];
    for (int64_t a = 0; a < t->r_out; a++)  /* y = sum over taps of G z */
        for (int64_t b = 0; b < t->r_in; b++) {
            const double *g = t->core + (a * t->r_in + b) * t->k;
            double s = 0;
            for (int64_t q = 0; q < t->k; q++)
                s += g[q];
            y[a] += s * z[b];
        }
    matvec(t->u_out, t->cout, t->r_out, y, out);
    free(z);
    return TD_OK;
}

td_status td_cp_const_response(const td_cp_t *c, const double *mu,
                               double *out, td_err_t *err)
{
    double *v = malloc((size_t)c->rank * sizeof *v);
    if (!v)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (int64_t r = 0; r < c->rank; r++) {
        double s = 0;
        for (int64_t i = 0; i < c->dims[1]; i++)
            s += c->factors[1][i * c->rank + r] * mu[i];
        for (int m = 2; m < c->ndim; m++) {  /* every tap sees mu */
            double t = 0;
            for (int64_t i = 0; i < c->dims[m]; i++)
                t += c->factors[m][i * c->rank + r];
            s *= t;
        }
        v[r] = s;
    }
    matvec(c->factors[0], c->dims[0], c->rank, v, out);
    free(v);
    return TD_OK;
}

td_status td_svd_const_response(const td_svd_t *s, const double *mu,
                                double *out, td_err_t *err)
{
    double *v = malloc((size_t)s->rank * sizeof *v);
    if (!v)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    matvec(s->right, s->rank, s->n, mu, v);
    matvec(s->left, s->m, s->rank, v, out);
    free(v);
    return TD_OK;
}

td_status td_tr_const_response(const td_tr_t *tr, const double *mu,
                               double *out, td_err_t *err)
{
    double *full = NULL;
    td_status st = td_tr_full(tr, &full, err);
    if (st)
        return st;
    int64_t k = 1;
    for (int m = 2; m < tr->ndim; m++)
        k *= tr->dims[m];
    td_dense_const_response(full, tr->dims[0], tr->dims[1], k, mu, out);
    free(full);
    return TD_OK;
}
