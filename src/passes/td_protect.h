/* Layers data-free compression leaves alone (td_protect.c). */
#ifndef TD_PROTECT_H
#define TD_PROTECT_H

#include "td_job.h"
#include "td_passes.h"

/* For each of the n jobs, why[q] = a reason (arena text) when the layer is
 * a head -- its output reaches a graph output with no other of the jobs'
 * layers in between (final projections, classifiers, detection heads) --
 * or a first layer -- its input comes from a graph input the same way --,
 * else NULL. why has n entries. */
td_status td_protect_find(td_graph *g, const td_job *jobs, size_t n,
                          const char **why, td_err_t *err);

/* Leaves the protected jobs out of jobs[0..*n) (and their reports out of
 * r->layers, whose entries the jobs point to), listing each under
 * r->skipped with its reason; their MACs go to *outside_macs. */
td_status td_protect_apply(td_graph *g, td_job *jobs, size_t *n,
                           td_compress_report *r, double *outside_macs,
                           td_err_t *err);

#endif
