/* The compression report: JSON for tools, a table for people. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_latency.h"
#include "td_passes.h"
#include "util/td_buf.h"

static void ranks_json(td_buf *b, const int64_t *r, int n)
{
    td_json_open(b, '[');
    for (int k = 0; k < n; k++)
        td_json_int(b, r[k]);
    td_json_close(b, ']');
}

static void opt_int(td_buf *b, int64_t v)
{
    if (v < 0)
        td_json_null(b);
    else
        td_json_int(b, v);
}

const char *td_layer_keep_reason(const td_layer_report *l)
{
    /* every path that keeps a layer notes why (td_job.c); an empty note
     * would be a bug, shown as such rather than hidden */
    return l->note && l->note[0] ? l->note : "kept (reason not recorded)";
}

static void candidates_json(td_buf *b, const td_layer_report *l)
{
    td_json_key(b, "candidates");
    td_json_open(b, '[');
    for (int c = 0; c < l->n_cand; c++) {
        const td_candidate *k = &l->cand[c];
        td_json_open(b, '{');
        td_json_key(b, "method"); td_json_str(b, td_method_name(k->method));
        if (k->failed) {
            td_json_key(b, "failed"); td_json_bool(b, 1);
        } else {
            td_json_key(b, "ranks"); ranks_json(b, k->ranks, k->n_ranks);
            td_json_key(b, "params"); td_json_int(b, k->params);
            td_json_key(b, "flops"); opt_int(b, k->macs);
            td_json_key(b, "rel_error"); td_json_num(b, k->rel_error);
            if (k->slower) {
                td_json_key(b, "slower");
                td_json_bool(b, 1);
            }
        }
        td_json_close(b, '}');
    }
    td_json_close(b, ']');
}

static void layer_json(td_buf *b, const td_compress_report *r,
                       const td_layer_report *l)
{
    td_json_open(b, '{');
    td_json_key(b, "node"); td_json_str(b, l->node);
    td_json_key(b, "op"); td_json_str(b, l->op);
    td_json_key(b, "method"); td_json_str(b, td_method_name(l->method));
    if (l->note) {
        td_json_key(b, "note");
        td_json_str(b, l->note);
    }
    if (l->method == TD_KEEP) {
        td_json_key(b, "reason");
        td_json_str(b, td_layer_keep_reason(l));
    }
    td_json_key(b, "ranks"); ranks_json(b, l->ranks, l->n_ranks);
    if (l->method == TD_TR || l->method == TD_RSDTR) {
        td_json_key(b, "tr_shift"); td_json_int(b, l->tr_shift);
        td_json_key(b, "tr_r0"); td_json_int(b, l->tr_r0);
    }
    td_json_key(b, "params_before"); td_json_int(b, l->params_before);
    td_json_key(b, "params_after"); td_json_int(b, l->params_after);
    td_json_key(b, "flops_before"); opt_int(b, l->macs_before);
    td_json_key(b, "flops_after"); opt_int(b, l->macs_after);
    td_json_key(b, "rel_error"); td_json_num(b, l->rel_error);
    if (r->have_stats) {
        /* rel_error is then the output-weighted error */
        td_json_key(b, "weighted"); td_json_bool(b, l->weighted);
        /* its factors were chosen in the softmax's metric (the key only
         * then: reports of models without one keep their bytes) */
        if (l->softmax_metric) {
            td_json_key(b, "softmax_metric");
            td_json_bool(b, 1);
        }
        if (l->act_lambda > 0) {  /* chosen by cross-validation */
            td_json_key(b, "act_lambda");
            td_json_num(b, l->act_lambda);
        }
    }
    if (l->est_error >= 0) {
        td_json_key(b, "est_error");
        td_json_num(b, l->est_error);
    }
    td_json_key(b, "seconds"); td_json_num(b, l->seconds);
    if (l->est_seconds_before >= 0 && l->est_seconds_after >= 0) {
        td_json_key(b, "est_latency_before");
        td_json_num(b, l->est_seconds_before);
        td_json_key(b, "est_latency_after");
        td_json_num(b, l->est_seconds_after);
    }
    td_report_latency_layer_json(b, l);
    candidates_json(b, l);
    td_json_close(b, '}');
}

static void skipped_json(td_buf *b, const td_compress_report *r)
{
    td_json_key(b, "skipped");
    td_json_open(b, '[');
    for (size_t i = 0; i < r->n_skipped; i++) {
        td_json_open(b, '{');
        td_json_key(b, "node"); td_json_str(b, r->skipped[i].node);
        td_json_key(b, "op"); td_json_str(b, r->skipped[i].op);
        td_json_key(b, "reason"); td_json_str(b, r->skipped[i].reason);
        td_json_close(b, '}');
    }
    td_json_close(b, ']');
}

/* The layers' parameters and MACs summed; a total that does not fit
 * (--force kept large chains) is written as unknown, never wrapped. */
static void layer_totals_json(td_buf *b, const td_compress_report *r)
{
    int64_t cb = 0, ca = 0, fb = 0, fa = 0;
    int flops_known = 1;
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        if (cb >= 0 && td_add_i64(cb, l->params_before, &cb))
            cb = -1;
        if (ca >= 0 && td_add_i64(ca, l->params_after, &ca))
            ca = -1;
        if (l->macs_before < 0 || l->macs_after < 0 ||
            td_add_i64(fb, l->macs_before, &fb) ||
            td_add_i64(fa, l->macs_after, &fa))
            flops_known = 0;
    }
    td_json_key(b, "conv_params_before"); opt_int(b, cb);
    td_json_key(b, "conv_params_after"); opt_int(b, ca);
    td_json_key(b, "flops_before"); opt_int(b, flops_known ? fb : -1);
    td_json_key(b, "flops_after"); opt_int(b, flops_known ? fa : -1);
    /* with the layers left as they are (protected, excluded): the MACs a
     * --target-flops budget is a fraction of */
    int64_t left = (int64_t)r->macs_left_out, mb = -1, ma = -1;
    if (flops_known && (td_add_i64(fb, left, &mb) || td_add_i64(fa, left, &ma)))
        mb = ma = -1;
    td_json_key(b, "flops_left_out"); td_json_int(b, left);
    td_json_key(b, "model_flops_before"); opt_int(b, mb);
    td_json_key(b, "model_flops_after"); opt_int(b, ma);
}

/* The values cross-validation chose, as (value, layers) pairs ascending;
 * returns how many distinct values (at most cap). */
static size_t cv_counts(const td_compress_report *r, double *val,
                        size_t *cnt, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_layers; i++) {
        double v = r->layers[i].act_lambda;
        if (!(v > 0))
            continue;
        size_t q = 0;
        while (q < n && val[q] < v)
            q++;
        if (q < n && val[q] == v) {
            cnt[q]++;
        } else if (n < cap) {
            memmove(val + q + 1, val + q, (n - q) * sizeof *val);
            memmove(cnt + q + 1, cnt + q, (n - q) * sizeof *cnt);
            val[q] = v;
            cnt[q] = 1;
            n++;
        }
    }
    return n;
}

#define CV_CAP 16

/* "act_lambda_cv": {"0.1": layers, ...}, only when some were chosen so */
static void cv_json(td_buf *b, const td_compress_report *r)
{
    double val[CV_CAP];
    size_t cnt[CV_CAP], n = cv_counts(r, val, cnt, CV_CAP);
    if (!n)
        return;
    td_json_key(b, "act_lambda_cv");
    td_json_open(b, '{');
    for (size_t q = 0; q < n; q++) {
        char key[32];
        snprintf(key, sizeof key, "%g", val[q]);
        td_json_key(b, key);
        td_json_int(b, (int64_t)cnt[q]);
    }
    td_json_close(b, '}');
}

static void totals_json(td_buf *b, const td_compress_report *r)
{
    td_json_key(b, "totals");
    td_json_open(b, '{');
    td_json_key(b, "model_params_before"); td_json_int(b, r->model_params_before);
    td_json_key(b, "model_params_after"); td_json_int(b, r->model_params_after);
    layer_totals_json(b, r);
    td_json_key(b, "bn_folded"); td_json_int(b, (int64_t)r->bn_folded);
    if (r->have_stats) {
        td_json_key(b, "layers_weighted"); td_json_int(b, (int64_t)r->n_weighted);
        td_json_key(b, "layers_data_free"); td_json_int(b, (int64_t)r->n_unweighted);
        if (r->n_softmax_metric) {
            td_json_key(b, "layers_softmax_metric");
            td_json_int(b, (int64_t)r->n_softmax_metric);
        }
        cv_json(b, r);
    }
    td_json_key(b, "seconds"); td_json_num(b, r->seconds);
    td_report_latency_totals_json(b, r);
    if (r->global != TD_GLOBAL_NONE) {
        td_json_key(b, "target_kind");
        td_json_str(b, r->global == TD_GLOBAL_PARAMS ? "params" : "flops");
        td_json_key(b, "target"); td_json_num(b, r->target);
        td_json_key(b, "planned"); td_json_num(b, r->planned);
        if (r->also_flops > 0) {
            td_json_key(b, "target_flops"); td_json_num(b, r->also_flops);
            td_json_key(b, "planned_flops"); td_json_num(b, r->planned_flops);
        }
    }
    td_json_close(b, '}');
}

char *td_compress_report_json(const td_compress_report *r)
{
    td_buf b = {0};
    td_json_open(&b, '{');
    td_json_key(&b, "layers");
    td_json_open(&b, '[');
    for (size_t i = 0; i < r->n_layers; i++)
        layer_json(&b, r, &r->layers[i]);
    td_json_close(&b, ']');
    skipped_json(&b, r);
    totals_json(&b, r);
    td_json_key(&b, "measured");
    td_report_measured_json(&b, r->measured);
    td_json_key(&b, "speed");
    td_report_speed_json(&b, r->speed);
    td_json_close(&b, '}');
    td_buf_put(&b, "\n", 1);
    return td_buf_take(&b);
}

/* One line per distinct (op, reason), in order of first appearance, with
 * its count and first node: a model of 119 quantized convs gets one line,
 * not 119. One pass against at most MAX_LINES kinds, so a model of a
 * million skipped nodes costs a million comparisons, not their square. */
static void skipped_lines(td_buf *b, const td_compress_report *r)
{
    enum { MAX_LINES = 8 };
    const td_skip_report *kind[MAX_LINES];
    size_t count[MAX_LINES], nk = 0;
    int more = 0;
    for (size_t i = 0; i < r->n_skipped; i++) {
        const td_skip_report *s = &r->skipped[i];
        size_t k = 0;
        while (k < nk && (strcmp(kind[k]->op, s->op) ||
                          strcmp(kind[k]->reason, s->reason)))
            k++;
        if (k < nk) {
            count[k]++;
        } else if (nk < MAX_LINES) {
            kind[nk] = s;
            count[nk++] = 1;
        } else {
            more = 1;
        }
    }
    for (size_t k = 0; k < nk; k++)
        td_buf_printf(b, "left as is: %zu %s: %s (first '%s')\n", count[k],
                      kind[k]->op, kind[k]->reason, kind[k]->node);
    if (more)
        td_buf_printf(b, "left as is: more kinds (see the JSON report)\n");
}

/* Node names longer than this are cut in the middle, marked with "...":
 * both ends tell layers apart (a prefix of the block, a suffix of the op). */
#define NAME_MAX_WIDTH 48

/* Display columns of s (code points; wide characters are rare in names). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Name s padded to w columns, or cut to its first and last columns around
 * "..." when wider; cuts fall on code-point boundaries. */
static void name_cell(td_buf *b, const char *s, size_t w)
{
    size_t n = strlen(s), cols = text_width(s);
    if (cols <= w) {
        td_buf_printf(b, "%s%*s", s, (int)(w - cols), "");
        return;
    }
    size_t keep_head = (w - 3) / 2, keep_tail = w - 3 - keep_head;
    size_t h = 0, t = n;
    for (size_t c = 0; c < keep_head && h < n; c++)
        while (++h < n && ((unsigned char)s[h] & 0xC0) == 0x80)
            ;
    for (size_t c = 0; c < keep_tail && t > h; c++)
        while (--t > h && ((unsigned char)s[t] & 0xC0) == 0x80)
            ;
    td_buf_put(b, s, h);
    td_buf_put(b, "...", 3);
    td_buf_put(b, s + t, n - t);
}

static void macs_cell(td_buf *b, int64_t v)
{
    if (v < 0)
        td_buf_printf(b, " %13s", "?");
    else
        td_buf_printf(b, " %13lld", (long long)v);
}

/* The summary in the terms of the budget asked for: MACs first after a
 * FLOPs target, parameters first otherwise; a total not every layer knows
 * is not printed as if it were one. */
static void summary_line(td_buf *b, const td_compress_report *r,
                         size_t changed)
{
    double mb = 0, ma = 0;
    int macs_known = 1;
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        if (l->macs_before < 0 || l->macs_after < 0)
            macs_known = 0;
        mb += (double)l->macs_before;
        ma += (double)l->macs_after;
    }
    char params[96] = "", macs[192] = "layer MACs unknown (symbolic shapes)";
    snprintf(params, sizeof params, "model parameters %lld -> %lld",
             (long long)r->model_params_before,
             (long long)r->model_params_after);
    if (r->model_params_after > 0)
        snprintf(params + strlen(params), sizeof params - strlen(params),
                 " (%.2fx fewer)", (double)r->model_params_before /
                                   (double)r->model_params_after);
    if (macs_known)
        snprintf(macs, sizeof macs, "layer MACs %.0f -> %.0f", mb, ma);
    if (macs_known && ma > 0)
        snprintf(macs + strlen(macs), sizeof macs - strlen(macs),
                 " (%.2fx fewer)", mb / ma);
    /* a FLOPs budget counts the layers left as they are too */
    double left = r->macs_left_out;
    if (macs_known && left > 0 && ma + left > 0)
        snprintf(macs + strlen(macs), sizeof macs - strlen(macs),
                 "; with the %.0f of the layers left as they are, %.2fx "
                 "fewer", left, (mb + left) / (ma + left));
    int flops_first = r->global == TD_GLOBAL_FLOPS;
    td_buf_printf(b, "%zu of %zu layers replaced, %zu BatchNormalization "
                  "folded; %s; %s in %.2f s\n", changed, r->n_layers,
                  r->bn_folded, flops_first ? macs : params,
                  flops_first ? params : macs, r->seconds);
}

char *td_compress_report_table(const td_compress_report *r)
{
    td_buf b = {0};
    size_t changed = 0, w = 4;
    for (size_t i = 0; i < r->n_layers; i++) {
        size_t cols = text_width(r->layers[i].node);
        w = cols > w ? cols : w;
    }
    w = w > NAME_MAX_WIDTH ? NAME_MAX_WIDTH : w;
    name_cell(&b, "node", w);
    td_buf_printf(&b, " %-8s %-8s %-16s %11s %11s %13s %13s %9s %7s  %s\n",
                  "op", "method", "ranks", "params", "after", "MACs",
                  "MACs after", "rel_err", "sec", "reason kept");
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        char ranks[64] = "-";
        size_t n = 0;
        for (int k = 0; k < l->n_ranks && n < sizeof ranks - 24; k++)
            n += (size_t)snprintf(ranks + n, sizeof ranks - n, "%s%lld",
                                  k ? "," : "", (long long)l->ranks[k]);
        name_cell(&b, l->node, w);
        td_buf_printf(&b, " %-8.8s %-8s %-16.16s %11lld %11lld", l->op,
                      td_method_name(l->method), ranks,
                      (long long)l->params_before, (long long)l->params_after);
        macs_cell(&b, l->macs_before);
        macs_cell(&b, l->macs_after);
        td_buf_printf(&b, " %9.2e %7.2f", l->rel_error, l->seconds);
        if (l->method == TD_KEEP)
            td_buf_printf(&b, "  %s", td_layer_keep_reason(l));
        td_buf_printf(&b, "\n");
        changed += l->method != TD_KEEP;
    }
    summary_line(&b, r, changed);
    skipped_lines(&b, r);
    if (r->have_stats)
        td_buf_printf(&b, "activation statistics: %zu layers factored by output "
                      "error (rel_err is output-weighted there), %zu had none "
                      "and stayed data-free\n", r->n_weighted, r->n_unweighted);
    double val[CV_CAP];
    size_t cnt[CV_CAP], ncv = cv_counts(r, val, cnt, CV_CAP);
    if (ncv) {
        td_buf_printf(&b, "--act-lambda by cross-validation, layers per value:");
        for (size_t q = 0; q < ncv; q++)
            td_buf_printf(&b, "%s %g x%zu", q ? "," : "", val[q], cnt[q]);
        td_buf_printf(&b, "\n");
    }
    if (r->n_softmax_metric)
        td_buf_printf(&b, "softmax metric: %zu of them feed a softmax and kept "
                      "the directions that move its probabilities "
                      "(--softmax-metric)\n", r->n_softmax_metric);
    for (size_t i = 0, shown = 0; r->have_stats && i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        if (l->weighted || !l->note || l->method == TD_KEEP)
            continue;
        if (shown++ == 8) {
            td_buf_printf(&b, "  ... (see the JSON report)\n");
            break;
        }
        td_buf_printf(&b, "  %s: %s\n", l->node, l->note);
    }
    td_report_latency_text(&b, r);
    td_report_speed_text(&b, r->speed);
    td_report_warn_text(&b, r);
    td_report_measured_text(&b, r->measured);
    return td_buf_take(&b);
}
