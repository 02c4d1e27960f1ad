/* A recurrent model's loop (--state IN=OUT): which inputs are held out and
 * what the names must be; the loop itself runs in td_calib_measure. See
 * td_calib.h. */
#include <string.h>

#include "calib/td_calib.h"
#include "graph/td_graph.h"

void td_calib_holdout_tail(size_t n, size_t k, unsigned char *held)
{
    /* one sequence: a model carrying its own state through it is what
     * deployment runs, and errors that compound over steps show only in
     * consecutive steps */
    memset(held, 0, n);
    for (size_t i = n - (k < n ? k : n); i < n; i++)
        held[i] = 1;
}

static int listed(const char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], name))
            return 1;
    return 0;
}

td_status td_calib_loop_check(td_model *m, const char *const *names,
                              size_t n_in, const td_calib_loop *l,
                              td_err_t *err)
{
    const Onnx__GraphProto *gp = td_graph_build(td_model_graph(m));
    if (!gp)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t j = 0; j < l->n; j++) {
        const char *in = l->in[j], *out = l->out[j];
        if (!listed(names, n_in, in))
            return td_err_set(err, TD_EUSAGE, "options.state %s=%s: the "
                              "model has no input '%s' (its inputs are what "
                              "`onnxtd info` lists)", in, out, in);
        int found = 0;
        for (size_t i = 0; i < gp->n_output && !found; i++)
            found = gp->output[i]->name && !strcmp(gp->output[i]->name, out);
        if (!found)
            return td_err_set(err, TD_EUSAGE, "options.state %s=%s: the "
                              "model has no output '%s'", in, out, out);
        if (listed(l->in, j, in) || listed(l->out, j, out))
            return td_err_set(err, TD_EUSAGE, "options.state %s=%s: '%s' is "
                              "in another pair too", in, out,
                              listed(l->in, j, in) ? in : out);
    }
    return TD_OK;
}
