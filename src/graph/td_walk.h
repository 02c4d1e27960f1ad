/* Visits every TensorProto reachable from a message: graph initializers,
 * node attributes (t, tensors), sparse tensors, sub-graphs of If/Loop/Scan,
 * functions and training info. The visitor may return a replacement; the
 * path from the root to it is then copied into the arena (copy-on-write), so
 * messages protobuf-c unpacked are never modified. */
#ifndef TD_WALK_H
#define TD_WALK_H

#include <protobuf-c/protobuf-c.h>

#include "onnx.pb-c.h"
#include "util/td_arena.h"
#include "util/td_err.h"

/* Set *replacement (default NULL) to substitute t. Return TD_OK to go on. */
typedef td_status (*td_tensor_visit)(void *ctx, const Onnx__TensorProto *t,
                                     Onnx__TensorProto **replacement,
                                     td_err_t *err);

/* *out receives msg itself when nothing was replaced, else a copy. */
td_status td_walk_tensors(td_arena *a, const ProtobufCMessage *msg,
                          td_tensor_visit visit, void *ctx,
                          const ProtobufCMessage **out, td_err_t *err);

#endif
