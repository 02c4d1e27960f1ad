/* NumPy's .npy format (numpy.save), read into a td_array: versions 1.0,
 * 2.0 and 3.0, little-endian or byte-order-free types float32, float16,
 * float64, int8..int64, uint8..uint64 and bool, C order only. The header
 * is a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape':
 * (...)}; the data after it must hold exactly shape x itemsize bytes.
 * Format: numpy.lib.format (NEP 1). */
#ifndef TD_NPY_H
#define TD_NPY_H

#include <stddef.h>

#include "util/td_array.h"

/* Parses a .npy held in memory; label names it in errors. *out is
 * overwritten (unnamed). */
td_status td_npy_parse(const unsigned char *buf, size_t len,
                       const char *label, td_array *out, td_err_t *err);
td_status td_npy_read(const char *path, td_array *out, td_err_t *err);

#endif
