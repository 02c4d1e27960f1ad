#include "td_array.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t td_array_elem_size(int32_t dtype)
{
    switch (dtype) {
    case TD_DT_UINT8: case TD_DT_INT8: case TD_DT_BOOL: return 1;
    case TD_DT_UINT16: case TD_DT_INT16: case TD_DT_FLOAT16:
    case TD_DT_BFLOAT16: return 2;
    case TD_DT_FLOAT: case TD_DT_INT32: case TD_DT_UINT32: return 4;
    case TD_DT_INT64: case TD_DT_UINT64: case TD_DT_DOUBLE: return 8;
    default: return 0;
    }
}

const char *td_array_dtype_name(int32_t dtype)
{
    switch (dtype) {
    case TD_DT_FLOAT: return "float32";
    case TD_DT_UINT8: return "uint8";
    case TD_DT_INT8: return "int8";
    case TD_DT_UINT16: return "uint16";
    case TD_DT_INT16: return "int16";
    case TD_DT_INT32: return "int32";
    case TD_DT_INT64: return "int64";
    case TD_DT_BOOL: return "bool";
    case TD_DT_FLOAT16: return "float16";
    case TD_DT_DOUBLE: return "float64";
    case TD_DT_UINT32: return "uint32";
    case TD_DT_UINT64: return "uint64";
    case TD_DT_BFLOAT16: return "bfloat16";
    case 8: return "string";
    default: return "unsupported type";
    }
}

int td_array_is_float(int32_t dtype)
{
    return dtype == TD_DT_FLOAT || dtype == TD_DT_FLOAT16 ||
           dtype == TD_DT_BFLOAT16 || dtype == TD_DT_DOUBLE;
}

td_status td_array_init(td_array *a, const char *name, int32_t dtype,
                        const int64_t *dims, size_t ndim, const char *what,
                        td_err_t *err)
{
    memset(a, 0, sizeof *a);
    size_t esize = td_array_elem_size(dtype), n = esize;
    if (!esize)
        return td_err_set(err, TD_EINPUT, "%s: element type %s is not supported",
                          what, td_array_dtype_name(dtype));
    for (size_t i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return td_err_set(err, TD_EINPUT, "%s: dim %zu is negative", what, i);
        if (td_mul_size(n, (size_t)dims[i], &n) || n > ((size_t)1 << 40))
            return td_err_set(err, TD_ENOMEM, "%s: too large (dim %zu)", what, i);
    }
    a->dtype = dtype;
    a->ndim = ndim;
    a->nbytes = n;
    a->dims = ndim ? malloc(ndim * sizeof *dims) : NULL;
    a->data = calloc(1, n ? n : 1);
    a->name = name ? strdup(name) : NULL;
    if ((ndim && !a->dims) || !a->data || (name && !a->name)) {
        td_array_clear(a);
        return td_err_set(err, TD_ENOMEM, "%s: out of memory (%zu bytes)", what, n);
    }
    if (ndim)
        memcpy(a->dims, dims, ndim * sizeof *dims);
    return TD_OK;
}

size_t td_array_numel(const td_array *a)
{
    size_t n = 1;
    for (size_t i = 0; i < a->ndim; i++)
        n *= (size_t)a->dims[i];
    return n;
}

/* IEEE half to float by hand: no F16C assumption, subnormals kept. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31u,
             man = h & 1023u, bits;
    if (exp == 0) {
        if (!man) {
            bits = sign;
        } else {
            int e = -1;
            do {
                man <<= 1;
                e++;
            } while (!(man & 1024u));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 1023u) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

double td_array_get(const td_array *a, size_t i)
{
    const unsigned char *p = (const unsigned char *)a->data;
    switch (a->dtype) {
    case TD_DT_FLOAT: { float v; memcpy(&v, p + 4 * i, 4); return v; }
    case TD_DT_DOUBLE: { double v; memcpy(&v, p + 8 * i, 8); return v; }
    case TD_DT_FLOAT16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return half_to_float(v); }
    case TD_DT_BFLOAT16: {
        uint16_t v;
        memcpy(&v, p + 2 * i, 2);
        uint32_t bits = (uint32_t)v << 16;
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    case TD_DT_UINT8: case TD_DT_BOOL: return p[i];
    case TD_DT_INT8: return (int8_t)p[i];
    case TD_DT_UINT16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return v; }
    case TD_DT_INT16: { int16_t v; memcpy(&v, p + 2 * i, 2); return v; }
    case TD_DT_INT32: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case TD_DT_UINT32: { uint32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case TD_DT_INT64: { int64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
    case TD_DT_UINT64: { uint64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
    default: return 0.0;
    }
}

int td_array_same_shape(const td_array *a, const td_array *b)
{
    if (a->dtype != b->dtype || a->ndim != b->ndim)
        return 0;
    for (size_t d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d])
            return 0;
    return 1;
}

void td_array_shape_str(const int64_t *dims, size_t ndim, char *buf, size_t cap)
{
    size_t len = 0;
    if (!cap)
        return;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "[");
    for (size_t i = 0; i < ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? ",%lld" : "%lld",
                                (long long)dims[i]);
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
}

void td_array_clear(td_array *a)
{
    if (!a)
        return;
    free(a->name);
    free(a->dims);
    free(a->data);
    memset(a, 0, sizeof *a);
}

void td_array_free_n(td_array *a, size_t n)
{
    if (!a)
        return;
    for (size_t i = 0; i < n; i++)
        td_array_clear(&a[i]);
    free(a);
}
