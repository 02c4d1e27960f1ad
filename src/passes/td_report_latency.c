/* The never-slower rule in the reports: per layer in the JSON (with where
 * its verdict came from: the measurement or the cost model), and in the
 * text table the layers kept for speed, a warning for each chain the user
 * named that is predicted or measured slower, and what was timed
 * (td_latency.h). */
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
    if (l->lat_source == TD_LAT_NONE)
        return;
    /* the verdict's source; the numbers whenever something was timed or
     * found in the cache */
    td_json_key(b, "latency");
    td_json_open(b, '{');
    td_json_key(b, "source");
    td_json_str(b, l->lat_source == TD_LAT_MEASURED ? "measured" : "model");
    if (l->lat_timed || l->lat_cached) {
        td_json_key(b, "layer_ms");
        td_json_num(b, l->lat_layer_ms);
        td_json_key(b, "chain_ms");
        td_json_num(b, l->lat_chain_ms);
        if (l->lat_ratio_median > 0) {  /* chain/layer per round */
            td_json_key(b, "ratio_median");
            td_json_num(b, l->lat_ratio_median);
            td_json_key(b, "ratio_quartiles");
            td_json_open(b, '[');
            td_json_num(b, l->lat_ratio_q1);
            td_json_num(b, l->lat_ratio_q3);
            td_json_close(b, ']');
        }
        td_json_key(b, "cached");
        td_json_bool(b, l->lat_cached);
        if (l->lat_chains_timed > 1) {  /* the first chosen measured slower */
            td_json_key(b, "chains_timed");
            td_json_int(b, l->lat_chains_timed);
        }
    }
    if (l->lat_predicted > 0) {
        td_json_key(b, "predicted_ratio");
        td_json_num(b, l->lat_predicted);
    }
    td_json_close(b, '}');
}

void td_report_latency_totals_json(td_buf *b, const td_compress_report *r)
{
    if (!r->lat_probed)
        return;
    size_t measured = 0;
    for (size_t i = 0; i < r->n_layers; i++)
        measured += r->layers[i].lat_source == TD_LAT_MEASURED;
    td_json_key(b, "latency_measure");
    td_json_open(b, '{');
    td_json_key(b, "timed");
    td_json_int(b, (int64_t)r->lat_timed);
    td_json_key(b, "cached");
    td_json_int(b, (int64_t)r->lat_cached);
    td_json_key(b, "over_time");
    td_json_int(b, (int64_t)r->lat_over_time);
    td_json_key(b, "decided");
    td_json_int(b, (int64_t)measured);
    td_json_key(b, "seconds");
    td_json_num(b, r->lat_seconds);
    td_json_close(b, '}');
}

/* Warnings beyond this many go to the JSON report only. */
#define MAX_WARNINGS 8

void td_report_latency_text(td_buf *b, const td_compress_report *r)
{
    size_t first = 0, kept = td_latency_kept(r, &first), shown = 0;
    if (kept)
        td_buf_printf(b, "kept for speed: %zu layer%s whose every chain is "
                      "%s slower than the layer (first '%s'); "
                      "options.allow_slower uses them\n", kept, kept == 1 ? "" : "s",
                      r->layers[first].lat_source == TD_LAT_MEASURED
                          ? "measured (in ONNX Runtime) or predicted"
                          : "predicted",
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
                      "%s %.2fx slower than the layer\n", l->node,
                      td_method_name(l->method),
                      l->lat_source == TD_LAT_MEASURED
                          ? "it measured" : "the latency model predicts it",
                      l->slower_by);
    }
    if (r->lat_probed) {
        size_t measured = 0;
        for (size_t i = 0; i < r->n_layers; i++)
            measured += r->layers[i].lat_source == TD_LAT_MEASURED;
        td_buf_printf(b, "per-layer latency: %zu chain%s timed against the "
                      "layer in ONNX Runtime (%.1f s), %zu from the cache; "
                      "%zu speed verdict%s measured, the others from the "
                      "cost model%s\n", r->lat_timed, r->lat_timed == 1 ? "" : "s",
                      r->lat_seconds, r->lat_cached, measured,
                      measured == 1 ? "" : "s",
                      r->lat_over_time ? " (the time for timing ran out "
                                         "before the smallest layers)" : "");
    }
}

td_status td_speed_check(const td_speed *s, int allow_slower, td_err_t *err)
{
    /* both estimates must agree: on a loaded machine one pair in a few
     * is disturbed, and the median ratio and the ratio of medians then
     * part by more than the threshold */
    if (!s || !s->timed || allow_slower || s->speedup >= TD_SPEED_MIN_SPEEDUP ||
        s->speedup_q3 >= 1 ||
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
