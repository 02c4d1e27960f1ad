/* --act-lambda auto: the statistics' regularisation chosen on the model's
 * own held-out deviation; see td_calib.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calib/td_calib.h"
#include "decompose/td_whiten.h"
#include "passes/td_reuse.h"
#include "util/td_clock.h"

/* The largest rel. L2 over the outputs judged (a NaN output: huge). */
static double deviation(const td_measured *ms, const char *const *outputs,
                        size_t n_outputs)
{
    double d = 0;
    for (size_t i = 0; i < ms->n_out; i++) {
        if (!td_outputs_name(outputs, n_outputs, ms->out[i].name))
            continue;
        double x = ms->out[i].rel_l2;
        if (!(x <= d))
            d = isnan(x) ? HUGE_VAL : x;
    }
    return d;
}

/* Whether the statistics were gathered per fold too (two calibration
 * inputs or more, options.calib asked for them). */
static int have_folds(const td_stats *st)
{
    for (size_t i = 0; i < td_stats_count(st); i++) {
        const char *name;
        int64_t n, count;
        const double *m, *mu;
        const int64_t *fc;
        if (td_stats_entry(st, i, &name, &n, &m, &mu, &count) == TD_OK &&
            td_stats_folds(st, name, &m, &mu, &fc))
            return 1;
    }
    return 0;
}

/* One candidate: a fork of m compressed with it, measured untimed. */
static td_status try_one(td_calib *c, td_model *m, const td_compress_opts *o,
                         double lambda, const char *const *outputs,
                         size_t n_outputs, td_reuse *keep, double *dev,
                         td_err_t *err)
{
    td_compress_opts so = *o;
    so.stats_lambda = lambda;
    /* its own store: factors in another metric are another layer's */
    so.reuse = keep;
    so.progress = NULL;
    so.progress_work = NULL;
    td_arena *a = td_arena_new();
    td_graph *g = a ? td_model_fork_graph(m, a) : NULL;
    td_compress_report r = {0};
    td_measured ms = {0};
    td_status s = g ? td_pass_compress(g, &so, &r, err)
                    : td_err_set(err, TD_ENOMEM, "out of memory");
    if (!s)
        s = td_calib_measure_graph(c, m, g, 0, &ms, err);
    if (!s)
        *dev = deviation(&ms, outputs, n_outputs);
    td_measured_free(&ms);
    td_compress_report_free(&r);
    td_graph_free(g);
    td_arena_free(a);
    return s;
}

td_status td_calib_choose_lambda(td_calib *c, td_model *m,
                                 const td_compress_opts *o,
                                 const char *const *outputs, size_t n_outputs,
                                 td_lambda_choice *out, td_reuse **kept,
                                 td_err_t *err)
{
    double t0 = td_now();
    size_t runs0 = td_calib_model_runs(c);
    memset(out, 0, sizeof *out);
    /* the default, the value that served models whose inputs differ from
     * the calibration ones, and each layer's own by cross-validation
     * (where the statistics have folds) */
    out->value[out->n++] = TD_WHITEN_REL_LAMBDA;
    out->value[out->n++] = 1.0;
    if (have_folds(o->stats))
        out->value[out->n++] = TD_STATS_LAMBDA_CV;
    td_status s = TD_OK;
    *kept = NULL;
    for (size_t q = 0; q < out->n && !s; q++) {
        td_reuse *store = td_reuse_new();
        if (!store) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            break;
        }
        s = try_one(c, m, o, out->value[q], outputs, n_outputs, store,
                    &out->deviation[q], err);
        /* the best so far keeps its factors for the compression after */
        if (!s && (!*kept || out->deviation[q] < out->deviation[out->chosen])) {
            td_reuse_free(*kept);
            *kept = store;
        } else {
            td_reuse_free(store);
        }
        if (s) {
            char v[32];
            if (out->value[q] == TD_STATS_LAMBDA_CV)
                snprintf(v, sizeof v, "cv");
            else
                snprintf(v, sizeof v, "%g", out->value[q]);
            td_err_prefix(err, "--act-lambda auto, trying %s: ", v);
        } else if (out->deviation[q] < out->deviation[out->chosen]) {
            out->chosen = q;
        }
    }
    if (s) {
        td_reuse_free(*kept);
        *kept = NULL;
    }
    out->samples = td_calib_measure_count(c);
    out->model_runs = td_calib_model_runs(c) - runs0;
    out->seconds = td_now() - t0;
    return s;
}
