/* CP (canonical polyadic) on a Conv's modes (Lebedev et al., ICLR 2015): a
 * 1x1 conv into R channels, one depthwise conv per spatial axis (R groups
 * of one channel, that axis's kernel and geometry), a 1x1 conv out to Cout;
 * per group, at the largest rank of the groups. */
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

/* ranks: R */
static int64_t params(const td_layer *l, const int64_t *r)
{
    return l->group * r[0] * (l->cin_g + td_layer_kernel_extent_sum(l) +
                              l->cout / l->group) + td_layer_bias_params(l);
}

static int64_t macs(const td_layer *l, const int64_t *r)
{
    int64_t in = td_layer_in_pixels(l), out = td_layer_out_pixels(l);
    if (l->kind != TD_LAYER_CONV || in < 0 || out < 0)
        return -1;
    int64_t g = l->group, cg = l->cout / g, R = r[0];
    int64_t m = td_sat_add(td_sat_mul4(in, g, R, l->cin_g),
                           td_sat_mul4(out, g, R, cg));
    for (int s = 0; s < l->nsp; s++)
        m = td_sat_add(m, td_sat_mul4(td_layer_pixels_after_axis(l, s), g, R,
                                      l->k[s]));
    return m;
}

static double seconds(const td_layer *l, const int64_t *r)
{
    int64_t in, out;
    if (!td_cost_pixels(l, &in, &out))
        return -1;
    int64_t g = l->group;
    double t = td_cost_conv_seconds(l, l->cin, g * r[0], g, 1, in, in) +
               td_cost_conv_seconds(l, g * r[0], l->cout, g, 1, out, out);
    for (int s = 0; s < l->nsp; s++)
        t += td_cost_conv_seconds(
            l, g * r[0], g * r[0], g * r[0], l->k[s],
            td_cost_batched(l, td_layer_pixels_after_axis(l, s - 1)),
            td_cost_batched(l, td_layer_pixels_after_axis(l, s)));
    return t;
}

static td_status factor_group(const td_layer *l, const double *wj, int64_t j,
                              const td_factor_request *b, const void *ctx,
                              td_factors *f, double *rel_error, td_err_t *err)
{
    int64_t rank = *(const int64_t *)ctx;
    int64_t cg = l->cout / l->group, K = td_layer_kernel_size(l);
    int64_t dims[TD_MAX_MODES] = {cg, l->cin_g};
    for (int q = 0; q < l->nsp; q++)
        dims[2 + q] = l->k[q];
    td_cp_opts_t cpo = {b->cp_sweeps, b->fit_tol};
    td_cp_t *c = &f->cp[j];
    /* rank K x min(Cout_g, Cin_g) is always exact */
    int64_t exact_rank = K * (cg < l->cin_g ? cg : l->cin_g);
    if (b->cp_max_rank > 0 && b->cp_max_rank < exact_rank)
        exact_rank = b->cp_max_rank;
    td_status s;
    if (b->kind == TD_BUDGET_TOL && b->tol == 0)
        s = td_cp_exact(wj, l->nsp + 2, dims, c, err);
    else if (b->kind == TD_BUDGET_TOL)
        s = td_cp_for_tol(wj, l->nsp + 2, dims, b->tol, exact_rank, &cpo, c,
                          err);
    else
        s = td_cp_als(wj, l->nsp + 2, dims, rank, &cpo, c, err);
    *rel_error = c->rel_error;
    return s;
}

static td_status factor(const td_layer *l, const double *w, const td_factor_request *b,
                        const td_whiten_t *wh, td_factors *f, td_err_t *err)
{
    if (!(f->cp = calloc((size_t)l->group, sizeof *f->cp)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    int64_t rank = td_factor_linear_rank(l, b, params(l, (int64_t[1]){1}));
    td_status s = td_factor_each_group(l, w, b, wh, factor_group, &rank, f,
                                       err);
    if (s)
        return s;
    f->n_ranks = 1;
    for (int64_t j = 0; j < l->group; j++)
        f->ranks[0] = f->cp[j].rank > f->ranks[0] ? f->cp[j].rank : f->ranks[0];
    f->params = params(l, f->ranks);
    return TD_OK;
}

static td_status unwhiten(td_factors *f, int64_t j, const td_whiten_t *wh,
                          td_err_t *err)
{
    td_cp_t *c = &f->cp[j];
    td_status s = td_factor_mode1_inplace(c->factors[1], 1, wh->n, c->rank,
                                          wh->s_inv, err);
    /* the spatial factors (k_s x R): each its axis' T_s^{-1} */
    for (int a = 0; a < wh->taps.nsp && !s; a++)
        s = td_taps_mul_axis(&wh->taps, a, 1, c->factors[2 + a], 1, c->rank,
                             err);
    return s;
}

static td_status const_response(const td_factors *f, int64_t j,
                                const double *mu, double *out, td_err_t *err)
{
    return td_cp_const_response(&f->cp[j], mu, out, err);
}

static void free_factors(td_factors *f)
{
    for (int j = 0; f->cp && j < f->groups; j++)
        td_cp_free(&f->cp[j]);
    free(f->cp);
    f->cp = NULL;
}

static void emit(td_chain *c, const td_factors *f)
{
    const td_layer *l = c->l;
    int64_t g = l->group, cg = l->cout / g, ci = l->cin_g, R = f->ranks[0];
    double *w1 = td_chain_zeros(c, (size_t)(g * R * ci));
    double *wl = td_chain_zeros(c, (size_t)(l->cout * R));
    double *ws[TD_MAX_SPATIAL] = {0};
    for (int s = 0; s < l->nsp; s++)
        ws[s] = td_chain_zeros(c, (size_t)(g * R * l->k[s]));
    if (c->st)
        goto out;
    for (int64_t j = 0; j < g; j++) {
        const td_cp_t *p = &f->cp[j];
        int64_t r = p->rank;
        for (int64_t q = 0; q < r; q++) {
            for (int64_t i = 0; i < ci; i++)
                w1[(j * R + q) * ci + i] = p->factors[1][i * r + q];
            for (int64_t o = 0; o < cg; o++)
                wl[(j * cg + o) * R + q] = p->factors[0][o * r + q];
            for (int s = 0; s < l->nsp; s++)
                for (int64_t k = 0; k < l->k[s]; k++)
                    ws[s][(j * R + q) * l->k[s] + k] = p->factors[2 + s][k * r + q];
        }
    }
    int64_t d[2 + TD_MAX_SPATIAL];
    size_t nd = td_chain_conv_dims(l, g * R, ci, TD_CHAIN_NO_GEOMETRY, d);
    const char *x = td_chain_conv(c, "td1", l->node->input[0],
                                  td_chain_weight(c, "td1_w", d, nd, w1), NULL,
                                  g, TD_CHAIN_NO_GEOMETRY, g * R, NULL);
    for (int s = 0; s < l->nsp; s++) {
        char sfx[16], wsfx[16];
        snprintf(sfx, sizeof sfx, "td%d", s + 2);
        snprintf(wsfx, sizeof wsfx, "td%d_w", s + 2);
        nd = td_chain_conv_dims(l, g * R, 1, s, d);
        x = td_chain_conv(c, sfx, x, td_chain_weight(c, wsfx, d, nd, ws[s]),
                          NULL, g * R, s, g * R, NULL);
    }
    nd = td_chain_conv_dims(l, l->cout, R, TD_CHAIN_NO_GEOMETRY, d);
    char sfx[16];
    snprintf(sfx, sizeof sfx, "td%d", l->nsp + 2);
    td_chain_conv(c, sfx, x, td_chain_weight(c, "tdl_w", d, nd, wl),
                  td_chain_bias(c, f), g, TD_CHAIN_NO_GEOMETRY, l->cout,
                  l->node->output[0]);
out:
    free(w1);
    free(wl);
    for (int s = 0; s < TD_MAX_SPATIAL; s++)
        free(ws[s]);
}

const td_method_ops td_method_cp = {
    .id = TD_CP, .name = "cp", .applies = applies,
    .params = params, .macs = macs, .seconds = seconds, .factor = factor,
    .unwhiten = unwhiten, .const_response = const_response, .emit = emit,
    .free = free_factors,
};
