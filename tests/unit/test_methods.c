/* Each method's size and MAC formulas (td_method_ops.params / .macs) against
 * the chain it actually emits: a one-layer graph is built in memory, the
 * layer factored and replaced by its chain, and then the chain's parameters
 * are counted from its float initializers (the Tile repeats of a TR chain
 * are an index, not a parameter) and its MACs computed from the emitted
 * Conv / Gemm / MatMul nodes and their weights' shapes, with every Conv's
 * output size worked out from its own attributes. Shapes: 2-D and 1-D
 * convs, strides, pads, dilation, groups, with and without bias, Gemm
 * (transB) and MatMul. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/td_cost.h"
#include "passes/td_emit.h"
#include "passes/td_method.h"
#include "passes/td_job.h"
#include "graph/td_tensor.h"
#include "tcheck.h"

#define FLOAT ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT

typedef struct layer_case {
    const char *what;
    const char *op;             /* Conv, Gemm, MatMul */
    int64_t cout, cin, group;   /* Gemm/MatMul: N, K */
    int nsp;
    int64_t k[2], stride[2], pad[4], dil[2], in_sp[2];
    int bias, trans_b;
} layer_case;

static uint64_t rng = 88172645463325252ull;

static double rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0 - 0.5;
}

static Onnx__TensorProto *random_tensor(td_arena *a, const char *name,
                                        const int64_t *dims, size_t nd)
{
    int64_t n = 1;
    for (size_t q = 0; q < nd; q++)
        n *= dims[q];
    double *v = malloc((size_t)n * sizeof *v);
    for (int64_t q = 0; q < n; q++)
        v[q] = rnd();
    Onnx__TensorProto *t = td_tensor_from_double(a, name, FLOAT, dims, nd, v);
    free(v);
    return t;
}

/* A graph holding only the layer: input x, weight w, bias b, output y. */
static td_graph *one_layer(td_arena *a, const layer_case *c,
                           Onnx__GraphProto *gp)
{
    static Onnx__TensorProto *inits[2];
    static Onnx__NodeProto *nodes[1];
    onnx__graph_proto__init(gp);
    td_graph *scratch = td_graph_new(a, gp, 8);
    int64_t wd[4];
    size_t nd;
    if (!strcmp(c->op, "Conv")) {
        wd[0] = c->cout;
        wd[1] = c->cin / c->group;
        for (int s = 0; s < c->nsp; s++)
            wd[2 + s] = c->k[s];
        nd = 2 + (size_t)c->nsp;
    } else {
        wd[0] = c->trans_b ? c->cout : c->cin;
        wd[1] = c->trans_b ? c->cin : c->cout;
        nd = 2;
    }
    inits[0] = random_tensor(a, "w", wd, nd);
    inits[1] = random_tensor(a, "b", &c->cout, 1);
    const char *ins[3] = {"x", "w", "b"}, *out = "y";
    nodes[0] = td_node_new(scratch, c->op, "layer", ins, c->bias ? 3 : 2,
                           &out, 1);
    if (!strcmp(c->op, "Conv")) {
        size_t n = (size_t)c->nsp;
        int64_t pads[4] = {c->pad[0], c->pad[1], c->pad[2], c->pad[3]};
        if (c->nsp == 1)
            pads[1] = c->pad[2];
        td_node_set_ints(scratch, nodes[0], "kernel_shape", c->k, n);
        td_node_set_ints(scratch, nodes[0], "strides", c->stride, n);
        td_node_set_ints(scratch, nodes[0], "dilations", c->dil, n);
        td_node_set_ints(scratch, nodes[0], "pads", pads, 2 * n);
        if (c->group != 1)
            td_node_set_int(scratch, nodes[0], "group", c->group);
    } else if (c->trans_b) {
        td_node_set_int(scratch, nodes[0], "transB", 1);
    }
    gp->node = nodes;
    gp->n_node = 1;
    gp->initializer = inits;
    gp->n_initializer = c->bias ? 2 : 1;
    td_graph_free(scratch);
    return td_graph_new(a, gp, 8);
}

/* Conv output size along one axis (ONNX Conv, explicit pads). */
static int64_t conv_out(int64_t in, int64_t k, int64_t stride, int64_t pb,
                        int64_t pe, int64_t dil)
{
    return (in + pb + pe - dil * (k - 1) - 1) / stride + 1;
}

static const Onnx__TensorProto *init_named(td_graph *g, const char *name)
{
    for (size_t i = 0; i < td_graph_init_count(g); i++)
        if (!strcmp(td_graph_init(g, i)->name, name))
            return td_graph_init(g, i);
    return NULL;
}

/* The dims of a node's weight input: an initializer, or a Tile of one. */
static size_t weight_dims(td_graph *g, const char *name, int64_t *dims)
{
    const Onnx__TensorProto *t = init_named(g, name);
    if (t) {
        memcpy(dims, t->dims, t->n_dims * sizeof *dims);
        return t->n_dims;
    }
    int64_t p = td_graph_producer(g, name);
    const Onnx__NodeProto *tile = p >= 0 ? td_graph_node(g, (size_t)p) : NULL;
    if (!tile || strcmp(tile->op_type, "Tile"))
        return 0;
    size_t nd = weight_dims(g, tile->input[0], dims);
    const Onnx__TensorProto *reps = init_named(g, tile->input[1]);
    double *r = NULL;
    int64_t nr = 0;
    td_err_t err = {0};
    if (!reps || td_tensor_to_double(reps, &r, &nr, &err) || nr != (int64_t)nd)
        nd = 0;
    for (size_t q = 0; q < nd; q++)
        dims[q] *= (int64_t)r[q];
    free(r);
    return nd;
}

/* The latency model's seconds of one emitted node (td_cost.h), from its
 * own weight and pixels: what the method's seconds formula must add up to. */
static double node_seconds(const td_layer *l, const Onnx__NodeProto *n,
                           const int64_t *wd, size_t nd, int64_t in_px,
                           int64_t out_px)
{
    td_err_t err = {0};
    if (strcmp(n->op_type, "Conv")) {
        int64_t tb = 0;
        td_attr_int(n, "transB", 0, &tb, &err);
        int64_t k = tb ? wd[1] : wd[0], o = tb ? wd[0] : wd[1];
        return td_cost_conv_seconds(l, k, o, 1, 1, 1, 1);
    }
    int64_t group = 1, kern = 1;
    td_attr_int(n, "group", 1, &group, &err);
    for (size_t q = 2; q < nd; q++)
        kern *= wd[q];
    return td_cost_conv_seconds(l, wd[1] * group, wd[0], group, kern, in_px,
                                out_px);
}

/* MACs and estimated seconds of the emitted chain, from its nodes. Spatial
 * sizes are followed from x through every Conv; Gemm/MatMul count per row
 * of the input. A Tile of a constant is folded at load and costs nothing. */
static int64_t emitted_macs(td_graph *g, const layer_case *c,
                            const td_layer *l, double *seconds)
{
    struct { const char *name; int64_t sp[2]; } seen[16];
    size_t ns = 0;
    seen[ns].name = "x";
    memcpy(seen[ns++].sp, c->in_sp, sizeof c->in_sp);
    int64_t macs = 0;
    *seconds = 0;
    for (size_t i = 0; i < td_graph_node_count(g); i++) {
        const Onnx__NodeProto *n = td_graph_node(g, i);
        int64_t wd[4], prod = 1;
        if (!strcmp(n->op_type, "Tile"))
            continue;
        size_t nd = weight_dims(g, n->input[1], wd);
        CHECK_MSG(nd >= 2, "%s: node %s has no weight", c->what, n->name);
        for (size_t q = 0; q < nd; q++)
            prod *= wd[q];
        if (strcmp(n->op_type, "Conv")) {
            macs += prod;
            *seconds += node_seconds(l, n, wd, nd, 1, 1);
            continue;
        }
        const int64_t *in_sp = NULL;
        for (size_t q = 0; q < ns; q++)
            if (!strcmp(seen[q].name, n->input[0]))
                in_sp = seen[q].sp;
        CHECK_MSG(in_sp != NULL, "%s: input of %s unknown", c->what, n->name);
        if (!in_sp)
            return -1;
        const int64_t *st, *pads, *dil;
        size_t cnt;
        td_err_t err = {0};
        int64_t out_px = 1, in_px = 1, osp[2] = {1, 1};
        int64_t one[2] = {1, 1}, zero[4] = {0, 0, 0, 0};
        td_attr_ints(n, "strides", &st, &cnt, &err);
        if (!cnt)
            st = one;
        td_attr_ints(n, "pads", &pads, &cnt, &err);
        if (!cnt)
            pads = zero;
        td_attr_ints(n, "dilations", &dil, &cnt, &err);
        if (!cnt)
            dil = one;
        for (int s = 0; s < c->nsp; s++) {
            osp[s] = conv_out(in_sp[s], wd[2 + s], st[s], pads[s],
                              pads[c->nsp + s], dil[s]);
            out_px *= osp[s];
            in_px *= in_sp[s];
        }
        macs += out_px * prod;
        *seconds += node_seconds(l, n, wd, nd, in_px, out_px);
        seen[ns].name = n->output[0];
        memcpy(seen[ns++].sp, osp, sizeof osp);
    }
    return macs;
}

static int64_t float_params(td_graph *g)
{
    int64_t p = 0;
    for (size_t i = 0; i < td_graph_init_count(g); i++) {
        const Onnx__TensorProto *t = td_graph_init(g, i);
        if (t->data_type == FLOAT)
            p += td_tensor_numel(t);
    }
    return p;
}

static void check_method(const layer_case *c, td_method m, td_factor_request b)
{
    td_arena *a = td_arena_new();
    Onnx__GraphProto gp;
    td_graph *g = one_layer(a, c, &gp);
    td_layer l;
    td_err_t err = {0};
    int ok = 0;
    const char *why = NULL;
    const td_method_ops *ops = td_method_get(m);
    CHECK(td_layer_describe(g, 0, &l, &ok, &why, &err) == TD_OK);
    CHECK_MSG(ok && ops && ops->applies(&l), "%s: %s does not apply",
              c->what, td_method_name(m));
    if (!ok || !ops || !ops->applies(&l))
        goto out;
    for (int s = 0; s < c->nsp; s++) {
        int64_t pe = c->nsp == 1 ? c->pad[2] : c->pad[2 + s];
        l.in_sp[s] = c->in_sp[s];
        l.out_sp[s] = conv_out(c->in_sp[s], c->k[s], c->stride[s], c->pad[s],
                               pe, c->dil[s]);
    }
    double *w = NULL;
    td_factors f;
    CHECK(td_job_load_weight(&l, &w, &err) == TD_OK);
    td_status s = td_factor_layer(&l, w, m, &b, &f, &err);
    free(w);
    CHECK_MSG(s == TD_OK, "%s, %s: %s", c->what, ops->name, err.msg);
    if (s)
        goto out;
    int64_t want_params = ops->params(&l, f.ranks);
    int64_t want_macs = ops->macs(&l, f.ranks);
    CHECK_MSG(f.params == want_params && f.macs == want_macs,
              "%s, %s: factors say %lld params %lld MACs, formula %lld %lld",
              c->what, ops->name, (long long)f.params, (long long)f.macs,
              (long long)want_params, (long long)want_macs);
    s = td_emit_chain(g, &l, &f, 0, 13, &err);
    CHECK_MSG(s == TD_OK, "%s, %s: emit: %s", c->what, ops->name, err.msg);
    if (!s) {
        td_graph_remove_if_unused(g, "w");
        double got_seconds, want_seconds = ops->seconds(&l, f.ranks);
        int64_t got_params = float_params(g);
        int64_t got_macs = emitted_macs(g, c, &l, &got_seconds);
        /* every chain has a cost, and it is the sum of its nodes' */
        CHECK_MSG(want_seconds > 0 &&
                      fabs(got_seconds - want_seconds) <= 1e-12 + 1e-9 * want_seconds,
                  "%s, %s: emitted chain costs %g s, formula %g s", c->what,
                  ops->name, got_seconds, want_seconds);
        CHECK_MSG(got_params == want_params,
                  "%s, %s (ranks %lld %lld %lld %lld): emitted %lld "
                  "parameters, formula %lld", c->what, ops->name,
                  (long long)f.ranks[0], (long long)f.ranks[1],
                  (long long)f.ranks[2], (long long)f.ranks[3],
                  (long long)got_params, (long long)want_params);
        CHECK_MSG(got_macs == want_macs,
                  "%s, %s (ranks %lld %lld %lld %lld): emitted %lld MACs, "
                  "formula %lld", c->what, ops->name, (long long)f.ranks[0],
                  (long long)f.ranks[1], (long long)f.ranks[2],
                  (long long)f.ranks[3], (long long)got_macs,
                  (long long)want_macs);
    }
    td_factors_free(&f);
out:
    td_graph_free(g);
    td_arena_free(a);
}

int main(void)
{
    static const layer_case convs[] = {
        {"3x3 conv, bias", "Conv", 12, 8, 1, 2, {3, 3}, {1, 1}, {1, 1, 1, 1},
         {1, 1}, {9, 7}, 1, 0},
        {"3x5 conv, stride 2, uneven pads, no bias", "Conv", 10, 6, 1, 2,
         {3, 5}, {2, 1}, {0, 2, 1, 1}, {1, 1}, {11, 8}, 0, 0},
        {"3x3 conv, dilation 2, groups 2", "Conv", 8, 12, 2, 2, {3, 3},
         {1, 2}, {2, 2, 2, 2}, {2, 2}, {10, 9}, 1, 0},
        {"1-D conv, k 5", "Conv", 9, 7, 1, 1, {5, 0}, {1, 0}, {2, 0, 2, 0},
         {1, 0}, {13, 0}, 1, 0},
        {"one-channel 5x3 conv", "Conv", 10, 1, 1, 2, {5, 3}, {2, 1},
         {2, 1, 1, 0}, {1, 2}, {12, 9}, 1, 0},
    };
    static const layer_case pointwise[] = {
        {"1x1 conv, stride 2, pads", "Conv", 16, 12, 1, 2, {1, 1}, {2, 2},
         {1, 0, 0, 1}, {1, 1}, {7, 6}, 1, 0},
        {"1x1 conv, groups 4", "Conv", 16, 8, 4, 2, {1, 1}, {1, 1},
         {0, 0, 0, 0}, {1, 1}, {5, 5}, 0, 0},
        {"Gemm, transB", "Gemm", 20, 14, 1, 0, {0}, {0}, {0}, {0}, {0}, 1, 1},
        {"MatMul", "MatMul", 11, 15, 1, 0, {0}, {0}, {0}, {0}, {0}, 0, 0},
        /* one input channel, group 1: svd over Cout x taps */
        {"one-channel 5x3 conv, stride, pads, dilation", "Conv", 10, 1, 1, 2,
         {5, 3}, {2, 1}, {2, 1, 1, 0}, {1, 2}, {12, 9}, 1, 0},
        {"one-channel 1-D conv, k 16, stride 4", "Conv", 12, 1, 1, 1,
         {16, 0}, {4, 0}, {8, 0, 7, 0}, {1, 0}, {40, 0}, 0, 0},
    };
    td_factor_request rank = {.kind = TD_BUDGET_RANK, .rank = 3, .rank_in = 2,
                      .max_sweeps = 5, .cp_sweeps = 5, .fit_tol = 1e-4};
    td_factor_request ratio = {.kind = TD_BUDGET_RATIO, .ratio = 0.5, .max_sweeps = 5,
                       .cp_sweeps = 5, .fit_tol = 1e-4};
    td_factor_request tol = {.kind = TD_BUDGET_TOL, .tol = 0.3, .max_sweeps = 5,
                     .cp_sweeps = 5, .fit_tol = 1e-4};
    for (size_t i = 0; i < sizeof convs / sizeof *convs; i++) {
        check_method(&convs[i], TD_TUCKER2, rank);
        check_method(&convs[i], TD_TUCKER2, ratio);
        check_method(&convs[i], TD_CP, rank);
        if (convs[i].group == 1) {
            check_method(&convs[i], TD_TR, ratio);
            check_method(&convs[i], TD_TR, tol);
            check_method(&convs[i], TD_RSDTR, ratio);
            check_method(&convs[i], TD_RSDTR, tol);
        }
    }
    for (size_t i = 0; i < sizeof pointwise / sizeof *pointwise; i++) {
        check_method(&pointwise[i], TD_SVD, rank);
        check_method(&pointwise[i], TD_SVD, ratio);
    }
    return TCHECK_DONE();
}
