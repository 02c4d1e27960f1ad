/* Writing a statistics container as the ONNX file td_stats_load reads: a
 * model with no nodes whose initializers are the statistics (the layout
 * tools/ort/calib_stats.js writes too), so the same statistics can be
 * reused with --act-stats without running the calibration again. */
#include <stdlib.h>
#include <string.h>

#include "td_stats.h"
#include "td_tensor.h"

/* IR 8 / opset 13: any ONNX reader of the last years takes it; the file
 * has no nodes, so the opset only has to exist. */
enum { STATS_IR_VERSION = 8, STATS_OPSET = 13 };

static td_status add_tensor(td_arena *a, Onnx__TensorProto **inits, size_t *n,
                            const char *prefix, const char *x, int32_t dtype,
                            const int64_t *dims, size_t nd, const void *v,
                            td_err_t *err)
{
    char *name = td_arena_printf(a, "%s%s", prefix, x);
    Onnx__TensorProto *t = NULL;
    if (name)
        t = dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT64
                ? td_tensor_from_int64(a, name, dims, nd, v)
                : td_tensor_from_double(a, name, dtype, dims, nd, v);
    if (!t)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    inits[(*n)++] = t;
    return TD_OK;
}

td_status td_stats_pack(const td_stats *s, uint8_t **out, size_t *out_len,
                        td_err_t *err)
{
    td_arena *a = td_arena_new();
    size_t ne = td_stats_count(s), n = 0;
    uint8_t *buf = NULL;
    td_status st = TD_OK;
    Onnx__TensorProto **inits = a ? td_arena_calloc(a, 4 * ne + 1, sizeof *inits)
                                  : NULL;
    if (!inits) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ne && !st; i++) {
        const char *x;
        int64_t c, count, one = 1;
        const double *m, *mu;
        td_stats_entry(s, i, &x, &c, &m, &mu, &count);
        int64_t sq[2] = {c, c};
        st = add_tensor(a, inits, &n, TD_STATS_MOMENT_PREFIX, x,
                        ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, sq, 2, m, err);
        if (!st && mu)
            st = add_tensor(a, inits, &n, TD_STATS_MEAN_PREFIX, x,
                            ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, &c, 1, mu,
                            err);
        if (!st)
            st = add_tensor(a, inits, &n, TD_STATS_COUNT_PREFIX, x,
                            ONNX__TENSOR_PROTO__DATA_TYPE__INT64, &one, 1,
                            &count, err);
        const double *acf;
        int nsp;
        int64_t lags;
        td_stats_taps(s, x, &acf, &nsp, &lags);
        int64_t td[2] = {nsp, lags};
        if (!st && acf)
            st = add_tensor(a, inits, &n, TD_STATS_TAPS_PREFIX, x,
                            ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, td, 2, acf,
                            err);
    }
    if (st)
        goto done;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset};
    Onnx__ModelProto model;
    onnx__graph_proto__init(&graph);
    onnx__operator_set_id_proto__init(&opset);
    onnx__model_proto__init(&model);
    graph.name = "activation_statistics";
    graph.n_initializer = n;
    graph.initializer = inits;
    opset.domain = "";
    opset.has_version = 1;
    opset.version = STATS_OPSET;
    model.has_ir_version = 1;
    model.ir_version = STATS_IR_VERSION;
    model.producer_name = "onnxtd";
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.graph = &graph;
    size_t len = onnx__model_proto__get_packed_size(&model);
    if (!(buf = malloc(len ? len : 1))) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    onnx__model_proto__pack(&model, buf);
    *out = buf;
    *out_len = len;
    buf = NULL;
done:
    free(buf);
    td_arena_free(a);
    return st;
}
