/* Which output-error bound a compression keeps; see api_bound.h. */
#include <math.h>
#include <string.h>

#include "api_bound.h"

static int per_layer_budget(const onnxtd_compress_options *opts)
{
    switch (opts->budget.kind) {
    case ONNXTD_BUDGET_RANK:
    case ONNXTD_BUDGET_RATIO:
    case ONNXTD_BUDGET_TOL:
    case ONNXTD_BUDGET_VBMF:
        return 1;
    default:
        return 0;
    }
}

double api_iou_threshold(const onnxtd_compress_options *opts)
{
    return opts->iou_threshold > 0 ? opts->iou_threshold
                                   : ONNXTD_DEFAULT_IOU_THRESHOLD;
}

int api_bound_set(const onnxtd_compress_options *opts)
{
    return opts->max_error >= 0 || opts->min_agreement > 0 ||
           opts->min_iou > 0 || opts->judge;
}

td_status api_bound_setup(const onnxtd_compress_options *opts, int calib,
                          td_compress_opts *o, td_bound_report *br,
                          td_judge *judge, int *use, td_err_t *err)
{
    *use = 0;
    memset(br, 0, sizeof *br);
    int iou = opts->min_iou > 0;
    int given = opts->max_error > 0 || opts->min_agreement > 0 || iou ||
                opts->judge;
    if (opts->judge && !isfinite(opts->min_score))
        return td_err_set(err, TD_EUSAGE, "options.judge needs "
                          "options.min_score: the lowest of its scores "
                          "within the bound (a finite number)");
    if (!opts->judge && !isnan(opts->min_score))
        return td_err_set(err, TD_EUSAGE, "options.min_score bounds the "
                          "score options.judge gives: give options.judge");
    if (isnan(opts->max_error) || isinf(opts->max_error) ||
        isnan(opts->min_agreement) || opts->min_agreement > 1)
        return td_err_set(err, TD_EUSAGE, "options.max_error must be a "
                          "finite rel. L2 and options.min_agreement at most 1");
    if (isnan(opts->min_iou) || opts->min_iou > 1 ||
        !(opts->iou_threshold >= 0 && opts->iou_threshold < 1))
        return td_err_set(err, TD_EUSAGE, "options.min_iou must be at most 1 "
                          "and options.iou_threshold in [0, 1)");
    if (opts->iou_threshold > 0 && !iou)
        return td_err_set(err, TD_EUSAGE, "options.iou_threshold is where "
                          "options.min_iou binarises the maps: give min_iou");
    /* without inputs nothing measures a deviation; the caller's judge
     * still scores each model tried (whose factors are then data-free,
     * or from options.act_stats) */
    if ((opts->max_error > 0 || opts->min_agreement > 0 || iou) && !calib)
        return td_err_set(err, TD_EUSAGE, "options.max_error, "
                          "options.min_agreement and options.min_iou need "
                          "options.calib: they bound the deviation measured "
                          "on held-out calibration inputs (options.judge "
                          "alone does not: it scores each model itself)");
    if (opts->n_bound_outputs && !opts->bound_outputs)
        return td_err_set(err, TD_EUSAGE, "options.n_bound_outputs %zu "
                          "with options.bound_outputs NULL",
                          opts->n_bound_outputs);
    for (size_t i = 0; i < opts->n_bound_outputs; i++)
        if (!opts->bound_outputs[i])
            return td_err_set(err, TD_EUSAGE, "options.bound_outputs[%zu] "
                              "is NULL", i);
    int bounded = calib && !per_layer_budget(opts) && api_bound_set(opts);
    if (opts->n_bound_outputs && !bounded)
        return td_err_set(err, TD_EUSAGE, "options.bound_outputs name what "
                          "the bound judges: they need options.calib and a "
                          "bound (a target_params or target_flops budget or "
                          "none, max_error not off unless min_agreement or "
                          "min_iou is given)");
    if (given && per_layer_budget(opts))
        return td_err_set(err, TD_EUSAGE, "options.max_error, "
                          "options.min_agreement, options.min_iou and "
                          "options.judge take a "
                          "target_params or "
                          "target_flops budget or none, not a per-layer one "
                          "(rank, ratio, tol, vbmf)");
    /* the default bound holds a global budget asked for, and with no
     * budget at all the smallest model within it is searched for: the
     * data-free default (half of every layer) measured on real inputs is
     * no budget the user chose, and can leave a task collapsed (PP-OCRv4
     * rec: char accuracy 0.86 for the original's 0.993). A per-layer
     * budget asked for is measured only. */
    /* --max-error off with --min-agreement A: the agreement alone bounds
     * (a CTC recogniser's per-step top-1 is what its decoding reads, and
     * its probabilities' rel. L2 is far stricter than its accuracy) */
    /* likewise the mask IoU of a segmentation or detection map: what its
     * user reads is the map binarised, not its rel. L2 */
    /* and the caller's own score (options.judge): what the task reads */
    int agreement_only = opts->max_error < 0 &&
                         (opts->min_agreement > 0 || iou || opts->judge);
    /* without calibration inputs, the judge alone */
    int judge_only = !calib && opts->judge;
    if ((!calib && !judge_only) ||
        (opts->max_error < 0 && !agreement_only) || per_layer_budget(opts))
        return TD_OK;
    br->max_error = agreement_only || judge_only ? -1
                    : opts->max_error > 0 ? opts->max_error
                                          : ONNXTD_DEFAULT_MAX_ERROR;
    br->min_agreement = opts->min_agreement > 0 ? opts->min_agreement
                        : opts->min_agreement < 0 || judge_only ? -1
                        : ONNXTD_DEFAULT_MIN_AGREEMENT;
    br->min_iou = iou ? opts->min_iou : -1;
    br->iou_threshold = api_iou_threshold(opts);
    if (opts->judge) {
        judge->fn = opts->judge;
        judge->ctx = opts->judge_ctx;
        judge->name = opts->judge_name ? opts->judge_name : "judge";
        br->judge = judge;
        br->min_score = opts->min_score;
    }
    if (o->global == TD_GLOBAL_NONE)
        o->global = TD_GLOBAL_PARAMS;
    else
        br->asked = o->target;
    br->kind = o->global;
    br->asked_flops = o->also_flops;
    br->outputs = opts->bound_outputs;
    br->n_outputs = opts->n_bound_outputs;
    *use = 1;
    return TD_OK;
}
