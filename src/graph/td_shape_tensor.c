/* Operators that move data around: Reshape, Flatten, Transpose, Concat,
 * Split, Slice, Squeeze/Unsqueeze, Pad, Resize, Gemm/MatMul, Shape, Gather
 * and friends. Inputs that moved from attributes to tensors across opsets
 * are read from whichever the node has. */
#include <stdlib.h>
#include <string.h>

#include "td_shape_internal.h"

static int64_t prod(const int64_t *d, int from, int to)
{
    int64_t p = 1;
    for (int k = from; k < to; k++)
        if (d[k] < 0 || td_mul_i64(p, d[k], &p))
            return -1;
    return p;
}

static int rule_concat(sh_ctx *c)
{
    const sh_entry *first = NULL;
    for (size_t i = 0; i < c->n->n_input && !first; i++)
        first = sh_in(c, i);
    if (!first)
        return SH_OK;
    int rank = first->rank;
    int ax = sh_axis(sh_attr_i(c->n, "axis", 0), rank);
    if (ax < 0)
        return SH_OK;
    int64_t out[SH_MAX_RANK], vals[SH_MAX_VALUES];
    int nv = rank == 1 ? 0 : -1;
    for (int k = 0; k < rank; k++)
        out[k] = k == ax ? 0 : -1;
    for (size_t i = 0; i < c->n->n_input; i++) {
        const sh_entry *x = sh_in(c, i);
        if (!x || x->rank != rank) {
            out[ax] = -1;
            nv = -1;
            continue;
        }
        for (int k = 0; k < rank; k++)
            if (k != ax && out[k] < 0)
                out[k] = x->dims[k];
        if (out[ax] >= 0 && x->dims[ax] >= 0) {
            if (td_add_i64(out[ax], x->dims[ax], &out[ax]))
                return sh_overflow(c, "the inputs' dims on the axis");
        } else {
            out[ax] = -1;
        }
        if (nv >= 0 && x->n_values >= 0 && nv + x->n_values <= SH_MAX_VALUES) {
            memcpy(vals + nv, x->values, (size_t)x->n_values * sizeof *vals);
            nv += x->n_values;
        } else {
            nv = -1;
        }
    }
    return sh_out_values(c, 0, out, rank, vals, nv);
}

static int rule_flatten(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0);
    if (!x)
        return SH_OK;
    int64_t axis = sh_attr_i(c->n, "axis", 1);
    if (axis < 0)
        axis += x->rank;
    if (axis < 0 || axis > x->rank)
        return SH_OK;
    int64_t out[2] = {prod(x->dims, 0, (int)axis),
                      prod(x->dims, (int)axis, x->rank)};
    return sh_out(c, 0, out, 2);
}

/* Reshape-5/14: 0 copies the input dim (unless allowzero), -1 takes what
 * is left of the element count. */
static int rule_reshape(sh_ctx *c)
{
    const int64_t *shape;
    int n;
    if (!sh_ints_attr_or_input(c, "shape", 1, &shape, &n) || n > SH_MAX_RANK)
        return SH_OK;
    const sh_entry *x = sh_in(c, 0);
    int allowzero = sh_attr_i(c->n, "allowzero", 0) != 0;
    int64_t out[SH_MAX_RANK];
    int minus = -1;
    for (int k = 0; k < n; k++) {
        out[k] = shape[k];
        if (shape[k] == 0 && !allowzero)
            out[k] = x && k < x->rank ? x->dims[k] : -1;
        else if (shape[k] == -1)
            minus = k;
        else if (shape[k] < -1)
            return SH_OK;
    }
    if (minus >= 0) {
        out[minus] = -1;
        int64_t total = x ? prod(x->dims, 0, x->rank) : -1;
        int64_t rest = 1;
        for (int k = 0; k < n && rest > 0; k++)
            if (k != minus && (out[k] < 0 || td_mul_i64(rest, out[k], &rest)))
                rest = -1;
        if (total >= 0 && rest > 0 && total % rest == 0)
            out[minus] = total / rest;
    }
    const int64_t *vals = x && x->n_values >= 0 ? x->values : NULL;
    return sh_out_values(c, 0, out, n, vals, vals ? x->n_values : -1);
}

static int rule_transpose(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0);
    if (!x)
        return SH_OK;
    const int64_t *perm;
    size_t np;
    td_err_t ignored;
    if (td_attr_ints(c->n, "perm", &perm, &np, &ignored))
        return SH_OK;
    int64_t out[SH_MAX_RANK];
    if (np && np != (size_t)x->rank)
        return SH_OK;
    for (int k = 0; k < x->rank; k++) {
        int64_t p = np ? perm[k] : x->rank - 1 - k;
        if (p < 0 || p >= x->rank)
            return SH_OK;
        out[k] = x->dims[p];
    }
    return sh_out(c, 0, out, x->rank);
}

static int rule_gemm(sh_ctx *c)
{
    const sh_entry *a = sh_in(c, 0), *b = sh_in(c, 1);
    int64_t out[2] = {-1, -1};
    if (a && a->rank == 2)
        out[0] = a->dims[sh_attr_i(c->n, "transA", 0) ? 1 : 0];
    if (b && b->rank == 2)
        out[1] = b->dims[sh_attr_i(c->n, "transB", 0) ? 0 : 1];
    return sh_out(c, 0, out, 2);
}

/* numpy.matmul: 1-D operands are promoted and the added dim removed;
 * leading (batch) dims broadcast. */
static int rule_matmul(sh_ctx *c, size_t ia, size_t ib)
{
    const sh_entry *a = sh_in(c, ia), *b = sh_in(c, ib);
    if (!a || !b || a->rank < 1 || b->rank < 1)
        return SH_OK;
    int64_t out[SH_MAX_RANK];
    int ra = a->rank, rb = b->rank;
    int batch = (ra > rb ? ra : rb) - 2;
    int r = 0;
    for (int k = 0; k < batch; k++) {
        int ka = ra - 2 - batch + k, kb = rb - 2 - batch + k;
        int64_t da = ka >= 0 ? a->dims[ka] : 1, db = kb >= 0 ? b->dims[kb] : 1;
        out[r++] = da == 1 ? db : db == 1 ? da : da == db ? da : -1;
    }
    if (ra >= 2)
        out[r++] = a->dims[ra - 2];
    if (rb >= 2)
        out[r++] = b->dims[rb - 1];
    return sh_out(c, 0, out, r);
}

/* Pad-2 (pads attribute) and Pad-11/18 (pads input, optional axes). */
static int rule_pad(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0);
    const int64_t *pads, *axes = NULL;
    int np, na = 0;
    if (!x || !sh_ints_attr_or_input(c, "pads", 1, &pads, &np))
        return SH_OK;
    if (c->n->n_input > 3 && c->n->input[3][0] &&
        !sh_in_ints(c, 3, &axes, &na))
        return SH_OK;
    int n_ax = axes ? na : x->rank;
    if (np != 2 * n_ax)
        return SH_OK;
    int64_t out[SH_MAX_RANK];
    memcpy(out, x->dims, (size_t)x->rank * sizeof *out);
    for (int i = 0; i < n_ax; i++) {
        int ax = axes ? sh_axis(axes[i], x->rank) : i;
        if (ax < 0)
            return SH_OK;
        if (out[ax] >= 0 && (td_add_i64(out[ax], pads[i], &out[ax]) ||
                             td_add_i64(out[ax], pads[n_ax + i], &out[ax])))
            return sh_overflow(c, "pads");
    }
    return sh_out(c, 0, out, x->rank);
}

/* Split-2/13/18: explicit sizes, or equal parts (the last one smaller
 * when num_outputs does not divide the dim, Split-18). */
static int rule_split(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0);
    if (!x)
        return SH_OK;
    int ax = sh_axis(sh_attr_i(c->n, "axis", 0), x->rank);
    if (ax < 0)
        return SH_OK;
    int64_t d[SH_MAX_RANK];
    const int64_t *sizes;
    int ns;
    size_t nout = c->n->n_output;
    int have = sh_ints_attr_or_input(c, "split", 1, &sizes, &ns) &&
               (size_t)ns == nout;
    int64_t dim = x->dims[ax];
    if (!have && c->n->n_input > 1 && c->n->input[1][0])
        dim = -1;  /* sizes given by a value we do not know */
    /* ceil(dim / nout), without forming dim + nout - 1 */
    int64_t at = 0;  /* values handed out so far */
    int64_t part = dim >= 0 && nout ? dim / (int64_t)nout +
                                          (dim % (int64_t)nout != 0)
                                    : -1;
    for (size_t k = 0; k < nout; k++) {
        memcpy(d, x->dims, (size_t)x->rank * sizeof *d);
        if (have)
            d[ax] = sizes[k];
        else if (part < 0)
            d[ax] = -1;
        else if (k + 1 < nout)
            d[ax] = part;
        else if (td_mul_i64(part, (int64_t)(nout - 1), &d[ax]) ||
                 td_sub_i64(dim, d[ax], &d[ax]))
            d[ax] = -1;  /* more outputs than the dim has room for */
        if (d[ax] < -1)
            d[ax] = -1;
        /* a 1-D integer tensor splits its values too (pads begins/ends) */
        int nv = -1;
        const int64_t *vals = NULL;
        if (x->rank == 1 && x->n_values >= 0 && d[0] >= 0 &&
            at + d[0] <= x->n_values) {
            vals = x->values + at;
            nv = (int)d[0];
            at += d[0];
        }
        if (sh_out_values(c, k, d, x->rank, vals, nv))
            return SH_NOMEM;
    }
    return SH_OK;
}

/* Slice-1 (attributes) and Slice-10/13 (inputs): indices clamp to the dim,
 * negative ones count from the end; the step may be negative. */
static int rule_slice(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0);
    const int64_t *st, *en, *ax = NULL, *sp = NULL;
    int n_st, n_en, n_ax = 0, n_sp = 0;
    if (!x || !sh_ints_attr_or_input(c, "starts", 1, &st, &n_st) ||
        !sh_ints_attr_or_input(c, "ends", 2, &en, &n_en) || n_st != n_en)
        return SH_OK;
    if (c->n->n_input > 3 && c->n->input[3][0] && !sh_in_ints(c, 3, &ax, &n_ax))
        return SH_OK;
    if (!ax && td_attr_find(c->n, "axes"))
        sh_ints_attr_or_input(c, "axes", 99, &ax, &n_ax);
    if (c->n->n_input > 4 && c->n->input[4][0] && !sh_in_ints(c, 4, &sp, &n_sp))
        return SH_OK;
    if ((ax && n_ax != n_st) || (sp && n_sp != n_st))
        return SH_OK;
    int64_t out[SH_MAX_RANK], first = 0, stride = 1;
    memcpy(out, x->dims, (size_t)x->rank * sizeof *out);
    for (int i = 0; i < n_st; i++) {
        int a = sh_axis(ax ? ax[i] : i, x->rank);
        int64_t step = sp ? sp[i] : 1, dim = x->dims[a < 0 ? 0 : a];
        if (a < 0 || step == 0)
            return SH_OK;
        if (dim < 0) {
            out[a] = -1;
            continue;
        }
        int64_t b = st[i], e = en[i];
        if (b < 0)
            b += dim;
        if (e < 0)
            e += dim;
        int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? dim : dim - 1;
        b = b < lo ? lo : b > hi ? hi : b;
        e = e < lo ? lo : e > hi ? hi : e;
        /* ceil(span / |step|) elements: span <= dim, and |step| taken
         * unsigned since -INT64_MIN does not fit in int64 */
        int64_t span = step > 0 ? e - b : b - e;
        uint64_t mag = step > 0 ? (uint64_t)step : 0 - (uint64_t)step;
        out[a] = span <= 0 ? 0
                 : (int64_t)((uint64_t)(span - 1) / mag) + 1;
        first = b;
        stride = step;
    }
    /* A slice of a 1-D integer tensor (Shape -> Slice) keeps its values. */
    int64_t vals[SH_MAX_VALUES];
    int nv = -1;
    if (x->rank == 1 && x->n_values >= 0 && out[0] >= 0 && n_st <= 1) {
        nv = (int)out[0];
        for (int k = 0; k < nv; k++)
            vals[k] = x->values[first + (int64_t)k * stride];
    }
    return sh_out_values(c, 0, out, x->rank, vals, nv);
}

static int rule_squeeze(sh_ctx *c, int unsqueeze)
{
    const sh_entry *x = sh_in(c, 0);
    if (!x)
        return SH_OK;
    const int64_t *axes;
    int na;
    int have = sh_ints_attr_or_input(c, "axes", 1, &axes, &na);
    int64_t out[SH_MAX_RANK];
    int r = 0;
    if (unsqueeze) {
        int rank = x->rank + (have ? na : 0);
        int mark[SH_MAX_RANK] = {0};
        if (!have || rank > SH_MAX_RANK)
            return SH_OK;
        for (int i = 0; i < na; i++) {
            int a = sh_axis(axes[i], rank);
            if (a < 0 || mark[a])
                return SH_OK;  /* out of range or repeated: invalid */
            mark[a] = 1;
        }
        for (int k = 0, j = 0; k < rank; k++)
            out[k] = mark[k] ? 1 : x->dims[j++];
        r = rank;
    } else {
        int mark[SH_MAX_RANK] = {0};
        if (!have && c->n->n_input > 1 && c->n->input[1][0])
            return SH_OK;
        for (int i = 0; have && i < na; i++) {
            int a = sh_axis(axes[i], x->rank);
            if (a < 0)
                return SH_OK;
            mark[a] = 1;
        }
        for (int k = 0; k < x->rank; k++) {
            if (!have && x->dims[k] < 0)
                return SH_OK;  /* which dims are 1 is unknown */
            if (!(have ? mark[k] : x->dims[k] == 1))
                out[r++] = x->dims[k];
        }
    }
    return sh_out_values(c, 0, out, r, x->values, x->n_values);
}

/* Shape-15 start/end slice the dims; the values are known when the dims
 * are, which resolves the Shape -> Gather -> Concat -> Reshape chains. */
static int rule_shape(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0);
    if (!x)
        return SH_OK;
    int64_t start = sh_attr_i(c->n, "start", 0);
    int64_t end = sh_attr_i(c->n, "end", x->rank);
    if (start < 0)
        start += x->rank;
    if (end < 0)
        end += x->rank;
    start = start < 0 ? 0 : start > x->rank ? x->rank : start;
    end = end < start ? start : end > x->rank ? x->rank : end;
    int64_t len = end - start;
    int known = 1;
    for (int64_t k = start; k < end; k++)
        known &= x->dims[k] >= 0;
    return sh_out_values(c, 0, &len, 1, x->dims + start,
                         known ? (int)len : -1);
}

static int rule_gather(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0), *idx = sh_in(c, 1);
    if (!x || !idx || x->rank + idx->rank - 1 > SH_MAX_RANK)
        return SH_OK;
    int ax = sh_axis(sh_attr_i(c->n, "axis", 0), x->rank);
    if (ax < 0)
        return SH_OK;
    int64_t out[SH_MAX_RANK], vals[SH_MAX_VALUES];
    int r = 0, nv = -1;
    for (int k = 0; k < ax; k++)
        out[r++] = x->dims[k];
    for (int k = 0; k < idx->rank; k++)
        out[r++] = idx->dims[k];
    for (int k = ax + 1; k < x->rank; k++)
        out[r++] = x->dims[k];
    if (x->rank == 1 && x->n_values >= 0 && idx->n_values >= 0) {
        nv = idx->n_values;
        for (int k = 0; k < nv; k++) {
            int64_t i = idx->values[k];
            if (i < 0)
                i += x->n_values;
            if (i < 0 || i >= x->n_values)
                return sh_out(c, 0, out, r);
            vals[k] = x->values[i];
        }
    }
    return sh_out_values(c, 0, out, r, vals, nv);
}

/* Size-1/13: a scalar, the element count when the dims are known. */
static int rule_size(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0);
    int64_t n = x ? prod(x->dims, 0, x->rank) : -1;
    return sh_out_values(c, 0, NULL, 0, &n, n >= 0 ? 1 : -1);
}

/* Range-11: max(ceil((limit - start) / delta), 0) elements, on integers
 * here (float ranges leave the length unknown). */
static int rule_range(sh_ctx *c)
{
    const int64_t *st, *li, *de;
    int ns, nl, nd;
    int64_t len = -1, span;
    if (!sh_in_ints(c, 0, &st, &ns) || !sh_in_ints(c, 1, &li, &nl) ||
        !sh_in_ints(c, 2, &de, &nd) || ns != 1 || nl != 1 || nd != 1 ||
        de[0] == 0 || td_sub_i64(li[0], st[0], &span))
        return sh_out(c, 0, &len, 1);
    if ((span > 0) == (de[0] > 0) && span != 0) {
        /* same sign: ceil(span / delta) without forming span + delta - 1 */
        len = span / de[0] + (span % de[0] != 0);
    } else {
        len = 0;
    }
    int64_t vals[SH_MAX_VALUES];
    int nv = len <= SH_MAX_VALUES ? (int)len : -1;
    for (int k = 0; k < nv; k++)
        vals[k] = st[0] + (int64_t)k * de[0];
    return sh_out_values(c, 0, &len, 1, vals, nv);
}

/* output = floor(input * scale); converting a double that does not fit
 * to int64 is undefined, so the range is checked first. */
static int scaled_dim(sh_ctx *c, int64_t dim, double scale, int64_t *out)
{
    double v = (double)dim * scale;
    if (dim < 0 || !(v >= 0))
        return SH_OK;  /* unknown, or a negative or NaN scale: invalid */
    if (v >= 9223372036854775808.0)  /* 2^63 */
        return sh_overflow(c, "scales");
    *out = (int64_t)v;
    return SH_OK;
}

static int rule_resize(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0);
    if (!x)
        return SH_OK;
    int64_t out[SH_MAX_RANK];
    for (int k = 0; k < x->rank; k++)
        out[k] = -1;
    const int64_t *sizes;
    int n_sizes;
    /* Resize-11+: X, roi, scales, sizes; Resize-10/Upsample-9: X, scales;
     * Upsample-7: scales attribute. */
    size_t scales_at = c->n->n_input >= 3 ? 2 : 1;
    if (c->n->n_input >= 4 && c->n->input[3][0]) {
        if (sh_in_ints(c, 3, &sizes, &n_sizes) && n_sizes == x->rank)
            memcpy(out, sizes, (size_t)n_sizes * sizeof *out);
        return sh_out(c, 0, out, x->rank);
    }
    double *sc = NULL;
    int64_t n_sc = 0;
    const Onnx__AttributeProto *sa = td_attr_find(c->n, "scales");
    int r = SH_OK;
    if (sa && sa->n_floats == (size_t)x->rank) {
        for (int k = 0; k < x->rank && !r; k++)
            r = scaled_dim(c, x->dims[k], sa->floats[k], &out[k]);
    } else if (sh_in_doubles(c, scales_at, &sc, &n_sc)) {
        for (int k = 0; n_sc == x->rank && k < x->rank && !r; k++)
            r = scaled_dim(c, x->dims[k], sc[k], &out[k]);
        free(sc);
    }
    return r ? r : sh_out(c, 0, out, x->rank);
}

/* Expand-8 and ConstantOfShape-9: shapes given as integer tensors. */
static int rule_expand(sh_ctx *c, int of_shape)
{
    const int64_t *shape;
    int n;
    if (!sh_in_ints(c, of_shape ? 0 : 1, &shape, &n) || n > SH_MAX_RANK)
        return SH_OK;
    if (of_shape) {
        /* an integer fill (default: float 0, not carried) over a small
         * shape is a value too: exporters build pads and shapes with it */
        const Onnx__AttributeProto *va = td_attr_find(c->n, "value");
        int64_t fill[SH_MAX_VALUES], vals[SH_MAX_VALUES];
        int nf = 0, nv = -1;
        int64_t count = prod(shape, 0, n);
        if (va && va->t && sh_tensor_ints(va->t, fill, &nf) && nf == 1 &&
            count >= 0 && count <= SH_MAX_VALUES) {
            nv = (int)count;
            for (int k = 0; k < nv; k++)
                vals[k] = fill[0];
        }
        return sh_out_values(c, 0, shape, n, vals, nv);
    }
    const sh_entry *x = sh_in(c, 0);
    if (!x)
        return SH_OK;
    int rank = x->rank > n ? x->rank : n;
    int64_t out[SH_MAX_RANK];
    for (int k = 0; k < rank; k++) {
        int kx = k - (rank - x->rank), ks = k - (rank - n);
        int64_t a = kx >= 0 ? x->dims[kx] : 1, b = ks >= 0 ? shape[ks] : 1;
        out[k] = a == 1 ? b : b == 1 ? a : a == b ? a : -1;
    }
    return sh_out(c, 0, out, rank);
}

static int rule_depth_space(sh_ctx *c, int to_space)
{
    const sh_entry *x = sh_in(c, 0);
    int64_t b = sh_attr_i(c->n, "blocksize", 0);
    if (!x || x->rank != 4 || b < 1)
        return SH_OK;
    int64_t out[4] = {x->dims[0], -1, -1, -1};
    int64_t bb;
    if (td_mul_i64(b, b, &bb))
        return sh_overflow(c, "blocksize");
    if (x->dims[1] >= 0) {
        out[1] = x->dims[1] / bb;
        if (!to_space && td_mul_i64(x->dims[1], bb, &out[1]))
            return sh_overflow(c, "blocksize and the channels");
    }
    for (int k = 2; k < 4; k++) {
        if (x->dims[k] < 0)
            continue;
        out[k] = x->dims[k] / b;
        if (to_space && td_mul_i64(x->dims[k], b, &out[k]))
            return sh_overflow(c, "blocksize and the spatial dims");
    }
    return sh_out(c, 0, out, 4);
}

int sh_rule_tensor(sh_ctx *c, const char *op)
{
    int r;
    if (!strcmp(op, "Concat"))
        r = rule_concat(c);
    else if (!strcmp(op, "Flatten"))
        r = rule_flatten(c);
    else if (!strcmp(op, "Reshape"))
        r = rule_reshape(c);
    else if (!strcmp(op, "Transpose"))
        r = rule_transpose(c);
    else if (!strcmp(op, "Gemm"))
        r = rule_gemm(c);
    else if (!strcmp(op, "MatMul") || !strcmp(op, "MatMulInteger"))
        r = rule_matmul(c, 0, 1);
    else if (!strcmp(op, "QLinearMatMul"))
        r = rule_matmul(c, 0, 3);
    else if (!strcmp(op, "Pad"))
        r = rule_pad(c);
    else if (!strcmp(op, "Split"))
        r = rule_split(c);
    else if (!strcmp(op, "Slice"))
        r = rule_slice(c);
    else if (!strcmp(op, "Squeeze") || !strcmp(op, "Unsqueeze"))
        r = rule_squeeze(c, op[0] == 'U');
    else if (!strcmp(op, "Shape"))
        r = rule_shape(c);
    else if (!strcmp(op, "Size"))
        r = rule_size(c);
    else if (!strcmp(op, "Range"))
        r = rule_range(c);
    else if (!strcmp(op, "Gather"))
        r = rule_gather(c);
    else if (!strcmp(op, "Resize") || !strcmp(op, "Upsample"))
        r = rule_resize(c);
    else if (!strcmp(op, "Expand") || !strcmp(op, "ConstantOfShape"))
        r = rule_expand(c, op[0] == 'C');
    else if (!strcmp(op, "DepthToSpace") || !strcmp(op, "SpaceToDepth"))
        r = rule_depth_space(c, op[0] == 'D');
    else
        return 0;
    return r ? r : 1;
}
