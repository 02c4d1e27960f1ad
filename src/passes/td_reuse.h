/* Work kept between compressions of forks of one model with the same
 * options but the budget (the output-error bound's search, the measured
 * sensitivity's probes): each layer's spectra, which do not depend on the
 * budget, and its factors at the ranks the plan gave it, so that a step
 * giving a layer the ranks an earlier step gave it does not factor it
 * again. Layers are told apart by their name in the model; a hit gives
 * exactly what factoring again would have given (same weight, statistics,
 * method, ranks and options), so the output bytes do not depend on reuse.
 *
 * Factors are shared, not copied: a job that takes them marks them so
 * (td_job.chosen_shared) and does not free them; the store frees them. The
 * store is used from the pass's worker threads (it locks). */
#ifndef TD_REUSE_H
#define TD_REUSE_H

#include <stddef.h>

#include "td_job.h"

typedef struct td_reuse td_reuse;

td_reuse *td_reuse_new(void);
void td_reuse_free(td_reuse *r);

/* The whitening's rel_lambda chosen for the layer by cross-validation at
 * the ranks (r0, r1) (it depends on its weight, the statistics and those;
 * negative: minus the default, where it could not choose); 1 when kept
 * for those ranks. One per layer: another step's ranks replace it. */
int td_reuse_lambda_get(td_reuse *r, const char *layer, int64_t r0,
                        int64_t r1, double *lambda);
void td_reuse_lambda_put(td_reuse *r, const char *layer, int64_t r0,
                         int64_t r1, double lambda);

/* Copies the spectra kept for j's layer into j; 1 when there were some. */
int td_reuse_spectra_get(td_reuse *r, td_job *j);
/* Keeps a copy of j's spectra (nothing when out of memory). */
void td_reuse_spectra_put(td_reuse *r, const td_job *j);

/* Gives j the factors (and its report's factoring fields) kept for its
 * layer at j's plan; 1 when there were some. A job without a plan (a
 * per-layer budget) matches one without: a store sees one per-layer
 * budget only. */
int td_reuse_factors_get(td_reuse *r, td_job *j, const char *note_before);
/* Takes j's factors into the store (j then shares them), tagged with the
 * current step, with the report's fields and what its note was before. */
void td_reuse_factors_put(td_reuse *r, td_job *j, const char *note_before);

/* Steps: factors put from now on are tagged with a new step number, which
 * is returned. */
int td_reuse_next_step(td_reuse *r);
/* Frees the factors that neither step `keep` (< 0: none) nor the current
 * one used (memory: a step's factors are about the size of the compressed
 * model). */
void td_reuse_retain(td_reuse *r, int keep);

/* Layers factored, and taken from the store, since td_reuse_new. */
void td_reuse_counts(const td_reuse *r, size_t *factored, size_t *reused);

#endif
