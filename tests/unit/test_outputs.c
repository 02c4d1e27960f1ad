/* The library's save paths are as safe as the CLI's: through the public
 * API, a save over the model read (or its external data) is refused unless
 * in place, a FIFO target is refused and stays one, two outputs naming one
 * file are refused, and a set of outputs appears whole or not at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx.pb-c.h"
#include "onnxtd.h"
#include "tcheck.h"

enum { N = 1000 };

/* A model with one initializer of N floats. */
static int write_model(const char *path)
{
    static float v[N];
    for (int i = 0; i < N; i++)
        v[i] = (float)i;
    Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[1] = {N};
    t.n_dims = 1;
    t.dims = dims;
    t.has_data_type = 1;
    t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t.name = "w";
    t.has_raw_data = 1;
    t.raw_data.len = sizeof v;
    t.raw_data.data = (uint8_t *)v;
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

static long size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int main(void)
{
    char dir[] = "/tmp/td_outputs_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char in[64], side_model[64], side[64], fifo[64], out[64], rep[64];
    snprintf(in, sizeof in, "%s/m.onnx", dir);
    snprintf(side_model, sizeof side_model, "%s/e.onnx", dir);
    snprintf(side, sizeof side, "%s/e.bin", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(out, sizeof out, "%s/o.onnx", dir);
    snprintf(rep, sizeof rep, "%s/r.json", dir);
    CHECK(write_model(in) == 0);
    CHECK(mkfifo(fifo, 0644) == 0);
    long in_size = size_of(in);
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    CHECK_MSG(onnxtd_model_load(in, NULL, &m, &err) == ONNXTD_OK, "%s",
              err.message);
    if (!m)
        return TCHECK_DONE();

    /* over the model read: refused, then allowed in place */
    onnxtd_save_options so = {NULL, 0};
    CHECK(onnxtd_model_save(m, in, &so, &err) == ONNXTD_EIO);
    CHECK_MSG(strstr(err.message, "is the model read"), "%s", err.message);
    onnxtd_outputs ip = {.model = m, .model_path = in, .save = &so,
                         .in_place = 1};
    CHECK_MSG(onnxtd_outputs_write(&ip, &err) == ONNXTD_OK, "%s", err.message);
    CHECK_MSG(onnxtd_outputs_write(&ip, &err) == ONNXTD_OK, "%s",
              err.message);  /* again: the name now holds the first save */
    CHECK(size_of(in) == in_size);

    /* the external data written naming the model read */
    so.external_data = "m.onnx";
    CHECK(onnxtd_model_save(m, out, &so, &err) == ONNXTD_EIO);
    CHECK(size_of(out) == -1 && size_of(in) == in_size);

    /* a FIFO stays a FIFO */
    CHECK(onnxtd_write_file(fifo, "x", 1, &err) == ONNXTD_EIO);
    CHECK_MSG(strstr(err.message, "is a FIFO"), "%s", err.message);
    struct stat st;
    CHECK(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));

    /* two outputs, one file */
    onnxtd_output_file files[2] = {{rep, "report", "{}", 2},
                                   {rep, "other report", "<p>", 3}};
    onnxtd_save_options plain = {NULL, 0};
    onnxtd_outputs o = {m, out, &plain, files, 2, NULL, 0, 0};
    CHECK(onnxtd_outputs_check(&o, &err) == ONNXTD_EIO);
    CHECK_MSG(strstr(err.message, "are the same file"), "%s", err.message);
    CHECK(onnxtd_outputs_write(&o, &err) == ONNXTD_EIO);
    CHECK(size_of(out) == -1 && size_of(rep) == -1);

    /* all or nothing: the second file fails its check, nothing appears;
     * then both are fine and all three appear */
    files[1].path = fifo;
    CHECK(onnxtd_outputs_write(&o, &err) == ONNXTD_EIO);
    CHECK(size_of(out) == -1 && size_of(rep) == -1);
    char rep2[64];
    snprintf(rep2, sizeof rep2, "%s/r.html", dir);
    files[1].path = rep2;
    CHECK_MSG(onnxtd_outputs_write(&o, &err) == ONNXTD_OK, "%s", err.message);
    CHECK(size_of(out) == in_size && size_of(rep) == 2 && size_of(rep2) == 3);
    onnxtd_model_free(m);

    /* a model with external data: its file cannot be the new sidecar */
    so.external_data = "e.bin";
    so.size_threshold = 0;
    CHECK_MSG(onnxtd_model_load(in, NULL, &m, &err) == ONNXTD_OK, "%s",
              err.message);
    CHECK_MSG(onnxtd_model_save(m, side_model, &so, &err) == ONNXTD_OK, "%s",
              err.message);
    onnxtd_model_free(m);
    long side_size = size_of(side);
    CHECK(side_size >= (long)(N * sizeof(float)));
    CHECK_MSG(onnxtd_model_load(side_model, NULL, &m, &err) == ONNXTD_OK, "%s",
              err.message);
    ip.model = m;
    ip.model_path = side_model;
    CHECK(onnxtd_outputs_write(&ip, &err) == ONNXTD_EIO);
    CHECK_MSG(strstr(err.message, "external data of the model read"), "%s",
              err.message);
    so.external_data = NULL;
    CHECK_MSG(onnxtd_outputs_write(&ip, &err) == ONNXTD_OK, "%s",
              err.message);
    CHECK(size_of(side) == side_size);
    onnxtd_model_free(m);

    const char *all[] = {in, side_model, side, fifo, out, rep, rep2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        unlink(all[i]);
    CHECK(rmdir(dir) == 0);
    return TCHECK_DONE();
}
