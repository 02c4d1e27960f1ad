/* HOOI sweeps for Tucker-2 in single precision.
 *
 * The weights come from fp32/fp16 models, and a relative error of ~1e-7
 * in a Gram matrix moves its leading subspace far less than the truncation
 * does, so the sweeps form the products, the Gram matrices and their
 * eigenvectors (SSYEVD) in single precision: GEMMs run twice as fast and
 * the eigensolver, the largest cost on 512-1024 channels, two to three
 * times. A perturbation of size d of an exact half-step's argmax changes
 * the fit only by O(d^2), because the half-step maximises it. The float
 * eigenvectors are orthonormal to ~1e-6; the factors returned are
 * re-orthonormalised in double (Cholesky QR, well conditioned on a basis
 * this close to orthonormal), and the caller computes the core and the
 * reported error in double from W and those factors, so what is reported
 * is exact for what is returned. The fit seen here carries ~1e-7 relative
 * noise: the caller takes this path only for fit tolerances >= 1e-5.
 * (Why an eigensolve each half-step and not warm-started subspace
 * iteration: bench/README.md, "Decomposition speed".) */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tucker2_internal.h"

static void to_float(const double *a, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)a[i];
}

/* Gram matrix (d x d, row-major upper triangle) of x's rows (trans == 0,
 * x is d x n) or of its columns (x is n x d). A Gram matrix is invariant
 * under a permutation of the summed index, so the unfoldings come in
 * whatever column order one GEMM produced them. */
static void gram_f(const float *x, int trans, int64_t d, int64_t n, float *gf)
{
    cblas_ssyrk(CblasRowMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans,
                (int)d, (int)n, 1.0f, x, trans ? (int)d : (int)n, 0.0f, gf,
                (int)d);
}

/* The r leading eigenvectors v (d x r, float) of the Gram matrix in gf
 * (row-major upper triangle; destroyed) and the sum of their eigenvalues.
 * SSYEVD's backward error, ~1e-7 of the largest eigenvalue, costs fit in
 * proportion to it, and relative to the error that is left, e^2 ||W||^2:
 * on ISNet it made errors near 0.08 up to 1.2e-6 (relative) worse than
 * double sweeps. So once the error of a half-step (or, for the HOSVD, its
 * lower bound, the energy outside the subspace) is below
 * SINGLE_EIG_MIN_ERR, this and every later eigensolve of the call run in
 * double (DSYEVD on the promoted Gram). */
#define SINGLE_EIG_MIN_ERR 0.25

static td_status eig_top(td_t2_work_t *wk, int64_t d, int64_t r, float *v,
                         double *fit2, double nw2, int *dbl,
                         const float *x, int trans, int64_t n, td_err_t *err)
{
    td_status st = TD_OK;
    float *ev = NULL;
    double *vd = NULL, *evd = NULL;
    if (!*dbl) {
        if (!(ev = malloc((size_t)d * sizeof *ev)))
            return td_err_set(err, TD_ENOMEM, "eigensolver: out of memory");
        /* row-major upper = column-major lower */
        lapack_int info = LAPACKE_ssyevd(LAPACK_COL_MAJOR, 'V', 'L',
                                         (lapack_int)d, wk->gf, (lapack_int)d, ev);
        if (info != 0) {
            st = td_err_set(err, TD_ENUMERIC, "eigensolver: LAPACK ssyevd "
                            "failed (info %d)", (int)info);
            goto cleanup;
        }
        *fit2 = 0.0;
        for (int64_t c = 0; c < r; c++)
            *fit2 += (double)ev[d - 1 - c];
        if (nw2 - *fit2 >= SINGLE_EIG_MIN_ERR * SINGLE_EIG_MIN_ERR * nw2) {
            /* column j of the column-major result is the j-th
             * eigenvector, ascending: take the last r, reversed */
            for (int64_t c = 0; c < r; c++) {
                const float *col = wk->gf + (size_t)(d - 1 - c) * (size_t)d;
                for (int64_t i = 0; i < d; i++)
                    v[i * r + c] = col[i];
            }
            goto cleanup;
        }
        *dbl = 1;
        gram_f(x, trans, d, n, wk->gf);
    }
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = i; j < d; j++)
            wk->g[i * d + j] = wk->g[j * d + i] = (double)wk->gf[i * d + j];
    if ((st = td_dec_alloc(&vd, (size_t)d, (size_t)r, err)) ||
        (st = td_dec_alloc(&evd, (size_t)r, 1, err)) ||
        (st = td_dec_sym_leading(wk->g, d, r, vd, evd, err)))
        goto cleanup;
    *fit2 = 0.0;
    for (int64_t c = 0; c < r; c++)
        *fit2 += evd[c];
    to_float(vd, (size_t)(d * r), v);
cleanup:
    free(ev);
    free(vd);
    free(evd);
    return st;
}

/* Leading r left singular vectors uf (m x r) of the unfolding X (x itself,
 * m x n, for trans == 0; x^T for x n x m) from the eigenvectors of its
 * Gram matrix; the r leading eigenvalues (||X^T U||^2 in all) are summed
 * into *fit2. When X has fewer columns than rows and r <= n, the n x n
 * Gram of its columns is decomposed instead and U = orth(X V). */
static td_status lead_f(const float *x, int trans, int64_t m, int64_t n,
                        int64_t r, td_t2_work_t *wk, float *uf, double *fit2,
                        double nw2, int *dbl, td_err_t *err)
{
    td_status st;
    int thin = n < m && r <= n;
    int64_t d = thin ? n : m;
    int t = thin ? !trans : trans; /* thin: the Gram of the other index */
    gram_f(x, t, d, thin ? m : n, wk->gf);
    if (!thin)
        return eig_top(wk, d, r, uf, fit2, nw2, dbl, x, t, n, err);
    float *v = malloc((size_t)(n * r) * sizeof *v);
    if (!v)
        return td_err_set(err, TD_ENOMEM, "eigensolver: out of memory");
    if ((st = eig_top(wk, d, r, v, fit2, nw2, dbl, x, t, m, err))) {
        free(v);
        return st;
    }
    /* U = X V has columns s_i u_i: normalise them by a QR in double */
    cblas_sgemm(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, CblasNoTrans,
                (int)m, (int)r, (int)n, 1.0f, x, trans ? (int)m : (int)n, v,
                (int)r, 0.0f, uf, (int)r);
    free(v);
    for (size_t i = 0; i < (size_t)(m * r); i++)
        wk->g[i] = (double)uf[i];
    st = td_dec_orth(wk->g, m, r, err);
    to_float(wk->g, (size_t)(m * r), uf);
    return st;
}

/* The returned factor: uf in double, orthonormal to working precision. */
static td_status finish(const float *uf, int64_t m, int64_t r, double *u,
                        td_err_t *err)
{
    for (size_t i = 0; i < (size_t)(m * r); i++)
        u[i] = (double)uf[i];
    return td_dec_orth_near(u, m, r, err);
}

static double err_of(double nw, double fit2)
{
    double e2 = nw * nw - fit2;
    return sqrt(e2 > 0.0 ? e2 : 0.0) / nw;
}

/* HOSVD start for U_in only; U_out comes from the first half-step, which
 * needs no start. The stopping rule compares the error after a full sweep
 * with the one a sweep before; the HOSVD point's error is not computed (it
 * would cost the HOSVD's U_out eigensolve), so at least two sweeps run. */
td_status td_t2_hooi_single(int64_t co, int64_t ci, int64_t k, int64_t ro,
                            int64_t ri, int max_sweeps, double fit_tol,
                            double stop_below, double nw, td_tucker2_t *out,
                            td_t2_work_t *wk, td_err_t *err)
{
    td_status st;
    double fit2, nw2 = nw * nw;
    int dbl = 0;
    to_float(wk->wp, (size_t)(co * ci * k), wk->wf);
    /* the mode-1 unfolding is wf's columns */
    if ((st = lead_f(wk->wf, 1, ci, co * k, ri, wk, wk->uif,
                          &fit2, nw2, &dbl, err)))
        return st;
    out->sweeps = 0;
    if (!(nw > 0.0) || (ro == co && ri == ci)) {
        if ((st = lead_f(wk->wf, 0, co, k * ci, ro, wk, wk->uof,
                              &fit2, nw2, &dbl, err)))
            return st;
        max_sweeps = 0;
    }
    double e = 2.0;
    for (int s = 0; s < max_sweeps; s++) {
        /* U_out from Y = W x_1 U_in^T, (cout, k, r_in) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(co * k),
                    (int)ri, (int)ci, 1.0f, wk->wf, (int)ci, wk->uif, (int)ri,
                    0.0f, wk->yf, (int)ri);
        if ((st = lead_f(wk->yf, 0, co, k * ri, ro, wk, wk->uof,
                              &fit2, nw2, &dbl, err)))
            return st;
        if (s == 0)
            e = err_of(nw, fit2);
        /* U_in from Zt = U_out^T W, (r_out, k, cin) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ro,
                    (int)(k * ci), (int)co, 1.0f, wk->uof, (int)ro, wk->wf,
                    (int)(k * ci), 0.0f, wk->ztf, (int)(k * ci));
        if ((st = lead_f(wk->ztf, 1, ci, ro * k, ri, wk, wk->uif,
                              &fit2, nw2, &dbl, err)))
            return st;
        out->sweeps = s + 1;
        double ne = err_of(nw, fit2);
        double change = fabs(ne - e);
        e = ne;
        if (s > 0 && change < fit_tol)
            break;
        /* this fit is float-accurate (~1e-7 of ||W||^2): stop early only
         * with a margin; the caller's error in double decides */
        if (fit2 >= nw2 * (1.0 - stop_below * stop_below + 1e-6))
            break;
    }
    if ((st = finish(wk->uof, co, ro, out->u_out, err)))
        return st;
    return finish(wk->uif, ci, ri, out->u_in, err);
}
