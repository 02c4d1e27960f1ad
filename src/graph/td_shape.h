/* Static shape inference for the main graph, enough for convolutional
 * networks: shapes flow from graph inputs (symbolic dims unknown unless the
 * caller gives them a value), initializers, Constant nodes and existing
 * value_info through the ONNX operators CNNs use. An operator it does not
 * know leaves its outputs unknown; nothing here is an error for a model
 * ONNX would accept. Small integer tensors (shape arithmetic such as
 * Shape -> Gather -> Concat -> Reshape) also carry their values. */
#ifndef TD_SHAPE_H
#define TD_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "td_graph.h"
#include "util/td_err.h"

/* A value for a symbolic dimension (dim_param) of the graph inputs. */
typedef struct td_dim_value {
    const char *name;
    int64_t value;
} td_dim_value;

typedef struct td_shape_opts {
    const td_dim_value *dims;  /* borrowed for the call */
    size_t n_dims;
    /* Also take shapes from value_info and graph outputs when inference
     * leaves a value unknown (0: inferred shapes only, for tests). */
    int use_declared;
} td_shape_opts;

typedef struct td_shapes td_shapes;

/* opts may be NULL. The result borrows names from g: free it before the
 * graph changes or goes away. */
td_status td_shape_infer(td_graph *g, const td_shape_opts *opts,
                         td_shapes **out, td_err_t *err);
void td_shapes_free(td_shapes *s);

/* 1 and *dims (borrowed, -1 for an unknown dim), *ndims when the rank of
 * name is known; 0 otherwise. */
int td_shape_get(const td_shapes *s, const char *name, const int64_t **dims,
                 size_t *ndims);

/* Index of the first node (in the graph's order) among value's producer
 * and its ancestors whose output shape is not fully known; -1 when there is
 * none (or on allocation failure). The graph must be topologically sorted. */
int64_t td_shape_first_unknown(td_graph *g, const td_shapes *s,
                               const char *value);

/* The geometry of a Conv-like node (Conv, ConvInteger, QLinearConv,
 * ConvTranspose) with auto_pad resolved where the input size allows. */
#define TD_CONV_MAX_SPATIAL 8
typedef struct td_conv_geom {
    size_t n_spatial;
    int64_t group;
    int64_t kernel[TD_CONV_MAX_SPATIAL];
    int64_t strides[TD_CONV_MAX_SPATIAL];
    int64_t dilations[TD_CONV_MAX_SPATIAL];
    /* begin values, then end values, as in the ONNX attribute; -1 when
     * auto_pad is SAME_* and the input size is unknown */
    int64_t pads[2 * TD_CONV_MAX_SPATIAL];
    char auto_pad[16];
    int64_t in_spatial[TD_CONV_MAX_SPATIAL];   /* -1 unknown */
    int64_t out_spatial[TD_CONV_MAX_SPATIAL];  /* -1 unknown */
    /* Set with TD_EINPUT when a size or pad does not fit in int64 (the
     * model is broken, not merely unusual): shape inference stops there
     * instead of leaving the output unknown. */
    int overflow;
} td_conv_geom;

/* Index of the data input and of the weight input of a Conv-like op, or -1
 * when op_type is not one. */
int td_conv_weight_index(const char *op_type);
int td_conv_bias_index(const char *op_type);

/* Fills *geo from the node's attributes, the weight shape w (rank >= 3)
 * and the input spatial size x_spatial (may hold -1; n_spatial entries).
 * TD_EINPUT names the node when attributes contradict the weight, or the
 * node and attribute when a size overflows (geo->overflow set). */
td_status td_conv_geometry(const Onnx__NodeProto *n, const int64_t *w,
                           size_t w_rank, const int64_t *x_spatial,
                           td_conv_geom *geo, td_err_t *err);

#endif
