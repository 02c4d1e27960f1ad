#include "td_latency.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "td_cost.h"
#include "td_job.h"

int td_latency_explicit(const td_compress_opts *o)
{
    return o->global == TD_GLOBAL_NONE && !o->vbmf &&
           (!o->method_auto || o->include);
}

size_t td_latency_kept(const td_compress_report *r, size_t *first)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_layers; i++) {
        if (!r->layers[i].kept_for_speed)
            continue;
        if (!n && first)
            *first = i;
        n++;
    }
    return n;
}

const char *td_latency_hint(const td_compress_opts *o,
                            const td_compress_report *r, char *buf, size_t n)
{
    size_t first = 0, k = td_latency_kept(r, &first);
    if (!n)
        return "";
    buf[0] = 0;
    if (k && !o->allow_slower && !o->force)
        snprintf(buf, n, "; %zu layer%s kept because every chain is %s "
                 "slower than the layer (the first, '%s' (%s)); "
                 "options.allow_slower uses such chains", k, k == 1 ? " is" : "s are",
                 r->layers[first].lat_source == TD_LAT_MEASURED
                     ? "measured (in ONNX Runtime) or predicted" : "predicted",
                 r->layers[first].node, r->layers[first].op);
    return buf;
}

td_status td_latency_refuse_none(const td_compress_opts *o,
                                 const td_compress_report *r, td_err_t *err)
{
    size_t first = 0, k = td_latency_kept(r, &first);
    if (!k || o->allow_slower || o->force)
        return TD_OK;
    size_t capped = 0;
    for (size_t i = 0; i < r->n_layers; i++) {
        if (r->layers[i].method != TD_KEEP)
            return TD_OK;
        capped += r->layers[i].over_error_cap != 0;
    }
    /* the layers the data-free cap kept are named with their count: with
     * the speed rule they can leave nothing, and the cap is the user's to
     * move (or --calib's to measure) */
    char why[160] = "";
    if (capped)
        snprintf(why, sizeof why, ", %zu because without calibration data "
                 "their chains' rel. error would pass options.max_layer_error "
                 "%g", capped, o->max_layer_error);
    return td_err_set(err, TD_EUNMET,
                      "nothing could be compressed without being slower%s: "
                      "%zu of the %zu layers %s kept because every chain "
                      "is %s slower than the layer (the first, '%s' "
                      "(%s))%s%s; options.allow_slower writes the chains anyway",
                      capped ? " or past the data-free layer error cap" : "", k,
                      r->n_layers, k == 1 ? "is" : "are",
                      r->layers[first].lat_source == TD_LAT_MEASURED
                          ? "measured (in ONNX Runtime) or predicted"
                          : "predicted",
                      r->layers[first].node, r->layers[first].op, why,
                      k + capped < r->n_layers ? ", the others for other reasons" : "");
}

int td_latency_verdict(const td_lat_result *m)
{
    double r = m->ratio_median > 0 ? m->ratio_median
                                   : m->chain_ms / m->layer_ms;
    return r > 1 + TD_LAT_SLOWER_FRAC ? 1 : -1;
}

/* Times f against the layer into r's latency fields; the verdict (1:
 * slower, -1: not), or 0 when it could not be measured. */
static int judge_one(td_job *j, const td_compress_opts *o, const td_factors *f)
{
    td_layer_report *r = j->rep;
    const td_latency_probe *p = o->probe;
    td_lat_result m = {0};
    double t0 = td_cost_layer_seconds(&j->layer);
    double t1 = td_cost_chain_seconds(&j->layer, f->method, f->ranks);
    r->lat_predicted = t0 > 0 && t1 >= 0 ? t1 / t0 : 0;
    if (!p->measure(p->ctx, &j->layer, f, o->opset, &m))
        return 0;
    r->lat_chains_timed++;
    r->lat_timed = !m.cached;
    r->lat_cached = m.cached;
    r->lat_layer_ms = m.layer_ms;
    r->lat_chain_ms = m.chain_ms;
    r->lat_ratio_q1 = m.ratio_q1;
    r->lat_ratio_median = m.ratio_median;
    r->lat_ratio_q3 = m.ratio_q3;
    r->lat_source = TD_LAT_MEASURED;
    return td_latency_verdict(&m);
}

void td_latency_judge(td_job *j, const td_compress_opts *o, int *n_slower)
{
    td_layer_report *r = j->rep;
    int judge = o->probe && !o->allow_slower && !o->force;
    if (judge && j->chosen.method != TD_KEEP) {
        r->lat_source = TD_LAT_MODEL;
        int v = judge_one(j, o, &j->chosen);
        /* the chosen chain measured slower: the runner-up, if it is not */
        if (v > 0 && !td_latency_explicit(o) &&
            j->runner_up.method != TD_KEEP) {
            td_layer_report keep = *r;
            int v2 = judge_one(j, o, &j->runner_up);
            if (v2 < 0) {
                td_factors_free(&j->chosen);
                j->chosen = j->runner_up;
                memset(&j->runner_up, 0, sizeof j->runner_up);
                v = v2;
            } else {  /* the report stays with the chain chosen */
                int timed = r->lat_chains_timed;
                *r = keep;
                r->lat_chains_timed = timed;
            }
        }
        if (v > 0 && !td_latency_explicit(o)) {
            td_factors_free(&j->chosen);
            (*n_slower)++;
            j->lat_slow = j->planned;  /* the plan must know */
        }
    } else if (judge && j->vetoed.method != TD_KEEP) {
        r->lat_source = TD_LAT_MODEL;
        if (judge_one(j, o, &j->vetoed) < 0) {  /* a vetoed chain not slower */
            j->chosen = j->vetoed;
            memset(&j->vetoed, 0, sizeof j->vetoed);
        }
    }
    td_factors_free(&j->vetoed);
    td_factors_free(&j->runner_up);
}

void td_latency_settled(td_job *j)
{
    td_layer_report *r = j->rep;
    if (r->lat_source != TD_LAT_MEASURED)
        return;
    if (r->method == TD_KEEP && r->kept_for_speed)
        r->note = TD_LAT_SLOWER_NOTE;
    else if (r->method != TD_KEEP) {
        td_lat_result m = {.layer_ms = r->lat_layer_ms,
                           .chain_ms = r->lat_chain_ms,
                           .ratio_q1 = r->lat_ratio_q1,
                           .ratio_median = r->lat_ratio_median,
                           .ratio_q3 = r->lat_ratio_q3};
        r->slower_by = td_latency_verdict(&m) > 0
                           ? r->lat_chain_ms / r->lat_layer_ms : 0;
    }
}

size_t td_latency_replan(td_job *jobs, size_t n)
{
    size_t fresh = 0;
    for (size_t i = 0; i < n; i++)
        fresh += jobs[i].lat_slow == 1;
    if (!fresh)
        return 0;
    for (size_t i = 0; i < n; i++) {
        td_job *j = &jobs[i];
        td_layer_report *r = j->rep;
        if (j->chosen_shared)  /* the reuse store's (td_reuse.h) */
            memset(&j->chosen, 0, sizeof j->chosen);
        else
            td_factors_free(&j->chosen);
        j->chosen_shared = 0;
        if (r->method == TD_KEEP)
            r->note = NULL;  /* why it was kept: decided anew */
        r->method = TD_KEEP;
        r->n_cand = 0;
        r->slower_by = 0;
        r->kept_for_speed = 0;
        if (j->lat_slow) {  /* its measurement stays in the report */
            j->lat_slow = 2;
            continue;
        }
        r->lat_source = TD_LAT_NONE;
        r->lat_timed = r->lat_cached = 0;
        r->lat_layer_ms = r->lat_chain_ms = r->lat_predicted = 0;
        r->lat_ratio_q1 = r->lat_ratio_median = r->lat_ratio_q3 = 0;
        r->lat_chains_timed = 0;
    }
    return fresh;
}
