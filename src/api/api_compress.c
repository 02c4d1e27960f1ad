/* onnxtd_compress: the public options checked and translated into the
 * pass's, the calibration run around the pass, and the report built. */
#include <math.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_args.h"
#include "api_bound.h"
#include "api_provenance.h"
#include "api_report.h"
#include "api_state.h"
#include "calib/td_calib.h"
#include "calib/td_lat.h"
#include "calib/td_calib_sens.h"
#include "calib/td_speed.h"
#include "passes/td_reuse.h"
#include "graph/td_model.h"
#include "onnxtd.h"
#include "passes/td_passes.h"
#include "util/td_regex.h"

_Static_assert(sizeof(onnxtd_dim_value) == sizeof(td_dim_value),
               "onnxtd_dim_value and td_dim_value must share their layout");

/* HOOI past the first sweeps moves the error by a fraction of a percent
 * at many times the cost: stop at 10 sweeps, or when the fit changes by
 * less than 1e-4. */
enum { DEFAULT_SWEEPS = 10, DEFAULT_RUNS = 10 };
#define DEFAULT_FIT_TOL 1e-4
/* Without a budget each layer keeps half its parameters. */
#define DEFAULT_RATIO 0.5
/* The whitening's relative regularisation (td_whiten.h), and its bound:
 * past it the statistics no longer shape the factors. */
#define DEFAULT_ACT_LAMBDA 0.1
#define MAX_ACT_LAMBDA 1e6

void onnxtd_compress_options_init(onnxtd_compress_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->method = ONNXTD_METHOD_AUTO;
    o->budget.kind = ONNXTD_BUDGET_NONE;
    o->fold_bn = 1;
    o->max_sweeps = DEFAULT_SWEEPS;
    o->fit_tol = DEFAULT_FIT_TOL;
    o->sensitivity = ONNXTD_SENSITIVITY_RELATIVE;
    o->rank_multiple = 0;
    o->min_rank = 1;
    o->act_lambda = DEFAULT_ACT_LAMBDA;
    o->holdout = ONNXTD_HOLDOUT_AUTO;
    o->measure_runs = DEFAULT_RUNS;
    o->refit = 0;
    o->refit_waves = TD_REFIT_WAVES;
    o->protect = 1;
    o->max_layer_error = ONNXTD_DEFAULT_MAX_LAYER_ERROR;
    o->min_score = NAN;
}

/* Where each field of the struct ends: the sizes a caller built against
 * this struct or an older one (fields are only ever added at the end) can
 * pass. */
#define END(f) (offsetof(onnxtd_compress_options, f) + \
                sizeof(((onnxtd_compress_options *)0)->f))
static const size_t known_sizes[] = {
    END(method), END(budget), END(include), END(exclude), END(force),
    END(fold_bn), END(threads), END(max_sweeps), END(fit_tol), END(dims),
    END(n_dims), END(sensitivity), END(rank_multiple), END(min_rank),
    END(allow_slower), END(act_stats), END(act_lambda), END(calib),
    END(n_calib), END(holdout), END(ort_lib), END(measure_runs),
    END(progress), END(progress_ctx), END(progress_work), END(command),
    END(max_error), END(min_agreement), END(protect), END(latency_cache),
    END(sens_cache), END(refit_waves), END(max_layer_error), END(n_state),
    END(softmax_metric), END(n_bound_outputs), END(iou_threshold),
    END(sens_groups), END(min_score), sizeof(onnxtd_compress_options)};
#undef END

/* The caller's options over the defaults, as far as its struct goes. */
static td_status read_options(const onnxtd_compress_options *in,
                              onnxtd_compress_options *o, td_err_t *err)
{
    onnxtd_compress_options_init(o);
    for (size_t i = 0; i < sizeof known_sizes / sizeof *known_sizes; i++)
        if (in->size == known_sizes[i]) {
            memcpy(o, in, in->size);
            o->size = sizeof *o;
            return TD_OK;
        }
    return td_err_set(err, TD_EUSAGE,
                      "options.size %zu is not the size of an "
                      "onnxtd_compress_options (%zu here): set it with "
                      "onnxtd_compress_options_init", in->size, sizeof *in);
}

static td_status check_budget(const onnxtd_budget *b, td_err_t *err)
{
    static const char *const names[] = {
        "none", "rank", "ratio", "tol", "target_params", "target_flops",
        "vbmf"};
    double v = b->value;
    int bad;
    switch (b->kind) {
    case ONNXTD_BUDGET_NONE: return TD_OK;
    case ONNXTD_BUDGET_RANK:
        if (b->rank < 1)
            return td_err_set(err, TD_EUSAGE, "options.budget.rank (rank) "
                              "must be positive, not %lld",
                              (long long)b->rank);
        return TD_OK;
    case ONNXTD_BUDGET_TOL: bad = !(v >= 0 && v < 1); break;
    case ONNXTD_BUDGET_RATIO:
    case ONNXTD_BUDGET_TARGET_PARAMS:
    case ONNXTD_BUDGET_TARGET_FLOPS:
    case ONNXTD_BUDGET_VBMF: bad = !(v > 0 && v <= 1); break;
    default:
        return td_err_set(err, TD_EUSAGE, "options.budget.kind %d is not an "
                          "onnxtd_budget_kind", (int)b->kind);
    }
    if (bad)
        return td_err_set(err, TD_EUSAGE, "options.budget.value (%s) must be "
                          "in %s, not %g", names[b->kind],
                          b->kind == ONNXTD_BUDGET_TOL ? "[0, 1)" : "(0, 1]",
                          v);
    if (b->also_flops != 0 && (b->kind != ONNXTD_BUDGET_TARGET_PARAMS ||
                               !(b->also_flops > 0 && b->also_flops <= 1)))
        return td_err_set(err, TD_EUSAGE, "options.budget.also_flops must be "
                          "0, or in (0, 1] with the target_params kind");
    return TD_OK;
}

/* Measured sensitivity needs the inputs to measure on and a global
 * budget to allocate; its cache needs it. */
static td_status check_measured(const onnxtd_compress_options *o,
                                td_err_t *err)
{
    int measured = o->sensitivity == ONNXTD_SENSITIVITY_MEASURED;
    /* with no budget, the bound's search allocates */
    int global = o->budget.kind == ONNXTD_BUDGET_TARGET_PARAMS ||
                 o->budget.kind == ONNXTD_BUDGET_TARGET_FLOPS ||
                 (o->budget.kind == ONNXTD_BUDGET_NONE && api_bound_set(o));
    if (o->sens_cache && !measured)
        return td_err_set(err, TD_EUSAGE, "options.sens_cache needs "
                          "options.sensitivity MEASURED");
    if (o->sens_groups && !measured)
        return td_err_set(err, TD_EUSAGE, "options.sens_groups needs "
                          "options.sensitivity MEASURED");
    if (measured && (!o->n_calib || !global))
        return td_err_set(err, TD_EUSAGE, "options.sensitivity MEASURED "
                          "needs options.calib and a target_params or "
                          "target_flops budget (or a bound without one)");
    return TD_OK;
}

/* The calibration options together: one source of statistics, a
 * hold-out only of calibration inputs. */
static td_status check_calib(const onnxtd_compress_options *o, td_err_t *err)
{
    if (o->n_calib && !o->calib)
        return td_err_set(err, TD_EUSAGE, "options.calib is NULL with "
                          "options.n_calib %zu", o->n_calib);
    if (o->n_calib && o->act_stats)
        return td_err_set(err, TD_EUSAGE, "options.calib and "
                          "options.act_stats exclude each other: calib "
                          "gathers the statistics itself");
    if (!o->n_calib && o->holdout != ONNXTD_HOLDOUT_AUTO)
        return td_err_set(err, TD_EUSAGE, "options.holdout needs "
                          "options.calib");
    if (o->holdout < 0 && o->holdout != ONNXTD_HOLDOUT_AUTO)
        return td_err_set(err, TD_EUSAGE, "options.holdout must be >= 0 or "
                          "ONNXTD_HOLDOUT_AUTO");
    if (o->n_state && !o->state)
        return td_err_set(err, TD_EUSAGE, "options.state is NULL with "
                          "options.n_state %zu", o->n_state);
    if (o->n_state && !o->n_calib)
        return td_err_set(err, TD_EUSAGE, "options.state needs "
                          "options.calib (it says how the held-out inputs "
                          "are run)");
    if (o->refit != 0 && o->refit != ONNXTD_REFIT_LAST &&
        o->refit != ONNXTD_REFIT_CHAIN)
        return td_err_set(err, TD_EUSAGE, "options.refit must be 0, "
                          "ONNXTD_REFIT_LAST or ONNXTD_REFIT_CHAIN");
    if (o->refit_waves < 1)
        return td_err_set(err, TD_EUSAGE, "options.refit_waves must be >= 1");
    if (isnan(o->softmax_metric) || o->softmax_metric > 1e6)
        return td_err_set(err, TD_EUSAGE, "options.softmax_metric must be "
                          "at most 1e6 (< 0: off)");
    if (o->measure_runs < 0)
        return td_err_set(err, TD_EUSAGE, "options.measure_runs must be >= 0");
    if (o->act_lambda == ONNXTD_ACT_LAMBDA_CV && !o->n_calib)
        return td_err_set(err, TD_EUSAGE, "options.act_lambda "
                          "ONNXTD_ACT_LAMBDA_CV needs options.calib (the "
                          "folds are of the calibration inputs)");
    if (o->act_lambda == ONNXTD_ACT_LAMBDA_AUTO && !o->n_calib)
        return td_err_set(err, TD_EUSAGE, "options.act_lambda "
                          "ONNXTD_ACT_LAMBDA_AUTO needs options.calib (it "
                          "measures the model on held-out inputs)");
    if (!(o->act_lambda > 0 && o->act_lambda <= MAX_ACT_LAMBDA) &&
        o->act_lambda != ONNXTD_ACT_LAMBDA_CV &&
        o->act_lambda != ONNXTD_ACT_LAMBDA_AUTO)
        return td_err_set(err, TD_EUSAGE, "options.act_lambda must be in "
                          "(0, %g], ONNXTD_ACT_LAMBDA_CV or "
                          "ONNXTD_ACT_LAMBDA_AUTO", MAX_ACT_LAMBDA);
    return TD_OK;
}

static td_status check_options(const onnxtd_compress_options *o,
                               td_err_t *err)
{
    td_status s;
    if ((unsigned)o->method > ONNXTD_METHOD_RSDTR)
        return td_err_set(err, TD_EUSAGE, "options.method %d is not an "
                          "onnxtd_method", (int)o->method);
    if ((s = check_budget(&o->budget, err)))
        return s;
    if (o->rank_multiple < 0 || o->min_rank < 1)
        return td_err_set(err, TD_EUSAGE, "options.rank_multiple must be "
                          ">= 0 (0: the default rounding) and "
                          "options.min_rank >= 1");
    if (o->max_sweeps < 1 || !(o->fit_tol > 0))
        return td_err_set(err, TD_EUSAGE, "options.max_sweeps and "
                          "options.fit_tol must be positive");
    if (o->threads < 0)
        return td_err_set(err, TD_EUSAGE, "options.threads must be >= 0");
    if ((unsigned)o->sensitivity > ONNXTD_SENSITIVITY_MEASURED)
        return td_err_set(err, TD_EUSAGE, "options.sensitivity %d is not an "
                          "onnxtd_sensitivity", (int)o->sensitivity);
    if ((s = check_measured(o, err)))
        return s;
    if (o->n_dims && !o->dims)
        return td_err_set(err, TD_EUSAGE, "options.dims is NULL with "
                          "options.n_dims %zu", o->n_dims);
    return check_calib(o, err);
}

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

/* The budget in the pass's terms: a per-layer request (rank, tol, or a
 * ratio, which the global and EVBMF budgets start from) and a global
 * target. */
static void budget_of(const onnxtd_budget *b, td_compress_opts *o)
{
    o->budget.kind = TD_BUDGET_RATIO;
    o->budget.ratio = DEFAULT_RATIO;
    o->vbmf_weaken = 1;
    switch (b->kind) {
    case ONNXTD_BUDGET_RANK:
        o->budget.kind = TD_BUDGET_RANK;
        o->budget.rank = b->rank;
        break;
    case ONNXTD_BUDGET_TOL:
        o->budget.kind = TD_BUDGET_TOL;
        o->budget.tol = b->value;
        break;
    case ONNXTD_BUDGET_RATIO: o->budget.ratio = b->value; break;
    case ONNXTD_BUDGET_TARGET_PARAMS:
        o->global = TD_GLOBAL_PARAMS;
        o->target = b->value;
        o->also_flops = b->also_flops;
        break;
    case ONNXTD_BUDGET_TARGET_FLOPS:
        o->global = TD_GLOBAL_FLOPS;
        o->target = b->value;
        break;
    case ONNXTD_BUDGET_VBMF:
        o->vbmf = 1;
        o->vbmf_weaken = b->value;
        break;
    default: break;
    }
}

static void translate(const onnxtd_compress_options *in, td_model *m,
                      td_compress_opts *o)
{
    memset(o, 0, sizeof *o);
    o->method_auto = in->method == ONNXTD_METHOD_AUTO;
    o->method = method_of(in->method);
    budget_of(&in->budget, o);
    o->budget.max_sweeps = in->max_sweeps;
    o->budget.fit_tol = in->fit_tol;
    o->force = in->force;
    o->fold_bn = in->fold_bn;
    o->threads = in->threads;
    o->opset = td_model_opset(m, "");
    o->dims = (const td_dim_value *)in->dims;
    o->n_dims = in->n_dims;
    o->sensitivity = in->sensitivity == ONNXTD_SENSITIVITY_ABSOLUTE
                         ? TD_SENS_ABSOLUTE : TD_SENS_RELATIVE;
    o->rank_multiple = in->rank_multiple;
    o->min_rank = in->min_rank;
    o->allow_slower = in->allow_slower;
    o->stats_lambda = in->act_lambda == ONNXTD_ACT_LAMBDA_CV
                          ? TD_STATS_LAMBDA_CV
                      : in->act_lambda == ONNXTD_ACT_LAMBDA_AUTO
                          ? 0 : in->act_lambda;
    /* Without data, the budgets that leave each layer's error to onnxtd
     * (a ratio, a global target, EVBMF) are guarded; a rank or a
     * tolerance the caller gave is taken as given. */
    int blind = !in->n_calib && !in->act_stats &&
                in->budget.kind != ONNXTD_BUDGET_RANK &&
                in->budget.kind != ONNXTD_BUDGET_TOL;
    /* a chain the caller named (a method, or layers by include under a
     * per-layer budget) is written as asked, as the speed rule does */
    int named = (in->budget.kind == ONNXTD_BUDGET_NONE ||
                 in->budget.kind == ONNXTD_BUDGET_RATIO) &&
                (in->method != ONNXTD_METHOD_AUTO || in->include);
    o->protect = blind && in->protect && !in->include;
    o->max_layer_error = !blind || named || in->max_layer_error < 0 ? 0
                         : in->max_layer_error > 0 ? in->max_layer_error
                         : ONNXTD_DEFAULT_MAX_LAYER_ERROR;
    o->refit = in->refit && in->n_calib;
    o->refit_chain = o->refit && in->refit == ONNXTD_REFIT_CHAIN;
    o->refit_waves = (size_t)in->refit_waves;
    o->softmax_mu = in->softmax_metric > 0 ? in->softmax_metric
                    : in->softmax_metric < 0 ? 0
                    : ONNXTD_DEFAULT_SOFTMAX_METRIC;
    o->progress = in->progress;
    o->progress_work = in->progress_work;
    o->progress_ctx = in->progress_ctx;
}

/* What one compression holds until it returns. */
typedef struct run {
    regex_t inc, exc;
    int have_inc, have_exc;
    td_stats *stats;   /* from options.act_stats */
    td_calib *cal;     /* with options.calib */
    td_measured measured;
    int have_measured;
    td_bound_report bound;  /* the output-error bound (use_bound) */
    td_judge judge;         /* options.judge, for bound.judge */
    int use_bound;
    td_lat *lat;       /* per-layer latency (NULL: not measured, no cache) */
    td_reuse *reuse;   /* spectra and factors between the bound's steps */
    td_sens *sens;     /* measured sensitivity */
    td_refit_report refit;  /* the sequential refit (have_refit) */
    int have_refit;
    td_lambda_choice lambda_auto;  /* --act-lambda auto (have_lambda_auto) */
    int have_lambda_auto;
    const char **loop_names;  /* options.state as input, output arrays */
} run;

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

/* Per-layer latency, when the never-slower rule judges and timing is
 * wanted, or a cache file to carry over: the runtime with the session
 * options deployment uses (the threads asked for, ORT's default
 * otherwise; every graph optimisation), and the cache read. */
static td_status latency_setup(run *r, const onnxtd_compress_options *in,
                               td_compress_opts *o, td_err_t *err)
{
    int judge = in->measure_runs > 0 && !in->force && !in->allow_slower;
    if (!judge && !in->latency_cache)
        return TD_OK;
    td_rt_options ro = {.threads = in->threads, .opt_level = TD_RT_OPT_ALL};
    td_status s = td_lat_new(judge, in->ort_lib, &ro, in->latency_cache,
                             &r->lat, err);
    if (!s && judge)
        o->probe = td_lat_probe(r->lat);
    return s;
}

/* The caller's judge on the original (m as it is, before the pass): the
 * score the bound's share is measured from; an original already below
 * min_score leaves nothing to search for. */
static td_status judge_original(td_model *m, td_bound_report *br,
                                td_err_t *err)
{
    td_status s = td_judge_model(br->judge, m, NULL, &br->score_original,
                                 err);
    if (s) {
        td_err_prefix(err, "%s: scoring the original: ", td_model_path(m));
        return s;
    }
    if (br->score_original < br->min_score)
        return td_err_set(err, TD_EUNMET, "%s: the original model scores "
                          "%.6g by the judge (%s), below options.min_score "
                          "%.6g: no compression of it can be within the "
                          "bound",
                          td_model_path(m), br->score_original,
                          br->judge->name, br->min_score);
    return TD_OK;
}

/* With calibration inputs: the runtime, the statistics (o->stats),
 * --act-lambda auto's choice and the measured sensitivity. */
static td_status calibrate(run *r, const onnxtd_compress_options *in,
                           td_model *m, td_compress_opts *o, td_err_t *err)
{
    td_status s;
    td_calib_opts co = {
        .sources = in->calib,
        .n_sources = in->n_calib,
        .holdout = in->holdout == ONNXTD_HOLDOUT_AUTO ? -1 : in->holdout,
        .ort_lib = in->ort_lib,
        .rt = {.threads = in->threads},
        .runs = (size_t)in->measure_runs,
        .iou_threshold = api_iou_threshold(in),
        .folds = in->act_lambda == ONNXTD_ACT_LAMBDA_CV ||
                 in->act_lambda == ONNXTD_ACT_LAMBDA_AUTO ? TD_CALIB_FOLDS : 0,
    };
    if ((s = api_state_loop(in->state, in->n_state, "options.state",
                            &r->loop_names, &co.loop, err)) ||
        (s = td_calib_begin(m, &co, &r->cal, err)))
        return s;
    o->stats = td_calib_statistics(r->cal);
    if (in->act_lambda == ONNXTD_ACT_LAMBDA_AUTO) {
        /* at the budget asked, before the bound searches around it */
        if ((s = td_calib_choose_lambda(r->cal, m, o,
                                        r->use_bound ? &r->bound : NULL,
                                        in->bound_outputs,
                                        in->n_bound_outputs, &r->lambda_auto,
                                        &r->reuse, err))) {
            td_err_prefix(err, "%s: ", td_model_path(m));
            return s;
        }
        o->stats_lambda = r->lambda_auto.value[r->lambda_auto.chosen];
        o->reuse = r->reuse;  /* the chosen candidate's factors */
        r->have_lambda_auto = 1;
    }
    if (in->sensitivity == ONNXTD_SENSITIVITY_MEASURED) {
        /* on the outputs the bound judges: a price the mask alone sets
         * when only the mask is judged */
        if ((s = td_calib_sens(r->cal, m, o, in->bound_outputs,
                               in->n_bound_outputs, in->sens_cache,
                               in->sens_groups ? in->sens_groups
                                               : ONNXTD_DEFAULT_SENS_GROUPS,
                               &r->sens, err))) {
            td_err_prefix(err, "%s: measuring the sensitivity: ",
                          td_model_path(m));
            return s;
        }
        o->layer_weight = td_sens_weight;
        o->layer_weight_ctx = r->sens;
    }
    return TD_OK;
}

/* The filters and the statistics, read or gathered, into o; then the
 * bound's search, when one is kept. */
static td_status prepare(run *r, const onnxtd_compress_options *in,
                         td_model *m, td_compress_opts *o, td_err_t *err)
{
    td_status s;
    if ((s = latency_setup(r, in, o, err)))
        return s;
    if ((s = compile(in->include, "options.include", &r->inc, &r->have_inc,
                     err)) ||
        (s = compile(in->exclude, "options.exclude", &r->exc, &r->have_exc,
                     err)))
        return s;
    if ((s = api_bound_setup(in, in->n_calib != 0, o, &r->bound, &r->judge,
                             &r->use_bound, err)))
        return s;
    if (in->act_lambda == ONNXTD_ACT_LAMBDA_AUTO && r->use_bound &&
        !(r->bound.asked > 0))
        return td_err_set(err, TD_EUSAGE, "options.act_lambda "
                          "ONNXTD_ACT_LAMBDA_AUTO measures its candidates at "
                          "the budget asked: give options.budget "
                          "target_params or target_flops (the bound holds "
                          "it), or a per-layer budget");
    for (size_t i = 0; i < in->n_bound_outputs; i++)
        if (!td_graph_is_output(td_model_graph(m), in->bound_outputs[i]))
            return td_err_set(err, TD_EUSAGE, "options.bound_outputs: '%s' "
                              "is not an output of %s", in->bound_outputs[i],
                              td_model_path(m));
    o->include = r->have_inc ? &r->inc : NULL;
    o->exclude = r->have_exc ? &r->exc : NULL;
    if (in->act_stats && (s = td_stats_load(in->act_stats, &r->stats, err)))
        return s;
    o->stats = r->stats;
    /* the original's score first: one below the floor leaves nothing to
     * gather statistics for */
    if (r->bound.judge && (s = judge_original(m, &r->bound, err)))
        return s;
    if (in->n_calib && (s = calibrate(r, in, m, o, err)))
        return s;
    if (!r->use_bound)
        return TD_OK;
    /* the budget within the bound, found on forks of the model; the
     * compression after it takes the chosen step's factors */
    if (!r->reuse && !(r->reuse = td_reuse_new()))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    o->reuse = r->reuse;
    if ((s = td_calib_bound_search(r->cal, m, o, &r->bound, err))) {
        td_err_prefix(err, "%s: ", td_model_path(m));
        return s;
    }
    o->target = r->bound.chosen;
    o->also_flops = r->bound.chosen_flops;
    return TD_OK;
}

static int any_replaced(const td_compress_report *r)
{
    for (size_t i = 0; i < r->n_layers; i++)
        if (r->layers[i].method != TD_KEEP)
            return 1;
    return 0;
}

/* The whole model timed against orig (NULL: not asked for); *timed set
 * when sp was filled. A slower model is refused (td_speed_check) unless
 * slower models are allowed or the user named its chains (then the report
 * says it). */
static td_status time_model(td_model *m, td_graph *orig, td_calib *cal,
                            const onnxtd_compress_options *in,
                            const td_compress_opts *o,
                            const td_compress_report *r, td_speed *sp,
                            int *timed, td_err_t *err)
{
    *timed = 0;
    if (!orig)
        return TD_OK;
    memset(sp, 0, sizeof *sp);
    *timed = 1;
    if (!any_replaced(r)) {
        snprintf(sp->why, sizeof sp->why, "not timed: no layer was replaced");
        return TD_OK;
    }
    td_speed_opts so = {
        .ort_lib = in->ort_lib,
        .pairs = (size_t)in->measure_runs,
        .dims = (const td_dim_value *)in->dims,
        .n_dims = in->n_dims,
    };
    /* with data, the calibration inputs, for the shapes no --dim gave
     * (PP-OCR det and rec: every dim but the channels is symbolic) */
    if (cal) {
        td_calib_view v;
        td_calib_view_of(cal, &v);
        so.samples = v.smp;
        so.n_sample_inputs = v.n_in;
    }
    td_status s = td_speed_measure(m, orig, &so, sp, err);
    if (s) {
        td_err_prefix(err, "%s: timing the compressed model: ",
                      td_model_path(m));
        return s;
    }
    s = td_speed_check(sp, in->allow_slower || td_latency_explicit(o), err);
    if (s)
        td_err_prefix(err, "%s: ", td_model_path(m));
    return s;
}

/* Into the measured part: the model written, scored by the bound's
 * judge as the steps were (the number the report gives is this model's,
 * not a step's), and the bound's search. */
static td_status bound_written(run *r, td_model *m, td_err_t *err)
{
    if (r->bound.judge) {
        td_status s = td_judge_model(r->bound.judge, m, NULL,
                                     &r->measured.score, err);
        if (s) {
            td_err_prefix(err, "%s: scoring the compressed model: ",
                          td_model_path(m));
            return s;
        }
        r->measured.judge = r->bound.judge->name;
    }
    if (r->use_bound) {
        if (r->reuse)
            td_reuse_counts(r->reuse, &r->bound.layers_factored,
                            &r->bound.layers_reused);
        r->measured.bound = &r->bound;
    }
    return TD_OK;
}

/* The pass, then with calibration inputs the measurement, then the
 * whole model timed, then the report when wanted. */
static td_status compress(run *r, td_model *m,
                          const onnxtd_compress_options *in,
                          const td_compress_opts *o, onnxtd_report **report,
                          td_err_t *err)
{
    td_compress_report cr = {0};
    char *options = NULL;
    /* every graph of the model: sub-graphs and model-local functions */
    td_compress_opts with_scopes = *o;
    td_scopes *scopes = NULL;
    td_speed speed;
    int have_speed = 0;
    /* the original as it is, for the timing after the pass; force (for
     * exactness tests) writes every chain whatever its speed: no timing */
    td_arena *orig_arena = NULL;
    td_graph *orig = NULL;
    if (in->measure_runs > 0 && !in->force &&
        (!(orig_arena = td_arena_new()) ||
         !(orig = td_model_fork_graph(m, orig_arena)))) {
        td_arena_free(orig_arena);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    td_status s = td_scopes_new(m, td_model_graph(m), &scopes, err);
    if (s == TD_OK) {
        with_scopes.scopes = scopes;
        s = td_pass_compress(td_model_graph(m), &with_scopes, &cr, err);
        td_scopes_free(scopes);
    }
    if (s == TD_OK && r->cal && o->refit &&
        (s = td_calib_refit(r->cal, m, NULL, &cr, o->refit_waves,
                            o->refit_chain, &r->refit, err)) == TD_OK)
        r->have_refit = 1;
    if (s)
        td_err_prefix(err, "%s: ", td_model_path(m));
    else if (!(options = td_api_options_text(in)))
        s = td_err_set(err, TD_ENOMEM, "out of memory");
    else
        s = td_api_stamp(m, options, err);
    cr.model_name = td_model_path(m);
    cr.command = in->command;
    cr.options = options;
    cr.version = ONNXTD_VERSION;
    if (s == TD_OK && r->cal) {
        if ((s = td_calib_end(r->cal, m, &r->measured, err)))
            td_err_prefix(err, "%s: measuring the compressed model: ",
                          td_model_path(m));
        r->have_measured = s == TD_OK;
        if (s == TD_OK && r->sens)
            r->measured.sens = td_sens_info_of(r->sens);
        r->measured.have_refit = r->have_refit;
        r->measured.refit = r->refit;
        if (s == TD_OK && r->have_lambda_auto)
            r->measured.lambda_auto = &r->lambda_auto;
        if (s == TD_OK && r->use_bound)
            /* the sensitivity's and --act-lambda auto's runs are their
             * own; the steps' refits ran their own sessions */
            r->bound.model_runs = td_calib_model_runs(r->cal) -
                (r->sens ? td_sens_info_of(r->sens)->model_runs : 0) -
                (r->have_lambda_auto ? r->lambda_auto.model_runs : 0) +
                r->bound.refit_runs;
    } else if (s == TD_OK && r->use_bound) {
        /* no calibration inputs: the judge alone bounded, and its score
         * is all there is to measure */
        r->measured.judge_only = 1;
        r->have_measured = 1;
    }
    if (s == TD_OK && r->have_measured)
        s = bound_written(r, m, err);
    if (s == TD_OK && (s = time_model(m, orig, r->cal, in, o, &cr, &speed,
                                      &have_speed, err)) == TD_OK && have_speed)
        cr.speed = &speed;
    if (r->lat) {
        cr.lat_probed = o->probe != NULL;
        td_lat_counts(r->lat, &cr.lat_timed, &cr.lat_cached,
                      &cr.lat_over_time, &cr.lat_seconds);
    }
    if (s == TD_OK && report)
        s = api_report_new(&cr, r->have_measured ? &r->measured : NULL,
                           r->cal ? td_calib_take_statistics(r->cal) : NULL,
                           report, err);
    if (s == TD_OK && report && in->latency_cache) {
        char *text = NULL;
        size_t len = 0;
        if (!(s = td_lat_cache_text(r->lat, &text, &len, err)))
            api_report_set_latency_cache(*report, text, len);
    }
    td_compress_report_free(&cr);
    free(options);
    td_graph_free(orig);
    td_arena_free(orig_arena);
    return s;
}

onnxtd_status onnxtd_compress(onnxtd_model *om,
                              const onnxtd_compress_options *opts,
                              onnxtd_report **report, onnxtd_error *oerr)
{
    static const char fn[] = "onnxtd_compress";
    td_model *m = (td_model *)om;
    td_err_t *err = (td_err_t *)oerr;
    td_status s;
    if (report)
        *report = NULL;
    if ((s = api_need(m, fn, "m", err)) ||
        (s = api_need(opts, fn, "opts", err)))
        return (onnxtd_status)s;
    onnxtd_compress_options in;
    if ((s = read_options(opts, &in, err)) || (s = check_options(&in, err)))
        return (onnxtd_status)s;
    td_compress_opts o;
    translate(&in, m, &o);
    run r = {0};
    if (!(s = prepare(&r, &in, m, &o, err)))
        s = compress(&r, m, &in, &o, report, err);
    if (r.have_measured)
        td_measured_free(&r.measured);
    td_calib_free(r.cal);
    free(r.loop_names);
    td_lat_free(r.lat);
    td_reuse_free(r.reuse);
    td_sens_free(r.sens);
    td_stats_free(r.stats);
    if (r.have_inc)
        regfree(&r.inc);
    if (r.have_exc)
        regfree(&r.exc);
    return (onnxtd_status)s;
}

onnxtd_status onnxtd_stats_model(onnxtd_model *om, size_t *count,
                                 onnxtd_error *oerr)
{
    td_model *m = (td_model *)om;
    td_err_t *err = (td_err_t *)oerr;
    size_t n = 0;
    td_status s = api_need(m, "onnxtd_stats_model", "m", err);
    if (s)
        return (onnxtd_status)s;
    s = td_pass_stats_outputs(td_model_graph(m), td_model_opset(m, ""), &n,
                              err);
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
