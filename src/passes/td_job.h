/* One layer's work inside the compression pass: its spectra (for a global
 * budget or EVBMF ranks) and its factoring, shared by td_compress.c (which
 * schedules) and td_plan.c (which allocates ranks across layers). */
#ifndef TD_JOB_H
#define TD_JOB_H

#include "td_passes.h"

typedef struct td_job {
    td_layer layer;
    size_t node_index;
    size_t scope;                   /* the graph it is in (td_scope.h) */
    const Onnx__TensorProto *bias;  /* the layer's constant bias, or NULL */
    td_factors chosen;
    td_factors vetoed;  /* with a latency probe: the best candidate the
                           cost model called slower (td_latency_judge) */
    td_factors runner_up;  /* with a latency probe: the best candidate
                              after chosen, for when chosen is measured
                              slower (td_latency_judge) */
    int lat_slow;       /* the chain was measured slower than the layer:
                           1 newly, 2 once the plan keeps the layer */
    int chosen_shared;  /* chosen belongs to o->reuse (td_reuse.h) */
    td_layer_report *rep;
    td_status st;
    td_err_t err;

    /* Spectra: tailk[r] = energy of mode k's singular values past the r-th
     * over ||W||^2 (summed over groups). Mode 0 is Cout (Tucker-2) or the
     * SVD rank; n1 == 0 for one mode. */
    int have_spectra;
    int64_t n0, n1;
    double *tail0, *tail1;
    double norm2;
    int64_t vbmf0, vbmf1;  /* EVBMF ranks of the modes (largest group's) */

    /* Activation statistics of the layer's input (borrowed; NULL: none):
     * spectra and factors are then output-weighted (td_whiten.h). */
    const double *moment;
    const double *mean;       /* channel means (Conv layers only) or NULL */
    const double *taps;       /* tap autocorrelation (Conv layers) or NULL */
    int64_t taps_lags;
    double rel_lambda;
    /* With the statistics' folds (rel_lambda chosen by cross-validation,
     * td_whiten_choose, when the whitening is first built): k of them,
     * borrowed; cv_k 0: rel_lambda as given */
    size_t cv_k;          /* cleared once chosen */
    double price_lambda;  /* with cv_m: the spectra's (the allocation's
                             price, the same for every layer) */
    const double *cv_m, *cv_mu;  /* cv_m kept once chosen: rel_lambda is
                                    (to be) chosen so */
    const int64_t *cv_count;
    const char *moment_name;  /* "FILE: tensor 'moment/X'" for errors */
    const double *metric;     /* K of a softmax it feeds (td_factor_request);
                                 borrowed, NULL: none */
    double metric_mu;
    td_whiten_t *whiten;      /* [group] S per group: built by the first
                                 phase that needs it, freed after factoring */

    /* The plan: ranks given from outside (global budget or EVBMF). */
    int planned;
    int plan_keep;
    int64_t r0, r1;
    double cost_cap;  /* the allocation's cost for this layer */
} td_job;

/* The weight as doubles in the layer's layout. */
td_status td_job_load_weight(const td_layer *l, double **w, td_err_t *err);

/* Fills the spectra fields (no-op for layers no rank-mode method fits, or
 * that no method of o's could factor at planned ranks). */
td_status td_job_spectra(td_job *j, const td_compress_opts *o, td_err_t *err);

/* Factors the layer: per-layer budget, or the plan when j->planned. */
void td_job_factor(td_job *j, const td_compress_opts *o);
/* The expected cost of td_job_factor, in arbitrary units, for progress:
 * the decompositions are SVDs (or sweeps of them) of the weight's
 * unfoldings, O(m n min(m, n)) for an m x n matrix; a layer the plan
 * keeps costs next to nothing. */
double td_job_cost(const td_job *j);

void td_job_free(td_job *j);

#endif
