/* Input shapes given by input name ("x:1,3,640,640") turned into values
 * for the symbolic dims they cover, and every name given checked against
 * the model: a name that matches nothing is refused, with the names that
 * would, instead of being ignored. */
#include <stdlib.h>
#include <string.h>

#include "graph/td_model.h"
#include "onnxtd.h"
#include "util/td_buf.h"

static const Onnx__TensorShapeProto *input_shape(const Onnx__ValueInfoProto *v)
{
    if (!v->type || v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
        return NULL;
    return v->type->tensor_type->shape;
}

static const char *dim_param(const Onnx__TensorShapeProto__Dimension *d)
{
    return d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
               && d->dim_param && d->dim_param[0] ? d->dim_param : NULL;
}

/* "a, b, c" of the inputs' names, or of their symbolic dims. */
static char *known_names(const Onnx__GraphProto *g, int dims)
{
    td_buf b = {0};
    size_t n = 0;
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__TensorShapeProto *sp = input_shape(g->input[i]);
        if (!dims) {
            td_buf_printf(&b, "%s'%s'", n++ ? ", " : "", g->input[i]->name);
            continue;
        }
        for (size_t d = 0; sp && d < sp->n_dim; d++)
            if (dim_param(sp->dim[d]))
                td_buf_printf(&b, "%s'%s'", n++ ? ", " : "",
                              dim_param(sp->dim[d]));
    }
    if (!n)
        td_buf_printf(&b, "none");
    return td_buf_take(&b);
}

static td_status refuse(td_err_t *err, const Onnx__GraphProto *g, int dims,
                        const char *fmt, const char *name)
{
    char *known = known_names(g, dims);
    td_status s = td_err_set(err, TD_EUSAGE, fmt, name,
                             known ? known : "(out of memory)");
    free(known);
    return s;
}

static int is_dim(const Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__TensorShapeProto *sp = input_shape(g->input[i]);
        for (size_t d = 0; sp && d < sp->n_dim; d++)
            if (dim_param(sp->dim[d]) && !strcmp(dim_param(sp->dim[d]), name))
                return 1;
    }
    return 0;
}

/* Adds name = value, or checks it against the value it already has. */
static td_status add_dim(onnxtd_dim_value *dims, size_t *n, size_t cap,
                         const char *name, int64_t value, const char *input,
                         td_err_t *err)
{
    for (size_t q = 0; q < *n; q++)
        if (!strcmp(dims[q].name, name)) {
            if (dims[q].value == value)
                return TD_OK;
            return td_err_set(err, TD_EUSAGE, "input '%s': dimension '%s' "
                              "given %lld, but %lld elsewhere", input, name,
                              (long long)value, (long long)dims[q].value);
        }
    if (*n == cap)
        return td_err_set(err, TD_EUSAGE, "more than %zu symbolic "
                          "dimensions given", cap);
    dims[*n].name = name;
    dims[(*n)++].value = value;
    return TD_OK;
}

static td_status one_shape(const Onnx__GraphProto *g,
                           const onnxtd_input_shape *s, onnxtd_dim_value *dims,
                           size_t *n, size_t cap, td_err_t *err)
{
    const Onnx__ValueInfoProto *v = NULL;
    for (size_t i = 0; !v && i < g->n_input; i++)
        if (g->input[i]->name && !strcmp(g->input[i]->name, s->input))
            v = g->input[i];
    if (!v)
        return refuse(err, g, 0, "input shape: the model has no input '%s' "
                      "(its inputs: %s)", s->input);
    const Onnx__TensorShapeProto *sp = input_shape(v);
    if (sp && sp->n_dim != s->n_dims)
        return td_err_set(err, TD_EUSAGE, "input shape: input '%s' has %zu "
                          "dimensions, %zu given", s->input, sp->n_dim,
                          s->n_dims);
    for (size_t d = 0; sp && d < sp->n_dim; d++) {
        const Onnx__TensorShapeProto__Dimension *dm = sp->dim[d];
        const char *name = dim_param(dm);
        td_status st = TD_OK;
        if (name)
            st = add_dim(dims, n, cap, name, s->dims[d], s->input, err);
        else if (dm->value_case ==
                     ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                 dm->dim_value != s->dims[d])
            st = td_err_set(err, TD_EUSAGE, "input shape: input '%s' has "
                            "%lld at axis %zu, %lld given", s->input,
                            (long long)dm->dim_value, d,
                            (long long)s->dims[d]);
        if (st)
            return st;
    }
    return TD_OK;
}

onnxtd_status onnxtd_input_dims(onnxtd_model *om,
                                const onnxtd_input_shape *shapes,
                                size_t n_shapes, onnxtd_dim_value *dims,
                                size_t *n_dims, size_t cap,
                                onnxtd_error *oerr)
{
    td_err_t *err = (td_err_t *)oerr;
    /* the inputs as read: compress has not run yet */
    const Onnx__GraphProto *g = td_graph_orig(td_model_graph((td_model *)om));
    if (!g)
        return (onnxtd_status)td_err_set(err, TD_EINPUT, "no graph");
    for (size_t q = 0; q < *n_dims; q++) {
        if (is_dim(g, dims[q].name))
            continue;
        int input = 0;
        for (size_t i = 0; i < g->n_input; i++)
            input |= g->input[i]->name && !strcmp(g->input[i]->name,
                                                  dims[q].name);
        return (onnxtd_status)refuse(err, g, 1, input
            ? "dims: '%s' is an input, not a symbolic dimension: give its "
              "whole shape as an input shape (--input-shape NAME:D1,D2,...);"
              " the symbolic dimensions are %s"
            : "dims: the inputs have no symbolic dimension '%s' (they "
              "have: %s)", dims[q].name);
    }
    for (size_t k = 0; k < n_shapes; k++) {
        td_status s = one_shape(g, &shapes[k], dims, n_dims, cap, err);
        if (s)
            return (onnxtd_status)s;
    }
    return ONNXTD_OK;
}
