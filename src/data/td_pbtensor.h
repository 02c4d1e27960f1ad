/* A serialized ONNX TensorProto (the .pb files of ONNX's test data,
 * input_K.pb / output_K.pb) read into a td_array. */
#ifndef TD_PBTENSOR_H
#define TD_PBTENSOR_H

#include "util/td_array.h"

/* *out takes the tensor's name (NULL when empty). Refuses external data,
 * strings and sub-byte types, and a payload that does not match dims. */
td_status td_pbtensor_read(const char *path, td_array *out, td_err_t *err);

#endif
