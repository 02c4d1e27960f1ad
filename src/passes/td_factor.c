/* The method-independent half of factoring a layer: the methods' table,
 * whitening by activation statistics (td_whiten.h), the per-group loop the
 * grouped methods share, the bias shift, and td_factor_layer, which runs a
 * method's factor op between them. The methods themselves: method_*.c. */
#include "td_factor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decompose/td_whiten.h"
#include "td_method.h"

const td_method_ops *td_method_get(td_method m)
{
    switch (m) {
    case TD_TUCKER2: return &td_method_tucker2;
    case TD_CP: return &td_method_cp;
    case TD_SVD: return &td_method_svd;
    case TD_TR: return &td_method_tr;
    case TD_RSDTR: return &td_method_rsdtr;
    default: return NULL;
    }
}

const char *td_method_name(td_method m)
{
    const td_method_ops *ops = td_method_get(m);
    return ops ? ops->name : m == TD_KEEP ? "keep" : "?";
}

int td_method_applies(const td_layer *l, td_method m)
{
    const td_method_ops *ops = td_method_get(m);
    return ops ? ops->applies(l) : 1;
}

/* Static text per method: the layer kinds each one has nothing to say of. */
const char *td_method_why_not(const td_layer *l, td_method m)
{
    int spatial = l->kind == TD_LAYER_CONV && td_layer_kernel_size(l) > 1;
    if (td_method_applies(l, m))
        return NULL;
    if (!spatial && l->kind != TD_LAYER_CONV)
        switch (m) {
        case TD_TUCKER2: return "Gemm/MatMul weight: tucker2 factors convs "
                                "with a spatial kernel; use svd or auto";
        case TD_CP: return "Gemm/MatMul weight: cp factors convs with a "
                           "spatial kernel; use svd or auto";
        case TD_TR: return "Gemm/MatMul weight: tr factors convs with a "
                           "spatial kernel; use svd or auto";
        default: return "Gemm/MatMul weight: rsdtr factors convs with a "
                        "spatial kernel; use svd or auto";
        }
    if (!spatial)
        switch (m) {
        case TD_TUCKER2: return "1x1 kernel: tucker2 has no spatial modes; "
                                "use svd or auto";
        case TD_CP: return "1x1 kernel: cp has no spatial modes; use svd or "
                           "auto";
        case TD_TR: return "1x1 kernel: tr has no spatial modes; use svd or "
                           "auto";
        default: return "1x1 kernel: rsdtr has no spatial modes; use svd or "
                        "auto";
        }
    if (m == TD_SVD)
        return "spatial kernel over several input channels: svd factors 1x1 "
               "and one-input-channel convs, Gemm and MatMul; use tucker2 or "
               "auto";
    return l->group > 1 ? "grouped conv: the tensor-ring chains factor "
                          "group=1 convs only; use tucker2, cp or auto"
                        : "the method does not apply to this layer";
}

/* ---- output-weighted factoring (td_whiten.h) ---------------------------- */

int td_factor_centred(const td_layer *l, const double *mean)
{
    if (!mean)
        return 0;
    if (td_layer_kernel_size(l) == 1)
        return 1;
    if (strcmp(l->auto_pad, "NOTSET") && strcmp(l->auto_pad, "VALID"))
        return 0;
    for (int s = 0; s < 2 * l->nsp; s++)
        if (l->pads[s])
            return 0;
    return 1;
}

/* S for the channels of group j: the diagonal block of the moment (of the
 * covariance when td_factor_centred). */
static td_status group_whitening(const td_layer *l, const td_factor_request *b,
                                 int64_t j, td_whiten_t *wh, td_err_t *err)
{
    int64_t n = l->cin_g, off = j * n;
    double *blk = malloc((size_t)(n * n) * sizeof *blk);
    if (!blk)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (int64_t r = 0; r < n; r++)
        memcpy(blk + r * n, b->moment + (off + r) * l->cin + off,
               (size_t)n * sizeof *blk);
    double lam = b->rel_lambda > 0 ? b->rel_lambda : TD_WHITEN_REL_LAMBDA;
    td_status s = td_factor_centred(l, b->mean)
                      ? td_whiten_new_cov(blk, b->mean + off, n, lam, wh, err)
                      : td_whiten_new(blk, n, lam, wh, err);
    free(blk);
    /* a layer without spatial axes or 1 tap wide gets no tap weighting */
    if (!s && b->taps)
        s = td_taps_whiten_new(l->nsp, l->k, l->dilations, b->taps,
                               b->taps_lags, lam, &wh->taps, err);
    if (s && b->moment_name)
        td_err_prefix(err, "%s: ", b->moment_name);
    else if (s)
        td_err_prefix(err, "activation statistics of input '%s': ",
                      l->node->input[0]);
    return s;
}

td_status td_factor_whitenings(const td_layer *l, const td_factor_request *b,
                               td_whiten_t **out, td_err_t *err)
{
    td_whiten_t *w = calloc((size_t)l->group, sizeof *w);
    td_status s = w ? TD_OK : td_err_set(err, TD_ENOMEM, "out of memory");
    for (int64_t j = 0; j < l->group && !s; j++)
        s = group_whitening(l, b, j, &w[j], err);
    if (s) {
        td_whitenings_free(w, l->group);
        w = NULL;
    }
    *out = w;
    return s;
}

void td_whitenings_free(td_whiten_t *w, int64_t groups)
{
    for (int64_t j = 0; w && j < groups; j++)
        td_whiten_free(&w[j]);
    free(w);
}

td_status td_factor_mode1_inplace(double *t, int64_t d0, int64_t n, int64_t d2,
                                  const double *a, td_err_t *err)
{
    size_t cnt = (size_t)(d0 * n * d2);
    double *tmp = malloc(cnt * sizeof *tmp);
    if (!tmp)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    td_status s = td_mode1_mul(t, d0, n, d2, a, tmp, err);
    if (!s)
        memcpy(t, tmp, cnt * sizeof *tmp);
    free(tmp);
    return s;
}

td_status td_factor_whiten_block(const td_whiten_t *wh, const double *wj,
                                 int64_t cg, int64_t cin_g, int64_t K,
                                 double *out, td_err_t *err)
{
    td_status s = td_mode1_mul(wj, cg, cin_g, K, wh->s, out, err);
    return s ? s : td_taps_mul(&wh->taps, 0, out, cg * cin_g, err);
}

td_status td_factor_whiten_weight(const td_layer *l, const double *w,
                                  const td_factor_request *b, double *out,
                                  td_err_t *err)
{
    int64_t g = l->group, cg = l->cout / g, K = td_layer_kernel_size(l);
    size_t block = (size_t)(cg * l->cin_g * K);
    td_whiten_t *own = NULL;
    const td_whiten_t *wh = b->whiten;
    td_status s = TD_OK;
    if (!wh && !(s = td_factor_whitenings(l, b, &own, err)))
        wh = own;
    for (int64_t j = 0; j < g && !s; j++)
        s = td_factor_whiten_block(&wh[j], w + (size_t)j * block, cg,
                                   l->cin_g, K, out + (size_t)j * block, err);
    td_whitenings_free(own, g);
    return s;
}

/* f->bias_shift = (W - W~) mu per group, from the unwhitened factors. */
static td_status bias_shift(const td_layer *l, const double *w,
                            const double *mu, td_factors *f, td_err_t *err)
{
    const td_method_ops *ops = td_method_get(f->method);
    int64_t g = l->group, cg = l->cout / g, K = td_layer_kernel_size(l);
    size_t block = (size_t)(cg * l->cin_g * K);
    double *approx = malloc((size_t)cg * sizeof *approx);
    f->bias_shift = malloc((size_t)l->cout * sizeof *f->bias_shift);
    if (!approx || !f->bias_shift) {
        free(approx);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    td_status s = TD_OK;
    for (int64_t j = 0; j < g && !s; j++) {
        const double *muj = mu + j * l->cin_g;
        double *dst = f->bias_shift + j * cg;
        td_dense_const_response(w + (size_t)j * block, cg, l->cin_g, K, muj, dst);
        s = ops->const_response(f, j, muj, approx, err);
        for (int64_t o = 0; o < cg && !s; o++)
            dst[o] -= approx[o];
    }
    free(approx);
    if (!l->has_bias)
        f->params += l->cout;  /* the chain gains a bias */
    return s;
}

int64_t td_factor_linear_rank(const td_layer *l, const td_factor_request *b,
                              int64_t params_at_1)
{
    if (b->kind == TD_BUDGET_RANK)
        return b->rank;
    if (b->kind != TD_BUDGET_RATIO)
        return 0;
    double bias = (double)td_layer_bias_params(l);
    double per = (double)(params_at_1 - td_layer_bias_params(l));
    double budget = b->ratio * (double)td_layer_params(l);
    int64_t rank = (int64_t)floor((budget - bias) / per);
    return rank < 1 ? 1 : rank;
}

td_status td_factor_each_group(const td_layer *l, const double *w,
                               const td_factor_request *b, const td_whiten_t *wh,
                               td_group_factor_fn fn, const void *ctx,
                               td_factors *f, td_err_t *err)
{
    const td_method_ops *ops = td_method_get(f->method);
    int64_t g = l->group, cg = l->cout / g, K = td_layer_kernel_size(l);
    size_t block = (size_t)(cg * l->cin_g * K);
    double err2 = 0, norm2 = 0;
    double *ww = NULL;  /* one group's whitened weight */
    td_status s = TD_OK;
    if (b->moment && !(ww = malloc(block * sizeof *ww)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (int64_t j = 0; j < g; j++) {
        const double *wj = w + (size_t)j * block;
        if (b->moment) {
            if ((s = td_factor_whiten_block(&wh[j], wj, cg, l->cin_g, K, ww,
                                            err)))
                goto done;
            wj = ww;
        }
        double nj = 0;
        for (size_t q = 0; q < block; q++)
            nj += wj[q] * wj[q];
        double ej = 0;
        if ((s = fn(l, wj, j, b, ctx, f, &ej, err)))
            goto done;
        if (b->moment && (s = ops->unwhiten(f, j, &wh[j], err)))
            goto done;
        err2 += ej * ej * nj;
        norm2 += nj;
        if (b->moment && td_factor_centred(l, b->mean))
            norm2 += td_mean_energy(w + (size_t)j * block, cg, l->cin_g, K,
                                    b->mean + j * l->cin_g);
    }
    f->rel_error = norm2 > 0 ? sqrt(err2 / norm2) : 0;
done:
    free(ww);
    return s;
}

td_status td_factor_layer(const td_layer *l, const double *w, td_method m,
                          const td_factor_request *b, td_factors *f, td_err_t *err)
{
    memset(f, 0, sizeof *f);
    f->method = m;
    f->groups = (int)l->group;
    const td_method_ops *ops = td_method_get(m);
    if (!ops || !ops->applies(l))
        return td_err_set(err, TD_EUSAGE, "node '%s': method %s does not apply",
                          l->name, td_method_name(m));
    td_status s = TD_OK;
    td_whiten_t *own = NULL;  /* S per group, when not given */
    const td_whiten_t *wh = b->whiten;
    f->weighted = b->moment != NULL;
    if (b->moment && !wh) {
        if ((s = td_factor_whitenings(l, b, &own, err)))
            goto done;
        wh = own;
    }
    s = ops->factor(l, w, b, wh, f, err);
    if (!s && b->moment && b->mean)
        s = bias_shift(l, w, b->mean, f, err);
done:
    td_whitenings_free(own, l->group);
    if (s == TD_OK)
        f->macs = ops->macs(l, f->ranks);
    else
        td_err_prefix(err, "node '%s' (%s), weight '%s': ", l->name,
                      l->node->op_type, l->weight_name);
    return s;
}

int64_t td_chain_params(const td_layer *l, td_method m, const int64_t *r)
{
    const td_method_ops *ops = td_method_get(m);
    return ops ? ops->params(l, r) : td_layer_params(l);
}

int64_t td_chain_macs(const td_layer *l, td_method m, const int64_t *r)
{
    const td_method_ops *ops = td_method_get(m);
    return ops ? ops->macs(l, r) : td_layer_macs(l);
}

void td_factors_free(td_factors *f)
{
    const td_method_ops *ops = td_method_get(f->method);
    if (ops)
        ops->free(f);
    free(f->bias_shift);
    memset(f, 0, sizeof *f);
}
