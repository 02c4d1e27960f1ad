#include "data/td_pbtensor.h"

#include <stdlib.h>
#include <string.h>

#include "data/td_readfile.h"
#include "graph/td_tensor.h"
#include "onnx.pb-c.h"

/* The typed repeated field a dtype is stored in when raw_data is absent
 * (onnx.proto, TensorProto): int32_data holds every type of 16 bits or
 * less, one element per entry (fp16/bf16 as their bit patterns). */
static void copy_typed(const Onnx__TensorProto *t, td_array *a, size_t n)
{
    unsigned char *p = a->data;
    for (size_t i = 0; i < n; i++) {
        switch (a->dtype) {
        case TD_DT_FLOAT: memcpy(p + 4 * i, &t->float_data[i], 4); break;
        case TD_DT_DOUBLE: memcpy(p + 8 * i, &t->double_data[i], 8); break;
        case TD_DT_INT64: memcpy(p + 8 * i, &t->int64_data[i], 8); break;
        case TD_DT_UINT64: memcpy(p + 8 * i, &t->uint64_data[i], 8); break;
        case TD_DT_UINT32: {
            uint32_t v = (uint32_t)t->uint64_data[i];
            memcpy(p + 4 * i, &v, 4);
            break;
        }
        case TD_DT_INT32: memcpy(p + 4 * i, &t->int32_data[i], 4); break;
        case TD_DT_INT16: case TD_DT_UINT16: case TD_DT_FLOAT16:
        case TD_DT_BFLOAT16: {
            uint16_t v = (uint16_t)t->int32_data[i];
            memcpy(p + 2 * i, &v, 2);
            break;
        }
        default: p[i] = (unsigned char)t->int32_data[i]; break;
        }
    }
}

static size_t typed_len(const Onnx__TensorProto *t, int32_t dtype)
{
    switch (dtype) {
    case TD_DT_FLOAT: return t->n_float_data;
    case TD_DT_DOUBLE: return t->n_double_data;
    case TD_DT_INT64: return t->n_int64_data;
    case TD_DT_UINT64: case TD_DT_UINT32: return t->n_uint64_data;
    default: return t->n_int32_data;
    }
}

td_status td_pbtensor_read(const char *path, td_array *out, td_err_t *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    Onnx__TensorProto *t = NULL;
    memset(out, 0, sizeof *out);
    td_status s = td_read_file(path, 0, &buf, &len, err);
    if (s)
        return s;
    if (!(t = onnx__tensor_proto__unpack(NULL, len, buf))) {
        s = td_err_set(err, TD_EINPUT, "%s: not a serialized TensorProto "
                       "(%zu bytes)", path, len);
        goto cleanup;
    }
    int32_t dtype = t->has_data_type ? t->data_type : 0;
    if (t->has_data_location &&
        t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        s = td_err_set(err, TD_EINPUT, "%s: tensor data stored externally is "
                       "not supported here", path);
        goto cleanup;
    }
    if (!td_array_elem_size(dtype)) {
        s = td_err_set(err, TD_EINPUT, "%s: element type %s is not supported",
                       path, td_dtype_name(dtype));
        goto cleanup;
    }
    if ((s = td_tensor_validate(t, err))) {
        td_err_prefix(err, "%s: ", path);
        goto cleanup;
    }
    if ((s = td_array_init(out, t->name && *t->name ? t->name : NULL, dtype,
                           t->dims, t->n_dims, path, err)))
        goto cleanup;
    size_t n = td_array_numel(out);
    if (t->has_raw_data) {
        if (t->raw_data.len != out->nbytes)  /* validate checked; keep local */
            goto mismatch;
        memcpy(out->data, t->raw_data.data, out->nbytes);
    } else {
        if (typed_len(t, dtype) != n)
            goto mismatch;
        copy_typed(t, out, n);
    }
    goto cleanup;
mismatch:
    s = td_err_set(err, TD_EINPUT, "%s: payload does not match its dims", path);
    td_array_clear(out);
cleanup:
    if (t)
        onnx__tensor_proto__free_unpacked(t, NULL);
    free(buf);
    return s;
}
