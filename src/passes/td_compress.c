/* The compression pass: find the layers, factor them in parallel (each
 * layer is independent numerics on its own weight), then rewrite the graph
 * serially, last layer first so that earlier node indices stay valid. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "graph/td_tensor.h"
#include "td_emit.h"
#include "td_passes.h"

struct job {
    td_layer layer;
    size_t node_index;
    td_factors chosen;
    td_layer_report *rep;
    td_status st;
    td_err_t err;
};

struct pool {
    struct job *jobs;
    size_t n, next;
    int stop;
    pthread_mutex_t mu;
    const td_compress_opts *o;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The weight in the layer's layout (Gemm/MatMul: cout x cin). */
static td_status load_weight(const td_layer *l, double **w, td_err_t *err)
{
    int64_t n;
    td_status s = td_tensor_to_double(l->weight, w, &n, err);
    if (s || l->kind == TD_LAYER_CONV || l->trans_b)
        return s;
    double *t = malloc((size_t)n * sizeof *t);
    if (!t) {
        free(*w);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    for (int64_t k = 0; k < l->cin; k++)
        for (int64_t c = 0; c < l->cout; c++)
            t[c * l->cin + k] = (*w)[k * l->cout + c];
    free(*w);
    *w = t;
    return TD_OK;
}

/* Is candidate a better than b under this budget? */
static int better(const td_factors *a, const td_factors *b, td_budget_kind k)
{
    if (k == TD_BUDGET_RATIO) {
        if (a->rel_error != b->rel_error)
            return a->rel_error < b->rel_error - 1e-12;
        return a->params < b->params;
    }
    if (a->params != b->params)
        return a->params < b->params;
    return a->macs >= 0 && (b->macs < 0 || a->macs < b->macs);
}

static void plan(struct job *j, const td_compress_opts *o)
{
    const td_layer *l = &j->layer;
    td_layer_report *r = j->rep;
    double t0 = now();
    double *w = NULL;
    td_method list[4];
    int n = 0;
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
    r->method = TD_KEEP;
    if (n == 0) {
        r->note = "the method does not apply to this layer";
        goto out;
    }
    if ((j->st = load_weight(l, &w, &j->err)))
        goto out;
    for (int q = 0; q < n; q++) {
        td_budget b = o->budget;
        if (list[q] == TD_CP && j->chosen.method != TD_KEEP &&
            b.kind == TD_BUDGET_TOL) {
            /* CP can only win below the best chain's size: search no
             * further than that rank. */
            int64_t per = l->group * (l->cin_g + (j->chosen.params > 0 ? 0 : 0));
            int64_t ks = 0;
            for (int s = 0; s < l->nsp; s++)
                ks += l->k[s];
            per = l->group * (l->cin_g + ks + l->cout / l->group);
            b.cp_max_rank = (j->chosen.params - (l->has_bias ? l->cout : 0)) / per;
            if (b.cp_max_rank < 1)
                continue;
        }
        td_factors f;
        td_err_t e = {0};
        td_status s = td_factor_layer(l, w, list[q], &b, &f, &e);
        td_candidate *c = &r->cand[r->n_cand++];
        c->method = list[q];
        if (s == TD_EINPUT && list[q] == TD_CP) {
            c->failed = 1;  /* no CP rank met the tolerance */
            td_factors_free(&f);
            continue;
        }
        if (s) {
            j->st = s;
            j->err = e;
            td_factors_free(&f);
            goto out;
        }
        c->n_ranks = f.n_ranks;
        memcpy(c->ranks, f.ranks, sizeof c->ranks);
        c->params = f.params;
        c->macs = f.macs;
        c->rel_error = f.rel_error;
        if (j->chosen.method == TD_KEEP || better(&f, &j->chosen, b.kind)) {
            td_factors_free(&j->chosen);
            j->chosen = f;
        } else {
            td_factors_free(&f);
        }
    }
    if (j->chosen.method == TD_KEEP) {
        r->note = "no candidate met the budget";
    } else if (j->chosen.params >= r->params_before && !o->force) {
        r->note = "the chain would not be smaller than the layer";
        td_factors_free(&j->chosen);
    } else {
        const td_factors *f = &j->chosen;
        r->method = f->method;
        r->n_ranks = f->n_ranks;
        memcpy(r->ranks, f->ranks, sizeof r->ranks);
        r->params_after = f->params;
        r->macs_after = f->macs;
        r->rel_error = f->rel_error;
        if (f->tr) {
            r->tr_shift = f->tr->shift;
            r->tr_r0 = f->tr->r0;
        }
    }
out:
    if (r->method == TD_KEEP) {
        r->params_after = r->params_before;
        r->macs_after = r->macs_before;
        r->rel_error = 0;
    }
    free(w);
    r->seconds = now() - t0;
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
        plan(&p->jobs[i], p->o);
        if (p->jobs[i].st) {
            pthread_mutex_lock(&p->mu);
            p->stop = 1;
            pthread_mutex_unlock(&p->mu);
        }
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

static td_status run_pool(struct job *jobs, size_t n, const td_compress_opts *o)
{
    struct pool p = {.jobs = jobs, .n = n, .o = o};
    pthread_mutex_init(&p.mu, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = o->threads > 0 ? o->threads : cpus > 0 ? (int)cpus : 1;
    if ((size_t)nt > n)
        nt = (int)(n ? n : 1);
    pthread_t th[64];
    if (nt > 64)
        nt = 64;
    int started = 0;
    for (int t = 1; t < nt; t++)
        if (pthread_create(&th[started], NULL, worker, &p) == 0)
            started++;
    worker(&p);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&p.mu);
    return TD_OK;
}

td_status td_pass_compress(td_graph *g, const td_compress_opts *o,
                           td_compress_report *r, td_err_t *err)
{
    memset(r, 0, sizeof *r);
    double t0 = now();
    r->model_params_before = td_graph_param_count(g);
    td_status s = TD_OK;
    td_node_filter filter = {accept_node, (void *)o};
    /* Exporters do not always emit nodes in order (fp16 converters append
     * their input Cast last); chains are inserted at the layer's place, so
     * the order must be right first. */
    if ((s = td_graph_toposort(g, err)))
        return s;
    if (o->fold_bn && (s = td_pass_fold_bn(g, &filter, &r->bn_folded, err)))
        return s;
    size_t nn = td_graph_node_count(g);
    struct job *jobs = calloc(nn ? nn : 1, sizeof *jobs);
    r->layers = calloc(nn ? nn : 1, sizeof *r->layers);
    r->skipped = calloc(nn ? nn : 1, sizeof *r->skipped);
    size_t nj = 0;
    if (!jobs || !r->layers || !r->skipped) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nn; i++) {
        struct job *j = &jobs[nj];
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
        if (!accept(o, j->layer.name))
            continue;
        if (o->shapes)
            o->shapes(o->shapes_ctx, &j->layer);
        j->node_index = i;
        j->rep = &r->layers[nj];
        j->rep->node = j->layer.name;
        j->rep->op = node->op_type;
        j->rep->params_before = td_layer_params(&j->layer);
        j->rep->macs_before = td_layer_macs(&j->layer);
        nj++;
    }
    r->n_layers = nj;
    run_pool(jobs, nj, o);
    for (size_t q = 0; q < nj; q++)
        if (jobs[q].st) {
            s = jobs[q].st;
            *err = jobs[q].err;
            goto done;
        }
    for (size_t q = nj; q-- > 0;) {
        struct job *j = &jobs[q];
        if (j->chosen.method == TD_KEEP)
            continue;
        if ((s = td_emit_chain(g, &j->layer, &j->chosen, j->node_index,
                               o->opset, err)))
            goto done;
    }
    for (size_t q = 0; q < nj; q++)
        if (jobs[q].chosen.method != TD_KEEP)
            td_graph_remove_if_unused(g, jobs[q].layer.weight_name);
    if ((s = td_graph_check(g, err))) {
        td_err_prefix(err, "internal error, the rewritten graph is invalid: ");
        goto done;
    }
    r->model_params_after = td_graph_param_count(g);
done:
    for (size_t q = 0; jobs && q < nn; q++)
        td_factors_free(&jobs[q].chosen);
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
