/* Node-level comparison for td_diff: op type, domain, inputs, outputs and
 * attributes by value, sub-graphs by meaning (recursively, in order). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_diff_internal.h"

#define AT(x) ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__##x

static const char *s0(const char *s) { return s ? s : ""; }
static int str_eq(const char *a, const char *b) { return !strcmp(s0(a), s0(b)); }

static const char *norm_domain(const char *d)
{
    return !d || !strcmp(d, "ai.onnx") ? "" : d;
}

static int float_eq(float a, float b)
{
    return a == b || (isnan(a) && isnan(b));
}

static int add_change(td_arena *ar, node_changes *out, node_change c)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 8;
        node_change *v = td_arena_calloc(ar, cap, sizeof *v);
        if (!v)
            return -1;
        if (out->n)
            memcpy(v, out->v, out->n * sizeof *v);
        out->v = v;
        out->cap = cap;
    }
    out->v[out->n++] = c;
    return 0;
}

/* A short description of an attribute's value, lists cut after a few
 * entries (the report is for reading; tensors get max_abs_diff). */
static const char *attr_desc(td_arena *ar, const Onnx__AttributeProto *a)
{
    enum { SHOW = 16 };
    td_buf b = {0};
    switch (a->type) {
    case AT(FLOAT): td_buf_printf(&b, "%.9g", a->f); break;
    case AT(INT): td_buf_printf(&b, "%lld", (long long)a->i); break;
    case AT(STRING):
        td_buf_printf(&b, "\"%.*s\"", (int)(a->s.len > 200 ? 200 : a->s.len),
                      a->s.data ? (const char *)a->s.data : "");
        break;
    case AT(TENSOR):
        td_buf_printf(&b, "tensor %s", a->t ? diff_tensor_desc(ar, a->t) : "?");
        break;
    case AT(GRAPH):
        td_buf_printf(&b, "graph '%s' (%zu nodes)", a->g ? s0(a->g->name) : "",
                      a->g ? a->g->n_node : 0);
        break;
    case AT(FLOATS):
    case AT(INTS):
    case AT(STRINGS): {
        size_t n = a->type == AT(FLOATS) ? a->n_floats
                   : a->type == AT(INTS) ? a->n_ints
                                         : a->n_strings;
        td_buf_put(&b, "[", 1);
        for (size_t k = 0; k < n && k < SHOW; k++) {
            const char *sep = k ? ", " : "";
            if (a->type == AT(FLOATS))
                td_buf_printf(&b, "%s%.9g", sep, a->floats[k]);
            else if (a->type == AT(INTS))
                td_buf_printf(&b, "%s%lld", sep, (long long)a->ints[k]);
            else
                td_buf_printf(&b, "%s\"%.*s\"", sep,
                              (int)(a->strings[k].len > 64 ? 64
                                                           : a->strings[k].len),
                              a->strings[k].data ? (const char *)a->strings[k].data
                                                 : "");
        }
        td_buf_printf(&b, "%s]", n > SHOW ? ", ..." : "");
        break;
    }
    case AT(TENSORS): td_buf_printf(&b, "%zu tensors", a->n_tensors); break;
    case AT(GRAPHS): td_buf_printf(&b, "%zu graphs", a->n_graphs); break;
    default: td_buf_printf(&b, "(attribute type %d)", (int)a->type); break;
    }
    char *s = td_buf_take(&b);
    const char *r = s ? td_arena_strdup(ar, s) : NULL;
    free(s);
    return r ? r : "?";
}

/* 1 same, 0 different, -1 out of memory. Tensor attributes also fill *tc
 * (has_tensor set) so the report can give max_abs_diff. */
static int attr_same(td_arena *ar, const Onnx__AttributeProto *a,
                     const Onnx__AttributeProto *b, const td_diff_opts *o,
                     int depth, const char **why, int *has_tensor,
                     tensor_cmp *tc)
{
    td_err_t err;
    *why = NULL;
    if (a->type != b->type || !str_eq(a->ref_attr_name, b->ref_attr_name))
        return 0;
    switch (a->type) {
    case AT(FLOAT): return float_eq(a->f, b->f);
    case AT(INT): return a->i == b->i;
    case AT(STRING):
        return a->s.len == b->s.len &&
               (!a->s.len || !memcmp(a->s.data, b->s.data, a->s.len));
    case AT(FLOATS):
        if (a->n_floats != b->n_floats)
            return 0;
        for (size_t k = 0; k < a->n_floats; k++)
            if (!float_eq(a->floats[k], b->floats[k]))
                return 0;
        return 1;
    case AT(INTS):
        return a->n_ints == b->n_ints &&
               (!a->n_ints ||
                !memcmp(a->ints, b->ints, a->n_ints * sizeof *a->ints));
    case AT(STRINGS):
        if (a->n_strings != b->n_strings)
            return 0;
        for (size_t k = 0; k < a->n_strings; k++)
            if (a->strings[k].len != b->strings[k].len ||
                (a->strings[k].len && memcmp(a->strings[k].data,
                                             b->strings[k].data,
                                             a->strings[k].len)))
                return 0;
        return 1;
    case AT(TENSOR):
        if (!a->t || !b->t)
            return !a->t && !b->t;
        if (diff_tensor(a->t, b->t, o, tc, &err))
            return -1;
        *has_tensor = 1;
        return tc->same;
    case AT(TENSORS):
        if (a->n_tensors != b->n_tensors)
            return 0;
        for (size_t k = 0; k < a->n_tensors; k++) {
            tensor_cmp c;
            if (diff_tensor(a->tensors[k], b->tensors[k], o, &c, &err))
                return -1;
            if (!c.same)
                return 0;
        }
        return 1;
    case AT(GRAPH):
        if (!a->g || !b->g)
            return !a->g && !b->g;
        return diff_graph_same(ar, a->g, b->g, o, depth + 1, why);
    case AT(GRAPHS):
        if (a->n_graphs != b->n_graphs)
            return 0;
        for (size_t k = 0; k < a->n_graphs; k++) {
            int r = diff_graph_same(ar, a->graphs[k], b->graphs[k], o,
                                    depth + 1, why);
            if (r != 1)
                return r;
        }
        return 1;
    default: {
        /* sparse tensors, type protos, or an untyped attribute from an old
         * exporter: every field by serialized bytes */
        Onnx__AttributeProto ca = *a, cb = *b;
        ca.doc_string = cb.doc_string = NULL;
        return diff_msg_equal(&ca.base, &cb.base);
    }
    }
}

/* A name may repeat (the checker refuses it, files still hold it): the
 * k-th attribute of a name matches the k-th of that name on the other
 * side, so a node compared with itself is always the same. */
static const Onnx__AttributeProto *find_attr(const Onnx__NodeProto *n,
                                             const char *name, size_t nth)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (str_eq(n->attribute[i]->name, name) && nth-- == 0)
            return n->attribute[i];
    return NULL;
}

/* How many attributes before position i have its name. */
static size_t attr_nth(const Onnx__NodeProto *n, size_t i)
{
    size_t k = 0;
    for (size_t j = 0; j < i; j++)
        k += str_eq(n->attribute[j]->name, n->attribute[i]->name);
    return k;
}

static int diff_names(td_arena *ar, const char *field, char *const *a,
                      size_t na, char *const *b, size_t nb, node_changes *out)
{
    size_t n = na > nb ? na : nb;
    for (size_t k = 0; k < n; k++) {
        const char *x = k < na ? a[k] : NULL, *y = k < nb ? b[k] : NULL;
        if (x && y && !strcmp(x, y))
            continue;
        node_change c = {.field = field, .index = (int64_t)k, .a = x, .b = y};
        if (add_change(ar, out, c))
            return -1;
    }
    return 0;
}

td_status diff_nodes(td_arena *ar, const Onnx__NodeProto *a,
                     const Onnx__NodeProto *b, const td_diff_opts *o,
                     node_changes *out, td_err_t *err)
{
    node_change c;
#define ADD(ch)                                                                \
    do {                                                                       \
        if (add_change(ar, out, (ch)))                                         \
            goto nomem;                                                        \
    } while (0)
    if (!str_eq(a->op_type, b->op_type))
        ADD(((node_change){"op_type", NULL, -1, s0(a->op_type),
                           s0(b->op_type), NULL, 0, {0}}));
    if (strcmp(norm_domain(a->domain), norm_domain(b->domain)))
        ADD(((node_change){"domain", NULL, -1, s0(a->domain), s0(b->domain),
                           NULL, 0, {0}}));
    if (!str_eq(a->overload, b->overload))
        ADD(((node_change){"overload", NULL, -1, s0(a->overload),
                           s0(b->overload), NULL, 0, {0}}));
    if (diff_names(ar, "input", a->input, a->n_input, b->input, b->n_input,
                   out) ||
        diff_names(ar, "output", a->output, a->n_output, b->output,
                   b->n_output, out))
        goto nomem;
    for (size_t i = 0; i < a->n_attribute; i++) {
        const Onnx__AttributeProto *x = a->attribute[i];
        const Onnx__AttributeProto *y = find_attr(b, x->name, attr_nth(a, i));
        c = (node_change){.field = "attribute", .attr = s0(x->name),
                          .index = -1};
        if (y) {
            int r = attr_same(ar, x, y, o, 0, &c.detail, &c.has_tensor,
                               &c.tc);
            if (r < 0)
                goto nomem;
            if (r)
                continue;
            c.b = attr_desc(ar, y);
        }
        c.a = attr_desc(ar, x);
        ADD(c);
    }
    for (size_t i = 0; i < b->n_attribute; i++) {
        const Onnx__AttributeProto *y = b->attribute[i];
        if (find_attr(a, y->name, attr_nth(b, i)))
            continue;
        ADD(((node_change){"attribute", s0(y->name), -1, NULL,
                           attr_desc(ar, y), NULL, 0, {0}}));
    }
    if (!(o && o->ignore & TD_DIFF_IGNORE_DOC_STRINGS) &&
        !str_eq(a->doc_string, b->doc_string))
        ADD(((node_change){"doc_string", NULL, -1, s0(a->doc_string),
                           s0(b->doc_string), NULL, 0, {0}}));
#undef ADD
    return TD_OK;
nomem:
    return td_err_set(err, TD_ENOMEM, "out of memory");
}

static const char *why_node(td_arena *ar, const Onnx__NodeProto *n,
                            const node_change *c)
{
    const char *what = c->attr ? c->attr : c->field;
    const char *r = td_arena_printf(ar, "node '%s' (%s): %s differs",
                                    s0(n->name), s0(n->op_type), what);
    return r ? r : "nodes differ";
}

int diff_graph_same(td_arena *ar, const Onnx__GraphProto *a,
                    const Onnx__GraphProto *b, const td_diff_opts *o,
                    int depth, const char **why)
{
    td_err_t err;
    *why = NULL;
    if (depth > TD_MAX_NESTING) {
        *why = "sub-graphs nested too deeply to compare";
        return 0;
    }
    if (a->n_node != b->n_node) {
        *why = td_arena_printf(ar, "%zu nodes vs %zu", a->n_node, b->n_node);
        return 0;
    }
    for (size_t i = 0; i < a->n_node; i++) {
        node_changes ch = {0};
        if (diff_nodes(ar, a->node[i], b->node[i], o, &ch, &err))
            return -1;
        if (ch.n) {
            *why = ch.v[0].detail ? ch.v[0].detail
                                  : why_node(ar, a->node[i], &ch.v[0]);
            return 0;
        }
    }
    if (a->n_initializer != b->n_initializer) {
        *why = "initializer count differs";
        return 0;
    }
    for (size_t i = 0; i < a->n_initializer; i++) {
        tensor_cmp tc;
        if (diff_tensor(a->initializer[i], b->initializer[i], o, &tc, &err))
            return -1;
        if (!tc.same ||
            !str_eq(a->initializer[i]->name, b->initializer[i]->name)) {
            *why = td_arena_printf(ar, "initializer '%s' differs",
                                   s0(a->initializer[i]->name));
            return 0;
        }
    }
    if (a->n_input != b->n_input || a->n_output != b->n_output) {
        *why = "inputs or outputs differ";
        return 0;
    }
    for (size_t i = 0; i < a->n_input + a->n_output; i++) {
        const Onnx__ValueInfoProto *x =
            i < a->n_input ? a->input[i] : a->output[i - a->n_input];
        const Onnx__ValueInfoProto *y =
            i < a->n_input ? b->input[i] : b->output[i - a->n_input];
        if (!str_eq(x->name, y->name) || !diff_type_equal(x->type, y->type)) {
            *why = td_arena_printf(ar, "graph %s '%s' differs",
                                   i < a->n_input ? "input" : "output",
                                   s0(x->name));
            return 0;
        }
    }
    return 1;
}
