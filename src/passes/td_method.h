/* A decomposition method is one file behind one table: the questions the
 * compression pass asks of a method (does it apply to a layer, what does its
 * chain cost in parameters, MACs and estimated time at given ranks, compute
 * the factors, write the chain, free them) are answered by the functions of
 * its td_method_ops, in method_<name>.c. The size and MAC formulas of each
 * chain live only there; tests/unit/test_methods.c holds them against the
 * chains actually emitted. */
#ifndef TD_METHOD_H
#define TD_METHOD_H

#include "td_chain.h"
#include "td_factor.h"

typedef struct td_method_ops {
    td_method id;
    const char *name;
    /* Can the method factor this layer at all? */
    int (*applies)(const td_layer *l);
    /* Parameters (bias included, as stored) and MACs (-1 when shapes are
     * unknown) of its chain at ranks (the td_factors.ranks layout). */
    int64_t (*params)(const td_layer *l, const int64_t *ranks);
    int64_t (*macs)(const td_layer *l, const int64_t *ranks);
    /* Estimated seconds of the chain (td_cost.h); -1 when unknown or when
     * the method has no latency model. */
    double (*seconds)(const td_layer *l, const int64_t *ranks);
    /* Fills f's method fields, ranks, params and rel_error from the weight
     * w (the layer's layout, doubles) under budget b; wh: S per group when
     * b->moment is given (NULL otherwise). The caller (td_factor_layer) adds
     * the bias shift and the MACs, and names the node in errors. */
    td_status (*factor)(const td_layer *l, const double *w,
                        const td_factor_request *b, const td_whiten_t *wh,
                        td_factors *f, td_err_t *err);
    /* Maps group j's factor that reads the input channels back from
     * whitened coordinates: multiplies its Cin mode by wh's S^-1. */
    td_status (*unwhiten)(td_factors *f, int64_t j, const td_whiten_t *wh,
                          td_err_t *err);
    /* The mean response of group j's chain to constant input mu (cout / group
     * values), for the bias shift of td_whiten.h. */
    td_status (*const_response)(const td_factors *f, int64_t j,
                                const double *mu, double *out, td_err_t *err);
    /* Appends the chain's nodes (and their initializers) to c. */
    void (*emit)(td_chain *c, const td_factors *f);
    /* Frees the method's part of f. */
    void (*free)(td_factors *f);
} td_method_ops;

/* The table of method m; NULL for TD_KEEP or an unknown value. */
const td_method_ops *td_method_get(td_method m);

extern const td_method_ops td_method_tucker2;
extern const td_method_ops td_method_cp;
extern const td_method_ops td_method_svd;
extern const td_method_ops td_method_tr;
extern const td_method_ops td_method_rsdtr;

/* ---- shared by the method files ---------------------------------------- */

/* MAC counts of chains saturate at INT64_MAX: td_layer_check_counts bounds
 * the layer and its pixels, but a chain's terms (input pixels x channels x
 * ranks) may still exceed int64 under a large stride or pads, and such a
 * chain is then "more than any layer that fits", never chosen for MACs. */
static inline int64_t td_sat_mul(int64_t a, int64_t b)
{
    int64_t r;
    return td_mul_i64(a, b, &r) ? INT64_MAX : r;
}

static inline int64_t td_sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return td_add_i64(a, b, &r) ? INT64_MAX : r;
}

static inline int64_t td_sat_mul4(int64_t a, int64_t b, int64_t c, int64_t d)
{
    return td_sat_mul(td_sat_mul(td_sat_mul(a, b), c), d);
}

/* One group's factoring for the methods that factor each group on its own
 * (Tucker-2, CP, SVD): wj is group j's weight (whitened when a moment is
 * given); *rel_error gets its relative error. */
typedef td_status (*td_group_factor_fn)(const td_layer *l, const double *wj,
                                        int64_t j, const td_factor_request *b,
                                        const void *ctx, td_factors *f,
                                        double *rel_error, td_err_t *err);

/* Runs fn (with ctx) on every group: whitens each group's weight by its S,
 * maps the factors back (ops->unwhiten) and sets f->rel_error to the error
 * over the whole weight. f's per-group arrays must be allocated. */
td_status td_factor_each_group(const td_layer *l, const double *w,
                               const td_factor_request *b, const td_whiten_t *wh,
                               td_group_factor_fn fn, const void *ctx,
                               td_factors *f, td_err_t *err);

/* The rank of a one-rank chain whose parameters grow linearly in it (CP,
 * SVD), params_at_1 being the chain's at rank 1, bias included: under a
 * ratio budget the largest rank keeping ratio x the layer's parameters (at
 * least 1), under a rank budget that rank, else 0 (the method searches). */
int64_t td_factor_linear_rank(const td_layer *l, const td_factor_request *b,
                              int64_t params_at_1);

/* t (d0 x n x d2) <- t x_1 a, through a temporary: maps a factor that reads
 * the input channels back from whitened coordinates when a is S^-1. */
td_status td_factor_mode1_inplace(double *t, int64_t d0, int64_t n, int64_t d2,
                                  const double *a, td_err_t *err);

/* The tensor-ring methods (TR-SVD, RSDTR) share their chain, formulas and
 * emitter (method_tr.c); they differ in how the ring is found. */
td_status td_tr_method_factor(const td_layer *l, const double *w,
                              const td_factor_request *b, const td_whiten_t *wh,
                              int rsdtr, td_factors *f, td_err_t *err);
int td_tr_chain_applies(const td_layer *l);
int64_t td_tr_chain_params(const td_layer *l, const int64_t *ranks);
int64_t td_tr_chain_macs(const td_layer *l, const int64_t *ranks);
double td_tr_chain_seconds(const td_layer *l, const int64_t *ranks);
td_status td_tr_chain_unwhiten(td_factors *f, int64_t j, const td_whiten_t *wh,
                               td_err_t *err);
td_status td_tr_chain_const_response(const td_factors *f, int64_t j,
                                     const double *mu, double *out,
                                     td_err_t *err);
void td_tr_chain_emit(td_chain *c, const td_factors *f);
void td_tr_chain_free(td_factors *f);

#endif
