/* The compression pass as its pipeline: describe the layers, their spectra
 * (for a global budget or EVBMF), plan ranks across layers, factor each
 * layer (in parallel: every layer is independent numerics on its own
 * weight), emit the chains into the graph, check it. The steps are in
 * td_layer.c, td_job.c, td_plan.c, td_factor.c + method_*.c and td_emit.c;
 * this file only sequences them. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decompose/td_decompose.h"
#include "td_emit.h"
#include "td_plan.h"
#include "td_protect.h"
#include "util/td_pool.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int accept(const td_compress_opts *o, const char *name)
{
    if (o->include && regexec(o->include, name, 0, NULL, 0) != 0)
        return 0;
    if (o->exclude && regexec(o->exclude, name, 0, NULL, 0) == 0)
        return 0;
    return 1;
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
} layer_set;

/* ---- running jobs on the worker pool ---------------------------------- */

enum job_phase { PHASE_SPECTRA, PHASE_FACTOR };

typedef struct pool_ctx {
    td_job **order;
    const td_compress_opts *o;
    enum job_phase phase;
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

static void report_progress(void *ctx, size_t done, size_t total)
{
    const td_compress_opts *o = ((pool_ctx *)ctx)->o;
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
    pool_ctx p = {order, o, phase};
    int progress = phase == PHASE_FACTOR && o->progress;
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
    const int64_t *d;
    size_t nd;
    if (l->kind != TD_LAYER_CONV || !sh)
        return;
    const Onnx__NodeProto *n = l->node;
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
static void open_job(td_job *j, size_t i, int64_t macs, td_layer_report *rep)
{
    j->node_index = i;
    j->rep = rep;
    rep->node = j->layer.name;
    rep->op = j->layer.node->op_type;
    rep->params_before = td_layer_params(&j->layer);
    rep->macs_before = macs;
    rep->est_error = -1;
    rep->est_seconds_before = rep->est_seconds_after = -1;
}

/* One job per layer the pass can factor and --include/--exclude accept;
 * the other nodes are skipped with a reason or left out. Spatial sizes
 * come from shape inference (after BN folding, before any chain: the
 * shapes borrow the graph's names). */
static td_status describe_layers(td_graph *g, const td_compress_opts *o,
                                 td_compress_report *r, layer_set *ls,
                                 td_err_t *err)
{
    td_shapes *shapes = NULL;
    td_shape_opts so = {o->dims, o->n_dims, 1};
    td_status s = td_shape_infer(g, &so, &shapes, err);
    if (s)
        return s;
    size_t nn = td_graph_node_count(g);
    int64_t all_macs = 0;
    ls->nodes = nn;
    ls->jobs = calloc(nn ? nn : 1, sizeof *ls->jobs);
    r->layers = calloc(nn ? nn : 1, sizeof *r->layers);
    r->skipped = calloc(nn ? nn : 1, sizeof *r->skipped);
    if (!ls->jobs || !r->layers || !r->skipped) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nn; i++) {
        td_job *j = &ls->jobs[ls->n];
        int ok;
        const char *why;
        if ((s = td_layer_describe(g, i, &j->layer, &ok, &why, err)))
            goto done;
        if (!ok) {
            if (why)
                r->skipped[r->n_skipped++] = (td_skip_report){
                    j->layer.name, td_graph_node(g, i)->op_type, why};
            continue;
        }
        layer_shapes(shapes, &j->layer);
        if (o->shapes)
            o->shapes(o->shapes_ctx, &j->layer);
        if ((s = td_layer_check_counts(&j->layer, err)))
            goto done;
        int64_t macs = td_layer_macs(&j->layer);
        ls->macs_unknown |= macs < 0;
        /* checked: the report sums them as integers */
        if (macs > 0 && td_add_i64(all_macs, macs, &all_macs)) {
            s = td_err_set(err, TD_EINPUT, "node '%s' (%s): the layers' MAC "
                           "count overflows int64", j->layer.name,
                           td_graph_node(g, i)->op_type);
            goto done;
        }
        if (!accept(o, j->layer.name)) {
            /* fixed under a FLOPs budget */
            ls->outside.macs += macs > 0 ? (double)macs : 0;
            ls->outside.filtered++;
            memset(j, 0, sizeof *j);
            continue;
        }
        open_job(j, i, macs, &r->layers[ls->n]);
        j->bias = j->layer.has_bias
                      ? td_graph_constant(g, j->layer.node->input[2]) : NULL;
        ls->n++;
    }
    r->n_layers = ls->n;
    int64_t params_now;
    if (o->global == TD_GLOBAL_PARAMS &&
        !(s = td_graph_param_count(g, &params_now, err)))
        ls->outside.model_params = (double)params_now;
done:
    td_shapes_free(shapes);
    return s;
}

/* Gives each job the moment of its input from o->stats (a size that does not
 * match the layer is refused here, naming the file and tensor). */
static td_status attach_stats(td_graph *g, td_job *jobs, size_t n,
                              const td_compress_opts *o, td_compress_report *r,
                              td_err_t *err)
{
    r->have_stats = 1;
    double lam = o->stats_lambda > 0 ? o->stats_lambda : TD_WHITEN_REL_LAMBDA;
    for (size_t q = 0; q < n; q++) {
        td_job *j = &jobs[q];
        const char *x = j->layer.node->input[0];
        int64_t count;
        const double *mu;
        td_status s = td_stats_moment(o->stats, x, j->layer.cin, &j->moment,
                                      &mu, &count, err);
        if (s)
            return s;
        /* The mean shift goes into a Conv's bias (constant, or added); a
         * Gemm/MatMul chain stays moment-whitened without it. */
        const char *bias = j->layer.has_bias ? j->layer.node->input[2] : NULL;
        if (mu && j->layer.kind == TD_LAYER_CONV &&
            (!bias || td_graph_constant(g, bias)))
            j->mean = mu;
        j->rel_lambda = lam;
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
    }
    return TD_OK;
}

/* A FLOPs budget needs every layer's MACs; says which input dim to give. */
static td_status need_static_shapes(td_graph *g, const td_compress_opts *o,
                                    const layer_set *ls, td_err_t *err)
{
    if ((o->global != TD_GLOBAL_FLOPS && !(o->also_flops > 0)) ||
        !ls->macs_unknown)
        return TD_OK;
    const char *dim = NULL;
    for (size_t k = 0; !dim && td_graph_symbolic_dim(g, k); k++) {
        const char *name = td_graph_symbolic_dim(g, k);
        int given = 0;
        for (size_t q = 0; q < o->n_dims; q++)
            given |= !strcmp(o->dims[q].name, name);
        if (!given)
            dim = name;
    }
    return dim ? td_err_set(err, TD_EUSAGE,
                            "--target-flops needs static shapes: give the "
                            "symbolic input dimension '%s' a value with "
                            "--dim %s=N", dim, dim)
               : td_err_set(err, TD_EUSAGE,
                            "--target-flops needs static shapes, and the "
                            "spatial size of some Conv could not be "
                            "inferred");
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
        td_status s = td_emit_chain(g, &j->layer, &j->chosen, j->node_index,
                                    o->opset, err);
        if (s)
            return s;
    }
    for (size_t q = 0; q < ls->n; q++) {
        const td_job *j = &ls->jobs[q];
        if (j->chosen.method == TD_KEEP)
            continue;
        td_graph_remove_if_unused(g, j->layer.weight_name);
        /* a chain whose bias absorbed a mean shift has its own */
        if (j->chosen.bias_shift && j->layer.has_bias)
            td_graph_remove_if_unused(g, j->layer.node->input[2]);
    }
    return TD_OK;
}

td_status td_pass_compress(td_graph *g, const td_compress_opts *o,
                           td_compress_report *r, td_err_t *err)
{
    memset(r, 0, sizeof *r);
    double t0 = now();
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
    if ((s = describe_layers(g, o, r, &ls, err)) ||
        (o->protect && !o->stats &&
         (s = td_protect_apply(g, ls.jobs, &ls.n, r, &ls.outside.macs, err))) ||
        (o->stats && (s = attach_stats(g, ls.jobs, ls.n, o, r, err))) ||
        (s = need_static_shapes(g, o, &ls, err)))
        goto done;
    if ((o->global != TD_GLOBAL_NONE || o->vbmf) &&
        ((s = run_jobs(&ls, o, PHASE_SPECTRA, err)) ||
         (s = td_plan_ranks(ls.jobs, ls.n, o, &ls.outside, r, err))))
        goto done;
    if ((s = run_jobs(&ls, o, PHASE_FACTOR, err)) ||
        (s = emit_chains(g, o, &ls, err)))
        goto done;
    if ((s = td_graph_check(g, err))) {
        td_err_prefix(err, "internal error, the rewritten graph is invalid: ");
        goto done;
    }
    s = td_graph_param_count(g, &r->model_params_after, err);
done:
    for (size_t q = 0; ls.jobs && q < ls.nodes; q++)
        td_job_free(&ls.jobs[q]);
    free(ls.jobs);
    r->seconds = now() - t0;
    return s;
}

void td_compress_report_free(td_compress_report *r)
{
    free(r->layers);
    free(r->skipped);
    memset(r, 0, sizeof *r);
}
