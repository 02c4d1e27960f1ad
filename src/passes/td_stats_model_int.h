/* Shared by the statistics model's builders (td_stats_model.c,
 * td_stats_taps.c): the nodes gathered for one calibrated tensor, which go
 * into the graph together just before the layer that reads it. */
#ifndef TD_STATS_MODEL_INT_H
#define TD_STATS_MODEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "graph/td_graph.h"
#include "util/td_err.h"

struct td_sm_builder {
    td_graph *g;
    Onnx__NodeProto **nodes;  /* grown as nodes are added */
    size_t n, cap;
    size_t k;  /* which X: keeps bases distinct however long names are */
    int64_t opset;
    td_err_t *err;
};

/* A fresh value name for X's statistics, "onnxtd_stats/K/X/what". */
const char *td_sm_fresh(struct td_sm_builder *b, const char *x,
                        const char *what);
/* Appends n to b's nodes; -1 when out of memory. */
int td_sm_push(struct td_sm_builder *b, Onnx__NodeProto *n);
/* One node op(ins) -> out (named after label unless given), appended to
 * b's nodes; its output name, or NULL when out of memory. */
const char *td_sm_add_n(struct td_sm_builder *b, const char *op,
                        const char *x, const char *label,
                        const char *const *ins, size_t n_in, const char *out);

/* A constant int64 vector initializer for X's nodes (a shape, axes, a
 * Slice's bounds); its name, or NULL when out of memory. */
const char *td_sm_ints(struct td_sm_builder *b, const char *x,
                       const char *label, const int64_t *v, int64_t n);

/* The tap autocorrelation of v (X as float, N x C x spatial, nsp axes) at
 * lags 0 .. lags-1 along each axis, as the [nsp, lags] output name
 * (graph/td_stats.h, "taps/"). */
td_status td_sm_taps(struct td_sm_builder *b, const char *x, const char *v,
                     int64_t c, int nsp, int64_t lags, const char *name);

#endif
