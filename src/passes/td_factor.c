#include "td_factor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decompose/td_whiten.h"

const char *td_method_name(td_method m)
{
    static const char *names[] = {"keep", "tucker2", "cp", "svd", "tr", "rsdtr"};
    return (unsigned)m < sizeof names / sizeof *names ? names[m] : "?";
}

static int64_t ksum(const td_layer *l)
{
    int64_t s = 0;
    for (int i = 0; i < l->nsp; i++)
        s += l->k[i];
    return s;
}

int td_method_applies(const td_layer *l, td_method m)
{
    int64_t K = td_layer_kernel_size(l);
    switch (m) {
    case TD_SVD: return l->kind != TD_LAYER_CONV || K == 1;
    case TD_TUCKER2: return l->kind == TD_LAYER_CONV && K > 1;
    case TD_CP: return l->kind == TD_LAYER_CONV && K > 1;
    case TD_TR:
    case TD_RSDTR: return l->kind == TD_LAYER_CONV && K > 1 && l->group == 1;
    default: return 1;
    }
}

/* ---- chain sizes: parameters as stored, multiply-accumulates ---------- */

static int64_t bias(const td_layer *l) { return l->has_bias ? l->cout : 0; }

static int64_t tucker2_params(const td_layer *l, int64_t ro, int64_t ri)
{
    int64_t cg = l->cout / l->group;
    return l->group * (ri * l->cin_g + ro * ri * td_layer_kernel_size(l) +
                       cg * ro) + bias(l);
}

static int64_t cp_params(const td_layer *l, int64_t r)
{
    return l->group * r * (l->cin_g + ksum(l) + l->cout / l->group) + bias(l);
}

static int64_t svd_params(const td_layer *l, int64_t r)
{
    return l->group * r * (l->cin_g + l->cout / l->group) + bias(l);
}

/* MAC counts of chains saturate at INT64_MAX: td_layer_check_counts bounds
 * the layer and its pixels, but a chain's terms (input pixels x channels x
 * ranks) may still exceed int64 under a large stride or pads, and such a
 * chain is then "more than any layer that fits", never chosen for MACs. */
static int64_t mul_sat(int64_t a, int64_t b)
{
    int64_t r;
    return td_mul_i64(a, b, &r) ? INT64_MAX : r;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    int64_t r;
    return td_add_i64(a, b, &r) ? INT64_MAX : r;
}

static int64_t mul4(int64_t a, int64_t b, int64_t c, int64_t d)
{
    return mul_sat(mul_sat(mul_sat(a, b), c), d);
}

/* Pixels after the spatial convs of axes 0..s (CP and TR chains run one
 * axis at a time: axes up to s are at output size, the rest at input). */
static int64_t px_after_axis(const td_layer *l, int s)
{
    int64_t p = 1;
    for (int t = 0; t < l->nsp; t++) {
        int64_t d = t <= s ? l->out_sp[t] : l->in_sp[t];
        if (d < 0)
            return -1;
        p *= d;
    }
    return p;
}

static int64_t chain_macs(const td_layer *l, const td_factors *f)
{
    if (l->kind != TD_LAYER_CONV)
        return f->method == TD_SVD ? mul_sat(f->ranks[0], l->cin + l->cout)
                                   : -1;
    int64_t in = td_layer_in_pixels(l), out = td_layer_out_pixels(l);
    if (in < 0 || out < 0)
        return -1;
    int64_t g = l->group, cg = l->cout / g, K = td_layer_kernel_size(l);
    switch (f->method) {
    case TD_TUCKER2: {
        int64_t ro = f->ranks[0], ri = f->ranks[1];
        /* ro x ri x K and cg x ro are at most the weight's size */
        return add_sat(mul4(in, g, ri, l->cin_g),
                       mul4(out, g, ro * ri * K + cg * ro, 1));
    }
    case TD_CP: {
        int64_t r = f->ranks[0];
        int64_t m = add_sat(mul4(in, g, r, l->cin_g), mul4(out, g, r, cg));
        for (int s = 0; s < l->nsp; s++)
            m = add_sat(m, mul4(px_after_axis(l, s), g, r, l->k[s]));
        return m;
    }
    case TD_SVD:
        return mul4(out, g, f->ranks[0], l->cin_g + cg);
    case TD_TR:
    case TD_RSDTR: {
        const int64_t *R = f->ranks;
        int n = l->nsp + 2;
        int64_t b = R[1];
        int64_t m = add_sat(mul4(in, l->cin, b, R[2]),
                            mul4(out, l->cout, b, R[0]));
        for (int s = 0; s < l->nsp; s++)
            m = add_sat(m, mul_sat(mul4(px_after_axis(l, s), b, R[2 + s],
                                        R[(3 + s) % n]), l->k[s]));
        return m;
    }
    default:
        return td_layer_macs(l);
    }
}

/* ---- rank choice under a parameter ratio ------------------------------ */

static void tucker2_ratio_ranks(const td_layer *l, double budget, int64_t *ro,
                                int64_t *ri)
{
    int64_t cg = l->cout / l->group;
    *ro = *ri = 1;
    for (int64_t t = cg; t >= 1; t--) {
        int64_t r_in = llround((double)t * (double)l->cin_g / (double)cg);
        r_in = r_in < 1 ? 1 : r_in > l->cin_g ? l->cin_g : r_in;
        if ((double)tucker2_params(l, t, r_in) <= budget) {
            *ro = t;
            *ri = r_in;
            return;
        }
    }
}

/* ---- factoring -------------------------------------------------------- */

/* A tensor ring at tolerance eps, or (max_storage >= 0) the smallest eps
 * whose chain stores at most max_storage values. */
static td_status tr_run(const td_layer *l, const double *w, td_method m,
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
        return td_tr_for_storage(w, n, dims, m == TD_RSDTR, max_storage, out,
                                 err);
    return m == TD_RSDTR ? td_rsdtr(w, n, dims, eps, out, err)
                         : td_tr_svd(w, n, dims, eps, 0, 0, out, err);
}

static td_status factor_tr(const td_layer *l, const double *w, td_method m,
                           const td_budget *b, td_factors *f, td_err_t *err)
{
    f->tr = calloc(1, sizeof *f->tr);
    if (!f->tr)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    if (b->kind == TD_BUDGET_RANK)
        return td_err_set(err, TD_EUSAGE,
                          "the tensor-ring methods take --tol or --ratio, "
                          "not --rank");
    double budget = -1;
    if (b->kind == TD_BUDGET_RATIO) {
        budget = b->ratio * (double)td_layer_params(l) - (double)bias(l);
        if (budget < 0)
            budget = 0;
    }
    td_status s = tr_run(l, w, m, b->kind == TD_BUDGET_TOL ? b->tol : 0, budget,
                         f->tr, err);
    if (s)
        return s;
    f->n_ranks = l->nsp + 2;
    for (int k = 0; k < f->n_ranks; k++)
        f->ranks[k] = f->tr->ranks[k];
    f->params = f->tr->storage + bias(l);
    f->rel_error = f->tr->rel_error;
    return TD_OK;
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
static td_status group_whitening(const td_layer *l, const td_budget *b,
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
    if (s && b->moment_name)
        td_err_prefix(err, "%s: ", b->moment_name);
    else if (s)
        td_err_prefix(err, "activation statistics of input '%s': ",
                      l->node->input[0]);
    return s;
}

td_status td_factor_whitenings(const td_layer *l, const td_budget *b,
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

/* t (d0 x n x d2) <- t x_1 a, through a temporary. */
static td_status mode1_inplace(double *t, int64_t d0, int64_t n, int64_t d2,
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

/* Maps the factor that reads the input channels back from whitened
 * coordinates: multiplies its Cin mode by S^{-1}. */
static td_status unwhiten_group(td_factors *f, int64_t j, const td_whiten_t *wh,
                                td_err_t *err)
{
    int64_t n = wh->n;
    switch (f->method) {
    case TD_TUCKER2:
        return mode1_inplace(f->tucker2[j].u_in, 1, n, f->tucker2[j].r_in,
                             wh->s_inv, err);
    case TD_CP:
        return mode1_inplace(f->cp[j].factors[1], 1, n, f->cp[j].rank,
                             wh->s_inv, err);
    case TD_SVD:
        return mode1_inplace(f->svd[j].right, f->svd[j].rank, n, 1, wh->s_inv,
                             err);
    case TD_TR:
    case TD_RSDTR:
        return mode1_inplace(f->tr->cores[1], f->tr->ranks[1], n,
                             f->tr->ranks[2], wh->s_inv, err);
    default:
        return TD_OK;
    }
}

td_status td_factor_whiten_weight(const td_layer *l, const double *w,
                                  const td_budget *b, double *out,
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
        s = td_mode1_mul(w + (size_t)j * block, cg, l->cin_g, K, wh[j].s,
                         out + (size_t)j * block, err);
    td_whitenings_free(own, g);
    return s;
}

/* f->bias_shift = (W - W~) mu per group, from the unwhitened factors. */
static td_status bias_shift(const td_layer *l, const double *w,
                            const double *mu, td_factors *f, td_err_t *err)
{
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
        switch (f->method) {
        case TD_TUCKER2:
            s = td_tucker2_const_response(&f->tucker2[j], muj, approx, err);
            break;
        case TD_CP: s = td_cp_const_response(&f->cp[j], muj, approx, err); break;
        case TD_SVD: s = td_svd_const_response(&f->svd[j], muj, approx, err); break;
        default: s = td_tr_const_response(f->tr, muj, approx, err); break;
        }
        for (int64_t o = 0; o < cg && !s; o++)
            dst[o] -= approx[o];
    }
    free(approx);
    if (!l->has_bias)
        f->params += l->cout;  /* the chain gains a bias */
    return s;
}

td_status td_factor_layer(const td_layer *l, const double *w, td_method m,
                          const td_budget *b, td_factors *f, td_err_t *err)
{
    memset(f, 0, sizeof *f);
    f->method = m;
    f->groups = (int)l->group;
    if (!td_method_applies(l, m))
        return td_err_set(err, TD_EUSAGE, "node '%s': method %s does not apply",
                          l->name, td_method_name(m));
    td_status s = TD_OK;
    td_whiten_t *own = NULL;        /* S per group, when not given */
    const td_whiten_t *wh = b->whiten;
    double *ww = NULL;  /* the whitened weight (one group's) */
    f->weighted = b->moment != NULL;
    if (b->moment && !wh) {
        if ((s = td_factor_whitenings(l, b, &own, err)))
            goto done;
        wh = own;
    }
    if (m == TD_TR || m == TD_RSDTR) {
        if (b->moment) {
            size_t cnt = (size_t)(l->cout * l->cin * td_layer_kernel_size(l));
            if (!(ww = malloc(cnt * sizeof *ww)))
                goto oom;
            if ((s = td_mode1_mul(w, l->cout, l->cin, td_layer_kernel_size(l),
                                  wh[0].s, ww, err)))
                goto done;
        }
        s = factor_tr(l, ww ? ww : w, m, b, f, err);
        if (!s && b->moment)
            s = unwhiten_group(f, 0, &wh[0], err);
        if (!s && b->moment && b->mean)
            s = bias_shift(l, w, b->mean, f, err);
        goto done;
    }
    int64_t g = l->group, cg = l->cout / g, K = td_layer_kernel_size(l);
    size_t block = (size_t)(cg * l->cin_g * K);
    double budget = b->ratio * (double)td_layer_params(l);
    double err2 = 0, norm2 = 0;
    if (m == TD_TUCKER2 && !(f->tucker2 = calloc((size_t)g, sizeof *f->tucker2)))
        goto oom;
    if (m == TD_CP && !(f->cp = calloc((size_t)g, sizeof *f->cp)))
        goto oom;
    if (m == TD_SVD && !(f->svd = calloc((size_t)g, sizeof *f->svd)))
        goto oom;
    int64_t ro = 0, ri = 0, r = 0;
    if (b->kind == TD_BUDGET_RATIO) {
        if (m == TD_TUCKER2)
            tucker2_ratio_ranks(l, budget, &ro, &ri);
        int64_t per = m == TD_CP ? cp_params(l, 1) - bias(l)
                                 : svd_params(l, 1) - bias(l);
        r = (int64_t)floor((budget - (double)bias(l)) / (double)per);
        if (r < 1)
            r = 1;
    } else if (b->kind == TD_BUDGET_RANK) {
        ro = ri = r = b->rank;
        if (b->rank_in > 0)
            ri = b->rank_in;
    }
    int64_t max_ro = 0, max_ri = 0, max_r = 0;
    td_tucker2_opts_t tk = {.max_sweeps = b->max_sweeps, .fit_tol = b->fit_tol};
    td_cp_opts_t cpo = {b->cp_sweeps, b->fit_tol};
    if (b->moment && !(ww = malloc(block * sizeof *ww)))
        goto oom;
    for (int64_t j = 0; j < g; j++) {
        const double *wj = w + (size_t)j * block;
        if (b->moment) {
            if ((s = td_mode1_mul(wj, cg, l->cin_g, K, wh[j].s, ww, err)))
                goto done;
            wj = ww;
        }
        double nj = 0;
        for (size_t q = 0; q < block; q++)
            nj += wj[q] * wj[q];
        double ej = 0;
        if (m == TD_TUCKER2) {
            td_tucker2_t *t = &f->tucker2[j];
            s = b->kind == TD_BUDGET_TOL
                    ? td_tucker2_for_tol(wj, cg, l->cin_g, K, b->tol, &tk, t, err)
                    : td_tucker2(wj, cg, l->cin_g, K, ro, ri, &tk, t, err);
            ej = t->rel_error;
            max_ro = t->r_out > max_ro ? t->r_out : max_ro;
            max_ri = t->r_in > max_ri ? t->r_in : max_ri;
        } else if (m == TD_CP) {
            int64_t dims[TD_MAX_MODES] = {cg, l->cin_g};
            for (int q = 0; q < l->nsp; q++)
                dims[2 + q] = l->k[q];
            td_cp_t *c = &f->cp[j];
            int64_t exact_rank = K * (cg < l->cin_g ? cg : l->cin_g);
            if (b->cp_max_rank > 0 && b->cp_max_rank < exact_rank)
                exact_rank = b->cp_max_rank;
            if (b->kind == TD_BUDGET_TOL && b->tol == 0)
                s = td_cp_exact(wj, l->nsp + 2, dims, c, err);
            else if (b->kind == TD_BUDGET_TOL)
                s = td_cp_for_tol(wj, l->nsp + 2, dims, b->tol, exact_rank, &cpo,
                                  c, err);
            else
                s = td_cp_als(wj, l->nsp + 2, dims, r, &cpo, c, err);
            ej = c->rel_error;
            max_r = c->rank > max_r ? c->rank : max_r;
        } else {
            td_svd_t *v = &f->svd[j];
            s = td_svd(wj, cg, l->cin_g, b->kind == TD_BUDGET_TOL ? 0 : r,
                       b->kind == TD_BUDGET_TOL ? b->tol : 0, v, err);
            ej = v->rel_error;
            max_r = v->rank > max_r ? v->rank : max_r;
        }
        if (s)
            goto done;
        if (b->moment && (s = unwhiten_group(f, j, &wh[j], err)))
            goto done;
        err2 += ej * ej * nj;
        norm2 += nj;
        if (b->moment && td_factor_centred(l, b->mean))
            norm2 += td_mean_energy(w + (size_t)j * block, cg, l->cin_g, K,
                                    b->mean + j * l->cin_g);
    }
    /* Groups may land on different ranks; the chain uses the largest and
     * pads the others with zero factors (exactly representable). */
    if (m == TD_TUCKER2) {
        f->n_ranks = 2;
        f->ranks[0] = max_ro;
        f->ranks[1] = max_ri;
        f->params = tucker2_params(l, max_ro, max_ri);
    } else {
        f->n_ranks = 1;
        f->ranks[0] = max_r;
        f->params = m == TD_CP ? cp_params(l, max_r) : svd_params(l, max_r);
    }
    f->rel_error = norm2 > 0 ? sqrt(err2 / norm2) : 0;
    if (b->moment && b->mean)
        s = bias_shift(l, w, b->mean, f, err);
done:
    td_whitenings_free(own, l->group);
    free(ww);
    if (s == TD_OK)
        f->macs = chain_macs(l, f);
    else
        td_err_prefix(err, "node '%s' (%s), weight '%s': ", l->name,
                      l->node->op_type, l->weight_name);
    return s;
oom:
    s = td_err_set(err, TD_ENOMEM, "out of memory");
    goto done;
}

int64_t td_chain_params(const td_layer *l, td_method m, const int64_t *r)
{
    switch (m) {
    case TD_TUCKER2: return tucker2_params(l, r[0], r[1]);
    case TD_CP: return cp_params(l, r[0]);
    case TD_SVD: return svd_params(l, r[0]);
    default: return td_layer_params(l);
    }
}

int64_t td_chain_macs(const td_layer *l, td_method m, const int64_t *r)
{
    td_factors f = {.method = m};
    f.ranks[0] = r[0];
    f.ranks[1] = m == TD_TUCKER2 ? r[1] : 0;
    return chain_macs(l, &f);
}

void td_factors_free(td_factors *f)
{
    for (int j = 0; j < f->groups; j++) {
        if (f->tucker2)
            td_tucker2_free(&f->tucker2[j]);
        if (f->cp)
            td_cp_free(&f->cp[j]);
        if (f->svd)
            td_svd_free(&f->svd[j]);
    }
    if (f->tr)
        td_tr_free(f->tr);
    free(f->tucker2);
    free(f->cp);
    free(f->svd);
    free(f->tr);
    free(f->bias_shift);
    memset(f, 0, sizeof *f);
}
