/* Planning: turns a global budget (--target-params / --target-flops) or
 * EVBMF into ranks for every layer, from the layers' spectra, before any
 * layer is factored. */
#ifndef TD_PLAN_H
#define TD_PLAN_H

#include "td_alloc.h"
#include "td_job.h"

/* What lies outside the layers being factored, as the pass measured it. */
typedef struct td_plan_outside {
    double model_params;  /* every initializer and Constant, after BN folding */
    double macs;          /* MACs of the layers --include/--exclude left out */
    size_t filtered;      /* how many layers they left out */
} td_plan_outside;

/* The rank rounding of o: o->rank_multiple, or with rank_multiple 0 (the
 * default) multiples of the runtime's channel block from one block up, on
 * modes wide enough that the step costs little error. */
td_alloc_opts td_plan_alloc_opts(const td_compress_opts *o);

/* Allocates ranks over jobs (spectra computed) for o->global, or sets the
 * EVBMF ranks for o->vbmf; fills the jobs' plan fields and r->planned (and
 * r->planned_flops). Refuses a target that cannot be met, saying why. */
td_status td_plan_ranks(td_job *jobs, size_t n, const td_compress_opts *o,
                        const td_plan_outside *outside, td_compress_report *r,
                        td_err_t *err);

#endif
