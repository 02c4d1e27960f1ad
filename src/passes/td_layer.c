#include "td_layer.h"

#include <stdio.h>
#include <string.h>

#include "graph/td_tensor.h"

static int is_onnx_domain(const Onnx__NodeProto *n)
{
    return !n->domain || !n->domain[0] || !strcmp(n->domain, "ai.onnx");
}

static td_status bad(const td_layer *l, td_err_t *err, const char *what)
{
    return td_err_set(err, TD_EINPUT, "node '%s' (%s): %s", l->name,
                      l->node->op_type, what);
}

static td_status conv_geometry(td_layer *l, td_err_t *err)
{
    const Onnx__NodeProto *n = l->node;
    const Onnx__TensorProto *w = l->weight;
    char msg[160];
    if (w->n_dims < 3 || w->n_dims > 2 + TD_MAX_SPATIAL)
        return bad(l, err, "weight must have 3 to 5 dims (1-D to 3-D conv)");
    l->nsp = (int)w->n_dims - 2;
    l->cout = w->dims[0];
    l->cin_g = w->dims[1];
    for (int s = 0; s < l->nsp; s++)
        l->k[s] = w->dims[2 + s];
    if (l->cout <= 0 || l->cin_g <= 0)
        return bad(l, err, "weight has a zero dimension");
    td_status st = td_attr_int(n, "group", 1, &l->group, err);
    if (st)
        return st;
    if (l->group < 1 || l->cout % l->group != 0) {
        snprintf(msg, sizeof msg, "group %lld does not divide the %lld output "
                 "channels", (long long)l->group, (long long)l->cout);
        return bad(l, err, msg);
    }
    if (td_mul_i64(l->cin_g, l->group, &l->cin))
        return bad(l, err, "channel count overflows");
    const int64_t *v;
    size_t c;
    if ((st = td_attr_ints(n, "kernel_shape", &v, &c, err)))
        return st;
    if (c) {
        if (c != (size_t)l->nsp)
            return bad(l, err, "kernel_shape has the wrong number of axes");
        for (int s = 0; s < l->nsp; s++)
            if (v[s] != l->k[s])
                return bad(l, err, "kernel_shape contradicts the weight's shape");
    }
    struct { const char *name; int64_t *dst; size_t want; int64_t dflt; } lists[] = {
        {"strides", l->strides, (size_t)l->nsp, 1},
        {"dilations", l->dilations, (size_t)l->nsp, 1},
        {"pads", l->pads, 2 * (size_t)l->nsp, 0},
    };
    for (size_t q = 0; q < 3; q++) {
        if ((st = td_attr_ints(n, lists[q].name, &v, &c, err)))
            return st;
        if (c && c != lists[q].want) {
            snprintf(msg, sizeof msg, "%s has %zu values, expected %zu",
                     lists[q].name, c, lists[q].want);
            return bad(l, err, msg);
        }
        for (size_t s = 0; s < lists[q].want; s++) {
            lists[q].dst[s] = c ? v[s] : lists[q].dflt;
            if (q < 2 && lists[q].dst[s] < 1) {
                snprintf(msg, sizeof msg, "%s must be positive", lists[q].name);
                return bad(l, err, msg);
            }
            if (q == 2 && lists[q].dst[s] < 0)
                return bad(l, err, "pads must not be negative");
        }
    }
    if ((st = td_attr_string(n, "auto_pad", "NOTSET", l->auto_pad,
                             sizeof l->auto_pad, err)))
        return st;
    if (strcmp(l->auto_pad, "NOTSET") && strcmp(l->auto_pad, "SAME_UPPER") &&
        strcmp(l->auto_pad, "SAME_LOWER") && strcmp(l->auto_pad, "VALID"))
        return bad(l, err, "auto_pad has an unknown value");
    l->has_bias = n->n_input > 2 && n->input[2][0];
    return TD_OK;
}

td_status td_layer_describe(td_graph *g, size_t i, td_layer *l, int *ok,
                            const char **why, td_err_t *err)
{
    const Onnx__NodeProto *n = td_graph_node(g, i);
    memset(l, 0, sizeof *l);
    *ok = 0;
    *why = NULL;
    l->node = n;
    l->name = n->name && n->name[0] ? n->name
              : n->n_output ? n->output[0] : "";
    for (int s = 0; s < TD_MAX_SPATIAL; s++)
        l->in_sp[s] = l->out_sp[s] = -1;
    const char *op = n->op_type ? n->op_type : "";
    if (!is_onnx_domain(n))
        return TD_OK;
    if (!strcmp(op, "Conv"))
        l->kind = TD_LAYER_CONV;
    else if (!strcmp(op, "Gemm"))
        l->kind = TD_LAYER_GEMM;
    else if (!strcmp(op, "MatMul"))
        l->kind = TD_LAYER_MATMUL;
    else {
        /* Said, not silently passed over: a user who hands in a quantized
         * export otherwise sees "0 of 0 layers" and no reason. Factors of
         * an integer weight would be float, larger than the int8 layer. */
        if (!strcmp(op, "ConvInteger") || !strcmp(op, "QLinearConv") ||
            !strcmp(op, "MatMulInteger") || !strcmp(op, "QLinearMatMul"))
            *why = "quantized (integer weight): compress the float model, "
                   "then quantize";
        return TD_OK;
    }
    if (n->n_input < 2 || !n->input[1][0] || n->n_output < 1) {
        *why = "missing weight input";
        return bad(l, err, "has no weight input");
    }
    l->weight_name = n->input[1];
    l->weight = td_graph_constant(g, l->weight_name);
    if (l->weight && td_graph_is_overridable(g, l->weight_name)) {
        /* IR >= 4: an initializer listed as a graph input is only a
         * default the caller may override; the model's interface stays. */
        *why = "weight is an overridable initializer (also a graph input): "
               "factoring it would change the model's inputs";
        return TD_OK;
    }
    if (!l->weight && td_graph_sparse_init(g, l->weight_name)) {
        /* Kept rather than densified: the chain's dense factors would lose
         * the storage the sparse form was chosen for. */
        *why = "weight is a sparse initializer: kept as stored";
        return TD_OK;
    }
    if (!l->weight) {
        int64_t p = td_graph_producer(g, l->weight_name);
        const Onnx__NodeProto *pn = p >= 0 ? td_graph_node(g, (size_t)p) : NULL;
        *why = pn && pn->op_type && !strcmp(pn->op_type, "DequantizeLinear")
                   ? "quantized (QDQ: weight from DequantizeLinear): compress "
                     "the float model, then quantize"
                   : "weight is a runtime input, not a constant";
        return TD_OK;
    }
    l->dtype = l->weight->data_type;
    if (!td_dtype_is_float(l->dtype)) {
        *why = "weight is not FLOAT/FLOAT16/BFLOAT16/DOUBLE";
        return TD_OK;
    }
    td_status st = td_tensor_validate(l->weight, err);
    if (st)
        return td_err_prefix(err, "node '%s' (%s): ", l->name, op);
    if (l->kind == TD_LAYER_CONV) {
        if ((st = conv_geometry(l, err)))
            return st;
        /* One input channel per group but one group is an ordinary conv:
         * a Cout x taps matrix (method_svd.c). */
        if (l->cin_g == 1 && l->group > 1) {
            *why = "depthwise (one input channel per group): nothing to factor";
            return TD_OK;
        }
        *ok = 1;
        return TD_OK;
    }
    if (l->weight->n_dims != 2) {
        *why = "weight is not 2-D";
        return TD_OK;
    }
    l->group = 1;
    if (l->kind == TD_LAYER_GEMM) {
        float alpha, beta;
        if ((st = td_attr_int(n, "transA", 0, &l->trans_a, err)) ||
            (st = td_attr_int(n, "transB", 0, &l->trans_b, err)) ||
            (st = td_attr_float(n, "alpha", 1.0f, &alpha, err)) ||
            (st = td_attr_float(n, "beta", 1.0f, &beta, err)))
            return st;
        l->alpha = alpha;
        l->beta = beta;
        l->has_bias = n->n_input > 2 && n->input[2][0];
    }
    /* The effective weight is K x N: B, or B^T under transB. */
    l->cin = l->trans_b ? l->weight->dims[1] : l->weight->dims[0];
    l->cout = l->trans_b ? l->weight->dims[0] : l->weight->dims[1];
    l->cin_g = l->cin;
    *ok = l->cin > 1 && l->cout > 1;
    if (!*ok)
        *why = "weight has a dimension of 1";
    return TD_OK;
}

int64_t td_layer_kernel_size(const td_layer *l)
{
    int64_t k = 1;
    for (int s = 0; s < l->nsp; s++)
        k *= l->k[s];
    return k;
}

int64_t td_layer_params(const td_layer *l)
{
    return l->cout * l->cin_g * td_layer_kernel_size(l) +
           (l->has_bias ? l->cout : 0);
}

static int64_t pixels(const int64_t *sp, int nsp)
{
    int64_t p = 1;
    for (int s = 0; s < nsp; s++) {
        if (sp[s] < 0)
            return -1;
        p *= sp[s];
    }
    return p;
}

int64_t td_layer_out_pixels(const td_layer *l)
{
    return pixels(l->out_sp, l->nsp);
}

int64_t td_layer_in_pixels(const td_layer *l)
{
    return pixels(l->in_sp, l->nsp);
}

td_status td_layer_check_counts(const td_layer *l, td_err_t *err)
{
    /* The CP and TR chains run one axis at a time: their pixel counts mix
     * output sizes (axes done) and input sizes (axes to do); the largest of
     * the two per axis bounds every mix. */
    int64_t mixed = 1, macs = 1;
    for (int s = 0; s < l->nsp; s++) {
        int64_t in = l->in_sp[s], out = l->out_sp[s];
        int64_t big = in > out ? in : out;
        if (big >= 0 && td_mul_i64(mixed, big, &mixed))
            return bad(l, err, "the spatial sizes (from the model or options.dims) "
                       "give a pixel count that overflows int64");
    }
    if (l->batch > 1 && td_mul_i64(mixed, l->batch, &mixed))
        return bad(l, err, "the batch size times the pixel count overflows "
                   "int64");
    int64_t px = l->nsp ? td_layer_out_pixels(l) : 1;
    if (px >= 0 && (td_mul_i64(px, l->cout, &macs) ||
                    td_mul_i64(macs, l->cin_g, &macs) ||
                    td_mul_i64(macs, td_layer_kernel_size(l), &macs)))
        return bad(l, err, "the MAC count (output pixels from the model or "
                   "options.dims, times the weight's size) overflows int64");
    return TD_OK;
}

int64_t td_layer_macs(const td_layer *l)
{
    /* Gemm/MatMul: per row of the input (the batch of rows is unknown). */
    int64_t px = l->nsp ? td_layer_out_pixels(l) : 1;
    if (px < 0)
        return -1;
    return px * l->cout * l->cin_g * td_layer_kernel_size(l);
}

void td_layer_set_rows(td_layer *l, const int64_t *d, size_t nd)
{
    /* Gemm's transA input is K x M; otherwise K is the last dim */
    size_t k_axis = l->kind == TD_LAYER_GEMM && l->trans_a ? 0 : nd - 1;
    int64_t rows = 1;
    l->batch = 0;
    if (!d || nd < 1)
        return;
    for (size_t q = 0; q < nd; q++) {
        if (q == k_axis)
            continue;
        if (d[q] <= 0 || td_mul_i64(rows, d[q], &rows))
            return;
    }
    l->batch = rows;
}

int64_t td_layer_bias_params(const td_layer *l)
{
    return l->has_bias ? l->cout : 0;
}

int64_t td_layer_kernel_extent_sum(const td_layer *l)
{
    int64_t s = 0;
    for (int i = 0; i < l->nsp; i++)
        s += l->k[i];
    return s;
}

int64_t td_layer_pixels_after_axis(const td_layer *l, int s)
{
    int64_t p = 1;
    for (int t = 0; t < l->nsp; t++) {
        int64_t d = t <= s ? l->out_sp[t] : l->in_sp[t];
        if (d < 0)
            return -1;
        p *= d;
    }
    return p;
}
