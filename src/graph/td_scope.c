/* Finding the graphs of a model (td_scope.h): the main graph, the
 * sub-graphs of its nodes and of function bodies, in pre-order. */
#include "td_scope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "td_scope_internal.h"
#include "util/td_strmap.h"

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int reserve(td_scopes *s, const char *name)
{
    return name && name[0] ? td_strmap_put(s->names, name, 0) : 0;
}

static int reserve_vis(td_scopes *s, Onnx__ValueInfoProto *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (reserve(s, v[i]->name))
            return -1;
    return 0;
}

/* Every name a graph defines or reads, so that no generated name meets it
 * in this graph or in one that sees this graph's names. */
static int reserve_graph(td_scopes *s, const Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_initializer; i++)
        if (reserve(s, g->initializer[i]->name))
            return -1;
    for (size_t i = 0; i < g->n_sparse_initializer; i++)
        if (g->sparse_initializer[i]->values &&
            reserve(s, g->sparse_initializer[i]->values->name))
            return -1;
    if (reserve_vis(s, g->input, g->n_input) ||
        reserve_vis(s, g->output, g->n_output) ||
        reserve_vis(s, g->value_info, g->n_value_info))
        return -1;
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        if (reserve(s, n->name))
            return -1;
        for (size_t k = 0; k < n->n_input; k++)
            if (reserve(s, n->input[k]))
                return -1;
        for (size_t k = 0; k < n->n_output; k++)
            if (reserve(s, n->output[k]))
                return -1;
    }
    return 0;
}

static td_status add_scope(td_scopes *s, const scope *sc, td_graph *g,
                           td_err_t *err);

/* The scopes of the graph attributes of scope at's nodes. */
static td_status add_children(td_scopes *s, size_t at, int depth,
                              td_err_t *err)
{
    const Onnx__GraphProto *src = s->v[at].src;
    if (depth > MAX_SCOPE_DEPTH)
        return td_err_set(err, TD_EINPUT, "sub-graphs nest deeper than %d",
                          MAX_SCOPE_DEPTH);
    for (size_t i = 0; i < src->n_node; i++) {
        const Onnx__NodeProto *n = src->node[i];
        owner *own = NULL;
        const char *nm = n->name && n->name[0] ? n->name
                         : n->n_output ? n->output[0] : "";
        for (size_t k = 0; k < n->n_attribute; k++) {
            const Onnx__AttributeProto *a = n->attribute[k];
            size_t count = a->g ? 1 : a->n_graphs;
            for (size_t q = 0; q < count; q++) {
                if (!own && !(own = td_arena_calloc(s->a, 1, sizeof *own)))
                    return td_err_set(err, TD_ENOMEM, "out of memory");
                own->node = n;
                scope sc = {
                    .kind = TD_SCOPE_BODY,
                    .src = a->g ? a->g : a->graphs[q],
                    .parent = at, .own = own, .attr = k,
                    .slot = a->g ? NO_SLOT : q,
                    .consts_as_nodes = s->ir_version < 4,
                    .prefix = a->g ? td_arena_printf(s->a, "%s%s/%s/",
                                                     s->v[at].prefix, nm,
                                                     a->name)
                                   : td_arena_printf(s->a, "%s%s/%s[%zu]/",
                                                     s->v[at].prefix, nm,
                                                     a->name, q),
                };
                td_status st = add_scope(s, &sc, NULL, err);
                if (!st)
                    st = add_children(s, s->n - 1, depth + 1, err);
                if (st)
                    return st;
            }
        }
    }
    return TD_OK;
}

/* Appends a scope; g NULL: a new IR over sc->src. Initializers a pass adds
 * never become inputs of a sub-graph (IR 4 and later say so, and before
 * that they are turned into Constant nodes at commit). */
static td_status add_scope(td_scopes *s, const scope *sc, td_graph *g,
                           td_err_t *err)
{
    int made = !g;
    if (!sc->prefix || grow((void **)&s->v, &s->cap, s->n, sizeof *s->v) ||
        (!g && !(g = td_graph_new(s->a, sc->src, s->ir_version < 4
                                                     ? 4 : s->ir_version))) ||
        reserve_graph(s, sc->src))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    if (made)  /* below IR 4 a body's initializers are inputs too */
        td_graph_set_model_ir(g, s->ir_version);
    scope *d = &s->v[s->n++];
    *d = *sc;
    d->g = g;
    if (d->kind == TD_SCOPE_BODY)
        td_graph_set_parent(g, s->v[d->parent].g);
    return TD_OK;
}

/* A function body as a graph: its nodes, its inputs and outputs by name. */
static const Onnx__GraphProto *function_graph(td_arena *a,
                                              const Onnx__FunctionProto *f)
{
    Onnx__GraphProto *gp = td_arena_alloc(a, sizeof *gp);
    size_t n = f->n_input + f->n_output;
    Onnx__ValueInfoProto **v = td_arena_calloc(a, n + 1, sizeof *v);
    if (!gp || !v)
        return NULL;
    onnx__graph_proto__init(gp);
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] = td_arena_alloc(a, sizeof *v[i])))
            return NULL;
        onnx__value_info_proto__init(v[i]);
        v[i]->name = i < f->n_input ? f->input[i] : f->output[i - f->n_input];
    }
    gp->name = f->name;
    gp->node = f->node;
    gp->n_node = f->n_node;
    gp->input = v;
    gp->n_input = f->n_input;
    gp->output = v + f->n_input;
    gp->n_output = f->n_output;
    gp->value_info = f->value_info;
    gp->n_value_info = f->n_value_info;
    return gp;
}

static td_status add_functions(td_scopes *s, td_err_t *err)
{
    const Onnx__ModelProto *root = td_model_root(s->m);
    for (size_t i = 0; i < root->n_functions; i++) {
        const Onnx__FunctionProto *f = root->functions[i];
        scope sc = {
            .kind = TD_SCOPE_FUNCTION, .fn = i, .consts_as_nodes = 1,
            .src = function_graph(s->a, f),
            .prefix = td_arena_printf(s->a, "fn:%s/", f->name ? f->name : ""),
        };
        if (!sc.src)
            return td_err_set(err, TD_ENOMEM, "out of memory");
        td_status st = add_scope(s, &sc, NULL, err);
        if (!st)
            st = add_children(s, s->n - 1, 1, err);
        if (st)
            return st;
    }
    return TD_OK;
}

td_status td_scopes_new(td_model *m, td_graph *main, td_scopes **out,
                        td_err_t *err)
{
    *out = NULL;
    td_scopes *s = calloc(1, sizeof *s);
    if (!s || !(s->names = td_strmap_new(1024))) {
        free(s);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    s->m = m;
    s->a = td_graph_arena(main);
    s->ir_version = 4;
    if (m && td_model_root(m)->has_ir_version)
        s->ir_version = td_model_root(m)->ir_version;
    scope top = {.kind = TD_SCOPE_MAIN, .src = td_graph_build(main),
                 .prefix = ""};
    td_status st = top.src ? add_scope(s, &top, main, err)
                           : td_err_set(err, TD_ENOMEM, "out of memory");
    if (!st)
        st = add_children(s, 0, 1, err);
    if (!st && m)
        st = add_functions(s, err);
    if (st) {
        td_scopes_free(s);
        return st;
    }
    for (size_t i = 0; i < s->n; i++)
        td_graph_share_names(s->v[i].g, s->names, &s->counter);
    *out = s;
    return TD_OK;
}

void td_scopes_free(td_scopes *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        td_graph_share_names(s->v[i].g, NULL, NULL);
        if (s->v[i].kind != TD_SCOPE_MAIN)
            td_graph_free(s->v[i].g);
    }
    td_strmap_free(s->names);
    free(s->v);
    free(s->drops);
    free(s);
}

size_t td_scopes_count(const td_scopes *s) { return s->n; }
td_graph *td_scopes_graph(const td_scopes *s, size_t i) { return s->v[i].g; }
td_scope_kind td_scopes_kind(const td_scopes *s, size_t i)
{
    return s->v[i].kind;
}
const char *td_scopes_prefix(const td_scopes *s, size_t i)
{
    return s->v[i].prefix;
}
void td_scopes_touch(td_scopes *s, size_t i) { s->v[i].changed = 1; }

td_status td_scopes_drop_later(td_scopes *s, size_t i, const char *name,
                               td_err_t *err)
{
    td_graph *holder;
    if (!td_graph_constant_owner(s->v[i].g, name, &holder))
        return TD_OK;
    size_t at = i;
    while (s->v[at].g != holder && s->v[at].kind == TD_SCOPE_BODY)
        at = s->v[at].parent;
    if (s->v[at].g != holder)
        return TD_OK;
    if (grow((void **)&s->drops, &s->cap_drops, s->n_drops, sizeof *s->drops))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    s->drops[s->n_drops++] = (drop){at, name};
    return TD_OK;
}
