/* --act-lambda auto: the statistics' regularisation chosen on the model's
 * own held-out deviation; see td_calib.h. */
#include <stdio.h>
#include <string.h>

#include "calib/td_calib.h"
#include "decompose/td_whiten.h"
#include "passes/td_reuse.h"
#include "util/td_clock.h"

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
        *dev = td_measured_max_rel_l2(&ms, outputs, n_outputs);
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
    if (td_stats_have_folds(o->stats))
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
        if (s) {
            td_reuse_free(store);
            char v[32];
            if (out->value[q] == TD_STATS_LAMBDA_CV)
                snprintf(v, sizeof v, "cv");
            else
                snprintf(v, sizeof v, "%g", out->value[q]);
            td_err_prefix(err, "--act-lambda auto, trying %s: ", v);
        } else if (!*kept || out->deviation[q] < out->deviation[out->chosen]) {
            /* the best so far keeps its factors for the compression after */
            td_reuse_free(*kept);
            *kept = store;
            out->chosen = q;
        } else {
            td_reuse_free(store);
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
