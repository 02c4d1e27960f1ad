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
    double *taps;   /* taps_nsp x taps_lags, or NULL */
    int taps_nsp;
    int64_t taps_lags;
    size_t n_folds;        /* 0: none (a loaded file never has them) */
    double *fold_m;        /* n_folds x n x n */
    double *fold_mu;       /* n_folds x n, or NULL */
    int64_t *fold_count;   /* n_folds */
};

struct td_stats {
    char *path;     /* the file, or the label of statistics gathered here */
    struct entry *e;
    size_t n, cap;
    td_strmap *at;  /* keys are the entries' own names */
};

void td_stats_free(td_stats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].name);
        free(s->e[i].m);
        free(s->e[i].mu);
        free(s->e[i].taps);
        free(s->e[i].fold_m);
        free(s->e[i].fold_mu);
        free(s->e[i].fold_count);
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
static struct entry *entry_for(td_stats *s, const char *x)
{
    int64_t i = td_strmap_get(s->at, x);
    if (i >= 0)
        return &s->e[i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        struct entry *g = cap < s->cap ? NULL : realloc(s->e, cap * sizeof *g);
        if (!g)
            return NULL;
        s->e = g;
        s->cap = cap;
    }
    struct entry *e = &s->e[s->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(x)) || td_strmap_put(s->at, e->name, (int64_t)s->n))
        return NULL;
    s->n++;
    return e;
}

/* Statistics are FLOAT or DOUBLE tensors (the runtime's sums, or ours). */
static td_status float_or_double(const Onnx__TensorProto *t, td_err_t *err)
{
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
        t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
        return td_err_set(err, TD_EINPUT, "is %s, not FLOAT or DOUBLE",
                          td_dtype_name(t->data_type));
    return TD_OK;
}

static td_status read_moment(const Onnx__TensorProto *t, struct entry *e,
                             td_err_t *err)
{
    if (float_or_double(t, err))
        return TD_EINPUT;
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
    if (float_or_double(t, err))
        return TD_EINPUT;
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

/* What a tap autocorrelation must be, however it came. */
static td_status check_taps(const double *v, int nsp, int64_t lags,
                            td_err_t *err)
{
    for (int r = 0; r < nsp; r++)
        for (int64_t t = 0; t < lags; t++) {
            double x = v[(size_t)r * (size_t)lags + (size_t)t];
            if (!isfinite(x))
                return td_err_set(err, TD_EINPUT, "entry (%d, %lld) is not "
                                  "finite (%g)", r, (long long)t, x);
            if (t == 0 && x < 0)
                return td_err_set(err, TD_EINPUT, "axis %d's lag 0 (an "
                                  "energy) is negative (%g)", r, x);
        }
    return TD_OK;
}

static td_status read_taps(const Onnx__TensorProto *t, struct entry *e,
                           td_err_t *err)
{
    if (float_or_double(t, err))
        return TD_EINPUT;
    if (t->n_dims != 2 || t->dims[0] < 1 || t->dims[0] > 3 || t->dims[1] < 1)
        return td_err_set(err, TD_EINPUT, "must be spatial axes (1 to 3) x "
                          "lags (%zu dims)", t->n_dims);
    if (e->taps)
        return td_err_set(err, TD_EINPUT, "appears twice");
    int64_t numel;
    td_status st = td_tensor_to_double(t, &e->taps, &numel, err);
    if (st)
        return st;
    e->taps_nsp = (int)t->dims[0];
    e->taps_lags = t->dims[1];
    return check_taps(e->taps, e->taps_nsp, e->taps_lags, err);
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

/* What holds across one tensor's statistics, wherever they came from. */
static td_status check_entry(const struct entry *e, td_err_t *err)
{
    if (e->mu && e->m && e->n_mu != e->n)
        return td_err_set(err, TD_EINPUT,
                          "tensor '" TD_STATS_MEAN_PREFIX "%s' has %lld "
                          "values, but '" TD_STATS_MOMENT_PREFIX "%s' is "
                          "%lld x %lld", e->name, (long long)e->n_mu,
                          e->name, (long long)e->n, (long long)e->n);
    /* E[x]^2 <= E[x^2] channel by channel (float sums: 1e-3 slack; a
     * negative E[x^2] is the moment's fault, refused with it) */
    for (int64_t c = 0; e->mu && e->m && c < e->n; c++) {
        double d = e->m[c * e->n + c];
        if (d >= 0 && e->mu[c] * e->mu[c] > d * (1 + 1e-3) + 1e-30)
            return td_err_set(err, TD_EINPUT,
                              "tensor '" TD_STATS_MEAN_PREFIX "%s': channel "
                              "%lld's mean %g does not fit the moment "
                              "(mean^2 > E[x^2] = %g)", e->name,
                              (long long)c, e->mu[c], d);
    }
    if (!e->m || !e->count)
        return td_err_set(err, TD_EINPUT, "tensor '%s%s' has no '%s%s'",
                          e->m ? TD_STATS_MOMENT_PREFIX : TD_STATS_COUNT_PREFIX,
                          e->name,
                          e->m ? TD_STATS_COUNT_PREFIX : TD_STATS_MOMENT_PREFIX,
                          e->name);
    return TD_OK;
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
    s->at = td_strmap_new(ni);
    if (!s->at) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < ni; i++) {
        const Onnx__TensorProto *t = td_graph_init(g, i);
        const char *nm = t->name ? t->name : "";
        static const char *const prefix[4] = {
            TD_STATS_MOMENT_PREFIX, TD_STATS_MEAN_PREFIX, TD_STATS_COUNT_PREFIX,
            TD_STATS_TAPS_PREFIX};
        int kind = 0;
        while (kind < 4 && !has_prefix(nm, prefix[kind]))
            kind++;
        if (kind == 4) {
            st = td_err_set(err, TD_EINPUT,
                            "tensor '%s' is not a statistics tensor (names "
                            "start with '" TD_STATS_MOMENT_PREFIX "', '"
                            TD_STATS_MEAN_PREFIX "', '" TD_STATS_COUNT_PREFIX
                            "' or '" TD_STATS_TAPS_PREFIX "')", nm);
            goto cleanup;
        }
        const char *x = nm + strlen(prefix[kind]);
        struct entry *e = entry_for(s, x);
        if (!e) {
            st = td_err_set(err, TD_ENOMEM, "out of memory");
            goto cleanup;
        }
        if ((st = kind == 0   ? read_moment(t, e, err)
                  : kind == 1 ? read_mean(t, e, err)
                  : kind == 2 ? read_count(t, e, err)
                              : read_taps(t, e, err))) {
            td_err_prefix(err, "tensor '%s': ", nm);
            goto cleanup;
        }
    }
    for (size_t i = 0; i < s->n; i++)
        if ((st = check_entry(&s->e[i], err)))
            goto cleanup;
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

void td_stats_taps(const td_stats *s, const char *name, const double **acf,
                   int *nsp, int64_t *lags)
{
    int64_t i = td_strmap_get(s->at, name);
    const struct entry *e = i >= 0 ? &s->e[i] : NULL;
    *acf = e ? e->taps : NULL;
    *nsp = e && e->taps ? e->taps_nsp : 0;
    *lags = e && e->taps ? e->taps_lags : 0;
}

td_status td_stats_new(const char *label, td_stats **out, td_err_t *err)
{
    *out = NULL;
    td_stats *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(label)) || !(s->at = td_strmap_new(16))) {
        td_stats_free(s);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    *out = s;
    return TD_OK;
}

td_status td_stats_add(td_stats *s, const char *name, int64_t n,
                       double *moment, double *mean, int64_t count,
                       td_err_t *err)
{
    if (td_strmap_get(s->at, name) >= 0) {
        free(moment);
        free(mean);
        return td_err_set(err, TD_EINPUT, "%s: tensor '%s' added twice",
                          s->path, name);
    }
    struct entry *e = entry_for(s, name);
    if (!e) {
        free(moment);
        free(mean);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    e->n = n;
    e->m = moment;
    e->mu = mean;
    e->n_mu = mean ? n : 0;
    e->count = count > 0 ? count : 0;
    td_status st = TD_OK;
    for (int64_t q = 0; q < n * n && !st; q++)
        if (!isfinite(moment[q]))
            st = td_err_set(err, TD_EINPUT, "tensor '" TD_STATS_MOMENT_PREFIX
                            "%s': entry (%lld, %lld) is not finite (%g)", name,
                            (long long)(q / n), (long long)(q % n), moment[q]);
    for (int64_t q = 0; mean && q < n && !st; q++)
        if (!isfinite(mean[q]))
            st = td_err_set(err, TD_EINPUT, "tensor '" TD_STATS_MEAN_PREFIX
                            "%s': channel %lld is not finite (%g)", name,
                            (long long)q, mean[q]);
    if (!st)
        st = check_entry(e, err);
    if (st)
        td_err_prefix(err, "%s: ", s->path);
    /* a refused entry stays (freed with s): s is not used after an error */
    return st;
}

td_status td_stats_add_taps(td_stats *s, const char *name, double *acf,
                            int nsp, int64_t lags, td_err_t *err)
{
    int64_t i = td_strmap_get(s->at, name);
    if (i < 0 || s->e[i].taps || nsp < 1 || nsp > 3 || lags < 1) {
        free(acf);
        return td_err_set(err, TD_EINPUT, "%s: tensor '" TD_STATS_TAPS_PREFIX
                          "%s' without its moment, twice, or of no axes",
                          s->path, name);
    }
    struct entry *e = &s->e[i];
    e->taps = acf;
    e->taps_nsp = nsp;
    e->taps_lags = lags;
    td_status st = check_taps(acf, nsp, lags, err);
    if (st)
        td_err_prefix(err, "%s: tensor '" TD_STATS_TAPS_PREFIX "%s': ",
                      s->path, name);
    return st;
}

td_status td_stats_add_folds(td_stats *s, const char *name, size_t k,
                             double *m, double *mu, int64_t *count,
                             td_err_t *err)
{
    int64_t i = td_strmap_get(s->at, name);
    if (i < 0 || s->e[i].n_folds || k < 1 || (!mu) != (!s->e[i].mu)) {
        free(m);
        free(mu);
        free(count);
        return td_err_set(err, TD_EINPUT, "%s: folds of tensor '%s' without "
                          "its moment, twice, none, or with means where it "
                          "has none", s->path, name);
    }
    struct entry *e = &s->e[i];
    e->n_folds = k;
    e->fold_m = m;
    e->fold_mu = mu;
    e->fold_count = count;
    size_t nn = (size_t)(e->n * e->n);
    for (size_t f = 0; f < k; f++) {
        for (size_t q = 0; q < nn; q++)
            if (!isfinite(m[f * nn + q]))
                return td_err_set(err, TD_EINPUT, "%s: tensor '%s': fold %zu's "
                                  "moment entry %zu is not finite", s->path,
                                  name, f, q);
        for (int64_t q = 0; mu && q < e->n; q++)
            if (!isfinite(mu[f * (size_t)e->n + (size_t)q]))
                return td_err_set(err, TD_EINPUT, "%s: tensor '%s': fold %zu's "
                                  "mean of channel %lld is not finite",
                                  s->path, name, f, (long long)q);
        if (count[f] < 0)
            return td_err_set(err, TD_EINPUT, "%s: tensor '%s': fold %zu has "
                              "a negative count", s->path, name, f);
    }
    return TD_OK;
}

int td_stats_have_folds(const td_stats *s)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (s->e[i].n_folds)
            return 1;
    return 0;
}

size_t td_stats_folds(const td_stats *s, const char *name, const double **m,
                      const double **mu, const int64_t **count)
{
    int64_t i = td_strmap_get(s->at, name);
    const struct entry *e = i >= 0 ? &s->e[i] : NULL;
    *m = e ? e->fold_m : NULL;
    *mu = e ? e->fold_mu : NULL;
    *count = e ? e->fold_count : NULL;
    return e ? e->n_folds : 0;
}

td_status td_stats_entry(const td_stats *s, size_t i, const char **name,
                         int64_t *n, const double **m, const double **mu,
                         int64_t *count)
{
    if (i >= s->n)
        return TD_EUSAGE;
    const struct entry *e = &s->e[i];
    *name = e->name;
    *n = e->n;
    *m = e->m;
    *mu = e->mu;
    *count = e->count;
    return TD_OK;
}
