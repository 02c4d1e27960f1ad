/* The calibration model: a copy of the model whose extra outputs give, per
 * input tensor X of every layer the compression pass can factor, the Gram
 * matrix of its channel vectors over all positions (sum_p x_p x_p^T, FLOAT,
 * C x C), their sum (sum_p x_p, FLOAT, C) and the shape [positions, C] it
 * was taken over. ONNX Runtime
 * computes both while running calibration inputs, so only C x C values per
 * layer leave the runtime instead of whole activations (ISNet's first
 * layers alone are 64 x 1024 x 1024 per image). tools/ort/calib_stats.js
 * sums them into a statistics file (graph/td_stats.h).
 *
 * Per X, by the channel axis of the layer's input:
 *   Conv (N, C, spatial...)   Cast -> Transpose (C last) -> Reshape [-1, C]
 *   Gemm, transA = 1 (K, M)   Cast -> Transpose [1, 0]
 *   Gemm (M, K), MatMul (..., K)  Cast -> Reshape [-1, K]
 * then Transpose [1, 0] and MatMul give the Gram, ReduceSum over the rows
 * the sum, Shape the row count. The
 * Cast to FLOAT keeps FLOAT16 models from overflowing the sums. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/td_tensor.h"
#include "td_passes.h"
#include "util/td_strmap.h"

#define STATS_NODES 8  /* at most, per tensor */

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

static td_status expose(struct builder *b, const td_layer *l, char *gram,
                        char *sum, char *rows)
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
    const char *vt = add(b, "Transpose", x, "columns", v, NULL, NULL);
    int64_t swap[2] = {1, 0};
    if (!vt || td_node_set_ints(b->g, b->nodes[b->n - 1], "perm", swap, 2) ||
        !add(b, "MatMul", x, "gram", vt, v, gram) ||
        !add(b, "Shape", x, "count", v, NULL, rows))
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
    int64_t gd[2] = {c, c}, rd = 2;
    if (td_graph_add_output(b->g, gram, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, gd,
                            2, b->err) ||
        td_graph_add_output(b->g, sum, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, &c,
                            1, b->err) ||
        td_graph_add_output(b->g, rows, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, &rd,
                            1, b->err))
        return TD_ENOMEM;
    return TD_OK;
oom:
    return td_err_set(b->err, TD_ENOMEM, "out of memory");
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
    size_t nn = td_graph_node_count(g);
    struct builder b = {g, NULL, 0, 0, opset, err};
    td_strmap *seen = td_strmap_new(nn);
    b.nodes = calloc(nn * STATS_NODES + 1, sizeof *b.nodes);
    if (!seen || !b.nodes) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nn; i++) {
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
        size_t len = strlen(x) + 16;
        char *gram = td_arena_alloc(td_graph_arena(g), len);
        char *rows = td_arena_alloc(td_graph_arena(g), len);
        char *sum = td_arena_alloc(td_graph_arena(g), len);
        if (!gram || !rows || !sum) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto done;
        }
        snprintf(gram, len, "gram/%s", x);
        snprintf(rows, len, "rows/%s", x);
        snprintf(sum, len, "sum/%s", x);
        const char *ug = td_graph_unique_name(g, gram);
        const char *ur = td_graph_unique_name(g, rows);
        const char *us = td_graph_unique_name(g, sum);
        if (!ug || !ur || !us || strcmp(ug, gram) || strcmp(ur, rows) ||
            strcmp(us, sum)) {
            s = td_err_set(err, TD_EINPUT,
                           "the model already has a value named '%s', '%s' or "
                           "'%s'", gram, sum, rows);
            goto done;
        }
        b.k = *count;
        if ((s = expose(&b, &l, gram, sum, rows)))
            goto done;
        ++*count;
    }
    if (b.n) {
        /* appended after the last node: every X is produced before it */
        Onnx__NodeProto *last = (Onnx__NodeProto *)td_graph_node(g, nn - 1);
        memmove(b.nodes + 1, b.nodes, b.n * sizeof *b.nodes);
        b.nodes[0] = last;
        if ((s = td_graph_replace_node(g, nn - 1, b.nodes, b.n + 1, err)))
            goto done;
    }
    s = td_graph_check(g, err);
done:
    td_strmap_free(seen);
    free(b.nodes);
    return s;
}
