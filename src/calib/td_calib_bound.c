/* The output-error bound: the most compression whose measured deviation
 * stays within it, found with few whole-model runs; see td_calib.h.
 *
 * The search variable is s in [0, 1], a budget's distance from the
 * uncompressed model: budget(s) = 1 - s (1 - floor), floor being the
 * budget asked for (or TD_BOUND_FLOOR without one), so s = 1 is the ask
 * and s = 0 keeps every layer. The allocation's error estimate grows
 * monotonically as the budget shrinks and, with it, the measured deviation
 * nearly so; bisection on s then needs log2(0.95 / resolution) steps, each
 * one compression of a fork of the model and two runs per held-out input
 * (the original and the fork). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calib/td_calib.h"
#include "passes/td_reuse.h"
#include "util/td_clock.h"

/* Budgets closer than this are not told apart: about one layer's share of
 * a model of a few dozen layers, and below the run-to-run spread of the
 * allocation's rank rounding. */
#define BOUND_RESOLUTION 0.02

/* CPU seconds of the whole process (all threads, the runtime's too): on
 * a shared machine the wall clock says more of the load than of us. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double budget_at(double s, double floor)
{
    return 1 - s * (1 - floor);
}

/* dst = name, cut to TD_BOUND_NAME_LEN - 1 bytes with "..." at its end */
static void name_at(char *dst, const char *name)
{
    size_t n = strlen(name);
    if (n < TD_BOUND_NAME_LEN) {
        memcpy(dst, name, n + 1);
        return;
    }
    memcpy(dst, name, TD_BOUND_NAME_LEN - 4);
    memcpy(dst + TD_BOUND_NAME_LEN - 4, "...", 4);
}

int td_bound_judge(const td_measured *m, const td_bound_report *br,
                   td_bound_step *st)
{
    st->rel_l2 = 0;
    st->agreement = -1;
    st->iou = -1;
    st->n_judged = 0;
    st->rel_l2_at[0] = st->agreement_at[0] = st->iou_at[0] = '\0';
    for (size_t i = 0; i < m->n_out; i++) {
        const td_measured_output *o = &m->out[i];
        if (!td_bound_judges(br, o->name))
            continue;
        st->n_judged++;
        /* a NaN output is outside any bound, and stays the worst */
        if (!isnan(st->rel_l2) && (st->n_judged == 1 || isnan(o->rel_l2) ||
                                   o->rel_l2 > st->rel_l2)) {
            st->rel_l2 = o->rel_l2;
            name_at(st->rel_l2_at, o->name);
        }
        if (o->agreement >= 0 &&
            (st->agreement < 0 || o->agreement < st->agreement)) {
            st->agreement = o->agreement;
            name_at(st->agreement_at, o->name);
        }
        if (o->iou_min >= 0 && (st->iou < 0 || o->iou_min < st->iou)) {
            st->iou = o->iou_min;
            name_at(st->iou_at, o->name);
        }
    }
    /* without a rel. L2 bound a NaN output is still outside */
    st->score = br->judge && m->judge ? m->score : NAN;
    int ok = br->max_error < 0 ? !isnan(st->rel_l2)
                               : st->rel_l2 <= br->max_error;
    if (br->judge)   /* not scored: outside */
        ok &= st->score >= br->min_score;
    if (br->min_agreement >= 0 && st->agreement >= 0)
        ok &= st->agreement >= br->min_agreement;
    if (br->min_iou >= 0 && st->iou >= 0)
        ok &= st->iou >= br->min_iou;
    return ok;
}

/* A mask IoU asked for with no probability map among the outputs judged,
 * or an agreement alone with no class scores, would bound nothing: a
 * usage error, not a model written unbounded. */
td_status td_bound_check(const td_bound_report *br, const td_bound_step *st,
                         td_err_t *err)
{
    if (br->min_iou >= 0 && st->iou < 0)
        return td_err_set(err, TD_EUSAGE, "min_iou bounds nothing here: no "
                          "output judged looks like a probability map "
                          "(float, neither class scores nor a state, every "
                          "value of the original's in [0, 1])");
    if (br->max_error < 0 && br->min_iou < 0 && !br->judge &&
        st->agreement < 0)
        return td_err_set(err, TD_EUSAGE, "min_agreement without max_error "
                          "bounds nothing here: no output looks like class "
                          "scores (float, rank 2 or 3, last axis > 1); "
                          "give max_error");
    return TD_OK;
}

/* A floor's share used: how far below 1 the value is, over how far the
 * floor lets it go (a floor of 1 allows nothing). */
static double floor_use(double value, double floor)
{
    if (floor >= 1)
        return value >= 1 ? 0 : HUGE_VAL;
    return (1 - value) / (1 - floor);
}

double td_bound_use(const td_bound_report *br, const td_bound_step *st)
{
    if (isnan(st->rel_l2))
        return HUGE_VAL;
    double u = 0;
    if (br->max_error >= 0)
        u = br->max_error > 0 ? st->rel_l2 / br->max_error
                              : st->rel_l2 > 0 ? HUGE_VAL : 0;
    if (br->min_agreement >= 0 && st->agreement >= 0)
        u = fmax(u, floor_use(st->agreement, br->min_agreement));
    if (br->min_iou >= 0 && st->iou >= 0)
        u = fmax(u, floor_use(st->iou, br->min_iou));
    if (br->judge) {
        if (isnan(st->score))   /* not scored */
            return HUGE_VAL;
        /* the score's fall from the original's, over what the floor
         * allows; an original at or below the floor allows no fall */
        double room = br->score_original - br->min_score;
        double fall = br->score_original - st->score;
        u = fmax(u, room > 0 ? fmax(fall, 0) / room
                    : st->score >= br->min_score ? 0 : HUGE_VAL);
    }
    return u;
}

/* One step: a fork of m compressed at budget(s), measured untimed. A
 * budget the allocation cannot reach counts as outside the bound. */
static td_status try_step(td_calib *c, td_model *m, const td_compress_opts *o,
                          td_bound_report *br, double s, td_err_t *err)
{
    td_bound_step *st = &br->steps[br->n_steps++];
    double t0 = td_now();
    td_compress_opts so = *o;
    so.progress = NULL;
    so.progress_work = NULL;
    so.target = budget_at(s, br->asked > 0 ? br->asked : TD_BOUND_FLOOR);
    so.also_flops = br->asked_flops > 0 ? budget_at(s, br->asked_flops) : 0;
    memset(st, 0, sizeof *st);
    st->target = so.target;
    st->also_flops = so.also_flops;
    st->agreement = -1;
    st->iou = -1;
    st->score = NAN;
    int step = o->reuse ? td_reuse_next_step(o->reuse) : 0;
    td_arena *a = td_arena_new();
    td_graph *g = a ? td_model_fork_graph(m, a) : NULL;
    td_compress_report r = {0};
    td_measured ms = {0};
    td_status rc = TD_OK;
    if (!g) {
        rc = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    rc = td_pass_compress(g, &so, &r, err);
    if (rc == TD_EUNMET) {   /* the plan cannot reach this budget */
        rc = TD_OK;
        goto done;
    }
    td_refit_report rr = {0};
    if (!rc && o->refit)   /* the fork as the model written would be */
        rc = td_calib_refit(c, m, g, &r, o->refit_waves, o->refit_chain,
                            &rr, err);
    br->refit_runs += rr.model_runs;
    if (rc || (rc = td_calib_measure_judged(c, m, g, br, &ms, err)))
        goto done;
    st->planned = 1;
    st->within = td_bound_judge(&ms, br, st);
    if ((rc = td_bound_check(br, st, err)))
        goto done;
    if (st->within)
        br->best_step = step;
done:
    /* the factors of the best step so far stay, for the compression
     * that follows the search; the others go */
    if (o->reuse)
        td_reuse_retain(o->reuse, br->best_step);
    st->seconds = td_now() - t0;
    td_measured_free(&ms);
    td_compress_report_free(&r);
    td_graph_free(g);
    td_arena_free(a);
    return rc;
}

static const char *unit_of(const td_bound_report *br)
{
    return br->kind == TD_GLOBAL_FLOPS ? "flops" : "params";
}

/* "target_params 0.5" (with "target_flops F" when both). */
static void budget_str(const td_bound_report *br, double t, double tf,
                       char *buf, size_t len)
{
    if (tf > 0)
        snprintf(buf, len, "target_%s %.3g target_flops %.3g",
                 unit_of(br), t, tf);
    else
        snprintf(buf, len, "target_%s %.3g", unit_of(br), t);
}

/* One extreme: "what value", then the output's name where several are
 * judged (which of ISNet's 12, or of a detector's scores, boxes and
 * landmarks, holds the budget back). */
static int extreme_str(char *buf, size_t len, int n, const char *what,
                       double v, const char *at, size_t n_judged)
{
    if (n < 0 || (size_t)n >= len)
        return n;
    int k = snprintf(buf + n, len - (size_t)n, "%s %.4g", what, v);
    if (k >= 0 && n_judged > 1 && at[0] && (size_t)(n + k) < len)
        k += snprintf(buf + n + k, len - (size_t)(n + k), " ('%s')", at);
    return k < 0 ? k : n + k;
}

static void deviation_str(const td_bound_step *st, char *buf, size_t len)
{
    if (!st->planned) {
        snprintf(buf, len, "the allocation cannot reach it");
        return;
    }
    if (!st->n_judged) {   /* no calibration inputs: the score alone */
        snprintf(buf, len, "score %.6g", st->score);
        return;
    }
    int n = extreme_str(buf, len, 0, "largest output rel. L2", st->rel_l2,
                        st->rel_l2_at, st->n_judged);
    if (st->agreement >= 0)
        n = extreme_str(buf, len, n, ", lowest top-1 agreement",
                        st->agreement, st->agreement_at, st->n_judged);
    if (st->iou >= 0)
        n = extreme_str(buf, len, n, ", lowest mask IoU", st->iou, st->iou_at,
                        st->n_judged);
    if (!isnan(st->score) && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ", score %.6g", st->score);
}

/* "on the 6 held-out inputs (the score on the judge's own)", or without
 * calibration inputs "by the judge's score alone (no calibration
 * inputs)". */
static void where_str(const td_calib *c, const td_bound_report *br,
                      char *buf, size_t len)
{
    if (!c)
        snprintf(buf, len, "by the judge's score alone (no calibration "
                 "inputs)");
    else
        snprintf(buf, len, "on the %zu %s inputs%s",
                 td_calib_measure_count(c),
                 td_calib_measure_held(c) ? "held-out"
                                          : "calibration (none held out)",
                 br->judge ? " (the score on the judge's own)" : "");
}

/* The refusal: what was asked and how far it is, and what can be
 * reached within the bound (or the least compression tried, when even
 * that was outside it). */
static td_status refuse(const td_calib *c, const td_bound_report *br,
                        const td_bound_step *best, td_err_t *err)
{
    char ask[96], dev[512], other[96], odev[512], bound[256], on[128];
    const td_bound_step *last = &br->steps[br->n_steps - 1];
    td_bound_str(br, bound, sizeof bound);
    where_str(c, br, on, sizeof on);
    if (br->asked > 0)
        budget_str(br, br->asked, br->asked_flops, ask, sizeof ask);
    else
        snprintf(ask, sizeof ask, "compression");
    deviation_str(&br->steps[0], dev, sizeof dev);
    const td_bound_step *ref = best ? best : last;
    budget_str(br, ref->target, ref->also_flops, other, sizeof other);
    deviation_str(ref, odev, sizeof odev);
    if (br->asked > 0)
        return td_err_set(err, TD_EUNMET,
            "%s cannot be met within %s %s (there, %s); %s %s (%s; %zu "
            "compressions tried, %zu whole-model runs, %.0f s, %.1f s of "
            "CPU)", ask, bound, on, dev,
            best ? "the most compression found within the bound is"
                 : "no budget tried is within it, the least compressing",
            other, odev, br->n_steps, br->model_runs, br->seconds,
            br->cpu_seconds);
    return td_err_set(err, TD_EUNMET,
        "compression cannot be met within %s %s: no budget tried is "
        "within it, the least compressing %s (%s; %zu compressions tried, "
        "%zu whole-model runs, %.0f s, %.1f s of CPU)", bound, on, other,
        odev,
        br->n_steps, br->model_runs, br->seconds, br->cpu_seconds);
}

td_status td_calib_bound_search(td_calib *c, td_model *m,
                                const td_compress_opts *o,
                                td_bound_report *br, td_err_t *err)
{
    double t0 = td_now(), c0 = cpu_now(), floor = br->asked > 0 ? br->asked : TD_BOUND_FLOOR;
    double lo = 0, hi = 1;   /* lo within the bound (s = 0: as it is) */
    const td_bound_step *best = NULL;
    td_status s;
    size_t runs0 = td_calib_model_runs(c);
    br->n_steps = 0;
    br->model_runs = 0;
    br->refit_runs = 0;
    br->met = 0;
    br->best_step = -1;
    if (br->asked > 0) {
        if ((s = try_step(c, m, o, br, 1, err)))
            return s;
        if (br->steps[0].within) {
            br->model_runs = td_calib_model_runs(c) - runs0 + br->refit_runs;
            br->cpu_seconds = cpu_now() - c0;
            br->met = 1;
            br->chosen = br->asked;
            br->chosen_flops = br->asked_flops;
            br->seconds = td_now() - t0;
            return TD_OK;
        }
    }
    while (br->n_steps < TD_BOUND_MAX_STEPS &&
           budget_at(lo, floor) - budget_at(hi, floor) > BOUND_RESOLUTION) {
        double mid = 0.5 * (lo + hi);
        if ((s = try_step(c, m, o, br, mid, err)))
            return s;
        const td_bound_step *st = &br->steps[br->n_steps - 1];
        if (st->within) {
            lo = mid;
            best = st;
        } else {
            hi = mid;
        }
    }
    br->seconds = td_now() - t0;
    br->cpu_seconds = cpu_now() - c0;
    br->model_runs = td_calib_model_runs(c) - runs0 + br->refit_runs;
    if (best) {
        br->chosen = best->target;
        br->chosen_flops = best->also_flops;
    }
    if (br->asked > 0 || !best)
        return refuse(c, br, best, err);
    br->met = 1;
    return TD_OK;
}
