/* The public report object: the compression pass's report with its own
 * copy of every string (the pass's point into the model), the measured
 * deviation and the calibration statistics. */
#ifndef API_REPORT_H
#define API_REPORT_H

#include "graph/td_stats.h"
#include "onnxtd.h"
#include "passes/td_passes.h"

/* A report over r (whose strings are copied; r is left to its owner),
 * taking measured (may be NULL; emptied) and stats (may be NULL) over. */
td_status api_report_new(const td_compress_report *r, td_measured *measured,
                         td_stats *stats, onnxtd_report **out, td_err_t *err);

/* Gives r the latency cache's new text (owned by r from then on). */
void api_report_set_latency_cache(onnxtd_report *r, char *text, size_t len);

#endif
