/* Calibration through the runtime room: the activation statistics
 * `compress --act-stats` reads, gathered by running the model on inputs in
 * this process, and the measured deviation of a compressed model from the
 * original on inputs the statistics did not see.
 *
 * Statistics: the model gets the outputs of td_pass_stats_outputs
 * (gram/X = sum_p x_p x_p^T, sum/X = sum_p x_p, rows/X = [positions, C]
 * per input X of a factorable layer) in a fork of its IR, is serialized in
 * memory and run one sample at a time; only those outputs leave the
 * runtime, and they are summed in double. moment/X = gram sum / positions,
 * mean/X = sum / positions, count/X = positions: what
 * tools/ort/calib_stats.js computes from the same runs. */
#ifndef TD_CALIB_H
#define TD_CALIB_H

#include <stddef.h>

#include "data/td_samples.h"
#include "decompose/td_refit.h"
#include "eval/td_eval.h"
#include "graph/td_model.h"
#include "graph/td_stats.h"
#include "passes/td_passes.h"
#include "passes/td_reuse.h"
#include "runtime/td_rt.h"

/* Which of n samples are held out when k are: one in each of k equal
 * blocks of the list, at offset 0 in the first block, 1 in the second, ...
 * moved by one where needed so that the indices' parities alternate (for
 * n = 8, k = 2: 0 and 5; n = 16, k = 4: 0, 5, 10, 15), so neither a list
 * sorted by class or by source nor one alternating between two classes
 * holds out one class only (k >= 2, k <= n / 2). held[i] is set to 1 for those, 0 for the
 * rest. k <= n. */
void td_calib_holdout(size_t n, size_t k, unsigned char *held);

/* The default number held out of n: a quarter, rounded up, when n >= 2
 * (at least one); none of a single input. */
size_t td_calib_default_holdout(size_t n);

/* The model's runtime inputs (graph inputs that are not initializers), in
 * order: what samples are opened against. *names is malloc'd; the strings
 * are m's (valid while m lives). */
td_status td_calib_input_names(td_model *m, const char ***names, size_t *n,
                               td_err_t *err);

/* Runs the model m as it stands (m itself is not changed) on the samples i
 * with use[i] == 1 (smp opened with m's n_in input names) and returns the
 * statistics of every input of a layer the compression pass can factor;
 * label names them in messages. At most one sample's arrays and the C x C
 * sums are held at a time. With folds > 0 (and two inputs or more), also
 * per fold of consecutive inputs (td_stats_add_folds): folds x the sums'
 * memory more. */
td_status td_calib_stats(td_rt *rt, td_model *m, const td_samples *smp,
                         size_t n_in, const unsigned char *use, size_t folds,
                         const td_rt_options *ro, const char *label,
                         td_stats **out, td_err_t *err);

/* A recurrent model's loop (eval/td_eval.h's): output out[j] of one run
 * is fed to input in[j] of the next. */
typedef td_eval_loop td_calib_loop;

/* Checks that every loop input is one of the model's n_in runtime inputs
 * (names) and every loop output one of its graph outputs, each named once;
 * the message names the pair. The names are set (api_state_loop checks). */
td_status td_calib_loop_check(td_model *m, const char *const *names,
                              size_t n_in, const td_calib_loop *l,
                              td_err_t *err);

/* The hold-out of a loop: the last k of the n samples, one sequence (the
 * list is taken to be in the order the model ran them). */
void td_calib_holdout_tail(size_t n, size_t k, unsigned char *held);

/* Runs the original (a) and the compressed model (b) on the samples with
 * use[i] == 1, compares every output of a with b's output of the same name
 * (a is the reference) and times both on the first of those samples
 * (`runs` interleaved runs each after one warm-up, medians; 0: not timed).
 * refs (NULL: none) has one slot per sample: a's outputs kept from an
 * earlier call are used instead of running a again, and those run are kept
 * there (the caller frees them, td_array_free_n). With a loop (NULL or
 * n 0: none), each model runs in its own loop: a sample whose predecessor
 * is also used takes the loop inputs from that model's outputs on the
 * predecessor, the first of each run of consecutive samples the sample's
 * own. So an original's outputs kept in refs depend on where their run
 * began: callers keep those runs the same between calls (the held-out
 * tail, or calibration inputs counted from the first). Probability maps'
 * mask IoU is counted at iou_threshold (0: not). Fills *out
 * (td_measured_free). */
td_status td_calib_measure(td_rt *rt, td_rt_session *a, td_rt_session *b,
                           const td_samples *smp, size_t n_in,
                           const unsigned char *use, size_t runs,
                           td_array **refs, const td_calib_loop *loop,
                           double iou_threshold, td_measured *out,
                           td_err_t *err);

/* One calibrated compression, in three steps around the compression
 * pass: td_calib_begin loads the runtime, opens the inputs, decides which
 * are held out, gathers the statistics from the others and keeps a fork of
 * the model as it was; td_calib_end runs that original and the compressed
 * model on the held-out inputs. */
typedef struct td_calib_opts {
    const char *const *sources;  /* input sources, data/td_samples.h */
    size_t n_sources;
    long holdout;                /* < 0: td_calib_default_holdout */
    const char *ort_lib;         /* NULL: the room's default search */
    td_rt_options rt;
    size_t runs;                 /* timed runs per model; 0: not timed */
    /* a recurrent model's loop (n 0: none): the held-out inputs are then
     * the last ones, one sequence, and each model is measured on them in
     * its own loop (td_calib_measure) */
    td_calib_loop loop;
    double iou_threshold;        /* probability maps' mask IoU binarised at
                                    this; 0: not measured */
    size_t folds;                /* statistics per fold as well (the
                                    whitening's cross-validation); 0: not */
} td_calib_opts;

typedef struct td_calib td_calib;

td_status td_calib_begin(td_model *m, const td_calib_opts *o, td_calib **out,
                         td_err_t *err);
/* The statistics gathered (borrowed from c). */
const td_stats *td_calib_statistics(const td_calib *c);
/* The statistics, now the caller's (td_stats_free); c keeps none. */
td_stats *td_calib_take_statistics(td_calib *c);
/* m: the model td_calib_begin saw, compressed since. */
td_status td_calib_end(td_calib *c, td_model *m, td_measured *out,
                       td_err_t *err);
void td_calib_free(td_calib *c);

/* td_calib_end for graph g, a fork of m's (NULL: m's own graph), with
 * `runs` timed runs (0: none). */
td_status td_calib_measure_graph(td_calib *c, td_model *m, td_graph *g,
                                 size_t runs, td_measured *out, td_err_t *err);
/* td_calib_measure_graph on the samples with use[i] == 1 (n of them, in
 * the order of td_calib_samples). */
td_status td_calib_measure_on(td_calib *c, td_model *m, td_graph *g,
                              const unsigned char *use, size_t runs,
                              td_measured *out, td_err_t *err);
/* The largest rel. L2 of m's outputs among those named (n_outputs 0:
 * every one); a NaN output counts as huge. What measured sensitivity and
 * --act-lambda auto compare forks by. */
double td_measured_max_rel_l2(const td_measured *m,
                              const char *const *outputs, size_t n_outputs);
/* The inputs opened, and which of them the statistics are over (*n: how
 * many inputs in all); borrowed from c. */
td_samples *td_calib_samples(const td_calib *c);
const unsigned char *td_calib_calibration_set(const td_calib *c, size_t *n);
/* Whole-model runs the measurements made so far (the original runs once
 * per input: its outputs are kept); 0 for c NULL. */
size_t td_calib_model_runs(const td_calib *c);
/* How many inputs a measurement runs each model on. */
size_t td_calib_measure_count(const td_calib *c);
/* 1 when that is on held-out inputs, 0 on the calibration inputs. */
int td_calib_measure_held(const td_calib *c);

/* What a step after the statistics runs on (borrowed from c): the runtime,
 * the samples, which of them are calibration inputs, and the original
 * model's graph as it was before the pass. */
typedef struct td_calib_view {
    td_rt *rt;
    const td_samples *smp;
    size_t n_in;
    const unsigned char *calib;   /* 1: a calibration input */
    td_graph *orig;
    td_rt_options rt_opts;
} td_calib_view;
void td_calib_view_of(td_calib *c, td_calib_view *out);

/* Sequential refit (td_calib_refit*.c; decompose/td_refit.h): every chain
 * of r (the pass's report on g) that ends in a pointwise factor (a 1x1
 * Conv of group 1, a Gemm, a MatMul: Tucker-2, SVD, CP and tensor-ring
 * chains) gets that factor and its bias refitted, by ridge least squares,
 * to the original layer's output on the input the compressed model gives
 * it, in topological order, `waves` groups of chains at a time (each wave
 * sees the earlier waves refitted): two runs (the original and g) per
 * calibration input per wave; each chain's ridge chosen by cross-
 * validation over folds of the calibration inputs (decompose/td_refit.h).
 * whole: a chain of two pointwise factors (td_calib_refit_chain.c) has
 * both refitted on its input instead. g: a fork of m's graph (NULL: m's
 * own). out: td_passes.h. */
td_status td_calib_refit(td_calib *c, td_model *m, td_graph *g,
                         const td_compress_report *r, size_t waves,
                         int whole, td_refit_report *out, td_err_t *err);

/* The default number of waves: each costs two whole-model runs per
 * calibration input; past a handful the later layers gain little. */
#define TD_REFIT_WAVES 8

/* --act-lambda auto: the model compressed as o asks with the statistics'
 * regularisation at the default (0.1), at 1 and, where the statistics have
 * folds, each layer's by cross-validation (decompose/td_whiten.h); each
 * fork measured on the held-out inputs, untimed. The one kept uses the
 * least of the bound br (td_bound_use: its floors of agreement and mask
 * IoU included, which are what the user asked to hold), then has the
 * smallest rel. L2; without a bound (br NULL), the smallest largest rel.
 * L2 over the outputs named (n 0: all). *out gets every candidate's
 * measurement and the one kept, which the caller then compresses with;
 * *kept (td_reuse_free) the spectra and factors that candidate made, for
 * the compressions after to take (o->reuse), so the one chosen is not
 * factored twice. What is judged is the model's own deviation, not a
 * layer's: on ISNet each layer's cross-validated value lost to 1
 * everywhere (bench/README.md). */
td_status td_calib_choose_lambda(td_calib *c, td_model *m,
                                 const td_compress_opts *o,
                                 const td_bound_report *br,
                                 const char *const *outputs, size_t n_outputs,
                                 td_lambda_choice *out, td_reuse **kept,
                                 td_err_t *err);

/* Folds of the calibration inputs, for the whitening's cross-validated
 * rel_lambda (td_calib_opts.folds; decompose/td_whiten.h) and the refit's
 * ridge (decompose/td_refit.h): one count, one partition. */
#define TD_CALIB_FOLDS TD_REFIT_FOLDS

/* The fold of the q-th of n calibration inputs (in order) among folds:
 * consecutive inputs together, so that those made alike (one source, one
 * kind of page, a recurrent model's steps of one clip) stay in one fold
 * and a fold held out asks how far what the others show carries to
 * another kind. */
static inline size_t td_calib_fold_of(size_t q, size_t n, size_t folds)
{
    return n ? q * folds / n : 0;
}

/* The output-error bound (td_calib_bound.c): with br's max_error,
 * min_agreement, kind, asked and asked_flops set, compresses forks of m
 * (o as the pass's options, its budget replaced by each step's) and
 * measures each against the original on the held-out inputs: first the
 * budget asked (done if within the bound), then bisection between it (or,
 * with none asked, TD_BOUND_FLOOR) and the uncompressed model. Fills br;
 * TD_OK with br->chosen the budget to compress m to, or TD_EUNMET naming
 * the most compression found within the bound and the deviation at the
 * budget asked. m is not changed. c NULL: no calibration inputs, br's
 * judge alone scores each step (max_error, min_agreement and min_iou
 * off). */
td_status td_calib_bound_search(td_calib *c, td_model *m,
                                const td_compress_opts *o,
                                td_bound_report *br, td_err_t *err);

/* The caller's evaluation j of m with graph g (a fork of m's; NULL: m's
 * own), td_calib_judge.c: the model packed (td_model_pack) into a new
 * private file in $TMPDIR (or /tmp), j->fn called on it, the file removed;
 * *score its finite score. j->fn's failure, or a score not finite, is
 * TD_EINPUT naming j->name and its message. */
td_status td_judge_model(const td_judge *j, td_model *m, td_graph *g,
                         double *score, td_err_t *err);

/* td_calib_measure_graph, untimed, and with br's judge (br may be NULL)
 * the score of the same graph in out->score (out->judge its name). c
 * NULL: the score alone (no outputs measured). */
td_status td_calib_measure_judged(td_calib *c, td_model *m, td_graph *g,
                                  const td_bound_report *br, td_measured *out,
                                  td_err_t *err);

/* The bound's judgement of one measurement (td_calib_bound.c): st gets
 * the largest rel. L2, the lowest agreement and the lowest mask IoU over
 * the outputs br judges (and which output gave each) and, with br's
 * judge, m's score (m->judge set); 1 when within br. */
int td_bound_judge(const td_measured *m, const td_bound_report *br,
                   td_bound_step *st);
/* TD_EUSAGE when br asks for what no output judged in st can show (a mask
 * IoU with no probability map, an agreement alone with no class scores). */
td_status td_bound_check(const td_bound_report *br, const td_bound_step *st,
                         td_err_t *err);
/* How much of br's allowance st uses, 1 at its edge: the largest over the
 * bounds br sets of rel. L2 / max_error, for a floor (1 - value) /
 * (1 - floor), and for the judge's score (original - score) / (original
 * - min_score); HUGE_VAL for a NaN output. Within br <=> at most 1. */
double td_bound_use(const td_bound_report *br, const td_bound_step *st);

/* The smallest parameter fraction searched for when no budget is asked:
 * below it nearly every layer is at rank 1. */
#define TD_BOUND_FLOOR 0.05

#endif
