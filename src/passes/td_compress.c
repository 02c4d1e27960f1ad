/* The compression pass: find the layers, factor them in parallel (each
 * layer is independent numerics on its own weight), then rewrite the graph
 * serially, last layer first so that earlier node indices stay valid. */
#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "td_emit.h"
#include "td_plan.h"

struct pool {
    td_job *jobs;
    size_t n, next, done;
    int stop;
    int phase;  /* 0: spectra, 1: factor */
    pthread_mutex_t mu;
    const td_compress_opts *o;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next++;
        int stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop || i >= p->n)
            return NULL;
        td_job *j = &p->jobs[i];
        if (p->phase == 0)
            j->st = td_job_spectra(j, p->o, &j->err);
        else
            td_job_factor(j, p->o);
        pthread_mutex_lock(&p->mu);
        if (j->st)
            p->stop = 1;
        p->done++;
        if (p->phase == 1 && p->o->progress)
            p->o->progress(p->o->progress_ctx, p->done, p->n);
        pthread_mutex_unlock(&p->mu);
    }
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

/* Biggest layers first (longest-processing-time order), so that the last
 * layer to finish is a small one and no core idles at the end. */
static int by_size_desc(const void *a, const void *b)
{
    const td_job *x = *(td_job *const *)a, *y = *(td_job *const *)b;
    int64_t px = x->rep->params_before, py = y->rep->params_before;
    return px < py ? 1 : px > py ? -1 : 0;
}

static td_status run_pool(td_job *jobs, size_t n, const td_compress_opts *o,
                          int phase, td_err_t *err)
{
    td_job **order = malloc((n ? n : 1) * sizeof *order);
    td_job *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!order || !sorted) {
        free(order);
        free(sorted);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        order[i] = &jobs[i];
    qsort(order, n, sizeof *order, by_size_desc);
    for (size_t i = 0; i < n; i++)
        sorted[i] = *order[i];
    struct pool p = {.jobs = sorted, .n = n, .o = o, .phase = phase};
    pthread_mutex_init(&p.mu, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = o->threads > 0 ? o->threads : cpus > 0 ? (int)cpus : 1;
    if ((size_t)nt > n)
        nt = (int)(n ? n : 1);
    pthread_t th[64];
    if (nt > 64)
        nt = 64;
    /* One layer per core already fills the machine; OpenBLAS's own threads
     * on top of that contend for the same cores (measured on ISNet: 27.6 s
     * with them, 12.1 s without). One BLAS thread also whatever nt is:
     * OpenBLAS splits some reductions by its thread count, so with more
     * threads a few factors came out a few ulps apart (and one CP layer of
     * PP-OCRv4 det, whose ALS amplifies them, quite differently), and the
     * output bytes depended on --threads and the machine's core count. Its
     * thread count is process-wide, so it is lowered only while the workers
     * run and restored afterwards. */
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    int started = 0;
    for (int t = 1; t < nt; t++)
        if (pthread_create(&th[started], NULL, worker, &p) == 0)
            started++;
    worker(&p);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    openblas_set_num_threads(blas_threads);
    pthread_mutex_destroy(&p.mu);
    for (size_t i = 0; i < n; i++)
        *order[i] = sorted[i];
    free(order);
    free(sorted);
    for (size_t q = 0; q < n; q++)
        if (jobs[q].st) {
            *err = jobs[q].err;
            return jobs[q].st;
        }
    return TD_OK;
}

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

/* The first symbolic input dim the caller gave no value, for messages. */
static const char *unset_dim(td_graph *g, const td_compress_opts *o)
{
    const Onnx__GraphProto *gp = td_graph_orig(g);
    for (size_t i = 0; gp && i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *v = gp->input[i];
        if (!v->type ||
            v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
            !v->type->tensor_type->shape)
            continue;
        const Onnx__TensorShapeProto *sp = v->type->tensor_type->shape;
        for (size_t k = 0; k < sp->n_dim; k++) {
            if (sp->dim[k]->value_case !=
                ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
                continue;
            const char *name = sp->dim[k]->dim_param;
            if (!name || !name[0])
                continue;
            int given = 0;
            for (size_t q = 0; q < o->n_dims; q++)
                given |= !strcmp(o->dims[q].name, name);
            if (!given)
                return name;
        }
    }
    return NULL;
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

td_status td_pass_compress(td_graph *g, const td_compress_opts *o,
                           td_compress_report *r, td_err_t *err)
{
    memset(r, 0, sizeof *r);
    double t0 = now();
    r->global = o->global;
    r->target = o->target;
    td_status s = td_graph_param_count(g, &r->model_params_before, err);
    if (s)
        return s;
    td_node_filter filter = {accept_node, (void *)o};
    td_shapes *shapes = NULL;
    td_job *jobs = NULL;
    size_t nn = 0, nj = 0;
    /* Exporters do not always emit nodes in order (fp16 converters append
     * their input Cast last); chains are inserted at the layer's place, so
     * the order must be right first. */
    if ((s = td_graph_toposort(g, err)) || (s = td_graph_check(g, err)))
        return s;
    if (o->fold_bn && (s = td_pass_fold_bn(g, &filter, &r->bn_folded, err)))
        return s;
    /* After folding, before any chain: the shapes borrow the graph's names
     * and are freed before it changes. */
    td_shape_opts so = {o->dims, o->n_dims, 1};
    if ((s = td_shape_infer(g, &so, &shapes, err)))
        return s;
    nn = td_graph_node_count(g);
    jobs = calloc(nn ? nn : 1, sizeof *jobs);
    r->layers = calloc(nn ? nn : 1, sizeof *r->layers);
    r->skipped = calloc(nn ? nn : 1, sizeof *r->skipped);
    if (!jobs || !r->layers || !r->skipped) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    /* MACs of the layers left out by --include/--exclude: fixed under a
     * FLOPs budget. */
    double other_macs = 0;
    int64_t all_macs = 0;  /* checked: the report sums them as integers */
    size_t filtered = 0;
    int macs_unknown = 0;
    for (size_t i = 0; i < nn; i++) {
        td_job *j = &jobs[nj];
        int ok;
        const char *why;
        if ((s = td_layer_describe(g, i, &j->layer, &ok, &why, err)))
            goto done;
        const Onnx__NodeProto *node = td_graph_node(g, i);
        if (!ok) {
            if (why)
                r->skipped[r->n_skipped++] =
                    (td_skip_report){j->layer.name, node->op_type, why};
            continue;
        }
        layer_shapes(shapes, &j->layer);
        if (o->shapes)
            o->shapes(o->shapes_ctx, &j->layer);
        if ((s = td_layer_check_counts(&j->layer, err)))
            goto done;
        int64_t macs = td_layer_macs(&j->layer);
        macs_unknown |= macs < 0;
        if (macs > 0 && td_add_i64(all_macs, macs, &all_macs)) {
            s = td_err_set(err, TD_EINPUT, "node '%s' (%s): the layers' MAC "
                           "count overflows int64", j->layer.name,
                           node->op_type);
            goto done;
        }
        if (!accept(o, j->layer.name)) {
            other_macs += macs > 0 ? (double)macs : 0;
            filtered++;
            memset(j, 0, sizeof *j);
            continue;
        }
        j->node_index = i;
        j->bias = j->layer.has_bias ? td_graph_constant(g, node->input[2]) : NULL;
        j->rep = &r->layers[nj];
        j->rep->node = j->layer.name;
        j->rep->op = node->op_type;
        j->rep->params_before = td_layer_params(&j->layer);
        j->rep->macs_before = macs;
        j->rep->est_error = -1;
        j->rep->est_seconds_before = j->rep->est_seconds_after = -1;
        nj++;
    }
    r->n_layers = nj;
    if (o->stats && (s = attach_stats(g, jobs, nj, o, r, err)))
        goto done;
    td_shapes_free(shapes);
    shapes = NULL;
    if ((o->global == TD_GLOBAL_FLOPS || o->also_flops > 0) && macs_unknown) {
        const char *dim = unset_dim(g, o);
        s = dim ? td_err_set(err, TD_EUSAGE,
                             "--target-flops needs static shapes: give the "
                             "symbolic input dimension '%s' a value with "
                             "--dim %s=N", dim, dim)
                : td_err_set(err, TD_EUSAGE,
                             "--target-flops needs static shapes, and the "
                             "spatial size of some Conv could not be inferred");
        goto done;
    }
    if (o->global != TD_GLOBAL_NONE || o->vbmf) {
        if ((s = run_pool(jobs, nj, o, 0, err)))
            goto done;
        /* fixed: what lies outside the layers; the allocation counts every
         * layer itself, a layer without spectra at its own cost */
        double before = 0, fixed = other_macs;
        if (o->global == TD_GLOBAL_PARAMS) {
            /* every initializer and Constant counts; the layers' own
             * weights are what the allocation may change */
            before = (double)r->model_params_before;
            int64_t now_params;
            if ((s = td_graph_param_count(g, &now_params, err)))
                goto done;
            fixed = (double)now_params;
            for (size_t q = 0; q < nj; q++)
                fixed -= (double)jobs[q].rep->params_before;
        } else if (o->global == TD_GLOBAL_FLOPS) {
            before = other_macs;
            for (size_t q = 0; q < nj; q++)
                before += (double)jobs[q].rep->macs_before;
        }
        /* the MACs side, for a second budget on them */
        double before_f = other_macs;
        for (size_t q = 0; q < nj; q++)
            before_f += jobs[q].rep->macs_before > 0
                            ? (double)jobs[q].rep->macs_before : 0;
        td_budget_totals bt = {fixed, before, other_macs, before_f, filtered};
        if ((s = td_budget_plan(jobs, nj, o, &bt, r, err)))
            goto done;
    }
    if ((s = run_pool(jobs, nj, o, 1, err)))
        goto done;
    for (size_t q = nj; q-- > 0;) {
        td_job *j = &jobs[q];
        if (j->chosen.method == TD_KEEP)
            continue;
        if ((s = td_emit_chain(g, &j->layer, &j->chosen, j->node_index,
                               o->opset, err)))
            goto done;
    }
    for (size_t q = 0; q < nj; q++)
        if (jobs[q].chosen.method != TD_KEEP) {
            td_graph_remove_if_unused(g, jobs[q].layer.weight_name);
            /* a chain whose bias absorbed a mean shift has its own */
            if (jobs[q].chosen.bias_shift && jobs[q].layer.has_bias)
                td_graph_remove_if_unused(g, jobs[q].layer.node->input[2]);
        }
    if ((s = td_graph_check(g, err))) {
        td_err_prefix(err, "internal error, the rewritten graph is invalid: ");
        goto done;
    }
    s = td_graph_param_count(g, &r->model_params_after, err);
done:
    td_shapes_free(shapes);
    for (size_t q = 0; jobs && q < nn; q++)
        td_job_free(&jobs[q]);
    free(jobs);
    r->seconds = now() - t0;
    return s;
}

void td_compress_report_free(td_compress_report *r)
{
    free(r->layers);
    free(r->skipped);
    memset(r, 0, sizeof *r);
}
