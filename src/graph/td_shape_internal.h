/* Shared between the shape-inference files: the table of known shapes and
 * the per-node context the operator rules work with. */
#ifndef TD_SHAPE_INTERNAL_H
#define TD_SHAPE_INTERNAL_H

#include "td_shape.h"
#include "util/td_arena.h"
#include "util/td_strmap.h"

/* Rank limit for the values we track; ONNX has none, real models stay far
 * below, and a bound keeps stack buffers simple. */
#define SH_MAX_RANK 16
/* Integer tensors up to this many elements carry their values. */
#define SH_MAX_VALUES 64

typedef struct sh_entry {
    const char *name;
    int rank;          /* -1: unknown */
    int64_t dims[SH_MAX_RANK];
    int n_values;      /* -1: values unknown */
    int64_t values[SH_MAX_VALUES];
} sh_entry;

struct td_shapes {
    td_strmap *index;  /* name -> position in e */
    sh_entry *e;
    size_t n, cap;
};

typedef struct sh_ctx {
    td_shapes *s;
    td_graph *g;
    /* The graph IR does not carry opset_import: rules whose inputs moved
     * between opsets look at which inputs and attributes are present. */
    const Onnx__NodeProto *n;
    td_err_t *err;  /* filled with SH_EINPUT */
} sh_ctx;

/* Status values of an operator rule: done, out of memory, or a size that
 * does not fit in int64 (c->err names the node and attribute). Other
 * attribute errors simply leave the outputs unknown. */
enum { SH_OK = 0, SH_NOMEM = -1, SH_EINPUT = -2 };

/* Fills c->err: "node 'N' (Op): WHAT give a size that overflows int64". */
int sh_overflow(sh_ctx *c, const char *what);
/* The node's name, or its first output's when it has none. */
const char *sh_node_label(const Onnx__NodeProto *n);

const sh_entry *sh_find(const td_shapes *s, const char *name);
/* Input k of the node, or NULL when absent, empty or of unknown rank. */
const sh_entry *sh_in(const sh_ctx *c, size_t k);
/* Sets output k's shape (rank < 0: unknown). */
int sh_out(sh_ctx *c, size_t k, const int64_t *dims, int rank);
int sh_out_values(sh_ctx *c, size_t k, const int64_t *dims, int rank,
                  const int64_t *values, int n_values);
int sh_put(td_shapes *s, const char *name, const int64_t *dims, int rank,
           const int64_t *values, int n_values);

/* Integer contents (INT32/INT64, at most SH_MAX_VALUES) of a tensor: 1 and
 * *n values in v, or 0. */
int sh_tensor_ints(const Onnx__TensorProto *t, int64_t *v, int *n);
/* Integer contents of input k (a constant or a tracked value). */
int sh_in_ints(const sh_ctx *c, size_t k, const int64_t **v, int *n);
/* Float contents of a constant input k (malloc'd *v, caller frees). */
int sh_in_doubles(const sh_ctx *c, size_t k, double **v, int64_t *n);
/* Integer attribute list, or the integer input k when the attribute is
 * absent (ops that moved attributes to inputs across opsets). */
int sh_ints_attr_or_input(const sh_ctx *c, const char *attr, size_t k,
                          const int64_t **v, int *n);

int64_t sh_attr_i(const Onnx__NodeProto *n, const char *name, int64_t dflt);
/* Normalizes a possibly negative axis; -1 when out of range. */
int sh_axis(int64_t axis, int rank);

/* Operator rules: 1 when op handled (outputs set), 0 when unknown op,
 * SH_NOMEM on allocation failure. */
int sh_rule_conv(sh_ctx *c, const char *op);
int sh_rule_tensor(sh_ctx *c, const char *op);
int sh_rule_elementwise(sh_ctx *c, const char *op);

#endif
