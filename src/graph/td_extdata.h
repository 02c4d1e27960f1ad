/* External tensor data. Reading: a tensor's external_data entries
 * (location, offset, length) are resolved against the model's folder and
 * contained in it: an absolute location, a ".." component, a path that leads
 * out of the folder through a link, a file with several hard links, or a
 * range past the end of the file is refused. Each file is mapped once. */
#ifndef TD_EXTDATA_H
#define TD_EXTDATA_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "util/td_err.h"

typedef struct td_extfiles td_extfiles;

/* dir: the folder of the model file. */
td_status td_extfiles_new(const char *dir, td_extfiles **out, td_err_t *err);
void td_extfiles_free(td_extfiles *x);

/* The bytes of an EXTERNAL tensor (borrowed from the mapping, which lives
 * as long as x). */
td_status td_extdata_read(td_extfiles *x, const Onnx__TensorProto *t,
                          const uint8_t **data, size_t *len, td_err_t *err);

/* The files mapped so far (every one a tensor referenced), for callers
 * that must not write over them: file i's location and identity. */
size_t td_extfiles_count(const td_extfiles *x);
const char *td_extfiles_file(const td_extfiles *x, size_t i, uint64_t *dev,
                             uint64_t *ino);
const char *td_extfiles_dir(const td_extfiles *x);

/* Checks a location string for what is refused before any file access. */
td_status td_extdata_check_location(const char *loc, td_err_t *err);

#endif
