/* eval's pipeline: load the runtime, open the sessions, pair their inputs
 * and outputs, stream the samples through both, time them, judge. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/td_samples.h"
#include "eval/td_eval_internal.h"

typedef struct eval_ctx {
    const td_eval_opts *o;
    td_rt *rt;
    td_rt_session *a, *b;
    const char **in_names;
    td_samples *samples;
    td_eval_result r;
    td_array *first;         /* sample 0's inputs, kept for timing */
    /* with a loop: where its names are, each model's outputs on the
     * sample before, and the inputs each model is given */
    td_eval_loop_at *at;
    td_array *pa, *pb, *va, *vb;
} eval_ctx;

static td_status check_options(const td_eval_opts *o, td_err_t *err)
{
    if (!o->model_a)
        return td_err_set(err, TD_EUSAGE, "eval needs a model");
    if (!o->n_inputs == !o->random)
        return td_err_set(err, TD_EUSAGE, "eval needs inputs: real ones "
                          "(inputs) or, for a smoke test, random ones (random)"
                          ", not both");
    if (!o->model_b && o->random)
        return td_err_set(err, TD_EUSAGE, "random inputs have no stored "
                          "outputs: compare two models");
    if (o->threads < 0)
        return td_err_set(err, TD_EUSAGE, "threads must be >= 0");
    if (o->loop.n && o->random)
        return td_err_set(err, TD_EUSAGE, "a state loop needs real inputs "
                          "in order, not random ones");
    return TD_OK;
}

static td_status open_sessions(eval_ctx *c, td_err_t *err)
{
    td_rt_options ro = {c->o->threads, TD_RT_OPT_ALL, 0};
    td_status st = td_rt_open(c->o->ort_lib, &c->rt, err);
    if (!st)
        st = td_rt_session_new(c->rt, c->o->model_a, &ro, &c->a, err);
    if (!st && c->o->model_b)
        st = td_rt_session_new(c->rt, c->o->model_b, &ro, &c->b, err);
    if (st)
        return st;
    c->r.version = td_rt_version(c->rt);
    c->r.library = td_rt_library(c->rt);
    size_t n = td_rt_n_inputs(c->a);
    if (!(c->in_names = calloc(n ? n : 1, sizeof *c->in_names)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const td_rt_io *io = td_rt_input(c->a, i);
        c->in_names[i] = io->name;
        if (!io->is_tensor || !td_array_elem_size(io->dtype))
            return td_err_set(err, TD_EINPUT, "%s: input '%s' is %s; eval "
                              "feeds numeric tensors only", c->o->model_a,
                              io->name, io->is_tensor
                                  ? td_array_dtype_name(io->dtype)
                                  : "not a tensor (a sequence, map or "
                                    "optional)");
    }
    if (!c->b)
        return TD_OK;
    /* B is fed what A is fed: same input names and element types. */
    if (td_rt_n_inputs(c->b) != n)
        return td_err_set(err, TD_EINPUT, "%s has %zu inputs, %s has %zu: "
                          "eval feeds both the same inputs", c->o->model_a, n,
                          c->o->model_b, td_rt_n_inputs(c->b));
    for (size_t i = 0; i < n; i++) {
        const td_rt_io *x = td_rt_input(c->a, i), *y = NULL;
        for (size_t j = 0; j < n && !y; j++)
            if (!strcmp(td_rt_input(c->b, j)->name, x->name))
                y = td_rt_input(c->b, j);
        if (!y || y->dtype != x->dtype)
            return td_err_set(err, TD_EINPUT, "%s: input '%s' (%s) %s in %s",
                              c->o->model_a, x->name,
                              td_array_dtype_name(x->dtype),
                              y ? "has another element type" : "is missing",
                              c->o->model_b);
    }
    return TD_OK;
}

/* Outputs are paired by name; when B names none of A's outputs but has as
 * many, by position (a rewrite may rename them). */
static td_status pair_outputs(eval_ctx *c, td_err_t *err)
{
    size_t n = td_rt_n_outputs(c->a);
    if (!(c->r.out = calloc(n ? n : 1, sizeof *c->r.out)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    c->r.n_out = n;
    size_t by_name = 0;
    for (size_t i = 0; i < n; i++) {
        td_eval_out *e = &c->r.out[i];
        e->name = td_rt_output(c->a, i)->name;
        e->index_a = i;
        e->index_b = (size_t)-1;
        for (size_t j = 0; c->b && j < td_rt_n_outputs(c->b); j++)
            if (!strcmp(td_rt_output(c->b, j)->name, e->name))
                e->index_b = j, by_name++;
    }
    if (!c->b || by_name == n)
        return TD_OK;
    if (by_name == 0 && td_rt_n_outputs(c->b) == n) {
        for (size_t i = 0; i < n; i++)
            c->r.out[i].index_b = i;
        return TD_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (c->r.out[i].index_b == (size_t)-1)
            return td_err_set(err, TD_EINPUT, "%s: output '%s' is not an "
                              "output of %s", c->o->model_a, c->r.out[i].name,
                              c->o->model_b);
    return TD_OK;
}

static td_status compare(eval_ctx *c, size_t sample, td_eval_out *e,
                         const td_array *a, const td_array *b, td_err_t *err)
{
    char sa[128], sb[128];
    int same = a->ndim == b->ndim &&
               (!a->ndim || !memcmp(a->dims, b->dims, a->ndim * sizeof *a->dims));
    if (!same || !td_array_elem_size(b->dtype)) {
        td_array_shape_str(a->dims, a->ndim, sa, sizeof sa);
        td_array_shape_str(b->dims, b->ndim, sb, sizeof sb);
        return td_err_set(err, TD_EINPUT, "%s: output '%s' has shape %s from "
                          "%s but %s %s", c->samples ? td_samples_label(c->samples, sample)
                                                     : "random sample",
                          e->name, sa, c->o->model_a, sb,
                          c->b ? c->o->model_b : "in output_K.pb");
    }
    /* Two models may differ in dtype (an fp16 conversion against its
     * fp32 original); a model and its own stored outputs may not. */
    if (!c->b && a->dtype != b->dtype)
        return td_err_set(err, TD_EINPUT, "%s: output '%s' is %s but the "
                          "stored output_%zu.pb holds %s",
                          td_samples_label(c->samples, sample), e->name,
                          td_array_dtype_name(b->dtype), e->index_a,
                          td_array_dtype_name(a->dtype));
    if (!sample) {
        e->dtype_a = a->dtype;
        e->dtype_b = b->dtype;
        e->ndim = a->ndim < 8 ? a->ndim : 8;
        memcpy(e->dims, a->dims, e->ndim * sizeof *e->dims);
    }
    e->acc.iou_t = c->o->iou_threshold;
    td_eval_acc_add(&e->acc, a, b, c->o->elem_rtol, c->o->elem_atol);
    return TD_OK;
}

static td_status one_sample(eval_ctx *c, size_t i, td_err_t *err)
{
    size_t n_in = td_rt_n_inputs(c->a), n_out = c->r.n_out;
    td_array *in = NULL, *oa = NULL, *ob = NULL, *expected = NULL;
    td_status st = c->samples
                       ? td_samples_read(c->samples, i, &in, err)
                       : td_eval_random_sample(c->a, c->o->seed, i, c->o->dims,
                                               c->o->n_dims, &in, err);
    const td_eval_loop *l = &c->o->loop;
    const char *label = c->samples ? td_samples_label(c->samples, i) : "";
    if (!st && l->n && i == 0)
        st = td_eval_loop_find(l, c->a, c->b, in, n_in, c->at, err);
    if (!st)
        st = td_eval_loop_inputs(l, c->at, in, n_in, c->pa, 0, c->o->model_a,
                                 label, c->va, err);
    if (!st && c->b)
        st = td_eval_loop_inputs(l, c->at, in, n_in, c->pb, 1, c->o->model_b,
                                 label, c->vb, err);
    if (!st)
        st = td_rt_run(c->a, c->va, n_in, NULL, 0, &oa, err);
    if (!st && c->b) {
        st = td_rt_run(c->b, c->vb, n_in, NULL, 0, &ob, err);
    } else if (!st) {
        size_t have = td_samples_n_expected(c->samples, i);
        if (have != n_out)
            st = td_err_set(err, TD_EINPUT, "%s: %zu stored outputs "
                            "(output_K.pb) for a model with %zu; with one "
                            "model eval compares against them, or give a "
                            "second model", td_samples_label(c->samples, i),
                            have, n_out);
        else if (!(expected = calloc(n_out ? n_out : 1, sizeof *expected)))
            st = td_err_set(err, TD_ENOMEM, "out of memory");
        for (size_t k = 0; !st && k < n_out; k++)
            st = td_samples_read_expected(c->samples, i, k, &expected[k], err);
    }
    for (size_t k = 0; !st && k < n_out; k++) {
        td_eval_out *e = &c->r.out[k];
        /* The stored output is the reference when there is one model. */
        td_eval_acc_note_inputs(&e->acc, c->b ? &oa[e->index_a] : &expected[k],
                                in, n_in);
        st = c->b ? compare(c, i, e, &oa[e->index_a], &ob[e->index_b], err)
                  : compare(c, i, e, &expected[k], &oa[k], err);
    }
    if (!st && l->n) {
        /* this sample's outputs feed the next one */
        td_array_free_n(c->pa, td_rt_n_outputs(c->a));
        td_array_free_n(c->pb, c->b ? td_rt_n_outputs(c->b) : 0);
        c->pa = oa, c->pb = ob;
        oa = ob = NULL;
    }
    td_array_free_n(oa, td_rt_n_outputs(c->a));
    td_array_free_n(ob, c->b ? td_rt_n_outputs(c->b) : 0);
    td_array_free_n(expected, n_out);
    if (!st && i == 0)
        c->first = in;
    else
        td_array_free_n(in, n_in);
    return st;
}

static void judge(eval_ctx *c)
{
    const td_eval_opts *o = c->o;
    td_buf *f = &c->r.failures;
    int any_scores = 0;
    for (size_t k = 0; k < c->r.n_out; k++) {
        const td_eval_out *e = &c->r.out[k];
        double rel = td_eval_rel_l2(&e->acc), cos = td_eval_cosine(&e->acc);
        if (o->rtol >= 0 && !(rel <= o->rtol))
            td_buf_printf(f, "output '%s': rel. L2 %.3g > rtol %g\n", e->name,
                          rel, o->rtol);
        if (o->min_cosine >= 0 && !(cos >= o->min_cosine))
            td_buf_printf(f, "output '%s': cosine %.9f < min_cosine %g\n",
                          e->name, cos, o->min_cosine);
        if (e->acc.scores) {
            any_scores = 1;
            double agree = (double)e->acc.agree / (double)e->acc.rows;
            if (o->min_agreement >= 0 && !(agree >= o->min_agreement))
                td_buf_printf(f, "output '%s': top-1 agreement %.4f < "
                              "min_agreement %g\n", e->name, agree,
                              o->min_agreement);
        }
        if (o->elem_rtol >= 0 && e->acc.elem_mismatch)
            td_buf_printf(f, "output '%s': %zu of %zu elements over |b-a| <= "
                          "%g + %g |a|\n", e->name, e->acc.elem_mismatch,
                          e->acc.elements, o->elem_atol, o->elem_rtol);
        else if (e->acc.nan_mismatch && (o->rtol >= 0 || o->min_cosine >= 0))
            td_buf_printf(f, "output '%s': %zu elements NaN or infinite on "
                          "one side only\n", e->name, e->acc.nan_mismatch);
    }
    if (o->min_agreement >= 0 && !any_scores)
        td_buf_printf(f, "min_agreement: no output looks like class scores "
                      "(float, rank 2 or 3, last axis > 1)\n");
    c->r.pass = c->r.failures.len == 0;
}

td_status td_eval_run(const td_eval_opts *o, int json, char **report,
                      int *pass, td_err_t *err)
{
    *report = NULL;
    *pass = 0;
    eval_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.r.opts = o;
    td_status st = check_options(o, err);
    if (!st)
        st = open_sessions(&c, err);
    if (!st)
        st = pair_outputs(&c, err);
    if (!st && o->n_inputs)
        st = td_samples_open(o->inputs, o->n_inputs, c.in_names,
                             td_rt_n_inputs(c.a), &c.samples, err);
    if (!st) {
        size_t n_in = td_rt_n_inputs(c.a);
        c.va = calloc(n_in ? n_in : 1, sizeof *c.va);
        c.vb = calloc(n_in ? n_in : 1, sizeof *c.vb);
        c.at = calloc(o->loop.n ? o->loop.n : 1, sizeof *c.at);
        if (!c.va || !c.vb || !c.at)
            st = td_err_set(err, TD_ENOMEM, "out of memory");
    }
    c.r.samples = c.samples ? td_samples_count(c.samples) : o->random;
    for (size_t i = 0; !st && i < c.r.samples; i++)
        st = one_sample(&c, i, err);
    if (!st && o->runs) {
        st = td_rt_time(c.a, c.b, c.first, td_rt_n_inputs(c.a), o->runs, 1,
                        &c.r.ta, &c.r.tb, err);
        c.r.timed = !st;
    }
    if (!st) {
        judge(&c);
        *report = json ? td_eval_render_json(&c.r) : td_eval_render_text(&c.r);
        if (!*report)
            st = td_err_set(err, TD_ENOMEM, "out of memory");
        *pass = c.r.pass;
    }
    td_array_free_n(c.first, c.a ? td_rt_n_inputs(c.a) : 0);
    td_array_free_n(c.pa, c.a ? td_rt_n_outputs(c.a) : 0);
    td_array_free_n(c.pb, c.b ? td_rt_n_outputs(c.b) : 0);
    free(c.va);
    free(c.vb);
    free(c.at);
    td_buf_free(&c.r.failures);
    free(c.r.out);
    td_samples_free(c.samples);
    free(c.in_names);
    td_rt_session_free(c.b);
    td_rt_session_free(c.a);
    td_rt_close(c.rt);
    return st;
}
