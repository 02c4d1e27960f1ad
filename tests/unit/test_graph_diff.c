/* Model diff: tensor comparison by value (representation-independent),
 * then whole models from the corpus edited through the IR. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/td_diff.h"
#include "graph/td_diff_internal.h"
#include "graph/td_model.h"
#include "graph/td_tensor.h"
#include "tcheck.h"

#define DT(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

static void test_tensor_compare(void)
{
    td_arena *a = td_arena_new();
    td_err_t err = {0};
    tensor_cmp r;
    int64_t dims[2] = {2, 3};
    double v[6] = {1, 2, 3, 4, 5, 6};
    Onnx__TensorProto *raw = td_tensor_from_double(a, "w", DT(FLOAT), dims, 2, v);

    /* the same values in float_data instead of raw_data, another name */
    float f[6] = {1, 2, 3, 4, 5, 6};
    Onnx__TensorProto typed = *raw;
    typed.name = "other";
    typed.has_raw_data = 0;
    typed.raw_data.len = 0;
    typed.raw_data.data = NULL;
    typed.n_float_data = 6;
    typed.float_data = f;
    CHECK(diff_tensor(raw, &typed, NULL, &r, &err) == TD_OK);
    CHECK(r.same && r.numeric && r.n_diff == 0);

    f[4] = 5.25f;
    f[1] = 1.0f;
    CHECK(diff_tensor(raw, &typed, NULL, &r, &err) == TD_OK);
    CHECK(!r.same && r.numeric && r.n_diff == 2);
    CHECK(fabs(r.max_abs_diff - 1.0) < 1e-12);

    /* NaN equals NaN; NaN against a number is an infinite difference */
    double vn[6] = {NAN, 2, 3, 4, 5, 6};
    Onnx__TensorProto *n1 = td_tensor_from_double(a, "n", DT(FLOAT), dims, 2, vn);
    Onnx__TensorProto *n2 = td_tensor_from_double(a, "n", DT(FLOAT), dims, 2, vn);
    CHECK(diff_tensor(n1, n2, NULL, &r, &err) == TD_OK && r.same);
    CHECK(diff_tensor(n1, raw, NULL, &r, &err) == TD_OK && !r.same);
    CHECK(isinf(r.max_abs_diff) && r.n_diff == 1);

    /* dtype and shape changes */
    Onnx__TensorProto *dbl = td_tensor_from_double(a, "w", DT(DOUBLE), dims, 2, v);
    CHECK(diff_tensor(raw, dbl, NULL, &r, &err) == TD_OK);
    CHECK(!r.same && !r.dtype_same && r.numeric && r.max_abs_diff == 0);
    int64_t dims2[2] = {3, 2};
    Onnx__TensorProto *tr = td_tensor_from_double(a, "w", DT(FLOAT), dims2, 2, v);
    CHECK(diff_tensor(raw, tr, NULL, &r, &err) == TD_OK);
    CHECK(!r.same && !r.shape_same && r.dtype_same);

    /* int64 beyond 2^53 differs although the doubles would not */
    int64_t d1 = 1;
    int64_t big1 = (int64_t)1 << 60, big2 = big1 + 1;
    Onnx__TensorProto *i1 = td_tensor_from_int64(a, "i", &d1, 1, &big1);
    Onnx__TensorProto *i2 = td_tensor_from_int64(a, "i", &d1, 1, &big2);
    CHECK(diff_tensor(i1, i2, NULL, &r, &err) == TD_OK);
    CHECK(!r.same && r.n_diff == 1);

    /* with a tolerance: the int64 distance is exact (doubles round both
     * to 2^60), |a - b| <= atol + rtol * |b| with b the second tensor */
    td_diff_opts tol = {1, 0, 0}, half = {0.5, 0, 0};
    CHECK(diff_tensor(i1, i2, &tol, &r, &err) == TD_OK && r.same);
    CHECK(r.max_abs_diff == 1);
    CHECK(diff_tensor(i1, i2, &half, &r, &err) == TD_OK && !r.same);
    f[4] = 5.25f;  /* typed is now {1, 1, 3, 4, 5.25, 6}: diffs 1, 0.25 */
    CHECK(diff_tensor(raw, &typed, &tol, &r, &err) == TD_OK && r.same);
    CHECK(diff_tensor(raw, &typed, &half, &r, &err) == TD_OK);
    CHECK(!r.same && r.n_diff == 1 && r.max_abs_diff == 1);
    CHECK(fabs(r.max_rel_diff - 1.0) < 1e-12);  /* |2 - 1| / |1| */
    td_diff_opts rel = {0, 0.05, 0};  /* 0.25 <= 0.05 * 5.25, 1 > 0.05 */
    CHECK(diff_tensor(raw, &typed, &rel, &r, &err) == TD_OK && r.n_diff == 1);
    /* swapped, |b| is 2 and 5: 1 > 0.1 still, 0.25 <= 0.25 */
    CHECK(diff_tensor(&typed, raw, &rel, &r, &err) == TD_OK && r.n_diff == 1);
    /* NaN: never within any tolerance against a number */
    td_diff_opts huge = {1e300, 1, 0};
    CHECK(diff_tensor(n1, raw, &huge, &r, &err) == TD_OK && !r.same);
    CHECK(diff_tensor(n1, n2, &huge, &r, &err) == TD_OK && r.same);
    double vi[6] = {INFINITY, 2, 3, 4, 5, 6};
    Onnx__TensorProto *inf =
        td_tensor_from_double(a, "i", DT(FLOAT), dims, 2, vi);
    CHECK(diff_tensor(inf, raw, &huge, &r, &err) == TD_OK && !r.same);
    CHECK(diff_tensor(inf, inf, NULL, &r, &err) == TD_OK && r.same);
    td_arena_free(a);
}

/* A copy of node n with one ints attribute replaced (arena-built: the
 * loaded messages are never modified). */
static Onnx__NodeProto *with_ints(td_arena *a, const Onnx__NodeProto *n,
                                  const char *attr, const int64_t *v,
                                  size_t count)
{
    Onnx__NodeProto *cp = td_arena_memdup(a, n, sizeof *n);
    cp->attribute = td_arena_calloc(a, n->n_attribute + 1,
                                    sizeof *cp->attribute);
    for (size_t i = 0; i < n->n_attribute; i++) {
        cp->attribute[i] = n->attribute[i];
        if (!strcmp(n->attribute[i]->name, attr)) {
            Onnx__AttributeProto *at =
                td_arena_memdup(a, n->attribute[i], sizeof *at);
            at->ints = td_arena_memdup(a, v, count * sizeof *v);
            at->n_ints = count;
            cp->attribute[i] = at;
        }
    }
    return cp;
}

static char *diff(td_model *x, td_model *y, int json, int *differ)
{
    char *rep = NULL;
    td_err_t err = {0};
    CHECK_MSG(td_diff_models(x, y, json, &rep, differ, &err) == TD_OK, "%s",
              err.msg);
    return rep;
}

static void test_models(void)
{
    const char *path = "/usr/share/libonnx-testdata/data/pytorch-converted/"
                       "test_Conv2d_strided/model.onnx";
    td_model *a = NULL, *b = NULL;
    td_err_t err = {0};
    if (td_model_load(path, NULL, &a, &err) != TD_OK) {
        fprintf(stderr, "%s not installed: model tests skipped\n", path);
        return;
    }
    CHECK(td_model_load(path, NULL, &b, &err) == TD_OK);
    int differ = -1;
    char *rep = diff(a, b, 1, &differ);
    CHECK(differ == 0);
    CHECK(rep && strstr(rep, "\"same\":true"));
    free(rep);

    /* one attribute changed on the (unnamed) Conv */
    td_graph *g = td_model_graph(b);
    td_arena *ar = td_model_arena(b);
    const Onnx__NodeProto *conv = td_graph_node(g, 0);
    Onnx__NodeProto *cp = with_ints(ar, conv, "strides", (int64_t[]){1, 2}, 2);
    CHECK(td_graph_replace_node(g, 0, &cp, 1, &err) == TD_OK);
    rep = diff(a, b, 1, &differ);
    CHECK(differ == 1);
    CHECK(rep && strstr(rep, "\"attr\":\"strides\""));
    CHECK(rep && strstr(rep, "\"a\":\"[2, 2]\",\"b\":\"[1, 2]\""));
    free(rep);
    rep = diff(a, b, 0, &differ);
    CHECK(rep && strstr(rep, "node #0 (Conv): attribute strides: [2, 2] -> "
                             "[1, 2]"));
    free(rep);

    /* a new initializer, and the node reading it instead of the bias */
    double v[4] = {1, 2, 3, 4};
    int64_t d = 4;
    Onnx__TensorProto *t = td_tensor_from_double(ar, "bias2", DT(FLOAT), &d, 1, v);
    CHECK(td_graph_add_init(g, t, &err) == TD_OK);
    cp = td_arena_memdup(ar, cp, sizeof *cp);
    char **ins = td_arena_memdup(ar, cp->input, cp->n_input * sizeof *ins);
    ins[2] = "bias2";
    cp->input = ins;
    CHECK(td_graph_replace_node(g, 0, &cp, 1, &err) == TD_OK);
    rep = diff(a, b, 0, &differ);
    CHECK(differ == 1);
    CHECK(rep && strstr(rep, "initializer 'bias2' added: FLOAT [4]"));
    CHECK(rep && strstr(rep, "node #0 (Conv): input[2]: 2 -> bias2"));
    free(rep);

    /* the reverse direction reports removals */
    rep = diff(b, a, 1, &differ);
    CHECK(rep && strstr(rep, "\"removed\":[{\"name\":\"bias2\""));
    free(rep);
    td_model_free(a);
    td_model_free(b);
}

int main(void)
{
    test_tensor_compare();
    test_models();
    return TCHECK_DONE();
}
