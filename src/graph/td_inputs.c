/* What the graph's inputs declare about their shapes. */
#include "td_graph.h"

const char *td_graph_symbolic_dim(const td_graph *g, size_t k)
{
    const Onnx__GraphProto *gp = td_graph_orig(g);
    for (size_t i = 0; gp && i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *v = gp->input[i];
        if (!v->type ||
            v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
            !v->type->tensor_type->shape)
            continue;
        const Onnx__TensorShapeProto *sp = v->type->tensor_type->shape;
        for (size_t d = 0; d < sp->n_dim; d++) {
            if (sp->dim[d]->value_case !=
                ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
                continue;
            const char *name = sp->dim[d]->dim_param;
            if (name && name[0] && k-- == 0)
                return name;
        }
    }
    return NULL;
}
