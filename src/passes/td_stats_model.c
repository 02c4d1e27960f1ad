/* The calibration model: a copy of the model whose extra outputs give, per
 * input tensor X of every layer the compression pass can factor, the Gram
 * matrix of its channel vectors over all positions (sum_p x_p x_p^T, FLOAT,
 * C x C), their sum (sum_p x_p, FLOAT, C) and the shape [positions, C] it
 * was taken over; for the input of a Conv wider than one tap also its
 * autocorrelation along each spatial axis, at the lags the widest such
 * Conv reading it needs (td_stats_taps.c). ONNX Runtime
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
 * A Gemm / MatMul whose output z feeds a softmax over its last axis (z
 * itself, or z plus a constant) also gets the softmax's Fisher metric
 * (decompose/svd_metric.c), under the name fisher/Z for its output Z:
 * with p the softmax's output as rows [-1, N] and B the weight (K x N),
 *   gram/fisher/Z  B diag(sum_p p) B^T - sum_p (B p)(B p)^T   (K x K)
 *   rows/fisher/Z  Shape(p B^T) = [positions, K]
 * just after the softmax; the statistics code sums it as any Gram.
 *
 * Memory: each X's nodes go just before the layer that reads X, so a
 * runtime that follows the node order computes them while X is live anyway
 * and frees their temporaries early; appended at the end, X could stay
 * live to the end of the run. The Gemm reads v transposed in place, where
 * Transpose + MatMul would hold a second copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/td_shape.h"
#include "graph/td_stats.h"
#include "graph/td_tensor.h"
#include "td_passes.h"
#include "td_stats_model_int.h"
#include "util/td_strmap.h"

/* Lags past this (a kernel 33 taps wide, or dilated as far) are not
 * gathered: the taps are then taken as uncorrelated. */
#define TAPS_MAX_LAGS 33


/* One calibrated tensor's outputs, added in layer order at the end. */
struct exposed {
    const char *gram, *sum, *rows;
    const char *taps;  /* or NULL */
    int64_t c;
    int nsp;           /* with taps: spatial axes and lags per axis */
    int64_t lags;
};

const char *td_sm_fresh(struct td_sm_builder *b, const char *x,
                        const char *what)
{
    char base[320];
    snprintf(base, sizeof base, "onnxtd_stats/%zu/%.200s/%.60s", b->k, x, what);
    return td_graph_unique_name(b->g, base);
}

/* One node in -> out (out named after label unless given). Labels are
 * distinct per X and bases carry X's index, so names stay distinct even
 * while the graph's name table does not list the pending nodes yet. NULL
 * when out of memory. */
int td_sm_push(struct td_sm_builder *b, Onnx__NodeProto *n)
{
    if (b->n == b->cap) {
        size_t cap = 2 * b->cap + 16;
        Onnx__NodeProto **v = realloc(b->nodes, cap * sizeof *v);
        if (!v)
            return -1;
        b->nodes = v;
        b->cap = cap;
    }
    b->nodes[b->n++] = n;
    return 0;
}

const char *td_sm_add_n(struct td_sm_builder *b, const char *op,
                        const char *x, const char *label,
                        const char *const *ins, size_t n_in, const char *out)
{
    char nl[64];
    snprintf(nl, sizeof nl, "%s_node", label);
    if (!out && !(out = td_sm_fresh(b, x, label)))
        return NULL;
    const char *nn = td_sm_fresh(b, x, nl);
    Onnx__NodeProto *n = nn ? td_node_new(b->g, op, nn, ins, n_in, &out, 1)
                            : NULL;
    if (!n || td_sm_push(b, n))
        return NULL;
    return out;
}

static const char *add(struct td_sm_builder *b, const char *op, const char *x,
                       const char *label, const char *in, const char *in2,
                       const char *out)
{
    const char *ins[2] = {in, in2};
    return td_sm_add_n(b, op, x, label, ins, in2 ? 2 : 1, out);
}

static td_status expose(struct td_sm_builder *b, const td_layer *l,
                        const struct exposed *e)
{
    const char *gram = e->gram, *sum = e->sum, *rows = e->rows;
    const char *x = l->node->input[0];
    td_arena *a = td_graph_arena(b->g);
    int64_t c = l->cin;
    const char *v = add(b, "Cast", x, "float", x, NULL, NULL);
    if (!v || td_node_set_int(b->g, b->nodes[b->n - 1], "to",
                              ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT))
        goto oom;
    if (e->taps) {
        td_status s = td_sm_taps(b, x, v, c, e->nsp, e->lags, e->taps);
        if (s)
            return s;
    }
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
        const char *sn = td_sm_fresh(b, x, "shape");
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
        const char *an = td_sm_fresh(b, x, "axes");
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

const char *td_sm_ints(struct td_sm_builder *b, const char *x,
                       const char *label, const int64_t *v, int64_t n)
{
    const char *nm = td_sm_fresh(b, x, label);
    Onnx__TensorProto *t = nm ? td_tensor_from_int64(td_graph_arena(b->g), nm,
                                                     &n, 1, v) : NULL;
    if (!t || td_graph_add_init(b->g, t, b->err))
        return NULL;
    return nm;
}

/* A Transpose [1, 0] of in; NULL when out of memory. */
static const char *swap(struct td_sm_builder *b, const char *x, const char *label,
                        const char *in)
{
    int64_t perm[2] = {1, 0};
    const char *o = add(b, "Transpose", x, label, in, NULL, NULL);
    if (!o || td_node_set_ints(b->g, b->nodes[b->n - 1], "perm", perm, 2))
        return NULL;
    return o;
}

/* The softmax's metric of layer l (output z, softmax output p) into gram
 * and rows, as the header says; the nodes read p, so they go after the
 * softmax. MatMul (not Gemm's C) keeps every opset from 5 on. */
static td_status expose_fisher(struct td_sm_builder *b, const td_layer *l,
                               const char *p, const char *gram,
                               const char *rows)
{
    const char *x = l->node->output[0];
    int64_t shape[2] = {-1, l->cout}, zero = 0;
    const char *w = add(b, "Cast", x, "w_float", l->weight_name, NULL, NULL);
    if (!w || td_node_set_int(b->g, b->nodes[b->n - 1], "to",
                              ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT))
        goto oom;
    /* bk: K x N (as a MatMul's weight), bn: N x K */
    const char *bk = w, *bn = w;
    if (l->kind == TD_LAYER_GEMM && l->trans_b)
        bk = swap(b, x, "w_kn", w);
    else
        bn = swap(b, x, "w_nk", w);
    const char *pf = add(b, "Cast", x, "p_float", p, NULL, NULL);
    if (!bk || !bn || !pf ||
        td_node_set_int(b->g, b->nodes[b->n - 1], "to",
                        ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT))
        goto oom;
    const char *sn = td_sm_ints(b, x, "p_shape", shape, 2);
    const char *p2 = sn ? add(b, "Reshape", x, "p_rows", pf, sn, NULL) : NULL;
    const char *u = p2 ? add(b, "MatMul", x, "bp", p2, bn, NULL) : NULL;
    const char *ut = u ? swap(b, x, "bp_t", u) : NULL;
    const char *g1 = ut ? add(b, "MatMul", x, "bp_gram", ut, u, NULL) : NULL;
    if (!g1)
        goto oom;
    /* ReduceSum over the rows, kept as [1, N]: axes an input from 13 on */
    const char *ps;
    if (b->opset >= 13) {
        const char *an = td_sm_ints(b, x, "p_axes", &zero, 1);
        ps = an ? add(b, "ReduceSum", x, "p_sum", p2, an, NULL) : NULL;
    } else {
        ps = add(b, "ReduceSum", x, "p_sum", p2, NULL, NULL);
        if (ps && td_node_set_ints(b->g, b->nodes[b->n - 1], "axes", &zero, 1))
            ps = NULL;
    }
    const char *pst = ps ? swap(b, x, "p_sum_t", ps) : NULL;
    const char *scaled = pst ? add(b, "Mul", x, "w_scaled", bn, pst, NULL)
                             : NULL;
    const char *g0 = scaled ? add(b, "MatMul", x, "w_gram", bk, scaled, NULL)
                            : NULL;
    if (!g0 || !add(b, "Sub", x, "fisher", g0, g1, gram) ||
        !add(b, "Shape", x, "fisher_rows", u, NULL, rows))
        goto oom;
    return TD_OK;
oom:
    return td_err_set(b->err, TD_ENOMEM, "out of memory");
}

/* Does layer l's output z feed a softmax over its last axis (directly, or
 * through an Add of a constant), z read by nothing else? *sm: that
 * Softmax. Opsets before 13 take the axes from axis on as one: the same
 * only when axis is the last. A Gemm with alpha != 1 is left out (its
 * logits are alpha x B x). */
static int softmax_head(td_graph *g, const td_shapes *sh, int64_t opset,
                        const td_layer *l, const Onnx__NodeProto **sm)
{
    if (l->kind == TD_LAYER_CONV || l->group != 1 ||
        (l->kind == TD_LAYER_GEMM && l->alpha != 1.0f))
        return 0;
    const char *z = l->node->output[0];
    size_t k;
    for (int hop = 0; hop < 2; hop++) {
        if (td_graph_use_count(g, z) != 1 || td_graph_is_output(g, z) ||
            td_graph_consumers(g, z, &k, 1) != 1)
            return 0;
        const Onnx__NodeProto *n = td_graph_node(g, k);
        if (!strcmp(n->op_type, "Add") && hop == 0 && n->n_input == 2) {
            const char *other = strcmp(n->input[0], z) ? n->input[0]
                                                       : n->input[1];
            if (!td_graph_constant(g, other))
                return 0;
            z = n->output[0];
            continue;
        }
        if (strcmp(n->op_type, "Softmax") || n->n_output < 1 ||
            (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx")))
            return 0;
        int64_t axis;
        td_err_t ignored;
        if (td_attr_int(n, "axis", opset >= 13 ? -1 : 1, &axis, &ignored))
            return 0;
        const int64_t *d;
        size_t nd;
        /* the rank from the softmax's input, or its output (the same
         * shape; a graph output declares it where inference stops) */
        if (axis != -1 &&
            !(sh && (td_shape_get(sh, z, &d, &nd) ||
                     td_shape_get(sh, n->output[0], &d, &nd)) &&
              axis == (int64_t)nd - 1))
            return 0;
        *sm = n;
        return 1;
    }
    return 0;
}

static td_status add_outputs(td_graph *g, const struct exposed *e,
                             td_err_t *err)
{
    int64_t gd[2] = {e->c, e->c}, rd = 2;
    if (td_graph_add_output(g, e->gram, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, gd,
                            2, err) ||
        (e->sum && td_graph_add_output(g, e->sum,
                                       ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,
                                       &e->c, 1, err)) ||
        td_graph_add_output(g, e->rows, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, &rd,
                            1, err))
        return TD_ENOMEM;
    int64_t td[2] = {e->nsp, e->lags};
    if (e->taps && td_graph_add_output(g, e->taps,
                                       ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,
                                       td, 2, err))
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
    char *taps = td_arena_alloc(td_graph_arena(g), len);
    if (!gram || !rows || !sum || !taps)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    snprintf(gram, len, "gram/%s", x);
    snprintf(rows, len, "rows/%s", x);
    snprintf(sum, len, "sum/%s", x);
    snprintf(taps, len, TD_STATS_TAPS_PREFIX "%s", x);
    const char *ug = td_graph_unique_name(g, gram);
    const char *ur = td_graph_unique_name(g, rows);
    const char *us = td_graph_unique_name(g, sum);
    const char *ut = td_graph_unique_name(g, taps);
    if (!ug || !ur || !us || !ut)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    if (strcmp(ug, gram) || strcmp(ur, rows) || strcmp(us, sum) ||
        strcmp(ut, taps))
        return td_err_set(err, TD_EINPUT, "the model already has a value "
                          "named '%s', '%s', '%s' or '%s'", gram, sum, rows,
                          taps);
    e->gram = gram;
    e->sum = sum;
    e->rows = rows;
    e->taps = e->nsp ? taps : NULL;
    return TD_OK;
}

/* The softmax metric's nodes for layer i (node index now) after its
 * softmax sm, wherever the earlier insertions moved it; e: its outputs. */
static td_status tap_softmax(struct td_sm_builder *b, const td_layer *l, size_t i,
                             const Onnx__NodeProto *sm, struct exposed *e)
{
    size_t k = i + 1, nn = td_graph_node_count(b->g);
    while (k < nn && td_graph_node(b->g, k) != sm)
        k++;
    if (k == nn)
        return td_err_set(b->err, TD_EINPUT, "the softmax after '%s' went "
                          "missing", l->name);
    char name[512];
    snprintf(name, sizeof name, TD_STATS_FISHER_PREFIX "%s",
             l->node->output[0]);
    const char *x = td_arena_strdup(td_graph_arena(b->g), name);
    td_status s = x ? names_for(b->g, x, e, b->err)
                    : td_err_set(b->err, TD_ENOMEM, "out of memory");
    if (s)
        return s;
    e->sum = NULL;
    e->c = l->cin;
    b->n = 0;
    if (td_sm_push(b, (Onnx__NodeProto *)sm))
        return td_err_set(b->err, TD_ENOMEM, "out of memory");
    if ((s = expose_fisher(b, l, sm->output[0], e->gram, e->rows)))
        return s;
    return td_graph_replace_node(b->g, k, b->nodes, b->n, b->err);
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
    size_t nn = td_graph_node_count(g), ne = 0, n_heads = 0;
    struct td_sm_builder b = {g, NULL, 0, 0, 0, opset, err};
    td_strmap *seen = td_strmap_new(nn);
    td_strmap *lags = td_strmap_new(nn);  /* X -> lags its taps need */
    /* a moment per layer input, and a metric per softmax head */
    struct exposed *ex = calloc(nn ? 2 * nn : 1, sizeof *ex);
    /* heads[i]: the Softmax after layer i, found while the shapes (which
     * borrow g) hold; the nodes stay, their indices move */
    const Onnx__NodeProto **heads = calloc(nn ? nn : 1, sizeof *heads);
    if (!seen || !lags || !ex || !heads) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    td_shapes *sh = NULL;
    td_err_t ignored;
    td_shape_opts so = {.use_declared = 1};
    if (td_shape_infer(g, &so, &sh, &ignored) != TD_OK)
        sh = NULL;  /* then only axis -1 is known to be the last */
    for (size_t i = 0; i < nn; i++) {
        td_layer l;
        int ok;
        const char *why;
        if (td_layer_describe(g, i, &l, &ok, &why, &ignored) == TD_OK && ok &&
            !softmax_head(g, sh, opset, &l, &heads[i]))
            heads[i] = NULL;
    }
    td_shapes_free(sh);
    /* the lags each X's widest reader needs, before nodes move */
    for (size_t i = 0; i < nn; i++) {
        td_layer l;
        int ok;
        const char *why;
        if (td_layer_describe(g, i, &l, &ok, &why, &ignored) != TD_OK || !ok ||
            l.kind != TD_LAYER_CONV || td_layer_kernel_size(&l) < 2)
            continue;
        int64_t need = 0;
        for (int a = 0; a < l.nsp; a++)
            if ((l.k[a] - 1) * l.dilations[a] + 1 > need)
                need = (l.k[a] - 1) * l.dilations[a] + 1;
        int64_t at = td_strmap_get(lags, l.node->input[0]);
        if (at < 0 || need > at)
            if (td_strmap_put(lags, l.node->input[0], need)) {
                s = td_err_set(err, TD_ENOMEM, "out of memory");
                goto done;
            }
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
        b.k = ne;
        if (heads[i] && (s = tap_softmax(&b, &l, i, heads[i], &ex[ne])))
            goto done;
        ne += heads[i] != NULL;
        n_heads += heads[i] != NULL;
        const char *x = l.node->input[0];
        if (td_strmap_get(seen, x) >= 0)
            continue;
        if (td_strmap_put(seen, x, 1)) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto done;
        }
        struct exposed *e = &ex[ne];
        e->c = l.cin;
        int64_t need = td_strmap_get(lags, x);
        if (l.kind == TD_LAYER_CONV && need > 1 && need <= TAPS_MAX_LAGS) {
            e->nsp = l.nsp;
            e->lags = need;
        }
        if ((s = names_for(g, x, e, err)))
            goto done;
        b.k = ne++;
        b.n = 0;
        if ((s = expose(&b, &l, e)))
            goto done;
        if (td_sm_push(&b, (Onnx__NodeProto *)l.node)) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto done;
        }
        if ((s = td_graph_replace_node(g, i, b.nodes, b.n, err)))
            goto done;
    }
    /* the outputs in layer order, as the model reads the tensors */
    for (size_t q = ne; q-- > 0;)
        if ((s = add_outputs(g, &ex[q], err)))
            goto done;
    *count = ne - n_heads;  /* layer inputs; a metric goes with one */
    s = td_graph_check(g, err);
done:
    td_strmap_free(seen);
    td_strmap_free(lags);
    free(b.nodes);
    free(ex);
    free(heads);
    return s;
}
