/* Why a value's shape is unknown: the earliest node, in topological order,
 * among the value's producer and its ancestors, whose output shape inference
 * could not complete. Every node before it in that cone is known, so it is
 * where the unknown starts (a symbolic input dim, an operator the rules do
 * not know, a value that is not constant). */
#include <stdlib.h>

#include "td_shape.h"

static int shape_complete(const td_shapes *s, const char *name)
{
    const int64_t *d;
    size_t nd;
    if (!td_shape_get(s, name, &d, &nd))
        return 0;
    for (size_t k = 0; k < nd; k++)
        if (d[k] < 0)
            return 0;
    return 1;
}

int64_t td_shape_first_unknown(td_graph *g, const td_shapes *s,
                               const char *value)
{
    size_t nn = td_graph_node_count(g);
    char *seen = calloc(nn ? nn : 1, 1);
    size_t *stack = malloc((nn ? nn : 1) * sizeof *stack), top = 0;
    int64_t first = -1;
    int64_t p = td_graph_producer(g, value);
    if (!seen || !stack || p < 0)
        goto cleanup;
    seen[p] = 1;
    stack[top++] = (size_t)p;
    while (top) {
        size_t i = stack[--top];
        const Onnx__NodeProto *n = td_graph_node(g, i);
        for (size_t k = 0; k < n->n_output; k++)
            if (n->output[k][0] && !shape_complete(s, n->output[k]) &&
                (first < 0 || (int64_t)i < first))
                first = (int64_t)i;
        for (size_t k = 0; k < n->n_input; k++) {
            int64_t q = n->input[k][0] ? td_graph_producer(g, n->input[k]) : -1;
            if (q >= 0 && !seen[q]) {
                seen[q] = 1;
                stack[top++] = (size_t)q;
            }
        }
    }
cleanup:
    free(seen);
    free(stack);
    return first;
}
