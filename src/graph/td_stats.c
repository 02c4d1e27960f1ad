/* Reading the activation-statistics container; see td_stats.h. */
#include "td_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "td_model.h"
#include "td_tensor.h"
#include "util/td_strmap.h"

struct entry {
    char *name;     /* the calibrated tensor X */
    int64_t n;      /* channels */
    double *m;      /* n x n */
    int64_t count;  /* 0 until its count tensor is seen */
};

struct td_stats {
    char *path;
    struct entry *e;
    size_t n;
    td_strmap *at;
};

void td_stats_free(td_stats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].name);
        free(s->e[i].m);
    }
    free(s->e);
    free(s->path);
    td_strmap_free(s->at);
    free(s);
}

const char *td_stats_path(const td_stats *s) { return s->path; }
size_t td_stats_count(const td_stats *s) { return s->n; }

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* The entry for tensor x, created when new; NULL when out of memory. */
static struct entry *entry_for(td_stats *s, const char *x, size_t cap)
{
    int64_t i = td_strmap_get(s->at, x);
    if (i >= 0)
        return &s->e[i];
    if (s->n >= cap)
        return NULL;
    struct entry *e = &s->e[s->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(x)) || td_strmap_put(s->at, e->name, (int64_t)s->n))
        return NULL;
    s->n++;
    return e;
}

static td_status read_moment(const Onnx__TensorProto *t, struct entry *e,
                             td_err_t *err)
{
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
        t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
        return td_err_set(err, TD_EINPUT, "is %s, not FLOAT or DOUBLE",
                          td_dtype_name(t->data_type));
    if (t->n_dims != 2 || t->dims[0] != t->dims[1] || t->dims[0] < 1)
        return td_err_set(err, TD_EINPUT,
                          "must be a square C x C matrix (%zu dims)",
                          t->n_dims);
    if (e->m)
        return td_err_set(err, TD_EINPUT, "appears twice");
    int64_t numel;
    td_status st = td_tensor_to_double(t, &e->m, &numel, err);
    if (st)
        return st;
    e->n = t->dims[0];
    for (int64_t q = 0; q < numel; q++)
        if (!isfinite(e->m[q]))
            return td_err_set(err, TD_EINPUT,
                              "entry (%lld, %lld) is not finite (%g)",
                              (long long)(q / e->n), (long long)(q % e->n),
                              e->m[q]);
    return TD_OK;
}

static td_status read_count(const Onnx__TensorProto *t, struct entry *e,
                            td_err_t *err)
{
    double *v = NULL;
    int64_t numel = 0;
    if (e->count)
        return td_err_set(err, TD_EINPUT, "appears twice");
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
        return td_err_set(err, TD_EINPUT, "is %s, not INT64",
                          td_dtype_name(t->data_type));
    td_status st = td_tensor_to_double(t, &v, &numel, err);
    if (st)
        return st;
    if (numel != 1 || !(v[0] >= 1))
        st = td_err_set(err, TD_EINPUT,
                        "must hold one positive sample count");
    else
        e->count = (int64_t)v[0];
    free(v);
    return st;
}

td_status td_stats_load(const char *path, td_stats **out, td_err_t *err)
{
    *out = NULL;
    td_model *model = NULL;
    int loaded = 0;  /* td_model_load names the file itself */
    td_stats *s = calloc(1, sizeof *s);
    td_status st;
    if (!s || !(s->path = strdup(path))) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = td_model_load(path, NULL, &model, err)))
        goto cleanup;
    loaded = 1;
    td_graph *g = td_model_graph(model);
    size_t ni = td_graph_init_count(g);
    s->e = calloc(ni ? ni : 1, sizeof *s->e);
    s->at = td_strmap_new(ni);
    if (!s->e || !s->at) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < ni; i++) {
        const Onnx__TensorProto *t = td_graph_init(g, i);
        const char *nm = t->name ? t->name : "";
        int moment = has_prefix(nm, TD_STATS_MOMENT_PREFIX);
        if (!moment && !has_prefix(nm, TD_STATS_COUNT_PREFIX)) {
            st = td_err_set(err, TD_EINPUT,
                            "tensor '%s' is not a statistics tensor (names "
                            "start with '" TD_STATS_MOMENT_PREFIX "' or '"
                            TD_STATS_COUNT_PREFIX "')", nm);
            goto cleanup;
        }
        const char *x = nm + strlen(moment ? TD_STATS_MOMENT_PREFIX
                                           : TD_STATS_COUNT_PREFIX);
        struct entry *e = entry_for(s, x, ni);
        if (!e) {
            st = td_err_set(err, TD_ENOMEM, "out of memory");
            goto cleanup;
        }
        if ((st = moment ? read_moment(t, e, err) : read_count(t, e, err))) {
            td_err_prefix(err, "tensor '%s': ", nm);
            goto cleanup;
        }
    }
    for (size_t i = 0; i < s->n; i++)
        if (!s->e[i].m || !s->e[i].count) {
            st = td_err_set(err, TD_EINPUT, "tensor '%s%s' has no '%s%s'",
                            s->e[i].m ? TD_STATS_MOMENT_PREFIX
                                      : TD_STATS_COUNT_PREFIX,
                            s->e[i].name,
                            s->e[i].m ? TD_STATS_COUNT_PREFIX
                                      : TD_STATS_MOMENT_PREFIX,
                            s->e[i].name);
            goto cleanup;
        }
    if (s->n == 0) {
        st = td_err_set(err, TD_EINPUT, "holds no statistics tensors");
        goto cleanup;
    }
    st = TD_OK;
cleanup:
    td_model_free(model);
    if (st) {
        if (loaded)
            td_err_prefix(err, "%s: ", path);
        td_stats_free(s);
        return st;
    }
    *out = s;
    return TD_OK;
}

td_status td_stats_moment(const td_stats *s, const char *name, int64_t n,
                          const double **m, int64_t *count, td_err_t *err)
{
    *m = NULL;
    *count = 0;
    int64_t i = td_strmap_get(s->at, name);
    if (i < 0)
        return TD_OK;
    const struct entry *e = &s->e[i];
    if (e->n != n)
        return td_err_set(err, TD_EINPUT,
                          "%s: tensor '" TD_STATS_MOMENT_PREFIX "%s' is %lld x "
                          "%lld, but '%s' has %lld channels",
                          s->path, name, (long long)e->n, (long long)e->n,
                          name, (long long)n);
    *m = e->m;
    *count = e->count;
    return TD_OK;
}
