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
    double *mu;     /* n, or NULL: the file has no mean for it */
    int64_t n_mu;
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
        free(s->e[i].mu);
    }
    free(s->e);
    free(s->path);
    td_strmap_free(s->at);
    free(s);
}

const char *td_stats_path(const td_stats *s) { return s->path; }

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

static td_status read_mean(const Onnx__TensorProto *t, struct entry *e,
                           td_err_t *err)
{
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
        t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
        return td_err_set(err, TD_EINPUT, "is %s, not FLOAT or DOUBLE",
                          td_dtype_name(t->data_type));
    if (t->n_dims != 1 || t->dims[0] < 1)
        return td_err_set(err, TD_EINPUT, "must be a vector of C values "
                          "(%zu dims)", t->n_dims);
    if (e->mu)
        return td_err_set(err, TD_EINPUT, "appears twice");
    td_status st = td_tensor_to_double(t, &e->mu, &e->n_mu, err);
    if (st)
        return st;
    for (int64_t q = 0; q < e->n_mu; q++)
        if (!isfinite(e->mu[q]))
            return td_err_set(err, TD_EINPUT, "channel %lld is not finite (%g)",
                              (long long)q, e->mu[q]);
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
        static const char *const prefix[3] = {
            TD_STATS_MOMENT_PREFIX, TD_STATS_MEAN_PREFIX, TD_STATS_COUNT_PREFIX};
        int kind = 0;
        while (kind < 3 && !has_prefix(nm, prefix[kind]))
            kind++;
        if (kind == 3) {
            st = td_err_set(err, TD_EINPUT,
                            "tensor '%s' is not a statistics tensor (names "
                            "start with '" TD_STATS_MOMENT_PREFIX "', '"
                            TD_STATS_MEAN_PREFIX "' or '" TD_STATS_COUNT_PREFIX
                            "')", nm);
            goto cleanup;
        }
        const char *x = nm + strlen(prefix[kind]);
        struct entry *e = entry_for(s, x, ni);
        if (!e) {
            st = td_err_set(err, TD_ENOMEM, "out of memory");
            goto cleanup;
        }
        if ((st = kind == 0   ? read_moment(t, e, err)
                  : kind == 1 ? read_mean(t, e, err)
                              : read_count(t, e, err))) {
            td_err_prefix(err, "tensor '%s': ", nm);
            goto cleanup;
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct entry *e = &s->e[i];
        if (e->mu && e->m && e->n_mu != e->n) {
            st = td_err_set(err, TD_EINPUT,
                            "tensor '" TD_STATS_MEAN_PREFIX "%s' has %lld "
                            "values, but '" TD_STATS_MOMENT_PREFIX "%s' is "
                            "%lld x %lld", e->name, (long long)e->n_mu,
                            e->name, (long long)e->n, (long long)e->n);
            goto cleanup;
        }
        /* E[x]^2 <= E[x^2] channel by channel (float sums: 1e-3 slack; a
         * negative E[x^2] is the moment's fault, refused with it) */
        for (int64_t c = 0; e->mu && e->m && c < e->n; c++) {
            double d = e->m[c * e->n + c];
            if (d >= 0 && e->mu[c] * e->mu[c] > d * (1 + 1e-3) + 1e-30) {
                st = td_err_set(err, TD_EINPUT,
                                "tensor '" TD_STATS_MEAN_PREFIX "%s': channel "
                                "%lld's mean %g does not fit the moment "
                                "(mean^2 > E[x^2] = %g)", e->name,
                                (long long)c, e->mu[c], d);
                goto cleanup;
            }
        }
        if (!e->m || !e->count) {
            st = td_err_set(err, TD_EINPUT, "tensor '%s%s' has no '%s%s'",
                            s->e[i].m ? TD_STATS_MOMENT_PREFIX
                                      : TD_STATS_COUNT_PREFIX,
                            s->e[i].name,
                            s->e[i].m ? TD_STATS_COUNT_PREFIX
                                      : TD_STATS_MOMENT_PREFIX,
                            s->e[i].name);
            goto cleanup;
        }
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
                          const double **m, const double **mu, int64_t *count,
                          td_err_t *err)
{
    *m = NULL;
    *mu = NULL;
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
    *mu = e->mu;
    *count = e->count;
    return TD_OK;
}
