/* Per-layer work of the compression pass: spectra and factoring. */
#include "td_job.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/td_tensor.h"
#include "td_cost.h"
#include "td_fit.h"
#include "td_latency.h"
#include "td_plan.h"
#include "td_reuse.h"
#include "util/td_clock.h"

td_status td_job_load_weight(const td_layer *l, double **w, td_err_t *err)
{
    int64_t n;
    td_status s = td_tensor_to_double(l->weight, w, &n, err);
    if (s || l->kind == TD_LAYER_CONV || l->trans_b)
        return s;
    double *t = malloc((size_t)n * sizeof *t);
    if (!t) {
        free(*w);
        *w = NULL;
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    for (int64_t k = 0; k < l->cin; k++)
        for (int64_t c = 0; c < l->cout; c++)
            t[c * l->cin + k] = (*w)[k * l->cout + c];
    free(*w);
    *w = t;
    return TD_OK;
}

/* Adds s_i^2 into acc[i]. */
static void add_sq(double *acc, const double *s, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        acc[i] += s[i] * s[i];
}

/* acc (energies, n of them) -> tail[r] = sum_{i>=r} acc[i] / norm2. */
static void to_tail(double *acc, int64_t n, double norm2)
{
    double run = 0;
    acc[n] = 0;
    for (int64_t i = n; i-- > 0;) {
        run += acc[i];
        acc[i] = norm2 > 0 ? run / norm2 : 0;
    }
}

/* rel_lambda by cross-validation on the statistics' folds, where the job
 * has them: once per layer and ranks (kept between the steps of a search
 * that give the layer the same ranks). */
static td_status job_choose_lambda(td_job *j, const td_compress_opts *o,
                                   td_err_t *err)
{
    const td_layer *l = &j->layer;
    if (!j->cv_k)
        return TD_OK;
    double lam;
    int chosen = 0;
    /* at the ranks the plan gave: Tucker-2's (output, input), or the
     * SVD's on the input side; a per-layer budget has none */
    int64_t r_out = 0, r_in = 0;
    if (j->planned && td_method_applies(l, TD_TUCKER2)) {
        r_out = j->r0;
        r_in = j->r1;
    } else if (j->planned) {
        r_in = j->r0;
    }
    /* kept negative when not chosen (too few positions): the default */
    if (o->reuse &&
        td_reuse_lambda_get(o->reuse, j->rep->node, r_out, r_in, &lam)) {
        j->rel_lambda = fabs(lam);
        j->rep->act_lambda = lam > 0 ? lam : 0;
        j->cv_k = 0;
        return TD_OK;
    }
    int centred = td_factor_centred(l, j->mean);
    size_t nn = (size_t)(l->cin * l->cin);
    td_whiten_fold *f = calloc(j->cv_k, sizeof *f);
    double *w = NULL;
    td_status s = f ? td_job_load_weight(l, &w, err)
                    : td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t q = 0; !s && q < j->cv_k; q++)
        f[q] = (td_whiten_fold){.m = j->cv_m + q * nn,
                                .mu = centred ? j->cv_mu + q * (size_t)l->cin
                                              : NULL,
                                .weight = (double)j->cv_count[q]};
    if (!s)
        s = td_whiten_choose(w, l->cout, l->cin, td_layer_kernel_size(l), f,
                             j->cv_k, centred, r_out, r_in, &lam, &chosen,
                             err);
    free(w);
    free(f);
    if (s)
        return s;
    j->rel_lambda = lam;
    j->rep->act_lambda = chosen ? lam : 0;
    j->cv_k = 0;  /* once per job */
    if (o->reuse)
        td_reuse_lambda_put(o->reuse, j->rep->node, r_out, r_in,
                            chosen ? lam : -lam);
    return TD_OK;
}

/* S per group of the layer's input statistics, once per job. */
static td_status job_whitenings(td_job *j, const td_compress_opts *o,
                                td_err_t *err)
{
    if (!j->moment || j->whiten)
        return TD_OK;
    td_status s = job_choose_lambda(j, o, err);
    if (s)
        return s;
    td_factor_request b = {.moment = j->moment, .mean = j->mean,
                   .rel_lambda = j->rel_lambda, .taps = j->taps,
                   .taps_lags = j->taps_lags, .moment_name = j->moment_name};
    return td_factor_whitenings(&j->layer, &b, &j->whiten, err);
}

/* The methods a plan (global budget or EVBMF) may realise, in the order
 * they are tried: auto's, or the one asked for. */
static const td_method plan_order[] = {TD_SVD, TD_TUCKER2, TD_CP, TD_TR,
                                       TD_RSDTR};
#define PLAN_NMETHODS (sizeof plan_order / sizeof plan_order[0])

static int plan_wants(const td_compress_opts *o, td_method m)
{
    return o->method_auto ? m != TD_TR && m != TD_RSDTR : m == o->method;
}

/* Whether a method the plan may use applies to the layer. */
static int plannable(const td_layer *l, const td_compress_opts *o)
{
    for (size_t q = 0; q < PLAN_NMETHODS; q++)
        if (plan_wants(o, plan_order[q]) && td_method_applies(l, plan_order[q]))
            return 1;
    return 0;
}

td_status td_job_spectra(td_job *j, const td_compress_opts *o, td_err_t *err)
{
    const td_layer *l = &j->layer;
    int tucker = td_method_applies(l, TD_TUCKER2);
    int svd = td_method_applies(l, TD_SVD);
    /* a layer the plan could not realise must not be planned: its savings
     * would be promised and then never made (--method tucker2 on a 1x1
     * conv has SVD spectra, but Tucker-2 does not apply) */
    if ((!tucker && !svd) || !plannable(l, o))
        return TD_OK;
    if (o->reuse && td_reuse_spectra_get(o->reuse, j))
        return TD_OK;
    int64_t g = l->group, cg = l->cout / g, K = td_layer_kernel_size(l);
    int64_t cols = tucker ? l->cin_g : l->cin_g * K;  /* svd's columns */
    int64_t m0 = tucker ? cg : (cg < cols ? cg : cols);
    int64_t m1 = tucker ? l->cin_g : 0;
    double *w = NULL, *s0 = NULL, *s1 = NULL, mean_e = 0;
    td_whiten_t *price = NULL;
    td_status s = td_job_load_weight(l, &w, err);
    if (s)
        goto cleanup;
    if (j->moment) {
        /* the spectra of W S: the allocation then weighs each layer's
         * truncation by the output error it causes */
        td_factor_request wb = {.moment = j->moment, .mean = j->mean,
                        .rel_lambda = j->rel_lambda, .taps = j->taps,
                        .taps_lags = j->taps_lags,
                        .moment_name = j->moment_name};
        if (j->cv_m) {
            /* priced in the metric every layer shares: a layer whose
             * chosen value trusts its statistics more would otherwise look
             * cheaper to cut than the others (its spectrum more
             * concentrated), and the allocation moved parameters by it,
             * not by what the cut costs (PP-OCR cls at 0.7: held-out rel.
             * L2 0.032 -> 0.236) */
            wb.rel_lambda = j->price_lambda;
            s = td_factor_whitenings(l, &wb, &price, err);
            wb.whiten = price;
        } else {
            s = job_whitenings(j, o, err);
            wb.whiten = j->whiten;
        }
        if (s)
            goto cleanup;
        size_t cnt = (size_t)(l->cout * l->cin_g * K);
        double *ws = malloc(cnt * sizeof *ws);
        if (!ws) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto cleanup;
        }
        s = td_factor_whiten_weight(l, w, &wb, ws, err);
        for (int64_t q = 0; td_factor_centred(l, j->mean) && q < g; q++)
            mean_e += td_mean_energy(w + (size_t)q * (size_t)(cg * l->cin_g * K),
                                     cg, l->cin_g, K, j->mean + q * l->cin_g);
        free(w);
        w = ws;
        if (s)
            goto cleanup;
    }
    j->tail0 = calloc((size_t)m0 + 1, sizeof *j->tail0);
    j->tail1 = calloc((size_t)m1 + 1, sizeof *j->tail1);
    s0 = malloc(((size_t)m0 + 1) * sizeof *s0);
    s1 = malloc(((size_t)m1 + 1) * sizeof *s1);
    if (!j->tail0 || !j->tail1 || !s0 || !s1) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    size_t block = (size_t)(cg * l->cin_g * K);
    for (int64_t q = 0; q < g; q++) {
        const double *wq = w + (size_t)q * block;
        int64_t v0, v1 = 0;
        if (tucker) {
            s = td_tucker2_spectra_gram(wq, cg, l->cin_g, K, s0, s1, err);
            v0 = td_evbmf_rank(s0, cg, l->cin_g * K, NULL);
            v1 = td_evbmf_rank(s1, l->cin_g, cg * K, NULL);
        } else {
            s = td_singular_values(wq, cg, cols, s0, err);
            v0 = td_evbmf_rank(s0, cg, cols, NULL);
        }
        if (s)
            goto cleanup;
        add_sq(j->tail0, s0, m0);
        add_sq(j->tail1, s1, m1);
        j->vbmf0 = v0 > j->vbmf0 ? v0 : j->vbmf0;
        j->vbmf1 = v1 > j->vbmf1 ? v1 : j->vbmf1;
    }
    j->norm2 = mean_e;  /* the bias takes the mean's share (td_whiten.h) */
    for (int64_t i = 0; i < m0; i++)
        j->norm2 += j->tail0[i];
    to_tail(j->tail0, m0, j->norm2);
    to_tail(j->tail1, m1, j->norm2);
    j->n0 = m0;
    j->n1 = m1;
    j->have_spectra = 1;
    if (o->reuse)
        td_reuse_spectra_put(o->reuse, j);
cleanup:
    if (s)
        td_err_prefix(err, "node '%s' (%s), weight '%s': ", l->name,
                      l->node->op_type, l->weight_name);
    if (price)
        td_whitenings_free(price, l->group);
    free(w);
    free(s0);
    free(s1);
    return s;
}

/* Is candidate a better than b? Under a tolerance: fewer parameters; under
 * a size budget: smaller error. Ties: fewer parameters, then fewer MACs. */
static int better(const td_factors *a, const td_factors *b, int by_error)
{
    /* Under a budget, errors within 5 % of each other are a tie that the
     * smaller chain wins: the difference is within what the allocation's
     * estimates can tell apart, the saved parameters are not. */
    if (by_error && fabs(a->rel_error - b->rel_error) >
                        0.05 * fmax(a->rel_error, b->rel_error))
        return a->rel_error < b->rel_error;
    if (a->params != b->params)
        return a->params < b->params;
    return a->macs >= 0 && (b->macs < 0 || a->macs < b->macs);
}

/* The CP rank whose chain costs at most cap (params or MACs); 0: none. */
static int64_t cp_rank_for(const td_layer *l, double cap, int flops)
{
    int64_t one[2] = {1, 0};
    double c1, c0 = 0;
    if (flops) {
        c1 = (double)td_chain_macs(l, TD_CP, one);
    } else {
        c0 = (double)td_chain_params(l, TD_CP, (int64_t[2]){0, 0});
        c1 = (double)td_chain_params(l, TD_CP, one) - c0;
    }
    if (!(c1 > 0))
        return 0;
    double r = floor((cap - c0) / c1);
    return r >= 1 ? (int64_t)r : 0;
}

/* CP's ALS sweeps. ALS needs many sweeps on small tensors (they are cheap
 * there) and gets few on big ones: a fixed amount of element-updates per
 * layer, spread over the sweeps, between the sweep cap and a ceiling. */
#define CP_UPDATES_PER_LAYER 2e7
#define CP_MAX_SWEEPS 500
/* Flops of the minimum sweeps past which auto leaves CP out (a few tens of
 * seconds for one layer, the sweeps sharing one contraction each): the
 * largest cap that still let CP win ISNet's big layers at half the
 * parameters within a run time of tens of seconds (bench/README.md). */
#define CP_AUTO_MAX_FLOPS 4e11
/* ALS's flops per element-update and rank, and the sweeps assumed when
 * no cap is given (the numerics' default). */
#define CP_FLOPS_PER_UPDATE 4.0
#define CP_DEFAULT_SWEEPS 10

/* CP's ALS at rank: sets b->cp_sweeps; 0 when auto leaves CP out (too
 * slow for the layer); --method cp always runs it. */
static int cp_sweeps_for(const td_layer *l, const td_compress_opts *o,
                         int64_t rank, td_factor_request *b)
{
    double work = (double)td_layer_params(l) * (double)rank;
    int min_sweeps = b->max_sweeps > 0 ? b->max_sweeps : CP_DEFAULT_SWEEPS;
    if (CP_FLOPS_PER_UPDATE * work * (double)min_sweeps > CP_AUTO_MAX_FLOPS &&
        !(!o->method_auto && o->method == TD_CP))
        return 0;
    double sw = CP_UPDATES_PER_LAYER / (work > 1 ? work : 1);
    b->cp_sweeps = sw > CP_MAX_SWEEPS ? CP_MAX_SWEEPS
                   : sw < b->max_sweeps ? b->max_sweeps : (int)sw;
    return 1;
}

/* Method list and per-method budget for this layer. */
static int candidates(const td_job *j, const td_compress_opts *o,
                      td_method *list, td_factor_request *bud)
{
    const td_layer *l = &j->layer;
    int n = 0;
    if (j->planned) {
        /* Tucker-2 / SVD at the planned ranks; CP (and TR when asked for)
         * at the same cost. RSDTR's storage search is too slow to repeat on
         * every layer of a model under a global budget. */
        int flops = o->global == TD_GLOBAL_FLOPS;
        for (size_t q = 0; q < PLAN_NMETHODS; q++) {
            td_method m = plan_order[q];
            if (!plan_wants(o, m) || !td_method_applies(l, m))
                continue;
            td_factor_request b = o->budget;
            b.kind = TD_BUDGET_RANK;
            b.rank = j->r0;
            b.rank_in = j->r1;
            b.cp_sweeps = b.max_sweeps;
            if (m == TD_CP) {
                b.rank = cp_rank_for(l, j->cost_cap, flops);
                /* an explicit --rank-multiple holds for CP too; by
                 * default its rank, at the planned chain's cost, stays
                 * whole (rounding down would leave budget unused) */
                int64_t k = o->rank_multiple;
                if (k > 1 && b.rank > k)
                    b.rank = b.rank / k * k;
                if (b.rank < 1)
                    continue;
                /* CP at the same parameters may cost more MACs, and its
                 * depthwise convs run memory-bound: under a budget on MACs
                 * it runs only where its chain costs no more MACs and no
                 * more estimated time than the planned one */
                if ((o->also_flops > 0 || flops) && o->method_auto) {
                    td_method pm_ = td_method_applies(l, TD_TUCKER2) ? TD_TUCKER2
                                                                   : TD_SVD;
                    int64_t planned[2] = {j->r0, j->r1}, cr[1] = {b.rank};
                    int64_t pm = td_chain_macs(l, pm_, planned);
                    int64_t cm = td_chain_macs(l, TD_CP, cr);
                    double pt = td_cost_chain_seconds(l, pm_, planned);
                    double ct = td_cost_chain_seconds(l, TD_CP, cr);
                    if (pm < 0 || cm < 0 || cm > pm || pt < 0 || ct < 0 || ct > pt)
                        continue;
                }
                if (!cp_sweeps_for(l, o, b.rank, &b))
                    continue;
            } else if (m == TD_TR || m == TD_RSDTR) {
                /* storage-driven: the allocated share as a ratio */
                b.kind = TD_BUDGET_RATIO;
                b.ratio = j->cost_cap / (double)(flops ? td_layer_macs(l)
                                                       : td_layer_params(l));
            }
            bud[n] = b;
            list[n++] = m;
        }
        return n;
    }
    if (o->method_auto) {
        static const td_method order[] = {TD_SVD, TD_TUCKER2, TD_RSDTR, TD_CP};
        for (size_t q = 0; q < 4; q++)
            if (td_method_applies(l, order[q]) &&
                !(o->budget.kind == TD_BUDGET_RANK && n > 0) &&
                !(o->budget.kind == TD_BUDGET_RANK && order[q] == TD_RSDTR))
                list[n++] = order[q];
    } else if (td_method_applies(l, o->method)) {
        list[n++] = o->method;
    }
    int m = 0;
    for (int q = 0; q < n; q++) {
        bud[m] = o->budget;
        /* under --ratio CP's rank is known up front: the planned path's
         * sweeps, and its cap for auto (uncapped, ALS would run its full
         * sweep ceiling on the biggest layers: minutes for one) */
        if (list[q] == TD_CP && o->budget.kind == TD_BUDGET_RATIO) {
            int64_t r = cp_rank_for(l, o->budget.ratio *
                                           (double)td_layer_params(l), 0);
            if (r >= 1 && !cp_sweeps_for(l, o, r, &bud[m]))
                continue;
        }
        list[m++] = list[q];
    }
    return m;
}

/* Factors the layer with method m under request b and keeps the result
 * when it beats the chain chosen so far; one line in the report's
 * candidates either way. A CP that meets no tolerance, or a chain the
 * cost model predicts slower, is noted and passed over. */
static td_status try_candidate(td_job *j, const td_compress_opts *o,
                               const double *w, td_method m,
                               td_factor_request b, double t_before,
                               int by_error, int *n_slower)
{
    const td_layer *l = &j->layer;
    td_layer_report *r = j->rep;
    if (m == TD_CP && j->chosen.method != TD_KEEP &&
        b.kind == TD_BUDGET_TOL) {
        /* CP can only win below the best chain's size: search no further
         * than that rank. */
        int64_t fixed = td_chain_params(l, TD_CP, (int64_t[1]){0});
        int64_t per = td_chain_params(l, TD_CP, (int64_t[1]){1}) - fixed;
        b.cp_max_rank = (j->chosen.params - fixed) / per;
        if (b.cp_max_rank < 1)
            return TD_OK;
        /* the rank search's ALS sweeps, and auto's cap, as under a budget,
         * taken at the largest rank it may try */
        if (!cp_sweeps_for(l, o, b.cp_max_rank, &b))
            return TD_OK;
    }
    td_factors f;
    td_err_t e = {0};
    td_status s = td_factor_layer(l, w, m, &b, &f, &e);
    td_candidate *c = &r->cand[r->n_cand++];
    c->method = m;
    if (s == TD_EINPUT && m == TD_CP) {
        c->failed = 1;  /* no CP rank met the tolerance */
        td_factors_free(&f);
        return TD_OK;
    }
    if (s) {
        j->err = e;
        td_factors_free(&f);
        return s;
    }
    c->n_ranks = f.n_ranks;
    memcpy(c->ranks, f.ranks, sizeof c->ranks);
    c->params = f.params;
    c->macs = f.macs;
    c->rel_error = f.rel_error;
    /* Never slower: a chain the cost model predicts to run longer than the
     * layer is no candidate (unless asked; --force keeps every chain, for
     * exactness tests). A chain the user named stays a candidate, and the
     * report warns (td_latency.h). */
    double ta = td_cost_chain_seconds(l, f.method, f.ranks);
    c->slower = !o->allow_slower && !o->force && ta >= 0 && t_before >= 0 &&
                ta >= t_before;
    if (c->slower && !td_latency_explicit(o)) {
        (*n_slower)++;
        /* a measurement may overrule the model: the best such stays */
        if (o->probe && (j->vetoed.method == TD_KEEP ||
                         better(&f, &j->vetoed, by_error))) {
            td_factors_free(&j->vetoed);
            j->vetoed = f;
        } else {
            td_factors_free(&f);
        }
        return TD_OK;
    }
    /* with a probe, the one chosen may be measured slower: the best of the
     * others stands by (under a plan, CP and Tucker-2 at the same cost) */
    int keep_second = o->probe != NULL;
    if (j->chosen.method == TD_KEEP || better(&f, &j->chosen, by_error)) {
        if (keep_second && j->chosen.method != TD_KEEP) {
            td_factors_free(&j->runner_up);
            j->runner_up = j->chosen;  /* it beat runner_up before */
        } else {
            td_factors_free(&j->chosen);
        }
        j->chosen = f;
    } else if (keep_second && (j->runner_up.method == TD_KEEP ||
                               better(&f, &j->runner_up, by_error))) {
        td_factors_free(&j->runner_up);
        j->runner_up = f;
    } else {
        td_factors_free(&f);
    }
    return TD_OK;
}

/* Keeps the chosen chain if it pays (smaller, or fewer MACs under a FLOPs
 * budget) and fills the report; otherwise says why the layer stays. */
static void settle(td_job *j, const td_compress_opts *o, int n_slower,
                   const double *w, const td_factor_request *req)
{
    const td_layer *l = &j->layer;
    td_layer_report *r = j->rep;
    int flops = o->global == TD_GLOBAL_FLOPS;
    const char *refusal = NULL;
    if (j->chosen.method == TD_KEEP && n_slower) {
        r->note = "every chain would be slower than the layer (cost model)";
        r->kept_for_speed = 1;
    } else if (j->chosen.method == TD_KEEP) {
        r->note = "no candidate met the budget";
    } else if (j->chosen.macs == INT64_MAX) {
        r->note = "the chain's MAC count does not fit in int64";
        td_factors_free(&j->chosen);
    } else if (!o->force && !flops && j->chosen.params >= r->params_before) {
        r->note = "the chain would not be smaller than the layer";
        td_factors_free(&j->chosen);
    } else if (!o->force && flops && j->chosen.macs >= r->macs_before) {
        r->note = "the chain would not need fewer MACs than the layer";
        td_factors_free(&j->chosen);
    } else if (o->max_layer_error > 0 && !j->planned &&
               j->chosen.rel_error > o->max_layer_error) {
        r->note = "without calibration data, its chain's rel. error would "
                  "pass the layer error cap (max_layer_error)";
        r->over_error_cap = 1;
        td_factors_free(&j->chosen);
    } else if ((j->st = td_fit_dtype(l, w, req, j->bias, &j->chosen,
                                     &refusal, &j->err))) {
        td_err_prefix(&j->err, "node '%s' (%s), weight '%s': ", l->name,
                      l->node->op_type, l->weight_name);
    } else if (refusal) {
        r->note = refusal;  /* not representable in the weight's dtype */
        td_factors_free(&j->chosen);
    } else {
        const td_factors *f = &j->chosen;
        r->method = f->method;
        r->n_ranks = f->n_ranks;
        memcpy(r->ranks, f->ranks, sizeof r->ranks);
        r->params_after = f->params;
        r->macs_after = f->macs;
        r->rel_error = f->rel_error;
        r->est_seconds_before = td_cost_layer_seconds(l);
        r->est_seconds_after = td_cost_chain_seconds(l, f->method, f->ranks);
        if (!o->allow_slower && !o->force && r->est_seconds_before > 0 &&
            r->est_seconds_after >= r->est_seconds_before)
            r->slower_by = r->est_seconds_after / r->est_seconds_before;
        if (f->tr) {
            r->tr_shift = f->tr->shift;
            r->tr_r0 = f->tr->r0;
        }
    }
}

static void factor_fresh(td_job *j, const td_compress_opts *o)
{
    const td_layer *l = &j->layer;
    td_layer_report *r = j->rep;
    double t0 = td_now();
    double *w = NULL;
    td_method list[4];
    td_factor_request req[4];
    int n = candidates(j, o, list, req);
    int n_slower = 0;
    if (n > 0 && !(j->planned && j->plan_keep) &&
        (j->st = job_whitenings(j, o, &j->err))) {
        td_err_prefix(&j->err, "node '%s' (%s), weight '%s': ", l->name,
                      l->node->op_type, l->weight_name);
        goto out;
    }
    for (int q = 0; q < n; q++) {
        req[q].moment = j->moment;
        req[q].mean = j->mean;
        req[q].rel_lambda = j->rel_lambda;
        req[q].taps = j->taps;
        req[q].taps_lags = j->taps_lags;
        req[q].whiten = j->whiten;
        req[q].moment_name = j->moment_name;
        req[q].metric = j->metric;
        req[q].metric_mu = j->metric_mu;
    }
    r->method = TD_KEEP;
    if (j->planned && j->plan_keep) {
        r->note = j->lat_slow ? TD_LAT_SLOWER_NOTE
                  : r->kept_for_speed
                      ? "every chain would be slower than the layer (cost model)"
                      : r->over_error_cap
                      ? "without calibration data, every chain the budget "
                        "allows would pass the layer error cap "
                        "(max_layer_error)"
                      : o->vbmf ? "EVBMF ranks would not shrink the layer"
                      : "the allocation keeps this layer";
        goto out;
    }
    if (n == 0) {
        const char *why = o->method_auto ? NULL
                                         : td_method_why_not(l, o->method);
        r->note = why ? why : "the method does not apply to this layer";
        goto out;
    }
    if ((j->st = td_job_load_weight(l, &w, &j->err)))
        goto out;
    int by_error = j->planned || o->budget.kind == TD_BUDGET_RATIO;
    double t_before = td_cost_layer_seconds(l);
    for (int q = 0; q < n; q++)
        if ((j->st = try_candidate(j, o, w, list[q], req[q], t_before,
                                   by_error, &n_slower)))
            goto out;
    td_latency_judge(j, o, &n_slower);
    settle(j, o, n_slower, w, &req[0]);
    td_latency_settled(j);
out:
    td_whitenings_free(j->whiten, l->group);
    j->whiten = NULL;
    if (r->method == TD_KEEP) {
        r->est_seconds_before = r->est_seconds_after = td_cost_layer_seconds(l);
        r->params_after = r->params_before;
        r->macs_after = r->macs_before;
        r->rel_error = 0;
    }
    free(w);
    r->seconds = td_now() - t0;
}

void td_job_factor(td_job *j, const td_compress_opts *o)
{
    const char *note = j->rep->note;
    if (o->reuse && td_reuse_factors_get(o->reuse, j, note))
        return;
    factor_fresh(j, o);
    if (o->reuse && !j->st)
        td_reuse_factors_put(o->reuse, j, note);
}

double td_job_cost(const td_job *j)
{
    const td_layer *l = &j->layer;
    double params = (double)td_layer_params(l);
    if (j->planned && j->plan_keep)
        return 1;
    double rows = l->cout > 0 ? (double)l->cout : 1;
    double cols = params / rows;
    return params * (rows < cols ? rows : cols) + 1;
}

void td_job_free(td_job *j)
{
    td_whitenings_free(j->whiten, j->layer.group);
    j->whiten = NULL;
    if (!j->chosen_shared)
        td_factors_free(&j->chosen);
    td_factors_free(&j->vetoed);
    td_factors_free(&j->runner_up);
    free(j->tail0);
    free(j->tail1);
    j->tail0 = j->tail1 = NULL;
}
