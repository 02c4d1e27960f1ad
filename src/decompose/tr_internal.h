/* Tensor-ring internals shared by TR-SVD, RSDTR and the storage search. */
#ifndef TD_TR_INTERNAL_H
#define TD_TR_INTERNAL_H

#include "dec_internal.h"

/* The first (and most expensive) step of TR-SVD for one shift: the full
 * SVD of the first unfolding, computed once and truncated again for every
 * eps a search tries, so every split r = r0 * r1 and every eps reuse it. */
typedef struct td_tr_first {
    int ndim, shift;
    int64_t dims[TD_MAX_MODES];   /* original dims */
    int64_t mdims[TD_MAX_MODES];  /* dims in shifted order */
    size_t rest;                  /* prod(mdims[1..]) */
    double norm;                  /* ||T|| */
    int64_t k;                    /* min(mdims[0], rest) */
    double *u;                    /* mdims[0] x k */
    double *s;                    /* k singular values, descending */
    double *vt;                   /* k x rest */
    /* the truncation at the eps last set (td_tr_first_set_eps) */
    double delta;                 /* absolute per-SVD truncation threshold */
    int64_t r;                    /* first truncation rank */
    double tail2;                 /* energy the first truncation discards */
} td_tr_first_t;

/* Validates input (ndim 2..TD_MAX_MODES, finite data, eps >= 0) and
 * returns the element count and ||T||. */
td_status td_tr_check(const double *t, int ndim, const int64_t *dims,
                      double eps, size_t *numel, double *norm, td_err_t *err);

/* The full SVD of the first unfolding for shift, truncated at eps. */
td_status td_tr_first_svd(const double *t, int ndim, const int64_t *dims,
                          size_t numel, double norm, double eps, int shift,
                          td_tr_first_t *f, td_err_t *err);
/* Truncates the first step again, at eps (no new SVD). */
void td_tr_first_set_eps(td_tr_first_t *f, double eps);
void td_tr_first_free(td_tr_first_t *f);

/* Completes TR-SVD from the first step with the split r0 (must divide
 * f->r). Fills cores, ranks, shift, r0, storage and rel_error: the
 * truncations discard mutually orthogonal parts (each later SVD acts on
 * coefficients in an orthonormal basis of what the earlier ones kept), so
 * ||T - T_hat||^2 is exactly the sum of the discarded squared singular
 * values and needs no reconstruction. */
td_status td_tr_from_first(const td_tr_first_t *f, int64_t r0, td_tr_t *out,
                           td_err_t *err);

/* The storage td_tr_from_first would give, without building cores: the
 * last SVD computes singular values only. */
td_status td_tr_first_storage(const td_tr_first_t *f, int64_t r0, int64_t *storage,
                              td_err_t *err);

/* Balanced split: the divisor of r nearest sqrt(r) (smaller on a tie), or
 * for want > 0 the largest divisor of r not above it. */
int64_t td_tr_pick_r0(int64_t r, int64_t want);

/* out->rel_error from the dense reconstruction (tests, checks). */
td_status td_tr_set_error(const double *t, size_t numel, double norm,
                          td_tr_t *out, td_err_t *err);

#endif
