/* Tucker-2 on a Conv's channel modes (Kim et al., ICLR 2016): a 1x1 conv
 * into r_in channels, the core conv (r_in -> r_out, the layer's kernel and
 * geometry), a 1x1 conv out to Cout; per group, at the largest rank pair of
 * the groups (the others padded with zero factors, exactly representable). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_cost.h"
#include "td_method.h"

static int applies(const td_layer *l)
{
    return l->kind == TD_LAYER_CONV && td_layer_kernel_size(l) > 1;
}

/* ranks: r_out, r_in */
static int64_t params(const td_layer *l, const int64_t *r)
{
    int64_t ro = r[0], ri = r[1], cg = l->cout / l->group;
    return l->group * (ri * l->cin_g + ro * ri * td_layer_kernel_size(l) +
                       cg * ro) + td_layer_bias_params(l);
}

static int64_t macs(const td_layer *l, const int64_t *r)
{
    int64_t in = td_layer_in_pixels(l), out = td_layer_out_pixels(l);
    if (l->kind != TD_LAYER_CONV || in < 0 || out < 0)
        return -1;
    int64_t g = l->group, cg = l->cout / g, K = td_layer_kernel_size(l);
    int64_t ro = r[0], ri = r[1];
    /* ro x ri x K and cg x ro are at most the weight's size */
    return td_sat_add(td_sat_mul4(in, g, ri, l->cin_g),
                      td_sat_mul4(out, g, ro * ri * K + cg * ro, 1));
}

static double seconds(const td_layer *l, const int64_t *r)
{
    int64_t in, out;
    if (!td_cost_pixels(l, &in, &out))
        return -1;
    int64_t g = l->group, K = td_layer_kernel_size(l);
    return td_cost_conv_seconds(l, l->cin, g * r[1], g, 1, in, in) +
           td_cost_conv_seconds(l, g * r[1], g * r[0], g, K, in, out) +
           td_cost_conv_seconds(l, g * r[0], l->cout, g, 1, out, out);
}

/* The largest proportional rank pair (r_in ~ r_out x Cin_g / Cout_g) whose
 * chain keeps at most budget parameters; (1, 1) when none does. */
static void ratio_ranks(const td_layer *l, double budget, int64_t *ro,
                        int64_t *ri)
{
    int64_t cg = l->cout / l->group;
    *ro = *ri = 1;
    for (int64_t t = cg; t >= 1; t--) {
        int64_t r_in = llround((double)t * (double)l->cin_g / (double)cg);
        r_in = r_in < 1 ? 1 : r_in > l->cin_g ? l->cin_g : r_in;
        if ((double)params(l, (int64_t[2]){t, r_in}) <= budget) {
            *ro = t;
            *ri = r_in;
            return;
        }
    }
}

static td_status factor_group(const td_layer *l, const double *wj, int64_t j,
                              const td_factor_request *b, const void *ctx,
                              td_factors *f, double *rel_error, td_err_t *err)
{
    const int64_t *rk = ctx;
    int64_t cg = l->cout / l->group, K = td_layer_kernel_size(l);
    td_tucker2_opts_t tk = {.max_sweeps = b->max_sweeps, .fit_tol = b->fit_tol};
    td_tucker2_t *t = &f->tucker2[j];
    td_status s = b->kind == TD_BUDGET_TOL
        ? td_tucker2_for_tol(wj, cg, l->cin_g, K, b->tol, &tk, t, err)
        : td_tucker2(wj, cg, l->cin_g, K, rk[0], rk[1], &tk, t, err);
    *rel_error = t->rel_error;
    return s;
}

static td_status factor(const td_layer *l, const double *w, const td_factor_request *b,
                        const td_whiten_t *wh, td_factors *f, td_err_t *err)
{
    if (!(f->tucker2 = calloc((size_t)l->group, sizeof *f->tucker2)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    int64_t rk[2] = {0, 0};
    if (b->kind == TD_BUDGET_RATIO) {
        ratio_ranks(l, b->ratio * (double)td_layer_params(l), &rk[0], &rk[1]);
    } else if (b->kind == TD_BUDGET_RANK) {
        rk[0] = rk[1] = b->rank;
        if (b->rank_in > 0)
            rk[1] = b->rank_in;
    }
    td_status s = td_factor_each_group(l, w, b, wh, factor_group, rk, f, err);
    if (s)
        return s;
    f->n_ranks = 2;
    for (int64_t j = 0; j < l->group; j++) {
        const td_tucker2_t *t = &f->tucker2[j];
        f->ranks[0] = t->r_out > f->ranks[0] ? t->r_out : f->ranks[0];
        f->ranks[1] = t->r_in > f->ranks[1] ? t->r_in : f->ranks[1];
    }
    f->params = params(l, f->ranks);
    return TD_OK;
}

static td_status unwhiten(td_factors *f, int64_t j, const td_whiten_t *wh,
                          td_err_t *err)
{
    td_tucker2_t *t = &f->tucker2[j];
    td_status s = td_factor_mode1_inplace(t->u_in, 1, wh->n, t->r_in,
                                          wh->s_inv, err);
    return s ? s : td_taps_mul(&wh->taps, 1, t->core, t->r_out * t->r_in, err);
}

static td_status const_response(const td_factors *f, int64_t j,
                                const double *mu, double *out, td_err_t *err)
{
    return td_tucker2_const_response(&f->tucker2[j], mu, out, err);
}

static void free_factors(td_factors *f)
{
    for (int j = 0; f->tucker2 && j < f->groups; j++)
        td_tucker2_free(&f->tucker2[j]);
    free(f->tucker2);
    f->tucker2 = NULL;
}

static void emit(td_chain *c, const td_factors *f)
{
    const td_layer *l = c->l;
    int64_t g = l->group, cg = l->cout / g, ci = l->cin_g;
    int64_t ro = f->ranks[0], ri = f->ranks[1], K = td_layer_kernel_size(l);
    double *w1 = td_chain_zeros(c, (size_t)(g * ri * ci));
    double *w2 = td_chain_zeros(c, (size_t)(g * ro * ri * K));
    double *w3 = td_chain_zeros(c, (size_t)(l->cout * ro));
    if (c->st)
        goto out;
    for (int64_t j = 0; j < g; j++) {
        const td_tucker2_t *t = &f->tucker2[j];
        for (int64_t b = 0; b < t->r_in; b++)
            for (int64_t i = 0; i < ci; i++)
                w1[(j * ri + b) * ci + i] = t->u_in[i * t->r_in + b];
        for (int64_t a = 0; a < t->r_out; a++)
            for (int64_t b = 0; b < t->r_in; b++)
                memcpy(&w2[((j * ro + a) * ri + b) * K],
                       &t->core[(a * t->r_in + b) * K], (size_t)K * sizeof(double));
        for (int64_t o = 0; o < cg; o++)
            for (int64_t a = 0; a < t->r_out; a++)
                w3[(j * cg + o) * ro + a] = t->u_out[o * t->r_out + a];
    }
    int64_t d[2 + TD_MAX_SPATIAL];
    size_t nd;
    nd = td_chain_conv_dims(l, g * ri, ci, TD_CHAIN_NO_GEOMETRY, d);
    const char *x = td_chain_conv(c, "td1", l->node->input[0],
                                  td_chain_weight(c, "td1_w", d, nd, w1), NULL,
                                  g, TD_CHAIN_NO_GEOMETRY, g * ri, NULL);
    nd = td_chain_conv_dims(l, g * ro, ri, TD_CHAIN_ALL_AXES, d);
    x = td_chain_conv(c, "td2", x, td_chain_weight(c, "td2_w", d, nd, w2), NULL,
                      g, TD_CHAIN_ALL_AXES, g * ro, NULL);
    nd = td_chain_conv_dims(l, l->cout, ro, TD_CHAIN_NO_GEOMETRY, d);
    td_chain_conv(c, "td3", x, td_chain_weight(c, "td3_w", d, nd, w3),
                  td_chain_bias(c, f), g, TD_CHAIN_NO_GEOMETRY, l->cout,
                  l->node->output[0]);
out:
    free(w1);
    free(w2);
    free(w3);
}

const td_method_ops td_method_tucker2 = {
    .id = TD_TUCKER2, .name = "tucker2", .applies = applies,
    .params = params, .macs = macs, .seconds = seconds, .factor = factor,
    .unwhiten = unwhiten, .const_response = const_response, .emit = emit,
    .free = free_factors,
};
