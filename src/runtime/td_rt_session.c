/* Sessions: options, creation from a file or memory, and the inputs and
 * outputs as ORT reports them. */
#include <stdlib.h>
#include <string.h>

#include "runtime/td_rt_internal.h"

static td_status make_options(const td_rt *rt, const td_rt_options *o,
                              OrtSessionOptions **out, td_err_t *err)
{
    static const int levels[] = {TD_ORT_OPT_ALL, TD_ORT_OPT_EXTENDED,
                                 TD_ORT_OPT_BASIC, TD_ORT_OPT_NONE};
    td_rt_options d = {0, TD_RT_OPT_ALL, 0};
    if (!o)
        o = &d;
    if (o->threads < 0 || (unsigned)o->opt_level > TD_RT_OPT_NONE)
        return td_err_set(err, TD_EUSAGE, "session options: threads must be "
                          ">= 0 and opt_level one of the four levels");
    const td_ort_api *api = rt->api;
    td_status s = td_rt_status(rt, api->CreateSessionOptions(out), err,
                               "session options");
    if (!s)
        s = td_rt_status(rt, api->SetIntraOpNumThreads(*out, o->threads), err,
                         "session options: threads");
    if (!s)
        s = td_rt_status(rt, api->SetSessionGraphOptimizationLevel(
                                 *out, levels[o->opt_level]),
                         err, "session options: optimization level");
    if (!s && o->low_memory)
        s = td_rt_status(rt, api->DisableMemPattern(*out), err,
                         "session options: memory pattern");
    if (s && *out) {
        api->ReleaseSessionOptions(*out);
        *out = NULL;
    }
    return s;
}

static void io_clear(td_rt_io *io)
{
    free(io->name);
    free(io->dims);
    if (io->dim_names)
        for (size_t d = 0; d < io->ndim; d++)
            free(io->dim_names[d]);
    free(io->dim_names);
}

/* Fills io from a type info: element type, dims, dim_param names. */
static td_status describe(const td_rt_session *s, OrtTypeInfo *ti,
                          td_rt_io *io, td_err_t *err)
{
    const td_rt *rt = s->rt;
    const td_ort_api *api = rt->api;
    int kind = 0;
    td_status st = td_rt_status(rt, api->GetOnnxTypeFromTypeInfo(ti, &kind),
                                err, "%s: '%s'", s->label, io->name);
    if (st || kind != TD_ORT_TYPE_TENSOR)
        return st;
    io->is_tensor = 1;
    const OrtTensorTypeAndShapeInfo *tsi = NULL;
    int dtype = 0;
    size_t nd = 0;
    if ((st = td_rt_status(rt, api->CastTypeInfoToTensorInfo(ti, &tsi), err,
                           "%s: '%s'", s->label, io->name)) ||
        (st = td_rt_status(rt, api->GetTensorElementType(tsi, &dtype), err,
                           "%s: '%s'", s->label, io->name)) ||
        (st = td_rt_status(rt, api->GetDimensionsCount(tsi, &nd), err,
                           "%s: '%s'", s->label, io->name)))
        return st;
    io->dtype = dtype;
    io->ndim = nd;
    const char **names = calloc(nd ? nd : 1, sizeof *names);
    io->dims = calloc(nd ? nd : 1, sizeof *io->dims);
    io->dim_names = calloc(nd ? nd : 1, sizeof *io->dim_names);
    if (!names || !io->dims || !io->dim_names) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = td_rt_status(rt, api->GetDimensions(tsi, io->dims, nd), err,
                           "%s: '%s'", s->label, io->name)) ||
        (st = td_rt_status(rt, api->GetSymbolicDimensions(tsi, names, nd),
                           err, "%s: '%s'", s->label, io->name)))
        goto cleanup;
    for (size_t d = 0; d < nd; d++) {
        if (io->dims[d] < 0)
            io->dims[d] = -1;
        if (!(io->dim_names[d] = strdup(names[d] ? names[d] : ""))) {
            st = td_err_set(err, TD_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
cleanup:
    free(names);
    return st;
}

static td_status list_io(td_rt_session *s, int outputs, td_err_t *err)
{
    const td_rt *rt = s->rt;
    const td_ort_api *api = rt->api;
    size_t n = 0;
    td_status st = td_rt_status(rt, outputs ? api->SessionGetOutputCount(s->ort, &n)
                                            : api->SessionGetInputCount(s->ort, &n),
                                err, "%s", s->label);
    if (st)
        return st;
    td_rt_io *io = calloc(n ? n : 1, sizeof *io);
    if (!io)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    if (outputs)
        s->out = io, s->n_out = n;
    else
        s->in = io, s->n_in = n;
    OrtAllocator *alloc = NULL;
    if ((st = td_rt_status(rt, api->GetAllocatorWithDefaultOptions(&alloc), err,
                           "%s", s->label)))
        return st;
    for (size_t i = 0; i < n; i++) {
        char *name = NULL;
        OrtTypeInfo *ti = NULL;
        st = td_rt_status(rt, outputs ? api->SessionGetOutputName(s->ort, i, alloc, &name)
                                      : api->SessionGetInputName(s->ort, i, alloc, &name),
                          err, "%s: %s %zu", s->label, outputs ? "output" : "input", i);
        if (st)
            return st;
        io[i].name = strdup(name);
        td_rt_status(rt, api->AllocatorFree(alloc, name), NULL, "free");
        if (!io[i].name)
            return td_err_set(err, TD_ENOMEM, "out of memory");
        st = td_rt_status(rt, outputs ? api->SessionGetOutputTypeInfo(s->ort, i, &ti)
                                      : api->SessionGetInputTypeInfo(s->ort, i, &ti),
                          err, "%s: '%s'", s->label, io[i].name);
        if (!st)
            st = describe(s, ti, &io[i], err);
        if (ti)
            api->ReleaseTypeInfo(ti);
        if (st)
            return st;
    }
    return TD_OK;
}

static td_status session_new(td_rt *rt, const char *path, const void *model,
                             size_t len, const char *label,
                             const td_rt_options *opts, td_rt_session **out,
                             td_err_t *err)
{
    *out = NULL;
    const td_ort_api *api = rt->api;
    OrtSessionOptions *so = NULL;
    td_rt_session *s = calloc(1, sizeof *s);
    if (!s)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    s->rt = rt;
    td_status st = TD_OK;
    if (!(s->label = strdup(path ? path : label ? label : "(model in memory)"))) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = make_options(rt, opts, &so, err)))
        goto cleanup;
    st = td_rt_status(rt, path ? api->CreateSession(rt->env, path, so, &s->ort)
                               : api->CreateSessionFromArray(rt->env, model, len,
                                                             so, &s->ort),
                      err, "%s", s->label);
    if (!st)
        st = td_rt_status(rt, api->CreateCpuMemoryInfo(TD_ORT_DEVICE_ALLOCATOR,
                                                       TD_ORT_MEM_DEFAULT, &s->cpu),
                          err, "%s", s->label);
    if (!st)
        st = list_io(s, 0, err);
    if (!st)
        st = list_io(s, 1, err);
cleanup:
    if (so)
        api->ReleaseSessionOptions(so);
    if (st) {
        td_rt_session_free(s);
        return st;
    }
    *out = s;
    return TD_OK;
}

td_status td_rt_session_new(td_rt *rt, const char *path,
                            const td_rt_options *opts, td_rt_session **out,
                            td_err_t *err)
{
    return session_new(rt, path, NULL, 0, NULL, opts, out, err);
}

td_status td_rt_session_new_mem(td_rt *rt, const void *model, size_t len,
                                const char *label, const td_rt_options *opts,
                                td_rt_session **out, td_err_t *err)
{
    return session_new(rt, NULL, model, len, label, opts, out, err);
}

void td_rt_session_free(td_rt_session *s)
{
    if (!s)
        return;
    const td_ort_api *api = s->rt->api;
    for (size_t i = 0; i < s->n_in; i++)
        io_clear(&s->in[i]);
    for (size_t i = 0; i < s->n_out; i++)
        io_clear(&s->out[i]);
    free(s->in);
    free(s->out);
    if (s->cpu)
        api->ReleaseMemoryInfo(s->cpu);
    if (s->ort)
        api->ReleaseSession(s->ort);
    free(s->label);
    free(s);
}

size_t td_rt_n_inputs(const td_rt_session *s) { return s->n_in; }
size_t td_rt_n_outputs(const td_rt_session *s) { return s->n_out; }
const td_rt_io *td_rt_input(const td_rt_session *s, size_t i)
{
    return i < s->n_in ? &s->in[i] : NULL;
}
const td_rt_io *td_rt_output(const td_rt_session *s, size_t i)
{
    return i < s->n_out ? &s->out[i] : NULL;
}
