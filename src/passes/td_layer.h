/* A layer the compression pass can factor: a Conv with a constant weight,
 * or a Gemm / MatMul with a constant 2-D weight. Geometry is read from the
 * node and its weight once, checked against each other, and kept here so the
 * numerics and the chain builders never look at attributes again. */
#ifndef TD_LAYER_H
#define TD_LAYER_H

#include <stdint.h>

#include "graph/td_graph.h"

#define TD_MAX_SPATIAL 3

typedef enum td_layer_kind { TD_LAYER_CONV, TD_LAYER_GEMM, TD_LAYER_MATMUL } td_layer_kind;

typedef struct td_layer {
    td_layer_kind kind;
    const Onnx__NodeProto *node;
    const char *name;            /* node name, or its first output */
    const char *weight_name;
    const Onnx__TensorProto *weight;
    int32_t dtype;               /* the weight's; factors are written in it */

    /* Conv: weight (cout, cin_g, k[0..nsp-1]); group; cin = cin_g * group.
     * Gemm/MatMul: the effective K x N weight: cin = K, cout = N, nsp = 0. */
    int64_t cout, cin, cin_g, group;
    int nsp;
    int64_t k[TD_MAX_SPATIAL];
    int64_t strides[TD_MAX_SPATIAL], dilations[TD_MAX_SPATIAL];
    int64_t pads[2 * TD_MAX_SPATIAL];  /* begins then ends */
    char auto_pad[16];                 /* "NOTSET" unless set */
    int has_bias;

    /* Gemm: attributes. */
    int64_t trans_a, trans_b;
    float alpha, beta;

    /* Spatial sizes when shapes are known (else -1). */
    int64_t in_sp[TD_MAX_SPATIAL], out_sp[TD_MAX_SPATIAL];
    /* Batch size of the input when known (0: unknown); for a Gemm /
     * MatMul the rows of its input. Only the latency model uses it;
     * parameters and MACs are per sample (per row). */
    int64_t batch;
} td_layer;

/* Describes node i if it is a layer the pass can factor. Returns TD_OK and
 * *ok = 1 when it is; *ok = 0 with *why set (static text) when it is not a
 * candidate (runtime weight, depthwise, ...); an error when the node is
 * malformed (group does not divide, kernel_shape contradicts the weight,
 * zero stride ...), naming the node. */
td_status td_layer_describe(td_graph *g, size_t i, td_layer *l, int *ok,
                            const char **why, td_err_t *err);

/* A Gemm / MatMul's rows from its input's shape (d NULL or a dim
 * unknown: 0): every dim but the one K runs along. */
void td_layer_set_rows(td_layer *l, const int64_t *d, size_t nd);

/* After the spatial sizes and batch are set: TD_EINPUT naming the node
 * when the layer's MACs, or its pixels (any mix of input and output sizes,
 * times the batch), do not fit in int64. The sizes come from the model or
 * from --dim; once this passes, the counts below cannot overflow. */
td_status td_layer_check_counts(const td_layer *l, td_err_t *err);

/* Parameters and multiply-accumulates of the original layer (MACs -1 when
 * the output size is unknown). */
int64_t td_layer_params(const td_layer *l);
int64_t td_layer_macs(const td_layer *l);
/* Product of output (or input) spatial sizes; -1 when unknown. */
int64_t td_layer_out_pixels(const td_layer *l);
int64_t td_layer_in_pixels(const td_layer *l);
int64_t td_layer_kernel_size(const td_layer *l);
/* Bias elements of the layer (0 without one). */
int64_t td_layer_bias_params(const td_layer *l);
/* Sum of the kernel's extents (the per-axis cores of CP and TR chains). */
int64_t td_layer_kernel_extent_sum(const td_layer *l);
/* Pixels after the spatial convs of axes 0..s of a chain that runs one
 * axis at a time (axes up to s at output size, the rest at input size;
 * s = -1: the input's); -1 when a size is unknown. */
int64_t td_layer_pixels_after_axis(const td_layer *l, int s);

#endif
