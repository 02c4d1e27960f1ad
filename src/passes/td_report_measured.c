/* The measured deviation in the three reports (JSON, text, HTML). */
#include <math.h>
#include <stdio.h>

#include "td_passes.h"
#include "util/td_buf.h"

static const char *where(const td_measured *m)
{
    return m->judge_only ? "none"
           : m->on_calibration ? "calibration" : "held-out";
}

/* The measured sensitivity the allocation used (null: none). */
static void sens_json(td_buf *b, const td_sens_info *si)
{
    if (!si) {
        td_json_null(b);
        return;
    }
    td_json_open(b, '{');
    td_json_key(b, "layers"); td_json_int(b, (int64_t)si->layers);
    td_json_key(b, "groups"); td_json_int(b, (int64_t)si->groups);
    td_json_key(b, "inputs"); td_json_int(b, (int64_t)si->inputs);
    td_json_key(b, "from_cache"); td_json_bool(b, si->from_cache);
    td_json_key(b, "model_runs"); td_json_int(b, (int64_t)si->model_runs);
    td_json_key(b, "seconds"); td_json_num(b, si->seconds);
    td_json_key(b, "all_probes_rel_l2");
    if (si->dev_all < 0)
        td_json_null(b);
    else
        td_json_num(b, si->dev_all);
    td_json_key(b, "weight_min"); td_json_num(b, si->w_min);
    td_json_key(b, "weight_max"); td_json_num(b, si->w_max);
    td_json_key(b, "cache");
    if (si->cache)
        td_json_str(b, si->cache);
    else
        td_json_null(b);
    td_json_close(b, '}');
}

static void sens_text(td_buf *b, const td_sens_info *si)
{
    if (!si)
        return;
    if (si->from_cache)
        td_buf_printf(b, "sensitivity: %zu layers' weights read from %s (no "
                      "model run)", si->layers, si->cache);
    else
        td_buf_printf(b, "sensitivity: %zu layers in %zu groups probed on %zu "
                      "calibration input%s, %zu whole-model runs in %.1f s",
                      si->layers, si->groups, si->inputs,
                      si->inputs == 1 ? "" : "s", si->model_runs,
                      si->seconds);
    td_buf_printf(b, "; weights %.3g..%.3g (mean 1)\n", si->w_min,
                  si->w_max);
}

/* A candidate of --act-lambda auto as JSON: its value, or "cv". */
static void lambda_value_json(td_buf *b, double v)
{
    if (v == TD_STATS_LAMBDA_CV)
        td_json_str(b, "cv");
    else
        td_json_num(b, v);
}

static void lambda_auto_json(td_buf *b, const td_lambda_choice *c)
{
    td_json_open(b, '{');
    td_json_key(b, "candidates");
    td_json_open(b, '[');
    for (size_t q = 0; q < c->n; q++) {
        td_json_open(b, '{');
        td_json_key(b, "act_lambda");
        lambda_value_json(b, c->value[q]);
        td_json_key(b, "max_rel_l2");
        td_json_num(b, c->deviation[q]);
        if (c->by_floor) {  /* only then: other reports keep their bytes */
            if (c->agreement[q] >= 0) {
                td_json_key(b, "lowest_agreement");
                td_json_num(b, c->agreement[q]);
            }
            if (c->iou[q] >= 0) {
                td_json_key(b, "lowest_iou");
                td_json_num(b, c->iou[q]);
            }
            if (!isnan(c->score[q])) {
                td_json_key(b, "score");
                td_json_num(b, c->score[q]);
            }
            td_json_key(b, "bound_used");
            td_json_num(b, c->use[q]);
        }
        td_json_close(b, '}');
    }
    td_json_close(b, ']');
    td_json_key(b, "chosen");
    lambda_value_json(b, c->value[c->chosen]);
    td_json_key(b, "samples"); td_json_int(b, (int64_t)c->samples);
    td_json_key(b, "model_runs"); td_json_int(b, (int64_t)c->model_runs);
    td_json_key(b, "seconds"); td_json_num(b, c->seconds);
    td_json_close(b, '}');
}

static void lambda_value_text(td_buf *b, double v)
{
    if (v == TD_STATS_LAMBDA_CV)
        td_buf_printf(b, "cv");
    else
        td_buf_printf(b, "%g", v);
}

static void lambda_auto_text(td_buf *b, const td_lambda_choice *c)
{
    if (!c)
        return;
    if (c->by_floor)
        td_buf_printf(b, "--act-lambda auto: share of the bound used on %zu "
                      "held-out input%s at the budget asked:", c->samples,
                      c->samples == 1 ? "" : "s");
    else
        td_buf_printf(b, "--act-lambda auto: held-out rel. L2 on %zu input%s "
                      "at the budget asked:", c->samples,
                      c->samples == 1 ? "" : "s");
    for (size_t q = 0; q < c->n; q++) {
        td_buf_printf(b, "%s ", q ? "," : "");
        lambda_value_text(b, c->value[q]);
        if (!c->by_floor) {
            td_buf_printf(b, " -> %.4g", c->deviation[q]);
            continue;
        }
        td_buf_printf(b, " -> %.3g (rel. L2 %.4g", c->use[q],
                      c->deviation[q]);
        if (c->agreement[q] >= 0)
            td_buf_printf(b, ", agreement %.4f", c->agreement[q]);
        if (c->iou[q] >= 0)
            td_buf_printf(b, ", mask IoU %.4f", c->iou[q]);
        if (!isnan(c->score[q]))
            td_buf_printf(b, ", score %.6g", c->score[q]);
        td_buf_printf(b, ")");
    }
    td_buf_printf(b, "; kept ");
    lambda_value_text(b, c->value[c->chosen]);
    td_buf_printf(b, " (%zu whole-model runs, %.1f s)\n", c->model_runs,
                  c->seconds);
}

void td_report_measured_json(td_buf *b, const td_measured *m)
{
    if (!m) {
        td_json_null(b);
        return;
    }
    td_json_open(b, '{');
    td_json_key(b, "inputs"); td_json_str(b, where(m));
    td_json_key(b, "samples"); td_json_int(b, (int64_t)m->samples);
    td_json_key(b, "in_loop"); td_json_bool(b, m->in_loop);
    td_json_key(b, "calibration_samples");
    td_json_int(b, (int64_t)m->calib_samples);
    td_json_key(b, "runtime"); td_json_str(b, m->runtime);
    td_json_key(b, "statistics_seconds"); td_json_num(b, m->stats_seconds);
    td_json_key(b, "statistics_peak_rss");
    if (m->stats_peak_rss)
        td_json_int(b, (int64_t)m->stats_peak_rss);
    else
        td_json_null(b);
    td_json_key(b, "outputs");
    td_json_open(b, '[');
    for (size_t i = 0; i < m->n_out; i++) {
        const td_measured_output *o = &m->out[i];
        td_json_open(b, '{');
        td_json_key(b, "name"); td_json_str(b, o->name);
        td_json_key(b, "rel_l2"); td_json_num(b, o->rel_l2);
        td_json_key(b, "max_abs"); td_json_num(b, o->max_abs);
        td_json_key(b, "cosine"); td_json_num(b, o->cosine);
        td_json_key(b, "top1_agreement");
        if (o->agreement < 0)
            td_json_null(b);
        else
            td_json_num(b, o->agreement);
        /* a probability map's mask IoU per input (null: no map) */
        td_json_key(b, "mask_iou");
        if (o->iou_min < 0) {
            td_json_null(b);
        } else {
            td_json_open(b, '{');
            td_json_key(b, "threshold"); td_json_num(b, m->iou_threshold);
            td_json_key(b, "min"); td_json_num(b, o->iou_min);
            td_json_key(b, "mean"); td_json_num(b, o->iou_mean);
            td_json_key(b, "nearly_empty");
            td_json_int(b, (int64_t)o->iou_empty);
            td_json_close(b, '}');
        }
        td_json_key(b, "state"); td_json_bool(b, o->state);
        td_json_key(b, "state_input");
        if (o->state_input)
            td_json_str(b, o->state_input);
        else
            td_json_null(b);
        td_json_close(b, '}');
    }
    td_json_close(b, ']');
    td_json_key(b, "latency");
    if (!m->runs) {
        td_json_null(b);
    } else {
        td_json_open(b, '{');
        td_json_key(b, "runs"); td_json_int(b, (int64_t)m->runs);
        td_json_key(b, "before_ms"); td_json_num(b, m->ms_before);
        td_json_key(b, "after_ms"); td_json_num(b, m->ms_after);
        td_json_key(b, "ratio");
        td_json_num(b, m->ms_before > 0 ? m->ms_after / m->ms_before : NAN);
        td_json_close(b, '}');
    }
    if (m->judge) {  /* only with a judge: other reports keep their bytes */
        td_json_key(b, "judge"); td_json_str(b, m->judge);
        td_json_key(b, "score"); td_json_num(b, m->score);
    }
    td_json_key(b, "bound");
    td_report_bound_json(b, m->bound);
    td_json_key(b, "sensitivity");
    sens_json(b, m->sens);
    td_json_key(b, "refit");
    td_report_refit_json(b, m->have_refit ? &m->refit : NULL);
    if (m->lambda_auto) {  /* the key only then: other reports keep their bytes */
        td_json_key(b, "act_lambda_auto");
        lambda_auto_json(b, m->lambda_auto);
    }
    td_json_close(b, '}');
}

/* Held-out inputs below this, a bound's verdict is a warning's matter:
 * one or two inputs are a sample of what the model will see, not a
 * measure of it. */
#define TD_BOUND_FEW_INPUTS 4

/* The judge bounds alone: no rel. L2, no IoU floor, and no agreement
 * floor measured at any step (no class scores judged). Its inputs are the
 * caller's, so the held-out inputs' count says nothing of the bound. */
static int judge_alone(const td_bound_report *br)
{
    if (!br->judge || br->max_error >= 0 || br->min_iou >= 0)
        return 0;
    for (size_t i = 0; i < br->n_steps; i++)
        if (br->min_agreement >= 0 && br->steps[i].agreement >= 0)
            return 0;
    return 1;
}

/* The written model's speed over the original's (ms_after > 0: ORT gives
 * no zero median; a zero would print inf, not crash). */
static double speed_of(const td_measured *m)
{
    return m->ms_before / m->ms_after;
}

static void head(td_buf *b, const td_measured *m)
{
    if (m->judge_only)
        td_buf_printf(b, "no calibration inputs: the judge's score alone");
    else if (m->on_calibration)
        td_buf_printf(b, "the %zu calibration input%s themselves (none held "
                      "out: unseen inputs may deviate more)", m->samples,
                      m->samples == 1 ? "" : "s");
    else
        td_buf_printf(b, "%zu held-out input%s", m->samples,
                      m->samples == 1 ? "" : "s");
    if (m->in_loop)
        td_buf_printf(b, " in order, each model feeding its own state back");
}

static void output_text(td_buf *b, const td_measured_output *o)
{
    td_buf_printf(b, "rel. L2 %.3g, max abs %.3g, cosine %.6f", o->rel_l2,
                  o->max_abs, o->cosine);
    if (o->agreement >= 0)
        td_buf_printf(b, ", top-1 agreement %.1f%%", 100 * o->agreement);
    if (o->iou_min >= 0)
        td_buf_printf(b, ", mask IoU %.4f (lowest %.4f%s)", o->iou_mean,
                      o->iou_min, o->iou_empty ? "; maps nearly empty "
                      "on both sides left out" : "");
}

void td_report_measured_text(td_buf *b, const td_measured *m)
{
    if (!m)
        return;
    if (m->judge_only) {
        td_buf_printf(b, "measured: ");
        head(b, m);
        td_buf_printf(b, "\n  the model written scores %.6g by the judge "
                      "(%s)\n", m->score, m->judge);
        td_report_bound_text(b, m->bound);
        return;
    }
    td_buf_printf(b, "statistics from %zu input%s in %.1f s", m->calib_samples,
                  m->calib_samples == 1 ? "" : "s", m->stats_seconds);
    if (m->stats_peak_rss)
        td_buf_printf(b, " (peak memory %.0f MB)", (double)m->stats_peak_rss / 1e6);
    td_buf_printf(b, "\nmeasured against the original on ");
    head(b, m);
    td_buf_printf(b, ", ONNX Runtime %s:\n", m->runtime);
    const td_measured_output *state = NULL;
    for (size_t i = 0; i < m->n_out; i++) {
        td_buf_printf(b, "  output '%s': ", m->out[i].name);
        output_text(b, &m->out[i]);
        td_buf_printf(b, "%s\n", m->out[i].state ? " (a state fed back)" : "");
        if (m->out[i].state && !state)
            state = &m->out[i];
    }
    /* Each held-out input carried the original's state; deployed, the
     * model feeds back its own, and on Silero VAD errors within 0.05 per
     * step grew to 0.77 F1 of speech frames in the loop. */
    if (state && !m->in_loop)
        td_buf_printf(b, "warning: output '%s' has the shape of input '%s': "
                      "if the model feeds one back to the other, give "
                      "--state %s=%s, so that the bound is kept in that "
                      "loop; here each input was measured from the "
                      "original's state, and in a loop the error can "
                      "grow\n", state->name,
                      state->state_input ? state->state_input : "?",
                      state->state_input ? state->state_input : "INPUT",
                      state->name);
    if (m->runs && m->ms_before > 0)
        /* a speed, as the "speed:" line gives it: a time ratio (0.66x)
         * beside a speed (1.50x) read as a slowdown */
        td_buf_printf(b, "  latency %.3g ms -> %.3g ms (%.2fx the original's "
                      "speed), medians of %zu interleaved runs\n",
                      m->ms_before, m->ms_after, speed_of(m), m->runs);
    if (m->judge)
        td_buf_printf(b, "  the model written scores %.6g by the judge (%s)\n",
                      m->score, m->judge);
    td_report_bound_text(b, m->bound);
    if (m->bound && !m->in_loop && m->samples < TD_BOUND_FEW_INPUTS &&
        !judge_alone(m->bound))
        td_buf_printf(b, "warning: the bound was judged on %zu held-out "
                      "input%s only: inputs unlike %s can deviate far more "
                      "(PP-OCR det bounded by its mask IoU on one rendered "
                      "page lost a photographed page); give more "
                      "calibration inputs like the ones the model will "
                      "see\n", m->samples, m->samples == 1 ? "" : "s",
                      m->samples == 1 ? "it" : "them");
    sens_text(b, m->sens);
    td_report_refit_text(b, m->have_refit ? &m->refit : NULL);
    lambda_auto_text(b, m->lambda_auto);
}

void td_report_measured_html(td_buf *b, const td_measured *m,
                             void (*esc)(td_buf *, const char *))
{
    if (!m) {
        td_buf_printf(b, "<tr><th>measured deviation</th><td>not measured "
                         "(no calibration inputs)</td></tr>");
        return;
    }
    td_buf_printf(b, "<tr><th>measured on</th><td>");
    head(b, m);
    td_buf_printf(b, "</td></tr>");
    for (size_t i = 0; i < m->n_out; i++) {
        td_buf_printf(b, "<tr><th>output ");
        esc(b, m->out[i].name);
        td_buf_printf(b, "</th><td>");
        output_text(b, &m->out[i]);
        td_buf_printf(b, "</td></tr>");
    }
    if (m->judge) {
        td_buf_printf(b, "<tr><th>judge</th><td>%.6g (", m->score);
        esc(b, m->judge);
        td_buf_printf(b, ")</td></tr>");
    }
    if (m->runs && m->ms_before > 0)
        td_buf_printf(b, "<tr><th>latency</th><td>%.3g ms &#8594; %.3g ms "
                         "(%.2fx the original's speed), medians of %zu "
                         "interleaved runs</td></tr>",
                      m->ms_before, m->ms_after, speed_of(m), m->runs);
}
