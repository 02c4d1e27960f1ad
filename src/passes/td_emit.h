/* Chain builders: replace a layer's node by the chain of smaller nodes its
 * factors describe, with initializers in the weight's dtype, value_info for
 * the intermediate values. The old weight stays: callers remove it with
 * td_graph_remove_if_unused after all chains are in. */
#ifndef TD_EMIT_H
#define TD_EMIT_H

#include "td_factor.h"

/* node_index must be the layer's current index in g. opset: the model's
 * ai.onnx opset (Gemm before 11 needs its C input). */
td_status td_emit_chain(td_graph *g, const td_layer *l, const td_factors *f,
                        size_t node_index, int64_t opset, td_err_t *err);

#endif
