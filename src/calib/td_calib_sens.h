/* Measured sensitivity: how far a unit of a layer's own error moves the
 * model's outputs, measured in the runtime, for the global allocation's
 * price of each layer's error.
 *
 * Probe: every layer the pass would factor is factored at the per-layer
 * ratio TD_SENS_PROBE_RATIO (against the calibration statistics, as the
 * compression itself), which gives each its own (output-weighted) error
 * e_l. The layers, in the pass's order, are cut into at most `groups`
 * groups of consecutive layers; for each group a fork of
 * the model with only that group's chains is run on the first
 * TD_SENS_INPUTS calibration inputs, and the largest rel. L2 over the
 * outputs (those the bound judges), d_g, is measured against the
 * original. With output deviations
 * adding in squares, d^2 ~ sum_l s_l^2 e_l^2, the group's sensitivity is
 * s_g = d_g / sqrt(sum_{l in g} e_l^2), and each of its layers' squared
 * error is priced s_g^(2 TD_SENS_POWER) (normalised to a mean of 1 over
 * the layers probed; a layer not probed weighs 1). Runs: one per group
 * and input, plus one of the original and one of all probes at once per
 * input.
 *
 * Cache: with a file named, the weights are read from it when its key --
 * a hash of the model's bytes, of the inputs the probes ran on and of the
 * probe's settings -- matches, and written to it (atomically) otherwise.
 * A file that is not such a cache is refused, never overwritten. */
#ifndef TD_CALIB_SENS_H
#define TD_CALIB_SENS_H

#include "calib/td_calib.h"

/* Probe ratio: errors of a tenth or two per layer, large enough to move
 * the outputs well above the runtime's rounding, small enough that the
 * outputs respond about linearly (at 0.5, PP-OCR cls's class scores
 * saturate and the bound's search reached 0.941 of the parameters instead
 * of 0.822 at 0.8). */
#define TD_SENS_PROBE_RATIO 0.8
/* The price is (s_g^2)^TD_SENS_POWER. The model above says 1; but one
 * probe per group sees the response at one error only, and priced at s^2
 * the allocation cut the layers it measured least sensitive so deep that
 * they left the linear range (PP-OCR cls: the search reached 0.822 of the
 * parameters at 1, 0.762 at 1/2, as with no measurement; PP-OCRv4 det:
 * 0.896 at both, 0.955 without). Chosen on these two bench models. */
#define TD_SENS_POWER 0.5
/* The lowest weight: a layer whose probe moved the outputs by next to
 * nothing on the probe inputs is not free at every rank (the response
 * was seen at one error only, on two inputs). Not even one that moved
 * them by nothing at all: on PP-OCRv4 det, a squeeze-excitation gate
 * saturated (HardSigmoid) on both probe inputs left its two convs'
 * probes without any effect, which other inputs need not share. */
#define TD_SENS_FLOOR 0.1
/* Calibration inputs the probes run on at most. */
#define TD_SENS_INPUTS 2

typedef struct td_sens td_sens;

/* Measures (or reads from `cache`, NULL: none) the weights for m, whose
 * compression runs with o (its budget is replaced by the probe's), on
 * the outputs named (the bound's --bound-output; NULL / 0: every output),
 * which the cache's key then includes, in at most `groups` (>= 1) groups
 * of layers: one full-model run each per input. */
td_status td_calib_sens(td_calib *c, td_model *m, const td_compress_opts *o,
                        const char *const *outputs, size_t n_outputs,
                        const char *cache, size_t groups, td_sens **out,
                        td_err_t *err);
/* For td_compress_opts.layer_weight (ctx: a td_sens). */
double td_sens_weight(void *ctx, const char *layer);
/* What was measured, for the report (borrowed from s). */
const td_sens_info *td_sens_info_of(const td_sens *s);
void td_sens_free(td_sens *s);

#endif
