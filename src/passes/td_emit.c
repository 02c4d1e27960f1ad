#include "td_emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/td_tensor.h"

/* What one chain needs while it is built. */
struct chain {
    td_graph *g;
    const td_layer *l;
    Onnx__NodeProto *nodes[TD_MAX_SPATIAL + 6];
    size_t n;
    td_status st;
    td_err_t *err;
};

static const char *fresh(struct chain *c, const char *suffix)
{
    char base[512];
    snprintf(base, sizeof base, "%s_%s", c->l->name, suffix);
    const char *nm = td_graph_unique_name(c->g, base);
    if (!nm && !c->st)
        c->st = td_err_set(c->err, TD_ENOMEM, "out of memory");
    return nm;
}

/* Does the raw little-endian tensor hold only finite values? A factor the
 * dtype cannot hold would become Inf here; td_fit_dtype refuses such
 * layers before, so this guards the writer, not the numbers. */
static int all_finite(const Onnx__TensorProto *t)
{
    int bits = td_dtype_bits(t->data_type);
    size_t nb = (size_t)bits / 8, n = nb >= 2 ? t->raw_data.len / nb : 0;
    /* the exponent field within the top 16 bits; all ones is Inf or NaN */
    unsigned mask = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ? 0x7c00u
                    : bits == 64 ? 0x7ff0u : 0x7f80u;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = t->raw_data.data + i * nb;
        unsigned top = (unsigned)p[nb - 1] << 8 | p[nb - 2];
        if ((top & mask) == mask)
            return 0;
    }
    return 1;
}

/* A weight initializer (dims given) from doubles, in the layer's dtype. */
static const char *weight(struct chain *c, const char *suffix,
                          const int64_t *dims, size_t nd, const double *v)
{
    const char *nm = fresh(c, suffix);
    if (!nm)
        return NULL;
    Onnx__TensorProto *t = td_tensor_from_double(td_graph_arena(c->g), nm,
                                                 c->l->dtype, dims, nd, v);
    if (t && !all_finite(t)) {
        if (!c->st)
            c->st = td_err_set(c->err, TD_ENUMERIC, "node '%s': factor '%s' "
                               "does not fit %s", c->l->name, nm,
                               td_dtype_name(c->l->dtype));
        return NULL;
    }
    if (!t || td_graph_add_init(c->g, t, c->err)) {
        if (!c->st)
            c->st = td_err_set(c->err, TD_ENOMEM, "out of memory");
        return NULL;
    }
    return nm;
}

/* Conv weight dims: (co, ci, 1, ..., 1) with kernel k at axis `axis` (or all
 * axes from the layer when axis == -2, or none when axis == -1). */
static size_t conv_dims(const td_layer *l, int64_t co, int64_t ci, int axis,
                        int64_t *dims)
{
    dims[0] = co;
    dims[1] = ci;
    for (int s = 0; s < l->nsp; s++)
        dims[2 + s] = axis == -2 ? l->k[s] : axis == s ? l->k[s] : 1;
    return 2 + (size_t)l->nsp;
}

/* A Conv node. axis: -1 for a 1x1 conv without geometry, -2 for one with
 * all of the layer's geometry, s >= 0 for one carrying only axis s's. */
static const char *conv(struct chain *c, const char *suffix, const char *in,
                        const char *w, const char *b, int64_t group, int axis,
                        int64_t co, const char *out)
{
    if (c->st || !in || !w)
        return NULL;
    const td_layer *l = c->l;
    const char *name = fresh(c, suffix);
    if (!out) {
        char sfx[64];
        snprintf(sfx, sizeof sfx, "%s_out", suffix);
        out = fresh(c, sfx);
    }
    if (!name || !out)
        return NULL;
    const char *ins[3] = {in, w, b};
    Onnx__NodeProto *n = td_node_new(c->g, "Conv", name, ins, b ? 3 : 2, &out, 1);
    int64_t k[TD_MAX_SPATIAL], st[TD_MAX_SPATIAL], dl[TD_MAX_SPATIAL],
        pads[2 * TD_MAX_SPATIAL];
    int ns = l->nsp;
    for (int s = 0; s < ns; s++) {
        int mine = axis == -2 || axis == s;
        k[s] = mine ? l->k[s] : 1;
        st[s] = mine ? l->strides[s] : 1;
        dl[s] = mine ? l->dilations[s] : 1;
        pads[s] = mine ? l->pads[s] : 0;
        pads[ns + s] = mine ? l->pads[ns + s] : 0;
    }
    int geometric = axis != -1;
    int auto_pad = geometric && strcmp(l->auto_pad, "NOTSET") != 0;
    td_status s = !n ? TD_ENOMEM : TD_OK;
    if (!s)
        s = td_node_set_ints(c->g, n, "kernel_shape", k, (size_t)ns);
    if (!s && group != 1)
        s = td_node_set_int(c->g, n, "group", group);
    if (!s && geometric)
        s = td_node_set_ints(c->g, n, "strides", st, (size_t)ns);
    if (!s && geometric)
        s = td_node_set_ints(c->g, n, "dilations", dl, (size_t)ns);
    if (!s && auto_pad)
        s = td_node_set_string(c->g, n, "auto_pad", l->auto_pad);
    if (!s && geometric && !auto_pad)
        s = td_node_set_ints(c->g, n, "pads", pads, 2 * (size_t)ns);
    if (s) {
        c->st = td_err_set(c->err, TD_ENOMEM, "out of memory");
        return NULL;
    }
    c->nodes[c->n++] = n;
    /* Channels are known; batch and spatial sizes are left to runtimes. */
    if (out != l->node->output[0]) {
        int64_t dims[2 + TD_MAX_SPATIAL];
        dims[0] = -1;
        dims[1] = co;
        for (int q = 0; q < ns; q++)
            dims[2 + q] = -1;
        if (td_graph_add_value_info(c->g, out, l->dtype, dims, 2 + (size_t)ns,
                                    c->err))
            c->st = TD_ENOMEM;
    }
    return out;
}

static double *zeros(struct chain *c, size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p && !c->st)
        c->st = td_err_set(c->err, TD_ENOMEM, "out of memory");
    return p;
}

/* The chain's bias: the layer's, or, when the factors shifted the mean
 * output (f->bias_shift), a new one holding it plus the shift. */
static const char *bias_of(struct chain *c, const td_factors *f)
{
    const td_layer *l = c->l;
    const char *b = l->has_bias ? l->node->input[2] : NULL;
    if (!f->bias_shift || c->st)
        return b;
    double *v = NULL;
    int64_t n = 0;
    if (b) {
        const Onnx__TensorProto *t = td_graph_constant(c->g, b);
        if (!t) {
            c->st = td_err_set(c->err, TD_EINPUT, "node '%s': bias '%s' is "
                               "not a constant", l->name, b);
            return NULL;
        }
        if ((c->st = td_tensor_to_double(t, &v, &n, c->err)))
            return NULL;
        if (n != l->cout) {
            free(v);
            c->st = td_err_set(c->err, TD_EINPUT, "node '%s': bias '%s' has "
                               "%lld values for %lld outputs", l->name, b,
                               (long long)n, (long long)l->cout);
            return NULL;
        }
    } else if (!(v = calloc((size_t)l->cout, sizeof *v))) {
        c->st = td_err_set(c->err, TD_ENOMEM, "out of memory");
        return NULL;
    }
    for (int64_t o = 0; o < l->cout; o++)
        v[o] += f->bias_shift[o];
    const char *nm = weight(c, "tdb", &l->cout, 1, v);
    free(v);
    return nm;
}

static void emit_tucker2(struct chain *c, const td_factors *f)
{
    const td_layer *l = c->l;
    int64_t g = l->group, cg = l->cout / g, ci = l->cin_g;
    int64_t ro = f->ranks[0], ri = f->ranks[1], K = td_layer_kernel_size(l);
    double *w1 = zeros(c, (size_t)(g * ri * ci));
    double *w2 = zeros(c, (size_t)(g * ro * ri * K));
    double *w3 = zeros(c, (size_t)(l->cout * ro));
    if (c->st)
        goto out;
    for (int64_t j = 0; j < g; j++) {
        const td_tucker2_t *t = &f->tucker2[j];
        for (int64_t b = 0; b < t->r_in; b++)
            for (int64_t i = 0; i < ci; i++)
                w1[(j * ri + b) * ci + i] = t->u_in[i * t->r_in + b];
        for (int64_t a = 0; a < t->r_out; a++)
            for (int64_t b = 0; b < t->r_in; b++)
                memcpy(&w2[((j * ro + a) * ri + b) * K],
                       &t->core[(a * t->r_in + b) * K], (size_t)K * sizeof(double));
        for (int64_t o = 0; o < cg; o++)
            for (int64_t a = 0; a < t->r_out; a++)
                w3[(j * cg + o) * ro + a] = t->u_out[o * t->r_out + a];
    }
    int64_t d[2 + TD_MAX_SPATIAL];
    size_t nd;
    nd = conv_dims(l, g * ri, ci, -1, d);
    const char *x = conv(c, "td1", l->node->input[0], weight(c, "td1_w", d, nd, w1),
                         NULL, g, -1, g * ri, NULL);
    nd = conv_dims(l, g * ro, ri, -2, d);
    x = conv(c, "td2", x, weight(c, "td2_w", d, nd, w2), NULL, g, -2, g * ro, NULL);
    nd = conv_dims(l, l->cout, ro, -1, d);
    conv(c, "td3", x, weight(c, "td3_w", d, nd, w3), bias_of(c, f), g, -1, l->cout,
         l->node->output[0]);
out:
    free(w1);
    free(w2);
    free(w3);
}

static void emit_cp(struct chain *c, const td_factors *f)
{
    const td_layer *l = c->l;
    int64_t g = l->group, cg = l->cout / g, ci = l->cin_g, R = f->ranks[0];
    double *w1 = zeros(c, (size_t)(g * R * ci));
    double *wl = zeros(c, (size_t)(l->cout * R));
    double *ws[TD_MAX_SPATIAL] = {0};
    for (int s = 0; s < l->nsp; s++)
        ws[s] = zeros(c, (size_t)(g * R * l->k[s]));
    if (c->st)
        goto out;
    for (int64_t j = 0; j < g; j++) {
        const td_cp_t *p = &f->cp[j];
        int64_t r = p->rank;
        for (int64_t q = 0; q < r; q++) {
            for (int64_t i = 0; i < ci; i++)
                w1[(j * R + q) * ci + i] = p->factors[1][i * r + q];
            for (int64_t o = 0; o < cg; o++)
                wl[(j * cg + o) * R + q] = p->factors[0][o * r + q];
            for (int s = 0; s < l->nsp; s++)
                for (int64_t k = 0; k < l->k[s]; k++)
                    ws[s][(j * R + q) * l->k[s] + k] = p->factors[2 + s][k * r + q];
        }
    }
    int64_t d[2 + TD_MAX_SPATIAL];
    size_t nd = conv_dims(l, g * R, ci, -1, d);
    const char *x = conv(c, "td1", l->node->input[0],
                         weight(c, "td1_w", d, nd, w1), NULL, g, -1, g * R, NULL);
    for (int s = 0; s < l->nsp; s++) {
        char sfx[16], wsfx[16];
        snprintf(sfx, sizeof sfx, "td%d", s + 2);
        snprintf(wsfx, sizeof wsfx, "td%d_w", s + 2);
        nd = conv_dims(l, g * R, 1, s, d);
        x = conv(c, sfx, x, weight(c, wsfx, d, nd, ws[s]), NULL, g * R, s, g * R,
                 NULL);
    }
    nd = conv_dims(l, l->cout, R, -1, d);
    char sfx[16];
    snprintf(sfx, sizeof sfx, "td%d", l->nsp + 2);
    conv(c, sfx, x, weight(c, "tdl_w", d, nd, wl), bias_of(c, f), g, -1, l->cout,
         l->node->output[0]);
out:
    free(w1);
    free(wl);
    for (int s = 0; s < TD_MAX_SPATIAL; s++)
        free(ws[s]);
}

static void emit_svd_conv(struct chain *c, const td_factors *f)
{
    const td_layer *l = c->l;
    int64_t g = l->group, cg = l->cout / g, ci = l->cin_g, R = f->ranks[0];
    double *w1 = zeros(c, (size_t)(g * R * ci));
    double *w2 = zeros(c, (size_t)(l->cout * R));
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
    /* The first conv carries stride and pads: a 1x1 conv's padded border is
     * zero before the bias, and the bias rides on the second conv. */
    size_t nd = conv_dims(l, g * R, ci, -1, d);
    const char *x = conv(c, "td1", l->node->input[0], weight(c, "td1_w", d, nd, w1),
                         NULL, g, -2, g * R, NULL);
    nd = conv_dims(l, l->cout, R, -1, d);
    conv(c, "td2", x, weight(c, "td2_w", d, nd, w2), bias_of(c, f), g, -1, l->cout,
         l->node->output[0]);
out:
    free(w1);
    free(w2);
}

static void emit_tr(struct chain *c, const td_factors *f)
{
    const td_layer *l = c->l;
    const td_tr_t *t = f->tr;
    const int64_t *R = t->ranks;
    int n = l->nsp + 2;
    int64_t b = R[1], ci = l->cin;
    td_arena *a = td_graph_arena(c->g);
    double *w1 = zeros(c, (size_t)(b * R[2] * ci));
    double *wl = zeros(c, (size_t)(l->cout * b * R[0]));
    if (c->st)
        goto out;
    /* Cin core G1[bb, i, cc] -> conv1 weight[(bb, cc), i]. */
    for (int64_t bb = 0; bb < b; bb++)
        for (int64_t i = 0; i < ci; i++)
            for (int64_t cc = 0; cc < R[2]; cc++)
                w1[(bb * R[2] + cc) * ci + i] = t->cores[1][(bb * ci + i) * R[2] + cc];
    /* Cout core G0[aa, o, bb] -> last weight[o, (bb, aa)]. */
    for (int64_t aa = 0; aa < R[0]; aa++)
        for (int64_t o = 0; o < l->cout; o++)
            for (int64_t bb = 0; bb < b; bb++)
                wl[o * b * R[0] + bb * R[0] + aa] = t->cores[0][(aa * l->cout + o) * b + bb];
    int64_t d[2 + TD_MAX_SPATIAL];
    size_t nd = conv_dims(l, b * R[2], ci, -1, d);
    const char *x = conv(c, "td1", l->node->input[0], weight(c, "td1_w", d, nd, w1),
                         NULL, 1, -1, b * R[2], NULL);
    const char *reps = NULL;
    if (b > 1) {
        int64_t rv[2 + TD_MAX_SPATIAL], rd = n;
        for (int q = 0; q < n; q++)
            rv[q] = q == 0 ? b : 1;
        reps = fresh(c, "td_reps");
        Onnx__TensorProto *rt = reps ? td_tensor_from_int64(a, reps, &rd, 1, rv) : NULL;
        if (!rt || td_graph_add_init(c->g, rt, c->err))
            c->st = c->st ? c->st : TD_ENOMEM;
    }
    for (int s = 0; s < l->nsp && !c->st; s++) {
        int m = 2 + s;
        int64_t rin = R[m], rout = R[(m + 1) % n], k = l->k[s];
        double *core = zeros(c, (size_t)(rout * rin * k));
        if (!core)
            break;
        /* Spatial core G[in, k, out] -> per-group kernel [out, in, k]; the
         * same kernel serves every one of the b ring slices. */
        for (int64_t o = 0; o < rout; o++)
            for (int64_t i = 0; i < rin; i++)
                for (int64_t q = 0; q < k; q++)
                    core[(o * rin + i) * k + q] = t->cores[m][(i * k + q) * rout + o];
        char sfx[16], wsfx[16];
        snprintf(sfx, sizeof sfx, "td%d", s + 2);
        snprintf(wsfx, sizeof wsfx, "td%d_core", s + 2);
        nd = conv_dims(l, rout, rin, s, d);
        const char *w = weight(c, wsfx, d, nd, core);
        free(core);
        if (w && b > 1) {
            /* Store the core once; Tile builds the grouped kernel, and
             * runtimes fold it at load (it is a constant expression). */
            char tsfx[24];
            snprintf(tsfx, sizeof tsfx, "td%d_tile", s + 2);
            const char *tname = fresh(c, tsfx);
            snprintf(tsfx, sizeof tsfx, "td%d_w", s + 2);
            const char *tout = fresh(c, tsfx);
            const char *ins[2] = {w, reps};
            Onnx__NodeProto *tn = tname && tout
                ? td_node_new(c->g, "Tile", tname, ins, 2, &tout, 1) : NULL;
            if (!tn) {
                c->st = c->st ? c->st : TD_ENOMEM;
                break;
            }
            c->nodes[c->n++] = tn;
            w = tout;
        }
        x = conv(c, sfx, x, w, NULL, b, s, b * rout, NULL);
    }
    nd = conv_dims(l, l->cout, b * R[0], -1, d);
    char sfx[16];
    snprintf(sfx, sizeof sfx, "td%d", l->nsp + 2);
    conv(c, sfx, x, weight(c, "tdl_w", d, nd, wl), bias_of(c, f), 1, -1, l->cout,
         l->node->output[0]);
out:
    free(w1);
    free(wl);
}

static void emit_svd_matrix(struct chain *c, const td_factors *f, int64_t opset)
{
    const td_layer *l = c->l;
    const td_svd_t *v = &f->svd[0];
    int64_t r = v->rank, K = l->cin, N = l->cout;
    double *l1 = zeros(c, (size_t)(K * r));
    double *l2 = zeros(c, (size_t)(r * N));
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
    const char *w1 = weight(c, "td1_w", d1, 2, l1);
    const char *w2 = weight(c, "td2_w", d2, 2, l2);
    const char *n1 = fresh(c, "td1"), *n2 = fresh(c, "td2");
    const char *mid = fresh(c, "td1_out");
    if (c->st || !w1 || !w2 || !n1 || !n2 || !mid)
        goto out;
    const char *out = l->node->output[0];
    if (l->kind == TD_LAYER_MATMUL) {
        const char *i1[2] = {l->node->input[0], w1}, *i2[2] = {mid, w2};
        c->nodes[c->n++] = td_node_new(c->g, "MatMul", n1, i1, 2, &mid, 1);
        c->nodes[c->n++] = td_node_new(c->g, "MatMul", n2, i2, 2, &out, 1);
    } else {
        const char *zero = NULL;
        if (opset < 11) {
            /* Gemm's C input is optional only from opset 11 on. */
            double *z = zeros(c, (size_t)r);
            int64_t dz = r;
            zero = z ? weight(c, "td1_c", &dz, 1, z) : NULL;
            free(z);
        }
        const char *i1[3] = {l->node->input[0], w1, zero};
        const char *i2[3] = {mid, w2, l->has_bias ? l->node->input[2] : NULL};
        Onnx__NodeProto *g1 = td_node_new(c->g, "Gemm", n1, i1, zero ? 3 : 2, &mid, 1);
        Onnx__NodeProto *g2 = td_node_new(c->g, "Gemm", n2, i2,
                                          l->has_bias ? 3 : 2, &out, 1);
        if (!g1 || !g2 || (l->trans_a && td_node_set_int(c->g, g1, "transA", 1)) ||
            (l->alpha != 1.0f && td_node_set_float(c->g, g2, "alpha", l->alpha)) ||
            (l->has_bias && l->beta != 1.0f &&
             td_node_set_float(c->g, g2, "beta", l->beta))) {
            c->st = TD_ENOMEM;
            goto out;
        }
        c->nodes[c->n++] = g1;
        c->nodes[c->n++] = g2;
    }
    for (size_t q = 0; q < c->n; q++)
        if (!c->nodes[q])
            c->st = TD_ENOMEM;
out:
    free(l1);
    free(l2);
}

td_status td_emit_chain(td_graph *g, const td_layer *l, const td_factors *f,
                        size_t node_index, int64_t opset, td_err_t *err)
{
    struct chain c = {.g = g, .l = l, .err = err};
    switch (f->method) {
    case TD_TUCKER2: emit_tucker2(&c, f); break;
    case TD_CP: emit_cp(&c, f); break;
    case TD_SVD:
        if (l->kind == TD_LAYER_CONV)
            emit_svd_conv(&c, f);
        else
            emit_svd_matrix(&c, f, opset);
        break;
    case TD_TR:
    case TD_RSDTR: emit_tr(&c, f); break;
    default:
        return td_err_set(err, TD_EUSAGE, "no chain for method %s",
                          td_method_name(f->method));
    }
    if (c.st)
        return c.st == TD_ENOMEM ? td_err_set(err, TD_ENOMEM, "out of memory")
                                 : c.st;
    /* The old weight is removed by the caller once every chain is in:
     * removing a Constant node now would shift the indices of layers still
     * to be replaced. */
    return td_graph_replace_node(g, node_index, c.nodes, c.n, err);
}
