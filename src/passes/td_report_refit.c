/* The sequential refit in the reports: chains refitted (and of them, those
 * whose both factors were) and skipped, the calibration error of their
 * outputs before and after, the waves, the whole-model runs and the
 * time. */
#include <math.h>
#include <stdio.h>

#include "td_passes.h"
#include "util/td_buf.h"

void td_report_refit_json(td_buf *b, const td_refit_report *rr)
{
    if (!rr) {
        td_json_null(b);
        return;
    }
    td_json_open(b, '{');
    td_json_key(b, "chains"); td_json_int(b, (int64_t)rr->refitted);
    td_json_key(b, "whole_chains"); td_json_int(b, (int64_t)rr->whole);
    td_json_key(b, "rel_lambda_median");
    td_json_num(b, rr->refitted ? rr->lambda_median : NAN);
    td_json_key(b, "skipped"); td_json_int(b, (int64_t)rr->skipped);
    td_json_key(b, "first_skip_reason");
    if (rr->first_skip)
        td_json_str(b, rr->first_skip);
    else
        td_json_null(b);
    td_json_key(b, "waves"); td_json_int(b, (int64_t)rr->waves);
    /* root mean square over the chains of their relative L2; none
     * refitted, nothing measured: NaN, which td_json_num writes as null */
    td_json_key(b, "rms_rel_l2_before");
    td_json_num(b, rr->refitted ? sqrt(rr->before) : NAN);
    td_json_key(b, "rms_rel_l2_after");
    td_json_num(b, rr->refitted ? sqrt(rr->after) : NAN);
    td_json_key(b, "model_runs"); td_json_int(b, (int64_t)rr->model_runs);
    td_json_key(b, "seconds"); td_json_num(b, rr->seconds);
    td_json_close(b, '}');
}

void td_report_refit_text(td_buf *b, const td_refit_report *rr)
{
    if (!rr)
        return;
    if (!rr->refitted) {
        td_buf_printf(b, "refit: no chain refitted");
        if (rr->skipped)
            td_buf_printf(b, " (%zu not: %s)", rr->skipped, rr->first_skip);
        td_buf_printf(b, "\n");
        return;
    }
    td_buf_printf(b, "refit: %zu chain%s", rr->refitted,
                  rr->refitted == 1 ? "" : "s");
    if (rr->whole)
        td_buf_printf(b, " (%zu with both factors)", rr->whole);
    td_buf_printf(b, " in %zu wave%s (%zu whole-model runs, %.1f s); their "
                  "output rel. L2 on the calibration inputs %.3g -> %.3g "
                  "(ridge by cross-validation, median %g)",
                  rr->waves, rr->waves == 1 ? "" : "s", rr->model_runs,
                  rr->seconds, sqrt(rr->before), sqrt(rr->after),
                  rr->lambda_median);
    if (rr->skipped)
        td_buf_printf(b, "; %zu not refitted (%s)", rr->skipped,
                      rr->first_skip);
    td_buf_printf(b, "\n");
}
