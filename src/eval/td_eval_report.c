/* eval's report: a text table and the same facts as JSON. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eval/td_eval_internal.h"

static const char random_note[] =
    "random inputs: a smoke test; they prove little about accuracy on real "
    "data";

static void fmt_num(char *buf, size_t cap, double v, const char *f)
{
    if (isinf(v))
        snprintf(buf, cap, "inf");
    else
        snprintf(buf, cap, f, v);
}

char *td_eval_render_text(const td_eval_result *r)
{
    const td_eval_opts *o = r->opts;
    td_buf b = {0};
    if (o->model_b)
        td_buf_printf(&b, "A: %s (reference)\nB: %s\n", o->model_a,
                      o->model_b);
    else
        td_buf_printf(&b, "model: %s\nreference: the outputs stored with the "
                      "inputs (output_K.pb)\n", o->model_a);
    if (o->random)
        td_buf_printf(&b, "inputs: %zu random samples (seed %llu); %s\n",
                      r->samples, (unsigned long long)o->seed, random_note);
    else
        td_buf_printf(&b, "inputs: %zu sample%s\n", r->samples,
                      r->samples == 1 ? "" : "s");
    for (size_t j = 0; j < o->loop.n; j++)
        td_buf_printf(&b, "%s%s <- %s%s", j ? ", " : "in order, each model "
                      "in its own loop: ", o->loop.in[j], o->loop.out[j],
                      j + 1 == o->loop.n ? " (the step before's)\n" : "");
    if (o->threads)
        td_buf_printf(&b, "ONNX Runtime %s (%s), %d intra-op threads\n",
                      r->version, r->library, o->threads);
    else
        td_buf_printf(&b, "ONNX Runtime %s (%s), ORT's default threads\n",
                      r->version, r->library);
    td_buf_printf(&b, "\n%-24s %-9s %-16s %10s %10s %12s  %s\n", "output",
                  "dtype", "shape", "rel_l2", "max_abs", "cosine", "top-1");
    for (size_t k = 0; k < r->n_out; k++) {
        const td_eval_out *e = &r->out[k];
        char shape[64], rel[32], mx[32], cs[32], top[48] = "-";
        td_array_shape_str(e->dims, e->ndim, shape, sizeof shape);
        fmt_num(rel, sizeof rel, td_eval_rel_l2(&e->acc), "%.3e");
        fmt_num(mx, sizeof mx, e->acc.max_abs, "%.3e");
        fmt_num(cs, sizeof cs, td_eval_cosine(&e->acc), "%.9f");
        if (e->acc.scores)
            snprintf(top, sizeof top, "%zu/%zu (%.4f)", e->acc.agree,
                     e->acc.rows, (double)e->acc.agree / (double)e->acc.rows);
        td_buf_printf(&b, "%-24s %-9s %-16s %10s %10s %12s  %s\n", e->name,
                      td_array_dtype_name(e->dtype_b), shape, rel, mx, cs, top);
        double lo, mean;
        size_t empty;
        if (td_eval_mask_iou(&e->acc, &lo, &mean, &empty))
            td_buf_printf(&b, "  a probability map: mask IoU at %g %.4f, "
                          "lowest %.4f (per %s; %zu nearly empty on "
                          "both sides left out)\n", e->acc.iou_t, mean, lo,
                          e->acc.iou_channels ? "sample and channel"
                                              : "sample", empty);
        if (e->acc.nan_mismatch)
            td_buf_printf(&b, "  %zu elements NaN or infinite on one side only\n",
                          e->acc.nan_mismatch);
        if (o->elem_rtol >= 0)
            td_buf_printf(&b, "  %zu of %zu elements over |b-a| <= %g + %g |a|\n",
                          e->acc.elem_mismatch, e->acc.elements, o->elem_atol,
                          o->elem_rtol);
    }
    if (r->timed) {
        td_buf_printf(&b, "\nlatency, median of %zu%s runs on the first sample:"
                      " %s %.3f ms", r->ta.runs, o->model_b ? " interleaved" : "",
                      o->model_b ? "A" : "model", r->ta.median_ms);
        if (o->model_b)
            td_buf_printf(&b, ", B %.3f ms, B/A %.3f", r->tb.median_ms,
                          r->tb.median_ms / r->ta.median_ms);
        td_buf_printf(&b, "\n");
    }
    if (r->pass)
        td_buf_printf(&b, "\nresult: PASS\n");
    else
        td_buf_printf(&b, "\nresult: FAIL\n%.*s", (int)r->failures.len,
                      r->failures.p);
    return td_buf_take(&b);
}

static void num_or_null(td_buf *b, const char *key, double v)
{
    td_json_key(b, key);
    if (v < 0)
        td_json_null(b);
    else
        td_json_num(b, v);
}

static void runtime_inputs_json(td_buf *b, const td_eval_result *r)
{
    const td_eval_opts *o = r->opts;
    td_json_key(b, "runtime");
    td_json_open(b, '{');
    td_json_key(b, "version");
    td_json_str(b, r->version);
    td_json_key(b, "library");
    td_json_str(b, r->library);
    td_json_key(b, "threads");
    td_json_int(b, o->threads);
    td_json_close(b, '}');
    td_json_key(b, "inputs");
    td_json_open(b, '{');
    td_json_key(b, "samples");
    td_json_int(b, (int64_t)r->samples);
    td_json_key(b, "random");
    td_json_bool(b, o->random != 0);
    if (o->loop.n) {  /* only then: a report without a loop is as it was */
        td_json_key(b, "loop");
        td_json_open(b, '[');
        for (size_t j = 0; j < o->loop.n; j++) {
            td_json_open(b, '{');
            td_json_key(b, "input"); td_json_str(b, o->loop.in[j]);
            td_json_key(b, "output"); td_json_str(b, o->loop.out[j]);
            td_json_close(b, '}');
        }
        td_json_close(b, ']');
    }
    if (o->random) {
        td_json_key(b, "seed");
        td_json_int(b, (int64_t)o->seed);
        td_json_key(b, "note");
        td_json_str(b, random_note);
    }
    td_json_close(b, '}');
}

static void top1_json(td_buf *b, const td_eval_out *e)
{
    td_json_key(b, "top1");
    if (e->acc.scores) {
        td_json_open(b, '{');
        td_json_key(b, "rows");
        td_json_int(b, (int64_t)e->acc.rows);
        td_json_key(b, "agree");
        td_json_int(b, (int64_t)e->acc.agree);
        td_json_key(b, "fraction");
        td_json_num(b, (double)e->acc.agree / (double)e->acc.rows);
        td_json_close(b, '}');
    } else {
        td_json_null(b);
    }
}

static void output_json(td_buf *b, const td_eval_opts *o, const td_eval_out *e)
{
    td_json_open(b, '{');
    td_json_key(b, "name");
    td_json_str(b, e->name);
    td_json_key(b, "dtype_a");
    td_json_str(b, td_array_dtype_name(e->dtype_a));
    td_json_key(b, "dtype_b");
    td_json_str(b, td_array_dtype_name(e->dtype_b));
    td_json_key(b, "shape");
    td_json_open(b, '[');
    for (size_t d = 0; d < e->ndim; d++)
        td_json_int(b, e->dims[d]);
    td_json_close(b, ']');
    td_json_key(b, "elements");
    td_json_int(b, (int64_t)e->acc.elements);
    td_json_key(b, "rel_l2");
    td_json_num(b, td_eval_rel_l2(&e->acc));
    td_json_key(b, "max_abs");
    td_json_num(b, e->acc.max_abs);
    td_json_key(b, "cosine");
    td_json_num(b, td_eval_cosine(&e->acc));
    td_json_key(b, "nan_mismatches");
    td_json_int(b, (int64_t)e->acc.nan_mismatch);
    if (o->elem_rtol >= 0) {
        td_json_key(b, "elem_mismatches");
        td_json_int(b, (int64_t)e->acc.elem_mismatch);
    }
    top1_json(b, e);
    double lo, mean;
    size_t empty;
    td_json_key(b, "mask_iou");
    if (td_eval_mask_iou(&e->acc, &lo, &mean, &empty)) {
        td_json_open(b, '{');
        td_json_key(b, "threshold");
        td_json_num(b, e->acc.iou_t);
        td_json_key(b, "min");
        td_json_num(b, lo);
        td_json_key(b, "mean");
        td_json_num(b, mean);
        td_json_key(b, "nearly_empty");
        td_json_int(b, (int64_t)empty);
        td_json_close(b, '}');
    } else {
        td_json_null(b);
    }
    td_json_close(b, '}');
}

static void latency_json(td_buf *b, const td_eval_result *r)
{
    td_json_key(b, "latency");
    if (!r->timed) {
        td_json_null(b);
        return;
    }
    td_json_open(b, '{');
    td_json_key(b, "runs");
    td_json_int(b, (int64_t)r->ta.runs);
    td_json_key(b, "a_ms");
    td_json_num(b, r->ta.median_ms);
    if (r->opts->model_b) {
        td_json_key(b, "b_ms");
        td_json_num(b, r->tb.median_ms);
        td_json_key(b, "ratio");
        td_json_num(b, r->tb.median_ms / r->ta.median_ms);
    }
    td_json_close(b, '}');
}

/* The criteria asked for (null: not checked), the failures one line
 * each, and the verdict. */
static void verdict_json(td_buf *b, const td_eval_result *r)
{
    const td_eval_opts *o = r->opts;
    td_json_key(b, "criteria");
    td_json_open(b, '{');
    num_or_null(b, "rtol", o->rtol);
    num_or_null(b, "min_cosine", o->min_cosine);
    num_or_null(b, "min_agreement", o->min_agreement);
    num_or_null(b, "elem_rtol", o->elem_rtol);
    num_or_null(b, "elem_atol", o->elem_rtol >= 0 ? o->elem_atol : -1);
    td_json_close(b, '}');
    td_json_key(b, "failures");
    td_json_open(b, '[');
    const char *p = r->failures.p, *end = p ? p + r->failures.len : NULL;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        td_json_strn(b, p, n);
        p += n + 1;
    }
    td_json_close(b, ']');
    td_json_key(b, "pass");
    td_json_bool(b, r->pass);
}

char *td_eval_render_json(const td_eval_result *r)
{
    const td_eval_opts *o = r->opts;
    td_buf b = {0};
    td_json_open(&b, '{');
    td_json_key(&b, "model_a");
    td_json_str(&b, o->model_a);
    td_json_key(&b, "model_b");
    if (o->model_b)
        td_json_str(&b, o->model_b);
    else
        td_json_null(&b);
    td_json_key(&b, "reference");
    td_json_str(&b, o->model_b ? "model_a" : "stored outputs");
    runtime_inputs_json(&b, r);
    td_json_key(&b, "outputs");
    td_json_open(&b, '[');
    for (size_t k = 0; k < r->n_out; k++)
        output_json(&b, o, &r->out[k]);
    td_json_close(&b, ']');
    latency_json(&b, r);
    verdict_json(&b, r);
    td_json_close(&b, '}');
    td_buf_put(&b, "\n", 1);
    return td_buf_take(&b);
}
