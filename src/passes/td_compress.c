/* The compression pass as its pipeline: describe the layers, their spectra
 * (for a global budget or EVBMF), plan ranks across layers, factor each
 * layer (in parallel: every layer is independent numerics on its own
 * weight), emit the chains into the graph, check it. The steps are in
 * td_layer.c, td_job.c, td_plan.c, td_factor.c + method_*.c and td_emit.c;
 * this file only sequences them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decompose/td_decompose.h"
#include "td_emit.h"
#include "td_latency.h"
#include "td_plan.h"
#include "td_protect.h"
#include "util/td_pool.h"
#include "util/td_clock.h"

static int accept(const td_compress_opts *o, const char *name)
{
    if (o->include && regexec(o->include, name, 0, NULL, 0) != 0)
        return 0;
    if (o->exclude && regexec(o->exclude, name, 0, NULL, 0) == 0)
        return 0;
    return 1;
}

/* Why --include/--exclude leave a layer out (NULL: they do not). */
static const char *excluded_why(const td_compress_opts *o, const char *name)
{
    if (o->include && regexec(o->include, name, 0, NULL, 0) != 0)
        return "excluded: the name does not match the include pattern";
    if (o->exclude && regexec(o->exclude, name, 0, NULL, 0) == 0)
        return "excluded: the name matches the exclude pattern";
    return NULL;
}

static int accept_node(void *ctx, const Onnx__NodeProto *n)
{
    const char *name = n->name && n->name[0] ? n->name
                       : n->n_output ? n->output[0] : "";
    return accept(ctx, name);
}

/* The layers the pass works on, one job each, and what lies outside them. */
typedef struct layer_set {
    td_job *jobs;
    size_t n;       /* jobs in use */
    size_t nodes;   /* jobs allocated: one per node */
    td_plan_outside outside;
    int macs_unknown;  /* some Conv's spatial size could not be inferred */
    const char *unknown_inside;  /* the first such inside a sub-graph */
    td_scopes *sc;     /* the graphs the layers are in */
    const Onnx__NodeProto *first_unknown;  /* the first such Conv */
} layer_set;

/* ---- running jobs on the worker pool ---------------------------------- */

enum job_phase { PHASE_SPECTRA, PHASE_FACTOR };

typedef struct pool_ctx {
    td_job **order;
    const td_compress_opts *o;
    enum job_phase phase;
    double work_done, work_total;  /* td_job_cost summed */
} pool_ctx;

static int run_one(void *ctx, size_t i)
{
    pool_ctx *p = ctx;
    td_job *j = p->order[i];
    if (p->phase == PHASE_SPECTRA)
        j->st = td_job_spectra(j, p->o, &j->err);
    else
        td_job_factor(j, p->o);
    return j->st != TD_OK;
}

static void report_progress(void *ctx, size_t item, size_t done, size_t total)
{
    pool_ctx *p = ctx;
    const td_compress_opts *o = p->o;
    p->work_done += td_job_cost(p->order[item]);
    if (o->progress_work)
        o->progress_work(o->progress_ctx, done, total, p->work_done,
                         p->work_total);
    else
        o->progress(o->progress_ctx, done, total);
}

/* Biggest layers first (longest-processing-time order), so that the last
 * layer to finish is a small one and no core idles at the end. */
static int by_size_desc(const void *a, const void *b)
{
    const td_job *x = *(td_job *const *)a, *y = *(td_job *const *)b;
    int64_t px = x->rep->params_before, py = y->rep->params_before;
    return px < py ? 1 : px > py ? -1 : 0;
}

static td_status run_jobs(layer_set *ls, const td_compress_opts *o,
                          enum job_phase phase, td_err_t *err)
{
    size_t n = ls->n;
    td_job **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        order[i] = &ls->jobs[i];
    qsort(order, n, sizeof *order, by_size_desc);
    pool_ctx p = {order, o, phase, 0, 0};
    for (size_t i = 0; i < n; i++)
        p.work_total += td_job_cost(order[i]);
    int progress = phase == PHASE_FACTOR && (o->progress || o->progress_work);
    /* One layer per core already fills the machine; BLAS threads on top of
     * that contend for the same cores (on ISNet they more than doubled the
     * time). One BLAS thread also whatever the pool's size: OpenBLAS
     * splits some reductions by its thread count, so the factors, and the
     * output bytes, would otherwise depend on --threads and the machine. */
    int blas_threads = td_dec_blas_threads(1);
    td_pool_run(n, o->threads, run_one, progress ? report_progress : NULL, &p);
    td_dec_blas_threads(blas_threads);
    free(order);
    for (size_t q = 0; q < n; q++)
        if (ls->jobs[q].st) {
            *err = ls->jobs[q].err;
            return ls->jobs[q].st;
        }
    return TD_OK;
}

/* ---- describing the layers -------------------------------------------- */

/* Spatial sizes of a Conv layer's input and output from inferred shapes. */
static void layer_shapes(const td_shapes *sh, td_layer *l)
{
    const int64_t *d = NULL;
    size_t nd = 0;
    if (!sh)
        return;
    const Onnx__NodeProto *n = l->node;
    if (l->kind != TD_LAYER_CONV) {
        /* nd is read after the call sets it (not as its sibling argument,
         * whose order of evaluation C leaves open) */
        int known = td_shape_get(sh, n->input[0], &d, &nd);
        td_layer_set_rows(l, known ? d : NULL, known ? nd : 0);
        return;
    }
    if (td_shape_get(sh, n->input[0], &d, &nd) && nd == (size_t)l->nsp + 2) {
        for (int s = 0; s < l->nsp; s++)
            l->in_sp[s] = d[2 + s];
        l->batch = d[0] > 0 ? d[0] : 0;
    }
    if (td_shape_get(sh, n->output[0], &d, &nd) && nd == (size_t)l->nsp + 2)
        for (int s = 0; s < l->nsp; s++)
            l->out_sp[s] = d[2 + s];
}

/* Starts layer i's job and its line in the report. */
static void open_job(td_job *j, size_t i, int64_t macs, const char *name,
                     td_layer_report *rep)
{
    j->node_index = i;
    j->rep = rep;
    rep->node = name;
    rep->op = j->layer.node->op_type;
    rep->output = j->layer.node->output[0];
    rep->params_before = td_layer_params(&j->layer);
    rep->macs_before = macs;
    rep->est_error = -1;
    rep->est_seconds_before = rep->est_seconds_after = -1;
}

/* The layer's name in the whole model: its graph's path before it. */
static const char *model_name(const layer_set *ls, size_t k, const char *name)
{
    const char *pre = td_scopes_prefix(ls->sc, k);
    return pre[0] ? td_arena_printf(td_graph_arena(td_scopes_graph(ls->sc, k)),
                                    "%s%s", pre, name)
                  : name;
}

/* Why a layer that is not a candidate stays, said for a function body: a
 * weight passed in may differ from call to call. */
static const char *scope_reason(const layer_set *ls, size_t k,
                                const td_layer *l, const char *why)
{
    if (td_scopes_kind(ls->sc, k) == TD_SCOPE_FUNCTION && l->weight_name &&
        !l->weight && td_graph_is_input(td_scopes_graph(ls->sc, k),
                                        l->weight_name))
        return "weight is an input of the function: each call may pass "
               "another tensor, so the body is not rewritten";
    return why;
}

/* The jobs of scope k's layers (see describe_layers). Shapes inside a
 * sub-graph are inferred from what the sub-graph declares; values it takes
 * from outside or carries between iterations are unknown there. */
static td_status describe_scope(size_t k, const td_compress_opts *o,
                                td_compress_report *r, layer_set *ls,
                                int64_t *all_macs, td_err_t *err)
{
    td_graph *g = td_scopes_graph(ls->sc, k);
    td_shapes *shapes = NULL;
    td_shape_opts so = {o->dims, o->n_dims, 1};
    td_status s = td_shape_infer(g, &so, &shapes, err);
    /* a sub-graph's sizes that cannot be inferred are unknown, as its
     * outer values are; running out of memory is not that */
    if (s && (k == 0 || s == TD_ENOMEM))
        return s;
    size_t nn = td_graph_node_count(g);
    for (size_t i = 0; i < nn; i++) {
        td_job *j = &ls->jobs[ls->n];
        int ok;
        const char *why;
        if ((s = td_layer_describe(g, i, &j->layer, &ok, &why, err)))
            goto done;
        if (!ok) {
            why = scope_reason(ls, k, &j->layer, why);
            if (why)
                r->skipped[r->n_skipped++] = (td_skip_report){
                    model_name(ls, k, j->layer.name),
                    td_graph_node(g, i)->op_type, why};
            continue;
        }
        const char *name = model_name(ls, k, j->layer.name);
        if (!name) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto done;
        }
        layer_shapes(shapes, &j->layer);
        if (o->shapes)
            o->shapes(o->shapes_ctx, &j->layer);
        if ((s = td_layer_check_counts(&j->layer, err)))
            goto done;
        int64_t macs = td_layer_macs(&j->layer);
        ls->macs_unknown |= macs < 0;
        if (macs < 0 && k > 0 && !ls->unknown_inside)
            ls->unknown_inside = name;
        if (macs < 0 && k == 0 && !ls->first_unknown)
            ls->first_unknown = j->layer.node;
        /* checked: the report sums them as integers */
        if (macs > 0 && td_add_i64(*all_macs, macs, all_macs)) {
            s = td_err_set(err, TD_EINPUT, "node '%s' (%s): the layers' MAC "
                           "count overflows int64", name,
                           td_graph_node(g, i)->op_type);
            goto done;
        }
        if (!accept(o, name)) {
            r->skipped[r->n_skipped++] = (td_skip_report){
                name, td_graph_node(g, i)->op_type, excluded_why(o, name)};
            /* fixed under a FLOPs budget */
            ls->outside.macs += macs > 0 ? (double)macs : 0;
            ls->outside.filtered++;
            memset(j, 0, sizeof *j);
            continue;
        }
        open_job(j, i, macs, name, &r->layers[ls->n]);
        j->scope = k;
        j->bias = j->layer.has_bias
                      ? td_graph_constant(g, j->layer.node->input[2]) : NULL;
        ls->n++;
    }
    s = TD_OK;
done:
    td_shapes_free(shapes);
    return s;
}

/* Elements of the constants in model-local function bodies, which the
 * main graph's count (td_graph_param_count) cannot see. */
static td_status function_params(td_scopes *sc, int64_t *out, td_err_t *err)
{
    *out = 0;
    for (size_t k = 1; k < td_scopes_count(sc); k++) {
        int64_t n;
        if (td_scopes_kind(sc, k) != TD_SCOPE_FUNCTION)
            continue;
        td_status s = td_graph_param_count(td_scopes_graph(sc, k), &n, err);
        if (s)
            return s;
        if (td_add_i64(*out, n, out))
            return td_err_set(err, TD_EINPUT, "the model's parameter count "
                              "overflows int64");
    }
    return TD_OK;
}

/* One job per layer the pass can factor and --include/--exclude accept, in
 * every graph of the model; the other nodes are skipped with a reason or
 * left out. Spatial sizes come from shape inference (after BN folding,
 * before any chain: the shapes borrow the graph's names). */
static td_status describe_layers(td_graph *g, const td_compress_opts *o,
                                 td_compress_report *r, layer_set *ls,
                                 td_err_t *err)
{
    size_t nn = 0;
    int64_t all_macs = 0;
    td_status s = TD_OK;
    for (size_t k = 0; k < td_scopes_count(ls->sc); k++)
        nn += td_graph_node_count(td_scopes_graph(ls->sc, k));
    ls->nodes = nn;
    ls->jobs = calloc(nn ? nn : 1, sizeof *ls->jobs);
    r->layers = calloc(nn ? nn : 1, sizeof *r->layers);
    r->skipped = calloc(nn ? nn : 1, sizeof *r->skipped);
    if (!ls->jobs || !r->layers || !r->skipped)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t k = 0; k < td_scopes_count(ls->sc) && !s; k++)
        s = describe_scope(k, o, r, ls, &all_macs, err);
    r->n_layers = ls->n;
    int64_t params_now;
    int64_t fn_params = 0;
    if (!s && o->global == TD_GLOBAL_PARAMS &&
        !(s = td_graph_param_count(g, &params_now, err)) &&
        !(s = function_params(ls->sc, &fn_params, err)))
        ls->outside.model_params = (double)params_now + (double)fn_params;
    return s;
}

/* A Gemm / MatMul whose output feeds a softmax: its metric, when o->stats
 * has one (td_stats_model.c gathers it with the moments). */
static td_status attach_metric(td_graph *g, td_job *j,
                               const td_compress_opts *o,
                               td_compress_report *r, td_err_t *err)
{
    if (!(o->softmax_mu > 0) || j->layer.kind == TD_LAYER_CONV ||
        j->layer.group != 1)
        return TD_OK;
    const char *name = td_arena_printf(td_graph_arena(g),
                                       TD_STATS_FISHER_PREFIX "%s",
                                       j->layer.node->output[0]);
    if (!name)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    const double *k, *mu;
    int64_t count;
    td_status s = td_stats_moment(o->stats, name, j->layer.cin, &k, &mu,
                                  &count, err);
    if (s || !k)
        return s;
    j->metric = k;
    j->metric_mu = o->softmax_mu;
    j->rep->softmax_metric = 1;
    r->n_softmax_metric++;
    return TD_OK;
}

/* Whether the layer's output can take its chain's mean shift (W - W~) mu
 * (td_whiten.h): a Conv's bias (constant, or added), a Gemm's C (added,
 * or constant with one value per output, at alpha and beta 1), a
 * MatMul's Add after the chain. Gemm and MatMul from opset 7 on, where
 * C and Add broadcast a vector without an attribute; a MatMul not under
 * the refit, which reads a chain's last MatMul, not an Add after it. */
static int takes_mean_shift(td_graph *g, const td_job *j,
                            const td_compress_opts *o)
{
    const td_layer *l = &j->layer;
    const char *bias = l->has_bias ? l->node->input[2] : NULL;
    const Onnx__TensorProto *c = bias ? td_graph_constant(g, bias) : NULL;
    if (l->kind == TD_LAYER_CONV)
        return !bias || c;
    if (l->kind == TD_LAYER_MATMUL)
        return o->opset >= 7 && !o->refit;
    /* Gemm */
    if (o->opset < 7 || l->alpha != 1.0f)
        return 0;
    if (!bias)
        return 1;
    if (!c || l->beta != 1.0f)
        return 0;
    int64_t numel = 1;
    for (size_t d = 0; d < c->n_dims; d++)
        numel *= c->dims[d];
    return numel == l->cout;
}

/* Gives each job the moment of its input from o->stats (a size that does not
 * match the layer is refused here, naming the file and tensor). */
static td_status attach_stats(td_graph *g, td_job *jobs, size_t n,
                              const td_compress_opts *o, td_compress_report *r,
                              td_err_t *err)
{
    r->have_stats = 1;
    double lam = o->stats_lambda > 0 ? o->stats_lambda : TD_WHITEN_REL_LAMBDA;
    int cv = o->stats_lambda == TD_STATS_LAMBDA_CV;
    for (size_t q = 0; q < n; q++) {
        td_job *j = &jobs[q];
        const char *x = j->layer.node->input[0];
        int64_t count;
        const double *mu;
        td_status s = td_stats_moment(o->stats, x, j->layer.cin, &j->moment,
                                      &mu, &count, err);
        if (s)
            return s;
        /* the mean shift goes into the output's bias where the layer
         * has one the chain can take, and where the statistics hold more
         * positions than the input has channels; elsewhere the chain
         * stays moment-whitened without it. From fewer positions the
         * covariance left after centring has lower rank than the input,
         * and its scale (the whitening's lambda) falls with the mean's
         * share, so the factors fit those few inputs alone: a layer
         * after global pooling (a squeeze-excitation block's 1x1 convs,
         * a classifier's Gemm) sees one position per calibration input.
         * Centred there, PP-OCR cls's bound stopped at 0.806 of the
         * parameters where it now reaches 0.658 at the same agreement
         * (1.000 on 32 held-out crops), and the small CNN's Gemm was cut
         * to rank 3 and missed its bound (tests/scripts/max_error.sh). */
        if (mu && count > j->layer.cin && takes_mean_shift(g, j, o))
            j->mean = mu;
        j->rel_lambda = j->price_lambda = lam;
        /* grouped layers keep the default: their metric is per group */
        if (cv && j->moment && j->layer.group == 1)
            j->cv_k = td_stats_folds(o->stats, x, &j->cv_m, &j->cv_mu,
                                     &j->cv_count);
        const double *acf;
        int nsp;
        int64_t lags;
        td_stats_taps(o->stats, x, &acf, &nsp, &lags);
        if (acf && j->layer.kind == TD_LAYER_CONV &&
            nsp == j->layer.nsp) {
            j->taps = acf;
            j->taps_lags = lags;
        }
        if (!j->moment) {
            /* the note stays unless the layer is kept for another reason */
            j->rep->note = td_arena_printf(td_graph_arena(g),
                "no activation statistics for input '%s' in %s: factored "
                "data-free", x, td_stats_path(o->stats));
            if (!j->rep->note)
                return td_err_set(err, TD_ENOMEM, "out of memory");
            r->n_unweighted++;
            continue;
        }
        /* the full checks come with building S, in the parallel phases;
         * a layer the plan keeps never builds it, so check them all here
         * (a Cholesky each: cheap next to the factoring) */
        j->moment_name = td_arena_printf(td_graph_arena(g),
                                         "%s: tensor '" TD_STATS_MOMENT_PREFIX
                                         "%s'", td_stats_path(o->stats), x);
        if (!j->moment_name)
            return td_err_set(err, TD_ENOMEM, "out of memory");
        if ((s = td_moment_check(j->moment, j->layer.cin, err))) {
            td_err_prefix(err, "%s: ", j->moment_name);
            return s;
        }
        j->rep->weighted = 1;
        r->n_weighted++;
        if ((s = attach_metric(g, j, o, r, err)))
            return s;
    }
    return TD_OK;
}

/* A layer in a sub-graph whose size is unknown (a Loop-carried value, a
 * Scan slice, a value from outside) is one no --dim can fix: said apart. */
static td_status need_sizes_inside(const td_compress_opts *o,
                                   const layer_set *ls, td_err_t *err)
{
    if ((o->global != TD_GLOBAL_FLOPS && !(o->also_flops > 0)) ||
        !ls->unknown_inside)
        return TD_OK;
    return td_err_set(err, TD_EUSAGE, "options.budget target_flops needs "
                      "every layer's MACs, and the spatial size of '%s' "
                      "(inside a sub-graph or function) is not known "
                      "statically; use a per-layer budget (rank, ratio, tol) "
                      "or target_params, or options.exclude it",
                      ls->unknown_inside);
}

/* A FLOPs budget needs every layer's MACs. The refusal says, at once, where
 * the unknown starts (the first node whose output shape stays unknown) and
 * every symbolic input dim not given a value. */
static td_status need_static_shapes(td_graph *g, const td_compress_opts *o,
                                    const layer_set *ls, td_err_t *err)
{
    if ((o->global != TD_GLOBAL_FLOPS && !(o->also_flops > 0)) ||
        !ls->macs_unknown)
        return TD_OK;
    char dims[512] = "";
    size_t len = 0, n_dims = 0;
    for (size_t k = 0; td_graph_symbolic_dim(g, k); k++) {
        const char *name = td_graph_symbolic_dim(g, k);
        int given = 0;
        for (size_t q = 0; q < o->n_dims; q++)
            given |= !strcmp(o->dims[q].name, name);
        for (size_t q = 0; q < k && !given; q++)  /* repeats once */
            given |= !strcmp(td_graph_symbolic_dim(g, q), name);
        if (given || len >= sizeof dims)
            continue;
        len += (size_t)snprintf(dims + len, sizeof dims - len,
                                "%s '%s'", n_dims ? "," : "", name);
        n_dims++;
    }
    const Onnx__NodeProto *l = ls->first_unknown;
    td_shapes *shapes = NULL;
    td_shape_opts so = {o->dims, o->n_dims, 1};
    int64_t at = -1;
    if (l && td_shape_infer(g, &so, &shapes, err) == TD_OK)
        at = td_shape_first_unknown(g, shapes, l->input[0]);
    td_shapes_free(shapes);
    const Onnx__NodeProto *n = at >= 0 ? td_graph_node(g, (size_t)at) : NULL;
    char where[384] = "the spatial size of some Conv could not be inferred";
    if (l && n)
        snprintf(where, sizeof where, "the output shape of node '%s' (%s) is "
                 "unknown, and with it the input size of Conv '%s'",
                 n->name && n->name[0] ? n->name : n->output[0], n->op_type,
                 l->name && l->name[0] ? l->name : l->output[0]);
    else if (l)
        snprintf(where, sizeof where, "Conv '%s' reads '%s', whose shape is "
                 "not static", l->name && l->name[0] ? l->name : l->output[0],
                 l->input[0]);
    return td_err_set(err, TD_EUSAGE, "options.budget target_flops needs "
                      "static shapes: "
                      "%s; %s%s", where,
                      n_dims ? "give every symbolic input dimension a value "
                                "in options.dims:"
                             : "no symbolic input dimension is left to give "
                               "(an operator whose output is not static)",
                      dims);
}

/* ---- rewriting the graph ---------------------------------------------- */

/* Chains go in last layer first, so that earlier node indices stay valid;
 * the old weights (and biases a chain replaced) go once every chain is in. */
static td_status emit_chains(td_graph *g, const td_compress_opts *o,
                             layer_set *ls, td_err_t *err)
{
    for (size_t q = ls->n; q-- > 0;) {
        td_job *j = &ls->jobs[q];
        if (j->chosen.method == TD_KEEP)
            continue;
        td_status s = td_emit_chain(td_scopes_graph(ls->sc, j->scope),
                                    &j->layer, &j->chosen, j->node_index,
                                    o->opset, err);
        if (s)
            return s;
        td_scopes_touch(ls->sc, j->scope);
    }
    for (size_t q = 0; q < ls->n; q++) {
        const td_job *j = &ls->jobs[q];
        if (j->chosen.method == TD_KEEP)
            continue;
        td_status s = td_scopes_drop_later(ls->sc, j->scope,
                                           j->layer.weight_name, err);
        /* a chain whose bias absorbed a mean shift has its own */
        if (!s && j->chosen.bias_shift && j->layer.has_bias)
            s = td_scopes_drop_later(ls->sc, j->scope,
                                     j->layer.node->input[2], err);
        if (s)
            return s;
    }
    /* sub-graphs go back into their nodes, and weights nothing reads go,
     * in whichever graph holds them */
    (void)g;
    return td_scopes_commit(ls->sc, err);
}

td_status td_pass_compress(td_graph *g, const td_compress_opts *o,
                           td_compress_report *r, td_err_t *err)
{
    memset(r, 0, sizeof *r);
    double t0 = td_now();
    r->global = o->global;
    r->target = o->target;
    td_node_filter filter = {accept_node, (void *)o};
    layer_set ls = {0};
    td_status s = td_graph_param_count(g, &r->model_params_before, err);
    if (s)
        return s;
    /* Exporters do not always emit nodes in order (fp16 converters append
     * their input Cast last); chains are inserted at the layer's place, so
     * the order must be right first. */
    if ((s = td_graph_toposort(g, err)) || (s = td_graph_check(g, err)))
        return s;
    if (o->fold_bn && (s = td_pass_fold_bn(g, &filter, &r->bn_folded, err)))
        return s;
    td_scopes *own_scopes = NULL;
    if (!o->scopes && (s = td_scopes_new(NULL, g, &own_scopes, err)))
        return s;
    ls.sc = o->scopes ? o->scopes : own_scopes;
    int64_t fn_params;
    if ((s = function_params(ls.sc, &fn_params, err)))
        goto done;
    r->model_params_before += fn_params;  /* both bounded by the file */
    if ((s = describe_layers(g, o, r, &ls, err)) ||
        (o->protect && !o->stats &&
         (s = td_protect_apply(g, ls.jobs, &ls.n, r, &ls.outside.macs, err))) ||
        (o->stats && (s = attach_stats(g, ls.jobs, ls.n, o, r, err))) ||
        (s = need_sizes_inside(o, &ls, err)) ||
        (s = need_static_shapes(g, o, &ls, err)))
        goto done;
    r->macs_left_out = ls.outside.macs;
    if ((o->global != TD_GLOBAL_NONE || o->vbmf) &&
        ((s = run_jobs(&ls, o, PHASE_SPECTRA, err)) ||
         (s = td_plan_ranks(ls.jobs, ls.n, o, &ls.outside, r, err))))
        goto done;
    if ((s = run_jobs(&ls, o, PHASE_FACTOR, err)))
        goto done;
    /* chains measured slower than planned: plan again without them */
    for (int k = 0; k < TD_LAT_REPLANS && o->global != TD_GLOBAL_NONE &&
                    td_latency_replan(ls.jobs, ls.n); k++)
        if ((s = td_plan_ranks(ls.jobs, ls.n, o, &ls.outside, r, err)) ||
            (s = run_jobs(&ls, o, PHASE_FACTOR, err)))
            goto done;
    if ((s = td_latency_refuse_none(o, r, err)) ||
        (s = emit_chains(g, o, &ls, err)))
        goto done;
    if ((s = td_graph_check(g, err))) {
        td_err_prefix(err, "internal error, the rewritten graph is invalid: ");
        goto done;
    }
    if (!(s = td_graph_param_count(g, &r->model_params_after, err)) &&
        !(s = function_params(ls.sc, &fn_params, err)))
        r->model_params_after += fn_params;
done:
    for (size_t q = 0; ls.jobs && q < ls.nodes; q++)
        td_job_free(&ls.jobs[q]);
    free(ls.jobs);
    td_scopes_free(own_scopes);
    r->seconds = td_now() - t0;
    return s;
}

void td_compress_report_free(td_compress_report *r)
{
    free(r->layers);
    free(r->skipped);
    memset(r, 0, sizeof *r);
}
