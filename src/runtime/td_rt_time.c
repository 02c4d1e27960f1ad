/* Latency: interleaved runs of two sessions on one set of inputs. */
#include <stdlib.h>
#include <time.h>

#include "runtime/td_rt.h"
#include "util/td_sort.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The q-quantile of sorted v (linear between neighbours). */
static double quantile(const double *v, size_t n, double q)
{
    double at = q * (double)(n - 1);
    size_t i = (size_t)at;
    double f = at - (double)i;
    return i + 1 < n ? v[i] + f * (v[i + 1] - v[i]) : v[n - 1];
}

static void summarize(double *ms, size_t n, td_rt_timing *t)
{
    t->median_ms = td_median(ms, n);   /* sorts ms */
    t->runs = n;
    t->min_ms = ms[0];
    t->max_ms = ms[n - 1];
}

/* One timed run; the outputs are copied out as for any caller, so both
 * sessions pay the same copy. */
static td_status one(td_rt_session *s, const td_array *in, size_t n_in,
                     double *ms, td_err_t *err)
{
    td_array *out = NULL;
    double t0 = now_ms();
    td_status st = td_rt_run(s, in, n_in, NULL, 0, &out, err);
    if (ms)
        *ms = now_ms() - t0;
    td_array_free_n(out, td_rt_n_outputs(s));
    return st;
}

td_status td_rt_time(td_rt_session *a, td_rt_session *b,
                     const td_array *inputs, size_t n_inputs, size_t runs,
                     size_t warmup, td_rt_timing *ta, td_rt_timing *tb,
                     td_err_t *err)
{
    if (!runs)
        return td_err_set(err, TD_EUSAGE, "timing needs at least one run");
    double *ms_a = calloc(runs, sizeof *ms_a), *ms_b = calloc(runs, sizeof *ms_b);
    double *ratio = calloc(runs, sizeof *ratio);
    td_status st = TD_OK;
    if (!ms_a || !ms_b || !ratio) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t w = 0; w < warmup && !st; w++) {
        st = one(a, inputs, n_inputs, NULL, err);
        if (!st && b)
            st = one(b, inputs, n_inputs, NULL, err);
    }
    for (size_t r = 0; r < runs && !st; r++) {
        int b_first = b && (r & 1);
        if (b_first)
            st = one(b, inputs, n_inputs, &ms_b[r], err);
        if (!st)
            st = one(a, inputs, n_inputs, &ms_a[r], err);
        if (!st && b && !b_first)
            st = one(b, inputs, n_inputs, &ms_b[r], err);
    }
    if (!st && b) {  /* the ratios first: summarize sorts the times */
        for (size_t r = 0; r < runs; r++)
            ratio[r] = ms_a[r] > 0 ? ms_b[r] / ms_a[r] : 1;
        td_sort_doubles(ratio, runs);
        tb->ratio_q1 = quantile(ratio, runs, 0.25);
        tb->ratio_median = quantile(ratio, runs, 0.5);
        tb->ratio_q3 = quantile(ratio, runs, 0.75);
    }
    if (!st) {
        summarize(ms_a, runs, ta);
        if (b)
            summarize(ms_b, runs, tb);
    }
cleanup:
    free(ms_a);
    free(ms_b);
    free(ratio);
    return st;
}
