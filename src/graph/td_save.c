/* Saving: the current model is packed by protobuf-c straight into the
 * atomic writer (no whole-file buffer), optionally moving big tensors to a
 * sidecar file written through the same atomic path; td_outputs opens,
 * checks and commits the files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_atomic.h"
#include "td_model.h"
#include "td_outputs.h"
#include "td_walk.h"

struct sink {
    ProtobufCBuffer base;
    td_atomic *f;
    const uint8_t *map;  /* the input's mapping: payloads still in it are */
    size_t map_len;      /* copied file to file, never through memory */
    int fd;
};

enum { COPY_MIN = 64 * 1024 };

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    struct sink *s = (struct sink *)b;
    if (len >= COPY_MIN && s->fd >= 0 && data >= s->map &&
        (size_t)(data - s->map) <= s->map_len - len) {
        td_atomic_copy_range(s->f, s->fd, (uint64_t)(data - s->map), len, data);
        return;
    }
    td_atomic_write(s->f, data, len);
}

/* Tensors smaller than this stay in the model file whatever the threshold:
 * shape arguments (Reshape's shape, Tile's repeats, Slice's starts, Resize's
 * scales) are read while a runtime loads the graph, and ONNX Runtime's
 * shape inference refuses them in external data ("Cannot parse data from
 * external tensors"). 16 int64 values: pads of a rank-8 tensor. */
enum { TD_EXT_INLINE_BELOW = 128 };

struct ext_ctx {
    td_arena *a;
    td_atomic *f;
    const char *location;
    size_t threshold;
};

static Onnx__StringStringEntryProto *entry(td_arena *a, const char *k,
                                           const char *v)
{
    Onnx__StringStringEntryProto *e = td_arena_alloc(a, sizeof *e);
    if (!e)
        return NULL;
    onnx__string_string_entry_proto__init(e);
    e->key = td_arena_strdup(a, k);
    e->value = td_arena_strdup(a, v);
    return e->key && e->value ? e : NULL;
}

static td_status externalize(void *vctx, const Onnx__TensorProto *t,
                             Onnx__TensorProto **rep, td_err_t *err)
{
    struct ext_ctx *c = vctx;
    if (!t->has_raw_data || t->raw_data.len < c->threshold ||
        t->raw_data.len < TD_EXT_INLINE_BELOW || !t->name)
        return TD_OK;
    /* 64-byte alignment lets readers map tensors and use aligned loads. */
    static const uint8_t zeros[64];
    uint64_t pad = (64 - c->f->written % 64) % 64;
    td_atomic_write(c->f, zeros, (size_t)pad);
    uint64_t off = c->f->written;
    td_atomic_write(c->f, t->raw_data.data, t->raw_data.len);
    Onnx__TensorProto *cp = td_arena_memdup(c->a, t, sizeof *t);
    Onnx__StringStringEntryProto **ents = td_arena_calloc(c->a, 3, sizeof *ents);
    char num[2][32];
    snprintf(num[0], sizeof num[0], "%llu", (unsigned long long)off);
    snprintf(num[1], sizeof num[1], "%zu", t->raw_data.len);
    if (!cp || !ents || !(ents[0] = entry(c->a, "location", c->location)) ||
        !(ents[1] = entry(c->a, "offset", num[0])) ||
        !(ents[2] = entry(c->a, "length", num[1])))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    cp->has_raw_data = 0;
    cp->raw_data.len = 0;
    cp->raw_data.data = NULL;
    cp->n_external_data = 3;
    cp->external_data = ents;
    cp->has_data_location = 1;
    cp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    *rep = cp;
    return TD_OK;
}

td_status td_model_write(td_model *m, td_atomic *out, td_atomic *side,
                         const td_save_opts *opts, const char *path,
                         td_err_t *err)
{
    td_arena *a = td_model_arena(m);
    const Onnx__ModelProto *model = td_model_current(m);
    if (!model)
        return td_err_set(err, TD_ENOMEM, "%s: out of memory", path);
    td_status s;
    if (side) {
        struct ext_ctx c = {a, side, opts->external_data, opts->size_threshold};
        const ProtobufCMessage *root;
        if ((s = td_walk_tensors(a, &model->base, externalize, &c, &root, err)))
            return s;
        model = (const Onnx__ModelProto *)root;
    }
    size_t size = protobuf_c_message_get_packed_size(&model->base);
    if (size > (size_t)INT32_MAX)
        return td_err_set(err, TD_EINPUT,
                          "%s: the model would be %zu bytes, over protobuf's "
                          "2 GiB limit; write its tensors to a separate file "
                          "with options.external_data", path, size);
    struct sink sk = {{sink_append}, out, NULL, 0, -1};
    td_model_mapping(m, &sk.map, &sk.map_len, &sk.fd);
    protobuf_c_message_pack_to_buffer(&model->base, &sk.base);
    return TD_OK;
}

td_status td_model_save(td_model *m, const char *path,
                        const td_save_opts *opts, td_err_t *err)
{
    td_out_plan p = {.model = m, .model_path = path, .save = opts};
    return td_outputs_write(&p, err);
}

td_status td_model_pack(td_model *m, td_graph *g, uint8_t **buf, size_t *len,
                        td_err_t *err)
{
    *buf = NULL;
    *len = 0;
    const Onnx__ModelProto *now = td_model_current(m);
    Onnx__ModelProto *model = now ? td_arena_memdup(td_model_arena(m), now,
                                                    sizeof *model)
                                  : NULL;
    if (model && g)
        model->graph = td_graph_build(g);
    if (!model || !model->graph)
        return td_err_set(err, TD_ENOMEM, "%s: out of memory", td_model_path(m));
    size_t size = protobuf_c_message_get_packed_size(&model->base);
    if (size > (size_t)INT32_MAX)
        return td_err_set(err, TD_EINPUT,
                          "%s: the model would be %zu bytes in memory, over "
                          "protobuf's 2 GiB limit", td_model_path(m), size);
    if (!(*buf = malloc(size ? size : 1)))
        return td_err_set(err, TD_ENOMEM, "%s: out of memory (%zu bytes)",
                          td_model_path(m), size);
    *len = protobuf_c_message_pack(&model->base, *buf);
    return TD_OK;
}
