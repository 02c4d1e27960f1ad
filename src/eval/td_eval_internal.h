/* Shared by the eval files. */
#ifndef TD_EVAL_INTERNAL_H
#define TD_EVAL_INTERNAL_H

#include "eval/td_eval.h"
#include "runtime/td_rt.h"
#include "util/td_array.h"
#include "util/td_buf.h"

/* Sums over every element of one output across all samples; a is the
 * reference (model A or the stored output), b the one compared. */
typedef struct td_eval_acc {
    double sum_aa, sum_bb, sum_ab, sum_dd, max_abs;
    size_t elements;
    size_t nan_mismatch;   /* NaN on one side only, or unequal infinities */
    size_t elem_mismatch;  /* over the elementwise bound, when checked */
    int scores;            /* the output looks like class scores */
    int state;             /* shaped as an input: a state fed back, not scores */
    size_t state_input;    /* with state: which input (index in the sample) */
    size_t rows, agree;    /* top-1 over the last axis */
    /* mask IoU of a probability map, binarised at iou_t (> iou_t is on;
     * 0: not counted), per map (td_eval_map_layout: a sample's one map,
     * or one per image and channel): set iou_t before the first add */
    double iou_t;
    int not_map;           /* a reference value outside [0, 1] (beyond
                              TD_EVAL_MAP_SLACK), or NaN */
    size_t iou_n;          /* maps counted */
    double iou_sum, iou_min;
    size_t iou_empty;      /* maps nearly empty on both sides */
    int iou_channels;      /* maps of several channels (or images) a sample */
    size_t pool_inter, pool_union;  /* over every sample */
    int iou_small;         /* a map under TD_EVAL_IOU_MIN_PIXELS: pooled */
} td_eval_acc;

/* A sample whose union of the two binarised maps covers less than this
 * share of the map is "nearly empty": both maps agree on all but that
 * share of it, and its IoU, a ratio of a few pixels, says nothing (one
 * pixel on in a photo of no foreground gives 0). Its IoU is left out of
 * the lowest and the mean, and counted in iou_empty. */
#define TD_EVAL_IOU_MIN_UNION 0.01
/* How far outside [0, 1] a probability map's value may lie: ONNX
 * Runtime's float Sigmoid gives 1.0000001 where it saturates (PP-OCR det
 * on a blurred page), which is a probability map's value all the same. */
#define TD_EVAL_MAP_SLACK 1e-5
/* A map of fewer elements than this per sample (a voice detector's one
 * speech probability per chunk) has no IoU of its own per sample: it is
 * 0 or 1. Such a map is judged by the IoU of all samples' elements
 * together (of the speech decisions over the chunks). */
#define TD_EVAL_IOU_MIN_PIXELS 64

/* The rule for "class scores": a float output of rank 2 ([N, C]) or 3
 * ([N, T, C], e.g. per-step character scores) whose last axis is > 1.
 * Rank-4 outputs are feature maps or masks (NCHW), whose last axis is a
 * width, so argmax over it means nothing. */
int td_eval_looks_like_scores(const td_array *a);
/* How a probability map of a's shape splits into maps judged one by one:
 * rank < 4, one map of every element; rank >= 4, one map per image (axis
 * 0) and channel, the channel axis being axis 1 (NCHW) unless the last
 * axis is shorter (NHWC). *maps maps of *mid elements, *ch channels, *last
 * set when the channel axis is the last. */
void td_eval_map_layout(const td_array *a, size_t *maps, size_t *ch,
                        size_t *mid, int *last);
/* The mask IoU of m over its maps (td_eval_map_layout): the lowest and
 * the mean of each map's IoU, binarised at m->iou_t, over the maps that
 * are not nearly empty (TD_EVAL_IOU_MIN_UNION; when every one is, or a
 * map is under TD_EVAL_IOU_MIN_PIXELS, both are the IoU of all samples'
 * elements together, 1 with none on), and how many were nearly empty.
 * 0 when m is no probability map (a float output that is neither class
 * scores nor a state, whose reference values all lie in [0, 1], as a
 * sigmoid's do), with *min and *mean then -1. */
int td_eval_mask_iou(const td_eval_acc *m, double *min, double *mean,
                     size_t *empty);
/* Marks m when out has the dtype and shape of one of the sample's n_in
 * inputs: a recurrent state the caller feeds back (an RNN's hidden state,
 * e.g. Silero VAD's stateN for its input state), whose argmax means nothing
 * whatever its rank; its top-1 agreement is then not counted. Call it
 * before td_eval_acc_add with the same sample. */
void td_eval_acc_note_inputs(td_eval_acc *m, const td_array *out,
                             const td_array *in, size_t n_in);
/* Adds one sample; a and b have the same shape. elem_rtol < 0: no
 * elementwise check. */
void td_eval_acc_add(td_eval_acc *m, const td_array *a, const td_array *b,
                     double elem_rtol, double elem_atol);
double td_eval_rel_l2(const td_eval_acc *m);   /* inf when ||a|| = 0 < ||b-a|| */
double td_eval_cosine(const td_eval_acc *m);

/* n seeded random samples for the model's inputs: floats uniform in
 * [-1, 1), integers in [0, 10), bools 0/1. Symbolic dims must be given. */
td_status td_eval_random_sample(const td_rt_session *s, uint64_t seed,
                                size_t index, const td_eval_dim *dims,
                                size_t n_dims, td_array **arrays,
                                td_err_t *err);

/* Where a loop's names are: the sample's input index and each model's
 * output index per pair. */
typedef struct td_eval_loop_at {
    size_t in, out_a, out_b;
} td_eval_loop_at;

/* Finds l's names among the sample's inputs (in[0..n_in), by their names)
 * and the outputs of a and of b (b NULL: out_b unset); the message names
 * the pair and what is missing. */
td_status td_eval_loop_find(const td_eval_loop *l, const td_rt_session *a,
                            const td_rt_session *b, const td_array *in,
                            size_t n_in, td_eval_loop_at *at, td_err_t *err);

/* view[0..n_in): the sample's inputs with each loop input replaced by the
 * model's output of the step before (prev, indexed as model `b` (1) or
 * `a` (0) says; prev NULL: the sample's own), except where the sample
 * gives an all-zero state: a new sequence starts there from it. Borrows
 * from in and prev: free nothing in view. A state output whose type or
 * shape differs from the input given is refused, naming sample, pair and
 * model (`who`). */
td_status td_eval_loop_inputs(const td_eval_loop *l, const td_eval_loop_at *at,
                              const td_array *in, size_t n_in,
                              const td_array *prev, int b, const char *who,
                              const char *sample, td_array *view,
                              td_err_t *err);

typedef struct td_eval_out {
    const char *name;        /* A's output name (borrowed from A) */
    size_t index_a, index_b;
    int32_t dtype_a, dtype_b;
    int64_t dims[8];         /* of the first sample */
    size_t ndim;
    td_eval_acc acc;
} td_eval_out;

typedef struct td_eval_result {
    const td_eval_opts *opts;
    const char *version, *library;
    size_t samples;
    td_eval_out *out;
    size_t n_out;
    int timed;
    td_rt_timing ta, tb;
    td_buf failures;         /* one reason per line */
    int pass;
} td_eval_result;

char *td_eval_render_text(const td_eval_result *r);
char *td_eval_render_json(const td_eval_result *r);

#endif
