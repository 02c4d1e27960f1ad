/* The scopes' own data, shared by td_scope.c (finding them) and
 * td_scope_commit.c (putting rewritten ones back). */
#ifndef TD_SCOPE_INTERNAL_H
#define TD_SCOPE_INTERNAL_H

#include <stdint.h>

#include "td_scope.h"
#include "util/td_strmap.h"

/* Sub-graphs nest no deeper than this (the loader's message nesting limit
 * already bounds real models far below). */
enum { MAX_SCOPE_DEPTH = 64 };
#define NO_SLOT SIZE_MAX

/* The node holding one or more sub-graphs, as it is now in its graph: a
 * rewritten sub-graph goes into a copy, which later siblings must find. */
typedef struct owner {
    const Onnx__NodeProto *node;
} owner;

typedef struct scope {
    td_scope_kind kind;
    td_graph *g;
    const Onnx__GraphProto *src;  /* what the IR was built over */
    size_t parent;                /* body: the enclosing scope */
    owner *own;                   /* body: its node */
    size_t attr, slot;            /* body: attribute; graphs[slot] or .g */
    size_t fn;                    /* function: index in the model's list */
    const char *prefix;
    int consts_as_nodes;
    int changed;
} scope;

typedef struct drop {
    size_t scope;
    const char *name;
} drop;

struct td_scopes {
    td_model *m;
    td_arena *a;
    scope *v;
    size_t n, cap;
    drop *drops;
    size_t n_drops, cap_drops;
    td_strmap *names;
    unsigned long counter;
    int64_t ir_version;
};

#endif
