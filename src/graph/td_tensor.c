#include "td_tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

int td_dtype_bits(int32_t dtype)
{
    switch (dtype) {
    case T(FLOAT): case T(INT32): case T(UINT32): return 32;
    case T(UINT8): case T(INT8): case T(BOOL): case T(FLOAT8E4M3FN):
    case T(FLOAT8E4M3FNUZ): case T(FLOAT8E5M2): case T(FLOAT8E5M2FNUZ):
        return 8;
    case T(UINT16): case T(INT16): case T(FLOAT16): case T(BFLOAT16):
        return 16;
    case T(INT64): case T(DOUBLE): case T(UINT64): case T(COMPLEX64):
        return 64;
    case T(COMPLEX128): return 128;
    case T(UINT4): case T(INT4): case T(FLOAT4E2M1): return 4;
    default: return 0;
    }
}

const char *td_dtype_name(int32_t dtype)
{
    static const char *names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
        "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
        "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
        "FLOAT4E2M1"};
    if (dtype >= 0 && (size_t)dtype < sizeof names / sizeof *names)
        return names[dtype];
    return "UNKNOWN";
}

int td_dtype_is_float(int32_t dtype)
{
    return dtype == T(FLOAT) || dtype == T(FLOAT16) || dtype == T(BFLOAT16) ||
           dtype == T(DOUBLE);
}

int64_t td_tensor_numel(const Onnx__TensorProto *t)
{
    int64_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++)
        if (t->dims[i] < 0 || td_mul_i64(n, t->dims[i], &n))
            return -1;
    return n;
}

/* Which typed field holds this dtype, and how many entries per element
 * (complex types store real and imaginary parts as two entries). */
static size_t typed_count(const Onnx__TensorProto *t, int32_t dtype, int *per)
{
    *per = 1;
    switch (dtype) {
    case T(FLOAT): return t->n_float_data;
    case T(COMPLEX64): *per = 2; return t->n_float_data;
    case T(DOUBLE): return t->n_double_data;
    case T(COMPLEX128): *per = 2; return t->n_double_data;
    case T(INT64): return t->n_int64_data;
    case T(UINT32): case T(UINT64): return t->n_uint64_data;
    case T(STRING): return t->n_string_data;
    default: return t->n_int32_data;
    }
}

/* "[4,4,3,3]", cut short with "..." when long (messages stay bounded). */
static void dims_text(const Onnx__TensorProto *t, char *out, size_t cap)
{
    size_t k = (size_t)snprintf(out, cap, "[");
    for (size_t i = 0; i < t->n_dims && k + 24 < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%lld", i ? "," : "",
                              (long long)t->dims[i]);
    snprintf(out + k, cap - k, "%s]", k + 24 < cap ? "" : "...");
}

td_status td_tensor_validate(const Onnx__TensorProto *t, td_err_t *err)
{
    char dims[128];
    const char *name = t->name ? t->name : "";
    int64_t n = td_tensor_numel(t);
    if (n < 0)
        return td_err_set(err, TD_EINPUT,
                          "tensor '%s': dims are negative or their product "
                          "overflows", name);
    int32_t dt = t->has_data_type ? t->data_type : 0;
    int bits = td_dtype_bits(dt);
    if (t->has_data_location &&
        t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return TD_OK;  /* checked when its file is read */
    if (t->has_raw_data) {
        if (dt == T(STRING))
            return td_err_set(err, TD_EINPUT,
                              "tensor '%s': a STRING tensor cannot use raw_data",
                              name);
        if (bits == 0)
            return TD_OK;  /* unknown type: size cannot matter to us */
        uint64_t need = ((uint64_t)n * (uint64_t)bits + 7) / 8;
        if ((uint64_t)n > UINT64_MAX / 128 || t->raw_data.len != need) {
            dims_text(t, dims, sizeof dims);
            return td_err_set(err, TD_EINPUT,
                              "tensor '%s': raw_data has %zu bytes but dims "
                              "%s of %s need %llu",
                              name, t->raw_data.len, dims, td_dtype_name(dt),
                              (unsigned long long)need);
        }
        return TD_OK;
    }
    int per;
    size_t have = typed_count(t, dt, &per);
    if (bits == 4) {
        /* 4-bit types pack two elements per int32_data entry. */
        if ((uint64_t)have != ((uint64_t)n + 1) / 2)
            goto mismatch;
        return TD_OK;
    }
    if (dt != T(STRING) && bits == 0)
        return TD_OK;
    if ((uint64_t)have == (uint64_t)n * (uint64_t)per)
        return TD_OK;
    /* A tensor with no payload at all and elements to hold is refused too. */
mismatch:
    dims_text(t, dims, sizeof dims);
    return td_err_set(err, TD_EINPUT,
                      "tensor '%s': holds %zu values but dims %s of %s need %lld",
                      name, have, dims, td_dtype_name(dt), (long long)n);
}

uint16_t td_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t man = x & 0x7fffffu;
    if (exp == 0xff)  /* Inf or NaN (keep NaN quiet) */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10)
            return (uint16_t)sign;
        /* Subnormal: shift the implicit 1 in, round to nearest even. */
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = 1u << (shift - 1);
        uint32_t r = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        if (rem > half || (rem == half && (r & 1)))
            r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1)))
        r++;  /* may carry into the exponent, which rounds up correctly */
    return (uint16_t)(sign | r);
}

float td_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t x;
    if (exp == 0) {
        if (man == 0) {
            x = sign;
        } else {
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        x = sign | 0x7f800000u | (man << 13);
    } else {
        x = sign | ((exp - 15 + 127) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

uint16_t td_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);  /* round to nearest even */
    return (uint16_t)(x >> 16);
}

float td_bf16_to_f32(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The types td_tensor_to_double reads. */
static int to_double_reads(int32_t dt)
{
    switch (dt) {
    case T(FLOAT): case T(DOUBLE): case T(FLOAT16): case T(BFLOAT16):
    case T(INT8): case T(UINT8): case T(INT32): case T(INT64):
        return 1;
    default:
        return 0;
    }
}

td_status td_tensor_to_double(const Onnx__TensorProto *t, double **out,
                              int64_t *numel, td_err_t *err)
{
    const char *name = t->name ? t->name : "";
    td_status s = td_tensor_validate(t, err);
    if (s)
        return s;
    int64_t n = td_tensor_numel(t);
    int32_t dt = t->data_type;
    /* before the allocation: validate does not bound the dims of a type
     * it has no size for (nor of data it has not read), so n may be any
     * count the dims multiply to */
    if (!to_double_reads(dt))
        return td_err_set(err, TD_EINPUT,
                          "tensor '%s': data type %s is not numeric here",
                          name, td_dtype_name(dt));
    size_t bytes;
    if (t->has_data_location &&
        t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL &&
        (!t->has_raw_data ||
         td_mul_size((size_t)n, (size_t)(td_dtype_bits(dt) / 8), &bytes) ||
         t->raw_data.len != bytes))
        return td_err_set(err, TD_EINPUT,
                          "tensor '%s': its external data is not loaded",
                          name);
    if (td_mul_size((size_t)n, sizeof(double), &bytes))
        return td_err_set(err, TD_ENOMEM, "tensor '%s' is too large", name);
    double *v = malloc(bytes ? bytes : 1);
    if (!v)
        return td_err_set(err, TD_ENOMEM, "tensor '%s': out of memory", name);
    const uint8_t *raw = t->has_raw_data ? t->raw_data.data : NULL;
    for (int64_t i = 0; i < n; i++) {
        double x;
        switch (dt) {
        case T(FLOAT): {
            float f;
            if (raw) {
                uint32_t b = (uint32_t)le(raw + 4 * i, 4);
                memcpy(&f, &b, 4);
            } else {
                f = t->float_data[i];
            }
            x = f;
            break;
        }
        case T(DOUBLE): {
            if (raw) {
                uint64_t b = le(raw + 8 * i, 8);
                memcpy(&x, &b, 8);
            } else {
                x = t->double_data[i];
            }
            break;
        }
        case T(FLOAT16):
        case T(BFLOAT16): {
            uint16_t h = raw ? (uint16_t)le(raw + 2 * i, 2)
                             : (uint16_t)t->int32_data[i];
            x = dt == T(FLOAT16) ? td_f16_to_f32(h) : td_bf16_to_f32(h);
            break;
        }
        case T(INT8): x = raw ? (int8_t)raw[i] : t->int32_data[i]; break;
        case T(UINT8): x = raw ? raw[i] : t->int32_data[i]; break;
        case T(INT32):
            x = raw ? (int32_t)(uint32_t)le(raw + 4 * i, 4) : t->int32_data[i];
            break;
        case T(INT64):
            x = (double)(raw ? (int64_t)le(raw + 8 * i, 8) : t->int64_data[i]);
            break;
        default:
            free(v);
            return td_err_set(err, TD_EINPUT,
                              "tensor '%s': data type %s is not numeric here",
                              name, td_dtype_name(dt));
        }
        v[i] = x;
    }
    *out = v;
    *numel = n;
    return TD_OK;
}

static Onnx__TensorProto *tensor_shell(td_arena *a, const char *name,
                                       int32_t dtype, const int64_t *dims,
                                       size_t ndims, size_t elem, size_t *n)
{
    Onnx__TensorProto *t = td_arena_alloc(a, sizeof *t);
    if (!t)
        return NULL;
    onnx__tensor_proto__init(t);
    t->name = td_arena_strdup(a, name);
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = ndims;
    t->dims = td_arena_memdup(a, dims, ndims * sizeof *dims);
    size_t count = 1;
    for (size_t i = 0; i < ndims; i++)
        if (dims[i] < 0 || td_mul_size(count, (size_t)dims[i], &count))
            return NULL;
    size_t bytes;
    if (td_mul_size(count, elem, &bytes))
        return NULL;
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = td_arena_alloc(a, bytes);
    if (!t->name || (ndims && !t->dims) || !t->raw_data.data)
        return NULL;
    *n = count;
    return t;
}

Onnx__TensorProto *td_tensor_from_double(td_arena *a, const char *name,
                                         int32_t dtype, const int64_t *dims,
                                         size_t ndims, const double *values)
{
    int bits = td_dtype_bits(dtype);
    if (!td_dtype_is_float(dtype))
        return NULL;
    size_t n;
    Onnx__TensorProto *t =
        tensor_shell(a, name, dtype, dims, ndims, (size_t)bits / 8, &n);
    if (!t)
        return NULL;
    uint8_t *p = t->raw_data.data;
    for (size_t i = 0; i < n; i++) {
        uint64_t b;
        int nb = bits / 8;
        if (dtype == T(DOUBLE)) {
            memcpy(&b, &values[i], 8);
        } else {
            float f = (float)values[i];
            uint32_t u;
            memcpy(&u, &f, 4);
            b = dtype == T(FLOAT) ? u
                : dtype == T(FLOAT16) ? td_f32_to_f16(f)
                                      : td_f32_to_bf16(f);
        }
        for (int k = 0; k < nb; k++)
            p[i * nb + k] = (uint8_t)(b >> (8 * k));
    }
    return t;
}

Onnx__TensorProto *td_tensor_from_int64(td_arena *a, const char *name,
                                        const int64_t *dims, size_t ndims,
                                        const int64_t *values)
{
    size_t n;
    Onnx__TensorProto *t = tensor_shell(a, name, T(INT64), dims, ndims, 8, &n);
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 8; k++)
            t->raw_data.data[i * 8 + k] = (uint8_t)((uint64_t)values[i] >> (8 * k));
    return t;
}
