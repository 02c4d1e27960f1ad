/* The measured deviation of a compressed model; see td_calib.h. The
 * metrics are eval's (src/eval/), so `compress` and `eval` report the same
 * numbers for the same models and inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/td_calib.h"
#include "eval/td_eval_internal.h"

double td_measured_max_rel_l2(const td_measured *m,
                              const char *const *outputs, size_t n_outputs)
{
    double d = 0;
    for (size_t i = 0; i < m->n_out; i++) {
        if (!td_outputs_name(outputs, n_outputs, m->out[i].name))
            continue;
        double x = m->out[i].rel_l2;
        if (!(x <= d))
            d = isnan(x) ? HUGE_VAL : x;
    }
    return d;
}

void td_measured_free(td_measured *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_out; i++) {
        free(m->out[i].name);
        free(m->out[i].state_input);
    }
    free(m->out);
    memset(m, 0, sizeof *m);
}

/* Outputs of the original that the compressed model also has (the pass
 * keeps every graph output, so all of them; by name all the same). */
struct pair {
    const char *name;
    size_t b;           /* index in the compressed model's outputs */
    td_eval_acc acc;
    char *state_in;     /* the input it is shaped like (owned), or NULL */
};

static td_status pair_outputs(const td_rt_session *a, const td_rt_session *b,
                              struct pair *p, td_err_t *err)
{
    for (size_t i = 0; i < td_rt_n_outputs(a); i++) {
        const char *nm = td_rt_output(a, i)->name;
        size_t k = 0;
        while (k < td_rt_n_outputs(b) && strcmp(td_rt_output(b, k)->name, nm))
            k++;
        if (k == td_rt_n_outputs(b))
            return td_err_set(err, TD_EINPUT, "the compressed model has no "
                              "output '%s'", nm);
        p[i].name = nm;
        p[i].b = k;
    }
    return TD_OK;
}

static td_status compare(const td_array *x, const td_array *y,
                         const td_array *in, size_t n_in, double iou_t,
                         const char *sample, struct pair *p, td_err_t *err)
{
    td_eval_acc *acc = &p->acc;
    acc->iou_t = iou_t;
    if (!td_array_same_shape(x, y)) {
        char sx[128], sy[128];
        td_array_shape_str(x->dims, x->ndim, sx, sizeof sx);
        td_array_shape_str(y->dims, y->ndim, sy, sizeof sy);
        return td_err_set(err, TD_EINPUT, "%s: output '%s' is %s %s from the "
                          "original, %s %s from the compressed model", sample,
                          x->name, td_array_dtype_name(x->dtype), sx,
                          td_array_dtype_name(y->dtype), sy);
    }
    td_eval_acc_note_inputs(acc, x, in, n_in);
    if (acc->state && !p->state_in && in[acc->state_input].name &&
        !(p->state_in = strdup(in[acc->state_input].name)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    td_eval_acc_add(acc, x, y, -1, 0);
    return TD_OK;
}

static td_status fill(struct pair *p, size_t n, td_measured *out)
{
    out->out = calloc(n ? n : 1, sizeof *out->out);
    if (!out->out)
        return TD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        td_measured_output *o = &out->out[out->n_out];
        if (!(o->name = strdup(p[i].name)))
            return TD_ENOMEM;
        out->n_out++;
        o->rel_l2 = td_eval_rel_l2(&p[i].acc);
        o->max_abs = p[i].acc.max_abs;
        o->cosine = td_eval_cosine(&p[i].acc);
        o->state = p[i].acc.state;
        o->state_input = p[i].state_in;
        p[i].state_in = NULL;
        o->agreement = p[i].acc.scores && p[i].acc.rows
                           ? (double)p[i].acc.agree / (double)p[i].acc.rows
                           : -1;
        td_eval_mask_iou(&p[i].acc, &o->iou_min, &o->iou_mean,
                         &o->iou_empty);
    }
    return TD_OK;
}

/* Sample i's outputs of the original: refs[i] when kept there, else run
 * (and kept when refs is given). *own: the caller frees them. */
static td_status reference(td_rt_session *a, td_array **refs, size_t i,
                           const td_array *in, size_t n_in, td_array **ra,
                           int *own, td_err_t *err)
{
    *own = 0;
    if (refs && refs[i]) {
        *ra = refs[i];
        return TD_OK;
    }
    td_status s = td_rt_run(a, in, n_in, NULL, 0, ra, err);
    if (!s && refs)
        refs[i] = *ra;
    else
        *own = !s;
    return s;
}

td_status td_calib_measure(td_rt *rt, td_rt_session *a, td_rt_session *b,
                           const td_samples *smp, size_t n_in,
                           const unsigned char *use, size_t runs,
                           td_array **refs, const td_calib_loop *loop,
                           double iou_threshold, td_measured *out,
                           td_err_t *err)
{
    int own_ra = 0, own_pa = 0;
    memset(out, 0, sizeof *out);
    td_array *in = NULL, *ra = NULL, *rb = NULL;
    /* with a loop: each model's outputs on the step before, and the
     * inputs each model is given */
    td_array *pa = NULL, *pb = NULL, *va = NULL, *vb = NULL;
    td_eval_loop_at *at = NULL;
    struct pair *p = NULL;
    size_t na = 0, nb = 0, first = (size_t)-1, last = (size_t)-1;
    td_status s = TD_OK;
    if (loop && !loop->n)
        loop = NULL;
    na = td_rt_n_outputs(a);
    nb = td_rt_n_outputs(b);
    if (!(p = calloc(na ? na : 1, sizeof *p)) ||
        !(va = calloc(n_in ? n_in : 1, sizeof *va)) ||
        !(vb = calloc(n_in ? n_in : 1, sizeof *vb)) ||
        (loop && !(at = calloc(loop->n, sizeof *at)))) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    if ((s = pair_outputs(a, b, p, err)))
        goto done;
    for (size_t i = 0; i < td_samples_count(smp); i++) {
        if (!use[i])
            continue;
        const char *sample = td_samples_label(smp, i);
        if ((s = td_samples_read(smp, i, &in, err)))
            goto done;
        /* a run of consecutive samples continues the loop; the first of
         * one starts from its own state */
        int cont = loop && last != (size_t)-1 && last + 1 == i;
        if ((loop && first == (size_t)-1 &&
             (s = td_eval_loop_find(loop, a, b, in, n_in, at, err))) ||
            (s = td_eval_loop_inputs(loop, at, in, n_in, cont ? pa : NULL, 0,
                                     "the original model", sample, va,
                                     err)) ||
            (s = td_eval_loop_inputs(loop, at, in, n_in, cont ? pb : NULL, 1,
                                     "the compressed model", sample, vb,
                                     err)) ||
            (s = reference(a, refs, i, va, n_in, &ra, &own_ra, err)) ||
            (s = td_rt_run(b, vb, n_in, NULL, 0, &rb, err)))
            goto done;
        for (size_t k = 0; k < na && !s; k++)
            s = compare(&ra[k], &rb[p[k].b], in, n_in, iou_threshold, sample,
                        &p[k], err);
        if (s)
            goto done;
        /* this step's outputs feed the next; the ones before are done */
        if (own_pa)
            td_array_free_n(pa, na);
        td_array_free_n(pb, nb);
        pa = pb = NULL;
        own_pa = 0;
        if (loop) {
            pa = ra, own_pa = own_ra;
            pb = rb;
        } else {
            if (own_ra)
                td_array_free_n(ra, na);
            td_array_free_n(rb, nb);
        }
        ra = rb = NULL;
        own_ra = 0;
        out->samples++;
        if (first == (size_t)-1)
            first = i;
        last = i;
        td_array_free_n(in, n_in);
        in = NULL;
    }
    out->iou_threshold = iou_threshold;
    if (!out->samples) {
        s = td_err_set(err, TD_EUSAGE, "no input to measure the deviation on");
        goto done;
    }
    if (runs) {
        td_rt_timing ta, tb;
        if ((s = td_samples_read(smp, first, &in, err)) ||
            (s = td_rt_time(a, b, in, n_in, runs, 1, &ta, &tb, err)))
            goto done;
        out->runs = runs;
        out->ms_before = ta.median_ms;
        out->ms_after = tb.median_ms;
    }
    snprintf(out->runtime, sizeof out->runtime, "%s", td_rt_version(rt));
    if (fill(p, na, out))
        s = td_err_set(err, TD_ENOMEM, "out of memory");
done:
    td_array_free_n(in, n_in);
    if (own_ra)
        td_array_free_n(ra, na);
    td_array_free_n(rb, nb);
    if (own_pa)
        td_array_free_n(pa, na);
    td_array_free_n(pb, nb);
    free(va);
    free(vb);
    free(at);
    for (size_t k = 0; p && k < na; k++)
        free(p[k].state_in);
    free(p);
    if (s)
        td_measured_free(out);
    return s;
}
