/* The shape table and the inference driver: seeds from graph inputs,
 * initializers and Constant nodes, then one pass over the nodes in
 * topological order, each handled by the operator rules in td_shape_*.c. */
#include "td_shape.h"

#include <stdlib.h>
#include <string.h>

#include "td_shape_internal.h"
#include "td_tensor.h"

#define DT(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

const sh_entry *sh_find(const td_shapes *s, const char *name)
{
    if (!name || !name[0])
        return NULL;
    int64_t i = td_strmap_get(s->index, name);
    return i < 0 ? NULL : &s->e[i];
}

int sh_put(td_shapes *s, const char *name, const int64_t *dims, int rank,
           const int64_t *values, int n_values)
{
    if (!name || !name[0])
        return SH_OK;
    if (rank > SH_MAX_RANK)
        rank = -1;
    if (n_values > SH_MAX_VALUES || rank < 0)
        n_values = -1;
    int64_t i = td_strmap_get(s->index, name);
    if (i < 0) {
        /* Sized up front for every name the graph defines, so entries
         * never move while a rule holds pointers to its inputs. */
        if (s->n == s->cap)
            return SH_NOMEM;
        i = (int64_t)s->n++;
        if (td_strmap_put(s->index, name, i))
            return SH_NOMEM;
    }
    sh_entry *e = &s->e[i];
    e->name = name;
    e->rank = rank;
    for (int k = 0; k < rank; k++)
        e->dims[k] = dims[k] < 0 ? -1 : dims[k];
    e->n_values = n_values;
    for (int k = 0; k < n_values; k++)
        e->values[k] = values[k];
    return SH_OK;
}

const sh_entry *sh_in(const sh_ctx *c, size_t k)
{
    if (k >= c->n->n_input)
        return NULL;
    const sh_entry *e = sh_find(c->s, c->n->input[k]);
    return e && e->rank >= 0 ? e : NULL;
}

int sh_out(sh_ctx *c, size_t k, const int64_t *dims, int rank)
{
    return sh_out_values(c, k, dims, rank, NULL, -1);
}

int sh_out_values(sh_ctx *c, size_t k, const int64_t *dims, int rank,
                  const int64_t *values, int n_values)
{
    if (k >= c->n->n_output)
        return SH_OK;
    return sh_put(c->s, c->n->output[k], dims, rank, values, n_values);
}

int sh_in_ints(const sh_ctx *c, size_t k, const int64_t **v, int *n)
{
    const sh_entry *e = sh_in(c, k);
    if (!e || e->n_values < 0)
        return 0;
    *v = e->values;
    *n = e->n_values;
    return 1;
}

int sh_in_doubles(const sh_ctx *c, size_t k, double **v, int64_t *n)
{
    if (k >= c->n->n_input || !c->n->input[k][0])
        return 0;
    const Onnx__TensorProto *t = td_graph_constant(c->g, c->n->input[k]);
    if (!t)
        return 0;
    td_err_t ignored;
    return td_tensor_to_double(t, v, n, &ignored) == TD_OK;
}

int sh_ints_attr_or_input(const sh_ctx *c, const char *attr, size_t k,
                          const int64_t **v, int *n)
{
    const Onnx__AttributeProto *a = td_attr_find(c->n, attr);
    if (a) {
        if (a->n_ints > SH_MAX_VALUES)
            return 0;
        *v = a->ints;
        *n = (int)a->n_ints;
        return 1;
    }
    return sh_in_ints(c, k, v, n);
}

int64_t sh_attr_i(const Onnx__NodeProto *n, const char *name, int64_t dflt)
{
    int64_t v;
    td_err_t ignored;
    return td_attr_int(n, name, dflt, &v, &ignored) == TD_OK ? v : dflt;
}

const char *sh_node_label(const Onnx__NodeProto *n)
{
    if (n->name && n->name[0])
        return n->name;
    return n->n_output && n->output[0] ? n->output[0] : "";
}

int sh_overflow(sh_ctx *c, const char *what)
{
    td_err_set(c->err, TD_EINPUT, "node '%s' (%s): %s give a size that "
               "overflows int64", sh_node_label(c->n),
               c->n->op_type ? c->n->op_type : "", what);
    return SH_EINPUT;
}

int sh_axis(int64_t axis, int rank)
{
    if (axis < 0)
        axis += rank;
    return axis < 0 || axis >= rank ? -1 : (int)axis;
}

/* Integer contents of a small tensor, for shape arithmetic. Decoded here
 * rather than through doubles: INT64_MAX (Slice's "to the end") must stay
 * exact. */
int sh_tensor_ints(const Onnx__TensorProto *t, int64_t *v, int *n)
{
    int64_t numel = td_tensor_numel(t);
    int wide = t->data_type == DT(INT64);
    td_err_t ignored;
    if (numel < 0 || numel > SH_MAX_VALUES ||
        (!wide && t->data_type != DT(INT32)) ||
        td_tensor_validate(t, &ignored) != TD_OK)
        return 0;
    for (int64_t i = 0; i < numel; i++) {
        if (t->has_raw_data) {
            const uint8_t *p = t->raw_data.data + (wide ? 8 : 4) * i;
            uint64_t u = 0;
            for (int k = wide ? 7 : 3; k >= 0; k--)
                u = u << 8 | p[k];
            v[i] = wide ? (int64_t)u : (int64_t)(int32_t)(uint32_t)u;
        } else {
            v[i] = wide ? t->int64_data[i] : t->int32_data[i];
        }
    }
    *n = (int)numel;
    return 1;
}

static int put_tensor(td_shapes *s, const char *name,
                      const Onnx__TensorProto *t)
{
    int64_t vals[SH_MAX_VALUES];
    int nv = -1;
    if (!sh_tensor_ints(t, vals, &nv))
        nv = -1;
    if (t->n_dims > SH_MAX_RANK)
        return sh_put(s, name, NULL, -1, NULL, -1);
    return sh_put(s, name, t->dims, (int)t->n_dims, vals, nv);
}

/* Constant: the shape of whichever value_* attribute it holds. */
static int rule_constant(sh_ctx *c)
{
    const Onnx__NodeProto *n = c->n;
    if (n->n_output < 1)
        return SH_OK;
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        const char *an = a->name ? a->name : "";
        int64_t cnt;
        if (!strcmp(an, "value") && a->t)
            return put_tensor(c->s, n->output[0], a->t);
        if (!strcmp(an, "value_int"))
            return sh_out_values(c, 0, NULL, 0, &a->i, 1);
        if (!strcmp(an, "value_float") || !strcmp(an, "value_string"))
            return sh_out(c, 0, NULL, 0);
        if (!strcmp(an, "value_ints")) {
            cnt = (int64_t)a->n_ints;
            return sh_out_values(c, 0, &cnt, 1, a->ints,
                                 a->n_ints > SH_MAX_VALUES ? -1
                                                           : (int)a->n_ints);
        }
        if (!strcmp(an, "value_floats") || !strcmp(an, "value_strings")) {
            cnt = (int64_t)(an[6] == 'f' ? a->n_floats : a->n_strings);
            return sh_out(c, 0, &cnt, 1);
        }
        if (!strcmp(an, "sparse_value") && a->sparse_tensor &&
            a->sparse_tensor->n_dims <= SH_MAX_RANK)
            return sh_out(c, 0, a->sparse_tensor->dims,
                          (int)a->sparse_tensor->n_dims);
    }
    return SH_OK;
}

static int value_info_dims(const Onnx__ValueInfoProto *v,
                           const td_shape_opts *o, int64_t *dims)
{
    if (!v->type || v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !v->type->tensor_type || !v->type->tensor_type->shape)
        return -1;
    const Onnx__TensorShapeProto *sh = v->type->tensor_type->shape;
    if (sh->n_dim > SH_MAX_RANK)
        return -1;
    for (size_t k = 0; k < sh->n_dim; k++) {
        const Onnx__TensorShapeProto__Dimension *d = sh->dim[k];
        dims[k] = -1;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            dims[k] = d->dim_value;
        else if (d->value_case ==
                     ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                 o && d->dim_param)
            for (size_t j = 0; j < o->n_dims; j++)
                if (o->dims[j].name && !strcmp(o->dims[j].name, d->dim_param))
                    dims[k] = o->dims[j].value;
    }
    return (int)sh->n_dim;
}

/* Fills what inference left unknown from a declared shape of the same
 * value; an inferred known dim is kept (declarations may be stale). */
static int merge_declared(td_shapes *s, const char *name,
                          const td_strmap *declared,
                          Onnx__ValueInfoProto *const *vi, size_t n_vi)
{
    int64_t at = td_strmap_get(declared, name);
    if (at < 0 || (size_t)at >= n_vi)
        return SH_OK;
    int64_t dims[SH_MAX_RANK];
    int rank = value_info_dims(vi[at], NULL, dims);
    if (rank < 0)
        return SH_OK;
    const sh_entry *e = sh_find(s, name);
    if (e && e->rank >= 0) {
        if (e->rank != rank)
            return SH_OK;
        for (int k = 0; k < rank; k++)
            if (e->dims[k] >= 0)
                dims[k] = e->dims[k];
        return sh_put(s, name, dims, rank, e->values, e->n_values);
    }
    return sh_put(s, name, dims, rank, NULL, -1);
}

static int infer_node(sh_ctx *c)
{
    const Onnx__NodeProto *n = c->n;
    const char *op = n->op_type ? n->op_type : "";
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return SH_OK;  /* other domains: outputs stay unknown */
    if (!strcmp(op, "Constant"))
        return rule_constant(c);
    int r = sh_rule_conv(c, op);
    if (!r)
        r = sh_rule_elementwise(c, op);
    if (!r)
        r = sh_rule_tensor(c, op);
    return r < 0 ? r : SH_OK;
}

td_status td_shape_infer(td_graph *g, const td_shape_opts *opts,
                         td_shapes **out, td_err_t *err)
{
    *out = NULL;
    td_strmap *declared = NULL;
    Onnx__ValueInfoProto **vi = NULL;
    size_t n_vi = 0, n_nodes = td_graph_node_count(g);
    int64_t dims[SH_MAX_RANK];
    td_shapes *s = calloc(1, sizeof *s);
    const Onnx__GraphProto *cur = td_graph_build(g);
    if (!s || !cur)
        goto nomem;
    size_t names = cur->n_input + td_graph_init_count(g) +
                   cur->n_sparse_initializer + 1;
    for (size_t i = 0; i < n_nodes; i++)
        names += td_graph_node(g, i)->n_output;
    s->cap = names;
    if (!(s->e = calloc(names, sizeof *s->e)) ||
        !(s->index = td_strmap_new(names + 16)))
        goto nomem;
    for (size_t i = 0; i < cur->n_input; i++) {
        int rank = value_info_dims(cur->input[i], opts, dims);
        if (sh_put(s, cur->input[i]->name, dims, rank, NULL, -1))
            goto nomem;
    }
    for (size_t i = 0; i < td_graph_init_count(g); i++) {
        const Onnx__TensorProto *t = td_graph_init(g, i);
        if (put_tensor(s, t->name, t))
            goto nomem;
    }
    /* a sparse initializer has its dense shape (its values are not small
     * integer tensors: shape arithmetic does not read them) */
    for (size_t i = 0; i < cur->n_sparse_initializer; i++) {
        const Onnx__SparseTensorProto *t = cur->sparse_initializer[i];
        const char *nm = td_graph_sparse_name(t);
        int rank = t->n_dims <= SH_MAX_RANK ? (int)t->n_dims : -1;
        if (nm && sh_put(s, nm, t->dims, rank, NULL, -1))
            goto nomem;
    }
    /* value_info then graph outputs: a later put replaces an earlier one,
     * so outputs win, as they are the graph's contract. */
    if (opts && opts->use_declared) {
        n_vi = cur->n_value_info + cur->n_output;
        vi = calloc(n_vi + 1, sizeof *vi);
        if (!vi || !(declared = td_strmap_new(n_vi + 16)))
            goto nomem;
        for (size_t i = 0; i < cur->n_value_info; i++)
            vi[i] = cur->value_info[i];
        for (size_t i = 0; i < cur->n_output; i++)
            vi[cur->n_value_info + i] = cur->output[i];
        for (size_t i = 0; i < n_vi; i++)
            if (vi[i]->name && td_strmap_put(declared, vi[i]->name, (int64_t)i))
                goto nomem;
    }
    sh_ctx c = {s, g, NULL, err};
    for (size_t i = 0; i < n_nodes; i++) {
        c.n = td_graph_node(g, i);
        int r = infer_node(&c);
        if (r == SH_EINPUT) {
            free(vi);
            td_strmap_free(declared);
            td_shapes_free(s);
            return TD_EINPUT;
        }
        if (r)
            goto nomem;
        for (size_t k = 0; declared && k < c.n->n_output; k++)
            if (c.n->output[k][0] &&
                merge_declared(s, c.n->output[k], declared, vi, n_vi))
                goto nomem;
    }
    free(vi);
    td_strmap_free(declared);
    *out = s;
    return TD_OK;
nomem:
    free(vi);
    td_strmap_free(declared);
    td_shapes_free(s);
    return td_err_set(err, TD_ENOMEM, "shape inference: out of memory");
}

void td_shapes_free(td_shapes *s)
{
    if (!s)
        return;
    td_strmap_free(s->index);
    free(s->e);
    free(s);
}

int td_shape_get(const td_shapes *s, const char *name, const int64_t **dims,
                 size_t *ndims)
{
    const sh_entry *e = sh_find(s, name);
    if (!e || e->rank < 0)
        return 0;
    *dims = e->dims;
    *ndims = (size_t)e->rank;
    return 1;
}
