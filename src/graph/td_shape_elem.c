/* Element-wise operators: those whose output has the input's shape, the
 * broadcasting ones (numpy rules, ONNX "Broadcasting" doc), and the
 * reductions. Integer values are carried through for shape arithmetic. */
#include <string.h>

#include "td_shape_internal.h"

static const char *const same_shape_ops[] = {
    "Relu", "Sigmoid", "Tanh", "Clip", "LeakyRelu", "HardSigmoid",
    "HardSwish", "Elu", "Selu", "Celu", "Gelu", "Mish", "Softplus",
    "Softsign", "ThresholdedRelu", "Shrink", "PRelu", "Softmax",
    "LogSoftmax", "Hardmax", "Abs", "Neg", "Exp", "Log", "Sqrt",
    "Reciprocal", "Floor", "Ceil", "Round", "Erf", "Sign", "Not", "IsNaN",
    "IsInf", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh",
    "Asinh", "Acosh", "Atanh", "BatchNormalization",
    "InstanceNormalization", "LayerNormalization", "GroupNormalization",
    "LRN", "LpNormalization", "MeanVarianceNormalization", "CumSum",
    "Dropout", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
    "Identity", "Cast", "CastLike", "BitwiseNot", NULL};

static const char *const broadcast_ops[] = {
    "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mean", "Sum", "Mod",
    "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And",
    "Or", "Xor", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
    "Where", NULL};

static int in_list(const char *const *list, const char *op)
{
    for (; *list; list++)
        if (!strcmp(*list, op))
            return 1;
    return 0;
}

/* Identity-like ops keep the values; the others only the shape. Dropout's
 * mask and the Q/DQ second outputs have the same shape too. */
static int rule_same(sh_ctx *c, const char *op)
{
    const sh_entry *x = sh_in(c, 0);
    if (!x)
        return SH_OK;
    int keep = !strcmp(op, "Identity") || !strcmp(op, "Cast") ||
               !strcmp(op, "CastLike");
    int r = sh_out_values(c, 0, x->dims, x->rank, x->values,
                          keep ? x->n_values : -1);
    if (!r && (!strcmp(op, "Dropout")))
        r = sh_out(c, 1, x->dims, x->rank);
    return r;
}

/* One output dim from two aligned input dims: 1 stretches, equal dims
 * agree; with one unknown, a known dim other than 1 decides. */
static int64_t bcast_dim(int64_t a, int64_t b)
{
    if (a == 1)
        return b;
    if (b == 1)
        return a;
    if (a >= 0 && b >= 0)
        return a == b ? a : -1;
    return a >= 0 ? a : b;  /* -1 when both unknown */
}

static int64_t apply_op(const char *op, int64_t a, int64_t b, int *ok)
{
    int64_t r = 0;
    *ok = 1;
    if (!strcmp(op, "Add"))
        *ok = !__builtin_add_overflow(a, b, &r);
    else if (!strcmp(op, "Sub"))
        *ok = !__builtin_sub_overflow(a, b, &r);
    else if (!strcmp(op, "Mul"))
        *ok = !__builtin_mul_overflow(a, b, &r);
    else if (!strcmp(op, "Div") && b != 0 && !(a == INT64_MIN && b == -1))
        r = a / b;  /* integer Div truncates, as in C */
    else
        *ok = 0;
    return r;
}

static int rule_broadcast(sh_ctx *c, const char *op)
{
    int64_t out[SH_MAX_RANK];
    int rank = -1;
    const sh_entry *ins[8];
    size_t n_in = c->n->n_input < 8 ? c->n->n_input : 8;
    if (n_in == 0)
        return SH_OK;
    for (size_t i = 0; i < n_in; i++) {
        if (!(ins[i] = sh_in(c, i)))
            return SH_OK;  /* one unknown rank: the output rank is unknown */
        if (ins[i]->rank > rank)
            rank = ins[i]->rank;
    }
    for (int k = 0; k < rank; k++)
        out[k] = 1;
    for (size_t i = 0; i < n_in; i++) {
        int off = rank - ins[i]->rank;
        for (int k = 0; k < ins[i]->rank; k++)
            out[off + k] = bcast_dim(out[off + k], ins[i]->dims[k]);
    }
    /* Small integer arithmetic on shapes (Mul by scalar, Add, ...). */
    int64_t vals[SH_MAX_VALUES];
    int nv = -1;
    if (n_in == 2 && rank <= 1 && ins[0]->n_values >= 0 &&
        ins[1]->n_values >= 0) {
        int na = ins[0]->n_values, nb = ins[1]->n_values;
        nv = na > nb ? na : nb;
        if ((na != nv && na != 1) || (nb != nv && nb != 1))
            nv = -1;
        for (int k = 0; k < nv; k++) {
            int ok;
            vals[k] = apply_op(op, ins[0]->values[na == 1 ? 0 : k],
                               ins[1]->values[nb == 1 ? 0 : k], &ok);
            if (!ok)
                nv = -1;
        }
    }
    return sh_out_values(c, 0, out, rank, vals, nv);
}

/* Reduce*-1..18: axes from the attribute or (opset 13/18) the second
 * input; no axes reduces all unless noop_with_empty_axes. */
static int rule_reduce(sh_ctx *c, int arg)
{
    const sh_entry *x = sh_in(c, 0);
    if (!x)
        return SH_OK;
    int keep = sh_attr_i(c->n, "keepdims", 1) != 0;
    int reduce[SH_MAX_RANK] = {0};
    const int64_t *axes = NULL;
    int n_axes = 0;
    if (arg) {
        int ax = sh_axis(sh_attr_i(c->n, "axis", 0), x->rank);
        if (ax < 0)
            return SH_OK;
        reduce[ax] = 1;
    } else if (sh_ints_attr_or_input(c, "axes", 1, &axes, &n_axes) &&
               n_axes > 0) {
        for (int i = 0; i < n_axes; i++) {
            int ax = sh_axis(axes[i], x->rank);
            if (ax < 0)
                return SH_OK;
            reduce[ax] = 1;
        }
    } else if (c->n->n_input > 1 && c->n->input[1][0]) {
        return SH_OK;  /* axes from a value we do not know */
    } else if (sh_attr_i(c->n, "noop_with_empty_axes", 0)) {
        return sh_out(c, 0, x->dims, x->rank);
    } else {
        for (int k = 0; k < x->rank; k++)
            reduce[k] = 1;
    }
    int64_t out[SH_MAX_RANK];
    int r = 0;
    for (int k = 0; k < x->rank; k++)
        if (!reduce[k])
            out[r++] = x->dims[k];
        else if (keep)
            out[r++] = 1;
    return sh_out(c, 0, out, r);
}

int sh_rule_elementwise(sh_ctx *c, const char *op)
{
    int r;
    if (in_list(same_shape_ops, op))
        r = rule_same(c, op);
    else if (in_list(broadcast_ops, op))
        r = rule_broadcast(c, op);
    else if (!strncmp(op, "Reduce", 6))
        r = rule_reduce(c, 0);
    else if (!strcmp(op, "ArgMax") || !strcmp(op, "ArgMin"))
        r = rule_reduce(c, 1);
    else
        return 0;
    return r ? r : 1;
}
