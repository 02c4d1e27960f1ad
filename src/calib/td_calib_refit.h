/* One chain's refit, the graph side (td_calib_refit_io.c): which node is
 * the chain's last factor and what it holds, the activations of one run
 * added to the sums, and the refitted factor written back. */
#ifndef TD_CALIB_REFIT_H
#define TD_CALIB_REFIT_H

#include "decompose/td_refit.h"
#include "graph/td_graph.h"
#include "util/td_array.h"

typedef enum td_refit_kind { TD_REFIT_CONV, TD_REFIT_GEMM, TD_REFIT_MATMUL } td_refit_kind;

typedef struct td_refit_target {
    const char *y;      /* the layer's output, named alike in both graphs */
    const char *z;      /* the last factor's input: the chain's inner value */
    size_t node;        /* the last factor's node index in the chain's graph
                         * when collected: the wave order, not where it is
                         * once other chains are written */
    td_refit_kind kind;
    int trans_b;        /* Gemm */
    float alpha;        /* Gemm */
    int64_t cout, r;
    int32_t dtype;      /* the factor's element type */
    double *a0;         /* cout x r: the factor as the chain has it */
    double *b0;         /* cout, or NULL: no bias (MatMul) */
    td_refit_acc acc;
    const char *why;    /* not refitted: why (static text) */
} td_refit_target;

/* Fills t for the chain whose output is y in g; t->why is set (and TD_OK
 * returned) when the chain does not end in a pointwise factor this refit
 * knows, or orig has no value y. */
td_status td_refit_target_of(td_graph *g, td_graph *orig, const char *y,
                             td_refit_target *t, td_err_t *err);
void td_refit_target_free(td_refit_target *t);

/* Adds one run's y (the original's output) and z (the chain's inner
 * value) to t's sums. Arrays of float or float16; layouts [N, C, ...] for
 * a Conv and [..., C] for a Gemm/MatMul. A pair whose position counts
 * differ sets t->why. */
td_status td_refit_target_add(td_refit_target *t, const td_array *y,
                              const td_array *z, td_err_t *err);

/* Writes a (cout x r) and b (cout, NULL for MatMul) as the last factor's
 * weight and bias in g, in t->dtype; a value the dtype cannot hold sets
 * t->why and leaves g as it was. */
td_status td_refit_target_write(td_graph *g, td_refit_target *t,
                                const double *a, const double *b,
                                td_err_t *err);

#endif
