/* Putting rewritten sub-graphs and function bodies back into the model:
 * deepest first, each into a copy of the node (or function) holding it. */
#include <string.h>

#include "td_scope_internal.h"

static int is_src_init(const Onnx__GraphProto *src, const char *name)
{
    for (size_t i = 0; i < src->n_initializer; i++)
        if (src->initializer[i]->name &&
            !strcmp(src->initializer[i]->name, name))
            return 1;
    return 0;
}

/* The scope's graph as built now; with consts_as_nodes, the initializers a
 * pass added become Constant nodes ahead of every node (they read nothing,
 * so the order stays topological). */
static Onnx__GraphProto *build_scope(td_scopes *s, scope *sc)
{
    Onnx__GraphProto *gp = td_graph_build(sc->g);
    if (!gp || !sc->consts_as_nodes)
        return gp;
    Onnx__NodeProto **nodes =
        td_arena_calloc(s->a, gp->n_node + gp->n_initializer + 1,
                        sizeof *nodes);
    Onnx__TensorProto **keep =
        td_arena_calloc(s->a, gp->n_initializer + 1, sizeof *keep);
    if (!nodes || !keep)
        return NULL;
    size_t nn = 0, nk = 0;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *t = gp->initializer[i];
        if (is_src_init(sc->src, t->name)) {
            keep[nk++] = t;
            continue;
        }
        const char *out = t->name;
        const char *nm = td_graph_unique_name(sc->g, t->name);
        Onnx__NodeProto *n = nm ? td_node_new(sc->g, "Constant", nm, NULL, 0,
                                              &out, 1) : NULL;
        if (!n || td_node_set_tensor(sc->g, n, "value", t))
            return NULL;
        nodes[nn++] = n;
    }
    memcpy(nodes + nn, gp->node, gp->n_node * sizeof *nodes);
    gp->node = nodes;
    gp->n_node += nn;
    gp->initializer = keep;
    gp->n_initializer = nk;
    return gp;
}

/* A copy of the owner node with the rewritten body in place, put where the
 * node is now in the enclosing graph. */
static td_status plug_body(td_scopes *s, scope *sc, Onnx__GraphProto *body,
                           td_err_t *err)
{
    td_graph *pg = s->v[sc->parent].g;
    const Onnx__NodeProto *old = sc->own->node;
    size_t at = 0, nn = td_graph_node_count(pg);
    while (at < nn && td_graph_node(pg, at) != old)
        at++;
    if (at == nn)
        return td_err_set(err, TD_EINPUT, "node '%s' (%s) holding sub-graph "
                          "'%s' is gone from its graph", old->name ? old->name
                          : "", old->op_type, sc->prefix);
    Onnx__NodeProto *cp = td_arena_memdup(s->a, old, sizeof *cp);
    Onnx__AttributeProto **attrs =
        cp ? td_arena_memdup(s->a, old->attribute,
                             old->n_attribute * sizeof *attrs) : NULL;
    Onnx__AttributeProto *a =
        attrs ? td_arena_memdup(s->a, old->attribute[sc->attr], sizeof *a)
              : NULL;
    if (!a)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    if (sc->slot == NO_SLOT) {
        a->g = body;
    } else {
        Onnx__GraphProto **gs =
            td_arena_memdup(s->a, a->graphs, a->n_graphs * sizeof *gs);
        if (!gs)
            return td_err_set(err, TD_ENOMEM, "out of memory");
        gs[sc->slot] = body;
        a->graphs = gs;
    }
    attrs[sc->attr] = a;
    cp->attribute = attrs;
    sc->own->node = cp;
    s->v[sc->parent].changed = 1;
    return td_graph_replace_node(pg, at, &cp, 1, err);
}

/* A copy of the function with the rewritten body's nodes (its value_info
 * stays the function's own: factors' shapes are left to runtimes). */
static td_status plug_function(td_scopes *s, scope *sc,
                               Onnx__FunctionProto **fns, td_err_t *err)
{
    Onnx__GraphProto *gp = build_scope(s, sc);
    Onnx__FunctionProto *f =
        gp ? td_arena_memdup(s->a, fns[sc->fn], sizeof *f) : NULL;
    if (!f)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    f->node = gp->node;
    f->n_node = gp->n_node;
    fns[sc->fn] = f;
    return TD_OK;
}

td_status td_scopes_commit(td_scopes *s, td_err_t *err)
{
    Onnx__FunctionProto **fns = NULL;
    for (size_t k = s->n; k-- > 0;) {
        scope *sc = &s->v[k];
        for (size_t q = 0; q < s->n_drops; q++)
            if (s->drops[q].scope == k &&
                td_graph_remove_if_unused(sc->g, s->drops[q].name))
                sc->changed = 1;
        if (!sc->changed || sc->kind == TD_SCOPE_MAIN)
            continue;
        td_status st;
        if ((st = td_graph_check(sc->g, err)))
            return td_err_prefix(err, "internal error, sub-graph '%s' is "
                                 "invalid after the rewrite: ", sc->prefix);
        if (sc->kind == TD_SCOPE_BODY) {
            Onnx__GraphProto *body = build_scope(s, sc);
            st = body ? plug_body(s, sc, body, err)
                      : td_err_set(err, TD_ENOMEM, "out of memory");
        } else {
            const Onnx__ModelProto *root = td_model_root(s->m);
            if (!fns && !(fns = td_arena_memdup(s->a, root->functions,
                                                root->n_functions *
                                                    sizeof *fns)))
                return td_err_set(err, TD_ENOMEM, "out of memory");
            st = plug_function(s, sc, fns, err);
        }
        if (st)
            return st;
        sc->changed = 0;
    }
    s->n_drops = 0;
    if (fns)
        td_model_set_functions(s->m, fns);
    return TD_OK;
}
