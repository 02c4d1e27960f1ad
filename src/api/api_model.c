/* The public API over the internal modules: handles are td_model, errors
 * are td_err_t (same layout as onnxtd_error). */
#include <string.h>

#include "graph/td_atomic.h"
#include "graph/td_model.h"
#include "onnxtd.h"

_Static_assert(sizeof(onnxtd_error) == sizeof(td_err_t),
               "onnxtd_error and td_err_t must share their layout");

onnxtd_status onnxtd_model_load(const char *path,
                                const onnxtd_load_options *opts,
                                onnxtd_model **out, onnxtd_error *err)
{
    td_load_opts o = {0};
    if (opts) {
        o.max_depth = opts->max_depth;
        o.mem_limit = opts->mem_limit;
    }
    td_model *m = NULL;
    td_status s = td_model_load(path, &o, &m, (td_err_t *)err);
    *out = (onnxtd_model *)m;
    return (onnxtd_status)s;
}

void onnxtd_model_free(onnxtd_model *m)
{
    td_model_free((td_model *)m);
}

onnxtd_status onnxtd_model_save(onnxtd_model *m, const char *path,
                                const onnxtd_save_options *opts,
                                onnxtd_error *err)
{
    td_save_opts o = {NULL, 0};
    if (opts) {
        o.external_data = opts->external_data;
        o.size_threshold = opts->size_threshold;
    }
    return (onnxtd_status)td_model_save((td_model *)m, path, &o,
                                        (td_err_t *)err);
}

onnxtd_status onnxtd_write_file(const char *path, const void *data,
                                size_t len, onnxtd_error *err)
{
    td_atomic f;
    td_status s = td_atomic_open(&f, path, (td_err_t *)err);
    if (s)
        return (onnxtd_status)s;
    td_atomic_write(&f, data, len);
    return (onnxtd_status)td_atomic_commit(&f, (td_err_t *)err);
}
