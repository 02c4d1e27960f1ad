/* BatchNormalization folding: a Conv whose only reader is an inference-mode
 * BatchNormalization with constant parameters becomes one Conv with
 *   W'[o] = W[o] * s[o],  b'[o] = (b[o] - mean[o]) * s[o] + beta[o],
 *   s = scale / sqrt(var + epsilon),
 * computed in double and stored in the weight's dtype. Factoring the folded
 * weight gives one chain instead of a chain plus a normalisation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/td_tensor.h"
#include "td_passes.h"

static int is_op(const Onnx__NodeProto *n, const char *op)
{
    return n->op_type && !strcmp(n->op_type, op) &&
           (!n->domain || !n->domain[0] || !strcmp(n->domain, "ai.onnx"));
}

/* Decodes a constant 1-D tensor of exactly n values into *v; *v is NULL
 * (and the status TD_OK) when it is not one. Out of memory is an error, not
 * a reason to leave the BN unfolded. */
static td_status vec(td_graph *g, const char *name, int64_t n, double **v,
                     td_err_t *err)
{
    *v = NULL;
    const Onnx__TensorProto *t = td_graph_constant(g, name);
    if (!t || !td_dtype_is_float(t->data_type) || td_tensor_numel(t) != n)
        return TD_OK;
    int64_t got;
    if (td_tensor_to_double(t, v, &got, NULL) == TD_ENOMEM)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    return TD_OK;
}

/* Folds the BatchNormalization after Conv node i when possible. */
/* Names of tensors a fold made unused; removed after the scan, since removing
 * a Constant node would shift the indices the scan walks. */
struct stale {
    const char **names;
    size_t n, cap;
};

static int stale_add(struct stale *st, const char *name)
{
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        const char **p = realloc(st->names, cap * sizeof *p);
        if (!p)
            return -1;
        st->names = p;
        st->cap = cap;
    }
    st->names[st->n++] = name;
    return 0;
}

static td_status fold_one(td_graph *g, size_t i, int *folded,
                          struct stale *st, td_err_t *err)
{
    const Onnx__NodeProto *conv = td_graph_node(g, i);
    *folded = 0;
    if (!is_op(conv, "Conv") || conv->n_output != 1 || conv->n_input < 2)
        return TD_OK;
    const char *y = conv->output[0];
    size_t bn_i;
    if (td_graph_is_output(g, y) || td_graph_use_count(g, y) != 1 ||
        td_graph_consumers(g, y, &bn_i, 1) != 1)
        return TD_OK;
    const Onnx__NodeProto *bn = td_graph_node(g, bn_i);
    if (!is_op(bn, "BatchNormalization") || bn->n_input != 5 ||
        strcmp(bn->input[0], y) != 0)
        return TD_OK;
    for (size_t k = 1; k < bn->n_output; k++)
        if (bn->output[k][0])
            return TD_OK;  /* training outputs are read: leave it */
    int64_t training = 0, spatial = 1;
    float eps = 1e-5f;
    if (td_attr_int(bn, "training_mode", 0, &training, NULL) || training ||
        td_attr_int(bn, "spatial", 1, &spatial, NULL) || spatial != 1 ||
        td_attr_float(bn, "epsilon", 1e-5f, &eps, NULL))
        return TD_OK;
    const Onnx__TensorProto *wt = td_graph_constant(g, conv->input[1]);
    if (!wt || !td_dtype_is_float(wt->data_type) || wt->n_dims < 3)
        return TD_OK;
    int64_t cout = wt->dims[0];
    int has_bias = conv->n_input > 2 && conv->input[2][0];
    double *sc = NULL, *be = NULL, *mu = NULL, *var = NULL, *b = NULL;
    double *w = NULL;
    int64_t n = 0;
    td_status s;
    if ((s = vec(g, bn->input[1], cout, &sc, err)) ||
        (s = vec(g, bn->input[2], cout, &be, err)) ||
        (s = vec(g, bn->input[3], cout, &mu, err)) ||
        (s = vec(g, bn->input[4], cout, &var, err)) ||
        (has_bias && (s = vec(g, conv->input[2], cout, &b, err))))
        goto done;
    if (!has_bias && !(b = calloc((size_t)cout, sizeof *b))) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    if (!sc || !be || !mu || !var || !b)
        goto done;  /* not constant, or not one value per channel */
    if ((s = td_tensor_to_double(wt, &w, &n, err)))
        goto done;
    int64_t per = n / cout;
    for (int64_t o = 0; o < cout; o++) {
        double f = sc[o] / sqrt(var[o] + (double)eps);
        for (int64_t q = 0; q < per; q++)
            w[o * per + q] *= f;
        b[o] = (b[o] - mu[o]) * f + be[o];
    }
    td_arena *a = td_graph_arena(g);
    char base[512];
    const char *cname = conv->name && conv->name[0] ? conv->name : y;
    snprintf(base, sizeof base, "%s_bnfold_w", cname);
    const char *wn = td_graph_unique_name(g, base);
    snprintf(base, sizeof base, "%s_bnfold_b", cname);
    const char *bnm = td_graph_unique_name(g, base);
    Onnx__TensorProto *tw = wn ? td_tensor_from_double(a, wn, wt->data_type,
                                                        wt->dims, wt->n_dims, w) : NULL;
    Onnx__TensorProto *tb = bnm ? td_tensor_from_double(a, bnm, wt->data_type,
                                                         &cout, 1, b) : NULL;
    Onnx__NodeProto *nc = td_arena_memdup(a, conv, sizeof *conv);
    const char **ins = td_arena_calloc(a, 3, sizeof *ins);
    const char **outs = td_arena_calloc(a, 1, sizeof *outs);
    if (!tw || !tb || !nc || !ins || !outs) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    ins[0] = conv->input[0];
    ins[1] = wn;
    ins[2] = bnm;
    outs[0] = bn->output[0];
    nc->input = (char **)ins;
    nc->n_input = 3;
    nc->output = (char **)outs;
    nc->n_output = 1;
    const char *old[6] = {conv->input[1], has_bias ? conv->input[2] : NULL,
                          bn->input[1], bn->input[2], bn->input[3], bn->input[4]};
    if ((s = td_graph_add_init(g, tw, err)) || (s = td_graph_add_init(g, tb, err)))
        goto done;
    /* The BN node comes after the conv; remove it first so i stays valid. */
    if ((s = td_graph_replace_node(g, bn_i, NULL, 0, err)) ||
        (s = td_graph_replace_node(g, i, &nc, 1, err)))
        goto done;
    td_graph_drop_value_info(g, y);
    for (int k = 0; k < 6; k++)
        if (old[k] && stale_add(st, old[k])) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto done;
        }
    *folded = 1;
done:
    free(sc);
    free(be);
    free(mu);
    free(var);
    free(b);
    free(w);
    return s;
}

td_status td_pass_fold_bn(td_graph *g, const td_node_filter *filter,
                          size_t *count, td_err_t *err)
{
    *count = 0;
    struct stale st = {0};
    td_status s = TD_OK;
    for (size_t i = 0; i < td_graph_node_count(g); i++) {
        if (filter && !filter->accept(filter->ctx, td_graph_node(g, i)))
            continue;
        int folded;
        if ((s = fold_one(g, i, &folded, &st, err)))
            break;
        *count += (size_t)folded;
    }
    for (size_t k = 0; k < st.n; k++)
        td_graph_remove_if_unused(g, st.names[k]);
    free(st.names);
    return s;
}
