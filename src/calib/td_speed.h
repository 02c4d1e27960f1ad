/* The whole compressed model timed against the original at the end of
 * compress: both run in ONNX Runtime with the deployment's session options
 * on the same inputs (generated for the model's static input shapes, or
 * with the symbolic dims given, else a calibration input), in interleaved
 * pairs after a warm-up; the speed-up is the median over the pairs of
 * original / compressed, which a load that drifts during the runs moves
 * less than a ratio of medians. */
#ifndef TD_SPEED_H
#define TD_SPEED_H

#include "data/td_samples.h"
#include "graph/td_model.h"
#include "graph/td_shape.h"
#include "passes/td_latency.h"
#include "runtime/td_rt.h"

typedef struct td_speed_opts {
    const char *ort_lib;     /* NULL: the room's default search */
    td_rt_options rt;        /* the deployment's: threads, optimisation */
    size_t pairs;            /* timed pairs (>= 1) */
    const td_dim_value *dims;
    size_t n_dims;
    /* NULL, or the calibration inputs (each n_sample_inputs arrays): where
     * a dim has no value, the first is read and timed on, so a model
     * compressed with data is timed at the data's shapes. */
    const td_samples *samples;
    size_t n_sample_inputs;
} td_speed_opts;

/* Times orig (a fork of m taken before the pass) against m as it is now.
 * A runtime that cannot be loaded, an input shape left symbolic, or a model
 * the runtime cannot load or run is no error: out->timed stays 0 and
 * out->why says why. Only running out of memory fails. */
td_status td_speed_measure(td_model *m, td_graph *orig, const td_speed_opts *o,
                           td_speed *out, td_err_t *err);

#endif
