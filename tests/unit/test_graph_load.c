/* Loading keeps big tensor payloads in the file mapping (no copy), gives
 * them back byte for byte, and falls back to copying when a file already
 * uses the marker field number itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph/td_model.h"
#include "graph/td_wire.h"
#include "tcheck.h"

enum { N = 5000 };

/* A model with one initializer of N floats; extra: an unknown field with the
 * marker number inside the tensor. */
static int write_model(const char *path, const float *v, int extra)
{
    Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[1] = {N};
    t.n_dims = 1;
    t.dims = dims;
    t.has_data_type = 1;
    t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t.name = "w";
    t.has_raw_data = 1;
    t.raw_data.len = N * sizeof(float);
    t.raw_data.data = (uint8_t *)v;
    uint8_t junk[17] = {16};
    ProtobufCMessageUnknownField uf = {TD_WIRE_MARKER_FIELD,
                                       PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
                                       sizeof junk, junk};
    if (extra) {
        t.base.n_unknown_fields = 1;
        t.base.unknown_fields = &uf;
    }
    Onnx__TensorProto *inits[1] = {&t};
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "g";
    g.n_initializer = 1;
    g.initializer = inits;
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1;
    m.ir_version = 8;
    m.graph = &g;
    size_t n = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = malloc(n);
    onnx__model_proto__pack(&m, buf);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(buf, 1, n, f) == n;
    if (f)
        fclose(f);
    free(buf);
    return ok ? 0 : -1;
}

int main(void)
{
    float *v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++)
        v[i] = (float)i * 0.25f - 7.0f;
    char dir[] = "/tmp/td_load_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/m.onnx", dir);

    for (int extra = 0; extra < 2; extra++) {
        CHECK(write_model(path, v, extra) == 0);
        td_model *m = NULL;
        td_err_t err = {0};
        CHECK_MSG(td_model_load(path, NULL, &m, &err) == TD_OK, "%s", err.msg);
        if (!m)
            continue;
        /* Mapped unless the file itself used the marker number. */
        CHECK(td_model_mapped_tensors(m) == (extra ? 0u : 1u));
        const Onnx__TensorProto *t = td_graph_init(td_model_graph(m), 0);
        CHECK(t && t->has_raw_data && t->raw_data.len == N * sizeof(float));
        CHECK(t && memcmp(t->raw_data.data, v, N * sizeof(float)) == 0);
        /* The unknown field the file carried survives; our marker does not. */
        CHECK(t && t->base.n_unknown_fields == (unsigned)extra);
        td_model_free(m);
    }
    unlink(path);
    rmdir(dir);
    free(v);
    return TCHECK_DONE();
}
