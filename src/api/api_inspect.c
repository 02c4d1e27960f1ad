/* The public inspection API: model info and model diff over the graph
 * modules. */

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
    td_info_opts o = {(const td_dim_value *)dims, n_dims};
    return (onnxtd_status)td_info_describe((td_model *)m, &o, json, out,
                                           (td_err_t *)err);
}

onnxtd_status onnxtd_model_info(onnxtd_model *m, int json, char **out,
                                onnxtd_error *err)
{
    return onnxtd_model_info_dims(m, json, NULL, 0, out, err);
}

onnxtd_status onnxtd_model_diff(onnxtd_model *a, onnxtd_model *b, int json,
                                char **report, int *differ, onnxtd_error *err)
{
    return (onnxtd_status)td_diff_models((td_model *)a, (td_model *)b, json,
                                         report, differ, (td_err_t *)err);
}

onnxtd_status onnxtd_model_diff_opts(onnxtd_model *a, onnxtd_model *b,
                                     const onnxtd_diff_options *o, int json,
                                     char **report, int *differ,
                                     onnxtd_error *err)
{
    td_diff_opts t = {0, 0, 0};
    if (o)
        t = (td_diff_opts){o->atol, o->rtol, o->ignore};
    return (onnxtd_status)td_diff_models_opts((td_model *)a, (td_model *)b,
                                              &t, json, report, differ,
                                              (td_err_t *)err);
}
