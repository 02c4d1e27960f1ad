/* Truncated SVD of a 1x1 Conv's (or a Gemm's / MatMul's) weight matrix:
 * two 1x1 convs (two Gemm / MatMul nodes) through r channels; per group,
 * at the largest rank of the groups. A group=1 conv with one input channel
 * (an STFT front end, a speech model's first conv) is the matrix
 * Cout x taps: a conv 1 -> r with the layer's kernel and geometry, then a
 * 1x1 conv r -> Cout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_cost.h"
#include "td_method.h"

static int applies(const td_layer *l)
{
    return l->kind != TD_LAYER_CONV || td_layer_kernel_size(l) == 1 ||
           (l->cin_g == 1 && l->group == 1);
}

/* Columns of each group's matrix: input channels x kernel taps (the taps
 * are 1 but for a one-input-channel conv, where applies() allows more). */
static int64_t columns(const td_layer *l)
{
    return l->kind == TD_LAYER_CONV ? l->cin_g * td_layer_kernel_size(l)
                                    : l->cin_g;
}

/* ranks: r */
static int64_t params(const td_layer *l, const int64_t *r)
{
    return l->group * r[0] * (columns(l) + l->cout / l->group) +
           td_layer_bias_params(l);
}

/* Gemm / MatMul: per row of the input, as td_layer_macs. */
static int64_t macs(const td_layer *l, const int64_t *r)
{
    if (l->kind != TD_LAYER_CONV)
        return td_sat_mul(r[0], l->cin + l->cout);
    int64_t in = td_layer_in_pixels(l), out = td_layer_out_pixels(l);
    if (in < 0 || out < 0)
        return -1;
    return td_sat_mul4(out, l->group, r[0], columns(l) + l->cout / l->group);
}

/* Two 1x1 convs, or two Gemm / MatMul nodes over the input's rows. */
static double seconds(const td_layer *l, const int64_t *r)
{
    int64_t in, out;
    if (l->kind != TD_LAYER_CONV) {
        int64_t rows = td_cost_rows(l);
        return td_cost_conv_seconds(l, l->cin, r[0], 1, 1, rows, rows) +
               td_cost_conv_seconds(l, r[0], l->cout, 1, 1, rows, rows);
    }
    if (!td_cost_pixels(l, &in, &out))
        return -1;
    int64_t g = l->group;
    return td_cost_conv_seconds(l, l->cin, g * r[0], g,
                                td_layer_kernel_size(l), in, out) +
           td_cost_conv_seconds(l, g * r[0], l->cout, g, 1, out, out);
}

static td_status factor_group(const td_layer *l, const double *wj, int64_t j,
                              const td_factor_request *b, const void *ctx,
                              td_factors *f, double *rel_error, td_err_t *err)
{
    int64_t rank = *(const int64_t *)ctx;
    td_svd_t *v = &f->svd[j];
    int tol = b->kind == TD_BUDGET_TOL;
    int64_t m = l->cout / l->group, n = columns(l);
    td_status s;
    if (b->metric && b->whiten && l->group == 1 &&
        l->kind != TD_LAYER_CONV) {
        /* feeding a softmax: truncated in its metric (svd_metric.c) */
        double *kb = malloc((size_t)n * (size_t)n * sizeof *kb);
        if (!kb)
            return td_err_set(err, TD_ENOMEM, "out of memory");
        s = td_metric_blend(b->whiten[0].s, b->metric, wj, m, n,
                            b->metric_mu, kb, err);
        if (!s)
            s = td_svd_metric(wj, m, n, kb, tol ? 0 : rank, tol ? b->tol : 0,
                              v, err);
        free(kb);
    } else {
        s = td_svd(wj, m, n, tol ? 0 : rank, tol ? b->tol : 0, v, err);
    }
    *rel_error = v->rel_error;
    return s;
}

static td_status factor(const td_layer *l, const double *w, const td_factor_request *b,
                        const td_whiten_t *wh, td_factors *f, td_err_t *err)
{
    if (!(f->svd = calloc((size_t)l->group, sizeof *f->svd)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    f->taps = columns(l) / l->cin_g;  /* before unwhiten needs it */
    int64_t rank = td_factor_linear_rank(l, b, params(l, (int64_t[1]){1}));
    td_status s = td_factor_each_group(l, w, b, wh, factor_group, &rank, f,
                                       err);
    if (s)
        return s;
    f->n_ranks = 1;
    for (int64_t j = 0; j < l->group; j++)
        f->ranks[0] = f->svd[j].rank > f->ranks[0] ? f->svd[j].rank
                                                   : f->ranks[0];
    f->params = params(l, f->ranks);
    return TD_OK;
}

static td_status unwhiten(td_factors *f, int64_t j, const td_whiten_t *wh,
                          td_err_t *err)
{
    td_status s = td_factor_mode1_inplace(f->svd[j].right, f->svd[j].rank,
                                          wh->n, f->taps, wh->s_inv, err);
    return s ? s : td_taps_mul(&wh->taps, 1, f->svd[j].right,
                               f->svd[j].rank * wh->n, err);
}

/* Every tap of a channel sees the same constant: mu repeated per tap. */
static td_status const_response(const td_factors *f, int64_t j,
                                const double *mu, double *out, td_err_t *err)
{
    const td_svd_t *v = &f->svd[j];
    if (f->taps == 1)
        return td_svd_const_response(v, mu, out, err);
    double *rep = malloc((size_t)v->n * sizeof *rep);
    if (!rep)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (int64_t i = 0; i < v->n; i++)
        rep[i] = mu[i / f->taps];
    td_status s = td_svd_const_response(v, rep, out, err);
    free(rep);
    return s;
}

static void free_factors(td_factors *f)
{
    for (int j = 0; f->svd && j < f->groups; j++)
        td_svd_free(&f->svd[j]);
    free(f->svd);
    f->svd = NULL;
}

static void emit_conv(td_chain *c, const td_factors *f)
{
    const td_layer *l = c->l;
    int64_t g = l->group, cg = l->cout / g, ci = columns(l), R = f->ranks[0];
    double *w1 = td_chain_zeros(c, (size_t)(g * R * ci));
    double *w2 = td_chain_zeros(c, (size_t)(l->cout * R));
    if (c->st)
        goto out;
    for (int64_t j = 0; j < g; j++) {
        const td_svd_t *v = &f->svd[j];
        for (int64_t q = 0; q < v->rank; q++) {
            for (int64_t i = 0; i < ci; i++)
                w1[(j * R + q) * ci + i] = v->right[q * ci + i];
            for (int64_t o = 0; o < cg; o++)
                w2[(j * cg + o) * R + q] = v->left[o * v->rank + q];
        }
    }
    int64_t d[2 + TD_MAX_SPATIAL];
    /* The first conv carries the kernel, stride and pads: its padded border
     * is zero before the bias, and the bias rides on the second conv. */
    size_t nd = td_chain_conv_dims(l, g * R, l->cin_g,
                                   f->taps > 1 ? TD_CHAIN_ALL_AXES
                                               : TD_CHAIN_NO_GEOMETRY, d);
    const char *x = td_chain_conv(c, "td1", l->node->input[0],
                                  td_chain_weight(c, "td1_w", d, nd, w1), NULL,
                                  g, TD_CHAIN_ALL_AXES, g * R, NULL);
    nd = td_chain_conv_dims(l, l->cout, R, TD_CHAIN_NO_GEOMETRY, d);
    td_chain_conv(c, "td2", x, td_chain_weight(c, "td2_w", d, nd, w2),
                  td_chain_bias(c, f), g, TD_CHAIN_NO_GEOMETRY, l->cout,
                  l->node->output[0]);
out:
    free(w1);
    free(w2);
}

static void emit_matrix(td_chain *c, const td_factors *f)
{
    const td_layer *l = c->l;
    const td_svd_t *v = &f->svd[0];
    int64_t r = v->rank, K = l->cin, N = l->cout;
    double *l1 = td_chain_zeros(c, (size_t)(K * r));
    double *l2 = td_chain_zeros(c, (size_t)(r * N));
    if (c->st)
        goto out;
    /* M (N x K) ~= left right, and the weight is M^T = right^T left^T. */
    for (int64_t k = 0; k < K; k++)
        for (int64_t q = 0; q < r; q++)
            l1[k * r + q] = v->right[q * K + k];
    for (int64_t q = 0; q < r; q++)
        for (int64_t nn = 0; nn < N; nn++)
            l2[q * N + nn] = v->left[nn * r + q];
    int64_t d1[2] = {K, r}, d2[2] = {r, N};
    const char *w1 = td_chain_weight(c, "td1_w", d1, 2, l1);
    const char *w2 = td_chain_weight(c, "td2_w", d2, 2, l2);
    const char *n1 = td_chain_fresh(c, "td1"), *n2 = td_chain_fresh(c, "td2");
    const char *mid = td_chain_fresh(c, "td1_out");
    if (c->st || !w1 || !w2 || !n1 || !n2 || !mid)
        goto out;
    const char *out = l->node->output[0];
    if (l->kind == TD_LAYER_MATMUL) {
        /* a mean shift (td_whiten.h) is added after the chain */
        const char *bias = f->bias_shift ? td_chain_bias(c, f) : NULL;
        const char *nb = bias ? td_chain_fresh(c, "tdb_add") : NULL;
        const char *pre = bias ? td_chain_fresh(c, "td2_out") : out;
        if (c->st || (f->bias_shift && (!bias || !nb || !pre)))
            goto out;
        const char *i1[2] = {l->node->input[0], w1}, *i2[2] = {mid, w2};
        const char *i3[2] = {pre, bias};
        td_chain_add_node(c, td_node_new(c->g, "MatMul", n1, i1, 2, &mid, 1));
        td_chain_add_node(c, td_node_new(c->g, "MatMul", n2, i2, 2, &pre, 1));
        if (bias)
            td_chain_add_node(c, td_node_new(c->g, "Add", nb, i3, 2, &out, 1));
    } else {
        const char *zero = NULL;
        if (c->opset < 11) {
            /* Gemm's C input is optional only from opset 11 on. */
            double *z = td_chain_zeros(c, (size_t)r);
            int64_t dz = r;
            zero = z ? td_chain_weight(c, "td1_c", &dz, 1, z) : NULL;
            free(z);
        }
        /* C, with the mean shift where there is one (td_whiten.h) */
        const char *bias = td_chain_bias(c, f);
        if (c->st)
            goto out;
        const char *i1[3] = {l->node->input[0], w1, zero};
        const char *i2[3] = {mid, w2, bias};
        Onnx__NodeProto *g1 = td_node_new(c->g, "Gemm", n1, i1, zero ? 3 : 2, &mid, 1);
        Onnx__NodeProto *g2 = td_node_new(c->g, "Gemm", n2, i2,
                                          bias ? 3 : 2, &out, 1);
        if (!g1 || !g2 || (l->trans_a && td_node_set_int(c->g, g1, "transA", 1)) ||
            (l->alpha != 1.0f && td_node_set_float(c->g, g2, "alpha", l->alpha)) ||
            (l->has_bias && l->beta != 1.0f &&
             td_node_set_float(c->g, g2, "beta", l->beta))) {
            c->st = TD_ENOMEM;
            goto out;
        }
        /* Gemm-1..6 broadcast C only under broadcast=1: the first Gemm's
         * zero C is a vector, the second keeps what the layer said. */
        int64_t bc = 0;
        td_err_t ignored;
        if (c->opset < 7 &&
            (td_node_set_int(c->g, g1, "broadcast", 1) ||
             (td_attr_int(l->node, "broadcast", 0, &bc, &ignored) == TD_OK &&
              bc && td_node_set_int(c->g, g2, "broadcast", bc)))) {
            c->st = TD_ENOMEM;
            goto out;
        }
        td_chain_add_node(c, g1);
        td_chain_add_node(c, g2);
    }
    for (size_t q = 0; q < c->n; q++)
        if (!c->nodes[q])
            c->st = TD_ENOMEM;
out:
    free(l1);
    free(l2);
}

static void emit(td_chain *c, const td_factors *f)
{
    if (c->l->kind == TD_LAYER_CONV)
        emit_conv(c, f);
    else
        emit_matrix(c, f);
}

const td_method_ops td_method_svd = {
    .id = TD_SVD, .name = "svd", .applies = applies,
    .params = params, .macs = macs, .seconds = seconds, .factor = factor,
    .unwhiten = unwhiten, .const_response = const_response, .emit = emit,
    .free = free_factors,
};
