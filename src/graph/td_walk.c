#include "td_walk.h"

#include <string.h>

/* Only these message types can hold a TensorProto somewhere below them;
 * types, shapes and string maps are not walked. */
static int may_hold_tensor(const ProtobufCMessageDescriptor *d)
{
    return d == &onnx__model_proto__descriptor ||
           d == &onnx__graph_proto__descriptor ||
           d == &onnx__node_proto__descriptor ||
           d == &onnx__attribute_proto__descriptor ||
           d == &onnx__sparse_tensor_proto__descriptor ||
           d == &onnx__training_info_proto__descriptor ||
           d == &onnx__function_proto__descriptor ||
           d == &onnx__tensor_proto__descriptor;
}

static td_status walk(td_arena *a, const ProtobufCMessage *msg,
                      td_tensor_visit visit, void *ctx,
                      const ProtobufCMessage **out, td_err_t *err)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    *out = msg;
    if (d == &onnx__tensor_proto__descriptor) {
        Onnx__TensorProto *rep = NULL;
        td_status s = visit(ctx, (const Onnx__TensorProto *)msg, &rep, err);
        if (s == TD_OK && rep)
            *out = &rep->base;
        return s;
    }
    unsigned char *copy = NULL;  /* this message, once something below changed */
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || !may_hold_tensor(f->descriptor))
            continue;
        const unsigned char *base = copy ? copy : (const unsigned char *)msg;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *arr =
                *(ProtobufCMessage *const *const *)(base + f->offset);
            ProtobufCMessage **narr = NULL;
            for (size_t k = 0; k < n; k++) {
                const ProtobufCMessage *sub;
                td_status s = walk(a, arr[k], visit, ctx, &sub, err);
                if (s)
                    return s;
                if (sub == arr[k])
                    continue;
                if (!narr) {
                    narr = td_arena_memdup(a, arr, n * sizeof *arr);
                    if (!narr)
                        return td_err_set(err, TD_ENOMEM, "out of memory");
                }
                narr[k] = (ProtobufCMessage *)sub;
            }
            if (narr) {
                if (!copy && !(copy = td_arena_memdup(a, msg, d->sizeof_message)))
                    return td_err_set(err, TD_ENOMEM, "out of memory");
                *(ProtobufCMessage ***)(copy + f->offset) = narr;
            }
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        const ProtobufCMessage *child =
            *(const ProtobufCMessage *const *)(base + f->offset);
        if (!child)
            continue;
        const ProtobufCMessage *sub;
        td_status s = walk(a, child, visit, ctx, &sub, err);
        if (s)
            return s;
        if (sub != child) {
            if (!copy && !(copy = td_arena_memdup(a, msg, d->sizeof_message)))
                return td_err_set(err, TD_ENOMEM, "out of memory");
            *(const ProtobufCMessage **)(copy + f->offset) = sub;
        }
    }
    if (copy)
        *out = (const ProtobufCMessage *)copy;
    return TD_OK;
}

td_status td_walk_tensors(td_arena *a, const ProtobufCMessage *msg,
                          td_tensor_visit visit, void *ctx,
                          const ProtobufCMessage **out, td_err_t *err)
{
    return walk(a, msg, visit, ctx, out, err);
}
