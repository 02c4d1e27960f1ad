#include "calib/td_speed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/td_eval_internal.h"
#include "util/td_sort.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static td_status session_of(td_rt *rt, td_model *m, td_graph *g,
                            const char *label, const td_rt_options *ro,
                            td_rt_session **out, td_err_t *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    td_status s = td_model_pack(m, g, &buf, &len, err);
    if (!s)
        s = td_rt_session_new_mem(rt, buf, len, label, ro, out, err);
    free(buf);
    return s;
}

static td_status run_ms(td_rt_session *s, const td_array *in, size_t n_in,
                        double *ms, td_err_t *err)
{
    td_array *out = NULL;
    double t0 = now_ms();
    td_status st = td_rt_run(s, in, n_in, NULL, 0, &out, err);
    *ms = now_ms() - t0;
    td_array_free_n(out, td_rt_n_outputs(s));
    return st;
}

/* A small model's pairs are spread over at least this much time, up to
 * MAX_PAIRS: ten pairs of a model that runs in a third of a millisecond
 * fit in one scheduler tick, and one tick lost to another process then
 * moves every pair the same way (a small CNN's 1.08x measured 0.6x once
 * in twenty runs on a loaded machine). */
#define MIN_TIMED_MS 300.0
#define MAX_PAIRS 1000
/* Untimed runs of each before the pairs: the first runs allocate the
 * session's arena and pick kernels. */
#define WARMUP 2

/* Warm-up, then pairs that alternate which model runs first: at least
 * `pairs`, more for a small model (MIN_TIMED_MS). */
static td_status time_pairs(td_rt_session *a, td_rt_session *b,
                            const td_array *in, size_t n_in, size_t pairs,
                            td_speed *out, td_err_t *err)
{
    double wa = 0, wb = 0;
    td_status s = TD_OK;
    for (int w = 0; w < WARMUP && !s; w++)
        if (!(s = run_ms(a, in, n_in, &wa, err)))
            s = run_ms(b, in, n_in, &wb, err);
    if (s)
        return s;
    if (wa + wb > 0 && (double)pairs * (wa + wb) < MIN_TIMED_MS) {
        double want = MIN_TIMED_MS / (wa + wb);
        pairs = want > MAX_PAIRS ? MAX_PAIRS : (size_t)want;
    }
    double *ta = calloc(pairs, sizeof *ta), *tb = calloc(pairs, sizeof *tb);
    double *q = calloc(pairs, sizeof *q);
    if (!ta || !tb || !q) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < pairs && !s; r++) {
        int b_first = r & 1;
        s = run_ms(b_first ? b : a, in, n_in, b_first ? &tb[r] : &ta[r], err);
        if (!s)
            s = run_ms(b_first ? a : b, in, n_in, b_first ? &ta[r] : &tb[r], err);
        q[r] = tb[r] > 0 ? ta[r] / tb[r] : 1;
    }
    if (!s) {
        out->timed = 1;
        out->pairs = pairs;
        out->speedup = td_median(q, pairs);  /* sorts q */
        out->speedup_q3 = q[(3 * (pairs - 1) + 3) / 4];
        out->ms_before = td_median(ta, pairs);
        out->ms_after = td_median(tb, pairs);
    }
done:
    free(ta);
    free(tb);
    free(q);
    return s;
}

/* Inputs for the original's session; a shape they cannot take (a
 * symbolic dim not given, a dim with neither size nor name) is a reason to
 * skip or to time on the sample, not an error. */
static td_status make_inputs(td_rt_session *a, const td_speed_opts *o,
                             td_array **in, td_speed *out, td_err_t *err)
{
    td_eval_dim *dims = calloc(o->n_dims ? o->n_dims : 1, sizeof *dims);
    if (!dims)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t q = 0; q < o->n_dims; q++) {
        dims[q].name = o->dims[q].name;
        dims[q].value = o->dims[q].value;
    }
    td_err_t e = {0};
    td_status s = td_eval_random_sample(a, 0, 0, dims, o->n_dims, in, &e);
    free(dims);
    if (s && s != TD_ENOMEM) {
        snprintf(out->why, sizeof out->why, "not timed: %.900s", e.msg);
        return TD_OK;
    }
    if (s)
        *err = e;
    return s;
}

td_status td_speed_measure(td_model *m, td_graph *orig, const td_speed_opts *o,
                           td_speed *out, td_err_t *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->inputs, sizeof out->inputs, "generated");
    td_rt *rt = NULL;
    td_rt_session *a = NULL, *b = NULL;
    td_array *in = NULL;
    td_err_t e = {0};
    if (td_rt_open(o->ort_lib, &rt, &e)) {
        snprintf(out->why, sizeof out->why, "not timed: %.1000s", e.msg);
        return TD_OK;
    }
    snprintf(out->runtime, sizeof out->runtime, "%s", td_rt_version(rt));
    td_status s = session_of(rt, m, orig, "the original model", &o->rt, &a, &e);
    if (!s)
        s = session_of(rt, m, NULL, "the compressed model", &o->rt, &b, &e);
    if (!s)
        s = make_inputs(a, o, &in, out, &e);
    size_t n_in = s ? 0 : td_rt_n_inputs(a);   /* a exists when s is 0 */
    if (!s && !in && o->samples && td_samples_count(o->samples)) {
        /* a dim without a value: the data's own shapes (read only here:
         * a static model never needs the sample) */
        n_in = o->n_sample_inputs;
        if (!(s = td_samples_read(o->samples, 0, &in, &e))) {
            out->why[0] = '\0';
            snprintf(out->inputs, sizeof out->inputs, "calibration");
        }
    }
    if (!s && in)
        s = time_pairs(a, b, in, n_in, o->pairs ? o->pairs : 1, out, &e);
    /* a model the runtime cannot load or run (an element type without
     * kernels, e.g. fp64 or bf16 Conv) is not timed; that is no reason to
     * refuse what the pass wrote */
    if (s && s != TD_ENOMEM) {
        out->timed = 0;
        snprintf(out->why, sizeof out->why, "not timed: %.1000s", e.msg);
        s = TD_OK;
    } else if (s) {
        *err = e;
    }
    if (in)
        td_array_free_n(in, n_in);
    td_rt_session_free(a);
    td_rt_session_free(b);
    td_rt_close(rt);
    return s;
}
