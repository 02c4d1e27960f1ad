/* Building nodes in the arena and reading attributes with their types
 * checked: a wrong attribute type is an error, never a silent default. */
#include <string.h>

#include "td_graph.h"

#define AT(x) ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__##x

static char **strv_dup(td_arena *a, const char *const *v, size_t n)
{
    char **out = td_arena_calloc(a, n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = td_arena_strdup(a, v[i] ? v[i] : "")))
            return NULL;
    return out;
}

Onnx__NodeProto *td_node_new(td_graph *g, const char *op_type,
                             const char *name, const char *const *inputs,
                             size_t n_in, const char *const *outputs,
                             size_t n_out)
{
    td_arena *a = td_graph_arena(g);
    Onnx__NodeProto *n = td_arena_alloc(a, sizeof *n);
    if (!n)
        return NULL;
    onnx__node_proto__init(n);
    n->op_type = td_arena_strdup(a, op_type);
    n->name = name ? td_arena_strdup(a, name) : NULL;
    n->input = strv_dup(a, inputs, n_in);
    n->output = strv_dup(a, outputs, n_out);
    n->n_input = n_in;
    n->n_output = n_out;
    if (!n->op_type || (name && !n->name) || !n->input || !n->output)
        return NULL;
    return n;
}

static Onnx__AttributeProto *attr_add(td_graph *g, Onnx__NodeProto *n,
                                      const char *name, int type)
{
    td_arena *a = td_graph_arena(g);
    Onnx__AttributeProto *at = td_arena_alloc(a, sizeof *at);
    Onnx__AttributeProto **arr =
        td_arena_calloc(a, n->n_attribute + 1, sizeof *arr);
    if (!at || !arr)
        return NULL;
    onnx__attribute_proto__init(at);
    at->name = td_arena_strdup(a, name);
    at->has_type = 1;
    at->type = type;
    if (!at->name)
        return NULL;
    if (n->n_attribute)
        memcpy(arr, n->attribute, n->n_attribute * sizeof *arr);
    arr[n->n_attribute++] = at;
    n->attribute = arr;
    return at;
}

td_status td_node_set_int(td_graph *g, Onnx__NodeProto *n, const char *attr,
                          int64_t v)
{
    Onnx__AttributeProto *at = attr_add(g, n, attr, AT(INT));
    if (!at)
        return TD_ENOMEM;
    at->has_i = 1;
    at->i = v;
    return TD_OK;
}

td_status td_node_set_tensor(td_graph *g, Onnx__NodeProto *n,
                             const char *attr, Onnx__TensorProto *t)
{
    Onnx__AttributeProto *at = attr_add(g, n, attr, AT(TENSOR));
    if (!at)
        return TD_ENOMEM;
    at->t = t;
    return TD_OK;
}

td_status td_node_set_float(td_graph *g, Onnx__NodeProto *n, const char *attr,
                            float v)
{
    Onnx__AttributeProto *at = attr_add(g, n, attr, AT(FLOAT));
    if (!at)
        return TD_ENOMEM;
    at->has_f = 1;
    at->f = v;
    return TD_OK;
}

td_status td_node_set_ints(td_graph *g, Onnx__NodeProto *n, const char *attr,
                           const int64_t *v, size_t count)
{
    Onnx__AttributeProto *at = attr_add(g, n, attr, AT(INTS));
    if (!at)
        return TD_ENOMEM;
    at->n_ints = count;
    at->ints = td_arena_memdup(td_graph_arena(g), v, count * sizeof *v);
    return at->ints || !count ? TD_OK : TD_ENOMEM;
}

td_status td_node_set_string(td_graph *g, Onnx__NodeProto *n,
                             const char *attr, const char *v)
{
    Onnx__AttributeProto *at = attr_add(g, n, attr, AT(STRING));
    if (!at)
        return TD_ENOMEM;
    size_t len = strlen(v);
    at->has_s = 1;
    at->s.len = len;
    at->s.data = td_arena_memdup(td_graph_arena(g), v, len + 1);
    return at->s.data ? TD_OK : TD_ENOMEM;
}

const Onnx__AttributeProto *td_attr_find(const Onnx__NodeProto *n,
                                         const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
            return n->attribute[i];
    return NULL;
}

static td_status wrong_type(const Onnx__NodeProto *n, const char *name,
                            const char *want, td_err_t *err)
{
    return td_err_set(err, TD_EINPUT, "node '%s' (%s): attribute '%s' is not %s",
                      n->name ? n->name : "", n->op_type ? n->op_type : "",
                      name, want);
}

/* Old files may omit the type field; then the value field decides. */
static int is_type(const Onnx__AttributeProto *at, int type, int has_value)
{
    return at->has_type ? (int)at->type == type : has_value;
}

td_status td_attr_int(const Onnx__NodeProto *n, const char *name, int64_t dflt,
                      int64_t *v, td_err_t *err)
{
    const Onnx__AttributeProto *at = td_attr_find(n, name);
    *v = dflt;
    if (!at)
        return TD_OK;
    if (!is_type(at, AT(INT), at->has_i))
        return wrong_type(n, name, "an integer", err);
    *v = at->i;
    return TD_OK;
}

td_status td_attr_float(const Onnx__NodeProto *n, const char *name, float dflt,
                        float *v, td_err_t *err)
{
    const Onnx__AttributeProto *at = td_attr_find(n, name);
    *v = dflt;
    if (!at)
        return TD_OK;
    if (!is_type(at, AT(FLOAT), at->has_f))
        return wrong_type(n, name, "a float", err);
    *v = at->f;
    return TD_OK;
}

td_status td_attr_ints(const Onnx__NodeProto *n, const char *name,
                       const int64_t **v, size_t *count, td_err_t *err)
{
    const Onnx__AttributeProto *at = td_attr_find(n, name);
    *v = NULL;
    *count = 0;
    if (!at)
        return TD_OK;
    if (!is_type(at, AT(INTS), at->n_ints > 0))
        return wrong_type(n, name, "a list of integers", err);
    *v = at->ints;
    *count = at->n_ints;
    return TD_OK;
}

td_status td_attr_string(const Onnx__NodeProto *n, const char *name,
                         const char *dflt, char *buf, size_t cap, td_err_t *err)
{
    const Onnx__AttributeProto *at = td_attr_find(n, name);
    const char *src = dflt;
    size_t len = strlen(dflt);
    if (at) {
        if (!is_type(at, AT(STRING), at->has_s))
            return wrong_type(n, name, "a string", err);
        /* protobuf-c leaves bytes unterminated: copy with the length. */
        src = (const char *)at->s.data;
        len = at->s.len;
        if ((len && memchr(src, 0, len)) || len >= cap)
            return wrong_type(n, name, "a short string", err);
    }
    memcpy(buf, src, len);
    buf[len] = '\0';
    return TD_OK;
}
