/* Shape inference: small graphs built in memory for each operator rule,
 * then the ONNX node-test corpus (when installed), whose declared output
 * shapes must agree with every shape we infer. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/td_model.h"
#include "graph/td_shape.h"
#include "graph/td_tensor.h"
#include "tcheck.h"

#define DT(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

/* ---- building graphs ---- */

typedef struct tg {
    td_arena *a;
    td_graph *scratch;  /* for td_node_new's arena */
    Onnx__GraphProto gp;
    Onnx__NodeProto *nodes[64];
    Onnx__TensorProto *inits[32];
    Onnx__ValueInfoProto *inputs[8];
    size_t nn, ni, nin;
} tg;

static void tg_init(tg *t)
{
    memset(t, 0, sizeof *t);
    t->a = td_arena_new();
    onnx__graph_proto__init(&t->gp);
    t->scratch = td_graph_new(t->a, &t->gp, 8);
}

/* dims < 0 become the symbolic dim "N" */
static void tg_input(tg *t, const char *name, const int64_t *dims, size_t n)
{
    Onnx__ValueInfoProto *v = td_arena_alloc(t->a, sizeof *v);
    Onnx__TypeProto *tp = td_arena_alloc(t->a, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = td_arena_alloc(t->a, sizeof *tt);
    Onnx__TensorShapeProto *sh = td_arena_alloc(t->a, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **d = td_arena_calloc(t->a, n + 1,
                                                            sizeof *d);
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (size_t k = 0; k < n; k++) {
        d[k] = td_arena_alloc(t->a, sizeof **d);
        onnx__tensor_shape_proto__dimension__init(d[k]);
        if (dims[k] >= 0) {
            d[k]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d[k]->dim_value = dims[k];
        } else {
            d[k]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d[k]->dim_param = td_arena_strdup(t->a, "N");
        }
    }
    sh->n_dim = n;
    sh->dim = d;
    tt->has_elem_type = 1;
    tt->elem_type = DT(FLOAT);
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->name = td_arena_strdup(t->a, name);
    v->type = tp;
    t->inputs[t->nin++] = v;
}

static void tg_weight(tg *t, const char *name, const int64_t *dims, size_t n)
{
    int64_t numel = 1;
    for (size_t k = 0; k < n; k++)
        numel *= dims[k];
    double *v = calloc((size_t)numel, sizeof *v);
    t->inits[t->ni++] =
        td_tensor_from_double(t->a, name, DT(FLOAT), dims, n, v);
    free(v);
}

static void tg_ints(tg *t, const char *name, const int64_t *v, size_t n)
{
    int64_t d = (int64_t)n;
    t->inits[t->ni++] = td_tensor_from_int64(t->a, name, &d, 1, v);
}

static void tg_floats(tg *t, const char *name, const double *v, size_t n)
{
    int64_t d = (int64_t)n;
    t->inits[t->ni++] = td_tensor_from_double(t->a, name, DT(FLOAT), &d, 1, v);
}

/* ins and outs: comma-separated names ("" for an empty slot) */
static size_t split(td_arena *a, const char *list, const char **out)
{
    size_t n = 0;
    char *s = td_arena_strdup(a, list);
    if (!*s)
        return 0;
    for (char *p = s;; p++) {
        char *c = strchr(p, ',');
        out[n++] = p;
        if (!c)
            break;
        *c = '\0';
        p = c;
    }
    return n;
}

static Onnx__NodeProto *tg_node(tg *t, const char *op, const char *ins,
                                const char *outs)
{
    const char *in[16], *out[8];
    size_t ni = split(t->a, ins, in), no = split(t->a, outs, out);
    Onnx__NodeProto *n = td_node_new(t->scratch, op, NULL, in, ni, out, no);
    t->nodes[t->nn++] = n;
    return n;
}

static void ints_attr(tg *t, Onnx__NodeProto *n, const char *name,
                      const int64_t *v, size_t c)
{
    CHECK(td_node_set_ints(t->scratch, n, name, v, c) == TD_OK);
}

static td_shapes *tg_infer(tg *t, td_graph **g, const td_dim_value *dims,
                           size_t nd)
{
    t->gp.node = t->nodes;
    t->gp.n_node = t->nn;
    t->gp.initializer = t->inits;
    t->gp.n_initializer = t->ni;
    t->gp.input = t->inputs;
    t->gp.n_input = t->nin;
    *g = td_graph_new(t->a, &t->gp, 8);
    td_err_t err = {0};
    CHECK(td_graph_check(*g, &err) == TD_OK);
    td_shape_opts o = {dims, nd, 0};
    td_shapes *s = NULL;
    CHECK(td_shape_infer(*g, &o, &s, &err) == TD_OK);
    return s;
}

static void tg_free(tg *t, td_graph *g, td_shapes *s)
{
    td_shapes_free(s);
    td_graph_free(g);
    td_graph_free(t->scratch);
    td_arena_free(t->a);
}

/* want: rank then dims, -1 unknown; rank -1: shape unknown */
static int shape_is(const td_shapes *s, const char *name, int rank, ...)
{
    const int64_t *d;
    size_t n;
    if (!td_shape_get(s, name, &d, &n))
        return rank < 0;
    if ((int)n != rank)
        return 0;
    va_list ap;
    va_start(ap, rank);
    int ok = 1;
    for (int k = 0; k < rank; k++)
        ok &= va_arg(ap, int) == d[k];
    va_end(ap);
    if (!ok) {
        fprintf(stderr, "  %s is [", name);
        for (size_t k = 0; k < n; k++)
            fprintf(stderr, "%s%lld", k ? "," : "", (long long)d[k]);
        fprintf(stderr, "]\n");
    }
    return ok;
}

/* ---- operator rules ---- */

static void test_conv_family(void)
{
    tg t;
    td_graph *g;
    tg_init(&t);
    tg_input(&t, "x", (int64_t[]){-1, 3, 224, 224}, 4);
    tg_weight(&t, "w", (int64_t[]){64, 3, 7, 7}, 4);
    Onnx__NodeProto *n = tg_node(&t, "Conv", "x,w", "y");
    ints_attr(&t, n, "strides", (int64_t[]){2, 2}, 2);
    ints_attr(&t, n, "pads", (int64_t[]){3, 3, 3, 3}, 4);
    /* SAME_LOWER, no kernel_shape (taken from W): 112 -> ceil(112/2) */
    tg_weight(&t, "w2", (int64_t[]){8, 64, 4, 4}, 4);
    n = tg_node(&t, "Conv", "y,w2", "y2");
    ints_attr(&t, n, "strides", (int64_t[]){2, 2}, 2);
    td_node_set_string(t.scratch, n, "auto_pad", "SAME_LOWER");
    /* 1-D, dilated, grouped: 20 - 2*(3-1) = 16 */
    tg_input(&t, "x1", (int64_t[]){1, 4, 20}, 3);
    tg_weight(&t, "w1", (int64_t[]){8, 2, 3}, 3);
    n = tg_node(&t, "Conv", "x1,w1", "y1");
    ints_attr(&t, n, "dilations", (int64_t[]){2}, 1);
    td_node_set_int(t.scratch, n, "group", 2);
    /* 3-D with per-axis strides */
    tg_input(&t, "x3", (int64_t[]){2, 3, 8, 9, 10}, 5);
    tg_weight(&t, "w3", (int64_t[]){5, 3, 3, 3, 3}, 5);
    n = tg_node(&t, "Conv", "x3,w3", "y3");
    ints_attr(&t, n, "strides", (int64_t[]){1, 2, 3}, 3);
    ints_attr(&t, n, "pads", (int64_t[]){1, 1, 1, 1, 1, 1}, 6);
    /* ConvTranspose: 2*(5-1) + 1 + 3 - 2 = 10, Cout = W[1] x group */
    tg_input(&t, "xt", (int64_t[]){1, 8, 5, 5}, 4);
    tg_weight(&t, "wt", (int64_t[]){8, 2, 3, 3}, 4);
    n = tg_node(&t, "ConvTranspose", "xt,wt", "yt");
    ints_attr(&t, n, "strides", (int64_t[]){2, 2}, 2);
    ints_attr(&t, n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    ints_attr(&t, n, "output_padding", (int64_t[]){1, 1}, 2);
    td_node_set_int(t.scratch, n, "group", 2);
    /* pools: ceil_mode adds the partial window, floor does not */
    tg_input(&t, "xp", (int64_t[]){1, 3, 32, 32}, 4);
    n = tg_node(&t, "MaxPool", "xp", "mp_floor");
    ints_attr(&t, n, "kernel_shape", (int64_t[]){3, 3}, 2);
    ints_attr(&t, n, "strides", (int64_t[]){2, 2}, 2);
    n = tg_node(&t, "AveragePool", "xp", "ap_ceil");
    ints_attr(&t, n, "kernel_shape", (int64_t[]){3, 3}, 2);
    ints_attr(&t, n, "strides", (int64_t[]){2, 2}, 2);
    td_node_set_int(t.scratch, n, "ceil_mode", 1);
    /* ceil_mode never starts a window in the end padding: 5, k 2, s 2,
     * pads 1 would round up to 4 windows, the last starting at 6 */
    tg_input(&t, "xq", (int64_t[]){1, 1, 5, 5}, 4);
    n = tg_node(&t, "MaxPool", "xq", "mp_edge");
    ints_attr(&t, n, "kernel_shape", (int64_t[]){2, 2}, 2);
    ints_attr(&t, n, "strides", (int64_t[]){2, 2}, 2);
    ints_attr(&t, n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    td_node_set_int(t.scratch, n, "ceil_mode", 1);
    tg_node(&t, "GlobalAveragePool", "y2", "gap");
    tg_node(&t, "Flatten", "gap", "flat");
    tg_weight(&t, "fc", (int64_t[]){10, 8}, 2);
    n = tg_node(&t, "Gemm", "flat,fc", "logits");
    td_node_set_int(t.scratch, n, "transB", 1);

    td_shapes *s = tg_infer(&t, &g, NULL, 0);
    CHECK(shape_is(s, "y", 4, -1, 64, 112, 112));
    CHECK(shape_is(s, "y2", 4, -1, 8, 56, 56));
    CHECK(shape_is(s, "y1", 3, 1, 8, 16));
    CHECK(shape_is(s, "y3", 5, 2, 5, 8, 5, 4));
    CHECK(shape_is(s, "yt", 4, 1, 4, 10, 10));
    CHECK(shape_is(s, "mp_floor", 4, 1, 3, 15, 15));
    CHECK(shape_is(s, "ap_ceil", 4, 1, 3, 16, 16));
    CHECK(shape_is(s, "mp_edge", 4, 1, 1, 3, 3));
    CHECK(shape_is(s, "gap", 4, -1, 8, 1, 1));
    CHECK(shape_is(s, "flat", 2, -1, 8));
    CHECK(shape_is(s, "logits", 2, -1, 10));
    td_shapes_free(s);

    /* the symbolic batch dim given a value flows through */
    td_dim_value dv = {"N", 4};
    td_graph_free(g);
    s = tg_infer(&t, &g, &dv, 1);
    CHECK(shape_is(s, "logits", 2, 4, 10));
    tg_free(&t, g, s);
}

static void test_conv_geometry(void)
{
    tg t;
    tg_init(&t);
    Onnx__NodeProto *n = tg_node(&t, "Conv", "x,w", "y");
    ints_attr(&t, n, "strides", (int64_t[]){2, 2}, 2);
    td_node_set_string(t.scratch, n, "auto_pad", "SAME_LOWER");
    td_conv_geom geo;
    td_err_t err = {0};
    /* in 7, k 4, s 2: out 4, total pad (4-1)*2+4-7 = 3, extra at begin */
    CHECK(td_conv_geometry(n, (int64_t[]){8, 3, 4, 4}, 4, (int64_t[]){7, 8},
                           &geo, &err) == TD_OK);
    CHECK(geo.out_spatial[0] == 4 && geo.out_spatial[1] == 4);
    CHECK(geo.pads[0] == 2 && geo.pads[2] == 1);
    CHECK(geo.pads[1] == 1 && geo.pads[3] == 1);  /* 8: total 2 */
    /* unknown input size: pads unknown too */
    CHECK(td_conv_geometry(n, (int64_t[]){8, 3, 4, 4}, 4, (int64_t[]){-1, -1},
                           &geo, &err) == TD_OK);
    CHECK(geo.pads[0] == -1 && geo.out_spatial[0] == -1);
    /* a kernel_shape that contradicts the weight is an error naming the op */
    ints_attr(&t, n, "kernel_shape", (int64_t[]){3, 3}, 2);
    CHECK(td_conv_geometry(n, (int64_t[]){8, 3, 4, 4}, 4, NULL, &geo, &err) ==
          TD_EINPUT);
    CHECK(strstr(err.msg, "kernel_shape") != NULL);
    tg_free(&t, NULL, NULL);
}

static void test_reshape_family(void)
{
    tg t;
    td_graph *g;
    tg_init(&t);
    tg_input(&t, "x", (int64_t[]){2, 3, 4, 5}, 4);
    tg_ints(&t, "s0", (int64_t[]){0, -1}, 2);
    tg_node(&t, "Reshape", "x,s0", "r0");
    /* PyTorch's flatten idiom: Shape -> Gather -> Unsqueeze -> Concat */
    tg_node(&t, "Shape", "x", "shp");
    tg_ints(&t, "zero", (int64_t[]){0}, 1);
    Onnx__NodeProto *n = tg_node(&t, "Gather", "shp,zero", "n0");
    td_node_set_int(t.scratch, n, "axis", 0);
    tg_ints(&t, "minus1", (int64_t[]){-1}, 1);
    n = tg_node(&t, "Concat", "n0,minus1", "newshape");
    td_node_set_int(t.scratch, n, "axis", 0);
    tg_node(&t, "Reshape", "x,newshape", "r1");
    tg_ints(&t, "ax0", (int64_t[]){0}, 1);
    tg_node(&t, "Unsqueeze", "r1,ax0", "u");
    tg_node(&t, "Squeeze", "u,ax0", "sq");
    n = tg_node(&t, "Transpose", "x", "tr");
    ints_attr(&t, n, "perm", (int64_t[]){0, 2, 3, 1}, 4);
    tg_ints(&t, "split", (int64_t[]){1, 2}, 2);
    n = tg_node(&t, "Split", "x,split", "sp0,sp1");
    td_node_set_int(t.scratch, n, "axis", 1);
    tg_ints(&t, "st", (int64_t[]){1, 0}, 2);
    tg_ints(&t, "en", (int64_t[]){-1, INT64_MAX}, 2);
    tg_ints(&t, "axs", (int64_t[]){3, 2}, 2);
    tg_ints(&t, "stp", (int64_t[]){1, 3}, 2);
    tg_node(&t, "Slice", "x,st,en,axs,stp", "sl");
    tg_ints(&t, "pads", (int64_t[]){0, 0, 1, 2, 0, 0, 3, 4}, 8);
    tg_node(&t, "Pad", "x,pads", "pd");
    tg_floats(&t, "scales", (double[]){1, 1, 2, 2.5}, 4);
    tg_node(&t, "Resize", "x,,scales", "rs");
    tg_ints(&t, "sizes", (int64_t[]){2, 3, 7, 9}, 4);
    tg_node(&t, "Resize", "x,,,sizes", "rz");
    tg_input(&t, "b", (int64_t[]){5}, 1);
    tg_node(&t, "Add", "x,b", "add");
    tg_input(&t, "m", (int64_t[]){5, 6}, 2);
    tg_node(&t, "MatMul", "x,m", "mm");
    n = tg_node(&t, "Concat", "x,add", "cat");
    td_node_set_int(t.scratch, n, "axis", -3);
    tg_node(&t, "NotAnOp", "x", "unk");
    tg_node(&t, "Relu", "unk", "unk2");
    n = tg_node(&t, "ReduceMean", "x", "rm");
    ints_attr(&t, n, "axes", (int64_t[]){2, 3}, 2);

    td_shapes *s = tg_infer(&t, &g, NULL, 0);
    CHECK(shape_is(s, "r0", 2, 2, 60));
    CHECK(shape_is(s, "shp", 1, 4));
    CHECK(shape_is(s, "newshape", 1, 2));
    CHECK(shape_is(s, "r1", 2, 2, 60));
    CHECK(shape_is(s, "u", 3, 1, 2, 60));
    CHECK(shape_is(s, "sq", 2, 2, 60));
    CHECK(shape_is(s, "tr", 4, 2, 4, 5, 3));
    CHECK(shape_is(s, "sp0", 4, 2, 1, 4, 5));
    CHECK(shape_is(s, "sp1", 4, 2, 2, 4, 5));
    CHECK(shape_is(s, "sl", 4, 2, 3, 2, 3));
    CHECK(shape_is(s, "pd", 4, 2, 3, 8, 11));
    CHECK(shape_is(s, "rs", 4, 2, 3, 8, 12));
    CHECK(shape_is(s, "rz", 4, 2, 3, 7, 9));
    CHECK(shape_is(s, "add", 4, 2, 3, 4, 5));
    CHECK(shape_is(s, "mm", 4, 2, 3, 4, 6));
    CHECK(shape_is(s, "cat", 4, 2, 6, 4, 5));
    CHECK(shape_is(s, "unk", -1));
    CHECK(shape_is(s, "unk2", -1));
    CHECK(shape_is(s, "rm", 4, 2, 3, 1, 1));
    tg_free(&t, g, s);
}

/* Values folded through Split, Slice (a negative step), Size, Range and
 * ConstantOfShape, the way exporters compute pads and shapes (tf2onnx:
 * Split(initializer) -> Concat for Pad, Shape -> Slice -> Concat for
 * sizes); each ends in a shape known only if the values were carried. */
static void test_folded_values(void)
{
    tg t;
    td_graph *g;
    Onnx__NodeProto *n;
    tg_init(&t);
    tg_input(&t, "x", (int64_t[]){2, 3, 4, 5}, 4);
    tg_ints(&t, "pads_all", (int64_t[]){0, 0, 1, 2, 0, 0, 3, 4}, 8);
    tg_ints(&t, "halves", (int64_t[]){4, 4}, 2);
    tg_node(&t, "Split", "pads_all,halves", "pb,pe");
    n = tg_node(&t, "Concat", "pb,pe", "pads");
    td_node_set_int(t.scratch, n, "axis", 0);
    tg_node(&t, "Pad", "x,pads", "pd");
    tg_node(&t, "Shape", "x", "shp");
    tg_ints(&t, "c2", (int64_t[]){2}, 1);
    tg_ints(&t, "s3", (int64_t[]){3}, 1);
    tg_ints(&t, "e0", (int64_t[]){0}, 1);
    tg_ints(&t, "a0", (int64_t[]){0}, 1);
    tg_ints(&t, "m1", (int64_t[]){-1}, 1);
    tg_node(&t, "Slice", "shp,s3,e0,a0,m1", "rev");  /* [5, 4, 3] */
    n = tg_node(&t, "Concat", "c2,rev", "revshape");
    td_node_set_int(t.scratch, n, "axis", 0);
    tg_node(&t, "Reshape", "x,revshape", "r_rev");
    tg_node(&t, "Size", "x", "size");
    tg_node(&t, "Unsqueeze", "size,a0", "size1");
    tg_node(&t, "Reshape", "x,size1", "r_size");
    tg_ints(&t, "one", (int64_t[]){1}, 1);
    tg_node(&t, "Range", "e0,c2,one", "idx");  /* [0, 1] */
    tg_node(&t, "Gather", "shp,idx", "lead");  /* [2, 3] */
    n = tg_node(&t, "Concat", "lead,m1", "gshape");
    td_node_set_int(t.scratch, n, "axis", 0);
    tg_node(&t, "Reshape", "x,gshape", "r_range");
    tg_ints(&t, "seven", (int64_t[]){7}, 1);
    tg_node(&t, "Range", "one,seven,c2", "odd");  /* [1, 3, 5] */

    /* ConstantOfShape([2], value=int64 1) -> [1, 1] as the lead of a shape */
    n = tg_node(&t, "ConstantOfShape", "c2", "ones");
    Onnx__AttributeProto *va = td_arena_alloc(t.a, sizeof *va);
    onnx__attribute_proto__init(va);
    va->name = "value";
    va->has_type = 1;
    va->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    va->t = td_tensor_from_int64(t.a, "v", (int64_t[]){1}, 1, (int64_t[]){1});
    n->attribute = td_arena_calloc(t.a, 1, sizeof *n->attribute);
    n->attribute[0] = va;
    n->n_attribute = 1;
    n = tg_node(&t, "Concat", "ones,m1", "oshape");
    td_node_set_int(t.scratch, n, "axis", 0);
    tg_node(&t, "Reshape", "x,oshape", "r_ones");

    td_shapes *s = tg_infer(&t, &g, NULL, 0);
    CHECK(shape_is(s, "r_ones", 3, 1, 1, 120));
    CHECK(shape_is(s, "pb", 1, 4));
    CHECK(shape_is(s, "pd", 4, 2, 3, 8, 11));
    CHECK(shape_is(s, "rev", 1, 3));
    CHECK(shape_is(s, "r_rev", 4, 2, 5, 4, 3));
    CHECK(shape_is(s, "size", 0));
    CHECK(shape_is(s, "r_size", 1, 120));
    CHECK(shape_is(s, "idx", 1, 2));
    CHECK(shape_is(s, "r_range", 3, 2, 3, 20));
    CHECK(shape_is(s, "odd", 1, 3));
    tg_free(&t, g, s);
}

/* Integers at the ends of int64 whose result has an exact answer: Slice
 * steps of INT64_MIN (whose negation does not fit) and INT64_MAX, starts
 * and ends at both ends, a stride of INT64_MAX under SAME and ceil_mode. */
static void test_extreme_exact(void)
{
    tg t;
    td_graph *g;
    tg_init(&t);
    tg_input(&t, "x", (int64_t[]){1, 4, 8, 8}, 4);
    tg_ints(&t, "ax2", (int64_t[]){2}, 1);
    tg_ints(&t, "ax3", (int64_t[]){3}, 1);
    tg_ints(&t, "min", (int64_t[]){INT64_MIN}, 1);
    tg_ints(&t, "max", (int64_t[]){INT64_MAX}, 1);
    tg_ints(&t, "seven", (int64_t[]){7}, 1);
    tg_ints(&t, "zero", (int64_t[]){0}, 1);
    tg_ints(&t, "one", (int64_t[]){1}, 1);
    tg_ints(&t, "minus1", (int64_t[]){-1}, 1);
    tg_node(&t, "Slice", "x,seven,min,ax2,min", "s_min_step");
    tg_node(&t, "Slice", "x,zero,max,ax3,max", "s_max_step");
    tg_node(&t, "Slice", "x,min,max,ax2,one", "s_all");
    tg_node(&t, "Slice", "x,max,min,ax2,minus1", "s_reversed");
    Onnx__NodeProto *n = tg_node(&t, "MaxPool", "x", "pool");
    ints_attr(&t, n, "kernel_shape", (int64_t[]){1, 1}, 2);
    ints_attr(&t, n, "strides", (int64_t[]){INT64_MAX, 1}, 2);
    td_node_set_int(t.scratch, n, "ceil_mode", 1);
    tg_weight(&t, "w", (int64_t[]){4, 4, 3, 3}, 4);
    n = tg_node(&t, "Conv", "x,w", "same");
    ints_attr(&t, n, "strides", (int64_t[]){INT64_MAX, 1}, 2);
    td_node_set_string(t.scratch, n, "auto_pad", "SAME_UPPER");
    td_shapes *s = tg_infer(&t, &g, NULL, 0);
    CHECK(shape_is(s, "s_min_step", 4, 1, 4, 1, 8));
    CHECK(shape_is(s, "s_max_step", 4, 1, 4, 8, 1));
    CHECK(shape_is(s, "s_all", 4, 1, 4, 8, 8));
    CHECK(shape_is(s, "s_reversed", 4, 1, 4, 8, 8));
    CHECK(shape_is(s, "pool", 4, 1, 4, 1, 8));
    CHECK(shape_is(s, "same", 4, 1, 4, 1, 8));
    tg_free(&t, g, s);
}

/* A size that does not fit in int64 is an error naming the node and the
 * attribute, not a wrapped (or silently unknown) dim. */
static void overflow_case(const char *op, const char *attr,
                          const int64_t *v, size_t nv, const char *want)
{
    tg t;
    td_graph *g;
    tg_init(&t);
    tg_input(&t, "x", (int64_t[]){1, 4, 8, 8}, 4);
    tg_weight(&t, "w", (int64_t[]){4, 4, 3, 3}, 4);
    Onnx__NodeProto *n = tg_node(&t, op, strncmp(op, "Conv", 4) ? "x" : "x,w",
                                 "y");
    n->name = td_arena_strdup(t.a, "the_node");
    if (!strcmp(op, "MaxPool"))
        ints_attr(&t, n, "kernel_shape", (int64_t[]){3, 3}, 2);
    ints_attr(&t, n, attr, v, nv);
    t.gp.node = t.nodes;
    t.gp.n_node = t.nn;
    t.gp.initializer = t.inits;
    t.gp.n_initializer = t.ni;
    t.gp.input = t.inputs;
    t.gp.n_input = t.nin;
    g = td_graph_new(t.a, &t.gp, 8);
    td_err_t err = {0};
    td_shapes *s = NULL;
    CHECK(td_shape_infer(g, NULL, &s, &err) == TD_EINPUT);
    CHECK(s == NULL);
    CHECK_MSG(strstr(err.msg, "node 'the_node'") && strstr(err.msg, want),
              "%s %s: %s", op, attr, err.msg);
    tg_free(&t, g, s);
}

static void test_overflow_errors(void)
{
    const int64_t M = INT64_MAX;
    overflow_case("Conv", "dilations", (int64_t[]){M / 2 + 1, 1}, 2,
                  "dilations");
    overflow_case("Conv", "pads", (int64_t[]){M, 0, M, 0}, 4, "pads");
    overflow_case("MaxPool", "pads", (int64_t[]){M, 0, 1, 0}, 4, "pads");
    overflow_case("ConvTranspose", "strides", (int64_t[]){M / 2, 1}, 2,
                  "strides");
    overflow_case("ConvTranspose", "output_padding", (int64_t[]){M, 0}, 2,
                  "output_padding");
    overflow_case("Pad", "pads", (int64_t[]){0, 0, M, 0, 0, 0, 1, 0}, 8,
                  "pads");
}

/* ---- corpus: declared output shapes of the ONNX node tests ---- */

static const char *const must_infer[] = {
    "test_basic_conv_with_padding", "test_conv_with_autopad_same",
    "test_conv_with_strides_and_asymmetric_padding",
    "test_conv_with_strides_padding", "test_convtranspose",
    "test_convtranspose_1d", "test_convtranspose_3d",
    "test_convtranspose_autopad_same", "test_convtranspose_dilations",
    "test_convtranspose_output_shape", "test_convtranspose_pads",
    "test_maxpool_2d_ceil", "test_maxpool_2d_same_lower",
    "test_maxpool_2d_same_upper", "test_maxpool_2d_dilations",
    "test_averagepool_2d_pads", "test_averagepool_3d_default",
    "test_globalaveragepool", "test_basic_convinteger", "test_qlinearconv",
    "test_flatten_axis0", "test_transpose_default", "test_gemm_default_no_bias",
    "test_matmul_3d", "test_add_bcast", "test_concat_3d_axis_negative_1",
    NULL};

static int listed(const char *name)
{
    for (const char *const *p = must_infer; *p; p++)
        if (!strcmp(*p, name))
            return 1;
    return 0;
}

static void check_model(const char *dir, const char *name, int *n_checked,
                        int *n_full)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, name);
    td_model *m;
    td_err_t err = {0};
    if (td_model_load(path, NULL, &m, &err) != TD_OK)
        return;  /* not every corpus file is for us (sequences, maps) */
    td_shapes *s = NULL;
    CHECK_MSG(td_shape_infer(td_model_graph(m), NULL, &s, &err) == TD_OK,
              "%s: %s", name, err.msg);
    const Onnx__GraphProto *gp = td_model_current(m)->graph;
    int full = 1;
    for (size_t i = 0; s && i < gp->n_output; i++) {
        const Onnx__TypeProto *tp = gp->output[i]->type;
        const int64_t *d;
        size_t n;
        if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
            !tp->tensor_type->shape)
            continue;
        const Onnx__TensorShapeProto *sh = tp->tensor_type->shape;
        if (!td_shape_get(s, gp->output[i]->name, &d, &n)) {
            full = 0;
            continue;
        }
        CHECK_MSG(n == sh->n_dim, "%s: output rank %zu, declared %zu", name,
                  n, sh->n_dim);
        for (size_t k = 0; k < n && n == sh->n_dim; k++) {
            const Onnx__TensorShapeProto__Dimension *dm = sh->dim[k];
            if (dm->value_case !=
                ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
                continue;
            if (d[k] < 0) {
                full = 0;
                continue;
            }
            CHECK_MSG(d[k] == dm->dim_value, "%s: output %s dim %zu: %lld, "
                      "declared %lld", name, gp->output[i]->name, k,
                      (long long)d[k], (long long)dm->dim_value);
        }
    }
    if (listed(name))
        CHECK_MSG(full, "%s: output shape not fully inferred", name);
    *n_checked += 1;
    *n_full += full;
    td_shapes_free(s);
    td_model_free(m);
}

static void test_corpus(void)
{
    const char *dir = "/usr/share/libonnx-testdata/data/node";
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "corpus %s not installed: skipped\n", dir);
        return;
    }
    int checked = 0, full = 0, found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "test_", 5)) {
            found += listed(e->d_name);
            check_model(dir, e->d_name, &checked, &full);
        }
    closedir(d);
    fprintf(stderr, "corpus: %d models, %d with every output inferred\n",
            checked, full);
    CHECK(found >= 20);
}

int main(void)
{
    test_conv_family();
    test_conv_geometry();
    test_reshape_family();
    test_folded_values();
    test_extreme_exact();
    test_overflow_errors();
    test_corpus();
    return TCHECK_DONE();
}
