/* Graph rewrites. Each pass takes the IR and options, returns a status and
 * fills its report; passes reach the graph only through td_graph.h. */
#ifndef TD_PASSES_H
#define TD_PASSES_H

#include <regex.h>
#include <stddef.h>

#include "graph/td_graph.h"
#include "graph/td_scope.h"
#include "graph/td_shape.h"
#include "graph/td_stats.h"
#include "td_factor.h"
#include "util/td_buf.h"

/* Which nodes a pass may touch (include/exclude patterns on node names). */
typedef struct td_node_filter {
    int (*accept)(void *ctx, const Onnx__NodeProto *n);
    void *ctx;
} td_node_filter;

/* Folds inference-mode BatchNormalization into the Conv before it. */
td_status td_pass_fold_bn(td_graph *g, const td_node_filter *filter,
                          size_t *count, td_err_t *err);

typedef enum td_global_kind { TD_GLOBAL_NONE, TD_GLOBAL_PARAMS, TD_GLOBAL_FLOPS } td_global_kind;

/* How a layer's estimated relative error counts in the global allocation:
 * as it is (every layer's relative error propagates to the output alike),
 * or scaled by the layer's squared weight norm over the mean (absolute
 * Frobenius error: layers with large weights matter more). */
#define TD_STATS_LAMBDA_CV (-1.0)

typedef enum td_sensitivity { TD_SENS_RELATIVE = 0, TD_SENS_ABSOLUTE } td_sensitivity;

typedef struct td_compress_opts {
    int method_auto;      /* per layer: the best applicable method */
    td_method method;     /* when not auto */
    td_factor_request budget;
    const regex_t *include, *exclude;  /* NULL: no pattern */
    int force;            /* keep chains that do not shrink the layer */
    int fold_bn;
    int threads;          /* 0: online CPUs */
    int64_t opset;        /* the model's ai.onnx opset */
    /* Static spatial sizes per layer, when a caller knows them: called for
     * each layer's node to fill in_sp/out_sp (may be NULL). */
    void (*shapes)(void *ctx, td_layer *l);
    void *shapes_ctx;
    /* Values for symbolic input dims; the pass infers shapes itself (after
     * folding BN) so that every layer gets its spatial sizes. */
    const td_dim_value *dims;
    size_t n_dims;

    /* A global budget: the model keeps target x its parameters (or x the
     * MACs of its Conv/Gemm/MatMul layers); ranks are allocated across
     * layers from their spectra, then each layer is factored once. */
    td_global_kind global;
    double target;
    /* With global == TD_GLOBAL_PARAMS: the Conv/Gemm/MatMul MACs must also
     * stay within this fraction (0: no second budget). */
    double also_flops;
    td_sensitivity sensitivity;
    /* Ranks from EVBMF on the channel unfoldings, weakened toward full. */
    int vbmf;
    double vbmf_weaken;   /* (0, 1]; 1: the EVBMF rank itself */
    int64_t rank_multiple;  /* >= 1; 0: td_plan_alloc_opts' default */
    int64_t min_rank;       /* >= 1 */
    int allow_slower;       /* keep chains the cost model says are slower */
    /* Activation statistics (NULL: data-free): layers whose input has a
     * moment there are factored, and weighed by the global allocation,
     * by their output error (td_whiten.h); the others stay data-free. */
    const td_stats *stats;
    double stats_lambda;    /* rel_lambda of td_whiten.h; 0: the default;
                               TD_STATS_LAMBDA_CV: each layer's chosen by
                               cross-validation where the statistics have
                               folds (td_whiten.h), the default elsewhere */
    /* With stats holding a softmax's metric (fisher/Z, td_stats.h): the
     * Gemm / MatMul feeding it is factored, and weighed, by the softmax's
     * metric with this share of the plain output error
     * (decompose/svd_metric.c); 0: by the plain output error */
    double softmax_mu;
    /* Data-free: leave heads and first layers as they are (td_protect.h) */
    int protect;
    /* With calibration inputs: the sequential refit after the pass
     * (src/calib/td_calib_refit.c), refit_waves groups of chains */
    int refit;
    int refit_chain;    /* with refit: a chain of two pointwise factors has
                           both refitted (td_calib_refit_chain.c) */
    size_t refit_waves;
    /* Data-free: a layer whose chain's rel. error would pass this stays
     * as it is (under a global budget the others make up for it); 0: no
     * cap */
    double max_layer_error;
    /* Called after each layer is factored (from worker threads, serialised
     * by the pass); may be NULL. */
    void (*progress)(void *ctx, size_t done, size_t total);
    /* When set, called instead, with the expected work done and in all
     * too (td_job_cost), for an estimate of the time left. */
    void (*progress_work)(void *ctx, size_t done, size_t total,
                          double work_done, double work_total);
    void *progress_ctx;
    /* Every graph of the model (td_scope.h), whose layers are factored
     * too; borrowed, its scope 0 must be the graph passed. NULL: the pass
     * takes the graph and its sub-graphs (no model-local functions). */
    td_scopes *scopes;
    /* Times a layer and a chain in the runtime (td_latency.h); NULL: the
     * never-slower rule uses the cost model alone. Borrowed. */
    const struct td_latency_probe *probe;
    /* Spectra and factors kept between compressions of forks of one model
     * (td_reuse.h); NULL: none. */
    struct td_reuse *reuse;
    /* A factor on each layer's error in the global allocation, by the
     * layer's name (measured sensitivity, src/calib/td_calib_sens.c); 1
     * for a layer it has none for. NULL: none. */
    double (*layer_weight)(void *ctx, const char *layer);
    void *layer_weight_ctx;
} td_compress_opts;

/* One candidate tried for a layer. */
typedef struct td_candidate {
    td_method method;
    int64_t ranks[TD_MAX_MODES + 1];
    int n_ranks;
    int64_t params, macs;
    double rel_error;
    int failed;  /* e.g. no rank met the tolerance */
    int slower;  /* the cost model predicts it slower than the layer */
} td_candidate;

typedef struct td_layer_report {
    const char *node, *op;
    const char *output;  /* the layer's output value (its chain's) */
    td_method method;  /* TD_KEEP when the original stays */
    const char *note;  /* why it was kept, if it was; or that it had no
                          activation statistics (arena text) */
    int64_t ranks[TD_MAX_MODES + 1];
    int n_ranks;
    int64_t params_before, params_after, macs_before, macs_after;
    double rel_error, seconds;
    double est_error;  /* the allocation's estimate, -1 when none */
    double est_seconds_before, est_seconds_after;  /* cost model, -1: none */
    int weighted;      /* factored against activation statistics */
    double act_lambda; /* its rel_lambda when chosen by cross-validation;
                          0: not chosen so */
    int softmax_metric;  /* and in the metric of the softmax it feeds */
    int kept_for_speed;  /* every chain predicted slower than the layer */
    int over_error_cap;  /* kept: its error would pass max_layer_error */
    double slower_by;  /* a chain the user named, written though predicted
                          slower: its time over the layer's; 0 otherwise */
    td_candidate cand[6];
    int n_cand;
    /* where the speed verdict came from (td_latency.h: TD_LAT_*), and the
     * layer's and the chain's measured medians when timed (or cached) */
    int lat_source;
    int lat_timed, lat_cached;
    double lat_layer_ms, lat_chain_ms;
    /* chain/layer per round: quartiles and median; 0: unknown */
    double lat_ratio_q1, lat_ratio_median, lat_ratio_q3;
    int lat_chains_timed;  /* chains measured (the chosen one measured
                              slower, the runner-up after it) */
    double lat_predicted;  /* the cost model's chain/layer ratio for the
                              chain timed; 0 when it has none */
    /* tensor ring only */
    int tr_shift;
    int64_t tr_r0;
} td_layer_report;

typedef struct td_skip_report {
    const char *node, *op, *reason;
} td_skip_report;

/* The compressed model run against the original (src/calib/), per output
 * as `onnxtd eval` measures it: plain numbers for the report. */
typedef struct td_measured_output {
    char *name;
    double rel_l2, max_abs, cosine;
    double agreement;      /* top-1 agreement of class scores; < 0: not
                              class scores */
    double iou_min, iou_mean;  /* a probability map's mask IoU per input
                                  (and channel), the lowest and the mean;
                                  < 0: no map */
    size_t iou_empty;      /* maps left out of them: both nearly empty
                              (eval/td_eval_internal.h) */
    int state;             /* shaped like one of the inputs: a state the
                              caller feeds back (an RNN's) */
    char *state_input;     /* with state: that input's name */
} td_measured_output;

/* The caller's own evaluation of a model (the public onnxtd_judge_fn):
 * fn scores the ONNX file at path; non-zero with msg set stops. Run by
 * src/calib/td_calib_judge.c. */
typedef struct td_judge {
    int (*fn)(void *ctx, const char *path, double *score, char *msg,
              size_t msg_len);
    void *ctx;
    const char *name;   /* in messages and the report */
} td_judge;

/* The longest output name a bound step keeps (longer ones are cut). */
#define TD_BOUND_NAME_LEN 96

/* One compression the output-error bound's search tried (src/calib/
 * td_calib_bound.c): the budget, and what was measured on it. */
typedef struct td_bound_step {
    double target;         /* the budget's fraction tried */
    double also_flops;     /* the second (MACs) budget's; 0: none */
    int planned;           /* 0: the allocation cannot reach it */
    double rel_l2;         /* the largest over the outputs */
    double agreement;      /* the lowest over class scores; < 0: none */
    double iou;            /* the lowest mask IoU over probability maps
                              and inputs; < 0: none */
    int within;            /* both within the bound */
    double score;          /* the judge's (td_bound_report.judge); NAN:
                              none */
    double seconds;
    /* the outputs judged, and which one gave each extreme above (a name
     * truncated to fit; "" when none): what a refusal names, so that the
     * user of a many-output model sees which output holds it back */
    size_t n_judged;
    char rel_l2_at[TD_BOUND_NAME_LEN], agreement_at[TD_BOUND_NAME_LEN],
        iou_at[TD_BOUND_NAME_LEN];
} td_bound_step;

/* Compressions tried at most: the first at the budget asked, then
 * bisection halving a bracket of at most 0.95 to 0.02 (6 steps). */
#define TD_BOUND_MAX_STEPS 8

typedef struct td_bound_report {
    double max_error;      /* rel. L2 of every output at most this; < 0:
                              none, min_agreement alone bounds */
    const char *const *outputs;  /* the outputs judged (borrowed); NULL:
                                    every one */
    size_t n_outputs;
    double min_agreement;  /* top-1 agreement of class scores; < 0: none */
    double min_iou;        /* mask IoU of probability maps on every input;
                              < 0: none */
    double iou_threshold;  /* the maps binarised at: > it is on */
    const td_judge *judge; /* the caller's evaluation (borrowed); NULL:
                              none */
    double min_score;      /* with judge: a score of at least this */
    double score_original; /* with judge: the original model's */
    td_global_kind kind;   /* the budget's unit */
    double asked;          /* the budget asked for; 0: none (the smallest
                              model within the bound was searched for) */
    double asked_flops;    /* a second MAC budget asked for; 0: none */
    double chosen;         /* the budget written (met) or the most
                              compression found within the bound; 0: none */
    double chosen_flops;
    int met;               /* the model written is within the bound */
    td_bound_step steps[TD_BOUND_MAX_STEPS];
    size_t n_steps;
    size_t model_runs;     /* runs of a whole model in the runtime, the
                              final measurement's untimed ones and the
                              steps' refits included */
    size_t refit_runs;     /* of them, the steps' refits' (their own
                              sessions, which the calibration's count of
                              runs does not see) */
    double seconds;        /* the search, final compression excluded */
    double cpu_seconds;    /* the process's CPU time over the same */
    int best_step;         /* td_reuse step of the best within; -1: none */
    /* layers factored, and taken from earlier steps instead (td_reuse.h),
     * over the search and the final compression */
    size_t layers_factored, layers_reused;
} td_bound_report;

/* The measured sensitivity used by the allocation (td_calib_sens.c). */
typedef struct td_sens_info {
    size_t layers, groups;  /* layers probed, in groups of consecutive ones */
    size_t inputs;          /* calibration inputs the probes ran on */
    size_t model_runs;      /* whole-model runs (0: read from the cache) */
    double seconds;
    int from_cache;         /* read from the cache file */
    double dev_all;         /* every probe at once: the largest output rel.
                               L2 (-1: read from the cache) */
    double w_min, w_max;    /* the weights' range (mean 1) */
    const char *cache;      /* the cache file, or NULL */
} td_sens_info;
/* The sequential refit (src/calib/td_calib_refit.c): what it did. */
typedef struct td_refit_report {
    size_t refitted, skipped, waves, model_runs;
    size_t whole;            /* of refitted: both factors chosen anew */
    double lambda_median;    /* of the ridges cross-validation chose for
                                the refitted chains (rel_lambda) */
    double seconds;
    double before, after;    /* mean over the refitted chains of the
                                calibration rel. squared output error */
    const char *first_skip;  /* why the first skipped chain was (static) */
} td_refit_report;

/* --act-lambda auto: the candidates' held-out deviation at the budget
 * asked, and the one kept (src/calib/td_calib_lambda.c). */
#define TD_LAMBDA_AUTO_MAX 4
typedef struct td_lambda_choice {
    size_t n;
    double value[TD_LAMBDA_AUTO_MAX];      /* TD_STATS_LAMBDA_CV: cv */
    double deviation[TD_LAMBDA_AUTO_MAX];  /* the largest rel. L2 judged */
    /* the lowest agreement and mask IoU judged (< 0: none) and the share
     * of the bound used (td_bound_use; 0 without a bound), which chose;
     * by_floor: a floor of the bound was measured (then reported) */
    int by_floor;
    double agreement[TD_LAMBDA_AUTO_MAX], iou[TD_LAMBDA_AUTO_MAX];
    double use[TD_LAMBDA_AUTO_MAX];
    double score[TD_LAMBDA_AUTO_MAX];      /* the judge's; NAN: none */
    size_t chosen;
    size_t samples;       /* held-out inputs measured */
    size_t model_runs;
    double seconds;
} td_lambda_choice;

typedef struct td_measured {
    size_t samples;        /* inputs the deviation is over */
    size_t calib_samples;  /* inputs the statistics are over */
    int on_calibration;    /* no input was held out: measured on the
                              calibration inputs themselves */
    int in_loop;           /* each model ran the inputs in its own loop,
                              its state outputs fed back (--state) */
    td_measured_output *out;
    size_t n_out;
    double iou_threshold;  /* the probability maps' mask IoU binarised at */
    size_t runs;           /* timed runs per model; 0: not timed */
    double ms_before, ms_after;  /* median latency per run */
    char runtime[48];      /* ONNX Runtime's version */
    /* gathering the statistics: wall-clock seconds, and the process's
     * peak resident memory when it was done (0: unknown) */
    double stats_seconds;
    size_t stats_peak_rss;
    const td_bound_report *bound;  /* the output-error bound, when one was
                                      kept (borrowed); NULL: none */
    const td_sens_info *sens;      /* measured sensitivity used (borrowed);
                                      NULL: none */
    int have_refit;                /* the chains were refitted: refit */
    td_refit_report refit;
    const td_lambda_choice *lambda_auto;  /* borrowed; NULL: not asked */
    /* the caller's judge on this model (the bound's judge; NAN: none),
     * and its name (borrowed) */
    double score;
    const char *judge;
    /* no calibration inputs: nothing but the judge's score was measured
     * (no outputs, no inputs, no runtime) */
    int judge_only;
} td_measured;

void td_measured_free(td_measured *m);

/* The measured deviation as a JSON value (null when m is NULL), as text
 * lines (nothing when NULL) and as HTML table rows (td_report_measured.c). */
void td_report_measured_json(td_buf *b, const td_measured *m);
void td_report_measured_text(td_buf *b, const td_measured *m);
void td_report_measured_html(td_buf *b, const td_measured *m,
                             void (*esc)(td_buf *, const char *));
/* The output-error bound's search (null / nothing when br is NULL;
 * td_report_bound.c). */
void td_report_bound_json(td_buf *b, const td_bound_report *br);
void td_report_bound_text(td_buf *b, const td_bound_report *br);
/* "max_error 0.05 and min_agreement 0.98", as messages name the bound. */
void td_bound_str(const td_bound_report *br, char *buf, size_t len);
/* Is name among outputs[0..n) (every name when n is 0)? The outputs a
 * bound judges, and measured sensitivity measures. */
int td_outputs_name(const char *const *outputs, size_t n, const char *name);
/* Does the bound judge output name (every one when br lists none)? */
int td_bound_judges(const td_bound_report *br, const char *name);
/* The refit (null / nothing when rr is NULL; td_report_refit.c). */
void td_report_refit_json(td_buf *b, const td_refit_report *rr);
void td_report_refit_text(td_buf *b, const td_refit_report *rr);

typedef struct td_compress_report {
    td_layer_report *layers;
    size_t n_layers;
    td_skip_report *skipped;
    size_t n_skipped;
    size_t bn_folded;
    int64_t model_params_before, model_params_after;
    /* MACs of the layers not in layers because include/exclude or
     * protection left them as they are: they count in a FLOPs budget */
    double macs_left_out;
    double seconds;
    td_global_kind global;
    double target;         /* the fraction asked for */
    double planned;        /* the fraction the allocation reached */
    double also_flops;     /* the MACs fraction asked for too (0: none) */
    double planned_flops;  /* and the one reached */
    const char *budget_note;  /* static text when the target is unmet */
    /* with statistics: the layers factored by output error, and those the
     * file had nothing for (data-free) */
    size_t n_weighted, n_unweighted;
    size_t n_softmax_metric;  /* of n_weighted, in a softmax's metric */
    int have_stats;
    /* the measured deviation, filled in after the pass by a caller that
     * ran the models (NULL: not measured); borrowed */
    const td_measured *measured;
    /* for the HTML overview, filled in by the caller (NULL: not shown):
     * the model's path, the command line, the options in words and the
     * tool's version; borrowed */
    const char *model_name, *command, *options, *version;
    /* the whole model timed against the original (td_latency.h), filled
     * in the same way (NULL: not attempted); borrowed */
    const struct td_speed *speed;
    /* the per-layer measurement (td_latency.h): layers timed, taken from
     * the cache, and the seconds spent timing; filled in by the caller */
    size_t lat_timed, lat_cached;
    size_t lat_over_time;  /* left to the cost model: timing time spent */
    double lat_seconds;
    int lat_probed;        /* a probe was given: the runtime was there */
} td_compress_report;

/* Adds graph outputs "gram/X" (sum of x x^T over positions, FLOAT C x C)
 * and "rows/X" (INT64 [positions, C]) for the input X of every layer the
 * compression pass can factor, and "gram/fisher/Z", "rows/fisher/Z" for
 * each Gemm / MatMul (output Z) feeding a softmax (td_stats_model.c);
 * *count: how many X. */
td_status td_pass_stats_outputs(td_graph *g, int64_t opset, size_t *count,
                                td_err_t *err);

td_status td_pass_compress(td_graph *g, const td_compress_opts *o,
                           td_compress_report *r, td_err_t *err);
void td_compress_report_free(td_compress_report *r);

/* JSON report (issue format) and a human-readable table. */
char *td_compress_report_json(const td_compress_report *r);
/* Why a kept layer (method TD_KEEP) stays: its note. */
const char *td_layer_keep_reason(const td_layer_report *l);
char *td_compress_report_table(const td_compress_report *r);
char *td_compress_report_html(const td_compress_report *r);
/* Data-free layers factored beyond a sane error (td_report_warn.c). */
void td_report_warn_text(td_buf *b, const td_compress_report *r);

#endif
