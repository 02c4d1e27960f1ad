/* The compression report as one self-contained HTML page: an overview
 * (model, command, version, totals, measured deviation and latency), one
 * chart of every layer's error against its savings, a sortable table of
 * the replaced layers and, folded away, the kept and skipped ones. No
 * external resources (a few lines of inline script sort the table), so
 * the file can be mailed or archived as it is. Totals follow the JSON
 * report's rules: a sum not every layer knows is "unknown". */
#include <stdio.h>
#include <string.h>

#include "td_passes.h"
#include "td_report_html.h"
#include "util/td_buf.h"

/* Names come from the model as arbitrary bytes: ill-formed UTF-8 and
 * control characters (not allowed in HTML text) become U+FFFD. */
void td_html_esc(td_buf *b, const char *s)
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

static const char style[] =
    "body{font:14px sans-serif;margin:2em;max-width:80em}"
    "svg{font:11px sans-serif}table{border-collapse:collapse}"
    "td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}"
    "th{text-align:left}table.s th{cursor:pointer}"
    "td.n,td.t,table.f td{text-align:left}";

/* Click a header to sort by its column (numbers by data-v), again to
 * reverse. */
static const char script[] =
    "<script>document.querySelectorAll('table.s').forEach(function(t){"
    "t.querySelectorAll('th').forEach(function(h,c){var up=1;"
    "h.onclick=function(){var rs=[].slice.call(t.tBodies[0].rows);"
    "rs.sort(function(a,b){var x=a.cells[c],y=b.cells[c],"
    "p=x.dataset.v,q=y.dataset.v;return up*(p!==undefined?p-q:"
    "x.textContent.localeCompare(y.textContent))});up=-up;"
    "rs.forEach(function(r){t.tBodies[0].appendChild(r)})}})})"
    "</script>\n";

static void row_text(td_buf *b, const char *th, const char *text)
{
    td_buf_printf(b, "<tr><th>%s</th><td class=\"t\">", th);
    td_html_esc(b, text);
    td_buf_printf(b, "</td></tr>");
}

/* before -> after, or "unknown" when some layer's count is not known */
static void row_totals(td_buf *b, const char *th, int known, double before,
                       double after)
{
    td_buf_printf(b, "<tr><th>%s</th><td>", th);
    if (!known)
        td_buf_printf(b, "unknown (not every layer's count is known)");
    else
        td_buf_printf(b, "%.0f &#8594; %.0f", before, after);
    if (known && after > 0)
        td_buf_printf(b, " (%.2fx fewer)", before / after);
    td_buf_printf(b, "</td></tr>");
}

static void overview(td_buf *b, const td_compress_report *r,
                     const td_report_totals *t)
{
    td_buf_printf(b, "<h2>Overview</h2>\n<table>");
    row_text(b, "model", r->model_name ? r->model_name : "(in memory)");
    if (r->command)
        row_text(b, "command", r->command);
    if (r->options)
        row_text(b, "options", r->options);
    if (r->version)
        row_text(b, "onnxtd version", r->version);
    td_buf_printf(b, "<tr><th>model parameters</th><td>%lld &#8594; %lld",
                  (long long)r->model_params_before,
                  (long long)r->model_params_after);
    if (r->model_params_after > 0)
        td_buf_printf(b, " (%.2fx fewer)", (double)r->model_params_before /
                                           (double)r->model_params_after);
    td_buf_printf(b, "</td></tr>");
    row_totals(b, "layer parameters", t->params_known, t->params_before,
               t->params_after);
    row_totals(b, "layer MACs", t->macs_known, t->macs_before, t->macs_after);
    td_buf_printf(b, "<tr><th>layers replaced</th><td>%zu of %zu</td></tr>"
                  "<tr><th>BatchNormalization folded</th><td>%zu</td></tr>"
                  "<tr><th>seconds</th><td>%.2f</td></tr>", t->replaced,
                  r->n_layers, r->bn_folded, r->seconds);
    if (r->global != TD_GLOBAL_NONE)
        td_buf_printf(b, "<tr><th>target (%s)</th><td>%.4f, planned %.4f"
                      "</td></tr>", r->global == TD_GLOBAL_PARAMS ? "params"
                      : "flops", r->target, r->planned);
    td_report_measured_html(b, r->measured, td_html_esc);
    td_buf_printf(b, "</table>\n");
}

static void cell_i64(td_buf *b, int64_t v)
{
    if (v < 0)
        td_buf_printf(b, "<td data-v=\"-1\">?</td>");
    else
        td_buf_printf(b, "<td data-v=\"%lld\">%lld</td>", (long long)v,
                      (long long)v);
}

static void replaced_row(td_buf *b, const td_layer_report *l, double scale)
{
    td_buf_printf(b, "<tr><td class=\"n\">");
    td_html_esc(b, l->node);
    td_buf_printf(b, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                  "<td class=\"n\">", l->op, td_method_name(l->method));
    for (int k = 0; k < l->n_ranks; k++)
        td_buf_printf(b, "%s%lld", k ? "," : "", (long long)l->ranks[k]);
    td_buf_printf(b, "</td>");
    cell_i64(b, l->params_before);
    cell_i64(b, l->params_after);
    cell_i64(b, l->macs_before);
    cell_i64(b, l->macs_after);
    td_buf_printf(b, "<td data-v=\"%.6g\">%.3g</td><td>", l->rel_error,
                  l->rel_error);
    td_report_html_bar(b, l->params_before, l->params_after, scale);
    td_buf_printf(b, "</td></tr>\n");
}

static void replaced_table(td_buf *b, const td_compress_report *r,
                           const td_report_totals *t)
{
    td_buf_printf(b, "<h2>Replaced layers (%zu)</h2>\n", t->replaced);
    if (!t->replaced)
        return;
    td_buf_printf(b, "<p>Click a header to sort. Bars share one scale (the "
                  "largest layer): grey the layer's parameters, green what "
                  "its chain keeps (red when larger).</p>\n"
                  "<table class=\"s\"><thead><tr><th>node</th><th>op</th>"
                  "<th>method</th><th>ranks</th><th>params</th><th>after</th>"
                  "<th>MACs</th><th>MACs after</th><th>rel. error</th>"
                  "<th>parameters</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < r->n_layers; i++)
        if (r->layers[i].method != TD_KEEP)
            replaced_row(b, &r->layers[i], t->largest_params);
    td_buf_printf(b, "</tbody></table>\n");
}

/* The rows a page shows at most per folded table; the JSON has them all. */
enum { MAX_ROWS = 1000 };

static void folded_row(td_buf *b, const char *node, const char *op,
                       const char *reason)
{
    td_buf_printf(b, "<tr><td>");
    td_html_esc(b, node);
    td_buf_printf(b, "</td><td>");
    td_html_esc(b, op);
    td_buf_printf(b, "</td><td>");
    td_html_esc(b, reason);
    td_buf_printf(b, "</td></tr>\n");
}

static void folded_tables(td_buf *b, const td_compress_report *r,
                          const td_report_totals *t)
{
    size_t kept = r->n_layers - t->replaced, shown = 0;
    td_buf_printf(b, "<details><summary>Kept layers (%zu), each with its "
                  "reason</summary>\n<table class=\"f\"><tr><th>node</th><th>op</th>"
                  "<th>reason kept</th></tr>\n", kept);
    for (size_t i = 0; i < r->n_layers && shown < MAX_ROWS; i++)
        if (r->layers[i].method == TD_KEEP && ++shown)
            folded_row(b, r->layers[i].node, r->layers[i].op,
                       td_layer_keep_reason(&r->layers[i]));
    if (kept > shown)
        td_buf_printf(b, "<tr><td colspan=\"3\">... %zu more in the JSON "
                      "report</td></tr>\n", kept - shown);
    td_buf_printf(b, "</table></details>\n<details><summary>Left as is "
                  "(%zu): not layers the pass takes</summary>\n<table class=\"f\">"
                  "<tr><th>node</th><th>op</th><th>reason</th></tr>\n",
                  r->n_skipped);
    for (size_t i = 0; i < r->n_skipped && i < MAX_ROWS; i++)
        folded_row(b, r->skipped[i].node, r->skipped[i].op,
                   r->skipped[i].reason);
    if (r->n_skipped > MAX_ROWS)
        td_buf_printf(b, "<tr><td colspan=\"3\">... %zu more in the JSON "
                      "report</td></tr>\n", r->n_skipped - MAX_ROWS);
    td_buf_printf(b, "</table></details>\n");
}

char *td_compress_report_html(const td_compress_report *r)
{
    td_buf b = {0};
    td_report_totals t;
    td_report_totals_of(r, &t);
    td_buf_printf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                  "<title>onnxtd compression report</title><style>%s</style>"
                  "</head><body>\n<h1>Compression report: ", style);
    td_html_esc(&b, r->model_name ? r->model_name : "(in memory)");
    td_buf_printf(&b, "</h1>\n");
    overview(&b, r, &t);
    td_report_html_chart(&b, r);
    replaced_table(&b, r, &t);
    folded_tables(&b, r, &t);
    td_buf_printf(&b, "%s</body></html>\n", script);
    return td_buf_take(&b);
}
