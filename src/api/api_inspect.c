/* The public inspection API: model info and model diff over the graph
 * modules. */

#include "api_args.h"
#include "graph/td_diff.h"
#include "onnxtd.h"
#include "graph/td_info.h"

_Static_assert(sizeof(onnxtd_dim_value) == sizeof(td_dim_value),
               "onnxtd_dim_value and td_dim_value must share their layout");
_Static_assert(sizeof(onnxtd_diff_options) == sizeof(td_diff_opts) &&
                   (int)ONNXTD_DIFF_IGNORE_NAMES == TD_DIFF_IGNORE_NAMES &&
                   (int)ONNXTD_DIFF_IGNORE_METADATA ==
                       TD_DIFF_IGNORE_METADATA &&
                   (int)ONNXTD_DIFF_IGNORE_DOC_STRINGS ==
                       TD_DIFF_IGNORE_DOC_STRINGS,
               "onnxtd_diff_options and td_diff_opts must agree");

onnxtd_status onnxtd_model_info_dims(onnxtd_model *m, int json,
                                     const onnxtd_dim_value *dims,
                                     size_t n_dims, char **out,
                                     onnxtd_error *err)
{
    static const char fn[] = "onnxtd_model_info";
    td_err_t *e = (td_err_t *)err;
    td_status s;
    if ((s = api_need(out, fn, "out", e)))
        return (onnxtd_status)s;
    *out = NULL;
    if ((s = api_need(m, fn, "m", e)) ||
        (n_dims && (s = api_need(dims, fn, "dims", e))))
        return (onnxtd_status)s;
    td_info_opts o = {(const td_dim_value *)dims, n_dims};
    return (onnxtd_status)td_info_describe((td_model *)m, &o, json, out,
                                           (td_err_t *)err);
}

onnxtd_status onnxtd_model_info(onnxtd_model *m, int json, char **out,
                                onnxtd_error *err)
{
    return onnxtd_model_info_dims(m, json, NULL, 0, out, err);
}

static td_status diff_args(onnxtd_model *a, onnxtd_model *b, char **report,
                           int *differ, td_err_t *err)
{
    static const char fn[] = "onnxtd_model_diff";
    td_status s;
    if ((s = api_need(report, fn, "report", err)) ||
        (s = api_need(differ, fn, "differ", err)))
        return s;
    *report = NULL;
    if ((s = api_need(a, fn, "a", err)) || (s = api_need(b, fn, "b", err)))
        return s;
    return TD_OK;
}

onnxtd_status onnxtd_model_diff(onnxtd_model *a, onnxtd_model *b, int json,
                                char **report, int *differ, onnxtd_error *err)
{
    td_status s = diff_args(a, b, report, differ, (td_err_t *)err);
    if (s)
        return (onnxtd_status)s;
    return (onnxtd_status)td_diff_models((td_model *)a, (td_model *)b, json,
                                         report, differ, (td_err_t *)err);
}

onnxtd_status onnxtd_model_diff_opts(onnxtd_model *a, onnxtd_model *b,
                                     const onnxtd_diff_options *o, int json,
                                     char **report, int *differ,
                                     onnxtd_error *err)
{
    td_status s = diff_args(a, b, report, differ, (td_err_t *)err);
    if (s)
        return (onnxtd_status)s;
    td_diff_opts t = {0, 0, 0};
    if (o)
        t = (td_diff_opts){o->atol, o->rtol, o->ignore};
    return (onnxtd_status)td_diff_models_opts((td_model *)a, (td_model *)b,
                                              &t, json, report, differ,
                                              (td_err_t *)err);
}
