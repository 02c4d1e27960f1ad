/* Tensor-ring internals shared by TR-SVD, RSDTR and the storage search. */
#ifndef TD_TR_INTERNAL_H
#define TD_TR_INTERNAL_H

#include "dec_internal.h"

/* The first (and most expensive) step of TR-SVD for one shift: the full
 * SVD of the first unfolding, computed once and truncated again for every
 * eps a search tries, so every split r = r0 * r1 and every eps reuse it. */
/* A cached spectrum (tr_storage.c): for r2 == 0 the singular values of
 * the second unfolding for first rank r and split r0; for r2 > 0 (four
 * modes) those of the last unfolding after a second rank r2. */
typedef struct td_tr_spec {
    int64_t r, r0, r2, k;
    double *s;                    /* k values, descending */
} td_tr_spec_t;

typedef struct td_tr_first {
    int ndim, shift;
    int64_t dims[TD_MAX_MODES];   /* original dims */
    int64_t mdims[TD_MAX_MODES];  /* dims in shifted order */
    size_t rest;                  /* prod(mdims[1..]) */
    double norm;                  /* ||T|| */
    int64_t k;                    /* min(mdims[0], rest) */
    double *u;                    /* mdims[0] x k */
    double *s;                    /* k singular values, descending */
    double *svt;                  /* k x rest: S Vt */
    /* the truncation at the eps last set (td_tr_first_set_eps) */
    double eps;
    double delta;                 /* absolute per-SVD truncation threshold */
    int64_t r;                    /* first truncation rank */
    double tail2;                 /* energy the first truncation discards */
    td_tr_spec_t *spec;           /* spectra cached by tr_storage.c */
    int nspec, capspec;
    double *gram;                 /* the Gram matrix of the last spectrum */
    int64_t gram_r, gram_r0;
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

/* TD_EINPUT unless r0 divides the first rank f->r. */
td_status td_tr_check_r0(const td_tr_first_t *f, int64_t r0, td_err_t *err);

/* Completes TR-SVD from the first step with the split r0 (must divide
 * f->r). Fills cores, ranks, shift, r0, storage and rel_error: the
 * truncations discard mutually orthogonal parts (each later SVD acts on
 * coefficients in an orthonormal basis of what the earlier ones kept), so
 * ||T - T_hat||^2 is exactly the sum of the discarded squared singular
 * values and needs no reconstruction. */
td_status td_tr_from_first(const td_tr_first_t *f, int64_t r0, td_tr_t *out,
                           td_err_t *err);

/* The storage td_tr_from_first would give, without building cores
 * (tr_storage.c: Gram eigenvalues, spectra cached in f). */
td_status td_tr_first_storage(td_tr_first_t *f, int64_t r0, int64_t *storage,
                              td_err_t *err);

/* The rank at delta of descending singular values (at least 1, to keep the
 * ring connected even for a zero tensor) and, when t2 is given, the energy
 * that truncation discards. */
int64_t td_tr_rank_at(const double *sv, int64_t k, double delta, double *t2);

/* S_r Vt_r with (r0, r1, rest) -> (r1, rest, r0), the ring index moved to
 * the end: the second unfolding, (r1 n_1) x rest' (*c allocated). */
td_status td_tr_second_matrix(const td_tr_first_t *f, int64_t r0, double **c,
                              td_err_t *err);

/* The singular values (descending, *k of them) of the second unfolding for
 * the first rank at the current eps and the split r0, from the eigenvalues
 * of its short side's Gram matrix; cached in f, owned by it. Needs
 * ndim >= 3. */
td_status td_tr_first_spec(td_tr_first_t *f, int64_t r0, const double **s,
                           int64_t *k, td_err_t *err);

/* Ring-cut spectra for storage lower bounds (tr_bound.c): the tail
 * energies of the unfoldings that put a contiguous arc of modes on one
 * side. */
#define TD_TR_MAX_ARCS (2 * TD_MAX_MODES * TD_MAX_MODES)
typedef struct td_tr_arcs {
    int ndim, n;
    int start[TD_TR_MAX_ARCS], len[TD_TR_MAX_ARCS];
    int64_t k[TD_TR_MAX_ARCS];
    double *tail[TD_TR_MAX_ARCS];  /* k + 1 values: tail[j] = sum_{i>=j} s_i^2 */
} td_tr_arcs_t;

/* Single modes come from the firsts' SVDs (one per shift given); longer
 * arcs are computed where one side of the unfolding is small. */
td_status td_tr_arcs_init(td_tr_arcs_t *a, const double *t, int ndim,
                          const int64_t *dims, size_t numel,
                          const td_tr_first_t *f, int nf, td_err_t *err);
void td_tr_arcs_free(td_tr_arcs_t *a);

/* Lower bounds on the ranks of any chain of f's shift whose total
 * discarded energy is at most e: r[j] > 0 are known ranks (r[j] is the
 * rank before shifted mode j, r[0] = r0), r[j] <= 0 unknown; unknown ones
 * are replaced by their bounds (at least 1). */
void td_tr_rank_lb(const td_tr_arcs_t *a, const td_tr_first_t *f, double e,
                   int64_t *r);

/* rho(e) of the cut around the arc of len modes from start (original
 * order), or -1 when its spectrum was not computed. */
int64_t td_tr_cut_rank(const td_tr_arcs_t *a, int start, int len, double e);

/* sum_j r[j] n_j r[j+1] in f's shifted order (r[ndim] = r[0]). */
int64_t td_tr_storage_of(const td_tr_first_t *f, const int64_t *r);

/* Balanced split: the divisor of r nearest sqrt(r) (smaller on a tie), or
 * for want > 0 the largest divisor of r not above it. */
int64_t td_tr_pick_r0(int64_t r, int64_t want);

#endif
