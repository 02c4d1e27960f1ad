/* The never-slower rule in the reports: per layer in the JSON, and in the
 * text table the layers kept for speed and a warning for each chain the user
 * named that is predicted slower (td_latency.h). */
#include "td_latency.h"
#include "util/td_buf.h"

void td_report_latency_layer_json(td_buf *b, const td_layer_report *l)
{
    if (l->kept_for_speed) {
        td_json_key(b, "kept_for_speed");
        td_json_bool(b, 1);
    }
    if (l->slower_by > 0) {
        td_json_key(b, "predicted_slower_by");
        td_json_num(b, l->slower_by);
    }
}

/* Warnings beyond this many go to the JSON report only. */
#define MAX_WARNINGS 8

void td_report_latency_text(td_buf *b, const td_compress_report *r)
{
    size_t first = 0, kept = td_latency_kept(r, &first), shown = 0;
    if (kept)
        td_buf_printf(b, "kept for speed: %zu layer%s whose every chain is "
                      "predicted slower than the layer (first '%s'); "
                      "options.allow_slower uses them\n", kept, kept == 1 ? "" : "s",
                      r->layers[first].node);
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        if (!(l->slower_by > 0) || l->method == TD_KEEP)
            continue;
        if (shown++ == MAX_WARNINGS) {
            td_buf_printf(b, "warning: more chains predicted slower (see the "
                          "JSON report)\n");
            break;
        }
        td_buf_printf(b, "warning: %s: the %s chain asked for is written, but "
                      "the latency model predicts it %.2fx slower than the "
                      "layer\n", l->node, td_method_name(l->method),
                      l->slower_by);
    }
}

td_status td_speed_check(const td_speed *s, int allow_slower, td_err_t *err)
{
    /* both estimates must agree: on a loaded machine one pair in a few
     * is disturbed, and the median ratio and the ratio of medians then
     * part by more than the threshold */
    if (!s || !s->timed || allow_slower || s->speedup >= TD_SPEED_MIN_SPEEDUP ||
        s->ms_before >= TD_SPEED_MIN_SPEEDUP * s->ms_after ||
        s->ms_after - s->ms_before < TD_SPEED_MIN_MS)
        return TD_OK;
    return td_err_set(err, TD_EUNMET,
                      "the compressed model ran slower than the original: "
                      "%.2fx its speed (%.3g ms against %.3g ms, median of "
                      "%zu interleaved pairs in ONNX Runtime %s on %s "
                      "inputs); not written: options.allow_slower writes it, "
                      "options.measure_runs 0 skips the timing", s->speedup, s->ms_after,
                      s->ms_before, s->pairs, s->runtime, s->inputs);
}

void td_report_speed_json(td_buf *b, const td_speed *s)
{
    if (!s) {
        td_json_null(b);
        return;
    }
    td_json_open(b, '{');
    td_json_key(b, "timed"); td_json_bool(b, s->timed);
    if (!s->timed) {
        td_json_key(b, "why"); td_json_str(b, s->why);
    } else {
        td_json_key(b, "inputs"); td_json_str(b, s->inputs);
        td_json_key(b, "runtime"); td_json_str(b, s->runtime);
        td_json_key(b, "pairs"); td_json_int(b, (int64_t)s->pairs);
        td_json_key(b, "before_ms"); td_json_num(b, s->ms_before);
        td_json_key(b, "after_ms"); td_json_num(b, s->ms_after);
        td_json_key(b, "speedup"); td_json_num(b, s->speedup);
    }
    td_json_close(b, '}');
}

void td_report_speed_text(td_buf *b, const td_speed *s)
{
    if (!s)
        return;
    if (!s->timed)
        td_buf_printf(b, "speed: %s\n", s->why);
    else
        td_buf_printf(b, "%sspeed: %.3g ms -> %.3g ms, %.2fx the original's "
                      "speed (median of %zu interleaved pairs, ONNX Runtime "
                      "%s, %s inputs)\n",
                      s->speedup < TD_SPEED_MIN_SPEEDUP ? "warning: " : "",
                      s->ms_before, s->ms_after, s->speedup, s->pairs,
                      s->runtime, s->inputs);
}
