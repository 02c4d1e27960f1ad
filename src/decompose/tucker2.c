/* Tucker-2 of a conv kernel W (Cout x Cin x K): W ~= G x_0 U_out x_1 U_in.
 * HOSVD start (De Lathauwer et al. 2000a), then HOOI (De Lathauwer et al.
 * 2000b): with U_in fixed, the best U_out spans the leading left singular
 * subspace of the mode-0 unfolding of W x_1 U_in^T, and vice versa. Each
 * half-step maximises ||G||, so the fit never decreases from the HOSVD
 * point, and ||W - W_hat||^2 = ||W||^2 - ||G||^2 for orthonormal factors. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"

void td_tucker2_free(td_tucker2_t *t)
{
    if (!t)
        return;
    free(t->u_out);
    free(t->core);
    free(t->u_in);
    memset(t, 0, sizeof *t);
}

/* Leading r left singular vectors of the m x n matrix a. The Gram route
 * (eigenvectors of a a^T) costs m^2 n + O(m^3) and is several times faster
 * than an SVD of a; it squares the condition number, but only the leading
 * subspace is taken and its accuracy is governed by the gap s_r^2 -
 * s_{r+1}^2, which is ample for a truncation. Building with
 * -DTD_TUCKER2_SVD_ROUTE selects the SVD route (used to compare the two). */
static td_status lead_left(const double *a, int64_t m, int64_t n, int64_t r,
                           double *g, double *u, td_err_t *err)
{
#ifdef TD_TUCKER2_SVD_ROUTE
    int64_t k = m < n ? m : n;
    if (r <= k) {
        double *uu = NULL, *s = NULL, *vt = NULL;
        td_status st;
        if ((st = td_dec_alloc(&uu, (size_t)m, (size_t)k, err)) ||
            (st = td_dec_alloc(&s, (size_t)k, 1, err)) ||
            (st = td_dec_alloc(&vt, (size_t)k, (size_t)n, err)))
            goto done;
        st = td_dec_svd_thin(a, m, n, uu, s, vt, "tucker2", err);
        if (!st)
            for (int64_t i = 0; i < m; i++)
                memcpy(u + i * r, uu + i * k, (size_t)r * sizeof(double));
    done:
        free(uu);
        free(s);
        free(vt);
        return st;
    }
#endif
    td_dec_gram_rows(a, m, n, g);
    return td_dec_sym_leading(g, m, r, u, NULL, err);
}

typedef struct work {
    double *w1;   /* W permuted to (cin, cout, k): the mode-1 unfolding */
    double *y;    /* scratch (max(r_in,r_out)-by-channels-by-k), two of them */
    double *y2;
    double *g;    /* Gram scratch, max(cout, cin)^2 */
} work_t;

/* core (r_out, r_in, k) = Z x_1 U_in^T from z1 = (W x_0 U_out^T) laid out
 * (cin, r_out, k); returns ||core||. */
static double core_from_z1(const double *z1, int64_t ci, int64_t k,
                           int64_t ro, const double *ui, int64_t ri,
                           double *scratch, double *core)
{
    int64_t d3[3] = {ri, ro, k};
    int perm[3] = {1, 0, 2};
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ri, (int)(ro * k),
                (int)ci, 1.0, ui, (int)ri, z1, (int)(ro * k), 0.0, scratch,
                (int)(ro * k));
    td_dec_permute(scratch, 3, d3, perm, core);
    return td_dec_norm(core, (size_t)ro * (size_t)ri * (size_t)k);
}

/* wk->y2 := W x_0 U_out^T laid out (cin, r_out, k), the mode-1 unfolding. */
static void z1_of(const double *w, int64_t co, int64_t ci, int64_t k,
                  const double *uo, int64_t ro, work_t *wk)
{
    int64_t d3[3] = {ro, ci, k};
    int perm[3] = {1, 0, 2};
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ro, (int)(ci * k),
                (int)co, 1.0, uo, (int)ro, w, (int)(ci * k), 0.0, wk->y,
                (int)(ci * k));
    td_dec_permute(wk->y, 3, d3, perm, wk->y2);
}

static double fit_of(double nw, double nc)
{
    double e2 = nw * nw - nc * nc;
    return 1.0 - sqrt(e2 > 0.0 ? e2 : 0.0) / nw;
}

static td_status hooi(const double *w, int64_t co, int64_t ci, int64_t k,
                      int64_t ro, int64_t ri, int max_sweeps, double fit_tol,
                      td_tucker2_t *out, work_t *wk, td_err_t *err)
{
    td_status st;
    int64_t d3[3];
    int perm[3] = {1, 0, 2};
    size_t nel = (size_t)co * (size_t)ci * (size_t)k;
    double nw = td_dec_norm(w, nel);

    /* HOSVD: leading subspaces of the two unfoldings. */
    if ((st = lead_left(w, co, ci * k, ro, wk->g, out->u_out, err)) ||
        (st = lead_left(wk->w1, ci, co * k, ri, wk->g, out->u_in, err)))
        return st;
    z1_of(w, co, ci, k, out->u_out, ro, wk);
    double nc = core_from_z1(wk->y2, ci, k, ro, out->u_in, ri, wk->y, out->core);
    out->sweeps = 0;
    if (!(nw > 0.0) || (ro == co && ri == ci))
        return TD_OK;
    double fit = fit_of(nw, nc);
    for (int s = 0; s < max_sweeps; s++) {
        /* U_out from Y = W x_1 U_in^T, mode-0 unfolding (cout, r_in*k). */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ri,
                    (int)(co * k), (int)ci, 1.0, out->u_in, (int)ri, wk->w1,
                    (int)(co * k), 0.0, wk->y, (int)(co * k));
        d3[0] = ri; d3[1] = co; d3[2] = k;
        td_dec_permute(wk->y, 3, d3, perm, wk->y2);
        if ((st = lead_left(wk->y2, co, ri * k, ro, wk->g, out->u_out, err)))
            return st;
        /* U_in from Z = W x_0 U_out^T, mode-1 unfolding (cin, r_out*k). */
        z1_of(w, co, ci, k, out->u_out, ro, wk);
        if ((st = lead_left(wk->y2, ci, ro * k, ri, wk->g, out->u_in, err)))
            return st;
        /* the core reuses Z: lead_left only read wk->y2 */
        nc = core_from_z1(wk->y2, ci, k, ro, out->u_in, ri, wk->y, out->core);
        out->sweeps = s + 1;
        double nf = fit_of(nw, nc);
        double change = fabs(nf - fit);
        fit = nf;
        if (change < fit_tol)
            break;
    }
    return TD_OK;
}

/* rel_error from the dense reconstruction, compared in the permuted
 * (cin, cout, k) layout so one GEMM suffices. */
static double recon_error(const td_tucker2_t *t, const work_t *wk,
                          double *rec, double nw)
{
    int64_t co = t->cout, ci = t->cin, k = t->k, ro = t->r_out, ri = t->r_in;
    int64_t d3[3] = {co, ri, k};
    int perm[3] = {1, 0, 2};
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)co,
                (int)(ri * k), (int)ro, 1.0, t->u_out, (int)ro, t->core,
                (int)(ri * k), 0.0, wk->y, (int)(ri * k));
    td_dec_permute(wk->y, 3, d3, perm, wk->y2); /* (r_in, cout, k) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)ci,
                (int)(co * k), (int)ri, 1.0, t->u_in, (int)ri, wk->y2,
                (int)(co * k), 0.0, rec, (int)(co * k));
    size_t nel = (size_t)co * (size_t)ci * (size_t)k;
    return nw > 0.0 ? td_dec_diff_norm(wk->w1, rec, nel) / nw : 0.0;
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
    work_t wk = {0};
    double *rec = NULL;
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
    int max_sweeps = opts && opts->max_sweeps > 0 ? opts->max_sweeps : 50;
    double fit_tol = opts && opts->fit_tol > 0.0 ? opts->fit_tol : 1e-9;
    int64_t mc = cout > cin ? cout : cin;
    int64_t d3[3] = {cout, cin, k};
    int perm[3] = {1, 0, 2};
    if ((st = td_dec_alloc(&wk.w1, nel, 1, err)) ||
        (st = td_dec_alloc(&wk.y, nel, 1, err)) ||
        (st = td_dec_alloc(&wk.y2, nel, 1, err)) ||
        (st = td_dec_alloc(&wk.g, (size_t)mc, (size_t)mc, err)) ||
        (st = td_dec_alloc(&rec, nel, 1, err)) ||
        (st = td_dec_alloc(&out->u_out, (size_t)cout, (size_t)r_out, err)) ||
        (st = td_dec_alloc(&out->u_in, (size_t)cin, (size_t)r_in, err)) ||
        (st = td_dec_alloc(&out->core, (size_t)(r_out * r_in), (size_t)k, err)))
        goto cleanup;
    td_dec_permute(w, 3, d3, perm, wk.w1);
    out->cout = cout;
    out->cin = cin;
    out->k = k;
    out->r_out = r_out;
    out->r_in = r_in;
    st = hooi(w, cout, cin, k, r_out, r_in, max_sweeps, fit_tol, out, &wk, err);
    if (st)
        goto cleanup;
    out->rel_error = recon_error(out, &wk, rec, td_dec_norm(w, nel));
cleanup:
    free(wk.w1);
    free(wk.y);
    free(wk.y2);
    free(wk.g);
    free(rec);
    if (st) {
        td_err_prefix(err, "tucker2: ");
        td_tucker2_free(out);
    }
    return st;
}

td_status td_tucker2_spectra(const double *w, int64_t cout, int64_t cin,
                             int64_t k, double *sv_out, double *sv_in,
                             td_err_t *err)
{
    td_status st;
    size_t nel;
    double *w1 = NULL;
    if ((st = check_kernel(w, cout, cin, k, &nel, err)))
        return st;
    if (sv_out && (st = td_dec_svd_thin(w, cout, cin * k, NULL, sv_out, NULL,
                                        "tucker2 mode-0 spectrum", err)))
        goto cleanup;
    if (sv_in) {
        int64_t d3[3] = {cout, cin, k};
        int perm[3] = {1, 0, 2};
        if ((st = td_dec_alloc(&w1, nel, 1, err)))
            goto cleanup;
        td_dec_permute(w, 3, d3, perm, w1);
        if ((st = td_dec_svd_thin(w1, cin, cout * k, NULL, sv_in, NULL,
                                  "tucker2 mode-1 spectrum", err)))
            goto cleanup;
    }
    /* Unfoldings with fewer columns than rows have only that many singular
     * values; the rest of the spectrum is zero. */
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
