/* Collects the facts td_info reports: op counts, parameters by dtype over
 * every tensor the model stores as a constant, and per convolution its
 * geometry with shapes from td_shape. */
#include "td_info.h"

#include <stdlib.h>
#include <string.h>

#include "td_info_internal.h"
#include "td_scope.h"
#include "td_tensor.h"

#define DT(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

static int is_default_domain(const char *d)
{
    return !d || !d[0] || !strcmp(d, "ai.onnx");
}

/* Adds a tensor's elements and bytes to its dtype's bucket. Bytes are the
 * logical size (elements x element bits), the same whether the payload is
 * raw, typed or was external. */
static void count_tensor(td_info *in, const char *name, int32_t dtype,
                         int64_t numel, uint64_t bytes)
{
    int at = dtype > 0 && dtype < INFO_N_DTYPES ? dtype : 0;
    info_dtype *d = &in->dtypes[at];
    if (numel < 0 || in->count_overflow)
        return;
    /* the totals bound the per-dtype sums */
    if (td_add_i64(in->params_total, numel, &in->params_total) ||
        __builtin_add_overflow(in->bytes_total, bytes, &in->bytes_total)) {
        in->count_overflow = name ? name : "";
        return;
    }
    d->tensors++;
    d->count += numel;
    d->bytes += bytes;
}

static void count_proto(td_info *in, const Onnx__TensorProto *t)
{
    int64_t numel = td_tensor_numel(t);
    uint64_t bytes = 0;
    if (numel < 0)
        return;
    if (t->data_type == DT(STRING)) {
        for (size_t i = 0; i < t->n_string_data; i++)
            bytes += t->string_data[i].len;
    } else {
        uint64_t bits = (uint64_t)td_dtype_bits(t->data_type);
        if (bits && (uint64_t)numel <= UINT64_MAX / bits)
            bytes = ((uint64_t)numel * bits + 7) / 8;
    }
    count_tensor(in, t->name, t->data_type, numel, bytes);
}

static void count_constant_node(td_info *in, const Onnx__NodeProto *n)
{
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        const char *an = a->name ? a->name : "";
        if (!strcmp(an, "value") && a->t)
            count_proto(in, a->t);
        else if (!strcmp(an, "sparse_value") && a->sparse_tensor &&
                 a->sparse_tensor->values)
            count_proto(in, a->sparse_tensor->values);
        else if (!strcmp(an, "value_float"))
            count_tensor(in, n->name, DT(FLOAT), 1, 4);
        else if (!strcmp(an, "value_floats"))
            count_tensor(in, n->name, DT(FLOAT), (int64_t)a->n_floats,
                         4 * a->n_floats);
        else if (!strcmp(an, "value_int"))
            count_tensor(in, n->name, DT(INT64), 1, 8);
        else if (!strcmp(an, "value_ints"))
            count_tensor(in, n->name, DT(INT64), (int64_t)a->n_ints,
                         8 * a->n_ints);
    }
}

/* Every initializer and Constant of the graph and of the sub-graphs its
 * nodes hold (If branches, Loop and Scan bodies). */
static void count_graph(td_info *in, const Onnx__GraphProto *g, int depth)
{
    if (!g || depth > TD_MAX_NESTING)
        return;
    for (size_t i = 0; i < g->n_initializer; i++)
        count_proto(in, g->initializer[i]);
    for (size_t i = 0; i < g->n_sparse_initializer; i++)
        if (g->sparse_initializer[i]->values)
            count_proto(in, g->sparse_initializer[i]->values);
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        if (n->op_type && !strcmp(n->op_type, "Constant") &&
            is_default_domain(n->domain))
            count_constant_node(in, n);
        for (size_t k = 0; k < n->n_attribute; k++) {
            const Onnx__AttributeProto *a = n->attribute[k];
            count_graph(in, a->g, depth + 1);
            for (size_t j = 0; j < a->n_graphs; j++)
                count_graph(in, a->graphs[j], depth + 1);
        }
    }
}

static int cmp_ops(const void *pa, const void *pb)
{
    const info_op *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    int c = strcmp(a->op, b->op);
    return c ? c : strcmp(a->domain, b->domain);
}

static td_status count_ops(td_info *in, const Onnx__GraphProto *g,
                           td_err_t *err)
{
    in->ops = calloc(g->n_node + 1, sizeof *in->ops);
    if (!in->ops)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        const char *op = n->op_type ? n->op_type : "";
        const char *dom = is_default_domain(n->domain) ? "" : n->domain;
        int64_t at = -1;
        /* few distinct (domain, op) pairs: a linear scan of those found */
        for (size_t k = 0; k < in->n_ops && at < 0; k++)
            if (!strcmp(in->ops[k].op, op) && !strcmp(in->ops[k].domain, dom))
                at = (int64_t)k;
        if (at < 0) {
            at = (int64_t)in->n_ops++;
            in->ops[at].op = op;
            in->ops[at].domain = dom;
        }
        in->ops[at].count++;
    }
    qsort(in->ops, in->n_ops, sizeof *in->ops, cmp_ops);
    return TD_OK;
}

static int shape_of(const td_shapes *sh, const char *name, int64_t *dims,
                    size_t *rank)
{
    const int64_t *d;
    size_t r;
    if (!name || !name[0] || !td_shape_get(sh, name, &d, &r) ||
        r > INFO_MAX_RANK)
        return 0;
    memcpy(dims, d, r * sizeof *d);
    *rank = r;
    return 1;
}

/* -1 when a dim is unknown, -2 when the product overflows. */
static int64_t product(const int64_t *d, size_t n)
{
    int64_t p = 1;
    for (size_t k = 0; k < n; k++) {
        if (d[k] < 0)
            return -1;
        if (td_mul_i64(p, d[k], &p))
            return -2;
    }
    return p;
}

/* MACs per sample: every output element of a Conv sums Cin/group x
 * prod(kernel) products (W is [Cout, Cin/group, k...]); ConvTranspose
 * scatters every input element through Cout/group x prod(kernel) weights
 * (W is [Cin, Cout/group, k...]). Both come to spatial x W[0] x W[1] x
 * prod(kernel), over the output for Conv and the input for ConvTranspose. */
static int64_t conv_macs(const info_conv *c)
{
    if (!c->geo_ok || !c->w_known)
        return -1;
    const int64_t *sp = strcmp(c->op, "ConvTranspose") ? c->geo.out_spatial
                                                       : c->geo.in_spatial;
    int64_t a = product(sp, c->geo.n_spatial);
    int64_t b = product(c->w, c->w_rank);  /* W[0] x W[1] x prod(kernel) */
    int64_t r;
    if (a == -2 || b == -2)
        return -2;
    if (a < 0 || b < 0)
        return -1;
    return td_mul_i64(a, b, &r) ? -2 : r;
}

/* Counts that do not fit in int64 come from a broken model (or a --dim
 * value no real input has): an error, not a wrapped or "unknown" count. */
/* A weight read from an enclosing graph has no shape in the sub-graph's
 * inference: its dims come from the constant itself. */
static int outer_weight(td_graph *g, const char *name, int64_t *dims,
                        size_t *rank)
{
    const Onnx__TensorProto *t = g ? td_graph_constant(g, name) : NULL;
    if (!t || t->n_dims > INFO_MAX_RANK)
        return 0;
    memcpy(dims, t->dims, t->n_dims * sizeof *dims);
    *rank = t->n_dims;
    return 1;
}

static td_status describe_conv(const td_info *in, const Onnx__NodeProto *n,
                               size_t index, td_graph *g, info_conv *c,
                               td_err_t *err)
{
    const char *op = n->op_type;
    int wi = td_conv_weight_index(op), bi = td_conv_bias_index(op);
    memset(c, 0, sizeof *c);
    c->name = n->name ? n->name : "";
    c->op = op;
    c->index = index;
    c->params = c->macs = -1;
    if ((size_t)wi < n->n_input)
        c->w_known = shape_of(in->shapes, n->input[wi], c->w, &c->w_rank) ||
                     outer_weight(g, n->input[wi], c->w, &c->w_rank);
    if (n->n_input > 0)
        c->x_known = shape_of(in->shapes, n->input[0], c->x, &c->x_rank);
    if (c->w_known && c->w_rank >= 3) {
        td_err_t geo_err;
        const int64_t *xs =
            c->x_known && c->x_rank == c->w_rank ? c->x + 2 : NULL;
        c->geo_ok = td_conv_geometry(n, c->w, c->w_rank, xs, &c->geo,
                                     &geo_err) == TD_OK;
        if (!c->geo_ok && c->geo.overflow) {
            *err = geo_err;
            return TD_EINPUT;
        }
    }
    int64_t wn = c->w_known ? product(c->w, c->w_rank) : -1, bn = 0;
    if (bi >= 0 && (size_t)bi < n->n_input && n->input[bi][0]) {
        int64_t b[INFO_MAX_RANK];
        size_t br;
        bn = shape_of(in->shapes, n->input[bi], b, &br) ? product(b, br) : -1;
    }
    if (wn == -2 || bn == -2 ||
        (wn >= 0 && bn >= 0 && td_add_i64(wn, bn, &c->params)))
        return td_err_set(err, TD_EINPUT, "node '%s' (%s): the parameter "
                          "count of the weight and bias overflows int64",
                          c->name, op);
    if ((c->macs = conv_macs(c)) == -2)
        return td_err_set(err, TD_EINPUT, "node '%s' (%s): the MAC count "
                          "overflows int64 (input spatial size from the model "
                          "or the dims given, times the weight's size)", c->name, op);
    return TD_OK;
}

/* The convolutions of one graph; prefix ("" for the main graph) is its
 * path in the model, put before the names (td_scope.h), ir the graph's IR
 * for weights read from outside it (NULL: none). */
static td_status collect_convs(td_info *in, const Onnx__GraphProto *g,
                               const char *prefix, td_graph *ir, td_arena *a,
                               td_err_t *err)
{
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        if (n->op_type && is_default_domain(n->domain) &&
            td_conv_weight_index(n->op_type) >= 0) {
            info_conv *c = &in->convs[in->n_convs++];
            td_status s = describe_conv(in, n, i, ir, c, err);
            if (s)
                return s;
            if (prefix[0] && !(c->name = td_arena_printf(a, "%s%s", prefix,
                                                         c->name)))
                return td_err_set(err, TD_ENOMEM, "out of memory");
            if (c->params > 0 &&
                td_add_i64(in->conv_params, c->params, &in->conv_params))
                return td_err_set(err, TD_EINPUT, "node '%s' (%s): the "
                                  "convolutions' parameter count overflows "
                                  "int64", c->name, c->op);
            if (c->macs < 0)
                in->conv_macs_unknown++;
            else if (td_add_i64(in->conv_macs, c->macs, &in->conv_macs))
                return td_err_set(err, TD_EINPUT, "node '%s' (%s): the "
                                  "convolutions' MAC count overflows int64",
                                  c->name, c->op);
        }
    }
    return TD_OK;
}

/* The convolutions inside sub-graphs and function bodies, with shapes as
 * far as each graph declares them (a value from outside, carried by a
 * Loop or sliced by a Scan is unknown there). */
static td_status collect_inner_convs(td_info *in, td_scopes *scopes,
                                     const td_shape_opts *so, td_arena *a,
                                     td_err_t *err)
{
    const td_shapes *main_shapes = in->shapes;
    td_status s = TD_OK;
    for (size_t k = 1; k < td_scopes_count(scopes) && !s; k++) {
        td_graph *g = td_scopes_graph(scopes, k);
        td_shapes *sh = NULL;
        td_err_t ignored;
        td_status st = td_shape_infer(g, so, &sh, &ignored);
        if (st == TD_ENOMEM)  /* other failures: sizes unknown there */
            s = td_err_set(err, TD_ENOMEM, "out of memory");
        else if (st)
            sh = NULL;
        in->shapes = sh;
        if (!s)
            s = collect_convs(in, td_graph_orig(g),
                              td_scopes_prefix(scopes, k), g, a, err);
        td_shapes_free(sh);
    }
    in->shapes = main_shapes;
    return s;
}

td_status td_info_describe(td_model *m, const td_info_opts *opts, int json,
                           char **out, td_err_t *err)
{
    *out = NULL;
    td_info in = {0};
    td_shapes *shapes = NULL;
    td_scopes *scopes = NULL;
    td_buf b = {0};
    td_status s;
    td_shape_opts so = {opts ? opts->dims : NULL, opts ? opts->n_dims : 0, 1};
    in.path = td_model_path(m);
    in.opts = opts;
    in.model = td_model_current(m);
    if (!in.model) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    const Onnx__GraphProto *g = in.model->graph;
    in.n_nodes = g->n_node;
    if ((s = td_shape_infer(td_model_graph(m), &so, &shapes, err)))
        goto cleanup;
    in.shapes = shapes;
    count_graph(&in, g, 0);
    if (in.count_overflow) {
        s = td_err_set(err, TD_EINPUT, "tensor '%s': the model's parameter "
                       "count overflows int64 (dims of tensors without "
                       "matching data)", in.count_overflow);
        goto cleanup;
    }
    if ((s = count_ops(&in, g, err)) ||
        (s = td_scopes_new(m, td_model_graph(m), &scopes, err)))
        goto cleanup;
    size_t all_nodes = 0;
    for (size_t k = 0; k < td_scopes_count(scopes); k++)
        all_nodes += td_graph_node_count(td_scopes_graph(scopes, k));
    if (!(in.convs = calloc(all_nodes + 1, sizeof *in.convs))) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((s = collect_convs(&in, g, "", NULL, td_model_arena(m), err)) ||
        (s = collect_inner_convs(&in, scopes, &so, td_model_arena(m), err)))
        goto cleanup;
    if (json)
        td_info_render_json(&in, &b);
    else
        td_info_render_text(&in, &b);
    if (!(*out = td_buf_take(&b)))
        s = td_err_set(err, TD_ENOMEM, "out of memory");
cleanup:
    if (s)
        td_err_prefix(err, "%s: ", in.path);
    td_buf_free(&b);
    td_shapes_free(shapes);
    td_scopes_free(scopes);
    free(in.ops);
    free(in.convs);
    return s;
}
