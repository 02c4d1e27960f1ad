/* The output-error bound's search in the reports: the bound, the budget
 * chosen, each compression tried with what was measured, the whole-model
 * runs and the time. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "td_passes.h"
#include "util/td_buf.h"

static const char *unit(const td_bound_report *br)
{
    return br->kind == TD_GLOBAL_FLOPS ? "flops" : "params";
}

static void num_or_null(td_buf *b, double v)
{
    if (v < 0)
        td_json_null(b);
    else
        td_json_num(b, v);
}

static void name_or_null(td_buf *b, const char *name)
{
    if (name[0])
        td_json_str(b, name);
    else
        td_json_null(b);
}

static void step_json(td_buf *b, const td_bound_step *st)
{
    td_json_open(b, '{');
    td_json_key(b, "target"); td_json_num(b, st->target);
    if (st->also_flops > 0) {
        td_json_key(b, "target_flops"); td_json_num(b, st->also_flops);
    }
    td_json_key(b, "planned"); td_json_bool(b, st->planned);
    /* null too where no output was measured (the judge alone) */
    td_json_key(b, "max_rel_l2");
    num_or_null(b, st->planned && st->n_judged ? st->rel_l2 : -1);
    td_json_key(b, "min_top1_agreement");
    num_or_null(b, st->planned ? st->agreement : -1);
    td_json_key(b, "min_mask_iou");
    num_or_null(b, st->planned ? st->iou : -1);
    /* which output gave each extreme (null: none measured) */
    td_json_key(b, "at");
    td_json_open(b, '{');
    td_json_key(b, "max_rel_l2");
    name_or_null(b, st->planned ? st->rel_l2_at : "");
    td_json_key(b, "min_top1_agreement");
    name_or_null(b, st->planned ? st->agreement_at : "");
    td_json_key(b, "min_mask_iou");
    name_or_null(b, st->planned ? st->iou_at : "");
    td_json_close(b, '}');
    if (!isnan(st->score)) {  /* only with a judge: other reports keep
                                 their bytes */
        td_json_key(b, "score"); td_json_num(b, st->score);
    }
    td_json_key(b, "within"); td_json_bool(b, st->within);
    td_json_key(b, "seconds"); td_json_num(b, st->seconds);
    td_json_close(b, '}');
}

void td_report_bound_json(td_buf *b, const td_bound_report *br)
{
    if (!br) {
        td_json_null(b);
        return;
    }
    td_json_open(b, '{');
    td_json_key(b, "max_rel_l2"); num_or_null(b, br->max_error);
    td_json_key(b, "min_top1_agreement"); num_or_null(b, br->min_agreement);
    td_json_key(b, "min_mask_iou"); num_or_null(b, br->min_iou);
    td_json_key(b, "iou_threshold");
    num_or_null(b, br->min_iou >= 0 ? br->iou_threshold : -1);
    if (br->judge) {
        td_json_key(b, "judge");
        td_json_str(b, br->judge->name ? br->judge->name : "judge");
        td_json_key(b, "min_score"); td_json_num(b, br->min_score);
        td_json_key(b, "score_original"); td_json_num(b, br->score_original);
    }
    /* the outputs judged: only when named (null: every one) */
    td_json_key(b, "outputs");
    if (br->n_outputs) {
        td_json_open(b, '[');
        for (size_t i = 0; i < br->n_outputs; i++)
            td_json_str(b, br->outputs[i]);
        td_json_close(b, ']');
    } else {
        td_json_null(b);
    }
    td_json_key(b, "target_kind"); td_json_str(b, unit(br));
    td_json_key(b, "asked"); num_or_null(b, br->asked > 0 ? br->asked : -1);
    td_json_key(b, "chosen"); td_json_num(b, br->chosen);
    if (br->asked_flops > 0) {
        td_json_key(b, "asked_flops"); td_json_num(b, br->asked_flops);
        td_json_key(b, "chosen_flops"); td_json_num(b, br->chosen_flops);
    }
    td_json_key(b, "met"); td_json_bool(b, br->met);
    td_json_key(b, "steps");
    td_json_open(b, '[');
    for (size_t i = 0; i < br->n_steps; i++)
        step_json(b, &br->steps[i]);
    td_json_close(b, ']');
    td_json_key(b, "model_runs"); td_json_int(b, (int64_t)br->model_runs);
    td_json_key(b, "seconds"); td_json_num(b, br->seconds);
    td_json_key(b, "cpu_seconds"); td_json_num(b, br->cpu_seconds);
    td_json_key(b, "layers_factored");
    td_json_int(b, (int64_t)br->layers_factored);
    td_json_key(b, "layers_reused"); td_json_int(b, (int64_t)br->layers_reused);
    td_json_close(b, '}');
}

/* The agreement named only where it bounds something: a model with no
 * class scores among the outputs judged (measured at some step) is
 * bounded without it, whatever min_agreement says. */
static double agreement_of(const td_bound_report *br)
{
    for (size_t i = 0; i < br->n_steps; i++)
        if (br->steps[i].agreement >= 0)
            return br->min_agreement;
    return br->n_steps ? -1 : br->min_agreement;
}

void td_report_bound_text(td_buf *b, const td_bound_report *br)
{
    if (!br)
        return;
    double min_agreement = agreement_of(br);
    td_buf_printf(b, "bound: ");
    if (br->n_outputs) {
        /* only these are judged; the others are measured and shown */
        td_buf_printf(b, "on output(s) ");
        for (size_t i = 0; i < br->n_outputs; i++)
            td_buf_printf(b, "%s'%s'", i ? ", " : "", br->outputs[i]);
        td_buf_printf(b, ": ");
    }
    if (br->max_error >= 0)
        td_buf_printf(b, "%srel. L2 <= %.4g%s", br->n_outputs ? ""
                      : "every output's ", br->max_error,
                      min_agreement >= 0 || br->min_iou >= 0 || br->judge
                          ? ", " : "");
    if (min_agreement >= 0)
        td_buf_printf(b, "class scores' top-1 agreement >= %.4g%s",
                      min_agreement,
                      br->min_iou >= 0 || br->judge ? ", " : "");
    if (br->min_iou >= 0)
        td_buf_printf(b, "probability maps' mask IoU (at %.4g) >= %.4g on "
                      "every input%s", br->iou_threshold, br->min_iou,
                      br->judge ? ", " : "");
    if (br->judge)
        td_buf_printf(b, "the judge's score >= %.6g (the original %.6g)",
                      br->min_score, br->score_original);
    if (br->max_error < 0)
        td_buf_printf(b, " (no rel. L2 bound)");
    if (br->asked > 0)
        td_buf_printf(b, "; target_%s %.3g asked, within the bound\n",
                      unit(br), br->asked);
    else
        td_buf_printf(b, "; the smallest model within it: target_%s "
                      "%.3g\n", unit(br), br->chosen);
    for (size_t i = 0; i < br->n_steps; i++) {
        const td_bound_step *st = &br->steps[i];
        td_buf_printf(b, "  tried target_%s %.3g: ", unit(br), st->target);
        if (!st->planned)
            td_buf_printf(b, "not reachable by the allocation");
        else if (st->n_judged)
            td_buf_printf(b, "largest rel. L2 %.4g", st->rel_l2);
        if (st->planned && st->agreement >= 0)
            td_buf_printf(b, ", lowest agreement %.4g", st->agreement);
        if (st->planned && st->iou >= 0)
            td_buf_printf(b, ", lowest mask IoU %.4g", st->iou);
        if (st->planned && !isnan(st->score))
            td_buf_printf(b, "%sscore %.6g", st->n_judged ? ", " : "",
                          st->score);
        td_buf_printf(b, " -> %s (%.1f s)\n", st->within ? "within" : "outside",
                      st->seconds);
    }
    td_buf_printf(b, "  %zu compression%s and %zu whole-model runs in %.1f s "
                  "(%.1f s of CPU)\n", br->n_steps, br->n_steps == 1 ? "" : "s",
                  br->model_runs, br->seconds, br->cpu_seconds);
    /* over every step and the model written, which takes each layer's
     * factors from the step that chose it */
    td_buf_printf(b, "  layer factorisations: %zu computed, %zu taken from "
                  "an earlier step (the model written's among them)\n",
                  br->layers_factored, br->layers_reused);
}

int td_outputs_name(const char *const *outputs, size_t n, const char *name)
{
    if (!n)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(outputs[i], name))
            return 1;
    return 0;
}

int td_bound_judges(const td_bound_report *br, const char *name)
{
    return td_outputs_name(br->outputs, br->n_outputs, name);
}

void td_bound_str(const td_bound_report *br, char *buf, size_t len)
{
    int n = 0;
    const char *sep = "";
    double min_agreement = agreement_of(br);
    buf[0] = '\0';
    if (br->max_error >= 0) {
        n = snprintf(buf, len, "max_error %.4g", br->max_error);
        sep = " and ";
    }
    if (min_agreement >= 0 && n >= 0 && (size_t)n < len) {
        n += snprintf(buf + n, len - (size_t)n, "%smin_agreement %.4g", sep,
                      min_agreement);
        sep = " and ";
    }
    if (br->min_iou >= 0 && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "%smin_iou %.4g (at %.4g)",
                      sep, br->min_iou, br->iou_threshold);
    if (br->judge && n >= 0 && (size_t)n < len) {
        n += snprintf(buf + n, len - (size_t)n, "%smin_score %.6g (the "
                      "original scores %.6g)", sep, br->min_score,
                      br->score_original);
        sep = " and ";
    }
    if (br->max_error < 0 && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " (no max_error)");
    /* the outputs judged, as far as the buffer goes */
    for (size_t i = 0; i < br->n_outputs && n >= 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "%s'%s'",
                      i ? ", " : " on output(s) ", br->outputs[i]);
}
