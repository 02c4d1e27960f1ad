/* A latency model for a layer and for the chain that would replace it, so
 * that the pass can keep the original where the chain does not pay. Each
 * Conv of the chain costs the larger of its compute time and its memory
 * time (a roofline) plus a fixed per-node overhead; depthwise convs get a
 * much lower compute rate because CPU runtimes run them memory-bound. The
 * constants are for a CPU runtime (ONNX Runtime's MLAS) on one core class;
 * only the ratio chain/original matters, so their absolute scale does
 * not. */
#ifndef TD_COST_H
#define TD_COST_H

#include "td_factor.h"

/* Estimated seconds of the original layer; -1 when shapes are unknown or
 * the layer is not a Conv. */
double td_cost_layer_seconds(const td_layer *l);

/* Estimated seconds of the chain method m builds at these ranks (Tucker-2,
 * CP, SVD); -1 when unknown. */
double td_cost_chain_seconds(const td_layer *l, td_method m,
                             const int64_t *ranks);

#endif
