/* The statistics model's tap autocorrelation (graph/td_stats.h, "taps/"):
 * for the input X of a Conv wider than 1 tap, per spatial axis s and lag
 * t, the mean over positions of sum_c x_c(p) x_c(p + t e_s), which the
 * factoring turns into the taps' metric (decompose/td_whiten.h, "Taps").
 *
 * Per lag: two Slices of X along the axis (the positions where both p and
 * p + t exist), a Mul and a ReduceMean over everything, kept as [1, ..., 1];
 * the values are concatenated and reshaped to [nsp, lags]. Each lag's Mul
 * is a full copy of what it multiplies, so X (of more than TAPS_PROJ
 * channels) is first projected onto TAPS_PROJ fixed random directions by a
 * 1x1 Conv: for a projection P with E[P^T P] = I, z(p)^T z(p') =
 * x(p)^T P^T P x(p') estimates x(p)^T x(p'), and only the ratios of lags
 * to lag 0 are used, in which the projection's scale cancels. ISNet's
 * first layers are 64 x 1024 x 1024: the lags then move 1/4 of X each. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "graph/td_tensor.h"
#include "td_stats_model_int.h"

#define TAPS_PROJ 16

/* TAPS_PROJ x c x 1 ... (nsp ones), entries +-1/sqrt(TAPS_PROJ) from a
 * fixed generator: the same model gives the same statistics every time. */
static const char *projection(struct td_sm_builder *b, const char *x,
                              int64_t c, int nsp)
{
    size_t n = (size_t)TAPS_PROJ * (size_t)c;
    double *w = malloc(n * sizeof *w);
    if (!w)
        return NULL;
    uint64_t r = 0x9E3779B97F4A7C15u;
    for (size_t q = 0; q < n; q++) {
        r = r * 6364136223846793005u + 1442695040888963407u;
        w[q] = (r >> 63 ? 1.0 : -1.0) / sqrt((double)TAPS_PROJ);
    }
    int64_t dims[2 + 3] = {TAPS_PROJ, c, 1, 1, 1};
    const char *nm = td_sm_fresh(b, x, "taps_proj");
    Onnx__TensorProto *t =
        nm ? td_tensor_from_double(td_graph_arena(b->g), nm,
                                   ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims,
                                   (size_t)(2 + nsp), w)
           : NULL;
    free(w);
    if (!t || td_graph_add_init(b->g, t, b->err))
        return NULL;
    return nm;
}

/* v sliced to [start, end) on axis; opsets before 10 take attributes. */
static const char *slice(struct td_sm_builder *b, const char *x,
                         const char *label, const char *v, int64_t axis,
                         int64_t start, int64_t end)
{
    if (b->opset >= 10) {
        const char *ins[4] = {v, td_sm_ints(b, x, "s_start", &start, 1),
                              td_sm_ints(b, x, "s_end", &end, 1),
                              td_sm_ints(b, x, "s_axis", &axis, 1)};
        if (!ins[1] || !ins[2] || !ins[3])
            return NULL;
        return td_sm_add_n(b, "Slice", x, label, ins, 4, NULL);
    }
    const char *o = td_sm_add_n(b, "Slice", x, label, &v, 1, NULL);
    Onnx__NodeProto *n = o ? b->nodes[b->n - 1] : NULL;
    if (!n || td_node_set_ints(b->g, n, "starts", &start, 1) ||
        td_node_set_ints(b->g, n, "ends", &end, 1) ||
        td_node_set_ints(b->g, n, "axes", &axis, 1))
        return NULL;
    return o;
}

td_status td_sm_taps(struct td_sm_builder *b, const char *x, const char *v,
                     int64_t c, int nsp, int64_t lags, const char *name)
{
    size_t nv = (size_t)nsp * (size_t)lags;
    const char **vals = calloc(nv, sizeof *vals);
    const char *z = v;
    if (!vals)
        goto oom;
    if (c > TAPS_PROJ) {
        const char *ins[2] = {v, projection(b, x, c, nsp)};
        if (!ins[1] || !(z = td_sm_add_n(b, "Conv", x, "taps_z", ins, 2, NULL)))
            goto oom;
    }
    for (int s = 0; s < nsp; s++)
        for (int64_t t = 0; t < lags; t++) {
            char la[48], lb[48], lm[48], lr[48];
            snprintf(la, sizeof la, "taps_a%d_%lld", s, (long long)t);
            snprintf(lb, sizeof lb, "taps_b%d_%lld", s, (long long)t);
            snprintf(lm, sizeof lm, "taps_m%d_%lld", s, (long long)t);
            snprintf(lr, sizeof lr, "taps_r%d_%lld", s, (long long)t);
            const char *pa = z, *pb = z;
            if (t > 0 && (!(pa = slice(b, x, la, z, 2 + s, 0, -t)) ||
                          !(pb = slice(b, x, lb, z, 2 + s, t, INT64_MAX))))
                goto oom;
            const char *ins[2] = {pa, pb};
            const char *m = td_sm_add_n(b, "Mul", x, lm, ins, 2, NULL);
            const char *r = m ? td_sm_add_n(b, "ReduceMean", x, lr, &m, 1, NULL)
                              : NULL;
            if (!r)
                goto oom;
            vals[(size_t)s * (size_t)lags + (size_t)t] = r;
        }
    const char *cat = td_sm_add_n(b, "Concat", x, "taps_cat", vals, nv, NULL);
    int64_t shape[2] = {nsp, lags};
    const char *sh = cat && !td_node_set_int(b->g, b->nodes[b->n - 1], "axis", 0)
                         ? td_sm_ints(b, x, "taps_shape", shape, 2)
                         : NULL;
    const char *ins[2] = {cat, sh};
    if (!sh || !td_sm_add_n(b, "Reshape", x, "taps", ins, 2, name))
        goto oom;
    free(vals);
    return TD_OK;
oom:
    free(vals);
    return td_err_set(b->err, TD_ENOMEM, "out of memory");
}
