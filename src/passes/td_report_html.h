/* Pieces of the HTML report shared by its page (td_report_html.c) and its
 * chart (td_report_chart.c). */
#ifndef TD_REPORT_HTML_H
#define TD_REPORT_HTML_H

#include "td_passes.h"
#include "util/td_buf.h"

/* The layers' totals as the JSON report counts them: a sum is known only
 * when every layer's count is (kept layers count their own). Doubles: a
 * sum of int64 counts can overflow when --force kept large chains. */
typedef struct td_report_totals {
    double params_before, params_after, macs_before, macs_after;
    int params_known, macs_known;
    size_t replaced;
    double largest_params;  /* the common scale of the bars */
} td_report_totals;

void td_report_totals_of(const td_compress_report *r, td_report_totals *t);
/* HTML text of s (escaped, ill-formed UTF-8 and controls as U+FFFD). */
void td_html_esc(td_buf *b, const char *s);
/* An inline SVG bar pair: before in grey, after over it, both to scale
 * (the width of `scale` parameters is the full bar). */
void td_report_html_bar(td_buf *b, int64_t before, int64_t after,
                        double scale);
/* One SVG chart: each layer's error against the share of its parameters
 * (MACs under a FLOPs target) its chain saves. */
void td_report_html_chart(td_buf *b, const td_compress_report *r);

#endif
