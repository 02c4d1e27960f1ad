/* The compression report: JSON for tools, a table for people. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

char *td_compress_report_json(const td_compress_report *r)
{
    td_buf b = {0};
    int64_t cb = 0, ca = 0, fb = 0, fa = 0;
    int flops_known = 1;
    td_json_open(&b, '{');
    td_json_key(&b, "layers");
    td_json_open(&b, '[');
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        td_json_open(&b, '{');
        td_json_key(&b, "node"); td_json_str(&b, l->node);
        td_json_key(&b, "op"); td_json_str(&b, l->op);
        td_json_key(&b, "method"); td_json_str(&b, td_method_name(l->method));
        if (l->note) {
            td_json_key(&b, "note");
            td_json_str(&b, l->note);
        }
        td_json_key(&b, "ranks"); ranks_json(&b, l->ranks, l->n_ranks);
        if (l->method == TD_TR || l->method == TD_RSDTR) {
            td_json_key(&b, "tr_shift"); td_json_int(&b, l->tr_shift);
            td_json_key(&b, "tr_r0"); td_json_int(&b, l->tr_r0);
        }
        td_json_key(&b, "params_before"); td_json_int(&b, l->params_before);
        td_json_key(&b, "params_after"); td_json_int(&b, l->params_after);
        td_json_key(&b, "flops_before"); opt_int(&b, l->macs_before);
        td_json_key(&b, "flops_after"); opt_int(&b, l->macs_after);
        td_json_key(&b, "rel_error"); td_json_num(&b, l->rel_error);
        if (r->have_stats) {
            /* rel_error is then the output-weighted error */
            td_json_key(&b, "weighted"); td_json_bool(&b, l->weighted);
        }
        if (l->est_error >= 0) {
            td_json_key(&b, "est_error");
            td_json_num(&b, l->est_error);
        }
        td_json_key(&b, "seconds"); td_json_num(&b, l->seconds);
        if (l->est_seconds_before >= 0 && l->est_seconds_after >= 0) {
            td_json_key(&b, "est_latency_before");
            td_json_num(&b, l->est_seconds_before);
            td_json_key(&b, "est_latency_after");
            td_json_num(&b, l->est_seconds_after);
        }
        td_json_key(&b, "candidates");
        td_json_open(&b, '[');
        for (int c = 0; c < l->n_cand; c++) {
            const td_candidate *k = &l->cand[c];
            td_json_open(&b, '{');
            td_json_key(&b, "method"); td_json_str(&b, td_method_name(k->method));
            if (k->failed) {
                td_json_key(&b, "failed"); td_json_bool(&b, 1);
            } else {
                td_json_key(&b, "ranks"); ranks_json(&b, k->ranks, k->n_ranks);
                td_json_key(&b, "params"); td_json_int(&b, k->params);
                td_json_key(&b, "flops"); opt_int(&b, k->macs);
                td_json_key(&b, "rel_error"); td_json_num(&b, k->rel_error);
                if (k->slower) {
                    td_json_key(&b, "slower");
                    td_json_bool(&b, 1);
                }
            }
            td_json_close(&b, '}');
        }
        td_json_close(&b, ']');
        td_json_close(&b, '}');
        /* a total that does not fit (--force kept large chains) is
         * written as unknown, never wrapped */
        if (cb >= 0 && td_add_i64(cb, l->params_before, &cb))
            cb = -1;
        if (ca >= 0 && td_add_i64(ca, l->params_after, &ca))
            ca = -1;
        if (l->macs_before < 0 || l->macs_after < 0 ||
            td_add_i64(fb, l->macs_before, &fb) ||
            td_add_i64(fa, l->macs_after, &fa))
            flops_known = 0;
    }
    td_json_close(&b, ']');
    td_json_key(&b, "skipped");
    td_json_open(&b, '[');
    for (size_t i = 0; i < r->n_skipped; i++) {
        td_json_open(&b, '{');
        td_json_key(&b, "node"); td_json_str(&b, r->skipped[i].node);
        td_json_key(&b, "op"); td_json_str(&b, r->skipped[i].op);
        td_json_key(&b, "reason"); td_json_str(&b, r->skipped[i].reason);
        td_json_close(&b, '}');
    }
    td_json_close(&b, ']');
    td_json_key(&b, "totals");
    td_json_open(&b, '{');
    td_json_key(&b, "model_params_before"); td_json_int(&b, r->model_params_before);
    td_json_key(&b, "model_params_after"); td_json_int(&b, r->model_params_after);
    td_json_key(&b, "conv_params_before"); opt_int(&b, cb);
    td_json_key(&b, "conv_params_after"); opt_int(&b, ca);
    td_json_key(&b, "flops_before"); opt_int(&b, flops_known ? fb : -1);
    td_json_key(&b, "flops_after"); opt_int(&b, flops_known ? fa : -1);
    td_json_key(&b, "bn_folded"); td_json_int(&b, (int64_t)r->bn_folded);
    if (r->have_stats) {
        td_json_key(&b, "layers_weighted"); td_json_int(&b, (int64_t)r->n_weighted);
        td_json_key(&b, "layers_data_free"); td_json_int(&b, (int64_t)r->n_unweighted);
    }
    td_json_key(&b, "seconds"); td_json_num(&b, r->seconds);
    if (r->global != TD_GLOBAL_NONE) {
        td_json_key(&b, "target_kind");
        td_json_str(&b, r->global == TD_GLOBAL_PARAMS ? "params" : "flops");
        td_json_key(&b, "target"); td_json_num(&b, r->target);
        td_json_key(&b, "planned"); td_json_num(&b, r->planned);
        if (r->also_flops > 0) {
            td_json_key(&b, "target_flops"); td_json_num(&b, r->also_flops);
            td_json_key(&b, "planned_flops"); td_json_num(&b, r->planned_flops);
        }
    }
    td_json_close(&b, '}');
    td_json_key(&b, "measured");
    td_report_measured_json(&b, r->measured);
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

char *td_compress_report_table(const td_compress_report *r)
{
    td_buf b = {0};
    size_t changed = 0;
    td_buf_printf(&b, "%-40s %-8s %-8s %-16s %11s %11s %9s %7s\n", "node", "op",
                  "method", "ranks", "params", "after", "rel_err", "sec");
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        char ranks[64] = "-";
        size_t n = 0;
        for (int k = 0; k < l->n_ranks && n < sizeof ranks - 24; k++)
            n += (size_t)snprintf(ranks + n, sizeof ranks - n, "%s%lld",
                                  k ? "," : "", (long long)l->ranks[k]);
        td_buf_printf(&b, "%-40.40s %-8.8s %-8s %-16.16s %11lld %11lld %9.2e %7.2f\n",
                      l->node, l->op, td_method_name(l->method), ranks,
                      (long long)l->params_before, (long long)l->params_after,
                      l->rel_error, l->seconds);
        changed += l->method != TD_KEEP;
    }
    char ratio[32] = "";
    if (r->model_params_after > 0)
        snprintf(ratio, sizeof ratio, " (%.2fx fewer)",
                 (double)r->model_params_before / (double)r->model_params_after);
    td_buf_printf(&b, "%zu of %zu layers replaced, %zu BatchNormalization "
                  "folded; model parameters %lld -> %lld%s in %.2f s\n",
                  changed, r->n_layers, r->bn_folded,
                  (long long)r->model_params_before,
                  (long long)r->model_params_after, ratio, r->seconds);
    skipped_lines(&b, r);
    if (r->have_stats)
        td_buf_printf(&b, "activation statistics: %zu layers factored by output "
                      "error (rel_err is output-weighted there), %zu had none "
                      "and stayed data-free\n", r->n_weighted, r->n_unweighted);
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
    td_report_warn_text(&b, r);
    td_report_measured_text(&b, r->measured);
    return td_buf_take(&b);
}
