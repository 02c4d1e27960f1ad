/* Pairs the nodes of two graphs for td_diff. A node renamed (or its
 * doc_string edited) is still the same node, so pairs are made in three
 * rounds, each over the nodes the ones before left unpaired:
 *   1. structure: op type, domain, overload, inputs, outputs and
 *      attributes all equal (a pure rename);
 *   2. name (unnamed nodes, or every node under TD_DIFF_IGNORE_NAMES, by
 *      their rank among the left-over nodes of their op_type);
 *   3. place in the data flow: the same op type, domain and outputs (a
 *      renamed node whose attributes or inputs also changed).
 * Value names are structure: a node whose outputs were renamed and whose
 * own name changed too shows as removed and added. */
#include <stdlib.h>
#include <string.h>

#include "td_diff_internal.h"
#include "util/td_strmap.h"

static const char *s0(const char *s) { return s ? s : ""; }

static const char *norm_domain(const char *d)
{
    return !d || !strcmp(d, "ai.onnx") ? "" : d;
}

/* Op type, domain and outputs: a value has one producer in a valid graph,
 * so this key nearly always names one candidate, which is then compared
 * in full. */
static const char *struct_key(td_arena *ar, const Onnx__NodeProto *n)
{
    td_buf b = {0};
    td_buf_printf(&b, "%s\x1f%s", s0(n->op_type), norm_domain(n->domain));
    for (size_t k = 0; k < n->n_output; k++)
        td_buf_printf(&b, "\x1f%s", s0(n->output[k]));
    char *k = td_buf_take(&b);
    const char *r = k ? td_arena_strdup(ar, k) : NULL;
    free(k);
    return r;
}

static const char *name_key(td_arena *ar, const Onnx__NodeProto *n,
                            int ignore_names)
{
    if (!ignore_names && n->name && n->name[0])
        return n->name;
    return td_arena_printf(ar, "\x01%s", s0(n->op_type));
}

/* Chains of b's unpaired nodes per key, in graph order: head maps a key
 * to its first node, next[j] to the one after j (-1: the last). */
static td_strmap *chains(td_arena *ar, const Onnx__GraphProto *b,
                         const int64_t *b_to_a, int by_name, int ignore_names,
                         int64_t *next)
{
    td_strmap *head = td_strmap_new(b->n_node + 16);
    for (size_t j = b->n_node; head && j-- > 0;) {
        if (b_to_a[j] >= 0)
            continue;
        const char *k = by_name ? name_key(ar, b->node[j], ignore_names)
                                : struct_key(ar, b->node[j]);
        if (!k || (next[j] = td_strmap_get(head, k),
                   td_strmap_put(head, k, (int64_t)j))) {
            td_strmap_free(head);
            return NULL;
        }
    }
    return head;
}

/* 1 when a and b differ in nothing but name and doc_string, 0 when they
 * differ, -1 out of memory. */
static int same_structure(dctx *c, const Onnx__NodeProto *a,
                          const Onnx__NodeProto *b)
{
    td_diff_opts o = c->o ? *c->o : (td_diff_opts){0, 0, 0};
    o.ignore |= TD_DIFF_IGNORE_DOC_STRINGS;
    node_changes ch = {0};
    td_err_t err;
    if (diff_nodes(c->ar, a, b, &o, &ch, &err))
        return -1;
    return ch.n == 0;
}

/* Rounds 2 and 3: the k-th unpaired node of a key in a pairs with the
 * k-th unpaired one of that key in b. */
static td_status pair_by_key(dctx *c, const Onnx__GraphProto *a,
                             const Onnx__GraphProto *b, int by_name,
                             int64_t *a_to_b, int64_t *b_to_a, int64_t *next)
{
    int ignore_names = c->o && c->o->ignore & TD_DIFF_IGNORE_NAMES;
    td_status s = TD_OK;
    td_strmap *head = chains(c->ar, b, b_to_a, by_name, ignore_names, next);
    if (!head)
        goto nomem;
    for (size_t i = 0; i < a->n_node; i++) {
        if (a_to_b[i] >= 0)
            continue;
        const char *k = by_name ? name_key(c->ar, a->node[i], ignore_names)
                                : struct_key(c->ar, a->node[i]);
        if (!k)
            goto nomem;
        int64_t j = td_strmap_get(head, k);
        if (j < 0)
            continue;
        a_to_b[i] = j;
        b_to_a[j] = (int64_t)i;
        if (td_strmap_put(head, k, next[j]))
            goto nomem;
    }
    goto cleanup;
nomem:
    s = td_err_set(c->err, TD_ENOMEM, "out of memory");
cleanup:
    td_strmap_free(head);
    return s;
}

/* Round 1: a's node pairs with the first unpaired node of b under its key
 * that equals it in everything but name and doc_string. */
static td_status pair_by_structure(dctx *c, const Onnx__GraphProto *a,
                                   const Onnx__GraphProto *b,
                                   int64_t *a_to_b, int64_t *b_to_a,
                                   int64_t *next)
{
    td_status s = TD_OK;
    td_strmap *head = chains(c->ar, b, b_to_a, 0, 0, next);
    if (!head)
        goto nomem;
    for (size_t i = 0; i < a->n_node; i++) {
        const char *k = struct_key(c->ar, a->node[i]);
        if (!k)
            goto nomem;
        for (int64_t j = td_strmap_get(head, k); j >= 0; j = next[j]) {
            if (b_to_a[j] >= 0)
                continue;
            int r = same_structure(c, a->node[i], b->node[j]);
            if (r < 0)
                goto nomem;
            if (r) {
                a_to_b[i] = j;
                b_to_a[j] = (int64_t)i;
                break;
            }
        }
    }
    goto cleanup;
nomem:
    s = td_err_set(c->err, TD_ENOMEM, "out of memory");
cleanup:
    td_strmap_free(head);
    return s;
}

td_status diff_match_nodes(dctx *c, const Onnx__GraphProto *a,
                           const Onnx__GraphProto *b, int64_t *a_to_b,
                           int64_t *b_to_a)
{
    int64_t *next = malloc((b->n_node + 1) * sizeof *next);
    if (!next)
        return td_err_set(c->err, TD_ENOMEM, "out of memory");
    for (size_t i = 0; i < a->n_node; i++)
        a_to_b[i] = -1;
    for (size_t j = 0; j < b->n_node; j++)
        b_to_a[j] = -1;
    td_status s = pair_by_structure(c, a, b, a_to_b, b_to_a, next);
    if (!s)
        s = pair_by_key(c, a, b, 1, a_to_b, b_to_a, next);
    if (!s)
        s = pair_by_key(c, a, b, 0, a_to_b, b_to_a, next);
    free(next);
    return s;
}
