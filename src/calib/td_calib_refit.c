/* Sequential refit: the chains in topological order, a wave at a time,
 * each last factor refitted on what the model, compressed and refitted up
 * to that wave, gives it; see td_calib.h and decompose/td_refit.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib/td_calib.h"
#include "calib/td_calib_refit.h"
#include "util/td_sort.h"
#include "util/td_clock.h"

static int by_node(const void *a, const void *b)
{
    const td_refit_target *x = a, *y = b;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* The chains of r that can be refitted, in g's topological order;
 * the others counted in out. */
static td_status collect(td_graph *g, td_graph *orig,
                         const td_compress_report *r, int whole,
                         td_refit_target **ts, size_t *n,
                         td_refit_report *out, td_err_t *err)
{
    td_refit_target *t = calloc(r->n_layers ? r->n_layers : 1, sizeof *t);
    if (!t)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    *n = 0;
    for (size_t i = 0; i < r->n_layers; i++) {
        if (r->layers[i].method == TD_KEEP)
            continue;
        /* a ridge fit to the logits would undo what the softmax's metric
         * chose to keep (decompose/svd_metric.c) */
        if (r->layers[i].softmax_metric) {
            out->skipped++;
            if (!out->first_skip)
                out->first_skip = "factored in the metric of the softmax "
                                  "it feeds";
            continue;
        }
        td_status s = td_refit_target_of(g, orig, r->layers[i].output,
                                         &t[*n], err);
        if (!s && whole && !t[*n].why)
            s = td_refit_target_whole(g, &t[*n], err);
        if (s) {
            td_refit_target_free(&t[*n]);
            for (size_t q = 0; q < *n; q++)
                td_refit_target_free(&t[q]);
            free(t);
            return s;
        }
        if (t[*n].why) {
            out->skipped++;
            if (!out->first_skip)
                out->first_skip = t[*n].why;
            td_refit_target_free(&t[*n]);
            continue;
        }
        (*n)++;
    }
    qsort(t, *n, sizeof *t, by_node);
    *ts = t;
    return TD_OK;
}

/* A session on m with graph src forked and the values names[0..n) (of
 * element type dtypes[q]) made outputs. */
static td_status session_with(const td_calib_view *v, td_model *m,
                              td_graph *src, const char *const *names,
                              const int32_t *dtypes, size_t n,
                              const char *label, td_rt_session **out,
                              td_err_t *err)
{
    td_arena *a = td_arena_new();
    const Onnx__GraphProto *gp = a ? td_graph_build(src) : NULL;
    td_graph *f = gp ? td_graph_new(a, gp, 0) : NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    td_status s = f ? TD_OK : td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t q = 0; q < n && !s; q++)
        if (!td_graph_is_output(f, names[q]))
            s = td_graph_add_output(f, names[q], dtypes[q], NULL, 0, err);
    if (!s)
        s = td_model_pack(m, f, &buf, &len, err);
    /* the outputs kept alive for the refit: no memory pattern (td_rt.h) */
    td_rt_options ro = v->rt_opts;
    ro.low_memory = 1;
    if (!s)
        s = td_rt_session_new_mem(v->rt, buf, len, label, &ro, out, err);
    free(buf);
    td_graph_free(f);
    td_arena_free(a);
    return s;
}

/* One calibration sample through both sessions, added to the wave's sums. */
static td_status wave_sample(const td_calib_view *v, size_t i, size_t fold,
                             td_rt_session *orig, td_rt_session *comp,
                             td_refit_target *t, size_t n, const char **ys,
                             const char **zs, td_err_t *err)
{
    td_array *in = NULL, *yr = NULL, *zr = NULL;
    td_status s;
    if ((s = td_samples_read(v->smp, i, &in, err)) ||
        (s = td_rt_run(comp, in, v->n_in, zs, n, &zr, err)) ||
        (s = td_rt_run(orig, in, v->n_in, ys, n, &yr, err)))
        goto done;
    for (size_t k = 0; k < n && !s; k++)
        if (!t[k].why)
            s = td_refit_target_add(&t[k], &yr[k], &zr[k], fold, err);
done:
    td_array_free_n(in, v->n_in);
    td_array_free_n(yr, yr ? n : 0);
    td_array_free_n(zr, zr ? n : 0);
    return s;
}

/* One target's solve, written into g: the whole chain where t->x, with
 * the ridge chosen by cross-validation over the folds (*lambda). */
static td_status solve_one(td_graph *g, td_refit_target *t, double *before,
                           double *after, double *lambda, td_err_t *err)
{
    size_t na = (size_t)(t->cout * t->r);
    double *a = malloc(na * sizeof *a);
    double *b = malloc((size_t)t->cout * sizeof *b);
    double *right = t->x ? malloc((size_t)(t->r * t->cin) * sizeof *right)
                         : NULL;
    double cv_kept, cv_best;
    td_status s = TD_OK;
    if (!a || !b || (t->x && !right)) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    td_refit_acc_sum(&t->acc, t->fold, TD_REFIT_FOLDS, TD_REFIT_FOLDS);
    if ((s = td_refit_choose(t->fold, TD_REFIT_FOLDS, t->x ? t->g0 : t->a0,
                             t->b0, t->x ? t->r : 0, lambda, &cv_kept,
                             &cv_best, err)))
        goto done;
    if (t->x) {
        if (!(s = td_refit_solve_chain(&t->acc, t->g0, t->b0, t->r,
                                       *lambda, a, right, b, before, after,
                                       err)))
            s = td_refit_target_write_whole(g, t, a, right,
                                            t->b0 ? b : NULL, err);
    } else if (!(s = td_refit_solve(&t->acc, t->a0, t->b0, *lambda, a, b,
                                    before, after, err))) {
        s = td_refit_target_write(g, t, a, t->b0 ? b : NULL, err);
    }
done:
    free(a);
    free(b);
    free(right);
    return s;
}

/* Each target's solve, written into g. */
static td_status wave_solve(td_graph *g, td_refit_target *t, size_t n,
                            td_refit_report *out, td_err_t *err)
{
    td_status s = TD_OK;
    for (size_t k = 0; k < n && !s; k++) {
        double before = 0, after = 0;
        if (!t[k].why)
            s = solve_one(g, &t[k], &before, &after, &t[k].lambda, err);
        if (s)
            td_err_prefix(err, "refitting '%s': ", t[k].y);
        else if (t[k].why) {
            out->skipped++;
            if (!out->first_skip)
                out->first_skip = t[k].why;
        } else {
            out->refitted++;
            out->whole += t[k].x != NULL;
            out->before += before;
            out->after += after;
        }
    }
    return s;
}

/* Targets t[0..n): the current g with their inner values as outputs, run
 * with the original on every calibration input, then refitted. */
static td_status run_wave(const td_calib_view *v, td_model *m, td_graph *g,
                          td_rt_session *orig, td_refit_target *t, size_t n,
                          td_refit_report *out, td_err_t *err)
{
    const char **ys = calloc(n, sizeof *ys), **zs = calloc(n, sizeof *zs);
    int32_t *dt = calloc(n, sizeof *dt);
    td_rt_session *comp = NULL;
    td_status s = ys && zs && dt ? TD_OK
                                 : td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t k = 0; k < n && !s; k++) {
        ys[k] = t[k].y;
        zs[k] = td_refit_target_input(&t[k]);
        dt[k] = t[k].dtype;
    }
    if (!s)
        s = session_with(v, m, g, zs, dt, n, "the model being refitted",
                         &comp, err);
    size_t ncal = 0, q = 0;
    for (size_t i = 0; i < td_samples_count(v->smp); i++)
        ncal += v->calib[i] != 0;
    for (size_t i = 0; i < td_samples_count(v->smp) && !s; i++)
        if (v->calib[i]) {
            size_t fold = td_calib_fold_of(q++, ncal, TD_CALIB_FOLDS);
            s = wave_sample(v, i, fold, orig, comp, t, n, ys, zs, err);
            out->model_runs += 2;
        }
    if (!s)
        s = wave_solve(g, t, n, out, err);
    td_rt_session_free(comp);
    free(ys);
    free(zs);
    free(dt);
    return s;
}

/* The original with every target's output made a graph output. */
static td_status original_session(const td_calib_view *v, td_model *m,
                                  td_refit_target *t, size_t n,
                                  td_rt_session **out, td_err_t *err)
{
    const char **ys = calloc(n, sizeof *ys);
    int32_t *dt = calloc(n, sizeof *dt);
    td_status s = ys && dt ? TD_OK
                           : td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t k = 0; k < n && !s; k++) {
        ys[k] = t[k].y;
        dt[k] = t[k].dtype;
    }
    if (!s)
        s = session_with(v, m, v->orig, ys, dt, n, "the original model", out,
                         err);
    free(ys);
    free(dt);
    return s;
}

/* The median ridge of the refitted targets (those without a why). */
static double median_lambda(const td_refit_target *t, size_t n)
{
    double *v = malloc((n ? n : 1) * sizeof *v), m = NAN;
    size_t k = 0;
    for (size_t q = 0; v && q < n; q++)
        if (!t[q].why)
            v[k++] = t[q].lambda;
    if (k)
        m = td_median(v, k);
    free(v);
    return m;
}

td_status td_calib_refit(td_calib *c, td_model *m, td_graph *g,
                         const td_compress_report *r, size_t waves,
                         int whole, td_refit_report *out, td_err_t *err)
{
    double t0 = td_now();
    td_calib_view v;
    td_refit_target *t = NULL;
    td_rt_session *orig = NULL;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    td_calib_view_of(c, &v);
    if (!g)
        g = td_model_graph(m);
    td_status s = collect(g, v.orig, r, whole, &t, &n, out, err);
    if (s || !n)
        goto done;
    if ((s = original_session(&v, m, t, n, &orig, err)))
        goto done;
    out->waves = waves < 1 ? 1 : waves > n ? n : waves;
    for (size_t w = 0; w < out->waves && !s; w++) {
        size_t lo = n * w / out->waves, hi = n * (w + 1) / out->waves;
        s = run_wave(&v, m, g, orig, t + lo, hi - lo, out, err);
    }
    if (!s && out->refitted) {
        out->before /= (double)out->refitted;
        out->after /= (double)out->refitted;
        out->lambda_median = median_lambda(t, n);
    }
    if (!s)
        s = td_graph_check(g, err);
done:
    for (size_t k = 0; t && k < n; k++)
        td_refit_target_free(&t[k]);
    free(t);
    td_rt_session_free(orig);
    out->seconds = td_now() - t0;
    return s;
}
