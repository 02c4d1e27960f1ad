/* Compares two models by meaning, not bytes: nodes paired by structure
 * first (everything but name and doc_string equal), then by name (unnamed
 * ones by position among nodes of their op_type), then by op and outputs
 * (td_diff_match.c); attributes by value
 * (sub-graphs recursively), tensors by decoded values, and the model's
 * header, opsets, metadata and graph inputs/outputs. Payload placement
 * (inline, external, hollowed) never counts: the loader inlines it all. */
#ifndef TD_DIFF_H
#define TD_DIFF_H

#include "td_model.h"

/* What the comparison leaves out (bits of td_diff_opts.ignore). */
enum {
    TD_DIFF_IGNORE_NAMES = 1,      /* node names and the graph's name */
    TD_DIFF_IGNORE_METADATA = 2,   /* metadata_props, producer name and
                                      version, model_version, domain */
    TD_DIFF_IGNORE_DOC_STRINGS = 4 /* every doc_string */
};

/* Two tensors of one dtype and shape are the same when every element pair
 * is equal, both NaN, or both finite with |a - b| <= atol + rtol * |b|
 * (numpy.allclose, b the second model). atol = rtol = 0 is exact, also for
 * integers. Layout shared with onnxtd_diff_options. */
typedef struct td_diff_opts {
    double atol, rtol;
    unsigned ignore;
} td_diff_opts;

/* *report (malloc'd, caller frees) is JSON when json != 0, else text;
 * *differ is 0 iff no difference was found. o may be NULL (exact, nothing
 * ignored). */
td_status td_diff_models_opts(td_model *a, td_model *b, const td_diff_opts *o,
                              int json, char **report, int *differ,
                              td_err_t *err);
td_status td_diff_models(td_model *a, td_model *b, int json, char **report,
                         int *differ, td_err_t *err);

#endif
