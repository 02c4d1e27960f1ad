#include "td_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decompose/td_range.h"
#include "graph/td_tensor.h"

#define T(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

/* A value as the writer stores it (td_tensor_from_double: through float),
 * read back. */
static double round_f16(double x) { return td_f16_to_f32(td_f32_to_f16((float)x)); }
static double round_bf16(double x) { return td_bf16_to_f32(td_f32_to_bf16((float)x)); }
static double round_f32(double x) { return (double)(float)x; }

/* The format of dtype, or NULL when factors are written as computed. */
static const td_format_t *format_of(int32_t dtype)
{
    static const td_format_t f16 = {65504.0, 0x1p-14, round_f16};
    static const td_format_t bf16 = {0x1.fep127, 0x1p-126, round_bf16};
    static const td_format_t f32 = {0x1.fffffep127, 0x1p-126, round_f32};
    switch (dtype) {
    case T(FLOAT16): return &f16;
    case T(BFLOAT16): return &bf16;
    case T(FLOAT): return &f32;
    default: return NULL;
    }
}

static const char *overflow_note(int32_t dtype)
{
    switch (dtype) {
    case T(FLOAT16): return "its factors overflow float16 even after rebalancing";
    case T(BFLOAT16): return "its factors overflow bfloat16 even after rebalancing";
    default: return "its factors overflow float even after rebalancing";
    }
}

static const char *bias_note(int32_t dtype)
{
    switch (dtype) {
    case T(FLOAT16): return "its bias plus the mean shift overflows float16";
    case T(BFLOAT16): return "its bias plus the mean shift overflows bfloat16";
    default: return "its bias plus the mean shift overflows float";
    }
}

/* Every group's factors into fmt; TD_ENUMERIC when one cannot be. */
static td_status fit_all(td_factors *f, const td_format_t *fmt, int *balanced,
                         td_err_t *err)
{
    td_status s = TD_OK;
    for (int j = 0; j < f->groups && !s; j++)
        switch (f->method) {
        case TD_TUCKER2:
            s = td_tucker2_fit_format(&f->tucker2[j], fmt, balanced, err);
            break;
        case TD_CP: s = td_cp_fit_format(&f->cp[j], fmt, balanced, err); break;
        case TD_SVD: s = td_svd_fit_format(&f->svd[j], fmt, balanced, err); break;
        default: break;
        }
    if (!s && f->tr)
        s = td_tr_fit_format(f->tr, fmt, balanced, err);
    return s;
}

/* The chain's weight (the layer's layout) into out. */
static td_status chain_weight(const td_layer *l, const td_factors *f,
                              double *out, td_err_t *err)
{
    if (f->tr) {
        double *full = NULL;
        td_status s = td_tr_full(f->tr, &full, err);
        if (!s)
            memcpy(out, full, (size_t)(l->cout * l->cin * td_layer_kernel_size(l)) *
                                  sizeof *out);
        free(full);
        return s;
    }
    size_t block = (size_t)(l->cout / l->group * l->cin_g * td_layer_kernel_size(l));
    td_status s = TD_OK;
    for (int j = 0; j < f->groups && !s; j++) {
        double *o = out + (size_t)j * block;
        switch (f->method) {
        case TD_TUCKER2: s = td_tucker2_full(&f->tucker2[j], o, err); break;
        case TD_CP: s = td_cp_full(&f->cp[j], o, err); break;
        default: td_svd_full(&f->svd[j], o); break;
        }
    }
    return s;
}

/* ||W - chain|| / ||W||, or with statistics ||(W - chain) S|| / ||W S||
 * (plus the mean's share in the norm where td_factor_layer counts it). */
static td_status written_error(const td_layer *l, const double *w,
                               const td_factor_request *b, const td_factors *f,
                               double *rel, td_err_t *err)
{
    size_t n = (size_t)(l->cout * l->cin_g * td_layer_kernel_size(l));
    double *d = malloc(n * sizeof *d), *ws = NULL, *ds = NULL;
    td_status s = d ? chain_weight(l, f, d, err)
                    : td_err_set(err, TD_ENOMEM, "out of memory");
    if (s)
        goto out;
    for (size_t q = 0; q < n; q++)
        d[q] = w[q] - d[q];
    const double *num = d, *den = w;
    double extra = 0;
    if (b->moment) {
        if (!(ws = malloc(n * sizeof *ws)) || !(ds = malloc(n * sizeof *ds))) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto out;
        }
        if ((s = td_factor_whiten_weight(l, w, b, ws, err)) ||
            (s = td_factor_whiten_weight(l, d, b, ds, err)))
            goto out;
        num = ds;
        den = ws;
        int64_t g = l->group, cg = l->cout / g, K = td_layer_kernel_size(l);
        for (int64_t j = 0; !f->tr && b->mean && td_factor_centred(l, b->mean) &&
                            j < g; j++)
            extra += td_mean_energy(w + (size_t)(j * cg * l->cin_g * K), cg,
                                    l->cin_g, K, b->mean + j * l->cin_g);
    }
    double e2 = 0, n2 = extra;
    for (size_t q = 0; q < n; q++) {
        e2 += num[q] * num[q];
        n2 += den[q] * den[q];
    }
    *rel = n2 > 0 ? sqrt(e2 / n2) : 0;
out:
    free(d);
    free(ws);
    free(ds);
    return s;
}

td_status td_fit_dtype(const td_layer *l, const double *w, const td_factor_request *b,
                       const Onnx__TensorProto *bias, td_factors *f,
                       const char **refusal, td_err_t *err)
{
    const td_format_t *fmt = format_of(l->dtype);
    *refusal = NULL;
    if (!fmt)
        return TD_OK;
    int balanced = 0;
    td_err_t why = {0};
    if (fit_all(f, fmt, &balanced, &why) == TD_ENUMERIC) {
        *refusal = overflow_note(l->dtype);
        return TD_OK;
    }
    if (f->bias_shift) {
        double *v = NULL;
        int64_t nb = 0;
        if (bias) {
            td_status s = td_tensor_to_double(bias, &v, &nb, err);
            if (s)
                return s;
        }
        for (int64_t o = 0; o < l->cout && !*refusal; o++)
            if (!isfinite(fmt->round((o < nb ? v[o] : 0) + f->bias_shift[o])))
                *refusal = bias_note(l->dtype);
        free(v);
        if (*refusal)
            return TD_OK;
    }
    /* Rounding to float16 adds about 5e-4 of relative error in quadrature
     * (a few half-ulps of 2^-11): it changes an error of 1e-2 or more by
     * at most ~0.1 %, so only smaller ones are measured again, and the
     * rebuilt weight (as costly as a sweep of the method) is not paid for
     * layers compressed far below exactness. */
    if (balanced || (l->dtype != T(FLOAT) && f->rel_error < 1e-2))
        return written_error(l, w, b, f, &f->rel_error, err);
    return TD_OK;
}
