/* Compares two models by meaning, not bytes: nodes matched by name (unnamed
 * ones by position among nodes of their op_type), attributes by value
 * (sub-graphs recursively), tensors by decoded values, and the model's
 * header, opsets, metadata and graph inputs/outputs. Payload placement
 * (inline, external, hollowed) never counts: the loader inlines it all. */
#ifndef TD_DIFF_H
#define TD_DIFF_H

#include "td_model.h"

/* *report (malloc'd, caller frees) is JSON when json != 0, else text;
 * *differ is 0 iff no difference was found. */
td_status td_diff_models(td_model *a, td_model *b, int json, char **report,
                         int *differ, td_err_t *err);

#endif
