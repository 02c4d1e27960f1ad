/* Counting parameters: every initializer and Constant value element, in the
 * main graph (from the IR) and in sub-graphs (from their messages). */
#include <string.h>

#include "td_graph.h"
#include "td_tensor.h"

static int64_t numel(const Onnx__TensorProto *t)
{
    int64_t n = t ? td_tensor_numel(t) : 0;
    return n < 0 ? 0 : n;
}

static int64_t node_params(const Onnx__NodeProto *n, int depth);

static int64_t subgraph_params(const Onnx__GraphProto *g, int depth)
{
    if (depth > 64)
        return 0;
    int64_t p = 0;
    for (size_t i = 0; i < g->n_initializer; i++)
        p += numel(g->initializer[i]);
    for (size_t i = 0; i < g->n_node; i++)
        p += node_params(g->node[i], depth);
    return p;
}

static int64_t node_params(const Onnx__NodeProto *n, int depth)
{
    int64_t p = 0;
    int constant = n->op_type && !strcmp(n->op_type, "Constant");
    for (size_t k = 0; k < n->n_attribute; k++) {
        const Onnx__AttributeProto *a = n->attribute[k];
        if (constant && a->t)
            p += numel(a->t);
        if (a->g)
            p += subgraph_params(a->g, depth + 1);
        for (size_t j = 0; j < a->n_graphs; j++)
            p += subgraph_params(a->graphs[j], depth + 1);
    }
    return p;
}

int64_t td_graph_param_count(td_graph *g)
{
    int64_t p = 0;
    for (size_t i = 0; i < td_graph_init_count(g); i++)
        p += numel(td_graph_init(g, i));
    for (size_t i = 0; i < td_graph_node_count(g); i++)
        p += node_params(td_graph_node(g, i), 0);
    return p;
}
