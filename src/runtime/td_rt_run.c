/* Running a session: td_arrays in as ORT values over the caller's buffers,
 * ORT's outputs copied out into owned td_arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/td_rt_internal.h"

/* The graph input `io` given by `a`: dtype and rank must match, and every
 * dim the model fixes. Symbolic dims take the array's size. */
static td_status check_input(const td_rt_session *s, const td_rt_io *io,
                             const td_array *a, td_err_t *err)
{
    char got[128], want[128];
    if (!io->is_tensor || !td_array_elem_size(io->dtype))
        return td_err_set(err, TD_EINPUT, "%s: input '%s' is not a tensor of "
                          "a supported element type", s->label, io->name);
    if (a->dtype != io->dtype)
        return td_err_set(err, TD_EINPUT, "%s: input '%s' is %s, given %s",
                          s->label, io->name, td_array_dtype_name(io->dtype),
                          td_array_dtype_name(a->dtype));
    td_array_shape_str(a->dims, a->ndim, got, sizeof got);
    td_array_shape_str(io->dims, io->ndim, want, sizeof want);
    if (a->ndim != io->ndim)
        return td_err_set(err, TD_EINPUT, "%s: input '%s' has rank %zu %s, "
                          "given rank %zu %s", s->label, io->name, io->ndim,
                          want, a->ndim, got);
    for (size_t d = 0; d < io->ndim; d++)
        if (io->dims[d] >= 0 && io->dims[d] != a->dims[d])
            return td_err_set(err, TD_EINPUT, "%s: input '%s' has shape %s "
                              "(-1: symbolic), given %s", s->label, io->name,
                              want, got);
    return TD_OK;
}

/* A dim_param names one size: every input that carries it must agree
 * (ORT itself may not notice, e.g. where the inputs meet in a Concat).
 * given[i] is the array fed to graph input i. */
static td_status check_dim_names(const td_rt_session *s, const td_array *const *given,
                                 td_err_t *err)
{
    for (size_t i = 0; i < s->n_in; i++)
        for (size_t d = 0; d < s->in[i].ndim; d++) {
            const char *dp = s->in[i].dim_names[d];
            if (!*dp || s->in[i].dims[d] >= 0)
                continue;
            for (size_t j = 0; j <= i; j++)
                for (size_t e = 0; e < s->in[j].ndim && (j < i || e < d); e++)
                    if (!strcmp(s->in[j].dim_names[e], dp) &&
                        given[j]->dims[e] != given[i]->dims[d])
                        return td_err_set(err, TD_EINPUT, "%s: symbolic dim "
                                          "'%s' is %lld in input '%s' but %lld "
                                          "in input '%s'", s->label, dp,
                                          (long long)given[j]->dims[e],
                                          s->in[j].name,
                                          (long long)given[i]->dims[d],
                                          s->in[i].name);
        }
    return TD_OK;
}

/* Copies one ORT output into *a (named `name`). */
static td_status take_output(const td_rt_session *s, const char *name,
                             OrtValue *v, td_array *a, td_err_t *err)
{
    const td_rt *rt = s->rt;
    const td_ort_api *api = rt->api;
    OrtTensorTypeAndShapeInfo *tsi = NULL;
    int64_t *dims = NULL;
    int is_tensor = 0, dtype = 0;
    size_t nd = 0;
    void *data = NULL;
    td_status st = td_rt_status(rt, api->IsTensor(v, &is_tensor), err,
                                "%s: output '%s'", s->label, name);
    if (st)
        return st;
    if (!is_tensor)
        return td_err_set(err, TD_EINPUT, "%s: output '%s' is not a tensor "
                          "(sequences and maps are not compared)", s->label, name);
    if ((st = td_rt_status(rt, api->GetTensorTypeAndShape(v, &tsi), err,
                           "%s: output '%s'", s->label, name)) ||
        (st = td_rt_status(rt, api->GetTensorElementType(tsi, &dtype), err,
                           "%s: output '%s'", s->label, name)) ||
        (st = td_rt_status(rt, api->GetDimensionsCount(tsi, &nd), err,
                           "%s: output '%s'", s->label, name)))
        goto cleanup;
    if (!(dims = calloc(nd ? nd : 1, sizeof *dims))) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = td_rt_status(rt, api->GetDimensions(tsi, dims, nd), err,
                           "%s: output '%s'", s->label, name)))
        goto cleanup;
    char what[300];
    snprintf(what, sizeof what, "%s: output '%s'", s->label, name);
    if ((st = td_array_init(a, name, dtype, dims, nd, what, err)))
        goto cleanup;
    if (a->nbytes) {
        if ((st = td_rt_status(rt, api->GetTensorMutableData(v, &data), err,
                               "%s", what)))
            goto cleanup;
        memcpy(a->data, data, a->nbytes);
    }
cleanup:
    if (tsi)
        api->ReleaseTensorTypeAndShapeInfo(tsi);
    free(dims);
    if (st)
        td_array_clear(a);
    return st;
}

td_status td_rt_run(td_rt_session *s, const td_array *inputs,
                    size_t n_inputs, const char *const *out_names,
                    size_t n_out, td_array **outputs, td_err_t *err)
{
    const td_ort_api *api = s->rt->api;
    *outputs = NULL;
    if (!out_names)
        n_out = s->n_out;
    const char **in_names = calloc(s->n_in ? s->n_in : 1, sizeof *in_names);
    const td_array **given = calloc(s->n_in ? s->n_in : 1, sizeof *given);
    const char **names = calloc(n_out ? n_out : 1, sizeof *names);
    OrtValue **in_vals = calloc(s->n_in ? s->n_in : 1, sizeof *in_vals);
    OrtValue **out_vals = calloc(n_out ? n_out : 1, sizeof *out_vals);
    td_array *outs = calloc(n_out ? n_out : 1, sizeof *outs);
    td_status st = TD_OK;
    if (!in_names || !given || !names || !in_vals || !out_vals || !outs) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t j = 0; j < n_inputs; j++) {
        size_t i = 0;
        while (i < s->n_in && (!inputs[j].name || strcmp(inputs[j].name, s->in[i].name)))
            i++;
        if (i == s->n_in) {
            st = td_err_set(err, TD_EINPUT, "%s: has no input named '%s'",
                            s->label, inputs[j].name ? inputs[j].name : "(unnamed)");
            goto cleanup;
        }
        if (in_names[i]) {
            st = td_err_set(err, TD_EINPUT, "%s: input '%s' given twice",
                            s->label, s->in[i].name);
            goto cleanup;
        }
        in_names[i] = s->in[i].name;
        given[i] = &inputs[j];
        if ((st = check_input(s, &s->in[i], &inputs[j], err)))
            goto cleanup;
        /* ORT wants a non-NULL pointer even for an empty tensor; the buffer
         * is only read. */
        char empty;
        void *p = inputs[j].nbytes ? inputs[j].data : &empty;
        st = td_rt_status(s->rt, api->CreateTensorWithDataAsOrtValue(
                                     s->cpu, p, inputs[j].nbytes, inputs[j].dims,
                                     inputs[j].ndim, inputs[j].dtype, &in_vals[i]),
                          err, "%s: input '%s'", s->label, s->in[i].name);
        if (st)
            goto cleanup;
    }
    for (size_t i = 0; i < s->n_in; i++)
        if (!in_names[i]) {
            st = td_err_set(err, TD_EINPUT, "%s: input '%s' was not given",
                            s->label, s->in[i].name);
            goto cleanup;
        }
    if ((st = check_dim_names(s, given, err)))
        goto cleanup;
    for (size_t k = 0; k < n_out; k++)
        names[k] = out_names ? out_names[k] : s->out[k].name;
    st = td_rt_status(s->rt, api->Run(s->ort, NULL, in_names,
                                      (const OrtValue *const *)in_vals, s->n_in,
                                      names, n_out, out_vals),
                      err, "%s: run", s->label);
    for (size_t k = 0; !st && k < n_out; k++)
        st = take_output(s, names[k], out_vals[k], &outs[k], err);
    if (!st) {
        *outputs = outs;
        outs = NULL;
    }
cleanup:
    for (size_t i = 0; in_vals && i < s->n_in; i++)
        if (in_vals[i])
            api->ReleaseValue(in_vals[i]);
    for (size_t k = 0; out_vals && k < n_out; k++)
        if (out_vals[k])
            api->ReleaseValue(out_vals[k]);
    td_array_free_n(outs, n_out);
    free(in_names);
    free(given);
    free(names);
    free(in_vals);
    free(out_vals);
    return st;
}
