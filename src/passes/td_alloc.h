/* Global rank allocation: given, per layer, how the (estimated) error and
 * the cost (parameters or MACs) of its chain depend on its ranks, choose
 * ranks for all layers together so that the total cost meets a target with
 * the smallest weighted error. Pure arithmetic on spectra: no ONNX, no
 * factoring, so that it can run over hundreds of layers in milliseconds and
 * be tested on its own. */
#ifndef TD_ALLOC_H
#define TD_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* One layer. Two rank modes (Tucker-2: 0 = output channels, 1 = input
 * channels) or one (SVD: n1 == 0, mode 1 unused).
 *
 * Error model: the relative squared error at ranks (r0, r1) is estimated
 * as tail0[r0] + tail1[r1], where tailk[r] is the energy of the
 * mode-k unfolding's singular values beyond the r-th divided by ||W||^2.
 * For a HOSVD-style projection this is an upper bound of the true squared
 * error (the two projections are orthogonal corrections), and HOOI only
 * improves on it, so it ranks rank choices well at no factoring cost.
 *
 * Cost model: c0*r0 + c1*r1 + c01*r0*r1 + cfix (this covers the Tucker-2 and
 * SVD chains, in parameters or in MACs). The original layer costs orig. */
typedef struct td_alloc_layer {
    int64_t n0, n1;            /* full ranks; n1 == 0: one mode */
    const double *tail0;       /* n0 + 1 entries, tail0[n0] == 0 */
    const double *tail1;       /* n1 + 1 entries (NULL when n1 == 0) */
    double c0, c1, c01, cfix;  /* chain cost */
    double orig;               /* cost of the original layer */
    double weight;             /* sensitivity: error counts weight x */
    int fixed;                 /* must stay as it is */
    int64_t w0, w1;            /* the modes' widths for the rounding when a
                                  cap lowered n0, n1 (0: n0, n1) */

    /* out */
    int keep;        /* the original stays */
    int64_t r0, r1;  /* ranks when !keep */
    double cost;     /* cost chosen (orig when kept) */
    double err2;     /* estimated relative squared error (0 when kept) */
} td_alloc_layer;

typedef struct td_alloc_opts {
    int64_t multiple;  /* ranks are multiples of this (>= 1) */
    int64_t min_rank;  /* and at least this (>= 1) */
    int64_t multiple_from;  /* > 0: only on modes at least this wide, and
                               ranks below one multiple are free too;
                               0: every rank of every mode */
} td_alloc_opts;

/* The rank step at rank r of a mode w wide under o: o->multiple, or 1
 * where o->multiple_from frees the rank. */
int64_t td_alloc_step(const td_alloc_opts *o, int64_t w, int64_t r);

/* Relative slack when a total is tested against its target: totals are
 * sums over hundreds of layers, and their rounding must not turn an exact
 * fit into a miss. */
#define TD_ALLOC_SLACK 1e-12

/* Chooses ranks so that fixed_cost + sum of layer costs <= target, where
 * possible. Returns the total cost reached (> target when even the
 * smallest ranks do not meet it: the caller reports that). */
double td_alloc_ranks(td_alloc_layer *l, size_t n, double fixed_cost,
                      double target, const td_alloc_opts *o);

/* Cost of layer l at ranks (r0, r1). */
double td_alloc_cost(const td_alloc_layer *l, int64_t r0, int64_t r1);

/* EVBMF ranks weakened toward full: r = r_full - weaken * (r_full - r_vbmf),
 * rounded up, then up to a multiple, never below min_rank nor above full. */
int64_t td_alloc_weakened_rank(int64_t r_vbmf, int64_t r_full, double weaken,
                               const td_alloc_opts *o);

#endif
