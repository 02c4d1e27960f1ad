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
 * that `onnxtd stats-model` prepares; `compress --calib` gathers the same
 * in the process (src/calib/) and can save it. This module only reads,
 * holds, writes and checks the container (finite, square, a positive
 * count); whether a matrix is positive semidefinite is the numerics'
 * business (td_whiten.h). */
#ifndef TD_STATS_H
#define TD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "util/td_err.h"

#define TD_STATS_MOMENT_PREFIX "moment/"
#define TD_STATS_COUNT_PREFIX "count/"
#define TD_STATS_MEAN_PREFIX "mean/"
/* Optional, for the input X of a Conv with a kernel wider than 1:
 *   "taps/X"    nsp x L (FLOAT or DOUBLE): row s holds the autocorrelation
 *               of X along spatial axis s at lags 0 .. L-1, the mean over
 *               positions (where both exist) of sum_c x_c(p) x_c(p + t e_s);
 * its kernel taps' metric (decompose/td_whiten.h, "Taps"). */
#define TD_STATS_TAPS_PREFIX "taps/"
/* An entry named "fisher/Z" (its moment/ and count/ tensors as above) is
 * no tensor's moment: it is K x K, the Fisher metric W^T G W of the
 * softmax that the Gemm / MatMul with output Z feeds (its weight W^T:
 * K x N; td_stats_model.c gathers it, decompose/svd_metric.c uses it). */
#define TD_STATS_FISHER_PREFIX "fisher/"

typedef struct td_stats td_stats;

/* Loads and checks every tensor. Errors name the file and the tensor. */
td_status td_stats_load(const char *path, td_stats **out, td_err_t *err);
void td_stats_free(td_stats *s);
const char *td_stats_path(const td_stats *s);
size_t td_stats_count(const td_stats *s);

/* The moment of tensor name (borrowed, n x n row-major), its channel
 * means (*mu = NULL when the file has none) and its sample count; *m =
 * NULL when the file has no statistics for it. A moment of another size
 * than n is an error naming the file and the tensor. */
td_status td_stats_moment(const td_stats *s, const char *name, int64_t n,
                          const double **m, const double **mu, int64_t *count,
                          td_err_t *err);

/* The tap autocorrelation of tensor name (borrowed; nsp rows of lags
 * values), *acf = NULL when the statistics have none for it. */
void td_stats_taps(const td_stats *s, const char *name, const double **acf,
                   int *nsp, int64_t *lags);

/* Statistics gathered in the process (src/calib/): an empty container
 * named label in messages (where a loaded one names its file). */
td_status td_stats_new(const char *label, td_stats **out, td_err_t *err);
/* Adds tensor name's statistics: the n x n moment and the n channel means
 * (mean may be NULL), both malloc'd and owned by s from the call on, even
 * when it fails; count > 0 positions. Checked as a loaded file is (finite,
 * means that fit the moment); a container that refused an entry is only
 * fit to be freed. */
td_status td_stats_add(td_stats *s, const char *name, int64_t n,
                       double *moment, double *mean, int64_t count,
                       td_err_t *err);
/* Adds the tap autocorrelation of tensor name, added before (acf: nsp x
 * lags, malloc'd, owned by s from the call on, even when it fails); checked
 * as a loaded one is (finite, lag 0 not negative). */
td_status td_stats_add_taps(td_stats *s, const char *name, double *acf,
                            int nsp, int64_t lags, td_err_t *err);
/* Adds tensor name's statistics per fold of the calibration inputs
 * (consecutive inputs; decompose/td_whiten.h, "Cross-validation"), after
 * its moment: m k x n x n and mu k x n (NULL exactly when the moment has
 * no means) the means over each fold's positions, count k positions (0: an
 * empty fold); malloc'd, owned by s from the call on, even when it fails.
 * Only statistics gathered in the process have them: the file format
 * keeps the whole moments alone. */
td_status td_stats_add_folds(td_stats *s, const char *name, size_t k,
                             double *m, double *mu, int64_t *count,
                             td_err_t *err);
/* Whether any tensor has folds (s may be NULL). */
int td_stats_have_folds(const td_stats *s);
/* Tensor name's folds (borrowed): how many, 0 when none. */
size_t td_stats_folds(const td_stats *s, const char *name, const double **m,
                      const double **mu, const int64_t **count);
/* Entry i (< td_stats_count) in the order added or read; borrowed. */
td_status td_stats_entry(const td_stats *s, size_t i, const char **name,
                         int64_t *n, const double **m, const double **mu,
                         int64_t *count);
/* Writes s as a statistics file td_stats_load reads (DOUBLE moments and
 * means, INT64 counts), serialized into *out (malloc'd, *out_len bytes)
 * for the caller to write with the other outputs (td_stats_save.c). */
td_status td_stats_pack(const td_stats *s, uint8_t **out, size_t *out_len,
                        td_err_t *err);

#endif
