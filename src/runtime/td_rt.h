/* The runtime room: the only part of onnxtd that knows ONNX Runtime. It
 * loads ORT's shared library at run time (dlopen) and exposes three things:
 * "load the runtime", "run this model on these inputs", "time this model".
 * Nothing outside src/runtime/ includes an ORT declaration or calls ORT; the
 * build never needs ORT.
 *
 * Tensors cross the wall as td_array (ONNX element types, C order, owned
 * buffers). Every fallible call returns a td_status and fills err; ORT's
 * own errors (OrtStatus) come back as TD_EINPUT with ORT's message.
 *
 * Threads: a td_rt and its sessions hold no mutable state after creation;
 * td_rt_run and td_rt_time may be called on one session from several
 * threads at once (ORT's Run is thread-safe). The one process-wide thing is
 * the loaded library itself: it is opened with RTLD_NODELETE, so it stays
 * mapped after td_rt_close (ORT does not support being unloaded while its
 * thread pools and static objects are alive). */
#ifndef TD_RT_H
#define TD_RT_H

#include <stddef.h>
#include <stdint.h>

#include "util/td_array.h"
#include "util/td_err.h"

typedef struct td_rt td_rt;
typedef struct td_rt_session td_rt_session;

/* The environment variable naming a libonnxruntime.so.1 to use. */
#define TD_RT_ENV_LIB "ONNXTD_ORT_LIB"

/* Loads ONNX Runtime. lib_path, when not NULL, is the only place tried;
 * else $ONNXTD_ORT_LIB when set (only it); else the onnxruntime-node copy
 * that scripts/setup.sh installs in the source tree (path fixed at build
 * time), then "libonnxruntime.so.1" through the system's library search.
 * Fails (nothing loaded) when the file is missing, is not a library, has no
 * OrtGetApiBase, or does not offer the C API version this room needs; the
 * message says what to install. */
td_status td_rt_open(const char *lib_path, td_rt **out, td_err_t *err);
void td_rt_close(td_rt *rt);
/* ORT's version string ("1.30.0") and the file loaded; owned by rt. */
const char *td_rt_version(const td_rt *rt);
const char *td_rt_library(const td_rt *rt);

/* Session options. ORT's defaults where a field is 0. */
typedef enum td_rt_opt_level {
    TD_RT_OPT_ALL = 0,      /* ORT's default, what deployments run */
    TD_RT_OPT_EXTENDED,
    TD_RT_OPT_BASIC,
    TD_RT_OPT_NONE
} td_rt_opt_level;

typedef struct td_rt_options {
    int threads;            /* intra-op threads; 0: ORT's default */
    td_rt_opt_level opt_level;
    /* No memory pattern: ORT then does not plan one block for all of a
     * run's tensors at once, which for a model whose extra outputs keep big
     * activations alive (calibration statistics) is the peak itself. The
     * CPU arena stays: without it every big tensor is mapped and zeroed
     * anew, which doubled the statistics' time on ISNet. */
    int low_memory;
} td_rt_options;

/* One graph input or output as the session sees it. */
typedef struct td_rt_io {
    char *name;
    int32_t dtype;          /* TD_DT_*, or another ONNX number (e.g. 8,
                               STRING) that td_rt_run refuses */
    int is_tensor;          /* 0 for sequences, maps, optionals */
    size_t ndim;
    int64_t *dims;          /* -1 where the dim is symbolic or unknown */
    char **dim_names;       /* dim_param per dim, "" when none */
} td_rt_io;

/* A session on a model file (external data is read beside it) or on a
 * serialized model in memory (label names it in messages; the buffer is
 * only read during the call). opts may be NULL. */
td_status td_rt_session_new(td_rt *rt, const char *path,
                            const td_rt_options *opts, td_rt_session **out,
                            td_err_t *err);
td_status td_rt_session_new_mem(td_rt *rt, const void *model, size_t len,
                                const char *label, const td_rt_options *opts,
                                td_rt_session **out, td_err_t *err);
void td_rt_session_free(td_rt_session *s);

/* Graph inputs (initializers excluded, as ORT reports them) and outputs, in
 * the model's order; borrowed from the session. */
size_t td_rt_n_inputs(const td_rt_session *s);
size_t td_rt_n_outputs(const td_rt_session *s);
const td_rt_io *td_rt_input(const td_rt_session *s, size_t i);
const td_rt_io *td_rt_output(const td_rt_session *s, size_t i);

/* Runs the model once. inputs[0..n_inputs) are matched to graph inputs by
 * name (each td_array must have one); every graph input must be given.
 * out_names selects outputs (NULL: all, in the model's order, n_out is then
 * ignored). *outputs receives n_out (or all) owned arrays named after the
 * outputs; free with td_array_free_n. dtype and rank are checked here
 * against the model with a message naming the input; ORT checks the
 * rest. */
td_status td_rt_run(td_rt_session *s, const td_array *inputs,
                     size_t n_inputs, const char *const *out_names,
                     size_t n_out, td_array **outputs, td_err_t *err);

/* Latency of one or two sessions on the same inputs: `warmup` untimed runs
 * each, then `runs` rounds that run a and b back to back, alternating which
 * goes first so neither always meets a warm or a cold cache. b may be NULL
 * (then only a is timed). Times are wall-clock milliseconds per run. With
 * b, tb also gets the median and quartiles of b's time over a's in each
 * round: a disturbance moves both runs of a round, so the ratio tells the
 * two apart where the two medians, taken apart, may not. */
typedef struct td_rt_timing {
    size_t runs;
    double median_ms, min_ms, max_ms;
    /* tb only: quartiles and median of b/a per round */
    double ratio_q1, ratio_median, ratio_q3;
} td_rt_timing;

td_status td_rt_time(td_rt_session *a, td_rt_session *b,
                     const td_array *inputs, size_t n_inputs, size_t runs,
                     size_t warmup, td_rt_timing *ta, td_rt_timing *tb,
                     td_err_t *err);

#endif
