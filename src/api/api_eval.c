#include <stdlib.h>
#include <string.h>

#include "api_args.h"
#include "api_state.h"
#include "eval/td_eval.h"
#include "onnxtd.h"

_Static_assert(sizeof(onnxtd_dim_value) == sizeof(td_eval_dim),
               "onnxtd_dim_value and td_eval_dim must share their layout");

void onnxtd_eval_options_init(onnxtd_eval_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->runs = 10;
    o->rtol = o->min_cosine = o->min_agreement = -1;
    o->elem_rtol = o->elem_atol = -1;
}

onnxtd_status onnxtd_eval(const onnxtd_eval_options *o, int json,
                          char **report, int *pass, onnxtd_error *err)
{
    return onnxtd_eval_loop(o, NULL, 0, json, report, pass, err);
}

onnxtd_status onnxtd_eval_loop(const onnxtd_eval_options *o,
                               const onnxtd_state_pair *state,
                               size_t n_state, int json, char **report,
                               int *pass, onnxtd_error *err)
{
    static const char fn[] = "onnxtd_eval";
    td_err_t *e = (td_err_t *)err;
    td_status s;
    if ((s = api_need(report, fn, "report", e)) ||
        (s = api_need(pass, fn, "pass", e)))
        return (onnxtd_status)s;
    *report = NULL;
    if ((s = api_need(o, fn, "o", e)))
        return (onnxtd_status)s;
    td_eval_opts t = {
        .model_a = o->model_a, .model_b = o->model_b,
        .inputs = o->inputs, .n_inputs = o->n_inputs,
        .random = o->random, .seed = o->seed,
        .dims = (const td_eval_dim *)o->dims, .n_dims = o->n_dims,
        .ort_lib = o->ort_lib, .threads = o->threads, .runs = o->runs,
        .rtol = o->rtol, .min_cosine = o->min_cosine,
        .min_agreement = o->min_agreement,
        .elem_rtol = o->elem_rtol, .elem_atol = o->elem_atol,
        /* compress's default, so both report the same IoU */
        .iou_threshold = ONNXTD_DEFAULT_IOU_THRESHOLD,
    };
    const char **names = NULL;
    if ((n_state && (s = api_need(state, fn, "state", e))) ||
        (s = api_state_loop(state, n_state, "onnxtd_eval: state", &names,
                            &t.loop, e)))
        return (onnxtd_status)s;
    s = td_eval_run(&t, json, report, pass, e);
    free(names);
    return (onnxtd_status)s;
}
