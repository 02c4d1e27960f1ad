/* The graphs of a model as scopes (graph/td_scope.h): sub-graphs found in
 * pre-order with their paths, outer-scope constants, one name table for
 * all, the check accepting outer names only where they exist, and commit
 * putting a rewritten branch back and dropping a weight only when nothing
 * reads it any more. Messages are built by hand, no file involved. */
#include <string.h>

#include "graph/td_scope.h"
#include "tcheck.h"

static char *dup(td_arena *a, const char *s) { return td_arena_strdup(a, s); }

static Onnx__NodeProto *node(td_arena *a, const char *op, const char *name,
                             const char *in0, const char *in1,
                             const char *out)
{
    Onnx__NodeProto *n = td_arena_alloc(a, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = dup(a, op);
    n->name = dup(a, name);
    n->n_input = in1 ? 2 : 1;
    n->input = td_arena_calloc(a, 2, sizeof *n->input);
    n->input[0] = dup(a, in0);
    if (in1)
        n->input[1] = dup(a, in1);
    n->n_output = 1;
    n->output = td_arena_calloc(a, 1, sizeof *n->output);
    n->output[0] = dup(a, out);
    return n;
}

static Onnx__ValueInfoProto **vis(td_arena *a, const char *name)
{
    Onnx__ValueInfoProto **v = td_arena_calloc(a, 1, sizeof *v);
    v[0] = td_arena_alloc(a, sizeof *v[0]);
    onnx__value_info_proto__init(v[0]);
    v[0]->name = dup(a, name);
    return v;
}

static Onnx__TensorProto *tensor(td_arena *a, const char *name)
{
    static float one[4] = {1, 2, 3, 4};
    Onnx__TensorProto *t = td_arena_alloc(a, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = dup(a, name);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_dims = 2;
    t->dims = td_arena_calloc(a, 2, sizeof *t->dims);
    t->dims[0] = t->dims[1] = 2;
    t->has_raw_data = 1;
    t->raw_data.len = sizeof one;
    t->raw_data.data = (uint8_t *)one;
    return t;
}

/* A branch with one node (in0 x in1 -> out) and output out. */
static Onnx__GraphProto *branch(td_arena *a, const char *name,
                                const char *in1, const char *out)
{
    Onnx__GraphProto *g = td_arena_alloc(a, sizeof *g);
    onnx__graph_proto__init(g);
    g->name = dup(a, name);
    g->n_node = 1;
    g->node = td_arena_calloc(a, 1, sizeof *g->node);
    g->node[0] = node(a, "MatMul", name, "X", in1, out);
    g->n_output = 1;
    g->output = vis(a, out);
    return g;
}

static Onnx__AttributeProto *graph_attr(td_arena *a, const char *name,
                                        Onnx__GraphProto *g)
{
    Onnx__AttributeProto *at = td_arena_alloc(a, sizeof *at);
    onnx__attribute_proto__init(at);
    at->name = dup(a, name);
    at->has_type = 1;
    at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    at->g = g;
    return at;
}

/* main: X, C inputs; initializer w; If_0(C) -> Y with then reading w and
 * else reading w (else_w: its own initializer else). */
static Onnx__GraphProto *model(td_arena *a, int else_reads_w)
{
    Onnx__GraphProto *g = td_arena_alloc(a, sizeof *g);
    onnx__graph_proto__init(g);
    Onnx__NodeProto *n = node(a, "If", "If_0", "C", NULL, "Y");
    n->n_attribute = 2;
    n->attribute = td_arena_calloc(a, 2, sizeof *n->attribute);
    n->attribute[0] = graph_attr(a, "then_branch", branch(a, "t", "w", "t"));
    Onnx__GraphProto *e = branch(a, "e", else_reads_w ? "w" : "we", "e");
    if (!else_reads_w) {
        e->n_initializer = 1;
        e->initializer = td_arena_calloc(a, 1, sizeof *e->initializer);
        e->initializer[0] = tensor(a, "we");
    }
    n->attribute[1] = graph_attr(a, "else_branch", e);
    g->n_node = 1;
    g->node = td_arena_calloc(a, 1, sizeof *g->node);
    g->node[0] = n;
    g->n_input = 2;
    g->input = td_arena_calloc(a, 2, sizeof *g->input);
    g->input[0] = vis(a, "X")[0];
    g->input[1] = vis(a, "C")[0];
    g->n_output = 1;
    g->output = vis(a, "Y");
    g->n_initializer = 1;
    g->initializer = td_arena_calloc(a, 1, sizeof *g->initializer);
    g->initializer[0] = tensor(a, "w");
    return g;
}

/* Rewrites the then branch as the pass would: its node reads a new
 * initializer instead of w, which is to go when unused. */
static void rewrite_then(td_scopes *s, td_err_t *err)
{
    td_graph *b = td_scopes_graph(s, 1);
    const char *w2 = td_graph_unique_name(b, "t");  /* "t" is taken */
    CHECK(w2 && strcmp(w2, "t") != 0);
    Onnx__NodeProto *n = node(td_graph_arena(b), "MatMul", "t2", "X", w2, "t");
    CHECK(td_graph_add_init(b, tensor(td_graph_arena(b), w2), err) == TD_OK);
    CHECK(td_graph_replace_node(b, 0, &n, 1, err) == TD_OK);
    td_scopes_touch(s, 1);
    CHECK(td_scopes_drop_later(s, 1, "w", err) == TD_OK);
}

static void test_scopes(int else_reads_w)
{
    td_arena *a = td_arena_new();
    td_err_t err = {0};
    td_graph *g = td_graph_new(a, model(a, else_reads_w), 8);
    td_scopes *s = NULL;
    CHECK_MSG(td_scopes_new(NULL, g, &s, &err) == TD_OK, "%s", err.msg);
    CHECK(td_scopes_count(s) == 3);
    CHECK(!strcmp(td_scopes_prefix(s, 0), ""));
    CHECK(!strcmp(td_scopes_prefix(s, 1), "If_0/then_branch/"));
    CHECK(!strcmp(td_scopes_prefix(s, 2), "If_0/else_branch/"));
    CHECK(td_scopes_kind(s, 1) == TD_SCOPE_BODY);
    td_graph *then_g = td_scopes_graph(s, 1), *owner = NULL;
    /* w comes from the main graph; X is an outer input, not a constant */
    CHECK(td_graph_constant_owner(then_g, "w", &owner) && owner == g);
    CHECK(!td_graph_constant(then_g, "X"));
    /* names of the other branch are taken too */
    const char *e = td_graph_unique_name(then_g, "e");
    CHECK(e && strcmp(e, "e") != 0);
    CHECK_MSG(td_graph_check(then_g, &err) == TD_OK, "%s", err.msg);
    rewrite_then(s, &err);
    CHECK_MSG(td_scopes_commit(s, &err) == TD_OK, "%s", err.msg);
    /* w goes only when the else branch does not read it */
    CHECK((td_graph_constant(g, "w") != NULL) == else_reads_w);
    const Onnx__NodeProto *n = td_graph_node(g, 0);
    const Onnx__GraphProto *t = n->attribute[0]->g;
    CHECK(t->n_initializer == 1 && t->node[0]->input[1] &&
          !strcmp(t->node[0]->input[1], t->initializer[0]->name));
    CHECK_MSG(td_graph_check(g, &err) == TD_OK, "%s", err.msg);
    td_scopes_free(s);
    td_graph_free(g);
    td_arena_free(a);
}

/* A branch reading a name no graph defines fails the check. */
static void test_check_dangling(void)
{
    td_arena *a = td_arena_new();
    td_err_t err = {0};
    Onnx__GraphProto *m = model(a, 1);
    m->node[0]->attribute[0]->g->node[0]->input[1] = dup(a, "nowhere");
    td_graph *g = td_graph_new(a, m, 8);
    td_scopes *s = NULL;
    CHECK(td_scopes_new(NULL, g, &s, &err) == TD_OK);
    CHECK(td_graph_check(td_scopes_graph(s, 1), &err) == TD_EINPUT);
    CHECK(strstr(err.msg, "nowhere") != NULL);
    td_scopes_free(s);
    td_graph_free(g);
    td_arena_free(a);
}

int main(void)
{
    test_scopes(0);
    test_scopes(1);
    test_check_dangling();
    return TCHECK_DONE();
}
