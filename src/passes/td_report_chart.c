/* The HTML report's graphics: the totals they are scaled by, the bars of
 * the replaced layers' table and the chart of error against savings. */
#include <math.h>
#include <stdio.h>

#include "td_report_html.h"

void td_report_totals_of(const td_compress_report *r, td_report_totals *t)
{
    *t = (td_report_totals){.params_known = 1, .macs_known = 1};
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        if (l->params_before < 0 || l->params_after < 0)
            t->params_known = 0;
        if (l->macs_before < 0 || l->macs_after < 0)
            t->macs_known = 0;
        t->params_before += (double)l->params_before;
        t->params_after += (double)l->params_after;
        t->macs_before += (double)l->macs_before;
        t->macs_after += (double)l->macs_after;
        t->replaced += l->method != TD_KEEP;
        if (l->method != TD_KEEP && (double)l->params_before > t->largest_params)
            t->largest_params = (double)l->params_before;
    }
}

enum { BAR_WIDTH = 200 };

void td_report_html_bar(td_buf *b, int64_t before, int64_t after,
                        double scale)
{
    double f = scale > 0 ? BAR_WIDTH / scale : 0;
    double wb = (double)before * f, wa = (double)after * f;
    td_buf_printf(b, "<svg width=\"%d\" height=\"12\" xmlns=\"http://www.w3.org/"
                  "2000/svg\"><rect width=\"%.1f\" height=\"12\" fill=\"#ccc\"/>"
                  "<rect y=\"3\" width=\"%.1f\" height=\"6\" fill=\"%s\"/></svg>",
                  BAR_WIDTH, wb, wa > BAR_WIDTH ? BAR_WIDTH : wa,
                  after <= before ? "#2a7" : "#c33");
}

/* Plot area and margins, in pixels. */
enum { CW = 560, CH = 300, ML = 60, MB = 36, MT = 10, MR = 20 };

/* The share of the layer's parameters (or MACs) its chain saves; 0 for a
 * kept layer, negative when the chain is larger. */
static double saving(const td_layer_report *l, int by_macs)
{
    int64_t b = by_macs ? l->macs_before : l->params_before;
    int64_t a = by_macs ? l->macs_after : l->params_after;
    return b > 0 && a >= 0 ? 1 - (double)a / (double)b : 0;
}

void td_report_html_chart(td_buf *b, const td_compress_report *r)
{
    int by_macs = r->global == TD_GLOBAL_FLOPS;
    double emax = 0;
    for (size_t i = 0; i < r->n_layers; i++)
        if (r->layers[i].rel_error > emax)
            emax = r->layers[i].rel_error;
    emax = emax > 0 ? emax * 1.05 : 1;
    td_buf_printf(b, "<h2>Error against savings, every layer</h2>\n<p>One "
                  "dot per layer: across, the share of its %s its chain "
                  "saves; up, its relative error (%s). Kept layers sit at "
                  "the origin, in grey. Hover a dot for its name.</p>\n"
                  "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/"
                  "2000/svg\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\""
                  " fill=\"none\" stroke=\"#999\"/>",
                  by_macs ? "MACs" : "parameters",
                  r->have_stats ? "output-weighted where it had statistics"
                                : "of the weight",
                  ML + CW + MR, MT + CH + MB, ML, MT, CW, CH);
    for (int k = 0; k <= 4; k++)
        td_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
                      "%d%%</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">"
                      "%.2g</text>", ML + CW * k / 4, MT + CH + 14, 25 * k,
                      ML - 4, MT + CH - CH * k / 4 + 4, emax * k / 4);
    td_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">saved"
                  "</text>", ML + CW / 2, MT + CH + 30);
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        double s = saving(l, by_macs);
        s = s < 0 ? 0 : s > 1 ? 1 : s;
        double x = ML + CW * s, y = MT + CH - CH * l->rel_error / emax;
        td_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" "
                      "fill-opacity=\"0.6\"><title>", x, y,
                      l->method == TD_KEEP ? "#999" : "#27c");
        td_html_esc(b, l->node);
        td_buf_printf(b, ": %s, saves %.1f%%, error %.3g</title></circle>",
                      td_method_name(l->method), 100 * s, l->rel_error);
    }
    td_buf_printf(b, "</svg>\n");
}
