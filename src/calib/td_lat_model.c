/* The two tiny models the per-layer timing runs: the original layer alone
 * on its input shape (a Gemm's or MatMul's rows as one 2-D input), and the chain the pass would put in its place,
 * emitted by the pass's own chain builder into a copy of the first. The
 * layer's weight is not copied (it may live in external data): timing
 * needs the shapes, and random values of the right dtype run the same
 * kernels. */
#include "calib/td_lat.h"

#include <stdlib.h>
#include <string.h>

#include "graph/td_model.h"
#include "graph/td_tensor.h"
#include "onnx.pb-c.h"
#include "passes/td_emit.h"

/* The IR version that goes with an opset: IR 8 carries opsets up to 18,
 * IR 9 up to 20, IR 10 beyond (onnx/helper.py's table). */
static int64_t ir_for_opset(int64_t opset)
{
    return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/* n values of dtype (FLOAT or FLOAT16) from a fixed linear congruential
 * sequence, small enough that no activation overflows fp16. */
static void *random_values(int32_t dtype, size_t n, size_t *nbytes)
{
    size_t width = dtype == TD_DT_FLOAT16 ? 2 : 4;
    unsigned char *v = malloc(n * width + 1);
    uint32_t x = 12345;
    for (size_t i = 0; v && i < n; i++) {
        x = x * 1664525u + 1013904223u;
        float f = ((float)(x >> 8) / 16777216.0f - 0.5f) * 0.1f;
        if (width == 2) {
            uint16_t h = td_f32_to_f16(f);
            memcpy(v + 2 * i, &h, 2);
        } else {
            memcpy(v + 4 * i, &f, 4);
        }
    }
    *nbytes = n * width;
    return v;
}

typedef struct scratch {
    Onnx__TensorShapeProto__Dimension dim[2][TD_MAX_SPATIAL + 2];
    Onnx__TensorShapeProto__Dimension *dimp[2][TD_MAX_SPATIAL + 2];
    Onnx__TensorShapeProto shape[2];
    Onnx__TypeProto__Tensor tt[2];
    Onnx__TypeProto type[2];
    Onnx__ValueInfoProto vi[2];
    Onnx__TensorProto w, b;
    int64_t bdims[1];
    void *wdata, *bdata;
} scratch;

/* The value info of X (k 0) or Y (k 1): dtype and the dims given. */
static Onnx__ValueInfoProto *value_info(scratch *s, int k, const char *name,
                                        int32_t dtype, const int64_t *dims,
                                        size_t nd)
{
    for (size_t i = 0; i < nd; i++) {
        onnx__tensor_shape_proto__dimension__init(&s->dim[k][i]);
        s->dim[k][i].value_case =
            ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        s->dim[k][i].dim_value = dims[i];
        s->dimp[k][i] = &s->dim[k][i];
    }
    onnx__tensor_shape_proto__init(&s->shape[k]);
    s->shape[k].n_dim = nd;
    s->shape[k].dim = s->dimp[k];
    onnx__type_proto__tensor__init(&s->tt[k]);
    s->tt[k].has_elem_type = 1;
    s->tt[k].elem_type = dtype;
    s->tt[k].shape = &s->shape[k];
    onnx__type_proto__init(&s->type[k]);
    s->type[k].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    s->type[k].tensor_type = &s->tt[k];
    onnx__value_info_proto__init(&s->vi[k]);
    s->vi[k].name = (char *)name;
    s->vi[k].type = &s->type[k];
    return &s->vi[k];
}

/* A random initializer named name with these dims. */
static int tensor(Onnx__TensorProto *t, void **data, const char *name,
                  int32_t dtype, int64_t *dims, size_t nd)
{
    size_t n = 1, nbytes;
    for (size_t i = 0; i < nd; i++)
        n *= (size_t)dims[i];
    onnx__tensor_proto__init(t);
    if (!(*data = random_values(dtype, n, &nbytes)))
        return 0;
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = nd;
    t->dims = dims;
    t->has_raw_data = 1;
    t->raw_data.data = *data;
    t->raw_data.len = nbytes;
    return 1;
}

td_status td_lat_layer_model(const td_layer *l, int64_t opset, uint8_t **buf,
                             size_t *len, td_err_t *err)
{
    scratch s;
    memset(&s, 0, sizeof s);
    int64_t xd[TD_MAX_SPATIAL + 2] = {l->batch, l->cin},
            yd[TD_MAX_SPATIAL + 2] = {l->batch, l->cout};
    for (int i = 0; i < l->nsp; i++) {
        xd[2 + i] = l->in_sp[i];
        yd[2 + i] = l->out_sp[i];
    }
    /* a Gemm / MatMul runs on its rows as one 2-D input (a MatMul's
     * leading dims are rows to the kernel); transA reads it K x M */
    if (l->kind == TD_LAYER_GEMM && l->trans_a) {
        xd[0] = l->cin;
        xd[1] = l->batch;
    }
    Onnx__ValueInfoProto *in[] = {value_info(&s, 0, "X", l->dtype, xd,
                                             (size_t)l->nsp + 2)};
    Onnx__ValueInfoProto *out[] = {value_info(&s, 1, "Y", l->dtype, yd,
                                              (size_t)l->nsp + 2)};
    Onnx__TensorProto *inits[] = {&s.w, &s.b};
    s.bdims[0] = l->cout;
    td_status st = TD_OK;
    if (!tensor(&s.w, &s.wdata, "W", l->dtype, l->weight->dims,
                l->weight->n_dims) ||
        (l->has_bias && !tensor(&s.b, &s.bdata, "B", l->dtype, s.bdims, 1))) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    char *node_in[] = {"X", "W", "B"}, *node_out[] = {"Y"};
    Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
    node.name = "layer";
    node.op_type = l->node->op_type;
    node.n_input = l->has_bias ? 3 : 2;
    node.input = node_in;
    node.n_output = 1;
    node.output = node_out;
    node.n_attribute = l->node->n_attribute;  /* borrowed, as they are */
    node.attribute = l->node->attribute;
    Onnx__NodeProto *nodes[] = {&node};
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "layer";
    g.n_node = 1, g.node = nodes;
    g.n_initializer = l->has_bias ? 2 : 1, g.initializer = inits;
    g.n_input = 1, g.input = in;
    g.n_output = 1, g.output = out;
    Onnx__OperatorSetIdProto op = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    op.domain = "";
    op.has_version = 1;
    op.version = opset;
    Onnx__OperatorSetIdProto *ops[] = {&op};
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1;
    m.ir_version = ir_for_opset(opset);
    m.n_opset_import = 1;
    m.opset_import = ops;
    m.graph = &g;
    *len = onnx__model_proto__get_packed_size(&m);
    if (!(*buf = malloc(*len ? *len : 1))) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    onnx__model_proto__pack(&m, *buf);
done:
    free(s.wdata);
    free(s.bdata);
    return st;
}

td_status td_lat_chain_model(const td_layer *l, const td_factors *f,
                             int64_t opset, const uint8_t *layer_model,
                             size_t layer_len, uint8_t **buf, size_t *len,
                             td_err_t *err)
{
    td_model *m = NULL;
    td_layer sl;
    int ok = 0;
    const char *why = NULL;
    td_status st = td_model_load_memory(layer_model, layer_len, NULL, &m, err);
    if (st)
        return st;
    td_graph *g = td_model_graph(m);
    if ((st = td_layer_describe(g, 0, &sl, &ok, &why, err)))
        goto done;
    if (!ok) {
        st = td_err_set(err, TD_EINPUT, "the timing copy of '%s' is no layer: "
                        "%s", l->name, why ? why : "?");
        goto done;
    }
    if (sl.kind != l->kind) {
        st = td_err_set(err, TD_EINPUT, "the timing copy of '%s' is another "
                        "kind of layer", l->name);
        goto done;
    }
    memcpy(sl.in_sp, l->in_sp, sizeof sl.in_sp);
    memcpy(sl.out_sp, l->out_sp, sizeof sl.out_sp);
    sl.batch = l->batch;
    if ((st = td_emit_chain(g, &sl, f, 0, opset, err)))
        goto done;
    td_graph_remove_if_unused(g, "W");
    td_graph_remove_if_unused(g, "B");
    st = td_model_pack(m, NULL, buf, len, err);
done:
    td_model_free(m);
    return st;
}
