/* Tucker-2 of a conv kernel W (Cout x Cin x K): W ~= G x_0 U_out x_1 U_in.
 * HOSVD start (De Lathauwer et al. 2000a), then HOOI (De Lathauwer et al.
 * 2000b): with U_in fixed, the best U_out spans the leading left singular
 * subspace of the mode-0 unfolding of W x_1 U_in^T, and vice versa. Each
 * half-step maximises ||G||, so the fit never decreases from the HOSVD
 * point, and ||W - W_hat||^2 = ||W||^2 - ||G||^2 for orthonormal factors. */
#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tucker2_internal.h"

/* When the HOOI sweeps run in single precision (td_t2_hooi_single). */
#define SINGLE_MIN_FIT_TOL 1e-5
#define SINGLE_MIN_DIM 128

void td_tucker2_free(td_tucker2_t *t)
{
    if (!t)
        return;
    free(t->u_out);
    free(t->core);
    free(t->u_in);
    memset(t, 0, sizeof *t);
}

/* Leading r eigenvectors of the Gram matrix of a's rows (trans == 0: a is
 * m x n, G = a a^T) or of its columns (trans != 0: a is n x m, G = a^T a);
 * G is m x m. These are the leading r left singular vectors of the
 * unfolding whose rows are the m indices. The Gram route costs m^2 n +
 * O(m^3) and is several times faster than an SVD; it squares the condition
 * number, but only the leading subspace is taken and its accuracy is
 * governed by the gap s_r^2 - s_{r+1}^2, which is ample for a truncation.
 * A Gram matrix is invariant under a permutation of the summed index, so
 * the callers pass the unfoldings with their columns in whatever order one
 * GEMM produced them, and no transposition copies are needed. */
/* dsyrk fills the row-major upper triangle; dsyevd reads it column-major */
static void symmetrize(double *g, int64_t m)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < i; j++)
            g[i * m + j] = g[j * m + i];
}

static td_status lead_gram(const double *a, int trans, int64_t m, int64_t n,
                           int64_t r, double *g, double *u, td_err_t *err)
{
    if (n >= m || r > n) {
        cblas_dsyrk(CblasRowMajor, CblasUpper,
                    trans ? CblasTrans : CblasNoTrans, (int)m, (int)n, 1.0, a,
                    trans ? (int)m : (int)n, 0.0, g, (int)m);
        symmetrize(g, m);
        return td_dec_sym_leading(g, m, r, u, NULL, err);
    }
    /* Fewer columns than rows and r <= n: the leading
     * eigenvectors V of the n x n Gram of the columns give U = orth(X V). */
    double *v = NULL;
    td_status st = td_dec_alloc(&v, (size_t)n, (size_t)r, err);
    if (st)
        return st;
    cblas_dsyrk(CblasRowMajor, CblasUpper, trans ? CblasNoTrans : CblasTrans,
                (int)n, (int)m, 1.0, a, trans ? (int)m : (int)n, 0.0, g,
                (int)n);
    symmetrize(g, n);
    if (!(st = td_dec_sym_leading(g, n, r, v, NULL, err))) {
        cblas_dgemm(CblasRowMajor, trans ? CblasTrans : CblasNoTrans,
                    CblasNoTrans, (int)m, (int)r, (int)n, 1.0, a,
                    trans ? (int)m : (int)n, v, (int)r, 0.0, u, (int)r);
        st = td_dec_orth(u, m, r, err);
    }
    free(v);
    return st;
}

/* zt := U_out^T wp, gt := zt U_in; returns ||gt|| = ||core||. */
static double project(int64_t co, int64_t ci, int64_t k, int64_t ro,
                      int64_t ri, const td_tucker2_t *out, td_t2_work_t *wk,
                      int need_zt)
{
    if (need_zt)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ro,
                    (int)(k * ci), (int)co, 1.0, out->u_out, (int)ro, wk->wp,
                    (int)(k * ci), 0.0, wk->zt, (int)(k * ci));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(ro * k),
                (int)ri, (int)ci, 1.0, wk->zt, (int)ci, out->u_in, (int)ri,
                0.0, wk->gt, (int)ri);
    return td_dec_norm(wk->gt, (size_t)(ro * k) * (size_t)ri);
}

static double fit_of(double nw, double nc)
{
    double e2 = nw * nw - nc * nc;
    return 1.0 - sqrt(e2 > 0.0 ? e2 : 0.0) / nw;
}

static td_status hooi(int64_t co, int64_t ci, int64_t k, int64_t ro,
                      int64_t ri, int max_sweeps, double fit_tol,
                      double stop_below, double nw, td_tucker2_t *out,
                      td_t2_work_t *wk, td_err_t *err)
{
    td_status st;

    /* HOSVD: leading subspaces of the two unfoldings of W itself. */
    if ((st = lead_gram(wk->wp, 0, co, k * ci, ro, wk->g, out->u_out, err)) ||
        (st = lead_gram(wk->wp, 1, ci, co * k, ri, wk->g, out->u_in, err)))
        return st;
    double nc = project(co, ci, k, ro, ri, out, wk, 1);
    out->sweeps = 0;
    if (!(nw > 0.0) || (ro == co && ri == ci))
        return TD_OK;
    double fit = fit_of(nw, nc);
    for (int s = 0; s < max_sweeps && 1.0 - fit > stop_below; s++) {
        /* U_out from Y = W x_1 U_in^T. */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(co * k),
                    (int)ri, (int)ci, 1.0, wk->wp, (int)ci, out->u_in,
                    (int)ri, 0.0, wk->y, (int)ri);
        if ((st = lead_gram(wk->y, 0, co, k * ri, ro, wk->g, out->u_out, err)))
            return st;
        /* U_in from Z = W x_0 U_out^T, held transposed in zt. */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ro,
                    (int)(k * ci), (int)co, 1.0, out->u_out, (int)ro, wk->wp,
                    (int)(k * ci), 0.0, wk->zt, (int)(k * ci));
        if ((st = lead_gram(wk->zt, 1, ci, ro * k, ri, wk->g, out->u_in, err)))
            return st;
        /* the core reuses Zt: lead_gram only read it */
        nc = project(co, ci, k, ro, ri, out, wk, 0);
        out->sweeps = s + 1;
        double nf = fit_of(nw, nc);
        double change = fabs(nf - fit);
        fit = nf;
        if (change < fit_tol)
            break;
    }
    return TD_OK;
}

/* rel_error from the dense reconstruction U_out Gt U_in^T, built and
 * compared in the (cout, k, cin) layout of wp: two GEMMs, no permutes. */
static double recon_error(const td_tucker2_t *t, td_t2_work_t *wk, double nw)
{
    int64_t co = t->cout, ci = t->cin, k = t->k, ro = t->r_out, ri = t->r_in;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)co,
                (int)(k * ri), (int)ro, 1.0, t->u_out, (int)ro, wk->gt,
                (int)(k * ri), 0.0, wk->y, (int)(k * ri));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(co * k),
                (int)ci, (int)ri, 1.0, wk->y, (int)ri, t->u_in, (int)ri, 0.0,
                wk->zt, (int)ci);
    size_t nel = (size_t)co * (size_t)ci * (size_t)k;
    return nw > 0.0 ? td_dec_diff_norm(wk->wp, wk->zt, nel) / nw : 0.0;
}

static td_status check_kernel(const double *w, int64_t co, int64_t ci,
                              int64_t k, size_t *nel, td_err_t *err)
{
    int64_t d3[3] = {co, ci, k};
    if (!w)
        return td_err_set(err, TD_EINPUT, "tucker2: NULL tensor");
    td_status st = td_dec_numel(d3, 3, nel, err);
    if (st)
        return st;
    return td_check_finite(w, *nel, err);
}

td_status td_tucker2(const double *w, int64_t cout, int64_t cin, int64_t k,
                     int64_t r_out, int64_t r_in, const td_tucker2_opts_t *opts,
                     td_tucker2_t *out, td_err_t *err)
{
    td_status st;
    size_t nel;
    td_t2_work_t wk = {0};
    if (!out)
        return td_err_set(err, TD_EINPUT, "tucker2: NULL output");
    memset(out, 0, sizeof *out);
    if ((st = check_kernel(w, cout, cin, k, &nel, err)))
        return st;
    if (r_out <= 0 || r_in <= 0)
        return td_err_set(err, TD_EINPUT, "tucker2: ranks (%lld, %lld) must be > 0",
                          (long long)r_out, (long long)r_in);
    if (r_out > cout)
        r_out = cout;
    if (r_in > cin)
        r_in = cin;
    /* An unfolding has no more independent rows than it has columns: ranks
     * past that add parameters and no accuracy. */
    if (r_out > cin * k)
        r_out = cin * k;
    if (r_in > cout * k)
        r_in = cout * k;
    int max_sweeps = opts && opts->max_sweeps > 0 ? opts->max_sweeps : 50;
    double fit_tol = opts && opts->fit_tol > 0.0 ? opts->fit_tol : 1e-9;
    double stop = opts && opts->stop_below > 0.0 ? opts->stop_below : 0.0;
    int64_t mc = cout > cin ? cout : cin;
    int64_t d3[3] = {cout, cin, k};
    int perm[3] = {0, 2, 1};
    if ((st = td_dec_alloc(&wk.wp, nel, 1, err)) ||
        (st = td_dec_alloc(&wk.y, nel, 1, err)) ||
        (st = td_dec_alloc(&wk.zt, nel, 1, err)) ||
        (st = td_dec_alloc(&wk.gt, (size_t)(r_out * r_in), (size_t)k, err)) ||
        (st = td_dec_alloc(&wk.g, (size_t)mc, (size_t)mc, err)) ||
        (st = td_dec_alloc(&out->u_out, (size_t)cout, (size_t)r_out, err)) ||
        (st = td_dec_alloc(&out->u_in, (size_t)cin, (size_t)r_in, err)) ||
        (st = td_dec_alloc(&out->core, (size_t)(r_out * r_in), (size_t)k, err)))
        goto cleanup;
    td_dec_permute(w, 3, d3, perm, wk.wp);
    out->cout = cout;
    out->cin = cin;
    out->k = k;
    out->r_out = r_out;
    out->r_in = r_in;
    double nw = td_dec_norm(w, nel);
    int single = fit_tol >= SINGLE_MIN_FIT_TOL && mc >= SINGLE_MIN_DIM &&
                 !(opts && opts->double_sweeps);
    if (single) {
        size_t mr = (size_t)(cout * r_out > cin * r_in ? cout * r_out : cin * r_in);
        if (!(wk.wf = malloc(nel * sizeof *wk.wf)) ||
            !(wk.yf = malloc((nel > mr ? nel : mr) * sizeof *wk.yf)) ||
            !(wk.ztf = malloc(nel * sizeof *wk.ztf)) ||
            !(wk.gf = malloc((size_t)(mc * mc) * sizeof *wk.gf)) ||
            !(wk.uof = malloc(mr * sizeof *wk.uof)) ||
            !(wk.uif = malloc(mr * sizeof *wk.uif))) {
            st = td_err_set(err, TD_ENOMEM, "out of memory");
            goto cleanup;
        }
        st = td_t2_hooi_single(cout, cin, k, r_out, r_in, max_sweeps,
                               fit_tol, stop, nw, out, &wk, err);
        if (!st) {
            double nc = project(cout, cin, k, r_out, r_in, out, &wk, 1);
            /* Near-exact fits are where single precision's ~1e-7 shows:
             * below 1e-4 relative error, redo the sweeps in double. */
            if (nw > 0.0 && 1.0 - (nc / nw) * (nc / nw) < 1e-8)
                st = hooi(cout, cin, k, r_out, r_in, max_sweeps, fit_tol, stop, nw,
                          out, &wk, err);
        }
    } else {
        st = hooi(cout, cin, k, r_out, r_in, max_sweeps, fit_tol, stop, nw, out,
                  &wk, err);
    }
    if (st)
        goto cleanup;
    /* the public core is (r_out, r_in, k) */
    int64_t dg[3] = {r_out, k, r_in};
    td_dec_permute(wk.gt, 3, dg, perm, out->core);
    /* With orthonormal factors (eigenvectors from dsyevd, or ssyevd's
     * re-orthonormalised in double, are, to a few ulps)
     * and the core their projection of W, ||W - W_hat||^2 = ||W||^2 -
     * ||core||^2 exactly. In floating point the difference carries an
     * absolute error of a few 1e-16 in e^2, i.e. under 1e-12 in e once e
     * >= 1e-3; below that, the explicit reconstruction is used. */
    double nc = td_dec_norm(wk.gt, (size_t)(r_out * r_in) * (size_t)k);
    double e2 = nw > 0.0 ? 1.0 - (nc / nw) * (nc / nw) : 0.0;
    out->rel_error = e2 >= 1e-6 ? sqrt(e2) : recon_error(out, &wk, nw);
cleanup:
    free(wk.wp);
    free(wk.y);
    free(wk.zt);
    free(wk.gt);
    free(wk.g);
    free(wk.wf);
    free(wk.yf);
    free(wk.ztf);
    free(wk.gf);
    free(wk.uof);
    free(wk.uif);
    if (st) {
        td_err_prefix(err, "tucker2: ");
        td_tucker2_free(out);
    }
    return st;
}

/* Singular values of the two unfoldings as square roots of their Gram
 * matrices' eigenvalues (values only: a tridiagonal reduction, no
 * vectors), several times cheaper than a bidiagonal SVD of the wide
 * unfoldings. A value below ~1e-8 of the largest comes out as noise of
 * that size; rank selection only sums squares of the tail, where such
 * values weigh ~1e-16 of ||W||^2. */
static td_status gram_spectrum(const double *a, int trans, int64_t m,
                               int64_t n, double *sv, const char *what,
                               td_err_t *err)
{
    double *g = NULL, *ev = NULL;
    td_status st;
    if ((st = td_dec_alloc(&g, (size_t)m, (size_t)m, err)) ||
        (st = td_dec_alloc(&ev, (size_t)m, 1, err)))
        goto cleanup;
    /* row-major upper = column-major lower */
    cblas_dsyrk(CblasRowMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, 1.0, a, trans ? (int)m : (int)n, 0.0, g,
                (int)m);
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)m,
                                     g, (lapack_int)m, ev);
    if (info != 0) {
        st = td_err_set(err, TD_ENUMERIC, "%s: LAPACK dsyevd failed (info %d)",
                        what, (int)info);
        goto cleanup;
    }
    for (int64_t i = 0; i < m; i++) {
        double l = ev[m - 1 - i];
        sv[i] = l > 0.0 ? sqrt(l) : 0.0;
    }
cleanup:
    free(g);
    free(ev);
    return st;
}

/* Both spectra, by SVD of the unfoldings or from their Gram matrices. The
 * mode-1 unfolding is taken as (cout*k) x cin after one permute to
 * (cout, k, cin): the same singular values as its transpose. */
static td_status spectra(const double *w, int64_t cout, int64_t cin, int64_t k,
                         double *sv_out, double *sv_in, int gram, td_err_t *err)
{
    td_status st;
    size_t nel;
    double *w1 = NULL;
    if ((st = check_kernel(w, cout, cin, k, &nel, err)))
        return st;
    if (cout > INT_MAX || cin > INT_MAX || cout * k > INT_MAX || cin * k > INT_MAX)
        return td_err_set(err, TD_EINPUT, "tucker2: kernel too large for BLAS");
    /* w is (cout, cin, k): its mode-0 unfolding is w itself */
    if (sv_out) {
        const char *what = "tucker2 mode-0 spectrum";
        st = gram ? gram_spectrum(w, 0, cout, cin * k, sv_out, what, err)
                  : td_dec_svd_thin(w, cout, cin * k, NULL, sv_out, NULL, what, err);
        if (st)
            goto cleanup;
    }
    if (sv_in) {
        const char *what = "tucker2 mode-1 spectrum";
        int64_t d3[3] = {cout, cin, k};
        int perm[3] = {0, 2, 1};
        if ((st = td_dec_alloc(&w1, nel, 1, err)))
            goto cleanup;
        td_dec_permute(w, 3, d3, perm, w1);
        st = gram ? gram_spectrum(w1, 1, cin, cout * k, sv_in, what, err)
                  : td_dec_svd_thin(w1, cout * k, cin, NULL, sv_in, NULL, what, err);
        if (st)
            goto cleanup;
    }
    /* Unfoldings with fewer columns than rows have only that many singular
     * values; the rest of the spectrum is exactly zero. */
    if (sv_out)
        for (int64_t i = (cin * k < cout ? cin * k : cout); i < cout; i++)
            sv_out[i] = 0.0;
    if (sv_in)
        for (int64_t i = (cout * k < cin ? cout * k : cin); i < cin; i++)
            sv_in[i] = 0.0;
cleanup:
    free(w1);
    return st;
}

td_status td_tucker2_spectra(const double *w, int64_t cout, int64_t cin,
                             int64_t k, double *sv_out, double *sv_in,
                             td_err_t *err)
{
    return spectra(w, cout, cin, k, sv_out, sv_in, 0, err);
}

td_status td_tucker2_spectra_gram(const double *w, int64_t cout, int64_t cin,
                                  int64_t k, double *sv_out, double *sv_in,
                                  td_err_t *err)
{
    return spectra(w, cout, cin, k, sv_out, sv_in, 1, err);
}
