#include "data/td_readfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

td_status td_read_file(const char *path, size_t limit, unsigned char **buf,
                       size_t *len, td_err_t *err)
{
    *buf = NULL;
    *len = 0;
    if (!limit)
        limit = (size_t)16 << 30;
    td_status s = TD_OK;
    unsigned char *p = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return td_err_set(err, TD_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = td_err_set(err, TD_EINPUT, "%s: not a regular file", path);
        goto cleanup;
    }
    if ((unsigned long long)st.st_size > limit) {
        s = td_err_set(err, TD_ENOMEM, "%s: %lld bytes, over the limit of %zu",
                       path, (long long)st.st_size, limit);
        goto cleanup;
    }
    size_t n = (size_t)st.st_size;
    if (!(p = malloc(n + 1))) {
        s = td_err_set(err, TD_ENOMEM, "%s: out of memory (%zu bytes)", path, n);
        goto cleanup;
    }
    if (n && fread(p, 1, n, f) != n) {
        s = td_err_set(err, TD_EIO, "%s: read failed", path);
        goto cleanup;
    }
    p[n] = '\0';
    *buf = p;
    *len = n;
    p = NULL;
cleanup:
    free(p);
    fclose(f);
    return s;
}
