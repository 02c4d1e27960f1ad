/* The chain-building helpers of td_chain.h and the entry point that puts a
 * method's chain in place of its layer. */
#include "td_emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/td_tensor.h"
#include "td_method.h"

const char *td_chain_fresh(td_chain *c, const char *suffix)
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

const char *td_chain_weight(td_chain *c, const char *suffix,
                          const int64_t *dims, size_t nd, const double *v)
{
    const char *nm = td_chain_fresh(c, suffix);
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

size_t td_chain_conv_dims(const td_layer *l, int64_t co, int64_t ci, int axis,
                        int64_t *dims)
{
    dims[0] = co;
    dims[1] = ci;
    for (int s = 0; s < l->nsp; s++)
        dims[2 + s] = axis == TD_CHAIN_ALL_AXES ? l->k[s] : axis == s ? l->k[s] : 1;
    return 2 + (size_t)l->nsp;
}

const char *td_chain_conv(td_chain *c, const char *suffix, const char *in,
                        const char *w, const char *b, int64_t group, int axis,
                        int64_t co, const char *out)
{
    if (c->st || !in || !w)
        return NULL;
    const td_layer *l = c->l;
    const char *name = td_chain_fresh(c, suffix);
    if (!out) {
        char sfx[64];
        snprintf(sfx, sizeof sfx, "%s_out", suffix);
        out = td_chain_fresh(c, sfx);
    }
    if (!name || !out)
        return NULL;
    const char *ins[3] = {in, w, b};
    Onnx__NodeProto *n = td_node_new(c->g, "Conv", name, ins, b ? 3 : 2, &out, 1);
    int64_t k[TD_MAX_SPATIAL], st[TD_MAX_SPATIAL], dl[TD_MAX_SPATIAL],
        pads[2 * TD_MAX_SPATIAL];
    int ns = l->nsp;
    for (int s = 0; s < ns; s++) {
        int mine = axis == TD_CHAIN_ALL_AXES || axis == s;
        k[s] = mine ? l->k[s] : 1;
        st[s] = mine ? l->strides[s] : 1;
        dl[s] = mine ? l->dilations[s] : 1;
        pads[s] = mine ? l->pads[s] : 0;
        pads[ns + s] = mine ? l->pads[ns + s] : 0;
    }
    int geometric = axis != TD_CHAIN_NO_GEOMETRY;
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

double *td_chain_zeros(td_chain *c, size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p && !c->st)
        c->st = td_err_set(c->err, TD_ENOMEM, "out of memory");
    return p;
}

const char *td_chain_bias(td_chain *c, const td_factors *f)
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
    const char *nm = td_chain_weight(c, "tdb", &l->cout, 1, v);
    free(v);
    return nm;
}

void td_chain_add_node(td_chain *c, Onnx__NodeProto *n)
{
    c->nodes[c->n++] = n;
}

td_status td_emit_chain(td_graph *g, const td_layer *l, const td_factors *f,
                        size_t node_index, int64_t opset, td_err_t *err)
{
    td_chain c = {.g = g, .l = l, .opset = opset, .err = err};
    const td_method_ops *ops = td_method_get(f->method);
    if (!ops)
        return td_err_set(err, TD_EUSAGE, "no chain for method %s",
                          td_method_name(f->method));
    ops->emit(&c, f);
    if (c.st)
        return c.st == TD_ENOMEM ? td_err_set(err, TD_ENOMEM, "out of memory")
                                 : c.st;
    /* The old weight is removed by the caller once every chain is in:
     * removing a Constant node now would shift the indices of layers still
     * to be replaced. */
    return td_graph_replace_node(g, node_index, c.nodes, c.n, err);
}
