/* Gathering activation statistics in the process; see td_calib.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/td_calib.h"

#define GRAM "gram/"
#define SUM "sum/"
#define ROWS "rows/"
#define TAPS TD_STATS_TAPS_PREFIX

void td_calib_holdout(size_t n, size_t k, unsigned char *held)
{
    /* k blocks [j n / k, (j + 1) n / k); block j gives its element at
     * offset j mod its length, moved by one within the block where that
     * makes its index's parity j's. The offsets step through the blocks
     * and the parities alternate, so inputs that alternate (a class per
     * other input) are not all held out from one class, as a fixed stride
     * of n / k holds them when n / k is even. */
    memset(held, 0, n);
    for (size_t j = 0; j < k; j++) {
        size_t lo = j * n / k, len = (j + 1) * n / k - lo;
        size_t i = lo + j % len;
        if (len > 1 && i % 2 != j % 2)
            i = i + 1 < lo + len ? i + 1 : i - 1;
        held[i] = 1;
    }
}

size_t td_calib_default_holdout(size_t n)
{
    return n >= 2 ? (n + 3) / 4 : 0;
}

/* The sums of one calibrated tensor X over the runs so far. */
struct acc {
    const char *x;            /* borrowed from the session's output name */
    size_t gram, sum, rows;   /* output indices */
    int has_sum;
    size_t taps;              /* its taps/X output, with has_taps */
    int has_taps;
    double *t;                /* taps: sum over runs, tn values */
    size_t tn;
    int64_t t_nsp, t_runs;
    int64_t c;                /* channels, from the first run */
    double *g, *s;            /* c x c and c */
    int64_t count;
    /* per fold (with folds): the same sums, k x c x c, k x c, k */
    double *gf, *sf;
    int64_t *cf;
};

/* Pairs every gram/X output with its rows/X (required) and sum/X. */
static td_status find_outputs(const td_rt_session *ses, struct acc **out,
                              size_t *n_out, td_err_t *err)
{
    size_t no = td_rt_n_outputs(ses), n = 0;
    struct acc *a = calloc(no ? no : 1, sizeof *a);
    if (!a)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t i = 0; i < no; i++) {
        const char *nm = td_rt_output(ses, i)->name;
        if (strncmp(nm, GRAM, strlen(GRAM)))
            continue;
        struct acc *e = &a[n++];
        e->x = nm + strlen(GRAM);
        e->gram = i;
        int have_rows = 0;
        for (size_t k = 0; k < no; k++) {
            const char *o = td_rt_output(ses, k)->name;
            if (!strncmp(o, ROWS, strlen(ROWS)) && !strcmp(o + strlen(ROWS), e->x))
                e->rows = k, have_rows = 1;
            if (!strncmp(o, SUM, strlen(SUM)) && !strcmp(o + strlen(SUM), e->x))
                e->sum = k, e->has_sum = 1;
            if (!strncmp(o, TAPS, strlen(TAPS)) && !strcmp(o + strlen(TAPS), e->x))
                e->taps = k, e->has_taps = 1;
        }
        if (!have_rows) {
            td_err_set(err, TD_EINPUT, "the statistics model has '%s' but no "
                       "'" ROWS "%s'", nm, nm + strlen(GRAM));
            free(a);
            return TD_EINPUT;
        }
    }
    *out = a;
    *n_out = n;
    return TD_OK;
}

/* Adds one run's statistics of X. */
static td_status add_run(struct acc *e, const td_array *gram,
                         const td_array *sum, const td_array *rows,
                         size_t folds, size_t fold, const char *sample,
                         td_err_t *err)
{
    if (rows->dtype != TD_DT_INT64 || td_array_numel(rows) != 2)
        return td_err_set(err, TD_EINPUT, "%s: '" ROWS "%s' is not an int64 "
                          "[positions, C] pair", sample, e->x);
    const int64_t *rc = rows->data;
    int64_t c = rc[1];
    if (gram->dtype != TD_DT_FLOAT || gram->ndim != 2 || gram->dims[0] != c ||
        gram->dims[1] != c || rc[0] < 0 ||
        (sum && (sum->dtype != TD_DT_FLOAT || td_array_numel(sum) != (size_t)c)))
        return td_err_set(err, TD_EINPUT, "%s: the statistics of '%s' do not "
                          "have the shapes " ROWS "%s says (%lld channels)",
                          sample, e->x, e->x, (long long)c);
    if (!e->g) {
        size_t cc;
        if (c < 1 || td_mul_size((size_t)c, (size_t)c, &cc))
            return td_err_set(err, TD_EINPUT, "%s: '%s' has %lld channels",
                              sample, e->x, (long long)c);
        e->c = c;
        e->g = calloc(cc, sizeof *e->g);
        e->s = sum ? calloc((size_t)c, sizeof *e->s) : NULL;
        if (!e->g || (sum && !e->s))
            return td_err_set(err, TD_ENOMEM, "out of memory");
        size_t kcc;
        if (folds && (td_mul_size(cc, folds, &kcc) ||
                      !(e->gf = calloc(kcc, sizeof *e->gf)) ||
                      (sum && !(e->sf = calloc(folds * (size_t)c,
                                               sizeof *e->sf))) ||
                      !(e->cf = calloc(folds, sizeof *e->cf))))
            return td_err_set(err, TD_ENOMEM, "out of memory (the "
                              "statistics of %zu folds of '%s')", folds, e->x);
    } else if (e->c != c) {
        return td_err_set(err, TD_EINPUT, "%s: '%s' has %lld channels, the "
                          "samples before %lld", sample, e->x, (long long)c,
                          (long long)e->c);
    }
    /* the runtime's float sums of one run, accumulated across runs in
     * double (as calib_stats.js does), so many runs lose nothing more */
    const float *g = gram->data;
    for (size_t q = 0; q < (size_t)(c * c); q++)
        e->g[q] += (double)g[q];
    if (e->s && sum) {
        const float *s = sum->data;
        for (int64_t q = 0; q < c; q++)
            e->s[q] += (double)s[q];
    }
    if (e->gf) {
        double *gf = e->gf + fold * (size_t)(c * c);
        for (size_t q = 0; q < (size_t)(c * c); q++)
            gf[q] += (double)g[q];
        if (e->sf && sum) {
            const float *s = sum->data;
            for (int64_t q = 0; q < c; q++)
                e->sf[fold * (size_t)c + (size_t)q] += (double)s[q];
        }
        e->cf[fold] += rc[0];
    }
    if (__builtin_add_overflow(e->count, rc[0], &e->count))
        return td_err_set(err, TD_EINPUT, "'%s': position count overflows",
                          e->x);
    return TD_OK;
}

/* Adds one run's tap autocorrelation of X. A lag with no positions (a map
 * narrower than the kernel) gives NaN: then X's taps are dropped, and its
 * layers weigh their taps as uncorrelated. */
static td_status add_taps(struct acc *e, const td_array *t, const char *sample,
                          td_err_t *err)
{
    if (!t || !e->has_taps)
        return TD_OK;
    if (t->dtype != TD_DT_FLOAT || t->ndim != 2 || t->dims[0] < 1 ||
        t->dims[0] > 3 || t->dims[1] < 1 ||
        (e->t && (t->dims[0] != e->t_nsp || td_array_numel(t) != e->tn)))
        return td_err_set(err, TD_EINPUT, "%s: '" TAPS "%s' is not the "
                          "[axes, lags] float matrix of the runs before",
                          sample, e->x);
    const float *v = t->data;
    size_t n = td_array_numel(t);
    for (size_t q = 0; q < n; q++)
        if (!isfinite(v[q])) {
            free(e->t);
            e->t = NULL;
            e->has_taps = 0;
            return TD_OK;
        }
    if (!e->t) {
        if (!(e->t = calloc(n, sizeof *e->t)))
            return td_err_set(err, TD_ENOMEM, "out of memory");
        e->tn = n;
        e->t_nsp = t->dims[0];
    }
    for (size_t q = 0; q < n; q++)
        e->t[q] += (double)v[q];
    e->t_runs++;
    return TD_OK;
}

/* The sums as statistics: divided by the positions, checked, handed over. */
static td_status finish(struct acc *a, size_t n, size_t folds,
                        const char *label, td_stats **out, td_err_t *err)
{
    td_stats *st = NULL;
    td_status s = td_stats_new(label, &st, err);
    for (size_t i = 0; i < n && !s; i++) {
        struct acc *e = &a[i];
        if (!e->count) {
            s = td_err_set(err, TD_EINPUT, "%s: tensor '%s' had no positions "
                           "in any sample", label, e->x);
            break;
        }
        for (size_t q = 0; q < (size_t)(e->c * e->c); q++) {
            if (!isfinite(e->g[q])) {
                s = td_err_set(err, TD_EINPUT, "%s: tensor '%s': the sums "
                               "overflowed or hold NaN (entry %zu)", label,
                               e->x, q);
                break;
            }
            e->g[q] /= (double)e->count;
        }
        for (int64_t q = 0; !s && e->s && q < e->c; q++)
            e->s[q] /= (double)e->count;
        if (s)
            break;
        /* calib_stats.js divides the same way (sum / count): the same
         * rounding, so the two routes agree to the last bit or nearly */
        s = td_stats_add(st, e->x, e->c, e->g, e->s, e->count, err);
        e->g = e->s = NULL;
        if (!s && e->gf) {
            size_t cc = (size_t)(e->c * e->c);
            for (size_t f = 0; f < folds; f++) {
                double d = e->cf[f] > 0 ? (double)e->cf[f] : 1;
                for (size_t q = 0; q < cc; q++)
                    e->gf[f * cc + q] /= d;
                for (int64_t q = 0; e->sf && q < e->c; q++)
                    e->sf[f * (size_t)e->c + (size_t)q] /= d;
            }
            s = td_stats_add_folds(st, e->x, folds, e->gf, e->sf, e->cf, err);
            e->gf = e->sf = NULL;
            e->cf = NULL;
        }
        if (!s && e->t) {  /* kept only while every run gave finite taps */
            /* each run's value is a mean already: their mean */
            for (size_t q = 0; q < e->tn; q++)
                e->t[q] /= (double)e->t_runs;
            s = td_stats_add_taps(st, e->x, e->t, (int)e->t_nsp,
                                  (int64_t)(e->tn / (size_t)e->t_nsp), err);
            e->t = NULL;
        }
    }
    if (s) {
        td_stats_free(st);
        return s;
    }
    *out = st;
    return TD_OK;
}

/* The calibration model: m's IR forked, the statistics outputs added,
 * serialized. */
static td_status stats_model(td_model *m, uint8_t **buf, size_t *len,
                             td_err_t *err)
{
    td_arena *a = td_arena_new();
    td_graph *g = a ? td_model_fork_graph(m, a) : NULL;
    size_t count = 0;
    td_status s = g ? TD_OK : td_err_set(err, TD_ENOMEM, "out of memory");
    if (!s)
        s = td_pass_stats_outputs(g, td_model_opset(m, ""), &count, err);
    if (!s && !count)
        s = td_err_set(err, TD_EINPUT, "no Conv, Gemm or MatMul layer to "
                       "calibrate");
    if (!s)
        s = td_model_pack(m, g, buf, len, err);
    td_graph_free(g);
    td_arena_free(a);
    return s;
}

td_status td_calib_stats(td_rt *rt, td_model *m, const td_samples *smp,
                         size_t n_in, const unsigned char *use, size_t folds,
                         const td_rt_options *ro, const char *label,
                         td_stats **out, td_err_t *err)
{
    *out = NULL;
    uint8_t *buf = NULL;
    size_t len = 0, n_acc = 0, n_names = 0, runs = 0;
    td_rt_session *ses = NULL;
    struct acc *acc = NULL;
    const char **names = NULL;
    td_array *in = NULL, *res = NULL;
    td_status s = stats_model(m, &buf, &len, err);
    if (s) {
        td_err_prefix(err, "%s: ", td_model_path(m));
        goto done;
    }
    s = td_rt_session_new_mem(rt, buf, len, label, ro, &ses, err);
    /* ORT keeps what it needs: the serialized copy can go at once */
    free(buf);
    buf = NULL;
    if (s || (s = find_outputs(ses, &acc, &n_acc, err)))
        goto done;
    /* only the statistics leave the runtime, never the model's outputs */
    names = calloc(4 * n_acc + 1, sizeof *names);
    if (!names) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_acc; i++) {
        names[n_names] = td_rt_output(ses, acc[i].gram)->name;
        acc[i].gram = n_names++;
        names[n_names] = td_rt_output(ses, acc[i].rows)->name;
        acc[i].rows = n_names++;
        if (acc[i].has_sum) {
            names[n_names] = td_rt_output(ses, acc[i].sum)->name;
            acc[i].sum = n_names++;
        }
        if (acc[i].has_taps) {
            names[n_names] = td_rt_output(ses, acc[i].taps)->name;
            acc[i].taps = n_names++;
        }
    }
    size_t n_use = 0;
    for (size_t i = 0; i < td_samples_count(smp); i++)
        n_use += use[i] != 0;
    if (n_use < 2)
        folds = 0;  /* nothing to hold out */
    for (size_t i = 0; i < td_samples_count(smp); i++) {
        if (!use[i])
            continue;
        size_t fold = folds ? td_calib_fold_of(runs, n_use, folds) : 0;
        const char *sample = td_samples_label(smp, i);
        if ((s = td_samples_read(smp, i, &in, err)) ||
            (s = td_rt_run(ses, in, n_in, names, n_names, &res, err)))
            goto done;
        for (size_t k = 0; k < n_acc && !s; k++)
            s = add_run(&acc[k], &res[acc[k].gram],
                        acc[k].has_sum ? &res[acc[k].sum] : NULL,
                        &res[acc[k].rows], folds, fold, sample, err) ||
                add_taps(&acc[k], acc[k].has_taps ? &res[acc[k].taps] : NULL,
                         sample, err);
        td_array_free_n(in, n_in);
        td_array_free_n(res, n_names);
        in = res = NULL;
        if (s)
            goto done;
        runs++;
    }
    if (!runs) {
        s = td_err_set(err, TD_EUSAGE, "no calibration input: every input "
                       "was held out");
        goto done;
    }
    s = finish(acc, n_acc, folds, label, out, err);
done:
    td_array_free_n(in, n_in);
    td_array_free_n(res, n_names);
    for (size_t i = 0; acc && i < n_acc; i++) {
        free(acc[i].g);
        free(acc[i].s);
        free(acc[i].t);
        free(acc[i].gf);
        free(acc[i].sf);
        free(acc[i].cf);
    }
    free(acc);
    free(names);
    free(buf);
    td_rt_session_free(ses);
    return s;
}

td_status td_calib_input_names(td_model *m, const char ***names, size_t *n,
                               td_err_t *err)
{
    *names = NULL;
    *n = 0;
    td_graph *g = td_model_graph(m);
    const Onnx__GraphProto *gp = td_graph_build(g);
    if (!gp)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    const char **v = calloc(gp->n_input ? gp->n_input : 1, sizeof *v);
    if (!v)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_input; i++) {
        const char *nm = gp->input[i]->name ? gp->input[i]->name : "";
        /* the runtime does not ask for a weight also listed as an input */
        if (!td_graph_constant(g, nm))
            v[(*n)++] = nm;
    }
    *names = v;
    return TD_OK;
}
