/* The runtime room against the real ONNX Runtime: loading (and its
 * failures), a model built in memory with a symbolic dim, running, output
 * values, input checks, timing. */
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "runtime/td_rt.h"
#include "tcheck.h"

/* Y = X * X + X with X float [N, 3], N symbolic: serialized by hand. */
static uint8_t *square_model(size_t *len)
{
    Onnx__TensorShapeProto__Dimension dn = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT,
                                      d3 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    dn.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    dn.dim_param = "N";
    d3.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d3.dim_value = 3;
    Onnx__TensorShapeProto__Dimension *dims[] = {&dn, &d3};
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 2;
    shape.dim = dims;
    Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
    tt.has_elem_type = 1;
    tt.elem_type = 1;
    tt.shape = &shape;
    Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tt;
    Onnx__ValueInfoProto x = ONNX__VALUE_INFO_PROTO__INIT, y = ONNX__VALUE_INFO_PROTO__INIT;
    x.name = "X";
    x.type = &type;
    y.name = "Y";
    y.type = &type;
    char *mul_in[] = {"X", "X"}, *mul_out[] = {"XX"}, *add_in[] = {"XX", "X"},
         *add_out[] = {"Y"};
    Onnx__NodeProto mul = ONNX__NODE_PROTO__INIT, add = ONNX__NODE_PROTO__INIT;
    mul.op_type = "Mul";
    mul.n_input = 2, mul.input = mul_in, mul.n_output = 1, mul.output = mul_out;
    add.op_type = "Add";
    add.n_input = 2, add.input = add_in, add.n_output = 1, add.output = add_out;
    Onnx__NodeProto *nodes[] = {&mul, &add};
    Onnx__ValueInfoProto *ins[] = {&x}, *outs[] = {&y};
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "square";
    g.n_node = 2, g.node = nodes;
    g.n_input = 1, g.input = ins;
    g.n_output = 1, g.output = outs;
    Onnx__OperatorSetIdProto op = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    op.domain = "";
    op.has_version = 1;
    op.version = 13;
    Onnx__OperatorSetIdProto *ops[] = {&op};
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1;
    m.ir_version = 7;
    m.n_opset_import = 1;
    m.opset_import = ops;
    m.graph = &g;
    *len = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = malloc(*len);
    onnx__model_proto__pack(&m, buf);
    return buf;
}

static void test_load_failures(void)
{
    td_err_t err = {0};
    td_rt *rt = NULL;
    CHECK(td_rt_open("/nonexistent/libonnxruntime.so.1", &rt, &err) == TD_EINPUT);
    CHECK(!rt);
    CHECK_MSG(strstr(err.msg, "/nonexistent/libonnxruntime.so.1") &&
              strstr(err.msg, "scripts/setup.sh"), "%s", err.msg);
    /* A library, but not ONNX Runtime. */
    CHECK(td_rt_open("libm.so.6", &rt, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "OrtGetApiBase") && strstr(err.msg, "scripts/setup.sh"),
              "%s", err.msg);
    /* A file that is not a library at all (this test's own source). */
    CHECK(td_rt_open(__FILE__, &rt, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, __FILE__) && strstr(err.msg, "scripts/setup.sh"),
              "%s", err.msg);
}

static void test_square(td_rt *rt)
{
    td_err_t err = {0};
    size_t len;
    uint8_t *model = square_model(&len);
    td_rt_session *s = NULL;
    td_rt_options o = {1, TD_RT_OPT_ALL, 0};
    td_status st = td_rt_session_new_mem(rt, model, len, "square", &o, &s, &err);
    free(model);
    CHECK_MSG(st == TD_OK, "%s", err.msg);
    if (st)
        return;
    CHECK(td_rt_n_inputs(s) == 1 && td_rt_n_outputs(s) == 1);
    const td_rt_io *in = td_rt_input(s, 0);
    CHECK(!strcmp(in->name, "X") && in->dtype == TD_DT_FLOAT && in->ndim == 2);
    CHECK(in->dims[0] == -1 && !strcmp(in->dim_names[0], "N"));
    CHECK(in->dims[1] == 3 && !strcmp(in->dim_names[1], ""));

    /* N = 2 from the data. */
    td_array x;
    int64_t dims[] = {2, 3};
    CHECK(td_array_init(&x, "X", TD_DT_FLOAT, dims, 2, "X", &err) == TD_OK);
    float *xv = x.data;
    for (int i = 0; i < 6; i++)
        xv[i] = (float)i - 2.5f;
    td_array *out = NULL;
    st = td_rt_run(s, &x, 1, NULL, 0, &out, &err);
    CHECK_MSG(st == TD_OK, "%s", err.msg);
    if (!st) {
        CHECK(!strcmp(out[0].name, "Y") && out[0].dtype == TD_DT_FLOAT);
        CHECK(out[0].ndim == 2 && out[0].dims[0] == 2 && out[0].dims[1] == 3);
        const float *yv = out[0].data;
        for (int i = 0; i < 6; i++)
            CHECK(yv[i] == xv[i] * xv[i] + xv[i]);
        td_array_free_n(out, 1);
    }

    /* Wrong dtype, wrong fixed dim, wrong name, missing input. */
    td_array bad;
    CHECK(td_array_init(&bad, "X", TD_DT_DOUBLE, dims, 2, "X", &err) == TD_OK);
    CHECK(td_rt_run(s, &bad, 1, NULL, 0, &out, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "'X' is float32, given float64"), "%s", err.msg);
    td_array_clear(&bad);
    int64_t dims4[] = {2, 4};
    CHECK(td_array_init(&bad, "X", TD_DT_FLOAT, dims4, 2, "X", &err) == TD_OK);
    CHECK(td_rt_run(s, &bad, 1, NULL, 0, &out, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "shape [-1,3]") && strstr(err.msg, "given [2,4]"),
              "%s", err.msg);
    td_array_clear(&bad);
    CHECK(td_array_init(&bad, "Z", TD_DT_FLOAT, dims, 2, "Z", &err) == TD_OK);
    CHECK(td_rt_run(s, &bad, 1, NULL, 0, &out, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "no input named 'Z'"), "%s", err.msg);
    td_array_clear(&bad);
    CHECK(td_rt_run(s, NULL, 0, NULL, 0, &out, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "'X' was not given"), "%s", err.msg);
    /* An output that does not exist: ORT's own message comes back. */
    const char *nope[] = {"nope"};
    CHECK(td_rt_run(s, &x, 1, nope, 1, &out, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "ONNX Runtime:"), "%s", err.msg);

    td_rt_timing ta = {0}, tb = {0};
    st = td_rt_time(s, s, &x, 1, 5, 1, &ta, &tb, &err);
    CHECK_MSG(st == TD_OK, "%s", err.msg);
    CHECK(ta.runs == 5 && tb.runs == 5 && ta.min_ms > 0 &&
          ta.min_ms <= ta.median_ms && ta.median_ms <= ta.max_ms);
    td_array_clear(&x);
    td_rt_session_free(s);
}

/* A model file that is not ONNX: ORT's message, naming the file. */
static void test_bad_file(td_rt *rt)
{
    td_err_t err = {0};
    td_rt_session *s = NULL;
    CHECK(td_rt_session_new(rt, __FILE__, NULL, &s, &err) == TD_EINPUT);
    CHECK(!s);
    CHECK_MSG(strstr(err.msg, __FILE__) && strstr(err.msg, "ONNX Runtime:"),
              "%s", err.msg);
}

int main(void)
{
    test_load_failures();
    td_err_t err = {0};
    td_rt *rt = NULL;
    td_status st = td_rt_open(NULL, &rt, &err);
    CHECK_MSG(st == TD_OK, "%s", err.msg);
    if (!st) {
        CHECK(strlen(td_rt_version(rt)) > 2);
        test_square(rt);
        test_bad_file(rt);
        td_rt_close(rt);
    }
    return TCHECK_DONE();
}
