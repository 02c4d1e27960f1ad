/* A host tensor: an ONNX element type, explicit dims and one owned buffer in
 * C order. Input readers produce it, the runtime room takes and returns it,
 * eval compares it. Element types use ONNX's TensorProto.DataType numbers
 * (ONNX Runtime's element-type enum shares them). */
#ifndef TD_ARRAY_H
#define TD_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "td_err.h"

/* The ONNX element types a td_array may hold (no strings, no sub-byte). */
enum {
    TD_DT_FLOAT = 1, TD_DT_UINT8 = 2, TD_DT_INT8 = 3, TD_DT_UINT16 = 4,
    TD_DT_INT16 = 5, TD_DT_INT32 = 6, TD_DT_INT64 = 7, TD_DT_BOOL = 9,
    TD_DT_FLOAT16 = 10, TD_DT_DOUBLE = 11, TD_DT_UINT32 = 12,
    TD_DT_UINT64 = 13, TD_DT_BFLOAT16 = 16
};

typedef struct td_array {
    char *name;      /* owned; NULL when the source carries none */
    int32_t dtype;   /* TD_DT_* */
    size_t ndim;
    int64_t *dims;   /* owned, ndim entries, each >= 0 (NULL for a scalar) */
    void *data;      /* owned, nbytes = numel x element size */
    size_t nbytes;
} td_array;

/* Bytes per element; 0 for a type a td_array cannot hold. */
size_t td_array_elem_size(int32_t dtype);
/* "float32", "int64", ... (numpy's names); "type N" for others. */
const char *td_array_dtype_name(int32_t dtype);
/* 1 for FLOAT, FLOAT16, BFLOAT16, DOUBLE. */
int td_array_is_float(int32_t dtype);

/* Fills *a (which it overwrites) with copies of name and dims and a zeroed
 * buffer. Sizes are overflow-checked; err names `what`. */
td_status td_array_init(td_array *a, const char *name, int32_t dtype,
                        const int64_t *dims, size_t ndim, const char *what,
                        td_err_t *err);
/* Product of dims (1 for a scalar); the caller's dims were checked. */
size_t td_array_numel(const td_array *a);
/* Element i as a double (fp16/bf16 widened, integers converted). */
double td_array_get(const td_array *a, size_t i);
/* 1 when a and b have the same element type and dims. */
int td_array_same_shape(const td_array *a, const td_array *b);
/* "[1,3,224,224]" into buf (truncated to cap). */
void td_array_shape_str(const int64_t *dims, size_t ndim, char *buf,
                        size_t cap);
/* Frees what *a owns and zeroes it (a may be NULL). */
void td_array_clear(td_array *a);
/* td_array_clear on a[0..n) and free(a). */
void td_array_free_n(td_array *a, size_t n);

#endif
