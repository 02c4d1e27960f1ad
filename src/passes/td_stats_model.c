/* The calibration model: a copy of the model whose extra outputs give, per
 * input tensor X of every layer the compression pass can factor, the Gram
 * matrix of its channel vectors over all positions (sum_p x_p x_p^T, FLOAT,
 * C x C), their sum (sum_p x_p, FLOAT, C) and the shape [positions, C] it
 * was taken over. ONNX Runtime
 * computes both while running calibration inputs, so only C x C values per
 * layer leave the runtime instead of whole activations (ISNet's first
 * layers alone are 64 x 1024 x 1024 per image). tools/ort/calib_stats.js
 * and `compress --calib` sum them into statistics (graph/td_stats.h).
 *
 * Per X, by the channel axis of the layer's input:
 *   Conv (N, C, spatial...)   Cast -> Transpose (C last) -> Reshape [-1, C]
 *   Gemm, transA = 1 (K, M)   Cast -> Transpose [1, 0]
 *   Gemm (M, K), MatMul (..., K)  Cast -> Reshape [-1, K]
 * then Gemm(v, v, transA = 1) gives the Gram (opset < 11, where Gemm needs
 * a C input: Transpose [1, 0] and MatMul), ReduceSum over the rows the
 * sum, Shape the row count. The Cast to FLOAT keeps FLOAT16 models from
 * overflowing the sums.
 *
 * Memory: each X's nodes go just before the layer that reads X, so a
 * runtime that follows the node order computes them while X is live anyway
 * and frees their temporaries early; appended at the end, X could stay
 * live to the end of the run. The Gemm reads v transposed in place, where
 * Transpose + MatMul would hold a second copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/td_tensor.h"
#include "td_passes.h"
#include "util/td_strmap.h"

#define STATS_NODES 8  /* at most, per tensor */

/* One calibrated tensor's outputs, added in layer order at the end. */
struct exposed {
    const char *gram, *sum, *rows;
    int64_t c;
};

struct builder {
    td_graph *g;
    Onnx__NodeProto **nodes;
    size_t n;
    size_t k;  /* which X: keeps bases distinct however long names are */
    int64_t opset;
    td_err_t *err;
};

static const char *fresh(struct builder *b, const char *x, const char *what)
{
    char base[320];
    snprintf(base, sizeof base, "onnxtd_stats/%zu/%.200s/%.60s", b->k, x, what);
    return td_graph_unique_name(b->g, base);
}

/* One node in -> out (out named after label unless given). Labels are
 * distinct per X and bases carry X's index, so names stay distinct even
 * while the graph's name table does not list the pending nodes yet. NULL
 * when out of memory. */
static const char *add(struct builder *b, const char *op, const char *x,
                       const char *label, const char *in, const char *in2,
                       const char *out)
{
    const char *ins[2] = {in, in2};
    char nl[64];
    snprintf(nl, sizeof nl, "%s_node", label);
    if (!out && !(out = fresh(b, x, label)))
        return NULL;
    const char *nn = fresh(b, x, nl);
    Onnx__NodeProto *n = nn ? td_node_new(b->g, op, nn, ins, in2 ? 2 : 1,
                                          &out, 1) : NULL;
    if (!n)
        return NULL;
    b->nodes[b->n++] = n;
    return out;
}

static td_status expose(struct builder *b, const td_layer *l,
                        const char *gram, const char *sum, const char *rows)
{
    const char *x = l->node->input[0];
    td_arena *a = td_graph_arena(b->g);
    int64_t c = l->cin;
    const char *v = add(b, "Cast", x, "float", x, NULL, NULL);
    if (!v || td_node_set_int(b->g, b->nodes[b->n - 1], "to",
                              ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT))
        goto oom;
    int64_t perm[TD_MAX_SPATIAL + 2];
    size_t np = 0;
    if (l->kind == TD_LAYER_CONV) {
        perm[np++] = 0;
        for (int s = 0; s < l->nsp; s++)
            perm[np++] = 2 + s;
        perm[np++] = 1;
    } else if (l->kind == TD_LAYER_GEMM && l->trans_a) {
        perm[np++] = 1;
        perm[np++] = 0;
    }
    if (np) {
        if (!(v = add(b, "Transpose", x, "channels_last", v, NULL, NULL)) ||
            td_node_set_ints(b->g, b->nodes[b->n - 1], "perm", perm, np))
            goto oom;
    }
    if (l->kind != TD_LAYER_GEMM) {
        int64_t two = 2, shape[2] = {-1, c};
        const char *sn = fresh(b, x, "shape");
        Onnx__TensorProto *t = sn ? td_tensor_from_int64(a, sn, &two, 1, shape) : NULL;
        if (!t || td_graph_add_init(b->g, t, b->err) ||
            !(v = add(b, "Reshape", x, "rows", v, sn, NULL)))
            goto oom;
    }
    if (b->opset >= 11) {
        if (!add(b, "Gemm", x, "gram", v, v, gram) ||
            td_node_set_int(b->g, b->nodes[b->n - 1], "transA", 1))
            goto oom;
    } else {
        const char *vt = add(b, "Transpose", x, "columns", v, NULL, NULL);
        int64_t swap[2] = {1, 0};
        if (!vt || td_node_set_ints(b->g, b->nodes[b->n - 1], "perm", swap, 2) ||
            !add(b, "MatMul", x, "gram", vt, v, gram))
            goto oom;
    }
    if (!add(b, "Shape", x, "count", v, NULL, rows))
        goto oom;
    /* ReduceSum over the rows: axes became an input in opset 13 */
    int64_t zero = 0, one = 1;
    if (b->opset >= 13) {
        const char *an = fresh(b, x, "axes");
        Onnx__TensorProto *t = an ? td_tensor_from_int64(a, an, &one, 1, &zero) : NULL;
        if (!t || td_graph_add_init(b->g, t, b->err) ||
            !add(b, "ReduceSum", x, "sum", v, an, sum))
            goto oom;
    } else if (!add(b, "ReduceSum", x, "sum", v, NULL, sum) ||
               td_node_set_ints(b->g, b->nodes[b->n - 1], "axes", &zero, 1)) {
        goto oom;
    }
    if (td_node_set_int(b->g, b->nodes[b->n - 1], "keepdims", 0))
        goto oom;
    return TD_OK;
oom:
    return td_err_set(b->err, TD_ENOMEM, "out of memory");
}

static td_status add_outputs(td_graph *g, const struct exposed *e,
                             td_err_t *err)
{
    int64_t gd[2] = {e->c, e->c}, rd = 2;
    if (td_graph_add_output(g, e->gram, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, gd,
                            2, err) ||
        td_graph_add_output(g, e->sum, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,
                            &e->c, 1, err) ||
        td_graph_add_output(g, e->rows, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, &rd,
                            1, err))
        return TD_ENOMEM;
    return TD_OK;
}

/* The three output names for X, refused when the model has them already;
 * NULL names when out of memory. */
static td_status names_for(td_graph *g, const char *x, struct exposed *e,
                           td_err_t *err)
{
    size_t len = strlen(x) + 16;
    char *gram = td_arena_alloc(td_graph_arena(g), len);
    char *rows = td_arena_alloc(td_graph_arena(g), len);
    char *sum = td_arena_alloc(td_graph_arena(g), len);
    if (!gram || !rows || !sum)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    snprintf(gram, len, "gram/%s", x);
    snprintf(rows, len, "rows/%s", x);
    snprintf(sum, len, "sum/%s", x);
    const char *ug = td_graph_unique_name(g, gram);
    const char *ur = td_graph_unique_name(g, rows);
    const char *us = td_graph_unique_name(g, sum);
    if (!ug || !ur || !us)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    if (strcmp(ug, gram) || strcmp(ur, rows) || strcmp(us, sum))
        return td_err_set(err, TD_EINPUT, "the model already has a value "
                          "named '%s', '%s' or '%s'", gram, sum, rows);
    e->gram = gram;
    e->sum = sum;
    e->rows = rows;
    return TD_OK;
}

td_status td_pass_stats_outputs(td_graph *g, int64_t opset, size_t *count,
                                td_err_t *err)
{
    *count = 0;
    if (opset < 5)
        return td_err_set(err, TD_EUSAGE,
                          "the statistics outputs need ai.onnx opset >= 5 "
                          "(Reshape with a shape input); the model has %lld",
                          (long long)opset);
    td_status s;
    if ((s = td_graph_toposort(g, err)) || (s = td_graph_check(g, err)))
        return s;
    size_t nn = td_graph_node_count(g), ne = 0;
    struct builder b = {g, NULL, 0, 0, opset, err};
    td_strmap *seen = td_strmap_new(nn);
    b.nodes = calloc(STATS_NODES + 1, sizeof *b.nodes);
    struct exposed *ex = calloc(nn ? nn : 1, sizeof *ex);
    if (!seen || !b.nodes || !ex) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    /* last node first: inserting before node i leaves the nodes before it
     * where they are; each X's nodes go before the last layer reading it
     * (X is live until then anyway) */
    for (size_t i = nn; i-- > 0;) {
        td_layer l;
        int ok;
        const char *why;
        if ((s = td_layer_describe(g, i, &l, &ok, &why, err)))
            goto done;
        if (!ok)
            continue;
        const char *x = l.node->input[0];
        if (td_strmap_get(seen, x) >= 0)
            continue;
        if (td_strmap_put(seen, x, 1)) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto done;
        }
        struct exposed *e = &ex[ne];
        e->c = l.cin;
        if ((s = names_for(g, x, e, err)))
            goto done;
        b.k = ne++;
        b.n = 0;
        if ((s = expose(&b, &l, e->gram, e->sum, e->rows)))
            goto done;
        b.nodes[b.n++] = (Onnx__NodeProto *)l.node;
        if ((s = td_graph_replace_node(g, i, b.nodes, b.n, err)))
            goto done;
    }
    /* the outputs in layer order, as the model reads the tensors */
    for (size_t q = ne; q-- > 0;)
        if ((s = add_outputs(g, &ex[q], err)))
            goto done;
    *count = ne;
    s = td_graph_check(g, err);
done:
    td_strmap_free(seen);
    free(b.nodes);
    free(ex);
    return s;
}
