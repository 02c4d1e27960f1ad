/* A recurrent model run in its loop: the inputs of each step, its state
 * taken from the step before. Shared by eval and compress's measurement;
 * see td_eval_internal.h. */
#include <string.h>

#include "eval/td_eval_internal.h"

static size_t output_index(const td_rt_session *s, const char *name)
{
    for (size_t i = 0; i < td_rt_n_outputs(s); i++)
        if (!strcmp(td_rt_output(s, i)->name, name))
            return i;
    return (size_t)-1;
}

td_status td_eval_loop_find(const td_eval_loop *l, const td_rt_session *a,
                            const td_rt_session *b, const td_array *in,
                            size_t n_in, td_eval_loop_at *at, td_err_t *err)
{
    for (size_t j = 0; j < l->n; j++) {
        at[j].in = at[j].out_a = at[j].out_b = (size_t)-1;
        for (size_t i = 0; i < n_in; i++)
            if (in[i].name && !strcmp(in[i].name, l->in[j]))
                at[j].in = i;
        at[j].out_a = output_index(a, l->out[j]);
        if (b)
            at[j].out_b = output_index(b, l->out[j]);
        int no_in = at[j].in == (size_t)-1;
        if (no_in || at[j].out_a == (size_t)-1 ||
            (b && at[j].out_b == (size_t)-1))
            return td_err_set(err, TD_EUSAGE, "state %s=%s: the model%s has "
                              "no %s '%s'", l->in[j], l->out[j],
                              no_in || at[j].out_a == (size_t)-1 ? "" : " B",
                              no_in ? "input" : "output",
                              no_in ? l->in[j] : l->out[j]);
    }
    return TD_OK;
}

static int all_zero(const td_array *a)
{
    size_t n = td_array_numel(a) * td_array_elem_size(a->dtype);
    const unsigned char *p = a->data;
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

td_status td_eval_loop_inputs(const td_eval_loop *l, const td_eval_loop_at *at,
                              const td_array *in, size_t n_in,
                              const td_array *prev, int b, const char *who,
                              const char *sample, td_array *view,
                              td_err_t *err)
{
    memcpy(view, in, n_in * sizeof *in);
    for (size_t j = 0; prev && j < l->n; j++) {
        const td_array *x = &in[at[j].in];
        const td_array *y = &prev[b ? at[j].out_b : at[j].out_a];
        if (!td_array_same_shape(x, y)) {
            char sx[128], sy[128];
            td_array_shape_str(x->dims, x->ndim, sx, sizeof sx);
            td_array_shape_str(y->dims, y->ndim, sy, sizeof sy);
            return td_err_set(err, TD_EINPUT, "%s: state %s=%s: %s's output "
                              "is %s %s, the input given %s %s", sample,
                              l->in[j], l->out[j], who,
                              td_array_dtype_name(y->dtype), sy,
                              td_array_dtype_name(x->dtype), sx);
        }
        /* an all-zero state given starts a new sequence (a recording of
         * several clips, each from the zero state as deployed): the loop
         * restarts there rather than carrying the last clip's state over */
        if (all_zero(x))
            continue;
        view[at[j].in] = *y;
        view[at[j].in].name = x->name;
    }
    return TD_OK;
}
