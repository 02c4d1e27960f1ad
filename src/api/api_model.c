/* The public API over the internal modules: handles are td_model, errors
 * are td_err_t (same layout as onnxtd_error). */
#include <string.h>

#include "graph/td_model.h"
#include "graph/td_outputs.h"
#include "onnxtd.h"

_Static_assert(sizeof(onnxtd_error) == sizeof(td_err_t),
               "onnxtd_error and td_err_t must share their layout");
_Static_assert((int)ONNXTD_EUNMET == (int)TD_EUNMET &&
                   (int)ONNXTD_EUSAGE == (int)TD_EUSAGE,
               "onnxtd_status and td_status must share their values");
_Static_assert(sizeof(onnxtd_output_file) == sizeof(td_out_file),
               "onnxtd_output_file and td_out_file must share their layout");

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

static td_save_opts save_opts(const onnxtd_save_options *opts)
{
    td_save_opts o = {NULL, 0};
    if (opts) {
        o.external_data = opts->external_data;
        o.size_threshold = opts->size_threshold;
    }
    return o;
}

onnxtd_status onnxtd_model_save(onnxtd_model *m, const char *path,
                                const onnxtd_save_options *opts,
                                onnxtd_error *err)
{
    td_save_opts o = save_opts(opts);
    return (onnxtd_status)td_model_save((td_model *)m, path, &o,
                                        (td_err_t *)err);
}

onnxtd_status onnxtd_write_file(const char *path, const void *data,
                                size_t len, onnxtd_error *err)
{
    td_out_file f = {path, "output", data, len};
    td_out_plan p = {.files = &f, .n_files = 1};
    return (onnxtd_status)td_outputs_write(&p, (td_err_t *)err);
}

static td_out_plan plan_of(const onnxtd_outputs *o, td_save_opts *so)
{
    *so = save_opts(o->save);
    td_out_plan p = {
        .model = (td_model *)o->model,
        .model_path = o->model_path,
        .save = so,
        .files = (const td_out_file *)o->files,
        .n_files = o->n_files,
        .reads = (const td_out_file *)o->reads,
        .n_reads = o->n_reads,
        .in_place = o->in_place,
    };
    return p;
}

onnxtd_status onnxtd_outputs_check(const onnxtd_outputs *o, onnxtd_error *err)
{
    td_save_opts so;
    td_out_plan p = plan_of(o, &so);
    return (onnxtd_status)td_outputs_check(&p, (td_err_t *)err);
}

onnxtd_status onnxtd_outputs_write(const onnxtd_outputs *o, onnxtd_error *err)
{
    td_save_opts so;
    td_out_plan p = plan_of(o, &so);
    return (onnxtd_status)td_outputs_write(&p, (td_err_t *)err);
}
