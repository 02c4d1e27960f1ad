/* The never-slower rule's decisions, where the pass accounts for them: which
 * chains the user named (those are given as asked, with a warning, when the
 * latency model predicts them slower), how many layers were kept only for
 * speed, and the refusals that follow when a budget cannot be met without
 * them or when nothing could be compressed without being slower (status
 * TD_EUNMET: valid options, a goal this model cannot reach). */
#ifndef TD_LATENCY_H
#define TD_LATENCY_H

#include <stddef.h>

#include "td_passes.h"
#include "util/td_buf.h"

/* ---- measured latency ---------------------------------------------------
 * With ONNX Runtime at hand, the layer and the chain the rule has to judge
 * are timed on the layer's input shape (src/calib/td_lat.h builds the
 * probe); the pass only asks, and a measurement replaces the cost model's
 * verdict where it tells the two apart. */

/* Medians of interleaved runs, per run, and the median and quartiles of
 * the chain's time over the layer's in each round (0: not known, as in a
 * cache file of the first format). */
typedef struct td_lat_result {
    double layer_ms, chain_ms;
    double ratio_q1, ratio_median, ratio_q3;
    int cached;             /* from the cache: nothing was timed */
} td_lat_result;

typedef struct td_latency_probe {
    /* 1 and *res when the layer and the chain f (as the pass would emit it
     * into a model of this opset) were timed or found in the cache; 0 when
     * they cannot be (shapes not static, a dtype or op the probe does not
     * time, the runtime failing): the cost model decides. Called from the
     * pass's worker threads; the probe serialises its timings. */
    int (*measure)(void *ctx, const td_layer *l, const td_factors *f,
                   int64_t opset, td_lat_result *res);
    void *ctx;
} td_latency_probe;

/* Where a layer's speed verdict came from (td_layer_report.lat_source). */
enum { TD_LAT_NONE = 0, TD_LAT_MODEL, TD_LAT_MEASURED };

/* A chain is measured slower when the median of its time over the
 * layer's per round is above 1 + TD_LAT_SLOWER_FRAC. A disturbance moves
 * both runs of a round, so the per-round ratio holds still where the two
 * medians, taken apart, do not; its median holds still where its
 * quartiles do not (a load widens their spread: a chain at 1.09x its layer
 * had its lower quartile under 1.05 in 6 runs of 20 on a loaded machine,
 * its median in none). A chain not told apart from its layer is not
 * slower: the measurement keeps its verdict rather than handing it to the
 * cost model, whose verdict would then decide in some runs of a command
 * and the timing in others. */
#define TD_LAT_SLOWER_FRAC 0.05

/* 1: the chain measured slower than the layer; -1: not slower (faster,
 * or not told apart). Without the per-round ratios (a cache file of the
 * first format) the ratio of the medians stands for them. */
int td_latency_verdict(const td_lat_result *m);

struct td_job;
/* Before the job settles: with a probe, the chain chosen (or, when the
 * cost model vetoed every candidate, the best of those, kept in
 * j->vetoed) is timed against the layer; a measured verdict replaces the
 * model's: a chosen chain measured slower gives way to the runner-up
 * (j->runner_up: auto's next-best candidate) when that one is not
 * measured slower, and is otherwise dropped (*n_slower counts it) unless
 * the user named it; a vetoed chain not measured slower becomes the
 * chosen one. j->vetoed and j->runner_up are freed. */
void td_latency_judge(struct td_job *j, const td_compress_opts *o,
                      int *n_slower);
/* After the job settled: the note and the named chain's slowdown from the
 * measurement, where it decided. */
void td_latency_settled(struct td_job *j);

#define TD_LAT_SLOWER_NOTE \
    "the chain measured slower than the layer in ONNX Runtime"
/* Rounds of planning again after a planned chain measured slower. */
#define TD_LAT_REPLANS 3

/* Under a global budget, a planned chain measured slower leaves its share
 * of the budget unspent: when some job newly has one, every job's factors
 * and report line are reset for the plan to run again with those layers
 * kept (td_plan.c), and the count of them is returned; 0: nothing to do. */
size_t td_latency_replan(struct td_job *jobs, size_t n);

/* Does the user name the chains, so that the rule warns instead of
 * dropping them? A method asked for (--method, not auto) or layers picked
 * by --include, under a per-layer budget: the chain is what was asked for.
 * A global budget or EVBMF leaves the choice to the pass, and the rule
 * decides. */
int td_latency_explicit(const td_compress_opts *o);

/* Layers kept only because every chain of theirs is predicted slower;
 * *first (may be NULL) gets the index of the first in r->layers. */
size_t td_latency_kept(const td_compress_report *r, size_t *first);

/* The tail of a refused budget's message: how many layers the rule kept
 * and the first of them, and the option that lifts it; "" when none was
 * kept. Written into buf (n bytes), returned. */
const char *td_latency_hint(const td_compress_opts *o,
                            const td_compress_report *r, char *buf, size_t n);

/* After factoring: TD_EUNMET when no layer was compressed and some were
 * kept only for speed (the model would be written unchanged). */
td_status td_latency_refuse_none(const td_compress_opts *o,
                                 const td_compress_report *r, td_err_t *err);

/* The whole compressed model timed against the original (src/calib/
 * td_speed.h): plain numbers for the report. */
struct td_speed {
    int timed;               /* 0: not timed, why says why */
    char why[1024];
    size_t pairs;            /* interleaved (original, compressed) runs */
    double ms_before, ms_after;  /* medians per run */
    double speedup;          /* median over the pairs of before / after */
    double speedup_q3;       /* ... and its upper quartile */
    char inputs[16];         /* "generated" */
    char runtime[48];        /* ONNX Runtime's version */
};
typedef struct td_speed td_speed;

/* A compressed model whose measured speed-up is below this is "slower":
 * the median of a few interleaved pairs on a loaded machine still moves by
 * a few percent between runs of the same model, and a model within that
 * is not told apart from the original. */
#define TD_SPEED_MIN_SPEEDUP 0.97
/* ... and a slow-down of less than this per run is below what the
 * scheduler and timer tell apart on a loaded machine (tiny models). */
#define TD_SPEED_MIN_MS 0.2

/* TD_EUNMET when s was timed slower than TD_SPEED_MIN_SPEEDUP (by the
 * median speed-up and by the ratio of the medians), three pairs in four
 * slower, and slower models are not allowed: the model is then not
 * written. */
td_status td_speed_check(const td_speed *s, int allow_slower, td_err_t *err);

/* The timing as a JSON value (null when s is NULL) and as a text line. */
void td_report_speed_json(td_buf *b, const td_speed *s);
void td_report_speed_text(td_buf *b, const td_speed *s);

/* The rule's per-layer fields as JSON members, and its lines for the text
 * table (td_report_latency.c). */
void td_report_latency_layer_json(td_buf *b, const td_layer_report *l);
void td_report_latency_text(td_buf *b, const td_compress_report *r);
/* What the per-layer measurement did, as a member of the totals (nothing
 * without a probe). */
void td_report_latency_totals_json(td_buf *b, const td_compress_report *r);

#endif
