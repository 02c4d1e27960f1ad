/* Reading a whole input file (a .npy, a .pb, a manifest) into memory. */
#ifndef TD_READFILE_H
#define TD_READFILE_H

#include <stddef.h>

#include "util/td_err.h"

/* Reads the regular file at path into a malloc'd buffer (*buf, *len; one
 * extra NUL byte after the data). Refuses anything that is not a regular
 * file and files over `limit` bytes (0: 16 GiB); errors name the path. */
td_status td_read_file(const char *path, size_t limit, unsigned char **buf,
                       size_t *len, td_err_t *err);

#endif
