/* The main graph's initializers (matched by name) and nodes (paired by
 * structure, then by name; unnamed nodes by position among the unnamed
 * nodes of their op_type), and the model's functions. */
#include <stdlib.h>
#include <string.h>

#include "td_diff_internal.h"
#include "td_tensor.h"
#include "util/td_strmap.h"

static const char *s0(const char *s) { return s ? s : ""; }

static void json_dims(td_buf *b, const char *key, const int64_t *d, size_t n)
{
    td_json_key(b, key);
    td_json_open(b, '[');
    for (size_t k = 0; k < n; k++)
        td_json_int(b, d[k]);
    td_json_close(b, ']');
}

/* name -> position of its first occurrence */
static td_strmap *index_tensors(Onnx__TensorProto *const *t, size_t n)
{
    td_strmap *m = td_strmap_new(n + 16);
    for (size_t i = n; m && i-- > 0;)
        if (td_strmap_put(m, s0(t[i]->name), (int64_t)i)) {
            td_strmap_free(m);
            return NULL;
        }
    return m;
}

static void init_side(dctx *c, const char *what, const char *label,
                      Onnx__TensorProto *const *x, size_t nx,
                      const td_strmap *other)
{
    diff_jopen_list(c, what);
    for (size_t i = 0; i < nx; i++) {
        if (td_strmap_get(other, s0(x[i]->name)) >= 0)
            continue;
        c->count++;
        c->sum.counted++;
        if (what[0] == 'a')
            c->sum.tensors_added++;
        else
            c->sum.tensors_removed++;
        if (c->json) {
            td_json_open(c->b, '{');
            td_json_key(c->b, "name");
            td_json_str(c->b, s0(x[i]->name));
            td_json_key(c->b, "dtype");
            td_json_str(c->b, td_dtype_name(x[i]->data_type));
            json_dims(c->b, "shape", x[i]->dims, x[i]->n_dims);
            td_json_close(c->b, '}');
        } else {
            td_buf_printf(c->b, "%s %s '%s' %s: %s\n",
                          what[0] == 'a' ? "+" : "-", label,
                          diff_tx(c, x[i]->name), what,
                          diff_tensor_desc(c->ar, x[i]));
        }
    }
    diff_jclose(c, ']');
}

static void tensor_change_text(dctx *c, const Onnx__TensorProto *a,
                               const Onnx__TensorProto *b, const tensor_cmp *r)
{
    if (!r->dtype_same || !r->shape_same)
        td_buf_printf(c->b, "%s -> %s", diff_tensor_desc(c->ar, a),
                      diff_tensor_desc(c->ar, b));
    if (r->numeric)
        td_buf_printf(c->b, "%smax_abs_diff %.9g, max_rel_diff %.3g (%lld of "
                      "%lld values differ)",
                      r->dtype_same ? "" : ", ", r->max_abs_diff,
                      r->max_rel_diff, (long long)r->n_diff,
                      (long long)td_tensor_numel(a));
    else if (r->shape_same && r->dtype_same)
        td_buf_printf(c->b, "values differ");
}

static void json_tensor_cmp(td_buf *b, const tensor_cmp *r)
{
    td_json_key(b, "max_abs_diff");
    if (r->numeric)
        td_json_num(b, r->max_abs_diff);
    else
        td_json_null(b);
    td_json_key(b, "max_rel_diff");  /* null also when infinite */
    if (r->numeric)
        td_json_num(b, r->max_rel_diff);
    else
        td_json_null(b);
    td_json_key(b, "n_diff");
    if (r->numeric)
        td_json_int(b, r->n_diff);
    else
        td_json_null(b);
}

/* One set of named tensors: the dense initializers, or the sparse ones
 * (by their values tensors; sa/sb then hold the sparse tensors, whose
 * dense shape and indices count as well). */
typedef struct tensor_set {
    const char *group, *label;
    Onnx__TensorProto *const *xa, *const *xb;
    size_t na, nb;
    Onnx__SparseTensorProto *const *sa, *const *sb;
} tensor_set;

/* A sparse tensor's dense shape and indices, compared as its values are. */
static td_status diff_sparse_rest(dctx *c, const Onnx__SparseTensorProto *x,
                                  const Onnx__SparseTensorProto *y,
                                  tensor_cmp *r)
{
    int dims_same = x->n_dims == y->n_dims;
    for (size_t k = 0; dims_same && k < x->n_dims; k++)
        dims_same = x->dims[k] == y->dims[k];
    if (!dims_same) {
        r->same = r->shape_same = 0;
        return TD_OK;
    }
    if (!x->indices || !y->indices) {
        if (!x->indices != !y->indices)
            r->same = 0;
        return TD_OK;
    }
    tensor_cmp ri;
    td_status s = diff_tensor(x->indices, y->indices, NULL, &ri, c->err);
    if (!s && !ri.same)
        r->same = r->shape_same = 0;  /* other positions: another tensor */
    return s;
}

static td_status diff_tensor_set(dctx *c, const tensor_set *t)
{
    td_strmap *ia = index_tensors(t->xa, t->na);
    td_strmap *ib = index_tensors(t->xb, t->nb);
    td_status s = TD_OK;
    if (!ia || !ib) {
        s = td_err_set(c->err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    diff_jopen_group(c, t->group);
    init_side(c, "added", t->label, t->xb, t->nb, ia);
    init_side(c, "removed", t->label, t->xa, t->na, ib);
    diff_jopen_list(c, "changed");
    for (size_t i = 0; i < t->na; i++) {
        const Onnx__TensorProto *x = t->xa[i];
        int64_t j = td_strmap_get(ib, s0(x->name));
        if (j < 0 || td_strmap_get(ia, s0(x->name)) != (int64_t)i)
            continue;  /* not in b, or a repeated name already compared */
        const Onnx__TensorProto *y = t->xb[j];
        tensor_cmp r;
        if ((s = diff_tensor(x, y, c->o, &r, c->err)) ||
            (t->sa && (s = diff_sparse_rest(c, t->sa[i], t->sb[j], &r)))) {
            td_err_prefix(c->err, "%s '%s': ", t->label, s0(x->name));
            goto cleanup;
        }
        if (r.same)
            continue;
        c->count++;
        c->sum.counted++;
        diff_note_tensor(c, &r);
        if (!c->json) {
            td_buf_printf(c->b, "~ %s '%s': ", t->label,
                          diff_tx(c, x->name));
            tensor_change_text(c, x, y, &r);
            td_buf_put(c->b, "\n", 1);
            continue;
        }
        td_json_open(c->b, '{');
        td_json_key(c->b, "name");
        td_json_str(c->b, s0(x->name));
        td_json_key(c->b, "dtype_a");
        td_json_str(c->b, td_dtype_name(x->data_type));
        td_json_key(c->b, "dtype_b");
        td_json_str(c->b, td_dtype_name(y->data_type));
        json_dims(c->b, "shape_a", x->dims, x->n_dims);
        json_dims(c->b, "shape_b", y->dims, y->n_dims);
        json_tensor_cmp(c->b, &r);
        td_json_close(c->b, '}');
    }
    diff_jclose(c, ']');
    diff_jclose(c, '}');
cleanup:
    td_strmap_free(ia);
    td_strmap_free(ib);
    return s;
}

/* ---- nodes ---- */

static void node_side(dctx *c, const char *what, const Onnx__GraphProto *g,
                      const int64_t *map)
{
    diff_jopen_list(c, what);
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        if (map[i] >= 0)
            continue;
        c->count++;
        c->sum.counted++;
        if (what[0] == 'a')
            c->sum.nodes_added++;
        else
            c->sum.nodes_removed++;
        const char *mark = what[0] == 'a' ? "+" : "-";
        if (c->json) {
            td_json_open(c->b, '{');
            td_json_key(c->b, "name");
            td_json_str(c->b, s0(n->name));
            td_json_key(c->b, "op_type");
            td_json_str(c->b, s0(n->op_type));
            td_json_key(c->b, "index");
            td_json_int(c->b, (int64_t)i);
            td_json_close(c->b, '}');
        } else if (n->name && n->name[0]) {
            td_buf_printf(c->b, "%s node '%s' (%s) %s\n", mark,
                          diff_tx(c, n->name), diff_tx(c, n->op_type), what);
        } else {
            td_buf_printf(c->b, "%s node #%zu (%s) %s\n", mark, i,
                          diff_tx(c, n->op_type), what);
        }
    }
    diff_jclose(c, ']');
}

static void change_json(td_buf *b, const node_change *ch)
{
    td_json_open(b, '{');
    td_json_key(b, "field");
    td_json_str(b, ch->field);
    if (ch->attr) {
        td_json_key(b, "attr");
        td_json_str(b, ch->attr);
    }
    if (ch->index >= 0) {
        td_json_key(b, "index");
        td_json_int(b, ch->index);
    }
    diff_jstr_or_null(b, "a", ch->a);
    diff_jstr_or_null(b, "b", ch->b);
    if (ch->detail)
        diff_jstr_or_null(b, "detail", ch->detail);
    if (ch->has_tensor)
        json_tensor_cmp(b, &ch->tc);
    td_json_close(b, '}');
}

static void change_text(dctx *c, const Onnx__NodeProto *n, size_t ia,
                        const node_change *ch)
{
    if (n->name && n->name[0])
        td_buf_printf(c->b, "~ node '%s' (%s): ", diff_tx(c, n->name),
                      diff_tx(c, n->op_type));
    else
        td_buf_printf(c->b, "~ node #%zu (%s): ", ia, diff_tx(c, n->op_type));
    if (ch->attr)
        td_buf_printf(c->b, "attribute %s: ", diff_tx(c, ch->attr));
    else if (ch->index >= 0)
        td_buf_printf(c->b, "%s[%lld]: ", ch->field, (long long)ch->index);
    else
        td_buf_printf(c->b, "%s: ", ch->field);
    td_buf_printf(c->b, "%s -> %s", ch->a ? diff_tx(c, ch->a) : "(none)",
                  ch->b ? diff_tx(c, ch->b) : "(none)");
    if (ch->has_tensor && ch->tc.numeric)
        td_buf_printf(c->b, ", max_abs_diff %.9g, max_rel_diff %.3g (%lld "
                      "values differ)",
                      ch->tc.max_abs_diff, ch->tc.max_rel_diff,
                      (long long)ch->tc.n_diff);
    if (ch->detail)
        td_buf_printf(c->b, " (%s)", diff_tx(c, ch->detail));
    td_buf_put(c->b, "\n", 1);
}

/* A node's name for the report: 'name', or #index when it has none. */
static const char *node_label(dctx *c, const Onnx__NodeProto *n,
                              size_t index)
{
    const char *r = n->name && n->name[0]
                        ? td_arena_printf(c->ar, "'%s'", diff_tx(c, n->name))
                        : td_arena_printf(c->ar, "#%zu", index);
    return r ? r : "?";
}

/* Paired nodes whose names differ; nothing under TD_DIFF_IGNORE_NAMES. */
static void node_renamed(dctx *c, const Onnx__GraphProto *a,
                         const Onnx__GraphProto *b, const int64_t *a_to_b)
{
    int ignore = c->o && c->o->ignore & TD_DIFF_IGNORE_NAMES;
    diff_jopen_list(c, "renamed");
    for (size_t i = 0; i < a->n_node && !ignore; i++) {
        if (a_to_b[i] < 0)
            continue;
        const Onnx__NodeProto *x = a->node[i], *y = b->node[a_to_b[i]];
        if (!strcmp(s0(x->name), s0(y->name)))
            continue;
        c->count++;
        c->sum.counted++;
        c->sum.nodes_renamed++;
        if (!c->json) {
            td_buf_printf(c->b, "~ node %s (%s) renamed -> %s\n",
                          node_label(c, x, i), diff_tx(c, x->op_type),
                          node_label(c, y, (size_t)a_to_b[i]));
            continue;
        }
        td_json_open(c->b, '{');
        td_json_key(c->b, "a");
        td_json_str(c->b, s0(x->name));
        td_json_key(c->b, "b");
        td_json_str(c->b, s0(y->name));
        td_json_key(c->b, "op_type");
        td_json_str(c->b, s0(x->op_type));
        td_json_key(c->b, "index_a");
        td_json_int(c->b, (int64_t)i);
        td_json_key(c->b, "index_b");
        td_json_int(c->b, a_to_b[i]);
        td_json_close(c->b, '}');
    }
    diff_jclose(c, ']');
}

static td_status diff_node_list(dctx *c, const Onnx__GraphProto *a,
                                const Onnx__GraphProto *b)
{
    int64_t *a_to_b = malloc((a->n_node + 1) * sizeof *a_to_b);
    int64_t *b_to_a = malloc((b->n_node + 1) * sizeof *b_to_a);
    td_status s = TD_OK;
    if (!a_to_b || !b_to_a) {
        s = td_err_set(c->err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((s = diff_match_nodes(c, a, b, a_to_b, b_to_a)))
        goto cleanup;
    diff_jopen_group(c, "nodes");
    node_side(c, "added", b, b_to_a);
    node_side(c, "removed", a, a_to_b);
    node_renamed(c, a, b, a_to_b);
    diff_jopen_list(c, "changed");
    for (size_t i = 0; i < a->n_node; i++) {
        if (a_to_b[i] < 0)
            continue;
        const Onnx__NodeProto *x = a->node[i], *y = b->node[a_to_b[i]];
        node_changes ch = {0};
        if ((s = diff_nodes(c->ar, x, y, c->o, &ch, c->err)))
            goto cleanup;
        if (!ch.n)
            continue;
        c->count += ch.n;
        c->sum.counted += ch.n;
        c->sum.nodes_changed++;
        for (size_t k = 0; k < ch.n; k++)
            if (ch.v[k].has_tensor)
                diff_note_tensor(c, &ch.v[k].tc);
        if (!c->json) {
            for (size_t k = 0; k < ch.n; k++)
                change_text(c, x, i, &ch.v[k]);
            continue;
        }
        td_json_open(c->b, '{');
        td_json_key(c->b, "name");
        td_json_str(c->b, s0(x->name));
        td_json_key(c->b, "op_type");
        td_json_str(c->b, s0(x->op_type));
        td_json_key(c->b, "index_a");
        td_json_int(c->b, (int64_t)i);
        td_json_key(c->b, "index_b");
        td_json_int(c->b, a_to_b[i]);
        td_json_key(c->b, "changes");
        td_json_open(c->b, '[');
        for (size_t k = 0; k < ch.n; k++)
            change_json(c->b, &ch.v[k]);
        td_json_close(c->b, ']');
        td_json_close(c->b, '}');
    }
    diff_jclose(c, ']');
    diff_jclose(c, '}');
cleanup:
    free(a_to_b);
    free(b_to_a);
    return s;
}

static td_status diff_inits(dctx *c, const Onnx__GraphProto *a,
                            const Onnx__GraphProto *b)
{
    tensor_set dense = {"initializers", "initializer", a->initializer,
                        b->initializer, a->n_initializer, b->n_initializer,
                        NULL, NULL};
    return diff_tensor_set(c, &dense);
}

/* Sparse initializers, by their values tensors (which carry the name);
 * the section appears only when one of the models has any. */
static td_status diff_sparse_inits(dctx *c, const Onnx__GraphProto *a,
                                   const Onnx__GraphProto *b)
{
    size_t na = a->n_sparse_initializer, nb = b->n_sparse_initializer;
    if (!na && !nb)
        return TD_OK;
    Onnx__TensorProto **va = calloc(na + 1, sizeof *va);
    Onnx__TensorProto **vb = calloc(nb + 1, sizeof *vb);
    static Onnx__TensorProto unnamed = ONNX__TENSOR_PROTO__INIT;
    td_status s;
    if (!va || !vb) {
        s = td_err_set(c->err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < na; i++)
        va[i] = a->sparse_initializer[i]->values
                    ? a->sparse_initializer[i]->values : &unnamed;
    for (size_t i = 0; i < nb; i++)
        vb[i] = b->sparse_initializer[i]->values
                    ? b->sparse_initializer[i]->values : &unnamed;
    tensor_set sparse = {"sparse_initializers", "sparse initializer", va, vb,
                         na, nb, a->sparse_initializer, b->sparse_initializer};
    s = diff_tensor_set(c, &sparse);
cleanup:
    free(va);
    free(vb);
    return s;
}

td_status diff_graph_sections(dctx *c, const Onnx__GraphProto *a,
                              const Onnx__GraphProto *b)
{
    td_status s = diff_inits(c, a, b);
    if (!s)
        s = diff_sparse_inits(c, a, b);
    return s ? s : diff_node_list(c, a, b);
}

/* ---- functions: matched by (domain, name), compared by bytes ---- */

static const Onnx__FunctionProto *find_function(const Onnx__ModelProto *m,
                                                const Onnx__FunctionProto *f)
{
    for (size_t i = 0; i < m->n_functions; i++)
        if (!strcmp(s0(m->functions[i]->name), s0(f->name)) &&
            !strcmp(s0(m->functions[i]->domain), s0(f->domain)) &&
            !strcmp(s0(m->functions[i]->overload), s0(f->overload)))
            return m->functions[i];
    return NULL;
}

static td_status function_side(dctx *c, const char *what,
                               const Onnx__ModelProto *x,
                               const Onnx__ModelProto *y, int changed)
{
    diff_jopen_list(c, what);
    for (size_t i = 0; i < x->n_functions; i++) {
        const Onnx__FunctionProto *f = x->functions[i];
        const Onnx__FunctionProto *g = find_function(y, f);
        if (changed) {
            int eq = g ? diff_msg_equal(&f->base, &g->base) : 1;
            if (eq < 0)
                return td_err_set(c->err, TD_ENOMEM, "out of memory");
            if (eq)
                continue;
        } else if (g) {
            continue;
        }
        c->count++;
        if (c->json) {
            td_json_open(c->b, '{');
            td_json_key(c->b, "domain");
            td_json_str(c->b, s0(f->domain));
            td_json_key(c->b, "name");
            td_json_str(c->b, s0(f->name));
            td_json_close(c->b, '}');
        } else {
            td_buf_printf(c->b, "%s function '%s%s%s' %s\n",
                          what[0] == 'a' ? "+" : what[0] == 'r' ? "-" : "~",
                          diff_tx(c, f->domain), f->domain && f->domain[0] ? ":" : "",
                          diff_tx(c, f->name), what);
        }
    }
    diff_jclose(c, ']');
    return TD_OK;
}

td_status diff_functions(dctx *c, const Onnx__ModelProto *a,
                         const Onnx__ModelProto *b)
{
    td_status s;
    diff_jopen_group(c, "functions");
    if ((s = function_side(c, "added", b, a, 0)) ||
        (s = function_side(c, "removed", a, b, 0)) ||
        (s = function_side(c, "changed", a, b, 1)))
        return s;
    diff_jclose(c, '}');
    return TD_OK;
}
