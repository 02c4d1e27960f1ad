/* The compression report as one self-contained HTML page: a summary and,
 * per layer, an inline SVG chart of parameters and FLOPs before and after,
 * with the method, ranks and error. No scripts, no external resources, so
 * the file can be mailed or archived as it is. */
#include <stdio.h>
#include <string.h>

#include "td_passes.h"
#include "util/td_buf.h"

/* Names come from the model as arbitrary bytes: ill-formed UTF-8 and
 * control characters (not allowed in HTML text) become U+FFFD. */
static void esc(td_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n;) {
        int ok;
        size_t len = td_utf8_next(s + i, n - i, &ok);
        unsigned char c = (unsigned char)s[i];
        if (!ok || (c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)
            td_buf_printf(b, "&#xFFFD;");
        else if (c == '<')
            td_buf_printf(b, "&lt;");
        else if (c == '>')
            td_buf_printf(b, "&gt;");
        else if (c == '&')
            td_buf_printf(b, "&amp;");
        else if (c == '"')
            td_buf_printf(b, "&quot;");
        else
            td_buf_put(b, s + i, len);
        i += len;
    }
}

/* Two bars (before, after) of one quantity, scaled to before. */
static void bars(td_buf *b, int y, const char *what, int64_t before,
                 int64_t after)
{
    const int w = 300;
    td_buf_printf(b, "<text x=\"0\" y=\"%d\">%s</text>", y + 12, what);
    if (before <= 0) {
        td_buf_printf(b, "<text x=\"70\" y=\"%d\">unknown</text>", y + 12);
        return;
    }
    double f = (double)after / (double)before;
    int wa = (int)(w * (f > 1.5 ? 1.5 : f));
    td_buf_printf(b,
        "<rect x=\"70\" y=\"%d\" width=\"%d\" height=\"8\" fill=\"#999\"/>"
        "<rect x=\"70\" y=\"%d\" width=\"%d\" height=\"8\" fill=\"%s\"/>"
        "<text x=\"%d\" y=\"%d\">%lld &#8594; %lld (%.1f%%)</text>",
        y, w, y + 9, wa, f <= 1 ? "#2a7" : "#c33", 70 + w + 120, y + 12,
        (long long)before, (long long)after, 100 * f);
}

char *td_compress_report_html(const td_compress_report *r)
{
    td_buf b = {0};
    /* totals for display, in double: an int64 sum could overflow when
     * --force kept chains larger than their layers */
    double pb = 0, pa = 0, fb = 0, fa = 0;
    size_t changed = 0;
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        pb += (double)l->params_before;
        pa += (double)l->params_after;
        fb += l->macs_before > 0 ? (double)l->macs_before : 0;
        fa += l->macs_after > 0 ? (double)l->macs_after : 0;
        changed += l->method != TD_KEEP;
    }
    td_buf_printf(&b,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<title>onnxtd compression report</title><style>"
        "body{font:14px sans-serif;margin:2em}svg{font:11px sans-serif}"
        "div.l{border-top:1px solid #ddd;padding:.4em 0}"
        "td,th{padding:2px 8px;text-align:right}</style></head><body>\n"
        "<h1>Compression report</h1>\n<table>"
        "<tr><th>model parameters</th><td>%lld &#8594; %lld</td></tr>"
        "<tr><th>layer parameters</th><td>%.0f &#8594; %.0f</td></tr>"
        "<tr><th>layer MACs</th><td>%.0f &#8594; %.0f</td></tr>"
        "<tr><th>layers replaced</th><td>%zu of %zu</td></tr>"
        "<tr><th>BatchNormalization folded</th><td>%zu</td></tr>"
        "<tr><th>seconds</th><td>%.2f</td></tr>",
        (long long)r->model_params_before, (long long)r->model_params_after,
        pb, pa, fb, fa, changed,
        r->n_layers, r->bn_folded, r->seconds);
    if (r->global != TD_GLOBAL_NONE)
        td_buf_printf(&b, "<tr><th>target (%s)</th><td>%.4f, planned %.4f</td></tr>",
                      r->global == TD_GLOBAL_PARAMS ? "params" : "flops",
                      r->target, r->planned);
    td_report_measured_html(&b, r->measured, esc);
    td_buf_printf(&b, "</table>\n<p>Bars: grey the original layer, green "
                      "(red when larger) the result.</p>\n");
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        td_buf_printf(&b, "<div class=\"l\"><b>");
        esc(&b, l->node);
        td_buf_printf(&b, "</b> (%s): <b>%s</b>", l->op, td_method_name(l->method));
        if (l->n_ranks) {
            td_buf_printf(&b, " ranks ");
            for (int k = 0; k < l->n_ranks; k++)
                td_buf_printf(&b, "%s%lld", k ? "," : "", (long long)l->ranks[k]);
        }
        td_buf_printf(&b, ", rel. error %.3g", l->rel_error);
        if (l->est_error >= 0)
            td_buf_printf(&b, " (estimated %.3g)", l->est_error);
        if (l->note) {
            td_buf_printf(&b, "; ");
            esc(&b, l->note);
        }
        if (l->n_cand) {
            td_buf_printf(&b, "<br>candidates:");
            for (int c = 0; c < l->n_cand; c++) {
                const td_candidate *k = &l->cand[c];
                if (k->failed)
                    td_buf_printf(&b, " %s (failed);", td_method_name(k->method));
                else
                    td_buf_printf(&b, " %s %lld params, error %.3g;",
                                  td_method_name(k->method),
                                  (long long)k->params, k->rel_error);
            }
        }
        td_buf_printf(&b, "<br><svg width=\"720\" height=\"44\" "
                          "xmlns=\"http://www.w3.org/2000/svg\">");
        bars(&b, 2, "params", l->params_before, l->params_after);
        bars(&b, 24, "FLOPs", l->macs_before, l->macs_after);
        td_buf_printf(&b, "</svg></div>\n");
    }
    /* The layers the pass could not take, and why (the JSON has them all;
     * a page of a million rows helps nobody). */
    enum { MAX_ROWS = 1000 };
    if (r->n_skipped)
        td_buf_printf(&b, "<h2>Left as is (%zu)</h2>\n<table>"
                          "<tr><th>node</th><th>op</th><th>reason</th></tr>\n",
                      r->n_skipped);
    for (size_t i = 0; i < r->n_skipped && i < MAX_ROWS; i++) {
        const td_skip_report *k = &r->skipped[i];
        td_buf_printf(&b, "<tr><td>");
        esc(&b, k->node);
        td_buf_printf(&b, "</td><td>");
        esc(&b, k->op);
        td_buf_printf(&b, "</td><td>");
        esc(&b, k->reason);
        td_buf_printf(&b, "</td></tr>\n");
    }
    if (r->n_skipped > MAX_ROWS)
        td_buf_printf(&b, "<tr><td colspan=\"3\">... %zu more in the JSON "
                          "report</td></tr>\n", r->n_skipped - MAX_ROWS);
    if (r->n_skipped)
        td_buf_printf(&b, "</table>\n");
    td_buf_printf(&b, "</body></html>\n");
    return td_buf_take(&b);
}
