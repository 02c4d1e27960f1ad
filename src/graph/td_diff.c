/* td_diff_models: walks the two models section by section and writes the
 * report as it goes (text lines, or the JSON object documented in
 * td_diff_models' comment). */
#include "td_diff.h"

#include <stdlib.h>
#include <string.h>

#include "td_diff_internal.h"
#include "util/td_strmap.h"

static const char *s0(const char *s) { return s ? s : ""; }
static int str_eq(const char *a, const char *b) { return !strcmp(s0(a), s0(b)); }

static const char *norm_domain(const char *d)
{
    return !d || !strcmp(d, "ai.onnx") ? "" : d;
}

/* ---- JSON helpers: a keyed object with added/removed/changed arrays ---- */

void diff_jstr_or_null(td_buf *b, const char *key, const char *v)
{
    td_json_key(b, key);
    if (v)
        td_json_str(b, v);
    else
        td_json_null(b);
}

void diff_jopen_group(dctx *c, const char *key)
{
    if (!c->json)
        return;
    td_json_key(c->b, key);
    td_json_open(c->b, '{');
}

void diff_jopen_list(dctx *c, const char *key)
{
    if (!c->json)
        return;
    td_json_key(c->b, key);
    td_json_open(c->b, '[');
}

void diff_jclose(dctx *c, char ch)
{
    if (c->json)
        td_json_close(c->b, ch);
}

/* ---- model header ---- */

static void field(dctx *c, const char *name, const char *a, const char *b)
{
    if (str_eq(a, b))
        return;
    c->count++;
    if (!c->json) {
        td_buf_printf(c->b, "~ model %s: \"%s\" -> \"%s\"\n", name,
                      diff_tx(c, a), diff_tx(c, b));
        return;
    }
    td_json_open(c->b, '{');
    td_json_key(c->b, "field");
    td_json_str(c->b, name);
    diff_jstr_or_null(c->b, "a", a);
    diff_jstr_or_null(c->b, "b", b);
    td_json_close(c->b, '}');
}

static void field_int(dctx *c, const char *name, int has_a, int64_t a,
                      int has_b, int64_t b)
{
    if (has_a == has_b && (!has_a || a == b))
        return;
    c->count++;
    if (!c->json) {
        td_buf_printf(c->b, "~ model %s: %lld -> %lld\n", name,
                      (long long)(has_a ? a : 0), (long long)(has_b ? b : 0));
        return;
    }
    td_json_open(c->b, '{');
    td_json_key(c->b, "field");
    td_json_str(c->b, name);
    td_json_key(c->b, "a");
    has_a ? td_json_int(c->b, a) : td_json_null(c->b);
    td_json_key(c->b, "b");
    has_b ? td_json_int(c->b, b) : td_json_null(c->b);
    td_json_close(c->b, '}');
}

static void diff_header(dctx *c, const Onnx__ModelProto *a,
                        const Onnx__ModelProto *b)
{
    unsigned ig = c->o ? c->o->ignore : 0;
    diff_jopen_list(c, "model");
    field_int(c, "ir_version", a->has_ir_version, a->ir_version,
              b->has_ir_version, b->ir_version);
    if (!(ig & TD_DIFF_IGNORE_METADATA)) {
        field(c, "producer_name", a->producer_name, b->producer_name);
        field(c, "producer_version", a->producer_version,
              b->producer_version);
        field(c, "domain", a->domain, b->domain);
        field_int(c, "model_version", a->has_model_version, a->model_version,
                  b->has_model_version, b->model_version);
    }
    if (!(ig & TD_DIFF_IGNORE_DOC_STRINGS))
        field(c, "doc_string", a->doc_string, b->doc_string);
    if (!(ig & TD_DIFF_IGNORE_NAMES))
        field(c, "graph_name", a->graph->name, b->graph->name);
    if (!(ig & TD_DIFF_IGNORE_DOC_STRINGS))
        field(c, "graph_doc_string", a->graph->doc_string,
              b->graph->doc_string);
    diff_jclose(c, ']');
}

/* ---- opsets and metadata: small keyed lists ---- */

/* Repeated keys (a domain imported twice, an input name given twice)
 * pair up in order: the k-th entry of a key matches the k-th on the other
 * side, so a model compared with itself is always the same. */
static const Onnx__OperatorSetIdProto *find_opset(const Onnx__ModelProto *m,
                                                  const char *domain,
                                                  size_t nth)
{
    for (size_t i = 0; i < m->n_opset_import; i++)
        if (!strcmp(norm_domain(m->opset_import[i]->domain), domain) &&
            nth-- == 0)
            return m->opset_import[i];
    return NULL;
}

/* How many imports before position i have its domain. */
static size_t opset_nth(const Onnx__ModelProto *m, size_t i)
{
    size_t k = 0;
    const char *d = norm_domain(m->opset_import[i]->domain);
    for (size_t j = 0; j < i; j++)
        k += !strcmp(norm_domain(m->opset_import[j]->domain), d);
    return k;
}

static void opset_side(dctx *c, const Onnx__ModelProto *x,
                       const Onnx__ModelProto *y, const char *what)
{
    diff_jopen_list(c, what);
    for (size_t i = 0; i < x->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = x->opset_import[i];
        const char *d = norm_domain(o->domain);
        if (find_opset(y, d, opset_nth(x, i)))
            continue;
        c->count++;
        if (c->json) {
            td_json_open(c->b, '{');
            td_json_key(c->b, "domain");
            td_json_str(c->b, d);
            td_json_key(c->b, "version");
            td_json_int(c->b, o->version);
            td_json_close(c->b, '}');
        } else {
            td_buf_printf(c->b, "%s opset %s %s: %lld\n",
                          what[0] == 'a' ? "+" : "-",
                          d[0] ? diff_tx(c, d) : "ai.onnx",
                          what, (long long)o->version);
        }
    }
    diff_jclose(c, ']');
}

static void diff_opsets(dctx *c, const Onnx__ModelProto *a,
                        const Onnx__ModelProto *b)
{
    diff_jopen_group(c, "opsets");
    opset_side(c, b, a, "added");
    opset_side(c, a, b, "removed");
    diff_jopen_list(c, "changed");
    for (size_t i = 0; i < a->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *x = a->opset_import[i];
        const char *d = norm_domain(x->domain);
        const Onnx__OperatorSetIdProto *y = find_opset(b, d, opset_nth(a, i));
        if (!y || y->version == x->version)
            continue;
        c->count++;
        if (c->json) {
            td_json_open(c->b, '{');
            td_json_key(c->b, "domain");
            td_json_str(c->b, d);
            td_json_key(c->b, "a");
            td_json_int(c->b, x->version);
            td_json_key(c->b, "b");
            td_json_int(c->b, y->version);
            td_json_close(c->b, '}');
        } else {
            td_buf_printf(c->b, "~ opset %s: %lld -> %lld\n",
                          d[0] ? diff_tx(c, d) : "ai.onnx", (long long)x->version,
                          (long long)y->version);
        }
    }
    diff_jclose(c, ']');
    diff_jclose(c, '}');
}

static const char *find_meta(const Onnx__ModelProto *m, const char *key)
{
    for (size_t i = 0; i < m->n_metadata_props; i++)
        if (str_eq(m->metadata_props[i]->key, key))
            return s0(m->metadata_props[i]->value);
    return NULL;
}

static void meta_line(dctx *c, const char *key, const char *a, const char *b)
{
    c->count++;
    if (c->json) {
        td_json_open(c->b, '{');
        td_json_key(c->b, "key");
        td_json_str(c->b, key);
        diff_jstr_or_null(c->b, "a", a);
        diff_jstr_or_null(c->b, "b", b);
        td_json_close(c->b, '}');
    } else if (!a) {
        td_buf_printf(c->b, "+ metadata '%s' added: \"%s\"\n",
                      diff_tx(c, key), diff_tx(c, b));
    } else if (!b) {
        td_buf_printf(c->b, "- metadata '%s' removed: \"%s\"\n",
                      diff_tx(c, key), diff_tx(c, a));
    } else {
        td_buf_printf(c->b, "~ metadata '%s': \"%s\" -> \"%s\"\n",
                      diff_tx(c, key), diff_tx(c, a), diff_tx(c, b));
    }
}

static void diff_metadata(dctx *c, const Onnx__ModelProto *a,
                          const Onnx__ModelProto *b)
{
    static const Onnx__ModelProto none = ONNX__MODEL_PROTO__INIT;
    if (c->o && c->o->ignore & TD_DIFF_IGNORE_METADATA)
        a = b = &none;  /* the lists stay in the JSON, empty */
    diff_jopen_group(c, "metadata");
    diff_jopen_list(c, "added");
    for (size_t i = 0; i < b->n_metadata_props; i++) {
        const char *k = s0(b->metadata_props[i]->key);
        if (!find_meta(a, k))
            meta_line(c, k, NULL, s0(b->metadata_props[i]->value));
    }
    diff_jclose(c, ']');
    diff_jopen_list(c, "removed");
    for (size_t i = 0; i < a->n_metadata_props; i++) {
        const char *k = s0(a->metadata_props[i]->key);
        if (!find_meta(b, k))
            meta_line(c, k, s0(a->metadata_props[i]->value), NULL);
    }
    diff_jclose(c, ']');
    diff_jopen_list(c, "changed");
    for (size_t i = 0; i < a->n_metadata_props; i++) {
        const char *k = s0(a->metadata_props[i]->key);
        const char *va = find_meta(a, k), *vb = find_meta(b, k);
        /* duplicate keys: report the first occurrence only */
        if (vb && va == s0(a->metadata_props[i]->value) && strcmp(va, vb))
            meta_line(c, k, va, vb);
    }
    diff_jclose(c, ']');
    diff_jclose(c, '}');
}

/* ---- graph inputs and outputs ---- */

static const Onnx__ValueInfoProto *find_value(Onnx__ValueInfoProto *const *v,
                                              size_t n, const char *name,
                                              size_t nth, size_t *at)
{
    for (size_t i = 0; i < n; i++)
        if (str_eq(v[i]->name, name) && nth-- == 0) {
            if (at)
                *at = i;
            return v[i];
        }
    return NULL;
}

/* How many values before position i have its name. */
static size_t value_nth(Onnx__ValueInfoProto *const *v, size_t i)
{
    size_t k = 0;
    for (size_t j = 0; j < i; j++)
        k += str_eq(v[j]->name, v[i]->name);
    return k;
}

static void value_side(dctx *c, const char *what, const char *kind,
                       Onnx__ValueInfoProto *const *x, size_t nx,
                       Onnx__ValueInfoProto *const *y, size_t ny)
{
    diff_jopen_list(c, what);
    for (size_t i = 0; i < nx; i++) {
        if (find_value(y, ny, x[i]->name, value_nth(x, i), NULL))
            continue;
        c->count++;
        if (c->json) {
            td_json_open(c->b, '{');
            td_json_key(c->b, "name");
            td_json_str(c->b, s0(x[i]->name));
            diff_json_type(c->b, x[i]->type);
            td_json_close(c->b, '}');
        } else {
            td_buf_printf(c->b, "%s %s '%s' %s: %s\n",
                          what[0] == 'a' ? "+" : "-", kind,
                          diff_tx(c, x[i]->name), what,
                          diff_tx(c, diff_type_desc(c->ar, x[i]->type)));
        }
    }
    diff_jclose(c, ']');
}

static void diff_values(dctx *c, const char *key, const char *kind,
                        Onnx__ValueInfoProto *const *a, size_t na,
                        Onnx__ValueInfoProto *const *b, size_t nb)
{
    diff_jopen_group(c, key);
    value_side(c, "added", kind, b, nb, a, na);
    value_side(c, "removed", kind, a, na, b, nb);
    diff_jopen_list(c, "changed");
    size_t last = 0;
    int reordered = 0;
    for (size_t i = 0; i < na; i++) {
        size_t at;
        const Onnx__ValueInfoProto *y =
            find_value(b, nb, a[i]->name, value_nth(a, i), &at);
        if (!y)
            continue;
        /* Order matters to callers that feed inputs by position. */
        reordered |= at < last;
        last = at;
        if (diff_type_equal(a[i]->type, y->type))
            continue;
        c->count++;
        if (c->json) {
            td_json_open(c->b, '{');
            td_json_key(c->b, "name");
            td_json_str(c->b, s0(a[i]->name));
            td_json_key(c->b, "a");
            td_json_open(c->b, '{');
            diff_json_type(c->b, a[i]->type);
            td_json_close(c->b, '}');
            td_json_key(c->b, "b");
            td_json_open(c->b, '{');
            diff_json_type(c->b, y->type);
            td_json_close(c->b, '}');
            td_json_close(c->b, '}');
        } else {
            td_buf_printf(c->b, "~ %s '%s': %s -> %s\n", kind,
                          diff_tx(c, a[i]->name),
                          diff_tx(c, diff_type_desc(c->ar, a[i]->type)),
                          diff_tx(c, diff_type_desc(c->ar, y->type)));
        }
    }
    diff_jclose(c, ']');
    c->count += reordered;
    if (c->json) {
        td_json_key(c->b, "order_changed");
        td_json_bool(c->b, reordered);
    } else if (reordered) {
        td_buf_printf(c->b, "~ %ss reordered\n", kind);
    }
    diff_jclose(c, '}');
}

/* ---- entry point ---- */

/* Report schema (JSON): {"same": bool, "differences": n,
 * "a": path, "b": path, "model": [{"field", "a", "b"}],
 * "opsets": {"added"|"removed": [{"domain", "version"}],
 *            "changed": [{"domain", "a", "b"}]},
 * "metadata": {"added"|"removed"|"changed": [{"key", "a", "b"}]},
 * "inputs"/"outputs": {"added"|"removed": [{"name", "dtype", "shape"}],
 *     "changed": [{"name", "a": {"dtype","shape"}, "b": {...}}],
 *     "order_changed": bool},
 * "initializers": {"added"|"removed": [{"name", "dtype", "shape"}],
 *     "changed": [{"name", "dtype_a", "dtype_b", "shape_a", "shape_b",
 *                  "max_abs_diff", "max_rel_diff", "n_diff"}]},
 * "nodes": {"added"|"removed": [{"name", "op_type", "index"}],
 *     "renamed": [{"a", "b", "op_type", "index_a", "index_b"}],
 *     "changed": [{"name", "op_type", "index_a", "index_b",
 *                  "changes": [{"field", "attr", "index", "a", "b",
 *                               "detail", "max_abs_diff", "max_rel_diff",
 *                               "n_diff"}]}]},
 * "functions": {"added"|"removed"|"changed": [{"domain", "name"}]},
 * "summary": {"nodes_added", "nodes_removed", "nodes_changed",
 *             "nodes_renamed", "tensors_added", "tensors_removed",
 *             "tensors_differ", "other", "max_abs_diff", "max_rel_diff"},
 * "options": {"atol", "rtol", "ignore": [...]}}
 * (td_diff_graph.c writes initializers, nodes and functions). A node
 * both renamed and edited is in "renamed" and in "changed" (by its name
 * in a). */
td_status td_diff_models_opts(td_model *ma, td_model *mb,
                              const td_diff_opts *o, int json, char **report,
                              int *differ, td_err_t *err)
{
    *report = NULL;
    *differ = 1;
    td_buf body = {0}, out = {0};
    dctx c = {td_arena_new(), &body, json, 0, err, o, {0}};
    td_status s = TD_OK;
    const Onnx__ModelProto *a = td_model_current(ma);
    const Onnx__ModelProto *b = td_model_current(mb);
    if (!c.ar || !a || !b) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    diff_header(&c, a, b);
    diff_opsets(&c, a, b);
    diff_metadata(&c, a, b);
    diff_values(&c, "inputs", "input", a->graph->input, a->graph->n_input,
                b->graph->input, b->graph->n_input);
    diff_values(&c, "outputs", "output", a->graph->output, a->graph->n_output,
                b->graph->output, b->graph->n_output);
    if ((s = diff_graph_sections(&c, a->graph, b->graph)))
        goto cleanup;
    if ((s = diff_functions(&c, a, b)))
        goto cleanup;
    if (json) {
        td_json_open(&out, '{');
        td_json_key(&out, "same");
        td_json_bool(&out, c.count == 0);
        td_json_key(&out, "differences");
        td_json_int(&out, (int64_t)c.count);
        td_json_key(&out, "a");
        td_json_str(&out, td_model_path(ma));
        td_json_key(&out, "b");
        td_json_str(&out, td_model_path(mb));
        td_buf_put(&out, ",", 1);
        td_buf_put(&out, body.p ? body.p : "", body.len);
        diff_summary_json(&out, &c);
        td_buf_put(&out, "}\n", 2);
    } else {
        td_buf_printf(&out, "--- %s\n+++ %s\n",
                      diff_tx(&c, td_model_path(ma)),
                      diff_tx(&c, td_model_path(mb)));
        if ((s = diff_sort_lines(&body, &out, err)))
            goto cleanup;
        diff_summary_text(&out, &c);
    }
    if (body.oom || !(*report = td_buf_take(&out)))
        s = td_err_set(err, TD_ENOMEM, "out of memory");
    *differ = c.count != 0;
cleanup:
    td_buf_free(&body);
    td_buf_free(&out);
    td_arena_free(c.ar);
    return s;
}

td_status td_diff_models(td_model *a, td_model *b, int json, char **report,
                         int *differ, td_err_t *err)
{
    return td_diff_models_opts(a, b, NULL, json, report, differ, err);
}
