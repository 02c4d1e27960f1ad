/* Building blocks of the chains the methods emit (method_*.c): fresh names
 * derived from the layer's, initializers in the weight's dtype, Conv nodes
 * that carry all, one or none of the layer's spatial geometry, and the
 * chain's bias. A failure is kept in c->st; later calls then do nothing,
 * so a builder checks once at its end. */
#ifndef TD_CHAIN_H
#define TD_CHAIN_H

#include "td_factor.h"

/* axis arguments of td_chain_conv / td_chain_conv_dims */
#define TD_CHAIN_NO_GEOMETRY (-1)   /* a 1x1 conv, no strides or pads */
#define TD_CHAIN_ALL_AXES (-2)      /* the layer's whole geometry */

typedef struct td_chain {
    td_graph *g;
    const td_layer *l;
    int64_t opset;  /* the model's ai.onnx opset */
    Onnx__NodeProto *nodes[TD_MAX_SPATIAL + 6];
    size_t n;
    td_status st;
    td_err_t *err;
} td_chain;

/* A new unique name "<layer>_<suffix>". */
const char *td_chain_fresh(td_chain *c, const char *suffix);

/* A weight initializer (dims given) from doubles, in the layer's dtype. */
const char *td_chain_weight(td_chain *c, const char *suffix,
                            const int64_t *dims, size_t nd, const double *v);

/* Conv weight dims: (co, ci, 1, ..., 1) with the kernel at axis `axis`, at
 * all axes (TD_CHAIN_ALL_AXES) or none (TD_CHAIN_NO_GEOMETRY). */
size_t td_chain_conv_dims(const td_layer *l, int64_t co, int64_t ci, int axis,
                          int64_t *dims);

/* A Conv node reading in with weight w and bias b (NULL: none), carrying
 * the geometry of `axis` (as above, or s >= 0 for axis s's only); out NULL:
 * a fresh name with value_info of co channels. Returns the output name. */
const char *td_chain_conv(td_chain *c, const char *suffix, const char *in,
                          const char *w, const char *b, int64_t group, int axis,
                          int64_t co, const char *out);

/* n zeroed doubles (n == 0 allowed). */
double *td_chain_zeros(td_chain *c, size_t n);

/* The chain's bias: the layer's, or, when the factors shifted the mean
 * output (f->bias_shift), a new one holding it plus the shift. */
const char *td_chain_bias(td_chain *c, const td_factors *f);

/* Appends a node built outside the helpers above. */
void td_chain_add_node(td_chain *c, Onnx__NodeProto *n);

#endif
