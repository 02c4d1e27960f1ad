#include <stdlib.h>

#include "api_state.h"

td_status api_state_loop(const onnxtd_state_pair *state, size_t n,
                         const char *what, const char ***names,
                         td_eval_loop *out, td_err_t *err)
{
    *names = NULL;
    *out = (td_eval_loop){0};
    if (!n)
        return TD_OK;
    const char **v = calloc(2 * n, sizeof *v);
    if (!v)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t j = 0; j < n; j++) {
        if (!state[j].input || !*state[j].input || !state[j].output ||
            !*state[j].output) {
            free(v);
            return td_err_set(err, TD_EUSAGE, "%s %zu: an input and an "
                              "output name are needed", what, j);
        }
        v[j] = state[j].input;
        v[n + j] = state[j].output;
    }
    *names = v;
    *out = (td_eval_loop){v, v + n, n};
    return TD_OK;
}
