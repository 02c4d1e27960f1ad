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

/* Estimated seconds of the original layer; -1 when a Conv's shapes are
 * unknown. A Gemm / MatMul costs as a 1x1 conv over td_cost_rows. */
double td_cost_layer_seconds(const td_layer *l);

/* Estimated seconds of the chain method m builds at these ranks (its
 * td_method_ops.seconds; every method has one); -1 when shapes are
 * unknown. */
double td_cost_chain_seconds(const td_layer *l, td_method m,
                             const int64_t *ranks);

/* ---- for the methods' latency formulas ---- */

/* One Conv of a chain: input and output channels, group, kernel elements,
 * input and output pixels (batch included), in the layer's dtype. */
double td_cost_conv_seconds(const td_layer *l, int64_t cin, int64_t cout,
                            int64_t g, int64_t k, int64_t in_px, int64_t out_px);

/* Pixels of every sample in the batch (px < 0: unknown, returned as is). */
int64_t td_cost_batched(const td_layer *l, int64_t px);

/* Rows of a Gemm / MatMul's input (the product of its leading dims, kept
 * in td_layer.batch); 1 when unknown: then the weight's traffic decides. */
int64_t td_cost_rows(const td_layer *l);

/* The layer's input and output pixels, batch included; 0 when the layer is
 * not a Conv or a size is unknown (no latency model then). */
int td_cost_pixels(const td_layer *l, int64_t *in, int64_t *out);

#endif
