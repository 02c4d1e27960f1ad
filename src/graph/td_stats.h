/* Activation statistics for output-weighted compression: a container of
 * per-tensor channel second moments, read from an ONNX file.
 *
 * The file is an ONNX model whose graph holds, for each calibrated tensor X
 * (the input of a Conv/Gemm/MatMul), two initializers:
 *   "moment/X"  C x C (FLOAT or DOUBLE): E[x x^T] over every position of
 *               every calibration sample, x the C channel values there;
 *   "count/X"   INT64 [1]: how many positions the mean is over;
 * and optionally
 *   "mean/X"    C (FLOAT or DOUBLE): E[x], the channel means.
 * tools/ort/calib_stats.js writes it from ONNX Runtime runs of the model
 * that `onnxtd stats-model` prepares. This module only reads and checks the
 * container (finite, square, a positive count); whether a matrix is
 * positive semidefinite is the numerics' business (td_whiten.h). */
#ifndef TD_STATS_H
#define TD_STATS_H

#include <stdint.h>

#include "util/td_err.h"

#define TD_STATS_MOMENT_PREFIX "moment/"
#define TD_STATS_COUNT_PREFIX "count/"
#define TD_STATS_MEAN_PREFIX "mean/"

typedef struct td_stats td_stats;

/* Loads and checks every tensor. Errors name the file and the tensor. */
td_status td_stats_load(const char *path, td_stats **out, td_err_t *err);
void td_stats_free(td_stats *s);
const char *td_stats_path(const td_stats *s);

/* The moment of tensor name (borrowed, n x n row-major), its channel
 * means (*mu = NULL when the file has none) and its sample count; *m =
 * NULL when the file has no statistics for it. A moment of another size
 * than n is an error naming the file and the tensor. */
td_status td_stats_moment(const td_stats *s, const char *name, int64_t n,
                          const double **m, const double **mu, int64_t *count,
                          td_err_t *err);

#endif
