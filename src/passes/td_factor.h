/* The numerics side of compressing one layer: choose ranks for a method
 * under a budget and compute the factors, one decomposition per group. The
 * weight is given as doubles in the layer's own layout (Conv: cout x cin_g x
 * kernel; Gemm/MatMul: cout x cin, i.e. the effective weight transposed). */
#ifndef TD_FACTOR_H
#define TD_FACTOR_H

#include "decompose/td_decompose.h"
#include "decompose/td_whiten.h"
#include "td_layer.h"

typedef enum td_method {
    TD_KEEP = 0,
    TD_TUCKER2,
    TD_CP,
    TD_SVD,
    TD_TR,
    TD_RSDTR
} td_method;

const char *td_method_name(td_method m);

typedef enum td_budget_kind { TD_BUDGET_RANK, TD_BUDGET_RATIO, TD_BUDGET_TOL } td_budget_kind;

typedef struct td_factor_request {
    td_budget_kind kind;
    int64_t rank;
    int64_t rank_in;      /* > 0 with TD_BUDGET_RANK: Tucker-2's r_in */
    int cp_sweeps;        /* > 0: ALS sweep cap for CP */
    double ratio;
    double tol;
    int64_t cp_max_rank;  /* > 0: CP under a tolerance tries no higher rank */
    int max_sweeps;       /* HOOI / ALS sweep cap (0: the numerics' default) */
    double fit_tol;       /* stop when the relative fit change is below */
    /* Activation statistics of the layer's input (NULL: none): the Cin x Cin
     * channel moment E[x x^T]; the factors then minimise the output error
     * (td_whiten.h) and rel_error is that weighted error. Group j uses the
     * diagonal block of its channels. */
    const double *moment;
    /* With moment, the Cin channel means (NULL: none): the factors' mean
     * output shift goes into the bias (td_factors.bias_shift; td_whiten.h),
     * and where that is exact (td_factor_centred) S comes from the
     * covariance instead of the moment. */
    const double *mean;
    double rel_lambda;    /* regularisation of the moment, see td_whiten.h */
    /* With moment, for a Conv of kernel wider than 1: the input's
     * autocorrelation along each spatial axis (nsp rows of taps_lags
     * values; td_whiten.h, "Taps"), so the factors weigh the taps' errors
     * as the correlated input does. NULL: taps taken as uncorrelated. */
    const double *taps;
    int64_t taps_lags;
    /* S per group when already built from moment (td_factor_whitenings;
     * NULL: built here), and what errors about the moment call it. */
    const td_whiten_t *whiten;
    const char *moment_name;
    /* With moment and whiten, for a Gemm / MatMul feeding a softmax: K =
     * W^T G W (cin x cin), the softmax's metric (decompose/svd_metric.c),
     * blended with metric_mu of the plain output error; the SVD then
     * minimises, and rel_error is, the error in that metric. NULL: none. */
    const double *metric;
    double metric_mu;
} td_factor_request;

typedef struct td_factors {
    td_method method;
    int groups;
    int64_t taps;  /* svd: kernel taps per input channel in its right
                      factor (1 but for a one-input-channel conv) */
    int64_t ranks[TD_MAX_MODES + 1];  /* tucker2: r_out, r_in; cp: R;
                                         svd: r; tr: the ring ranks */
    int n_ranks;
    int64_t params;    /* of the chain as stored in the file, bias included */
    int64_t macs;      /* of the chain; -1 when shapes are unknown */
    double rel_error;  /* over the whole weight (output-weighted when
                          b->moment was given: ||(W - W~) S|| / ||W S||) */
    int weighted;      /* factored against activation statistics */
    double *bias_shift;  /* cout values to add to the chain's bias, or NULL:
                            sum (W - W~) mu over channels and taps */
    td_tucker2_t *tucker2;  /* [groups] */
    td_cp_t *cp;            /* [groups] */
    td_svd_t *svd;          /* [groups] */
    td_tr_t *tr;            /* [1] */
} td_factors;

/* Does the method apply to this layer at all? */
int td_method_applies(const td_layer *l, td_method m);
/* Why method m does not apply to the layer (static text naming what to
 * use instead), or NULL when it does. */
const char *td_method_why_not(const td_layer *l, td_method m);

/* Do the factors fit the covariance (mean given, and the bias takes the
 * mean shift exactly)? Not for a spatial kernel with zero padding: at the
 * borders the taps outside see 0, not the mean, so their share of the
 * shift would reach the output; fitting the moment keeps each tap's mean
 * response small there, and the bias still takes the interior's shift. */
int td_factor_centred(const td_layer *l, const double *mean);

/* Computes factors for l with method m under budget b. err names the node. */
td_status td_factor_layer(const td_layer *l, const double *w, td_method m,
                          const td_factor_request *b, td_factors *out, td_err_t *err);

void td_factors_free(td_factors *f);

/* S (and S^-1) of each group's channels from b->moment: *out has
 * l->group entries; free with td_whitenings_free. */
td_status td_factor_whitenings(const td_layer *l, const td_factor_request *b,
                               td_whiten_t **out, td_err_t *err);
void td_whitenings_free(td_whiten_t *w, int64_t groups);

/* One group's weight wj (cg, cin_g, K) whitened into out: its channel
 * mode times S, its spatial modes times the taps' T_s (td_whiten.h). */
td_status td_factor_whiten_block(const td_whiten_t *wh, const double *wj,
                                 int64_t cg, int64_t cin_g, int64_t K,
                                 double *out, td_err_t *err);
/* out (the weight's size) <- every group's weight whitened as above, from
 * b->moment (and b->taps): the weight whose plain spectra are the
 * output-weighted ones. */
td_status td_factor_whiten_weight(const td_layer *l, const double *w,
                                  const td_factor_request *b, double *out,
                                  td_err_t *err);

/* Parameters (bias included) and MACs (-1 when shapes are unknown) of the
 * chain method m would build at these ranks (its td_method_ops). */
int64_t td_chain_params(const td_layer *l, td_method m, const int64_t *ranks);
int64_t td_chain_macs(const td_layer *l, td_method m, const int64_t *ranks);

#endif
