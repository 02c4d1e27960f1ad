/* --act-lambda auto: the statistics' regularisation chosen on the model's
 * own held-out deviation; see td_calib.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calib/td_calib.h"
#include "decompose/td_whiten.h"
#include "passes/td_reuse.h"
#include "util/td_clock.h"

/* One candidate: a fork of m compressed with it, measured untimed; st
 * gets what the bound (br, NULL: none) judges, or the largest rel. L2 over
 * the outputs named. */
static td_status try_one(td_calib *c, td_model *m, const td_compress_opts *o,
                         double lambda, const td_bound_report *br,
                         const char *const *outputs, size_t n_outputs,
                         td_reuse *keep, td_bound_step *st, td_err_t *err)
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
        s = td_calib_measure_judged(c, m, g, br, &ms, err);
    if (!s && br) {
        td_bound_judge(&ms, br, st);
        s = td_bound_check(br, st, err);
    } else if (!s) {
        st->rel_l2 = td_measured_max_rel_l2(&ms, outputs, n_outputs);
        st->agreement = st->iou = -1;
    }
    td_measured_free(&ms);
    td_compress_report_free(&r);
    td_graph_free(g);
    td_arena_free(a);
    return s;
}

/* Candidate q before the one chosen so far: the less of the bound used,
 * then (equal, e.g. every mask IoU 1, or no bound) the smaller rel. L2;
 * a NaN output counts as HUGE_VAL in both and never goes before. */
static int better(const td_lambda_choice *c, size_t q)
{
    size_t b = c->chosen;
    if (c->use[q] != c->use[b])
        return c->use[q] < c->use[b];
    return c->deviation[q] < c->deviation[b];
}

td_status td_calib_choose_lambda(td_calib *c, td_model *m,
                                 const td_compress_opts *o,
                                 const td_bound_report *br,
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
        td_bound_step st = {0};
        s = try_one(c, m, o, out->value[q], br, outputs, n_outputs, store,
                    &st, err);
        out->deviation[q] = isnan(st.rel_l2) ? HUGE_VAL : st.rel_l2;
        out->score[q] = br && br->judge ? st.score : NAN;
        out->agreement[q] = st.agreement;
        out->iou[q] = st.iou;
        /* what the bound judges decides, a floor (agreement, mask IoU)
         * included: what the user asked to hold; under a rel. L2 bound
         * alone the order is the rel. L2's */
        out->use[q] = br ? td_bound_use(br, &st) : 0;
        out->by_floor |= (br && br->min_agreement >= 0 && st.agreement >= 0) ||
                         (br && br->min_iou >= 0 && st.iou >= 0) ||
                         (br && br->judge);
        if (s) {
            td_reuse_free(store);
            char v[32];
            if (out->value[q] == TD_STATS_LAMBDA_CV)
                snprintf(v, sizeof v, "cv");
            else
                snprintf(v, sizeof v, "%g", out->value[q]);
            td_err_prefix(err, "--act-lambda auto, trying %s: ", v);
        } else if (!*kept || better(out, q)) {
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
