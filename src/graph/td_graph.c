#include "td_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/td_strmap.h"

/* A growable array of message pointers living in the arena. */
struct vec {
    void **p;
    size_t n, cap;
};

struct td_graph {
    td_arena *a;
    const Onnx__GraphProto *orig;
    int64_t ir_version;
    int64_t model_ir;   /* the model's IR version (td_graph_set_model_ir) */
    struct vec nodes, inits, inputs, outputs, vinfo;
    /* Lookup tables, rebuilt after any edit. */
    td_strmap *producer, *init_at, *uses, *names;
    int dirty;
    /* A table could not be built (out of memory): lookups since then gave
     * cautious answers that may have left an edit undone, so every edit,
     * the check and td_graph_build fail from then on rather than let a
     * model that differs from the one asked for be written. */
    int lost;
    unsigned long name_counter;
    /* A sub-graph's enclosing graph (outer-scope names), or NULL. */
    td_graph *parent;
    /* Names of the whole model, when shared with the other graphs of it
     * (td_graph_share_names); NULL: this graph's own table. */
    td_strmap *shared_names;
    unsigned long *shared_counter;
};

static int vec_init(td_arena *a, struct vec *v, void *const *src, size_t n)
{
    v->cap = n + 16;
    v->p = td_arena_calloc(a, v->cap, sizeof *v->p);
    if (!v->p)
        return -1;
    if (n)
        memcpy(v->p, src, n * sizeof *v->p);
    v->n = n;
    return 0;
}

static int vec_splice(td_arena *a, struct vec *v, size_t at, size_t remove,
                      void *const *ins, size_t n_ins)
{
    size_t n = v->n - remove + n_ins;
    if (n > v->cap) {
        size_t cap = n * 2;
        void **p = td_arena_calloc(a, cap, sizeof *p);
        if (!p)
            return -1;
        memcpy(p, v->p, v->n * sizeof *p);
        v->p = p;
        v->cap = cap;
    }
    memmove(v->p + at + n_ins, v->p + at + remove,
            (v->n - at - remove) * sizeof *v->p);
    if (n_ins)
        memcpy(v->p + at, ins, n_ins * sizeof *ins);
    v->n = n;
    return 0;
}

td_graph *td_graph_new(td_arena *a, const Onnx__GraphProto *orig,
                       int64_t ir_version)
{
    td_graph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->a = a;
    g->orig = orig;
    g->ir_version = ir_version;
    g->model_ir = ir_version;
    g->dirty = 1;
    if (vec_init(a, &g->nodes, (void *const *)orig->node, orig->n_node) ||
        vec_init(a, &g->inits, (void *const *)orig->initializer,
                 orig->n_initializer) ||
        vec_init(a, &g->inputs, (void *const *)orig->input, orig->n_input) ||
        vec_init(a, &g->outputs, (void *const *)orig->output,
                 orig->n_output) ||
        vec_init(a, &g->vinfo, (void *const *)orig->value_info,
                 orig->n_value_info) ||
        vec_init(a, &g->outputs, (void *const *)orig->output, orig->n_output)) {
        free(g);
        return NULL;
    }
    return g;
}

static void drop_maps(td_graph *g)
{
    td_strmap_free(g->producer);
    td_strmap_free(g->init_at);
    td_strmap_free(g->uses);
    td_strmap_free(g->names);
    g->producer = g->init_at = g->uses = g->names = NULL;
}

void td_graph_free(td_graph *g)
{
    if (g) {
        drop_maps(g);
        free(g);
    }
}

td_arena *td_graph_arena(td_graph *g) { return g->a; }
const Onnx__GraphProto *td_graph_orig(const td_graph *g) { return g->orig; }
size_t td_graph_node_count(const td_graph *g) { return g->nodes.n; }
size_t td_graph_init_count(const td_graph *g) { return g->inits.n; }

const Onnx__NodeProto *td_graph_node(const td_graph *g, size_t i)
{
    return i < g->nodes.n ? g->nodes.p[i] : NULL;
}

const Onnx__TensorProto *td_graph_init(const td_graph *g, size_t i)
{
    return i < g->inits.n ? g->inits.p[i] : NULL;
}

Onnx__GraphProto *td_graph_build(td_graph *g)
{
    if (g->lost)
        return NULL;
    Onnx__GraphProto *out = td_arena_memdup(g->a, g->orig, sizeof *out);
    if (!out)
        return NULL;
    out->n_node = g->nodes.n;
    out->node = (Onnx__NodeProto **)g->nodes.p;
    out->n_initializer = g->inits.n;
    out->initializer = (Onnx__TensorProto **)g->inits.p;
    out->n_input = g->inputs.n;
    out->input = (Onnx__ValueInfoProto **)g->inputs.p;
    out->n_output = g->outputs.n;
    out->output = (Onnx__ValueInfoProto **)g->outputs.p;
    out->n_value_info = g->vinfo.n;
    out->value_info = (Onnx__ValueInfoProto **)g->vinfo.p;
    out->n_output = g->outputs.n;
    out->output = (Onnx__ValueInfoProto **)g->outputs.p;
    return out;
}

static int bump(td_strmap *m, const char *name)
{
    int64_t c = td_strmap_get(m, name);
    return td_strmap_put(m, name, c < 0 ? 1 : c + 1);
}

/* Names read by nodes of sub-graphs (If/Loop/Scan bodies may use outer
 * values): every input is counted, which can only over-count. */
static int count_subgraph_uses(td_strmap *uses, td_strmap *names,
                               const Onnx__GraphProto *sg, int depth)
{
    if (depth > TD_MAX_NESTING)
        return 0;
    /* a body may hand an outer value on as its own output */
    for (size_t i = 0; i < sg->n_output; i++)
        if (sg->output[i]->name && sg->output[i]->name[0] &&
            bump(uses, sg->output[i]->name))
            return -1;
    for (size_t i = 0; i < sg->n_node; i++) {
        const Onnx__NodeProto *n = sg->node[i];
        for (size_t k = 0; k < n->n_input; k++)
            if (n->input[k][0] && (bump(uses, n->input[k]) ||
                                   td_strmap_put(names, n->input[k], 0)))
                return -1;
        for (size_t k = 0; k < n->n_output; k++)
            if (td_strmap_put(names, n->output[k], 0))
                return -1;
        if (n->name && td_strmap_put(names, n->name, 0))
            return -1;
        for (size_t k = 0; k < n->n_attribute; k++) {
            const Onnx__AttributeProto *at = n->attribute[k];
            if (at->g && count_subgraph_uses(uses, names, at->g, depth + 1))
                return -1;
            for (size_t j = 0; j < at->n_graphs; j++)
                if (count_subgraph_uses(uses, names, at->graphs[j], depth + 1))
                    return -1;
        }
    }
    return 0;
}

static int build_tables(td_graph *g)
{
    if (!g->dirty)
        return 0;
    drop_maps(g);
    size_t guess = g->nodes.n * 2 + g->inits.n + 16;
    g->producer = td_strmap_new(guess);
    g->init_at = td_strmap_new(g->inits.n + 16);
    g->uses = td_strmap_new(guess);
    g->names = td_strmap_new(guess * 2);
    if (!g->producer || !g->init_at || !g->uses || !g->names)
        return -1;
    for (size_t i = 0; i < g->inits.n; i++) {
        const Onnx__TensorProto *t = g->inits.p[i];
        if (t->name && (td_strmap_put(g->init_at, t->name, (int64_t)i) ||
                        td_strmap_put(g->names, t->name, 0)))
            return -1;
    }
    for (size_t i = 0; i < g->inputs.n; i++) {
        const Onnx__ValueInfoProto *v = g->inputs.p[i];
        if (v->name && td_strmap_put(g->names, v->name, 0))
            return -1;
    }
    /* sparse initializers are values too: no generated name may take one */
    for (size_t i = 0; i < g->orig->n_sparse_initializer; i++) {
        const char *nm = td_graph_sparse_name(g->orig->sparse_initializer[i]);
        if (nm && td_strmap_put(g->names, nm, 0))
            return -1;
    }
    for (size_t i = 0; i < g->outputs.n; i++) {
        const char *nm = ((const Onnx__ValueInfoProto *)g->outputs.p[i])->name;
        if (nm && (bump(g->uses, nm) || td_strmap_put(g->names, nm, 0)))
            return -1;
    }
    for (size_t i = 0; i < g->nodes.n; i++) {
        const Onnx__NodeProto *n = g->nodes.p[i];
        if (n->name && td_strmap_put(g->names, n->name, 0))
            return -1;
        for (size_t k = 0; k < n->n_output; k++)
            if (n->output[k][0] &&
                (td_strmap_put(g->producer, n->output[k], (int64_t)i) ||
                 td_strmap_put(g->names, n->output[k], 0)))
                return -1;
        for (size_t k = 0; k < n->n_input; k++)
            if (n->input[k][0] && bump(g->uses, n->input[k]))
                return -1;
        for (size_t k = 0; k < n->n_attribute; k++) {
            const Onnx__AttributeProto *at = n->attribute[k];
            if (at->g && count_subgraph_uses(g->uses, g->names, at->g, 1))
                return -1;
            for (size_t j = 0; j < at->n_graphs; j++)
                if (count_subgraph_uses(g->uses, g->names, at->graphs[j], 1))
                    return -1;
        }
    }
    g->dirty = 0;
    return 0;
}

static int rebuild(td_graph *g)
{
    if (build_tables(g)) {
        g->lost = 1;
        return -1;
    }
    return 0;
}

int64_t td_graph_producer(td_graph *g, const char *name)
{
    return rebuild(g) ? -1 : td_strmap_get(g->producer, name);
}

size_t td_graph_use_count(td_graph *g, const char *name)
{
    if (rebuild(g))
        return SIZE_MAX;  /* unknown: callers must treat it as "in use" */
    int64_t c = td_strmap_get(g->uses, name);
    return c < 0 ? 0 : (size_t)c;
}

int td_graph_is_output(const td_graph *g, const char *name)
{
    for (size_t i = 0; i < g->outputs.n; i++) {
        const Onnx__ValueInfoProto *v = g->outputs.p[i];
        if (v->name && !strcmp(v->name, name))
            return 1;
    }
    return 0;
}

size_t td_graph_consumers(td_graph *g, const char *name, size_t *idx,
                          size_t max)
{
    size_t c = 0;
    for (size_t i = 0; i < g->nodes.n; i++) {
        const Onnx__NodeProto *n = g->nodes.p[i];
        for (size_t k = 0; k < n->n_input; k++)
            if (!strcmp(n->input[k], name)) {
                if (c < max)
                    idx[c] = i;
                c++;
                break;
            }
    }
    return c;
}

const char *td_graph_sparse_name(const Onnx__SparseTensorProto *t)
{
    return t && t->values && t->values->name && t->values->name[0]
               ? t->values->name : NULL;
}

const Onnx__SparseTensorProto *td_graph_sparse_init(const td_graph *g,
                                                    const char *name)
{
    for (size_t i = 0; name && i < g->orig->n_sparse_initializer; i++) {
        const char *nm = td_graph_sparse_name(g->orig->sparse_initializer[i]);
        if (nm && !strcmp(nm, name))
            return g->orig->sparse_initializer[i];
    }
    return NULL;
}

void td_graph_set_model_ir(td_graph *g, int64_t ir) { g->model_ir = ir; }

int td_graph_is_overridable(const td_graph *g, const char *name)
{
    return g->model_ir >= 4 && td_graph_is_input(g, name);
}

int td_graph_is_input(const td_graph *g, const char *name)
{
    for (size_t i = 0; name && i < g->inputs.n; i++) {
        const Onnx__ValueInfoProto *v = g->inputs.p[i];
        if (v->name && !strcmp(v->name, name))
            return 1;
    }
    return 0;
}

void td_graph_set_parent(td_graph *g, td_graph *parent) { g->parent = parent; }

const Onnx__TensorProto *td_graph_constant(td_graph *g, const char *name)
{
    td_graph *owner;
    return td_graph_constant_owner(g, name, &owner);
}

const Onnx__TensorProto *td_graph_constant_owner(td_graph *g, const char *name,
                                                 td_graph **owner)
{
    *owner = NULL;
    if (rebuild(g))
        return NULL;
    int64_t i = td_strmap_get(g->init_at, name);
    if (i >= 0) {
        *owner = g;
        return g->inits.p[i];
    }
    int64_t p = td_strmap_get(g->producer, name);
    /* A name the graph neither produces nor takes as an input is read from
     * the enclosing graph (ONNX's outer-scope rule for sub-graphs). */
    if (p < 0)
        return g->parent && !td_graph_is_input(g, name)
                   ? td_graph_constant_owner(g->parent, name, owner) : NULL;
    const Onnx__NodeProto *n = g->nodes.p[p];
    if (strcmp(n->op_type ? n->op_type : "", "Constant") != 0 ||
        (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0))
        return NULL;
    const Onnx__AttributeProto *v = td_attr_find(n, "value");
    *owner = v && v->t ? g : NULL;
    return v ? v->t : NULL;
}

void td_graph_share_names(td_graph *g, td_strmap *names,
                          unsigned long *counter)
{
    g->shared_names = names;
    g->shared_counter = counter;
}

const char *td_graph_unique_name(td_graph *g, const char *base)
{
    if (g->shared_names) {
        const char *name = td_arena_strdup(g->a, base);
        while (name && td_strmap_get(g->shared_names, name) >= 0)
            name = td_arena_printf(g->a, "%s_%lu", base,
                                   ++*g->shared_counter);
        return name && !td_strmap_put(g->shared_names, name, 0) ? name : NULL;
    }
    if (rebuild(g))
        return NULL;
    const char *name = td_arena_strdup(g->a, base);
    while (name && td_strmap_get(g->names, name) >= 0)
        name = td_arena_printf(g->a, "%s_%lu", base, ++g->name_counter);
    if (name && td_strmap_put(g->names, name, 0))
        return NULL;
    return name;
}

td_status td_graph_replace_node(td_graph *g, size_t i,
                                Onnx__NodeProto *const *nodes, size_t n,
                                td_err_t *err)
{
    if (i >= g->nodes.n)
        return td_err_set(err, TD_EUSAGE, "node index %zu out of range", i);
    if (g->lost || vec_splice(g->a, &g->nodes, i, 1, (void *const *)nodes, n))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    g->dirty = 1;
    return TD_OK;
}

static Onnx__ValueInfoProto *value_info_new(td_graph *g, const char *name,
                                            int32_t elem_type,
                                            const int64_t *dims, size_t ndims)
{
    td_arena *a = g->a;
    Onnx__ValueInfoProto *v = td_arena_alloc(a, sizeof *v);
    Onnx__TypeProto *tp = td_arena_alloc(a, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = td_arena_alloc(a, sizeof *tt);
    Onnx__TensorShapeProto *sh = td_arena_alloc(a, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dv =
        td_arena_calloc(a, ndims + 1, sizeof *dv);
    if (!v || !tp || !tt || !sh || !dv)
        return NULL;
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (size_t k = 0; k < ndims; k++) {
        Onnx__TensorShapeProto__Dimension *d = td_arena_alloc(a, sizeof *d);
        if (!d)
            return NULL;
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[k] >= 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[k];
        }
        dv[k] = d;
    }
    sh->n_dim = ndims;
    sh->dim = dv;
    tt->has_elem_type = 1;
    tt->elem_type = elem_type;
    /* no dims at all: the rank is unknown, which is no shape (an empty
     * shape would say rank 0, a scalar) */
    tt->shape = dims || ndims ? sh : NULL;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->name = td_arena_strdup(a, name);
    v->type = tp;
    return v->name ? v : NULL;
}

td_status td_graph_add_init(td_graph *g, Onnx__TensorProto *t, td_err_t *err)
{
    void *p = t;
    if (g->lost || vec_splice(g->a, &g->inits, g->inits.n, 0, &p, 1))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    if (g->ir_version < 4) {
        /* Before IR 4 every initializer must also be a graph input. */
        Onnx__ValueInfoProto *v =
            value_info_new(g, t->name, t->data_type, t->dims, t->n_dims);
        void *q = v;
        if (!v || vec_splice(g->a, &g->inputs, g->inputs.n, 0, &q, 1))
            return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    g->dirty = 1;
    return TD_OK;
}

td_status td_graph_add_value_info(td_graph *g, const char *name,
                                  int32_t elem_type, const int64_t *dims,
                                  size_t ndims, td_err_t *err)
{
    Onnx__ValueInfoProto *v = value_info_new(g, name, elem_type, dims, ndims);
    void *q = v;
    if (!v || vec_splice(g->a, &g->vinfo, g->vinfo.n, 0, &q, 1))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    return TD_OK;
}

td_status td_graph_add_output(td_graph *g, const char *name,
                             int32_t elem_type, const int64_t *dims,
                             size_t ndims, td_err_t *err)
{
    Onnx__ValueInfoProto *v = value_info_new(g, name, elem_type, dims, ndims);
    void *q = v;
    if (!v || vec_splice(g->a, &g->outputs, g->outputs.n, 0, &q, 1))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    g->dirty = 1;
    return TD_OK;
}

static void drop_named(struct vec *v, const char *name)
{
    size_t w = 0;
    for (size_t i = 0; i < v->n; i++) {
        const Onnx__ValueInfoProto *x = v->p[i];
        if (!x->name || strcmp(x->name, name) != 0)
            v->p[w++] = v->p[i];
    }
    v->n = w;
}

void td_graph_drop_value_info(td_graph *g, const char *name)
{
    drop_named(&g->vinfo, name);
}

int td_graph_remove_if_unused(td_graph *g, const char *name)
{
    if (rebuild(g) || td_graph_use_count(g, name) != 0)
        return 0;
    int64_t i = td_strmap_get(g->init_at, name);
    if (i >= 0) {
        vec_splice(g->a, &g->inits, (size_t)i, 1, NULL, 0);
        drop_named(&g->inputs, name);
        drop_named(&g->vinfo, name);
        g->dirty = 1;
        return 1;
    }
    int64_t p = td_strmap_get(g->producer, name);
    if (p < 0)
        return 0;
    const Onnx__NodeProto *n = g->nodes.p[p];
    if (strcmp(n->op_type ? n->op_type : "", "Constant") != 0 ||
        n->n_output != 1)
        return 0;
    vec_splice(g->a, &g->nodes, (size_t)p, 1, NULL, 0);
    drop_named(&g->vinfo, name);
    g->dirty = 1;
    return 1;
}

/* A sub-graph may read any value of an enclosing graph (ONNX IR, "Names
 * Within a Graph": outer-scope names). */
static int outer_defined(td_graph *g, const char *name)
{
    for (; g; g = g->parent) {
        if (rebuild(g))
            return 1;  /* cannot tell: the check is not the place to fail */
        if (td_strmap_get(g->init_at, name) >= 0 ||
            td_strmap_get(g->producer, name) >= 0 || td_graph_is_input(g, name))
            return 1;
    }
    return 0;
}

td_status td_graph_check(td_graph *g, td_err_t *err)
{
    if (g->lost)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    td_strmap *defined = td_strmap_new(g->nodes.n * 2 + g->inits.n + 16);
    td_status s = TD_OK;
    if (!defined)
        return td_err_set(err, TD_ENOMEM, "out of memory");
#define DEFINE(nm, what)                                                       \
    do {                                                                       \
        if (td_strmap_get(defined, (nm)) >= 0 && !(what)) {                    \
            s = td_err_set(err, TD_EINPUT, "value '%s' has more than one "     \
                           "producer", (nm));                                  \
            goto done;                                                         \
        }                                                                      \
        if (td_strmap_put(defined, (nm), 1)) {                                 \
            s = td_err_set(err, TD_ENOMEM, "out of memory");                   \
            goto done;                                                         \
        }                                                                      \
    } while (0)
    for (size_t i = 0; i < g->inputs.n; i++) {
        const Onnx__ValueInfoProto *v = g->inputs.p[i];
        if (v->name)
            DEFINE(v->name, 0);
    }
    /* An initializer may also be listed as a graph input (its default). */
    for (size_t i = 0; i < g->inits.n; i++) {
        const Onnx__TensorProto *t = g->inits.p[i];
        if (t->name)
            DEFINE(t->name, 1);
    }
    for (size_t i = 0; i < g->orig->n_sparse_initializer; i++) {
        const char *nm = td_graph_sparse_name(g->orig->sparse_initializer[i]);
        if (nm)
            DEFINE(nm, 1);
    }
    for (size_t i = 0; i < g->nodes.n; i++) {
        const Onnx__NodeProto *n = g->nodes.p[i];
        for (size_t k = 0; k < n->n_input; k++)
            if (n->input[k][0] && td_strmap_get(defined, n->input[k]) < 0 &&
                !outer_defined(g->parent, n->input[k])) {
                s = td_err_set(err, TD_EINPUT,
                               "node '%s' (%s): input '%s' is not produced "
                               "before it (dangling input or cycle)",
                               n->name ? n->name : "", n->op_type, n->input[k]);
                goto done;
            }
        for (size_t k = 0; k < n->n_output; k++)
            if (n->output[k][0])
                DEFINE(n->output[k], 0);
    }
    for (size_t i = 0; i < g->outputs.n; i++) {
        const char *nm = ((const Onnx__ValueInfoProto *)g->outputs.p[i])->name;
        if (nm && td_strmap_get(defined, nm) < 0 &&
            !outer_defined(g->parent, nm)) {
            s = td_err_set(err, TD_EINPUT, "graph output '%s' is not produced",
                           nm);
            goto done;
        }
    }
#undef DEFINE
done:
    td_strmap_free(defined);
    return s;
}

/* ---- topological order ------------------------------------------------ */

struct edges {
    size_t *from, *to;
    size_t n, cap;
};

static int edge_add(struct edges *e, size_t from, size_t to)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        size_t *f = realloc(e->from, cap * sizeof *f);
        if (!f)
            return -1;
        e->from = f;
        size_t *t = realloc(e->to, cap * sizeof *t);
        if (!t)
            return -1;
        e->to = t;
        e->cap = cap;
    }
    e->from[e->n] = from;
    e->to[e->n] = to;
    e->n++;
    return 0;
}

/* Edges into node i from the producers of the names it (or a sub-graph of
 * it) reads. */
static int deps_of_graph(td_graph *g, const Onnx__GraphProto *sg, size_t i,
                         struct edges *e, int depth);

static int deps_of_node(td_graph *g, const Onnx__NodeProto *n, size_t i,
                        struct edges *e, int depth)
{
    for (size_t k = 0; k < n->n_input; k++) {
        int64_t p = n->input[k][0] ? td_strmap_get(g->producer, n->input[k]) : -1;
        if (p >= 0 && (size_t)p != i && edge_add(e, (size_t)p, i))
            return -1;
    }
    for (size_t k = 0; k < n->n_attribute; k++) {
        const Onnx__AttributeProto *a = n->attribute[k];
        if (a->g && deps_of_graph(g, a->g, i, e, depth + 1))
            return -1;
        for (size_t q = 0; q < a->n_graphs; q++)
            if (deps_of_graph(g, a->graphs[q], i, e, depth + 1))
                return -1;
    }
    return 0;
}

static int deps_of_graph(td_graph *g, const Onnx__GraphProto *sg, size_t i,
                         struct edges *e, int depth)
{
    if (depth > TD_MAX_NESTING)
        return 0;
    for (size_t q = 0; q < sg->n_node; q++)
        if (deps_of_node(g, sg->node[q], i, e, depth))
            return -1;
    return 0;
}

/* A binary min-heap of node indices: the ready node that came first in the
 * original order goes first, so a sorted graph keeps its order. */
static void heap_push(size_t *h, size_t *n, size_t v)
{
    size_t i = (*n)++;
    h[i] = v;
    while (i && h[(i - 1) / 2] > h[i]) {
        size_t p = (i - 1) / 2, t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static size_t heap_pop(size_t *h, size_t *n)
{
    size_t top = h[0], i = 0;
    h[0] = h[--*n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && h[l] < h[m])
            m = l;
        if (r < *n && h[r] < h[m])
            m = r;
        if (m == i)
            break;
        size_t t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
    return top;
}

td_status td_graph_toposort(td_graph *g, td_err_t *err)
{
    size_t n = g->nodes.n;
    struct edges e = {0};
    size_t *indeg = calloc(n + 1, sizeof *indeg);
    size_t *start = calloc(n + 2, sizeof *start);
    size_t *succ = NULL, *heap = calloc(n + 1, sizeof *heap);
    void **order = calloc(n + 1, sizeof *order);
    td_status s = TD_OK;
    if (!indeg || !start || !heap || !order || rebuild(g))
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (deps_of_node(g, g->nodes.p[i], i, &e, 0))
            goto oom;
    /* Successor lists in compressed form: start[p]..start[p+1]. */
    if (!(succ = calloc(e.n + 1, sizeof *succ)))
        goto oom;
    for (size_t k = 0; k < e.n; k++) {
        start[e.from[k] + 1]++;
        indeg[e.to[k]]++;
    }
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    {
        size_t *cur = calloc(n + 1, sizeof *cur);
        if (!cur)
            goto oom;
        memcpy(cur, start, n * sizeof *cur);
        for (size_t i = 0; i < n; i++)
            indeg[i] = 0;
        for (size_t k = 0; k < e.n; k++) {
            succ[cur[e.from[k]]++] = e.to[k];
            indeg[e.to[k]]++;
        }
        free(cur);
    }
    size_t hn = 0, done = 0;
    for (size_t i = 0; i < n; i++)
        if (!indeg[i])
            heap_push(heap, &hn, i);
    while (hn) {
        size_t i = heap_pop(heap, &hn);
        order[done++] = g->nodes.p[i];
        for (size_t k = start[i]; k < start[i + 1]; k++)
            if (--indeg[succ[k]] == 0)
                heap_push(heap, &hn, succ[k]);
    }
    if (done < n) {
        const Onnx__NodeProto *bad = NULL;
        for (size_t i = 0; i < n && !bad; i++)
            if (indeg[i])
                bad = g->nodes.p[i];
        s = td_err_set(err, TD_EINPUT, "the graph has a cycle through node "
                       "'%s' (%s)", bad && bad->name ? bad->name : "",
                       bad && bad->op_type ? bad->op_type : "");
        goto out;
    }
    memcpy(g->nodes.p, order, n * sizeof *order);
    g->dirty = 1;
    goto out;
oom:
    s = td_err_set(err, TD_ENOMEM, "out of memory");
out:
    free(e.from);
    free(e.to);
    free(indeg);
    free(start);
    free(succ);
    free(heap);
    free(order);
    return s;
}
