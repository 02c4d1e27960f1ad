/* One chain's refit, the graph side (td_calib_refit_io.c; the whole
 * chain's first factor in td_calib_refit_chain.c): which node is the
 * chain's last factor and what it holds, the activations of one run added
 * to the sums, and the refitted factor written back. */
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
    /* (y, z) sums, (y, x) for the whole chain: per fold of the
     * calibration inputs (decompose/td_refit.h), and their total */
    td_refit_acc fold[TD_REFIT_FOLDS];
    td_refit_acc acc;
    double lambda;      /* the ridge cross-validation chose */
    const char *why;    /* not refitted: why (static text) */
    /* The whole chain (td_refit_target_whole): set when the node before the
     * last factor is a pointwise factor reading the chain's input x (of at
     * most 2048 channels) at the output's positions; NULL x: the last
     * factor alone. */
    const char *x;
    int64_t cin;
    td_refit_kind kind1;
    int trans_b1;
    double *g0;         /* cout x cin: the chain's map as it is (A0 F0) */
} td_refit_target;

/* Fills t for the chain whose output is y in g; t->why is set (and TD_OK
 * returned) when the chain does not end in a pointwise factor this refit
 * knows, or orig has no value y. */
td_status td_refit_target_of(td_graph *g, td_graph *orig, const char *y,
                             td_refit_target *t, td_err_t *err);
void td_refit_target_free(td_refit_target *t);

/* Switches t (filled by td_refit_target_of, no why) to the whole chain
 * when its first factor allows it (above); leaves it as it is otherwise. */
td_status td_refit_target_whole(td_graph *g, td_refit_target *t,
                                td_err_t *err);

/* The value each run must give for t: the chain's input x when the whole
 * chain is refitted, its inner value z otherwise. */
const char *td_refit_target_input(const td_refit_target *t);

/* Adds one run's y (the original's output) and z (td_refit_target_input's
 * value) to t's sums of fold `fold` (modulo the folds). Arrays of float or float16; layouts [N, C, ...] for
 * a Conv and [..., C] for a Gemm/MatMul. A pair whose position counts
 * differ sets t->why. */
td_status td_refit_target_add(td_refit_target *t, const td_array *y,
                              const td_array *z, size_t fold, td_err_t *err);

/* t's sums (every fold's and the total) for cout outputs and zdim input
 * channels, zero; any earlier ones freed. */
td_status td_refit_target_sums(td_refit_target *t, int64_t zdim,
                               td_err_t *err);

/* Writes a (cout x r) and b (cout, NULL for MatMul) as the last factor's
 * weight and bias in g, in t->dtype; a value the dtype cannot hold sets
 * t->why and leaves g as it was. */
td_status td_refit_target_write(td_graph *g, td_refit_target *t,
                                const double *a, const double *b,
                                td_err_t *err);

/* Writes the whole chain: right (r x cin) as the first factor's weight,
 * then left (cout x r) and b as td_refit_target_write. A value the dtype
 * cannot hold sets t->why and leaves g as it was. */
td_status td_refit_target_write_whole(td_graph *g, td_refit_target *t,
                                      const double *left, const double *right,
                                      const double *b, td_err_t *err);

/* Shared by the two files: a weight w of `kind` read as the rows x cols
 * map it applies (a Conv's [rows, cols, 1...], a MatMul's [cols, rows], a
 * Gemm's alpha x [cols, rows], or [rows, cols] under trans_b), and back. */
void td_refit_matrix_of(td_refit_kind kind, int trans_b, double alpha,
                        const double *w, int64_t rows, int64_t cols,
                        double *out);
void td_refit_weight_of(td_refit_kind kind, int trans_b, double alpha,
                        const double *m, int64_t rows, int64_t cols,
                        double *w);

/* 0 (with t->why) when a value of v is not finite or beyond t's dtype. */
int td_refit_fits(td_refit_target *t, const double *v, size_t n);

/* Node `at` of g with its weight (input 1) replaced by a new initializer
 * named after it holding w (in the node's layout, dims as the old one),
 * and, with b, its bias (input 2) by one of cout values; other inputs and
 * every attribute kept; the old tensors removed when nothing else reads
 * them. */
td_status td_refit_replace(td_graph *g, td_refit_target *t, size_t at,
                           const double *w, size_t nw, const double *b,
                           td_err_t *err);

#endif
