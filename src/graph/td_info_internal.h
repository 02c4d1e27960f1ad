/* What td_info collects about a model before rendering it as text or
 * JSON (td_info_render.c). */
#ifndef TD_INFO_INTERNAL_H
#define TD_INFO_INTERNAL_H

#include "td_info.h"
#include "util/td_buf.h"

#define INFO_MAX_RANK 16
#define INFO_N_DTYPES 32  /* TensorProto.DataType values we bucket */

typedef struct info_op {
    const char *domain;  /* "" for the default domain */
    const char *op;
    int64_t count;
} info_op;

typedef struct info_dtype {
    int64_t tensors, count;
    uint64_t bytes;
} info_dtype;

typedef struct info_conv {
    const char *name;    /* "" when the node has none */
    const char *op;
    size_t index;        /* position among the graph's nodes */
    int w_known, x_known;
    size_t w_rank, x_rank;
    int64_t w[INFO_MAX_RANK], x[INFO_MAX_RANK];
    int geo_ok;
    td_conv_geom geo;
    int64_t params;      /* weight + bias elements; -1 unknown */
    int64_t macs;        /* per sample; -1 unknown */
} info_conv;

typedef struct td_info {
    const char *path;
    const Onnx__ModelProto *model;
    const td_shapes *shapes;
    const td_info_opts *opts;
    size_t n_nodes;
    info_op *ops;
    size_t n_ops;
    info_dtype dtypes[INFO_N_DTYPES];
    int64_t params_total;
    uint64_t bytes_total;
    /* the first tensor whose elements or bytes did not fit the totals
     * (dims without matching data: an unknown dtype, external data) */
    const char *count_overflow;
    info_conv *convs;
    size_t n_convs;
    /* over the convs whose counts are known; macs_unknown: the others */
    int64_t conv_params, conv_macs;
    size_t conv_macs_unknown;
} td_info;

/* The declared tensor type of a value (NULL shape when none). */
const Onnx__TensorShapeProto *info_vi_shape(const Onnx__ValueInfoProto *v,
                                            int32_t *dtype);
/* IR < 4 lists initializers among the graph inputs; reports skip them. */
int info_is_initializer(const Onnx__GraphProto *g, const char *name);

void td_info_render_text(const td_info *in, td_buf *b);
void td_info_render_json(const td_info *in, td_buf *b);

#endif
