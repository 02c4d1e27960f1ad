/* onnxtd: compress convolutional networks in ONNX files with tensor
 * decompositions (Tucker-2, CP, tensor ring, SVD), and the lossless model
 * I/O underneath.
 *
 * Conventions: every function that can fail returns an onnxtd_status and
 * fills *err (which may be NULL) with a message naming the file and the
 * element (node, tensor, field) concerned. Handles are opaque; whoever calls
 * a _load/_new function calls the matching _free. Strings returned through
 * char ** are malloc'd and freed by the caller with free(). A NULL handle,
 * options or out pointer where one is needed is ONNXTD_EUSAGE naming the
 * argument. Messages name the options' fields. No function
 * prints, exits or keeps global state; distinct models may be used from
 * distinct threads. */
#ifndef ONNXTD_H
#define ONNXTD_H

#include <stddef.h>
#include <stdint.h>

#include "onnxtd_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden symbols (-fvisibility=hidden): what is
 * declared here is what the shared library exports. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* The library's version, ONNXTD_VERSION when the program was compiled
 * against the same release (ONNXTD_VERSION_MAJOR/MINOR/PATCH are numbers). */
const char *onnxtd_version(void);

typedef enum onnxtd_status {
    ONNXTD_OK = 0,
    ONNXTD_EINPUT = 1,   /* malformed or unsupported model or data */
    ONNXTD_EIO = 2,      /* reading or writing a file failed */
    ONNXTD_ENOMEM = 3,   /* out of memory, or over a size bound */
    ONNXTD_ENUMERIC = 4, /* NaN/Inf weights or a LAPACK failure */
    ONNXTD_EUSAGE = 5,   /* invalid options */
    ONNXTD_EUNMET = 6    /* valid options, but the budget or bound asked for
                            cannot be met on this model (the message says
                            what can be reached); the CLI exits 1 */
} onnxtd_status;

typedef struct onnxtd_error {
    onnxtd_status code;
    char message[1024];
} onnxtd_error;

typedef struct onnxtd_model onnxtd_model;

/* ---- loading and saving ---------------------------------------------- */

typedef struct onnxtd_load_options {
    int max_depth;     /* message nesting limit; 0: 100 */
    size_t mem_limit;  /* bytes; 0: the machine's physical memory */
} onnxtd_load_options;

/* opts may be NULL. External data is read from the model's folder. */
onnxtd_status onnxtd_model_load(const char *path,
                                const onnxtd_load_options *opts,
                                onnxtd_model **out, onnxtd_error *err);
void onnxtd_model_free(onnxtd_model *m);

/* A model from len bytes at data (copied: data may be freed after);
 * messages call it "memory". opts may be NULL. A model whose tensors refer
 * to external data is refused (EINPUT): there is no folder to read it
 * from. */
onnxtd_status onnxtd_model_load_memory(const void *data, size_t len,
                                       const onnxtd_load_options *opts,
                                       onnxtd_model **out, onnxtd_error *err);

typedef struct onnxtd_save_options {
    const char *external_data;  /* NULL: inline everything */
    size_t size_threshold;      /* tensors of at least this many bytes go to
                                   external_data (the CLI's default: 1024);
                                   under 128 bytes (shape arguments a runtime
                                   reads while loading) always stay inline */
} onnxtd_save_options;

/* Atomic (temp file, fsync, rename) and checked as onnxtd_outputs_check
 * does: path and the external_data file beside it must each be absent or a
 * regular file the user may write, in an existing folder; neither may be a
 * file the model was read from, nor the other (onnxtd_outputs_write with
 * in_place replaces the loaded model). A replaced file keeps its mode. */
onnxtd_status onnxtd_model_save(onnxtd_model *m, const char *path,
                                const onnxtd_save_options *opts,
                                onnxtd_error *err);

/* The bytes onnxtd_model_save would write, in memory (*data: free()).
 * opts may be NULL; opts->external_data must be NULL (everything inline). */
onnxtd_status onnxtd_model_save_memory(onnxtd_model *m,
                                       const onnxtd_save_options *opts,
                                       unsigned char **data, size_t *len,
                                       onnxtd_error *err);

/* Writes len bytes to path the same atomic, checked way. */
onnxtd_status onnxtd_write_file(const char *path, const void *data,
                                size_t len, onnxtd_error *err);

/* ---- several outputs, all or nothing -------------------------------------- */

typedef struct onnxtd_output_file {
    const char *path;
    const char *role;  /* how messages name it ("--report"); NULL: "output" */
    const void *data;  /* the bytes (not needed by onnxtd_outputs_check) */
    size_t len;
} onnxtd_output_file;

/* What a command reads and writes: the loaded model, saved to model_path
 * (with save's options) beside files (reports); reads lists other files
 * the work reads (activation statistics), data unused. */
typedef struct onnxtd_outputs {
    onnxtd_model *model;        /* borrowed; may be NULL */
    const char *model_path;     /* NULL: the model is not saved */
    const onnxtd_save_options *save;
    const onnxtd_output_file *files;
    size_t n_files;
    const onnxtd_output_file *reads;
    size_t n_reads;
    int in_place;               /* model_path may be, and replaces, the
                                   loaded model's file */
} onnxtd_outputs;

/* Call before the work: every output path resolved and checked (its folder
 * exists and takes files; absent or a writable regular file, links
 * followed), and compared by identity (device and inode; folder and name
 * when absent) with every file read -- the model, its external data, the
 * reads -- and every other output. A clash names both files. */
onnxtd_status onnxtd_outputs_check(const onnxtd_outputs *o,
                                   onnxtd_error *err);
/* Checks again, writes every output to a temp file in its folder, and
 * renames them over their targets only once all are complete: on failure
 * no target changes and no temp is left. */
onnxtd_status onnxtd_outputs_write(const onnxtd_outputs *o,
                                   onnxtd_error *err);

/* ---- inspection --------------------------------------------------------- */

/* A description of the model: IR version, opsets, producer, inputs and
 * outputs, op counts, parameters by dtype, and per Conv its geometry,
 * parameters and MACs. As JSON when json != 0, else as text. */
onnxtd_status onnxtd_model_info(onnxtd_model *m, int json, char **out,
                                onnxtd_error *err);

typedef struct onnxtd_dim_value {
    const char *name;  /* a dim_param of the graph inputs */
    int64_t value;
} onnxtd_dim_value;

/* A recurrent model's loop: the output named `output` of one run is the
 * input named `input` of the next (an RNN's state). */
typedef struct onnxtd_state_pair {
    const char *input;
    const char *output;
} onnxtd_state_pair;

/* The shape of one graph input, by name (dims[0..n_dims)). */
typedef struct onnxtd_input_shape {
    const char *input;
    const int64_t *dims;
    size_t n_dims;
} onnxtd_input_shape;

/* Checks that every dims[0..*n_dims) names a symbolic dimension of m's
 * inputs, then appends (up to cap entries in all) a value for each
 * symbolic dimension the input shapes cover; names added are borrowed
 * from m. An unknown input or dimension name, a rank or fixed dimension
 * that does not match, or two values for one dimension is ONNXTD_EUSAGE,
 * the message naming it and listing the names the model has. */
onnxtd_status onnxtd_input_dims(onnxtd_model *m,
                                const onnxtd_input_shape *shapes,
                                size_t n_shapes, onnxtd_dim_value *dims,
                                size_t *n_dims, size_t cap,
                                onnxtd_error *err);

/* onnxtd_model_info with dims[0..n_dims) giving symbolic dims a value. */
onnxtd_status onnxtd_model_info_dims(onnxtd_model *m, int json,
                                     const onnxtd_dim_value *dims,
                                     size_t n_dims, char **out,
                                     onnxtd_error *err);

/* Compares meaning, not bytes. *differ is 0 when the models are the same.
 * The report is JSON when json != 0, else text. */
onnxtd_status onnxtd_model_diff(onnxtd_model *a, onnxtd_model *b, int json,
                                char **report, int *differ, onnxtd_error *err);

/* What onnxtd_model_diff_opts leaves out (bits of ignore). */
enum {
    ONNXTD_DIFF_IGNORE_NAMES = 1,      /* node names, the graph's name */
    ONNXTD_DIFF_IGNORE_METADATA = 2,   /* metadata_props, producer name and
                                          version, model_version, domain */
    ONNXTD_DIFF_IGNORE_DOC_STRINGS = 4 /* every doc_string */
};

/* Tensors of one dtype and shape are the same when each element pair is
 * equal, both NaN, or both finite with |a - b| <= atol + rtol * |b|
 * (numpy.allclose, b from the second model); 0 and 0 compare exactly. */
typedef struct onnxtd_diff_options {
    double atol;
    double rtol;
    unsigned ignore;  /* ONNXTD_DIFF_IGNORE_* bits */
} onnxtd_diff_options;
#define ONNXTD_DIFF_OPTIONS_INIT {0.0, 0.0, 0u}

/* onnxtd_model_diff with a tolerance and fields left out; o may be NULL. */
onnxtd_status onnxtd_model_diff_opts(onnxtd_model *a, onnxtd_model *b,
                                     const onnxtd_diff_options *o, int json,
                                     char **report, int *differ,
                                     onnxtd_error *err);

/* ---- compression --------------------------------------------------------- */

typedef enum onnxtd_method {
    ONNXTD_METHOD_AUTO = 0,
    ONNXTD_METHOD_TUCKER2,
    ONNXTD_METHOD_CP,
    ONNXTD_METHOD_SVD,
    ONNXTD_METHOD_TR,
    ONNXTD_METHOD_RSDTR
} onnxtd_method;

/* The budget: one choice of how much each layer, or the model, keeps. */
typedef enum onnxtd_budget_kind {
    ONNXTD_BUDGET_NONE = 0,      /* the default: ratio 0.5 per layer */
    ONNXTD_BUDGET_RANK,          /* rank > 0 for each factored mode (capped
                                    by the layer's size) */
    ONNXTD_BUDGET_RATIO,         /* value in (0, 1]: per layer, the largest
                                    ranks whose chain keeps at most value x
                                    the layer's parameters */
    ONNXTD_BUDGET_TOL,           /* value in [0, 1): per layer, the smallest
                                    chain whose relative Frobenius error is
                                    at most value */
    ONNXTD_BUDGET_TARGET_PARAMS, /* value in (0, 1]: the model keeps this
                                    fraction of all its parameters
                                    (initializers and Constants); with
                                    also_flops in (0, 1], its MACs too */
    ONNXTD_BUDGET_TARGET_FLOPS,  /* value in (0, 1]: the Conv/Gemm/MatMul
                                    layers keep this fraction of their MACs
                                    (needs static shapes: see dims) */
    ONNXTD_BUDGET_VBMF           /* ranks from EVBMF on the channel
                                    unfoldings, weakened toward full:
                                    r = full - value x (full - r_evbmf),
                                    value in (0, 1] */
} onnxtd_budget_kind;

typedef struct onnxtd_budget {
    onnxtd_budget_kind kind;
    double value;        /* ratio, tol, target fraction or EVBMF weakening,
                            by kind */
    int64_t rank;        /* ONNXTD_BUDGET_RANK */
    double also_flops;   /* ONNXTD_BUDGET_TARGET_PARAMS; 0: none */
} onnxtd_budget;

typedef enum onnxtd_sensitivity {
    ONNXTD_SENSITIVITY_RELATIVE = 0, /* each layer's relative error weighs
                                        alike in the global allocation */
    ONNXTD_SENSITIVITY_ABSOLUTE,     /* scaled by the layer's weight norm */
    ONNXTD_SENSITIVITY_MEASURED      /* with calib: by how far each group of
                                        layers moves the outputs, measured
                                        (see sens_cache, sens_groups); no
                                        layer weighs under 0.1 of the
                                        mean */
} onnxtd_sensitivity;

/* Inputs held out of the calibration statistics: a quarter of them,
 * rounded up (none of a single input). */
#define ONNXTD_HOLDOUT_AUTO (-1L)

/* options.refit: the last factor of each chain, or both factors of a
 * chain of two pointwise ones. */
#define ONNXTD_REFIT_LAST 1
#define ONNXTD_REFIT_CHAIN 2

/* options.act_lambda: each layer's chosen by cross-validation over four
 * folds of the calibration inputs (consecutive inputs together; needs
 * options.calib): the value whose factors, fitted to the statistics of
 * three folds, leave the least output error on the fourth. */
#define ONNXTD_ACT_LAMBDA_CV (-1.0)
/* options.act_lambda: the model compressed at the budget asked with 0.1,
 * with 1 and with ONNXTD_ACT_LAMBDA_CV, each measured on the held-out
 * inputs; the one using the least of the bound is kept: the largest of
 * rel. L2 / max_error and, for min_iou and min_agreement, (1 - value) /
 * (1 - floor) over the outputs the bound judges (without a bound, or ties,
 * the least rel. L2). Needs options.calib, and with a bound a
 * target_params or target_flops budget. The report's
 * measured.act_lambda_auto gives every candidate's measurement. */
#define ONNXTD_ACT_LAMBDA_AUTO (-2.0)

/* The caller's own evaluation of a model (options.judge): the ONNX file
 * at model_path (written for this call and removed after it) scored into
 * *score, higher being better: a recogniser's character accuracy, a
 * detector's box F1 on the caller's own inputs. Returns 0, or non-zero
 * to stop the compression, with a message in msg (msg_len bytes, "" on
 * entry). Called from the thread that called onnxtd_compress. */
typedef int (*onnxtd_judge_fn)(void *ctx, const char *model_path,
                               double *score, char *msg, size_t msg_len);

/* Set by onnxtd_compress_options_init, which also sets size: a caller
 * built against an older, smaller struct passes its own size and the
 * fields past it take their defaults. */
typedef struct onnxtd_compress_options {
    size_t size;         /* sizeof(onnxtd_compress_options) at build time */
    onnxtd_method method;
    onnxtd_budget budget;
    const char *include; /* POSIX extended regex on node names, or NULL */
    const char *exclude;
    int force;           /* keep chains even when they do not shrink */
    int fold_bn;         /* fold BatchNormalization into the Conv before;
                            default 1 */
    int threads;         /* 0: the number of online CPUs */
    int max_sweeps;      /* HOOI/ALS sweep cap; default 10 */
    double fit_tol;      /* stop iterating when the relative fit changes by
                            less than this; default 1e-4 */
    /* Values for symbolic input dims (shapes give the layers' FLOPs). */
    const onnxtd_dim_value *dims;
    size_t n_dims;
    onnxtd_sensitivity sensitivity;  /* for the target budgets */
    int64_t rank_multiple;  /* ranks chosen by a global budget or EVBMF are
                               multiples of this; default 0: under a MACs
                               budget alone, multiples of
                               16 (ONNX Runtime's channel block) from 16
                               up on modes of 64 or more; any rank below
                               16 or on narrower modes */
    int64_t min_rank;       /* default 1 */
    int allow_slower;       /* keep chains the cost model says are slower */
    /* Activation statistics file (onnxtd_stats_model, then
     * tools/ort/calib_stats.js, or onnxtd_report_stats), or NULL:
     * data-free. With it, layers whose input has statistics are factored
     * to minimise their output error on the calibration data, and the
     * global allocation weighs them so. */
    const char *act_stats;
    double act_lambda;      /* relative regularisation in (0, 1e6],
                               ONNXTD_ACT_LAMBDA_CV or _AUTO; default 0.1 */
    /* Calibration inputs (the sources onnxtd_eval takes: test-data folders,
     * .npy/.pb files or folders, manifests), or NULL. The statistics are
     * then gathered here, by running the model in ONNX Runtime on one input
     * at a time (act_stats must be NULL), except on `holdout` inputs held
     * out; after compressing, the original and the compressed model are run
     * on those and the report carries the measured deviation per output and
     * the latency ratio. */
    const char *const *calib;
    size_t n_calib;
    long holdout;           /* >= 0: that many (0: none, the deviation is
                               measured on the calibration inputs);
                               default ONNXTD_HOLDOUT_AUTO */
    const char *ort_lib;    /* libonnxruntime.so.1 to load; NULL: the
                               default search (see onnxtd_eval_options) */
    int measure_runs;       /* timed runs of each model; default 10; 0: none */
    /* Called after each layer is factored, from the library's threads one
     * call at a time; may be NULL. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
    /* When set, called instead of progress (with progress_ctx), with the
     * expected work done and in all besides the layers: each layer weighs
     * what factoring it is expected to cost, so elapsed x (work_total -
     * work_done) / work_done estimates the time left where layer counts
     * would not (the biggest layers go first). */
    void (*progress_work)(void *ctx, size_t done, size_t total,
                          double work_done, double work_total);
    /* The command line that asked for this, or NULL: shown in the HTML
     * report. The model records "onnxtd.version" and "onnxtd.options" in
     * its metadata_props (what decides its bytes; no paths, so the same
     * input and options give the same file). */
    const char *command;
    /* With calib and a global budget (target_params/target_flops) or none
     * (budget.kind NONE): a bound on the measured
     * deviation of every model output on the held-out inputs, rel. L2 at
     * most max_error and, for class scores, top-1 agreement at least
     * min_agreement. A budget asked for is compressed to if its model
     * stays within the bound, else refused (ONNXTD_EUNMET) naming the
     * most compression within it; without a budget, the smallest model
     * within the bound is searched for (bisection on target_params).
     * 0: the defaults (ONNXTD_DEFAULT_MAX_ERROR, _MIN_AGREEMENT); < 0: no
     * bound (the deviation is only measured), except that max_error < 0
     * with min_agreement > 0 bounds by the agreement alone (a model with
     * no class-score output is then refused, ONNXTD_EUSAGE). Ignored
     * without calib. */
    double max_error;
    double min_agreement;
    /* With protect (the default; 0 turns it off), without statistics
     * (calib, act_stats), under a budget that is not a rank or a tol (those
     * are taken as given) and without include: heads -- layers whose output
     * reaches a graph output through no other layer (final projections,
     * classifiers, detection heads) -- and first layers on a graph input
     * are left as they are, listed with the reason (unless that would
     * leave no layer). */
    int protect;
    /* A file of measured per-layer latencies (text, one line per layer
     * geometry, input shape, method, ranks, threads and runtime version),
     * or NULL: measured only for this run. Read before compressing when it
     * exists; the cache with this run's timings added is in the report
     * (onnxtd_report_latency_cache) for the caller to write. With ONNX
     * Runtime present and measure_runs > 0 (not with force or
     * allow_slower), the never-slower rule times each Conv's, Gemm's and
     * MatMul's chosen chain against the layer on the layer's input shape:
     * a chain whose median time over the layer's, round by round, is
     * above 1.05 is slower (auto's runner-up is then timed), any other is
     * not; layers
     * it cannot time (symbolic shapes) keep the cost model's verdict. */
    const char *latency_cache;
    /* With sensitivity MEASURED: a file the measured weights are read
     * from when it holds those of this model and these calibration inputs
     * (a hash of both), and written to (atomically) otherwise, so that
     * another budget does not measure again; NULL: measured every time.
     * An existing file that is not such a cache is refused. */
    const char *sens_cache;
    /* With calib: each chain's last factor (the pointwise map to the
     * output channels) and bias refitted by ridge least squares to the
     * original layer's output on the input the compressed model gives it,
     * in topological order, refit_waves groups of layers one after the
     * other (sequential refit; two whole-model runs per calibration input
     * per group), each chain's ridge chosen by cross-validation over 4
     * folds of the calibration inputs. ONNXTD_REFIT_LAST (1) or 0 (the
     * default: it costs 2-4x the compression time, and its gain is
     * uneven: held-out deviation against whitening's alone -23 % on
     * PP-OCRv4 rec, -1 % on PP-OCR det and RetinaFace, +1 % on ISNet,
     * +3 % on PP-OCR cls; bench/README.md).
     * ONNXTD_REFIT_CHAIN (2): where a chain is two pointwise factors (SVD
     * of a 1x1 Conv, a Gemm, a MatMul), both refitted together (reduced-
     * rank regression on the chain's input, decompose/td_refit.h), which
     * can also choose which directions of the input the chain keeps;
     * other chains as ONNXTD_REFIT_LAST. With few calibration inputs the
     * cross-validation keeps it near the chain as decomposed; with many it
     * fits them closer, which can cost inputs unlike them
     * (bench/README.md, "Sequential refit").
     * Ignored without calib. */
    int refit;
    int refit_waves;        /* default 8 */
    /* Without statistics (calib, act_stats), under the default budget, a
     * ratio or a global one (target_params, target_flops; not vbmf, rank,
     * tol): a layer whose chain's relative weight error would pass this
     * stays as it is, with the reason; under a global budget the other
     * layers make up for it, or the budget is refused (ONNXTD_EUNMET)
     * saying so. 0: the default (ONNXTD_DEFAULT_MAX_LAYER_ERROR); < 0: no
     * cap. */
    double max_layer_error;
    /* With calib, a recurrent model: state[0..n_state) name the outputs
     * fed back to inputs from one run to the next. The held-out inputs are
     * then the last ones of the calibration list (taken to be in the order
     * the model runs them: consecutive steps), and the deviation (and so
     * the bound) is measured with each model running them in its own loop,
     * the first from its given state, each next one from the model's own
     * state output: errors that compound over steps are seen, as deployed.
     * NULL / 0: each input is measured from the state it carries. */
    const onnxtd_state_pair *state;
    size_t n_state;
    /* With calib (or act_stats gathered from onnxtd's statistics model): a
     * Gemm / MatMul whose output feeds a softmax over its last axis (a
     * classifier's or recogniser's head) is factored, and weighed by a
     * global budget, in the softmax's own metric (its Fisher information:
     * what moves the probabilities), plus this share of the plain output
     * error, which keeps classes the calibration never shows in view.
     * 0: the default (ONNXTD_DEFAULT_SOFTMAX_METRIC); < 0: off, the plain
     * output error as for every other layer. */
    double softmax_metric;
    /* With the bound: the outputs it judges (names of graph outputs;
     * NULL / 0: every output). The others are still measured and
     * reported. For a model whose outputs are not all used (ISNet's side
     * outputs, a training head left in). */
    const char *const *bound_outputs;
    size_t n_bound_outputs;
    /* With the bound: probability maps (a float output, neither class
     * scores nor a state, whose every value in the original's outputs
     * lies in [0, 1] within 1e-5: a sigmoid's segmentation mask or
     * detector map) keep
     * a mask IoU of at least min_iou on every held-out input, each map
     * binarised at iou_threshold (a value > it is on) as its user reads
     * it; an output of rank >= 4 is one map per image and channel
     * (channels on axis 1, or last when that axis is shorter); a map
     * whose two binarised forms' union covers under 1 % of it (no
     * foreground) is left out, and with only such maps, or a map of
     * under 64 values per input, all inputs' values together give the
     * IoU. 0 / < 0: none. With max_error < 0 it bounds alone. Given, and
     * no probability map is judged: refused (ONNXTD_EUSAGE).
     * iou_threshold 0: ONNXTD_DEFAULT_IOU_THRESHOLD. */
    double min_iou;
    double iou_threshold;
    /* With sensitivity MEASURED: the probes cut the layers, in the pass's
     * order, into at most this many groups of consecutive layers, each
     * probed with one whole-model run per probe input (two inputs), and
     * every layer of a group gets the group's weight. 0: the default,
     * ONNXTD_DEFAULT_SENS_GROUPS; ONNXTD_SENS_GROUPS_LAYERS (or any count
     * above the layers'): one group per layer, which sees which layers of
     * a stage the outputs need, at one run per layer and input
     * (bench/README.md, "Per-layer sensitivity and a
     * ceiling for det"). */
    size_t sens_groups;
    /* With the bound (a target_params or target_flops budget or none):
     * the caller's own task metric bounds too, as in AIMET's loop with
     * the user's evaluation. judge scores the original once and every
     * model the bound's search tries (and --act-lambda auto's candidates,
     * and the model written, for the report); a score below min_score is
     * outside the bound, whatever the deviations. With max_error < 0 (and
     * min_agreement < 0 for class scores) the score alone bounds. Without
     * calib the judge alone bounds, and needs no inputs of onnxtd's: the
     * models tried are factored without data (or from act_stats), and
     * max_error, min_agreement and min_iou must stay unset (the report's
     * measured part is then the score and the search). judge_name names
     * it in messages and the report (the command line gives its command);
     * NULL: "judge". min_score: default NAN, which with a judge is refused
     * (ONNXTD_EUSAGE). */
    onnxtd_judge_fn judge;
    void *judge_ctx;
    const char *judge_name;
    double min_score;
} onnxtd_compress_options;

/* The bound a calibrated compression keeps unless told otherwise: 5 %
 * rel. L2 is where dense outputs (masks, maps) are still visually the
 * same, and 98 % top-1 agreement keeps a classifier within 2 points. */
#define ONNXTD_DEFAULT_MAX_ERROR 0.05
/* The plain output error's share in a softmax head's metric: on PP-OCRv4
 * rec's 6625-class head (bench/README.md, "A softmax head in its own
 * metric") 0.1 kept the evaluation lines' reading at rank 40 of 120, where
 * 0 and 1 lost a little and the plain metric 1.5 points. */
#define ONNXTD_DEFAULT_SOFTMAX_METRIC 0.1
#define ONNXTD_DEFAULT_MIN_AGREEMENT 0.98
#define ONNXTD_DEFAULT_IOU_THRESHOLD 0.5
/* Measured sensitivity's groups: 8 keeps the probes at 2 x 10 runs of
 * the model, whatever its depth. */
#define ONNXTD_DEFAULT_SENS_GROUPS 8
#define ONNXTD_SENS_GROUPS_LAYERS ((size_t)-1)

/* The data-free layer error cap: on the bench models (bench/README.md,
 * "Data-free defaults") two layers at 0.32 and 0.38 took PP-OCRv4 rec's
 * char accuracy from 0.99 to 0.57, and no data measures what a layer
 * costs; at 0.3 every bench model kept its task within 1 %. */
#define ONNXTD_DEFAULT_MAX_LAYER_ERROR 0.3


/* The defaults: method auto, no budget (ratio 0.5 per layer), BN folded,
 * 10 sweeps, fit_tol 1e-4, act_lambda 0.1, holdout auto, 10 timed runs,
 * no judge (min_score NAN); and size. */
void onnxtd_compress_options_init(onnxtd_compress_options *o);

/* What a compression did (opaque; onnxtd_report_free). It owns its data:
 * it outlives the model. */
typedef struct onnxtd_report onnxtd_report;

/* Rewrites the model in place. opts->size must be one this library knows
 * (EUSAGE otherwise). *report (report may be NULL: not wanted) receives
 * the report; NULL on failure. A target budget the model cannot reach is
 * ONNXTD_EUNMET, the message saying what can be reached. After a failure
 * the model may be partly rewritten (BatchNormalization folded): free it. */
onnxtd_status onnxtd_compress(onnxtd_model *m,
                              const onnxtd_compress_options *opts,
                              onnxtd_report **report, onnxtd_error *err);

void onnxtd_report_free(onnxtd_report *r);

/* Layers considered (factored or kept), those replaced by a chain. */
size_t onnxtd_report_layers(const onnxtd_report *r);
size_t onnxtd_report_replaced(const onnxtd_report *r);
/* The model's parameters (initializers and Constants) before and after. */
int64_t onnxtd_report_params_before(const onnxtd_report *r);
int64_t onnxtd_report_params_after(const onnxtd_report *r);
/* MACs of the considered layers before and after; -1 when a layer's is
 * unknown (symbolic shapes) or the sum does not fit in int64. */
int64_t onnxtd_report_macs_before(const onnxtd_report *r);
int64_t onnxtd_report_macs_after(const onnxtd_report *r);

/* Layer i (< onnxtd_report_layers): its node's name, the method that
 * replaced it ("tucker2", "cp", "svd", "tr", "rsdtr") or "keep", and why it
 * was kept (NULL when replaced, or when kept without a recorded reason).
 * Strings are the report's; NULL for i out of range. */
const char *onnxtd_report_layer_name(const onnxtd_report *r, size_t i);
const char *onnxtd_report_layer_method(const onnxtd_report *r, size_t i);
const char *onnxtd_report_layer_reason(const onnxtd_report *r, size_t i);
/* Its relative error (weighted by activations with statistics); -1 for i
 * out of range. */
double onnxtd_report_layer_error(const onnxtd_report *r, size_t i);

/* With calibration inputs: the measured deviation. Outputs compared (0:
 * not measured), and per output its name and rel. L2 ||B-A|| / ||A||
 * (-1 / NULL out of range). The latency after / before: on the held-out
 * calibration inputs (median), else from the end-of-compress timing on
 * generated inputs (1 / the median speed-up of interleaved pairs); -1 when
 * not timed. */
size_t onnxtd_report_measured_outputs(const onnxtd_report *r);
const char *onnxtd_report_measured_name(const onnxtd_report *r, size_t i);
double onnxtd_report_measured_rel_l2(const onnxtd_report *r, size_t i);
double onnxtd_report_latency_ratio(const onnxtd_report *r);

/* The report as JSON, as a text table, and as a self-contained HTML page
 * (*out: free()). */
onnxtd_status onnxtd_report_json(const onnxtd_report *r, char **out,
                                 onnxtd_error *err);
onnxtd_status onnxtd_report_text(const onnxtd_report *r, char **out,
                                 onnxtd_error *err);
onnxtd_status onnxtd_report_html(const onnxtd_report *r, char **out,
                                 onnxtd_error *err);
/* The per-layer latency cache after this compression, as the text to
 * write to options.latency_cache (*data is r's, NUL-terminated; NULL and 0
 * when no latency_cache was given). */
onnxtd_status onnxtd_report_latency_cache(const onnxtd_report *r,
                                          const char **data, size_t *len,
                                          onnxtd_error *err);
/* With calibration inputs: the statistics gathered, as an ONNX file in
 * memory to save and reuse as act_stats (packed on the first call; *data
 * is r's: valid while r lives); *data NULL and *len 0 without. */
onnxtd_status onnxtd_report_stats(onnxtd_report *r,
                                  const unsigned char **data, size_t *len,
                                  onnxtd_error *err);

/* ---- calibration -------------------------------------------------------- */

/* Rewrites the model in place into the calibration model: graph outputs
 * "gram/X" (FLOAT C x C, sum of x x^T over every position) and "rows/X"
 * (INT64 [positions, C]) for the input X of every layer onnxtd_compress can
 * factor. *count (may be NULL) receives the number of such tensors. */
onnxtd_status onnxtd_stats_model(onnxtd_model *m, size_t *count,
                                 onnxtd_error *err);

/* ---- evaluation (ONNX Runtime) ------------------------------------------ */

/* Runs model_a and model_b in ONNX Runtime (loaded at run time: ort_lib,
 * else $ONNXTD_ORT_LIB, else the copy scripts/setup.sh installs, else the
 * system's libonnxruntime.so.1) on the same inputs and measures, per
 * output, rel. L2, largest absolute difference, cosine and (for class
 * scores: float, rank 2 or 3, last axis > 1) top-1 agreement, with A as the
 * reference; and the median latency of each over interleaved runs. With
 * model_b NULL, model_a is compared against the outputs stored with the
 * inputs (ONNX test data's output_K.pb). */
typedef struct onnxtd_eval_options {
    const char *model_a;
    const char *model_b;
    /* Input sources, each a folder in ONNX's test-data layout
     * (test_data_set_N/input_K.pb), a folder of .npy files or one .npy/.pb
     * file (models with one input), or a manifest (one sample per line:
     * NAME=PATH for every input). */
    const char *const *inputs;
    size_t n_inputs;
    size_t random;        /* instead of inputs: this many seeded random
                             samples (smoke tests; the report says so) */
    uint64_t seed;
    const onnxtd_dim_value *dims;  /* symbolic dims of random samples */
    size_t n_dims;
    const char *ort_lib;
    int threads;          /* intra-op threads per session; 0: ORT's default */
    size_t runs;          /* timed runs of each model; 0: no timing */
    /* Pass criteria, each per output; negative: not checked. */
    double rtol;          /* rel. L2 at most this */
    double min_cosine;
    double min_agreement; /* top-1 agreement of class scores */
    double elem_rtol, elem_atol;  /* every |b - a| <= atol + rtol |a| */
} onnxtd_eval_options;

/* Defaults: no models or inputs, 10 runs, no criterion checked. */
void onnxtd_eval_options_init(onnxtd_eval_options *o);

/* *report: text, or JSON when json != 0 (free()). *pass: 1 when every
 * criterion holds. A failed criterion is not an error; a missing runtime,
 * an unreadable input or one that does not fit the model is. */
onnxtd_status onnxtd_eval(const onnxtd_eval_options *o, int json,
                          char **report, int *pass, onnxtd_error *err);

/* onnxtd_eval for a recurrent model: state[0..n_state) name the outputs
 * fed back to inputs. The inputs are taken in order, as consecutive steps;
 * each model runs them in its own loop (the first step from the state
 * given with it, each next one from the model's own state output), so
 * errors that compound over steps count as deployed. With stored outputs
 * (no model_b), model_a loops. */
onnxtd_status onnxtd_eval_loop(const onnxtd_eval_options *o,
                               const onnxtd_state_pair *state,
                               size_t n_state, int json, char **report,
                               int *pass, onnxtd_error *err);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
