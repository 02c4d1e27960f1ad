/* Every graph of a model as an IR of its own: the main graph (scope 0), the
 * sub-graphs its nodes hold (If branches, Loop and Scan bodies, at any
 * depth) and the bodies of model-local functions (with theirs). Scopes come
 * in pre-order: a scope's enclosing scope comes before it. A sub-graph's IR
 * resolves outer-scope names in its enclosing graph; every IR draws new
 * names from one table seeded with every name of the model. After passes
 * rewrote some of them, td_scopes_commit puts the rewritten graphs back:
 * deepest first, each into a copy of the node that holds it. */
#ifndef TD_SCOPE_H
#define TD_SCOPE_H

#include "td_model.h"

typedef struct td_scopes td_scopes;

typedef enum td_scope_kind {
    TD_SCOPE_MAIN,      /* the model's graph */
    TD_SCOPE_BODY,      /* a graph attribute of a node */
    TD_SCOPE_FUNCTION   /* a model-local function's body */
} td_scope_kind;

/* m may be NULL: then main alone and its sub-graphs (no functions). main
 * is the IR in place (m's own graph); it must outlive the scopes. */
td_status td_scopes_new(td_model *m, td_graph *main, td_scopes **out,
                        td_err_t *err);
void td_scopes_free(td_scopes *s);

size_t td_scopes_count(const td_scopes *s);
td_graph *td_scopes_graph(const td_scopes *s, size_t i);
td_scope_kind td_scopes_kind(const td_scopes *s, size_t i);
/* What to put before a node name of scope i so that it names the node
 * in the whole model: "" for the main graph, else the path of node and
 * attribute names, e.g. "If_0/then_branch/" or "fn:MyBlock/". */
const char *td_scopes_prefix(const td_scopes *s, size_t i);

/* Scope i's graph was rewritten. */
void td_scopes_touch(td_scopes *s, size_t i);
/* name, read by a rewritten node of scope i, is to go when nothing in the
 * model reads it any more (checked by td_scopes_commit in the scope that
 * holds it: scope i or an enclosing one). */
td_status td_scopes_drop_later(td_scopes *s, size_t i, const char *name,
                               td_err_t *err);
/* Removes the names td_scopes_drop_later gave that nothing reads now, then
 * puts every rewritten sub-graph back into its node and every rewritten
 * function into the model. Factors added to a function body (which has no
 * initializers) or to a sub-graph of a model before IR 4 (whose
 * initializers would also have to be sub-graph inputs) become Constant
 * nodes at its start. */
td_status td_scopes_commit(td_scopes *s, td_err_t *err);

#endif
