/* A recurrent model's state pairs (onnxtd_state_pair, the public form) as
 * the loop eval and calibration run (td_eval_loop). */
#ifndef API_STATE_H
#define API_STATE_H

#include "eval/td_eval.h"
#include "onnxtd.h"
#include "util/td_err.h"

/* out gets the n pairs' input and output names, in two arrays of one
 * malloc'd block (*names, the caller frees; NULL when n is 0). A pair
 * missing a name is a usage error naming `what` and its index. */
td_status api_state_loop(const onnxtd_state_pair *state, size_t n,
                         const char *what, const char ***names,
                         td_eval_loop *out, td_err_t *err);

#endif
