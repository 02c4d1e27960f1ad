#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "api_bound.h"
#include "calib/td_calib.h"
#include "graph/td_model.h"
#include "onnxtd.h"
#include "passes/td_passes.h"
#include "util/td_regex.h"

_Static_assert(sizeof(onnxtd_dim_value) == sizeof(td_dim_value),
               "onnxtd_dim_value and td_dim_value must share their layout");

static td_method method_of(onnxtd_method m)
{
    switch (m) {
    case ONNXTD_METHOD_TUCKER2: return TD_TUCKER2;
    case ONNXTD_METHOD_CP: return TD_CP;
    case ONNXTD_METHOD_SVD: return TD_SVD;
    case ONNXTD_METHOD_TR: return TD_TR;
    case ONNXTD_METHOD_RSDTR: return TD_RSDTR;
    default: return TD_KEEP;
    }
}

static td_status compile(const char *pattern, const char *what, regex_t *re,
                         int *have, td_err_t *err)
{
    *have = 0;
    if (!pattern)
        return TD_OK;
    td_status s = td_regex_compile(re, pattern, what, err);
    *have = s == TD_OK;
    return s;
}

/* The calibration options together: one source of statistics, a
 * hold-out that leaves some inputs to calibrate on. Messages name the CLI's
 * flags, which are the fields' names. */
static td_status check_calib(const onnxtd_compress_options *o, td_err_t *err)
{
    if (o->n_calib && !o->calib)
        return td_err_set(err, TD_EUSAGE, "calib: n_calib without sources");
    if (o->n_calib && o->act_stats)
        return td_err_set(err, TD_EUSAGE, "give --calib or --act-stats, not "
                          "both: --calib gathers the statistics itself");
    if (!o->n_calib && (o->holdout || o->stats))
        return td_err_set(err, TD_EUSAGE, "--%s needs --calib",
                          o->stats ? "save-stats" : "holdout");
    if (!o->stats != !o->stats_len)
        return td_err_set(err, TD_EUSAGE, "stats and stats_len go together");
    if (o->holdout < 0 && o->holdout != ONNXTD_HOLDOUT_NONE)
        return td_err_set(err, TD_EUSAGE, "--holdout must be >= 0");
    return TD_OK;
}

onnxtd_status onnxtd_compress(onnxtd_model *om,
                              const onnxtd_compress_options *opts,
                              char **report, char **summary,
                              onnxtd_error *oerr)
{
    td_model *m = (td_model *)om;
    td_err_t *err = (td_err_t *)oerr;
    if (report)
        *report = NULL;
    if (summary)
        *summary = NULL;
    if (opts->html)
        *opts->html = NULL;
    int budgets = (opts->rank > 0) + (opts->ratio > 0) + (opts->use_tol != 0) +
                  (opts->target_params > 0 || opts->target_flops > 0) +
                  (opts->vbmf != 0);
    if (budgets > 1)
        return (onnxtd_status)td_err_set(err, TD_EUSAGE,
            "give at most one of --rank, --ratio, --tol, --target-params "
            "and/or --target-flops, and --vbmf");
    if (opts->target_params < 0 || opts->target_params > 1 ||
        opts->target_flops < 0 || opts->target_flops > 1)
        return (onnxtd_status)td_err_set(err, TD_EUSAGE,
            "--target-params and --target-flops must be in (0, 1]");
    if (opts->vbmf_weaken < 0 || opts->vbmf_weaken > 1)
        return (onnxtd_status)td_err_set(err, TD_EUSAGE,
            "--vbmf-weaken must be in (0, 1]");
    if (opts->rank_multiple < 0 || opts->min_rank < 0)
        return (onnxtd_status)td_err_set(err, TD_EUSAGE,
            "--rank-multiple and --min-rank must be positive");
    if (opts->use_tol && !(opts->tol >= 0 && opts->tol < 1))
        return (onnxtd_status)td_err_set(err, TD_EUSAGE,
            "--tol must be in [0, 1)");
    if (opts->ratio < 0 || opts->ratio > 1)
        return (onnxtd_status)td_err_set(err, TD_EUSAGE,
            "--ratio must be in (0, 1]");
    td_compress_opts o = {0};
    o.method_auto = opts->method == ONNXTD_METHOD_AUTO;
    o.method = method_of(opts->method);
    if (opts->rank > 0) {
        o.budget.kind = TD_BUDGET_RANK;
        o.budget.rank = opts->rank;
    } else if (opts->use_tol) {
        o.budget.kind = TD_BUDGET_TOL;
        o.budget.tol = opts->tol;
    } else {
        o.budget.kind = TD_BUDGET_RATIO;
        o.budget.ratio = opts->ratio > 0 ? opts->ratio : 0.5;
    }
    /* HOOI past the first sweeps moves the error by a fraction of a percent
     * at many times the cost; stop when the fit changes by < 1e-4. */
    o.budget.max_sweeps = opts->max_sweeps > 0 ? opts->max_sweeps : 10;
    o.budget.fit_tol = opts->fit_tol > 0 ? opts->fit_tol : 1e-4;
    o.force = opts->force;
    o.fold_bn = !opts->no_fold_bn;
    o.threads = opts->threads;
    o.opset = td_model_opset(m, "");
    o.dims = (const td_dim_value *)opts->dims;
    o.n_dims = opts->n_dims;
    if (opts->target_params > 0) {
        o.global = TD_GLOBAL_PARAMS;
        o.target = opts->target_params;
        o.also_flops = opts->target_flops > 0 ? opts->target_flops : 0;
    } else if (opts->target_flops > 0) {
        o.global = TD_GLOBAL_FLOPS;
        o.target = opts->target_flops;
    }
    o.sensitivity = opts->sensitivity ? TD_SENS_ABSOLUTE : TD_SENS_RELATIVE;
    o.vbmf = opts->vbmf;
    o.vbmf_weaken = opts->vbmf_weaken > 0 ? opts->vbmf_weaken : 1;
    o.rank_multiple = opts->rank_multiple > 0 ? opts->rank_multiple : 1;
    o.min_rank = opts->min_rank > 0 ? opts->min_rank : 1;
    o.allow_slower = opts->allow_slower;
    o.protect = opts->protect && !opts->include && !opts->n_calib &&
                !opts->act_stats && o.global != TD_GLOBAL_NONE;
    o.progress = opts->progress;
    o.progress_ctx = opts->progress_ctx;
    regex_t inc, exc;
    int have_inc, have_exc;
    td_status s = compile(opts->include, "--include", &inc, &have_inc, err);
    if (s)
        return (onnxtd_status)s;
    if ((s = compile(opts->exclude, "--exclude", &exc, &have_exc, err))) {
        if (have_inc)
            regfree(&inc);
        return (onnxtd_status)s;
    }
    o.include = have_inc ? &inc : NULL;
    o.exclude = have_exc ? &exc : NULL;
    td_stats *stats = NULL;
    td_calib *cal = NULL;
    td_measured measured = {0};
    int have_measured = 0;
    td_bound_report bound;
    int use_bound = 0;
    if ((s = check_calib(opts, err)) ||
        (s = api_bound_setup(opts, opts->n_calib != 0, &o, &bound,
                             &use_bound, err)))
        goto out;
    if (opts->act_lambda < 0 || opts->act_lambda > 1e6) {
        s = td_err_set(err, TD_EUSAGE, "--act-lambda must be positive");
        goto out;
    }
    if (opts->act_stats && (s = td_stats_load(opts->act_stats, &stats, err)))
        goto out;
    o.stats = stats;
    if (opts->n_calib) {
        td_calib_opts co = {
            .sources = opts->calib,
            .n_sources = opts->n_calib,
            .holdout = opts->holdout == ONNXTD_HOLDOUT_NONE ? 0
                       : opts->holdout > 0 ? opts->holdout : -1,
            .ort_lib = opts->ort_lib,
            .rt = {.threads = opts->threads},
            .runs = opts->measure_runs < 0 ? 0
                    : opts->measure_runs > 0 ? (size_t)opts->measure_runs : 10,
        };
        if ((s = td_calib_begin(m, &co, &cal, err)))
            goto out;
        o.stats = td_calib_statistics(cal);
    }
    o.stats_lambda = opts->act_lambda;
    if (use_bound) {
        if ((s = td_calib_bound_search(cal, m, &o, &bound, err))) {
            td_err_prefix(err, "%s: ", td_model_path(m));
            goto out;
        }
        o.target = bound.chosen;
        o.also_flops = bound.chosen_flops;
    }
    td_compress_report r;
    s = td_pass_compress(td_model_graph(m), &o, &r, err);
    if (s)
        td_err_prefix(err, "%s: ", td_model_path(m));
    if (s == TD_OK && cal) {
        if (!(s = td_calib_end(cal, m, &measured, err)))
            r.measured = &measured, have_measured = 1;
        if (!s && use_bound) {
            bound.model_runs += 2 * measured.samples;
            measured.bound = &bound;
        }
        else
            td_err_prefix(err, "%s: measuring the compressed model: ",
                          td_model_path(m));
    }
    if (s == TD_OK && report && !(*report = td_compress_report_json(&r)))
        s = td_err_set(err, TD_ENOMEM, "out of memory");
    if (s == TD_OK && summary && !(*summary = td_compress_report_table(&r)))
        s = td_err_set(err, TD_ENOMEM, "out of memory");
    if (s == TD_OK && opts->html && !(*opts->html = td_compress_report_html(&r)))
        s = td_err_set(err, TD_ENOMEM, "out of memory");
    if (s == TD_OK && opts->stats)
        s = td_stats_pack(td_calib_statistics(cal), opts->stats,
                          opts->stats_len, err);
    td_compress_report_free(&r);
out:
    if (have_measured)
        td_measured_free(&measured);
    td_calib_free(cal);
    td_stats_free(stats);
    if (have_inc)
        regfree(&inc);
    if (have_exc)
        regfree(&exc);
    return (onnxtd_status)s;
}

onnxtd_status onnxtd_stats_model(onnxtd_model *om, size_t *count,
                                 onnxtd_error *oerr)
{
    td_model *m = (td_model *)om;
    td_err_t *err = (td_err_t *)oerr;
    size_t n = 0;
    td_status s = td_pass_stats_outputs(td_model_graph(m),
                                        td_model_opset(m, ""), &n, err);
    if (s)
        td_err_prefix(err, "%s: ", td_model_path(m));
    else if (n == 0)
        s = td_err_set(err, TD_EINPUT,
                       "%s: no Conv, Gemm or MatMul layer to calibrate",
                       td_model_path(m));
    if (count)
        *count = n;
    return (onnxtd_status)s;
}
