/* Tensor-ring chains (TR-SVD here; RSDTR in method_rsdtr.c shares all but
 * the search): a 1x1 conv from Cin into R1 x R2 channels, per spatial axis a
 * conv with R1 groups whose kernel (one core, tiled over the groups) carries
 * that axis's geometry, and a 1x1 conv out to Cout that closes the ring.
 * Ungrouped layers only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/td_tensor.h"
#include "td_cost.h"
#include "td_method.h"

int td_tr_chain_applies(const td_layer *l)
{
    return l->kind == TD_LAYER_CONV && td_layer_kernel_size(l) > 1 &&
           l->group == 1;
}

/* ranks: the ring's, R0 .. R(n-1) for the modes (Cout, Cin, k...); core k
 * is R_k x dim_k x R_(k+1 mod n). The Tile's repeats are an index, not a
 * parameter, and are not counted. */
int64_t td_tr_chain_params(const td_layer *l, const int64_t *R)
{
    int n = l->nsp + 2;
    int64_t p = R[0] * l->cout * R[1] + R[1] * l->cin * R[2];
    for (int s = 0; s < l->nsp; s++)
        p += R[2 + s] * l->k[s] * R[(3 + s) % n];
    return p + td_layer_bias_params(l);
}

int64_t td_tr_chain_macs(const td_layer *l, const int64_t *R)
{
    int64_t in = td_layer_in_pixels(l), out = td_layer_out_pixels(l);
    if (l->kind != TD_LAYER_CONV || in < 0 || out < 0)
        return -1;
    int n = l->nsp + 2;
    int64_t b = R[1];
    int64_t m = td_sat_add(td_sat_mul4(in, l->cin, b, R[2]),
                           td_sat_mul4(out, l->cout, b, R[0]));
    for (int s = 0; s < l->nsp; s++)
        m = td_sat_add(m, td_sat_mul(td_sat_mul4(td_layer_pixels_after_axis(l, s),
                                                 b, R[2 + s], R[(3 + s) % n]),
                                     l->k[s]));
    return m;
}

/* The chain as td_tr_chain_emit writes it: the 1x1 conv into b x R2
 * channels at the input's pixels, per axis a conv of b groups (R_m -> R_m+1
 * channels each) whose Tile is a constant expression that runtimes fold at
 * load (no cost at run time), and the 1x1 conv from b x R0 channels out at
 * the output's. The grouped convs' few channels per group are what makes
 * such chains slow on CPU runtimes (td_cost.c's efficiency term). */
double td_tr_chain_seconds(const td_layer *l, const int64_t *R)
{
    int64_t in, out;
    if (!td_cost_pixels(l, &in, &out))
        return -1;
    int n = l->nsp + 2;
    int64_t b = R[1];
    double t = td_cost_conv_seconds(l, l->cin, b * R[2], 1, 1, in, in) +
               td_cost_conv_seconds(l, b * R[0], l->cout, 1, 1, out, out);
    for (int s = 0; s < l->nsp; s++)
        t += td_cost_conv_seconds(
            l, b * R[2 + s], b * R[(3 + s) % n], b, l->k[s],
            td_cost_batched(l, td_layer_pixels_after_axis(l, s - 1)),
            td_cost_batched(l, td_layer_pixels_after_axis(l, s)));
    return t;
}

/* A tensor ring at tolerance eps, or (max_storage >= 0) the smallest eps
 * whose chain stores at most max_storage values. */
static td_status tr_run(const td_layer *l, const double *w, int rsdtr,
                        double eps, double max_storage, td_tr_t *out,
                        td_err_t *err)
{
    int64_t dims[TD_MAX_MODES];
    dims[0] = l->cout;
    dims[1] = l->cin_g;
    for (int s = 0; s < l->nsp; s++)
        dims[2 + s] = l->k[s];
    int n = l->nsp + 2;
    if (max_storage >= 0)
        return td_tr_for_storage(w, n, dims, rsdtr, max_storage, out, err);
    return rsdtr ? td_rsdtr(w, n, dims, eps, out, err)
                 : td_tr_svd(w, n, dims, eps, 0, 0, out, err);
}

static td_status find_ring(const td_layer *l, const double *w,
                           const td_factor_request *b, int rsdtr, td_factors *f,
                           td_err_t *err)
{
    f->tr = calloc(1, sizeof *f->tr);
    if (!f->tr)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    if (b->kind == TD_BUDGET_RANK)
        return td_err_set(err, TD_EUSAGE,
                          "the tensor-ring methods take a tol or ratio "
                          "budget, not rank");
    double budget = -1;
    if (b->kind == TD_BUDGET_RATIO) {
        budget = b->ratio * (double)td_layer_params(l) -
                 (double)td_layer_bias_params(l);
        if (budget < 0)
            budget = 0;
    }
    td_status s = tr_run(l, w, rsdtr, b->kind == TD_BUDGET_TOL ? b->tol : 0,
                         budget, f->tr, err);
    if (s)
        return s;
    f->n_ranks = l->nsp + 2;
    for (int k = 0; k < f->n_ranks; k++)
        f->ranks[k] = f->tr->ranks[k];
    f->params = f->tr->storage + td_layer_bias_params(l);
    f->rel_error = f->tr->rel_error;
    return TD_OK;
}

td_status td_tr_chain_unwhiten(td_factors *f, int64_t j, const td_whiten_t *wh,
                          td_err_t *err)
{
    (void)j;
    td_tr_t *t = f->tr;
    td_status s = td_factor_mode1_inplace(t->cores[1], t->ranks[1], wh->n,
                                          t->ranks[2], wh->s_inv, err);
    /* core 2 + a is (r, k_a, r'): its axis' T_a^{-1} */
    for (int a = 0; a < wh->taps.nsp && !s; a++)
        s = td_taps_mul_axis(&wh->taps, a, 1, t->cores[2 + a], t->ranks[2 + a],
                             t->ranks[3 + a], err);
    return s;
}

/* The whole weight is one tensor (one group): whitened by S as a whole. */
td_status td_tr_method_factor(const td_layer *l, const double *w,
                              const td_factor_request *b, const td_whiten_t *wh,
                              int rsdtr, td_factors *f, td_err_t *err)
{
    double *ww = NULL;
    td_status s;
    if (b->moment) {
        int64_t K = td_layer_kernel_size(l);
        size_t cnt = (size_t)(l->cout * l->cin * K);
        if (!(ww = malloc(cnt * sizeof *ww)))
            return td_err_set(err, TD_ENOMEM, "out of memory");
        if ((s = td_factor_whiten_block(&wh[0], w, l->cout, l->cin, K, ww,
                                        err)))
            goto done;
    }
    s = find_ring(l, ww ? ww : w, b, rsdtr, f, err);
    if (!s && b->moment)
        s = td_tr_chain_unwhiten(f, 0, &wh[0], err);
done:
    free(ww);
    return s;
}

static td_status factor(const td_layer *l, const double *w, const td_factor_request *b,
                        const td_whiten_t *wh, td_factors *f, td_err_t *err)
{
    return td_tr_method_factor(l, w, b, wh, 0, f, err);
}

td_status td_tr_chain_const_response(const td_factors *f, int64_t j,
                                const double *mu, double *out, td_err_t *err)
{
    (void)j;
    return td_tr_const_response(f->tr, mu, out, err);
}

void td_tr_chain_free(td_factors *f)
{
    if (f->tr)
        td_tr_free(f->tr);
    free(f->tr);
    f->tr = NULL;
}

void td_tr_chain_emit(td_chain *c, const td_factors *f)
{
    const td_layer *l = c->l;
    const td_tr_t *t = f->tr;
    const int64_t *R = t->ranks;
    int n = l->nsp + 2;
    int64_t b = R[1], ci = l->cin;
    td_arena *a = td_graph_arena(c->g);
    double *w1 = td_chain_zeros(c, (size_t)(b * R[2] * ci));
    double *wl = td_chain_zeros(c, (size_t)(l->cout * b * R[0]));
    if (c->st)
        goto out;
    /* Cin core G1[bb, i, cc] -> conv1 weight[(bb, cc), i]. */
    for (int64_t bb = 0; bb < b; bb++)
        for (int64_t i = 0; i < ci; i++)
            for (int64_t cc = 0; cc < R[2]; cc++)
                w1[(bb * R[2] + cc) * ci + i] = t->cores[1][(bb * ci + i) * R[2] + cc];
    /* Cout core G0[aa, o, bb] -> last weight[o, (bb, aa)]. */
    for (int64_t aa = 0; aa < R[0]; aa++)
        for (int64_t o = 0; o < l->cout; o++)
            for (int64_t bb = 0; bb < b; bb++)
                wl[o * b * R[0] + bb * R[0] + aa] =
                    t->cores[0][(aa * l->cout + o) * b + bb];
    int64_t d[2 + TD_MAX_SPATIAL];
    size_t nd = td_chain_conv_dims(l, b * R[2], ci, TD_CHAIN_NO_GEOMETRY, d);
    const char *x = td_chain_conv(c, "td1", l->node->input[0],
                                  td_chain_weight(c, "td1_w", d, nd, w1), NULL,
                                  1, TD_CHAIN_NO_GEOMETRY, b * R[2], NULL);
    const char *reps = NULL, *tile_axis = NULL;
    if (b > 1 && c->opset < 6) {
        /* Tile-1: (input, tiles, axis), both scalars of the input's type
         * (ONNX's schema for it); the kernels repeat along axis 0. */
        double copies = (double)b, axis0 = 0;
        reps = td_chain_weight(c, "td_reps", NULL, 0, &copies);
        tile_axis = td_chain_weight(c, "td_axis", NULL, 0, &axis0);
    } else if (b > 1) {
        int64_t rv[2 + TD_MAX_SPATIAL], rd = n;
        for (int q = 0; q < n; q++)
            rv[q] = q == 0 ? b : 1;
        reps = td_chain_fresh(c, "td_reps");
        Onnx__TensorProto *rt = reps ? td_tensor_from_int64(a, reps, &rd, 1, rv) : NULL;
        if (!rt || td_graph_add_init(c->g, rt, c->err))
            c->st = c->st ? c->st : TD_ENOMEM;
    }
    for (int s = 0; s < l->nsp && !c->st; s++) {
        int m = 2 + s;
        int64_t rin = R[m], rout = R[(m + 1) % n], k = l->k[s];
        double *core = td_chain_zeros(c, (size_t)(rout * rin * k));
        if (!core)
            break;
        /* Spatial core G[in, k, out] -> per-group kernel [out, in, k]; the
         * same kernel serves every one of the b ring slices. */
        for (int64_t o = 0; o < rout; o++)
            for (int64_t i = 0; i < rin; i++)
                for (int64_t q = 0; q < k; q++)
                    core[(o * rin + i) * k + q] = t->cores[m][(i * k + q) * rout + o];
        char sfx[24], wsfx[24];  /* "td" + an int + "_core" */
        snprintf(sfx, sizeof sfx, "td%d", s + 2);
        snprintf(wsfx, sizeof wsfx, "td%d_core", s + 2);
        nd = td_chain_conv_dims(l, rout, rin, s, d);
        const char *w = td_chain_weight(c, wsfx, d, nd, core);
        free(core);
        if (w && b > 1) {
            /* Store the core once; Tile builds the grouped kernel, and
             * runtimes fold it at load (it is a constant expression). */
            char tsfx[24];
            snprintf(tsfx, sizeof tsfx, "td%d_tile", s + 2);
            const char *tname = td_chain_fresh(c, tsfx);
            snprintf(tsfx, sizeof tsfx, "td%d_w", s + 2);
            const char *tout = td_chain_fresh(c, tsfx);
            const char *ins[3] = {w, reps, tile_axis};
            Onnx__NodeProto *tn = tname && tout && reps
                ? td_node_new(c->g, "Tile", tname, ins, tile_axis ? 3 : 2,
                              &tout, 1) : NULL;
            if (!tn) {
                c->st = c->st ? c->st : TD_ENOMEM;
                break;
            }
            td_chain_add_node(c, tn);
            w = tout;
        }
        x = td_chain_conv(c, sfx, x, w, NULL, b, s, b * rout, NULL);
    }
    nd = td_chain_conv_dims(l, l->cout, b * R[0], TD_CHAIN_NO_GEOMETRY, d);
    char sfx[16];
    snprintf(sfx, sizeof sfx, "td%d", l->nsp + 2);
    td_chain_conv(c, sfx, x, td_chain_weight(c, "tdl_w", d, nd, wl),
                  td_chain_bias(c, f), 1, TD_CHAIN_NO_GEOMETRY, l->cout,
                  l->node->output[0]);
out:
    free(w1);
    free(wl);
}

const td_method_ops td_method_tr = {
    .id = TD_TR, .name = "tr", .applies = td_tr_chain_applies,
    .params = td_tr_chain_params, .macs = td_tr_chain_macs,
    .seconds = td_tr_chain_seconds, .factor = factor,
    .unwhiten = td_tr_chain_unwhiten,
    .const_response = td_tr_chain_const_response, .emit = td_tr_chain_emit,
    .free = td_tr_chain_free,
};
