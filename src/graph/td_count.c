/* Counting parameters: every initializer and Constant value element, in the
 * main graph (from the IR) and in sub-graphs (from their messages). Element
 * counts come from the model's dims, which need not match any data (an
 * unknown dtype, external data not read): the sum is checked. */
#include <string.h>

#include "td_graph.h"
#include "td_tensor.h"

typedef struct param_sum {
    int64_t total;
    const char *overflow_at;  /* the tensor that did not fit, or NULL */
} param_sum;

static void add_tensor(param_sum *p, const Onnx__TensorProto *t)
{
    int64_t n = t ? td_tensor_numel(t) : 0;
    if (n > 0 && !p->overflow_at && td_add_i64(p->total, n, &p->total))
        p->overflow_at = t->name ? t->name : "";
}

static void add_node(param_sum *p, const Onnx__NodeProto *n, int depth);

static void add_subgraph(param_sum *p, const Onnx__GraphProto *g, int depth)
{
    if (depth > TD_MAX_NESTING)
        return;
    for (size_t i = 0; i < g->n_initializer; i++)
        add_tensor(p, g->initializer[i]);
    for (size_t i = 0; i < g->n_node; i++)
        add_node(p, g->node[i], depth);
}

static void add_node(param_sum *p, const Onnx__NodeProto *n, int depth)
{
    int constant = n->op_type && !strcmp(n->op_type, "Constant");
    for (size_t k = 0; k < n->n_attribute; k++) {
        const Onnx__AttributeProto *a = n->attribute[k];
        if (constant && a->t)
            add_tensor(p, a->t);
        if (a->g)
            add_subgraph(p, a->g, depth + 1);
        for (size_t j = 0; j < a->n_graphs; j++)
            add_subgraph(p, a->graphs[j], depth + 1);
    }
}

td_status td_graph_param_count(td_graph *g, int64_t *out, td_err_t *err)
{
    param_sum p = {0, NULL};
    for (size_t i = 0; i < td_graph_init_count(g); i++)
        add_tensor(&p, td_graph_init(g, i));
    for (size_t i = 0; i < td_graph_node_count(g); i++)
        add_node(&p, td_graph_node(g, i), 0);
    *out = p.total;
    if (p.overflow_at)
        return td_err_set(err, TD_EINPUT, "tensor '%s': the model's "
                          "parameter count overflows int64 (dims of tensors "
                          "without matching data)", p.overflow_at);
    return TD_OK;
}
