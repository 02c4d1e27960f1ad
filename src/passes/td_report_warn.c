/* Warnings in the stderr summary: data-free layers factored beyond a sane
 * error, whose effect on the outputs nothing measured. */
#include "td_passes.h"
#include "util/td_buf.h"

/* A relative weight error of a half is where a layer keeps less than
 * three quarters of its energy: past it, on the bench models, a single
 * layer was enough to move a task metric by points (ISNet's side heads,
 * PP-OCR's projections). */
#define TD_SANE_LAYER_ERROR 0.5

/* Lines shown before "and N more". */
#define WARN_LINES 8

void td_report_warn_text(td_buf *b, const td_compress_report *r)
{
    size_t over = 0;
    if (r->have_stats)
        return;
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        if (l->method == TD_KEEP || !(l->rel_error > TD_SANE_LAYER_ERROR))
            continue;
        if (over++ < WARN_LINES)
            td_buf_printf(b, "warning: '%s' factored data-free at rel. "
                          "error %.3f (over %.2f); nothing measured its "
                          "effect on the outputs (--calib measures it)\n",
                          l->node, l->rel_error, TD_SANE_LAYER_ERROR);
    }
    if (over > WARN_LINES)
        td_buf_printf(b, "warning: and %zu more layers over %.2f (see "
                      "rel_error in the JSON report)\n", over - WARN_LINES,
                      TD_SANE_LAYER_ERROR);
}
