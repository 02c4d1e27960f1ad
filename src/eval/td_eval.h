/* eval: run two models (or one model against stored outputs) on the same
 * real inputs through the runtime room, and measure how far their outputs
 * are apart and how fast each runs. */
#ifndef TD_EVAL_H
#define TD_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/td_err.h"

typedef struct td_eval_dim {
    const char *name;
    int64_t value;
} td_eval_dim;

/* A recurrent model's loop: output out[j] of one run is fed to input in[j]
 * of the next (an RNN's state, e.g. Silero VAD's stateN -> state). */
typedef struct td_eval_loop {
    const char *const *in;   /* input names */
    const char *const *out;  /* output names */
    size_t n;                /* 0: no loop */
} td_eval_loop;

typedef struct td_eval_opts {
    const char *model_a;
    const char *model_b;          /* NULL: A against output_K.pb */
    const char *const *inputs;    /* sources, see data/td_samples.h */
    size_t n_inputs;
    size_t random;                /* > 0: seeded random samples instead */
    uint64_t seed;
    const td_eval_dim *dims;      /* symbolic dims of random samples */
    size_t n_dims;
    const char *ort_lib;          /* NULL: the room's default search */
    int threads;                  /* intra-op threads; 0: ORT's default */
    size_t runs;                  /* timed runs per model; 0: no timing */
    /* Criteria; negative: not checked. */
    double rtol, min_cosine, min_agreement;
    double elem_rtol, elem_atol;  /* |b - a| <= atol + rtol |a| per element */
    /* each model runs the samples, in order, in its own loop: from the
     * second sample on, the loop inputs are its outputs of the sample
     * before (with stored outputs: A's) */
    td_eval_loop loop;
    /* probability maps' mask IoU binarised at this (reported, not a
     * criterion); 0: not measured */
    double iou_threshold;
} td_eval_opts;

/* Runs the evaluation; *report is text or JSON (malloc'd), *pass 1 when
 * every criterion holds. A failed criterion is not an error. */
td_status td_eval_run(const td_eval_opts *o, int json, char **report,
                      int *pass, td_err_t *err);

#endif
