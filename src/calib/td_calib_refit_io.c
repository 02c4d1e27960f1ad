/* The graph side of one chain's refit; see td_calib_refit.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/td_calib_refit.h"
#include "graph/td_tensor.h"

#define T(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

/* Positions converted to double per block: bounds the copies next to the
 * runtime's own arrays (a 1024 x 1024 map is a million positions). */
#define REFIT_BLOCK 4096

/* The largest finite float16: a refitted value beyond it cannot be
 * written. */
#define F16_MAX 65504.0

void td_refit_target_free(td_refit_target *t)
{
    free(t->a0);
    free(t->b0);
    free(t->g0);
    td_refit_acc_free(&t->acc);
    for (size_t f = 0; f < TD_REFIT_FOLDS; f++)
        td_refit_acc_free(&t->fold[f]);
    memset(t, 0, sizeof *t);
}

void td_refit_matrix_of(td_refit_kind kind, int trans_b, double alpha,
                        const double *w, int64_t rows, int64_t cols,
                        double *out)
{
    int rows_first = kind == TD_REFIT_CONV || (kind == TD_REFIT_GEMM && trans_b);
    double scale = kind == TD_REFIT_GEMM ? alpha : 1.0;
    for (int64_t o = 0; o < rows; o++)
        for (int64_t i = 0; i < cols; i++)
            out[o * cols + i] = scale * (rows_first ? w[o * cols + i]
                                                    : w[i * rows + o]);
}

void td_refit_weight_of(td_refit_kind kind, int trans_b, double alpha,
                        const double *m, int64_t rows, int64_t cols,
                        double *w)
{
    int rows_first = kind == TD_REFIT_CONV || (kind == TD_REFIT_GEMM && trans_b);
    double scale = kind == TD_REFIT_GEMM ? 1.0 / alpha : 1.0;
    for (int64_t o = 0; o < rows; o++)
        for (int64_t i = 0; i < cols; i++)
            w[rows_first ? o * cols + i : i * rows + o] = scale * m[o * cols + i];
}

/* The factor's weight as A (cout x r). */
static td_status read_factor(td_refit_target *t, const Onnx__TensorProto *w,
                             td_err_t *err)
{
    double *v = NULL;
    int64_t n = 0;
    td_status s = td_tensor_to_double(w, &v, &n, err);
    if (s)
        return s;
    if (!(t->a0 = malloc((size_t)(t->cout * t->r) * sizeof *t->a0))) {
        free(v);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    td_refit_matrix_of(t->kind, t->trans_b, t->alpha, v, t->cout, t->r, t->a0);
    free(v);
    return TD_OK;
}

/* The bias (input 2) as cout doubles; zeros when absent. */
static td_status read_bias(td_graph *g, const Onnx__NodeProto *n,
                           td_refit_target *t, td_err_t *err)
{
    if (!(t->b0 = calloc((size_t)t->cout, sizeof *t->b0)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    if (n->n_input < 3 || !n->input[2][0])
        return TD_OK;
    const Onnx__TensorProto *b = td_graph_constant(g, n->input[2]);
    double *v = NULL;
    int64_t nb = 0;
    if (!b) {
        t->why = "the last factor's bias is not a constant";
        return TD_OK;
    }
    td_status s = td_tensor_to_double(b, &v, &nb, err);
    if (s)
        return s;
    if (nb == t->cout)
        memcpy(t->b0, v, (size_t)nb * sizeof *v);
    else
        t->why = "the last factor's bias is not one value per output";
    free(v);
    return TD_OK;
}

/* Which kind of last factor n is, and its shapes; t->why when none. */
static td_status classify(const Onnx__NodeProto *n,
                          const Onnx__TensorProto *w, td_refit_target *t,
                          td_err_t *err)
{
    int64_t group = 1, trans_b = 0;
    float beta = 1;
    t->alpha = 1;
    const char *op = n->op_type;
    if (!strcmp(op, "Conv")) {
        td_status s = td_attr_int(n, "group", 1, &group, err);
        if (s)
            return s;
        for (size_t d = 2; d < w->n_dims; d++)
            if (w->dims[d] != 1)
                group = 0;
        if (group != 1 || w->n_dims < 3) {
            t->why = "the chain ends in a grouped or spatial convolution";
            return TD_OK;
        }
        t->kind = TD_REFIT_CONV;
        t->cout = w->dims[0];
        t->r = w->dims[1];
        return TD_OK;
    }
    if (w->n_dims != 2) {
        t->why = "the last factor's weight is not a matrix";
        return TD_OK;
    }
    if (!strcmp(op, "MatMul")) {
        t->kind = TD_REFIT_MATMUL;
        t->r = w->dims[0];
        t->cout = w->dims[1];
        return TD_OK;
    }
    td_status s;
    if ((s = td_attr_int(n, "transB", 0, &trans_b, err)) ||
        (s = td_attr_float(n, "alpha", 1, &t->alpha, err)) ||
        (s = td_attr_float(n, "beta", 1, &beta, err)))
        return s;
    if (strcmp(op, "Gemm") || !(t->alpha != 0) || beta != 1) {
        t->why = "the chain does not end in a Conv, Gemm or MatMul the "
                 "refit knows";
        return TD_OK;
    }
    t->kind = TD_REFIT_GEMM;
    t->trans_b = trans_b != 0;
    t->cout = w->dims[t->trans_b ? 0 : 1];
    t->r = w->dims[t->trans_b ? 1 : 0];
    return TD_OK;
}

td_status td_refit_target_of(td_graph *g, td_graph *orig, const char *y,
                             td_refit_target *t, td_err_t *err)
{
    memset(t, 0, sizeof *t);
    t->y = y;
    int64_t at = y ? td_graph_producer(g, y) : -1;
    if (at < 0 || td_graph_producer(orig, y) < 0) {
        t->why = "its output is not a value of the main graph";
        return TD_OK;
    }
    const Onnx__NodeProto *n = td_graph_node(g, (size_t)at);
    const Onnx__TensorProto *w =
        n->n_input >= 2 ? td_graph_constant(g, n->input[1]) : NULL;
    if (!w) {
        t->why = "the chain's last node has no constant weight";
        return TD_OK;
    }
    t->node = (size_t)at;
    t->z = n->input[0];
    t->dtype = w->data_type;
    if (t->dtype != T(FLOAT) && t->dtype != T(FLOAT16)) {
        t->why = "the factor is neither float nor float16";
        return TD_OK;
    }
    td_status s = classify(n, w, t, err);
    if (s || t->why)
        return s;
    if ((s = read_factor(t, w, err)) ||
        (t->kind != TD_REFIT_MATMUL && (s = read_bias(g, n, t, err))))
        return s;
    if (t->why)
        return TD_OK;
    return td_refit_target_sums(t, t->r, err);
}

td_status td_refit_target_sums(td_refit_target *t, int64_t zdim,
                               td_err_t *err)
{
    td_refit_acc_free(&t->acc);
    td_status s = td_refit_acc_init(&t->acc, t->cout, zdim, err);
    for (size_t f = 0; f < TD_REFIT_FOLDS && !s; f++) {
        td_refit_acc_free(&t->fold[f]);
        s = td_refit_acc_init(&t->fold[f], t->cout, zdim, err);
    }
    return s;
}

/* The layout of one activation of c channels: `outer` blocks of c x inner
 * values, channel stride `cs` and position stride `ps` within a block
 * (a Conv's [N, C, S]: outer N, inner S, cs S, ps 1; a matrix's [P, C]:
 * outer 1, inner P, cs 1, ps C). */
typedef struct layout {
    size_t outer, inner, cs, ps;
} layout;

static int layout_of(const td_array *a, int64_t c, int conv, layout *l)
{
    size_t n = td_array_numel(a);
    if (c < 1 || a->ndim < 2 || n % (size_t)c)
        return 0;
    if (conv) {
        if (a->dims[1] != c)
            return 0;
        l->outer = (size_t)a->dims[0];
        l->inner = l->outer ? n / l->outer / (size_t)c : 0;
        l->cs = l->inner;
        l->ps = 1;
    } else {
        if (a->dims[a->ndim - 1] != c)
            return 0;
        l->outer = 1;
        l->inner = n / (size_t)c;
        l->cs = 1;
        l->ps = (size_t)c;
    }
    return 1;
}

/* out (c x p, channel-major) <- positions [j0, j0 + p) of block b. */
static void gather(const td_array *a, const layout *l, int64_t c, size_t b,
                   size_t j0, size_t p, double *out)
{
    size_t base = b * (size_t)c * l->inner;
    for (int64_t ch = 0; ch < c; ch++)
        for (size_t j = 0; j < p; j++)
            out[(size_t)ch * p + j] =
                td_array_get(a, base + (size_t)ch * l->cs + (j0 + j) * l->ps);
}

td_status td_refit_target_add(td_refit_target *t, const td_array *y,
                              const td_array *z, size_t fold, td_err_t *err)
{
    td_refit_acc *acc = &t->fold[fold % TD_REFIT_FOLDS];
    layout ly, lz;
    int conv = t->kind == TD_REFIT_CONV;
    int64_t r = t->acc.r;   /* cin for the whole chain */
    if (!layout_of(y, t->cout, conv, &ly) || !layout_of(z, r, conv, &lz) ||
        ly.outer != lz.outer || ly.inner != lz.inner) {
        t->why = t->x ? "the original's output and the chain's input do not "
                        "have matching positions"
                      : "the original's output and the chain's inner value "
                        "do not have matching positions";
        return TD_OK;
    }
    double *yb = malloc((size_t)t->cout * REFIT_BLOCK * sizeof *yb);
    double *zb = malloc((size_t)r * REFIT_BLOCK * sizeof *zb);
    if (!yb || !zb) {
        free(yb);
        free(zb);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    for (size_t b = 0; b < ly.outer; b++)
        for (size_t j0 = 0; j0 < ly.inner; j0 += REFIT_BLOCK) {
            size_t p = ly.inner - j0 < REFIT_BLOCK ? ly.inner - j0 : REFIT_BLOCK;
            gather(y, &ly, t->cout, b, j0, p, yb);
            gather(z, &lz, r, b, j0, p, zb);
            td_refit_acc_add(acc, yb, zb, (int64_t)p);
        }
    free(yb);
    free(zb);
    return TD_OK;
}

int td_refit_fits(td_refit_target *t, const double *v, size_t n)
{
    for (size_t q = 0; q < n; q++)
        if (!isfinite(v[q]) ||
            (t->dtype == T(FLOAT16) && fabs(v[q]) > F16_MAX)) {
            t->why = "a refitted value does not fit the layer's dtype";
            return 0;
        }
    return 1;
}

/* A tensor named after base in g's arena holding v in t's dtype; NULL with
 * t->why when a value does not fit it. */
static const char *new_init(td_graph *g, td_refit_target *t, const char *base,
                            const int64_t *dims, size_t nd, const double *v,
                            size_t n, td_status *s, td_err_t *err)
{
    if (!td_refit_fits(t, v, n))
        return NULL;
    const char *nm = td_graph_unique_name(g, base);
    Onnx__TensorProto *tp =
        nm ? td_tensor_from_double(td_graph_arena(g), nm, t->dtype, dims, nd, v)
           : NULL;
    if (!tp || (*s = td_graph_add_init(g, tp, err))) {
        if (!*s)
            *s = td_err_set(err, TD_ENOMEM, "out of memory");
        return NULL;
    }
    return nm;
}

td_status td_refit_replace(td_graph *g, td_refit_target *t, size_t at,
                           const double *wv, size_t nw, const double *b,
                           td_err_t *err)
{
    const Onnx__NodeProto *n = td_graph_node(g, at);
    const Onnx__TensorProto *w = td_graph_constant(g, n->input[1]);
    if (!w)
        return TD_OK;
    td_status s = TD_OK;
    char base[512];
    snprintf(base, sizeof base, "%s_refit", n->input[1]);
    const char *wn = new_init(g, t, base, w->dims, w->n_dims, wv, nw, &s, err);
    const char *bn = NULL;
    if (wn && b) {
        snprintf(base, sizeof base, "%s_refit_b", n->output[0]);
        bn = new_init(g, t, base, &t->cout, 1, b, (size_t)t->cout, &s, err);
    }
    if (!wn || (b && !bn)) {
        if (wn)   /* the bias did not fit: the weight alone is not written */
            td_graph_remove_if_unused(g, wn);
        return s;
    }
    const char *old_w = n->input[1];
    const char *old_b = b && n->n_input >= 3 && n->input[2][0] ? n->input[2]
                                                               : NULL;
    const char *ins[3] = {n->input[0], wn,
                          b ? bn : n->n_input >= 3 ? n->input[2] : NULL};
    size_t nin = b ? 3 : n->n_input >= 3 ? 3 : 2;
    Onnx__NodeProto *nn = td_node_new(g, n->op_type, n->name, ins, nin,
                                      (const char *const *)n->output, 1);
    if (!nn)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    /* the attributes are the old node's, which lives as long as g */
    nn->n_attribute = n->n_attribute;
    nn->attribute = n->attribute;
    if ((s = td_graph_replace_node(g, at, &nn, 1, err)))
        return s;
    td_graph_remove_if_unused(g, old_w);
    if (old_b)
        td_graph_remove_if_unused(g, old_b);
    return TD_OK;
}

td_status td_refit_target_write(td_graph *g, td_refit_target *t,
                                const double *a, const double *b,
                                td_err_t *err)
{
    /* found again by its output: an earlier write may have removed a
     * Constant node (a bias as exporters write it), which moves every
     * later node's index */
    int64_t at = td_graph_producer(g, t->y);
    const Onnx__NodeProto *n = at >= 0 ? td_graph_node(g, (size_t)at) : NULL;
    if (!n || n->n_input < 2 || strcmp(n->input[0], t->z)) {
        t->why = "the chain's last factor is no longer the node that "
                 "produces its output";
        return TD_OK;
    }
    size_t nw = (size_t)(t->cout * t->r);
    double *wv = malloc(nw * sizeof *wv);
    if (!wv)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    td_refit_weight_of(t->kind, t->trans_b, t->alpha, a, t->cout, t->r, wv);
    td_status s = td_refit_replace(g, t, (size_t)at, wv, nw, b, err);
    free(wv);
    return s;
}
