/* The whole chain's refit, graph side: which chains' first factor is a
 * pointwise map reading the chain's input at the output's positions, and
 * both factors written back; see td_calib_refit.h and td_refit.h. */
#include <stdlib.h>
#include <string.h>

#include "calib/td_calib_refit.h"
#include "graph/td_tensor.h"

/* The largest input a chain is refitted whole for: the sums of the 4
 * folds and their total then take at most 5 x 2048^2 doubles (168 MB)
 * beside the cout x cin cross terms. */
#define WHOLE_MAX_IN 2048

/* 1 when the Conv n is 1x1 of group 1 with unit strides, no padding and
 * no bias: its output has its input's positions. */
static int pointwise_conv(const Onnx__NodeProto *n, const Onnx__TensorProto *w)
{
    int64_t group = 1;
    const int64_t *v;
    size_t k;
    char pad[16];
    td_err_t ignored;
    if (w->n_dims < 3 || (n->n_input >= 3 && n->input[2][0]) ||
        td_attr_int(n, "group", 1, &group, &ignored) || group != 1 ||
        td_attr_string(n, "auto_pad", "NOTSET", pad, sizeof pad, &ignored) ||
        (strcmp(pad, "NOTSET") && strcmp(pad, "VALID")))
        return 0;
    for (size_t d = 2; d < w->n_dims; d++)
        if (w->dims[d] != 1)
            return 0;
    if (td_attr_ints(n, "strides", &v, &k, &ignored))
        return 0;
    for (size_t q = 0; q < k; q++)
        if (v[q] != 1)
            return 0;
    if (td_attr_ints(n, "pads", &v, &k, &ignored))
        return 0;
    for (size_t q = 0; q < k; q++)
        if (v[q] != 0)
            return 0;
    return 1;
}

/* 1 when the Gemm n reads A untransposed, has alpha 1 and a C that is
 * absent or a constant zero (opset < 11 needs one). */
static int plain_gemm(td_graph *g, const Onnx__NodeProto *n, int64_t *trans_b)
{
    int64_t ta = 0;
    float alpha = 1;
    td_err_t ignored;
    if (td_attr_int(n, "transA", 0, &ta, &ignored) || ta ||
        td_attr_float(n, "alpha", 1, &alpha, &ignored) || alpha != 1 ||
        td_attr_int(n, "transB", 0, trans_b, &ignored))
        return 0;
    if (n->n_input < 3 || !n->input[2][0])
        return 1;
    const Onnx__TensorProto *c = td_graph_constant(g, n->input[2]);
    double *v = NULL;
    int64_t nv = 0;
    int zero = c && td_tensor_to_double(c, &v, &nv, &ignored) == TD_OK;
    for (int64_t q = 0; zero && q < nv; q++)
        zero = v[q] == 0;
    free(v);
    return zero;
}

const char *td_refit_target_input(const td_refit_target *t)
{
    return t->x ? t->x : t->z;
}

td_status td_refit_target_whole(td_graph *g, td_refit_target *t,
                                td_err_t *err)
{
    size_t uses[2];
    int64_t at = td_graph_producer(g, t->z);
    if (at < 0 || td_graph_is_output(g, t->z) ||
        td_graph_consumers(g, t->z, uses, 2) != 1)
        return TD_OK;
    const Onnx__NodeProto *n = td_graph_node(g, (size_t)at);
    const Onnx__TensorProto *w =
        n->n_input >= 2 ? td_graph_constant(g, n->input[1]) : NULL;
    if (!w || w->data_type != t->dtype || w->n_dims < 2 ||
        !n->input[0][0] || td_graph_is_input(g, n->input[0]) ||
        td_graph_producer(g, n->input[0]) < 0)
        return TD_OK;
    int64_t trans_b = 0, cin;
    td_refit_kind kind;
    if (!strcmp(n->op_type, "Conv") && t->kind == TD_REFIT_CONV) {
        if (!pointwise_conv(n, w) || w->dims[0] != t->r)
            return TD_OK;
        kind = TD_REFIT_CONV;
        cin = w->dims[1];
    } else if (!strcmp(n->op_type, "MatMul") && t->kind == TD_REFIT_MATMUL) {
        if (w->n_dims != 2 || w->dims[1] != t->r)
            return TD_OK;
        kind = TD_REFIT_MATMUL;
        cin = w->dims[0];
    } else if (!strcmp(n->op_type, "Gemm") && t->kind == TD_REFIT_GEMM) {
        if (w->n_dims != 2 || !plain_gemm(g, n, &trans_b) ||
            w->dims[trans_b ? 0 : 1] != t->r)
            return TD_OK;
        kind = TD_REFIT_GEMM;
        cin = w->dims[trans_b ? 1 : 0];
    } else {
        return TD_OK;
    }
    /* a chain that keeps every direction gains nothing from choosing them;
     * past WHOLE_MAX_IN input channels the sums (cin x cin per fold and in
     * total) outgrow what a refit should hold (a VGG head's 25088: 25 GB) */
    if (t->r >= cin || t->r >= t->cout || cin > WHOLE_MAX_IN)
        return TD_OK;
    double *v = NULL, *f0 = NULL;
    int64_t nv = 0;
    td_status s = td_tensor_to_double(w, &v, &nv, err);
    if (s)
        return s;
    f0 = malloc((size_t)(t->r * cin) * sizeof *f0);
    t->g0 = malloc((size_t)(t->cout * cin) * sizeof *t->g0);
    if (!f0 || !t->g0) {
        free(v);
        free(f0);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    /* the chain as it is: G0 = A0 F0 */
    td_refit_matrix_of(kind, (int)trans_b, 1.0, v, t->r, cin, f0);
    for (int64_t o = 0; o < t->cout; o++)
        for (int64_t i = 0; i < cin; i++) {
            double g = 0;
            for (int64_t q = 0; q < t->r; q++)
                g += t->a0[o * t->r + q] * f0[q * cin + i];
            t->g0[o * cin + i] = g;
        }
    free(v);
    free(f0);
    if ((s = td_refit_target_sums(t, cin, err)))
        return s;
    t->x = n->input[0];
    t->cin = cin;
    t->kind1 = kind;
    t->trans_b1 = (int)trans_b;
    return TD_OK;
}

td_status td_refit_target_write_whole(td_graph *g, td_refit_target *t,
                                      const double *left, const double *right,
                                      const double *b, td_err_t *err)
{
    size_t nr = (size_t)(t->r * t->cin);
    /* nothing is written unless every value fits */
    if (!td_refit_fits(t, right, nr) ||
        !td_refit_fits(t, left, (size_t)(t->cout * t->r)) ||
        (b && !td_refit_fits(t, b, (size_t)t->cout)))
        return TD_OK;
    int64_t at = td_graph_producer(g, t->z);
    const Onnx__NodeProto *n = at >= 0 ? td_graph_node(g, (size_t)at) : NULL;
    if (!n || n->n_input < 2 || strcmp(n->input[0], t->x)) {
        t->why = "the chain's first factor is no longer the node that "
                 "produces its inner value";
        return TD_OK;
    }
    double *wv = malloc(nr * sizeof *wv);
    if (!wv)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    td_refit_weight_of(t->kind1, t->trans_b1, 1.0, right, t->r, t->cin, wv);
    td_status s = td_refit_replace(g, t, (size_t)at, wv, nr, NULL, err);
    free(wv);
    if (s || t->why)
        return s;
    return td_refit_target_write(g, t, left, b, err);
}
