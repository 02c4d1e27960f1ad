/* Where a model's inputs come from: sources resolved once against the
 * model's input names, then read one sample at a time (so a long list of
 * samples streams through memory). A source is
 *  - a folder in ONNX's test-data layout: test_data_set_N/ subfolders (one
 *    sample each, in the order of N), or one such folder itself, holding
 *    input_K.pb (or input_K.npy) for the K-th model input (initializers
 *    excluded) and possibly output_K.pb, the expected K-th output;
 *  - a folder of .npy (or .pb) files, one sample per file in name order, for
 *    a model with one input;
 *  - a .npy or .pb file: one sample for a model with one input;
 *  - any other file: a manifest, one sample per line as whitespace-separated
 *    NAME=PATH pairs naming every input (paths relative to the manifest's
 *    folder; blank lines and lines starting with '#' are skipped).
 * Several sources add up, in the order given. */
#ifndef TD_SAMPLES_H
#define TD_SAMPLES_H

#include <stddef.h>

#include "util/td_array.h"

typedef struct td_samples td_samples;

/* inputs[0..n_inputs) are the model's input names, in order (borrowed for
 * the life of the set). Fails, naming the path, on a source that does not
 * exist or does not fit the model. */
td_status td_samples_open(const char *const *srcs, size_t n_srcs,
                          const char *const *inputs, size_t n_inputs,
                          td_samples **out, td_err_t *err);
void td_samples_free(td_samples *s);

size_t td_samples_count(const td_samples *s);
/* A name for sample i in messages (its folder, file or manifest line). */
const char *td_samples_label(const td_samples *s, size_t i);

/* Reads sample i: *arrays receives n_inputs arrays in the model's input
 * order, named after the inputs (free with td_array_free_n). */
td_status td_samples_read(const td_samples *s, size_t i, td_array **arrays,
                          td_err_t *err);

/* How many expected outputs sample i carries (output_K.pb; 0: none), and
 * reading the K-th of them. */
size_t td_samples_n_expected(const td_samples *s, size_t i);
td_status td_samples_read_expected(const td_samples *s, size_t i, size_t k,
                                   td_array *out, td_err_t *err);

#endif
