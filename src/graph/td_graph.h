/* The graph IR: the main graph of a model as arrays of protobuf-c message
 * pointers that passes can rewrite. A pointer is either borrowed from the
 * unpacked file (never modified) or built in the model's arena. Passes use
 * only this API; nothing here knows tensor algebra. */
#ifndef TD_GRAPH_H
#define TD_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "util/td_arena.h"
#include "util/td_err.h"

/* The one limit on nesting: messages within messages when a model is read
 * (protobuf's own default; td_load_opts.max_depth may change it), and the
 * recursion over sub-graphs everywhere else. A sub-graph sits three messages
 * below its parent graph (GraphProto > NodeProto > AttributeProto), so a
 * model read with the default limit never reaches the recursion bound. */
enum { TD_MAX_NESTING = 100 };

typedef struct td_graph td_graph;

/* ir_version decides whether new initializers must also be graph inputs
 * (IR < 4 requires it). */
td_graph *td_graph_new(td_arena *a, const Onnx__GraphProto *g,
                       int64_t ir_version);
void td_graph_free(td_graph *g);
td_arena *td_graph_arena(td_graph *g);

/* A GraphProto for saving: the original's other fields, this IR's nodes,
 * initializers and value_info. Built in the arena. */
Onnx__GraphProto *td_graph_build(td_graph *g);

/* ---- reading ---- */
size_t td_graph_node_count(const td_graph *g);
const Onnx__NodeProto *td_graph_node(const td_graph *g, size_t i);
size_t td_graph_init_count(const td_graph *g);
const Onnx__TensorProto *td_graph_init(const td_graph *g, size_t i);
const Onnx__GraphProto *td_graph_orig(const td_graph *g);
/* The k-th named symbolic dimension (dim_param) of the graph's inputs, in
 * the order of inputs and axes (repeats included); NULL past the last. */
const char *td_graph_symbolic_dim(const td_graph *g, size_t k);

/* Index of the node producing name, or -1. */
int64_t td_graph_producer(td_graph *g, const char *name);
/* Number of node inputs (in this graph and in sub-graphs, which may use
 * outer names) that read name; graph outputs count as one each. */
size_t td_graph_use_count(td_graph *g, const char *name);
int td_graph_is_output(const td_graph *g, const char *name);
/* Is name a graph input (for an initializer: an overridable one)? */
int td_graph_is_input(const td_graph *g, const char *name);
/* Is the initializer name overridable: also a graph input, at IR >= 4
 * (before IR 4 every initializer had to be listed as an input)? */
int td_graph_is_overridable(const td_graph *g, const char *name);
/* The model's IR version, where it differs from the one g adds
 * initializers by (a sub-graph's IR: td_scope.c). */
void td_graph_set_model_ir(td_graph *g, int64_t ir);
/* The sparse initializer named name (GraphProto.sparse_initializer, named
 * by its values tensor), or NULL. */
const Onnx__SparseTensorProto *td_graph_sparse_init(const td_graph *g,
                                                    const char *name);
/* A sparse tensor's name (its values tensor's), or NULL when unnamed. */
const char *td_graph_sparse_name(const Onnx__SparseTensorProto *t);
/* Consumers in this graph's nodes: fills up to max indices, returns count. */
size_t td_graph_consumers(td_graph *g, const char *name, size_t *idx,
                          size_t max);

/* The constant tensor behind name: an initializer or a Constant node's
 * value; NULL when name is neither. An initializer also listed as a graph
 * input counts as constant: before IR 4 every weight had to be listed so,
 * and exporters and runtimes treat those as weights. */
const Onnx__TensorProto *td_graph_constant(td_graph *g, const char *name);

/* As td_graph_constant, and *owner: the graph holding it (g, or for a
 * sub-graph the enclosing graph it is read from); NULL when none. */
const Onnx__TensorProto *td_graph_constant_owner(td_graph *g, const char *name,
                                                 td_graph **owner);
int td_graph_is_input(const td_graph *g, const char *name);
/* Makes g a sub-graph of parent: names g neither produces nor takes as
 * inputs resolve there (td_graph_constant). parent must outlive g. */
void td_graph_set_parent(td_graph *g, td_graph *parent);

/* A name not yet used by any value, node or initializer, derived from base. */
const char *td_graph_unique_name(td_graph *g, const char *base);
/* From now on td_graph_unique_name draws from names (every name of the
 * model, seeded by the caller) and counter, shared with the model's other
 * graphs so that a name is unique across all of them. Both borrowed. */
struct td_strmap;
void td_graph_share_names(td_graph *g, struct td_strmap *names,
                          unsigned long *counter);

/* ---- editing ---- */
/* Replaces node i by the n nodes given (n may be 0: removal). The new nodes
 * must already be in topological order among themselves. */
td_status td_graph_replace_node(td_graph *g, size_t i,
                                Onnx__NodeProto *const *nodes, size_t n,
                                td_err_t *err);
td_status td_graph_add_init(td_graph *g, Onnx__TensorProto *t, td_err_t *err);
/* Adds shape information for an intermediate value. dims < 0 are unknown. */
td_status td_graph_add_value_info(td_graph *g, const char *name,
                                  int32_t elem_type, const int64_t *dims,
                                  size_t ndims, td_err_t *err);
/* Appends a graph output (dims < 0 unknown; ndims 0 with dims NULL: rank
 * unknown). */
td_status td_graph_add_output(td_graph *g, const char *name,
                              int32_t elem_type, const int64_t *dims,
                              size_t ndims, td_err_t *err);
/* Removes value_info entries for name (the value went away). */
void td_graph_drop_value_info(td_graph *g, const char *name);
/* Removes the initializer (and its graph input, when it is one) or the
 * Constant node that provides name, if nothing reads name any more.
 * Returns 1 when removed. */
int td_graph_remove_if_unused(td_graph *g, const char *name);

/* ---- node building (arena-owned) ---- */
Onnx__NodeProto *td_node_new(td_graph *g, const char *op_type,
                             const char *name, const char *const *inputs,
                             size_t n_in, const char *const *outputs,
                             size_t n_out);
td_status td_node_set_int(td_graph *g, Onnx__NodeProto *n, const char *attr,
                          int64_t v);
td_status td_node_set_ints(td_graph *g, Onnx__NodeProto *n, const char *attr,
                           const int64_t *v, size_t count);
td_status td_node_set_float(td_graph *g, Onnx__NodeProto *n, const char *attr,
                            float v);
/* t borrowed: it must live as long as the node. */
td_status td_node_set_tensor(td_graph *g, Onnx__NodeProto *n,
                             const char *attr, Onnx__TensorProto *t);
td_status td_node_set_string(td_graph *g, Onnx__NodeProto *n,
                             const char *attr, const char *v);

/* ---- attributes, typed, with defaults ---- */
const Onnx__AttributeProto *td_attr_find(const Onnx__NodeProto *n,
                                         const char *name);
/* TD_OK and *v = dflt when absent; TD_EINPUT when present with another type. */
td_status td_attr_int(const Onnx__NodeProto *n, const char *name, int64_t dflt,
                      int64_t *v, td_err_t *err);
td_status td_attr_float(const Onnx__NodeProto *n, const char *name, float dflt,
                        float *v, td_err_t *err);
/* *v borrowed; *count = 0 and *v = NULL when absent. */
td_status td_attr_ints(const Onnx__NodeProto *n, const char *name,
                       const int64_t **v, size_t *count, td_err_t *err);
/* Copies the value (or dflt) into buf; too long or holding NUL: TD_EINPUT. */
td_status td_attr_string(const Onnx__NodeProto *n, const char *name,
                         const char *dflt, char *buf, size_t cap,
                         td_err_t *err);

/* Sorts the nodes topologically, keeping the current order wherever it is
 * already valid (a stable Kahn sort). Values a sub-graph reads from this
 * graph count as inputs of the node that owns the sub-graph. Refuses a
 * cycle, naming a node on it. */
td_status td_graph_toposort(td_graph *g, td_err_t *err);

/* Elements of every initializer and Constant node tensor, in this graph
 * and its sub-graphs: the "model parameters" of reports. TD_EINPUT naming
 * a tensor when the sum does not fit in int64. */
td_status td_graph_param_count(td_graph *g, int64_t *out, td_err_t *err);

/* Verifies: every name has at most one producer, every node input is a
 * graph input, an initializer, an earlier node's output or empty (nodes in
 * topological order), every graph output is produced. */
td_status td_graph_check(td_graph *g, td_err_t *err);

#endif
