/* The public API over the internal modules: handles are td_model, errors
 * are td_err_t (same layout as onnxtd_error). */
#include <string.h>

#include "graph/td_model.h"
#include "api_args.h"
#include "graph/td_outputs.h"
#include "onnxtd.h"

_Static_assert(sizeof(onnxtd_error) == sizeof(td_err_t),
               "onnxtd_error and td_err_t must share their layout");
_Static_assert((int)ONNXTD_EUNMET == (int)TD_EUNMET &&
                   (int)ONNXTD_EUSAGE == (int)TD_EUSAGE,
               "onnxtd_status and td_status must share their values");
_Static_assert(sizeof(onnxtd_output_file) == sizeof(td_out_file),
               "onnxtd_output_file and td_out_file must share their layout");

static td_load_opts load_opts(const onnxtd_load_options *opts)
{
    td_load_opts o = {0};
    if (opts) {
        o.max_depth = opts->max_depth;
        o.mem_limit = opts->mem_limit;
    }
    return o;
}

onnxtd_status onnxtd_model_load(const char *path,
                                const onnxtd_load_options *opts,
                                onnxtd_model **out, onnxtd_error *err)
{
    td_err_t *e = (td_err_t *)err;
    td_status s;
    if ((s = api_need(out, "onnxtd_model_load", "out", e)))
        return (onnxtd_status)s;
    *out = NULL;
    if ((s = api_need(path, "onnxtd_model_load", "path", e)))
        return (onnxtd_status)s;
    td_load_opts o = load_opts(opts);
    td_model *m = NULL;
    s = td_model_load(path, &o, &m, e);
    *out = (onnxtd_model *)m;
    return (onnxtd_status)s;
}

onnxtd_status onnxtd_model_load_memory(const void *data, size_t len,
                                       const onnxtd_load_options *opts,
                                       onnxtd_model **out, onnxtd_error *err)
{
    td_err_t *e = (td_err_t *)err;
    td_status s;
    if ((s = api_need(out, "onnxtd_model_load_memory", "out", e)))
        return (onnxtd_status)s;
    *out = NULL;
    if (len && (s = api_need(data, "onnxtd_model_load_memory", "data", e)))
        return (onnxtd_status)s;
    td_load_opts o = load_opts(opts);
    td_model *m = NULL;
    s = td_model_load_memory(data, len, &o, &m, e);
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
    td_err_t *e = (td_err_t *)err;
    td_status s;
    if ((s = api_need(m, "onnxtd_model_save", "m", e)) ||
        (s = api_need(path, "onnxtd_model_save", "path", e)))
        return (onnxtd_status)s;
    td_save_opts o = save_opts(opts);
    return (onnxtd_status)td_model_save((td_model *)m, path, &o, e);
}

onnxtd_status onnxtd_model_save_memory(onnxtd_model *m,
                                       const onnxtd_save_options *opts,
                                       unsigned char **data, size_t *len,
                                       onnxtd_error *err)
{
    static const char fn[] = "onnxtd_model_save_memory";
    td_err_t *e = (td_err_t *)err;
    td_status s;
    if ((s = api_need(data, fn, "data", e)) ||
        (s = api_need(len, fn, "len", e)))
        return (onnxtd_status)s;
    *data = NULL;
    *len = 0;
    if ((s = api_need(m, fn, "m", e)))
        return (onnxtd_status)s;
    if (opts && opts->external_data)
        return (onnxtd_status)td_err_set(e, TD_EUSAGE,
            "%s: options.external_data must be NULL: a model in memory has "
            "no folder for a second file", fn);
    return (onnxtd_status)td_model_pack((td_model *)m, NULL, data, len, e);
}

onnxtd_status onnxtd_write_file(const char *path, const void *data,
                                size_t len, onnxtd_error *err)
{
    td_status s;
    if ((s = api_need(path, "onnxtd_write_file", "path", (td_err_t *)err)) ||
        (len && (s = api_need(data, "onnxtd_write_file", "data",
                              (td_err_t *)err))))
        return (onnxtd_status)s;
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
    td_status s = api_need(o, "onnxtd_outputs_check", "o", (td_err_t *)err);
    if (s)
        return (onnxtd_status)s;
    td_save_opts so;
    td_out_plan p = plan_of(o, &so);
    return (onnxtd_status)td_outputs_check(&p, (td_err_t *)err);
}

onnxtd_status onnxtd_outputs_write(const onnxtd_outputs *o, onnxtd_error *err)
{
    td_status s = api_need(o, "onnxtd_outputs_write", "o", (td_err_t *)err);
    if (s)
        return (onnxtd_status)s;
    td_save_opts so;
    td_out_plan p = plan_of(o, &so);
    return (onnxtd_status)td_outputs_write(&p, (td_err_t *)err);
}
