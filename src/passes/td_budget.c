/* Turns a global budget (or EVBMF) into per-layer ranks: builds each
 * layer's error and cost model from its spectra and hands them to the
 * allocator. */
#include <math.h>
#include <stdlib.h>

#include "td_alloc.h"
#include "td_cost.h"
#include "td_factor.h"
#include "td_plan.h"

/* Cost coefficients of the layer's Tucker-2 or SVD chain (see td_factor.c
 * for the chains' sizes): parameters, or MACs when flops. */
static void cost_model(const td_job *j, int flops, td_alloc_layer *a)
{
    const td_layer *l = &j->layer;
    double g = (double)l->group, cg = (double)(l->cout / l->group);
    double ci = (double)l->cin_g, K = (double)td_layer_kernel_size(l);
    double bias = l->has_bias ? (double)l->cout : 0;
    double in = 1, out = 1;
    if (flops && l->nsp) {
        in = (double)td_layer_in_pixels(l);
        out = (double)td_layer_out_pixels(l);
    }
    if (j->n1) {  /* Tucker-2 */
        a->c0 = flops ? out * g * cg : g * cg;
        a->c1 = flops ? in * g * ci : g * ci;
        a->c01 = flops ? out * g * K : g * K;
        a->cfix = flops ? 0 : bias;
    } else {      /* SVD */
        a->c0 = flops ? out * g * (ci + cg) : g * (ci + cg);
        a->cfix = flops ? 0 : bias;
    }
    a->orig = flops ? (double)td_layer_macs(l) : (double)td_layer_params(l);
}

/* Never slower: lowers the ranks the allocation may use to those (along
 * proportional ranks) whose chain the cost model predicts faster than the
 * layer; a layer with none stays as it is. Latency falls with the ranks,
 * so every smaller choice is faster too. */
static void cap_for_speed(const td_job *j, int64_t multiple, td_alloc_layer *a)
{
    const td_layer *l = &j->layer;
    double t0 = td_cost_layer_seconds(l);
    if (t0 < 0)
        return;
    td_method m = j->n1 ? TD_TUCKER2 : TD_SVD;
    for (int64_t r0 = a->n0; r0 >= 1; r0--) {
        int64_t r1 = j->n1 ? (r0 * j->n1 + j->n0 - 1) / j->n0 : 0;
        int64_t rk[2] = {r0, r1 < 1 && j->n1 ? 1 : r1};
        if (td_cost_chain_seconds(l, m, rk) < t0) {
            /* the cap is the largest rank the allocation may give: a
             * multiple of --rank-multiple unless it is the mode's size */
            if (multiple > 1 && r0 < a->n0)
                r0 = r0 / multiple * multiple;
            if (multiple > 1 && j->n1 && rk[1] < a->n1)
                rk[1] = rk[1] / multiple * multiple;
            if (r0 < 1 || (j->n1 && rk[1] < 1))
                break;
            a->n0 = r0;
            a->n1 = rk[1];
            return;
        }
    }
    a->fixed = 1;
}

static td_status plan_vbmf(td_job *jobs, size_t n, const td_compress_opts *o)
{
    td_alloc_opts ao = {o->rank_multiple, o->min_rank};
    for (size_t i = 0; i < n; i++) {
        td_job *j = &jobs[i];
        if (!j->have_spectra)
            continue;
        td_alloc_layer a = {0};
        a.n0 = j->n0;
        a.n1 = j->n1;
        cost_model(j, 0, &a);
        j->planned = 1;
        j->r0 = td_alloc_weakened_rank(j->vbmf0, j->n0, o->vbmf_weaken, &ao);
        j->r1 = j->n1 ? td_alloc_weakened_rank(j->vbmf1, j->n1,
                                               o->vbmf_weaken, &ao) : 0;
        j->cost_cap = td_alloc_cost(&a, j->r0, j->r1);
        j->plan_keep = !o->force && j->cost_cap >= a.orig;
        j->rep->est_error = sqrt(j->tail0[j->r0] + (j->n1 ? j->tail1[j->r1] : 0));
    }
    return TD_OK;
}

/* Totals of the current allocation in parameters and in MACs. */
static void totals(const td_alloc_layer *al, const td_alloc_layer *ap,
                   const td_alloc_layer *af, size_t n, const td_budget_totals *t,
                   double *params, double *macs)
{
    *params = t->fixed;
    *macs = t->fixed_macs;
    for (size_t i = 0; i < n; i++) {
        if (ap[i].fixed && !ap[i].n0) {
            *params += ap[i].orig;
            *macs += af[i].orig;
        } else if (al[i].keep) {
            *params += ap[i].orig;
            *macs += af[i].orig;
        } else {
            *params += td_alloc_cost(&ap[i], al[i].r0, al[i].r1);
            *macs += td_alloc_cost(&af[i], al[i].r0, al[i].r1);
        }
    }
}

static double weighted_err2(const td_alloc_layer *al, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        if (!al[i].keep && !(al[i].fixed && !al[i].n0))
            e += al[i].weight * al[i].err2;
    return e;
}

/* Both budgets at once: minimise the weighted error with parameters <=
 * Tp and MACs <= Tf. For a price mu on MACs the allocator minimises error
 * under one blended cost, params + mu x MACs; the largest blended target
 * whose allocation meets both budgets is found by bisection (the totals
 * fall with the target), and of a sweep of prices the allocation with the
 * least estimated error wins: the Lagrangian view of the two-constraint
 * problem, with the greedy allocator as its inner solver. ap and af hold
 * the per-layer parameter and MAC models; al gets the result. */
static int plan_joint(td_alloc_layer *al, const td_alloc_layer *ap,
                      const td_alloc_layer *af, size_t n,
                      const td_budget_totals *t, double tp, double tf,
                      const td_alloc_opts *ao)
{
    static const double scale[] = {0, 0.1, 0.3, 1, 3, 10, 1e6};
    double unit = t->before_macs > 0 ? t->before / t->before_macs : 0;
    td_alloc_layer *trial = calloc(n ? n : 1, sizeof *trial);
    if (!trial)
        return -1;
    int found = 0;
    double best_err = 0;
    for (size_t q = 0; q < sizeof scale / sizeof *scale; q++) {
        double mu = scale[q] * unit;
        for (size_t i = 0; i < n; i++) {
            trial[i] = ap[i];
            trial[i].c0 += mu * af[i].c0;
            trial[i].c1 += mu * af[i].c1;
            trial[i].c01 += mu * af[i].c01;
            trial[i].cfix += mu * af[i].cfix;
            trial[i].orig += mu * af[i].orig;
        }
        double fixed = t->fixed + mu * t->fixed_macs;
        double lo = fixed, hi = t->before + mu * t->before_macs;
        int ok = 0;
        for (int it = 0; it < 40; it++) {
            double mid = 0.5 * (lo + hi), p, m;
            td_alloc_ranks(trial, n, fixed, mid, ao);
            totals(trial, ap, af, n, t, &p, &m);
            if (p <= tp * (1 + 1e-12) && m <= tf * (1 + 1e-12)) {
                lo = mid;
                ok = 1;
            } else {
                hi = mid;
            }
        }
        if (!ok)
            continue;
        td_alloc_ranks(trial, n, fixed, lo, ao);
        double e = weighted_err2(trial, n);
        if (!found || e < best_err) {
            found = 1;
            best_err = e;
            for (size_t i = 0; i < n; i++) {
                al[i].keep = trial[i].keep;
                al[i].r0 = trial[i].r0;
                al[i].r1 = trial[i].r1;
                al[i].err2 = trial[i].err2;
                al[i].cost = al[i].keep ? ap[i].orig
                                        : td_alloc_cost(&ap[i], al[i].r0, al[i].r1);
            }
        }
    }
    free(trial);
    return found;
}

td_status td_budget_plan(td_job *jobs, size_t n, const td_compress_opts *o,
                         const td_budget_totals *t, td_compress_report *r,
                         td_err_t *err)
{
    if (o->global == TD_GLOBAL_NONE)
        return o->vbmf ? plan_vbmf(jobs, n, o) : TD_OK;
    int flops = o->global == TD_GLOBAL_FLOPS;
    int joint = !flops && o->also_flops > 0;
    size_t counted = 0;
    for (size_t i = 0; i < n; i++)
        counted += jobs[i].have_spectra != 0;
    if (!counted && o->target < 1) {
        /* not the ranks' fault, nor the speed rule's: say what is missing */
        const char *what = flops ? "flops" : "params";
        if (t->filtered)
            return td_err_set(err, TD_EUSAGE,
                              "--target-%s %g cannot be met: --include/"
                              "--exclude leave no layer to factor (%zu left "
                              "out by them)", what, o->target, t->filtered);
        if (n)  /* layers there are, but the method fits none of them */
            return td_err_set(err, TD_EUSAGE,
                              "--target-%s %g cannot be met: %s%s applies to "
                              "none of the %zu layers (the first, '%s' (%s))",
                              what, o->target,
                              o->method_auto ? "no method" : "--method ",
                              o->method_auto ? "" : td_method_name(o->method),
                              n, jobs[0].layer.name,
                              jobs[0].layer.node->op_type);
        if (!r->n_skipped)
            return td_err_set(err, TD_EUSAGE,
                              "--target-%s %g cannot be met: the model has no "
                              "Conv, Gemm or MatMul to factor", what, o->target);
        return td_err_set(err, TD_EUSAGE,
                          "--target-%s %g cannot be met: no layer can be "
                          "factored (%zu left out; the first, '%s' (%s): %s)",
                          what, o->target, r->n_skipped, r->skipped[0].node,
                          r->skipped[0].op, r->skipped[0].reason);
    }
    /* al: the allocation's model; with a second budget also af (MACs) */
    td_alloc_layer *al = calloc(n ? n : 1, sizeof *al);
    td_alloc_layer *af = joint ? calloc(n ? n : 1, sizeof *af) : NULL;
    td_alloc_layer *ap = joint ? calloc(n ? n : 1, sizeof *ap) : NULL;
    if (!al || (joint && (!af || !ap))) {
        free(al);
        free(af);
        free(ap);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    double mean_norm2 = 0;
    for (size_t i = 0; i < n; i++)
        if (jobs[i].have_spectra)
            mean_norm2 += jobs[i].norm2;
    mean_norm2 = counted ? mean_norm2 / (double)counted : 1;
    for (size_t i = 0; i < n; i++) {
        td_job *j = &jobs[i];
        td_alloc_layer *a = &al[i];
        if (!j->have_spectra) {
            /* no rank model (e.g. a method without one): keeps its cost */
            a->fixed = 1;
            a->orig = flops ? (double)j->rep->macs_before
                            : (double)j->rep->params_before;
            a->n0 = 0;
            if (joint) {
                af[i] = *a;
                af[i].orig = (double)(j->rep->macs_before > 0 ? j->rep->macs_before : 0);
                ap[i] = *a;
            }
            continue;
        }
        a->n0 = j->n0;
        a->n1 = j->n1;
        a->tail0 = j->tail0;
        a->tail1 = j->tail1;
        cost_model(j, flops, a);
        a->weight = o->sensitivity == TD_SENS_ABSOLUTE && mean_norm2 > 0
                        ? j->norm2 / mean_norm2 : 1;
        if (!o->allow_slower && !o->force)
            cap_for_speed(j, o->rank_multiple, a);
        if (joint) {
            ap[i] = *a;
            af[i] = *a;
            cost_model(j, 1, &af[i]);
        }
    }
    td_alloc_opts ao = {o->rank_multiple, o->min_rank};
    td_status s = TD_OK;
    double target = o->target * t->before;
    if (joint) {
        double tf = o->also_flops * t->before_macs, p = 0, m = 0;
        int found = plan_joint(al, ap, af, n, t, target, tf, &ao);
        if (found < 0) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto cleanup;
        }
        if (found)
            totals(al, ap, af, n, t, &p, &m);
        r->planned = t->before > 0 ? p / t->before : 0;
        r->planned_flops = t->before_macs > 0 ? m / t->before_macs : 0;
        r->also_flops = o->also_flops;
        if (!found) {
            s = td_err_set(err, TD_EUSAGE,
                           "--target-params %g with --target-flops %g cannot "
                           "be met together%s", o->target, o->also_flops,
                           o->allow_slower || o->force ? ""
                           : " (chains the cost model predicts slower are not "
                             "used: --allow-slower)");
            goto cleanup;
        }
    } else {
        double total = td_alloc_ranks(al, n, t->fixed, target, &ao);
        r->planned = t->before > 0 ? total / t->before : 0;
        if (total > target * (1 + 1e-12)) {
            s = td_err_set(err, TD_EUSAGE,
                           "--target-%s %g cannot be met: the smallest ranks "
                           "allowed keep %.4f of the model's %s%s",
                           flops ? "flops" : "params", o->target, r->planned,
                           flops ? "MACs" : "parameters",
                           o->allow_slower || o->force ? ""
                           : " (chains the cost model predicts slower are not "
                             "used: --allow-slower)");
            goto cleanup;
        }
    }
    for (size_t i = 0; i < n; i++) {
        td_job *j = &jobs[i];
        if (!j->have_spectra)
            continue;
        j->planned = 1;
        j->plan_keep = al[i].keep;
        j->r0 = al[i].r0;
        j->r1 = al[i].r1;
        j->cost_cap = al[i].cost;
        j->rep->est_error = al[i].keep ? 0 : sqrt(al[i].err2);
    }
cleanup:
    free(al);
    free(af);
    free(ap);
    return s;
}
