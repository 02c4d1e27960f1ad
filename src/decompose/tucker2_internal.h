/* Shared by the Tucker-2 files: the workspace of one td_tucker2 call and
 * the sweep variants. Not part of the numerics interface. */
#ifndef TD_TUCKER2_INTERNAL_H
#define TD_TUCKER2_INTERNAL_H

#include "dec_internal.h"

/* All work is done on W stored once as wp = (cout, k, cin). Viewed as a
 * cout x (k*cin) matrix it is the mode-0 unfolding up to a column order,
 * viewed as (cout*k) x cin its Gram over columns is the mode-1 Gram, and
 * both HOOI products are single GEMMs on it:
 *   Y  = wp[(cout*k) x cin] U_in     -> (cout, k, r_in): mode-0 of W x_1 U_in^T
 *   Zt = U_out^T wp[cout x (k*cin)]  -> (r_out, k, cin): mode-1 (transposed)
 *                                      of W x_0 U_out^T
 *   Gt = Zt[(r_out*k) x cin] U_in    -> (r_out, k, r_in): the core.
 * Each HOOI step then touches the projected tensor only (r_in*k or r_out*k
 * columns instead of cin*k or cout*k). */
typedef struct td_t2_work {
    double *wp;   /* W permuted to (cout, k, cin) */
    double *y;    /* (cout, k, r_in); later the reconstruction's first half */
    double *zt;   /* (r_out, k, cin); later the reconstruction */
    double *gt;   /* core in (r_out, k, r_in) order */
    double *g;    /* Gram scratch, max(cout, cin)^2 */
    /* single-precision copies for the sweeps (tucker2_single.c):
     * wf nel, yf and ztf max(nel, mr), gf mc^2, uof and uif mr, with
     * mr = max(cout * r_out, cin * r_in) and mc = max(cout, cin) */
    float *wf, *yf, *ztf, *gf, *uof, *uif;
} td_t2_work_t;

/* HOOI with every product, Gram matrix and eigensolve in single
 * precision (tucker2_single.c). Fills out->u_out, out->u_in (orthonormal,
 * double) and out->sweeps; the caller computes the core. */
td_status td_t2_hooi_single(int64_t co, int64_t ci, int64_t k, int64_t ro,
                            int64_t ri, int max_sweeps, double fit_tol,
                            double stop_below, double nw, td_tucker2_t *out,
                            td_t2_work_t *wk, td_err_t *err);

#endif
