/* Tensor-ring internals shared by TR-SVD and RSDTR. */
#ifndef TD_TR_INTERNAL_H
#define TD_TR_INTERNAL_H

#include "dec_internal.h"

/* The first (and most expensive) step of TR-SVD for one shift, kept so
 * that every split r = r0 * r1 of its rank can reuse it. */
typedef struct td_tr_first {
    int ndim, shift;
    int64_t dims[TD_MAX_MODES];   /* original dims */
    int64_t mdims[TD_MAX_MODES];  /* dims in shifted order */
    int64_t r;                    /* first truncation rank */
    size_t rest;                  /* prod(mdims[1..]) */
    double delta;                 /* absolute per-SVD truncation threshold */
    double *u;                    /* mdims[0] x r */
    double *svt;                  /* r x rest = S_r Vt_r */
} td_tr_first_t;

/* Validates input (ndim 2..TD_MAX_MODES, finite data, eps >= 0) and
 * returns the element count and ||T||. */
td_status td_tr_check(const double *t, int ndim, const int64_t *dims,
                      double eps, size_t *numel, double *norm, td_err_t *err);

td_status td_tr_first_svd(const double *t, int ndim, const int64_t *dims,
                          size_t numel, double norm, double eps, int shift,
                          td_tr_first_t *f, td_err_t *err);
void td_tr_first_free(td_tr_first_t *f);

/* Completes TR-SVD from the first step with the split r0 (must divide
 * f->r). Fills cores, ranks, shift, r0 and storage; not rel_error. */
td_status td_tr_from_first(const td_tr_first_t *f, int64_t r0, td_tr_t *out,
                           td_err_t *err);

/* out->rel_error from the dense reconstruction. */
td_status td_tr_set_error(const double *t, size_t numel, double norm,
                          td_tr_t *out, td_err_t *err);

#endif
