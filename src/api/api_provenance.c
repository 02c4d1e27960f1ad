/* Provenance of a compressed model: its metadata and its report's
 * overview name the tool, its version and the options, as other
 * converters record theirs. The model records only what decides its
 * bytes (no paths, no thread count), so that the same input and options
 * still give the same file; the command line goes in the report. */
#include <stdlib.h>
#include <string.h>

#include "api_provenance.h"
#include "util/td_buf.h"

static const char *method_text(onnxtd_method m)
{
    static const char *const names[] = {"auto", "tucker2", "cp", "svd", "tr",
                                        "rsdtr"};
    return (unsigned)m < sizeof names / sizeof *names ? names[m] : "?";
}

/* The budget, as the pass resolves it (ratio 0.5 when none is given). */
static void budget_text(td_buf *b, const onnxtd_compress_options *o)
{
    const onnxtd_budget *g = &o->budget;
    switch (g->kind) {
    case ONNXTD_BUDGET_RANK:
        td_buf_printf(b, " rank=%lld", (long long)g->rank);
        break;
    case ONNXTD_BUDGET_TOL:
        td_buf_printf(b, " tol=%g", g->value);
        break;
    case ONNXTD_BUDGET_VBMF:
        td_buf_printf(b, " vbmf=%g", g->value > 0 ? g->value : 1);
        break;
    case ONNXTD_BUDGET_TARGET_PARAMS:
    case ONNXTD_BUDGET_TARGET_FLOPS:
        td_buf_printf(b, " target_%s=%g",
                      g->kind == ONNXTD_BUDGET_TARGET_PARAMS ? "params"
                                                             : "flops",
                      g->value);
        if (g->kind == ONNXTD_BUDGET_TARGET_PARAMS && g->also_flops > 0)
            td_buf_printf(b, " target_flops=%g", g->also_flops);
        td_buf_printf(b, " sensitivity=%s",
                      o->sensitivity == ONNXTD_SENSITIVITY_ABSOLUTE ? "abs"
                                                                    : "rel");
        break;
    case ONNXTD_BUDGET_RATIO:
        td_buf_printf(b, " ratio=%g", g->value > 0 ? g->value : 0.5);
        break;
    default:
        td_buf_printf(b, " ratio=0.5");
        break;
    }
}

char *td_api_options_text(const onnxtd_compress_options *o)
{
    td_buf b = {0};
    td_buf_printf(&b, "method=%s", method_text(o->method));
    budget_text(&b, o);
    if (o->rank_multiple >= 1)
        td_buf_printf(&b, " rank_multiple=%lld", (long long)o->rank_multiple);
    if (o->min_rank > 1)
        td_buf_printf(&b, " min_rank=%lld", (long long)o->min_rank);
    if (o->include)
        td_buf_printf(&b, " include=%s", o->include);
    if (o->exclude)
        td_buf_printf(&b, " exclude=%s", o->exclude);
    for (size_t i = 0; o->dims && i < o->n_dims; i++)
        td_buf_printf(&b, " dim:%s=%lld", o->dims[i].name,
                      (long long)o->dims[i].value);
    if (o->force)
        td_buf_printf(&b, " force");
    if (!o->fold_bn)
        td_buf_printf(&b, " no_fold_bn");
    if (o->allow_slower)
        td_buf_printf(&b, " allow_slower");
    /* statistics from a file or gathered here make the same model */
    if (o->act_stats || o->n_calib) {
        if (o->act_lambda == ONNXTD_ACT_LAMBDA_CV)
            td_buf_printf(&b, " activation_statistics act_lambda=cv");
        else if (o->act_lambda == ONNXTD_ACT_LAMBDA_AUTO)
            td_buf_printf(&b, " activation_statistics act_lambda=auto");
        else
            td_buf_printf(&b, " activation_statistics act_lambda=%g",
                          o->act_lambda > 0 ? o->act_lambda : 0.1);
        /* only when not the default: other outputs keep their bytes */
        if (o->softmax_metric < 0)
            td_buf_printf(&b, " softmax_metric=off");
        else if (o->softmax_metric > 0 &&
                 o->softmax_metric != ONNXTD_DEFAULT_SOFTMAX_METRIC)
            td_buf_printf(&b, " softmax_metric=%g", o->softmax_metric);
    }
    /* the refit runs the model: the inputs decide the factors' values */
    if (o->n_calib && o->refit)
        td_buf_printf(&b, " refit%s waves=%d",
                      o->refit == ONNXTD_REFIT_CHAIN ? "=chain" : "",
                      o->refit_waves);
    return td_buf_take(&b);
}

td_status td_api_stamp(td_model *m, const char *options, td_err_t *err)
{
    td_status s = td_model_set_metadata(m, "onnxtd.version", ONNXTD_VERSION,
                                        err);
    if (!s)
        s = td_model_set_metadata(m, "onnxtd.options", options, err);
    return s;
}
