/* Atomic file output: bytes go to a temp file created beside the target,
 * unnamed (O_TMPFILE) where the file system allows, so a killed process
 * leaves nothing; finish fsyncs it and links it in under a temp name
 * (.onnxtd.XXXXXX: short, so any legal target name works), place renames
 * that over the target and fsyncs the folder; abort removes it. Until
 * place, the target is untouched. Several files are written all or nothing
 * by finishing every one before placing any. */
#ifndef TD_ATOMIC_H
#define TD_ATOMIC_H

#include <stddef.h>
#include <stdint.h>

#include "util/td_err.h"

typedef struct td_atomic {
    char *target, *temp;
    int fd;
    uint64_t written;
    uint8_t *stage;  /* write buffer */
    size_t staged;
    int failed_errno;
    int unnamed;  /* fd is an O_TMPFILE not yet linked in as temp */
} td_atomic;

td_status td_atomic_open(td_atomic *f, const char *target, td_err_t *err);
/* Buffered write; errors are remembered and reported by finish. */
void td_atomic_write(td_atomic *f, const void *data, size_t len);
/* Appends len bytes of the file in_fd from offset off, file to file in the
 * kernel (copy_file_range) when it can, else by writing `same`, which must
 * hold the same bytes (the caller's mapping of in_fd). */
void td_atomic_copy_range(td_atomic *f, int in_fd, uint64_t off, size_t len,
                          const void *same);
/* Flushes, fsyncs and names the temp file; a target that exists as a
 * regular file passes its mode (and owner, where allowed) on. On failure
 * the temp is removed and f reset. */
td_status td_atomic_finish(td_atomic *f, td_err_t *err);
/* Renames the finished temp over the target; f is reset either way. */
td_status td_atomic_place(td_atomic *f, td_err_t *err);
void td_atomic_abort(td_atomic *f);

#endif
