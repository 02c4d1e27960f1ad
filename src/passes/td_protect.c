/* Which layers data-free compression protects, and why.
 *
 * Without data nothing measures how a layer's error reaches the outputs,
 * and two kinds of layer are where the evidence says it costs the most:
 * a head (a recogniser's final 120 x 6625 projection, a detector's or a
 * segmenter's output convs, a classifier's last Gemm) writes the output
 * itself, with no later layer to absorb its error, and its rank is the
 * task's (classes, characters); a first layer reads the raw input, whose
 * few channels leave almost nothing to factor, and every later layer sees
 * its error. Both are a small share of the parameters. A layer counts as
 * one when the path to a graph output (from a graph input) passes no other
 * layer of the pass: elementwise ops, activations, reshapes, resizes and
 * the like carry its output on unchanged in kind. */
#include <stdlib.h>
#include <string.h>

#include "td_protect.h"

typedef struct walk {
    td_graph *g;
    unsigned char *is_layer;  /* per node: one of the jobs' layers */
    unsigned char *seen;      /* per node, this walk */
    size_t *stack;
    size_t *buf;              /* consumers of one name */
    size_t nn;
} walk;

/* A graph output reached from value name without passing a layer, or
 * NULL. Depth-first over nodes, each node once. */
static const char *output_reached(walk *w, const char *name)
{
    size_t top = 0;
    if (td_graph_is_output(w->g, name))
        return name;
    size_t k = td_graph_consumers(w->g, name, w->buf, w->nn);
    for (size_t c = 0; c < k; c++)
        if (!w->seen[w->buf[c]] && !w->is_layer[w->buf[c]]) {
            w->seen[w->buf[c]] = 1;
            w->stack[top++] = w->buf[c];
        }
    while (top) {
        const Onnx__NodeProto *n = td_graph_node(w->g, w->stack[--top]);
        for (size_t o = 0; o < n->n_output; o++) {
            if (!n->output[o][0])
                continue;
            if (td_graph_is_output(w->g, n->output[o]))
                return n->output[o];
            k = td_graph_consumers(w->g, n->output[o], w->buf, w->nn);
            for (size_t c = 0; c < k; c++)
                if (!w->seen[w->buf[c]] && !w->is_layer[w->buf[c]]) {
                    w->seen[w->buf[c]] = 1;
                    w->stack[top++] = w->buf[c];
                }
        }
    }
    return NULL;
}

/* A graph input reached backwards from value name without passing a
 * layer, or NULL. Constants are not inputs. */
static const char *input_reached(walk *w, const char *name)
{
    size_t top = 0;
    const char *found = NULL;
    int64_t p = td_graph_producer(w->g, name);
    if (p < 0)
        return td_graph_constant(w->g, name) ? NULL : name;
    if (w->is_layer[p])
        return NULL;
    w->seen[p] = 1;
    w->stack[top++] = (size_t)p;
    while (top && !found) {
        const Onnx__NodeProto *n = td_graph_node(w->g, w->stack[--top]);
        for (size_t i = 0; i < n->n_input && !found; i++) {
            const char *x = n->input[i];
            if (!x[0] || td_graph_constant(w->g, x))
                continue;
            p = td_graph_producer(w->g, x);
            if (p < 0)
                found = x;
            else if (!w->seen[p] && !w->is_layer[p]) {
                w->seen[p] = 1;
                w->stack[top++] = (size_t)p;
            }
        }
    }
    return found;
}

td_status td_protect_find(td_graph *g, const td_job *jobs, size_t n,
                          const char **why, td_err_t *err)
{
    walk w = {g, NULL, NULL, NULL, NULL, td_graph_node_count(g)};
    td_status s = TD_OK;
    size_t nn = w.nn ? w.nn : 1;
    w.is_layer = calloc(nn, 1);
    w.seen = calloc(nn, 1);
    w.stack = malloc(nn * sizeof *w.stack);
    w.buf = malloc(nn * sizeof *w.buf);
    if (!w.is_layer || !w.seen || !w.stack || !w.buf) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* The walk is over the main graph (scope 0): a layer inside an If,
     * Loop or Scan body has its node index in that body, and is neither a
     * head nor a first layer of the main graph's outputs and inputs. */
    for (size_t q = 0; q < n; q++)
        if (jobs[q].scope == 0 && jobs[q].node_index < w.nn)
            w.is_layer[jobs[q].node_index] = 1;
    for (size_t q = 0; q < n; q++) {
        const Onnx__NodeProto *node = jobs[q].layer.node;
        const char *out, *in;
        why[q] = NULL;
        if (jobs[q].scope != 0)
            continue;
        memset(w.seen, 0, nn);
        if ((out = output_reached(&w, node->output[0])))
            why[q] = td_arena_printf(td_graph_arena(g),
                "protected without calibration data: a head, its output "
                "reaches graph output '%s' through no other layer", out);
        else if (memset(w.seen, 0, nn),
                 (in = input_reached(&w, node->input[0])))
            why[q] = td_arena_printf(td_graph_arena(g),
                "protected without calibration data: a first layer, it "
                "reads graph input '%s' through no other layer", in);
        else
            continue;
        if (!why[q]) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
cleanup:
    free(w.is_layer);
    free(w.seen);
    free(w.stack);
    free(w.buf);
    return s;
}

td_status td_protect_apply(td_graph *g, td_job *jobs, size_t *n,
                           td_compress_report *r, double *outside_macs,
                           td_err_t *err)
{
    const char **why = calloc(*n ? *n : 1, sizeof *why);
    if (!why)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    td_status s = td_protect_find(g, jobs, *n, why, err);
    size_t k = 0, left = 0;
    for (size_t q = 0; !s && q < *n; q++)
        left += !why[q];
    /* a model that is all heads and first layers (one conv) keeps its
     * budget's meaning: nothing is protected */
    if (!left)
        memset(why, 0, *n * sizeof *why);
    for (size_t q = 0; !s && q < *n; q++) {
        if (why[q]) {
            int64_t macs = jobs[q].rep->macs_before;
            r->skipped[r->n_skipped++] = (td_skip_report){
                jobs[q].layer.name, jobs[q].layer.node->op_type, why[q]};
            *outside_macs += macs > 0 ? (double)macs : 0;
            continue;
        }
        /* nothing of a job is allocated before its spectra: plain moves */
        if (k != q) {
            r->layers[k] = r->layers[q];
            jobs[k] = jobs[q];
            jobs[k].rep = &r->layers[k];
        }
        k++;
    }
    if (!s) {
        for (size_t q = k; q < *n; q++)
            memset(&jobs[q], 0, sizeof jobs[q]);
        *n = k;
        r->n_layers = k;
    }
    free(why);
    return s;
}
