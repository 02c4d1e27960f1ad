/* Shared by the diff files: tensor and message comparison, value
 * descriptions, and the change records of a node. */
#ifndef TD_DIFF_INTERNAL_H
#define TD_DIFF_INTERNAL_H

#include <stdint.h>

#include "onnx.pb-c.h"
#include "td_diff.h"
#include "util/td_arena.h"
#include "util/td_buf.h"
#include "util/td_err.h"

typedef struct tensor_cmp {
    int same;          /* dtype, shape and values all equal */
    int dtype_same, shape_same;
    int numeric;       /* values decoded: the fields below are valid */
    double max_abs_diff; /* largest |a - b| over unequal elements */
    double max_rel_diff; /* largest |a - b| / |b| (infinite where b = 0) */
    int64_t n_diff;    /* elements outside the tolerance */
} tensor_cmp;

/* Compares two tensors by decoded value within o's tolerance (o NULL:
 * exact); payload placement, names and doc strings do not count.
 * TD_ENOMEM is the only failure. */
td_status diff_tensor(const Onnx__TensorProto *a, const Onnx__TensorProto *b,
                      const td_diff_opts *o, tensor_cmp *r, td_err_t *err);

/* Equality of two messages of one type by their serialized bytes (for the
 * rarely used kinds: type protos, sparse tensors, functions). -1: out of
 * memory. */
int diff_msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

/* "float32 [64, 3, 3, 3]" in the arena. */
const char *diff_tensor_desc(td_arena *a, const Onnx__TensorProto *t);
/* "float32 [N, 3, 224, 224]" for a value's declared type. */
const char *diff_type_desc(td_arena *a, const Onnx__TypeProto *tp);
void diff_json_type(td_buf *b, const Onnx__TypeProto *tp);
/* 1 when the two declared types (dtype and shape) are the same. */
int diff_type_equal(const Onnx__TypeProto *a, const Onnx__TypeProto *b);

/* One difference between two matched nodes. */
typedef struct node_change {
    const char *field;  /* op_type, domain, input, output, attribute, ... */
    const char *attr;   /* attribute name, or NULL */
    int64_t index;      /* input/output position, or -1 */
    const char *a, *b;  /* descriptions; NULL when absent on that side */
    const char *detail; /* first difference inside a sub-graph, or NULL */
    int has_tensor;     /* a tensor attribute compared by value */
    tensor_cmp tc;
} node_change;

typedef struct node_changes {
    node_change *v;
    size_t n, cap;
} node_changes;

/* Appends the differences between nodes a and b to *out (arena-owned
 * strings); names are not compared (the caller pairs nodes). o may be
 * NULL. TD_ENOMEM is the only failure. */
td_status diff_nodes(td_arena *ar, const Onnx__NodeProto *a,
                     const Onnx__NodeProto *b, const td_diff_opts *o,
                     node_changes *out, td_err_t *err);

/* Whether two sub-graphs mean the same: nodes compared in order, then
 * initializers, inputs and outputs. *why gets the first difference.
 * Returns 1 same, 0 different, -1 out of memory. */
int diff_graph_same(td_arena *ar, const Onnx__GraphProto *a,
                    const Onnx__GraphProto *b, const td_diff_opts *o,
                    int depth, const char **why);

/* Counts behind the one-line summary. */
typedef struct diff_summary {
    size_t nodes_added, nodes_removed, nodes_changed, nodes_renamed;
    size_t tensors_added, tensors_removed, tensors_differ;
    size_t counted;        /* differences in the categories above */
    int has_max;           /* a numeric tensor differed: the maxima hold */
    double max_abs, max_rel;
} diff_summary;

/* The report being written: text lines or JSON into b. Text lines start
 * with a mark ("- " only in A, "+ " only in B, "~ " changed) and are
 * sorted once complete. */
typedef struct dctx {
    td_arena *ar;
    td_buf *b;
    int json;
    size_t count;  /* differences found */
    td_err_t *err;
    const td_diff_opts *o;
    diff_summary sum;
} dctx;

/* s for one line of the text report: control characters (a newline in a
 * name, say) written as \n, \t, \r or \xHH, so every difference stays one
 * line and a report cannot drive the terminal; s itself when it has none,
 * "" for NULL, else a copy in c's arena. JSON escapes on its own. */
const char *diff_tx(dctx *c, const char *s);

/* td_diff_summary.c: records a differing tensor for the summary; appends
 * body's text lines to out in report order (section, then the line
 * without its mark, then -, +, ~); writes the last line of a text report,
 * or the "summary" and "options" members of a JSON one. */
void diff_note_tensor(dctx *c, const tensor_cmp *r);
td_status diff_sort_lines(td_buf *body, td_buf *out, td_err_t *err);
void diff_summary_text(td_buf *b, const dctx *c);
void diff_summary_json(td_buf *b, const dctx *c);

/* JSON only (no-ops for text): a keyed object or list, and its end. */
void diff_jopen_group(dctx *c, const char *key);
void diff_jopen_list(dctx *c, const char *key);
void diff_jclose(dctx *c, char ch);
void diff_jstr_or_null(td_buf *b, const char *key, const char *v);

/* Pairs a's nodes with b's (td_diff_match.c): a_to_b[i] is the node of b
 * paired with a's node i, or -1; b_to_a the reverse. */
td_status diff_match_nodes(dctx *c, const Onnx__GraphProto *a,
                           const Onnx__GraphProto *b, int64_t *a_to_b,
                           int64_t *b_to_a);

/* Main-graph initializers and nodes; model functions (td_diff_graph.c). */
td_status diff_graph_sections(dctx *c, const Onnx__GraphProto *a,
                              const Onnx__GraphProto *b);
td_status diff_functions(dctx *c, const Onnx__ModelProto *a,
                         const Onnx__ModelProto *b);

#endif
