/* Tensor and type comparison for td_diff: integer, BOOL and FLOAT8 values
 * compared exactly, floats decoded to double, so the same tensor stored
 * raw, typed or externally compares equal; other kinds fall back to
 * serialized bytes. */
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

/* Integer, BOOL and 8-bit float tensors compare exactly, element by
 * element, whichever field holds them: 0 when dt is not one of them, else
 * its width in bits, with *sgn for the signed integers. */
static int exact_width(int32_t dt, int *sgn)
{
    *sgn = dt == DT(INT8) || dt == DT(INT16) || dt == DT(INT32) ||
           dt == DT(INT64);
    switch (dt) {
    case DT(INT8): case DT(UINT8): case DT(BOOL): case DT(FLOAT8E4M3FN):
    case DT(FLOAT8E4M3FNUZ): case DT(FLOAT8E5M2): case DT(FLOAT8E5M2FNUZ):
        return 8;
    case DT(INT16): case DT(UINT16): return 16;
    case DT(INT32): case DT(UINT32): return 32;
    case DT(INT64): case DT(UINT64): return 64;
    default: return 0;
    }
}

/* Element i as the value a reader gets (ONNX's numpy_helper.to_array):
 * raw_data holds it little-endian at the dtype's width; int32_data holds
 * INT8..UINT16, BOOL and FLOAT8 codes widened, uint64_data UINT32/UINT64,
 * and a typed value is cast to the dtype (truncated, BOOL to 0 or 1). The
 * result is the value's bits, sign-extended for the signed types. */
static uint64_t exact_at(const Onnx__TensorProto *t, int64_t i, int width,
                         int sgn)
{
    uint64_t v = 0;
    int32_t dt = t->data_type;
    if (t->has_raw_data) {
        const uint8_t *p = t->raw_data.data + (size_t)i * (size_t)(width / 8);
        for (int k = width / 8 - 1; k >= 0; k--)
            v = v << 8 | p[k];
    } else if (dt == DT(INT64)) {
        v = (uint64_t)t->int64_data[i];
    } else if (dt == DT(UINT32) || dt == DT(UINT64)) {
        v = t->uint64_data[i];
    } else {
        v = (uint64_t)(int64_t)t->int32_data[i];
    }
    if (width < 64) {
        uint64_t top = (uint64_t)1 << (width - 1);
        v &= (top << 1) - 1;
        if (sgn && (v & top))
            v |= ~((top << 1) - 1);
    }
    if (dt == DT(BOOL))
        v = v != 0;
    return v;
}

/* Whether a pair at distance d (> 0) is within the tolerance; y is the
 * second model's element (numpy.allclose: atol + rtol * |b|). */
static int within(const td_diff_opts *o, double d, double y)
{
    return o && d <= o->atol + o->rtol * fabs(y);
}

/* Records one unequal pair at distance d in r. */
static void note_pair(tensor_cmp *r, const td_diff_opts *o, double d, double y)
{
    double rel = y != 0 ? d / fabs(y) : INFINITY;
    if (!(d <= r->max_abs_diff))
        r->max_abs_diff = d;
    if (!(rel <= r->max_rel_diff))
        r->max_rel_diff = rel;
    if (!within(o, d, y))
        r->n_diff++;
}

/* Fills r by exact comparison (within o's tolerance for the integers)
 * when both tensors are of one such dtype and hold their data in the
 * file; 0 when this does not apply. */
static int diff_exact(const Onnx__TensorProto *a, const Onnx__TensorProto *b,
                      const td_diff_opts *o, tensor_cmp *r)
{
    int sgn;
    int width = exact_width(a->data_type, &sgn);
    td_err_t ignored;
    if (!width || !r->dtype_same || td_tensor_validate(a, &ignored) ||
        td_tensor_validate(b, &ignored))
        return 0;
    for (const Onnx__TensorProto *t = a; t; t = t == a ? b : NULL)
        if (t->has_data_location && !t->has_raw_data &&
            t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
            return 0;  /* not read in: no values to compare */
    int64_t n = td_tensor_numel(a);
    /* a float8 code's or a bool's difference means nothing: exact */
    int codes = a->data_type >= DT(FLOAT8E4M3FN) &&
                a->data_type <= DT(FLOAT8E5M2FNUZ);
    int plain = !codes && a->data_type != DT(BOOL);
    r->numeric = !codes;
    for (int64_t i = 0; i < n; i++) {
        uint64_t x = exact_at(a, i, width, sgn), y = exact_at(b, i, width, sgn);
        if (x == y)
            continue;
        /* the distance in unsigned arithmetic is exact (it is < 2^64),
         * where a difference of doubles would round int64s to equal */
        int x_above = sgn ? (int64_t)x > (int64_t)y : x > y;
        double d = (double)(x_above ? x - y : y - x);
        double yv = sgn ? (double)(int64_t)y : (double)y;
        if (codes) {
            r->n_diff++;
            continue;
        }
        note_pair(r, plain ? o : NULL, d, yv);
    }
    r->same = r->n_diff == 0;
    return 1;
}

/* A payload neither decoder above reads (strings, complex, 4-bit):
 * compared as serialized tensors without their names and annotations. */
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
                      const td_diff_opts *o, tensor_cmp *r, td_err_t *err)
{
    memset(r, 0, sizeof *r);
    r->dtype_same = a->data_type == b->data_type;
    r->shape_same = a->n_dims == b->n_dims &&
                    (!a->n_dims ||
                     !memcmp(a->dims, b->dims, a->n_dims * sizeof *a->dims));
    if (!r->shape_same || diff_exact(a, b, o, r))
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
    r->numeric = 1;
    for (int64_t i = 0; i < na; i++) {
        double x = va[i], y = vb[i];
        int nan_x = isnan(x), nan_y = isnan(y);
        if (nan_x && nan_y)
            continue;  /* NaN is NaN whatever its payload bits */
        if (x == y)
            continue;
        if (nan_x || nan_y || isinf(x) || isinf(y)) {
            /* NaN against a number, or an infinity against anything
             * else: never within a tolerance (as numpy.isclose) */
            r->n_diff++;
            r->max_abs_diff = r->max_rel_diff = INFINITY;
            continue;
        }
        note_pair(r, o, fabs(x - y), y);
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
