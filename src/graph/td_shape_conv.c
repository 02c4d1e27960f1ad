/* Convolution and pooling geometry (ONNX operator spec, Conv-11,
 * ConvTranspose-11, MaxPool-12, AveragePool-19): output sizes, auto_pad
 * resolved into explicit pads, and the shape rules built on them. */
#include <string.h>

#include "td_shape_internal.h"

int td_conv_weight_index(const char *op)
{
    if (!strcmp(op, "Conv") || !strcmp(op, "ConvInteger") ||
        !strcmp(op, "ConvTranspose"))
        return 1;
    return !strcmp(op, "QLinearConv") ? 3 : -1;
}

int td_conv_bias_index(const char *op)
{
    if (!strcmp(op, "Conv") || !strcmp(op, "ConvTranspose"))
        return 2;
    return !strcmp(op, "QLinearConv") ? 8 : -1;
}

/* Reads an optional ints attribute of n_spatial (or 2 x n_spatial)
 * entries; wrong counts are an input error. */
static td_status ints_attr(const Onnx__NodeProto *n, const char *name,
                           size_t want, int64_t dflt, int64_t *out,
                           td_err_t *err)
{
    const int64_t *v;
    size_t cnt;
    td_status s = td_attr_ints(n, name, &v, &cnt, err);
    if (s)
        return s;
    if (cnt && cnt != want)
        return td_err_set(err, TD_EINPUT,
                          "node '%s' (%s): attribute %s has %zu values, "
                          "expected %zu", n->name ? n->name : "", n->op_type,
                          name, cnt, want);
    for (size_t k = 0; k < want; k++)
        out[k] = cnt ? v[k] : dflt;
    return TD_OK;
}

/* SAME_UPPER puts the odd padding unit at the end, SAME_LOWER at the
 * beginning (Conv spec, auto_pad). */
static void split_total(int64_t total, int upper, int64_t *begin,
                        int64_t *end)
{
    if (total < 0)
        total = 0;
    *begin = upper ? total / 2 : total - total / 2;
    *end = total - *begin;
}

/* Fills everything but the output sizes; kernel from kernel_shape, else
 * from w_kernel (NULL for pools, where kernel_shape is required). */
static td_status geom_attrs(const Onnx__NodeProto *n, size_t ns,
                            const int64_t *w_kernel, const int64_t *x_spatial,
                            td_conv_geom *geo, td_err_t *err)
{
    const char *nm = n->name ? n->name : "";
    memset(geo, 0, sizeof *geo);
    if (ns < 1 || ns > TD_CONV_MAX_SPATIAL)
        return td_err_set(err, TD_EINPUT, "node '%s' (%s): %zu spatial "
                          "dimensions are not supported", nm, n->op_type, ns);
    geo->n_spatial = ns;
    td_status s;
    const int64_t *ks;
    size_t nk;
    if ((s = td_attr_ints(n, "kernel_shape", &ks, &nk, err)))
        return s;
    if (nk && nk != ns)
        return td_err_set(err, TD_EINPUT, "node '%s' (%s): kernel_shape has "
                          "%zu values for %zu spatial dimensions", nm,
                          n->op_type, nk, ns);
    if (!nk && !w_kernel)
        return td_err_set(err, TD_EINPUT, "node '%s' (%s): no kernel_shape",
                          nm, n->op_type);
    for (size_t k = 0; k < ns; k++) {
        geo->kernel[k] = nk ? ks[k] : w_kernel[k];
        if (nk && w_kernel && w_kernel[k] >= 0 && ks[k] != w_kernel[k])
            return td_err_set(err, TD_EINPUT, "node '%s' (%s): kernel_shape "
                              "disagrees with the weight's shape", nm,
                              n->op_type);
        geo->in_spatial[k] = x_spatial ? x_spatial[k] : -1;
        geo->out_spatial[k] = -1;
    }
    if ((s = ints_attr(n, "strides", ns, 1, geo->strides, err)) ||
        (s = ints_attr(n, "dilations", ns, 1, geo->dilations, err)) ||
        (s = ints_attr(n, "pads", 2 * ns, 0, geo->pads, err)) ||
        (s = td_attr_int(n, "group", 1, &geo->group, err)) ||
        (s = td_attr_string(n, "auto_pad", "NOTSET", geo->auto_pad,
                            sizeof geo->auto_pad, err)))
        return s;
    for (size_t k = 0; k < ns; k++)
        if (geo->strides[k] < 1 || geo->dilations[k] < 1 || geo->kernel[k] < 0)
            return td_err_set(err, TD_EINPUT, "node '%s' (%s): strides, "
                              "dilations and kernel must be positive", nm,
                              n->op_type);
    if (geo->group < 1)
        return td_err_set(err, TD_EINPUT, "node '%s' (%s): group %lld",
                          nm, n->op_type, (long long)geo->group);
    return TD_OK;
}

/* ceil(a / b) for b > 0 without forming a + b - 1 (C division truncates
 * toward zero, which is the ceiling for a negative a). */
static int64_t ceil_div(int64_t a, int64_t b)
{
    return a / b + (a % b > 0);
}

static td_status overflows(const Onnx__NodeProto *n, td_conv_geom *geo,
                           const char *attrs, size_t axis, td_err_t *err)
{
    geo->overflow = 1;
    return td_err_set(err, TD_EINPUT, "node '%s' (%s): %s on spatial axis "
                      "%zu give a size that overflows int64", sh_node_label(n),
                      n->op_type, attrs, axis);
}

/* Forward convolution and pooling: the window of extent d*(k-1)+1 slides
 * with stride s over the padded input; ceil_mode (pools) rounds up but a
 * window may not start in the end padding (as PyTorch and ONNX Runtime).
 * Every step is checked: all of these integers come from the model. */
static td_status forward_sizes(const Onnx__NodeProto *n, td_conv_geom *geo,
                               int ceil_mode, td_err_t *err)
{
    size_t ns = geo->n_spatial;
    int same = !strncmp(geo->auto_pad, "SAME_", 5);
    int valid = !strcmp(geo->auto_pad, "VALID");
    for (size_t k = 0; k < ns; k++) {
        int64_t in = geo->in_spatial[k], s = geo->strides[k], ext, t;
        int64_t *pb = &geo->pads[k], *pe = &geo->pads[ns + k];
        if (td_mul_i64(geo->dilations[k], geo->kernel[k] - 1, &ext) ||
            td_add_i64(ext, 1, &ext))
            return overflows(n, geo, "dilations and kernel", k, err);
        if (valid)
            *pb = *pe = 0;
        if (same) {
            if (in < 0) {
                *pb = *pe = -1;
                continue;
            }
            int64_t out = ceil_div(in, s);
            if (td_mul_i64(out - 1, s, &t) || td_add_i64(t, ext, &t) ||
                td_sub_i64(t, in, &t))
                return overflows(n, geo, "strides and dilations", k, err);
            split_total(t, !strcmp(geo->auto_pad, "SAME_UPPER"), pb, pe);
            geo->out_spatial[k] = out;
            continue;
        }
        if (in < 0)
            continue;
        int64_t span, start_limit;
        if (td_add_i64(in, *pb, &start_limit) ||
            td_add_i64(start_limit, *pe, &span) || td_sub_i64(span, ext, &span))
            return overflows(n, geo, "pads", k, err);
        if (span < 0)
            continue;  /* the window does not fit: invalid, leave unknown */
        int64_t out = ceil_mode ? ceil_div(span, s) : span / s;
        if (td_add_i64(out, 1, &out))
            return overflows(n, geo, "strides", k, err);
        /* (out - 1) * s >= in + pb, by division: the product may not fit */
        if (ceil_mode && out - 1 >= ceil_div(start_limit, s))
            out--;
        geo->out_spatial[k] = out;
    }
    return TD_OK;
}

/* ConvTranspose-11: out = s*(in-1) + output_padding + d*(k-1)+1 - pads,
 * or output_shape / SAME (out = in*s) with the pads that make it so. */
static td_status transpose_sizes(const Onnx__NodeProto *n, td_conv_geom *geo,
                                 td_err_t *err)
{
    size_t ns = geo->n_spatial;
    int64_t opad[TD_CONV_MAX_SPATIAL], oshape_v[TD_CONV_MAX_SPATIAL];
    td_status s = ints_attr(n, "output_padding", ns, 0, opad, err);
    if (s)
        return s;
    const int64_t *os;
    size_t nos;
    if ((s = td_attr_ints(n, "output_shape", &os, &nos, err)))
        return s;
    int have_os = nos >= ns;
    for (size_t k = 0; have_os && k < ns; k++)
        oshape_v[k] = os[nos - ns + k];
    int same = !strncmp(geo->auto_pad, "SAME_", 5);
    int upper = !strcmp(geo->auto_pad, "SAME_UPPER");
    for (size_t k = 0; k < ns; k++) {
        int64_t in = geo->in_spatial[k], st = geo->strides[k], ext, full;
        int64_t *pb = &geo->pads[k], *pe = &geo->pads[ns + k];
        if (td_mul_i64(geo->dilations[k], geo->kernel[k] - 1, &ext) ||
            td_add_i64(ext, 1, &ext))
            return overflows(n, geo, "dilations and kernel", k, err);
        if (!strcmp(geo->auto_pad, "VALID"))
            *pb = *pe = 0;
        if (in < 0 && (have_os || same))
            *pb = *pe = -1;
        if (in < 0) {
            if (have_os)
                geo->out_spatial[k] = oshape_v[k];
            continue;
        }
        /* the output before any padding is taken off */
        if (td_mul_i64(st, in - 1, &full) || td_add_i64(full, opad[k], &full) ||
            td_add_i64(full, ext, &full))
            return overflows(n, geo, "strides, output_padding and dilations",
                             k, err);
        if (have_os || same) {
            int64_t out = oshape_v[k], total;
            if (!have_os && td_mul_i64(in, st, &out))
                return overflows(n, geo, "strides", k, err);
            geo->out_spatial[k] = out;
            if (td_sub_i64(full, out, &total))
                return overflows(n, geo, "output_shape", k, err);
            split_total(total, upper, pb, pe);
            continue;
        }
        if (td_sub_i64(full, *pb, &full) || td_sub_i64(full, *pe, &full))
            return overflows(n, geo, "pads", k, err);
        geo->out_spatial[k] = full;
    }
    return TD_OK;
}

td_status td_conv_geometry(const Onnx__NodeProto *n, const int64_t *w,
                           size_t w_rank, const int64_t *x_spatial,
                           td_conv_geom *geo, td_err_t *err)
{
    if (w_rank < 3)
        return td_err_set(err, TD_EINPUT, "node '%s' (%s): weight of rank "
                          "%zu", n->name ? n->name : "", n->op_type, w_rank);
    td_status s = geom_attrs(n, w_rank - 2, w + 2, x_spatial, geo, err);
    if (s)
        return s;
    if (!strcmp(n->op_type, "ConvTranspose"))
        return transpose_sizes(n, geo, err);
    return forward_sizes(n, geo, 0, err);
}

static int rule_conv_like(sh_ctx *c, const char *op)
{
    int wi = td_conv_weight_index(op);
    const sh_entry *x = sh_in(c, 0), *w = sh_in(c, (size_t)wi);
    int64_t out[SH_MAX_RANK];
    if (!w || w->rank < 3) {
        if (!x)
            return SH_OK;
        /* N and rank known, the rest not */
        out[0] = x->dims[0];
        for (int k = 1; k < x->rank; k++)
            out[k] = -1;
        return sh_out(c, 0, out, x->rank);
    }
    int rank = w->rank;
    const int64_t *xs = x && x->rank == rank ? x->dims + 2 : NULL;
    td_conv_geom geo;
    out[0] = xs ? x->dims[0] : -1;
    for (int k = 2; k < rank; k++)
        out[k] = -1;
    int transpose = !strcmp(op, "ConvTranspose");
    if (transpose)
        out[1] = w->dims[1];
    else
        out[1] = w->dims[0];
    td_err_t attr_err;
    if (td_conv_geometry(c->n, w->dims, (size_t)rank, xs, &geo, &attr_err) ==
        TD_OK) {
        for (int k = 2; k < rank; k++)
            out[k] = geo.out_spatial[k - 2];
        if (transpose && out[1] >= 0 && td_mul_i64(out[1], geo.group, &out[1]))
            return sh_overflow(c, "group and the weight's channels");
    } else if (geo.overflow) {
        *c->err = attr_err;
        return SH_EINPUT;
    } else if (transpose) {
        out[1] = -1;
    }
    return sh_out(c, 0, out, rank);
}

static int rule_pool(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0);
    if (!x || x->rank < 3)
        return SH_OK;
    int64_t out[SH_MAX_RANK];
    td_conv_geom geo;
    td_err_t attr_err;
    out[0] = x->dims[0];
    out[1] = x->dims[1];
    for (int k = 2; k < x->rank; k++)
        out[k] = -1;
    if (geom_attrs(c->n, (size_t)x->rank - 2, NULL, x->dims + 2, &geo,
                   &attr_err) == TD_OK) {
        if (forward_sizes(c->n, &geo, sh_attr_i(c->n, "ceil_mode", 0) != 0,
                          c->err))
            return SH_EINPUT;
        for (int k = 2; k < x->rank; k++)
            out[k] = geo.out_spatial[k - 2];
    }
    int r = sh_out(c, 0, out, x->rank);
    return r ? r : sh_out(c, 1, out, x->rank);  /* MaxPool's Indices */
}

static int rule_global_pool(sh_ctx *c)
{
    const sh_entry *x = sh_in(c, 0);
    if (!x || x->rank < 2)
        return SH_OK;
    int64_t out[SH_MAX_RANK];
    for (int k = 0; k < x->rank; k++)
        out[k] = k < 2 ? x->dims[k] : 1;
    return sh_out(c, 0, out, x->rank);
}

int sh_rule_conv(sh_ctx *c, const char *op)
{
    int r;
    if (td_conv_weight_index(op) >= 0)
        r = rule_conv_like(c, op);
    else if (!strcmp(op, "MaxPool") || !strcmp(op, "AveragePool") ||
             !strcmp(op, "LpPool"))
        r = rule_pool(c);
    else if (!strcmp(op, "GlobalAveragePool") || !strcmp(op, "GlobalMaxPool") ||
             !strcmp(op, "GlobalLpPool"))
        r = rule_global_pool(c);
    else
        return 0;
    return r ? r : 1;
}
