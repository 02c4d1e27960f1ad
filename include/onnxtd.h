/* onnxtd: compress convolutional networks in ONNX files with tensor
 * decompositions (Tucker-2, CP, tensor ring, SVD), and the lossless model
 * I/O underneath.
 *
 * Conventions: every function that can fail returns an onnxtd_status and
 * fills *err (which may be NULL) with a message naming the file and the
 * element (node, tensor, field) concerned. Handles are opaque; whoever calls
 * a _load/_new function calls the matching _free. Strings returned through
 * char ** are malloc'd and freed by the caller with free(). No function
 * prints, exits or keeps global state; distinct models may be used from
 * distinct threads. */
#ifndef ONNXTD_H
#define ONNXTD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONNXTD_VERSION "0.1.0"

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

typedef struct onnxtd_save_options {
    const char *external_data;  /* NULL: inline everything */
    size_t size_threshold;      /* tensors of at least this many bytes go to
                                   external_data (the CLI's default: 1024) */
} onnxtd_save_options;

/* Atomic (temp file, fsync, rename) and checked as onnxtd_outputs_check
 * does: path and the external_data file beside it must each be absent or a
 * regular file the user may write, in an existing folder; neither may be a
 * file the model was read from, nor the other (onnxtd_outputs_write with
 * in_place replaces the loaded model). A replaced file keeps its mode. */
onnxtd_status onnxtd_model_save(onnxtd_model *m, const char *path,
                                const onnxtd_save_options *opts,
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

#define ONNXTD_HOLDOUT_NONE (-1L)

typedef struct onnxtd_compress_options {
    onnxtd_method method;
    int64_t rank;        /* > 0: this rank for each factored mode */
    double ratio;        /* > 0: keep at most ratio x each layer's params */
    double tol;          /* >= 0 with use_tol: relative Frobenius error bound */
    int use_tol;
    const char *include; /* POSIX extended regex on node names, or NULL */
    const char *exclude;
    int force;           /* keep chains even when they do not shrink */
    int no_fold_bn;
    int threads;         /* 0: the number of online CPUs */
    int max_sweeps;      /* HOOI/ALS sweep cap; 0: 10 */
    double fit_tol;      /* stop iterating when the relative fit changes by
                            less than this; 0: 1e-4 */

    /* Values for symbolic input dims (shapes give the layers' FLOPs). */
    const onnxtd_dim_value *dims;
    size_t n_dims;
    /* Global budgets (at most one, instead of rank/ratio/tol): the model
     * keeps this fraction in (0, 1] of all its parameters (initializers and
     * Constants), or of the MACs of its Conv/Gemm/MatMul layers (needs
     * static shapes). Ranks are allocated across layers. */
    double target_params;
    double target_flops;
    int sensitivity;        /* 0: relative error per layer; 1: absolute */
    /* Ranks from EVBMF on the channel unfoldings, weakened toward full:
     * r = full - vbmf_weaken * (full - r_evbmf), vbmf_weaken in (0, 1]
     * (0: 1, the EVBMF rank itself). */
    int vbmf;
    double vbmf_weaken;
    int64_t rank_multiple;  /* ranks rounded to multiples of this; 0: 1 */
    int64_t min_rank;       /* 0: 1 */
    int allow_slower;       /* keep chains the cost model says are slower */
    /* Activation statistics file (onnxtd_stats_model, then
     * tools/ort/calib_stats.js), or NULL: data-free. With it, layers whose
     * input has statistics are factored to minimise their output error on
     * the calibration data, and the global allocation weighs them so. */
    const char *act_stats;
    double act_lambda;      /* relative regularisation; 0: 0.1 */
    /* Calibration inputs (the sources onnxtd_eval takes: test-data folders,
     * .npy/.pb files or folders, manifests), or NULL. The statistics are
     * then gathered here, by running the model in ONNX Runtime on one input
     * at a time (act_stats must be NULL), except on `holdout` inputs held
     * out; after compressing, the original and the compressed model are run
     * on those and the report carries the measured deviation per output and
     * the latency ratio ("measured" in the JSON; null without calib). */
    const char *const *calib;
    size_t n_calib;
    long holdout;           /* 0: a quarter of the inputs, rounded up (none
                               of one input); > 0: that many;
                               ONNXTD_HOLDOUT_NONE: none, the deviation is
                               measured on the calibration inputs */
    /* With calib, when not NULL: receives the statistics as an ONNX file in
     * memory (*stats_len bytes; free()), to be saved with the other outputs
     * and reused as act_stats. */
    unsigned char **stats;
    size_t *stats_len;
    const char *ort_lib;    /* libonnxruntime.so.1 to load; NULL: the
                               default search (see onnxtd_eval_options) */
    int measure_runs;       /* timed runs of each model; 0: 10; < 0: none */
    /* Called after each layer is factored, from the library's threads one
     * call at a time; may be NULL. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
    /* When not NULL, receives a self-contained HTML report (free()). */
    char **html;
    /* With calib and a global budget (target_params/target_flops) or none
     * (rank, ratio, tol and vbmf all unset): a bound on the measured
     * deviation of every model output on the held-out inputs, rel. L2 at
     * most max_error and, for class scores, top-1 agreement at least
     * min_agreement. A budget asked for is compressed to if its model
     * stays within the bound, else refused (ONNXTD_EUNMET) naming the
     * most compression within it; without a budget, the smallest model
     * within the bound is searched for (bisection on target_params).
     * 0: the defaults (ONNXTD_DEFAULT_MAX_ERROR, _MIN_AGREEMENT); < 0: no
     * bound (the deviation is only measured). Ignored without calib. */
    double max_error;
    double min_agreement;
    /* With protect, under a global budget (target_params, target_flops),
     * without statistics (calib, act_stats) and without include: heads --
     * layers whose output reaches a graph output through no other layer
     * (final projections, classifiers, detection heads) -- and first
     * layers on a graph input are left as they are, listed with the
     * reason (unless that would leave no layer). */
    int protect;
} onnxtd_compress_options;

/* The bound a calibrated compression keeps unless told otherwise: 5 %
 * rel. L2 is where dense outputs (masks, maps) are still visually the
 * same, and 98 % top-1 agreement keeps a classifier within 2 points. */
#define ONNXTD_DEFAULT_MAX_ERROR 0.05
#define ONNXTD_DEFAULT_MIN_AGREEMENT 0.98

/* Rewrites the model in place. *report (may be NULL) receives the JSON
 * report; *summary (may be NULL) a human-readable table. */
onnxtd_status onnxtd_compress(onnxtd_model *m,
                              const onnxtd_compress_options *opts,
                              char **report, char **summary,
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

#ifdef __cplusplus
}
#endif

#endif
