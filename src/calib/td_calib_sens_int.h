/* Shared by td_calib_sens.c (the probes) and td_calib_sens_cache.c (the
 * cache file). */
#ifndef TD_CALIB_SENS_INT_H
#define TD_CALIB_SENS_INT_H

#include <stdint.h>

#include "calib/td_calib_sens.h"

struct td_sens {
    size_t n;          /* layers probed */
    char **names;
    double *w;         /* price factor, mean 1 */
    td_sens_info info;
    char *cache;       /* info.cache's copy */
};

/* Room for n layers (names NULL, weights 1). */
td_sens *td_sens_alloc(size_t n);

/* The cache key: FNV-1a over the model's bytes, the probe inputs and the
 * settings that decide the probe. */
td_status td_sens_key(td_calib *c, td_model *m, const td_compress_opts *o,
                      const char *const *outputs, size_t n_outputs,
                      const unsigned char *use, size_t groups, uint64_t *key,
                      td_err_t *err);

/* Reads `path`: TD_OK with *out set when it holds key's weights, TD_OK
 * with *out NULL when it is absent or holds another key's; an existing
 * file that is not a cache is TD_EUSAGE. */
td_status td_sens_load(const char *path, uint64_t key, td_sens **out,
                       td_err_t *err);
/* Writes s under key to path atomically. */
td_status td_sens_save(const char *path, uint64_t key, const td_sens *s,
                       td_err_t *err);

#endif
