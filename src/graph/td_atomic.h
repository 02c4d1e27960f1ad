/* Atomic file output: bytes go to a temp file created beside the target,
 * unnamed (O_TMPFILE) where the file system allows, so a killed process
 * leaves nothing; commit fsyncs it, links it in under a temp name, renames
 * that over the target and fsyncs the folder; abort removes it. Until
 * commit, the target is untouched. */
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
/* Buffered write; errors are remembered and reported by commit. */
void td_atomic_write(td_atomic *f, const void *data, size_t len);
/* Appends len bytes of the file in_fd from offset off, file to file in the
 * kernel (copy_file_range) when it can, else by writing `same`, which must
 * hold the same bytes (the caller's mapping of in_fd). */
void td_atomic_copy_range(td_atomic *f, int in_fd, uint64_t off, size_t len,
                          const void *same);
td_status td_atomic_commit(td_atomic *f, td_err_t *err);
void td_atomic_abort(td_atomic *f);

#endif
