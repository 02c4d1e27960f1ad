/* TensorProto payloads: element sizes per data type, validation of data
 * length against dims, and conversion of numeric payloads to and from double
 * (fp16 and bf16 included). A tensor's bytes may be raw_data (little-endian)
 * or one of the typed repeated fields; both are handled here and nowhere
 * else. */
#ifndef TD_TENSOR_H
#define TD_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "util/td_arena.h"
#include "util/td_err.h"

/* Bits per element (4 for int4/uint4/float4, 0 for unknown or string). */
int td_dtype_bits(int32_t dtype);
const char *td_dtype_name(int32_t dtype);
/* 1 for FLOAT, FLOAT16, BFLOAT16, DOUBLE: the types weights are factored in. */
int td_dtype_is_float(int32_t dtype);

/* Product of dims; -1 on a negative dim or overflow. */
int64_t td_tensor_numel(const Onnx__TensorProto *t);

/* Checks that the payload length matches dims x dtype (raw_data or typed
 * field), for every known fixed-size type. External tensors must have been
 * inlined already. Error names the tensor. */
td_status td_tensor_validate(const Onnx__TensorProto *t, td_err_t *err);

/* Decodes a FLOAT/FLOAT16/BFLOAT16/DOUBLE/int tensor into *out (numel
 * doubles, malloc'd, caller frees). */
td_status td_tensor_to_double(const Onnx__TensorProto *t, double **out,
                              int64_t *numel, td_err_t *err);

/* Builds a new tensor in the arena with raw_data encoded from values in the
 * given dtype (FLOAT, FLOAT16, BFLOAT16, DOUBLE). */
Onnx__TensorProto *td_tensor_from_double(td_arena *a, const char *name,
                                         int32_t dtype, const int64_t *dims,
                                         size_t ndims, const double *values);

/* Builds an INT64 tensor (for shapes and the like). */
Onnx__TensorProto *td_tensor_from_int64(td_arena *a, const char *name,
                                        const int64_t *dims, size_t ndims,
                                        const int64_t *values);

uint16_t td_f32_to_f16(float f);
float td_f16_to_f32(uint16_t h);
uint16_t td_f32_to_bf16(float f);
float td_bf16_to_f32(uint16_t h);

#endif
