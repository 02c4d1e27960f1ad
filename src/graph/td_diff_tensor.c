/* Tensor and type comparison for td_diff: values decoded to double (exact
 * int64 for INT64), so the same tensor stored raw, typed or externally
 * compares equal; other kinds fall back to serialized bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_diff_internal.h"
#include "td_tensor.h"

#define DT(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

int diff_msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    if (!a || !b)
        return a == b;
    size_t na = protobuf_c_message_get_packed_size(a);
    size_t nb = protobuf_c_message_get_packed_size(b);
    if (na != nb)
        return 0;
    uint8_t *pa = malloc(na ? na : 1), *pb = malloc(nb ? nb : 1);
    int r = -1;
    if (pa && pb) {
        protobuf_c_message_pack(a, pa);
        protobuf_c_message_pack(b, pb);
        r = memcmp(pa, pb, na) == 0;
    }
    free(pa);
    free(pb);
    return r;
}

static int64_t int64_at(const Onnx__TensorProto *t, int64_t i)
{
    if (!t->has_raw_data)
        return t->int64_data[i];
    const uint8_t *p = t->raw_data.data + 8 * i;
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return (int64_t)v;
}

/* A payload ONNX stores in a way td_tensor_to_double does not decode
 * (strings, bool, uint16/32/64, complex, float8/4-bit): compared as
 * serialized tensors without their names and annotations. */
static int payload_equal(const Onnx__TensorProto *a,
                         const Onnx__TensorProto *b)
{
    if (a->has_raw_data && b->has_raw_data)
        return a->raw_data.len == b->raw_data.len &&
               (!a->raw_data.len ||
                !memcmp(a->raw_data.data, b->raw_data.data, a->raw_data.len));
    Onnx__TensorProto ca = *a, cb = *b;
    ca.name = cb.name = NULL;
    ca.doc_string = cb.doc_string = NULL;
    ca.n_metadata_props = cb.n_metadata_props = 0;
    ca.base.n_unknown_fields = cb.base.n_unknown_fields = 0;
    return diff_msg_equal(&ca.base, &cb.base);
}

td_status diff_tensor(const Onnx__TensorProto *a, const Onnx__TensorProto *b,
                      tensor_cmp *r, td_err_t *err)
{
    memset(r, 0, sizeof *r);
    r->dtype_same = a->data_type == b->data_type;
    r->shape_same = a->n_dims == b->n_dims &&
                    (!a->n_dims ||
                     !memcmp(a->dims, b->dims, a->n_dims * sizeof *a->dims));
    if (!r->shape_same)
        return TD_OK;
    double *va = NULL, *vb = NULL;
    int64_t na = 0, nb = 0;
    td_err_t e1, e2;
    td_status s1 = td_tensor_to_double(a, &va, &na, &e1);
    td_status s2 = s1 ? s1 : td_tensor_to_double(b, &vb, &nb, &e2);
    if (s1 == TD_ENOMEM || s2 == TD_ENOMEM) {
        free(va);
        free(vb);
        return td_err_set(err, TD_ENOMEM, "%s",
                          s1 == TD_ENOMEM ? e1.msg : e2.msg);
    }
    if (s1 || s2 || na != nb) {
        free(va);
        free(vb);
        int eq = r->dtype_same ? payload_equal(a, b) : 0;
        if (eq < 0)
            return td_err_set(err, TD_ENOMEM, "out of memory");
        r->same = r->dtype_same && eq;
        return TD_OK;
    }
    int ints = a->data_type == DT(INT64) && b->data_type == DT(INT64);
    r->numeric = 1;
    for (int64_t i = 0; i < na; i++) {
        double x = va[i], y = vb[i];
        int nan_x = isnan(x), nan_y = isnan(y);
        if (nan_x && nan_y)
            continue;  /* NaN is NaN whatever its payload bits */
        int differ = ints ? int64_at(a, i) != int64_at(b, i) : x != y;
        if (!differ)
            continue;
        r->n_diff++;
        double d = nan_x || nan_y ? INFINITY : fabs(x - y);
        if (!(d <= r->max_abs_diff))
            r->max_abs_diff = d;
    }
    free(va);
    free(vb);
    r->same = r->dtype_same && r->n_diff == 0;
    return TD_OK;
}

static void put_dims(td_buf *b, const int64_t *d, size_t n)
{
    td_buf_put(b, "[", 1);
    for (size_t k = 0; k < n; k++)
        td_buf_printf(b, "%s%lld", k ? ", " : "", (long long)d[k]);
    td_buf_put(b, "]", 1);
}

static const char *take(td_arena *a, td_buf *b)
{
    char *s = td_buf_take(b);
    const char *r = s ? td_arena_strdup(a, s) : NULL;
    free(s);
    return r ? r : "?";
}

const char *diff_tensor_desc(td_arena *a, const Onnx__TensorProto *t)
{
    td_buf b = {0};
    td_buf_printf(&b, "%s ", td_dtype_name(t->data_type));
    put_dims(&b, t->dims, t->n_dims);
    return take(a, &b);
}

static const Onnx__TypeProto__Tensor *tensor_type(const Onnx__TypeProto *tp)
{
    return tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
               ? tp->tensor_type
               : NULL;
}

const char *diff_type_desc(td_arena *a, const Onnx__TypeProto *tp)
{
    const Onnx__TypeProto__Tensor *tt = tensor_type(tp);
    if (!tp)
        return "(no type)";
    if (!tt)
        return "(non-tensor type)";
    td_buf b = {0};
    td_buf_printf(&b, "%s", tt->has_elem_type ? td_dtype_name(tt->elem_type)
                                              : "?");
    if (tt->shape) {
        td_buf_put(&b, " [", 2);
        for (size_t k = 0; k < tt->shape->n_dim; k++) {
            const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
            const char *sep = k ? ", " : "";
            if (d->value_case ==
                ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
                td_buf_printf(&b, "%s%lld", sep, (long long)d->dim_value);
            else if (d->value_case ==
                         ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                     d->dim_param)
                td_buf_printf(&b, "%s%s", sep, d->dim_param);
            else
                td_buf_printf(&b, "%s?", sep);
        }
        td_buf_put(&b, "]", 1);
    }
    return take(a, &b);
}

void diff_json_type(td_buf *b, const Onnx__TypeProto *tp)
{
    const Onnx__TypeProto__Tensor *tt = tensor_type(tp);
    td_json_key(b, "dtype");
    if (tt && tt->has_elem_type)
        td_json_str(b, td_dtype_name(tt->elem_type));
    else
        td_json_null(b);
    td_json_key(b, "shape");
    if (!tt || !tt->shape) {
        td_json_null(b);
        return;
    }
    td_json_open(b, '[');
    for (size_t k = 0; k < tt->shape->n_dim; k++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            td_json_int(b, d->dim_value);
        else if (d->value_case ==
                     ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                 d->dim_param)
            td_json_str(b, d->dim_param);
        else
            td_json_null(b);
    }
    td_json_close(b, ']');
}

static int str_eq(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

int diff_type_equal(const Onnx__TypeProto *a, const Onnx__TypeProto *b)
{
    const Onnx__TypeProto__Tensor *ta = tensor_type(a), *tb = tensor_type(b);
    if (!ta || !tb)
        return diff_msg_equal(a ? &a->base : NULL, b ? &b->base : NULL) == 1;
    if (ta->elem_type != tb->elem_type || !ta->shape != !tb->shape)
        return 0;
    if (!ta->shape)
        return 1;
    if (ta->shape->n_dim != tb->shape->n_dim)
        return 0;
    for (size_t k = 0; k < ta->shape->n_dim; k++) {
        const Onnx__TensorShapeProto__Dimension *x = ta->shape->dim[k],
                                                *y = tb->shape->dim[k];
        if (x->value_case != y->value_case)
            return 0;
        if (x->value_case ==
                ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
            x->dim_value != y->dim_value)
            return 0;
        if (x->value_case ==
                ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
            !str_eq(x->dim_param, y->dim_param))
            return 0;
    }
    return 1;
}
